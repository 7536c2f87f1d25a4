/**
 * The circuit breakers allocate nothing in steady state (src/strategies/breakers.ts "Allocation"):
 * after warm-up, a million breaker events and trades run without one young-generation collection
 * in this isolate (v8.GCProfiler). Not a timing assertion: a count of collections. The loop is
 * synchronous, so nothing else runs in the isolate meanwhile; a semi-space is megabytes, so even
 * a few bytes per event would show as collections.
 */
import { describe, expect, it } from 'vitest';
import { GCProfiler } from 'node:v8';
import { StrategyBreaker, SymbolVelocity, parseLimits } from '../../src/strategies/breakers.js';

/** One round of the runner's calls for an order that is accepted and filled, plus a trade. */
function run(b: StrategyBreaker, v: SymbolVelocity, clock: Float64Array, from: number, n: number): number {
  let refused = 0;
  for (let i = from; i < from + n; i++) {
    clock[0]! += 5; // 200 orders a second
    const sym = i & 7;
    const px = 10_000 + (i % 50);
    if (b.checkNew(sym, (i & 1) as 0 | 1, px, 1 + (i % 3), 0) !== null) refused++;
    b.onMessage();
    if (i % 10 === 0) b.onRejected(); else b.onAccepted();
    b.onFill(sym, (i & 1) as 0 | 1, px, 1, i);
    b.onPnl(((i % 1000) - 500) * 10);
    b.onHookOk();
    if (b.takeTrip() !== null) refused++;
    v.onTrade(sym, px);
    if (v.paused(sym)) refused++;
  }
  return refused;
}

describe('breakers: no garbage per event', () => {
  it('1,000,000 orders, messages, outcomes, fills, P&L updates and trades after warm-up: no scavenge', () => {
    // the clock in a typed array: an object field holding a double would box each new value
    const clock = new Float64Array([1_700_000_000_000]);
    const now = (): number => clock[0]!;
    const b = new StrategyBreaker(parseLimits({ maxOrdersPerSec: 250, maxMessagesPerSec: 500 }), now);
    const v = new SymbolVelocity({ movePct: 3, windowMs: 5_000, pauseMs: 10_000 }, now);
    expect(run(b, v, clock, 0, 200_000)).toBe(0); // warm-up: JIT, and the velocity deques reach their size
    const p = new GCProfiler();
    p.start();
    const refused = run(b, v, clock, 200_000, 1_000_000);
    const r = p.stop();
    expect(refused).toBe(0);
    expect(b.snapshot()).toMatchObject({ state: 'closed', trips: 0 });
    const scavenges = r.statistics.filter((s) => s.gcType === 'Scavenge').length;
    expect(scavenges).toBe(0);
  });
});
