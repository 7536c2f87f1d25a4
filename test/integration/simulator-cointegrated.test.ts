/**
 * The simulator's cointegrated market (what `tradsys serve` runs by default) against a real
 * gateway (engine thread, risk on): on the built-in instruments no simulated order is refused
 * (every one inside its collar band), the books trade, they sit around each reference price, and
 * each book's touch is on its side of the fair value (stale quotes are pulled).
 * Bounded in orders, no timing assertions. The market's statistics: test/unit/cointegrated.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../src/gateway/gateway.js';
import { Simulator } from '../../src/sim/simulator.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let gw: Gateway | null = null;
afterEach(async () => { await gw?.close(); gw = null; });

describe('the simulator\'s cointegrated market', () => {
  it('on the built-in instruments: no simulated order refused, trades, books around the reference prices', async () => {
    gw = await Gateway.build({ dataDir: mkdtempSync(join(tmpdir(), 'gwsimc-')), capacity: 100_000 });
    const g = gw;
    const ids: number[] = [];
    const send = g.simOrder.bind(g);
    g.simOrder = (o) => { const id = send(o); if (id !== null) ids.push(id); return id; };
    // the serve defaults per simulated second, at 1 ms ticks: the market runs 20× faster than in serve
    const sim = new Simulator(g, { seed: 11, intervalMs: 1, market: 'cointegrated' });
    expect(sim.marketKind).toBe('cointegrated');
    sim.start();
    const deadline = Date.now() + 20_000;
    while (ids.length < 800 && Date.now() < deadline) await sleep(10);
    sim.stop();
    for (let i = 0; i < 500 && ids.some((id) => g.orders.get(id)?.status === 'pending'); i++) { g.pump(); await sleep(10); }
    expect(ids.length).toBeGreaterThanOrEqual(800);
    const st: Record<string, number> = {};
    for (const id of ids) { const s = g.orders.get(id)?.status ?? 'gone'; st[s] = (st[s] ?? 0) + 1; }
    expect(st.rejected ?? 0, JSON.stringify(st)).toBe(0);
    expect(st.pending ?? 0).toBe(0);
    expect(st.filled ?? 0, JSON.stringify(st)).toBeGreaterThan(0);
    // the participants pull what the fair value moved through: every book's touch is on its side of the fair value
    // (the last pulls' cancels may still be on their way: bounded wait)
    const through = (s: number): boolean => (g.book.levelCount(s, 0) > 0 && g.book.levelPrice(s, 0, 0) >= sim.fairValue(s)) || (g.book.levelCount(s, 1) > 0 && g.book.levelPrice(s, 1, 0) <= sim.fairValue(s));
    for (let i = 0; i < 300 && g.instruments.some((_, s) => through(s)); i++) { g.pump(); await sleep(10); }
    for (let s = 0; s < g.instruments.length; s++) {
      const fair = sim.fairValue(s);
      if (g.book.levelCount(s, 0) > 0) expect(g.book.levelPrice(s, 0, 0), `${g.instruments[s]!.symbol} best bid vs fair ${fair}`).toBeLessThan(fair);
      if (g.book.levelCount(s, 1) > 0) expect(g.book.levelPrice(s, 1, 0), `${g.instruments[s]!.symbol} best ask vs fair ${fair}`).toBeGreaterThan(fair);
    }
    const base = await g.listen(0);
    for (const [sym, ref] of [['BTC-USD', 60_000], ['ETH-USD', 3_000], ['AAPL', 190], ['EURUSD', 1.08]] as const) {
      const book = await (await fetch(`${base}/api/v1/book/${sym}?depth=1000`)).json() as { bids: string[][]; asks: string[][] };
      const prices = [...book.bids, ...book.asks].map(([p]) => Number(p));
      for (const p of prices) expect(Math.abs(p - ref) / ref, `${sym} ${p}`).toBeLessThan(0.05);
    }
  }, 60_000);

  it('refuses a market it does not know', async () => {
    gw = await Gateway.build({ dataDir: mkdtempSync(join(tmpdir(), 'gwsimc2-')), capacity: 1_000 });
    expect(() => new Simulator(gw!, { market: 'brownian' as never })).toThrow(/market must be walk or cointegrated/);
    expect(() => new Simulator(gw!, { market: 'cointegrated', cointegration: { groups: [['AAPL', 'AAPL']] } })).toThrow(/more than one group/);
  }, 60_000);
});
