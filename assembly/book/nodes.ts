/**
 * The book's three node kinds (order, level, book), where they live and the two slab pools.
 *
 * Owns: the node layouts, the order and level pools (mem/pool.ts slabs), the books array and
 * their address accessors. book/engine.ts reserves the memory and calls `nodesInit` once.
 *
 * Layout (node index 0 is NIL; node i lives at base + i·64):
 * ```
 * ORDER node (64 B): 0 id u64 · 8 price i64 · 16 filled u64 · 24 leaves u32 · 28 account u32 ·
 *   32 symbol u32 · 36 prev u32 · 40 next u32 · 44 level u32 · 48 side u32 ·
 *   52 risk position entry u32 (book/risk.ts; 0 while risk is off) · 56 index tag u32
 *   (hashKey(id), book/id-index.ts: removal finds the slot without hashing again) · 60..63 unused
 * LEVEL node (64 B): 0 price i64 · 8 total u64 · 16 count u32 · 20 head u32 · 24 tail u32 ·
 *   28 prev u32 (better price) · 32 next u32 (worse price) · 36 left u32 · 40 right u32 · 44 prio u32 ·
 *   48 symbol u32 · 52 side u32 · 56 inLadder u32 · 60 treap parent u32
 * BOOK (64 B, one per symbol): 0 best[2] u32 · 8 root[2] u32 · 16 stp u32 · 20 bandOn u32 ·
 *   24 bandLo i64 · 32 bandHi i64 · 40 orders u32 · 44 levels[2] u32
 * ```
 * Invariants: 0 < node index ≤ cap for a live node; both pools hand out nodes unzeroed and
 * their callers set every field they read (book/match.ts for orders, levelCreate in
 * book/link.ts for levels: a 64-byte memory.fill per new level was a call out of the JIT code).
 * Complexity: accessors O(1); alloc/free O(1) (mem/pool.ts).
 * Allocation: none; the storage is reserved by `engineInit`.
 * Known limitations: capacity (orders, levels) fixed at init; node indices are u32 shifted by 6,
 * so the node regions must lie in the 4 GiB address space (engineInit checks it).
 */
import { poolInit } from '../mem/pool';

@inline export const ON_SIZE: u32 = 64;
@inline export const O_ID: u32 = 0;
@inline export const O_PRICE: u32 = 8;
@inline export const O_FILLED: u32 = 16;
@inline export const O_LEAVES: u32 = 24;
@inline export const O_ACCT: u32 = 28;
@inline export const O_SYM: u32 = 32;
@inline export const O_PREV: u32 = 36;
@inline export const O_NEXT: u32 = 40;
@inline export const O_LEVEL: u32 = 44;
@inline export const O_SIDE: u32 = 48;
@inline export const O_RPOS: u32 = 52;
@inline export const O_TAG: u32 = 56;

@inline export const LN_SIZE: u32 = 64;
@inline export const L_PRICE: u32 = 0;
@inline export const L_TOTAL: u32 = 8;
@inline export const L_COUNT: u32 = 16;
@inline export const L_HEAD: u32 = 20;
@inline export const L_TAIL: u32 = 24;
@inline export const L_PREV: u32 = 28;
@inline export const L_NEXT: u32 = 32;
@inline export const L_LEFT: u32 = 36;
@inline export const L_RIGHT: u32 = 40;
@inline export const L_PRIO: u32 = 44;
@inline export const L_SYM: u32 = 48;
@inline export const L_SIDE: u32 = 52;
@inline export const L_LADDER: u32 = 56; // 1: tracked by the ladder, 0: by the treap
@inline export const L_PARENT: u32 = 60; // treap parent

@inline export const BK_SIZE: u32 = 64;
@inline export const B_BEST: u32 = 0;
@inline export const B_ROOT: u32 = 8;
@inline export const B_STP: u32 = 16;
@inline export const B_BAND: u32 = 20;
@inline export const B_BLO: u32 = 24;
@inline export const B_BHI: u32 = 32;
@inline export const B_ORDERS: u32 = 40;
@inline export const B_LEVELS: u32 = 44;

export let nSym: u32 = 0;
export let cap: u32 = 0;
export let orderPool: usize = 0;
export let levelPool: usize = 0;
export let books: usize = 0;
export let onodes: usize = 0;
export let lnodes: usize = 0;

@inline export function oAddr(o: u32): usize { return onodes + (<usize>o << 6); }
@inline export function lAddr(l: u32): usize { return lnodes + (<usize>l << 6); }
@inline export function bAddr(s: u32): usize { return books + (<usize>s << 6); }

/** Records the regions engineInit reserved (zeroed) and sets up both pools. */
@inline export function nodesInit(symbols: u32, capacity: u32, op: usize, lp: usize, bk: usize, on: usize, ln: usize): void {
  nSym = symbols; cap = capacity; orderPool = op; levelPool = lp; books = bk;
  onodes = on; lnodes = ln;
  poolInit(op, on, ON_SIZE, capacity, false);
  poolInit(lp, ln, LN_SIZE, capacity, false);
}
