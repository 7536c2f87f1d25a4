/**
 * Hand-computed cases for the reference matching engine (test/reference/ref-engine.ts), one or more
 * per rule of DESIGN "Engine semantics" and the project's decisions layered on it (validation
 * order, STP, FOK under STP, bands, capacity, modify priority, extreme values).
 */
import { describe, it, expect } from 'vitest';
import type { Command } from '../../src/domain/types.js';
import { RefEngine } from '../reference/ref-engine.js';

const I64_MAX = 9223372036854775807n;
const U32_MAX = 4294967295;

type Extra = Partial<Command>;

function cmd(p: Extra): Command {
  return { op: 1, side: 0, type: 0, tif: 0, symbol: 0, id: 0n, price: 0n, qty: 0, account: 0, ...p };
}
const buy = (id: number, price: bigint | number, qty: number, x: Extra = {}): Command =>
  cmd({ id: BigInt(id), side: 0, price: BigInt(price), qty, ...x });
const sell = (id: number, price: bigint | number, qty: number, x: Extra = {}): Command =>
  cmd({ id: BigInt(id), side: 1, price: BigInt(price), qty, ...x });
const mkt = (id: number, side: number, qty: number, x: Extra = {}): Command =>
  cmd({ id: BigInt(id), side, type: 1, price: 0n, qty, ...x });
const cancel = (id: number, symbol = 0): Command => cmd({ op: 2, id: BigInt(id), symbol });
const modify = (id: number, price: bigint | number, qty: number, symbol = 0): Command =>
  cmd({ op: 3, id: BigInt(id), price: BigInt(price), qty, symbol });

const GTC = 0, IOC = 1, FOK = 2, POST = 3;

function engine(symbols = 1, capacity?: number): RefEngine {
  return capacity === undefined ? new RefEngine({ symbols }) : new RefEngine({ symbols, capacity });
}

/** Applies and checks invariants after every command. */
function run(e: RefEngine, cmds: Command[]): string[] {
  const out: string[] = [];
  for (const c of cmds) {
    out.push(...e.apply(c));
    e.checkInvariants();
  }
  return out;
}

describe('validation of new orders', () => {
  it('rejects an unknown op first, whatever else is wrong', () => {
    const e = engine();
    expect(e.apply(cmd({ op: 0, id: 1n, side: 9, qty: 0 }))).toEqual(['R,1,bad_op']);
    expect(e.apply(cmd({ op: 4, id: 2n }))).toEqual(['R,2,bad_op']);
    expect(e.apply(cmd({ op: 255, id: 3n, symbol: 99 }))).toEqual(['R,3,bad_op']);
    expect(e.resting).toBe(0);
  });

  it('checks symbol, side, type, tif, qty, price in that order', () => {
    const e = engine(2);
    expect(e.apply(cmd({ id: 1n, side: 2, type: 7, tif: 9, symbol: 5, qty: 0 }))).toEqual(['R,1,unknown_symbol']);
    expect(e.apply(cmd({ id: 2n, side: 2, type: 7, tif: 9, symbol: 1, qty: 0 }))).toEqual(['R,2,bad_side']);
    expect(e.apply(cmd({ id: 3n, side: 1, type: 2, tif: 9, symbol: 1, qty: 0 }))).toEqual(['R,3,bad_type']);
    expect(e.apply(cmd({ id: 4n, side: 0, type: 0, tif: 4, symbol: 1, qty: 0 }))).toEqual(['R,4,bad_tif']);
    expect(e.apply(cmd({ id: 4n, tif: 3, symbol: 2, qty: 0, price: 0n }))).toEqual(['R,4,unknown_symbol']);
    expect(e.apply(cmd({ id: 5n, symbol: 1, qty: 0, price: 0n }))).toEqual(['R,5,bad_qty']);
    expect(e.apply(cmd({ id: 6n, symbol: 1, qty: -3, price: 10n }))).toEqual(['R,6,bad_qty']);
    expect(e.apply(cmd({ id: 7n, symbol: 1, qty: 1, price: 0n }))).toEqual(['R,7,bad_price']);
    expect(e.apply(cmd({ id: 8n, symbol: 1, qty: 1, price: -5n }))).toEqual(['R,8,bad_price']);
    expect(e.apply(buy(9, 1, 1, { symbol: 1 }))).toEqual(['A,9']);
    expect(e.resting).toBe(1);
  });

  it('market orders ignore time in force, whatever its value', () => {
    const e = engine();
    expect(e.apply(mkt(1, 0, 5, { tif: 4 }))).toEqual(['A,1', 'X,1,5']);
  });

  it('bad_price before duplicate_id; duplicate_id in any symbol (ids are unique across the engine)', () => {
    const e = engine(2);
    expect(run(e, [buy(1, 100, 5)])).toEqual(['A,1']);
    expect(e.apply(buy(1, 0, 5))).toEqual(['R,1,bad_price']);
    expect(e.apply(sell(1, 200, 5))).toEqual(['R,1,duplicate_id']);
    expect(e.apply(buy(1, 100, 5, { type: 1 }))).toEqual(['R,1,duplicate_id']); // market too
    expect(e.apply(sell(1, 200, 5, { symbol: 1 }))).toEqual(['R,1,duplicate_id']); // other symbol too
    expect(e.resting).toBe(1);
    // once it leaves the book the id is free in every symbol
    expect(run(e, [cancel(1), sell(1, 200, 5, { symbol: 1 })])).toEqual(['X,1,5', 'A,1']);
  });

  it('an id is free again once its order no longer rests', () => {
    const e = engine();
    expect(run(e, [buy(1, 100, 5), sell(2, 100, 5), buy(1, 90, 1)])).toEqual(['A,1', 'A,2', 'T,2,1,100,5', 'A,1']);
    expect(run(e, [cancel(1), buy(1, 91, 2)])).toEqual(['X,1,1', 'A,1']);
    // an IOC taker never rests, so its id can come back straight away
    expect(run(e, [sell(3, 200, 1, { tif: IOC }), sell(3, 200, 1, { tif: IOC })])).toEqual(['A,3', 'X,3,1', 'A,3', 'X,3,1']);
  });

  it('price band: limit prices outside [lo,hi] are bad_price, edges accepted, markets unchecked', () => {
    const e = engine(2);
    e.setBand(0, 90n, 110n);
    expect(e.apply(buy(1, 89, 1))).toEqual(['R,1,bad_price']);
    expect(e.apply(sell(2, 111, 1))).toEqual(['R,2,bad_price']);
    expect(e.apply(buy(3, 90, 1))).toEqual(['A,3']);
    expect(e.apply(sell(4, 110, 1))).toEqual(['A,4']);
    expect(e.apply(buy(5, 200, 1, { symbol: 1 }))).toEqual(['A,5']); // band is per symbol
    expect(e.apply(mkt(6, 1, 1, { price: 5n }))).toEqual(['A,6', 'T,6,3,90,1']);
    // band is checked before duplicate_id
    expect(e.apply(sell(4, 120, 1))).toEqual(['R,4,bad_price']);
    e.clearBand(0);
    expect(e.apply(buy(7, 89, 1))).toEqual(['A,7']);
    expect(e.apply(sell(8, 111, 1))).toEqual(['A,8']);
  });

  it('setStp/setBand reject bad arguments', () => {
    const e = engine(1);
    expect(() => e.setStp(1, 1)).toThrow(RangeError);
    expect(() => e.setStp(0, 4)).toThrow(RangeError);
    expect(() => e.setBand(0, 10n, 9n)).toThrow(RangeError);
    expect(() => e.clearBand(-1)).toThrow(RangeError);
  });
});

describe('GTC limit matching', () => {
  it('best price first, oldest first, at the maker price; partial maker stays at the front', () => {
    const e = engine();
    expect(run(e, [sell(1, 101, 5), sell(2, 100, 3), sell(3, 100, 4), sell(4, 102, 1)])).toEqual(['A,1', 'A,2', 'A,3', 'A,4']);
    expect(e.bookLines()).toEqual(['0,S,100,2,3', '0,S,100,3,4', '0,S,101,1,5', '0,S,102,4,1']);
    expect(run(e, [buy(10, 101, 10)])).toEqual(['A,10', 'T,10,2,100,3', 'T,10,3,100,4', 'T,10,1,101,3']);
    expect(e.bookLines()).toEqual(['0,S,101,1,2', '0,S,102,4,1']);
    // the remainder of a crossing GTC rests at its own price
    expect(run(e, [buy(11, 101, 5)])).toEqual(['A,11', 'T,11,1,101,2']);
    expect(e.bookLines()).toEqual(['0,B,101,11,3', '0,S,102,4,1']);
    expect(e.orders()).toEqual([
      { symbol: 0, side: 0, price: 101n, id: 11n, leaves: 3, account: 0, filled: 2n },
      { symbol: 0, side: 1, price: 102n, id: 4n, leaves: 1, account: 0, filled: 0n },
    ]);
    expect(e.resting).toBe(2);
  });

  it('sell taker walks bids from the highest down and stops at its limit', () => {
    const e = engine();
    run(e, [buy(1, 99, 2, { account: 1 }), buy(2, 98, 2), buy(3, 99, 2), buy(4, 97, 5)]);
    expect(e.bookLines()).toEqual(['0,B,99,1,2', '0,B,99,3,2', '0,B,98,2,2', '0,B,97,4,5']);
    expect(run(e, [sell(5, 98, 7)])).toEqual(['A,5', 'T,5,1,99,2', 'T,5,3,99,2', 'T,5,2,98,2']);
    expect(e.bookLines()).toEqual(['0,B,97,4,5', '0,S,98,5,1']);
    expect(e.orders()[1]).toEqual({ symbol: 0, side: 1, price: 98n, id: 5n, leaves: 1, account: 0, filled: 6n });
  });

  it('non-crossing orders rest at the back of their level', () => {
    const e = engine();
    expect(run(e, [buy(1, 100, 1), buy(2, 101, 1), buy(3, 100, 1), sell(4, 103, 1), sell(5, 102, 1), sell(6, 103, 1)]))
      .toEqual(['A,1', 'A,2', 'A,3', 'A,4', 'A,5', 'A,6']);
    expect(e.bookLines()).toEqual(['0,B,101,2,1', '0,B,100,1,1', '0,B,100,3,1', '0,S,102,5,1', '0,S,103,4,1', '0,S,103,6,1']);
  });

  it('an exact fill leaves nothing of either side', () => {
    const e = engine();
    expect(run(e, [sell(1, 50, 4), buy(2, 50, 4)])).toEqual(['A,1', 'A,2', 'T,2,1,50,4']);
    expect(e.bookLines()).toEqual([]);
    expect(e.resting).toBe(0);
  });
});

describe('IOC, FOK, market, post-only', () => {
  it('IOC: matches then cancels its remainder; no cross → A then X of all', () => {
    const e = engine();
    run(e, [sell(1, 100, 3), sell(2, 101, 3)]);
    expect(run(e, [buy(3, 100, 5, { tif: IOC })])).toEqual(['A,3', 'T,3,1,100,3', 'X,3,2']);
    expect(run(e, [buy(4, 100, 5, { tif: IOC })])).toEqual(['A,4', 'X,4,5']);
    expect(run(e, [buy(5, 101, 3, { tif: IOC })])).toEqual(['A,5', 'T,5,2,101,3']);
    expect(e.resting).toBe(0);
  });

  it('FOK: full match when the crossing quantity covers it, otherwise killed with no trade', () => {
    const e = engine();
    run(e, [sell(1, 100, 3), sell(2, 101, 4), sell(3, 102, 10)]);
    // only 7 available at ≤ 101
    expect(run(e, [buy(4, 101, 8, { tif: FOK })])).toEqual(['A,4', 'X,4,8']);
    expect(e.bookLines()).toEqual(['0,S,100,1,3', '0,S,101,2,4', '0,S,102,3,10']);
    // exactly 7: fills
    expect(run(e, [buy(5, 101, 7, { tif: FOK })])).toEqual(['A,5', 'T,5,1,100,3', 'T,5,2,101,4']);
    expect(e.bookLines()).toEqual(['0,S,102,3,10']);
    // under the available quantity: fills partly through a level
    expect(run(e, [buy(6, 200, 6, { tif: FOK })])).toEqual(['A,6', 'T,6,3,102,6']);
    expect(e.bookLines()).toEqual(['0,S,102,3,4']);
    // empty side
    expect(run(e, [sell(7, 1, 1, { tif: FOK })])).toEqual(['A,7', 'X,7,1']);
  });

  it('market: price never checked, sweeps every level, remainder cancelled, tif ignored', () => {
    const e = engine();
    run(e, [buy(1, 100, 2), buy(2, 90, 2), buy(3, 1, 2)]);
    expect(run(e, [mkt(4, 1, 7, { price: -7n })])).toEqual(['A,4', 'T,4,1,100,2', 'T,4,2,90,2', 'T,4,3,1,2', 'X,4,1']);
    expect(run(e, [mkt(5, 0, 3)])).toEqual(['A,5', 'X,5,3']);
    run(e, [sell(6, I64_MAX, 2)]);
    // a market FOK is a plain market order: partial fill, remainder cancelled
    expect(run(e, [mkt(7, 0, 5, { tif: FOK })])).toEqual(['A,7', 'T,7,6,9223372036854775807,2', 'X,7,3']);
    // a market post-only / GTC neither is rejected as crossing nor rests
    run(e, [sell(8, 10, 1)]);
    expect(run(e, [mkt(9, 0, 2, { tif: POST })])).toEqual(['A,9', 'T,9,8,10,1', 'X,9,1']);
    expect(run(e, [mkt(10, 0, 2, { tif: GTC })])).toEqual(['A,10', 'X,10,2']);
    expect(e.resting).toBe(0);
  });

  it('post-only rests when not crossing and is rejected would_cross when it would trade', () => {
    const e = engine();
    run(e, [sell(1, 100, 5), buy(2, 98, 5)]);
    expect(run(e, [buy(3, 100, 1, { tif: POST })])).toEqual(['R,3,would_cross']);
    expect(run(e, [buy(4, 101, 1, { tif: POST })])).toEqual(['R,4,would_cross']);
    expect(run(e, [sell(5, 98, 1, { tif: POST })])).toEqual(['R,5,would_cross']);
    expect(run(e, [buy(6, 99, 1, { tif: POST }), sell(7, 100, 1, { tif: POST })])).toEqual(['A,6', 'A,7']);
    expect(e.bookLines()).toEqual(['0,B,99,6,1', '0,B,98,2,5', '0,S,100,1,5', '0,S,100,7,1']);
    // duplicate_id is checked before would_cross
    expect(run(e, [buy(1, 100, 1, { tif: POST })])).toEqual(['R,1,duplicate_id']);
  });
});

describe('cancel', () => {
  it('removes a resting order reporting its leaves', () => {
    const e = engine();
    run(e, [buy(1, 100, 10), sell(2, 100, 4)]);
    expect(run(e, [cancel(1)])).toEqual(['X,1,6']);
    expect(e.resting).toBe(0);
    expect(run(e, [cancel(1)])).toEqual(['R,1,unknown_order']);
  });

  it('unknown id, unknown symbol and another symbol are unknown_order; the key is the id, checked against the symbol', () => {
    const e = engine(2);
    run(e, [buy(1, 100, 1), sell(2, 200, 2, { symbol: 1 })]);
    expect(run(e, [cancel(9)])).toEqual(['R,9,unknown_order']);
    expect(run(e, [cancel(1, 2)])).toEqual(['R,1,unknown_order']);
    expect(run(e, [cancel(1, 1), modify(1, 101, 1, 1), cancel(2, 0)])).toEqual(['R,1,unknown_order', 'R,1,unknown_order', 'R,2,unknown_order']); // rests in another symbol
    expect(run(e, [cancel(2, 1)])).toEqual(['X,2,2']);
    expect(e.bookLines()).toEqual(['0,B,100,1,1']);
    expect(run(e, [cancel(2, 1)])).toEqual(['R,2,unknown_order']);
    // a taker that is done is not resting
    run(e, [sell(5, 100, 1)]);
    expect(run(e, [cancel(5)])).toEqual(['R,5,unknown_order']);
  });

  it('cancel ignores the other fields of the command', () => {
    const e = engine();
    run(e, [buy(1, 100, 3)]);
    expect(e.apply(cmd({ op: 2, id: 1n, side: 9, type: 9, tif: 9, qty: 0, price: -1n }))).toEqual(['X,1,3']);
  });
});

describe('modify', () => {
  it('rejects in order: unknown_order, bad_qty, bad_price (≤0, then band)', () => {
    const e = engine(2);
    run(e, [buy(1, 100, 5)]);
    expect(e.apply(modify(2, 0, 0))).toEqual(['R,2,unknown_order']);
    expect(e.apply(modify(1, 0, 0, 1))).toEqual(['R,1,unknown_order']); // other symbol
    expect(e.apply(modify(1, 100, 1, 7))).toEqual(['R,1,unknown_order']); // unknown symbol
    expect(e.apply(modify(1, 0, 0))).toEqual(['R,1,bad_qty']);
    expect(e.apply(modify(1, 0, 3))).toEqual(['R,1,bad_price']);
    expect(e.apply(modify(1, -1, 3))).toEqual(['R,1,bad_price']);
    e.setBand(0, 95n, 105n);
    expect(e.apply(modify(1, 106, 3))).toEqual(['R,1,bad_price']);
    expect(e.apply(modify(1, 94, 3))).toEqual(['R,1,bad_price']);
    expect(e.apply(modify(1, 105, 3))).toEqual(['M,1,105,3']);
    expect(e.bookLines()).toEqual(['0,B,105,1,3']);
    e.checkInvariants();
  });

  it('same price, smaller qty: reduced in place, keeps priority', () => {
    const e = engine();
    run(e, [buy(1, 100, 5), buy(2, 100, 5)]);
    expect(run(e, [modify(1, 100, 3)])).toEqual(['M,1,100,3']);
    expect(e.orders()[0]).toEqual({ symbol: 0, side: 0, price: 100n, id: 1n, leaves: 3, account: 0, filled: 0n });
    expect(e.bookLines()).toEqual(['0,B,100,1,3', '0,B,100,2,5']);
    expect(run(e, [sell(3, 100, 4)])).toEqual(['A,3', 'T,3,1,100,3', 'T,3,2,100,1']);
    expect(e.bookLines()).toEqual(['0,B,100,2,4']);
  });

  it('reduce in place after a partial fill keeps filled (original = filled + new qty)', () => {
    const e = engine();
    run(e, [sell(1, 100, 10), sell(2, 100, 1), buy(3, 100, 4)]); // order 1: leaves 6, filled 4
    expect(run(e, [modify(1, 100, 2)])).toEqual(['M,1,100,2']);
    expect(e.orders()).toEqual([
      { symbol: 0, side: 1, price: 100n, id: 1n, leaves: 2, account: 0, filled: 4n },
      { symbol: 0, side: 1, price: 100n, id: 2n, leaves: 1, account: 0, filled: 0n },
    ]);
  });

  it('same price, same qty: loses priority', () => {
    const e = engine();
    run(e, [buy(1, 100, 5), buy(2, 100, 5)]);
    expect(run(e, [modify(1, 100, 5)])).toEqual(['M,1,100,5']);
    expect(e.bookLines()).toEqual(['0,B,100,2,5', '0,B,100,1,5']);
    expect(run(e, [sell(3, 100, 5)])).toEqual(['A,3', 'T,3,2,100,5']);
  });

  it('same price, larger qty: loses priority', () => {
    const e = engine();
    run(e, [sell(1, 100, 5), sell(2, 100, 5)]);
    expect(run(e, [modify(1, 100, 6)])).toEqual(['M,1,100,6']);
    expect(e.bookLines()).toEqual(['0,S,100,2,5', '0,S,100,1,6']);
  });

  it('new price: moves to the back of the new level', () => {
    const e = engine();
    run(e, [buy(1, 100, 5), buy(2, 99, 5), buy(3, 101, 1)]);
    expect(run(e, [modify(1, 99, 2)])).toEqual(['M,1,99,2']);
    expect(e.bookLines()).toEqual(['0,B,101,3,1', '0,B,99,2,5', '0,B,99,1,2']);
    expect(run(e, [modify(2, 102, 5)])).toEqual(['M,2,102,5']);
    expect(e.bookLines()).toEqual(['0,B,102,2,5', '0,B,101,3,1', '0,B,99,1,2']);
  });

  it('a crossing modify trades as taker after M; filled + leaves = original is kept', () => {
    const e = engine();
    run(e, [buy(1, 100, 10), sell(2, 100, 4)]); // order 1: leaves 6, filled 4
    run(e, [sell(3, 103, 2), sell(4, 104, 5)]);
    expect(run(e, [modify(1, 104, 8)])).toEqual(['M,1,104,8', 'T,1,3,103,2', 'T,1,4,104,5']);
    // original = 4 + 8 = 12; filled 4 + 7 = 11; leaves 1
    expect(e.orders()).toEqual([{ symbol: 0, side: 0, price: 104n, id: 1n, leaves: 1, account: 0, filled: 11n }]);
    // same price and same qty after fills: re-entered (no counterparty left), filled unchanged
    expect(run(e, [modify(1, 104, 1)])).toEqual(['M,1,104,1']);
    expect(e.orders()[0]!.filled).toBe(11n);
    run(e, [sell(5, 104, 3)]);
    expect(e.bookLines()).toEqual(['0,S,104,5,2']);
  });

  it('a modify that fully fills leaves nothing resting', () => {
    const e = engine();
    run(e, [sell(1, 100, 10), buy(2, 90, 3)]);
    expect(run(e, [modify(2, 100, 3)])).toEqual(['M,2,100,3', 'T,2,1,100,3']);
    expect(e.bookLines()).toEqual(['0,S,100,1,7']);
    expect(run(e, [cancel(2)])).toEqual(['R,2,unknown_order']);
  });

  it('a post-only order modified to a crossing price trades (re-entered as limit GTC)', () => {
    const e = engine();
    run(e, [sell(1, 100, 2), buy(2, 99, 5, { tif: POST })]);
    expect(run(e, [modify(2, 100, 5)])).toEqual(['M,2,100,5', 'T,2,1,100,2']);
    expect(e.bookLines()).toEqual(['0,B,100,2,3']);
  });

  it('modify ignores the side and account fields of the command', () => {
    const e = engine();
    run(e, [buy(1, 100, 5, { account: 3 })]);
    expect(e.apply(cmd({ op: 3, id: 1n, side: 1, account: 9, type: 9, tif: 9, price: 101n, qty: 4 }))).toEqual(['M,1,101,4']);
    expect(e.orders()).toEqual([{ symbol: 0, side: 0, price: 101n, id: 1n, leaves: 4, account: 3, filled: 0n }]);
  });
});

describe('self-trade prevention', () => {
  // asks: 2 (acct 8) 99x2 · 1 (acct 7) 100x5 · 3 (acct 8) 100x3 ; taker acct 7 buys 100x10
  const setup = (mode: number): RefEngine => {
    const e = engine(2);
    e.setStp(0, mode);
    run(e, [sell(1, 100, 5, { account: 7 }), sell(2, 99, 2, { account: 8 }), sell(3, 100, 3, { account: 8 })]);
    return e;
  };

  it('mode 0: self-trades happen', () => {
    const e = setup(0);
    expect(run(e, [buy(10, 100, 10, { account: 7 })])).toEqual(['A,10', 'T,10,2,99,2', 'T,10,1,100,5', 'T,10,3,100,3']);
    expect(e.resting).toBe(0);
  });

  it('mode 1: cancels the resting order and continues', () => {
    const e = setup(1);
    expect(run(e, [buy(10, 100, 10, { account: 7 })])).toEqual(['A,10', 'T,10,2,99,2', 'X,1,5', 'T,10,3,100,3']);
    expect(e.bookLines()).toEqual(['0,B,100,10,5']);
    expect(e.orders()[0]!.filled).toBe(5n);
  });

  it('mode 2: cancels the incoming order and stops; a GTC remainder does not rest', () => {
    const e = setup(2);
    expect(run(e, [buy(10, 100, 10, { account: 7 })])).toEqual(['A,10', 'T,10,2,99,2', 'X,10,8']);
    expect(e.bookLines()).toEqual(['0,S,100,1,5', '0,S,100,3,3']);
  });

  it('mode 3: cancels both', () => {
    const e = setup(3);
    expect(run(e, [buy(10, 100, 10, { account: 7 })])).toEqual(['A,10', 'T,10,2,99,2', 'X,1,5', 'X,10,8']);
    expect(e.bookLines()).toEqual(['0,S,100,3,3']);
  });

  it('only applies to crossing orders at the head of matching', () => {
    const e = setup(2);
    // taker at 99 never reaches order 1 at 100: normal GTC remainder rests
    expect(run(e, [buy(10, 99, 5, { account: 7 })])).toEqual(['A,10', 'T,10,2,99,2']);
    expect(e.bookLines()).toEqual(['0,B,99,10,3', '0,S,100,1,5', '0,S,100,3,3']);
  });

  it('is per symbol', () => {
    const e = setup(1);
    run(e, [sell(4, 100, 5, { account: 7, symbol: 1 })]);
    expect(run(e, [buy(10, 100, 1, { account: 7, symbol: 1 })])).toEqual(['A,10', 'T,10,4,100,1']);
  });

  it('mode 1 with IOC and market: every own order is cancelled, remainder X', () => {
    const e = engine();
    e.setStp(0, 1);
    run(e, [sell(1, 100, 2, { account: 7 }), sell(2, 101, 2, { account: 7 })]);
    expect(run(e, [buy(3, 101, 5, { tif: IOC, account: 7 })])).toEqual(['A,3', 'X,1,2', 'X,2,2', 'X,3,5']);
    run(e, [sell(4, 100, 2, { account: 7 }), sell(5, 100, 1, { account: 8 })]);
    expect(run(e, [mkt(6, 0, 5, { account: 7 })])).toEqual(['A,6', 'X,4,2', 'T,6,5,100,1', 'X,6,4']);
  });

  it('mode 2 with a market order: one X for the taker only', () => {
    const e = engine();
    e.setStp(0, 2);
    run(e, [buy(1, 100, 2, { account: 1 }), buy(2, 99, 2, { account: 2 })]);
    expect(run(e, [mkt(3, 1, 5, { account: 1 })])).toEqual(['A,3', 'X,3,5']);
    expect(e.bookLines()).toEqual(['0,B,100,1,2', '0,B,99,2,2']);
  });

  it('applies to a modify re-entering the book', () => {
    const e = engine();
    e.setStp(0, 2);
    run(e, [sell(1, 100, 5, { account: 7 }), buy(2, 99, 4, { account: 7 })]);
    expect(run(e, [modify(2, 100, 4)])).toEqual(['M,2,100,4', 'X,2,4']);
    expect(e.bookLines()).toEqual(['0,S,100,1,5']);
    e.setStp(0, 1);
    run(e, [buy(3, 99, 4, { account: 7 }), sell(4, 100, 1, { account: 8 })]);
    expect(run(e, [modify(3, 100, 4)])).toEqual(['M,3,100,4', 'X,1,5', 'T,3,4,100,1']);
    expect(e.orders()).toEqual([{ symbol: 0, side: 0, price: 100n, id: 3n, leaves: 3, account: 7, filled: 1n }]);
  });

  it('post-only would_cross ignores STP', () => {
    const e = engine();
    e.setStp(0, 1);
    run(e, [sell(1, 100, 5, { account: 7 })]);
    expect(run(e, [buy(2, 100, 1, { tif: POST, account: 7 })])).toEqual(['R,2,would_cross']);
    expect(e.bookLines()).toEqual(['0,S,100,1,5']);
  });
});

describe('FOK under STP', () => {
  it('mode 1: own orders are skipped when counting and cancelled when matching', () => {
    const e = engine();
    e.setStp(0, 1);
    run(e, [sell(1, 100, 5, { account: 7 }), sell(2, 100, 3, { account: 8 }), sell(3, 101, 4, { account: 8 })]);
    // available to acct 7 at ≤ 101: 3 + 4 = 7
    expect(run(e, [buy(10, 101, 8, { tif: FOK, account: 7 })])).toEqual(['A,10', 'X,10,8']);
    expect(e.resting).toBe(3);
    expect(run(e, [buy(11, 101, 7, { tif: FOK, account: 7 })])).toEqual(['A,11', 'X,1,5', 'T,11,2,100,3', 'T,11,3,101,4']);
    expect(e.resting).toBe(0);
  });

  it('modes 2 and 3: an own order ends the walk', () => {
    for (const mode of [2, 3]) {
      const e = engine();
      e.setStp(0, mode);
      run(e, [sell(1, 100, 3, { account: 8 }), sell(2, 100, 5, { account: 7 }), sell(3, 101, 4, { account: 8 })]);
      expect(run(e, [buy(10, 101, 4, { tif: FOK, account: 7 })])).toEqual(['A,10', 'X,10,4']);
      expect(e.resting).toBe(3);
      expect(run(e, [buy(11, 101, 3, { tif: FOK, account: 7 })])).toEqual(['A,11', 'T,11,1,100,3']);
      expect(e.bookLines()).toEqual(['0,S,100,2,5', '0,S,101,3,4']);
    }
  });

  it('mode 0: own orders count and trade', () => {
    const e = engine();
    run(e, [sell(1, 100, 3, { account: 8 }), sell(2, 100, 5, { account: 7 })]);
    expect(run(e, [buy(10, 100, 8, { tif: FOK, account: 7 })])).toEqual(['A,10', 'T,10,1,100,3', 'T,10,2,100,5']);
  });
});

describe('capacity', () => {
  it('GTC and post-only limits are rejected at capacity, even when they would fully match', () => {
    const e = engine(1, 2);
    expect(run(e, [sell(1, 100, 5), sell(2, 101, 5)])).toEqual(['A,1', 'A,2']);
    expect(run(e, [buy(3, 100, 5)])).toEqual(['R,3,capacity']);
    expect(run(e, [buy(4, 90, 1, { tif: POST })])).toEqual(['R,4,capacity']);
    // would_cross comes before capacity
    expect(run(e, [buy(5, 100, 1, { tif: POST })])).toEqual(['R,5,would_cross']);
    // IOC, FOK and market are not checked
    expect(run(e, [buy(6, 100, 2, { tif: IOC })])).toEqual(['A,6', 'T,6,1,100,2']);
    expect(run(e, [buy(7, 100, 3, { tif: FOK })])).toEqual(['A,7', 'T,7,1,100,3']);
    expect(e.resting).toBe(1);
    expect(run(e, [mkt(8, 0, 1)])).toEqual(['A,8', 'T,8,2,101,1']);
    expect(run(e, [buy(9, 99, 1)])).toEqual(['A,9']);
    expect(e.resting).toBe(2);
    expect(run(e, [sell(10, 99, 1)])).toEqual(['R,10,capacity']);
  });

  it('capacity is total over all symbols and modify is never refused for it', () => {
    const e = engine(2, 2);
    run(e, [buy(1, 100, 5), sell(3, 200, 5, { symbol: 1 })]);
    expect(run(e, [buy(2, 100, 1, { symbol: 1 })])).toEqual(['R,2,capacity']);
    expect(run(e, [modify(1, 101, 9)])).toEqual(['M,1,101,9']);
    expect(run(e, [modify(3, 200, 9, 1)])).toEqual(['M,3,200,9']);
    expect(e.resting).toBe(2);
    expect(run(e, [cancel(3, 1), buy(2, 100, 1, { symbol: 1 })])).toEqual(['X,3,9', 'A,2']);
  });
});

describe('extreme values', () => {
  it('i64 max price and u32 max qty', () => {
    const e = engine();
    expect(run(e, [sell(1, I64_MAX, U32_MAX), sell(2, I64_MAX, U32_MAX)])).toEqual(['A,1', 'A,2']);
    expect(e.depth(0, 1, 5)).toEqual([{ price: I64_MAX, qty: 8589934590n, count: 2 }]);
    expect(run(e, [buy(3, I64_MAX, U32_MAX)])).toEqual(['A,3', 'T,3,1,9223372036854775807,4294967295']);
    expect(e.bookLines()).toEqual(['0,S,9223372036854775807,2,4294967295']);
    expect(run(e, [buy(4, I64_MAX - 1n, U32_MAX)])).toEqual(['A,4']);
    expect(e.bookLines()).toEqual(['0,B,9223372036854775806,4,4294967295', '0,S,9223372036854775807,2,4294967295']);
    expect(run(e, [modify(4, I64_MAX, U32_MAX)])).toEqual(['M,4,9223372036854775807,4294967295', 'T,4,2,9223372036854775807,4294967295']);
    expect(e.resting).toBe(0);
    expect(run(e, [buy(5, 1, U32_MAX), mkt(6, 1, U32_MAX)])).toEqual(['A,5', 'A,6', 'T,6,5,1,4294967295']);
  });

  it('u64 ids above 2^53 keep their exact value', () => {
    const e = engine();
    const big = 18446744073709551615n;
    expect(e.apply(cmd({ id: big, side: 0, price: 5n, qty: 1 }))).toEqual(['A,18446744073709551615']);
    expect(e.apply(cmd({ id: big - 1n, side: 1, price: 5n, qty: 1 }))).toEqual(['A,18446744073709551614', 'T,18446744073709551614,18446744073709551615,5,1']);
  });
});

describe('book views', () => {
  it('bookLines: symbols ascending, bids best first then asks best first, time priority', () => {
    const e = engine(3);
    run(e, [
      sell(1, 20, 1, { symbol: 2 }), buy(2, 10, 1, { symbol: 1 }), sell(3, 12, 2, { symbol: 1 }), buy(4, 11, 3, { symbol: 1 }),
      buy(5, 10, 4, { symbol: 1 }), sell(6, 12, 5, { symbol: 1 }), sell(7, 13, 6, { symbol: 1 }), buy(8, 5, 7),
    ]);
    expect(e.bookLines()).toEqual([
      '0,B,5,8,7',
      '1,B,11,4,3', '1,B,10,2,1', '1,B,10,5,4', '1,S,12,3,2', '1,S,12,6,5', '1,S,13,7,6',
      '2,S,20,1,1',
    ]);
    expect(e.orders().map((o) => o.id)).toEqual([8n, 4n, 2n, 5n, 3n, 6n, 7n, 1n]);
    expect(e.resting).toBe(8);
  });

  it('depth: best first, sums and counts, limited to n', () => {
    const e = engine(2);
    run(e, [buy(1, 10, 1), buy(2, 10, 2), buy(3, 9, 4), buy(4, 8, 8), sell(5, 12, 3), sell(6, 11, 1)]);
    expect(e.depth(0, 0, 2)).toEqual([{ price: 10n, qty: 3n, count: 2 }, { price: 9n, qty: 4n, count: 1 }]);
    expect(e.depth(0, 0, 10)).toHaveLength(3);
    expect(e.depth(0, 1, 10)).toEqual([{ price: 11n, qty: 1n, count: 1 }, { price: 12n, qty: 3n, count: 1 }]);
    expect(e.depth(0, 0, 0)).toEqual([]);
    expect(e.depth(1, 0, 5)).toEqual([]);
    expect(e.depth(7, 0, 5)).toEqual([]);
  });

  it('applyAll concatenates the events of every command', () => {
    const e = engine();
    expect(e.applyAll([buy(1, 10, 2), sell(2, 10, 3), cancel(2), cancel(2)])).toEqual(['A,1', 'A,2', 'T,2,1,10,2', 'X,2,1', 'R,2,unknown_order']);
  });
});

describe('checkInvariants', () => {
  interface Internals {
    books: { bids: { price: bigint; orders: { id: bigint; leaves: number; filled: bigint; original: bigint }[] }[]; asks: { price: bigint; orders: { id: bigint }[] }[] }[];
    count: number;
  }
  const fresh = (): { e: RefEngine; x: Internals } => {
    const e = engine();
    run(e, [buy(1, 10, 5), buy(2, 9, 5), sell(3, 12, 5)]);
    return { e, x: e as unknown as Internals };
  };

  it('passes on a healthy book', () => {
    expect(() => fresh().e.checkInvariants()).not.toThrow();
  });

  it('names each broken invariant', () => {
    let f = fresh();
    f.x.books[0]!.bids.reverse();
    expect(() => f.e.checkInvariants()).toThrow(/descending/);
    f = fresh();
    f.x.books[0]!.asks[0]!.price = 10n;
    (f.x.books[0]!.asks[0]!.orders[0] as unknown as { price: bigint }).price = 10n;
    expect(() => f.e.checkInvariants()).toThrow(/crossed/);
    f = fresh();
    f.x.books[0]!.bids[0]!.orders[0]!.leaves = 0;
    expect(() => f.e.checkInvariants()).toThrow(/leaves/);
    f = fresh();
    f.x.books[0]!.bids[1]!.orders[0]!.id = 1n;
    expect(() => f.e.checkInvariants()).toThrow(/twice/);
    f = fresh();
    f.x.books[0]!.bids[0]!.orders[0]!.filled = 1n;
    expect(() => f.e.checkInvariants()).toThrow(/original/);
    f = fresh();
    f.x.count = 4;
    expect(() => f.e.checkInvariants()).toThrow(/resting/);
  });

  it('hold under a long pseudo-random command stream (with STP, bands and capacity)', () => {
    let s = 12345;
    const rnd = (n: number): number => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return (s >>> 8) % n;
    };
    const e = new RefEngine({ symbols: 3, capacity: 40 });
    e.setStp(0, 1);
    e.setStp(1, 2);
    e.setStp(2, 3);
    e.setBand(1, 95n, 105n);
    let trades = 0;
    for (let i = 0; i < 5000; i++) {
      const r = rnd(10);
      const c: Command = r < 6
        ? cmd({ id: BigInt(rnd(60)), side: rnd(2), type: rnd(8) === 0 ? 1 : 0, tif: rnd(4), symbol: rnd(4), price: BigInt(90 + rnd(20)), qty: rnd(10), account: rnd(3) })
        : r < 8 ? cancel(rnd(60), rnd(3)) : modify(rnd(60), 90 + rnd(20), rnd(8), rnd(3));
      const ev = e.apply(c);
      e.checkInvariants();
      expect(ev.length).toBeGreaterThan(0);
      trades += ev.filter((l) => l.startsWith('T,')).length;
    }
    expect(trades).toBeGreaterThan(100);
    expect(e.resting).toBe(e.orders().length);
  });
});
