/**
 * The Avellaneda–Stoikov market maker (kind `market-maker`): two post-only quotes per symbol
 * around a reservation price that leans against the inventory, with a spread from risk aversion,
 * online volatility and order-arrival decay (market-maker-model.ts); a max position stops quoting
 * the side that would exceed it.
 *
 * Loop: on every book change of a quoted symbol, on its own fills and on the volatility timer
 * (`volSampleMs`, which also samples the mid), the quotes are recomputed. The mid is everyone
 * else's: the strategy's own resting quantity is taken out of the levels before the best bid/ask
 * are read, so the quotes do not chase themselves; with one side of everyone else's book empty
 * the last trade stands in, then their one best price, then the previous mid. A side is requoted when its desired price is more than `priceToleranceTicks` away from
 * the working one, at most once per `minRequoteMs` (a timer catches a requote that had to wait).
 * Requote: `modify` (the engine's cancel/replace, one command, the order id kept) when the new
 * price moves away from the other side or stays `modifyGuardTicks` clear of its best — a modify
 * re-enters as a plain limit order and could trade if the book moved; otherwise cancel and send a
 * new post-only order. Orders not yet acknowledged are never modified.
 * Signals (strategy_signals, at most every `signalEveryMs` per symbol, and on each fill):
 * `reservation` (value r, price the mid, qty the position), `spread` (value δ, price σ in ticks
 * per √s), `quote_bid` / `quote_ask` (value and price the quote, qty its size; 0 when the side is
 * not quoted), `fill` (value the new position, price and qty of the fill).
 * Layout: one `Book` record per symbol (working order ids, prices, the last model quotes).
 * Invariants: at most one working order per side and symbol; quotes are post-only and tick-whole.
 * Complexity: O(levels) per book change. Allocation: none per book change apart from signals.
 * Known limitations: κ is a parameter unless `kappaFromTrades` (then a rough exponential MLE of
 * trade distances to the mid); inventory is counted in quote units (position / qty).
 */
import { Strategy, type BookView, type FillView, type OrderView, type Side, type StrategyContext, type StrategyDefinition, type TradeView } from './api.js';
import { TradsysError } from '../domain/errors.js';
import { asQuotes, checkAsParams, KappaEstimator, MidVolatility, newQuotes, type Quotes } from './market-maker-model.js';

export interface MarketMakerParams {
  gamma: number;
  kappa: number;
  kappaFromTrades: boolean;
  kappaHalflife: number;
  kappaMinTrades: number;
  horizonSec: number;
  qty: number;
  maxPosition: number;
  minSpreadTicks: number;
  volSampleMs: number;
  volHalflife: number;
  initialSigma: number;
  volWarmup: number;
  minRequoteMs: number;
  priceToleranceTicks: number;
  modifyGuardTicks: number;
  signalEveryMs: number;
}

const n = (def: number, description: string, min = 0, exclusive = true): Record<string, unknown> =>
  ({ type: 'number', ...(exclusive ? { exclusiveMinimum: min } : { minimum: min }), default: def, description });
const i = (def: number, description: string, min: number): Record<string, unknown> => ({ type: 'integer', minimum: min, default: def, description });

export const MARKET_MAKER_PARAMS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    gamma: n(0.05, 'risk aversion γ (per tick per quote unit)'),
    kappa: n(1.5, 'order-arrival decay κ (per tick): fills fall off as e^(−κ·distance)'),
    kappaFromTrades: { type: 'boolean', default: false, description: 'estimate κ from the trades\' distances to the mid (1 / their EWMA mean) once kappaMinTrades trades were seen' },
    kappaHalflife: n(200, 'EWMA half-life of the κ estimate, in trades'),
    kappaMinTrades: i(50, 'trades before the κ estimate replaces kappa', 1),
    horizonSec: n(10, 'rolling horizon τ in seconds (stands for T − t)'),
    qty: i(1, 'lots per quote (the inventory unit)', 1),
    maxPosition: i(10, 'largest absolute position, lots: the side that would exceed it is not quoted', 1),
    minSpreadTicks: i(1, 'quotes at least this many ticks apart', 1),
    volSampleMs: i(1000, 'mid sampling interval for the volatility (ms)', 10),
    volHalflife: n(30, 'EWMA half-life of the volatility, in samples'),
    initialSigma: n(1, 'σ in ticks per √s until the estimate has volWarmup samples', 0, false),
    volWarmup: i(10, 'samples before the estimate replaces initialSigma', 0),
    minRequoteMs: i(100, 'a side is requoted at most this often (ms)', 0),
    priceToleranceTicks: i(0, 'keep a working quote within this many ticks of the model', 0),
    modifyGuardTicks: i(2, 'modify (not cancel + new) only when the new price stays this far from the other side', 0),
    signalEveryMs: i(1000, 'model signals at most this often per symbol (ms)', 0),
  },
} as const;

export const MARKET_MAKER_DEFAULTS: MarketMakerParams = Object.fromEntries(
  Object.entries(MARKET_MAKER_PARAMS_SCHEMA.properties).map(([k, v]) => [k, (v as { default: number | boolean }).default]),
) as unknown as MarketMakerParams;

export function marketMakerParams(p: Readonly<Partial<MarketMakerParams>>): MarketMakerParams {
  const o = { ...MARKET_MAKER_DEFAULTS, ...p };
  try { checkAsParams({ gamma: o.gamma, kappa: o.kappa, tau: o.horizonSec }); } catch (e) { throw new TradsysError('ERR_STRATEGY_INPUT', `market-maker: ${(e as Error).message}`); }
  return o;
}

/** A working quote: `px` as the engine has it (from order events), `sentPx` a modify's price until its event arrives (0: none). */
interface Side2 { id: number; px: number; sentPx: number; leaves: number; live: boolean; lastAt: number }
interface Book {
  symbol: number;
  vol: MidVolatility;
  kappa: KappaEstimator;
  mid: number;
  q: Quotes;
  bid: Side2;
  ask: Side2;
  lastSignalAt: number;
  waiting: boolean;
  /** Last trade price in the symbol (anyone's), 0 before one. */
  lastTrade: number;
}

const noOrder = (): Side2 => ({ id: 0, px: 0, sentPx: 0, leaves: 0, live: false, lastAt: Number.NEGATIVE_INFINITY });
/** A modify with no event after this long was refused (the order is as it was). */
const MODIFY_STALE_MS = 1000;

export class MarketMakerStrategy extends Strategy<MarketMakerParams> {
  private p: MarketMakerParams;
  private books: Book[] = [];
  private bySymbol = new Map<number, Book>();
  private byOrder = new Map<number, Book>();

  constructor(params: Readonly<Partial<MarketMakerParams>>) {
    super();
    this.p = marketMakerParams(params);
  }

  override onStart(ctx: StrategyContext<MarketMakerParams>): void {
    this.p = marketMakerParams(ctx.params);
    this.books = ctx.symbols.map((symbol) => ({
      symbol, vol: new MidVolatility(this.p.volSampleMs, this.p.volHalflife, this.p.initialSigma, this.p.volWarmup),
      kappa: new KappaEstimator(this.p.kappaHalflife, this.p.kappaMinTrades),
      mid: Number.NaN, q: newQuotes(), bid: noOrder(), ask: noOrder(), lastSignalAt: Number.NEGATIVE_INFINITY, waiting: false, lastTrade: 0,
    }));
    this.bySymbol = new Map(this.books.map((b) => [b.symbol, b]));
    this.byOrder.clear();
    ctx.setTimer('vol', this.p.volSampleMs, true);
    for (const b of this.books) this.requote(ctx, b, false);
  }

  override onStop(ctx: StrategyContext<MarketMakerParams>): void {
    ctx.clearTimer('vol');
    ctx.cancelAll();
  }

  override onParams(ctx: StrategyContext<MarketMakerParams>, previous: Readonly<MarketMakerParams>): void {
    this.p = marketMakerParams(ctx.params);
    if (this.p.volSampleMs !== previous.volSampleMs || this.p.volHalflife !== previous.volHalflife) {
      for (const b of this.books) b.vol = new MidVolatility(this.p.volSampleMs, this.p.volHalflife, this.p.initialSigma, this.p.volWarmup);
      ctx.setTimer('vol', this.p.volSampleMs, true);
    }
    if (this.p.kappaHalflife !== previous.kappaHalflife || this.p.kappaMinTrades !== previous.kappaMinTrades) {
      for (const b of this.books) b.kappa = new KappaEstimator(this.p.kappaHalflife, this.p.kappaMinTrades);
    }
    for (const b of this.books) this.requote(ctx, b, true);
  }

  override onBook(ctx: StrategyContext<MarketMakerParams>, view: BookView): void {
    const b = this.bySymbol.get(view.symbol);
    if (b !== undefined) this.requote(ctx, b, false);
  }

  override onTimer(ctx: StrategyContext<MarketMakerParams>, name: string): void {
    if (name === 'vol') {
      for (const b of this.books) { this.readMid(ctx, b); b.vol.sample(b.mid); this.requote(ctx, b, false); }
      return;
    }
    if (name.startsWith('rq:')) {
      const b = this.bySymbol.get(Number(name.slice(3)));
      if (b !== undefined) { b.waiting = false; this.requote(ctx, b, false); }
    }
  }

  override onOrder(ctx: StrategyContext<MarketMakerParams>, o: OrderView): void {
    const b = this.byOrder.get(o.id);
    if (b === undefined) return;
    const s = b.bid.id === o.id ? b.bid : b.ask.id === o.id ? b.ask : null;
    if (s === null) { this.byOrder.delete(o.id); return; }
    if (o.state === 'filled' || o.state === 'cancelled' || o.state === 'rejected') {
      this.byOrder.delete(o.id);
      s.id = 0; s.live = false; s.leaves = 0; s.px = 0; s.sentPx = 0;
      // a cancelled or rejected quote is replaced (a fill requotes from onFill)
      if (o.state !== 'filled') this.requote(ctx, b, false);
      return;
    }
    if (o.state === 'accepted' || o.state === 'partially_filled') { s.live = true; s.px = o.price; s.leaves = o.leaves; s.sentPx = 0; }
  }

  override onFill(ctx: StrategyContext<MarketMakerParams>, f: FillView): void {
    const b = this.bySymbol.get(f.symbol);
    if (b === undefined) return;
    const pos = ctx.position(f.symbol).position;
    ctx.signal(f.symbol, 'fill', pos, f.price, f.side === 0 ? f.qty : -f.qty);
    this.requote(ctx, b, true);
  }

  /** Everyone else's mid: the strategy's own resting lots taken out of the levels. */
  private readMid(ctx: StrategyContext<MarketMakerParams>, b: Book): void {
    const v = ctx.book(b.symbol);
    this.refMid(b, this.other(ctx, v, 0, b.bid), this.other(ctx, v, 1, b.ask));
  }

  /**
   * The price to quote around: everyone else's mid; with one side of theirs empty, the last trade
   * (anyone's, own fills included), else their one best price; with nothing, the previous one.
   */
  private refMid(b: Book, ob: number, oa: number): void {
    if (ob > 0 && oa > 0) b.mid = (ob + oa) / 2;
    else if (b.lastTrade > 0) b.mid = b.lastTrade;
    else if (ob > 0 || oa > 0) b.mid = ob > 0 ? ob : oa;
  }

  override onTrade(_ctx: StrategyContext<MarketMakerParams>, t: TradeView): void {
    const b = this.bySymbol.get(t.symbol);
    if (b === undefined) return;
    if (b.mid === b.mid) b.kappa.onTrade(t.price - b.mid);
    b.lastTrade = t.price;
  }

  /** Everyone else's best price on `side` (0 when none): the own quote's lots, as the runner has the order now (consistent with the book view), taken out. */
  private other(ctx: StrategyContext<MarketMakerParams>, v: BookView, side: Side, own: Side2): number {
    let ownPx = 0; let ownLeaves = 0;
    if (own.id !== 0) {
      const o = ctx.order(own.id);
      if (o !== undefined && (o.state === 'accepted' || o.state === 'partially_filled')) { ownPx = o.price; ownLeaves = o.leaves; }
    }
    const levels = side === 0 ? v.bidLevels : v.askLevels;
    for (let k = 0; k < levels; k++) {
      const px = side === 0 ? v.bid(k) : v.ask(k);
      let qty = side === 0 ? v.bidSize(k) : v.askSize(k);
      if (px === ownPx) qty -= ownLeaves;
      if (qty > 0) return px;
    }
    return 0;
  }

  private requote(ctx: StrategyContext<MarketMakerParams>, b: Book, force: boolean): void {
    const p = this.p;
    const v = ctx.book(b.symbol);
    const ob = this.other(ctx, v, 0, b.bid); const oa = this.other(ctx, v, 1, b.ask);
    this.refMid(b, ob, oa);
    if (b.mid !== b.mid) return; // nothing to quote around yet
    const pos = ctx.position(b.symbol).position;
    const sigma2 = b.vol.sigma2;
    const kappa = p.kappaFromTrades ? b.kappa.kappa(p.kappa) : p.kappa;
    asQuotes(b.q, b.mid, pos / p.qty, sigma2, { gamma: p.gamma, kappa, tau: p.horizonSec }, p.minSpreadTicks, ob, oa);
    const now = ctx.now();
    const wantBid = b.q.bid > 0 && pos + p.qty <= p.maxPosition;
    const wantAsk = pos - p.qty >= -p.maxPosition;
    let wait = Number.POSITIVE_INFINITY;
    wait = Math.min(wait, this.side(ctx, b, 0, wantBid ? b.q.bid : 0, oa, now, force));
    wait = Math.min(wait, this.side(ctx, b, 1, wantAsk ? b.q.ask : 0, ob, now, force));
    if (wait < Number.POSITIVE_INFINITY && !b.waiting) { b.waiting = true; ctx.setTimer(`rq:${b.symbol}`, Math.max(1, wait)); }
    if (now - b.lastSignalAt >= p.signalEveryMs) {
      b.lastSignalAt = now;
      ctx.signal(b.symbol, 'reservation', b.q.reservation, b.mid, pos);
      ctx.signal(b.symbol, 'spread', b.q.spread, Math.sqrt(sigma2), 0);
      ctx.signal(b.symbol, 'quote_bid', wantBid ? b.q.bid : 0, wantBid ? b.q.bid : 0, wantBid ? p.qty : 0);
      ctx.signal(b.symbol, 'quote_ask', wantAsk ? b.q.ask : 0, wantAsk ? b.q.ask : 0, wantAsk ? p.qty : 0);
    }
  }

  /** Brings one side to price `px` (0 = no quote). Returns ms to wait when throttled, else +∞. */
  private side(ctx: StrategyContext<MarketMakerParams>, b: Book, side: Side, px: number, otherBest: number, now: number, force: boolean): number {
    const p = this.p;
    const s = side === 0 ? b.bid : b.ask;
    if (px === 0) {
      if (s.id !== 0 && s.live) ctx.cancel(s.id);
      return Number.POSITIVE_INFINITY;
    }
    if (s.id !== 0) {
      if (!s.live) return Number.POSITIVE_INFINITY; // not acknowledged yet
      const working = s.sentPx !== 0 && now - s.lastAt < MODIFY_STALE_MS ? s.sentPx : s.px;
      if (Math.abs(working - px) <= p.priceToleranceTicks) return Number.POSITIVE_INFINITY;
      const since = now - s.lastAt;
      if (!force && since < p.minRequoteMs) return p.minRequoteMs - since;
      const away = side === 0 ? px < working : px > working;
      const clear = otherBest === 0 || (side === 0 ? otherBest - px >= p.modifyGuardTicks : px - otherBest >= p.modifyGuardTicks);
      s.lastAt = now;
      if (away || clear) {
        if (ctx.modify(s.id, px, s.leaves) === true) { s.sentPx = px; return Number.POSITIVE_INFINITY; }
      }
      // cancel, then a new post-only order as soon as the cancel is acknowledged (the pair is one
      // requote: the throttle counts from the new order)
      ctx.cancel(s.id);
      s.lastAt = Number.NEGATIVE_INFINITY;
      return Number.POSITIVE_INFINITY;
    }
    const since = now - s.lastAt;
    if (!force && since < p.minRequoteMs) return p.minRequoteMs - since;
    const id = ctx.place({ symbol: b.symbol, side, qty: p.qty, price: px, type: 'limit', tif: 'post_only', tag: 'as-mm' });
    s.lastAt = now;
    if (typeof id === 'number') {
      s.id = id; s.px = px; s.sentPx = 0; s.leaves = p.qty; s.live = false;
      this.byOrder.set(id, b);
    }
    return Number.POSITIVE_INFINITY;
  }

  override status(): Record<string, unknown> {
    const fin = (x: number): number | null => (Number.isFinite(x) ? x : null);
    return {
      quotes: this.books.map((b) => ({
        symbol: b.symbol, mid: fin(b.mid), reservation: fin(b.q.reservation), spread: fin(b.q.spread), sigma: fin(Math.sqrt(b.vol.sigma2)),
        volSamples: b.vol.samples, kappa: this.p.kappaFromTrades ? b.kappa.kappa(this.p.kappa) : this.p.kappa, kappaTrades: b.kappa.trades, bid: b.bid.id !== 0 ? b.bid.px : null, ask: b.ask.id !== 0 ? b.ask.px : null,
      })),
    };
  }
}

export const marketMakerStrategy: StrategyDefinition<MarketMakerParams> = {
  kind: 'market-maker',
  description: 'Avellaneda–Stoikov market maker: reservation price and spread from inventory, online volatility and risk aversion (rolling horizon), post-only tick-rounded quotes, max position',
  paramsSchema: MARKET_MAKER_PARAMS_SCHEMA as unknown as Record<string, unknown>,
  create: (params) => new MarketMakerStrategy(params),
};
