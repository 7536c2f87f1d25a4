/**
 * `npm run bench:wasm`: the same generated workloads through
 *   (a) the WASM engine via the batch API (src/engine),
 *   (a') the same with pre-trade risk accounting on and no limit set (the cost of risk),
 *   (b) FastBook, a fast plain-TypeScript book (bench/baselines/fast-book.ts: skip lists + level hash),
 *   (b') DenseLadder, a plain-TypeScript dense price ladder (bench/baselines/dense-ladder.ts),
 *   (c) the npm package nodejs-order-book, given the equivalent operations,
 * in one run; the timed repetitions of (a), (a'), (b) and (b') are interleaved (wasm, wasm+risk,
 * fast-ts, ladder-ts, then again), so machine noise falls on all of them alike. Ratios: WASM over
 * each engine, and `vsBestTs`, WASM over the faster of the two plain-TS books on that mix. Reports commands/s, per-command latency p50/p99/p99.9/max (hdr-histogram-js),
 * WASM memory, RSS and the ratios; prints a table, and JSON with --json (or --out FILE).
 *
 * Correctness first: before anything is reported, the WASM engine's full event stream and final
 * book must equal FastBook's and DenseLadder's, and the first 20,000 commands must equal the
 * TypeScript reference book (test/reference) event for event. A mismatch aborts the run with exit code 1.
 *
 * Options: --count N (commands per mix, default 2,000,000) · --symbols N (default 8) ·
 * --seed N (default 42) · --mix a,b (default all) · --batch N (commands per call, default 4096)
 * · --latency N (commands timed one by one, default 200,000) · --peer-count N (commands for
 * nodejs-order-book, default 200,000) · --reps N (timed repetitions, median reported, default 3)
 * · --json · --out FILE. Timed runs size the order pool at 2 × the peak resting orders (power of two).
 */
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import * as hdr from 'hdr-histogram-js';
import { CMD_SIZE, EVT_OFF, EVT_SIZE } from '../../src/abi/records.js';
import { Engine, decodeCommand, eventLineAt } from '../../src/engine/engine.js';
import { MIXES, MIX_DEFS, generate, type Mix } from '../../src/workload/generator.js';
import { bookLine } from '../../src/domain/types.js';
import { FastBook } from '../baselines/fast-book.js';
import { DenseLadder } from '../baselines/dense-ladder.js';
import { NobAdapter } from '../baselines/nob-adapter.js';
import { RefEngine } from '../../test/reference/ref-engine.js';

interface Args { count: number; symbols: number; seed: number; mixes: Mix[]; batch: number; latency: number; peerCount: number; reps: number; json: boolean; out: string | null }

function parseArgs(argv: string[]): Args {
  const a: Args = { count: 2_000_000, symbols: 8, seed: 42, mixes: [...MIXES], batch: 4096, latency: 200_000, peerCount: 200_000, reps: 3, json: false, out: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = (): string => { const x = argv[++i]; if (x === undefined) throw new Error(`${k} needs a value`); return x; };
    const n = (): number => { const x = Number(v()); if (!Number.isInteger(x) || x < 1) throw new Error(`${k} needs a positive integer`); return x; };
    switch (k) {
      case '--count': a.count = n(); break;
      case '--symbols': a.symbols = n(); break;
      case '--seed': a.seed = n(); break;
      case '--batch': a.batch = n(); break;
      case '--latency': a.latency = n(); break;
      case '--peer-count': a.peerCount = n(); break;
      case '--reps': a.reps = n(); break;
      case '--mix': a.mixes = v().split(',') as Mix[]; for (const m of a.mixes) if (!MIXES.includes(m)) throw new Error(`unknown mix ${m}`); break;
      case '--json': a.json = true; break;
      case '--out': a.out = v(); break;
      case '--quick': a.count = 200_000; a.latency = 50_000; a.peerCount = 50_000; a.reps = 1; break;
      default: throw new Error(`unknown option ${k}`);
    }
  }
  return a;
}

interface Latency { p50: number; p99: number; p999: number; max: number; mean: number }
interface Result {
  name: string; commands: number; seconds: number; commandsPerSecond: number; events: number;
  latencyNs: Latency | null; memory: Record<string, number>;
}

const median = (xs: number[]): number => { const s = [...xs].sort((p, q) => p - q); return s[Math.floor(s.length / 2)]!; };

function hist(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: 3, bitBucketSize: 64, useWebAssembly: false });
}
function summarize(h: hdr.Histogram): Latency {
  return { p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), p999: h.getValueAtPercentile(99.9), max: h.maxValue, mean: Math.round(h.mean) };
}

/** Event hash over the fields that make DESIGN's event lines. */
function hashEvents(v: DataView, k: number, h: number): number {
  for (let i = 0; i < k; i++) {
    const p = i * EVT_SIZE;
    const words = [v.getUint8(p + EVT_OFF.type) | (v.getUint8(p + EVT_OFF.reason) << 8), v.getUint32(p + EVT_OFF.id, true), v.getUint32(p + EVT_OFF.id + 4, true),
      v.getUint32(p + EVT_OFF.maker, true), v.getUint32(p + EVT_OFF.maker + 4, true), v.getUint32(p + EVT_OFF.price, true), v.getUint32(p + EVT_OFF.price + 4, true), v.getUint32(p + EVT_OFF.qty, true)];
    for (const w of words) h = Math.imul(h ^ w, 0x01000193) >>> 0;
  }
  return h;
}

function verify(mix: Mix, recs: Uint8Array, n: number, symbols: number): { events: number; refChecked: number; restingHighWater: number } {
  // full stream: WASM vs FastBook, record fields hashed, plus final books
  const e = new Engine({ symbols, capacity: n, inboxCapacity: 4096 });
  const f = new FastBook({ symbols, capacity: n, outboxEvents: 1 << 20 });
  const d = new DenseLadder({ symbols, capacity: n, outboxEvents: 1 << 20 });
  let he = 0x811c9dc5;
  let hf = 0x811c9dc5;
  let hd = 0x811c9dc5;
  let events = 0;
  let fev = 0;
  let dev = 0;
  for (let off = 0; off < n; off += 4096) {
    const k = Math.min(4096, n - off);
    events += e.submitRaw(recs, off * CMD_SIZE, k, (v, _b, c) => { he = hashEvents(v, c, he); });
    const c = f.run(recs, off * CMD_SIZE, k);
    fev += c;
    hf = hashEvents(new DataView(f.outbox.buffer, f.outbox.byteOffset), c, hf);
    const cd = d.run(recs, off * CMD_SIZE, k);
    dev += cd;
    hd = hashEvents(new DataView(d.outbox.buffer, d.outbox.byteOffset), cd, hd);
  }
  if (he !== hf || events !== fev) throw new Error(`[${mix}] WASM and FastBook event streams differ (${events} vs ${fev} events)`);
  if (he !== hd || events !== dev) throw new Error(`[${mix}] WASM and DenseLadder event streams differ (${events} vs ${dev} events)`);
  const eb = [...e.orders()].map(bookLine);
  const fb = f.bookLines();
  if (eb.length !== fb.length || eb.some((l, i) => l !== fb[i])) throw new Error(`[${mix}] WASM and FastBook final books differ`);
  const db = d.bookLines();
  if (eb.length !== db.length || eb.some((l, i) => l !== db[i])) throw new Error(`[${mix}] WASM and DenseLadder final books differ`);
  e.validate();
  const restingHighWater = e.memoryStats().orders.highWater;
  // prefix: WASM vs the reference book, line by line
  const m = Math.min(n, 20_000);
  const ref = new RefEngine({ symbols });
  const e2 = new Engine({ symbols, capacity: n });
  const got: string[] = [];
  e2.submitRaw(recs, 0, m, (v, _b, c) => { for (let i = 0; i < c; i++) got.push(eventLineAt(v, i * EVT_SIZE)); });
  const dv = new DataView(recs.buffer, recs.byteOffset);
  const want: string[] = [];
  for (let i = 0; i < m; i++) want.push(...ref.apply(decodeCommand(dv, i * CMD_SIZE)));
  if (got.length !== want.length || got.some((l, i) => l !== want[i])) throw new Error(`[${mix}] WASM differs from the reference book in the first ${m} commands`);
  return { events, refChecked: m, restingHighWater };
}

/** A book under test: one timed pass over the whole stream, and the one-command-per-call latency run. */
interface Timed { name: string; pass: () => { seconds: number; events: number }; latency: () => Latency; memory: () => Record<string, number> }

function wasmTimed(recs: Uint8Array, n: number, a: Args, cap: number, risk: boolean): Timed {
  let mem: Record<string, number> = {};
  const sink = (): void => {};
  const riskOpt = risk ? { maxAccounts: 1024, maxPositions: 65536 } : undefined;
  return {
    name: risk ? 'wasm+risk' : 'wasm',
    pass: () => {
      const e = new Engine({ symbols: a.symbols, capacity: cap, inboxCapacity: a.batch, risk: riskOpt });
      e.prefault(); // untimed: creation reserves memory without touching it; the server's engine thread faults it in while idle
      const wasmBefore = e.raw.memory.buffer.byteLength;
      // first half warms the book to steady state; growth is measured over the second half
      const t0 = process.hrtime.bigint();
      let ev = e.submitRaw(recs, 0, n >> 1, sink);
      const mid = e.raw.memory.buffer.byteLength;
      ev += e.submitRaw(recs, (n >> 1) * CMD_SIZE, n - (n >> 1), sink);
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      const st = e.memoryStats();
      mem = { wasmBytes: e.raw.memory.buffer.byteLength, wasmGrowthSteadyStateBytes: e.raw.memory.buffer.byteLength - mid, wasmGrowthSinceInitBytes: e.raw.memory.buffer.byteLength - wasmBefore, ordersHighWater: st.orders.highWater, restingAtEnd: st.orders.inUse, rssBytes: process.memoryUsage().rss };
      return { seconds: dt, events: ev };
    },
    latency: () => {
      // one command per call (inbox set + bookRun + sink), timer included
      const h = hist();
      const e = new Engine({ symbols: a.symbols, capacity: cap, inboxCapacity: 16, risk: riskOpt });
      e.prefault();
      const L = Math.min(a.latency, n);
      const inbox = new Int32Array(e.inbox.buffer, e.inbox.byteOffset, CMD_SIZE / 4);
      const src = new Int32Array(recs.buffer, recs.byteOffset, recs.byteLength >> 2);
      for (let i = 0; i < L; i++) {
        const t0 = process.hrtime.bigint();
        const b = i * (CMD_SIZE / 4);
        for (let w = 0; w < CMD_SIZE / 4; w++) inbox[w] = src[b + w]!;
        e.runInbox(1, sink);
        h.recordValue(Number(process.hrtime.bigint() - t0));
      }
      return summarize(h);
    },
    memory: () => mem,
  };
}

/** Bytes of the distinct ArrayBuffers behind an object's typed-array fields. */
function typedArrayBytes(o: object): number {
  const seen = new Set<ArrayBufferLike>();
  let n = 0;
  for (const v of Object.values(o)) {
    if (ArrayBuffer.isView(v) && !seen.has(v.buffer)) { seen.add(v.buffer); n += v.buffer.byteLength; }
  }
  return n;
}

/** A plain-TS book with FastBook's `run(cmds, byteOffset, count)` interface. */
interface TsBook { run(cmds: Uint8Array, byteOffset: number, count: number): number }

function tsTimed(name: string, make: (outboxEvents: number) => TsBook, bytes: (b: TsBook) => number, recs: Uint8Array, n: number, a: Args): Timed {
  let heap = 0;
  return {
    name,
    pass: () => {
      const f = make(1 << 20);
      const t0 = process.hrtime.bigint();
      let ev = 0;
      for (let off = 0; off < n; off += a.batch) ev += f.run(recs, off * CMD_SIZE, Math.min(a.batch, n - off));
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      heap = bytes(f);
      return { seconds: dt, events: ev };
    },
    latency: () => {
      const h = hist();
      const f = make(1 << 16);
      const L = Math.min(a.latency, n);
      for (let i = 0; i < L; i++) {
        const t0 = process.hrtime.bigint();
        f.run(recs, i * CMD_SIZE, 1);
        h.recordValue(Number(process.hrtime.bigint() - t0));
      }
      return summarize(h);
    },
    memory: () => ({ typedArrayBytes: heap, rssBytes: process.memoryUsage().rss }),
  };
}

/** Times the books with their repetitions interleaved (rep 0 of each is the JIT warm-up), then their latency. */
function timeInterleaved(books: Timed[], n: number, a: Args): Result[] {
  const secs: number[][] = books.map(() => []);
  const events: number[] = books.map(() => 0);
  for (let r = 0; r < a.reps + 1; r++) {
    books.forEach((b, k) => {
      const p = b.pass();
      if (r > 0) secs[k]!.push(p.seconds);
      events[k] = p.events;
    });
  }
  return books.map((b, k) => {
    const s = median(secs[k]!);
    return { name: b.name, commands: n, seconds: s, commandsPerSecond: n / s, events: events[k]!, latencyNs: b.latency(), memory: b.memory() };
  });
}

function timeNob(recs: Uint8Array, n: number, a: Args): Result {
  const m = Math.min(n, a.peerCount);
  const secs: number[] = [];
  let errors = 0;
  for (let r = 0; r < Math.max(1, a.reps) + 1; r++) {
    const nob = new NobAdapter({ symbols: a.symbols });
    const h0 = process.memoryUsage().heapUsed;
    const t0 = process.hrtime.bigint();
    for (let off = 0; off < m; off += a.batch) nob.run(recs, off * CMD_SIZE, Math.min(a.batch, m - off));
    const dt = Number(process.hrtime.bigint() - t0) / 1e9;
    if (r > 0) secs.push(dt);
    errors = nob.errors;
    void h0;
  }
  const h = hist();
  const nob = new NobAdapter({ symbols: a.symbols });
  const L = Math.min(a.latency, m);
  for (let i = 0; i < L; i++) {
    const t0 = process.hrtime.bigint();
    nob.run(recs, i * CMD_SIZE, 1);
    h.recordValue(Number(process.hrtime.bigint() - t0));
  }
  const s = median(secs);
  return { name: 'nodejs-order-book', commands: m, seconds: s, commandsPerSecond: m / s, events: 0, latencyNs: summarize(h), memory: { adapterErrors: errors, rssBytes: process.memoryUsage().rss } };
}

function timerOverheadNs(): number {
  const h = hist();
  for (let i = 0; i < 200_000; i++) { const t0 = process.hrtime.bigint(); h.recordValue(Number(process.hrtime.bigint() - t0)); }
  return h.getValueAtPercentile(50);
}

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  const log = (s: string): void => { process.stderr.write(s + '\n'); };
  const cpu = cpus()[0];
  const report: Record<string, unknown> = {
    benchmark: 'bench:wasm', date: new Date().toISOString(), node: process.version, v8: process.versions.v8,
    machine: { cpu: cpu?.model ?? 'unknown', cores: cpus().length, memoryBytes: totalmem(), platform: `${process.platform}-${process.arch}` },
    options: { ...a, out: undefined, json: undefined }, timerOverheadNs: timerOverheadNs(), mixes: {} as Record<string, unknown>,
  };
  const mixes = report.mixes as Record<string, unknown>;
  for (const mix of a.mixes) {
    log(`[${mix}] generating ${a.count.toLocaleString('en-US')} commands (seed ${a.seed}, ${a.symbols} symbols)…`);
    const recs = generate({ seed: a.seed, count: a.count, symbols: a.symbols, mix, badRate: 0.001 });
    log(`[${mix}] verifying WASM == FastBook == DenseLadder (full stream) and WASM == reference (prefix)…`);
    const v = verify(mix, recs, a.count, a.symbols);
    // timed runs size the order pool for the workload (2 × the peak resting orders seen in
    // verification, a power of two), as a deployment would; no capacity reject can occur
    let cap = 1024;
    while (cap < 2 * v.restingHighWater) cap *= 2;
    log(`[${mix}] timing wasm, wasm with pre-trade risk accounting on (no limit set), fast-ts and ladder-ts, interleaved (${a.reps} reps + 1 warm-up)…`);
    const [w, wr, f, d] = timeInterleaved([
      wasmTimed(recs, a.count, a, cap, false),
      wasmTimed(recs, a.count, a, cap, true),
      tsTimed('fast-ts', (o) => new FastBook({ symbols: a.symbols, capacity: cap, outboxEvents: o }), (b) => typedArrayBytes(b), recs, a.count, a),
      tsTimed('ladder-ts', (o) => new DenseLadder({ symbols: a.symbols, capacity: cap, outboxEvents: o }), (b) => (b as DenseLadder).bytes, recs, a.count, a),
    ], a.count, a) as [Result, Result, Result, Result];
    log(`[${mix}] timing nodejs-order-book (${Math.min(a.count, a.peerCount).toLocaleString('en-US')} commands)…`);
    const p = timeNob(recs, a.count, a);
    const best = f.commandsPerSecond >= d.commandsPerSecond ? f : d;
    mixes[mix] = {
      workload: MIX_DEFS[mix], verified: v, capacity: cap, results: [w, wr, f, d, p],
      ratios: {
        wasmRiskOverWasm: wr.commandsPerSecond / w.commandsPerSecond, wasmOverFastTs: w.commandsPerSecond / f.commandsPerSecond,
        wasmOverLadderTs: w.commandsPerSecond / d.commandsPerSecond, bestTs: best.name, vsBestTs: w.commandsPerSecond / best.commandsPerSecond,
        wasmOverNodejsOrderBook: w.commandsPerSecond / p.commandsPerSecond,
      },
    };
  }
  // table
  const rows: string[] = [];
  const pad = (s: string, n: number): string => s.padStart(n);
  rows.push(`bench:wasm — ${report.date} — node ${process.version} — ${String((report.machine as { cpu: string }).cpu)} × ${cpus().length} — seed ${a.seed}, ${a.symbols} symbols, batch ${a.batch}, timer overhead ~${String(report.timerOverheadNs)} ns`);
  rows.push(`${'mix'.padEnd(16)}${'engine'.padEnd(19)}${pad('M cmd/s', 9)}${pad('p50 ns', 9)}${pad('p99 ns', 9)}${pad('p99.9 ns', 10)}${pad('max ns', 11)}${pad('mem MiB', 9)}${pad('vs wasm', 9)}`);
  for (const [mix, r] of Object.entries(mixes) as [string, { results: Result[]; ratios: { bestTs: string; vsBestTs: number } }][]) {
    const w = r.results[0]!;
    for (const x of r.results) {
      const l = x.latencyNs!;
      const memB = x.memory.wasmBytes ?? x.memory.typedArrayBytes ?? x.memory.rssBytes ?? 0;
      rows.push(`${mix.padEnd(16)}${x.name.padEnd(19)}${pad((x.commandsPerSecond / 1e6).toFixed(2), 9)}${pad(String(l.p50), 9)}${pad(String(l.p99), 9)}${pad(String(l.p999), 10)}${pad(String(l.max), 11)}${pad((memB / 2 ** 20).toFixed(1), 9)}${pad((w.commandsPerSecond / x.commandsPerSecond).toFixed(2) + '×', 9)}`);
    }
    rows.push(`${mix.padEnd(16)}${'vsBestTs'.padEnd(19)}${pad((w.commandsPerSecond / 1e6).toFixed(2), 9)}  wasm ÷ best plain-TS (${r.ratios.bestTs}) = ${r.ratios.vsBestTs.toFixed(2)}×`);
  }
  rows.push('latency: one command per call, timer included; throughput: batches through the batch API, median of reps (wasm, wasm+risk, fast-ts, ladder-ts interleaved); memory: WASM linear memory (wasm), typed arrays (fast-ts, ladder-ts), RSS (peer)');
  process.stdout.write(rows.join('\n') + '\n');
  const json = JSON.stringify(report, null, 2);
  if (a.out) writeFileSync(a.out, json + '\n');
  if (a.json) process.stdout.write(json + '\n');
}

main();
