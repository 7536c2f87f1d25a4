/**
 * `tradsys backtest`: one strategy replayed over history through the real engine (src/strategies/
 * backtest/), with a summary, a JSON report, an equity SVG, parameter sweeps and walk-forward
 * folds. The flags and the JSON schema are in docs/strategies.md "Backtests".
 *
 * Owns: flag parsing and checking (ERR_CLI_USAGE / ERR_BACKTEST_CONFIG with what to do), the
 * output files and the text summary.
 * Layout: `--out DIR` → DIR/result.json, DIR/equity.svg (sweeps and folds: equity-<i>.svg).
 * Invariants: exactly one input; every flag checked before anything runs. Complexity: the runs.
 * Allocation: CLI only.
 * Known limitations: `--from/--to` reads the ClickHouse of `--data DIR` (or CLICKHOUSE_URL) whole
 * into memory before the run.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TradsysError } from '../domain/errors.js';
import { DEMO_INSTRUMENTS, loadInstruments, type InstrumentSpec } from '../domain/instruments.js';
import type { StpMode } from '../engine/engine.js';
import type { StrategyConfig } from '../strategies/api.js';
import { parseVelocityLimits } from '../strategies/breakers.js';
import type { BacktestResult } from '../strategies/backtest/backtest.js';
import { loadFees } from '../strategies/backtest/fees.js';
import { DEFAULT_RATE, DEFAULT_START_MS } from '../strategies/backtest/history.js';
import { defaultWorkers, runParallel, type LeanResult } from '../strategies/backtest/parallel.js';
import { canonicalJson } from '../strategies/backtest/hash.js';
import { equitySvg } from '../strategies/backtest/svg.js';
import {
  chooseBest, countHistory, foldWindows, genericInstruments, parseSweep, runSpec, sweepParams, type InputSpec, type LatencySpec, type RunSpec,
} from '../strategies/backtest/spec.js';

type Flags = Map<string, string | true>;

const ALLOWED: Record<string, 'value' | 'bool'> = {
  strategy: 'value', params: 'value', module: 'value', id: 'value', account: 'value', trade: 'value', limits: 'value',
  in: 'value', symbols: 'value', rate: 'value', start: 'value', journal: 'value', from: 'value', to: 'value', data: 'value',
  instruments: 'value', 'latency-us': 'value', latency: 'value', 'latency-journal': 'value', 'latency-seed': 'value',
  fees: 'value', velocity: 'value', capacity: 'value', 'max-open-orders': 'value', 'bar-ms': 'value', risk: 'value', stp: 'value', sweep: 'value', folds: 'value', workers: 'value',
  json: 'bool', out: 'value', quiet: 'bool',
};

function usage(m: string): never { throw new TradsysError('ERR_CLI_USAGE', m); }

function parse(argv: string[]): Flags {
  const flags: Flags = new Map();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) usage(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const kind = ALLOWED[name];
    if (!kind) usage(`unknown option --${name}`);
    if (flags.has(name)) usage(`--${name} given twice`);
    if (kind === 'bool') { flags.set(name, true); continue; }
    const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined || (eq < 0 && v.startsWith('--'))) usage(`--${name} needs a value`);
    flags.set(name, v);
  }
  return flags;
}

const str = (f: Flags, n: string): string | undefined => { const v = f.get(n); return typeof v === 'string' ? v : undefined; };

function num(f: Flags, n: string, dflt: number | undefined, lo: number, hi: number, integer = true): number | undefined {
  const v = str(f, n);
  if (v === undefined) return dflt;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || (integer && !Number.isInteger(x)) || x < lo || x > hi) {
    usage(`--${n} must be ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got "${v}"`);
  }
  return x;
}

function json(f: Flags, n: string): Record<string, unknown> | undefined {
  const v = str(f, n);
  if (v === undefined) return undefined;
  let x: unknown;
  try { x = JSON.parse(v); } catch (e) { usage(`--${n} must be a JSON object: ${(e as Error).message}`); }
  if (typeof x !== 'object' || x === null || Array.isArray(x)) usage(`--${n} must be a JSON object, got ${v}`);
  return x as Record<string, unknown>;
}

/** ISO 8601 (e.g. 2025-03-01T09:30:00Z) or epoch milliseconds → ms. */
function time(f: Flags, n: string): number | undefined {
  const v = str(f, n);
  if (v === undefined) return undefined;
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(ms)) usage(`--${n} must be an ISO 8601 time (2025-03-01T09:30:00Z) or epoch milliseconds, got "${v}"`);
  return ms;
}

const STP: readonly StpMode[] = ['none', 'cancel_resting', 'cancel_incoming', 'cancel_both'];

export async function cmdBacktest(argv: string[]): Promise<number> {
  const f = parse(argv);
  const kind = str(f, 'strategy') ?? usage('backtest needs --strategy KIND (e.g. pairs, market-maker)');
  const sources = ['in', 'journal', 'from'].filter((k) => f.has(k));
  if (sources.length !== 1) usage('backtest needs exactly one input: --in FILE.tso|FILE.csv, --journal DIR, or --from T --to T');
  if (f.has('from') !== f.has('to')) usage('--from and --to go together');
  const account = num(f, 'account', 900_000, 0, 0xffffffff)!;
  const quiet = f.has('quiet');
  const log = (l: string): void => { if (!quiet) process.stderr.write(l + '\n'); };

  // instruments
  let instruments: InstrumentSpec[] | undefined;
  const instFile = str(f, 'instruments');
  if (instFile) {
    try { instruments = JSON.parse(readFileSync(instFile, 'utf8')) as InstrumentSpec[]; } catch (e) { throw new TradsysError('ERR_INSTRUMENT_SPEC', `cannot read instruments from ${instFile}: ${(e as Error).message}`); }
  }
  // input
  let input: InputSpec;
  const inPath = str(f, 'in');
  const journal = str(f, 'journal');
  if (inPath) {
    if (f.has('data')) usage('--data goes with --from/--to (ClickHouse), not --in');
    const symbols = num(f, 'symbols', instruments?.length ?? 8, 1, 1 << 16)!;
    instruments ??= genericInstruments(symbols);
    input = { type: 'file', path: inPath, symbols, rate: num(f, 'rate', DEFAULT_RATE, 1e-3, 1e9, false)!, startMs: time(f, 'start') ?? DEFAULT_START_MS };
  } else {
    for (const k of ['rate', 'start']) if (f.has(k)) usage(`--${k} applies to --in (an order file has no times)`);
    if (journal) {
      if (f.has('symbols') || f.has('data')) usage('--journal takes its symbols from --instruments (default: the demo instruments, as serve)');
      input = { type: 'journal', dir: journal };
    } else {
      const from = time(f, 'from')!;
      const to = time(f, 'to')!;
      if (!(to > from)) usage('--to must be after --from');
      let specs = instruments ?? DEMO_INSTRUMENTS;
      const n = num(f, 'symbols', specs.length, 1, specs.length)!;
      specs = specs.slice(0, n);
      instruments = specs;
      const { openStorage } = await import('../storage/open.js');
      const { clickHouseHistory } = await import('../strategies/backtest/history.js');
      const storage = await openStorage(str(f, 'data') ?? 'data');
      try {
        const h = await clickHouseHistory(storage, specs.map((s) => s.symbol), BigInt(from) * 1_000_000n, BigInt(to) * 1_000_000n);
        const cmds = new Uint8Array((h.total ?? 0) * 32);
        const ts = new Float64Array(h.total ?? 0);
        h.next(cmds, ts, h.total ?? 0);
        input = { type: 'array', cmds, ts, description: h.description };
      } finally {
        await storage.close();
      }
    }
  }
  const names = loadInstruments(instruments ?? DEMO_INSTRUMENTS).map((i) => i.symbol);
  // latency
  let latency: LatencySpec;
  const latKind = str(f, 'latency');
  if (f.has('latency-us') && latKind && latKind !== 'constant') usage('--latency-us goes with --latency constant (the default)');
  if (!latKind || latKind === 'constant') {
    latency = { kind: 'constant', ns: num(f, 'latency-us', 50, 0, 60e6, false)! * 1000 };
  } else if (latKind === 'journal') {
    const dir = str(f, 'latency-journal') ?? journal ?? usage('--latency journal needs --latency-journal DIR (or --journal DIR): the live journal whose tsIn→tsInit latencies are sampled');
    latency = { kind: 'sampled', journal: dir, seed: num(f, 'latency-seed', 1, 0, 0xffffffff)! };
  } else if (latKind === 'recorded') {
    if (!journal) usage('--latency recorded needs --journal DIR');
    latency = { kind: 'recorded' };
  } else {
    usage(`--latency must be constant, journal or recorded, got "${latKind}"`);
  }
  if (f.has('latency-seed') && latency.kind !== 'sampled') usage('--latency-seed goes with --latency journal');
  const risk = str(f, 'risk');
  if (risk !== undefined && risk !== 'on' && risk !== 'off') usage(`--risk must be on or off, got "${risk}"`);
  const stp = str(f, 'stp') ?? 'none';
  if (!STP.includes(stp as StpMode)) usage(`--stp must be one of ${STP.join(', ')}`);
  const trade = str(f, 'trade')?.split(',').map((s) => s.trim()).filter(Boolean) ?? names;
  for (const s of trade) if (!names.includes(s)) usage(`--trade: unknown symbol ${s} (instruments: ${names.join(', ')})`);
  const limits = json(f, 'limits');
  const strategy: StrategyConfig = {
    id: str(f, 'id') ?? kind, kind, account, symbols: trade, params: json(f, 'params') ?? {},
    ...(limits ? { limits: limits as Record<string, number> } : {}),
  };
  const velocityJson = json(f, 'velocity');
  const velocity = velocityJson ? parseVelocityLimits(velocityJson) : undefined;
  const feesPath = str(f, 'fees');
  const spec: RunSpec = {
    input, instruments, strategy, module: str(f, 'module'), latency,
    fees: feesPath ? loadFees(feesPath, names) : null,
    velocity, barMs: num(f, 'bar-ms', 1000, 1, 86_400_000)!,
    capacity: num(f, 'capacity', undefined, 1, 1 << 24), maxOpenOrders: num(f, 'max-open-orders', undefined, 0, 0xffffffff), risk: risk === undefined ? undefined : risk === 'on', stp: stp as StpMode,
  };
  const out = str(f, 'out');
  const asJson = f.has('json');
  const sweepText = str(f, 'sweep');
  const folds = num(f, 'folds', undefined, 1, 100);
  const workers = num(f, 'workers', defaultWorkers(), 1, 256)!;
  if (f.has('workers') && !sweepText && folds === undefined) usage('--workers applies to --sweep and --folds');
  if (latency.kind === 'recorded' && (sweepText || folds !== undefined)) usage('--latency recorded reproduces one live run: no --sweep or --folds');

  if (!sweepText && folds === undefined) {
    const t0 = Date.now();
    const r = await runSpec(spec, {
      progress: quiet ? undefined : (p) => log(`backtest: ${(100 * p.fraction).toFixed(1)}% · ${p.commands.toLocaleString('en-US')} commands · ${p.events.toLocaleString('en-US')} events · simulated ${new Date(p.simTimeMs).toISOString()} · ETA ${p.etaSeconds === null ? '?' : `${p.etaSeconds.toFixed(0)} s`}`),
    });
    const report = reportJson(r);
    let svgPath: string | null = null;
    if (out) {
      mkdirSync(out, { recursive: true });
      svgPath = join(out, 'equity.svg');
      writeFileSync(svgPath, equitySvg(r.equity, `${r.strategy.id} (${r.strategy.kind}) · net ${fmt(r.summary.pnl.net)} · resultHash ${r.resultHash.slice(0, 12)}`));
      writeFileSync(join(out, 'result.json'), JSON.stringify({ ...report, equitySvg: 'equity.svg', equity: r.equity, orders: r.orders, fills: r.fills }, null, 2) + '\n');
    }
    if (asJson) process.stdout.write(JSON.stringify({ ...report, equitySvg: svgPath }, null, 2) + '\n');
    else process.stdout.write(summaryText(r, out ?? null, (Date.now() - t0) / 1000) + '\n');
    return 0;
  }

  // sweeps and folds: every run in the pool
  const base = strategy.params ?? {};
  const combos = sweepText ? sweepParams(base, parseSweep(sweepText)) : [base];
  const specFor = (params: Record<string, unknown>, window?: { from: number; to: number }): RunSpec => ({ ...spec, strategy: { ...strategy, params }, window });
  const tick = (what: string, total: number) => {
    const t1 = Date.now();
    return (_i: number, _r: LeanResult, done: number): void => {
      const el = (Date.now() - t1) / 1000;
      log(`backtest: ${what} run ${done}/${total} done · ${el.toFixed(1)} s · ETA ${((el / done) * (total - done)).toFixed(0)} s`);
    };
  };
  let doc: Record<string, unknown>;
  if (folds === undefined) {
    log(`backtest: sweep of ${combos.length} runs over ${Math.min(workers, combos.length)} workers`);
    const rs = await runParallel(combos.map((p) => specFor(p)), workers, tick('sweep', combos.length));
    const best = chooseBest(rs.map((r) => r.summary.sharpe));
    doc = { sweep: rs.map((r, i) => ({ params: combos[i], ...reportJson(r) })), best, bestBy: 'sharpe' };
    if (out) writeSweepSvgs(out, rs);
    if (!asJson) {
      const lines = rs.map((r, i) => `${i === best ? '*' : ' '} ${canonicalJson(combos[i])}  net ${fmt(r.summary.pnl.net)}  sharpe ${fmtN(r.summary.sharpe)}  trades ${r.summary.trades}  maxDD ${fmt(r.summary.maxDrawdown)}  ${r.resultHash.slice(0, 16)}`);
      process.stdout.write(`sweep: ${rs.length} runs (best by Sharpe: *)\n${lines.join('\n')}\n`);
    }
  } else {
    const total = countHistory(input, account);
    const wins = foldWindows(total, folds);
    const isSpecs = combos.length > 1 ? wins.flatMap((w) => combos.map((p) => specFor(p, w.inSample))) : [];
    log(`backtest: ${folds} walk-forward folds over ${total} historical commands${combos.length > 1 ? ` × ${combos.length} parameter sets` : ''}, ${workers} workers`);
    const isRes = isSpecs.length > 0 ? await runParallel(isSpecs, workers, tick('in-sample', isSpecs.length)) : [];
    const chosen = wins.map((_, k) => (combos.length > 1 ? chooseBest(isRes.slice(k * combos.length, (k + 1) * combos.length).map((r) => r.summary.sharpe)) : 0));
    const oos = await runParallel(wins.map((w, k) => specFor(combos[chosen[k]!]!, w.outOfSample)), workers, tick('out-of-sample', folds));
    const net = oos.reduce((a, r) => a + r.summary.pnl.net, 0);
    doc = {
      folds: wins.map((w, k) => ({
        fold: k + 1, inSample: w.inSample, outOfSample: w.outOfSample, params: combos[chosen[k]!],
        inSampleSharpe: combos.length > 1 ? isRes.slice(k * combos.length, (k + 1) * combos.length).map((r) => r.summary.sharpe) : null,
        ...reportJson(oos[k]!),
      })),
      outOfSample: { net, trades: oos.reduce((a, r) => a + r.summary.trades, 0), resultHashes: oos.map((r) => r.resultHash) },
    };
    if (out) writeSweepSvgs(out, oos);
    if (!asJson) {
      const lines = oos.map((r, k) => `fold ${k + 1}: train [${wins[k]!.inSample.from}, ${wins[k]!.inSample.to}) test [${wins[k]!.outOfSample.from}, ${wins[k]!.outOfSample.to})  params ${canonicalJson(combos[chosen[k]!])}  net ${fmt(r.summary.pnl.net)}  sharpe ${fmtN(r.summary.sharpe)}  trades ${r.summary.trades}  ${r.resultHash.slice(0, 16)}`);
      process.stdout.write(`walk-forward: ${folds} folds, out-of-sample net ${fmt(net)}\n${lines.join('\n')}\n`);
    }
  }
  if (out) { mkdirSync(out, { recursive: true }); writeFileSync(join(out, 'result.json'), JSON.stringify(doc, null, 2) + '\n'); }
  if (asJson) process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  return 0;
}

function writeSweepSvgs(out: string, rs: readonly LeanResult[]): void {
  mkdirSync(out, { recursive: true });
  rs.forEach((r, i) => writeFileSync(join(out, `equity-${i + 1}.svg`), equitySvg(r.equity, `run ${i + 1}: ${r.strategy.id} · net ${fmt(r.summary.pnl.net)} · ${r.resultHash.slice(0, 12)}`)));
}

/** The report object of --json and result.json (without the bulky rows). */
export function reportJson(r: LeanResult | BacktestResult): Record<string, unknown> {
  return { resultHash: r.resultHash, tradesHash: r.tradesHash, strategy: r.strategy, run: r.run, summary: r.summary, days: r.days };
}

const fmt = (x: number): string => (Math.round(x * 100) / 100).toLocaleString('en-US');
const fmtN = (x: number | null): string => (x === null ? '—' : x.toFixed(3));

export function summaryText(r: BacktestResult, out: string | null, seconds: number): string {
  const s = r.summary;
  const L: string[] = [];
  L.push(`backtest ${r.strategy.id} (${r.strategy.kind}, account ${r.strategy.account}) · ${r.run.input}`);
  L.push(`  latency ${r.run.latency} · ${r.run.commands.toLocaleString('en-US')} commands (${r.run.strategyCommands} the strategy's) · ${r.run.events.toLocaleString('en-US')} events in ${seconds.toFixed(2)} s (${(r.run.eventsPerSecond / 1e6).toFixed(2)} M events/s)`);
  L.push(`  simulated ${r.run.simStart ?? '—'} → ${r.run.simEnd ?? '—'} · strategy ${r.strategy.state}${r.strategy.why ? ` (${r.strategy.why})` : ''}${r.strategy.trips.length ? ` · breaker trips: ${r.strategy.trips.map((t) => t.reason).join(', ')}` : ''}`);
  L.push(`  P&L (ticks × lots): realised ${fmt(s.pnl.realised)} · unrealised ${fmt(s.pnl.unrealised)} · total ${fmt(s.pnl.total)} · fees ${fmt(s.pnl.fees)} · net ${fmt(s.pnl.net)}`);
  L.push(`  Sharpe ${fmtN(s.sharpe)} · Sortino ${fmtN(s.sortino)} (per ${s.sampling.barMs} ms bar, ${s.sampling.bars} bars, × √${s.sampling.periodsPerYear}) · max drawdown ${fmt(s.maxDrawdown)}`);
  L.push(`  orders ${s.orders.new} new · ${s.orders.cancel} cancels · ${s.orders.modify} modifies · ${s.orders.rejected} rejected · trades ${s.trades} · turnover ${s.turnover.lots.toLocaleString('en-US')} lots (${fmt(s.turnover.notional)}) · fill ratio ${(100 * s.fillRatio).toFixed(1)} %`);
  L.push(`  markouts (ticks, per fill): ${s.markouts.map((m) => `+${m.horizonMs / 1000} s ${m.avgTicks === null ? '—' : m.avgTicks.toFixed(3)} (${m.fills}${m.excluded ? `, ${m.excluded} left out` : ''})`).join(' · ')}`);
  if (Object.keys(s.positions).length) L.push(`  open positions: ${Object.entries(s.positions).map(([k, v]) => `${k} ${v}`).join(' · ')}`);
  if (r.days.length) {
    L.push('  day          net P&L        fees    fills       lots   orders');
    for (const d of r.days) L.push(`  ${d.day}  ${fmt(d.pnl).padStart(11)}  ${fmt(d.fees).padStart(10)}  ${String(d.fills).padStart(7)}  ${String(d.lots).padStart(9)}  ${String(d.orders).padStart(7)}`);
  }
  if (r.run.recorded) {
    const x = r.run.recorded;
    L.push(`  recorded: ${x.matched}/${x.slots} live slots matched · ${x.mismatched} differ · ${x.missed} missed · ${x.extra} extra · same orders and fills as live: ${x.hashMatches ? 'yes' : 'NO'} (live ${x.liveHash.slice(0, 16)})`);
  }
  L.push(`  resultHash ${r.resultHash}`);
  if (out) L.push(`  wrote ${join(out, 'result.json')} and ${join(out, 'equity.svg')}`);
  return L.join('\n');
}
