/**
 * Plain TypeScript reference for RunningStats (Welford + Chan merge): the oracle of the WASM
 * RunningStats in tests. src/ never imports it.
 *
 * Owns: `RunningStats`, a numerically robust (Welford) running mean/variance with merge.
 * This is the plain TypeScript version; the WASM SIMD kernels (rolling pairs, OLS, ADF,
 * cointegration, batch registries) are issue 3 and will keep this API.
 *
 * Invariants: `null` where a quantity is undefined (the sample variance of one value, a z-score
 * with zero variance), as in pandas/statsmodels. Complexity: O(1) per push, O(n) for pushMany.
 * Allocation: none per push. Known limitations: not windowed (see RollingStats in issue 3).
 */
export class RunningStats {
  private n = 0;
  private mu = 0;
  private m2 = 0;

  push(x: number): void {
    if (!Number.isFinite(x)) throw new RangeError(`RunningStats.push: ${x} is not a finite number`);
    this.n++;
    const d = x - this.mu;
    this.mu += d / this.n;
    this.m2 += d * (x - this.mu);
  }

  pushMany(xs: Float64Array | readonly number[]): void {
    for (let i = 0; i < xs.length; i++) this.push(xs[i]!);
  }

  get count(): number { return this.n; }
  get mean(): number { return this.n === 0 ? Number.NaN : this.mu; }

  variance(ddof: 0 | 1 = 1): number | null {
    if (this.n - ddof <= 0) return null;
    return Math.max(0, this.m2) / (this.n - ddof);
  }

  std(ddof: 0 | 1 = 1): number | null {
    const v = this.variance(ddof);
    return v === null ? null : Math.sqrt(v);
  }

  zscore(x: number, ddof: 0 | 1 = 1): number | null {
    const s = this.std(ddof);
    return s === null || s === 0 ? null : (x - this.mu) / s;
  }

  /** Chan et al.'s parallel combination: the result equals pushing both streams into one. */
  merge(other: RunningStats): void {
    if (other.n === 0) return;
    if (this.n === 0) { this.n = other.n; this.mu = other.mu; this.m2 = other.m2; return; }
    const n = this.n + other.n;
    const d = other.mu - this.mu;
    this.mu += (d * other.n) / n;
    this.m2 += other.m2 + (d * d * this.n * other.n) / n;
    this.n = n;
  }

  reset(): void { this.n = 0; this.mu = 0; this.m2 = 0; }
}
