/**
 * `npm run bench:fanout`: market-data fan-out from `tradsys serve` to many WebSocket subscribers,
 * with and without batching. Three processes on loopback, bounded in count and time:
 *   - the server: `tradsys serve --no-sim --no-storage --durability none` in its own process
 *     (a fresh one per run; `--binary-frame-bytes 1` for the unbatched binary mode);
 *   - the subscribers: bench/pipeline/fanout-subscribers.ts, one forked process holding N
 *     connections, each subscribed to book + trades + ticker of every benchmark symbol;
 *   - the driver (this process): one authenticated binary connection streaming orders at a fixed
 *     rate for a fixed time.
 * Modes: `binary` = batched (everything a connection gets in one pump cycle goes in one frame, up
 * to 32 KiB); `binary-unbatched` = the same encoding, one message per frame; `json` = one message
 * per text frame.
 * Event = one book level in a bookDelta or snapshot (a delta changing k levels counts k), one
 * trade, one ticker; counted by decoding every frame in the subscriber process (see there).
 * Delivered events/s = events received by all subscribers ÷ (last message received − start). The
 * offered load is fixed, so a case that keeps up delivers it in about --seconds; one that cannot
 * keeps delivering a backlog after the driver stops: subscribers wait (no message for 300 ms and
 * the verifier at the server's book seq) at most 10 s more, and such a
 * run is reported as BACKLOG and measured up to then (its books are incomplete, so they are not
 * compared; the server may be too busy to answer /metrics, then its counters are unknown).
 * Workload (seed --seed, mulberry32), per order, symbol round robin over --symbols: 45% GTC limit
 * 1..20 ticks behind a mid price (starting at the instrument's reference price, inside its collar
 * band; random side, 1..10 lots), 35% cancel of the symbol's oldest
 * driver order by clientOrderId (a passive order if none), 20% IOC 2 ticks through the mid (1..15
 * lots); the mid moves ±1 tick with probability 2% per order. Books are first seeded with 20 levels
 * a side (5 lots each). Orders are sent as due every ~1 ms, ≤ 80 per frame.
 * Checks before reporting (a failure fails the run): the verifier connection's books (snapshot +
 * deltas, strict decoding) equal the server's books (GET /api/v1/book, depth 1000) after the run;
 * no delta sequence gap and no malformed frame; every subscriber received the same number of
 * events unless the server skipped deltas for a slow consumer (then reported, not failed); the
 * driver's orders got no reject other than `unknown_order` (cancels of orders already filled) and
 * `busy` (command ring full; counted in the JSON).
 * Reported per run: delivery latency (engine tsInit → receipt of every trade by every subscriber,
 * HDR, `latencyUs` p50/p99/p99.9; the gateway → client part from the tickers' gateway stamp),
 * server heap allocation per event and per order (node --trace-gc, all isolates), events/s, frames/s, MB/s, events per frame, server RSS before and after
 * connecting the subscribers (→ KiB per connection) and after the load, server CPU (utime + stime
 * of all its threads, /proc/PID/stat) and subscriber-process CPU as a share of one core, slow
 * consumer resyncs/closes; medians of --reps runs per case; load average and machine.
 * Options: --subs 100,1000 · --sub-procs 1 (subscriber processes, the connections split evenly) · --modes binary,binary-unbatched,json · --seconds 5 · --rate 20000
 * (orders/s) · --reps 3 · --symbols AAPL,MSFT · --channels book,trades,ticker · --seed 42 · --json ·
 * --out FILE.json. FANOUT_DEBUG=1 prints each phase's time on stderr.
 * Known limitations: on a 2-core machine the three processes share the cores, so the figures are a
 * floor for the server; one subscriber process decodes for all N connections.
 */
import { spawn, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as os from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { sign } from '../../src/gateway/auth.js';
import { BinaryWriter, decodeFrame } from '../../src/codec/binary-protocol.js';
import { prng } from '../../src/workload/generator.js';

const args = process.argv.slice(2);
const opt = (k: string, d: string): string => { const i = args.indexOf(k); return i >= 0 ? args[i + 1]! : d; };
const SUBS = opt('--subs', '100,1000').split(',').map(Number);
const MODES = opt('--modes', 'binary,binary-unbatched,json').split(',') as Mode[];
const SECONDS = Number(opt('--seconds', '5'));
const RATE = Number(opt('--rate', '20000'));
const REPS = Number(opt('--reps', '3'));
const SYMBOLS = opt('--symbols', 'AAPL,MSFT').split(',');
const CHANNELS = opt('--channels', 'book,trades,ticker').split(',');
const SEED = Number(opt('--seed', '42'));
const OUT = opt('--out', '');
/** Subscriber processes (the N connections split evenly); each decodes its own connections' frames. */
const SUB_PROCS = Number(opt('--sub-procs', '1'));
type Mode = 'binary' | 'binary-unbatched' | 'json';
for (const m of MODES) if (!['binary', 'binary-unbatched', 'json'].includes(m)) throw new Error(`--modes: unknown mode ${m}`);
for (const c of CHANNELS) if (!['book', 'trades', 'ticker'].includes(c)) throw new Error(`--channels: unknown channel ${c}`);
if (!(Number.isInteger(SUB_PROCS) && SUB_PROCS >= 1 && SUB_PROCS <= 8)) throw new Error('--sub-procs: 1..8');
if (!(SECONDS > 0 && SECONDS <= 60 && RATE > 0 && RATE <= 1e6 && REPS >= 1 && SUBS.every((n) => n >= 1 && n <= 5000))) throw new Error('bounds: --seconds 0..60, --rate 1..1e6, --subs 1..5000, --reps ≥ 1');
const HERE = dirname(fileURLToPath(import.meta.url));
/** The server's CLI; FANOUT_CLI=path/to/main.js runs another build (before/after comparisons). */
const CLI = process.env.FANOUT_CLI ?? join(HERE, '..', '..', 'build', 'dist', 'cli', 'main.js');
const PER_FRAME = 80;
const CLK_TCK = 100; // Linux USER_HZ
/** After the driver stops, subscribers wait at most this long for the last messages (backlog). */
const DRAIN_MS = 10_000;

interface Server { proc: ChildProcess; http: string; ws: string; key: string; secret: string; data: string; gc: GcTally }

/**
 * Heap allocation of the server, from `node --trace-gc` on its stdout: every GC line of every
 * isolate (gateway main thread, engine thread, workers) gives the heap before and after
 * ("Scavenge 12.3 (20.1) -> 4.5 (21.0) MB"); the bytes a GC freed were allocated since the one
 * before, so the sum over a window is what the server allocated in it (give or take one young
 * generation, a few MB; per isolate and in total).
 */
interface GcTally { counting: boolean; freedBytes: Map<string, number>; gcs: number; maxScavengeMs: number }
const GC_LINE = /^\[(\d+:0x[0-9a-f]+)\]\s+\d+ ms: (Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact|Mark-Compact \(reduce\))[^\d]*([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+)/;
function tallyGc(t: GcTally, text: string): void {
  for (const line of text.split('\n')) {
    const m = GC_LINE.exec(line);
    if (!m || !t.counting) continue;
    t.gcs++;
    t.freedBytes.set(m[1]!, (t.freedBytes.get(m[1]!) ?? 0) + Math.max(0, Number(m[3]) - Number(m[5])) * 2 ** 20);
    if (m[2] === 'Scavenge') t.maxScavengeMs = Math.max(t.maxScavengeMs, Number(m[7]));
  }
}

async function startServer(mode: Mode): Promise<Server> {
  const data = mkdtempSync(join(tmpdir(), 'bench-fanout-'));
  const flags = ['serve', '--no-sim', '--no-storage', '--durability', 'none', '--port', '0', '--rate-limit', '10000000', '--max-open-orders', '0', '--data', data];
  if (mode === 'binary-unbatched') flags.push('--binary-frame-bytes', '1');
  // FANOUT_NODE_ARGS: extra node flags for the server (e.g. --cpu-prof --cpu-prof-dir=DIR)
  const nodeArgs = (process.env.FANOUT_NODE_ARGS ?? '').split(' ').filter((x) => x !== '');
  const proc = spawn(process.execPath, ['--trace-gc', ...nodeArgs, CLI, ...flags], { stdio: ['ignore', 'pipe', 'pipe'] });
  const gc: GcTally = { counting: false, freedBytes: new Map(), gcs: 0, maxScavengeMs: 0 };
  let out = '';
  proc.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  return new Promise((res, rej) => {
    const t = setTimeout(() => { proc.kill('SIGKILL'); rej(new Error(`server did not start: ${out}`)); }, 30_000);
    proc.once('exit', (c) => { clearTimeout(t); rej(new Error(`server exited (${c}): ${out}`)); });
    let started = false;
    proc.stdout!.on('data', (b: Buffer) => {
      if (started) { tallyGc(gc, b.toString()); return; }
      out += b.toString();
      const u = /listening on (http:\/\/\S+)/.exec(out);
      const k = /key (tk_[0-9a-f]+) {2}secret ([0-9a-f]{64})/.exec(out);
      if (u && k) { started = true; clearTimeout(t); proc.removeAllListeners('exit'); res({ proc, http: u[1]!, ws: u[1]!.replace('http', 'ws') + '/ws', key: k[1]!, secret: k[2]!, data, gc }); }
    });
  });
}

async function stopServer(s: Server): Promise<void> {
  if (s.proc.exitCode !== null || s.proc.signalCode !== null) { rmSync(s.data, { recursive: true, force: true }); return; }
  const exited = new Promise<void>((r) => s.proc.once('exit', () => r()));
  s.proc.kill('SIGTERM');
  const t = setTimeout(() => { process.stderr.write(`server did not stop in 10 s: killed\n`); s.proc.kill('SIGKILL'); }, 10_000);
  await exited;
  clearTimeout(t);
  rmSync(s.data, { recursive: true, force: true });
}

/** Resident set size of a process in bytes (/proc/PID/status VmRSS). */
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** CPU seconds (user + system, all threads) of a process (/proc/PID/stat fields 14 and 15). */
function cpuSeconds(pid: number): number {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** The server's /metrics counters; null if it does not answer within `timeoutMs` (a pump busy with a backlog). */
async function metrics(s: Server, timeoutMs = 5_000): Promise<Record<string, number> | null> {
  let text: string;
  try { text = await (await fetch(`${s.http}/metrics`, { signal: AbortSignal.timeout(timeoutMs) })).text(); } catch { return null; }
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) { const m = /^(tradsys_\w+) (\d+(?:\.\d+)?)$/.exec(line); if (m) out[m[1]!] = Number(m[2]); }
  return out;
}

// ── driver ───────────────────────────────────────────────────────────────────────────────

interface Ins { id: number; symbol: string; tickSize: string; referencePrice: string | null }

class Driver {
  private readonly w = new BinaryWriter(8192);
  private nextCid = 1;
  private readonly mid: number[];
  private readonly live: number[][];
  private readonly rnd: () => number;
  sent = 0;
  acks = 0;
  fills = 0;
  readonly rejects = new Map<string, number>();
  errors: string[] = [];

  private constructor(private readonly ws: WebSocket, private readonly ins: Ins[], seed: number) {
    this.rnd = prng(seed);
    // start at each instrument's reference price (inside its collar band), else 10,000 ticks
    this.mid = ins.map((i) => (i.referencePrice === null ? 10_000 : Math.round(Number(i.referencePrice) / Number(i.tickSize))));
    this.live = ins.map(() => []);
    ws.on('message', (d: Buffer) => {
      try {
        for (const m of decodeFrame(d, 'server')) {
          if (m.kind === 'ack') this.acks++;
          else if (m.kind === 'fill') this.fills++;
          else if (m.kind === 'reject') this.rejects.set(m.reason, (this.rejects.get(m.reason) ?? 0) + 1);
          else if (m.kind === 'error') this.errors.push(m.code);
        }
      } catch (e) { this.errors.push((e as Error).message); }
    });
  }

  static async connect(s: Server, ins: Ins[], seed: number): Promise<Driver> {
    const ws = new WebSocket(s.ws + '?protocol=binary', { perMessageDeflate: false });
    await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
    const w = new BinaryWriter(256);
    const ts = Date.now();
    w.auth(1, s.key, ts, sign(s.secret, s.key, ts));
    ws.send(w.take()!);
    const reply = await new Promise<ReturnType<typeof decodeFrame>>((r) => ws.once('message', (d: Buffer) => r(decodeFrame(d, 'server'))));
    const a = reply[0];
    if (a?.kind !== 'auth' || !a.ok) throw new Error(`driver authentication failed: ${JSON.stringify(a)}`);
    return new Driver(ws, ins, seed);
  }

  private passive(k: number, buy: boolean, price: number, qty: number): void {
    const cid = this.nextCid++;
    this.live[k]!.push(cid);
    this.w.order(0, String(cid), this.ins[k]!.id, buy ? 0 : 1, 0, 0, price, qty);
  }

  /** 20 levels a side, 5 lots each, on every symbol; resolves once all are acknowledged. */
  async seed(): Promise<void> {
    const before = this.acks;
    let n = 0;
    for (let k = 0; k < this.ins.length; k++) {
      for (let l = 1; l <= 20; l++) { this.passive(k, true, this.mid[k]! - l, 5); this.passive(k, false, this.mid[k]! + l, 5); n += 2; }
      this.ws.send(this.w.take()!);
    }
    const deadline = Date.now() + 10_000;
    while (this.acks - before < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    if (this.acks - before < n) throw new Error(`seeding: ${this.acks - before} of ${n} orders acknowledged`);
  }

  private one(): void {
    const k = this.sent % this.ins.length;
    const r = this.rnd();
    const u = this.rnd();
    if (this.rnd() < 0.02) this.mid[k]! += this.rnd() < 0.5 ? 1 : -1;
    const mid = this.mid[k]!;
    const buy = u < 0.5;
    const live = this.live[k]!;
    if (r < 0.45 || (r < 0.8 && live.length === 0)) this.passive(k, buy, buy ? mid - 1 - Math.floor(this.rnd() * 20) : mid + 1 + Math.floor(this.rnd() * 20), 1 + Math.floor(this.rnd() * 10));
    else if (r < 0.8) this.w.cancel(0, String(live.shift()!), 0);
    else this.w.order(0, String(this.nextCid++), this.ins[k]!.id, buy ? 0 : 1, 0, 1, buy ? mid + 2 : mid - 2, 1 + Math.floor(this.rnd() * 15));
    this.sent++;
  }

  /** Sends RATE orders/s for `seconds`, as due every ~1 ms, ≤ PER_FRAME per frame. */
  async run(rate: number, seconds: number): Promise<number> {
    const start = performance.now();
    const end = start + seconds * 1000;
    const base = this.sent;
    for (;;) {
      const now = performance.now();
      const due = Math.floor(((Math.min(now, end) - start) / 1000) * rate) - (this.sent - base);
      for (let i = 0; i < due; i++) {
        this.one();
        if ((i + 1) % PER_FRAME === 0) this.ws.send(this.w.take()!);
      }
      if (due % PER_FRAME !== 0) this.ws.send(this.w.take()!);
      if (now >= end) break;
      await new Promise((r) => setTimeout(r, 1));
    }
    return this.sent - base;
  }

  close(): void { this.ws.terminate(); }
}

// ── subscriber process ───────────────────────────────────────────────────────────────────
class Subscribers {
  private readonly pending: ((m: Record<string, unknown>) => void)[] = [];
  private constructor(readonly proc: ChildProcess) {
    proc.on('message', (m) => this.pending.shift()?.(m as Record<string, unknown>));
  }
  static start(): Subscribers {
    return new Subscribers(fork(join(HERE, 'fanout-subscribers.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }
  ask(m: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`subscriber process: no answer to ${String(m.cmd)} within ${timeoutMs} ms`)), timeoutMs);
      this.pending.push((r) => { clearTimeout(t); if (r.ok === 'error') rej(new Error(`subscriber process: ${String(r.message)}`)); else res(r); });
      this.proc.send(m);
    });
  }
  async close(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.send({ cmd: 'close' });
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(t);
  }
}

/** Several subscriber processes behind one `ask`: `open` splits the connections, `stop` merges the counts and histograms. */
class SubscriberPool {
  private constructor(private readonly ps: Subscribers[]) {}
  static start(k: number): SubscriberPool { return new SubscriberPool(Array.from({ length: k }, () => Subscribers.start())); }
  get pids(): number[] { return this.ps.map((p) => p.proc.pid!); }
  async ask(m: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>> {
    if (m.cmd === 'open') {
      const n = m.n as number;
      const k = this.ps.length;
      await Promise.all(this.ps.map((p, i) => p.ask({ ...m, n: Math.floor(n / k) + (i < n % k ? 1 : 0) }, timeoutMs)));
      return { ok: 'open' };
    }
    const rs = await Promise.all(this.ps.map((p) => p.ask(m, timeoutMs)));
    if (m.cmd !== 'stop' || rs.length === 1) return rs[0]!;
    const sum = (f: string): number => rs.reduce((a, r) => a + (r[f] as number), 0);
    const out: Record<string, unknown> = { ...rs[0]! };
    for (const f of ['events', 'frames', 'bytes', 'levels', 'trades', 'tickers', 'deltas', 'snapshots', 'gaps', 'errors', 'closed', 'subscriberCpuSeconds']) out[f] = sum(f);
    out.drained = rs.every((r) => r.drained === true);
    out.seconds = Math.max(...rs.map((r) => r.seconds as number));
    out.minEventsPerSubscriber = Math.min(...rs.map((r) => r.minEventsPerSubscriber as number));
    out.maxEventsPerSubscriber = Math.max(...rs.map((r) => r.maxEventsPerSubscriber as number));
    out.closeCodes = [...new Set(rs.flatMap((r) => r.closeCodes as number[]))];
    const merged = (k: 'latency' | 'gatewayToClient'): hdr.Histogram => {
      const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600e6, numberOfSignificantValueDigits: 3 });
      for (const r of rs) h.add(hdr.decodeFromCompressedBase64((r.histogramsBase64 as Record<string, string>)[k]!));
      return h;
    };
    const l = merged('latency');
    const g = merged('gatewayToClient');
    out.latencyUs = { p50: l.getValueAtPercentile(50), p99: l.getValueAtPercentile(99), p999: l.getValueAtPercentile(99.9), max: l.maxValue, samples: l.totalCount, negative: rs.reduce((a, r) => a + (r.latencyUs as { negative: number }).negative, 0) };
    out.gatewayToClientUs = { p50: g.getValueAtPercentile(50), p99: g.getValueAtPercentile(99), p999: g.getValueAtPercentile(99.9), samples: g.totalCount };
    return out;
  }
  async close(): Promise<void> { await Promise.all(this.ps.map((p) => p.close())); }
}

// ── one run ──────────────────────────────────────────────────────────────────────────────
type Levels = [number, number][];

/** The server's book of `ins` in ticks and lots (GET /api/v1/book, depth 1000). */
async function serverBook(s: Server, ins: Ins & { lotSize: string }): Promise<{ bids: Levels; asks: Levels }> {
  const b = await (await fetch(`${s.http}/api/v1/book/${ins.symbol}?depth=1000`)).json() as { bids: [string, string][]; asks: [string, string][] };
  const conv = (xs: [string, string][]): Levels => xs.map(([p, q]) => [Math.round(Number(p) / Number(ins.tickSize)), Math.round(Number(q) / Number(ins.lotSize))]);
  return { bids: conv(b.bids), asks: conv(b.asks) };
}

async function runOnce(mode: Mode, n: number, rep: number): Promise<Record<string, unknown>> {
  const dbg = (x: string): void => { if (process.env.FANOUT_DEBUG) process.stderr.write(`[${(performance.now() / 1000).toFixed(2)}] ${x}\n`); };
  const s = await startServer(mode);
  const subs = SubscriberPool.start(SUB_PROCS);
  let driver: Driver | null = null;
  try {
    const all = await (await fetch(`${s.http}/api/v1/symbols`)).json() as (Ins & { lotSize: string })[];
    const ins = SYMBOLS.map((x) => { const i = all.find((y) => y.symbol === x); if (!i) throw new Error(`--symbols: unknown symbol ${x}`); return i; });
    dbg('server up');
    driver = await Driver.connect(s, ins, SEED + rep);
    dbg('driver connected');
    await driver.seed();
    await new Promise((r) => setTimeout(r, 200));
    const pid = s.proc.pid!;
    const rssBefore = rss(pid);
    dbg('seeded');
    await subs.ask({ cmd: 'open', url: s.ws, n, protocol: mode === 'json' ? 'json' : 'binary', symbols: ins.map((i) => ({ id: i.id, symbol: i.symbol })), channels: CHANNELS }, 120_000);
    await new Promise((r) => setTimeout(r, 300));
    const rssConnected = rss(pid);
    dbg('subscribers connected');
    const m0 = await metrics(s, 30_000);
    if (m0 === null) throw new Error('the server did not answer /metrics within 30 s');
    await subs.ask({ cmd: 'start' }, 5_000);
    s.gc.counting = true;
    const cpu0 = cpuSeconds(pid);
    const t0 = performance.now();
    const orders = await driver.run(RATE, SECONDS);
    const sendSeconds = (performance.now() - t0) / 1000;
    dbg('load sent');
    const r = await subs.ask({ cmd: 'stop', quietMs: 300, maxWaitMs: DRAIN_MS, check: { http: s.http, symbols: ins.map((i) => ({ id: i.id, symbol: i.symbol })) } }, DRAIN_MS + 10_000);
    const cpu1 = cpuSeconds(pid);
    s.gc.counting = false;
    const wall = (performance.now() - t0) / 1000;
    const rssAfter = rss(pid);
    dbg(`stopped (drained: ${String(r.drained)})`);
    // a server still sending a backlog catches up at once when its subscribers are gone
    await subs.close();
    const m1 = await metrics(s);
    // checks: a fast wrong answer is a failure
    const problems: string[] = [];
    const drained = r.drained === true;
    if ((r.gaps as number) > 0) problems.push(`${String(r.gaps)} delta sequence gaps`);
    if ((r.errors as number) > 0) problems.push(`${String(r.errors)} malformed frames`);
    if (driver.errors.length > 0) problems.push(`driver got errors: ${driver.errors.slice(0, 3).join(', ')}`);
    const badRejects = [...driver.rejects].filter(([k]) => k !== 'unknown_order' && k !== 'busy');
    if (badRejects.length > 0) problems.push(`driver orders rejected: ${JSON.stringify(badRejects)}`);
    const books = r.verifierBooks as { key: number | string; bids: Levels; asks: Levels }[];
    // a backlogged run (not drained within DRAIN_MS) is measured up to then; its books are incomplete
    for (const i of drained && m1 ? ins : []) {
      const mine = books.find((b) => b.key === i.id || b.key === i.symbol);
      const theirs = await serverBook(s, i);
      const norm = (xs: Levels, desc: boolean): string => JSON.stringify([...xs].map(([p, q]) => [mode === 'json' ? Math.round(p / Number(i.tickSize)) : p, mode === 'json' ? Math.round(q / Number(i.lotSize)) : q]).sort((a, b) => (desc ? b[0]! - a[0]! : a[0]! - b[0]!)));
      if (!mine || norm(mine.bids, true) !== JSON.stringify(theirs.bids) || norm(mine.asks, false) !== JSON.stringify(theirs.asks)) problems.push(`verifier's ${i.symbol} book differs from the server's`);
    }
    const resyncs = r.snapshots as number;
    const closedSlow = m1 ? (m1.tradsys_ws_slow_consumer_closed_total ?? 0) - (m0.tradsys_ws_slow_consumer_closed_total ?? 0) : null;
    if (drained && resyncs === 0 && (r.closed as number) === 0 && r.minEventsPerSubscriber !== r.maxEventsPerSubscriber) problems.push(`subscribers got different event counts (${String(r.minEventsPerSubscriber)}..${String(r.maxEventsPerSubscriber)}) without any resync`);
    if (problems.length > 0) throw new Error(`${mode} × ${n}: ${problems.join('; ')}`);
    const secs = r.seconds as number;
    const allocated = [...s.gc.freedBytes.values()].reduce((a, x) => a + x, 0);
    return {
      mode, subscribers: n, rep, orders, ordersPerSecond: orders / sendSeconds, sendSeconds, deliverySeconds: secs, drained, booksVerified: drained,
      eventsPerSecond: (r.events as number) / secs, framesPerSecond: (r.frames as number) / secs, megabytesPerSecond: (r.bytes as number) / secs / 1e6,
      events: r.events, frames: r.frames, bytes: r.bytes, eventsPerFrame: (r.events as number) / (r.frames as number),
      latencyUs: r.latencyUs, gatewayToClientUs: r.gatewayToClientUs,
      framesPerSubscriberPerSecond: (r.frames as number) / n / secs,
      heap: { allocatedBytes: allocated, bytesPerEvent: allocated / (r.events as number), bytesPerOrder: allocated / orders, gcs: s.gc.gcs, maxScavengeMs: s.gc.maxScavengeMs, perIsolateBytes: Object.fromEntries(s.gc.freedBytes) },
      breakdown: { levels: r.levels, deltas: r.deltas, trades: r.trades, tickers: r.tickers, resyncSnapshots: resyncs },
      eventsPerSubscriber: { min: r.minEventsPerSubscriber, max: r.maxEventsPerSubscriber },
      slowConsumer: { resyncSnapshots: resyncs, closedByServer: closedSlow, closedSeenBySubscribers: r.closed },
      serverRssBeforeBytes: rssBefore, serverRssConnectedBytes: rssConnected, serverRssAfterLoadBytes: rssAfter,
      rssPerConnectionBytes: (rssConnected - rssBefore) / n,
      serverCpuCores: (cpu1 - cpu0) / wall, subscriberCpuCores: (r.subscriberCpuSeconds as number) / secs,
      driver: { acks: driver.acks, fills: driver.fills, rejects: Object.fromEntries(driver.rejects) },
      serverFramesOut: m1 ? (m1.tradsys_ws_frames_out_total ?? 0) - (m0.tradsys_ws_frames_out_total ?? 0) : null,
      serverAnsweredAfterRun: m1 !== null,
    };
  } catch (e) {
    dbg(`failed: ${(e as Error).message}`);
    throw e;
  } finally {
    driver?.close();
    await subs.close().catch(() => undefined);
    dbg('subscribers closed');
    await stopServer(s);
    dbg('server stopped');
  }
}

interface Lat { p50: number; p99: number; p999: number; max: number; samples: number; negative: number }
const median = (xs: number[]): number => { const a = [...xs].sort((x, y) => x - y); return a.length % 2 ? a[(a.length - 1) / 2]! : (a[a.length / 2 - 1]! + a[a.length / 2]!) / 2; };
const fmt = (x: number, d = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main(): Promise<void> {
  const load0 = os.loadavg();
  process.stdout.write(`bench:fanout — ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}, load average ${load0.map((x) => x.toFixed(2)).join(' ')}\n`);
  process.stdout.write(`  driver ${fmt(RATE)} orders/s for ${SECONDS} s on ${SYMBOLS.join(', ')} (seed ${SEED}); subscribers: ${CHANNELS.join(' + ')} of every symbol in ${SUB_PROCS} process(es); ${REPS} run(s) per case, medians\n`);
  const runs: Record<string, unknown>[] = [];
  const cases: Record<string, unknown>[] = [];
  for (const n of SUBS) {
    for (const mode of MODES) {
      const rs: Record<string, unknown>[] = [];
      for (let rep = 0; rep < REPS; rep++) rs.push(await runOnce(mode, n, rep));
      runs.push(...rs);
      const med = (k: string): number => median(rs.map((x) => x[k] as number));
      const c = {
        mode, batching: mode === 'binary', subscribers: n,
        eventsPerSecond: med('eventsPerSecond'), eventsPerSecondRuns: rs.map((x) => x.eventsPerSecond),
        latencyUs: { p50: median(rs.map((x) => (x.latencyUs as Lat).p50)), p99: median(rs.map((x) => (x.latencyUs as Lat).p99)), p999: median(rs.map((x) => (x.latencyUs as Lat).p999)) },
        latencyUsRuns: rs.map((x) => x.latencyUs),
        gatewayToClientUs: { p50: median(rs.map((x) => (x.gatewayToClientUs as Lat).p50)), p99: median(rs.map((x) => (x.gatewayToClientUs as Lat).p99)) },
        heapBytesPerEvent: median(rs.map((x) => (x.heap as { bytesPerEvent: number }).bytesPerEvent)),
        heapBytesPerOrder: median(rs.map((x) => (x.heap as { bytesPerOrder: number }).bytesPerOrder)),
        maxScavengeMs: median(rs.map((x) => (x.heap as { maxScavengeMs: number }).maxScavengeMs)),
        framesPerSubscriberPerSecond: med('framesPerSubscriberPerSecond'),
        framesPerSecond: med('framesPerSecond'), megabytesPerSecond: med('megabytesPerSecond'), eventsPerFrame: med('eventsPerFrame'),
        ordersPerSecond: med('ordersPerSecond'), rssPerConnectionBytes: med('rssPerConnectionBytes'),
        serverRssBeforeBytes: med('serverRssBeforeBytes'), serverRssConnectedBytes: med('serverRssConnectedBytes'), serverRssAfterLoadBytes: med('serverRssAfterLoadBytes'),
        serverCpuCores: med('serverCpuCores'), subscriberCpuCores: med('subscriberCpuCores'),
        deliverySeconds: rs.map((x) => x.deliverySeconds), sendSeconds: med('sendSeconds'), drained: rs.map((x) => x.drained),
        resyncSnapshots: rs.map((x) => (x.slowConsumer as { resyncSnapshots: number }).resyncSnapshots),
        slowConsumerClosed: rs.map((x) => (x.slowConsumer as { closedByServer: number | null }).closedByServer),
      };
      cases.push(c);
      process.stdout.write(`  ${String(n).padStart(5)} subs · ${mode.padEnd(16)} ${fmt(c.eventsPerSecond).padStart(11)} events/s (runs ${rs.map((x) => fmt(x.eventsPerSecond as number)).join(' / ')}) · latency p50 ${fmt(c.latencyUs.p50 / 1000, 2)} / p99 ${fmt(c.latencyUs.p99 / 1000, 2)} / p99.9 ${fmt(c.latencyUs.p999 / 1000, 2)} ms (gateway→client p50 ${fmt(c.gatewayToClientUs.p50 / 1000, 1)} / p99 ${fmt(c.gatewayToClientUs.p99 / 1000, 1)} ms) · ${fmt(c.framesPerSecond).padStart(9)} frames/s (${fmt(c.framesPerSubscriberPerSecond)}/sub) · ${fmt(c.megabytesPerSecond, 1)} MB/s · ${fmt(c.eventsPerFrame, 1)} ev/frame · RSS ${fmt(c.serverRssBeforeBytes / 2 ** 20, 1)} → ${fmt(c.serverRssConnectedBytes / 2 ** 20, 1)} MiB (${fmt(c.rssPerConnectionBytes / 1024, 1)} KiB/conn), ${fmt(c.serverRssAfterLoadBytes / 2 ** 20, 1)} after · heap ${fmt(c.heapBytesPerEvent, 1)} B/event ${fmt(c.heapBytesPerOrder)} B/order, scavenge max ${fmt(c.maxScavengeMs, 1)} ms · CPU server ${fmt(c.serverCpuCores * 100)}% subs ${fmt(c.subscriberCpuCores * 100)}% · resyncs ${c.resyncSnapshots.join('/')} closed ${c.slowConsumerClosed.map((x) => x ?? '?').join('/')} · delivered over ${c.deliverySeconds.map((x) => fmt(x as number, 1)).join('/')} s${c.drained.every(Boolean) ? '' : ' (BACKLOG: not drained 10 s after the load stopped)'}${rs.every((x) => x.serverAnsweredAfterRun) ? '' : ' (server busy: /metrics unanswered after the run)'}\n`);
    }
  }
  const load1 = os.loadavg();
  process.stdout.write(`  load average after: ${load1.map((x) => x.toFixed(2)).join(' ')}\n`);
  const report = {
    benchmark: 'bench:fanout', date: new Date().toISOString(), node: process.version, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model,
    loadAverageBefore: load0, loadAverageAfter: load1, subscriberProcesses: SUB_PROCS, seed: SEED, ratePerSecond: RATE, seconds: SECONDS, reps: REPS, symbols: SYMBOLS, channels: CHANNELS,
    eventDefinition: 'one book level in a bookDelta or book snapshot, one trade, one ticker',
    cases, runs,
  };
  if (args.includes('--json')) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  if (OUT) writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');
}

main().catch((e) => { process.stderr.write(`bench:fanout: ${(e as Error).message}\n`); process.exitCode = 1; });
