/**
 * ChdbStorage: the embedded default, chDB (the ClickHouse engine), with its data in
 * `<dataDir>/clickhouse`. chDB's calls are synchronous, so the session lives in its own child
 * process (chdb-process.ts; a worker thread is not possible: chdb 3.x crashes when a thread that
 * loaded it exits) and this class only posts requests and awaits answers.
 *
 * Layout: `open(dataDir)` starts the process; `createPort()` hands out a MessagePort whose
 * requests this instance relays to the same process (for the storage writer's thread), and
 * `fromPort(port, ingestDir)` wraps one on the other side. Binary inserts (a RawInsert whose body
 * is bytes: RowBinary, the writer's format) never cross the IPC channel: the calling thread writes
 * the body to `<dataDir>/chdb-ingest/<table>-<pid>-<thread>-<n>.<format>` and sends only
 * `INSERT INTO t (cols) SELECT * FROM file(path, RowBinary) SETTINGS parallel_view_processing=1, …`
 * (chDB reads the file with the insertion table's structure); the file is removed once answered.
 * Invariants: no chDB call ever runs on the calling thread; a read-lane answer longer than its
 * `maxResultBytes` is refused in the chDB process (it never crosses the IPC channel); 64-bit integers come back as strings
 * (the session is opened with output_format_json_quote_64bit_integers=1); per-query settings are
 * appended as a SETTINGS clause with `readonly` last; an ingest file lives only while its insert
 * runs (stale ones, from a crash, are removed when the next process has opened the folder).
 * Complexity: one message round trip per call (plus one file write for a binary insert).
 * Allocation: the request and the result text; a binary body is written as is (no copy).
 * Lanes: every call goes to the process's write lane (one session, synchronous, in order: the
 * writer's inserts, migrations, the API's own reads) except the queries of `readLane()`, the
 * analysts' view, which run on the read lane (sessions of their own, asynchronous, with
 * READ_LANE_SETTINGS; chdb-process.ts): an analyst's slow query never sits in the writer's turn.
 * Known limitations: one process per data folder (a second process on the same folder is refused
 * by chDB's lock; `tradsys sql` goes through the server that holds it). chdb 3.4's own `Session.insert({values: Buffer})` whitelists text
 * formats only, and its native entry given a RowBinary prefix failed part-way through a valid body
 * ("Cannot read all data" after a few hundred rows), hence the file. Ingest
 * (bench:storage, 2 shared cores, 1 M-row inserts into `trades` with its five bar views):
 * RowBinary through the file 1.36 M rows/s (~1.0 M at 50 k rows per insert), TSV through the
 * file 1.0 M; a text body sent as SQL over IPC 48 k rows/s (JSONEachRow), 200 k (TSV). Writing
 * the file is ~0.1 s of each 1 M rows.
 * ClickHouse promises an insert is atomic per block only: a truncated RowBinary body of up to
 * 3 M rows wrote nothing when tried, larger ones are untested (the writer's batches are 50 k).
 */
import { mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { MessageChannel, threadId, type MessagePort } from 'node:worker_threads';
import type { ChildProcess } from 'node:child_process';
import { TradsysError } from '../domain/errors.js';
import {
  featuresFromVersion, storageError, StorageMeter, toJsonEachRow,
  type Features, type QueryOptions, type QueryResult, type RawInsert, type Row, type Storage, type StorageStats,
} from './storage.js';
import { checkIdentifier, checkParams, nativeParams, quoteString } from './sql.js';
import { spawnProcess } from '../sys/spawn.js';

interface Answer { id: number; ok: boolean; text?: string; error?: string | null }
type Lane = 'write' | 'read';
interface Req { id: number; op: 'query' | 'queryBind' | 'close'; lane?: Lane; sql: string; format: string; params?: Record<string, unknown>; maxBytes?: number }
interface Endpoint { post(m: Req): void; on(f: (m: Answer) => void): void }

export class ChdbStorage implements Storage {
  readonly backend = 'chdb' as const;
  /** The session's current database, where the migrations put the platform's tables. */
  readonly database = 'default';
  features: Features | null = null;
  private readonly meter = new StorageMeter();
  private readonly pending = new Map<number, { res: (t: string) => void; rej: (e: Error) => void }>();
  private nextId = 1;
  private nextFile = 0;
  private closed = false;

  private constructor(private readonly ep: Endpoint, private readonly child: ChildProcess | null, private readonly port: MessagePort | null,
    /** Where binary insert bodies are written for chDB to read (`<dataDir>/chdb-ingest`). */
    readonly ingestDir: string) {
    ep.on((m: Answer) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.res(m.text ?? ''); else p.rej(new Error(m.error ?? 'chDB call failed'));
    });
  }

  /**
   * Starts the chDB process on `<dataDir>/clickhouse` and waits until the session is open. Its
   * user_files_path (and format schemas, user scripts, working directory) is
   * `<dataDir>/clickhouse-sandbox`, an empty folder nothing writes to (chdb-process.ts).
   */
  static async open(dataDir: string): Promise<ChdbStorage> {
    // absolute: the chDB process works in the sandbox folder, and ingest files are named to it by path
    const path = resolve(dataDir, 'clickhouse');
    const ingestDir = resolve(dataDir, 'chdb-ingest');
    const sandboxDir = resolve(dataDir, 'clickhouse-sandbox');
    try {
      mkdirSync(path, { recursive: true }); mkdirSync(ingestDir, { recursive: true }); mkdirSync(sandboxDir, { recursive: true, mode: 0o700 });
    } catch (e) { throw new TradsysError('ERR_IO', `cannot create ${path}: ${(e as Error).message}`); }
    const child = spawnProcess(import.meta.url, 'chdb-process', [path, sandboxDir]);
    const ready = new Promise<void>((res, rej) => {
      const onMsg = (m: Answer): void => { if (m.id !== 0) return; child.off('message', onMsg); if (m.ok) res(); else rej(new TradsysError('ERR_STORAGE_UNAVAILABLE', `chDB could not open ${path}: ${m.error}`)); };
      child.on('message', onMsg);
      child.once('exit', (code) => rej(new TradsysError('ERR_STORAGE_UNAVAILABLE', `chDB process exited (${code}) before opening ${path}`)));
    });
    // a request to a process that is gone fails every pending call (never an unhandled 'error' event)
    const s: ChdbStorage = new ChdbStorage({
      post: (m) => { child.send(m, (e) => { if (e) s.failAll(new Error(`chDB process is gone (${e.message})`)); }); },
      on: (f) => { child.on('message', f); },
    }, child, null, ingestDir);
    child.on('exit', () => s.failAll(new Error('chDB process exited')));
    try { await ready; } catch (e) { child.kill(); throw e; }
    // the folder is ours now (chDB's lock): ingest files left by a crashed process go
    for (const f of readdirSync(ingestDir)) { try { unlinkSync(join(ingestDir, f)); } catch { /* gone already */ } }
    await s.connect();
    return s;
  }

  /** Wraps a port from `createPort()` (in another thread); `ingestDir` is the creator's `ingestDir`. */
  static fromPort(port: MessagePort, ingestDir: string): ChdbStorage {
    return new ChdbStorage({ post: (m) => port.postMessage(m), on: (f) => { port.on('message', f); } }, null, port, ingestDir);
  }

  /** A MessagePort whose requests this instance relays to its chDB process; transfer it to the thread that will use it. */
  createPort(): MessagePort {
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (r: Req) => {
      if (r.op === 'close') { port1.postMessage({ id: r.id, ok: true, text: '' }); port1.close(); return; }
      this.call(r.op, r.sql, r.format, r.params, r.lane, r.maxBytes).then(
        (text) => port1.postMessage({ id: r.id, ok: true, text }),
        (e: Error) => port1.postMessage({ id: r.id, ok: false, error: e.message }),
      );
    });
    port1.unref();
    return port2;
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.rej(e);
    this.pending.clear();
    this.closed = true;
  }

  private call(op: 'query' | 'queryBind' | 'close', sql: string, format: string, params?: Record<string, unknown>, lane: Lane = 'write', maxBytes?: number): Promise<string> {
    if (this.closed) return Promise.reject(new TradsysError('ERR_STORAGE_CLOSED', 'ChdbStorage is closed'));
    const id = this.nextId++;
    return new Promise<string>((res, rej) => {
      this.pending.set(id, { res, rej });
      this.ep.post({ id, op, sql, format, params, lane, maxBytes });
    });
  }

  private async run(what: string, sql: string, format: string, opts?: QueryOptions, lane: Lane = 'write'): Promise<string> {
    const t0 = performance.now();
    try {
      checkParams(sql, opts?.params);
      const full = sql + settingsClause(lane === 'read' ? { ...READ_LANE_SETTINGS, ...(opts?.settings ?? {}) } : opts?.settings);
      const hasParams = opts?.params !== undefined && Object.keys(opts.params).length > 0;
      const max = opts?.maxResultBytes;
      const text = hasParams ? await this.call('queryBind', full, format, nativeParams(sql, opts!.params), lane, max) : await this.call('query', full, format, undefined, lane, max);
      this.meter.ok(performance.now() - t0);
      return text;
    } catch (e) {
      const err = storageError(e, what);
      // an analyst's failed query is the analyst's answer, not a storage health fact (StorageMeter)
      if (err.code !== 'ERR_STORAGE_PARAM' && opts?.analyst !== true) this.meter.fail(err);
      throw err;
    }
  }

  async connect(): Promise<Features> {
    if (this.features) return this.features;
    const text = await this.run('connect', 'SELECT version() AS v', 'JSONEachRow');
    this.features = featuresFromVersion((JSON.parse(text) as { v: string }).v, 'chdb');
    return this.features;
  }

  async query<T = Row>(sql: string, opts?: QueryOptions): Promise<QueryResult<T>> {
    return this.queryOn('write', sql, opts);
  }

  /** A query on `lane`: `write` runs in turn with the writer's inserts, `read` on the analysts' sessions. */
  private async queryOn<T = Row>(lane: Lane, sql: string, opts?: QueryOptions): Promise<QueryResult<T>> {
    this.meter.queries++;
    const t0 = performance.now();
    const text = await this.run('query', sql, 'JSON', opts, lane);
    if (text === '') return { rows: [], meta: [], elapsedMs: performance.now() - t0, bytes: 0 };
    const j = JSON.parse(text) as { data: T[]; meta: { name: string; type: string }[]; statistics?: { elapsed: number } };
    return { rows: j.data, meta: j.meta, elapsedMs: j.statistics ? j.statistics.elapsed * 1000 : performance.now() - t0, bytes: Buffer.byteLength(text) };
  }

  /**
   * The analysts' view of this store: its queries run on the chDB process's read lane (sessions of
   * their own, off the writer's turn: see chdb-process.ts); everything else is this storage's.
   * Closing the view closes nothing.
   */
  readLane(): Storage {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getter below needs the instance
    const self = this;
    return {
      backend: 'chdb',
      get features() { return self.features; },
      connect: () => this.connect(),
      insert: () => Promise.reject(new TradsysError('ERR_STORAGE_FORBIDDEN', 'the read lane does not insert')),
      query: <T = Row>(sql: string, opts?: QueryOptions) => this.queryOn<T>('read', sql, opts),
      command: () => Promise.reject(new TradsysError('ERR_STORAGE_FORBIDDEN', 'the read lane runs queries only')),
      ping: () => this.ping(),
      close: async () => { /* the owner closes the store */ },
      stats: () => this.stats(),
    };
  }

  async command(sql: string, opts?: QueryOptions): Promise<void> {
    await this.run('command', sql, 'CSV', opts);
  }

  async insert(table: string, data: readonly Row[] | RawInsert): Promise<number> {
    checkIdentifier(table, 'table');
    this.meter.inserts++;
    if (Array.isArray(data)) {
      const rows = data as readonly Row[];
      if (rows.length === 0) return 0;
      await this.run(`insert into ${table}`, `INSERT INTO ${table} FORMAT JSONEachRow\n${toJsonEachRow(rows)}`, 'CSV');
      this.meter.rowsInserted += rows.length;
      return rows.length;
    }
    const raw = data as RawInsert;
    checkIdentifier(raw.format, 'format');
    const cols = raw.columns ? ` (${raw.columns.map((c) => checkIdentifier(c, 'column')).join(', ')})` : '';
    if (typeof raw.body === 'string') {
      await this.run(`insert into ${table}`, `INSERT INTO ${table}${cols} FORMAT ${raw.format}\n${raw.body}`, 'CSV');
      return 0;
    }
    if (raw.body.byteLength === 0) return 0;
    // bytes: through a file, so the body never crosses the IPC channel (see the header)
    const file = join(this.ingestDir, `${table}-${process.pid}-${threadId}-${this.nextFile++}.${raw.format}`);
    try {
      await writeFile(file, raw.body);
    } catch (e) {
      const err = new TradsysError('ERR_STORAGE_UNAVAILABLE', `insert into ${table}: cannot write ${file}: ${(e as Error).message}`, { cause: e });
      this.meter.fail(err);
      throw err;
    }
    try {
      await this.run(`insert into ${table}`, `INSERT INTO ${table}${cols} SELECT * FROM file(${quoteString(file)}, ${raw.format})`, 'CSV', { settings: INGEST_SETTINGS });
    } finally {
      await unlink(file).catch(() => { /* removed at the next open */ });
    }
    return 0;
  }

  async ping(): Promise<boolean> {
    try { await this.run('ping', 'SELECT 1', 'CSV'); return true; } catch { return false; }
  }

  /** Closes the session (and the process, when this instance started it). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.child) {
      const child = this.child;
      const exited = new Promise<void>((res) => { if (child.exitCode !== null || child.signalCode !== null) res(); else child.once('exit', () => res()); });
      try { await this.call('close', '', 'CSV'); } catch { /* the process is gone already */ }
      this.closed = true;
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    } else {
      this.closed = true;
      this.port?.close();
    }
  }

  stats(): StorageStats { return this.meter.snapshot('chdb', this.features?.version ?? null); }
}

/**
 * Settings of a binary insert: the five bar views run side by side (parallel_view_processing),
 * and the file is read in blocks of up to ~1 M rows (fewer, larger blocks through the views).
 */
/**
 * Settings of every read-lane query (before the caller's own): one thread each at a lower OS
 * priority (nice 10), so analysts' queries take what the writer leaves of the CPU.
 */
export const READ_LANE_SETTINGS = { max_threads: 1, os_thread_priority: 10 } as const;

export const INGEST_SETTINGS = { parallel_view_processing: 1, max_block_size: 1_048_576 } as const;

/** ` SETTINGS a=1, b='x'` with `readonly` last; names must be identifiers, values numbers or quoted. */
export function settingsClause(s: Record<string, string | number> | undefined): string {
  if (!s) return '';
  const keys = Object.keys(s).filter((k) => k !== 'readonly');
  if ('readonly' in s) keys.push('readonly');
  if (keys.length === 0) return '';
  // on its own line: nothing before it can turn it into a comment
  return '\nSETTINGS ' + keys.map((k) => {
    checkIdentifier(k, 'setting');
    const v = s[k]!;
    return `${k}=${typeof v === 'number' && Number.isFinite(v) ? String(v) : `'${String(v).replace(/[\\']/g, (c) => '\\' + c)}'`}`;
  }).join(', ');
}
