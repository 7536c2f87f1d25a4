/**
 * /health says `degraded`, with the reason, when the storage writer lags (the age of its oldest
 * row not yet written passes 5 s), and `ok` again once it has caught up. Before issue 12 /health
 * said `ok` while the writer was 40 s behind. Attack: ClickHouse killed (-9) under a trading
 * gateway, then brought back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../src/gateway/gateway.js';
import type { ApiKey } from '../../src/gateway/auth.js';
import { signedCaller } from '../support/signed-http.js';
import { startPrivateServer, uniqueDatabase, type TestServer } from '../support/clickhouse.js';

interface Health { status: string; reason?: string; storage?: { status: string; writer: { lagSeconds: number; lagSeq: number; maxLagSeconds: number } } }

describe('/health and the writer lag', () => {
  let srv: TestServer;
  let gw: Gateway;
  let dir: string;
  let base: string;
  let trader: ApiKey;
  const call = signedCaller(() => base);
  const health = async (): Promise<Health> => (await (await fetch(`${base}/health`)).json()) as Health;
  beforeAll(async () => {
    srv = await startPrivateServer();
    dir = mkdtempSync(join(tmpdir(), 'tradsys-lag-'));
    gw = await Gateway.build({ dataDir: dir, capacity: 10_000, storage: 'auto', storageEnv: { CLICKHOUSE_URL: srv.url, CLICKHOUSE_DATABASE: uniqueDatabase('lag') } });
    base = await gw.listen(0);
    trader = gw.keys.create(1);
  }, 120_000);
  afterAll(async () => { await gw?.close(); await srv?.stop(); rmSync(dir, { recursive: true, force: true }); }, 60_000);

  it('degraded with the reason while the writer cannot keep up, ok once it has caught up', async () => {
    expect(await health()).toMatchObject({ status: 'ok', storage: { status: 'ok', writer: { maxLagSeconds: 5 } } });
    await srv.kill();
    expect((await call(trader, 'POST', '/api/v1/orders', { clientOrderId: 'l1', symbol: 'ETH-USD', side: 'sell', type: 'limit', tif: 'gtc', price: '3000.05', qty: '0.5' })).status).toBe(201);
    let h = await health();
    // first the failed inserts, then (after 5 s) the lag: both are reasons
    for (let i = 0; i < 150 && !/lagging/.test(h.reason ?? ''); i++) { await new Promise((r) => setTimeout(r, 100)); h = await health(); }
    expect(h.status).toBe('degraded');
    expect(h.reason).toMatch(/storage writer cannot write \(\d+ failed inserts, retrying\)/);
    expect(h.reason).toMatch(/storage writer lagging: oldest unwritten row is \d+\.\d s old \(limit 5 s\)/);
    expect(h.storage!.writer.lagSeconds).toBeGreaterThan(5);
    // trading goes on meanwhile
    expect((await call(trader, 'POST', '/api/v1/orders', { clientOrderId: 'l2', symbol: 'ETH-USD', side: 'buy', type: 'limit', tif: 'gtc', price: '2900.05', qty: '0.5' })).status).toBe(201);
    await srv.restart();
    for (let i = 0; i < 300 && h.status !== 'ok'; i++) { await new Promise((r) => setTimeout(r, 100)); h = await health(); }
    expect(h).toMatchObject({ status: 'ok' });
    expect(h.reason).toBeUndefined();
  }, 90_000);
});

describe('slow analyst queries do not hold the writer back (chDB, as tradsys serve runs it)', () => {
  let gw: Gateway;
  let dir: string;
  let base: string;
  const call = signedCaller(() => base);
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tradsys-lagq-'));
    gw = await Gateway.build({ dataDir: dir, capacity: 10_000, storage: 'auto', storageEnv: {} });
    base = await gw.listen(0);
  }, 120_000);
  afterAll(async () => { await gw?.close(); rmSync(dir, { recursive: true, force: true }); }, 60_000);

  it('orders placed while two 10-second analyst queries run are written before the queries end', async () => {
    const rows = Array.from({ length: 30_000 }, (_, i) => ({ symbol: 'ZZZ', ts: String(i), trade_id: 1e9 + i, seq: 0, price: 1, qty: 1, taker_side: 'buy', taker_order_id: 1, maker_order_id: 2, taker_account: 1, maker_account: 2 }));
    await gw.storage!.storage.insert('trades', rows);
    const trader = gw.keys.create(1);
    const analyst = gw.keys.create(60, ['analyst']);
    const auth = { authorization: 'Basic ' + Buffer.from(`${analyst.key}:${analyst.secret}`).toString('base64') };
    const slow = 'SELECT count() AS n FROM trades AS a CROSS JOIN trades AS b WHERE sipHash64(a.trade_id, b.trade_id) = 0';
    const queries = [1, 2].map(() => fetch(`${base}/clickhouse/`, { method: 'POST', headers: auth, body: slow }).then((r) => r.status));
    const gate = gw.storage!.api.gate;
    for (let i = 0; i < 500 && gate.active() < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(gate.active()).toBe(2);
    for (let i = 0; i < 5; i++) {
      expect((await call(trader, 'POST', '/api/v1/orders', { clientOrderId: `w${i}`, symbol: 'ETH-USD', side: 'sell', type: 'limit', tif: 'gtc', price: '3000.05', qty: '0.5' })).status).toBe(201);
    }
    const seq = gw.host.lastSeq;
    let h = await health();
    let worstLag = 0;
    // while both queries still run: the writer has written everything up to the last order
    for (let i = 0; i < 200 && !(h.storage!.writer.lagSeq === 0 && gw.storage!.writer.stats().checkpointSeq >= seq); i++) {
      await new Promise((r) => setTimeout(r, 50));
      h = await health();
      worstLag = Math.max(worstLag, h.storage!.writer.lagSeconds);
    }
    const stillRunning = gate.active();
    console.log(`[chdb gateway] writer caught up to seq ${seq} with ${stillRunning} analyst queries still running; worst writer lag ${worstLag.toFixed(2)} s`);
    expect(gw.storage!.writer.stats().checkpointSeq).toBeGreaterThanOrEqual(seq);
    expect(stillRunning).toBe(2);
    expect(h.status).toBe('ok');
    expect((await Promise.all(queries)).every((s) => s === 200 || s === 422)).toBe(true);
  }, 90_000);

  const health = async (): Promise<Health> => (await (await fetch(`${base}/health`)).json()) as Health;
});
