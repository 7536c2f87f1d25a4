/**
 * The storage writer thread: drains its reader of the engine's event ring into WriterCore (never
 * waiting on ClickHouse, so the engine's publisher is never held back by storage), seals and
 * flushes batches, and publishes its counters in a SharedArrayBuffer the gateway reads.
 *
 * Layout of the stats block (Float64Array, see writer.ts STAT): one slot per counter. Messages
 * from the gateway thread: `stop`, and `signals` (strategy_signals rows already in RowBinary,
 * the buffer transferred, appended to the table's open batch).
 * Invariants: the ring is polled every turn of the event loop (setImmediate) while records
 * arrive, every millisecond otherwise; one insert in flight at most.
 * Complexity: O(records). Allocation: RowBinary batch bodies (this thread only).
 * Known limitations: on `stop` whatever is not written within the deadline is spilled to files.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { RING_EVT_SIZE } from '../abi/records.js';
import { journalEventToSlot } from '../abi/views.js';
import { readRecords } from '../journal/recovery.js';
import { useWasmJournalVerifier } from '../engine/journal-verifier.js';
import { SpmcRing } from '../ring/spmc-ring.js';
import { ChdbStorage } from './chdb-storage.js';
import { ServerStorage, type ServerStorageConfig } from './server-storage.js';
import type { Storage } from './storage.js';
import { WriterCore, type WriterOptions } from './writer-core.js';
import { STAT } from './writer-stats.js';

interface Data {
  ring: SharedArrayBuffer; reader: number; stats: SharedArrayBuffer;
  backend: { kind: 'chdb'; port: MessagePort; ingestDir: string } | { kind: 'server'; config: ServerStorageConfig };
  options: Omit<WriterOptions, 'tsOffsetNs'> & { tsOffsetNs?: string };
}

useWasmJournalVerifier(); // backfill reads the journal in this thread
const d = workerData as Data;
const ring = new SpmcRing(d.ring);
const stats = new Float64Array(d.stats);
const storage: Storage = d.backend.kind === 'chdb' ? ChdbStorage.fromPort(d.backend.port, d.backend.ingestDir) : new ServerStorage(d.backend.config);
const core = new WriterCore(storage, { ...d.options, tsOffsetNs: d.options.tsOffsetNs === undefined ? undefined : BigInt(d.options.tsOffsetNs) } as WriterOptions);
const POLL = 8192;
const buf = new Uint8Array(RING_EVT_SIZE * POLL);
let stopping = false;
let lastRateAt = Date.now();
let lastRows = 0;
// this thread's event-loop delay (src/monitoring/memory.ts reads it from the stats block each second)
const loopDelay = monitorEventLoopDelay({ resolution: 10 });
loopDelay.enable();

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
  if (now - lastRateAt >= 1000) { stats[STAT.rowsPerSecond] = ((c.rowsWritten - lastRows) * 1000) / (now - lastRateAt); lastRows = c.rowsWritten; lastRateAt = now;
    stats[STAT.loopDelayP99Us] = loopDelay.count > 0 ? loopDelay.percentile(99) / 1000 : 0; loopDelay.reset();
    stats[STAT.heapUsed] = getHeapStatistics().used_heap_size;
  }
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

type Msg = { op: 'stop'; deadlineMs: number } | { op: 'signals'; body: Uint8Array; rows: number; seq: string } | { op: 'latency'; rows: [string, string, number][] };
parentPort!.on('message', async (m: Msg) => {
  if (m.op === 'signals') { if (!stopping) core.appendRows('strategy_signals', m.body, m.rows, BigInt(m.seq)); return; }
  if (m.op === 'latency') { if (!stopping) for (const [stage, ts, ns] of m.rows) core.latencyStage(stage, BigInt(ts), ns); return; }
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

/**
 * Journal records after the writer's checkpoint through `backfillToSeq` (sequenced before this
 * writer joined the ring), as RING_EVT slots through the same ingest path. The checkpoint comes
 * from ClickHouse; while it is down every record is ingested and the batches' checkpoint filter
 * drops what is already there.
 */
async function backfill(): Promise<void> {
  const to = d.options.backfillToSeq === undefined ? 0n : BigInt(d.options.backfillToSeq);
  if (!d.options.journalDir || to === 0n) return;
  let from = 1n;
  try {
    await core.start();
    let min = -1n;
    for (const v of core.checkpoint.values()) if (min < 0n || v < min) min = v;
    // tables only some commands write (quotes, snapshots, latency) lag behind order_events: trust it
    from = (core.checkpoint.get('order_events') ?? (min < 0n ? 0n : min)) + 1n;
  } catch {
    from = 1n;
  }
  let n = 0;
  for (const r of readRecords(d.options.journalDir, from, to, true)) {
    for (let e = 0; e < r.nEvents; e++) {
      journalEventToSlot(r, e, buf, bdv, n * RING_EVT_SIZE, true);
      if (++n === POLL) { core.ingest(buf, n); n = 0; core.seal(Date.now()); }
    }
  }
  if (n > 0) core.ingest(buf, n);
  core.seal(Date.now());
}
const bdv = new DataView(buf.buffer);

void backfill().then(pump, (e: unknown) => {
  // reported through the writer's error counter and lastError (/health, /metrics); trading goes on
  core.counters.errors++;
  core.lastError = `backfill from the journal failed: ${(e as Error).message}`;
  pump();
});
