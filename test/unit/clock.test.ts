/**
 * nowNsInto (src/domain/clock.ts) is the same clock as nowNs, as two u32 words without a BigInt:
 * its stamp lies between two nowNs() stamps taken around it (within the calibration's bracket,
 * allowed 50 µs here: it is tens of ns), also after adopting another thread's offset.
 */
import { describe, expect, it } from 'vitest';
import { epochOffsetNs, nowNs, nowNsInto, setEpochOffsetNs } from '../../src/domain/clock.js';

function check(): void {
  const w = new Uint32Array(2);
  for (let i = 0; i < 1000; i++) {
    const a = nowNs();
    nowNsInto(w, 0);
    const b = nowNs();
    const t = (BigInt(w[1]!) << 32n) | BigInt(w[0]!);
    expect(t >= a - 50_000n && t <= b + 50_000n).toBe(true);
  }
}

describe('nowNsInto', () => {
  it('stamps the same epoch-ns clock as nowNs, as (lo, hi) words', () => { check(); });
  it('follows an adopted offset', () => {
    const before = epochOffsetNs();
    try { setEpochOffsetNs(before + 123_456_789_000n); check(); } finally { setEpochOffsetNs(before); }
  });
});
