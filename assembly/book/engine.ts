/**
 * Order books and matching: per-symbol price-time priority books in linear memory. This file
 * holds the memory map, init and the batch loop; each algorithm has its own file:
 *
 * ```
 * nodes.ts        order / level / book node layouts, the two slab pools, accessors
 * hash.ts         hash functions, table mask, backward-shift deletion (both indexes)
 * id-index.ts     resting orders by id (engine-wide)
 * level-index.ts  levels by (symbol, side, price)
 * ladder.ts       tick-indexed window per book side near the touch (bitmap + level slots)
 * treap.ts        levels outside the window, by price
 * link.ts         levels into their side's list, orders into their level's FIFO
 * events.ts       the outbox: emit, reject, last-event flag
 * match.ts        the taker, matching, NewOrder / CancelOrder / ModifyOrder
 * engine.ts       memory map, engineInit, riskEnable, Admin, bookRun
 * audit.ts        engineValidateDeep: the O(capacity) structural checks (tests)
 * query.ts · risk.ts · risk-api.ts   read side and snapshots · pre-trade risk · its exports
 * ```
 *
 * Owns: the engine memory layout (CTRL, inbox, scratch, the end of memory) and the batch in
 * progress.
 *
 * Layout (reserved once by `engineInit`, never grown afterwards):
 * ```
 * heap base ─▶ CTRL (64) │ pool headers (2×48) │ books (nSym×64) │ inbox (inCap×32 CMD)
 *             │ outbox (outCap×64 EVT) │ scratch │ order nodes ((cap+1)×64)
 *             │ level nodes ((cap+1)×64) │ order index (pow2 ≥ 2·cap, 8-byte slots)
 *             │ level index (pow2 ≥ 2·cap, 8-byte slots) │ ladders (nSym×2×ldStride: 64..4096 ticks,
 *             16 + W/8 + 4W bytes)
 *             │ risk tables (riskEnable, book/risk.ts)
 * ```
 * Levels of one side form a doubly linked list in priority order (best first, O(1) best and
 * next-best) and entries of the level index, so that an order joining an existing level finds
 * it in O(1) (inside the ladder window, one slot load). To place a new level between its
 * neighbours, the ladder finds the nearest level in O(1); levels outside its window go to the
 * treap (O(log L)). Orders of a level form an
 * intrusive FIFO; the order index is keyed by the order id alone.
 *
 * Invariants: bids strictly descending, asks strictly ascending, best bid < best ask after every
 * command; level total = Σ leaves, count = number of orders; every resting order is in the
 * index exactly once; no two resting orders share an id, whatever their symbols; leaves > 0.
 * `engineValidate` (book/query.ts) checks all of them. A batch in progress (`inBatch`) is resumed
 * by the next bookRun call (its n is then ignored).
 * Complexity: new/cancel/modify O(1) expected plus O(log L) when a level is created or removed,
 * plus O(fills); bookRun O(commands + events).
 * Allocation: engineInit and riskEnable reserve their memory with one memory.grow each and store
 * nothing into it: fresh WASM memory is zero, and zero is the empty state of every structure
 * (pools: bump 0 and no free list, nodes above bump never handed out; hash tables: 0 = empty slot;
 * ladders: base 0, no bit; books: no level, no root; risk tables: no entry). So init is O(1)
 * stores whatever the capacity, and the OS maps each page on first touch. A second engineInit
 * on the same instance zeroes only what the earlier layouts wrote (`dirtyEnd`). None after.
 * Known limitations: capacity (orders, levels) fixed at init; the layout must fit the 4 GiB
 * address space.
 */
import {
  CMD_SIZE, CMD_OP, CMD_TYPE, CMD_SYMBOL, CMD_ID, CMD_QTY, CMD_ACCOUNT, EVT_SIZE, CTRL_SIZE,
  OP_NEW, OP_CANCEL, OP_MODIFY, EVT_TYPE_CONTROL, REASON_UNKNOWN_SYMBOL, REASON_BAD_QTY, REASON_CAPACITY,
  REASON_BAD_OP, REASON_BAD_TYPE, OP_ADMIN, ADMIN_HALT, ADMIN_KILL_ACCOUNT, ADMIN_KILL_ALL,
} from '../abi/records';
import { POOL_HEADER, poolInUse } from '../mem/pool';
import { riskOn, riskAlloc, riskBytes, riskReset, accGet, rsAddr, raAddr, RS_STATUS, RA_KILLED, riskSetKillAll } from './risk';
import { nSym, orderPool, nodesInit, ON_SIZE, LN_SIZE, BK_SIZE } from './nodes';
import { hashInit, SLOT_BYTES } from './hash';
import { idIndexInit } from './id-index';
import { levelIndexInit } from './level-index';
import { treapSeed } from './treap';
import { ldWidthFor, ldBytes, ladderInit } from './ladder';
import { EVT_RESERVE, outCount, outboxCap, eventsInit, eventsBegin, eventsCmd, emit, reject, markLast } from './events';
import { tradeSeq, pending, matchReset, matchLoop, finishTaker, newOrder, cancelOrder, modifyOrder } from './match';

@inline export const SCRATCH_BYTES: u32 = 1 << 18;

export let ctrl: usize = 0;
export let inbox: usize = 0;
export let inboxCap: u32 = 0;
export let scratch: usize = 0;
export let memEnd: usize = 0;

let inCursor: u32 = 0;
let batchN: u32 = 0;
let inBatch: bool = false;

/**
 * End of the memory an engine of this instance has ever laid out (0: none yet). WebAssembly
 * memory starts zeroed and `memory.grow` adds zeroed pages, so every byte at or above it is
 * still zero: the empty state of every structure (see the header), with no store needed.
 */
let dirtyEnd: usize = 0;

@inline function align64(x: usize): usize { return (x + 63) & ~(<usize>63); }

/** Grows memory (in one step) to hold `end` bytes. The new pages are zero, and the OS maps them lazily. */
function reserve(end: usize): bool {
  const have = <usize>memory.size() << 16;
  return end <= have || memory.grow(<i32>((end - have + 0xffff) >> 16)) >= 0;
}

/**
 * Makes [from, to) zero, storing only into the part an earlier layout of this instance may have
 * written (nothing on a fresh instance): O(1) for the first init, whatever the capacity.
 */
function clearDirty(from: usize, to: usize): void {
  const d = dirtyEnd < to ? dirtyEnd : to;
  if (d > from) memory.fill(from, 0, d - from);
  if (to > dirtyEnd) dirtyEnd = to;
}

/**
 * Lays out and reserves all engine memory (zero: see "Allocation" above). `seedLo/seedHi` key
 * the hash tables and the treap priorities (performance only: events never depend on them). Returns 0, or -1 (bad arguments) /
 * -2 (the layout does not fit the 4 GiB address space, or memory.grow failed).
 */
export function engineInit(symbols: u32, capacity: u32, inCap: u32, outCap: u32, seedLo: u32, seedHi: u32): i32 {
  if (symbols == 0 || symbols > (1 << 20) || capacity == 0 || capacity > (1 << 24)) return -1;
  if (inCap == 0 || inCap > (1 << 20) || outCap < 16 || outCap > (1 << 22)) return -1;
  let hsize: u32 = 16;
  while (hsize < capacity * 2) hsize <<= 1;
  const ldw = ldWidthFor(symbols);
  const ldb = ldBytes(ldw);
  // the whole layout, computed in 64 bits so that it cannot wrap
  const total: u64 = <u64>__heap_base + 1024 + <u64>symbols * (BK_SIZE + 2 * <u64>ldb) + <u64>inCap * CMD_SIZE +
    <u64>outCap * EVT_SIZE + SCRATCH_BYTES + (<u64>capacity + 1) * (ON_SIZE + LN_SIZE) + <u64>hsize * (2 * SLOT_BYTES);
  if (total > 0xFFFF0000) return -2;

  let p = align64(__heap_base);
  const c = p; p += CTRL_SIZE;
  const op = p; p += POOL_HEADER;
  const lp = p; p += POOL_HEADER;
  p = align64(p);
  const bk = p; p += <usize>symbols * BK_SIZE;
  const ib = p; p += <usize>inCap * CMD_SIZE;
  const ob = p; p += <usize>outCap * EVT_SIZE;
  const sc = p; p += SCRATCH_BYTES;
  const on = p; p += (<usize>capacity + 1) * ON_SIZE;
  const ln = p; p += align64((<usize>capacity + 1) * LN_SIZE);
  const ht = p; p += <usize>hsize * SLOT_BYTES;
  const lt = p; p += <usize>hsize * SLOT_BYTES;
  const ld = p; p += <usize>symbols * 2 * ldb;
  const end = p;

  if (!reserve(end)) return -2;
  clearDirty(c, end);

  ctrl = c; inbox = ib; inboxCap = inCap; scratch = sc; memEnd = end;
  nodesInit(symbols, capacity, op, lp, bk, on, ln);
  eventsInit(ob, outCap);
  idIndexInit(ht);
  levelIndexInit(lt);
  ladderInit(ld, ldw);
  hashInit(hsize - 1, (<u64>seedHi << 32) | <u64>seedLo);
  treapSeed((seedLo ^ seedHi ^ 0x9E3779B9) | 1);
  matchReset();
  inCursor = 0; batchN = 0; inBatch = false;
  riskReset();
  return 0;
}

/**
 * Turns pre-trade risk on (book/risk.ts): reserves its tables after the engine's memory. Only on a
 * fresh engine (no order, no trade, no batch). Returns 0, -1 (bad arguments or not fresh), -2
 * (memory).
 */
export function riskEnable(maxAccounts: u32, maxPositions: u32, defaultMaxOpen: u32): i32 {
  if (nSym == 0 || riskOn || inBatch || tradeSeq != 0 || poolInUse(orderPool) != 0) return -1;
  if (maxAccounts == 0 || maxAccounts > (1 << 24) || maxPositions == 0 || maxPositions > (1 << 24)) return -1;
  const need = riskBytes(nSym, maxAccounts, maxPositions);
  if (<u64>memEnd + need > 0xFFFF0000) return -2;
  const end = memEnd + <usize>need;
  if (!reserve(end)) return -2;
  clearDirty(memEnd, end);
  memEnd = riskAlloc(memEnd, nSym, maxAccounts, maxPositions, defaultMaxOpen);
  return 0;
}

/** ADMIN (risk on): halt/resume a symbol, an account's kill switch, the global kill switch. */
function adminCommand(c: usize): void {
  const action = <u32>load<u8>(c, CMD_TYPE);
  const sym = load<u32>(c, CMD_SYMBOL);
  const acct = load<u32>(c, CMD_ACCOUNT);
  const v = load<u32>(c, CMD_QTY);
  if (action < ADMIN_HALT || action > ADMIN_KILL_ALL) { reject(c, REASON_BAD_TYPE); return; }
  if (action == ADMIN_HALT && sym >= nSym) { reject(c, REASON_UNKNOWN_SYMBOL); return; }
  if (v > 1) { reject(c, REASON_BAD_QTY); return; }
  if (action == ADMIN_HALT) store<u32>(rsAddr(sym), v, RS_STATUS);
  else if (action == ADMIN_KILL_ACCOUNT) {
    const ae = accGet(acct);
    if (ae == 0) { reject(c, REASON_CAPACITY); return; }
    store<u32>(raAddr(ae), v, RA_KILLED);
  } else riskSetKillAll(v != 0);
  emit(EVT_TYPE_CONTROL, 0, 0, action, sym, load<u64>(c, CMD_ID), 0, 0, v, 0, 0, acct, 0, 0);
}

/**
 * Runs inbox commands [0, n). Returns the number of events in the outbox, or -1 for a bad n.
 * If the outbox fills, it returns early; call again (same n) after draining until
 * `bookBusy()` is 0. `bookConsumed()` tells how many commands are complete.
 */
export function bookRun(n: u32): i32 {
  eventsBegin();
  if (!inBatch) {
    if (n > inboxCap) return -1;
    inCursor = 0; batchN = n; inBatch = true;
  }
  if (pending) {
    if (!matchLoop()) return <i32>outCount;
    finishTaker();
    markLast();
    inCursor++;
  }
  while (inCursor < batchN) {
    if (outCount + EVT_RESERVE > outboxCap) return <i32>outCount;
    const c = inbox + (<usize>inCursor << 5);
    eventsCmd(inCursor);
    const op = <u32>load<u8>(c, CMD_OP);
    if (op == OP_NEW) newOrder(c);
    else if (op == OP_CANCEL) cancelOrder(c);
    else if (op == OP_MODIFY) modifyOrder(c);
    else if (op == OP_ADMIN && riskOn) adminCommand(c);
    else reject(c, REASON_BAD_OP);
    if (pending) return <i32>outCount;
    markLast();
    inCursor++;
  }
  inBatch = false;
  return <i32>outCount;
}

export function bookConsumed(): u32 { return inCursor; }
export function bookBusy(): u32 { return inBatch ? 1 : 0; }

/**
 * Faults in the engine's pages ahead of use: from byte `from` (0 = the layout's start) for at most
 * `bytes`, one write per 4 KiB page of each page's own first byte (`memory.fill` with the value it
 * holds: contents unchanged, never folded away). Creation reserves memory without touching it
 * (O(1)), so without this the first use of each page in a batch pays the kernel's page fault
 * (µs each: the engine's p99.9). The host calls it untimed (benchmarks) or in idle slices (the
 * engine thread). Returns the next offset; `memEnd` when every page is resident. Allocation: none.
 */
export function enginePrefault(from: usize, bytes: u32): usize {
  if (memEnd == 0) return 0;
  let p = (from < ctrl ? ctrl : from) & ~(<usize>4095);
  let stop = p + <usize>bytes;
  if (stop > memEnd || stop < p) stop = memEnd;
  while (p < stop) {
    memory.fill(p, load<u8>(p), 1);
    p += 4096;
  }
  return p >= memEnd ? memEnd : p;
}
