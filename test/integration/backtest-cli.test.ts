/**
 * `tradsys backtest` through the built CLI (run with `--import tsx` so that `--module` can load the
 * TypeScript test strategies): a small generated .tso end to end — the summary, the `--json`
 * fields, result.json and an equity.svg that parses as XML — the same resultHash from two
 * separate processes, a sweep over the worker pool whose runs equal the single runs, and clear
 * errors (exit 2 for usage, 1 for a bad configuration) for bad flags.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import { generate } from '../../src/workload/generator.js';
import { writeOrderFile } from '../../src/codec/tso.js';
import { CLI } from '../support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'bt-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const tso = join(dir, 'h.tso');
const fd = openSync(tso, 'w');
writeOrderFile(fd, generate({ count: 12_000, symbols: 3, seed: 21, mix: 'default', badRate: 0.001 }), 12_000, false);
closeSync(fd);
const fees = join(dir, 'fees.json');
writeFileSync(fees, JSON.stringify({ '*': { makerBps: -1, takerBps: 2.5 }, S0: { takerPerLot: 0.1 } }));
const MODULE = join(import.meta.dirname, '../support/backtest-strategies.ts');
const BASE = ['backtest', '--strategy', 'bt-tape', '--module', MODULE, '--in', tso, '--symbols', '3', '--trade', 'S0', '--rate', '4000',
  '--latency-us', '80', '--fees', fees, '--limits', '{"maxRepeatedExecutions":100000,"maxOrdersPerSec":100000,"maxMessagesPerSec":100000}'];

function cli(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

interface Report {
  resultHash: string; tradesHash: string; equitySvg: string | null;
  strategy: { id: string; kind: string; account: number; params: Record<string, unknown>; state: string };
  run: { commands: number; historical: number; strategyCommands: number; events: number; latency: string; recorded: null };
  summary: {
    pnl: { realised: number; unrealised: number; total: number; fees: number; net: number }; sharpe: number | null; sortino: number | null;
    sampling: { barMs: number; bars: number }; maxDrawdown: number; turnover: { lots: number; notional: number }; trades: number;
    orders: { new: number }; fillRatio: number; markouts: { horizonMs: number; fills: number; avgTicks: number | null }[];
  };
  days: { day: string; fills: number }[];
}

describe('tradsys backtest', () => {
  it('runs a .tso end to end: --json fields, result.json and a valid equity.svg; the same hash from another process', () => {
    const out = join(dir, 'out');
    const a = cli([...BASE, '--params', '{"every":3}', '--json', '--out', out]);
    expect(a.err).not.toMatch(/Error/);
    expect(a.code).toBe(0);
    const r = JSON.parse(a.out) as Report;
    expect(typeof r.resultHash).toBe('string');
    expect(r.resultHash).toMatch(/^[0-9a-f]{64}$/);
    expect(r.strategy).toMatchObject({ id: 'bt-tape', kind: 'bt-tape', account: 900000, params: { every: 3, qty: 2 } });
    expect(r.run).toMatchObject({ historical: 12_000, latency: 'constant 80 µs', recorded: null });
    expect(r.run.commands).toBe(12_000 + r.run.strategyCommands);
    expect(r.summary.trades).toBeGreaterThan(10);
    expect(r.summary.pnl.net).toBeCloseTo(r.summary.pnl.total - r.summary.pnl.fees, 9);
    expect(r.summary.pnl.total).toBeCloseTo(r.summary.pnl.realised + r.summary.pnl.unrealised, 9);
    expect(r.summary.pnl.fees).not.toBe(0);
    expect(r.summary.markouts.map((m) => m.horizonMs)).toEqual([1000, 5000, 60000]);
    expect(r.summary.sampling.bars).toBeGreaterThan(1);
    for (const k of ['sharpe', 'sortino', 'maxDrawdown', 'turnover', 'fillRatio', 'orders']) expect(r.summary).toHaveProperty(k);
    expect(r.days).toEqual([expect.objectContaining({ day: '2025-01-01', fills: r.summary.trades })]);
    expect(r.equitySvg).toBe(join(out, 'equity.svg'));
    expect(XMLValidator.validate(readFileSync(join(out, 'equity.svg'), 'utf8'))).toBe(true);
    const file = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as Report & { orders: unknown[]; fills: unknown[]; equity: unknown[] };
    expect(file.resultHash).toBe(r.resultHash);
    expect(file.fills).toHaveLength(r.summary.trades);
    expect(file.orders).toHaveLength(r.run.strategyCommands);
    expect(file.equity).toHaveLength(r.summary.sampling.bars);
    // another process, the text summary
    const b = cli([...BASE, '--params', '{"every":3}', '--quiet']);
    expect(b.code).toBe(0);
    expect(b.out).toContain(`resultHash ${r.resultHash}`);
    expect(b.out).toMatch(/P&L \(ticks × lots\): realised .* net /);
    expect(b.out).toMatch(/markouts \(ticks, per fill\): \+1 s/);
    expect(b.out).toMatch(/2025-01-01 /);
  }, 120_000);

  it('a sweep runs in the pool and gives each run the single run\'s hash', () => {
    const s = cli([...BASE, '--sweep', 'every=3,5', '--workers', '2', '--json', '--quiet']);
    expect(s.code).toBe(0);
    const doc = JSON.parse(s.out) as { sweep: (Report & { params: Record<string, unknown> })[]; best: number; bestBy: string };
    expect(doc.sweep.map((x) => x.params)).toEqual([{ every: 3 }, { every: 5 }]);
    expect(doc.bestBy).toBe('sharpe');
    expect([0, 1]).toContain(doc.best);
    const single = JSON.parse(cli([...BASE, '--params', '{"every":5}', '--json', '--quiet']).out) as Report;
    expect(doc.sweep[1]!.resultHash).toBe(single.resultHash);
    expect(doc.sweep[0]!.resultHash).not.toBe(single.resultHash);
  }, 180_000);

  it('walk-forward folds: parameters chosen in sample, tested out of sample', () => {
    const f = cli([...BASE, '--sweep', 'every=3,5', '--folds', '2', '--workers', '2', '--json']);
    expect(f.code).toBe(0);
    expect(f.err).toMatch(/in-sample run 4\/4 done[\s\S]*out-of-sample run 2\/2 done/);
    const doc = JSON.parse(f.out) as { folds: (Report & { fold: number; inSample: { from: number; to: number }; outOfSample: { from: number; to: number }; params: { every: number }; inSampleSharpe: (number | null)[] })[]; outOfSample: { net: number; resultHashes: string[] } };
    expect(doc.folds.map((x) => [x.fold, x.inSample, x.outOfSample])).toEqual([
      [1, { from: 0, to: 4000 }, { from: 4000, to: 8000 }], [2, { from: 4000, to: 8000 }, { from: 8000, to: 12_000 }],
    ]);
    for (const x of doc.folds) {
      expect(x.inSampleSharpe).toHaveLength(2);
      const best = (x.inSampleSharpe[1] ?? -Infinity) > (x.inSampleSharpe[0] ?? -Infinity) ? 5 : 3;
      expect(x.params).toEqual({ every: best });
      expect(x.run.historical).toBeGreaterThanOrEqual(4000); // the history before the window runs too
    }
    expect(doc.outOfSample.net).toBeCloseTo(doc.folds[0]!.summary.pnl.net + doc.folds[1]!.summary.pnl.net, 9);
    expect(doc.outOfSample.resultHashes).toEqual(doc.folds.map((x) => x.resultHash));
  }, 240_000);

  it.each([
    [['backtest', '--in', tso], 2, /needs --strategy KIND/],
    [['backtest', '--strategy', 'bt-tape', '--module', MODULE], 2, /exactly one input/],
    [['backtest', '--strategy', 'bt-tape', '--module', MODULE, '--in', tso, '--journal', dir], 2, /exactly one input/],
    [['backtest', '--strategy', 'bt-tape', '--module', MODULE, '--in', tso, '--bogus', '1'], 2, /unknown option --bogus/],
    [['backtest', '--strategy', 'bt-tape', '--module', MODULE, '--in', tso, '--latency', 'fast'], 2, /--latency must be constant, journal or recorded/],
    [['backtest', '--strategy', 'bt-tape', '--module', MODULE, '--in', tso, '--latency', 'recorded'], 2, /--latency recorded needs --journal DIR/],
    [['backtest', '--strategy', 'bt-tape', '--module', MODULE, '--in', tso, '--latency-us', '-5'], 2, /--latency-us must be a number/],
    [['backtest', '--strategy', 'bt-tape', '--module', MODULE, '--in', tso, '--params', '[1]'], 2, /--params must be a JSON object/],
    [['backtest', '--strategy', 'bt-tape', '--module', MODULE, '--in', tso, '--trade', 'BTC-USD'], 2, /--trade: unknown symbol BTC-USD/],
    [['backtest', '--strategy', 'bt-tape', '--module', MODULE, '--in', tso, '--rate', '0'], 2, /--rate must be/],
    [['backtest', '--strategy', 'bt-tape', '--module', MODULE, '--in', tso, '--workers', '2'], 2, /--workers applies to --sweep and --folds/],
    [['backtest', '--strategy', 'bt-tape', '--module', MODULE, '--in', tso, '--sweep', 'every'], 1, /--sweep: "every" is not name=v1,v2/],
    [['backtest', '--strategy', 'nope', '--module', MODULE, '--in', tso], 1, /unknown strategy kind "nope" \(known: .*bt-tape/],
    [['backtest', '--strategy', 'bt-tape', '--module', MODULE, '--in', tso, '--params', '{"every":0}'], 1, /every/],
    [['backtest', '--strategy', 'bt-tape', '--module', MODULE, '--in', tso, '--fees', tso], 1, /fees: .* is not JSON/],
    [['backtest', '--strategy', 'bt-tape', '--module', MODULE, '--in', join(dir, 'missing.tso')], 1, /missing\.tso/],
  ])('refuses %j (exit %i)', (args, code, msg) => {
    const r = cli(args as string[]);
    expect(r.err).toMatch(msg as RegExp);
    expect(r.code).toBe(code);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
  }, 60_000);
});
