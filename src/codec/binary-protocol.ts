/**
 * The binary client protocol (DESIGN "Client protocol", docs/protocol.md "Binary protocol"): every
 * binary message layout, the frame header, the numeric reason/error code table, a strict decoder
 * and an encoder that writes into a reusable buffer. Same semantics as the JSON protocol
 * (src/codec/json-protocol.ts); prices are integer ticks (i64) and quantities integer lots, never
 * decimals.
 *
 * Layout (all little-endian; a frame is one WebSocket binary message):
 * ```
 * FRAME HEADER (8 B)
 * ┌────────────┬─────────┬───────┬────────────┬────────────┐
 * │ magic u16  │ ver u8  │ flg u8│ count u16  │ rsv u16    │   magic 0x5354 (bytes "TS"), ver 1,
 * 0            2         3       4            6            8   flags 0, count 1..65535, rsv 0
 * then `count` messages, back to back, filling the frame exactly:
 * MESSAGE HEADER (8 B)
 * ┌─────────┬────────┬────────────┬──────────────┐
 * │ type u8 │ rsv u8 │ length u16 │  reqId u32   │   length = body bytes (after this header);
 * 0         1        2            4              8   reqId 0 = none, echoed in direct replies
 * then the body (layouts below in LAYOUT_DOC and docs/protocol.md; reserved bytes are 0).
 * ```
 * clientOrderId is a u64 (1..2^64-1) whose JSON equivalent is its decimal text without leading
 * zeros: binary 42 and JSON "42" are the same clientOrderId of an account (idempotency and
 * cancel/modify by clientOrderId interoperate). Decoded messages carry it as that decimal string
 * ('' = absent); JSON ids that are not such a decimal have no binary form (reports carry 0).
 *
 * Invariants: `decodeFrame` accepts a frame only if the magic, version, flags, count, every
 * message's type (for that direction), exact length, enum fields, reserved bytes and ranges
 * (u64 ids, prices and quantities ≤ 2^53-1) are valid; otherwise it throws BinaryProtocolError
 * and nothing of the frame is used (all-or-nothing). encode→decode is the identity (property
 * tested for every message type).
 * Complexity: O(frame bytes). Allocation: decoding allocates one object per message (and its
 * level arrays); the encoder writes into its own growable buffer (grows to the largest frame
 * seen, then none) and `take()` allocates one Buffer per frame it hands to the socket.
 * Known limitations: a message body is at most 65,535 bytes (≤ 4,093 book levels per message;
 * the gateway sends a snapshot instead of a larger delta). Timestamps (`ts`, ns) decode to a JS
 * number and lose precision below ~256 ns, exactly like the JSON protocol's `ts`.
 */
import { REASON_NAMES } from '../abi/records.js';

export const MAGIC = 0x5354;
export const VERSION = 1;
export const FRAME_HEADER_SIZE = 8;
export const MSG_HEADER_SIZE = 8;
export const MAX_BODY = 0xffff;
export const LEVEL_SIZE = 16;
/** Most book levels (bids + asks) in one snapshot or delta message. */
export const MAX_LEVELS = Math.floor((MAX_BODY - 32) / LEVEL_SIZE);

/** Message type ids: client → server 0x01–0x3F, server → client 0x41–0x7F. Never reused. */
export const MsgType = {
  AUTH: 0x01, SUBSCRIBE: 0x02, UNSUBSCRIBE: 0x03, NEW_ORDER: 0x04, CANCEL: 0x05, MODIFY: 0x06, PING: 0x07,
  AUTH_RESULT: 0x41, SUBSCRIBED: 0x42, ACK: 0x43, REJECT: 0x44, FILL: 0x45, CANCELLED: 0x46, MODIFIED: 0x47,
  BOOK_SNAPSHOT: 0x48, BOOK_DELTA: 0x49, TRADE: 0x4a, TICKER: 0x4b, PONG: 0x4c, ERROR: 0x4d,
} as const;

/** Fixed body sizes (snapshot and delta: the fixed part; 16 B per level follows). */
export const BODY_SIZE: Readonly<Record<number, number>> = {
  [MsgType.AUTH]: 112, [MsgType.SUBSCRIBE]: 8, [MsgType.UNSUBSCRIBE]: 8, [MsgType.NEW_ORDER]: 32, [MsgType.CANCEL]: 16,
  [MsgType.MODIFY]: 32, [MsgType.PING]: 0, [MsgType.AUTH_RESULT]: 8, [MsgType.SUBSCRIBED]: 8, [MsgType.ACK]: 32,
  [MsgType.REJECT]: 32, [MsgType.FILL]: 56, [MsgType.CANCELLED]: 32, [MsgType.MODIFIED]: 40, [MsgType.BOOK_SNAPSHOT]: 16,
  [MsgType.BOOK_DELTA]: 32, [MsgType.TRADE]: 40, [MsgType.TICKER]: 64, [MsgType.PONG]: 0, [MsgType.ERROR]: 8,
};

const CLIENT_TYPES = new Set<number>([1, 2, 3, 4, 5, 6, 7]);
const SERVER_TYPES = new Set<number>([0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d]);

/** Channel bits of subscribe/unsubscribe/subscribed. */
export const Channel = { BOOK: 1, TRADES: 2, TICKER: 4 } as const;

/**
 * Reason and error codes (u16), one name per code, never reused. 1–63: the engine's reject
 * reasons (REASON_NAMES in src/abi/records.ts, same numbers). 64–127: gateway rejects, auth
 * failures and error codes.
 */
export const GATEWAY_CODES: Readonly<Record<string, number>> = {
  busy: 64, rejected: 65, bad_frame: 66, too_large: 67, not_authenticated: 68, forbidden: 69, rate_limited: 70,
  not_supported: 71, invalid_credentials: 72, stale_timestamp: 73, replay: 74, malformed: 75, bad_json: 76,
  unknown_field: 77, missing_field: 78, bad_field: 79, too_many_channels: 80,
  // `bad_op` (a JSON error code) is the engine's reason 8, `unknown_symbol` 1, `unknown_order` 6
};
export const CODE_BY_NAME: ReadonlyMap<string, number> = new Map<string, number>([
  ...Object.entries(REASON_NAMES).map(([c, n]) => [n, Number(c)] as [string, number]),
  ...Object.entries(GATEWAY_CODES),
]);
export const NAME_BY_CODE: ReadonlyMap<number, string> = new Map([...CODE_BY_NAME].map(([n, c]) => [c, n]));

/** The numeric code of a reason/error name (65 `rejected` for a name without one). */
export function codeOf(name: string): number { return CODE_BY_NAME.get(name) ?? GATEWAY_CODES.rejected!; }
/** The name of a code (`code_<n>` for an unassigned one, so a newer server stays readable). */
export function nameOf(code: number): string { return NAME_BY_CODE.get(code) ?? `code_${code}`; }

export const AUTH_REASONS = ['invalid_credentials', 'stale_timestamp', 'replay', 'malformed'] as const;

// ── decoded messages ────────────────────────────────────────────────────────────────────────
export type Level = [price: number, qty: number];

export type ClientBinMessage =
  | { kind: 'auth'; reqId: number; ts: number; cancelOnDisconnect: boolean; key: string; sig: string }
  | { kind: 'subscribe' | 'unsubscribe'; reqId: number; instrument: number; channels: number }
  | { kind: 'order'; reqId: number; clientOrderId: string; instrument: number; side: 0 | 1; type: 0 | 1; tif: 0 | 1 | 2 | 3; price: number; qty: number }
  | { kind: 'cancel'; reqId: number; clientOrderId: string; orderId: number }
  | { kind: 'modify'; reqId: number; clientOrderId: string; orderId: number; price: number; qty: number }
  | { kind: 'ping'; reqId: number };

export type ServerBinMessage =
  | { kind: 'auth'; reqId: number; ok: boolean; reason: string | null; account: number }
  | { kind: 'subscribed'; reqId: number; instrument: number; channels: number; ok: boolean }
  | { kind: 'ack'; reqId: number; clientOrderId: string; orderId: number; seq: number | null; duplicate: boolean }
  | { kind: 'reject'; reqId: number; clientOrderId: string; orderId: number; seq: number | null; reason: string }
  | { kind: 'fill'; reqId: number; orderId: number; clientOrderId: string; tradeId: number; price: number; seq: number; qty: number; leaves: number; liquidity: 'maker' | 'taker'; instrument: number }
  | { kind: 'cancelled'; reqId: number; orderId: number; clientOrderId: string; seq: number; qty: number; instrument: number }
  | { kind: 'modified'; reqId: number; orderId: number; clientOrderId: string; seq: number; price: number; qty: number; instrument: number }
  | { kind: 'book'; reqId: number; instrument: number; seq: number; bids: Level[]; asks: Level[] }
  | { kind: 'bookDelta'; reqId: number; instrument: number; first: number; last: number; checksum: number; bids: Level[]; asks: Level[] }
  | { kind: 'trade'; reqId: number; instrument: number; takerSide: 'buy' | 'sell'; tradeId: number; price: number; qty: number; ts: number }
  | { kind: 'ticker'; reqId: number; instrument: number; bid: number | null; bidQty: number | null; ask: number | null; askQty: number | null; last: number | null; lastQty: number | null; ts: number }
  | { kind: 'pong'; reqId: number }
  | { kind: 'error'; reqId: number; code: string; msgType: number };

export type BinMessage = ClientBinMessage | ServerBinMessage;

export class BinaryProtocolError extends Error {
  readonly code = 'bad_frame';
  constructor(message: string, readonly reqId = 0, readonly msgType = 0) {
    super(message);
    this.name = 'BinaryProtocolError';
  }
}

// ── u64 helpers (no BigInt on the fast paths) ──────────────────────────────────────────────
const TWO32 = 4294967296;
const U64_MAX = (1n << 64n) - 1n;

function getU64(dv: DataView, o: number, what: string): number {
  const hi = dv.getUint32(o + 4, true);
  if (hi > 0x1fffff) throw new BinaryProtocolError(`${what} exceeds 2^53-1`);
  return hi * TWO32 + dv.getUint32(o, true);
}
function getI64(dv: DataView, o: number, what: string): number {
  const hi = dv.getInt32(o + 4, true);
  if (hi > 0x1fffff || hi < -0x200000) throw new BinaryProtocolError(`${what} outside ±(2^53-1)`);
  const v = hi * TWO32 + dv.getUint32(o, true);
  if (!Number.isSafeInteger(v)) throw new BinaryProtocolError(`${what} outside ±(2^53-1)`);
  return v;
}
/** An i64 that may exceed 2^53 (timestamps): the nearest number. */
function getI64Loose(dv: DataView, o: number): number { return dv.getInt32(o + 4, true) * TWO32 + dv.getUint32(o, true); }
function setU64(dv: DataView, o: number, v: number): void {
  const lo = v % TWO32;
  dv.setUint32(o, lo, true);
  dv.setUint32(o + 4, (v - lo) / TWO32, true);
}
function setI64(dv: DataView, o: number, v: number): void {
  if (v >= 0) { setU64(dv, o, v); return; }
  const hi = Math.floor(v / TWO32);
  dv.setUint32(o, v - hi * TWO32, true);
  dv.setInt32(o + 4, hi, true);
}

/** A clientOrderId u64 as its decimal text ('' for 0). */
function getCid(dv: DataView, o: number): string {
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
function setCid(dv: DataView, o: number, s: string): void {
  if (s.length > 0 && s.length <= 15 && CID_TEXT.test(s)) { setU64(dv, o, Number(s)); return; }
  if (isBinaryClientOrderId(s)) { dv.setBigUint64(o, BigInt(s), true); return; }
  dv.setUint32(o, 0, true);
  dv.setUint32(o + 4, 0, true);
}

function zero(dv: DataView, o: number, n: number, what: string): void {
  for (let i = 0; i < n; i++) if (dv.getUint8(o + i) !== 0) throw new BinaryProtocolError(`${what}: reserved byte ${i} is not 0`);
}

// ── encoder ────────────────────────────────────────────────────────────────────────────────
/**
 * Builds frames: `begin` a message, write its body, repeat; `take()` returns the frame (one Buffer
 * allocation) and starts the next. The buffer grows (doubling) to fit the largest frame and is
 * then reused. `size` is the current frame's byte count, for size budgets.
 */
export class BinaryWriter {
  private buf: Uint8Array;
  private dv: DataView;
  private pos = FRAME_HEADER_SIZE;
  count = 0;

  constructor(initialBytes = 4096) {
    this.buf = new Uint8Array(Math.max(initialBytes, 64));
    this.dv = new DataView(this.buf.buffer);
  }

  get size(): number { return this.count === 0 ? 0 : this.pos; }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const b = new Uint8Array(cap); // allocates: growth only
    b.set(this.buf.subarray(0, this.pos));
    this.buf = b;
    this.dv = new DataView(b.buffer);
  }

  /** Starts a message; returns the body offset (body bytes are zeroed). */
  private begin(type: number, reqId: number, bodyLen: number): number {
    if (bodyLen > MAX_BODY) throw new RangeError(`message body of ${bodyLen} bytes exceeds ${MAX_BODY}`);
    if (this.count === 0xffff) throw new RangeError('a frame holds at most 65,535 messages');
    this.ensure(MSG_HEADER_SIZE + bodyLen);
    const h = this.pos;
    this.buf.fill(0, h, h + MSG_HEADER_SIZE + bodyLen);
    this.dv.setUint8(h, type);
    this.dv.setUint16(h + 2, bodyLen, true);
    this.dv.setUint32(h + 4, reqId >>> 0, true);
    this.pos = h + MSG_HEADER_SIZE + bodyLen;
    this.count++;
    return h + MSG_HEADER_SIZE;
  }

  /** Appends one already encoded message (header + body), e.g. the bytes of `lastMessage()`. */
  appendRaw(bytes: Uint8Array): void {
    if (this.count === 0xffff) throw new RangeError('a frame holds at most 65,535 messages');
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
    this.count++;
  }

  /** The bytes of the frame's last message (a view, valid until the next write). */
  messageAt(start: number): Uint8Array { return this.buf.subarray(start, this.pos); }
  /** Offset where the next message will start (for `messageAt`). */
  get mark(): number { return this.pos; }

  /** The frame so far as a new Buffer (allocates), or null if empty; then starts a new frame. */
  take(): Buffer | null {
    if (this.count === 0) return null;
    const dv = this.dv;
    dv.setUint16(0, MAGIC, true);
    dv.setUint8(2, VERSION);
    dv.setUint8(3, 0);
    dv.setUint16(4, this.count, true);
    dv.setUint16(6, 0, true);
    const out = Buffer.allocUnsafe(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    this.reset();
    return out;
  }

  reset(): void { this.pos = FRAME_HEADER_SIZE; this.count = 0; }

  // client → server
  auth(reqId: number, key: string, ts: number, sig: string, cancelOnDisconnect = false): void {
    if (key.length < 1 || key.length > 64 || !/^[\x21-\x7e]+$/.test(key)) throw new RangeError('key must be 1-64 printable ASCII characters');
    if (!/^[0-9a-f]{64}$/.test(sig)) throw new RangeError('sig must be 64 lowercase hex characters');
    const b = this.begin(MsgType.AUTH, reqId, 112);
    setU64(this.dv, b, ts);
    this.dv.setUint8(b + 8, cancelOnDisconnect ? 1 : 0);
    this.dv.setUint8(b + 9, key.length);
    for (let i = 0; i < key.length; i++) this.buf[b + 16 + i] = key.charCodeAt(i);
    for (let i = 0; i < 32; i++) this.buf[b + 80 + i] = parseInt(sig.slice(i * 2, i * 2 + 2), 16);
  }
  subscribe(reqId: number, instrument: number, channels: number, unsubscribe = false): void {
    const b = this.begin(unsubscribe ? MsgType.UNSUBSCRIBE : MsgType.SUBSCRIBE, reqId, 8);
    this.dv.setUint32(b, instrument, true);
    this.dv.setUint8(b + 4, channels);
  }
  order(reqId: number, clientOrderId: string, instrument: number, side: number, type: number, tif: number, price: number, qty: number): void {
    const b = this.begin(MsgType.NEW_ORDER, reqId, 32);
    setCid(this.dv, b, clientOrderId);
    this.dv.setUint32(b + 8, instrument, true);
    this.dv.setUint8(b + 12, side);
    this.dv.setUint8(b + 13, type);
    this.dv.setUint8(b + 14, tif);
    setI64(this.dv, b + 16, price);
    this.dv.setUint32(b + 24, qty, true);
  }
  cancel(reqId: number, clientOrderId: string, orderId: number): void {
    const b = this.begin(MsgType.CANCEL, reqId, 16);
    setCid(this.dv, b, clientOrderId);
    setU64(this.dv, b + 8, orderId);
  }
  modify(reqId: number, clientOrderId: string, orderId: number, price: number, qty: number): void {
    const b = this.begin(MsgType.MODIFY, reqId, 32);
    setCid(this.dv, b, clientOrderId);
    setU64(this.dv, b + 8, orderId);
    setI64(this.dv, b + 16, price);
    this.dv.setUint32(b + 24, qty, true);
  }
  ping(reqId: number): void { this.begin(MsgType.PING, reqId, 0); }

  // server → client
  authResult(reqId: number, ok: boolean, reason: string | null, account: number): void {
    const b = this.begin(MsgType.AUTH_RESULT, reqId, 8);
    this.dv.setUint8(b, ok ? 1 : 0);
    this.dv.setUint16(b + 2, ok ? 0 : codeOf(reason ?? 'malformed'), true);
    this.dv.setUint32(b + 4, ok ? account : 0, true);
  }
  subscribed(reqId: number, instrument: number, channels: number, ok: boolean): void {
    const b = this.begin(MsgType.SUBSCRIBED, reqId, 8);
    this.dv.setUint32(b, instrument, true);
    this.dv.setUint8(b + 4, channels);
    this.dv.setUint8(b + 5, ok ? 1 : 0);
  }
  ack(reqId: number, clientOrderId: string, orderId: number, seq: number | null, duplicate: boolean): void {
    const b = this.begin(MsgType.ACK, reqId, 32);
    setCid(this.dv, b, clientOrderId);
    setU64(this.dv, b + 8, orderId);
    setU64(this.dv, b + 16, seq ?? 0);
    this.dv.setUint8(b + 24, duplicate ? 1 : 0);
  }
  reject(reqId: number, clientOrderId: string, orderId: number, seq: number | null, reason: string): void {
    const b = this.begin(MsgType.REJECT, reqId, 32);
    setCid(this.dv, b, clientOrderId);
    setU64(this.dv, b + 8, orderId);
    setU64(this.dv, b + 16, seq ?? 0);
    this.dv.setUint16(b + 24, codeOf(reason), true);
  }
  fill(reqId: number, orderId: number, clientOrderId: string, tradeId: number, price: number, seq: number, qty: number, leaves: number, taker: boolean, instrument: number): void {
    const b = this.begin(MsgType.FILL, reqId, 56);
    setU64(this.dv, b, orderId);
    setCid(this.dv, b + 8, clientOrderId);
    setU64(this.dv, b + 16, tradeId);
    setI64(this.dv, b + 24, price);
    setU64(this.dv, b + 32, seq);
    this.dv.setUint32(b + 40, qty, true);
    this.dv.setUint32(b + 44, leaves, true);
    this.dv.setUint8(b + 48, taker ? 1 : 0);
    this.dv.setUint32(b + 52, instrument, true);
  }
  cancelled(reqId: number, orderId: number, clientOrderId: string, seq: number, qty: number, instrument: number): void {
    const b = this.begin(MsgType.CANCELLED, reqId, 32);
    setU64(this.dv, b, orderId);
    setCid(this.dv, b + 8, clientOrderId);
    setU64(this.dv, b + 16, seq);
    this.dv.setUint32(b + 24, qty, true);
    this.dv.setUint32(b + 28, instrument, true);
  }
  modified(reqId: number, orderId: number, clientOrderId: string, seq: number, price: number, qty: number, instrument: number): void {
    const b = this.begin(MsgType.MODIFIED, reqId, 40);
    setU64(this.dv, b, orderId);
    setCid(this.dv, b + 8, clientOrderId);
    setU64(this.dv, b + 16, seq);
    setI64(this.dv, b + 24, price);
    this.dv.setUint32(b + 32, qty, true);
    this.dv.setUint32(b + 36, instrument, true);
  }
  private levels(o: number, xs: readonly (readonly [number, number, ...unknown[]])[]): number {
    for (const x of xs) { setI64(this.dv, o, x[0]); setU64(this.dv, o + 8, x[1]); o += LEVEL_SIZE; }
    return o;
  }
  book(reqId: number, instrument: number, seq: number, bids: readonly (readonly [number, number, ...unknown[]])[], asks: readonly (readonly [number, number, ...unknown[]])[]): void {
    if (bids.length + asks.length > MAX_LEVELS) throw new RangeError(`a snapshot holds at most ${MAX_LEVELS} levels`);
    const b = this.begin(MsgType.BOOK_SNAPSHOT, reqId, 16 + LEVEL_SIZE * (bids.length + asks.length));
    this.dv.setUint32(b, instrument, true);
    this.dv.setUint16(b + 4, bids.length, true);
    this.dv.setUint16(b + 6, asks.length, true);
    setU64(this.dv, b + 8, seq);
    this.levels(this.levels(b + 16, bids), asks);
  }
  bookDelta(reqId: number, instrument: number, first: number, last: number, checksum: number, bids: readonly (readonly [number, number, ...unknown[]])[], asks: readonly (readonly [number, number, ...unknown[]])[]): void {
    if (bids.length + asks.length > MAX_LEVELS) throw new RangeError(`a delta holds at most ${MAX_LEVELS} levels`);
    const b = this.begin(MsgType.BOOK_DELTA, reqId, 32 + LEVEL_SIZE * (bids.length + asks.length));
    this.dv.setUint32(b, instrument, true);
    this.dv.setUint16(b + 4, bids.length, true);
    this.dv.setUint16(b + 6, asks.length, true);
    setU64(this.dv, b + 8, first);
    setU64(this.dv, b + 16, last);
    this.dv.setUint32(b + 24, checksum >>> 0, true);
    this.levels(this.levels(b + 32, bids), asks);
  }
  /** `ts`: epoch ns; a bigint is written exactly (the engine's tsInit), a number as an integer double. */
  trade(reqId: number, instrument: number, takerSell: boolean, tradeId: number, price: number, qty: number, ts: number | bigint): void {
    const b = this.begin(MsgType.TRADE, reqId, 40);
    this.dv.setUint32(b, instrument, true);
    this.dv.setUint8(b + 4, takerSell ? 1 : 0);
    setU64(this.dv, b + 8, tradeId);
    setI64(this.dv, b + 16, price);
    this.dv.setUint32(b + 24, qty, true);
    if (typeof ts === 'bigint') this.dv.setBigInt64(b + 32, ts, true); else setI64(this.dv, b + 32, ts);
  }
  ticker(reqId: number, instrument: number, bid: number | null, bidQty: number | null, ask: number | null, askQty: number | null, last: number | null, lastQty: number | null, ts: number): void {
    const b = this.begin(MsgType.TICKER, reqId, 64);
    this.dv.setUint32(b, instrument, true);
    this.dv.setUint8(b + 4, (bid !== null ? 1 : 0) | (ask !== null ? 2 : 0) | (last !== null ? 4 : 0));
    if (bid !== null) { setI64(this.dv, b + 8, bid); setU64(this.dv, b + 16, bidQty ?? 0); }
    if (ask !== null) { setI64(this.dv, b + 24, ask); setU64(this.dv, b + 32, askQty ?? 0); }
    if (last !== null) { setI64(this.dv, b + 40, last); setU64(this.dv, b + 48, lastQty ?? 0); }
    setI64(this.dv, b + 56, ts);
  }
  pong(reqId: number): void { this.begin(MsgType.PONG, reqId, 0); }
  error(reqId: number, code: string, msgType = 0): void {
    const b = this.begin(MsgType.ERROR, reqId, 8);
    this.dv.setUint16(b, codeOf(code), true);
    this.dv.setUint8(b + 2, msgType);
  }

  /** Encodes any decoded message (tests, tools; the gateway calls the typed methods directly). */
  write(m: BinMessage): void {
    switch (m.kind) {
      case 'auth':
        if ('key' in m) this.auth(m.reqId, m.key, m.ts, m.sig, m.cancelOnDisconnect);
        else this.authResult(m.reqId, m.ok, m.reason, m.account);
        return;
      case 'subscribe': case 'unsubscribe': this.subscribe(m.reqId, m.instrument, m.channels, m.kind === 'unsubscribe'); return;
      case 'order': this.order(m.reqId, m.clientOrderId, m.instrument, m.side, m.type, m.tif, m.price, m.qty); return;
      case 'cancel': this.cancel(m.reqId, m.clientOrderId, m.orderId); return;
      case 'modify': this.modify(m.reqId, m.clientOrderId, m.orderId, m.price, m.qty); return;
      case 'ping': this.ping(m.reqId); return;
      case 'subscribed': this.subscribed(m.reqId, m.instrument, m.channels, m.ok); return;
      case 'ack': this.ack(m.reqId, m.clientOrderId, m.orderId, m.seq, m.duplicate); return;
      case 'reject': this.reject(m.reqId, m.clientOrderId, m.orderId, m.seq, m.reason); return;
      case 'fill': this.fill(m.reqId, m.orderId, m.clientOrderId, m.tradeId, m.price, m.seq, m.qty, m.leaves, m.liquidity === 'taker', m.instrument); return;
      case 'cancelled': this.cancelled(m.reqId, m.orderId, m.clientOrderId, m.seq, m.qty, m.instrument); return;
      case 'modified': this.modified(m.reqId, m.orderId, m.clientOrderId, m.seq, m.price, m.qty, m.instrument); return;
      case 'book': this.book(m.reqId, m.instrument, m.seq, m.bids, m.asks); return;
      case 'bookDelta': this.bookDelta(m.reqId, m.instrument, m.first, m.last, m.checksum, m.bids, m.asks); return;
      case 'trade': this.trade(m.reqId, m.instrument, m.takerSide === 'sell', m.tradeId, m.price, m.qty, m.ts); return;
      case 'ticker': this.ticker(m.reqId, m.instrument, m.bid, m.bidQty, m.ask, m.askQty, m.last, m.lastQty, m.ts); return;
      case 'pong': this.pong(m.reqId); return;
      case 'error': this.error(m.reqId, m.code, m.msgType); return;
    }
  }
}

// ── decoder ────────────────────────────────────────────────────────────────────────────────
function u8enum<T extends number>(dv: DataView, o: number, max: number, what: string): T {
  const v = dv.getUint8(o);
  if (v > max) throw new BinaryProtocolError(`${what} ${v} out of range 0..${max}`);
  return v as T;
}

function readLevels(dv: DataView, o: number, n: number): Level[] {
  const out: Level[] = new Array<Level>(n);
  for (let i = 0; i < n; i++, o += LEVEL_SIZE) out[i] = [getI64(dv, o, 'level price'), getU64(dv, o + 8, 'level qty')];
  return out;
}

function decodeClient(dv: DataView, type: number, b: number, len: number, reqId: number): ClientBinMessage {
  switch (type) {
    case MsgType.AUTH: {
      zero(dv, b + 10, 6, 'auth');
      const flags = dv.getUint8(b + 8);
      if (flags > 1) throw new BinaryProtocolError('auth flags: only bit 0 (cancelOnDisconnect) is defined');
      const n = dv.getUint8(b + 9);
      if (n < 1 || n > 64) throw new BinaryProtocolError('auth key length must be 1..64');
      let key = '';
      for (let i = 0; i < n; i++) {
        const ch = dv.getUint8(b + 16 + i);
        if (ch < 0x21 || ch > 0x7e) throw new BinaryProtocolError('auth key must be printable ASCII');
        key += String.fromCharCode(ch);
      }
      zero(dv, b + 16 + n, 64 - n, 'auth key padding');
      let sig = '';
      for (let i = 0; i < 32; i++) sig += dv.getUint8(b + 80 + i).toString(16).padStart(2, '0');
      const ts = getU64(dv, b, 'auth ts');
      if (ts === 0) throw new BinaryProtocolError('auth ts must be positive');
      return { kind: 'auth', reqId, ts, cancelOnDisconnect: flags === 1, key, sig };
    }
    case MsgType.SUBSCRIBE:
    case MsgType.UNSUBSCRIBE: {
      const channels = dv.getUint8(b + 4);
      if (channels === 0 || channels > 7) throw new BinaryProtocolError('channels must be a non-empty mask of 1 book, 2 trades, 4 ticker');
      zero(dv, b + 5, 3, 'subscribe');
      return { kind: type === MsgType.SUBSCRIBE ? 'subscribe' : 'unsubscribe', reqId, instrument: dv.getUint32(b, true), channels };
    }
    case MsgType.NEW_ORDER: {
      const clientOrderId = getCid(dv, b);
      if (clientOrderId === '') throw new BinaryProtocolError('clientOrderId must be 1..2^64-1');
      const side = u8enum<0 | 1>(dv, b + 12, 1, 'side');
      const ot = u8enum<0 | 1>(dv, b + 13, 1, 'type');
      const tif = u8enum<0 | 1 | 2 | 3>(dv, b + 14, 3, 'tif');
      zero(dv, b + 15, 1, 'order');
      zero(dv, b + 28, 4, 'order');
      const price = getI64(dv, b + 16, 'price');
      if (ot === 1 && price !== 0) throw new BinaryProtocolError('a market order has price 0');
      return { kind: 'order', reqId, clientOrderId, instrument: dv.getUint32(b + 8, true), side, type: ot, tif, price, qty: dv.getUint32(b + 24, true) };
    }
    case MsgType.CANCEL:
    case MsgType.MODIFY: {
      const clientOrderId = getCid(dv, b);
      const orderId = getU64(dv, b + 8, 'orderId');
      if ((clientOrderId === '') === (orderId === 0)) throw new BinaryProtocolError('exactly one of clientOrderId and orderId must be non-zero');
      if (type === MsgType.CANCEL) return { kind: 'cancel', reqId, clientOrderId, orderId };
      zero(dv, b + 28, 4, 'modify');
      return { kind: 'modify', reqId, clientOrderId, orderId, price: getI64(dv, b + 16, 'price'), qty: dv.getUint32(b + 24, true) };
    }
    default:
      void len;
      return { kind: 'ping', reqId };
  }
}

function decodeServer(dv: DataView, type: number, b: number, len: number, reqId: number): ServerBinMessage {
  switch (type) {
    case MsgType.AUTH_RESULT: {
      const ok = u8enum<number>(dv, b, 1, 'ok') === 1;
      zero(dv, b + 1, 1, 'auth result');
      const code = dv.getUint16(b + 2, true);
      if (ok !== (code === 0)) throw new BinaryProtocolError('auth result: reason must be 0 exactly when ok');
      return { kind: 'auth', reqId, ok, reason: ok ? null : nameOf(code), account: dv.getUint32(b + 4, true) };
    }
    case MsgType.SUBSCRIBED: {
      zero(dv, b + 6, 2, 'subscribed');
      return { kind: 'subscribed', reqId, instrument: dv.getUint32(b, true), channels: dv.getUint8(b + 4), ok: u8enum<number>(dv, b + 5, 1, 'ok') === 1 };
    }
    case MsgType.ACK: {
      const duplicate = u8enum<number>(dv, b + 24, 1, 'duplicate') === 1;
      zero(dv, b + 25, 7, 'ack');
      const seq = getU64(dv, b + 16, 'seq');
      return { kind: 'ack', reqId, clientOrderId: getCid(dv, b), orderId: getU64(dv, b + 8, 'orderId'), seq: seq === 0 ? null : seq, duplicate };
    }
    case MsgType.REJECT: {
      zero(dv, b + 26, 6, 'reject');
      const seq = getU64(dv, b + 16, 'seq');
      return { kind: 'reject', reqId, clientOrderId: getCid(dv, b), orderId: getU64(dv, b + 8, 'orderId'), seq: seq === 0 ? null : seq, reason: nameOf(dv.getUint16(b + 24, true)) };
    }
    case MsgType.FILL: {
      const liq = u8enum<number>(dv, b + 48, 1, 'liquidity');
      zero(dv, b + 49, 3, 'fill');
      return {
        kind: 'fill', reqId, orderId: getU64(dv, b, 'orderId'), clientOrderId: getCid(dv, b + 8), tradeId: getU64(dv, b + 16, 'tradeId'),
        price: getI64(dv, b + 24, 'price'), seq: getU64(dv, b + 32, 'seq'), qty: dv.getUint32(b + 40, true), leaves: dv.getUint32(b + 44, true),
        liquidity: liq === 1 ? 'taker' : 'maker', instrument: dv.getUint32(b + 52, true),
      };
    }
    case MsgType.CANCELLED:
      return { kind: 'cancelled', reqId, orderId: getU64(dv, b, 'orderId'), clientOrderId: getCid(dv, b + 8), seq: getU64(dv, b + 16, 'seq'), qty: dv.getUint32(b + 24, true), instrument: dv.getUint32(b + 28, true) };
    case MsgType.MODIFIED:
      return { kind: 'modified', reqId, orderId: getU64(dv, b, 'orderId'), clientOrderId: getCid(dv, b + 8), seq: getU64(dv, b + 16, 'seq'), price: getI64(dv, b + 24, 'price'), qty: dv.getUint32(b + 32, true), instrument: dv.getUint32(b + 36, true) };
    case MsgType.BOOK_SNAPSHOT:
    case MsgType.BOOK_DELTA: {
      const fixed = BODY_SIZE[type]!;
      const nb = dv.getUint16(b + 4, true);
      const na = dv.getUint16(b + 6, true);
      if (len !== fixed + LEVEL_SIZE * (nb + na)) throw new BinaryProtocolError(`book message length ${len} does not match ${nb} bids + ${na} asks`, reqId, type);
      const instrument = dv.getUint32(b, true);
      if (type === MsgType.BOOK_SNAPSHOT) {
        return { kind: 'book', reqId, instrument, seq: getU64(dv, b + 8, 'seq'), bids: readLevels(dv, b + 16, nb), asks: readLevels(dv, b + 16 + LEVEL_SIZE * nb, na) };
      }
      zero(dv, b + 28, 4, 'book delta');
      return {
        kind: 'bookDelta', reqId, instrument, first: getU64(dv, b + 8, 'first'), last: getU64(dv, b + 16, 'last'), checksum: dv.getUint32(b + 24, true),
        bids: readLevels(dv, b + 32, nb), asks: readLevels(dv, b + 32 + LEVEL_SIZE * nb, na),
      };
    }
    case MsgType.TRADE: {
      const side = u8enum<number>(dv, b + 4, 1, 'takerSide');
      zero(dv, b + 5, 3, 'trade');
      zero(dv, b + 28, 4, 'trade');
      return { kind: 'trade', reqId, instrument: dv.getUint32(b, true), takerSide: side === 1 ? 'sell' : 'buy', tradeId: getU64(dv, b + 8, 'tradeId'), price: getI64(dv, b + 16, 'price'), qty: dv.getUint32(b + 24, true), ts: getI64Loose(dv, b + 32) };
    }
    case MsgType.TICKER: {
      const f = dv.getUint8(b + 4);
      if (f > 7) throw new BinaryProtocolError('ticker flags: only bits 0..2 are defined');
      zero(dv, b + 5, 3, 'ticker');
      const has = (bit: number, o: number): void => { if ((f & bit) === 0) zero(dv, o, 16, 'ticker (absent field)'); };
      has(1, b + 8); has(2, b + 24); has(4, b + 40);
      return {
        kind: 'ticker', reqId, instrument: dv.getUint32(b, true),
        bid: f & 1 ? getI64(dv, b + 8, 'bid') : null, bidQty: f & 1 ? getU64(dv, b + 16, 'bidQty') : null,
        ask: f & 2 ? getI64(dv, b + 24, 'ask') : null, askQty: f & 2 ? getU64(dv, b + 32, 'askQty') : null,
        last: f & 4 ? getI64(dv, b + 40, 'last') : null, lastQty: f & 4 ? getU64(dv, b + 48, 'lastQty') : null, ts: getI64Loose(dv, b + 56),
      };
    }
    case MsgType.PONG:
      return { kind: 'pong', reqId };
    default: // ERROR
      zero(dv, b + 3, 5, 'error');
      return { kind: 'error', reqId, code: nameOf(dv.getUint16(b, true)), msgType: dv.getUint8(b + 2) };
  }
}

/**
 * Decodes and validates one frame; throws BinaryProtocolError (nothing of the frame is used).
 * `from`: 'client' accepts client → server types only (the gateway), 'server' the others.
 */
export function decodeFrame(bytes: Uint8Array, from: 'client'): ClientBinMessage[];
export function decodeFrame(bytes: Uint8Array, from: 'server'): ServerBinMessage[];
export function decodeFrame(bytes: Uint8Array, from: 'client' | 'server'): BinMessage[] {
  if (bytes.length < FRAME_HEADER_SIZE) throw new BinaryProtocolError(`frame of ${bytes.length} bytes is shorter than its 8-byte header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint16(0, true) !== MAGIC) throw new BinaryProtocolError('bad magic (expected bytes "TS")');
  const ver = dv.getUint8(2);
  if (ver !== VERSION) throw new BinaryProtocolError(`unsupported version ${ver} (this server speaks ${VERSION})`);
  if (dv.getUint8(3) !== 0 || dv.getUint16(6, true) !== 0) throw new BinaryProtocolError('frame header reserved bytes must be 0');
  const count = dv.getUint16(4, true);
  if (count === 0) throw new BinaryProtocolError('frame holds no message');
  const allowed = from === 'client' ? CLIENT_TYPES : SERVER_TYPES;
  const out: BinMessage[] = new Array<BinMessage>(count);
  let o = FRAME_HEADER_SIZE;
  for (let i = 0; i < count; i++) {
    if (o + MSG_HEADER_SIZE > bytes.length) throw new BinaryProtocolError(`frame ends inside message ${i} of ${count} (count mismatch or truncated)`);
    const type = dv.getUint8(o);
    const len = dv.getUint16(o + 2, true);
    const reqId = dv.getUint32(o + 4, true);
    if (!allowed.has(type)) throw new BinaryProtocolError(`unknown message type 0x${type.toString(16)} for this direction`, reqId, type);
    if (dv.getUint8(o + 1) !== 0) throw new BinaryProtocolError('message header reserved byte must be 0', reqId, type);
    const b = o + MSG_HEADER_SIZE;
    if (b + len > bytes.length) throw new BinaryProtocolError(`message ${i} (type 0x${type.toString(16)}) runs past the end of the frame`, reqId, type);
    const fixed = BODY_SIZE[type]!;
    const variable = type === MsgType.BOOK_SNAPSHOT || type === MsgType.BOOK_DELTA;
    if (variable ? len < fixed : len !== fixed) throw new BinaryProtocolError(`message type 0x${type.toString(16)} has length ${len}, expected ${fixed}${variable ? '+16n' : ''}`, reqId, type);
    try {
      out[i] = from === 'client' ? decodeClient(dv, type, b, len, reqId) : decodeServer(dv, type, b, len, reqId);
    } catch (e) {
      if (e instanceof BinaryProtocolError && e.reqId === 0 && e.msgType === 0) throw new BinaryProtocolError(e.message, reqId, type);
      throw e;
    }
    o = b + len;
  }
  if (o !== bytes.length) throw new BinaryProtocolError(`${bytes.length - o} bytes after the last of ${count} messages (count mismatch)`);
  return out;
}
