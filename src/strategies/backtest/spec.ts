/**
 * A backtest run as data (`RunSpec`, structured-cloneable, so a worker thread can run it) and
 * what a run needs built from it: the instruments, the history, the latency model, the strategy
 * definition and the runner. Also the parameter sweep and walk-forward fold plans
 * (docs/strategies.md "Backtests", sweeps and folds).
 *
 * Owns: `runSpec` (one run), `parseSweep`, `sweepParams`, `foldWindows`, `countHistory`,
 * `chooseBest`. Layout: `RunSpec` holds only structured-cloneable data (no functions).
 * Invariants: a spec gives the same result wherever it runs (main thread or a pool
 * worker): everything is rebuilt from the spec's data; nothing reads ambient state but the files
 * it names. Complexity: a run is O(its history). Allocation: per run.
 * Known limitations: `--module` definitions are loaded by file path: a worker imports the same file.
 */
import { CMD_SIZE } from '../../abi/records.js';
import { TradsysError } from '../../domain/errors.js';
import { DEMO_INSTRUMENTS, loadInstruments, type Instrument, type InstrumentSpec } from '../../domain/instruments.js';
import type { StpMode } from '../../engine/engine.js';
import type { StrategyConfig, StrategyDefinition } from '../api.js';
import { strategyKind, strategyRegistry } from '../registry.js';
import { StrategyRunner } from '../runner.js';
import { liveTrades, runBacktest, type BacktestOptions, type BacktestResult, type BacktestRunner } from './backtest.js';
import type { FeeRate } from './fees.js';
import { arrayHistory, journalHistory, orderFileHistory, type History } from './history.js';
import { constantLatency, recordedLatency, sampledLatency, type LatencyModel } from './latency.js';

export type InputSpec =
  | { type: 'file'; path: string; symbols: number; rate: number; startMs: number }
  | { type: 'journal'; dir: string }
  | { type: 'array'; cmds: Uint8Array; ts: Float64Array; description: string };

export type LatencySpec =
  | { kind: 'constant'; ns: number }
  | { kind: 'sampled'; journal: string; seed: number }
  | { kind: 'recorded' };

export interface RunSpec {
  input: InputSpec;
  /** Instruments (default: S0..S{n−1} with tick and lot 1 for an order file, the demo set otherwise). */
  instruments?: InstrumentSpec[];
  strategy: StrategyConfig;
  /** A module whose exports include StrategyDefinitions (default export, or any named), for kinds beyond the built-ins. */
  module?: string;
  latency: LatencySpec;
  fees?: FeeRate[] | null;
  barMs?: number;
  /** Engine pre-trade risk as `serve` runs it (default: on for a journal, off otherwise). */
  risk?: boolean;
  maxOpenOrders?: number;
  /** The engine's resting-order pool (default: the history's commands + 65,536). */
  capacity?: number;
  stp?: StpMode;
  window?: { from: number; to: number };
  /** The runner's per-symbol velocity limits (default breakers.ts DEFAULT_VELOCITY). */
  velocity?: { movePct: number; windowMs: number; pauseMs: number };
}

/** Order-file instruments: `S<i>`, tick 1, lot 1 (prices and sizes in the file are already ticks and lots). */
export function genericInstruments(n: number): InstrumentSpec[] {
  return Array.from({ length: n }, (_, i) => ({ symbol: `S${i}`, tickSize: '1', lotSize: '1' }));
}

export function specInstruments(spec: RunSpec): Instrument[] {
  if (spec.instruments) return loadInstruments(spec.instruments);
  if (spec.input.type === 'file') return loadInstruments(genericInstruments(spec.input.symbols));
  return loadInstruments(DEMO_INSTRUMENTS);
}

export function openHistory(input: InputSpec, account: number): History {
  switch (input.type) {
    case 'file': return orderFileHistory(input.path, input.rate, input.startMs);
    case 'journal': return journalHistory(input.dir, account);
    case 'array': return arrayHistory(input.cmds, input.ts, input.description);
  }
}

function isDefinition(x: unknown): x is StrategyDefinition {
  return typeof x === 'object' && x !== null && typeof (x as StrategyDefinition).kind === 'string' && typeof (x as StrategyDefinition).create === 'function';
}

/** The StrategyDefinitions a module exports (default and named; arrays of them too). */
export async function loadModuleDefinitions(path: string): Promise<StrategyDefinition[]> {
  let m: Record<string, unknown>;
  const { pathToFileURL } = await import('node:url');
  const { resolve } = await import('node:path');
  const url = pathToFileURL(resolve(path)).href;
  try {
    m = await import(url) as Record<string, unknown>;
  } catch (e) {
    // a TypeScript module in a process (or pool worker) without a TypeScript loader: register tsx
    // (a devDependency) for it, once; otherwise say what to do
    if ((e as NodeJS.ErrnoException).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !/\.[cm]?ts$/.test(path)) {
      throw new TradsysError('ERR_BACKTEST_CONFIG', `cannot load strategy module ${path}: ${(e as Error).message}`);
    }
    try {
      const tsx = await import('tsx/esm/api') as { register(): unknown };
      tsx.register();
      m = await import(`${url}?tsx`) as Record<string, unknown>; // (the failed import of `url` stays cached)
    } catch (e2) {
      throw new TradsysError('ERR_BACKTEST_CONFIG', `cannot load the TypeScript strategy module ${path} (${(e2 as Error).message}): compile it to JavaScript, or install tsx`);
    }
  }
  const defs: StrategyDefinition[] = [];
  for (const v of Object.values(m)) {
    if (isDefinition(v)) defs.push(v);
    else if (Array.isArray(v)) for (const x of v) if (isDefinition(x)) defs.push(x);
  }
  if (defs.length === 0) throw new TradsysError('ERR_BACKTEST_CONFIG', `strategy module ${path} exports no StrategyDefinition`);
  return [...new Map(defs.map((d) => [d.kind, d])).values()];
}

export async function specDefinition(spec: RunSpec): Promise<StrategyDefinition> {
  const extra = spec.module ? await loadModuleDefinitions(spec.module) : [];
  return strategyKind(strategyRegistry(extra), spec.strategy.kind);
}

export function latencyModel(l: LatencySpec, account: number): LatencyModel {
  switch (l.kind) {
    case 'constant': return constantLatency(l.ns);
    case 'recorded': return recordedLatency();
    case 'sampled': {
      const h = journalHistory(l.journal, account);
      h.close();
      return sampledLatency(h.latencySamples ?? [], l.seed, h.latencyOps ?? undefined);
    }
  }
}

export const createStrategyRunner = (o: ConstructorParameters<typeof StrategyRunner>[0]): BacktestRunner => new StrategyRunner(o);

/** One run of `spec` (the same wherever it runs). */
export async function runSpec(spec: RunSpec, hooks: Pick<BacktestOptions, 'progress' | 'progressMs'> = {}): Promise<BacktestResult> {
  const definition = await specDefinition(spec);
  const instruments = specInstruments(spec);
  if (spec.input.type === 'file' && instruments.length !== spec.input.symbols) {
    throw new TradsysError('ERR_BACKTEST_CONFIG', `--symbols ${spec.input.symbols} but ${instruments.length} instruments`);
  }
  const account = spec.strategy.account;
  const latency = latencyModel(spec.latency, account);
  if (latency.kind === 'recorded' && spec.input.type !== 'journal') throw new TradsysError('ERR_BACKTEST_CONFIG', '--latency recorded needs --journal DIR (the live run\'s command positions)');
  const history = openHistory(spec.input, account);
  const live = latency.kind === 'recorded' && spec.input.type === 'journal' ? liveTrades(spec.input.dir, account, spec.fees ?? null) : null;
  return runBacktest({
    strategy: spec.strategy, definition, instruments, history, latency,
    createRunner: createStrategyRunner as BacktestOptions['createRunner'],
    fees: spec.fees ?? null, barMs: spec.barMs, risk: spec.risk ?? spec.input.type === 'journal', maxOpenOrders: spec.maxOpenOrders, capacity: spec.capacity,
    stp: spec.stp, window: spec.window, velocity: spec.velocity, liveTradesHash: live?.hash, ...hooks,
  });
}

// ── sweeps and folds ─────────────────────────────────────────────────────────────────────
/** `a=1,2;b=x,y` → [['a', [1, 2]], ['b', ['x', 'y']]]; each value JSON if it parses, else a string. */
export function parseSweep(text: string): [string, unknown[]][] {
  const out: [string, unknown[]][] = [];
  for (const part of text.split(';').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new TradsysError('ERR_BACKTEST_CONFIG', `--sweep: "${part}" is not name=v1,v2,…`);
    const name = part.slice(0, eq).trim();
    if (out.some(([n]) => n === name)) throw new TradsysError('ERR_BACKTEST_CONFIG', `--sweep: parameter ${name} appears twice`);
    const vals = part.slice(eq + 1).split(',').map((s) => s.trim());
    if (vals.length === 0 || vals.some((v) => v === '')) throw new TradsysError('ERR_BACKTEST_CONFIG', `--sweep: ${name} has an empty value`);
    out.push([name, vals.map((v) => { try { return JSON.parse(v) as unknown; } catch { return v; } })]);
  }
  if (out.length === 0) throw new TradsysError('ERR_BACKTEST_CONFIG', '--sweep needs at least one name=v1,v2,…');
  const n = out.reduce((a, [, v]) => a * v.length, 1);
  if (n > 10_000) throw new TradsysError('ERR_BACKTEST_CONFIG', `--sweep has ${n} combinations (at most 10000)`);
  return out;
}

/** Every combination over `base`, the first parameter varying slowest (the order of the report). */
export function sweepParams(base: Record<string, unknown>, sweep: [string, unknown[]][]): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{ ...base }];
  for (const [name, vals] of sweep) out = out.flatMap((p) => vals.map((v) => ({ ...p, [name]: v })));
  return out;
}

/** K folds over `total` historical commands: K + 1 equal windows; fold k trains on window k − 1, tests on window k. */
export function foldWindows(total: number, k: number): { inSample: { from: number; to: number }; outOfSample: { from: number; to: number } }[] {
  if (!Number.isInteger(k) || k < 1 || k > 100) throw new TradsysError('ERR_BACKTEST_CONFIG', `--folds must be an integer in [1, 100], got ${String(k)}`);
  if (total < 2 * (k + 1)) throw new TradsysError('ERR_BACKTEST_CONFIG', `--folds ${k}: the input has only ${total} historical commands`);
  const w = (i: number): { from: number; to: number } => ({ from: Math.floor((i * total) / (k + 1)), to: Math.floor(((i + 1) * total) / (k + 1)) });
  return Array.from({ length: k }, (_, i) => ({ inSample: w(i), outOfSample: w(i + 1) }));
}

/** Historical commands of an input (the journal's, less the strategy's own; an order file's, read once when it is CSV). */
export function countHistory(input: InputSpec, account: number): number {
  const h = openHistory(input, account);
  try {
    if (h.total !== null) return h.total;
    const b = new Uint8Array(4096 * CMD_SIZE);
    const t = new Float64Array(4096);
    let n = 0;
    for (let k; (k = h.next(b, t, 4096)) > 0;) n += k;
    return n;
  } finally {
    h.close();
  }
}

/** Index of the best run by Sharpe (null ranks last), ties to the earlier run. */
export function chooseBest(sharpes: readonly (number | null)[]): number {
  let best = 0;
  for (let i = 1; i < sharpes.length; i++) {
    const a = sharpes[i] ?? Number.NEGATIVE_INFINITY;
    const b = sharpes[best] ?? Number.NEGATIVE_INFINITY;
    if (a > b) best = i;
  }
  return best;
}
