/**
 * The audit log (issue 12 item 5) read back from `<data>/logs/tradsys.log` after real attacks on a
 * gateway over loopback: a wrong signature, an unknown key, a replay, a stale timestamp, a
 * missing header, a trade key calling an admin route, failed WebSocket logins (JSON and binary), a
 * read-only key sending orders, admin actions, key creation and revocation through the API and
 * through the CLI, a slow consumer closed. Each event is exactly one JSON line with who (account, key), from where (ip),
 * what and the outcome; no secret and no signature appears anywhere in the log; lines written
 * through the fastify logger by other parts (analyst queries) land in the same file; per-request
 * lines are off; the size cap holds under a flood.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import { Gateway } from '../../src/gateway/gateway.js';
import { sign, type ApiKey } from '../../src/gateway/auth.js';
import { CappedFile, scrubUrl } from '../../src/gateway/audit-log.js';
import { BinaryWriter, decodeFrame, type ServerBinMessage } from '../../src/codec/binary-protocol.js';
import { WsClient, nextTs, request, signed, sleep } from '../support/gateway-client.js';
import { CLI } from '../support/cli.js';
import { useGateway } from '../support/gateway-fixture.js';

type Line = Record<string, unknown>;
let gw: Gateway;
let base: string;
let dataDir: string;
let admin: ApiKey;
let trader: ApiKey;
let reader: ApiKey;
/** Every secret and signature the test sends: none may appear in the log. */
const secrets: string[] = [];
const wsUrl = (): string => base.replace('http', 'ws') + '/ws';
const logText = (dir = dataDir): string => readFileSync(join(dir, 'logs', 'tradsys.log'), 'utf8');
const lines = (dir = dataDir): Line[] => logText(dir).trim().split('\n').map((l) => JSON.parse(l) as Line);
const audit = (name: string, f: (l: Line) => boolean = () => true): Line[] => lines().filter((l) => l.audit === name && f(l));

async function signedKeep(k: Pick<ApiKey, 'key' | 'secret'>, method: string, path: string, body?: unknown, opts: { ts?: number; sig?: string } = {}): Promise<{ status: number; json: unknown }> {
  const ts = opts.ts ?? nextTs();
  const sig = opts.sig ?? sign(k.secret, k.key, ts, method + path + (body === undefined ? '' : JSON.stringify(body)));
  secrets.push(sig);
  return signed(base, k, method, path, body, { ts, sig });
}

useGateway({ tmpPrefix: 'gwl-', capacity: 1000, logs: { stderr: false } }, (f) => {
  ({ gw, base, dataDir } = f);
  admin = f.key(9, ['admin']);
  trader = f.key(1, ['trade', 'read']);
  reader = f.key(2, ['read']);
  secrets.push(admin.secret, trader.secret, reader.secret);
}, 60_000);

describe('audit lines after real attacks', () => {
  it('HTTP: wrong signature, unknown key, replay, stale, missing header → one auth.failure line each, with the reason', async () => {
    const before = audit('auth.failure').length;
    const path = '/api/v1/orders?status=open';
    expect((await signedKeep({ key: trader.key, secret: 'f'.repeat(64) }, 'GET', path)).status).toBe(401);
    expect((await signedKeep({ key: 'tk_attacker00000000000000', secret: trader.secret }, 'GET', path)).status).toBe(401);
    const ts = nextTs();
    expect((await signedKeep(trader, 'GET', path, undefined, { ts })).status).toBe(200);
    expect((await signedKeep(trader, 'GET', path, undefined, { ts })).status).toBe(401);
    expect((await signedKeep(trader, 'GET', path, undefined, { ts: Date.now() - 60_000 })).status).toBe(401);
    expect((await request(base, 'GET', path, undefined, { 'x-ts-key': trader.key })).status).toBe(401);
    const got = audit('auth.failure').slice(before);
    expect(got.map((l) => l.reason)).toEqual(['bad_signature', 'unknown_key', 'replay', 'stale_timestamp', 'malformed']);
    for (const l of got) {
      expect(l).toMatchObject({ level: 40, ip: '127.0.0.1', transport: 'http', outcome: 'denied', method: 'GET', url: path });
      expect(typeof l.time).toBe('string');
    }
    expect(got[0]).toMatchObject({ account: 1, key: trader.key });
    expect(got[1]).toMatchObject({ account: null, key: 'tk_attacker00000000000000' });
    // the successful GET wrote nothing: no per-request lines
    expect(lines().some((l) => l.url === path && l.audit === undefined)).toBe(false);
    expect(lines().some((l) => /incoming request|request completed/.test(String(l.msg)))).toBe(false);
  });

  it('a trade key calling admin routes → permission.denied; admin halt → admin.halt with its outcome', async () => {
    const before = audit('permission.denied').length;
    expect((await signedKeep(trader, 'POST', '/api/v1/admin/halt', { symbol: 'AAPL', halted: true })).status).toBe(403);
    expect((await signedKeep(trader, 'POST', '/api/v1/admin/keys', { account: 1, permissions: ['admin'] })).status).toBe(403);
    expect(audit('permission.denied').slice(before)).toEqual([
      expect.objectContaining({ account: 1, key: trader.key, ip: '127.0.0.1', outcome: 'denied', need: 'admin', method: 'POST', url: '/api/v1/admin/halt' }),
      expect.objectContaining({ account: 1, key: trader.key, outcome: 'denied', need: 'admin', url: '/api/v1/admin/keys' }),
    ]);
    expect((await signedKeep(admin, 'POST', '/api/v1/admin/halt', { symbol: 'AAPL', halted: true })).status).toBe(200);
    expect((await signedKeep(admin, 'POST', '/api/v1/admin/halt', { symbol: 'AAPL', halted: false })).status).toBe(200);
    expect((await signedKeep(admin, 'POST', '/api/v1/admin/kill', { account: 77, on: false })).status).toBe(200);
    expect(audit('admin.halt')).toEqual([
      expect.objectContaining({ level: 30, account: 9, key: admin.key, ip: '127.0.0.1', outcome: 'ok', symbol: 'AAPL', halted: true, seq: expect.any(Number) }),
      expect.objectContaining({ outcome: 'ok', symbol: 'AAPL', halted: false }),
    ]);
    expect(audit('admin.kill')).toEqual([expect.objectContaining({ account: 9, key: admin.key, outcome: 'ok', target: 77, on: false })]);
  });

  it('WebSocket: failed logins (JSON and binary) → auth.failure; a login → auth.success; a read-only key sending orders → one permission.denied (then every 100th)', async () => {
    const before = audit('auth.failure').length;
    const c = await WsClient.open(wsUrl());
    const ts = nextTs();
    const bad = sign('e'.repeat(64), reader.key, ts);
    secrets.push(bad);
    expect(await c.ask({ op: 'auth', key: reader.key, ts, sig: bad }, 1)).toMatchObject({ ok: false, reason: 'invalid_credentials' });
    const ws = new WebSocket(wsUrl() + '?protocol=binary');
    await new Promise((r) => ws.once('open', r));
    const got: ServerBinMessage[] = [];
    ws.on('message', (d: Buffer) => got.push(...decodeFrame(d, 'server')));
    const w = new BinaryWriter();
    const t2 = nextTs();
    const bad2 = sign(reader.secret, 'tk_binary_attacker', t2);
    secrets.push(bad2);
    w.auth(1, 'tk_binary_attacker', t2, bad2);
    ws.send(w.take()!);
    for (let i = 0; i < 100 && got.length === 0; i++) await sleep(10);
    expect(got[0]).toMatchObject({ kind: 'auth', ok: false });
    ws.close();
    expect(audit('auth.failure').slice(before)).toEqual([
      expect.objectContaining({ account: 2, key: reader.key, ip: '127.0.0.1', transport: 'ws', outcome: 'denied', reason: 'bad_signature' }),
      expect.objectContaining({ account: null, key: 'tk_binary_attacker', transport: 'ws-binary', outcome: 'denied', reason: 'unknown_key' }),
    ]);
    expect(await c.auth(reader)).toMatchObject({ ok: true });
    expect(audit('auth.success', (l) => l.key === reader.key)).toEqual([expect.objectContaining({ account: 2, ip: '127.0.0.1', transport: 'ws', outcome: 'ok' })]);
    for (let i = 0; i < 5; i++) await c.ask({ op: 'cancel', orderId: '1' }, `d${i}`);
    expect(audit('permission.denied', (l) => l.key === reader.key)).toEqual([expect.objectContaining({ account: 2, transport: 'ws', need: 'trade', op: 'cancel', count: 1, outcome: 'denied' })]);
    c.close();
  });

  it('key created and revoked through the API and through the CLI: one key.* line each (who, source), plus one ws.closed_revoked per session', async () => {
    const p = await signedKeep(admin, 'POST', '/api/v1/admin/keys', { account: 40, permissions: ['read'] });
    const k = p.json as ApiKey;
    secrets.push(k.secret);
    const c = await WsClient.open(wsUrl());
    expect(await c.auth(k)).toMatchObject({ ok: true });
    const closed = c.closed();
    expect((await signedKeep(admin, 'DELETE', `/api/v1/admin/keys/${k.key}`)).status).toBe(200);
    await closed;
    const r = spawnSync(process.execPath, [CLI, 'keys', 'create', '--account', '41', '--data', dataDir, '--json'], { encoding: 'utf8' });
    const k2 = JSON.parse(r.stdout) as ApiKey;
    secrets.push(k2.secret);
    expect(spawnSync(process.execPath, [CLI, 'keys', 'revoke', '--key', k2.key, '--data', dataDir]).status).toBe(0);
    for (let i = 0; i < 50 && audit('key.revoked', (l) => l.key === k2.key).length === 0; i++) await sleep(40);
    expect(audit('key.created', (l) => l.key === k.key)).toEqual([expect.objectContaining({ level: 30, account: 40, ip: '127.0.0.1', outcome: 'ok', source: 'api', by: { account: 9, key: admin.key }, permissions: ['read'] })]);
    expect(audit('key.revoked', (l) => l.key === k.key)).toEqual([expect.objectContaining({ account: 40, source: 'api', by: { account: 9, key: admin.key }, closedSessions: 1 })]);
    expect(audit('ws.closed_revoked', (l) => l.key === k.key)).toEqual([expect.objectContaining({ account: 40, ip: '127.0.0.1', outcome: 'closed', reason: 'key revoked' })]);
    // the CLI ran while this test's event loop was blocked (spawnSync): the server saw the key
    // only once, already revoked, and still reports both changes, one line each
    expect(audit('key.created', (l) => l.key === k2.key)).toEqual([expect.objectContaining({ account: 41, source: 'file', outcome: 'ok' })]);
    expect(audit('key.revoked', (l) => l.key === k2.key)).toEqual([expect.objectContaining({ account: 41, source: 'file', outcome: 'ok', closedSessions: 0 })]);
  });

  it('lines from other parts through the fastify logger (analyst queries) land in the same file; redacted fields never do', () => {
    gw.app.log.info({ audit: 'analyst_query', account: 3, key: 'tk_q', ip: '127.0.0.1', outcome: 'ok', sql: 'SELECT 1', rows: 1, bytes: 2, durationMs: 1 }, 'analyst query');
    gw.app.log.warn({ audit: 'redaction_probe', secret: 'S3CRET-PROBE', sig: 'SIG-PROBE', keys: [{ key: 'k', secret: 'S3CRET-IN-LIST' }], req: { headers: { authorization: 'Basic QUJD', 'x-ts-sig': 'SIG-HEADER' } }, password: 'PW-PROBE' }, 'probe');
    expect(audit('analyst_query')).toEqual([expect.objectContaining({ account: 3, sql: 'SELECT 1', rows: 1 })]);
    const text = logText();
    for (const s of ['S3CRET-PROBE', 'SIG-PROBE', 'S3CRET-IN-LIST', 'QUJD', 'SIG-HEADER', 'PW-PROBE']) expect(text).not.toContain(s);
    expect(audit('redaction_probe')[0]).toMatchObject({ secret: '[redacted]', sig: '[redacted]', password: '[redacted]' });
    expect(scrubUrl('/?query=SELECT+1&password=hunter2&user=a&sig=abc')).toBe('/?query=SELECT+1&password=[redacted]&user=a&sig=[redacted]');
    expect(scrubUrl('/clickhouse/?query=SELECT+{p:String}&param_p=s3cret-value&PARAM_q=x')).toBe('/clickhouse/?query=SELECT+{p:String}&param_p=[redacted]&PARAM_q=[redacted]');
  });

  it('no secret and no signature sent in this file appears anywhere in the log; the log file is 0600', () => {
    const text = logText();
    expect(secrets.length).toBeGreaterThan(15);
    for (const s of secrets) expect(text).not.toContain(s);
    expect(text).not.toMatch(/"secret":"[0-9a-f]/);
    expect(statSync(join(dataDir, 'logs', 'tradsys.log')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'logs')).mode & 0o777).toBe(0o700);
  });
});

describe('slow consumers', () => {
  it('a session closed as a slow consumer (1008) is one ws.slow_consumer line with who and how much was buffered', async () => {
    // hard limit 0 with compression of every frame: the second frame queued while the first is
    // still being deflated puts the connection over its limit
    const d = mkdtempSync(join(tmpdir(), 'gwl3-'));
    const g = await Gateway.build({ dataDir: d, capacity: 100, logs: { stderr: false }, buffer: { soft: 0, hard: 0 }, compressThreshold: 0 });
    try {
      const b = await g.listen(0);
      const k = g.keys.create(6, ['read']);
      const c = await WsClient.open(b.replace('http', 'ws') + '/ws?compress=1');
      expect(await c.auth(k)).toMatchObject({ ok: true });
      const closed = c.closed();
      c.send({ op: 'subscribe', channels: ['book.AAPL', 'ticker.AAPL', 'trades.AAPL'] });
      expect(await closed).toEqual({ code: 1008, reason: 'slow consumer' });
      expect(lines(d).filter((l) => l.audit === 'ws.slow_consumer')).toEqual([
        expect.objectContaining({ level: 40, account: 6, key: k.key, ip: '127.0.0.1', outcome: 'closed', bufferedBytes: expect.any(Number), limitBytes: 0 }),
      ]);
    } finally { await g.close(); }
  });
});

describe('size cap', () => {
  it('CappedFile rotates before the cap and keeps `files` older files: the folder never holds more than (files + 1) × fileBytes', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'caplog-')), 'logs');
    const f = new CappedFile(dir, { fileBytes: 4096, files: 2 });
    for (let i = 0; i < 1000; i++) f.write(JSON.stringify({ i, pad: 'x'.repeat(50 + (i % 40)) }) + '\n');
    f.write(JSON.stringify({ huge: 'y'.repeat(10_000) }) + '\n');
    f.write(JSON.stringify({ i: 'last' }) + '\n');
    f.close();
    expect(readdirSync(dir).sort()).toEqual(['tradsys.log', 'tradsys.log.1', 'tradsys.log.2']);
    for (const n of readdirSync(dir)) {
      const t = readFileSync(join(dir, n), 'utf8');
      expect(Buffer.byteLength(t), n).toBeLessThanOrEqual(4096);
      for (const l of t.trim().split('\n')) JSON.parse(l); // whole lines only
    }
    const cur = readFileSync(join(dir, 'tradsys.log'), 'utf8');
    expect(cur).toContain('"i":"last"');
    expect(cur).toContain('log line longer than the file cap, shortened');
    expect(() => new CappedFile(dir, { fileBytes: 100 })).toThrow(/fileBytes must be an integer ≥ 4096/);
  });

  it('a flood of bad signatures against a gateway with a small cap stays within it, newest lines kept', async () => {
    const d = mkdtempSync(join(tmpdir(), 'gwl2-'));
    const g = await Gateway.build({ dataDir: d, capacity: 100, logs: { stderr: false, fileBytes: 8192, files: 1 }, httpAddressRateLimit: { perSecond: 1e6, burst: 1e6 } });
    try {
      const b = await g.listen(0);
      const k = g.keys.create(1);
      for (let i = 0; i < 120; i++) await signed(b, { key: k.key, secret: '0'.repeat(64) }, 'GET', `/api/v1/fills?limit=${i + 1}`);
      const files = readdirSync(join(d, 'logs')).sort();
      expect(files).toEqual(['tradsys.log', 'tradsys.log.1']);
      let total = 0;
      for (const n of files) total += statSync(join(d, 'logs', n)).size;
      expect(total).toBeLessThanOrEqual(2 * 8192);
      const last = lines(d).at(-1)!;
      expect(last).toMatchObject({ audit: 'auth.failure', url: '/api/v1/fills?limit=120' });
    } finally { await g.close(); }
  });
});
