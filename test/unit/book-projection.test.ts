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
import { formatDecimal, parseDecimal } from '../../src/domain/instruments.js';
import { prng } from '../../src/workload/prng.js';

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

  it('deltas from takeChanges rebuild the book exactly, batch after batch (generated streams)', () => {
    for (const mix of MIXES) {
      const n = 3000;
      const recs = generate({ seed: 7, count: n, symbols: 2, mix, badRate: 0.01, feedback: mix !== 'deep-book' });
      const eng = new Engine({ symbols: 2, capacity: 100_000 });
      const proj = new BookProjection(2);
      const dv = new DataView(recs.buffer);
      const local = [0, 1].map(() => [new Map<number, number>(), new Map<number, number>()]);
      for (let i = 0; i < n; i += 10) {
        const cmds = Array.from({ length: Math.min(10, n - i) }, (_, j) => decodeCommand(dv, (i + j) * CMD_SIZE));
        for (const ev of eng.submit(cmds)) proj.apply(toBook(ev));
        for (let s = 0; s < 2; s++) {
          const ch = proj.takeChanges(s);
          for (const [side, xs] of [[0, ch.bids], [1, ch.asks]] as const) {
            // best first, each price once
            for (let k = 1; k < xs.length; k++) expect(side === 0 ? xs[k - 1]![0] > xs[k]![0] : xs[k - 1]![0] < xs[k]![0]).toBe(true);
            for (const [p, q] of xs) { if (q === 0) local[s]![side]!.delete(p); else local[s]![side]!.set(p, q); }
            const want = engineDepth(eng, s, side).map(([p, q]) => [p, q]);
            const got = [...local[s]![side]!].sort((x, y) => (side === 0 ? y[0] - x[0] : x[0] - y[0]));
            expect(got).toEqual(want);
            expect(proj.levelCount(s, side)).toBe(want.length);
            if (want.length > 0) expect([proj.levelPrice(s, side, 0), proj.levelQty(s, side, 0)]).toEqual(want[0]);
          }
        }
      }
    }
  });

  it('checksumDecimal equals the checksum of the instrument\'s decimal strings (tick and lot sizes, values beyond 2^53 units)', () => {
    const sizes: [string, string][] = [['0.01', '1'], ['0.05', '0.001'], ['1', '100'], ['0.0001', '0.5'], ['25', '0.00000001'], ['0.5', '1000']];
    const rnd = prng(5);
    for (const [tick, lot] of sizes) {
      const t = parseDecimal(tick);
      const l = parseDecimal(lot);
      const fmt = (d: typeof t) => (v: number): string => formatDecimal({ units: BigInt(v) * d.units, scale: d.scale });
      const p = new BookProjection(1);
      let id = 1;
      for (let k = 0; k < 60; k++) {
        const side = rnd() < 0.5 ? 0 : 1;
        const price = side === 0 ? 1 + Math.floor(rnd() * 5000) : 5001 + Math.floor(rnd() * 5000);
        p.apply({ type: 'A', symbol: 0, id: id++, maker: 0, price, qty: 1 + Math.floor(rnd() * 10_000), side, last: true });
        expect(p.checksumDecimal(0, t, l)).toBe(p.checksum(0, fmt(t), fmt(l)));
      }
    }
    const empty = new BookProjection(1);
    expect(empty.checksumDecimal(0, parseDecimal('0.01'), parseDecimal('1'))).toBe(crc32(Buffer.from('|', 'ascii')));
    // past 2^53 units: the exact BigInt text
    const big = new BookProjection(1);
    const t = parseDecimal('0.05');
    big.apply({ type: 'A', symbol: 0, id: 1, maker: 0, price: 2 ** 53 - 1, qty: 3, side: 1, last: true });
    expect(big.checksumDecimal(0, t, parseDecimal('1'))).toBe(crc32(Buffer.from(`|${formatDecimal({ units: (2n ** 53n - 1n) * 5n, scale: 2 })}:3`, 'ascii')));
  });
});

