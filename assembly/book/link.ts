/**
 * Linking: price levels into their book side and orders into their level.
 *
 * Owns: the level list of each book side (best first), the order FIFO of each level, the book
 * counters (orders, levels[2]) and the choice of ladder or treap for a new level.
 *
 * Layout: BOOK best[side] → LEVEL prev/next (better/worse price) → … ; LEVEL head/tail → ORDER
 * prev/next → … (book/nodes.ts). A level sits either in its side's ladder window (L_LADDER = 1,
 * bit and slot, book/ladder.ts) or in its side's treap (book/treap.ts) and the level table
 * (book/level-index.ts); an order sits in the order index (book/id-index.ts) while it rests.
 * Invariants: bids strictly descending, asks strictly ascending along the list; level total =
 * Σ leaves of its orders, count = number of orders; a level with no order is removed at once;
 * an order is linked only when leaves > 0 (callers guarantee it).
 * Complexity: linking an order O(1) expected when its level exists (one slot load in the
 * window); creating or removing a level O(1) in the ladder window, O(log L) in the treap.
 * Allocation: none (nodes come from the pools; callers checked the order pool is not full, and
 * the level pool, as large as the order pool, cannot be).
 * Known limitations: a ladder window is anchored where its side's first level appears and
 * re-anchors only when it is empty, so a side that drifts far keeps its levels in the treap.
 */
import { SIDE_BUY } from '../abi/records';
import { poolAlloc, poolFree } from '../mem/pool';
import {
  orderPool, levelPool, oAddr, lAddr, O_PRICE, O_LEAVES, O_SYM, O_PREV, O_NEXT, O_LEVEL, O_SIDE,
  L_PRICE, L_TOTAL, L_COUNT, L_HEAD, L_TAIL, L_PREV, L_NEXT, L_LEFT, L_RIGHT, L_SYM, L_SIDE, L_LADDER,
  B_BEST, B_ROOT, B_ORDERS, B_LEVELS,
} from './nodes';
import { indexInsert, indexRemove } from './id-index';
import { ltabInsert, ltabRemove, levelFind } from './level-index';
import { tInsert, tRemove } from './treap';
import { ldWidth, LD_BASE, LD_SUM, ldAddr, ldPos, ldSlot, ldSet, ldClear, ldBelow, ldAbove } from './ladder';

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
      pos = price < base ? -1 : (<u64>(price - base) >= <u64>ldWidth ? ldWidth : <i32>(price - base));
      k = pos >= ldWidth ? -1 : ldAbove(ld, pos);
    } else {
      pos = price < base ? 0 : (<u64>(price - base) >= <u64>ldWidth ? ldWidth : <i32>(price - base));
      k = ldBelow(ld, pos);
    }
    if (k >= 0) cand = load<u32>(ldSlot(ld, k));
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
  // the pool does not zero nodes: every field read while the level lives is set here (the
  // treap fields by tInsert, for a level outside the window)
  store<i64>(la, price, L_PRICE);
  store<u64>(la, 0, L_TOTAL);
  store<u64>(la, 0, L_COUNT); // count and head
  store<u32>(la, 0, L_TAIL);
  store<u32>(la, sym, L_SYM);
  store<u32>(la, side, L_SIDE);
  const so = <usize>(side << 2);
  const better = betterNeighbour(bk, sym, side, price);
  const worse = better != 0 ? load<u32>(lAddr(better), L_NEXT) : load<u32>(bk + so, B_BEST);
  // track it in the ladder when it fits the window (re-anchoring an empty ladder), else the treap
  const ld = ldAddr(sym, side);
  if (load<u64>(ld, LD_SUM) == 0) store<i64>(ld, price - <i64>(ldWidth >> 1), LD_BASE);
  const pos = ldPos(ld, price);
  if (pos >= 0) {
    ldSet(ld, pos, lv);
    store<u32>(la, 1, L_LADDER);
  } else {
    store<u32>(la, 0, L_LADDER);
    tInsert(bk + so + B_ROOT, lv, price);
    ltabInsert(lv);
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
    ltabRemove(lv);
  }
  store<u32>(bk + so, load<u32>(bk + so, B_LEVELS) - 1, B_LEVELS);
  poolFree(levelPool, lv);
}

/** Appends order node `o` (price/leaves/symbol/side set) to the back of its level. */
export function linkOrder(bk: usize, o: u32): void {
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

/** Rests a new order node (all fields set; `tag` = hashKey(its id)): level, index, count. */
export function restOrder(bk: usize, o: u32, tag: u32): void {
  linkOrder(bk, o);
  indexInsert(o, tag);
  store<u32>(bk, load<u32>(bk, B_ORDERS) + 1, B_ORDERS);
}

/** Takes an order out of its level (it stays indexed and allocated). */
export function unlinkOrder(bk: usize, o: u32): void {
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
@inline export function dropOrder(bk: usize, o: u32): void {
  indexRemove(o);
  poolFree(orderPool, o);
  store<u32>(bk, load<u32>(bk, B_ORDERS) - 1, B_ORDERS);
}

/** Unlinks, unindexes and frees a resting order. */
export function removeOrder(bk: usize, o: u32): void {
  unlinkOrder(bk, o);
  dropOrder(bk, o);
}
