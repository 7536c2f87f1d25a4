/**
 * Fees and rebates of a backtest, per instrument (`--fees FILE.json`; docs/strategies.md
 * "Backtests", fees).
 *
 * Layout (the file): an object keyed by symbol name, or `"*"` for every symbol not named, each
 * `{ "makerBps": n, "takerBps": n, "makerPerLot": n, "takerPerLot": n }` (every field optional,
 * default 0; negative = a rebate). A fill of `qty` lots at `price` ticks is charged
 * `bps / 10000 × price × qty + perLot × qty` in ticks × lots (perLot is in ticks per lot).
 * Invariants: unknown keys or fields, non-finite numbers and |bps| > 10000 are refused
 * (ERR_BACKTEST_CONFIG); no file = no fees. The fee of a fill is one double expression evaluated in
 * the same order everywhere, so it is the same on every machine.
 * Complexity: O(1) per fill. Allocation: one table at load.
 * Known limitations: fees are fractional ticks × lots (a double), not rounded to a currency unit;
 * no tiers by volume.
 */
import { readFileSync } from 'node:fs';
import { TradsysError } from '../../domain/errors.js';

export interface FeeRate { makerBps: number; takerBps: number; makerPerLot: number; takerPerLot: number }
export type FeeFn = (symbol: number, liquidity: 'maker' | 'taker', price: number, qty: number) => number;

const FIELDS = ['makerBps', 'takerBps', 'makerPerLot', 'takerPerLot'] as const;
const ZERO: FeeRate = { makerBps: 0, takerBps: 0, makerPerLot: 0, takerPerLot: 0 };

function bad(m: string): never { throw new TradsysError('ERR_BACKTEST_CONFIG', `fees: ${m}`); }

/** Per-symbol rates (index = symbol id) from a parsed fee file; `symbols` are the instruments' names. */
export function parseFees(spec: unknown, symbols: readonly string[]): FeeRate[] {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) bad('the file must hold a JSON object keyed by symbol name (or "*")');
  const table = spec as Record<string, unknown>;
  const rate = (key: string): FeeRate => {
    const v = table[key];
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad(`"${key}" must be an object like {"makerBps": -1, "takerBps": 2.5}`);
    const r: FeeRate = { ...ZERO };
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (!(FIELDS as readonly string[]).includes(k)) bad(`"${key}": unknown field "${k}" (allowed: ${FIELDS.join(', ')})`);
      if (typeof x !== 'number' || !Number.isFinite(x)) bad(`"${key}".${k} must be a finite number, got ${JSON.stringify(x)}`);
      if (k.endsWith('Bps') && Math.abs(x) > 10000) bad(`"${key}".${k} must be within ±10000 bps, got ${x}`);
      r[k as keyof FeeRate] = x;
    }
    return r;
  };
  for (const k of Object.keys(table)) if (k !== '*' && !symbols.includes(k)) bad(`unknown symbol "${k}" (instruments: ${symbols.join(', ')})`);
  const dflt = '*' in table ? rate('*') : ZERO;
  return symbols.map((s) => (s in table ? rate(s) : dflt));
}

export function loadFees(path: string, symbols: readonly string[]): FeeRate[] {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) { throw new TradsysError('ERR_IO', `cannot read fees ${path}: ${(e as Error).message}`); }
  let spec: unknown;
  try { spec = JSON.parse(text); } catch (e) { bad(`${path} is not JSON: ${(e as Error).message}`); }
  return parseFees(spec, symbols);
}

/** The fee function over a table (no table: every fill free). */
export function feeFn(rates: readonly FeeRate[] | null): FeeFn {
  if (!rates) return () => 0;
  return (symbol, liq, price, qty) => {
    const r = rates[symbol] ?? ZERO;
    return liq === 'maker'
      ? (r.makerBps / 10000) * price * qty + r.makerPerLot * qty
      : (r.takerBps / 10000) * price * qty + r.takerPerLot * qty;
  };
}
