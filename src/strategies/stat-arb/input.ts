/**
 * Argument checks shared by the stat-arb building blocks and the market-maker model: each failure
 * is a TradsysError `ERR_STRATEGY_INPUT` naming the value.
 *
 * Layout: plain functions. Invariants: none kept. Complexity: O(1), `finiteArray` O(n).
 * Allocation: an error object on failure only. Known limitations: none.
 */
import { TradsysError } from '../../domain/errors.js';

export function bad(msg: string): never {
  throw new TradsysError('ERR_STRATEGY_INPUT', msg);
}

/** `v` is a finite number within [lo, hi] (bounds inclusive unless `open`). */
export function inRange(what: string, v: number, lo: number, hi: number, open = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || (open ? !(v > lo && v < hi) : !(v >= lo && v <= hi))) {
    bad(`${what} must be a finite number in ${open ? '(' : '['}${lo}, ${hi}${open ? ')' : ']'}, got ${String(v)}`);
  }
  return v;
}

export function positive(what: string, v: number): number {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) bad(`${what} must be a finite number > 0, got ${String(v)}`);
  return v;
}

export function finiteArray(what: string, xs: ArrayLike<number>): void {
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i]!)) bad(`${what}: value ${i} (${String(xs[i])}) is not finite`);
}
