/**
 * `tradsys strategy list`'s table (src/cli/strategy.ts formatStrategies) and its server URL choice:
 * one row per strategy, numbers right-aligned, P&L to two decimals, non-flat positions, the
 * breaker with its trip and the kill switch a trip left on.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatStrategies, pnl, serverUrl } from '../../src/cli/strategy.js';
import type { StrategyView } from '../../src/strategies/service.js';

const base: StrategyView = {
  id: 'demo-mm', kind: 'market-maker', state: 'running', why: '', priority: 0, worker: 0, account: 900002, symbols: ['SOL-USD'], parameters: {},
  eventsPerSec: 32, decisionUs: { p50: 30, p99: 103.44 }, orders: 42, fills: 30, rejects: 0, position: { 'SOL-USD': -2 },
  realisedPnl: -6.555555555562023, unrealisedPnl: -5.444444444379769, breaker: { state: 'closed', trip: null, trips: 0 }, overruns: 0, errors: 0, details: {}, killSwitch: null,
};

describe('tradsys strategy list', () => {
  it('prints one aligned row per strategy', () => {
    const tripped: StrategyView = {
      ...base, id: 'p', kind: 'pairs', state: 'tripped', account: 900001, priority: 1, eventsPerSec: 79.25, position: { AAPL: 0, MSFT: 0 }, realisedPnl: 1250, unrealisedPnl: 0,
      breaker: { state: 'open', trip: { reason: 'max_loss', detail: 'x', at: 1 }, trips: 2 }, killSwitch: { strategy: 'p', reason: 'max_loss', detail: 'x', at: 1, seq: 77 },
    };
    expect(formatStrategies([base, tripped]).split('\n')).toEqual([
      'ID       KIND          STATE    ACCOUNT  WORKER  PRIO  EV/S  P50µs  P99µs  ORDERS  FILLS  POSITION    REALISED  UNREALISED  BREAKER',
      'demo-mm  market-maker  running   900002       0     0    32     30  103.4      42     30  SOL-USD:-2     -6.56       -5.44  closed',
      'p        pairs         tripped   900001       0     1  79.3     30  103.4      42     30  flat            1250           0  open (max_loss) trips 2 · account killed (max_loss)',
      '(2 strategies; P&L in ticks × lots)',
      '',
    ]);
    expect(formatStrategies([])).toBe('ID  KIND  STATE  ACCOUNT  WORKER  PRIO  EV/S  P50µs  P99µs  ORDERS  FILLS  POSITION  REALISED  UNREALISED  BREAKER\n(0 strategies; P&L in ticks × lots)\n');
    expect([pnl(0), pnl(-3), pnl(0.125), pnl(-6.555555)]).toEqual(['0', '-3', '0.13', '-6.56']);
  });

  it('finds the server: --url, else the one holding --data, else the default port', () => {
    expect(serverUrl('http://10.0.0.1:9000/', undefined)).toBe('http://10.0.0.1:9000');
    expect(() => serverUrl('10.0.0.1:9000', undefined)).toThrow(/--url must look like http:\/\/127\.0\.0\.1:8080/);
    const empty = mkdtempSync(join(tmpdir(), 'strat-url-'));
    expect(() => serverUrl(undefined, empty)).toThrow(`no running server holds ${empty}`);
  });
});
