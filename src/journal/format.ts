/**
 * Journal file formats: segment header, record layout, schema versions and the upcaster.
 *
 * Owns: the bytes of `journal/*.seg` and `journal/COMMIT` (docs/journal.md).
 *
 * Layout (little-endian):
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
import { CMD_SIZE, EVT_SIZE, RING_CMD_SIZE } from '../abi/records.js';
import { evtClearCmd } from '../abi/views.js';
import { crc32c } from '../sys/crc32c.js';

export const SEG_MAGIC = 0x314a5354; // 'TSJ1'
export const SEG_FORMAT = 1;
export const SEG_HEADER = 32;
export const COMMIT_MAGIC = 0x434a5354; // 'TSJC'
export const COMMIT_SIZE = 24;
export const COMMIT_SLOT2 = 512;
export const COMMIT_FILE_SIZE = COMMIT_SLOT2 + COMMIT_SIZE;

export const REC_VERSION = 2;
export const REC_KIND_COMMAND = 1;
export const REC_HEADER = 32; // v2: header incl. tsInit
export const REC_CMD = REC_HEADER; // RING_CMD bytes
export const REC_EVENTS = REC_HEADER + RING_CMD_SIZE; // 128
export const REC_V1_EVENTS = 24 + CMD_SIZE; // 56
/** Upper bound of one record (a command sweeping the whole book is bounded by the engine's capacity). */
export const REC_MAX = 64 << 20;

export const R_LEN = 0;
export const R_CRC = 4;
export const R_SEQ = 8;
export const R_VERSION = 16;
export const R_KIND = 18;
export const R_NEVENTS = 20;
export const R_TS_INIT = 24;

export function recordSize(nEvents: number): number { return REC_EVENTS + nEvents * EVT_SIZE; }

/** Fills in len and CRC of the record at `p` (its other fields already written). */
export function sealRecord(b: Uint8Array, dv: DataView, p: number, len: number): void {
  dv.setUint32(p + R_LEN, len, true);
  dv.setUint32(p + R_CRC, crc32c(b, p + 8, p + len), true);
}

export type RecordCheck = 'ok' | 'short' | 'bad_len' | 'bad_crc' | 'bad_seq' | 'bad_version';

/** Checks the record at `p` (bytes available up to `end`) against the expected seq. */
export function checkRecord(b: Uint8Array, dv: DataView, p: number, end: number, expectSeq: bigint): { check: RecordCheck; len: number } {
  if (end - p < 24) return { check: 'short', len: 0 };
  const len = dv.getUint32(p + R_LEN, true);
  const version = dv.getUint16(p + R_VERSION, true);
  const n = dv.getUint32(p + R_NEVENTS, true);
  const minLen = version === 1 ? REC_V1_EVENTS : REC_EVENTS;
  if (len < minLen || len > REC_MAX || (len & 7) !== 0) return { check: 'bad_len', len };
  if (end - p < len) return { check: 'short', len };
  if (crc32c(b, p + 8, p + len) !== dv.getUint32(p + R_CRC, true)) return { check: 'bad_crc', len };
  if (version !== 1 && version !== REC_VERSION) return { check: 'bad_version', len };
  if (version === REC_VERSION ? len !== recordSize(n) : len !== Math.ceil((REC_V1_EVENTS + n * EVT_SIZE) / 8) * 8) return { check: 'bad_len', len }; // (no 32-bit wrap for a huge n)
  if (dv.getBigUint64(p + R_SEQ, true) !== expectSeq) return { check: 'bad_seq', len };
  return { check: 'ok', len };
}

/** A decoded record: views into the source bytes (current version) or into a fresh copy (upcast). */
export interface JournalRecord {
  seq: bigint;
  version: number;
  tsInit: bigint;
  /** The RING_CMD bytes (96). */
  cmd: Uint8Array;
  /** nEvents × EVT records. */
  events: Uint8Array;
  nEvents: number;
}

/**
 * The record at `p` (already checked) in the current schema. v1 → v2 (pure): tsInit 0, the CMD
 * becomes a RING_CMD with origin/token/tsIn 0 and no clientOrderId; events unchanged.
 */
export function readRecord(b: Uint8Array, dv: DataView, p: number): JournalRecord {
  const version = dv.getUint16(p + R_VERSION, true);
  const n = dv.getUint32(p + R_NEVENTS, true);
  const seq = dv.getBigUint64(p + R_SEQ, true);
  if (version === REC_VERSION) {
    return {
      seq, version, tsInit: dv.getBigInt64(p + R_TS_INIT, true), nEvents: n,
      cmd: b.subarray(p + REC_CMD, p + REC_CMD + RING_CMD_SIZE), events: b.subarray(p + REC_EVENTS, p + REC_EVENTS + n * EVT_SIZE),
    };
  }
  return upcastV1(b, p, seq, n);
}

/** Upcaster v1 → v2 (pure: new buffers, the input is not touched). */
export function upcastV1(b: Uint8Array, p: number, seq: bigint, n: number): JournalRecord {
  const cmd = new Uint8Array(RING_CMD_SIZE);
  cmd.set(b.subarray(p + 24, p + 24 + CMD_SIZE), 0);
  const events = b.slice(p + REC_V1_EVENTS, p + REC_V1_EVENTS + n * EVT_SIZE);
  return { seq, version: 1, tsInit: 0n, cmd, events, nEvents: n };
}

/** Writes a v1 record (tests and the committed fixture only: the writer always writes v2). */
export function writeV1Record(seq: bigint, cmd32: Uint8Array, events: Uint8Array): Uint8Array {
  const n = events.length / EVT_SIZE;
  const len = (REC_V1_EVENTS + events.length + 7) & ~7;
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(R_SEQ, seq, true);
  dv.setUint16(R_VERSION, 1, true);
  dv.setUint16(R_KIND, REC_KIND_COMMAND, true);
  dv.setUint32(R_NEVENTS, n, true);
  out.set(cmd32.subarray(0, CMD_SIZE), 24);
  out.set(events, REC_V1_EVENTS);
  sealRecord(out, dv, 0, len);
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
