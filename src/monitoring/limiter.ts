/**
 * Adaptive concurrency control on order intake: a gradient limiter in the style of Netflix's
 * concurrency-limits (Gradient2Limit), driven by the engine queue time of each command — the time
 * from the gateway putting it in the command ring (RING_CMD tsIn) to the engine thread taking its
 * batch (tsInit) — and bounding the number of NEW orders in flight: admitted and still in the
 * command ring, not yet taken (sequenced) by the engine thread (the caller releases them as the
 * ring's consumer position passes them: src/gateway/order-entry.ts). Not "until answered": the
 * answer reaches the gateway through its own event loop, so when that loop is the bottleneck a
 * count released on answers stays at the limit and sheds nearly everything while the engine idles
 * (measured: 90 % shed, goodput ÷ 7 over JSON). Over the limit, order entry answers a new order
 * `overloaded` (retryable) instead of letting it queue (docs/operations.md "Adaptive concurrency").
 *
 * How it differs from Gradient2Limit (which ignores round trips under 100 µs and re-computes once
 * per 100 ms-1 s window): the engine queue time is microseconds, so
 *   - a window closes every `windowSamples` samples or every `windowMs` (1 ms) of clock time with
 *     at least one sample, whichever comes first (`tick()` is called once per event-pump cycle), so
 *     a rise in queue time is acted on within about a millisecond;
 *   - the window's figure is the mean queue time (`short`); the long-term baseline is an EWMA of the
 *     window means over `longWindow` windows (about 0.5 s), learning 10× slower while the queue is
 *     congested so that sustained overload does not teach it that long queues are normal, and decayed
 *     ×0.9 per window while it is more than twice the short mean (recovery after an overload);
 *   - congestion is judged against `reference = max(tolerance × baseline, cycleTolerance × cycle,
 *     minQueueUs)`: queue times under `minQueueUs` never shrink the limit (a 3 µs → 9 µs wobble is
 *     noise, not a queue), nor do queue times within ~1.5 engine cycles — `cycle` is the smoothed
 *     interval between batch starts (a new tsInit), so with group commit an order that arrives
 *     while the engine syncs the previous batch and waits for that sync is normal, not congestion:
 *     without this term a loaded but healthy engine (idle baseline 10 µs, 5 ms syncs) read as
 *     congested and the limit collapsed to its floor (measured: 92 % shed, goodput ÷ 10). Orders
 *     that wait several cycles mean batches are full: that is the queue this limiter cuts;
 *   - gradient = clamp(reference / short, 0.5, 1); next = limit × gradient + √limit (the queue
 *     allowance); limit ← limit × (1 − smoothing) + next × smoothing, clamped to [minLimit, maxLimit].
 *     At gradient 0.5 and smoothing 0.2 the limit falls ~10 % per window, ~65 % in 10 ms.
 *   - the limit only grows while the window saw at least half of it in use (not app-limited).
 *
 * Layout: window accumulators (`wSum`, `wCount`, `wStart`, `wPeak` in-flight peak; `cSum`, `cCount`
 * batch-start intervals, `lastTsInit`; `cycle` their smoothed mean, EWMA 0.25 per window); the estimate
 * (`est`, a float; the enforced limit is ⌊est⌋); the baseline (`base`, ns; `nWindows` for the
 * warm-up average of the first 10 windows); the last 4,096 queue times (`recent`, a ring, ns) for
 * the p50/p99 of `metrics()`; counters `inflight`, `admitted`, `shed`, `samples`.
 * Invariants: minLimit ≤ est ≤ maxLimit and est is finite after any input (non-finite or negative
 * samples are ignored and counted in `ignored`, samples over 100 s count as 100 s); inflight ≥ 0
 * (a release without an acquire is ignored); a disabled limiter admits everything and still
 * measures (inflight, queue times).
 * Complexity: O(1) per sample, acquire, release and tick; `metrics()` O(4,096 log 4,096).
 * Allocation: none per sample, acquire, release or tick (the clock is `performance.now`, a number);
 * `metrics()` one object and one sorted copy of the recent ring.
 * Known limitations: the queue time covers the command ring only — time the gateway's own thread
 * spends before the ring (WebSocket decode, a saturated event loop) is not seen, so overload of the
 * gateway thread itself is met by the per-connection rate limits, not by this limiter. Simulator
 * orders count as in flight but are not shed; strategy workers' orders are neither counted nor
 * shed. The gateway builds it disabled unless configured (`serve --limiter on`): on the shared
 * 2-core bench machine, at 2× the sustainable rate, it halved JSON's p99 but cost binary 43 % of
 * its goodput (docs/operations.md "Figures").
 */
import { TradsysError } from '../domain/errors.js';

export interface LimiterOptions {
  /** Admit over the limit or not (`serve --limiter on|off`); off still measures. Default true here; the gateway's GatewayConfig.limiter defaults to false. */
  enabled?: boolean;
  /** Starting limit, new orders in flight (default 1,024, within [minLimit, maxLimit]). */
  initialLimit?: number;
  /** Floor of the limit (default 64: group commit needs orders in flight to fill its batches). */
  minLimit?: number;
  /** Ceiling of the limit (default 4,096). */
  maxLimit?: number;
  /** A window closes after this many queue-time samples (default 64)… */
  windowSamples?: number;
  /** …or this many ms after its first sample, at the next tick (default 1). */
  windowMs?: number;
  /** EWMA length of the baseline, in windows (default 500). */
  longWindow?: number;
  /** Queue times up to tolerance × baseline are not congestion (default 2). */
  tolerance?: number;
  /** Queue times under this many µs are never congestion (default 50). */
  minQueueUs?: number;
  /** Queue times up to this many engine cycles (the mean interval between batch starts) are not congestion (default 1.5). */
  cycleTolerance?: number;
  /** Weight of each window's new estimate (default 0.2). */
  smoothing?: number;
  /** The clock, ms (default performance.now; tests inject one). */
  now?: () => number;
}

/** A plain snapshot for the metrics registry (the lead registers it in prom-client). */
export interface LimiterMetrics {
  enabled: boolean;
  /** The enforced limit: new orders in flight. */
  limit: number;
  /** New orders admitted and not yet answered by the engine. */
  inflight: number;
  /** New orders admitted since start. */
  admitted: number;
  /** New orders answered `overloaded` since start. */
  shed: number;
  /** Queue-time samples since start. */
  samples: number;
  /** Engine queue time (tsInit − tsIn) over the last 4,096 commands, µs (null before any sample). */
  queueTimeP50Us: number | null;
  queueTimeP99Us: number | null;
  /** The long-term baseline and the last window's mean, µs (null before the first window). */
  baselineUs: number | null;
  windowUs: number | null;
  /** The smoothed engine cycle (interval between batch starts), µs (null while unknown). */
  cycleUs: number | null;
}

const RECENT = 4096;
/** Samples are clamped to 100 s: sums stay finite whatever comes in. */
const MAX_QUEUE_NS = 1e11;

function check(name: string, v: number, lo: number, hi: number, integer = false): number {
  if (!Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    throw new TradsysError('ERR_GATEWAY_CONFIG', `limiter ${name} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got ${String(v)}`);
  }
  return v;
}

export class GradientLimiter {
  readonly enabled: boolean;
  readonly minLimit: number;
  readonly maxLimit: number;
  private readonly windowSamples: number;
  private readonly windowMs: number;
  private readonly alpha: number;
  private readonly tolerance: number;
  private readonly minQueueNs: number;
  private readonly cycleTolerance: number;
  private readonly smoothing: number;
  private readonly now: () => number;

  private est: number;
  private base = 0;
  private nWindows = 0;
  private lastShort = 0;
  private wSum = 0;
  private wCount = 0;
  private wStart = 0;
  private wPeak = 0;
  /** The engine cycle: tsInit of the last batch seen, the window's sum and count of batch-start intervals, their smoothed mean (ns; 0 = unknown). */
  private lastTsInit = -1;
  private cSum = 0;
  private cCount = 0;
  private cycle = 0;

  private inflightN = 0;
  private admittedN = 0;
  private shedN = 0;
  private samplesN = 0;
  /** Samples refused as not finite or negative. */
  ignored = 0;
  private readonly recent = new Float64Array(RECENT);

  constructor(o: LimiterOptions = {}) {
    this.enabled = o.enabled ?? true;
    this.minLimit = check('minLimit', o.minLimit ?? 64, 1, 1 << 24, true);
    this.maxLimit = check('maxLimit', o.maxLimit ?? 4096, this.minLimit, 1 << 24, true);
    this.est = check('initialLimit', o.initialLimit ?? Math.min(Math.max(1024, this.minLimit), this.maxLimit), this.minLimit, this.maxLimit, true);
    this.windowSamples = check('windowSamples', o.windowSamples ?? 64, 1, 1 << 20, true);
    this.windowMs = check('windowMs', o.windowMs ?? 1, 0.01, 10_000);
    this.alpha = 2 / (check('longWindow', o.longWindow ?? 500, 1, 1e7, true) + 1);
    this.tolerance = check('tolerance', o.tolerance ?? 2, 1, 100);
    this.minQueueNs = check('minQueueUs', o.minQueueUs ?? 50, 0, 1e7) * 1000;
    this.cycleTolerance = check('cycleTolerance', o.cycleTolerance ?? 1.5, 0, 100);
    this.smoothing = check('smoothing', o.smoothing ?? 0.2, 0.001, 1);
    this.now = o.now ?? (() => performance.now());
  }

  /** The enforced limit (new orders in flight). */
  get limit(): number { return Math.floor(this.est); }
  get inflight(): number { return this.inflightN; }
  get shed(): number { return this.shedN; }

  /** Admits one new order (in flight + 1) or refuses it (counted as shed). A disabled limiter admits all. */
  tryAcquire(): boolean {
    if (this.enabled && this.inflightN >= Math.floor(this.est)) { this.shedN++; return false; }
    this.inflightN++;
    this.admittedN++;
    if (this.inflightN > this.wPeak) this.wPeak = this.inflightN;
    return true;
  }

  /** Counts one new order in flight whatever the limit (the simulator's orders: measured, never shed). */
  admit(): void {
    this.inflightN++;
    this.admittedN++;
    if (this.inflightN > this.wPeak) this.wPeak = this.inflightN;
  }

  /** An admitted order is answered (its A/R reached the gateway) or was refused by the ring. */
  release(): void { if (this.inflightN > 0) this.inflightN--; }

  /**
   * One command's engine queue time, ns (tsInit − tsIn), and its batch's tsInit (epoch ns as a
   * number; NaN when unknown): a new tsInit is a new batch, and the interval since the previous
   * batch start is one engine cycle (batch + journal sync, or idle time).
   */
  sample(queueNs: number, tsInitNs = NaN): void {
    if (!(queueNs >= 0) || queueNs === Infinity) { this.ignored++; return; }
    if (queueNs > MAX_QUEUE_NS) queueNs = MAX_QUEUE_NS;
    if (tsInitNs !== this.lastTsInit && Number.isFinite(tsInitNs)) {
      const gap = tsInitNs - this.lastTsInit;
      if (this.lastTsInit >= 0 && gap > 0 && gap < MAX_QUEUE_NS) { this.cSum += gap; this.cCount++; }
      this.lastTsInit = tsInitNs;
    }
    this.recent[this.samplesN % RECENT] = queueNs;
    this.samplesN++;
    if (this.wCount === 0) { this.wStart = this.now(); if (this.inflightN > this.wPeak) this.wPeak = this.inflightN; }
    this.wSum += queueNs;
    if (++this.wCount >= this.windowSamples) this.update();
  }

  /** Closes the current window if it is `windowMs` old (once per event-pump cycle). */
  tick(): void {
    if (this.wCount > 0 && this.now() - this.wStart >= this.windowMs) this.update();
  }

  private update(): void {
    const short = this.wSum / this.wCount;
    const peak = this.wPeak;
    this.wSum = 0; this.wCount = 0; this.wPeak = this.inflightN;
    this.lastShort = short;
    this.nWindows++;
    if (this.cCount > 0) {
      const c = this.cSum / this.cCount;
      this.cycle = this.cycle === 0 ? c : this.cycle + (c - this.cycle) * 0.25;
      this.cSum = 0; this.cCount = 0;
    }
    const reference = (b: number): number => Math.max(this.tolerance * b, this.cycleTolerance * this.cycle, this.minQueueNs);
    if (this.nWindows <= 10) this.base += (short - this.base) / this.nWindows; // warm-up: the plain mean
    else {
      const congested = short > reference(this.base);
      this.base += (short - this.base) * (congested ? this.alpha / 10 : this.alpha);
      if (this.base > 2 * short) this.base *= 0.9;
    }
    const ref = reference(this.base);
    const gradient = short <= 0 ? 1 : Math.max(0.5, Math.min(1, ref / short));
    if (gradient >= 1 && peak < this.est / 2) return; // app-limited: no reason to grow
    const next = this.est * gradient + Math.sqrt(this.est);
    const est = this.est * (1 - this.smoothing) + next * this.smoothing;
    this.est = Math.max(this.minLimit, Math.min(this.maxLimit, est));
  }

  /** A plain snapshot (allocates; for scrapes and reports, not the hot path). */
  metrics(): LimiterMetrics {
    const n = Math.min(this.samplesN, RECENT);
    let p50: number | null = null;
    let p99: number | null = null;
    if (n > 0) {
      const s = this.recent.slice(0, n).sort();
      p50 = s[Math.min(n - 1, Math.ceil(0.5 * n) - 1)]! / 1000;
      p99 = s[Math.min(n - 1, Math.ceil(0.99 * n) - 1)]! / 1000;
    }
    return {
      enabled: this.enabled, limit: this.limit, inflight: this.inflightN, admitted: this.admittedN, shed: this.shedN, samples: this.samplesN,
      queueTimeP50Us: p50, queueTimeP99Us: p99,
      baselineUs: this.nWindows === 0 ? null : this.base / 1000, windowUs: this.nWindows === 0 ? null : this.lastShort / 1000,
      cycleUs: this.cycle === 0 ? null : this.cycle / 1000,
    };
  }
}
