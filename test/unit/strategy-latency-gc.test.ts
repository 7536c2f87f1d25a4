/**
 * The strategy worker's stage latency allocates nothing per decision: RingSink.decide (stamp,
 * `strategy_event_to_decision`) and send with the decision handle (`strategy_decision_to_ring`)
 * run 200,000 times after warm-up, with tracking on and off (both inside a poll: the worker's own
 * event → ring histogram is on in both); the young generation's growth (a v8 GCProfiler around a
 * synchronous loop, plus the new space's use before and after) per decision with tracking on
 * stays within 4 bytes of tracking off plus what two clock reads leave (the decision's stamp and,
 * depending on how V8 compiled the loop, the push stamp's box: performance.now may box its number,
 * src/domain/clock.ts, measured alone here; one CI run measured 29.5 B/decision over off with a clock
 * read at 16 B, another passed at one read), and every decision reaches both stages. The bound
 * still catches any per-decision array, closure or record copy (those are ≥ 32 B).
 * Counts of bytes, not timing.
 */
import { getHeapSpaceStatistics, GCProfiler } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { RING_CMD_SIZE } from '../../src/abi/records.js';
import { nowNsInto } from '../../src/domain/clock.js';
import { S, StageRecorder } from '../../src/monitoring/latency.js';
import { MpscRing } from '../../src/ring/mpsc-ring.js';
import { RingSink } from '../../src/strategies/worker.js';

const newSpace = (spaces: readonly { space_name?: string; spaceName?: string; space_used_size?: number; spaceUsedSize?: number }[]): number => {
  for (const s of spaces) if ((s.space_name ?? s.spaceName) === 'new_space') return (s.space_used_size ?? s.spaceUsedSize)!;
  return 0;
};

/** Young-generation bytes allocated by `run` (growth plus what each GC found there). */
function allocated(run: () => void): number {
  const p = new GCProfiler();
  p.start();
  const used0 = newSpace(getHeapSpaceStatistics());
  run();
  const used1 = newSpace(getHeapSpaceStatistics());
  const r = p.stop() as { statistics: { beforeGC: { heapSpaceStatistics: { spaceName: string; spaceUsedSize: number }[] }; afterGC: { heapSpaceStatistics: { spaceName: string; spaceUsedSize: number }[] } }[] };
  let total = 0;
  let after = used0;
  for (const g of r.statistics) {
    total += Math.max(0, newSpace(g.beforeGC.heapSpaceStatistics) - after);
    after = newSpace(g.afterGC.heapSpaceStatistics);
  }
  return total + Math.max(0, used1 - after);
}

function bench(stages: StageRecorder | null): { loop: (k: number) => void; sink: RingSink } {
  const ring = MpscRing.create(4096, RING_CMD_SIZE);
  const sink = new RingSink(ring, null, stages);
  const dst = new Uint8Array(1024 * RING_CMD_SIZE);
  nowNsInto(sink.trig, 0); // a triggering event's tsInit: now (inside a poll)
  sink.trigger = sink.trig[1]! * 4294967296 + sink.trig[0]!;
  let id = 1;
  const loop = (k: number): void => {
    for (let i = 0; i < k; i++) {
      const d = sink.decide();
      if (!sink.send(1, 0, 0, 0, 0, id++, 100 + (i & 7), 1, 7, '', d)) throw new Error('ring full');
      if ((i & 511) === 511) ring.poll(dst, 0, 1024);
    }
    ring.poll(dst, 0, 1024);
  };
  return { loop, sink };
}

describe('strategy stage latency: no garbage', () => {
  it('decide + send with tracking on allocate no more per decision than with tracking off; every decision counted', () => {
    const n = 200_000;
    const rec = new StageRecorder();
    const on = bench(rec);
    const off = bench(null);
    on.loop(100_000); off.loop(100_000); // warm-up: compile everything first
    const total0 = rec.total(S.strategyEventToDecision);
    const words = new Uint32Array(2);
    const clock = (k: number): void => { for (let i = 0; i < k; i++) nowNsInto(words, 0); };
    clock(100_000);
    const bClock = allocated(() => clock(n));
    const bOff = allocated(() => off.loop(n));
    const bOn = allocated(() => on.loop(n));
    expect(bOn / n, `on ${bOn} B, off ${bOff} B, one clock read ${bClock} B over ${n} decisions`).toBeLessThanOrEqual(bOff / n + 2 * (bClock / n) + 4);
    expect(rec.total(S.strategyEventToDecision) - total0).toBe(n);
    expect(rec.total(S.strategyDecisionToRing)).toBe(100_000 + n);
    expect(off.sink.decide()).toBe(-1);
  });
});
