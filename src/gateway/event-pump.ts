/**
 * The event pump: drains the engine's event ring and turns each event into its effects on the
 * gateway — the order registry, the book projection, the read models (docs/cqrs.md), execution
 * reports to the owning account's connections, market data (through MarketData), the outcome of
 * a command someone awaits (OrderEntry.settle) — then publishes the touched books and sends the
 * binary frames built on the way. `pump()` is THE way the gateway's read side becomes current:
 * it runs when the engine thread notifies a publish on the event ring (Atomics.waitAsync, no
 * spinning), every 1 ms as a fallback, and once before a read that must see every published event
 * (the `current` HTTP routes, a WebSocket subscribe, a resume).
 *
 * Layout: one 4,096-slot copy buffer (`buf`) the ring is polled into; `subject` (the id of the order
 * the command being pumped is about: its first event's id; -1 between commands); `firstKind` (the
 * first A/R/M of the command in progress per subject, for the HTTP answer).
 * Reports (DESIGN "Who gets a report"): each execution report goes to every connection of its
 * order's account; the command's direct answer (events about the order the command names) carries
 * the reqId to the sending connection only (the ring event's origin and token).
 * Invariants: events reach clients only after the journal made them durable (the engine thread
 * publishes after fsync; docs/journal.md); another account never sees a report; replayed events
 * (journal catch-up at start) take the same path with no connection and no waiter.
 * Complexity: O(events + touched symbols × subscribers) per cycle.
 * Allocation: none on the engine side; per report to JSON connections one message object and one
 * text for all of them without a reqId (one more for the sender with one); binary reports are
 * written into each connection's reused writer with no object and no closure (the report is staged
 * in the pump's r* fields); the book projection gets one reused event object; the cycle's touched
 * symbols are a flag array and a list (no Set cleared per cycle).
 * Concurrency limiter (OrderEntry.limiter): each command's last event gives one engine queue-time
 * sample (tsInit − tsIn) with its batch's tsInit; each cycle ends with OrderEntry.limiterCycle
 * (new orders the engine has taken leave in flight; the limiter's window tick).
 * Known limitations: the 1 ms fallback timer runs even when idle.
 */
import { RING_EVT_SIZE, REASON_NAMES, ENUMS } from '../abi/records.js';
import {
  evtAccount, evtId, evtLast, evtLeaves, evtMaker, evtMakerLeaves, evtPrice, evtQty, evtReason, evtSide, evtSymbol, evtTradeId, evtType, slotEvt, slotOrigin, slotQueueNs, slotSeq, slotToken, slotTsInit, slotTsInitNum,
  journalEventToSlot, type JournalEvents,
} from '../abi/views.js';
import type { BinaryWriter } from '../codec/binary-protocol.js';
import type { ReadModels } from '../cqrs/index.js';
import type { EngineHost } from '../engine/host.js';
import { isAdminIdNum } from '../domain/ids.js';
import type { Instrument } from '../domain/instruments.js';
import type { BookEvent, BookProjection } from '../marketdata/book-projection.js';
import type { GatewayCounters } from './config.js';
import type { Connections } from './connections.js';
import type { MarketData } from './market-data.js';
import type { OrderEntry } from './order-entry.js';
import { OPEN, PENDING, type OrderRegistry } from './orders.js';
import { NULL_STAMPS, type GatewayStamps } from '../monitoring/stamps.js';

/** Atomics.waitAsync (Node ≥ 16; typed from lib es2024, newer than this project's lib). */
const AtomicsAsync = Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, timeoutMs: number): { async: false; value: string } | { async: true; value: Promise<string> } };

export class EventPump {
  private readonly reader: number;
  private readonly buf = new Uint8Array(RING_EVT_SIZE * 4096);
  private readonly dv = new DataView(this.buf.buffer);
  /** The symbols touched in the current cycle, in first-touch order (a flag per symbol and a list: a Set's clear() would allocate a new table every cycle). */
  private readonly touched: TouchedSymbols;
  /** The first A/R/M event of the command in progress, per subject id (for HTTP answers). */
  private readonly firstKind = new Map<number, string>();
  /** Id of the order the command being pumped is about (its first event's id; -1 between commands). */
  private subject = -1;
  /** Word 0 of the event ring: its published count, which the engine thread notifies on every publish (src/ring/spmc-ring.ts layout). */
  private readonly published: Int32Array;
  /** A waitAsync on `published` is pending. */
  private watching = false;
  private timer: NodeJS.Timeout | null = null;
  private replaying = false;
  private readonly bookEvt: BookEvent = { type: 'A', symbol: 0, id: 0, maker: 0, price: 0, qty: 0, side: 0, last: false };
  // the report being sent (report() reads these: no closure, no message object for binary connections)
  private rKind: 'ack' | 'reject' | 'cancelled' | 'modified' | 'fill' = 'ack';
  /** The reported order's registry slot. */
  private rOrder = -1;
  private rSeq = 0;
  private rReason = '';
  private rIns: Instrument | null = null;
  private rPrice = 0;
  private rQty = 0;
  private rLeaves = 0;
  private rTradeId = 0;
  private rTaker = false;
  private rPx = '';
  private rQ = '';

  constructor(
    private readonly host: EngineHost,
    private readonly readModels: ReadModels,
    private readonly orders: OrderRegistry,
    private readonly instruments: Instrument[],
    private readonly book: BookProjection,
    private readonly conns: Connections,
    private readonly md: MarketData,
    private readonly entry: OrderEntry,
    private readonly counters: GatewayCounters,
    /** Stage stamps (publish_to_report, order_to_ack, md_publish_to_send; src/monitoring/stamps.ts). */
    private readonly stamps: GatewayStamps = NULL_STAMPS,
  ) {
    this.reader = host.evtRing.join();
    this.touched = new TouchedSymbols(instruments.length);
    this.published = new Int32Array(host.evtRing.sab, 0, 1);
  }

  /** Starts pumping: every 1 ms, and whenever the engine thread publishes. */
  start(): void {
    this.timer = setInterval(() => this.pump(), 1);
    this.watch();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Drains the event ring: execution reports to owners, projection, then batched market data. Returns the event count. */
  pump(): number {
    const touched = this.touched;
    let n = 0;
    for (;;) {
      const k = this.host.evtRing.poll(this.reader, this.buf, 0, 4096);
      if (k === 0) break;
      for (let i = 0; i < k; i++) {
        this.readModels.onRingSlot(this.dv, i * RING_EVT_SIZE);
        this.onEvent(i * RING_EVT_SIZE, touched);
      }
      this.counters.eventsOut += k;
      n += k;
    }
    for (let i = 0; i < touched.n; i++) this.md.publishBook(touched.list[i]!);
    touched.clear();
    this.entry.limiterCycle();
    this.entry.drainKills();
    this.conns.flushAll();
    this.stamps.flushed();
    return n;
  }

  /**
   * Ack latency: the 1 ms pump interval alone would add up to 1 ms to every answer, so the gateway
   * also waits (Atomics.waitAsync, no spinning) on the event ring's published count, which the
   * engine thread notifies after each publish, and pumps when it changes. The count is read before
   * the pump, so a publish during the pump makes the wait return at once (nothing is missed); a
   * publisher that keeps the count moving is re-checked after yielding to I/O (setImmediate).
   */
  private watch(): void {
    if (this.watching || this.timer === null) return;
    for (let i = 0; i < 4; i++) {
      const seen = Atomics.load(this.published, 0);
      this.pump();
      const r = AtomicsAsync.waitAsync(this.published, 0, seen, 250);
      if (r.async) { this.watching = true; void r.value.then(this.onPublished); return; }
    }
    setImmediate(this.onPublished);
  }
  private readonly onPublished = (): void => { this.watching = false; this.watch(); };

  // ── replay (journal catch-up at start, src/gateway/catch-up.ts) ─────────────────────────
  /** The events of one journal record, through the same path as live events (no connection, no waiter, no kill cancels). */
  replay(r: JournalEvents, touched: Set<number>): void {
    this.replaying = true;
    for (let e = 0; e < r.nEvents; e++) {
      journalEventToSlot(r, e, this.buf, this.dv, 0, false); // no routing: nobody waits for a replayed event
      this.onEvent(0, touched);
    }
    this.replaying = false;
  }

  /** Ends a replay: the touched books' change sets drained (nobody is connected yet), no command in progress. */
  endReplay(touched: Set<number>): void {
    for (const s of touched) this.md.publishBook(s);
    this.subject = -1;
    this.firstKind.clear();
    this.entry.clearWaiters();
  }

  private onEvent(b: number, touched: { add(symbol: number): unknown }): void {
    const dv = this.dv;
    const e = slotEvt(b);
    const type = evtType(dv, e);
    const symbol = evtSymbol(dv, e);
    const id = evtId(dv, e);
    const maker = evtMaker(dv, e);
    const price = evtPrice(dv, e);
    const qty = evtQty(dv, e);
    const last = evtLast(dv, e);
    const side = evtSide(dv, e);
    const seq = slotSeq(dv, b);
    const kind = String.fromCharCode(type) as 'A' | 'R' | 'T' | 'X' | 'M' | 'K';
    // the order the command is about: its first event's id (A/R of a new order, M/R of a modify,
    // X/R of a cancel; a trade's taker). Other orders' events in it (maker fills, STP) are unsolicited.
    if (this.subject < 0) this.subject = id;
    const subject = this.subject;
    if (last) {
      this.subject = -1;
      // one engine queue-time sample per command (u32 words, no BigInt; replayed slots carry none)
      if (!this.replaying) { const q = slotQueueNs(dv, b); if (q >= 0) this.entry.limiter.sample(q, slotTsInitNum(dv, b)); }
    }
    if (isAdminIdNum(id)) {
      // an ADMIN command's K or R: no order, no market data. Its effect on the gateway is applied
      // here, when the engine applied it — also when the HTTP caller has stopped waiting.
      if (kind === 'K') {
        const on = qty === 1;
        if (side === ENUMS.Admin.HALT && symbol < this.instruments.length) this.instruments[symbol]!.status = on ? 'halted' : 'trading';
        if (side === ENUMS.Admin.KILL_ACCOUNT && on && !this.replaying) this.entry.queueKill(evtAccount(dv, e));
        if (!this.replaying) this.entry.adminApplied(side, on, evtAccount(dv, e), seq);
      }
      if (last) this.entry.settle(id, { type: kind, reason: kind === 'R' ? REASON_NAMES[evtReason(dv, e)] ?? 'rejected' : null, seq });
      return;
    }
    // Who gets a report (DESIGN "Client protocol"): every live connection of the order's account;
    // the command's direct answer (the reports about the order it names: A, R, X, M, the taker's
    // fills) carries its reqId to the connection that sent it (origin), and only there.
    const origin = slotOrigin(dv, b);
    const token = slotToken(dv, b);
    const to = id === subject ? origin : 0;
    if (symbol < this.instruments.length) {
      const be = this.bookEvt; // one object reused: BookProjection.apply keeps none of it
      be.type = kind; be.symbol = symbol; be.id = id; be.maker = maker; be.price = price; be.qty = qty; be.side = side; be.last = last;
      this.book.apply(be);
      if (kind !== 'R') { touched.add(symbol); if (!this.replaying) this.stamps.marketData(seq); }
    }
    const reg = this.orders;
    const o = reg.slotOf(id); // the order's registry slot (-1: not the gateway's, or forgotten)
    const ins = this.instruments[symbol];
    const conns = this.conns;
    switch (kind) {
      case 'A':
        if (o >= 0) {
          this.stamps.ack(o);
          reg.status[o] = OPEN;
          const account = reg.account[o]!;
          if (conns.hasAccount(account)) { this.rKind = 'ack'; this.rOrder = o; this.rSeq = seq; this.report(account, to, token); }
        }
        break;
      case 'R':
        if (o >= 0) {
          const reason = REASON_NAMES[evtReason(dv, e)] ?? 'rejected';
          this.stamps.ack(o);
          if (reg.status[o] === PENDING) reg.finish(o, 'rejected');
          const account = reg.account[o]!;
          if (conns.hasAccount(account)) { this.rKind = 'reject'; this.rOrder = o; this.rSeq = seq; this.rReason = reason; this.report(account, to, token); }
        }
        break;
      case 'T': {
        const tradeId = evtTradeId(dv, e); // the engine's, stable across restarts
        if (!ins) break;
        const px = ins.toPrice(BigInt(price));
        const q = ins.toQty(qty);
        this.fillReport(o, evtLeaves(dv, e), true, to, token, ins, tradeId, price, px, qty, q, seq);
        this.fillReport(reg.slotOf(maker), evtMakerLeaves(dv, e), false, 0, 0, ins, tradeId, price, px, qty, q, seq);
        this.md.trade(ins, side, tradeId, price, qty, px, q, slotTsInit(dv, b));
        break;
      }
      case 'X':
        if (o >= 0) {
          reg.leaves[o] = evtLeaves(dv, e); // 0: nothing of it rests any more
          const account = reg.account[o]!;
          if (ins && conns.hasAccount(account)) { this.rKind = 'cancelled'; this.rOrder = o; this.rSeq = seq; this.rIns = ins; this.rQty = qty; this.report(account, to, token); }
          reg.finish(o, 'cancelled');
        }
        break;
      case 'M':
        if (o >= 0 && ins) {
          reg.price[o] = price;
          reg.leaves[o] = qty;
          const account = reg.account[o]!;
          if (conns.hasAccount(account)) { this.rKind = 'modified'; this.rOrder = o; this.rSeq = seq; this.rIns = ins; this.rPrice = price; this.rQty = qty; this.report(account, to, token); }
        }
        break;
    }
    // the first A/R/M of a command someone awaits (HTTP; the waiter is registered before the
    // command is submitted): kept only then, so the binary and JSON paths touch no map per order
    if ((kind === 'A' || kind === 'R' || kind === 'M') && this.entry.awaited(id)) this.firstKind.set(id, kind === 'R' ? `R:${REASON_NAMES[evtReason(dv, e)] ?? 'rejected'}` : kind);
    if (last) {
      if (token !== 0 && origin !== 0) conns.get(origin)?.reqIds?.delete(token); // the command is answered
      let first: string = kind;
      if (this.firstKind.size > 0) { first = this.firstKind.get(id) ?? kind; this.firstKind.delete(id); }
      if (this.entry.awaited(id)) {
        this.entry.settle(id, { type: first.startsWith('R:') ? 'R' : kind === 'X' && first !== 'M' && first !== 'A' ? 'X' : first, reason: first.startsWith('R:') ? first.slice(2) : null, seq });
      }
    }
  }

  /**
   * Sends the execution report staged in the r* fields to every live connection of `account`
   * (newest first; a connection closed as a slow consumer on the way drops out of the list without
   * disturbing the loop). The connection `to` (the command's sender, 0 = none) gets it with the
   * command's reqId: binary, the ring token itself; JSON, the reqId the token stands for. Binary
   * connections get it written into their frame (no object, no closure); the JSON message is built
   * at most once, and its text once for all connections without a reqId. Callers check
   * `hasAccount` first, so an account with no connection (simulator, HTTP-only) costs nothing.
   */
  private report(account: number, to: number, token: number): void {
    const cs = this.conns.ofAccount(account);
    if (cs === undefined) return;
    this.stamps.report(this.rSeq);
    let msg: Record<string, unknown> | null = null;
    let text: string | null = null;
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      if (c === undefined) continue;
      const rq = c.id === to ? token : 0;
      if (c.bin) { this.binReport(this.conns.out(c), rq); continue; }
      msg ??= this.jsonReport();
      const reqId = rq !== 0 ? c.reqIds?.get(rq) : undefined;
      if (reqId !== undefined) this.conns.sendText(c, JSON.stringify({ ...msg, reqId }));
      else this.conns.sendText(c, text ??= JSON.stringify(msg));
    }
  }

  /** The staged report into a binary connection's frame. */
  private binReport(w: BinaryWriter, rq: number): void {
    const reg = this.orders;
    const cid = reg.cid[this.rOrder]!;
    const id = reg.id[this.rOrder]!;
    switch (this.rKind) {
      case 'ack': w.ack(rq, cid, id, this.rSeq, false); return;
      case 'reject': w.reject(rq, cid, id, this.rSeq, this.rReason); return;
      case 'cancelled': w.cancelled(rq, id, cid, this.rSeq, this.rQty, this.rIns!.id); return;
      case 'modified': w.modified(rq, id, cid, this.rSeq, this.rPrice, this.rQty, this.rIns!.id); return;
      case 'fill': w.fill(rq, id, cid, this.rTradeId, this.rPrice, this.rSeq, this.rQty, this.rLeaves, this.rTaker, this.rIns!.id); return;
    }
  }

  /** The staged report as a JSON message (docs/protocol.md; fields in the order clients have always seen). */
  private jsonReport(): Record<string, unknown> {
    const o = { orderId: this.orders.id[this.rOrder]!, clientOrderId: this.orders.cid[this.rOrder]! };
    const seq = this.rSeq;
    switch (this.rKind) {
      case 'ack': return { type: 'ack', clientOrderId: o.clientOrderId, orderId: String(o.orderId), seq };
      case 'reject': return { type: 'reject', clientOrderId: o.clientOrderId, orderId: String(o.orderId), reason: this.rReason, seq };
      case 'cancelled': return { type: 'cancelled', orderId: String(o.orderId), clientOrderId: o.clientOrderId, qty: this.rIns!.toQty(this.rQty), seq };
      case 'modified': return { type: 'modified', orderId: String(o.orderId), clientOrderId: o.clientOrderId, price: this.rIns!.toPrice(BigInt(this.rPrice)), qty: this.rIns!.toQty(this.rQty), seq };
      case 'fill': return { type: 'fill', orderId: String(o.orderId), clientOrderId: o.clientOrderId, tradeId: this.rTradeId, price: this.rPx, qty: this.rQ, leaves: this.rIns!.toQty(this.rLeaves), liquidity: this.rTaker ? 'taker' : 'maker', seq };
    }
  }

  /** A fill of order `x` (taker or maker side of one trade): registry update and report. */
  private fillReport(x: number, leaves: number, taker: boolean, to: number, token: number, ins: Instrument, tradeId: number, price: number, px: string, qty: number, q: string, seq: number): void {
    if (x < 0) return;
    const reg = this.orders;
    reg.leaves[x] = leaves;
    reg.filled[x] = reg.filled[x]! + qty;
    const account = reg.account[x]!;
    if (this.conns.hasAccount(account)) {
      this.rKind = 'fill'; this.rOrder = x; this.rSeq = seq; this.rIns = ins; this.rTradeId = tradeId; this.rPrice = price; this.rQty = qty;
      this.rLeaves = leaves; this.rTaker = taker; this.rPx = px; this.rQ = q;
      this.report(account, to, token);
    }
    if (leaves === 0) reg.finish(x, 'filled');
  }
}

/** A set of symbol ids below a fixed count, kept in first-add order, with no allocation after construction. */
class TouchedSymbols {
  private readonly flag: Uint8Array;
  readonly list: Int32Array;
  n = 0;
  constructor(symbols: number) { this.flag = new Uint8Array(symbols); this.list = new Int32Array(symbols); }
  add(s: number): void { if (this.flag[s] === 0) { this.flag[s] = 1; this.list[this.n++] = s; } }
  clear(): void { for (let i = 0; i < this.n; i++) this.flag[this.list[i]!] = 0; this.n = 0; }
}
