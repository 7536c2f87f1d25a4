/**
 * THE record definitions shared by AssemblyScript (assembly/), TypeScript (src/) and C (native/).
 *
 * Owns: every fixed-layout record that crosses the JS↔WASM boundary, the enums inside them,
 * `ABI_VERSION` and the ABI hash; and the journal's record layouts (file records, outside the hash). `npm run gen:abi` writes `assembly/abi/records.ts` and
 * `native/include/records.h` from this file; `test/abi` fails when they are stale.
 *
 * Layout: little-endian, explicit offsets, natural alignment, no implicit padding (padding is
 * declared as `_padN` fields so that an `@unmanaged` AS class reproduces it exactly).
 *
 * ```
 * CMD  (32 B, = one .tso record)         writer: host (inbox)        reader: engine
 * ┌────┬────┬────┬────┬─────────┬──────────────┬──────────────┬─────────┬─────────┐
 * │ op │side│type│tif │ symbol  │      id      │    price     │   qty   │ account │
 * │ u8 │ u8 │ u8 │ u8 │   u32   │     u64      │     i64      │   u32   │   u32   │
 * 0    1    2    3    4         8              16             24        28        32
 *
 * EVT  (64 B)                            writer: engine (outbox)     reader: host
 *  0 type u8 (ASCII A R T X M) · 1 reason u8 · 2 flags u8 (bit0 last event of its command,
 *  bit1 self-trade prevention) · 3 side u8 (of `id`) · 4 symbol u32 · 8 id u64 (taker for T) ·
 * 16 maker u64 (T) · 24 price i64 · 32 qty u32 · 36 leaves u32 (leaves of `id` after the event)
 * 40 makerLeaves u32 (T) · 44 cmd u32 (index of the command in its batch) · 48 account u32 ·
 * 52 makerAccount u32 (T) · 56 tradeId u64 (T, engine-wide, from 1).
 * K (control, an applied ADMIN command): side = the Admin action, symbol, id, account and qty = the
 * command's (qty = the value set).
 *
 * LEVEL (24 B, L2 depth output)          writer: engine (scratch)    reader: host
 *  0 price i64 · 8 qty u64 (sum of leaves) · 16 count u32 · 20 _pad u32
 *
 * ORDER (40 B, L3 output and snapshot body)   writer: engine or host (restore)
 *  0 symbol u32 · 4 side u8 · 5..7 pad · 8 price i64 · 16 id u64 · 24 leaves u32 ·
 * 28 account u32 · 32 filled u64
 *
 * CTRL (64 B, argument/result block)     writer: both, one call at a time (single thread)
 *  0 arg0 i64 · 8 arg1 i64 · 16 hash u64 (result of engineStateHash) · 24 tradeSeq u64 ·
 * 32 arg2 i64 · 40 arg3 i64 · 48 arg4 i64 · 56 arg5 i64 (further arguments/results, e.g. risk settings)
 *
 * RING_CMD (96 B, command ring slot)      writer: gateway threads     reader: engine thread
 *  0..31 the CMD record · 32 origin u32 (connection/producer) · 36 token u32 (request tag) ·
 * 40 tsIn i64 (epoch ns, when the gateway accepted it) · 48 cidLen u8 · 49..55 pad · 56..95 clientOrderId
 * (cidLen ASCII bytes, zero-padded; journaled with the command)
 *
 * RING_EVT (96 B, event ring slot)        writer: engine thread       readers: consumers
 *  0 seq u64 (engine sequence of the command, from 1) · 8 tsInit i64 (epoch ns, when the engine took the
 * batch) · 16 origin u32 · 20 token u32 · 24 tsIn i64 (copied from the command) · 32..95 the EVT
 * record (field offsets +32)
 * ```
 * Ring publication (Atomics orderings) is described in src/ring/*.ts.
 *
 * File records (the journal, `journal/*.seg`; docs/journal.md). They are a file format, not the
 * engine ABI: they are generated for AssemblyScript (the journal-verify kernel) and C like the
 * records above, but stay out of `abiCanonical()` and the ABI hash, which guards the wasm ↔ host
 * call boundary and is written into every snapshot. A journal layout change is a new record
 * `version` (JournalVersion) with an upcaster, never an in-place edit.
 * ```
 * JOURNAL_REC (v2, current; 128 B header, then nEvents × EVT)   writer: journal writer (host)
 * ┌─────┬─────┬──────┬─────────┬──────┬─────────┬────────┬──────────────────────────────┬──────────────┐
 * │ len │ crc │ seq  │ version │ kind │ nEvents │ tsInit │ cmd: the RING_CMD (96 B)      │ events (EVT) │
 * │ u32 │ u32 │ u64  │   u16   │ u16  │   u32   │  i64   │ cmdOp … cmdCid4 (offsets +32) │ n × 64 B     │
 * 0     4     8      16        18     20        24       32                              128
 *  len: whole record in bytes (128 + n·64, a multiple of 8) · crc: CRC-32C of bytes 8..len ·
 *  seq: engine seq · version: JournalVersion.V2 · kind: JournalKind.COMMAND · each event's `cmd` is 0.
 *
 * JOURNAL_REC_V1 (pre-release, read only; 56 B header, then nEvents × EVT, padded to 8)
 *  0 len u32 · 4 crc u32 · 8 seq u64 · 16 version u16 (V1) · 18 kind u16 · 20 nEvents u32 ·
 * 24 cmd: the CMD (32 B, cmdOp … cmdAccount) · 56 events
 * ```
 *
 * Ownership: the host writes CMD records and CTRL args before a call and reads EVT/LEVEL/ORDER/
 * CTRL results after it returns. Within one engine instance everything runs on one thread, so no
 * Atomics are involved at this boundary (the cross-thread rings of the gateway have their own
 * records and orderings).
 *
 * Invariants: offsets strictly increasing, each field aligned to its size, record size a
 * multiple of 8, enum values never reused (a retired value stays as a comment).
 * Complexity/Allocation: module-load only. Known limitations: none.
 */

export const ABI_VERSION = 1;

export type FieldType = 'u8' | 'u16' | 'u32' | 'i32' | 'u64' | 'i64' | 'f64';

export interface FieldDef {
  readonly name: string;
  readonly type: FieldType;
  readonly offset: number;
}

export interface RecordDef {
  readonly name: string;
  readonly size: number;
  readonly fields: readonly FieldDef[];
}

export const FIELD_SIZE: Record<FieldType, number> = { u8: 1, u16: 2, u32: 4, i32: 4, u64: 8, i64: 8, f64: 8 };

function rec(name: string, size: number, fields: [string, FieldType, number][]): RecordDef {
  return { name, size, fields: fields.map(([n, type, offset]) => ({ name: n, type, offset })) };
}

export const CMD = rec('Cmd', 32, [
  ['op', 'u8', 0], ['side', 'u8', 1], ['type', 'u8', 2], ['tif', 'u8', 3],
  ['symbol', 'u32', 4], ['id', 'u64', 8], ['price', 'i64', 16], ['qty', 'u32', 24], ['account', 'u32', 28],
]);

export const EVT = rec('Evt', 64, [
  ['type', 'u8', 0], ['reason', 'u8', 1], ['flags', 'u8', 2], ['side', 'u8', 3],
  ['symbol', 'u32', 4], ['id', 'u64', 8], ['maker', 'u64', 16], ['price', 'i64', 24],
  ['qty', 'u32', 32], ['leaves', 'u32', 36], ['makerLeaves', 'u32', 40], ['cmd', 'u32', 44],
  ['account', 'u32', 48], ['makerAccount', 'u32', 52], ['tradeId', 'u64', 56],
]);

export const LEVEL = rec('Level', 24, [
  ['price', 'i64', 0], ['qty', 'u64', 8], ['count', 'u32', 16], ['_pad0', 'u32', 20],
]);

export const ORDER = rec('Order', 40, [
  ['symbol', 'u32', 0], ['side', 'u8', 4], ['_pad0', 'u8', 5], ['_pad1', 'u16', 6],
  ['price', 'i64', 8], ['id', 'u64', 16], ['leaves', 'u32', 24], ['account', 'u32', 28], ['filled', 'u64', 32],
]);

export const CTRL = rec('Ctrl', 64, [
  ['arg0', 'i64', 0], ['arg1', 'i64', 8], ['hash', 'u64', 16], ['tradeSeq', 'u64', 24],
  ['arg2', 'i64', 32], ['arg3', 'i64', 40], ['arg4', 'i64', 48], ['arg5', 'i64', 56],
]);

/**
 * Command ring slot (gateway → engine thread): a CMD record plus routing metadata and the client's
 * order id (journaled with the command so that idempotency survives restarts).
 */
export const RING_CMD = rec('RingCmd', 96, [
  ['op', 'u8', 0], ['side', 'u8', 1], ['type', 'u8', 2], ['tif', 'u8', 3],
  ['symbol', 'u32', 4], ['id', 'u64', 8], ['price', 'i64', 16], ['qty', 'u32', 24], ['account', 'u32', 28],
  ['origin', 'u32', 32], ['token', 'u32', 36], ['tsIn', 'i64', 40],
  ['cidLen', 'u8', 48], ['_pad0', 'u8', 49], ['_pad1', 'u16', 50], ['_pad2', 'u32', 52],
  ['cid0', 'u64', 56], ['cid1', 'u64', 64], ['cid2', 'u64', 72], ['cid3', 'u64', 80], ['cid4', 'u64', 88],
]);
/** Longest clientOrderId carried by a RING_CMD (ASCII bytes at `cid0`). */
export const RING_CMD_CID_MAX = 40;

/** Event ring slot (engine thread → consumers): the command's seq and stamps, then the EVT. */
export const RING_EVT = rec('RingEvt', 96, [
  ['seq', 'u64', 0], ['tsInit', 'i64', 8], ['origin', 'u32', 16], ['token', 'u32', 20], ['tsIn', 'i64', 24],
  ['evtType', 'u8', 32], ['evtReason', 'u8', 33], ['evtFlags', 'u8', 34], ['evtSide', 'u8', 35],
  ['evtSymbol', 'u32', 36], ['evtId', 'u64', 40], ['evtMaker', 'u64', 48], ['evtPrice', 'i64', 56],
  ['evtQty', 'u32', 64], ['evtLeaves', 'u32', 68], ['evtMakerLeaves', 'u32', 72], ['evtCmd', 'u32', 76],
  ['evtAccount', 'u32', 80], ['evtMakerAccount', 'u32', 84], ['evtTradeId', 'u64', 88],
]);

export const RECORDS: readonly RecordDef[] = [CMD, EVT, LEVEL, ORDER, CTRL, RING_CMD, RING_EVT];

/** `r`'s fields as a block of another record at byte `at`, named `prefix` + Field (padding `_prefix` + Pad). */
function embed(prefix: string, r: RecordDef, at: number): [string, FieldType, number][] {
  const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
  return r.fields.map((f): [string, FieldType, number] => [
    f.name.startsWith('_') ? `_${prefix}${cap(f.name.slice(1))}` : `${prefix}${cap(f.name)}`, f.type, at + f.offset,
  ]);
}

/** Journal record, current version (v2): header, tsInit and the RING_CMD; nEvents × EVT follow at `size`. */
export const JOURNAL_REC = rec('JournalRec', 128, [
  ['len', 'u32', 0], ['crc', 'u32', 4], ['seq', 'u64', 8], ['version', 'u16', 16], ['kind', 'u16', 18],
  ['nEvents', 'u32', 20], ['tsInit', 'i64', 24], ...embed('cmd', RING_CMD, 32),
]);

/** Journal record v1 (pre-release, read only): header and the CMD; nEvents × EVT follow at `size`, padded to 8. */
export const JOURNAL_REC_V1 = rec('JournalRecV1', 56, [
  ['len', 'u32', 0], ['crc', 'u32', 4], ['seq', 'u64', 8], ['version', 'u16', 16], ['kind', 'u16', 18],
  ['nEvents', 'u32', 20], ...embed('cmd', CMD, 24),
]);

/** File records (outside the ABI hash; see the header). Generated after RECORDS. */
export const FILE_RECORDS: readonly RecordDef[] = [JOURNAL_REC, JOURNAL_REC_V1];

/** File-format enums (outside the ABI hash). Values are never reused. */
export const FILE_ENUMS = {
  /** Journal record `version`: V1 read only (upcast on read), V2 written. */
  JournalVersion: { V1: 1, V2: 2 },
  /** Journal record `kind`. */
  JournalKind: { COMMAND: 1 },
} as const;

/**
 * UDP market-data feed (docs/feed.md): the ring a receive path (native AF_XDP or recvmmsg thread, or
 * the dgram fallback) writes and the book builder and strategies read, in a SharedArrayBuffer.
 * Outside the ABI hash (the engine never sees them); shared with C through records.h.
 *
 * FeedRingHdr, 256 bytes at offset 0 of the buffer; records start at byte 256.
 * ```
 *  0 magic u32 (FeedRing.MAGIC)    4 version u32       8 capacity u32 (records, power of 2)
 * 12 recordSize u32 (FeedMsg.size) 16 readerMax u32   20 writerPath u32 (FeedPath)
 * 64 writeSeq u64  records ever published; the writer stores it with release order after the record
 * 72 overruns u64  messages dropped because the slowest active reader was a full ring behind
 * 80 lastSeq u64   the feed sequence number of the newest message written
 * 88 gaps u64      feed messages lost and not recovered (GAP records written for them)
 * 128 + 8·i cursor<i> u64 (i < 8)  reader i's next record index; ~0 (all ones) = slot unused
 * ```
 * Record i lives at 256 + (i & (capacity − 1)) · recordSize. The writer never overwrites a record an
 * active reader has not passed: it drops (overruns++) and readers see the jump in `seq`.
 */
export const FEED_RING_HDR = rec('FeedRingHdr', 256, [
  ['magic', 'u32', 0], ['version', 'u32', 4], ['capacity', 'u32', 8], ['recordSize', 'u32', 12],
  ['readerMax', 'u32', 16], ['writerPath', 'u32', 20], ['_pad0', 'u64', 24], ['_pad1', 'u64', 32], ['_pad2', 'u64', 40],
  ['_pad3', 'u64', 48], ['_pad4', 'u64', 56], ['writeSeq', 'u64', 64], ['overruns', 'u64', 72], ['lastSeq', 'u64', 80],
  ['gaps', 'u64', 88], ['_pad5', 'u64', 96], ['_pad6', 'u64', 104], ['_pad7', 'u64', 112], ['_pad8', 'u64', 120],
  ['cursor0', 'u64', 128], ['cursor1', 'u64', 136], ['cursor2', 'u64', 144], ['cursor3', 'u64', 152],
  ['cursor4', 'u64', 160], ['cursor5', 'u64', 168], ['cursor6', 'u64', 176], ['cursor7', 'u64', 184],
  ['_pad9', 'u64', 192], ['_pad10', 'u64', 200], ['_pad11', 'u64', 208], ['_pad12', 'u64', 216],
  ['_pad13', 'u64', 224], ['_pad14', 'u64', 232], ['_pad15', 'u64', 240], ['_pad16', 'u64', 248],
]);

/**
 * One feed message in the ring, 72 bytes, little-endian (decoded from the big-endian wire message).
 * ```
 *  0 type u8 (FeedMsgType)  1 side u8 (Side; 255 none)  2 stampSource u8 (StampSource)  3 path u8 (FeedPath)
 *  4 symbol u32   8 seq u64 (feed sequence number; for GAP the first lost)   16 orderId u64
 * 24 price i64 (ticks)   32 qty u32 (lots; for GAP the number lost)   36 flags u32 (FeedFlag bits)
 * 40 matchId u64   48 tsSend i64 (the message's wire timestamp: publisher clock at send, ns)
 * 56 tsRecv i64 (receive stamp: NIC or kernel via SO_TIMESTAMPING, else the receiver's clock)
 * 64 tsRing i64 (receiver clock when the record was written; CLOCK_REALTIME ns)
 * ```
 */
export const FEED_MSG = rec('FeedMsg', 72, [
  ['type', 'u8', 0], ['side', 'u8', 1], ['stampSource', 'u8', 2], ['path', 'u8', 3], ['symbol', 'u32', 4],
  ['seq', 'u64', 8], ['orderId', 'u64', 16], ['price', 'i64', 24], ['qty', 'u32', 32], ['flags', 'u32', 36],
  ['matchId', 'u64', 40], ['tsSend', 'i64', 48], ['tsRecv', 'i64', 56], ['tsRing', 'i64', 64],
]);

/** Feed records (outside the ABI hash). Generated after FILE_RECORDS. */
export const FEED_RECORDS: readonly RecordDef[] = [FEED_RING_HDR, FEED_MSG];

/** Feed enums (outside the ABI hash). Values are never reused. */
export const FEED_ENUMS = {
  /** FeedMsg `type`: the wire message types (ASCII, ITCH-like) plus ring-only GAP. */
  FeedMsgType: { ADD: 65 /* 'A' */, CANCEL: 88 /* 'X' */, EXECUTE: 69 /* 'E' */, TRADE: 80 /* 'P' */, BOOK_DELTA: 68 /* 'D' */, SYSTEM: 83 /* 'S' */, GAP: 71 /* 'G' */ },
  /** FeedMsg `stampSource`. */
  StampSource: { NONE: 0, SOFTWARE: 1, HARDWARE: 2, USER: 3 },
  /** FeedMsg `path` and FeedRingHdr `writerPath`. */
  FeedPath: { NONE: 0, XDP: 1, RECVMMSG: 2, DGRAM: 3 },
  /** FeedMsg `flags` bits. */
  FeedFlag: { RETRANSMITTED: 1, SNAPSHOT: 2 },
  /** FeedRingHdr constants. */
  FeedRing: { MAGIC: 0x46454544 /* 'FEED' */, VERSION: 1, HEADER: 256, READERS: 8 },
} as const;

/** Upper bound of one journal record in bytes (a command sweeping the whole book is bounded by the engine's capacity). */
export const JOURNAL_REC_MAX = 64 << 20;

/** Enums: name → value. Values are never reused. */
export const ENUMS = {
  /** ADMIN (4) is honoured only by an engine with pre-trade risk enabled; otherwise `bad_op`. */
  Op: { NEW: 1, CANCEL: 2, MODIFY: 3, ADMIN: 4 },
  /** ADMIN actions, carried in the command's `type` byte; the value (0 off / 1 on) in `qty`. */
  Admin: { HALT: 1, KILL_ACCOUNT: 2, KILL_ALL: 3 },
  Side: { BUY: 0, SELL: 1 },
  OrdType: { LIMIT: 0, MARKET: 1 },
  Tif: { GTC: 0, IOC: 1, FOK: 2, POST_ONLY: 3 },
  EvtType: { ACCEPTED: 65 /* 'A' */, REJECTED: 82 /* 'R' */, TRADE: 84 /* 'T' */, CANCELLED: 88 /* 'X' */, MODIFIED: 77 /* 'M' */, CONTROL: 75 /* 'K' */ },
  /** Engine reject reasons: codes 1..63 belong to the engine. */
  Reason: {
    NONE: 0,
    UNKNOWN_SYMBOL: 1,
    BAD_QTY: 2,
    BAD_PRICE: 3,
    DUPLICATE_ID: 4,
    WOULD_CROSS: 5,
    UNKNOWN_ORDER: 6,
    CAPACITY: 7,
    BAD_OP: 8,
    BAD_SIDE: 9,
    BAD_TYPE: 10,
    BAD_TIF: 11,
    SELF_TRADE: 12,
    // pre-trade risk (engine with risk enabled; docs/risk.md)
    HALTED: 13,
    KILL_SWITCH: 14,
    QTY_LIMIT: 15,
    MIN_NOTIONAL: 16,
    MAX_NOTIONAL: 17,
    PRICE_COLLAR: 18,
    MAX_OPEN_ORDERS: 19,
    MAX_POSITION: 20,
  },
  Stp: { NONE: 0, CANCEL_RESTING: 1, CANCEL_INCOMING: 2, CANCEL_BOTH: 3 },
  EvtFlag: { LAST: 1, STP: 2 },
  Pool: { ORDERS: 0, LEVELS: 1 },
} as const;

/** DESIGN's snake_case reason names, indexed by code. */
export const REASON_NAMES: Readonly<Record<number, string>> = {
  1: 'unknown_symbol',
  2: 'bad_qty',
  3: 'bad_price',
  4: 'duplicate_id',
  5: 'would_cross',
  6: 'unknown_order',
  7: 'capacity',
  8: 'bad_op',
  9: 'bad_side',
  10: 'bad_type',
  11: 'bad_tif',
  12: 'self_trade',
  13: 'halted',
  14: 'kill_switch',
  15: 'qty_limit',
  16: 'min_notional',
  17: 'max_notional',
  18: 'price_collar',
  19: 'max_open_orders',
  20: 'max_position',
};

/** Canonical text of the whole ABI; the hash is FNV-1a 32 of it. */
export function abiCanonical(): string {
  const parts: string[] = [`v${ABI_VERSION}`];
  for (const r of RECORDS) {
    parts.push(`${r.name}:${r.size}:` + r.fields.map((f) => `${f.name}/${f.type}@${f.offset}`).join(','));
  }
  for (const [en, vals] of Object.entries(ENUMS)) {
    parts.push(`${en}:` + Object.entries(vals).map(([k, v]) => `${k}=${v}`).join(','));
  }
  return parts.join(';');
}

export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i) & 0xff;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export const ABI_HASH = fnv1a32(abiCanonical());

/** Checks the layout rules; throws on the first violation (used by gen and tests). */
export function checkLayout(r: RecordDef): void {
  let end = 0;
  for (const f of r.fields) {
    const sz = FIELD_SIZE[f.type];
    if (f.offset !== end) throw new Error(`${r.name}.${f.name}: offset ${f.offset}, expected ${end} (declare padding explicitly)`);
    if (f.offset % sz !== 0) throw new Error(`${r.name}.${f.name}: offset ${f.offset} not aligned to ${sz}`);
    end = f.offset + sz;
  }
  if (end !== r.size) throw new Error(`${r.name}: fields end at ${end}, size is ${r.size}`);
  if (r.size % 8 !== 0) throw new Error(`${r.name}: size ${r.size} not a multiple of 8`);
}

/** Offsets by name, for the TS side: `OFF.Evt.price`. */
function offsets(r: RecordDef): Record<string, number> {
  return Object.fromEntries(r.fields.map((f) => [f.name, f.offset]));
}

export const CMD_SIZE = CMD.size;
export const EVT_SIZE = EVT.size;
export const LEVEL_SIZE = LEVEL.size;
export const ORDER_SIZE = ORDER.size;
export const CTRL_SIZE = CTRL.size;

export const CMD_OFF = offsets(CMD) as { op: number; side: number; type: number; tif: number; symbol: number; id: number; price: number; qty: number; account: number };
export const EVT_OFF = offsets(EVT) as {
  type: number; reason: number; flags: number; side: number; symbol: number; id: number; maker: number; price: number;
  qty: number; leaves: number; makerLeaves: number; cmd: number; account: number; makerAccount: number; tradeId: number;
};
export const LEVEL_OFF = offsets(LEVEL) as { price: number; qty: number; count: number };
export const ORDER_OFF = offsets(ORDER) as { symbol: number; side: number; price: number; id: number; leaves: number; account: number; filled: number };
export const RING_CMD_SIZE = RING_CMD.size;
export const RING_EVT_SIZE = RING_EVT.size;
export const RING_CMD_OFF = offsets(RING_CMD) as { origin: number; token: number; tsIn: number; cidLen: number; cid0: number };
export const RING_EVT_OFF = offsets(RING_EVT) as { seq: number; tsInit: number; origin: number; token: number; tsIn: number; evtType: number };
export const JOURNAL_REC_SIZE = JOURNAL_REC.size;
export const JOURNAL_REC_V1_SIZE = JOURNAL_REC_V1.size;
export const CTRL_OFF = offsets(CTRL) as { arg0: number; arg1: number; hash: number; tradeSeq: number; arg2: number; arg3: number; arg4: number; arg5: number };
