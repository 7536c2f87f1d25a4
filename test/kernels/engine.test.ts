/**
 * Targeted tests of the WASM engine through its TypeScript driver: queries (L2, L3, order),
 * options (STP, price band), the allocator (reuse, exhaustion, no growth), extreme values,
 * bad input, snapshot format errors and scale. Run over both builds.
 */
import { describe, expect, it } from 'vitest';
import { Engine, encodeCommand, eventLine, type BuildKind, type Command } from '../../src/engine/index.js';
import { generate } from '../../src/workload/generator.js';
import { CMD_SIZE } from '../../src/abi/records.js';
import { TradsysError } from '../../src/domain/errors.js';

const I64_MAX = (1n << 63n) - 1n;
const U32_MAX = 0xffffffff;

function cmd(p: Partial<Command>): Command {
  return { op: 1, side: 0, type: 0, tif: 0, symbol: 0, id: 1n, price: 100n, qty: 10, account: 1, ...p };
}
const buy = (id: number, price: number, qty: number, extra: Partial<Command> = {}): Command => cmd({ id: BigInt(id), price: BigInt(price), qty, side: 0, ...extra });
const sell = (id: number, price: number, qty: number, extra: Partial<Command> = {}): Command => cmd({ id: BigInt(id), price: BigInt(price), qty, side: 1, ...extra });
const lines = (e: Engine, cs: Command[]): string[] => e.submit(cs).map(eventLine);

for (const build of ['release', 'debug'] as BuildKind[]) {
  describe(`engine (${build})`, () => {
    it('answers L2 depth, L3 level orders and order lookups', () => {
      const e = new Engine({ symbols: 2, capacity: 100, build });
      lines(e, [buy(1, 100, 5), buy(2, 100, 7), buy(3, 99, 1), sell(4, 105, 2), sell(5, 103, 4), sell(6, 103, 1, { symbol: 1 })]);
      expect(e.depth(0, 0, 10)).toEqual([{ price: 100n, qty: 12n, count: 2 }, { price: 99n, qty: 1n, count: 1 }]);
      expect(e.depth(0, 1, 1)).toEqual([{ price: 103n, qty: 4n, count: 1 }]);
      expect(e.depth(1, 0, 5)).toEqual([]);
      expect(e.levelOrders(0, 0, 100n).map((o) => [o.id, o.leaves])).toEqual([[1n, 5], [2n, 7]]);
      expect(e.levelOrders(0, 0, 100n, 1, 1).map((o) => o.id)).toEqual([2n]);
      expect(e.levelOrders(0, 0, 98n)).toEqual([]);
      expect(e.order(0, 2n)).toMatchObject({ symbol: 0, side: 0, price: 100n, leaves: 7, account: 1, filled: 0n });
      expect(e.order(1, 2n)).toBeNull();
      expect(e.orderCount(0)).toBe(5);
      expect(() => e.depth(2, 0)).toThrow(/unknown symbol 2/);
      expect(() => e.depth(0, 2)).toThrow(/side must be/);
    });

    it('ids are unique across the engine: an id resting in one symbol is duplicate_id in another, and unknown_order there for cancel/modify', () => {
      const e = new Engine({ symbols: 3, capacity: 100, build });
      expect(lines(e, [sell(7, 100, 5), buy(7, 100, 5, { symbol: 1 }), buy(7, 0, 5, { symbol: 2, type: 1, tif: 1 })]))
        .toEqual(['A,7', 'R,7,duplicate_id', 'R,7,duplicate_id']); // also a market order, which would never rest
      expect(lines(e, [cmd({ op: 2, symbol: 1, id: 7n }), cmd({ op: 3, symbol: 2, id: 7n, price: 100n, qty: 1 })]))
        .toEqual(['R,7,unknown_order', 'R,7,unknown_order']);
      expect(e.order(0, 7n)).toMatchObject({ symbol: 0, leaves: 5 });
      expect(e.order(1, 7n)).toBeNull();
      // nothing changed in symbol 0 and nothing rests in 1 or 2
      expect(e.depth(0, 1)).toEqual([{ price: 100n, qty: 5n, count: 1 }]);
      expect([e.orderCount(1), e.orderCount(2)]).toEqual([0, 0]);
      // once the id leaves symbol 0 (filled or cancelled) it may be used in any symbol
      expect(lines(e, [buy(8, 100, 5), buy(7, 100, 2, { symbol: 1 }), cmd({ op: 2, symbol: 1, id: 7n })])).toEqual(['A,8', 'T,8,7,100,5', 'A,7', 'X,7,2']);
      e.validate();
      // the snapshot of such a history restores to the same state hash
      lines(e, [sell(9, 101, 1, { symbol: 2 }), buy(10, 99, 1, { symbol: 1 })]);
      expect(Engine.restore(e.snapshot(), { build }).stateHash()).toBe(e.stateHash());
    });

    it('reduces in place keeping priority, and re-queues on a price change', () => {
      const e = new Engine({ symbols: 1, capacity: 100, build });
      lines(e, [sell(1, 100, 5), sell(2, 100, 5)]);
      expect(lines(e, [cmd({ op: 3, id: 1n, price: 100n, qty: 3 })])).toEqual(['M,1,100,3']);
      expect(e.levelOrders(0, 1, 100n).map((o) => o.id)).toEqual([1n, 2n]);
      expect(lines(e, [cmd({ op: 3, id: 1n, price: 100n, qty: 3 })])).toEqual(['M,1,100,3']); // not smaller: loses priority
      expect(e.levelOrders(0, 1, 100n).map((o) => o.id)).toEqual([2n, 1n]);
      expect(lines(e, [buy(9, 100, 6)])).toEqual(['A,9', 'T,9,2,100,5', 'T,9,1,100,1']);
      expect(e.order(0, 1n)).toMatchObject({ leaves: 2, filled: 1n });
    });

    it('applies self-trade prevention per symbol', () => {
      const e = new Engine({ symbols: 4, capacity: 100, build });
      const modes = ['none', 'cancel_resting', 'cancel_incoming', 'cancel_both'] as const;
      modes.forEach((m, s) => e.setSelfTradePrevention(s, m));
      expect(modes.map((_, s) => e.selfTradePrevention(s))).toEqual([...modes]);
      // ids are engine-wide, so symbol s uses ids 100·s + 1..3; the lines are shown with ids 1..3
      const local = (l: string, s: number): string => l.split(',').map((f, i) => (i === 1 || (l[0] === 'T' && i === 2) ? String(Number(f) - 100 * s) : f)).join(',');
      const got = modes.map((_, s) => lines(e, [sell(100 * s + 1, 100, 5, { symbol: s, account: 7 }), sell(100 * s + 2, 100, 5, { symbol: s, account: 8 }), buy(100 * s + 3, 100, 8, { symbol: s, account: 7 })]).map((l) => local(l, s)));
      expect(got[0]).toEqual(['A,1', 'A,2', 'A,3', 'T,3,1,100,5', 'T,3,2,100,3']);
      expect(got[1]).toEqual(['A,1', 'A,2', 'A,3', 'X,1,5', 'T,3,2,100,5', ]);
      expect(got[2]).toEqual(['A,1', 'A,2', 'A,3', 'X,3,8']);
      expect(got[3]).toEqual(['A,1', 'A,2', 'A,3', 'X,1,5', 'X,3,8']);
      // symbol 1: the buy's remainder (3) rests
      expect(e.depth(1, 0, 1)).toEqual([{ price: 100n, qty: 3n, count: 1 }]);
      const stp = e.submit([sell(4, 99, 1, { symbol: 3, account: 7 }), buy(5, 101, 1, { symbol: 3, account: 7 })]);
      expect(stp.filter((x) => x.type === 'X').map((x) => x.reason)).toEqual(['self_trade', 'self_trade']);
      expect(() => e.setSelfTradePrevention(0, 'bogus' as never)).toThrow(/self-trade prevention must be one of/);
    });

    it('rejects prices outside an optional band with bad_price', () => {
      const e = new Engine({ symbols: 2, capacity: 100, build });
      expect(e.priceBand(0)).toBeNull();
      e.setPriceBand(0, { min: 90, max: 110 });
      expect(e.priceBand(0)).toEqual({ min: 90n, max: 110n });
      expect(lines(e, [buy(1, 89, 1), buy(2, 111, 1), buy(3, 90, 1), buy(4, 111, 1, { symbol: 1 }), cmd({ op: 3, id: 3n, price: 120n, qty: 1 })]))
        .toEqual(['R,1,bad_price', 'R,2,bad_price', 'A,3', 'A,4', 'R,3,bad_price']);
      expect(lines(e, [cmd({ id: 5n, type: 1, price: 0n, side: 1, qty: 1 })])).toEqual(['A,5', 'T,5,3,90,1']); // market price not banded
      e.setPriceBand(0, null);
      expect(lines(e, [buy(6, 1000, 1)])).toEqual(['A,6']);
      expect(() => e.setPriceBand(0, { min: 10, max: 5 })).toThrow(/0 < min ≤ max/);
    });

    it('handles extreme values without trapping', () => {
      const e = new Engine({ symbols: 1, capacity: 100, build });
      const big = (1n << 64n) - 1n;
      expect(lines(e, [
        cmd({ id: big, price: I64_MAX, qty: U32_MAX, side: 1 }),
        cmd({ id: 2n, price: I64_MAX, qty: U32_MAX }),
        cmd({ id: 3n, price: -(1n << 63n), qty: 1 }),
        cmd({ id: 4n, price: I64_MAX - 1n, qty: U32_MAX }),
        cmd({ id: 5n, price: I64_MAX - 1n, qty: U32_MAX }),
      ])).toEqual([`A,${big}`, 'A,2', `T,2,${big},${I64_MAX},${U32_MAX}`, 'R,3,bad_price', 'A,4', 'A,5']);
      expect(e.depth(0, 0, 1)).toEqual([{ price: I64_MAX - 1n, qty: 2n * BigInt(U32_MAX), count: 2 }]);
      expect(lines(e, [cmd({ id: 6n, side: 1, type: 1, price: 0n, qty: U32_MAX })])).toEqual(['A,6', `T,6,4,${I64_MAX - 1n},${U32_MAX}`]);
      expect(lines(e, [cmd({ op: 9, id: 7n }), cmd({ side: 5, id: 8n }), cmd({ type: 3, id: 9n }), cmd({ tif: 4, id: 10n })]))
        .toEqual(['R,7,bad_op', 'R,8,bad_side', 'R,9,bad_type', 'R,10,bad_tif']);
      e.validate();
    });

    it('refuses out-of-range command fields with a clear error before they reach WASM', () => {
      const e = new Engine({ symbols: 1, capacity: 10, build });
      expect(() => e.submit([cmd({ qty: -1 })])).toThrow(TradsysError);
      expect(() => e.submit([cmd({ qty: 2 ** 32 })])).toThrow(/command 0: qty must be a u32/);
      expect(() => e.submit([cmd({ price: 1n << 63n })])).toThrow(/price must be an i64/);
      expect(() => e.submit([cmd({ id: -1n })])).toThrow(/id must be an integer/);
      expect(() => e.submit([cmd({ symbol: 1.5 })])).toThrow(/symbol must be a u32/);
      expect(() => new Engine({ symbols: 0, capacity: 10, build })).toThrow(/symbols must be an integer/);
      expect(() => e.runInbox(11 + e.inboxCapacity, () => {})).toThrow(/batch size/);
      expect(lines(e, [buy(1, 100, 1)])).toEqual(['A,1']); // still usable
    });

    it('rejects with capacity when the order pool is full, reuses freed nodes, and stays sound', () => {
      const e = new Engine({ symbols: 1, capacity: 3, build });
      expect(lines(e, [buy(1, 100, 1), buy(2, 99, 1), buy(3, 98, 1), buy(4, 97, 1), buy(5, 97, 1, { tif: 1 })]))
        .toEqual(['A,1', 'A,2', 'A,3', 'R,4,capacity', 'A,5', 'X,5,1']);
      let m = e.memoryStats();
      expect(m.orders).toEqual({ capacity: 3, inUse: 3, highWater: 3, freeList: 0 });
      expect(lines(e, [cmd({ op: 2, id: 2n }), buy(4, 97, 1)])).toEqual(['X,2,1', 'A,4']);
      m = e.memoryStats();
      expect(m.orders).toEqual({ capacity: 3, inUse: 3, highWater: 3, freeList: 0 });
      expect(lines(e, [sell(6, 90, 10)])).toEqual(['R,6,capacity']); // a GTC that may rest needs a free node
      expect(lines(e, [sell(6, 90, 10, { tif: 1 })])).toEqual(['A,6', 'T,6,1,100,1', 'T,6,3,98,1', 'T,6,4,97,1', 'X,6,7']);
      m = e.memoryStats();
      expect(m.orders).toEqual({ capacity: 3, inUse: 0, highWater: 3, freeList: 3 });
      expect(lines(e, [buy(7, 50, 1), buy(8, 51, 1)])).toEqual(['A,7', 'A,8']);
      expect(e.memoryStats().orders).toEqual({ capacity: 3, inUse: 2, highWater: 3, freeList: 1 });
      e.validate();
    });

    it('does not grow memory or the high-water mark after warm-up', () => {
      const e = new Engine({ symbols: 16, capacity: 200_000, build });
      const recs = generate({ seed: 3, count: 400_000, symbols: 16, mix: 'default' });
      e.submitRaw(recs, 0, 200_000, () => {});
      const before = e.memoryStats();
      const bytes = e.raw.memory.buffer.byteLength;
      // steady state: a second pass over the same flow (ids differ) keeps the book size bounded
      e.submitRaw(recs, 200_000 * CMD_SIZE, 200_000, () => {});
      const after = e.memoryStats();
      expect(e.raw.memory.buffer.byteLength).toBe(bytes);
      expect(after.wasmBytes).toBe(before.wasmBytes);
      expect(after.orders.capacity).toBe(before.orders.capacity);
      e.validate();
    });

    it('holds 10,000 symbols and a million resting orders', () => {
      const e = new Engine({ symbols: 10_000, capacity: 1_000_000, build, inboxCapacity: 8192 });
      const n = 1_000_000;
      const recs = new Uint8Array(n * CMD_SIZE);
      const dv = new DataView(recs.buffer);
      for (let i = 0; i < n; i++) {
        const p = i * CMD_SIZE;
        dv.setUint8(p, 1);
        dv.setUint8(p + 1, i & 1);
        dv.setUint32(p + 4, i % 10_000, true);
        dv.setBigUint64(p + 8, BigInt(i + 1), true);
        dv.setBigInt64(p + 16, BigInt((i & 1) === 0 ? 1000 - (i % 97) : 2000 + (i % 89)), true);
        dv.setUint32(p + 24, 1 + (i % 50), true);
        dv.setUint32(p + 28, 1, true);
      }
      let events = 0;
      e.submitRaw(recs, 0, n, (_v, _b, k) => { events += k; });
      expect(events).toBe(n);
      expect(e.memoryStats().orders.inUse).toBe(n);
      expect(lines(e, [buy(n + 1, 500, 1, { symbol: 9_999 })])).toEqual([`R,${n + 1},capacity`]);
      expect(lines(e, [sell(n + 2, 1, 1, { symbol: 0, tif: 1 })])).toEqual([`A,${n + 2}`, 'T,1000002,1,1000,1']);
      expect(e.orderCount(9_999)).toBe(100);
      e.validate();
    });

    it('turns a WASM trap into ERR_ENGINE_TRAP and fences the instance', () => {
      const e = new Engine({ symbols: 1, capacity: 10, build });
      lines(e, [buy(1, 100, 5)]);
      // corrupt the order pool header (CTRL is 64 bytes, then the pool header: base u32 first)
      const dv = new DataView(e.raw.memory.buffer);
      dv.setUint32(e.raw.engineCtrlPtr() + 64, 0xfffff000, true);
      let err: unknown;
      try { e.submit([cmd({ op: 2, id: 1n })]); } catch (x) { err = x; }
      expect(err).toBeInstanceOf(TradsysError);
      expect((err as TradsysError).code).toBe('ERR_ENGINE_TRAP');
      expect((err as Error).message).toMatch(/engine trapped: .*restore from a snapshot or replay the journal/);
      expect(() => e.submit([buy(2, 100, 1)])).toThrow(/unusable after an earlier failure/);
      expect(() => e.stateHash()).toThrow(/unusable/);
    });

    it('keeps O(log L) and a sound book for 30,000 levels placed in price order outside the ladder window', () => {
      const e = new Engine({ symbols: 1, capacity: 70_000, build, seed: 1 });
      const n = 30_000;
      // ascending prices 2048 ticks apart: every level but the first lies outside the window, the
      // insertion order that turns a naive search tree into a list
      const cmds: Command[] = [];
      for (let i = 0; i < n; i++) cmds.push(sell(i + 1, 1_000_000 + i * 2048, 1));
      expect(e.submit(cmds).length).toBe(n);
      for (let i = 0; i < n; i += 2) cmds[i] = cmd({ op: 2, id: BigInt(i + 1) }); // cancel every other level
      expect(e.submit(cmds.filter((c) => c.op === 2)).every((x) => x.type === 'X')).toBe(true);
      e.validate();
      expect(e.depth(0, 1, 2).map((l) => l.price)).toEqual([1_000_000n + 2048n, 1_000_000n + 3n * 2048n]);
      expect(lines(e, [buy(n + 1, 1_000_000 + 5 * 2048, 2)])).toEqual([`A,${n + 1}`, `T,${n + 1},2,${1_000_000 + 2048},1`, `T,${n + 1},4,${1_000_000 + 3 * 2048},1`]);
      e.validate();
    });

    it('finds a treap level whose price a re-anchored ladder window now covers, and joins it', () => {
      // 8 symbols: a 4096-tick window (base = first price − 2048); B lies outside it, in the treap
      const e = new Engine({ symbols: 8, capacity: 100, build, seed: 3 });
      const a = 1_000_000;
      const b = a + 10_000;
      lines(e, [sell(1, a, 1), sell(2, b, 5), cmd({ op: 2, id: 1n })]); // the window is empty again
      // C re-anchors the window around a + 9,000, so B's price is inside it but B is in the treap
      lines(e, [sell(3, a + 9_000, 2), sell(4, b, 7), sell(5, b - 1, 1)]);
      e.validate();
      expect(e.depth(0, 1, 5)).toEqual([{ price: BigInt(a + 9_000), qty: 2n, count: 1 }, { price: BigInt(b - 1), qty: 1n, count: 1 },
        { price: BigInt(b), qty: 12n, count: 2 }]);
      expect(e.levelOrders(0, 1, BigInt(b)).map((o) => o.id)).toEqual([2n, 4n]);
      expect(lines(e, [buy(6, b, 15)])).toEqual(['A,6', `T,6,3,${a + 9_000},2`, `T,6,5,${b - 1},1`, `T,6,2,${b},5`, `T,6,4,${b},7`]);
      e.validate();
      expect(e.depth(0, 1, 5)).toEqual([]);
    });

    it('places levels at both ends of a 4096-tick ladder window in price order', () => {
      // one symbol: window [p − 2048, p + 2048); p + 2045 lies in the window's last word, above
      // every other ladder bit, so the search for a better bid must stop at that word
      const e = new Engine({ symbols: 1, capacity: 100, build, seed: 5 });
      const p = 500_000;
      lines(e, [buy(1, p, 1), buy(2, p + 2045, 1), buy(3, p - 2048, 1), buy(4, p + 2047, 1), buy(5, p + 1990, 1), buy(6, p - 2049, 1)]);
      e.validate();
      expect(e.depth(0, 0, 10).map((l) => Number(l.price) - p)).toEqual([2047, 2045, 1990, 0, -2048, -2049]);
      lines(e, [sell(7, p + 4000, 1), sell(8, p + 2048 + 4095, 1), sell(9, p + 2048, 1), sell(10, p + 2048 + 5, 1)]);
      e.validate();
      expect(e.depth(0, 1, 10).map((l) => Number(l.price) - p)).toEqual([2048, 2053, 4000, 6143]);
      expect(lines(e, [sell(11, p - 2049, 6)])).toEqual(['A,11', `T,11,4,${p + 2047},1`, `T,11,2,${p + 2045},1`, `T,11,5,${p + 1990},1`,
        `T,11,1,${p},1`, `T,11,3,${p - 2048},1`, `T,11,6,${p - 2049},1`]);
      e.validate();
    });

    it('fences the instance when the event sink throws, after finishing the batch', () => {
      const e = new Engine({ symbols: 1, capacity: 100, build, outboxCapacity: 16 });
      lines(e, [sell(1, 100, 1), sell(2, 100, 1), sell(3, 100, 1), sell(4, 100, 1), sell(5, 100, 1)]);
      const bytes = new Uint8Array(32 * 2);
      const dv = new DataView(bytes.buffer);
      encodeCommand(dv, 0, buy(10, 100, 5));
      encodeCommand(dv, 32, buy(11, 99, 5));
      let calls = 0;
      expect(() => e.submitRaw(bytes, 0, 2, () => { if (++calls === 1) throw new Error('disk full'); })).toThrow(/event sink threw \(disk full\).*fenced/);
      expect(() => e.submit([buy(12, 98, 1)])).toThrow(/unusable after an earlier failure/);
    });

    it('refuses to go on iterating orders() across a change of state', () => {
      const e = new Engine({ symbols: 1, capacity: 10_000, build });
      const cmds: Command[] = [];
      for (let i = 1; i <= 5000; i++) cmds.push(buy(i, 1000 - (i % 50), 1));
      e.submit(cmds);
      const it = e.orders();
      for (let i = 0; i < 4096; i++) it.next();
      e.submit([cmd({ op: 2, id: 1n })]);
      expect(() => { for (let i = 0; i < 10; i++) it.next(); }).toThrow(/changed while orders\(\) was being iterated/);
    });

    it('rejects bad snapshots with a clear error', () => {
      const e = new Engine({ symbols: 2, capacity: 10, build });
      lines(e, [buy(1, 100, 5), sell(2, 101, 5)]);
      const snap = e.snapshot();
      expect(Engine.restore(snap, { build }).stateHash()).toBe(e.stateHash());
      const flipped = snap.slice();
      flipped[snap.length - 3]! ^= 0x10;
      expect(() => Engine.restore(flipped, { build })).toThrow(/CRC mismatch/);
      expect(() => Engine.restore(snap.subarray(0, 20), { build })).toThrow(/too short/);
      const badMagic = snap.slice();
      badMagic[0] = 0;
      expect(() => Engine.restore(badMagic, { build })).toThrow(/magic/);
      expect(() => Engine.restore(snap.subarray(0, snap.length - 1), { build })).toThrow(/header says/);
    });
  });
}
