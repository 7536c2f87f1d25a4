/**
 * Journal recovery and reading: scans the segments, checks every record (length, CRC-32C,
 * contiguous seq, version), cuts a torn tail back to the last valid record, and refuses to start
 * on damage inside the durable region.
 *
 * Owns: the rules of docs/journal.md "Recovery". A bad record is a *torn tail* only when it is in
 * the newest segment, no valid record follows it anywhere, and the COMMIT mark does not say that
 * records at or after it were durable; anything else is corruption, reported with file and offset
 * (ERR_JOURNAL_CORRUPT) and never truncated.
 * Layout: src/journal/format.ts. Invariants: after `recover`, the newest segment ends exactly
 * at the last valid record. Complexity: O(journal bytes) (whole segments are read; each is at most
 * `segmentBytes`). Allocation: one buffer per segment read.
 * Known limitations: damage to the last records written after the newest COMMIT mark (at most
 * about one second of records) is indistinguishable from a torn write and is cut like one.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { TradsysError } from '../domain/errors.js';
import {
  COMMIT_SIZE, SEG_HEADER, SEG_MAGIC, REC_MAX, REC_VERSION, REC_V1_EVENTS, segmentHeaderOk, checkRecord, decodeCommitFile, readRecord, segmentName,
  type JournalRecord,
} from './format.js';
import { JREC_PROLOGUE, jrecLen, jrecSeq, jrecVersion } from '../abi/views.js';
import { SegmentWindow, verifyRecords } from './verify.js';

export interface SegmentInfo { path: string; firstSeq: bigint; size: number }

export interface RecoveryResult {
  /** Last valid record (0n for an empty journal). */
  lastSeq: bigint;
  segments: SegmentInfo[];
  /** The torn tail that was cut, if any. */
  cut: { file: string; offset: number; bytes: number } | null;
  /** The COMMIT mark's seq (0n when there is none). */
  committed: bigint;
}

const SEG_RE = /^(\d{20})\.seg$/;
/**
 * How far past the last record of the newest segment recovery checks for zeros before calling the
 * rest a preallocated tail. A torn batch lies within one batch's bytes of the end (far less), and
 * damage that zeroed more than this much is still caught by the COMMIT mark when it is older than
 * the mark interval.
 */
const ZERO_TAIL_SCAN = 64 << 20;

export function listSegments(dir: string): SegmentInfo[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => SEG_RE.test(f)).sort().map((f) => ({
    path: join(dir, f), firstSeq: BigInt(SEG_RE.exec(f)![1]!), size: fs.statSync(join(dir, f)).size,
  }));
}

function corrupt(file: string, offset: number, what: string): never {
  throw new TradsysError('ERR_JOURNAL_CORRUPT', `journal damaged in ${file} at byte ${offset}: ${what}. Acknowledged data may be affected, so start-up stops: restore the file from a replica/backup (or move the journal aside to start empty)`);
}

/** Whether any valid record with seq > `after` starts at an 8-aligned offset in [from, end). */
function validRecordFollows(b: Uint8Array, dv: DataView, from: number, end: number, after: bigint): boolean {
  for (let p = (from + 8) & ~7; p + JREC_PROLOGUE <= end; p += 8) {
    if (jrecLen(dv, p) === 0) continue; // (fast over a preallocated segment's zeros)
    const seq = jrecSeq(dv, p);
    if (seq <= after || seq > after + (1n << 40n)) continue;
    const len = jrecLen(dv, p);
    if (len < REC_V1_EVENTS || p + len > end) continue;
    if (checkRecord(b, dv, p, end, seq).check === 'ok') return true;
  }
  return false;
}

/**
 * A run of verified records, handed to `recover`'s `onRecords` as the scan reaches them (about a
 * MiB at a time, in seq order): records `firstSeq`, `firstSeq + 1`, … (`count` of them) lie back
 * to back in `bytes[from, to)`. `bytes` may be a view of the verifier's reusable region
 * (src/journal/verify.ts): use it before returning. Damage found later still stops the scan.
 */
export interface VerifiedRecords { path: string; bytes: Uint8Array; from: number; to: number; firstSeq: bigint; count: number }

export interface RecoverOptions {
  /** Cut a torn tail (default true); false only reports it. */
  repair?: boolean;
  log?: (msg: string) => void;
  /** Called with every run of valid records, in seq order, right after they were checked. */
  onRecords?: (r: VerifiedRecords) => void;
}

/**
 * Scans and repairs `dir`: returns the last valid seq; cuts a torn tail of the newest segment when
 * `repair` (logging the discarded bytes through `log`); throws ERR_JOURNAL_CORRUPT otherwise.
 * Each segment is read once, a window at a time (src/journal/verify.ts), and each window's
 * records are checked in one kernel call and handed to `onRecords` while still in the CPU cache.
 */
export function recover(dir: string, opts: RecoverOptions = {}): RecoveryResult {
  const repair = opts.repair ?? true;
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const segs = listSegments(dir);
  let committed = 0n;
  const commitPath = join(dir, 'COMMIT');
  if (fs.existsSync(commitPath)) {
    const c = decodeCommitFile(fs.readFileSync(commitPath));
    if (!c) corrupt(commitPath, 0, `neither slot holds a valid ${COMMIT_SIZE}-byte COMMIT mark`);
    committed = c.seq;
  }
  let expect = 1n;
  let cut: RecoveryResult['cut'] = null;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    const newest = i === segs.length - 1;
    if (s.firstSeq !== expect) corrupt(s.path, 0, `segment starts at seq ${s.firstSeq}, expected ${expect} (a segment is missing)`);
    const win = new SegmentWindow(s.path);
    try {
      const size = win.size;
      const h = win.readAt(0, Math.min(size, SEG_HEADER)); // (the first window is read from the first record on)
      const hv = new DataView(h.buffer, h.byteOffset, h.byteLength);
      if (h.length < SEG_HEADER || hv.getUint32(0, true) !== SEG_MAGIC) {
        if (newest && expect > committed && (size < SEG_HEADER || win.isZero(0, size))) {
          // a segment whose header never became durable: nothing in it was acknowledged
          if (repair) { fs.rmSync(s.path); log(`journal: removed ${s.path} (${size} bytes, header never completed)`); }
          segs.pop();
          break;
        }
        corrupt(s.path, 0, 'bad segment header');
      }
      if (!segmentHeaderOk(h, hv)) corrupt(s.path, 0, 'segment header damaged (CRC)');
      if (hv.getBigUint64(8, true) !== s.firstSeq) corrupt(s.path, 0, 'segment header does not match its name');
      let pos = SEG_HEADER; // file offset of the next record
      let need = 0;
      while (pos < size) {
        win.load(pos, need);
        const v = win.verify(expect);
        if (v.count > 0) opts.onRecords?.({ path: s.path, bytes: win.bytes, from: win.off, to: v.end, firstSeq: expect, count: v.count });
        const wholeRest = pos + win.avail >= size;
        pos += v.end - win.off;
        expect += BigInt(v.count);
        if (pos >= size) break;
        if (!wholeRest) {
          // the window may have cut the record at pos: load from it (all of it, if it is larger)
          if (v.count > 0) { need = 0; continue; }
          const len = jrecLen(new DataView(win.bytes.buffer, win.bytes.byteOffset + v.end), 0);
          if (len > win.avail && len <= REC_MAX && need < len) { need = len; continue; }
        }
        // zeros from pos on in the newest segment: the end of the records of a preallocated
        // segment (src/journal/preallocate.ts), not damage and nothing to cut
        // (only past the COMMIT mark: zeros where the mark says records were is damage, below)
        if (newest && expect > committed && win.isZero(pos, Math.min(size, pos + ZERO_TAIL_SCAN))) {
          log(`journal: ${s.path} ends at byte ${pos} (after seq ${expect - 1n}); ${size - pos} bytes of zeros follow (preallocated, or an append that never completed)`);
          break;
        }
        // the record at pos is not valid: look at the whole file to tell a torn tail from damage
        const b = win.readAll();
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        const p = pos;
        const r = checkRecord(b, dv, p, b.length, expect);
        if (r.check === 'ok') { // (the kernel and checkRecord agree, so never taken)
          opts.onRecords?.({ path: s.path, bytes: b, from: p, to: p + r.len, firstSeq: expect, count: 1 });
          pos += r.len;
          expect++;
          need = 0;
          continue;
        }
        if (r.check === 'bad_version') corrupt(s.path, p, `record seq ${expect} has unknown schema version ${jrecVersion(dv, p)} (newer than this build, ${REC_VERSION}?)`);
        if (!newest) corrupt(s.path, p, `record seq ${expect}: ${r.check} in a sealed segment`);
        if (expect <= committed) corrupt(s.path, p, `record seq ${expect}: ${r.check}, but the COMMIT mark says records through ${committed} were durable`);
        if (validRecordFollows(b, dv, p, b.length, expect - 1n)) corrupt(s.path, p, `record seq ${expect}: ${r.check}, and valid records follow it`);
        const bytes = b.length - p;
        cut = { file: s.path, offset: p, bytes };
        if (repair) {
          fs.truncateSync(s.path, p);
          const fd = fs.openSync(s.path, 'r+');
          try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
          log(`journal: cut a torn tail of ${bytes} bytes at ${s.path}:${p} (after seq ${expect - 1n})`);
        }
        break;
      }
      s.size = cut && cut.file === s.path ? cut.offset : pos < size ? pos : size;
    } finally {
      win.close();
    }
  }
  if (expect - 1n < committed) corrupt(commitPath, 0, `records through seq ${committed} were durable, but the journal ends at ${expect - 1n}`);
  return { lastSeq: expect - 1n, segments: segs, cut, committed };
}

/**
 * Reads records with seq ≥ `fromSeq` in order (after `recover`). Each segment is read whole;
 * records of the current version are views into it, older ones are upcast. `verified`: the
 * segments were just checked by `recover` (CRCs are not computed again; lengths and seqs are).
 * `openEnd`: the engine may be appending (no `toSeq`): a record of the newest segment that is not
 * (yet) valid ends the reading — a write in progress — instead of being damage.
 */
export function* readRecords(dir: string, fromSeq = 1n, toSeq?: bigint, verified = false, openEnd = false): Generator<JournalRecord> {
  const segs = listSegments(dir);
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    const nextFirst = segs[i + 1]?.firstSeq;
    if (nextFirst !== undefined && nextFirst <= fromSeq) continue;
    if (toSeq !== undefined && s.firstSeq > toSeq) return;
    const b = fs.readFileSync(s.path); // a fresh buffer: the records yielded are views into it
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    // unless just recovered, the whole segment is checked in one kernel call first
    const checkedTo = verified ? SEG_HEADER : verifyRecords(b, SEG_HEADER, s.firstSeq).end;
    let p = SEG_HEADER;
    let seq = s.firstSeq;
    while (p < b.length) {
      if (toSeq !== undefined && seq > toSeq) return; // before any check: the engine may be writing the next record
      let len: number;
      if (p < checkedTo) {
        len = jrecLen(dv, p);
      } else if (verified && b.length - p >= JREC_PROLOGUE && jrecSeq(dv, p) === seq) {
        len = jrecLen(dv, p);
        if (len < REC_V1_EVENTS || p + len > b.length) corrupt(s.path, p, `record seq ${seq}: bad length (changed since recovery?)`);
      } else {
        const r = checkRecord(b, dv, p, b.length, seq);
        if (r.check !== 'ok') {
          if (i === segs.length - 1 && (openEnd || isZeroTail(b, p))) return; // an append in progress, or a preallocated segment's unused end
          corrupt(s.path, p, `record seq ${seq}: ${r.check} (run recovery first)`);
        }
        len = r.len;
      }
      if (toSeq !== undefined && seq > toSeq) return;
      if (seq >= fromSeq) yield readRecord(b, dv, p);
      p += len;
      seq++;
    }
  }
}

/** Whether `b` is zero from `p` to its end (or for ZERO_TAIL_SCAN bytes). */
function isZeroTail(b: Uint8Array, p: number): boolean {
  const end = Math.min(b.length, p + ZERO_TAIL_SCAN);
  for (let i = p; i < end; i++) if (b[i] !== 0) return false;
  return true;
}

export { segmentName };
