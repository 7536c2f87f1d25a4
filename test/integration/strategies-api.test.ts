/**
 * The strategy API over a served gateway with a strategy worker pool (docs/strategies.md "API"):
 * create, list, get, start, stop, PATCH and reset over HTTP with admin, reader and other keys; the
 * 4xx answers; a circuit-breaker trip (an order over `maxOrderQty` after a PATCH) that cancels the
 * strategy's resting orders, kills its account in the engine (the ADMIN command attributed to the
 * strategy in the journal), and shows on the API, the WS channel `strategies`, /metrics and the
 * audit log; an admin reset that lifts the kill.
 *
 * The strategy kind is the test-only `api-test` (test/support/api-strategy.mjs), loaded by the pool
 * as an extra module. Orders rest on the built-in AAPL (tick 0.01, reference 190.00).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CMD_OFF, ENUMS, RING_CMD_OFF } from '../../src/abi/records.js';
import { readRecords } from '../../src/journal/recovery.js';
import type { ApiKey } from '../../src/gateway/auth.js';
import { WsClient, request, signed, sleep, type Msg } from '../support/gateway-client.js';
import { startGateway, useGateway, type GatewayFixture } from '../support/gateway-fixture.js';

const MODULE = new URL('../support/api-strategy.mjs', import.meta.url).href;
const ACCOUNT = 70_001;
const OTHER_ACCOUNT = 70_002;

let f: GatewayFixture;
let admin: ApiKey;
let reader: ApiKey;
let stranger: ApiKey;
let traderOfStrategy: ApiKey;
let tradeOnly: ApiKey;

type Status = Record<string, unknown> & { id: string; state: string; breaker: { state: string; trip: { reason: string } | null; trips: number }; orders: number; rejects: number; details: Record<string, unknown>; killSwitch: Record<string, unknown> | null };
const call = async (k: ApiKey | null, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> => {
  const r = k === null ? await request(f.base, method, path, body === undefined ? undefined : JSON.stringify(body), body === undefined ? {} : { 'content-type': 'application/json' }) : await signed(f.base, k, method, path, body);
  return { status: r.status, json: r.json as Record<string, unknown> };
};
/** Polls GET /api/v1/strategies/:id until `pred` holds (≤ 10 s). */
async function until(id: string, pred: (s: Status) => boolean, what: string): Promise<Status> {
  const deadline = Date.now() + 10_000;
  let last: unknown = null;
  while (Date.now() < deadline) {
    const r = await call(admin, 'GET', `/api/v1/strategies/${id}`);
    last = r.json;
    if (r.status === 200 && pred(r.json as Status)) return r.json as Status;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}; last ${JSON.stringify(last)}`);
}
/** AAPL bids at 189.xx as [price, qty] (public book). */
async function bids(): Promise<string[][]> {
  const r = await request(f.base, 'GET', '/api/v1/book/AAPL?depth=50');
  return ((r.json as { bids: string[][] }).bids).filter((b) => b[0]!.startsWith('189.'));
}
async function untilBids(want: string[][], what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let got: string[][] = [];
  while (Date.now() < deadline) { got = await bids(); if (JSON.stringify(got) === JSON.stringify(want)) return; await sleep(50); }
  throw new Error(`book: ${what}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
}
/** The ADMIN commands of the journal: [account, on (qty), clientOrderId]. */
const adminCommands = (): [number, number, string][] => adminCommandsIn(f.dataDir);
function adminCommandsIn(dataDir: string): [number, number, string][] {
  const out: [number, number, string][] = [];
  for (const r of readRecords(join(dataDir, 'journal'), 1n, undefined, false, true)) {
    const c = new DataView(r.cmd.buffer, r.cmd.byteOffset, r.cmd.byteLength);
    if (c.getUint8(CMD_OFF.op) !== ENUMS.Op.ADMIN) continue;
    let cid = '';
    for (let i = 0; i < r.cmd[RING_CMD_OFF.cidLen]!; i++) cid += String.fromCharCode(r.cmd[RING_CMD_OFF.cid0 + i]!);
    out.push([c.getUint32(CMD_OFF.account, true), c.getUint32(CMD_OFF.qty, true), cid]);
  }
  return out;
}
const auditLines = (): Record<string, unknown>[] => readFileSync(join(f.dataDir, 'logs', 'tradsys.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => typeof l.audit === 'string');

const config = (id: string, over: Record<string, unknown> = {}): Record<string, unknown> => ({ id, kind: 'api-test', account: ACCOUNT, symbols: ['AAPL'], params: { price: 18900, qty: 1 }, ...over });

useGateway({ tmpPrefix: 'gws-', capacity: 10_000, strategies: { workers: 1, modules: [MODULE] } }, async (fx) => {
  f = fx;
  admin = f.key(5, ['admin']);
  reader = f.key(ACCOUNT, ['read']);
  traderOfStrategy = f.key(ACCOUNT, ['trade']);
  stranger = f.key(OTHER_ACCOUNT, ['read']);
  tradeOnly = f.key(3, ['trade']);
}, 60_000);

describe('strategy API', () => {
  it('authenticates: unsigned 401, a key without admin or read 403, mutations need admin', async () => {
    expect((await call(null, 'GET', '/api/v1/strategies')).status).toBe(401);
    expect(await call(tradeOnly, 'GET', '/api/v1/strategies')).toMatchObject({ status: 403, json: { error: 'forbidden', message: 'this key lacks the admin or read permission' } });
    for (const k of [reader, tradeOnly]) {
      expect((await call(k, 'POST', '/api/v1/strategies', config('nope'))).json.error).toBe('forbidden');
      expect((await call(k, 'POST', '/api/v1/strategies/nope/start')).status).toBe(403);
      expect((await call(k, 'PATCH', '/api/v1/strategies/nope', { params: {} })).status).toBe(403);
    }
    expect((await call(admin, 'GET', '/api/v1/strategies')).json).toEqual({ workers: 1, strategies: [] });
    // the WS channel: authenticated admin keys only; no other name than "strategies"
    const ws = f.client(await WsClient.open(f.wsUrl));
    expect(await ws.ask({ op: 'subscribe', channels: ['strategies'] }, 'anon')).toMatchObject({ type: 'error', code: 'not_authenticated' });
    expect(await ws.ask({ op: 'subscribe', channels: ['strategies.s1'] }, 'bad')).toMatchObject({ type: 'error', code: 'bad_field' });
    await ws.auth(admin);
    expect(await ws.ask({ op: 'subscribe', channels: ['strategies', 'strategies'] }, 'ok')).toEqual({ type: 'subscribed', channels: ['strategies'], ok: true, reqId: 'ok' });
    expect(await ws.ask({ op: 'unsubscribe', channels: ['strategies'] }, 'off')).toEqual({ type: 'subscribed', channels: ['strategies'], ok: false, reqId: 'off' });
  });

  it('refuses bad configurations with 4xx and the catalog code, and answers 404 for unknown ids', async () => {
    const cases: [Record<string, unknown>, number, string, RegExp?][] = [
      [config('k1', { kind: 'nope' }), 400, 'ERR_STRATEGY_CONFIG', /unknown strategy kind "nope"/],
      [config('k2', { params: { qty: 1 } }), 400, 'ERR_STRATEGY_PARAMS', /price/],
      [config('k3', { params: { price: 18900, size: 1 } }), 400, 'ERR_STRATEGY_PARAMS', /size/],
      [config('k4', { limits: { maxOrderQty: -1 } }), 400, 'ERR_BREAKER_LIMITS', /maxOrderQty/],
      [config('k5', { limits: { noSuchLimit: 1 } }), 400, 'ERR_BREAKER_LIMITS', /noSuchLimit/],
      [config('k6', { symbols: ['NOPE'] }), 400, 'ERR_STRATEGY_CONFIG', /NOPE/],
      [config('k7', { colour: 'red' }), 400, 'bad_request'],
      [config('k8', { account: 0 }), 400, 'bad_request'],
      [config('an-id-that-is-longer-than-31-chars'), 400, 'bad_request'],
      [{ kind: 'api-test', account: ACCOUNT, symbols: ['AAPL'] }, 400, 'bad_request'],
    ];
    for (const [body, status, error, msg] of cases) {
      const r = await call(admin, 'POST', '/api/v1/strategies', body);
      expect({ body, status: r.status, error: r.json.error }).toEqual({ body, status, error });
      if (msg) expect(r.json.message).toMatch(msg);
    }
    expect((await call(admin, 'GET', '/api/v1/strategies')).json.strategies).toEqual([]);
    for (const [m, p, b] of [['GET', '/api/v1/strategies/ghost'], ['POST', '/api/v1/strategies/ghost/start'], ['POST', '/api/v1/strategies/ghost/stop'], ['POST', '/api/v1/strategies/ghost/reset'], ['PATCH', '/api/v1/strategies/ghost', { params: {} }]] as const) {
      expect(await call(admin, m, p, b)).toMatchObject({ status: 404, json: { error: 'ERR_STRATEGY_NOT_FOUND' } });
    }
    expect((await call(admin, 'PATCH', '/api/v1/strategies/ghost', { price: 1 })).json.error).toBe('bad_request');
  });

  it('create, list, get, stop, start and PATCH: the orders follow, reads are per account', async () => {
    const c = await call(admin, 'POST', '/api/v1/strategies', config('s1', { limits: { maxOrderQty: 5, cooldownMs: 1500 } }));
    expect(c.status).toBe(201);
    expect(c.json).toMatchObject({ id: 's1', kind: 'api-test', account: ACCOUNT, symbols: ['AAPL'], parameters: { price: 18900, qty: 1 } });
    await until('s1', (s) => s.state === 'running' && s.orders === 1, 's1 running with its first order');
    await untilBids([['189.00', '1']], 'the start bid rests');

    // a second strategy on the same account is refused; another account is fine
    expect(await call(admin, 'POST', '/api/v1/strategies', config('s2'))).toMatchObject({ status: 400, json: { error: 'ERR_STRATEGY_CONFIG' } });
    expect((await call(admin, 'POST', '/api/v1/strategies', config('s1', { account: OTHER_ACCOUNT }))).json.error).toBe('ERR_STRATEGY_CONFIG'); // duplicate id
    expect((await call(admin, 'POST', '/api/v1/strategies', config('s3', { account: OTHER_ACCOUNT, autoStart: false }))).status).toBe(201);

    const all = (await call(admin, 'GET', '/api/v1/strategies')).json.strategies as Status[];
    expect(all.map((s) => s.id).sort()).toEqual(['s1', 's3']);
    expect(all.find((s) => s.id === 's3')!.state).toBe('created');
    for (const s of all) {
      for (const k of ['id', 'kind', 'state', 'priority', 'worker', 'parameters', 'eventsPerSec', 'decisionUs', 'orders', 'fills', 'position', 'realisedPnl', 'unrealisedPnl', 'breaker']) expect(s, k).toHaveProperty(k);
    }
    // a read key sees its own account's strategies only; others' answer like unknown ids
    expect(((await call(reader, 'GET', '/api/v1/strategies')).json.strategies as Status[]).map((s) => s.id)).toEqual(['s1']);
    expect((await call(reader, 'GET', '/api/v1/strategies/s1')).status).toBe(200);
    expect(await call(reader, 'GET', '/api/v1/strategies/s3')).toEqual(await call(reader, 'GET', '/api/v1/strategies/ghost').then((r) => ({ ...r, json: { ...r.json, message: 'no strategy s3' } })));
    expect(((await call(stranger, 'GET', '/api/v1/strategies')).json.strategies as Status[]).map((s) => s.id)).toEqual(['s3']);

    // stop cancels its order; start places a new one
    expect((await call(admin, 'POST', '/api/v1/strategies/s1/stop')).status).toBe(200);
    await until('s1', (s) => s.state === 'stopped', 's1 stopped');
    await untilBids([], 'stop cancelled the bid');
    expect((await call(admin, 'POST', '/api/v1/strategies/s1/start')).status).toBe(200);
    await until('s1', (s) => s.state === 'running' && s.orders === 2, 's1 running again');
    await untilBids([['189.00', '1']], 'start placed a new bid');

    // PATCH: validated against the schema, then a new bid with the new parameters
    expect((await call(admin, 'PATCH', '/api/v1/strategies/s1', { params: { price: 'x' } })).json.error).toBe('ERR_STRATEGY_PARAMS');
    const p = await call(admin, 'PATCH', '/api/v1/strategies/s1', { params: { price: 18901, qty: 2 } });
    expect(p.status).toBe(200);
    await until('s1', (s) => (s.parameters as { qty: number }).qty === 2 && s.orders === 3, 'the PATCHed bid');
    await untilBids([['189.01', '2'], ['189.00', '1']], 'the PATCHed bid rests');
  });

  it('a strategy\'s pairs request runs the gateway\'s pairs saga as the strategy\'s account', async () => {
    expect((await call(admin, 'POST', '/api/v1/strategies', config('p1', { account: 70_003, symbols: ['AAPL', 'MSFT'], params: { price: 18800 } }))).status).toBe(201);
    await until('p1', (s) => s.state === 'running', 'p1 running');
    expect((await call(admin, 'PATCH', '/api/v1/strategies/p1', { params: { price: 18800, pairsB: 41000 } })).status).toBe(200);
    const st = await until('p1', (s) => typeof s.details.saga === 'number', 'the saga number in p1\'s status');
    const owner = f.key(70_003, ['read']);
    const saga = await call(owner, 'GET', `/api/v1/sagas/${String(st.details.saga)}`);
    expect(saga.status).toBe(200);
    expect(saga.json).toMatchObject({ no: st.details.saga, params: { account: 70_003, legA: { symbol: 3, side: 0, price: '18800', qty: 1 }, legB: { symbol: 4, side: 1, price: '41000', qty: 1 } } });
    // another account's key does not see it
    expect((await call(reader, 'GET', `/api/v1/sagas/${String(st.details.saga)}`)).status).toBe(404);
    expect((await call(admin, 'POST', '/api/v1/strategies/p1/stop')).status).toBe(200);
  });

  it('a trip cancels the strategy\'s orders, kills its account (attributed in the journal) and shows on the API, WS, /metrics and the audit log; reset lifts it', async () => {
    const ws = f.client(await WsClient.open(f.wsUrl));
    expect(await ws.auth(admin)).toMatchObject({ ok: true });
    expect(await ws.ask({ op: 'subscribe', channels: ['strategies'] }, 'sub')).toMatchObject({ type: 'subscribed', channels: ['strategies'], ok: true });
    const nonAdmin = f.client(await WsClient.open(f.wsUrl));
    await nonAdmin.auth(reader);
    expect(await nonAdmin.ask({ op: 'subscribe', channels: ['strategies', 'book.AAPL'] }, 'sub')).toMatchObject({ type: 'error', code: 'forbidden' });

    // qty 9 > maxOrderQty 5: the breaker refuses the order and trips
    expect((await call(admin, 'PATCH', '/api/v1/strategies/s1', { params: { price: 18902, qty: 9 } })).status).toBe(200);
    const trip = await ws.next((m) => m.type === 'strategyTrip', 10_000);
    expect(trip).toMatchObject({ type: 'strategyTrip', id: 's1', kind: 'api-test', account: ACCOUNT, reason: 'max_order_qty' });
    expect(typeof trip.killSeq).toBe('number');
    expect(await ws.next((m: Msg) => m.type === 'strategyState' && m.id === 's1' && m.state === 'tripped', 10_000)).toMatchObject({ account: ACCOUNT });
    const st = await until('s1', (s) => s.state === 'tripped', 's1 tripped');
    expect(st.breaker).toMatchObject({ state: 'open', trip: { reason: 'max_order_qty' }, trips: 1 });
    expect(st.killSwitch).toMatchObject({ strategy: 's1', reason: 'max_order_qty', seq: trip.killSeq });
    expect(st.orders).toBe(3); // the refused order never reached the ring
    await untilBids([], 'the trip cancelled both resting bids');

    // the engine's kill switch holds the strategy's account: an order of that account is refused
    const o = await signed(f.base, traderOfStrategy, 'POST', '/api/v1/orders', { clientOrderId: 'k1', symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '189.00', qty: '1' });
    expect(o.json).toMatchObject({ error: 'kill_switch' });
    expect(adminCommands()).toEqual([[ACCOUNT, 1, 'strategy:s1']]);

    const metrics = (await request(f.base, 'GET', '/metrics')).text;
    expect(metrics).toContain('tradsys_strategy_breaker_trips_total{strategy="s1",kind="api-test"} 1');
    expect(metrics).toContain('tradsys_strategy_trips_total{strategy="s1",kind="api-test",reason="max_order_qty"} 1');
    expect(metrics).toContain('tradsys_strategy_state{strategy="s1",kind="api-test",state="tripped"} 1');
    expect(metrics).toContain('tradsys_strategy_breaker_state{strategy="s1",kind="api-test",state="open"} 1');
    expect(metrics).toContain('tradsys_strategy_orders_total{strategy="s1",kind="api-test"} 3');
    expect(metrics).toContain('tradsys_strategy_kill_switch{strategy="s1",kind="api-test"} 1');
    expect(metrics).toMatch(/^tradsys_strategy_decision_latency_us\{strategy="s1",kind="api-test",quantile="0\.99"\} \d/m);

    // reset: not before the cooldown (409), then half-open with the kill lifted (journaled too)
    expect(await call(reader, 'POST', '/api/v1/strategies/s1/reset')).toMatchObject({ status: 403 });
    const early = await call(admin, 'POST', '/api/v1/strategies/s1/reset');
    expect(early).toMatchObject({ status: 409, json: { error: 'ERR_BREAKER_COOLDOWN' } });
    await sleep(1600);
    const reset = await call(admin, 'POST', '/api/v1/strategies/s1/reset');
    expect(reset.status).toBe(200);
    expect((reset.json as Status).breaker.state).toBe('half_open');
    expect((reset.json as Status).killSwitch).toBeNull();
    expect((await request(f.base, 'GET', '/metrics')).text).toContain('tradsys_strategy_kill_switch{strategy="s1",kind="api-test"} 0');
    expect(await ws.next((m) => m.type === 'strategyReset', 5000)).toMatchObject({ id: 's1', account: ACCOUNT, breaker: 'half_open' });
    expect(adminCommands()).toEqual([[ACCOUNT, 1, 'strategy:s1'], [ACCOUNT, 0, 'strategy:s1']]);
    const after = await signed(f.base, traderOfStrategy, 'POST', '/api/v1/orders', { clientOrderId: 'k2', symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '189.00', qty: '1' });
    expect(after.status).toBeLessThan(300);

    const audit = auditLines();
    const events = audit.filter((l) => String(l.audit).startsWith('strategy.')).map((l) => `${String(l.audit)}:${String(l.outcome ?? '')}`);
    for (const e of ['strategy.create:ok', 'strategy.create:refused', 'strategy.stop:ok', 'strategy.start:ok', 'strategy.params:ok', 'strategy.trip:killed', 'strategy.reset:refused', 'strategy.reset:ok']) expect(events).toContain(e);
    const tripLine = audit.find((l) => l.audit === 'strategy.trip')!;
    expect(tripLine).toMatchObject({ strategy: 's1', account: ACCOUNT, reason: 'max_order_qty', killSeq: trip.killSeq });
    expect(audit.find((l) => l.audit === 'strategy.create' && l.outcome === 'ok')).toMatchObject({ key: admin.key, account: 5 });
  }, 30_000);
});

describe('strategy API: a symbol velocity pause', () => {
  it('is reported like a trip (reason velocity) but kills nothing: orders on the symbol cancelled, breaker closed', async () => {
    expect((await call(admin, 'POST', '/api/v1/strategies', config('v1', { account: 70_004, symbols: ['EURUSD'], params: { price: 107000 } }))).status).toBe(201);
    await until('v1', (s) => s.state === 'running' && s.orders === 1, 'v1 quoting');
    const eurBids = async (): Promise<string[][]> => ((await request(f.base, 'GET', '/api/v1/book/EURUSD?depth=50')).json as { bids: string[][] }).bids;
    for (let i = 0; i < 200 && (await eurBids()).length === 0; i++) await sleep(25);
    expect(await eurBids()).toEqual([['1.07000', '1000']]);
    const ws = f.client(await WsClient.open(f.wsUrl));
    await ws.auth(admin);
    await ws.ask({ op: 'subscribe', channels: ['strategies'] }, 'sub');
    const before = adminCommands();
    const seller = f.key(2, ['trade']);
    const buyer = f.key(4, ['trade']);
    const order = (k: ApiKey, side: string, price: string, n: number) => signed(f.base, k, 'POST', '/api/v1/orders', { clientOrderId: `v${n}`, symbol: 'EURUSD', side, type: 'limit', tif: 'gtc', price, qty: '1000' });
    // two trades 3.2 % apart within the velocity window (DEFAULT_VELOCITY: 3 % in 5 s)
    expect((await order(seller, 'sell', '1.08000', 1)).status).toBe(201);
    expect((await order(buyer, 'buy', '1.08000', 2)).status).toBe(201);
    expect((await order(seller, 'sell', '1.11500', 3)).status).toBe(201);
    expect((await order(buyer, 'buy', '1.11500', 4)).status).toBe(201);
    expect(await ws.next((m) => m.type === 'strategyTrip' && m.id === 'v1', 10_000)).toMatchObject({ reason: 'velocity', account: 70_004, killSeq: null });
    for (let i = 0; i < 200 && (await eurBids()).length > 0; i++) await sleep(25);
    expect(await eurBids()).toEqual([]);
    const st = await until('v1', (s) => s.state === 'running', 'v1 status');
    expect(st.breaker).toMatchObject({ state: 'closed', trips: 0 });
    expect(adminCommands()).toEqual(before);
    const metrics = (await request(f.base, 'GET', '/metrics')).text;
    expect(metrics).toContain('tradsys_strategy_trips_total{strategy="v1",kind="api-test",reason="velocity"} 1');
    expect(auditLines().find((l) => l.audit === 'strategy.trip' && l.strategy === 'v1')).toMatchObject({ reason: 'velocity', outcome: 'paused', killSeq: null });
  }, 30_000);
});

describe('strategy orders in the read models', () => {
  it('a fill of a strategy order names its tag as the clientOrderId in the account\'s fills', async () => {
    expect((await call(admin, 'POST', '/api/v1/strategies', config('f1', { account: 70_005, symbols: ['MSFT'], params: { price: 40900 } }))).status).toBe(201);
    await until('f1', (s) => s.orders === 1, 'f1 quoting');
    const seller = f.key(2, ['trade']);
    let sold: { status: number; json: unknown } = { status: 0, json: null };
    for (let i = 0; i < 200; i++) {
      sold = await signed(f.base, seller, 'POST', '/api/v1/orders', { clientOrderId: `f1hit${i}`, symbol: 'MSFT', side: 'sell', type: 'limit', tif: 'ioc', price: '409.00', qty: '1' });
      if ((sold.json as { filled?: string }).filled === '1') break;
      await sleep(25);
    }
    expect(sold.json).toMatchObject({ filled: '1' });
    const owner = f.key(70_005, ['read']);
    const fills = (await signed(f.base, owner, 'GET', '/api/v1/fills?symbol=MSFT')).json as { fills: { clientOrderId: string; side: string; price: string; liquidity: string }[] };
    expect(fills.fills).toEqual([expect.objectContaining({ clientOrderId: 'start', side: 'buy', price: '409.00', liquidity: 'maker' })]);
    await until('f1', (s) => s.fills === 1, 'f1 sees its fill');
  });
});

describe('strategy API across a restart', () => {
  it('a kill set by a trip stays on and shows after a restart; a reset (or an admin\'s kill-off) lifts it; books start from the resting orders', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gwr-'));
    const boot = [
      { id: 'r1', kind: 'api-test', account: 70_101, symbols: ['AAPL'], params: { price: 18700 }, limits: { maxOrderQty: 5, cooldownMs: 0 } },
      { id: 'r2', kind: 'api-test', account: 70_102, symbols: ['AAPL'], params: { price: 18600 }, limits: { maxOrderQty: 5, cooldownMs: 0 } },
    ];
    const opts = { dataDir: dir, capacity: 10_000, strategies: { workers: 1, modules: [MODULE], configs: boot } };
    let g = await startGateway(opts);
    const k = g.key(5, ['admin']);
    const seqs: Record<string, unknown> = {};
    try {
      const ws = g.client(await WsClient.open(g.wsUrl));
      await ws.auth(k);
      await ws.ask({ op: 'subscribe', channels: ['strategies'] }, 'sub');
      for (const id of ['r1', 'r2']) {
        expect((await signed(g.base, k, 'PATCH', `/api/v1/strategies/${id}`, { params: { price: 18700, qty: 9 } })).status).toBe(200);
        seqs[id] = (await ws.next((m) => m.type === 'strategyTrip' && m.id === id, 10_000)).killSeq;
      }
      // a client's bid rests across the restart: the new workers' books start with it
      expect((await signed(g.base, g.key(2, ['trade']), 'POST', '/api/v1/orders', { clientOrderId: 'rest', symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '186.00', qty: '3' })).status).toBe(201);
    } finally {
      await g.close();
    }
    g = await startGateway(opts);
    try {
      const get = async (id: string): Promise<Status> => (await signed(g.base, k, 'GET', `/api/v1/strategies/${id}`)).json as Status;
      // a fresh breaker, but the account is still killed: the start order is refused by the engine
      for (const id of ['r1', 'r2']) {
        let st = await get(id);
        for (let i = 0; i < 200 && st.rejects === 0; i++) { await sleep(25); st = await get(id); }
        expect(st).toMatchObject({ state: 'running', breaker: { state: 'closed' }, rejects: 1, killSwitch: { strategy: id, reason: 'max_order_qty', seq: seqs[id] } });
        expect(st.details.bestBid).toBe(18600);
      }
      const warn = readFileSync(join(dir, 'logs', 'tradsys.log'), 'utf8').split('\n').filter((l) => l.includes('"strategy.still_killed"'));
      expect(warn.length).toBe(2);
      // r1: the strategy reset lifts it (breaker not open: the kill only)
      const r = await signed(g.base, k, 'POST', '/api/v1/strategies/r1/reset');
      expect(r.status).toBe(200);
      expect((r.json as Status).killSwitch).toBeNull();
      // r2: an admin lifts it through the admin route: no longer shown
      expect((await signed(g.base, k, 'POST', '/api/v1/admin/kill', { account: 70_102, on: false })).json).toMatchObject({ ok: true });
      expect((await get('r2')).killSwitch).toBeNull();
      // a reset with no open breaker and no kill is a state error
      expect((await signed(g.base, k, 'POST', '/api/v1/strategies/r2/reset')).json).toMatchObject({ error: 'ERR_STRATEGY_STATE' });
      const lifts = adminCommandsIn(dir).filter(([a, on]) => (a === 70_101 || a === 70_102) && on === 0);
      expect(lifts).toEqual([[70_101, 0, 'strategy:r1'], [70_102, 0, '']]);
      const t = g.key(70_101, ['trade']);
      expect((await signed(g.base, t, 'POST', '/api/v1/orders', { clientOrderId: 'after', symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '187.00', qty: '1' })).status).toBe(201);
    } finally {
      await g.close();
    }
    // the kill list is empty again on disk
    expect(JSON.parse(readFileSync(join(dir, 'strategy-kills.json'), 'utf8'))).toEqual({ version: 1, kills: {} });
  }, 60_000);
});

describe('strategy signals with storage on', () => {
  it('a strategy\'s signals reach ClickHouse\'s strategy_signals (embedded chDB)', async () => {
    const g = await startGateway({ tmpPrefix: 'gwsig-', storage: 'auto', storageEnv: {}, strategies: { workers: 1, modules: [MODULE] } });
    try {
      const k = g.key(5, ['admin']);
      expect((await signed(g.base, k, 'POST', '/api/v1/strategies', config('sig1', { params: { price: 18900, qty: 3 } }))).status).toBe(201);
      const st = g.gw.storage!.storage;
      let rows: Record<string, unknown>[] = [];
      for (let i = 0; i < 200 && rows.length === 0; i++) {
        await sleep(50);
        rows = (await st.query('SELECT strategy, symbol, signal, value, price, qty, ts > 0 AS stamped FROM strategy_signals')).rows as Record<string, unknown>[];
      }
      expect(rows).toEqual([{ strategy: 'sig1', symbol: 'AAPL', signal: 'bid', value: 18900, price: '18900', qty: '3', stamped: 1 }]);
    } finally {
      await g.close();
    }
  }, 30_000);
});

describe('strategy API: DELETE', () => {
  it('stops a strategy (its orders cancelled) and forgets it: id and account free again', async () => {
    const book185 = async (): Promise<string[][]> => ((await request(f.base, 'GET', '/api/v1/book/AAPL?depth=50')).json as { bids: string[][] }).bids.filter((b) => b[0] === '185.00');
    expect((await call(admin, 'POST', '/api/v1/strategies', config('d1', { account: 70_006, params: { price: 18500 } }))).status).toBe(201);
    for (let i = 0; i < 200 && (await book185()).length === 0; i++) await sleep(25);
    expect(await book185()).toEqual([['185.00', '1']]);
    expect((await call(reader, 'DELETE', '/api/v1/strategies/d1')).status).toBe(403);
    expect(await call(admin, 'DELETE', '/api/v1/strategies/ghost')).toMatchObject({ status: 404, json: { error: 'ERR_STRATEGY_NOT_FOUND' } });
    const del = await call(admin, 'DELETE', '/api/v1/strategies/d1');
    expect(del).toMatchObject({ status: 200, json: { id: 'd1', account: 70_006, state: 'stopped', why: 'removed' } });
    for (let i = 0; i < 200 && (await book185()).length > 0; i++) await sleep(25);
    expect(await book185()).toEqual([]);
    expect((await call(admin, 'GET', '/api/v1/strategies/d1')).status).toBe(404);
    expect(((await call(admin, 'GET', '/api/v1/strategies')).json.strategies as Status[]).map((x) => x.id)).not.toContain('d1');
    // the same id and account again, with other limits
    expect((await call(admin, 'POST', '/api/v1/strategies', config('d1', { account: 70_006, params: { price: 18500 }, limits: { maxOrderQty: 2 } }))).status).toBe(201);
    expect(auditLines().filter((l) => l.audit === 'strategy.remove').map((l) => l.outcome)).toEqual(['refused', 'ok']);
  });
});

describe('strategy API on a server without strategies', () => {
  it('answers 503 unavailable and shows no strategy series on /metrics', async () => {
    const g = await startGateway({ tmpPrefix: 'gwn-' });
    try {
      const k = g.key(5, ['admin']);
      const r = await signed(g.base, k, 'GET', '/api/v1/strategies');
      expect(r.status).toBe(503);
      expect(r.json).toMatchObject({ error: 'unavailable' });
      expect((await request(g.base, 'GET', '/metrics')).text).not.toContain('tradsys_strategy_');
    } finally {
      await g.close();
    }
  });
});
