/**
 * Property test: seeded random sequences of breaker events, with random clock steps, through the
 * ring-buffer breakers (src/strategies/breakers.ts) and the scan-everything reference
 * (test/reference/breakers-ref.ts). After every step both must agree on the answer, the state,
 * the trip reason and time, and the trip count. Nightly: PROP_RUNS=10x.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StrategyBreaker, SymbolVelocity, parseLimits } from '../../src/strategies/breakers.js';
import { TradsysError } from '../../src/domain/errors.js';
import { RefBreaker, RefVelocity } from '../reference/breakers-ref.js';

const RUNS = Number(process.env.PROP_RUNS ?? 200);

const limitsArb = fc.record({
  maxLoss: fc.integer({ min: 1, max: 2_000 }),
  maxDrawdown: fc.integer({ min: 1, max: 2_000 }),
  maxPosition: fc.integer({ min: 1, max: 50 }),
  maxOrderValue: fc.integer({ min: 1, max: 5_000 }),
  maxOrderQty: fc.integer({ min: 1, max: 30 }),
  maxOrdersPerSec: fc.integer({ min: 1, max: 8 }),
  maxMessagesPerSec: fc.integer({ min: 1, max: 12 }),
  maxRejectRatio: fc.constantFrom(0.1, 0.25, 0.5, 0.75, 1),
  minOrdersForRejectRatio: fc.integer({ min: 1, max: 8 }),
  maxRepeatedExecutions: fc.integer({ min: 1, max: 4 }),
  repeatWindowMs: fc.oneof(fc.constantFrom(250, 500, 1_000), fc.integer({ min: 1, max: 2_000 })),
  maxConsecutiveErrors: fc.integer({ min: 1, max: 4 }),
  cooldownMs: fc.oneof(fc.constantFrom(0, 500, 1_000), fc.integer({ min: 0, max: 3_000 })),
  halfOpenMs: fc.oneof(fc.constantFrom(0, 500, 1_000), fc.integer({ min: 0, max: 3_000 })),
  rejectWindowMs: fc.oneof(fc.constantFrom(250, 500, 1_000), fc.integer({ min: 1, max: 3_000 })),
});

type Op =
  | { k: 'adv'; dt: number } | { k: 'new'; price: number; qty: number; pos: number } | { k: 'msg' } | { k: 'acc' } | { k: 'rej' }
  | { k: 'fill'; sym: number; side: 0 | 1; px: number; oid: number } | { k: 'pnl'; v: number } | { k: 'err' } | { k: 'ok' }
  | { k: 'trip' } | { k: 'reset' } | { k: 'take' } | { k: 'state' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('adv' as const), dt: fc.oneof(fc.constantFrom(0, 1, 250, 500, 999, 1_000), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 1_500 })) }), weight: 6 },
  { arbitrary: fc.record({ k: fc.constant('new' as const), price: fc.integer({ min: -50, max: 300 }), qty: fc.integer({ min: 1, max: 35 }), pos: fc.integer({ min: -60, max: 60 }) }), weight: 5 },
  { arbitrary: fc.constant({ k: 'msg' as const }), weight: 4 },
  { arbitrary: fc.constant({ k: 'acc' as const }), weight: 3 },
  { arbitrary: fc.constant({ k: 'rej' as const }), weight: 3 },
  { arbitrary: fc.record({ k: fc.constant('fill' as const), sym: fc.integer({ min: 0, max: 1 }), side: fc.constantFrom(0 as const, 1 as const), px: fc.integer({ min: 99, max: 100 }), oid: fc.integer({ min: -1, max: 5 }) }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('pnl' as const), v: fc.integer({ min: -3_000, max: 3_000 }) }), weight: 2 },
  { arbitrary: fc.constant({ k: 'err' as const }), weight: 3 },
  { arbitrary: fc.constant({ k: 'ok' as const }), weight: 1 },
  { arbitrary: fc.constant({ k: 'trip' as const }), weight: 1 },
  { arbitrary: fc.constant({ k: 'reset' as const }), weight: 3 },
  { arbitrary: fc.constant({ k: 'take' as const }), weight: 2 },
  { arbitrary: fc.constant({ k: 'state' as const }), weight: 1 },
);

describe('breakers agree with the scan-everything reference', () => {
  it('StrategyBreaker: same answers, states, trips after every step', () => {
    fc.assert(fc.property(limitsArb, fc.array(opArb, { minLength: 1, maxLength: 300 }), (lim, ops) => {
      const clock = { t: 1_000_000 };
      const now = (): number => clock.t;
      const L = parseLimits(lim);
      const b = new StrategyBreaker(L, now);
      const r = new RefBreaker(L, now);
      for (const op of ops) {
        switch (op.k) {
          case 'adv': clock.t += op.dt; break;
          case 'new': expect(b.checkNew(0, 0, op.price, op.qty, op.pos)).toBe(r.checkNew(op.price, op.qty, op.pos)); break;
          case 'msg': b.onMessage(); r.onMessage(); break;
          case 'acc': b.onAccepted(); r.outcome(false); break;
          case 'rej': b.onRejected(); r.outcome(true); break;
          case 'fill': b.onFill(op.sym, op.side, op.px, 1, op.oid); r.onFill(op.sym, op.side, op.px, op.oid); break;
          case 'pnl': b.onPnl(op.v); r.onPnl(op.v); break;
          case 'err': b.onHookError(); r.onHookError(); break;
          case 'ok': b.onHookOk(); r.onHookOk(); break;
          case 'trip': b.trip('admin', 'test'); r.open('admin', clock.t); break;
          case 'reset': {
            const want = r.reset();
            let got = 'ok';
            const before = b.state;
            try { b.reset(); if (before !== 'open') got = 'noop'; } catch (e) { got = e instanceof TradsysError && e.code === 'ERR_BREAKER_COOLDOWN' ? 'refused' : String(e); }
            expect(got).toBe(want);
            break;
          }
          case 'take': {
            const a = b.takeTrip(), c = r.takeTrip();
            expect(a === null ? null : [a.reason, a.at]).toEqual(c === null ? null : [c.reason, c.at]);
            break;
          }
          case 'state': break;
        }
        const s = b.snapshot();
        expect(s.state).toBe(r.getState());
        expect(s.trips).toBe(r.trips);
        expect(s.trip === null ? null : [s.trip.reason, s.trip.at]).toEqual(r.trip === null ? null : [r.trip.reason, r.trip.at]);
      }
    }), { numRuns: RUNS, seed: 16 });
  });

  it('SymbolVelocity: same trips and pauses as the reference', () => {
    // moves in steps of 5 ticks from 5,000 and windows in round ms, so exact thresholds and window edges are hit often
    const trade = fc.record({ dt: fc.oneof(fc.constantFrom(0, 1, 50, 100, 250, 500), fc.integer({ min: 0, max: 400 })), sym: fc.integer({ min: 0, max: 2 }), dp: fc.integer({ min: -24, max: 24 }).map((k) => 5 * k) });
    fc.assert(fc.property(
      fc.constantFrom(0.5, 1, 2, 3.25), fc.oneof(fc.constantFrom(100, 500, 1_000), fc.integer({ min: 1, max: 2_000 })), fc.oneof(fc.constantFrom(100, 500, 1_000), fc.integer({ min: 1, max: 3_000 })), fc.array(trade, { minLength: 1, maxLength: 400 }),
      (movePct, windowMs, pauseMs, trades) => {
        const clock = { t: 5_000 };
        const now = (): number => clock.t;
        const v = new SymbolVelocity({ movePct, windowMs, pauseMs }, now);
        const r = new RefVelocity(movePct, windowMs, pauseMs, now);
        const px = [5_000, 5_000, 5_000];
        for (const x of trades) {
          clock.t += x.dt;
          px[x.sym] = Math.max(100, px[x.sym]! + x.dp);
          expect(v.onTrade(x.sym, px[x.sym]!)).toBe(r.onTrade(x.sym, px[x.sym]!));
          for (let s = 0; s < 3; s++) expect(v.paused(s)).toBe(r.paused(s));
        }
      }), { numRuns: RUNS, seed: 16 });
  });
});
