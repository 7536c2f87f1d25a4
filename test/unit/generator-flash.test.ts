/**
 * The flash-* generator mixes (src/workload/generator.ts): the shape of the five scenarios of
 * flash1-dev/matching-engine-benchmark, checked on the bytes: one symbol, passive placement
 * within 800 ticks of the mid, the lifecycle (IOC share, modify to qty + 1 one tick toward the mid,
 * cancels after their order, duplicates), the swing of each path, determinism.
 */
import { describe, expect, it } from 'vitest';
import { MIX_DEFS, generate, type Mix } from '../../src/workload/generator.js';
import { CMD_OFF, CMD_SIZE } from '../../src/abi/records.js';

interface Rec { op: number; side: number; tif: number; type: number; sym: number; id: number; price: number; qty: number }

function records(buf: Uint8Array): Rec[] {
  const dv = new DataView(buf.buffer, buf.byteOffset);
  const out: Rec[] = [];
  for (let p = 0; p < buf.byteLength; p += CMD_SIZE) {
    out.push({
      op: buf[p + CMD_OFF.op]!, side: buf[p + CMD_OFF.side]!, type: buf[p + CMD_OFF.type]!, tif: buf[p + CMD_OFF.tif]!,
      sym: dv.getUint32(p + CMD_OFF.symbol, true), id: Number(dv.getBigUint64(p + CMD_OFF.id, true)),
      price: Number(dv.getBigInt64(p + CMD_OFF.price, true)), qty: dv.getUint32(p + CMD_OFF.qty, true),
    });
  }
  return out;
}

const FLASH: Mix[] = ['flash-static', 'flash-normal', 'flash-swing-25', 'flash-swing-40', 'flash-crash'];

describe('flash-* mixes', () => {
  it('are listed with their scenario definitions', () => {
    for (const m of FLASH) expect(MIX_DEFS[m]).toMatchObject({ kind: 'flash', iocPct: 15, modifyPct: 20, cancelPct: 95, startMidTicks: 33_504 });
    expect(MIX_DEFS['flash-crash']).toMatchObject({ scenario: 'flash-crash', volatility: 0.5, swing: 0.6 });
    expect(MIX_DEFS['flash-static']).toMatchObject({ scenario: 'static', volatility: 0, swing: 0 });
  });

  for (const mix of FLASH) {
    it(`${mix}: one symbol, passive orders, the lifecycle of the original`, () => {
      const count = 60_000;
      const buf = generate({ seed: 5, count, symbols: 8, mix });
      expect(buf.byteLength).toBe(count * CMD_SIZE);
      expect(Buffer.from(generate({ seed: 5, count, symbols: 8, mix })).equals(Buffer.from(buf))).toBe(true);
      expect(Buffer.from(generate({ seed: 6, count, symbols: 8, mix })).equals(Buffer.from(buf))).toBe(false);
      const rs = records(buf);
      const orders = new Map<number, Rec>();
      const cancelled = new Map<number, number>();
      const modified = new Map<number, number>();
      const bad: string[] = [];
      const check = (ok: boolean, what: string, r: Rec): void => { if (!ok && bad.length < 5) bad.push(`${what}: ${JSON.stringify(r)}`); };
      let news = 0, iocs = 0, cancels = 0, modifies = 0, lo = Infinity, hi = -Infinity;
      for (const r of rs) {
        check(r.sym === 0, 'symbol 0', r);
        if (r.op === 1) {
          news++;
          check(!orders.has(r.id), 'each id placed once', r);
          orders.set(r.id, r);
          check(r.type === 0 && r.qty >= 1 && r.qty <= 100 && (r.tif === 0 || r.tif === 1), 'limit GTC/IOC, qty 1..100', r);
          if (r.tif === 1) iocs++;
          lo = Math.min(lo, r.price);
          hi = Math.max(hi, r.price);
        } else if (r.op === 2) {
          cancels++;
          const o = orders.get(r.id);
          check(o !== undefined && o.tif === 0, 'a cancel follows its (non-IOC) order', r);
          const k = (cancelled.get(r.id) ?? 0) + 1;
          check(k <= 2, 'a cancel, maybe re-sent once', r);
          cancelled.set(r.id, k);
        } else {
          modifies++;
          const o = orders.get(r.id);
          check(r.op === 3 && o !== undefined && o.tif === 0, 'a modify follows its (non-IOC) order', r);
          if (!o) continue;
          check(r.qty === o.qty + 1, 'modify to qty + 1', r);
          check(r.price === o.price || r.price === o.price + (o.side === 0 ? 1 : -1), 'one tick toward the mid, or not repriced', r);
          const k = (modified.get(r.id) ?? 0) + 1;
          check(k === 1 || (k === 2 && cancelled.has(r.id)), 'a modify, maybe a stale copy after the cancel', r);
          modified.set(r.id, k);
        }
      }
      if (mix === 'flash-static') {
        // fixed mid: buys below 33,504, sells above, within 800 ticks
        for (const o of orders.values()) {
          check(o.side === 0 ? o.price >= 33_504 - 800 && o.price < 33_504 : o.price > 33_504 && o.price <= 33_504 + 800, 'passive around the fixed mid', o);
        }
      }
      expect(bad).toEqual([]);
      expect(Math.abs(news / count - 0.5)).toBeLessThan(0.03); // ~2 messages per order
      expect(Math.abs(iocs / news - 0.15)).toBeLessThan(0.015);
      expect(Math.abs(modifies / (news - iocs) - (0.2 + 0.02 * 0.2 * 0.95))).toBeLessThan(0.02);
      expect(Math.abs(cancels / (news - iocs) - 0.95 * 1.02)).toBeLessThan(0.03);
      if (mix !== 'flash-static') {
        // the wider the swing, the wider the prices the book must span
        const span = hi - lo;
        const swing = (MIX_DEFS[mix] as { swing: number }).swing;
        expect(span).toBeGreaterThan(swing >= 0.25 ? 33_504 * swing * 0.3 : 800);
      }
    });
  }
});
