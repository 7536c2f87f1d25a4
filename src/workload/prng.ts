/**
 * mulberry32: the project's small, fast, deterministic PRNG (workloads, benchmarks' resampling).
 *
 * Layout: one u32 of state in a closure. Invariants: the same seed gives the same stream on every
 * platform (32-bit integer arithmetic only). Complexity: O(1) per value. Allocation: the closure,
 * once. Known limitations: 2^32 period; not for anything that needs cryptographic randomness.
 */

/** A generator of uniform numbers in [0, 1) from `seed` (taken as u32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
