/**
 * The backtest loop (src/strategies/backtest/backtest.ts) with the real engine and the real
 * StrategyRunner, on small hand-made histories: where a strategy command is sequenced for a given
 * latency (ties go to history), the liquidity it takes is gone for the history after it (a later
 * historical buyer finds less; a historical cancel of an order it filled is rejected), timers on
 * the simulated clock, walk-forward windows, determinism, and refusals.
 */
import { describe, expect, it } from 'vitest';
import { CMD_SIZE } from '../../src/abi/records.js';
import { encodeCommand } from '../../src/engine/engine.js';
import type { Command } from '../../src/domain/types.js';
import { loadInstruments } from '../../src/domain/instruments.js';
import { AFTER_END_MAX, runBacktest, type BacktestOptions, type BacktestResult } from '../../src/strategies/backtest/backtest.js';
import { arrayHistory } from '../../src/strategies/backtest/history.js';
import { constantLatency } from '../../src/strategies/backtest/latency.js';
import { createStrategyRunner, genericInstruments } from '../../src/strategies/backtest/spec.js';
import type { StrategyDefinition } from '../../src/strategies/api.js';
import { scripted } from '../support/probe-strategies.js';
import { tapeStrategy, timerStrategy } from '../support/backtest-strategies.js';

const ACC = 900;
const T0 = Date.UTC(2025, 0, 1) * 1e6;
const US = 1000;

const c = (op: number, side: number, id: number, price: number, qty: number, account: number, tif = 0, symbol = 0): Command =>
  ({ op, side, type: 0, tif, symbol, id: BigInt(id), price: BigInt(price), qty, account });

function hist(steps: [number, Command][]): ReturnType<typeof arrayHistory> {
  const b = new Uint8Array(steps.length * CMD_SIZE);
  const ts = new Float64Array(steps.length);
  steps.forEach(([t, x], i) => { encodeCommand(new DataView(b.buffer), i * CMD_SIZE, x); ts[i] = t; });
  return arrayHistory(b, ts, 'test history');
}

const HIGH = { maxOrdersPerSec: 100_000, maxMessagesPerSec: 100_000, maxRepeatedExecutions: 100_000, maxPosition: 1e6, maxDuplicateOrders: 100_000 };

function run(def: StrategyDefinition, steps: [number, Command][], latencyNs: number, extra: Partial<BacktestOptions> = {}, params: Record<string, unknown> = {}): BacktestResult {
  return runBacktest({
    strategy: { id: 's', kind: def.kind, account: ACC, symbols: ['S0'], params, limits: HIGH },
    definition: def, instruments: loadInstruments(genericInstruments(2)), history: hist(steps),
    latency: constantLatency(latencyNs), createRunner: createStrategyRunner as BacktestOptions['createRunner'], ...extra,
  });
}

/** On start: one IOC buy of 5 @ 100. */
const buyAtStart = scripted('buy-at-start', { onStart: (ctx) => { ctx.place({ symbol: 0, side: 0, price: 100, qty: 5, tif: 'ioc', tag: 'b' }); } });

// an ask of 10 @ 100, then two historical buyers of 5 at t = 10 µs and 20 µs
const RACE: [number, Command][] = [
  [T0, c(1, 1, 1, 100, 10, 1)],
  [T0 + 10 * US, c(1, 0, 2, 100, 5, 2, 1)],
  [T0 + 20 * US, c(1, 0, 3, 100, 5, 3, 1)],
];

describe('sequencing by latency', () => {
  it.each([
    // latency µs, the strategy's seq, its fill, what the two historical buyers got (their IOC remainders cancelled)
    [0, 2, 5],
    [5, 2, 5],
    [10, 3, 5], // a tie with the buyer at 10 µs: history first
    [15, 3, 5],
    [20, 4, 0], // a tie with the buyer at 20 µs: both buyers first, nothing left
    [25, 4, 0],
  ])('latency %i µs → sequenced as command %i, filled %i', (lat, seq, filled) => {
    const r = run(buyAtStart, RACE, lat * US);
    expect(r.orders.map((o) => [o.seq, o.op, o.price, o.qty])).toEqual([[seq, 1, 100, 5]]);
    expect(r.orders[0]!.tsNs).toBe(T0 + lat * US);
    expect(r.fills.reduce((a, f) => a + f.qty, 0)).toBe(filled);
    // 10 lots on offer: what the strategy took is gone for the later historical buyer
    expect(r.run.historical).toBe(3);
    expect(r.summary.turnover.lots).toBe(filled);
  });

  it('a historical cancel of an order the strategy filled is rejected and changes nothing', () => {
    const steps: [number, Command][] = [[T0, c(1, 1, 1, 100, 5, 1)], [T0 + 100 * US, c(2, 1, 1, 0, 0, 1)], [T0 + 200 * US, c(1, 0, 2, 100, 5, 2)]];
    const quiet = run(scripted('idle', {}), steps, 10 * US);
    expect(quiet.run.historyRejects).toBe(0);
    const r = run(buyAtStart, steps, 10 * US);
    expect(r.fills.map((f) => [f.seq, f.qty, f.liquidity])).toEqual([[2, 5, 'taker']]);
    expect(r.run.historyRejects).toBe(1); // the cancel: unknown_order
    // and the historical buyer at 200 µs now rests (nothing to buy): the strategy's position is marked at the last trade
    expect(r.summary.positions).toEqual({ S0: 5 });
  });
});

describe('clock and windows', () => {
  it('timers run on the simulated clock: an order per period, sequenced after the latency', () => {
    const steps: [number, Command][] = [[T0, c(1, 1, 1, 100, 100, 1)]];
    for (let i = 1; i <= 35; i++) steps.push([T0 + i * 100e6, c(1, 0, 1000 + i, 50, 1, 2)]); // every 100 ms, 3.5 s
    const r = run(timerStrategy, steps, 30 * US, {}, { everyMs: 1000, qty: 2, price: 100 });
    // (simulated times are doubles in ns since the epoch: exact to 256 ns today)
    expect(r.orders.map((o) => Math.abs(o.tsNs - T0 - [1e9, 2e9, 3e9][r.orders.indexOf(o)]! - 30 * US) <= 256)).toEqual([true, true, true]);
    expect(r.summary.trades).toBe(3);
    expect(r.summary.positions).toEqual({ S0: 6 });
    // equity samples at each bar boundary (1 s) and the end
    expect(r.equity.map((e) => e.tMs - T0 / 1e6)).toEqual([1000, 2000, 3000, 3500]);
  });

  it('a window trades only between its historical commands; the history before it still builds the book', () => {
    const steps: [number, Command][] = [[T0, c(1, 1, 1, 100, 100, 1)]];
    for (let i = 1; i <= 40; i++) steps.push([T0 + i * 100e6, c(1, 0, 1000 + i, 50, 1, 2)]);
    const r = run(timerStrategy, steps, 30 * US, { window: { from: 11, to: 31 } }, { everyMs: 1000, qty: 1, price: 100 });
    // started at command 11 (t = 1.1 s), stopped at command 31 (t = 3.1 s): timers at 2.1 s and 3.1 s? the stop comes first at 3.1 s
    expect(r.orders.map((o) => Math.round((o.tsNs - T0) / 1e6))).toEqual([2100]);
    expect(r.fills).toHaveLength(1);
  });
});

describe('ctx.pairs: the pairs saga in process on the simulated clock', () => {
  const pairsAtStart = scripted('pairs-at-start', {
    onStart: (ctx) => {
      ctx.pairs({ legA: { symbol: 0, side: 0, price: 100, qty: 5, tif: 'ioc' }, legB: { symbol: 1, side: 1, price: 200, qty: 5 }, legBTimeoutMs: 1000 });
    },
  });
  const runPairs = (steps: [number, Command][]): BacktestResult => runBacktest({
    strategy: { id: 's', kind: 'pairs-at-start', account: ACC, symbols: ['S0', 'S1'], limits: HIGH },
    definition: pairsAtStart, instruments: loadInstruments(genericInstruments(2)), history: hist(steps),
    latency: constantLatency(10 * US), createRunner: createStrategyRunner as BacktestOptions['createRunner'],
  });
  it('leg B is sent on A\'s fill, after the latency', () => {
    const r = runPairs([[T0, c(1, 1, 1, 100, 5, 1)], [T0 + 100 * US, c(1, 0, 2, 200, 5, 1, 0, 1)], [T0 + 2e9, c(1, 0, 3, 50, 1, 2)]]);
    expect(r.orders.map((o) => [o.op, o.symbol, o.side, o.price, o.qty, o.id >= 2 ** 51 && o.id < 2 ** 52])).toEqual([[1, 0, 0, 100, 5, true], [1, 1, 1, 200, 5, true]]);
    // A at 10 µs takes the ask; B, sent on A's fill, is sequenced at 20 µs, rests, and the bid at 100 µs takes it
    expect(r.fills.map((f) => [f.symbol, f.side, f.qty, f.liquidity])).toEqual([[0, 0, 5, 'taker'], [1, 1, 5, 'maker']]);
    expect(r.summary.positions).toEqual({ S0: 5, S1: -5 });
  });
  it('a leg B that times out is cancelled and A unwound, on the simulated clock', () => {
    const steps: [number, Command][] = [[T0, c(1, 1, 1, 100, 5, 1)], [T0 + 100 * US, c(1, 0, 2, 99, 10, 1)]];
    for (let i = 1; i <= 30; i++) steps.push([T0 + i * 100e6, c(1, 0, 100 + i, 10, 1, 2, 0, 1)]); // 3 s of unrelated bids on S1
    const r = runPairs(steps);
    const ops = r.orders.map((o) => [o.op, o.symbol, o.side]);
    expect(ops).toEqual([[1, 0, 0], [1, 1, 1], [2, 1, 1], [1, 0, 1]]); // A, B, cancel B at its timeout, the unwind sell of A
    const cancelAt = r.orders[2]!.tsNs - T0;
    expect(cancelAt).toBeGreaterThanOrEqual(1e9 + 20 * US - 256);
    expect(cancelAt).toBeLessThan(1e9 + 40 * US);
    expect(r.fills.map((f) => [f.symbol, f.side, f.qty, f.price])).toEqual([[0, 0, 5, 100], [0, 1, 5, 99]]);
    expect(r.summary.positions).toEqual({});
    expect(r.summary.pnl.realised).toBe(-5);
  });
});

describe('determinism and refusals', () => {
  const steps: [number, Command][] = [];
  // a two-sided random-ish market on S0, deterministic
  let x = 12345;
  const rnd = (): number => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x / 2 ** 32; };
  for (let i = 0; i < 4000; i++) {
    const side = rnd() < 0.5 ? 0 : 1;
    const px = 10_000 + Math.floor(rnd() * 7) - 3 + (side === 0 ? -1 : 1);
    const ioc = rnd() < 0.3;
    steps.push([T0 + i * 20 * US, c(1, side, i + 1, ioc ? (side === 0 ? px + 3 : px - 3) : px, 1 + Math.floor(rnd() * 5), 1 + (i % 7), ioc ? 1 : 0)]);
  }
  it('the same input and parameters give the same result and hash; other parameters another', () => {
    const a = run(tapeStrategy, steps, 40 * US, {}, { every: 3 });
    const b = run(tapeStrategy, steps, 40 * US, {}, { every: 3 });
    expect(a.fills.length).toBeGreaterThan(20);
    expect(a.resultHash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.resultHash).toBe(a.resultHash);
    expect(b.orders).toEqual(a.orders);
    expect(run(tapeStrategy, steps, 40 * US, {}, { every: 4 }).resultHash).not.toBe(a.resultHash);
    expect(run(tapeStrategy, steps, 80 * US, {}, { every: 3 }).resultHash).not.toBe(a.resultHash);
  });
  it('after the history, a strategy that answers its own events forever is stopped', () => {
    // every report of its own IOC (cancelled: nothing to buy) makes it send another
    const echo = scripted('echo', {
      onStart: (ctx) => { ctx.place({ symbol: 0, side: 0, price: 100, qty: 1, tif: 'ioc' }); },
      onOrder: (ctx) => { ctx.place({ symbol: 0, side: 0, price: 100, qty: 1, tif: 'ioc' }); },
    });
    const r = run(echo, [[T0, c(1, 0, 1, 90, 1, 1)]], 50 * US);
    expect(r.run.strategyCommands).toBeGreaterThan(AFTER_END_MAX);
    // (each IOC gets two reports, A and X, so its queue doubles: what was queued at the stop is still sequenced, as a command ring would)
    expect(r.run.strategyCommands).toBeLessThan(2 * AFTER_END_MAX);
    expect(r.strategy.state).toBe('stopped');
  });
  it('refuses a history that trades on the strategy\'s account', () => {
    expect(() => run(buyAtStart, [[T0, c(1, 1, 1, 100, 5, ACC)]], 0)).toThrow(expect.objectContaining({ code: 'ERR_BACKTEST_CONFIG' }));
  });
  it('refuses a bad bar interval and recorded latency without a journal', () => {
    expect(() => run(buyAtStart, RACE, 0, { barMs: 0 })).toThrow(expect.objectContaining({ code: 'ERR_BACKTEST_CONFIG' }));
    expect(() => runBacktest({
      strategy: { id: 's', kind: 'buy-at-start', account: ACC, symbols: ['S0'] }, definition: buyAtStart, instruments: loadInstruments(genericInstruments(1)),
      history: hist(RACE), latency: { kind: 'recorded', minNs: Infinity, next: () => 0, describe: () => '' }, createRunner: createStrategyRunner as BacktestOptions['createRunner'],
    })).toThrow(/recorded latency needs a journal/);
  });
});
