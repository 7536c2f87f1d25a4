/**
 * `npm run bench:pipeline`: commands from the main thread through the MPSC command ring to the
 * engine thread, events back through the SPMC event ring to a consumer on the main thread.
 * Reports commands/s end to end (median of runs), the engine thread's CPU time per command over
 * the timed passes (schedstat: what an A/B on a shared machine can compare), and the ring-to-ring latency of single commands
 * (p50/p99/p99.9, HDR; submit → its first event seen). Workload: the default generated mix.
 * Verified first: the events equal the in-process engine's. Options: --count N, --json,
 * --latency-tracking on|off (stage latency in the engine thread, src/monitoring/latency.ts: with
 * this option both settings stamp tsIn at submit, as the gateway does, so on and off differ only
 * in the tracking; without it, commands carry no tsIn, as before).
 */
import * as hdr from 'hdr-histogram-js';
import { EngineHost } from '../../src/engine/host.js';
import { Engine } from '../../src/engine/engine.js';
import { generate } from '../../src/workload/generator.js';
import { CMD_SIZE, RING_EVT_SIZE, RING_EVT_OFF } from '../../src/abi/records.js';
import { LatencyMonitor, PublishStamps } from '../../src/monitoring/latency.js';
import { readFileSync } from 'node:fs';

/** ns the thread `tid` has run on a CPU (Linux schedstat; 0 elsewhere): robust to other processes taking the CPU. */
function cpuNs(tid: number | null): number {
  if (tid === null) return 0;
  try { return Number(readFileSync(`/proc/${process.pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]); } catch { return 0; }
}

const args = process.argv.slice(2);
const countIdx = args.indexOf('--count');
const N = countIdx >= 0 ? Number(args[countIdx + 1]) : 1_000_000;
const json = args.includes('--json');
const ltIdx = args.indexOf('--latency-tracking');
const tracking = ltIdx >= 0 ? args[ltIdx + 1] : null;
if (tracking !== null && tracking !== 'on' && tracking !== 'off') throw new Error('--latency-tracking must be on or off');

/** FNV-style hash of an EVT record's words, except `cmd` (a batch index, which differs by batching). */
function hashEvt(v: DataView, p: number, h: number): number {
  for (let w = 0; w < 16; w++) if (w !== 11) h = Math.imul(h ^ v.getUint32(p + w * 4, true), 16777619) >>> 0;
  return h;
}

async function main(): Promise<void> {
  const recs = generate({ seed: 42, count: N, symbols: 8, mix: 'default' });
  const ref = new Engine({ symbols: 8, capacity: 1 << 20 });
  let refEvents = 0;
  let refHash = 0x811c9dc5;
  ref.submitRaw(recs, 0, N, (v, _b, k) => { for (let i = 0; i < k; i++) refHash = hashEvt(v, i * 64, refHash); refEvents += k; });
  const mon = tracking === 'on' ? new LatencyMonitor() : null;
  const latency = mon ? { channel: mon.channel().sab, publish: new PublishStamps().sab } : undefined;
  const host = await EngineHost.start({ engine: { symbols: 8, capacity: 1 << 20 }, commandSlots: 1 << 16, eventSlots: 1 << 18, batch: 4096, latency });
  const collect = mon ? setInterval(() => mon.collect(), 1000) : null;
  const submit = tracking !== null ? (at: number): boolean => host.submitRawNow(recs, at) : (at: number): boolean => host.submitRaw(recs, at);
  const reader = host.evtRing.join();
  const buf = new Uint8Array(RING_EVT_SIZE * 4096);
  const dv = new DataView(buf.buffer);
  let seen = 0;
  let hash = 0x811c9dc5;
  let verify = true;
  const drain = (): void => {
    const k = host.evtRing.poll(reader, buf, 0, 4096);
    if (verify) for (let i = 0; i < k; i++) hash = hashEvt(dv, i * RING_EVT_SIZE + RING_EVT_OFF.evtType, hash);
    seen += k;
  };
  let target = 0;
  const pass = (): number => {
    seen = 0;
    target += N;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) {
      while (!submit(i * CMD_SIZE)) drain();
      if ((i & 1023) === 0) drain();
    }
    // done when the engine has sequenced every command and the ring is empty
    while (host.lastSeq < target || host.evtRing.waitReady(reader, 5)) drain();
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  // pass 1 verifies (events hashed as they arrive); later passes are timed with a bare consumer.
  // Each pass replays the same ids, so passes 2+ run against the book the earlier ones left:
  // the engine answers them all the same way (rejects and trades included), which is the point.
  pass();
  if (hash !== refHash || seen !== refEvents) throw new Error('engine thread events differ from the in-process engine');
  verify = false;
  const cpu0 = cpuNs(host.threadId);
  const times = [pass(), pass(), pass()].sort((a, b) => a - b);
  const engineCpuNsPerCommand = (cpuNs(host.threadId) - cpu0) / (3 * N);
  const secs = times[1]!;
  // latency of single commands: submit, then wait for the first event of that command
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e10, numberOfSignificantValueDigits: 3 });
  const L = 20_000;
  for (let i = 0; i < L; i++) {
    const before = host.lastSeq;
    const s = process.hrtime.bigint();
    while (!submit((i % N) * CMD_SIZE)) drain();
    for (;;) {
      const k = host.evtRing.poll(reader, buf, 0, 4096);
      if (k > 0 && Number(dv.getBigUint64((k - 1) * RING_EVT_SIZE + RING_EVT_OFF.seq, true)) > before) break;
    }
    h.recordValue(Number(process.hrtime.bigint() - s));
  }
  if (collect) clearInterval(collect);
  await host.stop();
  mon?.collect();
  const out = {
    benchmark: 'bench:pipeline', latencyTracking: tracking, engineMatchCount: mon ? mon.histogram('engine_match', 'start').totalCount : null, date: new Date().toISOString(), node: process.version, commands: N, events: refEvents,
    commandsPerSecond: N / secs, seconds: secs, engineCpuNsPerCommand,
    roundTripNs: { p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), p999: h.getValueAtPercentile(99.9), max: h.maxValue },
  };
  process.stdout.write(`engine thread via rings: ${(out.commandsPerSecond / 1e6).toFixed(2)} M commands/s (${N.toLocaleString('en-US')} commands, ${refEvents.toLocaleString('en-US')} events, verified); `
    + `single-command round trip p50 ${out.roundTripNs.p50} ns, p99 ${out.roundTripNs.p99} ns, p99.9 ${out.roundTripNs.p999} ns\n`);
  if (json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
}

main().catch((e) => { process.stderr.write(`bench:pipeline: ${(e as Error).message}\n`); process.exit(1); });
