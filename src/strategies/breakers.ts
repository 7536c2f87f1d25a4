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
 * the duplicate window a ring of (stamp, symbol, side, price, qty) sized for every order the
 * order-rate limit lets into it, with a hash table of counts per key; the repeat window a ring of
 * fills with a count per (symbol, side, price) and an index per (order, symbol, side, price);
 * the reject window is a ring of (stamp, rejected) pairs; the velocity window per symbol two
 * monotonic deques (running min and max) in typed arrays.
 * Invariants: a trip records the first reason only (later trips while `open` are ignored);
 * `trips` counts every transition into `open`; `takeTrip()` hands each trip out once.
 * Complexity: O(1) amortised per order, message, outcome and fill (hash tables with load ≤ 1/2)
 * and per trade in `SymbolVelocity`.
 * Allocation: the rings at construction; a `Trip` object per trip; `SymbolVelocity` allocates a
 * symbol's deques the first time it sees the symbol and doubles them when a window holds more
 * trades than ever before, so after warm-up nothing allocates on the steady path (measured:
 * test/unit/breakers-gc.test.ts). The hot paths keep stamps in local variables and typed arrays:
 * V8 boxes a double outside the small-integer range that crosses a call it did not inline.
 * The clock is the caller's: `Date.now()` (or `performance.now()`) allocates a heap number per
 * call in V8 (measured: about 8 scavenges per 1.4 million calls), so a runner that wants no garbage
 * passes a `now` that reads a time it caches once per tick (e.g. from a Float64Array).
 * Known limitations: the reject window and the repeat window hold at most their ring capacity
 * (derived from the order-rate limit, at least 1,024); beyond it the oldest entries are dropped,
 * so the ratio and the repeat count are then taken over the most recent ones. The interface
 * passes order ids (≥ 2^52 for strategies) and prices as numbers: V8 may box such an argument
 * when the runner's call into the breaker is not inlined. Loss and drawdown are only as fresh as the runner's
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
  /**
   * New orders identical in symbol, side, price and quantity within `duplicateWindowMs` (additive
   * to the shared interface): the duplicative orders of SEC 15c3-5 (c)(1)(ii), e.g. a loop that
   * resends the same order under new ids.
   */
  maxDuplicateOrders: number;
  duplicateWindowMs: number;
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
  maxDuplicateOrders: 25,
  duplicateWindowMs: 1_000,
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
  maxDuplicateOrders: 'count', duplicateWindowMs: 'window',
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
  'duplicate_orders', 'bad_order', 'reject_ratio', 'repeated_executions', 'consecutive_errors', 'velocity', 'admin',
] as const;

/**
 * Timestamps of the last `cap` events: "would one more event at `t` make cap + 1 inside the
 * window (t − W, t]?" is `full && oldest > t − W`.
 */
class StampRing {
  private readonly ts: Float64Array;
  private head = 0; // next write
  private size = 0;
  /** `clk[0]`: the time of the event being handled (see StrategyBreaker's `clk`). */
  constructor(private readonly cap: number, private readonly windowMs: number, private readonly clk: Float64Array) { this.ts = new Float64Array(cap); }
  wouldExceed(): boolean {
    return this.size === this.cap && this.ts[this.head]! > this.clk[0]! - this.windowMs;
  }
  push(): void {
    this.ts[this.head] = this.clk[0]!;
    this.head = this.head + 1 === this.cap ? 0 : this.head + 1;
    if (this.size < this.cap) this.size++;
  }
}

/** Order outcomes (accepted / rejected) inside a sliding window, with running counts. */
class OutcomeRing {
  private readonly ts: Float64Array;
  private readonly rej: Uint8Array;
  private head = 0; // oldest
  private size = 0;
  total = 0;
  rejects = 0;
  constructor(private readonly cap: number, private readonly windowMs: number, private readonly clk: Float64Array) {
    this.ts = new Float64Array(cap);
    this.rej = new Uint8Array(cap);
  }
  push(rejected: boolean): void {
    const t = this.clk[0]!;
    while (this.size > 0 && this.ts[this.head]! <= t - this.windowMs) this.dropOldest();
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

/**
 * An open-addressing hash table from a key of four numbers to an int: linear probing, load ≤ 1/2,
 * backward-shift deletion (no tombstones). The key is passed in `k` (four slots) rather than as
 * arguments, so that no double crosses a call (see StrategyBreaker's `clk`). No allocation after
 * construction. Exported for its test (test/unit/breakers.prop.test.ts), not part of the API.
 */
export class KeyTable {
  /** The key of the next operation. */
  readonly k = new Float64Array(4);
  private readonly keys: Float64Array;
  private readonly vals: Int32Array;
  private readonly used: Uint8Array;
  private readonly mask: number;
  constructor(entries: number) {
    let cap = 16;
    while (cap < 2 * entries) cap *= 2;
    this.mask = cap - 1;
    this.keys = new Float64Array(cap * 4);
    this.vals = new Int32Array(cap);
    this.used = new Uint8Array(cap);
  }
  private home(): number {
    const k = this.k;
    let h = 0x811c9dc5;
    for (let j = 0; j < 4; j++) {
      const v = k[j]!;
      h = Math.imul(h ^ (v | 0), 0x9e3779b1);
      h = Math.imul(h ^ ((v / 4294967296) | 0), 0x85ebca6b);
      h ^= h >>> 15;
    }
    return h & this.mask;
  }
  /** The slot holding `k`, or −1. */
  private find(): number {
    const k = this.k, keys = this.keys;
    for (let i = this.home(); this.used[i] === 1; i = (i + 1) & this.mask) {
      const b = i * 4;
      if (keys[b] === k[0] && keys[b + 1] === k[1] && keys[b + 2] === k[2] && keys[b + 3] === k[3]) return i;
    }
    return -1;
  }
  /** The value of `k`, or `absent`. */
  get(absent: number): number {
    const i = this.find();
    return i < 0 ? absent : this.vals[i]!;
  }
  /** Sets `k` to `v`. The caller keeps the entries within the capacity given at construction. */
  set(v: number): void {
    const k = this.k;
    let i = this.home();
    while (this.used[i] === 1) {
      const b = i * 4;
      if (this.keys[b] === k[0] && this.keys[b + 1] === k[1] && this.keys[b + 2] === k[2] && this.keys[b + 3] === k[3]) { this.vals[i] = v; return; }
      i = (i + 1) & this.mask;
    }
    const b = i * 4;
    this.keys[b] = k[0]!; this.keys[b + 1] = k[1]!; this.keys[b + 2] = k[2]!; this.keys[b + 3] = k[3]!;
    this.vals[i] = v;
    this.used[i] = 1;
  }
  /** Adds `d` to `k`'s value (absent = 0), removing the key at 0; returns the new value. */
  add(d: number): number {
    const i = this.find();
    if (i < 0) { if (d !== 0) this.set(d); return d; }
    const v = this.vals[i]! + d;
    if (v === 0) this.removeAt(i); else this.vals[i] = v;
    return v;
  }
  remove(): void {
    const i = this.find();
    if (i >= 0) this.removeAt(i);
  }
  private removeAt(i: number): void {
    const keys = this.keys, m = this.mask;
    // backward shift: move each later entry of the run into the hole if its home allows it
    let hole = i;
    for (let j = (i + 1) & m; this.used[j] === 1; j = (j + 1) & m) {
      const b = j * 4;
      this.k[0] = keys[b]!; this.k[1] = keys[b + 1]!; this.k[2] = keys[b + 2]!; this.k[3] = keys[b + 3]!;
      const h = this.home();
      // j's entry may move to `hole` unless its home lies cyclically in (hole, j]
      if (hole <= j ? (h > hole && h <= j) : (h > hole || h <= j)) continue;
      const hb = hole * 4;
      keys[hb] = keys[b]!; keys[hb + 1] = keys[b + 1]!; keys[hb + 2] = keys[b + 2]!; keys[hb + 3] = keys[b + 3]!;
      this.vals[hole] = this.vals[j]!;
      hole = j;
    }
    this.used[hole] = 0;
  }
  clear(): void { this.used.fill(0); }
}

/**
 * Fills inside the repeat window: a ring of (stamp, symbol, side, price, order id), time-ordered;
 * `perKey` counts the live entries per (symbol, side, price) and `byOrder` maps (order id, symbol,
 * side, price) to its live entry. Another fill of an order already in the window appends a fresh
 * entry and marks the old one dead, so the order counts once, from its latest fill.
 */
class FillRing {
  private readonly ts: Float64Array;
  private readonly sym: Float64Array;
  private readonly px: Float64Array;
  private readonly oid: Float64Array;
  private readonly side: Uint8Array;
  private readonly dead: Uint8Array;
  private readonly perKey: KeyTable;
  private readonly byOrder: KeyTable;
  private head = 0; // oldest
  private size = 0;
  /** The fill being added (`add` reads it: no double crosses a call). */
  readonly f = new Float64Array(4); // symbol, side, price, order id (< 0: unknown)
  constructor(private readonly cap: number, private readonly windowMs: number, private readonly clk: Float64Array) {
    this.ts = new Float64Array(cap);
    this.sym = new Float64Array(cap);
    this.px = new Float64Array(cap);
    this.oid = new Float64Array(cap);
    this.side = new Uint8Array(cap);
    this.dead = new Uint8Array(cap);
    this.perKey = new KeyTable(cap);
    this.byOrder = new KeyTable(cap);
  }
  private dropOldest(): void {
    const i = this.head;
    if (this.dead[i] === 0) {
      const k = this.perKey.k;
      k[0] = this.sym[i]!; k[1] = this.side[i]!; k[2] = this.px[i]!; k[3] = 0;
      this.perKey.add(-1);
      if (this.oid[i]! >= 0) {
        const o = this.byOrder.k;
        o[0] = this.oid[i]!; o[1] = this.sym[i]!; o[2] = this.side[i]!; o[3] = this.px[i]!;
        this.byOrder.remove();
      }
    }
    this.head = i + 1 === this.cap ? 0 : i + 1;
    this.size--;
  }
  /**
   * Records the fill in `f` and returns how many distinct orders filled at its symbol + side +
   * price in the window, this one included (an unknown order id: every fill counts).
   */
  add(): number {
    const t = this.clk[0]!;
    const f = this.f;
    while (this.size > 0 && this.ts[this.head]! <= t - this.windowMs) this.dropOldest();
    if (this.size === this.cap) this.dropOldest();
    let i = this.head + this.size;
    if (i >= this.cap) i -= this.cap;
    const known = f[3]! >= 0;
    const o = this.byOrder.k;
    o[0] = f[3]!; o[1] = f[0]!; o[2] = f[1]!; o[3] = f[2]!;
    const prev = known ? this.byOrder.get(-1) : -1;
    const k = this.perKey.k;
    k[0] = f[0]!; k[1] = f[1]!; k[2] = f[2]!; k[3] = 0;
    let n: number;
    if (prev >= 0) { this.dead[prev] = 1; n = this.perKey.get(0); } // the order already counts
    else n = this.perKey.add(1);
    this.ts[i] = t; this.sym[i] = f[0]!; this.side[i] = f[1]!; this.px[i] = f[2]!; this.oid[i] = f[3]!; this.dead[i] = 0;
    this.size++;
    if (known) this.byOrder.set(i);
    return n;
  }
  clear(): void { this.head = 0; this.size = 0; this.perKey.clear(); this.byOrder.clear(); }
}

/** New orders inside the duplicate window: a ring of (stamp, key), `counts` per key (symbol, side, price, qty). */
class OrderRing {
  private readonly ts: Float64Array;
  private readonly key: Float64Array; // 4 per entry: symbol, side, price, qty
  private readonly counts: KeyTable;
  private head = 0; // oldest
  private size = 0;
  /** The key of the order being checked or recorded. */
  readonly k: Float64Array;
  constructor(private readonly cap: number, private readonly windowMs: number, private readonly clk: Float64Array) {
    this.ts = new Float64Array(cap);
    this.key = new Float64Array(cap * 4);
    this.counts = new KeyTable(cap);
    this.k = this.counts.k;
  }
  private dropOldest(): void {
    const b = this.head * 4, k = this.k;
    const k0 = k[0]!, k1 = k[1]!, k2 = k[2]!, k3 = k[3]!;
    k[0] = this.key[b]!; k[1] = this.key[b + 1]!; k[2] = this.key[b + 2]!; k[3] = this.key[b + 3]!;
    this.counts.add(-1);
    k[0] = k0; k[1] = k1; k[2] = k2; k[3] = k3;
    this.head = this.head + 1 === this.cap ? 0 : this.head + 1;
    this.size--;
  }
  /** Orders in (t − W, t] with the key in `k`. */
  count(): number {
    const t = this.clk[0]!;
    while (this.size > 0 && this.ts[this.head]! <= t - this.windowMs) this.dropOldest();
    return this.counts.get(0);
  }
  /** Records an order with the key in `k`. */
  push(): void {
    if (this.size === this.cap) this.dropOldest();
    let i = this.head + this.size;
    if (i >= this.cap) i -= this.cap;
    this.ts[i] = this.clk[0]!;
    const b = i * 4, k = this.k;
    this.key[b] = k[0]!; this.key[b + 1] = k[1]!; this.key[b + 2] = k[2]!; this.key[b + 3] = k[3]!;
    this.counts.add(1);
    this.size++;
  }
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
  private readonly recent: OrderRing;
  /**
   * The time of the event being handled, for the rings: they read it here rather than take it as
   * an argument, because V8 boxes a double outside the small-integer range (a ms timestamp) that
   * crosses a call it did not inline — an allocation per event.
   */
  private readonly clk = new Float64Array(1);
  private errors = 0;
  private pnlBase = 0;
  private pnlPeak = 0;
  private pnlLast = 0;

  constructor(readonly limits: BreakerLimits, private readonly now: () => number) {
    this.orders = new StampRing(limits.maxOrdersPerSec, 1000, this.clk);
    this.messages = new StampRing(limits.maxMessagesPerSec, 1000, this.clk);
    // outcomes in the window are bounded by the orders the rate limit lets through (+ one second of stragglers)
    const perWindow = (w: number): number => limits.maxOrdersPerSec * (Math.ceil(w / 1000) + 1);
    this.outcomes = new OutcomeRing(Math.min(1 << 20, Math.max(1024, perWindow(limits.rejectWindowMs))), limits.rejectWindowMs, this.clk);
    this.fills = new FillRing(Math.min(1 << 16, Math.max(1024, limits.maxRepeatedExecutions + 1, perWindow(limits.repeatWindowMs))), limits.repeatWindowMs, this.clk);
    // every order the rate limit lets into the window fits: the duplicate count is exact
    this.recent = new OrderRing(perWindow(limits.duplicateWindowMs), limits.duplicateWindowMs, this.clk);
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
   * A symbol, side, price, qty or position that is not a finite number (qty ≤ 0 too) is
   * 'bad_order' and trips as well: the strategy computing it is broken.
   */
  checkNew(symbol: number, side: 0 | 1, price: number, qty: number, positionAfter: number): string | null {
    if (this.state === 'open') return 'breaker_open';
    const L = this.limits;
    const t = this.now();
    this.clk[0] = t;
    // NaN would slip past every comparison below (and a NaN key could never leave the duplicate table)
    if (!Number.isFinite(price) || !Number.isFinite(qty) || !(qty > 0) || !Number.isFinite(positionAfter) || !Number.isFinite(symbol) || (side !== 0 && side !== 1)) {
      return this.tripAt('bad_order', `order with symbol ${symbol}, side ${side}, price ${price}, qty ${qty}, position after ${positionAfter}`, t);
    }
    if (qty > L.maxOrderQty) return this.tripAt('max_order_qty', `order of ${qty} lots > ${L.maxOrderQty}`, t);
    const value = Math.abs(price) * qty;
    if (value > L.maxOrderValue) return this.tripAt('max_order_value', `order value ${value} > ${L.maxOrderValue}`, t);
    if (Math.abs(positionAfter) > L.maxPosition) return this.tripAt('max_position', `position after the order ${positionAfter} lots, limit ±${L.maxPosition}`, t);
    if (this.messages.wouldExceed()) return this.tripAt('message_rate', `more than ${L.maxMessagesPerSec} messages in 1 s`, t);
    if (this.orders.wouldExceed()) return this.tripAt('order_rate', `more than ${L.maxOrdersPerSec} orders in 1 s`, t);
    const rk = this.recent.k;
    rk[0] = symbol; rk[1] = side; rk[2] = price; rk[3] = qty;
    const dup = this.recent.count() + 1;
    if (dup > L.maxDuplicateOrders) return this.tripAt('duplicate_orders', `${dup} identical orders (symbol ${symbol} ${side === 0 ? 'buy' : 'sell'} ${qty} at ${price}) within ${L.duplicateWindowMs} ms`, t);
    this.orders.push();
    this.recent.push();
    return null;
  }

  /** Every command queued (new, cancel, modify). A cancel flood trips here. */
  onMessage(): void {
    const t = this.now();
    this.clk[0] = t;
    const over = this.messages.wouldExceed();
    this.messages.push();
    if (over) this.tripAt('message_rate', `more than ${this.limits.maxMessagesPerSec} messages in 1 s`, t);
  }

  onAccepted(): void { this.outcome(false); }
  onRejected(): void { this.outcome(true); }

  private outcome(rejected: boolean): void {
    const t = this.now();
    this.clk[0] = t;
    const o = this.outcomes;
    o.push(rejected);
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
    // engine fills are whole ticks; anything else is not counted (a NaN key could never leave the tables)
    if (!Number.isFinite(symbol) || !Number.isFinite(price) || (side !== 0 && side !== 1)) return;
    if (!Number.isFinite(orderId)) orderId = -1;
    const t = this.now();
    this.clk[0] = t;
    const f = this.fills.f;
    f[0] = symbol; f[1] = side; f[2] = price; f[3] = orderId;
    const n = this.fills.add();
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

/**
 * One symbol's look-back window: two monotonic deques of (stamp, price) — the window's running
 * minimum and maximum at their fronts — as rings in growable typed arrays (capacity a power of
 * two). `SymbolVelocity.onTrade` works on the arrays inline: a call that passed a stamp (a double
 * outside the small-integer range) to a helper V8 did not inline would box it on the heap.
 */
class SymbolWindow {
  minTs = new Float64Array(16);
  minPx = new Float64Array(16);
  minHead = 0;
  minSize = 0;
  maxTs = new Float64Array(16);
  maxPx = new Float64Array(16);
  maxHead = 0;
  maxSize = 0;
  pausedUntil = 0;
  reference = 0;
  constructor(readonly symbol: number) {}
  /** Doubles the min (or max) deque's arrays, oldest first. Allocates (only when a window holds more trades than ever before). */
  grow(max: boolean): void {
    const ts = max ? this.maxTs : this.minTs, px = max ? this.maxPx : this.minPx;
    const head = max ? this.maxHead : this.minHead, size = max ? this.maxSize : this.minSize;
    const n = ts.length;
    const nts = new Float64Array(n * 2), npx = new Float64Array(n * 2);
    for (let k = 0; k < size; k++) { const i = (head + k) & (n - 1); nts[k] = ts[i]!; npx[k] = px[i]!; }
    if (max) { this.maxTs = nts; this.maxPx = npx; this.maxHead = 0; } else { this.minTs = nts; this.minPx = npx; this.minHead = 0; }
  }
}

export class SymbolVelocity {
  private readonly bySymbol = new Map<number, SymbolWindow>();
  private readonly list: SymbolWindow[] = [];

  constructor(readonly limits: VelocityLimits, private readonly now: () => number) {}

  private win(symbol: number): SymbolWindow {
    let w = this.bySymbol.get(symbol);
    if (w === undefined) {
      w = new SymbolWindow(symbol);
      this.bySymbol.set(symbol, w);
      this.list.push(w);
    }
    return w;
  }

  onTrade(symbol: number, price: number): boolean {
    const t = this.now();
    const w = this.win(symbol);
    const before = t - this.limits.windowMs;
    // drop what left the window (stamps ≤ t − windowMs)
    let mask = w.minTs.length - 1;
    while (w.minSize > 0 && w.minTs[w.minHead]! <= before) { w.minHead = (w.minHead + 1) & mask; w.minSize--; }
    mask = w.maxTs.length - 1;
    while (w.maxSize > 0 && w.maxTs[w.maxHead]! <= before) { w.maxHead = (w.maxHead + 1) & mask; w.maxSize--; }
    let tripped = false;
    if (t >= w.pausedUntil) {
      const m = this.limits.movePct;
      // (p − lo)/lo > m/100, written without a division so the threshold is exact for integer ticks
      if (w.minSize > 0) {
        const lo = w.minPx[w.minHead]!;
        if (lo > 0 && (price - lo) * 100 > m * lo) { tripped = true; w.reference = lo; }
      }
      if (!tripped && w.maxSize > 0) {
        const hi = w.maxPx[w.maxHead]!;
        if (hi > 0 && (hi - price) * 100 > m * hi) { tripped = true; w.reference = hi; }
      }
      if (tripped) {
        w.pausedUntil = t + this.limits.pauseMs;
        w.minSize = 0; w.minHead = 0;
        w.maxSize = 0; w.maxHead = 0;
      }
    }
    // push onto both deques, dropping from the back what can never again be the extreme
    mask = w.minTs.length - 1;
    while (w.minSize > 0 && w.minPx[(w.minHead + w.minSize - 1) & mask]! >= price) w.minSize--;
    if (w.minSize === w.minTs.length) { w.grow(false); mask = w.minTs.length - 1; }
    let i = (w.minHead + w.minSize) & mask;
    w.minTs[i] = t; w.minPx[i] = price; w.minSize++;
    mask = w.maxTs.length - 1;
    while (w.maxSize > 0 && w.maxPx[(w.maxHead + w.maxSize - 1) & mask]! <= price) w.maxSize--;
    if (w.maxSize === w.maxTs.length) { w.grow(true); mask = w.maxTs.length - 1; }
    i = (w.maxHead + w.maxSize) & mask;
    w.maxTs[i] = t; w.maxPx[i] = price; w.maxSize++;
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
