/**
 * bench:storage — ingest and query figures for both backends, JSON on stdout (a table on stderr).
 *
 * Workload (seed 42): TRADES trades (default 10,000,000) over one UTC day for 8 symbols, prices a
 * random walk in ticks around 100,000, qty 1..100 lots, ts increasing. Measured:
 *  1. chDB ingest: the day into `trades` (the five bar views fire on every insert) in chunks of
 *     CHUNK rows (default 1,000,000), timed around `insert()` (bodies are built before the clock
 *     starts): chunks 1-2 JSONEachRow and 3-4 TSV, both as SQL text over the IPC channel (the old
 *     path); chunk 5 TSV bytes and chunks 6-10 RowBinary bytes (the writer's format, encoded with
 *     its RowBinaryBuilder and WRITER_LAYOUTS), both through a file read by chDB (the new path);
 *     medians per format. Also timed: encoding RowBinary, and writing a body to a file alone;
 *  2. server ingest over HTTP (CLICKHOUSE_URL, or a private clickhouse-server): SERVER_ROWS rows
 *     (default 2,000,000) as JSONEachRow and as RowBinary, median of the chunks;
 *  3. 1-minute bars for the whole day on chDB (one symbol and all symbols), median of 3 (cache off);
 *     checked against bars computed in TypeScript before the figure is reported;
 *  4. query latency p50/p99 of 200 one-hour bar queries, with the cache off and on.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { ChdbStorage } from '../../src/storage/chdb-storage.js';
import { ServerStorage } from '../../src/storage/server-storage.js';
import { migrate, WRITER_LAYOUTS } from '../../src/storage/schema.js';
import { encodeString, RowBinaryBuilder } from '../../src/storage/row-binary.js';
import { writeFile, unlink } from 'node:fs/promises';
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
const SYM_RB = SYMS.map((x) => encodeString(x));
const RB = new RowBinaryBuilder(1 << 20);
const TRADE_COLUMNS = WRITER_LAYOUTS.trades.map((c) => c.name);
/** RowBinary in WRITER_LAYOUTS.trades order, as the writer encodes its trades (bigint for 64-bit ids). */
function rowBinary(ts: T[]): Uint8Array {
  for (const t of ts) {
    const id = BigInt(t.id);
    RB.bytes(SYM_RB[t.s]!); RB.i64(t.ts); RB.u64(id); RB.u64(id); RB.i64n(t.p); RB.u64n(t.q); RB.u8(0); RB.u64(id); RB.u64(0n); RB.u32(1); RB.u32(2);
  }
  return RB.take();
}
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]!; };

const tsv = (ts: T[]): string => ts.map((t) => `${SYMS[t.s]}\t${t.ts}\t${t.id}\t${t.id}\t${t.p}\t${t.q}\tbuy\t${t.id}\t0\t1\t2\n`).join('');

type Path = 'JSONEachRow' | 'TSV' | 'TSV-file' | 'RowBinary';
/** The chDB day: which format and path each chunk takes (see the header). */
const chdbPath = (chunk: number): Path => (chunk < 2 ? 'JSONEachRow' : chunk < 4 ? 'TSV' : chunk < 5 ? 'TSV-file' : 'RowBinary');
const encodeRates: number[] = [];
const fileWriteMs: number[] = [];

async function ingest(s: Storage, total: number, pathOf: (chunk: number) => Path, oracle?: Map<string, { o: number; h: number; l: number; c: number; v: number; k: number }>): Promise<{ path: Path; rate: number }[]> {
  const rates: { path: Path; rate: number }[] = [];
  for (let from = 1, chunk = 0; from <= total; from += CHUNK, chunk++) {
    const path = pathOf(chunk);
    const rows = gen(from, Math.min(CHUNK, total - from + 1));
    if (oracle) for (const t of rows) if (t.s === 0) {
      const b = ((t.ts / MIN) * MIN).toString();
      const e = oracle.get(b);
      if (!e) oracle.set(b, { o: t.p, h: t.p, l: t.p, c: t.p, v: t.q, k: 1 });
      else { e.h = Math.max(e.h, t.p); e.l = Math.min(e.l, t.p); e.c = t.p; e.v += t.q; e.k++; }
    }
    let t0 = performance.now();
    const body = path === 'JSONEachRow' ? json(rows) : path === 'TSV' ? tsv(rows) : path === 'TSV-file' ? Buffer.from(tsv(rows)) : rowBinary(rows);
    if (path === 'RowBinary') {
      encodeRates.push(rows.length / ((performance.now() - t0) / 1000));
      if (s.backend === 'chdb') {
        // the file write alone (part of every chDB binary insert), on a copy
        const f = join(tmpdir(), `tradsys-bench-${process.pid}.bin`);
        const w0 = performance.now(); await writeFile(f, body); fileWriteMs.push(performance.now() - w0); await unlink(f);
      }
    }
    t0 = performance.now();
    await s.insert('trades', path === 'RowBinary' ? { format: 'RowBinary', body, columns: TRADE_COLUMNS } : { format: path === 'JSONEachRow' ? 'JSONEachRow' : 'TSV', body });
    const rate = rows.length / ((performance.now() - t0) / 1000);
    rates.push({ path, rate });
    process.stderr.write(`  ${s.backend} ${path}: ${from + rows.length - 1} rows, ${Math.round(rate).toLocaleString('en-US')} rows/s\n`);
  }
  return rates;
}
const ratesOf = (xs: { path: Path; rate: number }[], p: Path): number[] => xs.filter((x) => x.path === p).map((x) => x.rate);

async function main(): Promise<void> {
  const result: Record<string, unknown> = {
    bench: 'storage', date: new Date().toISOString(), node: process.version, machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`, loadAverage: loadavg().map((x) => Number(x.toFixed(2))), seed: 42,
    workload: { trades: TRADES, chunk: CHUNK, serverRows: SERVER_ROWS, symbols: SYMS.length, day: DAY0.toString() },
  };
  const dir = mkdtempSync(join(tmpdir(), 'tradsys-bench-'));
  const chdb = await ChdbStorage.open(dir);
  try {
    await migrate(chdb);
    result.chdbVersion = chdb.features!.version;
    const oracle = new Map<string, { o: number; h: number; l: number; c: number; v: number; k: number }>();
    const rates = await ingest(chdb, TRADES, chdbPath, oracle);
    const m = (p: Path): number | null => { const xs = ratesOf(rates, p); return xs.length ? Math.round(median(xs)) : null; };
    const rb = m('RowBinary');
    result.chdbIngestRowsPerSecond = {
      jsonEachRow: m('JSONEachRow'), tsv: m('TSV'), tsvFile: m('TSV-file'), rowBinary: rb,
      rowBinaryOverJsonEachRow: rb && m('JSONEachRow') ? Number((rb / m('JSONEachRow')!).toFixed(1)) : null,
      rowBinaryOverTsv: rb && m('TSV') ? Number((rb / m('TSV')!).toFixed(1)) : null,
      chunks: rates.map((x) => ({ path: x.path, rowsPerSecond: Math.round(x.rate) })),
      rowBinaryEncodeRowsPerSecond: Math.round(median(encodeRates)), rowBinaryFileWriteMs: Number(median(fileWriteMs).toFixed(1)),
      note: 'into trades with the five bar views firing; JSONEachRow and TSV: INSERT … FORMAT as SQL text over IPC (old path); TSV-file and RowBinary: bytes written to a file in the data folder, INSERT … SELECT FROM file() (new path, the writer\'s)',
    };
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
    const j = ratesOf(await ingest(server, SERVER_ROWS, () => 'JSONEachRow'), 'JSONEachRow');
    await server.command('TRUNCATE TABLE trades');
    seed = 42;
    const rb = ratesOf(await ingest(server, SERVER_ROWS, () => 'RowBinary'), 'RowBinary');
    const n = await server.query<{ n: string }>('SELECT toString(count()) AS n FROM trades');
    if (Number(n.rows[0]!.n) !== SERVER_ROWS) throw new Error(`server has ${n.rows[0]!.n} rows after RowBinary, expected ${SERVER_ROWS}`);
    result.serverIngestRowsPerSecond = { jsonEachRow: Math.round(median(j)), rowBinary: Math.round(median(rb)), chunksJson: j.map(Math.round), chunksRowBinary: rb.map(Math.round) };
    await server.command(`DROP DATABASE IF EXISTS tradsys_bench_${process.pid}`);
  } finally {
    await server.close();
    await srv.stop();
  }
  result.loadAverageAtEnd = loadavg().map((x) => Number(x.toFixed(2)));
  process.stderr.write(JSON.stringify(result, null, 2) + '\n');
  process.stdout.write(JSON.stringify(result) + '\n');
}

await main();
