/**
 * The hash functions and the shared probing of the two open-addressing indexes
 * (book/id-index.ts: orders by id; book/level-index.ts: levels by (symbol, side, price)).
 *
 * Owns: the secret hash key, the table mask (both tables have the same power-of-two size),
 * both hash functions and backward-shift deletion.
 *
 * Layout: a table is `hmask + 1` slots of 8 bytes: `0 node u32` (0: empty) · `4 tag u32`, the
 * entry's 32-bit hash (hashKey / levelHash), so that its home slot is `tag & hmask`. An entry
 * lives at or after (cyclically) its home slot, with no empty slot in between. Probes compare
 * tags and read a node only when the tag matches, and deletion moves entries by their tags
 * alone: a probe touches the table's cache lines, not the nodes of the entries it passes.
 * Invariants: no tombstones: after a removal every entry is still reachable from its home
 * slot by linear probing; the table size is a power of two ≥ 2·capacity, so at most half full;
 * a slot's tag is the hash of the key of the node it holds.
 * Complexity: hash O(1); shift-out O(run length), O(1) expected.
 * Allocation: none.
 * Known limitations: the key `hashSeed` comes from the host's seed; it only spreads entries
 * (events, books and the state hash never depend on it).
 */

/** Secret hash key, from the host's seed (not part of the logical state). */
let hashSeed: u64 = 0;
export let hmask: u32 = 0;

@inline export function hashInit(mask: u32, seed: u64): void { hmask = mask; hashSeed = seed; }

/**
 * Order index hash, keyed by the id alone (ids are engine-wide): 16 consecutive ids share one
 * 64-byte run of slots (ids are usually sequential, so recent orders stay in cache); the blocks
 * themselves are scattered by a full 64-bit mix, which keeps runs of occupied slots short for
 * any id pattern.
 */
@inline export function hashKey(id: u64): u32 {
  let h = ((id >> 4) * 0x9E3779B97F4A7C15) + hashSeed;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccd;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53;
  h ^= h >> 29;
  return (<u32>h << 4) | (<u32>id & 15);
}

/** Level index hash: 8 adjacent prices of a book side share a run of slots (same idea as hashKey). */
@inline export function levelHash(sym: u32, side: u32, price: i64): u32 {
  let h = ((<u64>price >> 3) ^ ((<u64>(sym << 1 | side) + 1) * 0xC2B2AE3D27D4EB4F)) + hashSeed;
  h ^= h >> 31;
  h *= 0x94D049BB133111EB;
  h ^= h >> 29;
  h *= 0xff51afd7ed558ccd;
  h ^= h >> 32;
  return (<u32>h << 3) | (<u32>price & 7);
}

/** Bytes per table slot (node u32, tag u32). */
@inline export const SLOT_BYTES: u32 = 8;

@inline export function slotAddr(tab: usize, i: u32): usize { return tab + (<usize>i << 3); }

/** Empties slot `i` of a linear-probing table by backward shifting (no tombstones); tags only. */
export function tabShiftOut(tab: usize, i: u32): void {
  let j = i;
  while (true) {
    j = (j + 1) & hmask;
    const e = load<u64>(slotAddr(tab, j));
    if (<u32>e == 0) break;
    const k = <u32>(e >> 32) & hmask;
    // move e back to i unless its home k lies cyclically in (i, j]
    const inRange = i <= j ? (k > i && k <= j) : (k > i || k <= j);
    if (!inRange) {
      store<u64>(slotAddr(tab, i), e);
      i = j;
    }
  }
  store<u64>(slotAddr(tab, i), 0);
}
