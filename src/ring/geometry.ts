/** Shared checks for ring geometry (src/ring/*.ts): a power-of-two slot count and 8-byte slots. */
export function checkRingGeometry(capacity: number, slotBytes: number): void {
  if (!Number.isInteger(capacity) || capacity < 2 || (capacity & (capacity - 1)) !== 0 || capacity > 1 << 24) {
    throw new RangeError(`ring capacity must be a power of two in [2, 2^24], got ${capacity}`);
  }
  if (!Number.isInteger(slotBytes) || slotBytes < 8 || slotBytes % 8 !== 0) throw new RangeError(`slotBytes must be a positive multiple of 8, got ${slotBytes}`);
}
