/**
 * bench:ci results into the `bench_runs` table (schema.ts migration 3; docs/schema.md): one row per
 * metric per run, so the history can be charted with SQL.
 *
 * Layout: a row = the run's facts (run_id, ts in ns, commit, host, cpu, cores, node, the 1-minute
 * load average before the run) + one metric (name, suite, unit, better, gate, median, samples).
 * Invariants: the input is the run file bench/ci.bench.ts writes (`tradsys-bench-ci/1`, see
 * src/cli/bench-compare.ts); non-finite samples are dropped (ClickHouse's JSON has no NaN).
 * Complexity: O(metrics × samples), one insert per run. Allocation: the rows (~100 per run).
 * Known limitations: a run is not deduplicated: storing the same file twice gives two copies
 * (query by run_id).
 */
import type { Row, Storage } from './storage.js';

export interface BenchRunInput {
  runId: string;
  date: string;
  commit: string;
  machine: { host: string; cpu: string; cores: number };
  node: string;
  loadAverage: { before: number[] };
  metrics: Record<string, { suite: string; unit: string; better: 'higher' | 'lower'; gate: boolean; median: number; samples: number[] }>;
}

export function benchRunRows(r: BenchRunInput): Row[] {
  const ts = (BigInt(Date.parse(r.date)) * 1_000_000n).toString();
  return Object.entries(r.metrics).map(([metric, m]) => ({
    run_id: r.runId, ts, commit: r.commit, host: r.machine.host, cpu: r.machine.cpu, cores: r.machine.cores, node: r.node,
    load_average: r.loadAverage.before[0] ?? 0, metric, suite: m.suite, unit: m.unit, better: m.better, gate: m.gate ? 1 : 0,
    median: Number.isFinite(m.median) ? m.median : 0, samples: m.samples.filter((x) => Number.isFinite(x)),
  }));
}

/** Appends the run's rows to bench_runs (the storage must be migrated); returns the rows written. */
export async function storeBenchRun(s: Storage, r: BenchRunInput): Promise<number> {
  const rows = benchRunRows(r);
  if (rows.length > 0) await s.insert('bench_runs', rows);
  return rows.length;
}
