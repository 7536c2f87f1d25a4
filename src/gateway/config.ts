/**
 * The gateway's configuration and the small types its services, plugins and WebSocket handlers
 * share (order entry results, order references, who signed a request).
 *
 * Layout: `GatewayConfig` is what `build()` (src/app.ts) takes; `resolveLimits` fills the defaults
 * the services read. Invariants: every default is stated once, here. Complexity: O(1).
 * Allocation: one object per build. Known limitations: none.
 */
import type { InstrumentSpec } from '../domain/instruments.js';
import type { StrategyConfig } from '../strategies/api.js';
import type { CpuPlan } from '../sys/cpu-plan.js';
import { TradsysError } from '../domain/errors.js';
import type { Permission } from './auth.js';
import type { LogOptions } from './audit-log.js';
import type { AlertsConfig } from '../monitoring/alerts.js';
import type { TrendOptions } from '../monitoring/memory.js';
import type { OrderInfo } from './orders.js';
import type { RateLimit } from './rate-limit.js';
import type { LimiterOptions } from '../monitoring/limiter.js';

export interface GatewayConfig {
  dataDir: string;
  instruments?: InstrumentSpec[];
  /** Resting-order capacity of the engine (default 1,000,000). */
  capacity?: number;
  /** Max WS message size in bytes (default 4096). */
  maxPayload?: number;
  /** Server pings every this many ms (default 20,000); a peer silent for deadAfterMs is closed. */
  pingIntervalMs?: number;
  deadAfterMs?: number;
  /** Inbound messages per connection: sustained rate and burst (default 500/s, burst 1,000). */
  rateLimit?: { perSecond: number; burst: number };
  /** Outbound buffer: past `soft` bytes book subscribers get a fresh snapshot instead of deltas
   * once drained; past `hard` the connection is closed (1008, "slow consumer"). */
  buffer?: { soft: number; hard: number };
  /** HTTP requests per API key, charged once the signature checks out (default 100/s, burst 200). */
  httpRateLimit?: RateLimit;
  /** HTTP requests per remote address without valid credentials: public routes and failed
   * authentications (default 100/s, burst 200). An address over it gets 429 before any signature check. */
  httpAddressRateLimit?: RateLimit;
  /** `/ws?compress=1`: permessage-deflate without context takeover for frames of at least this
   * many bytes (default 1024; bench/pipeline/deflate.bench.ts). */
  compressThreshold?: number;
  /** Journal (docs/journal.md) in `<dataDir>/journal`: durability `fsync` (default, each batch
   * fdatasync'ed before its acks) or `none` (benchmarks only); snapshot every N commands. */
  journal?: { durability?: 'fsync' | 'none'; snapshotEvery?: number; segmentBytes?: number; preallocate?: boolean };
  /** SCHED_FIFO priority for the engine thread (EngineHostOptions.realtime; default: left as it is). */
  engineRealtime?: number;
  /**
   * CPU placement (`serve --cpus`, src/sys/cpu-plan.ts parseCpuPlan): the engine thread, the
   * gateway (the main thread, pinned last so that threads started before keep the process's CPUs)
   * and the strategy workers pin themselves; the engine's memory is bound to its CPU's node.
   * Read back in GatewayServices.placement (GET /api/v1/system). Default: nothing pinned.
   */
  cpus?: CpuPlan;
  /** Start-up and recovery log lines (default stderr). */
  log?: (line: string) => void;
  /**
   * ClickHouse storage (docs/schema.md): 'auto' = the server of CLICKHOUSE_URL, else embedded chDB
   * in `<dataDir>/clickhouse`, with the batch writer on the event ring and the query routes;
   * 'off' (default for the library; `tradsys serve` uses 'auto').
   */
  storage?: 'auto' | 'off';
  /** Where `storage: 'auto'` reads CLICKHOUSE_URL/USER/PASSWORD/DATABASE (default process.env). */
  storageEnv?: NodeJS.ProcessEnv;
  /** Pre-trade risk (docs/risk.md): resting orders per account (default 10,000; 0 = none), table sizes. */
  risk?: { maxOpenOrders?: number; maxAccounts?: number; maxPositions?: number };
  /** Binary protocol: a connection's outbound frame is sent once it reaches this size (default 32 KiB). */
  binaryFrameBytes?: number;
  /** Market-data channels (book, trades, ticker per symbol) one connection may hold (default 256). */
  maxChannels?: number;
  /**
   * The log (fastify's pino logger; src/gateway/audit-log.ts, docs/security.md "Audit log"): JSON
   * lines with the audit events, to stderr (default on) and `<dataDir>/logs/tradsys.log`, rotated
   * at `fileBytes` (default 10 MiB) keeping `files` older files (default 5).
   */
  logs?: Partial<LogOptions>;
  /**
   * Adaptive concurrency on order intake (src/monitoring/limiter.ts, docs/operations.md "Adaptive
   * concurrency"): new orders over the limit are answered `overloaded`. Default off (measured
   * only: on the shared bench machine it cost goodput without lowering accepted orders' latency;
   * docs/operations.md has the figures); `{ enabled: true }` sheds.
   */
  limiter?: LimiterOptions;
  /** How often `<dataDir>/keys.json` is checked for changes written by other processes, ms (default 200). */
  keysPollMs?: number;
  /**
   * Strategies (docs/strategies.md): the worker pool (`workers`, default one less than the cores, at least 1, at most 8) and the
   * configurations created at start (each started unless `autoStart: false`; the first bad one
   * stops the start with an error naming it). Absent: off — no worker threads, the strategy routes
   * answer 503 `unavailable` (the library default; `tradsys serve` turns it on unless --no-strategies).
   * `modules`: files or URLs of ES modules whose `strategies` array (StrategyDefinition[]) adds
   * strategy kinds beside BUILTIN_STRATEGIES (loaded in every worker).
   */
  strategies?: { workers?: number; configs?: StrategyConfig[]; modules?: string[] };
  /**
   * Per-stage latency tracking (docs/monitoring.md "Latency stages"; `tradsys serve
   * --latency-tracking on|off`): stamps and HDR histograms in the gateway and engine threads,
   * `tradsys_latency_seconds` on /metrics, GET /api/v1/latency. Default on; off leaves the
   * histograms empty and costs nothing per message.
   */
  latencyTracking?: boolean;
  /** Memory metrics, alerts (rules, webhooks), heap snapshots (docs/operations.md "Memory", "Alerts"). */
  monitoring?: MonitoringConfig;
  /**
   * Test hooks (default off; `tradsys serve --test-hooks`): POST /api/v1/admin/test/engine-delay
   * makes every engine batch sleep N ms — the induced slowdown of the alert tests. Never in production.
   */
  testHooks?: boolean;
  /** The built dashboard served at `/` (src/gateway/http/dashboard.ts; default: build/dashboard of this package). */
  dashboardDir?: string;
}

/** Monitoring options (GatewayConfig.monitoring). */
export interface MonitoringConfig {
  /** Alert rules and webhooks (default: DEFAULT_ALERT_RULES, no webhook); `tradsys serve --alerts FILE.json`. */
  alerts?: AlertsConfig;
  /** Evaluation period, ms (default 1,000). */
  alertIntervalMs?: number;
  /** Firing/resolved events kept for GET /api/v1/alerts (default 500). */
  alertHistory?: number;
  /** Heap trend detector (docs/operations.md "Memory"). */
  heapTrend?: Partial<TrendOptions>;
  /** Free space the heap snapshot route requires, bytes (default: twice the heap in use + 64 MiB). */
  heapSnapshotMinFreeBytes?: number;
}

/** The per-connection limits the WebSocket side reads, defaults filled in. */
export interface ConnectionLimits {
  pingIntervalMs: number;
  deadAfterMs: number;
  rateLimit: { perSecond: number; burst: number };
  buffer: { soft: number; hard: number };
  binaryFrameBytes: number;
  maxChannels: number;
}

export function resolveLimits(cfg: GatewayConfig): ConnectionLimits {
  const l: ConnectionLimits = {
    pingIntervalMs: cfg.pingIntervalMs ?? 20_000, deadAfterMs: cfg.deadAfterMs ?? 60_000,
    rateLimit: cfg.rateLimit ?? { perSecond: 500, burst: 1000 }, buffer: cfg.buffer ?? { soft: 1 << 20, hard: 8 << 20 },
    binaryFrameBytes: cfg.binaryFrameBytes ?? 32 * 1024, maxChannels: cfg.maxChannels ?? 256,
  };
  if (!Number.isInteger(l.maxChannels) || l.maxChannels < 1) throw new TradsysError('ERR_GATEWAY_CONFIG', `maxChannels must be an integer ≥ 1, got ${String(cfg.maxChannels)}`);
  return l;
}

/** What a signed HTTP request authenticated as (`req.auth` once the auth plugin accepted it). */
export interface RequestAuth { account: number; key: string; permissions: Permission[] }

/** WebSocket close code for a connection whose API key was revoked or changed (application range 4000-4999). */
export const WS_CLOSE_KEY_REVOKED = 4001;

export interface OrderFields { clientOrderId: string; symbol: string; side: 'buy' | 'sell'; type: 'limit' | 'market'; tif: 'gtc' | 'ioc' | 'fok' | 'post_only'; price?: string; qty: string }
export interface OrderRef { clientOrderId?: string | undefined; orderId?: string | undefined }
/** A command's direct outcome inside the gateway: ok with the order's registry slot (OrderRegistry fields, `info(slot)`: no object per order), or why not. */
export type EntryOutcome = { ok: true; slot: number; duplicate?: boolean } | { ok: false; reason: string; message?: string };
/** The same for the Gateway facade's callers (tests, tools): ok with a snapshot of the order. */
export type EntryResult = { ok: true; order: OrderInfo; duplicate?: boolean } | { ok: false; reason: string; message?: string };
/** The last event of a command, as awaitCommand answers it. */
export interface CommandDone { type: string; reason: string | null; seq: number }

/** The gateway's counters (GET /metrics; tests read some). */
export interface GatewayCounters {
  wsConnections: number; ordersIn: number; eventsOut: number; rejectsGateway: number; framesOut: number;
  slowConsumerClosed: number; reaped: number; messagesIn: number;
}
export function newCounters(): GatewayCounters {
  return { wsConnections: 0, ordersIn: 0, eventsOut: 0, rejectsGateway: 0, framesOut: 0, slowConsumerClosed: 0, reaped: 0, messagesIn: 0 };
}
