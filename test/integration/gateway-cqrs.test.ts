/**
 * The read side through the gateway: positions with FIFO P&L and fills over signed HTTP from the
 * read models; the WebSocket private stream resumed after a reconnect (reports missed while away
 * replayed from the journal, then live, no gap and no duplicate); and a restart on the same data
 * directory (read models from their snapshot + the journal, same positions, trade ids continue).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Gateway } from '../../src/gateway/gateway.js';
import { sign, type ApiKey } from '../../src/gateway/auth.js';
import { signedCaller } from '../support/signed-http.js';
import { nextTs } from '../support/gateway-client.js';

type Json = Record<string, unknown>;
const dataDir = mkdtempSync(join(tmpdir(), 'gw-cqrs-'));
let gw: Gateway;
let base: string;

const call = signedCaller(() => base);

async function ws(k: ApiKey, extra: Json = {}): Promise<{ sock: WebSocket; msgs: Json[]; until: (p: (m: Json) => boolean) => Promise<Json> }> {
  const sock = new WebSocket(base.replace('http', 'ws') + '/ws');
  const msgs: Json[] = [];
  sock.on('message', (d) => msgs.push(JSON.parse(d.toString()) as Json));
  await new Promise((r) => sock.once('open', r));
  const ts = nextTs();
  sock.send(JSON.stringify({ op: 'auth', key: k.key, ts, sig: sign(k.secret, k.key, ts), ...extra }));
  const until = async (p: (m: Json) => boolean): Promise<Json> => {
    for (let i = 0; i < 300; i++) { const m = msgs.find(p); if (m) return m; await new Promise((r) => setTimeout(r, 10)); }
    throw new Error(`timed out; got ${JSON.stringify(msgs.slice(-5))}`);
  };
  await until((m) => m.type === 'auth');
  return { sock, msgs, until };
}

afterAll(async () => { await gw?.close(); });

describe('read models through the gateway', () => {
  let a: ApiKey;
  let b: ApiKey;

  it('serves positions with P&L and fills from the read models', async () => {
    gw = await Gateway.build({ dataDir, capacity: 10_000 });
    base = await gw.listen(0);
    a = gw.keys.create(1);
    b = gw.keys.create(2);
    // A buys 3 @ 400.00 and 2 @ 401.00, then sells 4 @ 402.00 (inside MSFT's collar around 410.00) (FIFO: realised 3×2.00 + 1×1.00 = 7.00)
    const trade = async (seller: ApiKey, buyer: ApiKey, px: string, q: string, cid: string): Promise<void> => {
      expect((await call(seller, 'POST', '/api/v1/orders', { clientOrderId: `${cid}s`, symbol: 'MSFT', side: 'sell', type: 'limit', tif: 'gtc', price: px, qty: q })).status).toBe(201);
      expect((await call(buyer, 'POST', '/api/v1/orders', { clientOrderId: `${cid}b`, symbol: 'MSFT', side: 'buy', type: 'limit', tif: 'ioc', price: px, qty: q })).status).toBe(201);
    };
    await trade(b, a, '400.00', '3', 't1');
    await trade(b, a, '401.00', '2', 't2');
    await trade(a, b, '402.00', '4', 't3');
    const p = await call(a, 'GET', '/api/v1/positions');
    expect(p.status).toBe(200);
    expect((p.json.positions as Json[])[0]).toMatchObject({ symbol: 'MSFT', qty: '1', realisedPnl: '7.00', mark: '402.00', unrealisedPnl: '1.00' });
    const pb = await call(b, 'GET', '/api/v1/positions?symbol=MSFT');
    expect((pb.json.positions as Json[])[0]).toMatchObject({ qty: '-1', realisedPnl: '-7.00' });
    const f = await call(a, 'GET', '/api/v1/fills?symbol=MSFT&limit=10');
    expect((f.json.fills as Json[]).map((x) => [x.side, x.price, x.qty, x.liquidity])).toEqual([
      ['buy', '400.00', '3', 'taker'], ['buy', '401.00', '2', 'taker'], ['sell', '402.00', '4', 'maker'],
    ]);
    // fill timestamps are Unix-epoch nanoseconds (the engine's tsInit), not a monotonic clock
    for (const x of f.json.fills as Json[]) {
      expect(typeof x.ts).toBe('string');
      const ageMs = Date.now() - Number(BigInt(x.ts as string) / 1_000_000n);
      expect(ageMs).toBeGreaterThanOrEqual(-1000);
      expect(ageMs).toBeLessThan(120_000);
    }
    // a trade's ts is the same engine stamp in the trades feed as in the fills, all 19 digits
    const tradesText = await (await fetch(`${base}/api/v1/trades/MSFT`)).text();
    for (const x of f.json.fills as Json[]) expect(tradesText).toContain(`"ts":${x.ts as string}}`);
    const page = await call(a, 'GET', `/api/v1/fills?afterSeq=${(f.json.fills as Json[])[0]!.seq}`);
    expect((page.json.fills as Json[]).length).toBe(2);
    expect((await call(a, 'GET', '/api/v1/positions?symbol=NOPE')).status).toBe(404);
  });

  it('resumes the private stream after a reconnect: missed reports replayed from the journal, then live, no duplicate', async () => {
    const c1 = await ws(a);
    c1.sock.send(JSON.stringify({ op: 'order', clientOrderId: 'r1', symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '190.00', qty: '10' }));
    const ack = await c1.until((m) => m.type === 'ack' && m.clientOrderId === 'r1');
    c1.sock.close();
    await new Promise((r) => setTimeout(r, 50));
    // while A is away, B sells into A's bid twice
    for (const q of ['3', '2']) expect((await call(b, 'POST', '/api/v1/orders', { clientOrderId: `x${q}`, symbol: 'AAPL', side: 'sell', type: 'limit', tif: 'ioc', price: '190.00', qty: q })).status).toBe(201);
    const c2 = await ws(a, { resumeFrom: ack.seq, reqId: 'res' });
    const resumed = await c2.until((m) => m.type === 'resumed');
    expect(resumed).toMatchObject({ from: (ack.seq as number) + 1, complete: true, reqId: 'res' });
    const replayed = c2.msgs.filter((m) => m.type === 'fill');
    expect(replayed.map((m) => [m.clientOrderId, m.qty, m.leaves])).toEqual([['r1', '3', '7'], ['r1', '2', '5']]);
    expect(replayed.every((m) => (m.seq as number) > (ack.seq as number))).toBe(true);
    // live from here on, on the new connection
    expect((await call(b, 'POST', '/api/v1/orders', { clientOrderId: 'x9', symbol: 'AAPL', side: 'sell', type: 'limit', tif: 'ioc', price: '190.00', qty: '1' })).status).toBe(201);
    await c2.until((m) => m.type === 'fill' && m.leaves === '4');
    const fills = c2.msgs.filter((m) => m.type === 'fill');
    expect(new Set(fills.map((m) => m.tradeId)).size).toBe(fills.length);
    expect(fills.map((m) => m.qty)).toEqual(['3', '2', '1']);
    c2.sock.close();
  });

  it('runs a pairs saga over HTTP: leg B after leg A fills; B unfilled → A unwound (compensated)', async () => {
    // liquidity for leg A (A buys 5 SOL-USD at 150.000) and for the unwind (a bid at 149.000); none for leg B
    expect((await call(b, 'POST', '/api/v1/orders', { clientOrderId: 'liqA', symbol: 'SOL-USD', side: 'sell', type: 'limit', tif: 'gtc', price: '150.000', qty: '5' })).status).toBe(201);
    expect((await call(b, 'POST', '/api/v1/orders', { clientOrderId: 'liqU', symbol: 'SOL-USD', side: 'buy', type: 'limit', tif: 'gtc', price: '149.000', qty: '5' })).status).toBe(201);
    const r = await call(a, 'POST', '/api/v1/sagas/pairs', {
      legA: { symbol: 'SOL-USD', side: 'buy', price: '150.000', qty: '5' }, legB: { symbol: 'EURUSD', side: 'sell', price: '1.10000', qty: '1000', tif: 'ioc' }, legBTimeoutMs: 2000,
    });
    expect(r.status).toBe(201);
    const no = r.json.no as number;
    let s: Json = r.json;
    for (let i = 0; i < 300 && !['completed', 'compensated', 'compensation_failed', 'a_unfilled'].includes(s.state as string); i++) {
      await new Promise((res) => setTimeout(res, 20));
      s = (await call(a, 'GET', `/api/v1/sagas/${no}`)).json;
    }
    expect(s.state).toBe('compensated');
    // A bought 5 and sold 5 back: flat in SOL-USD
    const pos = ((await call(a, 'GET', '/api/v1/positions?symbol=SOL-USD')).json.positions as Json[])[0]!;
    expect(pos).toMatchObject({ qty: '0.00' });
    expect((await call(b, 'GET', `/api/v1/sagas/${no}`)).status).toBe(404); // another account's saga is unknown
  });

  it('keeps positions and trade ids across a restart on the same data directory', async () => {
    const before = (await call(a, 'GET', '/api/v1/positions')).json.positions;
    const fillsBefore = (await call(a, 'GET', '/api/v1/fills?limit=1000')).json.fills as Json[];
    await gw.close();
    gw = await Gateway.build({ dataDir, capacity: 10_000 });
    base = await gw.listen(0);
    expect((await call(a, 'GET', '/api/v1/positions')).json.positions).toEqual(before);
    expect((await call(a, 'GET', '/api/v1/fills?limit=1000')).json.fills).toEqual(fillsBefore);
    // a new trade continues the engine's trade ids
    const z1 = await call(b, 'POST', '/api/v1/orders', { clientOrderId: 'z1', symbol: 'AAPL', side: 'sell', type: 'limit', tif: 'ioc', price: '190.00', qty: '1' });
    expect(z1.status).toBe(201);
    // the saga's legs (ids from 2^51) were in the journal: gateway order ids must not follow them
    expect(Number(z1.json.orderId)).toBeLessThan(2 ** 51);
    const after = (await call(a, 'GET', '/api/v1/fills?limit=1000')).json.fills as Json[];
    expect(after.length).toBe(fillsBefore.length + 1);
    expect(after[after.length - 1]!.tradeId).toBe(Math.max(...fillsBefore.map((x) => x.tradeId as number)) + 1);
  }, 60_000);
});
