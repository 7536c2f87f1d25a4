/**
 * The order index: resting orders by id, engine-wide (ids are unique across symbols, DESIGN
 * "Engine semantics").
 *
 * Owns: the order table `htab`.
 *
 * Layout: `hmask + 1` u32 slots (book/hash.ts), each an order node index or 0; key = the id at
 * ORDER node offset 0, home slot `hashKey(id) & hmask`, linear probing.
 * Invariants: every resting order is in the table exactly once; a modified order being matched
 * (book/match.ts `tkNode`) stays indexed while it is out of its level; cancel and modify check
 * that the order found rests in the command's symbol (`indexFindIn`).
 * Complexity: find/insert/remove O(1) expected. Allocation: none (reserved by engineInit).
 * Known limitations: at most `cap` entries (the table is sized for the order pool).
 */
import { oAddr, O_ID, O_SYM } from './nodes';
import { hmask, hashKey, tabShiftOut } from './hash';

export let htab: usize = 0;

@inline export function idIndexInit(tab: usize): void { htab = tab; }

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

export function indexInsert(o: u32): void {
  let i = hashKey(load<u64>(oAddr(o), O_ID)) & hmask;
  while (load<u32>(htab + (<usize>i << 2)) != 0) i = (i + 1) & hmask;
  store<u32>(htab + (<usize>i << 2), o);
}

@inline export function indexRemove(o: u32): void {
  let i = hashKey(load<u64>(oAddr(o), O_ID)) & hmask;
  while (load<u32>(htab + (<usize>i << 2)) != o) i = (i + 1) & hmask;
  tabShiftOut(htab, i, false);
}
