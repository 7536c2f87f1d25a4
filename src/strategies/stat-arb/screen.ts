/**
 * Screening a universe for tradable pairs: correlation pre-filter (the correlation matrix of price
 * changes, one WASM call), Engle–Granger cointegration per candidate (`coint` of tradsys/stats,
 * MacKinnon p-values) in both directions, false-discovery control across the family of pair tests
 * (Benjamini–Hochberg, or Benjamini–Yekutieli), and a half-life band on the AR(1) fit of the
 * formation spread.
 *
 * Method: for each pair (y, x) of the candidates — all i < j by default, y the first — ρ is the
 * correlation of the two series' first differences (levels of random walks correlate spuriously).
 * A pair with |ρ| < minCorrelation is not tested and enters the FDR family with p = 1, so the family
 * size m is the number of candidates, as it must be for the control to hold (the pre-filter looks
 * at the data). A tested pair's p-value is the larger of the two Engle–Granger p-values (y on x, x
 * on y): the verdict does not depend on which leg is called y. The formation hedge is the OLS of y
 * on x over the window (α0, β0, residual variance); its residual spread gets the AR(1) fit
 * (ar1.ts) whose half-life must lie in [minHalfLife, maxHalfLife] samples. Selected: q ≤ fdrQ,
 * half-life in the band, then the maxPairs with the smallest p-values.
 * Layout: `ScreenRound` runs the tests a few at a time (`step`: one direction of one pair per test),
 * so a strategy can spread a round over many hooks within its per-event budget; `screenPairs` runs a round at once.
 * Invariants: results are in candidate order; qValue is set for every pair once the round is done.
 * Complexity: O(k²·n) for the correlation matrix, O(n) per coint (with its lag search, about
 * 0.1–0.5 ms at n = 500 … 2,500). Allocation: a copy of the series at construction, per test the
 * coint/OLS arrays (screening is not on the per-event path).
 * Known limitations: pairs only (no baskets / Johansen); one window length for every pair.
 */
import { coint, correlationMatrix, ols } from '../../stats/index.js';
import { correlationTopPairs, engleGrangerScreen, type EgResult } from '../../stats/universe.js';
import { gpuAvailable } from '../../sys/gpu.js';
import { fitAr1, type Ar1Fit } from './ar1.js';
import { adjustPValues, type FdrMethod } from './fdr.js';
import { bad, finiteArray, inRange } from './input.js';

export interface ScreenOptions {
  /** |correlation| of price changes needed to run the cointegration test (default 0.3). */
  minCorrelation?: number;
  /** FDR procedure across the family (default 'bh'). */
  fdr?: FdrMethod;
  /** FDR level (default 0.05). */
  fdrQ?: number;
  /** Half-life band of the formation spread, in samples (defaults 2 and n/4). */
  minHalfLife?: number;
  maxHalfLife?: number;
  /** Keep at most this many selected pairs, smallest p-values first (default: all). */
  maxPairs?: number;
  /** Candidate pairs as [y, x] series indices (default: every i < j, y = i). */
  candidates?: readonly (readonly [number, number])[];
  /** ADF lag choice on the residuals (coint): 'aic' (statsmodels' default, lags up to ⌈12·(n/100)^¼⌉) or a fixed lag count. */
  cointLag?: 'aic' | number;
  /**
   * Where the correlation pre-filter and the Engle–Granger tests run: 'auto' (default) the GPU
   * when present (src/stats/universe.ts, all tests of the round in one batch at construction),
   * else WASM (one coint per step, as always); 'gpu', 'c' (the addon's C++ baseline of the GPU
   * code) and 'wasm' force one.
   */
  backend?: 'auto' | 'wasm' | 'gpu' | 'c';
}

export type ScreenVerdict = 'selected' | 'low_correlation' | 'not_cointegrated' | 'half_life' | 'ranked_out' | 'no_fit' | 'pending';

export interface PairScreen {
  y: number;
  x: number;
  correlation: number;
  tested: boolean;
  /** Engle–Granger p-value (max of both directions); 1 when not tested. */
  pValue: number;
  /** FDR-adjusted p-value across the family (NaN until the round is done). */
  qValue: number;
  /** Formation hedge: y ≈ alpha + beta·x over the window; residual variance (ticks², n − 2 dof). */
  alpha: number;
  beta: number;
  residualVar: number;
  /** Mean of x over the window (the Kalman filter's scale). */
  xMean: number;
  /** AR(1) fit of the formation spread, null when not tested or not fittable. */
  ar1: Ar1Fit | null;
  halfLife: number | null;
  selected: boolean;
  verdict: ScreenVerdict;
}

export class ScreenRound {
  readonly n: number;
  readonly results: PairScreen[];
  private readonly series: Float64Array[];
  private readonly o: Required<Omit<ScreenOptions, 'candidates' | 'backend'>>;
  /** Batched Engle–Granger results per candidate ([y on x, x on y]) when a native backend ran them. */
  private readonly batched: (readonly [EgResult, EgResult] | undefined)[] | null = null;
  /** The backend the round used: 'wasm', or the native one that batched its tests. */
  readonly backend: 'wasm' | 'gpu' | 'c' = 'wasm';
  private next = 0;
  /** p-value of the first direction of the pair under test (NaN: not started). */
  private half = Number.NaN;
  private finished = false;

  constructor(series: readonly (Float64Array | readonly number[])[], opts: ScreenOptions = {}) {
    const k = series.length;
    if (k < 2) bad(`screening needs at least 2 series, got ${k}`);
    const n = series[0]!.length;
    if (n < 20) bad(`screening needs at least 20 values per series, got ${n}`);
    series.forEach((s, i) => {
      if (s.length !== n) bad(`series ${i} has ${s.length} values, series 0 has ${n}`);
      finiteArray(`series ${i}`, s);
    });
    this.n = n;
    this.series = series.map((s) => Float64Array.from(s as ArrayLike<number>));
    const fdr = opts.fdr ?? 'bh';
    if (fdr !== 'bh' && fdr !== 'by') bad(`fdr must be 'bh' or 'by', got ${String(fdr)}`);
    this.o = {
      minCorrelation: inRange('minCorrelation', opts.minCorrelation ?? 0.3, 0, 1),
      fdr,
      fdrQ: inRange('fdrQ', opts.fdrQ ?? 0.05, 0, 1, true),
      minHalfLife: inRange('minHalfLife', opts.minHalfLife ?? 2, 0, Number.MAX_VALUE),
      maxHalfLife: inRange('maxHalfLife', opts.maxHalfLife ?? n / 4, 0, Number.MAX_VALUE),
      maxPairs: opts.maxPairs ?? Number.POSITIVE_INFINITY,
      cointLag: opts.cointLag ?? 'aic',
    };
    const lag = this.o.cointLag;
    if (lag !== 'aic' && !(Number.isInteger(lag) && lag >= 0 && lag <= n / 4)) bad(`cointLag must be 'aic' or an integer in [0, ${Math.floor(n / 4)}], got ${String(lag)}`);
    if (this.o.minHalfLife > this.o.maxHalfLife) bad(`minHalfLife (${this.o.minHalfLife}) is above maxHalfLife (${this.o.maxHalfLife})`);
    if (!(this.o.maxPairs >= 1)) bad(`maxPairs must be ≥ 1, got ${this.o.maxPairs}`);
    const cands = opts.candidates ?? allPairs(k);
    for (const [y, x] of cands) {
      if (!Number.isInteger(y) || !Number.isInteger(x) || y < 0 || x < 0 || y >= k || x >= k || y === x) bad(`candidate pair [${y}, ${x}] must name two different series of 0..${k - 1}`);
    }
    const want = opts.backend ?? 'auto';
    if (!['auto', 'wasm', 'gpu', 'c'].includes(want)) bad(`backend must be 'auto', 'wasm', 'gpu' or 'c', got ${String(want)}`);
    const native = want === 'auto' ? (gpuAvailable() ? 'gpu' : 'wasm') : want;
    // 'auto' stays 'auto' below, so a GPU call that fails (a lag or n beyond its limits) reruns on WASM
    const ask = want === 'auto' ? 'auto' : native;
    // correlation of first differences, one matrix for the universe
    const diffs = this.series.map((s) => { const d = new Float64Array(n - 1); for (let i = 1; i < n; i++) d[i - 1] = s[i]! - s[i - 1]!; return d; });
    let corrAt: (y: number, x: number) => number;
    if (native === 'wasm') {
      const corr = correlationMatrix(diffs);
      corrAt = (y, x) => corr[y * k + x]!;
    } else {
      // the rows the candidates need, computed (and kept) on the device
      const need = [...new Set(cands.map(([y]) => y))];
      const got = correlationTopPairs(diffs, { topN: 0, rows: need, backend: ask });
      const rowOf = new Map(need.map((y, q) => [y, got.rows[q]!]));
      corrAt = (y, x) => rowOf.get(y)![x]!;
    }
    this.results = cands.map(([y, x]) => {
      const c = corrAt(y, x);
      return {
        y, x, correlation: c, tested: false, pValue: 1, qValue: Number.NaN, alpha: Number.NaN, beta: Number.NaN,
        residualVar: Number.NaN, xMean: Number.NaN, ar1: null, halfLife: null, selected: false,
        verdict: Number.isNaN(c) || Math.abs(c) < this.o.minCorrelation ? 'low_correlation' : 'pending',
      };
    });
    if (native !== 'wasm') {
      // every pending pair's two directions in one batch
      const idx: number[] = [];
      const tests: [number, number][] = [];
      this.results.forEach((r, q) => { if (r.verdict === 'pending') { idx.push(q); tests.push([r.y, r.x], [r.x, r.y]); } });
      const lag = this.o.cointLag;
      const run = engleGrangerScreen(this.series, tests, { backend: ask, ...(lag === 'aic' ? { autolag: 'aic' } : { autolag: null, maxlag: lag }) });
      const eg = run.results;
      this.backend = run.backend;
      this.batched = new Array(this.results.length);
      idx.forEach((q, t) => { this.batched![q] = [eg[2 * t]!, eg[2 * t + 1]!]; });
    }
  }

  get done(): boolean { return this.finished; }
  /** Candidates that still need a cointegration test. */
  get remaining(): number { let r = 0; for (let i = this.next; i < this.results.length; i++) if (this.results[i]!.verdict === 'pending') r++; return r; }

  /**
   * Runs up to `maxTests` Engle–Granger tests (one direction of one pair each: a pair takes two);
   * finishes the round (FDR, band, ranking) when none is left. Returns the tests run.
   */
  step(maxTests: number): number {
    let run = 0;
    while (run < maxTests && this.next < this.results.length) {
      const r = this.results[this.next]!;
      if (r.verdict !== 'pending') { this.next++; continue; }
      run++;
      if (this.half !== this.half) {
        this.half = this.eg(r, r.y, r.x);
        if (this.half === this.half) continue;
      } else {
        this.finishPair(r, this.half);
      }
      this.half = Number.NaN;
      this.next++;
    }
    if (this.next >= this.results.length && !this.finished) this.finish();
    return run;
  }

  /** One direction's Engle–Granger p-value; NaN after marking the pair unfittable. */
  private eg(r: PairScreen, a: number, b: number): number {
    r.tested = true;
    const pre = this.batched?.[this.next];
    if (pre) {
      const e = pre[a === r.y ? 0 : 1];
      // coint refuses a constant x or a rank-deficient design with a RangeError: the same verdict
      if (e.status === 'constant_x' || e.status === 'rank_deficient') { r.verdict = 'no_fit'; r.pValue = 1; return Number.NaN; }
      return Number.isNaN(e.pvalue) ? 1 : e.pvalue;
    }
    const lag = this.o.cointLag;
    try {
      const p = coint(this.series[a]!, this.series[b]!, lag === 'aic' ? { trend: 'c', autolag: 'aic' } : { trend: 'c', autolag: null, maxlag: lag }).pvalue;
      return Number.isNaN(p) ? 1 : p;
    } catch (e) {
      // a constant or collinear window (coint refuses it): not a tradable pair
      if (e instanceof RangeError) { r.verdict = 'no_fit'; r.pValue = 1; return Number.NaN; }
      throw e;
    }
  }

  private finishPair(r: PairScreen, p1: number): void {
    const y = this.series[r.y]!; const x = this.series[r.x]!;
    const p2 = this.eg(r, r.x, r.y);
    if (p2 !== p2) return;
    r.pValue = Math.max(p1, p2);
    const f = ols(y, x);
    if (f.beta === null || f.alpha === null) { r.verdict = 'no_fit'; return; }
    r.alpha = f.alpha; r.beta = f.beta;
    let rss = 0; let sx = 0;
    for (let i = 0; i < this.n; i++) { rss += f.residuals[i]! * f.residuals[i]!; sx += x[i]!; }
    r.residualVar = rss / (this.n - 2);
    r.xMean = sx / this.n;
    r.ar1 = fitAr1(f.residuals);
    r.halfLife = r.ar1.halfLife;
  }

  private finish(): void {
    this.finished = true;
    const q = adjustPValues(this.results.map((r) => r.pValue), this.o.fdr);
    const passing: PairScreen[] = [];
    this.results.forEach((r, i) => {
      r.qValue = q[i]!;
      if (r.verdict !== 'pending') return;
      if (!(r.qValue <= this.o.fdrQ)) { r.verdict = 'not_cointegrated'; return; }
      const hl = r.halfLife;
      if (hl === null || hl < this.o.minHalfLife || hl > this.o.maxHalfLife || !(r.ar1!.sigma > 0)) { r.verdict = 'half_life'; return; }
      passing.push(r);
    });
    passing.sort((a, b) => a.pValue - b.pValue || a.qValue - b.qValue);
    passing.forEach((r, rank) => {
      if (rank < this.o.maxPairs) { r.selected = true; r.verdict = 'selected'; } else r.verdict = 'ranked_out';
    });
  }
}

/** Every pair i < j of k series, y = i. */
export function allPairs(k: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) out.push([i, j]);
  return out;
}

/** Screens a universe at once (see ScreenRound). */
export function screenPairs(series: readonly (Float64Array | readonly number[])[], opts: ScreenOptions = {}): PairScreen[] {
  const round = new ScreenRound(series, opts);
  while (!round.done) round.step(Number.MAX_SAFE_INTEGER);
  return round.results;
}
