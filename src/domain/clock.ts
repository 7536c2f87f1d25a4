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
 * Complexity: O(1). Allocation: one BigInt per call (callers stamp once per batch or per command).
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

/** Epoch ns − hrtime ns for this process (or the value a parent thread handed over). */
export function epochOffsetNs(): bigint { return offset; }

/** Adopts another thread's offset (the engine thread takes the host's, so both stamp on one base). */
export function setEpochOffsetNs(ns: bigint): void { offset = ns; }

/** Now, in Unix-epoch nanoseconds (allocates one BigInt). */
export function nowNs(): bigint { return process.hrtime.bigint() + offset; }
