/**
 * The binary protocol decoder (layouts: src/codec/binary-layout.ts, docs/protocol.md): one frame
 * in, its messages out, for one direction ('client': what the gateway accepts; 'server': what a
 * client accepts).
 *
 * Layout: FRAME HEADER (8 B) then `count` messages filling the frame exactly.
 * Invariants: a frame is accepted only if the magic, version, flags, count, every message's type
 * (for that direction), exact length, enum fields, reserved bytes and ranges (u64 ids, prices and
 * quantities ≤ 2^53-1) are valid; otherwise BinaryProtocolError (with the reqId and type of the
 * message at fault) and nothing of the frame is used (all-or-nothing).
 * Complexity: O(frame bytes). Allocation: decodeFrame one object per message (and its level
 * arrays); checkClientFrame (the gateway) one DataView per frame and nothing per order, cancel or
 * modify.
 * Known limitations: timestamps (`ts`, ns) decode to a JS number and lose precision below ~256 ns.
 */
import {
  BODY_SIZE, BinaryProtocolError, CLIENT_TYPES, FRAME_HEADER_SIZE, MAGIC, MSG_HEADER_SIZE, MsgType, SERVER_TYPES, VERSION, WIRE_LEVEL_SIZE,
  nameOf, type BinMessage, type ClientBinMessage, type Level, type ServerBinMessage,
} from './binary-layout.js';
import { getCid, getI64, getI64Loose, getU64, zero } from './binary-fields.js';

function u8enum<T extends number>(dv: DataView, o: number, max: number, what: string): T {
  const v = dv.getUint8(o);
  if (v > max) throw new BinaryProtocolError(`${what} ${v} out of range 0..${max}`);
  return v as T;
}

function readLevels(dv: DataView, o: number, n: number): Level[] {
  const out: Level[] = new Array<Level>(n);
  for (let i = 0; i < n; i++, o += WIRE_LEVEL_SIZE) out[i] = [getI64(dv, o, 'level price'), getU64(dv, o + 8, 'level qty')];
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

/** 0 when the clientOrderId u64 at `o` is 0 (absent), without building its text. */
function cidAbsent(dv: DataView, o: number): boolean { return dv.getUint32(o, true) === 0 && dv.getUint32(o + 4, true) === 0; }

/**
 * Checks one client message exactly as decodeClient does (same checks, same order, same errors),
 * building nothing for orders, cancels and modifies; the rare others are decoded and dropped.
 */
function checkClient(dv: DataView, type: number, b: number, len: number, reqId: number): void {
  switch (type) {
    case MsgType.NEW_ORDER: {
      if (cidAbsent(dv, b)) throw new BinaryProtocolError('clientOrderId must be 1..2^64-1');
      u8enum<0 | 1>(dv, b + 12, 1, 'side');
      const ot = u8enum<0 | 1>(dv, b + 13, 1, 'type');
      u8enum<0 | 1 | 2 | 3>(dv, b + 14, 3, 'tif');
      zero(dv, b + 15, 1, 'order');
      zero(dv, b + 28, 4, 'order');
      const price = getI64(dv, b + 16, 'price');
      if (ot === 1 && price !== 0) throw new BinaryProtocolError('a market order has price 0');
      return;
    }
    case MsgType.CANCEL:
    case MsgType.MODIFY: {
      const absent = cidAbsent(dv, b);
      const orderId = getU64(dv, b + 8, 'orderId');
      if (absent === (orderId === 0)) throw new BinaryProtocolError('exactly one of clientOrderId and orderId must be non-zero');
      if (type === MsgType.CANCEL) return;
      zero(dv, b + 28, 4, 'modify');
      getI64(dv, b + 16, 'price');
      return;
    }
    default:
      decodeClient(dv, type, b, len, reqId);
  }
}

/** One client message of a frame checkClientFrame accepted, decoded (auth, subscribe, ping: the gateway reads orders, cancels and modifies in place). */
export function decodeClientMessage(dv: DataView, o: number): ClientBinMessage {
  return decodeClient(dv, dv.getUint8(o), o + MSG_HEADER_SIZE, dv.getUint16(o + 2, true), dv.getUint32(o + 4, true));
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
      if (len !== fixed + WIRE_LEVEL_SIZE * (nb + na)) throw new BinaryProtocolError(`book message length ${len} does not match ${nb} bids + ${na} asks`, reqId, type);
      const instrument = dv.getUint32(b, true);
      if (type === MsgType.BOOK_SNAPSHOT) {
        return { kind: 'book', reqId, instrument, seq: getU64(dv, b + 8, 'seq'), bids: readLevels(dv, b + 16, nb), asks: readLevels(dv, b + 16 + WIRE_LEVEL_SIZE * nb, na) };
      }
      zero(dv, b + 28, 4, 'book delta');
      return {
        kind: 'bookDelta', reqId, instrument, first: getU64(dv, b + 8, 'first'), last: getU64(dv, b + 16, 'last'), checksum: dv.getUint32(b + 24, true),
        bids: readLevels(dv, b + 32, nb), asks: readLevels(dv, b + 32 + WIRE_LEVEL_SIZE * nb, na),
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
  const out: BinMessage[] = [];
  scanFrame(bytes, from, out);
  return out;
}

/**
 * Validates one client frame exactly as decodeFrame(bytes, 'client') does — same checks, same
 * BinaryProtocolError — without building a message (the gateway's binary path then reads each
 * message in place: headers from offset 8, `length` bytes of body after each 8-byte header).
 * Returns a DataView over the frame (the one allocation per frame).
 */
export function checkClientFrame(bytes: Uint8Array): DataView {
  return scanFrame(bytes, 'client', null);
}

function scanFrame(bytes: Uint8Array, from: 'client' | 'server', out: BinMessage[] | null): DataView {
  if (bytes.length < FRAME_HEADER_SIZE) throw new BinaryProtocolError(`frame of ${bytes.length} bytes is shorter than its 8-byte header`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint16(0, true) !== MAGIC) throw new BinaryProtocolError('bad magic (expected bytes "TS")');
  const ver = dv.getUint8(2);
  if (ver !== VERSION) throw new BinaryProtocolError(`unsupported version ${ver} (this server speaks ${VERSION})`);
  if (dv.getUint8(3) !== 0 || dv.getUint16(6, true) !== 0) throw new BinaryProtocolError('frame header reserved bytes must be 0');
  const count = dv.getUint16(4, true);
  if (count === 0) throw new BinaryProtocolError('frame holds no message');
  const allowed = from === 'client' ? CLIENT_TYPES : SERVER_TYPES;
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
      if (out === null) checkClient(dv, type, b, len, reqId);
      else out.push(from === 'client' ? decodeClient(dv, type, b, len, reqId) : decodeServer(dv, type, b, len, reqId));
    } catch (e) {
      if (e instanceof BinaryProtocolError && e.reqId === 0 && e.msgType === 0) throw new BinaryProtocolError(e.message, reqId, type);
      throw e;
    }
    o = b + len;
  }
  if (o !== bytes.length) throw new BinaryProtocolError(`${bytes.length - o} bytes after the last of ${count} messages (count mismatch)`);
  return dv;
}
