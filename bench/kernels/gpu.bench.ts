/**
 * GPU statistics benchmark (`npm run bench:gpu`): the universe's top pairs by |ρ| (all-pairs
 * Pearson correlation of k series × n observations, k = 500, 2,000, 10,000; n = 2,500) and the
 * batched Engle–Granger screen, on every backend this machine has — the CUDA kernels (when a
 * device is present), WASM SIMD (the fallback), its scalar twin, and the addon's C++ baseline —
 * in the same run, on the same seeded universe.
 * Before timing, each backend's top pairs are checked against the WASM SIMD result (FP64: 1e-9
 * relative); a mismatch fails the run (exit 1).
 * Figures: per backend and k, the median (p50), min and max wall time of the reps (the 10k case
 * runs once on the CPU backends unless --reps says otherwise) and the median CPU time (user +
 * system of this process: on a shared machine the wall clock also counts other processes; the CPU
 * ratios are the fair C-vs-WASM comparison), pairs/s and GFLOP/s (k(k−1)/2 · n multiply-adds), process RSS and the WASM memory after the run; for EG the tests/s per backend
 * and, for the per-pair WASM path, p50/p99/p99.9 of the per-test latency. Load average before
 * and after every row (a shared machine: compare ratios within one run, not across runs).
 * Options: --quick (k = 200, 500; n = 1,000; 3 reps; EG 40 pairs) · --k 500,2000 · --n 2500 ·
 * --reps 3 · --fp32 (FP32 rows too) · --no-scalar · --eg N (EG pairs, default 400) ·
 * --cpu-max-k K (CPU backends skip larger k; those GPU rows go unchecked) ·
 * --out FILE (default build/bench/gpu.json) · --json (print the JSON).
 * Workload: seed 7; k series = 4 common N(0,1) factors with loadings sin(1.3j), cos(0.7j), (j mod 5)/5,
 * (7j mod 11)/11 plus N(0, 0.7²) noise, level 50; EG pairs: cointegrated (x a random walk, y = 200 +
 * 1.5x + AR(1) spread φ 0.5…0.86) and independent walks, n = 2,500.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { correlationTopPairs, engleGrangerScreen, type CorrelatedPair, type CorrMode } from '../../src/stats/universe.js';
import { gpuStatus, nativeBaselineAvailable } from '../../src/sys/gpu.js';
import { stats } from '../../src/stats/wasm.js';
import { prng } from '../../src/workload/prng.js';

type Backend = 'gpu' | 'wasm' | 'wasm-scalar' | 'c';
interface CorrRow {
  kind: 'corr'; backend: Backend; mode: CorrMode; k: number; n: number; reps: number; topN: number;
  p50Ms: number; minMs: number; maxMs: number; cpuP50Ms: number; pairsPerSec: number; gflops: number; cpuGflops: number;
  ratioToWasm: number | null; cpuRatioToWasm: number | null;
  maxRelDiffVsWasm: number | null; rssMiB: number; wasmMemMiB: number; loadavgBefore: number[]; loadavgAfter: number[];
}
interface EgRow {
  kind: 'eg'; backend: Backend; n: number; pairs: number; ms: number; testsPerSec: number;
  p50Us: number | null; p99Us: number | null; p999Us: number | null; loadavg: number[];
}

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../..');
const argv = process.argv.slice(2);
const flag = (f: string): boolean => argv.includes(f);
const opt = (f: string): string | undefined => { const i = argv.indexOf(f); return i >= 0 ? argv[i + 1] : undefined; };
const quick = flag('--quick');
const ks = (opt('--k') ?? (quick ? '200,500' : '500,2000,10000')).split(',').map(Number);
const n = Number(opt('--n') ?? (quick ? 1000 : 2500));
const repsOpt = opt('--reps');
const egPairs = Number(opt('--eg') ?? (quick ? 40 : 400));
const out = opt('--out') ?? join(ROOT, 'build', 'bench', 'gpu.json');
// CPU backends skip k above this (a GPU box's quick check); those GPU rows are then unchecked
const cpuMaxK = Number(opt('--cpu-max-k') ?? Number.POSITIVE_INFINITY);
const TOPN = 100;

function normals(seed: number): () => number {
  const u = prng(seed);
  return () => { let a = u(); while (a <= 0) a = u(); return Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * u()); };
}
function universe(seed: number, k: number, len: number): Float64Array[] {
  const z = normals(seed);
  const f = [0, 1, 2, 3].map(() => Float64Array.from({ length: len }, () => z()));
  return Array.from({ length: k }, (_, j) => {
    const w = [Math.sin(j * 1.3), Math.cos(j * 0.7), (j % 5) / 5, ((j * 7) % 11) / 11];
    return Float64Array.from({ length: len }, (_, t) => 50 + w[0]! * f[0]![t]! + w[1]! * f[1]![t]! + w[2]! * f[2]![t]! + w[3]! * f[3]![t]! + 0.7 * z());
  });
}
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))]!; };
const la = (): number[] => loadavg().map((v) => Math.round(v * 100) / 100);

function maxRel(got: CorrelatedPair[], want: CorrelatedPair[]): number {
  if (got.length !== want.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  got.forEach((p, q) => { worst = Math.max(worst, Math.abs(Math.abs(p.rho) - Math.abs(want[q]!.rho)) / Math.abs(want[q]!.rho)); });
  return worst;
}

function main(): void {
  const st = gpuStatus();
  const backends: Backend[] = [];
  if (st.available) backends.push('gpu');
  backends.push('wasm');
  if (!flag('--no-scalar')) backends.push('wasm-scalar');
  if (nativeBaselineAvailable()) backends.push('c');
  const modes: CorrMode[] = flag('--fp32') ? ['fp64', 'fp32'] : ['fp64'];
  const rows: (CorrRow | EgRow)[] = [];
  let failed = false;
  const log = (s: string): void => { process.stderr.write(s + '\n'); };
  log(`bench:gpu — GPU: ${st.available ? `${st.devices[0]!.name} (cc ${st.devices[0]!.computeCapability})` : `not used (${st.reason})`}; backends ${backends.join(', ')}; n = ${n}; load ${la().join(' ')}`);

  for (const k of ks) {
    const u = universe(7, k, n);
    for (const mode of modes) {
      let ref: CorrelatedPair[] | null = null;
      let wasmMs: number | null = null;
      let wasmCpuMs: number | null = null;
      for (const b of ['wasm', ...backends.filter((x) => x !== 'wasm')] as Backend[]) {
        if (!backends.includes(b)) continue;
        if (b !== 'gpu' && k > cpuMaxK) continue;
        const big = k * k * n > 5e10;
        if (b === 'wasm-scalar' && big) continue; // the scalar twin at 10k would take minutes: it is checked at the smaller k
        const reps = repsOpt ? Number(repsOpt) : b === 'gpu' ? 5 : big ? 1 : 3;
        const before = la();
        const backend = b === 'wasm-scalar' ? 'wasm' : b;
        if (b === 'gpu') correlationTopPairs(u.slice(0, Math.min(k, 64)), { topN: 10, backend, mode }); // context + module load
        const times: number[] = [];
        const cpu: number[] = [];
        let pairs: CorrelatedPair[] = [];
        for (let r = 0; r < reps; r++) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          pairs = correlationTopPairs(u, { topN: TOPN, backend, mode, scalar: b === 'wasm-scalar' }).pairs;
          times.push(performance.now() - t0);
          const c1 = process.cpuUsage(c0);
          cpu.push((c1.user + c1.system) / 1000);
        }
        const p50 = median(times);
        const cpuP50 = median(cpu);
        if (b === 'wasm') { ref = pairs; wasmMs = p50; wasmCpuMs = cpuP50; }
        const rel = b === 'wasm' || ref === null ? 0 : maxRel(pairs, ref);
        const tol = mode === 'fp64' ? 1e-9 : 1e-5;
        if (!(rel <= tol)) { failed = true; log(`MISMATCH: ${b} ${mode} k=${k}: max relative |ρ| difference ${rel} > ${tol}`); }
        const npairs = (k * (k - 1)) / 2;
        const row: CorrRow = {
          kind: 'corr', backend: b, mode, k, n, reps, topN: TOPN, p50Ms: p50, minMs: Math.min(...times), maxMs: Math.max(...times), cpuP50Ms: cpuP50,
          pairsPerSec: npairs / (p50 / 1000), gflops: (2 * npairs * n) / (p50 / 1000) / 1e9, cpuGflops: (2 * npairs * n) / (cpuP50 / 1000) / 1e9,
          ratioToWasm: wasmMs ? p50 / wasmMs : null, cpuRatioToWasm: wasmCpuMs && b !== 'gpu' ? cpuP50 / wasmCpuMs : null, maxRelDiffVsWasm: b === 'wasm' || ref === null ? null : rel,
          rssMiB: process.memoryUsage().rss / 2 ** 20, wasmMemMiB: stats().ex.memory.buffer.byteLength / 2 ** 20, loadavgBefore: before, loadavgAfter: la(),
        };
        rows.push(row);
        log(`corr ${mode} k=${k} ${b.padEnd(11)} p50 ${p50.toFixed(1).padStart(10)} ms (cpu ${cpuP50.toFixed(1).padStart(10)} ms)  ${row.cpuGflops.toFixed(2).padStart(7)} GFLOP/s-cpu  ×wasm ${row.ratioToWasm?.toFixed(3) ?? '-'} (cpu ${row.cpuRatioToWasm?.toFixed(3) ?? '-'})  Δ ${rel.toExponential(1)}  load ${row.loadavgAfter[0]}`);
      }
    }
  }

  // Engle–Granger
  const z = normals(11);
  const series: Float64Array[] = [];
  const nEg = quick ? 1000 : 2500;
  for (let q = 0; q < 10; q++) {
    const x = new Float64Array(nEg); const y = new Float64Array(nEg);
    let xv = 1000; let yv = 500; let s = 0;
    const phi = 0.5 + 0.04 * q;
    // two of three pairs cointegrated (y = 200 + 1.5x + AR(1)); the third an independent walk
    for (let t = 0; t < nEg; t++) { xv += z(); yv += z(); s = phi * s + z(); x[t] = xv; y[t] = q % 3 === 2 ? yv : 200 + 1.5 * xv + s; }
    series.push(y, x);
  }
  const pairs: [number, number][] = [];
  for (let q = 0; pairs.length < egPairs; q++) { const i = q % series.length; const j = (q * 7 + 3) % series.length; if (i !== j) pairs.push([i, j]); }
  for (const b of backends) {
    if (b === 'wasm-scalar') continue;
    if (b === 'wasm') {
      const lat: number[] = [];
      const t0 = performance.now();
      for (const p of pairs) { const a = performance.now(); engleGrangerScreen(series, [p], { backend: 'wasm' }); lat.push((performance.now() - a) * 1000); }
      const ms = performance.now() - t0;
      rows.push({ kind: 'eg', backend: b, n: nEg, pairs: pairs.length, ms, testsPerSec: pairs.length / (ms / 1000), p50Us: pct(lat, 0.5), p99Us: pct(lat, 0.99), p999Us: pct(lat, 0.999), loadavg: la() });
    } else {
      const big = b === 'gpu' ? [...Array(Math.ceil(5000 / pairs.length))].flatMap(() => pairs) : pairs;
      engleGrangerScreen(series, big.slice(0, 8), { backend: b });
      const t0 = performance.now();
      engleGrangerScreen(series, big, { backend: b });
      const ms = performance.now() - t0;
      rows.push({ kind: 'eg', backend: b, n: nEg, pairs: big.length, ms, testsPerSec: big.length / (ms / 1000), p50Us: null, p99Us: null, p999Us: null, loadavg: la() });
    }
    const r = rows[rows.length - 1] as EgRow;
    log(`eg n=${nEg} ${b.padEnd(5)} ${r.testsPerSec.toFixed(0).padStart(8)} tests/s${r.p50Us !== null ? `  p50 ${r.p50Us.toFixed(0)} µs p99 ${r.p99Us!.toFixed(0)} µs p99.9 ${r.p999Us!.toFixed(0)} µs` : ''}`);
  }

  const result = {
    benchmark: 'bench:gpu', date: new Date().toISOString(), node: process.version,
    machine: { cpu: cpus()[0]?.model ?? '?', cores: cpus().length, loadavg: la() },
    gpu: { available: st.available, reason: st.reason, devices: st.devices, driverVersion: st.driverVersion, library: st.library },
    options: { ks, n, topN: TOPN, quick, egPairs }, ok: !failed, rows,
  };
  const text = JSON.stringify(result, null, 2);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text + '\n');
  log(`wrote ${out}`);
  if (flag('--json')) process.stdout.write(text + '\n');
  if (failed) process.exit(1);
}

main();
