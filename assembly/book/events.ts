/**
 * The outbox: the EVT records a batch produces, in DESIGN's order.
 *
 * Owns: the outbox region, its fill count and the index of the command being run.
 *
 * Layout: `outboxCap` EVT records of 64 B (src/abi/records.ts) from `outbox`; events [0,
 * outCount) are this call's. EVT.cmd is the command's index in the inbox.
 * Invariants: outCount ≤ outboxCap: a step starts only with EVT_RESERVE records free
 * (book/engine.ts, book/match.ts); the last event of each complete command carries
 * EVT_FLAG_LAST.
 * Complexity: O(1) per event. Allocation: none (reserved by engineInit).
 * Known limitations: the host must drain the outbox after every bookRun call (it is refilled
 * from record 0).
 */
import {
  CMD_SIDE, CMD_SYMBOL, CMD_ID, CMD_PRICE, CMD_QTY, CMD_ACCOUNT,
  EVT_TYPE, EVT_FLAGS, EVT_ID, EVT_MAKER, EVT_PRICE, EVT_QTY, EVT_MAKER_LEAVES, EVT_ACCOUNT, EVT_TRADE_ID,
  EVT_TYPE_REJECTED, EVT_FLAG_LAST,
} from '../abi/records';

@inline export const EVT_RESERVE: u32 = 4; // events a step may need: T or X, X, X, final X/flag

export let outbox: usize = 0;
export let outboxCap: u32 = 0;
export let outCount: u32 = 0;
let evCmd: u32 = 0; // inbox index of the command being run

@inline export function eventsInit(ob: usize, outCap: u32): void { outbox = ob; outboxCap = outCap; outCount = 0; }
/** Starts a bookRun call: the outbox is refilled from record 0. */
@inline export function eventsBegin(): void { outCount = 0; }
@inline export function eventsCmd(i: u32): void { evCmd = i; }

@inline export function emit(type: u32, reason: u32, flags: u32, side: u32, sym: u32, id: u64, maker: u64, price: i64,
  qty: u32, leaves: u32, makerLeaves: u32, acct: u32, makerAcct: u32, tradeId: u64): void {
  const e = outbox + (<usize>outCount << 6);
  // eight 64-bit stores (little-endian, the field offsets of src/abi/records.ts): type, reason,
  // flags, side and symbol · id · maker · price · qty, leaves · maker leaves, cmd · account,
  // maker account · trade id
  store<u64>(e, <u64>(type & 0xff) | (<u64>(reason & 0xff) << 8) | (<u64>(flags & 0xff) << 16) | (<u64>(side & 0xff) << 24) |
    (<u64>sym << 32), EVT_TYPE);
  store<u64>(e, id, EVT_ID);
  store<u64>(e, maker, EVT_MAKER);
  store<i64>(e, price, EVT_PRICE);
  store<u64>(e, <u64>qty | (<u64>leaves << 32), EVT_QTY);
  store<u64>(e, <u64>makerLeaves | (<u64>evCmd << 32), EVT_MAKER_LEAVES);
  store<u64>(e, <u64>acct | (<u64>makerAcct << 32), EVT_ACCOUNT);
  store<u64>(e, tradeId, EVT_TRADE_ID);
  outCount++;
}

@inline export function reject(c: usize, reason: u32): void {
  emit(EVT_TYPE_REJECTED, reason, 0, load<u8>(c, CMD_SIDE), load<u32>(c, CMD_SYMBOL), load<u64>(c, CMD_ID), 0,
    load<i64>(c, CMD_PRICE), load<u32>(c, CMD_QTY), 0, 0, load<u32>(c, CMD_ACCOUNT), 0, 0);
}

/** Flags the last event of the command just completed. */
@inline export function markLast(): void {
  if (outCount == 0) return;
  const f = outbox + (<usize>(outCount - 1) << 6) + EVT_FLAGS;
  store<u8>(f, load<u8>(f) | <u8>EVT_FLAG_LAST);
}
