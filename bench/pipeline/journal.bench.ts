/**
 * `npm run bench:journal`: the journal's costs, measured on this machine's disk.
 *  1. append: records/s and MB/s through JournalWriter (records of 1 command + 2 events, 256 B),
 *     batches of 1,024, durability `none` (write only) and `fsync` (one fdatasync per batch);
 *  2. acknowledged orders: commands through the engine thread with the journal on (fsync), open
 *     loop at fixed offered rates, ack latency = submit → its first event seen on the event ring
 *     (which happens only after the batch is durable), HDR p50/p99/p99.9, coordinated-omission
 *     corrected (the client sleeps on the event ring when its next send is more than 20 µs away,
 *     as an event-driven client does; at 100 k/s it polls), after a warm-up of --warmup seconds
 *     at the same rate that is not recorded (the step from idle to the offered rate); with the
 *     engine thread's time waiting for a CPU (schedstat); and the closed-loop maximum;
 *     before them, the disk alone: write+fdatasync timings with nothing else running and the ack
 *     latency those syncs alone would allow at 100 k/s (a queue model; see diskFloor);
 *  3. recovery: a journal of N records (default 1,000,000) recovered and replayed with the
 *     determinism check: records/s and time to ready (median of 5 runs, and the first run alone).
 * Each configuration runs --reps times, alternating; medians per offered rate are reported:
 * plain segments with the engine thread at normal scheduling (the server's default) and the engine
 * thread SCHED_FIFO (`serve --engine-rt N`); with --preallocated also preallocated segments
 * (`serve --preallocate`; off by default: not the server's default, and docs/journal.md has its
 * figures).
 * Options: --records N (recovery, default 1,000,000) · --seconds S (per offered rate, default 3) ·
 * --warmup S (default 0.5) · --reps N (default 3) · --engine-rt N (SCHED_FIFO priority of the realtime configuration, default 10) ·
 * --preallocated ·
 * --ack-durability fsync|none (part 2; none shows the floor without the disk) ·
 * --json · --out FILE. Nothing else should run meanwhile (2 cores).
 */
import * as fs from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { CMD_SIZE, RING_EVT_SIZE, RING_EVT_OFF } from '../../src/abi/records.js';
import { EngineHost } from '../../src/engine/host.js';
import { generate } from '../../src/workload/generator.js';
import { JournalWriter } from '../../src/journal/writer.js';
import { recoverEngine } from '../../src/engine/recovery.js';
import { verifyBackend } from '../../src/journal/verify.js';
import { writeJournal } from '../../test/support/journal-fixture.js';

const args = process.argv.slice(2);
const opt = (k: string, d: number): number => { const i = args.indexOf(k); return i >= 0 ? Number(args[i + 1]) : d; };
const RECORDS = opt('--records', 1_000_000);
const SECONDS = opt('--seconds', 3);
const REPS = opt('--reps', 3);
const WARMUP = opt('--warmup', 0.5);
const ENGINE_RT = opt('--engine-rt', 10);
const WITH_PREALLOCATED = args.includes('--preallocated');
const json = args.includes('--json');
const ACK_DURABILITY = (args.includes('--ack-durability') ? args[args.indexOf('--ack-durability') + 1] : 'fsync') as 'fsync' | 'none';
const outIdx = args.indexOf('--out');
const log = (m: string): void => { process.stderr.write(m + '\n'); };
// journals are deleted at the end, not between runs: on a filesystem mounted with `discard` (this
// VM's root) a deletion sends the device TRIMs for the freed blocks, which would slow the next
// run's fdatasyncs
const scratch: string[] = [];

function appendBench(durability: 'none' | 'fsync'): { records: number; seconds: number; recordsPerSecond: number; mbPerSecond: number; syncs: number } {
  const dir = mkdtempSync(join(tmpdir(), 'jb-'));
  const w = new JournalWriter(dir, 0n, null, { durability, commitMarkMs: 1000 });
  const cmd = new Uint8Array(96);
  const evts = new Uint8Array(128).fill(7);
  const total = durability === 'none' ? 2_000_000 : 400_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < total; i += 1024) {
    for (let j = 0; j < 1024; j++) w.append(0n, cmd, 0, evts, 0, 2);
    w.commit();
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const bytes = w.stats.bytes;
  w.close();
  scratch.push(dir);
  return { records: total, seconds: s, recordsPerSecond: total / s, mbPerSecond: bytes / s / 1e6, syncs: w.stats.syncs };
}

/** The engine thread's total time runnable but waiting for a CPU (/proc schedstat, field 2), ms; NaN off Linux. */
function engineCpuWaitMs(tid: number | null): number {
  if (tid === null) return Number.NaN;
  try { return Number(fs.readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e6; } catch { return Number.NaN; }
}

interface AckConfig { name: string; preallocate: boolean; realtime: boolean }
const CONFIGS: AckConfig[] = [
  { name: 'plain', preallocate: false, realtime: false },
  { name: 'realtime', preallocate: false, realtime: true },
  ...(WITH_PREALLOCATED ? [{ name: 'preallocated', preallocate: true, realtime: false }] : []),
];

// the open loop's per-command arrays, allocated once for the largest rate (no GC between runs)
let intendedAll = new Float64Array(0);
let firstSeenAll = new Uint8Array(0);

async function ackBench(cfg: AckConfig): Promise<Record<string, unknown>[]> {
  const { preallocate } = cfg;
  const dir = mkdtempSync(join(tmpdir(), 'jba-'));
  const n = 2_000_000;
  const recs = generate({ seed: 42, count: n, symbols: 8, mix: 'default' });
  const host = await EngineHost.start({ engine: { symbols: 8, capacity: 1 << 21 }, commandSlots: 1 << 16, eventSlots: 1 << 18, batch: 4096, journal: { dir, durability: ACK_DURABILITY, snapshotEvery: 0, preallocate }, realtime: cfg.realtime && ENGINE_RT > 0 ? ENGINE_RT : undefined, log: () => {} });
  const sched = host.threadScheduling;
  if (cfg.realtime && ENGINE_RT > 0 && !sched?.applied) log(`${cfg.name}: the engine thread stays at normal scheduling (${sched?.reason ?? 'unknown'})`);
  const scheduling = sched?.applied ? `SCHED_FIFO ${sched.rtPriority}` : 'normal';
  const reader = host.evtRing.join();
  const buf = new Uint8Array(RING_EVT_SIZE * 4096);
  const dv = new DataView(buf.buffer);
  let next = 0;
  const results: Record<string, unknown>[] = [];
  // closed loop: as fast as the ring takes them
  {
    const m = 400_000;
    const start = host.lastSeq;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < m; i++, next++) {
      while (!host.submitRaw(recs, (next % n) * CMD_SIZE)) host.evtRing.poll(reader, buf, 0, 4096);
    }
    while (host.lastSeq < start + m || host.evtRing.waitReady(reader, 5)) host.evtRing.poll(reader, buf, 0, 4096);
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    results.push({ mode: 'closed loop', config: cfg.name, durability: ACK_DURABILITY, preallocate, scheduling, orders: m, seconds: s, ackedPerSecond: m / s });
    log(`${cfg.name} (${scheduling}), closed loop: ${(m / s / 1000).toFixed(0)} k durably acknowledged commands/s`);
  }
  for (const rate of [10_000, 50_000, 100_000]) {
    const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 10_000_000_000, numberOfSignificantValueDigits: 3 });
    const w = Math.round(rate * WARMUP); // warm-up commands: sent and waited for, not recorded
    const m = Math.min(n, rate * SECONDS + w);
    const seqBase = host.lastSeq;
    if (intendedAll.length < m) { intendedAll = new Float64Array(m); firstSeenAll = new Uint8Array(m); }
    const intended = intendedAll; // ns since t0, by command
    const firstSeen = firstSeenAll;
    firstSeen.fill(0, 0, m);
    // seq reads allocate nothing (a BigInt per call would make the harness's own GC pauses part of the tail)
    const wait0 = engineCpuWaitMs(host.threadId);
    const t0 = performance.now();
    const now = (): number => (performance.now() - t0) * 1e6;
    let sent = 0;
    let got = 0;
    const poll = (): number => {
      const k = host.evtRing.poll(reader, buf, 0, 4096);
      if (k === 0) return 0; // (performance.now() allocates in Node 20: read the clock only when there is something to stamp)
      const t = now();
      for (let i = 0; i < k; i++) {
        const idx = dv.getUint32(i * RING_EVT_SIZE + RING_EVT_OFF.seq + 4, true) * 4294967296 + dv.getUint32(i * RING_EVT_SIZE + RING_EVT_OFF.seq, true) - seqBase - 1;
        if (idx >= 0 && idx < m && firstSeen[idx] === 0) { firstSeen[idx] = 1; got++; if (idx >= w) h.recordValue(Math.max(1, t - intended[idx]!)); }
      }
      return k;
    };
    const gap = 1e9 / rate;
    const deadline = (SECONDS + 10) * 1e9;
    // one clock read per turn (performance.now() allocates in Node 20; the harness's own GC pauses
    // would be part of the tail)
    for (let tNow = now(); (sent < m || got < m) && tNow < deadline; tNow = now()) {
      const due = Math.min(m, Math.floor(tNow / gap) + 1);
      while (sent < due) {
        intended[sent] = sent * gap; // latency from when it should have been sent (no coordinated omission)
        if (!host.submitRaw(recs, ((next + sent) % n) * CMD_SIZE)) break;
        sent++;
      }
      // an event-driven client: with nothing to read, it sleeps on the event ring's futex until
      // events arrive or the next command is due, when that is more than 20 µs away (at 10 k/s;
      // at 100 k/s, commands 10 µs apart, it polls)
      if (poll() === 0) {
        const waitMs = sent < m ? (sent * gap - tNow) / 1e6 : 1;
        if (waitMs > 0.02) host.evtRing.waitReady(reader, Math.min(waitMs, 1), 50);
      }
    }
    next += sent;
    const cpuWaitMs = engineCpuWaitMs(host.threadId) - wait0;
    const r = {
      mode: 'open loop', config: cfg.name, durability: ACK_DURABILITY, preallocate, scheduling, offeredPerSecond: rate, warmupOrders: w, orders: m - w, acked: got - w,
      seconds: (performance.now() - t0) / 1000, engineCpuWaitMs: cpuWaitMs,
      latencyUs: { p50: h.getValueAtPercentile(50) / 1000, p99: h.getValueAtPercentile(99) / 1000, p999: h.getValueAtPercentile(99.9) / 1000, max: h.maxValue / 1000 },
    };
    results.push(r);
    log(`  open loop ${rate}/s: acked ${got - w}/${m - w} (+${w} warm-up), p50 ${r.latencyUs.p50.toFixed(0)} µs, p99 ${r.latencyUs.p99.toFixed(0)} µs, p99.9 ${r.latencyUs.p999.toFixed(0)} µs; engine thread waited ${cpuWaitMs.toFixed(0)} ms for a CPU in ${r.seconds.toFixed(1)} s`);
  }
  await host.stop();
  scratch.push(dir);
  return results;
}

/**
 * The disk alone: what a batch's write + fdatasync costs here with nothing else running, and the
 * ack latency that those syncs alone would allow at 100 k orders/s. A 5 KiB write (the ~20 records
 * of a 0.2 ms batch at 100 k/s) and one fdatasync, started every 0.2 ms for --seconds × 2; then a
 * queue model: orders arrive every 10 µs, a batch takes every order that arrived before it starts
 * and costs the next recorded sync + 20 µs. The gap between this and the measured acks is what
 * the rest of the machine (the engine, the client, the kernel's workers, 2 cores) adds.
 */
function diskFloor(): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'jbd-'));
  scratch.push(dir);
  const fd = fs.openSync(join(dir, 'syncs'), 'w');
  const buf = Buffer.alloc(5120, 7);
  const ms = SECONDS * 2 * 1000;
  const times: number[] = [];
  let off = 0;
  const t0 = performance.now();
  for (let a = t0; a - t0 < ms; a = performance.now()) {
    fs.writeSync(fd, buf, 0, buf.length, off);
    off += buf.length;
    fs.fdatasyncSync(fd);
    times.push(performance.now() - a);
    while (performance.now() - a < 0.2) { /* pace: one batch per 0.2 ms */ }
  }
  fs.closeSync(fd);
  const rate = 100; // orders per ms
  const lat: number[] = [];
  let t = 0;
  let next = 0; // the next order to batch
  for (const cost of times) {
    const start = Math.max(t, next / rate);
    const upto = Math.floor(start * rate); // orders that arrived by then
    t = start + 0.02 + cost;
    for (; next <= upto; next++) lat.push(t - next / rate);
  }
  const q = (xs: number[], p: number): number => xs[Math.floor(p * (xs.length - 1))]!;
  const st = [...times].sort((x, y) => x - y);
  lat.sort((x, y) => x - y);
  const r = {
    syncs: times.length, syncMs: { p50: q(st, 0.5), p99: q(st, 0.99), p999: q(st, 0.999), max: st[st.length - 1]!, over1_5ms: st.filter((x) => x > 1.5).length },
    modelAckMsAt100k: { orders: lat.length, p50: q(lat, 0.5), p99: q(lat, 0.99), p999: q(lat, 0.999) },
  };
  log(`disk alone: ${r.syncs} write+fdatasync of 5 KiB: p50 ${r.syncMs.p50.toFixed(2)} / p99 ${r.syncMs.p99.toFixed(2)} / p99.9 ${r.syncMs.p999.toFixed(2)} / max ${r.syncMs.max.toFixed(1)} ms (${r.syncMs.over1_5ms} over 1.5 ms); acks at 100 k/s with those syncs alone: p50 ${r.modelAckMsAt100k.p50.toFixed(2)} / p99 ${r.modelAckMsAt100k.p99.toFixed(2)} / p99.9 ${r.modelAckMsAt100k.p999.toFixed(2)} ms`);
  return r;
}

function recoveryBench(): Record<string, unknown> {
  const dir = mkdtempSync(join(tmpdir(), 'jbr-'));
  log(`writing a journal of ${RECORDS.toLocaleString('en-US')} records…`);
  const recs = generate({ seed: 7, count: RECORDS, symbols: 8, mix: 'default' });
  writeJournal(dir, recs, { symbols: 8, batch: 4096, durability: 'none' });
  const bytes = fs.readdirSync(dir).filter((f) => f.endsWith('.seg')).reduce((s, f) => s + fs.statSync(join(dir, f)).size, 0);
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    const rec = recoverEngine(dir, { symbols: 8, capacity: 100_000, inboxCapacity: 4096 }, undefined, () => {});
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
    if (rec.replayed !== RECORDS) throw new Error(`replayed ${rec.replayed}`);
  }
  const first = times[0]!; // a cold process: JIT warm-up and the verifier's first window included
  const sorted = [...times].sort((a, b) => a - b);
  const s = sorted[2]!;
  fs.rmSync(dir, { recursive: true, force: true });
  log(`recovery (${verifyBackend()} verifier): ${RECORDS} records (${(bytes / 1e6).toFixed(0)} MB) ready in ${s.toFixed(3)} s median = ${(RECORDS / s / 1e6).toFixed(2)} M records/s (first run ${first.toFixed(3)} s = ${(RECORDS / first / 1e6).toFixed(2)} M/s)`);
  return { records: RECORDS, bytes, verifier: verifyBackend(), secondsToReady: s, recordsPerSecond: RECORDS / s, firstRunSeconds: first, firstRunRecordsPerSecond: RECORDS / first, runs: times };
}

async function main(): Promise<void> {
  log('append, durability none…');
  const none = appendBench('none');
  log(`  ${(none.recordsPerSecond / 1e6).toFixed(2)} M records/s, ${none.mbPerSecond.toFixed(0)} MB/s`);
  log('append, durability fsync (one fdatasync per 1,024 records)…');
  const sync = appendBench('fsync');
  log(`  ${(sync.recordsPerSecond / 1e6).toFixed(2)} M records/s, ${sync.mbPerSecond.toFixed(0)} MB/s, ${(sync.syncs / sync.seconds).toFixed(0)} fdatasync/s`);
  // durable acks: the CONFIGS alternating, REPS runs each; medians per offered rate
  const disk = diskFloor();
  const runs: Record<string, unknown>[] = [];
  for (let rep = 0; rep < REPS; rep++) for (const cfg of CONFIGS) runs.push(...await ackBench(cfg));
  const med = (xs: number[]): number => { const a = [...xs].sort((x, y) => x - y); return a[Math.floor((a.length - 1) / 2)]!; };
  const summary: Record<string, unknown> = {};
  for (const cfg of CONFIGS) {
    const mine = runs.filter((r) => r.config === cfg.name);
    const closed = mine.filter((r) => r.mode === 'closed loop').map((r) => r.ackedPerSecond as number);
    const rates: Record<string, unknown> = {};
    for (const rate of [10_000, 50_000, 100_000]) {
      const at = mine.filter((r) => r.offeredPerSecond === rate).map((r) => r.latencyUs as { p50: number; p99: number; p999: number });
      const waits = mine.filter((r) => r.offeredPerSecond === rate).map((r) => Math.round(r.engineCpuWaitMs as number));
      rates[rate] = { p50: med(at.map((x) => x.p50)), p99: med(at.map((x) => x.p99)), p999: med(at.map((x) => x.p999)), p99Runs: at.map((x) => Math.round(x.p99)), engineCpuWaitMsRuns: waits };
      log(`${cfg.name} ${rate}/s: median of ${at.length}: p50 ${med(at.map((x) => x.p50)).toFixed(0)} µs, p99 ${med(at.map((x) => x.p99)).toFixed(0)} µs (runs ${at.map((x) => x.p99.toFixed(0)).join(', ')}), p99.9 ${med(at.map((x) => x.p999)).toFixed(0)} µs; engine thread's CPU wait ${waits.join(', ')} ms`);
    }
    summary[cfg.name] = { scheduling: mine[0]?.scheduling, closedLoopAckedPerSecond: med(closed), openLoopLatencyUs: rates };
  }
  const acks = { summary, runs };
  const recovery = recoveryBench();
  const report = {
    bench: 'journal', date: new Date().toISOString(), node: process.version, machine: { cpu: cpus()[0]?.model, cores: cpus().length },
    append: { none, fsync: sync }, diskAlone: disk, acknowledged: acks, recovery,
    settings: { seconds: SECONDS, warmupSeconds: WARMUP, reps: REPS, engineRt: ENGINE_RT, ackDurability: ACK_DURABILITY, configs: CONFIGS.map((c) => c.name) },
    targets: { appendRecordsPerSecond: 1_000_000, durableAckedPerSecond: 100_000, ackP99Us: 2000, replayRecordsPerSecond: 2_000_000 },
  };
  if (outIdx >= 0) fs.writeFileSync(args[outIdx + 1]!, JSON.stringify(report, null, 2));
  if (json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}

try {
  await main();
} finally {
  for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
}
