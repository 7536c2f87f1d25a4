/**
 * `tradsys serve --strategies FILE.json` and `tradsys strategy list|start|stop` against it (the
 * built CLI: `npm run build`), and the clear errors of a bad strategies file. The strategy kind is
 * the test-only `api-test` (test/support/api-strategy.mjs), loaded with `--strategy-modules`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KeyStore, type ApiKey } from '../../src/gateway/auth.js';
import { CLI } from '../support/cli.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';
import { signed, sleep } from '../support/gateway-client.js';

const MODULE = fileURLToPath(new URL('../support/api-strategy.mjs', import.meta.url));
const env = { ...process.env, TRADSYS_LOG_STDERR: '0', TRADSYS_KEY: '', TRADSYS_SECRET: '' };

function cli(args: string[], extraEnv: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv }, timeout: 60_000 }, (e, out, err) => res({ code: e ? (e as { code?: number }).code ?? 1 : 0, out, err }));
  });
}

const tmp = (): string => mkdtempSync(join(tmpdir(), 'strat-cli-'));
const file = (dir: string, body: unknown): string => {
  const p = join(dir, 'strategies.json');
  writeFileSync(p, typeof body === 'string' ? body : JSON.stringify(body));
  return p;
};
const COMMON = ['--no-sim', '--no-storage', '--strategy-workers', '1', '--strategy-modules', MODULE];

describe('tradsys serve --strategies and tradsys strategy', () => {
  let dir: string;
  let srv: ServeProcess;
  let admin: ApiKey;
  let reader: ApiKey;
  let keyArgs: string[];

  beforeAll(async () => {
    dir = tmp();
    const f = file(dir, [
      { id: 'c1', kind: 'api-test', account: 70_011, symbols: ['AAPL'], params: { price: 18900 } },
      { id: 'c2', kind: 'api-test', account: 70_012, symbols: ['MSFT'], params: { price: 40900, qty: 2 }, priority: 5, autoStart: false },
    ]);
    srv = await startServe(dir, ['--strategies', f, ...COMMON]);
    const keys = new KeyStore(dir);
    admin = keys.create(9, ['admin']);
    reader = keys.create(70_012, ['read']);
    keyArgs = ['--url', srv.url, '--key', admin.key, '--secret', admin.secret];
    // the server applies the keys file within a second
    for (let i = 0; i < 100 && (await signed(srv.url, admin, 'GET', '/api/v1/strategies')).status !== 200; i++) await sleep(50);
  }, 90_000);
  afterAll(async () => {
    srv?.child.kill('SIGTERM');
    await srv?.exited;
  }, 30_000);

  it('serve creates the file\'s strategies at boot and says so in its banner', () => {
    expect(srv.output()).toMatch(/strategies 2 on 1 worker thread: c1 \(api-test on AAPL, account 70011, \w+\), c2 \(api-test on MSFT, account 70012, created\) · from .*strategies\.json/);
    expect(srv.output()).toContain('/api/v1/strategies');
  });

  it('strategy list prints a table (and --json the API\'s answer); a read key sees its own account\'s only', async () => {
    let r = await cli(['strategy', 'list', ...keyArgs]);
    for (let i = 0; i < 100 && !/^c1 .* running /m.test(r.out); i++) { await sleep(50); r = await cli(['strategy', 'list', ...keyArgs]); }
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+KIND\s+STATE\s+ACCOUNT\s+WORKER\s+PRIO\s+EV\/S\s+P50µs\s+P99µs\s+ORDERS\s+FILLS\s+POSITION\s+REALISED\s+UNREALISED\s+BREAKER$/);
    expect(lines[1]).toMatch(/^c1\s+api-test\s+running\s+70011\s+0\s+0\s+\S+\s+\S+\s+\S+\s+1\s+0\s+flat\s+0\s+0\s+closed$/);
    expect(lines[2]).toMatch(/^c2\s+api-test\s+created\s+70012\s+0\s+5\s+/);
    expect(lines[3]).toBe('(2 strategies; P&L in ticks × lots)');
    const j = await cli(['strategy', 'list', '--json', ...keyArgs]);
    const parsed = JSON.parse(j.out) as { workers: number; strategies: { id: string }[] };
    expect(parsed.workers).toBe(1);
    expect(parsed.strategies.map((s) => s.id)).toEqual(['c1', 'c2']);
    const own = await cli(['strategy', 'list', '--json', '--url', srv.url], { TRADSYS_KEY: reader.key, TRADSYS_SECRET: reader.secret });
    expect((JSON.parse(own.out) as { strategies: { id: string }[] }).strategies.map((s) => s.id)).toEqual(['c2']);
  });

  it('strategy stop and start change the state on the server', async () => {
    const stop = await cli(['strategy', 'stop', 'c1', ...keyArgs]);
    expect(stop).toMatchObject({ code: 0 });
    expect(stop.out).toMatch(/^c1: stopped/);
    const start = await cli(['strategy', 'start', 'c2', '--json', ...keyArgs]);
    expect(start.code).toBe(0);
    expect(JSON.parse(start.out)).toMatchObject({ id: 'c2', account: 70_012 });
    let st: { id: string; state: string }[] = [];
    for (let i = 0; i < 100; i++) {
      st = (await signed(srv.url, admin, 'GET', '/api/v1/strategies')).json as never;
      st = (st as unknown as { strategies: { id: string; state: string }[] }).strategies;
      if (st.find((s) => s.id === 'c2')?.state === 'running') break;
      await sleep(50);
    }
    expect(st.map((s) => [s.id, s.state])).toEqual([['c1', 'stopped'], ['c2', 'running']]);
    const again = await cli(['strategy', 'start', 'c1', ...keyArgs]);
    expect(again.out).toMatch(/^c1: (running|created)/);
  });

  it('answers errors clearly: unknown id (1), a key without admin (1), usage (2)', async () => {
    const ghost = await cli(['strategy', 'stop', 'ghost', ...keyArgs]);
    expect(ghost.code).toBe(1);
    expect(ghost.err).toContain('tradsys: POST /api/v1/strategies/ghost/stop: 404 ERR_STRATEGY_NOT_FOUND: no strategy ghost');
    const forbidden = await cli(['strategy', 'stop', 'c1', '--url', srv.url, '--key', reader.key, '--secret', reader.secret]);
    expect(forbidden.code).toBe(1);
    expect(forbidden.err).toContain('403 forbidden: this key lacks the admin permission');
    const noKey = await cli(['strategy', 'list', '--url', srv.url]);
    expect(noKey.code).toBe(2);
    expect(noKey.err).toContain('needs an API key: --key K --secret S');
    expect((await cli(['strategy', 'stop', ...keyArgs])).err).toContain('strategy stop needs one strategy ID');
    expect((await cli(['strategy', 'pause', 'c1', ...keyArgs])).err).toContain('unknown subcommand "pause" (list, start, stop, reset, remove)');
    expect((await cli(['strategy', 'list', '--url', 'nope', '--key', 'k', '--secret', 's'])).err).toContain('--url must look like http://127.0.0.1:8080');
  });

  it('strategy remove stops and forgets a strategy', async () => {
    const r = await cli(['strategy', 'remove', 'c1', ...keyArgs]);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toBe('c1: stopped (removed) · breaker closed\n');
    const j = JSON.parse((await cli(['strategy', 'list', '--json', ...keyArgs])).out) as { strategies: { id: string }[] };
    expect(j.strategies.map((s) => s.id)).toEqual(['c2']);
  });
});

describe('tradsys serve with a bad strategies file', () => {
  const cases: [string, unknown, RegExp][] = [
    ['not JSON', '[{"id":', /strategies\.json is not valid JSON/],
    ['not an array', { id: 'x' }, /strategies\.json must hold a JSON array of strategy configurations/],
    ['a missing account', [{ id: 'a', kind: 'api-test', account: 70_021, symbols: ['AAPL'] }, { id: 'b', kind: 'api-test', symbols: ['AAPL'] }], /strategies\.json entry 1 \(b\): field "account" must be an integer in \[1, 4294967295\], got nothing/],
    ['an unknown field', [{ id: 'a', kind: 'api-test', account: 70_021, symbols: ['AAPL'], prio: 1 }], /strategies\.json entry 0 \(a\): unknown field "prio"/],
    ['a bad id', [{ id: '-a', kind: 'api-test', account: 70_021, symbols: ['AAPL'] }], /strategies\.json entry 0 \(-a\): field "id" must be 1-31 letters/],
    ['a duplicate id', [{ id: 'a', kind: 'api-test', account: 70_021, symbols: ['AAPL'] }, { id: 'a', kind: 'api-test', account: 70_022, symbols: ['AAPL'] }], /entry 1 \(a\): id a is also entry 0's/],
    ['a shared account', [{ id: 'a', kind: 'api-test', account: 70_021, symbols: ['AAPL'] }, { id: 'b', kind: 'api-test', account: 70_021, symbols: ['AAPL'] }], /entry 1 \(b\): account 70021 is also entry 0's/],
  ];
  for (const [what, body, msg] of cases) {
    it(`refuses ${what} before starting, naming the entry and field`, async () => {
      const dir = tmp();
      const r = await cli(['serve', '--port', '0', '--data', dir, '--strategies', file(dir, body), ...COMMON]);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(msg);
      expect(r.out).not.toContain('listening');
    });
  }

  it('refuses an unknown kind and bad parameters at boot (the server stops again), naming the entry', async () => {
    const dir = tmp();
    const r = await cli(['serve', '--port', '0', '--data', dir, '--strategies', file(dir, [{ id: 'a', kind: 'api-test', account: 70_031, symbols: ['AAPL'], params: { price: 18900 } }, { id: 'b', kind: 'pairz', account: 70_032, symbols: ['AAPL'] }]), ...COMMON]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/strategy 1 \(b\): .*unknown strategy kind "pairz"/);
    const p = await cli(['serve', '--port', '0', '--data', tmp(), '--strategies', file(tmp(), [{ id: 'a', kind: 'api-test', account: 70_031, symbols: ['AAPL'], params: { qty: 1 } }]), ...COMMON]);
    expect(p.code).toBe(1);
    expect(p.err).toMatch(/strategy 0 \(a\): .*price/);
  }, 60_000);

  it('refuses --no-strategies with --strategies (usage)', async () => {
    const dir = tmp();
    const r = await cli(['serve', '--data', dir, '--no-strategies', '--strategies', file(dir, [])]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('--no-strategies cannot go with --strategies');
  });
});
