/**
 * The JSON routes the dashboard's Operations panel reads (docs/monitoring.md "Resources as JSON",
 * "Histograms as JSON"), on a served gateway without storage:
 * - GET /api/v1/latency/histogram: the stages of GET /api/v1/latency in its order, /metrics'
 *   bucket bounds in µs, per-bucket counts whose running sum is /metrics' cumulative
 *   `tradsys_latency_seconds_bucket` of the stage and whose total is the stage's count;
 * - GET /api/v1/resources: memory, event-loop delay, ring fill, storage writer (null without
 *   storage), the engine thread's report within its first seconds, figures /metrics agrees with.
 * Both are public (no key), like /metrics.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { WsClient, type Msg } from '../support/gateway-client.js';
import { useGateway, type GatewayFixture } from '../support/gateway-fixture.js';
import { STAGES } from '../../src/monitoring/latency.js';
import { LATENCY_BUCKETS_S } from '../../src/monitoring/metrics.js';

let f: GatewayFixture;
// registered before useGateway's: with vitest's stacked hooks it runs after the gateway closed
afterAll(() => { if (f) rmSync(f.dataDir, { recursive: true, force: true }); });
useGateway({ tmpPrefix: 'dash-json-', capacity: 10_000 }, (x) => { f = x; }, 60_000);

type Hist = { unit: string; windowSeconds: { minute: number }; boundsUs: number[]; stages: Record<string, Record<'minute' | 'start', { count: number; counts: number[] }>> };
const getJson = async <T>(path: string): Promise<T> => {
  const r = await fetch(`${f.base}${path}`);
  expect(r.status, path).toBe(200);
  return (await r.json()) as T;
};

describe('dashboard JSON routes', () => {
  it('GET /api/v1/latency/histogram: per-bucket counts that add up to /metrics\' cumulative buckets and the stage counts', async () => {
    const c = f.client(await WsClient.open(f.wsUrl));
    await c.auth(f.key(1));
    for (let i = 0; i < 10; i++) {
      c.send({ op: 'order', clientOrderId: `h${i}`, symbol: 'BTC-USD', side: 'buy', type: 'limit', tif: 'gtc', price: String(60000 + i), qty: '1' });
      expect(await c.next((x: Msg) => x.type === 'ack' || x.type === 'reject')).toMatchObject({ type: 'ack' });
    }
    // the engine thread's counts arrive within a second; then nothing moves
    let h = await getJson<Hist>('/api/v1/latency/histogram');
    for (let i = 0; i < 40 && h.stages.engine_to_publish!.start.count < 1; i++) { await new Promise((r) => setTimeout(r, 100)); h = await getJson<Hist>('/api/v1/latency/histogram'); }
    await new Promise((r) => setTimeout(r, 1200));
    h = await getJson<Hist>('/api/v1/latency/histogram');
    const lat = await getJson<{ stages: Record<string, Record<'minute' | 'start', { count: number }>> }>('/api/v1/latency');
    const metrics = await (await fetch(`${f.base}/metrics`)).text();

    expect(h.unit).toBe('us');
    expect(h.windowSeconds.minute).toBe(60);
    expect(h.boundsUs).toEqual(LATENCY_BUCKETS_S.map((s) => Math.round(s * 1e9) / 1000));
    expect(h.boundsUs[0]).toBe(0.1);
    expect(h.boundsUs[h.boundsUs.length - 1]).toBe(10_000_000);
    expect(Object.keys(h.stages)).toEqual([...STAGES]);
    expect(Object.keys(h.stages)).toEqual(Object.keys(lat.stages));
    for (const st of STAGES) {
      for (const w of ['minute', 'start'] as const) {
        const s = h.stages[st]![w];
        expect(s.counts.length, st).toBe(h.boundsUs.length + 1);
        expect(s.counts.every((n) => Number.isInteger(n) && n >= 0), st).toBe(true);
        expect(s.counts.reduce((a, b) => a + b, 0), `${st} ${w}`).toBe(s.count);
        expect(s.count, `${st} ${w}`).toBe(lat.stages[st]![w].count);
      }
      // the running sum of the since-start counts is /metrics' cumulative bucket series
      let acc = 0;
      h.stages[st]!.start.counts.slice(0, -1).forEach((n, i) => {
        acc += n;
        const le = String(LATENCY_BUCKETS_S[i]);
        const line = metrics.split('\n').find((l) => l.startsWith(`tradsys_latency_seconds_bucket{`) && l.includes(`le="${le}"`) && l.includes(`stage="${st}"`));
        expect(line, `${st} le=${le}`).toBeDefined();
        expect(Number(line!.split(' ').pop()), `${st} le=${le}`).toBe(acc);
      });
    }
    expect(h.stages.order_to_ack!.start.count).toBe(10);
    // one stage only
    const one = await getJson<Hist>('/api/v1/latency/histogram?stage=order_to_ack');
    expect(Object.keys(one.stages)).toEqual(['order_to_ack']);
    expect(one.stages.order_to_ack).toEqual(h.stages.order_to_ack);
    expect(one.boundsUs).toEqual(h.boundsUs);
    for (const bad of ['?stage=nope', '?stage=', '?other=1']) expect((await fetch(`${f.base}/api/v1/latency/histogram${bad}`)).status, bad).toBe(400);
    expect(h.stages.strategy_event_to_decision!.start.count).toBe(0);
  }, 30_000);

  it('GET /api/v1/resources: memory, event-loop delay, rings, storage writer, as /metrics has them', async () => {
    type Res = {
      ts: number;
      memory: { main: { heapUsedBytes: number; heapTotalBytes: number; externalBytes: number; arrayBuffersBytes: number }; rssBytes: number; engine: { heapUsedBytes: number; wasmBytes: number; orders: { capacity: number; inUse: number; highWater: number }; levels: Record<string, number> } | null; storageWriter: unknown };
      eventLoopDelay: { main: { p99Seconds: number; maxSeconds: number }; engine: { maxSeconds: number } | null; storageWriter: unknown };
      rings: { command: number; event: number }; storageWriter: unknown;
    };
    let r = await getJson<Res>('/api/v1/resources');
    for (let i = 0; i < 30 && r.memory.engine === null; i++) { await new Promise((res) => setTimeout(res, 100)); r = await getJson<Res>('/api/v1/resources'); }
    expect(Object.keys(r)).toEqual(['ts', 'memory', 'eventLoopDelay', 'rings', 'storageWriter']);
    expect(Math.abs(r.ts - Date.now())).toBeLessThan(5000);
    expect(Object.keys(r.memory.main)).toEqual(['heapUsedBytes', 'heapTotalBytes', 'externalBytes', 'arrayBuffersBytes']);
    expect(r.memory.main.heapUsedBytes).toBeGreaterThan(0);
    expect(r.memory.main.heapUsedBytes).toBeLessThanOrEqual(r.memory.main.heapTotalBytes);
    expect(r.memory.rssBytes).toBeGreaterThan(r.memory.main.heapUsedBytes);
    expect(r.memory.engine).not.toBeNull();
    expect(r.memory.engine!.wasmBytes % 65536).toBe(0);
    expect(r.memory.engine!.orders.capacity).toBeGreaterThan(0);
    expect(r.memory.engine!.orders.inUse).toBeLessThanOrEqual(r.memory.engine!.orders.capacity);
    expect(r.eventLoopDelay.main.p99Seconds).toBeGreaterThanOrEqual(0);
    expect(r.eventLoopDelay.main.maxSeconds).toBeGreaterThanOrEqual(0);
    expect(r.eventLoopDelay.engine!.maxSeconds).toBeGreaterThanOrEqual(0);
    for (const x of [r.rings.command, r.rings.event]) { expect(x).toBeGreaterThanOrEqual(0); expect(x).toBeLessThanOrEqual(1); }
    // no storage: no writer figures (the panel says "storage off")
    expect(r.storageWriter).toBeNull();
    expect(r.memory.storageWriter).toBeNull();
    expect(r.eventLoopDelay.storageWriter).toBeNull();
    // an idle gateway: the rings are empty in both views
    const metrics = await (await fetch(`${f.base}/metrics`)).text();
    expect(metrics).toMatch(/^tradsys_ring_fill_ratio\{ring="command"\} 0$/m);
    expect(r.rings.command).toBe(0);
    // public like /metrics: no key needed, and not a signed route
    expect((await fetch(`${f.base}/api/v1/resources`, { headers: { 'x-ts-key': 'nobody' } })).status).toBe(200);
  }, 30_000);
});
