/**
 * The batch paths of the streaming statistics (`pushMany` of RunningStats, RollingStats,
 * RollingPairStats and PairMonitor) against the per-value path (`push` for each value) on seeded
 * random batches: the same numbers to rounding (1e-12 relative where the quantity is well
 * conditioned), the same windows (ring contents, count), large offsets (1e9 + noise), empty and
 * length-1 batches, batches longer than the window, chunk boundaries, non-finite values (the
 * batch is refused whole, with the per-value path's error) and overflowing finite values.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Ewma, PairMonitor, RollingPairStats, RollingStats, RunningStats, StatsRegistry } from '../../src/stats/index.js';
import { prng } from '../../src/workload/generator.js';
import { stats } from '../../src/stats/wasm.js';

function seeded(seed: number, n: number, scale = 1, offset = 0): Float64Array {
  const r = prng(seed);
  const out = new Float64Array(n);
  let x = 0;
  for (let i = 0; i < n; i++) { x += (r() - 0.5) * scale; out[i] = offset + x; }
  return out;
}
/** |a − b| ≤ tol·max(|b|, floor): relative, with an absolute floor for quantities near zero. */
function near(a: number | null, b: number | null, tol: number, what: string, floor = 0): void {
  if (b === null) { expect(a, what).toBeNull(); return; }
  expect(a, what).not.toBeNull();
  if (Number.isNaN(b)) { expect(a, what).toBeNaN(); return; }
  expect(Math.abs(a! - b), `${what}: batch ${a}, per value ${b}`).toBeLessThanOrEqual(tol * Math.max(Math.abs(b), floor));
}
/** Splits n values into batches of the given lengths (the rest in one more batch). */
function cut(n: number, lengths: number[]): [number, number][] {
  const out: [number, number][] = [];
  let at = 0;
  for (const l of lengths) { if (at >= n) break; const e = Math.min(n, at + l); out.push([at, e]); at = e; }
  if (at < n) out.push([at, n]);
  return out;
}

describe('the shifted mean/variance kernel of the batch path', () => {
  it('SIMD and scalar twins are bit-identical, and agree with a two-pass in the shifted frame', () => {
    const s = stats();
    const p = s.alloc(8 * 700 + 32);
    fc.assert(fc.property(fc.integer({ min: 1, max: 700 }), fc.integer({ min: 1, max: 1e6 }), fc.constantFrom(0, 1e9), (n, seed, offset) => {
      const xs = seeded(seed, n, 1, offset);
      const k = xs[0]!;
      s.f64().set(xs, (p + 32) >>> 3);
      s.ex.statsShiftMeanVar(p + 32, n, k, p);
      const simd = [s.f64()[p >>> 3]!, s.f64()[(p >>> 3) + 1]!];
      s.ex.statsShiftMeanVarScalar(p + 32, n, k, p);
      expect([s.f64()[p >>> 3]!, s.f64()[(p >>> 3) + 1]!]).toEqual(simd);
      const d = Array.from(xs, (x) => x - k);
      const m = d.reduce((a, b) => a + b, 0) / n;
      const m2 = d.reduce((a, b) => a + (b - m) ** 2, 0);
      expect(Math.abs(simd[0]! - m)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(m)));
      expect(Math.abs(simd[1]! - m2)).toBeLessThanOrEqual(1e-12 * Math.max(1, m2));
    }), { seed: 20, numRuns: 80 });
    s.release(p, 8 * 700 + 32);
  });
});

describe('RunningStats.pushMany equals push for each value', () => {
  const compare = (a: RunningStats, b: RunningStats, what: string): void => {
    expect(a.count, `${what} count`).toBe(b.count);
    near(a.mean, b.mean, 1e-12, `${what} mean`);
    for (const ddof of [0, 1] as const) near(a.variance(ddof), b.variance(ddof), 1e-12, `${what} variance(${ddof})`);
  };

  it('seeded batches of 0 … 20,000 values, with and without prior state, offsets 0 … 1e9', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 1e6 }), fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 1, maxLength: 4 }),
      fc.constantFrom(0, 100, 1e9, -1e9), fc.constantFrom(1e-4, 1, 1e3),
      (seed, lengths, offset, scale) => {
        const n = lengths.reduce((a, b) => a + b, 0);
        const xs = seeded(seed, n, scale, offset);
        const batch = new RunningStats();
        const one = new RunningStats();
        let at = 0;
        for (const l of lengths) {
          batch.pushMany(xs.subarray(at, at + l));
          for (let i = at; i < at + l; i++) one.push(xs[i]!);
          at += l;
          compare(batch, one, `after ${at} values`);
          if (one.count > 1) near(batch.zscore(xs[at - 1]!), one.zscore(xs[at - 1]!), 1e-12, 'zscore', 1);
        }
      }), { seed: 21, numRuns: 60 });
  });

  it('a million values at 1e9 + noise (chunks of 4,096 merged), and arrays as well as Float64Arrays', () => {
    const xs = seeded(5, 1_000_000, 1e-2, 1e9);
    const batch = new RunningStats();
    batch.pushMany(xs);
    const one = new RunningStats();
    for (let i = 0; i < xs.length; i++) one.push(xs[i]!);
    compare(batch, one, '1e6 values');
    const arr = new RunningStats();
    arr.pushMany(Array.from(xs.subarray(0, 10_001)));
    const typed = new RunningStats();
    typed.pushMany(xs.subarray(0, 10_001));
    expect([arr.count, arr.mean, arr.variance()]).toEqual([typed.count, typed.mean, typed.variance()]);
  });

  it('empty and length-1 batches', () => {
    const a = new RunningStats();
    a.pushMany([]);
    expect(a.count).toBe(0);
    expect(a.mean).toBeNaN();
    a.pushMany(new Float64Array([1e9 + 0.5]));
    const b = new RunningStats();
    b.push(1e9 + 0.5);
    expect([a.count, a.mean, a.variance(), a.variance(0)]).toEqual([b.count, b.mean, b.variance(), b.variance(0)]);
    a.pushMany([1e9 + 1.5]); b.push(1e9 + 1.5);
    expect([a.count, a.mean, a.variance()]).toEqual([b.count, b.mean, b.variance()]);
    a.pushMany([]);
    expect(a.count).toBe(2);
  });

  it('a non-finite value refuses the whole batch with the per-value error; the block is unchanged', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (const at of [0, 3, 4095, 4096, 9000]) {
        const xs = seeded(at + 1, 10_000, 1, 50);
        xs[at] = bad;
        const s = new RunningStats();
        s.pushMany([1, 2, 3]);
        const before = [s.count, s.mean, s.variance()];
        expect(() => s.pushMany(xs)).toThrow(RangeError);
        expect(() => s.pushMany(xs)).toThrow(new RegExp(`RunningStats.pushMany: ${String(bad)} is not a finite number \\(value ${at}\\)`));
        expect([s.count, s.mean, s.variance()]).toEqual(before);
        expect(() => new RunningStats().push(bad)).toThrow(/is not a finite number/);
      }
    }
  });

  it('finite values whose squares overflow take the per-value path (identical results)', () => {
    const xs = [1e200, -3e200, 2e200, 5, 1e300];
    const a = new RunningStats();
    a.pushMany(xs);
    const b = new RunningStats();
    for (const x of xs) b.push(x);
    expect([a.count, a.mean, a.variance(), a.variance(0)]).toEqual([b.count, b.mean, b.variance(), b.variance(0)]);
  });
});

describe('RollingStats.pushMany equals push for each value', () => {
  it('seeded batches shorter and longer than the window, offsets 0 and 1e9', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 1e6 }), fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 1, maxLength: 8 }),
      fc.boolean(),
      (w, seed, lengths, big) => {
        const n = lengths.reduce((a, b) => a + b, 0);
        const xs = seeded(seed, n, 3, big ? 1e9 : 10);
        const batch = new RollingStats(w);
        const one = new RollingStats(w);
        for (const [lo, hi] of cut(n, lengths)) {
          batch.pushMany(xs.subarray(lo, hi));
          for (let i = lo; i < hi; i++) one.push(xs[i]!);
          const what = `w=${w} after ${hi}`;
          expect(batch.count, what).toBe(one.count);
          expect(batch.values(), `${what} window`).toEqual(one.values());
          near(batch.mean, one.mean, 1e-12, `${what} mean`);
          const v = one.variance(0);
          // variance to 1e-12 of the window's spread about the shift (exact recomputes on both sides)
          near(batch.variance(0), v, 1e-12, `${what} variance`, 1);
          if (hi > 0 && v !== null && v > 0) near(batch.zscore(xs[hi - 1]!), one.zscore(xs[hi - 1]!), 1e-10, `${what} zscore`, 1);
        }
      }), { seed: 22, numRuns: 150 });
  });

  it('a non-finite value refuses the batch (window unchanged)', () => {
    const r = new RollingStats(5);
    r.pushMany([1, 2, 3, 4, 5, 6]);
    const before = r.values();
    expect(() => r.pushMany([7, Number.NaN, 8])).toThrow(/RollingStats.pushMany: NaN is not a finite number \(value 1\)/);
    // a NaN before the last `window` values is refused too, though it would have been evicted
    expect(() => r.pushMany([Number.POSITIVE_INFINITY, 1, 2, 3, 4, 5, 6])).toThrow(/Infinity is not a finite number \(value 0\)/);
    // long Float64Arrays are checked in WASM chunks of 4,096: a bad value in any chunk is found
    for (const at of [0, 63, 64, 4095, 4096, 9999]) {
      const xs = seeded(at + 3, 10_000, 1, 1e9);
      xs[at] = at % 2 ? Number.NEGATIVE_INFINITY : Number.NaN;
      expect(() => r.pushMany(xs)).toThrow(new RegExp(`RollingStats.pushMany: ${String(xs[at])} is not a finite number \\(value ${at}\\)`));
      const p = new PairMonitor({ window: 5 });
      expect(() => p.pushMany(xs.map(() => 1), xs)).toThrow(new RegExp(`PairMonitor.pushMany y: ${String(xs[at])} is not a finite number \\(value ${at}\\)`));
      expect(p.updates).toBe(0);
    }
    expect(r.values()).toEqual(before);
    r.pushMany([]);
    expect(r.count).toBe(5);
  });
});

describe('RollingPairStats.pushMany equals push for each pair', () => {
  it('seeded batches shorter and longer than the window, offsets 0 and ±1e9', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 1e6 }), fc.array(fc.integer({ min: 0, max: 160 }), { minLength: 1, maxLength: 8 }),
      fc.boolean(),
      (w, seed, lengths, big) => {
        const n = lengths.reduce((a, b) => a + b, 0);
        const xs = seeded(seed, n, 3, big ? 1e9 : 10);
        const ys = seeded(seed + 1, n, 2, big ? -1e9 : 5);
        const batch = new RollingPairStats(w);
        const one = new RollingPairStats(w);
        for (const [lo, hi] of cut(n, lengths)) {
          batch.pushMany(xs.subarray(lo, hi), ys.subarray(lo, hi));
          for (let i = lo; i < hi; i++) one.push(xs[i]!, ys[i]!);
          const what = `w=${w} after ${hi}`;
          expect(batch.count, what).toBe(one.count);
          expect(batch.values(), `${what} window`).toEqual(one.values());
          near(batch.meanX, one.meanX, 1e-12, `${what} meanX`);
          near(batch.meanY, one.meanY, 1e-12, `${what} meanY`);
          near(batch.varianceX(0), one.varianceX(0), 1e-12, `${what} varianceX`, 1);
          near(batch.varianceY(0), one.varianceY(0), 1e-12, `${what} varianceY`, 1);
          near(batch.covariance(0), one.covariance(0), 1e-12, `${what} covariance`, 1);
          if (one.count >= 3) {
            near(batch.beta, one.beta, 1e-9, `${what} beta`, 1);
            near(batch.correlation, one.correlation, 1e-9, `${what} correlation`, 1);
            near(batch.zscoreX(), one.zscoreX(), 1e-9, `${what} zscoreX`, 1);
          }
        }
      }), { seed: 23, numRuns: 120 });
  });

  it('refuses mismatched lengths and non-finite values', () => {
    const p = new RollingPairStats(3);
    expect(() => p.pushMany([1, 2], [1])).toThrow(/lengths differ/);
    expect(() => p.pushMany([1, 2], [1, Number.NaN])).toThrow(/RollingPairStats.pushMany y: NaN is not a finite number \(value 1\)/);
    expect(p.count).toBe(0);
  });
});

describe('PairMonitor.pushMany equals push for each pair', () => {
  /** A cointegrated pair: y = 1.5·x + 2 + s, s an AR(1) spread, at a level `level`. */
  function pair(seed: number, n: number, level: number): { x: Float64Array; y: Float64Array } {
    const r = prng(seed);
    const x = new Float64Array(n); const y = new Float64Array(n);
    let px = 0; let s = 0;
    for (let i = 0; i < n; i++) {
      px += (r() - 0.5) * 2;
      s += -0.2 * s + (r() - 0.5) * 0.5;
      x[i] = level + px; y[i] = level + 1.5 * px + 2 + s;
    }
    return { x, y };
  }
  const compare = (a: PairMonitor, b: PairMonitor, what: string): void => {
    expect(a.updates, `${what} updates`).toBe(b.updates);
    expect(a.count, `${what} count`).toBe(b.count);
    near(a.hedgeRatio, b.hedgeRatio, 1e-9, `${what} hedgeRatio`, 1);
    near(a.spread, b.spread, 1e-9, `${what} spread`, 1);
    near(a.zscore, b.zscore, 1e-8, `${what} zscore`, 1);
    near(a.halfLife, b.halfLife, 1e-7, `${what} halfLife`, 1);
    expect(a.cointPValueAt, `${what} cointPValueAt`).toBe(b.cointPValueAt);
    near(a.cointPValue, b.cointPValue, 1e-9, `${what} cointPValue`, 1);
  };

  it('seeded batches shorter and longer than 2·window + 2, with scheduled cointegration refreshes', () => {
    fc.assert(fc.property(
      fc.integer({ min: 3, max: 40 }), fc.integer({ min: 1, max: 1e6 }), fc.array(fc.integer({ min: 0, max: 180 }), { minLength: 1, maxLength: 6 }),
      fc.constantFrom(0, 7, 25), fc.constantFrom(0, 1e9),
      (w, seed, lengths, every, level) => {
        const n = lengths.reduce((a, b) => a + b, 0);
        const { x, y } = pair(seed, n, level);
        const batch = new PairMonitor({ window: w, cointEvery: every });
        const one = new PairMonitor({ window: w, cointEvery: every });
        for (const [lo, hi] of cut(n, lengths)) {
          batch.pushMany(x.subarray(lo, hi), y.subarray(lo, hi));
          for (let i = lo; i < hi; i++) one.push(x[i]!, y[i]!);
          compare(batch, one, `w=${w} every=${every} after ${hi}`);
        }
      }), { seed: 24, numRuns: 60 });
  });

  it('a constant x window in the batch tail: every pair takes the single step (same results)', () => {
    const w = 10;
    const { x, y } = pair(3, 200, 100);
    x.fill(x[150]!, 150, 170); // twenty equal x values: windows without a slope
    for (const [lo, hi] of [[0, 175], [0, 200], [100, 200]] as const) {
      const batch = new PairMonitor({ window: w, cointEvery: 0 });
      const one = new PairMonitor({ window: w, cointEvery: 0 });
      batch.pushMany(x.subarray(lo, hi), y.subarray(lo, hi));
      for (let i = lo; i < hi; i++) one.push(x[i]!, y[i]!);
      compare(batch, one, `[${lo}, ${hi})`);
    }
  });

  it('refuses mismatched lengths and non-finite values', () => {
    const m = new PairMonitor({ window: 5 });
    expect(() => m.pushMany([1], [1, 2])).toThrow(/lengths differ/);
    expect(() => m.pushMany([1, Number.NaN], [1, 2])).toThrow(/PairMonitor.pushMany x: NaN is not a finite number \(value 1\)/);
    expect(m.updates).toBe(0);
  });
});

describe('StatsRegistry.apply equals pushing each tick (bit for bit: it pushes tick by tick)', () => {
  // The registry keeps the per-tick path: grouping ticks by block to use the batch paths was
  // measured slower for interleaved instruments (docs/stats.md); the tolerance here is 0.
  type Obj = RunningStats | RollingStats | RollingPairStats | Ewma | PairMonitor;
  const make = (kind: number, w: number): Obj =>
    [() => new RunningStats(), () => new RollingStats(w), () => new RollingPairStats(w), () => new Ewma({ alpha: 0.1 }), () => new PairMonitor({ window: Math.max(3, w), cointEvery: 0 })][kind]!();
  const push = (o: Obj, x: number, y: number): void => { if (o instanceof RollingPairStats || o instanceof PairMonitor) o.push(x, y); else o.push(x); };
  const compare = (a: Obj, b: Obj, what: string): void => {
    if (a instanceof RunningStats && b instanceof RunningStats) { expect(a.count, what).toBe(b.count); near(a.variance(0), b.variance(0), 0, `${what} variance`, 1); near(a.mean, b.mean, 0, `${what} mean`); }
    if (a instanceof RollingStats && b instanceof RollingStats) { expect(a.values(), what).toEqual(b.values()); near(a.variance(0), b.variance(0), 0, `${what} variance`, 1); }
    if (a instanceof RollingPairStats && b instanceof RollingPairStats) { expect(a.values(), what).toEqual(b.values()); near(a.covariance(0), b.covariance(0), 0, `${what} covariance`, 1); near(a.beta, b.beta, 0, `${what} beta`, 1); }
    if (a instanceof Ewma && b instanceof Ewma) { expect([a.count, a.mean, a.variance], what).toEqual([b.count, b.mean, b.variance]); }
    if (a instanceof PairMonitor && b instanceof PairMonitor) {
      expect(a.updates, what).toBe(b.updates);
      near(a.hedgeRatio, b.hedgeRatio, 0, `${what} hedgeRatio`, 1); near(a.spread, b.spread, 0, `${what} spread`, 1);
      near(a.zscore, b.zscore, 0, `${what} zscore`, 1); near(a.halfLife, b.halfLife, 0, `${what} halfLife`, 1);
    }
  };

  it('random blocks of every kind, skewed tick distributions, a block registered twice, offsets 0 and 1e9', () => {
    fc.assert(fc.property(
      fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 1, maxLength: 12 }), fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 1e6 }),
      fc.integer({ min: 1, max: 600 }), fc.constantFrom(16, 256, 1024), fc.constantFrom(0, 1e9), fc.boolean(),
      (kinds, w, seed, n, capacity, level, skew) => {
        const objs = kinds.map((k) => make(k, w));
        const twins = kinds.map((k) => make(k, w));
        const reg = new StatsRegistry(capacity);
        objs.forEach((o) => reg.add(o));
        reg.add(objs[0]!); // the same block under a second id: its ticks must stay in order
        const r = prng(seed);
        const xs = seeded(seed, n, 2, level); const ys = seeded(seed + 1, n, 3, level);
        const ids: number[] = [];
        for (let i = 0; i < n; i++) ids.push(skew ? Math.min(objs.length, Math.floor(r() ** 3 * (objs.length + 1))) : Math.floor(r() * (objs.length + 1)));
        reg.update(ids, xs, ys);
        for (let i = 0; i < n; i++) { const id = ids[i]!; push(twins[id === objs.length ? 0 : id]!, xs[i]!, ys[i]!); }
        objs.forEach((o, j) => compare(o, twins[j]!, `block ${j} (kind ${kinds[j]}, w=${w}, n=${n})`));
      }), { seed: 25, numRuns: 80 });
  });

  it('an unregistered id applies exactly the ticks before it', () => {
    const a = new RollingStats(4); const b = new RollingStats(4);
    const reg = new StatsRegistry(64);
    reg.add(a);
    const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    expect(() => reg.update([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0], xs)).toThrow(/tick 10: id 3 is not registered \(1 blocks\); ticks before it were applied/);
    b.pushMany(xs.slice(0, 10));
    expect(a.values()).toEqual(b.values());
    expect(a.mean).toBeCloseTo(b.mean, 12);
  });
});
