/**
 * Synthetic engine output for the storage writer tests: RING_EVT records for commands 1..n, laid
 * out as the engine thread publishes them (every event carries its command's seq; the last event
 * of a command has flag bit 0). Command k: A (new order k); every third command also trades
 * against order k−1 (T) — so k yields 1 or 2 events.
 */
import { RING_EVT_SIZE } from '../../src/abi/records.js';
import type { SpmcRing } from '../../src/ring/spmc-ring.js';

export const T0 = 1_790_000_000_000_000_000n;

export function eventsFor(k: number): number { return k % 3 === 0 ? 2 : 1; }
export function totalEvents(from: number, to: number): number { let n = 0; for (let k = from; k <= to; k++) n += eventsFor(k); return n; }
export function totalTrades(from: number, to: number): number { let n = 0; for (let k = from; k <= to; k++) if (k % 3 === 0) n++; return n; }

export function encode(from: number, to: number, symbols: number): Uint8Array {
  const n = totalEvents(from, to);
  const buf = new Uint8Array(n * RING_EVT_SIZE);
  const dv = new DataView(buf.buffer);
  let r = 0;
  for (let k = from; k <= to; k++) {
    const evs = eventsFor(k);
    for (let e = 0; e < evs; e++, r++) {
      const b = r * RING_EVT_SIZE;
      dv.setBigUint64(b, BigInt(k), true);
      dv.setBigInt64(b + 8, T0 + BigInt(k) * 1_000_000n, true);
      dv.setBigInt64(b + 24, T0 + BigInt(k) * 1_000_000n - 5000n, true);
      const trade = e === 1;
      dv.setUint8(b + 32, trade ? 84 : 65);
      dv.setUint8(b + 34, e === evs - 1 ? 1 : 0);
      dv.setUint8(b + 35, k & 1);
      dv.setUint32(b + 36, k % symbols, true);
      dv.setBigUint64(b + 40, BigInt(k), true);
      dv.setBigUint64(b + 48, trade ? BigInt(k - 1) : 0n, true);
      dv.setBigInt64(b + 56, BigInt(1000 + (k % 17)), true);
      dv.setUint32(b + 64, trade ? 1 + (k % 5) : 10, true);
      dv.setUint32(b + 80, 1 + (k % 4), true);
      dv.setUint32(b + 84, trade ? 1 + ((k - 1) % 4) : 0, true);
      dv.setBigUint64(b + 88, trade ? BigInt(k / 3) : 0n, true);
    }
  }
  return buf;
}

/** Publishes commands from..to; returns the longest single publish call in ms (the writer must never hold it). */
export function publish(ring: SpmcRing, from: number, to: number, symbols: number, chunk = 1000): { published: number; maxCallMs: number } {
  let published = 0;
  let maxCallMs = 0;
  for (let k = from; k <= to; k += chunk) {
    const buf = encode(k, Math.min(to, k + chunk - 1), symbols);
    const n = buf.byteLength / RING_EVT_SIZE;
    const t0 = performance.now();
    published += ring.publish(buf, 0, n, 10_000);
    maxCallMs = Math.max(maxCallMs, performance.now() - t0);
  }
  return { published, maxCallMs };
}
