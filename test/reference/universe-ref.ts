/**
 * Plain TypeScript reference for the universe statistics (src/stats/universe.ts): every pair's
 * Pearson ρ from textbook two-pass sums, Σ(x−x̄)(y−ȳ)/√(Σ(x−x̄)²·Σ(y−ȳ)²), sorted by |ρ| desc, then
 * i, then j, and the full matrix. Obviously correct and slow (O(k²·n), no blocking); src/ never
 * imports this file. A constant series (all values equal) has ρ = NaN and is left out of the pairs.
 */
export interface RefPair { i: number; j: number; rho: number }

function centred(x: ArrayLike<number>): { c: Float64Array; ss: number; constant: boolean } {
  let m = 0;
  for (let t = 0; t < x.length; t++) m += x[t]!;
  m /= x.length;
  const c = new Float64Array(x.length);
  let ss = 0;
  let constant = true;
  for (let t = 0; t < x.length; t++) { c[t] = x[t]! - m; ss += c[t]! * c[t]!; if (x[t] !== x[0]) constant = false; }
  return { c, ss, constant };
}

/** The k×k correlation matrix (row-major); NaN rows/columns for constant series, 1 on the diagonal otherwise. */
export function refCorrMatrix(series: readonly ArrayLike<number>[]): Float64Array {
  const k = series.length;
  const cs = series.map(centred);
  const out = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let v: number;
      if (cs[i]!.constant || cs[j]!.constant) v = Number.NaN;
      else if (i === j) v = 1;
      else {
        let s = 0;
        const a = cs[i]!.c, b = cs[j]!.c;
        for (let t = 0; t < a.length; t++) s += a[t]! * b[t]!;
        v = Math.max(-1, Math.min(1, s / Math.sqrt(cs[i]!.ss * cs[j]!.ss)));
      }
      out[i * k + j] = v;
      out[j * k + i] = v;
    }
  }
  return out;
}

/** Every pair i < j with ρ defined, ordered |ρ| desc, i asc, j asc; the first topN. */
export function refTopPairs(series: readonly ArrayLike<number>[], topN: number): RefPair[] {
  const k = series.length;
  const m = refCorrMatrix(series);
  const all: RefPair[] = [];
  for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) if (!Number.isNaN(m[i * k + j]!)) all.push({ i, j, rho: m[i * k + j]! });
  all.sort((a, b) => Math.abs(b.rho) - Math.abs(a.rho) || a.i - b.i || a.j - b.j);
  return all.slice(0, topN);
}
