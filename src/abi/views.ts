/**
 * The one reader of EVT and RING_EVT records, the one reader/writer of journal records, and the
 * one journal record → RING_EVT conversion. Every consumer (engine decode, cqrs, gateway fan-out,
 * storage writer, backfill, the journal writer and readers) reads and writes these bytes through
 * these functions; only src/abi knows the offsets (src/abi/records.ts).
 *
 * Layout: see the EVT, RING_EVT, JOURNAL_REC and JOURNAL_REC_V1 boxes in src/abi/records.ts.
 * Readers take a DataView and the byte offset `p` of the record: `evt*(dv, p)` read an EVT record
 * at `p`; `slot*(dv, p)` read a RING_EVT slot at `p` (its event through `evt*(dv, slotEvt(p))`);
 * `jrec*(dv, p)` read a journal record's header at `p` (the fields v1 and v2 share, and v2's
 * tsInit), `jrecCmd`/`jrecEvents` give the byte offsets of its command and events.
 *
 * Invariants: each reader is one DataView read (or two 32-bit reads for a number-valued 64-bit
 * field) at a constant offset from records.ts, little-endian. The number readers of 64-bit fields
 * (`evtId`, `evtMaker`, `evtPrice`, `evtTradeId`, `slotSeq`) return hi·2^32 + lo: exact below
 * 2^53 and, above it, the same double as `Number(dv.getBigUint64(…))` (the sum is exact before
 * its one rounding). The `…Big` readers return the bigint, for consumers that write it on
 * (RowBinary rows, cqrs events).
 * Complexity: O(1) per field; `journalEventToSlot` copies 96 bytes; `readJournalRecord` O(1) for
 * v2 (views), O(record) for v1 (copied).
 * Allocation: none, except the `…Big` readers (a bigint each, as `getBigUint64` does) and
 * `readJournalRecord` (one small object; fresh buffers for a v1 record).
 * Known limitations: the readers do not check bounds beyond the DataView's own RangeError.
 */
import {
  CMD_SIZE, EVT, EVT_SIZE, FILE_ENUMS, JOURNAL_REC, JOURNAL_REC_V1, RING_EVT, RING_EVT_SIZE, RING_CMD, RING_CMD_SIZE, type RecordDef,
} from './records.js';

function off(r: RecordDef, name: string): number {
  const f = r.fields.find((x) => x.name === name);
  if (!f) throw new Error(`${r.name}.${name}: no such field`);
  return f.offset;
}

// EVT offsets (module-load constants)
const E_TYPE = off(EVT, 'type');
const E_REASON = off(EVT, 'reason');
const E_FLAGS = off(EVT, 'flags');
const E_SIDE = off(EVT, 'side');
const E_SYMBOL = off(EVT, 'symbol');
const E_ID = off(EVT, 'id');
const E_MAKER = off(EVT, 'maker');
const E_PRICE = off(EVT, 'price');
const E_QTY = off(EVT, 'qty');
const E_LEAVES = off(EVT, 'leaves');
const E_MAKER_LEAVES = off(EVT, 'makerLeaves');
const E_CMD = off(EVT, 'cmd');
const E_ACCOUNT = off(EVT, 'account');
const E_MAKER_ACCOUNT = off(EVT, 'makerAccount');
const E_TRADE_ID = off(EVT, 'tradeId');

// RING_EVT offsets
const S_SEQ = off(RING_EVT, 'seq');
const S_TS_INIT = off(RING_EVT, 'tsInit');
const S_ORIGIN = off(RING_EVT, 'origin');
const S_TOKEN = off(RING_EVT, 'token');
const S_TS_IN = off(RING_EVT, 'tsIn');
const S_EVT = off(RING_EVT, 'evtType');
// RING_CMD routing block (origin, token, tsIn) copied into a RING_EVT slot
const C_ORIGIN = off(RING_CMD, 'origin');
const C_ROUTING_END = off(RING_CMD, 'tsIn') + 8;
if (C_ROUTING_END - C_ORIGIN !== S_EVT - S_ORIGIN || S_TS_IN - S_ORIGIN !== off(RING_CMD, 'tsIn') - C_ORIGIN) {
  throw new Error('RING_CMD and RING_EVT routing blocks (origin, token, tsIn) differ in layout');
}

// JOURNAL_REC (v2) and JOURNAL_REC_V1 offsets: the header fields both versions share, then v2's
const J_LEN = off(JOURNAL_REC, 'len');
const J_CRC = off(JOURNAL_REC, 'crc');
const J_SEQ = off(JOURNAL_REC, 'seq');
const J_VERSION = off(JOURNAL_REC, 'version');
const J_KIND = off(JOURNAL_REC, 'kind');
const J_N_EVENTS = off(JOURNAL_REC, 'nEvents');
const J_TS_INIT = off(JOURNAL_REC, 'tsInit');
const J_CMD = off(JOURNAL_REC, 'cmdOp');
const J_EVENTS = JOURNAL_REC.size;
const J1_CMD = off(JOURNAL_REC_V1, 'cmdOp');
const J1_EVENTS = JOURNAL_REC_V1.size;
for (const f of ['len', 'crc', 'seq', 'version', 'kind', 'nEvents']) {
  if (off(JOURNAL_REC_V1, f) !== off(JOURNAL_REC, f)) throw new Error(`JOURNAL_REC_V1.${f} moved: the shared header readers assume it did not`);
}
if (J_EVENTS - J_CMD !== RING_CMD_SIZE || J1_EVENTS - J1_CMD !== CMD_SIZE) throw new Error('journal record command blocks differ from RING_CMD / CMD');
const V1 = FILE_ENUMS.JournalVersion.V1;
const V2 = FILE_ENUMS.JournalVersion.V2;

/** Bytes of one EVT record / one RING_EVT slot. */
export { EVT_SIZE, RING_EVT_SIZE };

/** u64 at `p` as a number (exact below 2^53). */
function u64(dv: DataView, p: number): number {
  return dv.getUint32(p + 4, true) * 4294967296 + dv.getUint32(p, true);
}
/** i64 at `p` as a number (exact within ±2^53). */
function i64(dv: DataView, p: number): number {
  return dv.getInt32(p + 4, true) * 4294967296 + dv.getUint32(p, true);
}

// ── EVT readers ────────────────────────────────────────────────────────────────────────────
/** Event type code (ASCII A R T X M K). */
export function evtType(dv: DataView, p: number): number { return dv.getUint8(p + E_TYPE); }
export function evtReason(dv: DataView, p: number): number { return dv.getUint8(p + E_REASON); }
export function evtFlags(dv: DataView, p: number): number { return dv.getUint8(p + E_FLAGS); }
/** True when the event is the last of its command (flags bit 0). */
export function evtLast(dv: DataView, p: number): boolean { return (dv.getUint8(p + E_FLAGS) & 1) !== 0; }
export function evtSide(dv: DataView, p: number): number { return dv.getUint8(p + E_SIDE); }
export function evtSymbol(dv: DataView, p: number): number { return dv.getUint32(p + E_SYMBOL, true); }
/** Order id (taker for T) as a number: exact below 2^53 (every gateway, saga and admin id). */
export function evtId(dv: DataView, p: number): number { return u64(dv, p + E_ID); }
export function evtIdBig(dv: DataView, p: number): bigint { return dv.getBigUint64(p + E_ID, true); }
/** Maker order id (T) as a number: exact below 2^53. */
export function evtMaker(dv: DataView, p: number): number { return u64(dv, p + E_MAKER); }
export function evtMakerBig(dv: DataView, p: number): bigint { return dv.getBigUint64(p + E_MAKER, true); }
/** Price in ticks as a number: exact within ±2^53. */
export function evtPrice(dv: DataView, p: number): number { return i64(dv, p + E_PRICE); }
export function evtPriceBig(dv: DataView, p: number): bigint { return dv.getBigInt64(p + E_PRICE, true); }
export function evtQty(dv: DataView, p: number): number { return dv.getUint32(p + E_QTY, true); }
export function evtLeaves(dv: DataView, p: number): number { return dv.getUint32(p + E_LEAVES, true); }
export function evtMakerLeaves(dv: DataView, p: number): number { return dv.getUint32(p + E_MAKER_LEAVES, true); }
/** Index of the event's command in its batch (zeroed in journal records). */
export function evtCmd(dv: DataView, p: number): number { return dv.getUint32(p + E_CMD, true); }
export function evtAccount(dv: DataView, p: number): number { return dv.getUint32(p + E_ACCOUNT, true); }
export function evtMakerAccount(dv: DataView, p: number): number { return dv.getUint32(p + E_MAKER_ACCOUNT, true); }
/** Engine-wide trade id (T) as a number: exact below 2^53. */
export function evtTradeId(dv: DataView, p: number): number { return u64(dv, p + E_TRADE_ID); }
export function evtTradeIdBig(dv: DataView, p: number): bigint { return dv.getBigUint64(p + E_TRADE_ID, true); }

/** Zeroes the EVT record's `cmd` (batch index) at `p`: a journal record stores 0 there. */
export function evtClearCmd(dv: DataView, p: number): void { dv.setUint32(p + E_CMD, 0, true); }

// ── RING_EVT readers ───────────────────────────────────────────────────────────────────────
/** Engine seq of the slot's command as a number: exact below 2^53. */
export function slotSeq(dv: DataView, p: number): number { return u64(dv, p + S_SEQ); }
export function slotSeqBig(dv: DataView, p: number): bigint { return dv.getBigUint64(p + S_SEQ, true); }
/** tsInit (epoch ns) as a bigint: the hot path copies it and never decodes it. */
export function slotTsInit(dv: DataView, p: number): bigint { return dv.getBigInt64(p + S_TS_INIT, true); }
/** tsInit (epoch ns) as a number (no BigInt): exact to the double's precision (~256 ns at today's epoch). */
export function slotTsInitNum(dv: DataView, p: number): number { return i64(dv, p + S_TS_INIT); }
/** The slot's tsInit as u32 words (lo, hi) into out[at], out[at + 1]: exact, no BigInt, no allocation. */
export function slotTsInitInto(dv: DataView, p: number, out: Uint32Array, at: number): void { out[at] = dv.getUint32(p + S_TS_INIT, true); out[at + 1] = dv.getUint32(p + S_TS_INIT + 4, true); }
/** tsIn (epoch ns, 0 when unknown) as a bigint. */
export function slotTsIn(dv: DataView, p: number): bigint { return dv.getBigInt64(p + S_TS_IN, true); }
/**
 * Engine queue time of the slot's command, ns: tsInit − tsIn from the u32 words (no BigInt; exact
 * while the difference is under 2^53 ns); -1 when tsIn is 0 (unknown: replayed or not stamped).
 */
export function slotQueueNs(dv: DataView, p: number): number {
  const inLo = dv.getUint32(p + S_TS_IN, true);
  const inHi = dv.getInt32(p + S_TS_IN + 4, true);
  if (inLo === 0 && inHi === 0) return -1;
  return (dv.getInt32(p + S_TS_INIT + 4, true) - inHi) * 4294967296 + (dv.getUint32(p + S_TS_INIT, true) - inLo);
}
export function slotOrigin(dv: DataView, p: number): number { return dv.getUint32(p + S_ORIGIN, true); }
export function slotToken(dv: DataView, p: number): number { return dv.getUint32(p + S_TOKEN, true); }
/** Byte offset of the EVT record inside the RING_EVT slot at `p`. */
export function slotEvt(p: number): number { return p + S_EVT; }

// ── journal records ────────────────────────────────────────────────────────────────────────
/** Bytes a journal record must have before its header (len, crc, seq, version, kind, nEvents) can be read: 24. */
export const JREC_PROLOGUE = J_N_EVENTS + 4;
/** Header bytes before the events: v2 (128) and v1 (56). */
export const JREC_EVENTS = J_EVENTS;
export const JREC_V1_EVENTS = J1_EVENTS;
/** Length of a v2 record with `n` events. */
export function jrecSize(n: number): number { return J_EVENTS + n * EVT_SIZE; }
/** Length of a v1 record with `n` events (padded to 8; no 32-bit wrap for a huge `n`). */
export function jrecV1Size(n: number): number { return Math.ceil((J1_EVENTS + n * EVT_SIZE) / 8) * 8; }
export function jrecLen(dv: DataView, p: number): number { return dv.getUint32(p + J_LEN, true); }
export function jrecCrc(dv: DataView, p: number): number { return dv.getUint32(p + J_CRC, true); }
/** First byte the record's CRC-32C covers (it runs to `p + len`): everything after len and crc. */
export function jrecCrcStart(p: number): number { return p + J_CRC + 4; }
export function jrecSeq(dv: DataView, p: number): bigint { return dv.getBigUint64(p + J_SEQ, true); }
export function jrecVersion(dv: DataView, p: number): number { return dv.getUint16(p + J_VERSION, true); }
export function jrecKind(dv: DataView, p: number): number { return dv.getUint16(p + J_KIND, true); }
export function jrecNEvents(dv: DataView, p: number): number { return dv.getUint32(p + J_N_EVENTS, true); }
/** tsInit (epoch ns) of a v2 record (v1 has none). */
export function jrecTsInit(dv: DataView, p: number): bigint { return dv.getBigInt64(p + J_TS_INIT, true); }
/** Byte offset of a v2 record's RING_CMD / of its first EVT. */
export function jrecCmd(p: number): number { return p + J_CMD; }
export function jrecEvents(p: number): number { return p + J_EVENTS; }

/** Writes a v2 record's header fields but len and crc (`sealJournalRecord` writes those last). */
export function writeJournalHeader(dv: DataView, p: number, seq: bigint, nEvents: number, tsInit: bigint, kind: number): void {
  dv.setBigUint64(p + J_SEQ, seq, true);
  dv.setUint16(p + J_VERSION, V2, true);
  dv.setUint16(p + J_KIND, kind, true);
  dv.setUint32(p + J_N_EVENTS, nEvents, true);
  dv.setBigInt64(p + J_TS_INIT, tsInit, true);
}

/** As writeJournalHeader with seq a number (exact below 2^53) and tsInit as (lo, hi) u32 words: no BigInt. */
export function writeJournalHeaderWords(dv: DataView, p: number, seq: number, nEvents: number, tsLo: number, tsHi: number, kind: number): void {
  const hi = Math.floor(seq / 4294967296);
  dv.setUint32(p + J_SEQ, seq - hi * 4294967296, true);
  dv.setUint32(p + J_SEQ + 4, hi, true);
  dv.setUint16(p + J_VERSION, V2, true);
  dv.setUint16(p + J_KIND, kind, true);
  dv.setUint32(p + J_N_EVENTS, nEvents, true);
  dv.setUint32(p + J_TS_INIT, tsLo, true);
  dv.setUint32(p + J_TS_INIT + 4, tsHi, true);
}

/**
 * Writes a v1 record (tests and the committed fixture only: the writer always writes v2) with len
 * and crc 0 into a fresh buffer; the caller seals it. Allocates the record.
 */
export function writeJournalV1(seq: bigint, cmd32: Uint8Array, events: Uint8Array, kind: number): Uint8Array {
  const n = events.length / EVT_SIZE;
  const out = new Uint8Array(jrecV1Size(n));
  const dv = new DataView(out.buffer);
  dv.setBigUint64(J_SEQ, seq, true);
  dv.setUint16(J_VERSION, V1, true);
  dv.setUint16(J_KIND, kind, true);
  dv.setUint32(J_N_EVENTS, n, true);
  out.set(cmd32.subarray(0, CMD_SIZE), J1_CMD);
  out.set(events, J1_EVENTS);
  return out;
}

/** Writes len and crc (computed by the caller over [jrecCrcStart(p), p + len)). */
export function sealJournalRecord(dv: DataView, p: number, len: number, crc: number): void {
  dv.setUint32(p + J_LEN, len, true);
  dv.setUint32(p + J_CRC, crc, true);
}

/** A decoded journal record: views into the source bytes (current version) or into a fresh copy (upcast). */
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
 * The record at `p` (already checked) in the current schema. v1 → v2 (pure, `upcastJournalV1`):
 * tsInit 0, the CMD becomes a RING_CMD with origin/token/tsIn 0 and no clientOrderId; events unchanged.
 */
export function readJournalRecord(b: Uint8Array, dv: DataView, p: number): JournalRecord {
  const version = jrecVersion(dv, p);
  const n = jrecNEvents(dv, p);
  const seq = jrecSeq(dv, p);
  if (version === V2) {
    return {
      seq, version, tsInit: jrecTsInit(dv, p), nEvents: n,
      cmd: b.subarray(p + J_CMD, p + J_CMD + RING_CMD_SIZE), events: b.subarray(p + J_EVENTS, p + J_EVENTS + n * EVT_SIZE),
    };
  }
  return upcastJournalV1(b, p, seq, n);
}

/** Upcaster v1 → v2 (pure: new buffers, the input is not touched). Allocates. */
export function upcastJournalV1(b: Uint8Array, p: number, seq: bigint, n: number): JournalRecord {
  const cmd = new Uint8Array(RING_CMD_SIZE);
  cmd.set(b.subarray(p + J1_CMD, p + J1_CMD + CMD_SIZE), 0);
  const events = b.slice(p + J1_EVENTS, p + J1_EVENTS + n * EVT_SIZE);
  return { seq, version: V1, tsInit: 0n, cmd, events, nEvents: n };
}

// ── journal record → RING_EVT ──────────────────────────────────────────────────────────────
/** The parts of a journal record (`JournalRecord`) the conversion reads. */
export interface JournalEvents {
  readonly seq: bigint;
  readonly tsInit: bigint;
  /** The RING_CMD bytes. */
  readonly cmd: Uint8Array;
  /** nEvents × EVT records. */
  readonly events: Uint8Array;
  readonly nEvents: number;
}

/**
 * Writes event `e` of journal record `r` as the RING_EVT slot at byte `p` of `u8` (`dv` over the
 * same bytes): seq, tsInit, the EVT record, and the routing block (origin, token, tsIn) copied from
 * the record's command when `routing`, zero otherwise (gateway catch-up: no connection waits for a
 * replayed event). Every byte of the slot is written. Throws a RangeError on an event index or a
 * slot outside the buffers. Allocation: none.
 */
export function journalEventToSlot(r: JournalEvents, e: number, u8: Uint8Array, dv: DataView, p: number, routing: boolean): void {
  if (!(e >= 0 && e < r.nEvents) || r.events.length < (e + 1) * EVT_SIZE) {
    throw new RangeError(`journal record seq ${r.seq}: event ${e} of ${r.nEvents} is outside its ${r.events.length} event bytes`);
  }
  if (!(p >= 0) || p + RING_EVT_SIZE > u8.length) throw new RangeError(`RING_EVT slot at ${p} is outside a ${u8.length}-byte buffer`);
  dv.setBigUint64(p + S_SEQ, r.seq, true);
  dv.setBigInt64(p + S_TS_INIT, r.tsInit, true);
  if (routing) {
    if (r.cmd.length < C_ROUTING_END) throw new RangeError(`journal record seq ${r.seq}: command of ${r.cmd.length} bytes has no routing block`);
    u8.set(r.cmd.subarray(C_ORIGIN, C_ROUTING_END), p + S_ORIGIN);
  } else {
    u8.fill(0, p + S_ORIGIN, p + S_EVT);
  }
  u8.set(r.events.subarray(e * EVT_SIZE, (e + 1) * EVT_SIZE), p + S_EVT);
}
