/**
 * The ClickHouse schema and its versioned migrations (docs/schema.md is the analysts' reference).
 *
 * Layout: `schema_migrations(version, name, applied_at_ns)` records each applied version.
 * Tables (same names, columns and queries on chDB and on the server): instruments, trades,
 * quotes, book_snapshots, order_events, bars_1s … bars_1d (AggregatingMergeTree, fed by one
 * materialized view each from trades), strategy_signals, latency_samples, bench_runs (bench:ci's
 * results, one row per metric per run; migration 3). Prices are integer
 * ticks and quantities integer lots (the instruments table holds tick/lot sizes); timestamps are
 * Int64 nanoseconds since the Unix epoch; ORDER BY (symbol, ts, …); PARTITION BY month;
 * compression codecs only where the server has them; LowCardinality(String) symbols where the
 * server has it without a setting, plain String otherwise. WRITER_LAYOUTS: the writer tables'
 * RowBinary row layouts (the writer's insert bodies and spill files).
 * Invariants: every statement is idempotent (IF NOT EXISTS), so a migration interrupted halfway
 * is simply applied again; versions are never reused or edited once released; a migration that
 * changes a writer table's columns changes WRITER_LAYOUTS and ROW_BINARY_LAYOUT with it
 * (test/storage/row-binary.test.ts checks the layouts against each backend's tables).
 * Complexity: a handful of statements at start. Allocation: start-up only.
 * Known limitations: two processes migrating the same database at the same moment are not
 * coordinated (the statements are idempotent, so the worst case is a duplicate
 * schema_migrations row).
 */
import { TradsysError } from '../domain/errors.js';
import type { Features, Storage } from './storage.js';
import type { Column } from './row-binary.js';

/** Bar intervals: table suffix → width in nanoseconds. */
export const BAR_INTERVALS = {
  '1s': 1_000_000_000n, '1m': 60_000_000_000n, '5m': 300_000_000_000n, '1h': 3_600_000_000_000n, '1d': 86_400_000_000_000n,
} as const;
export type BarInterval = keyof typeof BAR_INTERVALS;

/**
 * Tables the writer fills. Those of EVENT_TABLES come from the event ring (each has a `seq` column:
 * its checkpoint, exactly once per seq); `strategy_signals` comes from the strategy service
 * (StorageWriter.signals, src/strategies/service.ts) and has no checkpoint (its `seq` is the engine
 * sequence the signal was made at, not unique).
 */
export const WRITER_TABLES = ['trades', 'order_events', 'quotes', 'book_snapshots', 'latency_samples', 'strategy_signals'] as const;
export type WriterTable = (typeof WRITER_TABLES)[number];
/** The writer tables filled from the event ring, checkpointed by max(seq). */
export const EVENT_TABLES: readonly WriterTable[] = ['trades', 'order_events', 'quotes', 'book_snapshots', 'latency_samples'];

const col = (spec: string): Column[] => spec.split(', ').map((x) => { const [name, type] = x.split(' '); return { name: name!, type: type as Column['type'] }; });

/**
 * The RowBinary row layout of each writer table: every column, in the table's order, with its
 * wire type (LowCardinality(String) travels as String, an enum as its Int8 value). The writer's
 * bodies and spill files (`*.l1.rowbinary`) are in this layout; a change is a new layout version
 * (ROW_BINARY_LAYOUT), and test/storage checks it against each backend's table columns.
 */
export const ROW_BINARY_LAYOUT = 1;
export const WRITER_LAYOUTS: Readonly<Record<WriterTable, readonly Column[]>> = {
  trades: col('symbol String, ts Int64, trade_id UInt64, seq UInt64, price Int64, qty UInt64, taker_side Enum8, taker_order_id UInt64, maker_order_id UInt64, taker_account UInt32, maker_account UInt32'),
  order_events: col('symbol String, ts Int64, seq UInt64, idx UInt16, type Enum8, account UInt32, order_id UInt64, side Enum8, price Int64, qty UInt64, leaves UInt64, maker_order_id UInt64, maker_account UInt32, trade_id UInt64, reason String, reason_code UInt8, ts_gateway Int64'),
  quotes: col('symbol String, ts Int64, seq UInt64, bid_price Int64, bid_qty UInt64, ask_price Int64, ask_qty UInt64'),
  book_snapshots: col('symbol String, ts Int64, seq UInt64, depth UInt16, bid_prices Array(Int64), bid_qtys Array(UInt64), bid_counts Array(UInt32), ask_prices Array(Int64), ask_qtys Array(UInt64), ask_counts Array(UInt32)'),
  latency_samples: col('component String, ts Int64, seq UInt64, latency_ns Int64'),
  strategy_signals: col('strategy String, symbol String, ts Int64, signal String, value Float64, price Int64, qty Int64, seq UInt64'),
};

const MONTH = (col: string): string => `toYYYYMM(toDateTime(intDiv(${col}, 1000000000)))`;

function types(f: Features): { sym: string; ts: string; seq: string; px: string; small: string } {
  return {
    sym: f.lowCardinality ? 'LowCardinality(String)' : 'String',
    ts: f.codecs ? 'Int64 CODEC(DoubleDelta, LZ4)' : 'Int64',
    seq: f.codecs ? 'UInt64 CODEC(Delta, LZ4)' : 'UInt64',
    px: f.codecs ? 'Int64 CODEC(T64, LZ4)' : 'Int64',
    small: f.codecs ? 'UInt64 CODEC(T64, LZ4)' : 'UInt64',
  };
}

export interface Migration { version: number; name: string; statements(f: Features): string[] }

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'core tables',
    statements: (f) => {
      const t = types(f);
      return [
        `CREATE TABLE IF NOT EXISTS instruments (symbol String, symbol_id UInt32, tick_size String, lot_size String, updated_ns Int64)
          ENGINE = ReplacingMergeTree(updated_ns) ORDER BY symbol`,
        `CREATE TABLE IF NOT EXISTS trades (symbol ${t.sym}, ts ${t.ts}, trade_id UInt64, seq ${t.seq}, price ${t.px}, qty ${t.small},
          taker_side Enum8('buy' = 0, 'sell' = 1), taker_order_id UInt64, maker_order_id UInt64, taker_account UInt32, maker_account UInt32)
          ENGINE = ReplacingMergeTree PARTITION BY ${MONTH('ts')} ORDER BY (symbol, ts, trade_id)`,
        `CREATE TABLE IF NOT EXISTS quotes (symbol ${t.sym}, ts ${t.ts}, seq ${t.seq}, bid_price Int64, bid_qty UInt64, ask_price Int64, ask_qty UInt64)
          ENGINE = ReplacingMergeTree PARTITION BY ${MONTH('ts')} ORDER BY (symbol, ts, seq)`,
        `CREATE TABLE IF NOT EXISTS book_snapshots (symbol ${t.sym}, ts ${t.ts}, seq ${t.seq}, depth UInt16,
          bid_prices Array(Int64), bid_qtys Array(UInt64), bid_counts Array(UInt32), ask_prices Array(Int64), ask_qtys Array(UInt64), ask_counts Array(UInt32))
          ENGINE = ReplacingMergeTree PARTITION BY ${MONTH('ts')} ORDER BY (symbol, ts, seq)`,
        `CREATE TABLE IF NOT EXISTS order_events (symbol ${t.sym}, ts ${t.ts}, seq ${t.seq}, idx UInt16,
          type Enum8('A' = 65, 'R' = 82, 'T' = 84, 'X' = 88, 'M' = 77, 'K' = 75), account UInt32, order_id UInt64, side Enum8('buy' = 0, 'sell' = 1),
          price Int64, qty UInt64, leaves UInt64, maker_order_id UInt64, maker_account UInt32, trade_id UInt64, reason String, reason_code UInt8,
          ts_gateway Int64)
          ENGINE = ReplacingMergeTree PARTITION BY ${MONTH('ts')} ORDER BY (symbol, ts, seq, idx)`,
        `CREATE TABLE IF NOT EXISTS strategy_signals (strategy String, symbol ${t.sym}, ts ${t.ts}, signal String, value Float64, price Int64, qty Int64, seq UInt64)
          ENGINE = MergeTree PARTITION BY ${MONTH('ts')} ORDER BY (symbol, ts, strategy)`,
        `CREATE TABLE IF NOT EXISTS latency_samples (component String, ts ${t.ts}, seq UInt64, latency_ns Int64)
          ENGINE = MergeTree PARTITION BY ${MONTH('ts')} ORDER BY (component, ts)`,
      ];
    },
  },
  {
    version: 2,
    name: 'OHLCV bars from trades',
    statements: () => Object.entries(BAR_INTERVALS).flatMap(([name, ns]) => [
      `CREATE TABLE IF NOT EXISTS bars_${name} (symbol String, bucket Int64,
        open AggregateFunction(argMin, Int64, UInt64), high AggregateFunction(max, Int64), low AggregateFunction(min, Int64),
        close AggregateFunction(argMax, Int64, UInt64), volume AggregateFunction(sum, UInt64), notional AggregateFunction(sum, Int64),
        trades AggregateFunction(count))
        ENGINE = AggregatingMergeTree PARTITION BY ${MONTH('bucket')} ORDER BY (symbol, bucket)`,
      `CREATE MATERIALIZED VIEW IF NOT EXISTS bars_${name}_mv TO bars_${name} AS
        SELECT toString(symbol) AS symbol, intDiv(ts, ${ns}) * ${ns} AS bucket,
          argMinState(price, trade_id) AS open, maxState(price) AS high, minState(price) AS low, argMaxState(price, trade_id) AS close,
          sumState(qty) AS volume, sumState(price * toInt64(qty)) AS notional, countState() AS trades
        FROM trades GROUP BY symbol, bucket`,
    ]),
  },
  {
    version: 3,
    name: 'bench_runs: bench:ci results',
    // one row per metric per run (bench/ci.bench.ts writes them; docs/schema.md); plain types
    // that ClickHouse 18.16 and chDB 26 both have
    statements: () => [
      `CREATE TABLE IF NOT EXISTS bench_runs (run_id String, ts Int64, commit String, host String, cpu String, cores UInt16,
        node String, load_average Float64, metric String, suite String, unit String, better Enum8('higher' = 1, 'lower' = 2),
        gate UInt8, median Float64, samples Array(Float64))
        ENGINE = MergeTree PARTITION BY ${MONTH('ts')} ORDER BY (metric, ts)`,
    ],
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** Applies every migration not yet recorded; returns the versions applied now. */
export async function migrate(s: Storage): Promise<number[]> {
  const f = await s.connect();
  const applied: number[] = [];
  try {
    await s.command('CREATE TABLE IF NOT EXISTS schema_migrations (version UInt32, name String, applied_at_ns Int64) ENGINE = MergeTree ORDER BY version');
    const have = new Set((await s.query<{ version: number }>('SELECT DISTINCT version FROM schema_migrations')).rows.map((r) => Number(r.version)));
    for (const m of MIGRATIONS) {
      if (have.has(m.version)) continue;
      for (const sql of m.statements(f)) await s.command(sql);
      await s.insert('schema_migrations', [{ version: m.version, name: m.name, applied_at_ns: (BigInt(Date.now()) * 1_000_000n).toString() }]);
      applied.push(m.version);
    }
  } catch (e) {
    const err = e as TradsysError;
    if (err.code === 'ERR_STORAGE_UNAVAILABLE') throw err;
    throw new TradsysError('ERR_STORAGE_MIGRATION', `schema migration failed: ${err.message}`, { cause: e });
  }
  return applied;
}
