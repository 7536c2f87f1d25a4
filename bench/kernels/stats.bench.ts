/**
 * Statistics benchmark (run by `npm run bench:wasm` after the engine benchmark; alone:
 * `npm run bench:stats`). One run measures, on the same seeded data:
 *   - streaming updates: RunningStats / RollingStats / RollingPairStats / PairMonitor per call,
 *     through their batch path (`pushMany`, batches of 10⁶ and of 4,096) and through
 *     StatsRegistry batches (ns/value), each with its ratio to a plain-JS loop of the same update
 *     and, where one exists, to C (`pushMany` and Welford) — the batch results are checked
 *     against the per-value path (1e-12 relative) before they are reported;
 *   - batch kernels (corrected two-pass mean/variance, covariance, k-series correlation matrix;
 *     data resident in WASM memory): WASM SIMD, WASM scalar, plain JS, and the same kernels in C
 *     (bench/native/stats-kernels.c: `gcc -O3 -march=native -ffp-contract=off`, built here when
 *     gcc is present, in three builds — plain, order, wide; the assembly of each is inspected for
 *     packed instructions and the count reported) — ns/element, GB/s and the ratios;
 *   - adfuller (autolag AIC) and coint at n = 2,500 against statsmodels when /usr/bin/python3 has it.
 * Every result is checked against the reference before it is reported.
 * Options: --quick · --json · --out FILE (unknown options are ignored: they belong to the engine bench).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  RunningStats, RollingStats, RollingPairStats, PairMonitor, StatsRegistry, adfuller, coint, meanVar,
} from '../../src/stats/index.js';
import { stats } from '../../src/stats/wasm.js';
import { JsRollingPair, JsWelford, jsMeanVar, series } from '../baselines/stats-js.js';
import { refM2, refMean } from '../../test/reference/stats-ref.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const json = argv.includes('--json');
const outIdx = argv.indexOf('--out');
const outFile = outIdx >= 0 ? argv[outIdx + 1]!.replace(/(\.json)?$/, '.stats.json') : null;
const log = (s: string): void => { process.stderr.write(s + '\n'); };

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
/** CPU time (user + system, ns) median of the last timeNs call: on a shared machine the wall
 * clock also counts the time other processes hold the cores; CPU time counts only ours. */
let lastCpuNs = 0;
/** Median wall-clock ns of `reps` calls after `warmup` (and their CPU-time median in lastCpuNs). */
function timeNs(fn: () => void, reps: number, warmup = 1): number {
  for (let w = 0; w < warmup; w++) fn();
  const t: number[] = [];
  const c: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - t0));
    const cu = process.cpuUsage(c0);
    c.push((cu.user + cu.system) * 1000);
  }
  lastCpuNs = median(c);
  return median(t);
}
function check(ok: boolean, what: string): void { if (!ok) { log(`bench:stats: result check failed: ${what}`); process.exit(1); } }

// ── plain JS baselines ─────────────────────────────────────────────────────────────────────
class JsRolling {
  private readonly xs: Float64Array; private h = 0; n = 0; s1 = 0; s2 = 0;
  constructor(private readonly w: number) { this.xs = new Float64Array(w); }
  push(x: number): void {
    if (this.n === this.w) { const o = this.xs[this.h]!; this.s1 -= o; this.s2 -= o * o; } else this.n++;
    this.xs[this.h] = x; this.h = (this.h + 1) % this.w; this.s1 += x; this.s2 += x * x;
  }
}

function main(): void {
  const report: Record<string, unknown> = {
    benchmark: 'bench:wasm (statistics)', date: new Date().toISOString(), node: process.version,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadavgAtStart: loadavg()[0] }, seed: 7,
  };
  const N = quick ? 200_000 : 1_000_000;
  const xs = series(7, N);
  const ys = series(8, N);

  // streaming: per call, batch path, registry — ns/value; ratios to the plain-JS loop (and C below)
  log('[stats] streaming updates…');
  const sreps = quick ? 3 : 7;
  type Row = { nsPerValue: number; cpuNsPerValue: number; js?: number; jsCpu?: number; c?: number };
  /** A row: wall and CPU-time ns/value of f over n values, with the JS baseline row to compare with. */
  const perValue = (f: () => void, n: number, base?: Row): Row => {
    const nsPerValue = timeNs(f, sreps) / n;
    return { nsPerValue, cpuNsPerValue: lastCpuNs / n, ...(base ? { js: base.nsPerValue, jsCpu: base.cpuNsPerValue } : {}) };
  };
  const inBatches = (n: number, size: number, f: (lo: number, hi: number) => void): () => void => () => { for (let o = 0; o < n; o += size) f(o, Math.min(n, o + size)); };
  const rs = new RunningStats(); const rsMany = new RunningStats(); const rs4k = new RunningStats();
  const jw = new JsWelford();
  const rl = new RollingStats(100); const rlMany = new RollingStats(100); const rl4k = new RollingStats(100); const jl = new JsRolling(100);
  const rp = new RollingPairStats(100); const rpMany = new RollingPairStats(100); const rp4k = new RollingPairStats(100); const jp = new JsRollingPair(100);
  const pm = new PairMonitor({ window: 100, cointEvery: 0 }); const pmMany = new PairMonitor({ window: 100, cointEvery: 0 }); const pm4k = new PairMonitor({ window: 100, cointEvery: 0 });
  const js = {
    running: perValue(() => { for (let i = 0; i < N; i++) jw.push(xs[i]!); }, N),
    rolling: perValue(() => { for (let i = 0; i < N; i++) jl.push(xs[i]!); }, N),
    pair: perValue(() => { for (let i = 0; i < N; i++) jp.push(xs[i]!, ys[i]!); }, N),
  };
  const streaming: Record<string, Row> = {
    'Welford (plain JS object, per value)': js.running,
    'rolling window (plain JS, no recompute, per value)': js.rolling,
    'rolling pair (plain JS, no recompute, per value)': js.pair,
    'RunningStats.push (per call)': perValue(() => { for (let i = 0; i < N; i++) rs.push(xs[i]!); }, N, js.running),
    [`RunningStats.pushMany (one batch of ${N})`]: perValue(() => rsMany.pushMany(xs), N, js.running),
    'RunningStats.pushMany (batches of 4096)': perValue(inBatches(N, 4096, (lo, hi) => rs4k.pushMany(xs.subarray(lo, hi))), N, js.running),
    'RollingStats.push (w=100, per call)': perValue(() => { for (let i = 0; i < N; i++) rl.push(xs[i]!); }, N, js.rolling),
    [`RollingStats.pushMany (w=100, one batch of ${N})`]: perValue(() => rlMany.pushMany(xs), N, js.rolling),
    'RollingStats.pushMany (w=100, batches of 4096)': perValue(inBatches(N, 4096, (lo, hi) => rl4k.pushMany(xs.subarray(lo, hi))), N, js.rolling),
    'RollingPairStats.push (w=100, per call)': perValue(() => { for (let i = 0; i < N; i++) rp.push(xs[i]!, ys[i]!); }, N, js.pair),
    [`RollingPairStats.pushMany (w=100, one batch of ${N})`]: perValue(() => rpMany.pushMany(xs, ys), N, js.pair),
    'RollingPairStats.pushMany (w=100, batches of 4096)': perValue(inBatches(N, 4096, (lo, hi) => rp4k.pushMany(xs.subarray(lo, hi), ys.subarray(lo, hi))), N, js.pair),
    'PairMonitor.push (w=100, per call)': perValue(() => { for (let i = 0; i < N; i++) pm.push(xs[i]!, ys[i]!); }, N),
    [`PairMonitor.pushMany (w=100, one batch of ${N})`]: perValue(() => pmMany.pushMany(xs, ys), N),
    'PairMonitor.pushMany (w=100, batches of 4096)': perValue(inBatches(N, 4096, (lo, hi) => pm4k.pushMany(xs.subarray(lo, hi), ys.subarray(lo, hi))), N),
  };
  check(Math.abs(rp.beta! - jp.beta) < 1e-6 * Math.max(1, Math.abs(jp.beta)), 'rolling beta WASM vs JS');
  // the batch paths give the per-value path's numbers: fresh objects, one batch of N vs N pushes
  {
    const a = new RunningStats(); a.pushMany(xs);
    const b = new RunningStats(); for (let i = 0; i < N; i++) b.push(xs[i]!);
    check(a.count === b.count && Math.abs(a.variance()! - b.variance()!) <= 1e-12 * b.variance()! && Math.abs(a.mean - b.mean) <= 1e-12 * Math.abs(b.mean), 'RunningStats.pushMany vs push (1e-12 relative)');
    const r1 = new RollingStats(100); r1.pushMany(xs.subarray(0, 4321)); const r2 = new RollingStats(100); for (let i = 0; i < 4321; i++) r2.push(xs[i]!);
    check(Math.abs(r1.variance()! - r2.variance()!) <= 1e-12 * r2.variance()!, 'RollingStats.pushMany vs push');
    const p1 = new PairMonitor({ window: 100, cointEvery: 0 }); p1.pushMany(xs.subarray(0, 4321), ys.subarray(0, 4321));
    const p2 = new PairMonitor({ window: 100, cointEvery: 0 }); for (let i = 0; i < 4321; i++) p2.push(xs[i]!, ys[i]!);
    check(Math.abs(p1.hedgeRatio! - p2.hedgeRatio!) <= 1e-9 * Math.abs(p2.hedgeRatio!) && Math.abs(p1.zscore! - p2.zscore!) <= 1e-8 * Math.max(1, Math.abs(p2.zscore!)), 'PairMonitor.pushMany vs push');
  }
  // registry: 100 pair blocks, batches of 4096 ticks, data already in the tick arrays
  const reg = new StatsRegistry(4096);
  const blocks = Array.from({ length: 100 }, () => new RollingPairStats(100));
  blocks.forEach((b) => reg.add(b));
  const I = reg.ids; const X = reg.xs; const Y = reg.ys;
  for (let i = 0; i < 4096; i++) { I[i] = i % 100; X[i] = xs[i]!; Y[i] = ys[i]!; }
  const batches = quick ? 50 : 250;
  streaming['StatsRegistry.apply (4096 ticks/call, 100 rolling pairs)'] = perValue(() => { for (let b = 0; b < batches; b++) reg.apply(4096); }, batches * 4096, js.pair);
  const runBlocks = Array.from({ length: 100 }, () => new RunningStats());
  const reg2 = new StatsRegistry(4096);
  runBlocks.forEach((b) => reg2.add(b));
  const I2 = reg2.ids; const X2 = reg2.xs;
  for (let i = 0; i < 4096; i++) { I2[i] = i % 100; X2[i] = xs[i]!; }
  streaming['StatsRegistry.apply (4096 ticks/call, 100 running)'] = perValue(() => { for (let b = 0; b < batches; b++) reg2.apply(4096); }, batches * 4096, js.running);
  report.streaming = streaming;
  // the flat form earlier runs wrote (wall ns per value by row), for readers of older results
  report.streamingNsPerUpdate = Object.fromEntries(Object.entries(streaming).map(([k, v]) => [k, v.nsPerValue]));

  // batch kernels on resident data
  log('[stats] batch kernels…');
  const s = stats();
  const K = 8;
  const NK = quick ? 50_000 : 200_000;
  const data = new Float64Array(K * NK);
  for (let j = 0; j < K; j++) data.set(series(100 + j, NK), j * NK);
  const p = s.alloc(N * 8 * 2 + 64);
  const pk = s.alloc(K * NK * 8);
  const pw = s.alloc(K * NK * 8);
  const po = s.alloc(K * K * 8 + 64);
  s.f64().set(xs, p >>> 3);
  s.f64().set(ys, (p >>> 3) + N);
  s.f64().set(data, pk >>> 3);
  const reps = quick ? 5 : 21;
  const wantM2 = refM2(xs);
  const kernels: Record<string, Record<string, number>> = {};
  const rec = (name: string, impl: string, ns: number, elements: number, bytes: number): void => {
    (kernels[name] ??= {})[`${impl}NsPerElement`] = ns / elements;
    kernels[name]![`${impl}GBps`] = bytes / ns;
  };
  for (const [impl, mv, cov, corr] of [['wasmSimd', s.ex.statsMeanVar, s.ex.statsCov, s.ex.statsCorrMatrix], ['wasmScalar', s.ex.statsMeanVarScalar, s.ex.statsCovScalar, s.ex.statsCorrMatrixScalar]] as const) {
    rec('meanVar', impl, timeNs(() => mv(p, N, po), reps), N, N * 8);
    check(Math.abs(s.f64()[(po >>> 3) + 1]! - wantM2) < 1e-9 * wantM2, `${impl} meanVar`);
    rec('covariance', impl, timeNs(() => cov(p, p + N * 8, N, po), reps), N, N * 16);
    rec('correlationMatrix', impl, timeNs(() => corr(pk, NK, K, po, pw), quick ? 3 : 5), K * NK, K * NK * 8);
  }
  let jsOut: [number, number] = [0, 0];
  rec('meanVar', 'js', timeNs(() => { jsOut = jsMeanVar(xs); }, reps), N, N * 8);
  check(Math.abs(jsOut[1] - wantM2) < 1e-9 * wantM2, 'js meanVar');
  check(Math.abs(meanVar(xs).mean - refMean(xs)) < 1e-9, 'meanVar wrapper');
  // C yardstick: three builds of the same kernels (see bench/native/stats-kernels.c)
  type CBuild = { meanVarNs: number; covNs: number; corrMatrixNs: number; pushManyNs: number; meanVar: number[]; pushManyM2: number };
  let native: Record<string, unknown> | null = null;
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    const dir = mkdtempSync(join(tmpdir(), 'stats-bench-'));
    const exe = join(dir, 'stats-kernels');
    const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'stats-kernels.c');
    const flags = ['-O3', '-march=native', '-ffp-contract=off'];
    execFileSync('gcc', [...flags, '-o', exe, src, '-lm']);
    // vectorisation check: packed vs scalar double arithmetic in each kernel's assembly
    const asm = join(dir, 'stats-kernels.s');
    execFileSync('gcc', [...flags, '-S', '-o', asm, src]);
    const text = readFileSync(asm, 'utf8');
    const vec: Record<string, Record<string, number>> = {};
    for (const fn of ['dev_plain', 'dev_order', 'dev_wide', 'cross_plain', 'cross_order', 'cross_wide', 'welford']) {
      const m = new RegExp(`^${fn}:\\n([\\s\\S]*?)\\.size\\t${fn},`, 'm').exec(text);
      const body = m?.[1] ?? '';
      const count = (re: RegExp): number => (body.match(re) ?? []).length;
      vec[fn] = {
        packedZmm: count(/\tv(add|sub|mul|div)pd\t[^\n]*%zmm/g), packedYmm: count(/\tv(add|sub|mul|div)pd\t[^\n]*%ymm/g),
        packedXmm: count(/\tv?(add|sub|mul|div)pd\t[^\n]*%xmm/g), scalar: count(/\tv?(add|sub|mul|div)sd\t/g),
      };
    }
    // meanVar/cov/pushMany on xs, ys (K = 2 series of N); corrMatrix on the K series of NK
    const f1 = join(dir, 'xy.bin');
    const both = new Float64Array(2 * N); both.set(xs); both.set(ys, N);
    writeFileSync(f1, Buffer.from(both.buffer));
    const r1 = JSON.parse(execFileSync(exe, [f1, String(N), '2', String(reps)], { encoding: 'utf8' })) as Record<'plain' | 'order' | 'wide', CBuild> & { welfordNs: number; welfordM2: number };
    for (const b of ['plain', 'order', 'wide'] as const) check(Math.abs(r1[b].meanVar[1]! - wantM2) < 1e-9 * wantM2 && Math.abs(r1[b].pushManyM2 - wantM2) < 1e-9 * wantM2, `C ${b} meanVar / pushMany`);
    const f2 = join(dir, 'k.bin');
    writeFileSync(f2, Buffer.from(data.buffer));
    const r2 = JSON.parse(execFileSync(exe, [f2, String(NK), String(K), '5'], { encoding: 'utf8' })) as Record<'plain' | 'order' | 'wide', CBuild>;
    for (const b of ['plain', 'order', 'wide'] as const) {
      rec('meanVar', `c${b[0]!.toUpperCase()}${b.slice(1)}`, r1[b].meanVarNs, N, N * 8);
      rec('covariance', `c${b[0]!.toUpperCase()}${b.slice(1)}`, r1[b].covNs, N, N * 16);
      rec('correlationMatrix', `c${b[0]!.toUpperCase()}${b.slice(1)}`, r2[b].corrMatrixNs, K * NK, K * NK * 8);
    }
    // the order build computes the WASM SIMD kernel's partial sums in the same order: same bits
    s.ex.statsMeanVar(p, N, po);
    const orderBitIdentical = r1.order.meanVar[1] === s.f64()[(po >>> 3) + 1] && r1.order.meanVar[0] === s.f64()[po >>> 3];
    native = {
      compiler: execFileSync('gcc', ['--version'], { encoding: 'utf8' }).split('\n')[0], flags: flags.join(' '), vectorisation: vec, orderBitIdentical,
      runningPushManyNsPerValue: { plain: r1.plain.pushManyNs / N, order: r1.order.pushManyNs / N, wide: r1.wide.pushManyNs / N }, welfordNsPerValue: r1.welfordNs / N,
    };
    const rm = streaming[`RunningStats.pushMany (one batch of ${N})`]!;
    Object.assign(rm, { c: r1.wide.pushManyNs / N });
    for (const k of ['RunningStats.push (per call)', 'Welford (plain JS object, per value)']) Object.assign(streaming[k]!, { c: r1.welfordNs / N });
  } catch (e) {
    log(`[stats] C yardstick skipped: ${(e as Error).message.split('\n')[0]}`);
  }
  for (const k of Object.values(kernels)) {
    if (k.cWideNsPerElement) {
      k.wasmSimdOverCWide = k.wasmSimdNsPerElement! / k.cWideNsPerElement;
      k.wasmSimdOverCOrder = k.wasmSimdNsPerElement! / k.cOrderNsPerElement!;
      // the single C column of earlier runs is now the wide build (the fair yardstick)
      k.cNsPerElement = k.cWideNsPerElement;
      k.wasmSimdOverC = k.wasmSimdOverCWide;
    }
    if (k.jsNsPerElement) k.jsOverWasmSimd = k.jsNsPerElement / k.wasmSimdNsPerElement!;
  }
  report.kernels = { n: N, correlationMatrix: { k: K, n: NK }, results: kernels, native };

  // ADF / coint at n = 2,500
  log('[stats] adfuller / coint at n = 2,500…');
  const a = series(21, 2500);
  const b = Float64Array.from(a, (v, i) => 1.5 * v + Math.sin(i) * 0.3 + 2);
  // 100 warm-up calls let V8 optimise the TypeScript driver before timing (Python gets 1)
  const adfMs = timeNs(() => adfuller(a, { autolag: 'AIC' }), quick ? 5 : 21, 100) / 1e6;
  const coMs = timeNs(() => coint(b, a), quick ? 5 : 21, 100) / 1e6;
  const mine = { adf: adfuller(a, { autolag: 'AIC' }), coint: coint(b, a) };
  const tests: Record<string, unknown> = { adfullerMs: adfMs, cointMs: coMs };
  const py = '/usr/bin/python3';
  if (existsSync(py)) {
    const script = `
import json, sys, time, warnings, numpy as np
warnings.simplefilter('ignore')
from statsmodels.tsa.stattools import adfuller, coint
d = json.load(sys.stdin); a = np.array(d['a']); b = np.array(d['b'])
def t(f, reps):
    f(); ts = []
    for _ in range(reps):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return sorted(ts)[len(ts)//2] * 1000
r = adfuller(a, autolag='AIC'); c = coint(b, a)
print(json.dumps({'adfMs': t(lambda: adfuller(a, autolag='AIC'), ${quick ? 3 : 7}), 'cointMs': t(lambda: coint(b, a), ${quick ? 3 : 7}), 'adf': [r[0], r[1], r[2]], 'coint': [c[0], c[1]]}))
`;
    const r = spawnSync(py, ['-c', script], { input: JSON.stringify({ a: Array.from(a), b: Array.from(b) }), encoding: 'utf8' });
    if (r.status === 0) {
      const sm = JSON.parse(r.stdout) as { adfMs: number; cointMs: number; adf: number[]; coint: number[] };
      check(Math.abs(sm.adf[0]! - mine.adf.stat) < 1e-6 && sm.adf[2] === mine.adf.usedlag, 'adfuller vs statsmodels');
      check(Math.abs(sm.coint[0]! - mine.coint.stat) < 1e-6 && Math.abs(sm.coint[1]! - mine.coint.pvalue) < 1e-6, 'coint vs statsmodels');
      Object.assign(tests, { statsmodelsAdfMs: sm.adfMs, statsmodelsCointMs: sm.cointMs, adfSpeedup: sm.adfMs / adfMs, cointSpeedup: sm.cointMs / coMs, equalNumbers: true });
    } else log(`[stats] statsmodels comparison skipped: ${r.stderr.split('\n').filter(Boolean).pop() ?? 'python failed'}`);
  } else log('[stats] statsmodels comparison skipped: /usr/bin/python3 not found');
  report.tests = tests;

  // table
  const rows: string[] = [];
  rows.push(`bench:wasm (statistics) — ${String(report.date)} — node ${process.version} — ${String((report.machine as { cpu: string }).cpu)} × ${cpus().length} — load average ${loadavg()[0]!.toFixed(1)} (start ${(report.machine as { loadavgAtStart: number }).loadavgAtStart.toFixed(1)})`);
  rows.push('streaming update (ns/value, wall | CPU time; ×JS = plain-JS loop ÷ this; ÷C = this ÷ C)   wall ns      ×JS   CPU ns      ×JS       ÷C');
  const r2 = (x?: number): string => (x === undefined || !Number.isFinite(x) ? '—' : x.toFixed(2)).padStart(9);
  for (const [k, v] of Object.entries(streaming)) {
    rows.push(`  ${k.padEnd(76)}${v.nsPerValue.toFixed(3).padStart(9)}${r2(v.js && v.js / v.nsPerValue)}${(v.cpuNsPerValue ?? NaN).toFixed(3).padStart(9)}${r2(v.jsCpu && v.jsCpu / v.cpuNsPerValue!)}${r2(v.c && v.cpuNsPerValue! / v.c)}`);
  }
  const many = streaming[`RunningStats.pushMany (one batch of ${N})`]!;
  const verdict = (ns: number, jsNs: number): string => `≤ 1 ns/value ${ns <= 1 ? 'met' : 'NOT met'} (${ns.toFixed(3)}), ≥ 5× the JS loop ${jsNs / ns >= 5 ? 'met' : 'NOT met'} (${(jsNs / ns).toFixed(1)}×)`;
  rows.push(`  RunningStats.pushMany targets — wall: ${verdict(many.nsPerValue, js.running.nsPerValue)}; CPU time: ${verdict(many.cpuNsPerValue!, many.jsCpu!)}`);
  rows.push(`batch kernel (n=${N}; corrMatrix ${K}×${NK})   ns/elem:  SIMD   scalar       JS  C plain  C order   C wide  ×JS  SIMD÷Cwide SIMD÷Corder`);
  for (const [k, v] of Object.entries(kernels)) {
    const f = (x?: number, d = 3): string => (x === undefined ? '—' : x.toFixed(d)).padStart(9);
    rows.push(`  ${k.padEnd(40)}${f(v.wasmSimdNsPerElement)}${f(v.wasmScalarNsPerElement)}${f(v.jsNsPerElement)}${f(v.cPlainNsPerElement)}${f(v.cOrderNsPerElement)}${f(v.cWideNsPerElement)}${f(v.jsOverWasmSimd, 1)}${f(v.wasmSimdOverCWide, 2)}${f(v.wasmSimdOverCOrder, 2)}`);
  }
  if (native) {
    const vec = native.vectorisation as Record<string, Record<string, number>>;
    rows.push(`C: ${String(native.compiler)}, ${String(native.flags)}; order build bit-identical to WASM SIMD: ${String(native.orderBitIdentical)}; packed/scalar double ops in each kernel's assembly:`);
    rows.push('  ' + Object.entries(vec).map(([fn, c]) => `${fn} zmm ${c.packedZmm} ymm ${c.packedYmm} xmm ${c.packedXmm} / scalar ${c.scalar}`).join(' · '));
  }
  const t = tests as { adfullerMs: number; cointMs: number; statsmodelsAdfMs?: number; statsmodelsCointMs?: number; adfSpeedup?: number; cointSpeedup?: number };
  rows.push(`adfuller(n=2500, AIC): ${t.adfullerMs.toFixed(3)} ms` + (t.statsmodelsAdfMs ? ` vs statsmodels ${t.statsmodelsAdfMs.toFixed(2)} ms (${t.adfSpeedup!.toFixed(1)}×)` : ''));
  rows.push(`coint(n=2500, aic):    ${t.cointMs.toFixed(3)} ms` + (t.statsmodelsCointMs ? ` vs statsmodels ${t.statsmodelsCointMs.toFixed(2)} ms (${t.cointSpeedup!.toFixed(1)}×)` : ''));
  process.stdout.write(rows.join('\n') + '\n');
  const text = JSON.stringify(report, null, 2);
  if (outFile) writeFileSync(outFile, text + '\n');
  if (json) process.stdout.write(text + '\n');
}

main();
