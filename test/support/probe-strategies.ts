/**
 * Test-only strategies for the runtime tests (runner, pool, docs example): `scripted` builds a
 * definition whose hooks are the functions a test gives; `probeStrategy` (kind `probe`) is driven
 * entirely by its parameters so that it can run in a strategy worker thread (the pool loads this
 * module by URL: `strategyModules`).
 */
import { Strategy, type BookView, type FillView, type OrderView, type StrategyContext, type StrategyDefinition, type TradeView, type BarView } from '../../src/strategies/api.js';

type Ctx = StrategyContext<Record<string, unknown>>;
export interface Script {
  onStart?(ctx: Ctx): void;
  onStop?(ctx: Ctx): void;
  onBook?(ctx: Ctx, b: BookView): void;
  onTrade?(ctx: Ctx, t: TradeView): void;
  onBar?(ctx: Ctx, b: BarView): void;
  onOrder?(ctx: Ctx, o: OrderView): void;
  onFill?(ctx: Ctx, f: FillView): void;
  onTimer?(ctx: Ctx, name: string): void;
  onParams?(ctx: Ctx, prev: Readonly<Record<string, unknown>>): void;
  status?(): Record<string, unknown>;
}

/** A definition of kind `kind` whose hooks run `script` (params schema: any object, or `schema`). */
export function scripted(kind: string, script: Script, schema: Record<string, unknown> = { type: 'object' }): StrategyDefinition {
  class Scripted extends Strategy {
    override onStart(c: Ctx): void { script.onStart?.(c); }
    override onStop(c: Ctx): void { script.onStop?.(c); }
    override onBook(c: Ctx, b: BookView): void { script.onBook?.(c, b); }
    override onTrade(c: Ctx, t: TradeView): void { script.onTrade?.(c, t); }
    override onBar(c: Ctx, b: BarView): void { script.onBar?.(c, b); }
    override onOrder(c: Ctx, o: OrderView): void { script.onOrder?.(c, o); }
    override onFill(c: Ctx, f: FillView): void { script.onFill?.(c, f); }
    override onTimer(c: Ctx, n: string): void { script.onTimer?.(c, n); }
    override onParams(c: Ctx, p: Readonly<Record<string, unknown>>): void { script.onParams?.(c, p); }
    override status(): Record<string, unknown> { return script.status?.() ?? {}; }
  }
  return { kind, description: `test strategy ${kind}`, paramsSchema: schema, create: () => new Scripted() };
}

interface ProbeParams {
  /** quote: keeps one bid `offset` ticks under the best bid (or at `price` on an empty book), and re-quotes when it fills.
   * take: on every book change buys `qty` at the best ask (IOC), at most `maxTakes` times.
   * crash: quotes like `quote`, then throws in an onBook that sees an ask, after `crashAfter` such onBooks.
   * slow: spins `spinMs` in every onBook.
   * hang: quotes like `quote`, then never returns from an onBook that sees an ask.
   * pairs: at start, one pairs saga: buy `qty` of its first symbol at `price`, then sell `qty` of its second at `priceB` (IOC legs). */
  mode: 'quote' | 'take' | 'crash' | 'slow' | 'pairs' | 'hang';
  qty: number;
  price: number;
  priceB: number;
  offset: number;
  maxTakes: number;
  crashAfter: number;
  spinMs: number;
}

class Probe extends Strategy<ProbeParams> {
  books = 0;
  asksSeen = 0;
  takes = 0;
  quoted = 0;
  fills = 0;
  saga: number | string = 0;
  override onStart(ctx: StrategyContext<ProbeParams>): void {
    const p = ctx.params;
    if (p.mode === 'quote' || p.mode === 'crash' || p.mode === 'hang') this.quote(ctx, ctx.book(ctx.symbols[0]!));
    if (p.mode === 'pairs') {
      this.saga = ctx.pairs({
        legA: { symbol: ctx.symbols[0]!, side: 0, price: p.price, qty: p.qty, tif: 'ioc' },
        legB: { symbol: ctx.symbols[1]!, side: 1, price: p.priceB, qty: p.qty, tif: 'ioc' },
        legBTimeoutMs: 5000,
      });
    }
  }
  private quote(ctx: StrategyContext<ProbeParams>, b: BookView): void {
    if (ctx.openOrders().length > 0) return;
    const p = ctx.params;
    const px = b.bidPx > 0 ? b.bidPx - p.offset : p.price;
    if (typeof ctx.place({ symbol: b.symbol, side: 0, price: px, qty: p.qty, tag: `q${++this.quoted}` }) === 'number') ctx.signal(b.symbol, 'quote', px, px, p.qty);
  }
  override onBook(ctx: StrategyContext<ProbeParams>, b: BookView): void {
    this.books++;
    const p = ctx.params;
    if (p.mode === 'slow') { const end = performance.now() + p.spinMs; while (performance.now() < end) { /* spin */ } return; }
    if (p.mode === 'crash' && b.askLevels > 0 && ++this.asksSeen > p.crashAfter) throw new Error('probe crash');
    if (p.mode === 'hang' && b.askLevels > 0) for (;;) { /* never returns */ }
    if (p.mode === 'take' && this.takes < p.maxTakes && b.askPx > 0) {
      this.takes++;
      ctx.place({ symbol: b.symbol, side: 0, price: b.askPx, qty: p.qty, tif: 'ioc', tag: `t${this.takes}` });
    }
  }
  override onFill(ctx: StrategyContext<ProbeParams>, f: FillView): void {
    this.fills++;
    if (ctx.params.mode === 'quote' && f.leaves === 0) this.quote(ctx, ctx.book(f.symbol));
  }
  override status(): Record<string, unknown> { return { books: this.books, takes: this.takes, quoted: this.quoted, fills: this.fills, saga: this.saga }; }
}

export const probeStrategy: StrategyDefinition<ProbeParams> = {
  kind: 'probe',
  description: 'test strategy driven by its parameters',
  paramsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      mode: { enum: ['quote', 'take', 'crash', 'slow', 'pairs', 'hang'], default: 'quote' },
      qty: { type: 'integer', minimum: 1, default: 1 },
      price: { type: 'integer', minimum: 1, default: 1000 },
      priceB: { type: 'integer', minimum: 1, default: 1000 },
      offset: { type: 'integer', minimum: 0, default: 1 },
      maxTakes: { type: 'integer', minimum: 0, default: 1000000 },
      crashAfter: { type: 'integer', minimum: 0, default: 0 },
      spinMs: { type: 'number', minimum: 0, default: 0 },
    },
  },
  create: () => new Probe(),
};

/** What the pool loads from this module (`strategyModules`). */
export const strategies: StrategyDefinition[] = [probeStrategy as unknown as StrategyDefinition];
