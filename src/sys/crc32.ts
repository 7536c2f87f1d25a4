/**
 * CRC-32 (IEEE, reflected polynomial 0xEDB88320): the checksum of engine snapshots and of the
 * book checksum that the gateway, the market-data projection and the client compare.
 * (Moved from src/engine/engine.ts so that client/ and marketdata/ need not import engine/.)
 *
 * Layout: one 256-entry table, built on first use (1 KiB). Invariants: crc32("123456789") =
 * 0xCBF43926. Complexity: O(n), a byte per step. Allocation: the table, once.
 * Known limitations: pure JavaScript, no platform imports (browser-safe).
 */
let crcTable: Uint32Array | null = null;
/** CRC-32 (IEEE) of the first `n` bytes of `b` (all of them by default). */
export function crc32(b: Uint8Array, n = b.length): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[i] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < n; i++) c = crcTable[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
