/**
 * Kalman-filter hedge ratio: the state θ = (β, α) of y_t = β_t·x_t + α_t + v_t follows a random
 * walk θ_t = θ_{t−1} + w_t, w ~ N(0, Q), v ~ N(0, R) (the model of Chan, "Algorithmic Trading",
 * 2013, ch. 3, with its noise made independent of the price units).
 *
 * Noise parameters (documented in docs/strategies.md): R, the observation variance (ticks²), is
 * the residual variance of the formation regression unless given. Q = diag(qβ, qα) with
 * qα = δ/(1 − δ)·R and qβ = δ/(1 − δ)·R / x̄², x̄ the formation mean of x: each state component's
 * drift moves the fitted price by δ/(1 − δ)·R per update, so δ alone (dimensionless, default 1e-4)
 * sets how fast the hedge adapts — the steady-state gain depends only on Q/R; the effective
 * memory is about 1/√δ updates. Chan's δ/(1 − δ)·I is the special case x̄ = 1, R = 1.
 * Recursion per update (H = [x, 1]): P ← P + Q; e = y − Hθ (the prior forecast error: the
 * spread); S = H P Hᵀ + R; K = P Hᵀ / S; θ ← θ + K e; P ← P − K H P (the 2×2 P kept as three
 * numbers: the update is symmetric by construction since K ∝ P Hᵀ).
 * Layout: fields only. Invariants: P symmetric positive definite while R > 0.
 * Complexity: O(1) per update (about 30 flops). Allocation: none per update.
 * Known limitations: R and Q are fixed between re-tests; no outlier rejection.
 */
import { bad, positive } from './input.js';

export interface KalmanHedgeOptions {
  /** State drift rate, dimensionless, in (0, 1). */
  delta: number;
  /** Observation noise variance R (ticks²). */
  obsVar: number;
  /** Scale of x (its formation mean, ticks): qβ = δ/(1−δ)·R/xScale². */
  xScale: number;
  /** Initial state and its variances (default: the formation OLS fit, and P0 = diag(1e-2·β0² + 1e-6, R)). */
  beta0: number;
  alpha0: number;
  p0Beta?: number;
  p0Alpha?: number;
}

export class KalmanHedge {
  beta: number;
  alpha: number;
  /** State covariance [[pbb, pba], [pba, paa]]. */
  pbb: number;
  pba = 0;
  paa: number;
  private readonly qb: number;
  private readonly qa: number;
  readonly r: number;
  /** Last prior forecast error and its variance. */
  e = Number.NaN;
  s = Number.NaN;
  updates = 0;

  constructor(o: KalmanHedgeOptions) {
    if (typeof o.delta !== 'number' || !(o.delta > 0 && o.delta < 1)) bad(`Kalman delta must be in (0, 1), got ${String(o.delta)}`);
    positive('Kalman observation variance', o.obsVar);
    positive('Kalman x scale', Math.abs(o.xScale));
    if (!Number.isFinite(o.beta0) || !Number.isFinite(o.alpha0)) bad(`Kalman initial state must be finite, got beta0=${o.beta0} alpha0=${o.alpha0}`);
    const ratio = o.delta / (1 - o.delta);
    this.r = o.obsVar;
    this.qa = ratio * o.obsVar;
    this.qb = (ratio * o.obsVar) / (o.xScale * o.xScale);
    this.beta = o.beta0;
    this.alpha = o.alpha0;
    this.pbb = o.p0Beta ?? 1e-2 * o.beta0 * o.beta0 + 1e-6;
    this.paa = o.p0Alpha ?? o.obsVar;
    positive('Kalman p0Beta', this.pbb);
    positive('Kalman p0Alpha', this.paa);
  }

  /** One observation; returns the prior forecast error e = y − (βx + α) (the spread before the update). */
  update(x: number, y: number): number {
    const pbb = this.pbb + this.qb;
    const pba = this.pba;
    const paa = this.paa + this.qa;
    const e = y - (this.beta * x + this.alpha);
    // P Hᵀ = (pbb·x + pba, pba·x + paa)
    const hb = pbb * x + pba;
    const ha = pba * x + paa;
    const s = x * hb + ha + this.r;
    const kb = hb / s;
    const ka = ha / s;
    this.beta += kb * e;
    this.alpha += ka * e;
    // P − K (H P) with H P = (hb, ha)ᵀ: symmetric since K = (hb, ha)/s
    this.pbb = pbb - kb * hb;
    this.pba = pba - kb * ha;
    this.paa = paa - ka * ha;
    this.e = e;
    this.s = s;
    this.updates++;
    return e;
  }
}
