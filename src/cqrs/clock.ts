/**
 * Clocks for sagas: the system clock and a manual one for tests (time moves only when told).
 *
 * Owns: `Clock`, `systemClock`, `ManualClock`.
 * Invariants: ManualClock fires due timers in (time, creation) order, each once; a timer set for
 * a time already past fires at the next `advance` (also `advance(0)`).
 * Complexity: O(timers) per advance. Allocation: one entry per timer.
 * Known limitations: ManualClock fires at most 100,000 timers per advance (a guard against a
 * timer that re-arms itself at the same instant forever).
 */
export type TimerHandle = { readonly id: number };

export interface Clock {
  /** Milliseconds (epoch for the system clock). */
  now(): number;
  /** Calls `fn` once at or after `atMs`. */
  setTimer(atMs: number, fn: () => void): TimerHandle;
  clearTimer(h: TimerHandle): void;
}

export const systemClock: Clock = (() => {
  const live = new Map<number, NodeJS.Timeout>();
  let next = 1;
  return {
    now: () => Date.now(),
    setTimer(atMs, fn) {
      const id = next++;
      const t = setTimeout(() => { live.delete(id); fn(); }, Math.max(0, atMs - Date.now()));
      t.unref?.();
      live.set(id, t);
      return { id };
    },
    clearTimer(h) { const t = live.get(h.id); if (t) { clearTimeout(t); live.delete(h.id); } },
  };
})();

export class ManualClock implements Clock {
  private t: number;
  private next = 1;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(startMs = 1_700_000_000_000) { this.t = startMs; }

  now(): number { return this.t; }

  setTimer(atMs: number, fn: () => void): TimerHandle {
    const id = this.next++;
    this.timers.set(id, { at: atMs, fn });
    return { id };
  }

  clearTimer(h: TimerHandle): void { this.timers.delete(h.id); }

  /** Pending timers. */
  get pending(): number { return this.timers.size; }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. Returns timers fired. */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError('ManualClock.advance: ms must be ≥ 0');
    const end = this.t + ms;
    let fired = 0;
    for (; fired < 100_000; fired++) {
      let best: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.timers) if (e[1].at <= end && (best === null || e[1].at < best[1].at)) best = e;
      if (!best) break;
      this.timers.delete(best[0]);
      if (best[1].at > this.t) this.t = best[1].at;
      best[1].fn();
    }
    this.t = end;
    return fired;
  }
}
