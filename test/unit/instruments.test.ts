import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DEFAULT_PRICE_COLLAR_BPS, DEMO_INSTRUMENTS, Instrument, MAX_PRICE_TICKS, formatDecimal, loadInstruments, parseDecimal } from '../../src/domain/instruments.js';

describe('decimals and instruments', () => {
  it('parses and formats plain decimals exactly', () => {
    expect(parseDecimal('101.25')).toEqual({ units: 10125n, scale: 2 });
    expect(parseDecimal('-0.050')).toEqual({ units: -50n, scale: 3 });
    expect(formatDecimal({ units: 5n, scale: 3 })).toBe('0.005');
    expect(formatDecimal({ units: -12345n, scale: 2 })).toBe('-123.45');
    for (const bad of ['1e5', '+1', '1.', '.5', '', ' 1', '1,5', 'NaN', '1'.repeat(31)]) {
      expect(() => parseDecimal(bad), bad).toThrow(/decimal string/);
    }
    expect(() => parseDecimal(5 as unknown as string)).toThrow(/decimal string/);
  });

  it('converts prices and quantities to ticks and lots only when they are exact multiples', () => {
    const eth = new Instrument(1, { symbol: 'ETH-USD', tickSize: '0.05', lotSize: '0.001' });
    expect(eth.toTicks('2000.05')).toBe(40001n);
    expect(eth.toTicks('2000.050')).toBe(40001n);
    expect(() => eth.toTicks('2000.07')).toThrow(/not a multiple of ETH-USD's tick size 0.05/);
    expect(() => eth.toTicks('0')).toThrow(/out of range/);
    expect(() => eth.toTicks('-0.05')).toThrow(/out of range/);
    expect(eth.toLots('1.5')).toBe(1500);
    expect(() => eth.toLots('1.0005')).toThrow(/lot size 0.001/);
    expect(() => eth.toLots('4294967.296')).toThrow(/out of range/);
    expect(eth.toPrice(40001n)).toBe('2000.05');
    expect(eth.toQty(1500)).toBe('1.500');
  });

  it('round-trips every representable value (property)', () => {
    fc.assert(fc.property(fc.bigInt({ min: 1n, max: MAX_PRICE_TICKS }), fc.integer({ min: 1, max: 0xffffffff }),
      fc.constantFrom('0.5', '0.05', '0.00001', '1', '25', '0.125'), fc.constantFrom('1', '0.001', '1000', '0.25'), (t, l, tick, lot) => {
        const ins = new Instrument(0, { symbol: 'X', tickSize: tick, lotSize: lot });
        expect(ins.toTicks(ins.toPrice(t))).toBe(t);
        expect(ins.toLots(ins.toQty(l))).toBe(l);
      }), { seed: 3, numRuns: 300 });
  });

  it('refuses a price beyond the representable range (2^53−1 ticks) at decode, never wrapping it', () => {
    const aapl = new Instrument(3, { symbol: 'AAPL', tickSize: '0.01', lotSize: '1' });
    expect(MAX_PRICE_TICKS).toBe(9007199254740991n);
    expect(aapl.maxPrice).toBe('90071992547409.91');
    expect(aapl.toTicks('90071992547409.91')).toBe(MAX_PRICE_TICKS);
    expect(() => aapl.toTicks('90071992547409.92')).toThrow(/out of range for AAPL: above its largest price 90071992547409.91/);
    // the fat-finger price of issue 12 (i64 max in ticks) and beyond i64
    expect(() => aapl.toTicks('92233720368547758.07')).toThrow(/above its largest price/);
    expect(() => aapl.toTicks('92233720368547758.08')).toThrow(/above its largest price/);
    expect(() => aapl.toTicks('999999999999999999999999999999')).toThrow(/above its largest price/);
  });

  it('gives every instrument a price collar (default or its own) and an optional reference price', () => {
    const plain = new Instrument(0, { symbol: 'P', tickSize: '0.01', lotSize: '1' });
    expect(plain.priceCollarBps).toBe(DEFAULT_PRICE_COLLAR_BPS);
    expect(plain.riskLimits()).toMatchObject({ collarBps: 1000, lastPrice: 0n });
    const own = new Instrument(1, { symbol: 'O', tickSize: '0.01', lotSize: '1', priceCollarBps: 250, referencePrice: '190.02' });
    expect(own.riskLimits()).toMatchObject({ collarBps: 250, lastPrice: 19002n });
    expect(own.toJSON()).toMatchObject({ priceCollarBps: 250, referencePrice: '190.02', maxPrice: '90071992547409.91' });
    for (const bps of [0, -1, 10001, 1.5, '100']) {
      expect(() => new Instrument(2, { symbol: 'B', tickSize: '0.01', lotSize: '1', priceCollarBps: bps as number }), String(bps)).toThrow(/priceCollarBps must be an integer in \[1, 10000\] \(every instrument has a price collar/);
    }
    expect(() => new Instrument(2, { symbol: 'B', tickSize: '0.01', lotSize: '1', referencePrice: '190.005' })).toThrow(/B: referencePrice: price 190.005 is not a multiple of B's tick size 0.01/);
    expect(() => new Instrument(2, { symbol: 'B', tickSize: '0.01', lotSize: '1', referencePrice: '0' })).toThrow(/referencePrice: .*must be positive/);
  });

  it('validates instrument files with errors naming the entry', () => {
    const list = loadInstruments(DEMO_INSTRUMENTS);
    expect(list.map((i) => i.id)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(list[0]!.toJSON()).toMatchObject({ symbol: 'BTC-USD', tickSize: '0.5', lotSize: '0.0001', minQty: '0.0001', maxQty: '100.0000' });
    expect(() => loadInstruments([])).toThrow(/non-empty JSON array/);
    expect(() => loadInstruments([{ symbol: 'A', tickSize: '0', lotSize: '1' }])).toThrow(/must be positive/);
    expect(() => loadInstruments([{ symbol: 'A', tickSize: '1', lotSize: '1' }, { symbol: 'A', tickSize: '1', lotSize: '1' }])).toThrow(/appears twice/);
    expect(() => loadInstruments([{ symbol: 'bad symbol', tickSize: '1', lotSize: '1' }])).toThrow(/instrument 0: symbol/);
    expect(() => loadInstruments([{ symbol: 'A', tickSize: '1', lotSize: '2', minQty: '3' }])).toThrow(/not a multiple of A's lot size 2/);
  });
});
