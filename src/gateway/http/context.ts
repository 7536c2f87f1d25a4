/**
 * What the HTTP plugins share: the gateway's services, decorated once on the root instance
 * (`app.tradsys`), the route options the root hooks read, and the current-reads hook. Plugins whose
 * hooks and decorations belong to the whole app (auth, current reads) are wrapped with
 * fastify-plugin.
 *
 * Layout: a plugin takes what it needs from `app.tradsys` and registers its routes; the auth plugin
 * adds `app.authenticate` (signed requests) and the ClickHouse endpoint's authentication.
 * Route config: `signed` (the address is charged only when authentication fails), `current` (the
 * event pump runs before the handler: THE way an HTTP read sees every published event).
 * Invariants: services never import this folder (the dependency rule, .dependency-cruiser.cjs).
 * Complexity: O(1). Allocation: none per request. Known limitations: none.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { EngineHost } from '../../engine/host.js';
import type { Instrument } from '../../domain/instruments.js';
import type { ReadModels, SagaManager } from '../../cqrs/index.js';
import type { Storage } from '../../storage/storage.js';
import type { StorageWriter } from '../../storage/writer.js';
import type { ClickHouseAuth } from '../../storage/clickhouse-http.js';
import type { KeyStore, Permission } from '../auth.js';
import type { GatewayCounters, RequestAuth } from '../config.js';
import type { Connections } from '../connections.js';
import type { EventPump } from '../event-pump.js';
import type { MarketData } from '../market-data.js';
import type { MonitoringContext } from '../monitoring.js';
import type { OrderEntry } from '../order-entry.js';
import type { OrderRegistry } from '../orders.js';
import type { RateLimit } from '../rate-limit.js';
import type { StorageApi } from '../storage-api.js';
import type { StrategyService } from '../../strategies/service.js';
import type { Metrics } from '../../monitoring/metrics.js';
import type { LatencyMonitor } from '../../monitoring/latency.js';
import type { SystemPlacement } from '../../sys/placement.js';

/** The storage in use, its writer and its query service. */
export interface StorageContext { storage: Storage; writer: StorageWriter; api: StorageApi }

/** The services every plugin may use (decorated once at the root as `app.tradsys`). */
export interface GatewayServices {
  readonly host: EngineHost;
  readonly instruments: Instrument[];
  readonly bySymbol: ReadonlyMap<string, Instrument>;
  readonly keys: KeyStore;
  readonly orders: OrderRegistry;
  readonly entry: OrderEntry;
  readonly conns: Connections;
  readonly md: MarketData;
  readonly events: EventPump;
  readonly readModels: ReadModels;
  readonly sagas: SagaManager | null;
  readonly counters: GatewayCounters;
  readonly storage: StorageContext | null;
  /** The local credential `tradsys sql` reads from `<data>/server.json` (fresh per start). */
  readonly localSecret: string;
  /** HTTP token buckets: per API key (charged once the signature checks out) and per address. */
  readonly httpLimits: { key: RateLimit; address: RateLimit };
  /** The live strategies (src/strategies/service.ts); null when the server runs without them. */
  readonly strategies: StrategyService | null;
  /** Memory metrics, alerts, the heap snapshot's settings (src/gateway/monitoring.ts). */
  readonly monitoring: MonitoringContext;
  /** The data folder (heap snapshots go there). */
  readonly dataDir: string;
  /** Test hooks are on (GatewayConfig.testHooks): the engine-delay admin route exists. */
  readonly testHooks: boolean;
  /** Where the built dashboard is (GatewayConfig.dashboardDir, else build/dashboard of this package). */
  readonly dashboardDir?: string;
  /** The Prometheus registry GET /metrics answers (src/monitoring/metrics.ts). */
  readonly metrics: Metrics;
  /** Per-stage latency (src/monitoring/latency.ts; empty histograms when tracking is off). */
  readonly latency: LatencyMonitor;
  /** CPU and memory placement (`serve --cpus`), re-read from /proc on each report (GET /api/v1/system). */
  readonly placement: SystemPlacement;
}

declare module 'fastify' {
  interface FastifyInstance {
    tradsys: GatewayServices;
    /**
     * Checks a signed request (docs/protocol.md "HTTP"): the account and key it authenticated as,
     * or null once it answered 401/403/429 (each refusal is one audit line). Several permissions:
     * any one of them will do (the handler then looks at `permissions`).
     */
    authenticate(req: FastifyRequest, reply: FastifyReply, need: Permission | readonly Permission[]): RequestAuth | null;
    /** The ClickHouse-compatible endpoint's user/password check, charged like a signed request. */
    clickhouseAuth(user: string, password: string, req: FastifyRequest): ClickHouseAuth;
    /** Charges a refused request to its address bucket. */
    refuseAddress(req: FastifyRequest): void;
  }
  interface FastifyRequest {
    /** Who signed this request, once the route's authentication accepted it (else null): for the route's audit lines. */
    auth: RequestAuth | null;
  }
  interface FastifyContextConfig {
    /** A signed route: its address is charged only when authentication fails. */
    signed?: boolean;
    /** The ClickHouse endpoint's query routes: charged after authentication, like signed routes. */
    chargedAfterAuth?: boolean;
    /** The event pump runs before the handler: the read sees every event published so far. */
    current?: boolean;
  }
}


/** Body limit of the order routes (POST, PATCH); an order body is under 400 bytes. */
export const ORDER_BODY_LIMIT = 2048;
/** A decimal string (price, qty) as the JSON schemas accept it. */
export const DECIMAL = { type: 'string', pattern: '^\\d{1,30}(\\.\\d{1,30})?$' } as const;

/**
 * Routes with config `current` get a preHandler that runs the event pump first: the one way an
 * HTTP read (book, trades, positions, fills) sees every event published before it.
 */
export const currentReadsPlugin = fp(async (app) => {
  const { events } = app.tradsys;
  const pump = (_req: FastifyRequest, _reply: FastifyReply, done: () => void): void => { events.pump(); done(); };
  app.addHook('onRoute', (route) => {
    if (route.config?.current !== true) return;
    const pre = route.preHandler;
    route.preHandler = pre === undefined ? [pump] : Array.isArray(pre) ? [pump, ...pre] : [pump, pre];
  });
}, { name: 'tradsys-current-reads', fastify: '5.x' });
