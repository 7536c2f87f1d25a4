/**
 * `tradsys feed publish` → `tradsys feed listen` end to end on loopback through the built CLI
 * (`npm run build:ts` first), with `--json`: the listener reports its path and why, per-second rates
 * and final stats; every message of a seeded order stream arrives (test-only loss recovered by
 * retransmission); the listener's books have the engine's level counts. And the flag errors.
 * Bounded: each process has a timeout; both are killed in afterEach if still running.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '../../src/workload/generator.js';
import { writeOrderFile } from '../../src/codec/tso.js';
import { Engine } from '../../src/engine/engine.js';
import { CLI } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'feed-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SYMBOLS = 3;
const N = 4000;
const stream = join(dir, 's.tso');
const recs = generate({ count: N, symbols: SYMBOLS, seed: 4242, mix: 'default', badRate: 0.001 });
{ const fd = openSync(stream, 'w'); try { writeOrderFile(fd, recs, N, false); } finally { closeSync(fd); } }

const procs: ChildProcess[] = [];
afterEach(() => { for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL'); });

function run(args: string[], timeoutMs = 60_000): { proc: ChildProcess; lines: Record<string, unknown>[]; stderr: () => string; exit: Promise<number> } {
  const proc = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(proc);
  const lines: Record<string, unknown>[] = [];
  let out = '';
  let err = '';
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    let i;
    while ((i = out.indexOf('\n')) >= 0) { const l = out.slice(0, i); out = out.slice(i + 1); if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>); }
  });
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
  const exit = new Promise<number>((res) => proc.on('exit', (code) => { clearTimeout(timer); res(code ?? -1); }));
  return { proc, lines, stderr: () => err, exit };
}

/** A UDP port that was free a moment ago. */
async function freePort(): Promise<number> {
  const t = createSocket('udp4');
  await new Promise<void>((res) => t.bind(0, '127.0.0.1', () => res()));
  const p = t.address().port;
  await new Promise<void>((res) => t.close(() => res()));
  return p;
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('tradsys feed publish → listen (loopback, --json)', () => {
  async function e2e(path: 'dgram' | 'auto'): Promise<void> {
    const rp = await freePort();
    const l = run(['feed', 'listen', '--bind', '127.0.0.1', '--port', '0', '--json', '--request', `127.0.0.1:${rp}`, '--symbols', String(SYMBOLS), '--gap-timeout-ms', '5000', '--path', path]);
    await until(() => l.lines.length > 0, 30_000);
    const start = l.lines[0]!;
    expect(start).toMatchObject({ type: 'start', bind: '127.0.0.1' });
    if (path === 'dgram') expect(start).toMatchObject({ path: 'dgram', pathReason: 'dgram: chosen by --path' });
    else {
      // auto: recvmmsg where the native addon runs it, else dgram; either way it says why
      expect(['recvmmsg', 'dgram']).toContain(start.path);
      expect(String(start.pathReason)).toMatch(start.path === 'recvmmsg' ? /xdp: not tried \(no --ifname\); recvmmsg: running/ : /recvmmsg: .*; dgram: the fallback/);
    }
    const chosen = start.path as string;
    const port = start.port as number;
    expect(port).toBeGreaterThan(0);
    const p = run(['feed', 'publish', '--dest', `127.0.0.1:${port}`, '--from-file', stream, '--symbols', String(SYMBOLS), '--session', 'CLI1',
      '--rate', '40000', '--request-port', String(rp), '--request-host', '127.0.0.1', '--drop-every', '7', '--linger-ms', '60000', '--json']);
    expect(await l.exit).toBe(0); // at the end of session, every message recovered
    p.proc.kill('SIGINT'); // ends the publisher's linger (it keeps answering requests until then)
    expect(await p.exit).toBe(0);
    const pf = p.lines.find((x) => x.type === 'final')!;
    const lf = l.lines.find((x) => x.type === 'final')!;
    expect(pf).toMatchObject({ ended: true, reason: 'source ended', session: 'CLI1' });
    expect(pf.messagesPerSec as number).toBeGreaterThan(0);
    expect(pf.droppedPackets as number).toBeGreaterThan(0);
    const last = (pf.nextSeq as number) - 1;
    expect(lf).toMatchObject({ type: 'final', path: chosen, ended: true, session: 'CLI1', lastSeq: last, unrecovered: 0, ringOverruns: 0, stampSource: chosen === 'dgram' ? 'user' : 'software' });
    expect(lf.recovered as number).toBeGreaterThanOrEqual(pf.droppedMessages as number);
    expect((lf as { books: { staleSymbols: number; inconsistent: number; levels: Record<string, [number, number]> } }).books).toMatchObject({ staleSymbols: 0, inconsistent: 0 });
    // the engine's level counts for the same stream
    const e = new Engine({ symbols: SYMBOLS, capacity: 1 << 14 });
    e.submitRaw(recs, 0, N, () => undefined);
    const want: Record<string, [number, number]> = {};
    for (let s = 0; s < SYMBOLS; s++) { const b = e.depth(s, 0, 1 << 20).length; const a = e.depth(s, 1, 1 << 20).length; if (a + b) want[s] = [b, a]; }
    expect((lf.books as { levels: unknown }).levels).toEqual(want);
    expect(Object.keys(want).length).toBe(SYMBOLS);
    // rate lines name the path and the stamp source
    const rate = l.lines.find((x) => x.type === 'rate');
    if (rate) expect(rate).toMatchObject({ path: chosen, stampSource: lf.stampSource });
    expect(lf.latency).toMatchObject({ samples: expect.any(Number) });
  }
  it('--path dgram: delivers the whole session, recovers test-only loss, and builds the engine\'s books', () => e2e('dgram'));
  it('--path auto: the same on the path it picks (recvmmsg with the native addon), saying why', () => e2e('auto'));

  it('refuses bad flags with a clear message (exit 2) and a source that cannot be read (exit 1)', () => {
    const cases: [string[], RegExp, number][] = [
      [['feed'], /publish or listen/, 2],
      [['feed', 'send'], /unknown feed subcommand/, 2],
      [['feed', 'publish', '--from-file', stream], /--dest HOST:PORT/, 2],
      [['feed', 'publish', '--dest', 'localhost:9', '--from-file', stream], /IPV4:PORT/, 2],
      [['feed', 'publish', '--dest', '127.0.0.1:9'], /exactly one of --from-file/, 2],
      [['feed', 'publish', '--dest', '127.0.0.1:9', '--from-file', stream, '--session', 'WAY-TOO-LONG-NAME'], /--session/, 2],
      [['feed', 'publish', '--dest', '127.0.0.1:9', '--from-file', stream, '--rate', 'fast'], /--rate must be a number/, 2],
      [['feed', 'publish', '--dest', '127.0.0.1:9', '--from-file', stream, '--drop-every', '1'], /--drop-every/, 2],
      [['feed', 'publish', '--dest', '127.0.0.1:9', '--from-server', 'ws://127.0.0.1:1/ws', '--symbols', '3'], /--symbols goes with --from-file/, 2],
      [['feed', 'publish', '--dest', '127.0.0.1:9', '--from-file', join(dir, 'nope.tso')], /nope\.tso/, 1],
      [['feed', 'listen'], /--port P/, 2],
      [['feed', 'listen', '--port', '9', '--path', 'fast'], /--path must be/, 2],
      [['feed', 'listen', '--port', '9', '--path', 'xdp'], /--ifname/, 2],
      [['feed', 'listen', '--port', '9', '--ring', '1000'], /power of two/, 2],
      [['feed', 'listen', '--port', '9', '--bogus'], /unknown option --bogus/, 2],
    ];
    for (const [args, re, code] of cases) {
      const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
      expect(r.stderr, args.join(' ')).toMatch(re);
      expect(r.status, args.join(' ')).toBe(code);
    }
  });
});
