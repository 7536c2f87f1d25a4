/**
 * The Storage interface (`insert/query/command/ping/close`) that the embedded chDB backend and the
 * ClickHouse server backend both implement, plus what they share: server feature flags from
 * `SELECT version()`, health/latency/error counters, and the mapping of ClickHouse errors onto
 * the host error catalog.
 *
 * Layout: rows are plain objects; 64-bit integers travel as decimal strings both ways (JSON
 * formats with output_format_json_quote_64bit_integers=1), never as lossy JS numbers.
 * Invariants: a backend answers the same rows for the same SQL; errors are TradsysErrors with an
 * ERR_STORAGE_* code. Complexity: O(1) bookkeeping per call. Allocation: per call (not hot path).
 * Known limitations: feature detection is by version number (the release notes' first version
 * of each feature), not by probing.
 */
import { TradsysError, type ErrorCode } from '../domain/errors.js';

export type Row = Record<string, unknown>;
/** A query parameter: bound natively where the server has `{name:Type}`, else quoted by us. */
export type ParamValue = string | number | bigint | boolean | null | readonly ParamValue[];
export type Settings = Record<string, string | number>;

export interface QueryOptions {
  params?: Record<string, ParamValue>;
  /** Per-query ClickHouse settings (applied after the backend's own; `readonly` last). */
  settings?: Settings;
  /**
   * An analyst's query (already through the sandbox): the server backend runs it as the analyst
   * user when one is configured (CLICKHOUSE_ANALYST_USER), chDB under its analyst settings.
   */
  analyst?: boolean;
  /**
   * Refuse (ERR_STORAGE_LIMIT) an answer whose serialised text is longer than this many bytes;
   * chDB refuses it in its own process, before it crosses to the caller.
   */
  maxResultBytes?: number;
}

export interface QueryResult<T = Row> {
  rows: T[];
  meta: { name: string; type: string }[];
  /** Server-side elapsed seconds × 1000 where reported, else wall time. */
  elapsedMs: number;
  /** Size of the answer as the backend serialised it (JSON text), bytes. */
  bytes?: number;
}

/**
 * An insert body already in a ClickHouse format (the writer's batches: RowBinary). A text body may
 * be a string; a binary one must be bytes. `columns` names the body's columns in order.
 */
export interface RawInsert {
  format: 'JSONEachRow' | 'TSV' | 'RowBinary';
  body: string | Uint8Array;
  columns?: readonly string[];
}

export interface Features {
  version: string;
  /** Column compression codecs (CODEC(...)), ClickHouse ≥ 19.11. */
  codecs: boolean;
  /** DateTime64, ClickHouse ≥ 20.1. */
  dateTime64: boolean;
  /** Server-side `{name:Type}` query parameters, ClickHouse ≥ 19.15. */
  parameters: boolean;
  /** LowCardinality without a setting, ClickHouse ≥ 19.9. */
  lowCardinality: boolean;
  /** RowBinary insert bodies (every version we support; chDB reads them from a file, see chdb-storage.ts). */
  rowBinary: boolean;
}

export interface StorageStats {
  backend: 'chdb' | 'server';
  up: boolean;
  version: string | null;
  queries: number;
  inserts: number;
  rowsInserted: number;
  errors: number;
  reconnects: number;
  lastError: string | null;
  lastOkAt: number | null;
  latencyP50Ms: number;
  latencyP99Ms: number;
}

export interface Storage {
  readonly backend: 'chdb' | 'server';
  /** The database holding the platform's tables (chDB: `default`; the server: CLICKHOUSE_DATABASE). */
  readonly database?: string;
  /** Null until the first successful round trip. */
  readonly features: Features | null;
  /** Connects (if needed) and returns the feature flags; throws ERR_STORAGE_UNAVAILABLE. */
  connect(): Promise<Features>;
  /** Rows as objects, or a body already in a format. Returns rows sent (objects) or 0. */
  insert(table: string, data: readonly Row[] | RawInsert): Promise<number>;
  query<T = Row>(sql: string, opts?: QueryOptions): Promise<QueryResult<T>>;
  /** DDL and other statements without a result. */
  command(sql: string, opts?: QueryOptions): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
  stats(): StorageStats;
}

/** Parses "18.16.1", "26.7.2.1" into feature flags. */
export function featuresFromVersion(version: string, _backend: 'chdb' | 'server'): Features {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  const major = m ? Number(m[1]) : 0;
  const minor = m ? Number(m[2]) : 0;
  const atLeast = (a: number, b: number): boolean => major > a || (major === a && minor >= b);
  return {
    version: version.trim(), codecs: atLeast(19, 11), dateTime64: atLeast(20, 1), parameters: atLeast(19, 15),
    lowCardinality: atLeast(19, 9), rowBinary: true,
  };
}

/** ClickHouse error codes → catalog codes (the rest of the coded errors are query errors). */
const LIMIT_CODES = new Set([158, 159, 160, 241, 307, 396, 209]);
/** READONLY, ACCESS_DENIED (e.g. the analyst user outside its allow_databases), NOT_ENOUGH_PRIVILEGES. */
const FORBIDDEN_CODES = new Set([164, 291, 497]);

/** Maps a backend error (ClickHouse exception text, socket error, worker failure) to a TradsysError. */
export function storageError(e: unknown, context: string): TradsysError {
  if (e instanceof TradsysError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const m = /Code: (\d+)/.exec(msg);
  let code: ErrorCode = 'ERR_STORAGE_UNAVAILABLE';
  if (m) {
    const n = Number(m[1]);
    code = LIMIT_CODES.has(n) ? 'ERR_STORAGE_LIMIT' : FORBIDDEN_CODES.has(n) ? 'ERR_STORAGE_FORBIDDEN' : 'ERR_STORAGE_QUERY';
  }
  // ClickHouse appends a long "Expected one of" list and a stack; keep the first useful line
  const text = msg.replace(/^Query failed: /, '').replace(/, e\.what\(\) = DB::Exception.*$/s, '').replace(/[.\s]*Expected one of:[\s\S]*$/, '')
    .split('\n')[0]!.slice(0, 600);
  return new TradsysError(code, `${context}: ${text}`, { cause: e });
}

/**
 * ClickHouse's numeric code and exception name of an error (its message, or its causes'),
 * without any of its text: `{code: 6, name: 'CANNOT_PARSE_TEXT'}`; nulls where ClickHouse said
 * none (a network error; 18.16 writes no name). The name is the last `(NAME)` that ends a line,
 * where ClickHouse puts it, after any quoted data.
 */
export function clickhouseErrorId(e: unknown): { code: number | null; name: string | null } {
  let code: number | null = null;
  let name: string | null = null;
  for (let x: unknown = e, depth = 0; x !== undefined && x !== null && depth < 4; x = (x as { cause?: unknown }).cause, depth++) {
    const msg = x instanceof Error ? x.message : typeof x === 'string' ? x : '';
    const c = /Code: (\d{1,5})[.,]/.exec(msg);
    if (c && code === null) code = Number(c[1]);
    const names = [...msg.matchAll(/\(([A-Z][A-Z0-9_]{2,63})\)(?: \(version [^)\n]*\))?[.\s]*(?:$|\n)/g)];
    if (names.length > 0 && name === null) name = names[names.length - 1]![1]!;
    if (!(x instanceof Error)) break;
  }
  return { code, name };
}

/**
 * A failure as /health may show it: our code, what failed (`insert into trades`, `ping`, …) and
 * ClickHouse's code and name, never ClickHouse's message (it quotes query text and data). An
 * error without a ClickHouse code (a socket error: `connect ECONNREFUSED …`) keeps its first line.
 */
export function dataFreeReason(e: TradsysError): string {
  const id = clickhouseErrorId(e);
  const i = e.message.indexOf(': ');
  const what = i > 0 && i <= 80 ? e.message.slice(0, i) : null;
  if (id.code === null && id.name === null) return `${e.code}: ${e.message.split('\n')[0]!.slice(0, 200)}`;
  return `${e.code}: ${what ?? 'call'} failed (ClickHouse Code: ${id.code ?? '?'}${id.name ? `, ${id.name}` : ''})`;
}

/**
 * Latency reservoir (last 1,024 samples) and counters shared by both backends. Only the
 * platform's own calls (writer, migrations, read routes, pings) are failures here: analysts'
 * query errors are their answer, counted by the AnalystGate, never in `errors`/`lastError`.
 */
export class StorageMeter {
  queries = 0;
  inserts = 0;
  rowsInserted = 0;
  errors = 0;
  reconnects = 0;
  up = false;
  lastError: string | null = null;
  lastOkAt: number | null = null;
  private readonly lat = new Float64Array(1024);
  private n = 0;
  private wasDown = false;

  ok(ms: number): void {
    this.lat[this.n++ & 1023] = ms;
    if (this.wasDown) { this.reconnects++; this.wasDown = false; }
    this.up = true;
    this.lastOkAt = Date.now();
  }

  fail(e: TradsysError): void {
    this.errors++;
    this.lastError = dataFreeReason(e);
    if (e.code === 'ERR_STORAGE_UNAVAILABLE') { if (this.up || this.lastOkAt !== null) this.wasDown = true; this.up = false; }
  }

  percentile(p: number): number {
    const k = Math.min(this.n, 1024);
    if (k === 0) return 0;
    const xs = Array.from(this.lat.subarray(0, k)).sort((a, b) => a - b);
    return xs[Math.min(k - 1, Math.floor(p * k))]!;
  }

  snapshot(backend: 'chdb' | 'server', version: string | null): StorageStats {
    return {
      backend, up: this.up, version, queries: this.queries, inserts: this.inserts, rowsInserted: this.rowsInserted, errors: this.errors,
      reconnects: this.reconnects, lastError: this.lastError, lastOkAt: this.lastOkAt, latencyP50Ms: this.percentile(0.5), latencyP99Ms: this.percentile(0.99),
    };
  }
}

/** Serialises rows as JSONEachRow; bigint becomes a decimal string (exact for UInt64/Int64). */
export function toJsonEachRow(rows: readonly Row[]): string {
  let out = '';
  for (const r of rows) out += JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n';
  return out;
}
