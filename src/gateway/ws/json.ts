/**
 * The JSON WebSocket protocol (`/ws`, docs/protocol.md): text frames in, service calls, text
 * frames out. One client message per frame: ping, auth (optionally resuming the private stream),
 * subscribe/unsubscribe, order, cancel, modify.
 *
 * Layout: a command's reqId is held per connection under a ring token (Connections.jsonToken)
 * until the command's last event, so the event pump answers the sender with it.
 * Invariants: over its rate limit a connection's messages are dropped (one `rate_limited` error,
 * then every 100th); a binary frame is refused (`bad_frame`); commands need an authenticated
 * session with the trade permission; subscriptions are all-or-nothing per message, deduplicated,
 * and capped per connection (`maxChannels`).
 * Complexity: O(1) per message; a subscribe O(channels + snapshot depth).
 * Allocation: per client message (the parsed message, its answer).
 * Known limitations: none.
 */
import { parseClientMessage, ProtocolError, errorFrame, type ClientMessage, type ReqId } from '../../codec/json-protocol.js';
import type { Instrument } from '../../domain/instruments.js';
import type { OrderRef } from '../config.js';
import { withReq, type Conn } from '../connections.js';
import type { WsDeps } from './deps.js';

export class JsonSession {
  constructor(private readonly d: WsDeps) {}

  /** One inbound frame of a JSON connection. */
  onFrame(c: Conn, data: Buffer, isBinary: boolean): void {
    const { conns, counters } = this.d;
    counters.messagesIn++;
    const stamps = this.d.entry.stamps;
    stamps.frameIn();
    if (!conns.allow(c)) {
      c.limited++;
      if (c.limited === 1 || c.limited % 100 === 0) conns.send(c, { type: 'error', code: 'rate_limited', message: `more than ${this.d.limits.rateLimit.perSecond} messages/s; messages are being dropped` });
      return;
    }
    if (isBinary) { conns.send(c, { type: 'error', code: 'bad_frame', message: 'binary frames need the binary protocol (not enabled on this connection)' }); return; }
    let msg: ClientMessage;
    try {
      msg = parseClientMessage(data.toString());
    } catch (e) {
      if (e instanceof ProtocolError) { conns.sendText(c, errorFrame(e)); return; }
      throw e;
    }
    this.onMessage(c, msg);
    stamps.frameDone();
  }

  private onMessage(c: Conn, m: ClientMessage): void {
    const { conns, entry, keys } = this.d;
    if (m.op === 'ping') { conns.send(c, withReq({ type: 'pong' }, m.reqId)); return; }
    if (m.op === 'auth') {
      const r = keys.verify(m.key, m.ts, m.sig, m.nonce === undefined ? '' : ':' + m.nonce);
      conns.auditWsAuth(c, m.key, r);
      if (!r.ok) { conns.send(c, withReq({ type: 'auth', ok: false, reason: r.reason === 'bad_signature' || r.reason === 'unknown_key' ? 'invalid_credentials' : r.reason }, m.reqId)); return; }
      c.account = r.account;
      c.key = r.key;
      c.canTrade = r.permissions.includes('trade');
      c.isAdmin = r.permissions.includes('admin');
      c.strategies = false; // a new authentication starts without the admin channels
      c.alerts = false;
      c.cancelOnDisconnect = m.cancelOnDisconnect === true;
      if (m.resumeFrom === undefined) conns.bind(c);
      else conns.unbind(c); // resume() lists it once the journal's reports are out (no duplicate)
      conns.send(c, withReq({ type: 'auth', ok: true, account: r.account }, m.reqId));
      if (m.resumeFrom !== undefined) this.d.catchUp.resume(c, r.account, BigInt(m.resumeFrom), m.reqId);
      return;
    }
    if (m.op === 'subscribe' || m.op === 'unsubscribe') { this.onSubscribe(c, m.op, m.channels, m.reqId); return; }
    if (c.account === null) { conns.send(c, withReq({ type: 'error', code: 'not_authenticated', message: 'send {"op":"auth",...} first' }, m.reqId)); return; }
    if (!c.canTrade) { conns.auditDenied(c, m.op); conns.send(c, withReq({ type: 'error', code: 'forbidden', message: 'this key has no trade permission' }, m.reqId)); return; }
    const account = c.account;
    if (m.op !== 'order' && m.op !== 'cancel' && m.op !== 'modify') return;
    entry.stamps.decoded();
    const token = conns.jsonToken(c, m.reqId);
    if (m.op === 'order') {
      const r = entry.placeOrder(account, c.id, m, token);
      if (!r.ok || r.duplicate) c.reqIds?.delete(token);
      if (!r.ok) this.reject(c, { clientOrderId: m.clientOrderId }, r.reason, m.reqId, r.message);
      else if (r.duplicate) conns.send(c, withReq({ type: 'ack', clientOrderId: this.d.entry.orders.cid[r.slot]!, orderId: String(this.d.entry.orders.id[r.slot]!), seq: null, duplicate: true }, m.reqId));
      return;
    }
    const ref: OrderRef = m.orderId !== undefined ? { orderId: m.orderId } : { clientOrderId: m.clientOrderId };
    const r = m.op === 'cancel'
      ? entry.requestCancel(account, ref, token, c.id)
      : entry.requestModify(account, ref, m.price, m.qty, token, c.id);
    if (!r.ok) { c.reqIds?.delete(token); this.reject(c, ref, r.reason, m.reqId, r.message); }
  }

  /**
   * A JSON (un)subscribe, all or nothing: the channels are deduplicated (a channel named twice is
   * one channel: one snapshot); an unknown symbol answers one `unknown_symbol` error naming the bad
   * channels and applies nothing; a subscribe that would take the connection past `maxChannels`
   * answers `too_many_channels` and applies nothing. Otherwise the snapshots and tickers asked for,
   * then `subscribed` with the distinct channels. Subscribing to a channel already held sends a
   * fresh snapshot (a resync) and does not count twice.
   */
  private onSubscribe(c: Conn, op: 'subscribe' | 'unsubscribe', names: string[], reqId: ReqId | undefined): void {
    const { conns, bySymbol, md } = this.d;
    const channels = [...new Set(names)];
    // `strategies` and `alerts` (admin keys only): strategy state changes and breaker trips, alert
    // transitions (docs/protocol.md); not market data. `strategies` counts in maxChannels, `alerts` not.
    const wantsStrategies = channels.includes('strategies');
    const wantsAlerts = channels.includes('alerts');
    for (const [wants, name] of [[wantsStrategies, 'strategies'], [wantsAlerts, 'alerts']] as const) {
      if (wants && op === 'subscribe' && !c.isAdmin) {
        if (c.account !== null) conns.auditDenied(c, `subscribe ${name}`, 'admin');
        conns.send(c, withReq({ type: 'error', code: c.account === null ? 'not_authenticated' : 'forbidden', message: `the ${name} channel needs an authenticated key with the admin permission; nothing of this message was subscribed` }, reqId));
        return;
      }
    }
    const market = channels.filter((ch) => ch !== 'strategies' && ch !== 'alerts');
    const unknown = market.filter((ch) => !bySymbol.has(ch.slice(ch.indexOf('.') + 1)));
    if (unknown.length > 0) {
      const syms = [...new Set(unknown.map((ch) => ch.slice(ch.indexOf('.') + 1)))].join(', ');
      conns.send(c, withReq({ type: 'error', code: 'unknown_symbol', message: `no symbol ${syms}; nothing of this message was ${op}d`, channels: unknown }, reqId));
      return;
    }
    const setOf = (ch: string): Set<number> => (ch.startsWith('book.') ? c.books : ch.startsWith('trades.') ? c.trades : c.tickers);
    const insOf = (ch: string): Instrument => bySymbol.get(ch.slice(ch.indexOf('.') + 1))!;
    if (op === 'subscribe') {
      const added = market.filter((ch) => !setOf(ch).has(insOf(ch).id)).length + (wantsStrategies && !c.strategies ? 1 : 0);
      const held = c.books.size + c.trades.size + c.tickers.size + (c.strategies ? 1 : 0);
      const max = this.d.limits.maxChannels;
      if (held + added > max) {
        conns.send(c, withReq({ type: 'error', code: 'too_many_channels', message: `a connection holds at most ${max} channels; it holds ${held} and this message adds ${added}; nothing was subscribed` }, reqId));
        return;
      }
      this.d.events.pump(); // pending deltas go out before the channels are added: the snapshots below are current
    }
    if (wantsStrategies) c.strategies = op === 'subscribe';
    for (const ch of market) {
      const ins = insOf(ch);
      const set = setOf(ch);
      if (op === 'unsubscribe') { set.delete(ins.id); continue; }
      set.add(ins.id);
      if (set === c.books) conns.send(c, md.snapshot(ins));
      if (set === c.tickers) conns.send(c, md.ticker(ins));
    }
    if (wantsAlerts) c.alerts = op === 'subscribe';
    conns.send(c, withReq({ type: 'subscribed', channels, ok: op === 'subscribe' }, reqId));
    if (wantsAlerts && op === 'subscribe') conns.send(c, { type: 'alerts', active: this.d.alerts?.() ?? [] });
  }

  /** A gateway reject: names the order as the command did (`clientOrderId`, or `orderId` for a cancel/modify by orderId). */
  private reject(c: Conn, ref: OrderRef, reason: string, reqId: unknown, message?: string): void {
    this.d.counters.rejectsGateway++;
    const who = ref.orderId !== undefined ? { orderId: ref.orderId } : { clientOrderId: ref.clientOrderId };
    this.d.conns.send(c, withReq(message ? { type: 'reject', ...who, reason, message } : { type: 'reject', ...who, reason }, reqId));
  }
}
