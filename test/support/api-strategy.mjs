/**
 * A test-only strategy kind for the strategy API and CLI tests (test/integration/strategies-*.test.ts),
 * plain JavaScript so that a built `tradsys serve` can load it too (`--strategy-modules`; the pool
 * loads a module's `strategies` array in each worker).
 *
 * Kind `api-test`, driven from the API: on start it places one buy of `qty` lots at `price` ticks
 * (tag `start`) in its first symbol; every parameter change (PATCH) places one more buy with the new
 * `qty` and `price` (tag `patch<n>`), so a PATCH with `qty` over the breaker's `maxOrderQty` trips
 * the breaker; a PATCH with `pairsB` instead starts a pairs saga (buy 1 of the first symbol at
 * `price`, sell 1 of the second at `pairsB`) and shows its number in `details.saga`. Each order it
 * sends is also a signal (`bid`, value = price).
 */
class ApiTest {
  placed = 0;
  patches = 0;
  saga = null;
  ctx = null;
  bid(ctx, tag) {
    const s = ctx.symbols[0];
    const r = ctx.place({ symbol: s, side: 0, price: ctx.params.price, qty: ctx.params.qty, tag });
    if (typeof r === 'number') { this.placed++; ctx.signal(s, 'bid', ctx.params.price, ctx.params.price, ctx.params.qty); }
  }
  onStart(ctx) { this.ctx = ctx; this.bid(ctx, 'start'); }
  onStop() {}
  onBook() {}
  onTrade() {}
  onBar() {}
  onOrder() {}
  onFill() {}
  onTimer() {}
  onParams(ctx) {
    this.patches++;
    if (ctx.params.pairsB !== undefined) {
      // a two-leg pairs saga: buy 1 of the first symbol at `price`, sell 1 of the second at `pairsB`
      this.saga = ctx.pairs({ legA: { symbol: ctx.symbols[0], side: 0, price: ctx.params.price, qty: 1 }, legB: { symbol: ctx.symbols[1], side: 1, price: ctx.params.pairsB, qty: 1 }, legBTimeoutMs: 5000, tag: 'pairs' });
      return;
    }
    this.bid(ctx, `patch${this.patches}`);
  }
  /** `bestBid`: the best bid of its first symbol as its worker's book has it (0: none). */
  status() { return { placed: this.placed, patches: this.patches, saga: this.saga, bestBid: this.ctx ? this.ctx.book(this.ctx.symbols[0]).bidPx : 0 }; }
}

export const apiTestStrategy = {
  kind: 'api-test',
  description: 'test strategy: one bid on start, one more per parameter change',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['price'],
    properties: { price: { type: 'integer', minimum: 1 }, qty: { type: 'integer', minimum: 1, default: 1 }, pairsB: { type: 'integer', minimum: 1 } },
  },
  create: () => new ApiTest(),
};

/** What the pool loads from this module. */
export const strategies = [apiTestStrategy];
