/**
 * Strategy parameters and configuration checks: parameters against the kind's JSON Schema (ajv,
 * defaults filled in), and the rest of a `StrategyConfig` (id, account, symbols, priority, budget,
 * bar interval).
 *
 * Invariants: the returned parameters are a deep copy of the input with the schema's defaults
 * added; the input is never changed. A mismatch is a TradsysError ERR_STRATEGY_PARAMS naming every
 * failing path; a bad configuration field ERR_STRATEGY_CONFIG.
 * Complexity: one ajv compilation per schema object (cached); validation O(parameters).
 * Allocation: the copy and ajv's error objects. Known limitations: ajv's strict mode is off, so a
 * schema keyword ajv does not know is ignored rather than refused.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { TradsysError } from '../domain/errors.js';
import type { ParamsSchema, StrategyConfig } from './api.js';

const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: false, coerceTypes: false });
const compiled = new WeakMap<ParamsSchema, ValidateFunction>();

/** A validated deep copy of `params` with the schema's defaults filled in. */
export function validateParams(kind: string, schema: ParamsSchema, params: unknown): Record<string, unknown> {
  let fn = compiled.get(schema);
  if (!fn) {
    try {
      fn = ajv.compile(schema);
    } catch (e) {
      throw new TradsysError('ERR_STRATEGY_CONFIG', `strategy kind ${kind}: its parameter schema does not compile: ${(e as Error).message}`);
    }
    compiled.set(schema, fn);
  }
  if (params !== undefined && (typeof params !== 'object' || params === null || Array.isArray(params))) {
    throw new TradsysError('ERR_STRATEGY_PARAMS', `${kind}: parameters must be a JSON object`);
  }
  const copy = structuredClone(params ?? {}) as Record<string, unknown>;
  if (!fn(copy)) {
    const why = (fn.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? ` (${String(e.params.additionalProperty)})` : ''}`);
    throw new TradsysError('ERR_STRATEGY_PARAMS', `${kind}: ${why.join('; ')}`);
  }
  return copy;
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Checks a configuration's own fields (not parameters or limits); returns the defaults filled in. */
export function checkConfig(cfg: StrategyConfig, symbolIds: ReadonlyMap<string, number>): {
  symbols: number[]; priority: number; budgetUs: number; barMs: number;
} {
  const bad = (m: string): never => { throw new TradsysError('ERR_STRATEGY_CONFIG', `strategy ${typeof cfg?.id === 'string' ? cfg.id : '?'}: ${m}`); };
  if (typeof cfg !== 'object' || cfg === null) bad('configuration must be an object');
  if (typeof cfg.id !== 'string' || !ID_RE.test(cfg.id)) bad(`id must be 1-64 characters of letters, digits and ._- (starting with a letter or digit), got ${JSON.stringify(cfg.id)}`);
  if (typeof cfg.kind !== 'string' || cfg.kind === '') bad('kind must be a non-empty string');
  if (!Number.isInteger(cfg.account) || cfg.account < 1 || cfg.account > 0xffffffff) bad(`account must be an integer in [1, 4294967295], got ${JSON.stringify(cfg.account)}`);
  if (!Array.isArray(cfg.symbols) || cfg.symbols.length === 0) bad('symbols must be a non-empty array of instrument names');
  const symbols: number[] = [];
  for (const s of cfg.symbols) {
    const id = typeof s === 'string' ? symbolIds.get(s) : undefined;
    if (id === undefined) bad(`unknown symbol ${JSON.stringify(s)}`);
    if (symbols.includes(id!)) bad(`symbol ${s} listed twice`);
    symbols.push(id!);
  }
  const int = (k: string, v: unknown, def: number, lo: number, hi: number): number => {
    if (v === undefined) return def;
    if (!Number.isInteger(v) || (v as number) < lo || (v as number) > hi) bad(`${k} must be an integer in [${lo}, ${hi}], got ${JSON.stringify(v)}`);
    return v as number;
  };
  const priority = int('priority', cfg.priority, 0, -1_000_000, 1_000_000);
  const budgetUs = int('budgetUs', cfg.budgetUs, 500, 1, 10_000_000);
  const barMs = int('barMs', cfg.barMs, 1000, 1, 86_400_000);
  if (cfg.worker !== undefined) int('worker', cfg.worker, 0, 0, 1023);
  if (cfg.autoStart !== undefined && typeof cfg.autoStart !== 'boolean') bad('autoStart must be true or false');
  if (cfg.params !== undefined && (typeof cfg.params !== 'object' || cfg.params === null || Array.isArray(cfg.params))) bad('params must be a JSON object');
  if (cfg.limits !== undefined && (typeof cfg.limits !== 'object' || cfg.limits === null || Array.isArray(cfg.limits))) bad('limits must be a JSON object');
  return { symbols, priority, budgetUs, barMs };
}
