/**
 * The cost of recording one stage latency: `node --import tsx bench/kernels/latency-record.bench.ts
 * [--n N] [--reps R] [--json] [--out FILE]`.
 *
 * Timed (ns per value, median of `reps` interleaved runs of N values after a warm-up run): the
 * hdr-histogram-js JS Int32Histogram's recordValue and its WASM build's (the choice in
 * src/monitoring/latency.ts), StageRecorder.record (what the threads call: clamp, round, JS
 * histogram, last value), recordCount (one call per engine batch), addSinceWords (the engine's
 * ring_to_engine: one call per 4,096-command batch, cost per command), and a stamp (nowNsInto, the
 * clock every stage reads) plus a record; and what the engine thread adds per batch (3 stamps, 3
 * batch records, the publish stamp, the once-a-second hand-over check), ns per batch. Values: log-uniform 50 ns – 50 ms (seed 21), precomputed.
 * Target (issue 17): a record ≤ 50 ns. Checked first: both builds give the same p50/p99/max.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import * as hdr from 'hdr-histogram-js';
import { nowNsInto } from '../../src/domain/clock.js';
import { HIST_DIGITS, HIST_HIGHEST_NS, HIST_LOWEST_NS, LatencyChannel, PublishStamps, S, StageRecorder } from '../../src/monitoring/latency.js';
import { prng } from '../../src/workload/prng.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number): number => { const i = argv.indexOf(`--${name}`); return i >= 0 ? Number(argv[i + 1]) : dflt; };
const N = opt('n', 2_000_000);
const reps = opt('reps', 7);
const outIdx = argv.indexOf('--out');
const outFile = outIdx >= 0 ? argv[outIdx + 1]! : null;

const r = prng(21);
const vals = new Float64Array(N);
for (let i = 0; i < N; i++) vals[i] = Math.round(50 * Math.exp(r() * Math.log(1e6)));

await hdr.initWebAssembly();
const cfg = { lowestDiscernibleValue: HIST_LOWEST_NS, highestTrackableValue: HIST_HIGHEST_NS, numberOfSignificantValueDigits: HIST_DIGITS as 3 };
const js = hdr.build({ ...cfg, bitBucketSize: 32 });
const wasm = hdr.build({ ...cfg, bitBucketSize: 32, useWebAssembly: true });
const rec = new StageRecorder();
const words = new Uint32Array(2);
// the engine's per-command stage: 4,096-command batches of ring records (tsIn at word 6 of 16)
const BATCH = 4096;
const ringWords = new Uint32Array(BATCH * 16);
for (let i = 0; i < BATCH; i++) { ringWords[i * 16 + 6] = 1_000_000_000 - (vals[i]! % 1_000_000_000); ringWords[i * 16 + 7] = 100; }

// what the engine thread adds per batch (src/engine/worker.ts): 3 stamps, 3 batch records, the publish stamp, the offer check
const pub = new PublishStamps();
const ch = new LatencyChannel();
const t = new Uint32Array(4);
const ts = new Uint32Array(2);
const due = new Float64Array(1);
const perBatch = (k: number): void => {
  nowNsInto(t, 0); rec.v[0] = (t[1]! - ts[1]!) * 4294967296 + (t[0]! - ts[0]!); rec.add(S.engineMatch, k);
  nowNsInto(t, 2); rec.v[0] = (t[3]! - t[1]!) * 4294967296 + (t[2]! - t[0]!); rec.add(S.journalDurable, k); t[0] = t[2]!; t[1] = t[3]!;
  pub.put(k, k + 10, t[0]!, t[1]!);
  nowNsInto(t, 2); rec.v[0] = (t[3]! - t[1]!) * 4294967296 + (t[2]! - t[0]!); rec.add(S.engineToPublish, k);
  rec.tag(S.engineMatch, k);
  const now = t[3]! * 4294967296 + t[2]!;
  if (now >= due[0]!) { due[0] = now + 1e9; ch.offer(rec); Atomics.store(new Int32Array(ch.sab, 0, 1), 0, 0); }
};

const cases: Record<string, () => void> = {
  'engine per-batch tracking (ns per batch)': () => { nowNsInto(ts, 0); for (let i = 0; i < N; i++) perBatch(i & 1023); },
  'hdr-js recordValue': () => { for (let i = 0; i < N; i++) js.recordValue(vals[i]!); },
  'hdr-wasm recordValue': () => { for (let i = 0; i < N; i++) wasm.recordValue(vals[i]!); },
  'StageRecorder.record': () => { for (let i = 0; i < N; i++) rec.record(S.orderToAck, vals[i]!); },
  'StageRecorder.recordCount (per batch)': () => { for (let i = 0; i < N; i++) rec.recordCount(S.engineMatch, vals[i]!, 64); },
  'StageRecorder.addSinceWords (per command, 4096-batches)': () => { for (let i = 0; i < N; i += BATCH) rec.addSinceWords(S.ringToEngine, ringWords, 6, 16, BATCH, 1_000_000_000, 100); },
  'stamp (nowNsInto) + record': () => { for (let i = 0; i < N; i++) { nowNsInto(words, 0); rec.record(S.decodeToRing, vals[i]! + (words[0]! & 1)); } },
};

// same values, same answers
for (let i = 0; i < 100_000; i++) { js.recordValue(vals[i]!); wasm.recordValue(vals[i]!); }
for (const q of [50, 99, 100]) if (js.getValueAtPercentile(q) !== wasm.getValueAtPercentile(q)) { process.stderr.write(`JS and WASM histograms differ at p${q}\n`); process.exit(1); }

const times: Record<string, number[]> = {};
for (const k of Object.keys(cases)) { times[k] = []; cases[k]!(); } // warm-up
for (let rep = 0; rep < reps; rep++) {
  for (const [k, f] of Object.entries(cases)) {
    const t0 = process.hrtime.bigint();
    f();
    times[k]!.push(Number(process.hrtime.bigint() - t0) / N);
  }
}
const median = (a: number[]): number => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]!; };
const results = Object.fromEntries(Object.entries(times).map(([k, t]) => [k, { nsPerValue: Number(median(t).toFixed(2)), min: Number(Math.min(...t).toFixed(2)), max: Number(Math.max(...t).toFixed(2)) }]));
const out = {
  benchmark: 'latency-record', date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model, cores: cpus().length, loadAverage1m: loadavg()[0],
  values: N, reps, histogram: { lowestNs: HIST_LOWEST_NS, highestNs: HIST_HIGHEST_NS, digits: HIST_DIGITS },
  results, targetNs: 50, recordWithinTarget: results['StageRecorder.record']!.nsPerValue <= 50,
  wasmOverJs: Number((results['hdr-wasm recordValue']!.nsPerValue / results['hdr-js recordValue']!.nsPerValue).toFixed(2)),
};
for (const [k, v] of Object.entries(results)) process.stdout.write(`${k.padEnd(40)} ${v.nsPerValue.toFixed(2).padStart(8)} ns/value (min ${v.min}, max ${v.max})\n`);
if (argv.includes('--json')) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
if (outFile) writeFileSync(outFile, JSON.stringify(out, null, 2) + '\n');
