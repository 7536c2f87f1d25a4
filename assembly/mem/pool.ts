/**
 * Fixed-size node pools (slab + free list) in linear memory.
 *
 * Owns: node storage for orders and price levels. Node index 0 is NIL and never handed out;
 * node i lives at `base + i * size`.
 *
 * Layout (pool header, 32 B, in linear memory):
 * ┌──────┬──────┬──────┬──────┬──────────┬─────────┬───────┬──────┐
 * │ base │ size │ cap  │ bump │ freeHead │ freeLen │ inUse │ high │ zero │  all u32
 * 0      4      8      12     16         20        24      28     32     36 (header 48)
 * A free node's first u32 holds the next free index (LIFO free list). Nodes above `bump` have
 * never been handed out: the free space is implicit (no list to build), and since the storage
 * starts zeroed they are zero, so a fresh pool costs one header whatever its capacity.
 *
 * Invariants: inUse = bump - freeLen; high = max inUse ever; 0 < index ≤ cap; every free-list
 * index ≤ bump; nodes bump+1..cap are all zero bytes (`poolCheck` verifies all of them).
 * Complexity: init/alloc/free O(1); poolCheck O(cap). Allocation: none (storage reserved at init).
 * Known limitations: capacity fixed at init; alloc returns 0 when full (callers reject).
 */

@inline const P_BASE: u32 = 0;
@inline const P_SIZE: u32 = 4;
@inline const P_CAP: u32 = 8;
@inline const P_BUMP: u32 = 12;
@inline const P_FREE: u32 = 16;
@inline const P_FREELEN: u32 = 20;
@inline const P_INUSE: u32 = 24;
@inline const P_HIGH: u32 = 28;
@inline const P_ZERO: u32 = 32;
@inline export const POOL_HEADER: u32 = 48;

/** `zero`: whether a reused node is zeroed (callers that set every field pass false). */
export function poolInit(p: usize, base: usize, size: u32, cap: u32, zero: bool): void {
  store<u32>(p, <u32>base, P_BASE);
  store<u32>(p, size, P_SIZE);
  store<u32>(p, cap, P_CAP);
  store<u32>(p, 0, P_BUMP);
  store<u32>(p, 0, P_FREE);
  store<u32>(p, 0, P_FREELEN);
  store<u32>(p, 0, P_INUSE);
  store<u32>(p, 0, P_HIGH);
  store<u32>(p, zero ? 1 : 0, P_ZERO);
}

/** Returns a node index (zeroed if the pool zeroes), or 0 when the pool is full. */
export function poolAlloc(p: usize): u32 {
  let idx = load<u32>(p, P_FREE);
  const size = load<u32>(p, P_SIZE);
  if (idx != 0) {
    const addr = <usize>load<u32>(p, P_BASE) + <usize>idx * size;
    store<u32>(p, load<u32>(addr), P_FREE);
    store<u32>(p, load<u32>(p, P_FREELEN) - 1, P_FREELEN);
    if (load<u32>(p, P_ZERO) != 0) memory.fill(addr, 0, size);
  } else {
    const bump = load<u32>(p, P_BUMP);
    if (bump >= load<u32>(p, P_CAP)) return 0;
    idx = bump + 1;
    store<u32>(p, idx, P_BUMP);
    // bump nodes are untouched since init (zeroed there)
  }
  const inUse = load<u32>(p, P_INUSE) + 1;
  store<u32>(p, inUse, P_INUSE);
  if (inUse > load<u32>(p, P_HIGH)) store<u32>(p, inUse, P_HIGH);
  return idx;
}

export function poolFree(p: usize, idx: u32): void {
  const addr = <usize>load<u32>(p, P_BASE) + <usize>idx * load<u32>(p, P_SIZE);
  store<u32>(addr, load<u32>(p, P_FREE));
  store<u32>(p, idx, P_FREE);
  store<u32>(p, load<u32>(p, P_FREELEN) + 1, P_FREELEN);
  store<u32>(p, load<u32>(p, P_INUSE) - 1, P_INUSE);
}

@inline export function poolCap(p: usize): u32 { return load<u32>(p, P_CAP); }
@inline export function poolInUse(p: usize): u32 { return load<u32>(p, P_INUSE); }
@inline export function poolHigh(p: usize): u32 { return load<u32>(p, P_HIGH); }
@inline export function poolFreeLen(p: usize): u32 { return load<u32>(p, P_FREELEN); }
@inline export function poolFull(p: usize): bool { return load<u32>(p, P_INUSE) >= load<u32>(p, P_CAP); }
@inline export function poolBump(p: usize): u32 { return load<u32>(p, P_BUMP); }

/**
 * Checks the pool's structure: counters, the free list (each index in [1, bump], exactly
 * freeLen of them, no cycle) and the never-used nodes above bump (all zero). Returns 0, or
 * 1 (counters) / 2 (free list) / 3 (a never-used node is not zero). O(cap): tests only.
 */
export function poolCheck(p: usize): i32 {
  const cap = load<u32>(p, P_CAP);
  const bump = load<u32>(p, P_BUMP);
  const freeLen = load<u32>(p, P_FREELEN);
  const inUse = load<u32>(p, P_INUSE);
  if (bump > cap || freeLen > bump || inUse != bump - freeLen || load<u32>(p, P_HIGH) < inUse || load<u32>(p, P_HIGH) > bump) return 1;
  const base = <usize>load<u32>(p, P_BASE);
  const size = load<u32>(p, P_SIZE);
  let idx = load<u32>(p, P_FREE);
  for (let k: u32 = 0; k < freeLen; k++) {
    if (idx == 0 || idx > bump) return 2;
    idx = load<u32>(base + <usize>idx * size);
  }
  if (idx != 0) return 2; // longer than freeLen, or a cycle
  let acc = i64x2.splat(0);
  const end = base + (<usize>cap + 1) * size;
  for (let a = base + (<usize>bump + 1) * size; a < end; a += 16) acc = v128.or(acc, v128.load(a));
  return v128.any_true(acc) ? 3 : 0;
}
