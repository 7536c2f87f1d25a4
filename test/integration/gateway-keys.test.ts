/**
 * Live key changes on a running gateway over loopback (issue 12 item 2): a key made by
 * `tradsys keys create` in another process works within a second; `tradsys keys revoke` closes
 * the key's open JSON and binary WebSocket sessions (close code 4001, reason "key revoked") and
 * its HTTP requests get 401, within a second; the admin key routes (POST, DELETE, GET
 * /api/v1/admin/keys) need the admin permission, take effect at once and never show secrets
 * after creation; a malformed edit of keys.json leaves the keys in force; two signed GETs in the
 * same millisecond both pass with nonces (item 4).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import WebSocket from 'ws';
import { Gateway, WS_CLOSE_KEY_REVOKED } from '../../src/gateway/gateway.js';
import { httpPayload, sign, type ApiKey } from '../../src/gateway/auth.js';
import { BinaryWriter, decodeFrame, type ServerBinMessage } from '../../src/codec/binary-protocol.js';
import { MessageQueue, WsClient, nextTs, request, signed, sleep } from '../support/gateway-client.js';
import { CLI } from '../support/cli.js';
import { useGateway } from '../support/gateway-fixture.js';

class BinClient extends MessageQueue<ServerBinMessage> {
  private readonly w = new BinaryWriter(256);
  private constructor(readonly ws: WebSocket) {
    super();
    ws.on('message', (d: Buffer) => { for (const m of decodeFrame(d, 'server')) this.push(m); });
  }
  static open(url: string): Promise<BinClient> {
    return new Promise((res, rej) => { const ws = new WebSocket(url); ws.once('open', () => res(new BinClient(ws))); ws.once('error', rej); });
  }
  async auth(k: Pick<ApiKey, 'key' | 'secret'>): Promise<ServerBinMessage> {
    const ts = nextTs();
    this.w.auth(1, k.key, ts, sign(k.secret, k.key, ts));
    this.ws.send(this.w.take()!);
    return this.next((m) => m.kind === 'auth');
  }
  closed(): Promise<{ code: number; reason: string }> {
    return new Promise((res) => this.ws.once('close', (code, reason) => res({ code, reason: reason.toString() })));
  }
}

let gw: Gateway;
let base: string;
let dataDir: string;
let admin: ApiKey;
let trader: ApiKey;
const wsUrl = (): string => base.replace('http', 'ws') + '/ws';
const cli = (...args: string[]): { status: number | null; stdout: string; stderr: string } => spawnSync(process.execPath, [CLI, 'keys', ...args, '--data', dataDir], { encoding: 'utf8' });
const logLines = (): Record<string, unknown>[] => readFileSync(join(dataDir, 'logs', 'tradsys.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

/** Polls `f` until it is true, for at most `ms`; returns the time it took (ms) or -1. */
async function within(ms: number, f: () => Promise<boolean> | boolean): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 <= ms) {
    if (await f()) return Date.now() - t0;
    await sleep(20);
  }
  return -1;
}

useGateway({ tmpPrefix: 'gwk-', capacity: 1000, logs: { stderr: false } }, (f) => {
  ({ gw, base, dataDir } = f);
  admin = f.key(9, ['admin']);
  trader = f.key(1, ['trade', 'read']);
}, 60_000);

describe('keys changed by the CLI while the server runs', () => {
  it('a key made by `tradsys keys create` is accepted within a second, over HTTP and WebSocket', async () => {
    const r = cli('create', '--account', '21', '--permissions', 'trade,read', '--json');
    expect(r.status, r.stderr).toBe(0);
    const k = JSON.parse(r.stdout) as ApiKey;
    const took = await within(1000, async () => (await signed(base, k, 'GET', '/api/v1/orders')).status === 200);
    expect(took).toBeGreaterThanOrEqual(0);
    const c = await WsClient.open(wsUrl());
    expect(await c.auth(k)).toMatchObject({ type: 'auth', ok: true, account: 21 });
    c.close();
  });

  it('`tradsys keys revoke` closes the key\'s JSON and binary sessions (4001 "key revoked") and refuses its HTTP requests, within a second; other keys are untouched', async () => {
    const made = cli('create', '--account', '22', '--json');
    const k = JSON.parse(made.stdout) as ApiKey;
    expect(await within(1000, async () => (await signed(base, k, 'GET', '/api/v1/orders')).status === 200)).toBeGreaterThanOrEqual(0);
    const json = await WsClient.open(wsUrl());
    expect(await json.auth(k)).toMatchObject({ ok: true, account: 22 });
    const bin = await BinClient.open(wsUrl() + '?protocol=binary');
    expect(await bin.auth(k)).toMatchObject({ kind: 'auth', ok: true, account: 22 });
    const other = await WsClient.open(wsUrl());
    expect(await other.auth(trader)).toMatchObject({ ok: true, account: 1 });
    const jsonClosed = json.closed();
    const binClosed = bin.closed();
    const r = cli('revoke', '--key', k.key);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`revoked ${k.key}`);
    const t0 = Date.now();
    const [jc, bc] = await Promise.all([jsonClosed, binClosed]);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(jc).toEqual({ code: WS_CLOSE_KEY_REVOKED, reason: 'key revoked' });
    expect(bc).toEqual({ code: 4001, reason: 'key revoked' });
    const h = await signed(base, k, 'GET', '/api/v1/orders');
    expect([h.status, h.json]).toEqual([401, { error: 'invalid_credentials', message: expect.any(String) }]);
    const again = await WsClient.open(wsUrl());
    expect(await again.auth(k)).toMatchObject({ ok: false, reason: 'invalid_credentials' });
    again.close();
    // the other key's session is still up and usable
    expect(await other.ask({ op: 'ping' }, 'p1')).toMatchObject({ type: 'pong' });
    other.close();
    const lines = logLines().filter((l) => l.key === k.key);
    expect(lines.filter((l) => l.audit === 'key.revoked')).toEqual([expect.objectContaining({ account: 22, source: 'file', closedSessions: 2, outcome: 'ok' })]);
    expect(lines.filter((l) => l.audit === 'ws.closed_revoked').map((l) => l.transport).sort()).toEqual(['ws', 'ws-binary']);
  });
});

describe('admin key routes', () => {
  it('only admin keys may create, list or revoke keys; nothing changes on a refusal', async () => {
    const before = readFileSync(join(dataDir, 'keys.json'), 'utf8');
    const p = await signed(base, trader, 'POST', '/api/v1/admin/keys', { account: 5, permissions: ['trade'] });
    expect([p.status, (p.json as { error: string }).error]).toEqual([403, 'forbidden']);
    expect((await signed(base, trader, 'DELETE', `/api/v1/admin/keys/${admin.key}`)).status).toBe(403);
    expect((await signed(base, trader, 'GET', '/api/v1/admin/keys')).status).toBe(403);
    expect((await request(base, 'POST', '/api/v1/admin/keys', JSON.stringify({ account: 5, permissions: ['trade'] }), { 'content-type': 'application/json' })).status).toBe(401);
    expect(readFileSync(join(dataDir, 'keys.json'), 'utf8')).toBe(before);
    for (const body of [{ account: 0, permissions: ['trade'] }, { account: 5, permissions: [] }, { account: 5, permissions: ['root'] }, { account: 5 }, { account: '5', permissions: ['trade'] }]) {
      expect((await signed(base, admin, 'POST', '/api/v1/admin/keys', body)).status, JSON.stringify(body)).toBe(400);
    }
    expect(readFileSync(join(dataDir, 'keys.json'), 'utf8')).toBe(before);
  });

  it('POST creates a key in force at once (secret shown once, file 0600); DELETE revokes it and closes its sessions; GET lists without secrets', async () => {
    const p = await signed(base, admin, 'POST', '/api/v1/admin/keys', { account: 31, permissions: ['trade', 'read'] });
    expect(p.status).toBe(201);
    const k = p.json as ApiKey;
    expect(k).toEqual({ key: expect.stringMatching(/^tk_[0-9a-f]{24}$/), secret: expect.stringMatching(/^[0-9a-f]{64}$/), account: 31, permissions: ['trade', 'read'], created: expect.any(String) });
    expect(statSync(join(dataDir, 'keys.json')).mode & 0o777).toBe(0o600);
    expect((await signed(base, k, 'GET', '/api/v1/orders')).status).toBe(200); // no wait: in force at once
    const c = await WsClient.open(wsUrl());
    expect(await c.auth(k)).toMatchObject({ ok: true, account: 31 });
    const list = await signed(base, admin, 'GET', '/api/v1/admin/keys');
    expect(list.status).toBe(200);
    expect(list.text).not.toContain(k.secret);
    expect(list.text).not.toContain('secret');
    expect((list.json as { keys: { key: string }[] }).keys.map((x) => x.key)).toContain(k.key);
    const closed = c.closed();
    const d = await signed(base, admin, 'DELETE', `/api/v1/admin/keys/${k.key}`);
    expect([d.status, d.json]).toEqual([200, { key: k.key, account: 31, revoked: expect.any(String), closedSessions: 1 }]);
    expect(await closed).toEqual({ code: 4001, reason: 'key revoked' });
    expect((await signed(base, k, 'GET', '/api/v1/orders')).status).toBe(401);
    const twice = await signed(base, admin, 'DELETE', `/api/v1/admin/keys/${k.key}`);
    expect([twice.status, (twice.json as { error: string }).error]).toEqual([404, 'unknown_key']);
    expect((await signed(base, admin, 'DELETE', '/api/v1/admin/keys/tk_nope')).status).toBe(404);
    // the CLI sees the revocation in the file
    const l = cli('list', '--json');
    expect((JSON.parse(l.stdout) as { key: string; revoked?: string }[]).find((x) => x.key === k.key)?.revoked).toEqual(expect.any(String));
    const created = logLines().filter((x) => x.key === k.key && x.audit === 'key.created');
    expect(created).toEqual([expect.objectContaining({ account: 31, source: 'api', by: { account: 9, key: admin.key }, ip: '127.0.0.1', outcome: 'ok' })]);
  });

  it('a malformed edit of keys.json keeps the keys in force (logged); a valid edit is applied', async () => {
    const path = join(dataDir, 'keys.json');
    const good = readFileSync(path, 'utf8');
    writeFileSync(path, good.slice(0, good.length / 2));
    await sleep(600);
    expect((await signed(base, trader, 'GET', '/api/v1/orders')).status).toBe(200);
    expect((await signed(base, admin, 'POST', '/api/v1/admin/keys', { account: 5, permissions: ['trade'] })).status).toBe(500); // never written over a file it cannot read
    expect(readFileSync(path, 'utf8')).toBe(good.slice(0, good.length / 2));
    expect(logLines().filter((l) => l.audit === 'keys.file_invalid')).toEqual([expect.objectContaining({ outcome: 'kept_last_good', error: expect.stringMatching(/not valid JSON.*keeping the \d+ active keys in force/) })]);
    // a valid edit removing the trader key revokes it
    const doc = JSON.parse(good) as { keys: ApiKey[] };
    doc.keys = doc.keys.filter((x) => x.key !== trader.key);
    writeFileSync(path, JSON.stringify(doc));
    expect(await within(1000, async () => (await signed(base, trader, 'GET', '/api/v1/orders')).status === 401)).toBeGreaterThanOrEqual(0);
    expect((await signed(base, admin, 'GET', '/api/v1/admin/keys')).status).toBe(200);
    trader = gw.keys.create(1, ['trade', 'read']);
  });
});

describe('signed requests in the same millisecond', () => {
  it('two identical GETs with one ts: without a nonce the second is a replay; with distinct nonces both pass', async () => {
    const path = '/api/v1/orders?status=open';
    const ts = nextTs();
    const a = await signed(base, trader, 'GET', path, undefined, { ts });
    const b = await signed(base, trader, 'GET', path, undefined, { ts });
    expect([a.status, b.status, (b.json as { error: string }).error]).toEqual([200, 401, 'replay']);
    const ts2 = nextTs();
    const withNonce = (nonce: string, sigNonce = nonce): Promise<{ status: number; json: unknown }> =>
      request(base, 'GET', path, undefined, { 'x-ts-key': trader.key, 'x-ts-ts': String(ts2), 'x-ts-nonce': nonce, 'x-ts-sig': sign(trader.secret, trader.key, ts2, httpPayload('GET', path, '', sigNonce)) });
    expect((await withNonce('n1')).status).toBe(200);
    expect((await withNonce('n2')).status).toBe(200);
    expect((await withNonce('n1')).json).toMatchObject({ error: 'replay' });
    expect((await withNonce('n3', 'n4')).json).toMatchObject({ error: 'invalid_credentials' });
    expect((await withNonce('bad:nonce')).json).toMatchObject({ error: 'malformed' });
    expect((await withNonce('x'.repeat(65))).json).toMatchObject({ error: 'malformed' });
  });

  it('WebSocket auth takes a nonce too (signing key + ts + ":" + nonce)', async () => {
    const ts = nextTs();
    const cs = await Promise.all([WsClient.open(wsUrl()), WsClient.open(wsUrl())]);
    const answers = await Promise.all(cs.map((c, i) => c.ask({ op: 'auth', key: trader.key, ts, nonce: `c${i}`, sig: sign(trader.secret, trader.key, ts, `:c${i}`) }, 'a')));
    expect(answers).toEqual([{ type: 'auth', ok: true, account: 1, reqId: 'a' }, { type: 'auth', ok: true, account: 1, reqId: 'a' }]);
    const c3 = await WsClient.open(wsUrl());
    expect(await c3.ask({ op: 'auth', key: trader.key, ts, nonce: 'c0', sig: sign(trader.secret, trader.key, ts, ':c0') }, 'b')).toMatchObject({ ok: false, reason: 'replay' });
    expect(await c3.ask({ op: 'auth', key: trader.key, ts, nonce: 'a:b', sig: sign(trader.secret, trader.key, ts, ':a:b') }, 'c')).toMatchObject({ type: 'error', code: 'bad_field' });
    for (const c of [...cs, c3]) c.close();
  });
});
