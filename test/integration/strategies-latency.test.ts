/**
 * The strategy stages of the latency tracking on a served gateway (docs/monitoring.md "Latency
 * stages"): a strategy worker running the test-only `latency-test` kind
 * (test/support/latency-strategy.mjs: on each trade it cancels its last bid and places a new one)
 * records `strategy_event_to_decision` and `strategy_decision_to_ring` once per decision into its
 * own histograms, handed to the main thread through its LatencyChannel once a second: both stages
 * count every decision on GET /api/v1/latency and on /metrics (`tradsys_latency_seconds{stage=…}`).
 * With tracking off the same deployment records nothing.
 */
import { describe, expect, it } from 'vitest';
import type { ApiKey } from '../../src/gateway/auth.js';
import { WsClient, signed, sleep, type Msg } from '../support/gateway-client.js';
import { startGateway, type GatewayFixture } from '../support/gateway-fixture.js';

const MODULE = new URL('../support/latency-strategy.mjs', import.meta.url).href;
const STAGES = ['strategy_event_to_decision', 'strategy_decision_to_ring'] as const;
type Figures = { count: number; p50: number | null; p99: number | null; max: number | null };
type Report = { stages: Record<string, { minute: Figures; start: Figures }> };

/** Starts the strategy, makes `trades` trades on AAPL (two WS clients), waits for the strategy's decisions; returns them. */
async function trade(f: GatewayFixture, trades: number): Promise<number> {
  const admin: ApiKey = f.key(5, ['admin']);
  const r = await signed(f.base, admin, 'POST', '/api/v1/strategies', { id: 'lat1', kind: 'latency-test', account: 70_101, symbols: ['AAPL'], params: { price: 18900 } });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  const b = f.client(await WsClient.open(f.wsUrl));
  await b.auth(f.key(1));
  const s = f.client(await WsClient.open(f.wsUrl));
  await s.auth(f.key(2));
  for (let i = 0; i < trades; i++) {
    b.send({ op: 'order', clientOrderId: `b${i}`, symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '190.00', qty: '1' });
    expect(await b.next((x: Msg) => x.type === 'ack' || x.type === 'reject')).toMatchObject({ type: 'ack' });
    s.send({ op: 'order', clientOrderId: `s${i}`, symbol: 'AAPL', side: 'sell', type: 'limit', tif: 'ioc', price: '190.00', qty: '1' });
    expect(await s.next((x: Msg) => x.type === 'fill')).toMatchObject({ type: 'fill' });
  }
  // each trade: a place, and from the second on a cancel of the bid before (2 × trades − 1 decisions)
  const want = 2 * trades - 1;
  const deadline = Date.now() + 10_000;
  let d = 0;
  while (Date.now() < deadline) {
    const st = await signed(f.base, admin, 'GET', '/api/v1/strategies/lat1');
    d = ((st.json as { details: { decisions: number } }).details.decisions);
    if (d >= want) break;
    await sleep(50);
  }
  expect(d).toBe(want);
  return d;
}

async function report(base: string): Promise<Report> { return await (await fetch(`${base}/api/v1/latency`)).json() as Report; }

describe('strategy stage latency on a served gateway', () => {
  it('every strategy decision reaches both strategy stages on /api/v1/latency and /metrics', async () => {
    const f = await startGateway({ tmpPrefix: 'slat-', capacity: 10_000, strategies: { workers: 1, modules: [MODULE] } });
    try {
      const decisions = await trade(f, 6);
      // the worker hands its histograms over once a second: wait for them (bounded)
      let r = await report(f.base);
      for (let i = 0; i < 50 && STAGES.some((st) => r.stages[st]!.start.count < decisions); i++) { await sleep(100); r = await report(f.base); }
      for (const st of STAGES) {
        const x = r.stages[st]!.start;
        expect(x.count, st).toBe(decisions);
        expect(r.stages[st]!.minute.count, st).toBe(decisions);
        expect(x.p50!, st).toBeGreaterThanOrEqual(0);
        expect(x.p50! <= x.p99! && x.p99! <= x.max! * 1.001, st).toBe(true);
        // event → decision and decision → ring on one host: well under a second
        expect(x.max!, st).toBeLessThan(1_000_000);
      }
      const text = await (await fetch(`${f.base}/metrics`)).text();
      for (const st of STAGES) {
        const m = text.match(new RegExp(`^tradsys_latency_seconds_count\\{stage="${st}"\\} (\\S+)$`, 'm'));
        expect(m, st).not.toBeNull();
        expect(Number(m![1]), st).toBe(decisions);
        const inf = text.match(new RegExp(`^tradsys_latency_seconds_bucket\\{(?:le="\\+Inf",stage="${st}"|stage="${st}",le="\\+Inf")\\} (\\S+)$`, 'm'));
        expect(Number(inf![1]), st).toBe(decisions);
      }
    } finally { await f.close(); }
  }, 60_000);

  it('tracking off: the strategy stages stay empty', async () => {
    const f = await startGateway({ tmpPrefix: 'slat-off-', capacity: 10_000, latencyTracking: false, strategies: { workers: 1, modules: [MODULE] } });
    try {
      await trade(f, 2);
      await sleep(1200); // past a worker's hand-over interval
      const r = await report(f.base);
      for (const st of STAGES) expect(r.stages[st]!.start.count, st).toBe(0);
    } finally { await f.close(); }
  }, 60_000);
});
