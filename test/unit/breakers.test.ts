/**
 * Circuit breakers (src/strategies/breakers.ts) driven by an injected clock: each limit passes at
 * its threshold and trips one unit over it, rates over sliding windows, half-open probation and
 * re-trip, reset refused before the cooldown, velocity trips and un-pauses, parseLimits errors.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS, DEFAULT_VELOCITY, StrategyBreaker, SymbolVelocity, parseLimits, parseVelocityLimits, type BreakerLimits,
} from '../../src/strategies/breakers.js';
import { TradsysError } from '../../src/domain/errors.js';

const T0 = 1_700_000_000_000;

function make(over: Partial<BreakerLimits> = {}): { b: StrategyBreaker; clock: { t: number } } {
  const clock = { t: T0 };
  const b = new StrategyBreaker(parseLimits(over as Record<string, unknown>), () => clock.t);
  return { b, clock };
}

function code(f: () => unknown): string {
  try { f(); } catch (e) { return e instanceof TradsysError ? e.code : `not a TradsysError: ${String(e)}`; }
  return 'no error';
}

describe('parseLimits', () => {
  it('gives the defaults and overrides only what is named', () => {
    expect(parseLimits()).toEqual(DEFAULT_LIMITS);
    expect(parseLimits({})).toEqual(DEFAULT_LIMITS);
    const l = parseLimits({ maxLoss: 100, maxRejectRatio: 0.25, cooldownMs: 0 });
    expect(l).toEqual({ ...DEFAULT_LIMITS, maxLoss: 100, maxRejectRatio: 0.25, cooldownMs: 0 });
  });

  it.each([
    [{ maxLos: 1 }, /unknown breaker limit "maxLos"/],
    [{ maxLoss: '100' }, /"maxLoss" must be a finite number, got "100"/],
    [{ maxLoss: Number.NaN }, /finite number/],
    [{ maxLoss: Infinity }, /finite number/],
    [{ maxLoss: 0 }, /"maxLoss" must be a positive integer, got 0/],
    [{ maxOrderQty: 1.5 }, /positive integer/],
    [{ maxPosition: -1 }, /positive integer/],
    [{ maxOrdersPerSec: 0 }, /"maxOrdersPerSec" must be an integer from 1 to 100000/],
    [{ maxMessagesPerSec: 100_001 }, /integer from 1 to 100000/],
    [{ maxRejectRatio: 0 }, /ratio in \(0, 1\]/],
    [{ maxRejectRatio: 1.01 }, /ratio in \(0, 1\]/],
    [{ maxConsecutiveErrors: 2.5 }, /integer from 1/],
    [{ repeatWindowMs: 0 }, /from 1 to 3600000/],
    [{ cooldownMs: -1 }, /from 0 to 3600000/],
    [{ halfOpenMs: null }, /finite number, got null/],
  ])('refuses %j', (partial, msg) => {
    expect(code(() => parseLimits(partial as Record<string, unknown>))).toBe('ERR_BREAKER_LIMITS');
    expect(() => parseLimits(partial as Record<string, unknown>)).toThrow(msg);
  });

  it('refuses a non-object', () => {
    expect(code(() => parseLimits([] as unknown as Record<string, unknown>))).toBe('ERR_BREAKER_LIMITS');
    expect(code(() => parseLimits(5 as unknown as Record<string, unknown>))).toBe('ERR_BREAKER_LIMITS');
  });

  it('parseVelocityLimits: defaults, overrides and errors', () => {
    expect(parseVelocityLimits()).toEqual(DEFAULT_VELOCITY);
    expect(parseVelocityLimits({ movePct: 0.5 })).toEqual({ ...DEFAULT_VELOCITY, movePct: 0.5 });
    expect(code(() => parseVelocityLimits({ movePct: 0 }))).toBe('ERR_BREAKER_LIMITS');
    expect(code(() => parseVelocityLimits({ movePct: 100 }))).toBe('ERR_BREAKER_LIMITS');
    expect(code(() => parseVelocityLimits({ windowMs: 1.5 }))).toBe('ERR_BREAKER_LIMITS');
    expect(code(() => parseVelocityLimits({ pause: 10 }))).toBe('ERR_BREAKER_LIMITS');
  });
});

describe('StrategyBreaker: hard order limits', () => {
  it('max order qty: the limit passes, one lot more trips and refuses everything after', () => {
    const { b } = make({ maxOrderQty: 50 });
    expect(b.checkNew(0, 0, 100, 50, 50)).toBeNull();
    expect(b.state).toBe('closed');
    expect(b.checkNew(0, 0, 100, 51, 101)).toBe('max_order_qty');
    expect(b.state).toBe('open');
    const trip = b.takeTrip();
    expect(trip).toMatchObject({ reason: 'max_order_qty', at: T0 });
    expect(trip!.detail).toContain('51');
    expect(b.takeTrip()).toBeNull();
    expect(b.checkNew(0, 0, 100, 1, 1)).toBe('breaker_open');
    expect(b.takeTrip()).toBeNull();
    expect(b.snapshot()).toMatchObject({ state: 'open', trips: 1, trip: { reason: 'max_order_qty' } });
  });

  it('max order value is price × qty in ticks×lots, at a negative price too', () => {
    const { b } = make({ maxOrderValue: 10_000 });
    expect(b.checkNew(0, 1, 1_000, 10, -10)).toBeNull();
    expect(b.checkNew(0, 1, 10_001, 1, -11)).toBe('max_order_value');
    const { b: b2 } = make({ maxOrderValue: 10_000 });
    expect(b2.checkNew(0, 0, -10_001, 1, 1)).toBe('max_order_value');
  });

  it('max position: |position after| equal to the limit passes, one over trips (either side)', () => {
    const { b } = make({ maxPosition: 100 });
    expect(b.checkNew(0, 0, 10, 100, 100)).toBeNull();
    expect(b.checkNew(0, 1, 10, 100, -100)).toBeNull();
    expect(b.checkNew(0, 1, 10, 1, -101)).toBe('max_position');
  });
});

describe('StrategyBreaker: rates over sliding 1 s windows', () => {
  it('order rate: N orders in a second pass, the (N+1)-th inside (t − 1000, t] trips', () => {
    const { b, clock } = make({ maxOrdersPerSec: 5 });
    for (let i = 0; i < 5; i++) { expect(b.checkNew(0, 0, 10, 1, 0)).toBeNull(); clock.t += 100; }
    // the first order was at T0; at T0 + 999 it is still in the window
    clock.t = T0 + 999;
    expect(b.checkNew(0, 0, 10, 1, 0)).toBe('order_rate');
  });

  it('order rate: the window slides (an order exactly 1000 ms later no longer counts)', () => {
    const { b, clock } = make({ maxOrdersPerSec: 3 });
    for (let i = 0; i < 3; i++) expect(b.checkNew(0, 0, 10, 1, 0)).toBeNull();
    clock.t = T0 + 1000;
    for (let i = 0; i < 3; i++) expect(b.checkNew(0, 0, 10, 1, 0)).toBeNull();
    clock.t = T0 + 1500;
    expect(b.checkNew(0, 0, 10, 1, 0)).toBe('order_rate');
  });

  it('order rate: a steady rate at the limit never trips over many windows', () => {
    const { b, clock } = make({ maxOrdersPerSec: 10 });
    for (let i = 0; i < 1000; i++) { expect(b.checkNew(0, 0, 10, 1, 0)).toBeNull(); clock.t += 100; }
    expect(b.state).toBe('closed');
  });

  it('message rate: N messages pass, the (N+1)-th trips; a new order is refused when the window is full', () => {
    const { b, clock } = make({ maxMessagesPerSec: 4 });
    for (let i = 0; i < 4; i++) { b.onMessage(); clock.t += 10; }
    expect(b.state).toBe('closed');
    expect(b.checkNew(0, 0, 10, 1, 0)).toBe('message_rate');
    const { b: b2 } = make({ maxMessagesPerSec: 4 });
    for (let i = 0; i < 4; i++) b2.onMessage();
    b2.onMessage();
    expect(b2.takeTrip()?.reason).toBe('message_rate');
  });
});

describe('StrategyBreaker: reject ratio, repeated executions, errors, P&L', () => {
  it('reject ratio: equal to the limit passes, over it trips, only with enough outcomes', () => {
    const { b } = make({ maxRejectRatio: 0.5, minOrdersForRejectRatio: 10, rejectWindowMs: 5_000 });
    for (let i = 0; i < 5; i++) b.onRejected();
    for (let i = 0; i < 5; i++) b.onAccepted();
    expect(b.state).toBe('closed'); // 5/10 = 0.5, not over
    b.onRejected(); // 6/11
    expect(b.takeTrip()?.reason).toBe('reject_ratio');
  });

  it('reject ratio: below the minimum count nothing trips, the minimum-th outcome does', () => {
    const { b } = make({ maxRejectRatio: 0.5, minOrdersForRejectRatio: 10 });
    for (let i = 0; i < 9; i++) b.onRejected();
    expect(b.state).toBe('closed');
    b.onAccepted(); // 9 of 10
    expect(b.takeTrip()?.reason).toBe('reject_ratio');
  });

  it('reject ratio: rejects older than the window drop out', () => {
    const { b, clock } = make({ maxRejectRatio: 0.5, minOrdersForRejectRatio: 4, rejectWindowMs: 1_000 });
    b.onRejected(); b.onRejected(); // at T0
    clock.t = T0 + 1000; // both out of (t − 1000, t]
    b.onAccepted(); b.onAccepted(); b.onRejected(); b.onAccepted();
    expect(b.state).toBe('closed'); // 1 of 4 in the window (with the old ones it would be 3 of 6)
    b.onRejected(); b.onRejected(); // 3 of 6: not over 0.5
    expect(b.state).toBe('closed');
    b.onRejected(); // 4 of 7
    expect(b.state).toBe('open');
  });

  it('repeated executions: distinct orders at the same symbol+side+price, within the window', () => {
    const { b, clock } = make({ maxRepeatedExecutions: 3, repeatWindowMs: 500 });
    b.onFill(1, 0, 100, 5, 11);
    b.onFill(1, 0, 100, 5, 11); // partial fill of the same order: counted once
    b.onFill(1, 0, 100, 5, 12);
    b.onFill(1, 1, 100, 5, 13); // other side
    b.onFill(1, 0, 101, 5, 14); // other price
    b.onFill(2, 0, 100, 5, 15); // other symbol
    b.onFill(1, 0, 100, 5, 16); // third
    expect(b.state).toBe('closed');
    clock.t = T0 + 499;
    b.onFill(1, 0, 100, 5, 17); // fourth within 500 ms
    expect(b.takeTrip()).toMatchObject({ reason: 'repeated_executions', at: T0 + 499 });
  });

  it('repeated executions: fills that left the window no longer count; without ids each fill counts', () => {
    const { b, clock } = make({ maxRepeatedExecutions: 2, repeatWindowMs: 500 });
    b.onFill(1, 0, 100, 5);
    b.onFill(1, 0, 100, 5);
    clock.t = T0 + 500;
    b.onFill(1, 0, 100, 5); // the first two are out of (t − 500, t]
    b.onFill(1, 0, 100, 5);
    expect(b.state).toBe('closed');
    b.onFill(1, 0, 100, 5);
    expect(b.state).toBe('open');
  });

  it('repeated executions: an order counts from its latest fill at the key', () => {
    const { b, clock } = make({ maxRepeatedExecutions: 1, repeatWindowMs: 500 });
    b.onFill(1, 0, 100, 5, 11);
    b.onFill(1, 0, 100, 5, 12);
    clock.t = T0 + 400;
    b.onFill(1, 0, 100, 5, 11); // 11 again: 12's fill at T0 is still in the window
    expect(b.takeTrip()?.reason).toBe('repeated_executions');
    const { b: b2, clock: c2 } = make({ maxRepeatedExecutions: 2, repeatWindowMs: 500 });
    b2.onFill(1, 0, 100, 5, 11);
    c2.t = T0 + 100;
    b2.onFill(1, 0, 100, 5, 12);
    c2.t = T0 + 400;
    b2.onFill(1, 0, 100, 5, 11); // refreshes 11, which sits ahead of 12 in the ring
    c2.t = T0 + 650; // 12 (T0 + 100) left the window; 11 (T0 + 400) did not
    b2.onFill(1, 0, 100, 5, 11);
    b2.onFill(1, 0, 100, 5, 13); // 11 and 13
    expect(b2.state).toBe('closed');
    b2.onFill(1, 0, 100, 5, 14); // 11, 13 and 14
    expect(b2.takeTrip()?.reason).toBe('repeated_executions');
  });

  it('consecutive errors: the limit passes, one more in a row trips; an ok hook starts over', () => {
    const { b } = make({ maxConsecutiveErrors: 3 });
    b.onHookError(); b.onHookError(); b.onHookError();
    b.onHookOk();
    b.onHookError(); b.onHookError(); b.onHookError();
    expect(b.state).toBe('closed');
    b.onHookError();
    expect(b.takeTrip()?.reason).toBe('consecutive_errors');
  });

  it('max loss: a loss of exactly the limit passes, one tick×lot more trips', () => {
    const { b } = make({ maxLoss: 1_000, maxDrawdown: 1_000_000 });
    b.onPnl(-1_000);
    expect(b.state).toBe('closed');
    b.onPnl(-1_001);
    expect(b.takeTrip()).toMatchObject({ reason: 'max_loss' });
  });

  it('max drawdown is measured from the running peak', () => {
    const { b } = make({ maxLoss: 1_000_000, maxDrawdown: 500 });
    b.onPnl(2_000);
    b.onPnl(1_500); // 500 down from the peak
    b.onPnl(1_800);
    expect(b.state).toBe('closed');
    b.onPnl(1_499);
    expect(b.takeTrip()).toMatchObject({ reason: 'max_drawdown' });
  });
});

describe('StrategyBreaker: states, cooldown, half-open probation', () => {
  it('reset is refused before the cooldown, allowed at it; half-open closes after halfOpenMs clean', () => {
    const { b, clock } = make({ maxOrderQty: 10, cooldownMs: 30_000, halfOpenMs: 60_000 });
    b.trip('admin', 'kill switch');
    expect(b.state).toBe('open');
    clock.t = T0 + 29_999;
    expect(code(() => b.reset())).toBe('ERR_BREAKER_COOLDOWN');
    expect(() => b.reset()).toThrow(/1 ms left/);
    expect(b.state).toBe('open');
    clock.t = T0 + 30_000;
    b.reset();
    expect(b.state).toBe('half_open');
    expect(b.checkNew(0, 0, 10, 10, 10)).toBeNull();
    expect(b.snapshot()).toMatchObject({ state: 'half_open', trips: 1, trip: { reason: 'admin' } });
    clock.t = T0 + 30_000 + 59_999;
    expect(b.state).toBe('half_open');
    clock.t = T0 + 30_000 + 60_000;
    expect(b.state).toBe('closed');
    expect(b.snapshot()).toMatchObject({ state: 'closed', trip: null, trips: 1 });
  });

  it('a trip during probation opens it again, and the cooldown counts from the new trip', () => {
    const { b, clock } = make({ maxOrderQty: 10, cooldownMs: 1_000, halfOpenMs: 5_000 });
    expect(b.checkNew(0, 0, 10, 11, 11)).toBe('max_order_qty');
    expect(b.takeTrip()).not.toBeNull();
    clock.t += 1_000;
    b.reset();
    clock.t += 4_000;
    expect(b.checkNew(0, 0, 10, 11, 11)).toBe('max_order_qty');
    expect(b.state).toBe('open');
    expect(b.takeTrip()).toMatchObject({ reason: 'max_order_qty', at: T0 + 5_000 });
    expect(b.snapshot().trips).toBe(2);
    clock.t += 999;
    expect(code(() => b.reset())).toBe('ERR_BREAKER_COOLDOWN');
    clock.t += 1;
    b.reset();
    expect(b.state).toBe('half_open');
  });

  it('trips while open are ignored (the first reason stays, counted once)', () => {
    const { b } = make({ maxConsecutiveErrors: 1 });
    b.trip('admin', 'a');
    b.onHookError(); b.onHookError();
    b.trip('velocity', 'b');
    expect(b.snapshot()).toMatchObject({ trips: 1, trip: { reason: 'admin' } });
    expect(b.takeTrip()?.reason).toBe('admin');
    expect(b.takeTrip()).toBeNull();
  });

  it('reset of a breaker that is not open does nothing', () => {
    const { b } = make();
    b.reset();
    expect(b.snapshot()).toMatchObject({ state: 'closed', trips: 0, trip: null });
  });

  it('after a reset, loss and drawdown count from the P&L at the reset; the error count starts over', () => {
    const { b, clock } = make({ maxLoss: 1_000, maxDrawdown: 100_000, maxConsecutiveErrors: 2, cooldownMs: 0 });
    b.onHookError(); b.onHookError();
    b.onPnl(-1_001);
    expect(b.takeTrip()?.reason).toBe('max_loss');
    clock.t += 1;
    b.reset();
    b.onPnl(-1_001);
    b.onPnl(-2_001); // 1,000 below the reset level
    b.onHookError(); b.onHookError();
    expect(b.state).toBe('half_open');
    b.onPnl(-2_002);
    expect(b.takeTrip()?.reason).toBe('max_loss');
  });

  it('the rings are allocated once: a long run at the limits keeps working with no trip', () => {
    const { b, clock } = make({ maxOrdersPerSec: 50, maxMessagesPerSec: 100, maxRejectRatio: 0.5, minOrdersForRejectRatio: 10, maxRepeatedExecutions: 5, repeatWindowMs: 1_000 });
    for (let i = 0; i < 20_000; i++) {
      clock.t += 20; // 50 orders/s
      expect(b.checkNew(i & 7, 0, 100, 1, 0)).toBeNull();
      b.onMessage(); b.onMessage(); // 100 messages/s
      if (i % 2 === 0) b.onAccepted(); else b.onRejected(); // never over half
      b.onFill(i & 7, 0, 100 + (i % 50), 1, i); // each symbol+price key again every 200 fills (4 s)
    }
    expect(b.snapshot()).toMatchObject({ state: 'closed', trips: 0 });
  });
});

describe('SymbolVelocity', () => {
  it('a move of exactly movePct passes, one tick more trips and pauses the symbol for pauseMs', () => {
    const clock = { t: T0 };
    const v = new SymbolVelocity({ movePct: 1, windowMs: 1_000, pauseMs: 5_000 }, () => clock.t);
    expect(v.onTrade(3, 10_000)).toBe(false);
    clock.t += 500;
    expect(v.onTrade(3, 10_100)).toBe(false); // +1.00 %
    expect(v.paused(3)).toBe(false);
    clock.t += 1;
    expect(v.onTrade(3, 10_101)).toBe(true); // +1.01 % from 10,000
    expect(v.paused(3)).toBe(true);
    expect(v.paused(4)).toBe(false);
    expect(v.snapshot()).toEqual([{ symbol: 3, pausedUntil: T0 + 501 + 5_000, reference: 10_000 }]);
    clock.t = T0 + 501 + 4_999;
    expect(v.paused(3)).toBe(true);
    clock.t = T0 + 501 + 5_000;
    expect(v.paused(3)).toBe(false);
  });

  it('a fall is measured from the window high; prices that left the window no longer count', () => {
    const clock = { t: T0 };
    const v = new SymbolVelocity({ movePct: 2, windowMs: 1_000, pauseMs: 100 }, () => clock.t);
    v.onTrade(0, 10_000);
    clock.t += 500;
    v.onTrade(0, 10_200); // the high
    clock.t += 499;
    expect(v.onTrade(0, 10_000)).toBe(false); // −1.96 % from 10,200
    expect(v.onTrade(0, 9_995)).toBe(true); // −2.01 %
    expect(v.snapshot()[0]!.reference).toBe(10_200);
    // slow drift: 1 % a second never trips a 2 %-in-1-s rule
    const w = new SymbolVelocity({ movePct: 2, windowMs: 1_000, pauseMs: 100 }, () => clock.t);
    let p = 10_000;
    for (let i = 0; i < 30; i++) { expect(w.onTrade(1, p)).toBe(false); clock.t += 1_000; p = Math.round(p * 1.01); }
  });

  it('trades during the pause do not extend it; a move that goes on after the pause trips again', () => {
    const clock = { t: T0 };
    const v = new SymbolVelocity({ movePct: 1, windowMs: 10_000, pauseMs: 1_000 }, () => clock.t);
    v.onTrade(0, 10_000);
    clock.t += 1;
    expect(v.onTrade(0, 9_800)).toBe(true); // −2 %; window restarts at 9,800
    clock.t += 500;
    expect(v.onTrade(0, 9_500)).toBe(false); // paused: recorded, no new trip
    clock.t = T0 + 1 + 1_000;
    expect(v.paused(0)).toBe(false);
    expect(v.onTrade(0, 9_400)).toBe(true); // −4.08 % from the high 9,800 (still in the window)
    expect(v.snapshot()[0]).toEqual({ symbol: 0, pausedUntil: T0 + 2_001, reference: 9_800 });
  });

  it('keeps exact windows with many trades per window (deques grow, then stay)', () => {
    const clock = { t: T0 };
    const v = new SymbolVelocity({ movePct: 5, windowMs: 10_000, pauseMs: 1_000 }, () => clock.t);
    // a saw-tooth within ±2 %, 1,000 trades a second for 60 s: never trips
    for (let i = 0; i < 60_000; i++) {
      clock.t += 1;
      expect(v.onTrade(7, 10_000 + ((i * 37) % 400) - 200)).toBe(false);
    }
    clock.t += 1;
    expect(v.onTrade(7, 10_000 + 9_800 * 0.05 + 1)).toBe(true); // just over 5 % above the low 9,800
  });
});
