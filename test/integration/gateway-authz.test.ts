/**
 * Authorization matrix over loopback: account B tries every order operation (WS cancel and modify
 * by orderId and by clientOrderId; HTTP GET, DELETE and PATCH by id, GET by clientOrderId) on
 * account A's orders in every state (resting, partially filled, filled, cancelled, rejected) and
 * on ids that never existed. Each answer must be byte-for-byte the answer for an unknown id (after
 * replacing the echoed reference), and nothing may change: A's orders, the book, the engine
 * sequence, and A hears nothing.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { ApiKey } from '../../src/gateway/auth.js';
import { WsClient, request, signed, sleep, type HttpAnswer, type Msg } from '../support/gateway-client.js';
import { useGateway } from '../support/gateway-fixture.js';

let gw: Gateway;
let base: string;
let keyA: ApiKey;
let keyB: ApiKey;
let keyC: ApiKey;
let a: WsClient;
let b: WsClient;
let c: WsClient;
const wsUrl = (): string => base.replace('http', 'ws') + '/ws';

/** A's orders by state: [orderId, clientOrderId]. */
const orders: Record<string, { orderId: string; clientOrderId: string }> = {};

async function place(cl: WsClient, m: Msg): Promise<Msg> {
  cl.send({ op: 'order', symbol: 'AAPL', type: 'limit', ...m });
  return cl.next((x) => (x.type === 'ack' || x.type === 'reject') && x.clientOrderId === m.clientOrderId);
}

useGateway({ tmpPrefix: 'gwz-', capacity: 1000 }, async (f) => {
  ({ gw, base } = f);
  keyA = f.key(1);
  keyB = f.key(2);
  keyC = f.key(3);
  [a, b, c] = await Promise.all([WsClient.open(wsUrl()), WsClient.open(wsUrl()), WsClient.open(wsUrl())]);
  for (const cl of [a, b, c]) f.client(cl);
  for (const [cl, k] of [[a, keyA], [b, keyB], [c, keyC]] as const) expect(await cl.auth(k)).toMatchObject({ ok: true });
  const open = await place(a, { clientOrderId: 'open1', side: 'buy', tif: 'gtc', price: '190.00', qty: '10' });
  orders.open = { orderId: open.orderId as string, clientOrderId: 'open1' };
  // prices stay within AAPL's default ±10 % price collar around its reference price 190.00 (docs/risk.md)
  const filled = await place(a, { clientOrderId: 'fill1', side: 'sell', tif: 'gtc', price: '195.00', qty: '2' });
  orders.filled = { orderId: filled.orderId as string, clientOrderId: 'fill1' };
  await place(c, { clientOrderId: 't1', side: 'buy', tif: 'ioc', price: '195.00', qty: '2' });
  await a.next((x) => x.type === 'fill' && x.clientOrderId === 'fill1' && x.leaves === '0');
  const part = await place(a, { clientOrderId: 'part1', side: 'sell', tif: 'gtc', price: '198.00', qty: '10' });
  orders.partial = { orderId: part.orderId as string, clientOrderId: 'part1' };
  await place(c, { clientOrderId: 't2', side: 'buy', tif: 'ioc', price: '198.00', qty: '4' });
  await a.next((x) => x.type === 'fill' && x.clientOrderId === 'part1' && x.leaves === '6');
  const canc = await place(a, { clientOrderId: 'canc1', side: 'buy', tif: 'gtc', price: '189.00', qty: '1' });
  orders.cancelled = { orderId: canc.orderId as string, clientOrderId: 'canc1' };
  a.send({ op: 'cancel', clientOrderId: 'canc1' });
  await a.next((x) => x.type === 'cancelled' && x.clientOrderId === 'canc1');
  const rej = await place(a, { clientOrderId: 'rej1', side: 'buy', tif: 'post_only', price: '198.00', qty: '1' });
  expect(rej).toMatchObject({ type: 'reject', reason: 'would_cross' });
  orders.rejected = { orderId: rej.orderId as string, clientOrderId: 'rej1' };
  const st = (k: string): string | undefined => gw.orders.get(Number(orders[k]!.orderId))?.status;
  expect([st('open'), st('partial'), st('filled'), st('cancelled'), st('rejected')]).toEqual(['open', 'open', 'filled', 'cancelled', 'rejected']);
  expect(gw.orders.get(Number(orders.partial.orderId))?.leaves).toBe(6);
}, 60_000);

const UNKNOWN = { orderId: '987654321', clientOrderId: 'never-existed' };

/** Replaces the echoed reference so that answers about different ids can be compared byte for byte. */
const norm = (text: string, ref: string): string => text.split(JSON.stringify(ref)).join('"<ref>"');

type WsOp = (ref: { orderId: string; clientOrderId: string }) => [Msg, string];
const WS_OPS: Record<string, WsOp> = {
  'cancel by orderId': (r) => [{ op: 'cancel', orderId: r.orderId }, r.orderId],
  'cancel by clientOrderId': (r) => [{ op: 'cancel', clientOrderId: r.clientOrderId }, r.clientOrderId],
  'modify by orderId': (r) => [{ op: 'modify', orderId: r.orderId, price: '190.00', qty: '1' }, r.orderId],
  'modify by clientOrderId': (r) => [{ op: 'modify', clientOrderId: r.clientOrderId, price: '190.00', qty: '1' }, r.clientOrderId],
};

type HttpOp = (ref: { orderId: string; clientOrderId: string }) => [string, string, unknown, string];
const HTTP_OPS: Record<string, HttpOp> = {
  'GET by id': (r) => ['GET', `/api/v1/orders/${r.orderId}`, undefined, r.orderId],
  'DELETE by id': (r) => ['DELETE', `/api/v1/orders/${r.orderId}`, undefined, r.orderId],
  'PATCH by id': (r) => ['PATCH', `/api/v1/orders/${r.orderId}`, { price: '190.00', qty: '1' }, r.orderId],
  'GET by clientOrderId': (r) => ['GET', `/api/v1/orders?clientOrderId=${r.clientOrderId}`, undefined, r.clientOrderId],
};

async function wsAnswer(op: WsOp, ref: { orderId: string; clientOrderId: string }): Promise<string> {
  const [m, echoed] = op(ref);
  const before = b.raw.length;
  await b.ask(m, 'q');
  await sleep(5); // anything else B would be sent about it arrives as well
  const got = b.raw.slice(before);
  expect(got).toHaveLength(1);
  return norm(got[0]!, echoed);
}

function httpView(r: HttpAnswer, echoed: string): string {
  const { date: _d, ...headers } = r.headers;
  return JSON.stringify({ status: r.status, headers, body: norm(r.text, echoed) });
}

async function state(): Promise<string> {
  gw.pump();
  const book = await request(base, 'GET', '/api/v1/book/AAPL?depth=1000');
  const mine = Object.values(orders).map((o) => { const x = gw.orders.get(Number(o.orderId))!; return [x.status, x.price, x.qty, x.leaves, x.filled]; });
  return JSON.stringify({ book: book.text, mine: mine.map(String), seq: gw.host.lastSeq });
}

describe('another account\'s orders answer exactly like unknown ones and stay untouched', () => {
  for (const state_ of ['open', 'partial', 'filled', 'cancelled', 'rejected']) {
    it(`state ${state_}: WebSocket cancel/modify by orderId and clientOrderId`, async () => {
      const before = await state();
      const heardBefore = a.raw.length;
      for (const [name, op] of Object.entries(WS_OPS)) {
        const foreign = await wsAnswer(op, orders[state_]!);
        const unknown = await wsAnswer(op, UNKNOWN);
        expect(foreign, name).toBe(unknown);
        expect(JSON.parse(foreign), name).toMatchObject({ type: 'reject', reason: 'unknown_order' });
      }
      await sleep(20);
      expect(await state()).toBe(before);
      expect(a.raw.slice(heardBefore)).toEqual([]);
    });

    it(`state ${state_}: HTTP GET/DELETE/PATCH by id and GET by clientOrderId`, async () => {
      const before = await state();
      const heardBefore = a.raw.length;
      for (const [name, op] of Object.entries(HTTP_OPS)) {
        const [method, path, body, echoed] = op(orders[state_]!);
        const foreign = httpView(await signed(base, keyB, method, path, body), echoed);
        const [um, up, ub, ue] = op(UNKNOWN);
        const unknown = httpView(await signed(base, keyB, um, up, ub), ue);
        expect(foreign, name).toBe(unknown);
        expect(JSON.parse(foreign).status, name).toBe(404);
      }
      await sleep(20);
      expect(await state()).toBe(before);
      expect(a.raw.slice(heardBefore)).toEqual([]);
    });
  }

  it('the owner still sees and controls them (the matrix is not vacuous)', async () => {
    expect((await signed(base, keyA, 'GET', `/api/v1/orders/${orders.filled!.orderId}`)).json).toMatchObject({ status: 'filled' });
    expect((await signed(base, keyA, 'GET', `/api/v1/orders/${orders.partial!.orderId}`)).json).toMatchObject({ status: 'open', leaves: '6', filled: '4' });
    a.send({ op: 'modify', clientOrderId: 'open1', price: '190.00', qty: '3' });
    expect(await a.next((x) => x.type === 'modified')).toMatchObject({ clientOrderId: 'open1', qty: '3' });
    expect((await signed(base, keyA, 'DELETE', `/api/v1/orders/${orders.open!.orderId}`)).status).toBe(200);
  });
});
