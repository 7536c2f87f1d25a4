/**
 * The storage query context's service side: the query service (StorageQueries, cached), the
 * analysts' gate (AnalystGate: admission per key, sandbox, limits, audit line), and the storage's
 * part of GET /health and GET /metrics. The routes are the queries plugin's
 * (src/gateway/http/queries.ts).
 *
 * Layout: /health is `degraded` with a `reason` when the storage is down, the writer's inserts
 * fail, or the writer lags: its lag is the age of the oldest row it has taken from the engine and
 * not yet written (WriterCore.lagSeconds), limit 5 s by default.
 * Invariants: /health is public: it shows the storage's own failures as data-free reasons
 * (StorageMeter), never an analyst query's text or error (those are counted in /metrics only).
 * Complexity: O(1) per health or metrics call. Allocation: per call.
 * Known limitations: none.
 */
import { QueryCache, StorageQueries, type AnalystLimits } from '../storage/queries.js';
import { AnalystGate, type AnalystAdmission } from '../storage/analyst.js';
import type { Storage } from '../storage/storage.js';
import type { StorageWriter } from '../storage/writer.js';
import type { MetricSeries } from '../monitoring/metrics.js';

export interface StorageServiceOptions {
  cache?: QueryCache;
  limits?: AnalystLimits;
  /** Analyst queries running at once, per key and in all (default 2 and 8). */
  admission?: AnalystAdmission;
  /** /health turns `degraded` when the writer's lag (age of its oldest unwritten row) passes this (default 5 s). */
  maxWriterLagSeconds?: number;
}

export interface StorageApi {
  readonly queries: StorageQueries;
  /** The door every analyst query goes through (admission, sandbox, audit). */
  readonly gate: AnalystGate;
  /** The storage's part of GET /metrics (read at scrape time; src/monitoring/metrics.ts). */
  series(): MetricSeries[];
  health(): Record<string, unknown>;
}

/** Writer lag (seconds since the oldest row not yet written was taken from the engine) past which /health says `degraded`. */
export const DEFAULT_MAX_WRITER_LAG_S = 5;

export function createStorageApi(storage: Storage, writer: StorageWriter | null, opts: StorageServiceOptions = {}): StorageApi {
  const queries = new StorageQueries(storage, () => writer?.generation() ?? 0, opts.cache, opts.limits);
  const gate = new AnalystGate(queries, opts.admission);
  const maxLag = opts.maxWriterLagSeconds ?? DEFAULT_MAX_WRITER_LAG_S;
  return {
    queries,
    gate,
    health: () => {
      const s = storage.stats();
      const w = writer?.stats() ?? null;
      const reasons: string[] = [];
      if (!s.up) reasons.push(`storage down: ${s.lastError ?? 'no answer yet'}`);
      if (w && !w.up && w.errors > 0) reasons.push(`storage writer cannot write (${w.errors} failed inserts, retrying)`);
      if (w && w.lagSeconds > maxLag) reasons.push(`storage writer lagging: oldest unwritten row is ${w.lagSeconds.toFixed(1)} s old (limit ${maxLag} s), ${w.queueRows} rows queued, ${w.lagSeq} commands behind`);
      return {
        status: reasons.length === 0 ? 'ok' : 'degraded',
        ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
        storage: { backend: s.backend, up: s.up, version: s.version, errors: s.errors, lastError: s.lastError, latencyP50Ms: s.latencyP50Ms, latencyP99Ms: s.latencyP99Ms },
        analysts: { running: gate.active(), perKey: gate.admission.perKey, total: gate.admission.total },
        writer: w && { up: w.up, lagSeq: w.lagSeq, lagSeconds: w.lagSeconds, maxLagSeconds: maxLag, queueRows: w.queueRows, spilledBytes: w.spilledBytes, errors: w.errors },
      };
    },
    series: () => {
      const out: MetricSeries[] = [];
      const m = (name: string, type: 'counter' | 'gauge', value: () => number, help: string): void => { out.push({ name, type, help, value }); };
      m('tradsys_storage_up', 'gauge', () => (storage.stats().up ? 1 : 0), `ClickHouse (${storage.stats().backend}) answered the last call`);
      m('tradsys_storage_queries_total', 'counter', () => storage.stats().queries, 'queries sent');
      m('tradsys_storage_errors_total', 'counter', () => storage.stats().errors, 'failed calls');
      m('tradsys_storage_reconnects_total', 'counter', () => storage.stats().reconnects, 'recoveries after ClickHouse was unreachable');
      m('tradsys_storage_latency_p50_seconds', 'gauge', () => storage.stats().latencyP50Ms / 1000, 'call latency, last 1,024 calls');
      m('tradsys_storage_latency_p99_seconds', 'gauge', () => storage.stats().latencyP99Ms / 1000, 'call latency, last 1,024 calls');
      m('tradsys_storage_cache_hits_total', 'counter', () => queries.cache.hits, 'query cache hits');
      m('tradsys_storage_cache_misses_total', 'counter', () => queries.cache.misses, 'query cache misses');
      m('tradsys_analyst_queries_running', 'gauge', () => gate.active(), 'analyst queries running now (all keys)');
      m('tradsys_analyst_queries_total', 'counter', () => gate.counts.ok, 'analyst queries answered');
      m('tradsys_analyst_queries_refused_total', 'counter', () => gate.counts.refused, 'analyst queries refused by admission (429)');
      m('tradsys_analyst_queries_failed_total', 'counter', () => gate.counts.failed, 'analyst queries refused by the sandbox or failed (limits, errors)');
      if (writer) {
        const w = (): ReturnType<StorageWriter['stats']> => writer.stats();
        m('tradsys_storage_writer_events_total', 'counter', () => w().eventsIn, 'engine events taken from the ring');
        m('tradsys_storage_writer_rows_total', 'counter', () => w().rowsWritten, 'rows written to ClickHouse');
        m('tradsys_storage_writer_rows_per_second', 'gauge', () => w().rowsPerSecond, 'rows written per second (last second)');
        m('tradsys_storage_writer_errors_total', 'counter', () => w().errors, 'failed inserts (retried)');
        m('tradsys_storage_writer_queue_rows', 'gauge', () => w().queueRows, 'rows queued in memory');
        m('tradsys_storage_writer_queue_batches', 'gauge', () => w().queueBatches, 'batches queued (memory and spill files)');
        m('tradsys_storage_writer_spilled_bytes', 'gauge', () => w().spilledBytes, 'bytes waiting in spill files');
        m('tradsys_storage_writer_lag_seq', 'gauge', () => w().lagSeq, 'engine seq taken minus seq written (order_events)');
        m('tradsys_storage_writer_lag_seconds', 'gauge', () => w().lagSeconds, 'age of the oldest row not yet written');
      }
      return out;
    },
  };
}
