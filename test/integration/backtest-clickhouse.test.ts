/**
 * Backtests over ClickHouse history (`--from T --to T`): stored quotes and trades become an order
 * stream (a synthetic liquidity account's top of book, replaced at each quote; each trade an IOC
 * of its aggressor), checked command by command, then run end to end through the CLI against the
 * embedded chDB store of a data folder.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CMD_SIZE } from '../../src/abi/records.js';
import { decodeCommand } from '../../src/engine/engine.js';
import { openStorage } from '../../src/storage/open.js';
import { LIQUIDITY_ACCOUNT, TAKER_ACCOUNT, clickHouseHistory } from '../../src/strategies/backtest/history.js';
import { CLI } from '../support/cli.js';

const data = mkdtempSync(join(tmpdir(), 'bt-ch-'));
afterAll(() => rmSync(data, { recursive: true, force: true }));
const T0 = BigInt(Date.UTC(2025, 3, 1, 9)) * 1_000_000n;
const ns = (ms: number): string => (T0 + BigInt(ms) * 1_000_000n).toString();

describe('ClickHouse history', () => {
  it('turns quotes and trades of [from, to) into commands, and backtests them through the CLI', async () => {
    const env = { ...process.env };
    delete env.CLICKHOUSE_URL; // the embedded store of this data folder
    const st = await openStorage(data, env);
    try {
      await st.insert('quotes', [
        { symbol: 'ETH-USD', ts: ns(0), seq: '1', bid_price: '60000', bid_qty: '5000', ask_price: '60002', ask_qty: '4000' },
        { symbol: 'ETH-USD', ts: ns(500), seq: '3', bid_price: '60001', bid_qty: '2000', ask_price: '60002', ask_qty: '3000' },
        { symbol: 'BTC-USD', ts: ns(100), seq: '2', bid_price: '120000', bid_qty: '10', ask_price: '120002', ask_qty: '10' },
        { symbol: 'ETH-USD', ts: ns(99_000), seq: '9', bid_price: '1', bid_qty: '1', ask_price: '2', ask_qty: '1' }, // after --to
      ]);
      await st.insert('trades', [
        { symbol: 'ETH-USD', ts: ns(400), trade_id: '1', seq: '2', price: '60002', qty: '1000', taker_side: 'buy', taker_order_id: '5', maker_order_id: '4', taker_account: '9', maker_account: '8' },
      ]);
      const h = await clickHouseHistory(st, ['BTC-USD', 'ETH-USD'], T0, T0 + 60_000_000_000n);
      const n = h.total!;
      const b = new Uint8Array(n * CMD_SIZE);
      const ts = new Float64Array(n);
      expect(h.next(b, ts, n)).toBe(n);
      const cmds = Array.from({ length: n }, (_, i) => decodeCommand(new DataView(b.buffer), i * CMD_SIZE));
      const L = LIQUIDITY_ACCOUNT;
      expect(cmds.map((c) => [c.op, c.symbol, c.side, c.tif, Number(c.id), Number(c.price), c.qty, c.account])).toEqual([
        [1, 1, 0, 0, 1, 60000, 5000, L], [1, 1, 1, 0, 2, 60002, 4000, L], // ETH quote at 0 ms
        [1, 0, 0, 0, 3, 120000, 10, L], [1, 0, 1, 0, 4, 120002, 10, L], // BTC quote at 100 ms
        [1, 1, 0, 1, 5, 60002, 1000, TAKER_ACCOUNT], // the ETH trade at 400 ms: an IOC buy
        [2, 1, 0, 0, 1, 0, 0, L], [2, 1, 1, 0, 2, 0, 0, L], [1, 1, 0, 0, 6, 60001, 2000, L], [1, 1, 1, 0, 7, 60002, 3000, L], // the quote at 500 ms replaces both sides
      ]);
      expect(Array.from(ts)).toEqual([0, 0, 100, 100, 400, 500, 500, 500, 500].map((ms) => Number(T0) + ms * 1e6));
    } finally {
      await st.close();
    }
    // the CLI over the same store: a market-order strategy is not needed; the timer test strategy buys 1 lot of ETH a second
    const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, 'backtest', '--strategy', 'bt-timer', '--module', join(import.meta.dirname, '../support/backtest-strategies.ts'),
      '--from', new Date(Number(T0 / 1_000_000n)).toISOString(), '--to', new Date(Number(T0 / 1_000_000n) + 60_000).toISOString(), '--data', data,
      '--trade', 'ETH-USD', '--params', '{"everyMs":100,"qty":1,"price":60002}', '--json', '--quiet'], { encoding: 'utf8', env, timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rep = JSON.parse(r.stdout) as { run: { input: string; historical: number }; summary: { trades: number; positions: Record<string, number> } };
    expect(rep.run.input).toMatch(/ClickHouse trades and quotes .*1 trades, 3 quotes → 9 commands/);
    expect(rep.run.historical).toBe(9);
    // bought at 100 ms intervals from the ask of 4000 lots (then 3000), before the history ended at 500 ms
    expect(rep.summary.trades).toBeGreaterThan(0);
    expect(rep.summary.positions['ETH-USD']).toBe(rep.summary.trades);
  }, 180_000);
});
