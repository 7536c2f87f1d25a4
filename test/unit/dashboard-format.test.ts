/**
 * The dashboard's number formatting (src/dashboard/format.ts), bundled for the browser as the page
 * is (esbuild) and run in a bare V8 context: prices and quantities padded to the instrument's
 * decimals without rounding, exact decimal sums for P&L (no float), UTC times from epoch ns.
 */
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { createContext, runInContext } from 'node:vm';
import { join } from 'node:path';
import { ROOT } from '../../src/abi/gen.js';

interface FormatModule {
  padDecimal(text: string, d: number, group?: boolean): string;
  addDecimals(...xs: string[]): string | null;
  InstrumentFormatter: new (i: { symbol: string; tickSize: string; lotSize: string }[]) => {
    price(s: string, t: string | null): string; qty(s: string, t: string | null): string; money(t: string | null): string; time(ts: string | number | bigint | null): string;
  };
}

async function load(): Promise<FormatModule> {
  const r = await build({ entryPoints: [join(ROOT, 'src/dashboard/format.ts')], bundle: true, platform: 'browser', format: 'iife', globalName: 'F', write: false, logLevel: 'silent', target: 'es2022' });
  const ctx = createContext({});
  runInContext(r.outputFiles[0]!.text, ctx);
  return ctx.F as FormatModule;
}

describe('dashboard formatting', () => {
  it('pads to the tick and lot decimals, never rounds, groups thousands for money', async () => {
    const f = await load();
    const fmt = new f.InstrumentFormatter([{ symbol: 'BTC-USD', tickSize: '0.5', lotSize: '0.0001' }, { symbol: 'AAPL', tickSize: '0.01', lotSize: '1' }]);
    expect(fmt.price('BTC-USD', '60000')).toBe('60000.0');
    expect(fmt.price('AAPL', '190.5')).toBe('190.50');
    expect(fmt.price('AAPL', '190.505')).toBe('190.505'); // more decimals than the tick are kept, not rounded
    expect(fmt.qty('BTC-USD', '0.5')).toBe('0.5000');
    expect(fmt.qty('AAPL', '12')).toBe('12');
    expect(fmt.price('AAPL', null)).toBe('—');
    expect(fmt.money('-1234567.5')).toBe('-1,234,567.50');
    expect(f.padDecimal('not a number', 2)).toBe('not a number');
  });

  it('sums P&L decimals exactly', async () => {
    const f = await load();
    expect(f.addDecimals('0.1', '0.2')).toBe('0.3'); // 0.30000000000000004 as doubles
    expect(f.addDecimals('-12.50001', '2.5')).toBe('-10.00001');
    expect(f.addDecimals('9007199254740993', '1')).toBe('9007199254740994');
    expect(f.addDecimals('-0.5', '0.5')).toBe('0.0');
    expect(f.addDecimals('1', 'x')).toBeNull();
  });

  it('shows epoch nanoseconds (19-digit texts) and milliseconds as UTC clock times', async () => {
    const f = await load();
    const fmt = new f.InstrumentFormatter([]);
    expect(fmt.time('1796197961017123456')).toBe(new Date(1796197961017).toISOString().slice(11, 23));
    expect(fmt.time(1796197961017)).toBe(new Date(1796197961017).toISOString().slice(11, 23));
    expect(fmt.time(null)).toBe('—');
  });
});
