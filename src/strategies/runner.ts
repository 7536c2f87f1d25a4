/**
 * The strategy runner: runs strategies (src/strategies/api.ts) on the engine's event stream. The
 * same class runs live (one per strategy worker, src/strategies/worker.ts: events from the event
 * ring, orders into the command ring, `Date.now`) and in a backtest (events from an in-process
 * engine, a simulated clock).
 *
 * Owns: per strategy its context (`StrategyContext`), own orders, positions and P&L, timers,
 * pending hooks, out-box of new orders, breaker (breakers.ts `StrategyBreaker`), decision latency
 * histogram and counters; per runner the books of the subscribed symbols (market-view.ts), the
 * bars built from trades, and the symbol velocity pause (breakers.ts `SymbolVelocity`).
 *
 * Layout (one event, `onEvent`): the book of its symbol is updated at once; a trade is queued for
 * the strategies subscribed to the symbol and feeds its bars and the velocity check; an event on
 * an order of a strategy's account (EVT `account`, or `makerAccount` for the maker of a T) that the
 * runner sent updates that order, the strategy's position and P&L (fees from `fee`) and breaker at
 * once, and queues onOrder/onFill. `tick` then runs the pending hooks strategy by strategy, highest
 * `priority` first (ties: the order they were added): queued trades, orders and fills in event
 * order, one onBook per changed symbol (conflated: the book as it is now), bars, due timers; then
 * sends the strategy's new orders and modifies. Cancels are sent at once when a hook asks, so they
 * always reach the command ring before the new orders of the same turn.
 *
 * Invariants:
 * - hooks of one strategy never overlap; a strategy that is not `running` gets no hooks (what was
 *   queued for it is dropped), but its orders, fills and positions are still followed;
 * - a hook that throws: the strategy is `failed`, its orders are cancelled (the others go on);
 * - a hook longer than `budgetUs`: an overrun is counted (and told to the breaker as an error); 3
 *   in a row pause the strategy (`paused`, orders cancelled; `start` resumes it);
 * - a breaker trip (takeTrip) cancels every open order of the strategy in the same call that saw
 *   it, and the strategy is `tripped` until an admin `reset` (then `running`, breaker half-open);
 * - a velocity trip of a symbol cancels the orders on that symbol of every strategy trading it,
 *   and new orders on it are refused (`paused`) until the pause ends;
 * - positions: average cost. Buying into a long (or selling into a short) adds price·qty to the
 *   cost; a reducing fill realises (price − cost/|pos|)·qty·sign(pos); a fill through zero realises
 *   the whole position and opens the rest at the fill price; fees are subtracted from realised.
 *   Unrealised = sign(pos)·(mark·|pos| − cost), mark = book mid, else last trade, else avg price.
 * Complexity: O(1) per event for the book and own-order work, plus O(subscribers) for a trade or
 * book change; `tick` O(pending hooks + strategies + timers).
 * Allocation: none per market event in steady state: views are reused objects, queued hooks come
 * from a free list; an order the strategy places allocates its record; signals allocate their row.
 * Known limitations: books start empty unless seeded (`seedBooks`, market-view.ts); orders the strategy had before the runner
 * started (a restart) are not known to it; a hook's time is measured with `performance.now()`
 * (µs resolution), and only when `measure` is on.
 */
import { ENUMS, REASON_NAMES } from '../abi/records.js';
import {
  evtAccount, evtId, evtLast, evtLeaves, evtMaker, evtMakerAccount, evtMakerLeaves, evtPrice, evtQty, evtReason, evtSide, evtSymbol,
  evtTradeId, evtType,
} from '../abi/views.js';
import { TradsysError } from '../domain/errors.js';
import { ADMIN_ID_BASE_NUM, SAGA_ID_BASE_NUM } from '../domain/ids.js';
import type { Instrument } from '../domain/instruments.js';
import type {
  BarView, BookView, FillView, Logger, NewOrder, OrderState, OrderView, PairsRequest, PositionView, Refusal, Side, Strategy,
  StrategyConfig, StrategyContext, StrategyDefinition, TradeView,
} from './api.js';
import { DEFAULT_VELOCITY, parseLimits, StrategyBreaker, SymbolVelocity, type BreakerLimits, type Trip, type VelocityLimits } from './breakers.js';
import { WindowedLatency } from './latency.js';
import { RuntimeBook } from './market-view.js';
import { checkConfig, validateParams } from './params.js';

export type StrategyState = 'created' | 'running' | 'paused' | 'stopped' | 'failed' | 'tripped';

/** One strategy as GET /api/v1/strategies shows it (docs/strategies.md). */
export interface StrategyStatus {
  id: string; kind: string; state: StrategyState; why: string; priority: number; worker: number; account: number;
  symbols: string[]; parameters: Record<string, unknown>; eventsPerSec: number;
  decisionUs: { p50: number; p99: number }; orders: number; fills: number; rejects: number;
  /** By symbol name, signed lots. */
  position: Record<string, number>;
  /** ticks × lots. */
  realisedPnl: number; unrealisedPnl: number;
  breaker: { state: 'closed' | 'open' | 'half_open'; trip: { reason: string; detail: string; at: number } | null; trips: number };
  overruns: number; errors: number;
  /** Strategy.status(). */
  details: Record<string, unknown>;
}

/** A row of the storage writer's `strategy_signals` table. */
export interface SignalRow { strategy: string; symbol: number; ts: number; signal: string; value: number; price: number; qty: number; seq: number }

export interface CommandSink {
  /** Queues one engine command (CMD fields; op 1 new, 2 cancel, 3 modify; ENUMS in src/abi/records.ts). false = cannot queue now (ring full). */
  send(op: number, side: number, type: number, tif: number, symbol: number, id: number, price: number, qty: number, account: number, clientOrderId: string, decision?: number): boolean;
  /**
   * Stage latency (the strategy worker's sink, docs/monitoring.md "Latency stages"): called when a
   * strategy's command is decided (ctx.place / ctx.modify queue it, ctx.cancel sends it); returns a
   * handle that `send` gets back as `decision` (−1 = none). Absent: no stage latency.
   */
  decide?(): number;
}

export interface RunnerOptions {
  instruments: readonly Instrument[];
  /** ms: Date.now live, the simulated clock in a backtest. */
  now(): number;
  sink: CommandSink;
  /** Unique across the engine (live: the strategy id range in domain/ids.ts). */
  nextOrderId(): number;
  pairs?(account: number, req: PairsRequest): number | Refusal;
  onSignal?(row: SignalRow): void;
  onTrip?(strategyId: string, trip: Trip): void;
  onState?(strategyId: string, state: string, why: string): void;
  log?(level: 'info' | 'warn' | 'error', strategyId: string, msg: string, fields?: Record<string, unknown>): void;
  /** ticks×lots charged (negative = rebate); default 0. */
  fee?(symbol: number, liquidity: 'maker' | 'taker', price: number, qty: number): number;
  /** Time hooks (budgets, decision latency); default true. */
  measure?: boolean;
  /** The worker index status reports (default 0). */
  worker?: number;
  /** Symbol velocity limits (default breakers.ts DEFAULT_VELOCITY). */
  velocity?: VelocityLimits;
}

/** Overruns in a row that pause a strategy. */
export const OVERRUNS_TO_PAUSE = 3;

const H_START = 0, H_STOP = 1, H_BOOK = 2, H_TRADE = 3, H_BAR = 4, H_ORDER = 5, H_FILL = 6, H_TIMER = 7, H_PARAMS = 8;
const HOOK_NAMES = ['onStart', 'onStop', 'onBook', 'onTrade', 'onBar', 'onOrder', 'onFill', 'onTimer', 'onParams'];

const TIF: Record<string, number> = { gtc: ENUMS.Tif.GTC, ioc: ENUMS.Tif.IOC, fok: ENUMS.Tif.FOK, post_only: ENUMS.Tif.POST_ONLY };
const TAG_RE = /^[\x21-\x7e]{0,16}$/;
const QTY_MAX = 0xffffffff;

/** A pending hook (queued by onEvent, run by tick); recycled through a free list. */
class Item {
  kind = 0;
  symbol = 0;
  id = 0;
  tag = '';
  side: Side = 0;
  price = 0;
  qty = 0;
  leaves = 0;
  filled = 0;
  state: OrderState = 'pending';
  reason = '';
  seq = 0;
  ts = 0;
  tradeId = 0;
  taker = false;
  // bars
  startMs = 0; intervalMs = 0; open = 0; high = 0; low = 0; close = 0; volume = 0; trades = 0;
}

/** The reused views handed to hooks (one of each per runner: hooks never overlap). */
class TradeV implements TradeView { symbol = 0; tradeId = 0; price = 0; qty = 0; takerSide: Side = 0; ts = 0; seq = 0; }
class OrderV implements OrderView { id = 0; tag = ''; symbol = 0; side: Side = 0; price = 0; qty = 0; leaves = 0; filled = 0; state: OrderState = 'pending'; reason = ''; seq = 0; }
class FillV implements FillView { orderId = 0; tag = ''; symbol = 0; side: Side = 0; price = 0; qty = 0; leaves = 0; liquidity: 'maker' | 'taker' = 'maker'; tradeId = 0; ts = 0; seq = 0; }
class BarV implements BarView { symbol = 0; startMs = 0; intervalMs = 0; open = 0; high = 0; low = 0; close = 0; volume = 0; trades = 0; }

/** One of a strategy's own orders (also the view `openOrders`/`order` return). */
class OwnOrder implements OrderView {
  state: OrderState = 'pending';
  reason = '';
  seq = 0;
  filled = 0;
  leaves: number;
  /** Still in the strategy's out-box (not in the command ring yet). */
  sent = false;
  /** No A or R yet for the new order. */
  newPending = true;
  cancelPending = false;
  constructor(readonly strat: Strat, readonly id: number, readonly tag: string, readonly symbol: number, readonly side: Side,
    public price: number, public qty: number, readonly type: number, readonly tif: number) { this.leaves = qty; }
}

/** Position in one symbol (average cost; see the module header). */
class Pos implements PositionView {
  position = 0;
  /** Cost of the open position, ticks × lots (≥ 0). */
  cost = 0;
  realised = 0;
  constructor(readonly symbol: number, private readonly book: RuntimeBook) {}
  get avgPrice(): number { return this.position === 0 ? 0 : this.cost / Math.abs(this.position); }
  get unrealised(): number {
    if (this.position === 0) return 0;
    const m = this.book.mid();
    const mark = Number.isFinite(m) ? m : this.book.lastTrade > 0 ? this.book.lastTrade : this.avgPrice;
    const a = Math.abs(this.position);
    return Math.sign(this.position) * (mark * a - this.cost);
  }
  fill(side: Side, price: number, qty: number, fee: number): void {
    const signed = side === 0 ? qty : -qty;
    const pos = this.position;
    if (pos === 0 || (pos > 0) === (signed > 0)) {
      this.cost += price * qty;
    } else {
      const a = Math.abs(pos);
      const close = Math.min(qty, a);
      const removed = close === a ? this.cost : (this.cost * close) / a;
      this.realised += Math.sign(pos) * (price * close - removed);
      this.cost -= removed;
      if (qty > a) this.cost = price * (qty - a);
      else if (qty === a) this.cost = 0;
    }
    this.position = pos + signed;
    this.realised -= fee;
  }
}

/** A bar being built for one (symbol, interval). */
class BarBuilder {
  isOpen = false;
  start = 0; open = 0; high = 0; low = 0; close = 0; volume = 0; trades = 0;
  readonly subs: Strat[] = [];
  constructor(readonly symbol: number, readonly ms: number) {}
}

interface Timer { name: string; due: number; ms: number; every: boolean }

class Strat {
  state: StrategyState = 'created';
  why = '';
  instance: Strategy;
  readonly ctx: Ctx;
  readonly breaker: StrategyBreaker;
  readonly queue: Item[] = [];
  qHead = 0;
  readonly dirty: number[] = [];
  readonly isDirty: Uint8Array;
  readonly subscribed: Uint8Array;
  readonly timers = new Map<string, Timer>();
  readonly open = new Set<OwnOrder>();
  /** New orders and modifies of this turn: sent when the turn ends (after its cancels). */
  readonly outOp: number[] = [];
  readonly outOrder: OwnOrder[] = [];
  readonly outPrice: number[] = [];
  readonly outQty: number[] = [];
  /** Per out-box entry: the sink's decision handle (CommandSink.decide; −1 none). */
  readonly outDec: number[] = [];
  readonly positions = new Map<number, Pos>();
  readonly latency: WindowedLatency;
  orders = 0; fills = 0; rejects = 0; overruns = 0; errors = 0; inRow = 0;
  events = 0; rateEvents = 0; rateAt: number; eps = 0;
  pnlDirty = false;
  cancelRetry = false;
  /** Counts placed by this strategy's open orders on each side, per symbol (positionAfter). */
  readonly openBuy = new Map<number, number>();
  readonly openSell = new Map<number, number>();

  constructor(readonly seqNo: number, readonly id: string, readonly kind: string, readonly account: number, readonly symbols: number[],
    readonly priority: number, readonly budgetNs: number, readonly barMs: number, public params: Record<string, unknown>,
    readonly limits: BreakerLimits, readonly def: StrategyDefinition, runner: StrategyRunner, nSymbols: number, now: number) {
    this.instance = def.create(params);
    this.ctx = new Ctx(runner, this);
    this.breaker = new StrategyBreaker(limits, runner.clock);
    this.isDirty = new Uint8Array(nSymbols);
    this.subscribed = new Uint8Array(nSymbols);
    for (const s of symbols) this.subscribed[s] = 1;
    this.latency = new WindowedLatency(10_000, now);
    this.rateAt = now;
  }
}

/** The context a strategy's hooks get (one per strategy). */
class Ctx implements StrategyContext {
  readonly log: Logger;
  constructor(private readonly r: StrategyRunner, private readonly s: Strat) {
    const log = r.opts.log;
    const id = s.id;
    this.log = {
      info: (m, f) => log?.('info', id, m, f),
      warn: (m, f) => log?.('warn', id, m, f),
      error: (m, f) => log?.('error', id, m, f),
    };
  }
  get id(): string { return this.s.id; }
  get account(): number { return this.s.account; }
  get params(): Readonly<Record<string, unknown>> { return this.s.params; }
  get symbols(): readonly number[] { return this.s.symbols; }
  symbolName(symbol: number): string {
    const i = this.r.opts.instruments[symbol];
    if (!i) throw new RangeError(`no instrument ${symbol}`);
    return i.symbol;
  }
  symbolId(name: string): number {
    const id = this.r.symbolIds.get(name);
    if (id === undefined) throw new RangeError(`no instrument named ${JSON.stringify(name)}`);
    return id;
  }
  now(): number { return this.r.clock(); }
  place(o: NewOrder): number | Refusal { return this.r.place(this.s, o); }
  cancel(orderId: number): true | Refusal { return this.r.cancel(this.s, orderId); }
  modify(orderId: number, price: number, qty: number): true | Refusal { return this.r.modify(this.s, orderId, price, qty); }
  cancelAll(symbol?: number): number { return this.r.cancelAll(this.s, symbol); }
  pairs(req: PairsRequest): number | Refusal { return this.r.pairs(this.s, req); }
  openOrders(symbol?: number): readonly OrderView[] {
    const out = this.r.openList;
    out.length = 0;
    for (const o of this.s.open) if (symbol === undefined || o.symbol === symbol) out.push(o);
    return out;
  }
  order(orderId: number): OrderView | undefined {
    const o = this.r.ownOrders.get(orderId);
    return o && o.strat === this.s ? o : undefined;
  }
  book(symbol: number): BookView {
    if (this.s.subscribed[symbol] !== 1) throw new RangeError(`strategy ${this.s.id} is not subscribed to symbol ${symbol}`);
    return this.r.books[symbol]!;
  }
  position(symbol: number): PositionView {
    const p = this.s.positions.get(symbol);
    if (!p) throw new RangeError(`strategy ${this.s.id} is not subscribed to symbol ${symbol}`);
    return p;
  }
  pnl(): { realised: number; unrealised: number; total: number } {
    const [realised, unrealised] = this.r.pnlOf(this.s);
    return { realised, unrealised, total: realised + unrealised };
  }
  setTimer(name: string, ms: number, every = false): void {
    if (typeof name !== 'string' || !(ms > 0) || !Number.isFinite(ms)) throw new RangeError(`setTimer(${JSON.stringify(name)}, ${ms}): a name and a positive number of ms`);
    this.s.timers.set(name, { name, due: this.r.clock() + ms, ms, every });
  }
  clearTimer(name: string): void { this.s.timers.delete(name); }
  signal(symbol: number, name: string, value: number, price = 0, qty = 0): void {
    this.r.opts.onSignal?.({ strategy: this.s.id, symbol, ts: this.r.clock(), signal: name, value, price, qty, seq: this.r.lastSeq });
  }
}

export class StrategyRunner {
  /** @internal */ readonly opts: RunnerOptions;
  /** @internal */ readonly clock: () => number;
  /** @internal */ readonly symbolIds = new Map<string, number>();
  /** @internal books by symbol id (subscribed symbols only). */ readonly books: (RuntimeBook | undefined)[];
  /** @internal */ readonly ownOrders = new Map<number, OwnOrder>();
  /** @internal the array `openOrders` returns (reused). */ readonly openList: OrderView[] = [];
  /** @internal seq of the last event seen. */ lastSeq = 0;
  private readonly strats = new Map<string, Strat>();
  private order: Strat[] = [];
  private readonly symSubs: Strat[][];
  private readonly bars: BarBuilder[] = [];
  private readonly barsBySymbol: BarBuilder[][];
  /** account → strategies trading it (own-order events are looked up only for these accounts). */
  private readonly accounts = new Map<number, number>();
  /** account → the strategy that sent pairs sagas for it (saga legs' fills go to its position). */
  private readonly pairsOwner = new Map<number, Strat>();
  private readonly velocity: SymbolVelocity;
  private readonly measure: boolean;
  private readonly worker: number;
  private seqNo = 0;
  private readonly free: Item[] = [];
  private readonly tradeV = new TradeV();
  private readonly orderV = new OrderV();
  private readonly fillV = new FillV();
  private readonly barV = new BarV();
  private readonly due: Timer[] = [];

  constructor(opts: RunnerOptions) {
    this.opts = opts;
    this.clock = opts.now;
    this.measure = opts.measure ?? true;
    this.worker = opts.worker ?? 0;
    const n = opts.instruments.length;
    for (let i = 0; i < n; i++) this.symbolIds.set(opts.instruments[i]!.symbol, i);
    this.books = new Array<RuntimeBook | undefined>(n).fill(undefined);
    this.symSubs = Array.from({ length: n }, () => []);
    this.barsBySymbol = Array.from({ length: n }, () => []);
    this.velocity = new SymbolVelocity(opts.velocity ?? DEFAULT_VELOCITY, opts.now);
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────────────────
  /** Adds a strategy (state `created`): checks the configuration, parameters (ajv) and limits. */
  add(cfg: StrategyConfig, def: StrategyDefinition): void {
    const c = checkConfig(cfg, this.symbolIds);
    if (this.strats.has(cfg.id)) throw new TradsysError('ERR_STRATEGY_CONFIG', `a strategy with id ${cfg.id} already exists`);
    if (def.kind !== cfg.kind) throw new TradsysError('ERR_STRATEGY_CONFIG', `strategy ${cfg.id}: kind ${cfg.kind} given the definition of ${def.kind}`);
    const params = validateParams(cfg.kind, def.paramsSchema, cfg.params);
    const limits = parseLimits(cfg.limits);
    let s: Strat;
    try {
      s = new Strat(this.seqNo++, cfg.id, cfg.kind, cfg.account, c.symbols, c.priority, c.budgetUs * 1000, c.barMs, params, limits, def, this,
        this.opts.instruments.length, this.clock());
    } catch (e) {
      if (e instanceof TradsysError) throw e;
      throw new TradsysError('ERR_STRATEGY_CONFIG', `strategy ${cfg.id}: ${cfg.kind}.create threw: ${(e as Error).message}`, { cause: e });
    }
    for (const sym of c.symbols) {
      let b = this.books[sym];
      if (!b) this.books[sym] = b = new RuntimeBook(sym);
      s.positions.set(sym, new Pos(sym, b));
      this.symSubs[sym]!.push(s);
      let bb = this.barsBySymbol[sym]!.find((x) => x.ms === c.barMs);
      if (!bb) { bb = new BarBuilder(sym, c.barMs); this.barsBySymbol[sym]!.push(bb); this.bars.push(bb); }
      bb.subs.push(s);
    }
    this.accounts.set(cfg.account, (this.accounts.get(cfg.account) ?? 0) + 1);
    this.strats.set(cfg.id, s);
    this.order = [...this.strats.values()].sort((a, b) => b.priority - a.priority || a.seqNo - b.seqNo);
  }

  private get$(id: string): Strat {
    const s = this.strats.get(id);
    if (!s) throw new TradsysError('ERR_STRATEGY_NOT_FOUND', `no strategy ${JSON.stringify(id)}`);
    return s;
  }

  has(id: string): boolean { return this.strats.has(id); }

  /** created/stopped → running (onStart); paused → running; failed → a fresh instance, onStart. A tripped one needs `reset`. */
  start(id: string): void {
    const s = this.get$(id);
    if (s.state === 'running') return;
    if (s.state === 'tripped' || s.breaker.state === 'open') {
      throw new TradsysError('ERR_STRATEGY_STATE', `strategy ${id}: its breaker is open (${s.why}); an admin must reset it first`);
    }
    const from = s.state;
    s.inRow = 0;
    if (from === 'paused') { this.setState(s, 'running', 'resumed'); return; }
    if (from === 'failed') s.instance = s.def.create(s.params);
    this.setState(s, 'running', 'started');
    this.hook(s, H_START, null);
    this.flush(s);
  }

  /** Stops the strategy (onStop if it was running) and cancels its open orders. */
  stop(id: string): void {
    const s = this.get$(id);
    if (s.state === 'stopped' || s.state === 'created') { this.setState(s, 'stopped', 'stopped'); return; }
    if (s.state === 'running') { this.hook(s, H_STOP, null); this.flush(s); }
    this.dropPending(s);
    this.cancelAll(s);
    if (s.state !== 'failed') this.setState(s, 'stopped', 'stopped');
  }

  /** Stops and forgets the strategy (fills of its orders still in flight are no longer followed). */
  remove(id: string): void {
    const s = this.get$(id);
    this.stop(id);
    for (const o of [...s.open]) this.ownOrders.delete(o.id);
    for (const sym of s.symbols) {
      const subs = this.symSubs[sym]!;
      subs.splice(subs.indexOf(s), 1);
      for (const bb of this.barsBySymbol[sym]!) { const k = bb.subs.indexOf(s); if (k >= 0) bb.subs.splice(k, 1); }
    }
    const n = (this.accounts.get(s.account) ?? 1) - 1;
    if (n <= 0) this.accounts.delete(s.account); else this.accounts.set(s.account, n);
    if (this.pairsOwner.get(s.account) === s) this.pairsOwner.delete(s.account);
    this.strats.delete(id);
    this.order = this.order.filter((x) => x !== s);
  }

  /** Validates and replaces the parameters; a running strategy's onParams gets the previous ones. */
  setParams(id: string, params: Record<string, unknown>): void {
    const s = this.get$(id);
    const next = validateParams(s.kind, s.def.paramsSchema, params);
    const prev = s.params;
    s.params = next;
    if (s.state === 'running') { this.hook(s, H_PARAMS, prev); this.flush(s); }
  }

  /** Admin re-enable after a breaker trip: breaker open → half-open, strategy tripped → running. */
  reset(id: string): void {
    const s = this.get$(id);
    if (s.breaker.state !== 'open') throw new TradsysError('ERR_STRATEGY_STATE', `strategy ${id}: its breaker is ${s.breaker.state}, not open`);
    s.breaker.reset();
    s.inRow = 0;
    if (s.state === 'tripped') this.setState(s, 'running', 'breaker reset (half-open)');
  }

  /**
   * The resting orders as of engine seq `seq` (a live worker joins the event ring at its live edge):
   * from now on the runner keeps the book of every instrument, each reset to `orders` (flattened
   * quintuples symbol, id, side, price, leaves), and applies to books only events after `seq` (those
   * up to it are in the seed). Own orders and positions are not affected.
   */
  seedBooks(seq: number, orders: ArrayLike<number>): void {
    for (let s = 0; s < this.books.length; s++) {
      const b = this.books[s];
      if (b) b.reset(); else this.books[s] = new RuntimeBook(s);
    }
    for (let i = 0; i + 4 < orders.length; i += 5) this.books[orders[i]!]?.seed(orders[i + 1]!, orders[i + 2]!, orders[i + 3]!, orders[i + 4]!);
    this.bookSeq = seq;
  }

  /** Events up to this seq are already in the seeded books. */
  private bookSeq = -1;

  /** The symbols some strategy subscribes to (their books are kept). */
  subscribedSymbols(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.books.length; i++) if (this.books[i]) out.push(i);
    return out;
  }

  private setState(s: Strat, state: StrategyState, why: string): void {
    s.state = state;
    s.why = why;
    this.opts.onState?.(s.id, state, why);
  }

  // ── events ────────────────────────────────────────────────────────────────────────────
  /** One EVT record at `p` of the command with sequence `seq`, engine stamp `tsNs`. */
  onEvent(dv: DataView, p: number, seq: number, tsNs: number): void {
    this.lastSeq = seq;
    const type = evtType(dv, p);
    if (type === 75) return; // K: control
    const sym = evtSymbol(dv, p);
    if (type === 82) { this.onReject(dv, p, seq); return; }
    const id = evtId(dv, p);
    const price = evtPrice(dv, p);
    const qty = evtQty(dv, p);
    const side = evtSide(dv, p) as Side;
    const book = this.books[sym];
    if (book && seq > this.bookSeq) {
      book.apply(type, id, type === 84 ? evtMaker(dv, p) : 0, side, price, qty, evtLast(dv, p), seq);
      const subs = this.symSubs[sym]!;
      for (let i = 0; i < subs.length; i++) {
        const s = subs[i]!;
        if (s.state !== 'running') continue;
        if (s.isDirty[sym] === 0) { s.isDirty[sym] = 1; s.dirty.push(sym); }
        if (type === 84) {
          const it = this.item(s, H_TRADE);
          it.symbol = sym; it.tradeId = evtTradeId(dv, p); it.price = price; it.qty = qty; it.side = side; it.ts = tsNs; it.seq = seq;
        }
        if (s.positions.get(sym)!.position !== 0) s.pnlDirty = true;
      }
      if (type === 84) this.onTrade(sym, price, qty);
    }
    if (this.accounts.size === 0) return;
    const acc = evtAccount(dv, p);
    switch (type) {
      case 65: { // A
        const o = this.mine(id, acc);
        if (!o) return;
        o.newPending = false;
        o.seq = seq;
        if (o.state === 'pending') o.state = 'accepted';
        o.strat.breaker.onAccepted();
        this.queueOrder(o);
        this.checkTrip(o.strat);
        return;
      }
      case 84: { // T: the taker (id, account), then the maker (maker, makerAccount)
        const tradeId = evtTradeId(dv, p);
        const t = this.mine(id, acc);
        if (t) this.fill(t, price, qty, evtLeaves(dv, p), false, tradeId, tsNs, seq);
        else if (id >= SAGA_ID_BASE_NUM && id < ADMIN_ID_BASE_NUM) this.sagaFill(acc, sym, side, price, qty, false);
        const macc = evtMakerAccount(dv, p);
        if (!this.accounts.has(macc)) return;
        const mid = evtMaker(dv, p);
        const m = this.mine(mid, macc);
        if (m) this.fill(m, price, qty, evtMakerLeaves(dv, p), true, tradeId, tsNs, seq);
        else if (mid >= SAGA_ID_BASE_NUM && mid < ADMIN_ID_BASE_NUM) this.sagaFill(macc, sym, (1 - side) as Side, price, qty, true);
        return;
      }
      case 88: { // X
        const o = this.mine(id, acc);
        if (!o) return;
        const leaves = evtLeaves(dv, p);
        this.exposure(o, leaves - o.leaves);
        o.leaves = leaves;
        o.seq = seq;
        o.newPending = false;
        if (o.leaves === 0) { o.state = 'cancelled'; this.finish(o); }
        this.queueOrder(o);
        return;
      }
      case 77: { // M: new price, and qty = the new leaves
        const o = this.mine(id, acc);
        if (!o) return;
        this.exposure(o, -o.leaves);
        o.price = price;
        o.leaves = qty;
        o.qty = o.filled + qty;
        o.seq = seq;
        this.exposure(o, o.leaves);
        this.queueOrder(o);
        return;
      }
      default:
        return;
    }
  }

  private mine(id: number, acc: number): OwnOrder | undefined {
    if (!this.accounts.has(acc)) return undefined;
    const o = this.ownOrders.get(id);
    return o && o.strat.account === acc ? o : undefined;
  }

  private onReject(dv: DataView, p: number, seq: number): void {
    if (this.accounts.size === 0) return;
    const o = this.mine(evtId(dv, p), evtAccount(dv, p));
    if (!o) return;
    const s = o.strat;
    s.rejects++;
    s.breaker.onRejected();
    if (o.newPending) {
      o.newPending = false;
      o.state = 'rejected';
      o.reason = REASON_NAMES[evtReason(dv, p)] ?? `reason_${evtReason(dv, p)}`;
      o.seq = seq;
      this.finish(o);
      o.leaves = 0;
      this.queueOrder(o);
    } else {
      o.cancelPending = false; // a refused cancel or modify: the order is as it was
    }
    this.checkTrip(s);
  }

  private fill(o: OwnOrder, price: number, qty: number, leaves: number, maker: boolean, tradeId: number, tsNs: number, seq: number): void {
    const s = o.strat;
    o.newPending = false;
    if (o.state === 'pending') o.state = 'accepted';
    this.exposure(o, leaves - o.leaves);
    o.filled += qty;
    o.leaves = leaves;
    o.seq = seq;
    o.state = leaves === 0 ? 'filled' : 'partially_filled';
    s.fills++;
    const liq = maker ? 'maker' : 'taker';
    const fee = this.opts.fee ? this.opts.fee(o.symbol, liq, price, qty) : 0;
    s.positions.get(o.symbol)!.fill(o.side, price, qty, fee);
    s.pnlDirty = true;
    s.breaker.onFill(o.symbol, o.side, price, qty);
    if (s.state === 'running') {
      const it = this.item(s, H_FILL);
      it.id = o.id; it.tag = o.tag; it.symbol = o.symbol; it.side = o.side; it.price = price; it.qty = qty; it.leaves = leaves;
      it.taker = !maker; it.tradeId = tradeId; it.ts = tsNs; it.seq = seq;
    }
    if (leaves === 0) this.finish(o);
    this.queueOrder(o);
    this.checkTrip(s);
  }

  /** A fill of a pairs-saga leg of an account whose strategy sent sagas: its position only. */
  private sagaFill(acc: number, sym: number, side: Side, price: number, qty: number, maker: boolean): void {
    const s = this.pairsOwner.get(acc);
    const pos = s?.positions.get(sym);
    if (!s || !pos) return;
    const fee = this.opts.fee ? this.opts.fee(sym, maker ? 'maker' : 'taker', price, qty) : 0;
    pos.fill(side, price, qty, fee);
    s.fills++;
    s.pnlDirty = true;
    s.breaker.onFill(sym, side, price, qty);
    this.checkTrip(s);
  }

  private onTrade(sym: number, price: number, qty: number): void {
    const now = this.clock();
    const bs = this.barsBySymbol[sym]!;
    for (let i = 0; i < bs.length; i++) {
      const b = bs[i]!;
      const start = Math.floor(now / b.ms) * b.ms;
      if (b.isOpen && start !== b.start) this.closeBar(b);
      if (!b.isOpen) { b.isOpen = true; b.start = start; b.open = b.high = b.low = price; b.volume = 0; b.trades = 0; }
      if (price > b.high) b.high = price;
      if (price < b.low) b.low = price;
      b.close = price;
      b.volume += qty;
      b.trades++;
    }
    if (this.velocity.onTrade(sym, price)) {
      const trip: Trip = { reason: 'velocity', detail: `symbol ${this.opts.instruments[sym]?.symbol ?? sym} moved more than the velocity limit; new orders paused`, at: now };
      for (const s of this.symSubs[sym]!) {
        if (s.state !== 'running' && !this.hasOpen(s, sym)) continue; // nothing to pause or cancel
        this.cancelAll(s, sym);
        this.opts.log?.('warn', s.id, `velocity pause on ${this.opts.instruments[sym]?.symbol ?? sym}: its orders there cancelled`);
        this.opts.onTrip?.(s.id, trip);
      }
    }
  }

  private hasOpen(s: Strat, sym: number): boolean {
    for (const o of s.open) if (o.symbol === sym) return true;
    return false;
  }

  private closeBar(b: BarBuilder): void {
    b.isOpen = false;
    for (const s of b.subs) {
      if (s.state !== 'running') continue;
      const it = this.item(s, H_BAR);
      it.symbol = b.symbol; it.startMs = b.start; it.intervalMs = b.ms; it.open = b.open; it.high = b.high; it.low = b.low;
      it.close = b.close; it.volume = b.volume; it.trades = b.trades;
    }
  }

  private item(s: Strat, kind: number): Item {
    const it = this.free.pop() ?? new Item();
    it.kind = kind;
    s.queue.push(it);
    return it;
  }

  private queueOrder(o: OwnOrder): void {
    const s = o.strat;
    if (s.state !== 'running') return;
    const it = this.item(s, H_ORDER);
    it.id = o.id; it.tag = o.tag; it.symbol = o.symbol; it.side = o.side; it.price = o.price; it.qty = o.qty; it.leaves = o.leaves;
    it.filled = o.filled; it.state = o.state; it.reason = o.reason; it.seq = o.seq;
  }

  /** Adds `d` lots to the strategy's working quantity on the order's side. */
  private exposure(o: OwnOrder, d: number): void {
    const m = o.side === 0 ? o.strat.openBuy : o.strat.openSell;
    m.set(o.symbol, (m.get(o.symbol) ?? 0) + d);
  }

  private finish(o: OwnOrder): void {
    if (o.strat.open.delete(o)) this.exposure(o, -o.leaves);
    this.ownOrders.delete(o.id);
  }

  // ── hooks ─────────────────────────────────────────────────────────────────────────────
  /** Runs pending hooks by strategy priority and due timers; returns the hooks run. */
  tick(): number {
    const now = this.clock();
    for (let i = 0; i < this.bars.length; i++) {
      const b = this.bars[i]!;
      if (b.isOpen && now >= b.start + b.ms) this.closeBar(b);
    }
    let n = 0;
    const order = this.order;
    for (let i = 0; i < order.length; i++) {
      const s = order[i]!;
      if (s.cancelRetry) { s.cancelRetry = false; if (s.state !== 'running') this.cancelAll(s); }
      if (s.state !== 'running') { this.dropPending(s); continue; }
      n += this.turn(s, now);
    }
    return n;
  }

  private turn(s: Strat, now: number): number {
    let n = 0;
    const q = s.queue;
    while (s.qHead < q.length && s.state === 'running') {
      const it = q[s.qHead++]!;
      this.hook(s, it.kind, it);
      n++;
    }
    this.recycle(s);
    for (let i = 0; i < s.dirty.length; i++) {
      const sym = s.dirty[i]!;
      s.isDirty[sym] = 0;
      if (s.state === 'running') { this.hook(s, H_BOOK, this.books[sym]!); n++; }
    }
    s.dirty.length = 0;
    if (s.timers.size > 0 && s.state === 'running') {
      const due = this.due;
      due.length = 0;
      for (const t of s.timers.values()) if (t.due <= now) due.push(t);
      for (let i = 0; i < due.length && s.state === 'running'; i++) {
        const t = due[i]!;
        if (s.timers.get(t.name) !== t) continue; // cleared or re-armed by an earlier hook
        if (t.every) { t.due += t.ms; if (t.due <= now) t.due = now + t.ms; } else s.timers.delete(t.name);
        this.hook(s, H_TIMER, t.name);
        n++;
      }
      due.length = 0;
    }
    this.flush(s);
    if (s.pnlDirty && s.state === 'running') {
      s.pnlDirty = false;
      const [r, u] = this.pnlOf(s);
      s.breaker.onPnl(r + u);
      this.checkTrip(s);
    }
    return n;
  }

  private recycle(s: Strat): void {
    const q = s.queue;
    for (let i = 0; i < q.length; i++) { const it = q[i]!; it.tag = ''; this.free.push(it); }
    q.length = 0;
    s.qHead = 0;
  }

  /** Drops what is queued for a strategy that is not running (and discards its unsent orders). */
  private dropPending(s: Strat): void {
    if (s.queue.length > 0) this.recycle(s);
    for (let i = 0; i < s.dirty.length; i++) s.isDirty[s.dirty[i]!] = 0;
    s.dirty.length = 0;
    this.discardOutbox(s);
  }

  /** Calls one hook, timed; a throw fails the strategy, an overrun is counted (3 in a row pause it). */
  private hook(s: Strat, kind: number, arg: unknown): void {
    const t0 = this.measure ? performance.now() : 0;
    try {
      this.call(s, kind, arg);
    } catch (e) {
      s.errors++;
      s.breaker.onHookError();
      const msg = e instanceof Error ? e.message : String(e);
      this.opts.log?.('error', s.id, `${HOOK_NAMES[kind]} threw: ${msg}; strategy stopped and its orders cancelled`, { stack: e instanceof Error ? e.stack : undefined });
      this.dropPending(s);
      this.cancelAll(s);
      this.setState(s, 'failed', `${HOOK_NAMES[kind]} threw: ${msg}`);
      this.checkTrip(s);
      return;
    }
    if (this.measure) {
      const ns = (performance.now() - t0) * 1e6;
      s.latency.record(ns, this.clock());
      if (ns > s.budgetNs) {
        s.overruns++;
        s.inRow++;
        s.breaker.onHookError();
        if (s.inRow >= OVERRUNS_TO_PAUSE && s.state === 'running') {
          const why = `${s.inRow} hooks in a row over the ${s.budgetNs / 1000} µs budget (last ${HOOK_NAMES[kind]}: ${Math.round(ns / 1000)} µs)`;
          this.opts.log?.('warn', s.id, `${why}; strategy paused and its orders cancelled`);
          this.dropPending(s);
          this.cancelAll(s);
          this.setState(s, 'paused', why);
        }
      } else {
        s.inRow = 0;
        s.breaker.onHookOk();
      }
    } else {
      s.breaker.onHookOk();
    }
    s.events++;
    this.checkTrip(s);
  }

  private call(s: Strat, kind: number, arg: unknown): void {
    const st = s.instance;
    const ctx = s.ctx;
    switch (kind) {
      case H_START: st.onStart(ctx); return;
      case H_STOP: st.onStop(ctx); return;
      case H_BOOK: st.onBook(ctx, arg as BookView); return;
      case H_PARAMS: st.onParams(ctx, arg as Record<string, unknown>); return;
      case H_TIMER: st.onTimer(ctx, arg as string); return;
      default: break;
    }
    const it = arg as Item;
    switch (kind) {
      case H_TRADE: {
        const v = this.tradeV;
        v.symbol = it.symbol; v.tradeId = it.tradeId; v.price = it.price; v.qty = it.qty; v.takerSide = it.side; v.ts = it.ts; v.seq = it.seq;
        st.onTrade(ctx, v);
        return;
      }
      case H_ORDER: {
        const v = this.orderV;
        v.id = it.id; v.tag = it.tag; v.symbol = it.symbol; v.side = it.side; v.price = it.price; v.qty = it.qty; v.leaves = it.leaves;
        v.filled = it.filled; v.state = it.state; v.reason = it.reason; v.seq = it.seq;
        st.onOrder(ctx, v);
        return;
      }
      case H_FILL: {
        const v = this.fillV;
        v.orderId = it.id; v.tag = it.tag; v.symbol = it.symbol; v.side = it.side; v.price = it.price; v.qty = it.qty; v.leaves = it.leaves;
        v.liquidity = it.taker ? 'taker' : 'maker'; v.tradeId = it.tradeId; v.ts = it.ts; v.seq = it.seq;
        st.onFill(ctx, v);
        return;
      }
      case H_BAR: {
        const v = this.barV;
        v.symbol = it.symbol; v.startMs = it.startMs; v.intervalMs = it.intervalMs; v.open = it.open; v.high = it.high; v.low = it.low;
        v.close = it.close; v.volume = it.volume; v.trades = it.trades;
        st.onBar(ctx, v);
        return;
      }
      default: return;
    }
  }

  /** A breaker trip seen now: cancel the strategy's orders, mark it tripped, report. */
  private checkTrip(s: Strat): void {
    const t = s.breaker.takeTrip();
    if (!t) return;
    this.dropPending(s);
    this.cancelAll(s);
    if (s.state === 'running' || s.state === 'paused') this.setState(s, 'tripped', `${t.reason}: ${t.detail}`);
    this.opts.log?.('warn', s.id, `circuit breaker tripped (${t.reason}: ${t.detail}); open orders cancelled`);
    this.opts.onTrip?.(s.id, t);
  }

  // ── orders ────────────────────────────────────────────────────────────────────────────
  private refusal(s: Strat): Refusal | null {
    if (s.state === 'running') return s.breaker.state === 'open' ? 'breaker_open' : null;
    if (s.state === 'paused') return 'paused';
    if (s.state === 'tripped') return 'breaker_open';
    return 'stopped';
  }

  /** @internal ctx.place */
  place(s: Strat, o: NewOrder): number | Refusal {
    const r = this.refusal(s);
    if (r) return r;
    if (typeof o !== 'object' || o === null) return 'bad_order';
    const { symbol, side, qty } = o;
    const type = o.type === undefined || o.type === 'limit' ? ENUMS.OrdType.LIMIT : o.type === 'market' ? ENUMS.OrdType.MARKET : -1;
    const tif = o.tif === undefined ? ENUMS.Tif.GTC : TIF[o.tif] ?? -1;
    const tag = o.tag ?? '';
    const price = type === ENUMS.OrdType.MARKET ? 0 : o.price ?? 0;
    if (!Number.isInteger(symbol) || s.subscribed[symbol] !== 1 || (side !== 0 && side !== 1) || type < 0 || tif < 0
      || !Number.isInteger(qty) || qty < 1 || qty > QTY_MAX || typeof tag !== 'string' || !TAG_RE.test(tag)
      || (type === ENUMS.OrdType.LIMIT && (!Number.isSafeInteger(price) || price < 1))) return 'bad_order';
    if (this.velocity.paused(symbol)) return 'paused';
    const book = this.books[symbol]!;
    const pos = s.positions.get(symbol)!.position;
    const after = side === 0 ? pos + (s.openBuy.get(symbol) ?? 0) + qty : pos - (s.openSell.get(symbol) ?? 0) - qty;
    const valuePx = type === ENUMS.OrdType.MARKET ? (side === 0 ? book.askPx || book.lastTrade : book.bidPx || book.lastTrade) : price;
    const why = s.breaker.checkNew(symbol, side, valuePx, qty, after);
    if (why !== null) { this.checkTrip(s); return why === 'breaker_open' ? 'breaker_open' : 'limit'; }
    const id = this.opts.nextOrderId();
    const own = new OwnOrder(s, id, tag, symbol, side, price, qty, type, tif);
    this.ownOrders.set(id, own);
    s.open.add(own);
    this.exposure(own, qty);
    s.outOp.push(ENUMS.Op.NEW); s.outOrder.push(own); s.outPrice.push(price); s.outQty.push(qty); s.outDec.push(this.decide());
    return id;
  }

  /** The sink's decision handle for a command a strategy decides now (stage latency; −1 when the sink keeps none). */
  private decide(): number { const k = this.opts.sink; return k.decide ? k.decide() : -1; }

  /** @internal ctx.cancel: sent at once (before this turn's new orders). */
  cancel(s: Strat, orderId: number): true | Refusal {
    const o = this.ownOrders.get(orderId);
    if (!o || o.strat !== s) return 'unknown_order';
    if (o.cancelPending) return true;
    if (!o.sent) { this.unsend(o); return true; }
    if (!this.opts.sink.send(ENUMS.Op.CANCEL, o.side, 0, 0, o.symbol, o.id, 0, 0, s.account, '', this.decide())) return 'ring_full';
    o.cancelPending = true;
    s.breaker.onMessage();
    return true;
  }

  /** @internal ctx.modify: new price and quantity (queued with the new orders of this turn). */
  modify(s: Strat, orderId: number, price: number, qty: number): true | Refusal {
    const r = this.refusal(s);
    if (r) return r;
    const o = this.ownOrders.get(orderId);
    if (!o || o.strat !== s) return 'unknown_order';
    if (!Number.isSafeInteger(price) || price < 1 || !Number.isInteger(qty) || qty < 1 || qty > QTY_MAX || o.type !== ENUMS.OrdType.LIMIT) return 'bad_order';
    if (o.cancelPending) return 'unknown_order';
    if (this.velocity.paused(o.symbol)) return 'paused';
    const pos = s.positions.get(o.symbol)!.position;
    const more = qty - o.leaves;
    const after = o.side === 0 ? pos + (s.openBuy.get(o.symbol) ?? 0) + Math.max(0, more) : pos - (s.openSell.get(o.symbol) ?? 0) - Math.max(0, more);
    const why = s.breaker.checkNew(o.symbol, o.side, price, qty, after);
    if (why !== null) { this.checkTrip(s); return why === 'breaker_open' ? 'breaker_open' : 'limit'; }
    if (!o.sent) {
      this.exposure(o, qty - o.leaves);
      o.price = price; o.qty = qty; o.leaves = qty;
      for (let i = 0; i < s.outOrder.length; i++) if (s.outOrder[i] === o && s.outOp[i] === ENUMS.Op.NEW) { s.outPrice[i] = price; s.outQty[i] = qty; }
      return true;
    }
    s.outOp.push(ENUMS.Op.MODIFY); s.outOrder.push(o); s.outPrice.push(price); s.outQty.push(qty); s.outDec.push(this.decide());
    return true;
  }

  /** @internal ctx.cancelAll and the runtime's own cancels (stop, fail, pause, trip, velocity). */
  cancelAll(s: Strat, symbol?: number): number {
    let n = 0;
    for (const o of [...s.open]) {
      if (symbol !== undefined && o.symbol !== symbol) continue;
      if (o.cancelPending) continue;
      if (!o.sent) { this.unsend(o); continue; }
      if (this.opts.sink.send(ENUMS.Op.CANCEL, o.side, 0, 0, o.symbol, o.id, 0, 0, s.account, '')) {
        o.cancelPending = true;
        s.breaker.onMessage();
        n++;
      } else {
        s.cancelRetry = true; // ring full: tick tries again
      }
    }
    return n;
  }

  /** An order still in the out-box: taken out, cancelled locally. */
  private unsend(o: OwnOrder): void {
    const s = o.strat;
    for (let i = s.outOrder.length - 1; i >= 0; i--) {
      if (s.outOrder[i] === o) { s.outOp.splice(i, 1); s.outOrder.splice(i, 1); s.outPrice.splice(i, 1); s.outQty.splice(i, 1); s.outDec.splice(i, 1); }
    }
    o.state = 'cancelled';
    o.newPending = false;
    this.finish(o);
    o.leaves = 0;
    this.queueOrder(o);
  }

  private discardOutbox(s: Strat): void {
    while (s.outOrder.length > 0) {
      const o = s.outOrder[s.outOrder.length - 1]!;
      if (!o.sent) this.unsend(o);
      else { s.outOp.pop(); s.outOrder.pop(); s.outPrice.pop(); s.outQty.pop(); s.outDec.pop(); }
    }
  }

  /** Sends the strategy's queued new orders and modifies (a full ring rejects the order locally: 'ring_full'). */
  private flush(s: Strat): void {
    const n = s.outOp.length;
    if (n === 0) return;
    const sink = this.opts.sink;
    for (let i = 0; i < n; i++) {
      const o = s.outOrder[i]!;
      const op = s.outOp[i]!;
      if (op === ENUMS.Op.NEW) {
        if (o.state !== 'pending' || o.sent) continue;
        if (sink.send(op, o.side, o.type, o.tif, o.symbol, o.id, s.outPrice[i]!, s.outQty[i]!, s.account, o.tag, s.outDec[i]!)) {
          o.sent = true;
          s.orders++;
          s.breaker.onMessage();
        } else {
          o.state = 'rejected'; o.reason = 'ring_full'; o.newPending = false;
          this.finish(o);
          o.leaves = 0;
          this.queueOrder(o);
        }
      } else if (this.ownOrders.get(o.id) === o && !o.cancelPending) {
        if (sink.send(op, o.side, o.type, o.tif, o.symbol, o.id, s.outPrice[i]!, s.outQty[i]!, s.account, '', s.outDec[i]!)) s.breaker.onMessage();
      }
    }
    s.outOp.length = 0; s.outOrder.length = 0; s.outPrice.length = 0; s.outQty.length = 0; s.outDec.length = 0;
    this.checkTrip(s);
  }

  /** @internal ctx.pairs */
  pairs(s: Strat, req: PairsRequest): number | Refusal {
    const r = this.refusal(s);
    if (r) return r;
    const fn = this.opts.pairs;
    if (!fn || typeof req !== 'object' || req === null || !req.legA || !req.legB) return 'bad_order';
    const a = req.legA;
    const b = req.legB;
    if (s.subscribed[a.symbol] !== 1 || s.subscribed[b.symbol] !== 1) return 'bad_order';
    if (this.velocity.paused(a.symbol) || this.velocity.paused(b.symbol)) return 'paused';
    for (const l of [a, b]) {
      const pos = s.positions.get(l.symbol)!.position;
      const after = l.side === 0 ? pos + (s.openBuy.get(l.symbol) ?? 0) + l.qty : pos - (s.openSell.get(l.symbol) ?? 0) - l.qty;
      const why = s.breaker.checkNew(l.symbol, l.side, l.price, l.qty, after);
      if (why !== null) { this.checkTrip(s); return why === 'breaker_open' ? 'breaker_open' : 'limit'; }
    }
    const res = fn(s.account, req);
    if (typeof res === 'number') {
      this.pairsOwner.set(s.account, s);
      s.breaker.onMessage();
      s.orders += 2;
    }
    return res;
  }

  // ── status ────────────────────────────────────────────────────────────────────────────
  /** @internal realised and unrealised P&L over the strategy's symbols. */
  pnlOf(s: Strat): [number, number] {
    let r = 0;
    let u = 0;
    for (const p of s.positions.values()) { r += p.realised; u += p.unrealised; }
    return [r, u];
  }

  /** One strategy's status, or every strategy's (priority order). */
  status(id?: string): StrategyStatus[] {
    const list = id === undefined ? this.order : [this.get$(id)];
    const now = this.clock();
    return list.map((s) => {
      const dt = now - s.rateAt;
      if (dt >= 1000) { s.eps = ((s.events - s.rateEvents) * 1000) / dt; s.rateEvents = s.events; s.rateAt = now; }
      const [realisedPnl, unrealisedPnl] = this.pnlOf(s);
      const position: Record<string, number> = {};
      for (const [sym, p] of s.positions) position[this.opts.instruments[sym]!.symbol] = p.position;
      let details: Record<string, unknown>;
      try { details = s.instance.status(); } catch (e) { details = { error: `status() threw: ${(e as Error).message}` }; }
      const b = s.breaker.snapshot();
      return {
        id: s.id, kind: s.kind, state: s.state, why: s.why, priority: s.priority, worker: this.worker, account: s.account,
        symbols: s.symbols.map((x) => this.opts.instruments[x]!.symbol), parameters: s.params, eventsPerSec: Math.round(s.eps * 10) / 10,
        decisionUs: { p50: s.latency.percentileUs(0.5, now), p99: s.latency.percentileUs(0.99, now) },
        orders: s.orders, fills: s.fills, rejects: s.rejects, position, realisedPnl, unrealisedPnl,
        breaker: { state: b.state, trip: b.trip, trips: b.trips }, overruns: s.overruns, errors: s.errors, details,
      };
    });
  }
}
