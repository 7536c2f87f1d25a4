/**
 * Rendering batched per animation frame: panels call `request(key, fn)` on every update; each
 * key's latest `fn` runs once in the next frame, so 1,000 book updates per second cost at most one
 * render per frame (≈ 60/s) per view.
 *
 * Layout: a Map key → callback and one pending requestAnimationFrame.
 * Invariants: a callback runs at most once per frame; one that throws is reported and the others
 * still run; `frames` counts frames that ran at least one callback.
 * Complexity: O(keys requested) per frame. Allocation: none per request once a key exists.
 * Known limitations: browsers pause animation frames in hidden tabs (renders resume on return).
 */
import type { FrameScheduler } from './types.js';

export class Frames implements FrameScheduler {
  frames = 0;
  /** Main-thread milliseconds spent in the callbacks, so far. */
  busyMs = 0;
  private readonly pending = new Map<unknown, () => void>();
  private scheduled = false;

  constructor(private readonly report: (where: string, e: unknown) => void) {}

  request(key: unknown, fn: () => void): void {
    this.pending.set(key, fn);
    if (!this.scheduled) {
      this.scheduled = true;
      requestAnimationFrame(() => this.run());
    }
  }

  private run(): void {
    this.scheduled = false;
    if (this.pending.size === 0) return;
    this.frames++;
    const t0 = performance.now();
    const fns = [...this.pending.values()];
    this.pending.clear();
    for (const fn of fns) {
      try { fn(); } catch (e) { this.report('render', e); }
    }
    this.busyMs += performance.now() - t0;
  }
}
