/**
 * A ClickHouse-compatible HTTP endpoint on the gateway, so analysts point their own tools
 * (`@clickhouse/client`, curl, dashboards that speak ClickHouse's HTTP query protocol) at the
 * platform's store, behind the same API keys and through the same door as POST /api/v1/sql
 * (AnalystGate → StorageQueries.sql: sandbox, limits, read lane, audit line).
 *
 * Layout: `GET|POST /clickhouse` and `/clickhouse/` (and `/`, where ClickHouse serves) run one
 * query; `GET /clickhouse/ping` and `GET /ping` answer `Ok.`. The query is the `query` URL parameter followed by the POST body (either may be absent);
 * `param_<name>` URL parameters bind `{name:Type}` placeholders; `database` must name the
 * platform's database (or `default`, or `clickhouse`: what @clickhouse/client sends for a
 * `…/clickhouse` URL path), `default_format` picks the output format, `query_id` (1–128 of
 * `A-Z a-z 0-9 . _ : -`, else 400 Code 36 and nothing runs) is echoed in `X-ClickHouse-Query-Id`. A trailing `FORMAT <name>` clause is taken off the query
 * and served here from FORMATS (the sandbox refuses FORMAT in the query itself). Credentials:
 * user = API key, password = its secret, in HTTP Basic or `X-ClickHouse-User`/`X-ClickHouse-Key`
 * headers (never in the URL: URLs end up in logs); the key needs the `analyst` permission.
 * Errors are ClickHouse's text form `Code: N. DB::Exception: … (NAME) (version …)` with the
 * `X-ClickHouse-Exception-Code` header and an HTTP status (SETTINGS_STATUS below).
 * Invariants: a query request is charged to its key's rate bucket once authenticated, and to
 * its address only when refused for its credentials (once; `refused`); each refusal is one
 * `auth.failure` or `permission.denied` audit line. No setting from the request reaches ClickHouse: harmless transport settings are
 * accepted and ignored (IGNORED_SETTINGS), any other (readonly, max_*, …) is refused with
 * Code 164 before the query runs; the answer never exceeds the analysts' byte cap (the query
 * result is capped before it is formatted; formats here are at most ~2× the JSON size).
 * Complexity: O(answer) per query. Allocation: the answer text per query.
 * Known limitations: output formats are FORMATS only (no Native, RowBinary, Parquet, Pretty);
 * sessions (`session_id`) and compression are not offered (the answer is never compressed);
 * `Array(T)` parameters take ClickHouse's text form for numbers and single-quoted strings only.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TradsysError } from '../domain/errors.js';
import { placeholders, tokenize } from './sql.js';
import type { AnalystGate, AuditLogger } from './analyst.js';
import { BUSY_RETRY_AFTER_S } from './analyst.js';
import type { ParamValue, QueryResult } from './storage.js';

/**
 * The gateway's answer to a user/password pair: who, or why not (`unknown` is `unknown_key`;
 * `account` names the key's account where the key exists, for the audit line), or that the key
 * is over its request rate (`rate_limited`, 429 after `waitMs`).
 */
export type ClickHouseAuth =
  | { ok: true; key: string; account: number | null }
  | { ok: false; reason: 'unknown' | 'unknown_key' | 'bad_signature' | 'malformed' | 'forbidden'; account?: number | null }
  | { ok: false; reason: 'rate_limited'; waitMs: number };

export interface ClickHouseHttpOptions {
  gate: AnalystGate;
  /** Checks user = API key, password = secret, and the `analyst` permission (and charges the key's rate bucket). */
  authenticate(user: string, password: string, req: FastifyRequest): ClickHouseAuth;
  /**
   * Called once for each query request refused for its credentials (none, in the URL, wrong, or
   * without `analyst`): the gateway charges the caller's address. Query routes carry the route
   * config `{chargedAfterAuth: true}`, so the gateway does not charge their address up front.
   */
  refused?(req: FastifyRequest): void;
  /** Database names a client may name (the platform's; `default` is always accepted). */
  databases: readonly string[];
  /** Reported as the server's version (`X-ClickHouse-Server-Display-Name`, error texts). */
  version?: string;
  /** Body limit for POSTed queries (default 128 KiB, as POST /api/v1/sql). */
  bodyLimit?: number;
  /**
   * Answers a `GET /` that carries neither a query string nor ClickHouse credentials (a browser
   * opening the gateway's bare URL): the gateway's dashboard (src/gateway/http/dashboard.ts). Any
   * other `GET /` is a ClickHouse request, as without this option.
   */
  page?: (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;
}

/** A `GET /` with no query string and no ClickHouse credentials (the `page` option's requests). */
export function isPlainRootGet(req: FastifyRequest): boolean {
  return !req.url.includes('?') && req.headers.authorization === undefined && req.headers['x-clickhouse-user'] === undefined && req.headers['x-clickhouse-key'] === undefined;
}

type Cell = unknown;
type Meta = { name: string; type: string }[];

/** ClickHouse error: code, NAME, HTTP status. */
class ChError extends Error {
  constructor(readonly chCode: number, readonly chName: string, readonly status: number, message: string, readonly retryAfter?: number) { super(message); }
}

/** What `query_id` may be (it is echoed in a header and logged): 1–128 of A-Z a-z 0-9 . _ : - */
export const QUERY_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** URL parameters that are part of the protocol, not settings. */
const PROTOCOL_PARAMS = new Set(['query', 'database', 'default_format', 'query_id', 'user', 'password', 'quota_key', 'session_id', 'session_timeout', 'session_check', 'role', 'compress', 'decompress']);
/** Settings accepted and ignored: they change nothing a limit guards (transport, progress headers, formatting we do anyway). */
export const IGNORED_SETTINGS = new Set([
  'wait_end_of_query', 'send_progress_in_http_headers', 'http_headers_progress_interval_ms', 'enable_http_compression', 'http_zlib_compression_level',
  'output_format_json_quote_64bit_integers', 'output_format_json_quote_denormals', 'output_format_json_quote_decimals', 'buffer_size', 'http_response_buffer_size',
  'http_wait_end_of_query', 'cancel_http_readonly_queries_on_client_close', 'log_queries', 'date_time_output_format', 'output_format_json_named_tuples_as_objects',
]);

const textCell = (v: Cell): string => (v === null || v === undefined ? '\\N' : typeof v === 'object' ? chText(v) : String(v));
/** ClickHouse's text form of an array/tuple value that came back as JSON. */
function chText(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map((x) => (typeof x === 'string' ? `'${x.replace(/[\\']/g, (c) => '\\' + c)}'` : x === null ? 'NULL' : chText(x))).join(',') + ']';
  if (v !== null && typeof v === 'object') return '(' + Object.values(v).map((x) => (typeof x === 'string' ? `'${x.replace(/[\\']/g, (c) => '\\' + c)}'` : chText(x))).join(',') + ')';
  return String(v);
}
const tsvEscape = (s: string): string => s.replace(/[\\\t\n\r\0\b\f]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0', '\b': '\\b', '\f': '\\f' })[c]!);
const numeric = (type: string): boolean => /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/.test(type);
const csvCell = (v: Cell, type: string): string => {
  if (v === null || v === undefined) return '\\N';
  const s = typeof v === 'object' ? chText(v) : String(v);
  return numeric(type) && typeof v !== 'object' ? s : `"${s.replace(/"/g, '""')}"`;
};

interface Format { contentType: string; render(r: QueryResult, elapsedS: number): string }
const lines = (xs: string[]): string => (xs.length === 0 ? '' : xs.join('\n') + '\n');
const tsv = (names: boolean, types: boolean): Format => ({
  contentType: 'text/tab-separated-values; charset=UTF-8',
  render: (r) => lines([
    ...(names ? [r.meta.map((m) => tsvEscape(m.name)).join('\t')] : []), ...(types ? [r.meta.map((m) => tsvEscape(m.type)).join('\t')] : []),
    ...r.rows.map((row) => r.meta.map((m) => tsvEscape(textCell(row[m.name]))).join('\t')),
  ]),
});
const csv = (names: boolean): Format => ({
  contentType: 'text/csv; charset=UTF-8; header=' + (names ? 'present' : 'absent'),
  render: (r) => lines([...(names ? [r.meta.map((m) => `"${m.name.replace(/"/g, '""')}"`).join(',')] : []), ...r.rows.map((row) => r.meta.map((m) => csvCell(row[m.name], m.type)).join(','))]),
});
const stats = (r: QueryResult, elapsedS: number): Record<string, number> => ({ elapsed: elapsedS, rows_read: r.rows.length, bytes_read: r.bytes ?? 0 });

/** Output formats served here (names as ClickHouse spells them, aliases included). */
export const FORMATS: Record<string, Format> = {
  JSON: { contentType: 'application/json; charset=UTF-8', render: (r, s) => JSON.stringify({ meta: r.meta, data: r.rows, rows: r.rows.length, statistics: stats(r, s) }) + '\n' },
  JSONCompact: { contentType: 'application/json; charset=UTF-8', render: (r, s) => JSON.stringify({ meta: r.meta, data: r.rows.map((row) => r.meta.map((m) => row[m.name])), rows: r.rows.length, statistics: stats(r, s) }) + '\n' },
  JSONEachRow: { contentType: 'application/x-ndjson; charset=UTF-8', render: (r) => lines(r.rows.map((row) => JSON.stringify(row))) },
  JSONCompactEachRow: { contentType: 'application/x-ndjson; charset=UTF-8', render: (r) => lines(r.rows.map((row) => JSON.stringify(r.meta.map((m) => row[m.name])))) },
  JSONCompactEachRowWithNames: { contentType: 'application/x-ndjson; charset=UTF-8', render: (r) => lines([JSON.stringify(r.meta.map((m) => m.name)), ...r.rows.map((row) => JSON.stringify(r.meta.map((m) => row[m.name])))]) },
  TabSeparated: tsv(false, false), TabSeparatedWithNames: tsv(true, false), TabSeparatedWithNamesAndTypes: tsv(true, true),
  CSV: csv(false), CSVWithNames: csv(true),
};
FORMATS.TSV = FORMATS.TabSeparated!;
FORMATS.TSVWithNames = FORMATS.TabSeparatedWithNames!;
FORMATS.TSVWithNamesAndTypes = FORMATS.TabSeparatedWithNamesAndTypes!;
FORMATS.JSONLines = FORMATS.JSONEachRow!;
FORMATS.NDJSON = FORMATS.JSONEachRow!;

/**
 * A URL fit for a log: the values of `password`, `key`, `secret`, `sig` and `token` parameters
 * replaced by `[redacted]` (ClickHouse clients and curl users put `?password=` in URLs; this
 * endpoint refuses them, but the request line is logged before it is refused).
 */
export function redactUrl(url: string): string {
  return url.replace(/([?&](?:password|key|secret|sig|token)=)[^&#]*/gi, '$1[redacted]');
}

/** Takes a trailing `FORMAT name [;]` off a query: [query without it, name or null]. */
export function splitFormat(query: string): [string, string | null] {
  let toks;
  try { toks = tokenize(query); } catch { return [query, null]; } // the sandbox reports the lexical error
  let end = toks.length;
  if (end > 0 && toks[end - 1]!.text === ';') end--;
  const f = toks[end - 2];
  const name = toks[end - 1];
  const before = toks[end - 3];
  if (f && name && f.kind === 'word' && /^FORMAT$/i.test(f.text) && (name.kind === 'word' || name.kind === 'ident') && !(before?.kind === 'punct' && before.text === '.')) {
    return [query.slice(0, f.start).trimEnd(), name.kind === 'ident' ? name.text.slice(1, -1) : name.text];
  }
  return [query, null];
}

/** A `param_x` value as the placeholder's type wants it (arrays from ClickHouse's text form). */
function paramValue(text: string, type: string | undefined): ParamValue {
  if (!type || !/^Array\(/.test(type)) return text;
  const t = text.trim();
  if (!/^\[.*\]$/s.test(t)) throw new ChError(457, 'BAD_QUERY_PARAMETER', 400, `parameter of type ${type} must be written as [a, b, …]`);
  try {
    // single-quoted strings → JSON strings
    return JSON.parse(t.replace(/'((?:[^'\\]|\\.)*)'/g, (_m, s: string) => JSON.stringify(s.replace(/\\(.)/g, '$1')))) as ParamValue;
  } catch {
    throw new ChError(457, 'BAD_QUERY_PARAMETER', 400, `cannot read the ${type} parameter ${JSON.stringify(t.slice(0, 100))}`);
  }
}

/** Our error → ClickHouse's code, name and status. */
function toChError(e: unknown): ChError {
  if (e instanceof ChError) return e;
  const err = e instanceof TradsysError ? e : new TradsysError('ERR_STORAGE_UNAVAILABLE', (e as Error).message);
  const inner = /Code: (\d+)/.exec(err.message);
  const innerName = /\(([A-Z][A-Z0-9_]{2,})\)/.exec(err.message);
  const msg = `${err.message} [${err.code}]`;
  switch (err.code) {
    case 'ERR_STORAGE_BUSY': return new ChError(202, 'TOO_MANY_SIMULTANEOUS_QUERIES', 429, msg, BUSY_RETRY_AFTER_S);
    case 'ERR_STORAGE_NOT_SELECT': return new ChError(164, 'READONLY', 403, msg);
    case 'ERR_STORAGE_FORBIDDEN': return new ChError(inner ? Number(inner[1]) : 497, innerName?.[1] ?? 'ACCESS_DENIED', 403, msg);
    case 'ERR_STORAGE_PARAM': return new ChError(457, 'BAD_QUERY_PARAMETER', 400, msg);
    case 'ERR_STORAGE_LIMIT': return new ChError(inner ? Number(inner[1]) : 396, innerName?.[1] ?? 'TOO_MANY_ROWS_OR_BYTES', 422, msg);
    case 'ERR_STORAGE_QUERY': return new ChError(inner ? Number(inner[1]) : 62, innerName?.[1] ?? 'SYNTAX_ERROR', 400, msg);
    case 'ERR_STORAGE_UNAVAILABLE': case 'ERR_STORAGE_CLOSED': return new ChError(210, 'NETWORK_ERROR', 503, msg);
    // other refusals (a sandbox's own codes): ClickHouse's access-denied unless ClickHouse's code is in the text
    default: return err.status === 403 ? new ChError(inner ? Number(inner[1]) : 497, innerName?.[1] ?? 'ACCESS_DENIED', 403, msg)
      : new ChError(inner ? Number(inner[1]) : 1002, innerName?.[1] ?? 'UNKNOWN_EXCEPTION', err.status, msg);
  }
}

/** Credentials from Basic auth or the X-ClickHouse-User/-Key headers; null when none were sent. */
function credentials(req: FastifyRequest): { user: string; password: string } | null {
  const h = req.headers;
  const xu = h['x-clickhouse-user'];
  if (typeof xu === 'string') return { user: xu, password: typeof h['x-clickhouse-key'] === 'string' ? h['x-clickhouse-key'] : '' };
  const a = h.authorization;
  if (typeof a === 'string' && /^Basic /i.test(a)) {
    const text = Buffer.from(a.slice(6).trim(), 'base64').toString('utf8');
    const i = text.indexOf(':');
    return i < 0 ? { user: text, password: '' } : { user: text.slice(0, i), password: text.slice(i + 1) };
  }
  return null;
}

export function registerClickHouseHttp(app: FastifyInstance, opts: ClickHouseHttpOptions): void {
  const version = opts.version ?? 'tradsys';
  const send = (reply: FastifyReply, e: ChError, queryId: string): FastifyReply => {
    void reply.code(e.status).header('x-clickhouse-exception-code', String(e.chCode)).header('x-clickhouse-query-id', queryId).type('text/plain; charset=UTF-8');
    if (e.retryAfter !== undefined) void reply.header('retry-after', String(e.retryAfter));
    return reply.send(`Code: ${e.chCode}. DB::Exception: ${e.message.replace(/\s+$/, '')}. (${e.chName}) (version ${version})\n`);
  };

  app.register(async (ctx) => {
    // the body is the query text (or part of it), whatever the client calls its type
    ctx.removeAllContentTypeParsers();
    ctx.addContentTypeParser('*', { parseAs: 'string', bodyLimit: opts.bodyLimit ?? 128 * 1024 }, (_req, body, done) => done(null, body));

    const ping = async (_req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => reply.type('text/plain; charset=UTF-8').send('Ok.\n');
    ctx.get('/clickhouse/ping', ping);
    ctx.get('/ping', ping);

    const handler = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
      const url = new URL(req.url, 'http://x');
      const q = url.searchParams;
      // an id we cannot echo (a CR/LF would break the header) is refused below, after `who`
      const askedId = q.get('query_id');
      const idOk = askedId === null || QUERY_ID.test(askedId);
      const queryId = askedId !== null && idOk ? askedId : crypto.randomUUID();
      const log = req.log as AuditLogger;
      void reply.header('x-clickhouse-server-display-name', 'tradsys').header('x-clickhouse-query-id', queryId);
      try {
        // who: one audit line and one charge to the address per refused login (docs/security.md "Audit log")
        const refuse = (reason: string, keyId: string | null, account: number | null, e: ChError): never => {
          opts.refused?.(req);
          if (reason === 'forbidden') log.warn({ audit: 'permission.denied', account, key: keyId, ip: req.ip, transport: 'clickhouse', outcome: 'denied', need: 'analyst', method: req.method, url: req.url.split('?')[0]!.slice(0, 256) }, 'ClickHouse endpoint: key lacks the analyst permission');
          else log.warn({ audit: 'auth.failure', account, key: keyId, ip: req.ip, transport: 'clickhouse', outcome: 'denied', reason, method: req.method, url: req.url.split('?')[0]!.slice(0, 256) }, `ClickHouse endpoint: authentication failed: ${reason}`);
          throw e;
        };
        if (q.has('password')) refuse('malformed', q.get('user')?.slice(0, 64) ?? null, null, new ChError(516, 'AUTHENTICATION_FAILED', 401, 'credentials in the URL are refused (URLs end up in logs): use HTTP Basic or the X-ClickHouse-User/X-ClickHouse-Key headers'));
        const cred = credentials(req) ?? (q.has('user') ? { user: q.get('user')!, password: '' } : null);
        if (!cred) return refuse('malformed', null, null, new ChError(516, 'AUTHENTICATION_FAILED', 401, 'authentication required: user = your API key, password = its secret (HTTP Basic or X-ClickHouse-User/X-ClickHouse-Key)'));
        const who = opts.authenticate(cred.user, cred.password, req);
        if (!who.ok) {
          if (who.reason === 'rate_limited') throw new ChError(201, 'QUOTA_EXCEEDED', 429, 'too many requests for this API key', Math.max(1, Math.ceil(who.waitMs / 1000)));
          const keyId = cred.user.slice(0, 64);
          if (who.reason === 'forbidden') refuse('forbidden', keyId, who.account ?? null, new ChError(497, 'ACCESS_DENIED', 403, `${keyId}: Not enough privileges: this key lacks the analyst permission`));
          refuse(who.reason === 'unknown' ? 'unknown_key' : who.reason, keyId, who.account ?? null, new ChError(516, 'AUTHENTICATION_FAILED', 401, `${keyId}: Authentication failed: password is incorrect, or there is no user with such name`));
        }
        const caller = who as Extract<ClickHouseAuth, { ok: true }>;
        if (!idOk) throw new ChError(36, 'BAD_ARGUMENTS', 400, 'query_id must be 1 to 128 characters of A-Z a-z 0-9 . _ : -');
        // what
        const params: Record<string, string> = {};
        for (const [k, v] of q) {
          if (k.startsWith('param_')) { params[k.slice(6)] = v; continue; }
          if (PROTOCOL_PARAMS.has(k) || IGNORED_SETTINGS.has(k)) continue;
          throw new ChError(164, 'READONLY', 403, `Cannot modify '${k.slice(0, 64)}' setting in readonly mode: the platform sets analysts' limits (docs/security.md "Analyst access and limits")`);
        }
        if (q.get('compress') === '1' || q.get('decompress') === '1') throw new ChError(48, 'NOT_IMPLEMENTED', 400, 'ClickHouse native compression is not offered by this endpoint');
        const db = q.get('database');
        if (db !== null && db !== '' && db !== 'default' && db !== 'clickhouse' && !opts.databases.includes(db)) throw new ChError(291, 'DATABASE_ACCESS_DENIED', 403, `Database ${db.slice(0, 64)} is not allowed: the platform's tables are in ${opts.databases[0] ?? 'default'}`);
        const body = req.method === 'POST' && typeof req.body === 'string' ? req.body : '';
        const text = [q.get('query') ?? '', body].filter((s) => s.trim() !== '').join('\n');
        if (text.trim() === '') throw new ChError(62, 'SYNTAX_ERROR', 400, 'Empty query');
        const [sql, fmt] = splitFormat(text);
        const fmtName = fmt ?? q.get('default_format') ?? 'TabSeparated';
        const format = Object.prototype.hasOwnProperty.call(FORMATS, fmtName) ? FORMATS[fmtName]! : null;
        if (!format) throw new ChError(73, 'UNKNOWN_FORMAT', 400, `Unknown or unsupported format ${fmtName.slice(0, 64)}: this endpoint serves ${Object.keys(FORMATS).join(', ')}`);
        let types: Map<string, string>;
        try { types = new Map(placeholders(sql).map((p) => [p.name, p.type])); } catch { types = new Map(); }
        const bound: Record<string, ParamValue> = {};
        for (const [k, v] of Object.entries(params)) bound[k] = paramValue(v, types.get(k));
        const t0 = performance.now();
        const r = await opts.gate.run({ key: caller.key, account: caller.account, ip: req.ip, via: 'clickhouse' }, sql, bound, log);
        const out = format.render(r, (performance.now() - t0) / 1000);
        return reply.code(200).type(format.contentType).header('x-clickhouse-format', fmtName)
          .header('x-clickhouse-summary', JSON.stringify({ read_rows: String(r.rows.length), read_bytes: String(r.bytes ?? 0), result_rows: String(r.rows.length), result_bytes: String(Buffer.byteLength(out)) }))
          .send(out);
      } catch (e) {
        return send(reply, toChError(e), queryId);
      }
    };
    // charged per key once authenticated, to the address only when refused (opts.refused)
    const config = { chargedAfterAuth: true };
    const limit = { bodyLimit: opts.bodyLimit ?? 128 * 1024, config };
    // `/` as well, where ClickHouse itself serves: clients configured with the gateway's bare URL
    // (or with `/clickhouse` as the URL path, which @clickhouse/client sends as `database`) land there
    const page = opts.page;
    for (const path of ['/clickhouse', '/clickhouse/', '/']) {
      // the page is a public route: its request is charged to the address once, as every public route's is (`refused` takes that token)
      ctx.get(path, { config }, path === '/' && page ? (req, reply) => {
        if (!isPlainRootGet(req)) return handler(req, reply);
        opts.refused?.(req);
        return page(req, reply);
      } : handler);
      ctx.post(path, limit, handler);
    }
  });
}
