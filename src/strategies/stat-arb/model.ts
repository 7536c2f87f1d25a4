/**
 * One pair's trading model, free of any order plumbing: hedge ratio (rolling OLS through
 * PairMonitor, or the Kalman filter), spread z-score, structural-break watch on the formation
 * spread, and the entry / exit / stop state machine. `update(x, y)` takes one price pair and
 * returns a decision; the pairs strategy (pairs.ts) turns decisions into orders.
 *
 * Method: spread = y − (α + β·x) under the current hedge. OLS: PairMonitor's rolling β over
 * `window` samples and its spread z-score within the window. Kalman: the filter's prior forecast
 * error e (kalman.ts) is the spread; its z-score is taken within the last `window` errors
 * (RollingStats). The target position of the spread (+1 long: buy y, sell β·x; −1 short) follows:
 *   flat, armed:  z > entryZ → short (ENTER_SHORT); z < −entryZ → long (ENTER_LONG);
 *   long:         z < −stopZ → flat, disarmed (STOP); z ≥ −exitZ → flat (EXIT);
 *   short:        z > stopZ → flat, disarmed (STOP); z ≤ exitZ → flat (EXIT);
 *   disarmed:     re-armed once |z| < entryZ (no re-entry straight after a stop).
 * The pair trades only while it has a formation (it passed the last screening) and no break:
 * a CUSUM alarm (cusum.ts) on the formation spread y − (α0 + β0·x) makes the target flat (BREAK)
 * until the next formation; losing the formation makes it flat (DROP). Nothing trades before
 * the window is full.
 * Layout: numbers in fields; `opts` is read at every update, so thresholds can change in place.
 * Invariants: target ∈ {−1, 0, 1}; target ≠ 0 only while eligible (formation, no break).
 * Complexity: O(1) per update (one WASM call for OLS; ~30 flops + one WASM call for Kalman).
 * Allocation: none per update; `setFormation` allocates the Kalman filter (and its warm-up errors)
 * when it starts one.
 * Known limitations: z is NaN (HOLD) while the window's spread has no variance.
 */
import { PairMonitor, RollingStats } from '../../stats/index.js';
import { SpreadBreakDetector } from './cusum.js';
import { bad, inRange, positive } from './input.js';
import { KalmanHedge } from './kalman.js';

export const DECISION = { hold: 0, enterLong: 1, enterShort: 2, exit: 3, stop: 4, break: 5, drop: 6 } as const;
export type Decision = (typeof DECISION)[keyof typeof DECISION];
export const DECISION_NAMES = ['hold', 'enter_long', 'enter_short', 'exit', 'stop', 'break', 'drop'] as const;

export type HedgeMethod = 'ols' | 'kalman';

export interface PairsThresholds {
  entryZ: number;
  exitZ: number;
  stopZ: number;
}

export interface PairsModelOptions extends PairsThresholds {
  window: number;
  hedge: HedgeMethod;
  /** Kalman state drift δ (kalman.ts). */
  kalmanDelta: number;
  /** Page CUSUM reference k and threshold h (standard deviations of the innovations). */
  cusumK: number;
  cusumH: number;
}

/** What screening found for the pair (screen.ts PairScreen, the fields the model needs). */
export interface Formation {
  alpha: number;
  beta: number;
  residualVar: number;
  xMean: number;
  ar1: { c: number; phi: number; sigma: number };
  halfLife: number | null;
  pValue: number;
  qValue: number;
}

export function checkThresholds(t: PairsThresholds): void {
  positive('entryZ', t.entryZ);
  if (!(t.stopZ > t.entryZ) || !Number.isFinite(t.stopZ)) bad(`stopZ (${t.stopZ}) must be finite and above entryZ (${t.entryZ})`);
  inRange('exitZ', t.exitZ, -t.entryZ, t.entryZ, true);
}

export class PairsModel {
  readonly opts: PairsModelOptions;
  private readonly monitor: PairMonitor | null;
  private kalman: KalmanHedge | null = null;
  private readonly errors: RollingStats | null;
  readonly detector: SpreadBreakDetector;
  formation: Formation | null = null;
  /** Target spread position: +1 long, −1 short, 0 flat. */
  target: -1 | 0 | 1 = 0;
  armed = true;
  z = Number.NaN;
  updates = 0;
  /** Kalman errors pushed since the filter started. */
  private kalmanCount = 0;

  constructor(opts: PairsModelOptions) {
    if (!Number.isInteger(opts.window) || opts.window < 10) bad(`window must be an integer ≥ 10, got ${String(opts.window)}`);
    if (opts.hedge !== 'ols' && opts.hedge !== 'kalman') bad(`hedge must be 'ols' or 'kalman', got ${String(opts.hedge)}`);
    checkThresholds(opts);
    inRange('kalmanDelta', opts.kalmanDelta, 0, 1, true);
    this.opts = opts;
    this.detector = new SpreadBreakDetector(opts.cusumK, opts.cusumH);
    this.monitor = opts.hedge === 'ols' ? new PairMonitor({ window: opts.window, cointEvery: 0 }) : null;
    this.errors = opts.hedge === 'kalman' ? new RollingStats(opts.window) : null;
  }

  /** True while the pair may hold a position: it has a formation and no break since. */
  get eligible(): boolean { return this.formation !== null && !this.detector.broken; }
  get broken(): boolean { return this.detector.broken; }
  /** The current hedge: y ≈ alpha + beta·x (NaN while undefined). Read on demand, off the update path. */
  get beta(): number { return this.monitor !== null ? this.monitor.hedgeRatio ?? Number.NaN : this.kalman?.beta ?? Number.NaN; }
  get alpha(): number { return this.monitor !== null ? this.monitor.intercept ?? Number.NaN : this.kalman?.alpha ?? Number.NaN; }
  /** The last spread under the current hedge (OLS: y − (α + βx) after the update; Kalman: the prior forecast error). */
  get spread(): number { return this.monitor !== null ? this.monitor.spread ?? Number.NaN : this.kalman?.e ?? Number.NaN; }
  /** Rolling half-life of the spread (OLS hedge), else the formation's. */
  get halfLife(): number | null { return this.monitor?.halfLife ?? this.formation?.halfLife ?? null; }

  /**
   * Installs the last screening's verdict (null: the pair failed it). Resets the break watch to
   * the new formation's spread dynamics. With the Kalman hedge, a filter is started from the
   * formation fit when none runs, warmed on the formation window (`xs`, `ys`, oldest first) so
   * its z-score is defined at once; a running filter is kept across re-tests.
   */
  setFormation(f: Formation | null, xs?: ArrayLike<number>, ys?: ArrayLike<number>): void {
    this.formation = f;
    this.detector.reset(f === null ? null : f.ar1);
    if (this.opts.hedge !== 'kalman') return;
    if (f === null) { this.kalman = null; this.errors!.reset(); this.kalmanCount = 0; return; }
    if (this.kalman !== null) return;
    this.kalman = new KalmanHedge({ delta: this.opts.kalmanDelta, obsVar: f.residualVar, xScale: f.xMean, beta0: f.beta, alpha0: f.alpha });
    this.errors!.reset();
    this.kalmanCount = 0;
    if (xs && ys) {
      if (xs.length !== ys.length) bad(`formation windows differ in length (${xs.length} vs ${ys.length})`);
      const e = new Float64Array(xs.length);
      for (let i = 0; i < xs.length; i++) e[i] = this.kalman.update(xs[i]!, ys[i]!);
      this.errors!.pushMany(e); // one WASM call for the window
      this.kalmanCount = xs.length;
    }
  }

  /** Forces the target flat (an entry that did not fill, a halt); re-arms entries. */
  flat(): void { this.target = 0; }

  /** One price pair (x, y, ticks); returns the decision (DECISION). */
  update(x: number, y: number): Decision {
    this.updates++;
    let z = Number.NaN;
    let ready = false;
    if (this.monitor !== null) {
      const m = this.monitor;
      m.push(x, y);
      const zz = m.zscore;
      if (zz !== null) z = zz;
      ready = this.updates >= this.opts.window;
    } else if (this.kalman !== null) {
      const e = this.kalman.update(x, y);
      const r = this.errors!;
      r.push(e);
      const zz = r.zscore(e);
      if (zz !== null) z = zz;
      ready = ++this.kalmanCount >= this.opts.window;
    }
    this.z = z;
    const f = this.formation;
    if (f !== null && this.detector.update(y - f.alpha - f.beta * x)) {
      if (this.target !== 0) this.target = 0;
      return DECISION.break;
    }
    if (!this.eligible) {
      if (this.target !== 0) { this.target = 0; return DECISION.drop; }
      return DECISION.hold;
    }
    if (!ready || z !== z) return DECISION.hold;
    const o = this.opts;
    if (this.target === 1) {
      if (z < -o.stopZ) { this.target = 0; this.armed = false; return DECISION.stop; }
      if (z >= -o.exitZ) { this.target = 0; return DECISION.exit; }
      return DECISION.hold;
    }
    if (this.target === -1) {
      if (z > o.stopZ) { this.target = 0; this.armed = false; return DECISION.stop; }
      if (z <= o.exitZ) { this.target = 0; return DECISION.exit; }
      return DECISION.hold;
    }
    if (!this.armed) {
      if (Math.abs(z) < o.entryZ) this.armed = true;
      return DECISION.hold;
    }
    if (z > o.entryZ) { this.target = -1; return DECISION.enterShort; }
    if (z < -o.entryZ) { this.target = 1; return DECISION.enterLong; }
    return DECISION.hold;
  }
}
