/**
 * Property test: seeded random sequences of breaker events, with random clock steps, through the
 * ring-buffer breakers (src/strategies/breakers.ts) and the scan-everything reference
 * (test/reference/breakers-ref.ts). After every step both must agree on the answer, the state,
 * the trip reason and time, and the trip count. Nightly: PROP_RUNS=10x.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KeyTable, StrategyBreaker, SymbolVelocity, parseLimits } from '../../src/strategies/breakers.js';
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
  maxDuplicateOrders: fc.integer({ min: 1, max: 4 }),
  duplicateWindowMs: fc.oneof(fc.constantFrom(250, 500, 1_000), fc.integer({ min: 1, max: 3_000 })),
});

type Op =
  | { k: 'adv'; dt: number } | { k: 'new'; price: number; qty: number; pos: number; sym: number; side: 0 | 1 } | { k: 'msg' } | { k: 'acc' } | { k: 'rej' }
  | { k: 'fill'; sym: number; side: 0 | 1; px: number; oid: number } | { k: 'pnl'; v: number } | { k: 'err' } | { k: 'ok' }
  | { k: 'trip' } | { k: 'reset' } | { k: 'take' } | { k: 'state' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('adv' as const), dt: fc.oneof(fc.constantFrom(0, 1, 250, 500, 999, 1_000), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 1_500 })) }), weight: 6 },
  // the same small order again and again (duplicates, rates), and random ones (hard limits)
  { arbitrary: fc.constant({ k: 'new' as const, price: 100, qty: 1, pos: 1, sym: 0, side: 0 as const }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('new' as const), price: fc.oneof(fc.integer({ min: 99, max: 100 }), fc.integer({ min: -50, max: 300 })), qty: fc.oneof(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 35 })), pos: fc.oneof(fc.integer({ min: -3, max: 3 }), fc.integer({ min: -60, max: 60 })), sym: fc.integer({ min: 0, max: 1 }), side: fc.constantFrom(0 as const, 1 as const) }), weight: 5 },
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
    fc.assert(fc.property(limitsArb, fc.array(opArb, { minLength: 1, maxLength: 300, size: 'max' }), (lim, ops) => {
      const clock = { t: 1_000_000 };
      const now = (): number => clock.t;
      const L = parseLimits(lim);
      const b = new StrategyBreaker(L, now);
      const r = new RefBreaker(L, now);
      for (const op of ops) {
        switch (op.k) {
          case 'adv': clock.t += op.dt; break;
          case 'new': expect(b.checkNew(op.sym, op.side, op.price, op.qty, op.pos)).toBe(r.checkNew(op.price, op.qty, op.pos, op.sym, op.side)); break;
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
      fc.constantFrom(0.5, 1, 2, 3.25), fc.oneof(fc.constantFrom(100, 500, 1_000), fc.integer({ min: 1, max: 2_000 })), fc.oneof(fc.constantFrom(100, 500, 1_000), fc.integer({ min: 1, max: 3_000 })), fc.array(trade, { minLength: 1, maxLength: 400, size: 'max' }),
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

  it('KeyTable (the rings\' counts): same values as a Map under heavy collisions and deletions', () => {
    // 96 distinct keys (one price beyond 2^32, to exercise the hash's high word), drawn without bias so the table fills
    const keys: number[][] = [];
    for (let a = 0; a < 4; a++) for (let b = 0; b < 2; b++) for (const c of [99, 100, 2 ** 52 + 5, 101]) for (let d = 0; d < 3; d++) keys.push([a, b, c, d]);
    const key = fc.noBias(fc.integer({ min: 0, max: keys.length - 1 })).map((i) => keys[i]!);
    const op = fc.record({ k: key, kind: fc.constantFrom('add1', 'add1', 'set', 'sub1', 'remove', 'get'), v: fc.integer({ min: 1, max: 9 }) });
    fc.assert(fc.property(fc.array(op, { maxLength: 400, size: 'max' }), (ops) => {
      const t = new KeyTable(8); // 16 slots: long probe runs, wrap-around, backward shifts
      const m = new Map<string, number>();
      for (const o of ops) {
        const id = o.k.join('/');
        if (o.kind !== 'get' && o.kind !== 'remove' && o.kind !== 'sub1' && !m.has(id) && m.size >= 8) continue; // keep within capacity
        t.k.set(o.k);
        switch (o.kind) {
          case 'add1': { const v = (m.get(id) ?? 0) + 1; m.set(id, v); expect(t.add(1)).toBe(v); break; }
          case 'sub1': { if (!m.has(id)) break; const v = m.get(id)! - 1; if (v === 0) m.delete(id); else m.set(id, v); expect(t.add(-1)).toBe(v); break; }
          case 'set': m.set(id, o.v); t.set(o.v); break;
          case 'remove': m.delete(id); t.remove(); break;
          case 'get': expect(t.get(-1)).toBe(m.get(id) ?? -1); break;
        }
        // every key the map holds is found, with its value
        for (const [kk, v] of m) { t.k.set(kk.split('/').map(Number)); expect(t.get(-1)).toBe(v); }
      }
    }), { numRuns: RUNS, seed: 16 });
  });
});
