/**
 * `npm run bench:backtest`: backtest throughput — market events per second through
 * `runBacktest` (src/strategies/backtest/): the engine in process, every event handed to the
 * StrategyRunner and the report tracker, the runner's hooks run after every command, the strategy
 * trading. Target (issue 16): ≥ 1 M market events per second on this machine.
 *
 * Workload: `tradsys gen` default mix, --count commands (default 1,000,000) over --symbols 8,
 * seed --seed (default 7), as an in-memory history at a synthetic --rate; the strategy `bench-tape`
 * (below) trades S0: every 25th trade of S0 it sends an IOC of 1 lot on the aggressor's side at
 * the trade price. Configurations (latency × rate decide how many historical commands run in one
 * engine batch: all within the latency of the batch's first):
 *   - `lat0`    0 µs latency at 100,000 commands/s: one command per batch (the worst case);
 *   - `default` 50 µs (the CLI default) at 100,000 commands/s: ~5 per batch;
 *   - `wide`    100 µs at 1,000,000 commands/s: ~100 per batch.
 * Reference and checks before anything is reported: the same configuration twice gives the same
 * resultHash (determinism); with a strategy that never trades, the backtest delivers exactly the
 * events a plain `Engine.submitRaw` replay of the stream produces (the reference), and that plain
 * replay's events/s is reported as the ceiling. A failed check exits 1.
 * Each configuration runs --reps times (default 3, after one untimed warm-up run); the median
 * wall time is reported (the run's own `run.seconds`: the loop, not the engine's creation), and the
 * median process CPU time of the run (user + system, which includes the engine's creation), a
 * figure less disturbed by other load; the load average goes into the report.
 * Options: --count N · --symbols N · --seed N · --reps N · --json · --out FILE (JSON).
 * Run it alone (2 cores on this machine).
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { CMD_SIZE } from '../../src/abi/records.js';
import { Engine } from '../../src/engine/engine.js';
import { loadInstruments } from '../../src/domain/instruments.js';
import { generate } from '../../src/workload/generator.js';
import { Strategy, type StrategyContext, type StrategyDefinition, type TradeView } from '../../src/strategies/api.js';
import { runBacktest, type BacktestOptions, type BacktestResult } from '../../src/strategies/backtest/backtest.js';
import { arrayHistory } from '../../src/strategies/backtest/history.js';
import { constantLatency } from '../../src/strategies/backtest/latency.js';
import { createStrategyRunner, genericInstruments } from '../../src/strategies/backtest/spec.js';

interface TapeParams { every: number; trade: boolean }
class BenchTape extends Strategy<TapeParams> {
  n = 0;
  override onTrade(ctx: StrategyContext<TapeParams>, t: TradeView): void {
    if (!ctx.params.trade || ++this.n % ctx.params.every !== 0) return;
    ctx.place({ symbol: t.symbol, side: t.takerSide, price: t.price, qty: 1, tif: 'ioc' });
  }
}
const benchTape: StrategyDefinition<TapeParams> = {
  kind: 'bench-tape', description: 'bench: an IOC every n-th trade',
  paramsSchema: { type: 'object', properties: { every: { type: 'integer', minimum: 1, default: 25 }, trade: { type: 'boolean', default: true } } },
  create: () => new BenchTape(),
};

export interface BacktestBenchOptions { count?: number; symbols?: number; seed?: number; reps?: number; log?: (m: string) => void }
export interface BacktestBenchRow {
  config: string; latencyUs: number; rate: number; events: number; strategyCommands: number; fills: number;
  /** Median wall time of the loop, and events over it. */
  secondsMedian: number; eventsPerSecond: number;
  /** Median CPU time of the process (user + system) over the run, and events over it: less sensitive to other load on a shared machine. */
  cpuSecondsMedian: number; eventsPerCpuSecond: number;
  resultHash: string;
}
export interface BacktestBenchReport {
  bench: 'backtest'; date: string; node: string; machine: { cpu: string; cores: number; memoryBytes: number; platform: string; loadAverage: number[] };
  workload: { mix: 'default'; count: number; symbols: number; seed: number; strategy: string };
  reference: { engineEventsPerSecond: number; events: number };
  rows: BacktestBenchRow[]; targetEventsPerSecond: number; meetsTarget: boolean;
}

const CONFIGS = [
  { config: 'lat0', latencyUs: 0, rate: 100_000 },
  { config: 'default', latencyUs: 50, rate: 100_000 },
  { config: 'wide', latencyUs: 100, rate: 1_000_000 },
] as const;

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; };

export function runBacktestBench(o: BacktestBenchOptions = {}): BacktestBenchReport {
  const count = o.count ?? 1_000_000;
  const symbols = o.symbols ?? 8;
  const seed = o.seed ?? 7;
  const reps = o.reps ?? 3;
  const log = o.log ?? (() => undefined);
  const recs = generate({ count, symbols, seed, mix: 'default', badRate: 0 });
  const instruments = loadInstruments(genericInstruments(symbols));
  const t0 = Date.UTC(2025, 0, 1) * 1e6;
  const once = (latencyUs: number, rate: number, trade: boolean): BacktestResult => {
    const ts = new Float64Array(count);
    for (let i = 0; i < count; i++) ts[i] = t0 + (i * 1e9) / rate;
    return runBacktest({
      strategy: { id: 'bench', kind: 'bench-tape', account: 900_000, symbols: ['S0'], params: { trade },
        limits: { maxOrdersPerSec: 100_000, maxMessagesPerSec: 100_000, maxRepeatedExecutions: 100_000, maxPosition: 1e9, maxLoss: 1e12, maxDrawdown: 1e12 } },
      definition: benchTape as unknown as StrategyDefinition, instruments, history: arrayHistory(recs, ts, 'bench'),
      latency: constantLatency(latencyUs * 1000), createRunner: createStrategyRunner as BacktestOptions['createRunner'],
      velocity: { movePct: 50, windowMs: 1000, pauseMs: 1000 },
    });
  };
  // reference: a plain replay of the stream
  const eng = new Engine({ symbols, capacity: count + 4096, inboxCapacity: 4096, seed: 1 });
  let refEvents = 0;
  const r0 = performance.now();
  eng.submitRaw(recs, 0, count, (_v, _b, k) => { refEvents += k; });
  const refSec = (performance.now() - r0) / 1000;
  const quiet = once(50, 100_000, false);
  if (quiet.run.events !== refEvents || quiet.orders.length !== 0) {
    throw new Error(`check failed: a backtest with a strategy that does not trade delivered ${quiet.run.events} events, the plain replay ${refEvents}`);
  }
  log(`reference: plain engine replay ${(refEvents / refSec / 1e6).toFixed(2)} M events/s (${refEvents} events); the quiet backtest delivers the same events`);
  const rows: BacktestBenchRow[] = [];
  for (const c of CONFIGS) {
    const warm = once(c.latencyUs, c.rate, true);
    const secs: number[] = [];
    const cpuSecs: number[] = [];
    let last = warm;
    for (let k = 0; k < reps; k++) {
      const u0 = process.cpuUsage();
      last = once(c.latencyUs, c.rate, true);
      const u = process.cpuUsage(u0);
      cpuSecs.push((u.user + u.system) / 1e6);
      if (last.resultHash !== warm.resultHash) throw new Error(`check failed: ${c.config} gave two resultHashes`);
      secs.push(last.run.seconds);
    }
    const s = median(secs);
    const cs = median(cpuSecs);
    const row = {
      ...c, events: last.run.events, strategyCommands: last.run.strategyCommands, fills: last.summary.trades, secondsMedian: s, eventsPerSecond: last.run.events / s,
      cpuSecondsMedian: cs, eventsPerCpuSecond: last.run.events / cs, resultHash: last.resultHash,
    };
    rows.push(row);
    log(`${c.config.padEnd(8)} latency ${String(c.latencyUs).padStart(3)} µs · ${String(c.rate).padStart(9)} cmd/s · ${(row.eventsPerSecond / 1e6).toFixed(2)} M events/s (${(row.eventsPerCpuSecond / 1e6).toFixed(2)} M per CPU-s) · ${row.events} events · ${row.strategyCommands} strategy commands · ${row.fills} fills · median ${s.toFixed(3)} s of ${reps}`);
  }
  const cpu = cpus()[0];
  const target = 1_000_000;
  return {
    bench: 'backtest', date: new Date().toISOString(), node: process.version,
    machine: { cpu: cpu?.model ?? 'unknown', cores: cpus().length, memoryBytes: totalmem(), platform: `${process.platform}-${process.arch}`, loadAverage: loadavg() },
    workload: { mix: 'default', count, symbols, seed, strategy: 'bench-tape: IOC of 1 lot on S0 every 25th S0 trade' },
    reference: { engineEventsPerSecond: refEvents / refSec, events: refEvents },
    rows, targetEventsPerSecond: target, meetsTarget: rows.every((r) => r.eventsPerSecond >= target),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const opt = (k: string, d: number): number => { const i = args.indexOf(k); return i >= 0 ? Number(args[i + 1]) : d; };
  const outIdx = args.indexOf('--out');
  try {
    const rep = runBacktestBench({ count: opt('--count', 1_000_000), symbols: opt('--symbols', 8), seed: opt('--seed', 7), reps: opt('--reps', 3), log: (m) => process.stderr.write(m + '\n') });
    if (args.includes('--json')) process.stdout.write(JSON.stringify(rep, null, 2) + '\n');
    if (outIdx >= 0) writeFileSync(args[outIdx + 1]!, JSON.stringify(rep, null, 2) + '\n');
    process.stderr.write(`bench:backtest — target ≥ 1 M events/s: ${rep.meetsTarget ? 'met' : 'NOT met'} (${rep.rows.map((r) => `${r.config} ${(r.eventsPerSecond / 1e6).toFixed(2)} M`).join(', ')}; load average ${rep.machine.loadAverage.map((x) => x.toFixed(1)).join(' ')} on ${rep.machine.cores} cores)\n`);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
