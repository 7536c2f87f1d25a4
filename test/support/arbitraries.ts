/**
 * fast-check arbitraries for engine command streams: small id and price spaces so that every
 * rule fires (crosses, duplicates, unknown ids, self-trades, capacity), plus extreme values.
 * Ids are drawn from one space shared by all symbols, so streams reuse ids across symbols (ids
 * are unique across the engine: DESIGN "Engine semantics"); `maxId` narrows that space.
 */
import fc from 'fast-check';
import type { Command } from '../../src/domain/types.js';

export const I64_MAX = (1n << 63n) - 1n;
export const U32_MAX = 0xffffffff;

const extremes = fc.constantFrom(0n, -1n, 1n, I64_MAX, I64_MAX - 1n, -(1n << 63n));
const narrowPrice = fc.oneof({ weight: 20, arbitrary: fc.bigInt({ min: 95n, max: 105n }) }, { weight: 1, arbitrary: extremes });
/** Wide: levels far apart too, so that the engine's 1024-tick ladder window is left, re-anchored
 * and mixed with its treap. */
const widePrice = fc.oneof(
  { weight: 10, arbitrary: fc.bigInt({ min: 95n, max: 105n }) },
  { weight: 6, arbitrary: fc.bigInt({ min: 1n, max: 3000n }) },
  { weight: 3, arbitrary: fc.constantFrom(600n, 611n, 1123n, 1124n, 1125n, 1635n, 2147n) },
  { weight: 1, arbitrary: extremes },
);
const qtyArb = fc.oneof(
  { weight: 20, arbitrary: fc.integer({ min: 1, max: 20 }) },
  { weight: 1, arbitrary: fc.constantFrom(0, U32_MAX, U32_MAX - 1) },
);

export function commandArb(symbols: number, wide = false, maxId = 40n): fc.Arbitrary<Command> {
  const priceArb = wide ? widePrice : narrowPrice;
  return fc.record({
    op: fc.oneof({ weight: 12, arbitrary: fc.constant(1) }, { weight: 4, arbitrary: fc.constant(2) }, { weight: 4, arbitrary: fc.constant(3) }, { weight: 1, arbitrary: fc.constantFrom(0, 4, 255) }),
    side: fc.oneof({ weight: 30, arbitrary: fc.constantFrom(0, 1) }, { weight: 1, arbitrary: fc.constant(2) }),
    type: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(7) }),
    tif: fc.oneof({ weight: 30, arbitrary: fc.constantFrom(0, 0, 0, 1, 2, 3) }, { weight: 1, arbitrary: fc.constant(9) }),
    symbol: fc.oneof({ weight: 30, arbitrary: fc.integer({ min: 0, max: symbols - 1 }) }, { weight: 1, arbitrary: fc.constantFrom(symbols, U32_MAX) }),
    id: fc.oneof({ weight: 30, arbitrary: fc.bigInt({ min: 1n, max: maxId }) }, { weight: 1, arbitrary: fc.constantFrom(0n, (1n << 64n) - 1n, 1n << 53n) }),
    price: priceArb,
    qty: qtyArb,
    account: fc.integer({ min: 1, max: 3 }),
  });
}

export interface Scenario { stp: number[]; capacity: number; band: [bigint, bigint] | null; cmds: Command[] }

export function scenarioArb(symbols: number, maxCmds = 300, wide = false, maxId = 40n): fc.Arbitrary<Scenario> {
  return fc.record({
    stp: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: symbols, maxLength: symbols }),
    capacity: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constant(100_000)),
    band: fc.option(fc.tuple(fc.bigInt({ min: 90n, max: 99n }), fc.bigInt({ min: 100n, max: 110n })), { nil: null }),
    cmds: fc.array(commandArb(symbols, wide, maxId), { minLength: 1, maxLength: maxCmds }),
  });
}
