/**
 * Reads journal records as batches while the engine thread may be appending to the newest
 * segment (the read side never runs recovery and never writes).
 *
 * Owns: `readBatches`. Layout: src/journal/format.ts (checkRecord / readRecord); each segment is
 * checked in one call of the verification kernel (src/journal/verify.ts), records past what it
 * accepted one by one.
 * Invariants: yields seq from..to in order, contiguous; stops before `to + 1` without looking at
 * it (that record may be half written); without `to`, stops at the first record of the newest
 * segment that is not (yet) complete — a write in progress, not damage. A bad record in a sealed
 * segment, or one at or below `to`, is ERR_JOURNAL_CORRUPT.
 * Complexity: O(bytes of the segments read); segments entirely below `from` are skipped.
 * Allocation: one buffer per segment read, one batch per record.
 * Known limitations: reads whole segments (≤ segmentBytes each).
 */
import * as fs from 'node:fs';
import { TradsysError } from '../domain/errors.js';
import { SEG_HEADER, R_LEN, checkRecord, readRecord } from '../journal/format.js';
import { verifyRecords } from '../journal/verify.js';
import { listSegments } from '../journal/recovery.js';
import { decodeRecord, type SeqBatch } from './events.js';

/** Batches with from ≤ seq ≤ to (to: the last durable seq; omitted: whatever is complete now). */
export function* readBatches(dir: string, from = 1n, to?: bigint): Generator<SeqBatch> {
  if (to !== undefined && to < from) return;
  const segs = listSegments(dir);
  let next = from; // the next seq to yield
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    const newest = i === segs.length - 1;
    const nextFirst = segs[i + 1]?.firstSeq;
    if (nextFirst !== undefined && nextFirst <= from) continue;
    if (to !== undefined && s.firstSeq > to) break;
    const b = fs.readFileSync(s.path);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const checkedTo = verifyRecords(b, SEG_HEADER, s.firstSeq).end; // the whole segment in one kernel call
    let p = SEG_HEADER;
    let seq = s.firstSeq;
    while (p < b.length) {
      if (to !== undefined && seq > to) break;
      let len: number;
      if (p < checkedTo) {
        len = dv.getUint32(p + R_LEN, true);
      } else {
        const r = checkRecord(b, dv, p, b.length, seq);
        if (r.check !== 'ok') {
          if (newest && to === undefined) return; // an append in progress
          throw new TradsysError('ERR_JOURNAL_CORRUPT', `journal ${s.path} at byte ${p}: record seq ${seq} is ${r.check} (reading for projections)`);
        }
        len = r.len;
      }
      if (seq >= from) { yield decodeRecord(readRecord(b, dv, p)); next = seq + 1n; }
      p += len;
      seq++;
    }
  }
  if (to !== undefined && next <= to) {
    throw new TradsysError('ERR_JOURNAL_CORRUPT', `journal ${dir} ends before seq ${next}, but records through seq ${to} were expected to be durable`);
  }
}
