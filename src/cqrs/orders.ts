/**
 * Orders read model: every order by id and by (account, clientOrderId), with status, leaves,
 * filled quantity and average fill price; open orders per account.
 *
 * Owns: `OrdersProjection` (rules below), its snapshot format (kind "orders", version 1).
 * Rules per event (DESIGN event order): A creates the order (open); R of a NEW command records a
 * rejected order (a `duplicate_id` R never touches the resting order of that id); R of a cancel or
 * modify changes nothing; T adds the fill to the taker and the maker (filled when leaves reach 0);
 * X sets leaves (cancelled at 0); M sets price and leaves; K and ADMIN ids are ignored. On the
 * ring the op of a lone R is unknown: it is a cancel/modify reject when the id is known (or the
 * reason is `unknown_order`), else a rejected new order — exact for gateway traffic, whose ids are
 * never reused.
 * Layout: avg fill price = fillNotional / filled, exact (ticks × lots over lots).
 * Invariants: filled + leaves = qty for orders never modified; open ⇔ leaves > 0 and status open;
 * `byClientOrderId(account, cid)` is the newest order with that cid.
 * Complexity: O(1) per event; `open(account)` O(open orders of the account).
 * Allocation: one object per order, its entries in `byId`, the per-account open set and the
 * two-level clientOrderId index (no key string per order). Known limitations: finished orders beyond `keepFinished`
 * (oldest first) are forgotten, like the gateway's registry.
 */
import { ENUMS } from '../abi/records.js';
import { isAdminId, SAGA_ID_BASE, STRATEGY_ID_BASE } from '../domain/ids.js';
import type { OrderStatus } from '../domain/types.js';
import type { CqrsEvent, SeqBatch } from './events.js';
import { big, checkHeader, int, str, type Projection } from './projection.js';

export type { OrderStatus };

export interface OrderView {
  orderId: bigint;
  account: number;
  clientOrderId: string;
  symbol: number;
  side: number;
  /** ENUMS.OrdType / ENUMS.Tif when the command was seen (journal), else -1. */
  type: number;
  tif: number;
  /** Limit price in ticks (0 for market); the new price after a modify. */
  price: bigint;
  /** Original quantity, lots. */
  qty: number;
  leaves: number;
  filled: number;
  /** Σ trade price × qty over this order's fills (ticks × lots). */
  fillNotional: bigint;
  status: OrderStatus;
  /** Reject reason code (status rejected), else 0. */
  reason: number;
  createdSeq: bigint;
  updatedSeq: bigint;
}

interface OrderJson {
  orderId: string; account: number; clientOrderId: string; symbol: number; side: number; type: number; tif: number; price: string;
  qty: number; leaves: number; filled: number; fillNotional: string; status: OrderStatus; reason: number; createdSeq: string; updatedSeq: string;
}

export interface OrdersSnapshot {
  kind: 'orders'; version: 1; checkpoint: string; maxGatewayId: string; orders: OrderJson[]; finished: string[];
  /** The highest strategy order id created (additive; absent in older snapshots: the highest among `orders`). */
  maxStrategyId?: string;
}

const STATUSES: readonly OrderStatus[] = ['open', 'filled', 'cancelled', 'rejected'];

export class OrdersProjection implements Projection<OrdersSnapshot> {
  readonly name = 'orders';
  private cp = 0n;
  private readonly byId = new Map<bigint, OrderView>();
  /** account → clientOrderId → order id (two levels: no `account:cid` key string built per order). */
  private readonly byCid = new Map<number, Map<string, bigint>>();
  private readonly openBy = new Map<number, Set<bigint>>();
  /** Finished order ids, oldest first (eviction order). */
  private finished: bigint[] = [];
  private finishedHead = 0;
  private maxGw = 0n;
  private maxStrat = 0n;

  constructor(private readonly keepFinished = 1_000_000) {}

  get checkpoint(): bigint { return this.cp; }

  get(orderId: bigint): OrderView | undefined { return this.byId.get(orderId); }

  /** The order `orderId` if it belongs to `account` (another account's ids answer like unknown ones). */
  find(account: number, orderId: bigint): OrderView | undefined {
    const o = this.byId.get(orderId);
    return o && o.account === account ? o : undefined;
  }

  /** The newest order of `account` with this clientOrderId. */
  byClientOrderId(account: number, clientOrderId: string): OrderView | undefined {
    const id = this.byCid.get(account)?.get(clientOrderId);
    return id === undefined ? undefined : this.byId.get(id);
  }

  /** Open orders of `account`, oldest id first. */
  open(account: number): OrderView[] {
    const s = this.openBy.get(account);
    if (!s) return [];
    return [...s].sort((a, b) => (a < b ? -1 : 1)).map((id) => this.byId.get(id)!);
  }

  get size(): number { return this.byId.size; }

  /**
   * Every open order of every account (ids as numbers: every live id is below 2^53), as the engine
   * holds them after `checkpoint`: what the strategy pool seeds its workers' books with. Allocates.
   */
  restingOrders(): { symbol: number; id: number; side: number; price: number; leaves: number }[] {
    const out: { symbol: number; id: number; side: number; price: number; leaves: number }[] = [];
    for (const set of this.openBy.values()) {
      for (const id of set) {
        const o = this.byId.get(id)!;
        if (o.leaves > 0 && o.price > 0n) out.push({ symbol: o.symbol, id: Number(id), side: o.side, price: Number(o.price), leaves: o.leaves });
      }
    }
    return out;
  }

  /**
   * The highest order id below 2^51 ever created (accepted or rejected), evicted orders included:
   * the gateway continues its order-id counter after it so that ids are never reused across restarts.
   */
  get maxGatewayOrderId(): bigint { return this.maxGw; }

  /**
   * The highest strategy order id (domain/ids.ts STRATEGY_ID_BASE and up) ever created, evicted
   * orders included (0n: none): the strategy pool continues its id counter after it across restarts.
   */
  get maxStrategyOrderId(): bigint { return this.maxStrat; }

  apply(b: SeqBatch): boolean {
    if (b.seq <= this.cp) return false;
    this.cp = b.seq;
    for (const e of b.events) this.event(b, e);
    return true;
  }

  private event(b: SeqBatch, e: CqrsEvent): void {
    if (isAdminId(e.id) || e.type === 'K') return;
    switch (e.type) {
      case 'A': {
        const cmd = b.command && b.command.id === e.id ? b.command : null;
        this.create(b, e, 'open', cmd ? cmd.type : -1, cmd ? cmd.tif : -1);
        return;
      }
      case 'R': {
        const known = this.byId.get(e.id);
        const isNew = b.op === ENUMS.Op.NEW || (b.op === 0 && !known && e.reason !== ENUMS.Reason.UNKNOWN_ORDER);
        if (!isNew) return; // a refused cancel or modify leaves the order as it was
        if (e.reason === ENUMS.Reason.DUPLICATE_ID && known) return; // the resting order of that id is another order
        const cmd = b.command;
        this.create(b, e, 'rejected', cmd ? cmd.type : -1, cmd ? cmd.tif : -1);
        return;
      }
      case 'T': {
        this.fill(b.seq, e.id, e.qty, e.price, e.leaves);
        this.fill(b.seq, e.maker, e.qty, e.price, e.makerLeaves);
        return;
      }
      case 'X': {
        const o = this.byId.get(e.id);
        if (!o) return;
        o.leaves = e.leaves;
        o.updatedSeq = b.seq;
        if (o.leaves === 0) this.finish(o, 'cancelled');
        return;
      }
      case 'M': {
        const o = this.byId.get(e.id);
        if (!o) return;
        o.price = e.price;
        o.leaves = e.qty;
        o.updatedSeq = b.seq;
        return;
      }
    }
  }

  private create(b: SeqBatch, e: CqrsEvent, status: OrderStatus, type: number, tif: number): void {
    const prev = this.byId.get(e.id);
    if (prev) this.forget(prev); // an id reused by a tool (never by the gateway): the newest wins
    if (e.id < SAGA_ID_BASE && e.id > this.maxGw) this.maxGw = e.id; // gateway ids only (domain/ids.ts)
    else if (e.id >= STRATEGY_ID_BASE && e.id > this.maxStrat) this.maxStrat = e.id;
    const o: OrderView = {
      orderId: e.id, account: e.account, clientOrderId: b.clientOrderId ?? '', symbol: e.symbol, side: e.side, type, tif,
      price: e.price, qty: e.qty, leaves: status === 'open' ? e.leaves : 0, filled: 0, fillNotional: 0n, status,
      reason: status === 'rejected' ? e.reason : 0, createdSeq: b.seq, updatedSeq: b.seq,
    };
    this.byId.set(o.orderId, o);
    if (o.clientOrderId !== '') this.setCid(o);
    if (status === 'open') {
      let s = this.openBy.get(o.account);
      if (!s) this.openBy.set(o.account, (s = new Set()));
      s.add(o.orderId);
    } else {
      this.pushFinished(o.orderId);
    }
  }

  private fill(seq: bigint, id: bigint, qty: number, price: bigint, leaves: number): void {
    const o = this.byId.get(id);
    if (!o) return;
    o.filled += qty;
    o.fillNotional += price * BigInt(qty);
    o.leaves = leaves;
    o.updatedSeq = seq;
    if (leaves === 0 && o.status === 'open') this.finish(o, 'filled');
  }

  private finish(o: OrderView, status: 'filled' | 'cancelled'): void {
    if (o.status !== 'open') return;
    o.status = status;
    const s = this.openBy.get(o.account);
    if (s) { s.delete(o.orderId); if (s.size === 0) this.openBy.delete(o.account); }
    this.pushFinished(o.orderId);
  }

  private pushFinished(id: bigint): void {
    this.finished.push(id);
    while (this.finished.length - this.finishedHead > this.keepFinished) {
      const old = this.finished[this.finishedHead++]!;
      const o = this.byId.get(old);
      if (o && o.status !== 'open') this.forget(o);
    }
    if (this.finishedHead > 4096 && this.finishedHead * 2 > this.finished.length) {
      this.finished = this.finished.slice(this.finishedHead);
      this.finishedHead = 0;
    }
  }

  private setCid(o: OrderView): void {
    let m = this.byCid.get(o.account);
    if (!m) this.byCid.set(o.account, (m = new Map()));
    m.set(o.clientOrderId, o.orderId);
  }

  private forget(o: OrderView): void {
    this.byId.delete(o.orderId);
    const m = this.byCid.get(o.account);
    if (m && m.get(o.clientOrderId) === o.orderId) { m.delete(o.clientOrderId); if (m.size === 0) this.byCid.delete(o.account); }
    const s = this.openBy.get(o.account);
    if (s) { s.delete(o.orderId); if (s.size === 0) this.openBy.delete(o.account); }
  }

  snapshot(): OrdersSnapshot {
    const ids = [...this.byId.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return {
      kind: 'orders', version: 1, checkpoint: this.cp.toString(), maxGatewayId: this.maxGw.toString(),
      orders: ids.map((id) => {
        const o = this.byId.get(id)!;
        return {
          orderId: o.orderId.toString(), account: o.account, clientOrderId: o.clientOrderId, symbol: o.symbol, side: o.side, type: o.type, tif: o.tif,
          price: o.price.toString(), qty: o.qty, leaves: o.leaves, filled: o.filled, fillNotional: o.fillNotional.toString(), status: o.status,
          reason: o.reason, createdSeq: o.createdSeq.toString(), updatedSeq: o.updatedSeq.toString(),
        };
      }),
      finished: this.finished.slice(this.finishedHead).map(String),
      maxStrategyId: this.maxStrat.toString(),
    };
  }

  restore(s: OrdersSnapshot): void {
    const h = checkHeader(s, 'orders', 1);
    const cp = big(h.checkpoint, 'checkpoint');
    const maxGw = big(h.maxGatewayId, 'maxGatewayId');
    if (!Array.isArray(h.orders) || !Array.isArray(h.finished)) throw new TypeError('orders snapshot: orders and finished must be arrays');
    const orders: OrderView[] = (h.orders as OrderJson[]).map((j, i) => {
      const w = `orders[${i}]`;
      if (!STATUSES.includes(j.status)) throw new TypeError(`${w}.status`);
      return {
        orderId: big(j.orderId, `${w}.orderId`), account: int(j.account, `${w}.account`), clientOrderId: str(j.clientOrderId, `${w}.clientOrderId`),
        symbol: int(j.symbol, `${w}.symbol`), side: int(j.side, `${w}.side`), type: Number(j.type), tif: Number(j.tif), price: big(j.price, `${w}.price`),
        qty: int(j.qty, `${w}.qty`), leaves: int(j.leaves, `${w}.leaves`), filled: int(j.filled, `${w}.filled`), fillNotional: big(j.fillNotional, `${w}.fillNotional`),
        status: j.status, reason: int(j.reason, `${w}.reason`), createdSeq: big(j.createdSeq, `${w}.createdSeq`), updatedSeq: big(j.updatedSeq, `${w}.updatedSeq`),
      };
    });
    const finished = (h.finished as unknown[]).map((v, i) => big(v, `finished[${i}]`));
    this.byId.clear();
    this.byCid.clear();
    this.openBy.clear();
    // rebuild the clientOrderId index in creation order, so that the newest order of a cid wins
    const byCreation = orders.slice().sort((a, b) => (a.createdSeq < b.createdSeq ? -1 : a.createdSeq > b.createdSeq ? 1 : 0));
    for (const o of orders) this.byId.set(o.orderId, o);
    for (const o of byCreation) {
      if (o.clientOrderId !== '') this.setCid(o);
      if (o.status === 'open') {
        let set = this.openBy.get(o.account);
        if (!set) this.openBy.set(o.account, (set = new Set()));
        set.add(o.orderId);
      }
    }
    this.finished = finished;
    this.finishedHead = 0;
    this.maxGw = maxGw;
    let maxStrat = h.maxStrategyId === undefined ? 0n : big(h.maxStrategyId, 'maxStrategyId');
    for (const o of orders) if (o.orderId >= STRATEGY_ID_BASE && o.orderId > maxStrat) maxStrat = o.orderId;
    this.maxStrat = maxStrat;
    this.cp = cp;
  }
}

/** Average fill price of an order as an exact ratio (null before the first fill). */
export function avgFillPrice(o: Pick<OrderView, 'fillNotional' | 'filled'>): { num: bigint; den: bigint } | null {
  return o.filled === 0 ? null : { num: o.fillNotional, den: BigInt(o.filled) };
}
