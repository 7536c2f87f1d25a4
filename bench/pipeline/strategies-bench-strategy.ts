/**
 * The strategy `npm run bench:strategies` runs in the pool (loaded by URL, `strategyModules`):
 * kind `bench-follow` — on every trade in its symbol it cancels its bid and places a new one
 * `offset` ticks under the trade price (never crossing), so each market trade is one decision that
 * puts a cancel and a new order into the command ring, and its own orders never trade.
 */
import { Strategy, type StrategyContext, type StrategyDefinition, type TradeView } from '../../src/strategies/api.js';

interface P { offset: number; qty: number }

class Follow extends Strategy<P> {
  override onTrade(ctx: StrategyContext<P>, t: TradeView): void {
    ctx.cancelAll(t.symbol);
    ctx.place({ symbol: t.symbol, side: 0, price: Math.max(1, t.price - ctx.params.offset), qty: ctx.params.qty });
  }
}

const follow: StrategyDefinition<P> = {
  kind: 'bench-follow',
  description: 'benchmark: re-quotes a bid under every trade',
  paramsSchema: { type: 'object', properties: { offset: { type: 'integer', minimum: 1, default: 100 }, qty: { type: 'integer', minimum: 1, default: 1 } } },
  create: () => new Follow(),
};

export const strategies = [follow];
