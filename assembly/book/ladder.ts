/**
 * The ladder: a dense tick-indexed window near the touch, one per book side: a bitmap that finds
 * the nearest level to a price in O(1) with count-leading/trailing-zeros, and beside it the level
 * node of every tick, so that a price in the window finds its level with one load.
 *
 * Owns: the ladders region (nSym × 2 × `ldStride` bytes), the window width and its bit
 * operations.
 *
 * Layout (LADDER, `ldStride` bytes per book side, at ladders + (sym·2 + side)·ldStride; W =
 * `ldWidth` ticks, a power of two in [64, 4096] chosen at init from the symbol count):
 * ```
 * 0          base    i64          price of bit 0
 * 8          summary u64          bit w: words[w] ≠ 0
 * 16         words   u64 × W/64   bit i: a level rests at base + i
 * 16 + W/8   slots   u32 × W      slot i: the LEVEL node at base + i, or 0
 * ```
 * Width: 4096 ticks up to 512 symbols, then halved as the symbol count doubles (2^21 ticks per
 * side over all symbols), never below 64: at most 280 bytes per side at 2^20 symbols, 16.5 KiB
 * per side up to 512 symbols.
 * Invariants: summary bit w set ⇔ words[w] ≠ 0; a bit is set ⇔ its slot holds a level of that
 * side at that price with L_LADDER = 1; slots outside set bits are 0; the window re-anchors
 * (book/link.ts) only while the ladder is empty.
 * Complexity: set/clear/slot/below/above O(1).
 * Allocation: none (reserved by engineInit).
 * Known limitations: a window of W ticks; levels outside it go to the treap (book/treap.ts) and
 * the level index (book/level-index.ts).
 */

@inline export const LD_MAX_WIDTH: i32 = 4096; // 64 words: one summary word covers them
@inline export const LD_MIN_WIDTH: i32 = 64;
@inline const LD_TICK_BUDGET: u64 = 1 << 21; // ticks per side over all symbols
@inline export const LD_BASE: u32 = 0;
@inline export const LD_SUM: u32 = 8;
@inline export const LD_WORDS: u32 = 16;

export let ladders: usize = 0;
/** Ticks covered by a ladder window (a power of two, 64..4096). */
export let ldWidth: i32 = LD_MAX_WIDTH;
/** Bytes per book side's ladder. */
export let ldStride: usize = 0;
/** Offset of the slots in a ladder. */
let ldSlotOff: usize = 0;

/** The window width for a symbol count. */
export function ldWidthFor(symbols: u32): i32 {
  let w = LD_MAX_WIDTH;
  while (w > LD_MIN_WIDTH && <u64>symbols * <u64>w > LD_TICK_BUDGET) w >>= 1;
  return w;
}

/** Bytes of one side's ladder for a window width (a multiple of 64). */
export function ldBytes(width: i32): usize {
  return (<usize>LD_WORDS + (<usize>width >> 3) + (<usize>width << 2) + 63) & ~(<usize>63);
}

@inline export function ladderInit(region: usize, width: i32): void {
  ladders = region; ldWidth = width; ldStride = ldBytes(width); ldSlotOff = <usize>LD_WORDS + (<usize>width >> 3);
}

@inline export function ldAddr(sym: u32, side: u32): usize { return ladders + <usize>((sym << 1) | side) * ldStride; }

/** Address of the slot (LEVEL node u32) of position `pos`. */
@inline export function ldSlot(ld: usize, pos: i32): usize { return ld + ldSlotOff + (<usize>pos << 2); }

/** Position of `price` in the ladder window, or -1 outside it. */
@inline export function ldPos(ld: usize, price: i64): i32 {
  const base = load<i64>(ld, LD_BASE);
  return price >= base && <u64>(price - base) < <u64>ldWidth ? <i32>(price - base) : -1;
}

/** Sets the bit of `pos` and its slot to level `lv`. */
@inline export function ldSet(ld: usize, pos: i32, lv: u32): void {
  const w = <usize>(pos >> 6);
  const wa = ld + LD_WORDS + (w << 3);
  store<u64>(wa, load<u64>(wa) | (<u64>1 << <u64>(pos & 63)));
  store<u64>(ld, load<u64>(ld, LD_SUM) | (<u64>1 << <u64>w), LD_SUM);
  store<u32>(ldSlot(ld, pos), lv);
}

/** Clears the bit and the slot of `pos`. */
@inline export function ldClear(ld: usize, pos: i32): void {
  const w = <usize>(pos >> 6);
  const wa = ld + LD_WORDS + (w << 3);
  const v = load<u64>(wa) & ~(<u64>1 << <u64>(pos & 63));
  store<u64>(wa, v);
  if (v == 0) store<u64>(ld, load<u64>(ld, LD_SUM) & ~(<u64>1 << <u64>w), LD_SUM);
  store<u32>(ldSlot(ld, pos), 0);
}

/** Highest set position < pos (pos in [0, ldWidth]), or -1. */
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

/** Lowest set position > pos (pos in [-1, ldWidth - 1]), or -1. */
export function ldAbove(ld: usize, pos: i32): i32 {
  const q = pos + 1;
  if (q >= ldWidth) return -1;
  let w = q >> 6;
  const m = load<u64>(ld + LD_WORDS + (<usize>w << 3)) & (<u64>-1 << <u64>(q & 63));
  if (m != 0) return (w << 6) + <i32>ctz(m);
  if (w >= 63) return -1;
  const sm = load<u64>(ld, LD_SUM) & (<u64>-1 << <u64>(w + 1));
  if (sm == 0) return -1;
  w = <i32>ctz(sm);
  return (w << 6) + <i32>ctz(load<u64>(ld + LD_WORDS + (<usize>w << 3)));
}
