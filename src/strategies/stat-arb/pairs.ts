/**
 * The pairs statistical-arbitrage strategy (kind `pairs`): screens its symbols for cointegrated
 * pairs on a schedule, trades the spread of the selected ones on z-score thresholds through the
 * gateway's pairs saga, and goes flat on a stop, a structural break or a failed re-test.
 *
 * Loop (one `sample` timer every `sampleMs`): read each symbol's mid (the last one when a side is
 * empty; nothing happens until every symbol has had one), push it into the symbol's window, update
 * every candidate pair's model (model.ts: hedge, z, break watch, target), then reconcile the
 * pair's positions with its target; every `retestEvery` samples a screening round (screen.ts)
 * starts over the last `screenWindow` mids and runs `testsPerSample` Engle–Granger tests per
 * sample, so no hook pays for a whole round; when it ends, each pair gets its formation (or loses
 * it) and the FDR verdicts are written as signals.
 * Execution: an entry sends one pairs saga (leg A = y, leg B = x, IOC limits `slippageTicks`
 * through the far touch; leg B on A's fill, A unwound if B fails); an exit flattens both legs the
 * same way (a single leg left over goes as one IOC order). Sizes: `qty` lots of y against
 * round(|β|·qty·tickValue(y)/tickValue(x)) lots of x. After a saga the pair waits
 * legATimeoutMs + legBTimeoutMs + settleMs before it acts again; then an entry that left both legs
 * flat is given up ('entry_unfilled'), and a leg imbalance over `maxLegImbalance` lots is
 * corrected on x ('rebalance'). A symbol belongs to at most one open pair at a time, so a pair's
 * positions are the strategy's positions in its two symbols.
 * Signals (strategy_signals; symbol = the pair's y leg, the signal name carries the pair "Y/X"):
 * `z:Y/X` (value z, price the spread, every `zEvery` samples), the decisions `enter_long`,
 * `enter_short`, `exit`, `stop`, `break`, `drop` (value z, price spread, qty the y lots), execution
 * outcomes `order`, `flatten`, `rebalance`, `entry_unfilled`, `refused`, `busy` (a leg is held by
 * another pair), `size_refused`, `limit_refused`, `adopt` (positions found at start, flattened), and per screening `pvalue`, `qvalue`, `half_life`, `selected` (1/0).
 * Layout: per-symbol ring of mids (Float64Array), one `Slot` per candidate pair.
 * Invariants: at most one saga in flight per pair; entries only while the model is eligible.
 * Complexity: O(pairs) per sample plus ≤ testsPerSample coint tests (at n = 480, CPU time here:
 * ≈ 0.15 ms with a fixed lag 1, ≈ 0.26 ms with 'aic') and, once per round, the symbols' correlation matrix.
 * Allocation: none per sample outside screening (a round copies the windows) and signals.
 * Known limitations: sizes assume that β in ticks maps value through `tickValue` (tick size × lot
 * size per symbol; default 1 for every symbol — set it when the legs differ); positions are read
 * from ctx.position, so saga fills must reach the strategy's positions; no intra-sample entries.
 */
import { Strategy, type PairsRequest, type Side, type StrategyContext, type StrategyDefinition } from '../api.js';
import { TradsysError } from '../../domain/errors.js';
import { DECISION, DECISION_NAMES, PairsModel, checkThresholds, type Decision, type Formation, type HedgeMethod } from './model.js';
import { ScreenRound, type PairScreen } from './screen.js';
import type { FdrMethod } from './fdr.js';

export interface PairsParams {
  pairs: string[][];
  sampleMs: number;
  window: number;
  screenWindow: number;
  retestEvery: number;
  testsPerSample: number;
  cointLag: 'aic' | number;
  minCorrelation: number;
  fdr: FdrMethod;
  fdrQ: number;
  minHalfLife: number;
  maxHalfLife: number;
  maxPairs: number;
  hedge: HedgeMethod;
  kalmanDelta: number;
  entryZ: number;
  exitZ: number;
  stopZ: number;
  cusumK: number;
  cusumH: number;
  qty: number;
  tickValue: Record<string, number>;
  maxPosition: number;
  maxLegImbalance: number;
  slippageTicks: number;
  legATimeoutMs: number;
  legBTimeoutMs: number;
  settleMs: number;
  zEvery: number;
}

const int = (minimum: number, def: number, description: string): Record<string, unknown> => ({ type: 'integer', minimum, default: def, description });
const num = (minimum: number, def: number, description: string, exclusive = false): Record<string, unknown> =>
  ({ type: 'number', ...(exclusive ? { exclusiveMinimum: minimum } : { minimum }), default: def, description });

export const PAIRS_PARAMS_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    pairs: { type: 'array', items: { type: 'array', items: { type: 'string' }, minItems: 2, maxItems: 2 }, default: [], description: 'candidate pairs [y, x] by symbol name; [] = every pair of the strategy\'s symbols' },
    sampleMs: int(10, 250, 'sampling interval of the mids (ms); every statistic is per sample'),
    window: int(10, 240, 'samples in the hedge regression and the z-score window'),
    screenWindow: int(50, 480, 'samples in the screening (formation) window'),
    retestEvery: int(1, 240, 'samples between screening rounds'),
    testsPerSample: int(1, 1, 'Engle–Granger tests (one direction of one pair) per sample while a round runs'),
    cointLag: { oneOf: [{ const: 'aic' }, { type: 'integer', minimum: 0, maximum: 64 }], default: 1, description: 'ADF lags on the residuals: fixed (default 1) or \'aic\' (statsmodels\' search, about 1.7× the time of a test)' },
    minCorrelation: { type: 'number', minimum: 0, maximum: 1, default: 0.3, description: '|correlation| of mid changes needed to test a pair' },
    fdr: { enum: ['bh', 'by'], default: 'bh', description: 'false-discovery control: Benjamini–Hochberg or Benjamini–Yekutieli' },
    fdrQ: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.05, description: 'FDR level across the family of pair tests' },
    minHalfLife: num(0, 2, 'half-life band of the formation spread, samples'),
    maxHalfLife: num(0, 120, 'half-life band of the formation spread, samples'),
    maxPairs: int(1, 4, 'pairs selected per round, smallest p-values first'),
    hedge: { enum: ['ols', 'kalman'], default: 'ols', description: 'hedge ratio: rolling OLS over `window`, or the Kalman filter' },
    kalmanDelta: { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1, default: 1e-4, description: 'Kalman state drift δ (dimensionless; memory ≈ 1/√δ samples)' },
    entryZ: num(0, 2, 'enter when |z| exceeds it', true),
    exitZ: { type: 'number', default: 0.5, description: 'exit when z is back inside ±exitZ (in (−entryZ, entryZ))' },
    stopZ: num(0, 4, 'stop out when |z| exceeds it (> entryZ)', true),
    cusumK: num(0, 0.5, 'Page CUSUM reference value k (innovation σ)'),
    cusumH: num(0, 8, 'Page CUSUM threshold h (innovation σ)', true),
    qty: int(1, 1, 'lots of the y leg per spread'),
    tickValue: { type: 'object', additionalProperties: { type: 'number', exclusiveMinimum: 0 }, default: {}, description: 'value of one tick on one lot by symbol name (tick size × lot size); default 1' },
    maxPosition: int(1, 100, 'largest position per leg, lots'),
    maxLegImbalance: int(0, 1, 'lots of x off the hedge before a rebalance'),
    slippageTicks: int(0, 2, 'IOC limit this many ticks through the far touch'),
    legATimeoutMs: int(1, 500, 'pairs saga: leg A cancelled after this'),
    legBTimeoutMs: int(1, 1000, 'pairs saga: leg B cancelled (and A unwound) after this'),
    settleMs: int(0, 1000, 'wait after a saga\'s timeouts before the pair acts again'),
    zEvery: int(0, 4, 'write a z signal every this many samples (0 = never)'),
  },
} as const;

export const PAIRS_DEFAULTS: PairsParams = Object.fromEntries(
  Object.entries(PAIRS_PARAMS_SCHEMA.properties).map(([k, v]) => [k, structuredClone((v as { default: unknown }).default)]),
) as unknown as PairsParams;

/** Parameters with defaults filled in, checked for what the schema cannot say. */
export function pairsParams(p: Readonly<Partial<PairsParams>>): PairsParams {
  const o = { ...PAIRS_DEFAULTS, ...p } as PairsParams;
  const fail = (m: string): never => { throw new TradsysError('ERR_STRATEGY_INPUT', `pairs: ${m}`); };
  try { checkThresholds(o); } catch (e) { fail((e as Error).message); }
  if (o.minHalfLife > o.maxHalfLife) fail(`minHalfLife (${o.minHalfLife}) is above maxHalfLife (${o.maxHalfLife})`);
  if (o.cointLag !== 'aic' && !(Number.isInteger(o.cointLag) && o.cointLag >= 0 && o.cointLag <= o.screenWindow / 4)) fail(`cointLag must be 'aic' or an integer ≤ screenWindow/4, got ${String(o.cointLag)}`);
  for (const pr of o.pairs) if (!Array.isArray(pr) || pr.length !== 2 || pr[0] === pr[1]) fail(`each pair must name two different symbols, got ${JSON.stringify(pr)}`);
  return o;
}

interface Slot {
  name: string;
  yi: number;
  xi: number;
  y: number;
  x: number;
  model: PairsModel;
  screen: PairScreen | null;
  /** No new action on this pair before this time (a saga in flight). */
  pendingUntil: number;
  /** An entry saga was sent for the current target. */
  entered: boolean;
  /** Lots of x per lot of y held (signed: −1·… when the legs are on opposite sides). */
  ratio: number;
  posY: number;
  posX: number;
  lastDecision: string;
  sagas: number;
}

export class PairsStrategy extends Strategy<PairsParams> {
  private p: PairsParams;
  private syms: number[] = [];
  private names: string[] = [];
  private rings: Float64Array[] = [];
  private head = 0;
  private filled = 0;
  private last = new Float64Array(0);
  private slots: Slot[] = [];
  /** Symbol index → the slot holding a position in it, −1 when none. */
  private owner: Int32Array = new Int32Array(0);
  private round: ScreenRound | null = null;
  private samples = 0;
  private lastScreenAt = -1;
  private rounds = 0;

  constructor(params: Readonly<Partial<PairsParams>>) {
    super();
    this.p = pairsParams(params);
  }

  override onStart(ctx: StrategyContext<PairsParams>): void {
    this.p = pairsParams(ctx.params);
    const subscribed = new Set(ctx.symbols);
    let pairs: [number, number][];
    if (this.p.pairs.length > 0) {
      pairs = this.p.pairs.map(([yn, xn]) => {
        const y = ctx.symbolId(yn!); const x = ctx.symbolId(xn!);
        for (const [n, id] of [[yn, y], [xn, x]] as const) {
          if (!subscribed.has(id)) throw new TradsysError('ERR_STRATEGY_INPUT', `pairs: symbol ${n} is not among the strategy's symbols (${ctx.symbols.map((s) => ctx.symbolName(s)).join(', ')})`);
        }
        return [y, x];
      });
    } else {
      if (ctx.symbols.length < 2) throw new TradsysError('ERR_STRATEGY_INPUT', `pairs: needs at least 2 symbols, got ${ctx.symbols.length}`);
      pairs = [];
      for (let i = 0; i < ctx.symbols.length; i++) for (let j = i + 1; j < ctx.symbols.length; j++) pairs.push([ctx.symbols[i]!, ctx.symbols[j]!]);
    }
    this.syms = [...new Set(pairs.flat())];
    this.names = this.syms.map((s) => ctx.symbolName(s));
    this.build(pairs);
    this.adopt(ctx);
    ctx.setTimer('sample', this.p.sampleMs, true);
  }

  /**
   * Positions the strategy already holds in its symbols (a restart, or models rebuilt by a
   * parameter change) are given to the first pair holding both legs free; its model starts flat,
   * so the next samples flatten them.
   */
  private adopt(ctx: StrategyContext<PairsParams>): void {
    this.slots.forEach((slot, s) => {
      if (this.owner[slot.yi] !== -1 || this.owner[slot.xi] !== -1) return;
      const py = ctx.position(slot.y).position; const px = ctx.position(slot.x).position;
      if (py === 0 && px === 0) return;
      this.owner[slot.yi] = s; this.owner[slot.xi] = s;
      ctx.signal(slot.y, `adopt:${slot.name}`, 0, py, px);
    });
  }

  private build(pairs: readonly (readonly [number, number])[]): void {
    const k = this.syms.length;
    this.rings = Array.from({ length: k }, () => new Float64Array(this.p.screenWindow));
    this.last = new Float64Array(k).fill(Number.NaN);
    this.owner = new Int32Array(k).fill(-1);
    this.head = 0; this.filled = 0; this.samples = 0; this.lastScreenAt = -1; this.round = null;
    this.slots = pairs.map(([y, x]) => {
      const yi = this.syms.indexOf(y); const xi = this.syms.indexOf(x);
      return {
        name: `${this.names[yi]}/${this.names[xi]}`, yi, xi, y, x, model: this.newModel(), screen: null,
        pendingUntil: 0, entered: false, ratio: 0, posY: 0, posX: 0, lastDecision: 'hold', sagas: 0,
      };
    });
  }

  private newModel(): PairsModel {
    const p = this.p;
    return new PairsModel({ window: p.window, hedge: p.hedge, kalmanDelta: p.kalmanDelta, entryZ: p.entryZ, exitZ: p.exitZ, stopZ: p.stopZ, cusumK: p.cusumK, cusumH: p.cusumH });
  }

  override onStop(ctx: StrategyContext<PairsParams>): void { ctx.clearTimer('sample'); }

  override onParams(ctx: StrategyContext<PairsParams>, previous: Readonly<PairsParams>): void {
    const next = pairsParams(ctx.params);
    const structural: (keyof PairsParams)[] = ['pairs', 'window', 'screenWindow', 'hedge', 'kalmanDelta', 'cusumK', 'cusumH', 'sampleMs'];
    const changed = structural.some((k) => JSON.stringify(next[k]) !== JSON.stringify(previous[k]));
    this.p = next;
    if (changed) {
      // new models start flat: the next samples flatten what the old ones held
      ctx.clearTimer('sample');
      this.onStart(ctx);
      return;
    }
    for (const s of this.slots) { s.model.opts.entryZ = next.entryZ; s.model.opts.exitZ = next.exitZ; s.model.opts.stopZ = next.stopZ; }
  }

  override onTimer(ctx: StrategyContext<PairsParams>, name: string): void {
    if (name === 'sample') this.sample(ctx);
  }

  private sample(ctx: StrategyContext<PairsParams>): void {
    const k = this.syms.length;
    for (let i = 0; i < k; i++) {
      const m = ctx.book(this.syms[i]!).mid();
      if (m === m) this.last[i] = m;
    }
    for (let i = 0; i < k; i++) if (this.last[i] !== this.last[i]) return; // a symbol never quoted yet
    const w = this.p.screenWindow;
    for (let i = 0; i < k; i++) this.rings[i]![this.head] = this.last[i]!;
    this.head = (this.head + 1) % w;
    if (this.filled < w) this.filled++;
    this.samples++;
    const now = ctx.now();
    const zEvery = this.p.zEvery;
    for (let s = 0; s < this.slots.length; s++) {
      const slot = this.slots[s]!;
      const m = slot.model;
      const d = m.update(this.last[slot.xi]!, this.last[slot.yi]!);
      if (zEvery > 0 && this.samples % zEvery === 0 && m.z === m.z) ctx.signal(slot.y, `z:${slot.name}`, m.z, m.spread, 0);
      if (d !== DECISION.hold) {
        slot.lastDecision = DECISION_NAMES[d];
        ctx.signal(slot.y, `${DECISION_NAMES[d]}:${slot.name}`, m.z, m.spread, this.p.qty);
      }
      this.reconcile(ctx, s, d, now);
    }
    this.screen(ctx);
  }

  private screen(ctx: StrategyContext<PairsParams>): void {
    const p = this.p;
    if (this.round === null) {
      if (this.filled < p.screenWindow || (this.lastScreenAt >= 0 && this.samples - this.lastScreenAt < p.retestEvery)) return;
      this.lastScreenAt = this.samples;
      this.round = new ScreenRound(this.windows(), {
        candidates: this.slots.map((s) => [s.yi, s.xi] as const), minCorrelation: p.minCorrelation, fdr: p.fdr, fdrQ: p.fdrQ,
        minHalfLife: p.minHalfLife, maxHalfLife: p.maxHalfLife, maxPairs: p.maxPairs, cointLag: p.cointLag,
      });
      return; // the correlation matrix was this sample's work
    }
    this.round.step(p.testsPerSample);
    if (!this.round.done) return;
    const round = this.round;
    this.round = null;
    this.rounds++;
    const wins = this.windows();
    round.results.forEach((r, i) => {
      const slot = this.slots[i]!;
      slot.screen = r;
      const f: Formation | null = r.selected ? { alpha: r.alpha, beta: r.beta, residualVar: r.residualVar, xMean: r.xMean, ar1: r.ar1!, halfLife: r.halfLife, pValue: r.pValue, qValue: r.qValue } : null;
      slot.model.setFormation(f, wins[slot.xi], wins[slot.yi]);
      ctx.signal(slot.y, `pvalue:${slot.name}`, r.pValue, 0, 0);
      ctx.signal(slot.y, `qvalue:${slot.name}`, r.qValue, 0, 0);
      if (r.halfLife !== null) ctx.signal(slot.y, `half_life:${slot.name}`, r.halfLife, 0, 0);
      ctx.signal(slot.y, `selected:${slot.name}`, r.selected ? 1 : 0, 0, 0);
    });
  }

  /** The screening windows, oldest first (allocates). */
  private windows(): Float64Array[] {
    const w = this.p.screenWindow;
    return this.rings.map((r) => { const out = new Float64Array(w); out.set(r.subarray(this.head)); out.set(r.subarray(0, this.head), w - this.head); return out; });
  }

  private reconcile(ctx: StrategyContext<PairsParams>, s: number, d: Decision, now: number): void {
    const slot = this.slots[s]!;
    const model = slot.model;
    const ownsY = this.owner[slot.yi] === s; const ownsX = this.owner[slot.xi] === s;
    slot.posY = ownsY ? ctx.position(slot.y).position : 0;
    slot.posX = ownsX ? ctx.position(slot.x).position : 0;
    if (now < slot.pendingUntil) return;
    const posY = slot.posY; const posX = slot.posX;
    if (model.target === 0) {
      slot.entered = false;
      if (posY !== 0 || posX !== 0) { this.flatten(ctx, slot, now); return; }
      if (ownsY) this.owner[slot.yi] = -1;
      if (ownsX) this.owner[slot.xi] = -1;
      return;
    }
    if (posY === 0 && posX === 0) {
      if (slot.entered) {
        slot.entered = false;
        model.flat();
        model.armed = false;
        ctx.signal(slot.y, `entry_unfilled:${slot.name}`, model.z, model.spread, 0);
        if (ownsY) this.owner[slot.yi] = -1;
        if (ownsX) this.owner[slot.xi] = -1;
        return;
      }
      // the entry decision now, or one that waited for a saga in flight while z stays beyond entryZ
      if (d === DECISION.enterLong || d === DECISION.enterShort || Math.abs(model.z) > this.p.entryZ) this.enter(ctx, s, now);
      else model.flat();
      return;
    }
    // holding: keep the legs on the hedge
    const want = Math.round(posY * slot.ratio);
    const off = want - posX;
    if (Math.abs(off) > this.p.maxLegImbalance && ownsX) {
      const side: Side = off > 0 ? 0 : 1;
      const r = this.ioc(ctx, slot.x, side, Math.abs(off));
      ctx.signal(slot.y, `rebalance:${slot.name}`, off, 0, Math.abs(off));
      if (typeof r === 'string') ctx.signal(slot.y, `refused:${slot.name}`, 0, 0, 0);
      slot.pendingUntil = now + this.p.settleMs;
    }
  }

  private enter(ctx: StrategyContext<PairsParams>, s: number, now: number): void {
    const slot = this.slots[s]!;
    const m = slot.model;
    const p = this.p;
    // a refused entry is not retried every sample: the pair re-arms once |z| is back inside entryZ
    const refuse = (why: string): void => { m.flat(); m.armed = false; ctx.signal(slot.y, `${why}:${slot.name}`, m.z, m.spread, 0); };
    if (this.owner[slot.yi] !== -1 || this.owner[slot.xi] !== -1) { refuse('busy'); return; }
    const beta = m.beta;
    if (!Number.isFinite(beta) || beta === 0) { refuse('size_refused'); return; }
    const tvY = p.tickValue[this.names[slot.yi]!] ?? 1; const tvX = p.tickValue[this.names[slot.xi]!] ?? 1;
    const qy = p.qty;
    const qx = Math.round(Math.abs(beta) * qy * (tvY / tvX));
    if (qx < 1) { refuse('size_refused'); return; }
    if (qy > p.maxPosition || qx > p.maxPosition) { refuse('limit_refused'); return; }
    const sideY: Side = m.target === 1 ? 0 : 1;
    const sideX: Side = (beta > 0) === (sideY === 0) ? 1 : 0;
    const req = this.request(ctx, slot.y, sideY, qy, slot.x, sideX, qx);
    if (req === null) { refuse('refused'); return; }
    const r = ctx.pairs(req);
    if (typeof r === 'string') { refuse('refused'); return; }
    slot.entered = true;
    slot.sagas++;
    slot.ratio = (sideX === sideY ? 1 : -1) * (qx / qy);
    this.owner[slot.yi] = s; this.owner[slot.xi] = s;
    slot.pendingUntil = now + p.legATimeoutMs + p.legBTimeoutMs + p.settleMs;
    ctx.signal(slot.y, `order:${slot.name}`, m.target, req.legA.price, qy);
  }

  private flatten(ctx: StrategyContext<PairsParams>, slot: Slot, now: number): void {
    const p = this.p;
    let ok: boolean;
    if (slot.posY !== 0 && slot.posX !== 0) {
      const req = this.request(ctx, slot.y, slot.posY > 0 ? 1 : 0, Math.abs(slot.posY), slot.x, slot.posX > 0 ? 1 : 0, Math.abs(slot.posX));
      ok = req !== null && typeof ctx.pairs(req) === 'number';
      if (ok) slot.sagas++;
    } else {
      const [sym, pos] = slot.posY !== 0 ? [slot.y, slot.posY] : [slot.x, slot.posX];
      ok = typeof this.ioc(ctx, sym, pos > 0 ? 1 : 0, Math.abs(pos)) === 'number';
    }
    ctx.signal(slot.y, `${ok ? 'flatten' : 'refused'}:${slot.name}`, slot.model.z, slot.model.spread, Math.abs(slot.posY));
    slot.pendingUntil = now + p.legATimeoutMs + p.legBTimeoutMs + p.settleMs;
  }

  /** An IOC limit `slippageTicks` through the far touch, or null when that side of the book is empty. */
  private price(ctx: StrategyContext<PairsParams>, symbol: number, side: Side): number | null {
    const b = ctx.book(symbol);
    const slip = this.p.slippageTicks;
    if (side === 0) return b.askPx > 0 ? b.askPx + slip : null;
    return b.bidPx > 0 ? Math.max(1, b.bidPx - slip) : null;
  }

  private request(ctx: StrategyContext<PairsParams>, y: number, sideY: Side, qy: number, x: number, sideX: Side, qx: number): PairsRequest | null {
    const py = this.price(ctx, y, sideY); const px = this.price(ctx, x, sideX);
    if (py === null || px === null) return null;
    return {
      legA: { symbol: y, side: sideY, price: py, qty: qy, tif: 'ioc' },
      legB: { symbol: x, side: sideX, price: px, qty: qx, tif: 'ioc' },
      legATimeoutMs: this.p.legATimeoutMs, legBTimeoutMs: this.p.legBTimeoutMs, tag: 'pairs',
    };
  }

  private ioc(ctx: StrategyContext<PairsParams>, symbol: number, side: Side, qty: number): number | string {
    const price = this.price(ctx, symbol, side);
    if (price === null) return 'bad_order';
    return ctx.place({ symbol, side, qty, price, type: 'limit', tif: 'ioc', tag: 'pairs' });
  }

  override status(): Record<string, unknown> {
    return {
      samples: this.samples,
      screeningRounds: this.rounds,
      screening: this.round !== null,
      pairs: this.slots.map((s) => {
        const m = s.model;
        const f = m.formation;
        const fin = (v: number | null | undefined): number | null => (v === null || v === undefined || !Number.isFinite(v) ? null : v);
        return {
          pair: s.name, z: fin(m.z), beta: fin(m.beta), halfLife: fin(m.halfLife), pValue: fin(s.screen?.pValue), qValue: fin(s.screen?.qValue),
          correlation: fin(s.screen?.correlation), selected: f !== null, verdict: s.screen?.verdict ?? 'pending', broken: m.broken,
          target: m.target, positionY: s.posY, positionX: s.posX, lastDecision: s.lastDecision, sagas: s.sagas,
          formation: f === null ? null : { alpha: f.alpha, beta: f.beta, halfLife: f.halfLife },
        };
      }),
    };
  }
}

export const pairsStrategy: StrategyDefinition<PairsParams> = {
  kind: 'pairs',
  description: 'Pairs statistical arbitrage: Engle–Granger screening with FDR control and a half-life band, rolling-OLS or Kalman hedge, z-score entries/exits/stops, CUSUM break watch, both legs through the pairs saga',
  paramsSchema: PAIRS_PARAMS_SCHEMA as unknown as Record<string, unknown>,
  create: (params) => new PairsStrategy(params),
};
