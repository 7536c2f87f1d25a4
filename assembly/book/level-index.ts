/**
 * The level index: price levels by (symbol, side, price), so that an order joining an existing
 * level finds it in O(1): a price inside its side's ladder window (book/ladder.ts) is one load of
 * the window's slot; the levels outside the window (those in the treap) are in a hash table.
 *
 * Owns: the level table `ltab` and `levelFind`, the lookup over both.
 *
 * Layout: `hmask + 1` 8-byte slots (book/hash.ts): level node index (0: empty) and tag
 * `levelHash(symbol, side, price)`; home slot `tag & hmask`, linear probing. A lookup reads a
 * level node only when a slot's tag matches.
 * Invariants: every live level with L_LADDER = 0 (in the treap) is in the table exactly once,
 * under the price it was created with (a level's price never changes); levels in the ladder
 * window are not in the table (their slot holds them), so a side whose treap is empty has no
 * entry in the table.
 * Complexity: find/insert/remove O(1) expected. Allocation: none (reserved by engineInit).
 * Known limitations: at most `cap` entries (the table is sized for the level pool).
 */
import { lAddr, bAddr, L_PRICE, L_SYM, L_SIDE, B_ROOT } from './nodes';
import { ldAddr, ldPos, ldSlot } from './ladder';
import { hmask, levelHash, slotAddr, tabShiftOut } from './hash';

export let ltab: usize = 0;

@inline export function levelIndexInit(tab: usize): void { ltab = tab; }

export function ltabInsert(lv: u32): void {
  const a = lAddr(lv);
  const t = levelHash(load<u32>(a, L_SYM), load<u32>(a, L_SIDE), load<i64>(a, L_PRICE));
  let i = t & hmask;
  while (<u32>load<u64>(slotAddr(ltab, i)) != 0) i = (i + 1) & hmask;
  store<u64>(slotAddr(ltab, i), (<u64>t << 32) | <u64>lv);
}

export function ltabRemove(lv: u32): void {
  const a = lAddr(lv);
  let i = levelHash(load<u32>(a, L_SYM), load<u32>(a, L_SIDE), load<i64>(a, L_PRICE)) & hmask;
  while (load<u32>(slotAddr(ltab, i)) != lv) i = (i + 1) & hmask;
  tabShiftOut(ltab, i);
}

/**
 * The level of (sym, side) at `price`, or 0 (O(1) expected): the ladder slot when the price lies
 * in the window and a level rests there; otherwise the table, unless the side's treap is empty.
 */
export function levelFind(sym: u32, side: u32, price: i64): u32 {
  const ld = ldAddr(sym, side);
  const pos = ldPos(ld, price);
  if (pos >= 0) {
    const lv = load<u32>(ldSlot(ld, pos));
    if (lv != 0) return lv;
  }
  if (load<u32>(bAddr(sym) + (<usize>side << 2), B_ROOT) == 0) return 0; // no level outside the window
  return ltabFind(sym, side, price);
}

/** The treap level of (sym, side) at `price` in the table, or 0. */
function ltabFind(sym: u32, side: u32, price: i64): u32 {
  const t = levelHash(sym, side, price);
  let i = t & hmask;
  while (true) {
    const e = load<u64>(slotAddr(ltab, i));
    const lv = <u32>e;
    if (lv == 0) return 0;
    if (<u32>(e >> 32) == t) {
      const a = lAddr(lv);
      if (load<i64>(a, L_PRICE) == price && load<u32>(a, L_SYM) == sym && load<u32>(a, L_SIDE) == side) return lv;
    }
    i = (i + 1) & hmask;
  }
  return 0;
}
