/**
 * Avellaneda–Stoikov (2008) quoting, free of order plumbing: reservation price, optimal spread,
 * tick rounding with post-only safety, and an online volatility estimate of the mid.
 *
 * Method: with mid s (ticks), inventory q (in quote-size units: position / qty), risk aversion γ,
 * mid variance σ² per second (ticks²/s), order-arrival decay κ (per tick) and horizon τ:
 *   reservation  r = s − q·γ·σ²·τ
 *   spread       δ = γ·σ²·τ + (2/γ)·ln(1 + γ/κ)
 *   quotes       bid = r − δ/2, ask = r + δ/2.
 * The paper's T − t (time to a terminal date) is replaced by a constant τ — the rolling-horizon
 * variant used in practice for a market maker that runs continuously: every moment is treated as
 * τ before a terminal time that keeps moving, so the inventory penalty and the spread do not
 * collapse towards a close. Rounding: bid down and ask up to whole ticks (never tighter than the
 * model), then at least `minSpread` ticks apart, then kept one tick off the other side's best (a
 * post-only quote that would cross is rejected), bid ≥ 1.
 * Volatility: EWMA variance (tradsys/stats Ewma, pandas adjust=False) of the mid's changes
 * sampled every `sampleMs`, scaled to per second; `initialSigma` stands in until `warmup` samples.
 * Layout: pure functions plus `MidVolatility` (one Ewma block).
 * Invariants: δ > 0 for γ, κ > 0; rounded bid < ask.
 * Complexity: O(1). Allocation: none per call (quotes go into a caller-owned object).
 * Known limitations: κ from trade arrivals (KappaEstimator) is the plain exponential MLE of trade
 * distances; σ is the mid's, own quotes included when the caller does not take them out of the mid.
 */
import { Ewma } from '../stats/index.js';
import { bad, positive } from './stat-arb/input.js';

export function reservationPrice(s: number, q: number, gamma: number, sigma2: number, tau: number): number {
  return s - q * gamma * sigma2 * tau;
}

export function optimalSpread(gamma: number, sigma2: number, tau: number, kappa: number): number {
  return gamma * sigma2 * tau + (2 / gamma) * Math.log1p(gamma / kappa);
}

export interface AsParams { gamma: number; kappa: number; tau: number }

export function checkAsParams(p: AsParams): void {
  positive('gamma', p.gamma);
  positive('kappa', p.kappa);
  positive('tau (horizon)', p.tau);
}

export interface Quotes {
  reservation: number;
  spread: number;
  /** Unrounded model quotes. */
  bidModel: number;
  askModel: number;
  /** Whole-tick quotes (0 when no valid price). */
  bid: number;
  ask: number;
}

export function newQuotes(): Quotes { return { reservation: 0, spread: 0, bidModel: 0, askModel: 0, bid: 0, ask: 0 }; }

/**
 * Model quotes for mid `s`, inventory `q` (quote units), variance `sigma2` (ticks²/s), rounded to
 * ticks and kept off the other side: `otherBid` / `otherAsk` are the best prices of everyone else
 * (0 when none). Writes `out` and returns it.
 */
export function asQuotes(out: Quotes, s: number, q: number, sigma2: number, p: AsParams, minSpread: number, otherBid: number, otherAsk: number): Quotes {
  if (!Number.isFinite(s) || !Number.isFinite(q) || !(sigma2 >= 0)) bad(`quotes need a finite mid, inventory and variance ≥ 0, got s=${s} q=${q} sigma2=${sigma2}`);
  const r = reservationPrice(s, q, p.gamma, sigma2, p.tau);
  const d = optimalSpread(p.gamma, sigma2, p.tau, p.kappa);
  out.reservation = r;
  out.spread = d;
  out.bidModel = r - d / 2;
  out.askModel = r + d / 2;
  let bid = Math.floor(out.bidModel);
  let ask = Math.ceil(out.askModel);
  if (ask - bid < minSpread) {
    const widen = minSpread - (ask - bid);
    bid -= Math.floor(widen / 2);
    ask += Math.ceil(widen / 2);
  }
  if (otherAsk > 0 && bid >= otherAsk) bid = otherAsk - 1;
  if (otherBid > 0 && ask <= otherBid) ask = otherBid + 1;
  out.bid = bid >= 1 ? bid : 0;
  out.ask = ask > out.bid ? ask : out.bid + 1;
  return out;
}

/** EWMA variance of mid changes per second, from mids sampled every `sampleMs`. */
export class MidVolatility {
  private readonly ewma: Ewma;
  private last = Number.NaN;
  samples = 0;
  constructor(readonly sampleMs: number, halflife: number, readonly initialSigma: number, readonly warmup: number) {
    positive('volatility sampleMs', sampleMs);
    positive('volatility halflife', halflife);
    if (!(initialSigma >= 0) || !Number.isFinite(initialSigma)) bad(`initialSigma must be ≥ 0, got ${initialSigma}`);
    this.ewma = new Ewma({ halflife });
  }
  /** One sampled mid (NaN: no mid now, the sample is skipped). */
  sample(mid: number): void {
    if (mid !== mid) return;
    if (this.last === this.last) { this.ewma.push(mid - this.last); this.samples++; }
    this.last = mid;
  }
  /** σ² in ticks² per second. */
  get sigma2(): number {
    if (this.samples < this.warmup) return this.initialSigma * this.initialSigma;
    // E[Δ²] (the EWMA variance plus the squared EWMA mean): a drift is risk to a quoter too
    const m = this.ewma.mean;
    return (this.ewma.variance + m * m) * (1000 / this.sampleMs);
  }
}

/**
 * κ from trade arrivals: with fill intensity λ(δ) = A·e^(−κδ) at distance δ from the mid, the
 * distances of trades from the mid are exponential with rate κ, whose maximum-likelihood estimate
 * is 1 / mean distance; the mean is an EWMA over trades (half-life in trades), floored at 0.1 tick
 * (κ ≤ 10). Until `minTrades` trades the parameter stands in. A rough estimate — a trade's distance
 * also reflects where liquidity sat and how far a market order walked the book.
 */
export class KappaEstimator {
  private mean = 0;
  private readonly alpha: number;
  trades = 0;
  constructor(halflifeTrades: number, readonly minTrades: number) {
    positive('kappa half-life (trades)', halflifeTrades);
    this.alpha = 1 - Math.exp(-Math.LN2 / halflifeTrades);
  }
  /** One trade at `distance` ticks from the mid (its absolute value is used). */
  onTrade(distance: number): void {
    if (!Number.isFinite(distance)) return;
    const d = Math.abs(distance);
    this.mean = this.trades === 0 ? d : this.mean + this.alpha * (d - this.mean);
    this.trades++;
  }
  /** The estimate, or `fallback` before `minTrades` trades. */
  kappa(fallback: number): number {
    return this.trades < this.minTrades ? fallback : 1 / Math.max(0.1, this.mean);
  }
}
