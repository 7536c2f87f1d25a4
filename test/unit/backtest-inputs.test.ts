/**
 * Backtest inputs and models: order-file times (synthetic rate), a journal's live-strategy
 * commands (positions, ids) and stage latencies, the latency models (determinism, bounds), and
 * the fee file (rates, refusals).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CMD_SIZE } from '../../src/abi/records.js';
import { encodeCommand } from '../../src/engine/engine.js';
import { writeOrderFile } from '../../src/codec/tso.js';
import type { Command } from '../../src/domain/types.js';
import { journalHistory, orderFileHistory } from '../../src/strategies/backtest/history.js';
import { constantLatency, recordedLatency, sampledLatency } from '../../src/strategies/backtest/latency.js';
import { feeFn, loadFees, parseFees } from '../../src/strategies/backtest/fees.js';
import { JournalingEngine } from '../support/backtest-journal.js';

const dirs: string[] = [];
const tmp = (): string => { const d = mkdtempSync(join(tmpdir(), 'bt-in-')); dirs.push(d); return d; };
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

const c = (op: number, side: number, id: number, price: number, qty: number, account: number, symbol = 0): Command =>
  ({ op, side, type: 0, tif: 0, symbol, id: BigInt(id), price: BigInt(price), qty, account });

describe('order file history', () => {
  it('gives command i the time start + i / rate', () => {
    const d = tmp();
    const cmds = [c(1, 0, 1, 100, 1, 1), c(1, 1, 2, 101, 1, 1), c(2, 0, 1, 0, 0, 1)];
    const b = new Uint8Array(cmds.length * CMD_SIZE);
    cmds.forEach((x, i) => encodeCommand(new DataView(b.buffer), i * CMD_SIZE, x));
    const f = join(d, 'x.tso');
    const fd = openSync(f, 'w');
    writeOrderFile(fd, b, cmds.length, false);
    closeSync(fd);
    const h = orderFileHistory(f, 1000, Date.UTC(2025, 5, 1));
    const out = new Uint8Array(8 * CMD_SIZE);
    const ts = new Float64Array(8);
    expect(h.next(out, ts, 8)).toBe(3);
    expect(Array.from(ts.subarray(0, 3))).toEqual([0, 1, 2].map((i) => Date.UTC(2025, 5, 1) * 1e6 + i * 1e6));
    expect(out.subarray(0, 3 * CMD_SIZE)).toEqual(b);
    expect(h.next(out, ts, 8)).toBe(0);
    expect(h.total).toBe(3);
    h.close();
    expect(() => orderFileHistory(f, 0)).toThrow(/--rate/);
  });
});

describe('journal history', () => {
  it('takes the strategy account\'s commands out of the history, with their positions, and the stage latencies', () => {
    const d = tmp();
    const j = new JournalingEngine(d, { symbols: 1, capacity: 100 });
    const S = 42;
    // seq: 1 hist, 2 strat, 3 hist, 4 hist, 5 strat, 6 strat, 7 hist
    const steps: [Command, number, number][] = [
      [c(1, 0, 1, 99, 5, 1), 1_000, 0], [c(1, 1, 500, 101, 2, S), 2_000, 1_500], [c(1, 1, 2, 102, 5, 1), 3_000, 2_900],
      [c(1, 0, 3, 101, 1, 2), 4_000, 3_990], [c(2, 1, 500, 0, 0, S), 5_000, 4_000], [c(1, 0, 501, 98, 1, S), 6_000, 5_900], [c(2, 0, 1, 0, 0, 1), 7_000, 6_999],
    ];
    for (const [x, tsInit, tsIn] of steps) j.run(x, BigInt(tsInit), BigInt(tsIn));
    j.close();
    const h = journalHistory(d, S);
    expect(h.live.map((l) => [l.position, l.seq, l.tsNs])).toEqual([[1, 2, 2000], [3, 5, 5000], [3, 6, 6000]]);
    expect(Array.from(h.latencySamples!)).toEqual([500, 100, 10, 1000, 100, 1]); // tsIn 0 (seq 1) gives none
    expect(Array.from(h.latencyOps!)).toEqual([1, 1, 1, 2, 1, 2]);
    const out = new Uint8Array(16 * CMD_SIZE);
    const ts = new Float64Array(16);
    expect(h.next(out, ts, 16)).toBe(4);
    expect(Array.from(ts.subarray(0, 4))).toEqual([1000, 3000, 4000, 7000]);
    expect(h.total).toBe(4);
    h.close();
  });
  it('refuses a folder without a journal', () => {
    expect(() => journalHistory(tmp(), 1)).toThrow(expect.objectContaining({ code: 'ERR_BACKTEST_INPUT' }));
  });
});

describe('latency models', () => {
  it('constant: always the same, min = it', () => {
    const m = constantLatency(50_000);
    expect([m.next(), m.next()]).toEqual([50_000, 50_000]);
    expect(m.minNs).toBe(50_000);
    expect(() => constantLatency(-1)).toThrow(expect.objectContaining({ code: 'ERR_BACKTEST_CONFIG' }));
  });
  it('sampled: draws only recorded values, deterministic per seed and independent of sample order', () => {
    const s = [5000, 1000, 9000, 3000, 7000];
    const a = sampledLatency(s, 7);
    const b = sampledLatency([...s].reverse(), 7);
    const xa = Array.from({ length: 200 }, () => a.next());
    expect(Array.from({ length: 200 }, () => b.next())).toEqual(xa);
    for (const x of xa) expect(s).toContain(x);
    expect(new Set(xa).size).toBe(5);
    expect(a.minNs).toBe(1000);
    const other = sampledLatency(s, 8);
    expect(Array.from({ length: 200 }, () => other.next())).not.toEqual(xa);
    expect(() => sampledLatency([], 1)).toThrow(expect.objectContaining({ code: 'ERR_BACKTEST_INPUT' }));
  });
  it('sampled per operation: a cancel draws from the cancels, a new order from the new orders; all when an operation has none', () => {
    const m = sampledLatency([100, 200, 9000, 9100, 300], 3, [1, 1, 2, 2, 1]);
    const news = Array.from({ length: 100 }, () => m.next(1));
    const cancels = Array.from({ length: 100 }, () => m.next(2));
    const modifies = Array.from({ length: 100 }, () => m.next(3));
    expect(new Set(news)).toEqual(new Set([100, 200, 300]));
    expect(new Set(cancels)).toEqual(new Set([9000, 9100]));
    expect(new Set(modifies)).toEqual(new Set([100, 200, 300, 9000, 9100]));
    expect(m.describe()).toMatch(/by operation: 3 new, 2 cancel, 0 modify/);
  });
  it('recorded: no latency bound', () => {
    expect(recordedLatency().minNs).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('fees', () => {
  it('per symbol, "*" for the rest, bps of notional plus per lot', () => {
    const rates = parseFees({ '*': { makerBps: -1, takerBps: 3 }, B: { takerPerLot: 0.25, makerPerLot: -0.1 } }, ['A', 'B']);
    const f = feeFn(rates);
    expect(f(0, 'taker', 10_000, 2)).toBeCloseTo(6, 12);
    expect(f(0, 'maker', 10_000, 2)).toBeCloseTo(-2, 12);
    expect(f(1, 'taker', 10_000, 4)).toBe(1);
    expect(f(1, 'maker', 10_000, 4)).toBeCloseTo(-0.4, 12);
    expect(feeFn(null)(0, 'taker', 1, 1)).toBe(0);
  });
  it('refuses unknown symbols, fields, non-numbers and absurd bps', () => {
    for (const bad of [{ C: {} }, { A: { makerbps: 1 } }, { A: { takerBps: '2' } }, { A: { takerBps: 20000 } }, [], { A: 3 }]) {
      expect(() => parseFees(bad, ['A', 'B'])).toThrow(expect.objectContaining({ code: 'ERR_BACKTEST_CONFIG' }));
    }
    const d = tmp();
    writeFileSync(join(d, 'f.json'), '{ nope');
    expect(() => loadFees(join(d, 'f.json'), ['A'])).toThrow(/not JSON/);
    expect(() => loadFees(join(d, 'missing.json'), ['A'])).toThrow(expect.objectContaining({ code: 'ERR_IO' }));
  });
});
