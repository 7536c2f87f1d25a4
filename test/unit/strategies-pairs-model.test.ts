/**
 * The pairs model (src/strategies/stat-arb/model.ts) on seeded series: the entry / exit / stop
 * state machine, going flat on a planted structural break and on losing the formation, and a
 * paper-traded P&L on cointegrated pairs (both hedges, re-tested every 500 samples) that is positive net of a tick of cost per
 * leg and trade.
 */
import { describe, expect, it } from 'vitest';
import { DECISION, DECISION_NAMES, PairsModel, type Formation, type PairsModelOptions } from '../../src/strategies/stat-arb/model.js';
import { screenPairs } from '../../src/strategies/stat-arb/screen.js';
import { TradsysError } from '../../src/domain/errors.js';
import { cointegratedPair, normals } from '../support/cointegrated.js';

const OPTS: PairsModelOptions = { window: 100, hedge: 'ols', entryZ: 2, exitZ: 0.5, stopZ: 4, kalmanDelta: 1e-4, cusumK: 0.5, cusumH: 8 };

/** The formation of series [x, y] from screening (y regressed on x). */
function formationOf(x: Float64Array, y: Float64Array): Formation {
  const r = screenPairs([y, x], { maxHalfLife: 1e9, minHalfLife: 0 })[0]!;
  expect(r.ar1).not.toBeNull();
  return { alpha: r.alpha, beta: r.beta, residualVar: r.residualVar, xMean: r.xMean, ar1: r.ar1!, halfLife: r.halfLife, pValue: r.pValue, qValue: r.qValue };
}

describe('pairs model', () => {
  it('enters beyond ±entryZ, exits inside ±exitZ, stops beyond ±stopZ and re-arms only inside ±entryZ', () => {
    const z = normals(41);
    const m = new PairsModel({ ...OPTS, cusumH: 1e6 }); // (the break watch is tested below)
    const base = cointegratedPair(42, 400, { phi: 0.5, spreadSigma: 2 });
    m.setFormation(formationOf(base.x.subarray(0, 300), base.y.subarray(0, 300)));
    const seen: string[] = [];
    const step = (x: number, y: number): void => { const d = m.update(x, y); if (d !== DECISION.hold) seen.push(DECISION_NAMES[d]); };
    for (let i = 0; i < 300; i++) step(base.x[i]!, base.y[i]!);
    expect(seen.filter((s) => s === 'break')).toEqual([]);
    seen.length = 0;
    for (let i = 0; i < 50 && m.target as number !== 0; i++) step(base.x[299]!, 200 + 1.5 * base.x[299]! + 0.1 * z());
    seen.length = 0;
    const x = base.x[299]!;
    const fair = 200 + 1.5 * x;
    // a spike of +8 ticks (spread σ ≈ 2.3): short the spread, then revert to fair: exit
    step(x, fair + 8);
    expect(seen).toEqual(['enter_short']);
    expect(m.target).toBe(-1);
    expect(m.z).toBeGreaterThan(2);
    step(x, fair);
    expect(seen).toEqual(['enter_short', 'exit']);
    expect(m.target).toBe(0);
    // down spike: long; then it keeps going: stop; no re-entry while |z| stays beyond entryZ
    seen.length = 0;
    step(x, fair - 7);
    expect(seen).toEqual(['enter_long']);
    step(x, fair - 60);
    expect(seen).toEqual(['enter_long', 'stop']);
    expect(m.armed).toBe(false);
    step(x, fair - 60);
    step(x, fair - 61);
    expect(seen).toEqual(['enter_long', 'stop']);
    expect(m.target).toBe(0);
    for (let i = 0; i < 200 && !m.armed; i++) step(x, fair + 0.3 * z());
    expect(m.armed).toBe(true);
  });

  it('goes flat on a planted break of the formation spread and stays out until the next formation', () => {
    const p = cointegratedPair(43, 2000, { phi: 0.8, spreadSigma: 3 });
    const m = new PairsModel({ ...OPTS });
    m.setFormation(formationOf(p.x.subarray(0, 500), p.y.subarray(0, 500)));
    for (let i = 0; i < 500; i++) m.update(p.x[i]!, p.y[i]!);
    expect(m.broken).toBe(false);
    // force a position, then shift y by 40 ticks (≈ 8 stationary σ) for good
    let i = 500;
    while (m.target === 0 && i < 1500) { m.update(p.x[i]!, p.y[i]!); i++; }
    expect(m.target).not.toBe(0);
    const ds: number[] = [];
    for (let j = i; j < i + 40; j++) ds.push(m.update(p.x[j]!, p.y[j]! + 40));
    expect(ds).toContain(DECISION.break);
    expect(ds.indexOf(DECISION.break)).toBeLessThan(5);
    expect(m.target).toBe(0);
    expect(m.eligible).toBe(false);
    // huge |z| later: no entries while broken
    for (let j = i + 40; j < i + 200; j++) expect([DECISION.hold]).toContain(m.update(p.x[j]!, p.y[j]! + 40 + (j % 2 === 0 ? 30 : -30)));
    // a new formation re-enables it
    m.setFormation(formationOf(p.x.subarray(0, 500), p.y.subarray(0, 500)));
    expect(m.eligible).toBe(true);
  });

  it('drops to flat when the pair loses its formation, and holds without one', () => {
    const p = cointegratedPair(44, 1500, { phi: 0.8 });
    const m = new PairsModel({ ...OPTS });
    for (let i = 0; i < 300; i++) expect(m.update(p.x[i]!, p.y[i]!)).toBe(DECISION.hold); // no formation yet
    m.setFormation(formationOf(p.x.subarray(0, 300), p.y.subarray(0, 300)));
    let i = 300;
    while (m.target === 0 && i < 1500) { m.update(p.x[i]!, p.y[i]!); i++; }
    expect(m.target).not.toBe(0);
    m.setFormation(null);
    expect(m.update(p.x[i]!, p.y[i]!)).toBe(DECISION.drop);
    expect(m.target).toBe(0);
  });

  for (const hedge of ['ols', 'kalman'] as const) {
    it(`${hedge} hedge: paper-trading seeded cointegrated pairs earns more than its costs`, () => {
      let totalBreaks = 0;
      for (const seed of [51, 52, 53, 54, 55]) {
        const n = 6000; const form = 500;
        const p = cointegratedPair(seed, n, { phi: 0.9, spreadSigma: 4, beta: 1.5 }, true);
        const m = new PairsModel({ ...OPTS, hedge });
        const f = formationOf(p.x.subarray(0, form), p.y.subarray(0, form));
        m.setFormation(f, p.x.subarray(0, form), p.y.subarray(0, form));
        for (let i = 0; i < form; i++) if (hedge === 'ols') m.update(p.x[i]!, p.y[i]!);
        // hold `target` spreads of 10 y-lots and round(10·β) x-lots; one tick of cost per lot traded
        let cash = 0; let qy = 0; let qx = 0; let cost = 0; let trades = 0;
        let breaks = 0;
        for (let i = form; i < n; i++) {
          // re-tested every 500 samples on the last 500, as the strategy's schedule does
          if (i % 500 === 0) m.setFormation(formationOf(p.x.subarray(i - form, i), p.y.subarray(i - form, i)));
          if (m.update(p.x[i]!, p.y[i]!) === DECISION.break) breaks++;
          const ty = 10 * m.target; const tx = -Math.round(10 * m.beta) * m.target;
          if (ty !== qy) {
            const dy = ty - qy; const dx = tx - qx;
            cash -= dy * p.y[i]! + dx * p.x[i]!;
            cost += Math.abs(dy) + Math.abs(dx);
            qy = ty; qx = tx; trades++;
          }
        }
        const pnl = cash + qy * p.y[n - 1]! + qx * p.x[n - 1]! - cost;
        expect(trades, `seed ${seed}`).toBeGreaterThan(20);
        totalBreaks += breaks;
        expect(pnl, `seed ${seed}`).toBeGreaterThan(0);
      }
      // false breaks on a pair that stays cointegrated: fewer than one per 1,000 samples (13 in 27,500
      // measured; the formation β̂ of a 500-sample window is loose, so the watched spread drifts a little)
      expect(totalBreaks).toBeLessThan(27);
    });
  }

  it('refuses inconsistent thresholds and windows', () => {
    const code = (f: () => unknown): string => { try { f(); } catch (e) { return (e as TradsysError).code; } return 'none'; };
    expect(code(() => new PairsModel({ ...OPTS, stopZ: 1.5 }))).toBe('ERR_STRATEGY_INPUT');
    expect(code(() => new PairsModel({ ...OPTS, exitZ: 2 }))).toBe('ERR_STRATEGY_INPUT');
    expect(code(() => new PairsModel({ ...OPTS, window: 5 }))).toBe('ERR_STRATEGY_INPUT');
    expect(code(() => new PairsModel({ ...OPTS, hedge: 'lasso' as 'ols' }))).toBe('ERR_STRATEGY_INPUT');
  });
});
