/**
 * Structural-break detection on a pair's spread: Page's (1954) two-sided CUSUM on the spread's
 * standardized AR(1) innovations.
 *
 * Method (which CUSUM, and why): the spread of a cointegrated pair is autocorrelated (AR(1) with
 * φ near 1), so a CUSUM of the standardized spread itself would fire far above its nominal rate.
 * The formation fit (ar1.ts: c, φ, σ on the screening window, under the formation hedge α0, β0)
 * whitens it: e_t = (s_t − c − φ·s_{t−1}) / σ is ≈ iid N(0, 1) while the relation holds. Page's
 * recursions S⁺ = max(0, S⁺ + e − k), S⁻ = max(0, S⁻ − e − k) alarm when either exceeds h. A
 * level shift Δ of the spread shifts the innovations' mean by Δ(1 − φ)/σ for good; a spread that
 * stops reverting (a random walk) makes |e_t| grow with |s_{t−1}|; both are caught. Defaults
 * k = 0.5, h = 5: in-control average run length ≈ 465 samples two-sided (≈ 930 per side,
 * Siegmund's approximation), detecting a one-σ mean shift in ≈ 10 samples. This is Page's
 * CUSUM, not the Brown–Durbin–Evans CUSUM of recursive residuals (a retrospective test with
 * boundaries over a fixed sample); Page's is the sequential one.
 * Layout: `PageCusum` (the recursions), `SpreadBreakDetector` (whitening + CUSUM).
 * Invariants: S⁺, S⁻ ≥ 0; after an alarm the detector stays `broken` until `reset`.
 * Complexity: O(1) per update. Allocation: none per update.
 * Known limitations: the whitening parameters are those of the formation window; if the spread's
 * volatility changes without a break the false-alarm rate changes with it (re-testing on a
 * schedule refits them).
 */
import { bad, positive } from './input.js';

/** Page's two-sided CUSUM on a standardized series. */
export class PageCusum {
  sPos = 0;
  sNeg = 0;
  constructor(readonly k = 0.5, readonly h = 5) {
    if (typeof k !== 'number' || !(k >= 0) || !Number.isFinite(k)) bad(`CUSUM k must be a finite number ≥ 0, got ${String(k)}`);
    positive('CUSUM h', h);
  }
  /** Adds one standardized value; returns +1 (upward shift), −1 (downward) or 0. */
  update(z: number): number {
    this.sPos = Math.max(0, this.sPos + z - this.k);
    this.sNeg = Math.max(0, this.sNeg - z - this.k);
    if (this.sPos > this.h) return 1;
    if (this.sNeg > this.h) return -1;
    return 0;
  }
  reset(): void { this.sPos = 0; this.sNeg = 0; }
}

/** The spread's AR(1) from the formation window: s_t = c + φ s_{t−1} + σ·e_t. */
export interface SpreadDynamics { c: number; phi: number; sigma: number }

/** Whitened CUSUM on a spread; `broken` latches at the first alarm. */
export class SpreadBreakDetector {
  readonly cusum: PageCusum;
  private dyn: SpreadDynamics | null = null;
  private prev = Number.NaN;
  broken = false;
  /** Direction of the alarm (+1 / −1), 0 before one. */
  direction = 0;
  /** Updates since the last reset. */
  count = 0;

  constructor(k = 0.5, h = 5) { this.cusum = new PageCusum(k, h); }

  /** Starts monitoring with new formation dynamics (null: stop monitoring). */
  reset(dyn: SpreadDynamics | null): void {
    if (dyn !== null && (!Number.isFinite(dyn.c) || !Number.isFinite(dyn.phi) || !(dyn.sigma > 0) || !Number.isFinite(dyn.sigma))) {
      bad(`break detector dynamics must be finite with sigma > 0, got c=${dyn.c} phi=${dyn.phi} sigma=${dyn.sigma}`);
    }
    this.dyn = dyn;
    this.prev = Number.NaN;
    this.broken = false;
    this.direction = 0;
    this.count = 0;
    this.cusum.reset();
  }

  /** Feeds one spread value; returns true on the update that raises the alarm. */
  update(s: number): boolean {
    const d = this.dyn;
    if (d === null || this.broken) { this.prev = s; return false; }
    const p = this.prev;
    this.prev = s;
    if (p !== p) return false; // first value after a reset: no innovation yet
    this.count++;
    const e = (s - d.c - d.phi * p) / d.sigma;
    const a = this.cusum.update(e);
    if (a !== 0) { this.broken = true; this.direction = a; return true; }
    return false;
  }
}
