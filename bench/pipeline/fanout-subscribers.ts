/**
 * The subscriber side of `npm run bench:fanout` (bench/pipeline/fanout.bench.ts), run as its own
 * process (child_process.fork with IPC): opens N WebSocket connections to the gateway (JSON or
 * binary protocol), subscribes each to book + trades (+ ticker) of the benchmark's symbols, and
 * counts the market-data *events* every connection receives between `start` and the end of the
 * drain after `stop`.
 *
 * Event = one book level in a `bookDelta` (a delta changing k levels counts k) or in a `book`
 * snapshot, one `trade`, one `ticker`. Counted by decoding every frame: JSON frames with
 * JSON.parse; binary frames by walking every message header (frame count, type, length, level
 * counts, delta first/last), and connection 0 (the verifier) decodes every frame fully with
 * `decodeFrame` (strict) and keeps the books from snapshot + deltas, which the bench compares with
 * the server's book after the run.
 * Layout: IPC messages from the parent: {cmd:'open', url, n, protocol, symbols, channels} →
 * {ok:'open'}; {cmd:'start'} → {ok:'start'}; {cmd:'stop', quietMs, maxWaitMs} → {ok:'stop', ...counts};
 * {cmd:'close'} → exits. `stop` may carry `check: {http, symbols}`: drained then also needs the
 * verifier's book sequence to equal the server's (GET /api/v1/book) on every symbol. Every wait is bounded.
 * Invariants: a delta's `first` must be the previous `last` + 1 per connection and symbol (else a
 * gap is counted; a snapshot restarts the sequence); a binary frame must be filled exactly by
 * its `count` messages (else an error is counted).
 * Latency: every trade received (binary TRADE, JSON `trade`) records receipt time minus its `ts`
 * (the engine's tsInit, epoch ns, the same clock: src/domain/clock.ts) in one HDR histogram (µs);
 * `stop` answers its p50/p99/p99.9/max and sample count.
 * Complexity: O(messages) per binary frame (O(levels) for the verifier), O(frame bytes) per JSON
 * frame. Allocation: JSON.parse per JSON frame; none per binary frame except the verifier's.
 * Known limitations: all connections live in one process and event loop, so at high fan-out the
 * subscriber process itself can be the bottleneck; its CPU is reported with the results.
 */
import * as hdr from 'hdr-histogram-js';
import WebSocket from 'ws';
import { nowNs } from '../../src/domain/clock.js';
import { BinaryWriter, decodeFrame, MsgType, Channel } from '../../src/codec/binary-protocol.js';

interface Sym { id: number; symbol: string }
interface OpenCmd { cmd: 'open'; url: string; n: number; protocol: 'json' | 'binary'; symbols: Sym[]; channels: string[] }

interface Sub {
  ws: WebSocket;
  events: number;
  frames: number;
  bytes: number;
  levels: number;
  trades: number;
  tickers: number;
  deltas: number;
  snapshots: number;
  gaps: number;
  errors: number;
  /** Next expected delta `first`, per instrument id (binary) or symbol (JSON). */
  next: Map<number | string, number>;
  subscribed: number;
  closed: number | null;
}

type Book = { bids: Map<number | string, number | string>; asks: Map<number | string, number | string> };

const subs: Sub[] = [];
/** The verifier's books (connection 0), keyed by instrument id or symbol. */
const books = new Map<number | string, Book>();
let t0 = 0;
let lastAt = 0;
let cpu0 = process.cpuUsage();
/**
 * Delivery latency, µs: for every trade a connection receives, receipt time (nowNs(): the same
 * epoch-ns clock as the engine's, src/domain/clock.ts, same machine) minus the trade's `ts` (the
 * engine's tsInit, stamped when the engine thread took the command's batch). Deltas and tickers of
 * the same pump cycle travel in the same frame, so a trade's delay is its frame's.
 */
const lat = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600e6, numberOfSignificantValueDigits: 3 });
/**
 * Stage split, µs: for every ticker, receipt time minus the ticker's `ts` (the gateway's wall clock
 * when it published the cycle's tickers, Date.now(): ms resolution) — the gateway-to-client part
 * of the delay; the engine-to-gateway part is the rest. Coarse (±1 ms), for delays of several ms.
 */
const gwLat = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600e6, numberOfSignificantValueDigits: 3 });
/** Receipt time of the frame being decoded (epoch ns as a double: ±256 ns, no BigInt per sample), read once per frame. */
let rxNs = 0;
/** Samples below 0 (the two processes' clock offsets disagree by more than the delay): counted, recorded as 1 µs. */
let negative = 0;
const recordLatency = (h: hdr.Histogram, tsNs: number): void => { const us = (rxNs - tsNs) / 1000; if (us < 0) negative++; h.recordValue(us < 1 ? 1 : us); };
/** An i64 epoch-ns field as a double (exact to 256 ns). */
const i64 = (dv: DataView, o: number): number => dv.getUint32(o, true) + dv.getInt32(o + 4, true) * 2 ** 32;

const blank = (ws: WebSocket): Sub => ({ ws, events: 0, frames: 0, bytes: 0, levels: 0, trades: 0, tickers: 0, deltas: 0, snapshots: 0, gaps: 0, errors: 0, next: new Map(), subscribed: 0, closed: null });

function reset(s: Sub): void {
  s.events = 0; s.frames = 0; s.bytes = 0; s.levels = 0; s.trades = 0; s.tickers = 0; s.deltas = 0; s.snapshots = 0; s.gaps = 0; s.errors = 0;
}

const u64 = (dv: DataView, o: number): number => dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 2 ** 32;

function applyLevels(side: Map<number | string, number | string>, levels: readonly (readonly [number | string, number | string])[], snapshot: boolean): void {
  if (snapshot) side.clear();
  for (const [p, q] of levels) { if (Number(q) === 0) side.delete(p); else side.set(p, q); }
}

function onBinary(s: Sub, buf: Buffer, verifier: boolean): void {
  s.frames++;
  s.bytes += buf.length;
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const count = dv.getUint16(4, true);
  let o = 8;
  for (let i = 0; i < count; i++) {
    if (o + 8 > buf.length) { s.errors++; return; }
    const type = dv.getUint8(o);
    const len = dv.getUint16(o + 2, true);
    const b = o + 8;
    switch (type) {
      case MsgType.BOOK_DELTA: {
        const k = dv.getUint16(b + 4, true) + dv.getUint16(b + 6, true);
        const ins = dv.getUint32(b, true);
        const first = u64(dv, b + 8);
        const want = s.next.get(ins);
        if (want !== undefined && first !== want) s.gaps++;
        s.next.set(ins, u64(dv, b + 16) + 1);
        s.events += k; s.levels += k; s.deltas++;
        break;
      }
      case MsgType.BOOK_SNAPSHOT: {
        const k = dv.getUint16(b + 4, true) + dv.getUint16(b + 6, true);
        s.next.set(dv.getUint32(b, true), u64(dv, b + 8) + 1);
        s.events += k; s.levels += k; s.snapshots++;
        break;
      }
      case MsgType.TRADE: s.events++; s.trades++; recordLatency(lat, i64(dv, b + 32)); break;
      case MsgType.TICKER: s.events++; s.tickers++; recordLatency(gwLat, i64(dv, b + 56)); break;
      case MsgType.SUBSCRIBED: s.subscribed++; break;
      default: break;
    }
    o = b + len;
  }
  if (o !== buf.length) s.errors++;
  if (!verifier) return;
  for (const m of decodeFrame(buf, 'server')) {
    if (m.kind !== 'book' && m.kind !== 'bookDelta') continue;
    let bk = books.get(m.instrument);
    if (!bk) books.set(m.instrument, bk = { bids: new Map(), asks: new Map() });
    applyLevels(bk.bids, m.bids, m.kind === 'book');
    applyLevels(bk.asks, m.asks, m.kind === 'book');
  }
}

interface JsonMd { type: string; ts?: number; symbol?: string; first?: number; last?: number; seq?: number; bids?: [string, string][]; asks?: [string, string][] }

function onJson(s: Sub, text: string, verifier: boolean): void {
  s.frames++;
  s.bytes += text.length; // the frames are ASCII: characters = bytes
  const m = JSON.parse(text) as JsonMd;
  // the trade's exact 19-digit ts, from the text (JSON.parse rounds it to a double)
  if (m.type === 'trade') { const i = text.lastIndexOf('"ts":'); recordLatency(lat, Number(text.slice(i + 5, text.indexOf('}', i)))); }
  if (m.type === 'ticker') recordLatency(gwLat, m.ts!);
  switch (m.type) {
    case 'bookDelta': {
      const k = m.bids!.length + m.asks!.length;
      const want = s.next.get(m.symbol!);
      if (want !== undefined && m.first !== want) s.gaps++;
      s.next.set(m.symbol!, m.last! + 1);
      s.events += k; s.levels += k; s.deltas++;
      break;
    }
    case 'book': {
      const k = m.bids!.length + m.asks!.length;
      s.next.set(m.symbol!, m.seq! + 1);
      s.events += k; s.levels += k; s.snapshots++;
      break;
    }
    case 'trade': s.events++; s.trades++; break;
    case 'ticker': s.events++; s.tickers++; break;
    case 'subscribed': s.subscribed++; break;
    default: break;
  }
  if (!verifier || (m.type !== 'book' && m.type !== 'bookDelta')) return;
  let bk = books.get(m.symbol!);
  if (!bk) books.set(m.symbol!, bk = { bids: new Map(), asks: new Map() });
  applyLevels(bk.bids, m.bids!, m.type === 'book');
  applyLevels(bk.asks, m.asks!, m.type === 'book');
}

async function openAll(c: OpenCmd): Promise<void> {
  const url = c.url + (c.protocol === 'binary' ? '?protocol=binary' : '');
  const bits = (c.channels.includes('book') ? Channel.BOOK : 0) | (c.channels.includes('trades') ? Channel.TRADES : 0) | (c.channels.includes('ticker') ? Channel.TICKER : 0);
  // binary: one SUBSCRIBED per instrument; JSON: one `subscribed` per subscribe message
  const wantSubscribed = c.protocol === 'binary' ? c.symbols.length : 1;
  const openOne = (i: number): Promise<void> => new Promise((res, rej) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const s = blank(ws);
    subs.push(s);
    const verifier = i === 0;
    ws.on('message', (d: Buffer, isBinary: boolean) => {
      lastAt = performance.now();
      rxNs = Number(nowNs());
      if (isBinary) onBinary(s, d, verifier); else onJson(s, d.toString(), verifier);
    });
    ws.once('error', rej);
    ws.on('close', (code) => { s.closed = code; });
    ws.once('open', () => {
      if (c.protocol === 'binary') {
        const w = new BinaryWriter(256);
        c.symbols.forEach((x, j) => w.subscribe(j + 1, x.id, bits));
        ws.send(w.take()!);
      } else {
        ws.send(JSON.stringify({ op: 'subscribe', channels: c.symbols.flatMap((x) => c.channels.map((ch) => `${ch}.${x.symbol}`)) }));
      }
      const deadline = Date.now() + 30_000;
      const check = (): void => {
        if (s.subscribed >= wantSubscribed) { res(); return; }
        if (Date.now() > deadline) { rej(new Error(`connection ${i} not subscribed after 30 s`)); return; }
        setTimeout(check, 5);
      };
      check();
    });
  });
  // a few connections at a time: the server's accept queue and the handshakes stay small
  for (let i = 0; i < c.n; i += 50) {
    const batch: Promise<void>[] = [];
    for (let j = i; j < Math.min(c.n, i + 50); j++) batch.push(openOne(j));
    await Promise.all(batch);
  }
}

/** Whether this process's verifier (connection 0) has the book sequence the server has now, on every symbol (GET /api/v1/book). */
async function caughtUp(http: string, symbols: Sym[]): Promise<boolean> {
  const v = subs[0];
  if (v === undefined) return true;
  for (const x of symbols) {
    let seq: number;
    try { seq = ((await (await fetch(`${http}/api/v1/book/${x.symbol}?depth=1`, { signal: AbortSignal.timeout(2_000) })).json()) as { seq: number }).seq; } catch { return false; }
    if ((v.next.get(x.id) ?? v.next.get(x.symbol) ?? 1) - 1 !== seq) return false;
  }
  return true;
}

/**
 * Drained = no message for `quietMs` and, when `check` is given, the verifier holds the server's
 * book sequence on every symbol (a pause longer than quietMs on a busy machine is not the end).
 */
async function stop(quietMs: number, maxWaitMs: number, check?: { http: string; symbols: Sym[] }): Promise<Record<string, unknown>> {
  const deadline = performance.now() + maxWaitMs;
  let drained = false;
  while (performance.now() < deadline) {
    while (performance.now() - lastAt < quietMs && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    drained = performance.now() - lastAt >= quietMs && (check === undefined || await caughtUp(check.http, check.symbols));
    if (drained) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const cpu = process.cpuUsage(cpu0);
  const sum = (k: keyof Sub): number => subs.reduce((a, s) => a + (s[k] as number), 0);
  const per = subs.map((s) => s.events);
  return {
    ok: 'stop', drained, seconds: (lastAt - t0) / 1000, subscriberCpuSeconds: (cpu.user + cpu.system) / 1e6,
    events: sum('events'), frames: sum('frames'), bytes: sum('bytes'), levels: sum('levels'), trades: sum('trades'), tickers: sum('tickers'),
    deltas: sum('deltas'), snapshots: sum('snapshots'), gaps: sum('gaps'), errors: sum('errors'),
    latencyUs: { p50: lat.getValueAtPercentile(50), p99: lat.getValueAtPercentile(99), p999: lat.getValueAtPercentile(99.9), max: lat.maxValue, samples: lat.totalCount, negative },
    histogramsBase64: { latency: hdr.encodeIntoCompressedBase64(lat), gatewayToClient: hdr.encodeIntoCompressedBase64(gwLat) },
    gatewayToClientUs: { p50: gwLat.getValueAtPercentile(50), p99: gwLat.getValueAtPercentile(99), p999: gwLat.getValueAtPercentile(99.9), samples: gwLat.totalCount },
    minEventsPerSubscriber: Math.min(...per), maxEventsPerSubscriber: Math.max(...per),
    closed: subs.filter((s) => s.closed !== null).length, closeCodes: [...new Set(subs.filter((s) => s.closed !== null).map((s) => s.closed))],
    verifierBooks: [...books].map(([k, b]) => ({ key: k, bids: [...b.bids].map(([p, q]) => [Number(p), Number(q)]), asks: [...b.asks].map(([p, q]) => [Number(p), Number(q)]) })),
  };
}

process.on('message', (raw: unknown) => {
  const m = raw as { cmd: string; quietMs?: number; maxWaitMs?: number; check?: { http: string; symbols: Sym[] } };
  const reply = (x: Record<string, unknown>): void => { process.send!(x); };
  if (m.cmd === 'open') openAll(m as OpenCmd).then(() => reply({ ok: 'open' }), (e: Error) => reply({ ok: 'error', message: e.message }));
  else if (m.cmd === 'start') {
    for (const s of subs) reset(s);
    lat.reset();
    gwLat.reset();
    negative = 0;
    t0 = performance.now();
    lastAt = t0;
    cpu0 = process.cpuUsage();
    reply({ ok: 'start' });
  } else if (m.cmd === 'stop') stop(m.quietMs ?? 300, m.maxWaitMs ?? 15_000, m.check).then(reply, (e: Error) => reply({ ok: 'error', message: e.message }));
  else if (m.cmd === 'close') {
    for (const s of subs) s.ws.terminate();
    process.disconnect();
  }
});
