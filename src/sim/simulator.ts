/**
 * Built-in market simulator for `tradsys serve`: simulated participants place and cancel limit
 * orders around a random-walk fair value per symbol and now and then take liquidity, so books and
 * trades are alive without any client. Each time a symbol's fair value is updated, the
 * participants pull their quotes that it has moved through (a bid at or above it, an ask at or
 * below it) or left more than twice the quoting width behind, so the book's touch — and its mid —
 * follows the fair value (without this the touch was the extreme of seconds-old orders: mid
 * changes at 100 ms uncorrelated with the fair value's, AAPL's mid 12 ticks rms off it). Limit
 * orders rest 1 … W ticks from the fair value, W = 20, or in the cointegrated market the fair
 * value's factor standard deviation over one second when that is more (SOL-USD: ≈ 180 ticks). Orders go through the gateway's own order path (registry +
 * engine thread), from accounts 1,000,000 and up. Each symbol's fair value starts at its
 * instrument's reference price (`referencePrice`, the centre of its static collar band, so the
 * first orders are inside the band); an instrument without one starts at SIM_FALLBACK_FAIR_TICKS.
 *
 *
 * Markets: `market: 'walk'` (the class default) moves each fair value by single ticks at random,
 * independently; `market: 'cointegrated'` (what `tradsys serve` runs unless `--sim-market walk`)
 * drives the fair values with src/workload/cointegrated.ts — per group of instruments a common
 * random-walk factor, per instrument a beta on it and a mean-reverting spread — advanced one step
 * per simulator tick, so a pairs strategy finds real cointegrated pairs (docs/strategies.md
 * "Simulated market"). Its time parameters are in seconds and converted with the nominal tick
 * interval.
 *
 * Invariants: prices and quantities are exact multiples of each instrument's tick and lot;
 * the number of simulated resting orders per symbol stays bounded (oldest cancelled first); no
 * simulated quote stays through the fair value after its symbol's next update.
 * Complexity: O(resting orders of the symbol) per simulated action (the pull scan, ≤ maxResting).
 * Allocation: a few objects per simulated order (not the engine's hot path).
 * Known limitations: one timer on the main thread; rates are modest by design (a demo feed). The
 * cointegrated market's clock is the tick count, so a main thread that falls behind its timer
 * slows the market's time down with it.
 */
import { prng } from '../workload/generator.js';
import { CointegratedMarket, pairGroups } from '../workload/cointegrated.js';
import { TradsysError } from '../domain/errors.js';
import type { Gateway } from '../gateway/gateway.js';

/**
 * Starting fair value, in ticks, of an instrument without a reference price: far enough from 0
 * that the simulator's offsets (≤ 20 ticks) stay within a ±10 % collar around the first trades.
 */
export const SIM_FALLBACK_FAIR_TICKS = 10_000;

/** The simulator's starting fair value of an instrument, in ticks: its reference price, else the fallback. */
export function simStartTicks(ins: { referenceTicks: bigint | null }): number {
  return ins.referenceTicks !== null && ins.referenceTicks <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(ins.referenceTicks) : SIM_FALLBACK_FAIR_TICKS;
}

/** The cointegrated market's parameters in simulator units (docs/strategies.md "Simulated market"). */
export interface SimCointegration {
  /** Groups of instruments (symbol names or indices) sharing one common factor; others move on their own. */
  groups: readonly (readonly (string | number)[])[];
  /** The common factor's volatility, basis points of each starting price per √second. */
  factorVolBpPerSqrtSec: number;
  /** Half-life of each instrument's spread, seconds. */
  halfLifeSec: number;
  /** Stationary standard deviation of each instrument's spread, basis points of its starting price. */
  spreadSdBp: number;
  /** Loadings on the group factor by symbol name (default 1). */
  betas?: Readonly<Record<string, number>>;
}

/**
 * The built-in instruments' groups: the three crypto pairs on one factor (ETH and SOL with the
 * higher betas they have on bitcoin), the two equities on another; EURUSD moves on its own.
 */
export const DEMO_SIM_GROUPS: readonly (readonly string[])[] = [['BTC-USD', 'ETH-USD', 'SOL-USD'], ['AAPL', 'MSFT']];
export const DEMO_SIM_BETAS: Readonly<Record<string, number>> = Object.freeze({ 'BTC-USD': 1, 'ETH-USD': 1.2, 'SOL-USD': 1.5, AAPL: 1, MSFT: 1.1 });

/**
 * Defaults: 8 bp/√s of factor volatility (about 5 % an hour: a lively demo), spreads of 4 bp
 * standard deviation with a 2 s half-life — so 5 minutes of quarter-second samples show a group's
 * pairs cointegrated (Engle–Granger p < 0.05 in every seed tried) while instruments of different
 * groups are rejected at about the nominal 5 % (6.7 % of 120 tests); with spreads large or fast
 * against the factor the test over-rejects independent instruments (the ADF size distortion of a
 * random walk plus stationary noise; test/unit/cointegrated.test.ts): 8 bp with a 1 s half-life
 * gave 17 %, 8 bp with 2 s 12 %. The half-life sets how soon a pair can be found at all: the
 * Engle–Granger test's power grows with the number of half-lives in its window, not with the
 * sampling rate; with the earlier 5 s (and 8 bp) a 50 s window of the equities' mids found them
 * cointegrated in about a third of the seeds, with these defaults in 24 of 30 (the demo's pairs
 * strategy screens 50 s and re-tests every 20 s: src/strategies/demo.ts).
 * Groups and betas from DEMO_SIM_GROUPS / DEMO_SIM_BETAS when every instrument they name exists,
 * else consecutive pairs (0–1, 2–3, …) with betas 1.
 */
export const SIM_COINTEGRATION: Omit<SimCointegration, 'groups' | 'betas'> = Object.freeze({ factorVolBpPerSqrtSec: 8, halfLifeSec: 2, spreadSdBp: 4 });

export interface SimOptions {
  seed?: number; intervalMs?: number; ordersPerTick?: number; maxResting?: number;
  /** 'walk' (default) or 'cointegrated'. */
  market?: 'walk' | 'cointegrated';
  cointegration?: Partial<SimCointegration>;
}

/**
 * The simulator's cointegrated market over `instruments` (one step per tick of `intervalMs`).
 * TradsysError ERR_SIM_CONFIG on an unknown symbol in a group or beta, or a bad parameter.
 */
export function simCointegratedMarket(
  instruments: readonly { symbol: string; referenceTicks: bigint | null }[], intervalMs: number, c: Partial<SimCointegration> = {}, seed = 7,
): CointegratedMarket {
  const names = instruments.map((i) => i.symbol);
  const index = (x: string | number): number => {
    const k = typeof x === 'number' ? (Number.isInteger(x) && x >= 0 && x < names.length ? x : -1) : names.indexOf(x);
    if (k < 0) throw new TradsysError('ERR_SIM_CONFIG', `cointegration group member ${JSON.stringify(x)} is not one of the instruments (${names.join(', ')})`);
    return k;
  };
  const demo = DEMO_SIM_GROUPS.every((g) => g.every((n) => names.includes(n)));
  const groups = c.groups ?? (demo ? DEMO_SIM_GROUPS : pairGroups(names.length));
  const betaMap = c.betas ?? (c.groups === undefined && demo ? DEMO_SIM_BETAS : {});
  for (const n of Object.keys(betaMap)) index(n);
  const p = { ...SIM_COINTEGRATION, ...c };
  for (const k of ['factorVolBpPerSqrtSec', 'halfLifeSec', 'spreadSdBp'] as const) {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (k === 'halfLifeSec' && v === 0)) {
      throw new TradsysError('ERR_SIM_CONFIG', `${k} must be a ${k === 'halfLifeSec' ? 'positive' : 'non-negative'} finite number, got ${String(v)}`);
    }
  }
  const stepsPerSec = 1000 / intervalMs;
  return new CointegratedMarket(
    instruments.map((i) => simStartTicks(i)),
    {
      groups: groups.map((g) => g.map(index)),
      factorVolBp: p.factorVolBpPerSqrtSec / Math.sqrt(stepsPerSec),
      halfLifeSteps: p.halfLifeSec * stepsPerSec,
      spreadSdBp: p.spreadSdBp,
      betas: names.map((n) => betaMap[n] ?? 1),
    },
    seed,
  );
}

export class Simulator {
  private timer: NodeJS.Timeout | null = null;
  private readonly rnd: () => number;
  private readonly fair: number[];
  /** Per symbol, the simulated orders believed to rest (oldest first): a filled one stays until it is pulled or aged out. */
  private readonly resting: Resting[][];
  /** Per symbol, the widest offset from the fair value of a simulated limit order, ticks. */
  private readonly width: number[];
  private seq = 0;
  private ticks = 0;
  private readonly market: CointegratedMarket | null;
  placed = 0;

  constructor(private readonly gw: Gateway, private readonly opts: SimOptions = {}) {
    this.rnd = prng(opts.seed ?? 7);
    // fair values in ticks: each instrument's reference price (one source of truth), else the fallback
    this.fair = gw.instruments.map((ins) => simStartTicks(ins));
    this.resting = gw.instruments.map(() => []);
    const kind = opts.market ?? 'walk';
    if (kind !== 'walk' && kind !== 'cointegrated') throw new TradsysError('ERR_SIM_CONFIG', `market must be walk or cointegrated, got ${String(kind)}`);
    this.market = kind === 'cointegrated' ? simCointegratedMarket(gw.instruments, opts.intervalMs ?? 20, opts.cointegration, ((opts.seed ?? 7) ^ 0x9e3779b9) >>> 0) : null;
    this.width = gw.instruments.map((_, s) => simQuoteWidth(this.market, s, opts.intervalMs ?? 20));
  }

  /** Symbol `s`'s fair value in ticks as the participants last saw it (its reference price before its first update). */
  fairValue(s: number): number { return this.fair[s]!; }

  /** 'walk' or 'cointegrated'. */
  get marketKind(): 'walk' | 'cointegrated' { return this.market ? 'cointegrated' : 'walk'; }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs ?? 20);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const n = this.opts.ordersPerTick ?? 4;
    this.ticks++;
    for (let k = 0; k < n; k++) {
      const s = Math.floor(this.rnd() * this.gw.instruments.length);
      const ins = this.gw.instruments[s]!;
      if (this.market) {
        this.fair[s] = Math.max(10, this.market.fair(s, this.ticks));
      } else {
        // random walk of the fair value, ± 1 tick
        const w = this.rnd();
        if (w < 0.1) this.fair[s]! += 1; else if (w < 0.2 && this.fair[s]! > 10) this.fair[s]! -= 1;
      }
      const fair = this.fair[s]!;
      const list = this.resting[s]!;
      const width = this.width[s]!;
      this.pull(list, fair, width);
      const account = 1_000_000 + Math.floor(this.rnd() * 20);
      if (list.length > (this.opts.maxResting ?? 200) || (list.length > 10 && this.rnd() < 0.3)) {
        const o = list.shift()!;
        this.gw.simCancel(o.id);
        continue;
      }
      const side = this.rnd() < 0.5 ? 0 : 1;
      const lots = Math.max(ins.minLots, 1 + Math.floor(this.rnd() * this.rnd() * 50));
      if (this.rnd() < 0.08) {
        this.gw.simOrder({ account, clientOrderId: `sim${++this.seq}`, symbol: s, side, market: true, price: 0n, qty: lots });
        continue;
      }
      const off = 1 + Math.floor(this.rnd() * this.rnd() * width);
      const px = side === 0 ? Math.max(1, fair - off) : fair + off;
      const id = this.gw.simOrder({ account, clientOrderId: `sim${++this.seq}`, symbol: s, side, market: false, price: BigInt(px), qty: lots });
      if (id !== null) list.push({ id, side, price: px });
      this.placed++;
    }
  }

  /**
   * The participants pull the quotes the fair value has moved through (a bid at or above it, an
   * ask at or below it) and those left more than twice the quoting width away, so the book's
   * touch follows the fair value instead of the extremes of stale orders.
   */
  private pull(list: Resting[], fair: number, width: number): void {
    let k = 0;
    for (let i = 0; i < list.length; i++) {
      const o = list[i]!;
      const stale = o.side === 0 ? o.price >= fair || fair - o.price > 2 * width : o.price <= fair || o.price - fair > 2 * width;
      if (stale) this.gw.simCancel(o.id);
      else list[k++] = o;
    }
    list.length = k;
  }
}

interface Resting { id: number; side: number; price: number }

/**
 * The widest offset (ticks) of a simulated limit order from the fair value: 20 ticks, or in the
 * cointegrated market the fair value's standard deviation over one second when that is more (an
 * instrument whose fair value moves hundreds of ticks a second, such as SOL-USD's 0.001 tick,
 * gets a book that deep rather than one the fair value leaves behind every step).
 */
export function simQuoteWidth(market: CointegratedMarket | null, s: number, intervalMs: number): number {
  if (market === null) return 20;
  const perSec = market.stepSd(s) * Math.sqrt(1000 / intervalMs);
  return Math.max(20, Math.ceil(perSec));
}
