/**
 * The `tradsys` CLI as a user meets it (real processes): usage errors, bad files named by record
 * or line, gen → replay round trips in both formats.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../support/cli.js';
import { CSV_HEADER, tsoHeader } from '../../src/codec/tso.js';

const run = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
const tmp = (): string => mkdtempSync(join(tmpdir(), 'cli-'));

describe('tradsys CLI', () => {
  it('prints usage and refuses unknown commands and options', () => {
    expect(run('help').stdout).toMatch(/tradsys replay --symbols N --in/);
    const r = run('frobnicate');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
    expect(run('replay', '--in', 'x.tso').stderr).toMatch(/replay needs --symbols N/);
    expect(run('replay', '--symbols', '2').stderr).toMatch(/replay needs --in/);
    expect(run('replay', '--symbols', 'two', '--in', 'x').stderr).toMatch(/--symbols must be an integer/);
    expect(run('replay', '--symbols', '2', '--in', 'x', '--bogus', '1').stderr).toMatch(/unknown option --bogus/);
    expect(run('gen', '--out', 'x.tso', '--mix', 'nope').stderr).toMatch(/--mix must be one of default, cancel-heavy, deep-book, aggressive, exchange-core/);
  });

  it('names the missing file, and refuses a directory', () => {
    const r = run('replay', '--symbols', '2', '--in', '/nonexistent/f.tso');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot open \/nonexistent\/f.tso/);
    const d = tmp();
    const r2 = run('replay', '--symbols', '2', '--in', d);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/is not a regular file/);
    expect(r2.stderr).not.toMatch(/ at /);
  });

  it('names the bad record of a .tso file', () => {
    const d = tmp();
    const body = new Uint8Array(3 * 32);
    body[0] = 1; body[32] = 1; body[64] = 7; // record 2: op 7
    const f = join(d, 'bad.tso');
    writeFileSync(f, Buffer.concat([tsoHeader(3), body]));
    const r = run('replay', '--symbols', '1', '--in', f);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad.tso: record 2: op 7 is not 1 \(new\), 2 \(cancel\) or 3 \(modify\)/);
    writeFileSync(f, Buffer.concat([tsoHeader(4), body]));
    expect(run('replay', '--symbols', '1', '--in', f).stderr).toMatch(/header says 4 records but the file holds 3/);
    writeFileSync(f, Buffer.from('TSX1' + '\0'.repeat(12)));
    expect(run('replay', '--symbols', '1', '--in', f).stderr).toMatch(/bad magic/);
    writeFileSync(f, Buffer.concat([tsoHeader(2), body]));
    expect(run('replay', '--symbols', '1', '--in', f).stderr).toMatch(/32 bytes after the last of 2 records/);
  });

  it('names the bad line of a CSV file', () => {
    const d = tmp();
    const f = join(d, 'bad.csv');
    writeFileSync(f, `${CSV_HEADER}\nN,B,L,GTC,0,1,100,5,1\nN,X,L,GTC,0,2,100,5,1\n`);
    let r = run('replay', '--symbols', '1', '--in', f);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad.csv:3: side "X" is not B or S/);
    writeFileSync(f, `op,side\nN,B\n`);
    expect(run('replay', '--symbols', '1', '--in', f).stderr).toMatch(/bad.csv:1: first line must be the header/);
    writeFileSync(f, `${CSV_HEADER}\nN,B,L,GTC,0,1,100,5\n`);
    expect(run('replay', '--symbols', '1', '--in', f).stderr).toMatch(/bad.csv:2: expected 9 fields/);
    writeFileSync(f, `${CSV_HEADER}\nN,B,L,GTC,0,1,9223372036854775808,5,1\n`);
    expect(run('replay', '--symbols', '1', '--in', f).stderr).toMatch(/bad.csv:2: price "9223372036854775808" is not a 64-bit signed integer/);
    writeFileSync(f, `${CSV_HEADER}\nN,B,L,GTC,0,1,100,-5,1\nN,B,L,GTC,0,2,-100,5,1\n`);
    r = run('replay', '--symbols', '1', '--in', f, '--events', '-', '--quiet');
    expect(r.stdout).toBe('R,1,bad_qty\nR,2,bad_price\n');
  });

  it('gen writes .tso and .csv that replay to the same events', () => {
    const d = tmp();
    for (const ext of ['tso', 'csv']) {
      const g = run('gen', '--out', join(d, `s.${ext}`), '--count', '5000', '--symbols', '4', '--seed', '11', '--mix', 'exchange-core');
      expect(g.status, g.stderr).toBe(0);
      expect(g.stderr).toMatch(/gen: 5,000 commands \(mix exchange-core/);
      const r = run('replay', '--symbols', '4', '--in', join(d, `s.${ext}`), '--events', join(d, `${ext}.events`), '--book', join(d, `${ext}.book`));
      expect(r.status, r.stderr).toBe(0);
    }
    expect(readFileSync(join(d, 'tso.events'), 'utf8')).toBe(readFileSync(join(d, 'csv.events'), 'utf8'));
    expect(readFileSync(join(d, 'tso.book'), 'utf8')).toBe(readFileSync(join(d, 'csv.book'), 'utf8'));
    expect(readFileSync(join(d, 'tso.events'), 'utf8').split('\n').length).toBeGreaterThan(5000);
  });

  it('ends quietly when its output pipe closes early', async () => {
    const { spawn } = await import('node:child_process');
    const d = tmp();
    expect(run('gen', '--out', join(d, 'big.tso'), '--count', '200000', '--symbols', '4').status).toBe(0);
    const child = spawn(process.execPath, [CLI, 'replay', '--symbols', '4', '--in', join(d, 'big.tso'), '--events', '-', '--quiet']);
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect(stderr).not.toMatch(/EPIPE|Error/);
    expect(code).toBe(0);
  });

  it('demo prints orders, trades, the top of book and throughput', () => {
    const r = run('demo', '--count', '20000', '--symbols', '3');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/replayed 20,000 commands in .* M commands\/s/);
    expect(r.stdout).toMatch(/events: accepted [\d,]+ · rejected [\d,]+ · trades [\d,]+/);
    expect(r.stdout).toMatch(/top of book/);
    expect(r.stdout).toMatch(/invariants: ok/);
  });
});

describe('the journal clause of the serve banner', () => {
  it('says an empty journal had nothing to replay and how long the engine took, and what a recovery did', async () => {
    const { recoveryText } = await import('../../src/cli/main.js');
    expect(recoveryText({ lastSeq: 0, snapshotSeq: 0, replayed: 0, seconds: 1.214, cut: null })).toBe('empty journal, nothing to replay (engine ready in 1.21 s)');
    expect(recoveryText(null)).toBe('empty journal, nothing to replay (engine ready in 0.00 s)');
    expect(recoveryText({ lastSeq: 5184, snapshotSeq: 0, replayed: 5184, seconds: 0.08, cut: null })).toBe('recovered through seq 5184 (5184 commands replayed; engine ready in 0.08 s)');
    expect(recoveryText({ lastSeq: 3_000_100, snapshotSeq: 3_000_000, replayed: 100, seconds: 0.3, cut: { file: 'j/00000001.seg', offset: 4096, bytes: 17 } }))
      .toBe('recovered through seq 3000100 (snapshot at seq 3000000 + 100 commands replayed; engine ready in 0.30 s, torn tail of 17 bytes cut at j/00000001.seg:4096)');
  });
});

describe('tradsys serve', () => {
  it('starts, prints where it listens and the demo key, serves HTTP, and stops cleanly on SIGTERM', async () => {
    const { spawn } = await import('node:child_process');
    const d = tmp();
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data', d]);
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    const url = await new Promise<string>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`no listen line: ${out}`)), 30_000);
      child.stdout.on('data', () => { const m = /listening on (http:\/\/[^\s]+)/.exec(out); if (m && out.includes('Ctrl-C')) { clearTimeout(t); res(m[1]!); } });
    });
    expect(out).toMatch(/demo key {2}account 1 {2}key tk_[0-9a-f]{24} {2}secret [0-9a-f]{64}/);
    expect(out).toMatch(/market simulator: on/);
    expect(out).toMatch(/ClickHouse/);
    expect(out).toMatch(/engine {4}WASM .* on its own thread \(normal scheduling\)/);
    expect(out).toMatch(/journal .* · empty journal, nothing to replay \(engine ready in \d+\.\d\d s\)/);
    expect(out).not.toMatch(/0 replayed in/);
    const health = await (await fetch(`${url}/health`)).json() as { status: string };
    expect(health.status).toBe('ok');
    const code = await new Promise<number | null>((res) => { child.on('exit', (c) => res(c)); child.kill('SIGTERM'); });
    expect(code).toBe(0);
    expect(out).toMatch(/stopped cleanly/);
  }, 60_000);

  it('refuses a port that is taken, with a clear error', async () => {
    const { createServer } = await import('node:net');
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    const port = (srv.address() as { port: number }).port;
    const r = run('serve', '--port', String(port), '--data', tmp());
    srv.close();
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/cannot listen on 127.0.0.1:\d+: .*\(try --port\)/);
  }, 60_000);

  it('--engine-rt 10 makes the engine thread SCHED_FIFO where the process may, else says why', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--no-sim', '--no-storage', '--engine-rt', '10', '--data', tmp()]);
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    await new Promise<void>((res, rej) => {
      const t = setTimeout(() => rej(new Error(`not started: ${out}`)), 30_000);
      child.stdout.on('data', () => { if (out.includes('Ctrl-C')) { clearTimeout(t); res(); } });
    });
    const code = await new Promise<number | null>((res) => { child.on('exit', (c) => res(c)); child.kill('SIGTERM'); });
    expect(code).toBe(0);
    expect(out).toMatch(/engine {4}WASM .* on its own thread \((real-time: SCHED_FIFO 10|normal scheduling — SCHED_FIFO 10 not set: .+)\)/);
    if (process.platform === 'linux' && availableParallelism() >= 2 && spawnSync('chrt', ['-f', '1', 'true']).status === 0) expect(out).toMatch(/real-time: SCHED_FIFO 10/);
  }, 60_000);

  it('refuses an --engine-rt outside [0, 99]', () => {
    for (const v of ['100', '-1', 'high']) {
      const r = run('serve', '--port', '0', '--engine-rt', v, '--data', tmp());
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--engine-rt must be an integer in \[0, 99\]/);
    }
  });

  it('refuses a --binary-frame-bytes outside [1, 16 MiB]', () => {
    for (const v of ['0', '16777217', 'big']) {
      const r = run('serve', '--port', '0', '--binary-frame-bytes', v, '--data', tmp());
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/--binary-frame-bytes must be an integer in \[1, 16777216\]/);
    }
  });
});
