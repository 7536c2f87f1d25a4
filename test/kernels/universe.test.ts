/**
 * Universe statistics (src/stats/universe.ts) on every backend this machine can run: the WASM
 * SIMD kernel and its scalar twin, the addon's C++ baseline, against the TypeScript reference
 * (test/reference/universe-ref.ts) and each other on seeded universes; property tests of the
 * top-N selection (exact order with ties, N above the pair count, N = 0); constant series (ρ
 * undefined: NaN rows, never selected) and refused non-finite input; FP32 error; the batched
 * Engle–Granger screen against the existing `coint` (adf.ts); the GPU path's "unavailable" error.
 * The CUDA path itself is compared in test/kernels/gpu.test.ts (runs only with a device).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { correlationTopPairs, engleGrangerScreen, type CorrelatedPair } from '../../src/stats/universe.js';
import { coint, ols } from '../../src/stats/index.js';
import { gpuStatus, nativeBaselineAvailable } from '../../src/sys/gpu.js';
import { refCorrMatrix, refTopPairs } from '../reference/universe-ref.js';
import { ar1, cointegratedPair, normals, randomWalk } from '../support/cointegrated.js';
import { ScreenRound, screenPairs } from '../../src/strategies/stat-arb/screen.js';
import { TradsysError } from '../../src/domain/errors.js';

const HAVE_C = nativeBaselineAvailable();
const itC = it.skipIf(!HAVE_C);

/** k series of n values: a few common factors plus noise, so |ρ| spans 0…0.95. */
function universe(seed: number, k: number, n: number): Float64Array[] {
  const z = normals(seed);
  const f = [0, 1, 2].map(() => Float64Array.from({ length: n }, () => z()));
  return Array.from({ length: k }, (_, j) => {
    const w = [Math.sin(j * 1.3), Math.cos(j * 0.7), (j % 5) / 5];
    return Float64Array.from({ length: n }, (_, t) => 100 + w[0]! * f[0]![t]! + w[1]! * f[1]![t]! + w[2]! * f[2]![t]! + 0.6 * z());
  });
}

function expectPairsNear(got: CorrelatedPair[], want: CorrelatedPair[], rel: number, what: string): void {
  expect(got.map((p) => [p.i, p.j]), `${what}: pair order`).toEqual(want.map((p) => [p.i, p.j]));
  got.forEach((p, q) => {
    const w = want[q]!.rho;
    expect(Math.abs(p.rho - w), `${what}: pair ${q} (${p.i}, ${p.j}) ρ ${p.rho} vs ${w}`).toBeLessThanOrEqual(rel * Math.max(Math.abs(w), 1e-3));
  });
}

describe('correlationTopPairs: backends against the reference', () => {
  const cases: [number, number, number][] = [[11, 37, 250], [12, 64, 101], [13, 9, 7], [14, 2, 2], [15, 50, 1000]];
  it.each(cases)('seed %i: k=%i n=%i — WASM SIMD, WASM scalar and the TS reference agree (1e-12)', (seed, k, n) => {
    const u = universe(seed, k, n);
    const topN = Math.min(40, (k * (k - 1)) / 2);
    const ref = refTopPairs(u, topN);
    const simd = correlationTopPairs(u, { topN, backend: 'wasm' });
    const scalar = correlationTopPairs(u, { topN, backend: 'wasm', scalar: true });
    expect(simd.backend).toBe('wasm');
    expectPairsNear(simd.pairs, ref, 1e-12, 'simd vs ref');
    // the twins keep the same partial sums: bit-identical
    expect(scalar.pairs).toEqual(simd.pairs);
  });

  itC.each(cases)('seed %i: k=%i n=%i — C++ baseline equals WASM (1e-9 relative; bit-identical on x86-64)', (seed, k, n) => {
    const u = universe(seed, k, n);
    const topN = Math.min(40, (k * (k - 1)) / 2);
    const rows = [0, k - 1, Math.floor(k / 2)];
    const w = correlationTopPairs(u, { topN, backend: 'wasm', rows });
    const c = correlationTopPairs(u, { topN, backend: 'c', rows });
    expect(c.backend).toBe('c');
    expectPairsNear(c.pairs, w.pairs, 1e-9, 'c vs wasm');
    const ref = refCorrMatrix(u);
    rows.forEach((r, q) => {
      for (let j = 0; j < k; j++) {
        expect(Math.abs(c.rows[q]![j]! - ref[r * k + j]!), `row ${r} col ${j}`).toBeLessThanOrEqual(1e-12);
        expect(w.rows[q]![j], `wasm row ${r} col ${j}`).toBe(c.rows[q]![j]);
      }
    });
    if (process.arch === 'x64') expect(c.pairs).toEqual(w.pairs);
  });

  it('rows hold exactly the values the pairs had, 1 on the diagonal', () => {
    const u = universe(21, 30, 300);
    const r = correlationTopPairs(u, { topN: 435, rows: Array.from({ length: 30 }, (_, i) => i), backend: 'wasm' });
    expect(r.pairs.length).toBe(435);
    for (const p of r.pairs) { expect(r.rows[p.i]![p.j]).toBe(p.rho); expect(r.rows[p.j]![p.i]).toBe(p.rho); }
    for (let i = 0; i < 30; i++) expect(r.rows[i]![i]).toBe(1);
  });
});

describe('top-N selection properties', () => {
  it('returns the exact prefix of the full ordering (ties by i, then j) for any N, on WASM and C', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 2, max: 24 }), fc.integer({ min: 3, max: 60 }), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 6 }),
      (seed, k, n, topN, dups) => {
        const u = universe(seed, k, n);
        // duplicated and negated series make exact ties of |ρ|
        for (let d = 0; d < Math.min(dups, k - 1); d++) { const src = u[(seed + d) % k]!; u[(seed + 3 * d + 1) % k] = d % 2 ? src.map((v) => -v) : src.slice(); }
        const ref = refTopPairs(u, topN);
        const w = correlationTopPairs(u, { topN, backend: 'wasm' });
        expect(w.pairs.length).toBe(Math.min(topN, ref.length));
        // order: |ρ| non-increasing, ties by (i, j); the same set as the reference up to rounding ties
        for (let q = 1; q < w.pairs.length; q++) {
          const a = w.pairs[q - 1]!, b = w.pairs[q]!;
          expect(Math.abs(a.rho) > Math.abs(b.rho) || (Math.abs(a.rho) === Math.abs(b.rho) && (a.i < b.i || (a.i === b.i && a.j < b.j)))).toBe(true);
        }
        w.pairs.forEach((p, q) => expect(Math.abs(Math.abs(p.rho) - Math.abs(ref[q]!.rho))).toBeLessThanOrEqual(1e-12));
        if (HAVE_C) expect(correlationTopPairs(u, { topN, backend: 'c' }).pairs).toEqual(w.pairs);
      },
    ), { seed: 19, numRuns: 60 });
  });

  it('a huge topN returns every pair without sizing buffers by it', () => {
    const u = universe(17, 6, 40);
    for (const backend of HAVE_C ? ['wasm', 'c'] as const : ['wasm'] as const) {
      const r = correlationTopPairs(u, { topN: 100_000_000, backend });
      expect(r.pairs.length).toBe(15);
      expect(r.pairs).toEqual(correlationTopPairs(u, { topN: 15, backend }).pairs);
    }
  });

  it('exact ties: copies of a series give bit-identical ρ, ordered by (i, j)', () => {
    const base = randomWalk(5, 200);
    const other = randomWalk(6, 200);
    const u = [base, other, base.slice(), other.slice(), base.slice()];
    for (const backend of HAVE_C ? ['wasm', 'c'] as const : ['wasm'] as const) {
      const r = correlationTopPairs(u, { topN: 10, backend });
      // self-pairs: ρ = Σz² = 1 to rounding; the three copies of base tie exactly
      const self = r.pairs.slice(0, 4);
      expect(self.map((p) => [p.i, p.j]).sort(), backend).toEqual([[0, 2], [0, 4], [1, 3], [2, 4]]);
      self.forEach((p) => expect(Math.abs(p.rho - 1)).toBeLessThan(1e-14));
      const baseTies = self.filter((p) => p.i % 2 === 0);
      expect(new Set(baseTies.map((p) => p.rho)).size).toBe(1);
      expect(baseTies.map((p) => [p.i, p.j])).toEqual([[0, 2], [0, 4], [2, 4]]);
      // the cross pairs: 6 exactly equal |ρ| in (i, j) order
      const cross = r.pairs.slice(4);
      expect(cross.map((p) => [p.i, p.j])).toEqual([[0, 1], [0, 3], [1, 2], [1, 4], [2, 3], [3, 4]]);
      expect(new Set(cross.map((p) => p.rho)).size).toBe(1);
    }
  });
});

describe('constant series and bad input', () => {
  it('a constant series has no correlation: NaN in rows, never selected, listed as constant', () => {
    const u = universe(31, 8, 120);
    u[3] = new Float64Array(120).fill(42.5);
    u[6] = new Float64Array(120).fill(0.1); // its mean is not exactly 0.1 in floating point: still constant
    for (const backend of HAVE_C ? ['wasm', 'c'] as const : ['wasm'] as const) {
      const r = correlationTopPairs(u, { topN: 100, rows: [3, 0], backend });
      expect(r.constant).toEqual([3, 6]);
      expect(r.pairs.length).toBe((6 * 5) / 2);
      expect(r.pairs.some((p) => p.i === 3 || p.j === 3 || p.i === 6 || p.j === 6)).toBe(false);
      expect(Array.from(r.rows[0]!).every(Number.isNaN)).toBe(true);
      expect(r.rows[1]![3]).toBeNaN();
      expect(r.rows[1]![0]).toBe(1);
    }
  });

  it('nearly constant but not constant series are correlated normally (scale invariance)', () => {
    const a = randomWalk(8, 300);
    const b = a.map((v, t) => 1e9 + v * 1e-6 + (t % 7) * 1e-8);
    const r = correlationTopPairs([a, b], { topN: 1, backend: 'wasm' });
    // the reference on b − 1e9 (exact: same data, ρ is shift invariant) is not hurt by the level
    const ref = refTopPairs([a, b.map((v) => v - 1e9)], 1);
    expect(Math.abs(r.pairs[0]!.rho - ref[0]!.rho)).toBeLessThan(1e-9);
    if (HAVE_C) expect(Math.abs(correlationTopPairs([a, b], { topN: 1, backend: 'c' }).pairs[0]!.rho - ref[0]!.rho)).toBeLessThan(1e-9);
  });

  it('refuses non-finite values, ragged series, bad options; names the culprit', () => {
    const u = universe(41, 4, 10);
    u[2]![5] = Number.NaN;
    expect(() => correlationTopPairs(u)).toThrow(/series 2 value 5 \(NaN\) is not finite/);
    u[2]![5] = Number.POSITIVE_INFINITY;
    expect(() => correlationTopPairs(u)).toThrow(RangeError);
    const v = universe(42, 4, 10);
    expect(() => correlationTopPairs([v[0]!, v[1]!.subarray(0, 9)])).toThrow(/series 1 has 9 values/);
    expect(() => correlationTopPairs([v[0]!])).toThrow(/at least 2 series/);
    expect(() => correlationTopPairs(v, { topN: -1 })).toThrow(/topN/);
    expect(() => correlationTopPairs(v, { topN: 1.5 })).toThrow(/topN/);
    expect(() => correlationTopPairs(v, { mode: 'tf32' as never })).toThrow(/mode/);
    expect(() => correlationTopPairs(v, { backend: 'cuda' as never })).toThrow(/backend/);
    expect(() => correlationTopPairs(v, { rows: [4] })).toThrow(/row 4/);
  });

  it("backend 'gpu' without a device is a clear ERR_GPU_UNAVAILABLE, 'auto' falls back to WASM", () => {
    const st = gpuStatus();
    if (st.available) return; // a GPU machine: covered by gpu.test.ts
    const u = universe(43, 5, 50);
    let err: unknown;
    try { correlationTopPairs(u, { backend: 'gpu' }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(TradsysError);
    expect((err as TradsysError).code).toBe('ERR_GPU_UNAVAILABLE');
    expect((err as Error).message).toContain(st.reason);
    expect(correlationTopPairs(u).backend).toBe('wasm');
    expect(() => engleGrangerScreen(u, [[0, 1]], { backend: 'gpu' })).toThrow(TradsysError);
    expect(engleGrangerScreen(u, [[0, 1]]).backend).toBe('wasm');
  });
});

describe('FP32 mode', () => {
  it('stays within the documented bound of FP64 (|Δρ| ≤ 2e-6 at n = 2,500) on every backend here', () => {
    const u = universe(51, 40, 2500);
    const f64 = correlationTopPairs(u, { topN: 780, backend: 'wasm' });
    const want = new Map(f64.pairs.map((p) => [`${p.i},${p.j}`, p.rho]));
    const backends = HAVE_C ? ['wasm', 'c'] as const : ['wasm'] as const;
    for (const backend of backends) {
      const f32 = correlationTopPairs(u, { topN: 780, backend, mode: 'fp32' });
      expect(f32.mode).toBe('fp32');
      let worst = 0;
      for (const p of f32.pairs) worst = Math.max(worst, Math.abs(p.rho - want.get(`${p.i},${p.j}`)!));
      expect(worst, `${backend} fp32 worst |Δρ|`).toBeLessThanOrEqual(2e-6);
    }
    if (HAVE_C) expect(correlationTopPairs(u, { topN: 50, backend: 'c', mode: 'fp32' }).pairs).toEqual(correlationTopPairs(u, { topN: 50, backend: 'wasm', mode: 'fp32' }).pairs);
  });
});

describe('engleGrangerScreen against coint (adf.ts)', () => {
  function pairsUniverse(seed: number, n: number): { series: Float64Array[]; pairs: [number, number][] } {
    const series: Float64Array[] = [];
    for (let q = 0; q < 4; q++) { const p = cointegratedPair(seed + q, n, { phi: 0.5 + 0.12 * q }); series.push(p.y, p.x); }
    series.push(randomWalk(seed + 9, n), randomWalk(seed + 10, n, 50, 2));
    const pairs: [number, number][] = [];
    for (let i = 0; i < series.length; i++) for (let j = 0; j < series.length; j++) if (i !== j && (i + j) % 2 === 1) pairs.push([i, j]);
    return { series, pairs };
  }

  it.each([[61, 500], [62, 2500], [63, 120]])('seed %i n=%i: the WASM path is coint itself (equal statistics and p-values)', (seed, n) => {
    const { series, pairs } = pairsUniverse(seed, n);
    const r = engleGrangerScreen(series, pairs, { backend: 'wasm' });
    r.results.forEach((e) => {
      const c = coint(series[e.y]!, series[e.x]!);
      expect(e.stat).toBe(c.stat);
      expect(e.pvalue).toBe(c.pvalue);
      const o = ols(series[e.y]!, series[e.x]!);
      expect(e.beta).toBe(o.beta);
      expect(e.alpha).toBe(o.alpha);
      expect(e.status).toBe('ok');
    });
  });

  itC.each([[61, 500], [62, 2500], [63, 120], [64, 60]])('seed %i n=%i: the C++ baseline (the GPU kernel\'s decision code) matches coint to 1e-9', (seed, n) => {
    const { series, pairs } = pairsUniverse(seed, n);
    const c = engleGrangerScreen(series, pairs, { backend: 'c' });
    const w = engleGrangerScreen(series, pairs, { backend: 'wasm' });
    expect(c.backend).toBe('c');
    c.results.forEach((e, q) => {
      const v = w.results[q]!;
      expect(e.status).toBe(v.status);
      expect(e.usedlag, `pair ${e.y},${e.x} lag`).toBe(v.usedlag);
      expect(Math.abs(e.stat - v.stat)).toBeLessThanOrEqual(1e-9 * Math.abs(v.stat));
      expect(Math.abs(e.pvalue - v.pvalue)).toBeLessThanOrEqual(1e-9 * Math.max(v.pvalue, 1e-6));
      expect(Math.abs(e.beta - v.beta)).toBeLessThanOrEqual(1e-12 * Math.abs(v.beta));
      expect(Math.abs(e.alpha - v.alpha)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(v.alpha)));
    });
  });

  itC('fixed lags (autolag null) and explicit maxlag agree with coint too', () => {
    const { series, pairs } = pairsUniverse(71, 400);
    for (const opts of [{ autolag: null, maxlag: 0 }, { autolag: null, maxlag: 3 }, { autolag: 'aic', maxlag: 5 }] as const) {
      const c = engleGrangerScreen(series, pairs, { ...opts, backend: 'c' });
      c.results.forEach((e) => {
        const want = coint(series[e.y]!, series[e.x]!, { trend: 'c', autolag: opts.autolag, maxlag: opts.maxlag });
        expect(Math.abs(e.stat - want.stat), JSON.stringify(opts)).toBeLessThanOrEqual(1e-9 * Math.abs(want.stat));
        if (opts.autolag === null) expect(e.usedlag).toBe(opts.maxlag);
      });
    }
  });

  it('edge cases map to statuses on every backend: constant x, collinear pair, constant y', () => {
    const n = 200;
    const x = randomWalk(81, n);
    const flat = new Float64Array(n).fill(7);
    const series = [x, flat, x.map((v) => 3 + 2 * v), randomWalk(82, n)];
    const pairs: [number, number][] = [[0, 1], [2, 0], [1, 0], [3, 0]];
    for (const backend of HAVE_C ? ['wasm', 'c'] as const : ['wasm'] as const) {
      const r = engleGrangerScreen(series, pairs, { backend }).results;
      expect(r[0]!.status, backend).toBe('constant_x');
      expect(r[0]!.beta).toBeNaN();
      expect(r[1]!.status, backend).toBe('collinear');
      expect(r[1]!.stat).toBe(Number.NEGATIVE_INFINITY);
      expect(r[1]!.pvalue).toBe(0);
      expect(r[1]!.beta).toBeCloseTo(2, 12);
      // constant y: rsquared is 0/0 → coint reports −∞ (statsmodels does the same)
      expect(r[2]!.stat, backend).toBe(coint(flat, x).stat);
      expect(r[3]!.status).toBe('ok');
      // coint throws where the screen says constant_x
      expect(() => coint(x, flat)).toThrow(RangeError);
    }
  });

  it('refuses bad pairs and lags', () => {
    const s = [randomWalk(1, 50), randomWalk(2, 50)];
    expect(() => engleGrangerScreen(s, [[0, 0]])).toThrow(/two different series/);
    expect(() => engleGrangerScreen(s, [[0, 2]])).toThrow(/two different series/);
    expect(() => engleGrangerScreen(s, [[0, 1]], { maxlag: 25 })).toThrow(/maxlag/);
    expect(() => engleGrangerScreen(s, [[0, 1]], { autolag: null })).toThrow(/needs maxlag/);
    expect(engleGrangerScreen(s, []).results).toEqual([]);
  });
});

describe('the pairs strategy screen on the batched (GPU-code) path', () => {
  // as test/unit/strategies-stat-arb.test.ts: A–B and A–C cointegrated, D and E independent walks
  const n = 600;
  const ab = cointegratedPair(31, n, { beta: 1.5, alpha: 200, phi: 0.85 });
  const s = ar1(32, n, 0.9, 5);
  const c = ab.x.map((v, i) => 3000 + 0.5 * v + s[i]!);
  const universe = [ab.x, ab.y, c, randomWalk(33, n), randomWalk(34, n, 8000), new Float64Array(n).fill(5)];

  it("uses WASM when no GPU is present ('auto'), as before", () => {
    const r = new ScreenRound(universe, { maxHalfLife: 100 });
    expect(r.backend).toBe(gpuStatus().available ? 'gpu' : 'wasm');
  });

  itC.each([['aic'], [2]] as const)("backend 'c' (the GPU kernels' decision code) gives the WASM screen's verdicts and p-values (cointLag %s)", (cointLag) => {
    const opts = { maxHalfLife: 100, minHalfLife: 1, cointLag } as const;
    const w = screenPairs(universe, { ...opts, backend: 'wasm' });
    const round = new ScreenRound(universe, { ...opts, backend: 'c' });
    expect(round.backend).toBe('c');
    // stepping still counts one direction of one pair per test
    let steps = 0;
    while (!round.done) { round.step(1); steps++; }
    expect(steps).toBeGreaterThan(1);
    const g = round.results;
    expect(g.map((p) => [p.y, p.x, p.verdict, p.selected, p.tested])).toEqual(w.map((p) => [p.y, p.x, p.verdict, p.selected, p.tested]));
    g.forEach((p, q) => {
      if (Number.isNaN(w[q]!.correlation)) expect(p.correlation).toBeNaN(); // the constant series
      else expect(Math.abs(p.correlation - w[q]!.correlation)).toBeLessThanOrEqual(1e-12);
      expect(Math.abs(p.pValue - w[q]!.pValue)).toBeLessThanOrEqual(1e-9 * Math.max(w[q]!.pValue, 1e-9));
    });
    expect(g.filter((p) => p.selected).length).toBeGreaterThan(0);
  });
});
