// bench_runs (schema.ts migration 3): a bench:ci run lands as one row per metric on both backends
// (chDB 26 in a fresh folder; the ClickHouse server: CLICKHOUSE_URL or a private 18.16 server),
// and an analyst can read it through the SQL sandbox's table list.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/storage/schema.js';
import { benchRunRows, storeBenchRun, type BenchRunInput } from '../../src/storage/bench-runs.js';
import { PLATFORM_TABLES } from '../../src/storage/sandbox.js';
import { openBackend, type Backend } from '../support/storage-backends.js';

const RUN: BenchRunInput = {
  runId: 'run-1', date: '2026-12-02T05:00:00.000Z', commit: 'abc1234', node: 'v20.20.2',
  machine: { host: 'ci', cpu: 'AMD EPYC', cores: 2 }, loadAverage: { before: [1.25, 1, 1] },
  metrics: {
    'engine.default.wasm_over_fast_ts': { suite: 'engine', unit: 'ratio', better: 'higher', gate: true, median: 1.5, samples: [1.4, 1.5, 1.6, 1.5, 1.45] },
    'replay.whole_over_inprocess': { suite: 'replay', unit: 'ratio', better: 'lower', gate: true, median: 2.25, samples: [2.25, 2.5, 2, Number.NaN] },
  },
};

describe.each(['chdb', 'server'] as const)('bench_runs on %s', (name) => {
  let b: Backend;
  beforeAll(async () => { b = await openBackend(name, 'benchruns'); await migrate(b.storage); }, 120_000);
  afterAll(async () => { await b?.close(); });

  it('one row per metric, with its samples, direction and run facts', async () => {
    expect(await storeBenchRun(b.storage, RUN)).toBe(2);
    const r = await b.storage.query<Record<string, unknown>>(
      `SELECT run_id, toString(ts) AS ts, commit, cores, metric, suite, better, gate, median, samples, load_average
       FROM bench_runs WHERE run_id = 'run-1' ORDER BY metric`);
    expect(r.rows).toEqual([
      { run_id: 'run-1', ts: '1796187600000000000', commit: 'abc1234', cores: 2, metric: 'engine.default.wasm_over_fast_ts', suite: 'engine', better: 'higher', gate: 1, median: 1.5, samples: [1.4, 1.5, 1.6, 1.5, 1.45], load_average: 1.25 },
      { run_id: 'run-1', ts: '1796187600000000000', commit: 'abc1234', cores: 2, metric: 'replay.whole_over_inprocess', suite: 'replay', better: 'lower', gate: 1, median: 2.25, samples: [2.25, 2.5, 2], load_average: 1.25 },
    ]);
    // a second run appends (history), it does not replace
    await storeBenchRun(b.storage, { ...RUN, runId: 'run-2' });
    const n = await b.storage.query<{ n: string }>("SELECT toString(count()) AS n FROM bench_runs WHERE metric = 'engine.default.wasm_over_fast_ts'");
    expect(n.rows).toEqual([{ n: '2' }]);
  });
});

describe('bench_runs rows', () => {
  it('are analyst-readable and drop non-finite samples', () => {
    expect(PLATFORM_TABLES.has('bench_runs')).toBe(true);
    expect(benchRunRows(RUN)[1]!.samples).toEqual([2.25, 2.5, 2]);
  });
});
