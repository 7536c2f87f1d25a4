import { describe, expect, it } from 'vitest';
import { loadInstruments } from '../../src/domain/instruments.js';
import { fillJson, formatMoney, formatPriceRatio, orderJson, positionJson } from '../../src/cqrs/reports.js';

const [AAA, EUR] = loadInstruments([
  { symbol: 'AAA', tickSize: '0.5', lotSize: '0.01' },
  { symbol: 'EURUSD', tickSize: '0.00001', lotSize: '1000' },
]);

describe('read-model money formatting (exact decimals)', () => {
  it('formats ticks × lots in the quote currency exactly', () => {
    expect(formatMoney(AAA!, 0n)).toBe('0.000');
    expect(formatMoney(AAA!, 220n)).toBe('1.100'); // 220 × 0.5 × 0.01
    expect(formatMoney(AAA!, -3n)).toBe('-0.015');
    expect(formatMoney(EUR!, 123457n)).toBe('1234.57000'); // 123457 × 0.00001 × 1000
    expect(formatMoney(AAA!, 10n ** 30n)).toBe('5' + '0'.repeat(27) + '.000');
  });

  it('formats average prices exactly when they terminate, else rounded half away from zero', () => {
    expect(formatPriceRatio(AAA!, 330n, 3n)).toBe('55.0'); // 110 ticks
    expect(formatPriceRatio(AAA!, 201n, 2n)).toBe('50.25'); // 100.5 ticks
    expect(formatPriceRatio(AAA!, -180n, -2n)).toBe('45.0');
    expect(formatPriceRatio(AAA!, 1n, 3n)).toBe('0.166666667'); // 0.1666…6 → rounded up at 9 digits
    expect(formatPriceRatio(AAA!, 2n, 3n)).toBe('0.333333333');
    expect(formatPriceRatio(AAA!, -1n, 3n)).toBe('-0.166666667');
    expect(() => formatPriceRatio(AAA!, 1n, 0n)).toThrow(RangeError);
  });

  it('builds the HTTP JSON of positions, fills and orders', () => {
    expect(positionJson(AAA!, {
      account: 1, symbol: 0, qty: 3n, openCost: 330n, avgEntry: { num: 330n, den: 3n }, realisedPnl: 220n, unrealisedPnl: 30n, mark: 120n,
      boughtQty: 15n, soldQty: 12n, buyNotional: 1550n, sellNotional: 1440n, lastSeq: 6n,
    })).toEqual({ symbol: 'AAA', qty: '0.03', avgEntryPrice: '55.0', mark: '60.0', realisedPnl: '1.100', unrealisedPnl: '0.150', boughtQty: '0.15', soldQty: '0.12', seq: 6 });
    expect(positionJson(AAA!, {
      account: 1, symbol: 0, qty: 0n, openCost: 0n, avgEntry: null, realisedPnl: -4n, unrealisedPnl: 0n, mark: null,
      boughtQty: 1n, soldQty: 1n, buyNotional: 10n, sellNotional: 6n, lastSeq: 2n,
    })).toMatchObject({ qty: '0.00', avgEntryPrice: null, mark: null, realisedPnl: '-0.020' });
    expect(fillJson(AAA!, { seq: 4n, tsInit: 99n, tradeId: 2n, account: 1, symbol: 0, orderId: 7n, clientOrderId: 'x', side: 1, price: 201n, qty: 5, leaves: 0, liquidity: 'maker' }))
      .toEqual({ seq: 4, tradeId: 2, symbol: 'AAA', orderId: '7', clientOrderId: 'x', side: 'sell', price: '100.5', qty: '0.05', leaves: '0.00', liquidity: 'maker', ts: '99' });
    expect(orderJson(AAA!, {
      orderId: 3n, account: 1, clientOrderId: 'c', symbol: 0, side: 0, type: 0, tif: 0, price: 202n, qty: 12, leaves: 0, filled: 12,
      fillNotional: 1204n, status: 'filled', reason: 0, createdSeq: 3n, updatedSeq: 3n,
    })).toEqual({ orderId: '3', clientOrderId: 'c', symbol: 'AAA', side: 'buy', price: '101.0', qty: '0.12', leaves: '0.00', filled: '0.12', status: 'filled', avgPrice: '50.166666667', seq: 3 });
  });
});
