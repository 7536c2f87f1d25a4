/**
 * Gateway-side order registry: engine-wide order ids, ownership, and clientOrderId idempotency
 * per account among live orders.
 *
 * Layout (owns): struct of arrays indexed by an order slot, like the engine's book — typed arrays
 * `account`, `symbol`, `side`, `status` (STATUS codes), `conn`; arrays of small integers `id`,
 * `price` (ticks), `qty`, `leaves`, `filled` (lots), and `cid` (the clientOrderId text); free slots on a free list (`free`);
 * orderId → slot (`byId`) for every order the gateway sent (live and recently finished), and
 * account → clientOrderId → slot of the live order (nested maps: no key string is built per
 * lookup); finished slots in eviction order (`finished`, a ring).
 * Invariants: an order id is never reused; a slot is reused only after its order was evicted
 * (finished and older than `keepFinished` others); another account's order ids are looked up
 * exactly like unknown ones (`find` takes the account).
 * Complexity: O(1) per operation (`open` O(the account's live orders)); the arrays start at
 * 131,072 slots (~9 MB) and grow by doubling past that. Allocation: none per order on the hot path (the slot API: `create`, `slotOf`,
 * `liveSlot`, field arrays, `finish`) but the clientOrderId text the caller passes and the maps'
 * occasional rehash; `info` / `get` / `find` / `liveByClientId` / `open` build an OrderInfo
 * snapshot (HTTP, JSON, tests).
 * Known limitations: finished orders are forgotten after `keepFinished` (default 100,000) to
 * bound memory. At start the gateway rebuilds the registry from the journal (`restore`), so ids
 * and clientOrderId idempotency survive restarts. Prices are kept as numbers (ticks, exact below
 * 2^53, the binary protocol's range).
 */
import { GATEWAY_ID_FIRST } from '../domain/ids.js';
import type { LiveOrderStatus } from '../domain/types.js';

/** A snapshot of one order (HTTP answers, JSON, tests): later changes are not reflected in it. */
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

/** Status codes of the `status` array. */
export const PENDING = 0;
export const OPEN = 1;
export const FILLED = 2;
export const CANCELLED = 3;
export const REJECTED = 4;
const STATUS: readonly LiveOrderStatus[] = ['pending', 'open', 'filled', 'cancelled', 'rejected'];
const CODE: Readonly<Record<'filled' | 'cancelled' | 'rejected', number>> = { filled: FILLED, cancelled: CANCELLED, rejected: REJECTED };

export interface NewOrder { account: number; clientOrderId: string; symbol: number; side: number; price: bigint | number; qty: number; conn: number }

export class OrderRegistry {
  private nextId = GATEWAY_ID_FIRST;
  private cap = 0;
  // numbers that are passed on (ids, ticks, lots) in plain arrays of small integers: reading one
  // gives a tagged small integer, where a Float64Array element would be boxed at every call
  readonly id: number[] = [];
  account = new Uint32Array(0);
  symbol = new Uint32Array(0);
  side = new Uint8Array(0);
  readonly price: number[] = [];
  readonly qty: number[] = [];
  readonly leaves: number[] = [];
  readonly filled: number[] = [];
  status = new Uint8Array(0);
  conn = new Uint32Array(0);
  cid: string[] = [];
  private free = new Int32Array(0);
  private nFree = 0;
  private readonly byId = new Map<number, number>();
  private readonly live = new Map<number, Map<string, number>>();
  /** Finished slots, oldest first (a ring of keepFinished + 1). */
  private readonly finished: Int32Array;
  private finHead = 0;
  private finLen = 0;

  constructor(private readonly keepFinished = 100_000, initialSlots = 1 << 17) {
    this.finished = new Int32Array(keepFinished + 1);
    this.grow(initialSlots);
  }

  private grow(cap: number): void {
    const g = <T extends Uint32Array | Uint8Array>(a: T, make: (n: number) => T): T => { const b = make(cap); b.set(a); return b; };
    this.account = g(this.account, (n) => new Uint32Array(n));
    this.symbol = g(this.symbol, (n) => new Uint32Array(n));
    this.side = g(this.side, (n) => new Uint8Array(n));
    this.status = g(this.status, (n) => new Uint8Array(n));
    this.conn = g(this.conn, (n) => new Uint32Array(n));
    for (let i = this.cid.length; i < cap; i++) { this.cid.push(''); this.id.push(0); this.price.push(0); this.qty.push(0); this.leaves.push(0); this.filled.push(0); }
    const free = new Int32Array(cap);
    free.set(this.free.subarray(0, this.nFree));
    // new slots go on the free list highest first, so they are taken lowest first
    for (let s = cap - 1; s >= this.cap; s--) free[this.nFree++] = s;
    this.free = free;
    this.cap = cap;
  }

  /** The slot of order `orderId` (live or recently finished), or -1. */
  slotOf(orderId: number): number { return this.byId.get(orderId) ?? -1; }

  /** The slot of the live order of (account, clientOrderId), or -1. */
  liveSlot(account: number, clientOrderId: string): number { return this.live.get(account)?.get(clientOrderId) ?? -1; }

  /** Whether the order in `slot` is live (pending or open). */
  isLive(slot: number): boolean { return this.status[slot]! <= OPEN; }

  statusOf(slot: number): LiveOrderStatus { return STATUS[this.status[slot]!]!; }

  /** A snapshot of the order in `slot`. */
  info(slot: number): OrderInfo {
    return {
      orderId: this.id[slot]!, account: this.account[slot]!, clientOrderId: this.cid[slot]!, symbol: this.symbol[slot]!, side: this.side[slot]!,
      price: BigInt(this.price[slot]!), qty: this.qty[slot]!, leaves: this.leaves[slot]!, filled: this.filled[slot]!, status: STATUS[this.status[slot]!]!, conn: this.conn[slot]!,
    };
  }

  /** The live order of (account, clientOrderId), if any (a snapshot). */
  liveByClientId(account: number, clientOrderId: string): OrderInfo | undefined {
    const s = this.liveSlot(account, clientOrderId);
    return s < 0 ? undefined : this.info(s);
  }

  /** The order `orderId` if it belongs to `account` (else undefined, like an unknown id; a snapshot). */
  find(account: number, orderId: number): OrderInfo | undefined {
    const s = this.slotOf(orderId);
    return s >= 0 && this.account[s] === account ? this.info(s) : undefined;
  }

  /** Any order by id (a snapshot). */
  get(orderId: number): OrderInfo | undefined {
    const s = this.slotOf(orderId);
    return s < 0 ? undefined : this.info(s);
  }

  /** Registers a new order (status pending) with the next order id; returns its slot. */
  create(o: NewOrder): number {
    return this.put(this.nextId++, o);
  }

  /** Re-creates an order read back from the journal with its original id (start-up catch-up). Returns its slot. */
  restore(o: NewOrder & { orderId: number }): number {
    if (o.orderId >= this.nextId) this.nextId = o.orderId + 1;
    return this.put(o.orderId, o);
  }

  private put(orderId: number, o: NewOrder): number {
    if (this.nFree === 0) this.grow(this.cap * 2);
    const s = this.free[--this.nFree]!;
    this.id[s] = orderId;
    this.account[s] = o.account;
    this.cid[s] = o.clientOrderId;
    this.symbol[s] = o.symbol;
    this.side[s] = o.side;
    this.price[s] = Number(o.price);
    this.qty[s] = o.qty;
    this.leaves[s] = o.qty;
    this.filled[s] = 0;
    this.status[s] = PENDING;
    this.conn[s] = o.conn;
    this.byId.set(orderId, s);
    let mine = this.live.get(o.account);
    if (!mine) { mine = new Map(); this.live.set(o.account, mine); }
    mine.set(o.clientOrderId, s);
    return s;
  }

  /** Marks the order in `slot` finished (filled, cancelled or rejected): its clientOrderId becomes reusable. */
  finish(slot: number, status: 'filled' | 'cancelled' | 'rejected'): void {
    const was = this.status[slot]!;
    this.status[slot] = CODE[status];
    if (was >= FILLED) return; // finished already: listed for eviction once
    const mine = this.live.get(this.account[slot]!);
    if (mine !== undefined && mine.get(this.cid[slot]!) === slot) mine.delete(this.cid[slot]!);
    const ring = this.finished;
    ring[(this.finHead + this.finLen) % ring.length] = slot;
    this.finLen++;
    if (this.finLen > this.keepFinished) {
      const old = ring[this.finHead]!;
      this.finHead = (this.finHead + 1) % ring.length;
      this.finLen--;
      this.byId.delete(this.id[old]!);
      this.cid[old] = '';
      this.free[this.nFree++] = old;
    }
  }

  /** Slots of the open (resting or pending) orders of an account. */
  openSlots(account: number): number[] {
    return [...(this.live.get(account)?.values() ?? [])];
  }

  /** Open (resting or pending) orders of an account (snapshots). */
  open(account: number): OrderInfo[] {
    return this.openSlots(account).map((s) => this.info(s));
  }
}
