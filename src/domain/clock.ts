/**
 * The platform's one clock for stamps: Unix-epoch nanoseconds with the monotonic clock's
 * resolution, i.e. `process.hrtime.bigint()` plus one offset measured once per process.
 *
 * Owns: the offset. The engine host measures it and hands it to the engine thread (workerData), so
 * tsIn (stamped by the gateway and host on the main thread) and tsInit (stamped by the engine
 * thread per batch) share one base and `tsInit − tsIn` is an exact interval.
 * Layout: offset = epoch ns at measurement − hrtime at measurement (bigint).
 * Invariants: `nowNs()` never goes backwards within a process (hrtime is monotonic); every stamp that
 * leaves the process (journal records, ClickHouse `ts`, fills `ts`, trades `ts`) is epoch ns.
 * `nowNsInto` gives the same clock as two u32 words without a BigInt: `performance.now()` (the
 * same monotonic clock, in ms) plus a base calibrated against `process.hrtime.bigint()` once per
 * thread (the closest of 16 bracketed samples; off by at most the bracket, tens of ns).
 * Complexity: O(1). Allocation: `nowNs` one BigInt per call (callers stamp once per batch or per
 * command); `nowNsInto` none but the 16-byte number `performance.now()` returns.
 * Known limitations: the offset is as good as the wall clock at start (`performance.timeOrigin`,
 * µs resolution); a wall-clock step after start is not followed (stamps stay monotonic instead).
 * Journals written before stamps were epoch-based carry monotonic-clock tsInit values.
 */

function measure(): bigint {
  const h = process.hrtime.bigint();
  const wallNs = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1e3)) * 1000n;
  return wallNs - h;
}

let offset = measure();

const TWO32 = 4294967296;
/** hrtime ns at performance.now() = 0, plus `offset`: epoch ns = base + performance.now() × 1e6, as (lo, hi) u32 words. */
const base = new Float64Array(2);

/** hrtime ns at performance.now() = 0 (this thread's time origin), from the narrowest of 16 bracketed samples. */
function perfOriginHr(): bigint {
  let best = -1n;
  let at = 0n;
  for (let i = 0; i < 16; i++) {
    const h0 = process.hrtime.bigint();
    const p = performance.now();
    const h1 = process.hrtime.bigint();
    if (best < 0n || h1 - h0 < best) { best = h1 - h0; at = (h0 + h1) / 2n - BigInt(Math.round(p * 1e6)); }
  }
  return at;
}
const perfOrigin = perfOriginHr();

function setBase(): void {
  const b = perfOrigin + offset;
  base[0] = Number(b & 0xffffffffn);
  base[1] = Number(b >> 32n);
}
setBase();

/** Epoch ns − hrtime ns for this process (or the value a parent thread handed over). */
export function epochOffsetNs(): bigint { return offset; }

/** Adopts another thread's offset (the engine thread takes the host's, so both stamp on one base). */
export function setEpochOffsetNs(ns: bigint): void { offset = ns; setBase(); }

/** Now, in Unix-epoch nanoseconds, written as u32 words `out[at]` (low) and `out[at + 1]` (high): no BigInt. */
export function nowNsInto(out: Uint32Array, at: number): void {
  // perfNsInto's arithmetic, repeated: the reading never crosses a call as a (boxed) double
  const p = Math.round(performance.now() * 1e6);
  const pHi = Math.floor(p / TWO32);
  let lo = base[0]! + (p - pHi * TWO32);
  let hi = base[1]! + pHi;
  if (lo >= TWO32) { lo -= TWO32; hi += 1; }
  out[at] = lo;
  out[at + 1] = hi;
}

/** As nowNsInto, for a `performance.now()` reading the caller already took (one clock read serves two uses). */
export function perfNsInto(out: Uint32Array, at: number, perfMs: number): void {
  const p = Math.round(perfMs * 1e6);
  const pHi = Math.floor(p / TWO32);
  let lo = base[0]! + (p - pHi * TWO32);
  let hi = base[1]! + pHi;
  if (lo >= TWO32) { lo -= TWO32; hi += 1; }
  out[at] = lo;
  out[at + 1] = hi;
}

/** Now, in Unix-epoch nanoseconds (allocates one BigInt). */
export function nowNs(): bigint { return process.hrtime.bigint() + offset; }
