/**
 * Built-in market simulator for `tradsys serve`: simulated participants place and cancel limit
 * orders around a random-walk fair value per symbol and now and then take liquidity, so books and
 * trades are alive without any client. Orders go through the gateway's own order path (registry +
 * engine thread), from accounts 1,000,000 and up. Each symbol's fair value starts at its
 * instrument's reference price (`referencePrice`, the centre of its static collar band, so the
 * first orders are inside the band); an instrument without one starts at SIM_FALLBACK_FAIR_TICKS.
 *
 * Invariants: prices and quantities are exact multiples of each instrument's tick and lot;
 * the number of simulated resting orders per symbol stays bounded (oldest cancelled first).
 * Allocation: a few objects per simulated order (not the engine's hot path).
 * Known limitations: one timer on the main thread; rates are modest by design (a demo feed).
 */
import { prng } from '../workload/generator.js';
import type { Gateway } from '../gateway/gateway.js';

/**
 * Starting fair value, in ticks, of an instrument without a reference price: far enough from 0
 * that the simulator's offsets (≤ 20 ticks) stay within a ±10 % collar around the first trades.
 */
export const SIM_FALLBACK_FAIR_TICKS = 10_000;

/** The simulator's starting fair value of an instrument, in ticks: its reference price, else the fallback. */
export function simStartTicks(ins: { referenceTicks: bigint | null }): number {
  return ins.referenceTicks !== null && ins.referenceTicks <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(ins.referenceTicks) : SIM_FALLBACK_FAIR_TICKS;
}

export interface SimOptions { seed?: number; intervalMs?: number; ordersPerTick?: number; maxResting?: number }

export class Simulator {
  private timer: NodeJS.Timeout | null = null;
  private readonly rnd: () => number;
  private readonly fair: number[];
  private readonly resting: number[][];
  private seq = 0;
  placed = 0;

  constructor(private readonly gw: Gateway, private readonly opts: SimOptions = {}) {
    this.rnd = prng(opts.seed ?? 7);
    // fair values in ticks: each instrument's reference price (one source of truth), else the fallback
    this.fair = gw.instruments.map((ins) => simStartTicks(ins));
    this.resting = gw.instruments.map(() => []);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.opts.intervalMs ?? 20);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private tick(): void {
    const n = this.opts.ordersPerTick ?? 4;
    for (let k = 0; k < n; k++) {
      const s = Math.floor(this.rnd() * this.gw.instruments.length);
      const ins = this.gw.instruments[s]!;
      // random walk of the fair value, ± 1 tick
      const w = this.rnd();
      if (w < 0.1) this.fair[s]! += 1; else if (w < 0.2 && this.fair[s]! > 10) this.fair[s]! -= 1;
      const fair = this.fair[s]!;
      const list = this.resting[s]!;
      const account = 1_000_000 + Math.floor(this.rnd() * 20);
      if (list.length > (this.opts.maxResting ?? 200) || (list.length > 10 && this.rnd() < 0.3)) {
        const id = list.shift()!;
        this.gw.simCancel(id);
        continue;
      }
      const side = this.rnd() < 0.5 ? 0 : 1;
      const lots = Math.max(ins.minLots, 1 + Math.floor(this.rnd() * this.rnd() * 50));
      if (this.rnd() < 0.08) {
        this.gw.simOrder({ account, clientOrderId: `sim${++this.seq}`, symbol: s, side, market: true, price: 0n, qty: lots });
        continue;
      }
      const off = 1 + Math.floor(this.rnd() * this.rnd() * 20);
      const price = BigInt(side === 0 ? Math.max(1, fair - off) : fair + off);
      const id = this.gw.simOrder({ account, clientOrderId: `sim${++this.seq}`, symbol: s, side, market: false, price, qty: lots });
      if (id !== null) list.push(id);
      this.placed++;
    }
  }
}
