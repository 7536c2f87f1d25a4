/**
 * Augmented Dickey-Fuller and Engle-Granger cointegration tests with statsmodels 0.13/0.14
 * semantics: `adfuller` and `coint` give the same statistic, p-value (MacKinnon 1994 response
 * surfaces), used lag, nobs and critical values (MacKinnon 2010) as statsmodels.
 *
 * How: the lag search fits every candidate lag on the same rows, as statsmodels does; all those
 * regressions are nested column prefixes of one design [trend, x(t−1), Δx(t−1..t−maxlag)], so
 * one Householder QR in WASM gives every residual sum of squares (AIC/BIC) and every last-column
 * t statistic (t-stat search). The chosen lag is refitted on its own rows with x(t−1) as the last
 * column, whose t statistic is then z·sign(R)/σ — no inverse needed.
 * Allocation: the design matrix per call. Known limitations: a constant series gives NaN results
 * as in statsmodels; other rank-deficient designs (e.g. an exactly linear series, whose
 * differences are constant) are reported as an error instead of statsmodels' pseudo-inverse
 * results. At 1e9 price levels statsmodels itself loses precision; these functions return the
 * exact answer (statsmodels on the mean-shifted series).
 */
import { MACKINNON, type Regression } from './mackinnon.js';
import { ols, qr, qrFill } from './kernels.js';

export interface AdfOptions { maxlag?: number | null; regression?: Regression; autolag?: 'AIC' | 'BIC' | 't-stat' | 'aic' | 'bic' | null }
export interface AdfResult {
  stat: number; pvalue: number; usedlag: number; nobs: number;
  critValues: { '1%': number; '5%': number; '10%': number }; icbest?: number;
}
export interface CointOptions { trend?: 'c' | 'ct'; maxlag?: number | null; autolag?: 'aic' | 'bic' | 't-stat' | 'AIC' | 'BIC' | null }
export interface CointResult { stat: number; pvalue: number; critValues: [number, number, number] }

const LOG_2PI = Math.log(2 * Math.PI);
const SQRTEPS = Math.sqrt(2.220446049250313e-16);

/** Standard normal CDF to ~1e-16 absolute (series of Φ; exact 0/1 beyond ±8.3). */
export function normCdf(x: number): number {
  if (Number.isNaN(x)) return Number.NaN;
  if (x < -8.3) return 0;
  if (x > 8.3) return 1;
  // Φ(x) = 1/2 + φ(x) Σ x^(2n+1) / (2n+1)!!
  let term = x;
  let sum = x;
  const x2 = x * x;
  for (let k = 3; k < 400; k += 2) {
    term *= x2 / k;
    sum += term;
    if (Math.abs(term) < 1e-17 * Math.abs(sum)) break;
  }
  return 0.5 + sum * Math.exp(-0.5 * x2 - 0.5 * LOG_2PI);
}

/** MacKinnon (1994) approximate p-value of a (A)DF / Engle-Granger statistic for N series. */
export function mackinnonp(stat: number, regression: Regression = 'c', N = 1): number {
  const max = MACKINNON.tauMax[regression][N - 1];
  const min = MACKINNON.tauMin[regression][N - 1];
  const star = MACKINNON.tauStar[regression][N - 1];
  if (max === undefined || min === undefined || star === undefined) throw new RangeError(`mackinnonp: no table for regression ${regression}, N=${N}`);
  if (stat > max) return 1;
  if (stat < min) return 0;
  const coef = stat <= star ? MACKINNON.tauSmallP[regression][N - 1]! : MACKINNON.tauLargeP[regression][N - 1]!;
  let v = 0;
  for (let i = coef.length - 1; i >= 0; i--) v = v * stat + coef[i]!;
  return normCdf(v);
}

/** MacKinnon (2010) critical values (1%, 5%, 10%) for N series and `nobs` observations. */
export function mackinnoncrit(N = 1, regression: Regression = 'c', nobs = Number.POSITIVE_INFINITY): [number, number, number] {
  const t = MACKINNON.tau2010[regression][N - 1];
  if (!t) throw new RangeError(`mackinnoncrit: no table for regression ${regression}, N=${N}`);
  const out = t.map((row) => {
    if (nobs === Number.POSITIVE_INFINITY) return row[0]!;
    const u = 1 / nobs;
    return row[0]! + u * (row[1]! + u * (row[2]! + u * row[3]!));
  });
  return [out[0]!, out[1]!, out[2]!];
}

function trendColumns(regression: Regression, nobs: number): Float64Array[] {
  const cols: Float64Array[] = [];
  if (regression === 'n') return cols;
  cols.push(new Float64Array(nobs).fill(1));
  if (regression === 'ct' || regression === 'ctt') { const t = new Float64Array(nobs); for (let i = 0; i < nobs; i++) t[i] = i + 1; cols.push(t); }
  if (regression === 'ctt') { const t = new Float64Array(nobs); for (let i = 0; i < nobs; i++) t[i] = (i + 1) * (i + 1); cols.push(t); }
  return cols;
}

function normAutolag(a: AdfOptions['autolag'] | CointOptions['autolag'] | undefined, dflt: string): string | null {
  if (a === null) return null;
  const v = (a ?? dflt).toLowerCase();
  if (v !== 'aic' && v !== 'bic' && v !== 't-stat') throw new RangeError(`autolag must be 'AIC', 'BIC', 't-stat' or null, got ${String(a)}`);
  return v;
}

export function adfuller(xIn: Float64Array | readonly number[], opts: AdfOptions = {}): AdfResult {
  const x = xIn instanceof Float64Array ? xIn : Float64Array.from(xIn);
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) throw new RangeError(`adfuller: value ${i} (${x[i]}) is not finite`);
  const regression = opts.regression ?? 'c';
  if (!['c', 'n', 'ct', 'ctt'].includes(regression)) throw new RangeError(`regression must be 'c', 'n', 'ct' or 'ctt', got ${String(regression)}`);
  const autolag = normAutolag(opts.autolag, 'aic');
  const n0 = x.length;
  const ntrend = regression === 'n' ? 0 : regression.length;
  let maxlag: number;
  if (opts.maxlag === undefined || opts.maxlag === null) {
    maxlag = Math.ceil(12 * Math.pow(n0 / 100, 1 / 4));
    maxlag = Math.min(Math.floor(n0 / 2) - ntrend - 1, maxlag);
    if (maxlag < 0) throw new RangeError('sample size is too short to use selected regression component');
  } else {
    maxlag = opts.maxlag;
    if (!Number.isInteger(maxlag) || maxlag < 0) throw new RangeError(`maxlag must be a non-negative integer, got ${maxlag}`);
    if (maxlag > Math.floor(n0 / 2) - ntrend - 1) {
      throw new RangeError('maxlag must be less than (nobs/2 - 1 - ntrend) where n trend is the number of included deterministic regressors');
    }
  }
  const xdiff = new Float64Array(n0 - 1);
  for (let i = 1; i < n0; i++) xdiff[i - 1] = x[i]! - x[i - 1]!;
  let nobs = xdiff.length - maxlag;
  let usedlag = maxlag;
  let icbest: number | undefined;
  if (xdiff.every((d) => d === 0)) {
    // a constant series: statsmodels reports NaN statistics, lag 0 under a lag search
    if (autolag !== null) { usedlag = 0; nobs = xdiff.length; icbest = autolag === 't-stat' ? Number.NaN : Number.NEGATIVE_INFINITY; }
    const [c1, c5, c10] = mackinnoncrit(1, regression, nobs);
    const out: AdfResult = { stat: Number.NaN, pvalue: Number.NaN, usedlag, nobs, critValues: { '1%': c1, '5%': c5, '10%': c10 } };
    if (icbest !== undefined) out.icbest = icbest;
    return out;
  }

  // x(t−1) is centred when the regression has a constant: no t statistic changes, but a 1e9 price
  // level no longer swamps the regression (statsmodels' pseudo-inverse loses ~6 digits there;
  // this matches statsmodels run on the mean-shifted series, the exact answer).
  // One design for every candidate: [trend…, x(t−1), Δx(t−1) … Δx(t−maxlag)] on the same rows
  const center = regression === 'n' ? 0 : (() => { let m = 0; for (let i = 0; i < nobs; i++) m += x[maxlag + i]!; return m / nobs; })();
  const kcols = ntrend + 1 + maxlag;
  // write the design straight into WASM memory: trend columns, x(t−1) − centre, Δx lags, then y
  const f = qrFill(nobs, kcols, (v, base) => {
    let o = base;
    if (regression !== 'n') { v.fill(1, o, o + nobs); o += nobs; }
    if (regression === 'ct' || regression === 'ctt') { for (let i = 0; i < nobs; i++) v[o + i] = i + 1; o += nobs; }
    if (regression === 'ctt') { for (let i = 0; i < nobs; i++) v[o + i] = (i + 1) * (i + 1); o += nobs; }
    for (let i = 0; i < nobs; i++) v[o + i] = x[maxlag + i]! - center;
    o += nobs;
    const L = xdiff.length;
    for (let l = 1; l <= maxlag; l++) { v.set(xdiff.subarray(L - nobs - l, L - l), o); o += nobs; }
    v.set(xdiff.subarray(L - nobs), o);
  });
  const cols = { length: kcols };
  if (f.rank < cols.length) throw new RangeError('adfuller: the regression design is rank deficient (constant or perfectly collinear series)');
  const startlag = ntrend + 1;
  let m = cols.length;
  if (autolag !== null) {
    let bestlag = startlag + maxlag;
    if (autolag === 'aic' || autolag === 'bic') {
      let best = Number.POSITIVE_INFINITY;
      for (let lag = startlag; lag <= startlag + maxlag; lag++) {
        const rss = f.rss(lag);
        const llf = -nobs / 2 * (LOG_2PI + Math.log(rss / nobs) + 1);
        const ic = autolag === 'aic' ? -2 * llf + 2 * lag : -2 * llf + Math.log(nobs) * lag;
        if (ic < best) { best = ic; bestlag = lag; }
      }
      icbest = best;
    } else {
      const stop = 1.6448536269514722;
      icbest = 0;
      for (let lag = startlag + maxlag; lag >= startlag; lag--) {
        const sigma = Math.sqrt(f.rss(lag) / (nobs - lag));
        icbest = Math.abs(f.z[lag - 1]! / sigma);
        bestlag = lag;
        if (icbest >= stop) break;
      }
    }
    usedlag = bestlag - startlag;
    m = bestlag;
  }
  // The chosen regression uses the first m columns on maxlag − usedlag more (earlier) rows, as
  // statsmodels refits it. Those rows are appended to the prefix's R by Givens rotations instead
  // of a second factorisation. (Trend values continue backwards from the design's 1..nobs; the
  // column space, hence the x(t−1) coefficient, is the same as statsmodels' 1..nobs'.)
  const R = new Float64Array(m * m);
  for (let j = 0; j < m; j++) for (let c = j; c < m; c++) R[j * m + c] = f.R[j * f.k + c]!;
  const z = f.z.slice(0, m);
  let rss = f.rss(m);
  const v = new Float64Array(m);
  for (let t = usedlag; t < maxlag; t++) {
    const i = t - maxlag; // row index relative to the design's first row (negative)
    let col = 0;
    if (regression !== 'n') v[col++] = 1;
    if (regression === 'ct' || regression === 'ctt') v[col++] = i + 1;
    if (regression === 'ctt') v[col++] = (i + 1) * (i + 1);
    v[col++] = x[t]! - center;
    for (let l = 1; l <= usedlag; l++) v[col++] = xdiff[t - l]!;
    let yv = xdiff[t]!;
    for (let j = 0; j < m; j++) {
      const b = v[j]!;
      if (b === 0) continue;
      const a0 = R[j * m + j]!;
      const r = Math.hypot(a0, b);
      const c = a0 / r;
      const s = b / r;
      R[j * m + j] = r;
      for (let k = j + 1; k < m; k++) {
        const rk = R[j * m + k]!;
        const vk = v[k]!;
        R[j * m + k] = c * rk + s * vk;
        v[k] = -s * rk + c * vk;
      }
      const zj = z[j]!;
      z[j] = c * zj + s * yv;
      yv = -s * zj + c * yv;
    }
    rss += yv * yv;
  }
  nobs = xdiff.length - usedlag;
  // t statistic of x(t−1) (column ntrend): b = R⁻¹z, se = σ·‖row of R⁻¹‖
  const jl = ntrend;
  const coef = new Float64Array(m);
  for (let j = m - 1; j >= 0; j--) {
    let acc = z[j]!;
    for (let c = j + 1; c < m; c++) acc -= R[j * m + c]! * coef[c]!;
    coef[j] = acc / R[j * m + j]!;
  }
  const w = new Float64Array(m);
  w[jl] = 1 / R[jl * m + jl]!;
  let nw = w[jl]! * w[jl]!;
  for (let r = jl + 1; r < m; r++) {
    let acc = 0;
    for (let l = jl; l < r; l++) acc += R[l * m + r]! * w[l]!;
    w[r] = -acc / R[r * m + r]!;
    nw += w[r]! * w[r]!;
  }
  const sigma = Math.sqrt(rss / (nobs - m));
  const stat = coef[jl]! / (sigma * Math.sqrt(nw));
  const [c1, c5, c10] = mackinnoncrit(1, regression, nobs);
  const out: AdfResult = { stat, pvalue: mackinnonp(stat, regression, 1), usedlag, nobs, critValues: { '1%': c1, '5%': c5, '10%': c10 } };
  if (icbest !== undefined) out.icbest = icbest;
  return out;
}

/** Σ (y − ȳ)², two passes. */
function rsquaredDenominator(y: Float64Array): number {
  let m = 0;
  for (let i = 0; i < y.length; i++) m += y[i]!;
  m /= y.length;
  let s = 0;
  for (let i = 0; i < y.length; i++) s += (y[i]! - m) * (y[i]! - m);
  return s;
}

/** Engle-Granger two-step cointegration test of y0 on y1 (statsmodels `coint`). */
export function coint(y0In: Float64Array | readonly number[], y1In: Float64Array | readonly number[], opts: CointOptions = {}): CointResult {
  const y0 = y0In instanceof Float64Array ? y0In : Float64Array.from(y0In);
  const y1 = y1In instanceof Float64Array ? y1In : Float64Array.from(y1In);
  if (y0.length !== y1.length) throw new RangeError(`coint: lengths differ (${y0.length} vs ${y1.length})`);
  const trend = opts.trend ?? 'c';
  if (trend !== 'c' && trend !== 'ct') throw new RangeError(`coint: trend must be 'c' or 'ct', got ${String(trend)}`);
  const n = y0.length;
  if (n < 3) throw new RangeError(`coint: needs at least 3 observations, got ${n}`);
  for (let i = 0; i < n; i++) if (!Number.isFinite(y0[i]!) || !Number.isFinite(y1[i]!)) throw new RangeError(`coint: value ${i} is not finite`);
  let resid: Float64Array;
  let rss: number;
  let tss: number;
  if (trend === 'c') {
    // y0 on [y1, 1]: the centred simple regression kernel (same fit as QR, one SIMD pass each)
    const o = ols(y0, y1);
    if (o.beta === null) throw new RangeError('coint: y1 is constant');
    resid = o.residuals;
    rss = 0;
    for (let i = 0; i < n; i++) rss += resid[i]! * resid[i]!;
    tss = rsquaredDenominator(y0);
  } else {
    const cols = [y1, ...trendColumns(trend, n)];
    const f = qr(cols, y0);
    if (f.rank < cols.length) throw new RangeError('coint: y1 is constant or collinear with the trend');
    const b = f.coef();
    resid = new Float64Array(n);
    rss = 0;
    for (let i = 0; i < n; i++) {
      const r = y0[i]! - (b[0]! * y1[i]! + b[1]! + b[2]! * (i + 1));
      resid[i] = r;
      rss += r * r;
    }
    tss = rsquaredDenominator(y0);
  }
  const rsquared = 1 - rss / tss;
  let stat: number;
  if (rsquared < 1 - 100 * SQRTEPS) {
    stat = adfuller(resid, { maxlag: opts.maxlag ?? null, autolag: (normAutolag(opts.autolag, 'aic') as AdfOptions['autolag']), regression: 'n' }).stat;
  } else {
    stat = Number.NEGATIVE_INFINITY; // (almost) perfectly collinear: statsmodels warns and reports −inf
  }
  const crit = mackinnoncrit(2, trend, n - 1);
  return { stat, pvalue: mackinnonp(stat, trend, 2), critValues: crit };
}
