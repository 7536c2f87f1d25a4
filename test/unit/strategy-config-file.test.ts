/**
 * The `--strategies FILE.json` checks (src/strategies/config-file.ts) and the demo configurations
 * (src/strategies/demo.ts): every error names the file, the entry and the field; the demo runs only
 * kinds and symbols the server has, on accounts outside the simulator's and the tests' ranges.
 */
import { describe, expect, it } from 'vitest';
import { checkStrategyConfig, parseStrategiesFile } from '../../src/strategies/config-file.js';
import { DEMO_STRATEGIES, demoStrategies } from '../../src/strategies/demo.js';
import { DEMO_INSTRUMENTS } from '../../src/domain/instruments.js';
import { TradsysError } from '../../src/domain/errors.js';

const ok = { id: 'p-1', kind: 'pairs', account: 900_001, symbols: ['BTC-USD', 'ETH-USD'] };
const err = (f: () => unknown): TradsysError => {
  try { f(); } catch (e) { expect(e).toBeInstanceOf(TradsysError); return e as TradsysError; }
  throw new Error('did not throw');
};

describe('strategies file', () => {
  it('accepts an array of configurations with every optional field', () => {
    const full = { ...ok, params: { entryZ: 2 }, priority: -3, worker: 0, budgetUs: 200, barMs: 500, limits: { maxLoss: 1000, maxRejectRatio: 0.5 }, autoStart: false };
    expect(parseStrategiesFile(JSON.stringify([ok, { ...full, id: 'p-2', account: 900_003 }]), 's.json')).toEqual([ok, { ...full, id: 'p-2', account: 900_003 }]);
    expect(parseStrategiesFile('[]', 's.json')).toEqual([]);
  });

  it('names the file, the entry and the field of each error', () => {
    const cases: [string, string][] = [
      ['{', 's.json is not valid JSON: '],
      ['{"id":"x"}', 's.json must hold a JSON array of strategy configurations'],
      ['[1]', 's.json entry 0: must be an object like {"id":"pairs-1"'],
      [JSON.stringify([ok, { ...ok, id: 'b', account: undefined }]), 's.json entry 1 (b): field "account" must be an integer in [1, 4294967295], got nothing'],
      [JSON.stringify([{ ...ok, account: 0 }]), 's.json entry 0 (p-1): field "account" must be an integer in [1, 4294967295], got 0'],
      [JSON.stringify([{ ...ok, account: 1.5 }]), 'field "account" must be an integer in [1, 4294967295], got 1.5'],
      [JSON.stringify([{ ...ok, id: 'x'.repeat(32) }]), 'field "id" must be 1-31 letters, digits, ".", "_" or "-", starting with a letter or digit'],
      [JSON.stringify([{ ...ok, id: 7 }]), 's.json entry 0: field "id" must be 1-31'],
      [JSON.stringify([{ ...ok, kind: '' }]), 'field "kind" must be a strategy kind'],
      [JSON.stringify([{ ...ok, symbols: [] }]), 'field "symbols" must be a non-empty array of instrument names, got []'],
      [JSON.stringify([{ ...ok, symbols: ['A', 3] }]), 'field "symbols" must be a non-empty array'],
      [JSON.stringify([{ ...ok, params: [1] }]), 'field "params" must be an object, got [1]'],
      [JSON.stringify([{ ...ok, priority: '1' }]), 'field "priority" must be an integer, got "1"'],
      [JSON.stringify([{ ...ok, worker: -1 }]), 'field "worker" must be an integer ≥ 0'],
      [JSON.stringify([{ ...ok, budgetUs: 0 }]), 'field "budgetUs" must be an integer ≥ 1 (µs)'],
      [JSON.stringify([{ ...ok, barMs: 1.5 }]), 'field "barMs" must be an integer ≥ 1 (ms)'],
      [JSON.stringify([{ ...ok, limits: { maxLoss: 'x' } }]), 'field "limits" must be an object of numbers'],
      [JSON.stringify([{ ...ok, autoStart: 1 }]), 'field "autoStart" must be true or false, got 1'],
      [JSON.stringify([{ ...ok, prio: 1 }]), 's.json entry 0 (p-1): unknown field "prio" (fields: id, kind, account, symbols, params, priority, worker, budgetUs, barMs, limits, autoStart)'],
      [JSON.stringify([ok, { ...ok, account: 900_002 }]), 's.json entry 1 (p-1): id p-1 is also entry 0\'s'],
      [JSON.stringify([ok, { ...ok, id: 'q' }]), 's.json entry 1 (q): account 900001 is also entry 0\'s (one account per strategy)'],
    ];
    for (const [text, msg] of cases) {
      const e = err(() => parseStrategiesFile(text, 's.json'));
      expect(e.code, text).toBe('ERR_STRATEGY_CONFIG');
      expect(e.message, text).toContain(msg);
    }
  });

  it('checks one configuration (the API body) the same way', () => {
    expect(checkStrategyConfig(ok, 'body')).toBe(ok);
    expect(err(() => checkStrategyConfig(null, 'body')).message).toMatch(/^body: must be an object/);
  });
});

describe('demo strategies', () => {
  const symbols = DEMO_INSTRUMENTS.map((i) => i.symbol);

  it('a pairs strategy and a market maker on built-in instruments, accounts of their own outside the simulator\'s and the tests\'', () => {
    expect(DEMO_STRATEGIES.map((c) => c.kind)).toEqual(['pairs', 'market-maker']);
    const accounts = DEMO_STRATEGIES.map((c) => c.account);
    expect(new Set(accounts).size).toBe(accounts.length);
    for (const c of DEMO_STRATEGIES) {
      expect(c.account).toBeGreaterThanOrEqual(100_000);
      expect(c.account).toBeLessThan(1_000_000);
      for (const s of c.symbols) expect(symbols).toContain(s);
      expect(checkStrategyConfig(c, c.id)).toBe(c);
    }
  });

  it('runs only the kinds the build has and the symbols the server lists, saying why the others are left out', () => {
    expect(demoStrategies(symbols, ['pairs', 'market-maker']).run.map((c) => c.id)).toEqual(['demo-pairs', 'demo-mm']);
    expect(demoStrategies(symbols, ['market-maker'])).toEqual({ run: [DEMO_STRATEGIES[1]], skipped: ['demo-pairs (kind pairs is not in this build)'] });
    expect(demoStrategies(['AAPL', 'SOL-USD'], ['pairs', 'market-maker'])).toEqual({ run: [DEMO_STRATEGIES[1]], skipped: ['demo-pairs (no instrument MSFT)'] });
    expect(demoStrategies(symbols, []).run).toEqual([]);
    // a copy: the server may not change the constants
    const r = demoStrategies(symbols, ['pairs']).run[0]!;
    r.symbols.push('X');
    expect(DEMO_STRATEGIES[0]!.symbols).toEqual(['AAPL', 'MSFT']);
  });
});
