/**
 * `npm run bench:feed`: the UDP feed's receive paths side by side in one run — AF_XDP (generic/SKB
 * mode, copy), the recvmmsg thread and Node's dgram — over a veth pair into a network namespace
 * (test/support/netns.ts), end to end into the FeedRing.
 *
 * Workload: a native sendmmsg thread inside the namespace (addon feedSendBurst) offers packets of
 * 64 bytes of UDP payload (MoldUDP64 header + a 'D' book delta + an 'S' system event: 2 messages
 * per packet, symbol 1) at each offered rate for --seconds, paced in batches of --send-batch;
 * every message carries the sender's CLOCK_REALTIME just before its sendmmsg.
 * Measured per path and rate: packets received/s, loss (packets offered − received), GAP-covered
 * messages, and wire-to-ring latency = tsRing − tsSend of every record still in the ring (the last
 * 2^20), p50/p99/p99.9/max (HDR), plus receive-stamp-to-ring (tsRing − tsRecv). Same host, same
 * clock, so no clock offset; the sender's batching is part of the figure (up to --send-batch
 * packets wait for one sendmmsg).
 * Checked before reporting: the ring holds records in strictly increasing seq, alternating D/S of
 * symbol 1 as sent, and no message beyond what was sent (a fast wrong answer fails the run).
 * Options: --rates 100000,350000,700000 · --seconds S (default 1) · --runs N (default 3; medians
 * reported, each run's figures in the JSON) · --paths xdp,recvmmsg,dgram · --send-batch N (default 8) ·
 * --out FILE (default build/bench-feed.json). Needs root (namespaces, XDP); prints why not otherwise.
 * The machine is shared: the load average is printed beside the figures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname } from 'node:path';
import * as hdr from 'hdr-histogram-js';
import { FEED_ENUMS } from '../../src/abi/records.js';
import { DgramReceiver } from '../../src/marketdata/feed/dgram-receiver.js';
import { FeedRing, recSeq, recSymbol, recTsRecvBig, recTsRingBig, recTsSendBig, recType } from '../../src/marketdata/feed/ring.js';
import { feedSendBurst, nativeFeedPaths, openNativeReceiver, type FeedReceiverStats } from '../../src/sys/feed-native.js';
import { createVethPair, netnsSupport, type VethPair } from '../../test/support/netns.js';

type PathName = 'xdp' | 'recvmmsg' | 'dgram';
const args = process.argv.slice(2);
const opt = (name: string, def: string): string => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1]! : def; };
const RATES = opt('rates', '100000,350000,700000').split(',').map(Number);
const SECONDS = Number(opt('seconds', '1'));
const RUNS = Number(opt('runs', '3'));
const SEND_BATCH = Number(opt('send-batch', '8'));
const OUT = opt('out', 'build/bench-feed.json');
const PATHS = opt('paths', 'xdp,recvmmsg,dgram').split(',') as PathName[];
const PORT = 32_100;
const RING_CAP = 1 << 20;

interface Result {
  path: PathName; rate: number; run: number;
  offeredPps: number; sentPackets: number; receivedPackets: number; lossPackets: number; lossPct: number;
  receivedPps: number; messages: number; gapMessages: number; ringOverruns: number;
  wireToRingNs: { p50: number; p99: number; p999: number; max: number; n: number };
  stampToRingNs: { p50: number; p99: number; p999: number };
  stampSource: string; detail?: string;
}

function quantiles(h: hdr.Histogram): { p50: number; p99: number; p999: number; max: number } {
  return { p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), p999: h.getValueAtPercentile(99.9), max: h.maxValue };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function one(pair: VethPair, path: PathName, rate: number, run: number): Promise<Result> {
  const ring = FeedRing.create(RING_CAP);
  const common = { bindAddress: pair.hostAddr, port: PORT, session: 'BENCH', gapTimeoutMs: 50 };
  let stats: () => FeedReceiverStats;
  let close: () => Promise<FeedReceiverStats>;
  if (path === 'dgram') {
    const rx = await DgramReceiver.open({ ring, ...common, recvBufferBytes: 16 << 20 });
    stats = () => rx.stats() as FeedReceiverStats;
    close = () => rx.close() as Promise<FeedReceiverStats>;
  } else {
    const rx = openNativeReceiver({ path, ring: ring.sab, ifname: pair.host, ...common, busyPollUs: 50 });
    if (!rx) throw new Error(`${path} is not available`);
    stats = () => rx.stats();
    close = async () => rx.close();
  }
  await sleep(50);
  const packets = Math.round(rate * SECONDS);
  const sent = (await feedSendBurst({ address: pair.hostAddr, port: PORT, netns: pair.ns, packets, rate, batch: SEND_BATCH, session: 'BENCH', startSeq: 1, heartbeat: true }))!;
  // let the receiver finish what is queued (bounded)
  const lastMsg = sent.nextSeq - 1;
  const end = Date.now() + 2_000;
  while (Date.now() < end) {
    const s = stats();
    if (s.lastSeq >= lastMsg && (s.held ?? 0) === 0) break;
    await sleep(10);
  }
  const st = await close();
  // check and measure what the ring holds
  const w = ring.writeSeq;
  const from = Math.max(0, w - RING_CAP);
  const lat = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60e9, numberOfSignificantValueDigits: 3 });
  const stl = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60e9, numberOfSignificantValueDigits: 3 });
  const dv = ring.dv;
  let prev = 0, gapMessages = 0, n = 0;
  const G = FEED_ENUMS.FeedMsgType.GAP, D = FEED_ENUMS.FeedMsgType.BOOK_DELTA, S = FEED_ENUMS.FeedMsgType.SYSTEM;
  for (let i = from; i < w; i++) {
    const o = ring.offsetOf(i);
    const seq = recSeq(dv, o), type = recType(dv, o);
    if (seq <= prev || seq > lastMsg) throw new Error(`${path} ${rate}/s: ring record ${i} has seq ${seq} after ${prev} (sent up to ${lastMsg})`);
    prev = seq;
    if (type === G) { gapMessages += dv.getUint32(o + 32, true); continue; }
    const want = seq % 2 === 1 ? D : S;
    if (type !== want || recSymbol(dv, o) !== 1) throw new Error(`${path} ${rate}/s: record seq ${seq} is type ${String.fromCharCode(type)} symbol ${recSymbol(dv, o)}, sent ${String.fromCharCode(want)} symbol 1`);
    const ring_ = recTsRingBig(dv, o);
    const wire = Number(ring_ - recTsSendBig(dv, o));
    const stamp = Number(ring_ - recTsRecvBig(dv, o));
    lat.recordValue(Math.max(1, wire));
    stl.recordValue(Math.max(1, stamp));
    n++;
  }
  const received = st.packets - st.heartbeats - (st.malformed ?? 0) - st.otherSession;
  const q = quantiles(lat), sq = quantiles(stl);
  const r: Result = {
    path, rate, run,
    offeredPps: Math.round(sent.pps), sentPackets: sent.sent, receivedPackets: received,
    lossPackets: sent.sent - received, lossPct: sent.sent ? 100 * (sent.sent - received) / sent.sent : 0,
    receivedPps: Math.round(received / sent.seconds), messages: st.messages, gapMessages: Math.max(gapMessages, st.unrecovered),
    ringOverruns: st.ringOverruns, wireToRingNs: { ...q, n }, stampToRingNs: { p50: sq.p50, p99: sq.p99, p999: sq.p999 },
    stampSource: st.stampSource, detail: st.detail,
  };
  lat.destroy(); stl.destroy();
  return r;
}

function median(xs: number[]): number { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]!; }

async function main(): Promise<void> {
  const why = netnsSupport();
  if (why) { process.stdout.write(`bench:feed skipped: ${why}\n`); return; }
  const avail = nativeFeedPaths();
  const paths = PATHS.filter((p) => p === 'dgram' || avail[p].available);
  for (const p of PATHS) if (p !== 'dgram' && !avail[p].available) process.stdout.write(`bench:feed: ${p} not available: ${avail[p].reason}\n`);
  const pair = createVethPair('bf');
  const load0 = loadavg();
  const results: Result[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      for (const rate of RATES) {
        for (const path of paths) {   // alternating paths inside each rate: same conditions
          const r = await one(pair, path, rate, run);
          results.push(r);
          process.stdout.write(`run ${run + 1} ${path.padEnd(8)} offered ${String(r.offeredPps).padStart(7)}/s  received ${String(r.receivedPps).padStart(7)}/s  loss ${r.lossPct.toFixed(2).padStart(6)}%  wire→ring p50 ${(r.wireToRingNs.p50 / 1e3).toFixed(1)} µs p99 ${(r.wireToRingNs.p99 / 1e3).toFixed(1)} µs p99.9 ${(r.wireToRingNs.p999 / 1e3).toFixed(1)} µs  (load ${loadavg()[0]!.toFixed(2)})\n`);
        }
      }
    }
  } finally {
    pair.close();
  }
  const summary = [];
  for (const rate of RATES) {
    for (const path of paths) {
      const rs = results.filter((r) => r.path === path && r.rate === rate);
      summary.push({
        path, offeredRate: rate, runs: rs.length,
        receivedPps: median(rs.map((r) => r.receivedPps)), lossPct: median(rs.map((r) => r.lossPct)),
        wireToRingP50Us: median(rs.map((r) => r.wireToRingNs.p50)) / 1e3, wireToRingP99Us: median(rs.map((r) => r.wireToRingNs.p99)) / 1e3,
        wireToRingP999Us: median(rs.map((r) => r.wireToRingNs.p999)) / 1e3, stampToRingP50Us: median(rs.map((r) => r.stampToRingNs.p50)) / 1e3,
        stampSource: rs[0]?.stampSource,
      });
    }
  }
  // the plain-TS peer (dgram) measured in the same run is the reference
  for (const row of summary) {
    const ref = summary.find((x) => x.path === 'dgram' && x.offeredRate === row.offeredRate);
    (row as Record<string, unknown>).receivedVsDgram = ref && ref.receivedPps > 0 ? +(row.receivedPps / ref.receivedPps).toFixed(2) : null;
  }
  const load1 = loadavg();
  console.table(summary.map((s) => ({ ...s, wireToRingP50Us: +s.wireToRingP50Us.toFixed(1), wireToRingP99Us: +s.wireToRingP99Us.toFixed(1), wireToRingP999Us: +s.wireToRingP999Us.toFixed(1), stampToRingP50Us: +s.stampToRingP50Us.toFixed(1), lossPct: +s.lossPct.toFixed(2) })));
  const cpu = cpus()[0];
  const report = {
    bench: 'feed', date: new Date().toISOString(), node: process.version,
    machine: { cpu: cpu?.model ?? 'unknown', cores: cpus().length, memoryBytes: totalmem(), platform: `${process.platform}-${process.arch}`, loadAverageBefore: load0, loadAverageAfter: load1 },
    workload: { payloadBytes: 64, messagesPerPacket: 2, seconds: SECONDS, rates: RATES, sendBatch: SEND_BATCH, runs: RUNS, sender: 'native sendmmsg thread in the namespace (feedSendBurst)', link: 'veth pair, receiver on the host end' },
    targets: { xdp: { pps: 700_000, loss: 0, p50Us: 4 }, recvmmsg: { pps: 350_000, loss: 0, p50Us: 15 } },
    memory: {
      rssBytes: process.memoryUsage().rss,
      ringBytes: 256 + RING_CAP * 72,
      xdpUmemBytes: 32768 * 2048,
      note: 'per receiver: the ring (shared), the AF_XDP umem (32,768 frames of 2 KiB), the native sequencer\'s hold window (65,536 × 72 B)',
    },
    summary, results,
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(`load average before ${load0.map((x) => x.toFixed(2)).join(' ')}, after ${load1.map((x) => x.toFixed(2)).join(' ')}; JSON: ${OUT}\n`);
}

main().catch((e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
