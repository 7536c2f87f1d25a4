/**
 * Command-line flags of the cointegrated market, for `tradsys gen` (`--market`, `--groups`,
 * `--factor-vol-bp`, `--half-life`, `--spread-sd-bp`, `--betas`; one step per generated command)
 * and `tradsys serve` (`--sim-market`, `--sim-groups`, `--sim-factor-vol-bp`, `--sim-half-life-s`,
 * `--sim-spread-sd-bp`, `--sim-betas`; per second of simulator time). docs/strategies.md "Simulated market".
 *
 * Layout: flag names → the `cointegration` options of src/workload/generator.ts (GenOptions) and
 * src/sim/simulator.ts (SimOptions); groups are written "a,b;c,d".
 * Invariants: every malformed value is a TradsysError ERR_CLI_USAGE naming the flag; values that
 * parse but do not fit the market (an unknown symbol, an index twice) are ERR_SIM_CONFIG from the
 * market itself. Complexity: O(length of the flags). Allocation: CLI only. Known limitations: none.
 */
import { TradsysError } from '../domain/errors.js';
import type { CointegrationSpec } from '../workload/cointegrated.js';
import type { SimCointegration } from '../sim/simulator.js';

type Get = (name: string) => string | undefined;

function usage(msg: string): never {
  throw new TradsysError('ERR_CLI_USAGE', msg);
}

function num(get: Get, flag: string, positive: boolean): number | undefined {
  const v = get(flag);
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x < 0 || (positive && x === 0)) usage(`--${flag} must be a ${positive ? 'positive' : 'non-negative'} number, got "${v}"`);
  return x;
}

function market(get: Get, flag: string, dflt: 'walk' | 'cointegrated'): 'walk' | 'cointegrated' {
  const v = get(flag) ?? dflt;
  if (v !== 'walk' && v !== 'cointegrated') usage(`--${flag} must be walk or cointegrated, got "${v}"`);
  return v;
}

/** "0,1;2,3" → [[0, 1], [2, 3]] (names kept as strings unless `indices`). */
function groups(get: Get, flag: string, indices: boolean): (string | number)[][] | undefined {
  const v = get(flag);
  if (v === undefined) return undefined;
  if (v.trim() === '') return [];
  return v.split(';').map((g) => g.split(',').map((m) => {
    const t = m.trim();
    if (t === '') usage(`--${flag}: an empty member in "${v}" (groups are separated by ";", members by ",")`);
    if (/^\d+$/.test(t)) return Number(t);
    if (indices) usage(`--${flag}: "${t}" is not a symbol index (0, 1, …)`);
    return t;
  }));
}

/** `tradsys gen`'s market options. */
export function genMarketFlags(get: Get): { market: 'walk' | 'cointegrated'; cointegration: Partial<CointegrationSpec> } {
  const m = market(get, 'market', 'walk');
  const c: Partial<CointegrationSpec> = {};
  const g = groups(get, 'groups', true);
  if (g !== undefined) c.groups = g as number[][];
  const f = num(get, 'factor-vol-bp', false); if (f !== undefined) c.factorVolBp = f;
  const h = num(get, 'half-life', true); if (h !== undefined) c.halfLifeSteps = h;
  const s = num(get, 'spread-sd-bp', false); if (s !== undefined) c.spreadSdBp = s;
  const b = get('betas');
  if (b !== undefined) {
    c.betas = b.split(',').map((x) => {
      const y = Number(x.trim());
      if (x.trim() === '' || !Number.isFinite(y) || y <= 0) usage(`--betas must be positive numbers separated by ",", got "${b}"`);
      return y;
    });
  }
  if (m === 'walk' && Object.keys(c).length > 0) usage('--groups, --factor-vol-bp, --half-life, --spread-sd-bp and --betas need --market cointegrated');
  return { market: m, cointegration: c };
}

export const GEN_MARKET_FLAGS = { market: 'value', groups: 'value', 'factor-vol-bp': 'value', 'half-life': 'value', 'spread-sd-bp': 'value', betas: 'value' } as const;
export const SIM_MARKET_FLAGS = { 'sim-market': 'value', 'sim-groups': 'value', 'sim-factor-vol-bp': 'value', 'sim-half-life-s': 'value', 'sim-spread-sd-bp': 'value', 'sim-betas': 'value' } as const;

/** `tradsys serve`'s simulator market options (default: cointegrated). */
export function simMarketFlags(get: Get): { market: 'walk' | 'cointegrated'; cointegration: Partial<SimCointegration> } {
  const m = market(get, 'sim-market', 'cointegrated');
  const c: { -readonly [K in keyof SimCointegration]?: SimCointegration[K] } = {};
  const g = groups(get, 'sim-groups', false);
  if (g !== undefined) c.groups = g;
  const f = num(get, 'sim-factor-vol-bp', false); if (f !== undefined) c.factorVolBpPerSqrtSec = f;
  const h = num(get, 'sim-half-life-s', true); if (h !== undefined) c.halfLifeSec = h;
  const s = num(get, 'sim-spread-sd-bp', false); if (s !== undefined) c.spreadSdBp = s;
  const b = get('sim-betas');
  if (b !== undefined) {
    const betas: Record<string, number> = {};
    for (const part of b.split(',')) {
      const eq = part.lastIndexOf('=');
      const name = part.slice(0, eq).trim(), y = Number(part.slice(eq + 1).trim());
      if (eq <= 0 || name === '' || part.slice(eq + 1).trim() === '' || !Number.isFinite(y) || y <= 0) usage(`--sim-betas must be SYMBOL=BETA pairs (beta > 0) separated by ",", got "${b}"`);
      betas[name] = y;
    }
    c.betas = betas;
  }
  if (m === 'walk' && Object.keys(c).length > 0) usage('--sim-groups, --sim-factor-vol-bp, --sim-half-life-s, --sim-spread-sd-bp and --sim-betas need --sim-market cointegrated');
  return { market: m, cointegration: c };
}
