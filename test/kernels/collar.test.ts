/**
 * Fat-finger protection (docs/risk.md): every instrument gets a price collar — the default ±10 %
 * unless its spec sets one — around the last trade; before the first trade around its reference
 * price, else the mid, else (for an order that would trade on arrival) the best opposite price.
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

/** The reject reason of a single new order, or 'ok'; the reference must say the same. */
type Run = (c: Command) => string;

function engines(build: BuildKind): Run {
  const e = new Engine({ symbols: ins.length, capacity: 1000, build, risk: {} });
  e.applyRiskSetup({ symbols: ins.map((i) => i.riskLimits()) });
  const ref = new RefEngine({ symbols: ins.length });
  ref.enableRisk(65536, 262144, 0);
  ins.forEach((i, s) => ref.setSymbolRisk(s, i.riskLimits()));
  return (c) => {
    const got = e.submit([c]).map(eventLine);
    expect(got).toEqual(ref.apply(c));
    e.validate();
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
  });
}
