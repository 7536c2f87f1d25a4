/**
 * The chDB process: owns the in-process ClickHouse engine (data in `<dataDir>/clickhouse`) and
 * runs its calls, so they never run on the gateway or engine thread. It is a child process
 * rather than a worker thread because chdb 3.x crashes (SIGSEGV) when a worker thread that loaded
 * it exits; a child process also keeps a chDB fault away from trading.
 *
 * Layout: two lanes over one data folder (chDB lets several connections share the folder's one
 * engine, each with its own query state):
 * - the `write` lane: one session whose calls run synchronously on this process's thread, one at
 *   a time, in arrival order (the storage writer's inserts, migrations, the API's own reads);
 * - the `read` lane (analysts' SQL): `ANALYST_SESSIONS` further sessions whose queries run with
 *   `queryAsync`/`queryBindAsync` on libuv's thread pool, one per session at a time (chDB
 *   serialises calls on one connection), the rest waiting in a FIFO here (its length is bounded by
 *   the gateway's admission: 8 analyst queries at most). A slow analyst query
 *   therefore never sits in front of an insert: measured (test/storage/analyst-isolation.test.ts)
 *   four 3-second analyst queries left the writer's inserts running with ~0.1 s worst latency,
 *   where the single-session process of before put each insert behind every query.
 * Requests `{id, op, lane, sql, format, params, maxBytes}` arrive over the IPC channel (advanced
 * serialization) and are answered with `{id, ok, text|error}`; `{id: 0}` announces the sessions.
 * Invariants: write-lane answers in request order; a read-lane answer longer than its `maxBytes`
 * is refused here (Code 396, as ClickHouse's own result limit) and never crosses the channel; the
 * process exits when its parent disconnects (no orphan holds the data folder's lock).
 * Complexity: one chDB call per request. Allocation: the result bytes and text per call.
 * Known limitations: chDB cannot interrupt a running single-shot query; the analysts' limits
 * (max_execution_time, max_result_rows/bytes, max_memory_usage) make the engine stop it. chdb 3.4
 * runs parameterised async queries one at a time process-wide (its guard against a binding race),
 * so analysts' queries with parameters share one queue; the write lane is not in it. A failed call
 * costs one extra `SELECT 1` on its session (the chdb 3.4 workaround below).
 * The sessions' user_files_path, format_schema_path and user_scripts_path, and the process's working
 * directory, are an empty folder of the store's own (argv[3]): relative paths in file-reading SQL
 * and executable() resolve there. chDB (clickhouse-local) still lets file() read absolute paths;
 * the analysts' sandbox (sandbox.ts) and readonly=1 are what refuse it (docs/security.md "SQL sandbox").
 */
import { Session } from 'chdb';
import { parentOwnsLifetime } from '../sys/spawn.js';

interface Req {
  id: number; op: 'query' | 'queryBind' | 'close'; lane?: 'write' | 'read'; sql?: string; format?: string; params?: Record<string, unknown>;
  /** Read lane: refuse a result longer than this many bytes (0: no cap). */
  maxBytes?: number;
}

/** Analysts' sessions: queries that run side by side (the rest wait here). */
export const ANALYST_SESSIONS = 2;

const path = process.argv[2]!;
/** An empty folder of the store's own: user_files_path, format_schema_path, user_scripts_path and the working directory. */
const sandbox = process.argv[3];
const confine = sandbox ? [`--user_files_path=${sandbox}`, `--format_schema_path=${sandbox}`, `--user_scripts_path=${sandbox}`] : [];
const connectionArgs = ['--output_format_json_quote_64bit_integers=1', ...confine];
let session: Session | null = null;
const readers: { s: Session; busy: boolean }[] = [];
let openError: string | null = null;
try {
  session = new Session(path, { connectionArgs });
  for (let i = 0; i < ANALYST_SESSIONS; i++) readers.push({ s: new Session(path, { connectionArgs }), busy: false });
  if (sandbox) process.chdir(sandbox);
} catch (e) {
  openError = (e as Error).message;
}
const waiting: Req[] = [];

const send = (m: unknown): void => { if (process.connected) process.send!(m); };

function closeAll(): void {
  try { session?.close(); } catch { /* closing twice is harmless */ }
  for (const r of readers) { try { r.s.close(); } catch { /* exiting */ } }
  readers.length = 0;
  session = null;
}

/** Runs queued read-lane requests on free analyst sessions. */
function dispatchReads(): void {
  for (const r of readers) {
    if (waiting.length === 0) return;
    if (r.busy) continue;
    const q = waiting.shift()!;
    r.busy = true;
    void runRead(r.s, q).finally(() => { r.busy = false; dispatchReads(); });
  }
}

async function runRead(s: Session, r: Req): Promise<void> {
  try {
    const opts = { format: r.format ?? 'JSON' };
    const res = r.op === 'queryBind' ? await s.queryBindAsync(r.sql!, r.params ?? {}, opts) : await s.queryAsync(r.sql!, opts);
    const bytes = res.bytes();
    if (r.maxBytes && bytes.byteLength > r.maxBytes) {
      send({ id: r.id, ok: false, error: `Code: 396. DB::Exception: Limit for result exceeded, max bytes: ${r.maxBytes}, current bytes: ${bytes.byteLength} (the answer as serialised; narrow the query or add LIMIT). (TOO_MANY_ROWS_OR_BYTES)` });
      return;
    }
    send({ id: r.id, ok: true, text: res.text() });
  } catch (e) {
    // see the write lane: a failed query's output is prepended to the next result on its session
    try { await s.queryAsync('SELECT 1', { format: 'CSV' }); } catch { /* the session reports its own state next call */ }
    send({ id: r.id, ok: false, error: (e as Error).message });
  }
}

process.on('message', (r: Req) => {
  if (r.op === 'close') {
    closeAll();
    send({ id: r.id, ok: true, text: '' });
    process.disconnect();
    return;
  }
  if (!session) { send({ id: r.id, ok: false, error: `chDB session unavailable: ${openError ?? 'closed'}` }); return; }
  if (r.lane === 'read') { waiting.push(r); dispatchReads(); return; }
  try {
    const text = r.op === 'queryBind' ? session.queryBind(r.sql!, r.params ?? {}, r.format ?? 'JSON') : session.query(r.sql!, r.format ?? 'JSON');
    send({ id: r.id, ok: true, text });
  } catch (e) {
    // chdb 3.4 keeps the output a failed query had written (e.g. JSON up to a row-limit error)
    // and prepends it to the next result; a throw-away query absorbs it
    try { session.query('SELECT 1', 'CSV'); } catch { /* the session reports its own state next call */ }
    send({ id: r.id, ok: false, error: (e as Error).message });
  }
});
parentOwnsLifetime(closeAll);
send({ id: 0, ok: openError === null, text: '', error: openError });
