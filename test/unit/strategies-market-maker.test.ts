/**
 * The Avellaneda–Stoikov market maker: the formulas against hand computations and limits, tick
 * rounding and post-only safety, the online volatility against a random walk of known σ; then the
 * strategy run for real through the StrategyRunner and an in-process Engine (test/support/
 * strategy-harness.ts): post-only quotes around everyone else's mid, skew after a fill (by
 * modify), the max position stopping one side, throttled requotes caught by the timer, and
 * cancel + new when a modify could cross.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ENUMS } from '../../src/abi/records.js';
import { TradsysError } from '../../src/domain/errors.js';
import { asQuotes, KappaEstimator, MidVolatility, newQuotes, optimalSpread, reservationPrice } from '../../src/strategies/market-maker-model.js';
import { prng } from '../../src/workload/prng.js';
import { marketMakerStrategy, MARKET_MAKER_DEFAULTS, type MarketMakerParams } from '../../src/strategies/market-maker.js';
import { Harness } from '../support/strategy-harness.js';
import { normals } from '../support/cointegrated.js';

const ACC = 700;

describe('Avellaneda–Stoikov model', () => {
  it('reservation price and spread equal hand computations', () => {
    // s = 10000, q = 2, γ = 0.1, σ² = 4 ticks²/s, τ = 10 s, κ = 1.5
    expect(reservationPrice(10_000, 2, 0.1, 4, 10)).toBeCloseTo(10_000 - 2 * 0.1 * 4 * 10, 12); // 9992
    const d = optimalSpread(0.1, 4, 10, 1.5);
    expect(d).toBeCloseTo(4 + 20 * 0.0645385211375712, 12); // γσ²τ + (2/γ)·ln(1 + γ/κ), ln(16/15) by hand
    const q = asQuotes(newQuotes(), 10_000, 2, 4, { gamma: 0.1, kappa: 1.5, tau: 10 }, 1, 0, 0);
    expect(q.reservation).toBeCloseTo(9992, 12);
    expect(q.bidModel).toBeCloseTo(9992 - d / 2, 12);
    expect([q.bid, q.ask]).toEqual([9989, 9995]); // floor(9989.35), ceil(9994.65)
    // short inventory leans the other way; flat inventory is symmetric about the mid
    expect(asQuotes(newQuotes(), 10_000, -2, 4, { gamma: 0.1, kappa: 1.5, tau: 10 }, 1, 0, 0).reservation).toBeCloseTo(10_008, 12);
    const flat = asQuotes(newQuotes(), 10_000, 0, 4, { gamma: 0.1, kappa: 1.5, tau: 10 }, 1, 0, 0);
    expect(10_000 - flat.bidModel).toBeCloseTo(flat.askModel - 10_000, 12);
  });
  it('limits: γ → 0 leaves the spread 2/κ (the risk-neutral quote); more volatility or horizon widens it', () => {
    expect(optimalSpread(1e-9, 4, 10, 2)).toBeCloseTo(1, 6);
    expect(optimalSpread(0.1, 9, 10, 1.5)).toBeGreaterThan(optimalSpread(0.1, 4, 10, 1.5));
    expect(optimalSpread(0.1, 4, 20, 1.5)).toBeGreaterThan(optimalSpread(0.1, 4, 10, 1.5));
  });
  it('rounds to ticks, keeps the minimum spread and stays one tick off everyone else\'s best', () => {
    const p = { gamma: 1e-6, kappa: 100, tau: 1 }; // δ ≈ 0.02: the minimum spread decides
    let q = asQuotes(newQuotes(), 1000.5, 0, 0, p, 3, 0, 0);
    expect(q.ask - q.bid).toBeGreaterThanOrEqual(3);
    expect(q.bid).toBeLessThanOrEqual(1000);
    q = asQuotes(newQuotes(), 1000, 50, 1, { gamma: 0.5, kappa: 1, tau: 10 }, 1, 990, 995); // r = 750: far below the others' bid
    expect(q.ask).toBe(991); // not at or below the others' bid (post-only would be rejected)
    expect(q.bid).toBeLessThan(q.ask);
    q = asQuotes(newQuotes(), 1000, -50, 1, { gamma: 0.5, kappa: 1, tau: 10 }, 1, 990, 995);
    expect(q.bid).toBe(994);
    q = asQuotes(newQuotes(), 3, 50, 1, { gamma: 0.5, kappa: 1, tau: 10 }, 1, 0, 0);
    expect(q.bid).toBe(0); // no valid bid below one tick
    const code = (f: () => unknown): string => { try { f(); } catch (e) { return (e as TradsysError).code; } return 'none'; };
    expect(code(() => asQuotes(newQuotes(), Number.NaN, 0, 1, { gamma: 0.1, kappa: 1, tau: 1 }, 1, 0, 0))).toBe('ERR_STRATEGY_INPUT');
    expect(code(() => new MidVolatility(0, 10, 1, 5))).toBe('ERR_STRATEGY_INPUT');
  });
  it('quotes are whole ticks, bid < ask, never tighter than the model or minSpread, never crossing the others, leaning against inventory (fast-check)', () => {
    fc.assert(fc.property(
      fc.double({ min: 50, max: 1e6, noNaN: true }), fc.integer({ min: -20, max: 20 }), fc.double({ min: 0, max: 100, noNaN: true }),
      fc.double({ min: 1e-4, max: 2, noNaN: true }), fc.double({ min: 0.05, max: 20, noNaN: true }), fc.double({ min: 0.1, max: 60, noNaN: true }),
      fc.integer({ min: 1, max: 5 }), fc.option(fc.tuple(fc.integer({ min: -30, max: 30 }), fc.integer({ min: 1, max: 10 })), { nil: null }),
      (mid, q, sigma2, gamma, kappa, tau, minSpread, others) => {
        const p = { gamma, kappa, tau };
        const ob = others ? Math.max(1, Math.round(mid) + others[0]) : 0;
        const oa = others ? ob + others[1] : 0;
        const out = asQuotes(newQuotes(), mid, q, sigma2, p, minSpread, ob, oa);
        expect(Number.isInteger(out.bid) && Number.isInteger(out.ask)).toBe(true);
        expect(out.ask).toBeGreaterThan(out.bid);
        if (oa > 0 && out.bid > 0) expect(out.bid).toBeLessThan(oa);
        if (ob > 0) expect(out.ask).toBeGreaterThan(ob);
        if (!others && out.bidModel >= minSpread + 2) {
          expect(out.bid).toBeLessThanOrEqual(out.bidModel);
          expect(out.ask).toBeGreaterThanOrEqual(out.askModel);
          expect(out.ask - out.bid).toBeGreaterThanOrEqual(minSpread);
        }
        if (gamma * sigma2 * tau > 1e-9) expect(reservationPrice(mid, q + 1, gamma, sigma2, tau)).toBeLessThan(out.reservation);
      }), { seed: 16, numRuns: 500 });
  });
  it('online volatility: σ² per second of a random walk sampled every 250 ms', () => {
    const v = new MidVolatility(250, 2000, 3, 10);
    expect(v.sigma2).toBe(9); // initialSigma² before the warm-up
    const z = normals(91);
    let mid = 10_000;
    for (let i = 0; i < 40_000; i++) { v.sample(mid); mid += 2 * z(); } // σ = 2 ticks per 250 ms sample
    expect(v.sigma2 / 16).toBeGreaterThan(0.9); // 4 ticks² per sample × 4 samples per second = 16
    expect(v.sigma2 / 16).toBeLessThan(1.1);
    v.sample(Number.NaN); // no mid: skipped
    expect(v.samples).toBe(39_999);
  });
  it('κ from trade arrivals: 1 / the mean distance of exponential distances, the parameter until minTrades', () => {
    const k = new KappaEstimator(2000, 50);
    const u = prng(93);
    expect(k.kappa(1.5)).toBe(1.5);
    for (let i = 0; i < 49; i++) k.onTrade(-Math.log(1 - u()) / 2 * (i % 2 === 0 ? 1 : -1)); // Exp(κ = 2), both sides
    expect(k.kappa(1.5)).toBe(1.5);
    for (let i = 0; i < 50_000; i++) k.onTrade(-Math.log(1 - u()) / 2 * (i % 2 === 0 ? 1 : -1));
    expect(k.kappa(1.5) / 2).toBeGreaterThan(0.93);
    expect(k.kappa(1.5) / 2).toBeLessThan(1.07);
    const near = new KappaEstimator(10, 1);
    near.onTrade(0);
    expect(near.kappa(1.5)).toBe(10); // the 0.1-tick floor
  });
});

describe('market-maker strategy through the StrategyRunner', () => {
  const setup = (params: Partial<MarketMakerParams> = {}): Harness => {
    const h = new Harness();
    h.runner.add({ id: 'mm', kind: 'market-maker', account: ACC, symbols: ['AAA'], params: { ...params } }, marketMakerStrategy);
    h.runner.start('mm'); // (the runner's books start empty: the market comes after)
    h.sell(0, 1005, 50); // everyone else: 995 / 1005
    h.buy(0, 995, 50);
    h.advance(1000); // past minRequoteMs of the first quotes
    return h;
  };
  const quotes = (h: Harness): { bid: number | undefined; ask: number | undefined } => {
    const mine = [...h.engine.orders()].filter((o) => o.account === ACC);
    return { bid: mine.find((o) => o.side === 0)?.price === undefined ? undefined : Number(mine.find((o) => o.side === 0)!.price), ask: mine.find((o) => o.side === 1)?.price === undefined ? undefined : Number(mine.find((o) => o.side === 1)!.price) };
  };

  it('validates its parameters against the schema (defaults filled)', () => {
    const h = new Harness();
    expect(() => h.runner.add({ id: 'bad', kind: 'market-maker', account: ACC, symbols: ['AAA'], params: { gamma: -1 } }, marketMakerStrategy)).toThrow(TradsysError);
    expect(() => h.runner.add({ id: 'bad2', kind: 'market-maker', account: ACC, symbols: ['AAA'], params: { nope: 1 } }, marketMakerStrategy)).toThrow(TradsysError);
    h.runner.add({ id: 'ok', kind: 'market-maker', account: ACC, symbols: ['AAA'] }, marketMakerStrategy);
    expect(h.runner.status('ok')[0]!.parameters).toEqual(MARKET_MAKER_DEFAULTS);
  });

  it('quotes post-only around everyone else\'s mid, skews after a fill by modify, and stops the side over the max position', () => {
    const h = setup({ maxPosition: 2, qty: 1, minRequoteMs: 0 });
    // σ = initialSigma = 1, τ = 10, γ = 0.05, κ = 1.5: δ = 0.5 + 40·ln(1 + 1/30) = 1.8116 about 1000
    expect(quotes(h)).toEqual({ bid: 999, ask: 1001 });
    const sent = h.strategyCmds(ACC);
    expect(sent.every((c) => c.op !== ENUMS.Op.NEW || c.tif === ENUMS.Tif.POST_ONLY)).toBe(true);
    // someone sells 1 into the strategy's bid: long 1 → r = 1000 − 1·0.05·1·10 = 999.5 → bid 998, ask 1001
    const before = h.strategyCmds(ACC).length;
    h.sell(0, 999, 1, ENUMS.Tif.IOC);
    expect(h.runner.status('mm')[0]!.position).toEqual({ AAA: 1 });
    expect(quotes(h)).toEqual({ bid: 998, ask: 1001 });
    const after = h.strategyCmds(ACC).slice(before);
    expect(after.some((c) => c.op === ENUMS.Op.MODIFY || c.op === ENUMS.Op.NEW)).toBe(true);
    // a second fill: long 2 = maxPosition → no bid at all; the ask leans further down (r = 999)
    h.sell(0, 998, 1, ENUMS.Tif.IOC);
    expect(h.runner.status('mm')[0]!.position).toEqual({ AAA: 2 });
    const q = quotes(h);
    expect(q.bid).toBeUndefined();
    expect(q.ask).toBe(1000);
    // the signals went to strategy_signals
    const names = new Set(h.signals.filter((s) => s.strategy === 'mm').map((s) => s.signal));
    for (const n of ['reservation', 'spread', 'quote_bid', 'quote_ask', 'fill']) expect(names.has(n)).toBe(true);
    expect(h.trips).toEqual([]);
  });

  it('quotes a one-sided market around the others\' best, then around the last trade', () => {
    const h = new Harness();
    h.runner.add({ id: 'mm', kind: 'market-maker', account: ACC, symbols: ['AAA'], params: { minRequoteMs: 0 } }, marketMakerStrategy);
    h.runner.start('mm');
    h.pump();
    expect(quotes(h)).toEqual({ bid: undefined, ask: undefined }); // nothing to quote around
    h.buy(0, 995, 10); // only a bid from everyone else: quote around it (r = 995, δ = 1.81)
    expect(quotes(h)).toEqual({ bid: 994, ask: 996 });
    h.buy(0, 996, 1, ENUMS.Tif.IOC); // someone lifts the strategy's ask: last trade 996, short 1 → r = 996.5
    expect(h.runner.status('mm')[0]!.position).toEqual({ AAA: -1 });
    expect(quotes(h)).toEqual({ bid: 995, ask: 998 });
  });
  it('requotes by modify when moving away from the other side, by cancel + new post-only when moving towards it; throttled, caught up by its timer', () => {
    const h = setup({ minRequoteMs: 500, modifyGuardTicks: 10 });
    expect(quotes(h)).toEqual({ bid: 999, ask: 1001 });
    h.advance(600); // past the throttle of those quotes
    const n0 = h.strategyCmds(ACC).length;
    h.sell(0, 1011, 50); // behind the others' best ask: nothing to do
    expect(h.strategyCmds(ACC).length).toBe(n0);
    h.market(ENUMS.Op.CANCEL, 1, 0, 0, 0, { id: 1 }); // the others' 1005 ask leaves: their mid is 1003
    const c1 = h.strategyCmds(ACC).slice(n0);
    // ask 1001 → 1004 moves away from the bids: one modify; bid 999 → 1002 moves towards the asks within
    // the guard (1011 − 1002 < 10): cancelled, and sent again post-only once the cancel is acknowledged
    expect(c1.map((c) => [c.op, c.side, c.price])).toEqual([[ENUMS.Op.CANCEL, 0, 0], [ENUMS.Op.MODIFY, 1, 1004], [ENUMS.Op.NEW, 0, 1002]]);
    expect(c1[2]!.tif).toBe(ENUMS.Tif.POST_ONLY);
    expect(quotes(h)).toEqual({ bid: 1002, ask: 1004 });
    // the others' bid moves up to 1001 at once: their mid is 1006, but both sides were requoted just now
    h.advance(10);
    h.buy(0, 1001, 20);
    h.market(ENUMS.Op.CANCEL, 0, 0, 0, 0, { id: 2 }); // the others' 995 bid
    const n1 = h.strategyCmds(ACC).length;
    expect(n1).toBe(n0 + c1.length);
    h.advance(200);
    expect(h.strategyCmds(ACC).length).toBe(n1); // still throttled
    h.advance(400); // the requote timer fires: bid 1002 → 1005 (towards, cancel + new), ask 1004 → 1007 (away, modify)
    const c2 = h.strategyCmds(ACC).slice(n1);
    expect(c2.map((c) => [c.op, c.side, c.price])).toEqual([[ENUMS.Op.CANCEL, 0, 0], [ENUMS.Op.MODIFY, 1, 1007], [ENUMS.Op.NEW, 0, 1005]]);
    expect(quotes(h)).toEqual({ bid: 1005, ask: 1007 });
    expect(h.trips).toEqual([]);
    expect(h.runner.status('mm')[0]!.rejects).toBe(0);
    expect(h.runner.status('mm')[0]!.details).toMatchObject({ quotes: [{ symbol: 0, mid: 1006, bid: 1005, ask: 1007 }] });
  });
});
