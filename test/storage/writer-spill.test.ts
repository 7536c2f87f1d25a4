import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WriterCore } from '../../src/storage/writer-core.js';
import { WRITER_LAYOUTS } from '../../src/storage/schema.js';
import { decode } from '../../src/storage/row-binary.js';
import type { Storage } from '../../src/storage/storage.js';
import { openBackend } from '../support/storage-backends.js';
import { encode, totalEvents, totalTrades } from '../support/event-feed.js';

const SYMBOLS = ['AAA', 'BBB', 'CCC'];
const opts = (dataDir: string) => ({ symbols: SYMBOLS, dataDir, batchRows: 400, batchMs: 1e9, maxQueueRows: 800, tsOffsetNs: 0n, quoteMs: 1e9, snapshotMs: 1e9, latencyEvery: 10 });
/** A ClickHouse that is down: every call fails as a lost connection does. */
const down = new Proxy({}, { get: () => () => Promise.reject(new Error('connect ECONNREFUSED')) }) as Storage;
const pad = (n: number): string => String(n).padStart(20, '0');

async function drain(core: WriterCore): Promise<void> {
  for (let i = 0; i < 10_000 && core.pending > 0; i++) {
    core.seal(Date.now(), true);
    if (!(await core.flushOne(Date.now()))) await new Promise((r) => setTimeout(r, 20));
  }
  expect(core.lastError).toBeNull();
  expect(core.pending).toBe(0);
}

describe('storage writer spill files and restarts (chDB)', () => {
  it('spills RowBinary while ClickHouse is down, reads spills back (older JSONEachRow ones too) after a restart, and writes every seq once', async () => {
    const b = await openBackend('chdb', 'wsp');
    try {
      const spillDir = join(b.dir, 'storage-spill');
      // run 1: ClickHouse down the whole time; everything ends in spill files
      const c1 = new WriterCore(down, opts(b.dir));
      c1.ingest(encode(1, 3000, 3), totalEvents(1, 3000));
      c1.seal(Date.now(), true);
      expect(await c1.flushOne(Date.now())).toBe(false);
      c1.spillAll();
      const files = readdirSync(spillDir);
      expect(files.length).toBeGreaterThan(3);
      expect(files.every((f) => /^[a-z_]+-\d{20}-\d{20}-.+\.l1\.rowbinary$/.test(f))).toBe(true);
      // a spill file is plain RowBinary in its table's layout
      const f0 = files.find((f) => f.startsWith('trades-'))!;
      const rows = decode(readFileSync(join(spillDir, f0)), WRITER_LAYOUTS.trades);
      expect(rows[0]).toMatchObject({ symbol: 'AAA', trade_id: '1', seq: '3', taker_side: 1 });
      // an earlier version's JSONEachRow spill file, and two files nobody can read (kept, reported)
      writeFileSync(join(spillDir, `latency_samples-${pad(5)}-${pad(5)}-old-0.jsonl`), '{"component":"legacy","ts":"1","seq":"5","latency_ns":"7"}\n');
      writeFileSync(join(spillDir, `order_events-${pad(1)}-${pad(1)}-bad-0.l1.rowbinary`), Uint8Array.from([3, 65, 65]));
      writeFileSync(join(spillDir, `order_events-${pad(1)}-${pad(1)}-new-0.l9.rowbinary`), Uint8Array.from([0]));

      // run 2 (a restart): the spills go first, then a replay that overlaps them (2001..4000)
      const c2 = new WriterCore(b.storage, opts(b.dir));
      expect(c2.counters.errors).toBe(2);
      expect(c2.lastError).toMatch(/spill file order_events-.* cannot be read back/);
      c2.lastError = null;
      c2.ingest(encode(2001, 4000, 3), totalEvents(2001, 4000));
      await drain(c2);
      expect(c2.counters.skippedRows).toBeGreaterThan(0);
      // run 3: another overlapping replay, nothing new before 4001
      const c3 = new WriterCore(b.storage, opts(b.dir));
      expect(c3.counters.errors).toBe(2); // still there, still reported
      c3.lastError = null;
      c3.ingest(encode(3500, 5000, 3), totalEvents(3500, 5000));
      await drain(c3);

      const r = await b.storage.query<Record<string, string>>(`SELECT
        (SELECT toString(count()) FROM order_events) AS events, (SELECT toString(uniqExact(seq, idx)) FROM order_events) AS de,
        (SELECT toString(count()) FROM trades) AS trades, (SELECT toString(uniqExact(trade_id)) FROM trades) AS dt,
        (SELECT toString(count()) FROM latency_samples WHERE component = 'legacy') AS legacy,
        (SELECT toString(count()) FROM latency_samples) AS lat,
        (SELECT toString(sum(k)) FROM (SELECT countMerge(trades) AS k FROM bars_1m GROUP BY symbol, bucket)) AS bars`);
      expect(r.rows[0]).toEqual({
        events: String(totalEvents(1, 5000)), de: String(totalEvents(1, 5000)), trades: String(totalTrades(1, 5000)), dt: String(totalTrades(1, 5000)),
        legacy: '1', lat: String(1 + 5000 / 10), bars: String(totalTrades(1, 5000)),
      });
      // only the unreadable files are left
      expect(readdirSync(spillDir).sort()).toEqual([`order_events-${pad(1)}-${pad(1)}-bad-0.l1.rowbinary`, `order_events-${pad(1)}-${pad(1)}-new-0.l9.rowbinary`]);
    } finally {
      await b.close();
    }
  });
});
