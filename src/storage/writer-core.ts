/**
 * The storage writer's logic (it runs on the writer thread, writer-worker.ts): RING_EVT records →
 * rows of trades, order_events, quotes, book_snapshots and latency_samples → batches → a bounded
 * queue that spills to files → inserts with retry and backoff, exactly once per engine `seq`.
 *
 * Layout:
 * ```
 * ingest(records) ─▶ open batch per table (JSONEachRow lines, cut only at a command's last event)
 *                      │ seal: ≥ batchRows rows or ≥ batchMs old
 *                      ▼
 *   FIFO of sealed batches [{table, firstSeq, lastSeq, body | spill file}]  ── queuedRows > maxQueueRows:
 *                      │ one insert in flight                                  newest bodies go to
 *                      ▼                                                       <dataDir>/storage-spill/
 *   ClickHouse ── ok: checkpoint[table] = lastSeq, delete the spill file
 *              └─ error: backoff 100 ms … 5 s, re-read checkpoint (max(seq) of the table), retry
 * ```
 * Invariants: batches of one table are inserted in seq order; a batch holds whole commands, so
 * max(seq) of a table is a complete checkpoint; rows with seq ≤ checkpoint are dropped before an
 * insert (restart, replay, or an insert that failed after the server applied it), so every seq
 * is written once; ingest never waits on ClickHouse (the queue only grows or spills).
 * Complexity: O(records) per ingest; a depth-10 book sample per changed symbol per quote tick.
 * Allocation: a row string per event (writer thread only, never the engine's).
 * Known limitations: a batch that spans two monthly partitions is two parts on the server, and an
 * insert cut between them could leave the first part only; the retry then skips rows up to the
 * new max(seq). Quotes are top-of-book samples every `quoteMs`, not every change.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RING_EVT_SIZE, REASON_NAMES } from '../abi/records.js';
import { BookProjection, type EventKind } from '../marketdata/book-projection.js';
import { TradsysError } from '../domain/errors.js';
import type { Storage } from './storage.js';
import { migrate, WRITER_TABLES, type WriterTable } from './schema.js';

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
  /** Added to tsInit (monotonic ns) to get Unix-epoch ns; default: measured at start. */
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

interface Batch { table: WriterTable; firstSeq: bigint; lastSeq: bigint; rows: number; bytes: number; body: string | null; file: string | null; createdAt: number }
interface Open { lines: string[]; rows: number; bytes: number; firstSeq: bigint; lastSeq: bigint; createdAt: number }

const SIDE = ['buy', 'sell'];

export class WriterCore {
  readonly counters = { eventsIn: 0, rowsWritten: 0, batchesWritten: 0, errors: 0, spilledBytes: 0, spilledBatches: 0, retries: 0, skippedRows: 0, generation: 0 };
  lastSeqIn = 0n;
  readonly checkpoint = new Map<WriterTable, bigint>();
  private readonly queue: Batch[] = [];
  private readonly open = new Map<WriterTable, Open>();
  private queuedRows = 0;
  private queuedBytes = 0;
  private readonly sym: string[];
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
      // an explicit `tsOffsetNs: undefined` (as the thread boundary passes it) means "measure it"
      tsOffsetNs: opts.tsOffsetNs ?? BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint(),
    } as typeof this.o;
    if (!(this.o.batchRows >= 1 && this.o.maxQueueRows >= this.o.batchRows)) throw new TradsysError('ERR_STORAGE_CONFIG', 'writer: need 1 ≤ batchRows ≤ maxQueueRows');
    this.sym = opts.symbols.map((s) => JSON.stringify(s));
    this.book = new BookProjection(opts.symbols.length);
    this.spillDir = join(opts.dataDir, 'storage-spill');
    mkdirSync(this.spillDir, { recursive: true });
    this.loadSpills();
  }

  /** Spill files of earlier runs go first: they are older than anything this run ingests. */
  private loadSpills(): void {
    const files = readdirSync(this.spillDir).filter((f) => f.endsWith('.jsonl')).sort();
    for (const f of files) {
      const m = /^([a-z_]+)-(\d{20})-(\d{20})-/.exec(f);
      if (!m || !(WRITER_TABLES as readonly string[]).includes(m[1]!)) continue;
      const body = readFileSync(join(this.spillDir, f), 'utf8');
      const rows = body.split('\n').length - 1;
      this.queue.push({ table: m[1] as WriterTable, firstSeq: BigInt(m[2]!), lastSeq: BigInt(m[3]!), rows, bytes: body.length, body: null, file: join(this.spillDir, f), createdAt: Date.now() });
      this.counters.spilledBytes += body.length;
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
    for (const t of WRITER_TABLES) {
      const r = await this.storage.query<{ s: string }>(`SELECT toString(max(seq)) AS s FROM ${t}`);
      this.checkpoint.set(t, BigInt(r.rows[0]?.s ?? '0'));
    }
  }

  private add(table: WriterTable, seq: bigint, line: string): void {
    let b = this.open.get(table);
    if (!b) { b = { lines: [], rows: 0, bytes: 0, firstSeq: seq, lastSeq: seq, createdAt: Date.now() }; this.open.set(table, b); }
    b.lines.push(line);
    b.rows++;
    b.bytes += line.length;
    b.lastSeq = seq;
  }

  /** Decodes `count` RING_EVT records from `buf` (at offset 0). Never waits. */
  ingest(buf: Uint8Array, count: number): void {
    const dv = buf.buffer === this.dv.buffer ? this.dv : new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    for (let k = 0; k < count; k++) {
      const b = k * RING_EVT_SIZE;
      const seq = dv.getBigUint64(b, true);
      const tsInit = dv.getBigInt64(b + 8, true);
      const tsIn = dv.getBigInt64(b + 24, true);
      const type = dv.getUint8(b + 32);
      const reason = dv.getUint8(b + 33);
      const last = (dv.getUint8(b + 34) & 1) === 1;
      const side = dv.getUint8(b + 35);
      const symbol = dv.getUint32(b + 36, true);
      const id = dv.getBigUint64(b + 40, true);
      const maker = dv.getBigUint64(b + 48, true);
      const price = dv.getBigInt64(b + 56, true);
      const qty = dv.getUint32(b + 64, true);
      const leaves = dv.getUint32(b + 68, true);
      const account = dv.getUint32(b + 80, true);
      const makerAccount = dv.getUint32(b + 84, true);
      const tradeId = dv.getBigUint64(b + 88, true);
      const ts = tsInit + this.o.tsOffsetNs;
      this.lastTsNs = ts;
      this.lastSeqIn = seq;
      this.counters.eventsIn++;
      const kind = String.fromCharCode(type);
      const symJson = this.sym[symbol] ?? JSON.stringify(`#${symbol}`);
      const rname = reason ? REASON_NAMES[reason] ?? `reason_${reason}` : '';
      this.add('order_events', seq, `{"symbol":${symJson},"ts":"${ts}","seq":"${seq}","idx":${this.idx},"type":"${kind}","account":${account},"order_id":"${id}","side":"${SIDE[side & 1]}","price":"${price}","qty":${qty},"leaves":${leaves},"maker_order_id":"${maker}","maker_account":${makerAccount},"trade_id":"${tradeId}","reason":"${rname}","reason_code":${reason},"ts_gateway":"${tsIn === 0n ? 0n : tsIn + this.o.tsOffsetNs}"}\n`);
      if (kind === 'T') {
        this.add('trades', seq, `{"symbol":${symJson},"ts":"${ts}","trade_id":"${tradeId}","seq":"${seq}","price":"${price}","qty":${qty},"taker_side":"${SIDE[side & 1]}","taker_order_id":"${id}","maker_order_id":"${maker}","taker_account":${account},"maker_account":${makerAccount}}\n`);
      }
      if (symbol < this.sym.length && kind !== 'K') {
        this.book.apply({ type: kind as EventKind, symbol, id: Number(id), maker: Number(maker), price: Number(price), qty, side, last });
        if (kind !== 'R') this.touched.add(symbol);
      }
      this.idx++;
      this.inCommand = !last;
      if (last) {
        this.idx = 0;
        if (tsIn !== 0n && ++this.commands % this.o.latencyEvery === 0) {
          this.add('latency_samples', seq, `{"component":"engine_ingress","ts":"${ts}","seq":"${seq}","latency_ns":"${tsInit - tsIn}"}\n`);
        }
      }
    }
    this.sample(Date.now());
  }

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
        this.add('quotes', seq, `{"symbol":${this.sym[s]},"ts":"${ts}","seq":"${seq}","bid_price":"${bb?.[0] ?? 0}","bid_qty":"${bb?.[1] ?? 0}","ask_price":"${ba?.[0] ?? 0}","ask_qty":"${ba?.[1] ?? 0}"}\n`);
      }
    }
    if (now - this.lastSnapAt >= this.o.snapshotMs) {
      this.lastSnapAt = now;
      for (const s of this.touched) {
        const bids = this.book.depth(s, 0, 10);
        const asks = this.book.depth(s, 1, 10);
        const col = (xs: [number, number, number][], i: number, q: boolean): string => '[' + xs.map((x) => (q ? `"${x[i]}"` : String(x[i]))).join(',') + ']';
        this.add('book_snapshots', seq, `{"symbol":${this.sym[s]},"ts":"${ts}","seq":"${seq}","depth":10,"bid_prices":${col(bids, 0, true)},"bid_qtys":${col(bids, 1, true)},"bid_counts":${col(bids, 2, false)},"ask_prices":${col(asks, 0, true)},"ask_qtys":${col(asks, 1, true)},"ask_counts":${col(asks, 2, false)}}\n`);
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
      const body = b.lines.join('');
      this.queue.push({ table, firstSeq: b.firstSeq, lastSeq: b.lastSeq, rows: b.rows, bytes: body.length, body, file: null, createdAt: b.createdAt });
      this.queuedRows += b.rows;
      this.queuedBytes += body.length;
    }
    // over the bound: the newest in-memory bodies go to files (order in the queue is kept)
    for (let i = this.queue.length - 1; i >= 1 && this.queuedRows > this.o.maxQueueRows; i--) {
      const q = this.queue[i]!;
      if (q.body !== null) this.spill(q);
    }
  }

  private spill(q: Batch): void {
    const name = `${q.table}-${q.firstSeq.toString().padStart(20, '0')}-${q.lastSeq.toString().padStart(20, '0')}-${this.runId}-${this.counters.spilledBatches}.jsonl`;
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
      const cp = this.checkpoint.get(q.table) ?? 0n;
      if (q.lastSeq <= cp) { this.drop(q, q.rows); return true; }
      let body = q.body ?? readFileSync(q.file!, 'utf8');
      let rows = q.rows;
      if (q.firstSeq <= cp) {
        const kept = body.split('\n').filter((l) => l !== '' && BigInt(/"seq":"(\d+)"/.exec(l)![1]!) > cp);
        this.counters.skippedRows += rows - kept.length;
        rows = kept.length;
        body = kept.join('\n') + '\n';
      }
      await this.storage.insert(q.table, { format: 'JSONEachRow', body });
      this.checkpoint.set(q.table, q.lastSeq);
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
