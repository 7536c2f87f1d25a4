/**
 * Fat-finger protection (docs/risk.md): every instrument gets a price collar — the default ±10 %
 * unless its spec sets one — around the last trade; before the first trade around its reference
 * price, else the mid, else (for an order that would trade on arrival) the best opposite price.
 * Market orders are protected by the same band (market-order protection): refused `price_collar`
 * when the best opposite price is already outside it, else they trade only inside it and the
 * remainder is cancelled.
 * The engine is configured from instrument specs exactly as the gateway does
 * (`Instrument.riskLimits()` → `applyRiskSetup`), and run over both WASM builds and the reference.
 */
import { describe, expect, it } from 'vitest';
import { Engine, eventLine, type BuildKind, type Command } from '../../src/engine/index.js';
import { loadInstruments, type InstrumentSpec } from '../../src/domain/instruments.js';
import { RefEngine } from '../reference/ref-engine.js';

const I64_MAX = (1n << 63n) - 1n;
const SPECS: InstrumentSpec[] = [
  { symbol: 'AAPL', tickSize: '0.01', lotSize: '1', maxQty: '100000' }, // no collar configured: the default
  { symbol: 'REF', tickSize: '0.01', lotSize: '1', referencePrice: '190.00' }, // default collar, static reference
  { symbol: 'WIDE', tickSize: '0.01', lotSize: '1', priceCollarBps: 5000 }, // overridden: ±50 %
];
const ins = loadInstruments(SPECS);
const px = (sym: number, p: string): bigint => ins[sym]!.toTicks(p);

let nextId = 1n;
const order = (symbol: number, side: 0 | 1, price: bigint, qty = 1, account = side + 1): Command =>
  ({ op: 1, side, type: 0, tif: 0, symbol, id: nextId++, price, qty, account });
const market = (symbol: number, side: 0 | 1, qty = 1, account = side + 3): Command =>
  ({ op: 1, side, type: 1, tif: 0, symbol, id: nextId++, price: 0n, qty, account });

/** The reject reason of a single new order, or 'ok'; the reference must say the same. */
type Run = (c: Command) => string;

/** The event lines of one command; the reference must say the same. */
type RunEvents = (c: Command) => string[];

function engineEvents(build: BuildKind): { run: RunEvents; e: Engine } {
  const e = new Engine({ symbols: ins.length, capacity: 1000, build, risk: {} });
  e.applyRiskSetup({ symbols: ins.map((i) => i.riskLimits()) });
  const ref = new RefEngine({ symbols: ins.length });
  ref.enableRisk(65536, 262144, 0);
  ins.forEach((i, s) => ref.setSymbolRisk(s, i.riskLimits()));
  return {
    e,
    run: (c) => {
      const got = e.submit([c]).map(eventLine);
      expect(got).toEqual(ref.apply(c));
      e.validate();
      return got;
    },
  };
}

function engines(build: BuildKind): Run {
  const { run } = engineEvents(build);
  return (c) => {
    const got = run(c);
    return got[0]!.startsWith('R,') ? got[0]!.split(',')[2]! : 'ok';
  };
}

for (const build of ['release', 'debug'] as const) {
  describe(`price collar for every instrument (${build})`, () => {
    it('the fat-finger AAPL buy of issue 12 is refused on an instrument with no collar configured, before and after its first trade', () => {
      const run = engines(build);
      expect(ins[0]!.priceCollarBps).toBe(1000);
      expect(run(order(0, 1, px(0, '190.02'), 5))).toBe('ok'); // an ask rests; no trade yet, no bid
      // 92233720368547758.07 is i64 max in ticks: the JSON decoder refuses it (above 2^53−1 ticks);
      // as raw ticks it reaches the engine only through the library API, and the collar stops it
      expect(() => px(0, '92233720368547758.07')).toThrow(/above its largest price/);
      expect(run(order(0, 0, I64_MAX))).toBe('price_collar');
      expect(run(order(0, 0, px(0, '1900.20')))).toBe('price_collar'); // 10×
      expect(run(order(0, 0, px(0, '209.03')))).toBe('price_collar'); // 190.02 + 10 % = 209.022
      expect(run(order(0, 0, px(0, '209.02')))).toBe('ok'); // trades at 190.02: the first trade
      // after the first trade the collar is around 190.02
      expect(run(order(0, 0, I64_MAX))).toBe('price_collar');
      expect(run(order(0, 0, px(0, '1900.20')))).toBe('price_collar');
      expect(run(order(0, 1, px(0, '171.01')))).toBe('price_collar'); // 190.02 − 19.00
      expect(run(order(0, 1, px(0, '171.02')))).toBe('ok');
      expect(run(order(0, 1, px(0, '209.02')))).toBe('ok');
      expect(run(order(0, 1, px(0, '209.03')))).toBe('price_collar');
    });

    it('a reference price is the static band before the first trade, even on an empty book', () => {
      const run = engines(build);
      expect(run(order(1, 0, px(1, '1900.00')))).toBe('price_collar'); // first order of an empty book
      expect(run(order(1, 1, px(1, '170.99')))).toBe('price_collar'); // 190.00 ± 19.00
      expect(run(order(1, 1, px(1, '209.01')))).toBe('price_collar');
      expect(run(order(1, 0, px(1, '171.00')))).toBe('ok');
      expect(run(order(1, 1, px(1, '209.00')))).toBe('ok');
    });

    it('without a reference price, orders that do not trade on arrival rest on a one-sided book; the mid collars once both sides rest', () => {
      const run = engines(build);
      expect(run(order(0, 0, px(0, '100.00')))).toBe('ok');
      expect(run(order(0, 0, px(0, '150.00')))).toBe('ok'); // no ask: nothing to trade against
      expect(run(order(0, 1, px(0, '300.00')))).toBe('ok'); // does not cross the 150.00 bid
      // both sides rest: the mid (225.00) ± 10 %
      expect(run(order(0, 0, px(0, '202.49')))).toBe('price_collar');
      expect(run(order(0, 0, px(0, '202.50')))).toBe('ok');
      // a sell crossing the bids is collared around the mid too
      expect(run(order(0, 1, px(0, '150.00')))).toBe('price_collar');
    });

    it('the collar is overridable per instrument', () => {
      const run = engines(build);
      expect(run(order(2, 1, px(2, '100.00')))).toBe('ok');
      expect(run(order(2, 0, px(2, '150.01')))).toBe('price_collar');
      expect(run(order(2, 0, px(2, '150.00')))).toBe('ok'); // trades at 100.00
      expect(run(order(2, 0, px(2, '50.00')))).toBe('ok');
      expect(run(order(2, 0, px(2, '49.99')))).toBe('price_collar');
    });

    it('modifies are collared like new orders', () => {
      const run = engines(build);
      const o = order(0, 1, px(0, '190.02'));
      expect(run(o)).toBe('ok');
      expect(run(order(0, 0, px(0, '190.02')))).toBe('ok'); // last trade 190.02; o is gone
      const rest = order(0, 0, px(0, '189.00'));
      expect(run(rest)).toBe('ok');
      expect(run({ ...rest, op: 3, price: px(0, '1890.00'), qty: 1 })).toBe('price_collar');
      expect(run({ ...rest, op: 3, price: px(0, '200.00'), qty: 1 })).toBe('ok');
    });

    // ── market-order protection ──────────────────────────────────────────────────────────
    it('market orders: a fat-finger bid on an empty book is refused with a reference price; a market sell trades inside the static band', () => {
      const { run } = engineEvents(build);
      const absurd = order(1, 0, px(1, '1000000.00'));
      expect(run(absurd)).toEqual([`R,${absurd.id},price_collar`]); // the bid never rests
      const bid = order(1, 0, px(1, '171.00'), 2);
      expect(run(bid)).toEqual([`A,${bid.id}`]);
      const m = market(1, 1, 5);
      expect(run(m)).toEqual([`A,${m.id}`, `T,${m.id},${bid.id},${px(1, '171.00')},2`, `X,${m.id},3`]);
    });

    it('market orders after the first trade: refused when the best opposite price left the band, else stopped at its edge', () => {
      const { run, e } = engineEvents(build);
      // REF: band 190.00 ± 19.00 before the first trade
      const staleAsk = order(1, 1, px(1, '209.00'), 3);
      const bid = order(1, 0, px(1, '171.00'), 1);
      expect(run(staleAsk)).toEqual([`A,${staleAsk.id}`]);
      expect(run(bid)).toEqual([`A,${bid.id}`]);
      const hit = order(1, 1, px(1, '171.00'), 1);
      expect(run(hit)).toEqual([`A,${hit.id}`, `T,${hit.id},${bid.id},${px(1, '171.00')},1`]); // the band is now 171.00 ± 17.10
      const m1 = market(1, 0, 1);
      expect(run(m1)).toEqual([`R,${m1.id},price_collar`]); // 209.00 > 188.10: nothing within the band
      const ask = order(1, 1, px(1, '185.00'), 2);
      expect(run(ask)).toEqual([`A,${ask.id}`]);
      const m2 = market(1, 0, 10);
      // fills 185.00 (inside), never 209.00 (outside): the remainder is cancelled like an IOC's
      expect(run(m2)).toEqual([`A,${m2.id}`, `T,${m2.id},${ask.id},${px(1, '185.00')},2`, `X,${m2.id},8`]);
      expect([...e.orders()].map((o) => o.id)).toEqual([staleAsk.id]); // the stale ask still rests, untouched
    });

    it('market orders without a reference price, before the first trade: banded around the best opposite price on arrival', () => {
      const { run } = engineEvents(build);
      // the weak spot a reference price closes: on an empty AAPL book a fat-finger bid rests
      const absurd = order(0, 0, px(0, '1000000.00'), 1);
      const bid = order(0, 0, px(0, '190.00'), 5);
      expect(run(absurd)).toEqual([`A,${absurd.id}`]);
      expect(run(bid)).toEqual([`A,${bid.id}`]);
      // a market sell: band 1000000.00 ± 10 %; it may hit the absurd bid but never sweeps down to 190.00
      const m = market(0, 1, 3);
      expect(run(m)).toEqual([`A,${m.id}`, `T,${m.id},${absurd.id},${px(0, '1000000.00')},1`, `X,${m.id},2`]);
      // after that first trade the band is around 1000000.00: the 190.00 bid is out of reach
      const m2 = market(0, 1, 1);
      expect(run(m2)).toEqual([`R,${m2.id},price_collar`]);
    });

    it('market orders without a reference price: a fat-finger ask of 0.01 on an empty book caps a market buy at that price', () => {
      const { run } = engineEvents(build);
      const absurd = order(0, 1, px(0, '0.01'), 1);
      const ask = order(0, 1, px(0, '190.00'), 5);
      expect(run(absurd)).toEqual([`A,${absurd.id}`]);
      expect(run(ask)).toEqual([`A,${ask.id}`]);
      const m = market(0, 0, 4);
      // band 0.01 ± 0 ticks (⌊1 × 1000 / 10000⌋ = 0): one fill at 0.01, the rest cancelled
      expect(run(m)).toEqual([`A,${m.id}`, `T,${m.id},${absurd.id},1,1`, `X,${m.id},3`]);
    });

    it('market orders without a reference price, both sides resting: banded around the mid, like limits', () => {
      const { run } = engineEvents(build);
      const bid = order(0, 0, px(0, '100.00'), 1);
      const ask = order(0, 1, px(0, '300.00'), 1);
      expect(run(bid)).toEqual([`A,${bid.id}`]);
      expect(run(ask)).toEqual([`A,${ask.id}`]); // mid 200.00, band [180.00, 220.00]
      const mb = market(0, 0, 1);
      const ms = market(0, 1, 1);
      expect(run(mb)).toEqual([`R,${mb.id},price_collar`]);
      expect(run(ms)).toEqual([`R,${ms.id},price_collar`]);
      expect(run(order(0, 0, px(0, '300.00'))).at(-1)).toMatch(/,price_collar$/); // a limit buy at the ask too
      // a fresh book: asks 240.00 and 210.00 rest first (one-sided), then a bid at 190.00: mid 200.00
      const { run: run2 } = engineEvents(build);
      const far = order(0, 1, px(0, '240.00'));
      const near = order(0, 1, px(0, '210.00'), 2);
      const bid2 = order(0, 0, px(0, '190.00'));
      for (const o of [far, near, bid2]) expect(run2(o)).toEqual([`A,${o.id}`]);
      const mb2 = market(0, 0, 5);
      // band [180.00, 220.00]: fills 210.00, never 240.00
      expect(run2(mb2)).toEqual([`A,${mb2.id}`, `T,${mb2.id},${near.id},${px(0, '210.00')},2`, `X,${mb2.id},3`]);
    });

    it('market orders after a first trade without a reference price: a sweep stops at the band on both sides', () => {
      const { run } = engineEvents(build);
      const asks = [order(0, 1, px(0, '190.00')), order(0, 1, px(0, '200.00')), order(0, 1, px(0, '215.00'))];
      for (const a of asks) expect(run(a)).toEqual([`A,${a.id}`]); // one-sided: rest unchecked
      const first = order(0, 0, px(0, '190.00'));
      expect(run(first)).toEqual([`A,${first.id}`, `T,${first.id},${asks[0]!.id},${px(0, '190.00')},1`]); // last 190.00
      const staleBid = order(0, 0, px(0, '175.00')); // inside 190.00 ± 19.00 now
      expect(run(staleBid)).toEqual([`A,${staleBid.id}`]);
      const m = market(0, 0, 5);
      expect(run(m)).toEqual([`A,${m.id}`, `T,${m.id},${asks[1]!.id},${px(0, '200.00')},1`, `X,${m.id},4`]); // 215.00 > 209.00
      // last 200.00, band [180.00, 220.00]: the 175.00 bid is now out of reach of a market sell
      const bid = order(0, 0, px(0, '185.00'));
      expect(run(bid)).toEqual([`A,${bid.id}`]);
      const ms = market(0, 1, 5);
      expect(run(ms)).toEqual([`A,${ms.id}`, `T,${ms.id},${bid.id},${px(0, '185.00')},1`, `X,${ms.id},4`]);
      // the band is fixed on arrival (its own fills do not move it); the next market sell is banded
      // around the new last trade 185.00 ([166.50, 203.50]) and reaches 175.00
      const ms2 = market(0, 1, 1);
      expect(run(ms2)).toEqual([`A,${ms2.id}`, `T,${ms2.id},${staleBid.id},${px(0, '175.00')},1`]);
    });

    it('market orders: the band follows a per-instrument override', () => {
      const { run } = engineEvents(build);
      const a1 = order(2, 1, px(2, '100.00'));
      const b1 = order(2, 0, px(2, '100.00'));
      expect(run(a1)).toEqual([`A,${a1.id}`]);
      expect(run(b1)).toEqual([`A,${b1.id}`, `T,${b1.id},${a1.id},${px(2, '100.00')},1`]); // last 100.00, band ±50 %
      const bids = [order(2, 0, px(2, '60.00')), order(2, 0, px(2, '50.00'))];
      for (const b of bids) expect(run(b)).toEqual([`A,${b.id}`]);
      const ms = market(2, 1, 3);
      expect(run(ms)).toEqual([`A,${ms.id}`, `T,${ms.id},${bids[0]!.id},${px(2, '60.00')},1`, `T,${ms.id},${bids[1]!.id},${px(2, '50.00')},1`, `X,${ms.id},1`]);
    });
  });
}

describe('market orders without pre-trade risk (tradsys replay)', () => {
  it('are not banded: the engine without risk keeps DESIGN\'s plain semantics', () => {
    for (const build of ['release', 'debug'] as const) {
      const e = new Engine({ symbols: 1, capacity: 100, build });
      const ref = new RefEngine({ symbols: 1 });
      const cmds: Command[] = [order(0, 0, 100_000_000n), order(0, 0, 19_000n), market(0, 1, 3)];
      const got = e.submit(cmds).map(eventLine);
      expect(got).toEqual(ref.applyAll(cmds));
      expect(got.filter((l) => l.startsWith('T,'))).toHaveLength(2);
    }
  });
});
