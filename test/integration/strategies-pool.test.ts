/**
 * The strategy worker pool live: an EngineHost (engine thread behind the rings) and a pool of two
 * strategy workers trading a test strategy (test/support/probe-strategies.ts, loaded by URL)
 * through the rings: its quote rests in the book, a fill shows in its position and it re-quotes,
 * stop cancels its order; a crashing strategy on the other worker is contained (failed, its order
 * cancelled) while the first trades on; control and errors through the pool API.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENUMS, RING_EVT_SIZE } from '../../src/abi/records.js';
import { evtAccount, evtId, evtType, slotEvt } from '../../src/abi/views.js';
import { Instrument } from '../../src/domain/instruments.js';
import { STRATEGY_ID_BASE_NUM } from '../../src/domain/ids.js';
import { TradsysError } from '../../src/domain/errors.js';
import { EngineHost } from '../../src/engine/host.js';
import { StrategyPool, type SignalRow } from '../../src/strategies/pool.js';

const INSTRUMENTS = [new Instrument(0, { symbol: 'AAA', tickSize: '1', lotSize: '1' }), new Instrument(1, { symbol: 'BBB', tickSize: '1', lotSize: '1' })];
const MODULE = new URL('../support/probe-strategies.ts', import.meta.url).href;

interface Ev { type: string; id: number; account: number }

describe('StrategyPool (worker threads on the engine rings)', () => {
  let host: EngineHost;
  let pool: StrategyPool;
  let reader: number;
  const events: Ev[] = [];
  const signals: SignalRow[] = [];
  const states: string[] = [];
  const buf = new Uint8Array(RING_EVT_SIZE * 1024);
  const dv = new DataView(buf.buffer);
  let marketId = 1;

  const drain = (): void => {
    for (;;) {
      const k = host.evtRing.poll(reader, buf, 0, 1024);
      for (let i = 0; i < k; i++) {
        const e = slotEvt(i * RING_EVT_SIZE);
        events.push({ type: String.fromCharCode(evtType(dv, e)), id: evtId(dv, e), account: evtAccount(dv, e) });
      }
      if (k < 1024) return;
    }
  };
  const until = async (what: string, fn: () => boolean, ms = 10_000): Promise<void> => {
    const end = Date.now() + ms;
    while (Date.now() < end) { drain(); if (fn()) return; await new Promise((r) => setTimeout(r, 10)); }
    throw new Error(`timed out waiting for ${what}: ${JSON.stringify(pool.list().map((s) => [s.id, s.state, s.details, s.position]))} ${JSON.stringify(events.slice(-6))}`);
  };
  const market = (side: number, symbol: number, price: number, qty: number): void => {
    expect(host.submit({ op: ENUMS.Op.NEW, side, type: 0, tif: 0, symbol, id: BigInt(marketId++), price: BigInt(price), qty, account: 99 })).toBe(true);
  };
  const of = (account: number, type: string): Ev[] => events.filter((e) => e.account === account && e.type === type);

  beforeAll(async () => {
    host = await EngineHost.start({ engine: { symbols: 2, capacity: 10_000 }, commandSlots: 1024, eventSlots: 4096, batch: 64 });
    reader = host.evtRing.join();
    pool = await StrategyPool.start({
      host, instruments: INSTRUMENTS, workers: 2, strategyModules: [MODULE], firstOrderId: STRATEGY_ID_BASE_NUM + 5000,
      onSignals: (rows) => signals.push(...rows), onState: (id, s) => states.push(`${id}:${s}`),
    });
  }, 120_000);

  afterAll(async () => {
    await pool?.close();
    await host?.stop();
  });

  it('a strategy quotes through the command ring, is filled, re-quotes, and stop cancels its order; a crashing one is contained', async () => {
    expect(pool.workers).toBe(2);
    const q = await pool.create({ id: 'q', kind: 'probe', account: 11, symbols: ['AAA'], worker: 0, budgetUs: 200_000, params: { mode: 'quote', price: 990, qty: 2 } });
    expect(q.state).toBe('running');
    expect(q.worker).toBe(0);
    await until('the quote accepted', () => of(11, 'A').length === 1);
    const firstId = of(11, 'A')[0]!.id;
    expect(firstId).toBe(STRATEGY_ID_BASE_NUM + 5000); // the shared counter's first block
    expect(pool.clientOrderIdOf(BigInt(firstId))).toBe('q1'); // the tag, for the read models' clientOrderId resolver
    expect(pool.clientOrderIdOf(7)).toBeUndefined();
    const c = await pool.create({ id: 'crash', kind: 'probe', account: 12, symbols: ['AAA'], worker: 1, budgetUs: 200_000, params: { mode: 'crash', crashAfter: 0, price: 980 } });
    expect(c.worker).toBe(1);
    await until('the crash strategy\'s quote accepted', () => of(12, 'A').length === 1);
    const crashId = of(12, 'A')[0]!.id;
    market(1, 0, 1100, 1); // an ask: the crash strategy throws in its next onBook
    await until('the crashing strategy failed and its order cancelled', () => of(12, 'X').some((e) => e.id === crashId) && pool.get('crash')?.state === 'failed');
    expect(pool.get('crash')!.why).toMatch(/onBook threw: probe crash/);
    expect(states).toContain('crash:failed');
    // the quoting strategy trades on: sell into its bid at 990 (size 2) → filled → re-quote
    market(1, 0, 990, 2);
    await until('a fill and a second quote', () => of(11, 'A').length === 2 && pool.get('q')?.position.AAA === 2, 10_000);
    const st = pool.get('q')!;
    expect(st.state).toBe('running');
    expect(st.fills).toBe(1);
    expect(st.orders).toBe(2);
    expect(st.details).toMatchObject({ fills: 1, quoted: 2 });
    await until('the quote signals', () => signals.filter((s) => s.strategy === 'q').length === 2);
    expect(signals.filter((s) => s.strategy === 'q').map((s) => s.signal)).toEqual(['quote', 'quote']);
    const secondId = of(11, 'A')[1]!.id;
    expect(secondId).toBe(firstId + 1);
    const stopped = await pool.stop('q');
    expect(stopped.state).toBe('stopped');
    await until('the open quote cancelled', () => of(11, 'X').some((e) => e.id === secondId));
    expect(pool.list().map((s) => [s.id, s.state])).toEqual([['crash', 'failed'], ['q', 'stopped']]);
    // worker 0's re-quote was a decision on a market event (reported with the next status, ≤ 250 ms)
    await until('worker 0\'s decision-to-ring sample', () => pool.ringLatency()[0]!.count > 0);
    const rl = pool.ringLatency();
    expect(rl.length).toBe(2);
    expect(rl[0]).toMatchObject({ backlog: expect.any(Number), maxBacklog: expect.any(Number) });
  }, 60_000);

  it('control through the pool API: parameters checked, unknown kinds and ids refused, restart, reset refused when not tripped', async () => {
    await expect(pool.create({ id: 'bad', kind: 'probe', account: 13, symbols: ['AAA'], params: { mode: 'fly' } })).rejects.toMatchObject({ code: 'ERR_STRATEGY_PARAMS' });
    await expect(pool.create({ id: 'bad', kind: 'nope', account: 13, symbols: ['AAA'] })).rejects.toMatchObject({ code: 'ERR_STRATEGY_CONFIG' });
    await expect(pool.create({ id: 'q', kind: 'probe', account: 13, symbols: ['AAA'] })).rejects.toThrow(/already exists/);
    await expect(pool.create({ id: 'w', kind: 'probe', account: 13, symbols: ['AAA'], worker: 5 })).rejects.toThrow(TradsysError);
    await expect(pool.start('nope')).rejects.toMatchObject({ code: 'ERR_STRATEGY_NOT_FOUND' });
    expect(pool.list().map((s) => s.id)).toEqual(['crash', 'q']); // refused creations leave nothing behind
    const p = await pool.create({ id: 'p', kind: 'probe', account: 14, symbols: ['BBB'], autoStart: false, budgetUs: 200_000, params: { mode: 'take', qty: 1, maxTakes: 1 } });
    expect(p.state).toBe('created');
    expect(p.worker).toBe(0); // the least loaded: q (stopped) on 0, crash on 1 → 0 first
    const changed = await pool.setParams('p', { mode: 'take', qty: 3, maxTakes: 1 });
    expect(changed.parameters).toMatchObject({ mode: 'take', qty: 3 });
    await expect(pool.setParams('p', { qty: -1 })).rejects.toMatchObject({ code: 'ERR_STRATEGY_PARAMS' });
    await expect(pool.reset('p')).rejects.toMatchObject({ code: 'ERR_STRATEGY_STATE' });
    expect((await pool.start('p')).state).toBe('running');
    market(1, 1, 1000, 5); // an ask: the taker buys 3 at it (IOC)
    await until('the taker filled', () => pool.get('p')?.position.BBB === 3);
    const restarted = await pool.start('crash'); // a fresh instance
    expect(restarted.state).toBe('running');
    await pool.remove('crash');
    expect(pool.get('crash')).toBeUndefined();
  }, 60_000);
});
