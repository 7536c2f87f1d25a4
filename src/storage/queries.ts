/**
 * The read side over ClickHouse: bars, trades and VWAP for a symbol and time range, and analysts'
 * SQL (the sandbox of sandbox.ts, then read-only with row/time/memory limits), behind an LRU +
 * TTL cache.
 *
 * Layout: cache key = normalised SQL + JSON of the parameters; an entry remembers the ingest
 * generation it was computed at and is a miss once the writer has ingested newer data (or its
 * TTL passed). Bars merge the AggregatingMergeTree states (argMinMerge/argMaxMerge/maxMerge/…),
 * so partially merged parts give the same answer as bars computed from the trades.
 * Invariants: prices leave here as integer ticks (strings); decimals are made with the
 * instrument's tick size by the HTTP layer; every user value is a bound parameter.
 * Complexity: one ClickHouse query per miss; O(1) per cache hit. Allocation: per query.
 * Analysts' SQL runs on the storage's read lane where it has one (chDB: sessions of their own in the
 * chDB process; server: a client of its own), capped in rows, bytes (ClickHouse's max_result_bytes
 * and our cap on the serialised answer), seconds and memory; answers over 1 MiB are not cached.
 * Known limitations: the generation is global (any ingest invalidates every entry).
 */
import { TradsysError } from '../domain/errors.js';
import { normalizeSql } from './sql.js';
import { sandboxSql, type SandboxPolicy } from './sandbox.js';
import type { SqlParser } from './sql-parser.js';
import { BAR_INTERVALS, type BarInterval } from './schema.js';
import type { ParamValue, QueryResult, Row, Storage } from './storage.js';

/** Optional extras of StorageQueries.sql. */
export interface AnalystSqlOptions {
  /** The parser the sandbox asks (default: the shared data-less chDB parser process). */
  parser?: SqlParser;
  /**
   * Who asks and where to log (the request's fastify/pino logger): a query the sandbox refuses
   * is one audit line, `warn({audit: 'sql.refused', account, key, ip, outcome: 'refused', code,
   * reason, sql})` (the text cut at 2,000 characters; never parameters, keys or secrets).
   */
  audit?: { log: { warn(obj: object, msg: string): void }; account?: number | string | null; key?: string | null; ip?: string | null };
  /**
   * Accept a trailing `FORMAT name` (as ClickHouse clients send) and return its name in
   * `format` instead of refusing the query; rows still come back as objects (sandbox.ts).
   */
  allowFormat?: boolean;
}

export interface AnalystLimits {
  maxRows: number; maxSeconds: number; maxMemoryBytes: number;
  /** The answer's size: ClickHouse's max_result_bytes and our cap on the serialised (JSON) text. */
  maxResultBytes: number;
}
export const DEFAULT_LIMITS: AnalystLimits = { maxRows: 100_000, maxSeconds: 10, maxMemoryBytes: 1_000_000_000, maxResultBytes: 16 * 1024 * 1024 };
/** Answers larger than this (serialised) are not kept in the cache. */
export const CACHE_MAX_ENTRY_BYTES = 1024 * 1024;

export class QueryCache {
  hits = 0;
  misses = 0;
  private readonly map = new Map<string, { at: number; gen: number; value: QueryResult }>();
  constructor(readonly maxEntries = 512, readonly ttlMs = 5_000) {}

  get(key: string, gen: number): QueryResult | undefined {
    if (this.ttlMs <= 0) { this.misses++; return undefined; } // TTL 0: caching off
    const e = this.map.get(key);
    if (!e || e.gen !== gen || Date.now() - e.at > this.ttlMs) {
      if (e) this.map.delete(key);
      this.misses++;
      return undefined;
    }
    this.map.delete(key); // LRU: re-insert at the back
    this.map.set(key, e);
    this.hits++;
    return e.value;
  }

  set(key: string, gen: number, value: QueryResult): void {
    if (this.ttlMs <= 0) return;
    this.map.delete(key);
    this.map.set(key, { at: Date.now(), gen, value });
    while (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value!);
  }

  get size(): number { return this.map.size; }
}

export interface BarRow { symbol: string; ts: string; open: string; high: string; low: string; close: string; volume: string; notional: string; trades: string }
export interface TradeRow { symbol: string; ts: string; trade_id: string; seq: string; price: string; qty: string; taker_side: 'buy' | 'sell' }

const I64_MIN = '-9223372036854775808';
const I64_MAX = '9223372036854775807';

export class StorageQueries {
  readonly cache: QueryCache;
  /** Where analysts' SQL runs: the storage's read lane (off the writer's turn) where it has one. */
  readonly analystStorage: Storage;
  constructor(readonly storage: Storage, private readonly generation: () => number = () => 0, cache?: QueryCache, readonly limits: AnalystLimits = DEFAULT_LIMITS) {
    this.cache = cache ?? new QueryCache();
    const lane = (storage as Storage & { readLane?: () => Storage }).readLane;
    this.analystStorage = typeof lane === 'function' ? lane.call(storage) : storage;
  }

  /** Runs through the cache (key: normalised SQL + params; generation: the writer's ingest count). */
  async cached<T = Row>(sql: string, params: Record<string, ParamValue>, settings?: Record<string, string | number>, via?: { analyst?: boolean; storage?: Storage; maxResultBytes?: number }): Promise<QueryResult<T>> {
    const analyst = via?.analyst === true;
    const key = (analyst ? 'analyst\u0000' : '') + normalizeSql(sql) + '\u0000' + JSON.stringify(params, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    const gen = this.generation();
    const hit = this.cache.get(key, gen);
    if (hit) return hit as QueryResult<T>;
    const r = await (via?.storage ?? this.storage).query<T>(sql, {
      params, ...(settings ? { settings } : {}), ...(analyst ? { analyst: true } : {}), ...(via?.maxResultBytes ? { maxResultBytes: via.maxResultBytes } : {}),
    });
    if ((r.bytes ?? 0) <= CACHE_MAX_ENTRY_BYTES) this.cache.set(key, gen, r as QueryResult);
    return r;
  }

  async bars(symbol: string, interval: BarInterval, from?: bigint, to?: bigint, limit = 10_000): Promise<BarRow[]> {
    if (!(interval in BAR_INTERVALS)) throw new TradsysError('ERR_STORAGE_PARAM', `interval must be one of ${Object.keys(BAR_INTERVALS).join(', ')}`);
    const sql = `SELECT symbol, bucket AS ts, argMinMerge(open) AS open, maxMerge(high) AS high, minMerge(low) AS low,
      argMaxMerge(close) AS close, sumMerge(volume) AS volume, sumMerge(notional) AS notional, countMerge(trades) AS trades
      FROM bars_${interval} WHERE symbol = {symbol:String} AND bucket >= {from:Int64} AND bucket < {to:Int64}
      GROUP BY symbol, bucket ORDER BY bucket LIMIT {limit:UInt32}`;
    return (await this.cached<BarRow>(sql, { symbol, from: (from ?? BigInt(I64_MIN)).toString(), to: (to ?? BigInt(I64_MAX)).toString(), limit })).rows;
  }

  /** Trades in [from, to), newest first. */
  async trades(symbol: string, from?: bigint, to?: bigint, limit = 1000): Promise<TradeRow[]> {
    const sql = `SELECT symbol, ts, trade_id, seq, price, qty, taker_side
      FROM trades WHERE symbol = {symbol:String} AND ts >= {from:Int64} AND ts < {to:Int64}
      ORDER BY ts DESC, trade_id DESC LIMIT 1 BY trade_id LIMIT {limit:UInt32}`;
    return (await this.cached<TradeRow>(sql, { symbol, from: (from ?? BigInt(I64_MIN)).toString(), to: (to ?? BigInt(I64_MAX)).toString(), limit })).rows;
  }

  /** Σ price·qty and Σ qty over [from, to) (ticks·lots and lots; VWAP = notional / volume ticks). */
  async vwap(symbol: string, from?: bigint, to?: bigint): Promise<{ notional: string; volume: string; trades: string }> {
    const sql = `SELECT toString(sum(price * toInt64(qty))) AS notional, toString(sum(qty)) AS volume, toString(count()) AS trades
      FROM (SELECT trade_id, any(price) AS price, any(qty) AS qty FROM trades
            WHERE symbol = {symbol:String} AND ts >= {from:Int64} AND ts < {to:Int64} GROUP BY trade_id)`;
    const r = await this.cached<{ notional: string; volume: string; trades: string }>(sql, { symbol, from: (from ?? BigInt(I64_MIN)).toString(), to: (to ?? BigInt(I64_MAX)).toString() });
    return r.rows[0] ?? { notional: '0', volume: '0', trades: '0' };
  }

  /**
   * Analysts' SQL, the one gate of every analyst path (POST /api/v1/sql, `tradsys sql`): the
   * sandbox (sandbox.ts) decides from ClickHouse's own parse what the query may touch, then it
   * runs read-only with row/time/memory limits, as the analyst user where the server has one.
   * Both backends run the canonical text the sandbox checked (ClickHouse 26's rendering of the
   * checked tree, parameters bound as literals): never the caller's spelling, which an older
   * server's parser could read differently; a canonical form the server cannot read fails closed.
   */
  async sql(text: string, params: Record<string, ParamValue> = {}, options: AnalystSqlOptions = {}): Promise<QueryResult & { format?: string | null }> {
    let checked;
    try {
      checked = await sandboxSql(text, params, await this.policy(), options.parser, { allowFormat: options.allowFormat === true });
    } catch (e) {
      const a = options.audit;
      if (a && e instanceof TradsysError && (e.code === 'ERR_STORAGE_SANDBOX' || e.code === 'ERR_STORAGE_NOT_SELECT')) {
        a.log.warn({
          audit: 'sql.refused', account: a.account ?? null, key: a.key ?? null, ip: a.ip ?? null, outcome: 'refused', code: e.code, reason: e.message,
          sql: typeof text === 'string' ? text.slice(0, 2000) : null,
        }, 'analyst query refused by the SQL sandbox');
      }
      throw e;
    }
    const l = this.limits;
    const settings = {
      max_result_rows: l.maxRows, max_result_bytes: l.maxResultBytes, result_overflow_mode: 'throw', max_execution_time: l.maxSeconds, max_memory_usage: l.maxMemoryBytes, readonly: 1,
    };
    const via = { analyst: true, storage: this.analystStorage, maxResultBytes: l.maxResultBytes };
    // what runs is what was checked, parameters already bound: the canonical text ClickHouse 26
    // printed from the checked tree, on both backends (the caller's spelling never reaches a
    // server, whose older parser could read it differently; a form it cannot read fails closed)
    const r = await this.cached(checked.canonical, {}, settings, via);
    return options.allowFormat ? { ...r, format: checked.format } : r;
  }

  private databases: { names: ReadonlySet<string>; at: number } | null = null;

  /**
   * The sandbox's policy: the platform's tables in the storage's database, and the backend's
   * databases (system.databases, re-read at most once a minute) for the token-level check of
   * `database.table` names.
   */
  async policy(): Promise<SandboxPolicy> {
    const now = Date.now();
    if (!this.databases || now - this.databases.at > 60_000) {
      try {
        const r = await this.storage.query<{ name: string }>('SELECT name FROM system.databases');
        this.databases = { names: new Set(r.rows.map((x) => x.name)), at: now };
      } catch {
        // unknown for now: the built-in databases and the platform's are still checked
        this.databases = { names: this.databases?.names ?? new Set(), at: now - 50_000 };
      }
    }
    return { database: this.storage.database ?? 'default', databases: this.databases.names };
  }
}
