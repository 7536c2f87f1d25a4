/**
 * DenseLadder (bench/baselines/dense-ladder.ts): the rule cases of FastBook's test run on the
 * ladder (same commands, same expected lines), the EVT record fields, the ladder's own paths
 * (window re-basing and growth, the far list, lazy deletion and compaction, pool growth), price
 * bands, and seeded differential tests against the reference engine, FastBook and the WASM
 * engine (events record for record and final books).
 */
import { describe, expect, it } from 'vitest';
import { MIXES, generate, prng } from '../../src/workload/generator.js';
import { DenseLadder, type DenseLadderOptions } from '../../bench/baselines/dense-ladder.js';
import { FastBook } from '../../bench/baselines/fast-book.js';
import { RefEngine } from '../reference/ref-engine.js';
import { Engine, decodeCommand } from '../../src/engine/engine.js';
import { bookLine } from '../../src/domain/types.js';
import { CMD_SIZE, EVT_SIZE } from '../../src/abi/records.js';
import type { Command } from '../../src/domain/types.js';
import { C, FOK, IOC, M, MKT, N, POST, decodeEvents as decode, encode, line, randomCommands, type Evt } from '../support/book-commands.js';

// ── helpers (shared ones in test/support/book-commands.ts) ──────────────────────────────────────────────



/** Runs `cmds` as one batch; checks the per-command framing and the invariants; returns the CSV lines. */
function runLines(b: DenseLadder, cmds: Command[]): string[] {
  const evs = decode(b.outbox, b.run(encode(cmds), 0, cmds.length));
  let cmd = 0;
  for (const e of evs) {
    expect(e.cmd).toBe(cmd);
    if (e.flags & 1) cmd++;
  }
  expect(cmd).toBe(cmds.length);
  b.validate();
  return evs.map(line);
}

function book(opts: Partial<DenseLadderOptions> = {}): DenseLadder {
  return new DenseLadder({ symbols: 2, capacity: 1000, outboxEvents: 4096, ...opts });
}

// ── the rule cases of FastBook's test ────────────────────────────────────────────────────────

interface Case { name: string; stp?: [number, number][]; capacity?: number; cmds: Command[]; lines: string[]; book?: string[] }

const STP_SETUP = (): Command[] => [N(1, 'S', 100, 2, { acct: 1 }), N(2, 'S', 100, 2, { acct: 2 }), N(3, 'S', 101, 2, { acct: 1 })];

const CASES: Case[] = [
  {
    name: 'GTC limit: best price first, oldest first, at the maker price; remainder rests',
    cmds: [N(1, 'S', 102, 5), N(2, 'S', 101, 3), N(3, 'S', 101, 4), N(4, 'S', 103, 1), N(10, 'B', 102, 15)],
    lines: ['A,1', 'A,2', 'A,3', 'A,4', 'A,10', 'T,10,2,101,3', 'T,10,3,101,4', 'T,10,1,102,5'],
    book: ['0,B,102,10,3', '0,S,103,4,1'],
  },
  {
    name: 'sell side: highest bid first; a non-crossing order rests in time order',
    cmds: [N(1, 'B', 99, 2), N(2, 'B', 100, 2), N(3, 'B', 100, 2), N(4, 'S', 100, 3), N(5, 'S', 101, 1)],
    lines: ['A,1', 'A,2', 'A,3', 'A,4', 'T,4,2,100,2', 'T,4,3,100,1', 'A,5'],
    book: ['0,B,100,3,1', '0,B,99,1,2', '0,S,101,5,1'],
  },
  {
    name: 'IOC: matches what crosses, the remainder is cancelled',
    cmds: [N(1, 'S', 100, 2), N(2, 'S', 105, 2), N(3, 'B', 101, 5, { tif: IOC }), N(4, 'B', 99, 5, { tif: IOC })],
    lines: ['A,1', 'A,2', 'A,3', 'T,3,1,100,2', 'X,3,3', 'A,4', 'X,4,5'],
    book: ['0,S,105,2,2'],
  },
  {
    name: 'FOK: fills completely when the crossing quantity covers it, else A then X',
    cmds: [N(1, 'S', 100, 2), N(2, 'S', 101, 2), N(3, 'S', 102, 2), N(4, 'B', 101, 5, { tif: FOK }), N(5, 'B', 102, 5, { tif: FOK })],
    lines: ['A,1', 'A,2', 'A,3', 'A,4', 'X,4,5', 'A,5', 'T,5,1,100,2', 'T,5,2,101,2', 'T,5,3,102,1'],
    book: ['0,S,102,3,1'],
  },
  {
    name: 'post-only: would_cross when it would match on arrival, otherwise rests',
    cmds: [N(1, 'S', 100, 2), N(2, 'B', 100, 1, { tif: POST }), N(3, 'B', 99, 1, { tif: POST }), N(4, 'S', 99, 1, { tif: POST })],
    lines: ['A,1', 'R,2,would_cross', 'A,3', 'R,4,would_cross'],
    book: ['0,B,99,3,1', '0,S,100,1,2'],
  },
  {
    name: 'market: matches at any price, the remainder is cancelled, price and tif ignored',
    cmds: [N(1, 'S', 100, 2), N(2, 'S', 5000, 2), MKT(3, 'B', 5, { tif: FOK }), MKT(4, 'S', 1, { tif: POST }), { ...MKT(5, 'B', 1), price: -7n }],
    lines: ['A,1', 'A,2', 'A,3', 'T,3,1,100,2', 'T,3,2,5000,2', 'X,3,1', 'A,4', 'X,4,1', 'A,5', 'X,5,1'],
    book: [],
  },
  {
    name: 'validation order and engine-wide ids',
    cmds: [
      N(1, 'B', 0, 0, { side: 2, type: 2, tif: 9, sym: 7 }), N(2, 'B', 0, 0, { side: 2, type: 2, tif: 9 }), N(3, 'B', 0, 0, { type: 2, tif: 9 }),
      N(4, 'B', 0, 0, { tif: 4 }), N(5, 'B', 0, 0, { type: 1, tif: 4 }), N(6, 'B', 0, 0), N(7, 'B', 0, 1), N(8, 'B', -5, 1), N(9, 'B', 10, 1),
      N(9, 'S', 11, 0), N(9, 'S', 11, 1), N(9, 'S', 11, 1, { sym: 1 }), { ...N(10, 'B', 10, 1), op: 0 }, { ...N(11, 'B', 10, 1), op: 4 },
    ],
    lines: [
      'R,1,unknown_symbol', 'R,2,bad_side', 'R,3,bad_type', 'R,4,bad_tif', 'R,5,bad_qty', 'R,6,bad_qty',
      'R,7,bad_price', 'R,8,bad_price', 'A,9', 'R,9,bad_qty', 'R,9,duplicate_id', 'R,9,duplicate_id', 'R,10,bad_op', 'R,11,bad_op',
    ],
    book: ['0,B,10,9,1'],
  },
  {
    name: 'an id may be reused once the order is gone',
    cmds: [N(1, 'S', 100, 1), N(2, 'B', 100, 1), N(1, 'B', 90, 1), C(1), N(1, 'S', 95, 1)],
    lines: ['A,1', 'A,2', 'T,2,1,100,1', 'A,1', 'X,1,1', 'A,1'],
  },
  {
    name: 'capacity: GTC and post-only rejected when full, before matching; IOC/FOK/market run; modify re-enters',
    capacity: 2,
    cmds: [N(1, 'S', 100, 5), N(2, 'S', 101, 5), N(3, 'B', 100, 1), N(4, 'B', 50, 1, { tif: POST }), N(5, 'B', 100, 1, { tif: IOC }),
      N(6, 'B', 100, 1, { tif: FOK }), MKT(7, 'B', 1), M(2, 99, 5), C(1), N(8, 'B', 10, 1), N(9, 'B', 10, 1)],
    lines: ['A,1', 'A,2', 'R,3,capacity', 'R,4,capacity', 'A,5', 'T,5,1,100,1', 'A,6', 'T,6,1,100,1', 'A,7', 'T,7,1,100,1',
      'M,2,99,5', 'X,1,2', 'A,8', 'R,9,capacity'],
    book: ['0,B,10,8,1', '0,S,99,2,5'],
  },
  {
    name: 'cancel: unknown id or another symbol is unknown_order',
    cmds: [N(1, 'B', 100, 3), N(2, 'B', 100, 4), C(1), C(1), C(2, 1), C(2, 99), C(2)],
    lines: ['A,1', 'A,2', 'X,1,3', 'R,1,unknown_order', 'R,2,unknown_order', 'R,2,unknown_order', 'X,2,4'],
    book: [],
  },
  {
    name: 'cancel reports the leaves after partial fills',
    cmds: [N(1, 'S', 100, 10), N(2, 'B', 100, 4), C(1)],
    lines: ['A,1', 'A,2', 'T,2,1,100,4', 'X,1,6'],
  },
  {
    name: 'modify checks unknown_order, then bad_qty, then bad_price',
    cmds: [N(1, 'B', 100, 3), M(2, 0, 0), M(1, 0, 0, 5), M(1, 0, 0), M(1, 0, 2), M(1, -1, 2)],
    lines: ['A,1', 'R,2,unknown_order', 'R,1,unknown_order', 'R,1,bad_qty', 'R,1,bad_price', 'R,1,bad_price'],
    book: ['0,B,100,1,3'],
  },
  {
    name: 'same price and smaller quantity: reduced in place, keeps priority',
    cmds: [N(1, 'B', 100, 5), N(2, 'B', 100, 5), M(1, 100, 2), N(3, 'S', 100, 3)],
    lines: ['A,1', 'A,2', 'M,1,100,2', 'A,3', 'T,3,1,100,2', 'T,3,2,100,1'],
    book: ['0,B,100,2,4'],
  },
  {
    name: 'same or larger quantity, or a new price: loses priority',
    cmds: [N(1, 'B', 100, 5), N(2, 'B', 100, 5), M(1, 100, 5), N(3, 'S', 100, 1), M(1, 101, 5), M(1, 100, 5)],
    lines: ['A,1', 'A,2', 'M,1,100,5', 'A,3', 'T,3,2,100,1', 'M,1,101,5', 'M,1,100,5'],
    book: ['0,B,100,2,4', '0,B,100,1,5'],
  },
  {
    name: 'a modify that crosses trades as a GTC taker (M before T); side and account kept',
    stp: [[0, 2]],
    cmds: [N(1, 'S', 101, 2, { acct: 7 }), N(2, 'S', 102, 2, { acct: 8 }), N(3, 'B', 99, 3, { acct: 9 }), M(3, 101, 5, 0, 7)],
    lines: ['A,1', 'A,2', 'A,3', 'M,3,101,5', 'T,3,1,101,2'],
    book: ['0,B,101,3,3', '0,S,102,2,2'],
  },
  { name: 'STP 0: same account trades', cmds: [...STP_SETUP(), N(9, 'B', 101, 3, { acct: 1 })], lines: ['A,1', 'A,2', 'A,3', 'A,9', 'T,9,1,100,2', 'T,9,2,100,1'] },
  {
    name: 'STP 1: cancels the resting order and continues', stp: [[0, 1]],
    cmds: [...STP_SETUP(), N(9, 'B', 101, 5, { acct: 1 })], lines: ['A,1', 'A,2', 'A,3', 'A,9', 'X,1,2', 'T,9,2,100,2', 'X,3,2'], book: ['0,B,101,9,3'],
  },
  {
    name: 'STP 2: cancels the incoming remainder, which never rests', stp: [[0, 2]],
    cmds: [N(1, 'S', 100, 2, { acct: 2 }), N(2, 'S', 100, 2, { acct: 1 }), N(9, 'B', 101, 5, { acct: 1 })],
    lines: ['A,1', 'A,2', 'A,9', 'T,9,1,100,2', 'X,9,3'], book: ['0,S,100,2,2'],
  },
  {
    name: 'STP 3: cancels the resting order, then the incoming one', stp: [[0, 3]],
    cmds: [...STP_SETUP(), N(9, 'B', 101, 5, { acct: 1 })], lines: ['A,1', 'A,2', 'A,3', 'A,9', 'X,1,2', 'X,9,5'], book: ['0,S,100,2,2', '0,S,101,3,2'],
  },
  ...([[1, ['A,9', 'X,1,2', 'T,9,2,100,2', 'X,3,2', 'T,9,4,101,1']], [2, ['A,9', 'X,9,3']], [3, ['A,9', 'X,9,3']]] as const).map(([mode, want]): Case => ({
    name: `FOK availability under STP ${mode}`, stp: [[0, mode]],
    cmds: [...STP_SETUP(), N(4, 'S', 101, 2, { acct: 2 }), N(9, 'B', 101, 3, { acct: 1, tif: FOK })], lines: ['A,1', 'A,2', 'A,3', 'A,4', ...want],
  })),
];

describe('DenseLadder: the rules (FastBook test cases)', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const b = book({ capacity: c.capacity ?? 1000 });
      for (const [s, m] of c.stp ?? []) b.setStp(s, m);
      expect(runLines(b, c.cmds)).toEqual(c.lines);
      if (c.book) expect(b.bookLines()).toEqual(c.book);
      // the same case through FastBook gives the same lines
      const f = new FastBook({ symbols: 2, capacity: c.capacity ?? 1000, outboxEvents: 4096 });
      for (const [s, m] of c.stp ?? []) f.setStp(s, m);
      expect(decode(f.outbox, f.run(encode(c.cmds), 0, c.cmds.length)).map(line)).toEqual(c.lines);
    });
  }
});

describe('DenseLadder: records', () => {
  it('writes every EVT field (ids above 2^32 exact)', () => {
    const b = new DenseLadder({ symbols: 3, capacity: 8 });
    const big = 2n ** 40n + 5n;
    const cmds = [N(big, 'S', 2n ** 35n, 10, { sym: 2, acct: 4 }), N(7, 'B', 2n ** 35n + 1n, 4, { sym: 2, acct: 5, tif: IOC }), C(8, 2)];
    expect(decode(b.outbox, b.run(encode(cmds), 0, cmds.length))).toEqual([
      { type: 'A', reason: 0, flags: 1, side: 1, symbol: 2, id: big, maker: 0n, price: 2n ** 35n, qty: 10, leaves: 10, makerLeaves: 0, cmd: 0, account: 4, makerAccount: 0, tradeId: 0n },
      { type: 'A', reason: 0, flags: 0, side: 0, symbol: 2, id: 7n, maker: 0n, price: 2n ** 35n + 1n, qty: 4, leaves: 4, makerLeaves: 0, cmd: 1, account: 5, makerAccount: 0, tradeId: 0n },
      { type: 'T', reason: 0, flags: 1, side: 0, symbol: 2, id: 7n, maker: big, price: 2n ** 35n, qty: 4, leaves: 0, makerLeaves: 6, cmd: 1, account: 5, makerAccount: 4, tradeId: 1n },
      { type: 'R', reason: 6, flags: 1, side: 0, symbol: 2, id: 8n, maker: 0n, price: 0n, qty: 0, leaves: 0, makerLeaves: 0, cmd: 2, account: 0, makerAccount: 0, tradeId: 0n },
    ]);
    const evs = decode(b.outbox, b.run(encode([M(big, 2n ** 35n - 1n, 3, 2), N(9, 'B', 2n ** 36n, 1, { sym: 2, acct: 6 }), C(big, 2)]), 0, 3));
    expect(evs.map(line)).toEqual([`M,${big},${2n ** 35n - 1n},3`, 'A,9', `T,9,${big},${2n ** 35n - 1n},1`, `X,${big},2`]);
    expect(evs[2]).toMatchObject({ tradeId: 2n, leaves: 0, makerLeaves: 2, makerAccount: 4 });
    expect(evs[3]).toMatchObject({ side: 1, account: 4, price: 2n ** 35n - 1n, leaves: 0, cmd: 2, flags: 1 });
    // ids that differ only in the high word are different orders
    expect(runLines(b, [N(2n ** 33n + 1n, 'B', 5, 1), N(1, 'B', 5, 1), N(2n ** 34n + 1n, 'B', 5, 1), C(1), N(2n ** 33n + 1n, 'B', 5, 1)]))
      .toEqual([`A,${2n ** 33n + 1n}`, 'A,1', `A,${2n ** 34n + 1n}`, 'X,1,1', `R,${2n ** 33n + 1n},duplicate_id`]);
    b.validate();
  });

  it('reads commands at an 8-aligned offset, rejects misaligned ones, throws on outbox overflow', () => {
    const b = book();
    const buf = encode([N(1, 'S', 100, 1), N(2, 'B', 100, 1)], 24);
    expect(decode(b.outbox, b.run(buf, 24, 2)).map(line)).toEqual(['A,1', 'A,2', 'T,2,1,100,1']);
    expect(() => b.run(buf, 20, 1)).toThrow(/aligned/);
    expect(() => b.run(buf, 24, 3)).toThrow(/range/);
    const small = new DenseLadder({ symbols: 1, capacity: 100, outboxEvents: 8 });
    const cmds: Command[] = [];
    for (let i = 1; i <= 8; i++) cmds.push(N(i, 'S', 100, 1));
    expect(small.run(encode(cmds), 0, 8)).toBe(8);
    expect(() => small.run(encode([MKT(99, 'B', 8)]), 0, 1)).toThrow(/overflow/);
    expect(() => new DenseLadder({ symbols: 1, capacity: 1, window: 1000 })).toThrow(/powers of two/);
  });
});

// ── the ladder's own paths ───────────────────────────────────────────────────────────────────

describe('DenseLadder: window, far list, lazy deletion', () => {
  it('thousands of levels far apart stay ordered through inserts, cancels and a sweep (far list)', () => {
    const rnd = prng(7);
    const b = new DenseLadder({ symbols: 1, capacity: 6000, outboxEvents: 1 << 14 });
    const live: number[] = [];
    const prices = new Map<number, number>();
    let id = 1;
    for (let round = 0; round < 4; round++) {
      const cmds: Command[] = [];
      for (let i = 0; i < 800; i++) {
        const ask = rnd() < 0.5;
        const p = ask ? 2 ** 40 + Math.floor(rnd() * (2 ** 52 - 2 ** 40)) : 1 + Math.floor(rnd() * 2 ** 39);
        const px = rnd() < 0.3 && live.length > 0 ? prices.get(live[Math.floor(rnd() * live.length)]!)! : p;
        cmds.push(N(id, px >= 2 ** 40 ? 'S' : 'B', px, 1 + Math.floor(rnd() * 9)));
        live.push(id);
        prices.set(id, px);
        id++;
      }
      for (let i = 0; i < 300; i++) {
        const k = Math.floor(rnd() * live.length);
        cmds.push(C(live[k]!));
        live[k] = live[live.length - 1]!;
        live.pop();
      }
      expect(runLines(b, cmds).filter((l) => l.startsWith('R'))).toEqual([]);
      expect(b.resting).toBe(live.length);
    }
    expect(b.sideInfo(0, 1).far).toBeGreaterThan(1000); // most asks live beyond the window
    const asks = b.bookLines().filter((l) => l.includes(',S,'));
    const px = asks.map((l) => Number(l.split(',')[2]));
    for (let i = 1; i < px.length; i++) expect(px[i]! >= px[i - 1]!).toBe(true);
    const total = asks.reduce((s, l) => s + Number(l.split(',')[4]), 0);
    const lines = runLines(b, [MKT(10 ** 9, 'B', total)]);
    expect(lines.slice(1).map((l) => l.split(',')[2])).toEqual(asks.map((l) => l.split(',')[3]));
    expect(b.bookLines().some((l) => l.includes(',S,'))).toBe(false);
  });

  it('a walk across 100,000 ticks re-bases, grows and evicts, and matches the reference', () => {
    for (const [window, maxWindow] of [[1024, 1024], [1024, 4096], [1024, 1 << 16]] as const) {
      const ref = new RefEngine({ symbols: 1 });
      const b = new DenseLadder({ symbols: 1, capacity: 100_000, outboxEvents: 1 << 14, window, maxWindow });
      const rnd = prng(window + maxWindow);
      let mid = 200_000;
      let id = 1;
      const ids: number[] = [];
      for (let batch = 0; batch < 40; batch++) {
        const cmds: Command[] = [];
        for (let i = 0; i < 100; i++) {
          mid += Math.floor((rnd() - 0.45) * 400); // drifts up ~2,000 ticks a batch with jumps
          const r = rnd();
          if (r < 0.6) {
            const side = rnd() < 0.5 ? 'B' : 'S';
            const off = Math.floor(rnd() * rnd() * 3000) - 20;
            cmds.push(N(id, side, side === 'B' ? mid - off : mid + off, 1 + Math.floor(rnd() * 20), { tif: rnd() < 0.1 ? IOC : 0 }));
            ids.push(id++);
          } else if (r < 0.85 && ids.length > 0) cmds.push(C(ids[Math.floor(rnd() * ids.length)]!));
          else if (ids.length > 0) cmds.push(M(ids[Math.floor(rnd() * ids.length)]!, mid + Math.floor((rnd() - 0.5) * 5000), 1 + Math.floor(rnd() * 20)));
        }
        const want = cmds.flatMap((c) => ref.apply(c));
        expect(runLines(b, cmds), `window ${window}/${maxWindow} batch ${batch}`).toEqual(want);
        expect(b.bookLines()).toEqual(ref.bookLines());
      }
      expect(ref.resting).toBeGreaterThan(100);
    }
  });

  it('a long queue: cancels behind the head are lazy, compaction and pool growth keep FIFO and counts', () => {
    const b = new DenseLadder({ symbols: 1, capacity: 12, outboxEvents: 1 << 14 });
    // one live head and 3,000 cancelled orders behind it: compaction keeps the level short
    const cmds: Command[] = [N(1, 'B', 100, 1)];
    for (let i = 2; i <= 3000; i++) cmds.push(N(i, 'B', 100, 1), C(i));
    expect(runLines(b, cmds).filter((l) => l.startsWith('R'))).toEqual([]);
    expect(b.resting).toBe(1);
    // nine more live heads, each with 9 dead tokens behind it: ~100 linked tokens > the 76-slot pool
    const more: Command[] = [];
    for (let lv = 1; lv <= 9; lv++) {
      more.push(N(5000 + lv, 'B', 100 - lv, 1));
      for (let k = 0; k < 9; k++) more.push(N(6000 + lv * 10 + k, 'B', 100 - lv, 1), C(6000 + lv * 10 + k));
    }
    expect(runLines(b, more).filter((l) => l.startsWith('R'))).toEqual([]);
    expect(b.resting).toBe(10);
    expect(b.poolSize).toBeGreaterThan(12 + 64);
    expect(runLines(b, [C(5003), C(1), N(7000, 'B', 1, 1)])).toEqual(['X,5003,1', 'X,1,1', 'A,7000']);
    const q: Command[] = [];
    for (let i = 10_001; i <= 10_003; i++) q.push(N(i, 'B', 100, 1));
    q.push(C(10_002));
    runLines(b, q);
    expect(runLines(b, [N(99_999, 'S', 99, 3)])).toEqual(['A,99999', 'T,99999,10001,100,1', 'T,99999,10003,100,1', 'T,99999,5001,99,1']);
    expect(b.bookLines().slice(0, 2)).toEqual(['0,B,98,5002,1', '0,B,96,5004,1']);
  });
});

// ── price bands ──────────────────────────────────────────────────────────────────────────────

describe('DenseLadder: price bands', () => {
  it('limit prices outside the band are bad_price on new and modify; market orders are not checked', () => {
    const b = book();
    b.setPriceBand(0, { min: 90, max: 110 });
    const cmds = [N(1, 'B', 89, 1), N(2, 'B', 90, 1), N(3, 'S', 111, 1), N(4, 'S', 110, 1), M(2, 120, 1), M(2, 91, 1), MKT(5, 'S', 1), N(6, 'B', 500, 1, { sym: 1 })];
    const want = ['R,1,bad_price', 'A,2', 'R,3,bad_price', 'A,4', 'R,2,bad_price', 'M,2,91,1', 'A,5', 'T,5,2,91,1', 'A,6'];
    expect(runLines(b, cmds)).toEqual(want);
    const ref = new RefEngine({ symbols: 2 });
    ref.setBand(0, 90n, 110n);
    expect(ref.applyAll(cmds)).toEqual(want);
    const e = new Engine({ symbols: 2, capacity: 1000 });
    e.setPriceBand(0, { min: 90, max: 110 });
    expect(e.submit(cmds).length).toBe(want.length);
    b.setPriceBand(0, null);
    expect(runLines(b, [N(7, 'B', 1, 1)])).toEqual(['A,7']);
    expect(() => b.setPriceBand(0, { min: 5, max: 4 })).toThrow(/band/);
  });
});

// ── differential tests ───────────────────────────────────────────────────────────────────────


describe('DenseLadder vs RefEngine (seeded differential)', () => {
  for (const [seed, capacity, stp, wide] of [
    [1, 10000, [0, 0, 0], false], [2, 40, [1, 2, 3], false], [3, 25, [3, 0, 1], false], [4, 10000, [2, 1, 0], false],
    [5, 10000, [0, 1, 0], true], [6, 300, [3, 2, 0], true],
  ] as const) {
    it(`seed ${seed}: capacity ${capacity}, STP ${stp.join('/')}${wide ? ', prices over thousands of ticks, window 1024' : ''}`, () => {
      const ref = new RefEngine({ symbols: 3, capacity });
      const b = new DenseLadder({ symbols: 3, capacity, outboxEvents: 1 << 14, maxWindow: 1024 });
      stp.forEach((m, s) => { ref.setStp(s, m); b.setStp(s, m); });
      if (seed === 5) { ref.setBand(1, 4000n, 7000n); b.setPriceBand(1, { min: 4000, max: 7000 }); }
      const cmds = randomCommands(seed, 4000, wide);
      const rnd = prng(seed * 31);
      let at = 0;
      let trades = 0;
      while (at < cmds.length) {
        const batch = cmds.slice(at, at + 1 + Math.floor(rnd() * 64));
        const want = batch.flatMap((c) => ref.apply(c));
        const got = runLines(b, batch);
        expect(got, `commands ${at}..${at + batch.length - 1}`).toEqual(want);
        expect(b.bookLines()).toEqual(ref.bookLines());
        expect(b.resting).toBe(ref.resting);
        trades += got.filter((l) => l.startsWith('T')).length;
        at += batch.length;
      }
      expect(trades).toBeGreaterThan(100);
    });
  }
});

describe('DenseLadder vs FastBook and the WASM engine on every generator mix', () => {
  for (const mix of MIXES) {
    it(`${mix}: every EVT record and the final book are equal`, () => {
      const n = 40_000;
      const recs = generate({ seed: 17, count: n, symbols: 4, mix, badRate: 0.002 });
      const b = new DenseLadder({ symbols: 4, capacity: n, outboxEvents: 1 << 16, maxWindow: mix === 'deep-book' ? 1024 : 1 << 16 });
      const f = new FastBook({ symbols: 4, capacity: n, outboxEvents: 1 << 16 });
      const e = new Engine({ symbols: 4, capacity: n, inboxCapacity: 1024 });
      for (let off = 0; off < n; off += 1024) {
        const k = Math.min(1024, n - off);
        const nb = b.run(recs, off * CMD_SIZE, k);
        const nf = f.run(recs, off * CMD_SIZE, k);
        expect(nb).toBe(nf);
        expect(Buffer.from(b.outbox.buffer, 0, nb * EVT_SIZE).equals(Buffer.from(f.outbox.buffer, 0, nf * EVT_SIZE)), `batch at ${off}`).toBe(true);
        let ne = 0;
        e.submitRaw(recs, off * CMD_SIZE, k, (v, _buf, c) => {
          expect(Buffer.from(v.buffer, v.byteOffset, c * EVT_SIZE).equals(Buffer.from(b.outbox.buffer, ne * EVT_SIZE, c * EVT_SIZE)), `engine batch at ${off}`).toBe(true);
          ne += c;
        });
        expect(ne).toBe(nb);
      }
      b.validate();
      const lines = b.bookLines();
      expect(lines).toEqual(f.bookLines());
      expect(lines).toEqual([...e.orders()].map(bookLine));
      // and a prefix against the reference, line by line
      const m = mix === 'deep-book' ? 3000 : 8000;
      const ref = new RefEngine({ symbols: 4 });
      const b2 = new DenseLadder({ symbols: 4, capacity: n, outboxEvents: 1 << 16 });
      const dv = new DataView(recs.buffer);
      const want: string[] = [];
      for (let i = 0; i < m; i++) want.push(...ref.apply(decodeCommand(dv, i * CMD_SIZE)));
      expect(decode(b2.outbox, b2.run(recs, 0, m)).map(line)).toEqual(want);
      expect(b2.bookLines()).toEqual(ref.bookLines());
    });
  }
});
