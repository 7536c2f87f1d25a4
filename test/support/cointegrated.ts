/**
 * Seeded series for the stat-arb tests: standard normals (Box–Muller over the project's mulberry32),
 * AR(1) series, and cointegrated pairs y = α + β·x + s with x a random walk and s an AR(1)
 * (Ornstein–Uhlenbeck sampled) spread.
 */
import { prng } from '../../src/workload/prng.js';

export function normals(seed: number): () => number {
  const u = prng(seed);
  let spare = Number.NaN;
  return () => {
    if (spare === spare) { const s = spare; spare = Number.NaN; return s; }
    let a = u();
    while (a <= 0) a = u();
    const b = u();
    const r = Math.sqrt(-2 * Math.log(a));
    spare = r * Math.sin(2 * Math.PI * b);
    return r * Math.cos(2 * Math.PI * b);
  };
}

/** s_t = c + φ s_{t−1} + σ e_t, started at its mean. */
export function ar1(seed: number, n: number, phi: number, sigma = 1, c = 0): Float64Array {
  const z = normals(seed);
  const out = new Float64Array(n);
  let s = phi === 1 ? 0 : c / (1 - phi);
  for (let i = 0; i < n; i++) { s = c + phi * s + sigma * z(); out[i] = s; }
  return out;
}

export interface PairSpec { beta: number; alpha: number; phi: number; spreadSigma: number; x0: number; xSigma: number }
export const DEFAULT_PAIR: PairSpec = { beta: 1.5, alpha: 200, phi: 0.9, spreadSigma: 4, x0: 10_000, xSigma: 6 };

/** x a random walk from x0 (steps N(0, xSigma²)), y = alpha + beta·x + an AR(1) spread; both rounded to ticks when `ticks`. */
export function cointegratedPair(seed: number, n: number, spec: Partial<PairSpec> = {}, ticks = false): { x: Float64Array; y: Float64Array; spread: Float64Array } {
  const p = { ...DEFAULT_PAIR, ...spec };
  const z = normals(seed);
  const spread = ar1(seed ^ 0x5bd1e995, n, p.phi, p.spreadSigma);
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  let xv = p.x0;
  for (let i = 0; i < n; i++) {
    xv += p.xSigma * z();
    const yv = p.alpha + p.beta * xv + spread[i]!;
    x[i] = ticks ? Math.round(xv) : xv;
    y[i] = ticks ? Math.round(yv) : yv;
  }
  return { x, y, spread };
}

/** A driftless random walk from x0. */
export function randomWalk(seed: number, n: number, x0 = 10_000, sigma = 6): Float64Array {
  const z = normals(seed);
  const out = new Float64Array(n);
  let v = x0;
  for (let i = 0; i < n; i++) { v += sigma * z(); out[i] = v; }
  return out;
}
