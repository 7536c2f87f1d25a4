/**
 * The shared support of the streaming statistics objects (stats/stream.ts): argument checks,
 * the scratch areas batches are staged in, the non-finite check of a batch, and block
 * allocation in the stats arena with its reaper.
 *
 * Layout: three Scratch areas in the stats instance's memory (x values, y values, the finite
 * check), grown on demand. Invariants: a batch is checked whole before anything of it is applied.
 * Complexity: O(batch) per check or copy. Allocation: scratch growth only (amortised).
 * Known limitations: one stats instance per thread (the scratch areas are module state).
 */
import { blockReaper, Scratch, stats } from './wasm.js';

export type Ddof = 0 | 1;

export function finite(x: number, what: string): void {
  if (!Number.isFinite(x)) throw new RangeError(`${what}: ${x} is not a finite number`);
}
export function checkWindow(window: number): void {
  if (!Number.isInteger(window) || window < 1 || window > 1 << 24) throw new RangeError(`window must be an integer in [1, 16777216], got ${window}`);
}
export function checkDdof(ddof: number): void {
  if (ddof !== 0 && ddof !== 1) throw new RangeError(`ddof must be 0 or 1, got ${ddof}`);
}

export const scratch = new Scratch();
export const scratchY = new Scratch();
/** Values per RunningStats.pushMany chunk: 32 KiB, so both passes of the kernel read from L1. */
export const CHUNK = 4096;

const checkScratch = new Scratch();

/**
 * Refuses a batch with a non-finite value, naming it as the per-value path does (nothing
 * applied). A Float64Array is checked in WASM (chunks copied into scratch, SIMD Σ(x − x)), an
 * array in JS; the first bad value is then found in JS for the message.
 */
export function allFinite(xs: Float64Array | readonly number[], what: string): void {
  const n = xs.length;
  let ok = true;
  if (xs instanceof Float64Array && n >= 64) {
    const s = stats();
    const p = checkScratch.ensure(Math.min(n, CHUNK) * 8);
    for (let off = 0; off < n && ok; off += CHUNK) {
      const m = Math.min(CHUNK, n - off);
      s.f64().set(xs.subarray(off, off + m), p >>> 3);
      ok = s.ex.statsAllFinite(p, m) === 1;
    }
  } else {
    for (let i = 0; i < n; i++) { const x = xs[i]!; if (x - x !== 0) { ok = false; break; } }
  }
  if (ok) return;
  for (let i = 0; i < n; i++) {
    const x = xs[i]!;
    if (x - x !== 0) throw new RangeError(`${what}: ${x} is not a finite number (value ${i}); nothing from the batch was applied`);
  }
}

/** Copies xs[from, to) into WASM memory at byte address p (8-aligned). */
export function putRange(p: number, xs: Float64Array | readonly number[], from: number, to: number): void {
  const f = stats().f64();
  if (xs instanceof Float64Array) f.set(xs.subarray(from, to), p >>> 3);
  else for (let i = from; i < to; i++) f[(p >>> 3) + i - from] = xs[i]!;
}

/**
 * Checks a batch and stages its last `k` values (from index xs.length − k) in scratch; returns
 * the scratch address.
 */
export function stageTail(sc: Scratch, xs: Float64Array | readonly number[], k: number, what: string): number {
  allFinite(xs, what);
  const p = sc.ensure(Math.max(8, k * 8));
  putRange(p, xs, xs.length - k, xs.length);
  return p;
}

/** Whether xs[from, to) holds a run of at least `w` equal consecutive values (a constant window). */
export function constantRun(xs: Float64Array | readonly number[], from: number, to: number, w: number): boolean {
  let run = 1;
  for (let i = from + 1; i < to; i++) {
    run = xs[i] === xs[i - 1] ? run + 1 : 1;
    if (run >= w) return true;
  }
  return w <= 1 && to > from;
}

/** Allocates a block for `owner`, initialises it, and returns it to the arena when owner is collected. */
export function block(owner: object, bytes: number, init: (p: number) => void): number {
  const p = stats().alloc(bytes);
  init(p);
  blockReaper.register(owner, [p, bytes]);
  return p;
}

