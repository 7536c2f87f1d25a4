/**
 * The binary WebSocket protocol (`/ws?protocol=binary`, src/codec/binary-protocol.ts,
 * docs/protocol.md): binary frames in, service calls, binary frames out.
 *
 * Layout: a frame holds one or more messages (docs/protocol.md "Frames"); answers are written
 * into the connection's BinaryWriter and sent by Connections.
 * The walk of one order message, down the layers and never back up: `onFrame` → codec
 * `decodeFrame` (header, version, length, every range) → OrderEntry.placeOrderTicks (registry,
 * CMD record written in place) → EngineHost.submitRaw (the command ring). Its ack comes later
 * through the event pump, after the engine thread journaled it (docs/architecture.md).
 * Invariants: a frame that fails validation is answered with one `bad_frame` error and none of its
 * messages run; everything a connection is sent while one frame is handled goes out in one frame
 * (Connections.out / flushAll); a channel subscribed twice in one frame (with no unsubscribe
 * between) is one subscription: one snapshot or ticker.
 * Complexity: O(messages) per frame. Allocation: one decoded object per inbound message; none per
 * answer (written into the connection's reused writer).
 * Known limitations: binary reports carry clientOrderId 0 for orders whose JSON clientOrderId is
 * not a decimal u64 (they can only be placed by JSON or HTTP).
 */
import { BinaryProtocolError, Channel, decodeFrame, MsgType, type ClientBinMessage } from '../../codec/binary-protocol.js';
import type { EntryResult, OrderRef } from '../config.js';
import type { Conn } from '../connections.js';
import type { WsDeps } from './deps.js';

export class BinarySession {
  /** (instrument × 8 + channel bit) snapshots already sent during the inbound frame being handled. */
  private readonly frameSnaps = new Set<number>();

  constructor(private readonly d: WsDeps) {}

  /** One inbound frame of a binary connection: validated whole, then each message in order. */
  onFrame(c: Conn, data: Buffer, isBinary: boolean): void {
    const { conns, counters } = this.d;
    if (!isBinary) {
      counters.messagesIn++;
      conns.out(c).error(0, 'bad_frame', 0);
      conns.flushAll();
      return;
    }
    let msgs: ClientBinMessage[];
    try {
      msgs = decodeFrame(data, 'client');
    } catch (e) {
      if (!(e instanceof BinaryProtocolError)) throw e;
      counters.messagesIn++;
      conns.out(c).error(e.reqId, 'bad_frame', e.msgType);
      conns.flushAll();
      return;
    }
    counters.messagesIn += msgs.length;
    this.frameSnaps.clear();
    for (const m of msgs) {
      if (!conns.allow(c)) {
        c.limited++;
        if (c.limited === 1 || c.limited % 100 === 0) conns.out(c).error(m.reqId, 'rate_limited', 0);
        continue;
      }
      this.onMessage(c, m);
    }
    conns.flushAll();
  }

  private onMessage(c: Conn, m: ClientBinMessage): void {
    const { conns, entry } = this.d;
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
        break;
    }
    const type = m.kind === 'order' ? MsgType.NEW_ORDER : m.kind === 'cancel' ? MsgType.CANCEL : MsgType.MODIFY;
    if (c.account === null) { conns.out(c).error(m.reqId, 'not_authenticated', type); return; }
    if (!c.canTrade) { conns.auditDenied(c, m.kind); conns.out(c).error(m.reqId, 'forbidden', type); return; }
    const account = c.account;
    if (m.kind === 'order') {
      const r = entry.placeOrderTicks(account, c.id, m.clientOrderId, m.instrument, m.side, m.type, m.tif, m.price, m.qty, m.reqId);
      if (!r.ok) { this.d.counters.rejectsGateway++; conns.out(c).reject(m.reqId, m.clientOrderId, 0, null, r.reason); } else if (r.duplicate) conns.out(c).ack(m.reqId, r.order.clientOrderId, r.order.orderId, null, true);
      return;
    }
    const ref: OrderRef = m.orderId !== 0 ? { orderId: String(m.orderId) } : { clientOrderId: m.clientOrderId };
    const r: EntryResult = m.kind === 'cancel'
      ? entry.requestCancel(account, ref, m.reqId, c.id)
      : entry.requestModifyTicks(account, ref, m.price, m.qty, m.reqId, c.id);
    if (!r.ok) { this.d.counters.rejectsGateway++; conns.out(c).reject(m.reqId, m.clientOrderId, m.orderId, null, r.reason); }
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
