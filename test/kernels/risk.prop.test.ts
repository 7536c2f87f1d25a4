/**
 * Pre-trade risk, differential: seeded fast-check streams (orders, cancels, modifies and ADMIN
 * commands: halts, account and global kill switches) through the reference (risk figures
 * recomputed from the books every time) and the WASM engine (incremental accounting), with random
 * limits small enough that every rule fires at its boundary. Events, books, positions, open
 * quantities and open-order counts must agree after every command; the engine's own risk
 * invariant check must hold; snapshot → restore mid-stream must continue identically.
 * Market-order protection has its own stream: every symbol collared, fat-finger limit prices
 * (1 tick, 1000×, i64 max) that rest where the collar lets them (one-sided books without a
 * reference), many market orders; besides the differential check, every market order is checked
 * against the rule itself: refused `price_collar` exactly when the best opposite price is outside
 * its band, and every fill inside the band.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Engine, type BuildKind } from '../../src/engine/index.js';
import { bookLine, eventLine, type Command } from '../../src/domain/types.js';
import { RefEngine, type RefSymbolRisk, type RefAccountRisk } from '../reference/ref-engine.js';
import { commandArb, I64_MAX } from '../support/arbitraries.js';

const RUNS = Number(process.env.PROP_RUNS ?? 120);
const SYMBOLS = 3;

interface RiskScenario {
  maxAccounts: number;
  maxPositions: number;
  defaultMaxOpen: number;
  stp: number;
  symbols: RefSymbolRisk[];
  accounts: [number, RefAccountRisk][];
  cmds: Command[];
}

const symbolRiskArb: fc.Arbitrary<RefSymbolRisk> = fc.record({
  halted: fc.constant(false), // halts come from ADMIN commands
  minQty: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 })),
  maxQty: fc.oneof(fc.constant(0), fc.integer({ min: 4, max: 25 })),
  collarBps: fc.oneof(fc.constant(0), fc.integer({ min: 50, max: 1500 })),
  minNotional: fc.oneof(fc.constant(0n), fc.bigInt({ min: 100n, max: 700n })),
  maxNotional: fc.oneof(fc.constant(0n), fc.bigInt({ min: 700n, max: 2500n })),
  maxPosition: fc.oneof(fc.constant(0n), fc.bigInt({ min: 3n, max: 40n })),
  // the collar's reference before the first trade: none, or a configured reference price
  lastPrice: fc.oneof(fc.constant(0n), fc.bigInt({ min: 94n, max: 106n })),
});

const adminArb: fc.Arbitrary<Command> = fc.record({
  op: fc.constant(4),
  side: fc.constant(0),
  type: fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 1, max: 3 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 4) }),
  tif: fc.constant(0),
  symbol: fc.oneof({ weight: 20, arbitrary: fc.integer({ min: 0, max: SYMBOLS - 1 }) }, { weight: 1, arbitrary: fc.constant(SYMBOLS) }),
  id: fc.bigInt({ min: 1000n, max: 1010n }),
  price: fc.constant(0n),
  // mostly "off" so that trading goes on; sometimes on; rarely a bad value
  qty: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constant(2) }),
  account: fc.integer({ min: 1, max: 4 }),
});

const scenarioArb: fc.Arbitrary<RiskScenario> = fc.record({
  maxAccounts: fc.oneof(fc.constant(64), fc.integer({ min: 1, max: 3 })),
  maxPositions: fc.oneof(fc.constant(64), fc.integer({ min: 1, max: 6 })),
  defaultMaxOpen: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 6 })),
  stp: fc.integer({ min: 0, max: 3 }),
  symbols: fc.array(symbolRiskArb, { minLength: SYMBOLS, maxLength: SYMBOLS }),
  accounts: fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.record({
    maxOpenOrders: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 })),
    killed: fc.constant(false),
    maxPosition: fc.oneof(fc.constant(0n), fc.bigInt({ min: 2n, max: 30n })),
  })), { maxLength: 2 }),
  cmds: fc.array(fc.oneof({ weight: 12, arbitrary: commandArb(SYMBOLS) }, { weight: 1, arbitrary: adminArb }), { minLength: 30, maxLength: 200, size: 'max' }),
});

/** Market-order protection: collars always on; prices near 100, fat fingers, and market orders. */
const fatFinger = fc.constantFrom(1n, 2n, 10n, 1000n, 100_000n, I64_MAX - 1n, I64_MAX);
const mktCommandArb: fc.Arbitrary<Command> = fc.record({
  op: fc.oneof({ weight: 10, arbitrary: fc.constant(1) }, { weight: 2, arbitrary: fc.constant(2) }, { weight: 2, arbitrary: fc.constant(3) }),
  side: fc.constantFrom(0, 1),
  type: fc.oneof({ weight: 6, arbitrary: fc.constant(0) }, { weight: 4, arbitrary: fc.constant(1) }),
  tif: fc.constantFrom(0, 0, 0, 1),
  symbol: fc.integer({ min: 0, max: SYMBOLS - 1 }),
  id: fc.bigInt({ min: 1n, max: 40n }),
  price: fc.oneof({ weight: 12, arbitrary: fc.bigInt({ min: 80n, max: 120n }) }, { weight: 2, arbitrary: fatFinger }),
  qty: fc.integer({ min: 1, max: 12 }),
  account: fc.integer({ min: 1, max: 3 }),
});
const mktScenarioArb: fc.Arbitrary<RiskScenario> = fc.record({
  maxAccounts: fc.constant(64),
  maxPositions: fc.constant(64),
  defaultMaxOpen: fc.constant(0),
  stp: fc.integer({ min: 0, max: 3 }),
  symbols: fc.array(fc.record({
    halted: fc.constant(false), minQty: fc.constant(0), maxQty: fc.constant(0),
    collarBps: fc.oneof(fc.integer({ min: 1, max: 3000 }), fc.constantFrom(1000, 10000)),
    minNotional: fc.constant(0n), maxNotional: fc.constant(0n), maxPosition: fc.constant(0n),
    lastPrice: fc.oneof(fc.constant(0n), fc.bigInt({ min: 90n, max: 110n })),
  }), { minLength: SYMBOLS, maxLength: SYMBOLS }),
  accounts: fc.constant([]),
  cmds: fc.array(mktCommandArb, { minLength: 30, maxLength: 200 }),
});

/** The band of a market order on `side` per docs/risk.md, from the reference's state before it; null = unbanded. */
function marketBand(ref: RefEngine, symbol: number, side: number): { lo: bigint; hi: bigint; opp: bigint } | null {
  const r = ref.symbolRisk(symbol);
  const bid = ref.depth(symbol, 0, 1)[0]?.price;
  const ask = ref.depth(symbol, 1, 1)[0]?.price;
  const opp = side === 0 ? ask : bid;
  if (r.collarBps === 0 || opp === undefined) return null;
  const c = r.lastPrice > 0n ? r.lastPrice : bid !== undefined && ask !== undefined ? (bid + ask) / 2n : opp;
  const d = (c * BigInt(r.collarBps)) / 10000n;
  return { lo: c > d ? c - d : 0n, hi: c + d, opp };
}

const STP = ['none', 'cancel_resting', 'cancel_incoming', 'cancel_both'] as const;

function setup(build: BuildKind, sc: RiskScenario): { e: Engine; ref: RefEngine } {
  const e = new Engine({
    symbols: SYMBOLS, capacity: 1000, build, inboxCapacity: 5, outboxCapacity: 16,
    risk: { maxAccounts: sc.maxAccounts, maxPositions: sc.maxPositions, defaultMaxOpenOrders: sc.defaultMaxOpen },
  });
  const ref = new RefEngine({ symbols: SYMBOLS, capacity: 1000 });
  ref.enableRisk(sc.maxAccounts, sc.maxPositions, sc.defaultMaxOpen);
  sc.symbols.forEach((r, s) => {
    e.setSymbolRisk(s, r);
    ref.setSymbolRisk(s, r);
    e.setSelfTradePrevention(s, STP[sc.stp]!);
    ref.setStp(s, sc.stp);
  });
  for (const [acct, r] of sc.accounts) {
    let ok = true;
    try { ref.setAccountRisk(acct, r); } catch { ok = false; }
    if (ok) e.setAccountRisk(acct, r);
    else expect(() => e.setAccountRisk(acct, r)).toThrow(/raise risk.maxAccounts/);
  }
  return { e, ref };
}

function sameRisk(e: Engine, ref: RefEngine): void {
  expect(e.positions()).toEqual(ref.positions());
  expect(e.accountsRisk()).toEqual(ref.accounts());
}

for (const build of ['release', 'debug'] as const) {
  describe(`pre-trade risk (${build}) vs reference`, () => {
    it('identical events, books, positions and open figures after every command', () => {
      fc.assert(
        fc.property(scenarioArb, (sc) => {
          const { e, ref } = setup(build, sc);
          for (const c of sc.cmds) {
            expect(e.submit([c]).map(eventLine)).toEqual(ref.apply(c));
            e.validate();
            sameRisk(e, ref);
          }
          expect([...e.orders()].map(bookLine)).toEqual(ref.bookLines());
        }),
        { seed: 5150, numRuns: RUNS },
      );
    });

    it('whole stream in batches: same events; snapshot → restore → continue equals an uninterrupted run', () => {
      fc.assert(
        fc.property(scenarioArb, fc.double({ min: 0, max: 1, noNaN: true }), (sc, frac) => {
          const cut = Math.floor(frac * sc.cmds.length);
          const { e: whole, ref } = setup(build, sc);
          const all = whole.submit(sc.cmds).map(eventLine);
          expect(all).toEqual(ref.applyAll(sc.cmds));
          const { e: first } = setup(build, sc);
          const head = first.submit(sc.cmds.slice(0, cut)).map(eventLine);
          const restored = Engine.restore(first.snapshot(), { build, inboxCapacity: 5, outboxCapacity: 16 });
          expect(restored.stateHash()).toBe(first.stateHash());
          expect(restored.positions()).toEqual(first.positions());
          expect(restored.accountsRisk()).toEqual(first.accountsRisk());
          restored.validate();
          const tail = restored.submit(sc.cmds.slice(cut)).map(eventLine);
          expect([...head, ...tail]).toEqual(all);
          expect(restored.stateHash()).toBe(whole.stateHash());
        }),
        { seed: 8080, numRuns: Math.ceil(RUNS / 3) },
      );
    });
  });
}

for (const build of ['release', 'debug'] as const) {
  describe(`market-order protection (${build}) vs reference and the rule`, () => {
    it('market orders against fat-finger resting prices, with and without reference prices, before and after the first trade', () => {
      const seen = { refused: 0, stopped: 0, filled: 0, beforeFirstTrade: 0, afterFirstTrade: 0, fatFingerRests: 0 };
      fc.assert(
        fc.property(mktScenarioArb, (sc) => {
          const { e, ref } = setup(build, sc);
          for (const c of sc.cmds) {
            const market = c.op === 1 && c.type === 1;
            const band = market ? marketBand(ref, c.symbol, c.side) : null;
            const before = market ? ref.symbolRisk(c.symbol).lastPrice : 0n;
            const lines = ref.apply(c);
            expect(e.submit([c]).map(eventLine)).toEqual(lines);
            e.validate();
            if (c.op === 1 && c.type === 0 && (c.price < 50n || c.price > 200n) && ref.orders().some((o) => o.id === c.id)) seen.fatFingerRests++;
            if (!band) continue;
            // validation comes first (duplicate_id): no other risk limit is set in this stream
            if (lines[0]!.startsWith('R,') && lines[0] !== `R,${c.id},price_collar`) continue;
            const fills = lines.filter((l) => l.startsWith(`T,${c.id},`)).map((l) => BigInt(l.split(',')[3]!));
            const outside = band.opp < band.lo || band.opp > band.hi;
            if (outside) {
              expect(lines).toEqual([`R,${c.id},price_collar`]);
              seen.refused++;
            } else {
              expect(lines[0]).toBe(`A,${c.id}`);
              for (const p of fills) {
                expect(p).toBeGreaterThanOrEqual(band.lo);
                expect(p).toBeLessThanOrEqual(band.hi);
              }
              if (fills.length > 0) seen.filled++;
              const rest = c.side === 0 ? ref.depth(c.symbol, 1, 1)[0]?.price : ref.depth(c.symbol, 0, 1)[0]?.price;
              if (lines.at(-1)!.startsWith(`X,${c.id},`) && rest !== undefined && (rest < band.lo || rest > band.hi)) seen.stopped++;
            }
            if (before > 0n && before !== sc.symbols[c.symbol]!.lastPrice) seen.afterFirstTrade++;
            else seen.beforeFirstTrade++;
          }
          expect([...e.orders()].map(bookLine)).toEqual(ref.bookLines());
        }),
        { seed: 4242, numRuns: RUNS },
      );
      // every branch of the rule fired in this run
      for (const [k, v] of Object.entries(seen)) expect(v, k).toBeGreaterThan(0);
    });
  });
}

describe('pre-trade risk: engine without risk', () => {
  it('answers ADMIN commands with bad_op and has no risk API', () => {
    const e = new Engine({ symbols: 1, capacity: 10 });
    expect(e.submit([{ op: 4, side: 0, type: 1, tif: 0, symbol: 0, id: 1n, price: 0n, qty: 1, account: 1 }]).map(eventLine)).toEqual(['R,1,bad_op']);
    expect(e.riskEnabled).toBe(false);
    expect(() => e.positions()).toThrow(/not enabled/);
  });
});

describe('pre-trade risk without limits', () => {
  it('changes no event of a generated stream and its accounting stays sound', async () => {
    const { generate } = await import('../../src/workload/generator.js');
    const { CMD_SIZE } = await import('../../src/abi/records.js');
    const recs = generate({ seed: 77, count: 30_000, symbols: 4, mix: 'default', badRate: 0.01 });
    const plain = new Engine({ symbols: 4, capacity: 50_000 });
    const risky = new Engine({ symbols: 4, capacity: 50_000, risk: {} });
    const a: number[] = [];
    const b: number[] = [];
    const collect = (into: number[]) => (v: DataView, _b: Uint8Array, k: number): void => { for (let i = 0; i < k * 64; i += 4) into.push(v.getUint32(i, true)); };
    const n = recs.length / CMD_SIZE;
    plain.submitRaw(recs, 0, n, collect(a));
    risky.submitRaw(recs, 0, n, collect(b));
    expect(a.length).toBeGreaterThan(n * 16);
    expect(b.length).toBe(a.length);
    expect(b.every((x, i) => x === a[i])).toBe(true);
    risky.validate();
    expect(risky.positions().reduce((s, p) => s + p.position, 0n)).toBe(0n); // every fill has two sides
    expect(risky.accountsRisk().reduce((s, x) => s + x.openOrders, 0)).toBe([...risky.orders()].length);
  });
});
