/**
 * The one reader of EVT and RING_EVT records, and the one journal record → RING_EVT conversion.
 * Every consumer (engine decode, cqrs, gateway fan-out, storage writer, backfill) reads event
 * bytes through these functions; only src/abi knows the offsets (src/abi/records.ts).
 *
 * Layout: see the EVT and RING_EVT boxes in src/abi/records.ts. Readers take a DataView and the
 * byte offset `p` of the record: `evt*(dv, p)` read an EVT record at `p`; `slot*(dv, p)` read a
 * RING_EVT slot at `p` (its event through `evt*(dv, slotEvt(p))`).
 *
 * Invariants: each reader is one DataView read (or two 32-bit reads for a number-valued 64-bit
 * field) at a constant offset from records.ts, little-endian. The number readers of 64-bit fields
 * (`evtId`, `evtMaker`, `evtPrice`, `evtTradeId`, `slotSeq`) return hi·2^32 + lo: exact below
 * 2^53 and, above it, the same double as `Number(dv.getBigUint64(…))` (the sum is exact before
 * its one rounding). The `…Big` readers return the bigint, for consumers that write it on
 * (RowBinary rows, cqrs events).
 * Complexity: O(1) per field; `journalEventToSlot` copies 96 bytes.
 * Allocation: none, except the `…Big` readers (a bigint each, as `getBigUint64` does).
 * Known limitations: the readers do not check bounds beyond the DataView's own RangeError.
 */
import { EVT, EVT_SIZE, RING_EVT, RING_EVT_SIZE, RING_CMD, type RecordDef } from './records.js';

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
/** tsIn (epoch ns, 0 when unknown) as a bigint. */
export function slotTsIn(dv: DataView, p: number): bigint { return dv.getBigInt64(p + S_TS_IN, true); }
export function slotOrigin(dv: DataView, p: number): number { return dv.getUint32(p + S_ORIGIN, true); }
export function slotToken(dv: DataView, p: number): number { return dv.getUint32(p + S_TOKEN, true); }
/** Byte offset of the EVT record inside the RING_EVT slot at `p`. */
export function slotEvt(p: number): number { return p + S_EVT; }

// ── journal record → RING_EVT ──────────────────────────────────────────────────────────────
/** The parts of a journal record (src/journal/format.ts JournalRecord) the conversion reads. */
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
