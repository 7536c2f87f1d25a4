/**
 * The demo strategies: what `npm start` (`tradsys serve` with the market simulator and no
 * `--strategies FILE`) runs, so a newcomer sees strategies trade on the simulated market.
 *
 * Owns: `DEMO_STRATEGIES` (the configurations, in one place) and `demoStrategies()` (those whose
 * kind the server knows: only kinds in BUILTIN_STRATEGIES start, so a build without one of them
 * runs the others and says which were left out).
 * Layout: a pairs strategy on AAPL/MSFT (account 900001: two instruments with the same tick and
 * lot, which the pairs sizing assumes without a `tickValue`; its sampling and windows fitted to the
 * simulated market so it screens within a minute: DEMO_PAIRS) and an Avellaneda–Stoikov market
 * maker on SOL-USD (account 900002; γ, κ and σ fitted to SOL's tick: DEMO_MM); other parameters
 * and circuit-breaker limits are the kinds' defaults (docs/strategies.md), the hook budget 2 ms
 * (below).
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

/**
 * The pairs strategy, fitted to the simulated market (src/sim/simulator.ts, docs/strategies.md
 * "Simulated market": spreads with a 2 s half-life): mids every 250 ms (at 100 ms the book's
 * bid-ask noise brings the correlation of mid changes down to ≈ 0.3, the kind's pre-filter
 * threshold; at 250 ms the strategy saw 0.26–0.5 in a served demo on a loaded 2-core machine, so
 * the pre-filter is 0.2 — it only decides which pairs are tested, the FDR family counts every
 * candidate and Engle–Granger decides), a 50 s
 * formation window (the Engle–Granger test's power grows with the half-lives in the window: 25
 * here, p < 0.05 in 24 of 30 seeds; a failed round is re-tested 20 s later), z-scores over 10 s, a re-test every 20 s. y = MSFT, x = AAPL:
 * the hedge is ≈ 2.4 AAPL per MSFT in ticks (1.1 × 41,000 / 19,000), so 2 lots of MSFT are hedged
 * with 5 of AAPL (with y = AAPL and 1 lot, round(0.42) = 0 lots of MSFT: every entry was refused).
 * The half-life band starts at 1 sample: the book's bid-ask noise on the mids shortens the AR(1)
 * estimate of the formation spread (2.5–2.9 samples seen against the market's 8), close to the
 * kind's lower bound of 2, where a round would fail on the band rather than on the test.
 */
const DEMO_PAIRS = { pairs: [['MSFT', 'AAPL']], sampleMs: 250, screenWindow: 200, window: 40, retestEvery: 80, minCorrelation: 0.2, minHalfLife: 1, qty: 2 };

/**
 * The market maker, fitted to SOL-USD (tick 0.001 at 150.000: 150,000 ticks) in the simulated
 * market, whose mid moves ≈ 150–180 ticks/√s. The model's units are the paper's with ticks for
 * dollars (σ² ticks²/s, τ s, γ per tick, κ per tick: docs/strategies.md "Market maker"); the kind's
 * defaults (γ 0.05, κ 1.5: the paper's example numbers) suit an instrument that moves about a tick
 * a second, and on SOL they gave γσ²τ = 0.05 × 150² × 10 ≈ 11,000 ticks. Here: γ = 2.5·10⁻⁵ per tick
 * (γσ²τ ≈ 6–8 ticks per lot of inventory), κ from the trades' distances to the mid (tens of ticks
 * apart: κ ≈ 0.03–0.1 per tick; 0.05 until 50 trades) and σ = 150 ticks/√s until the estimate has
 * 10 samples: a spread of a few tens of ticks, inside the simulated touch.
 */
const DEMO_MM = { gamma: 2.5e-5, kappa: 0.05, kappaFromTrades: true, initialSigma: 150 };

export const DEMO_STRATEGIES: readonly StrategyConfig[] = [
  { id: 'demo-pairs', kind: 'pairs', account: 900_001, symbols: ['AAPL', 'MSFT'], priority: 1, budgetUs: DEMO_BUDGET_US, params: DEMO_PAIRS },
  { id: 'demo-mm', kind: 'market-maker', account: 900_002, symbols: ['SOL-USD'], priority: 0, budgetUs: DEMO_BUDGET_US, params: DEMO_MM },
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
