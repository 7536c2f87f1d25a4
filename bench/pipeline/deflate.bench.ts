/**
 * `npm run bench:deflate`: what permessage-deflate costs and saves on the gateway's market-data
 * frames, to choose whether and above what size to compress (docs/protocol.md "Compression").
 *
 * Workloads (seeded mulberry32, BTC-USD: tick 0.5, lot 0.0001, the gateway's JSON shapes and
 * number formatting): one L2 book around a random-walking mid, 1,000 levels a side;
 *   - deltas:    N `bookDelta` frames, each 1–4 level changes near the touch (≈ 90% updates, 10%
 *                removals "0") plus the CRC-32 checksum, as the gateway sends them per drain;
 *   - snap10:    `book` snapshots of depth 10 (the HTTP default), one every 20 deltas;
 *   - snap50:    `book` snapshots of depth 50, one every 40 deltas;
 *   - snap1000:  `book` snapshots of depth 1,000 (what a WS `subscribe` sends), fewer of them;
 *   - trades:    `trade` frames.
 * Modes: `off` (no extension); permessage-deflate (ws defaults: zlib level 6, 15-bit window) with
 * context takeover (ws then compresses every frame: its `threshold` applies only without context
 * takeover); and without server context takeover at thresholds 0, 256, 1,024 and 4,096 bytes.
 * Measured per mode × workload over a real loopback socket, server and client in this process:
 * payload bytes, bytes on the wire (server socket `bytesWritten`, frame headers included),
 * wall time until the client has every frame, and process CPU (user + system, both ends).
 * Checked: the client receives exactly the frames sent (count and SHA-256 of the payloads).
 * Options: --deltas N (default 20,000) · --json. Prints a table, then JSON (machine, Node, date,
 * seed, results).
 */
import { createHash } from 'node:crypto';
import { cpus, hostname } from 'node:os';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import WebSocket, { WebSocketServer, type PerMessageDeflateOptions } from 'ws';
import { DEMO_INSTRUMENTS, loadInstruments } from '../../src/domain/instruments.js';

const args = process.argv.slice(2);
const opt = (k: string, d: string): string => { const i = args.indexOf(k); return i >= 0 ? args[i + 1]! : d; };
const DELTAS = Number(opt('--deltas', '20000'));
const SEED = 20261124;

function mulberry32(a: number): () => number {
  return () => {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The workloads: arrays of JSON text frames exactly as the gateway formats them. */
function workloads(): Record<string, string[]> {
  const ins = loadInstruments(DEMO_INSTRUMENTS)[0]!;
  const rnd = mulberry32(SEED);
  let mid = 120_000; // ticks (60,000.0)
  const bids = new Map<number, number>();
  const asks = new Map<number, number>();
  const lots = (): number => 1 + Math.floor(5000 * rnd() * rnd());
  for (let i = 1; i <= 1000; i++) { bids.set(mid - i, lots()); asks.set(mid + i, lots()); }
  const px = (t: number): string => ins.toPrice(BigInt(t));
  const q = (l: number): string => ins.toQty(l);
  const top = (m: Map<number, number>, desc: boolean, n: number): [number, number][] => [...m.entries()].sort((a, b) => (desc ? b[0] - a[0] : a[0] - b[0])).slice(0, n);
  const snapshot = (seq: number, depth: number): string => JSON.stringify({
    type: 'book', symbol: ins.symbol, seq, bids: top(bids, true, depth).map(([p, l]) => [px(p), q(l)]), asks: top(asks, false, depth).map(([p, l]) => [px(p), q(l)]),
  });
  const deltas: string[] = [];
  const snap10: string[] = [];
  const snap50: string[] = [];
  const snap1000: string[] = [];
  const trades: string[] = [];
  for (let seq = 1; seq <= DELTAS; seq++) {
    if (rnd() < 0.05) mid += rnd() < 0.5 ? -1 : 1;
    const ch: { bids: string[][]; asks: string[][] } = { bids: [], asks: [] };
    const n = 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < n; k++) {
      const buy = rnd() < 0.5;
      const book = buy ? bids : asks;
      const p = buy ? mid - 1 - Math.floor(20 * rnd() * rnd()) : mid + 1 + Math.floor(20 * rnd() * rnd());
      if (rnd() < 0.1 && book.has(p)) { book.delete(p); (buy ? ch.bids : ch.asks).push([px(p), '0']); } else { const l = lots(); book.set(p, l); (buy ? ch.bids : ch.asks).push([px(p), q(l)]); }
    }
    const sum = (m: Map<number, number>, desc: boolean): string => top(m, desc, 10).map(([p, l]) => `${px(p)}:${q(l)}`).join(',');
    const checksum = crc32(`${sum(bids, true)}|${sum(asks, false)}`);
    deltas.push(JSON.stringify({ type: 'bookDelta', symbol: ins.symbol, first: seq, last: seq, bids: ch.bids, asks: ch.asks, checksum }));
    if (seq % 20 === 0) snap10.push(snapshot(seq, 10));
    if (seq % 40 === 0) snap50.push(snapshot(seq, 50));
    if (seq % Math.max(1, Math.floor(DELTAS / 100)) === 0) snap1000.push(snapshot(seq, 1000));
    if (rnd() < 0.3) trades.push(JSON.stringify({ type: 'trade', symbol: ins.symbol, tradeId: seq, price: px(mid + (rnd() < 0.5 ? -1 : 1)), qty: q(lots()), takerSide: rnd() < 0.5 ? 'buy' : 'sell', ts: 1_764_000_000_000_000_000 + seq * 1_000_000 }));
  }
  return { deltas, trades, snap10, snap50, snap1000 };
}

interface Mode { name: string; pmd: false | PerMessageDeflateOptions }
// ws honours `threshold` only without context takeover: with it, every frame is compressed
const MODES: Mode[] = [
  { name: 'off', pmd: false },
  { name: 'ctx-takeover', pmd: { threshold: 0 } },
  { name: 'no-ctx thr=0', pmd: { threshold: 0, serverNoContextTakeover: true } },
  { name: 'no-ctx thr=256', pmd: { threshold: 256, serverNoContextTakeover: true } },
  { name: 'no-ctx thr=1024', pmd: { threshold: 1024, serverNoContextTakeover: true } },
  { name: 'no-ctx thr=4096', pmd: { threshold: 4096, serverNoContextTakeover: true } },
];

interface Result { mode: string; workload: string; frames: number; payloadBytes: number; wireBytes: number; ratio: number; wallMs: number; cpuMs: number; cpuUsPerFrame: number }

async function run(mode: Mode, workload: string, frames: string[]): Promise<Result> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: mode.pmd });
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as AddressInfo).port;
  const server = new Promise<WebSocket>((r) => wss.once('connection', r));
  const client = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: true });
  const sock = await server;
  await new Promise((r) => client.once('open', r));
  const negotiated = client.extensions.includes('permessage-deflate');
  if (negotiated !== (mode.pmd !== false)) throw new Error(`${mode.name}: permessage-deflate negotiated = ${negotiated}`);
  const want = createHash('sha256');
  let payloadBytes = 0;
  for (const f of frames) { want.update(f); payloadBytes += Buffer.byteLength(f); }
  const got = createHash('sha256');
  let n = 0;
  const done = new Promise<void>((res) => client.on('message', (d: Buffer) => { got.update(d); if (++n === frames.length) res(); }));
  const raw = (sock as unknown as { _socket: { bytesWritten: number } })._socket;
  const w0 = raw.bytesWritten;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (const f of frames) sock.send(f);
  await done;
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  const wireBytes = raw.bytesWritten - w0;
  if (got.digest('hex') !== want.digest('hex')) throw new Error(`${mode.name}/${workload}: frames arrived altered`);
  client.close();
  await new Promise((r) => wss.close(r));
  const cpuMs = (c.user + c.system) / 1000;
  return { mode: mode.name, workload, frames: frames.length, payloadBytes, wireBytes, ratio: wireBytes / payloadBytes, wallMs, cpuMs, cpuUsPerFrame: (cpuMs * 1000) / frames.length };
}

const wl = workloads();
const results: Result[] = [];
// one untimed pass warms up zlib and the JIT
for (const m of MODES) await run(m, 'deltas', wl.deltas!.slice(0, 2000));
for (const [name, frames] of Object.entries(wl)) for (const m of MODES) results.push(await run(m, name, frames));

if (!args.includes('--json')) {
  const sizes = Object.fromEntries(Object.entries(wl).map(([k, v]) => [k, Math.round(v.reduce((s, f) => s + f.length, 0) / v.length)]));
  console.log(`permessage-deflate, ${DELTAS} deltas, seed ${SEED}; mean frame bytes: ${JSON.stringify(sizes)}`);
  console.log('workload  mode                   frames   payload B     wire B   wire/payload   wall ms    CPU ms   CPU µs/frame');
  for (const r of results) {
    console.log(`${r.workload.padEnd(9)} ${r.mode.padEnd(22)} ${String(r.frames).padStart(6)} ${String(r.payloadBytes).padStart(11)} ${String(r.wireBytes).padStart(10)} ${r.ratio.toFixed(3).padStart(14)} ${r.wallMs.toFixed(1).padStart(9)} ${r.cpuMs.toFixed(1).padStart(9)} ${r.cpuUsPerFrame.toFixed(2).padStart(14)}`);
  }
}
console.log(JSON.stringify({
  bench: 'deflate', machine: { host: hostname(), cpu: cpus()[0]?.model, cores: cpus().length }, node: process.version, date: new Date().toISOString(), seed: SEED, deltas: DELTAS, results,
}));
