/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of journal records and
 * snapshots.
 *
 * Layout: eight 256-entry tables (slice-by-8), built once at module load (8 KiB).
 * Invariants: crc32c(bytes "123456789") = 0xE3069283 (the standard check value, tested).
 * Complexity: O(n), 8 bytes per step. Allocation: none per call (`crc32cBits` also returns no boxed number).
 * Known limitations: pure JavaScript (~1 GB/s); no hardware CRC instruction from Node.
 */
const T = new Uint32Array(8 * 256);
for (let i = 0; i < 256; i++) {
  let c = i;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
  T[i] = c >>> 0;
}
for (let i = 0; i < 256; i++) {
  for (let t = 1; t < 8; t++) T[t * 256 + i] = (T[(t - 1) * 256 + i]! >>> 8) ^ T[T[(t - 1) * 256 + i]! & 0xff]!;
}

/** CRC-32C of b[from, to), continuing from `crc` (0 for a fresh checksum). */
export function crc32c(b: Uint8Array, from = 0, to = b.length, crc = 0): number {
  return crc32cBits(b, from, to, crc) >>> 0;
}

/**
 * As crc32c, the same 32 bits as a signed int32 (`crc32c(...) | 0`): a small integer, never a
 * boxed number, so a hot caller that stores it with setUint32 allocates nothing.
 */
export function crc32cBits(b: Uint8Array, from = 0, to = b.length, crc = 0): number {
  let c = ~crc >>> 0;
  let i = from;
  const end8 = to - ((to - from) & 7);
  while (i < end8) {
    const lo = (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) ^ c;
    c = T[1792 + (lo & 0xff)]! ^ T[1536 + ((lo >>> 8) & 0xff)]! ^ T[1280 + ((lo >>> 16) & 0xff)]! ^ T[1024 + (lo >>> 24)]! ^
      T[768 + b[i + 4]!]! ^ T[512 + b[i + 5]!]! ^ T[256 + b[i + 6]!]! ^ T[b[i + 7]!]!;
    i += 8;
  }
  while (i < to) c = T[(c ^ b[i++]!) & 0xff]! ^ (c >>> 8);
  return ~c | 0;
}
