/**
 * Agreement with statsmodels 0.13 and pandas (fixtures made by
 * test/fixtures/statsmodels/make_fixtures.py with Debian's python3-statsmodels; CI needs no
 * Python): adfuller and coint statistic, p-value and critical values within 1e-6, used lag and
 * nobs exact, every autolag mode, random walks, stationary and trending series, cointegrated and
 * independent pairs, n = 100 … 2,500, and hard cases (constant series, 1e9 offsets, n = 1, 2, 5).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { adfuller, coint, ols, RollingStats, RollingPairStats, Ewma, type AdfOptions } from '../../src/stats/index.js';
import { ROOT } from '../../src/abi/gen.js';

type Num = number;
interface AdfCase { x: Num[]; maxlag: number | null; regression: 'c' | 'n' | 'ct' | 'ctt'; autolag: AdfOptions['autolag']; kind: string; expect: Record<string, unknown> }
interface CointCase { y0: Num[]; y1: Num[]; trend: 'c' | 'ct'; maxlag: number | null; autolag: 'aic' | 'bic' | 't-stat' | null; kind: string; expect: { stat: Num; pvalue: Num; critValues: Num[] } }

const F = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/statsmodels/fixtures.json'), 'utf8'), (_k, v: unknown) =>
  v === 'NaN' ? Number.NaN : v === 'Infinity' ? Number.POSITIVE_INFINITY : v === '-Infinity' ? Number.NEGATIVE_INFINITY : v) as {
  adfuller: AdfCase[]; coint: CointCase[]; ols: { x: Num[]; y: Num[]; expect: Record<string, Num | Num[]> }[];
  rolling: { x: Num[]; y: Num[]; window: number; expect: Record<string, Num[]> }[]; ewm: { x: Num[]; alpha: number; expect: { mean: Num[]; var: Num[] } }[];
  meta: Record<string, string>;
};

function close(a: number, b: number, tol: number, what: string): void {
  if (Number.isNaN(b)) { expect(a, what).toBeNaN(); return; }
  if (!Number.isFinite(b)) { expect(a, what).toBe(b); return; }
  expect(Math.abs(a - b), `${what}: ${a} vs ${b}`).toBeLessThanOrEqual(tol);
}
const nullable = (v: number | null): number => (v === null ? Number.NaN : v);

describe(`statsmodels ${F.meta.statsmodels} agreement`, () => {
  it(`adfuller: ${F.adfuller.length} cases`, () => {
    for (const c of F.adfuller) {
      const tag = `${c.kind} n=${c.x.length} ${c.regression} ${String(c.autolag)} maxlag=${String(c.maxlag)}`;
      const e = c.expect as { error?: string; stat: Num; pvalue: Num; usedlag: number; nobs: number; critValues: Record<string, Num>; icbest?: Num };
      if (e.error) {
        expect(() => adfuller(Float64Array.from(c.x), { maxlag: c.maxlag, regression: c.regression, autolag: c.autolag }), tag).toThrow(/sample size is too short|maxlag must be less/);
        continue;
      }
      const r = adfuller(Float64Array.from(c.x), { maxlag: c.maxlag, regression: c.regression, autolag: c.autolag });
      close(r.stat, e.stat, 1e-6, `${tag} stat`);
      close(r.pvalue, e.pvalue, 1e-6, `${tag} pvalue`);
      expect(r.usedlag, `${tag} usedlag`).toBe(e.usedlag);
      expect(r.nobs, `${tag} nobs`).toBe(e.nobs);
      for (const k of ['1%', '5%', '10%'] as const) close(r.critValues[k], e.critValues[k]!, 1e-6, `${tag} crit ${k}`);
      if (e.icbest !== undefined) close(r.icbest!, e.icbest, 1e-6 * Math.max(1, Math.abs(e.icbest)), `${tag} icbest`);
    }
  });

  it(`coint: ${F.coint.length} cases`, () => {
    for (const c of F.coint) {
      const tag = `${c.kind} n=${c.y0.length} ${c.trend} ${String(c.autolag)}`;
      const r = coint(Float64Array.from(c.y0), Float64Array.from(c.y1), { trend: c.trend, maxlag: c.maxlag, autolag: c.autolag });
      close(r.stat, c.expect.stat, 1e-6, `${tag} stat`);
      close(r.pvalue, c.expect.pvalue, 1e-6, `${tag} pvalue`);
      r.critValues.forEach((v, i) => close(v, c.expect.critValues[i]!, 1e-6, `${tag} crit ${i}`));
    }
  });

  it('ols: parameters, R², standard errors and residuals', () => {
    for (const c of F.ols) {
      const r = ols(Float64Array.from(c.y), Float64Array.from(c.x));
      const e = c.expect as { alpha: Num; beta: Num; rsquared: Num; stderrAlpha: Num; stderrBeta: Num; residuals: Num[] };
      const big = Math.abs(c.x[0]!) > 1e6; // a 1e9 level: inputs quantised to ~1e-7, so ~1e-6 relative
      const t = big ? 1e-5 : 1e-9;
      close(r.beta!, e.beta, t * Math.max(1, Math.abs(e.beta)), 'beta');
      close(r.alpha!, e.alpha, (big ? 1e-5 : 1e-9) * Math.max(1, Math.abs(e.alpha)), 'alpha');
      close(r.rsquared, e.rsquared, big ? 1e-6 : 1e-12, 'rsquared');
      close(r.stderrBeta, e.stderrBeta, t * Math.max(1, e.stderrBeta), 'stderrBeta');
      close(r.stderrAlpha, e.stderrAlpha, (big ? 1e-5 : 1e-9) * Math.max(1, e.stderrAlpha), 'stderrAlpha');
      if (!big) r.residuals.forEach((v, i) => close(v, e.residuals[i]!, 1e-9, `resid ${i}`));
    }
  });

  it('rolling mean, variance, covariance, correlation equal pandas (window includes the newest value)', () => {
    for (const c of F.rolling) {
      const r = new RollingStats(c.window);
      const p = new RollingPairStats(c.window);
      const scale = Math.max(1, Math.abs(c.x[0]!));
      c.x.forEach((x, i) => {
        r.push(x); p.push(x, c.y[i]!);
        close(r.mean, c.expect.meanX![i]!, 1e-12 * scale + 1e-12, `meanX ${i}`);
        const v1 = c.expect.varX1![i]!;
        close(nullable(r.variance(1)), v1, 1e-8 * Math.max(1e-6, Math.abs(v1)), `varX1 ${i}`);
        close(nullable(r.variance(0)), c.expect.varX0![i]!, 1e-8 * Math.max(1e-6, Math.abs(c.expect.varX0![i]!)), `varX0 ${i}`);
        const cv = c.expect.cov1![i]!;
        close(nullable(p.covariance(1)), cv, 1e-8 * Math.max(1e-6, Math.abs(cv)), `cov ${i}`);
        const cr = c.expect.corr![i]!;
        if (!Number.isNaN(cr)) close(nullable(p.correlation), cr, 1e-7, `corr ${i}`);
      });
    }
  });

  it('Ewma equals pandas ewm(alpha, adjust=False) mean and var(bias=True)', () => {
    for (const c of F.ewm) {
      const e = new Ewma({ alpha: c.alpha });
      c.x.forEach((x, i) => {
        e.push(x);
        close(e.mean, c.expect.mean[i]!, 1e-10, `mean ${i}`);
        close(e.variance, c.expect.var[i]!, 1e-9 * Math.max(1, c.expect.var[i]!), `var ${i}`);
      });
    }
  });
});
