/**
 * Field readers and writers of the binary protocol (src/codec/binary-layout.ts): u64 / i64 as JS
 * numbers without BigInt on the fast paths, clientOrderId u64 ↔ decimal text, reserved-byte
 * checks. Shared by the encoder (binary-writer.ts) and the decoder (binary-reader.ts).
 *
 * Layout: little-endian; a u64 is lo u32 then hi u32.
 * Invariants: readers throw BinaryProtocolError for a value above 2^53-1 (or outside ±(2^53-1));
 * `getI64Loose` (timestamps only) returns the nearest number instead. A clientOrderId's binary
 * form is its decimal text 1..2^64-1 without leading zeros; 0 means absent ('').
 * Complexity: O(1) per field (O(n) for `zero`). Allocation: a string per clientOrderId read; a
 * BigInt only for values above 2^53.
 * Known limitations: writers trust their caller's ranges (the encoder's callers are the gateway
 * and the client, which hold checked values).
 */
import { BinaryProtocolError } from './binary-layout.js';

const TWO32 = 4294967296;
const U64_MAX = (1n << 64n) - 1n;

export function getU64(dv: DataView, o: number, what: string): number {
  const hi = dv.getUint32(o + 4, true);
  if (hi > 0x1fffff) throw new BinaryProtocolError(`${what} exceeds 2^53-1`);
  return hi * TWO32 + dv.getUint32(o, true);
}
export function getI64(dv: DataView, o: number, what: string): number {
  const hi = dv.getInt32(o + 4, true);
  if (hi > 0x1fffff || hi < -0x200000) throw new BinaryProtocolError(`${what} outside ±(2^53-1)`);
  const v = hi * TWO32 + dv.getUint32(o, true);
  if (!Number.isSafeInteger(v)) throw new BinaryProtocolError(`${what} outside ±(2^53-1)`);
  return v;
}
/** An i64 that may exceed 2^53 (timestamps): the nearest number. */
export function getI64Loose(dv: DataView, o: number): number { return dv.getInt32(o + 4, true) * TWO32 + dv.getUint32(o, true); }
export function setU64(dv: DataView, o: number, v: number): void {
  const lo = v % TWO32;
  dv.setUint32(o, lo, true);
  dv.setUint32(o + 4, (v - lo) / TWO32, true);
}
export function setI64(dv: DataView, o: number, v: number): void {
  if (v >= 0) { setU64(dv, o, v); return; }
  const hi = Math.floor(v / TWO32);
  dv.setUint32(o, v - hi * TWO32, true);
  dv.setInt32(o + 4, hi, true);
}

/** A clientOrderId u64 as its decimal text ('' for 0). */
export function getCid(dv: DataView, o: number): string {
  const lo = dv.getUint32(o, true);
  const hi = dv.getUint32(o + 4, true);
  if (hi === 0 && lo === 0) return '';
  if (hi <= 0x1fffff) return String(hi * TWO32 + lo);
  return ((BigInt(hi) << 32n) | BigInt(lo)).toString();
}
const CID_TEXT = /^[1-9]\d{0,19}$/;
/** True when `s` is a clientOrderId with a binary form (decimal 1..2^64-1, no leading zeros). */
export function isBinaryClientOrderId(s: string): boolean { return CID_TEXT.test(s) && (s.length < 20 || BigInt(s) <= U64_MAX); }
/** Writes a clientOrderId text as u64; 0 when it has no binary form ('' or not a decimal). */
export function setCid(dv: DataView, o: number, s: string): void {
  if (s.length > 0 && s.length <= 15 && CID_TEXT.test(s)) { setU64(dv, o, Number(s)); return; }
  if (isBinaryClientOrderId(s)) { dv.setBigUint64(o, BigInt(s), true); return; }
  dv.setUint32(o, 0, true);
  dv.setUint32(o + 4, 0, true);
}

export function zero(dv: DataView, o: number, n: number, what: string): void {
  for (let i = 0; i < n; i++) if (dv.getUint8(o + i) !== 0) throw new BinaryProtocolError(`${what}: reserved byte ${i} is not 0`);
}
