/**
 * Slots of the storage writer's stats block: a SharedArrayBuffer of Float64 counters written by the
 * writer thread and read by the gateway (/metrics, /health) without a message round trip.
 * Invariants: only the writer thread writes; the last Int32 after the doubles counts updates.
 */
export const STAT = {
  eventsIn: 0, rowsWritten: 1, batchesWritten: 2, errors: 3, queueBatches: 4, queueRows: 5, queueBytes: 6, spilledBytes: 7,
  spilledBatches: 8, lastSeqIn: 9, checkpoint: 10, lagSeconds: 11, generation: 12, up: 13, skippedRows: 14, retries: 15, rowsPerSecond: 16,
  /** The writer thread's event-loop delay p99 over the last second (µs, perf_hooks) and its V8 heap in use (bytes): src/monitoring/memory.ts. */
  loopDelayP99Us: 17, heapUsed: 18,
  count: 19,
} as const;
