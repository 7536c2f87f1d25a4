/**
 * StorageWriter: the handle the gateway holds on the storage writer thread (writer-worker.ts).
 * `start()` joins the engine's event ring on the calling thread (so no event published after it
 * returns is missed), then starts the thread; counters are read from a shared stats block.
 *
 * Layout: one worker thread; for chDB it gets a MessagePort relayed to the chDB process by the
 * ChdbStorage passed in and that storage's ingest folder (the thread writes its RowBinary bodies
 * there itself, so they never cross a port or the IPC channel), for the server its connection
 * settings (it opens its own client).
 * Invariants: the writer's ring reader never waits on ClickHouse; `stop()` writes what it can
 * within the deadline and spills the rest to `<dataDir>/storage-spill/` (read back next start).
 * Complexity: O(1) per stats read. Allocation: stats objects per call (not hot path).
 * Known limitations: one writer per event ring and data folder.
 */
import type { Worker } from 'node:worker_threads';
import type { SpmcRing } from '../ring/spmc-ring.js';
import { ChdbStorage } from './chdb-storage.js';
import { ServerStorage } from './server-storage.js';
import type { Storage } from './storage.js';
import { spawnWorker } from '../sys/spawn.js';
import { STAT } from './writer-stats.js';
import type { WriterOptions } from './writer-core.js';
import { RowBinaryBuilder } from './row-binary.js';

/** One strategy_signals row as the strategy service hands it (symbol by engine id; ts ms since the epoch). */
export interface SignalRow { strategy: string; symbol: number; ts: number; signal: string; value: number; price: number; qty: number; seq: number }

export interface WriterStats {
  eventsIn: number; rowsWritten: number; batchesWritten: number; errors: number; retries: number; skippedRows: number;
  queueBatches: number; queueRows: number; queueBytes: number; spilledBytes: number; spilledBatches: number;
  lastSeqIn: number; checkpointSeq: number; lagSeq: number; lagSeconds: number; rowsPerSecond: number; generation: number; up: boolean;
}

export class StorageWriter {
  private readonly stats32: Float64Array;
  private stopped: Promise<{ pending: number; lastError: string | null }> | null = null;

  /** Rows handed to `signals` (counted here: they do not come through the event ring). */
  private signalRows = 0;

  private constructor(private readonly worker: Worker, private readonly ring: SpmcRing, private readonly reader: number, statsSab: SharedArrayBuffer, private readonly symbols: readonly string[]) {
    this.stats32 = new Float64Array(statsSab, 0, STAT.count);
  }

  static start(ring: SpmcRing, storage: Storage, options: WriterOptions): StorageWriter {
    const statsSab = new SharedArrayBuffer(STAT.count * 8 + 8);
    const reader = ring.join();
    const opts = { ...options, tsOffsetNs: options.tsOffsetNs === undefined ? undefined : options.tsOffsetNs.toString() };
    let worker: Worker;
    if (storage instanceof ChdbStorage) {
      const port = storage.createPort();
      worker = spawnWorker(import.meta.url, 'writer-worker', { ring: ring.sab, reader, stats: statsSab, backend: { kind: 'chdb', port, ingestDir: storage.ingestDir }, options: opts }, [port]);
    } else if (storage instanceof ServerStorage) {
      worker = spawnWorker(import.meta.url, 'writer-worker', { ring: ring.sab, reader, stats: statsSab, backend: { kind: 'server', config: storage.config }, options: opts });
    } else {
      ring.leave(reader);
      throw new TypeError('StorageWriter needs a ChdbStorage or a ServerStorage');
    }
    const w = new StorageWriter(worker, ring, reader, statsSab, options.symbols);
    worker.on('error', () => ring.leave(reader)); // a dead writer must not hold the engine back
    return w;
  }

  /**
   * Strategy signals → strategy_signals (docs/schema.md): encoded here in the table's RowBinary
   * layout (WRITER_LAYOUTS) and handed to the writer thread with the buffer transferred; batched,
   * spilled and retried like the event tables, but not checkpointed (a retry after an insert the
   * server applied can write a batch twice). `ts` is converted from ms to ns; a row of an unknown
   * symbol id is written with the name `#id`. Allocates the body.
   */
  signals(rows: readonly SignalRow[]): void {
    if (this.stopped || rows.length === 0) return;
    const rb = new RowBinaryBuilder(rows.length * 64);
    let seq = 0;
    for (const r of rows) {
      rb.str(r.strategy); rb.str(this.symbols[r.symbol] ?? `#${r.symbol}`); rb.i64(BigInt(Math.round(r.ts)) * 1_000_000n); rb.str(r.signal);
      rb.f64(r.value); rb.i64n(Math.trunc(r.price)); rb.i64n(Math.trunc(r.qty)); rb.u64n(Math.max(0, r.seq));
      seq = Math.max(seq, r.seq);
    }
    const body = rb.take();
    this.signalRows += rows.length;
    this.worker.postMessage({ op: 'signals', body, rows: rows.length, seq: String(seq) }, [body.buffer as ArrayBuffer]);
  }

  /** Signal rows handed to `signals` since start. */
  get signalsIn(): number { return this.signalRows; }

  /** Ingest generation: grows with every batch written (the query cache's invalidation clock). */
  generation(): number { return this.stats32[STAT.generation]!; }

  stats(): WriterStats {
    const s = this.stats32;
    const v = (k: keyof typeof STAT): number => s[STAT[k]]!;
    return {
      eventsIn: v('eventsIn'), rowsWritten: v('rowsWritten'), batchesWritten: v('batchesWritten'), errors: v('errors'), retries: v('retries'), skippedRows: v('skippedRows'),
      queueBatches: v('queueBatches'), queueRows: v('queueRows'), queueBytes: v('queueBytes'), spilledBytes: v('spilledBytes'), spilledBatches: v('spilledBatches'),
      lastSeqIn: v('lastSeqIn'), checkpointSeq: v('checkpoint'), lagSeq: Math.max(0, v('lastSeqIn') - v('checkpoint')), lagSeconds: v('lagSeconds'),
      rowsPerSecond: v('rowsPerSecond'), generation: v('generation'), up: v('up') === 1,
    };
  }

  /** The writer thread's event-loop delay p99 over its last full second (µs) and its V8 heap in use (bytes); 0 until its first second. */
  thread(): { loopDelayP99Us: number; heapUsedBytes: number } {
    return { loopDelayP99Us: this.stats32[STAT.loopDelayP99Us]!, heapUsedBytes: this.stats32[STAT.heapUsed]! };
  }

  /**
   * Stage latency samples (src/monitoring/latency.ts) for `latency_samples`: [stage, epoch ns as
   * decimal text, latency ns] each; written with the writer's next batch of that table.
   */
  latencySamples(rows: [string, string, number][]): void {
    if (!this.stopped && rows.length > 0) this.worker.postMessage({ op: 'latency', rows });
  }

  /** Stops the thread: drains the ring once more, writes until `deadlineMs`, spills the rest. */
  async stop(deadlineMs = 5000): Promise<{ pending: number; lastError: string | null }> {
    if (!this.stopped) {
      this.stopped = new Promise((res) => {
        const t = setTimeout(() => { this.ring.leave(this.reader); void this.worker.terminate().then(() => res({ pending: -1, lastError: 'writer thread did not stop in time' })); }, deadlineMs + 10_000);
        this.worker.once('message', (m: { op: string; pending: number; lastError: string | null }) => { clearTimeout(t); void this.worker.terminate().then(() => res(m)); });
        this.worker.postMessage({ op: 'stop', deadlineMs });
      });
    }
    return this.stopped;
  }
}
