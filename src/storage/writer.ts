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

export interface WriterStats {
  eventsIn: number; rowsWritten: number; batchesWritten: number; errors: number; retries: number; skippedRows: number;
  queueBatches: number; queueRows: number; queueBytes: number; spilledBytes: number; spilledBatches: number;
  lastSeqIn: number; checkpointSeq: number; lagSeq: number; lagSeconds: number; rowsPerSecond: number; generation: number; up: boolean;
}

export class StorageWriter {
  private readonly stats32: Float64Array;
  private stopped: Promise<{ pending: number; lastError: string | null }> | null = null;

  private constructor(private readonly worker: Worker, private readonly ring: SpmcRing, private readonly reader: number, statsSab: SharedArrayBuffer) {
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
    const w = new StorageWriter(worker, ring, reader, statsSab);
    worker.on('error', () => ring.leave(reader)); // a dead writer must not hold the engine back
    return w;
  }

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
