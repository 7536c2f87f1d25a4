/**
 * The binary WebSocket protocol (`/ws?protocol=binary`, src/codec/binary-protocol.ts,
 * docs/protocol.md): binary frames in, service calls, binary frames out.
 *
 * Layout: a frame holds one or more messages (docs/protocol.md "Frames"); answers are written
 * into the connection's BinaryWriter and sent by Connections.
 * The walk of one order message, down the layers and never back up: `onFrame` → codec
 * `checkClientFrame` (header, version, length, every range; nothing built) → the order's fields
 * read in place (`onCommand`) → OrderEntry.placeOrderTicks (registry,
 * CMD record written in place) → EngineHost.submitRaw (the command ring). Its ack comes later
 * through the event pump, after the engine thread journaled it (docs/architecture.md).
 * Invariants: a frame that fails validation is answered with one `bad_frame` error and none of its
 * messages run; everything a connection is sent while one frame is handled goes out in one frame
 * (Connections.out / flushAll); a channel subscribed twice in one frame (with no unsubscribe
 * between) is one subscription: one snapshot or ticker.
 * Complexity: O(messages) per frame. Allocation: one DataView per frame; per order its
 * clientOrderId text (the registry's key) and the registry's entry (src/gateway/orders.ts); no
 * message object for orders, cancels and modifies (auth, subscribe and ping are decoded); none per
 * answer (written into the connection's reused writer).
 * Known limitations: binary reports carry clientOrderId 0 for orders whose JSON clientOrderId is
 * not a decimal u64 (they can only be placed by JSON or HTTP).
 */
import {
  BinaryProtocolError, Channel, checkClientFrame, decodeClientMessage, FRAME_HEADER_SIZE, getCid, getI64, getU64, MSG_HEADER_SIZE, MsgType, type ClientBinMessage,
} from '../../codec/binary-protocol.js';
import type { EntryOutcome, OrderRef } from '../config.js';
import type { Conn } from '../connections.js';
import type { WsDeps } from './deps.js';

export class BinarySession {
  /** (instrument × 8 + channel bit) snapshots already sent during the inbound frame being handled. */
  private readonly frameSnaps = new Set<number>();

  constructor(private readonly d: WsDeps) {}

  /**
   * One inbound frame of a binary connection: validated whole (codec checkClientFrame, the same
   * checks as decodeFrame), then each message in order, read in place: an order, cancel or modify
   * goes from the frame's bytes to the CMD record with no message object.
   */
  onFrame(c: Conn, data: Buffer, isBinary: boolean): void {
    const { conns, counters } = this.d;
    const stamps = this.d.entry.stamps;
    stamps.frameIn();
    if (!isBinary) {
      counters.messagesIn++;
      conns.out(c).error(0, 'bad_frame', 0);
      conns.flushAll();
      return;
    }
    let dv: DataView;
    try {
      dv = checkClientFrame(data);
    } catch (e) {
      if (!(e instanceof BinaryProtocolError)) throw e;
      counters.messagesIn++;
      conns.out(c).error(e.reqId, 'bad_frame', e.msgType);
      conns.flushAll();
      return;
    }
    const count = dv.getUint16(4, true);
    counters.messagesIn += count;
    this.frameSnaps.clear();
    for (let i = 0, o = FRAME_HEADER_SIZE; i < count; i++) {
      const type = dv.getUint8(o);
      const b = o + MSG_HEADER_SIZE;
      const reqId = dv.getUint32(o + 4, true);
      const at = o;
      o = b + dv.getUint16(o + 2, true);
      if (!conns.allow(c)) {
        c.limited++;
        if (c.limited === 1 || c.limited % 100 === 0) conns.out(c).error(reqId, 'rate_limited', 0);
        continue;
      }
      if (type === MsgType.NEW_ORDER || type === MsgType.CANCEL || type === MsgType.MODIFY) this.onCommand(c, dv, type, b, reqId);
      else this.onMessage(c, decodeClientMessage(dv, at));
    }
    stamps.frameDone();
    conns.flushAll();
  }

  /** An order, cancel or modify, read in place from the checked frame (body at `b`; docs/protocol.md layouts). */
  private onCommand(c: Conn, dv: DataView, type: number, b: number, reqId: number): void {
    const { conns, entry } = this.d;
    if (c.account === null) { conns.out(c).error(reqId, 'not_authenticated', type); return; }
    if (!c.canTrade) { conns.auditDenied(c, type === MsgType.NEW_ORDER ? 'order' : type === MsgType.CANCEL ? 'cancel' : 'modify'); conns.out(c).error(reqId, 'forbidden', type); return; }
    const account = c.account;
    const clientOrderId = getCid(dv, b); // the registry's key (decimal text; '' when absent)
    entry.stamps.decoded();
    if (type === MsgType.NEW_ORDER) {
      const r = entry.placeOrderTicks(account, c.id, clientOrderId, dv.getUint32(b + 8, true), dv.getUint8(b + 12), dv.getUint8(b + 13), dv.getUint8(b + 14), getI64(dv, b + 16, 'price'), dv.getUint32(b + 24, true), reqId);
      if (!r.ok) { this.d.counters.rejectsGateway++; conns.out(c).reject(reqId, clientOrderId, 0, null, r.reason); } else if (r.duplicate) conns.out(c).ack(reqId, this.d.entry.orders.cid[r.slot]!, this.d.entry.orders.id[r.slot]!, null, true);
      return;
    }
    const orderId = getU64(dv, b + 8, 'orderId');
    const ref: OrderRef = orderId !== 0 ? { orderId: String(orderId) } : { clientOrderId };
    const r: EntryOutcome = type === MsgType.CANCEL
      ? entry.requestCancel(account, ref, reqId, c.id)
      : entry.requestModifyTicks(account, ref, getI64(dv, b + 16, 'price'), dv.getUint32(b + 24, true), reqId, c.id);
    if (!r.ok) { this.d.counters.rejectsGateway++; conns.out(c).reject(reqId, clientOrderId, orderId, null, r.reason); }
  }

  /** Auth, subscribe/unsubscribe, ping (decoded: rare). */
  private onMessage(c: Conn, m: ClientBinMessage): void {
    const { conns } = this.d;
    switch (m.kind) {
      case 'ping': conns.out(c).pong(m.reqId); return;
      case 'auth': {
        const r = this.d.keys.verify(m.key, m.ts, m.sig);
        conns.auditWsAuth(c, m.key, r);
        if (!r.ok) { conns.out(c).authResult(m.reqId, false, r.reason === 'bad_signature' || r.reason === 'unknown_key' ? 'invalid_credentials' : r.reason, 0); return; }
        c.account = r.account;
        c.key = r.key;
        c.canTrade = r.permissions.includes('trade');
        c.cancelOnDisconnect = m.cancelOnDisconnect;
        conns.bind(c);
        conns.out(c).authResult(m.reqId, true, null, r.account);
        return;
      }
      case 'subscribe':
      case 'unsubscribe': this.onSubscribe(c, m); return;
      default:
        return; // orders, cancels and modifies are read in place (onCommand)
    }
  }

  /** As JSON (JsonSession.onSubscribe): all or nothing, capped. */
  private onSubscribe(c: Conn, m: Extract<ClientBinMessage, { kind: 'subscribe' | 'unsubscribe' }>): void {
    const { conns, md } = this.d;
    const type = m.kind === 'subscribe' ? MsgType.SUBSCRIBE : MsgType.UNSUBSCRIBE;
    const ins = this.d.instruments[m.instrument];
    if (!ins) { conns.out(c).error(m.reqId, 'unknown_symbol', type); return; }
    const sets: [number, Set<number>][] = [[Channel.BOOK, c.books], [Channel.TRADES, c.trades], [Channel.TICKER, c.tickers]];
    if (m.kind === 'subscribe') {
      let added = 0;
      for (const [bit, set] of sets) if ((m.channels & bit) !== 0 && !set.has(ins.id)) added++;
      if (c.books.size + c.trades.size + c.tickers.size + added > this.d.limits.maxChannels) { conns.out(c).error(m.reqId, 'too_many_channels', type); return; }
      this.d.events.pump(); // pending deltas go out first: the snapshots below are current
    }
    for (const [bit, set] of sets) {
      if ((m.channels & bit) === 0) continue;
      if (m.kind === 'unsubscribe') { set.delete(ins.id); this.frameSnaps.delete(ins.id * 8 + bit); continue; }
      set.add(ins.id);
      if (bit === Channel.TRADES) continue;
      const once = ins.id * 8 + bit;
      if (this.frameSnaps.has(once)) continue; // already sent in this frame; deltas follow it
      this.frameSnaps.add(once);
      if (bit === Channel.BOOK) md.binarySnapshot(conns.out(c), ins);
      else md.binaryTicker(conns.out(c), ins);
    }
    conns.out(c).subscribed(m.reqId, ins.id, m.channels, m.kind === 'subscribe');
  }
}
