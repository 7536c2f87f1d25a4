/**
 * The treap of the levels that lie outside their side's ladder window (book/ladder.ts), keyed
 * by price, one per book side.
 *
 * Owns: the treap links of LEVEL nodes (left, right, parent, prio) and the priority sequence.
 *
 * Layout: the root of side s is the u32 at BOOK + B_ROOT + 4·s; LEVEL node 36 left · 40 right ·
 * 44 prio · 60 parent (book/nodes.ts); 0 is NIL.
 * Invariants: in-order = ascending price; a parent's prio ≥ its children's; parent links
 * agree with child links; a level is in the treap iff its L_LADDER is 0.
 * Complexity: insert/remove/find O(log L) expected (L: levels in the treap); iterative (parent
 * links, rotations): no recursion, so no input can exhaust the WASM stack.
 * Allocation: none (nodes come from the level pool).
 * Known limitations: priorities come from the host's seed; the treap's shape never affects
 * events, books or the state hash.
 */
import { lAddr, L_PRICE, L_LEFT, L_RIGHT, L_PRIO, L_PARENT, B_ROOT } from './nodes';

let prioState: u32 = 1;

@inline export function treapSeed(seed: u32): void { prioState = seed; }

/**
 * Treap priority of a new level: the next value of a xorshift sequence seeded at init by the
 * host. Priorities never depend on prices, so no choice of prices can make the treap degenerate.
 */
@inline function nextPrio(): u32 {
  let x = prioState;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  prioState = x;
  return x;
}

// `rootAt` is the address of the side's root slot in its book.

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
export function tInsert(rootAt: usize, n: u32, price: i64): void {
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
export function tRemove(rootAt: usize, x: u32): void {
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
