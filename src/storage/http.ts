/**
 * The storage query context as a fastify plugin: `GET /api/v1/bars/:symbol`,
 * `GET /api/v1/vwap/:symbol`, `POST /api/v1/sql` (authorised analysts, through the AnalystGate:
 * admission per key, sandbox, limits, audit line), the ClickHouse-compatible endpoint
 * (`/clickhouse`, clickhouse-http.ts, when `clickhouse` is given) and,
 * when the gateway hands over its in-memory recent trades, `GET /api/v1/trades/:symbol` (memory
 * without from/to, ClickHouse with them; the same JSON shape). Also `metricsText()` and
 * `health()` for the gateway's /metrics and /health: `degraded` with a `reason` when the storage
 * is down, the writer's inserts fail, or the writer lags: its lag is the age of the oldest row it
 * has taken from the engine and not yet written (WriterCore.lagSeconds), limit 5 s by default.
 * /health is public: it shows the storage's own failures as data-free reasons (StorageMeter),
 * never an analyst query's text or error (those are counted in /metrics only).
 *
 * Layout: times in query strings are Unix-epoch nanoseconds (digits) or ISO 8601; prices and
 * quantities leave as decimal strings made with the instrument's tick and lot size.
 * Invariants: every user value reaches ClickHouse as a bound parameter; errors answer
 * `{error: ERR_…, message}` with the catalog's HTTP status.
 * Complexity: one (cached) query per request. Allocation: per request.
 * Known limitations: VWAP is truncated (not rounded) to 8 decimals beyond the tick size.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TradsysError } from '../domain/errors.js';
import { formatDecimal, type Instrument } from '../domain/instruments.js';
import { BAR_INTERVALS, type BarInterval } from './schema.js';
import { QueryCache, StorageQueries, type AnalystLimits } from './queries.js';
import { AnalystGate, BUSY_RETRY_AFTER_S, type AnalystAdmission, type AuditLogger } from './analyst.js';
import { registerClickHouseHttp, type ClickHouseHttpOptions } from './clickhouse-http.js';
import type { ParamValue, Storage } from './storage.js';
import type { StorageWriter } from './writer.js';

export interface StorageApiOptions {
  instruments: Instrument[];
  /** When given, this plugin serves GET /api/v1/trades/:symbol, answering from memory without from/to (a JSON array text, newest first). */
  recentTrades?: (symbolId: number) => string;
  /**
   * Who may use POST /api/v1/sql; answer (401/403) and return false to refuse. Default: nobody.
   * Returning the caller's key and account names them in the admission count and the audit line
   * (`true` counts the caller by address).
   */
  authorizeSql?: (req: FastifyRequest, reply: FastifyReply) => boolean | AnalystIdentity | Promise<boolean | AnalystIdentity>;
  cache?: QueryCache;
  limits?: AnalystLimits;
  /** Analyst queries running at once, per key and in all (default 2 and 8). */
  admission?: AnalystAdmission;
  /** When given, the ClickHouse-compatible endpoint (/clickhouse) is served with this authentication. */
  clickhouse?: Pick<ClickHouseHttpOptions, 'authenticate' | 'refused' | 'version'>;
  /** /health turns `degraded` when the writer's lag (age of its oldest unwritten row) passes this (default 5 s). */
  maxWriterLagSeconds?: number;
}

export interface AnalystIdentity { key: string; account: number | null }

export interface StorageApi {
  readonly queries: StorageQueries;
  /** The door every analyst query goes through (admission, sandbox, audit). */
  readonly gate: AnalystGate;
  metricsText(): string;
  health(): Record<string, unknown>;
}

/** Writer lag (seconds since the oldest row not yet written was taken from the engine) past which /health says `degraded`. */
export const DEFAULT_MAX_WRITER_LAG_S = 5;

/** "1790000000000000000" (ns) or an ISO 8601 date → ns; undefined when absent. */
export function parseTime(v: unknown, name: string): bigint | undefined {
  if (v === undefined || v === '') return undefined;
  if (typeof v !== 'string') throw new TradsysError('ERR_STORAGE_PARAM', `${name} must be a string`);
  if (/^-?\d{1,19}$/.test(v)) return BigInt(v);
  const ms = Date.parse(v);
  if (!/^\d{4}-\d{2}-\d{2}/.test(v) || Number.isNaN(ms)) throw new TradsysError('ERR_STORAGE_PARAM', `${name} must be Unix-epoch nanoseconds or an ISO 8601 date, got ${JSON.stringify(v)}`);
  return BigInt(ms) * 1_000_000n;
}

function vwapDecimal(ins: Instrument, notional: bigint, volume: bigint): string | null {
  if (volume === 0n) return null;
  const extra = 8;
  return formatDecimal({ units: (notional * ins.tickSize.units * 10n ** BigInt(extra)) / volume, scale: ins.tickSize.scale + extra });
}

export function registerStorage(app: FastifyInstance, storage: Storage, writer: StorageWriter | null, opts: StorageApiOptions): StorageApi {
  const queries = new StorageQueries(storage, () => writer?.generation() ?? 0, opts.cache, opts.limits);
  const gate = new AnalystGate(queries, opts.admission);
  const maxLag = opts.maxWriterLagSeconds ?? DEFAULT_MAX_WRITER_LAG_S;
  const bySymbol = new Map(opts.instruments.map((i) => [i.symbol, i]));
  const fail = (reply: FastifyReply, e: unknown): FastifyReply => {
    const err = e instanceof TradsysError ? e : new TradsysError('ERR_STORAGE_UNAVAILABLE', (e as Error).message);
    if (err.code === 'ERR_STORAGE_BUSY') void reply.header('retry-after', String(BUSY_RETRY_AFTER_S));
    return reply.code(err.status).send({ error: err.code, message: err.message });
  };
  const instrument = (reply: FastifyReply, symbol: string): Instrument | null => {
    const ins = bySymbol.get(symbol);
    if (!ins) { void reply.code(404).send({ error: 'unknown_symbol', message: `no symbol ${symbol}` }); return null; }
    return ins;
  };
  const range = { type: 'object', properties: { from: { type: 'string', maxLength: 40 }, to: { type: 'string', maxLength: 40 }, limit: { type: 'string', pattern: '^[1-9]\\d{0,5}$' }, interval: { type: 'string' } }, additionalProperties: false };
  type Range = { Params: { symbol: string }; Querystring: { from?: string; to?: string; limit?: string; interval?: string } };

  // `ts` (epoch ns) keeps its exact digits: a 19-digit integer does not survive a double
  const tradeJson = (ins: Instrument, t: { ts: string; trade_id: string; seq: string; price: string; qty: string; taker_side: string }): string =>
    `${JSON.stringify({ type: 'trade', symbol: ins.symbol, tradeId: Number(t.trade_id), price: ins.toPrice(BigInt(t.price)), qty: ins.toQty(BigInt(t.qty)), takerSide: t.taker_side }).slice(0, -1)},"ts":${BigInt(t.ts)},"seq":${Number(t.seq)}}`;

  app.register(async (ctx) => {
    ctx.get<Range>('/api/v1/bars/:symbol', { schema: { querystring: range } }, async (req, reply) => {
      const ins = instrument(reply, req.params.symbol);
      if (!ins) return reply;
      try {
        const interval = (req.query.interval ?? '1m') as BarInterval;
        if (!(interval in BAR_INTERVALS)) throw new TradsysError('ERR_STORAGE_PARAM', `interval must be one of ${Object.keys(BAR_INTERVALS).join(', ')}`);
        const bars = await queries.bars(ins.symbol, interval, parseTime(req.query.from, 'from'), parseTime(req.query.to, 'to'), Number(req.query.limit ?? 10_000));
        return {
          symbol: ins.symbol, interval,
          bars: bars.map((b) => ({ ts: b.ts, open: ins.toPrice(BigInt(b.open)), high: ins.toPrice(BigInt(b.high)), low: ins.toPrice(BigInt(b.low)), close: ins.toPrice(BigInt(b.close)), volume: ins.toQty(BigInt(b.volume)), vwap: vwapDecimal(ins, BigInt(b.notional), BigInt(b.volume)), trades: Number(b.trades) })),
        };
      } catch (e) { return fail(reply, e); }
    });

    ctx.get<Range>('/api/v1/vwap/:symbol', { schema: { querystring: range } }, async (req, reply) => {
      const ins = instrument(reply, req.params.symbol);
      if (!ins) return reply;
      try {
        const from = parseTime(req.query.from, 'from'), to = parseTime(req.query.to, 'to');
        const v = await queries.vwap(ins.symbol, from, to);
        return { symbol: ins.symbol, from: from?.toString() ?? null, to: to?.toString() ?? null, vwap: vwapDecimal(ins, BigInt(v.notional), BigInt(v.volume)), volume: ins.toQty(BigInt(v.volume)), trades: Number(v.trades) };
      } catch (e) { return fail(reply, e); }
    });

    if (opts.recentTrades) {
      const recent = opts.recentTrades;
      ctx.get<Range>('/api/v1/trades/:symbol', { schema: { querystring: range } }, async (req, reply) => {
        const ins = instrument(reply, req.params.symbol);
        if (!ins) return reply;
        if (req.query.from === undefined && req.query.to === undefined) return reply.type('application/json; charset=utf-8').send(recent(ins.id));
        try {
          const rows = await queries.trades(ins.symbol, parseTime(req.query.from, 'from'), parseTime(req.query.to, 'to'), Number(req.query.limit ?? 1000));
          return reply.type('application/json; charset=utf-8').send(`[${rows.map((t) => tradeJson(ins, t)).join(',')}]`);
        } catch (e) { return fail(reply, e); }
      });
    }

    ctx.post<{ Body: { sql: string; params?: Record<string, ParamValue> } }>('/api/v1/sql', {
      bodyLimit: 128 * 1024,
      schema: { body: { type: 'object', required: ['sql'], additionalProperties: false, properties: { sql: { type: 'string', maxLength: 100_000 }, params: { type: 'object' } } } },
    }, async (req, reply) => {
      const ok = opts.authorizeSql ? await opts.authorizeSql(req, reply) : false;
      if (!ok) return reply.sent ? reply : reply.code(403).send({ error: 'ERR_STORAGE_FORBIDDEN', message: 'this key may not run SQL' });
      const who = ok === true ? { key: `ip:${req.ip}`, account: null } : ok;
      try {
        const r = await gate.run({ ...who, ip: req.ip, via: 'http' }, req.body.sql, req.body.params ?? {}, req.log as AuditLogger);
        return { meta: r.meta, rows: r.rows, rowCount: r.rows.length, elapsedMs: r.elapsedMs };
      } catch (e) { return fail(reply, e); }
    });
  });

  if (opts.clickhouse) {
    const backendDb = (storage as Storage & { database?: string }).database;
    registerClickHouseHttp(app, { gate, ...opts.clickhouse, databases: backendDb ? [backendDb] : ['default'] });
  }

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
    metricsText: () => {
      const s = storage.stats();
      const lines: string[] = [];
      const m = (name: string, type: 'counter' | 'gauge', v: number, help: string): void => { lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name} ${Number.isFinite(v) ? v : 0}`); };
      m('tradsys_storage_up', 'gauge', s.up ? 1 : 0, `ClickHouse (${s.backend}) answered the last call`);
      m('tradsys_storage_queries_total', 'counter', s.queries, 'queries sent');
      m('tradsys_storage_errors_total', 'counter', s.errors, 'failed calls');
      m('tradsys_storage_reconnects_total', 'counter', s.reconnects, 'recoveries after ClickHouse was unreachable');
      m('tradsys_storage_latency_p50_seconds', 'gauge', s.latencyP50Ms / 1000, 'call latency, last 1,024 calls');
      m('tradsys_storage_latency_p99_seconds', 'gauge', s.latencyP99Ms / 1000, 'call latency, last 1,024 calls');
      m('tradsys_storage_cache_hits_total', 'counter', queries.cache.hits, 'query cache hits');
      m('tradsys_storage_cache_misses_total', 'counter', queries.cache.misses, 'query cache misses');
      m('tradsys_analyst_queries_running', 'gauge', gate.active(), 'analyst queries running now (all keys)');
      m('tradsys_analyst_queries_total', 'counter', gate.counts.ok, 'analyst queries answered');
      m('tradsys_analyst_queries_refused_total', 'counter', gate.counts.refused, 'analyst queries refused by admission (429)');
      m('tradsys_analyst_queries_failed_total', 'counter', gate.counts.failed, 'analyst queries refused by the sandbox or failed (limits, errors)');
      const w = writer?.stats();
      if (w) {
        m('tradsys_storage_writer_events_total', 'counter', w.eventsIn, 'engine events taken from the ring');
        m('tradsys_storage_writer_rows_total', 'counter', w.rowsWritten, 'rows written to ClickHouse');
        m('tradsys_storage_writer_rows_per_second', 'gauge', w.rowsPerSecond, 'rows written per second (last second)');
        m('tradsys_storage_writer_errors_total', 'counter', w.errors, 'failed inserts (retried)');
        m('tradsys_storage_writer_queue_rows', 'gauge', w.queueRows, 'rows queued in memory');
        m('tradsys_storage_writer_queue_batches', 'gauge', w.queueBatches, 'batches queued (memory and spill files)');
        m('tradsys_storage_writer_spilled_bytes', 'gauge', w.spilledBytes, 'bytes waiting in spill files');
        m('tradsys_storage_writer_lag_seq', 'gauge', w.lagSeq, 'engine seq taken minus seq written (order_events)');
        m('tradsys_storage_writer_lag_seconds', 'gauge', w.lagSeconds, 'age of the oldest row not yet written');
      }
      return lines.join('\n') + '\n';
    },
  };
}
