/**
 * Batch statistics on arrays through the WASM kernels (assembly/stats/kernels.ts): mean and
 * variance, covariance and correlation, simple OLS, correlation matrices, and Householder QR
 * least squares (used by adfuller/coint).
 *
 * Every function takes `{ scalar: true }` to run the scalar twin instead of SIMD (both return
 * bit-identical results; tests hold them to it).
 * Allocation: inputs are copied into reusable WASM scratch; results are fresh JS values/arrays.
 * Known limitations: arrays up to the 4 GiB WASM memory.
 */
import { put, Scratch, stats } from './wasm.js';

export interface KernelOptions { scalar?: boolean }

const sa = new Scratch();
const sb = new Scratch();
const sc = new Scratch();
const sd = new Scratch();

function check(xs: ArrayLike<number>, what: string, min = 1): void {
  if (xs.length < min) throw new RangeError(`${what}: needs at least ${min} value${min === 1 ? '' : 's'}, got ${xs.length}`);
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i]!)) throw new RangeError(`${what}: value ${i} (${xs[i]}) is not finite`);
}
function same(x: ArrayLike<number>, y: ArrayLike<number>, what: string): void {
  if (x.length !== y.length) throw new RangeError(`${what}: lengths differ (${x.length} vs ${y.length})`);
}
const asF64 = (xs: Float64Array | readonly number[]): Float64Array => (xs instanceof Float64Array ? xs : Float64Array.from(xs));

/** Mean and M2 = Σ(x − mean)² of a batch. */
export function meanVar(xs: Float64Array | readonly number[], opts: KernelOptions = {}): { n: number; mean: number; m2: number } {
  check(xs, 'meanVar');
  const s = stats();
  const out = sa.ensure(16 + xs.length * 8);
  put(out + 16, asF64(xs));
  (opts.scalar ? s.ex.statsMeanVarScalar : s.ex.statsMeanVar)(out + 16, xs.length, out);
  const f = s.f64();
  return { n: xs.length, mean: f[out >>> 3]!, m2: Math.max(0, f[(out >>> 3) + 1]!) };
}

export function mean(xs: Float64Array | readonly number[], opts?: KernelOptions): number { return meanVar(xs, opts).mean; }

export function variance(xs: Float64Array | readonly number[], ddof: 0 | 1 = 1, opts?: KernelOptions): number | null {
  const r = meanVar(xs, opts);
  return r.n - ddof <= 0 ? null : r.m2 / (r.n - ddof);
}

/** ex, ey: what the rounded means mx, my miss (statsCov out[5], out[6]). */
interface CovSums { n: number; mx: number; my: number; sxx: number; syy: number; sxy: number; ex: number; ey: number }

function covSums(x: Float64Array, y: Float64Array, opts: KernelOptions): CovSums & { px: number; py: number } {
  const s = stats();
  const n = x.length;
  const px = sa.ensure(n * 8);
  const py = sb.ensure(n * 8);
  const out = sc.ensure(64);
  put(px, x);
  put(py, y);
  (opts.scalar ? s.ex.statsCovScalar : s.ex.statsCov)(px, py, n, out);
  const f = s.f64();
  const o = out >>> 3;
  return { n, mx: f[o]!, my: f[o + 1]!, sxx: Math.max(0, f[o + 2]!), syy: Math.max(0, f[o + 3]!), sxy: f[o + 4]!, ex: f[o + 5]!, ey: f[o + 6]!, px, py };
}

export function covariance(x: Float64Array | readonly number[], y: Float64Array | readonly number[], ddof: 0 | 1 = 1, opts: KernelOptions = {}): number | null {
  same(x, y, 'covariance');
  check(x, 'covariance x'); check(y, 'covariance y');
  const c = covSums(asF64(x), asF64(y), opts);
  return c.n - ddof <= 0 ? null : c.sxy / (c.n - ddof);
}

export function correlation(x: Float64Array | readonly number[], y: Float64Array | readonly number[], opts: KernelOptions = {}): number | null {
  same(x, y, 'correlation');
  check(x, 'correlation x', 2); check(y, 'correlation y', 2);
  const c = covSums(asF64(x), asF64(y), opts);
  if (c.sxx === 0 || c.syy === 0) return null;
  return Math.max(-1, Math.min(1, c.sxy / Math.sqrt(c.sxx * c.syy)));
}

/**
 * `alpha`/`beta` are null when x is constant (the slope is undefined, as everywhere in this API);
 * then the residuals are y − ȳ (the fit of the constant alone), `rsquared` is 0 (NaN if y is
 * constant too) and the standard errors are NaN.
 */
export interface OlsResult {
  alpha: number | null; beta: number | null; residuals: Float64Array; rsquared: number; stderrAlpha: number; stderrBeta: number;
}

/**
 * OLS of y on x with a constant (centred two-pass sums: the stable form of QR for two columns).
 * Residuals are taken about the means, (y − ȳ) − β(x − x̄), so they keep their digits at a 1e9
 * level. A constant x gives null alpha and beta (see OlsResult), never an exception.
 */
export function ols(y: Float64Array | readonly number[], x: Float64Array | readonly number[], opts: KernelOptions = {}): OlsResult {
  same(x, y, 'ols');
  check(y, 'ols y', 2); check(x, 'ols x', 2);
  const c = covSums(asF64(x), asF64(y), opts);
  const slope = c.sxx === 0 ? null : c.sxy / c.sxx;
  const beta = slope ?? 0; // a constant x: residuals of the constant-only fit
  const s = stats();
  const pr = sd.ensure(c.n * 8);
  const rss = (opts.scalar ? s.ex.statsResidScalar : s.ex.statsResid)(c.px, c.py, c.n, c.mx, c.my, c.ex, c.ey, beta, pr);
  const residuals = s.f64().slice(pr >>> 3, (pr >>> 3) + c.n);
  if (slope === null) {
    return { alpha: null, beta: null, residuals, rsquared: c.syy === 0 ? Number.NaN : 0, stderrAlpha: Number.NaN, stderrBeta: Number.NaN };
  }
  const df = c.n - 2;
  const sigma2 = df > 0 ? rss / df : Number.NaN;
  return {
    alpha: c.my - slope * c.mx, beta: slope, residuals,
    rsquared: c.syy === 0 ? Number.NaN : 1 - rss / c.syy,
    stderrAlpha: Math.sqrt(sigma2 * (1 / c.n + (c.mx * c.mx) / c.sxx)),
    stderrBeta: Math.sqrt(sigma2 / c.sxx),
  };
}

/** Correlation matrix (k×k, row-major) of k series of equal length; NaN where a series is constant. */
export function correlationMatrix(series: readonly (Float64Array | readonly number[])[], opts: KernelOptions = {}): Float64Array {
  const k = series.length;
  if (k === 0) throw new RangeError('correlationMatrix: needs at least one series');
  const n = series[0]!.length;
  series.forEach((x, j) => { if (x.length !== n) throw new RangeError(`correlationMatrix: series ${j} has ${x.length} values, series 0 has ${n}`); check(x, `correlationMatrix series ${j}`, 2); });
  const s = stats();
  const data = sa.ensure(k * n * 8);
  const work = sb.ensure(k * n * 8);
  const out = sc.ensure(k * k * 8);
  series.forEach((x, j) => put(data + j * n * 8, asF64(x)));
  (opts.scalar ? s.ex.statsCorrMatrixScalar : s.ex.statsCorrMatrix)(data, n, k, out, work);
  return s.f64().slice(out >>> 3, (out >>> 3) + k * k);
}

/**
 * Householder QR of an n×k design (columns given separately) with right-hand side y. Returns z =
 * (Qᵀy)[0..k), R's diagonal, the rank, and `rss(m)`: the residual sum of squares of the
 * regression on the first m columns (valid while those columns have full rank).
 */
export interface Qr {
  n: number; k: number; rank: number; z: Float64Array; diag: Float64Array;
  /** R (k×k, row-major, upper triangular, diagonal included). */
  R: Float64Array;
  rss(m: number): number;
  /** Coefficients of the regression on all k columns (back substitution). */
  coef(): Float64Array;
}

export function qr(columns: readonly Float64Array[], y: Float64Array, opts: KernelOptions = {}): Qr {
  const k = columns.length;
  const n = y.length;
  columns.forEach((c, j) => { if (c.length !== n) throw new RangeError(`qr: column ${j} has ${c.length} rows, y has ${n}`); });
  return qrFill(n, k, (f, base) => { columns.forEach((c, j) => f.set(c, base + j * n)); f.set(y, base + k * n); }, opts);
}

/**
 * As `qr`, for callers that write the design straight into WASM memory: `fill(view, base)` must
 * put column j at view[base + j·n …] and the right-hand side at view[base + k·n …].
 */
export function qrFill(n: number, k: number, fill: (view: Float64Array, base: number) => void, opts: KernelOptions = {}): Qr {
  if (k === 0 || k > n) throw new RangeError(`qr: needs 1 ≤ columns ≤ rows, got ${k} columns for ${n} rows`);
  const s = stats();
  const a = sa.ensure((k + 1) * n * 8);
  const b = a + k * n * 8;
  const d = sc.ensure(k * 8);
  fill(s.f64(), a >>> 3);
  const rank = (opts.scalar ? s.ex.statsQrScalar : s.ex.statsQr)(a, n, k, b, d);
  const f = s.f64();
  const qtb = f.slice(b >>> 3, (b >>> 3) + n);
  const diag = f.slice(d >>> 3, (d >>> 3) + k);
  // strict upper triangle of R: R[j][c] at a[c·n + j]
  const rUpper = new Float64Array(k * k);
  for (let c = 0; c < k; c++) {
    for (let j = 0; j < c; j++) rUpper[j * k + c] = f[(a >>> 3) + c * n + j]!;
    rUpper[c * k + c] = diag[c]!;
  }
  // suffix sums of squares for rss(m)
  const tail = new Float64Array(n + 1);
  for (let i = n - 1; i >= 0; i--) tail[i] = tail[i + 1]! + qtb[i]! * qtb[i]!;
  return {
    n, k, rank, z: qtb.slice(0, k), diag, R: rUpper,
    rss: (m: number) => tail[m]!,
    coef: () => {
      const out = new Float64Array(k);
      for (let j = k - 1; j >= 0; j--) {
        let v = qtb[j]!;
        for (let c = j + 1; c < k; c++) v -= rUpper[j * k + c]! * out[c]!;
        out[j] = diag[j] === 0 ? 0 : v / diag[j]!;
      }
      return out;
    },
  };
}
