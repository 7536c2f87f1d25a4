/**
 * Adaptive concurrency on a served gateway (src/monitoring/limiter.ts wired into order entry): the
 * limiter squeezed through its knobs (minLimit = maxLimit: a fixed limit) so that new orders over
 * it are answered `overloaded` over JSON, binary and HTTP (503 + Retry-After), cancels and
 * modifies are still accepted, nothing is lost (every order acked or rejected) and the registry
 * holds exactly the acked orders. Places in flight are held by taking them from the limiter
 * itself (the gateway's own object), which stands for orders the engine has not answered yet.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Gateway } from '../../src/gateway/gateway.js';
import { sign, type ApiKey } from '../../src/gateway/auth.js';
import { BinaryWriter, decodeFrame, type ServerBinMessage } from '../../src/codec/binary-protocol.js';
import { codeOf } from '../../src/codec/binary-layout.js';
import { MessageQueue, WsClient, signed, type Msg } from '../support/gateway-client.js';
import { useGateway, type GatewayFixture } from '../support/gateway-fixture.js';

class BinClient extends MessageQueue<ServerBinMessage> {
  private readonly w = new BinaryWriter(8192);
  private constructor(readonly ws: WebSocket) {
    super();
    ws.on('message', (d: Buffer) => { for (const m of decodeFrame(d, 'server')) this.push(m); });
  }
  static open(url: string): Promise<BinClient> {
    return new Promise((res, rej) => { const ws = new WebSocket(url); ws.once('open', () => res(new BinClient(ws))); ws.once('error', rej); });
  }
  send(build: (w: BinaryWriter) => void): void { build(this.w); this.ws.send(this.w.take()!); }
  async auth(k: ApiKey): Promise<void> {
    const ts = Date.now();
    this.send((w) => w.auth(1, k.key, ts, sign(k.secret, k.key, ts)));
    expect(await this.next((m) => m.kind === 'auth')).toMatchObject({ ok: true });
  }
  close(): void { this.ws.close(); }
}

const LIMIT = 4;
let f: GatewayFixture;
let gw: Gateway;
let key: ApiKey;
useGateway({ tmpPrefix: 'gwo-', capacity: 10_000, limiter: { enabled: true, minLimit: LIMIT, maxLimit: LIMIT, initialLimit: LIMIT } }, (fx) => {
  f = fx;
  gw = fx.gw;
  key = fx.key(1);
}, 60_000);

const AAPL = (): number => gw.bySymbol.get('AAPL')!.id;
/** Takes every free place of the limiter (orders in flight the engine has not answered); returns how many. */
function fill(): number { let n = 0; while (gw.limiter.tryAcquire()) n++; return n; }
function releaseAll(n: number): void { for (let i = 0; i < n; i++) gw.limiter.release(); }
/** Waits until the limiter has nothing in flight (every admitted order answered). */
async function drained(): Promise<void> {
  for (let i = 0; i < 200 && gw.limiter.inflight > 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(gw.limiter.inflight).toBe(0);
}

describe('adaptive concurrency on a served gateway', () => {
  it('binary: a frame of 40 orders while the limit is taken → 40 overloaded (code 81), the cancel in the same frame accepted; then a frame past the limit: every order answered, the registry holds exactly the acked orders', async () => {
    expect(codeOf('overloaded')).toBe(81);
    const c = f.client(await BinClient.open(f.wsUrl + '?protocol=binary'));
    await c.auth(key);
    // one resting order to cancel later
    c.send((w) => w.order(1, '900', AAPL(), 0, 0, 0, 18_000, 1));
    const rest = await c.next((m) => m.kind === 'ack' && m.reqId === 1);
    const restId = (rest as Extract<ServerBinMessage, { kind: 'ack' }>).orderId;
    await drained();
    const held = fill();
    expect(held).toBe(LIMIT);
    const shedBefore = gw.limiter.shed;
    c.send((w) => {
      for (let i = 0; i < 40; i++) w.order(100 + i, String(1000 + i), AAPL(), i % 2, 0, 0, i % 2 === 0 ? 18_000 : 20_500, 1);
      w.cancel(500, '', restId);
    });
    const answers = new Map<number, ServerBinMessage>();
    for (let i = 0; i < 40; i++) {
      const m = await c.next((x) => (x.kind === 'ack' || x.kind === 'reject') && x.reqId >= 100 && x.reqId < 140 && !answers.has(x.reqId));
      answers.set((m as { reqId: number }).reqId, m);
    }
    for (const m of answers.values()) expect(m).toMatchObject({ kind: 'reject', reason: 'overloaded', orderId: 0, seq: null });
    expect(await c.next((m) => m.kind === 'cancelled' && m.reqId === 500)).toMatchObject({ orderId: restId });
    expect(gw.limiter.shed - shedBefore).toBe(40);
    for (let i = 0; i < 40; i++) expect(gw.orders.liveByClientId(1, String(1000 + i))).toBeUndefined(); // no trace
    releaseAll(held);
    // with room: a frame of 40 past the limit of 4 — the engine takes orders while the frame is read,
    // so how many are shed varies; every one is answered, at least the first four are acked
    c.send((w) => { for (let i = 0; i < 40; i++) w.order(300 + i, String(2000 + i), AAPL(), i % 2, 0, 0, i % 2 === 0 ? 18_000 : 20_500, 1); });
    const second = new Map<number, ServerBinMessage>();
    for (let i = 0; i < 40; i++) {
      const m = await c.next((x) => (x.kind === 'ack' || x.kind === 'reject') && x.reqId >= 300 && x.reqId < 340 && !second.has(x.reqId));
      second.set((m as { reqId: number }).reqId, m);
    }
    const acked = [...second.values()].filter((m) => m.kind === 'ack').map((m) => (m as { clientOrderId: string }).clientOrderId);
    for (const m of second.values()) if (m.kind === 'reject') expect(m.reason).toBe('overloaded');
    for (const r of [300, 301, 302, 303]) expect(second.get(r)?.kind).toBe('ack');
    await drained();
    // registry: the acked orders are open, the shed ones left no trace and their clientOrderIds are free
    const open = gw.orders.open(1).map((o) => o.clientOrderId).filter((x) => x.startsWith('2')).sort();
    expect(open).toEqual([...acked].sort());
    c.send((w) => w.order(200, '1039', AAPL(), 1, 0, 0, 20_500, 1)); // the retry of a shed order
    expect(await c.next((m) => (m.kind === 'ack' || m.kind === 'reject') && m.reqId === 200)).toMatchObject({ kind: 'ack', clientOrderId: '1039' });
    await drained();
  });

  it('JSON: over the limit a new order is answered overloaded; a cancel and a modify are accepted; once there is room orders are acked again', async () => {
    const c = f.client(await WsClient.open(f.wsUrl));
    expect(await c.auth(key)).toMatchObject({ ok: true });
    const a = await c.ask({ op: 'order', clientOrderId: 'j-rest', symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '180.00', qty: '2' }, 'r0');
    expect(a).toMatchObject({ type: 'ack' });
    await drained();
    const held = fill();
    expect(held).toBe(LIMIT);
    expect(await c.ask({ op: 'order', clientOrderId: 'j-1', symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '180.00', qty: '1' }, 'r1'))
      .toEqual({ type: 'reject', clientOrderId: 'j-1', reason: 'overloaded', message: expect.stringContaining('retry'), reqId: 'r1' });
    expect(await c.ask({ op: 'modify', clientOrderId: 'j-rest', price: '180.50', qty: '1' }, 'r2')).toMatchObject({ type: 'modified', price: '180.50', qty: '1' });
    expect(await c.ask({ op: 'cancel', clientOrderId: 'j-rest' }, 'r3')).toMatchObject({ type: 'cancelled', clientOrderId: 'j-rest' });
    releaseAll(held);
    expect(await c.ask({ op: 'order', clientOrderId: 'j-1', symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '180.00', qty: '1' }, 'r4')).toMatchObject({ type: 'ack', clientOrderId: 'j-1' });
    await drained();
  });

  it('JSON: a burst past the limit — every order answered (ack or overloaded), none lost, acks match the registry', async () => {
    const c = f.client(await WsClient.open(f.wsUrl));
    expect(await c.auth(key)).toMatchObject({ ok: true });
    await drained();
    const n = 60;
    for (let i = 0; i < n; i++) c.send({ op: 'order', clientOrderId: `b${i}`, symbol: 'AAPL', side: 'sell', type: 'limit', tif: 'gtc', price: '209.00', qty: '1', reqId: `b${i}` });
    const got: Msg[] = [];
    for (let i = 0; i < n; i++) got.push(await c.next((m) => (m.type === 'ack' || m.type === 'reject') && typeof m.reqId === 'string' && m.reqId.startsWith('b')));
    expect(new Set(got.map((m) => m.reqId)).size).toBe(n);
    const acked = got.filter((m) => m.type === 'ack').map((m) => m.clientOrderId as string);
    const shed = got.filter((m) => m.type === 'reject');
    for (const m of shed) expect(m.reason).toBe('overloaded');
    expect(acked.length + shed.length).toBe(n);
    expect(acked.length).toBeGreaterThanOrEqual(LIMIT);
    await drained();
    const openB = gw.orders.open(1).map((o) => o.clientOrderId).filter((x) => x.startsWith('b')).sort();
    expect(openB).toEqual([...acked].sort());
  });

  it('HTTP: over the limit POST /api/v1/orders answers 503 overloaded with Retry-After; DELETE still cancels; with room the order is created', async () => {
    const r0 = await signed(f.base, key, 'POST', '/api/v1/orders', { clientOrderId: 'h-rest', symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '181.00', qty: '1' });
    expect(r0.status).toBe(201);
    const restId = (r0.json as { orderId: string }).orderId;
    await drained();
    const held = fill();
    const r1 = await signed(f.base, key, 'POST', '/api/v1/orders', { clientOrderId: 'h-1', symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '181.00', qty: '1' });
    expect(r1.status).toBe(503);
    expect(r1.headers['retry-after']).toBe('1');
    expect(r1.json).toEqual({ error: 'overloaded', message: expect.stringContaining('retry') });
    expect(gw.orders.liveByClientId(1, 'h-1')).toBeUndefined();
    const r2 = await signed(f.base, key, 'DELETE', `/api/v1/orders/${restId}`);
    expect(r2.status).toBe(200);
    expect(r2.json).toMatchObject({ orderId: restId, status: 'cancelled' });
    releaseAll(held);
    const r3 = await signed(f.base, key, 'POST', '/api/v1/orders', { clientOrderId: 'h-1', symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '181.00', qty: '1' });
    expect(r3.status).toBe(201);
    await drained();
    const m = gw.limiter.metrics();
    expect(m).toMatchObject({ enabled: true, limit: LIMIT, inflight: 0 });
    expect(m.shed).toBeGreaterThanOrEqual(38);
    expect(m.samples).toBeGreaterThan(0); // engine queue times measured on the way
    expect(m.queueTimeP50Us).toBeGreaterThanOrEqual(0);
  });
});
