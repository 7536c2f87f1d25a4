/**
 * The strategy kinds the server knows: `kind` name → StrategyDefinition (src/strategies/api.ts).
 *
 * Owns: `BUILTIN_STRATEGIES`, the one list of built-in definitions (the pairs stat-arb and the
 * market maker are added here), and the lookup used by the worker pool and the backtest.
 * Invariants: kinds are unique (checked at lookup build). Complexity: O(1) lookup.
 * Allocation: the map once per registry. Known limitations: no plugin loading from files; a
 * custom kind is added by passing more definitions to `strategyRegistry`.
 */
import { TradsysError } from '../domain/errors.js';
import type { StrategyDefinition } from './api.js';

/** Every built-in strategy kind. */
export const BUILTIN_STRATEGIES: readonly StrategyDefinition[] = [];

/** kind → definition over the built-ins and `extra` (an extra kind may not shadow a built-in). */
export function strategyRegistry(extra: readonly StrategyDefinition[] = []): Map<string, StrategyDefinition> {
  const m = new Map<string, StrategyDefinition>();
  for (const d of [...BUILTIN_STRATEGIES, ...extra]) {
    if (m.has(d.kind)) throw new TradsysError('ERR_STRATEGY_CONFIG', `strategy kind ${d.kind} is defined twice`);
    m.set(d.kind, d);
  }
  return m;
}

/** The definition of `kind`, or ERR_STRATEGY_CONFIG naming the kinds there are. */
export function strategyKind(registry: ReadonlyMap<string, StrategyDefinition>, kind: string): StrategyDefinition {
  const d = registry.get(kind);
  if (!d) throw new TradsysError('ERR_STRATEGY_CONFIG', `unknown strategy kind ${JSON.stringify(kind)} (known: ${[...registry.keys()].join(', ') || 'none'})`);
  return d;
}
