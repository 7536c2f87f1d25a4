/**
 * ClickHouse RowBinary for the storage writer: a growable row encoder, a row walker that checks a
 * body against its column layout (row count, the first row after a checkpoint seq), and a decoder
 * to plain rows (tests, diagnostics). Both backends take these bodies: the server over HTTP, chDB
 * through a file (chdb-storage.ts).
 *
 * Layout (per row, columns in the layout's order, no separators, little-endian):
 * ```
 * UInt8 1 · UInt16 2 · UInt32 4 · UInt64/Int64 8 · Float64 8 · Enum8 1 (the enum's value)
 * String: varint byte length (LEB128) + UTF-8 bytes
 * Array(T): varint element count + the elements
 * ```
 * Invariants: 64-bit values are written from bigint (or from exact non-negative safe integers),
 * never through a lossy double; `walk` accepts a body only if it ends exactly at a row boundary.
 * Complexity: O(bytes) for encode, walk and decode. Allocation: the builder grows by doubling and
 * is reused across batches (`take` copies out the used bytes); `decode` allocates its rows.
 * Known limitations: only the types the writer's tables use; strings are read back as UTF-8.
 */
import { TradsysError } from '../domain/errors.js';

export type ColumnType =
  | 'String' | 'UInt8' | 'UInt16' | 'UInt32' | 'UInt64' | 'Int64' | 'Float64' | 'Enum8'
  | 'Array(Int64)' | 'Array(UInt64)' | 'Array(UInt32)';
export interface Column { name: string; type: ColumnType }

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: false });
const TWO32 = 4294967296;

/** A growable RowBinary body. Reuse it: `take()` copies the bytes out and resets the length. */
export class RowBinaryBuilder {
  buf: Uint8Array;
  private dv: DataView;
  len = 0;

  constructor(capacity = 1 << 16) {
    this.buf = new Uint8Array(capacity);
    this.dv = new DataView(this.buf.buffer);
  }

  /** Makes room for `n` more bytes (allocates a doubled buffer when full). */
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
    this.dv = new DataView(b.buffer);
  }

  u8(v: number): void { this.ensure(1); this.buf[this.len++] = v; }
  u16(v: number): void { this.ensure(2); this.dv.setUint16(this.len, v, true); this.len += 2; }
  u32(v: number): void { this.ensure(4); this.dv.setUint32(this.len, v, true); this.len += 4; }
  u64(v: bigint): void { this.ensure(8); this.dv.setBigUint64(this.len, v, true); this.len += 8; }
  i64(v: bigint): void { this.ensure(8); this.dv.setBigInt64(this.len, v, true); this.len += 8; }
  f64(v: number): void { this.ensure(8); this.dv.setFloat64(this.len, v, true); this.len += 8; }
  /** A non-negative safe integer as UInt64 (no bigint). */
  u64n(v: number): void {
    this.ensure(8);
    this.dv.setUint32(this.len, v % TWO32, true);
    this.dv.setUint32(this.len + 4, Math.floor(v / TWO32), true);
    this.len += 8;
  }
  /** A safe integer as Int64 (negative values through bigint). */
  i64n(v: number): void { if (v >= 0) this.u64n(v); else this.i64(BigInt(v)); }
  varint(v: number): void {
    this.ensure(10);
    while (v >= 0x80) { this.buf[this.len++] = (v & 0x7f) | 0x80; v = Math.floor(v / 128); }
    this.buf[this.len++] = v;
  }
  /** A String from its UTF-8 bytes (cached by the caller: see encodeString): length, then the bytes. */
  bytes(b: Uint8Array): void { this.varint(b.length); this.ensure(b.length); this.buf.set(b, this.len); this.len += b.length; }
  str(s: string): void {
    let ascii = true;
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) { ascii = false; break; }
    if (!ascii) { this.bytes(enc.encode(s)); return; }
    this.varint(s.length);
    this.ensure(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.len++] = s.charCodeAt(i);
  }
  /** Copies out the body written since the last take and starts a new one (allocates). */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.len);
    this.len = 0;
    return out;
  }
}

/** The UTF-8 bytes of `s`, for `RowBinaryBuilder.bytes` (cache it for repeated values). */
export function encodeString(s: string): Uint8Array {
  return enc.encode(s);
}

/**
 * Encodes object rows in `cols` order (tools and tests; the writer encodes field by field).
 * 64-bit values may be bigint, decimal strings or safe integers; an Enum8 is its numeric value.
 * Allocates the body.
 */
export function encodeRows(rows: readonly Record<string, unknown>[], cols: readonly Column[]): Uint8Array {
  const b = new RowBinaryBuilder();
  for (const r of rows) {
    for (const c of cols) {
      const v = r[c.name];
      if (v === undefined) throw new TradsysError('ERR_STORAGE_QUERY', `RowBinary: row has no ${c.name}`);
      switch (c.type) {
        case 'String': b.str(String(v)); break;
        case 'UInt8': case 'Enum8': b.u8(Number(v) & 0xff); break;
        case 'UInt16': b.u16(Number(v)); break;
        case 'UInt32': b.u32(Number(v)); break;
        case 'UInt64': b.u64(BigInt(v as bigint)); break;
        case 'Int64': b.i64(BigInt(v as bigint)); break;
        case 'Float64': b.f64(Number(v)); break;
        default: {
          const xs = v as readonly unknown[];
          b.varint(xs.length);
          for (const x of xs) { if (c.type === 'Array(UInt32)') b.u32(Number(x)); else if (c.type === 'Array(Int64)') b.i64(BigInt(x as bigint)); else b.u64(BigInt(x as bigint)); }
        }
      }
    }
  }
  return b.take();
}

function truncated(what: string, off: number): never {
  throw new TradsysError('ERR_STORAGE_QUERY', `RowBinary body is truncated or corrupt at byte ${off} (${what})`);
}

function varintAt(b: Uint8Array, off: number, end: number): [number, number] {
  let v = 0, mul = 1;
  for (let i = 0; i < 9; i++) {
    if (off >= end) truncated('varint', off);
    const x = b[off++]!;
    v += (x & 0x7f) * mul;
    if (x < 0x80) return [v, off];
    mul *= 128;
  }
  return truncated('varint too long', off);
}

const FIXED: Partial<Record<ColumnType, number>> = { UInt8: 1, Enum8: 1, UInt16: 2, UInt32: 4, UInt64: 8, Int64: 8, Float64: 8 };
const ELEM: Partial<Record<ColumnType, number>> = { 'Array(Int64)': 8, 'Array(UInt64)': 8, 'Array(UInt32)': 4 };

/**
 * Walks the rows of `body` (checking that it ends at a row boundary) and returns the row count
 * and the byte offset and index of the first row whose `seqColumn` (a UInt64) exceeds `after`.
 * Throws ERR_STORAGE_QUERY on a truncated or corrupt body.
 */
export function walk(body: Uint8Array, cols: readonly Column[], seqColumn = 'seq', after = -1n): { rows: number; firstAfter: number; firstAfterRow: number } {
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const end = body.byteLength;
  const seqAt = cols.findIndex((c) => c.name === seqColumn);
  let off = 0, rows = 0, firstAfter = -1, firstAfterRow = -1;
  while (off < end) {
    const start = off;
    for (let c = 0; c < cols.length; c++) {
      const t = cols[c]!.type;
      const fixed = FIXED[t];
      if (fixed !== undefined) {
        if (off + fixed > end) truncated(cols[c]!.name, off);
        if (c === seqAt && firstAfter < 0 && dv.getBigUint64(off, true) > after) { firstAfter = start; firstAfterRow = rows; }
        off += fixed;
        continue;
      }
      const [n, o] = varintAt(body, off, end);
      const w = t === 'String' ? 1 : ELEM[t]!;
      off = o + n * w;
      if (off > end) truncated(cols[c]!.name, o);
    }
    rows++;
  }
  if (firstAfter < 0) { firstAfter = end; firstAfterRow = rows; }
  return { rows, firstAfter, firstAfterRow };
}

/** Decodes `body` into rows; 64-bit integers as decimal strings (as the JSON formats give them). */
export function decode(body: Uint8Array, cols: readonly Column[]): Record<string, unknown>[] {
  walk(body, cols);
  const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const out: Record<string, unknown>[] = [];
  let off = 0;
  while (off < body.byteLength) {
    const r: Record<string, unknown> = {};
    for (const c of cols) {
      switch (c.type) {
        case 'UInt8': case 'Enum8': r[c.name] = c.type === 'Enum8' ? dv.getInt8(off) : dv.getUint8(off); off += 1; break;
        case 'UInt16': r[c.name] = dv.getUint16(off, true); off += 2; break;
        case 'UInt32': r[c.name] = dv.getUint32(off, true); off += 4; break;
        case 'UInt64': r[c.name] = dv.getBigUint64(off, true).toString(); off += 8; break;
        case 'Int64': r[c.name] = dv.getBigInt64(off, true).toString(); off += 8; break;
        case 'Float64': r[c.name] = dv.getFloat64(off, true); off += 8; break;
        case 'String': { const [n, o] = varintAt(body, off, body.byteLength); r[c.name] = dec.decode(body.subarray(o, o + n)); off = o + n; break; }
        default: {
          const [n, o] = varintAt(body, off, body.byteLength);
          const xs: (string | number)[] = [];
          off = o;
          for (let i = 0; i < n; i++) {
            if (c.type === 'Array(UInt32)') { xs.push(dv.getUint32(off, true)); off += 4; }
            else { xs.push(c.type === 'Array(Int64)' ? dv.getBigInt64(off, true).toString() : dv.getBigUint64(off, true).toString()); off += 8; }
          }
          r[c.name] = xs;
        }
      }
    }
    out.push(r);
  }
  return out;
}
