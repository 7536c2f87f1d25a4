// The gradient concurrency limiter (src/monitoring/limiter.ts), fed synthetic engine queue-time
// series on an injected clock: deterministic, no timing.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { GradientLimiter, type LimiterOptions } from '../../src/monitoring/limiter.js';
import { TradsysError } from '../../src/domain/errors.js';

/** A limiter on a hand-driven clock (ms). */
function make(o: LimiterOptions = {}): { l: GradientLimiter; clock: { t: number } } {
  const clock = { t: 0 };
  return { l: new GradientLimiter({ ...o, now: () => clock.t }), clock };
}

/**
 * Drives `ms` of load: every `stepMs` the client side fills up to `demand` orders in flight (as far
 * as the limiter admits), one order is answered with queue time `queueUs(t)` and the pump ticks.
 * Returns the limit at the end.
 */
function drive(l: GradientLimiter, clock: { t: number }, ms: number, queueUs: (t: number) => number, demand = 1e9, stepMs = 0.05, batchStartMs?: (t: number) => number): number {
  const end = clock.t + ms;
  while (clock.t < end - 1e-9) {
    while (l.inflight < demand && l.tryAcquire()) { /* admitted */ }
    if (l.inflight > 0) { l.release(); l.sample(queueUs(clock.t) * 1000, batchStartMs === undefined ? NaN : batchStartMs(clock.t) * 1e6); }
    l.tick();
    clock.t += stepMs;
  }
  return l.limit;
}

describe('GradientLimiter', () => {
  it('cuts the limit within 10 ms of a rise in queue time, and recovers once the queue is short again', () => {
    const { l, clock } = make({ initialLimit: 256 });
    drive(l, clock, 200, () => 10); // 10 µs: a healthy queue, the limit in use → it grows
    const before = l.limit;
    expect(before).toBeGreaterThan(256);
    drive(l, clock, 10, () => 500); // 500 µs: queueing
    const after10ms = l.limit;
    expect(after10ms).toBeLessThan(0.6 * before);
    drive(l, clock, 100, () => 500);
    expect(l.limit).toBe(l.minLimit); // sustained: down to the floor, never below
    drive(l, clock, 300, () => 10);
    expect(l.limit).toBeGreaterThan(256); // recovered past where it started
    expect(l.metrics().shed).toBeGreaterThan(0);
  });

  it('treats queue times under minQueueUs as no congestion (a 3 → 9 µs wobble shrinks nothing)', () => {
    const { l, clock } = make({ minQueueUs: 50 });
    drive(l, clock, 50, () => 3);
    const a = l.limit;
    drive(l, clock, 50, (t) => (Math.floor(t) % 2 === 0 ? 3 : 9));
    expect(l.limit).toBeGreaterThanOrEqual(a);
    // with the floor at 0 the same wobble (3× the baseline, over the tolerance of 2) does shrink it
    const z = make({ minQueueUs: 0 });
    drive(z.l, z.clock, 50, () => 3);
    const b = z.l.limit;
    drive(z.l, z.clock, 20, () => 9);
    expect(z.l.limit).toBeLessThan(b);
  });

  it('a queue of up to about one engine cycle (group commit waiting for a sync) is not congestion; several cycles is', () => {
    const cycle = (ms: number) => (t: number): number => Math.floor(t / ms) * ms; // batch start times
    const { l, clock } = make({ initialLimit: 512, minQueueUs: 50 });
    drive(l, clock, 100, () => 10, 1e9, 0.05, cycle(0.2)); // light load: 10 µs queues, 200 µs cycles
    const light = l.limit;
    // heavier load: each batch waits for a 5 ms sync, so orders wait on average half a cycle
    drive(l, clock, 100, (t) => ((t * 1000) % 5000), 1e9, 0.05, cycle(5));
    expect(l.metrics().cycleUs).toBeCloseTo(5000, -2);
    expect(l.limit).toBeGreaterThanOrEqual(light);
    // the same queue times without the cycle known: 250× the baseline → the limit is cut
    const z = make({ initialLimit: 512, minQueueUs: 50 });
    drive(z.l, z.clock, 100, () => 10);
    const zl = z.l.limit;
    drive(z.l, z.clock, 10, (t) => ((t * 1000) % 5000));
    expect(z.l.limit).toBeLessThan(zl);
    // saturated: orders wait three cycles → cut within 10 ms
    const before = l.limit;
    drive(l, clock, 10, () => 15_000, 1e9, 0.05, cycle(5));
    expect(l.limit).toBeLessThan(0.8 * before);
  });

  it('does not grow while app-limited (less than half of the limit in use)', () => {
    const { l, clock } = make({ initialLimit: 256 });
    drive(l, clock, 200, () => 10, 20);
    expect(l.limit).toBe(256);
    expect(l.metrics().shed).toBe(0);
  });

  it('admits exactly up to the limit, and a release frees one place', () => {
    const { l } = make({ initialLimit: 20, minLimit: 4, maxLimit: 64 });
    let n = 0;
    while (l.tryAcquire()) n++;
    expect(n).toBe(20);
    expect(l.inflight).toBe(20);
    expect(l.shed).toBe(1);
    l.release();
    expect(l.tryAcquire()).toBe(true);
    expect(l.tryAcquire()).toBe(false);
    // a release with nothing in flight is ignored
    const z = make();
    z.l.release();
    expect(z.l.inflight).toBe(0);
  });

  it('disabled: admits everything, still measures', () => {
    const { l, clock } = make({ enabled: false, initialLimit: 16, minLimit: 16, maxLimit: 16 });
    for (let i = 0; i < 100; i++) expect(l.tryAcquire()).toBe(true);
    drive(l, clock, 5, () => 700, 100);
    const m = l.metrics();
    expect(m).toMatchObject({ enabled: false, shed: 0, limit: 16 });
    expect(m.inflight).toBe(99); // the last step's answer released one
    expect(m.queueTimeP50Us).toBe(700);
  });

  it('ignores samples that are not finite or negative; the estimate stays finite and in range', () => {
    const { l, clock } = make({ minLimit: 8, maxLimit: 512, windowSamples: 4 });
    for (const q of [NaN, -1, Infinity, -Infinity, 0, 0, 1e15, 0, 5e3, Number.MAX_VALUE, Number.MAX_VALUE, 1, 1, 1, 1, 1, 1]) { l.tryAcquire(); l.sample(q); clock.t += 0.3; l.tick(); }
    expect(l.ignored).toBe(4); // NaN, -1, ±Infinity; MAX_VALUE is finite: kept (clamped to 100 s)
    const m = l.metrics();
    expect(Number.isFinite(m.limit)).toBe(true);
    expect(m.limit).toBeGreaterThanOrEqual(8);
    expect(m.limit).toBeLessThanOrEqual(512);
    expect(Number.isFinite(m.baselineUs!)).toBe(true);
  });

  it('metrics(): queue-time p50/p99 over the recent samples match a sorted reference', () => {
    const { l } = make({ windowSamples: 1_000_000 });
    const xs = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000 + 1); // 1..1000 µs, shuffled
    for (const x of xs) l.sample(x * 1000);
    const m = l.metrics();
    expect(m.queueTimeP50Us).toBe(500);
    expect(m.queueTimeP99Us).toBe(990);
    expect(m.samples).toBe(1000);
    expect(m.baselineUs).toBeNull(); // no window closed yet
    expect(make().l.metrics()).toMatchObject({ queueTimeP50Us: null, queueTimeP99Us: null, inflight: 0, shed: 0 });
  });

  it('refuses bad knobs with ERR_GATEWAY_CONFIG', () => {
    for (const o of [{ minLimit: 0 }, { minLimit: 32, maxLimit: 16 }, { initialLimit: 5, minLimit: 10 }, { tolerance: 0.5 }, { smoothing: 0 }, { windowMs: NaN }, { minLimit: 2.5 }]) {
      let err: unknown;
      try { new GradientLimiter(o); } catch (e) { err = e; }
      expect(err, JSON.stringify(o)).toBeInstanceOf(TradsysError);
      expect((err as TradsysError).code).toBe('ERR_GATEWAY_CONFIG');
    }
  });

  it('property: over random series the limit stays a finite integer in [min, max]; acquire refuses exactly at the limit; short queues never lower it', () => {
    const step = fc.record({
      queueUs: fc.oneof(fc.double({ min: 0, max: 100_000, noNaN: true }), fc.constantFrom(NaN, -5, Infinity, 0)),
      dtMs: fc.double({ min: 0, max: 3, noNaN: true }),
      acquire: fc.nat({ max: 50 }),
      release: fc.nat({ max: 50 }),
    });
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 64 }), fc.integer({ min: 0, max: 2000 }), fc.double({ min: 1, max: 10, noNaN: true }), fc.array(step, { maxLength: 300 }),
      (minLimit, span, tolerance, steps) => {
        const { l, clock } = make({ minLimit, maxLimit: minLimit + span, initialLimit: minLimit + (span >> 1), tolerance, windowSamples: 8 });
        for (const s of steps) {
          for (let i = 0; i < s.acquire; i++) {
            const full = l.inflight >= l.limit;
            expect(l.tryAcquire()).toBe(!full);
          }
          for (let i = 0; i < s.release; i++) l.release();
          l.sample(s.queueUs * 1000);
          clock.t += s.dtMs;
          l.tick();
          const lim = l.limit;
          expect(Number.isInteger(lim)).toBe(true);
          expect(lim).toBeGreaterThanOrEqual(minLimit);
          expect(lim).toBeLessThanOrEqual(minLimit + span);
          expect(l.inflight).toBeGreaterThanOrEqual(0);
          const m = l.metrics();
          for (const v of [m.baselineUs, m.windowUs, m.queueTimeP50Us, m.queueTimeP99Us]) if (v !== null) expect(Number.isFinite(v)).toBe(true);
        }
      },
    ), { numRuns: 300, seed: 17 });
    // under the minQueueUs floor the limit never goes down, whatever the series
    fc.assert(fc.property(fc.array(fc.tuple(fc.double({ min: 0, max: 49.9, noNaN: true }), fc.double({ min: 0, max: 2, noNaN: true })), { maxLength: 400 }), (series) => {
      const { l, clock } = make({ minQueueUs: 50, windowSamples: 4 });
      let prev = l.limit;
      for (const [q, dt] of series) {
        l.tryAcquire(); l.tryAcquire(); l.release();
        l.sample(q * 1000);
        clock.t += dt;
        l.tick();
        expect(l.limit).toBeGreaterThanOrEqual(prev);
        prev = l.limit;
      }
    }), { numRuns: 200, seed: 18 });
  });
});
