/**
 * Strategy configurations as people write them: the file of `tradsys serve --strategies FILE.json`
 * (a JSON array of StrategyConfig) and the body of POST /api/v1/strategies (the same object, as a
 * JSON schema for fastify).
 *
 * Layout: `STRATEGY_CONFIG_SCHEMA` (the HTTP body schema), `checkStrategyConfig` (one entry, by
 * hand, with a message naming the entry and the field), `parseStrategiesFile` (the file: an array,
 * each entry checked, ids and accounts unique).
 * Invariants: the shape is checked here; the kind, its parameters (JSON schema of the kind) and
 * the breaker limits are checked by the pool when the strategy is created (their errors name the
 * entry too: StrategyService.boot). An id is at most 31 characters (StrategyService: the journal
 * attribution `strategy:<id>` fits the command's clientOrderId).
 * Complexity: O(entries). Allocation: the parsed file. Known limitations: none.
 */
import { TradsysError } from '../domain/errors.js';
import type { StrategyConfig } from './api.js';

/** Letters, digits and `._-`, starting with a letter or digit, at most 31 characters. */
export const STRATEGY_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$';
const ID_RE = new RegExp(STRATEGY_ID_PATTERN);

/** POST /api/v1/strategies: a StrategyConfig (src/strategies/api.ts), no other field. */
export const STRATEGY_CONFIG_SCHEMA = {
  type: 'object', additionalProperties: false, required: ['id', 'kind', 'account', 'symbols'],
  properties: {
    id: { type: 'string', pattern: STRATEGY_ID_PATTERN },
    kind: { type: 'string', minLength: 1, maxLength: 64 },
    account: { type: 'integer', minimum: 1, maximum: 4294967295 },
    symbols: { type: 'array', minItems: 1, maxItems: 256, items: { type: 'string', minLength: 1, maxLength: 32 } },
    params: { type: 'object' },
    priority: { type: 'integer' },
    worker: { type: 'integer', minimum: 0 },
    budgetUs: { type: 'integer', minimum: 1 },
    barMs: { type: 'integer', minimum: 1 },
    limits: { type: 'object', additionalProperties: { type: 'number' } },
    autoStart: { type: 'boolean' },
  },
} as const;

const FIELDS = Object.keys(STRATEGY_CONFIG_SCHEMA.properties);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks one configuration's shape; `where` names it in the message (e.g. `strategies.json entry 2`). */
export function checkStrategyConfig(v: unknown, where: string): StrategyConfig {
  if (!isObject(v)) throw new TradsysError('ERR_STRATEGY_CONFIG', `${where}: must be an object like {"id":"pairs-1","kind":"pairs","account":900001,"symbols":["BTC-USD","ETH-USD"]}`);
  const name = typeof v.id === 'string' ? `${where} (${v.id})` : where;
  const bad = (field: string, want: string): never => {
    throw new TradsysError('ERR_STRATEGY_CONFIG', `${name}: field "${field}" ${want}, got ${field in v ? JSON.stringify(v[field]) : 'nothing'}`);
  };
  for (const k of Object.keys(v)) if (!FIELDS.includes(k)) throw new TradsysError('ERR_STRATEGY_CONFIG', `${name}: unknown field "${k}" (fields: ${FIELDS.join(', ')})`);
  if (typeof v.id !== 'string' || !ID_RE.test(v.id)) bad('id', 'must be 1-31 letters, digits, ".", "_" or "-", starting with a letter or digit');
  if (typeof v.kind !== 'string' || v.kind.length === 0 || v.kind.length > 64) bad('kind', 'must be a strategy kind such as "pairs" or "market-maker"');
  if (!Number.isInteger(v.account) || (v.account as number) < 1 || (v.account as number) > 4294967295) bad('account', 'must be an integer in [1, 4294967295]');
  if (!Array.isArray(v.symbols) || v.symbols.length === 0 || v.symbols.length > 256 || !v.symbols.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 32)) {
    bad('symbols', 'must be a non-empty array of instrument names');
  }
  if (v.params !== undefined && !isObject(v.params)) bad('params', 'must be an object');
  if (v.priority !== undefined && !Number.isInteger(v.priority)) bad('priority', 'must be an integer');
  if (v.worker !== undefined && (!Number.isInteger(v.worker) || (v.worker as number) < 0)) bad('worker', 'must be an integer ≥ 0');
  if (v.budgetUs !== undefined && (!Number.isInteger(v.budgetUs) || (v.budgetUs as number) < 1)) bad('budgetUs', 'must be an integer ≥ 1 (µs)');
  if (v.barMs !== undefined && (!Number.isInteger(v.barMs) || (v.barMs as number) < 1)) bad('barMs', 'must be an integer ≥ 1 (ms)');
  if (v.limits !== undefined && (!isObject(v.limits) || !Object.values(v.limits).every((x) => typeof x === 'number' && Number.isFinite(x)))) bad('limits', 'must be an object of numbers (docs/strategies.md, circuit breakers)');
  if (v.autoStart !== undefined && typeof v.autoStart !== 'boolean') bad('autoStart', 'must be true or false');
  return v as unknown as StrategyConfig;
}

/** The configurations of a `--strategies` file's text (`file` names it in errors). */
export function parseStrategiesFile(text: string, file: string): StrategyConfig[] {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new TradsysError('ERR_STRATEGY_CONFIG', `${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(v)) throw new TradsysError('ERR_STRATEGY_CONFIG', `${file} must hold a JSON array of strategy configurations ([{"id":…,"kind":…,"account":…,"symbols":[…]}, …])`);
  const out = v.map((x, i) => checkStrategyConfig(x, `${file} entry ${i}`));
  const ids = new Map<string, number>();
  const accounts = new Map<number, number>();
  for (const [i, c] of out.entries()) {
    const seen = ids.get(c.id);
    if (seen !== undefined) throw new TradsysError('ERR_STRATEGY_CONFIG', `${file} entry ${i} (${c.id}): id ${c.id} is also entry ${seen}'s`);
    ids.set(c.id, i);
    const held = accounts.get(c.account);
    if (held !== undefined) throw new TradsysError('ERR_STRATEGY_CONFIG', `${file} entry ${i} (${c.id}): account ${c.account} is also entry ${held}'s (one account per strategy)`);
    accounts.set(c.account, i);
  }
  return out;
}
