/**
 * Statistics benchmark (run by `npm run bench:wasm` after the engine benchmark; alone:
 * `npm run bench:stats`). One run measures, on the same seeded data:
 *   - streaming updates: RunningStats / RollingPairStats / PairMonitor per call, and through
 *     StatsRegistry batches (ns/update), against plain-JS implementations of the same updates;
 *   - batch kernels (corrected two-pass mean/variance, covariance, k-series correlation matrix;
 *     data resident in WASM memory): WASM SIMD, WASM scalar, plain JS, and the same kernels in C
 *     (`gcc -O3 -march=native`, built here when gcc is present) — ns/element and GB/s;
 *   - adfuller (autolag AIC) and coint at n = 2,500 against statsmodels when /usr/bin/python3 has it.
 * Every result is checked against the reference before it is reported.
 * Options: --quick · --json · --out FILE (unknown options are ignored: they belong to the engine bench).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  RunningStats, RollingPairStats, PairMonitor, StatsRegistry, adfuller, coint, meanVar,
} from '../../src/stats/index.js';
import { stats } from '../../src/stats/wasm.js';
import { prng } from '../../src/workload/generator.js';
import { refM2, refMean } from '../../test/reference/stats-ref.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const json = argv.includes('--json');
const outIdx = argv.indexOf('--out');
const outFile = outIdx >= 0 ? argv[outIdx + 1]!.replace(/(\.json)?$/, '.stats.json') : null;
const log = (s: string): void => { process.stderr.write(s + '\n'); };

function series(seed: number, n: number): Float64Array {
  const r = prng(seed);
  const out = new Float64Array(n);
  let x = 100;
  for (let i = 0; i < n; i++) { x += r() - 0.5; out[i] = x; }
  return out;
}
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
function timeNs(fn: () => void, reps: number, warmup = 1): number {
  for (let w = 0; w < warmup; w++) fn();
  const t: number[] = [];
  for (let r = 0; r < reps; r++) { const t0 = process.hrtime.bigint(); fn(); t.push(Number(process.hrtime.bigint() - t0)); }
  return median(t);
}
function check(ok: boolean, what: string): void { if (!ok) { log(`bench:stats: result check failed: ${what}`); process.exit(1); } }

// ── plain JS baselines ─────────────────────────────────────────────────────────────────────
class JsWelford { n = 0; m = 0; m2 = 0; push(x: number): void { this.n++; const d = x - this.m; this.m += d / this.n; this.m2 += d * (x - this.m); } }
class JsRollingPair {
  private readonly xs: Float64Array; private readonly ys: Float64Array; private h = 0; n = 0; sx = 0; sy = 0; sxx = 0; sxy = 0;
  constructor(private readonly w: number) { this.xs = new Float64Array(w); this.ys = new Float64Array(w); }
  push(x: number, y: number): void {
    if (this.n === this.w) { const ox = this.xs[this.h]!; const oy = this.ys[this.h]!; this.sx -= ox; this.sy -= oy; this.sxx -= ox * ox; this.sxy -= ox * oy; } else this.n++;
    this.xs[this.h] = x; this.ys[this.h] = y; this.h = (this.h + 1) % this.w;
    this.sx += x; this.sy += y; this.sxx += x * x; this.sxy += x * y;
  }
  get beta(): number { const n = this.n; return (this.sxy - this.sx * this.sy / n) / (this.sxx - this.sx * this.sx / n); }
}
function jsMeanVar(x: Float64Array): [number, number] {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  const m = s / x.length;
  let d = 0, dd = 0;
  for (let i = 0; i < x.length; i++) { const t = x[i]! - m; d += t; dd += t * t; }
  return [m + d / x.length, dd - d * d / x.length];
}

function main(): void {
  const report: Record<string, unknown> = {
    benchmark: 'bench:wasm (statistics)', date: new Date().toISOString(), node: process.version,
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length }, seed: 7,
  };
  const N = quick ? 200_000 : 1_000_000;
  const xs = series(7, N);
  const ys = series(8, N);

  // streaming, per call
  log('[stats] streaming updates…');
  const perCall = (name: string, f: () => void, n: number): [string, number] => [name, timeNs(f, quick ? 3 : 7) / n];
  const rs = new RunningStats();
  const jw = new JsWelford();
  const rp = new RollingPairStats(100);
  const jp = new JsRollingPair(100);
  const pm = new PairMonitor({ window: 100, cointEvery: 0 });
  const streaming = Object.fromEntries([
    perCall('RunningStats.push (WASM, per call)', () => { for (let i = 0; i < N; i++) rs.push(xs[i]!); }, N),
    perCall('Welford (plain JS object)', () => { for (let i = 0; i < N; i++) jw.push(xs[i]!); }, N),
    perCall('RunningStats.pushMany (WASM SIMD batch)', () => { rs.pushMany(xs); }, N),
    perCall('RollingPairStats.push (WASM, per call)', () => { for (let i = 0; i < N; i++) rp.push(xs[i]!, ys[i]!); }, N),
    perCall('rolling pair (plain JS, no recompute)', () => { for (let i = 0; i < N; i++) jp.push(xs[i]!, ys[i]!); }, N),
    perCall('PairMonitor.push (WASM, per call)', () => { for (let i = 0; i < N; i++) pm.push(xs[i]!, ys[i]!); }, N),
  ]);
  check(Math.abs(rp.beta! - jp.beta) < 1e-6 * Math.max(1, Math.abs(jp.beta)), 'rolling beta WASM vs JS');
  // registry: 100 pair blocks, batches of 4096 ticks, data already in the tick arrays
  const reg = new StatsRegistry(4096);
  const blocks = Array.from({ length: 100 }, () => new RollingPairStats(100));
  blocks.forEach((b) => reg.add(b));
  const I = reg.ids; const X = reg.xs; const Y = reg.ys;
  for (let i = 0; i < 4096; i++) { I[i] = i % 100; X[i] = xs[i]!; Y[i] = ys[i]!; }
  const batches = quick ? 50 : 250;
  streaming['StatsRegistry.apply (WASM, 4096 ticks/call, 100 rolling pairs)'] = timeNs(() => { for (let b = 0; b < batches; b++) reg.apply(4096); }, quick ? 3 : 7) / (batches * 4096);
  const runBlocks = Array.from({ length: 100 }, () => new RunningStats());
  const reg2 = new StatsRegistry(4096);
  runBlocks.forEach((b) => reg2.add(b));
  const I2 = reg2.ids; const X2 = reg2.xs;
  for (let i = 0; i < 4096; i++) { I2[i] = i % 100; X2[i] = xs[i]!; }
  streaming['StatsRegistry.apply (WASM, 4096 ticks/call, 100 running)'] = timeNs(() => { for (let b = 0; b < batches; b++) reg2.apply(4096); }, quick ? 3 : 7) / (batches * 4096);
  report.streamingNsPerUpdate = streaming;

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
  // C yardstick
  let native: Record<string, number> | null = null;
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    const dir = mkdtempSync(join(tmpdir(), 'stats-bench-'));
    const exe = join(dir, 'stats-kernels');
    const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'native', 'stats-kernels.c');
    execFileSync('gcc', ['-O3', '-march=native', '-o', exe, src, '-lm']);
    // meanVar/cov on xs, ys (K = 2 series of N); corrMatrix on the K series of NK
    const f1 = join(dir, 'xy.bin');
    const both = new Float64Array(2 * N); both.set(xs); both.set(ys, N);
    writeFileSync(f1, Buffer.from(both.buffer));
    const r1 = JSON.parse(execFileSync(exe, [f1, String(N), '2', String(reps)], { encoding: 'utf8' })) as { meanVarNs: number; covNs: number; meanVar: number[] };
    check(Math.abs(r1.meanVar[1]! - wantM2) < 1e-9 * wantM2, 'C meanVar');
    const f2 = join(dir, 'k.bin');
    writeFileSync(f2, Buffer.from(data.buffer));
    const r2 = JSON.parse(execFileSync(exe, [f2, String(NK), String(K), '5'], { encoding: 'utf8' })) as { corrMatrixNs: number };
    native = { meanVar: r1.meanVarNs, covariance: r1.covNs, correlationMatrix: r2.corrMatrixNs };
    rec('meanVar', 'c', r1.meanVarNs, N, N * 8);
    rec('covariance', 'c', r1.covNs, N, N * 16);
    rec('correlationMatrix', 'c', r2.corrMatrixNs, K * NK, K * NK * 8);
  } catch (e) {
    log(`[stats] C yardstick skipped: ${(e as Error).message.split('\n')[0]}`);
  }
  for (const k of Object.values(kernels)) if (k.cNsPerElement) k.wasmSimdOverC = k.wasmSimdNsPerElement! / k.cNsPerElement;
  report.kernels = { n: N, correlationMatrix: { k: K, n: NK }, results: kernels, native: native !== null };

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
  rows.push(`bench:wasm (statistics) — ${String(report.date)} — node ${process.version} — ${String((report.machine as { cpu: string }).cpu)}`);
  rows.push('streaming update                                                     ns/update');
  for (const [k, v] of Object.entries(streaming)) rows.push(`  ${k.padEnd(66)}${v.toFixed(2).padStart(9)}`);
  rows.push(`batch kernel (n=${N}; corrMatrix ${K}×${NK})        ns/elem: SIMD   scalar       JS        C   SIMD÷C   GB/s SIMD`);
  for (const [k, v] of Object.entries(kernels)) {
    const f = (x?: number): string => (x === undefined ? '—' : x.toFixed(3)).padStart(9);
    rows.push(`  ${k.padEnd(44)}${f(v.wasmSimdNsPerElement)}${f(v.wasmScalarNsPerElement)}${f(v.jsNsPerElement)}${f(v.cNsPerElement)}${f(v.wasmSimdOverC)}${f(v.wasmSimdGBps)}`);
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
