/**
 * Plain-JavaScript statistics baselines for bench:ci (bench/ci.bench.ts): a Welford running
 * mean/variance object, a rolling-window pair (sums, no recompute) and a corrected two-pass
 * mean/variance; bench/kernels/stats.bench.ts uses them too (its rolling-window baseline is its own).
 *
 * Invariants: JsWelford.m2 is Σ(x − mean)² (variance = m2 / (n − ddof)); jsMeanVar returns
 * [mean, M2]. Complexity: O(1) per update, O(n) per jsMeanVar. Allocation: the windows at
 * construction only. Known limitations: the rolling pair's sums drift over very long runs (no
 * recompute), as a naive JS implementation would.
 */
import { prng } from '../../src/workload/prng.js';

export class JsWelford {
  n = 0; m = 0; m2 = 0;
  push(x: number): void { this.n++; const d = x - this.m; this.m += d / this.n; this.m2 += d * (x - this.m); }
}

export class JsRollingPair {
  private readonly xs: Float64Array; private readonly ys: Float64Array; private h = 0; n = 0; sx = 0; sy = 0; sxx = 0; sxy = 0;
  constructor(private readonly w: number) { this.xs = new Float64Array(w); this.ys = new Float64Array(w); }
  push(x: number, y: number): void {
    if (this.n === this.w) { const ox = this.xs[this.h]!; const oy = this.ys[this.h]!; this.sx -= ox; this.sy -= oy; this.sxx -= ox * ox; this.sxy -= ox * oy; } else this.n++;
    this.xs[this.h] = x; this.ys[this.h] = y; this.h = (this.h + 1) % this.w;
    this.sx += x; this.sy += y; this.sxx += x * x; this.sxy += x * y;
  }
  get beta(): number { const n = this.n; return (this.sxy - this.sx * this.sy / n) / (this.sxx - this.sx * this.sx / n); }
}

/** [mean, M2] by the corrected two-pass algorithm. */
export function jsMeanVar(x: Float64Array): [number, number] {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  const m = s / x.length;
  let d = 0, dd = 0;
  for (let i = 0; i < x.length; i++) { const t = x[i]! - m; d += t; dd += t * t; }
  return [m + d / x.length, dd - d * d / x.length];
}

/** The seeded random walk around 100 (steps uniform in ±0.5) that bench:stats and bench:ci time the kernels on. */
export function series(seed: number, n: number): Float64Array {
  const r = prng(seed);
  const out = new Float64Array(n);
  let x = 100;
  for (let i = 0; i < n; i++) { x += r() - 0.5; out[i] = x; }
  return out;
}
