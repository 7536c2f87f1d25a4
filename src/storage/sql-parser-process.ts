/**
 * The SQL parser process: a chDB instance that holds no data and only parses analysts' SQL for
 * the sandbox (sandbox.ts), so the sandbox sees a query exactly as ClickHouse parses it, on
 * either storage backend (the ClickHouse 18.16 server has no EXPLAIN AST). It runs beside the
 * storage and never touches its data or its chDB session.
 *
 * Layout: requests `{id, op, text}` arrive over the IPC channel and are answered with
 * `{id, ok, text|error}`; `{id: 0}` announces the session. Ops:
 *   format   `SELECT formatQuery({q:String})`: the user's text as a bound parameter (never
 *            concatenated), one statement or a syntax error; answers the canonical text.
 *   explain  `SELECT explain FROM (EXPLAIN AST <canonical>)`: only ever given formatQuery's output,
 *            which is one balanced statement, so it cannot end the subquery early; EXPLAIN in a
 *            subquery also refuses FORMAT and INTO OUTFILE. Answers the AST as text.
 *   catalog  system.functions, system.table_functions and the aggregate combinators, as JSON.
 * Invariants: a temporary, empty data folder (removed on close); every call runs read-only (readonly=1, EXPLAIN readonly=2);
 * parsing reads no table and no file.
 * Complexity: one chDB call per request. Allocation: the answer text.
 * Known limitations: one call at a time (chDB is synchronous).
 */
import { Session } from 'chdb';
import { parentOwnsLifetime } from '../sys/spawn.js';

interface Req { id: number; op: 'format' | 'explain' | 'catalog' | 'close'; text?: string }

let session: Session | null = null;
let openError: string | null = null;
try {
  session = new Session();
} catch (e) {
  openError = (e as Error).message;
}
const send = (m: unknown): void => { if (process.connected) process.send!(m); };
const RO = ' SETTINGS readonly = 1';

function run(r: Req): string {
  const s = session!;
  if (r.op === 'format') {
    const out = s.queryBind(`SELECT formatQuery({q:String}) AS q${RO}`, { q: r.text ?? '' }, 'JSONEachRow');
    return (JSON.parse(out) as { q: string }).q;
  }
  // readonly=2: EXPLAIN is refused under readonly=1; it parses only, and writes are still refused
  if (r.op === 'explain') return s.query(`SELECT explain FROM (EXPLAIN AST ${r.text ?? ''}) SETTINGS readonly = 2`, 'TabSeparatedRaw');
  const q = (sql: string): unknown[] => s.query(sql + RO, 'JSONEachRow').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
  return JSON.stringify({
    functions: q('SELECT name, case_insensitive, alias_to, categories, is_aggregate FROM system.functions'),
    tableFunctions: q('SELECT name FROM system.table_functions'),
    combinators: q('SELECT name FROM system.aggregate_function_combinators'),
  });
}

process.on('message', (r: Req) => {
  if (r.op === 'close') {
    try { session?.close(); } catch { /* closing twice is harmless */ }
    session = null;
    send({ id: r.id, ok: true, text: '' });
    process.disconnect();
    return;
  }
  if (!session) { send({ id: r.id, ok: false, error: `SQL parser unavailable: ${openError ?? 'closed'}` }); return; }
  try {
    send({ id: r.id, ok: true, text: run(r) });
  } catch (e) {
    // chdb 3.4 keeps a failed query's partial output; a throw-away query absorbs it (see chdb-process.ts)
    try { session.query('SELECT 1', 'CSV'); } catch { /* reported by the next call */ }
    send({ id: r.id, ok: false, error: (e as Error).message });
  }
});
parentOwnsLifetime(() => { try { session?.close(); } catch { /* exiting */ } session = null; });
send({ id: 0, ok: openError === null, text: '', error: openError });
