/**
 * Clock reads into a caller's BigInt64Array without creating a JS object per read (Node 20's
 * `performance.now()` returns a heap number, 16 B, and `process.hrtime.bigint()` a BigInt, 40 B;
 * docs/performance.md): the native addon's `sysClockInto` (clock_gettime) when loaded, else
 * `process.hrtime.bigint()` and `Date.now()` (which allocate).
 *
 * Layout: out[i] = CLOCK_MONOTONIC ns (the clock of process.hrtime), out[i + 1] = CLOCK_REALTIME ns.
 * Invariants: out[i] never decreases between calls in one process; both clocks are read in one call.
 * Complexity: O(1). Allocation: none on the addon path; the fallback allocates two BigInts.
 * Known limitations: the fallback's realtime clock has millisecond resolution (Date.now()).
 */
import { nativeAddon, nativeHas } from './native.js';

type ClockInto = (out: BigInt64Array, i: number) => void;

function fallback(out: BigInt64Array, i: number): void {
  if (i < 0 || i + 2 > out.length) throw new RangeError('clockInto: index + 2 past the array\'s end');
  out[i] = process.hrtime.bigint();
  out[i + 1] = BigInt(Date.now()) * 1_000_000n;
}

/** The clock read in use: the addon's when loaded (`native: false` forces the fallback). */
export function clockInto(opts: { native?: boolean } = {}): { read: ClockInto; path: 'clock_gettime (addon)' | 'hrtime + Date.now (fallback)' } {
  if (opts.native !== false && nativeHas('sys')) {
    const a = nativeAddon() as unknown as { sysClockInto: ClockInto };
    return { read: a.sysClockInto, path: 'clock_gettime (addon)' };
  }
  return { read: fallback, path: 'hrtime + Date.now (fallback)' };
}
