/**
 * The gateway with storage on (embedded chDB, as `tradsys serve` runs it): orders over HTTP trade,
 * the writer thread lands the trades and order events in ClickHouse, and the gateway serves them:
 * trades by time range, 1-second bars, VWAP, and analysts' SQL (only with the `analyst` permission);
 * /health and /metrics report the storage.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../src/gateway/gateway.js';
import { sign, type ApiKey } from '../../src/gateway/auth.js';
import { signedCaller } from '../support/signed-http.js';
import { useGateway } from '../support/gateway-fixture.js';

let gw: Gateway;
let base: string;
let trader: ApiKey;
let analyst: ApiKey;

const call = signedCaller(() => base);

useGateway({ tmpPrefix: 'gw-st-', capacity: 10_000, storage: 'auto', storageEnv: {} }, (f) => {
  ({ gw, base } = f);
  trader = f.key(1);
  analyst = f.key(50, ['analyst']);
}, 120_000);

describe('gateway with ClickHouse storage (chDB)', () => {
  it('stores trades and order events from the engine and serves them back', async () => {
    const from = BigInt(Date.now() - 1000) * 1_000_000n;
    const other = gw.keys.create(2);
    expect((await call(other, 'POST', '/api/v1/orders', { clientOrderId: 's1', symbol: 'ETH-USD', side: 'sell', type: 'limit', tif: 'gtc', price: '3000.05', qty: '0.5' })).status).toBe(201);
    expect((await call(trader, 'POST', '/api/v1/orders', { clientOrderId: 'b1', symbol: 'ETH-USD', side: 'buy', type: 'limit', tif: 'ioc', price: '3000.05', qty: '0.2' })).status).toBe(201);
    // the writer batches by time: wait (bounded) until the trade is in ClickHouse
    const to = BigInt(Date.now() + 60_000) * 1_000_000n;
    let trades: Record<string, unknown>[] = [];
    for (let i = 0; i < 200 && trades.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      trades = (await (await fetch(`${base}/api/v1/trades/ETH-USD?from=${from}&to=${to}`)).json()) as Record<string, unknown>[];
    }
    expect(trades).toHaveLength(1);
    expect(trades[0]).toMatchObject({ type: 'trade', symbol: 'ETH-USD', price: '3000.05', qty: '0.200', takerSide: 'buy' });
    const bars = (await (await fetch(`${base}/api/v1/bars/ETH-USD?interval=1s&from=${from}&to=${to}`)).json()) as { bars: Record<string, unknown>[] };
    expect(bars.bars).toHaveLength(1);
    expect(bars.bars[0]).toMatchObject({ open: '3000.05', close: '3000.05', volume: '0.200', trades: 1 });
    expect((await (await fetch(`${base}/api/v1/vwap/ETH-USD?from=${from}&to=${to}`)).json())).toMatchObject({ vwap: expect.stringMatching(/^3000\.05/), trades: 1 });
    // analysts' SQL: the analyst permission only
    const q = { sql: 'SELECT type, count() AS n FROM order_events WHERE symbol = {s:String} GROUP BY type ORDER BY type', params: { s: 'ETH-USD' } };
    expect((await call(trader, 'POST', '/api/v1/sql', q)).status).toBe(403);
    let byType: Record<string, number> = {};
    for (let i = 0; i < 100 && (byType.A ?? 0) + (byType.T ?? 0) < 3; i++) {
      const r = await call(analyst, 'POST', '/api/v1/sql', q);
      expect(r.status).toBe(200);
      const rows = (r.json as { rows: { type: string; n: string | number }[] }).rows;
      byType = Object.fromEntries(rows.map((x) => [x.type, Number(x.n)]));
      if ((byType.A ?? 0) + (byType.T ?? 0) < 3) await new Promise((res) => setTimeout(res, 50));
    }
    expect(byType).toEqual({ A: 2, T: 1 }); // the IOC filled completely: no X
    expect((await call(analyst, 'POST', '/api/v1/sql', { sql: 'DROP TABLE trades' })).status).toBe(400);
    const health = (await (await fetch(`${base}/health`)).json()) as { storage: { storage: { backend: string; up: boolean } } };
    expect(health.storage.storage).toMatchObject({ backend: 'chdb', up: true });
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/tradsys_storage_writer_rows_total [1-9]/);
    // stage latency samples (src/monitoring/latency.ts): one row per stage with values per second
    const ls = { sql: "SELECT component, count() AS n, min(latency_ns) AS lo FROM latency_samples GROUP BY component ORDER BY component" };
    let stages: Record<string, number> = {};
    for (let i = 0; i < 100 && !('engine_to_publish' in stages && 'ring_to_engine' in stages); i++) {
      const r = await call(analyst, 'POST', '/api/v1/sql', ls);
      expect(r.status).toBe(200);
      stages = Object.fromEntries((r.json as { rows: { component: string; n: string | number; lo: string | number }[] }).rows.map((x) => [x.component, Number(x.lo)]));
      if (!('engine_to_publish' in stages && 'ring_to_engine' in stages)) await new Promise((res) => setTimeout(res, 100));
    }
    for (const st of ['ring_to_engine', 'engine_match', 'journal_durable', 'engine_to_publish']) expect(Object.keys(stages)).toContain(st);
  }, 60_000);

  it('backfills from the journal what was traded while storage was off (exactly once)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-st-bf-'));
    const g1 = await Gateway.build({ dataDir: dir, capacity: 10_000, storage: 'off' });
    const u1 = await g1.listen(0);
    const k1 = g1.keys.create(1);
    const k2 = g1.keys.create(2);
    const prevBase = base;
    base = u1;
    expect((await call(k2, 'POST', '/api/v1/orders', { clientOrderId: 'bs', symbol: 'MSFT', side: 'sell', type: 'limit', tif: 'gtc', price: '400.00', qty: '7' })).status).toBe(201);
    expect((await call(k1, 'POST', '/api/v1/orders', { clientOrderId: 'bb', symbol: 'MSFT', side: 'buy', type: 'limit', tif: 'ioc', price: '400.00', qty: '7' })).status).toBe(201);
    await g1.close();
    // again, with storage: the writer's checkpoint is 0, the journal holds both commands
    const g2 = await Gateway.build({ dataDir: dir, capacity: 10_000, storage: 'auto', storageEnv: {} });
    base = await g2.listen(0);
    const an = g2.keys.create(50, ['analyst']);
    let n = 0;
    for (let i = 0; i < 200 && n < 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const r = await call(an, 'POST', '/api/v1/sql', { sql: "SELECT count() AS n FROM trades WHERE symbol = 'MSFT'" });
      n = Number((r.json as { rows: { n: string }[] }).rows[0]!.n);
    }
    expect(n).toBe(1);
    await g2.close();
    // and a third start does not write it twice
    const g3 = await Gateway.build({ dataDir: dir, capacity: 10_000, storage: 'auto', storageEnv: {} });
    base = await g3.listen(0);
    const an3 = g3.keys.create(51, ['analyst']);
    await new Promise((r) => setTimeout(r, 1000));
    const r3 = await call(an3, 'POST', '/api/v1/sql', { sql: "SELECT count() AS n, uniqExact(trade_id) AS u FROM trades WHERE symbol = 'MSFT'" });
    expect((r3.json as { rows: { n: string; u: string }[] }).rows[0]).toMatchObject({ n: expect.anything() });
    expect(Number((r3.json as { rows: { n: string }[] }).rows[0]!.n)).toBe(1);
    await g3.close();
    base = prevBase;
  }, 120_000);
});
