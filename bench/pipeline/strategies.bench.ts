/**
 * `npm run bench:strategies`: market event → strategy decision → order in the command ring, with
 * the live engine running (EngineHost: the engine thread behind the rings) and the strategy worker
 * pool (src/strategies/pool.ts) on it.
 *
 * The main thread drives a market at `--rate` trades/s (each a resting sell and a crossing buy of
 * two market accounts, prices on a random walk, symbols in turn). Every worker runs `--spw`
 * strategies of kind `bench-follow` (bench/pipeline/strategies-bench-strategy.ts), each on its own
 * account and symbol: on every trade it cancels its bid and places a new one under the price. The
 * latency is measured in the worker at each push into the command ring: now − the engine's stamp
 * (tsInit) of the oldest event of the poll that led to it (both epoch ns on one base; the stamp is
 * taken when the engine takes its batch, before matching and publishing). Samples go to an HDR
 * histogram (hdr-histogram-js): p50/p99/p99.9/max. Pool scaling: the same load with 1..N workers
 * (`--workers 1,2,4`; default 1 .. cores − 1, at most 8).
 * Each configuration: a fresh pool, `--warmup` s of load, the record reset, `--seconds` s measured.
 * First, the runner alone (`runner` in the JSON): StrategyRunner.onEvent + tick over the events of
 * 400,000 generated commands (default mix, 4 symbols) from an in-process engine, one thread, with
 * 0, 1 and 4 strategies subscribed (books kept; dispatch once per 4,096-command batch): events/s,
 * best of 3.
 * Then the two figures the other strategy benchmarks measure on their own, in the same run (`pairs`
 * and `backtest` in the JSON): pair updates per second per worker (bench/kernels/pairs.bench.ts, quick
 * mode, against its plain-TS baseline) and backtest market events per second
 * (bench/pipeline/backtest.bench.ts, 1 M commands).
 * Options: --rate N (default 2000), --seconds S (5), --warmup S (1), --symbols N (4), --spw N (2),
 * --workers LIST, --no-pairs, --no-backtest, --out FILE.json, --json.
 */
import * as hdr from 'hdr-histogram-js';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { ENUMS } from '../../src/abi/records.js';
import { Instrument } from '../../src/domain/instruments.js';
import { EngineHost } from '../../src/engine/host.js';
import { Engine } from '../../src/engine/engine.js';
import { EVT_SIZE } from '../../src/abi/records.js';
import { evtCmd } from '../../src/abi/views.js';
import { generate } from '../../src/workload/generator.js';
import { Strategy } from '../../src/strategies/api.js';
import { StrategyRunner } from '../../src/strategies/runner.js';
import { StrategyPool } from '../../src/strategies/pool.js';
import { run as runPairsBench } from '../kernels/pairs.bench.js';
import { runBacktestBench } from './backtest.bench.js';

const args = process.argv.slice(2);
const opt = (k: string, d: string): string => { const i = args.indexOf(k); return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : d; };
const RATE = Number(opt('--rate', '2000'));
const SECONDS = Number(opt('--seconds', '5'));
const WARMUP = Number(opt('--warmup', '1'));
const SYMBOLS = Number(opt('--symbols', '4'));
const SPW = Number(opt('--spw', '2'));
const maxW = Math.max(1, Math.min(8, availableParallelism() - 1));
const WORKERS = opt('--workers', Array.from({ length: maxW }, (_, i) => i + 1).join(',')).split(',').map(Number);
const OUT = opt('--out', '');
const JSON_OUT = args.includes('--json');
const MODULE = new URL('./strategies-bench-strategy.ts', import.meta.url).href;

const instruments = Array.from({ length: SYMBOLS }, (_, i) => new Instrument(i, { symbol: `S${i}`, tickSize: '1', lotSize: '1' }));

/** Seeded PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

interface Run {
  workers: number; strategies: number; rateTarget: number; trades: number; tradesPerSec: number; decisions: number; decisionsPerSec: number;
  latencyUs: { p50: number; p99: number; p999: number; max: number; mean: number }; perWorker: { count: number; p99: number }[];
  /** The strategies' own hook time (their status decisionUs, the worst strategy): the part of the latency that is strategy code. */
  hookUs: { p50: number; p99: number };
}

async function runOne(host: EngineHost, workers: number, nextId: { v: number }, px: number[]): Promise<Run> {
  const pool = await StrategyPool.start({ host, instruments, workers, strategyModules: [MODULE], latencySamples: Math.ceil(RATE * SECONDS * 4) + 10_000 });
  let n = 0;
  for (let w = 0; w < workers; w++) {
    for (let j = 0; j < SPW; j++) {
      await pool.create({ id: `f${w}-${j}`, kind: 'bench-follow', account: 1000 + n, symbols: [`S${(w * SPW + j) % SYMBOLS}`], worker: w, budgetUs: 1_000_000, limits: { maxOrdersPerSec: 100_000, maxMessagesPerSec: 100_000, maxRepeatedExecutions: 100_000, maxDuplicateOrders: 100_000 } });
      n++;
    }
  }
  const rnd = rng(7 + workers);
  const drive = (seconds: number): number => {
    const gap = 1e3 / RATE; // ms between trades
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    const nap = new Int32Array(new SharedArrayBuffer(4));
    let k = 0;
    for (;;) {
      const now = performance.now();
      if (now >= end) break;
      const due = t0 + k * gap;
      if (now < due) { if (due - now > 0.3) Atomics.wait(nap, 0, 0, 0.2); continue; }
      const s = k % SYMBOLS;
      px[s] = Math.max(1000, px[s]! + (rnd() < 0.5 ? -1 : 1));
      const p = BigInt(px[s]!);
      while (!host.submit({ op: ENUMS.Op.NEW, side: 1, type: 0, tif: 0, symbol: s, id: BigInt(nextId.v++), price: p, qty: 1, account: 99 })) Atomics.wait(nap, 0, 0, 0.1);
      while (!host.submit({ op: ENUMS.Op.NEW, side: 0, type: 0, tif: 0, symbol: s, id: BigInt(nextId.v++), price: p, qty: 1, account: 98 })) Atomics.wait(nap, 0, 0, 0.1);
      k++;
    }
    return k;
  };
  drive(WARMUP);
  await new Promise((r) => setTimeout(r, 200));
  await pool.resetLatency();
  const t0 = performance.now();
  const trades = drive(SECONDS);
  const secs = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 300)); // let the workers finish the last decisions
  const st = await Promise.all(pool.list().map((x) => pool.refresh(x.id)));
  const hookUs = { p50: Math.max(...st.map((x) => x.decisionUs.p50)), p99: Math.max(...st.map((x) => x.decisionUs.p99)) };
  const samples = await pool.close();
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60e9, numberOfSignificantValueDigits: 3 });
  const perWorker: { count: number; p99: number }[] = [];
  let count = 0;
  for (const s of samples) {
    const hw = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60e9, numberOfSignificantValueDigits: 3 });
    for (let i = 0; i < s.length; i++) { const v = Math.max(1, Math.round(s[i]!)); h.recordValue(v); hw.recordValue(v); }
    perWorker.push({ count: s.length, p99: Math.round(hw.getValueAtPercentile(99) / 100) / 10 });
    count += s.length;
  }
  const us = (v: number): number => Math.round(v / 100) / 10;
  return {
    workers, strategies: n, rateTarget: RATE, trades, tradesPerSec: Math.round(trades / secs), decisions: count, decisionsPerSec: Math.round(count / secs),
    latencyUs: { p50: us(h.getValueAtPercentile(50)), p99: us(h.getValueAtPercentile(99)), p999: us(h.getValueAtPercentile(99.9)), max: us(h.maxValue), mean: us(h.mean) },
    perWorker, hookUs,
  };
}

/** The runner alone: events/s through onEvent + tick with 0, 1 and 4 subscribed strategies. */
function runnerSpeed(): { strategies: number; events: number; eventsPerSec: number }[] {
  const N = 400_000;
  const recs = generate({ seed: 3, count: N, symbols: 4, mix: 'default' });
  const eng = new Engine({ symbols: 4, capacity: 1 << 20 });
  const batches: Uint8Array[] = [];
  let total = 0;
  eng.submitRaw(recs, 0, N, (_dv, b, k) => { batches.push(b.slice(0, k * EVT_SIZE)); total += k; });
  const ins = [0, 1, 2, 3].map((i) => new Instrument(i, { symbol: `S${i}`, tickSize: '1', lotSize: '1' }));
  class Count extends Strategy { n = 0; override onBook(): void { this.n++; } override onTrade(): void { this.n++; } }
  const out: { strategies: number; events: number; eventsPerSec: number }[] = [];
  for (const subs of [0, 1, 4]) {
    let t = 1.8e12;
    const r = new StrategyRunner({ instruments: ins, now: () => t, sink: { send: () => true }, nextOrderId: () => 1, measure: false });
    for (let i = 0; i < subs; i++) {
      r.add({ id: `s${i}`, kind: 'count', account: 7 + i, symbols: [`S${i % 4}`] }, { kind: 'count', description: '', paramsSchema: {}, create: () => new Count() });
      r.start(`s${i}`);
    }
    let best = 0;
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      let seq = 0;
      for (const b of batches) {
        const dv = new DataView(b.buffer);
        const k = b.length / EVT_SIZE;
        for (let i = 0; i < k; i++) r.onEvent(dv, i * EVT_SIZE, seq + evtCmd(dv, i * EVT_SIZE) + 1, 0);
        seq += 4096;
        t += 1;
        r.tick();
      }
      best = Math.max(best, total / ((performance.now() - t0) / 1000));
    }
    out.push({ strategies: subs, events: total, eventsPerSec: Math.round(best) });
  }
  return out;
}

async function main(): Promise<void> {
  const load0 = loadavg()[0]!;
  const runner = runnerSpeed();
  if (!JSON_OUT) for (const x of runner) process.stdout.write(`runner alone, ${x.strategies} strategies: ${(x.eventsPerSec / 1e6).toFixed(2)} M events/s\n`);
  const pairs = args.includes('--no-pairs') ? null : runPairsBench({ quick: true });
  if (pairs && !JSON_OUT) for (const r of pairs.rows) process.stdout.write(`pairs ${r.name}: ${(r.updatesPerSecCpu / 1e6).toFixed(2)} M updates/s per worker (CPU), ${r.ratioToPlainTs.toFixed(2)}× plain TS time\n`);
  const backtest = args.includes('--no-backtest') ? null : runBacktestBench({ reps: 3 });
  if (backtest && !JSON_OUT) for (const r of backtest.rows) process.stdout.write(`backtest ${r.config}: ${(r.eventsPerSecond / 1e6).toFixed(2)} M events/s (${(r.eventsPerCpuSecond / 1e6).toFixed(2)} M per CPU-second)\n`);
  const host = await EngineHost.start({ engine: { symbols: SYMBOLS, capacity: 1 << 20 }, commandSlots: 1 << 16, eventSlots: 1 << 18, batch: 1024 });
  const runs: Run[] = [];
  const nextId = { v: 1 };
  const px = Array.from({ length: SYMBOLS }, () => 10_000);
  try {
    for (const w of WORKERS) {
      const r = await runOne(host, w, nextId, px);
      // a strategy refused by its breaker (or paused) sends nothing: a run without decisions measures nothing
      if (r.decisions === 0) throw new Error(`workers ${w}: no strategy decision reached the command ring (a breaker trip or a paused strategy? see the limits in runOne)`);
      runs.push(r);
      if (!JSON_OUT) {
        process.stdout.write(`workers ${w} (${r.strategies} strategies): ${r.tradesPerSec} trades/s → ${r.decisionsPerSec} ring pushes/s; `
          + `decision-to-ring p50 ${r.latencyUs.p50} µs, p99 ${r.latencyUs.p99} µs, p99.9 ${r.latencyUs.p999} µs, max ${r.latencyUs.max} µs; hooks p50 ${r.hookUs.p50} µs, p99 ${r.hookUs.p99} µs\n`);
      }
    }
  } finally {
    await host.stop();
  }
  const report = {
    bench: 'strategies', date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? '', cores: availableParallelism(),
    loadAverage: { before: load0, after: loadavg()[0]! },
    config: { rate: RATE, seconds: SECONDS, warmup: WARMUP, symbols: SYMBOLS, strategiesPerWorker: SPW, workers: WORKERS },
    target: { decisionToRingP99Us: 50, pairUpdatesPerSecPerWorker: 1_000_000, backtestEventsPerSec: 1_000_000 }, runner, runs, pairs, backtest,
  };
  if (OUT) writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');
  if (JSON_OUT) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}

main().catch((e: unknown) => { process.stderr.write(`${(e as Error).stack ?? String(e)}\n`); process.exit(1); });
