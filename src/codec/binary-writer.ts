/**
 * The binary protocol encoder (layouts: src/codec/binary-layout.ts, docs/protocol.md): one typed
 * method per message, several messages per frame, written into a reusable buffer.
 *
 * Layout: FRAME HEADER (8 B) then messages, each MESSAGE HEADER (8 B) + body; the frame header is
 * written when the frame is taken.
 * Invariants: a body is zeroed before it is written (reserved bytes are 0); a frame holds at most
 * 65,535 messages and a body at most 65,535 bytes (RangeError otherwise, nothing written);
 * decodeFrame(take()) gives back the messages written (property tested).
 * Complexity: O(message bytes). Allocation: the buffer grows (doubling) to the largest frame seen,
 * then none; `take()` allocates one Buffer per frame (Node: what the gateway hands to the socket;
 * `take(headroom)` leaves room for a transport header in it), `takeBytes()` one Uint8Array (no
 * Node API: what browser-safe code uses); `appendFrom` copies another writer's message without a view.
 * Known limitations: the writer trusts the ranges of its numeric arguments (see binary-fields.ts).
 */
import {
  FRAME_HEADER_SIZE, MAGIC, MAX_BODY, MAX_LEVELS, MSG_HEADER_SIZE, MsgType, VERSION, WIRE_LEVEL_SIZE, codeOf, type BinMessage,
} from './binary-layout.js';
import { setCid, setI64, setU64 } from './binary-fields.js';

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

  /** Appends one message already encoded in `src`: its bytes [start, end) (appendRaw without the view: no allocation). */
  appendFrom(src: BinaryWriter, start: number, end: number): void {
    if (this.count === 0xffff) throw new RangeError('a frame holds at most 65,535 messages');
    const n = end - start;
    this.ensure(n);
    copyBytes(src.buf, start, this.buf, this.pos, n);
    this.pos += n;
    this.count++;
  }

  /** The bytes of the frame's last message (a view, valid until the next write). */
  messageAt(start: number): Uint8Array { return this.buf.subarray(start, this.pos); }
  /** Bytes [start, end) of the frame being built (a view, valid until the next write). */
  bytes(start: number, end: number): Uint8Array { return this.buf.subarray(start, end); }
  /** Offset where the next message will start (for `messageAt`). */
  get mark(): number { return this.pos; }

  /**
   * The frame so far as a new Buffer (allocates), or null if empty; then starts a new frame.
   * With `headroom`, the frame starts at that offset of the Buffer (the bytes before it are the
   * caller's to fill: a transport header, e.g. WebSocket framing).
   */
  take(headroom = 0): Buffer | null {
    if (this.count === 0) return null;
    const out = Buffer.allocUnsafe(headroom + this.pos);
    this.finishInto(out, headroom);
    return out;
  }

  /** The frame so far as a new Uint8Array (allocates; no Node API), or null if empty; then starts a new frame. */
  takeBytes(): Uint8Array | null {
    if (this.count === 0) return null;
    const out = new Uint8Array(this.pos);
    this.finishInto(out, 0);
    return out;
  }

  private finishInto(out: Uint8Array, at: number): void {
    const dv = this.dv;
    dv.setUint16(0, MAGIC, true);
    dv.setUint8(2, VERSION);
    dv.setUint8(3, 0);
    dv.setUint16(4, this.count, true);
    dv.setUint16(6, 0, true);
    copyBytes(this.buf, 0, out, at, this.pos);
    this.reset();
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
    for (const x of xs) { setI64(this.dv, o, x[0]); setU64(this.dv, o + 8, x[1]); o += WIRE_LEVEL_SIZE; }
    return o;
  }
  book(reqId: number, instrument: number, seq: number, bids: readonly (readonly [number, number, ...unknown[]])[], asks: readonly (readonly [number, number, ...unknown[]])[]): void {
    if (bids.length + asks.length > MAX_LEVELS) throw new RangeError(`a snapshot holds at most ${MAX_LEVELS} levels`);
    const b = this.begin(MsgType.BOOK_SNAPSHOT, reqId, 16 + WIRE_LEVEL_SIZE * (bids.length + asks.length));
    this.dv.setUint32(b, instrument, true);
    this.dv.setUint16(b + 4, bids.length, true);
    this.dv.setUint16(b + 6, asks.length, true);
    setU64(this.dv, b + 8, seq);
    this.levels(this.levels(b + 16, bids), asks);
  }
  bookDelta(reqId: number, instrument: number, first: number, last: number, checksum: number, bids: readonly (readonly [number, number, ...unknown[]])[], asks: readonly (readonly [number, number, ...unknown[]])[]): void {
    if (bids.length + asks.length > MAX_LEVELS) throw new RangeError(`a delta holds at most ${MAX_LEVELS} levels`);
    const b = this.begin(MsgType.BOOK_DELTA, reqId, 32 + WIRE_LEVEL_SIZE * (bids.length + asks.length));
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

/** Copies n bytes; short runs byte by byte (a `subarray` view would be an allocation), long ones with `set`. */
function copyBytes(src: Uint8Array, from: number, dst: Uint8Array, to: number, n: number): void {
  if (n <= 256) { for (let i = 0; i < n; i++) dst[to + i] = src[from + i]!; return; }
  dst.set(src.subarray(from, from + n), to);
}
