/**
 * `tradsys sql [--data DIR] [--format table|csv|json] [--param name=value …] "SELECT …"`: one
 * read-only query, through the same sandbox and limits as POST /api/v1/sql, against
 * - the ClickHouse server at CLICKHOUSE_URL, when it is set;
 * - else the running `tradsys serve` that holds `<DIR>/clickhouse` (chDB locks its folder, so
 *   nothing else may open it): found through `<DIR>/server.json` (src/storage/discovery.ts) and
 *   asked over its ClickHouse-compatible endpoint with the local credential written there (so
 *   the query also counts in the server's per-key admission and audit log, as `local-cli`);
 * - else the embedded store in `<DIR>/clickhouse`, opened here (never created: a folder without a
 *   store is ERR_STORAGE_NO_STORE, which says what to pass); its audit line goes to
 *   `<DIR>/logs/sql-cli.log`.
 * DIR defaults to `./data`.
 *
 * Layout: table output pads columns (numbers right-aligned); csv quotes fields with , " or a
 * newline; json prints one JSON array. Allocation: the whole result (bounded by the limits).
 * Known limitations: parameters from the command line are strings (ClickHouse converts them to
 * the declared type); a server.json whose pid was reused by another process after a crash is
 * taken for live (the connection then fails and says so).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { TradsysError, type ErrorCode, ERRORS } from '../domain/errors.js';
import { ChdbStorage } from '../storage/chdb-storage.js';
import { readDiscovery, type Discovery } from '../storage/discovery.js';
import { openStorage } from '../storage/open.js';
import { StorageQueries } from '../storage/queries.js';
import { serverConfigFromEnv } from '../storage/server-storage.js';
import { AnalystGate, fileAuditLogger, type AuditLogger } from '../storage/analyst.js';
import type { ParamValue, QueryResult, Storage } from '../storage/storage.js';

export function formatRows(rows: Record<string, unknown>[], columns: string[], format: 'table' | 'csv' | 'json'): string {
  const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  if (format === 'json') return JSON.stringify(rows, null, 0).replace(/\},\{/g, '},\n{') + '\n';
  if (format === 'csv') {
    const q = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    return [columns.map(q).join(','), ...rows.map((r) => columns.map((c) => q(cell(r[c]))).join(','))].join('\n') + '\n';
  }
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const w = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const num = columns.map((_c, i) => cells.length > 0 && cells.every((row) => /^-?\d+(\.\d+)?$/.test(row[i]!)));
  const line = (xs: string[]): string => xs.map((x, i) => (num[i] ? x.padStart(w[i]!) : x.padEnd(w[i]!))).join('  ').trimEnd();
  return [line(columns), w.map((n) => '─'.repeat(n)).join('  '), ...cells.map(line), `(${rows.length} row${rows.length === 1 ? '' : 's'})`].join('\n') + '\n';
}

export async function cmdSql(argv: string[]): Promise<number> {
  let data: string | null = null;
  let format: 'table' | 'csv' | 'json' = 'table';
  const params: Record<string, ParamValue> = {};
  const sql: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (name: string): string => {
      const eq = a.indexOf('=');
      const v = eq > 0 && a.startsWith(`--${name}=`) ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new TradsysError('ERR_CLI_USAGE', `--${name} needs a value`);
      return v;
    };
    if (a === '--data' || a.startsWith('--data=')) data = value('data');
    else if (a === '--format' || a.startsWith('--format=')) {
      const f = value('format');
      if (f !== 'table' && f !== 'csv' && f !== 'json') throw new TradsysError('ERR_CLI_USAGE', `--format must be table, csv or json, got "${f}"`);
      format = f;
    } else if (a === '--param' || a.startsWith('--param=')) {
      const p = value('param');
      const eq = p.indexOf('=');
      if (eq <= 0) throw new TradsysError('ERR_CLI_USAGE', `--param takes name=value, got "${p}"`);
      params[p.slice(0, eq)] = p.slice(eq + 1);
    } else if (a.startsWith('--')) throw new TradsysError('ERR_CLI_USAGE', `unknown option ${a}`);
    else sql.push(a);
  }
  if (sql.length !== 1) throw new TradsysError('ERR_CLI_USAGE', 'sql needs exactly one query argument: tradsys sql "SELECT …"');
  const r = await runQuery(data, sql[0]!, params);
  process.stdout.write(formatRows(r.rows as Record<string, unknown>[], r.meta.map((m) => m.name), format));
  return 0;
}

/** Runs one analyst query where the store is (see the header), as a QueryResult. */
export async function runQuery(dataArg: string | null, text: string, params: Record<string, ParamValue>, env: NodeJS.ProcessEnv = process.env): Promise<QueryResult> {
  if (serverConfigFromEnv(env)) {
    const storage = await openStorage(dataArg ?? 'data', env);
    try { return await direct(storage, dataArg !== null && existsSync(dataArg) ? dataArg : null, text, params); } finally { await storage.close(); }
  }
  const dir = resolve(dataArg ?? 'data');
  const how = dataArg === null ? `./data (the default; pass --data DIR for another folder)` : dir;
  const found = existsSync(dir) ? readDiscovery(dir) : null;
  if (found && found !== 'stale') return viaServer(found, text, params);
  const store = resolve(dir, 'clickhouse');
  const isStore = existsSync(store) && statSync(store).isDirectory() && readdirSync(store).length > 0;
  if (!isStore) {
    throw new TradsysError('ERR_STORAGE_NO_STORE', `no TradSys store in ${how}: ${existsSync(dir) ? `it has no clickhouse/ folder` : 'the folder does not exist'}. `
      + 'Pass the folder the server runs with (tradsys serve --data DIR → tradsys sql --data DIR "SELECT …"), or set CLICKHOUSE_URL for a ClickHouse server');
  }
  let storage: ChdbStorage;
  try {
    storage = await ChdbStorage.open(dir);
  } catch (e) {
    const m = (e as Error).message;
    if (/lock/i.test(m)) {
      throw new TradsysError('ERR_STORAGE_UNAVAILABLE', `the store in ${dir} is held by another process (a tradsys serve that left no ${dir}/server.json, or another tradsys sql): stop it or wait for it (${m.split('\n')[0]!.slice(0, 200)})`);
    }
    throw e;
  }
  try { return await direct(storage, dir, text, params); } finally { await storage.close(); }
}

/** The query on a store opened here, through the same door as the server's (audit line in `<data>/logs/sql-cli.log`). */
function direct(storage: Storage, dataDir: string | null, text: string, params: Record<string, ParamValue>): Promise<QueryResult> {
  const log: AuditLogger = dataDir ? fileAuditLogger(dataDir) : { info: () => {}, warn: () => {} };
  const who = process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  return new AnalystGate(new StorageQueries(storage)).run({ key: `cli:${who}`, account: null, ip: 'local', via: 'cli' }, text, params, log);
}

/** The query through the running server's ClickHouse-compatible endpoint, with its local credential. */
async function viaServer(d: Discovery, text: string, params: Record<string, ParamValue>): Promise<QueryResult> {
  const u = new URL('/clickhouse/', d.url);
  u.searchParams.set('default_format', 'JSON');
  for (const [k, v] of Object.entries(params)) u.searchParams.set(`param_${k}`, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
  let res: Response;
  try {
    res = await fetch(u, { method: 'POST', headers: { 'x-clickhouse-user': d.user, 'x-clickhouse-key': d.password, 'content-type': 'text/plain; charset=utf-8' }, body: text, signal: AbortSignal.timeout(120_000) });
  } catch (e) {
    throw new TradsysError('ERR_STORAGE_UNAVAILABLE', `the server that holds this store (pid ${d.pid}, ${d.url}, from server.json) does not answer: ${(e as Error).message}`);
  }
  const body = await res.text();
  if (res.ok) {
    const j = JSON.parse(body) as { meta: { name: string; type: string }[]; data: Record<string, unknown>[]; statistics?: { elapsed: number } };
    return { rows: j.data, meta: j.meta, elapsedMs: (j.statistics?.elapsed ?? 0) * 1000, bytes: Buffer.byteLength(body) };
  }
  // `Code: N. DB::Exception: <our message> [ERR_…]. (NAME) (version …)` → the catalog error it was
  const m = /DB::Exception: ([\s\S]*?) \[(ERR_[A-Z_]+)\]\. \(/.exec(body);
  if (m && m[2]! in ERRORS) throw new TradsysError(m[2] as ErrorCode, m[1]);
  throw new TradsysError(res.status === 429 ? 'ERR_STORAGE_BUSY' : 'ERR_STORAGE_UNAVAILABLE', `the server answered ${res.status}: ${body.trim().slice(0, 500)}`);
}
