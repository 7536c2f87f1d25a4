/**
 * Streaming statistics objects over WASM blocks (assembly/stats/stream.ts): RunningStats,
 * RollingStats, RollingPairStats, Ewma, PairMonitor, and StatsRegistry for many instruments
 * updated from one batch of ticks per call.
 *
 * Layout: each object owns one block in the stats arena; updates are one WASM call; results are
 * read straight from the block's f64 slots (no call). Semantics follow pandas/statsmodels:
 * `null` where a quantity is undefined (fewer values than ddof + 1, zero variance for
 * correlation, beta or z); a rolling window includes the newest value; ddof defaults to 1.
 * Batches (`pushMany`) give the per-value path's numbers to rounding (test/kernels/
 * stats-batch.prop.test.ts): RunningStats reduces 4,096-value chunks with the SIMD shifted
 * two-pass kernel and Chan-merges them; the rolling objects copy only the last `window` values of
 * a longer batch; PairMonitor batches the regression and steps the last window + 1 pairs.
 * Invariants: non-finite inputs are refused (RangeError) — one NaN would poison every sum; a
 * batch holding one is refused whole (nothing applied).
 * Complexity: O(1) amortised per update; a batch of m: O(m) to check it, plus O(m) (running),
 * O(min(m, window)) (rolling; + O(window) when the ring wraps), O(window) (pair monitor, m large).
 * Allocation: the block at construction; none per update; PairMonitor.pushMany allocates the
 * window of a cointegration refresh that falls inside the batch.
 * Known limitations: zero variance is recognised when it is exactly zero (a constant window
 * becomes exactly zero at the next exact recompute, at most `window` pushes later).
 * PairMonitor.pushMany takes its fast path when no window of its last 2·window x values is
 * constant, i.e. when every one of its last window + 1 steps has a spread; a window whose x spread
 * is lost in the sums' rounding could still have none, and then the two paths may differ there.
 * A batch with a non-finite value is refused whole, where `push` for each value would have applied
 * the values before it.
 */
import { stats } from './wasm.js';
import { type Ddof, finite, checkWindow, checkDdof, scratch, scratchY, CHUNK, allFinite, putRange, stageTail, constantRun, block } from './stream-support.js';
import { coint } from './adf.js';

/** Welford running mean/variance in a shifted frame (all values since creation or reset). */
export class RunningStats {
  /** @internal block address */
  readonly ptr: number;
  private readonly s = stats();

  constructor() {
    this.ptr = block(this, 48, (p) => this.s.ex.statsRunInit(p));
  }

  push(x: number): void {
    finite(x, 'RunningStats.push');
    this.s.ex.statsRunPush(this.ptr, x);
  }

  /**
   * Adds a batch: chunks of 4,096 values are copied into WASM memory and reduced with the SIMD
   * shifted two-pass kernel into one summary (Chan merges, in the block's frame), which is merged
   * into the block at the end. The same numbers as `push` for each value to rounding (≤ 1e-12
   * relative, tested); a non-finite value refuses the whole batch with a RangeError and leaves
   * the block as it was.
   */
  pushMany(xs: Float64Array | readonly number[]): void {
    const n = xs.length;
    if (n === 0) return;
    const ex = this.s.ex;
    const acc = scratch.ensure(64 + Math.min(n, CHUNK) * 8);
    const buf = acc + 64;
    ex.statsRunBatchBegin(acc, this.ptr, xs[0]!);
    for (let off = 0; off < n; off += CHUNK) {
      const m = Math.min(CHUNK, n - off);
      putRange(buf, xs, off, off + m);
      if (ex.statsRunBatchAdd(acc, buf, m) === 1) continue;
      // a non-finite value refuses the batch; finite values whose squares overflow go value by value
      allFinite(xs, 'RunningStats.pushMany');
      ex.statsRunBatchEnd(this.ptr, acc);
      ex.statsRunPushEach(this.ptr, buf, m);
      ex.statsRunBatchBegin(acc, this.ptr, xs[0]!);
    }
    ex.statsRunBatchEnd(this.ptr, acc);
  }

  get count(): number { return this.s.f64()[(this.ptr >>> 3) + 1]!; }
  get mean(): number { const f = this.s.f64(); const i = this.ptr >>> 3; return f[i + 1] === 0 ? Number.NaN : f[i + 4]! + f[i + 2]!; }
  variance(ddof: Ddof = 1): number | null {
    checkDdof(ddof);
    const f = this.s.f64();
    const i = this.ptr >>> 3;
    const n = f[i + 1]!;
    return n - ddof <= 0 ? null : Math.max(0, f[i + 3]!) / (n - ddof);
  }
  std(ddof: Ddof = 1): number | null { const v = this.variance(ddof); return v === null ? null : Math.sqrt(v); }
  /** (x − mean) / std, with x − mean taken in the shifted frame: (x − K) − (mean − K). */
  zscore(x: number, ddof: Ddof = 1): number | null {
    const s = this.std(ddof);
    if (s === null || s === 0) return null;
    const f = this.s.f64(); const i = this.ptr >>> 3;
    return ((x - f[i + 4]!) - f[i + 2]!) / s;
  }
  /** Combines `other` into this (Chan et al.): as if its values had been pushed here too. */
  merge(other: RunningStats): void { this.s.ex.statsRunMerge(this.ptr, other.ptr); }
  reset(): void { this.s.ex.statsRunInit(this.ptr); }
}

/** Mean/variance over the last `window` values (shifted sums, exact recompute every window). */
export class RollingStats {
  readonly ptr: number;
  readonly window: number;
  private readonly s = stats();

  constructor(window: number) {
    checkWindow(window);
    this.window = window;
    this.ptr = block(this, 128 + window * 8, (p) => this.s.ex.statsRollInit(p, window));
  }

  push(x: number): void {
    finite(x, 'RollingStats.push');
    this.s.ex.statsRollPush(this.ptr, x);
  }
  /**
   * Adds a batch as `push` for each value would (same window, count and head; sums equal to
   * rounding): only the last `window` values of a longer batch are copied into WASM memory — the
   * older ones would be evicted within the batch. A non-finite value refuses the whole batch.
   */
  pushMany(xs: Float64Array | readonly number[]): void {
    const m = xs.length;
    if (m === 0) { return; }
    const k = Math.min(m, this.window);
    const p = stageTail(scratch, xs, k, 'RollingStats.pushMany');
    this.s.ex.statsRollPushMany(this.ptr, p, k, m);
  }
  get count(): number { return this.s.u32()[(this.ptr + 12) >>> 2]!; }
  get mean(): number {
    const f = this.s.f64(); const i = this.ptr >>> 3; const n = this.count;
    return n === 0 ? Number.NaN : f[i + 5]! + f[i + 6]! / n;
  }
  variance(ddof: Ddof = 1): number | null {
    checkDdof(ddof);
    const f = this.s.f64(); const i = this.ptr >>> 3; const n = this.count;
    if (n - ddof <= 0) return null;
    const s1 = f[i + 6]!;
    return Math.max(0, f[i + 7]! - (s1 * s1) / n) / (n - ddof);
  }
  std(ddof: Ddof = 1): number | null { const v = this.variance(ddof); return v === null ? null : Math.sqrt(v); }
  /** (x − mean) / std, with x − mean taken in the shifted frame: (x − K) − S1/n. */
  zscore(x: number, ddof: Ddof = 1): number | null {
    const s = this.std(ddof);
    if (s === null || s === 0) return null;
    const f = this.s.f64(); const i = this.ptr >>> 3;
    return ((x - f[i + 5]!) - f[i + 6]! / this.count) / s;
  }
  /** The window's values, oldest first (allocates). */
  values(): Float64Array {
    const f = this.s.f64(); const i = this.ptr >>> 3;
    const n = this.count; const head = this.s.u32()[(this.ptr + 16) >>> 2]!; const w = this.window;
    const out = new Float64Array(n);
    const start = n < w ? 0 : head;
    for (let k = 0; k < n; k++) out[k] = f[i + 16 + ((start + k) % w)]!;
    return out;
  }
  /** Pushes `other`'s window (oldest first) into this one, as if its values had arrived here. */
  merge(other: RollingStats): void { this.pushMany(other.values()); }
  reset(): void { this.s.ex.statsRollInit(this.ptr, this.window); }
}

/** Rolling statistics of (x, y) pairs: means, variances, covariance, correlation, OLS of y on x. */
export class RollingPairStats {
  readonly ptr: number;
  readonly window: number;
  private readonly s = stats();

  constructor(window: number) {
    checkWindow(window);
    this.window = window;
    this.ptr = block(this, 128 + window * 16, (p) => this.s.ex.statsPairInit(p, window));
  }

  push(x: number, y: number): void {
    finite(x, 'RollingPairStats.push x');
    finite(y, 'RollingPairStats.push y');
    this.s.ex.statsPairPush(this.ptr, x, y);
  }
  /** Adds a batch of pairs as `push` for each would (see RollingStats.pushMany). */
  pushMany(xs: Float64Array | readonly number[], ys: Float64Array | readonly number[]): void {
    const m = xs.length;
    if (ys.length !== m) throw new RangeError(`RollingPairStats.pushMany: xs and ys lengths differ (${m} vs ${ys.length})`);
    if (m === 0) return;
    const k = Math.min(m, this.window);
    const px = stageTail(scratch, xs, k, 'RollingPairStats.pushMany x');
    const py = stageTail(scratchY, ys, k, 'RollingPairStats.pushMany y');
    this.s.ex.statsPairPushMany(this.ptr, px, py, k, m);
  }
  get count(): number { return this.s.u32()[(this.ptr + 12) >>> 2]!; }
  private slot(k: number): number { return this.s.f64()[(this.ptr >>> 3) + k]!; }
  get meanX(): number { const n = this.count; return n === 0 ? Number.NaN : this.slot(5) + this.slot(7) / n; }
  get meanY(): number { const n = this.count; return n === 0 ? Number.NaN : this.slot(6) + this.slot(8) / n; }
  private m2x(): number { const n = this.count; const a = this.slot(7); return Math.max(0, this.slot(9) - (a * a) / n); }
  private m2y(): number { const n = this.count; const b = this.slot(8); return Math.max(0, this.slot(10) - (b * b) / n); }
  private cxy(): number { const n = this.count; return this.slot(11) - (this.slot(7) * this.slot(8)) / n; }
  varianceX(ddof: Ddof = 1): number | null { checkDdof(ddof); const n = this.count; return n - ddof <= 0 ? null : this.m2x() / (n - ddof); }
  varianceY(ddof: Ddof = 1): number | null { checkDdof(ddof); const n = this.count; return n - ddof <= 0 ? null : this.m2y() / (n - ddof); }
  covariance(ddof: Ddof = 1): number | null { checkDdof(ddof); const n = this.count; return n - ddof <= 0 ? null : this.cxy() / (n - ddof); }
  get correlation(): number | null {
    if (this.count < 2) return null;
    const vx = this.m2x(); const vy = this.m2y();
    if (vx === 0 || vy === 0) return null;
    return Math.max(-1, Math.min(1, this.cxy() / Math.sqrt(vx * vy)));
  }
  /** OLS slope of y on x (with a constant). */
  get beta(): number | null {
    if (this.count < 2) return null;
    const vx = this.m2x();
    return vx === 0 ? null : this.cxy() / vx;
  }
  get alpha(): number | null { const b = this.beta; return b === null ? null : this.meanY - b * this.meanX; }
  /** z-score of the newest x within the window, taken in the shifted frame: ((x − Kx) − Sx/n) / std. */
  zscoreX(ddof: Ddof = 1): number | null {
    const v = this.varianceX(ddof);
    if (v === null || v === 0) return null;
    const head = this.s.u32()[(this.ptr + 16) >>> 2]!;
    const newest = this.slot(16 + 2 * (head === 0 ? this.window - 1 : head - 1));
    return ((newest - this.slot(5)) - this.slot(7) / this.count) / Math.sqrt(v);
  }
  /** The window's pairs, oldest first (allocates). */
  values(): { x: Float64Array; y: Float64Array } {
    const f = this.s.f64(); const i = this.ptr >>> 3;
    const n = this.count; const head = this.s.u32()[(this.ptr + 16) >>> 2]!; const w = this.window;
    const x = new Float64Array(n); const y = new Float64Array(n);
    const start = n < w ? 0 : head;
    for (let k = 0; k < n; k++) { const j = (start + k) % w; x[k] = f[i + 16 + 2 * j]!; y[k] = f[i + 17 + 2 * j]!; }
    return { x, y };
  }
  reset(): void { this.s.ex.statsPairInit(this.ptr, this.window); }
}

/** Exponentially weighted mean and variance: pandas `ewm(alpha, adjust=False)`, `var(bias=True)`. */
export class Ewma {
  readonly ptr: number;
  readonly alpha: number;
  private readonly s = stats();

  constructor(opts: { alpha?: number; halflife?: number }) {
    let alpha: number;
    if (opts.alpha !== undefined && opts.halflife !== undefined) throw new RangeError('Ewma: give alpha or halflife, not both');
    if (opts.alpha !== undefined) alpha = opts.alpha;
    else if (opts.halflife !== undefined) {
      if (!(opts.halflife > 0)) throw new RangeError(`Ewma: halflife must be > 0, got ${opts.halflife}`);
      alpha = 1 - Math.exp(-Math.LN2 / opts.halflife);
    } else throw new RangeError('Ewma: alpha or halflife is required');
    if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`Ewma: alpha must be in (0, 1], got ${alpha}`);
    this.alpha = alpha;
    this.ptr = block(this, 48, (p) => this.s.ex.statsEwmaInit(p, alpha));
  }
  push(x: number): void { finite(x, 'Ewma.push'); this.s.ex.statsEwmaPush(this.ptr, x); }
  get count(): number { return this.s.f64()[(this.ptr >>> 3) + 2]!; }
  get mean(): number { return this.s.f64()[(this.ptr >>> 3) + 3]!; }
  get variance(): number { return this.s.f64()[(this.ptr >>> 3) + 4]!; }
  reset(): void { this.s.ex.statsEwmaInit(this.ptr, this.alpha); }
}

export interface PairMonitorOptions {
  /** Window of the hedge-ratio regression and of the spread statistics (default 100). */
  window?: number;
  /** Refresh the cointegration p-value every this many updates (default: `window`; 0 = never). */
  cointEvery?: number;
}

/**
 * A pair y ~ x: rolling hedge ratio (OLS β of y on x over the window), spread y − (α + βx),
 * spread z-score within the window, half-life of mean reversion (from the rolling regression of
 * Δspread on the previous spread: −ln 2 / ln(1 + λ)), and the Engle-Granger cointegration
 * p-value over the window, refreshed on a schedule. `push` is O(1) except on refresh updates.
 */
export class PairMonitor {
  readonly ptr: number;
  readonly window: number;
  readonly cointEvery: number;
  private readonly pair: RollingPairStats;
  private readonly spreadStats: RollingStats;
  private readonly half: RollingPairStats;
  private readonly s = stats();
  private pval: number | null = null;
  private pvalAt = 0;

  constructor(opts: PairMonitorOptions = {}) {
    const window = opts.window ?? 100;
    checkWindow(window);
    if (window < 3) throw new RangeError(`PairMonitor window must be ≥ 3, got ${window}`);
    this.window = window;
    this.cointEvery = opts.cointEvery ?? window;
    this.pair = new RollingPairStats(window);
    this.spreadStats = new RollingStats(window);
    this.half = new RollingPairStats(window);
    this.ptr = block(this, 64, (p) => this.s.ex.statsPmInit(p, this.pair.ptr, this.spreadStats.ptr, this.half.ptr));
  }

  push(x: number, y: number): void {
    finite(x, 'PairMonitor.push x');
    finite(y, 'PairMonitor.push y');
    this.s.ex.statsPmPush(this.ptr, x, y);
    if (this.cointEvery > 0 && this.updates % this.cointEvery === 0) this.refresh();
  }
  /**
   * Adds a batch of pairs with the same results as `push` for each (hedge ratio, spread, z-score
   * and half-life to rounding; the cointegration p-value refreshed on the window of the last
   * scheduled update within the batch). A batch of m ≥ 2·window + 2 pairs costs a batch update of
   * the regression plus window + 1 single steps — unless some window among its last 2·window x
   * values is constant (then no spread is defined there, and every pair takes the single step).
   */
  pushMany(xs: Float64Array | readonly number[], ys: Float64Array | readonly number[]): void {
    const m = xs.length;
    if (ys.length !== m) throw new RangeError(`PairMonitor.pushMany: xs and ys lengths differ (${m} vs ${ys.length})`);
    if (m === 0) return;
    allFinite(xs, 'PairMonitor.pushMany x');
    allFinite(ys, 'PairMonitor.pushMany y');
    const w = this.window;
    const u0 = this.updates;
    // the window at the last scheduled refresh within the batch, if one falls inside it
    let refreshAt = -1;
    let before: { x: Float64Array; y: Float64Array } | null = null;
    if (this.cointEvery > 0) {
      const last = Math.floor((u0 + m) / this.cointEvery) * this.cointEvery;
      if (last > u0) {
        refreshAt = last - u0 - 1;
        if (refreshAt < w - 1) before = this.pair.values();
      }
    }
    const fast = m >= 2 * w + 2 && !constantRun(xs, m - 2 * w, m, w);
    const k = fast ? 2 * w + 1 : m;
    const px = scratch.ensure(k * 8);
    const py = scratchY.ensure(k * 8);
    putRange(px, xs, m - k, m);
    putRange(py, ys, m - k, m);
    this.s.ex.statsPmPushMany(this.ptr, px, py, k, m);
    if (refreshAt >= 0) {
      const lo = Math.max(0, refreshAt + 1 - w);
      const take = (old: Float64Array | undefined, vs: Float64Array | readonly number[]): Float64Array => {
        const fresh = Float64Array.from(vs.slice(lo, refreshAt + 1) as ArrayLike<number>);
        if (!old) return fresh;
        const keep = Math.max(0, w - fresh.length);
        const out = new Float64Array(Math.min(w, old.length + fresh.length));
        out.set(old.subarray(old.length - Math.min(keep, old.length)));
        out.set(fresh, out.length - fresh.length);
        return out;
      };
      this.refreshOn(take(before?.x, xs), take(before?.y, ys), u0 + refreshAt + 1);
    }
  }
  /** Recomputes the cointegration p-value over the current window (O(window)). */
  refresh(): number | null {
    const { x, y } = this.pair.values();
    return this.refreshOn(x, y, this.updates);
  }
  private refreshOn(x: Float64Array, y: Float64Array, at: number): number | null {
    this.pvalAt = at;
    if (x.length < 20) { this.pval = null; return null; }
    try {
      this.pval = coint(y, x, { trend: 'c', autolag: 'aic' }).pvalue;
    } catch {
      this.pval = null;
    }
    return this.pval;
  }
  get updates(): number { return this.s.f64()[(this.ptr >>> 3) + 7]!; }
  get count(): number { return this.pair.count; }
  get hedgeRatio(): number | null { return this.pair.beta; }
  get intercept(): number | null { return this.pair.alpha; }
  get spread(): number | null { const v = this.s.f64()[(this.ptr >>> 3) + 6]!; return Number.isNaN(v) ? null : v; }
  get zscore(): number | null { const s = this.spread; return s === null ? null : this.spreadStats.zscore(s); }
  get halfLife(): number | null {
    const lambda = this.half.beta;
    if (lambda === null || !(lambda < 0 && lambda > -1)) return null;
    return -Math.LN2 / Math.log1p(lambda);
  }
  /** p-value of the last refresh (null before one, or when the window is too short). */
  get cointPValue(): number | null { return this.pval; }
  get cointPValueAt(): number { return this.pvalAt; }
}

type Block = RunningStats | RollingStats | RollingPairStats | Ewma | PairMonitor;

/**
 * Many instruments updated from one batch of ticks per WASM call. Fill `ids`, `xs` (and `ys` for
 * pairs) for up to `capacity` ticks in place, then `apply(n)`. PairMonitors updated this way
 * refresh their cointegration p-value only when `refresh()` is called.
 */
export class StatsRegistry {
  private readonly blocks: Block[] = [];
  private table = 0;
  private tableCap = 0;
  private bufs = 0;
  readonly capacity: number;
  private readonly s = stats();

  constructor(capacity = 4096) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1 << 22) throw new RangeError(`capacity must be an integer in [1, 4194304], got ${capacity}`);
    this.capacity = capacity;
    this.bufs = this.s.alloc(capacity * 20 + 8);
  }

  /** Registers a block; returns its id for ticks. */
  add(b: Block): number {
    if (this.blocks.length === this.tableCap) {
      const cap = Math.max(64, this.tableCap * 2);
      const t = this.s.alloc(cap * 4);
      const u = this.s.u32();
      for (let i = 0; i < this.blocks.length; i++) u[(t >>> 2) + i] = u[(this.table >>> 2) + i]!;
      if (this.tableCap > 0) this.s.release(this.table, this.tableCap * 4);
      this.table = t;
      this.tableCap = cap;
    }
    this.s.u32()[(this.table >>> 2) + this.blocks.length] = b.ptr;
    this.blocks.push(b);
    return this.blocks.length - 1;
  }
  get size(): number { return this.blocks.length; }

  /** In-place tick arrays in WASM memory (views are valid until the next allocation). */
  get ids(): Uint32Array { return new Uint32Array(this.s.ex.memory.buffer, this.bufs, this.capacity); }
  get xs(): Float64Array { return new Float64Array(this.s.ex.memory.buffer, this.bufs + this.capacity * 4 + ((this.capacity * 4) % 8), this.capacity); }
  get ys(): Float64Array { return new Float64Array(this.s.ex.memory.buffer, this.bufs + this.capacity * 12 + ((this.capacity * 4) % 8), this.capacity); }

  /** Applies the first `n` ticks of ids/xs/ys with one WASM call. */
  apply(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > this.capacity) throw new RangeError(`apply: n must be in [0, ${this.capacity}]`);
    const xs = this.bufs + this.capacity * 4 + ((this.capacity * 4) % 8);
    const rc = this.s.ex.statsBatch(this.table, this.blocks.length, this.bufs, xs, xs + this.capacity * 8, n);
    if (rc < 0) throw new RangeError(`tick ${-rc - 1}: id ${this.s.u32()[(this.bufs >>> 2) - rc - 1]} is not registered (${this.blocks.length} blocks); ticks before it were applied`);
  }

  /** Copies ticks in and applies them (convenience; allocation-free). */
  update(ids: ArrayLike<number>, xs: ArrayLike<number>, ys?: ArrayLike<number>): void {
    const n = ids.length;
    if (xs.length !== n || (ys && ys.length !== n)) throw new RangeError('update: ids, xs and ys must have the same length');
    for (let off = 0; off < n; off += this.capacity) {
      const m = Math.min(this.capacity, n - off);
      const I = this.ids; const X = this.xs; const Y = this.ys;
      for (let i = 0; i < m; i++) {
        const x = xs[off + i]!;
        finite(x, 'StatsRegistry.update x');
        I[i] = ids[off + i]!;
        X[i] = x;
        const y = ys ? ys[off + i]! : 0;
        finite(y, 'StatsRegistry.update y');
        Y[i] = y;
      }
      this.apply(m);
    }
  }
}
