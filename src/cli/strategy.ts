/**
 * `tradsys strategy list|start|stop|reset|remove [ID] [--url URL | --data DIR] [--key K --secret S] [--json]`:
 * the live strategies of a running `tradsys serve`, through its HTTP API (docs/strategies.md "API"),
 * as signed requests (docs/protocol.md "HTTP").
 *
 * Layout: the server is `--url`, else the one that holds `--data DIR` (default ./data; its
 * `server.json`, src/storage/discovery.ts), else http://127.0.0.1:8080. The key and secret come
 * from `--key`/`--secret` or TRADSYS_KEY/TRADSYS_SECRET: `list` needs a key with `admin` (every
 * strategy) or `read` (the strategies of its own account); start, stop, reset and remove need `admin`.
 * `list` prints a table (one row per strategy), `--json` the API's JSON; the others print the
 * strategy's new state (`--json`: its status).
 * Invariants: an error answer of the server becomes the catalog error it names (exit 1), with the
 * server's message; a usage error exits 2. Complexity: one request. Allocation: CLI only.
 * Known limitations: none.
 */
import { TradsysError, ERRORS, type ErrorCode } from '../domain/errors.js';
import { httpPayload, sign } from '../gateway/auth.js';
import { readDiscovery } from '../storage/discovery.js';
import type { StrategyView } from '../strategies/service.js';

export const STRATEGY_USAGE = `  tradsys strategy list [--json]            the live strategies of a running server (a table)
  tradsys strategy start|stop|reset|remove ID [--json]   (reset: re-enable a tripped circuit
              breaker; remove: stop it and forget it, freeing its id and account)
              [--url URL | --data DIR (the server holding DIR, from DIR/server.json; default ./data,
               else http://127.0.0.1:8080)] [--key K --secret S (or TRADSYS_KEY, TRADSYS_SECRET;
               list: a key with admin, or read for its own account's strategies; the rest: admin)]`;

type Out = (text: string) => void;

/** The server's base URL: --url, else the server holding --data (server.json), else the default port. */
export function serverUrl(url: string | undefined, data: string | undefined): string {
  if (url !== undefined) {
    if (!/^https?:\/\/[^/\s]+\/?$/.test(url)) throw new TradsysError('ERR_CLI_USAGE', `--url must look like http://127.0.0.1:8080, got "${url}"`);
    return url.replace(/\/$/, '');
  }
  const d = readDiscovery(data ?? 'data');
  if (d !== null && d !== 'stale') return d.url;
  if (data !== undefined) throw new TradsysError('ERR_CLI_USAGE', `no running server holds ${data} (no live ${data}/server.json); pass --url URL`);
  return 'http://127.0.0.1:8080';
}

/** One signed request; answers the JSON body, or throws the catalog error of the server's answer. */
export async function signedRequest(base: string, key: string, secret: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const text = body === undefined ? '' : JSON.stringify(body);
  const ts = Date.now();
  const headers: Record<string, string> = { 'x-ts-key': key, 'x-ts-ts': String(ts), 'x-ts-sig': sign(secret, key, ts, httpPayload(method, path, text)) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : text, signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    throw new TradsysError('ERR_IO', `the server at ${base} does not answer: ${(e as Error).message} (is tradsys serve running? --url)`);
  }
  const raw = await res.text();
  let json: unknown = null;
  try { json = JSON.parse(raw); } catch { /* not JSON */ }
  if (res.ok) return json;
  const err = (json ?? {}) as { error?: string; message?: string };
  const what = `${method} ${path}: ${res.status} ${err.error ?? ''}${err.message ? `: ${err.message}` : raw ? `: ${raw.slice(0, 300)}` : ''}`;
  if (err.error !== undefined && err.error in ERRORS) throw new TradsysError(err.error as ErrorCode, what);
  throw new TradsysError('ERR_IO', what);
}

const num = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(1));
/** P&L in ticks × lots: average-cost P&L has fractions of a tick; two decimals are enough to read. */
export const pnl = (n: number): string => (Number.isInteger(n) ? String(n) : n.toFixed(2));

/** The `list` table: one row per strategy, numbers right-aligned. */
export function formatStrategies(list: readonly StrategyView[]): string {
  const head = ['ID', 'KIND', 'STATE', 'ACCOUNT', 'WORKER', 'PRIO', 'EV/S', 'P50µs', 'P99µs', 'ORDERS', 'FILLS', 'POSITION', 'REALISED', 'UNREALISED', 'BREAKER'];
  const rows = list.map((s) => [
    s.id, s.kind, s.state, String(s.account), String(s.worker), String(s.priority), num(s.eventsPerSec), num(s.decisionUs.p50), num(s.decisionUs.p99),
    String(s.orders), String(s.fills), Object.entries(s.position).filter(([, q]) => q !== 0).map(([sym, q]) => `${sym}:${q}`).join(' ') || 'flat',
    pnl(s.realisedPnl), pnl(s.unrealisedPnl), s.breaker.state + (s.breaker.trip ? ` (${s.breaker.trip.reason})` : '') + (s.breaker.trips > 0 ? ` trips ${s.breaker.trips}` : '') + (s.killSwitch ? ` · account killed (${s.killSwitch.reason})` : ''),
  ]);
  const right = new Set([3, 4, 5, 6, 7, 8, 9, 10, 12, 13]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => r.map((x, i) => (right.has(i) ? x.padStart(w[i]!) : x.padEnd(w[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line), `(${list.length} strateg${list.length === 1 ? 'y' : 'ies'}; P&L in ticks × lots)`].join('\n') + '\n';
}

export async function cmdStrategy(argv: string[], out: Out = (t) => process.stdout.write(t), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [sub, ...rest] = argv;
  const flags = new Map<string, string | true>();
  const args: string[] = [];
  const valued = new Set(['url', 'data', 'key', 'secret']);
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (!a.startsWith('--')) { args.push(a); continue; }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    if (name === 'json') { flags.set(name, true); continue; }
    if (!valued.has(name)) throw new TradsysError('ERR_CLI_USAGE', `unknown option --${name}`);
    const v = eq > 0 ? a.slice(eq + 1) : rest[++i];
    if (v === undefined || (eq < 0 && v.startsWith('--'))) throw new TradsysError('ERR_CLI_USAGE', `--${name} needs a value`);
    flags.set(name, v);
  }
  const str = (k: string): string | undefined => { const v = flags.get(k); return typeof v === 'string' ? v : undefined; };
  if (sub !== 'list' && sub !== 'start' && sub !== 'stop' && sub !== 'reset' && sub !== 'remove') {
    throw new TradsysError('ERR_CLI_USAGE', `strategy: unknown subcommand ${sub === undefined ? '(none)' : `"${sub}"`} (list, start, stop, reset, remove)`);
  }
  if (sub === 'list' ? args.length !== 0 : args.length !== 1) throw new TradsysError('ERR_CLI_USAGE', sub === 'list' ? `strategy list takes no argument, got "${args.join(' ')}"` : `strategy ${sub} needs one strategy ID`);
  const key = str('key') ?? env.TRADSYS_KEY;
  const secret = str('secret') ?? env.TRADSYS_SECRET;
  if (!key || !secret) throw new TradsysError('ERR_CLI_USAGE', `strategy ${sub} needs an API key: --key K --secret S (or TRADSYS_KEY and TRADSYS_SECRET); create one with tradsys keys create --account A --permissions admin,read`);
  const base = serverUrl(str('url'), str('data'));
  const json = flags.has('json');
  if (sub === 'list') {
    const r = (await signedRequest(base, key, secret, 'GET', '/api/v1/strategies')) as { workers: number; strategies: StrategyView[] };
    out(json ? JSON.stringify(r) + '\n' : formatStrategies(r.strategies));
    return 0;
  }
  const id = args[0]!;
  const path = `/api/v1/strategies/${encodeURIComponent(id)}`;
  const st = (await (sub === 'remove' ? signedRequest(base, key, secret, 'DELETE', path) : signedRequest(base, key, secret, 'POST', `${path}/${sub}`))) as StrategyView;
  out(json ? JSON.stringify(st) + '\n' : `${st.id}: ${st.state}${st.why ? ` (${st.why})` : ''} · breaker ${st.breaker.state}${st.killSwitch ? ` · account ${st.account} killed (${st.killSwitch.reason})` : ''}\n`);
  return 0;
}
