/**
 * Sweeps and walk-forward folds: the plans (parseSweep, sweepParams, foldWindows, chooseBest) and
 * the worker_threads pool, whose runs are identical to the same runs alone (same resultHash and
 * figures), in job order whatever order they finish in.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '../../src/workload/generator.js';
import { writeOrderFile } from '../../src/codec/tso.js';
import { runParallel } from '../../src/strategies/backtest/parallel.js';
import { chooseBest, foldWindows, parseSweep, runSpec, sweepParams, type RunSpec } from '../../src/strategies/backtest/spec.js';

const dir = mkdtempSync(join(tmpdir(), 'bt-par-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('plans', () => {
  it('parseSweep: JSON values where they parse, strings otherwise; the first parameter varies slowest', () => {
    const s = parseSweep('every=3,5; mode=fast,slow ;k=true,"x",{"a":1}');
    expect(s).toEqual([['every', [3, 5]], ['mode', ['fast', 'slow']], ['k', [true, 'x', { a: 1 }]]]);
    expect(sweepParams({ qty: 1 }, s.slice(0, 2))).toEqual([
      { qty: 1, every: 3, mode: 'fast' }, { qty: 1, every: 3, mode: 'slow' }, { qty: 1, every: 5, mode: 'fast' }, { qty: 1, every: 5, mode: 'slow' },
    ]);
    for (const bad of ['', 'x', '=1', 'a=1;a=2', 'a=1,,2']) expect(() => parseSweep(bad)).toThrow(expect.objectContaining({ code: 'ERR_BACKTEST_CONFIG' }));
  });
  it('foldWindows: K + 1 equal windows, fold k trains on k − 1 and tests on k', () => {
    expect(foldWindows(100, 3)).toEqual([
      { inSample: { from: 0, to: 25 }, outOfSample: { from: 25, to: 50 } },
      { inSample: { from: 25, to: 50 }, outOfSample: { from: 50, to: 75 } },
      { inSample: { from: 50, to: 75 }, outOfSample: { from: 75, to: 100 } },
    ]);
    expect(() => foldWindows(5, 3)).toThrow(/only 5/);
    expect(() => foldWindows(100, 0)).toThrow(expect.objectContaining({ code: 'ERR_BACKTEST_CONFIG' }));
  });
  it('chooseBest: highest Sharpe, null last, ties to the earlier run', () => {
    expect(chooseBest([null, 1, 3, 3, 2])).toBe(2);
    expect(chooseBest([null, null])).toBe(0);
    expect(chooseBest([-1, null])).toBe(0);
  });
});

describe('the pool', () => {
  const path = join(dir, 'h.tso');
  const fd = openSync(path, 'w');
  writeOrderFile(fd, generate({ count: 10_000, symbols: 2, seed: 5, mix: 'default', badRate: 0 }), 10_000, false);
  closeSync(fd);
  const base: RunSpec = {
    input: { type: 'file', path, symbols: 2, rate: 20_000, startMs: Date.UTC(2025, 0, 6) },
    strategy: { id: 'tape', kind: 'bt-tape', account: 900_000, symbols: ['S0'], params: {}, limits: { maxRepeatedExecutions: 100_000, maxOrdersPerSec: 100_000, maxMessagesPerSec: 100_000 } },
    module: join(import.meta.dirname, '../support/backtest-strategies.ts'),
    latency: { kind: 'constant', ns: 100_000 },
    fees: [{ makerBps: -1, takerBps: 2, makerPerLot: 0, takerPerLot: 0 }, { makerBps: 0, takerBps: 0, makerPerLot: 0, takerPerLot: 0 }],
  };
  const specs = sweepParams({}, parseSweep('every=2,3,7')).map((params, i) => ({ ...base, strategy: { ...base.strategy, params }, window: i === 2 ? { from: 2500, to: 7500 } : undefined }));

  it('gives each run the result it has alone', async () => {
    const done: number[] = [];
    const pooled = await runParallel(specs, 2, (i) => done.push(i));
    expect(done.sort()).toEqual([0, 1, 2]);
    for (let i = 0; i < specs.length; i++) {
      const solo = await runSpec(specs[i]!);
      expect(solo.summary.trades).toBeGreaterThan(0);
      expect(pooled[i]!.resultHash).toBe(solo.resultHash);
      expect(pooled[i]!.summary).toEqual(solo.summary);
      expect(pooled[i]!.days).toEqual(solo.days);
      expect(pooled[i]!.strategy.params).toEqual({ ...solo.strategy.params });
    }
    expect(new Set(pooled.map((r) => r.resultHash)).size).toBe(3);
  }, 120_000);

  it('fails with the first failing job\'s error, and stops every worker', async () => {
    const bad = { ...base, strategy: { ...base.strategy, params: { every: 0 } } };
    await expect(runParallel([bad, specs[0]!], 1)).rejects.toThrow(/run 1 of 2: .*every/);
    await expect(runParallel([specs[0]!], 0)).rejects.toThrow(expect.objectContaining({ code: 'ERR_BACKTEST_CONFIG' }));
  }, 120_000);
});
