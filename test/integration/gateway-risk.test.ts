/**
 * Pre-trade risk through the gateway over loopback: every limit at its boundary (at the limit
 * accepted, one tick or lot past it rejected with its reason), instrument decimals converted to
 * ticks × lots exactly, halts and kill switches through the signed admin API (sequenced ADMIN
 * commands), cancels still allowed when halted or killed, and the reject frame over WebSocket;
 * market-order protection on a built-in instrument (its reference price's band, then the last
 * trade's).
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Gateway } from '../../src/gateway/gateway.js';
import { sign, type ApiKey } from '../../src/gateway/auth.js';
import { signedCaller } from '../support/signed-http.js';
import { nextTs } from '../support/gateway-client.js';
import { BinaryWriter, decodeFrame, type ServerBinMessage } from '../../src/codec/binary-protocol.js';
import { useGateway } from '../support/gateway-fixture.js';

type Json = Record<string, unknown>;

let gw: Gateway;
let base: string;
let keyA: ApiKey;
let keyB: ApiKey;
let keyC: ApiKey;
let admin: ApiKey;

useGateway({
  tmpPrefix: 'gw-risk-', capacity: 10_000, risk: { maxOpenOrders: 3 },
  instruments: [
    { symbol: 'QTY', tickSize: '0.01', lotSize: '1', minQty: '2', maxQty: '100' },
    { symbol: 'NOTL', tickSize: '0.01', lotSize: '1', minNotional: '5', maxNotional: '1000' },
    // every instrument has a price collar (default ±10 %); this one tests positions at far-apart prices
    { symbol: 'POS', tickSize: '0.01', lotSize: '1', maxPosition: '10', priceCollarBps: 10000 },
    { symbol: 'COL', tickSize: '0.01', lotSize: '1', priceCollarBps: 500 },
    { symbol: 'FX', tickSize: '0.00001', lotSize: '1000', minNotional: '1000.5' },
    { symbol: 'FAT', tickSize: '0.01', lotSize: '1' }, // no collar configured: the default ±10 %
  ],
}, (f) => {
  ({ gw, base } = f);
  keyA = f.key(1);
  keyB = f.key(2);
  keyC = f.key(3);
  admin = f.key(99, ['admin']);
}, 60_000);

const call = signedCaller(() => base);

let cid = 0;
const order = (k: ApiKey, symbol: string, side: 'buy' | 'sell', price: string | null, qty: string, tif: 'gtc' | 'ioc' = 'gtc'): Promise<{ status: number; json: Json }> =>
  call(k, 'POST', '/api/v1/orders', { clientOrderId: `r${++cid}`, symbol, side, type: price === null ? 'market' : 'limit', tif, ...(price === null ? {} : { price }), qty });

/** 201 (accepted) or the reject reason. */
async function outcome(p: Promise<{ status: number; json: Json }>): Promise<string> {
  const r = await p;
  return r.status === 201 ? 'ok' : String(r.json.error);
}

describe('pre-trade risk through the gateway', () => {
  it('min/max quantity at the boundary', async () => {
    expect(await outcome(order(keyA, 'QTY', 'buy', '1.00', '1', 'ioc'))).toBe('qty_limit');
    expect(await outcome(order(keyA, 'QTY', 'buy', '1.00', '2', 'ioc'))).toBe('ok');
    expect(await outcome(order(keyA, 'QTY', 'buy', '1.00', '100', 'ioc'))).toBe('ok');
    expect(await outcome(order(keyA, 'QTY', 'buy', '1.00', '101', 'ioc'))).toBe('qty_limit');
  });

  it('min/max notional at the boundary (price × qty in quote currency)', async () => {
    expect(await outcome(order(keyA, 'NOTL', 'buy', '1.00', '5', 'ioc'))).toBe('ok'); // 5.00
    expect(await outcome(order(keyA, 'NOTL', 'buy', '0.99', '5', 'ioc'))).toBe('min_notional'); // 4.95
    expect(await outcome(order(keyA, 'NOTL', 'buy', '10.00', '100', 'ioc'))).toBe('ok'); // 1000.00
    expect(await outcome(order(keyA, 'NOTL', 'buy', '10.01', '100', 'ioc'))).toBe('max_notional'); // 1001.00
    // a minimum that is not a whole number of ticks × lots rounds up: 1000.5 needs ≥ 1000.51
    expect(await outcome(order(keyA, 'FX', 'buy', '1.00051', '1000', 'ioc'))).toBe('ok');
    expect(await outcome(order(keyA, 'FX', 'buy', '1.00049', '1000', 'ioc'))).toBe('min_notional');
  });

  it('projected position limit, long and short, counting resting orders', async () => {
    expect(await outcome(order(keyB, 'POS', 'buy', '1.00', '6'))).toBe('ok');
    expect(await outcome(order(keyB, 'POS', 'buy', '1.00', '4'))).toBe('ok'); // 10 projected
    expect(await outcome(order(keyB, 'POS', 'buy', '0.99', '1'))).toBe('max_position');
    expect(await outcome(order(keyB, 'POS', 'sell', '2.00', '11'))).toBe('max_position');
    expect(await outcome(order(keyB, 'POS', 'sell', '2.00', '10'))).toBe('ok');
    // B's bids fill against A: B long 10, open buy 0 → still 10 projected, a further buy is refused
    expect(await outcome(order(keyA, 'POS', 'sell', '1.00', '10', 'ioc'))).toBe('ok');
    expect(await outcome(order(keyB, 'POS', 'buy', '0.50', '1'))).toBe('max_position');
    // the short side now has room for 10 + 10 (position +10, open sell 10): one more lot is too many
    expect(await outcome(order(keyB, 'POS', 'sell', '2.00', '10'))).toBe('ok');
    expect(await outcome(order(keyB, 'POS', 'sell', '2.00', '1'))).toBe('max_position');
  });

  it('price collar around the last trade', async () => {
    expect(await outcome(order(keyA, 'COL', 'sell', '100.00', '1'))).toBe('ok');
    expect(await outcome(order(keyC, 'COL', 'buy', '100.00', '1'))).toBe('ok'); // trade at 100.00
    expect(await outcome(order(keyA, 'COL', 'buy', '95.00', '1'))).toBe('ok'); // 100 − 5 %
    expect(await outcome(order(keyA, 'COL', 'buy', '94.99', '1'))).toBe('price_collar');
    expect(await outcome(order(keyA, 'COL', 'sell', '105.00', '1'))).toBe('ok');
    expect(await outcome(order(keyA, 'COL', 'sell', '105.01', '1'))).toBe('price_collar');
  });

  it('max open orders per account; orders that cannot rest are not counted', async () => {
    const k = gw.keys.create(7);
    for (let i = 0; i < 3; i++) expect(await outcome(order(k, 'QTY', 'buy', '1.00', '2'))).toBe('ok');
    expect(await outcome(order(k, 'QTY', 'buy', '1.00', '2'))).toBe('max_open_orders');
    expect(await outcome(order(k, 'QTY', 'sell', '9.00', '2', 'ioc'))).toBe('ok');
    const open = (await call(k, 'GET', '/api/v1/orders?status=open')).json as unknown as { orderId: string }[];
    expect((await call(k, 'DELETE', `/api/v1/orders/${open[0]!.orderId}`)).status).toBe(200);
    expect(await outcome(order(k, 'QTY', 'buy', '1.00', '2'))).toBe('ok');
  });

  it('halts a symbol through the admin API: new orders refused, cancels allowed, then resumed', async () => {
    const resting = await order(keyC, 'QTY', 'sell', '50.00', '2');
    expect(resting.status).toBe(201);
    expect((await call(keyA, 'POST', '/api/v1/admin/halt', { symbol: 'QTY', halted: true })).status).toBe(403);
    expect((await call(admin, 'POST', '/api/v1/admin/halt', { symbol: 'QTY', halted: true })).json).toMatchObject({ ok: true });
    expect(((await (await fetch(`${base}/api/v1/symbols`)).json()) as Json[])[0]).toMatchObject({ symbol: 'QTY', status: 'halted' });
    expect(await outcome(order(keyA, 'QTY', 'buy', '1.00', '2', 'ioc'))).toBe('halted');
    const id = resting.json.orderId as string;
    expect((await call(keyC, 'PATCH', `/api/v1/orders/${id}`, { price: '51.00', qty: '2' })).json).toMatchObject({ error: 'halted' });
    expect((await call(keyC, 'DELETE', `/api/v1/orders/${id}`)).status).toBe(200);
    expect((await call(admin, 'POST', '/api/v1/admin/halt', { symbol: 'QTY', halted: false })).json).toMatchObject({ ok: true });
    expect(await outcome(order(keyA, 'QTY', 'buy', '1.00', '2', 'ioc'))).toBe('ok');
    expect((await call(admin, 'POST', '/api/v1/admin/halt', { symbol: 'NOPE', halted: true })).status).toBe(404);
  });

  it('account kill switch cancels its resting orders and refuses new ones; global kill switch; both reversible', async () => {
    const k = gw.keys.create(8);
    expect(await outcome(order(k, 'POS', 'buy', '0.10', '1'))).toBe('ok');
    expect((await call(admin, 'POST', '/api/v1/admin/kill', { account: 8, on: true })).json).toMatchObject({ ok: true });
    for (let i = 0; i < 50 && ((await call(k, 'GET', '/api/v1/orders?status=open')).json as unknown as unknown[]).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await call(k, 'GET', '/api/v1/orders?status=open')).json).toEqual([]);
    expect(await outcome(order(k, 'POS', 'buy', '0.10', '1'))).toBe('kill_switch');
    expect(await outcome(order(keyA, 'QTY', 'buy', '1.00', '2', 'ioc'))).toBe('ok'); // others trade on
    expect((await call(admin, 'POST', '/api/v1/admin/kill', { account: 8, on: false })).json).toMatchObject({ ok: true });
    expect(await outcome(order(k, 'POS', 'buy', '0.10', '1'))).toBe('ok');
    expect((await call(admin, 'POST', '/api/v1/admin/kill', { all: true, on: true })).json).toMatchObject({ ok: true });
    expect(await outcome(order(keyA, 'QTY', 'buy', '1.00', '2', 'ioc'))).toBe('kill_switch');
    expect((await call(admin, 'POST', '/api/v1/admin/kill', { all: true, on: false })).json).toMatchObject({ ok: true });
    expect(await outcome(order(keyA, 'QTY', 'buy', '1.00', '2', 'ioc'))).toBe('ok');
    expect((await call(admin, 'POST', '/api/v1/admin/kill', { on: true })).status).toBe(400);
  });

  it('fat fingers (issue 12): refused on an instrument with no collar configured, before and after its first trade, on REST, JSON and binary', async () => {
    const HUGE = '92233720368547758.07'; // i64 max in ticks: beyond what any path carries
    expect((await order(keyA, 'FAT', 'sell', '190.02', '5')).status).toBe(201); // an ask, no trade yet
    const huge = await order(keyC, 'FAT', 'buy', HUGE, '1');
    expect(huge.json).toMatchObject({ error: 'bad_price' });
    expect(String(huge.json.message)).toMatch(/above its largest price 90071992547409.91/);
    expect(await outcome(order(keyC, 'FAT', 'buy', '1900.20', '1'))).toBe('price_collar');
    expect(await outcome(order(keyC, 'FAT', 'buy', '209.03', '1'))).toBe('price_collar');
    // JSON over WebSocket
    const ws = new WebSocket(base.replace('http', 'ws') + '/ws');
    const msgs: Json[] = [];
    ws.on('message', (d) => msgs.push(JSON.parse(d.toString()) as Json));
    await new Promise((r) => ws.once('open', r));
    const ts = nextTs();
    ws.send(JSON.stringify({ op: 'auth', key: keyC.key, ts, sig: sign(keyC.secret, keyC.key, ts) }));
    ws.send(JSON.stringify({ op: 'order', clientOrderId: 'fat1', symbol: 'FAT', side: 'buy', type: 'limit', tif: 'gtc', price: HUGE, qty: '1' }));
    ws.send(JSON.stringify({ op: 'order', clientOrderId: 'fat2', symbol: 'FAT', side: 'buy', type: 'limit', tif: 'gtc', price: '1900.20', qty: '1' }));
    for (let i = 0; i < 200 && msgs.filter((m) => m.type === 'reject').length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(msgs.find((m) => m.type === 'reject' && m.clientOrderId === 'fat1')).toMatchObject({ reason: 'bad_price', message: expect.stringMatching(/above its largest price 90071992547409.91/) });
    expect(msgs.find((m) => m.type === 'reject' && m.clientOrderId === 'fat2')).toMatchObject({ reason: 'price_collar' });
    ws.close();
    // binary: the price field is i64 ticks; above 2^53−1 the frame is refused at decode, never wrapped
    const bin = new WebSocket(base.replace('http', 'ws') + '/ws?protocol=binary');
    const got: ServerBinMessage[] = [];
    bin.on('message', (d: Buffer) => { for (const m of decodeFrame(d, 'server')) got.push(m); });
    await new Promise((r) => bin.once('open', r));
    const w = new BinaryWriter(256);
    const bts = nextTs();
    w.auth(1, keyC.key, bts, sign(keyC.secret, keyC.key, bts));
    bin.send(w.take()!);
    const fat = gw.bySymbol.get('FAT')!.id;
    const SENTINEL = 0x1234567;
    w.order(2, '9001', fat, 0, 0, 0, SENTINEL, 1);
    const frame = Buffer.from(w.take()!);
    const at = frame.indexOf(Buffer.from(new BigInt64Array([BigInt(SENTINEL)]).buffer));
    expect(at).toBeGreaterThan(0);
    frame.writeBigInt64LE((1n << 63n) - 1n, at);
    bin.send(frame);
    w.order(3, '9002', fat, 0, 0, 0, 190020, 1); // 1900.20
    bin.send(w.take()!);
    for (let i = 0; i < 200 && got.filter((m) => m.kind === 'error' || m.kind === 'reject').length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got.find((m) => m.kind === 'auth')).toMatchObject({ ok: true });
    expect(got.find((m) => m.kind === 'error')).toMatchObject({ code: 'bad_frame' });
    expect(got.find((m) => m.kind === 'reject')).toMatchObject({ clientOrderId: '9002', reason: 'price_collar' });
    bin.close();
    // the first trade, then the collar is around it
    expect(await outcome(order(keyC, 'FAT', 'buy', '190.02', '1'))).toBe('ok');
    expect(await outcome(order(keyC, 'FAT', 'buy', '1900.20', '1'))).toBe('price_collar');
    expect((await order(keyC, 'FAT', 'buy', HUGE, '1')).json).toMatchObject({ error: 'bad_price' });
    expect(await outcome(order(keyC, 'FAT', 'sell', '171.01', '1'))).toBe('price_collar');
    expect(await outcome(order(keyC, 'FAT', 'sell', '209.02', '1'))).toBe('ok');
    // nothing of the refused orders rests
    const open = (await call(keyC, 'GET', '/api/v1/orders?status=open')).json as unknown as { price: string }[];
    expect(open.map((o) => o.price)).toEqual(['209.02']);
  });

  it('answers a risk reject over WebSocket with the engine reason', async () => {
    const ws = new WebSocket(base.replace('http', 'ws') + '/ws');
    const msgs: Json[] = [];
    ws.on('message', (d) => msgs.push(JSON.parse(d.toString()) as Json));
    await new Promise((r) => ws.once('open', r));
    const ts = nextTs();
    ws.send(JSON.stringify({ op: 'auth', key: keyA.key, ts, sig: sign(keyA.secret, keyA.key, ts) }));
    ws.send(JSON.stringify({ op: 'order', clientOrderId: 'wsq', symbol: 'QTY', side: 'buy', type: 'limit', tif: 'ioc', price: '1.00', qty: '101', reqId: 9 }));
    for (let i = 0; i < 200 && !msgs.some((m) => m.type === 'reject'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(msgs.find((m) => m.type === 'auth')).toMatchObject({ ok: true });
    expect(msgs.find((m) => m.type === 'reject')).toMatchObject({ clientOrderId: 'wsq', reason: 'qty_limit' });
    ws.close();
  });
});

describe('market-order protection through the gateway (built-in AAPL: reference price 190.00, ±10 %)', () => {
  let g: Gateway;
  let b2 = '';
  const call2 = signedCaller(() => b2);
  const place = (k: ApiKey, side: 'buy' | 'sell', price: string | null, qty: string, tif: 'gtc' | 'ioc' = 'gtc'): Promise<{ status: number; json: Json }> =>
    call2(k, 'POST', '/api/v1/orders', { clientOrderId: `m${++cid}`, symbol: 'AAPL', side, type: price === null ? 'market' : 'limit', tif, ...(price === null ? {} : { price }), qty });
  useGateway({ tmpPrefix: 'gw-mkt-', capacity: 10_000 }, (f) => { // the built-in instruments
    g = f.gw;
    b2 = f.base;
  }, 60_000);

  it('a fat-finger bid never rests; a market sell never reaches a bid outside the band, and stops at its edge', async () => {
    const [a, b, c] = [g.keys.create(1), g.keys.create(2), g.keys.create(3)];
    // the fat-finger bid on an empty book: refused by the static band
    expect((await place(a, 'buy', '1000000.00', '1')).json).toMatchObject({ error: 'price_collar' });
    expect((await place(a, 'buy', '172.00', '5')).status).toBe(201); // inside [171.00, 209.00]
    expect((await place(b, 'sell', '205.00', '1')).status).toBe(201);
    expect((await place(c, 'buy', '205.00', '1', 'ioc')).json).toMatchObject({ status: 'filled' }); // last trade 205.00: band [184.50, 225.50]
    // the 172.00 bid is now outside the band: a market sell is refused, nothing trades
    expect((await place(c, 'sell', null, '1')).json).toMatchObject({ error: 'price_collar' });
    expect((await place(b, 'buy', '186.00', '2')).status).toBe(201);
    const m = await place(c, 'sell', null, '6');
    expect(m.status).toBe(201);
    expect(m.json).toMatchObject({ filled: '2', leaves: '0', status: 'cancelled' }); // 2 at 186.00, never 172.00; 4 cancelled
    const book = await (await fetch(`${b2}/api/v1/book/AAPL`)).json() as { bids: string[][] };
    expect(book.bids).toEqual([['172.00', '5']]); // the stale bid is untouched
  });
});
