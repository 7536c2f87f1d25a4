/**
 * The level index: price levels by (symbol, side, price), so that an order joining an existing
 * level finds it in O(1).
 *
 * Owns: the level table `ltab`.
 *
 * Layout: `hmask + 1` u32 slots (book/hash.ts), each a level node index or 0; key = LEVEL node
 * (symbol, side, price), home slot `levelHash(...) & hmask`, linear probing.
 * Invariants: every live level is in the table exactly once, under the price it was created
 * with (a level's price never changes).
 * Complexity: find/insert/remove O(1) expected. Allocation: none (reserved by engineInit).
 * Known limitations: at most `cap` entries (the table is sized for the level pool).
 */
import { lAddr, L_PRICE, L_SYM, L_SIDE } from './nodes';
import { hmask, levelHash, tabShiftOut } from './hash';

export let ltab: usize = 0;

@inline export function levelIndexInit(tab: usize): void { ltab = tab; }

export function ltabInsert(lv: u32): void {
  const a = lAddr(lv);
  let i = levelHash(load<u32>(a, L_SYM), load<u32>(a, L_SIDE), load<i64>(a, L_PRICE)) & hmask;
  while (load<u32>(ltab + (<usize>i << 2)) != 0) i = (i + 1) & hmask;
  store<u32>(ltab + (<usize>i << 2), lv);
}

export function ltabRemove(lv: u32): void {
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
