/**
 * `tradsys/strategies`: what a strategy author imports (docs/strategies.md "Runtime"): the
 * Strategy base class and its context and view types, the registry of built-in kinds, and the
 * runner (for tests and backtests of one's own strategies on an in-process engine).
 */
export {
  Strategy, type StrategyContext, type StrategyDefinition, type StrategyConfig, type ParamsSchema, type BookView, type TradeView, type BarView,
  type OrderView, type FillView, type PositionView, type NewOrder, type Refusal, type PairsRequest, type Side, type OrderType,
  type TimeInForce, type OrderState, type Logger,
} from './api.js';
export { BUILTIN_STRATEGIES, strategyRegistry, strategyKind } from './registry.js';
export { StrategyRunner, type RunnerOptions, type CommandSink, type StrategyStatus, type StrategyState, type SignalRow } from './runner.js';
