/**
 * Stage latency on a served gateway (loopback, real sockets, journal with fsync): orders over the
 * JSON WebSocket protocol reach every order stage's histogram; /metrics parses as Prometheus text
 * (a strict line check: HELP/TYPE before samples, names, labels, numbers, cumulative buckets)
 * with the latency histograms and every series /metrics had before prom-client;
 * GET /api/v1/latency has its documented shape. A second gateway with tracking off records nothing.
 */
import { describe, expect, it } from 'vitest';
import { WsClient, type Msg } from '../support/gateway-client.js';
import { startGateway, useGateway, type GatewayFixture } from '../support/gateway-fixture.js';
import { STAGES } from '../../src/monitoring/latency.js';
import { LATENCY_BUCKETS_S } from '../../src/monitoring/metrics.js';

let f: GatewayFixture;
useGateway({ tmpPrefix: 'lat-', capacity: 10_000 }, (x) => { f = x; }, 60_000);

const ORDER_STAGES = ['ws_receive_to_decode', 'decode_to_ring', 'ring_to_engine', 'engine_match', 'journal_durable', 'engine_to_publish', 'publish_to_report', 'order_to_ack', 'md_publish_to_send'];
const OLD_SERIES: [string, 'counter' | 'gauge'][] = [
  ['tradsys_engine_seq', 'counter'], ['tradsys_ws_connections', 'gauge'], ['tradsys_orders_in_total', 'counter'], ['tradsys_events_total', 'counter'],
  ['tradsys_gateway_rejects_total', 'counter'], ['tradsys_ws_frames_out_total', 'counter'], ['tradsys_ws_messages_in_total', 'counter'],
  ['tradsys_ws_slow_consumer_closed_total', 'counter'], ['tradsys_ws_reaped_total', 'counter'],
];

interface Sample { name: string; labels: Record<string, string>; value: number }
/** Strict Prometheus text (0.0.4) check: returns TYPE per family and the samples; throws on any bad line. */
function parseProm(text: string): { types: Map<string, string>; samples: Sample[] } {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sampleRe = new RegExp(`^(${name})(\\{(.*)\\})? (\\S+)$`);
  const labelRe = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"$/;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    let m: RegExpMatchArray | null;
    if ((m = line.match(new RegExp(`^# HELP (${name}) .*$`)))) { helps.add(m[1]!); continue; }
    if ((m = line.match(new RegExp(`^# TYPE (${name}) (counter|gauge|histogram|summary|untyped)$`)))) {
      if (types.has(m[1]!)) throw new Error(`TYPE twice: ${line}`);
      types.set(m[1]!, m[2]!); continue;
    }
    if (line.startsWith('#')) throw new Error(`bad comment line: ${line}`);
    m = line.match(sampleRe);
    if (!m) throw new Error(`bad sample line: ${line}`);
    const labels: Record<string, string> = {};
    if (m[3]) for (const part of m[3].split(',')) { const l = part.match(labelRe); if (!l) throw new Error(`bad label in: ${line}`); labels[l[1]!] = l[2]!; }
    const value = m[4] === '+Inf' ? Infinity : Number(m[4]);
    if (Number.isNaN(value)) throw new Error(`bad value in: ${line}`);
    const family = m[1]!.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(m[1]!) && !(types.get(family) === 'histogram')) throw new Error(`sample before its TYPE: ${line}`);
    samples.push({ name: m[1]!, labels, value });
  }
  for (const t of types.keys()) if (!helps.has(t)) throw new Error(`no HELP for ${t}`);
  return { types, samples };
}

describe('stage latency on a served gateway', () => {
  it('orders reach every order stage; /api/v1/latency and /metrics show them', async () => {
    const c = f.client(await WsClient.open(f.wsUrl));
    await c.auth(f.key(1));
    const m = f.client(await WsClient.open(f.wsUrl));
    await m.auth(f.key(2));
    for (let i = 0; i < 20; i++) {
      c.send({ op: 'order', clientOrderId: `b${i}`, symbol: 'BTC-USD', side: 'buy', type: 'limit', tif: 'gtc', price: String(60000 + i), qty: '1' });
      expect(await c.next((x: Msg) => x.type === 'ack' || x.type === 'reject')).toMatchObject({ type: 'ack', clientOrderId: `b${i}` });
    }
    m.send({ op: 'order', clientOrderId: 's0', symbol: 'BTC-USD', side: 'sell', type: 'limit', tif: 'ioc', price: '60000', qty: '5' });
    expect(await m.next((x: Msg) => x.type === 'fill')).toMatchObject({ type: 'fill' });

    // the engine thread hands its histograms over once a second: wait for them (bounded)
    type Report = { unit: string; windowSeconds: { minute: number }; stages: Record<string, Record<'minute' | 'start', Record<string, number | null>>> };
    let r = await (await fetch(`${f.base}/api/v1/latency`)).json() as Report;
    for (let i = 0; i < 40 && (r.stages.ring_to_engine!.start!.count! < 21 || r.stages.engine_to_publish!.start!.count! < 1); i++) {
      await new Promise((res) => setTimeout(res, 100));
      r = await (await fetch(`${f.base}/api/v1/latency`)).json() as Report;
    }
    expect(r.unit).toBe('us');
    expect(r.windowSeconds.minute).toBe(60);
    expect(Object.keys(r.stages)).toEqual([...STAGES]);
    for (const st of STAGES) for (const w of ['minute', 'start'] as const) expect(Object.keys(r.stages[st]![w]!)).toEqual(['count', 'p50', 'p90', 'p99', 'p999', 'max']);
    for (const st of ORDER_STAGES) {
      const s = r.stages[st]!.start!;
      expect(s.count, st).toBeGreaterThan(0);
      expect(r.stages[st]!.minute!.count, st).toBe(s.count);
      expect(s.p50!, st).toBeGreaterThanOrEqual(0);
      expect(s.p50! <= s.p90! && s.p90! <= s.p99! && s.p99! <= s.p999! && s.p999! <= s.max! * 1.001, st).toBe(true);
    }
    // every new order of the JSON client stamped from receive to ack (21 orders)
    expect(r.stages.order_to_ack!.start!.count).toBe(21);
    expect(r.stages.ring_to_engine!.start!.count).toBe(21);
    // batch stages: sampled batches (docs/monitoring.md), one command each here
    expect(r.stages.engine_match!.start!.count).toBeLessThanOrEqual(21);
    expect(r.stages.journal_durable!.start!.count).toBe(r.stages.engine_match!.start!.count);
    // no strategy workers in this deployment: empty
    expect(r.stages.strategy_event_to_decision!.start).toEqual({ count: 0, p50: null, p90: null, p99: null, p999: null, max: null });
    // the one users feel covers the stages between
    expect(r.stages.order_to_ack!.start!.max!).toBeGreaterThan(r.stages.engine_match!.start!.p50!);

    const res = await fetch(`${f.base}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const { types, samples } = parseProm(await res.text());
    for (const [n, t] of OLD_SERIES) expect(types.get(n), n).toBe(t);
    expect(samples.find((s) => s.name === 'tradsys_orders_in_total')!.value).toBe(21);
    expect(samples.find((s) => s.name === 'tradsys_ws_connections')!.value).toBe(2);
    expect(types.get('tradsys_latency_seconds')).toBe('histogram');
    for (const st of ORDER_STAGES) {
      const b = samples.filter((s) => s.name === 'tradsys_latency_seconds_bucket' && s.labels.stage === st);
      expect(b.map((s) => s.labels.le)).toEqual([...LATENCY_BUCKETS_S.map(String), '+Inf']);
      for (let i = 1; i < b.length; i++) expect(b[i]!.value).toBeGreaterThanOrEqual(b[i - 1]!.value);
      const count = samples.find((s) => s.name === 'tradsys_latency_seconds_count' && s.labels.stage === st)!.value;
      expect(b[b.length - 1]!.value).toBe(count);
      expect(count).toBe(r.stages[st]!.start!.count);
    }
    expect(await f.gw.metrics.read('tradsys_orders_in_total')).toBe(21);
    expect(await f.gw.metrics.read('tradsys_latency_seconds')).toBeUndefined(); // not a counter or gauge
    expect(await f.gw.metrics.read('tradsys_no_such')).toBeUndefined();
  }, 30_000);

  it('tracking off: the same routes, empty histograms', async () => {
    const g = await startGateway({ tmpPrefix: 'lat-off-', capacity: 10_000, latencyTracking: false });
    try {
      const c = g.client(await WsClient.open(g.wsUrl));
      await c.auth(g.key(1));
      c.send({ op: 'order', clientOrderId: 'a', symbol: 'BTC-USD', side: 'buy', type: 'limit', tif: 'gtc', price: '60000', qty: '1' });
      expect(await c.next((x: Msg) => x.type === 'ack')).toMatchObject({ clientOrderId: 'a' });
      const r = await (await fetch(`${g.base}/api/v1/latency`)).json() as { stages: Record<string, { start: { count: number } }> };
      for (const st of STAGES) expect(r.stages[st]!.start.count, st).toBe(0);
      expect(await (await fetch(`${g.base}/metrics`)).text()).toMatch(/tradsys_orders_in_total 1/);
    } finally { await g.close(); }
  }, 30_000);
});
