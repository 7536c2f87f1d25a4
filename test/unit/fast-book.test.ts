/**
 * FastBook (bench/baselines/fast-book.ts): one case per rule of DESIGN "Engine semantics", the
 * EVT record fields, deep/far-apart books against its own invariants, a seeded differential test
 * against the reference engine, and a smoke test of the nodejs-order-book adapter.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { prng } from '../../src/workload/generator.js';
import { FastBook } from '../../bench/baselines/fast-book.js';
import { NobAdapter } from '../../bench/baselines/nob-adapter.js';
import type { Command } from '../../src/domain/types.js';
import { C, FOK, GTC, IOC, M, MKT, N, POST, decodeEvents, encode, line, randomCommands, type Evt } from '../support/book-commands.js';

// ── helpers ──────────────────────────────────────────────────────────────────────────────────

const decode = (fb: FastBook, n: number): Evt[] => decodeEvents(fb.outbox, n);



/** Runs `cmds` as one batch; checks the per-command framing; returns the CSV event lines. */
function runLines(fb: FastBook, cmds: Command[]): string[] {
  const n = fb.run(encode(cmds), 0, cmds.length);
  const evs = decode(fb, n);
  // every command ends with exactly one LAST-flagged event, commands in order
  let cmd = 0;
  for (const e of evs) {
    expect(e.cmd).toBe(cmd);
    if (e.flags & 1) cmd++;
  }
  expect(cmd).toBe(cmds.length);
  fb.validate();
  return evs.map(line);
}

function book(opts: { capacity?: number; symbols?: number } = {}): FastBook {
  return new FastBook({ symbols: opts.symbols ?? 2, capacity: opts.capacity ?? 1000, outboxEvents: 4096 });
}

// ── rules ────────────────────────────────────────────────────────────────────────────────────

describe('FastBook: new orders', () => {
  it('GTC limit: matches best price first, oldest first, at the maker price; remainder rests', () => {
    const fb = book();
    expect(runLines(fb, [
      N(1, 'S', 102, 5), N(2, 'S', 101, 3), N(3, 'S', 101, 4), N(4, 'S', 103, 1),
      N(10, 'B', 102, 15),
    ])).toEqual([
      'A,1', 'A,2', 'A,3', 'A,4',
      'A,10', 'T,10,2,101,3', 'T,10,3,101,4', 'T,10,1,102,5',
    ]);
    expect(fb.bookLines()).toEqual(['0,B,102,10,3', '0,S,103,4,1']);
    expect(fb.resting).toBe(2);
  });

  it('sell side: highest bid first; a non-crossing order just rests in time order', () => {
    const fb = book();
    expect(runLines(fb, [N(1, 'B', 99, 2), N(2, 'B', 100, 2), N(3, 'B', 100, 2), N(4, 'S', 100, 3), N(5, 'S', 101, 1)]))
      .toEqual(['A,1', 'A,2', 'A,3', 'A,4', 'T,4,2,100,2', 'T,4,3,100,1', 'A,5']);
    expect(fb.bookLines()).toEqual(['0,B,100,3,1', '0,B,99,1,2', '0,S,101,5,1']);
  });

  it('IOC: matches what crosses, the remainder is cancelled', () => {
    const fb = book();
    expect(runLines(fb, [N(1, 'S', 100, 2), N(2, 'S', 105, 2), N(3, 'B', 101, 5, { tif: IOC }), N(4, 'B', 99, 5, { tif: IOC })]))
      .toEqual(['A,1', 'A,2', 'A,3', 'T,3,1,100,2', 'X,3,3', 'A,4', 'X,4,5']);
    expect(fb.bookLines()).toEqual(['0,S,105,2,2']);
  });

  it('FOK: fills completely when the crossing quantity covers it, else A then X with no trade', () => {
    const fb = book();
    expect(runLines(fb, [
      N(1, 'S', 100, 2), N(2, 'S', 101, 2), N(3, 'S', 102, 2),
      N(4, 'B', 101, 5, { tif: FOK }), // only 4 crossing
      N(5, 'B', 102, 5, { tif: FOK }),
    ])).toEqual([
      'A,1', 'A,2', 'A,3',
      'A,4', 'X,4,5',
      'A,5', 'T,5,1,100,2', 'T,5,2,101,2', 'T,5,3,102,1',
    ]);
    expect(fb.bookLines()).toEqual(['0,S,102,3,1']);
  });

  it('post-only: would_cross when it would match on arrival, otherwise rests', () => {
    const fb = book();
    expect(runLines(fb, [N(1, 'S', 100, 2), N(2, 'B', 100, 1, { tif: POST }), N(3, 'B', 99, 1, { tif: POST }), N(4, 'S', 99, 1, { tif: POST })]))
      .toEqual(['A,1', 'R,2,would_cross', 'A,3', 'R,4,would_cross']);
    expect(fb.bookLines()).toEqual(['0,B,99,3,1', '0,S,100,1,2']);
  });

  it('market: matches at any price, the remainder is cancelled, price and tif ignored', () => {
    const fb = book();
    expect(runLines(fb, [
      N(1, 'S', 100, 2), N(2, 'S', 5000, 2),
      MKT(3, 'B', 5, { tif: FOK }), MKT(4, 'S', 1, { tif: POST }),
      { ...MKT(5, 'B', 1), price: -7n },
    ])).toEqual(['A,1', 'A,2', 'A,3', 'T,3,1,100,2', 'T,3,2,5000,2', 'X,3,1', 'A,4', 'X,4,1', 'A,5', 'X,5,1']);
    expect(fb.resting).toBe(0);
  });

  it('validation order: unknown_symbol, bad_side, bad_type, bad_tif, bad_qty, bad_price, duplicate_id', () => {
    const fb = book({ symbols: 2 });
    expect(runLines(fb, [
      N(1, 'B', 0, 0, { side: 2, type: 2, tif: 9, sym: 7 }),
      N(2, 'B', 0, 0, { side: 2, type: 2, tif: 9 }),
      N(3, 'B', 0, 0, { type: 2, tif: 9 }),
      N(4, 'B', 0, 0, { tif: 4 }),
      N(5, 'B', 0, 0, { type: 1, tif: 4 }), // market ignores tif: on to bad_qty
      N(6, 'B', 0, 0),
      N(7, 'B', 0, 1),
      N(8, 'B', -5, 1),
      N(9, 'B', 10, 1),
      N(9, 'S', 11, 0), // bad_qty before duplicate_id
      N(9, 'S', 11, 1),
      N(9, 'S', 11, 1, { sym: 1 }), // ids are engine-wide: resting in symbol 0 is a duplicate in 1 too
      { ...N(10, 'B', 10, 1), op: 0 },
      { ...N(11, 'B', 10, 1), op: 4 },
    ])).toEqual([
      'R,1,unknown_symbol', 'R,2,bad_side', 'R,3,bad_type', 'R,4,bad_tif', 'R,5,bad_qty', 'R,6,bad_qty',
      'R,7,bad_price', 'R,8,bad_price', 'A,9', 'R,9,bad_qty', 'R,9,duplicate_id', 'R,9,duplicate_id', 'R,10,bad_op', 'R,11,bad_op',
    ]);
    expect(fb.bookLines()).toEqual(['0,B,10,9,1']);
  });

  it('an id may be reused once the order is gone', () => {
    const fb = book();
    expect(runLines(fb, [N(1, 'S', 100, 1), N(2, 'B', 100, 1), N(1, 'B', 90, 1), C(1), N(1, 'S', 95, 1)]))
      .toEqual(['A,1', 'A,2', 'T,2,1,100,1', 'A,1', 'X,1,1', 'A,1']);
  });

  it('capacity: GTC and post-only are rejected when full, before matching; IOC/FOK/market still run', () => {
    const fb = book({ capacity: 2 });
    expect(runLines(fb, [
      N(1, 'S', 100, 5), N(2, 'S', 101, 5),
      N(3, 'B', 100, 1), // would trade, but it is a GTC and the book is full
      N(4, 'B', 50, 1, { tif: POST }),
      N(5, 'B', 100, 1, { tif: IOC }),
      N(6, 'B', 100, 1, { tif: FOK }),
      MKT(7, 'B', 1),
      M(2, 99, 5), // modify re-enters without a capacity check
    ])).toEqual([
      'A,1', 'A,2', 'R,3,capacity', 'R,4,capacity',
      'A,5', 'T,5,1,100,1', 'A,6', 'T,6,1,100,1', 'A,7', 'T,7,1,100,1',
      'M,2,99,5',
    ]);
    expect(fb.resting).toBe(2);
    expect(fb.bookLines()).toEqual(['0,S,99,2,5', '0,S,100,1,2']);
    expect(runLines(fb, [C(1), N(8, 'B', 10, 1), N(9, 'B', 10, 1)])).toEqual(['X,1,2', 'A,8', 'R,9,capacity']);
  });
});

describe('FastBook: cancel and modify', () => {
  it('cancel removes a resting order; unknown id or symbol is unknown_order', () => {
    const fb = book();
    expect(runLines(fb, [N(1, 'B', 100, 3), N(2, 'B', 100, 4), C(1), C(1), C(2, 1), C(2, 99), C(2)]))
      .toEqual(['A,1', 'A,2', 'X,1,3', 'R,1,unknown_order', 'R,2,unknown_order', 'R,2,unknown_order', 'X,2,4']);
    expect(fb.bookLines()).toEqual([]);
  });

  it('cancel reports the leaves after partial fills', () => {
    const fb = book();
    expect(runLines(fb, [N(1, 'S', 100, 10), N(2, 'B', 100, 4), C(1)])).toEqual(['A,1', 'A,2', 'T,2,1,100,4', 'X,1,6']);
  });

  it('modify checks unknown_order, then bad_qty, then bad_price', () => {
    const fb = book();
    expect(runLines(fb, [N(1, 'B', 100, 3), M(2, 0, 0), M(1, 0, 0, 5), M(1, 0, 0), M(1, 0, 2), M(1, -1, 2)]))
      .toEqual(['A,1', 'R,2,unknown_order', 'R,1,unknown_order', 'R,1,bad_qty', 'R,1,bad_price', 'R,1,bad_price']);
    expect(fb.bookLines()).toEqual(['0,B,100,1,3']);
  });

  it('same price and smaller quantity: reduced in place, keeps priority', () => {
    const fb = book();
    expect(runLines(fb, [N(1, 'B', 100, 5), N(2, 'B', 100, 5), M(1, 100, 2), N(3, 'S', 100, 3)]))
      .toEqual(['A,1', 'A,2', 'M,1,100,2', 'A,3', 'T,3,1,100,2', 'T,3,2,100,1']);
    expect(fb.bookLines()).toEqual(['0,B,100,2,4']);
  });

  it('same or larger quantity, or a new price: loses priority', () => {
    const fb = book();
    expect(runLines(fb, [N(1, 'B', 100, 5), N(2, 'B', 100, 5), M(1, 100, 5), N(3, 'S', 100, 1)]))
      .toEqual(['A,1', 'A,2', 'M,1,100,5', 'A,3', 'T,3,2,100,1']);
    expect(fb.bookLines()).toEqual(['0,B,100,2,4', '0,B,100,1,5']);
    expect(runLines(fb, [M(1, 101, 5), M(1, 100, 5)])).toEqual(['M,1,101,5', 'M,1,100,5']);
    expect(fb.bookLines()).toEqual(['0,B,100,2,4', '0,B,100,1,5']);
  });

  it('a modify that crosses trades as a GTC taker (M before T), remainder rests; side and account kept', () => {
    const fb = book();
    fb.setStp(0, 2);
    expect(runLines(fb, [
      N(1, 'S', 101, 2, { acct: 7 }), N(2, 'S', 102, 2, { acct: 8 }), N(3, 'B', 99, 3, { acct: 9 }),
      M(3, 101, 5, 0, 7), // the modify's account field is ignored: the order keeps account 9
    ])).toEqual(['A,1', 'A,2', 'A,3', 'M,3,101,5', 'T,3,1,101,2']);
    expect(fb.bookLines()).toEqual(['0,B,101,3,3', '0,S,102,2,2']);
  });
});

describe('FastBook: self-trade prevention', () => {
  const setup = (): Command[] => [N(1, 'S', 100, 2, { acct: 1 }), N(2, 'S', 100, 2, { acct: 2 }), N(3, 'S', 101, 2, { acct: 1 })];

  it('mode 0: same account trades', () => {
    const fb = book();
    expect(runLines(fb, [...setup(), N(9, 'B', 101, 3, { acct: 1 })]).slice(3)).toEqual(['A,9', 'T,9,1,100,2', 'T,9,2,100,1']);
  });

  it('mode 1: cancels the resting order and continues', () => {
    const fb = book();
    fb.setStp(0, 1);
    expect(runLines(fb, [...setup(), N(9, 'B', 101, 5, { acct: 1 })]).slice(3))
      .toEqual(['A,9', 'X,1,2', 'T,9,2,100,2', 'X,3,2']);
    expect(fb.bookLines()).toEqual(['0,B,101,9,3']);
  });

  it('mode 2: cancels the incoming remainder, which never rests', () => {
    const fb = book();
    fb.setStp(0, 2);
    expect(runLines(fb, [N(1, 'S', 100, 2, { acct: 2 }), N(2, 'S', 100, 2, { acct: 1 }), N(9, 'B', 101, 5, { acct: 1 })]).slice(2))
      .toEqual(['A,9', 'T,9,1,100,2', 'X,9,3']);
    expect(fb.bookLines()).toEqual(['0,S,100,2,2']);
  });

  it('mode 3: cancels the resting order, then the incoming one', () => {
    const fb = book();
    fb.setStp(0, 3);
    expect(runLines(fb, [...setup(), N(9, 'B', 101, 5, { acct: 1 })]).slice(3)).toEqual(['A,9', 'X,1,2', 'X,9,5']);
    expect(fb.bookLines()).toEqual(['0,S,100,2,2', '0,S,101,3,2']);
  });

  it('STP is per symbol and STP events carry the self_trade reason and flag', () => {
    const fb = book();
    fb.setStp(1, 3);
    expect(runLines(fb, [N(1, 'S', 100, 2, { acct: 1 }), N(2, 'B', 100, 1, { acct: 1 })])).toEqual(['A,1', 'A,2', 'T,2,1,100,1']);
    // ids are engine-wide (id 1 still rests in symbol 0): symbol 1 uses ids 3 and 4
    const n = fb.run(encode([N(3, 'S', 100, 2, { acct: 1, sym: 1 }), N(4, 'B', 100, 1, { acct: 1, sym: 1 })]), 0, 2);
    const evs = decode(fb, n);
    expect(evs.map(line)).toEqual(['A,3', 'A,4', 'X,3,2', 'X,4,1']);
    expect(evs[2]).toMatchObject({ reason: 12, flags: 2, side: 1, symbol: 1, account: 1, price: 100n });
    expect(evs[3]).toMatchObject({ reason: 12, flags: 3, side: 0, symbol: 1, account: 1, price: 100n });
  });

  it('FOK availability: same-account orders are skipped in mode 1, end the walk in modes 2 and 3', () => {
    for (const [mode, want] of [
      [1, ['A,9', 'X,1,2', 'T,9,2,100,2', 'X,3,2', 'T,9,4,101,1']],
      [2, ['A,9', 'X,9,3']],
      [3, ['A,9', 'X,9,3']],
    ] as const) {
      const fb = book();
      fb.setStp(0, mode);
      const lines = runLines(fb, [...setup(), N(4, 'S', 101, 2, { acct: 2 }), N(9, 'B', 101, 3, { acct: 1, tif: FOK })]);
      expect(lines.slice(4)).toEqual(want);
    }
    for (const mode of [2, 3]) {
      // another account's order ahead of the same-account one: 2 available, not 3, so no trade
      const fb2 = book();
      fb2.setStp(0, mode);
      expect(runLines(fb2, [N(1, 'S', 100, 2, { acct: 2 }), N(2, 'S', 100, 2, { acct: 1 }), N(3, 'S', 101, 2, { acct: 2 }),
        N(9, 'B', 101, 3, { acct: 1, tif: FOK }), N(10, 'B', 101, 2, { acct: 1, tif: FOK })]).slice(3))
        .toEqual(['A,9', 'X,9,3', 'A,10', 'T,10,1,100,2']);
    }
    const fb = book();
    fb.setStp(0, 2);
    expect(runLines(fb, [...setup(), N(9, 'B', 101, 7, { acct: 3, tif: FOK }), N(10, 'B', 100, 1, { acct: 2, tif: FOK })]).slice(3))
      .toEqual(['A,9', 'X,9,7', 'A,10', 'T,10,1,100,1']);
  });
});

describe('FastBook: records', () => {
  it('writes every EVT field', () => {
    const fb = new FastBook({ symbols: 3, capacity: 8 });
    const big = 2n ** 40n + 5n;
    const cmds = [N(big, 'S', 2n ** 35n, 10, { sym: 2, acct: 4 }), N(7, 'B', 2n ** 35n + 1n, 4, { sym: 2, acct: 5, tif: IOC }), C(8, 2)];
    const evs = decode(fb, fb.run(encode(cmds), 0, cmds.length));
    expect(evs).toEqual([
      { type: 'A', reason: 0, flags: 1, side: 1, symbol: 2, id: big, maker: 0n, price: 2n ** 35n, qty: 10, leaves: 10, makerLeaves: 0, cmd: 0, account: 4, makerAccount: 0, tradeId: 0n },
      { type: 'A', reason: 0, flags: 0, side: 0, symbol: 2, id: 7n, maker: 0n, price: 2n ** 35n + 1n, qty: 4, leaves: 4, makerLeaves: 0, cmd: 1, account: 5, makerAccount: 0, tradeId: 0n },
      { type: 'T', reason: 0, flags: 1, side: 0, symbol: 2, id: 7n, maker: big, price: 2n ** 35n, qty: 4, leaves: 0, makerLeaves: 6, cmd: 1, account: 5, makerAccount: 4, tradeId: 1n },
      { type: 'R', reason: 6, flags: 1, side: 0, symbol: 2, id: 8n, maker: 0n, price: 0n, qty: 0, leaves: 0, makerLeaves: 0, cmd: 2, account: 0, makerAccount: 0, tradeId: 0n },
    ]);
    // trade ids continue across run calls; M and X carry the order's side, price and account
    const evs2 = decode(fb, fb.run(encode([M(big, 2n ** 35n - 1n, 3, 2), N(9, 'B', 2n ** 36n, 1, { sym: 2, acct: 6 }), C(big, 2)]), 0, 3));
    expect(evs2.map(line)).toEqual([`M,${big},${2n ** 35n - 1n},3`, 'A,9', `T,9,${big},${2n ** 35n - 1n},1`, `X,${big},2`]);
    expect(evs2[0]).toMatchObject({ side: 1, account: 4, leaves: 3, cmd: 0, flags: 1 });
    expect(evs2[2]).toMatchObject({ tradeId: 2n, leaves: 0, makerLeaves: 2, makerAccount: 4 });
    expect(evs2[3]).toMatchObject({ side: 1, account: 4, price: 2n ** 35n - 1n, leaves: 0, cmd: 2, flags: 1 });
  });

  it('rejects echo the command fields, negative prices included', () => {
    const fb = book();
    const evs = decode(fb, fb.run(encode([{ ...N(5, 'S', -3, 9, { acct: 77 }), tif: 0 }]), 0, 1));
    expect(evs[0]).toMatchObject({ type: 'R', reason: 3, flags: 1, side: 1, id: 5n, price: -3n, qty: 9, account: 77 });
  });

  it('reads commands at an 8-aligned offset and rejects misaligned ones', () => {
    const fb = book();
    const buf = encode([N(1, 'S', 100, 1), N(2, 'B', 100, 1)], 24);
    const n = fb.run(buf, 24, 2);
    expect(decode(fb, n).map(line)).toEqual(['A,1', 'A,2', 'T,2,1,100,1']);
    expect(() => fb.run(buf, 20, 1)).toThrow(/aligned/);
    expect(() => fb.run(buf, 24, 3)).toThrow(/range/);
  });

  it('throws when the outbox would overflow', () => {
    const fb = new FastBook({ symbols: 1, capacity: 100, outboxEvents: 8 });
    const cmds: Command[] = [];
    for (let i = 1; i <= 8; i++) cmds.push(N(i, 'S', 100, 1));
    expect(fb.run(encode(cmds), 0, 8)).toBe(8);
    expect(() => fb.run(encode([MKT(99, 'B', 8)]), 0, 1)).toThrow(/overflow/);
  });
});

// ── deep books, far prices ───────────────────────────────────────────────────────────────────


describe('FastBook: deep books', () => {
  it('thousands of levels with prices far apart stay ordered through inserts, cancels and sweeps', () => {
    const rnd = prng(7);
    const fb = new FastBook({ symbols: 1, capacity: 6000, outboxEvents: 1 << 14 });
    const live: number[] = [];
    const prices = new Map<number, number>();
    let id = 1;
    for (let round = 0; round < 6; round++) {
      const cmds: Command[] = [];
      for (let i = 0; i < 800; i++) {
        // asks spread over [2^40, 2^52), bids below 2^39: never crossing
        const ask = rnd() < 0.5;
        const p = ask ? 2 ** 40 + Math.floor(rnd() * (2 ** 52 - 2 ** 40)) : 1 + Math.floor(rnd() * 2 ** 39);
        const px = rnd() < 0.3 && live.length > 0 ? prices.get(live[Math.floor(rnd() * live.length)]!)! : p;
        const side = px >= 2 ** 40 ? 'S' : 'B';
        cmds.push(N(id, side, px, 1 + Math.floor(rnd() * 9)));
        live.push(id);
        prices.set(id, px);
        id++;
      }
      for (let i = 0; i < 300; i++) {
        const k = Math.floor(rnd() * live.length);
        const victim = live[k]!;
        live[k] = live[live.length - 1]!;
        live.pop();
        cmds.push(C(victim));
      }
      const lines = runLines(fb, cmds);
      expect(lines.filter((l) => l.startsWith('R'))).toEqual([]);
      expect(fb.resting).toBe(live.length);
      const bl = fb.bookLines();
      const bidPx = bl.filter((l) => l.includes(',B,')).map((l) => Number(l.split(',')[2]));
      const askPx = bl.filter((l) => l.includes(',S,')).map((l) => Number(l.split(',')[2]));
      for (let i = 1; i < bidPx.length; i++) expect(bidPx[i]! <= bidPx[i - 1]!).toBe(true);
      for (let i = 1; i < askPx.length; i++) expect(askPx[i]! >= askPx[i - 1]!).toBe(true);
    }
    // a market sweep takes every ask in price order
    const asks = fb.bookLines().filter((l) => l.includes(',S,'));
    const total = asks.reduce((s, l) => s + Number(l.split(',')[4]), 0);
    const lines = runLines(fb, [MKT(10 ** 9, 'B', total)]);
    expect(lines.slice(1).map((l) => l.split(',')[2])).toEqual(asks.map((l) => l.split(',')[3]));
    expect(fb.bookLines().some((l) => l.includes(',S,'))).toBe(false);
  });

  it('a long queue at one price: cancels in the middle are O(1) and FIFO is kept', () => {
    const fb = new FastBook({ symbols: 1, capacity: 20000, outboxEvents: 1 << 15 });
    const cmds: Command[] = [];
    for (let i = 1; i <= 20000; i++) cmds.push(N(i, 'B', 100, 1));
    runLines(fb, cmds);
    const cancels: Command[] = [];
    for (let i = 2; i <= 20000; i += 2) cancels.push(C(i));
    runLines(fb, cancels);
    expect(fb.resting).toBe(10000);
    const lines = runLines(fb, [N(99999, 'S', 100, 3)]);
    expect(lines).toEqual(['A,99999', 'T,99999,1,100,1', 'T,99999,3,100,1', 'T,99999,5,100,1']);
  });
});

// ── differential against the reference engine ────────────────────────────────────────────────

const REF_PATH = new URL('../reference/ref-engine.ts', import.meta.url);

describe.skipIf(!existsSync(REF_PATH))('FastBook vs RefEngine (seeded differential)', () => {
  for (const [seed, capacity, stp] of [[1, 10000, [0, 0, 0]], [2, 40, [1, 2, 3]], [3, 25, [3, 0, 1]], [4, 10000, [2, 1, 0]]] as const) {
    it(`seed ${seed}: capacity ${capacity}, STP ${stp.join('/')}`, async () => {
      const { RefEngine } = await import('../reference/ref-engine.js');
      const ref = new RefEngine({ symbols: 3, capacity });
      const fb = new FastBook({ symbols: 3, capacity, outboxEvents: 1 << 14 });
      stp.forEach((m, s) => { ref.setStp(s, m); fb.setStp(s, m); });
      const cmds = randomCommands(seed, 4000, false);
      const rnd = prng(seed * 31);
      let at = 0;
      let trades = 0;
      while (at < cmds.length) {
        const batch = cmds.slice(at, at + 1 + Math.floor(rnd() * 64));
        const want: string[] = [];
        for (const c of batch) want.push(...ref.apply(c));
        const got = runLines(fb, batch);
        expect(got, `commands ${at}..${at + batch.length - 1}`).toEqual(want);
        expect(fb.bookLines()).toEqual(ref.bookLines());
        expect(fb.resting).toBe(ref.resting);
        trades += got.filter((l) => l.startsWith('T')).length;
        at += batch.length;
      }
      expect(trades).toBeGreaterThan(200);
    });
  }
});

// ── the nodejs-order-book adapter ────────────────────────────────────────────────────────────

describe('NobAdapter', () => {
  it('runs every kind of command and counts what the library refuses', () => {
    const nob = new NobAdapter({ symbols: 2 });
    nob.setStp(1, 1);
    const cmds = [
      N(1, 'S', 100, 5), N(2, 'S', 101, 5), N(3, 'B', 100, 2, { tif: IOC }), N(4, 'B', 101, 50, { tif: FOK }),
      N(5, 'B', 99, 1, { tif: POST }), N(6, 'B', 101, 1, { tif: POST }), MKT(7, 'B', 1),
      M(2, 102, 3), M(42, 102, 3), C(1), C(1), N(8, 'B', 10, 1, { sym: 5 }),
      N(9, 'S', 100, 1, { sym: 1, acct: 3 }), N(10, 'B', 100, 1, { sym: 1, acct: 3 }),
      { ...N(11, 'B', 1, 1), op: 9 },
    ];
    const buf = encode(cmds, 8);
    const ops = nob.run(buf, 8, cmds.length);
    expect(ops).toBe(cmds.length - 2); // unknown symbol and bad op never reach the library
    // errors: FOK not fillable, post-only crossing, modify of unknown id, second cancel, unknown
    // symbol, bad op
    expect(nob.errors).toBe(6);
    expect(nob.thrown).toBe(0);
  });
});
