/**
 * A seeded market of cointegrated instruments, for the simulator (`tradsys serve`) and
 * `tradsys gen --market cointegrated`: each instrument's fair value is its starting price moved by
 * its group's common random-walk factor (times the instrument's beta) plus a mean-reverting
 * spread of its own:
 *
 *   P_i(t) = P_i(0) · (1 + 10⁻⁴ · (β_i · F_g(t) + S_i(t)))          (ticks; F, S in basis points)
 *   F_g(t+1) = F_g(t) + σ_F · ε                                        (random walk, per group)
 *   S_i(t+1) = φ · S_i(t) + σ_S · √(1 − φ²) · ε,   φ = 2^(−1/h)      (AR(1) / discrete OU)
 *
 * with h the spread's half-life and σ_S its stationary standard deviation (both per instrument
 * alike), ε independent standard normals. Within a group, P_i − k_ij · P_j with the hedge ratio
 * k_ij = β_i·P_i(0) / (β_j·P_j(0)) cancels the factor and is stationary (an AR(1) with the same
 * half-life h): the instruments are cointegrated in price (ticks) with that hedge ratio. Across
 * groups, and for an instrument in no group (it gets a factor of its own), prices are
 * independent random walks, so they are not cointegrated.
 *
 * Layout: per instrument the start price, beta, spread, group and the step its spread was last
 * advanced to; per group the factor and its step (Float64Array / Int32Array).
 * Invariants: the process is advanced lazily and exactly: asking for instrument i at step t draws
 * the factor's move over the steps since its group was last advanced (σ_F·√k·ε) and the spread's
 * (φ^k·S + σ_S·√(1 − φ^2k)·ε), so the joint law at any sampled times is the one of the
 * step-by-step process, and a caller that samples one instrument per command pays O(1). Steps
 * never go backwards. The same seed and the same sequence of calls give the same values.
 * Complexity: O(1) per `fair`. Allocation: the arrays at construction only.
 * Known limitations: the factor is an arithmetic random walk, so over very long runs a price can
 * drift to the 1-tick floor (with the defaults, 1e6 steps move it by about 3 %); fair values are
 * rounded to whole ticks (≥ 1), which adds at most half a tick of noise; Math.log/cos/sqrt are
 * V8's (deterministic across platforms in Node, not guaranteed by the language).
 */
import { TradsysError } from '../domain/errors.js';
import { prng } from './prng.js';

export interface CointegrationSpec {
  /**
   * Groups of instrument indices that share one common factor. An instrument in no group gets a
   * factor of its own (an independent random walk). An index may appear in one group only.
   */
  groups: readonly (readonly number[])[];
  /** Standard deviation of the common factor's move per step, basis points of each starting price. */
  factorVolBp: number;
  /** Half-life of each instrument's spread, in steps (> 0). */
  halfLifeSteps: number;
  /** Stationary standard deviation of each instrument's spread, basis points of its starting price. */
  spreadSdBp: number;
  /** Each instrument's loading on its group's factor (default 1 for all); length = instruments. */
  betas?: readonly number[];
}

function bad(msg: string): never {
  throw new TradsysError('ERR_SIM_CONFIG', msg);
}

/** Checks a spec against `n` instruments; TradsysError ERR_SIM_CONFIG naming the field. */
export function checkCointegrationSpec(spec: CointegrationSpec, n: number): void {
  const pos = (v: unknown, name: string, zero = false): void => {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!zero && v === 0)) bad(`${name} must be a ${zero ? 'non-negative' : 'positive'} finite number, got ${String(v)}`);
  };
  pos(spec.factorVolBp, 'factorVolBp', true);
  pos(spec.halfLifeSteps, 'halfLifeSteps');
  pos(spec.spreadSdBp, 'spreadSdBp', true);
  if (!Array.isArray(spec.groups)) bad('groups must be an array of arrays of instrument indices');
  const seen = new Set<number>();
  for (const g of spec.groups) {
    if (!Array.isArray(g) || g.length === 0) bad('each group must be a non-empty array of instrument indices');
    for (const i of g) {
      if (!Number.isInteger(i) || i < 0 || i >= n) bad(`group member ${String(i)} is not an instrument index 0..${n - 1}`);
      if (seen.has(i)) bad(`instrument ${i} is in more than one group`);
      seen.add(i);
    }
  }
  if (spec.betas !== undefined) {
    if (!Array.isArray(spec.betas) || spec.betas.length !== n) bad(`betas must list one number per instrument (${n})`);
    spec.betas.forEach((b, i) => { if (typeof b !== 'number' || !Number.isFinite(b) || b <= 0) bad(`betas[${i}] must be a positive finite number, got ${String(b)}`); });
  }
}

/** Consecutive pairs of instruments, [0, 1], [2, 3], … (an odd last one stays on its own). */
export function pairGroups(n: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i + 1 < n; i += 2) out.push([i, i + 1]);
  return out;
}

export class CointegratedMarket {
  readonly n: number;
  readonly spec: Readonly<CointegrationSpec>;
  /** AR(1) coefficient per step, 2^(−1/halfLifeSteps). */
  readonly phi: number;
  private readonly start: Float64Array;
  private readonly beta: Float64Array;
  private readonly spread: Float64Array;
  private readonly symStep: Float64Array;
  private readonly group: Int32Array;
  private readonly factor: Float64Array;
  private readonly groupStep: Float64Array;
  private readonly rnd: () => number;
  private spare = NaN;

  /** `start`: each instrument's starting fair value in ticks (> 0). Allocates its arrays. */
  constructor(start: readonly number[], spec: CointegrationSpec, seed: number) {
    const n = start.length;
    checkCointegrationSpec(spec, n);
    start.forEach((p, i) => { if (!(p > 0) || !Number.isFinite(p)) bad(`starting price of instrument ${i} must be positive, got ${p}`); });
    this.n = n;
    this.spec = spec;
    this.phi = Math.pow(2, -1 / spec.halfLifeSteps);
    this.start = Float64Array.from(start);
    this.beta = new Float64Array(n).fill(1);
    if (spec.betas) this.beta.set(spec.betas);
    this.spread = new Float64Array(n);
    this.symStep = new Float64Array(n);
    this.group = new Int32Array(n).fill(-1);
    spec.groups.forEach((g, k) => { for (const i of g) this.group[i] = k; });
    let ng = spec.groups.length;
    for (let i = 0; i < n; i++) if (this.group[i] === -1) this.group[i] = ng++;
    this.factor = new Float64Array(ng);
    this.groupStep = new Float64Array(ng);
    this.rnd = prng(seed);
    // each spread starts from its stationary law, so the first window is as cointegrated as any later one
    for (let i = 0; i < n; i++) this.spread[i] = spec.spreadSdBp * this.normal();
  }

  /** Standard normal (Box–Muller, both values used). */
  private normal(): number {
    if (!Number.isNaN(this.spare)) { const z = this.spare; this.spare = NaN; return z; }
    const u1 = Math.max(this.rnd(), 1e-300), u2 = this.rnd();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** Instrument i's fair value at `step` (≥ the last step asked of it), unrounded ticks. */
  value(i: number, step: number): number {
    const g = this.group[i]!;
    const kf = step - this.groupStep[g]!;
    if (kf > 0) {
      this.factor[g]! += this.spec.factorVolBp * Math.sqrt(kf) * this.normal();
      this.groupStep[g] = step;
    }
    const ks = step - this.symStep[i]!;
    if (ks > 0) {
      const a = Math.pow(this.phi, ks);
      this.spread[i] = a * this.spread[i]! + this.spec.spreadSdBp * Math.sqrt(1 - a * a) * this.normal();
      this.symStep[i] = step;
    }
    return this.start[i]! * (1 + 1e-4 * (this.beta[i]! * this.factor[g]! + this.spread[i]!));
  }

  /** Instrument i's fair value at `step` in whole ticks (≥ 1). */
  fair(i: number, step: number): number {
    return Math.max(1, Math.round(this.value(i, step)));
  }

  /** Standard deviation of instrument i's factor move per step, in ticks (β_i · σ_F · P_i(0) · 10⁻⁴). */
  stepSd(i: number): number { return this.beta[i]! * this.spec.factorVolBp * this.start[i]! * 1e-4; }

  /** Lots of j that hedge one lot of i (cancel the common factor): β_i·P_i(0) / (β_j·P_j(0)); NaN across groups. */
  hedgeRatio(i: number, j: number): number {
    if (this.group[i] !== this.group[j]) return NaN;
    return (this.beta[i]! * this.start[i]!) / (this.beta[j]! * this.start[j]!);
  }

  /** The group number of instrument i (instruments in no group get one of their own). */
  groupOf(i: number): number { return this.group[i]!; }
}
