/**
 * Numbers for people: prices and quantities padded to each instrument's tick and lot decimals,
 * money with thousands separators, nanosecond timestamps as UTC clock times. Text in, text out:
 * prices never become floats on the way (DESIGN: floats never hold money).
 *
 * Layout: per symbol the decimals of its tick size and lot size (from GET /api/v1/symbols).
 * Invariants: `price(s, t)` has exactly the tick's decimals when `t` has at most that many (more
 * are kept, never rounded away). Complexity: O(text). Allocation: the result text.
 * Known limitations: UTC only.
 */
import type { Formatter, InstrumentInfo } from './types.js';

const decimalsOf = (s: string): number => { const i = s.indexOf('.'); return i < 0 ? 0 : s.length - i - 1; };

/** `text` with at least `d` decimals (padding zeros) and thousands separators in the integer part. */
export function padDecimal(text: string, d: number, group = false): string {
  if (!/^-?\d+(\.\d+)?$/.test(text)) return text;
  const neg = text.startsWith('-');
  const t = neg ? text.slice(1) : text;
  const [ip = '0', fp = ''] = t.split('.');
  const frac = fp.length >= d ? fp : fp + '0'.repeat(d - fp.length);
  const int = group ? ip.replace(/\B(?=(\d{3})+(?!\d))/g, ',') : ip;
  return `${neg ? '-' : ''}${int}${frac ? '.' + frac : ''}`;
}

/** The exact sum of decimal texts (as a decimal text with the most decimals of any term); null if one is not a decimal. */
export function addDecimals(...xs: string[]): string | null {
  let scale = 0;
  for (const x of xs) { if (!/^-?\d+(\.\d+)?$/.test(x)) return null; scale = Math.max(scale, decimalsOf(x)); }
  let sum = 0n;
  for (const x of xs) {
    const neg = x.startsWith('-');
    const [i = '0', f = ''] = (neg ? x.slice(1) : x).split('.');
    const v = BigInt(i + f.padEnd(scale, '0'));
    sum += neg ? -v : v;
  }
  const neg = sum < 0n;
  const digits = (neg ? -sum : sum).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return neg ? `-${text}` : text;
}

export class InstrumentFormatter implements Formatter {
  private readonly by = new Map<string, { info: InstrumentInfo; pd: number; qd: number }>();

  constructor(instruments: readonly InstrumentInfo[]) {
    for (const i of instruments) this.by.set(i.symbol, { info: i, pd: decimalsOf(i.tickSize), qd: decimalsOf(i.lotSize) });
  }

  instrument(symbol: string): InstrumentInfo | undefined { return this.by.get(symbol)?.info; }
  price(symbol: string, text: string | null | undefined): string {
    if (text === null || text === undefined) return '—';
    return padDecimal(text, this.by.get(symbol)?.pd ?? 0);
  }
  qty(symbol: string, text: string | null | undefined): string {
    if (text === null || text === undefined) return '—';
    return padDecimal(text, this.by.get(symbol)?.qd ?? 0);
  }
  money(text: string | null | undefined): string {
    if (text === null || text === undefined) return '—';
    return padDecimal(text, 2, true);
  }
  time(ts: string | number | bigint | null | undefined): string {
    if (ts === null || ts === undefined || ts === '') return '—';
    let ms: number;
    if (typeof ts === 'bigint') ms = Number(ts / 1_000_000n);
    else if (typeof ts === 'string') ms = /^\d{15,}$/.test(ts) ? Number(BigInt(ts) / 1_000_000n) : Number(ts);
    else ms = ts >= 1e14 ? ts / 1e6 : ts;
    if (!Number.isFinite(ms)) return '—';
    return new Date(ms).toISOString().slice(11, 23);
  }
  int(n: number | null | undefined): string {
    return n === null || n === undefined || !Number.isFinite(n) ? '—' : Math.round(n).toLocaleString('en-US');
  }
}
