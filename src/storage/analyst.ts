/**
 * The one door for analysts' SQL on every path (POST /api/v1/sql, the ClickHouse-compatible
 * endpoint, `tradsys sql` through a running server): admission (at most `perKey` queries running
 * per API key and `total` for everybody; more is ERR_STORAGE_BUSY, HTTP 429 with Retry-After),
 * then `StorageQueries.sql` (the sandbox, the limits, the read lane), then one audit line.
 *
 * Layout: a count of running queries per key (entries removed at zero) and one in total.
 * Invariants: a slot is taken before the query leaves and given back when it settles, whatever
 * the outcome; every query, refused or run, gives exactly one audit line `{audit: 'sql.query',
 * account, key, ip, via, outcome, query, params, durationMs, rows, bytes}` (info when it ran, warn
 * when refused or failed, with our `code` and ClickHouse's `clickhouseCode`/`clickhouseError`
 * but never an error's text); the query text as the analyst wrote it is logged up to 4 KiB,
 * parameters by name only.
 * Complexity: O(1) per query. Allocation: the audit record per query.
 * Known limitations: admission refuses rather than queues (a client retries after Retry-After);
 * counts are per gateway process (one per data folder).
 */
import { appendFileSync, mkdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TradsysError } from '../domain/errors.js';
import type { StorageQueries } from './queries.js';
import { clickhouseErrorId, type ParamValue, type QueryResult } from './storage.js';

/** Who asks, for admission and the audit line. */
export interface AnalystCaller {
  /** The API key (or `local-cli` for the server's local credential). */
  key: string;
  account: number | null;
  ip: string;
  /** Which door: `http` (POST /api/v1/sql), `clickhouse` (the ClickHouse-compatible endpoint), `cli` (`tradsys sql` on the store itself). */
  via: 'http' | 'clickhouse' | 'cli';
}

/** What the audit line needs of a logger (fastify's pino logger fits). */
export interface AuditLogger {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

export interface AnalystAdmission {
  /** Queries one key may have running at once (default 2). */
  perKey: number;
  /** Queries all keys together may have running at once (default 8). */
  total: number;
}
export const DEFAULT_ADMISSION: AnalystAdmission = { perKey: 2, total: 8 };

const MAX_LOGGED_QUERY = 4096;

export class AnalystGate {
  private readonly running = new Map<string, number>();
  private inFlight = 0;
  /** Queries answered, refused by admission, and failed (sandbox, limits, errors). */
  readonly counts = { ok: 0, refused: 0, failed: 0 };
  constructor(readonly queries: StorageQueries, readonly admission: AnalystAdmission = DEFAULT_ADMISSION) {}

  /** Queries running now for `key` (all keys without one). */
  active(key?: string): number { return key === undefined ? this.inFlight : this.running.get(key) ?? 0; }

  /** Admits, runs through `StorageQueries.sql` and logs; throws the query's TradsysError (ERR_STORAGE_BUSY when not admitted). */
  async run(caller: AnalystCaller, text: string, params: Record<string, ParamValue>, log: AuditLogger): Promise<QueryResult> {
    const t0 = performance.now();
    const base = {
      audit: 'sql.query', account: caller.account, key: caller.key, ip: caller.ip, via: caller.via,
      query: text.length > MAX_LOGGED_QUERY ? text.slice(0, MAX_LOGGED_QUERY) + '…' : text, params: Object.keys(params),
    };
    const mine = this.running.get(caller.key) ?? 0;
    if (mine >= this.admission.perKey || this.inFlight >= this.admission.total) {
      const err = new TradsysError('ERR_STORAGE_BUSY', mine >= this.admission.perKey
        ? `this key already has ${mine} analyst ${mine === 1 ? 'query' : 'queries'} running (at most ${this.admission.perKey}); retry when one has finished`
        : `${this.inFlight} analyst queries are running (at most ${this.admission.total} in all); retry shortly`);
      this.counts.refused++;
      log.warn({ ...base, outcome: 'refused', code: err.code, durationMs: 0, rows: 0, bytes: 0 }, 'analyst query refused');
      throw err;
    }
    this.running.set(caller.key, mine + 1);
    this.inFlight++;
    try {
      const r = await this.queries.sql(text, params);
      this.counts.ok++;
      log.info({ ...base, outcome: 'ok', durationMs: Math.round(performance.now() - t0), rows: r.rows.length, bytes: r.bytes ?? null }, 'analyst query');
      return r;
    } catch (e) {
      const err = e instanceof TradsysError ? e : new TradsysError('ERR_STORAGE_UNAVAILABLE', (e as Error).message);
      this.counts.failed++;
      // ClickHouse's code and name, never its message: on chDB it quotes the canonical query, whose parameters are bound as literals
      const ch = clickhouseErrorId(err);
      log.warn({
        ...base, outcome: outcomeOf(err.code), code: err.code, clickhouseCode: ch.code, clickhouseError: ch.name,
        durationMs: Math.round(performance.now() - t0), rows: 0, bytes: 0,
      }, 'analyst query failed');
      throw err;
    } finally {
      const n = (this.running.get(caller.key) ?? 1) - 1;
      if (n <= 0) this.running.delete(caller.key); else this.running.set(caller.key, n);
      this.inFlight--;
    }
  }
}

/**
 * A query's outcome in its audit line: `refused` by the sandbox (as by admission), `denied` by
 * ClickHouse's own access rules (readonly, allow_databases), `failed` otherwise.
 */
function outcomeOf(code: string): 'refused' | 'denied' | 'failed' {
  return code === 'ERR_STORAGE_SANDBOX' || code === 'ERR_STORAGE_NOT_SELECT' ? 'refused' : code === 'ERR_STORAGE_FORBIDDEN' ? 'denied' : 'failed';
}

/**
 * Audit lines of `tradsys sql` when it opens the store itself (no server to log through): JSON
 * lines in pino's shape appended to `<data>/logs/sql-cli.log` (mode 0600), which is renamed to
 * `sql-cli.log.1` once past 8 MiB (one old file kept). Never throws: a log that cannot be written
 * does not stop the query.
 */
export function fileAuditLogger(dataDir: string): AuditLogger {
  const write = (level: number, obj: Record<string, unknown>, msg: string): void => {
    try {
      const dir = join(dataDir, 'logs');
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, 'sql-cli.log');
      try { if (statSync(file).size > 8 * 1024 * 1024) renameSync(file, file + '.1'); } catch { /* first line */ }
      appendFileSync(file, JSON.stringify({ level, time: Date.now(), pid: process.pid, ...obj, msg }) + '\n', { mode: 0o600 });
    } catch { /* best effort: see above */ }
  };
  return { info: (o, m) => write(30, o, m), warn: (o, m) => write(40, o, m) };
}

/** Seconds a refused analyst should wait (Retry-After). */
export const BUSY_RETRY_AFTER_S = 1;
