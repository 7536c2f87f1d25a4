/**
 * Analyst access at its edges, through a whole gateway on both backends (issue 12 fixes 3–7):
 * an analyst's failed query never reaches the public /health (its error text quotes bound
 * parameters and data) and its audit line carries codes, not ClickHouse's text; a `query_id`
 * that cannot be echoed is refused before anything runs; /clickhouse login failures and sandbox
 * refusals are logged as docs/security.md's table says; valid /clickhouse requests are charged
 * to their key, not to the address, while failed logins are limited per address.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../src/gateway/gateway.js';
import type { ApiKey } from '../../src/gateway/auth.js';
import { signedCaller } from '../support/signed-http.js';
import { startServer, uniqueDatabase, type TestServer } from '../support/clickhouse.js';

const SECRET = 'param-value-SECRET123';
const DATA_SECRET = 'table-data-SECRET456';

describe.each(['chdb', 'server'] as const)('analyst edges on %s', (name) => {
  let srv: TestServer | null = null;
  let gw: Gateway;
  let dir: string;
  let base: string;
  let analyst: ApiKey;
  let trader: ApiKey;
  const call = signedCaller(() => base);
  const lines = (): Record<string, unknown>[] => {
    const f = join(dir, 'logs', 'tradsys.log');
    return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>) : [];
  };
  const basic = (k: string, s: string): Record<string, string> => ({ authorization: 'Basic ' + Buffer.from(`${k}:${s}`).toString('base64') });
  const ch = (query: string, extra = '', headers = basic(analyst.key, analyst.secret)): Promise<Response> =>
    fetch(`${base}/clickhouse/?query=${encodeURIComponent(query)}${extra}`, { headers });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tradsys-edges-'));
    let storageEnv: NodeJS.ProcessEnv = {};
    if (name === 'server') {
      srv = await startServer();
      storageEnv = { CLICKHOUSE_URL: srv.url, CLICKHOUSE_DATABASE: uniqueDatabase('edges') };
    }
    gw = await Gateway.build({
      dataDir: dir, capacity: 10_000, storage: 'auto', storageEnv,
      // small limits keep the rate-limit test quick: 30 unauthenticated requests, then 1/s
      httpAddressRateLimit: { perSecond: 1, burst: 30 }, httpRateLimit: { perSecond: 1, burst: 1000 },
    });
    base = await gw.listen(0);
    analyst = gw.keys.create(7, ['analyst']);
    trader = gw.keys.create(8, ['trade', 'read']);
  }, 120_000);
  afterAll(async () => { await gw?.close(); await srv?.stop(); rmSync(dir, { recursive: true, force: true }); }, 60_000);

  it('an analyst query error never reaches /health; its audit line names codes, not values (fixes 3 and 4)', async () => {
    const r1 = await call(analyst, 'POST', '/api/v1/sql', { sql: 'SELECT toUInt8({p:String})', params: { p: SECRET } });
    expect(r1.status).toBe(400);
    expect(JSON.stringify(r1.json)).toContain(SECRET); // the analyst's own answer may say it
    const r2 = await call(analyst, 'POST', '/api/v1/sql', { sql: `SELECT throwIf(1, '${DATA_SECRET}')` });
    expect(r2.status).toBeGreaterThanOrEqual(400);
    const r3 = await ch('SELECT toUInt8({p:String})', `&param_p=${SECRET}`);
    expect(r3.status).toBeGreaterThanOrEqual(400);
    expect(await r3.text()).toMatch(/^Code: 6\./);

    const health = await fetch(`${base}/health`);
    const text = await health.text();
    expect(health.status).toBe(200);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(DATA_SECRET);
    expect(text).not.toMatch(/toUInt8|throwIf|Cannot parse/);
    const h = JSON.parse(text) as { status: string; storage: { storage: { errors: number; lastError: string | null } } };
    expect(h.status).toBe('ok');
    expect(h.storage.storage.errors).toBe(0);
    expect(h.storage.storage.lastError).toBeNull();
    // counted, separately, as analyst query errors
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/tradsys_analyst_queries_failed_total [3-9]/);

    const audit = lines().filter((l) => l.audit === 'sql.query');
    expect(JSON.stringify(lines())).not.toContain(SECRET);
    expect(JSON.stringify(lines())).not.toMatch(/Cannot parse/);
    const param = audit.filter((l) => l.query === 'SELECT toUInt8({p:String})');
    expect(param).toHaveLength(2);
    for (const l of param) {
      expect(l).toMatchObject({ outcome: 'failed', params: ['p'], code: 'ERR_STORAGE_QUERY', clickhouseCode: 6, account: 7, key: analyst.key });
      expect(l.error).toBeUndefined();
      if (name === 'chdb') expect(l.clickhouseError).toBe('CANNOT_PARSE_TEXT'); // 18.16 names no exception
    }
    expect(param.map((l) => l.via).sort()).toEqual(['clickhouse', 'http']);
  });

  it('a query_id that cannot be echoed: 400 Code 36, nothing runs, nothing logged as an error (fix 6)', async () => {
    const before = lines().filter((l) => l.audit === 'sql.query').length;
    for (const bad of ['a%0D%0AX-Injected:%201', 'a%0Ab', '', 'x'.repeat(129), 'a%20b']) {
      const r = await ch('SELECT 1', `&query_id=${bad}`);
      expect(r.status, bad).toBe(400);
      expect(r.headers.get('x-clickhouse-exception-code'), bad).toBe('36');
      expect(r.headers.get('x-injected')).toBeNull();
      expect(await r.text(), bad).toMatch(/^Code: 36\. DB::Exception: query_id .*\(BAD_ARGUMENTS\)/);
    }
    const ok = await ch('SELECT 1', '&query_id=my.query:1-A_b');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-clickhouse-query-id')).toBe('my.query:1-A_b');
    const after = lines();
    expect(after.filter((l) => l.audit === 'sql.query').length).toBe(before + 1); // only the good one ran
    expect(after.filter((l) => (l.level as number) >= 50)).toEqual([]);
  });

  it('audit lines as docs/security.md\'s table: auth.failure with reason and account, refused queries "refused" (fix 7)', async () => {
    const before = lines().length;
    expect((await ch('SELECT 1', '', basic(analyst.key, 'wrong'))).status).toBe(401);
    expect((await ch('SELECT 1', '', basic('tk_nobody', 'x'))).status).toBe(401);
    expect((await ch('SELECT 1', '', basic(trader.key, trader.secret))).status).toBe(403);
    const sandbox = await call(analyst, 'POST', '/api/v1/sql', { sql: 'SELECT name FROM system.users' });
    expect(sandbox.status).toBe(403);
    const notSelect = await call(analyst, 'POST', '/api/v1/sql', { sql: 'DROP TABLE trades' });
    expect(notSelect.status).toBe(400);
    const got = lines().slice(before).filter((l) => typeof l.audit === 'string');
    expect(got.map((l) => l.audit)).toEqual(['auth.failure', 'auth.failure', 'permission.denied', 'sql.query', 'sql.query']);
    expect(got[0]).toMatchObject({ audit: 'auth.failure', account: 7, key: analyst.key, ip: '127.0.0.1', transport: 'clickhouse', outcome: 'denied', reason: 'bad_signature', level: 40 });
    expect(got[1]).toMatchObject({ audit: 'auth.failure', account: null, key: 'tk_nobody', transport: 'clickhouse', outcome: 'denied', reason: 'unknown_key' });
    expect(got[2]).toMatchObject({ audit: 'permission.denied', account: 8, key: trader.key, transport: 'clickhouse', outcome: 'denied', need: 'analyst' });
    expect(got[3]).toMatchObject({ outcome: 'refused', code: 'ERR_STORAGE_SANDBOX', account: 7, via: 'http' });
    expect(got[4]).toMatchObject({ outcome: 'refused', code: 'ERR_STORAGE_NOT_SELECT', account: 7, via: 'http' });
    expect(JSON.stringify(got)).not.toContain(analyst.secret);
  });

  it('valid /clickhouse requests are charged to the key, not the address; failed logins are limited per address (fix 5)', async () => {
    if (name === 'server') return; // the charging is the gateway's, the same on both backends: once is enough
    for (let i = 0; i < 400; i++) {
      const r = await ch('SELECT 1');
      if (r.status !== 200) throw new Error(`request ${i}: ${r.status} ${await r.text()}`);
    }
    expect((await fetch(`${base}/health`)).status).toBe(200);
    // failed logins: the address's 30 tokens (some spent above), then 429 without authenticating
    let limited = -1;
    for (let i = 0; i < 40 && limited < 0; i++) {
      const r = await ch('SELECT 1', '', basic(analyst.key, 'wrong'));
      if (r.status === 429) limited = i; else expect(r.status).toBe(401);
    }
    expect(limited).toBeGreaterThan(15);
    expect(limited).toBeLessThanOrEqual(31);
    expect((await fetch(`${base}/health`)).status).toBe(429);
  }, 60_000);
});
