/**
 * The market simulator and the instruments' reference prices (docs/risk.md "Fat-finger
 * protection"): every built-in instrument has a reference price (the static collar band before
 * its first trade), and the simulator starts each symbol's fair value from it — one source of
 * truth — so its orders land inside the band; an instrument without one starts at the documented
 * fallback. Run against a real gateway (engine thread, risk on), bounded in orders, no timing
 * assertions.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../src/gateway/gateway.js';
import { DEMO_INSTRUMENTS, loadInstruments, type InstrumentSpec } from '../../src/domain/instruments.js';
import { SIM_FALLBACK_FAIR_TICKS, Simulator, simStartTicks } from '../../src/sim/simulator.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let gw: Gateway | null = null;
afterEach(async () => { await gw?.close(); gw = null; });

/** Runs the simulator until it has sent `n` orders (or 20 s passed); returns every order id it sent, once all are answered. */
async function simulate(g: Gateway, n: number): Promise<number[]> {
  const ids: number[] = [];
  const send = g.simOrder.bind(g);
  g.simOrder = (o) => { const id = send(o); if (id !== null) ids.push(id); return id; }; // records, then the real call
  const sim = new Simulator(g, { seed: 11, intervalMs: 1 });
  sim.start();
  const deadline = Date.now() + 20_000;
  while (ids.length < n && Date.now() < deadline) await sleep(10);
  sim.stop();
  for (let i = 0; i < 500 && ids.some((id) => g.orders.get(id)?.status === 'pending'); i++) { g.pump(); await sleep(10); }
  expect(ids.length).toBeGreaterThanOrEqual(n);
  return ids;
}

function statuses(g: Gateway, ids: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) { const s = g.orders.get(id)?.status ?? 'gone'; out[s] = (out[s] ?? 0) + 1; }
  return out;
}

describe('reference prices and the market simulator', () => {
  it('every built-in instrument has a reference price, and the simulator starts from it', () => {
    const ins = loadInstruments(DEMO_INSTRUMENTS);
    for (const i of ins) {
      expect(i.referenceTicks, i.symbol).not.toBeNull();
      expect(simStartTicks(i), i.symbol).toBe(Number(i.referenceTicks));
    }
    expect(ins.map((i) => [i.symbol, i.toJSON().referencePrice])).toEqual([
      ['BTC-USD', '60000.0'], ['ETH-USD', '3000.00'], ['SOL-USD', '150.000'], ['AAPL', '190.00'], ['MSFT', '410.00'], ['EURUSD', '1.08000'],
    ]);
    // an instrument without one: the documented fallback
    const [bare] = loadInstruments([{ symbol: 'BARE', tickSize: '0.01', lotSize: '1' }]);
    expect(simStartTicks(bare!)).toBe(SIM_FALLBACK_FAIR_TICKS);
  });

  it('on the built-in instruments, no simulated order is refused (every one inside its collar band)', async () => {
    gw = await Gateway.build({ dataDir: mkdtempSync(join(tmpdir(), 'gwsim-')), capacity: 100_000 });
    const ids = await simulate(gw, 600);
    const st = statuses(gw, ids);
    expect(st.rejected ?? 0, JSON.stringify(st)).toBe(0);
    expect(st.pending ?? 0).toBe(0);
    expect((st.open ?? 0) + (st.filled ?? 0)).toBeGreaterThan(0);
  }, 60_000);

  it('on other instruments, the simulator follows their reference prices (not a built-in list), and the fallback trades too', async () => {
    const specs: InstrumentSpec[] = [
      { symbol: 'XYZ', tickSize: '0.01', lotSize: '1', referencePrice: '5000.00' }, // far from any built-in start
      { symbol: 'PENNY', tickSize: '0.0001', lotSize: '100', referencePrice: '0.2500', priceCollarBps: 500 },
      { symbol: 'BARE', tickSize: '0.01', lotSize: '1' }, // no reference price: the fallback, collared around the mid
    ];
    gw = await Gateway.build({ dataDir: mkdtempSync(join(tmpdir(), 'gwsim2-')), capacity: 100_000, instruments: specs });
    const ids = await simulate(gw, 600);
    const st = statuses(gw, ids);
    expect(st.rejected ?? 0, JSON.stringify(st)).toBe(0);
    // the books sit around each reference price (the fair value random-walks by single ticks)
    const base = await gw.listen(0);
    for (const [sym, ref] of [['XYZ', 5000], ['PENNY', 0.25], ['BARE', SIM_FALLBACK_FAIR_TICKS * 0.01]] as const) {
      const book = await (await fetch(`${base}/api/v1/book/${sym}?depth=1000`)).json() as { bids: string[][]; asks: string[][] };
      const prices = [...book.bids, ...book.asks].map(([p]) => Number(p));
      expect(prices.length, sym).toBeGreaterThan(0);
      for (const p of prices) expect(Math.abs(p - ref) / ref, `${sym} ${p}`).toBeLessThan(0.05);
    }
  }, 60_000);
});
