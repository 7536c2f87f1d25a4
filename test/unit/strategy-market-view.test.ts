/**
 * The strategy runtime's books (src/strategies/market-view.ts) equal the engine's own L2 depth
 * after every batch of generated commands (every mix), read through the BookView the strategies get.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/index.js';
import { generate, MIXES } from '../../src/workload/generator.js';
import { CMD_SIZE, EVT_SIZE } from '../../src/abi/records.js';
import { evtCmd, evtId, evtLast, evtMaker, evtPrice, evtQty, evtSide, evtSymbol, evtType } from '../../src/abi/views.js';
import { DEPTH, RuntimeBook } from '../../src/strategies/market-view.js';

function engineDepth(e: Engine, s: number, side: number, n: number): [number, number, number][] {
  return e.depth(s, side, n).map((l) => [Number(l.price), Number(l.qty), l.count]);
}

describe('RuntimeBook', () => {
  for (const mix of MIXES) {
    it(`equals the engine's depth after every batch of 20 commands (${mix})`, () => {
      const n = 5000;
      const recs = generate({ seed: 77, count: n, symbols: 3, mix, badRate: 0.01, feedback: mix !== 'deep-book' });
      const eng = new Engine({ symbols: 3, capacity: 100_000 });
      const books = [0, 1, 2].map((s) => new RuntimeBook(s));
      let seq = 0;
      for (let i = 0; i < n; i += 20) {
        const k = Math.min(20, n - i);
        const base = seq;
        eng.submitRaw(recs, i * CMD_SIZE, k, (dv, _b, m) => {
          for (let j = 0; j < m; j++) {
            const p = j * EVT_SIZE;
            const sym = evtSymbol(dv, p);
            if (sym > 2) continue;
            books[sym]!.apply(evtType(dv, p), evtId(dv, p), evtMaker(dv, p), evtSide(dv, p), evtPrice(dv, p), evtQty(dv, p), evtLast(dv, p), base + 1);
          }
        });
        seq += k;
        for (let s = 0; s < 3; s++) {
          const b = books[s]!;
          for (const side of [0, 1]) expect(b.depth(side, 1000)).toEqual(engineDepth(eng, s, side, 1000));
          const bids = engineDepth(eng, s, 0, DEPTH);
          const asks = engineDepth(eng, s, 1, DEPTH);
          expect(b.bidLevels).toBe(bids.length);
          expect(b.askLevels).toBe(asks.length);
          for (let l = 0; l < DEPTH; l++) {
            expect([b.bid(l), b.bidSize(l)]).toEqual(bids[l] ? [bids[l]![0], bids[l]![1]] : [0, 0]);
            expect([b.ask(l), b.askSize(l)]).toEqual(asks[l] ? [asks[l]![0], asks[l]![1]] : [0, 0]);
          }
          expect(b.bidPx).toBe(bids[0]?.[0] ?? 0);
          expect(b.askQty).toBe(asks[0]?.[1] ?? 0);
          if (bids.length && asks.length) expect(b.mid()).toBe((bids[0]![0] + asks[0]![0]) / 2); else expect(b.mid()).toBeNaN();
        }
      }
    });
  }

  it('a book seeded with the resting orders of a late join follows on exactly', () => {
    const recs = generate({ seed: 5, count: 4000, symbols: 1, mix: 'default', badRate: 0, feedback: true });
    const eng = new Engine({ symbols: 1, capacity: 100_000 });
    eng.submitRaw(recs, 0, 2000, () => {});
    const b = new RuntimeBook(0);
    for (const o of eng.orders()) b.seed(Number(o.id), o.side, Number(o.price), o.leaves);
    expect(b.depth(0, 1000)).toEqual(engineDepth(eng, 0, 0, 1000));
    eng.submitRaw(recs, 2000 * CMD_SIZE, 2000, (dv, _b, m) => {
      for (let j = 0; j < m; j++) {
        const p = j * EVT_SIZE;
        b.apply(evtType(dv, p), evtId(dv, p), evtMaker(dv, p), evtSide(dv, p), evtPrice(dv, p), evtQty(dv, p), evtLast(dv, p), 1);
      }
    });
    for (const side of [0, 1]) expect(b.depth(side, 1000)).toEqual(engineDepth(eng, 0, side, 1000));
  });
});

describe('StrategyRunner.seedBooks', () => {
  it('books seeded as of a seq follow the engine exactly; events up to that seq are not applied twice', async () => {
    const { StrategyRunner } = await import('../../src/strategies/runner.js');
    const { Instrument } = await import('../../src/domain/instruments.js');
    const { scripted } = await import('../support/probe-strategies.js');
    const recs = generate({ seed: 9, count: 6000, symbols: 2, mix: 'default', badRate: 0, feedback: true });
    const eng = new Engine({ symbols: 2, capacity: 100_000 });
    // the runner joins after command 2000; the seed is current to command 3000 (later than the join)
    const evts: { seq: number; bytes: Uint8Array }[] = [];
    const run = (from: number, n: number): void => {
      eng.submitRaw(recs, from * CMD_SIZE, n, (dv, b, m) => {
        for (let j = 0; j < m; j++) evts.push({ seq: from + evtCmd(dv, j * EVT_SIZE) + 1, bytes: b.slice(j * EVT_SIZE, (j + 1) * EVT_SIZE) });
      });
    };
    for (let i = 0; i < 3000; i += 100) run(i, 100);
    const seed: number[] = [];
    for (const o of eng.orders()) seed.push(o.symbol, Number(o.id), o.side, Number(o.price), o.leaves);
    const ins = [0, 1].map((i) => new Instrument(i, { symbol: `S${i}`, tickSize: '1', lotSize: '1' }));
    const r = new StrategyRunner({ instruments: ins, now: () => 0, sink: { send: () => true }, nextOrderId: () => 1, measure: false });
    let ctx: { book(s: number): { bid(i: number): number; bidSize(i: number): number; ask(i: number): number; askSize(i: number): number } } | null = null;
    r.add({ id: 'a', kind: 'k', account: 1, symbols: ['S0'] }, scripted('k', { onStart(c) { ctx = c; } }));
    r.start('a');
    // events 2001..3000 reach the runner before the seed (applied to the unseeded book, then reset)
    for (const e of evts) if (e.seq > 2000 && e.seq <= 2500) r.onEvent(new DataView(e.bytes.buffer), 0, e.seq, 0);
    r.seedBooks(3000, seed);
    // the rest of the join backlog arrives after the seed: skipped for the books
    for (const e of evts) if (e.seq > 2500) r.onEvent(new DataView(e.bytes.buffer), 0, e.seq, 0);
    evts.length = 0;
    for (let i = 3000; i < 6000; i += 100) {
      run(i, 100);
      for (const e of evts) r.onEvent(new DataView(e.bytes.buffer), 0, e.seq, 0);
      evts.length = 0;
      r.tick();
      const b = ctx!.book(0);
      const bids = engineDepth(eng, 0, 0, DEPTH);
      const asks = engineDepth(eng, 0, 1, DEPTH);
      for (let l = 0; l < DEPTH; l++) {
        expect([b.bid(l), b.bidSize(l)]).toEqual(bids[l] ? [bids[l]![0], bids[l]![1]] : [0, 0]);
        expect([b.ask(l), b.askSize(l)]).toEqual(asks[l] ? [asks[l]![0], asks[l]![1]] : [0, 0]);
      }
    }
  });
});
