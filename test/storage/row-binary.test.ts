import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrate, WRITER_LAYOUTS, WRITER_TABLES, type WriterTable } from '../../src/storage/schema.js';
import { decode, encodeRows } from '../../src/storage/row-binary.js';
import { ChdbStorage } from '../../src/storage/chdb-storage.js';
import { TradsysError } from '../../src/domain/errors.js';
import { openBackend, type Backend } from '../support/storage-backends.js';

const U64_MAX = '18446744073709551615';
const I64_MIN = '-9223372036854775808';
const I64_MAX = '9223372036854775807';

/** One row per writer table with 64-bit extremes, multi-byte UTF-8 and escapes; enums as numbers. */
const ROWS: Record<WriterTable, Record<string, unknown>[]> = {
  trades: [
    { symbol: 'Ünï/€', ts: I64_MIN, trade_id: U64_MAX, seq: U64_MAX, price: I64_MIN, qty: U64_MAX, taker_side: 1, taker_order_id: U64_MAX, maker_order_id: '0', taker_account: 4294967295, maker_account: 0 },
    { symbol: 'A', ts: I64_MAX, trade_id: '1', seq: '1', price: I64_MAX, qty: '0', taker_side: 0, taker_order_id: '9007199254740993', maker_order_id: '2', taker_account: 1, maker_account: 2 },
  ],
  order_events: [{ symbol: 'EXT', ts: I64_MIN, seq: U64_MAX, idx: 65535, type: 84, account: 4294967295, order_id: U64_MAX, side: 0, price: I64_MAX, qty: U64_MAX, leaves: '0',
    maker_order_id: U64_MAX, maker_account: 7, trade_id: U64_MAX, reason: 'it\'s "quoted" \\ and\nnew\tline', reason_code: 255, ts_gateway: I64_MIN }],
  quotes: [{ symbol: 'EXT', ts: I64_MAX, seq: U64_MAX, bid_price: I64_MIN, bid_qty: U64_MAX, ask_price: I64_MAX, ask_qty: '0' }],
  book_snapshots: [{ symbol: 'EXT', ts: I64_MAX, seq: '1', depth: 2, bid_prices: [I64_MAX, '1'], bid_qtys: [U64_MAX, '2'], bid_counts: [4294967295, 1], ask_prices: [I64_MIN], ask_qtys: ['3'], ask_counts: [1] },
    { symbol: 'EXT', ts: '0', seq: '2', depth: 0, bid_prices: [], bid_qtys: [], bid_counts: [], ask_prices: [], ask_qtys: [], ask_counts: [] }],
  latency_samples: [{ component: 'engine_ingress', ts: I64_MIN, seq: U64_MAX, latency_ns: I64_MAX }],
  strategy_signals: [{ strategy: 'pairs-Ü', symbol: 'EXT', ts: I64_MIN, signal: 'z"score\n', value: -2.5, price: I64_MIN, qty: '-7', seq: '3' },
    { strategy: 'mm', symbol: 'B', ts: I64_MAX, signal: 'enter', value: 1e-300, price: I64_MAX, qty: I64_MAX, seq: U64_MAX }],
};
const ENUMS: Record<string, string[]> = { taker_side: ['buy', 'sell'], side: ['buy', 'sell'] };

/** The row as the JSON formats answer it: enums by name, UInt32 and smaller as numbers. */
function asJson(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[k] = ENUMS[k] ? ENUMS[k]![v as number] : k === 'type' ? String.fromCharCode(v as number) : v;
  return out;
}

describe.each(['chdb', 'server'] as const)('RowBinary inserts on %s', (name) => {
  let b: Backend;
  beforeAll(async () => { b = await openBackend(name, 'rb'); await migrate(b.storage); });
  afterAll(async () => { await b?.close(); });

  const count = async (t: string): Promise<number> => Number((await b.storage.query<{ n: string }>(`SELECT toString(count()) AS n FROM ${t}`)).rows[0]!.n);
  const ingestFiles = (): string[] => (b.storage instanceof ChdbStorage ? readdirSync(b.storage.ingestDir) : []);

  it('WRITER_LAYOUTS list every column of each writer table, in order, with its wire type', async () => {
    for (const t of WRITER_TABLES) {
      const r = await b.storage.query<{ name: string; type: string }>(`DESCRIBE TABLE ${t}`);
      const wire = r.rows.map((c) => ({ name: c.name, type: c.type.replace(/^LowCardinality\((.*)\)$/, '$1').replace(/^Enum8\(.*\)$/, 'Enum8') }));
      expect(wire, t).toEqual(WRITER_LAYOUTS[t]);
    }
  });

  it('round-trips every writer table exactly, 64-bit extremes included', async () => {
    for (const t of WRITER_TABLES) {
      const body = encodeRows(ROWS[t], WRITER_LAYOUTS[t]);
      expect(decode(body, WRITER_LAYOUTS[t])).toEqual(ROWS[t]);
      await b.storage.insert(t, { format: 'RowBinary', body, columns: WRITER_LAYOUTS[t].map((c) => c.name) });
      const got = await b.storage.query(`SELECT * FROM ${t} ORDER BY seq`);
      const want = ROWS[t].map(asJson).sort((x, y) => (BigInt(x.seq as string) < BigInt(y.seq as string) ? -1 : 1));
      expect(got.rows, t).toEqual(want);
    }
    expect(ingestFiles()).toEqual([]);
  });

  it('a truncated, overlong or foreign body is refused with a clear error and writes nothing', async () => {
    const cols = WRITER_LAYOUTS.trades;
    const good = encodeRows([{ ...ROWS.trades[1]!, seq: '10', trade_id: '10' }, { ...ROWS.trades[1]!, seq: '11', trade_id: '11' }], cols);
    const before = await count('trades');
    const bad: [string, Uint8Array, RegExp][] = [
      ['truncated', good.subarray(0, good.byteLength - 3), /Cannot read all data|CANNOT_READ_ALL_DATA|truncated/i],
      ['trailing bytes', Uint8Array.from([...good, 1, 2, 3]), /Cannot read all data|CANNOT_READ_ALL_DATA|Unexpected|truncated/i],
      ['JSON sent as RowBinary', new TextEncoder().encode('{"symbol":"A","ts":"1"}\n'), /Cannot read all data|CANNOT_READ_ALL_DATA/i],
    ];
    for (const [what, body, msg] of bad) {
      const e = await b.storage.insert('trades', { format: 'RowBinary', body, columns: cols.map((c) => c.name) }).then(() => null, (x: unknown) => x);
      expect(e, what).toBeInstanceOf(TradsysError);
      expect((e as TradsysError).code, what).toBe('ERR_STORAGE_QUERY');
      expect((e as TradsysError).message, what).toMatch(/^insert into trades: /);
      expect((e as TradsysError).message, what).toMatch(msg);
      expect(await count('trades'), what).toBe(before);
    }
    expect(ingestFiles()).toEqual([]);
    // nothing was lost: the same rows, well formed, go in afterwards
    await b.storage.insert('trades', { format: 'RowBinary', body: good, columns: cols.map((c) => c.name) });
    expect(await count('trades')).toBe(before + 2);
    const bars = await b.storage.query<{ n: string }>("SELECT toString(countMerge(trades)) AS n FROM bars_1d WHERE symbol = 'A'");
    expect(Number(bars.rows[0]!.n)).toBe(3); // the round-trip row and these two, each once, through the bar view
  });

  it('an empty body inserts nothing; a binary body needs a known table and identifier columns', async () => {
    expect(await b.storage.insert('trades', { format: 'RowBinary', body: new Uint8Array(0) })).toBe(0);
    await expect(b.storage.insert('trades; DROP TABLE trades', { format: 'RowBinary', body: new Uint8Array(1) })).rejects.toMatchObject({ code: 'ERR_STORAGE_CONFIG' });
    await expect(b.storage.insert('trades', { format: 'RowBinary', body: new Uint8Array(1), columns: ['seq)'] })).rejects.toBeInstanceOf(TradsysError);
    await expect(b.storage.insert('no_such_table', { format: 'RowBinary', body: new Uint8Array(1) })).rejects.toMatchObject({ code: 'ERR_STORAGE_QUERY' });
    expect(ingestFiles()).toEqual([]);
  });
});

describe('chDB ingest files', () => {
  it('are written under <data>/chdb-ingest and stale ones are removed when the folder is opened again', async () => {
    const b = await openBackend('chdb', 'rbf');
    const s = b.storage as ChdbStorage;
    expect(s.ingestDir).toBe(join(b.dir, 'chdb-ingest'));
    await s.close();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(s.ingestDir, 'trades-1-0-0.RowBinary'), 'left by a crash');
    const again = await ChdbStorage.open(b.dir);
    try {
      expect(readdirSync(again.ingestDir)).toEqual([]);
    } finally {
      await again.close();
      await b.close();
    }
  });
});
