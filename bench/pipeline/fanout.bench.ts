/**
 * `npm run bench:fanout`: market-data fan-out of `tradsys serve` (its own process, loopback) to
 * 100 and 1,000 subscribers, with batching (binary protocol: everything a connection gets in one
 * pump cycle goes out as one frame) and without (JSON: one message per frame).
 *
 * Processes: the server; a subscriber process (this file with `--role subscribers`) holding N
 * WebSocket connections, each subscribed to book + trades + ticker of two symbols, which parses
 * every frame and counts market-data events; and this process as the order driver (one JSON
 * connection streaming crossing orders at a fixed rate, so books and trades move).
 * An *event* is one book level change of a delta, one trade or one ticker; levels of book
 * snapshots (the subscription's first, and those sent to a subscriber that fell behind instead of
 * deltas) are counted apart and not included.
 * Reports events/s delivered (summed over subscribers, counted by parsing), frames/s, MB/s, the
 * server's RSS before and after the connections (→ RSS per connection), and the slow-consumer
 * counters of /metrics (subscribers switched to snapshots or cut off).
 * Options: --subs 100,1000 · --seconds S (5) · --rate ORDERS_PER_S (5000) · --json · --out FILE.
 * Bounded: every phase has a deadline; all processes are stopped at the end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { sign } from '../../src/gateway/auth.js';
import { BinaryWriter, Channel } from '../../src/codec/binary-protocol.js';

const args = process.argv.slice(2);
const opt = (k: string, d: string): string => { const i = args.indexOf(k); return i >= 0 ? args[i + 1]! : d; };
const SELF = fileURLToPath(import.meta.url);
const CLI = join(SELF, '../../../build/dist/cli/main.js');
const SYMBOLS = ['AAPL', 'MSFT'];

// ── subscriber role ──────────────────────────────────────────────────────────────────────
async function subscribers(): Promise<void> {
  const url = opt('--url', '');
  const n = Number(opt('--n', '100'));
  const protocol = opt('--protocol', 'binary');
  const ids = opt('--ids', '3,4').split(',').map(Number);
  let events = 0;
  let snapshotLevels = 0;
  let frames = 0;
  let bytes = 0;
  let counting = false;
  const socks: WebSocket[] = [];
  const opened: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/ws${protocol === 'binary' ? '?protocol=binary' : ''}`, { perMessageDeflate: false });
    socks.push(ws);
    ws.on('message', (d: Buffer, isBinary: boolean) => {
      if (!counting) return;
      frames++;
      bytes += d.length;
      if (isBinary) {
        // frame header 8 B (count u16 at 4); message header 8 B (type u8, len u16 at 2)
        const count = d.readUInt16LE(4);
        let p = 8;
        for (let k = 0; k < count; k++) {
          const type = d[p]!;
          const len = d.readUInt16LE(p + 2);
          const body = p + 8;
          if (type === 0x49) events += d.readUInt16LE(body + 4) + d.readUInt16LE(body + 6);
          else if (type === 0x48) snapshotLevels += d.readUInt16LE(body + 4) + d.readUInt16LE(body + 6);
          else if (type === 0x4a || type === 0x4b) events++;
          p = body + len;
        }
      } else {
        const m = JSON.parse(d.toString()) as { type: string; bids?: unknown[]; asks?: unknown[] };
        if (m.type === 'bookDelta') events += (m.bids?.length ?? 0) + (m.asks?.length ?? 0);
        else if (m.type === 'book') snapshotLevels += (m.bids?.length ?? 0) + (m.asks?.length ?? 0);
        else if (m.type === 'trade' || m.type === 'ticker') events++;
      }
    });
    opened.push(new Promise((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); }));
    if (i % 50 === 49) await Promise.all(opened.slice(-50));
  }
  await Promise.all(opened);
  for (const ws of socks) {
    if (protocol === 'binary') {
      const w = new BinaryWriter(256);
      for (const id of ids) w.subscribe(0, id, Channel.BOOK | Channel.TRADES | Channel.TICKER);
      ws.send(w.take()!);
    } else {
      ws.send(JSON.stringify({ op: 'subscribe', channels: SYMBOLS.flatMap((s) => [`book.${s}`, `trades.${s}`, `ticker.${s}`]) }));
    }
  }
  process.send!({ op: 'ready' });
  process.on('message', (m: { op: string }) => {
    if (m.op === 'start') { events = 0; snapshotLevels = 0; frames = 0; bytes = 0; counting = true; }
    if (m.op === 'stop') {
      counting = false;
      process.send!({ op: 'counts', events, snapshotLevels, frames, bytes });
      for (const ws of socks) ws.terminate();
      setTimeout(() => process.disconnect(), 100);
    }
  });
}

// ── driver role (this process) ───────────────────────────────────────────────────────────
interface Server { child: ChildProcess; url: string; key: string; secret: string }

function startServer(): Promise<Server> {
  const child = spawn(process.execPath, [CLI, 'serve', '--no-sim', '--no-storage', '--durability', 'none', '--max-open-orders', '0', '--rate-limit', '10000000', '--port', '0', '--data', mkdtempSync(join(tmpdir(), 'bench-fanout-'))], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`server did not start: ${out}`)); }, 60_000);
    let err = '';
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    child.once('exit', (code, sig) => { if (code !== 0 && sig !== 'SIGTERM') process.stderr.write(`server exited (${code ?? sig}): ${err.slice(-2000)}\n`); });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const u = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      const k = /demo key {2}account \d+ {2}key (\S+) {2}secret (\S+)/.exec(out);
      if (u && k) { clearTimeout(t); resolve({ child, url: u[1]!, key: k[1]!, secret: k[2]! }); }
    });
  });
}

function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : Number.NaN;
  } catch {
    return Number.NaN; // the server is gone (reported by its exit handler)
  }
}

async function metric(url: string, name: string): Promise<number> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const t = await (await fetch(`${url}/metrics`)).text();
      return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(t)?.[1] ?? 0);
    } catch {
      await new Promise((r) => setTimeout(r, 200)); // a busy server may reset a connection
    }
  }
  return Number.NaN;
}

async function runCase(n: number, protocol: 'binary' | 'json', seconds: number, rate: number): Promise<Record<string, unknown>> {
  const s = await startServer();
  const pid = s.child.pid!;
  const ids = ((await (await fetch(`${s.url}/api/v1/symbols`)).json()) as { id: number; symbol: string }[]).filter((x) => SYMBOLS.includes(x.symbol)).map((x) => x.id);
  await new Promise((r) => setTimeout(r, 300));
  const rssIdle = rssBytes(pid);
  const sub = spawn(process.execPath, ['--import', 'tsx', SELF, '--role', 'subscribers', '--url', s.url, '--n', String(n), '--protocol', protocol, '--ids', ids.join(',')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise<void>((res, rej) => {
    const t = setTimeout(() => rej(new Error('subscribers did not connect in 120 s')), 120_000);
    sub.once('message', () => { clearTimeout(t); res(); });
  });
  await new Promise((r) => setTimeout(r, 500));
  const rssConnected = rssBytes(pid);
  // order driver: crossing limit orders around 100.00 on both symbols
  const ws = new WebSocket(`${s.url.replace('http', 'ws')}/ws`);
  await new Promise((r) => ws.once('open', r));
  const ts = Date.now();
  ws.send(JSON.stringify({ op: 'auth', key: s.key, ts, sig: sign(s.secret, s.key, ts) }));
  ws.on('message', () => {});
  await new Promise((r) => setTimeout(r, 200));
  const slow0 = await metric(s.url, 'tradsys_ws_slow_consumer_closed_total');
  let sent = 0;
  let x = 12345;
  const rnd = (): number => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x / 4294967296; };
  const t0 = Date.now();
  sub.send({ op: 'start' });
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const el = (Date.now() - t0) / 1000;
      if (el >= seconds) { resolve(); return; }
      const due = Math.floor(el * rate);
      while (sent < due) {
        const sym = SYMBOLS[sent & 1]!;
        const px = (99.5 + Math.floor(rnd() * 100) / 100).toFixed(2);
        ws.send(JSON.stringify({ op: 'order', clientOrderId: `f${sent}`, symbol: sym, side: rnd() < 0.5 ? 'buy' : 'sell', type: 'limit', tif: rnd() < 0.6 ? 'gtc' : 'ioc', price: px, qty: String(1 + Math.floor(rnd() * 10)) }));
        sent++;
      }
      setImmediate(tick);
    };
    tick();
  });
  const elapsed = (Date.now() - t0) / 1000;
  const counts = await new Promise<{ events: number; snapshotLevels: number; frames: number; bytes: number }>((res) => {
    sub.once('message', (m) => res(m as { events: number; snapshotLevels: number; frames: number; bytes: number }));
    sub.send({ op: 'stop' });
  });
  const slow1 = await metric(s.url, 'tradsys_ws_slow_consumer_closed_total');
  const rssEnd = rssBytes(pid);
  ws.terminate();
  s.child.kill('SIGTERM');
  await new Promise((r) => s.child.once('exit', r));
  return {
    subscribers: n, protocol, batching: protocol === 'binary', seconds: elapsed, ordersSent: sent, ordersPerSecond: sent / elapsed,
    eventsDelivered: counts.events, snapshotLevelsDelivered: counts.snapshotLevels, eventsPerSecond: counts.events / elapsed, framesPerSecond: counts.frames / elapsed, mbPerSecond: counts.bytes / elapsed / 1e6,
    eventsPerFrame: counts.frames ? counts.events / counts.frames : 0, framesPerConnectionPerSecond: counts.frames / elapsed / n,
    serverRss: { idle: rssIdle, connected: rssConnected, end: rssEnd, perConnectionBytes: (rssConnected - rssIdle) / n },
    slowConsumerClosed: slow1 - slow0,
  };
}

async function main(): Promise<void> {
  const subsList = opt('--subs', '100,1000').split(',').map(Number);
  const seconds = Number(opt('--seconds', '5'));
  const rate = Number(opt('--rate', '5000'));
  const results: Record<string, unknown>[] = [];
  for (const n of subsList) {
    for (const protocol of ['binary', 'json'] as const) {
      process.stderr.write(`fan-out: ${n} subscribers, ${protocol} (${protocol === 'binary' ? 'batched frames' : 'one message per frame'}), ${rate} orders/s for ${seconds} s…\n`);
      const r = await runCase(n, protocol, seconds, rate);
      results.push(r);
      const rss = r.serverRss as { perConnectionBytes: number };
      process.stderr.write(`  ${(Number(r.eventsPerSecond) / 1e6).toFixed(2)} M events/s delivered · ${Math.round(Number(r.framesPerSecond)).toLocaleString('en-US')} frames/s · ${Number(r.eventsPerFrame).toFixed(1)} events/frame (${Number(r.framesPerConnectionPerSecond).toFixed(0)} frames/s per connection) · ${Number(r.mbPerSecond).toFixed(1)} MB/s · server RSS ${(rss.perConnectionBytes / 1024).toFixed(1)} KiB/connection · snapshot levels ${String(r.snapshotLevelsDelivered)} · slow-consumer closes ${String(r.slowConsumerClosed)}\n`);
    }
  }
  const report = { bench: 'fanout', date: new Date().toISOString(), node: process.version, machine: { cpu: cpus()[0]?.model, cores: cpus().length, loadavg: loadavg() }, rate, seconds, results, target: { eventsPerSecondWithBatching: 2_000_000 } };
  if (args.includes('--out')) fs.writeFileSync(opt('--out', ''), JSON.stringify(report, null, 2));
  if (args.includes('--json')) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}

if (opt('--role', 'driver') === 'subscribers') await subscribers();
else await main();
