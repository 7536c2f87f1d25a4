/**
 * Strategy orders in the rest of the house: a strategy pool on a real gateway's engine host. Its
 * orders show in the account's read models (orders, fills, positions over signed HTTP) and in the
 * public book, a client trades against them as against anyone's, and `ctx.pairs` runs a pairs saga
 * through the gateway's SagaManager as the strategy's account, whose fills count in the strategy's
 * position. The strategy kinds come from test/support/probe-strategies.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENUMS } from '../../src/abi/records.js';
import { STRATEGY_ID_BASE } from '../../src/domain/ids.js';
import { Gateway } from '../../src/gateway/gateway.js';
import type { ApiKey } from '../../src/gateway/auth.js';
import { StrategyPool } from '../../src/strategies/pool.js';
import type { PairsRequest } from '../../src/strategies/api.js';
import { signedCaller } from '../support/signed-http.js';

const MODULE = new URL('../support/probe-strategies.ts', import.meta.url).href;
const TIF: Record<string, number> = { gtc: ENUMS.Tif.GTC, ioc: ENUMS.Tif.IOC, fok: ENUMS.Tif.FOK, post_only: ENUMS.Tif.POST_ONLY };

describe('strategy orders through a gateway', () => {
  let gw: Gateway;
  let base: string;
  let pool: StrategyPool;
  let taker: ApiKey;
  let owner: ApiKey;
  const call = signedCaller(() => base);
  const until = async (what: string, fn: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> => {
    const end = Date.now() + ms;
    while (Date.now() < end) { if (await fn()) return; await new Promise((r) => setTimeout(r, 20)); }
    throw new Error(`timed out waiting for ${what}`);
  };

  beforeAll(async () => {
    gw = await Gateway.build({ dataDir: mkdtempSync(join(tmpdir(), 'gw-strat-')), capacity: 10_000, storage: 'off', journal: { durability: 'none' } });
    base = await gw.listen(0);
    taker = gw.keys.create(2);
    owner = gw.keys.create(1);
    const sagas = gw.sagas!;
    // the main thread's pairs handler: the strategy's request as a saga of its account
    const pairs = (account: number, r: PairsRequest): number => sagas.startPairs({
      account, legBTimeoutMs: r.legBTimeoutMs, legATimeoutMs: r.legATimeoutMs,
      legA: { symbol: r.legA.symbol, side: r.legA.side, price: BigInt(r.legA.price), qty: r.legA.qty, tif: TIF[r.legA.tif ?? 'gtc'] },
      legB: { symbol: r.legB.symbol, side: r.legB.side, price: BigInt(r.legB.price), qty: r.legB.qty, tif: TIF[r.legB.tif ?? 'gtc'] },
    });
    pool = await StrategyPool.start({ host: gw.host, instruments: gw.instruments, workers: 1, strategyModules: [MODULE], pairs });
  }, 120_000);

  afterAll(async () => {
    await pool?.close();
    await gw?.close();
  });

  it('a strategy\'s quote is in the book and the account\'s read models; a client fills it; fills and positions show over HTTP', async () => {
    // MSFT: tick 0.01, reference 410.00 (collar ±10 %); the probe bids 400.00 = 40000 ticks
    const msft = gw.bySymbol.get('MSFT')!.id;
    await pool.create({ id: 'q', kind: 'probe', account: 1, symbols: ['MSFT'], budgetUs: 200_000, params: { mode: 'quote', price: 40000, qty: 3 } });
    await until('the quote in the read models', () => gw.readModels.orders.open(1).length === 1);
    const o = gw.readModels.orders.open(1)[0]!;
    expect(o.orderId >= STRATEGY_ID_BASE).toBe(true);
    expect(o).toMatchObject({ account: 1, symbol: msft, side: 0, price: 40000n, qty: 3, leaves: 3, status: 'open' });
    // its tag is the clientOrderId the pool answers for it (the read models' resolver chains pool.clientOrderIdOf)
    expect(pool.clientOrderIdOf(o.orderId)).toBe('q1');
    const book = await fetch(`${base}/api/v1/book/MSFT`).then((r) => r.json()) as { bids: [string, string][] };
    expect(book.bids[0]).toEqual(['400.00', '3']);
    // a client sells 2 into it
    expect((await call(taker, 'POST', '/api/v1/orders', { clientOrderId: 's1', symbol: 'MSFT', side: 'sell', type: 'limit', tif: 'ioc', price: '400.00', qty: '2' })).status).toBe(201);
    await until('the fill in the strategy\'s status', () => pool.get('q')?.position.MSFT === 2);
    const pos = await call(owner, 'GET', '/api/v1/positions');
    expect((pos.json.positions as Record<string, unknown>[])[0]).toMatchObject({ symbol: 'MSFT', qty: '2' });
    const fills = await call(owner, 'GET', '/api/v1/fills');
    expect((fills.json.fills as Record<string, unknown>[]).map((f) => [f.orderId, f.qty, f.liquidity ?? f.side])).toEqual([[o.orderId.toString(), '2', expect.anything()]]);
    expect(gw.readModels.orders.get(o.orderId)).toMatchObject({ filled: 2, leaves: 1, status: 'open' });
    await pool.stop('q');
    await until('the quote cancelled in the read models', () => gw.readModels.orders.get(o.orderId)?.status === 'cancelled');
  }, 60_000);

  it('ctx.pairs starts a saga of the strategy\'s account through the gateway\'s SagaManager; its fills count in the strategy\'s position', async () => {
    // resting liquidity for both legs from the client: asks on AAPL (190.00) and bids on MSFT (400.00)
    expect((await call(taker, 'POST', '/api/v1/orders', { clientOrderId: 'a1', symbol: 'AAPL', side: 'sell', type: 'limit', tif: 'gtc', price: '190.00', qty: '5' })).status).toBe(201);
    expect((await call(taker, 'POST', '/api/v1/orders', { clientOrderId: 'b1', symbol: 'MSFT', side: 'buy', type: 'limit', tif: 'gtc', price: '400.00', qty: '5' })).status).toBe(201);
    // leg A buys 2 AAPL at 190.00, leg B (on A's fill) sells 2 MSFT at 400.00, both IOC
    await pool.create({ id: 'pair', kind: 'probe', account: 3, symbols: ['AAPL', 'MSFT'], budgetUs: 200_000, params: { mode: 'pairs', price: 19000, priceB: 40000, qty: 2 } });
    await until('both legs filled', () => { const s = pool.get('pair'); return s?.position.AAPL === 2 && s.position.MSFT === -2; });
    const sagaNo = Number((pool.get('pair')!.details as { saga: number }).saga);
    expect(sagaNo).toBeGreaterThan(0);
    await until('the saga completed', () => gw.sagas!.saga(sagaNo)?.state === 'completed');
    expect(gw.sagas!.saga(sagaNo)!.params.account).toBe(3);
    expect(pool.get('pair')!.fills).toBe(2);
  }, 60_000);
});
