import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpmcRing } from '../../src/ring/spmc-ring.js';
import { RING_EVT_SIZE } from '../../src/abi/records.js';
import { StorageWriter } from '../../src/storage/writer.js';
import { ServerStorage } from '../../src/storage/server-storage.js';
import type { Storage } from '../../src/storage/storage.js';
import { openBackend } from '../support/storage-backends.js';
import { startPrivateServer, uniqueDatabase } from '../support/clickhouse.js';
import { publish, T0, totalEvents, totalTrades } from '../support/event-feed.js';

const SYMBOLS = ['AAA', 'BBB', 'CCC'];
const opts = (dataDir: string) => ({ symbols: SYMBOLS, sizes: SYMBOLS.map(() => ({ tickSize: '0.01', lotSize: '1' })), dataDir, batchRows: 500, batchMs: 50, maxQueueRows: 2000, tsOffsetNs: 0n, quoteMs: 0, snapshotMs: 50, latencyEvery: 10 });

async function until(f: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) { if (await f()) return; await new Promise((r) => setTimeout(r, 50)); }
  throw new Error(`timed out waiting for ${what}`);
}

async function counts(s: Storage): Promise<{ events: number; distinctEvents: number; trades: number; distinctTrades: number; maxSeq: number }> {
  const r = await s.query<Record<string, string>>(`SELECT
    (SELECT toString(count()) FROM order_events) AS events, (SELECT toString(uniqExact(seq, idx)) FROM order_events) AS de,
    (SELECT toString(count()) FROM trades) AS trades, (SELECT toString(uniqExact(trade_id)) FROM trades) AS dt,
    (SELECT toString(max(seq)) FROM order_events) AS ms`);
  const x = r.rows[0]!;
  return { events: Number(x.events), distinctEvents: Number(x.de), trades: Number(x.trades), distinctTrades: Number(x.dt), maxSeq: Number(x.ms) };
}

describe.each(['chdb', 'server'] as const)('storage writer on %s', (name) => {
  it('writes every event once, and exactly once across a restart that replays overlapping seqs', async () => {
    const b = await openBackend(name, 'wr');
    try {
      const ring = SpmcRing.create(4096, RING_EVT_SIZE);
      const w1 = StorageWriter.start(ring, b.storage, opts(b.dir));
      expect(publish(ring, 1, 3000, 3).published).toBe(totalEvents(1, 3000));
      await until(() => w1.stats().checkpointSeq === 3000, 60_000, 'first writer to catch up');
      await w1.stop();
      // a new writer (a restart) is fed an overlapping replay: 2001..5000
      const ring2 = SpmcRing.create(4096, RING_EVT_SIZE);
      const w2 = StorageWriter.start(ring2, b.storage, opts(b.dir));
      publish(ring2, 2001, 5000, 3);
      await until(() => w2.stats().checkpointSeq === 5000, 60_000, 'second writer to catch up');
      const st = w2.stats();
      await w2.stop();
      const c = await counts(b.storage);
      expect(c).toEqual({ events: totalEvents(1, 5000), distinctEvents: totalEvents(1, 5000), trades: totalTrades(1, 5000), distinctTrades: totalTrades(1, 5000), maxSeq: 5000 });
      expect(st.skippedRows).toBeGreaterThan(0);
      expect(st.errors).toBe(0);
      const bars = await b.storage.query<{ n: string }>('SELECT toString(sum(k)) AS n FROM (SELECT countMerge(trades) AS k FROM bars_1m GROUP BY symbol, bucket)');
      expect(Number(bars.rows[0]!.n)).toBe(totalTrades(1, 5000));
      const q = await b.storage.query<{ n: string }>('SELECT toString(count()) AS n FROM quotes');
      expect(Number(q.rows[0]!.n)).toBeGreaterThan(0);
      const lat = await b.storage.query<{ n: string; l: string }>('SELECT toString(count()) AS n, toString(max(latency_ns)) AS l FROM latency_samples');
      expect(lat.rows[0]).toEqual({ n: '500', l: '5000' });
      // every field as the engine published it (test/support/event-feed.ts), through RowBinary
      const T = (k: number): string => (T0 + BigInt(k) * 1_000_000n).toString();
      const ev = await b.storage.query('SELECT * FROM order_events WHERE seq IN (3, 4) ORDER BY seq, idx');
      expect(ev.rows).toEqual([
        { symbol: 'AAA', ts: T(3), seq: '3', idx: 0, type: 'A', account: 4, order_id: '3', side: 'sell', price: '1003', qty: '10', leaves: '0', maker_order_id: '0', maker_account: 0, trade_id: '0', reason: '', reason_code: 0, ts_gateway: (BigInt(T(3)) - 5000n).toString() },
        { symbol: 'AAA', ts: T(3), seq: '3', idx: 1, type: 'T', account: 4, order_id: '3', side: 'sell', price: '1003', qty: '4', leaves: '0', maker_order_id: '2', maker_account: 3, trade_id: '1', reason: '', reason_code: 0, ts_gateway: (BigInt(T(3)) - 5000n).toString() },
        { symbol: 'BBB', ts: T(4), seq: '4', idx: 0, type: 'A', account: 1, order_id: '4', side: 'buy', price: '1004', qty: '10', leaves: '0', maker_order_id: '0', maker_account: 0, trade_id: '0', reason: '', reason_code: 0, ts_gateway: (BigInt(T(4)) - 5000n).toString() },
      ]);
      const tr = await b.storage.query('SELECT * FROM trades WHERE seq = 3');
      expect(tr.rows).toEqual([{ symbol: 'AAA', ts: T(3), trade_id: '1', seq: '3', price: '1003', qty: '4', taker_side: 'sell', taker_order_id: '3', maker_order_id: '2', taker_account: 4, maker_account: 3 }]);
      const syms = await b.storage.query<{ symbol: string }>('SELECT DISTINCT symbol FROM quotes ORDER BY symbol');
      expect(syms.rows.map((r) => r.symbol)).toEqual(SYMBOLS);
      const ins = await b.storage.query<{ symbol: string; tick_size: string }>('SELECT symbol, tick_size FROM instruments FINAL ORDER BY symbol_id');
      expect(ins.rows).toEqual(SYMBOLS.map((symbol) => ({ symbol, tick_size: '0.01' })));
    } finally {
      await b.close();
    }
  });
});

describe.each(['chdb', 'server'] as const)('strategy signals through the storage writer on %s', (name) => {
  it('are written as handed over (ms → ns, symbol names), not trimmed by the event tables\' checkpoint, and survive a stop', async () => {
    const b = await openBackend(name, 'wsig');
    try {
      const ring = SpmcRing.create(4096, RING_EVT_SIZE);
      const w = StorageWriter.start(ring, b.storage, opts(b.dir));
      publish(ring, 1, 200, 3);
      await until(() => w.stats().checkpointSeq === 200, 60_000, 'writer to catch up');
      // seqs at and below the event checkpoint (a signal names the market event it was made at)
      w.signals([
        { strategy: 'pairs-1', symbol: 0, ts: 1_700_000_000_123, signal: 'zscore', value: -2.25, price: 1003, qty: -5, seq: 150 },
        { strategy: 'pairs-1', symbol: 1, ts: 1_700_000_000_124, signal: 'enter', value: 1, price: 0, qty: 5, seq: 3 },
      ]);
      w.signals([{ strategy: 'mm', symbol: 7, ts: 1_700_000_000_200, signal: 'quote', value: 0.5, price: 99, qty: 2, seq: 200 }]);
      expect(w.signalsIn).toBe(3);
      await w.stop();
      const r = await b.storage.query('SELECT * FROM strategy_signals ORDER BY ts');
      expect(r.rows).toEqual([
        { strategy: 'pairs-1', symbol: 'AAA', ts: '1700000000123000000', signal: 'zscore', value: -2.25, price: '1003', qty: '-5', seq: '150' },
        { strategy: 'pairs-1', symbol: 'BBB', ts: '1700000000124000000', signal: 'enter', value: 1, price: '0', qty: '5', seq: '3' },
        { strategy: 'mm', symbol: '#7', ts: '1700000000200000000', signal: 'quote', value: 0.5, price: '99', qty: '2', seq: '200' },
      ]);
      // the event tables' checkpoint is untouched by the signals
      expect((await counts(b.storage)).maxSeq).toBe(200);
    } finally {
      await b.close();
    }
  });
});

/** A loopback TCP proxy that holds every chunk for `delayMs` (a slow network/server). */
function slowProxy(target: number, delayMs: number): Promise<{ port: number; server: Server }> {
  return new Promise((res) => {
    const server = createServer((c: Socket) => {
      const up = connect(target, '127.0.0.1');
      c.on('data', (d) => setTimeout(() => up.write(d), delayMs));
      up.on('data', (d) => setTimeout(() => c.write(d), delayMs));
      c.on('error', () => up.destroy()); up.on('error', () => c.destroy());
      c.on('close', () => up.destroy()); up.on('close', () => c.destroy());
    });
    server.listen(0, '127.0.0.1', () => res({ port: (server.address() as { port: number }).port, server }));
  });
}

describe('storage writer against a failing ClickHouse server', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => { for (const f of cleanup.reverse()) await f(); });

  it('ClickHouse absent at start, then killed mid-run: the ring consumer never blocks, data spills, and every row arrives once', async () => {
    const srv = await startPrivateServer();
    cleanup.push(() => srv.stop());
    const dir = mkdtempSync(join(tmpdir(), 'tradsys-wk-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const database = uniqueDatabase('wk');
    const storage = new ServerStorage({ url: srv.url, database });
    cleanup.push(() => storage.close());
    await srv.kill(); // absent at start
    const ring = SpmcRing.create(1024, RING_EVT_SIZE);
    const w = StorageWriter.start(ring, storage, opts(dir));
    const p1 = publish(ring, 1, 6000, 3, 500);
    expect(p1.published).toBe(totalEvents(1, 6000)); // a 1,024-slot ring took 8,000 events: the writer kept draining
    await until(() => w.stats().eventsIn === totalEvents(1, 6000), 20_000, 'the writer to ingest everything');
    await until(() => w.stats().spilledBatches > 0, 20_000, 'spill files');
    expect(readdirSync(join(dir, 'storage-spill')).length).toBeGreaterThan(0);
    await until(() => w.stats().errors > 0, 20_000, 'the failed inserts to be counted');
    expect(w.stats().up).toBe(false);
    expect(w.stats().checkpointSeq).toBe(0);
    await srv.restart();
    await until(() => w.stats().checkpointSeq === 6000, 60_000, 'catch-up after the server came back');
    // killed mid-run
    await srv.kill();
    const p2 = publish(ring, 6001, 9000, 3, 500);
    expect(p2.published).toBe(totalEvents(6001, 9000));
    await until(() => w.stats().eventsIn === totalEvents(1, 9000), 20_000, 'ingest while down');
    await srv.restart();
    await until(() => w.stats().checkpointSeq === 9000 && w.stats().queueBatches === 0, 60_000, 'catch-up after the kill');
    const st = w.stats();
    await w.stop();
    expect(st.queueRows).toBe(0);
    expect(st.lagSeq).toBe(0);
    const c = await counts(storage);
    expect(c).toEqual({ events: totalEvents(1, 9000), distinctEvents: totalEvents(1, 9000), trades: totalTrades(1, 9000), distinctTrades: totalTrades(1, 9000), maxSeq: 9000 });
    expect(readdirSync(join(dir, 'storage-spill'))).toEqual([]);
    await storage.command(`DROP DATABASE IF EXISTS ${database}`);
  });

  it('a slow server: ingest keeps pace with the ring while inserts lag, and all rows arrive once', async () => {
    const srv = await startPrivateServer();
    cleanup.push(() => srv.stop());
    const proxy = await slowProxy(Number(new URL(srv.url).port), 150);
    cleanup.push(async () => { proxy.server.close(); });
    const dir = mkdtempSync(join(tmpdir(), 'tradsys-ws-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const storage = new ServerStorage({ url: `http://127.0.0.1:${proxy.port}`, database: uniqueDatabase('ws') });
    cleanup.push(() => storage.close());
    await storage.connect();
    const ring = SpmcRing.create(1024, RING_EVT_SIZE);
    const w = StorageWriter.start(ring, storage, opts(dir));
    const p = publish(ring, 1, 6000, 3, 500);
    expect(p.published).toBe(totalEvents(1, 6000));
    await until(() => w.stats().eventsIn === totalEvents(1, 6000), 20_000, 'ingest');
    expect(w.stats().checkpointSeq).toBeLessThan(6000); // inserts are behind, ingest is not
    await until(() => w.stats().checkpointSeq === 6000, 120_000, 'the slow inserts to finish');
    await w.stop();
    const c = await counts(storage);
    expect(c).toEqual({ events: totalEvents(1, 6000), distinctEvents: totalEvents(1, 6000), trades: totalTrades(1, 6000), distinctTrades: totalTrades(1, 6000), maxSeq: 6000 });
  });
});
