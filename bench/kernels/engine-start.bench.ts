/**
 * `npm run bench:start`: what it costs to start, outside the matching loop.
 *
 *   create    `new Engine({ symbols: 4, capacity: C })` for C = 1e3 … 2^24 (the limit), one
 *             fresh process per sample: module import, the first (small) engine — which compiles
 *             the WASM module —, then the engine of capacity C (a fresh instance, module
 *             compiled), and the process RSS right after it.
 *   replay    `tradsys replay` of a generated stream (default mix, 3 M commands) as a whole
 *             process (wall time, and its CPU time from /proc where there is one) against the
 *             in-process matching time of the same file (a fresh process: the file read into
 *             memory first, then `Engine.submitRaw` in batches of 8,192 with an event-counting
 *             sink, as `tradsys replay` counts them) and the replay's own loop time (its summary).
 *   recovery  `recoverEngine` (what `tradsys serve` runs before it listens) with the gateway's
 *             engine (8 symbols, capacity 1,000,000, risk tables 65,536 accounts / 262,144
 *             positions) over an empty journal and over a journal of `--recovery-count` commands.
 *
 * Every sample is a fresh process (`node` on the built `build/dist`, no tsx). With `--before DIR`
 * (a copy of an older checkout holding `DIR/build/dist` and `DIR/build/wasm`) the same samples run
 * on both builds, interleaved (before, after, before, …), so that a machine shared with other work
 * slows both alike; the medians are reported side by side.
 *
 * Correctness first: each create sample runs a short stream through the large engine and a small
 * one and fails unless the events are byte-equal; every replay must print the same state hash
 * on both builds; every recovery must end at the journal's last seq with the same state hash.
 *
 * Options: --runs N (samples per point, default 5) · --caps a,b,… (default 1000,10000,100000,
 * 1000000,3000000,10000000,16777216) · --count N (replay stream, default 3,000,000) · --file F
 * (replay this .tso instead of generating one) · --recovery-count N (default 500,000) · --only
 * create,replay,recovery · --before DIR · --json · --out FILE.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CMD_SIZE, EVT_SIZE, RING_CMD_SIZE } from '../../src/abi/records.js';
import { evtCmd } from '../../src/abi/views.js';
import { Engine, type EngineOptions } from '../../src/engine/engine.js';
import { JournalWriter } from '../../src/journal/index.js';
import { generate } from '../../src/workload/generator.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const SECTIONS = ['create', 'replay', 'recovery'] as const;
type Section = (typeof SECTIONS)[number];

interface Args { runs: number; caps: number[]; count: number; file: string | null; recoveryCount: number; only: Section[]; before: string | null; json: boolean; out: string | null }

function parseArgs(argv: string[]): Args {
  const a: Args = { runs: 5, caps: [1000, 10_000, 100_000, 1_000_000, 3_000_000, 10_000_000, 1 << 24], count: 3_000_000, file: null, recoveryCount: 500_000, only: [...SECTIONS], before: null, json: false, out: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = (): string => { const x = argv[++i]; if (x === undefined) throw new Error(`${k} needs a value`); return x; };
    const n = (x = v()): number => { const y = Number(x); if (!Number.isInteger(y) || y < 1) throw new Error(`${k} needs positive integers`); return y; };
    switch (k) {
      case '--runs': a.runs = n(); break;
      case '--caps': a.caps = v().split(',').map((x) => n(x)); break;
      case '--count': a.count = n(); break;
      case '--file': a.file = v(); break;
      case '--recovery-count': a.recoveryCount = n(); break;
      case '--only': a.only = v().split(',') as Section[]; for (const s of a.only) if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s}`); break;
      case '--before': a.before = resolve(v()); break;
      case '--json': a.json = true; break;
      case '--out': a.out = v(); break;
      default: throw new Error(`unknown option ${k}`);
    }
  }
  return a;
}

// ── child processes ─────────────────────────────────────────────────────────────────────
// Each child is an ES module given on the command line; it imports the build under test and
// prints one JSON line.

const CREATE_CHILD = `
const [dist, capArg] = process.argv.slice(1);
const cap = Number(capArg);
const t0 = performance.now();
const { Engine } = await import(dist + '/engine/engine.js');
const { generate } = await import(dist + '/workload/generator.js');
const t1 = performance.now();
new Engine({ symbols: 4, capacity: 1000, seed: 1 });
const t2 = performance.now();
const e = new Engine({ symbols: 4, capacity: cap, seed: 1 });
const t3 = performance.now();
const rss = process.memoryUsage().rss;
// a stream that can never fill either engine: both must give the same events
const n = Math.min(5000, cap);
const recs = generate({ seed: 5, count: n, symbols: 4, mix: 'default' });
const run = (x) => { const parts = []; x.submitRaw(recs, 0, n, (_v, b, k) => { parts.push(Buffer.from(b.subarray(0, k * ${EVT_SIZE}))); }); return Buffer.concat(parts); };
const same = run(e).equals(run(new Engine({ symbols: 4, capacity: n, seed: 2 })));
console.log(JSON.stringify({ importMs: t1 - t0, compileMs: t2 - t1, createMs: t3 - t2, rssMiB: rss / 1048576, same }));
`;

const MATCH_CHILD = `
import { readFileSync } from 'node:fs';
const [dist, file] = process.argv.slice(1);
const { Engine } = await import(dist + '/engine/engine.js');
const { evtType } = await import(dist + '/abi/views.js');
const body = readFileSync(file).subarray(16);
const n = body.length / ${CMD_SIZE};
const e = new Engine({ symbols: 8, capacity: Math.max(1024, n), inboxCapacity: 8192 });
const counts = new Uint32Array(256);
const c0 = process.cpuUsage();
const t0 = performance.now();
e.submitRaw(body, 0, n, (v, _b, k) => { for (let i = 0; i < k; i++) counts[evtType(v, i * ${EVT_SIZE})]++; });
const ms = performance.now() - t0;
const c = process.cpuUsage(c0);
console.log(JSON.stringify({ matchMs: ms, matchCpuMs: (c.user + c.system) / 1000, hash: e.stateHash().toString(16) }));
`;

const RECOVERY_CHILD = `
const [dist, dir] = process.argv.slice(1);
const t0 = performance.now();
const { recoverEngine } = await import(dist + '/engine/recovery.js');
const t1 = performance.now();
const opts = { symbols: 8, capacity: 1000000, seed: 3, risk: { maxAccounts: 65536, maxPositions: 262144, defaultMaxOpenOrders: 10000 } };
const r = recoverEngine(dir, opts, undefined, () => {});
const t2 = performance.now();
console.log(JSON.stringify({ importMs: t1 - t0, recoverMs: t2 - t1, replayed: r.replayed, lastSeq: String(r.recovery.lastSeq), hash: r.engine.stateHash().toString(16), rssMiB: process.memoryUsage().rss / 1048576 }));
`;

function child(script: string, args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

/** CPU seconds of this process's waited-for children so far (Linux /proc; null elsewhere). */
function childCpu(): number | null {
  try {
    const f = readFileSync('/proc/self/stat', 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return (Number(rest[13]) + Number(rest[14])) / 100; // cutime + cstime, USER_HZ = 100
  } catch {
    return null;
  }
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };

interface Build { name: 'before' | 'after'; dist: string; cli: string }

// ── sections ────────────────────────────────────────────────────────────────────────────
function benchCreate(a: Args, builds: Build[], say: (l: string) => void): unknown[] {
  const out: unknown[] = [];
  for (const cap of a.caps) {
    const samples: Record<string, Record<string, number>[]> = {};
    for (let r = 0; r < a.runs; r++) {
      for (const b of builds) {
        const s = child(CREATE_CHILD, [b.dist, String(cap)]);
        if (s.same !== true) throw new Error(`${b.name}: the engine of capacity ${cap} gave other events than a small one`);
        (samples[b.name] ??= []).push(s as Record<string, number>);
      }
    }
    const row: Record<string, unknown> = { capacity: cap };
    for (const b of builds) {
      const ss = samples[b.name]!;
      row[b.name] = {
        createMs: median(ss.map((s) => s.createMs!)), compileMs: median(ss.map((s) => s.compileMs!)),
        importMs: median(ss.map((s) => s.importMs!)), rssMiB: median(ss.map((s) => s.rssMiB!)), samplesCreateMs: ss.map((s) => round(s.createMs!)),
      };
    }
    say(`create  capacity ${String(cap).padStart(9)}  ` + builds.map((b) => {
      const x = row[b.name] as Record<string, number>;
      return `${b.name}: ${x.createMs!.toFixed(1)} ms (RSS ${x.rssMiB!.toFixed(0)} MiB)`;
    }).join('  ·  '));
    out.push(row);
  }
  return out;
}

function benchReplay(a: Args, builds: Build[], tmp: string, say: (l: string) => void): unknown {
  let file = a.file;
  if (!file) {
    file = join(tmp, `replay-default-${a.count}.tso`);
    const g = spawnSync(process.execPath, [builds[builds.length - 1]!.cli, 'gen', '--mix', 'default', '--count', String(a.count), '--out', file], { encoding: 'utf8' });
    if (g.status !== 0) throw new Error(`gen failed: ${g.stderr}`);
  }
  const samples: Record<string, { wallMs: number; cpuMs: number | null; loopMs: number; matchMs: number; matchCpuMs: number }[]> = {};
  let hash: string | null = null;
  const check = (h: string, what: string): void => {
    if (hash === null) hash = h;
    if (h !== hash) throw new Error(`${what}: state hash ${h}, expected ${hash}`);
  };
  for (let r = 0; r < a.runs; r++) {
    for (const b of builds) {
      const c0 = childCpu();
      const t0 = process.hrtime.bigint();
      const p = spawnSync(process.execPath, [b.cli, 'replay', '--symbols', '8', '--in', file], { encoding: 'utf8' });
      const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
      const c1 = childCpu();
      if (p.status !== 0) throw new Error(`${b.name} replay failed: ${p.stderr}`);
      const loop = /in ([\d.]+) s/.exec(p.stderr);
      const h = /state hash 0x([0-9a-f]+)/.exec(p.stderr);
      if (!loop || !h) throw new Error(`${b.name} replay printed no summary: ${p.stderr}`);
      check(h[1]!.replace(/^0+/, ''), `${b.name} replay`);
      const m = child(MATCH_CHILD, [b.dist, file]);
      check(String(m.hash), `${b.name} in-process matching`);
      (samples[b.name] ??= []).push({ wallMs, cpuMs: c0 === null || c1 === null ? null : (c1 - c0) * 1000, loopMs: Number(loop[1]) * 1000, matchMs: Number(m.matchMs), matchCpuMs: Number(m.matchCpuMs) });
    }
  }
  const res: Record<string, unknown> = { file, commands: a.file ? null : a.count, mix: a.file ? null : 'default' };
  for (const b of builds) {
    const ss = samples[b.name]!;
    const wall = median(ss.map((s) => s.wallMs));
    const match = median(ss.map((s) => s.matchMs));
    const cpu = ss.every((s) => s.cpuMs !== null) ? median(ss.map((s) => s.cpuMs!)) : null;
    const matchCpu = median(ss.map((s) => s.matchCpuMs));
    res[b.name] = {
      wallMs: wall, cpuMs: cpu, loopMs: median(ss.map((s) => s.loopMs)), matchMs: match, matchCpuMs: matchCpu,
      wallOverMatch: wall / match, cpuOverMatchCpu: cpu === null ? null : cpu / matchCpu,
      samples: ss.map((s) => ({ wallMs: round(s.wallMs), cpuMs: s.cpuMs, loopMs: round(s.loopMs), matchMs: round(s.matchMs), matchCpuMs: round(s.matchCpuMs), ratio: round(s.wallMs / s.matchMs, 3) })),
      ratioMedianOfSamples: median(ss.map((s) => s.wallMs / s.matchMs)),
    };
    const x = res[b.name] as Record<string, number>;
    say(`replay  ${b.name}: whole process ${x.wallMs!.toFixed(0)} ms wall${cpu === null ? '' : ` (${cpu.toFixed(0)} ms CPU)`} · replay loop ${x.loopMs!.toFixed(0)} ms · in-process matching ${x.matchMs!.toFixed(0)} ms (${matchCpu.toFixed(0)} ms CPU) · whole/matching: wall ${x.wallOverMatch!.toFixed(2)} (median of per-run ratios ${x.ratioMedianOfSamples!.toFixed(2)})${cpu === null ? '' : `, CPU ${(cpu / matchCpu).toFixed(2)}`}`);
  }
  return res;
}

/** A journal of `count` default-mix commands run through the gateway's engine (8 symbols, risk on). */
function writeJournal(dir: string, count: number): bigint {
  mkdirSync(dir, { recursive: true });
  const e = new Engine({ symbols: 8, capacity: 1_000_000, seed: 3, risk: { maxAccounts: 65536, maxPositions: 262144, defaultMaxOpenOrders: 10000 } } satisfies EngineOptions);
  const w = new JournalWriter(dir, 0n, null, { durability: 'none', now: () => 0 });
  const recs = generate({ seed: 9, count, symbols: 8, mix: 'default' });
  const batch = 256;
  const staging = new Uint8Array(batch * RING_CMD_SIZE);
  let ts = 1_000_000n;
  for (let base = 0; base < count; base += batch) {
    const n = Math.min(batch, count - base);
    staging.fill(0);
    for (let i = 0; i < n; i++) staging.set(recs.subarray((base + i) * CMD_SIZE, (base + i + 1) * CMD_SIZE), i * RING_CMD_SIZE);
    e.inbox.set(recs.subarray(base * CMD_SIZE, (base + n) * CMD_SIZE));
    const chunks: Buffer[] = [];
    e.runInbox(n, (_v, b, k) => { chunks.push(Buffer.from(b.subarray(0, k * EVT_SIZE))); });
    const raw = Buffer.concat(chunks);
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const nEv = raw.length / EVT_SIZE;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const k0 = k;
      while (k < nEv && evtCmd(dv, k * EVT_SIZE) === i) k++;
      w.append(ts, staging, i * RING_CMD_SIZE, raw, k0 * EVT_SIZE, k - k0);
    }
    w.commit();
    ts += 1000n;
  }
  w.close();
  return e.stateHash();
}

function benchRecovery(a: Args, builds: Build[], tmp: string, say: (l: string) => void): unknown[] {
  const empty = join(tmp, 'journal-empty');
  mkdirSync(empty, { recursive: true });
  const full = join(tmp, `journal-${a.recoveryCount}`);
  const hash = writeJournal(full, a.recoveryCount).toString(16);
  const out: unknown[] = [];
  for (const [label, dir, commands] of [['empty journal', empty, 0], [`${a.recoveryCount} commands`, full, a.recoveryCount]] as const) {
    const samples: Record<string, Record<string, number>[]> = {};
    for (let r = 0; r < a.runs; r++) {
      for (const b of builds) {
        const s = child(RECOVERY_CHILD, [b.dist, dir]);
        if (Number(s.lastSeq) !== commands || s.replayed !== commands) throw new Error(`${b.name}: recovery of ${label} ended at seq ${String(s.lastSeq)}, replayed ${String(s.replayed)}`);
        if (commands > 0 && s.hash !== hash) throw new Error(`${b.name}: recovered state hash ${String(s.hash)}, journal written at ${hash}`);
        (samples[b.name] ??= []).push(s as Record<string, number>);
      }
    }
    const row: Record<string, unknown> = { journal: label, commands };
    for (const b of builds) {
      const ss = samples[b.name]!;
      row[b.name] = { recoverMs: median(ss.map((s) => s.recoverMs!)), rssMiB: median(ss.map((s) => s.rssMiB!)), samplesRecoverMs: ss.map((s) => round(s.recoverMs!)) };
    }
    say(`recover ${label.padEnd(18)} ` + builds.map((b) => {
      const x = row[b.name] as Record<string, number>;
      return `${b.name}: ${x.recoverMs!.toFixed(0)} ms (RSS ${x.rssMiB!.toFixed(0)} MiB)`;
    }).join('  ·  '));
    out.push(row);
  }
  return out;
}

function round(x: number, d = 1): number { const f = 10 ** d; return Math.round(x * f) / f; }

function main(): void {
  const a = parseArgs(process.argv.slice(2));
  const builds: Build[] = [];
  for (const [name, root] of [['before', a.before], ['after', ROOT]] as const) {
    if (!root) continue;
    const dist = join(root, 'build', 'dist');
    if (!existsSync(join(dist, 'cli', 'main.js'))) throw new Error(`${dist}: no build (run \`npm run build\` there)`);
    builds.push({ name, dist, cli: join(dist, 'cli', 'main.js') });
  }
  const say = (l: string): void => { process.stderr.write(l + '\n'); };
  const tmp = mkdtempSync(join(tmpdir(), 'tradsys-start-'));
  const result: Record<string, unknown> = {
    bench: 'engine-start', date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model,
    memGiB: Math.round(totalmem() / 2 ** 30), runs: a.runs, builds: Object.fromEntries(builds.map((b) => [b.name, b.dist])),
    note: 'medians of fresh processes; before/after interleaved sample by sample',
  };
  try {
    if (a.only.includes('create')) result.create = benchCreate(a, builds, say);
    if (a.only.includes('replay')) result.replay = benchReplay(a, builds, tmp, say);
    if (a.only.includes('recovery')) result.recovery = benchRecovery(a, builds, tmp, say);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const json = JSON.stringify(result, null, 2);
  if (a.out) writeFileSync(a.out, json + '\n');
  if (a.json) process.stdout.write(json + '\n');
}

main();
