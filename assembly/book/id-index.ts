/**
 * The order index: resting orders by id, engine-wide (ids are unique across symbols, DESIGN
 * "Engine semantics").
 *
 * Owns: the order table `htab`.
 *
 * Layout: `hmask + 1` 8-byte slots (book/hash.ts): order node index (0: empty) and tag
 * `hashKey(id)`; key = the id at ORDER node offset 0, home slot `tag & hmask`, linear probing.
 * A lookup reads an order node only when a slot's tag equals the id's hash. A resting order
 * keeps its tag at O_TAG, and the last lookup leaves the id's tag and the slot it found, so
 * that an insert after a duplicate check and a removal after a cancel's lookup (or a fill)
 * do not hash the id again.
 * Invariants: every resting order is in the table exactly once; a modified order being matched
 * (book/match.ts `tkNode`) stays indexed while it is out of its level; cancel and modify check
 * that the order found rests in the command's symbol (`indexFindIn`); an indexed order's O_TAG
 * is hashKey(its id).
 * Complexity: find/insert/remove O(1) expected. Allocation: none (reserved by engineInit).
 * Known limitations: at most `cap` entries (the table is sized for the order pool).
 */
import { oAddr, O_ID, O_SYM, O_TAG } from './nodes';
import { hmask, hashKey, slotAddr, tabShiftOut } from './hash';

export let htab: usize = 0;

@inline export function idIndexInit(tab: usize): void { htab = tab; }

/** The tag (hashKey) of the id of the last `indexFind`. */
export let findTag: u32 = 0;
/** The slot where the last successful `indexFind` found its order (a hint: check it still holds it). */
let findSlot: u32 = 0;

/** The resting order with this id, in any symbol, or 0. */
export function indexFind(id: u64): u32 {
  const t = hashKey(id);
  findTag = t;
  let i = t & hmask;
  while (true) {
    const e = load<u64>(slotAddr(htab, i));
    const o = <u32>e;
    if (o == 0) return 0;
    if (<u32>(e >> 32) == t && load<u64>(oAddr(o), O_ID) == id) { findSlot = i; return o; }
    i = (i + 1) & hmask;
  }
  return 0;
}

/** The order `id` if it rests in symbol `sym`, else 0 (an id resting in another symbol is unknown there). */
export function indexFindIn(sym: u32, id: u64): u32 {
  const o = indexFind(id);
  return o != 0 && load<u32>(oAddr(o), O_SYM) == sym ? o : 0;
}

/** Indexes order `o` under `tag` = hashKey(its id), kept at O_TAG. */
export function indexInsert(o: u32, tag: u32): void {
  store<u32>(oAddr(o), tag, O_TAG);
  let i = tag & hmask;
  while (<u32>load<u64>(slotAddr(htab, i)) != 0) i = (i + 1) & hmask;
  store<u64>(slotAddr(htab, i), (<u64>tag << 32) | <u64>o);
}

@inline export function indexRemove(o: u32): void {
  let i = findSlot & hmask; // the hint, when it still holds o (a cancel's own lookup)
  if (load<u32>(slotAddr(htab, i)) != o) {
    i = load<u32>(oAddr(o), O_TAG) & hmask;
    while (load<u32>(slotAddr(htab, i)) != o) i = (i + 1) & hmask;
  }
  tabShiftOut(htab, i);
}
