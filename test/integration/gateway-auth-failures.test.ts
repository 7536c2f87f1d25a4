/**
 * Authentication failures over WebSocket and HTTP, filling the gaps left by gateway.test.ts and
 * auth.test.ts: HTTP wrong signature, unknown key (answered byte-for-byte like a wrong signature),
 * stale and future timestamps, replayed (ts, sig), missing headers, read-only keys on every
 * trading route; WebSocket future timestamps, missing or malformed fields, unknown key answered
 * like a wrong signature, read-only keys cancelling and modifying. Nothing reaches the engine.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Gateway } from '../../src/gateway/gateway.js';
import { sign, type ApiKey } from '../../src/gateway/auth.js';
import { WsClient, nextTs, request, signed } from '../support/gateway-client.js';
import { useGateway } from '../support/gateway-fixture.js';

let gw: Gateway;
let base: string;
let trader: ApiKey;
let reader: ApiKey;
const wsUrl = (): string => base.replace('http', 'ws') + '/ws';
const order = { clientOrderId: 'x1', symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '180.00', qty: '1' };

useGateway({ tmpPrefix: 'gwf-', capacity: 1000 }, (f) => {
  ({ gw, base } = f);
  trader = f.key(1);
  reader = f.key(2, ['read']);
}, 60_000);

describe('HTTP authentication failures', () => {
  it('wrong signature and unknown key answer the same bytes; stale, future, replayed and missing credentials are refused', async () => {
    const seq = gw.host.lastSeq;
    const path = '/api/v1/orders?status=open';
    const ts = nextTs();
    const wrong = await signed(base, { key: trader.key, secret: '1'.repeat(64) }, 'GET', path, undefined, { ts });
    const unknown = await signed(base, { key: 'tk_000000000000000000000000', secret: trader.secret }, 'GET', path, undefined, { ts });
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({ error: 'invalid_credentials' });
    expect([unknown.status, unknown.text]).toEqual([wrong.status, wrong.text]);
    const stale = Date.now() - 6000;
    expect((await signed(base, trader, 'GET', path, undefined, { ts: stale })).json).toMatchObject({ error: 'stale_timestamp' });
    const future = Date.now() + 6000;
    expect((await signed(base, trader, 'GET', path, undefined, { ts: future })).json).toMatchObject({ error: 'stale_timestamp' });
    // a replayed (ts, sig): the first one is served, the same bytes again are refused
    const t2 = nextTs();
    const sig = sign(trader.secret, trader.key, t2, 'POST/api/v1/orders' + JSON.stringify(order));
    const first = await signed(base, trader, 'POST', '/api/v1/orders', order, { ts: t2, sig });
    expect(first.status).toBe(201);
    const again = await signed(base, trader, 'POST', '/api/v1/orders', order, { ts: t2, sig });
    expect(again.status).toBe(401);
    expect(again.json).toMatchObject({ error: 'replay' });
    const seqAfterOne = gw.host.lastSeq;
    expect(seqAfterOne).toBeGreaterThan(seq);
    for (const omit of [['x-ts-key'], ['x-ts-sig'], ['x-ts-ts'], ['x-ts-key', 'x-ts-ts', 'x-ts-sig']]) {
      const r = await signed(base, trader, 'POST', '/api/v1/orders', { ...order, clientOrderId: 'x2' }, { omit });
      expect(r.status, omit.join()).toBe(401);
      expect(r.json, omit.join()).toMatchObject({ error: 'malformed' });
    }
    expect((await request(base, 'DELETE', '/api/v1/orders/1')).status).toBe(401);
    gw.pump();
    expect(gw.host.lastSeq).toBe(seqAfterOne);
    expect(gw.orders.liveByClientId(1, 'x2')).toBeUndefined();
  });

  it('a read-only key reads but cannot place, cancel or modify', async () => {
    const seq = gw.host.lastSeq;
    const id = gw.orders.liveByClientId(1, 'x1')!.orderId;
    expect((await signed(base, reader, 'GET', '/api/v1/orders?status=open')).status).toBe(200);
    for (const [method, path, body] of [['POST', '/api/v1/orders', { ...order, clientOrderId: 'r1' }], ['DELETE', `/api/v1/orders/${id}`, undefined], ['PATCH', `/api/v1/orders/${id}`, { price: '180.00', qty: '1' }]] as const) {
      const r = await signed(base, reader, method, path, body);
      expect(r.status, method).toBe(403);
      expect(r.json, method).toMatchObject({ error: 'forbidden' });
    }
    gw.pump();
    expect(gw.host.lastSeq).toBe(seq);
    expect(gw.orders.get(id)?.status).toBe('open');
  });
});

describe('WebSocket authentication failures', () => {
  it('refuses future timestamps; answers an unknown key like a wrong signature; malformed auth stays unauthenticated', async () => {
    const c = await WsClient.open(wsUrl());
    const future = Date.now() + 6000;
    c.send({ op: 'auth', key: trader.key, ts: future, sig: sign(trader.secret, trader.key, future), reqId: 1 });
    expect(await c.next((m) => m.reqId === 1)).toEqual({ type: 'auth', ok: false, reason: 'stale_timestamp', reqId: 1 });
    const ts = nextTs();
    c.send({ op: 'auth', key: trader.key, ts, sig: sign('2'.repeat(64), trader.key, ts), reqId: 2 });
    c.send({ op: 'auth', key: 'tk_nobody', ts, sig: sign(trader.secret, 'tk_nobody', ts), reqId: 2 });
    await c.next((m) => m.reqId === 2);
    await c.next((m) => m.reqId === 2);
    const [r1, r2] = c.raw.slice(-2);
    expect(r1).toBe(r2);
    c.send({ op: 'auth', ts: nextTs(), sig: '0'.repeat(64), reqId: 3 });
    expect(await c.next((m) => m.reqId === 3)).toMatchObject({ type: 'error', code: 'missing_field' });
    c.send({ op: 'auth', key: trader.key, ts: nextTs(), sig: 'NOT-HEX', reqId: 4 });
    expect(await c.next((m) => m.reqId === 4)).toMatchObject({ type: 'error', code: 'bad_field' });
    c.send({ op: 'auth', key: trader.key, ts: String(nextTs()), sig: '0'.repeat(64), reqId: 5 });
    expect(await c.next((m) => m.reqId === 5)).toMatchObject({ type: 'error', code: 'bad_field' });
    for (const m of [{ op: 'order', ...order }, { op: 'cancel', orderId: '1' }, { op: 'modify', clientOrderId: 'x1', price: '180.00', qty: '1' }]) {
      expect(await c.ask(m, 'na')).toMatchObject({ type: 'error', code: 'not_authenticated' });
    }
    c.close();
  });

  it('a read-only key may subscribe but not cancel or modify', async () => {
    const seq = gw.host.lastSeq;
    const c = await WsClient.open(wsUrl());
    expect(await c.auth(reader)).toMatchObject({ ok: true, account: 2 });
    expect(await c.ask({ op: 'subscribe', channels: ['book.AAPL'] }, 's')).toMatchObject({ type: 'subscribed', ok: true });
    for (const m of [{ op: 'cancel', orderId: '1' }, { op: 'cancel', clientOrderId: 'x1' }, { op: 'modify', orderId: '1', price: '180.00', qty: '1' }]) {
      expect(await c.ask(m, 'f')).toMatchObject({ type: 'error', code: 'forbidden' });
    }
    gw.pump();
    expect(gw.host.lastSeq).toBe(seq);
    c.close();
  });
});
