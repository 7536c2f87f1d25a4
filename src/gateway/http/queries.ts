/**
 * The queries context as a fastify plugin: the read models (GET /api/v1/positions, /api/v1/fills;
 * signed, docs/cqrs.md) and, with storage, the storage queries (moved here from
 * src/storage/http.ts): `GET /api/v1/bars/:symbol`, `GET /api/v1/vwap/:symbol`, `POST /api/v1/sql`
 * (authorised analysts, through the AnalystGate: admission per key, sandbox, limits, audit line),
 * the ClickHouse-compatible endpoint (`/clickhouse`, src/storage/clickhouse-http.ts) and
 * `GET /api/v1/trades/:symbol` (memory without from/to, ClickHouse with them; the same JSON
 * shape). `registerStorage` registers the storage routes alone (on any fastify instance; the
 * storage tests use it).
 *
 * Layout: times in query strings are Unix-epoch nanoseconds (digits) or ISO 8601; prices and
 * quantities leave as decimal strings made with the instrument's tick and lot size.
 * Invariants: every user value reaches ClickHouse as a bound parameter; storage errors answer
 * `{error: ERR_…, message}` with the catalog's HTTP status; read-model answers are current
 * (route config `current`).
 * Complexity: one (cached) query per storage request; O(positions) or O(limit) per read-model one.
 * Allocation: per request.
 * Known limitations: VWAP is truncated (not rounded) to 8 decimals beyond the tick size.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TradsysError } from '../../domain/errors.js';
import { formatDecimal, type Instrument } from '../../domain/instruments.js';
import { positionJson, fillJson } from '../../cqrs/index.js';
import { BAR_INTERVALS, type BarInterval } from '../../storage/schema.js';
import type { StorageQueries } from '../../storage/queries.js';
import { BUSY_RETRY_AFTER_S, type AnalystGate, type AuditLogger } from '../../storage/analyst.js';
import { registerClickHouseHttp, type ClickHouseHttpOptions } from '../../storage/clickhouse-http.js';
import type { ParamValue, Storage } from '../../storage/storage.js';
import type { StorageWriter } from '../../storage/writer.js';
import { createStorageApi, type StorageApi, type StorageServiceOptions } from '../storage-api.js';
import { dashboardPage } from './dashboard.js';
import { replyCatalogError, replyError } from './errors.js';

export { DEFAULT_MAX_WRITER_LAG_S, type StorageApi } from '../storage-api.js';

export interface StorageRouteOptions {
  instruments: Instrument[];
  /** When given, GET /api/v1/trades/:symbol is served, answering from memory without from/to (a JSON array text, newest first). */
  recentTrades?: (symbolId: number) => string;
  /**
   * Who may use POST /api/v1/sql; answer (401/403) and return false to refuse. Default: nobody.
   * Returning the caller's key and account names them in the admission count and the audit line
   * (`true` counts the caller by address).
   */
  authorizeSql?: (req: FastifyRequest, reply: FastifyReply) => boolean | AnalystIdentity | Promise<boolean | AnalystIdentity>;
  /** When given, the ClickHouse-compatible endpoint (/clickhouse) is served with this authentication. */
  clickhouse?: Pick<ClickHouseHttpOptions, 'authenticate' | 'refused' | 'version' | 'page'>;
}

export type StorageApiOptions = StorageRouteOptions & StorageServiceOptions;

export interface AnalystIdentity { key: string; account: number | null }

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

/** The storage query service and its routes on `app` (the storage tests' entry; the gateway goes through queriesPlugin). */
export function registerStorage(app: FastifyInstance, storage: Storage, writer: StorageWriter | null, opts: StorageApiOptions): StorageApi {
  const api = createStorageApi(storage, writer, opts);
  storageRoutes(app, storage, api, opts);
  return api;
}

/** A storage failure as the catalog says: `{error: ERR_…, message}` with its status (Retry-After when busy). */
function storageFail(reply: FastifyReply, e: unknown): FastifyReply {
  const err = e instanceof TradsysError ? e : new TradsysError('ERR_STORAGE_UNAVAILABLE', (e as Error).message);
  if (err.code === 'ERR_STORAGE_BUSY') void reply.header('retry-after', String(BUSY_RETRY_AFTER_S));
  return replyCatalogError(reply, err);
}

function storageRoutes(app: FastifyInstance, storage: Storage, api: { queries: StorageQueries; gate: AnalystGate }, opts: StorageRouteOptions): void {
  const { queries, gate } = api;
  const bySymbol = new Map(opts.instruments.map((i) => [i.symbol, i]));
  const instrument = (reply: FastifyReply, symbol: string): Instrument | null => {
    const ins = bySymbol.get(symbol);
    if (!ins) { void replyError(reply, 404, 'unknown_symbol', `no symbol ${symbol}`); return null; }
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
      } catch (e) { return storageFail(reply, e); }
    });

    ctx.get<Range>('/api/v1/vwap/:symbol', { schema: { querystring: range } }, async (req, reply) => {
      const ins = instrument(reply, req.params.symbol);
      if (!ins) return reply;
      try {
        const from = parseTime(req.query.from, 'from'), to = parseTime(req.query.to, 'to');
        const v = await queries.vwap(ins.symbol, from, to);
        return { symbol: ins.symbol, from: from?.toString() ?? null, to: to?.toString() ?? null, vwap: vwapDecimal(ins, BigInt(v.notional), BigInt(v.volume)), volume: ins.toQty(BigInt(v.volume)), trades: Number(v.trades) };
      } catch (e) { return storageFail(reply, e); }
    });

    if (opts.recentTrades) {
      const recent = opts.recentTrades;
      ctx.get<Range>('/api/v1/trades/:symbol', { schema: { querystring: range }, config: { current: true } }, async (req, reply) => {
        const ins = instrument(reply, req.params.symbol);
        if (!ins) return reply;
        if (req.query.from === undefined && req.query.to === undefined) return reply.type('application/json; charset=utf-8').send(recent(ins.id));
        try {
          const rows = await queries.trades(ins.symbol, parseTime(req.query.from, 'from'), parseTime(req.query.to, 'to'), Number(req.query.limit ?? 1000));
          return reply.type('application/json; charset=utf-8').send(`[${rows.map((t) => tradeJson(ins, t)).join(',')}]`);
        } catch (e) { return storageFail(reply, e); }
      });
    }

    ctx.post<{ Body: { sql: string; params?: Record<string, ParamValue> } }>('/api/v1/sql', {
      bodyLimit: 128 * 1024,
      schema: { body: { type: 'object', required: ['sql'], additionalProperties: false, properties: { sql: { type: 'string', maxLength: 100_000 }, params: { type: 'object' } } } },
    }, async (req, reply) => {
      const ok = opts.authorizeSql ? await opts.authorizeSql(req, reply) : false;
      if (!ok) return reply.sent ? reply : replyCatalogError(reply, new TradsysError('ERR_STORAGE_FORBIDDEN', 'this key may not run SQL'));
      const who = ok === true ? { key: `ip:${req.ip}`, account: null } : ok;
      try {
        const r = await gate.run({ ...who, ip: req.ip, via: 'http' }, req.body.sql, req.body.params ?? {}, req.log as AuditLogger);
        return { meta: r.meta, rows: r.rows, rowCount: r.rows.length, elapsedMs: r.elapsedMs };
      } catch (e) { return storageFail(reply, e); }
    });
  });

  if (opts.clickhouse) {
    const backendDb = (storage as Storage & { database?: string }).database;
    registerClickHouseHttp(app, { gate, ...opts.clickhouse, databases: backendDb ? [backendDb] : ['default'] });
  }
}

/** The gateway's queries context: read models, and the storage routes when storage is on. */
export async function queriesPlugin(app: FastifyInstance): Promise<void> {
  const { instruments, bySymbol, readModels, md, storage } = app.tradsys;
  const current = { current: true };
  app.get<{ Querystring: { symbol?: string } }>('/api/v1/positions', {
    config: current, schema: { querystring: { type: 'object', additionalProperties: false, properties: { symbol: { type: 'string', maxLength: 32 } } } },
  }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'read');
    if (who === null) return reply;
    let only: Instrument | undefined;
    if (req.query.symbol !== undefined) {
      only = bySymbol.get(req.query.symbol);
      if (!only) return replyError(reply, 404, 'unknown_symbol', `no symbol ${req.query.symbol}`);
    }
    const positions = readModels.positions.positions(who.account).filter((p) => !only || p.symbol === only.id);
    return { seq: Number(readModels.checkpoint), positions: positions.map((p) => positionJson(instruments[p.symbol]!, p)) };
  });
  app.get<{ Querystring: { symbol?: string; afterSeq?: string; limit?: string } }>('/api/v1/fills', {
    config: current,
    schema: {
      querystring: {
        type: 'object', additionalProperties: false,
        properties: { symbol: { type: 'string', maxLength: 32 }, afterSeq: { type: 'string', pattern: '^\\d{1,19}$' }, limit: { type: 'string', pattern: '^[1-9]\\d{0,3}$' } },
      },
    },
  }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'read');
    if (who === null) return reply;
    let symbol: number | undefined;
    if (req.query.symbol !== undefined) {
      const ins = bySymbol.get(req.query.symbol);
      if (!ins) return replyError(reply, 404, 'unknown_symbol', `no symbol ${req.query.symbol}`);
      symbol = ins.id;
    }
    const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
    if (limit > 1000) return replyError(reply, 400, 'bad_field', 'limit must be 1..1000');
    const fills = readModels.fills.fills(who.account, { afterSeq: req.query.afterSeq === undefined ? undefined : BigInt(req.query.afterSeq), limit, symbol });
    return { fills: fills.map((f) => fillJson(instruments[f.symbol]!, f)), nextAfterSeq: fills.length ? Number(fills[fills.length - 1]!.seq) : null };
  });
  if (storage) {
    storageRoutes(app, storage.storage, storage.api, {
      instruments,
      recentTrades: (id) => md.recentTradesJson(id),
      authorizeSql: (req, reply) => { const a = app.authenticate(req, reply, 'analyst'); return a === null ? false : { key: String(req.headers['x-ts-key']), account: a.account }; },
      clickhouse: { authenticate: (user, password, req) => app.clickhouseAuth(user, password, req), refused: (req) => app.refuseAddress(req), page: dashboardPage(app) },
    });
  }
}
