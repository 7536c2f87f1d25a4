import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../support/cli.js';
import { ANALYST_PASSWORD, ANALYST_USER, startServer, uniqueDatabase, type TestServer } from '../support/clickhouse.js';
import { formatRows } from '../../src/cli/sql.js';
import { openStorage } from '../../src/storage/open.js';

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((res) => {
    const base = { ...process.env };
    delete base.CLICKHOUSE_URL;
    execFile(process.execPath, [CLI, ...args], { env: { ...base, ...env }, timeout: 60_000 }, (e, out, err) => res({ code: e ? (e as { code?: number }).code ?? 1 : 0, out, err }));
  });
}

describe('tradsys sql', () => {
  let dir: string;
  let srv: TestServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tradsys-cli-'));
    // issue 12: `tradsys sql` never creates a store; this folder gets one as `tradsys serve` makes it
    await (await openStorage(dir, {})).close();
    srv = await startServer();
  });
  afterAll(async () => { rmSync(dir, { recursive: true, force: true }); await srv?.stop(); });

  it('formats tables, csv and json', () => {
    const rows = [{ a: '1', b: 'x,y' }, { a: '22', b: 'q"' }];
    expect(formatRows(rows, ['a', 'b'], 'table')).toBe(' a  b\n──  ───\n 1  x,y\n22  q"\n(2 rows)\n');
    expect(formatRows(rows, ['a', 'b'], 'csv')).toBe('a,b\n1,"x,y"\n22,"q"""\n');
    expect(JSON.parse(formatRows(rows, ['a', 'b'], 'json'))).toEqual(rows);
  });

  for (const backend of ['chdb', 'server'] as const) {
    it(`queries the ${backend === 'chdb' ? 'embedded store' : 'server (CLICKHOUSE_URL)'} and refuses writes and bad SQL`, async () => {
      const env = backend === 'server' ? { CLICKHOUSE_URL: srv.url, CLICKHOUSE_DATABASE: uniqueDatabase('cli') } : {};
      const ok = await run(['sql', '--data', dir, 'SELECT toUInt64(18446744073709551615) AS big, {s:String} AS s, count() AS trades FROM trades', '--param', 's=it\'s'], env);
      expect(ok.err).toBe('');
      expect(ok.code).toBe(0);
      expect(ok.out).toContain('18446744073709551615');
      expect(ok.out).toContain("it's");
      expect(ok.out).toMatch(/\(1 row\)/);
      const csv = await run(['sql', '--data', dir, '--format', 'csv', 'SELECT name FROM system.tables WHERE database = currentDatabase() AND name = \'bars_1m\''], env);
      expect(csv.out).toBe('name\nbars_1m\n');
      const bad = await run(['sql', '--data', dir, 'SELECT nope FROM trades'], env);
      expect(bad.code).toBe(1);
      expect(bad.err).toMatch(/^tradsys: query: Code: 47/);
      const drop = await run(['sql', '--data', dir, 'DROP TABLE trades'], env);
      expect(drop.code).toBe(1);
      expect(drop.err).toContain('only SELECT queries are allowed');
    });
  }

  for (const backend of ['chdb', 'server'] as const) {
    it(`refuses hostile SQL through the sandbox on the ${backend === 'chdb' ? 'embedded store' : 'server, as the analyst user'}; the keys file is never read`, async () => {
      const secret = `CLI-SECRET-${process.pid}`;
      const data = mkdtempSync(join(tmpdir(), 'tradsys-cli-sbx-'));
      writeFileSync(join(data, 'keys.json'), JSON.stringify({ keys: [{ secret }] }), { mode: 0o600 });
      let keys = join(data, 'keys.json');
      if (backend === 'server' && srv.dir) { mkdirSync(join(srv.dir, 'data', 'user_files'), { recursive: true }); writeFileSync(join(srv.dir, 'data', 'user_files', 'keys.json'), secret); keys = 'keys.json'; }
      const env = backend === 'server'
        ? { CLICKHOUSE_URL: srv.url, CLICKHOUSE_DATABASE: 'tradsys_sandbox_cli', CLICKHOUSE_ANALYST_USER: ANALYST_USER, CLICKHOUSE_ANALYST_PASSWORD: ANALYST_PASSWORD }
        : {};
      if (backend === 'server') await fetch(srv.url, { method: 'POST', body: 'DROP DATABASE IF EXISTS tradsys_sandbox_cli' });
      else await (await openStorage(data, {})).close(); // the store `tradsys serve` would have made (tradsys sql never creates one)
      try {
        for (const [sql, why] of [
          [`SELECT \`file\`('${keys}') AS f`, /function file is not allowed/],
          [`SELECT "file"('${keys}')`, /function file is not allowed/],
          [`SELECT * FROM (SELECT * FROM file('${keys}', 'TSV', 'a String'))`, /table function file\(\) is not allowed/],
          ['SELECT name FROM system.users', /table system\.users is not readable/],
        ] as const) {
          const r = await run(['sql', '--data', data, sql], env);
          expect(r.code, sql).toBe(1);
          expect(r.err, sql).toMatch(why);
          expect(r.out + r.err).not.toContain(secret);
        }
        const ok = await run(['sql', '--data', data, '--format', 'csv', 'SELECT count() AS n FROM trades'], env);
        expect(ok.out).toBe('n\n0\n');
      } finally {
        if (backend === 'server') await fetch(srv.url, { method: 'POST', body: 'DROP DATABASE IF EXISTS tradsys_sandbox_cli' });
        rmSync(data, { recursive: true, force: true });
      }
    });
  }

  it('usage errors exit 2', async () => {
    expect((await run(['sql'])).code).toBe(2);
    expect((await run(['sql', '--format', 'xml', 'SELECT 1'])).code).toBe(2);
  });
});
