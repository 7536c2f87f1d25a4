/**
 * `npm run bench:gateway`: order entry over WebSocket (JSON and/or binary protocol) against
 * `tradsys serve --no-sim` in a separate process on loopback (a fresh server per protocol).
 * Bounded in count and time.
 *   1. throughput: C connections each keep W orders in flight until N orders are acked → orders/s;
 *   2. latency, open loop: orders sent on a fixed schedule at each offered rate; latency is measured
 *      from each order's *scheduled* send time to its ack (coordinated-omission corrected), HDR
 *      p50/p99/p99.9/max.
 * Orders alternate buy/sell limit GTC far from each other (no trades) and are cancelled in bulk
 * between phases by a fresh server. JSON: one order per text frame. Binary: the orders due at one
 * moment travel in one frame (≤ 80 per frame, under the 4 KiB frame limit); acks are matched by
 * reqId. Every order must be answered with an ack (a reject fails the binary run).
 * Options: --protocol json|binary|both (default both) · --orders N (default 50,000) ·
 * --rates 5000,20000,50000 · --conns C (4) · --window W (256) · --durability fsync|none (the
 * server's journal, default fsync: every ack waits for its batch's fdatasync) · --json ·
 * --latency-tracking on|off (the server's stage latency, default on: `serve --latency-tracking`) ·
 * --out FILE (the JSON report to a file) · --server-limiter off|on|default (the server's adaptive
 * concurrency limiter in phases 1-2; default off, so those phases measure the pipeline as before;
 * `default` passes no flag, for GATEWAY_CLI builds that predate it).
 *   3. overload (--overload; docs/operations.md "Adaptive concurrency"): the sustainable rate R is
 *      phase 1's closed-loop figure; then open loop at --overload-factor × R (default 2, the stress
 *      level of MiFID II RTS 6) for --overload-seconds (default 2) against a fresh server with
 *      `--limiter off` and one with `--limiter on`: goodput (acked orders/s, from the first send to
 *      the last answer), ack latency of accepted orders (from the scheduled send, HDR p50/p99/p99.9),
 *      shed fraction (orders answered `overloaded`), other rejects. Reported side by side and as
 *      `overload` in the JSON (new field; the fields above are unchanged).
 * Reported too: the server's CPU time per order in the closed-loop phase (all its threads, schedstat).
 * GC: the server runs with `--trace-gc`; per phase the bench reports its scavenges (count, median and longest
 * pause) and `heapBytesPerOrder`: bytes the server allocated on its JS heaps (all isolates: main
 * thread, engine thread, …) per order, from the trace (each GC's heap before it minus the heap
 * after the previous one). It undercounts by what was allocated after a phase's last GC (at most
 * one young generation), so it is a floor; compare builds with the same phase sizes.
 * Before/after: GATEWAY_CLI=path/to/other/build/dist/cli/main.js runs the server from another build;
 * GATEWAY_NODE_ARGS passes node flags to the server (e.g. "--cpu-prof --cpu-prof-dir=DIR").
 * Market-data fan-out: bench/pipeline/fanout.bench.ts (npm run bench:fanout).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import * as os from 'node:os';
import WebSocket from 'ws';
import { sign } from '../../src/gateway/auth.js';
import { BinaryWriter, decodeFrame } from '../../src/codec/binary-protocol.js';

const args = process.argv.slice(2);
const opt = (k: string, d: string): string => { const i = args.indexOf(k); return i >= 0 ? args[i + 1]! : d; };
const N = Number(opt('--orders', '50000'));
const DURABILITY = opt('--durability', 'fsync');
const RATES = opt('--rates', '5000,20000,50000').split(',').map(Number);
const PROTOCOL = opt('--protocol', 'both');
const OVERLOAD = args.includes('--overload');
const OVERLOAD_FACTOR = Number(opt('--overload-factor', '2'));
const OVERLOAD_SECONDS = Number(opt('--overload-seconds', '2'));
const SERVER_LIMITER = opt('--server-limiter', 'off');
if (!['off', 'on', 'default'].includes(SERVER_LIMITER)) throw new Error('--server-limiter must be off, on or default');
if (!(OVERLOAD_FACTOR > 0) || !(OVERLOAD_SECONDS > 0)) throw new Error('--overload-factor and --overload-seconds must be > 0');
const OUT = opt('--out', '');
const TRACKING = opt('--latency-tracking', 'on');
if (!['on', 'off'].includes(TRACKING)) throw new Error('--latency-tracking must be on or off');
if (!['json', 'binary', 'both'].includes(PROTOCOL)) throw new Error('--protocol must be json, binary or both');
const PER_FRAME = 80;
/** The server's CLI; GATEWAY_CLI=path/to/main.js runs another build (before/after comparisons), GATEWAY_NODE_ARGS adds node flags (e.g. --cpu-prof). */
const CLI = process.env.GATEWAY_CLI ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build', 'dist', 'cli', 'main.js');
const NODE_ARGS = (process.env.GATEWAY_NODE_ARGS ?? '').split(' ').filter((x) => x !== '');

/** ns all threads of process `pid` have run on a CPU (Linux schedstat; 0 elsewhere): an A/B on a shared machine compares this. */
function processCpuNs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    let t = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) t += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    return t;
  } catch { return 0; }
}

interface Server { proc: ChildProcess; ws: string; key: string; secret: string; gc: GcLine[] }

/** One `--trace-gc` line of the server: isolate, kind, heap used before and after (MB), pause (ms). */
interface GcLine { isolate: string; scavenge: boolean; before: number; after: number; pauseMs: number }
const GC_RE = /\[\d+:(0x[0-9a-f]+)\]\s+[\d.]+ ms: (Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact)[^\d]*([\d.]+) \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB, ([\d.]+) \/ [\d.]+ ms/;

/** GC of the server between two marks (indexes into s.gc): scavenges, longest scavenge, bytes allocated (a floor, see the header). */
function gcBetween(s: Server, from: number, to: number, orders: number): { scavenges: number; maxScavengeMs: number; medianScavengeMs: number; otherGcs: number; heapBytesPerOrder: number } {
  let scavenges = 0;
  const pauses: number[] = [];
  let maxScavengeMs = 0;
  let otherGcs = 0;
  let allocatedMb = 0;
  const lastAfter = new Map<string, number>();
  for (let i = 0; i < to; i++) {
    const g = s.gc[i]!;
    if (i >= from) {
      if (g.scavenge) { scavenges++; maxScavengeMs = Math.max(maxScavengeMs, g.pauseMs); pauses.push(g.pauseMs); } else otherGcs++;
      const prev = lastAfter.get(g.isolate);
      if (prev !== undefined) allocatedMb += Math.max(0, g.before - prev);
    }
    lastAfter.set(g.isolate, g.after);
  }
  pauses.sort((a, b) => a - b);
  const medianScavengeMs = pauses.length === 0 ? 0 : pauses[pauses.length >> 1]!;
  return { scavenges, maxScavengeMs, medianScavengeMs, otherGcs, heapBytesPerOrder: Math.round((allocatedMb * 1024 * 1024) / orders) };
}

async function startServer(limiter = SERVER_LIMITER): Promise<Server> {
  const limiterArgs = limiter === 'default' ? [] : ['--limiter', limiter];
  const proc = spawn(process.execPath, ['--trace-gc', ...NODE_ARGS, CLI, 'serve', '--no-sim', '--no-storage', '--max-open-orders', '0', '--durability', DURABILITY, '--port', '0', '--rate-limit', '10000000', ...limiterArgs, '--latency-tracking', TRACKING, '--data', mkdtempSync(join(tmpdir(), 'bench-gw-'))]);
  let out = '';
  let partial = '';
  const gc: GcLine[] = [];
  let started = false;
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`server did not start: ${out}`)), 30_000);
    proc.stdout!.on('data', (b: Buffer) => {
      const text = partial + b.toString();
      const lines = text.split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        const m = GC_RE.exec(l);
        if (m) { gc.push({ isolate: m[1]!, scavenge: m[2] === 'Scavenge', before: Number(m[3]), after: Number(m[4]), pauseMs: Number(m[5]) }); continue; }
        if (!started) out += l + '\n';
      }
      if (started) return;
      const u = /listening on (http:\/\/\S+)/.exec(out);
      const k = /key (tk_[0-9a-f]+) {2}secret ([0-9a-f]{64})/.exec(out);
      if (u && k) { started = true; clearTimeout(t); res({ proc, ws: u[1]!.replace('http', 'ws') + '/ws', key: k[1]!, secret: k[2]!, gc }); }
    });
  });
}

let lastTs = 0;
async function connect(s: Server, _n: number): Promise<WebSocket> {
  const ws = new WebSocket(s.ws);
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  // one key, several connections: timestamps must differ, or the server refuses the second
  // signature as a replay
  const ts = Math.max(Date.now(), lastTs + 1);
  lastTs = ts;
  ws.send(JSON.stringify({ op: 'auth', key: s.key, ts, sig: sign(s.secret, s.key, ts) }));
  const reply = await new Promise<{ ok?: boolean; reason?: string }>((r) => ws.once('message', (d) => r(JSON.parse(d.toString()) as { ok?: boolean })));
  if (reply.ok !== true) throw new Error(`authentication failed: ${String(reply.reason)}`);
  return ws;
}

function orderFrame(id: number): string {
  const buy = id % 2 === 0;
  return JSON.stringify({ op: 'order', clientOrderId: `o${id}`, symbol: 'AAPL', side: buy ? 'buy' : 'sell', type: 'limit', tif: 'gtc', price: buy ? '190.00' : '205.00', qty: '1' }); // passive both sides, inside AAPL's collar band around its reference price 190.00 ([171.00, 209.00])
}

async function throughput(s: Server, conns: number, window: number): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: conns }, (_, i) => connect(s, i)));
  let next = 0;
  let acked = 0;
  // Every connection of an account receives every execution report (docs/protocol.md "Who gets a
  // report"), so each connection counts only the answers to the orders it sent (`owner`): counting
  // every copy over-counted by up to the number of connections and ended the phase with orders
  // still in flight (their late acks then landed in the open-loop phase).
  const owner = new Uint8Array(N);
  const t0 = process.hrtime.bigint();
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`throughput phase stalled at ${acked} of ${N} acks`)), 120_000);
    sockets.forEach((ws, c) => {
      const send = (): void => { owner[next] = c; ws.send(orderFrame(next++)); };
      ws.once('close', (code, why) => { clearTimeout(timer); fail(new Error(`server closed a connection (${code} ${why.toString()}) after ${acked} acks`)); });
      ws.on('message', (d) => {
        const m = JSON.parse(d.toString()) as { type: string; clientOrderId?: string };
        if (m.type !== 'ack' && m.type !== 'reject') return;
        const id = Number(m.clientOrderId?.slice(1));
        if (!(id >= 0 && id < N) || owner[id] !== c) return;
        acked++;
        if (acked === N) { clearTimeout(timer); done(); }
        else if (next < N) send();
      });
      for (let i = 0; i < window && next < N; i++) send();
    });
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const ws of sockets) ws.close();
  return N / secs;
}

/** Waits (≤ 30 s) for the open loop's last ack, closes the connection and summarises the latencies. */
async function finishOpenLoop(ws: WebSocket, done: Promise<void>, rate: number, acked: () => number, h: hdr.Histogram): Promise<Record<string, number>> {
  let guard: NodeJS.Timeout | undefined;
  await Promise.race([done, new Promise((r) => { guard = setTimeout(r, 30_000); })]);
  clearTimeout(guard);
  ws.close();
  return { offeredPerSecond: rate, acked: acked(), p50Us: h.getValueAtPercentile(50) / 1000, p99Us: h.getValueAtPercentile(99) / 1000, p999Us: h.getValueAtPercentile(99.9) / 1000, maxUs: h.maxValue / 1000 };
}

async function openLoop(s: Server, rate: number, count: number): Promise<Record<string, number>> {
  const ws = await connect(s, 10 + RATES.indexOf(rate));
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60e9, numberOfSignificantValueDigits: 3 });
  const scheduled = new Float64Array(count);
  let acked = 0;
  const base = 10_000_000 + rate * 10; // clientOrderIds distinct from the throughput phase
  const done = new Promise<void>((res) => {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as { type: string; clientOrderId?: string };
      if (m.type !== 'ack' && m.type !== 'reject') return;
      const i = Number(m.clientOrderId!.slice(1)) - base;
      if (!(i >= 0 && i < count)) return; // another phase's order (every connection of the account gets every report)
      h.recordValue(Math.max(1, Math.round(performance.now() * 1e6 - scheduled[i]! * 1e6)));
      if (++acked === count) res();
    });
  });
  const start = performance.now() + 5;
  const interval = 1000 / rate;
  let i = 0;
  const deadline = start + (count / rate) * 1000 + 30_000;
  while (i < count && performance.now() < deadline) {
    const now = performance.now();
    while (i < count && start + i * interval <= now) { scheduled[i] = start + i * interval; ws.send(orderFrame(base + i)); i++; }
    await new Promise((r) => setImmediate(r));
  }
  return finishOpenLoop(ws, done, rate, () => acked, h);
}

// ── binary protocol ─────────────────────────────────────────────────────────────────────
const AAPL = 3; // instrument id of AAPL in the demo instruments (checked in connectBinary)
const writer = new BinaryWriter(8192);

async function connectBinary(s: Server): Promise<WebSocket> {
  const syms = await (await fetch(s.ws.replace('ws', 'http').replace(/\/ws$/, '/api/v1/symbols'))).json() as { id: number; symbol: string; tickSize: string }[];
  const aapl = syms.find((x) => x.symbol === 'AAPL');
  if (aapl?.id !== AAPL || aapl.tickSize !== '0.01') throw new Error('the demo instruments changed: AAPL must be instrument 3 with tick 0.01');
  const ws = new WebSocket(s.ws + '?protocol=binary');
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  const ts = Math.max(Date.now(), lastTs + 1);
  lastTs = ts;
  writer.auth(1, s.key, ts, sign(s.secret, s.key, ts));
  ws.send(writer.take()!);
  const reply = await new Promise<ReturnType<typeof decodeFrame>>((r) => ws.once('message', (d: Buffer) => r(decodeFrame(d, 'server'))));
  const a = reply[0];
  if (a?.kind !== 'auth' || !a.ok) throw new Error(`authentication failed: ${JSON.stringify(a)}`);
  return ws;
}

/** Appends order `id` (reqId = `tag`) to the shared writer: buy 190.00 / sell 205.00, 1 lot (passive; inside AAPL's collar band around its reference price 190.00). */
function binaryOrder(id: number, tag: number): void {
  const buy = id % 2 === 0;
  writer.order(tag, String(id + 1), AAPL, buy ? 0 : 1, 0, 0, buy ? 19_000 : 20_500, 1);
}

/** Counts acks in a server frame; throws on anything that is not an ack or a market-data message. */
function binaryAcks(d: Buffer, each?: (reqId: number) => void): number {
  let n = 0;
  for (const m of decodeFrame(d, 'server')) {
    if (m.kind === 'ack') { n++; each?.(m.reqId); } else if (m.kind === 'reject' || m.kind === 'error') throw new Error(`order refused: ${JSON.stringify(m)}`);
  }
  return n;
}

async function throughputBinary(s: Server, conns: number, window: number): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: conns }, () => connectBinary(s)));
  let next = 0;
  let acked = 0;
  const t0 = process.hrtime.bigint();
  // Every connection of an account receives every execution report (docs/protocol.md "Who gets
  // a report"): the sending connection's copy carries the order's reqId, the others' carry 0. So
  // each connection tags its orders with its own reqId (1 + its index) and counts only those acks.
  const sendUpTo = (ws: WebSocket, tag: number, k: number): void => {
    while (k > 0 && next < N) {
      const m = Math.min(k, PER_FRAME, N - next);
      for (let i = 0; i < m; i++) binaryOrder(next++, tag);
      ws.send(writer.take()!);
      k -= m;
    }
  };
  await new Promise<void>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`throughput phase stalled at ${acked} of ${N} acks`)), 120_000);
    sockets.forEach((ws, i) => {
      const tag = i + 1;
      ws.once('close', (code, why) => { clearTimeout(timer); fail(new Error(`server closed a connection (${code} ${why.toString()}) after ${acked} acks`)); });
      ws.on('message', (d: Buffer) => {
        let k = 0;
        try { binaryAcks(d, (reqId) => { if (reqId === tag) k++; }); } catch (e) { clearTimeout(timer); fail(e as Error); return; }
        acked += k;
        if (acked === N) { clearTimeout(timer); done(); } else if (k > 0) sendUpTo(ws, tag, k);
      });
      sendUpTo(ws, tag, window);
    });
  });
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  for (const ws of sockets) { ws.removeAllListeners('close'); ws.close(); }
  return N / secs;
}

async function openLoopBinary(s: Server, rate: number, count: number): Promise<Record<string, number>> {
  const ws = await connectBinary(s);
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60e9, numberOfSignificantValueDigits: 3 });
  const scheduled = new Float64Array(count);
  let acked = 0;
  const base = 10_000_000 + rate * 10;
  const done = new Promise<void>((res, rej) => {
    ws.on('message', (d: Buffer) => {
      const now = performance.now();
      try {
        binaryAcks(d, (i) => { h.recordValue(Math.max(1, Math.round((now - scheduled[i]!) * 1e6))); acked++; });
      } catch (e) { rej(e as Error); return; }
      if (acked === count) res();
    });
  });
  const start = performance.now() + 5;
  const interval = 1000 / rate;
  let i = 0;
  const deadline = start + (count / rate) * 1000 + 30_000;
  while (i < count && performance.now() < deadline) {
    const now = performance.now();
    let k = 0;
    while (i < count && start + i * interval <= now) {
      scheduled[i] = start + i * interval;
      binaryOrder(base + i, i);
      i++;
      if (++k === PER_FRAME) { ws.send(writer.take()!); k = 0; }
    }
    if (k > 0) ws.send(writer.take()!);
    await new Promise((r) => setImmediate(r));
  }
  return finishOpenLoop(ws, done, rate, () => acked, h);
}

// ── overload: open loop past the sustainable rate, limiter off and on ───────────────────────
interface OverloadResult {
  limiter: 'off' | 'on'; offeredPerSecond: number; sent: number; acked: number; shed: number; otherRejects: number; unanswered: number;
  seconds: number; goodputPerSecond: number; shedFraction: number; ackP50Us: number; ackP99Us: number; ackP999Us: number; ackMaxUs: number;
  /** How late the client itself sent, behind the schedule (p99 over orders, µs): large means the client (sharing the CPUs), not the server, set the pace. */
  sendLagP99Us: number;
}

/**
 * Open loop at `rate` for `seconds` against a fresh server with the limiter `off` or `on`: every
 * order's outcome (ack, `overloaded`, other reject) is counted; acked orders' latency from their
 * scheduled send (coordinated-omission corrected). Goodput: acks ÷ (last answer − first send).
 */
async function overloadRun(protocol: 'json' | 'binary', limiter: 'off' | 'on', rate: number, seconds: number): Promise<OverloadResult> {
  const s = await startServer(limiter);
  try {
    const count = Math.max(1, Math.round(rate * seconds));
    const ws = protocol === 'json' ? await connect(s, 0) : await connectBinary(s);
    const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60e9, numberOfSignificantValueDigits: 3 });
    const lag = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60e9, numberOfSignificantValueDigits: 3 });
    const scheduled = new Float64Array(count);
    const seen = new Uint8Array(count);
    let acked = 0; let shed = 0; let other = 0; let lastAnswer = 0;
    const base = 20_000_000;
    let finish: () => void = () => {};
    const done = new Promise<void>((res) => { finish = res; });
    const outcome = (i: number, kind: 0 | 1 | 2, now: number): void => {
      if (i < 0 || i >= count || seen[i] !== 0) return;
      seen[i] = 1;
      lastAnswer = now;
      if (kind === 0) { acked++; h.recordValue(Math.max(1, Math.round((now - scheduled[i]!) * 1e6))); } else if (kind === 1) shed++; else other++;
      if (acked + shed + other === count) finish();
    };
    if (protocol === 'json') {
      ws.on('message', (d) => {
        const now = performance.now();
        const m = JSON.parse(d.toString()) as { type: string; clientOrderId?: string; reason?: string };
        if ((m.type !== 'ack' && m.type !== 'reject') || m.clientOrderId === undefined) return;
        outcome(Number(m.clientOrderId.slice(1)) - base, m.type === 'ack' ? 0 : m.reason === 'overloaded' ? 1 : 2, now);
      });
    } else {
      ws.on('message', (d: Buffer) => {
        const now = performance.now();
        for (const m of decodeFrame(d, 'server')) {
          if (m.kind === 'ack') outcome(m.reqId, 0, now);
          else if (m.kind === 'reject') outcome(m.reqId, m.reason === 'overloaded' ? 1 : 2, now);
          else if (m.kind === 'error') outcome(m.reqId, 2, now);
        }
      });
    }
    const start = performance.now() + 5;
    const interval = 1000 / rate;
    let i = 0;
    while (i < count && performance.now() < start + seconds * 1000 + 30_000) {
      const now = performance.now();
      let k = 0;
      while (i < count && start + i * interval <= now) {
        scheduled[i] = start + i * interval;
        lag.recordValue(Math.max(1, Math.round((now - scheduled[i]!) * 1e6)));
        if (protocol === 'json') ws.send(orderFrame(base + i));
        else { binaryOrder(base + i, i); if (++k === PER_FRAME) { ws.send(writer.take()!); k = 0; } }
        i++;
      }
      if (k > 0) ws.send(writer.take()!);
      await new Promise((r) => setImmediate(r));
    }
    let guard: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise((r) => { guard = setTimeout(r, 30_000); })]);
    clearTimeout(guard);
    ws.close();
    const secs = Math.max(1e-3, (lastAnswer - start) / 1000);
    return {
      limiter, offeredPerSecond: rate, sent: i, acked, shed, otherRejects: other, unanswered: i - acked - shed - other, seconds: secs,
      goodputPerSecond: acked / secs, shedFraction: (shed / Math.max(1, i)),
      ackP50Us: h.getValueAtPercentile(50) / 1000, ackP99Us: h.getValueAtPercentile(99) / 1000, ackP999Us: h.getValueAtPercentile(99.9) / 1000, ackMaxUs: h.maxValue / 1000,
      sendLagP99Us: lag.getValueAtPercentile(99) / 1000,
    };
  } finally {
    s.proc.kill('SIGTERM');
  }
}

async function overload(protocol: 'json' | 'binary', sustainable: number): Promise<Record<string, unknown>> {
  const rate = Math.round(sustainable * OVERLOAD_FACTOR);
  const off = await overloadRun(protocol, 'off', rate, OVERLOAD_SECONDS);
  const on = await overloadRun(protocol, 'on', rate, OVERLOAD_SECONDS);
  const label = protocol === 'json' ? 'JSON' : 'binary';
  const row = (name: string, f: (r: OverloadResult) => string): string => `  ${name.padEnd(30)}${f(off).padStart(16)}${f(on).padStart(16)}\n`;
  const n = (x: number): string => Math.round(x).toLocaleString('en-US');
  process.stdout.write(`overload (${label}): open loop at ${OVERLOAD_FACTOR}× the sustainable ${n(sustainable)}/s = ${n(rate)}/s for ${OVERLOAD_SECONDS} s, durability ${DURABILITY}\n`);
  process.stdout.write(`  ${''.padEnd(30)}${'limiter off'.padStart(16)}${'limiter on'.padStart(16)}\n`);
  process.stdout.write(row('goodput (acked orders/s)', (r) => n(r.goodputPerSecond)));
  process.stdout.write(row('ack p50 of accepted (µs)', (r) => n(r.ackP50Us)));
  process.stdout.write(row('ack p99 of accepted (µs)', (r) => n(r.ackP99Us)));
  process.stdout.write(row('ack p99.9 of accepted (µs)', (r) => n(r.ackP999Us)));
  process.stdout.write(row('shed (overloaded) fraction', (r) => `${(r.shedFraction * 100).toFixed(1)} %`));
  process.stdout.write(row('other rejects · unanswered', (r) => `${r.otherRejects} · ${r.unanswered}`));
  process.stdout.write(row('client send lag p99 (µs)', (r) => n(r.sendLagP99Us)));
  return { protocol, sustainablePerSecond: sustainable, factor: OVERLOAD_FACTOR, offeredPerSecond: rate, seconds: OVERLOAD_SECONDS, off, on };
}

async function run(protocol: 'json' | 'binary', conns: number, window: number): Promise<Record<string, unknown>> {
  const s = await startServer();
  try {
    const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 300)); // the trace's lines of the phase arrive
    let g0 = s.gc.length;
    const cpu0 = processCpuNs(s.proc.pid);
    const tput = protocol === 'json' ? await throughput(s, conns, window) : await throughputBinary(s, conns, window);
    await settle();
    const serverCpuNsPerOrder = (processCpuNs(s.proc.pid) - cpu0) / N;
    const tputGc = gcBetween(s, g0, s.gc.length, N);
    const lat: Record<string, number>[] = [];
    for (const r of RATES) {
      const count = Math.min(N, r * 3);
      g0 = s.gc.length;
      const l = protocol === 'json' ? await openLoop(s, r, count) : await openLoopBinary(s, r, count);
      await settle();
      lat.push({ ...l, ...gcBetween(s, g0, s.gc.length, count) });
    }
    const label = protocol === 'json' ? 'JSON' : 'binary';
    const gcText = (g: { scavenges: number; maxScavengeMs: number; medianScavengeMs: number; heapBytesPerOrder: number }): string => `${g.scavenges} scavenges (median ${g.medianScavengeMs.toFixed(1)}, longest ${g.maxScavengeMs.toFixed(1)} ms), heap ≥ ${g.heapBytesPerOrder} B/order`;
    process.stdout.write(`gateway (${label} over WebSocket, loopback, server in its own process, durability ${DURABILITY}): ${Math.round(tput).toLocaleString('en-US')} orders/s acked (${conns} connections × ${window} in flight, ${N.toLocaleString('en-US')} orders); ${gcText(tputGc)}\n`);
    for (const l of lat) process.stdout.write(`  open loop ${l.offeredPerSecond!.toLocaleString('en-US')}/s: ack latency p50 ${l.p50Us!.toFixed(0)} µs · p99 ${l.p99Us!.toFixed(0)} µs · p99.9 ${l.p999Us!.toFixed(0)} µs · max ${l.maxUs!.toFixed(0)} µs (${l.acked} acked); ${gcText(l as unknown as { scavenges: number; maxScavengeMs: number; medianScavengeMs: number; heapBytesPerOrder: number })}\n`);
    return { benchmark: 'bench:gateway', date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, orders: N, protocol, durability: DURABILITY, latencyTracking: TRACKING, ackedOrdersPerSecond: tput, serverCpuNsPerOrder, heapBytesPerOrder: tputGc.heapBytesPerOrder, closedLoopGc: tputGc, openLoop: lat };
  } finally {
    s.proc.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  const conns = Number(opt('--conns', '4'));
  const window = Number(opt('--window', '256'));
  const reports: Record<string, unknown>[] = [];
  for (const p of PROTOCOL === 'both' ? (['json', 'binary'] as const) : [PROTOCOL as 'json' | 'binary']) {
    const r = await run(p, conns, window);
    if (OVERLOAD) r.overload = await overload(p, r.ackedOrdersPerSecond as number);
    reports.push(r);
  }
  const json = JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2) + '\n';
  if (args.includes('--json')) process.stdout.write(json);
  if (OUT !== '') writeFileSync(OUT, json);
}

main().catch((e) => { process.stderr.write(`bench:gateway: ${(e as Error).message}\n`); process.exit(1); });
