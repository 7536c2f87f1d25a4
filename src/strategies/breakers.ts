/**
 * Circuit breakers for strategies: one `StrategyBreaker` per strategy instance (loss, drawdown,
 * position, order value and volume, order and message rates, reject ratio, repeated executions,
 * consecutive hook errors) and one `SymbolVelocity` per runner (a price move of more than X %
 * within a window pauses new orders on that symbol for a while, in the manner of an exchange's
 * velocity logic). The same classes run live (the strategy runner in a worker) and in backtests;
 * time comes only from the injected `now()` (ms), so a test or a backtest drives them exactly.
 *
 * States: `closed` (trading) → a trip → `open` (no new orders; the runner cancels the strategy's
 * orders on `takeTrip()`) → admin `reset()` once `cooldownMs` has passed since the trip →
 * `half_open` (probation: trading, but any trip goes straight back to `open`) → `halfOpenMs`
 * without a trip → `closed`. Nothing but `reset()` leaves `open`.
 *
 * Thresholds: every limit is the largest value allowed; the first event that goes over it trips
 * (an order of exactly `maxOrderQty` lots passes, one more lot trips; the `maxOrdersPerSec + 1`-th
 * order inside any 1000 ms window trips; a loss of exactly `maxLoss` passes). Windows are sliding
 * and half-open: an event at time t counts in the window (t − W, t].
 *
 * Layout: rates are rings of timestamps in Float64Arrays sized from the limits at construction
 * (capacity = the limit, so "would one more exceed?" is one comparison with the oldest stamp);
 * the reject window is a ring of (stamp, rejected) pairs; the repeated-execution window a ring of
 * (stamp, symbol, side, price, order id); the velocity window per symbol two monotonic deques
 * (running min and max) in typed arrays.
 * Invariants: a trip records the first reason only (later trips while `open` are ignored);
 * `trips` counts every transition into `open`; `takeTrip()` hands each trip out once.
 * Complexity: O(1) per order/message/outcome check; O(k) per fill (k = fills in the repeat
 * window, ≤ its ring capacity); O(1) amortised per trade in `SymbolVelocity`.
 * Allocation: the rings at construction; a `Trip` object per trip; `SymbolVelocity` allocates a
 * symbol's deques the first time it sees the symbol and doubles them when a window holds more
 * trades than ever before, so after warm-up nothing allocates on the steady path.
 * Known limitations: the reject window and the repeat window hold at most their ring capacity
 * (derived from the order-rate limit); beyond it the oldest entries are dropped, so the ratio is
 * then taken over the most recent outcomes. Loss and drawdown are only as fresh as the runner's
 * `onPnl` calls. `checkNew` trusts the caller's price: a market order must be checked at a
 * reference price (e.g. the far touch), or its value limit is not meaningful.
 */
import { TradsysError } from '../domain/errors.js';

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerLimits {
  /** Loss from the P&L at start (or at the last reset), ticks×lots. */
  maxLoss: number;
  /** Fall from the P&L's running peak, ticks×lots. */
  maxDrawdown: number;
  /** |position after the order|, lots, per symbol. */
  maxPosition: number;
  /** price × qty of one order, ticks×lots. */
  maxOrderValue: number;
  /** qty of one order, lots. */
  maxOrderQty: number;
  /** New orders in any 1000 ms window. */
  maxOrdersPerSec: number;
  /** Commands of any kind (new, cancel, modify) in any 1000 ms window. */
  maxMessagesPerSec: number;
  /** rejects / (accepts + rejects) over the last `rejectWindowMs`, once at least `minOrdersForRejectRatio` outcomes are in it. */
  maxRejectRatio: number;
  minOrdersForRejectRatio: number;
  /** Fills of distinct orders at the same symbol + side + price within `repeatWindowMs`. */
  maxRepeatedExecutions: number;
  repeatWindowMs: number;
  /** Hooks that threw or overran their budget, in a row. */
  maxConsecutiveErrors: number;
  /** Earliest admin reset after a trip, and the clean probation that closes a half-open breaker, ms. */
  cooldownMs: number;
  halfOpenMs: number;
  /** The reject ratio's window, ms (additive to the shared interface). */
  rejectWindowMs: number;
}

/**
 * Defaults sized for the demo instruments (prices around 10,000 ticks, orders of tens of lots):
 * a strategy that needs more says so in its `limits`.
 */
export const DEFAULT_LIMITS: BreakerLimits = Object.freeze({
  maxLoss: 5_000_000,
  maxDrawdown: 5_000_000,
  maxPosition: 5_000,
  maxOrderValue: 10_000_000,
  maxOrderQty: 1_000,
  maxOrdersPerSec: 200,
  maxMessagesPerSec: 1_000,
  maxRejectRatio: 0.5,
  minOrdersForRejectRatio: 20,
  maxRepeatedExecutions: 20,
  repeatWindowMs: 1_000,
  maxConsecutiveErrors: 3,
  cooldownMs: 30_000,
  halfOpenMs: 60_000,
  rejectWindowMs: 10_000,
});

/** The largest rate limit accepted (its ring is a Float64Array of that many stamps). */
export const MAX_RATE_LIMIT = 100_000;
const MAX_WINDOW_MS = 3_600_000;

type Kind = 'amount' | 'count' | 'rate' | 'ratio' | 'ms' | 'window';
const LIMIT_KINDS: Record<keyof BreakerLimits, Kind> = {
  maxLoss: 'amount', maxDrawdown: 'amount', maxPosition: 'amount', maxOrderValue: 'amount', maxOrderQty: 'amount',
  maxOrdersPerSec: 'rate', maxMessagesPerSec: 'rate',
  maxRejectRatio: 'ratio', minOrdersForRejectRatio: 'count',
  maxRepeatedExecutions: 'count', repeatWindowMs: 'window',
  maxConsecutiveErrors: 'count',
  cooldownMs: 'ms', halfOpenMs: 'ms', rejectWindowMs: 'window',
};

function bad(key: string, what: string, v: unknown): never {
  throw new TradsysError('ERR_BREAKER_LIMITS', `breaker limit "${key}" ${what}, got ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`);
}

/**
 * The defaults overridden by `partial` (a strategy configuration's `limits`). Throws TradsysError
 * ERR_BREAKER_LIMITS on an unknown key or a value that is not a number of the right kind:
 * amounts > 0 (ticks×lots or lots, exact integers), rates integers 1..100,000 per second, counts
 * integers ≥ 1 (`minOrdersForRejectRatio` too), the ratio in (0, 1], windows integers 1..3,600,000
 * ms, cooldown and probation integers 0..3,600,000 ms. Allocates the result.
 */
export function parseLimits(partial?: Record<string, unknown>): BreakerLimits {
  const out: BreakerLimits = { ...DEFAULT_LIMITS };
  if (partial === undefined || partial === null) return out;
  if (typeof partial !== 'object' || Array.isArray(partial)) {
    throw new TradsysError('ERR_BREAKER_LIMITS', 'breaker limits must be an object of numbers');
  }
  for (const key of Object.keys(partial)) {
    if (!Object.prototype.hasOwnProperty.call(LIMIT_KINDS, key)) {
      throw new TradsysError('ERR_BREAKER_LIMITS', `unknown breaker limit "${key}" (one of ${Object.keys(LIMIT_KINDS).join(', ')})`);
    }
    const k = key as keyof BreakerLimits;
    const v = partial[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) bad(key, 'must be a finite number', v);
    switch (LIMIT_KINDS[k]) {
      case 'amount':
        if (!Number.isSafeInteger(v) || v <= 0) bad(key, 'must be a positive integer', v);
        break;
      case 'rate':
        if (!Number.isInteger(v) || v < 1 || v > MAX_RATE_LIMIT) bad(key, `must be an integer from 1 to ${MAX_RATE_LIMIT}`, v);
        break;
      case 'count':
        if (!Number.isInteger(v) || v < 1 || v > MAX_RATE_LIMIT) bad(key, `must be an integer from 1 to ${MAX_RATE_LIMIT}`, v);
        break;
      case 'ratio':
        if (!(v > 0 && v <= 1)) bad(key, 'must be a ratio in (0, 1]', v);
        break;
      case 'window':
        if (!Number.isInteger(v) || v < 1 || v > MAX_WINDOW_MS) bad(key, `must be an integer number of ms from 1 to ${MAX_WINDOW_MS}`, v);
        break;
      case 'ms':
        if (!Number.isInteger(v) || v < 0 || v > MAX_WINDOW_MS) bad(key, `must be an integer number of ms from 0 to ${MAX_WINDOW_MS}`, v);
        break;
    }
    out[k] = v;
  }
  return out;
}

export interface Trip { reason: string; detail: string; at: number }

/** Reasons a breaker trips with (`Trip.reason`); the runner and admins may use others through `trip()`. */
export const TRIP_REASONS = [
  'max_loss', 'max_drawdown', 'max_position', 'max_order_value', 'max_order_qty', 'order_rate', 'message_rate',
  'reject_ratio', 'repeated_executions', 'consecutive_errors', 'velocity', 'admin',
] as const;

/**
 * Timestamps of the last `cap` events: "would one more event at `t` make cap + 1 inside the
 * window (t − W, t]?" is `full && oldest > t − W`.
 */
class StampRing {
  private readonly ts: Float64Array;
  private head = 0; // next write
  private size = 0;
  constructor(private readonly cap: number, private readonly windowMs: number) { this.ts = new Float64Array(cap); }
  wouldExceed(t: number): boolean {
    return this.size === this.cap && this.ts[this.head]! > t - this.windowMs;
  }
  push(t: number): void {
    this.ts[this.head] = t;
    this.head = this.head + 1 === this.cap ? 0 : this.head + 1;
    if (this.size < this.cap) this.size++;
  }
  clear(): void { this.size = 0; this.head = 0; }
}

/** Order outcomes (accepted / rejected) inside a sliding window, with running counts. */
class OutcomeRing {
  private readonly ts: Float64Array;
  private readonly rej: Uint8Array;
  private head = 0; // oldest
  private size = 0;
  total = 0;
  rejects = 0;
  constructor(private readonly cap: number, private readonly windowMs: number) {
    this.ts = new Float64Array(cap);
    this.rej = new Uint8Array(cap);
  }
  evict(t: number): void {
    while (this.size > 0 && this.ts[this.head]! <= t - this.windowMs) this.dropOldest();
  }
  push(t: number, rejected: boolean): void {
    this.evict(t);
    if (this.size === this.cap) this.dropOldest();
    let i = this.head + this.size;
    if (i >= this.cap) i -= this.cap;
    this.ts[i] = t;
    this.rej[i] = rejected ? 1 : 0;
    this.size++;
    this.total++;
    if (rejected) this.rejects++;
  }
  private dropOldest(): void {
    this.total--;
    if (this.rej[this.head] === 1) this.rejects--;
    this.head = this.head + 1 === this.cap ? 0 : this.head + 1;
    this.size--;
  }
  clear(): void { this.head = 0; this.size = 0; this.total = 0; this.rejects = 0; }
}

/** Fills inside the repeat window, one entry per (order, symbol, side, price). */
class FillRing {
  private readonly ts: Float64Array;
  private readonly sym: Float64Array;
  private readonly px: Float64Array;
  private readonly oid: Float64Array;
  private readonly side: Uint8Array;
  private head = 0; // oldest
  private size = 0;
  constructor(private readonly cap: number, private readonly windowMs: number) {
    this.ts = new Float64Array(cap);
    this.sym = new Float64Array(cap);
    this.px = new Float64Array(cap);
    this.oid = new Float64Array(cap);
    this.side = new Uint8Array(cap);
  }
  /**
   * Records a fill and returns how many distinct orders filled at this symbol + side + price in
   * the window, this one included. `orderId` < 0: unknown, every fill counts as its own order.
   */
  add(t: number, symbol: number, side: number, price: number, orderId: number): number {
    while (this.size > 0 && this.ts[this.head]! <= t - this.windowMs) {
      this.head = this.head + 1 === this.cap ? 0 : this.head + 1;
      this.size--;
    }
    let same = 0;
    let seen = -1;
    for (let k = 0, i = this.head; k < this.size; k++) {
      if (this.sym[i] === symbol && this.side[i] === side && this.px[i] === price) {
        if (orderId >= 0 && this.oid[i] === orderId) seen = i;
        // an entry whose stamp was refreshed may hold older ones behind it in the ring: check each stamp
        else if (this.ts[i]! > t - this.windowMs) same++;
      }
      i = i + 1 === this.cap ? 0 : i + 1;
    }
    if (seen >= 0) { this.ts[seen] = t; return same + 1; } // another fill of an order already counted
    if (this.size === this.cap) { this.head = this.head + 1 === this.cap ? 0 : this.head + 1; this.size--; }
    let i = this.head + this.size;
    if (i >= this.cap) i -= this.cap;
    this.ts[i] = t; this.sym[i] = symbol; this.side[i] = side; this.px[i] = price; this.oid[i] = orderId;
    this.size++;
    return same + 1;
  }
  clear(): void { this.head = 0; this.size = 0; }
}

/**
 * One strategy's breaker. The runner calls `checkNew` before each new order (cancels are never
 * checked, so a tripped strategy can always get out), `onMessage` for every command it queued,
 * `onAccepted` / `onRejected` for each new order's outcome, `onFill` per fill, `onPnl` with the
 * total P&L after fills and marks, `onHookError` / `onHookOk` after each hook, and `takeTrip()`
 * once per tick to cancel a tripped strategy's orders.
 */
export class StrategyBreaker {
  private st: BreakerState = 'closed';
  private halfOpenAt = 0;
  private current: Trip | null = null;
  private pending: Trip | null = null;
  private nTrips = 0;
  private readonly orders: StampRing;
  private readonly messages: StampRing;
  private readonly outcomes: OutcomeRing;
  private readonly fills: FillRing;
  private errors = 0;
  private pnlBase = 0;
  private pnlPeak = 0;
  private pnlLast = 0;

  constructor(readonly limits: BreakerLimits, private readonly now: () => number) {
    this.orders = new StampRing(limits.maxOrdersPerSec, 1000);
    this.messages = new StampRing(limits.maxMessagesPerSec, 1000);
    // outcomes in the window are bounded by the orders the rate limit lets through (+ one second of stragglers)
    const perWindow = (w: number): number => limits.maxOrdersPerSec * (Math.ceil(w / 1000) + 1);
    this.outcomes = new OutcomeRing(Math.min(1 << 20, Math.max(1024, perWindow(limits.rejectWindowMs))), limits.rejectWindowMs);
    this.fills = new FillRing(Math.min(1 << 16, Math.max(1024, limits.maxRepeatedExecutions + 1, perWindow(limits.repeatWindowMs))), limits.repeatWindowMs);
  }

  get state(): BreakerState {
    if (this.st === 'half_open' && this.now() - this.halfOpenAt >= this.limits.halfOpenMs) {
      this.st = 'closed';
      this.current = null;
    }
    return this.st;
  }

  /**
   * Before a new order: null when allowed (the order is then counted in the order-rate window),
   * else the reason: 'breaker_open' while open, or the limit it breaks (which trips the breaker).
   */
  checkNew(_symbol: number, _side: 0 | 1, price: number, qty: number, positionAfter: number): string | null {
    if (this.state === 'open') return 'breaker_open';
    const L = this.limits;
    const t = this.now();
    if (qty > L.maxOrderQty) return this.tripAt('max_order_qty', `order of ${qty} lots > ${L.maxOrderQty}`, t);
    const value = Math.abs(price) * qty;
    if (value > L.maxOrderValue) return this.tripAt('max_order_value', `order value ${value} > ${L.maxOrderValue}`, t);
    if (Math.abs(positionAfter) > L.maxPosition) return this.tripAt('max_position', `position after the order ${positionAfter} lots, limit ±${L.maxPosition}`, t);
    if (this.messages.wouldExceed(t)) return this.tripAt('message_rate', `more than ${L.maxMessagesPerSec} messages in 1 s`, t);
    if (this.orders.wouldExceed(t)) return this.tripAt('order_rate', `more than ${L.maxOrdersPerSec} orders in 1 s`, t);
    this.orders.push(t);
    return null;
  }

  /** Every command queued (new, cancel, modify). A cancel flood trips here. */
  onMessage(): void {
    const t = this.now();
    const over = this.messages.wouldExceed(t);
    this.messages.push(t);
    if (over) this.tripAt('message_rate', `more than ${this.limits.maxMessagesPerSec} messages in 1 s`, t);
  }

  onAccepted(): void { this.outcome(false); }
  onRejected(): void { this.outcome(true); }

  private outcome(rejected: boolean): void {
    const t = this.now();
    const o = this.outcomes;
    o.push(t, rejected);
    const L = this.limits;
    if (o.total >= L.minOrdersForRejectRatio && o.rejects > L.maxRejectRatio * o.total) {
      this.tripAt('reject_ratio', `${o.rejects} of ${o.total} orders rejected in ${L.rejectWindowMs} ms (limit ${L.maxRejectRatio})`, t);
    }
  }

  /**
   * A fill of one of the strategy's orders. With `orderId` (additive to the shared interface),
   * partial fills of one order count once; without it every fill counts.
   */
  onFill(symbol: number, side: 0 | 1, price: number, _qty: number, orderId = -1): void {
    const t = this.now();
    const n = this.fills.add(t, symbol, side, price, orderId);
    const L = this.limits;
    if (n > L.maxRepeatedExecutions) {
      this.tripAt('repeated_executions', `${n} executions of symbol ${symbol} ${side === 0 ? 'buy' : 'sell'} at ${price} within ${L.repeatWindowMs} ms`, t);
    }
  }

  /** The strategy's total P&L (realised + unrealised, fees included), ticks×lots. */
  onPnl(total: number): void {
    this.pnlLast = total;
    if (total > this.pnlPeak) this.pnlPeak = total;
    const L = this.limits;
    const loss = this.pnlBase - total;
    if (loss > L.maxLoss) { this.trip('max_loss', `loss ${loss} > ${L.maxLoss}`); return; }
    const dd = this.pnlPeak - total;
    if (dd > L.maxDrawdown) this.trip('max_drawdown', `drawdown ${dd} from the peak ${this.pnlPeak} > ${L.maxDrawdown}`);
  }

  onHookError(): void {
    this.errors++;
    if (this.errors > this.limits.maxConsecutiveErrors) this.trip('consecutive_errors', `${this.errors} hook errors or overruns in a row`);
  }
  onHookOk(): void { this.errors = 0; }

  /** Opens the breaker (closed or half-open); ignored while already open. */
  trip(reason: string, detail: string): void { this.tripAt(reason, detail, this.now()); }

  private tripAt(reason: string, detail: string, at: number): string {
    if (this.state === 'open') return reason;
    const trip: Trip = { reason, detail, at };
    this.st = 'open';
    this.current = trip;
    this.pending = trip;
    this.nTrips++;
    return reason;
  }

  takeTrip(): Trip | null {
    const t = this.pending;
    this.pending = null;
    return t;
  }

  /**
   * Admin re-enable: open → half_open. Throws TradsysError ERR_BREAKER_COOLDOWN before
   * `cooldownMs` has passed since the trip; a no-op when not open. Loss and drawdown count again
   * from the P&L at the reset (the admin has seen the loss so far), and the reject, repeat and
   * error windows start empty, so the probation judges what the strategy does from now on.
   */
  reset(): void {
    if (this.state !== 'open') return;
    const t = this.now();
    const trip = this.current!;
    const left = trip.at + this.limits.cooldownMs - t;
    if (left > 0) {
      throw new TradsysError('ERR_BREAKER_COOLDOWN', `the breaker tripped (${trip.reason}) ${t - trip.at} ms ago; it may be reset after ${this.limits.cooldownMs} ms (${left} ms left)`);
    }
    this.st = 'half_open';
    this.halfOpenAt = t;
    this.pending = null;
    this.pnlBase = this.pnlLast;
    this.pnlPeak = this.pnlLast;
    this.outcomes.clear();
    this.fills.clear();
    this.errors = 0;
  }

  /** Allocates the result. `trip` is the trip that opened the breaker, until it closes again. */
  snapshot(): { state: BreakerState; trip: Trip | null; trips: number; limits: BreakerLimits } {
    const state = this.state;
    return { state, trip: this.current, trips: this.nTrips, limits: this.limits };
  }
}

export interface VelocityLimits {
  /** The move, in percent of the reference price, that trips (strictly more than this). */
  movePct: number;
  /** The look-back window, ms: a trade is compared with every trade in (t − windowMs, t). */
  windowMs: number;
  /** How long new orders on the symbol stay paused after a trip, ms. */
  pauseMs: number;
}

export const DEFAULT_VELOCITY: VelocityLimits = Object.freeze({ movePct: 3, windowMs: 5_000, pauseMs: 10_000 });

/** The defaults overridden by `partial`; TradsysError ERR_BREAKER_LIMITS on an unknown key or bad value. */
export function parseVelocityLimits(partial?: Record<string, unknown>): VelocityLimits {
  const out: VelocityLimits = { ...DEFAULT_VELOCITY };
  if (partial === undefined || partial === null) return out;
  if (typeof partial !== 'object' || Array.isArray(partial)) throw new TradsysError('ERR_BREAKER_LIMITS', 'velocity limits must be an object of numbers');
  for (const key of Object.keys(partial)) {
    const v = partial[key];
    if (key === 'movePct') {
      if (typeof v !== 'number' || !(v > 0 && v < 100)) bad(key, 'must be a percentage in (0, 100)', v);
      out.movePct = v;
    } else if (key === 'windowMs' || key === 'pauseMs') {
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_WINDOW_MS) bad(key, `must be an integer number of ms from 1 to ${MAX_WINDOW_MS}`, v);
      out[key] = v;
    } else {
      throw new TradsysError('ERR_BREAKER_LIMITS', `unknown velocity limit "${key}" (one of movePct, windowMs, pauseMs)`);
    }
  }
  return out;
}

/** A monotonic deque of (stamp, price) in growable typed arrays: the window's min (or max) at the front. */
class ExtremeDeque {
  ts = new Float64Array(16);
  px = new Float64Array(16);
  head = 0;
  size = 0;
  constructor(private readonly isMin: boolean) {}
  evict(before: number): void {
    while (this.size > 0 && this.ts[this.head]! <= before) { this.head = (this.head + 1) & (this.ts.length - 1); this.size--; }
  }
  front(): number { return this.size > 0 ? this.px[this.head]! : NaN; }
  push(t: number, p: number): void {
    const mask = this.ts.length - 1;
    // drop the back while it can never again be the extreme
    while (this.size > 0) {
      const b = (this.head + this.size - 1) & mask;
      if (this.isMin ? this.px[b]! >= p : this.px[b]! <= p) this.size--; else break;
    }
    if (this.size === this.ts.length) this.grow();
    const i = (this.head + this.size) & (this.ts.length - 1);
    this.ts[i] = t; this.px[i] = p;
    this.size++;
  }
  private grow(): void {
    const n = this.ts.length;
    const ts = new Float64Array(n * 2), px = new Float64Array(n * 2);
    for (let k = 0; k < this.size; k++) { const i = (this.head + k) & (n - 1); ts[k] = this.ts[i]!; px[k] = this.px[i]!; }
    this.ts = ts; this.px = px; this.head = 0;
  }
  clear(): void { this.head = 0; this.size = 0; }
}

interface SymbolWindow { symbol: number; min: ExtremeDeque; max: ExtremeDeque; pausedUntil: number; reference: number }

/**
 * Per-symbol velocity logic. Each trade is compared with the lowest and highest trade price in
 * the look-back window before it; a move of more than `movePct` % from either (up from the low,
 * down from the high, relative to that price) trips: new orders on the symbol are paused until
 * `pauseMs` later and the window restarts from the trade that tripped (the new level is the new
 * reference, as an exchange re-opens at the new price). Trades during a pause are recorded but do
 * not extend it; a move that goes on after the pause trips again.
 */
export class SymbolVelocity {
  private readonly bySymbol = new Map<number, SymbolWindow>();
  private readonly list: SymbolWindow[] = [];

  constructor(readonly limits: VelocityLimits, private readonly now: () => number) {}

  private win(symbol: number): SymbolWindow {
    let w = this.bySymbol.get(symbol);
    if (w === undefined) {
      w = { symbol, min: new ExtremeDeque(true), max: new ExtremeDeque(false), pausedUntil: 0, reference: 0 };
      this.bySymbol.set(symbol, w);
      this.list.push(w);
    }
    return w;
  }

  onTrade(symbol: number, price: number): boolean {
    const t = this.now();
    const w = this.win(symbol);
    const before = t - this.limits.windowMs;
    w.min.evict(before);
    w.max.evict(before);
    let tripped = false;
    if (t >= w.pausedUntil) {
      const lo = w.min.front(), hi = w.max.front();
      const m = this.limits.movePct;
      // (p − lo)/lo > m/100, written without a division so the threshold is exact for integer ticks
      if (lo > 0 && (price - lo) * 100 > m * lo) { tripped = true; w.reference = lo; }
      else if (hi > 0 && (hi - price) * 100 > m * hi) { tripped = true; w.reference = hi; }
      if (tripped) {
        w.pausedUntil = t + this.limits.pauseMs;
        w.min.clear();
        w.max.clear();
      }
    }
    w.min.push(t, price);
    w.max.push(t, price);
    return tripped;
  }

  paused(symbol: number): boolean {
    const w = this.bySymbol.get(symbol);
    return w !== undefined && this.now() < w.pausedUntil;
  }

  /** Every symbol seen: its pause end (ms, 0 when never paused) and the price the last trip measured from (0 when none). Allocates. */
  snapshot(): { symbol: number; pausedUntil: number; reference: number }[] {
    return this.list.map((w) => ({ symbol: w.symbol, pausedUntil: w.pausedUntil, reference: w.reference }));
  }
}
