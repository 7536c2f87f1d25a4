/**
 * ServerStorage: any ClickHouse server over HTTP through @clickhouse/client (keep-alive, a bounded
 * pool of open connections), configured from CLICKHOUSE_URL / CLICKHOUSE_USER /
 * CLICKHOUSE_PASSWORD / CLICKHOUSE_DATABASE, and CLICKHOUSE_ANALYST_USER /
 * CLICKHOUSE_ANALYST_PASSWORD: the dedicated read-only user analysts' queries run as (a readonly
 * profile, allow_databases = the platform's database; docs/security.md "SQL sandbox" has the users.xml).
 *
 * Layout: one client per instance; the database is created on first connect (through a
 * short-lived client on `default`). Results are requested as JSON with
 * output_format_json_quote_64bit_integers=1, so UInt64/Int64 come back as exact strings.
 * Invariants: `{name:Type}` placeholders are bound by the server where it has them
 * (features.parameters), else replaced by literals quoted in sql.ts; both paths check every
 * value against its type first. The client's async HTTP never blocks its thread.
 * Complexity: one HTTP request per call. Allocation: per call.
 * Known limitations: no client-side load balancing over several servers (use a proxy or a
 * Distributed table); request compression is off (loopback).
 */
import { createClient, ClickHouseLogLevel, type ClickHouseClient } from '@clickhouse/client';
import { Agent, request as httpRequest } from 'node:http';
import { TradsysError } from '../domain/errors.js';
import {
  featuresFromVersion, storageError, StorageMeter, toJsonEachRow,
  type Features, type QueryOptions, type QueryResult, type RawInsert, type Row, type Storage, type StorageStats,
} from './storage.js';
import { bindParams, checkIdentifier, checkParams, nativeParams } from './sql.js';

export interface ServerStorageConfig {
  url: string;
  username?: string;
  password?: string;
  database?: string;
  /** Open HTTP connections at most (default 10). */
  maxOpenConnections?: number;
  /** Per-request timeout in ms (default 30,000). */
  requestTimeoutMs?: number;
  /** The read-only user analysts' queries run as (QueryOptions.analyst); unset: the main user with readonly=1. */
  analystUsername?: string;
  analystPassword?: string;
}

/** Reads CLICKHOUSE_URL & co.; null when CLICKHOUSE_URL is not set. */
export function serverConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ServerStorageConfig | null {
  const url = env.CLICKHOUSE_URL;
  if (!url) return null;
  try { new URL(url); } catch { throw new TradsysError('ERR_STORAGE_CONFIG', `CLICKHOUSE_URL is not a URL: ${JSON.stringify(url)}`); }
  const analyst = env.CLICKHOUSE_ANALYST_USER ? { analystUsername: env.CLICKHOUSE_ANALYST_USER, analystPassword: env.CLICKHOUSE_ANALYST_PASSWORD ?? '' } : {};
  return { url, username: env.CLICKHOUSE_USER ?? 'default', password: env.CLICKHOUSE_PASSWORD ?? '', database: env.CLICKHOUSE_DATABASE ?? 'tradsys', ...analyst };
}

/** Open connections of the analysts' client (readLane()). */
export const READ_LANE_CONNECTIONS = 4;

const BASE_SETTINGS = { output_format_json_quote_64bit_integers: 1 } as const;

export class ServerStorage implements Storage {
  readonly backend = 'server' as const;
  features: Features | null = null;
  readonly database: string;
  private readonly client: ClickHouseClient;
  /** The analyst user's client (null: analysts' queries use `client` with readonly=1). */
  private readonly analystClient: ClickHouseClient | null;
  private readonly meter = new StorageMeter();
  private closed = false;
  private dbReady = false;
  private readonly agent: Agent;

  constructor(readonly config: ServerStorageConfig) {
    this.database = checkIdentifier(config.database ?? 'tradsys', 'CLICKHOUSE_DATABASE');
    this.client = this.makeClient(this.database);
    this.analystClient = config.analystUsername ? this.makeClient(this.database, config.analystUsername, config.analystPassword ?? '') : null;
    this.agent = new Agent({ keepAlive: true, maxSockets: config.maxOpenConnections ?? 10 });
  }

  private makeClient(database: string, username = this.config.username ?? 'default', password = this.config.password ?? ''): ClickHouseClient {
    return createClient({
      url: this.config.url, username, password, database,
      max_open_connections: this.config.maxOpenConnections ?? 10, request_timeout: this.config.requestTimeoutMs ?? 30_000,
      keep_alive: { enabled: true }, compression: { request: false, response: false }, log: { level: ClickHouseLogLevel.OFF },
      clickhouse_settings: { ...BASE_SETTINGS },
    });
  }

  async connect(): Promise<Features> {
    if (this.features && this.dbReady) return this.features;
    this.check();
    if (!this.dbReady) {
      const boot = this.makeClient('default');
      const t0 = performance.now();
      try {
        await boot.command({ query: `CREATE DATABASE IF NOT EXISTS ${this.database}` });
        this.meter.ok(performance.now() - t0);
      } catch (e) {
        const err = storageError(e, 'connect');
        this.meter.fail(err);
        throw err;
      } finally {
        await boot.close();
      }
      this.dbReady = true;
    }
    const r = await this.run('connect', async () => (await (await this.client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{ v: string }>()));
    this.features = featuresFromVersion(r[0]!.v, 'server');
    return this.features;
  }

  private check(): void {
    if (this.closed) throw new TradsysError('ERR_STORAGE_CLOSED', 'ServerStorage is closed');
  }

  /** `analyst`: an analyst's query, whose failure is its answer and not counted here (StorageMeter). */
  private async run<T>(what: string, f: () => Promise<T>, analyst = false): Promise<T> {
    this.check();
    const t0 = performance.now();
    try {
      const r = await f();
      this.meter.ok(performance.now() - t0);
      return r;
    } catch (e) {
      const err = storageError(e, what);
      if (!analyst) this.meter.fail(err);
      throw err;
    }
  }

  private prepare(sql: string, opts: QueryOptions | undefined): { query: string; query_params?: Record<string, unknown> } {
    checkParams(sql, opts?.params);
    if (!opts?.params || Object.keys(opts.params).length === 0) return { query: sql };
    if (this.features?.parameters) return { query: sql, query_params: nativeParams(sql, opts.params) };
    return { query: bindParams(sql, opts.params) };
  }

  /** Settings in order, `readonly` last (after it ClickHouse refuses further setting changes). */
  private settings(opts: QueryOptions | undefined): Record<string, string | number> {
    const s = { ...BASE_SETTINGS, ...(opts?.settings ?? {}) } as Record<string, string | number>;
    if ('readonly' in s) { const r = s.readonly!; delete s.readonly; s.readonly = r; }
    return s;
  }

  async query<T = Row>(sql: string, opts?: QueryOptions): Promise<QueryResult<T>> {
    if (!this.features) await this.connect();
    const p = this.prepare(sql, opts);
    this.meter.queries++;
    const t0 = performance.now();
    let bytes = 0;
    const r = await this.run('query', async () => {
      // wait_end_of_query: the server buffers the result, so an exception thrown mid-result (a row
      // limit, a timeout) comes back as an HTTP error instead of a truncated 200 body
      // the analyst user's profile is readonly=1: it carries the limits itself and refuses any
      // other setting, so only the ones it accepts are sent (docs/security.md "SQL sandbox")
      const asAnalyst = opts?.analyst === true && this.analystClient !== null;
      const settings = asAnalyst ? { ...BASE_SETTINGS, wait_end_of_query: 1, readonly: 1 } : this.settings({ ...opts, settings: { wait_end_of_query: 1, ...(opts?.settings ?? {}) } });
      const rs = await (asAnalyst ? this.analystClient! : this.client).query({ ...p, format: 'JSON', clickhouse_settings: settings as never });
      const text = await rs.text();
      bytes = Buffer.byteLength(text);
      if (opts?.maxResultBytes && bytes > opts.maxResultBytes) {
        throw new Error(`Code: 396. DB::Exception: Limit for result exceeded, max bytes: ${opts.maxResultBytes}, current bytes: ${bytes} (the answer as serialised; narrow the query or add LIMIT)`);
      }
      try { return JSON.parse(text) as T; } catch { throw new Error(/Code: \d+[^\n]*/.exec(text)?.[0] ?? 'ClickHouse sent a result that is not JSON'); }
    }, opts?.analyst === true);
    const j = r as unknown as { data: T[]; meta: { name: string; type: string }[]; statistics?: { elapsed: number } };
    return { rows: j.data, meta: j.meta, elapsedMs: j.statistics ? j.statistics.elapsed * 1000 : performance.now() - t0, bytes };
  }

  private reader: ServerStorage | null = null;

  /**
   * The analysts' view: a client of its own (at most READ_LANE_CONNECTIONS open connections), so
   * analysts' queries never take the sockets of this client nor of the writer's (which has its
   * own client in its thread). Closed with this storage.
   */
  readLane(): Storage {
    this.reader ??= new ServerStorage({ ...this.config, maxOpenConnections: READ_LANE_CONNECTIONS });
    return this.reader;
  }

  async command(sql: string, opts?: QueryOptions): Promise<void> {
    if (!this.features) await this.connect();
    const p = this.prepare(sql, opts);
    await this.run('command', async () => { await this.client.command({ ...p, clickhouse_settings: this.settings(opts) as never }); });
  }

  async insert(table: string, data: readonly Row[] | RawInsert): Promise<number> {
    if (!this.features) await this.connect();
    checkIdentifier(table, 'table');
    this.meter.inserts++;
    if (Array.isArray(data)) {
      const rows = data as readonly Row[];
      if (rows.length === 0) return 0;
      await this.run(`insert into ${table}`, async () => { await this.client.command({ query: `INSERT INTO ${table} FORMAT JSONEachRow\n${toJsonEachRow(rows)}` }); });
      this.meter.rowsInserted += rows.length;
      return rows.length;
    }
    const raw = data as RawInsert;
    const cols = raw.columns ? ` (${raw.columns.map((c) => checkIdentifier(c, 'column')).join(', ')})` : '';
    await this.run(`insert into ${table}`, async () => {
      if (typeof raw.body === 'string') {
        await this.client.command({ query: `INSERT INTO ${table}${cols} FORMAT ${raw.format}\n${raw.body}` });
      } else {
        // binary bodies (RowBinary; the client library takes text formats only): a plain HTTP POST,
        // the statement in the URL and the bytes as the body, over a keep-alive agent
        await this.postBinary(`INSERT INTO ${table}${cols} FORMAT ${raw.format}`, raw.body);
      }
    });
    return 0;
  }

  private postBinary(query: string, body: Uint8Array): Promise<void> {
    const u = new URL(this.config.url);
    u.searchParams.set('query', query);
    u.searchParams.set('database', this.database);
    const auth = Buffer.from(`${this.config.username ?? 'default'}:${this.config.password ?? ''}`).toString('base64');
    return new Promise<void>((res, rej) => {
      const req = httpRequest(u, { method: 'POST', agent: this.agent, timeout: this.config.requestTimeoutMs ?? 30_000, headers: { Authorization: `Basic ${auth}`, 'Content-Length': body.byteLength } }, (r) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => (r.statusCode === 200 ? res() : rej(new Error(Buffer.concat(chunks).toString('utf8') || `HTTP ${r.statusCode}`))));
        r.on('error', rej);
      });
      req.on('timeout', () => req.destroy(new Error('request timed out')));
      req.on('error', rej);
      req.end(body);
    });
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    const t0 = performance.now();
    const r = await this.client.ping();
    if (r.success) { this.meter.ok(performance.now() - t0); return true; }
    this.meter.fail(storageError(r.error, 'ping'));
    return false;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.reader?.close();
    this.agent.destroy();
    await this.client.close();
    await this.analystClient?.close();
  }

  stats(): StorageStats { return this.meter.snapshot('server', this.features?.version ?? null); }
}
