/**
 * Books of a pool started on an engine that already holds orders: seeded from `restingOrders`
 * (here an in-process mirror engine fed the same commands, current to the host's last seq), a
 * strategy created afterwards sees the resting bids — its quote goes one tick under the best one —
 * and without a seed it sees an empty book.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { ENUMS } from '../../src/abi/records.js';
import { Instrument } from '../../src/domain/instruments.js';
import { Engine } from '../../src/engine/engine.js';
import { EngineHost } from '../../src/engine/host.js';
import { StrategyPool, type SignalRow } from '../../src/strategies/pool.js';
import type { Command } from '../../src/domain/types.js';

const INSTRUMENTS = [new Instrument(0, { symbol: 'AAA', tickSize: '1', lotSize: '1' })];
const MODULE = new URL('../support/probe-strategies.ts', import.meta.url).href;

describe('StrategyPool book seeding', () => {
  let host: EngineHost | undefined;
  afterAll(async () => { await host?.stop(); });

  it('a strategy on a seeded pool sees the orders that rested before it started', async () => {
    host = await EngineHost.start({ engine: { symbols: 1, capacity: 10_000 }, commandSlots: 1024, eventSlots: 4096, batch: 64 });
    const h = host;
    const mirror = new Engine({ symbols: 1, capacity: 10_000 });
    let sent = 0;
    const send = (c: Command): void => { expect(h.submit(c)).toBe(true); mirror.submit([c]); sent++; };
    // 200 resting orders around 1000 (bids 900..999, asks 1001..1100), then cancel some
    for (let i = 0; i < 100; i++) {
      send({ op: ENUMS.Op.NEW, side: 0, type: 0, tif: 0, symbol: 0, id: BigInt(1 + i), price: BigInt(900 + i), qty: 1 + (i % 3), account: 99 });
      send({ op: ENUMS.Op.NEW, side: 1, type: 0, tif: 0, symbol: 0, id: BigInt(1001 + i), price: BigInt(1001 + i), qty: 1, account: 99 });
    }
    send({ op: ENUMS.Op.CANCEL, side: 0, type: 0, tif: 0, symbol: 0, id: 100n, price: 0n, qty: 0, account: 99 }); // the best bid (999) goes
    const resting = (): { seq: number; orders: { symbol: number; id: number; side: number; price: number; leaves: number }[] } => ({
      seq: Math.min(h.lastSeq, sent), // the mirror is current to every command sent; the host to lastSeq
      orders: h.lastSeq >= sent ? [...mirror.orders()].map((o) => ({ symbol: o.symbol, id: Number(o.id), side: o.side, price: Number(o.price), leaves: o.leaves })) : [],
    });
    const signals: SignalRow[] = [];
    const seeded = await StrategyPool.start({ host: h, instruments: INSTRUMENTS, workers: 1, strategyModules: [MODULE], restingOrders: resting, onSignals: (r) => signals.push(...r) });
    try {
      await seeded.create({ id: 'q', kind: 'probe', account: 5, symbols: ['AAA'], budgetUs: 200_000, params: { mode: 'quote', price: 500, offset: 1 } });
      const end = Date.now() + 10_000;
      while (signals.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect(signals.map((s) => s.value)).toEqual([997]); // best bid 998 (999 was cancelled) − 1
    } finally {
      await seeded.close();
    }
    const plainSignals: SignalRow[] = [];
    const plain = await StrategyPool.start({ host: h, instruments: INSTRUMENTS, workers: 1, strategyModules: [MODULE], onSignals: (r) => plainSignals.push(...r) });
    try {
      await plain.create({ id: 'q2', kind: 'probe', account: 6, symbols: ['AAA'], budgetUs: 200_000, params: { mode: 'quote', price: 500, offset: 1 } });
      const end = Date.now() + 10_000;
      while (plainSignals.length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect(plainSignals.map((s) => s.value)).toEqual([500]); // an empty book: its configured price
    } finally {
      await plain.close();
    }
  }, 60_000);
});
