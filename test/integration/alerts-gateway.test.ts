/**
 * Alerts and memory on a served gateway (loopback, real sockets, journal with fsync):
 * GET /api/v1/alerts and the `alerts` WebSocket channel for admin keys only; an induced slowdown
 * (the engine-delay test hook: every engine batch sleeps) makes the ack p99 alert and the engine
 * stall alert fire, and lifting it resolves them — seen in the log, GET /api/v1/alerts, the WS
 * channel and a webhook receiver on loopback (whose first answer is a 503, so the retry is used);
 * the memory series on /metrics carry the engine thread's report; the heap snapshot route; a
 * gateway without test hooks has no engine-delay route and refuses a snapshot on a "full" disk.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { WsClient, type Msg } from '../support/gateway-client.js';
import { startGateway, useGateway, type GatewayFixture } from '../support/gateway-fixture.js';
import { signedCaller, type Json } from '../support/signed-http.js';
import { sampleValue } from '../support/prom-text.js';
import type { ApiKey } from '../../src/gateway/auth.js';
import type { AlertEvent } from '../../src/monitoring/alerts.js';
import { TradsysError } from '../../src/domain/errors.js';

// the webhook receiver: records every POST; answers the first with 503 (the sink retries it)
const hooks: { body: { source: string; alert: AlertEvent } }[] = [];
let hookRequests = 0;
const receiver: Server = createServer((req, res) => {
  let b = '';
  req.on('data', (c: Buffer) => { b += c.toString(); });
  req.on('end', () => {
    hookRequests++;
    if (hookRequests === 1) { res.writeHead(503).end(); return; }
    hooks.push({ body: JSON.parse(b) as { source: string; alert: AlertEvent } });
    res.writeHead(204).end();
  });
});
afterAll(() => { receiver.closeAllConnections(); receiver.close(); });
const hookUrl = await new Promise<string>((res) => receiver.listen(0, '127.0.0.1', () => res(`http://127.0.0.1:${(receiver.address() as { port: number }).port}/hook`)));

// wide margins: the test machine is shared, so a fast ack or an engine turn can take tens of ms
const ACK_THRESHOLD_US = 500_000;
const DELAY_MS = 1000;
let f: GatewayFixture;
let admin: ApiKey;
let trader: ApiKey;
const call = signedCaller(() => f.base);
useGateway({
  tmpPrefix: 'alerts-', capacity: 100_000, testHooks: true, risk: { maxOpenOrders: 0 }, rateLimit: { perSecond: 100_000, burst: 100_000 }, logs: { stderr: false },
  monitoring: {
    alertIntervalMs: 250,
    alerts: {
      rules: [
        { name: 'ack_p99_high', kind: 'latency', stage: 'order_to_ack', percentile: 0.99, window: 'minute', op: '>', threshold: ACK_THRESHOLD_US, forMs: 500, severity: 'critical' },
        { name: 'engine_loop_stall', kind: 'metric', metric: 'tradsys_event_loop_delay_max_seconds', labels: { thread: 'engine' }, op: '>', threshold: 0.5, forMs: 500, severity: 'warning' },
      ],
      webhooks: [{ url: hookUrl, retries: 3, backoffMs: 50, timeoutMs: 2000 }],
    },
  },
}, (x) => { f = x; admin = f.key(9, ['admin', 'read']); trader = f.key(1, ['trade', 'read']); }, 60_000);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, get: () => Promise<T> | T, ok: (v: T) => boolean, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(v)}`);
    await sleep(50);
  }
}
const alerts = async (): Promise<{ active: Json[]; history: Json[] }> => (await call(admin, 'GET', '/api/v1/alerts')).json as unknown as { active: Json[]; history: Json[] };

let n = 0;
/** Sends `k` orders at once and waits for their acks. */
async function orders(c: WsClient, k: number): Promise<void> {
  const ids: string[] = [];
  for (let i = 0; i < k; i++) { const id = `o${n++}`; ids.push(id); c.send({ op: 'order', clientOrderId: id, symbol: 'BTC-USD', side: 'buy', type: 'limit', tif: 'gtc', price: '60000', qty: '1' }); }
  for (const id of ids) await c.next((x: Msg) => x.type === 'ack' && x.clientOrderId === id, 10_000);
}

describe('alerts on a served gateway', () => {
  it('GET /api/v1/alerts and the alerts channel are for admin keys only', async () => {
    expect((await call(trader, 'GET', '/api/v1/alerts')).status).toBe(403);
    const r = await call(admin, 'GET', '/api/v1/alerts');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ active: [], history: [] });
    expect((r.json.rules as Json[]).map((x) => x.name)).toEqual(['ack_p99_high', 'engine_loop_stall']);

    const anon = f.client(await WsClient.open(f.wsUrl));
    expect(await anon.ask({ op: 'subscribe', channels: ['alerts'] }, 1)).toMatchObject({ type: 'error', code: 'not_authenticated' });
    const t = f.client(await WsClient.open(f.wsUrl));
    await t.auth(trader);
    expect(await t.ask({ op: 'subscribe', channels: ['alerts', 'book.BTC-USD'] }, 2)).toMatchObject({ type: 'error', code: 'forbidden' });
    expect(t.msgs.filter((m) => m.type === 'book')).toEqual([]); // nothing of the message applied
    expect(await t.ask({ op: 'subscribe', channels: ['alerts:x'] }, 3)).toMatchObject({ type: 'error', code: 'bad_field' });
    const a = f.client(await WsClient.open(f.wsUrl));
    await a.auth(admin);
    expect(await a.ask({ op: 'subscribe', channels: ['alerts'] }, 4)).toMatchObject({ type: 'subscribed', channels: ['alerts'], ok: true });
    expect(await a.next((m) => m.type === 'alerts')).toEqual({ type: 'alerts', active: [] });
    expect(await a.ask({ op: 'unsubscribe', channels: ['alerts'] }, 5)).toMatchObject({ type: 'subscribed', ok: false });
  });

  it('an induced engine slowdown fires the ack p99 and engine stall alerts; lifted, they resolve (log, GET, WS, webhook)', async () => {
    const ws = f.client(await WsClient.open(f.wsUrl));
    await ws.auth(admin);
    await ws.ask({ op: 'subscribe', channels: ['alerts'] }, 'sub');
    const c = f.client(await WsClient.open(f.wsUrl));
    await c.auth(trader);
    await orders(c, 20); // fast acks first
    expect((await alerts()).active).toEqual([]);

    expect((await call(trader, 'POST', '/api/v1/admin/test/engine-delay', { ms: DELAY_MS })).status).toBe(403);
    expect((await call(admin, 'POST', '/api/v1/admin/test/engine-delay', { ms: DELAY_MS })).json).toEqual({ ok: true, ms: DELAY_MS });
    // one order in flight at a time: each waits for a slow batch
    const t0 = Date.now();
    let firing: Json[] = [];
    while (Date.now() - t0 < 30_000) {
      await orders(c, 1);
      firing = (await alerts()).active.filter((a) => a.state === 'firing');
      if (firing.length === 2) break;
    }
    expect(firing.map((a) => a.rule).sort()).toEqual(['ack_p99_high', 'engine_loop_stall']);
    const ack = firing.find((a) => a.rule === 'ack_p99_high')!;
    expect(ack).toMatchObject({ severity: 'critical', op: '>', threshold: ACK_THRESHOLD_US, subject: 'latency:order_to_ack:p99:minute' });
    expect(ack.value as number).toBeGreaterThan(DELAY_MS * 1000 * 0.9);
    expect(Date.parse(ack.firingSince as string) - Date.parse(ack.activeSince as string)).toBeGreaterThanOrEqual(500);

    // lifted: fast orders push the slow ones under 1 % of the minute window; the stall is gone at the next report
    expect((await call(admin, 'POST', '/api/v1/admin/test/engine-delay', { ms: 0 })).json).toEqual({ ok: true, ms: 0 });
    const t1 = Date.now();
    let active: Json[] = firing;
    while (active.length > 0 && Date.now() - t1 < 40_000) {
      await orders(c, 50);
      active = (await alerts()).active;
    }
    expect(active).toEqual([]);
    const history = (await alerts()).history;
    for (const rule of ['ack_p99_high', 'engine_loop_stall']) {
      expect(history.filter((h) => h.rule === rule).map((h) => h.state)).toEqual(['firing', 'resolved']);
    }
    const resolved = history.find((h) => h.rule === 'ack_p99_high' && h.state === 'resolved')!;
    expect(resolved.value as number).toBeLessThanOrEqual(ACK_THRESHOLD_US);

    // the WS channel: one message per firing and resolved transition, in order per rule
    for (const rule of ['ack_p99_high', 'engine_loop_stall']) {
      expect((await ws.next((m) => m.type === 'alert' && (m.alert as Json).rule === rule)).alert).toMatchObject({ rule, state: 'firing' });
      expect((await ws.next((m) => m.type === 'alert' && (m.alert as Json).rule === rule)).alert).toMatchObject({ rule, state: 'resolved' });
    }
    // the webhook: the same four events, the first after one retry (its first answer was 503)
    await until('4 webhook deliveries', () => hooks.length, (k) => k >= 4, 10_000);
    expect(hooks.every((h) => h.body.source === 'tradsys')).toBe(true);
    expect(hooks.map((h) => `${h.body.alert.rule}:${h.body.alert.state}`).sort()).toEqual(['ack_p99_high:firing', 'ack_p99_high:resolved', 'engine_loop_stall:firing', 'engine_loop_stall:resolved']);
    expect(hookRequests).toBe(5);
    const sink = f.gw.app.tradsys.monitoring.webhooks[0]!;
    expect(sink.counts).toMatchObject({ sent: 4, failed: 0, dropped: 0, attempts: 5 });
    expect(sampleValue(await (await fetch(`${f.base}/metrics`)).text(), 'tradsys_alert_webhook_deliveries_total', { outcome: 'sent' })).toBe(4);
    // the log: pending, firing, resolved lines with the audit field
    const lines = readFileSync(join(f.dataDir, 'logs', 'tradsys.log'), 'utf8').split('\n').filter((l) => l.includes('"alert.')).map((l) => JSON.parse(l) as Json);
    for (const rule of ['ack_p99_high', 'engine_loop_stall']) {
      expect(lines.filter((l) => l.rule === rule).map((l) => l.audit)).toEqual(['alert.pending', 'alert.firing', 'alert.resolved']);
    }
    expect(lines.find((l) => l.audit === 'alert.firing' && l.rule === 'ack_p99_high')).toMatchObject({ level: 50, severity: 'critical', outcome: 'firing' });
  }, 120_000);

  it('/metrics carries the memory series, with the engine thread\'s report', async () => {
    // every order rests: the engine thread's report (once a second) shows them all
    const text = await until('an engine memory report with every order', async () => (await fetch(`${f.base}/metrics`)).text(), (t) => sampleValue(t, 'tradsys_engine_pool_in_use', { pool: 'orders' }) === n, 5000);
    expect(sampleValue(text, 'tradsys_engine_pool_high_water', { pool: 'orders' })).toBe(n);
    expect(sampleValue(text, 'tradsys_engine_pool_in_use', { pool: 'levels' })).toBe(1); // one price
    expect(sampleValue(text, 'tradsys_engine_pool_capacity', { pool: 'orders' })).toBeGreaterThanOrEqual(100_000);
    expect(sampleValue(text, 'tradsys_wasm_memory_bytes', { thread: 'engine', role: 'book' })).toBeGreaterThan(1 << 20);
    expect(sampleValue(text, 'tradsys_thread_heap_used_bytes', { thread: 'engine' })).toBeGreaterThan(0);
    for (const m of ['tradsys_heap_used_bytes', 'tradsys_heap_total_bytes', 'tradsys_rss_bytes', 'tradsys_journal_disk_free_bytes']) expect(sampleValue(text, m), m).toBeGreaterThan(0);
    expect(sampleValue(text, 'tradsys_ring_fill_ratio', { ring: 'command' })).toBe(0); // idle: every command sequenced
    expect(sampleValue(text, 'tradsys_event_loop_delay_p99_seconds', { thread: 'main' })).toBeGreaterThan(0);
    expect(sampleValue(text, 'tradsys_alerts_active', { state: 'firing', severity: 'critical' })).toBe(0);
    expect(text).toMatch(/tradsys_gc_pause_seconds_bucket\{le="0\.001",kind="/);
    expect(await f.gw.metrics.read('tradsys_engine_pool_in_use', { pool: 'orders' })).toBe(n);
  }, 20_000);

  it('POST /api/v1/admin/heap-snapshot writes a .heapsnapshot into the data folder and answers its path (admin only)', async () => {
    expect((await call(trader, 'POST', '/api/v1/admin/heap-snapshot')).status).toBe(403);
    const r = await call(admin, 'POST', '/api/v1/admin/heap-snapshot');
    expect(r.status).toBe(200);
    const path = r.json.path as string;
    expect(path.startsWith(f.dataDir + '/heap-')).toBe(true);
    expect(path.endsWith('.heapsnapshot')).toBe(true);
    expect(existsSync(path)).toBe(true);
    expect(statSync(path).size).toBe(r.json.bytes);
    expect(readFileSync(path, 'utf8').slice(0, 20)).toMatch(/^\{"snapshot":/);
    const log = readFileSync(join(f.dataDir, 'logs', 'tradsys.log'), 'utf8');
    expect(log).toContain('"audit":"admin.heap_snapshot"');
    rmSync(path); // tens of MB
  }, 60_000);
});

describe('a gateway without test hooks', () => {
  it('has no engine-delay route, refuses the hook itself, and refuses a heap snapshot when the disk is "full"', async () => {
    const g = await startGateway({ tmpPrefix: 'alerts-off-', capacity: 10_000, logs: { stderr: false }, monitoring: { heapSnapshotMinFreeBytes: Number.MAX_SAFE_INTEGER } });
    try {
      const k = g.key(9, ['admin']);
      const c = signedCaller(() => g.base);
      expect((await c(k, 'POST', '/api/v1/admin/test/engine-delay', { ms: 100 })).status).toBe(404);
      expect(() => g.gw.host.setTestDelay(100)).toThrow(TradsysError);
      const r = await c(k, 'POST', '/api/v1/admin/heap-snapshot');
      expect(r.status).toBe(507);
      expect(r.json.error).toBe('ERR_MONITOR_DISK_SPACE');
      expect(r.json.message).toMatch(/has [\d.]+ MiB free; a heap snapshot needs at least [\d.]+ MiB/);
    } finally {
      await g.close();
    }
  }, 30_000);
});

describe('a gateway with storage (embedded chDB)', () => {
  it('reports the storage writer thread\'s event-loop delay and heap, and the writer lag the default rule reads', async () => {
    const g = await startGateway({ tmpPrefix: 'alerts-st-', capacity: 10_000, storage: 'auto', storageEnv: {}, logs: { stderr: false } });
    try {
      // the writer thread publishes its figures after its first full second
      const text = await until('the storage writer thread\'s report', async () => (await fetch(`${g.base}/metrics`)).text(), (t) => (sampleValue(t, 'tradsys_thread_heap_used_bytes', { thread: 'storage_writer' }) ?? 0) > 0, 15_000);
      expect(sampleValue(text, 'tradsys_event_loop_delay_p99_seconds', { thread: 'storage_writer' })).toBeGreaterThan(0);
      expect(sampleValue(text, 'tradsys_event_loop_delay_p99_seconds', { thread: 'storage_writer' })).toBeLessThan(10);
      expect(await g.gw.metrics.read('tradsys_storage_writer_lag_seconds')).toBeGreaterThanOrEqual(0);
      const rules = g.gw.app.tradsys.monitoring.alerts.rules.map((r) => r.name);
      expect(rules).toContain('storage_writer_lag_high'); // the defaults are in force without a file
    } finally {
      await g.close();
    }
  }, 60_000);
});
