/**
 * `tradsys sql` while `tradsys serve` holds the store (chDB locks its folder: before issue 12 the
 * CLI failed with "Cannot lock file …/clickhouse/status"), and with a wrong or empty data folder
 * (before: an empty store was quietly created and the query answered from it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../support/cli.js';
import { Gateway } from '../../src/gateway/gateway.js';
import { signedCaller } from '../support/signed-http.js';
import type { ApiKey } from '../../src/gateway/auth.js';

function run(args: string[], cwd?: string): Promise<{ code: number; out: string; err: string }> {
  return new Promise((res) => {
    const env = { ...process.env };
    delete env.CLICKHOUSE_URL;
    execFile(process.execPath, [CLI, ...args], { env, cwd, timeout: 60_000 }, (e, out, err) => res({ code: e ? (e as { code?: number }).code ?? 1 : 0, out, err }));
  });
}

describe('tradsys sql and the data folder', () => {
  let empty: string;
  beforeAll(() => { empty = mkdtempSync(join(tmpdir(), 'tradsys-nostore-')); });
  afterAll(() => { rmSync(empty, { recursive: true, force: true }); });

  it('a folder without a store is an error that says what to pass, and nothing is created', async () => {
    const r = await run(['sql', '--data', empty, 'SELECT 1']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^tradsys: no TradSys store in .*: it has no clickhouse\/ folder\. Pass the folder the server runs with/);
    expect(existsSync(join(empty, 'clickhouse'))).toBe(false);
    const missing = await run(['sql', '--data', join(empty, 'nope'), 'SELECT 1']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/the folder does not exist/);
    expect(existsSync(join(empty, 'nope'))).toBe(false);
    // no --data: ./data, which is not created either
    const dflt = await run(['sql', 'SELECT 1'], empty);
    expect(dflt.code).toBe(1);
    expect(dflt.err).toMatch(/no TradSys store in \.\/data \(the default; pass --data DIR/);
    expect(existsSync(join(empty, 'data'))).toBe(false);
  });
});

describe('tradsys sql while the server holds the store', () => {
  let gw: Gateway;
  let dir: string;
  let base: string;
  let trader: ApiKey;
  const call = signedCaller(() => base);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tradsys-sqlsrv-'));
    gw = await Gateway.build({ dataDir: dir, capacity: 10_000, storage: 'auto', storageEnv: {} });
    base = await gw.listen(0);
    trader = gw.keys.create(1);
  }, 120_000);
  let closed = false;
  afterAll(async () => { if (!closed) await gw?.close(); rmSync(dir, { recursive: true, force: true }); }, 60_000);

  it('goes through the server (same sandbox), and the discovery file is private and removed on close', async () => {
    const file = join(dir, 'server.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const d = JSON.parse(readFileSync(file, 'utf8')) as { url: string; pid: number; user: string; password: string };
    expect(d).toMatchObject({ url: base, pid: process.pid, user: 'local-cli' });
    expect((await call(trader, 'POST', '/api/v1/orders', { clientOrderId: 'q1', symbol: 'ETH-USD', side: 'sell', type: 'limit', tif: 'gtc', price: '3000.05', qty: '0.5' })).status).toBe(201);
    let out = '';
    for (let i = 0; i < 100 && !/\b1\b/.test(out); i++) {
      const r = await run(['sql', '--data', dir, '--format', 'csv', "SELECT count() AS n FROM order_events WHERE symbol = {s:String} AND type = 'A'", '--param', 's=ETH-USD']);
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      out = r.out;
      if (!/\b1\b/.test(out)) await new Promise((res) => setTimeout(res, 100));
    }
    expect(out).toBe('n\n1\n');
    const bad = await run(['sql', '--data', dir, 'SELECT nope FROM trades']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/^tradsys: query: .*Code: 47/);
    const refused = await run(['sql', '--data', dir, "SELECT * FROM file('keys.json')"]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/file|not allowed|denied|refused/i);
    expect(refused.err).not.toMatch(/secret/);
    // a long query fits the endpoint's body limit (128 KiB, as POST /api/v1/sql), a longer one does not
    const cred = { 'x-clickhouse-user': 'local-cli', 'x-clickhouse-key': d.password as string };
    const long = await fetch(`${base}/clickhouse/`, { method: 'POST', headers: cred, body: `SELECT 1 AS one /* ${'x'.repeat(20_000)} */` });
    expect(long.status).toBe(200);
    expect(await long.text()).toBe('1\n');
    expect((await fetch(`${base}/clickhouse/`, { method: 'POST', headers: cred, body: `SELECT 1 /* ${'x'.repeat(200_000)} */` })).status).toBe(413);
    // the local credential works only with the right secret
    const wrong = await fetch(`${base}/clickhouse/?query=SELECT%201`, { headers: { 'x-clickhouse-user': 'local-cli', 'x-clickhouse-key': 'guess' } });
    expect(wrong.status).toBe(401);
    // the health answer counts nothing against the store's owner: the server still serves
    expect(((await (await fetch(`${base}/health`)).json()) as { status: string }).status).toBe('ok');
  });

  it('a stale discovery file (its process gone) is ignored', async () => {
    const other = mkdtempSync(join(tmpdir(), 'tradsys-stale-'));
    try {
      writeFileSync(join(other, 'server.json'), JSON.stringify({ version: 1, url: 'http://127.0.0.1:1', pid: 2 ** 22 + 12345, user: 'local-cli', password: 'x', started: '' }));
      const r = await run(['sql', '--data', other, 'SELECT 1']);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(/no TradSys store/); // not "does not answer": the stale entry was skipped
    } finally { rmSync(other, { recursive: true, force: true }); }
  });

  it('a clean shutdown removes the discovery file; then the CLI opens the store itself', async () => {
    await gw.close();
    closed = true;
    expect(existsSync(join(dir, 'server.json'))).toBe(false);
    const r = await run(['sql', '--data', dir, '--format', 'csv', "SELECT count() AS n FROM order_events WHERE type = 'A'"]);
    expect(r.err).toBe('');
    expect(r.out).toBe('n\n1\n');
    // its audit line, as the server would have logged it
    const logFile = join(dir, 'logs', 'sql-cli.log');
    expect(statSync(logFile).mode & 0o777).toBe(0o600);
    const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.at(-1)).toMatchObject({ audit: 'sql.query', via: 'cli', outcome: 'ok', rows: 1, query: "SELECT count() AS n FROM order_events WHERE type = 'A'" });
  }, 60_000);
});
