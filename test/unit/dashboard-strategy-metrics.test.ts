/**
 * The Strategies panel's key-less view (src/dashboard/strategy-metrics.ts): the strategy service's
 * `tradsys_strategy_*` Prometheus text folded back into one summary per strategy — current state
 * and breaker state (the label whose sample is 1), positions by symbol, P&L, counters, decision
 * quantiles — with escaped label values and other families ignored.
 */
import { describe, expect, it } from 'vitest';
import { parseProm, strategiesFromMetrics } from '../../src/dashboard/strategy-metrics.js';

const TEXT = [
  '# HELP tradsys_strategy_workers Strategy worker threads.', '# TYPE tradsys_strategy_workers gauge', 'tradsys_strategy_workers 1',
  '# TYPE tradsys_strategy_state gauge',
  'tradsys_strategy_state{strategy="mm-1",kind="market-maker",state="running"} 1',
  'tradsys_strategy_state{strategy="mm-1",kind="market-maker",state="stopped"} 0',
  'tradsys_strategy_state{strategy="odd\\"id\\\\x",kind="pairs",state="running"} 0',
  'tradsys_strategy_state{strategy="odd\\"id\\\\x",kind="pairs",state="tripped"} 1',
  'tradsys_strategy_orders_total{strategy="mm-1",kind="market-maker"} 12',
  'tradsys_strategy_fills_total{strategy="mm-1",kind="market-maker"} 5',
  'tradsys_strategy_rejects_total{strategy="mm-1",kind="market-maker"} 1',
  'tradsys_strategy_position_lots{strategy="mm-1",kind="market-maker",symbol="SOL-USD"} -3',
  'tradsys_strategy_position_lots{strategy="odd\\"id\\\\x",kind="pairs",symbol="AAPL"} 5',
  'tradsys_strategy_realised_pnl_ticks{strategy="mm-1",kind="market-maker"} -120.5',
  'tradsys_strategy_unrealised_pnl_ticks{strategy="mm-1",kind="market-maker"} 40',
  'tradsys_strategy_breaker_state{strategy="mm-1",kind="market-maker",state="closed"} 1',
  'tradsys_strategy_breaker_state{strategy="mm-1",kind="market-maker",state="open"} 0',
  'tradsys_strategy_breaker_state{strategy="odd\\"id\\\\x",kind="pairs",state="open"} 1',
  'tradsys_strategy_breaker_trips_total{strategy="odd\\"id\\\\x",kind="pairs"} 2',
  'tradsys_strategy_decision_latency_us{strategy="mm-1",kind="market-maker",quantile="0.5"} 3.25',
  'tradsys_strategy_decision_latency_us{strategy="mm-1",kind="market-maker",quantile="0.99"} 88',
  'tradsys_strategy_events_per_second{strategy="mm-1",kind="market-maker"} 20',
  'tradsys_strategy_trips_total{strategy="odd\\"id\\\\x",kind="pairs",reason="max_loss"} 2',
  'tradsys_heap_used_bytes 12345',
  '',
].join('\n');

describe('strategies from /metrics (the dashboard without a key)', () => {
  it('parses samples with escaped labels', () => {
    const s = parseProm(TEXT, 'tradsys_strategy_workers');
    expect(s).toEqual([{ name: 'tradsys_strategy_workers', labels: {}, value: 1 }]);
    const odd = parseProm(TEXT, 'tradsys_strategy_trips_total');
    expect(odd).toEqual([{ name: 'tradsys_strategy_trips_total', labels: { strategy: 'odd"id\\x', kind: 'pairs', reason: 'max_loss' }, value: 2 }]);
  });

  it('folds the series into one summary per strategy', () => {
    const list = strategiesFromMetrics(TEXT);
    expect(list.map((x) => x.id)).toEqual(['mm-1', 'odd"id\\x']);
    expect(list[0]).toEqual({
      id: 'mm-1', kind: 'market-maker', state: 'running', position: { 'SOL-USD': -3 }, realisedPnl: -120.5, unrealisedPnl: 40,
      breaker: { state: 'closed', trips: 0 }, orders: 12, fills: 5, rejects: 1, decisionUs: { p50: 3.25, p99: 88 }, eventsPerSec: 20, overruns: 0, errors: 0,
    });
    expect(list[1]).toMatchObject({ kind: 'pairs', state: 'tripped', position: { AAPL: 5 }, breaker: { state: 'open', trips: 2 } });
    expect(strategiesFromMetrics('tradsys_heap_used_bytes 1\n')).toEqual([]);
  });
});
