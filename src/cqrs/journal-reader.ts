/**
 * Reads journal records as batches while the engine thread may be appending to the newest
 * segment (the read side never runs recovery and never writes).
 *
 * Owns: `readBatches`, decoded records from `readRecords` (src/journal/recovery.ts: each segment
 * checked in one call of the verification kernel; `openEnd` without `to`).
 * Invariants: yields seq from..to in order, contiguous; stops before `to + 1` without looking at
 * it (that record may be half written); without `to`, stops at the first record of the newest
 * segment that is not (yet) complete — a write in progress, not damage. A bad record in a sealed
 * segment, or one at or below `to`, is ERR_JOURNAL_CORRUPT.
 * Complexity: O(bytes of the segments read); segments entirely below `from` are skipped.
 * Allocation: one buffer per segment read, one batch per record.
 * Known limitations: reads whole segments (≤ segmentBytes each).
 */
import { TradsysError } from '../domain/errors.js';
import { readRecords } from '../journal/recovery.js';
import { decodeRecord, type SeqBatch } from './events.js';

/** Batches with from ≤ seq ≤ to (to: the last durable seq; omitted: whatever is complete now). */
export function* readBatches(dir: string, from = 1n, to?: bigint): Generator<SeqBatch> {
  if (to !== undefined && to < from) return;
  let next = from; // the next seq to yield
  for (const r of readRecords(dir, from, to, false, to === undefined)) {
    yield decodeRecord(r);
    next = r.seq + 1n;
  }
  if (to !== undefined && next <= to) {
    throw new TradsysError('ERR_JOURNAL_CORRUPT', `journal ${dir} ends before seq ${next}, but records through seq ${to} were expected to be durable`);
  }
}
