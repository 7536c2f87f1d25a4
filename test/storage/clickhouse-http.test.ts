/**
 * The ClickHouse-compatible endpoint (/clickhouse) on both backends, with @clickhouse/client and
 * with raw HTTP as curl sends it: API key = user, secret = password; formats; parameters; errors
 * in ClickHouse's form; settings that would loosen limits refused; per-key concurrency (429);
 * one audit line per query. Also POST /api/v1/sql's admission and audit line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { Writable } from 'node:stream';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClickHouseLogLevel, createClient, type ClickHouseClient } from '@clickhouse/client';
import { loadInstruments } from '../../src/domain/instruments.js';
import { migrate } from '../../src/storage/schema.js';
import { registerStorage, type StorageApi } from '../../src/gateway/http/queries.js';
import { DEFAULT_LIMITS } from '../../src/storage/queries.js';
import { redactUrl, splitFormat } from '../../src/storage/clickhouse-http.js';
import { KeyStore } from '../../src/gateway/auth.js';
import { openBackend, type Backend } from '../support/storage-backends.js';

const instruments = loadInstruments([{ symbol: 'ETH-USD', tickSize: '0.05', lotSize: '0.001' }]);
const T0 = 1_790_000_040_000_000_000n;
// ~1e8 hashed pairs with a 1 s limit: running long enough to be counted, then stopped by ClickHouse
const SLOW = 'SELECT count() AS n FROM trades AS a CROSS JOIN trades AS b WHERE sipHash64(a.trade_id, b.trade_id) = 0';

describe('splitFormat', () => {
  it('takes a trailing FORMAT clause off, and nothing else', () => {
    expect(splitFormat('SELECT 1 FORMAT JSON')).toEqual(['SELECT 1', 'JSON']);
    expect(splitFormat('SELECT 1\nformat   JSONEachRow ;')).toEqual(['SELECT 1', 'JSONEachRow']);
    expect(splitFormat("SELECT 'x FORMAT JSON'")).toEqual(["SELECT 'x FORMAT JSON'", null]);
    expect(splitFormat('SELECT 1 FORMAT JSON -- note')).toEqual(['SELECT 1', 'JSON']);
    expect(splitFormat('SELECT t.format FROM t')).toEqual(['SELECT t.format FROM t', null]);
    expect(redactUrl('/clickhouse/?user=k&password=s3cret&query=1')).toBe('/clickhouse/?user=k&password=[redacted]&query=1');
    expect(splitFormat('SELECT 1 FORMAT JSON SETTINGS readonly=0')).toEqual(['SELECT 1 FORMAT JSON SETTINGS readonly=0', null]); // left to the sandbox
  });
});

describe.each(['chdb', 'server'] as const)('ClickHouse-compatible endpoint on %s', (name) => {
  let b: Backend;
  let app: FastifyInstance;
  let api: StorageApi;
  let base: string;
  let keysDir: string;
  let analyst: { key: string; secret: string };
  let trader: { key: string; secret: string };
  let client: ClickHouseClient;
  const logLines: Record<string, unknown>[] = [];
  const audits = (): Record<string, unknown>[] => logLines.filter((l) => l.audit === 'sql.query');

  beforeAll(async () => {
    b = await openBackend(name, 'chhttp');
    await migrate(b.storage);
    const trades = Array.from({ length: 10_000 }, (_, i) => ({ symbol: 'ETH-USD', ts: (T0 + BigInt(i)).toString(), trade_id: i + 1, seq: i + 1, price: 60000 + (i % 3), qty: 1000, taker_side: 'buy', taker_order_id: 1, maker_order_id: 2, taker_account: 1, maker_account: 2 }));
    await b.storage.insert('trades', trades);
    keysDir = mkdtempSync(join(tmpdir(), 'tradsys-chkeys-'));
    const keys = new KeyStore(keysDir);
    analyst = keys.create(7, ['analyst']);
    trader = keys.create(8, ['trade', 'read']);
    const stream = new Writable({ write(chunk: Buffer, _e, cb) { for (const l of chunk.toString().split('\n')) if (l) logLines.push(JSON.parse(l) as Record<string, unknown>); cb(); } });
    // request lines are logged with their URL redacted, as the gateway's logger must do (docs/security.md)
    app = Fastify({ logger: { level: 'info', stream, serializers: { req: (r: { method: string; url: string }) => ({ method: r.method, url: redactUrl(r.url) }) } } });
    api = registerStorage(app, b.storage, null, {
      instruments, limits: { ...DEFAULT_LIMITS, maxSeconds: 1 }, admission: { perKey: 2, total: 8 },
      authorizeSql: (req) => (req.headers['x-analyst'] === 'yes' ? { key: 'tk_http', account: 9 } : false),
      clickhouse: {
        authenticate: (user, password) => {
          const r = keys.checkSecret(user, password, 'analyst');
          return r.ok ? { ok: true, key: r.key, account: r.account } : { ok: false, reason: r.reason === 'forbidden' ? 'forbidden' : 'unknown' };
        },
      },
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    // the client reads a path in `url` as a database name: the endpoint's path goes in `pathname`
    client = createClient({ url: base, pathname: '/clickhouse', username: analyst.key, password: analyst.secret, log: { level: ClickHouseLogLevel.OFF }, ...(b.database ? { database: b.database } : {}) });
  });
  afterAll(async () => { await client?.close(); await app?.close(); await b?.close(); rmSync(keysDir, { recursive: true, force: true }); });

  it('@clickhouse/client: ping, JSONEachRow with query_params, JSON with meta', async () => {
    expect((await client.ping()).success).toBe(true);
    const rs = await client.query({ query: 'SELECT trade_id, price FROM trades WHERE trade_id <= {n:UInt32} AND symbol = {s:String} ORDER BY trade_id', format: 'JSONEachRow', query_params: { n: 3, s: 'ETH-USD' } });
    expect(await rs.json()).toEqual([{ trade_id: '1', price: '60000' }, { trade_id: '2', price: '60001' }, { trade_id: '3', price: '60002' }]);
    const j = await (await client.query({ query: 'SELECT count() AS n, max(price) AS hi FROM trades', format: 'JSON' })).json<{ n: string; hi: string }>();
    expect(j.data).toEqual([{ n: '10000', hi: '60002' }]);
    expect(j.meta?.map((m) => m.name)).toEqual(['n', 'hi']);
    expect(j.rows).toBe(1);
    const compact = await (await client.query({ query: 'SELECT trade_id FROM trades ORDER BY trade_id LIMIT 2', format: 'JSONCompactEachRow' })).json();
    expect(compact).toEqual([['1'], ['2']]);
  });

  it('@clickhouse/client configured as in the issue (url …/clickhouse, no pathname) and with the bare URL', async () => {
    for (const url of [`${base}/clickhouse`, base]) {
      const c = createClient({ url, username: analyst.key, password: analyst.secret, log: { level: ClickHouseLogLevel.OFF } });
      try {
        expect((await c.ping()).success).toBe(true);
        const rows = await (await c.query({ query: 'SELECT count() AS n FROM trades WHERE trade_id <= {n:UInt32}', format: 'JSONEachRow', query_params: { n: 5 } })).json();
        expect(rows).toEqual([{ n: '5' }]);
      } finally { await c.close(); }
    }
  });

  it('@clickhouse/client: a refused query rejects with a ClickHouse error (code and text)', async () => {
    const err = await client.query({ query: "SELECT * FROM file('/etc/passwd')", format: 'JSONEachRow' }).then(() => null, (e: unknown) => e as { code?: string; type?: string; message: string });
    expect(err).not.toBeNull();
    expect(err!.code).toMatch(/^\d+$/);
    expect(err!.message).toMatch(/file|not allowed|denied/i);
    const bad = await client.query({ query: 'SELECT nope FROM trades', format: 'JSONEachRow' }).then(() => null, (e: unknown) => e as { code?: string; message: string });
    expect(bad!.code).toBe('47'); // ClickHouse's own UNKNOWN_IDENTIFIER, passed through
    // a setting that would loosen a limit never reaches ClickHouse
    const loose = await client.query({ query: 'SELECT 1', format: 'JSONEachRow', clickhouse_settings: { max_result_rows: '0' } }).then(() => null, (e: unknown) => e as { code?: string; message: string });
    expect(loose!.code).toBe('164');
    expect(loose!.message).toMatch(/Cannot modify 'max_result_rows'/);
  });

  it('curl-style GET ?query= and POST bodies, with FORMAT clauses and default_format', async () => {
    const auth = { authorization: 'Basic ' + Buffer.from(`${analyst.key}:${analyst.secret}`).toString('base64') };
    const get = (q: string, extra = ''): Promise<Response> => fetch(`${base}/clickhouse/?query=${encodeURIComponent(q)}${extra}`, { headers: auth });
    const tsv = await get("SELECT trade_id, 'a\tb' AS s FROM trades ORDER BY trade_id LIMIT 2");
    expect(tsv.status).toBe(200);
    expect(await tsv.text()).toBe('1\ta\\tb\n2\ta\\tb\n'); // TabSeparated by default, escaped
    expect(await (await get('SELECT trade_id AS id, \'x,"y\' AS s FROM trades ORDER BY trade_id LIMIT 1 FORMAT CSVWithNames')).text()).toBe('"id","s"\n1,"x,""y"\n');
    expect(await (await get('SELECT trade_id AS id FROM trades ORDER BY trade_id LIMIT 2 FORMAT TSVWithNames')).text()).toBe('id\n1\n2\n');
    expect(await (await get('SELECT trade_id AS id FROM trades ORDER BY trade_id LIMIT 2', '&default_format=CSV')).text()).toBe('1\n2\n');
    const jc = await (await get('SELECT trade_id AS id FROM trades ORDER BY trade_id LIMIT 2 FORMAT JSONCompact')).json() as { data: unknown[] };
    expect(jc.data).toEqual([['1'], ['2']]);
    // POST: query in the URL and the body together; param_ and X-ClickHouse headers
    const post = await fetch(`${base}/clickhouse?param_lo=2&query=${encodeURIComponent('SELECT trade_id FROM trades')}`, {
      method: 'POST', headers: { 'x-clickhouse-user': analyst.key, 'x-clickhouse-key': analyst.secret, 'content-type': 'text/plain' },
      body: 'WHERE trade_id BETWEEN {lo:UInt32} AND 3 ORDER BY trade_id FORMAT JSONEachRow',
    });
    expect(post.status).toBe(200);
    expect(post.headers.get('x-clickhouse-format')).toBe('JSONEachRow');
    expect(await post.text()).toBe('{"trade_id":"2"}\n{"trade_id":"3"}\n');
    const arr = await fetch(`${base}/clickhouse/?param_ids=${encodeURIComponent('[1,3]')}&query=${encodeURIComponent('SELECT trade_id FROM trades WHERE has({ids:Array(UInt64)}, trade_id) ORDER BY trade_id FORMAT CSV')}`, { headers: auth });
    expect(await arr.text()).toBe('1\n3\n');
    // errors as ClickHouse writes them
    const unknown = await get('SELECT 1 FORMAT XML');
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('x-clickhouse-exception-code')).toBe('73');
    expect(await unknown.text()).toMatch(/^Code: 73\. DB::Exception: .*\(UNKNOWN_FORMAT\)/);
    const setting = await get('SELECT 1', '&readonly=0');
    expect(setting.status).toBe(403);
    expect(await setting.text()).toMatch(/^Code: 164\. DB::Exception: Cannot modify 'readonly'/);
    const db = await get('SELECT 1', '&database=system');
    expect(db.status).toBe(403);
    expect(db.headers.get('x-clickhouse-exception-code')).toBe('291');
    expect((await get('SELECT 1', '&wait_end_of_query=1')).status).toBe(200); // harmless: accepted, ignored
    const write = await fetch(`${base}/clickhouse/`, { method: 'POST', headers: auth, body: 'DROP TABLE trades' });
    expect([400, 403]).toContain(write.status); // refused by the sandbox (today: 403, Code 164 READONLY)
    expect(write.headers.get('x-clickhouse-exception-code')).toMatch(/^\d+$/);
    expect(await write.text()).toMatch(/^Code: \d+\. DB::Exception: /);
    expect(await (await get('SELECT count() AS n FROM trades')).text()).toBe('10000\n'); // nothing was dropped
  });

  it('hostile spellings through the endpoint: refused by the same sandbox, nothing read, with or without a FORMAT clause', async () => {
    const secret = `CH-ENDPOINT-SECRET-${process.pid}`;
    const file = join(keysDir, 'keys-copy.json');
    writeFileSync(file, JSON.stringify({ keys: [{ key: 'tk_x', secret }] }));
    const f = `'${file}'`;
    const attacks = [
      `SELECT \`file\`(${f}) AS f`, `SELECT "file"(${f})`, `SELECT FILE(${f})`, `SELECT file /* c */ (${f})`,
      `SELECT \`file\`(${f}) FORMAT TSV`, `SELECT * FROM file(${f}, LineAsString) FORMAT CSV`,
      `WITH k AS (SELECT * FROM file(${f}, LineAsString)) SELECT * FROM k FORMAT JSONEachRow`,
      `SELECT 1 AS a UNION ALL SELECT file(${f}) FORMAT TSV`, `SELECT * FROM url('file://${file}', LineAsString)`,
      'SELECT name FROM system.users FORMAT TSV', `SELECT 1 FORMAT TSV; SELECT file(${f})`, `SELECT 1; SELECT file(${f}) FORMAT TSV`,
      `SELECT file(${f}) SETTINGS readonly = 0`, `SELECT 1 INTO OUTFILE '/tmp/x' FORMAT TSV`,
    ];
    for (const a of attacks) {
      for (const r of [
        await fetch(`${base}/clickhouse/?query=${encodeURIComponent(a)}`, { headers: { 'X-ClickHouse-User': analyst.key, 'X-ClickHouse-Key': analyst.secret } }),
        await fetch(`${base}/clickhouse/`, { method: 'POST', body: a, headers: { 'X-ClickHouse-User': analyst.key, 'X-ClickHouse-Key': analyst.secret } }),
      ]) {
        const text = await r.text();
        expect(r.status, a).toBeGreaterThanOrEqual(400);
        expect(text, a).toMatch(/^Code: \d+\. DB::Exception: /);
        expect(text, a).not.toContain(secret);
        expect(r.headers.get('x-clickhouse-exception-code'), a).toMatch(/^\d+$/);
      }
    }
    // and through the client library
    const viaClient = await client.query({ query: `SELECT \`file\`(${f}) AS f`, format: 'JSONEachRow' }).then((x) => x.text(), (e: unknown) => String((e as Error).message));
    expect(viaClient).not.toContain(secret);
    expect(viaClient).toMatch(/not allowed/);
  });

  it('credentials: API key and secret, analyst permission; 516 / 497 like ClickHouse', async () => {
    const q = `${base}/clickhouse/?query=SELECT%201`;
    const basic = (u: string, p: string) => ({ authorization: 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64') });
    for (const headers of [{} as Record<string, string>, basic(analyst.key, 'wrong'), basic('tk_nobody', analyst.secret), { 'x-clickhouse-user': analyst.key, 'x-clickhouse-key': trader.secret }]) {
      const r = await fetch(q, { headers });
      expect(r.status).toBe(401);
      expect(r.headers.get('x-clickhouse-exception-code')).toBe('516');
      expect(await r.text()).toMatch(/^Code: 516\. DB::Exception: .*\(AUTHENTICATION_FAILED\)/);
    }
    const noPerm = await fetch(q, { headers: basic(trader.key, trader.secret) });
    expect(noPerm.status).toBe(403);
    expect(noPerm.headers.get('x-clickhouse-exception-code')).toBe('497');
    // secrets never in URLs (they end up in logs)
    const inUrl = await fetch(`${q}&user=${analyst.key}&password=${analyst.secret}`);
    expect(inUrl.status).toBe(401);
    expect(JSON.stringify(logLines)).not.toContain(analyst.secret);
    const wrongClient = createClient({ url: base, pathname: '/clickhouse', username: analyst.key, password: 'nope', log: { level: ClickHouseLogLevel.OFF } });
    try {
      await expect(wrongClient.query({ query: 'SELECT 1', format: 'JSONEachRow' })).rejects.toMatchObject({ code: '516', type: 'AUTHENTICATION_FAILED' });
    } finally { await wrongClient.close(); }
  });

  it('at most 2 queries per key at once: the third is 429 with Retry-After on both doors; one audit line per query', async () => {
    const auth = { authorization: 'Basic ' + Buffer.from(`${analyst.key}:${analyst.secret}`).toString('base64') };
    const before = audits().length;
    const slow = [1, 2].map(() => fetch(`${base}/clickhouse/`, { method: 'POST', headers: auth, body: SLOW }));
    for (let i = 0; i < 500 && api.gate.active(analyst.key) < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(api.gate.active(analyst.key)).toBe(2);
    const third = await fetch(`${base}/clickhouse/?query=SELECT%201`, { headers: auth });
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(third.headers.get('x-clickhouse-exception-code')).toBe('202');
    // another key is not held back by this one's queries
    const other = await app.inject({ method: 'POST', url: '/api/v1/sql', headers: { 'x-analyst': 'yes' }, payload: { sql: 'SELECT 1 AS one' } });
    expect(other.statusCode).toBe(200);
    const done = await Promise.all(slow);
    for (const r of done) expect([200, 422]).toContain(r.status); // finished or stopped by the 1 s limit
    expect(api.gate.active()).toBe(0);
    const lines = audits().slice(before);
    expect(lines).toHaveLength(4);
    const refused = lines.find((l) => l.outcome === 'refused')!;
    expect(refused).toMatchObject({ key: analyst.key, account: 7, via: 'clickhouse', ip: '127.0.0.1', query: 'SELECT 1', code: 'ERR_STORAGE_BUSY' });
    const ok = lines.find((l) => l.via === 'http')!;
    expect(ok).toMatchObject({ outcome: 'ok', key: 'tk_http', account: 9, rows: 1, query: 'SELECT 1 AS one' });
    expect(ok.bytes).toBeGreaterThan(0);
    expect(typeof ok.durationMs).toBe('number');
    // POST /api/v1/sql: the same admission
    const slowHttp = [1, 2].map(() => app.inject({ method: 'POST', url: '/api/v1/sql', headers: { 'x-analyst': 'yes' }, payload: { sql: SLOW } }));
    for (let i = 0; i < 500 && api.gate.active('tk_http') < 2; i++) await new Promise((r) => setTimeout(r, 5));
    const busy = await app.inject({ method: 'POST', url: '/api/v1/sql', headers: { 'x-analyst': 'yes' }, payload: { sql: 'SELECT 1' } });
    expect(busy.statusCode).toBe(429);
    expect(busy.headers['retry-after']).toBe('1');
    expect(busy.json().error).toBe('ERR_STORAGE_BUSY');
    await Promise.all(slowHttp);
  });
});
