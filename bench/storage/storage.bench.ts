/**
 * bench:storage — ingest and query figures for both backends, JSON on stdout (a table on stderr).
 *
 * Workload (seed 42): TRADES trades (default 10,000,000) over one UTC day for 8 symbols, prices a
 * random walk in ticks around 100,000, qty 1..100 lots, ts increasing. Measured:
 *  1. chDB ingest: the day into `trades` (the five bar views fire on every insert) in chunks of
 *     CHUNK rows (default 1,000,000): the first two as JSONEachRow, the rest as TSV; medians;
 *  2. server ingest over HTTP (CLICKHOUSE_URL, or a private clickhouse-server): SERVER_ROWS rows
 *     (default 2,000,000) as JSONEachRow and as RowBinary, median of the chunks;
 *  3. 1-minute bars for the whole day on chDB (one symbol and all symbols), median of 3 (cache off);
 *     checked against bars computed in TypeScript before the figure is reported;
 *  4. query latency p50/p99 of 200 one-hour bar queries, with the cache off and on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { ChdbStorage } from '../../src/storage/chdb-storage.js';
import { ServerStorage } from '../../src/storage/server-storage.js';
import { migrate } from '../../src/storage/schema.js';
import { QueryCache, StorageQueries } from '../../src/storage/queries.js';
import type { Storage } from '../../src/storage/storage.js';
import { startServer } from '../../test/support/clickhouse.js';

const TRADES = Number(process.env.TRADES ?? 10_000_000);
const CHUNK = Number(process.env.CHUNK ?? 1_000_000);
const SERVER_ROWS = Number(process.env.SERVER_ROWS ?? 2_000_000);
const SYMS = ['S0', 'S1', 'S2', 'S3', 'S4', 'S5', 'S6', 'S7'];
const DAY0 = 1_790_035_200_000_000_000n; // a UTC midnight
const DAY = 86_400_000_000_000n;
const MIN = 60_000_000_000n;

let seed = 42;
const rnd = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
const px = SYMS.map(() => 100_000);
interface T { s: number; ts: bigint; id: number; p: number; q: number }
function gen(from: number, n: number): T[] {
  const out: T[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const id = from + i;
    const s = Math.floor(rnd() * SYMS.length);
    px[s]! += Math.floor(rnd() * 5) - 2;
    out[i] = { s, ts: DAY0 + (BigInt(id) * DAY) / BigInt(TRADES + 1), id, p: px[s]!, q: 1 + Math.floor(rnd() * 100) };
  }
  return out;
}
const json = (ts: T[]): string => ts.map((t) => `{"symbol":"${SYMS[t.s]}","ts":"${t.ts}","trade_id":"${t.id}","seq":"${t.id}","price":"${t.p}","qty":${t.q},"taker_side":"buy","taker_order_id":"${t.id}","maker_order_id":"0","taker_account":1,"maker_account":2}\n`).join('');
function rowBinary(ts: T[]): Uint8Array {
  // columns: symbol String, ts Int64, trade_id UInt64, seq UInt64, price Int64, qty UInt64, taker_side Enum8, taker_order_id, maker_order_id UInt64, taker_account, maker_account UInt32
  const buf = Buffer.alloc(ts.length * 96);
  let o = 0;
  for (const t of ts) {
    const s = SYMS[t.s]!;
    buf[o++] = s.length; o += buf.write(s, o, 'latin1');
    buf.writeBigInt64LE(t.ts, o); o += 8;
    buf.writeBigUInt64LE(BigInt(t.id), o); o += 8;
    buf.writeBigUInt64LE(BigInt(t.id), o); o += 8;
    buf.writeBigInt64LE(BigInt(t.p), o); o += 8;
    buf.writeBigUInt64LE(BigInt(t.q), o); o += 8;
    buf[o++] = 0;
    buf.writeBigUInt64LE(BigInt(t.id), o); o += 8;
    buf.writeBigUInt64LE(0n, o); o += 8;
    buf.writeUInt32LE(1, o); o += 4;
    buf.writeUInt32LE(2, o); o += 4;
  }
  return buf.subarray(0, o);
}
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]!; };

const tsv = (ts: T[]): string => ts.map((t) => `${SYMS[t.s]}\t${t.ts}\t${t.id}\t${t.id}\t${t.p}\t${t.q}\tbuy\t${t.id}\t0\t1\t2\n`).join('');

async function ingest(s: Storage, total: number, fmt: 'JSONEachRow' | 'RowBinary' | 'chdb-mixed', oracle?: Map<string, { o: number; h: number; l: number; c: number; v: number; k: number }>): Promise<number[]> {
  const rates: number[] = [];
  for (let from = 1, chunk = 0; from <= total; from += CHUNK, chunk++) {
    // chdb-mixed: the first two chunks as JSONEachRow, the rest as TSV (chDB takes text formats only)
    const format = fmt === 'chdb-mixed' ? (chunk < 2 ? 'JSONEachRow' : 'TSV') : fmt;
    const rows = gen(from, Math.min(CHUNK, total - from + 1));
    if (oracle) for (const t of rows) if (t.s === 0) {
      const b = ((t.ts / MIN) * MIN).toString();
      const e = oracle.get(b);
      if (!e) oracle.set(b, { o: t.p, h: t.p, l: t.p, c: t.p, v: t.q, k: 1 });
      else { e.h = Math.max(e.h, t.p); e.l = Math.min(e.l, t.p); e.c = t.p; e.v += t.q; e.k++; }
    }
    const body = format === 'JSONEachRow' ? json(rows) : format === 'TSV' ? tsv(rows) : rowBinary(rows);
    const t0 = performance.now();
    await s.insert('trades', { format, body });
    rates.push(rows.length / ((performance.now() - t0) / 1000));
    process.stderr.write(`  ${s.backend} ${format}: ${from + rows.length - 1} rows, ${Math.round(rates[rates.length - 1]!).toLocaleString('en-US')} rows/s\n`);
  }
  return rates;
}

async function main(): Promise<void> {
  const result: Record<string, unknown> = {
    bench: 'storage', date: new Date().toISOString(), node: process.version, machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`, seed: 42,
    workload: { trades: TRADES, chunk: CHUNK, serverRows: SERVER_ROWS, symbols: SYMS.length, day: DAY0.toString() },
  };
  const dir = mkdtempSync(join(tmpdir(), 'tradsys-bench-'));
  const chdb = await ChdbStorage.open(dir);
  try {
    await migrate(chdb);
    result.chdbVersion = chdb.features!.version;
    const oracle = new Map<string, { o: number; h: number; l: number; c: number; v: number; k: number }>();
    const rates = await ingest(chdb, TRADES, 'chdb-mixed', oracle);
    result.chdbIngestRowsPerSecond = { jsonEachRow: Math.round(median(rates.slice(0, 2))), tsv: Math.round(median(rates.slice(2))), chunks: rates.map(Math.round), note: 'into trades with the five bar views; JSON for chunks 1-2, TSV after' };
    const q = new StorageQueries(chdb, () => 0, new QueryCache(512, 0));
    const times: number[] = [];
    let bars: Awaited<ReturnType<StorageQueries['bars']>> = [];
    for (let i = 0; i < 3; i++) { const t0 = performance.now(); bars = await q.bars('S0', '1m', DAY0, DAY0 + DAY, 10_000); times.push(performance.now() - t0); }
    // check before reporting: every bar equals the TypeScript bars
    const want = [...oracle.entries()].sort((a, b) => (BigInt(a[0]) < BigInt(b[0]) ? -1 : 1));
    if (bars.length !== want.length) throw new Error(`bars: ${bars.length} rows, expected ${want.length}`);
    want.forEach(([b, e], i) => {
      const g = bars[i]!;
      if (g.ts !== b || Number(g.open) !== e.o || Number(g.high) !== e.h || Number(g.low) !== e.l || Number(g.close) !== e.c || Number(g.volume) !== e.v || Number(g.trades) !== e.k) throw new Error(`bar ${b} differs: ${JSON.stringify(g)} vs ${JSON.stringify(e)}`);
    });
    const all: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      const r = await chdb.query<{ n: string }>(`SELECT toString(sum(k)) AS n FROM (SELECT symbol, bucket, countMerge(trades) AS k, argMinMerge(open), maxMerge(high), minMerge(low), argMaxMerge(close), sumMerge(volume) FROM bars_1m WHERE bucket >= ${DAY0} AND bucket < ${DAY0 + DAY} GROUP BY symbol, bucket)`);
      all.push(performance.now() - t0);
      if (Number(r.rows[0]!.n) !== TRADES) throw new Error(`bars over all symbols count ${r.rows[0]!.n} trades, expected ${TRADES}`);
    }
    const fromTrades: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      await chdb.query(`SELECT intDiv(ts, 60000000000) AS b, argMin(price, trade_id), max(price), min(price), argMax(price, trade_id), sum(qty), count() FROM trades WHERE symbol = 'S0' GROUP BY b ORDER BY b FORMAT Null`.replace(' FORMAT Null', ''));
      fromTrades.push(performance.now() - t0);
    }
    result.chdbBars1mDay = { oneSymbolMs: median(times), allSymbolsMs: median(all), oneSymbolFromRawTradesMs: median(fromTrades), bars: bars.length, checked: true };
    const lat = async (cache: boolean): Promise<{ p50Ms: number; p99Ms: number; hits: number }> => {
      const qq = new StorageQueries(chdb, () => 0, new QueryCache(512, cache ? 60_000 : 0));
      const xs: number[] = [];
      for (let i = 0; i < 200; i++) {
        const h = BigInt(i % 20) * 3_600_000_000_000n;
        const t0 = performance.now();
        await qq.bars(SYMS[i % 8]!, '1m', DAY0 + h, DAY0 + h + 3_600_000_000_000n, 100);
        xs.push(performance.now() - t0);
      }
      return { p50Ms: pct(xs, 0.5), p99Ms: pct(xs, 0.99), hits: qq.cache.hits };
    };
    result.chdbQueryLatency = { noCache: await lat(false), cache: await lat(true) };
  } finally {
    await chdb.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const srv = await startServer();
  const server = new ServerStorage({ url: srv.url, database: `tradsys_bench_${process.pid}` });
  try {
    await migrate(server);
    result.serverVersion = server.features!.version;
    seed = 42;
    const j = await ingest(server, SERVER_ROWS, 'JSONEachRow');
    await server.command('TRUNCATE TABLE trades');
    seed = 42;
    const rb = await ingest(server, SERVER_ROWS, 'RowBinary');
    const n = await server.query<{ n: string }>('SELECT toString(count()) AS n FROM trades');
    if (Number(n.rows[0]!.n) !== SERVER_ROWS) throw new Error(`server has ${n.rows[0]!.n} rows after RowBinary, expected ${SERVER_ROWS}`);
    result.serverIngestRowsPerSecond = { jsonEachRow: Math.round(median(j)), rowBinary: Math.round(median(rb)), chunksJson: j.map(Math.round), chunksRowBinary: rb.map(Math.round) };
    await server.command(`DROP DATABASE IF EXISTS tradsys_bench_${process.pid}`);
  } finally {
    await server.close();
    await srv.stop();
  }
  process.stderr.write(JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(JSON.stringify(result) + '\n');
}

await main();
