/**
 * Stat-arb building blocks (src/strategies/stat-arb/) against simple references and published
 * values: Benjamini–Hochberg / –Yekutieli on the 1995 paper's example and against a brute-force
 * reference (fast-check); AR(1) half-life on simulated series of known φ; Page's CUSUM at its
 * nominal in-control run length and on planted breaks; the Kalman hedge against a full-matrix
 * reference and converging on a pair of known β; screening a seeded universe.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { adjustPValues, fdrReject } from '../../src/strategies/stat-arb/fdr.js';
import { fitAr1, halfLifeOf } from '../../src/strategies/stat-arb/ar1.js';
import { PageCusum, SpreadBreakDetector } from '../../src/strategies/stat-arb/cusum.js';
import { KalmanHedge } from '../../src/strategies/stat-arb/kalman.js';
import { screenPairs, ScreenRound } from '../../src/strategies/stat-arb/screen.js';
import { TradsysError } from '../../src/domain/errors.js';
import { KalmanRef } from '../reference/kalman-ref.js';
import { ar1, cointegratedPair, normals, randomWalk } from '../support/cointegrated.js';

const code = (f: () => unknown): string => { try { f(); } catch (e) { return e instanceof TradsysError ? e.code : `not a TradsysError: ${String(e)}`; } return 'no error'; };

describe('false-discovery control', () => {
  // Benjamini & Hochberg (1995), section 4: 15 p-values; at q = 0.05 the step-up rejects 4
  const P = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.324, 0.4262, 0.5719, 0.6528, 0.759, 1.0];
  it('Benjamini–Hochberg on the paper\'s example: 4 rejections, adjusted values as R p.adjust("BH")', () => {
    expect(fdrReject(P, 0.05, 'bh').filter(Boolean).length).toBe(4);
    // by hand: min over j ≥ i of 15·p(j)/j
    const hand = [0.0015, 0.003, 0.0095, 0.035625, 0.0603, 0.0298 * 15 / 7, 0.0298 * 15 / 7, 0.0344 * 15 / 8, 0.0459 * 15 / 9, 0.486, 0.4262 * 15 / 11, 0.5719 * 15 / 12, 0.6528 * 15 / 13, 0.759 * 15 / 14, 1];
    const adj = adjustPValues(P, 'bh');
    hand.forEach((h, i) => expect(adj[i]).toBeCloseTo(h, 12));
    // Bonferroni would reject 3 (p ≤ 0.05/15): BH is less conservative
    expect(P.filter((p) => p <= 0.05 / 15).length).toBe(3);
  });
  it('Benjamini–Yekutieli scales by Σ1/k (3.318 for m = 15): 3 rejections', () => {
    const c = [...Array(15)].reduce((s, _, k) => s + 1 / (k + 1), 0);
    expect(c).toBeCloseTo(3.3182289932, 9);
    expect(fdrReject(P, 0.05, 'by').filter(Boolean).length).toBe(3);
    const bh = adjustPValues(P, 'bh'); const by = adjustPValues(P, 'by');
    P.forEach((_, i) => expect(by[i]).toBeCloseTo(Math.min(1, bh[i]! * c), 12));
  });
  it('equals a brute-force step-up reference, keeps the order, adj ≥ p, input order (fast-check)', () => {
    fc.assert(fc.property(fc.array(fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.01, 0.5, 1)), { minLength: 1, maxLength: 40 }), fc.constantFrom<'bh' | 'by'>('bh', 'by'), (p, method) => {
      const m = p.length;
      const c = method === 'by' ? [...Array(m)].reduce((s, _, k) => s + 1 / (k + 1), 0) : 1;
      const adj = adjustPValues(p, method);
      for (let i = 0; i < m; i++) {
        // min over p_j ≥ p_i of c·m·p_j / rank_j, rank_j = #{k : p_k ≤ p_j}
        let ref = 1;
        for (let j = 0; j < m; j++) if (p[j]! >= p[i]!) ref = Math.min(ref, (c * m * p[j]!) / p.filter((v) => v <= p[j]!).length);
        expect(adj[i]).toBeCloseTo(ref, 12);
        expect(adj[i]).toBeGreaterThanOrEqual(p[i]! - 1e-15);
        for (let j = 0; j < m; j++) if (p[i]! <= p[j]!) expect(adj[i]).toBeLessThanOrEqual(adj[j]! + 1e-15);
      }
      // the step-up rule directly: reject p(1..k*), k* the largest i with p(i) ≤ i·q/(c·m)
      const q = 0.1;
      const sorted = [...p].sort((a, b) => a - b);
      let kStar = 0;
      sorted.forEach((v, i) => { if (v <= ((i + 1) * q) / (c * m)) kStar = i + 1; });
      expect(fdrReject(p, q, method).filter(Boolean).length).toBe(kStar === 0 ? 0 : p.filter((v) => v <= sorted[kStar - 1]!).length);
    }), { seed: 16, numRuns: 200 });
  });
  it('refuses p-values outside [0, 1], a bad q or method', () => {
    expect(code(() => adjustPValues([0.1, Number.NaN]))).toBe('ERR_STRATEGY_INPUT');
    expect(code(() => adjustPValues([1.2]))).toBe('ERR_STRATEGY_INPUT');
    expect(code(() => fdrReject([0.1], 0))).toBe('ERR_STRATEGY_INPUT');
    expect(code(() => adjustPValues([0.1], 'holm' as 'bh'))).toBe('ERR_STRATEGY_INPUT');
    expect(adjustPValues([]).length).toBe(0);
  });
});

describe('AR(1) half-life', () => {
  it('recovers the half-life of simulated AR(1) series of known φ', () => {
    for (const [phi, seed] of [[0.9, 1], [0.97, 2], [0.5, 3]] as const) {
      const s = ar1(seed, 50_000, phi, 2, 1.5);
      const f = fitAr1(s);
      const truth = Math.log(0.5) / Math.log(phi);
      const se = Math.sqrt((1 - phi * phi) / s.length); // asymptotic s.e. of φ̂
      expect(Math.abs(f.phi - phi)).toBeLessThan(4 * se);
      expect(Math.abs(f.halfLife! - truth) / truth).toBeLessThan(0.08);
      expect(f.sigma).toBeCloseTo(2, 1);
      expect(f.mean).toBeCloseTo(1.5 / (1 - phi), 0);
    }
  });
  it('equals the normal equations on a small series; no half-life without reversion', () => {
    const s = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5];
    const xs = s.slice(0, -1); const ys = s.slice(1); const n = xs.length;
    const mx = xs.reduce((a, b) => a + b) / n; const my = ys.reduce((a, b) => a + b) / n;
    let sxy = 0; let sxx = 0;
    for (let i = 0; i < n; i++) { sxy += (xs[i]! - mx) * (ys[i]! - my); sxx += (xs[i]! - mx) ** 2; }
    const f = fitAr1(s);
    expect(f.phi).toBeCloseTo(sxy / sxx, 12);
    expect(f.c).toBeCloseTo(my - (sxy / sxx) * mx, 12);
    expect(halfLifeOf(0.5)).toBeCloseTo(1, 12);
    expect(halfLifeOf(1)).toBeNull();
    expect(halfLifeOf(-0.3)).toBeNull();
    expect(fitAr1(randomWalk(5, 5000).map((v, i) => v + i * 0.5)).halfLife).toBeNull();
    expect(code(() => fitAr1([1, 2, 3]))).toBe('ERR_STRATEGY_INPUT');
    expect(code(() => fitAr1([1, 2, 3, Number.POSITIVE_INFINITY]))).toBe('ERR_STRATEGY_INPUT');
  });
});

describe('Page CUSUM break detection', () => {
  it('in control: the average run length on iid N(0,1) is the nominal ≈ 465 (k = 0.5, h = 5, two-sided)', () => {
    const z = normals(77);
    const c = new PageCusum(0.5, 5);
    const n = 300_000;
    let alarms = 0;
    for (let i = 0; i < n; i++) if (c.update(z()) !== 0) { alarms++; c.reset(); }
    const arl = n / alarms;
    expect(arl).toBeGreaterThan(400);
    expect(arl).toBeLessThan(540);
  });
  it('detects a planted one-σ shift after ≈ 10 samples (median over 200 seeded runs), in the right direction', () => {
    const delays: number[] = [];
    for (let seed = 1; seed <= 200; seed++) {
      const z = normals(seed);
      const c = new PageCusum(0.5, 5);
      for (let i = 0; i < 200; i++) if (c.update(z()) !== 0) c.reset(); // in control (any false alarm restarts)
      let d = 0; let a = 0;
      const dir = seed % 2 === 0 ? 1 : -1;
      while (a === 0 && d < 1000) { a = c.update(z() + dir); d++; }
      expect(a).toBe(dir);
      delays.push(d);
    }
    delays.sort((a, b) => a - b);
    expect(delays[100]).toBeGreaterThanOrEqual(6);
    expect(delays[100]).toBeLessThanOrEqual(14);
  });
  it('on an AR(1) spread: whitened, fires at the nominal rate; a level shift and a loss of cointegration are caught', () => {
    const phi = 0.95; const sigma = 3;
    const d = new SpreadBreakDetector(0.5, 5);
    // stationary: 200k samples of the spread, reset after each alarm
    const s = ar1(11, 200_000, phi, sigma);
    let alarms = 0;
    d.reset({ c: 0, phi, sigma });
    for (let i = 0; i < s.length; i++) if (d.update(s[i]!)) { alarms++; d.reset({ c: 0, phi, sigma }); }
    expect(s.length / alarms).toBeGreaterThan(380);
    expect(s.length / alarms).toBeLessThan(560);
    // the unwhitened spread z-score fires far more often: the reason for whitening
    const raw = new PageCusum(0.5, 5); let rawAlarms = 0; const sd = sigma / Math.sqrt(1 - phi * phi);
    for (let i = 0; i < s.length; i++) if (raw.update(s[i]! / sd) !== 0) { rawAlarms++; raw.reset(); }
    expect(rawAlarms).toBeGreaterThan(5 * alarms);
    // planted breaks after 300 in-control samples, watched with h = 8 (in-control run length ≈ 10⁴,
    // so a false alarm before the break is unlikely; the seeds are fixed either way)
    const w = new SpreadBreakDetector(0.5, 8);
    // a level shift of 3 stationary σ at t = 300
    const shifted = ar1(12, 1000, phi, sigma).map((v, i) => (i >= 300 ? v + 3 * sd : v));
    w.reset({ c: 0, phi, sigma });
    let at = -1;
    for (let i = 0; i < shifted.length && at < 0; i++) if (w.update(shifted[i]!)) at = i;
    expect(at).toBeGreaterThanOrEqual(300);
    expect(at).toBeLessThan(330);
    expect(w.broken).toBe(true);
    expect(w.direction).toBe(1);
    // the spread turns into a random walk at t = 300 (the pair decouples)
    const e = normals(13);
    const before = ar1(14, 300, phi, sigma);
    w.reset({ c: 0, phi, sigma });
    let fired = -1;
    before.forEach((x, i) => { if (fired < 0 && w.update(x)) fired = i; });
    let v = before[299]!;
    for (let i = 300; i < 20_000 && fired < 0; i++) { v += sigma * e(); if (w.update(v)) fired = i; }
    expect(fired).toBeGreaterThanOrEqual(300);
    expect(fired).toBeLessThan(20_000);
    // latched until reset
    expect(w.update(0)).toBe(false);
    expect(w.broken).toBe(true);
  });
  it('refuses bad parameters', () => {
    expect(code(() => new PageCusum(-1, 5))).toBe('ERR_STRATEGY_INPUT');
    expect(code(() => new PageCusum(0.5, 0))).toBe('ERR_STRATEGY_INPUT');
    expect(code(() => new SpreadBreakDetector().reset({ c: 0, phi: 0.9, sigma: 0 }))).toBe('ERR_STRATEGY_INPUT');
  });
});

describe('Kalman hedge', () => {
  it('equals the full-matrix textbook recursion', () => {
    const { x, y } = cointegratedPair(21, 2000);
    const delta = 1e-4; const R = 16; const xs = 10_000;
    const k = new KalmanHedge({ delta, obsVar: R, xScale: xs, beta0: 1, alpha0: 0, p0Beta: 0.5, p0Alpha: 1e4 });
    const q = delta / (1 - delta);
    const ref = new KalmanRef(1, 0, 0.5, 1e4, [[q * R / (xs * xs), 0], [0, q * R]], R);
    for (let i = 0; i < x.length; i++) {
      const e1 = k.update(x[i]!, y[i]!); const e2 = ref.update(x[i]!, y[i]!);
      expect(e1).toBeCloseTo(e2, 6);
      expect(k.beta).toBeCloseTo(ref.theta[0], 9);
      expect(k.alpha / 1e3).toBeCloseTo(ref.theta[1] / 1e3, 6);
      expect(k.pba).toBeCloseTo(ref.P[1][0], 9);
    }
  });
  it('converges to the known β of a simulated cointegrated pair from a wrong start', () => {
    const { x, y } = cointegratedPair(22, 20_000, { beta: 1.5, alpha: 200, spreadSigma: 4, xSigma: 8 });
    const k = new KalmanHedge({ delta: 1e-5, obsVar: 16, xScale: 10_000, beta0: 1, alpha0: 0, p0Beta: 1, p0Alpha: 1e8 });
    for (let i = 0; i < x.length; i++) k.update(x[i]!, y[i]!);
    expect(Math.abs(k.beta - 1.5)).toBeLessThan(0.02);
  });
  it('refuses bad noise parameters', () => {
    expect(code(() => new KalmanHedge({ delta: 0, obsVar: 1, xScale: 1, beta0: 1, alpha0: 0 }))).toBe('ERR_STRATEGY_INPUT');
    expect(code(() => new KalmanHedge({ delta: 1e-4, obsVar: -1, xScale: 1, beta0: 1, alpha0: 0 }))).toBe('ERR_STRATEGY_INPUT');
    expect(code(() => new KalmanHedge({ delta: 1e-4, obsVar: 1, xScale: 1, beta0: Number.NaN, alpha0: 0 }))).toBe('ERR_STRATEGY_INPUT');
  });
});

describe('screening a universe', () => {
  // A and B cointegrated (β 1.5), C cointegrated with A too (β 0.5, slow), D and E independent walks
  const n = 600;
  const ab = cointegratedPair(31, n, { beta: 1.5, alpha: 200, phi: 0.85 });
  const c = (() => { const s = ar1(32, n, 0.9, 5); return ab.x.map((v, i) => 3000 + 0.5 * v + s[i]!); })();
  const universe = [ab.x, ab.y, c, randomWalk(33, n), randomWalk(34, n, 8000)];
  it('selects the cointegrated pairs with their hedge and half-life, and only those', () => {
    const r = screenPairs(universe, { fdr: 'bh', fdrQ: 0.05, minHalfLife: 1, maxHalfLife: 100 });
    expect(r.length).toBe(10);
    const sel = r.filter((p) => p.selected).map((p) => `${p.y}-${p.x}`).sort();
    expect(sel).toEqual(['0-1', '0-2', '1-2']);
    const p01 = r.find((p) => p.y === 0 && p.x === 1)!;
    expect(p01.pValue).toBeLessThan(0.001);
    expect(1 / p01.beta).toBeCloseTo(1.5, 1); // y = series 0 = x of the simulation
    expect(p01.halfLife!).toBeGreaterThan(1);
    expect(p01.halfLife!).toBeLessThan(15);
    for (const p of r) {
      expect(p.qValue).toBeGreaterThanOrEqual(p.pValue);
      if (!p.selected) expect(['not_cointegrated', 'low_correlation', 'half_life']).toContain(p.verdict);
    }
    // the q-values are BH over the whole family of 10 (untested pairs count with p = 1)
    const adj = adjustPValues(r.map((p) => p.pValue), 'bh');
    r.forEach((p, i) => expect(p.qValue).toBe(adj[i]));
  });
  it('a half-life band, maxPairs and BY narrow the selection; rounds step a few tests at a time with the same result', () => {
    const tight = screenPairs(universe, { maxHalfLife: 3 });
    expect(tight.filter((p) => p.selected).length).toBeLessThan(3);
    expect(tight.some((p) => p.verdict === 'half_life')).toBe(true);
    const one = screenPairs(universe, { maxPairs: 1, maxHalfLife: 100 });
    expect(one.filter((p) => p.selected).length).toBe(1);
    expect(one.filter((p) => p.verdict === 'ranked_out').length).toBe(2);
    const by = screenPairs(universe, { fdr: 'by', maxHalfLife: 100 });
    by.forEach((p) => expect(p.qValue).toBeGreaterThanOrEqual(screenPairs(universe, { maxHalfLife: 100 }).find((q) => q.y === p.y && q.x === p.x)!.qValue));
    const round = new ScreenRound(universe, { maxHalfLife: 100 });
    let steps = 0;
    while (!round.done) { expect(round.step(1)).toBeLessThanOrEqual(1); steps++; }
    expect(steps).toBeGreaterThan(2 * 3); // two tests (directions) per tested pair
    // a fixed ADF lag is accepted and still finds the pairs
    expect(screenPairs(universe, { maxHalfLife: 100, cointLag: 1 }).filter((p) => p.selected).length).toBe(3);
    expect(code(() => screenPairs(universe, { cointLag: -1 }))).toBe('ERR_STRATEGY_INPUT');
    expect(round.results.map((p) => [p.selected, p.pValue])).toEqual(screenPairs(universe, { maxHalfLife: 100 }).map((p) => [p.selected, p.pValue]));
  });
  it('the verdict does not depend on which leg is called y', () => {
    const a = screenPairs([ab.x, ab.y, universe[3]!]);
    const b = screenPairs([ab.y, ab.x, universe[3]!]);
    expect(a[0]!.pValue).toBe(b[0]!.pValue);
    expect(a[0]!.selected).toBe(b[0]!.selected);
  });
  it('refuses unusable input', () => {
    expect(code(() => screenPairs([ab.x]))).toBe('ERR_STRATEGY_INPUT');
    expect(code(() => screenPairs([ab.x, ab.y.subarray(1)]))).toBe('ERR_STRATEGY_INPUT');
    expect(code(() => screenPairs([ab.x.slice(0, 10), ab.y.slice(0, 10)]))).toBe('ERR_STRATEGY_INPUT');
    expect(code(() => screenPairs([ab.x, ab.y], { candidates: [[0, 0]] }))).toBe('ERR_STRATEGY_INPUT');
    expect(code(() => screenPairs([ab.x, ab.y], { minHalfLife: 50, maxHalfLife: 5 }))).toBe('ERR_STRATEGY_INPUT');
    const withNaN = Float64Array.from(ab.y); withNaN[5] = Number.NaN;
    expect(code(() => screenPairs([ab.x, withNaN]))).toBe('ERR_STRATEGY_INPUT');
    // a constant series is not a pair (no fit), not an error
    expect(screenPairs([ab.x, new Float64Array(n).fill(5)])[0]!.selected).toBe(false);
  });
});
