/**
 * The strategy API: what a strategy author writes against (docs/strategies.md). The same class
 * runs live (in a strategy worker, src/strategies/worker.ts, orders through the command ring) and
 * in a backtest (src/strategies/backtest/, the same engine in-process, a simulated clock).
 *
 * Owns: the types only — `Strategy` (lifecycle hooks), `StrategyContext` (what a strategy may do),
 * the market views it is handed, and `StrategyDefinition` (kind + parameter schema + factory) that
 * the registry (src/strategies/registry.ts) maps from a `kind` name.
 * Units: prices are integer ticks and quantities integer lots (numbers, exact below 2^53), sides
 * 0 buy / 1 sell as in the engine; times are milliseconds since the Unix epoch from `ctx.now()`
 * (system time live, simulated time in backtests) and nanoseconds (`ts`) on market events.
 * Invariants: hooks are called one at a time per strategy (never re-entered); a hook that throws
 * stops the strategy and cancels its orders; a hook that overruns its time budget is flagged, then
 * paused. Nothing a strategy does can block the engine or another strategy's orders.
 * Allocation: the views handed to hooks (`BookView`, `TradeView`, `FillView`, `OrderView`) are
 * reused objects owned by the runtime: valid during the call only; copy what you keep.
 */

/** Side: 0 buy, 1 sell (ENUMS.side). */
export type Side = 0 | 1;
export type OrderType = 'limit' | 'market';
export type TimeInForce = 'gtc' | 'ioc' | 'fok' | 'post_only';

/** Top levels of one symbol's book (L2, best first), as the strategy's worker maintains it from the event ring. */
export interface BookView {
  readonly symbol: number;
  /** Engine sequence of the last command applied to this view. */
  readonly seq: number;
  /** Best bid / ask in ticks (0 when that side is empty) and their aggregate lots. */
  readonly bidPx: number;
  readonly bidQty: number;
  readonly askPx: number;
  readonly askQty: number;
  /** Levels available on each side (≤ the depth the runtime keeps, 10). */
  readonly bidLevels: number;
  readonly askLevels: number;
  /** Level i (0 = best) price/qty; 0 beyond the available levels. */
  bid(i: number): number;
  bidSize(i: number): number;
  ask(i: number): number;
  askSize(i: number): number;
  /** (bidPx + askPx) / 2, or NaN when a side is empty. */
  mid(): number;
}

export interface TradeView {
  readonly symbol: number;
  readonly tradeId: number;
  readonly price: number;
  readonly qty: number;
  /** The aggressor's side. */
  readonly takerSide: Side;
  /** Engine stamp, Unix-epoch ns (number; exact to ~0.25 µs). */
  readonly ts: number;
  readonly seq: number;
}

/** An OHLCV bar built by the runtime from trades (interval from the strategy's `barMs`, default 1 s). */
export interface BarView {
  readonly symbol: number;
  /** Bar start, ms since the epoch. */
  readonly startMs: number;
  readonly intervalMs: number;
  readonly open: number;
  readonly high: number;
  readonly low: number;
  readonly close: number;
  readonly volume: number;
  readonly trades: number;
}

export type OrderState = 'pending' | 'accepted' | 'partially_filled' | 'filled' | 'cancelled' | 'rejected';

/** One of the strategy's own orders, after an engine event changed it. */
export interface OrderView {
  readonly id: number;
  /** The strategy's own tag (≤ 16 ASCII characters, also the order's clientOrderId), '' when none. */
  readonly tag: string;
  readonly symbol: number;
  readonly side: Side;
  readonly price: number;
  /** Original quantity, and what is left working. */
  readonly qty: number;
  readonly leaves: number;
  readonly filled: number;
  readonly state: OrderState;
  /** Engine reject reason when `state` is 'rejected' (docs/errors.md), else ''. */
  readonly reason: string;
  readonly seq: number;
}

export interface FillView {
  readonly orderId: number;
  readonly tag: string;
  readonly symbol: number;
  readonly side: Side;
  readonly price: number;
  readonly qty: number;
  readonly leaves: number;
  readonly liquidity: 'maker' | 'taker';
  readonly tradeId: number;
  readonly ts: number;
  readonly seq: number;
}

export interface NewOrder {
  symbol: number;
  side: Side;
  qty: number;
  /** Limit price in ticks (ignored for market orders). */
  price?: number;
  type?: OrderType;
  tif?: TimeInForce;
  tag?: string;
}

/** Why `place`/`cancel`/`modify` refused to send (nothing reached the command ring). */
export type Refusal = 'breaker_open' | 'paused' | 'stopped' | 'ring_full' | 'bad_order' | 'unknown_order' | 'limit';

export interface PositionView {
  readonly symbol: number;
  /** Signed lots (long > 0). */
  readonly position: number;
  /** Average entry price of the open position, ticks (0 when flat). */
  readonly avgPrice: number;
  /** Realised P&L in ticks × lots (fees included), and unrealised at the last mid (or last trade). */
  readonly realised: number;
  readonly unrealised: number;
}

export interface Logger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** Two legs sent through the gateway's pairs saga (leg B on A's fill, unwind on failure; live and backtest). */
export interface PairsRequest {
  legA: { symbol: number; side: Side; price: number; qty: number; tif?: TimeInForce };
  legB: { symbol: number; side: Side; price: number; qty: number; tif?: TimeInForce };
  legBTimeoutMs: number;
  legATimeoutMs?: number;
  tag?: string;
}

export interface StrategyContext<P = Record<string, unknown>> {
  /** The strategy instance's id (unique in the server) and its trading account. */
  readonly id: string;
  readonly account: number;
  /** Validated parameters (a PATCH replaces them between two hooks and calls `onParams`). */
  readonly params: Readonly<P>;
  /** Symbols this strategy subscribed to (from its configuration), by id, and their names. */
  readonly symbols: readonly number[];
  symbolName(symbol: number): string;
  symbolId(name: string): number;
  /** ms since the epoch: system time live, simulated time in a backtest. */
  now(): number;
  readonly log: Logger;

  /** Orders go through the command ring and the engine's pre-trade risk, as the strategy's account. */
  place(o: NewOrder): number | Refusal;
  cancel(orderId: number): true | Refusal;
  modify(orderId: number, price: number, qty: number): true | Refusal;
  /** Cancels every open order of this strategy (optionally one symbol's). Returns how many were sent. */
  cancelAll(symbol?: number): number;
  /** Starts a two-leg pairs saga; returns its number, or a refusal. */
  pairs(req: PairsRequest): number | Refusal;

  /** Open orders of this strategy (reused views; copy what you keep). */
  openOrders(symbol?: number): readonly OrderView[];
  order(orderId: number): OrderView | undefined;
  book(symbol: number): BookView;
  position(symbol: number): PositionView;
  /** Totals across symbols, ticks × lots. */
  pnl(): { realised: number; unrealised: number; total: number };

  /** Calls `onTimer(name)` after `ms` (repeating when `every`); re-arming a name replaces it. */
  setTimer(name: string, ms: number, every?: boolean): void;
  clearTimer(name: string): void;

  /** Records a signal row (strategy_signals: strategy, symbol, ts, signal, value, price, qty, seq). */
  signal(symbol: number, name: string, value: number, price?: number, qty?: number): void;
}

/**
 * A strategy: subclass and override the hooks you need. Hooks run in the strategy's worker, one at
 * a time; they must return quickly (per-event budget, `budgetUs` in the configuration).
 */
export abstract class Strategy<P = Record<string, unknown>> {
  onStart(_ctx: StrategyContext<P>): void {}
  onStop(_ctx: StrategyContext<P>): void {}
  onBook(_ctx: StrategyContext<P>, _book: BookView): void {}
  onTrade(_ctx: StrategyContext<P>, _trade: TradeView): void {}
  onBar(_ctx: StrategyContext<P>, _bar: BarView): void {}
  onOrder(_ctx: StrategyContext<P>, _order: OrderView): void {}
  onFill(_ctx: StrategyContext<P>, _fill: FillView): void {}
  onTimer(_ctx: StrategyContext<P>, _name: string): void {}
  onParams(_ctx: StrategyContext<P>, _previous: Readonly<P>): void {}
  /** Extra figures for GET /api/v1/strategies (`details`), e.g. the pairs' z-scores. */
  status(): Record<string, unknown> { return {}; }
}

/** A JSON Schema (draft 2020-12 subset that ajv understands) for a strategy's parameters. */
export type ParamsSchema = Record<string, unknown>;

/** What the registry knows about a strategy kind. */
export interface StrategyDefinition<P = Record<string, unknown>> {
  kind: string;
  description: string;
  /** JSON Schema of the parameters, with defaults (ajv `useDefaults`). */
  paramsSchema: ParamsSchema;
  create(params: Readonly<P>): Strategy<P>;
}

/** A strategy instance's configuration (`serve --strategies FILE.json`, POST /api/v1/strategies). */
export interface StrategyConfig {
  id: string;
  kind: string;
  account: number;
  symbols: string[];
  params?: Record<string, unknown>;
  /** Higher runs first within a worker (default 0). */
  priority?: number;
  /** Worker index (default: the least loaded). */
  worker?: number;
  /** Per-event time budget in µs (default 500): overruns flag, repeated overruns pause. */
  budgetUs?: number;
  /** Bar interval for onBar (default 1000 ms). */
  barMs?: number;
  /** Circuit breaker limits (src/strategies/breakers.ts; defaults there). */
  limits?: Record<string, number>;
  /** Start at boot / on create (default true). */
  autoStart?: boolean;
}
