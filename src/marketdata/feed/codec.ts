/**
 * The UDP market-data feed's wire codec (docs/feed.md): MoldUDP64 packets, ITCH-like messages,
 * retransmission requests, and the one wire message → FeedMsg ring record conversion.
 *
 * Owns: the wire offsets and lengths, packet header encode/check, the message encoders the
 * publisher's packetizer calls, packet validation, the allocation-free decode of a message straight
 * into a ring record (`messageToRecord`), and an allocating object decoder for tools and tests
 * (`decodePacket`).
 *
 * Layout (big-endian on the wire):
 * ```
 * packet   0 session[10] (ASCII, space-padded) · 10 seq u64 (first message) · 18 count u16 · 20 blocks
 * block    0 length u16 · 2 message[length]
 * message  0 type u8 · 1 symbol u32 · 5 timestamp u64 (ns epoch) · 13 body (per type, docs/feed.md)
 * request  0 session[10] · 10 seq u64 (first wanted) · 18 count u16 (messages wanted)       = 20 B
 * ```
 * count 0 = heartbeat (seq = next expected), 0xFFFF = end of session (seq = next expected).
 * Ring record fields per type (little-endian FeedMsg, src/abi/records.ts): A orderId side price qty ·
 * X orderId qty (cancelled) · E orderId qty (executed) matchId · P price qty side (aggressor) matchId ·
 * D side price qty (new level total) · S qty = the event code (ASCII O/C/R); fields a type does not
 * carry are 0 (side 255). tsSend = the wire timestamp, copied bit for bit.
 * Invariants: encoders write only values that fit their wire type (checked; ERR_FEED_MESSAGE);
 * `checkPacket` accepts a packet only if its blocks exactly fill it and their number equals `count`,
 * and every known message is at least its type's length with a valid side byte (longer known
 * messages are accepted and their extra bytes ignored: the feed can grow; unknown types are skipped).
 * u64 fields are exchanged as JS numbers (exact below 2^53; prices may be negative i64), except
 * timestamps, which move as (lo, hi) u32 words or bigints and are copied, never rounded.
 * Complexity: O(1) per message, O(blocks) per packet check.
 * Allocation: none in the encoders, `checkPacket`, `messageToRecord` and the header readers;
 * `decodePacket`, `sessionBytes` and `sessionName` allocate (tools, tests, set-up).
 * Known limitations: sequence numbers above 2^53 are not representable (a session would need
 * 2^53 messages).
 */
import { FEED_ENUMS, FEED_MSG, type RecordDef } from '../../abi/records.js';
import { TradsysError } from '../../domain/errors.js';

export const FEED_SESSION_BYTES = 10;
export const FEED_PACKET_HEADER = 20;
export const FEED_BLOCK_HEADER = 2;
export const FEED_REQUEST_BYTES = 20;
/** Largest UDP payload that fits a 1,500-byte Ethernet MTU (IPv4 20 B + UDP 8 B headers). */
export const FEED_DEFAULT_MAX_PAYLOAD = 1472;
/** Smallest payload the publisher accepts (a header and the longest message). */
export const FEED_MIN_PAYLOAD = 64;
/** Largest UDP payload over IPv4. */
export const FEED_MAX_PAYLOAD = 65507;
export const FEED_COUNT_HEARTBEAT = 0;
export const FEED_COUNT_END = 0xffff;
/** Most messages one packet may carry (0xFFFF is the end-of-session marker). */
export const FEED_MAX_COUNT = 0xfffe;

const T = FEED_ENUMS.FeedMsgType;
export const MSG_ADD = T.ADD;
export const MSG_CANCEL = T.CANCEL;
export const MSG_EXECUTE = T.EXECUTE;
export const MSG_TRADE = T.TRADE;
export const MSG_BOOK_DELTA = T.BOOK_DELTA;
export const MSG_SYSTEM = T.SYSTEM;
export const MSG_GAP = T.GAP;

/** Wire length of each message type (header 13 B + body); 0 = unknown type. */
export const MSG_LENGTH = new Uint8Array(256);
MSG_LENGTH[MSG_ADD] = 34;
MSG_LENGTH[MSG_CANCEL] = 25;
MSG_LENGTH[MSG_EXECUTE] = 33;
MSG_LENGTH[MSG_TRADE] = 34;
MSG_LENGTH[MSG_BOOK_DELTA] = 26;
MSG_LENGTH[MSG_SYSTEM] = 14;
/** The longest known message. */
export const MSG_MAX_LENGTH = 34;

/** System event codes (`S` messages). */
export const SYS_START = 79; // 'O'
export const SYS_END = 67; // 'C'
export const SYS_RESET = 82; // 'R'

/** Wire side bytes and the ring's Side values (src/abi/records.ts Side: BUY 0, SELL 1). */
export const WIRE_BUY = 66; // 'B'
export const WIRE_SELL = 83; // 'S'
export const SIDE_BUY = 0;
export const SIDE_SELL = 1;
export const SIDE_NONE = 255;

// message offsets (after the block's length)
const M_TYPE = 0;
const M_SYMBOL = 1;
const M_TS = 5;
const M_BODY = 13;

const TWO32 = 4294967296;
const U32_MAX = 0xffffffff;
const U53 = Number.MAX_SAFE_INTEGER;

function fieldOff(r: RecordDef, name: string): number {
  const f = r.fields.find((x) => x.name === name);
  if (!f) throw new Error(`${r.name}.${name}: no such field`);
  return f.offset;
}
/** FeedMsg byte offsets (module-load constants from src/abi/records.ts). */
export const R = {
  type: fieldOff(FEED_MSG, 'type'), side: fieldOff(FEED_MSG, 'side'), stampSource: fieldOff(FEED_MSG, 'stampSource'),
  path: fieldOff(FEED_MSG, 'path'), symbol: fieldOff(FEED_MSG, 'symbol'), seq: fieldOff(FEED_MSG, 'seq'),
  orderId: fieldOff(FEED_MSG, 'orderId'), price: fieldOff(FEED_MSG, 'price'), qty: fieldOff(FEED_MSG, 'qty'),
  flags: fieldOff(FEED_MSG, 'flags'), matchId: fieldOff(FEED_MSG, 'matchId'), tsSend: fieldOff(FEED_MSG, 'tsSend'),
  tsRecv: fieldOff(FEED_MSG, 'tsRecv'), tsRing: fieldOff(FEED_MSG, 'tsRing'), size: FEED_MSG.size,
} as const;

function bad(detail: string): never { throw new TradsysError('ERR_FEED_MESSAGE', detail); }

/** Checks `v` is an integer in [lo, hi] for field `name` (encoders; throws ERR_FEED_MESSAGE). */
function check(v: number, lo: number, hi: number, name: string): void {
  if (!(Number.isInteger(v) && v >= lo && v <= hi)) bad(`${name} ${v} is not an integer in [${lo}, ${hi}]`);
}

/** Writes the integer `v` (|v| ≤ 2^53; negative as two's complement) as a big-endian 64-bit field. */
export function setU64BE(dv: DataView, off: number, v: number): void {
  const hi = Math.floor(v / TWO32);
  dv.setUint32(off, hi >>> 0);
  dv.setUint32(off + 4, v - hi * TWO32);
}

/** Reads a big-endian unsigned 64-bit field as a number (exact below 2^53). */
export function getU64BE(dv: DataView, off: number): number {
  return dv.getUint32(off) * TWO32 + dv.getUint32(off + 4);
}

/** Reads a big-endian signed 64-bit field as a number (exact within ±2^53). */
export function getI64BE(dv: DataView, off: number): number {
  return dv.getInt32(off) * TWO32 + dv.getUint32(off + 4);
}

// ---------------------------------------------------------------------------------------------
// sessions

/** The 10-byte wire form of a session name: 1..10 printable ASCII characters, space-padded (allocates). */
export function sessionBytes(name: string): Uint8Array {
  if (typeof name !== 'string' || name.length < 1 || name.length > FEED_SESSION_BYTES || !/^[\x21-\x7e]+( *[\x21-\x7e]+)*$/.test(name)) {
    throw new TradsysError('ERR_FEED_CONFIG', `session ${JSON.stringify(name)} must be 1 to 10 printable ASCII characters (no leading or trailing spaces)`);
  }
  const b = new Uint8Array(FEED_SESSION_BYTES).fill(0x20);
  for (let i = 0; i < name.length; i++) b[i] = name.charCodeAt(i);
  return b;
}

/** The session name in a packet at byte `off` of `u8`, trailing spaces removed (allocates a string). */
export function sessionName(u8: Uint8Array, off = 0): string {
  let end = off + FEED_SESSION_BYTES;
  while (end > off && u8[end - 1] === 0x20) end--;
  let s = '';
  for (let i = off; i < end; i++) s += String.fromCharCode(u8[i]!);
  return s;
}

/** Whether the packet at `off` of `u8` carries `session` (10 wire bytes). No allocation. */
export function sessionEquals(u8: Uint8Array, off: number, session: Uint8Array): boolean {
  for (let i = 0; i < FEED_SESSION_BYTES; i++) if (u8[off + i] !== session[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// packet header

/** Writes a packet header at `off`: session, seq (first message, or next expected for count 0/0xFFFF), count. */
export function writePacketHeader(u8: Uint8Array, dv: DataView, off: number, session: Uint8Array, seq: number, count: number): void {
  u8.set(session, off);
  setU64BE(dv, off + 10, seq);
  dv.setUint16(off + 18, count);
}

export function packetSeq(dv: DataView, off = 0): number { return getU64BE(dv, off + 10); }
export function packetCount(dv: DataView, off = 0): number { return dv.getUint16(off + 18); }

/**
 * Checks the packet of `len` bytes at `off`: header present; for count 0 and 0xFFFF no blocks; else
 * exactly `count` blocks that fill the packet, each known message long enough and with a valid side.
 * Returns null when good, else the reason (a constant string: no allocation).
 */
export function checkPacket(dv: DataView, off: number, len: number): string | null {
  if (len < FEED_PACKET_HEADER) return 'shorter than the 20-byte header';
  const count = dv.getUint16(off + 18);
  if (count === FEED_COUNT_HEARTBEAT || count === FEED_COUNT_END) return len === FEED_PACKET_HEADER ? null : 'heartbeat or end of session with a body';
  if (dv.getUint32(off + 10) > 0x1fffff) return 'sequence number above 2^53';
  let p = off + FEED_PACKET_HEADER;
  const end = off + len;
  for (let i = 0; i < count; i++) {
    if (p + FEED_BLOCK_HEADER > end) return 'fewer message blocks than count';
    const ml = dv.getUint16(p);
    p += FEED_BLOCK_HEADER;
    if (ml === 0) return 'empty message block';
    if (p + ml > end) return 'message block runs past the packet';
    const why = checkMessage(dv, p, ml);
    if (why !== null) return why;
    p += ml;
  }
  return p === end ? null : 'bytes after the last message block';
}

/** Checks one message of `len` bytes at `p` (known type: length and side; unknown: anything goes). */
export function checkMessage(dv: DataView, p: number, len: number): string | null {
  const type = dv.getUint8(p + M_TYPE);
  const need = MSG_LENGTH[type]!;
  if (need === 0) return null;
  if (len < need) return 'message shorter than its type';
  if (type === MSG_ADD) return wireSideOk(dv.getUint8(p + M_BODY + 8)) ? null : 'bad side byte';
  if (type === MSG_TRADE) return wireSideOk(dv.getUint8(p + M_BODY + 12)) ? null : 'bad side byte';
  if (type === MSG_BOOK_DELTA) return wireSideOk(dv.getUint8(p + M_BODY)) ? null : 'bad side byte';
  if (type === MSG_SYSTEM) { const c = dv.getUint8(p + M_BODY); return c === SYS_START || c === SYS_END || c === SYS_RESET ? null : 'bad system event code'; }
  return null;
}

function wireSideOk(b: number): boolean { return b === WIRE_BUY || b === WIRE_SELL; }
function wireSide(side: number): number {
  if (side === SIDE_BUY) return WIRE_BUY;
  if (side === SIDE_SELL) return WIRE_SELL;
  return bad(`side ${side} is not 0 (buy) or 1 (sell)`);
}

// ---------------------------------------------------------------------------------------------
// message encoders: each writes a block (u16 length + message) at `off` and returns the offset after
// it. The timestamp is left 0; the packetizer stamps every message of a packet when it sends it
// (`stampPacket`). They check every field (ERR_FEED_MESSAGE) and allocate nothing.

function head(dv: DataView, off: number, type: number, symbol: number): number {
  check(symbol, 0, U32_MAX, 'symbol');
  dv.setUint16(off, MSG_LENGTH[type]!);
  dv.setUint8(off + 2 + M_TYPE, type);
  dv.setUint32(off + 2 + M_SYMBOL, symbol);
  dv.setUint32(off + 2 + M_TS, 0);
  dv.setUint32(off + 2 + M_TS + 4, 0);
  return off + 2 + M_BODY;
}

/** `A` add order. */
export function encodeAdd(dv: DataView, off: number, symbol: number, orderId: number, side: number, price: number, qty: number): number {
  check(orderId, 0, U53, 'orderId'); check(price, -U53, U53, 'price'); check(qty, 0, U32_MAX, 'qty');
  const b = head(dv, off, MSG_ADD, symbol);
  setU64BE(dv, b, orderId);
  dv.setUint8(b + 8, wireSide(side));
  setU64BE(dv, b + 9, price);
  dv.setUint32(b + 17, qty);
  return b + 21;
}

/** `X` order cancel (quantity removed). */
export function encodeCancel(dv: DataView, off: number, symbol: number, orderId: number, qty: number): number {
  check(orderId, 0, U53, 'orderId'); check(qty, 0, U32_MAX, 'qty');
  const b = head(dv, off, MSG_CANCEL, symbol);
  setU64BE(dv, b, orderId);
  dv.setUint32(b + 8, qty);
  return b + 12;
}

/** `E` order executed (the resting order `orderId` traded `qty` in match `matchId`). */
export function encodeExecute(dv: DataView, off: number, symbol: number, orderId: number, qty: number, matchId: number): number {
  check(orderId, 0, U53, 'orderId'); check(qty, 0, U32_MAX, 'qty'); check(matchId, 0, U53, 'matchId');
  const b = head(dv, off, MSG_EXECUTE, symbol);
  setU64BE(dv, b, orderId);
  dv.setUint32(b + 8, qty);
  setU64BE(dv, b + 12, matchId);
  return b + 20;
}

/** `P` trade (price, qty, aggressor side, match id). */
export function encodeTrade(dv: DataView, off: number, symbol: number, price: number, qty: number, aggressor: number, matchId: number): number {
  check(price, -U53, U53, 'price'); check(qty, 0, U32_MAX, 'qty'); check(matchId, 0, U53, 'matchId');
  const b = head(dv, off, MSG_TRADE, symbol);
  setU64BE(dv, b, price);
  dv.setUint32(b + 8, qty);
  dv.setUint8(b + 12, wireSide(aggressor));
  setU64BE(dv, b + 13, matchId);
  return b + 21;
}

/** `D` book delta: the new total `qty` at (side, price); 0 removes the level. */
export function encodeBookDelta(dv: DataView, off: number, symbol: number, side: number, price: number, qty: number): number {
  check(price, -U53, U53, 'price'); check(qty, 0, U32_MAX, 'qty');
  const b = head(dv, off, MSG_BOOK_DELTA, symbol);
  dv.setUint8(b, wireSide(side));
  setU64BE(dv, b + 1, price);
  dv.setUint32(b + 9, qty);
  return b + 13;
}

/** `S` system event (code SYS_START, SYS_END or SYS_RESET). */
export function encodeSystem(dv: DataView, off: number, symbol: number, code: number): number {
  if (code !== SYS_START && code !== SYS_END && code !== SYS_RESET) bad(`system event code ${code} is not O, C or R`);
  const b = head(dv, off, MSG_SYSTEM, symbol);
  dv.setUint8(b, code);
  return b + 1;
}

/**
 * Stamps every message of the packet at `off` (`count` blocks) with the timestamp (lo, hi u32
 * words of epoch ns). No allocation.
 */
export function stampPacket(dv: DataView, off: number, count: number, tsLo: number, tsHi: number): void {
  let p = off + FEED_PACKET_HEADER;
  for (let i = 0; i < count; i++) {
    const ml = dv.getUint16(p);
    dv.setUint32(p + 2 + M_TS, tsHi);
    dv.setUint32(p + 2 + M_TS + 4, tsLo);
    p += FEED_BLOCK_HEADER + ml;
  }
}

// ---------------------------------------------------------------------------------------------
// wire → ring record

/**
 * Writes the message of `len` bytes at `p` of `src` (checked by `checkPacket`) as a FeedMsg record
 * at byte `d` of `dst`: type, side, symbol, seq, the type's fields, tsSend (copied), stampSource,
 * path, flags, tsRecv and tsRing (lo, hi words). Returns false, writing nothing, for an unknown type.
 * No allocation.
 */
export function messageToRecord(
  src: DataView, p: number, dst: DataView, d: number, seq: number,
  path: number, stampSource: number, flags: number,
  recvLo: number, recvHi: number, ringLo: number, ringHi: number,
): boolean {
  const type = src.getUint8(p + M_TYPE);
  if (MSG_LENGTH[type] === 0) return false;
  // zero the type-dependent fields (a ring slot is reused)
  dst.setUint32(d + R.orderId, 0, true); dst.setUint32(d + R.orderId + 4, 0, true);
  dst.setUint32(d + R.price, 0, true); dst.setUint32(d + R.price + 4, 0, true);
  dst.setUint32(d + R.matchId, 0, true); dst.setUint32(d + R.matchId + 4, 0, true);
  dst.setUint32(d + R.qty, 0, true);
  let side = SIDE_NONE;
  const b = p + M_BODY;
  switch (type) {
    case MSG_ADD:
      copy64(src, b, dst, d + R.orderId);
      side = src.getUint8(b + 8) === WIRE_BUY ? SIDE_BUY : SIDE_SELL;
      copy64(src, b + 9, dst, d + R.price);
      dst.setUint32(d + R.qty, src.getUint32(b + 17), true);
      break;
    case MSG_CANCEL:
      copy64(src, b, dst, d + R.orderId);
      dst.setUint32(d + R.qty, src.getUint32(b + 8), true);
      break;
    case MSG_EXECUTE:
      copy64(src, b, dst, d + R.orderId);
      dst.setUint32(d + R.qty, src.getUint32(b + 8), true);
      copy64(src, b + 12, dst, d + R.matchId);
      break;
    case MSG_TRADE:
      copy64(src, b, dst, d + R.price);
      dst.setUint32(d + R.qty, src.getUint32(b + 8), true);
      side = src.getUint8(b + 12) === WIRE_BUY ? SIDE_BUY : SIDE_SELL;
      copy64(src, b + 13, dst, d + R.matchId);
      break;
    case MSG_BOOK_DELTA:
      side = src.getUint8(b) === WIRE_BUY ? SIDE_BUY : SIDE_SELL;
      copy64(src, b + 1, dst, d + R.price);
      dst.setUint32(d + R.qty, src.getUint32(b + 9), true);
      break;
    default: // MSG_SYSTEM
      dst.setUint32(d + R.qty, src.getUint8(b), true);
  }
  dst.setUint8(d + R.type, type);
  dst.setUint8(d + R.side, side);
  dst.setUint8(d + R.stampSource, stampSource);
  dst.setUint8(d + R.path, path);
  dst.setUint32(d + R.symbol, src.getUint32(p + M_SYMBOL), true);
  const sHi = Math.floor(seq / TWO32);
  dst.setUint32(d + R.seq, seq - sHi * TWO32, true);
  dst.setUint32(d + R.seq + 4, sHi, true);
  dst.setUint32(d + R.flags, flags, true);
  copy64(src, p + M_TS, dst, d + R.tsSend);
  dst.setUint32(d + R.tsRecv, recvLo, true); dst.setUint32(d + R.tsRecv + 4, recvHi, true);
  dst.setUint32(d + R.tsRing, ringLo, true); dst.setUint32(d + R.tsRing + 4, ringHi, true);
  return true;
}

/** Big-endian u64 at `s` → little-endian at `d` (bit copy: i64 and timestamps survive). */
function copy64(src: DataView, s: number, dst: DataView, d: number): void {
  dst.setUint32(d, src.getUint32(s + 4), true);
  dst.setUint32(d + 4, src.getUint32(s), true);
}

/**
 * Writes a GAP record (type G: `seq` the first lost message, `qty` how many) at byte `d` of `dst`.
 * No allocation.
 */
export function gapRecord(dst: DataView, d: number, seq: number, count: number, path: number, ringLo: number, ringHi: number): void {
  for (let i = 0; i < R.size; i += 4) dst.setUint32(d + i, 0, true);
  dst.setUint8(d + R.type, MSG_GAP);
  dst.setUint8(d + R.side, SIDE_NONE);
  dst.setUint8(d + R.path, path);
  const sHi = Math.floor(seq / TWO32);
  dst.setUint32(d + R.seq, seq - sHi * TWO32, true);
  dst.setUint32(d + R.seq + 4, sHi, true);
  dst.setUint32(d + R.qty, Math.min(count, U32_MAX), true);
  dst.setUint32(d + R.tsRing, ringLo, true); dst.setUint32(d + R.tsRing + 4, ringHi, true);
}

// ---------------------------------------------------------------------------------------------
// retransmission requests

/** Writes a request (session, first wanted seq, count) at `off`; returns its length (20). */
export function encodeRequest(u8: Uint8Array, dv: DataView, off: number, session: Uint8Array, seq: number, count: number): number {
  check(seq, 1, U53, 'request seq'); check(count, 1, FEED_MAX_COUNT, 'request count');
  writePacketHeader(u8, dv, off, session, seq, count);
  return FEED_REQUEST_BYTES;
}

/** A request's seq and count, or null when `len` is not a request's length or its fields are out of range. */
export function checkRequest(dv: DataView, off: number, len: number): string | null {
  if (len !== FEED_REQUEST_BYTES) return 'a request is 20 bytes';
  if (dv.getUint32(off + 10) > 0x1fffff) return 'sequence number above 2^53';
  const seq = getU64BE(dv, off + 10);
  const count = dv.getUint16(off + 18);
  if (seq < 1) return 'request for sequence 0';
  if (count < 1 || count === FEED_COUNT_END) return 'request count out of range';
  return null;
}

// ---------------------------------------------------------------------------------------------
// object form (tools and tests; allocates)

export interface FeedMessage {
  /** ASCII type byte (MSG_*). */
  type: number;
  symbol: number;
  /** Epoch ns (the wire timestamp). */
  timestamp: bigint;
  orderId: number;
  /** SIDE_BUY, SIDE_SELL or SIDE_NONE. */
  side: number;
  price: number;
  qty: number;
  matchId: number;
  /** System event code (S). */
  code: number;
  /** The raw message bytes when the type is unknown (skipped by receivers). */
  raw?: Uint8Array;
}

export interface FeedPacket {
  session: string;
  seq: number;
  count: number;
  heartbeat: boolean;
  end: boolean;
  messages: FeedMessage[];
}

/** Decodes a whole packet into objects (allocates); throws ERR_FEED_PACKET when malformed. */
export function decodePacket(u8: Uint8Array): FeedPacket {
  const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  const why = checkPacket(dv, 0, u8.byteLength);
  if (why !== null) throw new TradsysError('ERR_FEED_PACKET', why);
  const count = dv.getUint16(18);
  const out: FeedPacket = {
    session: sessionName(u8, 0), seq: getU64BE(dv, 10), count,
    heartbeat: count === FEED_COUNT_HEARTBEAT, end: count === FEED_COUNT_END, messages: [],
  };
  if (out.heartbeat || out.end) return out;
  let p = FEED_PACKET_HEADER;
  for (let i = 0; i < count; i++) {
    const ml = dv.getUint16(p);
    out.messages.push(decodeMessage(u8, dv, p + 2, ml));
    p += 2 + ml;
  }
  return out;
}

/** Decodes one message of `len` bytes at `p` (checked) into an object (allocates). */
export function decodeMessage(u8: Uint8Array, dv: DataView, p: number, len: number): FeedMessage {
  const type = dv.getUint8(p);
  const full = len >= M_BODY; // an unknown type may be shorter than the common header
  const m: FeedMessage = {
    type, symbol: full ? dv.getUint32(p + M_SYMBOL) : 0, timestamp: full ? dv.getBigUint64(p + M_TS) : 0n,
    orderId: 0, side: SIDE_NONE, price: 0, qty: 0, matchId: 0, code: 0,
  };
  const b = p + M_BODY;
  const side = (x: number): number => (x === WIRE_BUY ? SIDE_BUY : SIDE_SELL);
  switch (type) {
    case MSG_ADD: m.orderId = getU64BE(dv, b); m.side = side(dv.getUint8(b + 8)); m.price = getI64BE(dv, b + 9); m.qty = dv.getUint32(b + 17); break;
    case MSG_CANCEL: m.orderId = getU64BE(dv, b); m.qty = dv.getUint32(b + 8); break;
    case MSG_EXECUTE: m.orderId = getU64BE(dv, b); m.qty = dv.getUint32(b + 8); m.matchId = getU64BE(dv, b + 12); break;
    case MSG_TRADE: m.price = getI64BE(dv, b); m.qty = dv.getUint32(b + 8); m.side = side(dv.getUint8(b + 12)); m.matchId = getU64BE(dv, b + 13); break;
    case MSG_BOOK_DELTA: m.side = side(dv.getUint8(b)); m.price = getI64BE(dv, b + 1); m.qty = dv.getUint32(b + 9); break;
    case MSG_SYSTEM: m.code = dv.getUint8(b); break;
    default: m.raw = u8.slice(p, p + len);
  }
  return m;
}

/** Encodes a FeedMessage object as a block at `off` (any known type); returns the offset after it. */
export function encodeMessage(dv: DataView, off: number, m: FeedMessage): number {
  let end: number;
  switch (m.type) {
    case MSG_ADD: end = encodeAdd(dv, off, m.symbol, m.orderId, m.side, m.price, m.qty); break;
    case MSG_CANCEL: end = encodeCancel(dv, off, m.symbol, m.orderId, m.qty); break;
    case MSG_EXECUTE: end = encodeExecute(dv, off, m.symbol, m.orderId, m.qty, m.matchId); break;
    case MSG_TRADE: end = encodeTrade(dv, off, m.symbol, m.price, m.qty, m.side, m.matchId); break;
    case MSG_BOOK_DELTA: end = encodeBookDelta(dv, off, m.symbol, m.side, m.price, m.qty); break;
    case MSG_SYSTEM: end = encodeSystem(dv, off, m.symbol, m.code); break;
    default: return bad(`message type ${m.type} cannot be encoded`);
  }
  if (m.timestamp !== 0n) dv.setBigUint64(off + 2 + M_TS, BigInt.asUintN(64, m.timestamp));
  return end;
}

/** Block length (2 + message) of a known type. */
export function blockLength(type: number): number { return FEED_BLOCK_HEADER + MSG_LENGTH[type]!; }
