/**
 * Test-only strategies for the backtest tests (written against src/strategies/api.ts; the CLI
 * test loads this module with `--module`).
 *
 * `bt-tape` decides from the event stream alone — each trade and each own fill, in event order,
 * never the conflated book, the clock or its open-order list — so its commands are the same
 * whatever the granularity of the runner's ticks: the property the live-reproduction test needs.
 * Every `every`-th trade of its first symbol it quotes against the aggressor (a GTC limit `offset`
 * ticks behind the trade price, on the passive side); when a quote fills, it lays the fill off at
 * once with an IOC at the fill price ± `layoff` ticks (taking liquidity).
 *
 * `bt-timer` places one IOC buy of `qty` at `price` every `everyMs` of simulated time (a timer),
 * for the clock and latency tests.
 */
import { Strategy, type FillView, type StrategyContext, type StrategyDefinition, type TradeView } from '../../src/strategies/api.js';

interface TapeParams { qty: number; every: number; offset: number; layoff: number; maxQuotes: number }

class Tape extends Strategy<TapeParams> {
  trades = 0;
  quotes = 0;
  override onTrade(ctx: StrategyContext<TapeParams>, t: TradeView): void {
    if (t.symbol !== ctx.symbols[0]) return;
    const p = ctx.params;
    if (++this.trades % p.every !== 0 || this.quotes >= p.maxQuotes) return;
    this.quotes++;
    // the aggressor bought: offer above; sold: bid below
    const side = t.takerSide === 0 ? 1 : 0;
    const price = side === 1 ? t.price + p.offset : Math.max(1, t.price - p.offset);
    ctx.place({ symbol: t.symbol, side, price, qty: p.qty, tag: `q${this.quotes}` });
  }
  override onFill(ctx: StrategyContext<TapeParams>, f: FillView): void {
    if (!f.tag.startsWith('q')) return;
    const side = f.side === 0 ? 1 : 0;
    const price = side === 1 ? Math.max(1, f.price - ctx.params.layoff) : f.price + ctx.params.layoff;
    ctx.place({ symbol: f.symbol, side, price, qty: f.qty, tif: 'ioc', tag: `l${f.tradeId}` });
  }
  override status(): Record<string, unknown> { return { trades: this.trades, quotes: this.quotes }; }
}

export const tapeStrategy: StrategyDefinition<TapeParams> = {
  kind: 'bt-tape',
  description: 'test: quotes against every n-th aggressor, lays fills off with an IOC',
  paramsSchema: {
    type: 'object', additionalProperties: false,
    properties: {
      qty: { type: 'integer', minimum: 1, default: 2 }, every: { type: 'integer', minimum: 1, default: 5 },
      offset: { type: 'integer', minimum: 0, default: 1 }, layoff: { type: 'integer', minimum: 0, default: 2 },
      maxQuotes: { type: 'integer', minimum: 0, default: 1_000_000 },
    },
  },
  create: () => new Tape(),
};

interface TimerParams { everyMs: number; qty: number; price: number }

class Timer extends Strategy<TimerParams> {
  override onStart(ctx: StrategyContext<TimerParams>): void { ctx.setTimer('t', ctx.params.everyMs, true); }
  override onTimer(ctx: StrategyContext<TimerParams>): void {
    ctx.place({ symbol: ctx.symbols[0]!, side: 0, price: ctx.params.price, qty: ctx.params.qty, tif: 'ioc', tag: 'tm' });
  }
}

export const timerStrategy: StrategyDefinition<TimerParams> = {
  kind: 'bt-timer',
  description: 'test: one IOC buy per timer period',
  paramsSchema: {
    type: 'object', additionalProperties: false,
    properties: { everyMs: { type: 'number', exclusiveMinimum: 0, default: 1000 }, qty: { type: 'integer', minimum: 1, default: 1 }, price: { type: 'integer', minimum: 1, default: 100 } },
  },
  create: () => new Timer(),
};

/** What the strategy pool loads from this module (`strategyModules`). */
export const strategies = [tapeStrategy, timerStrategy] as StrategyDefinition[];
