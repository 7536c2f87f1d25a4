/**
 * Instrument reference data and exact decimal ↔ integer conversion: clients speak decimal strings
 * ("101.25"), the engine speaks integer ticks and lots. A price must be an exact multiple of the
 * symbol's tick size and a quantity of its lot size; anything else is refused with a clear error
 * (never rounded).
 *
 * Layout: a decimal is (units: bigint, scale: number) = units / 10^scale. Instrument ids are the
 * engine's symbol numbers 0..N-1, in file order.
 * Invariants: toTicks(toPrice(t)) = t and toLots(toQty(l)) = l for every representable value.
 * Complexity: O(digits). Allocation: a few BigInts per conversion (gateway side, not the engine).
 * Known limitations: no exponent notation; at most 30 significant digits.
 */
import { TradsysError } from './errors.js';

export interface Decimal { units: bigint; scale: number }

const DEC = /^(-?)(\d{1,30})(?:\.(\d{1,30}))?$/;

/** Parses a plain decimal string ("12", "0.05", "-3.250"); throws ERR_DECIMAL_FORMAT. */
export function parseDecimal(s: string, what = 'value'): Decimal {
  const m = typeof s === 'string' ? DEC.exec(s) : null;
  if (!m) throw new TradsysError('ERR_DECIMAL_FORMAT', `${what} must be a decimal string like "101.25", got ${JSON.stringify(s)}`);
  const frac = m[3] ?? '';
  const units = BigInt(m[2]! + frac) * (m[1] === '-' ? -1n : 1n);
  return { units, scale: frac.length };
}

export function formatDecimal(d: Decimal): string {
  const neg = d.units < 0n;
  let digits = (neg ? -d.units : d.units).toString();
  if (d.scale === 0) return (neg ? '-' : '') + digits;
  digits = digits.padStart(d.scale + 1, '0');
  return (neg ? '-' : '') + digits.slice(0, -d.scale) + '.' + digits.slice(-d.scale);
}

const POW10: bigint[] = Array.from({ length: 64 }, (_, i) => 10n ** BigInt(i));

/** v / step as an exact integer, or null if v is not a multiple of step. */
function exactMultiple(v: Decimal, step: Decimal): bigint | null {
  // v/step = (V·10^b) / (S·10^a)
  const num = v.units * POW10[step.scale]!;
  const den = step.units * POW10[v.scale]!;
  if (num % den !== 0n) return null;
  return num / den;
}

export interface InstrumentSpec {
  symbol: string;
  tickSize: string;
  lotSize: string;
  /** Smallest and largest order quantity (decimal, multiples of lotSize). */
  minQty?: string;
  maxQty?: string;
  /** Smallest order notional, price × qty (decimal). */
  minNotional?: string;
  /** Largest order notional, price × qty (decimal). */
  maxNotional?: string;
  /** Largest projected position per account, long or short (decimal, a multiple of lotSize). */
  maxPosition?: string;
  /** Price collar half-width in basis points around the last trade (else the mid); 1..10000. */
  priceCollarBps?: number;
  status?: 'trading' | 'halted';
}

const I64_MAX = (1n << 63n) - 1n;
const U32_MAX = 0xffffffffn;

export class Instrument {
  readonly id: number;
  readonly symbol: string;
  readonly tickSize: Decimal;
  readonly lotSize: Decimal;
  readonly minLots: number;
  readonly maxLots: number;
  readonly minNotional: Decimal | null;
  readonly maxNotional: Decimal | null;
  readonly maxPositionLots: number;
  readonly priceCollarBps: number;
  status: 'trading' | 'halted';

  constructor(id: number, spec: InstrumentSpec) {
    if (typeof spec !== 'object' || spec === null) throw new TradsysError('ERR_INSTRUMENT_SPEC', `instrument ${id}: not an object`);
    if (typeof spec.symbol !== 'string' || !/^[A-Za-z0-9._:/-]{1,32}$/.test(spec.symbol)) {
      throw new TradsysError('ERR_INSTRUMENT_SPEC', `instrument ${id}: symbol must be 1-32 characters of letters, digits and ._:/-, got ${JSON.stringify(spec.symbol)}`);
    }
    this.id = id;
    this.symbol = spec.symbol;
    this.tickSize = parseDecimal(spec.tickSize, `${spec.symbol} tickSize`);
    this.lotSize = parseDecimal(spec.lotSize, `${spec.symbol} lotSize`);
    if (this.tickSize.units <= 0n || this.lotSize.units <= 0n) throw new TradsysError('ERR_INSTRUMENT_SPEC', `${spec.symbol}: tickSize and lotSize must be positive`);
    this.minLots = spec.minQty === undefined ? 1 : this.toLots(spec.minQty);
    this.maxLots = spec.maxQty === undefined ? 0xffffffff : this.toLots(spec.maxQty);
    if (this.minLots > this.maxLots) throw new TradsysError('ERR_INSTRUMENT_SPEC', `${spec.symbol}: minQty above maxQty`);
    this.minNotional = spec.minNotional === undefined ? null : parseDecimal(spec.minNotional, `${spec.symbol} minNotional`);
    this.maxNotional = spec.maxNotional === undefined ? null : parseDecimal(spec.maxNotional, `${spec.symbol} maxNotional`);
    for (const [k, d] of [['minNotional', this.minNotional], ['maxNotional', this.maxNotional]] as const) {
      if (d !== null && d.units <= 0n) throw new TradsysError('ERR_INSTRUMENT_SPEC', `${spec.symbol}: ${k} must be positive`);
    }
    if (this.maxNotional !== null && this.notionalUnits(this.maxNotional, false) === 0n) {
      throw new TradsysError('ERR_INSTRUMENT_SPEC', `${spec.symbol}: maxNotional is below one tick × one lot`);
    }
    if (this.minNotional !== null && this.maxNotional !== null && this.notionalUnits(this.minNotional, true) > this.notionalUnits(this.maxNotional, false)) {
      throw new TradsysError('ERR_INSTRUMENT_SPEC', `${spec.symbol}: minNotional above maxNotional`);
    }
    this.maxPositionLots = spec.maxPosition === undefined ? 0 : this.toLots(spec.maxPosition);
    const bps = spec.priceCollarBps ?? 0;
    if (!Number.isInteger(bps) || bps < 0 || bps > 10000) throw new TradsysError('ERR_INSTRUMENT_SPEC', `${spec.symbol}: priceCollarBps must be an integer in [0, 10000]`);
    this.priceCollarBps = bps;
    this.status = spec.status ?? 'trading';
    if (this.status !== 'trading' && this.status !== 'halted') throw new TradsysError('ERR_INSTRUMENT_SPEC', `${spec.symbol}: status must be "trading" or "halted"`);
  }

  /** Decimal price → integer ticks (positive, exact multiple of the tick size). */
  toTicks(price: string): bigint {
    const v = parseDecimal(price, 'price');
    const t = exactMultiple(v, this.tickSize);
    if (t === null) throw new TradsysError('ERR_PRICE_TICK', `price ${price} is not a multiple of ${this.symbol}'s tick size ${formatDecimal(this.tickSize)}`);
    if (t <= 0n || t > I64_MAX) throw new TradsysError('ERR_PRICE_TICK', `price ${price} is out of range for ${this.symbol}`);
    return t;
  }

  /** Decimal quantity → integer lots (1..2^32-1, exact multiple of the lot size). */
  toLots(qty: string): number {
    const v = parseDecimal(qty, 'qty');
    const l = exactMultiple(v, this.lotSize);
    if (l === null) throw new TradsysError('ERR_QTY_LOT', `qty ${qty} is not a multiple of ${this.symbol}'s lot size ${formatDecimal(this.lotSize)}`);
    if (l <= 0n || l > U32_MAX) throw new TradsysError('ERR_QTY_LOT', `qty ${qty} is out of range for ${this.symbol}`);
    return Number(l);
  }

  /**
   * A notional (decimal, quote currency) in engine units of ticks × lots: rounded up for a minimum
   * (price·qty < min ⇔ units < ⌈min / (tick·lot)⌉), down for a maximum.
   */
  notionalUnits(n: Decimal, roundUp: boolean): bigint {
    // n / (tick·lot) = N·10^(ts+ls) / (T·L·10^ns)
    const num = n.units * POW10[this.tickSize.scale + this.lotSize.scale]!;
    const den = this.tickSize.units * this.lotSize.units * POW10[n.scale]!;
    const q = num / den;
    return roundUp && q * den !== num ? q + 1n : q;
  }

  /** The engine's risk settings for this instrument (ticks and lots). */
  riskLimits(): { halted: boolean; minQty: number; maxQty: number; collarBps: number; minNotional: bigint; maxNotional: bigint; maxPosition: bigint } {
    const cap = (v: bigint): bigint => (v > I64_MAX ? I64_MAX : v);
    return {
      halted: this.status === 'halted', minQty: this.minLots, maxQty: this.maxLots === 0xffffffff ? 0 : this.maxLots, collarBps: this.priceCollarBps,
      minNotional: this.minNotional ? cap(this.notionalUnits(this.minNotional, true)) : 0n,
      maxNotional: this.maxNotional ? cap(this.notionalUnits(this.maxNotional, false)) : 0n,
      maxPosition: BigInt(this.maxPositionLots),
    };
  }

  toPrice(ticks: bigint): string {
    return formatDecimal({ units: ticks * this.tickSize.units, scale: this.tickSize.scale });
  }

  toQty(lots: number | bigint): string {
    return formatDecimal({ units: BigInt(lots) * this.lotSize.units, scale: this.lotSize.scale });
  }

  toJSON(): Record<string, unknown> {
    return {
      id: this.id, symbol: this.symbol, tickSize: formatDecimal(this.tickSize), lotSize: formatDecimal(this.lotSize),
      minQty: this.toQty(this.minLots), maxQty: this.toQty(this.maxLots),
      minNotional: this.minNotional ? formatDecimal(this.minNotional) : null, maxNotional: this.maxNotional ? formatDecimal(this.maxNotional) : null,
      maxPosition: this.maxPositionLots ? this.toQty(this.maxPositionLots) : null, priceCollarBps: this.priceCollarBps || null, status: this.status,
    };
  }
}

/** Validates a list of instrument specs (e.g. the --instruments JSON file). Symbols must be unique. */
export function loadInstruments(specs: unknown): Instrument[] {
  if (!Array.isArray(specs) || specs.length === 0) throw new TradsysError('ERR_INSTRUMENT_SPEC', 'instruments must be a non-empty JSON array');
  const out = specs.map((s, i) => new Instrument(i, s as InstrumentSpec));
  const seen = new Set<string>();
  for (const ins of out) {
    if (seen.has(ins.symbol)) throw new TradsysError('ERR_INSTRUMENT_SPEC', `symbol ${ins.symbol} appears twice`);
    seen.add(ins.symbol);
  }
  return out;
}

/** The built-in demo set used when no --instruments file is given. */
export const DEMO_INSTRUMENTS: InstrumentSpec[] = [
  { symbol: 'BTC-USD', tickSize: '0.5', lotSize: '0.0001', minQty: '0.0001', maxQty: '100', maxNotional: '10000000', priceCollarBps: 1000 },
  { symbol: 'ETH-USD', tickSize: '0.05', lotSize: '0.001', minQty: '0.001', maxQty: '1000', maxNotional: '5000000', priceCollarBps: 1000 },
  { symbol: 'SOL-USD', tickSize: '0.001', lotSize: '0.01', maxQty: '100000' },
  { symbol: 'AAPL', tickSize: '0.01', lotSize: '1', maxQty: '100000' },
  { symbol: 'MSFT', tickSize: '0.01', lotSize: '1', maxQty: '100000' },
  { symbol: 'EURUSD', tickSize: '0.00001', lotSize: '1000', minNotional: '1000' },
];
