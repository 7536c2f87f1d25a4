/**
 * Domain types of the engine's command and event streams (object form, for tools and tests).
 * The hot path never builds these objects: it moves fixed-layout records (src/abi/records.ts).
 *
 * Layout: ids and prices are `bigint` here because any positive i64 is a valid price and ids are
 * u64; quantities are u32 lots (`number`). Invariants: enum values as in ENUMS.
 * Allocation: every object here allocates; use only off the hot path. Known limitations: none.
 */
import { ENUMS, REASON_NAMES } from '../abi/records.js';

export const Op = ENUMS.Op;
export const Side = ENUMS.Side;
export const OrdType = ENUMS.OrdType;
export const Tif = ENUMS.Tif;
export const Stp = ENUMS.Stp;
export const Reason = ENUMS.Reason;
export const Admin = ENUMS.Admin;

/** One command, the object form of a 32-byte CMD/.tso record. */
export interface Command {
  op: number; // 1 new, 2 cancel, 3 modify, 4 admin (risk engines: type = Admin action, qty = value)
  side: number; // 0 buy, 1 sell
  type: number; // 0 limit, 1 market
  tif: number; // 0 GTC, 1 IOC, 2 FOK, 3 post-only
  symbol: number; // u32
  id: bigint; // u64
  price: bigint; // i64 ticks
  qty: number; // u32 lots
  account: number; // u32
}

/**
 * Status of an order after the engine's events (the read model, src/cqrs/orders.ts; the HTTP
 * order views): never 'pending', the engine has spoken.
 */
export type OrderStatus = 'open' | 'filled' | 'cancelled' | 'rejected';

/**
 * Status of an order in the gateway's live registry (src/gateway/orders.ts): an `OrderStatus`, or
 * 'pending' from the moment the gateway sends the command until the engine's first event for it.
 */
export type LiveOrderStatus = 'pending' | OrderStatus;

/**
 * The engine event types (EVT `type`, ASCII): the one definition, used by engine/, cqrs/,
 * marketdata/ and storage/. K: an applied ADMIN command (risk engines only; `side` holds the Admin
 * action, `qty` the value).
 */
export type EventType = 'A' | 'R' | 'T' | 'X' | 'M' | 'K';

/** One engine event, the object form of a 64-byte EVT record. */
export interface EngineEvent {
  type: EventType;
  symbol: number;
  side: number; // side of `id` (the taker's for T)
  id: bigint; // subject order (taker for T)
  maker: bigint; // T only (0n otherwise)
  price: bigint; // T: trade price; M: new price; A: order price
  qty: number; // T: fill; X: quantity removed; M: new leaves; A: order qty
  reason: string | null; // R: DESIGN reason; X: 'self_trade' when cancelled by STP, else null
  leaves: number; // leaves of `id` after this event
  makerLeaves: number; // T only
  account: number;
  makerAccount: number; // T only
  tradeId: bigint; // T only (0n otherwise)
  cmd: number; // index of the command within its batch
  last: boolean; // last event of its command
}

export function reasonName(code: number): string {
  return REASON_NAMES[code] ?? `reason_${code}`;
}

/** DESIGN's one-line CSV form of an event. */
export function eventLine(e: Pick<EngineEvent, 'type' | 'id' | 'maker' | 'price' | 'qty' | 'reason'>): string {
  switch (e.type) {
    case 'A': return `A,${e.id}`;
    case 'R': return `R,${e.id},${e.reason}`;
    case 'T': return `T,${e.id},${e.maker},${e.price},${e.qty}`;
    case 'X': return `X,${e.id},${e.qty}`;
    case 'M': return `M,${e.id},${e.price},${e.qty}`;
    case 'K': return `K,${e.id},${e.qty}`;
  }
}

/** One resting order in the final book, DESIGN's book.csv line. */
export interface RestingOrder {
  symbol: number;
  side: number;
  price: bigint;
  id: bigint;
  leaves: number;
  account: number;
  filled: bigint;
}

export function bookLine(o: Pick<RestingOrder, 'symbol' | 'side' | 'price' | 'id' | 'leaves'>): string {
  return `${o.symbol},${o.side === 0 ? 'B' : 'S'},${o.price},${o.id},${o.leaves}`;
}
