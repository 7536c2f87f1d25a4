import { describe, expect, it } from 'vitest';
import { RunningStats } from '../reference/running-stats-ref.js';
import { prng } from '../../src/workload/generator.js';

describe('RunningStats (plain TS)', () => {
  it('matches textbook values and the null conventions', () => {
    const s = new RunningStats();
    expect(s.variance()).toBeNull();
    s.push(4);
    expect(s.variance(1)).toBeNull();
    expect(s.variance(0)).toBe(0);
    expect(s.zscore(5)).toBeNull();
    s.pushMany([7, 13, 16]);
    expect(s.count).toBe(4);
    expect(s.mean).toBe(10);
    expect(s.variance(1)).toBeCloseTo(30, 12); // R: var(c(4,7,13,16)) = 30
    expect(s.variance(0)).toBeCloseTo(22.5, 12);
    expect(s.zscore(16)!).toBeCloseTo(6 / Math.sqrt(30), 12);
    expect(() => s.push(Number.NaN)).toThrow(/not a finite number/);
  });

  it('stays accurate for prices around 1e9 with tiny moves', () => {
    const s = new RunningStats();
    for (const x of [1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16]) s.push(x);
    expect(s.variance()!).toBeCloseTo(30, 6);
  });

  it('merge equals pushing both streams', () => {
    const r = prng(3);
    const xs = Array.from({ length: 1001 }, () => 100 + r() * 10);
    const all = new RunningStats();
    all.pushMany(xs);
    const a = new RunningStats();
    const b = new RunningStats();
    a.pushMany(xs.slice(0, 400));
    b.pushMany(xs.slice(400));
    a.merge(b);
    expect(a.count).toBe(all.count);
    expect(a.mean).toBeCloseTo(all.mean, 10);
    expect(a.variance()!).toBeCloseTo(all.variance()!, 9);
    a.reset();
    expect(a.count).toBe(0);
  });
});
