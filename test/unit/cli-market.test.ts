/**
 * The cointegrated market's command-line flags (src/cli/market-flags.ts) as a user meets them
 * (real processes of the built CLI): `tradsys gen --market cointegrated` writes a stream that
 * replays, bad values are usage errors (exit 2) naming the flag, values that do not fit the
 * market are ERR_SIM_CONFIG (exit 1), and `serve` refuses a bad simulator market before it starts.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from '../support/cli.js';

const run = (...args: string[]): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
const tmp = (): string => mkdtempSync(join(tmpdir(), 'cli-market-'));

describe('tradsys gen --market cointegrated', () => {
  it('writes a stream that replays, and says which market it used', () => {
    const f = join(tmp(), 'c.tso');
    const g = run('gen', '--out', f, '--count', '20000', '--symbols', '4', '--market', 'cointegrated', '--groups', '0,1;2,3', '--half-life', '500', '--factor-vol-bp', '0.5', '--spread-sd-bp', '15', '--betas', '1,1.2,1,0.8');
    expect(g.stderr).toMatch(/20,000 commands \(mix default, 4 symbols, seed 1, bad-rate 0\.001, cointegrated market\)/);
    expect(g.status).toBe(0);
    expect(statSync(f).size).toBe(16 + 20_000 * 32);
    const r = run('replay', '--symbols', '4', '--in', f, '--quiet');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.each([
    [['--market', 'nope'], /--market must be walk or cointegrated, got "nope"/],
    [['--market', 'cointegrated', '--half-life', '0'], /--half-life must be a positive number, got "0"/],
    [['--market', 'cointegrated', '--factor-vol-bp', '-1'], /--factor-vol-bp must be a non-negative number/],
    [['--market', 'cointegrated', '--groups', '0,x'], /--groups: "x" is not a symbol index/],
    [['--market', 'cointegrated', '--groups', '0,,1'], /--groups: an empty member/],
    [['--market', 'cointegrated', '--betas', '1,0'], /--betas must be positive numbers/],
    [['--groups', '0,1'], /need --market cointegrated/],
    [['--market', 'cointegrated', '--mix', 'flash-crash'], /does not apply to the flash-crash mix/],
  ])('refuses %j as a usage error', (args, msg) => {
    const r = run('gen', '--out', join(tmp(), 'x.tso'), '--count', '10', ...args);
    expect(r.stderr).toMatch(msg);
    expect(r.status).toBe(2);
  });

  it('refuses groups and betas that do not fit the symbols (ERR_SIM_CONFIG, exit 1)', () => {
    const a = run('gen', '--out', join(tmp(), 'x.tso'), '--count', '10', '--symbols', '4', '--market', 'cointegrated', '--groups', '0,9');
    expect(a.stderr).toMatch(/group member 9 is not an instrument index 0\.\.3/);
    expect(a.status).toBe(1);
    const b = run('gen', '--out', join(tmp(), 'x.tso'), '--count', '10', '--symbols', '4', '--market', 'cointegrated', '--betas', '1,1');
    expect(b.stderr).toMatch(/betas must list one number per instrument \(4\)/);
    expect(b.status).toBe(1);
  });
});

describe('tradsys serve --sim-*', () => {
  it('refuses a bad simulator market before the server starts', () => {
    const d = tmp();
    const a = run('serve', '--port', '0', '--no-storage', '--data', d, '--sim-groups', 'BTC-USD,DOGE');
    expect(a.stderr).toMatch(/cointegration group member "DOGE" is not one of the instruments \(BTC-USD, ETH-USD, SOL-USD, AAPL, MSFT, EURUSD\)/);
    expect(a.stdout).not.toMatch(/listening/);
    expect(a.status).toBe(1);
    expect(run('serve', '--sim-market', 'random').stderr).toMatch(/--sim-market must be walk or cointegrated/);
    expect(run('serve', '--sim-half-life-s', 'x').status).toBe(2);
    expect(run('serve', '--no-sim', '--sim-market', 'walk').stderr).toMatch(/--sim-\* options need the simulator/);
    expect(run('serve', '--sim-market', 'walk', '--sim-spread-sd-bp', '3').stderr).toMatch(/need --sim-market cointegrated/);
    expect(run('serve', '--sim-betas', 'ETH-USD').stderr).toMatch(/--sim-betas must be SYMBOL=BETA pairs/);
    expect(run('serve', '--sim-betas', 'ETH-USD=0').status).toBe(2);
    const b = run('serve', '--port', '0', '--no-storage', '--data', tmp(), '--sim-betas', 'ETH-USD=1.3,DOGE=2');
    expect(b.stderr).toMatch(/cointegration group member "DOGE" is not one of the instruments/);
    expect(b.status).toBe(1);
  });

  it('documents the flags in the help', () => {
    const h = run('help').stdout;
    for (const flag of ['--market walk|cointegrated', '--half-life COMMANDS', '--sim-market cointegrated|walk', '--sim-groups', '--sim-half-life-s', '--sim-betas']) expect(h).toContain(flag);
  });
});
