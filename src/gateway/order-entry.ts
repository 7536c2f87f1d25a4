/**
 * Order entry, shared by WebSocket (JSON and binary), HTTP, the kill switch, sagas' admin
 * neighbours and the simulator: checks an order or a cancel/modify against the gateway's registry
 * and the instrument, writes one CMD record in place and hands it to the engine host's command
 * ring (`EngineHost.submitRaw`), and lets a caller wait for the command's outcome.
 *
 * Layout: one CMD record buffer (`cmdRec`) reused for every command; `waiters` (subject id → the
 * resolver of awaitCommand), resolved by the event pump on the command's last event; `killCancels`
 * (resting orders of killed accounts still to cancel, retried while the ring is full).
 * Invariants: another account's order ids answer exactly like unknown ids (`lookup`); a command the
 * ring refuses leaves no trace but a `rejected` registry entry for a new order; an engine that
 * stopped answers `unavailable`, a full ring `busy`, a new order over the concurrency limit
 * (`limiter`, src/monitoring/limiter.ts; in flight: admitted new orders still in the command ring,
 * `queuedPos`, not yet taken by the engine thread) `overloaded` with no registry entry; cancels and modifies
 * are never shed (they take risk off the book or re-price what rests; docs/operations.md). The direct answer of a command goes to its
 * `origin` connection (0: HTTP, the gateway itself or the simulator) with its ring `token`.
 * Complexity: O(1) per command (cancel-on-disconnect O(open orders of the account)).
 * Allocation: none per command in the CMD record (no command object, no BigInt for ids or tsIn); the
 * decimal path allocates its bigint price; awaitCommand a promise and a timer.
 * Known limitations: waiters are keyed by order id: a second awaitCommand on the same id replaces
 * the first (HTTP answers one command per order at a time).
 */
import { CMD_OFF, CMD_SIZE, ENUMS } from '../abi/records.js';
import type { EngineHost } from '../engine/host.js';
import type { TradsysError } from '../domain/errors.js';
import { ADMIN_ID_BASE_NUM } from '../domain/ids.js';
import type { Instrument } from '../domain/instruments.js';
import type { CommandDone, EntryOutcome, GatewayCounters, OrderFields, OrderRef } from './config.js';
import type { OrderRegistry } from './orders.js';
import { GradientLimiter } from '../monitoring/limiter.js';
import { NULL_STAMPS, type GatewayStamps } from '../monitoring/stamps.js';

export type SubmitOutcome = 'ok' | 'busy' | 'unavailable';
export type AdminAction = 'halt' | 'kill_account' | 'kill_all';
export type AdminDone = { ok: boolean; reason: string | null; seq: number } | null;

const TIF = { gtc: 0, ioc: 1, fok: 2, post_only: 3 } as const;
/** The answer to a new order over the concurrency limit (one object: nothing allocated per shed order). */
const OVERLOADED: EntryOutcome = Object.freeze({ ok: false, reason: 'overloaded', message: 'the engine queue is over its concurrency limit; retry' }) as EntryOutcome;

export class OrderEntry {
  /** The CMD record being submitted (written in place: no command object, no BigInt for ids). */
  private readonly cmdRec = new Uint8Array(CMD_SIZE);
  private readonly cmdDv = new DataView(this.cmdRec.buffer);
  private readonly waiters = new Map<number, (r: CommandDone) => void>();
  private adminSeq = 0;
  /** Resting orders of killed accounts still to cancel (retried while the command ring is full). */
  private readonly killCancels: [number, number][] = [];
  private readonly adminListeners: ((e: { action: AdminAction; on: boolean; account: number; seq: number }) => void)[] = [];
  /** Command-ring positions of the admitted new orders the engine has not taken yet, oldest first (a ring of the command ring's capacity). */
  private readonly queuedPos: Int32Array;
  private qHead = 0;
  private qLen = 0;

  constructor(
    private readonly host: EngineHost,
    /** The registry (the ws handlers read a duplicate's clientOrderId and id from it). */
    readonly orders: OrderRegistry,
    private readonly instruments: Instrument[],
    private readonly bySymbol: ReadonlyMap<string, Instrument>,
    private readonly counters: GatewayCounters,
    /** Adaptive concurrency on new orders (the event pump feeds it queue times and answers). */
    readonly limiter: GradientLimiter = new GradientLimiter({ enabled: false }),
    /** Stage stamps (src/monitoring/stamps.ts): the ws handlers stamp receive and decode, this the enqueue. */
    readonly stamps: GatewayStamps = NULL_STAMPS,
  ) {
    this.queuedPos = new Int32Array(host.cmdRing.capacity);
  }

  /**
   * Queues one command (busy: the command ring is full). Writes the CMD record in place; `price`
   * is ticks (a bigint from decimal conversion, or a safe-integer number from the binary codec).
   */
  submit(op: number, side: number, type: number, tif: number, symbol: number, id: number, price: bigint | number, qty: number, account: number, origin: number, token: number, clientOrderId = ''): SubmitOutcome {
    if (this.host.failed !== null) return 'unavailable';
    const dv = this.cmdDv;
    dv.setUint8(CMD_OFF.op, op);
    dv.setUint8(CMD_OFF.side, side);
    dv.setUint8(CMD_OFF.type, type);
    dv.setUint8(CMD_OFF.tif, tif);
    dv.setUint32(CMD_OFF.symbol, symbol, true);
    dv.setUint32(CMD_OFF.id, id % 4294967296, true);
    dv.setUint32(CMD_OFF.id + 4, Math.floor(id / 4294967296), true);
    if (typeof price === 'bigint') dv.setBigInt64(CMD_OFF.price, price, true);
    else { const hi = Math.floor(price / 4294967296); dv.setUint32(CMD_OFF.price, price - hi * 4294967296, true); dv.setInt32(CMD_OFF.price + 4, hi, true); }
    dv.setUint32(CMD_OFF.qty, qty, true);
    dv.setUint32(CMD_OFF.account, account, true);
    try {
      if (!this.host.submitRawNow(this.cmdRec, 0, origin, token, clientOrderId)) return 'busy'; // tsIn stamped without a BigInt
      this.host.lastTsInInto(this.stamps.w, 0);
      this.stamps.enqueued();
      return 'ok';
    } catch (e) {
      if (this.host.failed !== null) return 'unavailable';
      throw e;
    }
  }

  /** A new order in decimal strings (JSON and HTTP). */
  placeOrder(account: number, conn: number, m: OrderFields, token = 0): EntryOutcome {
    const prior = this.orders.liveSlot(account, m.clientOrderId);
    if (prior >= 0) return { ok: true, slot: prior, duplicate: true };
    const ins = this.bySymbol.get(m.symbol);
    if (!ins) return { ok: false, reason: 'unknown_symbol' };
    let price = 0n;
    let qty: number;
    try {
      if (m.type === 'limit') price = ins.toTicks(m.price ?? '');
      qty = ins.toLots(m.qty);
    } catch (e) {
      return { ok: false, reason: (e as TradsysError).code === 'ERR_QTY_LOT' ? 'bad_qty' : 'bad_price', message: (e as Error).message };
    }
    return this.enterOrder(account, conn, m.clientOrderId, ins.id, m.side === 'buy' ? 0 : 1, m.type === 'limit' ? 0 : 1, TIF[m.tif], price, qty, token);
  }

  /** Order entry in ticks and lots (binary protocol): the same checks, in the same order, as placeOrder. */
  placeOrderTicks(account: number, conn: number, clientOrderId: string, symbol: number, side: number, type: number, tif: number, price: number, qty: number, token = 0): EntryOutcome {
    const prior = this.orders.liveSlot(account, clientOrderId);
    if (prior >= 0) return { ok: true, slot: prior, duplicate: true };
    if (symbol >= this.instruments.length) return { ok: false, reason: 'unknown_symbol' };
    if (type === 0 && price <= 0) return { ok: false, reason: 'bad_price' };
    if (qty <= 0) return { ok: false, reason: 'bad_qty' };
    return this.enterOrder(account, conn, clientOrderId, symbol, side, type, tif, type === 0 ? price : 0, qty, token);
  }

  /**
   * A new order that passed the gateway's checks: over the concurrency limit it is answered
   * `overloaded` and leaves no trace (no registry entry, no order id: its clientOrderId is free for
   * the retry); else it is registered and submitted.
   */
  private enterOrder(account: number, conn: number, clientOrderId: string, symbol: number, side: number, type: number, tif: number, price: bigint | number, qty: number, token: number): EntryOutcome {
    this.reapTaken();
    if (!this.limiter.tryAcquire()) return OVERLOADED;
    const o = this.orders.create({ account, clientOrderId, symbol, side, price, qty, conn });
    this.counters.ordersIn++;
    const sent = this.submitAdmitted(o, type, tif, price, conn, token);
    if (sent !== 'ok') return this.refused(sent);
    this.stamps.awaitAck(o);
    return { ok: true, slot: o };
  }

  /**
   * Submits a NEW for the order just created in registry slot `o` (the simulator's way: counted in
   * flight, never shed); a refused one is finished as rejected.
   */
  submitNew(o: number, type: number, tif: number, price: bigint | number, origin: number, token: number): SubmitOutcome {
    this.limiter.admit();
    return this.submitAdmitted(o, type, tif, price, origin, token);
  }

  /** The NEW of an order the limiter counts in flight; refused by the ring, it is released again. */
  private submitAdmitted(o: number, type: number, tif: number, price: bigint | number, origin: number, token: number): SubmitOutcome {
    const r = this.orders;
    const sent = this.submit(ENUMS.Op.NEW, r.side[o]!, type, tif, r.symbol[o]!, r.id[o]!, price, r.qty[o]!, r.account[o]!, origin, token, r.cid[o]!);
    if (sent !== 'ok') { r.finish(o, 'rejected'); this.limiter.release(); return sent; }
    const q = this.queuedPos;
    const pos = this.host.cmdRing.lastPos;
    // entries the engine already took may not be reaped yet (the simulator's path does not reap);
    // after a reap at most capacity − 1 remain, since the ring holds this command too
    if (this.qLen === q.length) this.reapTaken();
    q[(this.qHead + this.qLen) & (q.length - 1)] = pos;
    this.qLen++;
    return sent;
  }

  /** New orders the engine thread has taken from the command ring are no longer in flight (O(taken)). */
  private reapTaken(): void {
    const q = this.queuedPos;
    const ring = this.host.cmdRing;
    while (this.qLen > 0 && ring.taken(q[this.qHead]!)) {
      this.qHead = (this.qHead + 1) & (q.length - 1);
      this.qLen--;
      this.limiter.release();
    }
  }

  /** Once per event-pump cycle: in flight brought up to date, the limiter's window tick. */
  limiterCycle(): void {
    this.reapTaken();
    this.limiter.tick();
  }

  /** The registry slot of the live order of `account` named by clientOrderId or orderId (others' orders are unknown), or -1. */
  lookup(account: number, ref: OrderRef): number {
    const r = this.orders;
    let s = -1;
    if (ref.orderId !== undefined) { s = r.slotOf(Number(ref.orderId)); if (s >= 0 && r.account[s] !== account) s = -1; } else if (ref.clientOrderId !== undefined) s = r.liveSlot(account, ref.clientOrderId);
    return s >= 0 && r.isLive(s) ? s : -1;
  }

  /** `origin`: the connection sending the cancel (0: HTTP or the gateway itself), which gets the direct answer. */
  requestCancel(account: number, ref: OrderRef, token = 0, origin = 0): EntryOutcome {
    const o = this.lookup(account, ref);
    if (o < 0) return { ok: false, reason: 'unknown_order' };
    const r = this.orders;
    const sent = this.submit(ENUMS.Op.CANCEL, r.side[o]!, 0, 0, r.symbol[o]!, r.id[o]!, 0, 0, account, origin, token);
    if (sent !== 'ok') return this.refused(sent);
    this.stamps.awaitAck(o);
    return { ok: true, slot: o };
  }

  /** A modify in decimal strings (JSON and HTTP). */
  requestModify(account: number, ref: OrderRef, priceText: string, qtyText: string, token = 0, origin = 0): EntryOutcome {
    const o = this.lookup(account, ref);
    if (o < 0) return { ok: false, reason: 'unknown_order' };
    const ins = this.instruments[this.orders.symbol[o]!]!;
    let price: bigint;
    let qty: number;
    try {
      price = ins.toTicks(priceText);
      qty = ins.toLots(qtyText);
    } catch (e) {
      return { ok: false, reason: (e as TradsysError).code === 'ERR_QTY_LOT' ? 'bad_qty' : 'bad_price', message: (e as Error).message };
    }
    return this.submitModify(o, account, price, qty, token, origin);
  }

  /** A modify in ticks and lots (binary protocol): the same checks, in the same order, as requestModify. */
  requestModifyTicks(account: number, ref: OrderRef, price: number, qty: number, token: number, origin: number): EntryOutcome {
    const o = this.lookup(account, ref);
    if (o < 0) return { ok: false, reason: 'unknown_order' };
    if (price <= 0) return { ok: false, reason: 'bad_price' };
    if (qty <= 0) return { ok: false, reason: 'bad_qty' };
    return this.submitModify(o, account, price, qty, token, origin);
  }

  private submitModify(o: number, account: number, price: bigint | number, qty: number, token: number, origin: number): EntryOutcome {
    const r = this.orders;
    const sent = this.submit(ENUMS.Op.MODIFY, r.side[o]!, 0, 0, r.symbol[o]!, r.id[o]!, price, qty, account, origin, token);
    if (sent !== 'ok') return this.refused(sent);
    this.stamps.awaitAck(o);
    return { ok: true, slot: o };
  }

  /** Cancels the open orders `conn` placed for `account` (cancel-on-disconnect; origin 0: the account's other connections get the reports). */
  cancelAllOf(account: number, conn: number): void {
    const r = this.orders;
    for (const s of r.openSlots(account)) if (r.conn[s] === conn) this.requestCancel(account, { orderId: String(r.id[s]) });
  }

  private refused(r: 'busy' | 'unavailable'): { ok: false; reason: string; message: string } {
    return r === 'busy'
      ? { ok: false, reason: 'busy', message: 'the engine is busy; retry' }
      : { ok: false, reason: 'unavailable', message: `trading is stopped: ${this.host.failed ?? 'the engine thread failed'}` };
  }

  // ── waiting for a command's outcome ────────────────────────────────────────────────────
  /** Resolves with the last event (type and reason) of the next command about `orderId`. */
  awaitCommand(orderId: number, timeoutMs = 5000): Promise<CommandDone | null> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.waiters.delete(orderId); resolve(null); }, timeoutMs);
      this.waiters.set(orderId, (r) => { clearTimeout(t); resolve(r); });
    });
  }

  /** Whether someone waits for the command about `id` (the event pump builds the outcome only then). */
  awaited(id: number): boolean { return this.waiters.has(id); }

  /** The event pump's answer to awaitCommand: the command about `id` is done. */
  settle(id: number, r: CommandDone): void {
    const w = this.waiters.get(id);
    if (w === undefined) return;
    this.waiters.delete(id);
    w(r);
  }

  /** Forgets every waiter (after the journal catch-up at start: nobody waits for a replayed event). */
  clearWaiters(): void { this.waiters.clear(); }

  // ── admin: halts and kill switches (sequenced through the engine as ADMIN commands) ─────
  /**
   * Submits an ADMIN command and waits for its K (applied) or R (refused) event. Killing an account
   * also cancels its resting orders known to the gateway (queueKill, from the event pump).
   * `attribution` (≤ RING_CMD_CID_MAX ASCII characters, e.g. `strategy:pairs-1` for a circuit
   * breaker's kill) travels in the command's clientOrderId field, so the journal record of the
   * ADMIN command says who asked for it; '' (the default) for an admin key's request.
   */
  async admin(action: AdminAction, on: boolean, target: { symbol?: number; account?: number } = {}, attribution = ''): Promise<AdminDone> {
    const id = ADMIN_ID_BASE_NUM + ++this.adminSeq;
    const type = { halt: ENUMS.Admin.HALT, kill_account: ENUMS.Admin.KILL_ACCOUNT, kill_all: ENUMS.Admin.KILL_ALL }[action];
    const wait = this.awaitCommand(id);
    const sent = this.submit(ENUMS.Op.ADMIN, 0, type, 0, target.symbol ?? 0, id, 0, on ? 1 : 0, target.account ?? 0, 0, 0, attribution);
    if (sent !== 'ok') {
      this.waiters.delete(id);
      return { ok: false, reason: sent, seq: 0 };
    }
    const r = await wait;
    if (r === null) return null;
    if (r.type !== 'K') return { ok: false, reason: r.reason, seq: r.seq };
    return { ok: true, reason: null, seq: r.seq };
  }

  /** Listens to every ADMIN command the engine applies from now on (live, whoever sent it): the strategy service follows its accounts' kill switches. */
  onAdminApplied(f: (e: { action: AdminAction; on: boolean; account: number; seq: number }) => void): void { this.adminListeners.push(f); }

  /** The event pump saw the K of an ADMIN command (`type` ENUMS.Admin, live only). */
  adminApplied(type: number, on: boolean, account: number, seq: number): void {
    if (this.adminListeners.length === 0) return;
    const action: AdminAction | null = type === ENUMS.Admin.KILL_ACCOUNT ? 'kill_account' : type === ENUMS.Admin.KILL_ALL ? 'kill_all' : type === ENUMS.Admin.HALT ? 'halt' : null;
    if (action === null) return;
    for (const f of this.adminListeners) f({ action, on, account, seq });
  }

  /** The engine applied a kill of `account`: its open orders are cancelled (drainKills, after the pump cycle). */
  queueKill(account: number): void {
    for (const s of this.orders.openSlots(account)) this.killCancels.push([account, this.orders.id[s]!]);
  }

  /** Sends the pending kill-switch cancels; those refused as busy stay queued for the next pump. */
  drainKills(): void {
    while (this.killCancels.length > 0) {
      const [account, orderId] = this.killCancels[0]!;
      const r = this.requestCancel(account, { orderId: String(orderId) });
      if (!r.ok && r.reason === 'busy') return;
      this.killCancels.shift();
    }
  }
}
