/**
 * The storage writer thread: drains its reader of the engine's event ring into WriterCore (never
 * waiting on ClickHouse, so the engine's publisher is never held back by storage), seals and
 * flushes batches, and publishes its counters in a SharedArrayBuffer the gateway reads.
 *
 * Layout of the stats block (Float64Array, see writer.ts STAT): one slot per counter.
 * Invariants: the ring is polled every turn of the event loop (setImmediate) while records
 * arrive, every millisecond otherwise; one insert in flight at most.
 * Complexity: O(records). Allocation: rows as strings (this thread only).
 * Known limitations: on `stop` whatever is not written within the deadline is spilled to files.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { RING_EVT_SIZE } from '../abi/records.js';
import { SpmcRing } from '../ring/spmc-ring.js';
import { ChdbStorage } from './chdb-storage.js';
import { ServerStorage, type ServerStorageConfig } from './server-storage.js';
import type { Storage } from './storage.js';
import { WriterCore, type WriterOptions } from './writer-core.js';
import { STAT } from './writer-stats.js';

interface Data {
  ring: SharedArrayBuffer; reader: number; stats: SharedArrayBuffer;
  backend: { kind: 'chdb'; port: MessagePort } | { kind: 'server'; config: ServerStorageConfig };
  options: Omit<WriterOptions, 'tsOffsetNs'> & { tsOffsetNs?: string };
}

const d = workerData as Data;
const ring = new SpmcRing(d.ring);
const stats = new Float64Array(d.stats);
const storage: Storage = d.backend.kind === 'chdb' ? ChdbStorage.fromPort(d.backend.port) : new ServerStorage(d.backend.config);
const core = new WriterCore(storage, { ...d.options, tsOffsetNs: d.options.tsOffsetNs === undefined ? undefined : BigInt(d.options.tsOffsetNs) } as WriterOptions);
const POLL = 8192;
const buf = new Uint8Array(RING_EVT_SIZE * POLL);
let stopping = false;
let lastRateAt = Date.now();
let lastRows = 0;

function publishStats(now: number): void {
  const c = core.counters;
  const dq = core.depth;
  stats[STAT.eventsIn] = c.eventsIn;
  stats[STAT.rowsWritten] = c.rowsWritten;
  stats[STAT.batchesWritten] = c.batchesWritten;
  stats[STAT.errors] = c.errors;
  stats[STAT.queueBatches] = dq.batches;
  stats[STAT.queueRows] = dq.rows;
  stats[STAT.queueBytes] = dq.bytes;
  stats[STAT.spilledBytes] = c.spilledBytes;
  stats[STAT.spilledBatches] = dq.spilledBatches;
  stats[STAT.lastSeqIn] = Number(core.lastSeqIn);
  stats[STAT.checkpoint] = Number(core.checkpoint.get('order_events') ?? 0n);
  stats[STAT.lagSeconds] = core.lagSeconds(now);
  stats[STAT.generation] = c.generation;
  stats[STAT.up] = storage.stats().up ? 1 : 0;
  stats[STAT.skippedRows] = c.skippedRows;
  stats[STAT.retries] = c.retries;
  if (now - lastRateAt >= 1000) { stats[STAT.rowsPerSecond] = ((c.rowsWritten - lastRows) * 1000) / (now - lastRateAt); lastRows = c.rowsWritten; lastRateAt = now; }
  Atomics.add(new Int32Array(d.stats, STAT.count * 8, 1), 0, 1);
}

function drain(): number {
  let total = 0;
  for (let round = 0; round < 64; round++) {
    const n = ring.poll(d.reader, buf, 0, POLL);
    if (n === 0) break;
    core.ingest(buf, n);
    total += n;
  }
  return total;
}

function pump(): void {
  if (stopping) return;
  const got = drain();
  const now = Date.now();
  core.seal(now);
  if (!core.busy) void core.flushOne(now).then((wrote) => { if (wrote) publishStats(Date.now()); });
  publishStats(now);
  if (got > 0) setImmediate(pump); else setTimeout(pump, 1);
}

parentPort!.on('message', async (m: { op: 'stop'; deadlineMs: number }) => {
  if (m.op !== 'stop' || stopping) return;
  stopping = true;
  drain();
  core.seal(Date.now(), true);
  ring.leave(d.reader);
  const deadline = Date.now() + m.deadlineMs;
  while (core.pending > 0 && Date.now() < deadline) {
    const wrote = await core.flushOne(Date.now());
    if (!wrote) await new Promise((r) => setTimeout(r, 20));
  }
  core.spillAll();
  publishStats(Date.now());
  await storage.close();
  parentPort!.postMessage({ op: 'stopped', pending: core.pending, lastError: core.lastError });
});

pump();
