/**
 * Lazy initialisation of the engine (assembly/book/engine.ts "Allocation"): engineInit stores
 * nothing into the memory it reserves, because zero is every structure's empty state. These
 * tests check that this changes nothing observable: a fresh engine of any capacity (up to the
 * 2^24 limit) gives exactly the events of a small one on the same stream, and the deep check
 * (`engineValidateDeep`: pools and their never-used nodes, both hash tables, treaps) holds after
 * creation, after deletes and reuse, when a pool is full, and after a second engineInit on a used
 * instance (which must clear what the first engine wrote). Run over both builds.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Engine, eventLine, type BuildKind, type Command, type EngineOptions } from '../../src/engine/index.js';
import { generate } from '../../src/workload/generator.js';
import { CMD_SIZE, EVT_SIZE } from '../../src/abi/records.js';

/** All event bytes of `recs` (CMD records) run through `e`, concatenated. */
function run(e: Engine, recs: Uint8Array): Buffer {
  const parts: Buffer[] = [];
  e.submitRaw(recs, 0, recs.length / CMD_SIZE, (_v, b, k) => { parts.push(Buffer.from(b.subarray(0, k * EVT_SIZE))); });
  return Buffer.concat(parts);
}

function deep(e: Engine): number { return e.raw.engineValidateDeep(); }

/** engineInit again on the instance behind `e`, same symbols and inbox/outbox (so the driver's pointers stay valid). */
function reinit(e: Engine, capacity: number, seed: number): void {
  const rc = e.raw.engineInit(e.symbols, capacity, e.inboxCapacity, e.outboxCapacity, seed, Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2f) >>> 0);
  expect(rc).toBe(0);
}

const gtc = (id: number, side: number, price: number, qty = 1, symbol = 0): Command =>
  ({ op: 1, side, type: 0, tif: 0, symbol, id: BigInt(id), price: BigInt(price), qty, account: 1 + (id % 7) });
const cancel = (id: number, symbol = 0): Command => ({ op: 2, side: 0, type: 0, tif: 0, symbol, id: BigInt(id), price: 0n, qty: 0, account: 1 });

for (const build of ['release', 'debug'] as BuildKind[]) {
  describe(`engine start: lazy initialisation (${build})`, () => {
    it('a fresh engine is sound and empty whatever its capacity', () => {
      for (const capacity of [1, 1000, 300_000]) {
        const e = new Engine({ symbols: 4, capacity, build, seed: 3 });
        expect(deep(e)).toBe(0);
        const m = e.memoryStats();
        expect(m.orders).toEqual({ capacity, inUse: 0, highWater: 0, freeList: 0 });
        expect(m.levels).toEqual({ capacity, inUse: 0, highWater: 0, freeList: 0 });
        for (let s = 0; s < 4; s++) {
          expect(e.depth(s, 0)).toEqual([]);
          expect(e.depth(s, 1)).toEqual([]);
        }
        expect([...e.orders()]).toEqual([]);
      }
    });

    it('a large engine gives exactly the events, book and state hash of a small one (default and deep-book mixes, risk on and off)', () => {
      for (const [mix, risk] of [['default', false], ['deep-book', true]] as const) {
        const recs = generate({ seed: 21, count: 60_000, symbols: 8, mix });
        const opts = (capacity: number, seed: number): EngineOptions => ({ symbols: 8, capacity, build, seed, risk: risk ? {} : undefined });
        const small = new Engine(opts(60_000, 1));
        const large = new Engine(opts(build === 'release' ? 3_000_000 : 1_000_000, 99));
        const a = run(small, recs);
        const b = run(large, recs);
        expect(b.length).toBeGreaterThan(60_000 * EVT_SIZE);
        expect(b.equals(a)).toBe(true);
        expect(large.stateHash()).toBe(small.stateHash());
        expect([...large.orders()]).toEqual([...small.orders()]);
        expect(deep(large)).toBe(0);
        expect(deep(small)).toBe(0);
      }
    });

    it('keeps pools, hash tables and treaps sound through deletes, reuse and a full pool', () => {
      const cap = 3000;
      const e = new Engine({ symbols: 2, capacity: cap, build, seed: 5 });
      // fill to the limit with resting orders spread far beyond the ladder window (treap levels)
      const fill = (from: number): Command[] => Array.from({ length: cap }, (_, i) => {
        const id = from + i;
        const side = i & 1;
        return gtc(id, side, side === 0 ? 50_000 - (i * 37) % 45_000 : 60_000 + (i * 53) % 45_000, 1 + (i % 5), i % 2);
      });
      const first = e.submit(fill(1)).map(eventLine);
      expect(first.every((l) => l.startsWith('A,'))).toBe(true);
      expect(e.memoryStats().orders).toEqual({ capacity: cap, inUse: cap, highWater: cap, freeList: 0 });
      expect(deep(e)).toBe(0);
      expect(e.submit([gtc(100_000, 0, 100)]).map(eventLine)).toEqual(['R,100000,capacity']);
      // cancel every third order: free lists in both pools, backward shifts in both tables, treap removals
      const gone = Array.from({ length: cap }, (_, i) => i + 1).filter((id) => id % 3 === 0);
      expect(e.submit(gone.map((id) => cancel(id, (id - 1) % 2))).map(eventLine).every((l) => l.startsWith('X,'))).toBe(true);
      expect(e.memoryStats().orders).toMatchObject({ inUse: cap - gone.length, freeList: gone.length });
      expect(deep(e)).toBe(0);
      // reuse: fill the pool again from its free list
      const again = fill(200_000).slice(0, gone.length);
      expect(e.submit(again).map(eventLine).every((l) => l.startsWith('A,'))).toBe(true);
      expect(e.memoryStats().orders).toEqual({ capacity: cap, inUse: cap, highWater: cap, freeList: 0 });
      expect(deep(e)).toBe(0);
      expect(e.submit([gtc(300_000, 1, 70_000)]).map(eventLine)).toEqual(['R,300000,capacity']);
      // sweep everything: every level and order freed
      const sweep = e.submit([
        { op: 1, side: 1, type: 1, tif: 1, symbol: 0, id: 400_000n, price: 0n, qty: 0xffffffff, account: 9 },
        { op: 1, side: 0, type: 1, tif: 1, symbol: 0, id: 400_001n, price: 0n, qty: 0xffffffff, account: 9 },
        { op: 1, side: 1, type: 1, tif: 1, symbol: 1, id: 400_002n, price: 0n, qty: 0xffffffff, account: 9 },
        { op: 1, side: 0, type: 1, tif: 1, symbol: 1, id: 400_003n, price: 0n, qty: 0xffffffff, account: 9 },
      ]);
      expect(sweep.filter((x) => x.type === 'T').length).toBe(cap);
      expect(e.memoryStats().orders).toEqual({ capacity: cap, inUse: 0, highWater: cap, freeList: cap });
      expect(e.memoryStats().levels.inUse).toBe(0);
      expect(deep(e)).toBe(0);
    });

    it('a second engineInit on a used instance gives a fresh engine, smaller or larger than the first', () => {
      const s1 = generate({ seed: 4, count: 20_000, symbols: 4, mix: 'deep-book' });
      const s2 = generate({ seed: 8, count: 20_000, symbols: 4, mix: 'default' });
      const e = new Engine({ symbols: 4, capacity: 20_000, build, seed: 2 });
      run(e, s1);
      expect(e.memoryStats().orders.inUse).toBeGreaterThan(1000);
      for (const capacity of [20_000, 5_000, 50_000]) {
        reinit(e, capacity, 2);
        expect(deep(e)).toBe(0); // also: every never-used node is zero again
        expect(e.memoryStats().orders).toEqual({ capacity, inUse: 0, highWater: 0, freeList: 0 });
        const fresh = new Engine({ symbols: 4, capacity, build, seed: 2 });
        expect(run(e, s2).equals(run(fresh, s2))).toBe(true);
        expect(e.stateHash()).toBe(fresh.stateHash());
        expect(deep(e)).toBe(0);
      }
    });
  });
}

describe('engine start: at the capacity limit (release)', () => {
  it('an engine of capacity 2^24 starts empty and sound and matches like a small one', () => {
    const recs = generate({ seed: 33, count: 30_000, symbols: 4, mix: 'aggressive' });
    const big = new Engine({ symbols: 4, capacity: 1 << 24, seed: 12 });
    expect(big.memoryStats().orders).toEqual({ capacity: 1 << 24, inUse: 0, highWater: 0, freeList: 0 });
    const small = new Engine({ symbols: 4, capacity: 30_000, seed: 12 });
    expect(run(big, recs).equals(run(small, recs))).toBe(true);
    expect(big.stateHash()).toBe(small.stateHash());
    expect(deep(big)).toBe(0);
  });
});

describe('engine start: prefault (Engine.prefault)', () => {
  /** Resident set of this process in bytes (/proc/self/statm, pages × 4096). */
  const rss = (): number => Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096;

  it('faults in the whole layout without changing a byte of state (prefault in slices between batches)', () => {
    const recs = generate({ seed: 44, count: 40_000, symbols: 4, mix: 'default' });
    const half = (recs.length / CMD_SIZE / 2) * CMD_SIZE;
    const plain = new Engine({ symbols: 4, capacity: 1_000_000, seed: 5 });
    const touched = new Engine({ symbols: 4, capacity: 1_000_000, seed: 5 });
    const a1 = run(plain, recs.subarray(0, half));
    const b1 = run(touched, recs.subarray(0, half));
    const before = rss();
    let at = 0, slices = 0;
    for (let r = touched.prefault(at, 1 << 20); ; r = touched.prefault(at, 1 << 20)) {
      slices++;
      at = r.next;
      if (r.done) break;
    }
    const engineBytes = touched.memoryStats().engineBytes;
    expect(at).toBe(engineBytes);
    expect(slices).toBeGreaterThan(engineBytes / (1 << 20) - 1);
    // most of the layout was not resident before (creation touches nothing) and is now
    expect(rss() - before).toBeGreaterThan(engineBytes * 0.5);
    expect(deep(touched)).toBe(0);
    expect(touched.stateHash()).toBe(plain.stateHash());
    const a2 = run(plain, recs.subarray(half));
    const b2 = run(touched, recs.subarray(half));
    expect(Buffer.concat([b1, b2]).equals(Buffer.concat([a1, a2]))).toBe(true);
    expect(touched.stateHash()).toBe(plain.stateHash());
    expect(touched.prefault(0, 0).done).toBe(false);
    expect(touched.prefault(engineBytes).done).toBe(true);
  });
});
