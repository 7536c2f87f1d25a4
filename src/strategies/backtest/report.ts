/**
 * The backtest report: the strategy's orders and fills as the engine sequenced them, its P&L,
 * and the figures of docs/strategies.md "Backtests" (report fields).
 *
 * Owns: `ResultTracker` (fed by backtest.ts: the strategy's sequenced commands, the engine events of
 * its account, equity samples at bar boundaries, markout checkpoints) and the pure figure
 * functions (`sharpe`, `sortino`, `maxDrawdown`), which test/unit/backtest-report.test.ts checks by
 * hand.
 * Units: prices in ticks, quantities in lots, money in ticks × lots; times in ns (simulated) and
 * ms (bars, days).
 * Figures:
 * - P&L: cash (Σ sell px·q − Σ buy px·q, exact integers) + position × mark; realised by average
 *   cost (the part of P&L closed by offsetting fills), unrealised = total − realised; fees apart;
 *   net = total − fees. Mark: the mid, or the last trade when a side of the book is empty, else the
 *   average entry price (no unrealised P&L).
 * - Equity: net P&L sampled at every bar boundary (`barMs`) and at the end. Sharpe = mean / sample
 *   standard deviation of the per-bar equity changes × √(bars per year), bars per year =
 *   365 × 86,400,000 / barMs (markets open around the clock; no risk-free rate: P&L has no capital
 *   base); Sortino = mean / downside deviation (√(Σ min(r, 0)² / n), target 0) × the same factor;
 *   null when the deviation is 0 or fewer than 2 bars. Max drawdown: the largest fall of the
 *   sampled equity from its running peak (which starts at 0).
 * - Turnover: lots and notional (Σ px·q) filled. Trades: fills. Fill ratio: lots filled / lots of
 *   the new orders sent (sequenced), 0 when none.
 * - Markouts: for each fill and horizon h (1 s, 5 s, 60 s), (mid at fill time + h − fill price) in
 *   ticks, sign-adjusted to the fill's side (buy: mid − px, sell: px − mid), averaged per fill; the
 *   mid is the book after the last command sequenced at or before that time; fills whose horizon
 *   lies past the end of the input, or whose book has an empty side then, are left out (counted).
 * - Per day (UTC): net P&L change, fees, fills, lots, notional, orders, equity at the day's last sample.
 * Layout: rows in arrays (orders, fills, equity); per symbol position / average price / last
 * trade in Float64Arrays indexed by symbol id; markouts in one FIFO per horizon.
 * Invariants: fills are recorded in engine order; a fill where the strategy is both taker and maker
 * (a self-trade) is two fills. Complexity: O(1) per event, O(horizons) per fill.
 * Allocation: one row object per order and per fill (kept for the hash and the --json output).
 * Known limitations: drawdown and Sharpe see equity only at bar boundaries (not between them).
 */
import { ENUMS } from '../../abi/records.js';
import { evtAccount, evtId, evtMaker, evtMakerAccount, evtPrice, evtQty, evtSide, evtSymbol, evtTradeId, evtType } from '../../abi/views.js';
import type { FeeFn } from './fees.js';

export interface OrderRow {
  seq: number; tsNs: number; op: number; side: number; type: number; tif: number;
  symbol: number; id: number; price: number; qty: number;
}
export interface FillRow {
  seq: number; tsNs: number; tradeId: number; orderId: number; symbol: number; side: number;
  price: number; qty: number; liquidity: 'maker' | 'taker'; fee: number;
}
export interface DayRow { day: string; pnl: number; fees: number; fills: number; lots: number; notional: number; orders: number; equity: number }
export interface MarkoutRow { horizonMs: number; fills: number; excluded: number; avgTicks: number | null }
export interface EquityPoint { tMs: number; equity: number }

export interface Summary {
  pnl: { realised: number; unrealised: number; total: number; fees: number; net: number };
  sharpe: number | null;
  sortino: number | null;
  sampling: { barMs: number; bars: number; periodsPerYear: number };
  maxDrawdown: number;
  turnover: { lots: number; notional: number };
  trades: number;
  orders: { new: number; cancel: number; modify: number; rejected: number; lots: number };
  fillRatio: number;
  markouts: MarkoutRow[];
  positions: Record<string, number>;
}

export const MARKOUT_HORIZONS_MS = [1000, 5000, 60000] as const;
const YEAR_MS = 365 * 86_400_000;

/** Mean / sample standard deviation × √periodsPerYear; null for < 2 returns or no deviation. */
export function sharpe(r: readonly number[], periodsPerYear: number): number | null {
  const n = r.length;
  if (n < 2) return null;
  let m = 0;
  for (const x of r) m += x;
  m /= n;
  let v = 0;
  for (const x of r) v += (x - m) * (x - m);
  const sd = Math.sqrt(v / (n - 1));
  return sd > 0 ? (m / sd) * Math.sqrt(periodsPerYear) : null;
}

/** Mean / downside deviation (target 0, over all n returns) × √periodsPerYear; null for < 2 returns or no downside. */
export function sortino(r: readonly number[], periodsPerYear: number): number | null {
  const n = r.length;
  if (n < 2) return null;
  let m = 0;
  let d = 0;
  for (const x of r) { m += x; if (x < 0) d += x * x; }
  m /= n;
  const dd = Math.sqrt(d / n);
  return dd > 0 ? (m / dd) * Math.sqrt(periodsPerYear) : null;
}

/** Largest fall from the running peak (the peak starts at 0: the equity before the first sample). */
export function maxDrawdown(equity: readonly number[]): number {
  let peak = 0;
  let dd = 0;
  for (const e of equity) {
    if (e > peak) peak = e;
    if (peak - e > dd) dd = peak - e;
  }
  return dd;
}

export function utcDay(ms: number): string { return new Date(ms).toISOString().slice(0, 10); }

interface Pending { dueNs: number; symbol: number; side: number; price: number }

/** Marks used by the tracker: mid (NaN when a side is empty) and the fallback mark. */
export interface Marks { mid(symbol: number): number }

export class ResultTracker {
  readonly orders: OrderRow[] = [];
  readonly fills: FillRow[] = [];
  readonly equity: EquityPoint[] = [];
  private readonly pos: Float64Array;
  private readonly avg: Float64Array;
  private readonly lastTrade: Float64Array;
  private cash = 0;
  private realised = 0;
  private fees = 0;
  private lots = 0;
  private notional = 0;
  private counts = { new: 0, cancel: 0, modify: 0, rejected: 0, lots: 0 };
  private readonly pending: Pending[][] = MARKOUT_HORIZONS_MS.map(() => []);
  private readonly head = MARKOUT_HORIZONS_MS.map(() => 0);
  private readonly mk = MARKOUT_HORIZONS_MS.map(() => ({ sum: 0, n: 0, excluded: 0 }));
  private readonly days = new Map<string, DayRow>();
  private strategySeqs = new Set<number>();
  private nextDue = Number.POSITIVE_INFINITY;

  constructor(readonly account: number, private readonly symbolNames: readonly string[], private readonly fee: FeeFn, readonly barMs: number) {
    const n = symbolNames.length;
    this.pos = new Float64Array(n);
    this.avg = new Float64Array(n);
    this.lastTrade = new Float64Array(n).fill(Number.NaN);
  }

  private day(ms: number): DayRow {
    const k = utcDay(ms);
    let d = this.days.get(k);
    if (!d) { d = { day: k, pnl: 0, fees: 0, fills: 0, lots: 0, notional: 0, orders: 0, equity: Number.NaN }; this.days.set(k, d); }
    return d;
  }

  /** A strategy command the engine is about to sequence as `seq`. */
  onSent(seq: number, tsNs: number, op: number, side: number, type: number, tif: number, symbol: number, id: number, price: number, qty: number): void {
    this.orders.push({ seq, tsNs, op, side, type, tif, symbol, id, price, qty });
    this.strategySeqs.add(seq);
    if (op === ENUMS.Op.NEW) { this.counts.new++; this.counts.lots += qty; this.day(tsNs / 1e6).orders++; }
    else if (op === ENUMS.Op.CANCEL) this.counts.cancel++;
    else if (op === ENUMS.Op.MODIFY) this.counts.modify++;
  }

  /** Every engine event (the tracker keeps what concerns the strategy's account; trades for marks). */
  onEvent(dv: DataView, p: number, seq: number, tsNs: number): void {
    const t = evtType(dv, p);
    if (t === ENUMS.EvtType.TRADE) {
      const sym = evtSymbol(dv, p);
      const px = evtPrice(dv, p);
      if (sym < this.lastTrade.length) this.lastTrade[sym] = px;
      const taker = evtAccount(dv, p) === this.account;
      const maker = evtMakerAccount(dv, p) === this.account;
      if (!taker && !maker) return;
      const side = evtSide(dv, p);
      const qty = evtQty(dv, p);
      const tid = evtTradeId(dv, p);
      if (taker) this.fill(seq, tsNs, tid, evtId(dv, p), sym, side, px, qty, 'taker');
      if (maker) this.fill(seq, tsNs, tid, evtMaker(dv, p), sym, side ^ 1, px, qty, 'maker');
    } else if (t === ENUMS.EvtType.REJECTED && this.strategySeqs.has(seq)) {
      this.counts.rejected++;
    }
  }

  private fill(seq: number, tsNs: number, tradeId: number, orderId: number, sym: number, side: number, px: number, qty: number, liq: 'maker' | 'taker'): void {
    const fee = this.fee(sym, liq, px, qty);
    this.fills.push({ seq, tsNs, tradeId, orderId, symbol: sym, side, price: px, qty, liquidity: liq, fee });
    const s = side === 0 ? 1 : -1;
    const p0 = this.pos[sym]!;
    const q = s * qty;
    if (p0 === 0 || Math.sign(p0) === s) {
      this.avg[sym] = (this.avg[sym]! * Math.abs(p0) + px * qty) / (Math.abs(p0) + qty);
    } else {
      const closed = Math.min(qty, Math.abs(p0));
      this.realised += (px - this.avg[sym]!) * closed * Math.sign(p0);
      if (qty > Math.abs(p0)) this.avg[sym] = px; // flipped: the rest opens at px
      else if (closed === Math.abs(p0)) this.avg[sym] = 0;
    }
    this.pos[sym] = p0 + q;
    this.cash -= q * px;
    this.fees += fee;
    this.lots += qty;
    this.notional += px * qty;
    const d = this.day(tsNs / 1e6);
    d.fees += fee; d.fills++; d.lots += qty; d.notional += px * qty;
    for (let h = 0; h < MARKOUT_HORIZONS_MS.length; h++) {
      const due = tsNs + MARKOUT_HORIZONS_MS[h]! * 1e6;
      this.pending[h]!.push({ dueNs: due, symbol: sym, side, price: px });
      if (due < this.nextDue) this.nextDue = due;
    }
  }

  /** The earliest markout due (ns), +∞ when none (cached: called once per engine batch). */
  nextMarkoutNs(): number { return this.nextDue; }

  private recomputeDue(): void {
    let m = Number.POSITIVE_INFINITY;
    for (let h = 0; h < this.pending.length; h++) {
      const q = this.pending[h]!;
      const i = this.head[h]!;
      if (i < q.length && q[i]!.dueNs < m) m = q[i]!.dueNs;
    }
    this.nextDue = m;
  }

  /** Resolves every markout due at or before `tNs` against the current book. */
  resolveMarkouts(tNs: number, marks: Marks): void {
    for (let h = 0; h < this.pending.length; h++) {
      const q = this.pending[h]!;
      const acc = this.mk[h]!;
      let i = this.head[h]!;
      while (i < q.length && q[i]!.dueNs <= tNs) {
        const f = q[i++]!;
        const mid = marks.mid(f.symbol);
        if (Number.isNaN(mid)) { acc.excluded++; continue; }
        acc.sum += f.side === 0 ? mid - f.price : f.price - mid;
        acc.n++;
      }
      this.head[h] = i;
      if (i > 4096 && i * 2 > q.length) { q.splice(0, i); this.head[h] = 0; }
    }
    this.recomputeDue();
  }

  /** Mark of a symbol: mid, else last trade, else the entry price (no unrealised P&L). */
  private mark(sym: number, marks: Marks): number {
    const m = marks.mid(sym);
    if (!Number.isNaN(m)) return m;
    const t = this.lastTrade[sym]!;
    return Number.isNaN(t) ? this.avg[sym]! : t;
  }

  /** Gross P&L now (realised, unrealised at the marks). */
  pnl(marks: Marks): { realised: number; unrealised: number; total: number } {
    let total = this.cash;
    for (let s = 0; s < this.pos.length; s++) if (this.pos[s] !== 0) total += this.pos[s]! * this.mark(s, marks);
    return { realised: this.realised, unrealised: total - this.realised, total };
  }

  /** Samples net equity at `tMs` (a bar boundary or the end). */
  sample(tMs: number, marks: Marks): void {
    const e = this.pnl(marks).total - this.fees;
    this.equity.push({ tMs, equity: e });
    this.day(tMs).equity = e;
  }

  /** Markouts still pending at the end are counted as excluded. */
  summary(marks: Marks): { summary: Summary; days: DayRow[] } {
    for (let h = 0; h < this.pending.length; h++) this.mk[h]!.excluded += this.pending[h]!.length - this.head[h]!;
    const p = this.pnl(marks);
    const eq = this.equity.map((x) => x.equity);
    const r: number[] = [];
    for (let i = 0; i < eq.length; i++) r.push(eq[i]! - (i === 0 ? 0 : eq[i - 1]!));
    const ppy = YEAR_MS / this.barMs;
    const days = [...this.days.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
    let prev = 0;
    // a day without an equity sample (activity, then no bar boundary before the input ended on a
    // later day) keeps the previous equity: its P&L shows on the next sampled day
    for (const d of days) { if (Number.isNaN(d.equity)) d.equity = prev; d.pnl = d.equity - prev; prev = d.equity; }
    const positions: Record<string, number> = {};
    for (let s = 0; s < this.pos.length; s++) if (this.pos[s] !== 0) positions[this.symbolNames[s]!] = this.pos[s]!;
    return {
      days,
      summary: {
        pnl: { realised: p.realised, unrealised: p.unrealised, total: p.total, fees: this.fees, net: p.total - this.fees },
        sharpe: sharpe(r, ppy), sortino: sortino(r, ppy),
        sampling: { barMs: this.barMs, bars: r.length, periodsPerYear: ppy },
        maxDrawdown: maxDrawdown(eq),
        turnover: { lots: this.lots, notional: this.notional },
        trades: this.fills.length,
        orders: { ...this.counts },
        fillRatio: this.counts.lots > 0 ? this.lots / this.counts.lots : 0,
        markouts: MARKOUT_HORIZONS_MS.map((h, i) => ({ horizonMs: h, fills: this.mk[i]!.n, excluded: this.mk[i]!.excluded, avgTicks: this.mk[i]!.n > 0 ? this.mk[i]!.sum / this.mk[i]!.n : null })),
        positions,
      },
    };
  }
}
