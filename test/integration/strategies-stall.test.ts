/**
 * A hook that never returns: the pool's watchdog cuts its worker off (event ring cursor released,
 * thread terminated, its strategies failed), so the engine is never held back by it — thousands of
 * commands more than the event ring holds go through — and the strategy on the other worker trades on.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ENUMS } from '../../src/abi/records.js';
import { Instrument } from '../../src/domain/instruments.js';
import { EngineHost } from '../../src/engine/host.js';
import { StrategyPool } from '../../src/strategies/pool.js';

const INSTRUMENTS = [new Instrument(0, { symbol: 'AAA', tickSize: '1', lotSize: '1' }), new Instrument(1, { symbol: 'BBB', tickSize: '1', lotSize: '1' })];
const MODULE = new URL('../support/probe-strategies.ts', import.meta.url).href;

describe('StrategyPool watchdog', () => {
  let host: EngineHost | undefined;
  let pool: StrategyPool | undefined;
  afterAll(async () => { await pool?.close(); await host?.stop(); });

  it('a worker stuck in a hook is cut off; the engine and the other worker go on', async () => {
    host = await EngineHost.start({ engine: { symbols: 2, capacity: 100_000 }, commandSlots: 4096, eventSlots: 1024, batch: 64 });
    const logs: string[] = [];
    pool = await StrategyPool.start({ host, instruments: INSTRUMENTS, workers: 2, strategyModules: [MODULE], stallMs: 600, log: (_l, _id, msg) => logs.push(msg) });
    const h = host;
    const p = pool;
    await p.create({ id: 'ok', kind: 'probe', account: 22, symbols: ['BBB'], worker: 0, budgetUs: 200_000, params: { mode: 'quote', price: 500, qty: 1 } });
    await p.create({ id: 'hang', kind: 'probe', account: 21, symbols: ['AAA'], worker: 1, budgetUs: 200_000, params: { mode: 'hang', price: 500 } });
    let id = 1;
    // waits for room in the command ring (the main thread keeps its event loop, where the watchdog runs)
    const submit = async (side: number, symbol: number, price: number): Promise<void> => {
      const cmd = { op: ENUMS.Op.NEW, side, type: 0, tif: 0, symbol, id: BigInt(id++), price: BigInt(price), qty: 1, account: 99 };
      while (!h.submit(cmd)) await new Promise((r) => setTimeout(r, 2));
    };
    const until = async (what: string, fn: () => boolean, ms = 15_000): Promise<void> => {
      const end = Date.now() + ms;
      while (Date.now() < end) { if (fn()) return; await new Promise((r) => setTimeout(r, 20)); }
      throw new Error(`timed out waiting for ${what}: lastSeq ${h.lastSeq}, hang ${JSON.stringify(p.get("hang")?.state)} ${p.get("hang")?.why}, free ${h.evtRing.free()}, published ${h.evtRing.published}`);
    };
    await until('both quotes', () => h.lastSeq >= 2);
    const seq0 = h.lastSeq; // the two quotes
    await submit(1, 0, 900); // an ask on AAA: the hang strategy's onBook never returns
    // far more events than the event ring holds (1,024): resting orders that never trade
    for (let i = 0; i < 3000; i++) await submit(1, i % 2, 2000 + (i % 50));
    await until('every command through the engine', () => h.lastSeq >= seq0 + 3001, 20_000);
    await until('the stuck strategy failed', () => p.get('hang')?.state === 'failed');
    expect(p.get('hang')!.why).toMatch(/stalled \(a hook did not return within 600 ms\)/);
    expect(logs.some((l) => /worker 1 stalled/.test(l) && /hang/.test(l))).toBe(true);
    // the other worker trades on: sell into its bid at 500
    await submit(1, 1, 500);
    await until('the fill on the live worker', () => p.get('ok')?.position.BBB === 1);
    expect(p.get('ok')!.state).toBe('running');
    await expect(p.start('hang')).rejects.toMatchObject({ code: 'ERR_STRATEGY_STATE' });
    const again = await p.create({ id: 'ok2', kind: 'probe', account: 23, symbols: ['BBB'], budgetUs: 200_000, params: { mode: 'quote', price: 400 } });
    expect(again.worker).toBe(0); // only the live worker takes new strategies
  }, 60_000);

  it('a worker far behind the engine says so (backlog in ringLatency, a warning once per episode)', async () => {
    const h = host!;
    const logs: string[] = [];
    const lp = await StrategyPool.start({ host: h, instruments: INSTRUMENTS, workers: 1, strategyModules: [MODULE], statusMs: 50, log: (_l, _id, msg) => logs.push(msg) });
    try {
      await lp.create({ id: 'slow', kind: 'probe', account: 31, symbols: ['AAA'], budgetUs: 10_000_000, params: { mode: 'slow', spinMs: 40 } });
      let id = 1_000_000;
      for (let i = 0; i < 2000; i++) {
        const cmd = { op: ENUMS.Op.NEW, side: 1, type: 0, tif: 0, symbol: 0, id: BigInt(id++), price: BigInt(3000 + (i % 50)), qty: 1, account: 99 };
        while (!h.submit(cmd)) await new Promise((r) => setTimeout(r, 2));
      }
      const end = Date.now() + 15_000;
      while (Date.now() < end && !logs.some((l) => /events behind the engine/.test(l))) await new Promise((r) => setTimeout(r, 20));
      expect(logs.filter((l) => /strategy worker 0 is \d+ events behind the engine \(event ring of 1024\)/.test(l)).length).toBe(1);
      expect(lp.get('slow')!.state).toBe('running'); // slow, not stuck: not cut off
    } finally {
      await lp.close();
    }
  }, 60_000);
});
