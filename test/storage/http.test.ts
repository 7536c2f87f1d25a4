import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadInstruments } from '../../src/domain/instruments.js';
import { migrate } from '../../src/storage/schema.js';
import { registerStorage, type StorageApi } from '../../src/gateway/http/queries.js';
import { openBackend, type Backend } from '../support/storage-backends.js';
import { Metrics } from '../../src/monitoring/metrics.js';

const instruments = loadInstruments([{ symbol: 'ETH-USD', tickSize: '0.05', lotSize: '0.001' }, { symbol: 'BTC-USD', tickSize: '0.5', lotSize: '0.0001' }]);
const T0 = 1_790_000_040_000_000_000n; // minute-aligned
const MIN = 60_000_000_000n;

describe.each(['chdb', 'server'] as const)('storage HTTP API on %s', (name) => {
  let b: Backend;
  let app: FastifyInstance;
  let api: StorageApi;
  beforeAll(async () => {
    b = await openBackend(name, 'http');
    await migrate(b.storage);
    // three trades in minute 0, one in minute 1
    const trades = [[0n, 1, 60000, 2000], [10n, 2, 60010, 1000], [20n, 3, 59990, 3000], [MIN + 5n, 4, 60020, 500]] as const;
    await b.storage.insert('trades', trades.map(([dt, id, px, q]) => ({ symbol: 'ETH-USD', ts: (T0 + dt).toString(), trade_id: id, seq: id, price: px, qty: q, taker_side: 'buy', taker_order_id: id, maker_order_id: 0, taker_account: 1, maker_account: 2 })));
    app = Fastify();
    api = registerStorage(app, b.storage, null, {
      instruments, recentTrades: () => JSON.stringify([{ type: 'trade', symbol: 'ETH-USD', tradeId: 99 }]),
      authorizeSql: (req, reply) => { if (req.headers['x-analyst'] === 'yes') return true; void reply.code(403).send({ error: 'forbidden' }); return false; },
    });
    await app.ready();
  });
  afterAll(async () => { await app?.close(); await b?.close(); });

  it('bars: OHLCV in decimals, per minute', async () => {
    const r = await app.inject({ url: `/api/v1/bars/ETH-USD?interval=1m&from=${T0}&to=${T0 + 2n * MIN}` });
    expect(r.statusCode).toBe(200);
    const j = r.json();
    expect(j.bars).toEqual([
      // VWAP = (60000·2000 + 60010·1000 + 59990·3000) / 6000 ticks × 0.05 = 2999.8333…, truncated at 8 decimals past the tick
      { ts: T0.toString(), open: '3000.00', high: '3000.50', low: '2999.50', close: '2999.50', volume: '6.000', vwap: '2999.8333333333', trades: 3 },
      { ts: (T0 + MIN).toString(), open: '3001.00', high: '3001.00', low: '3001.00', close: '3001.00', volume: '0.500', vwap: '3001.0000000000', trades: 1 },
    ]);
    expect((await app.inject({ url: '/api/v1/bars/ETH-USD?interval=7m' })).json()).toMatchObject({ error: 'ERR_STORAGE_PARAM' });
    expect((await app.inject({ url: '/api/v1/bars/NOPE' })).statusCode).toBe(404);
    expect((await app.inject({ url: "/api/v1/bars/ETH-USD?from=1'%20OR%201=1" })).statusCode).toBe(400);
  });

  it('trades: memory without from/to, ClickHouse with them, same shape', async () => {
    expect((await app.inject({ url: '/api/v1/trades/ETH-USD' })).json()).toEqual([{ type: 'trade', symbol: 'ETH-USD', tradeId: 99 }]);
    const j = (await app.inject({ url: `/api/v1/trades/ETH-USD?from=${T0}&to=${T0 + 15n}` })).json();
    expect(j.map((t: { tradeId: number }) => t.tradeId)).toEqual([2, 1]);
    expect(j[0]).toMatchObject({ type: 'trade', symbol: 'ETH-USD', tradeId: 2, price: '3000.50', qty: '1.000', takerSide: 'buy' });
    // ts keeps all 19 digits of the epoch-ns value (a double would round it)
    const text = (await app.inject({ url: `/api/v1/trades/ETH-USD?from=${T0}&to=${T0 + 15n}` })).body;
    expect(text).toContain(`"tradeId":2,`);
    expect(text).toContain(`"ts":${T0 + 10n},`);
    expect(text).toContain(`"ts":${T0},`);
  });

  it('vwap over a range', async () => {
    const j = (await app.inject({ url: `/api/v1/vwap/ETH-USD?from=${T0}&to=${T0 + MIN}` })).json();
    expect(j).toMatchObject({ vwap: '2999.8333333333', volume: '6.000', trades: 3 });
  });

  it('analyst SQL: authorised SELECT with parameters, cached; writes, injections and bad SQL fail cleanly', async () => {
    const post = (sql: string, params?: Record<string, unknown>, analyst = true) => app.inject({ method: 'POST', url: '/api/v1/sql', headers: analyst ? { 'x-analyst': 'yes' } : {}, payload: params ? { sql, params } : { sql } });
    expect((await post('SELECT 1', undefined, false)).statusCode).toBe(403);
    const ok = await post('SELECT trade_id, price FROM trades WHERE symbol = {s:String} ORDER BY trade_id -- newest last', { s: 'ETH-USD' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().rows.map((r: { trade_id: string }) => r.trade_id)).toEqual(['1', '2', '3', '4']);
    const hits = api.queries.cache.hits;
    await post('SELECT  trade_id, price FROM trades\nWHERE symbol = {s:String} ORDER BY trade_id', { s: 'ETH-USD' });
    expect(api.queries.cache.hits).toBe(hits + 1);
    const inj = await post('SELECT count() AS n FROM trades WHERE symbol = {s:String}', { s: "ETH-USD' OR 1=1 --" });
    expect(inj.json()).toMatchObject({ rows: [{ n: '0' }] });
    for (const [sql, code] of [
      ['DROP TABLE trades', 'ERR_STORAGE_NOT_SELECT'], ['SELECT 1; DROP TABLE trades', 'ERR_STORAGE_NOT_SELECT'], ['INSERT INTO trades VALUES (1)', 'ERR_STORAGE_NOT_SELECT'],
      ['SELECT 1 FORMAT TSV', 'ERR_STORAGE_NOT_SELECT'], ['SELECT 1 SETTINGS readonly=0', 'ERR_STORAGE_NOT_SELECT'], ["SELECT * FROM file('/etc/passwd')", 'ERR_STORAGE_SANDBOX'],
      ["SELECT * FROM url('http://127.0.0.1:1/')", 'ERR_STORAGE_SANDBOX'], ['SELECT 1 --\n; DROP TABLE trades', 'ERR_STORAGE_NOT_SELECT'],
      ['SELEC 1', 'ERR_STORAGE_NOT_SELECT'], ['SELECT nope FROM trades', 'ERR_STORAGE_QUERY'], ['SELECT * FROM trades WHERE', 'ERR_STORAGE_QUERY'],
      ["SELECT 'unterminated", 'ERR_STORAGE_QUERY'], ['SELECT {x:UInt8}', 'ERR_STORAGE_PARAM'],
    ] as const) {
      const r = await post(sql);
      // issue 12: what the sandbox refuses (table functions, …) is 403 ERR_STORAGE_SANDBOX; a query that is not one plain SELECT stays 400
      expect(r.statusCode, sql).toBe(code === 'ERR_STORAGE_SANDBOX' ? 403 : 400);
      expect(r.json().error, sql).toBe(code);
    }
    // the row limit (100,000) is enforced by ClickHouse
    const lim = await post('SELECT number FROM system.numbers LIMIT 200000');
    expect(lim.statusCode).toBe(422);
    expect(lim.json().error).toBe('ERR_STORAGE_LIMIT');
    // read-only is enforced by ClickHouse too, not only by the gate
    await expect(b.storage.query('SELECT 1', { settings: { readonly: 1 } })).resolves.toBeTruthy();
    await expect(b.storage.command('CREATE TABLE ro_probe (a UInt8) ENGINE = Memory', { settings: { readonly: 1 } })).rejects.toMatchObject({ code: 'ERR_STORAGE_FORBIDDEN' });
    expect((await post('SELECT count() AS n FROM trades')).json().rows[0].n).toBe('4'); // nothing was dropped
  });

  it('metrics and health', async () => {
    const text = await new Metrics({ series: api.series() }).text();
    expect(text).toMatch(/tradsys_storage_up 1/);
    expect(text).toMatch(/tradsys_storage_cache_hits_total [1-9]/);
    expect(api.health()).toMatchObject({ status: 'ok', storage: { backend: name, up: true } });
  });
});
