/**
 * The L2 projection from events equals the engine's own depth after every command (generated
 * streams of every mix, and fast-check scenarios with STP, bands and tiny capacities); deltas
 * rebuild the book; the checksum follows the documented text.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BookProjection, type BookEvent } from '../../src/marketdata/book-projection.js';
import { Engine, decodeCommand, type EngineEvent } from '../../src/engine/index.js';
import { generate, MIXES } from '../../src/workload/generator.js';
import { CMD_SIZE } from '../../src/abi/records.js';
import { crc32 } from '../../src/sys/crc32.js';
import { scenarioArb } from '../support/arbitraries.js';

const toBook = (e: EngineEvent): BookEvent => ({
  type: e.type, symbol: e.symbol, id: Number(e.id), maker: Number(e.maker), price: Number(e.price), qty: e.qty, side: e.side, last: e.last,
});

function engineDepth(e: Engine, s: number, side: number): [number, number, number][] {
  return e.depth(s, side, 1000).map((l) => [Number(l.price), Number(l.qty), l.count]);
}

describe('BookProjection', () => {
  for (const mix of MIXES) {
    it(`equals the engine's depth after every batch of 25 commands (${mix})`, () => {
      const n = 6000;
      const recs = generate({ seed: 31, count: n, symbols: 3, mix, badRate: 0.01, feedback: mix !== 'deep-book' });
      const eng = new Engine({ symbols: 3, capacity: 100_000 });
      const proj = new BookProjection(3);
      const dv = new DataView(recs.buffer);
      for (let i = 0; i < n; i += 25) {
        const cmds = Array.from({ length: Math.min(25, n - i) }, (_, j) => decodeCommand(dv, (i + j) * CMD_SIZE));
        for (const ev of eng.submit(cmds)) proj.apply(toBook(ev));
        for (let s = 0; s < 3; s++) for (const side of [0, 1]) expect(proj.depth(s, side, 1000)).toEqual(engineDepth(eng, s, side));
      }
    });
  }

  it('equals the engine under STP, price bands and capacity limits (fast-check)', () => {
    const STP = ['none', 'cancel_resting', 'cancel_incoming', 'cancel_both'] as const;
    fc.assert(fc.property(scenarioArb(3, 200), (sc) => {
      const eng = new Engine({ symbols: 3, capacity: sc.capacity });
      sc.stp.forEach((m, s) => eng.setSelfTradePrevention(s, STP[m]!));
      if (sc.band) eng.setPriceBand(0, { min: sc.band[0], max: sc.band[1] });
      const proj = new BookProjection(3);
      for (const c of sc.cmds) {
        if (c.price > BigInt(Number.MAX_SAFE_INTEGER) || c.id > BigInt(Number.MAX_SAFE_INTEGER)) continue;
        for (const ev of eng.submit([c])) proj.apply(toBook(ev));
        for (let s = 0; s < 3; s++) for (const side of [0, 1]) expect(proj.depth(s, side, 100)).toEqual(engineDepth(eng, s, side).slice(0, 100));
      }
    }), { seed: 17, numRuns: 100 });
  });

  it('reports changed levels as deltas (qty 0 = removed) and checksums the documented text', () => {
    const p = new BookProjection(1);
    const ev = (type: BookEvent['type'], id: number, price: number, qty: number, side: number, maker = 0): BookEvent => ({ type, symbol: 0, id, maker, price, qty, side, last: true });
    p.apply(ev('A', 1, 100, 5, 0));
    p.apply(ev('A', 2, 101, 3, 1));
    expect(p.takeChanges(0)).toEqual({ bids: [[100, 5]], asks: [[101, 3]] });
    p.apply({ ...ev('A', 3, 101, 3, 0), last: false });
    p.apply(ev('T', 3, 101, 3, 0, 2));
    expect(p.takeChanges(0)).toEqual({ bids: [], asks: [[101, 0]] });
    expect(p.checksum(0)).toBe(crc32(Buffer.from('100:5|', 'ascii')));
  });
});
