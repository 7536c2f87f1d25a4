/**
 * Order books and matching: per-symbol price-time priority books in linear memory.
 *
 * Owns: engine memory layout, the order index, price levels, matching and the batch loop.
 *
 * Layout (reserved once by `engineInit`, never grown afterwards):
 * ```
 * heap base ─▶ CTRL (64) │ pool headers (2×32) │ books (nSym×64) │ inbox (inCap×32 CMD)
 *             │ outbox (outCap×64 EVT) │ scratch │ order nodes ((cap+1)×64)
 *             │ level nodes ((cap+1)×64) │ order index (pow2 ≥ 2·cap, u32 slots)
 *             │ level index (pow2 ≥ 2·cap, u32 slots) │ ladders (nSym×2×144)
 * ```
 * ORDER node (64 B): 0 id u64 · 8 price i64 · 16 filled u64 · 24 leaves u32 · 28 account u32 ·
 *   32 symbol u32 · 36 prev u32 · 40 next u32 · 44 level u32 · 48 side u32 ·
 *   52 risk position entry u32 (book/risk.ts; 0 while risk is off) · 56..63 unused
 * LEVEL node (64 B): 0 price i64 · 8 total u64 · 16 count u32 · 20 head u32 · 24 tail u32 ·
 *   28 prev u32 (better price) · 32 next u32 (worse price) · 36 left u32 · 40 right u32 · 44 prio u32 ·
 *   48 symbol u32 · 52 side u32 · 56 inLadder u32 · 60 treap parent u32
 * LADDER (144 B per book side): 0 base i64 (price of bit 0) · 8 summary u64 (bit w: word w ≠ 0) ·
 *   16 words[16] u64 (bit i: a level rests at base + i)
 * BOOK (64 B): 0 best[2] u32 · 8 root[2] u32 · 16 stp u32 · 20 bandOn u32 · 24 bandLo i64 ·
 *   32 bandHi i64 · 40 orders u32 · 44 levels[2] u32
 *
 * Levels of one side form a doubly linked list in priority order (best first, O(1) best and
 * next-best) and entries of the level index, keyed by (symbol, side, price), so that an order
 * joining an existing level finds it in O(1). To place a new level between its neighbours, a
 * tick-indexed ladder (a 1024-tick bitmap window with a summary word, anchored where the side's
 * first level appears) finds the nearest level in O(1) with count-leading/trailing-zeros; levels
 * outside the window go to a treap keyed by price (O(log L)). Each level records which of the two
 * holds it; the window re-anchors whenever the ladder is empty.
 * Orders of a level form an intrusive FIFO. The order index is an open-addressing table keyed by
 * the order id alone (ids are unique across the engine, DESIGN "Engine semantics") with linear
 * probing and backward-shift deletion (no tombstones); cancel and modify then check that the
 * order found rests in the command's symbol.
 *
 * Invariants: bids strictly descending, asks strictly ascending, best bid < best ask after every
 * command; level total = Σ leaves, count = number of orders; every resting order is in the
 * index exactly once; no two resting orders share an id, whatever their symbols; leaves > 0.
 * `engineValidate` checks all of them.
 * Complexity: new/cancel/modify O(1) expected plus O(log L) when a level is created or removed,
 * plus O(fills). Allocation: none after init; nodes come from the pools.
 * Known limitations: capacity (orders, levels) fixed at init.
 */
import {
  CMD_SIZE, CMD_OP, CMD_SIDE, CMD_TYPE, CMD_TIF, CMD_SYMBOL, CMD_ID, CMD_PRICE, CMD_QTY, CMD_ACCOUNT,
  EVT_SIZE, EVT_TYPE, EVT_REASON, EVT_FLAGS, EVT_SIDE, EVT_SYMBOL, EVT_ID, EVT_MAKER, EVT_PRICE, EVT_QTY,
  EVT_LEAVES, EVT_MAKER_LEAVES, EVT_CMD, EVT_ACCOUNT, EVT_MAKER_ACCOUNT, EVT_TRADE_ID,
  CTRL_SIZE,
  OP_NEW, OP_CANCEL, OP_MODIFY, SIDE_BUY, ORD_TYPE_LIMIT, ORD_TYPE_MARKET, TIF_GTC, TIF_FOK, TIF_POST_ONLY,
  EVT_TYPE_ACCEPTED, EVT_TYPE_REJECTED, EVT_TYPE_TRADE, EVT_TYPE_CANCELLED, EVT_TYPE_MODIFIED,
  REASON_UNKNOWN_SYMBOL, REASON_BAD_QTY, REASON_BAD_PRICE, REASON_DUPLICATE_ID, REASON_WOULD_CROSS,
  REASON_UNKNOWN_ORDER, REASON_CAPACITY, REASON_BAD_OP, REASON_BAD_SIDE, REASON_BAD_TYPE, REASON_BAD_TIF,
  REASON_SELF_TRADE, STP_NONE, STP_CANCEL_RESTING, STP_CANCEL_INCOMING, STP_CANCEL_BOTH,
  EVT_FLAG_LAST, EVT_FLAG_STP, EVT_TYPE_CONTROL, OP_ADMIN, ADMIN_HALT, ADMIN_KILL_ACCOUNT, ADMIN_KILL_ALL,
} from '../abi/records';
import { POOL_HEADER, poolInit, poolAlloc, poolFree, poolFull, poolInUse } from '../mem/pool';
import {
  riskOn, riskAlloc, riskBytes, riskReset, riskCheckNew, riskCheckModify, riskRest, riskUnrest, riskGone, riskFill,
  riskLastTrade, posGet, posFind, accGet, rsAddr, raAddr, RS_STATUS, RA_KILLED, riskSetKillAll, mktLo, mktHi,
} from './risk';

// ── internal node layouts ──────────────────────────────────────────────────────────────────
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

@inline export const SCRATCH_BYTES: u32 = 1 << 18;
@inline export const LD_SIZE: u32 = 144;
@inline export const LD_WIDTH: i32 = 1024; // ticks covered by a ladder window
@inline const LD_BASE: u32 = 0;
@inline const LD_SUM: u32 = 8;
@inline const LD_WORDS: u32 = 16;
@inline const EVT_RESERVE: u32 = 4; // events a step may need: T or X, X, X, final X/flag

// ── engine globals ─────────────────────────────────────────────────────────────────────────
export let nSym: u32 = 0;
export let cap: u32 = 0;
export let ctrl: usize = 0;
export let orderPool: usize = 0;
export let levelPool: usize = 0;
export let books: usize = 0;
export let inbox: usize = 0;
export let inboxCap: u32 = 0;
export let outbox: usize = 0;
export let outboxCap: u32 = 0;
export let scratch: usize = 0;
export let onodes: usize = 0;
export let lnodes: usize = 0;
export let htab: usize = 0;
export let hmask: u32 = 0;
export let ltab: usize = 0;
export let ladders: usize = 0;
export let memEnd: usize = 0;
export let tradeSeq: u64 = 0;
/** Secret hash key and treap priority state, from the host's seed (not part of the logical state). */
let hashSeed: u64 = 0;
let prioState: u32 = 1;
export function setTradeSeq(v: u64): void { tradeSeq = v; }

let outCount: u32 = 0;
let inCursor: u32 = 0;
let batchN: u32 = 0;
let inBatch: bool = false;
let pending: bool = false;

// taker in progress (resumable when the outbox fills mid-command)
let tkSym: u32 = 0;
let tkSide: u32 = 0;
let tkId: u64 = 0;
let tkAcct: u32 = 0;
let tkLimit: i64 = 0;
let tkMarket: bool = false;
let tkLo: i64 = 0; // a market taker trades only at prices in [tkLo, tkHi] (market-order protection)
let tkHi: i64 = i64.MAX_VALUE;
let tkRem: u32 = 0;
let tkFilled: u64 = 0;
let tkRest: bool = false;
let tkCmd: u32 = 0;
let tkNode: u32 = 0; // a modified order's own node, unlinked but still indexed while it matches
let tkPe: u32 = 0; // the taker's risk position entry (risk on)

// ── accessors ──────────────────────────────────────────────────────────────────────────────
@inline export function oAddr(o: u32): usize { return onodes + (<usize>o << 6); }
@inline export function lAddr(l: u32): usize { return lnodes + (<usize>l << 6); }
@inline export function bAddr(s: u32): usize { return books + (<usize>s << 6); }

/**
 * Order index hash, keyed by the id alone (ids are engine-wide): 16 consecutive ids share one
 * 64-byte run of slots (ids are usually sequential, so recent orders stay in cache); the blocks
 * themselves are scattered by a full 64-bit mix, which keeps runs of occupied slots short for
 * any id pattern.
 */
@inline function hashKey(id: u64): u32 {
  let h = ((id >> 4) * 0x9E3779B97F4A7C15) + hashSeed;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccd;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53;
  h ^= h >> 29;
  return (<u32>h << 4) | (<u32>id & 15);
}

/**
 * Treap priority of a new level: the next value of a xorshift sequence seeded at init by the
 * host. Priorities never depend on prices, so no choice of prices can make the treap degenerate;
 * the treap's shape never affects events, books or the state hash.
 */
@inline function nextPrio(): u32 {
  let x = prioState;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  prioState = x;
  return x;
}

// ── init ───────────────────────────────────────────────────────────────────────────────────
@inline function align64(x: usize): usize { return (x + 63) & ~(<usize>63); }

/**
 * Reserves and zeroes all engine memory. `seedLo/seedHi` key the hash tables and the treap
 * priorities (performance only: events never depend on them). Returns 0, or -1 (bad arguments) /
 * -2 (the layout does not fit the 4 GiB address space, or memory.grow failed).
 */
export function engineInit(symbols: u32, capacity: u32, inCap: u32, outCap: u32, seedLo: u32, seedHi: u32): i32 {
  if (symbols == 0 || symbols > (1 << 20) || capacity == 0 || capacity > (1 << 24)) return -1;
  if (inCap == 0 || inCap > (1 << 20) || outCap < 16 || outCap > (1 << 22)) return -1;
  let hsize: u32 = 16;
  while (hsize < capacity * 2) hsize <<= 1;
  // the whole layout, computed in 64 bits so that it cannot wrap
  const total: u64 = <u64>__heap_base + 1024 + <u64>symbols * (BK_SIZE + 2 * LD_SIZE) + <u64>inCap * CMD_SIZE +
    <u64>outCap * EVT_SIZE + SCRATCH_BYTES + (<u64>capacity + 1) * (ON_SIZE + LN_SIZE) + <u64>hsize * 8;
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
  const ht = p; p += <usize>hsize * 4;
  const lt = p; p += <usize>hsize * 4;
  const ld = p; p += <usize>symbols * 2 * LD_SIZE;
  const end = p;

  const have = <usize>memory.size() << 16;
  if (end > have) {
    const need = <i32>((end - have + 0xffff) >> 16);
    if (memory.grow(need) < 0) return -2;
  }
  memory.fill(c, 0, end - c);

  nSym = symbols; cap = capacity; ctrl = c; orderPool = op; levelPool = lp; books = bk;
  inbox = ib; inboxCap = inCap; outbox = ob; outboxCap = outCap; scratch = sc;
  onodes = on; lnodes = ln; htab = ht; ltab = lt; ladders = ld; hmask = hsize - 1; memEnd = end;
  poolInit(op, on, ON_SIZE, capacity, false);
  poolInit(lp, ln, LN_SIZE, capacity, true);
  hashSeed = (<u64>seedHi << 32) | <u64>seedLo;
  prioState = (seedLo ^ seedHi ^ 0x9E3779B9) | 1;
  tradeSeq = 0; outCount = 0; inCursor = 0; batchN = 0; inBatch = false; pending = false; tkNode = 0;
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
  const have = <usize>memory.size() << 16;
  if (end > have) {
    if (memory.grow(<i32>((end - have + 0xffff) >> 16)) < 0) return -2;
  }
  memory.fill(memEnd, 0, <usize>need);
  memEnd = riskAlloc(memEnd, nSym, maxAccounts, maxPositions, defaultMaxOpen);
  return 0;
}

// ── order index ────────────────────────────────────────────────────────────────────────────
/** The resting order with this id, in any symbol, or 0. */
export function indexFind(id: u64): u32 {
  let i = hashKey(id) & hmask;
  while (true) {
    const o = load<u32>(htab + (<usize>i << 2));
    if (o == 0) return 0;
    if (load<u64>(oAddr(o), O_ID) == id) return o;
    i = (i + 1) & hmask;
  }
  return 0;
}

/** The order `id` if it rests in symbol `sym`, else 0 (an id resting in another symbol is unknown there). */
export function indexFindIn(sym: u32, id: u64): u32 {
  const o = indexFind(id);
  return o != 0 && load<u32>(oAddr(o), O_SYM) == sym ? o : 0;
}

function indexInsert(o: u32): void {
  let i = hashKey(load<u64>(oAddr(o), O_ID)) & hmask;
  while (load<u32>(htab + (<usize>i << 2)) != 0) i = (i + 1) & hmask;
  store<u32>(htab + (<usize>i << 2), o);
}

@inline function indexRemove(o: u32): void {
  let i = hashKey(load<u64>(oAddr(o), O_ID)) & hmask;
  while (load<u32>(htab + (<usize>i << 2)) != o) i = (i + 1) & hmask;
  tabShiftOut(htab, i, false);
}

/** Home slot of the node in a table entry (orders or levels). */
@inline function homeOf(e: u32, levels: bool): u32 {
  if (levels) {
    const a = lAddr(e);
    return levelHash(load<u32>(a, L_SYM), load<u32>(a, L_SIDE), load<i64>(a, L_PRICE)) & hmask;
  }
  return hashKey(load<u64>(oAddr(e), O_ID)) & hmask;
}

/** Empties slot `i` of a linear-probing table by backward shifting (no tombstones). */
@inline function tabShiftOut(tab: usize, i: u32, levels: bool): void {
  let j = i;
  while (true) {
    j = (j + 1) & hmask;
    const e = load<u32>(tab + (<usize>j << 2));
    if (e == 0) break;
    const k = homeOf(e, levels);
    // move e back to i unless its home k lies cyclically in (i, j]
    const inRange = i <= j ? (k > i && k <= j) : (k > i || k <= j);
    if (!inRange) {
      store<u32>(tab + (<usize>i << 2), e);
      i = j;
    }
  }
  store<u32>(tab + (<usize>i << 2), 0);
}

// ── level index ────────────────────────────────────────────────────────────────────────────
/** Level index hash: 8 adjacent prices of a book side share a run of slots (same idea as hashKey). */
@inline function levelHash(sym: u32, side: u32, price: i64): u32 {
  let h = ((<u64>price >> 3) ^ ((<u64>(sym << 1 | side) + 1) * 0xC2B2AE3D27D4EB4F)) + hashSeed;
  h ^= h >> 31;
  h *= 0x94D049BB133111EB;
  h ^= h >> 29;
  h *= 0xff51afd7ed558ccd;
  h ^= h >> 32;
  return (<u32>h << 3) | (<u32>price & 7);
}

function ltabInsert(lv: u32): void {
  const a = lAddr(lv);
  let i = levelHash(load<u32>(a, L_SYM), load<u32>(a, L_SIDE), load<i64>(a, L_PRICE)) & hmask;
  while (load<u32>(ltab + (<usize>i << 2)) != 0) i = (i + 1) & hmask;
  store<u32>(ltab + (<usize>i << 2), lv);
}

function ltabRemove(lv: u32): void {
  const a = lAddr(lv);
  let i = levelHash(load<u32>(a, L_SYM), load<u32>(a, L_SIDE), load<i64>(a, L_PRICE)) & hmask;
  while (load<u32>(ltab + (<usize>i << 2)) != lv) i = (i + 1) & hmask;
  tabShiftOut(ltab, i, true);
}

/** The level of (sym, side) at `price`, or 0 (O(1) expected). */
export function levelFind(sym: u32, side: u32, price: i64): u32 {
  let i = levelHash(sym, side, price) & hmask;
  while (true) {
    const lv = load<u32>(ltab + (<usize>i << 2));
    if (lv == 0) return 0;
    const a = lAddr(lv);
    if (load<i64>(a, L_PRICE) == price && load<u32>(a, L_SYM) == sym && load<u32>(a, L_SIDE) == side) return lv;
    i = (i + 1) & hmask;
  }
  return 0;
}

// ── price levels: treap by price + priority-ordered list ───────────────────────────────────
// The treap is iterative (parent links, rotations): no recursion, so no input can exhaust the
// WASM stack. `rootAt` is the address of the side's root slot in its book.

/** Rotates `x` above its parent. */
function tRotateUp(rootAt: usize, x: u32): void {
  const xa = lAddr(x);
  const p = load<u32>(xa, L_PARENT);
  const pa = lAddr(p);
  const g = load<u32>(pa, L_PARENT);
  if (load<u32>(pa, L_LEFT) == x) {
    const b = load<u32>(xa, L_RIGHT);
    store<u32>(pa, b, L_LEFT);
    if (b != 0) store<u32>(lAddr(b), p, L_PARENT);
    store<u32>(xa, p, L_RIGHT);
  } else {
    const b = load<u32>(xa, L_LEFT);
    store<u32>(pa, b, L_RIGHT);
    if (b != 0) store<u32>(lAddr(b), p, L_PARENT);
    store<u32>(xa, p, L_LEFT);
  }
  store<u32>(pa, x, L_PARENT);
  store<u32>(xa, g, L_PARENT);
  if (g == 0) store<u32>(rootAt, x);
  else {
    const ga = lAddr(g);
    if (load<u32>(ga, L_LEFT) == p) store<u32>(ga, x, L_LEFT); else store<u32>(ga, x, L_RIGHT);
  }
}

/** Inserts level `n` (price set, children 0) by price, then restores the heap order. */
function tInsert(rootAt: usize, n: u32, price: i64): void {
  const na = lAddr(n);
  store<u32>(na, nextPrio(), L_PRIO);
  store<u32>(na, 0, L_LEFT);
  store<u32>(na, 0, L_RIGHT);
  let cur = load<u32>(rootAt);
  if (cur == 0) {
    store<u32>(na, 0, L_PARENT);
    store<u32>(rootAt, n);
    return;
  }
  while (true) {
    const ca = lAddr(cur);
    const off: u32 = price < load<i64>(ca, L_PRICE) ? L_LEFT : L_RIGHT;
    const next = load<u32>(ca + off);
    if (next == 0) {
      store<u32>(ca + off, n);
      store<u32>(na, cur, L_PARENT);
      break;
    }
    cur = next;
  }
  const prio = load<u32>(na, L_PRIO);
  while (true) {
    const p = load<u32>(na, L_PARENT);
    if (p == 0 || load<u32>(lAddr(p), L_PRIO) >= prio) break;
    tRotateUp(rootAt, n);
  }
}

/** Removes level `x` from the treap: rotates it down to a leaf, then detaches it. */
function tRemove(rootAt: usize, x: u32): void {
  const xa = lAddr(x);
  while (true) {
    const l = load<u32>(xa, L_LEFT);
    const r = load<u32>(xa, L_RIGHT);
    if (l == 0 && r == 0) break;
    const c = l == 0 ? r : r == 0 ? l : (load<u32>(lAddr(l), L_PRIO) > load<u32>(lAddr(r), L_PRIO) ? l : r);
    tRotateUp(rootAt, c);
  }
  const p = load<u32>(xa, L_PARENT);
  if (p == 0) store<u32>(rootAt, 0);
  else {
    const pa = lAddr(p);
    if (load<u32>(pa, L_LEFT) == x) store<u32>(pa, 0, L_LEFT); else store<u32>(pa, 0, L_RIGHT);
  }
}

/** The level at `price` found through the treap (used by engineValidate). */
export function treapFind(bk: usize, side: u32, price: i64): u32 {
  let cur = load<u32>(bk + (side << 2), B_ROOT);
  while (cur != 0) {
    const a = lAddr(cur);
    const p = load<i64>(a, L_PRICE);
    if (price == p) return cur;
    cur = price < p ? load<u32>(a, L_LEFT) : load<u32>(a, L_RIGHT);
  }
  return 0;
}

// ── ladder: tick-indexed bitmap near the touch ─────────────────────────────────────────────
@inline export function ldAddr(sym: u32, side: u32): usize { return ladders + <usize>((sym << 1) | side) * LD_SIZE; }

/** Position of `price` in the ladder window, or -1 outside it. */
@inline export function ldPos(ld: usize, price: i64): i32 {
  const base = load<i64>(ld, LD_BASE);
  return price >= base && <u64>(price - base) < <u64>LD_WIDTH ? <i32>(price - base) : -1;
}

@inline function ldSet(ld: usize, pos: i32): void {
  const w = <usize>(pos >> 6);
  const wa = ld + LD_WORDS + (w << 3);
  store<u64>(wa, load<u64>(wa) | (<u64>1 << <u64>(pos & 63)));
  store<u64>(ld, load<u64>(ld, LD_SUM) | (<u64>1 << <u64>w), LD_SUM);
}

@inline function ldClear(ld: usize, pos: i32): void {
  const w = <usize>(pos >> 6);
  const wa = ld + LD_WORDS + (w << 3);
  const v = load<u64>(wa) & ~(<u64>1 << <u64>(pos & 63));
  store<u64>(wa, v);
  if (v == 0) store<u64>(ld, load<u64>(ld, LD_SUM) & ~(<u64>1 << <u64>w), LD_SUM);
}

/** Highest set position < pos (pos in [0, LD_WIDTH]), or -1. */
function ldBelow(ld: usize, pos: i32): i32 {
  if (pos <= 0) return -1;
  let w = (pos - 1) >> 6;
  const b = <u64>((pos - 1) & 63);
  const keep = b == 63 ? <u64>-1 : (<u64>1 << (b + 1)) - 1;
  const m = load<u64>(ld + LD_WORDS + (<usize>w << 3)) & keep;
  if (m != 0) return (w << 6) + 63 - <i32>clz(m);
  const sm = load<u64>(ld, LD_SUM) & ((<u64>1 << <u64>w) - 1);
  if (sm == 0) return -1;
  w = 63 - <i32>clz(sm);
  return (w << 6) + 63 - <i32>clz(load<u64>(ld + LD_WORDS + (<usize>w << 3)));
}

/** Lowest set position > pos (pos in [-1, LD_WIDTH - 1]), or -1. */
function ldAbove(ld: usize, pos: i32): i32 {
  const q = pos + 1;
  if (q >= LD_WIDTH) return -1;
  let w = q >> 6;
  const m = load<u64>(ld + LD_WORDS + (<usize>w << 3)) & (<u64>-1 << <u64>(q & 63));
  if (m != 0) return (w << 6) + <i32>ctz(m);
  const sm = load<u64>(ld, LD_SUM) & (<u64>-1 << <u64>(w + 1)); // w ≤ 15
  if (sm == 0) return -1;
  w = <i32>ctz(sm);
  return (w << 6) + <i32>ctz(load<u64>(ld + LD_WORDS + (<usize>w << 3)));
}

/**
 * The nearest level better than `price` on a side (bids: higher, asks: lower), from the ladder
 * and the treap, or 0.
 */
function betterNeighbour(bk: usize, sym: u32, side: u32, price: i64): u32 {
  const ld = ldAddr(sym, side);
  const base = load<i64>(ld, LD_BASE);
  let cand: u32 = 0;
  if (load<u64>(ld, LD_SUM) != 0) {
    let pos: i32;
    let k: i32;
    if (side == SIDE_BUY) {
      // lowest ladder price above `price`
      pos = price < base ? -1 : (<u64>(price - base) >= <u64>LD_WIDTH ? LD_WIDTH : <i32>(price - base));
      k = pos >= LD_WIDTH ? -1 : ldAbove(ld, pos);
    } else {
      pos = price < base ? 0 : (<u64>(price - base) >= <u64>LD_WIDTH ? LD_WIDTH : <i32>(price - base));
      k = ldBelow(ld, pos);
    }
    if (k >= 0) cand = levelFind(sym, side, base + <i64>k);
  }
  let cur = load<u32>(bk + (<usize>side << 2), B_ROOT);
  if (cur != 0) {
    let t: u32 = 0;
    while (cur != 0) {
      const a = lAddr(cur);
      const p = load<i64>(a, L_PRICE);
      if (side == SIDE_BUY) {
        if (price < p) { t = cur; cur = load<u32>(a, L_LEFT); } else cur = load<u32>(a, L_RIGHT);
      } else {
        if (price > p) { t = cur; cur = load<u32>(a, L_RIGHT); } else cur = load<u32>(a, L_LEFT);
      }
    }
    if (t != 0) {
      if (cand == 0) cand = t;
      else {
        const tp = load<i64>(lAddr(t), L_PRICE);
        const cp = load<i64>(lAddr(cand), L_PRICE);
        if (side == SIDE_BUY ? tp < cp : tp > cp) cand = t;
      }
    }
  }
  return cand;
}

function levelCreate(bk: usize, sym: u32, side: u32, price: i64): u32 {
  const lv = poolAlloc(levelPool);
  const la = lAddr(lv);
  store<i64>(la, price, L_PRICE);
  store<u32>(la, sym, L_SYM);
  store<u32>(la, side, L_SIDE);
  ltabInsert(lv);
  const so = <usize>(side << 2);
  const better = betterNeighbour(bk, sym, side, price);
  const worse = better != 0 ? load<u32>(lAddr(better), L_NEXT) : load<u32>(bk + so, B_BEST);
  // track it in the ladder when it fits the window (re-anchoring an empty ladder), else the treap
  const ld = ldAddr(sym, side);
  if (load<u64>(ld, LD_SUM) == 0) store<i64>(ld, price - <i64>(LD_WIDTH >> 1), LD_BASE);
  const pos = ldPos(ld, price);
  if (pos >= 0) {
    ldSet(ld, pos);
    store<u32>(la, 1, L_LADDER);
  } else {
    tInsert(bk + so + B_ROOT, lv, price);
  }
  store<u32>(la, better, L_PREV);
  store<u32>(la, worse, L_NEXT);
  if (better != 0) store<u32>(lAddr(better), lv, L_NEXT); else store<u32>(bk + so, lv, B_BEST);
  if (worse != 0) store<u32>(lAddr(worse), lv, L_PREV);
  store<u32>(bk + so, load<u32>(bk + so, B_LEVELS) + 1, B_LEVELS);
  return lv;
}

function levelRemove(bk: usize, side: u32, lv: u32): void {
  const la = lAddr(lv);
  const so = <usize>(side << 2);
  const prev = load<u32>(la, L_PREV);
  const next = load<u32>(la, L_NEXT);
  if (prev != 0) store<u32>(lAddr(prev), next, L_NEXT); else store<u32>(bk + so, next, B_BEST);
  if (next != 0) store<u32>(lAddr(next), prev, L_PREV);
  const price = load<i64>(la, L_PRICE);
  if (load<u32>(la, L_LADDER) != 0) {
    const ld = ldAddr(load<u32>(la, L_SYM), side);
    ldClear(ld, ldPos(ld, price));
  } else {
    tRemove(bk + so + B_ROOT, lv);
  }
  store<u32>(bk + so, load<u32>(bk + so, B_LEVELS) - 1, B_LEVELS);
  ltabRemove(lv);
  poolFree(levelPool, lv);
}

// ── resting orders ─────────────────────────────────────────────────────────────────────────
/** Appends order node `o` (price/leaves/symbol/side set) to the back of its level. */
function linkOrder(bk: usize, o: u32): void {
  const a = oAddr(o);
  const side = load<u32>(a, O_SIDE);
  const price = load<i64>(a, O_PRICE);
  const sym = load<u32>(a, O_SYM);
  let lv = load<u32>(bk + (<usize>side << 2), B_BEST);
  if (lv == 0 || load<i64>(lAddr(lv), L_PRICE) != price) lv = levelFind(sym, side, price);
  if (lv == 0) lv = levelCreate(bk, sym, side, price);
  const la = lAddr(lv);
  const tail = load<u32>(la, L_TAIL);
  store<u32>(a, tail, O_PREV);
  store<u32>(a, 0, O_NEXT);
  store<u32>(a, lv, O_LEVEL);
  if (tail != 0) store<u32>(oAddr(tail), o, O_NEXT); else store<u32>(la, o, L_HEAD);
  store<u32>(la, o, L_TAIL);
  store<u32>(la, load<u32>(la, L_COUNT) + 1, L_COUNT);
  store<u64>(la, load<u64>(la, L_TOTAL) + <u64>load<u32>(a, O_LEAVES), L_TOTAL);
}

/** Rests a new order node (all fields set): level, index, count. */
export function restOrder(bk: usize, o: u32): void {
  linkOrder(bk, o);
  indexInsert(o);
  store<u32>(bk, load<u32>(bk, B_ORDERS) + 1, B_ORDERS);
}

/** Takes an order out of its level (it stays indexed and allocated). */
function unlinkOrder(bk: usize, o: u32): void {
  const a = oAddr(o);
  const lv = load<u32>(a, O_LEVEL);
  const la = lAddr(lv);
  const prev = load<u32>(a, O_PREV);
  const next = load<u32>(a, O_NEXT);
  if (prev != 0) store<u32>(oAddr(prev), next, O_NEXT); else store<u32>(la, next, L_HEAD);
  if (next != 0) store<u32>(oAddr(next), prev, O_PREV); else store<u32>(la, prev, L_TAIL);
  const cnt = load<u32>(la, L_COUNT) - 1;
  store<u32>(la, cnt, L_COUNT);
  store<u64>(la, load<u64>(la, L_TOTAL) - <u64>load<u32>(a, O_LEAVES), L_TOTAL);
  if (cnt == 0) levelRemove(bk, load<u32>(a, O_SIDE), lv);
}

/** Unindexes and frees an order that is in no level. */
@inline function dropOrder(bk: usize, o: u32): void {
  indexRemove(o);
  poolFree(orderPool, o);
  store<u32>(bk, load<u32>(bk, B_ORDERS) - 1, B_ORDERS);
}

/** Unlinks, unindexes and frees a resting order. */
function removeOrder(bk: usize, o: u32): void {
  unlinkOrder(bk, o);
  dropOrder(bk, o);
}

// ── events ─────────────────────────────────────────────────────────────────────────────────
@inline function emit(type: u32, reason: u32, flags: u32, side: u32, sym: u32, id: u64, maker: u64, price: i64,
  qty: u32, leaves: u32, makerLeaves: u32, acct: u32, makerAcct: u32, tradeId: u64): void {
  const e = outbox + (<usize>outCount << 6);
  store<u8>(e, <u8>type, EVT_TYPE);
  store<u8>(e, <u8>reason, EVT_REASON);
  store<u8>(e, <u8>flags, EVT_FLAGS);
  store<u8>(e, <u8>side, EVT_SIDE);
  store<u32>(e, sym, EVT_SYMBOL);
  store<u64>(e, id, EVT_ID);
  store<u64>(e, maker, EVT_MAKER);
  store<i64>(e, price, EVT_PRICE);
  store<u32>(e, qty, EVT_QTY);
  store<u32>(e, leaves, EVT_LEAVES);
  store<u32>(e, makerLeaves, EVT_MAKER_LEAVES);
  store<u32>(e, tkCmd, EVT_CMD);
  store<u32>(e, acct, EVT_ACCOUNT);
  store<u32>(e, makerAcct, EVT_MAKER_ACCOUNT);
  store<u64>(e, tradeId, EVT_TRADE_ID);
  outCount++;
}

@inline function reject(c: usize, reason: u32): void {
  emit(EVT_TYPE_REJECTED, reason, 0, load<u8>(c, CMD_SIDE), load<u32>(c, CMD_SYMBOL), load<u64>(c, CMD_ID), 0,
    load<i64>(c, CMD_PRICE), load<u32>(c, CMD_QTY), 0, 0, load<u32>(c, CMD_ACCOUNT), 0, 0);
}

/** X for a resting order removed by self-trade prevention. */
@inline function stpCancelMaker(bk: usize, o: u32): void {
  const a = oAddr(o);
  emit(EVT_TYPE_CANCELLED, REASON_SELF_TRADE, EVT_FLAG_STP, load<u32>(a, O_SIDE), tkSym, load<u64>(a, O_ID), 0,
    load<i64>(a, O_PRICE), load<u32>(a, O_LEAVES), 0, 0, load<u32>(a, O_ACCT), 0, 0);
  if (riskOn) riskUnrest(load<u32>(a, O_RPOS), load<u32>(a, O_SIDE), load<u32>(a, O_LEAVES), true);
  removeOrder(bk, o);
}

/** Best price of a book side, or 0. */
@inline function bestPrice(bk: usize, side: u32): i64 {
  const lv = load<u32>(bk + (<usize>side << 2), B_BEST);
  return lv == 0 ? 0 : load<i64>(lAddr(lv), L_PRICE);
}

// ── matching ───────────────────────────────────────────────────────────────────────────────
@inline function crosses(side: u32, levelPrice: i64, limit: i64): bool {
  return side == SIDE_BUY ? levelPrice <= limit : levelPrice >= limit;
}

/** Matches the taker in progress. Returns false if it paused because the outbox is full. */
function matchLoop(): bool {
  const bk = bAddr(tkSym);
  const opp: u32 = tkSide ^ 1;
  const oppBest = bk + (<usize>opp << 2);
  const stp = load<u32>(bk, B_STP);
  while (tkRem > 0) {
    if (outCount + EVT_RESERVE > outboxCap) return false;
    const lv = load<u32>(oppBest, B_BEST);
    if (lv == 0) break;
    const la = lAddr(lv);
    const lp = load<i64>(la, L_PRICE);
    if (tkMarket ? lp < tkLo || lp > tkHi : !crosses(tkSide, lp, tkLimit)) break; // the rest is cancelled
    const o = load<u32>(la, L_HEAD);
    const a = oAddr(o);
    if (stp != STP_NONE && load<u32>(a, O_ACCT) == tkAcct) {
      if (stp != STP_CANCEL_INCOMING) stpCancelMaker(bk, o);
      if (stp != STP_CANCEL_RESTING) {
        emit(EVT_TYPE_CANCELLED, REASON_SELF_TRADE, EVT_FLAG_STP, tkSide, tkSym, tkId, 0, tkLimit, tkRem, 0, 0, tkAcct, 0, 0);
        tkRem = 0;
        tkRest = false;
      }
      continue;
    }
    const ml = load<u32>(a, O_LEAVES);
    const q = tkRem < ml ? tkRem : ml;
    tkRem -= q;
    tkFilled += <u64>q;
    store<u32>(a, ml - q, O_LEAVES);
    store<u64>(a, load<u64>(a, O_FILLED) + <u64>q, O_FILLED);
    store<u64>(la, load<u64>(la, L_TOTAL) - <u64>q, L_TOTAL);
    tradeSeq++;
    emit(EVT_TYPE_TRADE, 0, 0, tkSide, tkSym, tkId, load<u64>(a, O_ID), lp, q, tkRem, ml - q,
      tkAcct, load<u32>(a, O_ACCT), tradeSeq);
    if (riskOn) {
      const mpe = load<u32>(a, O_RPOS);
      riskFill(tkPe, tkSide, q);
      riskFill(mpe, opp, q);
      riskUnrest(mpe, opp, q, ml == q);
      riskLastTrade(tkSym, lp);
    }
    if (ml == q) removeOrder(bk, o);
  }
  return true;
}

/** Rests or cancels what is left of the taker, ending the command. */
function finishTaker(): void {
  pending = false;
  const node = tkNode;
  tkNode = 0;
  const bk = bAddr(tkSym);
  if (tkRem == 0 || !tkRest) {
    if (tkRem > 0) emit(EVT_TYPE_CANCELLED, 0, 0, tkSide, tkSym, tkId, 0, tkLimit, tkRem, 0, 0, tkAcct, 0, 0);
    if (node != 0) {
      if (riskOn) riskGone(tkPe); // its open lots left when the modify took it out
      dropOrder(bk, node);
    }
    return;
  }
  if (node != 0) {
    // a modify that lost priority: the same node goes to the back of its (new) level
    const a = oAddr(node);
    store<i64>(a, tkLimit, O_PRICE);
    store<u64>(a, tkFilled, O_FILLED);
    store<u32>(a, tkRem, O_LEAVES);
    linkOrder(bk, node);
    if (riskOn) riskRest(tkPe, tkSide, tkRem, false);
    return;
  }
  const o = poolAlloc(orderPool); // capacity was checked on entry
  const a = oAddr(o);
  store<u64>(a, tkId, O_ID);
  store<i64>(a, tkLimit, O_PRICE);
  store<u64>(a, tkFilled, O_FILLED);
  store<u32>(a, tkRem, O_LEAVES);
  store<u32>(a, tkAcct, O_ACCT);
  store<u32>(a, tkSym, O_SYM);
  store<u32>(a, tkSide, O_SIDE);
  store<u32>(a, tkPe, O_RPOS);
  restOrder(bk, o);
  if (riskOn) riskRest(tkPe, tkSide, tkRem, true);
}

/** Whether a FOK taker can be filled completely (self-trade prevention taken into account). */
function fokFillable(qty: u32): bool {
  const bk = bAddr(tkSym);
  const stp = load<u32>(bk, B_STP);
  let need = <u64>qty;
  let lv = load<u32>(bk + (<usize>(tkSide ^ 1) << 2), B_BEST);
  while (lv != 0) {
    const la = lAddr(lv);
    if (!tkMarket && !crosses(tkSide, load<i64>(la, L_PRICE), tkLimit)) return false;
    if (stp == STP_NONE) {
      const t = load<u64>(la, L_TOTAL);
      if (t >= need) return true;
      need -= t;
    } else {
      let o = load<u32>(la, L_HEAD);
      while (o != 0) {
        const a = oAddr(o);
        if (load<u32>(a, O_ACCT) == tkAcct) {
          if (stp != STP_CANCEL_RESTING) return false;
        } else {
          const l = <u64>load<u32>(a, O_LEAVES);
          if (l >= need) return true;
          need -= l;
        }
        o = load<u32>(a, O_NEXT);
      }
    }
    lv = load<u32>(la, L_NEXT);
  }
  return false;
}

@inline function bandRejects(bk: usize, price: i64): bool {
  return load<u32>(bk, B_BAND) != 0 && (price < load<i64>(bk, B_BLO) || price > load<i64>(bk, B_BHI));
}

function newOrder(c: usize): void {
  const side = <u32>load<u8>(c, CMD_SIDE);
  const type = <u32>load<u8>(c, CMD_TYPE);
  const tif = <u32>load<u8>(c, CMD_TIF);
  const sym = load<u32>(c, CMD_SYMBOL);
  if (sym >= nSym) { reject(c, REASON_UNKNOWN_SYMBOL); return; }
  if (side > 1) { reject(c, REASON_BAD_SIDE); return; }
  if (type > 1) { reject(c, REASON_BAD_TYPE); return; }
  if (tif > 3 && type == ORD_TYPE_LIMIT) { reject(c, REASON_BAD_TIF); return; } // market ignores tif
  const qty = load<u32>(c, CMD_QTY);
  if (qty == 0) { reject(c, REASON_BAD_QTY); return; }
  const price = load<i64>(c, CMD_PRICE);
  const bk = bAddr(sym);
  const limit = type == ORD_TYPE_LIMIT;
  if (limit && (price <= 0 || bandRejects(bk, price))) { reject(c, REASON_BAD_PRICE); return; }
  const id = load<u64>(c, CMD_ID);
  if (indexFind(id) != 0) { reject(c, REASON_DUPLICATE_ID); return; } // resting in any symbol
  const rests = limit && (tif == TIF_GTC || tif == TIF_POST_ONLY);
  const acct = load<u32>(c, CMD_ACCOUNT);
  let pe: u32 = 0;
  if (riskOn) {
    pe = posFind(acct, sym);
    const r = riskCheckNew(sym, side, !limit, price, qty, acct, pe, rests, bestPrice(bk, 0), bestPrice(bk, 1));
    if (r != 0) { reject(c, r); return; }
  }
  if (limit && tif == TIF_POST_ONLY) {
    const b = load<u32>(bk + (<usize>(side ^ 1) << 2), B_BEST);
    if (b != 0 && crosses(side, load<i64>(lAddr(b), L_PRICE), price)) { reject(c, REASON_WOULD_CROSS); return; }
  }
  if (rests && poolFull(orderPool)) { reject(c, REASON_CAPACITY); return; }
  if (riskOn && pe == 0) {
    pe = posGet(acct, sym);
    if (pe == 0) { reject(c, REASON_CAPACITY); return; } // risk tables full
  }
  tkPe = pe;
  tkSym = sym; tkSide = side; tkId = id; tkAcct = acct;
  tkLimit = limit ? price : 0; tkMarket = !limit; tkRem = qty; tkFilled = 0; tkRest = rests; tkNode = 0;
  tkLo = 0; tkHi = i64.MAX_VALUE;
  if (riskOn && !limit) { tkLo = mktLo; tkHi = mktHi; } // set by riskCheckNew above
  emit(EVT_TYPE_ACCEPTED, 0, 0, side, sym, id, 0, tkLimit, qty, qty, 0, tkAcct, 0, 0);
  if (limit && tif == TIF_FOK && !fokFillable(qty)) {
    emit(EVT_TYPE_CANCELLED, 0, 0, side, sym, id, 0, tkLimit, qty, 0, 0, tkAcct, 0, 0);
    return;
  }
  pending = true;
  if (matchLoop()) finishTaker();
}

function cancelOrder(c: usize): void {
  const sym = load<u32>(c, CMD_SYMBOL);
  const id = load<u64>(c, CMD_ID);
  const o = indexFindIn(sym, id); // 0 also for an unknown symbol
  if (o == 0) { reject(c, REASON_UNKNOWN_ORDER); return; }
  const a = oAddr(o);
  emit(EVT_TYPE_CANCELLED, 0, 0, load<u32>(a, O_SIDE), sym, id, 0, load<i64>(a, O_PRICE), load<u32>(a, O_LEAVES), 0, 0,
    load<u32>(a, O_ACCT), 0, 0);
  if (riskOn) riskUnrest(load<u32>(a, O_RPOS), load<u32>(a, O_SIDE), load<u32>(a, O_LEAVES), true);
  removeOrder(bAddr(sym), o);
}

function modifyOrder(c: usize): void {
  const sym = load<u32>(c, CMD_SYMBOL);
  const id = load<u64>(c, CMD_ID);
  const o = indexFindIn(sym, id); // 0 also for an unknown symbol
  if (o == 0) { reject(c, REASON_UNKNOWN_ORDER); return; }
  const qty = load<u32>(c, CMD_QTY);
  if (qty == 0) { reject(c, REASON_BAD_QTY); return; }
  const price = load<i64>(c, CMD_PRICE);
  const bk = bAddr(sym);
  if (price <= 0 || bandRejects(bk, price)) { reject(c, REASON_BAD_PRICE); return; }
  const a = oAddr(o);
  const leaves = load<u32>(a, O_LEAVES);
  const side = load<u32>(a, O_SIDE);
  const acct = load<u32>(a, O_ACCT);
  const pe = load<u32>(a, O_RPOS);
  if (riskOn) {
    const r = riskCheckModify(sym, side, acct, pe, load<i64>(a, O_PRICE), leaves, price, qty, bestPrice(bk, 0), bestPrice(bk, 1));
    if (r != 0) { reject(c, r); return; }
  }
  emit(EVT_TYPE_MODIFIED, 0, 0, side, sym, id, 0, price, qty, qty, 0, acct, 0, 0);
  if (price == load<i64>(a, O_PRICE) && qty < leaves) {
    const la = lAddr(load<u32>(a, O_LEVEL));
    store<u64>(la, load<u64>(la, L_TOTAL) - <u64>(leaves - qty), L_TOTAL);
    store<u32>(a, qty, O_LEAVES);
    if (riskOn) riskUnrest(pe, side, leaves - qty, false);
    return;
  }
  const filled = load<u64>(a, O_FILLED);
  unlinkOrder(bk, o);
  if (riskOn) riskUnrest(pe, side, leaves, false);
  tkPe = pe;
  tkNode = o;
  tkSym = sym; tkSide = side; tkId = id; tkAcct = acct;
  tkLimit = price; tkMarket = false; tkRem = qty; tkFilled = filled; tkRest = true;
  pending = true;
  if (matchLoop()) finishTaker();
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

@inline function markLast(): void {
  if (outCount == 0) return;
  const f = outbox + (<usize>(outCount - 1) << 6) + EVT_FLAGS;
  store<u8>(f, load<u8>(f) | <u8>EVT_FLAG_LAST);
}

/**
 * Runs inbox commands [0, n). Returns the number of events in the outbox, or -1 for a bad n.
 * If the outbox fills, it returns early; call again (same n) after draining until
 * `bookBusy()` is 0. `bookConsumed()` tells how many commands are complete.
 */
export function bookRun(n: u32): i32 {
  outCount = 0;
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
    tkCmd = inCursor;
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
