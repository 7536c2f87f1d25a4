/**
 * `npm run bench:pinning`: the engine thread pinned (serve --cpus engine=N: sched_setaffinity from
 * inside the thread, its WASM memory bound to the CPU's node) against unpinned, under a competing
 * load, side by side in one run: rounds of the modes interleaved (unpinned, pinned, isolated,
 * unpinned, …) so that drifts in the machine's load fall on every mode alike.
 *
 * Load: K busy-loop processes (default one per online CPU), started afresh for each round and
 * left to the kernel's scheduler ('unpinned', 'pinned'); in 'isolated' they are confined to the
 * CPUs other than the engine's (`taskset -a -p`), which is what a `--cpus` plan with a reserved
 * engine CPU gives in production. Workload: single commands of the default generated mix
 * submitted from the main thread through the command ring, each timed until its first event comes
 * back through the event ring (closed loop, as bench:pipeline's round trip): the engine's wake-up,
 * scheduling and batch. Per round: p50/p99/p99.9/max (HDR), the engine thread's migrations
 * (/proc/<pid>/task/<tid>/sched se.nr_migrations) and involuntary context switches; per mode: the
 * medians of the rounds' figures and the merged histogram. The load average goes with it.
 * Options: --rounds R per mode (default 3), --commands N per round (default 5000), --load K,
 * --modes unpinned,pinned,isolated, --cpu C (the engine's CPU; default the last online one),
 * --out FILE (default build/bench-pinning.json).
 */
import * as hdr from 'hdr-histogram-js';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { EngineHost } from '../../src/engine/host.js';
import { generate } from '../../src/workload/generator.js';
import { CMD_SIZE, RING_EVT_SIZE, RING_EVT_OFF } from '../../src/abi/records.js';
import { readTopology, formatKernelList } from '../../src/sys/topology.js';
import { nativePlacement } from '../../src/sys/affinity.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1]! : dflt; };
const topo = readTopology();
if (!topo) throw new Error('bench:pinning needs Linux (sysfs)');
const ROUNDS = Number(opt('rounds', '3'));
const N = Number(opt('commands', '5000'));
const LOAD = Number(opt('load', String(topo.online.length)));
const CPU = Number(opt('cpu', String(topo.online[topo.online.length - 1])));
const MODES = opt('modes', 'unpinned,pinned,isolated').split(',') as Mode[];
const OUT = opt('out', 'build/bench-pinning.json');
type Mode = 'unpinned' | 'pinned' | 'isolated';
for (const m of MODES) if (!['unpinned', 'pinned', 'isolated'].includes(m)) throw new Error(`unknown mode ${m}`);
const others = topo.online.filter((c) => c !== CPU);
if (MODES.includes('isolated') && others.length === 0) throw new Error('isolated mode needs a second CPU');

const loads: ChildProcess[] = [];
function startLoad(mode: Mode): void {
  for (let i = 0; i < LOAD; i++) {
    const p = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
    loads.push(p);
    if (mode === 'isolated') execFileSync('taskset', ['-a', '-p', '-c', formatKernelList(others), String(p.pid)], { stdio: 'ignore' });
  }
}
async function stopLoad(): Promise<void> {
  const all = loads.splice(0);
  await Promise.all(all.map((p) => new Promise<void>((res) => { if (p.exitCode !== null || p.signalCode !== null) { res(); return; } p.once('exit', () => res()); p.kill('SIGKILL'); })));
}
process.on('exit', () => { for (const p of loads) p.kill('SIGKILL'); });

function threadFacts(tid: number | null): { migrations: number; involuntary: number } {
  if (tid === null) return { migrations: 0, involuntary: 0 };
  const sched = readFileSync(`/proc/${process.pid}/task/${tid}/sched`, 'utf8');
  const status = readFileSync(`/proc/${process.pid}/task/${tid}/status`, 'utf8');
  return { migrations: Number(/se\.nr_migrations\s*:\s*(\d+)/.exec(sched)?.[1] ?? 0), involuntary: Number(/nonvoluntary_ctxt_switches:\s*(\d+)/.exec(status)?.[1] ?? 0) };
}

interface Round { mode: Mode; p50: number; p99: number; p999: number; max: number; migrations: number; involuntary: number; engineCpus: string; loadavg1: number }

const recs = generate({ seed: 42, count: N + 1000, symbols: 8, mix: 'default' });
const merged = new Map<Mode, hdr.Histogram>();

async function round(mode: Mode): Promise<Round> {
  const node = topo!.nodes.find((n) => n.cpus.includes(CPU))?.id ?? 0;
  const host = await EngineHost.start({
    engine: { symbols: 8, capacity: 1 << 18 }, commandSlots: 1 << 14, eventSlots: 1 << 16, batch: 1024,
    placement: mode === 'unpinned' ? undefined : { cpus: [CPU], memory: { node, mode: 'bind', nodes: topo!.nodes.length } },
  });
  if (mode !== 'unpinned' && !host.placement?.thread?.applied) throw new Error(`the engine thread was not pinned: ${host.placement?.thread?.reason}`);
  const engineCpus = formatKernelList(host.placement?.thread?.cpus ?? topo!.online);
  const reader = host.evtRing.join();
  const buf = new Uint8Array(RING_EVT_SIZE * 4096);
  const dv = new DataView(buf.buffer);
  const one = (i: number): number => {
    const before = host.lastSeq;
    const s = process.hrtime.bigint();
    while (!host.submitRaw(recs, i * CMD_SIZE)) host.evtRing.poll(reader, buf, 0, 4096);
    for (;;) {
      const k = host.evtRing.poll(reader, buf, 0, 4096);
      if (k > 0 && Number(dv.getBigUint64((k - 1) * RING_EVT_SIZE + RING_EVT_OFF.seq, true)) > before) break;
    }
    return Number(process.hrtime.bigint() - s);
  };
  startLoad(mode);
  try {
    await new Promise((r) => setTimeout(r, 300)); // the load running
    for (let i = 0; i < 1000; i++) one(i); // warm-up (prefault, JIT)
    const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e11, numberOfSignificantValueDigits: 3 });
    const f0 = threadFacts(host.threadId);
    for (let i = 0; i < N; i++) h.recordValue(one(1000 + i));
    const f1 = threadFacts(host.threadId);
    const m = merged.get(mode) ?? hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e11, numberOfSignificantValueDigits: 3 });
    m.add(h);
    merged.set(mode, m);
    return { mode, p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), p999: h.getValueAtPercentile(99.9), max: h.maxValue, migrations: f1.migrations - f0.migrations, involuntary: f1.involuntary - f0.involuntary, engineCpus, loadavg1: loadavg()[0]! };
  } finally {
    await stopLoad();
    await host.stop();
  }
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const us = (ns: number): string => (ns / 1000).toFixed(1);

async function main(): Promise<void> {
  const load0 = loadavg();
  const rounds: Round[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const m of MODES) {
      const x = await round(m);
      rounds.push(x);
      process.stderr.write(`round ${r + 1}/${ROUNDS} ${m.padEnd(8)} engine CPUs ${x.engineCpus.padEnd(5)} p50 ${us(x.p50)} µs  p99 ${us(x.p99)} µs  p99.9 ${us(x.p999)} µs  max ${us(x.max)} µs  migrations ${x.migrations}  involuntary switches ${x.involuntary}  load ${x.loadavg1.toFixed(2)}\n`);
    }
  }
  const modes = Object.fromEntries(MODES.map((m) => {
    const rs = rounds.filter((x) => x.mode === m);
    const h = merged.get(m)!;
    return [m, {
      medianOfRoundsNs: { p50: median(rs.map((x) => x.p50)), p99: median(rs.map((x) => x.p99)), p999: median(rs.map((x) => x.p999)), max: median(rs.map((x) => x.max)) },
      mergedNs: { p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), p999: h.getValueAtPercentile(99.9), max: h.maxValue, count: h.totalCount },
      migrationsPerRound: median(rs.map((x) => x.migrations)), involuntarySwitchesPerRound: median(rs.map((x) => x.involuntary)),
    }];
  }));
  const out = {
    benchmark: 'bench:pinning', date: new Date().toISOString(), node: process.version,
    machine: { onlineCpus: topo!.online, nodes: topo!.nodes.length, topologySource: topo!.source },
    placementPath: nativePlacement() ? 'sched_setaffinity (addon)' : 'taskset', engineCpu: CPU,
    load: { busyLoops: LOAD, isolatedTo: formatKernelList(others) }, commandsPerRound: N, roundsPerMode: ROUNDS,
    loadavgStart: load0, loadavgEnd: loadavg(), modes, rounds,
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(out, null, 2) + '\n');
  process.stdout.write(`engine round trip under ${LOAD} busy loops (${N} commands × ${ROUNDS} rounds per mode, medians of rounds; load average ${load0.map((x) => x.toFixed(2)).join(' ')} → ${loadavg().map((x) => x.toFixed(2)).join(' ')}):\n`);
  for (const m of MODES) {
    const x = modes[m]!;
    process.stdout.write(`  ${m.padEnd(8)} p50 ${us(x.medianOfRoundsNs.p50)} µs  p99 ${us(x.medianOfRoundsNs.p99)} µs  p99.9 ${us(x.medianOfRoundsNs.p999)} µs  max ${us(x.medianOfRoundsNs.max)} µs  migrations/round ${x.migrationsPerRound}  involuntary switches/round ${x.involuntarySwitchesPerRound}\n`);
  }
  process.stdout.write(`JSON: ${OUT}\n`);
}

main().catch(async (e) => { await stopLoad(); process.stderr.write(`bench:pinning: ${(e as Error).stack}\n`); process.exit(1); });
