/**
 * FeedRing: the feed receivers' output, a single-writer, multi-reader ring of 72-byte FeedMsg
 * records in a SharedArrayBuffer (docs/feed.md "The ring"), shared with the native receive thread
 * (native/include/records.h ts_feedringhdr_t / ts_feedmsg_t).
 *
 * Owns: creating and attaching rings, claiming and releasing reader cursors and the writer role,
 * the JS writer (the dgram path) and the JS readers (book builder, strategies, `feed listen`), and
 * the FeedMsg field readers.
 *
 * Layout: FeedRingHdr (256 B, src/abi/records.ts) then `capacity` records of 72 B; record i lives
 * at 256 + (i & (capacity − 1)) · 72. All fields little-endian.
 * ```
 *  0 magic · 4 version · 8 capacity · 12 recordSize · 16 readerMax · 20 writerPath (0 = no writer)
 * 64 writeSeq u64 · 72 overruns u64 · 80 lastSeq u64 · 88 gaps u64 · 128 + 8·i cursor<i> u64 (~0 = unused)
 * ```
 * Protocol (the native writer implements the same):
 * - writer: record w may be written only if w − min(active cursors) < capacity (else the message is
 *   dropped and `overruns` incremented); it writes the record's bytes, then stores `writeSeq` = w + 1
 *   with release order (once per batch is fine), then `lastSeq` (feed seq of the newest message).
 *   The writer role is claimed by compare-exchange of `writerPath` 0 → its FeedPath, released to 0.
 * - reader: claims cursor i by compare-exchange ~0 → writeSeq (it joins at the live edge, then moves
 *   forward once more to the edge, as the writer may not have seen the claim); reads records
 *   [cursor, writeSeq) after an acquire load of writeSeq; stores cursor (release) when done with them;
 *   releases the slot by storing ~0.
 * - 64-bit words are stored by JS as one 32-bit atomic store of the low half while the high half is
 *   unchanged, and as one 64-bit atomic store when it changes (every 2^32 records): a 64-bit atomic
 *   load on the other side never sees a torn value. Differences (available, lag) use the low 32 bits:
 *   they never exceed the capacity (≤ 2^24).
 * Invariants: each active reader sees every record written after it joined, once, in order, and a
 * record stays unchanged until every active reader has passed it; a dropped message (overrun) is
 * visible to readers as a jump in `seq` and in the header's `overruns`.
 * Complexity: O(1) per record; the writer scans the 8 cursors once per publish and when it reaches
 * the cached limit.
 * Allocation: none per record, per claim, per publish or per poll; a BigInt per 64-bit header read
 * for stats (`header()`) and per 2^32 records.
 * Known limitations: a reader cannot start before the live edge (older records are not protected);
 * JS readers wait by polling (`waitFor` naps): a native writer cannot wake an Atomics.wait.
 */
import { FEED_ENUMS, FEED_MSG, FEED_RING_HDR } from '../../abi/records.js';
import { TradsysError } from '../../domain/errors.js';
import { R } from './codec.js';

const RING = FEED_ENUMS.FeedRing;
export const FEED_RING_HEADER = RING.HEADER;
export const FEED_RECORD = FEED_MSG.size;
export const FEED_READERS = RING.READERS;
if (FEED_RING_HDR.size !== FEED_RING_HEADER || FEED_RECORD % 8 !== 0) throw new Error('FeedRingHdr/FeedMsg layout changed under ring.ts');

function hdrOff(name: string): number {
  const f = FEED_RING_HDR.fields.find((x) => x.name === name);
  if (!f) throw new Error(`FeedRingHdr.${name}: no such field`);
  return f.offset;
}
// Int32 word indexes of the header fields
const W_MAGIC = hdrOff('magic') >> 2;
const W_VERSION = hdrOff('version') >> 2;
const W_CAPACITY = hdrOff('capacity') >> 2;
const W_RECSIZE = hdrOff('recordSize') >> 2;
const W_READERS = hdrOff('readerMax') >> 2;
const W_WRITER = hdrOff('writerPath') >> 2;
const W_WRITE_SEQ = hdrOff('writeSeq') >> 2;
const W_OVERRUNS = hdrOff('overruns') >> 2;
const W_LAST_SEQ = hdrOff('lastSeq') >> 2;
const W_GAPS = hdrOff('gaps') >> 2;
const W_CURSOR0 = hdrOff('cursor0') >> 2;

const TWO32 = 4294967296;
const UNUSED = -1; // both 32-bit halves of ~0
const MAX_CAPACITY = 1 << 24;

export interface FeedRingHeader {
  capacity: number;
  writerPath: number;
  /** Records ever published. */
  writeSeq: number;
  overruns: number;
  lastSeq: number;
  gaps: number;
  /** Active reader cursors (slot → next record index). */
  readers: { slot: number; cursor: number }[];
}

/** A 64-bit header word pair (i32 words `w`, `w + 1`) stored without tearing (see the header). */
function store64(i32: Int32Array, big: BigInt64Array, w: number, old: number, v: number): void {
  const hi = Math.floor(v / TWO32);
  if (hi === Math.floor(old / TWO32)) Atomics.store(i32, w, (v - hi * TWO32) | 0);
  else Atomics.store(big, w >> 1, BigInt(v));
}

function load64(i32: Int32Array, w: number): number {
  // high then low, re-read high: a consistent pair without a BigInt
  for (;;) {
    const hi = Atomics.load(i32, w + 1);
    const lo = Atomics.load(i32, w);
    if (Atomics.load(i32, w + 1) === hi) return (hi >>> 0) * TWO32 + (lo >>> 0);
  }
}

export class FeedRing {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  readonly mask: number;
  /** The whole buffer (header and records), for the record readers below. */
  readonly dv: DataView;
  readonly u8: Uint8Array;
  /** @internal */ readonly i32: Int32Array;
  /** @internal */ readonly big: BigInt64Array;

  /** Allocates a ring of `capacity` records (a power of two in [2, 2^24]). */
  static create(capacity: number): FeedRing {
    if (!Number.isInteger(capacity) || capacity < 2 || capacity > MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
      throw new TradsysError('ERR_FEED_CONFIG', `feed ring capacity must be a power of two in [2, 2^24], got ${capacity}`);
    }
    const sab = new SharedArrayBuffer(FEED_RING_HEADER + capacity * FEED_RECORD);
    const i32 = new Int32Array(sab, 0, FEED_RING_HEADER >> 2);
    i32[W_VERSION] = RING.VERSION;
    i32[W_CAPACITY] = capacity;
    i32[W_RECSIZE] = FEED_RECORD;
    i32[W_READERS] = FEED_READERS;
    for (let i = 0; i < FEED_READERS; i++) { i32[W_CURSOR0 + 2 * i] = UNUSED; i32[W_CURSOR0 + 2 * i + 1] = UNUSED; }
    Atomics.store(i32, W_MAGIC, RING.MAGIC);
    return new FeedRing(sab);
  }

  /** Attaches to an existing ring (checks magic, version, record size and geometry; ERR_FEED_RING). */
  static attach(sab: SharedArrayBuffer): FeedRing { return new FeedRing(sab); }

  private constructor(sab: SharedArrayBuffer) {
    if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < FEED_RING_HEADER) throw new TradsysError('ERR_FEED_RING', 'not a SharedArrayBuffer with a feed ring header');
    const i32 = new Int32Array(sab, 0, FEED_RING_HEADER >> 2);
    if (Atomics.load(i32, W_MAGIC) !== RING.MAGIC) throw new TradsysError('ERR_FEED_RING', 'bad magic: not a feed ring');
    if (i32[W_VERSION] !== RING.VERSION) throw new TradsysError('ERR_FEED_RING', `feed ring version ${i32[W_VERSION]}, expected ${RING.VERSION}`);
    if (i32[W_RECSIZE] !== FEED_RECORD) throw new TradsysError('ERR_FEED_RING', `record size ${i32[W_RECSIZE]}, expected ${FEED_RECORD}`);
    const cap = i32[W_CAPACITY]!;
    if (cap < 2 || cap > MAX_CAPACITY || (cap & (cap - 1)) !== 0 || sab.byteLength < FEED_RING_HEADER + cap * FEED_RECORD) {
      throw new TradsysError('ERR_FEED_RING', `bad capacity ${cap} for a ${sab.byteLength}-byte buffer`);
    }
    if (i32[W_READERS] !== FEED_READERS) throw new TradsysError('ERR_FEED_RING', `readerMax ${i32[W_READERS]}, expected ${FEED_READERS}`);
    this.sab = sab;
    this.capacity = cap;
    this.mask = cap - 1;
    this.i32 = i32;
    this.big = new BigInt64Array(sab, 0, FEED_RING_HEADER >> 3);
    this.dv = new DataView(sab);
    this.u8 = new Uint8Array(sab);
  }

  /** Byte offset (in `dv`) of record index `i`. */
  offsetOf(i: number): number { return FEED_RING_HEADER + (i & this.mask) * FEED_RECORD; }

  /** Records ever published (acquire). */
  get writeSeq(): number { return load64(this.i32, W_WRITE_SEQ); }
  get overruns(): number { return load64(this.i32, W_OVERRUNS); }
  get lastSeq(): number { return load64(this.i32, W_LAST_SEQ); }
  get gaps(): number { return load64(this.i32, W_GAPS); }
  get writerPath(): number { return Atomics.load(this.i32, W_WRITER); }

  /** A snapshot of the header (allocates; for stats). */
  header(): FeedRingHeader {
    const readers: { slot: number; cursor: number }[] = [];
    for (let i = 0; i < FEED_READERS; i++) {
      const w = W_CURSOR0 + 2 * i;
      if (Atomics.load(this.i32, w) === UNUSED && Atomics.load(this.i32, w + 1) === UNUSED) continue;
      readers.push({ slot: i, cursor: load64(this.i32, w) });
    }
    return {
      capacity: this.capacity, writerPath: this.writerPath, writeSeq: this.writeSeq, overruns: this.overruns,
      lastSeq: this.lastSeq, gaps: this.gaps, readers,
    };
  }

  /** Claims a reader cursor at the live edge (ERR_FEED_RING when all 8 are taken). */
  openReader(): FeedRingReader {
    for (let i = 0; i < FEED_READERS; i++) {
      const b = (W_CURSOR0 >> 1) + i;
      const edge = BigInt(this.writeSeq);
      if (Atomics.compareExchange(this.big, b, -1n, edge) !== -1n) continue;
      // the writer may have computed its limit before the claim: move to the edge again (forward only)
      const again = this.writeSeq;
      if (again !== Number(edge)) Atomics.store(this.big, b, BigInt(again));
      return new FeedRingReader(this, i, again);
    }
    throw new TradsysError('ERR_FEED_RING', `all ${FEED_READERS} reader cursors of the feed ring are taken`);
  }

  /** Claims the writer role for `path` (a FeedPath; ERR_FEED_RING when another writer holds it). */
  openWriter(path: number): FeedRingWriter {
    if (!Number.isInteger(path) || path <= 0 || path > 255) throw new TradsysError('ERR_FEED_CONFIG', `bad writer path ${path}`);
    const held = Atomics.compareExchange(this.i32, W_WRITER, 0, path);
    if (held !== 0) throw new TradsysError('ERR_FEED_RING', `the feed ring already has a writer (path ${held})`);
    return new FeedRingWriter(this, path);
  }
}

/**
 * The ring's one JS writer (the dgram path; the native paths write from C). Write protocol:
 * `claim()` → byte offset of the next slot in `ring.dv` (or −1: dropped, counted), fill the record,
 * `commit(feedSeq)`; `publish()` once per batch.
 */
export class FeedRingWriter {
  readonly ring: FeedRing;
  readonly path: number;
  /** Records written (published or not). */
  private local: number;
  private published: number;
  /** local may grow up to (not including) this before the cursors are scanned again. */
  private limit = 0;
  private overrunCount: number;
  private lastSeqValue: number;
  private lastSeqStored: number;
  private gapCount: number;
  private closed = false;

  /** @internal */
  constructor(ring: FeedRing, path: number) {
    this.ring = ring;
    this.path = path;
    this.local = this.published = ring.writeSeq;
    this.overrunCount = ring.overruns;
    this.lastSeqValue = this.lastSeqStored = ring.lastSeq;
    this.gapCount = ring.gaps;
    this.scan();
  }

  private scan(): void {
    const i32 = this.ring.i32;
    const pubLo = this.published | 0;
    let lag = 0;
    let any = false;
    for (let i = 0; i < FEED_READERS; i++) {
      const w = W_CURSOR0 + 2 * i;
      const lo = Atomics.load(i32, w);
      if (lo === UNUSED && Atomics.load(i32, w + 1) === UNUSED) continue;
      any = true;
      const behind = (pubLo - lo) >>> 0;
      if (behind <= this.ring.capacity && behind > lag) lag = behind;
    }
    // no reader: a reader joining later joins at `published` or beyond
    this.limit = this.published - (any ? lag : 0) + this.ring.capacity;
  }

  /** Byte offset in `ring.dv` of the next record's slot, or −1 when a reader is a full ring behind (counted as an overrun). */
  claim(): number {
    if (this.local >= this.limit) {
      this.scan();
      if (this.local >= this.limit) { this.overrunCount++; return -1; }
    }
    return this.ring.offsetOf(this.local);
  }

  /** The claimed record is written; `feedSeq` is its feed sequence number. */
  commit(feedSeq: number): void {
    this.local++;
    this.lastSeqValue = feedSeq;
  }

  /** Adds `n` messages to the header's unrecovered-gap count (with a GAP record the caller wrote). */
  addGaps(n: number): void { this.gapCount += n; }

  /** Publishes the committed records and the counters (release). No allocation (except every 2^32 records). */
  publish(): void {
    const r = this.ring;
    if (this.local !== this.published) {
      store64(r.i32, r.big, W_WRITE_SEQ, this.published, this.local);
      this.published = this.local;
    }
    if (this.lastSeqValue !== this.lastSeqStored) { store64(r.i32, r.big, W_LAST_SEQ, this.lastSeqStored, this.lastSeqValue); this.lastSeqStored = this.lastSeqValue; }
    const ov = load64(r.i32, W_OVERRUNS);
    if (ov !== this.overrunCount) store64(r.i32, r.big, W_OVERRUNS, ov, this.overrunCount);
    const g = load64(r.i32, W_GAPS);
    if (g !== this.gapCount) store64(r.i32, r.big, W_GAPS, g, this.gapCount);
    this.scan();
  }

  get overruns(): number { return this.overrunCount; }
  get written(): number { return this.local; }

  /** Publishes what is left and releases the writer role. */
  close(): void {
    if (this.closed) return;
    this.publish();
    this.closed = true;
    Atomics.compareExchange(this.ring.i32, W_WRITER, this.path, 0);
  }
}

/**
 * One reader's cursor. In place: `available()`, then the k-th unread record at byte `at(k)` of
 * `ring.dv` (read it with the `rec*` functions), then `consume(n)`. Or `poll` to copy records out.
 */
export class FeedRingReader {
  readonly ring: FeedRing;
  readonly slot: number;
  private pos: number;
  private readonly w: number;
  private closed = false;

  /** @internal */
  constructor(ring: FeedRing, slot: number, pos: number) {
    this.ring = ring;
    this.slot = slot;
    this.pos = pos;
    this.w = W_CURSOR0 + 2 * slot;
  }

  /** The index of the next record this reader will read. */
  get cursor(): number { return this.pos; }

  /** Records published after the cursor (acquire). No allocation. */
  available(): number {
    if (this.closed) return 0;
    return (Atomics.load(this.ring.i32, W_WRITE_SEQ) - (this.pos | 0)) >>> 0;
  }

  /** Byte offset (in `ring.dv`) of the k-th unread record. */
  at(k: number): number { return this.ring.offsetOf(this.pos + k); }

  /** Done with the next `n` records: the writer may reuse their slots. */
  consume(n: number): void {
    if (n <= 0 || this.closed) return;
    const next = this.pos + n;
    store64(this.ring.i32, this.ring.big, this.w, this.pos, next);
    this.pos = next;
  }

  /** Copies up to `max` unread records into `dst` at `offset` and consumes them; returns how many. */
  poll(dst: Uint8Array, offset: number, max: number): number {
    const n = Math.min(this.available(), max, Math.floor((dst.byteLength - offset) / FEED_RECORD));
    const u8 = this.ring.u8;
    for (let k = 0; k < n; k++) {
      const o = this.at(k);
      dst.set(u8.subarray(o, o + FEED_RECORD), offset + k * FEED_RECORD);
    }
    this.consume(n);
    return n;
  }

  /** Waits (1 ms naps, no spinning) up to `timeoutMs` for a record; returns whether one is there. */
  waitFor(timeoutMs: number, nap: Int32Array = NAP): boolean {
    if (this.available() > 0) return true;
    const end = performance.now() + timeoutMs;
    while (performance.now() < end) {
      Atomics.wait(nap, 0, 0, Math.min(1, Math.max(0, end - performance.now())));
      if (this.available() > 0) return true;
    }
    return false;
  }

  /** Releases the cursor slot: the writer stops waiting for this reader. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ring.big, this.w >> 1, -1n);
  }
}

const NAP = new Int32Array(new SharedArrayBuffer(4));

// ---------------------------------------------------------------------------------------------
// FeedMsg field readers (record at byte `o` of a little-endian DataView). No allocation except the
// …Big readers (one BigInt).

const TWO32R = TWO32;
export function recType(dv: DataView, o: number): number { return dv.getUint8(o + R.type); }
export function recSide(dv: DataView, o: number): number { return dv.getUint8(o + R.side); }
export function recStampSource(dv: DataView, o: number): number { return dv.getUint8(o + R.stampSource); }
export function recPath(dv: DataView, o: number): number { return dv.getUint8(o + R.path); }
export function recSymbol(dv: DataView, o: number): number { return dv.getUint32(o + R.symbol, true); }
export function recSeq(dv: DataView, o: number): number { return dv.getUint32(o + R.seq + 4, true) * TWO32R + dv.getUint32(o + R.seq, true); }
export function recOrderId(dv: DataView, o: number): number { return dv.getUint32(o + R.orderId + 4, true) * TWO32R + dv.getUint32(o + R.orderId, true); }
export function recPrice(dv: DataView, o: number): number { return dv.getInt32(o + R.price + 4, true) * TWO32R + dv.getUint32(o + R.price, true); }
export function recQty(dv: DataView, o: number): number { return dv.getUint32(o + R.qty, true); }
export function recFlags(dv: DataView, o: number): number { return dv.getUint32(o + R.flags, true); }
export function recMatchId(dv: DataView, o: number): number { return dv.getUint32(o + R.matchId + 4, true) * TWO32R + dv.getUint32(o + R.matchId, true); }
export function recTsSendBig(dv: DataView, o: number): bigint { return dv.getBigInt64(o + R.tsSend, true); }
export function recTsRecvBig(dv: DataView, o: number): bigint { return dv.getBigInt64(o + R.tsRecv, true); }
export function recTsRingBig(dv: DataView, o: number): bigint { return dv.getBigInt64(o + R.tsRing, true); }
/** tsRecv − tsSend in ns as a number (exact while below 2^53 ns; the hi words cancel). No allocation. */
export function recWireNs(dv: DataView, o: number): number {
  return (dv.getInt32(o + R.tsRecv + 4, true) - dv.getInt32(o + R.tsSend + 4, true)) * TWO32R
    + (dv.getUint32(o + R.tsRecv, true) - dv.getUint32(o + R.tsSend, true));
}
/** tsRing − tsRecv in ns (receive stamp to ring). No allocation. */
export function recRingNs(dv: DataView, o: number): number {
  return (dv.getInt32(o + R.tsRing + 4, true) - dv.getInt32(o + R.tsRecv + 4, true)) * TWO32R
    + (dv.getUint32(o + R.tsRing, true) - dv.getUint32(o + R.tsRecv, true));
}

/** A FeedMsg record as a plain object (allocates; tools, tests, `--json` dumps). */
export interface FeedRecord {
  type: string; side: number; stampSource: number; path: number; symbol: number; seq: number; orderId: number;
  price: number; qty: number; flags: number; matchId: number; tsSend: bigint; tsRecv: bigint; tsRing: bigint;
}
export function readRecord(dv: DataView, o: number): FeedRecord {
  return {
    type: String.fromCharCode(recType(dv, o)), side: recSide(dv, o), stampSource: recStampSource(dv, o), path: recPath(dv, o),
    symbol: recSymbol(dv, o), seq: recSeq(dv, o), orderId: recOrderId(dv, o), price: recPrice(dv, o), qty: recQty(dv, o),
    flags: recFlags(dv, o), matchId: recMatchId(dv, o), tsSend: recTsSendBig(dv, o), tsRecv: recTsRecvBig(dv, o), tsRing: recTsRingBig(dv, o),
  };
}
