/**
 * Cointegrated instruments (src/workload/cointegrated.ts, the simulator's market, `tradsys gen
 * --market cointegrated`): Engle–Granger `coint` from src/stats (MacKinnon p-values) finds the
 * simulated pairs cointegrated and independent random walks not; the spread's AR(1) coefficient,
 * stationary deviation, half-life and hedge ratio land near their parameters. All seeded, so
 * deterministic; where a claim is statistical it is checked over many seeds against its nominal rate.
 */
import { describe, expect, it } from 'vitest';
import { coint, ols } from '../../src/stats/index.js';
import { CointegratedMarket, checkCointegrationSpec, pairGroups } from '../../src/workload/cointegrated.js';
import { GEN_COINTEGRATION, generate } from '../../src/workload/generator.js';
import { DEMO_INSTRUMENTS, loadInstruments } from '../../src/domain/instruments.js';
import { simCointegratedMarket } from '../../src/sim/simulator.js';
import { Engine } from '../../src/engine/engine.js';
import { EVT_SIZE } from '../../src/abi/records.js';
import { evtPrice, evtSymbol, evtType } from '../../src/abi/views.js';
import { TradsysError } from '../../src/domain/errors.js';

/** Half-life of mean reversion of `s`: regression of Δs on s(t−1), −ln 2 / ln(1 + λ). */
function halfLife(s: Float64Array): number {
  const lag = s.subarray(0, s.length - 1);
  const d = new Float64Array(s.length - 1);
  for (let i = 1; i < s.length; i++) d[i - 1] = s[i]! - s[i - 1]!;
  const lambda = ols(d, lag).beta!;
  return -Math.LN2 / Math.log1p(lambda);
}

function paths(m: CointegratedMarket, steps: number, every = 1): Float64Array[] {
  const out = Array.from({ length: m.n }, () => new Float64Array(steps));
  for (let t = 0; t < steps; t++) for (let i = 0; i < m.n; i++) out[i]![t] = m.value(i, (t + 1) * every);
  return out;
}

function errCode(f: () => unknown): string {
  try { f(); } catch (e) { return e instanceof TradsysError ? e.code : String(e); }
  return 'no error';
}

describe('CointegratedMarket', () => {
  const spec = { groups: [[0, 1]], factorVolBp: 10, halfLifeSteps: 20, spreadSdBp: 10, betas: [1, 1.5, 1, 1] };
  const start = [10_000, 20_000, 5_000, 8_000];

  it('pairs in a group are cointegrated (p < 0.05 for every seed); independent walks are rejected at about the nominal 5 %', () => {
    let falseCoint = 0;
    const SEEDS = 40;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const m = new CointegratedMarket(start, spec, seed);
      const [a, b, c, d] = paths(m, 1_000);
      expect(coint(a!, b!).pvalue, `seed ${seed}`).toBeLessThan(0.05);
      expect(coint(b!, a!).pvalue, `seed ${seed}`).toBeLessThan(0.05);
      if (coint(c!, d!).pvalue < 0.05) falseCoint++; // two independent random walks (3 and 4 are in no group)
      if (coint(a!, c!).pvalue < 0.05) falseCoint++; // across groups
    }
    // 80 tests of a true null at the 5 % level: the number of rejections is Binomial(80, 0.05), mean 4;
    // P(≥ 11) < 0.003
    expect(falseCoint).toBeLessThanOrEqual(10);
  });

  it('seed 1: the figures (independent walks clearly not cointegrated)', () => {
    const m = new CointegratedMarket(start, spec, 1);
    const [a, b, c, d] = paths(m, 1_000);
    expect(coint(a!, b!).pvalue).toBeLessThan(0.05); // 0.010: 1,000 steps are 50 half-lives
    expect(coint(c!, d!).pvalue).toBeGreaterThan(0.2);
    expect(coint(a!, c!).pvalue).toBeGreaterThan(0.2);
  });

  it('the hedge ratio cancels the factor; the spread has the AR(1) coefficient, deviation and half-life of the parameters', () => {
    const m = new CointegratedMarket(start, { ...spec, halfLifeSteps: 50 }, 5);
    const n = 40_000;
    const [a, b] = paths(m, n);
    const k = m.hedgeRatio(0, 1);
    expect(k).toBeCloseTo(10_000 / (1.5 * 20_000), 12);
    expect(Number.isNaN(m.hedgeRatio(0, 2))).toBe(true);
    // OLS of a on b estimates the hedge ratio
    expect(ols(a!, b!).beta!).toBeGreaterThan(k * 0.97);
    expect(ols(a!, b!).beta!).toBeLessThan(k * 1.03);
    // spread = a − k·b = const + 10⁻⁴(10,000·S_a − k·20,000·S_b): AR(1) with φ = 2^(−1/50)
    const s = new Float64Array(n);
    for (let t = 0; t < n; t++) s[t] = a![t]! - k * b![t]!;
    const hl = halfLife(s);
    expect(hl).toBeGreaterThan(50 * 0.9);
    expect(hl).toBeLessThan(50 * 1.1);
    // stationary sd: 10 bp of 10,000 and of k·20,000 ticks, independent: √(10² + 6.67²)
    let mean = 0;
    for (const v of s) mean += v;
    mean /= n;
    let v2 = 0;
    for (const v of s) v2 += (v - mean) ** 2;
    const sd = Math.sqrt(v2 / (n - 1));
    const want = Math.hypot(10, k * 20_000 * 1e-3);
    expect(sd).toBeGreaterThan(want * 0.9);
    expect(sd).toBeLessThan(want * 1.1);
  });

  it('sampled every 10 steps, the process is the same one at that spacing (half-life 10× shorter in samples)', () => {
    // the estimate's sd is about 1 sample per seed at this length: average 8 seeds
    let sum = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const m = new CointegratedMarket(start, { ...spec, factorVolBp: 1, halfLifeSteps: 200 }, seed);
      const [a, b] = paths(m, 20_000, 10);
      const k = m.hedgeRatio(0, 1);
      const s = new Float64Array(a!.length);
      for (let t = 0; t < s.length; t++) s[t] = a![t]! - k * b![t]!;
      sum += halfLife(s);
    }
    expect(sum / 8).toBeGreaterThan(20 * 0.95);
    expect(sum / 8).toBeLessThan(20 * 1.05);
  });

  it('is deterministic per seed, and fair values are whole ticks ≥ 1', () => {
    const x = paths(new CointegratedMarket(start, spec, 3), 200);
    const y = paths(new CointegratedMarket(start, spec, 3), 200);
    const z = paths(new CointegratedMarket(start, spec, 4), 200);
    expect(x).toEqual(y);
    expect(x).not.toEqual(z);
    const m = new CointegratedMarket([2], { groups: [], factorVolBp: 5_000, halfLifeSteps: 5, spreadSdBp: 0 }, 1);
    for (let t = 1; t < 200; t++) { const f = m.fair(0, t); expect(Number.isInteger(f) && f >= 1).toBe(true); }
  });

  it('refuses bad parameters with ERR_SIM_CONFIG', () => {
    const ok = { groups: [[0, 1]], factorVolBp: 1, halfLifeSteps: 10, spreadSdBp: 1 };
    expect(() => checkCointegrationSpec(ok, 2)).not.toThrow();
    for (const bad of [
      { ...ok, groups: [[0, 2]] }, { ...ok, groups: [[0, 1], [1]] }, { ...ok, groups: [[]] }, { ...ok, halfLifeSteps: 0 },
      { ...ok, factorVolBp: -1 }, { ...ok, spreadSdBp: Number.NaN }, { ...ok, betas: [1] }, { ...ok, betas: [1, 0] },
    ]) expect(errCode(() => checkCointegrationSpec(bad, 2)), JSON.stringify(bad)).toBe('ERR_SIM_CONFIG');
    expect(errCode(() => new CointegratedMarket([100, 0], ok, 1))).toBe('ERR_SIM_CONFIG');
    expect(pairGroups(5)).toEqual([[0, 1], [2, 3]]);
  });
});

describe('the simulator\'s cointegrated market on the built-in instruments', () => {
  const ins = loadInstruments(DEMO_INSTRUMENTS);

  it('crypto with crypto and equity with equity are cointegrated within 5 minutes; across groups and EURUSD rejected at about 5 %', () => {
    const sym = (p: Float64Array[], name: string): Float64Array => p[ins.findIndex((i) => i.symbol === name)]!;
    let falseCoint = 0;
    const SEEDS = 12;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const m = simCointegratedMarket(ins, 20, {}, seed); // the serve defaults: one step per 20 ms tick
      // 5 minutes of ticks sampled every 250 ms (the half-life, 2 s, is 8 samples)
      const p = paths(m, 1_200, 12.5);
      expect(coint(sym(p, 'ETH-USD'), sym(p, 'BTC-USD')).pvalue, `seed ${seed}`).toBeLessThan(0.05);
      expect(coint(sym(p, 'SOL-USD'), sym(p, 'ETH-USD')).pvalue, `seed ${seed}`).toBeLessThan(0.05);
      expect(coint(sym(p, 'MSFT'), sym(p, 'AAPL')).pvalue, `seed ${seed}`).toBeLessThan(0.05);
      for (const [a, b] of [['AAPL', 'BTC-USD'], ['EURUSD', 'MSFT'], ['SOL-USD', 'EURUSD']] as const) {
        if (coint(sym(p, a), sym(p, b)).pvalue < 0.05) falseCoint++;
      }
    }
    // 36 tests of a true null at 5 %: Binomial(36, 0.05), mean 1.8; P(≥ 6) < 0.01
    expect(falseCoint).toBeLessThanOrEqual(5);
    // the hedge ratio in ticks: β·P(0) of ETH over BTC's (1.2 × 60,000 ticks of 0.05 vs 120,000 ticks of 0.5)
    expect(simCointegratedMarket(ins, 20).hedgeRatio(1, 0)).toBeCloseTo((1.2 * 60_000) / (1 * 120_000), 12);
  });

  it('names unknown symbols and bad parameters with ERR_SIM_CONFIG', () => {
    expect(errCode(() => simCointegratedMarket(ins, 20, { groups: [['BTC-USD', 'DOGE']] }))).toBe('ERR_SIM_CONFIG');
    expect(errCode(() => simCointegratedMarket(ins, 20, { betas: { NOPE: 1 } }))).toBe('ERR_SIM_CONFIG');
    expect(errCode(() => simCointegratedMarket(ins, 20, { halfLifeSec: 0 }))).toBe('ERR_SIM_CONFIG');
    expect(errCode(() => simCointegratedMarket(ins, 20, { groups: [[0, 9]] }))).toBe('ERR_SIM_CONFIG');
  });
});

describe('tradsys gen --market cointegrated', () => {
  /** Replays a stream; returns the last trade price per symbol after every `every` commands. */
  function tradePaths(recs: Uint8Array, symbols: number, every: number): Float64Array[] {
    const n = recs.length / 32;
    const e = new Engine({ symbols, capacity: 1 << 20 });
    const last = new Float64Array(symbols);
    const out = Array.from({ length: symbols }, () => new Float64Array(Math.floor(n / every)));
    for (let k = 0; k < out[0]!.length; k++) {
      e.submitRaw(recs, k * every * 32, every, (v, _b, m) => {
        for (let j = 0; j < m; j++) { const p = j * EVT_SIZE; if (evtType(v, p) === 84) last[evtSymbol(v, p)] = evtPrice(v, p); }
      });
      for (let s = 0; s < symbols; s++) out[s]![k] = last[s]!;
    }
    return out;
  }

  it('trades of paired symbols are cointegrated, of unpaired ones not; the spread half-life is near the parameter', () => {
    const every = 100;
    const recs = generate({ seed: 3, count: 200_000, symbols: 4, mix: 'default', badRate: 0, market: 'cointegrated' });
    const [a, b, c, d] = tradePaths(recs, 4, every);
    for (const x of [a!, b!, c!, d!]) expect(x[20]! > 0).toBe(true); // every symbol trades from the start
    expect(coint(a!, b!).pvalue).toBeLessThan(0.01);
    expect(coint(c!, d!).pvalue).toBeLessThan(0.01);
    expect(coint(a!, c!).pvalue).toBeGreaterThan(0.05);
    expect(coint(b!, d!).pvalue).toBeGreaterThan(0.05);
    // symbols 0 and 1 start at 10,000 and 10,100 ticks with betas 1: hedge ratio 10,000/10,100
    const k = 10_000 / 10_100;
    const s = new Float64Array(a!.length - 20);
    for (let t = 20; t < a!.length; t++) s[t - 20] = a![t]! - k * b![t]!;
    // trade prices scatter around the mids (the order flow's offsets): white noise on the spread that
    // makes the estimate shorter than the model's 2,000 commands = 20 samples
    const hl = halfLife(s);
    expect(hl).toBeGreaterThan((GEN_COINTEGRATION.halfLifeSteps / every) * 0.5);
    expect(hl).toBeLessThan((GEN_COINTEGRATION.halfLifeSteps / every) * 1.25);
  });

  it('is deterministic, leaves the walk market unchanged, and refuses the flash mixes', () => {
    const a = generate({ seed: 5, count: 5_000, symbols: 4, market: 'cointegrated' });
    const b = generate({ seed: 5, count: 5_000, symbols: 4, market: 'cointegrated' });
    const w = generate({ seed: 5, count: 5_000, symbols: 4 });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Buffer.from(a).equals(Buffer.from(w))).toBe(false);
    expect(Buffer.from(generate({ seed: 5, count: 5_000, symbols: 4, market: 'walk' })).equals(Buffer.from(w))).toBe(true);
    expect(() => generate({ count: 10, mix: 'flash-normal', market: 'cointegrated' })).toThrow(/own price path/);
    expect(() => generate({ count: 10, market: 'nope' as never })).toThrow(/unknown market/);
  });
});
