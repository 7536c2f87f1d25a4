/**
 * What the main thread pays to hand one market-data cycle to its readers (docs/performance.md
 * "I/O workers for market-data fan-out"): the same frame written to N loopback TCP sockets (the
 * gateway today: one `socket.write` per subscriber per cycle) against K pipes to child processes
 * (the `cluster` fan-out design: the gateway hands each fan-out process the cycle's log once).
 * A reader process drains every socket / pipe (counts bytes); the bench writes `--rounds` cycles,
 * each after the previous one drained (so the kernel buffers never fill), and reports per cycle
 * the main thread's wall time and CPU time (process.cpuUsage of this process: user + system),
 * medians. Options: --subs 100,1000 · --pipes 2 · --bytes 3000 (a frame of ~60 events) ·
 * --rounds 200 · --json.
 *   node --import tsx bench/pipeline/fanout-writes.bench.ts --subs 100,1000 --pipes 2
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { cpus } from 'node:os';

const args = process.argv.slice(2);
const opt = (k: string, d: string): string => { const i = args.indexOf(k); return i >= 0 ? args[i + 1]! : d; };
const SUBS = opt('--subs', '100,1000').split(',').map(Number);
const PIPES = Number(opt('--pipes', '2'));
const BYTES = Number(opt('--bytes', '3000'));
const ROUNDS = Number(opt('--rounds', '200'));

/** A reader process: `socket N PORT` opens N connections and drains them, `pipe` drains its stdin; each writes the bytes it has read on stdout when asked (a line on its stdin for the socket reader, an IPC message for a pipe reader). */
const READER = `
const net = require('net');
let total = 0;
const report = () => process.stdout.write(total + '\\n');
if (process.argv[1] === 'socket') {
  const n = Number(process.argv[2]); const port = Number(process.argv[3]); let open = 0;
  for (let i = 0; i < n; i++) { const s = net.connect(port, '127.0.0.1', () => { if (++open === n) process.stdout.write('ready\\n'); }); s.on('data', (b) => { total += b.length; }); s.on('error', () => {}); }
  process.stdin.on('data', report);
} else {
  process.stdin.on('data', (b) => { total += b.length; });
  process.on('message', report);
}`;

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]!; };

function lines(p: ChildProcess): AsyncIterator<string> {
  let buf = '';
  const q: string[] = [];
  let wake: (() => void) | null = null;
  p.stdout!.on('data', (b: Buffer) => { buf += b.toString(); let i; while ((i = buf.indexOf('\n')) >= 0) { q.push(buf.slice(0, i)); buf = buf.slice(i + 1); } wake?.(); });
  return { next: async () => { while (q.length === 0) await new Promise<void>((r) => { wake = r; }); return { value: q.shift()!, done: false }; } };
}

async function sockets(n: number, frame: Buffer): Promise<{ wallUs: number; cpuUs: number }> {
  const conns: Socket[] = [];
  const srv = createServer((s) => { s.setNoDelay(true); conns.push(s); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  const rd = spawn(process.execPath, ['-e', READER, 'socket', String(n), String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const out = lines(rd);
  try {
    if ((await out.next()).value !== 'ready') throw new Error('reader not ready');
    while (conns.length < n) await new Promise((r) => setTimeout(r, 5));
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (const s of conns) s.write(frame);
      wall.push(Number(process.hrtime.bigint() - t0) / 1e3);
      const c1 = process.cpuUsage(c0);
      cpu.push(c1.user + c1.system);
      // wait until the reader has everything so far (the kernel buffers never fill)
      const want = (r + 1) * n * frame.length;
      for (;;) { rd.stdin!.write('?\n'); if (Number((await out.next()).value) >= want) break; await new Promise((res) => setTimeout(res, 1)); }
    }
    return { wallUs: median(wall), cpuUs: median(cpu) };
  } finally {
    for (const s of conns) s.destroy();
    srv.close();
    rd.kill();
  }
}

async function pipes(k: number, frame: Buffer): Promise<{ wallUs: number; cpuUs: number }> {
  const rds = Array.from({ length: k }, () => spawn(process.execPath, ['-e', READER, 'pipe'], { stdio: ['pipe', 'pipe', 'inherit', 'ipc'] }));
  const outs = rds.map(lines);
  try {
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (const p of rds) p.stdin!.write(frame);
      wall.push(Number(process.hrtime.bigint() - t0) / 1e3);
      const c1 = process.cpuUsage(c0);
      cpu.push(c1.user + c1.system);
      const want = (r + 1) * frame.length;
      for (let i = 0; i < k; i++) for (;;) { rds[i]!.send('?'); if (Number((await outs[i]!.next()).value) >= want) break; await new Promise((res) => setTimeout(res, 1)); }
    }
    return { wallUs: median(wall), cpuUs: median(cpu) };
  } finally {
    for (const p of rds) p.kill();
  }
}

async function main(): Promise<void> {
  const frame = Buffer.alloc(BYTES, 7);
  const results: Record<string, unknown>[] = [];
  for (const n of SUBS) {
    const r = await sockets(n, frame);
    results.push({ target: 'sockets', count: n, ...r, perWriteUs: r.wallUs / n });
    process.stdout.write(`  ${String(n).padStart(5)} sockets: a cycle of ${BYTES} B to each: wall ${r.wallUs.toFixed(0)} µs (${(r.wallUs / n).toFixed(1)} µs per write), CPU ${r.cpuUs.toFixed(0)} µs\n`);
  }
  const p = await pipes(PIPES, frame);
  results.push({ target: 'pipes', count: PIPES, ...p, perWriteUs: p.wallUs / PIPES });
  process.stdout.write(`  ${String(PIPES).padStart(5)} pipes:   a cycle of ${BYTES} B to each: wall ${p.wallUs.toFixed(0)} µs (${(p.wallUs / PIPES).toFixed(1)} µs per write), CPU ${p.cpuUs.toFixed(0)} µs\n`);
  if (args.includes('--json')) process.stdout.write(JSON.stringify({ benchmark: 'fanout-writes', date: new Date().toISOString(), node: process.version, cpus: cpus().length, bytes: BYTES, rounds: ROUNDS, results }, null, 2) + '\n');
}

main().then(() => process.exit(0), (e) => { process.stderr.write(`fanout-writes: ${(e as Error).stack}\n`); process.exit(1); });
