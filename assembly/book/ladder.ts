/**
 * The ladder: a tick-indexed bitmap near the touch, one per book side, that finds the nearest
 * level to a price in O(1) with count-leading/trailing-zeros.
 *
 * Owns: the ladders region (nSym × 2 × 144 B) and its bit operations.
 *
 * Layout (LADDER, 144 B per book side, at ladders + (sym·2 + side)·144):
 * ```
 * 0  base    i64        price of bit 0
 * 8  summary u64        bit w: words[w] ≠ 0
 * 16 words   u64 × 16   bit i: a level rests at base + i  (1024 ticks)
 * ```
 * Invariants: summary bit w set ⇔ words[w] ≠ 0; a bit is set ⇔ a level of that side rests at
 * that price with L_LADDER = 1; the window re-anchors (book/link.ts) only while the ladder is empty.
 * Complexity: set/clear/below/above O(1).
 * Allocation: none (reserved by engineInit).
 * Known limitations: a 1024-tick window; levels outside it go to the treap (book/treap.ts).
 */

@inline export const LD_SIZE: u32 = 144;
@inline export const LD_WIDTH: i32 = 1024; // ticks covered by a ladder window
@inline export const LD_BASE: u32 = 0;
@inline export const LD_SUM: u32 = 8;
@inline const LD_WORDS: u32 = 16;

export let ladders: usize = 0;

@inline export function ladderInit(region: usize): void { ladders = region; }

@inline export function ldAddr(sym: u32, side: u32): usize { return ladders + <usize>((sym << 1) | side) * LD_SIZE; }

/** Position of `price` in the ladder window, or -1 outside it. */
@inline export function ldPos(ld: usize, price: i64): i32 {
  const base = load<i64>(ld, LD_BASE);
  return price >= base && <u64>(price - base) < <u64>LD_WIDTH ? <i32>(price - base) : -1;
}

@inline export function ldSet(ld: usize, pos: i32): void {
  const w = <usize>(pos >> 6);
  const wa = ld + LD_WORDS + (w << 3);
  store<u64>(wa, load<u64>(wa) | (<u64>1 << <u64>(pos & 63)));
  store<u64>(ld, load<u64>(ld, LD_SUM) | (<u64>1 << <u64>w), LD_SUM);
}

@inline export function ldClear(ld: usize, pos: i32): void {
  const w = <usize>(pos >> 6);
  const wa = ld + LD_WORDS + (w << 3);
  const v = load<u64>(wa) & ~(<u64>1 << <u64>(pos & 63));
  store<u64>(wa, v);
  if (v == 0) store<u64>(ld, load<u64>(ld, LD_SUM) & ~(<u64>1 << <u64>w), LD_SUM);
}

/** Highest set position < pos (pos in [0, LD_WIDTH]), or -1. */
export function ldBelow(ld: usize, pos: i32): i32 {
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
export function ldAbove(ld: usize, pos: i32): i32 {
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
