/**
 * `npm run bench:ci`: quick versions of every benchmark, for CI's regression check (bench/README.md
 * "bench:ci"; ~3 minutes on a 2-core machine, every phase bounded). Each figure is reported with
 * its repeated samples, absolute AND, where the same run measures a baseline, as a ratio to it:
 * ratios are what `tradsys bench compare` gates on, because they cancel the machine's speed.
 *
 * Suites (`--only a,b` runs a subset):
 *   engine  — bench/kernels/engine.bench.ts (spawned 5 times, JSON, `--reps 1`): every mix, 150,000
 *             commands; WASM engine vs each plain-TS/peer engine of the run (throughput ratios), the
 *             cost of risk (wasm+risk / wasm), p99/p99.9 (reported, not gated);
 *   stats   — micro kernels under benchmark.js (adaptive iteration counts, 7 interleaved rounds):
 *             meanVar WASM SIMD vs plain JS, correlation matrix SIMD vs scalar, RunningStats.pushMany
 *             vs a plain-JS Welford loop, RollingPairStats.push vs a plain-JS rolling pair;
 *             checked against test/reference first;
 *   replay  — `tradsys replay` of a 500,000-command default-mix file, whole process (spawned, wall)
 *             vs the in-process matching time of the same commands (issue 14 §1's ratio), and engine
 *             creation at that capacity;
 *   journal — JournalWriter append (256-byte records, batches of 1,024) without sync vs plain
 *             writeSync of the same bytes, with one fdatasync per batch; recovery (recoverEngine,
 *             verification included) of a 200,000-record journal vs in-process matching of it;
 *   storage — embedded chDB ingest of trades: RowBinary (the writer's path) vs JSONEachRow rows;
 *   gateway — bench/pipeline/gateway.bench.ts (spawned, JSON; 5 runs): acked orders/s over one
 *             connection with 64 in flight, JSON and binary protocols, open-loop p99 at 3,000/s;
 *             binary / JSON (one connection: with several binary connections the bench stalls
 *             today, see bench/README.md);
 *   fanout  — bench/pipeline/fanout.bench.ts (spawned 3 times, JSON; 100 subscribers, 2 s at 5,000
 *             orders/s, one run per mode each time): events per server CPU-second, binary / JSON.
 * Output: a table on stdout; the run as JSON (`tradsys-bench-ci/1`, src/cli/bench-compare.ts) to
 * `--out FILE` (default build/bench-ci.json); one row per metric appended to `bench_runs` in the
 * platform's ClickHouse (CLICKHOUSE_URL, else embedded chDB in `--data DIR`/clickhouse, default
 * ./data) unless `--no-store`. A suite that fails (a wrong answer, a crash, a timeout) is named on
 * stderr and the run exits 1 after writing what it has.
 *
 * Self-test (bench/README.md): BENCH_CI_SLOW=runningPushMany (read only here; also meanVar,
 * corrMatrix, rollingPairPush) makes that WASM kernel's timed loop busy-wait twice as long as the
 * kernel ran (a 3× slower kernel), so `tradsys bench compare` against bench/baseline.json must fail
 * naming stats.runningPushMany.wasm_over_js —
 * `npm run bench:ci:selftest` runs exactly that and succeeds only if the comparison fails.
 *
 * Layout: one function per suite, each adding metrics through put() (name → suite, unit, better,
 * gate, samples, description); ranked() turns two sample sets of one run into ratio samples.
 * Invariants: every suite checks its results before it reports (the engine bench verifies WASM
 * against FastBook and the reference; stats against test/reference; recovery's record count;
 * chDB's row count); only same-run ratios are gated; every spawned bench has a time limit and
 * every scratch folder is removed.
 * Complexity: ~3 minutes of wall time on 2 cores (see bench/README.md for measured times).
 * Allocation: the workloads (≤ 500,000 commands × 64 B) and the chDB batches; nothing kept.
 * Known limitations: the fan-out suite has 3 samples a mode (each is a server start); absolute
 * figures depend on the machine and its load (recorded in the JSON) and are never gated across
 * machines.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, hostname, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import Benchmark from 'benchmark';
import { BENCH_FORMAT, median, type BenchMetric, type BenchRun } from '../src/cli/bench-compare.js';
import { CMD_SIZE } from '../src/abi/records.js';
import { Engine } from '../src/engine/engine.js';
import { recoverEngine } from '../src/engine/recovery.js';
import { generate } from '../src/workload/generator.js';
import { writeOrderFile } from '../src/codec/tso.js';
import { JournalWriter } from '../src/journal/writer.js';
import { RunningStats, RollingPairStats } from '../src/stats/index.js';
import { stats } from '../src/stats/wasm.js';
import { ChdbStorage } from '../src/storage/chdb-storage.js';
import { migrate, WRITER_LAYOUTS } from '../src/storage/schema.js';
import { encodeString, RowBinaryBuilder } from '../src/storage/row-binary.js';
import { openStorage } from '../src/storage/open.js';
import { storeBenchRun } from '../src/storage/bench-runs.js';
import { refM2 } from '../test/reference/stats-ref.js';
import { writeJournal } from '../test/support/journal-fixture.js';
import { JsRollingPair, JsWelford, jsMeanVar, series } from './baselines/stats-js.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const CLI = join(ROOT, 'build', 'dist', 'cli', 'main.js');
const SUITES = ['engine', 'stats', 'replay', 'journal', 'storage', 'gateway', 'fanout'] as const;
type Suite = (typeof SUITES)[number];

interface Args { out: string; store: boolean; data: string; only: Suite[] }
function parseArgs(argv: string[]): Args {
  const a: Args = { out: join(ROOT, 'build', 'bench-ci.json'), store: true, data: 'data', only: [...SUITES] };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = (): string => { const x = argv[++i]; if (x === undefined) throw new Error(`${k} needs a value`); return x; };
    switch (k) {
      case '--out': a.out = v(); break;
      case '--no-store': a.store = false; break;
      case '--data': a.data = v(); break;
      case '--only': a.only = v().split(',') as Suite[]; for (const s of a.only) if (!SUITES.includes(s)) throw new Error(`--only: unknown suite ${s} (${SUITES.join(', ')})`); break;
      default: throw new Error(`unknown option ${k} (--out FILE · --no-store · --data DIR · --only ${SUITES.join(',')})`);
    }
  }
  return a;
}

const log = (s: string): void => { process.stderr.write(s + '\n'); };
const metrics: Record<string, BenchMetric> = {};
/** Records a metric; `gate` only for same-run ratios. Non-finite samples are dropped. */
function put(name: string, suite: Suite, unit: string, better: 'higher' | 'lower', gate: boolean, samples: number[], description: string): void {
  const s = samples.filter((x) => Number.isFinite(x) && x > 0);
  if (s.length === 0) { log(`[${suite}] ${name}: no usable sample`); return; }
  metrics[name] = { suite, unit, better, gate, samples: s, median: median(s), description };
}
const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
/**
 * Ratio samples from two sample sets of one run: the k-th best of `a` over the k-th best of `b`
 * (both sorted best first: largest first for 'higher', smallest first for 'lower'). On a shared
 * machine other work only ever slows a repetition down, by an amount that has nothing to do with
 * which side ran then; pairing order statistics (fastest with fastest, …) instead of repetition
 * i with repetition i keeps that interference out of the ratio (bench/README.md "Noise model").
 */
function ranked(a: number[], b: number[], better: 'higher' | 'lower'): number[] {
  const sort = (xs: number[]): number[] => [...xs].filter(Number.isFinite).sort((x, y) => (better === 'higher' ? y - x : x - y));
  const sa = sort(a);
  const sb = sort(b);
  return sa.slice(0, Math.min(sa.length, sb.length)).map((x, i) => x / sb[i]!);
}
const nowS = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e9;

/** Runs a bench script with tsx; stdout returned, stderr passed through; throws on failure or timeout. */
function spawnBench(script: string, args: string[], timeoutMs: number, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(HERE, script), ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${script}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${script} exited ${String(r.status ?? r.signal)}: ${r.stdout.split('\n').slice(-5).join(' | ')}`);
  return r.stdout;
}
/** The JSON document at the end of a bench's stdout (after its table lines). */
function trailingJson<T>(out: string): T {
  const i = out.search(/^[[{]/m);
  if (i < 0) throw new Error('no JSON in the bench output');
  return JSON.parse(out.slice(i)) as T;
}

// ── engine ──────────────────────────────────────────────────────────────────────────────
interface EngineResult { name: string; commands: number; seconds: number; latencyNs: { p99: number; p999: number } | null }
function engineSuite(): void {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ci-engine-'));
  try {
    // five processes with one timed rep each, not one process with five reps: inside a process the
    // engines are timed one after another within ~0.1 s, so a burst of other work on the machine
    // hits a ratio's two sides alike (with --reps N each engine's N reps run as one block, and a
    // burst that lasts the block skews every sample of one side)
    const runs: Record<string, EngineResult[]>[] = [];
    for (let p = 0; p < 5; p++) {
      const out = join(dir, `engine-${p}.json`);
      spawnBench('kernels/engine.bench.ts', ['--count', '150000', '--latency', '20000', '--peer-count', '20000', '--reps', '1', '--out', out], 120_000);
      const rep = JSON.parse(readFileSync(out, 'utf8')) as { mixes: Record<string, { results: EngineResult[] }> };
      runs.push(Object.fromEntries(Object.entries(rep.mixes).map(([mix, m]) => [mix, m.results])));
    }
    const rate = (r: EngineResult): number => r.commands / r.seconds; // --reps 1: the one timed rep
    for (const mix of Object.keys(runs[0]!)) {
      const byEngine = new Map<string, number[]>();
      const p99: number[] = [];
      const p999: number[] = [];
      for (const run of runs) {
        for (const r of run[mix] ?? []) {
          (byEngine.get(r.name) ?? byEngine.set(r.name, []).get(r.name)!).push(rate(r));
          if (r.name === 'wasm' && r.latencyNs) { p99.push(r.latencyNs.p99); p999.push(r.latencyNs.p999); }
        }
      }
      const w = byEngine.get('wasm');
      if (!w) throw new Error(`engine.bench: no wasm result for ${mix}`);
      for (const [name, rates] of byEngine) {
        put(`engine.${mix}.${slug(name)}.mcmds`, 'engine', 'M commands/s', 'higher', false, rates.map((x) => x / 1e6), `${name} throughput, ${mix} mix, batches of 4,096`);
        if (name === 'wasm') continue;
        if (name === 'wasm+risk') put(`engine.${mix}.risk_over_wasm`, 'engine', 'ratio', 'higher', true, ranked(rates, w, 'higher'), `throughput with pre-trade risk on ÷ without, ${mix} mix`);
        else put(`engine.${mix}.wasm_over_${slug(name)}`, 'engine', 'ratio', 'higher', true, ranked(w, rates, 'higher'), `WASM throughput ÷ ${name}'s, ${mix} mix (k-th fastest runs)`);
      }
      put(`engine.${mix}.wasm.p99_ns`, 'engine', 'ns', 'lower', false, p99, `per-command latency p99 (one command per call, timer included), ${mix}`);
      put(`engine.${mix}.wasm.p999_ns`, 'engine', 'ns', 'lower', false, p999, `per-command latency p99.9, ${mix}`);
    }
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

// ── stats (benchmark.js) ────────────────────────────────────────────────────────────────
/**
 * Seconds per call of `fn` from benchmark.js's sampling (≥ 5 samples, each of an iteration count it
 * calibrates to the timer): the fastest sample, the one least disturbed by other work on the machine.
 */
function bjs(name: string, fn: () => void): number {
  const b = new Benchmark(name, fn, { minSamples: 5, maxTime: 0.12, minTime: 0.01, initCount: 1 });
  b.run();
  if (b.error) throw b.error as Error;
  return Math.min(...b.stats.sample);
}
/** The self-test's slowdown: busy-waits twice as long as `fn` took, a 3× slower kernel (only when BENCH_CI_SLOW names it). */
function maybeSlow(kernel: string, fn: () => void): () => void {
  if (process.env.BENCH_CI_SLOW !== kernel) return fn;
  log(`[stats] SELF-TEST: BENCH_CI_SLOW=${kernel}: the ${kernel} kernel's timed loop busy-waits twice as long as it ran (3× slower)`);
  return () => { const t0 = process.hrtime.bigint(); fn(); const d = process.hrtime.bigint() - t0; const end = process.hrtime.bigint() + 2n * d; while (process.hrtime.bigint() < end) { /* spin */ } };
}
function statsSuite(): void {
  const N = 200_000;
  const ROUNDS = 7;
  const xs = series(7, N);
  const ys = series(8, N);
  const s = stats();
  const p = s.alloc(N * 8 * 2 + 64);
  const po = s.alloc(64 * 8 + 64);
  s.f64().set(xs, p >>> 3);
  s.f64().set(ys, (p >>> 3) + N);
  const K = 8;
  const NK = 25_000;
  const pk = s.alloc(K * NK * 8);
  const pw = s.alloc(K * NK * 8);
  for (let j = 0; j < K; j++) s.f64().set(series(100 + j, NK), (pk >>> 3) + j * NK);
  // correctness first (a fast wrong answer is a failure)
  const want = refM2(xs);
  s.ex.statsMeanVar(p, N, po);
  if (Math.abs(s.f64()[(po >>> 3) + 1]! - want) > 1e-9 * want) throw new Error('stats: WASM meanVar differs from the reference');
  if (Math.abs(jsMeanVar(xs)[1] - want) > 1e-9 * want) throw new Error('stats: plain-JS meanVar differs from the reference');
  const rs = new RunningStats();
  rs.pushMany(xs);
  const jw = new JsWelford();
  for (let i = 0; i < N; i++) jw.push(xs[i]!);
  if (Math.abs(rs.variance(0)! * N - jw.m2) > 1e-9 * jw.m2) throw new Error('stats: RunningStats.pushMany differs from Welford');
  const rp = new RollingPairStats(100);
  const jp = new JsRollingPair(100);
  const pairs: [string, string, () => void, string, () => void, number, string][] = [
    ['meanVar', 'wasm_simd_over_js', maybeSlow('meanVar', () => { s.ex.statsMeanVar(p, N, po); }), 'js', () => { jsMeanVar(xs); }, N, 'mean/variance kernel on resident data: plain JS ns/element ÷ WASM SIMD ns/element'],
    ['corrMatrix', 'simd_over_scalar', maybeSlow('corrMatrix', () => { s.ex.statsCorrMatrix(pk, NK, K, po, pw); }), 'scalar', () => { s.ex.statsCorrMatrixScalar(pk, NK, K, po, pw); }, K * NK, '8-series correlation matrix: WASM scalar ÷ WASM SIMD time'],
    ['runningPushMany', 'wasm_over_js', maybeSlow('runningPushMany', () => { rs.pushMany(xs); }), 'js', () => { for (let i = 0; i < N; i++) jw.push(xs[i]!); }, N, 'RunningStats.pushMany vs a plain-JS Welford loop (ns/value)'],
    ['rollingPairPush', 'wasm_over_js', maybeSlow('rollingPairPush', () => { for (let i = 0; i < N; i++) rp.push(xs[i]!, ys[i]!); }), 'js', () => { for (let i = 0; i < N; i++) jp.push(xs[i]!, ys[i]!); }, N, 'RollingPairStats.push per call vs a plain-JS rolling pair (ns/update)'],
  ];
  for (const [kernel, ratioName, wasmFn, baseName, baseFn, elems, what] of pairs) {
    const w: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < ROUNDS; r++) { // interleaved, so that a change in load hits both sides
      w.push(bjs(`${kernel} wasm`, wasmFn) * 1e9 / elems);
      b.push(bjs(`${kernel} ${baseName}`, baseFn) * 1e9 / elems);
    }
    put(`stats.${kernel}.wasm.ns_per_element`, 'stats', 'ns/element', 'lower', false, w, what);
    put(`stats.${kernel}.${baseName}.ns_per_element`, 'stats', 'ns/element', 'lower', false, b, what);
    put(`stats.${kernel}.${ratioName}`, 'stats', 'ratio', 'higher', true, ranked(b, w, 'lower'), what);
  }
  if (Math.abs(rp.beta! - jp.beta) > 1e-6 * Math.max(1, Math.abs(jp.beta))) throw new Error('stats: rolling beta WASM vs JS differ');
}

// ── replay ──────────────────────────────────────────────────────────────────────────────
function replaySuite(): void {
  const N = 500_000;
  const dir = mkdtempSync(join(tmpdir(), 'bench-ci-replay-'));
  try {
    const recs = generate({ seed: 42, count: N, symbols: 8, mix: 'default', badRate: 0.001 });
    const file = join(dir, 'default.tso');
    const fd = openSync(file, 'w');
    writeOrderFile(fd, recs, N, false);
    closeSync(fd);
    const whole: number[] = [];
    const inproc: number[] = [];
    const create: number[] = [];
    const sink = (): void => {};
    for (let r = 0; r < 6; r++) {
      const t0 = process.hrtime.bigint();
      const x = spawnSync(process.execPath, [CLI, 'replay', '--symbols', '8', '--in', file, '--quiet'], { stdio: 'ignore', timeout: 60_000 });
      const tw = nowS(t0);
      if (x.status !== 0) throw new Error(`tradsys replay exited ${String(x.status ?? x.signal)}`);
      // the same engine configuration replay uses (capacity = the file's command count)
      const t1 = process.hrtime.bigint();
      const e = new Engine({ symbols: 8, capacity: N, inboxCapacity: 8192 });
      const tc = nowS(t1);
      const t2 = process.hrtime.bigint();
      for (let off = 0; off < N; off += 8192) e.submitRaw(recs, off * CMD_SIZE, Math.min(8192, N - off), sink);
      const tm = nowS(t2);
      if (r === 0) continue; // warm-up (page cache, JIT)
      whole.push(tw); inproc.push(tm); create.push(tc * 1000);
    }
    put('replay.whole_process_s', 'replay', 's', 'lower', false, whole, '`tradsys replay` of 500,000 default-mix commands, wall time of the whole process');
    put('replay.inprocess_matching_s', 'replay', 's', 'lower', false, inproc, 'the same commands through an in-process engine (submitRaw, batches of 8,192)');
    put('replay.engine_create_ms', 'replay', 'ms', 'lower', false, create, 'new Engine({ symbols: 8, capacity: 500,000 })');
    put('replay.whole_over_inprocess', 'replay', 'ratio', 'lower', true, ranked(whole, inproc, 'lower'), 'whole-process replay time ÷ in-process matching time (issue 14 §1 target ≤ 1.3 on multi-million files)');
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

// ── journal ─────────────────────────────────────────────────────────────────────────────
function journalSuite(): void {
  const scratch: string[] = [];
  const tmp = (p: string): string => { const d = mkdtempSync(join(tmpdir(), p)); scratch.push(d); return d; };
  try {
    const cmd = new Uint8Array(96);
    const evts = new Uint8Array(128).fill(7);
    const append = (durability: 'none' | 'fsync', total: number): number => {
      const w = new JournalWriter(tmp('bench-ci-jw-'), 0n, null, { durability, commitMarkMs: 1000 });
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < total; i += 1024) { for (let j = 0; j < 1024; j++) w.append(0n, cmd, 0, evts, 0, 2); w.commit(); }
      const s = nowS(t0);
      w.close();
      return total / s;
    };
    const rawWrite = (total: number): number => { // the same bytes (1,024 × 256 B per call) with plain writeSync
      const fd = openSync(join(tmp('bench-ci-raw-'), 'raw'), 'w');
      const chunk = new Uint8Array(1024 * 256).fill(7);
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < total; i += 1024) writeSync(fd, chunk);
      const s = nowS(t0);
      fdatasyncSync(fd);
      closeSync(fd);
      return total / s;
    };
    const none: number[] = [];
    const raw: number[] = [];
    const sync: number[] = [];
    for (let r = 0; r < 6; r++) {
      const a = append('none', 204_800);
      const b = rawWrite(204_800);
      const c = append('fsync', 20_480);
      if (r > 0) { none.push(a); raw.push(b); sync.push(c); }
    }
    put('journal.append_none.records_per_s', 'journal', 'records/s', 'higher', false, none, 'JournalWriter.append + commit, 256-byte records, batches of 1,024, no sync');
    put('journal.append_raw_write.records_per_s', 'journal', 'records/s', 'higher', false, raw, 'writeSync of the same bytes, 256 KiB per call (the baseline)');
    put('journal.append_none_over_raw_write', 'journal', 'ratio', 'higher', true, ranked(none, raw, 'higher'), 'journal append without sync ÷ plain writeSync of the same bytes');
    put('journal.append_fsync.records_per_s', 'journal', 'records/s', 'higher', false, sync, 'the same with one fdatasync per batch of 1,024 (the disk decides)');
    // recovery vs in-process matching of the same commands
    const R = 200_000;
    const recs = generate({ seed: 7, count: R, symbols: 8, mix: 'default' });
    const dir = tmp('bench-ci-jr-');
    writeJournal(dir, recs, { symbols: 8, batch: 4096, durability: 'none' });
    const rec: number[] = [];
    const match: number[] = [];
    const sink = (): void => {};
    for (let r = 0; r < 6; r++) {
      const t0 = process.hrtime.bigint();
      const x = recoverEngine(dir, { symbols: 8, capacity: 100_000, inboxCapacity: 4096 }, undefined, () => {});
      const tr = nowS(t0);
      if (x.replayed !== R) throw new Error(`journal: recovery replayed ${x.replayed} of ${R} records`);
      const e = new Engine({ symbols: 8, capacity: 100_000, inboxCapacity: 4096 });
      const t1 = process.hrtime.bigint();
      for (let off = 0; off < R; off += 4096) e.submitRaw(recs, off * CMD_SIZE, Math.min(4096, R - off), sink);
      const tm = nowS(t1);
      if (r > 0) { rec.push(R / tr); match.push(R / tm); }
    }
    put('journal.recovery.records_per_s', 'journal', 'records/s', 'higher', false, rec, 'recoverEngine of a 200,000-record journal (read, verify, replay), to ready');
    put('journal.recovery_over_matching', 'journal', 'ratio', 'higher', true, ranked(rec, match, 'higher'), 'recovery records/s ÷ in-process matching commands/s of the same stream');
  } finally { for (const d of scratch) rmSync(d, { recursive: true, force: true }); }
}

// ── storage (embedded chDB) ─────────────────────────────────────────────────────────────
async function storageSuite(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ci-chdb-'));
  const s = await ChdbStorage.open(dir);
  try {
    await migrate(s);
    const ROWS = 20_000;
    const SYMS = ['S0', 'S1', 'S2', 'S3'].map((x) => [x, encodeString(x)] as const);
    const columns = WRITER_LAYOUTS.trades.map((c) => c.name);
    const rb = new RowBinaryBuilder(1 << 20);
    const day0 = 1_790_035_200_000_000_000n;
    let next = 1;
    const batch = (): { rows: Record<string, unknown>[]; body: Uint8Array } => {
      const rows: Record<string, unknown>[] = [];
      for (let i = 0; i < ROWS; i++, next++) {
        const [sym, symRb] = SYMS[next % 4]!;
        const id = BigInt(next);
        const ts = day0 + id * 1_000_000n;
        const price = 100_000 + (next % 97);
        const qty = 1 + (next % 50);
        rows.push({ symbol: sym, ts: ts.toString(), trade_id: next, seq: next, price, qty, taker_side: 'buy', taker_order_id: next, maker_order_id: 0, taker_account: 1, maker_account: 2 });
        rb.bytes(symRb); rb.i64(ts); rb.u64(id); rb.u64(id); rb.i64n(price); rb.u64n(qty); rb.u8(0); rb.u64(id); rb.u64(0n); rb.u32(1); rb.u32(2);
      }
      return { rows, body: rb.take() };
    };
    const json: number[] = [];
    const bin: number[] = [];
    for (let r = 0; r < 6; r++) {
      const a = batch();
      const b = batch();
      let t0 = process.hrtime.bigint();
      await s.insert('trades', a.rows);
      const tj = nowS(t0);
      t0 = process.hrtime.bigint();
      await s.insert('trades', { format: 'RowBinary', body: b.body, columns });
      const tb = nowS(t0);
      if (r > 0) { json.push(ROWS / tj); bin.push(ROWS / tb); }
    }
    const n = await s.query<{ n: string }>('SELECT toString(count()) AS n FROM trades');
    if (Number(n.rows[0]!.n) !== 12 * ROWS) throw new Error(`storage: ${n.rows[0]!.n} trades stored, ${12 * ROWS} inserted`);
    put('storage.chdb.rowbinary.rows_per_s', 'storage', 'rows/s', 'higher', false, bin, 'chDB ingest of 20,000 trades per insert as RowBinary (the writer\'s path; the five bar views fire)');
    put('storage.chdb.jsoneachrow.rows_per_s', 'storage', 'rows/s', 'higher', false, json, 'the same as row objects (JSONEachRow)');
    put('storage.chdb.rowbinary_over_jsoneachrow', 'storage', 'ratio', 'higher', true, ranked(bin, json, 'higher'), 'RowBinary rows/s ÷ JSONEachRow rows/s (k-th fastest inserts)');
  } finally { await s.close(); rmSync(dir, { recursive: true, force: true }); }
}

// ── gateway and fan-out (spawned; their interfaces only) ───────────────────────────────
function gatewaySuite(): void {
  const t: Record<'json' | 'binary', number[]> = { json: [], binary: [] };
  const p99: Record<'json' | 'binary', number[]> = { json: [], binary: [] };
  for (let r = 0; r < 5; r++) {
    const out = spawnBench('pipeline/gateway.bench.ts', ['--protocol', 'both', '--orders', '3000', '--rates', '3000', '--conns', '1', '--window', '64', '--durability', 'none', '--json'], 60_000);
    const rep = trailingJson<{ protocol: 'json' | 'binary'; ackedOrdersPerSecond: number; openLoop: { p99Us: number }[] }[]>(out);
    for (const x of rep) { t[x.protocol].push(x.ackedOrdersPerSecond); p99[x.protocol].push(x.openLoop[0]?.p99Us ?? Number.NaN); }
  }
  for (const p of ['json', 'binary'] as const) {
    put(`gateway.${p}.acked_per_s`, 'gateway', 'orders/s', 'higher', false, t[p], `orders acked over WebSocket (${p}), 1 connection × 64 in flight, server in its own process, journal without sync`);
    put(`gateway.${p}.open_loop_p99_us`, 'gateway', 'µs', 'lower', false, p99[p], `ack latency p99 at 3,000 orders/s offered (${p}), coordinated-omission corrected`);
  }
  put('gateway.binary_over_json', 'gateway', 'ratio', 'higher', true, ranked(t.binary, t.json, 'higher'), 'binary-protocol acked orders/s ÷ JSON (k-th fastest runs)');
}

function fanoutSuite(): void {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ci-fanout-'));
  try {
    // three invocations of one run per mode (binary, then json, minutes apart at most seconds), so
    // that both sides of the ratio see the same stretch of machine load
    const runs: { mode: string; eventsPerSecond: number; serverCpuCores: number }[] = [];
    for (let p = 0; p < 3; p++) {
      const out = join(dir, `fanout-${p}.json`);
      spawnBench('pipeline/fanout.bench.ts', ['--subs', '100', '--modes', 'binary,json', '--seconds', '2', '--rate', '5000', '--reps', '1', '--out', out], 120_000);
      runs.push(...(JSON.parse(readFileSync(out, 'utf8')) as { runs: typeof runs }).runs);
    }
    const per = (mode: string): number[] => runs.filter((x) => x.mode === mode).map((x) => x.eventsPerSecond / x.serverCpuCores);
    for (const mode of ['binary', 'json']) {
      put(`fanout.${mode}.events_per_server_cpu_s`, 'fanout', 'events/CPU-s', 'higher', false, per(mode), `market-data events delivered to 100 subscribers per second of server CPU (${mode}), 5,000 orders/s offered`);
      put(`fanout.${mode}.events_per_s`, 'fanout', 'events/s', 'higher', false, runs.filter((x) => x.mode === mode).map((x) => x.eventsPerSecond), `events delivered per second (${mode}; bounded by the offered load when it keeps up)`);
    }
    put('fanout.binary_over_json', 'fanout', 'ratio', 'higher', true, ranked(per('binary'), per('json'), 'higher'), 'events per server CPU-second, batched binary ÷ JSON (k-th best runs)');
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

function gitCommit(): string {
  try {
    const h = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return h + (dirty ? '-dirty' : '');
  } catch { return 'unknown'; }
}

async function main(): Promise<number> {
  const a = parseArgs(process.argv.slice(2));
  const t0 = process.hrtime.bigint();
  const date = new Date().toISOString();
  const before = loadavg();
  log(`bench:ci — suites ${a.only.join(', ')} — load average ${before.map((x) => x.toFixed(2)).join(' ')}`);
  const runners: Record<Suite, () => void | Promise<void>> = { engine: engineSuite, stats: statsSuite, replay: replaySuite, journal: journalSuite, storage: storageSuite, gateway: gatewaySuite, fanout: fanoutSuite };
  const failures: string[] = [];
  const suiteSeconds: Record<string, number> = {};
  for (const suite of a.only) {
    const ts = process.hrtime.bigint();
    log(`[${suite}] …`);
    try { await runners[suite](); } catch (e) { failures.push(`${suite}: ${(e as Error).message}`); log(`[${suite}] FAILED: ${(e as Error).message}`); }
    suiteSeconds[suite] = nowS(ts);
    log(`[${suite}] ${suiteSeconds[suite]!.toFixed(1)} s`);
  }
  const cpu = cpus()[0];
  const run: BenchRun & { failures: string[]; suiteSeconds: Record<string, number> } = {
    format: BENCH_FORMAT, runId: randomUUID(), date, commit: gitCommit(),
    machine: { host: hostname(), cpu: cpu?.model ?? 'unknown', cores: cpus().length, memoryBytes: totalmem(), platform: `${process.platform}-${process.arch}` },
    node: process.version, loadAverage: { before, after: loadavg() }, seconds: nowS(t0),
    options: { only: a.only, slowKernelSelfTest: process.env.BENCH_CI_SLOW ?? null }, metrics, failures, suiteSeconds,
  };
  // table
  const rows = [`bench:ci — ${date} — ${run.commit} — node ${process.version} — ${run.machine.cpu} × ${run.machine.cores} — load ${before[0]!.toFixed(2)} → ${run.loadAverage.after[0]!.toFixed(2)} — ${run.seconds.toFixed(0)} s`];
  rows.push(`${'metric'.padEnd(52)}${'median'.padStart(12)}${'spread'.padStart(9)}  n  unit`);
  for (const [k, m] of Object.entries(metrics)) {
    const spread = m.samples.length > 1 ? `±${((Math.max(...m.samples) - Math.min(...m.samples)) / 2 / m.median * 100).toFixed(1)}%` : '';
    rows.push(`${(k + (m.gate ? ' *' : '')).padEnd(52)}${m.median.toPrecision(4).padStart(12)}${spread.padStart(9)}  ${m.samples.length}  ${m.unit} (${m.better} is better)`);
  }
  rows.push('* gated: a same-run ratio that `tradsys bench compare` fails on (bench/README.md)');
  process.stdout.write(rows.join('\n') + '\n');
  mkdirSync(dirname(a.out), { recursive: true });
  writeFileSync(a.out, JSON.stringify(run, null, 2) + '\n');
  log(`bench:ci: ${Object.keys(metrics).length} metrics written to ${a.out}`);
  if (a.store) {
    try {
      const s = await openStorage(a.data);
      try { log(`bench:ci: ${await storeBenchRun(s, run)} rows appended to bench_runs (${process.env.CLICKHOUSE_URL ? 'CLICKHOUSE_URL' : `chDB in ${join(a.data, 'clickhouse')}`})`); } finally { await s.close(); }
    } catch (e) {
      log(`bench:ci: results not stored in bench_runs: ${(e as Error).message} (--no-store skips this)`);
    }
  }
  if (failures.length > 0) { log(`bench:ci: ${failures.length} suite(s) failed: ${failures.join('; ')}`); return 1; }
  return 0;
}

process.exitCode = await main();
