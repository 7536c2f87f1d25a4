/**
 * Universe-wide statistics for pairs selection: the top pairs by |Pearson ρ| of k series (k up to
 * 10,000 × n up to 2,500) without handing back a k×k matrix, and a batched Engle–Granger screen of
 * candidate pairs — on the GPU (CUDA kernels of native/cuda/ through src/sys/gpu.ts) when a device
 * is present, else on WASM SIMD (assembly/stats/corrtop.simd.ts; coint of adf.ts), with the
 * addon's C++ baseline ('c') as a third, checkable implementation.
 *
 * Layout: `correlationTopPairs(series, { topN, mode, backend, rows })` → pairs (i < j, |ρ| desc,
 * then i, then j), requested full rows, the series found constant; `engleGrangerScreen(series,
 * pairs, { maxlag, autolag, backend })` → per pair α, β (y ≈ α + βx), the ADF statistic of the
 * residuals, MacKinnon p-value, lag used, status.
 * Invariants: every backend standardises z = (x − m)/‖x − m‖ in FP64 and takes ρ = Σ zᵢzⱼ,
 * clamped to [−1, 1]; FP64 results agree across backends to 1e-9 relative (in practice ~1e-15);
 * FP32 stores z and accumulates in float (measured error in docs/gpu.md). A constant series (all
 * values equal) has no correlation: NaN in rows, never among the pairs, listed in `constant`.
 * Non-finite input is refused with a RangeError (as everywhere in tradsys/stats).
 * Complexity: O(k²·n) for the correlation (plus O(k² log N) selection); O(n·maxlag²) per EG test.
 * Allocation: WASM: the universe is copied into the stats arena (k·n·8 bytes, kept as scratch);
 * native: typed arrays of the results. Known limitations: synchronous; the WASM path is
 * single-threaded (10,000 × 2,500 takes about a minute on one core); GPU EG needs maxlag ≤ 64.
 */
import { TradsysError } from '../domain/errors.js';
import { gpuAvailable, gpuStatus, nativeBaselineAvailable, nativeCorrTop, nativeEgScreen, type CorrTopRaw } from '../sys/gpu.js';
import { adfuller, mackinnonp } from './adf.js';
import { ols } from './kernels.js';
import { Scratch, stats } from './wasm.js';

export type CorrMode = 'fp64' | 'fp32';
export type UniverseBackend = 'auto' | 'gpu' | 'wasm' | 'c';
export type Series = Float64Array | readonly number[];

export interface TopPairsOptions {
  /** Pairs to return (default 100; 0: none, e.g. when only rows are wanted). */
  topN?: number;
  /** 'fp64' (default) or 'fp32' (float storage and accumulation after an FP64 standardisation). */
  mode?: CorrMode;
  /** 'auto' (default): the GPU when present, else WASM SIMD. */
  backend?: UniverseBackend;
  /** Full correlation rows to return (series indices). */
  rows?: readonly number[];
  /** WASM only: run the scalar twin instead of SIMD (tests). */
  scalar?: boolean;
}

export interface CorrelatedPair { i: number; j: number; rho: number }

export interface TopPairsResult {
  pairs: CorrelatedPair[];
  /** rows[r] is row opts.rows[r] of the matrix (k values; 1 on the diagonal, NaN for a constant series). */
  rows: Float64Array[];
  backend: 'gpu' | 'wasm' | 'c';
  mode: CorrMode;
  k: number;
  n: number;
  /** Series with every value equal (ρ undefined). */
  constant: number[];
  ms: number;
  /** With backend 'auto': why the GPU call failed and WASM ran instead (absent otherwise). */
  fallback?: string;
}

export type EgStatus = 'ok' | 'constant_x' | 'rank_deficient' | 'constant_residuals' | 'collinear';

export interface EgOptions {
  /** ADF lags: with autolag 'aic', the most lags tried (default ⌈12·(n/100)^¼⌉); with autolag null, exactly this many. */
  maxlag?: number | null;
  /** 'aic' (default, statsmodels' coint) or null (fixed maxlag). */
  autolag?: 'aic' | null;
  backend?: UniverseBackend;
}

export interface EgResult {
  y: number;
  x: number;
  /** Hedge: y ≈ alpha + beta·x (OLS); NaN when x is constant. */
  alpha: number;
  beta: number;
  /** ADF t statistic of the residuals (coint's statistic); −∞ when y and x are collinear. */
  stat: number;
  /** MacKinnon (1994) p-value for 2 series, constant term; NaN when undefined. */
  pvalue: number;
  /** Lags used by the ADF regression (−1 when no ADF regression was run). */
  usedlag: number;
  status: EgStatus;
}

export interface EgScreenResult {
  results: EgResult[];
  backend: 'gpu' | 'wasm' | 'c';
  ms: number;
  /** With backend 'auto': why the GPU call failed and WASM ran instead (absent otherwise). */
  fallback?: string;
}

const EG_STATUS: EgStatus[] = ['ok', 'constant_x', 'rank_deficient', 'constant_residuals', 'collinear'];

function validate(series: readonly Series[], what: string): { k: number; n: number } {
  if (!Array.isArray(series)) throw new RangeError(`${what}: series must be an array of arrays`);
  const k = series.length;
  if (k < 2) throw new RangeError(`${what}: needs at least 2 series, got ${k}`);
  const n = series[0]!.length;
  if (n < 2) throw new RangeError(`${what}: needs at least 2 values per series, got ${n}`);
  series.forEach((s, j) => {
    if (s.length !== n) throw new RangeError(`${what}: series ${j} has ${s.length} values, series 0 has ${n}`);
    for (let t = 0; t < n; t++) if (!Number.isFinite(s[t]!)) throw new RangeError(`${what}: series ${j} value ${t} (${s[t]}) is not finite`);
  });
  return { k, n };
}

function pack(series: readonly Series[], k: number, n: number): Float64Array {
  const d = new Float64Array(k * n);
  series.forEach((s, j) => d.set(s as ArrayLike<number>, j * n));
  return d;
}

function pickBackend(b: UniverseBackend | undefined): 'gpu' | 'wasm' | 'c' {
  const v = b ?? 'auto';
  if (v === 'auto') return gpuAvailable() ? 'gpu' : 'wasm';
  if (v === 'gpu') {
    const st = gpuStatus();
    if (!st.available) throw new TradsysError('ERR_GPU_UNAVAILABLE', `GPU statistics unavailable: ${st.reason}`);
    return 'gpu';
  }
  if (v === 'c') {
    if (!nativeBaselineAvailable()) throw new TradsysError('ERR_GPU_UNAVAILABLE', 'the C++ baseline needs the native addon (npm run build with a C++ compiler)');
    return 'c';
  }
  if (v === 'wasm') return 'wasm';
  throw new RangeError(`backend must be 'auto', 'gpu', 'wasm' or 'c', got ${String(b)}`);
}

/** Orders pairs by |ρ| desc, then i, then j (every backend's order). */
export function comparePairs(a: CorrelatedPair, b: CorrelatedPair): number {
  const fa = Math.abs(a.rho), fb = Math.abs(b.rho);
  if (fa !== fb) return fb - fa;
  return a.i - b.i || a.j - b.j;
}

const sData = new Scratch();
const sOk = new Scratch();
const sHeap = new Scratch();
const sRow = new Scratch();

function wasmTop(series: readonly Series[], k: number, n: number, topN: number, fp32: boolean, rows: readonly number[], scalar: boolean): { pairs: CorrelatedPair[]; rows: Float64Array[] } {
  const s = stats();
  const data = sData.ensure(k * n * 8);
  const ok = sOk.ensure(k);
  const heap = sHeap.ensure(Math.max(1, topN) * 24);
  const out = sRow.ensure(k * 8);
  let f = s.f64();
  series.forEach((x, j) => f.set(x as ArrayLike<number>, (data >>> 3) + j * n));
  s.ex.statsZStd(data, n, k, ok, fp32 ? 1 : 0);
  const fn = fp32 ? (scalar ? s.ex.statsTopPairsF32Scalar : s.ex.statsTopPairsF32) : (scalar ? s.ex.statsTopPairsF64Scalar : s.ex.statsTopPairsF64);
  const count = fn(data, n, k, ok, topN, heap);
  f = s.f64();
  const u = s.u32();
  const pairs: CorrelatedPair[] = [];
  for (let q = 0; q < count; q++) {
    pairs.push({ i: u[((heap + topN * 16) >>> 2) + q]!, j: u[((heap + topN * 20) >>> 2) + q]!, rho: f[((heap + topN * 8) >>> 3) + q]! });
  }
  pairs.sort(comparePairs);
  const rowsOut = rows.map((i) => {
    (scalar ? s.ex.statsCorrRowScalar : s.ex.statsCorrRow)(data, n, k, ok, i, out, fp32 ? 1 : 0);
    return s.f64().slice(out >>> 3, (out >>> 3) + k);
  });
  return { pairs, rows: rowsOut };
}

/**
 * The top `topN` pairs i < j by |ρ| of the universe (and any full rows asked for), on the GPU
 * when present (backend 'auto'), else WASM SIMD; 'c' runs the addon's C++ baseline.
 */
export function correlationTopPairs(series: readonly Series[], opts: TopPairsOptions = {}): TopPairsResult {
  const { k, n } = validate(series, 'correlationTopPairs');
  const topN = opts.topN ?? 100;
  if (!Number.isInteger(topN) || topN < 0 || topN > 1e8) throw new RangeError(`correlationTopPairs: topN must be an integer in [0, 1e8], got ${topN}`);
  const mode = opts.mode ?? 'fp64';
  if (mode !== 'fp64' && mode !== 'fp32') throw new RangeError(`correlationTopPairs: mode must be 'fp64' or 'fp32', got ${String(mode)}`);
  const rows = opts.rows ?? [];
  rows.forEach((r) => { if (!Number.isInteger(r) || r < 0 || r >= k) throw new RangeError(`correlationTopPairs: row ${r} is not a series index in 0..${k - 1}`); });
  let backend = pickBackend(opts.backend);
  const auto = (opts.backend ?? 'auto') === 'auto';
  let fallback: string | undefined;
  // never more than there are pairs (the selection's buffers are sized by it)
  const want = Math.min(topN, (k * (k - 1)) / 2);
  const constant: number[] = [];
  series.forEach((s, j) => { let c = true; for (let t = 1; t < n && c; t++) c = s[t] === s[0]; if (c) constant.push(j); });
  const t0 = performance.now();
  let pairs: CorrelatedPair[];
  let rowsOut: Float64Array[];
  let r: CorrTopRaw | null = null;
  if (backend !== 'wasm') {
    try { r = nativeCorrTop(backend, pack(series, k, n), k, n, want, mode === 'fp32', Int32Array.from(rows)); } catch (e) {
      // 'auto' does not fail where WASM can do it (e.g. a universe too big for the device's memory)
      if (!(auto && e instanceof TradsysError && e.code === 'ERR_GPU_KERNEL')) throw e;
      fallback = e.message;
      backend = 'wasm';
    }
  }
  if (r) {
    pairs = Array.from(r.i, (i, q) => ({ i, j: r.j[q]!, rho: r.rho[q]! }));
    rowsOut = rows.map((_, q) => r.rows.slice(q * k, (q + 1) * k));
  } else {
    ({ pairs, rows: rowsOut } = wasmTop(series, k, n, want, mode === 'fp32', rows, !!opts.scalar));
  }
  const res: TopPairsResult = { pairs, rows: rowsOut, backend, mode, k, n, constant, ms: performance.now() - t0 };
  if (fallback !== undefined) res.fallback = fallback;
  return res;
}

function egWasm(series: readonly Series[], y: number, x: number, maxlag: number | null, autolag: 'aic' | null): EgResult {
  // coint(y, x, { trend: 'c' }) of adf.ts step by step, keeping the hedge and the lag it chose
  const ys = series[y]!, xs = series[x]!;
  const o = ols(ys, xs);
  const base = { y, x, alpha: o.alpha ?? Number.NaN, beta: o.beta ?? Number.NaN };
  if (o.beta === null) return { ...base, stat: Number.NaN, pvalue: Number.NaN, usedlag: -1, status: 'constant_x' };
  let rss = 0;
  for (let t = 0; t < o.residuals.length; t++) rss += o.residuals[t]! * o.residuals[t]!;
  let m = 0;
  for (let t = 0; t < ys.length; t++) m += ys[t]!;
  m /= ys.length;
  let tss = 0;
  for (let t = 0; t < ys.length; t++) tss += (ys[t]! - m) * (ys[t]! - m);
  if (!(1 - rss / tss < 1 - 100 * Math.sqrt(2.220446049250313e-16))) return { ...base, stat: Number.NEGATIVE_INFINITY, pvalue: 0, usedlag: -1, status: 'collinear' };
  try {
    const a = adfuller(o.residuals, { regression: 'n', autolag, maxlag });
    if (Number.isNaN(a.stat)) return { ...base, stat: Number.NaN, pvalue: Number.NaN, usedlag: a.usedlag, status: 'constant_residuals' };
    return { ...base, stat: a.stat, pvalue: mackinnonp(a.stat, 'c', 2), usedlag: a.usedlag, status: 'ok' };
  } catch (e) {
    if (e instanceof RangeError && /rank deficient/.test(e.message)) return { ...base, stat: Number.NaN, pvalue: Number.NaN, usedlag: -1, status: 'rank_deficient' };
    throw e;
  }
}

/**
 * Engle–Granger tests (statsmodels `coint`, trend 'c') of candidate pairs [y, x]: hedge, ADF
 * statistic of the residuals with the AIC lag search, MacKinnon p-value. On the GPU when present
 * (backend 'auto'), else with `coint`'s own code on WASM; 'c': the addon's C++ baseline.
 */
export function engleGrangerScreen(series: readonly Series[], pairs: readonly (readonly [number, number])[], opts: EgOptions = {}): EgScreenResult {
  const { k, n } = validate(series, 'engleGrangerScreen');
  if (n < 3) throw new RangeError(`engleGrangerScreen: needs at least 3 observations, got ${n}`);
  pairs.forEach(([y, x], q) => {
    if (!Number.isInteger(y) || !Number.isInteger(x) || y < 0 || x < 0 || y >= k || x >= k || y === x) throw new RangeError(`engleGrangerScreen: pair ${q} [${y}, ${x}] must name two different series of 0..${k - 1}`);
  });
  const autolag = opts.autolag === undefined ? 'aic' : opts.autolag;
  if (autolag !== 'aic' && autolag !== null) throw new RangeError(`engleGrangerScreen: autolag must be 'aic' or null, got ${String(autolag)}`);
  const maxlag = opts.maxlag ?? null;
  if (maxlag !== null && (!Number.isInteger(maxlag) || maxlag < 0 || maxlag > Math.floor(n / 2) - 1)) throw new RangeError(`engleGrangerScreen: maxlag must be an integer in [0, ${Math.floor(n / 2) - 1}], got ${maxlag}`);
  if (autolag === null && maxlag === null) throw new RangeError('engleGrangerScreen: a fixed lag (autolag null) needs maxlag');
  let backend = pickBackend(opts.backend);
  // the GPU kernel's limit on lags; 'auto' falls back to WASM past it
  const effLag = maxlag ?? Math.min(Math.ceil(12 * Math.pow(n / 100, 1 / 4)), Math.floor(n / 2) - 1);
  if (backend === 'gpu' && effLag > 64) {
    if ((opts.backend ?? 'auto') === 'auto') backend = 'wasm';
    else throw new TradsysError('ERR_GPU_UNAVAILABLE', `the GPU Engle-Granger kernel takes at most 64 lags, got ${effLag}`);
  }
  const t0 = performance.now();
  let results: EgResult[];
  let out: Float64Array | null = null;
  let fallback: string | undefined;
  if (backend !== 'wasm') {
    const flat = new Int32Array(pairs.length * 2);
    pairs.forEach(([y, x], q) => { flat[2 * q] = y; flat[2 * q + 1] = x; });
    try { out = nativeEgScreen(backend, pack(series, k, n), k, n, flat, maxlag ?? -1, autolag !== null); } catch (e) {
      // 'auto' falls back where WASM can do it (e.g. n beyond the device's shared memory per block)
      if (!((opts.backend ?? 'auto') === 'auto' && e instanceof TradsysError && e.code === 'ERR_GPU_KERNEL')) throw e;
      fallback = e.message;
      backend = 'wasm';
    }
  }
  if (out) {
    const o = out;
    results = pairs.map(([y, x], q) => {
      const s = o.subarray(q * 6, q * 6 + 6);
      return { y, x, alpha: s[0]!, beta: s[1]!, stat: s[2]!, pvalue: s[3]!, usedlag: s[4]!, status: EG_STATUS[s[5]!] ?? 'rank_deficient' };
    });
  } else {
    results = pairs.map(([y, x]) => egWasm(series, y, x, maxlag, autolag));
  }
  const res: EgScreenResult = { results, backend, ms: performance.now() - t0 };
  if (fallback !== undefined) res.fallback = fallback;
  return res;
}
