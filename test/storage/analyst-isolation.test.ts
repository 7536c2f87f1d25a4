/**
 * Analysts' queries run apart from the writer: slow analyst SQL in flight never holds back the
 * inserts (chDB: the process's read lane, sessions of their own; server: a client of its own),
 * and answers are capped in bytes as well as rows. Attack: four slow queries at once, then inserts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/storage/schema.js';
import { DEFAULT_LIMITS, StorageQueries } from '../../src/storage/queries.js';
import { openBackend, type Backend } from '../support/storage-backends.js';

const ROWS = 30_000;
const tradeRows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({
  symbol: 'ETH-USD', ts: String(1_790_000_000_000_000_000n + BigInt(from + i)), trade_id: from + i + 1, seq: from + i + 1, price: 60000 + (i % 7), qty: 1 + (i % 5),
  taker_side: i % 2 ? 'buy' : 'sell', taker_order_id: 1, maker_order_id: 2, taker_account: 1, maker_account: 2,
}));
// ~1e9 hashed pairs: far longer than the 2 s limit here, so ClickHouse stops it (TIMEOUT_EXCEEDED)
const SLOW = 'SELECT count() AS n FROM trades AS a CROSS JOIN trades AS b WHERE sipHash64(a.trade_id, b.trade_id) = 0';

describe.each(['chdb', 'server'] as const)('analyst isolation on %s', (name) => {
  let b: Backend;
  beforeAll(async () => {
    b = await openBackend(name, 'iso');
    await migrate(b.storage);
    await b.storage.insert('trades', tradeRows(0, ROWS));
  });
  afterAll(async () => { await b?.close(); });

  it('inserts keep going while four slow analyst queries run', async () => {
    const q = new StorageQueries(b.storage, () => 0, undefined, { ...DEFAULT_LIMITS, maxSeconds: 2 });
    let firstAnalystDone = -1;
    let inserts = 0;
    let worstMs = 0;
    const slow = Array.from({ length: 4 }, () => q.sql(SLOW).then(() => 'ok', (e: { code?: string; message: string }) => `${e.code ?? 'error'}${/Timeout exceeded|TIMEOUT_EXCEEDED|Memory limit/.test(e.message) ? ' (limit)' : ` (${e.message.slice(0, 80)})`}`).finally(() => { if (firstAnalystDone < 0) firstAnalystDone = inserts; }));
    let settled = false;
    const all = Promise.all(slow).finally(() => { settled = true; });
    // the writer's side: small inserts one after another, as the storage writer does
    for (let i = 0; !settled && i < 2000; i++) {
      const t0 = performance.now();
      await b.storage.insert('trades', tradeRows(ROWS + i * 10, 10));
      worstMs = Math.max(worstMs, performance.now() - t0);
      inserts++;
    }
    const outcomes = await all;
    console.log(`[${name}] ${inserts} inserts while 4 slow analyst queries ran; worst insert ${worstMs.toFixed(0)} ms; analyst outcomes ${outcomes.join(',')}`);
    // stopped by the analysts' limits (max_execution_time; on 18.16 the join's max_memory_usage first)
    expect(outcomes).toEqual(Array(4).fill('ERR_STORAGE_LIMIT (limit)'));
    // before any analyst query had finished, inserts had completed (a shared turn would have queued them all behind it)
    expect(firstAnalystDone).toBeGreaterThanOrEqual(1);
    const n = await b.storage.query<{ n: string }>('SELECT count() AS n FROM trades');
    expect(Number(n.rows[0]!.n)).toBe(ROWS + inserts * 10);
  });

  it('answers are capped in bytes as well as rows; the next query is clean', async () => {
    const q = new StorageQueries(b.storage, () => 0, undefined, { ...DEFAULT_LIMITS, maxResultBytes: 64 * 1024 });
    await expect(q.sql('SELECT * FROM trades ORDER BY trade_id LIMIT 5000')).rejects.toMatchObject({ code: 'ERR_STORAGE_LIMIT', message: expect.stringMatching(/max bytes/) });
    const small = await q.sql('SELECT trade_id FROM trades ORDER BY trade_id LIMIT 3');
    expect(small.rows).toEqual([{ trade_id: '1' }, { trade_id: '2' }, { trade_id: '3' }]);
    expect(small.bytes).toBeGreaterThan(0);
    // our own cap on the serialised text, below ClickHouse's block-size measure: long strings in few rows
    const q2 = new StorageQueries(b.storage, () => 0, undefined, { ...DEFAULT_LIMITS, maxResultBytes: 10_000 });
    await expect(q2.sql("SELECT arrayStringConcat(arrayMap(x -> 'x', range(4000))) AS s FROM trades LIMIT 5")).rejects.toMatchObject({ code: 'ERR_STORAGE_LIMIT' });
  });
});
