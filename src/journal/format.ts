/**
 * Journal file formats: segment header, record layout, schema versions and the upcaster.
 *
 * Owns: the bytes of `journal/*.seg` and `journal/COMMIT` (docs/journal.md).
 *
 * Layout (little-endian; the record layouts are JOURNAL_REC and JOURNAL_REC_V1 in
 * src/abi/records.ts, read and written through src/abi/views.ts):
 * ```
 * segment header (32 B): 0 magic 'TSJ1' u32 · 4 format u32 (1) · 8 firstSeq u64 · 16 createdMs u64 ·
 *                        24 crc32c of bytes 0..24 u32 · 28 zero u32
 * record v2 (current):   0 len u32 (whole record, multiple of 8) · 4 crc32c u32 (of bytes 8..len)
 *                        8 seq u64 · 16 version u16 (2) · 18 kind u16 (1 command) · 20 nEvents u32
 *                        24 tsInit i64 · 32 RING_CMD (96 B: CMD, origin, token, tsIn, clientOrderId)
 *                        128 nEvents × EVT (64 B, `cmd` field 0)
 * record v1 (pre-release, read only): 0 len · 4 crc · 8 seq · 16 version (1) · 18 kind · 20 nEvents
 *                        24 CMD (32 B) · 56 nEvents × EVT
 * COMMIT file: two 24-byte slots at offsets 0 and 512 (different sectors), written alternately in
 *   place; each: 0 magic 'TSJC' u32 · 4 crc32c of 8..24 · 8 seq u64 (durable through) · 16 segment
 *   firstSeq u64. The valid slot with the higher seq counts (a torn slot write leaves the other).
 * ```
 * Invariants: seq contiguous from 1 across segments; a record is valid iff its length fits,
 * its CRC matches and its seq is the expected one.
 * Complexity: O(record). Allocation: `upcast` allocates only for old versions.
 * Known limitations: one record kind (a sequenced command with its events).
 */
import { EVT_SIZE, FILE_ENUMS, JOURNAL_REC, JOURNAL_REC_MAX, RING_CMD_SIZE } from '../abi/records.js';
import {
  JREC_EVENTS, JREC_PROLOGUE, JREC_V1_EVENTS, evtClearCmd, jrecCrc, jrecCrcStart, jrecLen, jrecNEvents, jrecSeq, jrecSize,
  jrecV1Size, jrecVersion, readJournalRecord, sealJournalRecord, upcastJournalV1, writeJournalV1, type JournalRecord,
} from '../abi/views.js';
import { crc32c, crc32cBits } from '../sys/crc32c.js';

export const SEG_MAGIC = 0x314a5354; // 'TSJ1'
export const SEG_FORMAT = 1;
export const SEG_HEADER = 32;
export const COMMIT_MAGIC = 0x434a5354; // 'TSJC'
export const COMMIT_SIZE = 24;
export const COMMIT_SLOT2 = 512;
export const COMMIT_FILE_SIZE = COMMIT_SLOT2 + COMMIT_SIZE;

// The record layout is JOURNAL_REC / JOURNAL_REC_V1 of src/abi/records.ts, read and written through
// src/abi/views.ts; the names below are derived from it for the modules and tests that use them.
const field = (name: string): number => JOURNAL_REC.fields.find((f) => f.name === name)!.offset;
export const REC_VERSION = FILE_ENUMS.JournalVersion.V2;
export const REC_KIND_COMMAND = FILE_ENUMS.JournalKind.COMMAND;
export const REC_HEADER = field('cmdOp'); // v2: header incl. tsInit (32)
export const REC_CMD = REC_HEADER; // RING_CMD bytes
export const REC_EVENTS = JREC_EVENTS; // 128
export const REC_V1_EVENTS = JREC_V1_EVENTS; // 56
/** Upper bound of one record (a command sweeping the whole book is bounded by the engine's capacity). */
export const REC_MAX = JOURNAL_REC_MAX;

export const R_LEN = field('len');
export const R_CRC = field('crc');
export const R_SEQ = field('seq');
export const R_VERSION = field('version');
export const R_KIND = field('kind');
export const R_NEVENTS = field('nEvents');
export const R_TS_INIT = field('tsInit');
if (REC_CMD + RING_CMD_SIZE !== REC_EVENTS) throw new Error('JOURNAL_REC: the RING_CMD block does not end where the events start');

export function recordSize(nEvents: number): number { return jrecSize(nEvents); }

/** Fills in len and CRC of the record at `p` (its other fields already written). */
export function sealRecord(b: Uint8Array, dv: DataView, p: number, len: number): void {
  sealJournalRecord(dv, p, len, crc32cBits(b, jrecCrcStart(p), p + len)); // int32 bits: no boxed number per record
}

export type RecordCheck = 'ok' | 'short' | 'bad_len' | 'bad_crc' | 'bad_seq' | 'bad_version';

/** Checks the record at `p` (bytes available up to `end`) against the expected seq. */
export function checkRecord(b: Uint8Array, dv: DataView, p: number, end: number, expectSeq: bigint): { check: RecordCheck; len: number } {
  if (end - p < JREC_PROLOGUE) return { check: 'short', len: 0 };
  const len = jrecLen(dv, p);
  const version = jrecVersion(dv, p);
  const n = jrecNEvents(dv, p);
  const minLen = version === 1 ? REC_V1_EVENTS : REC_EVENTS;
  if (len < minLen || len > REC_MAX || (len & 7) !== 0) return { check: 'bad_len', len };
  if (end - p < len) return { check: 'short', len };
  if (crc32c(b, jrecCrcStart(p), p + len) !== jrecCrc(dv, p)) return { check: 'bad_crc', len };
  if (version !== 1 && version !== REC_VERSION) return { check: 'bad_version', len };
  if (version === REC_VERSION ? len !== jrecSize(n) : len !== jrecV1Size(n)) return { check: 'bad_len', len }; // (no 32-bit wrap for a huge n)
  if (jrecSeq(dv, p) !== expectSeq) return { check: 'bad_seq', len };
  return { check: 'ok', len };
}

/** A decoded record: views into the source bytes (current version) or into a fresh copy (upcast). */
export type { JournalRecord };

/**
 * The record at `p` (already checked) in the current schema (src/abi/views.ts readJournalRecord:
 * v1 is upcast to v2, pure — tsInit 0, the CMD becomes a RING_CMD with origin/token/tsIn 0 and no
 * clientOrderId; events unchanged).
 */
export const readRecord: (b: Uint8Array, dv: DataView, p: number) => JournalRecord = readJournalRecord;

/** Upcaster v1 → v2 (pure: new buffers, the input is not touched). */
export const upcastV1: (b: Uint8Array, p: number, seq: bigint, n: number) => JournalRecord = upcastJournalV1;

/** Writes a v1 record (tests and the committed fixture only: the writer always writes v2). */
export function writeV1Record(seq: bigint, cmd32: Uint8Array, events: Uint8Array): Uint8Array {
  const out = writeJournalV1(seq, cmd32, events, REC_KIND_COMMAND);
  sealRecord(out, new DataView(out.buffer), 0, out.length);
  return out;
}

/** The events of a record with their `cmd` field cleared (the batch index is not part of the log). */
export function clearCmdIndex(dv: DataView, p: number, n: number): void {
  for (let i = 0; i < n; i++) evtClearCmd(dv, p + i * EVT_SIZE);
}

export function segmentName(firstSeq: bigint): string {
  return `${firstSeq.toString().padStart(20, '0')}.seg`;
}

export function writeSegmentHeader(firstSeq: bigint, nowMs: number): Uint8Array {
  const h = new Uint8Array(SEG_HEADER);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, SEG_MAGIC, true);
  dv.setUint32(4, SEG_FORMAT, true);
  dv.setBigUint64(8, firstSeq, true);
  dv.setBigUint64(16, BigInt(nowMs), true);
  dv.setUint32(24, crc32c(h, 0, 24), true);
  return h;
}

/** Whether a segment header is intact (magic, format, CRC, zero word). */
export function segmentHeaderOk(b: Uint8Array, dv: DataView): boolean {
  return b.length >= SEG_HEADER && dv.getUint32(0, true) === SEG_MAGIC && dv.getUint32(4, true) === SEG_FORMAT &&
    dv.getUint32(24, true) === crc32c(b, 0, 24) && dv.getUint32(28, true) === 0;
}

export function encodeCommit(seq: bigint, segFirst: bigint): Uint8Array {
  const b = new Uint8Array(COMMIT_SIZE);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, COMMIT_MAGIC, true);
  dv.setBigUint64(8, seq, true);
  dv.setBigUint64(16, segFirst, true);
  dv.setUint32(4, crc32c(b, 8, COMMIT_SIZE), true);
  return b;
}

/** The COMMIT file's mark: the valid slot with the higher seq; null if neither slot is valid. */
export function decodeCommitFile(b: Uint8Array): { seq: bigint; segFirst: bigint } | null {
  const a = b.length >= COMMIT_SIZE ? decodeCommit(b.subarray(0, COMMIT_SIZE)) : null;
  const c = b.length >= COMMIT_FILE_SIZE ? decodeCommit(b.subarray(COMMIT_SLOT2, COMMIT_FILE_SIZE)) : null;
  if (a && c) return a.seq >= c.seq ? a : c;
  return a ?? c;
}

export function decodeCommit(b: Uint8Array): { seq: bigint; segFirst: bigint } | null {
  if (b.length !== COMMIT_SIZE) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (dv.getUint32(0, true) !== COMMIT_MAGIC || dv.getUint32(4, true) !== crc32c(b, 8, COMMIT_SIZE)) return null;
  return { seq: dv.getBigUint64(8, true), segFirst: dv.getBigUint64(16, true) };
}
