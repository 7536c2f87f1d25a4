/**
 * Differential property tests: seeded fast-check command streams through the TypeScript
 * reference (test/reference/ref-engine.ts) and the WASM engine (release and debug builds).
 * Event streams must be identical, final books identical, and the invariants must hold after
 * every command on both sides. Nightly: PROP_RUNS=10x.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Engine, type BuildKind } from '../../src/engine/index.js';
import { bookLine, eventLine } from '../../src/domain/types.js';
import { RefEngine } from '../reference/ref-engine.js';
import { commandArb, scenarioArb, type Scenario } from '../support/arbitraries.js';

const RUNS = Number(process.env.PROP_RUNS ?? 150);
const SYMBOLS = 3;
const STP = ['none', 'cancel_resting', 'cancel_incoming', 'cancel_both'] as const;
/** Long streams over ids 1..6 shared by three symbols: most commands name an id resting elsewhere. */
const crossIdArb: fc.Arbitrary<Scenario> = fc.record({
  stp: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: SYMBOLS, maxLength: SYMBOLS }),
  capacity: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constant(100_000)),
  band: fc.constant(null),
  cmds: fc.array(commandArb(SYMBOLS, false, 6n), { minLength: 50, maxLength: 200, size: 'max' }),
});

function setup(build: BuildKind, sc: Scenario, outbox = 16): { e: Engine; ref: RefEngine } {
  const e = new Engine({ symbols: SYMBOLS, capacity: sc.capacity, build, inboxCapacity: 7, outboxCapacity: outbox });
  const ref = new RefEngine({ symbols: SYMBOLS, capacity: sc.capacity });
  sc.stp.forEach((m, s) => { e.setSelfTradePrevention(s, STP[m]!); ref.setStp(s, m); });
  if (sc.band) { e.setPriceBand(0, { min: sc.band[0], max: sc.band[1] }); ref.setBand(0, sc.band[0], sc.band[1]); }
  return { e, ref };
}

for (const build of ['release', 'debug'] as const) {
  describe(`wasm engine (${build}) vs reference`, () => {
    it('gives identical events and books, invariants after every command', () => {
      fc.assert(
        fc.property(scenarioArb(SYMBOLS), (sc) => {
          const { e, ref } = setup(build, sc);
          for (const c of sc.cmds) {
            const want = ref.apply(c);
            const got = e.submit([c]).map(eventLine);
            expect(got).toEqual(want);
            ref.checkInvariants();
            e.validate();
          }
          expect([...e.orders()].map(bookLine)).toEqual(ref.bookLines());
        }),
        { seed: 20261124, numRuns: RUNS },
      );
    });

    it('wide prices (ladder window left, re-anchored, mixed with the treap): identical events and books', () => {
      fc.assert(
        fc.property(scenarioArb(SYMBOLS, 400, true), (sc) => {
          const { e, ref } = setup(build, sc);
          for (const c of sc.cmds) {
            expect(e.submit([c]).map(eventLine)).toEqual(ref.apply(c));
            e.validate();
          }
          expect([...e.orders()].map(bookLine)).toEqual(ref.bookLines());
        }),
        { seed: 424242, numRuns: RUNS },
      );
    });

    it('batching and outbox size do not change the events (whole stream in one call, tiny outbox)', () => {
      fc.assert(
        fc.property(scenarioArb(SYMBOLS, 500), fc.integer({ min: 16, max: 64 }), (sc, outbox) => {
          const { e, ref } = setup(build, sc, outbox);
          const want = ref.applyAll(sc.cmds);
          const evs = e.submit(sc.cmds);
          expect(evs.map(eventLine)).toEqual(want);
          // exactly one `last` flag per command, on its final event, with cmd indexes in order
          let k = 0;
          for (let i = 0; i < evs.length; i++) {
            expect(evs[i]!.cmd).toBe(k);
            if (evs[i]!.last) k++;
          }
          expect(k).toBe(sc.cmds.length);
          expect([...e.orders()].map(bookLine)).toEqual(ref.bookLines());
        }),
        { seed: 7, numRuns: Math.ceil(RUNS / 2) },
      );
    });

    it('ids are engine-wide: reusing an id that rests in another symbol is duplicate_id / unknown_order, as in the reference', () => {
      // a tiny id space over three symbols, so that most commands name an id resting elsewhere
      const seen = { newElsewhere: 0, cancelElsewhere: 0, modifyElsewhere: 0 };
      fc.assert(
        fc.property(crossIdArb, (sc) => {
          const { e, ref } = setup(build, sc);
          for (const c of sc.cmds) {
            const where = ref.orders().find((o) => o.id === c.id)?.symbol;
            if (where !== undefined && where !== c.symbol) {
              if (c.op === 1) seen.newElsewhere++;
              else if (c.op === 2) seen.cancelElsewhere++;
              else if (c.op === 3) seen.modifyElsewhere++;
            }
            const want = ref.apply(c);
            expect(e.submit([c]).map(eventLine)).toEqual(want);
            if (where !== undefined && where !== c.symbol && c.op >= 1 && c.op <= 3 && c.symbol < SYMBOLS && c.side < 2 && c.type < 2) {
              expect(want[0]).toMatch(c.op === 1 ? /^R,\d+,(duplicate_id|bad_\w+)$/ : /^R,\d+,unknown_order$/);
            }
          }
          e.validate();
          ref.checkInvariants();
          expect([...e.orders()].map(bookLine)).toEqual(ref.bookLines());
        }),
        { seed: 5150, numRuns: Math.ceil(RUNS / 3) },
      );
      // the stream really exercised it (counts over all runs)
      expect(seen.newElsewhere).toBeGreaterThan(200);
      expect(seen.cancelElsewhere).toBeGreaterThan(50);
      expect(seen.modifyElsewhere).toBeGreaterThan(50);
    });

    it('snapshot at a random point → restore → continue equals an uninterrupted run', () => {
      fc.assert(
        fc.property(scenarioArb(SYMBOLS, 300), fc.double({ min: 0, max: 1, noNaN: true }), (sc, frac) => {
          const cut = Math.floor(frac * sc.cmds.length);
          const { e: whole } = setup(build, sc);
          const all = whole.submit(sc.cmds).map(eventLine);
          const { e: first } = setup(build, sc);
          const head = first.submit(sc.cmds.slice(0, cut)).map(eventLine);
          const snap = first.snapshot();
          const restored = Engine.restore(snap, { build, inboxCapacity: 7, outboxCapacity: 16 });
          expect(restored.stateHash()).toBe(first.stateHash());
          const tail = restored.submit(sc.cmds.slice(cut)).map(eventLine);
          expect([...head, ...tail]).toEqual(all);
          expect(restored.stateHash()).toBe(whole.stateHash());
        }),
        { seed: 99, numRuns: Math.ceil(RUNS / 3) },
      );
    });
  });
}
