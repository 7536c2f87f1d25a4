/**
 * A test-only strategy kind for the strategy stage latency test (test/integration/strategies-latency.test.ts):
 * kind `latency-test` reacts to every trade of its first symbol: it cancels the bid it placed on
 * the previous trade (if still open) and places a new one of 1 lot at `price` ticks. Each cancel
 * and place it makes is a decision (counted in `details.decisions`), so each one stamps
 * `strategy_event_to_decision` and `strategy_decision_to_ring` once.
 */
class LatencyTest {
  open = 0;
  decisions = 0;
  onStart() {}
  onStop() {}
  onBook() {}
  onTrade(ctx, t) {
    if (t.symbol !== ctx.symbols[0]) return;
    if (this.open > 0 && ctx.cancel(this.open) === true) this.decisions++;
    const r = ctx.place({ symbol: ctx.symbols[0], side: 0, price: ctx.params.price, qty: 1, tag: 'lat' });
    if (typeof r === 'number') { this.open = r; this.decisions++; } else this.open = 0;
  }
  onBar() {}
  onOrder(ctx, o) { if (o.id === this.open && (o.state === 'cancelled' || o.state === 'rejected' || o.state === 'filled')) this.open = 0; }
  onFill() {}
  onTimer() {}
  onParams() {}
  status() { return { decisions: this.decisions }; }
}

export const strategies = [{
  kind: 'latency-test',
  description: 'test strategy: on each trade, cancel its last bid and place a new one',
  paramsSchema: { type: 'object', additionalProperties: false, required: ['price'], properties: { price: { type: 'integer', minimum: 1 } } },
  create: () => new LatencyTest(),
}];
