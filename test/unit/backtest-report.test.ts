/**
 * The backtest report's figures against hand computations: Sharpe, Sortino, max drawdown, and the
 * ResultTracker's P&L (average cost), fees, fills, turnover, fill ratio, markouts and the per-day
 * table, fed with real engine events.
 */
import { describe, expect, it } from 'vitest';
import { CMD_SIZE, EVT_SIZE } from '../../src/abi/records.js';
import { Engine, encodeCommand } from '../../src/engine/engine.js';
import type { Command } from '../../src/domain/types.js';
import { ResultTracker, maxDrawdown, sharpe, sortino, type Marks } from '../../src/strategies/backtest/report.js';
import { feeFn, parseFees } from '../../src/strategies/backtest/fees.js';

const ACC = 7;

function cmd(op: number, side: number, symbol: number, id: number, price: number, qty: number, account: number, tif = 0, type = 0): Command {
  return { op, side, type, tif, symbol, id: BigInt(id), price: BigInt(price), qty, account };
}

/** Runs commands one at a time (times given), feeding every event to the tracker. */
function drive(engine: Engine, t: ResultTracker, steps: [number, Command][], seq0 = 0): number {
  let seq = seq0;
  const buf = new Uint8Array(CMD_SIZE);
  const dv = new DataView(buf.buffer);
  for (const [tsMs, c] of steps) {
    seq++;
    encodeCommand(dv, 0, c);
    if (c.account === ACC) t.onSent(seq, tsMs * 1e6, c.op, c.side, c.type, c.tif, c.symbol, Number(c.id), Number(c.price), c.qty);
    engine.inbox.set(buf, 0);
    engine.runInbox(1, (v, _b, k) => { for (let i = 0; i < k; i++) t.onEvent(v, i * EVT_SIZE, seq, tsMs * 1e6); });
  }
  return seq;
}

function engineMarks(e: Engine): Marks {
  return { mid: (s) => { const b = e.depth(s, 0, 1); const a = e.depth(s, 1, 1); return b.length && a.length ? (Number(b[0]!.price) + Number(a[0]!.price)) / 2 : Number.NaN; } };
}

describe('figures', () => {
  it('Sharpe: mean / sample sd × √periods (hand computed)', () => {
    // r = 1, 2, 3, 4: mean 2.5, sample variance (2.25+0.25+0.25+2.25)/3 = 5/3
    expect(sharpe([1, 2, 3, 4], 252)).toBeCloseTo((2.5 / Math.sqrt(5 / 3)) * Math.sqrt(252), 12);
    expect(sharpe([1, 1, 1], 252)).toBeNull();
    expect(sharpe([5], 252)).toBeNull();
  });
  it('Sortino: mean / downside deviation over all n (target 0)', () => {
    // r = 2, -1, 3, -2: mean 0.5, downside √((1+4)/4)
    expect(sortino([2, -1, 3, -2], 100)).toBeCloseTo((0.5 / Math.sqrt(5 / 4)) * 10, 12);
    expect(sortino([1, 2, 3], 100)).toBeNull();
  });
  it('max drawdown from the running peak (which starts at 0)', () => {
    expect(maxDrawdown([1, 3, 2, 5, 1, 4])).toBe(4);
    expect(maxDrawdown([-2, -5, -1])).toBe(5);
    expect(maxDrawdown([1, 2, 3])).toBe(0);
  });
});

describe('ResultTracker', () => {
  it('P&L by average cost, fees, turnover, fill ratio, markouts and days', () => {
    const e = new Engine({ symbols: 2, capacity: 1000, seed: 1 });
    const fees = feeFn(parseFees({ '*': { makerBps: -10, takerBps: 20 }, S1: { takerPerLot: 0.5 } }, ['S0', 'S1']));
    const t = new ResultTracker(ACC, ['S0', 'S1'], fees, 1000);
    const m = engineMarks(e);
    const day0 = Date.UTC(2025, 0, 1);
    // a market on S0 around 100: bid 99 (acct 1), ask 101 x 10 (acct 1)
    let seq = drive(e, t, [
      [day0 + 0, cmd(1, 0, 0, 1, 99, 50, 1)],
      [day0 + 1, cmd(1, 1, 0, 2, 101, 10, 1)],
      // strategy buys 10 @ market-ish limit 101: taker, 10 @ 101
      [day0 + 2, cmd(1, 0, 0, 100, 101, 10, ACC)],
      // strategy rests a sell 4 @ 105; acct 2 lifts it: strategy maker sells 4 @ 105
      [day0 + 3, cmd(1, 1, 0, 101, 105, 4, ACC)],
      [day0 + 4, cmd(1, 0, 0, 3, 105, 4, 2)],
      // a new ask 103 x 5 so the mid is (99 + 103) / 2 = 101
      [day0 + 5, cmd(1, 1, 0, 4, 103, 5, 1)],
      // an order of 6 that never fills
      [day0 + 6, cmd(1, 0, 0, 102, 90, 6, ACC)],
    ]);
    expect(t.fills.map((f) => [f.orderId, f.side, f.price, f.qty, f.liquidity])).toEqual([[100, 0, 101, 10, 'taker'], [101, 1, 105, 4, 'maker']]);
    // fees: taker 20 bps of 101·10 = 2.02; maker −10 bps of 105·4 = −0.42
    expect(t.fills[0]!.fee).toBeCloseTo(2.02, 12);
    expect(t.fills[1]!.fee).toBeCloseTo(-0.42, 12);
    // realised: (105 − 101) × 4 = 16; position 6 @ 101; mark 101 → unrealised 0
    let p = t.pnl(m);
    expect(p.realised).toBe(16);
    expect(p.total).toBe(16);
    expect(p.unrealised).toBe(0);
    // markouts at +1 s: mid 101 → buy @101: 0; sell @105: 105 − 101 = 4 → average 2
    t.resolveMarkouts((day0 + 1001) * 1e6, m); // not due yet
    expect(t.nextMarkoutNs()).toBe((day0 + 2) * 1e6 + 1e9);
    t.resolveMarkouts((day0 + 1010) * 1e6, m);
    t.sample(day0 + 1000, m);
    // next day: the bid moves to 100 (cancel 99, new 100): mid 101.5 → unrealised 6 × 0.5 = 3
    seq = drive(e, t, [[day0 + 86_400_000, cmd(2, 0, 0, 1, 0, 0, 1)], [day0 + 86_400_001, cmd(1, 0, 0, 5, 100, 1, 1)]], seq);
    p = t.pnl(m);
    expect(p.unrealised).toBe(3);
    t.sample(day0 + 86_401_000, m);
    const { summary, days } = t.summary(m);
    expect(summary.pnl).toEqual({ realised: 16, unrealised: 3, total: 19, fees: 2.02 - 0.42, net: 19 - (2.02 - 0.42) });
    expect(summary.turnover).toEqual({ lots: 14, notional: 101 * 10 + 105 * 4 });
    expect(summary.trades).toBe(2);
    expect(summary.orders).toEqual({ new: 3, cancel: 0, modify: 0, rejected: 0, lots: 20 });
    expect(summary.fillRatio).toBeCloseTo(14 / 20, 12);
    expect(summary.markouts[0]).toEqual({ horizonMs: 1000, fills: 2, excluded: 0, avgTicks: 2 });
    // the 5 s and 60 s horizons were never reached before the end: left out, counted
    expect(summary.markouts[1]).toEqual({ horizonMs: 5000, fills: 0, excluded: 2, avgTicks: null });
    expect(summary.positions).toEqual({ S0: 6 });
    // equity samples: day 1 net 16 − 1.6 = 14.4; day 2 19 − 1.6 = 17.4
    expect(t.equity.map((x) => x.equity)).toEqual([16 - 1.6, 19 - 1.6].map((x) => expect.closeTo(x, 10)));
    expect(summary.maxDrawdown).toBe(0);
    expect(summary.sampling).toEqual({ barMs: 1000, bars: 2, periodsPerYear: 365 * 86400 });
    expect(days.map((d) => [d.day, d.fills, d.orders])).toEqual([['2025-01-01', 2, 3], ['2025-01-02', 0, 0]]);
    expect(days[0]!.pnl).toBeCloseTo(14.4, 10);
    expect(days[1]!.pnl).toBeCloseTo(3, 10);
  });

  it('a position flip realises the closed part and opens the rest at the fill price', () => {
    const e = new Engine({ symbols: 1, capacity: 100, seed: 1 });
    const t = new ResultTracker(ACC, ['S0'], () => 0, 1000);
    drive(e, t, [
      [0, cmd(1, 1, 0, 1, 100, 5, 1)],
      [1, cmd(1, 0, 0, 10, 100, 5, ACC)], // long 5 @ 100
      [2, cmd(1, 0, 0, 2, 110, 8, 1)],
      [3, cmd(1, 1, 0, 11, 110, 8, ACC)], // sell 8 @ 110: realise 50, short 3 @ 110
      [4, cmd(1, 1, 0, 3, 108, 1, 1)],
      [5, cmd(1, 0, 0, 4, 106, 1, 1)], // mid 107
    ]);
    const p = t.pnl(engineMarks(e));
    expect(p.realised).toBe(50);
    expect(p.total).toBe(50 + 3 * (110 - 107));
    expect(t.summary(engineMarks(e)).summary.positions).toEqual({ S0: -3 });
  });

  it('counts the rejects of the strategy\'s own commands only', () => {
    const e = new Engine({ symbols: 1, capacity: 100, seed: 1 });
    const t = new ResultTracker(ACC, ['S0'], () => 0, 1000);
    drive(e, t, [[0, cmd(1, 0, 0, 1, 0, 5, 1)], [1, cmd(1, 0, 0, 10, 0, 5, ACC)], [2, cmd(2, 0, 0, 99, 0, 0, ACC)]]);
    const s = t.summary(engineMarks(e)).summary;
    expect(s.orders.rejected).toBe(2);
    expect(s.orders.cancel).toBe(1);
  });
});
