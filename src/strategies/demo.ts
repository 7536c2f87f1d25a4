/**
 * The demo strategies: what `npm start` (`tradsys serve` with the market simulator and no
 * `--strategies FILE`) runs, so a newcomer sees strategies trade on the simulated market.
 *
 * Owns: `DEMO_STRATEGIES` (the configurations, in one place) and `demoStrategies()` (those whose
 * kind the server knows: only kinds in BUILTIN_STRATEGIES start, so a build without one of them
 * runs the others and says which were left out).
 * Layout: a pairs strategy on AAPL/MSFT (account 900001: two instruments with the same tick and
 * lot, which the pairs sizing assumes without a `tickValue`; sampled faster than the kind's defaults
 * so it trades within a minute) and an Avellaneda–Stoikov market maker on SOL-USD (account 900002);
 * other parameters and circuit-breaker limits are the kinds' defaults (docs/strategies.md), the hook
 * budget 2 ms (below).
 * Invariants: the accounts lie outside the simulator's (1,000,000 and up) and the test suites'
 * (below 100,000), one per strategy; the symbols are built-in instruments (DEMO_INSTRUMENTS).
 * Complexity/Allocation: constants. Known limitations: with `--instruments FILE` the demo runs
 * only if the file lists these symbols (otherwise the server says so and runs none).
 */
import type { StrategyConfig } from './api.js';
import { BUILTIN_STRATEGIES } from './registry.js';

/**
 * A 2 ms hook budget instead of the default 0.5 ms: the demo runs on laptops and shared machines,
 * where a descheduled worker thread can make three hooks in a row overrun and pause a strategy
 * (measured on a loaded 2-core VM: the market maker's p99 hook time 0.1 ms, with 3 overruns of
 * 0.5 ms in 45 s).
 */
const DEMO_BUDGET_US = 2000;

export const DEMO_STRATEGIES: readonly StrategyConfig[] = [
  // sampled every 100 ms with a 30 s formation window, so a newcomer sees the pair screened and traded within a minute
  // (the kind's defaults, 250 ms × 480 samples, take two minutes before the first test)
  { id: 'demo-pairs', kind: 'pairs', account: 900_001, symbols: ['AAPL', 'MSFT'], priority: 1, budgetUs: DEMO_BUDGET_US, params: { sampleMs: 100, screenWindow: 300, window: 100, retestEvery: 150 } },
  { id: 'demo-mm', kind: 'market-maker', account: 900_002, symbols: ['SOL-USD'], priority: 0, budgetUs: DEMO_BUDGET_US },
];

/**
 * The demo configurations this build can run: kinds in BUILTIN_STRATEGIES and symbols among
 * `symbols`; `skipped` says why the others are left out.
 */
export function demoStrategies(symbols: readonly string[], kinds: readonly string[] = BUILTIN_STRATEGIES.map((d) => d.kind)): { run: StrategyConfig[]; skipped: string[] } {
  const run: StrategyConfig[] = [];
  const skipped: string[] = [];
  for (const c of DEMO_STRATEGIES) {
    const missing = c.symbols.filter((s) => !symbols.includes(s));
    if (!kinds.includes(c.kind)) skipped.push(`${c.id} (kind ${c.kind} is not in this build)`);
    else if (missing.length > 0) skipped.push(`${c.id} (no instrument ${missing.join(', ')})`);
    else run.push(structuredClone(c));
  }
  return { run, skipped };
}
