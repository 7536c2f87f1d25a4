/**
 * AR(1) fit of a spread and its mean-reversion half-life: s_t = c + φ·s_{t−1} + e_t by OLS with a
 * constant (the `ols` kernel of tradsys/stats, centred sums), half-life −ln 2 / ln φ samples.
 *
 * Method: the discrete form of an Ornstein–Uhlenbeck spread; the same regression written as
 * Δs_t = c + λ·s_{t−1} + e_t (λ = φ − 1) is what PairMonitor's rolling half-life uses.
 * `sigma` is the residual standard deviation with n − 2 degrees of freedom; `mean` the implied
 * long-run mean c / (1 − φ).
 * Layout: pure function. Invariants: halfLife is null unless 0 < φ < 1 (φ ≥ 1: no mean reversion;
 * φ ≤ 0: the spread flips sign each sample, no half-life in the usual sense).
 * Complexity: O(n). Allocation: two arrays of n − 1 (a screening step, not a hot path).
 * Known limitations: OLS φ is biased down by about (1 + 3φ)/n in short samples (Kendall 1954);
 * no bias correction is applied.
 */
import { ols } from '../../stats/index.js';
import { bad, finiteArray } from './input.js';

export interface Ar1Fit {
  /** Observations used (n − 1 pairs). */
  nobs: number;
  phi: number;
  c: number;
  /** Residual standard deviation (n − 2 dof of the n − 1 pairs). */
  sigma: number;
  /** c / (1 − φ), NaN when φ = 1. */
  mean: number;
  /** −ln 2 / ln φ in samples, null unless 0 < φ < 1. */
  halfLife: number | null;
}

export function halfLifeOf(phi: number): number | null {
  return phi > 0 && phi < 1 ? -Math.LN2 / Math.log(phi) : null;
}

/** Fits s_t = c + φ s_{t−1} + e_t to a series of at least 4 values. */
export function fitAr1(s: Float64Array | readonly number[]): Ar1Fit {
  const n = s.length;
  if (n < 4) bad(`AR(1) fit needs at least 4 values, got ${n}`);
  finiteArray('AR(1) series', s);
  const prev = new Float64Array(n - 1);
  const next = new Float64Array(n - 1);
  for (let i = 1; i < n; i++) { prev[i - 1] = s[i - 1]!; next[i - 1] = s[i]!; }
  const o = ols(next, prev);
  if (o.beta === null || o.alpha === null) {
    // a constant series: no dynamics to fit
    return { nobs: n - 1, phi: Number.NaN, c: Number.NaN, sigma: 0, mean: Number.NaN, halfLife: null };
  }
  let rss = 0;
  for (let i = 0; i < o.residuals.length; i++) rss += o.residuals[i]! * o.residuals[i]!;
  const phi = o.beta;
  return {
    nobs: n - 1, phi, c: o.alpha, sigma: Math.sqrt(rss / Math.max(1, n - 3)),
    mean: phi === 1 ? Number.NaN : o.alpha / (1 - phi), halfLife: halfLifeOf(phi),
  };
}
