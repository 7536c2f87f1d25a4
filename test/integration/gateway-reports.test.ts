/**
 * Who gets an execution report (DESIGN "Client protocol" → "Who gets a report"), over loopback
 * with real sockets, JSON and binary: the direct answer to a command (ack, reject, cancelled,
 * modified, the taker's fill) goes to the connection that sent the command, whichever connection
 * placed the order, with its reqId; every report of an account also goes to the account's other
 * live connections (without a reqId); another account never sees them. Also: subscriptions are
 * deduplicated and capped per connection, an unknown symbol is never reported as subscribed, a
 * cancelled order shows leaves 0 everywhere, and a reject of a cancel/modify by orderId carries
 * the orderId in `orderId`.
 */
import { describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway/gateway.js';
import { sign, type ApiKey } from '../../src/gateway/auth.js';
import { Channel, MsgType, type ServerBinMessage } from '../../src/codec/binary-protocol.js';
import { WsClient, nextTs, signed, type Msg } from '../support/gateway-client.js';
import { BinClient } from '../support/bin-client.js';
import { TradsysClient } from '../../src/client/index.js';
import { useGateway } from '../support/gateway-fixture.js';

let gw: Gateway;
let base: string;
let keyA: ApiKey;
/** A second key of account 1: reports follow the account, not the key. */
let keyA2: ApiKey;
let keyB: ApiKey;
let pings = 0;
const wsUrl = (): string => base.replace('http', 'ws') + '/ws';
const sym = (name: string): number => gw.bySymbol.get(name)!.id;
const ticks = (name: string, px: string): number => Number(gw.bySymbol.get(name)!.toTicks(px));
const lots = (name: string, q: string): number => gw.bySymbol.get(name)!.toLots(q);

async function json(k: ApiKey): Promise<WsClient> {
  const c = await WsClient.open(wsUrl());
  expect(await c.auth(k)).toMatchObject({ ok: true });
  return c;
}
async function bin(k: ApiKey): Promise<BinClient> {
  const c = await BinClient.open(wsUrl());
  expect(await c.auth(k, nextTs())).toMatchObject({ ok: true });
  return c;
}
/** A ping round trip on a JSON connection: everything sent to it before has arrived. */
async function sync(c: WsClient): Promise<void> {
  const id = `sync${++pings}`;
  c.send({ op: 'ping', reqId: id });
  await c.next((m) => m.type === 'pong' && m.reqId === id);
}
async function closeAll(...cs: (WsClient | BinClient)[]): Promise<void> {
  for (const c of cs) { const done = c.closed(); c.close(); await done; }
}
const order = (cid: string, symbol: string, side: 'buy' | 'sell', price: string, qty: string, extra: Msg = {}): Msg =>
  ({ op: 'order', clientOrderId: cid, symbol, side, type: 'limit', tif: 'gtc', price, qty, ...extra });
const about = (cid: string) => (m: Msg): boolean => m.clientOrderId === cid;

useGateway({ tmpPrefix: 'gwr-', capacity: 10_000, maxChannels: 10 }, (f) => {
  ({ gw, base } = f);
  keyA = f.key(1);
  keyA2 = f.key(1);
  keyB = f.key(2);
}, 60_000);

describe('reports across reconnects (JSON)', () => {
  it('answers a cancel and a modify sent from a new connection, by clientOrderId and by orderId', async () => {
    const a1 = await json(keyA);
    a1.send(order('rc1', 'AAPL', 'buy', '189.00', '5'));
    a1.send(order('rc2', 'AAPL', 'buy', '188.00', '5'));
    const ack1 = await a1.next((m) => m.type === 'ack' && m.clientOrderId === 'rc1');
    const ack2 = await a1.next((m) => m.type === 'ack' && m.clientOrderId === 'rc2');
    await closeAll(a1);

    const a2 = await json(keyA2); // another key of the same account
    a2.send({ op: 'cancel', clientOrderId: 'rc1', reqId: 'c1' });
    expect(await a2.next((m) => m.type === 'cancelled' || m.type === 'reject')).toEqual({ type: 'cancelled', orderId: ack1.orderId, clientOrderId: 'rc1', qty: '5', seq: expect.any(Number), reqId: 'c1' });
    a2.send({ op: 'modify', orderId: ack2.orderId, price: '188.50', qty: '3', reqId: 77 });
    expect(await a2.next((m) => m.type === 'modified' || m.type === 'reject')).toEqual({ type: 'modified', orderId: ack2.orderId, clientOrderId: 'rc2', price: '188.50', qty: '3', seq: expect.any(Number), reqId: 77 });
    a2.send({ op: 'modify', clientOrderId: 'rc2', price: '188.50', qty: '2' });
    expect(await a2.next((m) => m.type === 'modified' || m.type === 'reject')).toMatchObject({ type: 'modified', clientOrderId: 'rc2', qty: '2' });
    a2.send({ op: 'cancel', orderId: ack2.orderId, reqId: 'c2' });
    expect(await a2.next((m) => m.type === 'cancelled' || m.type === 'reject')).toMatchObject({ type: 'cancelled', orderId: ack2.orderId, clientOrderId: 'rc2', qty: '2', reqId: 'c2' });
    await closeAll(a2);
  });

  it('reports a fill of an order placed on a closed connection to the account\'s new connection', async () => {
    const a1 = await json(keyA);
    a1.send(order('rf1', 'MSFT', 'sell', '411.00', '4'));
    const ack = await a1.next((m) => m.type === 'ack' && m.clientOrderId === 'rf1');
    await closeAll(a1);
    const a2 = await json(keyA);
    const b = await json(keyB);
    b.send(order('bf1', 'MSFT', 'buy', '411.00', '3', { tif: 'ioc', reqId: 'take' }));
    expect(await b.next((m) => m.type === 'fill')).toMatchObject({ clientOrderId: 'bf1', liquidity: 'taker', qty: '3', leaves: '0', reqId: 'take' });
    expect(await a2.next((m) => m.type === 'fill')).toEqual({ type: 'fill', orderId: ack.orderId, clientOrderId: 'rf1', tradeId: expect.any(Number), price: '411.00', qty: '3', leaves: '1', liquidity: 'maker', seq: expect.any(Number) });
    // the rest of it, cancelled from yet another connection
    const a3 = await json(keyA2);
    a3.send({ op: 'cancel', clientOrderId: 'rf1', reqId: 9 });
    expect(await a3.next((m) => m.type === 'cancelled')).toMatchObject({ orderId: ack.orderId, qty: '1', reqId: 9 });
    expect(await a2.next((m) => m.type === 'cancelled')).toEqual({ type: 'cancelled', orderId: ack.orderId, clientOrderId: 'rf1', qty: '1', seq: expect.any(Number) });
    await sync(b);
    expect(b.msgs.filter(about('rf1'))).toEqual([]);
    await closeAll(a2, a3, b);
  });
});

describe('reports to every live connection of the account', () => {
  it('sends the direct answer with its reqId to the sender only, copies to the account\'s other connections, nothing to others (JSON)', async () => {
    const a1 = await json(keyA);
    const a2 = await json(keyA2);
    const b = await json(keyB);
    a1.send(order('lc1', 'AAPL', 'sell', '191.00', '2', { reqId: 7 }));
    const ack = await a1.next((m) => m.type === 'ack' && m.clientOrderId === 'lc1');
    expect(ack).toEqual({ type: 'ack', clientOrderId: 'lc1', orderId: expect.any(String), seq: expect.any(Number), reqId: 7 });
    expect(await a2.next((m) => m.type === 'ack' && m.clientOrderId === 'lc1')).toEqual({ type: 'ack', clientOrderId: 'lc1', orderId: ack.orderId, seq: ack.seq });
    a2.send({ op: 'modify', clientOrderId: 'lc1', price: '191.00', qty: '1', reqId: 'm' });
    expect(await a2.next((m) => m.type === 'modified')).toMatchObject({ orderId: ack.orderId, qty: '1', reqId: 'm' });
    expect(await a1.next((m) => m.type === 'modified')).not.toHaveProperty('reqId');
    // a rejected command: the reject is answered to the sender with its reqId and copied
    a1.send(order('lc2', 'AAPL', 'buy', '191.00', '1', { tif: 'post_only', reqId: 8 }));
    expect(await a1.next((m) => m.type === 'reject' && m.clientOrderId === 'lc2')).toMatchObject({ reason: 'would_cross', reqId: 8 });
    expect(await a2.next((m) => m.type === 'reject' && m.clientOrderId === 'lc2')).not.toHaveProperty('reqId');
    b.send(order('lb1', 'AAPL', 'buy', '191.00', '1', { tif: 'ioc' }));
    await b.next((m) => m.type === 'fill');
    for (const c of [a1, a2]) {
      const f = await c.next((m) => m.type === 'fill' && m.clientOrderId === 'lc1');
      expect(f).toMatchObject({ liquidity: 'maker', leaves: '0' });
      expect(f).not.toHaveProperty('reqId');
    }
    await sync(b);
    expect(b.msgs.filter((m) => m.clientOrderId === 'lc1' || m.clientOrderId === 'lc2')).toEqual([]);
    await sync(a1);
    await sync(a2);
    expect([...a1.msgs, ...a2.msgs].filter(about('lb1'))).toEqual([]);
    await closeAll(a1, a2, b);
  });

  it('self-trade: the taker\'s answers carry the reqId, the maker fill of the same account does not', async () => {
    const a1 = await json(keyA);
    const a2 = await json(keyA2);
    a1.send(order('st1', 'MSFT', 'sell', '412.00', '2'));
    await a1.next((m) => m.type === 'ack' && m.clientOrderId === 'st1');
    a1.send(order('st2', 'MSFT', 'buy', '412.00', '2', { tif: 'ioc', reqId: 'take' }));
    expect(await a1.next((m) => m.type === 'ack' && m.clientOrderId === 'st2')).toMatchObject({ reqId: 'take' });
    expect(await a1.next((m) => m.type === 'fill' && m.clientOrderId === 'st2')).toMatchObject({ liquidity: 'taker', reqId: 'take' });
    expect(await a1.next((m) => m.type === 'fill' && m.clientOrderId === 'st1')).not.toHaveProperty('reqId');
    for (const cid of ['st2', 'st1']) expect(await a2.next((m) => m.type === 'fill' && m.clientOrderId === cid)).not.toHaveProperty('reqId');
    await closeAll(a1, a2);
  });

  it('a connection that re-authenticates as another account stops getting the first account\'s reports; an unauthenticated one never gets any', async () => {
    const switcher = await json(keyA);
    const anon = await WsClient.open(wsUrl());
    anon.send({ op: 'subscribe', channels: ['trades.AAPL'] });
    await anon.next((m) => m.type === 'subscribed');
    expect(await switcher.auth(keyB)).toMatchObject({ ok: true, account: 2 });
    const a = await json(keyA);
    const b = await json(keyB);
    a.send(order('sw1', 'AAPL', 'sell', '193.00', '1'));
    await a.next((m) => m.type === 'ack' && m.clientOrderId === 'sw1');
    b.send(order('sw2', 'AAPL', 'buy', '193.00', '1', { tif: 'ioc' }));
    await a.next((m) => m.type === 'fill' && m.clientOrderId === 'sw1');
    // the switched connection is account 2's now: it gets b's reports, none of a's
    expect(await switcher.next((m) => m.type === 'fill' && m.clientOrderId === 'sw2')).toMatchObject({ liquidity: 'taker' });
    await anon.next((m) => m.type === 'trade');
    await sync(switcher);
    await sync(anon);
    expect(switcher.msgs.filter(about('sw1'))).toEqual([]);
    expect(anon.msgs.filter((m) => m.type !== 'trade')).toEqual([]);
    await closeAll(switcher, anon, a, b);
  });

  it('sends reports of HTTP orders to every live connection of the account, without a reqId', async () => {
    const a1 = await json(keyA);
    const a2 = await bin(keyA2);
    const r = await signed(base, keyA, 'POST', '/api/v1/orders', { clientOrderId: '555', symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '180.00', qty: '1' });
    expect(r.status).toBe(201);
    const id = (r.json as Msg).orderId as string;
    expect(await a1.next((m) => m.type === 'ack' && m.orderId === id)).toEqual({ type: 'ack', clientOrderId: '555', orderId: id, seq: expect.any(Number) });
    expect(await a2.next((m) => m.kind === 'ack' && m.orderId === Number(id))).toMatchObject({ reqId: 0, clientOrderId: '555' });
    const d = await signed(base, keyA, 'DELETE', `/api/v1/orders/${id}`);
    expect(d.json).toMatchObject({ orderId: id, status: 'cancelled', leaves: '0' });
    expect(await a1.next((m) => m.type === 'cancelled' && m.orderId === id)).not.toHaveProperty('reqId');
    expect(await a2.next((m) => m.kind === 'cancelled' && m.orderId === Number(id))).toMatchObject({ reqId: 0, clientOrderId: '555', qty: 1 });
    await closeAll(a1, a2);
  });

  it('binary: reqId on the direct answer only, across reconnects; JSON connections of the account get the reports too', async () => {
    const a1 = await bin(keyA);
    const aj = await json(keyA2);
    const b = await bin(keyB);
    const AAPL = sym('AAPL');
    a1.send((w) => {
      w.order(11, '9001', AAPL, 0, 0, 0, ticks('AAPL', '187.00'), 5);
      w.order(12, '9002', AAPL, 0, 0, 0, ticks('AAPL', '186.00'), 5);
      w.order(13, '9003', AAPL, 1, 0, 0, ticks('AAPL', '192.00'), 4);
    });
    const acks = new Map<string, Extract<ServerBinMessage, { kind: 'ack' }>>();
    for (let i = 0; i < 3; i++) {
      const m = await a1.next((x) => x.kind === 'ack') as Extract<ServerBinMessage, { kind: 'ack' }>;
      acks.set(m.clientOrderId, m);
    }
    expect([...acks.values()].map((m) => [m.clientOrderId, m.reqId]).sort()).toEqual([['9001', 11], ['9002', 12], ['9003', 13]]);
    expect(await aj.next((m) => m.type === 'ack' && m.clientOrderId === '9003')).not.toHaveProperty('reqId');
    await closeAll(a1);

    const a2 = await bin(keyA);
    a2.send((w) => w.cancel(21, '9001', 0));
    expect(await a2.next((m) => m.kind === 'cancelled' || m.kind === 'reject')).toMatchObject({ kind: 'cancelled', reqId: 21, clientOrderId: '9001', orderId: acks.get('9001')!.orderId, qty: 5, instrument: AAPL });
    a2.send((w) => w.modify(22, '', acks.get('9002')!.orderId, ticks('AAPL', '186.50'), 2));
    expect(await a2.next((m) => m.kind === 'modified' || m.kind === 'reject')).toMatchObject({ kind: 'modified', reqId: 22, clientOrderId: '9002', qty: 2 });
    a2.send((w) => w.cancel(23, '', acks.get('9002')!.orderId));
    expect(await a2.next((m) => m.kind === 'cancelled' || m.kind === 'reject')).toMatchObject({ kind: 'cancelled', reqId: 23, clientOrderId: '9002', qty: 2 });
    b.send((w) => w.order(31, '1', AAPL, 0, 0, 1, ticks('AAPL', '192.00'), 4));
    expect(await b.next((m) => m.kind === 'fill')).toMatchObject({ reqId: 31, liquidity: 'taker', leaves: 0 });
    expect(await a2.next((m) => m.kind === 'fill')).toMatchObject({ reqId: 0, clientOrderId: '9003', liquidity: 'maker', qty: 4, leaves: 0 });
    expect(await aj.next((m) => m.type === 'fill' && m.clientOrderId === '9003')).toMatchObject({ liquidity: 'maker', leaves: '0' });
    expect(await aj.next((m) => m.type === 'cancelled' && m.clientOrderId === '9001')).not.toHaveProperty('reqId');
    await b.sync();
    expect(b.msgs.filter((m) => 'clientOrderId' in m && m.clientOrderId.startsWith('900'))).toEqual([]);
    await closeAll(a2, aj, b);
  });

  it('cancels by risk (kill switch) reach every live connection of the account', async () => {
    const admin = gw.keys.create(9, ['admin']);
    const acct = gw.keys.create(5);
    const acct2 = gw.keys.create(5);
    const c1 = await json(acct);
    c1.send(order('ks1', 'MSFT', 'buy', '400.00', '1'));
    const ack = await c1.next((m) => m.type === 'ack');
    await closeAll(c1);
    const c2 = await json(acct2);
    const c3 = await bin(acct);
    const k = await signed(base, admin, 'POST', '/api/v1/admin/kill', { account: 5, on: true });
    expect(k.status).toBe(200);
    expect(await c2.next((m) => m.type === 'cancelled')).toEqual({ type: 'cancelled', orderId: ack.orderId, clientOrderId: 'ks1', qty: '1', seq: expect.any(Number) });
    expect(await c3.next((m) => m.kind === 'cancelled')).toMatchObject({ reqId: 0, orderId: Number(ack.orderId), qty: 1 });
    await signed(base, admin, 'POST', '/api/v1/admin/kill', { account: 5, on: false });
    await closeAll(c2, c3);
  });
});

describe('reports around cancel-on-disconnect and resume', () => {
  it('reports the cancels of a closed cancel-on-disconnect connection to the account\'s other connections', async () => {
    const c1 = await WsClient.open(wsUrl());
    const ts = nextTs();
    c1.send({ op: 'auth', key: keyA.key, ts, sig: sign(keyA.secret, keyA.key, ts), cancelOnDisconnect: true });
    await c1.next((m) => m.type === 'auth' && m.ok === true);
    const c2 = await json(keyA2);
    c1.send(order('cod1', 'AAPL', 'buy', '181.00', '2'));
    const ack = await c1.next((m) => m.type === 'ack');
    await c2.next((m) => m.type === 'ack' && m.clientOrderId === 'cod1');
    await closeAll(c1);
    expect(await c2.next((m) => m.type === 'cancelled')).toEqual({ type: 'cancelled', orderId: ack.orderId, clientOrderId: 'cod1', qty: '2', seq: expect.any(Number) });
    await closeAll(c2);
  });

  it('resumeFrom while the account trades on another connection: the replay and the live reports, no gap, no duplicate', async () => {
    const a1 = await json(keyA);
    const b = await json(keyB);
    a1.send(order('rs1', 'AAPL', 'buy', '175.00', '20'));
    const ack = await a1.next((m) => m.type === 'ack' && m.clientOrderId === 'rs1');
    let lastSeen = ack.seq as number;
    for (let i = 0; i < 5; i++) {
      // a fill while a new connection resumes: sent just before its auth, on another socket
      b.send(order(`rsb${i}`, 'AAPL', 'sell', '175.00', '1', { tif: 'ioc' }));
      const a2 = await WsClient.open(wsUrl());
      const ts = nextTs();
      a2.send({ op: 'auth', key: keyA.key, ts, sig: sign(keyA.secret, keyA.key, ts), resumeFrom: lastSeen });
      await a2.next((m) => m.type === 'resumed');
      b.send(order(`rsc${i}`, 'AAPL', 'sell', '175.00', '1', { tif: 'ioc' }));
      const leaves = String(20 - 2 * (i + 1));
      await a2.next((m) => m.type === 'fill' && m.leaves === leaves, 5000).catch(() => undefined);
      const mine = a2.raw.map((t) => JSON.parse(t) as Msg).filter((m) => m.type === 'fill'); // every fill frame it got
      expect(mine.map((m) => m.leaves)).toEqual([String(21 - 2 * (i + 1)), leaves]); // the one it missed, then the live one
      expect(new Set(mine.map((m) => m.tradeId)).size).toBe(2);
      lastSeen = mine[1]!.seq as number;
      await closeAll(a2);
    }
    await closeAll(a1, b);
  });
});

describe('protocol shapes', () => {
  it('answers a cancel or modify by orderId that fails with the orderId in "orderId" (JSON and binary)', async () => {
    const a = await json(keyA);
    a.send({ op: 'cancel', orderId: '987654321', reqId: 1 });
    expect(await a.next((m) => m.type === 'reject')).toEqual({ type: 'reject', orderId: '987654321', reason: 'unknown_order', reqId: 1 });
    a.send({ op: 'modify', orderId: '987654321', price: '1.00', qty: '1', reqId: 2 });
    expect(await a.next((m) => m.type === 'reject')).toEqual({ type: 'reject', orderId: '987654321', reason: 'unknown_order', reqId: 2 });
    a.send({ op: 'cancel', clientOrderId: 'nope', reqId: 3 });
    expect(await a.next((m) => m.type === 'reject')).toEqual({ type: 'reject', clientOrderId: 'nope', reason: 'unknown_order', reqId: 3 });
    const c = await bin(keyA);
    c.send((w) => w.cancel(4, '', 987654321));
    expect(await c.next((m) => m.kind === 'reject')).toEqual({ kind: 'reject', reqId: 4, clientOrderId: '', orderId: 987654321, seq: null, reason: 'unknown_order' });
    await closeAll(a, c);
  });

  it('shows leaves 0 for a cancelled order: HTTP, read models, and an IOC remainder', async () => {
    const a = await json(keyA);
    a.send(order('lv1', 'MSFT', 'buy', '401.00', '7'));
    const ack = await a.next((m) => m.type === 'ack' && m.clientOrderId === 'lv1');
    a.send({ op: 'cancel', clientOrderId: 'lv1' });
    await a.next((m) => m.type === 'cancelled' && m.clientOrderId === 'lv1');
    const got = await signed(base, keyA, 'GET', `/api/v1/orders/${String(ack.orderId)}`);
    expect(got.json).toMatchObject({ orderId: ack.orderId, status: 'cancelled', qty: '7', leaves: '0', filled: '0' });
    expect(gw.readModels.orders.get(BigInt(ack.orderId as string))).toMatchObject({ status: 'cancelled', leaves: 0 });
    // an IOC that partly fills: its remainder is cancelled, leaves 0
    const b = await json(keyB);
    b.send(order('lv2', 'MSFT', 'sell', '402.00', '2'));
    await b.next((m) => m.type === 'ack');
    a.send(order('lv3', 'MSFT', 'buy', '402.00', '5', { tif: 'ioc' }));
    const ioc = await a.next((m) => m.type === 'ack' && m.clientOrderId === 'lv3');
    expect(await a.next((m) => m.type === 'cancelled' && m.clientOrderId === 'lv3')).toMatchObject({ qty: '3' });
    expect((await signed(base, keyA, 'GET', `/api/v1/orders/${String(ioc.orderId)}`)).json).toMatchObject({ status: 'cancelled', filled: '2', leaves: '0' });
    expect(gw.readModels.orders.get(BigInt(ioc.orderId as string))).toMatchObject({ status: 'cancelled', filled: 2, leaves: 0 });
    await closeAll(a, b);
  });
});

describe('subscriptions', () => {
  it('counts the same channel named 100 times in one message once: one snapshot, one channel', async () => {
    const c = await WsClient.open(wsUrl());
    c.send({ op: 'subscribe', channels: Array.from({ length: 100 }, () => 'book.AAPL'), reqId: 's' });
    expect(await c.next((m) => m.type === 'subscribed')).toEqual({ type: 'subscribed', channels: ['book.AAPL'], ok: true, reqId: 's' });
    await sync(c);
    expect(c.msgs.filter((m) => m.type === 'book')).toHaveLength(1);
    // subscribing again later is a resync: one fresh snapshot
    c.send({ op: 'subscribe', channels: ['book.AAPL', 'book.AAPL', 'ticker.AAPL', 'ticker.AAPL'] });
    expect(await c.next((m) => m.type === 'subscribed')).toMatchObject({ channels: ['book.AAPL', 'ticker.AAPL'] });
    await sync(c);
    expect(c.msgs.filter((m) => m.type === 'book')).toHaveLength(2);
    expect(c.msgs.filter((m) => m.type === 'ticker')).toHaveLength(1);
    await closeAll(c);
  });

  it('answers an unknown symbol with unknown_symbol and subscribes nothing of that message', async () => {
    const c = await WsClient.open(wsUrl());
    c.send({ op: 'subscribe', channels: ['book.NOPE'], reqId: 1 });
    expect(await c.next((m) => m.type === 'error')).toEqual({ type: 'error', code: 'unknown_symbol', message: expect.stringContaining('NOPE'), channels: ['book.NOPE'], reqId: 1 });
    c.send({ op: 'subscribe', channels: ['trades.MSFT', 'book.MSFT', 'trades.NOPE', 'ticker.ZZZ'], reqId: 2 });
    expect(await c.next((m) => m.type === 'error')).toMatchObject({ code: 'unknown_symbol', channels: ['trades.NOPE', 'ticker.ZZZ'], reqId: 2 });
    await sync(c);
    expect(c.msgs.filter((m) => m.type === 'subscribed' || m.type === 'book')).toEqual([]);
    // nothing of the mixed message was applied: a trade on MSFT does not reach this connection
    const watcher = await WsClient.open(wsUrl());
    watcher.send({ op: 'subscribe', channels: ['trades.MSFT'] });
    await watcher.next((m) => m.type === 'subscribed');
    const s = await json(keyA);
    const b = await json(keyB);
    s.send(order('sub1', 'MSFT', 'sell', '405.00', '1'));
    await s.next((m) => m.type === 'ack');
    b.send(order('sub2', 'MSFT', 'buy', '405.00', '1', { tif: 'ioc' }));
    await watcher.next((m) => m.type === 'trade');
    await sync(c);
    expect(c.msgs.filter((m) => m.type === 'trade' || m.type === 'bookDelta')).toEqual([]);
    c.send({ op: 'unsubscribe', channels: ['book.NOPE'], reqId: 3 });
    expect(await c.next((m) => m.type === 'error')).toMatchObject({ code: 'unknown_symbol', reqId: 3 });
    await closeAll(c, watcher, s, b);
  });

  it('tradsys/client: subscribe resolves with the error that refused the message', async () => {
    const c = await TradsysClient.connect(wsUrl(), { key: keyA.key, secret: keyA.secret });
    expect(await c.subscribe(['trades.AAPL', 'book.NOPE'])).toMatchObject({ type: 'error', code: 'unknown_symbol', channels: ['book.NOPE'] });
    expect(await c.subscribe(['trades.AAPL', 'trades.AAPL'])).toMatchObject({ type: 'subscribed', channels: ['trades.AAPL'], ok: true });
    c.close();
  });

  it('caps the channels of a connection (maxChannels) with a clear error, applying nothing of the message', async () => {
    const c = await WsClient.open(wsUrl());
    const all = ['BTC-USD', 'ETH-USD', 'SOL-USD', 'AAPL'].flatMap((s) => [`book.${s}`, `trades.${s}`, `ticker.${s}`]); // 12 > 10
    c.send({ op: 'subscribe', channels: all, reqId: 'big' });
    expect(await c.next((m) => m.type === 'error')).toEqual({ type: 'error', code: 'too_many_channels', message: expect.stringContaining('10'), reqId: 'big' });
    await sync(c);
    expect(c.msgs.filter((m) => m.type === 'book' || m.type === 'ticker' || m.type === 'subscribed')).toEqual([]);
    c.send({ op: 'subscribe', channels: all.slice(0, 9) });
    expect(await c.next((m) => m.type === 'subscribed')).toMatchObject({ ok: true });
    // already subscribed channels do not count twice; the 10th is fine, the 11th is not
    c.send({ op: 'subscribe', channels: [...all.slice(0, 9), all[9]!] });
    expect(await c.next((m) => m.type === 'subscribed' || m.type === 'error')).toMatchObject({ type: 'subscribed' });
    c.send({ op: 'subscribe', channels: [all[10]!] });
    expect(await c.next((m) => m.type === 'subscribed' || m.type === 'error')).toMatchObject({ type: 'error', code: 'too_many_channels' });
    c.send({ op: 'unsubscribe', channels: [all[0]!] });
    await c.next((m) => m.type === 'subscribed');
    c.send({ op: 'subscribe', channels: [all[10]!] });
    expect(await c.next((m) => m.type === 'subscribed' || m.type === 'error')).toMatchObject({ type: 'subscribed', channels: [all[10]] });
    // binary: the same cap, answered ERROR too_many_channels (and no SUBSCRIBED)
    const bc = await BinClient.open(wsUrl());
    bc.send((w) => { for (const s of ['BTC-USD', 'ETH-USD', 'SOL-USD']) w.subscribe(1, sym(s), Channel.BOOK | Channel.TRADES | Channel.TICKER); });
    for (let i = 0; i < 3; i++) await bc.next((m) => m.kind === 'subscribed');
    bc.send((w) => w.subscribe(2, sym('AAPL'), Channel.BOOK | Channel.TRADES));
    expect(await bc.next((m) => m.kind === 'error' || m.kind === 'subscribed')).toEqual({ kind: 'error', reqId: 2, code: 'too_many_channels', msgType: MsgType.SUBSCRIBE });
    bc.send((w) => w.subscribe(3, sym('AAPL'), Channel.TRADES));
    expect(await bc.next((m) => m.kind === 'error' || m.kind === 'subscribed')).toMatchObject({ kind: 'subscribed', reqId: 3 });
    await closeAll(c, bc);
  });

  it('binary: the same subscription repeated in one frame sends one snapshot; an unknown instrument is an error, never SUBSCRIBED', async () => {
    const c = await BinClient.open(wsUrl());
    c.send((w) => { for (let i = 0; i < 50; i++) w.subscribe(100 + i, sym('MSFT'), Channel.BOOK | Channel.TICKER); });
    for (let i = 0; i < 50; i++) await c.next((m) => m.kind === 'subscribed' && m.reqId === 100 + i);
    await c.sync();
    expect(c.msgs.filter((m) => m.kind === 'book')).toHaveLength(1);
    expect(c.msgs.filter((m) => m.kind === 'ticker')).toHaveLength(1);
    c.send((w) => w.subscribe(7, 999, Channel.BOOK));
    expect(await c.next((m) => m.kind === 'error' || m.kind === 'subscribed')).toEqual({ kind: 'error', reqId: 7, code: 'unknown_symbol', msgType: MsgType.SUBSCRIBE });
    await c.sync();
    expect(c.msgs.filter((m) => m.kind === 'subscribed')).toEqual([]);
    await closeAll(c);
    void lots;
  });
});
