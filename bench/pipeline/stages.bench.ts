/**
 * Per-stage timings of the open-loop binary order path and of market data (issue 15, "what stands
 * in the way"): where the milliseconds between a client's order and its ack, and between the
 * engine's trade and a subscriber's receipt, are spent.
 *
 * The gateway runs in this process (src/app.ts `build`, journal `--durability`, no storage, no
 * risk or rate limit); a forked client process (this file with `client`) shares its clock base
 * (the server's epoch offset, src/domain/clock.ts: both stamp CLOCK_MONOTONIC + one offset, so
 * cross-process intervals are exact). The probe wraps three gateway methods to stamp:
 *   recv     BinarySession.onFrame entry (ws has read and parsed the frame);
 *   ringed   onFrame exit (checks, order entry, CMD record pushed on the command ring);
 *   tsInit   the engine thread's batch stamp, read from the ring event (the command taken);
 *   matched, journaled, published   the engine thread's batch after `Engine.runInbox`, after
 *            `JournalWriter.commit` (write; fdatasync with `--durability fsync`), and around
 *            `SpmcRing.publish` (its copy and the notify that wakes the gateway) (bench/pipeline/stages-engine-probe.ts, loaded into the engine
 *            thread before its module: the bench wraps worker_threads' Worker; it posts them
 *            per batch on a BroadcastChannel, keyed by tsInit);
 *   pump     EventPump.pump entry of the cycle that drained the order's A event (the main
 *            thread woke up);
 *   written  pump exit (read models, projections, reports encoded, every frame written to its
 *            socket: Connections.flushAll);
 * and the client stamps `sent` (just before ws.send) and `acked` (ack decoded). Stages: client send →
 * recv (loopback, ws's receiver, event-loop delay); recv → ringed; ringed → tsInit (ring wait);
 * tsInit → matched (engine) → journaled → pump (publish, notify, wake-up; the publish call's own
 * length beside it: the gateway may start pumping before the engine thread's notify returns);
 * pump → written; written → client. Market data: for each trade, tsInit → journaled → pump →
 * written (all subscribers' frames written) → each subscriber's receipt (MarketData.trade
 * stamped by tradeId).
 * The wrappers allocate (a BigInt per stamp): the probe adds a little garbage of its own; the
 * benchmarks (bench:gateway, bench:fanout) give the figures without it.
 * Workload: one trading connection, one order per frame on a fixed schedule at --rate orders/s for
 * --seconds (buy then sell 1 lot at 190.00 alternately: every sell trades with the buy before it),
 * --subs K binary subscribers on AAPL book + trades + ticker. Output: p50/p99/p99.9/max (µs) per
 * stage; `--json` prints them as JSON.
 *   node --import tsx bench/pipeline/stages.bench.ts --rate 5000 --seconds 3 --subs 100 --durability none
 */
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Worker, WorkerOptions } from 'node:worker_threads';
import WebSocket from 'ws';
import { build } from '../../src/app.js';
import { evtType, slotEvt, slotToken, slotTsInit } from '../../src/abi/views.js';
import { BinaryWriter, Channel, decodeFrame } from '../../src/codec/binary-protocol.js';
import { epochOffsetNs, nowNs, setEpochOffsetNs } from '../../src/domain/clock.js';
import { sign } from '../../src/gateway/auth.js';
import { EventPump } from '../../src/gateway/event-pump.js';
import { MarketData } from '../../src/gateway/market-data.js';
import { BinarySession } from '../../src/gateway/ws/binary.js';

const args = process.argv.slice(2);
const opt = (k: string, d: string): string => { const i = args.indexOf(k); return i >= 0 ? args[i + 1]! : d; };
const AAPL = 3;
const now = (): number => Number(nowNs()) / 1000; // µs since the epoch (double: ~0.25 µs resolution)

interface Setup { url: string; key: string; secret: string; offset: string; rate: number; seconds: number; subs: number }
interface ClientResult { sent: number[]; acked: number[]; scheduled: number[]; trades: number[][] } // trades: per subscriber [tradeId, µs, …]

function pct(xs: number[]): { p50: number; p99: number; p999: number; max: number; n: number } {
  const s = Float64Array.from(xs.filter((x) => Number.isFinite(x))).sort();
  const at = (q: number): number => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: s.length ? s[s.length - 1]! : NaN, n: s.length };
}

/** Loads stages-engine-probe.ts into the engine thread before its module (src/sys/spawn.ts boots TS workers with an eval'd import). */
function probeEngineThread(): void {
  const probe = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), 'stages-engine-probe.ts')).href;
  const wt = createRequire(import.meta.url)('node:worker_threads') as { Worker: typeof Worker };
  const W = wt.Worker;
  wt.Worker = class extends W {
    constructor(code: string | URL, opts?: WorkerOptions) {
      const engine = opts?.eval === true && typeof code === 'string' && /engine\/worker\.ts/.test(code);
      super(engine ? (code as string).replace(/return import\(("[^"]+")\);/, `return import(${JSON.stringify(probe)}).then(() => import($1));`) : code, opts);
    }
  } as typeof Worker;
  syncBuiltinESMExports();
}

async function server(): Promise<void> {
  probeEngineThread();
  const rate = Number(opt('--rate', '5000'));
  const seconds = Number(opt('--seconds', '3'));
  const subs = Number(opt('--subs', '0'));
  const durability = opt('--durability', 'none') as 'none' | 'fsync';
  const count = Math.round(rate * seconds);
  // server stamps, per reqId (order i has reqId i + 1) and per tradeId
  const recv = new Float64Array(count + 1).fill(NaN);
  const ringed = new Float64Array(count + 1).fill(NaN);
  const tsInit = new Float64Array(count + 1).fill(NaN);
  const pumpAt = new Float64Array(count + 1).fill(NaN);
  const written = new Float64Array(count + 1).fill(NaN);
  const trade = new Map<number, { tsInit: number; pump: number; written: number }>();
  // the engine thread's stamps per batch (stages-engine-probe.ts): tsInit → [matched, journaled, publish call, publish returned]
  const batches = new Map<number, [number, number, number, number]>();
  const bc = new BroadcastChannel('tradsys-stages');
  bc.onmessage = (m: MessageEvent): void => { const [t, a, j, p0, p1] = m.data as number[]; batches.set(t!, [a!, j!, p0!, p1!]); };
  let cycleStart = 0;
  const cycleOrders: number[] = [];
  const cycleTrades: number[] = [];

  const onFrame = BinarySession.prototype.onFrame;
  BinarySession.prototype.onFrame = function (this: BinarySession, c, data, isBinary) {
    const t0 = now();
    onFrame.call(this, c, data, isBinary);
    const t1 = now();
    if (data.length >= 16 && data[8] === 4) { const r = data.readUInt32LE(12); if (r > 0 && r <= count) { recv[r] = t0; ringed[r] = t1; } }
  };
  const P = EventPump.prototype as unknown as { pump(): number; onEvent(b: number, touched: Set<number>): void; dv: DataView };
  const pump = P.pump;
  P.pump = function (this: typeof P) {
    cycleStart = now();
    const n = pump.call(this);
    const end = now();
    for (const r of cycleOrders) written[r] = end;
    for (const t of cycleTrades) trade.get(t)!.written = end;
    cycleOrders.length = 0;
    cycleTrades.length = 0;
    return n;
  };
  const onEvent = P.onEvent;
  P.onEvent = function (this: typeof P, b: number, touched: Set<number>) {
    const type = evtType(this.dv, slotEvt(b));
    const r = slotToken(this.dv, b);
    if (type === 65 /* A */ && r > 0 && r <= count && Number.isNaN(tsInit[r]!)) {
      tsInit[r] = Number(slotTsInit(this.dv, b)) / 1000;
      pumpAt[r] = cycleStart;
      cycleOrders.push(r);
    }
    onEvent.call(this, b, touched);
  };
  const mdTrade = MarketData.prototype.trade;
  MarketData.prototype.trade = function (this: MarketData, ins, takerSide, tradeId, price, qty, px, q, ts) {
    trade.set(tradeId, { tsInit: Number(ts) / 1000, pump: cycleStart, written: NaN });
    cycleTrades.push(tradeId);
    mdTrade.call(this, ins, takerSide, tradeId, price, qty, px, q, ts);
  };

  const gw = await build({
    dataDir: mkdtempSync(join(tmpdir(), 'bench-stages-')), journal: { durability }, storage: 'off', risk: { maxOpenOrders: 0 },
    rateLimit: { perSecond: 10_000_000, burst: 10_000_000 }, logs: { stderr: false }, log: () => {},
  });
  try {
    const url = await gw.listen(0);
    const k = gw.keys.create(1, ['trade', 'read']);
    const child = fork(fileURLToPath(import.meta.url), ['client'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const res = await new Promise<ClientResult>((resolve, reject) => {
      child.once('message', (m) => resolve(m as ClientResult));
      child.once('exit', (c) => reject(new Error(`client exited (${c}) before reporting`)));
      child.send({ url, key: k.key, secret: k.secret, offset: epochOffsetNs().toString(), rate, seconds, subs } satisfies Setup);
    });
    child.kill();
    await new Promise((r) => setTimeout(r, 200)); // the engine thread's last posts
    bc.close();
    const eng = (k: 0 | 1 | 2 | 3): Float64Array => { const a = new Float64Array(count + 1).fill(NaN); for (let r = 1; r <= count; r++) { const b = batches.get(tsInit[r]!); if (b) a[r] = b[k]; } return a; };
    const matched = eng(0);
    const journaled = eng(1);
    const publishing = eng(2);
    const published = eng(3);
    const d = (a: ArrayLike<number>, b: ArrayLike<number>): number[] => Array.from({ length: count }, (_, i) => a[i + 1]! - b[i + 1]!);
    const sent = [NaN, ...res.sent];
    const acked = [NaN, ...res.acked];
    const sched = [NaN, ...res.scheduled];
    const orders = {
      'client send → server recv': pct(d(recv, sent)),
      'recv → ringed (decode, checks, ring push)': pct(d(ringed, recv)),
      'ringed → engine tsInit (ring wait)': pct(d(tsInit, ringed)),
      'tsInit → matched (engine thread, WASM)': pct(d(matched, tsInit)),
      'matched → journaled (write; fdatasync with fsync)': pct(d(journaled, matched)),
      'journaled → pump (publish: copy, notify; gateway wake-up)': pct(d(pumpAt, journaled)),
      '  of which the publish call (engine thread)': pct(d(published, publishing)),
      'tsInit → pump (all of the above)': pct(d(pumpAt, tsInit)),
      'pump → written (read models, reports, socket writes)': pct(d(written, pumpAt)),
      'written → client ack': pct(d(acked, written)),
      'total: sent → ack': pct(d(acked, sent)),
      'total: scheduled → ack (CO-corrected)': pct(d(acked, sched)),
    };
    const md: Record<string, ReturnType<typeof pct>> = {};
    if (subs > 0) {
      const eng: number[] = [];
      const pub: number[] = [];
      const wake: number[] = [];
      const pw: number[] = [];
      for (const t of trade.values()) {
        eng.push(t.pump - t.tsInit);
        pw.push(t.written - t.pump);
        const b = batches.get(t.tsInit);
        if (b) { pub.push(b[1] - t.tsInit); wake.push(t.pump - b[1]); }
      }
      const rx: number[] = [];
      const tot: number[] = [];
      for (const list of res.trades) for (let i = 0; i < list.length; i += 2) { const t = trade.get(list[i]!); if (t) { rx.push(list[i + 1]! - t.written); tot.push(list[i + 1]! - t.tsInit); } }
      md['trade tsInit → journaled (engine, journal)'] = pct(pub);
      md['journaled → pump (publish, gateway wake-up)'] = pct(wake);
      md['trade tsInit → pump'] = pct(eng);
      md['pump → all subscribers written'] = pct(pw);
      md['written → subscriber receipt'] = pct(rx);
      md['total: tsInit → receipt'] = pct(tot);
    }
    const lost = res.acked.filter((x) => !Number.isFinite(x)).length;
    if (args.includes('--json')) { process.stdout.write(JSON.stringify({ benchmark: 'bench:stages', date: new Date().toISOString(), node: process.version, rate, seconds, subs, durability, orders, marketData: md, unacked: lost }, null, 2) + '\n'); return; }
    const row = (k: string, v: ReturnType<typeof pct>): string => `  ${k.padEnd(56)} p50 ${v.p50.toFixed(0).padStart(7)} · p99 ${v.p99.toFixed(0).padStart(7)} · p99.9 ${v.p999.toFixed(0).padStart(7)} · max ${v.max.toFixed(0).padStart(7)} µs (${v.n})\n`;
    process.stdout.write(`stages: ${rate} orders/s for ${seconds} s, one order per frame, durability ${durability}, ${subs} subscribers${lost ? `, ${lost} unacked` : ''}\n`);
    for (const [k, v] of Object.entries(orders)) process.stdout.write(row(k, v));
    if (subs > 0) { process.stdout.write(`  market data (${trade.size} trades × ${subs} subscribers):\n`); for (const [k, v] of Object.entries(md)) process.stdout.write(row(k, v)); }
  } finally {
    await gw.close();
  }
}

async function client(s: Setup): Promise<void> {
  setEpochOffsetNs(BigInt(s.offset));
  const count = Math.round(s.rate * s.seconds);
  const open = async (): Promise<WebSocket> => {
    const ws = new WebSocket(s.url.replace('http', 'ws') + '/ws?protocol=binary');
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    return ws;
  };
  const w = new BinaryWriter(4096);
  const trades: number[][] = [];
  const subs = await Promise.all(Array.from({ length: s.subs }, open));
  await Promise.all(subs.map((ws, k) => {
    const list: number[] = [];
    trades.push(list);
    w.subscribe(1, AAPL, Channel.BOOK | Channel.TRADES | Channel.TICKER);
    ws.send(w.take()!);
    return new Promise<void>((r) => ws.once('message', () => {
      ws.on('message', (d: Buffer) => { const t = now(); for (const m of decodeFrame(d, 'server')) if (m.kind === 'trade') list.push(m.tradeId, t); });
      r();
    })).then(() => k);
  }));
  const ws = await open();
  const ts = Date.now();
  w.auth(1, s.key, ts, sign(s.secret, s.key, ts));
  ws.send(w.take()!);
  await new Promise((r) => ws.once('message', r));
  const sent = new Array<number>(count).fill(NaN);
  const acked = new Array<number>(count).fill(NaN);
  const scheduled = new Array<number>(count).fill(NaN);
  let n = 0;
  const done = new Promise<void>((res) => {
    ws.on('message', (d: Buffer) => {
      const t = now();
      for (const m of decodeFrame(d, 'server')) if (m.kind === 'ack' && m.reqId > 0 && m.reqId <= count) { acked[m.reqId - 1] = t; if (++n === count) res(); }
    });
  });
  const start = now() + 5_000;
  const interval = 1e6 / s.rate;
  for (let i = 0; i < count;) {
    const t = now();
    while (i < count && start + i * interval <= t) {
      scheduled[i] = start + i * interval;
      w.order(i + 1, String(1_000_000 + i), AAPL, i % 2, 0, 0, 19_000, 1);
      const f = w.take()!;
      sent[i] = now(); // before the send: the write can wake the server, which may run before this process does again
      ws.send(f);
      i++;
    }
    await new Promise((r) => setImmediate(r));
  }
  await Promise.race([done, new Promise((r) => setTimeout(r, 10_000))]);
  await new Promise((r) => setTimeout(r, 200)); // the last trades reach the subscribers
  process.send!({ sent, acked, scheduled, trades } satisfies ClientResult);
  for (const x of [ws, ...subs]) x.close();
}

if (process.argv[2] === 'client') process.once('message', (m) => { client(m as Setup).catch((e) => { process.stderr.write(`stages client: ${(e as Error).stack}\n`); process.exit(1); }); });
else server().then(() => process.exit(0), (e) => { process.stderr.write(`bench:stages: ${(e as Error).stack}\n`); process.exit(1); });
