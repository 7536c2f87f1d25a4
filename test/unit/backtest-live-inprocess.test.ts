/**
 * A backtest reproduces a live session exactly: the same strategy orders and fills (the same
 * hash) as the live run made.
 *
 * The live role is played in process (the live runtime, serve with strategies, is not on this
 * branch): the real StrategyRunner trades `bt-tape` on the events of the real engine while a real
 * JournalWriter journals every command, as the engine thread does. It behaves like a live
 * deployment, not like the backtest: the runner sees events in batches (it runs its hooks after
 * every third command, as a strategy worker does after each read of the event ring), and each
 * strategy command reaches the engine 0–4 historical commands after it was sent (the command
 * ring's delay), at its own tsInit, with a gateway stamp tsIn. Then `--journal DIR --latency
 * recorded` replays that journal: the history without the strategy's commands, and the strategy
 * re-run by the backtest with its i-th command injected where the live engine sequenced the live
 * i-th command.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CMD_SIZE, EVT_SIZE } from '../../src/abi/records.js';
import { decodeCommand } from '../../src/engine/engine.js';
import { loadInstruments } from '../../src/domain/instruments.js';
import { STRATEGY_ID_BASE_NUM } from '../../src/domain/ids.js';
import { generate } from '../../src/workload/generator.js';
import { StrategyRunner } from '../../src/strategies/runner.js';
import type { Command } from '../../src/domain/types.js';
import { liveTrades } from '../../src/strategies/backtest/backtest.js';
import { genericInstruments, runSpec, type RunSpec } from '../../src/strategies/backtest/spec.js';
import { tapeStrategy } from '../support/backtest-strategies.js';
import { JournalingEngine } from '../support/backtest-journal.js';

const dir = mkdtempSync(join(tmpdir(), 'bt-live-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ACCOUNT = 777_000;
const SPECS = genericInstruments(4);
const CONFIG = {
  id: 'tape-1', kind: 'bt-tape', account: ACCOUNT, symbols: ['S0'], params: { every: 4, qty: 3, offset: 1, layoff: 2 },
  limits: { maxOrdersPerSec: 100_000, maxMessagesPerSec: 100_000, maxRepeatedExecutions: 100_000, maxPosition: 1_000_000, maxOrderQty: 100_000, maxOrderValue: 1e12, maxLoss: 1e12, maxDrawdown: 1e12, maxDuplicateOrders: 100_000 },
};
const VELOCITY = { movePct: 50, windowMs: 1000, pauseMs: 1000 };
const T0 = Date.UTC(2025, 2, 3, 14) * 1e6;

/**
 * Plays the live session into `dir`; returns what it saw. `holdLast` > 0: the strategy's commands
 * sent during the last `holdLast` historical commands reach the engine only after the history's
 * end (in flight when it ended), before the stop's cancels.
 */
function live(dir: string, holdLast = 0): { strategyCommands: number; liveFills: number; afterHistory: number; stopCancels: number } {
  const instruments = loadInstruments(SPECS);
  const je = new JournalingEngine(dir, {
    symbols: 4, capacity: 100_000, risk: { maxAccounts: 65536, maxPositions: 262144, defaultMaxOpenOrders: 10_000 },
  }, (e) => e.applyRiskSetup({ symbols: instruments.map((i) => i.riskLimits()) }));
  const recs = generate({ count: 6000, symbols: 4, seed: 11, mix: 'default', badRate: 0 });
  const total = recs.length / CMD_SIZE;
  let clockNs = T0;
  let x = 99;
  const lcg = (): number => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x >>> 16; };
  const pending: { cmd: Command; readyAt: number }[] = [];
  let idNext = STRATEGY_ID_BASE_NUM + 5000;
  let hist = 0;
  let fills = 0;
  const runner = new StrategyRunner({
    instruments, now: () => clockNs / 1e6, nextOrderId: () => idNext++, measure: false, velocity: VELOCITY,
    sink: {
      send(op, side, type, tif, symbol, id, price, qty, account) {
        const d = lcg() % 5;
        pending.push({ cmd: { op, side, type, tif, symbol, id: BigInt(id), price: BigInt(price), qty, account }, readyAt: holdLast > 0 && hist >= total - holdLast ? Number.POSITIVE_INFINITY : hist + d });
        return true;
      },
    },
  });
  runner.add(CONFIG, tapeStrategy as never);
  runner.start(CONFIG.id);
  const deliver = (t: number) => (dv: DataView, n: number, seq: number): void => {
    clockNs = t;
    for (let e = 0; e < n; e++) {
      runner.onEvent(dv, e * EVT_SIZE, seq, t);
      // a fill per side of a trade the strategy is in (both, when it trades with itself)
      if (dv.getUint8(e * EVT_SIZE) === 84) fills += Number(dv.getUint32(e * EVT_SIZE + 48, true) === ACCOUNT) + Number(dv.getUint32(e * EVT_SIZE + 52, true) === ACCOUNT);
    }
  };
  let sent = 0;
  let afterHistory = 0;
  const release = (upTo: number, t: number): void => {
    while (pending.length > 0 && pending[0]!.readyAt <= upTo) {
      const p = pending.shift()!;
      const ts = t - 1000 + sent % 7; // between the previous historical command and the next
      je.run(p.cmd, BigInt(ts), BigInt(ts - 3000), deliver(ts));
      sent++;
      if (hist === total) afterHistory++;
    }
  };
  for (let i = 0; i < total; i++) {
    const t = T0 + (i + 1) * 20_000; // 50,000 commands/s
    release(hist, t);
    const c = decodeCommand(new DataView(recs.buffer, recs.byteOffset), i * CMD_SIZE);
    je.run(c, BigInt(t), BigInt(t - 2000), deliver(t));
    hist++;
    if (i % 3 === 2) runner.tick();
  }
  runner.tick();
  const tEnd = T0 + (total + 2) * 20_000;
  release(Number.POSITIVE_INFINITY, tEnd);
  runner.tick();
  release(Number.POSITIVE_INFINITY, tEnd + 10_000);
  const beforeStop = sent;
  runner.stop(CONFIG.id);
  release(Number.POSITIVE_INFINITY, tEnd + 20_000);
  const stopCancels = sent - beforeStop;
  runner.tick();
  release(Number.POSITIVE_INFINITY, tEnd + 30_000);
  expect(pending).toHaveLength(0);
  je.close();
  return { strategyCommands: sent, liveFills: fills, afterHistory, stopCancels };
}

describe('a backtest of a live session\'s journal', () => {
  const l = live(dir);
  const spec: RunSpec = {
    input: { type: 'journal', dir }, instruments: SPECS, strategy: CONFIG, module: join(import.meta.dirname, '../support/backtest-strategies.ts'),
    latency: { kind: 'recorded' }, velocity: VELOCITY,
  };

  it('reproduces the live strategy\'s orders and fills exactly (latency recorded)', async () => {
    const lt = liveTrades(dir, ACCOUNT);
    expect(l.strategyCommands).toBeGreaterThan(100);
    expect(lt.orders).toHaveLength(l.strategyCommands);
    expect(lt.fills.length).toBe(l.liveFills);
    expect(lt.fills.some((f) => f.liquidity === 'maker') && lt.fills.some((f) => f.liquidity === 'taker')).toBe(true);
    const r = await runSpec(spec);
    expect(r.run.recorded).toMatchObject({ slots: l.strategyCommands, matched: l.strategyCommands, mismatched: 0, missed: 0, extra: 0, hashMatches: true });
    // the same rows, with the live seqs and trade ids
    expect(r.orders.map(({ tsNs: _t, ...o }) => o)).toEqual(lt.orders.map(({ tsNs: _t, ...o }) => o));
    expect(r.fills.map(({ tsNs: _t, ...f }) => f)).toEqual(lt.fills.map(({ tsNs: _t, ...f }) => f));
    expect(r.tradesHash).toBe(lt.hash);
    expect(r.run.historical + r.run.strategyCommands).toBe(6000 + l.strategyCommands);
  });

  it('and a modelled latency does not (the control: the test can fail)', async () => {
    const r = await runSpec({ ...spec, latency: { kind: 'constant', ns: 50_000 } });
    expect(r.tradesHash).not.toBe(liveTrades(dir, ACCOUNT).hash);
    expect(r.run.recorded).toBeNull();
  });

  it('samples the latency from the journal\'s stage latencies (tsIn → tsInit), deterministically', async () => {
    const a = await runSpec({ ...spec, latency: { kind: 'sampled', journal: dir, seed: 5 } });
    const b = await runSpec({ ...spec, latency: { kind: 'sampled', journal: dir, seed: 5 } });
    expect(a.run.latency).toMatch(/sampled from \d+ recorded tsIn→tsInit latencies \(min 2\.0 µs, median 2\.0 µs, max 3\.\d µs; by operation: \d+ new, \d+ cancel, \d+ modify/);
    expect(b.resultHash).toBe(a.resultHash);
    expect(a.fills.length).toBeGreaterThan(0);
  });
});

describe('a backtest of a live session whose strategy still had commands in flight when the history ended', () => {
  // live: the strategy's last commands reach the engine after every historical command, then the
  // stop's cancels follow them (a live run stopped right after its market). The backtest sequences
  // those last commands in their slots after the history; the strategy is stopped when its queue
  // runs dry there, so that the stop's cancels take the slots the live stop's cancels took (not
  // counted as missed slots, then sequenced as extra commands after them)
  const tailDir = mkdtempSync(join(tmpdir(), 'bt-live-tail-'));
  afterAll(() => rmSync(tailDir, { recursive: true, force: true }));
  const l = live(tailDir, 300);

  it('reproduces it exactly, every slot matched', async () => {
    expect(l.afterHistory).toBeGreaterThan(l.stopCancels); // the history ended with strategy commands in flight (afterHistory counts the cancels too)
    expect(l.stopCancels).toBeGreaterThan(0); // and the stop cancelled resting orders
    const lt = liveTrades(tailDir, ACCOUNT);
    expect(lt.orders).toHaveLength(l.strategyCommands);
    const r = await runSpec({
      input: { type: 'journal', dir: tailDir }, instruments: SPECS, strategy: CONFIG, module: join(import.meta.dirname, '../support/backtest-strategies.ts'),
      latency: { kind: 'recorded' }, velocity: VELOCITY,
    });
    expect(r.run.recorded).toMatchObject({ slots: l.strategyCommands, matched: l.strategyCommands, mismatched: 0, missed: 0, extra: 0, hashMatches: true });
    expect(r.orders.map(({ tsNs: _t, ...o }) => o)).toEqual(lt.orders.map(({ tsNs: _t, ...o }) => o));
    expect(r.fills.map(({ tsNs: _t, ...f }) => f)).toEqual(lt.fills.map(({ tsNs: _t, ...f }) => f));
  });
});
