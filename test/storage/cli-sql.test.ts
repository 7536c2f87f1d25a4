import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../support/cli.js';
import { startServer, uniqueDatabase, type TestServer } from '../support/clickhouse.js';
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

  it('usage errors exit 2', async () => {
    expect((await run(['sql'])).code).toBe(2);
    expect((await run(['sql', '--format', 'xml', 'SELECT 1'])).code).toBe(2);
  });
});
