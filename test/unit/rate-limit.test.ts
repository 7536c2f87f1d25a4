/**
 * KeyedBuckets (HTTP rate limits) with an injected clock: burst then refusal with the wait until
 * the next token, refill at the sustained rate, keys independent, peek leaves the bucket alone,
 * the key bound forgets idle keys first, Retry-After rounding, and bad limits refused.
 */
import { describe, expect, it } from 'vitest';
import { KeyedBuckets, retryAfterSeconds } from '../../src/gateway/rate-limit.js';

describe('KeyedBuckets', () => {
  it('allows a burst, then refuses with the time to the next token, and refills at the rate', () => {
    let now = 1_000_000;
    const b = new KeyedBuckets({ perSecond: 4, burst: 3 }, () => now);
    expect([b.take('k'), b.take('k'), b.take('k')]).toEqual([0, 0, 0]);
    expect(b.take('k')).toBe(250); // one token every 250 ms
    now += 100;
    expect(b.take('k')).toBe(150);
    now += 150;
    expect(b.take('k')).toBe(0);
    expect(b.take('k')).toBe(250);
    expect(b.take('other')).toBe(0); // keys are independent
    now += 10_000; // refills to the burst, not beyond
    expect([b.take('k'), b.take('k'), b.take('k'), b.take('k') > 0]).toEqual([0, 0, 0, true]);
  });

  it('peek reports without taking', () => {
    let now = 0;
    const b = new KeyedBuckets({ perSecond: 1, burst: 1 }, () => now);
    expect(b.peek('a')).toBe(0);
    expect(b.peek('a')).toBe(0);
    expect(b.take('a')).toBe(0);
    expect(b.peek('a')).toBe(1000);
    now += 400;
    expect(b.peek('a')).toBe(600);
    now += 600;
    expect(b.peek('a')).toBe(0);
    expect(b.take('a')).toBe(0);
  });

  it('holds at most maxKeys keys, forgetting refilled (idle) ones first', () => {
    let now = 0;
    const b = new KeyedBuckets({ perSecond: 1, burst: 2 }, () => now, 10);
    for (let i = 0; i < 5; i++) b.take(`idle${i}`);
    now += 5000; // the idle ones are full again
    for (let i = 0; i < 5; i++) { b.take(`busy${i}`); b.take(`busy${i}`); }
    expect(b.size).toBe(10);
    b.take('new');
    expect(b.size).toBe(5 + 1);
    for (let i = 0; i < 5; i++) expect(b.peek(`busy${i}`)).toBeGreaterThan(0); // still limited
  });

  it('rounds Retry-After up to whole seconds, at least 1', () => {
    expect(retryAfterSeconds(1)).toBe(1);
    expect(retryAfterSeconds(1000)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
  });

  it('refuses limits that cannot work', () => {
    expect(() => new KeyedBuckets({ perSecond: 0, burst: 1 })).toThrow(/perSecond > 0/);
    expect(() => new KeyedBuckets({ perSecond: 1, burst: 0.5 })).toThrow(/burst ≥ 1/);
    expect(() => new KeyedBuckets({ perSecond: Number.NaN, burst: 1 })).toThrow(/rate limit/);
  });
});
