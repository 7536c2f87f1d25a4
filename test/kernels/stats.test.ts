/**
 * Statistics kernels and streaming objects: each against the plain TS reference on seeded data,
 * SIMD and scalar twins both (and bit-identical to each other), plus null semantics and 1e9
 * offsets. statsmodels/pandas agreement is in stats.statsmodels.test.ts.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  RunningStats, RollingStats, RollingPairStats, Ewma, PairMonitor, StatsRegistry,
  meanVar, variance, covariance, correlation, ols, correlationMatrix, coint,
} from '../../src/stats/index.js';
import { prng } from '../../src/workload/generator.js';
import { refCorr, refCov, refM2, refMean, refOls, refVar } from '../reference/stats-ref.js';
import { exactOls, exactSpread, exactZscore } from '../reference/exact-stats.js';

function seeded(seed: number, n: number, scale = 1, offset = 0): Float64Array {
  const r = prng(seed);
  const out = new Float64Array(n);
  let x = 0;
  for (let i = 0; i < n; i++) { x += (r() - 0.5) * scale; out[i] = offset + x; }
  return out;
}
const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(1e-300, Math.abs(b));

describe('batch kernels vs reference', () => {
  for (const scalar of [false, true]) {
    const opts = { scalar };
    const path = scalar ? 'scalar' : 'simd';
    it(`${path}: mean, variance, covariance, correlation, ols on seeded data (n = 1 … 4099)`, () => {
      for (const n of [1, 2, 3, 4, 5, 7, 8, 100, 1023, 4099]) {
        const x = seeded(n, n);
        const y = seeded(n + 1000, n);
        const mv = meanVar(x, opts);
        expect(rel(mv.mean, refMean(x))).toBeLessThan(1e-12);
        expect(Math.abs(mv.m2 - refM2(x))).toBeLessThan(1e-9 * Math.max(1, refM2(x)));
        if (n >= 2) {
          expect(rel(variance(x, 1, opts)!, refVar(x)!)).toBeLessThan(1e-10);
          expect(Math.abs(covariance(x, y, 1, opts)! - refCov(x, y)!)).toBeLessThan(1e-9 * Math.sqrt(refM2(x) * refM2(y)) + 1e-12);
          expect(Math.abs(correlation(x, y, opts)! - refCorr(x, y)!)).toBeLessThan(1e-10);
        }
        if (n >= 3) {
          const o = ols(y, x, opts);
          const r = refOls(y, x);
          expect(Math.abs(o.beta! - r.beta!)).toBeLessThan(1e-9 * Math.max(1, Math.abs(r.beta!)));
          expect(Math.abs(o.alpha! - r.alpha!)).toBeLessThan(1e-8 * Math.max(1, Math.abs(r.alpha!)));
          let s = 0;
          for (let i = 0; i < n; i++) s += o.residuals[i]! ** 2;
          expect(Math.abs(s - r.rss)).toBeLessThan(1e-9 * Math.max(1, r.rss));
        }
      }
    });
  }

  it('SIMD and scalar twins are bit-identical', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 600 }), fc.integer({ min: 1, max: 1e6 }), (n, seed) => {
      const x = seeded(seed, n, 10, 1e3);
      const y = seeded(seed + 1, n, 10, -50);
      expect(meanVar(x)).toEqual(meanVar(x, { scalar: true }));
      expect(covariance(x, y)).toBe(covariance(x, y, 1, { scalar: true }));
      expect(ols(y, x)).toEqual(ols(y, x, { scalar: true }));
      expect(correlationMatrix([x, y, x.map((v) => v * 2 + 1)])).toEqual(correlationMatrix([x, y, x.map((v) => v * 2 + 1)], { scalar: true }));
    }), { seed: 5, numRuns: 60 });
  });

  it('keeps full precision at a 1e9 level with tiny moves', () => {
    const x = seeded(9, 5000, 1e-3, 1e9);
    const shifted = x.map((v) => v - 1e9);
    expect(rel(variance(x)!, refVar(shifted)!)).toBeLessThan(1e-6);
    const y = x.map((v, i) => 2 * (v - 1e9) + 1e9 + Math.sin(i) * 1e-4);
    expect(Math.abs(ols(y, x).beta! - 2)).toBeLessThan(1e-3);
  });

  it('correlation matrix: diagonal 1, symmetric, NaN for a constant series, matches pairwise', () => {
    const a = seeded(1, 500); const b = seeded(2, 500); const c = new Float64Array(500).fill(3);
    const m = correlationMatrix([a, b, c]);
    expect(m[0]).toBe(1); expect(m[4]).toBe(1);
    expect(m[1]).toBeCloseTo(refCorr(a, b)!, 12); expect(m[3]).toBe(m[1]);
    expect(Number.isNaN(m[2]!) && Number.isNaN(m[8]!) && Number.isNaN(m[6]!)).toBe(true);
    expect(() => correlationMatrix([a, b.subarray(1)])).toThrow(/series 1 has 499 values/);
  });

  it('refuses bad input with clear errors', () => {
    expect(() => meanVar([])).toThrow(/at least 1 value/);
    expect(() => meanVar([1, Number.NaN])).toThrow(/value 1 \(NaN\) is not finite/);
    expect(() => covariance([1, 2], [1])).toThrow(/lengths differ/);
    expect(correlation([1, 2, 3], [4, 4, 4])).toBeNull();
    expect(variance([1], 1)).toBeNull();
  });
});

describe('ols with a constant x', () => {
  for (const scalar of [false, true]) {
    it(`${scalar ? 'scalar' : 'simd'}: null slope and intercept (as the API promises), residuals about ȳ, no exception`, () => {
      const y = [1, 2, 4, 7];
      const o = ols(y, [5, 5, 5, 5], { scalar });
      expect(o.beta).toBeNull();
      expect(o.alpha).toBeNull();
      expect([...o.residuals]).toEqual([-2.5, -1.5, 0.5, 3.5]);
      expect(o.rsquared).toBe(0);
      expect(Number.isNaN(o.stderrAlpha) && Number.isNaN(o.stderrBeta)).toBe(true);
      expect(Number.isNaN(ols([3, 3], [1e9, 1e9], { scalar }).rsquared)).toBe(true);
      // the reference agrees
      expect(refOls(y, [5, 5, 5, 5])).toEqual({ alpha: null, beta: null, rss: refM2(y) });
      expect(exactOls(y, [5, 5, 5, 5])).toMatchObject({ alpha: null, beta: null });
    });
  }
  it('coint still refuses a constant y1 with a clear error', () => {
    expect(() => coint(seeded(1, 50), new Float64Array(50).fill(2))).toThrow(/y1 is constant/);
  });
});

describe('z-scores and spreads about the shift at 1e9 with tiny moves, against the exact reference', () => {
  // ~1e9 with moves of ~1e-4 (about 1,000 ulps of 1e9): an absolute mean at 1e9 is off by up to
  // half an ulp (6e-8), which is ~1e-4 of such a window's standard deviation
  const LEVEL = 1e9;
  const prices = (seed: number, n: number, scale = 2e-4): Float64Array => seeded(seed, n, scale, LEVEL);
  /** |got − want| ≤ 1e-9 · max(1, |want|) (relative for |z| ≥ 1, absolute below). */
  const near = (got: number | null, want: number | null, what: string): void => {
    if (want === null) { expect(got, what).toBeNull(); return; }
    expect(got, what).not.toBeNull();
    expect(Math.abs(got! - want), `${what}: got ${got}, exact ${want}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)));
  };

  it('RunningStats.zscore (push, pushMany + merge)', () => {
    const xs = prices(11, 3000);
    const a = new RunningStats();
    for (let i = 0; i < 1500; i++) a.push(xs[i]!);
    const b = new RunningStats();
    b.pushMany(xs.subarray(1500));
    a.merge(b);
    const sd = Math.sqrt(refVar(xs.map((v) => v - LEVEL))!);
    for (const x of [xs[2999]!, xs[0]!, xs[1234]!, LEVEL + 3 * sd, LEVEL - 7 * sd, xs[2999]! + 1e-7]) {
      for (const ddof of [0, 1] as const) near(a.zscore(x, ddof), exactZscore(xs, x, ddof), `RunningStats.zscore(${x}, ${ddof})`);
    }
  });

  it('RollingStats.zscore of the newest value at every step (before and after each exact recompute)', () => {
    const xs = prices(12, 260);
    const w = 50;
    const r = new RollingStats(w);
    for (let i = 0; i < xs.length; i++) {
      r.push(xs[i]!);
      const win = xs.subarray(Math.max(0, i + 1 - w), i + 1);
      near(r.zscore(xs[i]!), exactZscore(win, xs[i]!), `RollingStats.zscore step ${i}`);
      if (i % 37 === 0) near(r.zscore(xs[i]! + 3e-4, 0), exactZscore(win, xs[i]! + 3e-4, 0), `RollingStats.zscore(x+3e-4, 0) step ${i}`);
    }
  });

  it('RollingPairStats.zscoreX at every step', () => {
    const xs = prices(13, 200);
    const ys = prices(14, 200);
    const w = 40;
    const p = new RollingPairStats(w);
    for (let i = 0; i < xs.length; i++) {
      p.push(xs[i]!, ys[i]!);
      near(p.zscoreX(), exactZscore(xs.subarray(Math.max(0, i + 1 - w), i + 1), xs[i]!), `zscoreX step ${i}`);
      near(p.zscoreX(0), exactZscore(xs.subarray(Math.max(0, i + 1 - w), i + 1), xs[i]!, 0), `zscoreX(0) step ${i}`);
    }
  });

  it('PairMonitor.spread and .zscore at every step', () => {
    const xs = prices(15, 160);
    const noise = seeded(16, 160, 1e-4);
    const ys = xs.map((x, i) => LEVEL + 1.5 * (x - LEVEL) + noise[i]!); // y ≈ 1.5·x − 0.5e9 at 1e9
    const w = 30;
    const m = new PairMonitor({ window: w, cointEvery: 0 });
    const spreads: number[] = [];
    for (let i = 0; i < xs.length; i++) {
      m.push(xs[i]!, ys[i]!);
      const lo = Math.max(0, i + 1 - w);
      const s = i === 0 ? null : exactSpread(xs.subarray(lo, i + 1), ys.subarray(lo, i + 1));
      if (s === null) { expect(m.spread).toBeNull(); continue; }
      spreads.push(s);
      const win = spreads.slice(-w);
      // relative to the size of the window's spreads (~1e-4; a spread can be ~0 by chance)
      const scale = Math.max(...win.map(Math.abs), 1e-300);
      expect(Math.abs(m.spread! - s), `spread step ${i}: got ${m.spread}, exact ${s}`).toBeLessThanOrEqual(1e-9 * scale);
      near(m.zscore, exactZscore(win, s), `PairMonitor.zscore step ${i}`);
    }
  });

  for (const scalar of [false, true]) {
    it(`${scalar ? 'scalar' : 'simd'}: ols residuals (the regression's spread) and slope`, () => {
      const xs = prices(17, 501);
      const noise = seeded(18, 501, 1e-4);
      const ys = xs.map((x, i) => LEVEL + 2.5 * (x - LEVEL) + noise[i]!);
      const o = ols(ys, xs, { scalar });
      const e = exactOls(ys, xs);
      near(o.beta, e.beta, 'beta');
      const scale = Math.max(...e.residuals.map(Math.abs));
      for (let i = 0; i < xs.length; i++) {
        expect(Math.abs(o.residuals[i]! - e.residuals[i]!), `residual ${i}`).toBeLessThanOrEqual(1e-9 * scale);
      }
    });
  }
});

describe('streaming statistics', () => {
  it('RunningStats matches the reference, merges, resets, and has pandas null semantics', () => {
    const xs = seeded(3, 1001, 5, 100);
    const a = new RunningStats();
    for (let i = 0; i < 500; i++) a.push(xs[i]!);
    const b = new RunningStats();
    b.pushMany(xs.subarray(500));
    a.merge(b);
    expect(a.count).toBe(1001);
    expect(rel(a.mean, refMean(xs))).toBeLessThan(1e-13);
    expect(rel(a.variance()!, refVar(xs)!)).toBeLessThan(1e-11);
    expect(rel(a.variance(0)!, refVar(xs, 0)!)).toBeLessThan(1e-11);
    expect(a.zscore(110)!).toBeCloseTo((110 - refMean(xs)) / Math.sqrt(refVar(xs)!), 10);
    const one = new RunningStats();
    expect(Number.isNaN(one.mean)).toBe(true);
    one.push(4);
    expect(one.variance()).toBeNull();
    expect(one.variance(0)).toBe(0);
    expect(one.zscore(4)).toBeNull();
    a.reset();
    expect(a.count).toBe(0);
    expect(() => a.push(Number.POSITIVE_INFINITY)).toThrow(/not a finite number/);
  });

  it('RunningStats stays accurate at 1e9 with tiny moves (textbook formulas would not)', () => {
    const xs = seeded(4, 100_000, 1e-3, 1e9);
    const s = new RunningStats();
    for (const x of xs) s.push(x);
    expect(rel(s.variance()!, refVar(xs.map((v) => v - 1e9))!)).toBeLessThan(1e-7);
  });

  it('RollingStats and RollingPairStats equal a from-scratch recomputation of the window, at every step', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 1e6 }), fc.boolean(), (w, n, seed, big) => {
      const xs = seeded(seed, n, 3, big ? 1e9 : 0);
      const ys = seeded(seed + 7, n, 3, big ? -1e9 : 10);
      const r = new RollingStats(w);
      const p = new RollingPairStats(w);
      for (let i = 0; i < n; i++) {
        r.push(xs[i]!);
        p.push(xs[i]!, ys[i]!);
        const wx = xs.subarray(Math.max(0, i + 1 - w), i + 1);
        const wy = ys.subarray(Math.max(0, i + 1 - w), i + 1);
        expect(r.count).toBe(wx.length);
        const scale = big ? 1e9 : 100;
        expect(Math.abs(r.mean - refMean(wx))).toBeLessThan(1e-12 * scale + 1e-9);
        const v = refVar(wx);
        if (v === null) expect(r.variance()).toBeNull();
        else expect(Math.abs(r.variance()! - v)).toBeLessThan(1e-7 * Math.max(1, v));
        const c = refCov(wx, wy);
        if (c === null) expect(p.covariance()).toBeNull();
        else expect(Math.abs(p.covariance()! - c)).toBeLessThan(1e-7 * Math.max(1, Math.abs(c)));
        const cr = refCorr(wx, wy);
        if (cr !== null && p.correlation !== null) expect(Math.abs(p.correlation - cr)).toBeLessThan(1e-6);
      }
    }), { seed: 11, numRuns: 80 });
  });

  it('RollingPairStats: beta/alpha from the window, null on zero variance, zscore of the newest x', () => {
    const p = new RollingPairStats(4);
    expect(p.beta).toBeNull();
    p.push(1, 3); p.push(2, 5); p.push(3, 7);
    expect(p.beta).toBeCloseTo(2, 12);
    expect(p.alpha).toBeCloseTo(1, 12);
    expect(p.correlation).toBeCloseTo(1, 12);
    expect(p.zscoreX()).toBeCloseTo(1, 12);
    const q = new RollingPairStats(3);
    q.push(5, 1); q.push(5, 2); q.push(5, 3);
    expect(q.beta).toBeNull(); expect(q.correlation).toBeNull(); expect(q.zscoreX()).toBeNull();
    expect(() => new RollingPairStats(0)).toThrow(/window must be an integer/);
  });

  it('Ewma: alpha or halflife, pandas adjust=False recursion', () => {
    const e = new Ewma({ halflife: 10 });
    expect(e.alpha).toBeCloseTo(1 - Math.exp(-Math.LN2 / 10), 15);
    const f = new Ewma({ alpha: 0.5 });
    f.push(2); f.push(4);
    expect(f.mean).toBe(3);
    expect(f.variance).toBe(0.5 * (0 + 2 * 1)); // (1−α)(v + d·αd)
    expect(() => new Ewma({})).toThrow(/alpha or halflife is required/);
    expect(() => new Ewma({ alpha: 1.5 })).toThrow(/alpha must be in \(0, 1\]/);
  });

  it('PairMonitor: hedge ratio, spread z-score, half-life of an OU spread, scheduled cointegration p-value', () => {
    const r = prng(77);
    const n = 2000;
    const x = new Float64Array(n); const y = new Float64Array(n);
    let px = 100; let s = 0;
    const lambda = -0.1; // Δs = λ s + ε: half-life −ln2/ln(1+λ) ≈ 6.58
    for (let i = 0; i < n; i++) {
      px += (r() - 0.5) * 2;
      s += lambda * s + (r() - 0.5) * 0.5;
      x[i] = px; y[i] = 1.5 * px + 2 + s;
    }
    const m = new PairMonitor({ window: 500, cointEvery: 500 });
    const check = new RollingPairStats(500);
    for (let i = 0; i < n; i++) { m.push(x[i]!, y[i]!); check.push(x[i]!, y[i]!); }
    expect(m.hedgeRatio).toBeCloseTo(check.beta!, 12);
    expect(Math.abs(m.hedgeRatio! - 1.5)).toBeLessThan(0.05);
    expect(m.halfLife!).toBeGreaterThan(4);
    expect(m.halfLife!).toBeLessThan(10);
    expect(m.zscore).not.toBeNull();
    const { x: wx, y: wy } = check.values();
    expect(m.cointPValueAt).toBe(2000);
    expect(m.cointPValue).toBeCloseTo(coint(wy, wx).pvalue, 12);
    expect(m.cointPValue!).toBeLessThan(0.01);
  });

  it('StatsRegistry: one call per batch gives the same results as individual pushes', () => {
    const reg = new StatsRegistry(128);
    const objs = [new RunningStats(), new RollingStats(10), new RollingPairStats(10), new Ewma({ alpha: 0.2 }), new PairMonitor({ window: 20, cointEvery: 0 })];
    const twins = [new RunningStats(), new RollingStats(10), new RollingPairStats(10), new Ewma({ alpha: 0.2 }), new PairMonitor({ window: 20, cointEvery: 0 })];
    objs.forEach((o) => reg.add(o));
    const r = prng(5);
    const ids: number[] = []; const xs: number[] = []; const ys: number[] = [];
    for (let i = 0; i < 1000; i++) { ids.push(Math.floor(r() * 5)); xs.push(100 + r()); ys.push(50 + r()); }
    reg.update(ids, xs, ys);
    for (let i = 0; i < 1000; i++) {
      const t = twins[ids[i]!]!;
      if (t instanceof RollingPairStats || t instanceof PairMonitor) t.push(xs[i]!, ys[i]!); else t.push(xs[i]!);
    }
    expect((objs[0] as RunningStats).variance()).toBe((twins[0] as RunningStats).variance());
    expect((objs[1] as RollingStats).mean).toBe((twins[1] as RollingStats).mean);
    expect((objs[2] as RollingPairStats).beta).toBe((twins[2] as RollingPairStats).beta);
    expect((objs[3] as Ewma).mean).toBe((twins[3] as Ewma).mean);
    expect((objs[4] as PairMonitor).zscore).toBe((twins[4] as PairMonitor).zscore);
    expect(() => reg.update([7], [1])).toThrow(/id 7 is not registered/);
  });
});
