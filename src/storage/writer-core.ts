/**
 * The storage writer's logic (it runs on the writer thread, writer-worker.ts): RING_EVT records →
 * rows of trades, order_events, quotes, book_snapshots and latency_samples → batches → a bounded
 * queue that spills to files → inserts with retry and backoff, exactly once per engine `seq`.
 *
 * Layout:
 * ```
 * ingest(records) ─▶ open batch per table (RowBinary rows in WRITER_LAYOUTS order, one reused
 *                      │ builder per table; cut only at a command's last event)
 *                      │ seal: ≥ batchRows rows or ≥ batchMs old
 *                      ▼
 *   FIFO of sealed batches [{table, format, firstSeq, lastSeq, body | spill file}] ─ queuedRows > maxQueueRows:
 *                      │ one insert in flight                                  newest bodies go to
 *                      ▼                                                       <dataDir>/storage-spill/
 *   ClickHouse ── ok: checkpoint[table] = lastSeq, delete the spill file
 *              └─ error: backoff 100 ms … 5 s, re-read checkpoint (max(seq) of the table), retry
 * ```
 * Invariants: batches of one table are inserted in seq order; a batch holds whole commands, so
 * max(seq) of a table is a complete checkpoint; rows with seq ≤ checkpoint are dropped before an
 * insert (restart, replay, or an insert that failed after the server applied it), so every seq
 * is written once; ingest never waits on ClickHouse (the queue only grows or spills).
 * Spill files: `<table>-<firstSeq>-<lastSeq>-<run>-<n>.l<layout>.rowbinary` (RowBinary in
 * WRITER_LAYOUTS, ROW_BINARY_LAYOUT) and, from earlier versions, `….jsonl` (JSONEachRow); both are
 * read back at start and inserted in their own format. A file of an unknown layout, or one that
 * does not walk as whole rows, is left in place and reported (lastError, errors).
 * Complexity: O(records) per ingest; a depth-10 book sample per changed symbol per quote tick;
 * trimming rows at or below the checkpoint walks the batch once (only after a restart or failure).
 * Allocation: none per event on the hot path (bytes go into the table's reused builder; a 64-bit
 * field is a bigint read from the record); one copy of the body per sealed batch.
 * Known limitations: a batch that spans two monthly partitions is two parts on the server, and an
 * insert cut between them could leave the first part only; the retry then skips rows up to the
 * new max(seq). Quotes are top-of-book samples every `quoteMs`, not every change. RowBinary does
 * not check enum values: the event type byte is written as is (the engine's EvtType codes are
 * exactly the `type` enum's values), the side as side & 1.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RING_EVT_SIZE, REASON_NAMES } from '../abi/records.js';
import {
  evtAccount, evtIdBig, evtLast, evtLeaves, evtMakerAccount, evtMakerBig, evtPriceBig, evtQty, evtReason, evtSide, evtSymbol,
  evtTradeIdBig, evtType, slotEvt, slotSeqBig, slotTsIn, slotTsInit,
} from '../abi/views.js';
import { BookProjection } from '../marketdata/book-projection.js';
import type { EventType } from '../domain/types.js';
import { TradsysError } from '../domain/errors.js';
import type { Storage } from './storage.js';
import { EVENT_TABLES, migrate, ROW_BINARY_LAYOUT, WRITER_LAYOUTS, WRITER_TABLES, type WriterTable } from './schema.js';
import { encodeString, RowBinaryBuilder, walk } from './row-binary.js';

export interface WriterOptions {
  /** Symbol names by engine symbol id. */
  symbols: string[];
  /** Tick and lot sizes (decimal strings) by symbol id, written to `instruments` at start. */
  sizes?: { tickSize: string; lotSize: string }[];
  dataDir: string;
  batchRows?: number;
  batchMs?: number;
  /** Rows held in memory before batches spill to files (default 1,000,000). */
  maxQueueRows?: number;
  /** Added to tsInit and tsIn to get Unix-epoch ns. Default 0: the engine stamps epoch ns (src/domain/clock.ts). */
  tsOffsetNs?: bigint;
  quoteMs?: number;
  snapshotMs?: number;
  /** Every Nth command yields an engine-ingress latency sample (tsInit − tsIn; default 100). */
  latencyEvery?: number;
  /**
   * Backfill at start: the journal directory and the last seq sequenced before the writer joined
   * the event ring. Records after the writer's checkpoint up to it are read from the journal, so a
   * restart (or a ClickHouse outage longer than the spill) loses nothing (exactly once by seq).
   */
  journalDir?: string;
  backfillToSeq?: string;
}

/** A sealed batch: a RowBinary body (this version) or a JSONEachRow one (spill files of earlier versions). */
interface Batch { table: WriterTable; format: 'RowBinary' | 'JSONEachRow'; firstSeq: bigint; lastSeq: bigint; rows: number; bytes: number; body: Uint8Array | string | null; file: string | null; createdAt: number; unchecked?: boolean }
interface Open { rb: RowBinaryBuilder; rows: number; firstSeq: bigint; lastSeq: bigint; createdAt: number }

const SPILL_EXT = `.l${ROW_BINARY_LAYOUT}.rowbinary`;
const COLUMNS = Object.fromEntries(WRITER_TABLES.map((t) => [t, WRITER_LAYOUTS[t].map((c) => c.name)])) as Record<WriterTable, string[]>;
const ENGINE_INGRESS = encodeString('engine_ingress');

export class WriterCore {
  readonly counters = { eventsIn: 0, rowsWritten: 0, batchesWritten: 0, errors: 0, spilledBytes: 0, spilledBatches: 0, retries: 0, skippedRows: 0, generation: 0 };
  lastSeqIn = 0n;
  readonly checkpoint = new Map<WriterTable, bigint>();
  private readonly queue: Batch[] = [];
  private readonly open = new Map<WriterTable, Open>();
  private queuedRows = 0;
  private queuedBytes = 0;
  /** Each symbol's name in UTF-8 (for RowBinaryBuilder.bytes), by symbol id. */
  private readonly sym: Uint8Array[];
  private readonly reasons = new Map<number, Uint8Array>();
  private readonly builders = new Map<WriterTable, RowBinaryBuilder>();
  private readonly book: BookProjection;
  private readonly touched = new Set<number>();
  private readonly dv = new DataView(new ArrayBuffer(0));
  private idx = 0;
  private inCommand = false;
  private lastTsNs = 0n;
  private commands = 0;
  private lastQuote = new Map<number, string>();
  private lastQuoteAt = 0;
  private lastSnapAt = 0;
  private flushing = false;
  private needCheckpoint = false;
  private backoffMs = 0;
  private retryAt = 0;
  ready = false;
  private readonly spillDir: string;
  private readonly runId = `${process.pid}-${Date.now()}`;
  lastError: string | null = null;
  private readonly o: Required<Omit<WriterOptions, 'tsOffsetNs' | 'sizes'>> & { tsOffsetNs: bigint; sizes?: WriterOptions['sizes'] };

  constructor(private readonly storage: Storage, opts: WriterOptions) {
    this.o = {
      batchRows: 50_000, batchMs: 200, maxQueueRows: 1_000_000, quoteMs: 100, snapshotMs: 1000, latencyEvery: 100,
      ...opts,
      // an explicit `tsOffsetNs: undefined` (as the thread boundary passes it) means the default
      tsOffsetNs: opts.tsOffsetNs ?? 0n,
    } as typeof this.o;
    if (!(this.o.batchRows >= 1 && this.o.maxQueueRows >= this.o.batchRows)) throw new TradsysError('ERR_STORAGE_CONFIG', 'writer: need 1 ≤ batchRows ≤ maxQueueRows');
    this.sym = opts.symbols.map((s) => encodeString(s));
    this.book = new BookProjection(opts.symbols.length);
    this.spillDir = join(opts.dataDir, 'storage-spill');
    mkdirSync(this.spillDir, { recursive: true });
    this.loadSpills();
  }

  /** Spill files of earlier runs go first: they are older than anything this run ingests. */
  private loadSpills(): void {
    const files = readdirSync(this.spillDir).filter((f) => f.endsWith('.jsonl') || f.endsWith('.rowbinary')).sort();
    for (const f of files) {
      const m = /^([a-z_]+)-(\d{20})-(\d{20})-/.exec(f);
      if (!m || !(WRITER_TABLES as readonly string[]).includes(m[1]!)) continue;
      const table = m[1] as WriterTable;
      const file = join(this.spillDir, f);
      let rows: number, bytes: number;
      if (f.endsWith('.jsonl')) {
        const body = readFileSync(file, 'utf8');
        rows = body.split('\n').length - 1;
        bytes = body.length;
      } else {
        try {
          if (!f.endsWith(SPILL_EXT)) throw new Error(`layout other than l${ROW_BINARY_LAYOUT}`);
          const body = readFileSync(file);
          rows = walk(body, WRITER_LAYOUTS[table]).rows;
          bytes = body.byteLength;
        } catch (e) {
          // kept for a person to look at, never dropped silently
          this.counters.errors++;
          this.lastError = `spill file ${f} cannot be read back: ${(e as Error).message}`;
          continue;
        }
      }
      this.queue.push({ table, format: f.endsWith('.jsonl') ? 'JSONEachRow' : 'RowBinary', firstSeq: BigInt(m[2]!), lastSeq: BigInt(m[3]!), rows, bytes, body: null, file, createdAt: Date.now() });
      this.counters.spilledBytes += bytes;
    }
    // per table, in seq order; tables interleave freely
    this.queue.sort((a, b) => (a.table !== b.table ? (a.table < b.table ? -1 : 1) : a.firstSeq < b.firstSeq ? -1 : a.firstSeq > b.firstSeq ? 1 : 0));
  }

  /** Connects, migrates and reads each table's checkpoint (max(seq)); throws while ClickHouse is down. */
  async start(): Promise<void> {
    await migrate(this.storage);
    if (this.o.sizes && this.o.sizes.length > 0) {
      const now = (BigInt(Date.now()) * 1_000_000n).toString();
      await this.storage.insert('instruments', this.o.sizes.map((z, i) => ({ symbol: this.o.symbols[i]!, symbol_id: i, tick_size: z.tickSize, lot_size: z.lotSize, updated_ns: now })));
    }
    await this.readCheckpoints();
    this.ready = true;
  }

  private async readCheckpoints(): Promise<void> {
    for (const t of EVENT_TABLES) {
      const r = await this.storage.query<{ s: string }>(`SELECT toString(max(seq)) AS s FROM ${t}`);
      this.checkpoint.set(t, BigInt(r.rows[0]?.s ?? '0'));
    }
  }

  /** The open batch's builder for a row of `table` at `seq` (opens the batch). */
  private row(table: WriterTable, seq: bigint): RowBinaryBuilder {
    let b = this.open.get(table);
    if (!b) {
      let rb = this.builders.get(table);
      if (!rb) { rb = new RowBinaryBuilder(); this.builders.set(table, rb); }
      b = { rb, rows: 0, firstSeq: seq, lastSeq: seq, createdAt: Date.now() };
      this.open.set(table, b);
    }
    b.rows++;
    b.lastSeq = seq;
    return b.rb;
  }

  /**
   * Appends `rows` rows already encoded in WRITER_LAYOUTS[table] (strategy signals, encoded by
   * StorageWriter.signals on the gateway thread) to the table's open batch; `seq` names the batch
   * (spill file names). Copies the bytes.
   */
  appendRows(table: WriterTable, body: Uint8Array, rows: number, seq: bigint): void {
    if (rows <= 0) return;
    const rb = this.row(table, seq);
    this.open.get(table)!.rows += rows - 1;
    rb.ensure(body.byteLength);
    rb.buf.set(body, rb.len);
    rb.len += body.byteLength;
  }

  private symbolBytes(symbol: number): Uint8Array {
    return this.sym[symbol] ?? encodeString(`#${symbol}`);
  }

  private reasonBytes(reason: number): Uint8Array {
    let r = this.reasons.get(reason);
    if (!r) { r = encodeString(reason ? REASON_NAMES[reason] ?? `reason_${reason}` : ''); this.reasons.set(reason, r); }
    return r;
  }

  /** Decodes `count` RING_EVT records from `buf` (at offset 0). Never waits. */
  ingest(buf: Uint8Array, count: number): void {
    const dv = buf.buffer === this.dv.buffer ? this.dv : new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let k = 0; k < count; k++) {
      const b = k * RING_EVT_SIZE;
      const e = slotEvt(b);
      const seq = slotSeqBig(dv, b);
      const tsInit = slotTsInit(dv, b);
      const tsIn = slotTsIn(dv, b);
      const type = evtType(dv, e);
      const reason = evtReason(dv, e);
      const last = evtLast(dv, e);
      const side = evtSide(dv, e);
      const symbol = evtSymbol(dv, e);
      const id = evtIdBig(dv, e);
      const maker = evtMakerBig(dv, e);
      const price = evtPriceBig(dv, e);
      const qty = evtQty(dv, e);
      const leaves = evtLeaves(dv, e);
      const account = evtAccount(dv, e);
      const makerAccount = evtMakerAccount(dv, e);
      const tradeId = evtTradeIdBig(dv, e);
      const ts = tsInit + this.o.tsOffsetNs;
      this.lastTsNs = ts;
      this.lastSeqIn = seq;
      this.counters.eventsIn++;
      const kind = String.fromCharCode(type);
      const symBytes = this.symbolBytes(symbol);
      // order_events, in WRITER_LAYOUTS order
      let w = this.row('order_events', seq);
      w.bytes(symBytes); w.i64(ts); w.u64(seq); w.u16(this.idx); w.u8(type); w.u32(account); w.u64(id); w.u8(side & 1);
      w.i64(price); w.u64n(qty); w.u64n(leaves); w.u64(maker); w.u32(makerAccount); w.u64(tradeId);
      w.bytes(this.reasonBytes(reason)); w.u8(reason); w.i64(tsIn === 0n ? 0n : tsIn + this.o.tsOffsetNs);
      if (kind === 'T') {
        w = this.row('trades', seq);
        w.bytes(symBytes); w.i64(ts); w.u64(tradeId); w.u64(seq); w.i64(price); w.u64n(qty); w.u8(side & 1); w.u64(id); w.u64(maker); w.u32(account); w.u32(makerAccount);
      }
      if (symbol < this.sym.length && kind !== 'K') {
        this.book.apply({ type: kind as EventType, symbol, id: Number(id), maker: Number(maker), price: Number(price), qty, side, last });
        if (kind !== 'R') this.touched.add(symbol);
      }
      this.idx++;
      this.inCommand = !last;
      if (last) {
        this.idx = 0;
        if (tsIn !== 0n && ++this.commands % this.o.latencyEvery === 0) {
          const l = this.row('latency_samples', seq);
          l.bytes(ENGINE_INGRESS); l.i64(ts); l.u64(seq); l.i64(tsInit - tsIn);
        }
      }
    }
    this.sample(Date.now());
  }

  /**
   * A stage latency sample from the gateway (src/monitoring/latency.ts, ≤ 1 per stage per second):
   * a `latency_samples` row with component = the stage name; its seq is the last engine seq this
   * writer had taken. Stage rows go in their own batches, inserted without the seq checkpoint
   * (`unchecked`: neither trimmed by it nor moving it), so the engine_ingress rows keep it exact.
   * Known limitation: a spilled stage batch read back after a restart goes through the checkpoint
   * like any other, and may be dropped (samples, not data).
   */
  latencyStage(component: string, tsNs: bigint, latencyNs: number): void {
    let c = this.stageNames.get(component);
    if (!c) { c = encodeString(component); this.stageNames.set(component, c); }
    const seq = this.lastSeqIn;
    let b = this.stageBatch;
    if (!b) b = this.stageBatch = { rb: new RowBinaryBuilder(), rows: 0, firstSeq: seq, lastSeq: seq, createdAt: Date.now() };
    b.rows++;
    b.lastSeq = seq;
    const l = b.rb;
    l.bytes(c); l.i64(tsNs); l.u64(seq); l.i64(BigInt(Math.round(latencyNs)));
  }
  private readonly stageNames = new Map<string, Uint8Array>();
  /** Stage samples: their own batch, written without the seq checkpoint (their seq repeats while the engine is idle). */
  private stageBatch: Open | null = null;

  /** Top-of-book quotes (every quoteMs) and depth-10 snapshots (every snapshotMs) for changed symbols. */
  private sample(now: number): void {
    if (this.inCommand || this.touched.size === 0) return;
    const seq = this.lastSeqIn;
    const ts = this.lastTsNs;
    if (now - this.lastQuoteAt >= this.o.quoteMs) {
      this.lastQuoteAt = now;
      for (const s of this.touched) {
        const [bb] = this.book.depth(s, 0, 1);
        const [ba] = this.book.depth(s, 1, 1);
        const key = `${bb?.[0]},${bb?.[1]},${ba?.[0]},${ba?.[1]}`;
        if (this.lastQuote.get(s) === key) continue;
        this.lastQuote.set(s, key);
        const w = this.row('quotes', seq);
        w.bytes(this.sym[s]!); w.i64(ts); w.u64(seq); w.i64n(bb?.[0] ?? 0); w.u64n(bb?.[1] ?? 0); w.i64n(ba?.[0] ?? 0); w.u64n(ba?.[1] ?? 0);
      }
    }
    if (now - this.lastSnapAt >= this.o.snapshotMs) {
      this.lastSnapAt = now;
      for (const s of this.touched) {
        const bids = this.book.depth(s, 0, 10);
        const asks = this.book.depth(s, 1, 10);
        const w = this.row('book_snapshots', seq);
        w.bytes(this.sym[s]!); w.i64(ts); w.u64(seq); w.u16(10);
        for (const [xs, i] of [[bids, 0], [bids, 1], [bids, 2], [asks, 0], [asks, 1], [asks, 2]] as const) {
          w.varint(xs.length);
          for (const x of xs) { if (i === 0) w.i64n(x[0]); else if (i === 1) w.u64n(x[1]); else w.u32(x[2]); }
        }
        this.book.takeChanges(s);
      }
      this.touched.clear();
    }
  }

  /** Seals open batches that are full or old (only between commands), then bounds the queue. */
  seal(now: number, force = false): void {
    if (this.inCommand) return;
    for (const [table, b] of this.open) {
      if (!force && b.rows < this.o.batchRows && now - b.createdAt < this.o.batchMs) continue;
      this.open.delete(table);
      const body = b.rb.take();
      this.queue.push({ table, format: 'RowBinary', firstSeq: b.firstSeq, lastSeq: b.lastSeq, rows: b.rows, bytes: body.byteLength, body, file: null, createdAt: b.createdAt });
      this.queuedRows += b.rows;
      this.queuedBytes += body.byteLength;
    }
    const sb = this.stageBatch;
    if (sb && (force || sb.rows >= this.o.batchRows || now - sb.createdAt >= this.o.batchMs)) {
      this.stageBatch = null;
      const body = sb.rb.take();
      this.queue.push({ table: 'latency_samples', format: 'RowBinary', firstSeq: sb.firstSeq, lastSeq: sb.lastSeq, rows: sb.rows, bytes: body.byteLength, body, file: null, createdAt: sb.createdAt, unchecked: true });
      this.queuedRows += sb.rows;
      this.queuedBytes += body.byteLength;
    }
    // over the bound: the newest in-memory bodies go to files (order in the queue is kept)
    for (let i = this.queue.length - 1; i >= 1 && this.queuedRows > this.o.maxQueueRows; i--) {
      const q = this.queue[i]!;
      if (q.body !== null) this.spill(q);
    }
  }

  private spill(q: Batch): void {
    const ext = q.format === 'RowBinary' ? SPILL_EXT : '.jsonl';
    const name = `${q.table}-${q.firstSeq.toString().padStart(20, '0')}-${q.lastSeq.toString().padStart(20, '0')}-${this.runId}-${this.counters.spilledBatches}${ext}`;
    const file = join(this.spillDir, name);
    writeFileSync(file + '.tmp', q.body!);
    renameSync(file + '.tmp', file);
    q.file = file;
    q.body = null;
    this.queuedRows -= q.rows;
    this.queuedBytes -= q.bytes;
    this.counters.spilledBytes += q.bytes;
    this.counters.spilledBatches++;
  }

  /** Spills everything still in memory (at stop): nothing is lost when ClickHouse is down. */
  spillAll(): void {
    this.seal(Date.now(), true);
    for (const q of this.queue) if (q.body !== null) this.spill(q);
  }

  get depth(): { batches: number; rows: number; bytes: number; spilledBatches: number } {
    return { batches: this.queue.length, rows: this.queuedRows, bytes: this.queuedBytes, spilledBatches: this.queue.filter((q) => q.file !== null).length };
  }

  /** Seconds since the oldest batch not yet written was started (0 when all is written). */
  lagSeconds(now: number): number {
    let oldest = Infinity;
    for (const q of this.queue) oldest = Math.min(oldest, q.createdAt);
    for (const b of this.open.values()) oldest = Math.min(oldest, b.createdAt);
    return oldest === Infinity ? 0 : (now - oldest) / 1000;
  }

  get pending(): number { return this.queue.length + this.open.size; }
  get busy(): boolean { return this.flushing; }

  /** One step of the flusher: inserts the head batch (one in flight). Never throws. */
  async flushOne(now: number): Promise<boolean> {
    if (this.flushing || now < this.retryAt) return false;
    this.flushing = true;
    try {
      if (!this.ready) await this.start();
      const q = this.queue[0];
      if (!q) return false;
      // after a failure the server may have applied the insert anyway: re-read before retrying
      if (this.needCheckpoint) { await this.readCheckpoints(); this.needCheckpoint = false; }
      // strategy_signals (no checkpoint, EVENT_TABLES) and latency samples (`unchecked`) go in as they are
      const cp = q.unchecked ? -1n : this.checkpoint.get(q.table) ?? -1n;
      if (q.lastSeq <= cp) { this.drop(q, q.rows); return true; }
      let rows = q.rows;
      if (q.format === 'RowBinary') {
        let body = (q.body ?? readFileSync(q.file!)) as Uint8Array;
        if (q.firstSeq <= cp) {
          // rows are in seq order: keep the tail after the checkpoint
          const w = walk(body, WRITER_LAYOUTS[q.table], 'seq', cp);
          this.counters.skippedRows += w.firstAfterRow;
          rows -= w.firstAfterRow;
          body = body.subarray(w.firstAfter);
        }
        await this.storage.insert(q.table, { format: 'RowBinary', body, columns: COLUMNS[q.table] });
      } else {
        let body = (q.body ?? readFileSync(q.file!, 'utf8')) as string;
        if (q.firstSeq <= cp) {
          const kept = body.split('\n').filter((l) => l !== '' && BigInt(/"seq":"(\d+)"/.exec(l)![1]!) > cp);
          this.counters.skippedRows += rows - kept.length;
          rows = kept.length;
          body = kept.join('\n') + '\n';
        }
        await this.storage.insert(q.table, { format: 'JSONEachRow', body });
      }
      if (!q.unchecked && this.checkpoint.has(q.table)) this.checkpoint.set(q.table, q.lastSeq);
      this.counters.rowsWritten += rows;
      this.counters.batchesWritten++;
      this.counters.generation++;
      this.drop(q, 0);
      this.backoffMs = 0;
      return true;
    } catch (e) {
      this.counters.errors++;
      this.lastError = (e as Error).message;
      this.backoffMs = Math.min(5000, this.backoffMs === 0 ? 100 : this.backoffMs * 2);
      this.retryAt = Date.now() + this.backoffMs;
      this.counters.retries++;
      this.needCheckpoint = true;
      return false;
    } finally {
      this.flushing = false;
    }
  }

  private drop(q: Batch, skipped: number): void {
    this.queue.shift();
    this.counters.skippedRows += skipped;
    if (q.body !== null) { this.queuedRows -= q.rows; this.queuedBytes -= q.bytes; }
    if (q.file) { try { unlinkSync(q.file); } catch { /* already gone */ } this.counters.spilledBytes -= q.bytes; }
  }
}
