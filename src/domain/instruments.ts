/**
 * Instrument reference data and exact decimal ↔ integer conversion: clients speak decimal strings
 * ("101.25"), the engine speaks integer ticks and lots. A price must be an exact multiple of the
 * symbol's tick size and a quantity of its lot size; anything else is refused with a clear error
 * (never rounded).
 *
 * Layout: a decimal is (units: bigint, scale: number) = units / 10^scale. Instrument ids are the
 * engine's symbol numbers 0..N-1, in file order.
 * Invariants: toTicks(toPrice(t)) = t and toLots(toQty(l)) = l for every representable value:
 * prices 1 … 2^53−1 ticks (MAX_PRICE_TICKS: the largest integer every path carries exactly — the
 * binary protocol, the host's numbers, market data), quantities 1 … 2^32−1 lots.
 * Every instrument has a price collar (DEFAULT_PRICE_COLLAR_BPS unless its spec sets one) and
 * may name a reference price, the collar's static reference before its first trade
 * (docs/risk.md "Fat-finger protection").
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
  /**
   * Price collar half-width in basis points around the last trade (before the first trade: the
   * reference price, else the mid, else — for an order that would trade on arrival — the best
   * opposite price); 1..10000, default DEFAULT_PRICE_COLLAR_BPS. Every instrument has one.
   */
  priceCollarBps?: number;
  /**
   * Reference price (decimal, a multiple of tickSize): the collar's reference until the first
   * trade, i.e. the static band [ref − collar, ref + collar] of an instrument that has not traded
   * (an exchange's previous close). Optional; recommended for every instrument.
   */
  referencePrice?: string;
  status?: 'trading' | 'halted';
}

const I64_MAX = (1n << 63n) - 1n;
const U32_MAX = 0xffffffffn;
/** The largest price in ticks: 2^53−1, what the binary protocol and the host's numbers carry exactly. */
export const MAX_PRICE_TICKS = BigInt(Number.MAX_SAFE_INTEGER);
/** The collar of an instrument whose spec sets none: ±10 % (docs/risk.md). */
export const DEFAULT_PRICE_COLLAR_BPS = 1000;

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
  /** The collar's reference before the first trade, in ticks (null: none configured). */
  readonly referenceTicks: bigint | null;
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
    const bps = spec.priceCollarBps ?? DEFAULT_PRICE_COLLAR_BPS;
    if (!Number.isInteger(bps) || bps < 1 || bps > 10000) {
      throw new TradsysError('ERR_INSTRUMENT_SPEC', `${spec.symbol}: priceCollarBps must be an integer in [1, 10000] (every instrument has a price collar; omit it for the default ${DEFAULT_PRICE_COLLAR_BPS}), got ${JSON.stringify(spec.priceCollarBps)}`);
    }
    this.priceCollarBps = bps;
    this.referenceTicks = null;
    if (spec.referencePrice !== undefined) {
      try {
        this.referenceTicks = this.toTicks(spec.referencePrice);
      } catch (e) {
        throw new TradsysError('ERR_INSTRUMENT_SPEC', `${spec.symbol}: referencePrice: ${(e as Error).message}`);
      }
    }
    this.status = spec.status ?? 'trading';
    if (this.status !== 'trading' && this.status !== 'halted') throw new TradsysError('ERR_INSTRUMENT_SPEC', `${spec.symbol}: status must be "trading" or "halted"`);
  }

  /**
   * Decimal price → integer ticks: positive, an exact multiple of the tick size, at most
   * MAX_PRICE_TICKS (a larger price is refused here, never wrapped or rounded on a later path).
   */
  toTicks(price: string): bigint {
    const v = parseDecimal(price, 'price');
    const t = exactMultiple(v, this.tickSize);
    if (t === null) throw new TradsysError('ERR_PRICE_TICK', `price ${price} is not a multiple of ${this.symbol}'s tick size ${formatDecimal(this.tickSize)}`);
    if (t <= 0n) throw new TradsysError('ERR_PRICE_TICK', `price ${price} is out of range for ${this.symbol}: it must be positive`);
    if (t > MAX_PRICE_TICKS) throw new TradsysError('ERR_PRICE_TICK', `price ${price} is out of range for ${this.symbol}: above its largest price ${this.maxPrice} (2^53−1 ticks)`);
    return t;
  }

  /** The largest price this instrument carries (MAX_PRICE_TICKS ticks), as a decimal. */
  get maxPrice(): string { return this.toPrice(MAX_PRICE_TICKS); }

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

  /**
   * The engine's risk settings for this instrument (ticks and lots). `lastPrice`, the collar's
   * reference, starts at the reference price (0n: none) and follows each trade from then on.
   */
  riskLimits(): { halted: boolean; minQty: number; maxQty: number; collarBps: number; minNotional: bigint; maxNotional: bigint; maxPosition: bigint; lastPrice: bigint } {
    const cap = (v: bigint): bigint => (v > I64_MAX ? I64_MAX : v);
    return {
      halted: this.status === 'halted', minQty: this.minLots, maxQty: this.maxLots === 0xffffffff ? 0 : this.maxLots, collarBps: this.priceCollarBps,
      minNotional: this.minNotional ? cap(this.notionalUnits(this.minNotional, true)) : 0n,
      maxNotional: this.maxNotional ? cap(this.notionalUnits(this.maxNotional, false)) : 0n,
      maxPosition: BigInt(this.maxPositionLots), lastPrice: this.referenceTicks ?? 0n,
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
      maxPosition: this.maxPositionLots ? this.toQty(this.maxPositionLots) : null, priceCollarBps: this.priceCollarBps,
      referencePrice: this.referenceTicks === null ? null : this.toPrice(this.referenceTicks), maxPrice: this.maxPrice, status: this.status,
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

/**
 * The built-in demo set used when no --instruments file is given. Every one has a reference price
 * (the static collar band before its first trade: default ±10 %, docs/risk.md) from which the
 * market simulator also starts its fair value.
 */
export const DEMO_INSTRUMENTS: InstrumentSpec[] = [
  { symbol: 'BTC-USD', tickSize: '0.5', lotSize: '0.0001', minQty: '0.0001', maxQty: '100', maxNotional: '10000000', priceCollarBps: 1000, referencePrice: '60000.0' },
  { symbol: 'ETH-USD', tickSize: '0.05', lotSize: '0.001', minQty: '0.001', maxQty: '1000', maxNotional: '5000000', priceCollarBps: 1000, referencePrice: '3000.00' },
  { symbol: 'SOL-USD', tickSize: '0.001', lotSize: '0.01', maxQty: '100000', referencePrice: '150.000' },
  { symbol: 'AAPL', tickSize: '0.01', lotSize: '1', maxQty: '100000', referencePrice: '190.00' },
  { symbol: 'MSFT', tickSize: '0.01', lotSize: '1', maxQty: '100000', referencePrice: '410.00' },
  { symbol: 'EURUSD', tickSize: '0.00001', lotSize: '1000', minNotional: '1000', referencePrice: '1.08000' },
];
