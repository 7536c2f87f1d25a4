/**
 * `tradsys backfill` through the built CLI: a journal written by the engine path is re-exported
 * into the embedded ClickHouse — every event once — and a second run adds nothing.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '../../src/workload/generator.js';
import { writeJournal } from '../support/journal-fixture.js';
import { CLI } from '../support/cli.js';

describe('tradsys backfill', () => {
  it('re-exports the journal into ClickHouse exactly once', () => {
    const data = mkdtempSync(join(tmpdir(), 'bf-'));
    const recs = generate({ seed: 8, count: 3000, symbols: 6, mix: 'aggressive', badRate: 0.01 });
    const w = writeJournal(join(data, 'journal'), recs, { symbols: 6, batch: 100 });
    let events = 0;
    let trades = 0;
    // the embedded store of this data directory, even where CI exports CLICKHOUSE_URL for the server tests
    const env = { ...process.env };
    delete env.CLICKHOUSE_URL;
    const run = (args: string[]): string => execFileSync(process.execPath, [CLI, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env });
    const first = run(['backfill', '--data', data, '--quiet']);
    expect(first).toMatch(/backfilled 3,000 journal records \(seq 1\.\.3000\)/);
    const count = (sql: string): number => Number(/(\d+)\s*\n\(1 row\)/.exec(run(['sql', '--data', data, sql]))![1]);
    events = count('SELECT count() FROM order_events');
    trades = count('SELECT count() FROM trades');
    expect(events).toBeGreaterThan(3000);
    expect(trades).toBeGreaterThan(0);
    expect(count('SELECT uniqExact(trade_id) FROM trades')).toBe(trades);
    expect(run(['backfill', '--data', data, '--quiet'])).toMatch(/backfilled 0 journal records/);
    expect(count('SELECT count() FROM order_events')).toBe(events);
    expect(count("SELECT count() FROM order_events WHERE type = 'T'")).toBe(trades);
  }, 120_000);
});
