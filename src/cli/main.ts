#!/usr/bin/env node
/**
 * The `tradsys` command line: `replay`, `gen`, `demo`, `serve`, `keys`, `sql`, `backfill`, `strategy`, `backtest`, `bench`, `doctor`, `help`, `version`.
 *
 * Owns: argument parsing and exit codes (0 ok, 1 failure, 2 usage). Errors print one line
 * saying what is wrong and what to do; no stack traces for expected errors.
 * Allocation: CLI only, not on any hot path. Known limitations: flags take `--name value` or
 * `--name=value`.
 */
import { closeSync, openSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TradsysError } from '../domain/errors.js';
import { MIXES, generate, type Mix } from '../workload/generator.js';
import { writeOrderFile } from '../codec/tso.js';
import { formatSummary, replay } from './replay.js';
import { BENCH_USAGE, cmdBench } from './bench.js';
import { GEN_MARKET_FLAGS, SIM_MARKET_FLAGS, genMarketFlags, simMarketFlags } from './market-flags.js';
import { STRATEGY_USAGE, pnl } from './strategy.js';
import { FEED_USAGE } from './feed.js';
import { parseFlags as parse, type Flags } from './io.js';
import type { StpMode } from '../engine/engine.js';
import type { Permission } from '../gateway/auth.js';
import type { RecoveryInfo } from '../engine/host.js';
import type { Simulator } from '../sim/simulator.js';
// The commands that need the gateway, ClickHouse or the simulator load them when they run
// (`await import`): `replay` and `gen` start without fastify, ws and the storage clients
// (bench/README.md, "Engine start and whole-process replay").
import type { InstrumentSpec } from '../domain/instruments.js';
import type { StrategyConfig } from '../strategies/api.js';

const USAGE = `tradsys — WebAssembly matching engine and trading platform

usage:
  tradsys replay --symbols N --in FILE.tso|FILE.csv [--events OUT.csv|-] [--book BOOK.csv|-]
                 [--capacity ORDERS] [--stp none|cancel_resting|cancel_incoming|cancel_both] [--quiet]
  tradsys gen --out FILE.tso|FILE.csv [--count N] [--symbols N] [--seed N]
              [--mix ${MIXES.join('|')}] [--bad-rate R]
              [--market walk|cointegrated (default walk: independent ±1-tick mids; cointegrated:
               a common random-walk factor per group plus a mean-reverting spread per symbol,
               one step per command; not for the flash-* mixes; docs/strategies.md)]
              [--groups "0,1;2,3" (default consecutive pairs)] [--factor-vol-bp X (default 0.3
               per command)] [--half-life COMMANDS (default 2000)] [--spread-sd-bp X (default 20)]
              [--betas B0,B1,… (one per symbol, default 1)]
  tradsys demo [--symbols N] [--count N] [--seed N] [--mix NAME]
  tradsys serve [--port N] [--host ADDR] [--data DIR] [--instruments FILE.json] [--no-sim]
                [--sim-market cointegrated|walk (default cointegrated: the simulator's fair values
                 share a random-walk factor per group and revert to it, so pairs are cointegrated;
                 walk: independent ±1-tick walks; docs/strategies.md "Simulated market")]
                [--sim-groups "BTC-USD,ETH-USD,SOL-USD;AAPL,MSFT" (names or indices; default:
                 those two groups on the built-in instruments, else consecutive pairs)]
                [--sim-factor-vol-bp X (per √s, default 8)] [--sim-half-life-s S (default 2)]
                [--sim-spread-sd-bp X (default 4)] [--sim-betas ETH-USD=1.2,SOL-USD=1.5 (loadings on
                 the group factor; default: those and MSFT=1.1 on the built-in groups, else 1)]
                [--rate-limit MSGS_PER_SECOND_PER_CONNECTION (default 500)]
                [--max-open-orders N_PER_ACCOUNT (default 10000; 0 = none)]
                [--http-rate-limit REQUESTS_PER_SECOND_PER_API_KEY (default 100; bursts of 2×)]
                [--durability fsync|none (default fsync)] [--snapshot-every COMMANDS (default 1000000)]
                [--limiter on|off (adaptive concurrency on new orders: over the limit they are
                 answered overloaded; default off: measured only)] [--limiter-min N (default 64)] [--limiter-max N
                 (default 4096)] [--limiter-min-queue-us US (default 50)] [--limiter-tolerance X
                 (default 2); docs/operations.md "Adaptive concurrency"]
                [--preallocate (journal segments zero-filled ahead by a background thread: lower
                 median ack latency, every segment written twice; see docs/journal.md)]
                [--engine-rt N (the engine thread runs SCHED_FIFO at priority N, 1..99, so that it
                 runs as soon as the journal's fdatasync returns; for a machine with a core to
                 spare; needs root or CAP_SYS_NICE, else it keeps normal scheduling and says so;
                 default 0 = normal scheduling; see docs/journal.md)]
                [--no-storage (no ClickHouse; default: CLICKHOUSE_URL, else embedded chDB)]
                [--binary-frame-bytes N (binary protocol: send a connection's frame once it
                 reaches N bytes; default 32768; 1 = one message per frame, for benchmarks)]
                [--log-file-bytes N (DIR/logs/tradsys.log is rotated before it passes N bytes;
                 default 10485760)] [--log-files N (older log files kept; default 5)]
                [--strategies FILE.json (strategies created and started at boot: a JSON array of
                 {"id","kind","account","symbols",["params","priority","limits",…]}; docs/strategies.md;
                 default with the simulator: the demo strategies of src/strategies/demo.ts)]
                [--strategy-workers N (strategy worker threads; default cores - 1, at least 1, at most 8)]
                [--strategy-modules A.js,B.js (ES modules exporting \`strategies\`, an array of
                 StrategyDefinition: your own strategy kinds beside the built-in ones)]
                [--no-strategies (no strategy workers; the strategy API answers 503)]
                [--alerts FILE.json (alert rules and webhooks; default: the built-in rules;
                 docs/operations.md "Alerts")] [--test-hooks (tests only: an admin route that
                 slows the engine down, for alert tests)]
                [--latency-tracking on|off (per-stage latency histograms on /metrics and
                 /api/v1/latency; default on; docs/monitoring.md "Latency stages")]
                [--cpus PLAN (pin threads to CPUs, e.g. engine=2,gateway=0,strategies=1,3 or
                 strategies=1-3: the engine thread, the gateway (main thread), strategy worker i on
                 the i-th strategies CPU; the engine's memory bound to its CPU's NUMA node; read
                 back from /proc into the banner and GET /api/v1/system; docs/native.md)]
  tradsys keys create --account A [--permissions trade,read,admin,analyst] [--data DIR] [--json]
  tradsys keys list [--data DIR] [--json]
  tradsys keys revoke --key KEY [--data DIR]
              (DIR/keys.json, default data/; a running server applies changes within a second)
  tradsys backfill [--data DIR] [--from SEQ] [--instruments FILE.json] [--quiet]   (journal → ClickHouse, exactly once)
  tradsys sql [--data DIR] [--format table|csv|json] [--param name=value …] "SELECT …"
              (read-only, sandboxed; through the running server that holds DIR (DIR/server.json),
               else the embedded store in DIR/clickhouse (default ./data; never created),
               or the ClickHouse server at CLICKHOUSE_URL)
${STRATEGY_USAGE}
${BENCH_USAGE}
${FEED_USAGE}
  tradsys backtest --strategy KIND [--params JSON] [--module FILE.js] [--id ID] [--account A (default 900000)]
                   [--trade SYM,SYM (the strategy's symbols; default all)] [--limits JSON (breakers)]
                   (--in FILE.tso|FILE.csv [--symbols N (default 8)] [--rate COMMANDS_PER_S (default 100000)] [--start T]
                    | --journal DIR | --from T --to T [--data DIR] [--symbols N])
                   [--instruments FILE.json] [--latency-us N (default 50) | --latency constant|journal|recorded
                    [--latency-journal DIR] [--latency-seed N]] [--fees FILE.json] [--velocity JSON] [--bar-ms N (default 1000)]
                   [--risk on|off] [--max-open-orders N] [--capacity ORDERS] [--stp MODE] [--sweep 'p=a,b;q=x,y'] [--folds K] [--workers N]
                   [--json] [--out DIR] [--quiet]
              (replays history through the engine and the strategy; --out DIR writes result.json and equity.svg)
  tradsys doctor [--json]   (native features: what this machine has and which path runs; docs/native.md)
  tradsys help | version

replay runs an order stream through the engine: events (A/R/T/X/M lines) to --events, the final
book to --book, and a summary (commands, events by type, wall time, commands/s) on stderr.`;


function str(f: Flags, name: string): string | undefined {
  const v = f.get(name);
  return typeof v === 'string' ? v : undefined;
}

function int(f: Flags, name: string, dflt: number | undefined, lo: number, hi: number): number | undefined {
  const v = str(f, name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) throw new TradsysError('ERR_CLI_USAGE', `--${name} must be an integer in [${lo}, ${hi}], got "${v}"`);
  return Number(v);
}

const STP_MODES = ['none', 'cancel_resting', 'cancel_incoming', 'cancel_both'];

function cmdReplay(argv: string[]): number {
  const f = parse(argv, { symbols: 'value', in: 'value', events: 'value', book: 'value', capacity: 'value', stp: 'value', quiet: 'bool' });
  const symbols = int(f, 'symbols', undefined, 1, 1 << 20);
  const input = str(f, 'in');
  if (symbols === undefined) throw new TradsysError('ERR_CLI_USAGE', 'replay needs --symbols N (symbols 0..N-1 exist)');
  if (!input) throw new TradsysError('ERR_CLI_USAGE', 'replay needs --in FILE.tso|FILE.csv');
  const stp = str(f, 'stp') ?? 'none';
  if (!STP_MODES.includes(stp)) throw new TradsysError('ERR_CLI_USAGE', `--stp must be one of ${STP_MODES.join(', ')}`);
  const quiet = f.has('quiet');
  const s = replay({
    symbols, input, events: str(f, 'events') ?? null, book: str(f, 'book') ?? null,
    capacity: int(f, 'capacity', undefined, 1, 1 << 24) ?? null, stp: stp as StpMode,
    progress: quiet ? undefined : (l) => process.stderr.write(l + '\n'),
  });
  if (!quiet) process.stderr.write(formatSummary(s, input) + '\n');
  return 0;
}

function cmdGen(argv: string[]): number {
  const f = parse(argv, { out: 'value', count: 'value', symbols: 'value', seed: 'value', mix: 'value', 'bad-rate': 'value', ...GEN_MARKET_FLAGS });
  const out = str(f, 'out');
  if (!out) throw new TradsysError('ERR_CLI_USAGE', 'gen needs --out FILE.tso|FILE.csv');
  const count = int(f, 'count', 1_000_000, 0, 100_000_000)!;
  const symbols = int(f, 'symbols', 8, 1, 1 << 20)!;
  const seed = int(f, 'seed', 1, 0, 0xffffffff)!;
  const mix = (str(f, 'mix') ?? 'default') as Mix;
  if (!MIXES.includes(mix)) throw new TradsysError('ERR_CLI_USAGE', `--mix must be one of ${MIXES.join(', ')}`);
  const br = str(f, 'bad-rate');
  const badRate = br === undefined ? 0.001 : Number(br);
  if (!Number.isFinite(badRate) || badRate < 0 || badRate > 1) throw new TradsysError('ERR_CLI_USAGE', `--bad-rate must be a number in [0, 1], got "${br}"`);
  const mk = genMarketFlags((n) => str(f, n));
  if (mk.market === 'cointegrated' && mix.startsWith('flash-')) throw new TradsysError('ERR_CLI_USAGE', `--market cointegrated does not apply to the ${mix} mix (it has its own price path on one symbol)`);
  const t0 = Date.now();
  const recs = generate({ count, symbols, seed, mix, badRate, market: mk.market, cointegration: mk.cointegration });
  let fd: number;
  try { fd = openSync(out, 'w'); } catch (e) { throw new TradsysError('ERR_IO', `cannot write ${out}: ${(e as Error).message}`); }
  try { writeOrderFile(fd, recs, count, out.toLowerCase().endsWith('.csv')); } finally { closeSync(fd); }
  process.stderr.write(`gen: ${count.toLocaleString('en-US')} commands (mix ${mix}, ${symbols} symbols, seed ${seed}, bad-rate ${badRate}${mk.market === 'cointegrated' ? ', cointegrated market' : ''}) → ${out} in ${((Date.now() - t0) / 1000).toFixed(2)} s\n`);
  return 0;
}

async function cmdDemo(argv: string[]): Promise<number> {
  const f = parse(argv, { symbols: 'value', count: 'value', seed: 'value', mix: 'value' });
  const mix = (str(f, 'mix') ?? 'default') as Mix;
  if (!MIXES.includes(mix)) throw new TradsysError('ERR_CLI_USAGE', `--mix must be one of ${MIXES.join(', ')}`);
  const { runDemo } = await import('./demo.js');
  await runDemo({
    symbols: int(f, 'symbols', 8, 1, 100_000)!, count: int(f, 'count', 2_000_000, 1, 50_000_000)!,
    seed: int(f, 'seed', 42, 0, 0xffffffff)!, mix, out: (l) => process.stdout.write(l + '\n'),
  });
  return 0;
}

async function cmdKeys(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const f = parse(rest, { account: 'value', permissions: 'value', data: 'value', json: 'bool', key: 'value' });
  const { KeyStore } = await import('../gateway/auth.js');
  const store = new KeyStore(str(f, 'data') ?? 'data');
  const json = f.has('json');
  if (sub === 'create') {
    const account = int(f, 'account', undefined, 1, 0xffffffff);
    if (account === undefined) throw new TradsysError('ERR_CLI_USAGE', 'keys create needs --account A');
    const perms = (str(f, 'permissions') ?? 'trade,read').split(',').map((p) => p.trim()).filter(Boolean) as Permission[];
    const k = store.create(account, perms);
    if (json) process.stdout.write(JSON.stringify({ account: k.account, key: k.key, secret: k.secret }) + '\n');
    else process.stdout.write(`account ${k.account}\nkey     ${k.key}\nsecret  ${k.secret}\npermissions ${k.permissions.join(',')}\n(stored in ${store.path}; the secret is not shown again; a server running on this data folder accepts it within a second)\n`);
    return 0;
  }
  if (sub === 'list') {
    const keys = store.list();
    if (json) process.stdout.write(JSON.stringify(keys) + '\n');
    else for (const k of keys) process.stdout.write(`${k.key}  account ${k.account}  ${k.permissions.join(',')}  created ${k.created}${k.revoked ? `  revoked ${k.revoked}` : ''}\n`);
    return 0;
  }
  if (sub === 'revoke') {
    const key = str(f, 'key');
    if (!key) throw new TradsysError('ERR_CLI_USAGE', 'keys revoke needs --key KEY');
    if (!store.revoke(key)) throw new TradsysError('ERR_CLI_USAGE', `no active key ${key} in ${store.path}`);
    process.stdout.write(`revoked ${key} (a server running on ${store.dataDir} refuses it and closes its sessions within a second)\n`);
    return 0;
  }
  throw new TradsysError('ERR_CLI_USAGE', `keys: unknown subcommand ${sub === undefined ? '(none)' : `"${sub}"`} (create, list, revoke)`);
}

/**
 * The banner's journal clause. `seconds` covers the whole start of the engine thread (creating the
 * engine, loading a snapshot, replaying), so an empty journal says "nothing to replay" and the time
 * the engine took to be ready, never "0 replayed in N s".
 */
export function recoveryText(rec: RecoveryInfo | null): string {
  const ready = `engine ready in ${(rec?.seconds ?? 0).toFixed(2)} s`;
  const cut = rec?.cut ? `, torn tail of ${rec.cut.bytes} bytes cut at ${rec.cut.file}:${rec.cut.offset}` : '';
  if (!rec || rec.lastSeq === 0) return `empty journal, nothing to replay (${ready}${cut})`;
  const from = rec.snapshotSeq > 0 ? `snapshot at seq ${rec.snapshotSeq} + ${rec.replayed} commands replayed` : `${rec.replayed} commands replayed`;
  return `recovered through seq ${rec.lastSeq} (${from}; ${ready}${cut})`;
}

async function cmdServe(argv: string[]): Promise<number> {
  const f = parse(argv, { port: 'value', host: 'value', data: 'value', instruments: 'value', 'no-sim': 'bool', 'rate-limit': 'value', 'max-open-orders': 'value', 'http-rate-limit': 'value', durability: 'value', 'snapshot-every': 'value', preallocate: 'bool', 'no-storage': 'bool', 'binary-frame-bytes': 'value', 'engine-rt': 'value', 'log-file-bytes': 'value', 'log-files': 'value', strategies: 'value', 'strategy-workers': 'value', 'strategy-modules': 'value', 'no-strategies': 'bool', limiter: 'value', 'limiter-min': 'value', 'limiter-max': 'value', 'limiter-min-queue-us': 'value', 'limiter-tolerance': 'value', alerts: 'value', 'test-hooks': 'bool', 'latency-tracking': 'value', cpus: 'value', ...SIM_MARKET_FLAGS });
  const cpuPlan = str(f, 'cpus') === undefined ? undefined : (await import('../sys/placement.js')).planForThisMachine(str(f, 'cpus')!);
  const simMarket = simMarketFlags((n) => str(f, n));
  if (f.has('no-sim') && Object.keys(SIM_MARKET_FLAGS).some((n) => f.has(n))) throw new TradsysError('ERR_CLI_USAGE', '--sim-* options need the simulator (drop --no-sim)');
  const durability = str(f, 'durability') ?? 'fsync';
  if (durability !== 'fsync' && durability !== 'none') throw new TradsysError('ERR_CLI_USAGE', `--durability must be fsync or none, got ${durability}`);
  const snapshotEvery = int(f, 'snapshot-every', 1_000_000, 0, 2 ** 40)!;
  const rate = int(f, 'rate-limit', 500, 1, 10_000_000)!;
  const maxOpen = int(f, 'max-open-orders', 10_000, 0, 0xffffffff)!;
  const httpRate = int(f, 'http-rate-limit', 100, 1, 10_000_000)!;
  const binaryFrameBytes = int(f, 'binary-frame-bytes', 32 * 1024, 1, 16 << 20)!;
  const engineRt = int(f, 'engine-rt', 0, 0, 99)!;
  const latencyTracking = str(f, 'latency-tracking') ?? 'on';
  if (latencyTracking !== 'on' && latencyTracking !== 'off') throw new TradsysError('ERR_CLI_USAGE', `--latency-tracking must be on or off, got ${latencyTracking}`);
  const logFileBytes = int(f, 'log-file-bytes', 10 << 20, 4096, 2 ** 40)!;
  const logFiles = int(f, 'log-files', 5, 0, 100)!;
  const limiterOn = str(f, 'limiter') ?? 'off';
  if (limiterOn !== 'on' && limiterOn !== 'off') throw new TradsysError('ERR_CLI_USAGE', `--limiter must be on or off, got ${limiterOn}`);
  const limiterMin = int(f, 'limiter-min', 64, 1, 1 << 24)!;
  const limiterMax = int(f, 'limiter-max', 4096, 1, 1 << 24)!;
  const limiterMinQueueUs = int(f, 'limiter-min-queue-us', 50, 0, 10_000_000)!;
  const limiterTolerance = Number(str(f, 'limiter-tolerance') ?? '2');
  const limiter = {
    enabled: limiterOn === 'on', minLimit: limiterMin, maxLimit: limiterMax, initialLimit: Math.min(Math.max(1024, limiterMin), limiterMax),
    minQueueUs: limiterMinQueueUs, tolerance: limiterTolerance,
  };
  const port = int(f, 'port', 8080, 0, 65535)!;
  const host = str(f, 'host') ?? '127.0.0.1';
  const dataDir = str(f, 'data') ?? 'data';
  const alertsFile = str(f, 'alerts');
  const alerts = alertsFile === undefined ? undefined : (await import('../monitoring/alerts.js')).loadAlertsFile(alertsFile);
  let instruments: InstrumentSpec[] | undefined;
  const file = str(f, 'instruments');
  if (file) {
    try { instruments = JSON.parse(readFileSync(file, 'utf8')) as InstrumentSpec[]; } catch (e) { throw new TradsysError('ERR_INSTRUMENT_SPEC', `cannot read instruments from ${file}: ${(e as Error).message}`); }
  }
  // strategies: a file's, else the demo's with the simulator; --no-strategies: no workers at all
  const strategiesFile = str(f, 'strategies');
  const noStrategies = f.has('no-strategies');
  if (noStrategies && (strategiesFile !== undefined || f.has('strategy-workers') || f.has('strategy-modules'))) throw new TradsysError('ERR_CLI_USAGE', '--no-strategies cannot go with --strategies, --strategy-workers or --strategy-modules');
  if (noStrategies && cpuPlan?.strategies) throw new TradsysError('ERR_CLI_USAGE', `--cpus "${cpuPlan.text}" places strategy workers, but --no-strategies runs none`);
  const strategyModules = str(f, 'strategy-modules')?.split(',').map((m) => m.trim()).filter(Boolean);
  const strategyWorkers = int(f, 'strategy-workers', undefined, 1, 15);
  const [{ start }, { Simulator, simCointegratedMarket }, { simdSupported }, { parseStrategiesFile }, { demoStrategies }, { loadInstruments, DEMO_INSTRUMENTS }] = await Promise.all([
    import('../main.js'), import('../sim/simulator.js'), import('../engine/index.js'), import('../strategies/config-file.js'), import('../strategies/demo.js'), import('../domain/instruments.js'),
  ]);
  let strategyConfigs: StrategyConfig[] = [];
  let demoSkipped: string[] = [];
  if (strategiesFile !== undefined) {
    let text: string;
    try { text = readFileSync(strategiesFile, 'utf8'); } catch (e) { throw new TradsysError('ERR_STRATEGY_CONFIG', `cannot read strategies from ${strategiesFile}: ${(e as Error).message}`); }
    strategyConfigs = parseStrategiesFile(text, strategiesFile);
  } else if (!noStrategies && !f.has('no-sim')) {
    const d = demoStrategies(loadInstruments(instruments ?? DEMO_INSTRUMENTS).map((i) => i.symbol));
    strategyConfigs = d.run;
    demoSkipped = d.skipped;
  }
  // the simulator's market is checked against the instruments before the server starts
  if (!f.has('no-sim') && simMarket.market === 'cointegrated') simCointegratedMarket(loadInstruments(instruments ?? DEMO_INSTRUMENTS), 20, simMarket.cointegration);
  // the feature probes (doctor's) run beside the start-up; their summary goes into the banner
  const { runProbes, probeSummary } = await import('../sys/probes.js');
  const probes = runProbes();
  const { app: gw, url } = await start({
    dataDir, instruments, rateLimit: { perSecond: rate, burst: 2 * rate }, httpRateLimit: { perSecond: httpRate, burst: 2 * httpRate },
    risk: { maxOpenOrders: maxOpen }, journal: { durability, snapshotEvery, preallocate: f.has('preallocate') }, log: (l) => process.stderr.write(l + '\n'),
    storage: f.has('no-storage') ? 'off' : 'auto', binaryFrameBytes, engineRealtime: engineRt === 0 ? undefined : engineRt,
    logs: { fileBytes: logFileBytes, files: logFiles }, limiter, monitoring: { alerts }, testHooks: f.has('test-hooks'), latencyTracking: latencyTracking === 'on',
    strategies: noStrategies ? undefined : { workers: strategyWorkers, configs: strategyConfigs, modules: strategyModules }, cpus: cpuPlan,
  }, { port, host });
  const demo = gw.keys.create(1, ['trade', 'read']);
  const out = (l: string): void => { process.stdout.write(l + '\n'); };
  out(`TradSys ${version()} listening on ${url}`);
  out(`  dashboard: ${url.replace('://0.0.0.0:', '://127.0.0.1:').replace('://[::]:', '://[::1]:')}/   (open it in a browser: live market, trading, strategies, latency; docs/dashboard.md)`);
  out(`  HTTP      ${url}/api/v1/symbols · ${url}/api/v1/book/BTC-USD · ${url}/health · ${url}/metrics · ${url}/api/v1/latency`);
  out(`  WebSocket ${url.replace('http', 'ws')}/ws   (protocol: docs/protocol.md)`);
  const sched = gw.host.threadScheduling;
  out(`  engine    WASM (SIMD128 ${simdSupported() ? 'on' : 'off'}) on its own thread (${!sched ? 'normal scheduling' : sched.applied ? `real-time: SCHED_FIFO ${sched.rtPriority}` : `normal scheduling — SCHED_FIFO ${sched.requested} not set: ${sched.reason}`}) · ${gw.instruments.length} symbols: ${gw.instruments.map((i) => i.symbol).join(', ')}`);
  out(`  intake    adaptive concurrency ${limiterOn === 'on' ? `on: new orders over the limit (${limiterMin}..${limiterMax} in flight, from engine queue time) are answered overloaded` : 'off (measured, nothing shed)'} (docs/operations.md "Adaptive concurrency")`);
  out(`  risk      pre-trade checks in the engine thread · ${maxOpen ? `${maxOpen} open orders per account` : 'no open-order limit'} · per-symbol limits in /api/v1/symbols`);
  const rec = gw.host.recovery;
  out(`  journal   ${join(dataDir, 'journal')} · durability ${durability}${durability === 'fsync' ? ' (each batch fdatasync\'ed before its acks)' : ''}${f.has('preallocate') && durability === 'fsync' ? ' · segments preallocated' : ''} · ${recoveryText(rec)}`);
  if (durability === 'none') out('  WARNING   --durability none: acknowledged orders are NOT on disk and can be lost on a crash. Benchmarks only.');
  const st = gw.storage?.storage;
  out(st
    ? `  storage   ClickHouse ${st.features?.version ?? '?'} · ${st.backend === 'chdb' ? `embedded chDB in ${join(dataDir, 'clickhouse')}` : `server ${process.env.CLICKHOUSE_URL ?? ''}`} · trades, order events, quotes, bars (docs/schema.md; \`npx tradsys sql "SELECT …"\`)`
    : '  storage   ClickHouse: off (--no-storage)');
  if (st && st.backend === 'server' && !process.env.CLICKHOUSE_ANALYST_USER) {
    out('  WARNING   analysts\' SQL runs as the main ClickHouse user (readonly=1), so only the SQL sandbox keeps it out of other databases:');
    out('            create a read-only analyst user limited to this database and set CLICKHOUSE_ANALYST_USER/CLICKHOUSE_ANALYST_PASSWORD (docs/security.md, "SQL sandbox")');
  }
  if (st) out(`  analysts  ${url}/clickhouse (ClickHouse HTTP interface: user = API key with the analyst permission, password = its secret) · \`npx tradsys sql --data ${dataDir} "SELECT …"\` goes through this server`);
  out(`  data      ${dataDir} (API keys in ${gw.keys.path}, changes applied live)`);
  out(`  alerts    ${alerts ? `${alerts.rules.length} rules from ${alertsFile}${alerts.webhooks.length ? ` · ${alerts.webhooks.length} webhook(s)` : ''}` : 'the default rules (--alerts FILE.json for your own)'} · ${url}/api/v1/alerts (admin) · WS channel "alerts" (admin) · docs/operations.md "Alerts"`);
  if (f.has('test-hooks')) out('  WARNING   --test-hooks: POST /api/v1/admin/test/engine-delay can slow the engine down. Tests only.');
  out(`  log       JSON lines (audit events, errors) to stderr and ${join(dataDir, 'logs', 'tradsys.log')} · rotated at ${logFileBytes} bytes, ${logFiles} older files kept (docs/security.md)`);
  gw.placement.features = await probes;
  out(`  accel     ${probeSummary(gw.placement.features)} (\`tradsys doctor\` for details)`);
  for (const l of gw.placement.bannerLines()) out(`  ${l}`);
  const strat = gw.strategies;
  if (strat === null) out('  strategies off (--no-strategies)');
  else {
    const list = strat.list();
    const names = list.map((x) => `${x.id} (${x.kind} on ${x.symbols.join('/')}, account ${x.account}, ${x.state})`).join(', ');
    out(`  strategies ${list.length} on ${strat.workers} worker thread${strat.workers === 1 ? '' : 's'}${list.length ? `: ${names}` : ''}${strategiesFile ? ` · from ${strategiesFile}` : list.length ? ' · the demo (src/strategies/demo.ts; --strategies FILE.json for your own, --no-strategies for none)' : ''}`);
    if (demoSkipped.length > 0) out(`            demo strategies not run: ${demoSkipped.join(', ')}`);
    out(`            see them: GET ${url}/api/v1/strategies or \`npx tradsys strategy list --url ${url} --key K --secret S\` (a key with admin: \`npx tradsys keys create --account 1 --permissions admin,read --data ${dataDir}\`) · ${url}/metrics (tradsys_strategy_*) · WS channel "strategies" (docs/strategies.md)`);
  }
  out(`  demo key  account ${demo.account}  key ${demo.key}  secret ${demo.secret}`);
  let sim: Simulator | null = null;
  if (!f.has('no-sim')) {
    try {
      sim = new Simulator(gw, { market: simMarket.market, cointegration: simMarket.cointegration });
    } catch (e) {
      await gw.close(); // e.g. --sim-groups names a symbol the instruments do not have
      throw e;
    }
    sim.start();
    out(`  market simulator: on (20 simulated participants; ${sim.marketKind === 'cointegrated' ? 'cointegrated market: pairs within each group share a random-walk factor (--sim-market walk for independent walks)' : 'independent random walks'}; --no-sim to turn it off)`);
  }
  // boot strategies trading: one line each every 30 s (what they do, without an API key)
  const statusTimer = strat !== null && strat.list().length > 0 ? setInterval(() => {
    for (const x of strat.list()) {
      const pos = Object.entries(x.position).filter(([, q]) => q !== 0).map(([sym, q]) => `${sym} ${q}`).join(', ') || 'flat';
      out(`  strategy ${x.id}: ${x.state} · orders ${x.orders} · fills ${x.fills} · position ${pos} · P&L ${pnl(x.realisedPnl + x.unrealisedPnl)} ticks×lots · breaker ${x.breaker.state}`);
    }
  }, 30_000) : null;
  statusTimer?.unref();
  // the handlers are in place before the line that says so (a SIGTERM right after it stops cleanly)
  const stopped = new Promise<void>((resolve) => {
    const stop = (sig: string): void => {
      out(`\n${sig}: stopping…`);
      if (statusTimer) clearInterval(statusTimer);
      sim?.stop();
      gw.close().then(() => { out('stopped cleanly'); resolve(); }, () => resolve());
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  out('Ctrl-C stops the server.');
  await stopped;
  return 0;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** Whether `e` (or an error it wraps) is a closed pipe. */
export function isEpipe(e: unknown): boolean {
  for (let x = e, i = 0; x instanceof Error && i < 8; x = x.cause, i++) {
    if ((x as NodeJS.ErrnoException).code === 'EPIPE') return true;
  }
  return false;
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'replay': return cmdReplay(rest);
      case 'gen': return cmdGen(rest);
      case 'demo': return await cmdDemo(rest);
      case 'keys': return await cmdKeys(rest);
      case 'serve': return await cmdServe(rest);
      case 'sql': return await (await import('./sql.js')).cmdSql(rest);
      case 'backfill': return await (await import('./backfill.js')).cmdBackfill(rest);
      case 'bench': return cmdBench(rest);
      case 'backtest': return await (await import('./backtest.js')).cmdBacktest(rest);
      case 'strategy': return await (await import('./strategy.js')).cmdStrategy(rest);
      case 'doctor': return await (await import('./doctor.js')).cmdDoctor(rest);
      case 'feed': return await (await import('./feed.js')).cmdFeed(rest);
      case 'version': case '--version': process.stdout.write(`tradsys ${version()}\n`); return 0;
      case undefined: case 'help': case '--help': case '-h': process.stdout.write(USAGE + '\n'); return 0;
      default: throw new TradsysError('ERR_CLI_USAGE', `unknown command "${cmd}"`);
    }
  } catch (e) {
    if (isEpipe(e)) return 0; // the reader closed the pipe (`… --events - | head`): nothing left to do
    if (e instanceof TradsysError) {
      process.stderr.write(`tradsys: ${e.message}\n`);
      if (e.code === 'ERR_CLI_USAGE') { process.stderr.write('run `tradsys help` for usage\n'); return 2; }
      return 1;
    }
    throw e;
  }
}

function invokedDirectly(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  // asynchronous writes to a closed pipe surface here; they are dropped like the synchronous ones
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code !== 'EPIPE') throw e; });
  void main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
