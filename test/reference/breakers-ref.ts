/**
 * Plain reference of the circuit breakers (src/strategies/breakers.ts), written for obviousness:
 * every event kept in an array, every window found by scanning all of them. src/ never imports it.
 * Same contract: a limit is the largest value allowed; windows are (t − W, t].
 */
import type { BreakerLimits, Trip } from '../../src/strategies/breakers.js';

export class RefBreaker {
  state: 'closed' | 'open' | 'half_open' = 'closed';
  trip: Trip | null = null;
  trips = 0;
  pending: Trip | null = null;
  halfOpenAt = 0;
  orders: number[] = [];
  messages: number[] = [];
  outcomes: { t: number; rej: boolean }[] = [];
  outcomesFrom = 0;
  fills: { t: number; sym: number; side: number; px: number; oid: number }[] = [];
  fillsFrom = 0;
  errors = 0;
  base = 0; peak = 0; last = 0;
  constructor(readonly L: BreakerLimits, readonly now: () => number) {}

  getState(): string {
    if (this.state === 'half_open' && this.now() - this.halfOpenAt >= this.L.halfOpenMs) { this.state = 'closed'; this.trip = null; }
    return this.state;
  }
  private in(ts: number[], t: number, w: number): number { return ts.filter((x) => x > t - w).length; }
  open(reason: string, t: number): string {
    if (this.getState() === 'open') return reason;
    this.state = 'open';
    this.trip = { reason, detail: '', at: t };
    this.pending = this.trip;
    this.trips++;
    return reason;
  }
  checkNew(price: number, qty: number, pos: number): string | null {
    if (this.getState() === 'open') return 'breaker_open';
    const t = this.now();
    if (qty > this.L.maxOrderQty) return this.open('max_order_qty', t);
    if (Math.abs(price) * qty > this.L.maxOrderValue) return this.open('max_order_value', t);
    if (Math.abs(pos) > this.L.maxPosition) return this.open('max_position', t);
    if (this.in(this.messages, t, 1000) + 1 > this.L.maxMessagesPerSec) return this.open('message_rate', t);
    if (this.in(this.orders, t, 1000) + 1 > this.L.maxOrdersPerSec) return this.open('order_rate', t);
    this.orders.push(t);
    return null;
  }
  onMessage(): void {
    const t = this.now();
    this.messages.push(t);
    if (this.in(this.messages, t, 1000) > this.L.maxMessagesPerSec) this.open('message_rate', t);
  }
  outcome(rej: boolean): void {
    const t = this.now();
    this.outcomes.push({ t, rej });
    const w = this.outcomes.slice(this.outcomesFrom).filter((o) => o.t > t - this.L.rejectWindowMs);
    const r = w.filter((o) => o.rej).length;
    if (w.length >= this.L.minOrdersForRejectRatio && r > this.L.maxRejectRatio * w.length) this.open('reject_ratio', t);
  }
  onFill(sym: number, side: number, px: number, oid: number): void {
    const t = this.now();
    this.fills.push({ t, sym, side, px, oid });
    // distinct orders with a fill at this key in the window (an order's latest fill decides whether it is in)
    const latest = new Map<number, number>();
    let anon = 0;
    for (const f of this.fills.slice(this.fillsFrom)) {
      if (f.sym !== sym || f.side !== side || f.px !== px) continue;
      if (f.oid < 0) { if (f.t > t - this.L.repeatWindowMs) anon++; } else latest.set(f.oid, f.t);
    }
    let n = anon;
    for (const ft of latest.values()) if (ft > t - this.L.repeatWindowMs) n++;
    if (n > this.L.maxRepeatedExecutions) this.open('repeated_executions', t);
  }
  onPnl(total: number): void {
    this.last = total;
    this.peak = Math.max(this.peak, total);
    if (this.base - total > this.L.maxLoss) { this.open('max_loss', this.now()); return; }
    if (this.peak - total > this.L.maxDrawdown) this.open('max_drawdown', this.now());
  }
  onHookError(): void { this.errors++; if (this.errors > this.L.maxConsecutiveErrors) this.open('consecutive_errors', this.now()); }
  onHookOk(): void { this.errors = 0; }
  takeTrip(): Trip | null { const p = this.pending; this.pending = null; return p; }
  /** 'refused' before the cooldown, 'noop' when not open, 'ok' otherwise. */
  reset(): string {
    if (this.getState() !== 'open') return 'noop';
    const t = this.now();
    if (t - this.trip!.at < this.L.cooldownMs) return 'refused';
    this.state = 'half_open';
    this.halfOpenAt = t;
    this.pending = null;
    this.base = this.last; this.peak = this.last;
    this.outcomesFrom = this.outcomes.length;
    this.fillsFrom = this.fills.length;
    this.errors = 0;
    return 'ok';
  }
}

/** Velocity reference: every trade kept; the window min/max found by scanning. */
export class RefVelocity {
  trades = new Map<number, { t: number; p: number }[]>();
  from = new Map<number, number>();
  until = new Map<number, number>();
  constructor(readonly movePct: number, readonly windowMs: number, readonly pauseMs: number, readonly now: () => number) {}
  onTrade(sym: number, p: number): boolean {
    const t = this.now();
    const all = this.trades.get(sym) ?? [];
    this.trades.set(sym, all);
    let tripped = false;
    if (t >= (this.until.get(sym) ?? 0)) {
      const w = all.slice(this.from.get(sym) ?? 0).filter((x) => x.t > t - this.windowMs).map((x) => x.p);
      if (w.length > 0) {
        const lo = Math.min(...w), hi = Math.max(...w);
        // exact: movePct in hundredths of a percent, integer ticks, BigInt
        const mh = BigInt(Math.round(this.movePct * 100));
        tripped = (BigInt(p) - BigInt(lo)) * 10_000n > mh * BigInt(lo) || (BigInt(hi) - BigInt(p)) * 10_000n > mh * BigInt(hi);
      }
      if (tripped) { this.until.set(sym, t + this.pauseMs); this.from.set(sym, all.length); }
    }
    all.push({ t, p });
    return tripped;
  }
  paused(sym: number): boolean { return this.now() < (this.until.get(sym) ?? 0); }
}
