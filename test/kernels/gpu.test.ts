/**
 * The CUDA path of the universe statistics (native/cuda/ through src/sys/gpu.ts), run only where
 * a CUDA device is present (skipped with the reason otherwise — the reason is in the suite's
 * name). Compares the device's results with the WASM SIMD fallback and the C++ baseline: the
 * same top pairs in the same order, 1e-9 relative in FP64, the documented bound in FP32; full
 * rows; constant series; ties; the batched Engle–Granger screen against coint; the pairs screen.
 * Standalone: `npx vitest run test/kernels/gpu.test.ts` (bench/gpu-device-check.sh runs it).
 */
import { describe, expect, it } from 'vitest';
import { correlationTopPairs, engleGrangerScreen, type CorrelatedPair } from '../../src/stats/universe.js';
import { coint } from '../../src/stats/index.js';
import { gpuStatus, nativeBaselineAvailable } from '../../src/sys/gpu.js';
import { screenPairs } from '../../src/strategies/stat-arb/screen.js';
import { TradsysError } from '../../src/domain/errors.js';
import { ar1, cointegratedPair, normals, randomWalk } from '../support/cointegrated.js';

const st = gpuStatus();
const HAVE_C = nativeBaselineAvailable();
const title = st.available
  ? `CUDA path on ${st.devices[0]!.name} (compute capability ${st.devices[0]!.computeCapability})`
  : `CUDA path (skipped: ${st.reason})`;

function universe(seed: number, k: number, n: number): Float64Array[] {
  const z = normals(seed);
  const f = [0, 1, 2, 3].map(() => Float64Array.from({ length: n }, () => z()));
  return Array.from({ length: k }, (_, j) => {
    const w = [Math.sin(j * 1.3), Math.cos(j * 0.7), (j % 5) / 5, ((j * 7) % 11) / 11];
    return Float64Array.from({ length: n }, (_, t) => 50 + w[0]! * f[0]![t]! + w[1]! * f[1]![t]! + w[2]! * f[2]![t]! + w[3]! * f[3]![t]! + 0.7 * z());
  });
}

function samePairs(got: CorrelatedPair[], want: CorrelatedPair[], rel: number, what: string): void {
  expect(got.length, what).toBe(want.length);
  // position by position the same |ρ| to the tolerance (so only near-ties can swap places) …
  got.forEach((p, q) => {
    const w = want[q]!;
    expect(Math.abs(Math.abs(p.rho) - Math.abs(w.rho)), `${what} #${q}`).toBeLessThanOrEqual(rel * Math.abs(w.rho));
  });
  // … the same pairs with the same ρ, but for near-ties at the cut
  const key = (p: CorrelatedPair): string => `${p.i},${p.j}`;
  const wantRho = new Map(want.map((p) => [key(p), p.rho]));
  const cut = want.length ? Math.abs(want[want.length - 1]!.rho) : 0;
  for (const p of got) {
    const w = wantRho.get(key(p));
    if (w === undefined) expect(Math.abs(Math.abs(p.rho) - cut), `${what}: (${key(p)}) selected but not a near-tie at the cut`).toBeLessThanOrEqual(rel * cut);
    else expect(Math.abs(p.rho - w), `${what} (${key(p)})`).toBeLessThanOrEqual(rel * Math.abs(w));
  }
}

describe.skipIf(!st.available)(title, () => {
  it.each([[1, 300, 500], [2, 65, 63], [3, 1000, 2500], [4, 129, 17]])('seed %i k=%i n=%i: FP64 top pairs and rows equal WASM SIMD (1e-9 relative)', (seed, k, n) => {
    const u = universe(seed, k, n);
    const rows = [0, k - 1, Math.floor(k / 3)];
    const g = correlationTopPairs(u, { topN: 200, backend: 'gpu', rows });
    const w = correlationTopPairs(u, { topN: 200, backend: 'wasm', rows });
    expect(g.backend).toBe('gpu');
    samePairs(g.pairs, w.pairs, 1e-9, 'gpu vs wasm');
    rows.forEach((_, q) => {
      for (let j = 0; j < k; j++) expect(Math.abs(g.rows[q]![j]! - w.rows[q]![j]!), `row ${rows[q]} col ${j}`).toBeLessThanOrEqual(1e-12);
    });
  });

  it('FP32: within 2e-6 of FP64 at n = 2,500 (the documented bound); the selection is the FP32 one', () => {
    const u = universe(5, 500, 2500);
    const g32 = correlationTopPairs(u, { topN: 300, backend: 'gpu', mode: 'fp32' });
    const w64 = correlationTopPairs(u, { topN: 124_750, backend: 'wasm' });
    const want = new Map(w64.pairs.map((p) => [`${p.i},${p.j}`, p.rho]));
    let worst = 0;
    for (const p of g32.pairs) worst = Math.max(worst, Math.abs(p.rho - want.get(`${p.i},${p.j}`)!));
    expect(worst).toBeLessThanOrEqual(2e-6);
    process.stdout.write(`gpu fp32 worst |Δρ| vs fp64 over the top 300: ${worst.toExponential(2)}\n`);
  });

  it('constant series, duplicated series (exact ties), N above the pair count, N = 0', () => {
    const u = universe(6, 70, 300);
    u[5] = new Float64Array(300).fill(3.3);
    u[9] = u[2]!.slice(); u[11] = u[2]!.map((v) => -v); u[40] = u[2]!.slice();
    const g = correlationTopPairs(u, { topN: 10_000, backend: 'gpu', rows: [5, 2] });
    const w = correlationTopPairs(u, { topN: 10_000, backend: 'wasm', rows: [5, 2] });
    expect(g.pairs.length).toBe((69 * 68) / 2);
    expect(g.pairs.some((p) => p.i === 5 || p.j === 5)).toBe(false);
    expect(Array.from(g.rows[0]!).every(Number.isNaN)).toBe(true);
    samePairs(g.pairs.slice(0, 500), w.pairs.slice(0, 500), 1e-9, 'ties');
    expect(g.pairs.slice(0, 6).map((p) => [p.i, p.j]).sort()).toEqual(w.pairs.slice(0, 6).map((p) => [p.i, p.j]).sort());
    expect(correlationTopPairs(u, { topN: 0, backend: 'gpu' }).pairs).toEqual([]);
  });

  it.runIf(HAVE_C)('k = 4,000 × n = 2,500: the top 1,000 equal the C++ baseline', () => {
    const u = universe(7, 4000, 2500);
    const g = correlationTopPairs(u, { topN: 1000, backend: 'gpu' });
    const c = correlationTopPairs(u, { topN: 1000, backend: 'c' });
    samePairs(g.pairs, c.pairs, 1e-9, 'gpu vs c');
    process.stdout.write(`gpu k=4000 n=2500 fp64: ${g.ms.toFixed(1)} ms, c: ${c.ms.toFixed(0)} ms\n`);
  }, 300_000);

  it('Engle–Granger screen: statistics, p-values, lags and hedges equal coint (1e-9)', () => {
    const series: Float64Array[] = [];
    for (let q = 0; q < 6; q++) { const p = cointegratedPair(100 + q, 2500, { phi: 0.4 + 0.1 * q }); series.push(p.y, p.x); }
    series.push(randomWalk(120, 2500), randomWalk(121, 2500, 30, 1), new Float64Array(2500).fill(1));
    const pairs: [number, number][] = [];
    for (let i = 0; i < series.length; i++) for (let j = 0; j < series.length; j++) if (i !== j) pairs.push([i, j]);
    for (const opts of [{}, { autolag: null, maxlag: 4 }] as const) {
      const g = engleGrangerScreen(series, pairs, { ...opts, backend: 'gpu' });
      const w = engleGrangerScreen(series, pairs, { ...opts, backend: 'wasm' });
      expect(g.backend).toBe('gpu');
      g.results.forEach((e, q) => {
        const v = w.results[q]!;
        expect(e.status, `${e.y},${e.x}`).toBe(v.status);
        if (v.status !== 'ok') return;
        expect(e.usedlag).toBe(v.usedlag);
        expect(Math.abs(e.stat - v.stat)).toBeLessThanOrEqual(1e-9 * Math.abs(v.stat));
        expect(Math.abs(e.pvalue - v.pvalue)).toBeLessThanOrEqual(1e-9 * Math.max(v.pvalue, 1e-6));
        expect(Math.abs(e.beta - v.beta)).toBeLessThanOrEqual(1e-12 * Math.abs(v.beta));
        if (q < 20) expect(Math.abs(e.stat - coint(series[e.y]!, series[e.x]!, opts).stat)).toBeLessThanOrEqual(1e-9 * Math.abs(v.stat));
      });
    }
    expect(() => engleGrangerScreen(series, [[0, 1]], { backend: 'gpu', autolag: null, maxlag: 65 })).toThrow(TradsysError);
  });

  it('the pairs screen on the GPU gives the WASM verdicts', () => {
    const n = 600;
    const ab = cointegratedPair(31, n, { beta: 1.5, alpha: 200, phi: 0.85 });
    const s = ar1(32, n, 0.9, 5);
    const universe6 = [ab.x, ab.y, ab.x.map((v, i) => 3000 + 0.5 * v + s[i]!), randomWalk(33, n), randomWalk(34, n, 8000)];
    const g = screenPairs(universe6, { maxHalfLife: 100, backend: 'gpu' });
    const w = screenPairs(universe6, { maxHalfLife: 100, backend: 'wasm' });
    expect(g.map((p) => [p.verdict, p.selected])).toEqual(w.map((p) => [p.verdict, p.selected]));
    g.forEach((p, q) => expect(Math.abs(p.pValue - w[q]!.pValue)).toBeLessThanOrEqual(1e-9 * Math.max(w[q]!.pValue, 1e-9)));
  });
});

describe('CUDA path status', () => {
  it('says why it is skipped, or which device runs it', () => {
    if (st.available) expect(st.devices.length).toBeGreaterThan(0);
    else expect(st.reason.length).toBeGreaterThan(0);
    process.stdout.write(`${title}\n`);
  });
});
