/**
 * The chDB process: owns the one in-process ClickHouse session (data in `<dataDir>/clickhouse`) and
 * runs its synchronous calls, so they never run on the gateway or engine thread. It is a child
 * process rather than a worker thread because chdb 3.x crashes (SIGSEGV) when a worker thread
 * that loaded it exits; a child process also keeps a chDB fault away from trading.
 *
 * Layout: requests `{id, op, sql, format, params}` arrive over the IPC channel (advanced
 * serialization) and are answered with `{id, ok, text|error}`; `{id: 0}` announces the session.
 * Invariants: one call at a time (chDB is synchronous), answers in request order; the process
 * exits when its parent disconnects (no orphan holds the data folder's lock).
 * Complexity: one chDB call per request. Allocation: the result text per call.
 * The session's user_files_path, format_schema_path and user_scripts_path, and the process's working
 * directory, are an empty folder of the store's own (argv[3]): relative paths in file-reading SQL
 * and executable() resolve there. chDB (clickhouse-local) still lets file() read absolute paths;
 * the analysts' sandbox (sandbox.ts) and readonly=1 are what refuse it (docs/security.md "SQL sandbox").
 * Known limitations: one session per data folder (chDB's lock); a failed call costs one extra
 * `SELECT 1` (see the chdb 3.4 workaround below).
 */
import { Session } from 'chdb';

interface Req { id: number; op: 'query' | 'queryBind' | 'close'; sql?: string; format?: string; params?: Record<string, unknown> }

const path = process.argv[2]!;
/** An empty folder of the store's own: user_files_path, format_schema_path, user_scripts_path and the working directory. */
const sandbox = process.argv[3];
let session: Session | null = null;
let openError: string | null = null;
try {
  const confine = sandbox ? [`--user_files_path=${sandbox}`, `--format_schema_path=${sandbox}`, `--user_scripts_path=${sandbox}`] : [];
  session = new Session(path, { connectionArgs: ['--output_format_json_quote_64bit_integers=1', ...confine] });
  if (sandbox) process.chdir(sandbox);
} catch (e) {
  openError = (e as Error).message;
}

const send = (m: unknown): void => { if (process.connected) process.send!(m); };

process.on('message', (r: Req) => {
  if (r.op === 'close') {
    try { session?.close(); } catch { /* closing twice is harmless */ }
    session = null;
    send({ id: r.id, ok: true, text: '' });
    process.disconnect();
    return;
  }
  if (!session) { send({ id: r.id, ok: false, error: `chDB session unavailable: ${openError ?? 'closed'}` }); return; }
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
process.on('disconnect', () => { try { session?.close(); } catch { /* exiting */ } session = null; });
send({ id: 0, ok: openError === null, text: '', error: openError });
