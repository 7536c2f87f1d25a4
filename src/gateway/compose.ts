/**
 * The gateway's composition: starts the engine host (and the storage writer when storage is on),
 * builds each service with its dependencies, catches the read side up from the journal, resumes
 * the sagas, builds the fastify app with the services decorated once at the root and one plugin
 * per context, and attaches the WebSocket endpoint. No behaviour of its own: wiring, start order
 * and stop order.
 *
 * Layout (the dependency rule, .dependency-cruiser.cjs): plugins (http/, ws/) → services
 * (order-entry, connections, market-data, event-pump, catch-up, read-model-store, sim-hooks,
 * storage-api) → engine host. Only this file and gateway.ts (the facade) see both sides.
 * Invariants: the read side is caught up before any client can connect (the app is not
 * listening yet); a failure after the engine thread started stops it again.
 * Start order: engine host → storage → services → journal catch-up → sagas → strategy service
 * (worker pool) → metrics and monitoring → fastify → timers → boot strategies.
 * Stop order (close): keys watch, monitoring (alert timer, GC observer, webhooks), discovery file,
 * pump timer, heartbeat, connections, HTTP, strategies (their orders cancelled, workers stopped),
 * read-model timer, last pump, read-model snapshot, sagas, storage, engine host, log file.
 * Complexity: start O(journal); stop O(connections). Allocation: at start only.
 * Known limitations: none.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { join } from 'node:path';
import { SagaManager, systemClock, type ReadModels } from '../cqrs/index.js';
import { EngineHost } from '../engine/host.js';
import { useWasmJournalVerifier } from '../engine/journal-verifier.js';
import { DEMO_INSTRUMENTS, loadInstruments, type Instrument } from '../domain/instruments.js';
import { BookProjection } from '../marketdata/book-projection.js';
import { GradientLimiter } from '../monitoring/limiter.js';
import { openStorage } from '../storage/open.js';
import { StorageWriter } from '../storage/writer.js';
import { localUrl, newLocalSecret, removeDiscovery, writeDiscovery } from '../storage/discovery.js';
import type { Storage } from '../storage/storage.js';
import { KeyStore } from './auth.js';
import { createLogger } from './audit-log.js';
import { CatchUp } from './catch-up.js';
import { newCounters, resolveLimits, type GatewayConfig, type GatewayCounters } from './config.js';
import { Connections } from './connections.js';
import { EventPump } from './event-pump.js';
import { MarketData } from './market-data.js';
import { startMonitoring } from './monitoring.js';
import { OrderEntry } from './order-entry.js';
import { OrderRegistry } from './orders.js';
import { ReadModelStore } from './read-model-store.js';
import { SimulatorHooks } from './sim-hooks.js';
import { createStorageApi } from './storage-api.js';
import { adminPlugin } from './http/admin.js';
import { alertsPlugin } from './http/alerts.js';
import { authPlugin } from './http/auth.js';
import { currentReadsPlugin, type GatewayServices } from './http/context.js';
import { dashboardPlugin } from './http/dashboard.js';
import { healthPlugin } from './http/health.js';
import { marketDataPlugin } from './http/market-data.js';
import { ordersPlugin } from './http/orders.js';
import { queriesPlugin } from './http/queries.js';
import { sagasPlugin } from './http/sagas.js';
import { strategiesPlugin } from './http/strategies.js';
import { StrategyService } from '../strategies/service.js';
import { WsServer } from './ws/server.js';
import { LatencyMonitor, PublishStamps } from '../monitoring/latency.js';
import { Metrics, type MetricSeries } from '../monitoring/metrics.js';
import { GatewayStamps, NULL_STAMPS } from '../monitoring/stamps.js';
import { SystemPlacement } from '../sys/placement.js';
import { readTopology } from '../sys/topology.js';
import { pinOwnThread } from '../sys/affinity.js';
import { strategyWorkerCpus } from '../sys/cpu-plan.js';

/** The gateway's and engine's series on /metrics (names and types as before prom-client; docs/operations.md "Metrics"). */
function gatewaySeries(host: EngineHost, conns: Connections, c: GatewayCounters): MetricSeries[] {
  return [
    { name: 'tradsys_engine_seq', type: 'counter', help: 'commands the engine has sequenced (its last seq)', value: () => host.lastSeq },
    { name: 'tradsys_ws_connections', type: 'gauge', help: 'WebSocket connections open now', value: () => conns.size },
    { name: 'tradsys_orders_in_total', type: 'counter', help: 'new orders entered by the gateway (WebSocket and HTTP)', value: () => c.ordersIn },
    { name: 'tradsys_events_total', type: 'counter', help: 'engine events the gateway took from the event ring', value: () => c.eventsOut },
    { name: 'tradsys_gateway_rejects_total', type: 'counter', help: 'commands the gateway refused before the engine (bad input, busy ring)', value: () => c.rejectsGateway },
    { name: 'tradsys_ws_frames_out_total', type: 'counter', help: 'WebSocket frames sent', value: () => c.framesOut },
    { name: 'tradsys_ws_messages_in_total', type: 'counter', help: 'WebSocket messages received', value: () => c.messagesIn },
    { name: 'tradsys_ws_slow_consumer_closed_total', type: 'counter', help: 'connections closed as slow consumers (outbound buffer past its hard limit)', value: () => c.slowConsumerClosed },
    { name: 'tradsys_ws_reaped_total', type: 'counter', help: 'connections closed after missing pings (dead peers)', value: () => c.reaped },
  ];
}

/** The adaptive limiter's figures (docs/monitoring.md "Adaptive concurrency limiter metrics"): one `metrics()` snapshot per scrape. */
function limiterSeries(limiter: GradientLimiter): MetricSeries[] {
  let at = -Infinity;
  let snap = limiter.metrics();
  const m = (): ReturnType<GradientLimiter['metrics']> => { const now = performance.now(); if (now - at > 100) { snap = limiter.metrics(); at = now; } return snap; };
  const g = (name: string, help: string, value: () => number): MetricSeries => ({ name, type: 'gauge', help, value });
  const n = (v: number | null): number => v ?? Number.NaN;
  return [
    g('tradsys_limiter_limit', 'the enforced limit: new orders in flight (admitted, not yet taken by the engine)', () => m().limit),
    g('tradsys_limiter_inflight', 'new orders in flight now', () => m().inflight),
    { name: 'tradsys_limiter_admitted_total', type: 'counter', help: 'new orders admitted since start', value: () => m().admitted },
    { name: 'tradsys_limiter_shed_total', type: 'counter', help: 'new orders answered overloaded since start', value: () => m().shed },
    { name: 'tradsys_limiter_samples_total', type: 'counter', help: 'engine queue-time samples (one per command)', value: () => m().samples },
    g('tradsys_engine_queue_time_p50_us', 'engine queue time (tsInit - tsIn) p50 over the last 4,096 commands, µs', () => n(m().queueTimeP50Us)),
    g('tradsys_engine_queue_time_p99_us', 'engine queue time (tsInit - tsIn) p99 over the last 4,096 commands, µs', () => n(m().queueTimeP99Us)),
    g('tradsys_limiter_baseline_us', 'long-term baseline of the window means, µs', () => n(m().baselineUs)),
    g('tradsys_limiter_window_us', 'the last window\'s mean queue time, µs', () => n(m().windowUs)),
    g('tradsys_limiter_cycle_us', 'smoothed engine cycle (interval between batch starts), µs', () => n(m().cycleUs)),
    g('tradsys_limiter_enabled', '1 when the limiter sheds (serve --limiter on)', () => (m().enabled ? 1 : 0)),
  ];
}

/** The wired gateway: the fastify app (not listening), its services, and its lifecycle. */
export interface ComposedGateway {
  readonly app: FastifyInstance;
  readonly services: GatewayServices;
  readonly book: BookProjection;
  readonly sim: SimulatorHooks;
  listen(port: number, host?: string): Promise<string>;
  close(): Promise<void>;
}

async function startEngine(cfg: GatewayConfig, instruments: Instrument[], placement: SystemPlacement, latency?: { channel: SharedArrayBuffer; publish: SharedArrayBuffer }): Promise<EngineHost> {
  const r = cfg.risk ?? {};
  const cpus = cfg.cpus?.engine;
  return EngineHost.start({
    engine: {
      symbols: instruments.length, capacity: cfg.capacity ?? 1_000_000,
      risk: { maxAccounts: r.maxAccounts ?? 65536, maxPositions: r.maxPositions ?? 262144, defaultMaxOpenOrders: r.maxOpenOrders ?? 10_000 },
    },
    riskSetup: { symbols: instruments.map((i) => i.riskLimits()) },
    journal: { dir: join(cfg.dataDir, 'journal'), durability: cfg.journal?.durability ?? 'fsync', snapshotEvery: cfg.journal?.snapshotEvery, segmentBytes: cfg.journal?.segmentBytes, preallocate: cfg.journal?.preallocate },
    log: cfg.log,
    realtime: cfg.engineRealtime,
    placement: cpus ? { cpus, memory: placement.engineMemoryNode() } : undefined,
    latency,
    testHooks: cfg.testHooks === true,
  });
}

async function startStorage(cfg: GatewayConfig, host: EngineHost, instruments: Instrument[]): Promise<{ storage: Storage; writer: StorageWriter } | null> {
  if (cfg.storage !== 'auto') return null;
  const st = await openStorage(cfg.dataDir, cfg.storageEnv ?? process.env);
  const writer = StorageWriter.start(host.evtRing, st, {
    symbols: instruments.map((i) => i.symbol), dataDir: cfg.dataDir,
    journalDir: join(cfg.dataDir, 'journal'), backfillToSeq: String(host.lastSeq),
    sizes: instruments.map((i) => ({ tickSize: i.toJSON().tickSize as string, lotSize: i.toJSON().lotSize as string })),
  });
  return { storage: st, writer };
}

/** Builds the gateway and starts its engine thread (not listening yet). */
export async function composeGateway(cfg: GatewayConfig): Promise<ComposedGateway> {
  useWasmJournalVerifier(); // journal catch-up and read-model replay verify with the WASM kernel
  const instruments = loadInstruments(cfg.instruments ?? DEMO_INSTRUMENTS);
  const limits = resolveLimits(cfg);
  const tracking = cfg.latencyTracking ?? true;
  const lat: Latency = { monitor: new LatencyMonitor(), publish: tracking ? new PublishStamps() : null };
  const engineChannel = tracking ? lat.monitor.channel() : null;
  const placement = new SystemPlacement(cfg.cpus ?? null, readTopology());
  const host = await startEngine(cfg, instruments, placement, engineChannel && lat.publish ? { channel: engineChannel.sab, publish: lat.publish.sab } : undefined);
  let storage: { storage: Storage; writer: StorageWriter } | null = null;
  try {
    storage = await startStorage(cfg, host, instruments);
    const composed = await wire(cfg, instruments, limits, host, storage, lat, placement);
    // the gateway (this, the main thread) last: threads started before keep the process's CPU set
    placement.add(host.placement?.thread);
    placement.engineMemory = host.placement?.memory ?? null;
    for (const p of composed.services.strategies?.placements() ?? []) placement.add(p);
    if (cfg.cpus?.gateway) placement.add(pinOwnThread('gateway', cfg.cpus.gateway));
    return composed;
  } catch (e) {
    if (storage) { await storage.writer.stop(); await storage.storage.close(); }
    await host.stop();
    throw e;
  }
}

/** Stage latency: the monitor (always; empty when tracking is off) and the engine's publish stamps (null when off). */
interface Latency { monitor: LatencyMonitor; publish: PublishStamps | null }

async function wire(cfg: GatewayConfig, instruments: Instrument[], limits: ReturnType<typeof resolveLimits>, host: EngineHost, storage: { storage: Storage; writer: StorageWriter } | null, lat: Latency, placement: SystemPlacement): Promise<ComposedGateway> {
  const log = cfg.log ?? ((l: string) => process.stderr.write(l + '\n'));
  const journalDir = join(cfg.dataDir, 'journal');
  const bySymbol = new Map(instruments.map((i) => [i.symbol, i] as const));
  const keys = new KeyStore(cfg.dataDir);
  const { logger, file: logFile } = createLogger({ dir: join(cfg.dataDir, 'logs'), ...cfg.logs });
  const counters = newCounters();
  const orders = new OrderRegistry();
  const book = new BookProjection(instruments.length);
  const stamps = lat.publish ? new GatewayStamps(lat.monitor.local, lat.publish) : NULL_STAMPS;
  const entry = new OrderEntry(host, orders, instruments, bySymbol, counters, new GradientLimiter({ ...cfg.limiter, enabled: cfg.limiter?.enabled ?? false }), stamps);
  const conns = new Connections(limits, counters, logger as FastifyBaseLogger, keys, entry);
  const md = new MarketData(instruments, book, conns);
  const rmStore = new ReadModelStore(cfg.dataDir, log);
  // read models: their snapshot (if any and sound); the catch-up below brings them to lastSeq
  // (the registry's cid array read by slot: no OrderInfo snapshot per ring command)
  // strategy orders (not in the registry) name their tag through the pool, once it runs (below)
  let strategyTags: ((id: bigint) => string | undefined) | null = null;
  const readModels: ReadModels = rmStore.load((id) => { const s = orders.slotOf(Number(id)); return s >= 0 ? orders.cid[s] : strategyTags?.(id); });
  const events = new EventPump(host, readModels, orders, instruments, book, conns, md, entry, counters, stamps);
  const catchUp = new CatchUp(journalDir, readModels, orders, instruments, events, conns);
  keys.onChange((ch) => conns.onKeyChange(ch));

  const lastSeq = BigInt(host.recovery?.lastSeq ?? 0);
  catchUp.fromJournal(lastSeq);
  const sagas = SagaManager.open({
    journalDir, clock: systemClock, durability: cfg.journal?.durability ?? 'fsync', log: cfg.log,
    submit: (cmd, cid) => { try { return host.submit(cmd, 0, 0, cid); } catch { return false; } },
  });
  sagas.resume(lastSeq);
  readModels.onBatch((b) => sagas.apply(b));

  // strategies: after the engine host and the sagas (their pairs requests go there), stopped before them
  const strategies = cfg.strategies ? await StrategyService.start({
    host, instruments, workers: cfg.strategies.workers, modules: cfg.strategies.modules, sagas,
    // strategy order ids continue after the journal's highest (never reused across restarts)
    firstOrderId: readModels.orders.maxStrategyOrderId > 0n ? Number(readModels.orders.maxStrategyOrderId) + 1 : undefined,
    // the workers' books start from the orders resting now (after a restart: the journal's), the
    // read models brought current first (the event pump's timer does not run yet)
    restingOrders: () => { events.pump(); return { seq: Number(readModels.orders.checkpoint), orders: readModels.orders.restingOrders() }; },
    killAccount: (account, on, attribution) => entry.admin('kill_account', on, { account }, attribution),
    signals: storage ? (rows) => storage.writer.signals(rows) : undefined,
    log: logger as FastifyBaseLogger, dataDir: cfg.dataDir,
    // each strategy worker hands its stage histograms over through its own channel (tracking on)
    latencyChannel: lat.publish ? () => lat.monitor.channel().sab : undefined,
    cpus: cfg.cpus?.strategies ? (i) => strategyWorkerCpus(cfg.cpus, i) : undefined,
  }) : null;
  strategies?.subscribe((m) => conns.broadcastStrategies(m));
  if (strategies) strategyTags = (id) => strategies.clientOrderIdOf(id);
  if (strategies) entry.onAdminApplied((e) => strategies.adminApplied(e));

  const localSecret = newLocalSecret();
  const storageApi = storage ? createStorageApi(storage.storage, storage.writer) : null;
  // one latency_samples row per stage per second with values (src/monitoring/latency.ts)
  if (storage) { const w = storage.writer; lat.monitor.onSample = (x) => { w.latencySamples([[x.component, x.tsNs.toString(), x.latencyNs]]); }; }
  const metrics = new Metrics({ series: [...gatewaySeries(host, conns, counters), ...limiterSeries(entry.limiter), ...(storageApi ? storageApi.series() : [])], latency: lat.monitor });
  // the strategy service's series (tradsys_strategy_*), still rendered as text by the service
  if (strategies) metrics.addText(() => strategies.metricsText());
  const monitoring = startMonitoring(cfg.monitoring ?? {}, {
    host, writer: storage?.writer ?? null, conns, log: logger as FastifyBaseLogger, journalDir, metrics, latency: lat.monitor,
  });
  // from here until the app is ready, a failure stops the monitoring's timer and GC observer again
  let app: FastifyInstance;
  let ws: WsServer;
  try {
    const services: GatewayServices = {
      host, instruments, bySymbol, keys, orders, entry, conns, md, events, readModels, sagas, counters, localSecret, metrics, latency: lat.monitor,
      storage: storage && storageApi ? { ...storage, api: storageApi } : null, strategies, monitoring, dataDir: cfg.dataDir, testHooks: cfg.testHooks === true, placement, dashboardDir: cfg.dashboardDir,
      httpLimits: { key: cfg.httpRateLimit ?? { perSecond: 100, burst: 200 }, address: cfg.httpAddressRateLimit ?? { perSecond: 100, burst: 200 } },
    };

    // strict schemas: no type coercion, no unknown fields. Per-request lines are off: the log
    // carries the audit events and errors (docs/security.md "Audit log").
    app = Fastify({ loggerInstance: logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 4 * 1024, requestTimeout: 10_000, ajv: { customOptions: { coerceTypes: false, removeAdditional: false } } });
    app.decorate('tradsys', services);
    void app.register(authPlugin);
    void app.register(currentReadsPlugin);
    for (const plugin of [healthPlugin, marketDataPlugin, ordersPlugin, queriesPlugin, sagasPlugin, adminPlugin, alertsPlugin, strategiesPlugin, dashboardPlugin]) void app.register(plugin);
    ws = new WsServer(app.server, { instruments, bySymbol, keys, conns, entry, md, events, catchUp, counters, limits, alerts: () => monitoring.alerts.active() }, { maxPayload: cfg.maxPayload, compressThreshold: cfg.compressThreshold });
    await app.ready();
  } catch (e) {
    await monitoring.stop();
    await strategies?.close();
    throw e;
  }
  const services = app.tradsys;

  rmStore.start(readModels);
  events.start();
  lat.monitor.start();
  const pingTimer = setInterval(() => conns.heartbeat(), limits.pingIntervalMs);
  keys.watch(cfg.keysPollMs ?? 200, (message) => app.log.error({ audit: 'keys.file_invalid', path: keys.path, outcome: 'kept_last_good', error: message }, 'the keys file cannot be used; the keys in force are unchanged'));

  const composed: ComposedGateway = {
    app, services, book, sim: new SimulatorHooks(orders, entry),
    async listen(port: number, hostname = '127.0.0.1'): Promise<string> {
      const url = await app.listen({ port, host: hostname });
      // `tradsys sql` goes through this server while it holds the store (src/storage/discovery.ts)
      const local = localUrl(app.server.address());
      if (storage && local) {
        try { writeDiscovery(keys.dataDir, local, localSecret); } catch (e) { log(`cannot write ${keys.dataDir}/server.json (tradsys sql will not find this server): ${(e as Error).message}`); }
      }
      return url;
    },
    async close(): Promise<void> {
      keys.unwatch();
      await monitoring.stop();
      removeDiscovery(keys.dataDir);
      events.stop();
      lat.monitor.stop();
      clearInterval(pingTimer);
      ws.close();
      await app.close();
      await strategies?.close(); // every strategy stopped, its orders cancelled, the workers gone
      rmStore.stop();
      events.pump();
      rmStore.save(readModels);
      sagas.close();
      if (storage) {
        await storage.writer.stop();
        await storage.storage.close();
      }
      await host.stop();
      logFile.close();
    },
  };
  // the boot strategies, once the event pump runs (a trip's kill waits for the engine's answer)
  if (strategies && cfg.strategies?.configs) {
    try {
      await strategies.boot(cfg.strategies.configs);
    } catch (e) {
      await composed.close();
      throw e;
    }
  }
  return composed;
}
