/**
 * HTTP hardening over loopback: per-API-key token buckets (429 with Retry-After and a JSON body,
 * recovery after waiting, keys independent, nothing reaches the engine while limited), the
 * per-address bucket for requests without valid credentials (a flood of bad signatures is cut
 * off before any HMAC is computed), per-route body limits (413, nothing reaches the engine), and
 * `tradsys serve --http-rate-limit`.
 */
import { describe, expect, it, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { ApiKey } from '../../src/gateway/auth.js';
import { request, signed, sleep } from '../support/gateway-client.js';
import { CLI } from '../support/cli.js';
import { useGateway } from '../support/gateway-fixture.js';

const tmp = (p: string): string => mkdtempSync(join(tmpdir(), p));
const order = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ clientOrderId: id, symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '180.00', qty: '1', ...extra });

describe('per-API-key rate limit', () => {
  let gw: Gateway;
  let base: string;
  let a: ApiKey;
  let b: ApiKey;
  // slow refill: the 3 calls of a burst never earn a token back, even on a loaded machine
  useGateway({ tmpPrefix: 'gwl-', capacity: 1000, httpRateLimit: { perSecond: 0.5, burst: 3 } }, (f) => {
    ({ gw, base } = f);
    a = f.key(1);
    b = f.key(2);
  }, 60_000);

  it('answers 429 with Retry-After and a JSON body past the burst, lets other keys through, and recovers', async () => {
    for (let i = 0; i < 3; i++) expect((await signed(base, a, 'GET', '/api/v1/orders?status=open')).status).toBe(200);
    const limited = await signed(base, a, 'GET', '/api/v1/orders?status=open');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(limited.headers['content-type']).toMatch(/^application\/json/);
    expect(limited.json).toEqual({ error: 'rate_limited', message: expect.stringMatching(/for this API key; retry after \d+ s/) });
    // nothing reaches the engine while limited
    const seq = gw.host.lastSeq;
    const ordersIn = gw.counters.ordersIn;
    expect((await signed(base, a, 'POST', '/api/v1/orders', order('rl1'))).status).toBe(429);
    expect(gw.counters.ordersIn).toBe(ordersIn);
    expect(gw.orders.liveByClientId(1, 'rl1')).toBeUndefined();
    // another key has its own bucket
    expect((await signed(base, b, 'GET', '/api/v1/orders?status=open')).status).toBe(200);
    // public routes are not charged to the key
    expect((await request(base, 'GET', '/api/v1/symbols')).status).toBe(200);
    await sleep(Number(limited.headers['retry-after']) * 1000);
    const placed = await signed(base, a, 'POST', '/api/v1/orders', order('rl2'));
    expect(placed.status).toBe(201);
    expect(gw.host.lastSeq).toBeGreaterThan(seq);
  });

  it('refuses an order body over 2 KiB with 413 before authentication; nothing reaches the engine', async () => {
    await sleep(2100); // refill a's bucket (one token per 2 s)
    const seq = gw.host.lastSeq;
    const ordersIn = gw.counters.ordersIn;
    const big = JSON.stringify(order('big')) + ' '.repeat(2100);
    for (const [method, path] of [['POST', '/api/v1/orders'], ['PATCH', '/api/v1/orders/1']] as const) {
      const r = await signed(base, a, method, path, big);
      expect(r.status, `${method} ${path}`).toBe(413);
      expect(r.json).toEqual({ error: 'too_large', message: expect.any(String) });
    }
    await sleep(20);
    gw.pump();
    expect(gw.counters.ordersIn).toBe(ordersIn);
    expect(gw.host.lastSeq).toBe(seq);
    expect(gw.orders.liveByClientId(1, 'big')).toBeUndefined();
    // just under the limit (whitespace included in the signed bytes) is accepted
    const fits = JSON.stringify(order('fits')) + ' '.repeat(2048 - JSON.stringify(order('fits')).length);
    expect(Buffer.byteLength(fits)).toBe(2048);
    const ok = await signed(base, a, 'POST', '/api/v1/orders', fits);
    expect(ok.status, ok.text).toBe(201);
  });

  it('answers malformed JSON bodies with 400 bad_json in the API error form', async () => {
    await sleep(600);
    const r = await signed(base, b, 'POST', '/api/v1/orders', '{"clientOrderId":');
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ error: 'bad_json', message: 'body is not valid JSON' });
  });
});

describe('per-address rate limit for requests without valid credentials', () => {
  let gw: Gateway;
  let base: string;
  let a: ApiKey;
  useGateway({ tmpPrefix: 'gwa-', capacity: 1000, httpAddressRateLimit: { perSecond: 2, burst: 4 } }, (f) => {
    ({ gw, base } = f);
    a = f.key(1);
  }, 60_000);

  it('cuts off a flood of bad signatures before computing any HMAC, and recovers', async () => {
    const verify = vi.spyOn(gw.keys, 'verify');
    const bad = { key: a.key, secret: '0'.repeat(64) };
    for (let i = 0; i < 4; i++) expect((await signed(base, bad, 'GET', '/api/v1/orders?status=open')).status).toBe(401);
    expect(verify).toHaveBeenCalledTimes(4);
    const flood = await Promise.all(Array.from({ length: 20 }, () => signed(base, bad, 'GET', '/api/v1/orders?status=open')));
    expect(flood.map((r) => r.status)).toEqual(Array(20).fill(429));
    expect(flood[0]!.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(flood[0]!.json).toEqual({ error: 'rate_limited', message: expect.stringMatching(/from this address/) });
    // while the address is over its limit even a good signature is refused unchecked, and public routes too
    expect((await signed(base, a, 'GET', '/api/v1/orders?status=open')).status).toBe(429);
    expect((await request(base, 'GET', '/health')).status).toBe(429);
    expect(verify).toHaveBeenCalledTimes(4);
    await sleep(Number(flood[0]!.headers['retry-after']) * 1000);
    expect((await signed(base, a, 'GET', '/api/v1/orders?status=open')).status).toBe(200);
    // authenticated requests are not charged to the address
    for (let i = 0; i < 8; i++) expect((await signed(base, a, 'GET', '/api/v1/orders?status=open')).status).toBe(200);
    verify.mockRestore();
  });

  it('limits unauthenticated public requests per address', async () => {
    await sleep(2100); // full bucket (4 tokens at 2/s)
    const rs = [];
    for (let i = 0; i < 6; i++) rs.push((await request(base, 'GET', '/api/v1/symbols')).status);
    expect(rs.slice(0, 4)).toEqual([200, 200, 200, 200]);
    expect(rs).toContain(429);
  });
});

describe('tradsys serve --http-rate-limit', () => {
  it('is in the usage text and refuses bad values', () => {
    const help = spawnSync(process.execPath, [CLI, 'help'], { encoding: 'utf8' });
    expect(help.stdout).toMatch(/--http-rate-limit REQUESTS_PER_SECOND_PER_API_KEY/);
    const bad = spawnSync(process.execPath, [CLI, 'serve', '--http-rate-limit', '0', '--data', tmp('cli-')], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--http-rate-limit must be an integer in \[1, /);
  });

  it('limits a real server per key (burst = 2 × rate)', async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--no-sim', '--http-rate-limit', '1', '--data', tmp('cli-')]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      await new Promise<void>((res, rej) => {
        const t = setTimeout(() => rej(new Error(`server did not start: ${out}`)), 30_000);
        child.stdout.on('data', () => { if (out.includes('Ctrl-C')) { clearTimeout(t); res(); } });
      });
      const url = /listening on (http:\/\/\S+)/.exec(out)![1]!;
      const [, key, secret] = /key (tk_[0-9a-f]+) {2}secret ([0-9a-f]{64})/.exec(out)!;
      const k = { key: key!, secret: secret! };
      const codes = [];
      for (let i = 0; i < 3; i++) codes.push((await signed(url, k, 'GET', '/api/v1/orders?status=open')).status);
      expect(codes).toEqual([200, 200, 429]);
    } finally {
      await new Promise((res) => { child.once('exit', res); child.kill('SIGTERM'); });
    }
  }, 60_000);
});
