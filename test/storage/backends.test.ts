import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, MIGRATIONS, BAR_INTERVALS, type BarInterval } from '../../src/storage/schema.js';
import { StorageQueries } from '../../src/storage/queries.js';
import { TradsysError } from '../../src/domain/errors.js';
import { openBackend, type Backend } from '../support/storage-backends.js';

const U64_MAX = '18446744073709551615';
const I64_MIN = '-9223372036854775808';
const I64_MAX = '9223372036854775807';

/** Deterministic trades over ~3 days for symbols A and B (seeded LCG). */
function makeTrades(n: number, seed = 7): Record<string, string | number>[] {
  let x = seed;
  const rnd = (): number => { x = (x * 1103515245 + 12345) % 2147483648; return x / 2147483648; };
  const t0 = 1_790_000_000_000_000_000n;
  const out: Record<string, string | number>[] = [];
  let ts = t0;
  for (let i = 1; i <= n; i++) {
    ts += BigInt(Math.floor(rnd() * 2_000_000_000_000)); // up to ~33 minutes apart
    out.push({ symbol: rnd() < 0.5 ? 'A' : 'B', ts: ts.toString(), trade_id: i, seq: i, price: 1000 + Math.floor(rnd() * 100), qty: 1 + Math.floor(rnd() * 50),
      taker_side: rnd() < 0.5 ? 'buy' : 'sell', taker_order_id: i * 2, maker_order_id: i * 2 + 1, taker_account: 1, maker_account: 2 });
  }
  return out;
}

/** The oracle: OHLCV bars computed from trades in TypeScript. */
function barsTs(trades: Record<string, string | number>[], symbol: string, interval: BarInterval): Record<string, string>[] {
  const w = BAR_INTERVALS[interval];
  const m = new Map<bigint, { o: number; oid: number; h: number; l: number; c: number; cid: number; v: bigint; n: bigint; k: number }>();
  for (const t of trades) {
    if (t.symbol !== symbol) continue;
    const ts = BigInt(t.ts as string);
    const b = (ts / w) * w;
    const p = t.price as number, q = t.qty as number, id = t.trade_id as number;
    const e = m.get(b);
    if (!e) { m.set(b, { o: p, oid: id, h: p, l: p, c: p, cid: id, v: BigInt(q), n: BigInt(p) * BigInt(q), k: 1 }); continue; }
    if (id < e.oid) { e.o = p; e.oid = id; }
    if (id > e.cid) { e.c = p; e.cid = id; }
    e.h = Math.max(e.h, p); e.l = Math.min(e.l, p); e.v += BigInt(q); e.n += BigInt(p) * BigInt(q); e.k++;
  }
  return [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([b, e]) => ({
    symbol, ts: b.toString(), open: String(e.o), high: String(e.h), low: String(e.l), close: String(e.c), volume: e.v.toString(), notional: e.n.toString(), trades: String(e.k),
  }));
}

describe.each(['chdb', 'server'] as const)('storage backend %s', (name) => {
  let b: Backend;
  beforeAll(async () => { b = await openBackend(name, 'rt'); });
  afterAll(async () => { await b?.close(); });

  it('reports its version and feature flags', async () => {
    const f = await b.storage.connect();
    expect(f.version).toMatch(/^\d+\.\d+/);
    if (name === 'chdb') expect(f).toMatchObject({ codecs: true, dateTime64: true, parameters: true, lowCardinality: true, rowBinary: true });
    if (f.version.startsWith('18.')) expect(f).toMatchObject({ codecs: false, dateTime64: false, parameters: false, lowCardinality: false });
    expect(await b.storage.ping()).toBe(true);
  });

  it('migrates once, idempotently, and records each version', async () => {
    expect(await migrate(b.storage)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrate(b.storage)).toEqual([]);
    const r = await b.storage.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(r.rows.map((x) => Number(x.version))).toEqual(MIGRATIONS.map((m) => m.version));
    const tables = (await b.storage.query<{ name: string }>('SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name')).rows.map((x) => x.name);
    for (const t of ['trades', 'quotes', 'book_snapshots', 'order_events', 'bars_1s', 'bars_1m', 'bars_5m', 'bars_1h', 'bars_1d', 'strategy_signals', 'latency_samples', 'instruments']) expect(tables).toContain(t);
  });

  it('round-trips every table exactly, 64-bit extremes included', async () => {
    const rows: Record<string, Record<string, unknown>> = {
      instruments: { symbol: 'X/Y', symbol_id: 4294967295, tick_size: '0.0001', lot_size: '1', updated_ns: I64_MAX },
      trades: { symbol: 'EXT', ts: I64_MIN, trade_id: U64_MAX, seq: U64_MAX, price: I64_MIN, qty: U64_MAX, taker_side: 'sell', taker_order_id: U64_MAX, maker_order_id: '0', taker_account: 4294967295, maker_account: 0 },
      quotes: { symbol: 'EXT', ts: I64_MAX, seq: U64_MAX, bid_price: I64_MIN, bid_qty: U64_MAX, ask_price: I64_MAX, ask_qty: '0' },
      book_snapshots: { symbol: 'EXT', ts: I64_MAX, seq: '1', depth: 2, bid_prices: [I64_MAX, '1'], bid_qtys: [U64_MAX, '2'], bid_counts: [4294967295, 1], ask_prices: [I64_MIN], ask_qtys: ['3'], ask_counts: [1] },
      order_events: { symbol: 'EXT', ts: I64_MIN, seq: U64_MAX, idx: 65535, type: 'T', account: 4294967295, order_id: U64_MAX, side: 'buy', price: I64_MAX, qty: U64_MAX, leaves: '0',
        maker_order_id: U64_MAX, maker_account: 7, trade_id: U64_MAX, reason: 'it\'s "quoted" \\ and\nnew line', reason_code: 255, ts_gateway: I64_MIN },
      strategy_signals: { strategy: 'pairs', symbol: 'EXT', ts: I64_MAX, signal: 'enter_long', value: -1.5, price: I64_MIN, qty: I64_MAX, seq: U64_MAX },
      latency_samples: { component: 'engine', ts: I64_MIN, seq: U64_MAX, latency_ns: I64_MAX },
    };
    for (const [table, row] of Object.entries(rows)) {
      await b.storage.insert(table, [row]);
      const cols = Object.keys(row).map((c) => (c === 'taker_side' || c === 'side' || c === 'type' || c === 'symbol' ? `toString(${c}) AS ${c}` : c)).join(', ');
      const r = await b.storage.query(`SELECT ${cols} FROM ${table} WHERE ${table === 'instruments' ? "symbol = 'X/Y'" : table === 'latency_samples' ? "component = 'engine'" : "symbol = 'EXT'"}`);
      expect(r.rows, table).toHaveLength(1);
      const norm = (v: unknown): unknown => (Array.isArray(v) ? v.map(norm) : typeof v === 'number' && Number.isInteger(v) ? String(v) : v);
      const got = Object.fromEntries(Object.entries(r.rows[0]!).map(([k, v]) => [k, norm(v)]));
      const want = Object.fromEntries(Object.entries(row).map(([k, v]) => [k, norm(v)]));
      expect(got, table).toEqual(want);
    }
  });

  it('bars from the materialized views equal bars computed from the trades, for every interval', async () => {
    const trades = makeTrades(3000);
    // several inserts: the views see each block separately, the merge functions combine them
    for (let i = 0; i < trades.length; i += 700) await b.storage.insert('trades', trades.slice(i, i + 700));
    const q = new StorageQueries(b.storage);
    for (const interval of Object.keys(BAR_INTERVALS) as BarInterval[]) {
      for (const sym of ['A', 'B']) {
        const got = await q.bars(sym, interval, undefined, undefined, 100_000);
        expect(got, `${sym} ${interval}`).toEqual(barsTs(trades, sym, interval));
      }
    }
    const from = BigInt(trades[100]!.ts as string), to = BigInt(trades[2000]!.ts as string);
    const inRange = trades.filter((t) => t.symbol === 'A' && BigInt(t.ts as string) >= from && BigInt(t.ts as string) < to);
    const v = await q.vwap('A', from, to);
    expect(v.volume).toBe(inRange.reduce((s, t) => s + BigInt(t.qty as number), 0n).toString());
    expect(v.notional).toBe(inRange.reduce((s, t) => s + BigInt(t.qty as number) * BigInt(t.price as number), 0n).toString());
    const tr = await q.trades('A', from, to, 5);
    expect(tr.map((t) => String(t.trade_id))).toEqual(inRange.slice(-5).reverse().map((t) => String(t.trade_id)));
  });

  it('binds parameters safely (injection attempts are plain values) and rejects bad ones cleanly', async () => {
    const evil = ["x' OR 1=1 --", "\\' OR 1=1 --", "'; DROP TABLE trades; --", 'a\u0000b', '{symbol:String}', "EXT' UNION SELECT name FROM system.tables --"];
    for (const s of evil) {
      const r = await b.storage.query<{ s: string; n: string }>('SELECT {s:String} AS s, toString(count()) AS n FROM trades WHERE symbol = {s:String}', { params: { s } });
      expect(r.rows).toEqual([{ s, n: '0' }]);
    }
    const r = await b.storage.query('SELECT {u:UInt64} AS u, {i:Int64} AS i, {a:Array(Int64)} AS a', { params: { u: U64_MAX, i: I64_MIN, a: [I64_MAX, '-1'] } });
    expect(r.rows).toEqual([{ u: U64_MAX, i: I64_MIN, a: [I64_MAX, '-1'] }]);
    await expect(b.storage.query('SELECT {u:UInt64}', { params: { u: '1 OR 1=1' } })).rejects.toMatchObject({ code: 'ERR_STORAGE_PARAM' });
    await expect(b.storage.query('SELECT {u:UInt8}', { params: { u: 256 } })).rejects.toMatchObject({ code: 'ERR_STORAGE_PARAM' });
    await expect(b.storage.query('SELECT {u:UInt8}', { params: {} })).rejects.toMatchObject({ code: 'ERR_STORAGE_PARAM' });
    expect(await b.storage.query('SELECT count() AS n FROM trades')).toBeTruthy(); // trades still there
  });

  it('answers bad SQL with a clean ERR_STORAGE_QUERY', async () => {
    for (const sql of ['SELEC 1', 'SELECT nope FROM trades', 'SELECT * FROM no_such_table']) {
      const e = await b.storage.query(sql).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TradsysError);
      expect((e as TradsysError).code).toBe('ERR_STORAGE_QUERY');
      expect((e as TradsysError).message).not.toContain('Expected one of');
    }
    expect(b.storage.stats().errors).toBeGreaterThan(0);
    expect(b.storage.stats().up).toBe(true);
  });
});
