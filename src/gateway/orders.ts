/**
 * Gateway-side order registry: engine-wide order ids, ownership, and clientOrderId idempotency
 * per account among live orders.
 *
 * Layout (owns): orderId → OrderInfo for every order the gateway sent (live and recently finished), and
 * account → clientOrderId → live order (nested maps: no key string is built per lookup).
 * Invariants: an order id is never reused; another account's order ids are looked up exactly like
 * unknown ones (`find` takes the account).
 * Complexity: O(1). Allocation: one object per order (gateway side).
 * Known limitations: finished orders are forgotten after `keepFinished` (default 100,000) to
 * bound memory. At start the gateway rebuilds the registry from the journal (`restore`), so ids
 * and clientOrderId idempotency survive restarts.
 */
import { GATEWAY_ID_FIRST } from '../domain/ids.js';
import type { LiveOrderStatus } from '../domain/types.js';


export interface OrderInfo {
  orderId: number;
  account: number;
  clientOrderId: string;
  symbol: number;
  side: number;
  price: bigint;
  qty: number;
  leaves: number;
  filled: number;
  status: LiveOrderStatus;
  /** Connection that placed it, or took it over with `resumeFrom` (0 = none / HTTP): whose
   * cancel-on-disconnect covers it. Reports do not follow it: they go to every live connection of the account. */
  conn: number;
}

export class OrderRegistry {
  private nextId = GATEWAY_ID_FIRST;
  private readonly byId = new Map<number, OrderInfo>();
  private readonly live = new Map<number, Map<string, OrderInfo>>();
  private readonly finished: number[] = [];

  constructor(private readonly keepFinished = 100_000) {}

  /** The live order of (account, clientOrderId), if any. */
  liveByClientId(account: number, clientOrderId: string): OrderInfo | undefined {
    return this.live.get(account)?.get(clientOrderId);
  }

  /** The order `orderId` if it belongs to `account` (else undefined, like an unknown id). */
  find(account: number, orderId: number): OrderInfo | undefined {
    const o = this.byId.get(orderId);
    return o && o.account === account ? o : undefined;
  }

  /** Any order by id (for routing engine events). */
  get(orderId: number): OrderInfo | undefined { return this.byId.get(orderId); }

  create(o: Omit<OrderInfo, 'orderId' | 'leaves' | 'filled' | 'status'>): OrderInfo {
    const info: OrderInfo = {
      orderId: this.nextId++, account: o.account, clientOrderId: o.clientOrderId, symbol: o.symbol, side: o.side, price: o.price,
      qty: o.qty, leaves: o.qty, filled: 0, status: 'pending', conn: o.conn,
    };
    this.byId.set(info.orderId, info);
    let mine = this.live.get(o.account);
    if (!mine) { mine = new Map(); this.live.set(o.account, mine); }
    mine.set(o.clientOrderId, info);
    return info;
  }

  /** Re-creates an order read back from the journal with its original id (start-up catch-up). */
  restore(o: Omit<OrderInfo, 'leaves' | 'filled' | 'status'>): OrderInfo {
    const info: OrderInfo = { ...o, leaves: o.qty, filled: 0, status: 'pending' };
    this.byId.set(info.orderId, info);
    let mine = this.live.get(o.account);
    if (!mine) { mine = new Map(); this.live.set(o.account, mine); }
    mine.set(o.clientOrderId, info);
    if (o.orderId >= this.nextId) this.nextId = o.orderId + 1;
    return info;
  }

  /** Marks an order finished (filled, cancelled or rejected): its clientOrderId becomes reusable. */
  finish(o: OrderInfo, status: 'filled' | 'cancelled' | 'rejected'): void {
    o.status = status;
    const mine = this.live.get(o.account);
    if (mine?.get(o.clientOrderId) === o) mine.delete(o.clientOrderId);
    this.finished.push(o.orderId);
    if (this.finished.length > this.keepFinished) this.byId.delete(this.finished.shift()!);
  }

  /** Open (resting or pending) orders of an account. */
  open(account: number): OrderInfo[] {
    return [...(this.live.get(account)?.values() ?? [])];
  }
}
