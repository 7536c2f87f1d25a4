/**
 * The strategy runtime's books (src/strategies/market-view.ts) equal the engine's own L2 depth
 * after every batch of generated commands (every mix), read through the BookView the strategies get.
 */
import { describe, expect, it } from 'vitest';
import { Engine } from '../../src/engine/index.js';
import { generate, MIXES } from '../../src/workload/generator.js';
import { CMD_SIZE, EVT_SIZE } from '../../src/abi/records.js';
import { evtId, evtLast, evtMaker, evtPrice, evtQty, evtSide, evtSymbol, evtType } from '../../src/abi/views.js';
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
