/**
 * The gateway: fastify (HTTP) + ws (WebSocket /ws, JSON or binary protocol per connection) in
 * front of the engine thread. This class is a facade over the wired services (src/gateway/
 * compose.ts): it holds what tests, the CLI, the simulator and the benchmarks use, and has no
 * logic of its own. Build it with `build()` (src/app.ts) or `Gateway.build()`.
 *
 * Layout (docs/architecture.md "The gateway"): services in src/gateway/ — order-entry.ts (commands
 * to the ring, awaitCommand, admin), connections.ts (sessions, delivery, the slow-consumer path),
 * market-data.ts (books, tickers, trades), event-pump.ts (events → registry, read models, reports,
 * market data), catch-up.ts (journal catch-up, resume), read-model-store.ts, sim-hooks.ts,
 * storage-api.ts; fastify plugins in http/ (auth, orders, market-data, queries, sagas, admin,
 * health); WebSocket handlers in ws/ (json.ts, binary.ts, server.ts).
 * Invariants: reports go only to the owning account's connections; events reach clients only
 * after the journal made them durable (docs/journal.md); pre-trade risk runs in the engine
 * (docs/risk.md). Keys and audit: docs/security.md.
 * Complexity: that of the services it delegates to. Allocation: none of its own.
 * Known limitations: see the services.
 */
import type { FastifyInstance } from 'fastify';
import type { ReadModels, SagaManager } from '../cqrs/index.js';
import type { EngineHost } from '../engine/host.js';
import type { Instrument } from '../domain/instruments.js';
import type { BookProjection } from '../marketdata/book-projection.js';
import type { KeyStore } from './auth.js';
import { composeGateway, type ComposedGateway } from './compose.js';
import type { Connections } from './connections.js';
import type { CommandDone, EntryOutcome, EntryResult, GatewayConfig, GatewayCounters, OrderFields, OrderRef } from './config.js';
import type { StorageContext } from './http/context.js';
import type { AdminAction, AdminDone } from './order-entry.js';
import type { OrderRegistry } from './orders.js';
import type { SimOrder } from './sim-hooks.js';
import type { StrategyService } from '../strategies/service.js';
import type { GradientLimiter } from '../monitoring/limiter.js';
import type { Metrics } from '../monitoring/metrics.js';
import type { LatencyMonitor } from '../monitoring/latency.js';
import type { SystemPlacement } from '../sys/placement.js';

export { WS_CLOSE_KEY_REVOKED, type GatewayConfig, type RequestAuth, type OrderFields, type OrderRef, type EntryResult } from './config.js';

export class Gateway {
  readonly app: FastifyInstance;
  readonly host: EngineHost;
  readonly instruments: Instrument[];
  readonly bySymbol: ReadonlyMap<string, Instrument>;
  readonly keys: KeyStore;
  readonly orders: OrderRegistry;
  readonly book: BookProjection;
  readonly counters: GatewayCounters;
  /** Read models (orders, fills, positions with P&L; docs/cqrs.md), fed by the same pump as the reports. */
  readonly readModels: ReadModels;
  /** Durable process managers (the pairs saga; docs/cqrs.md), fed with every applied batch. */
  readonly sagas: SagaManager | null;
  /** The storage in use, its writer and query API (null when storage is off). */
  readonly storage: StorageContext | null;
  /** The live strategies (src/strategies/service.ts; null when the gateway runs without them). */
  readonly strategies: StrategyService | null;
  /** Adaptive concurrency on new orders (src/monitoring/limiter.ts): `metrics()` for the metrics registry. */
  readonly limiter: GradientLimiter;
  /** The Prometheus registry (GET /metrics; src/monitoring/metrics.ts). */
  readonly metrics: Metrics;
  /** Per-stage latency (GET /api/v1/latency; src/monitoring/latency.ts). */
  readonly latency: LatencyMonitor;
  /** CPU and memory placement (`serve --cpus`; GET /api/v1/system), re-read from /proc on each report. */
  readonly placement: SystemPlacement;
  /** The live sessions (size, values(): test/integration/gateway-heartbeat.test.ts peeks at them). */
  private readonly conns: Connections;

  private constructor(private readonly parts: ComposedGateway) {
    const s = parts.services;
    this.app = parts.app;
    this.host = s.host;
    this.instruments = s.instruments;
    this.bySymbol = s.bySymbol;
    this.keys = s.keys;
    this.orders = s.orders;
    this.book = parts.book;
    this.counters = s.counters;
    this.readModels = s.readModels;
    this.sagas = s.sagas;
    this.storage = s.storage;
    this.conns = s.conns;
    this.strategies = s.strategies;
    this.limiter = s.entry.limiter;
    this.metrics = s.metrics;
    this.latency = s.latency;
    this.placement = s.placement;
  }

  /** Builds the gateway and starts its engine thread (not listening yet). */
  static async build(cfg: GatewayConfig): Promise<Gateway> {
    return new Gateway(await composeGateway(cfg));
  }

  listen(port: number, host = '127.0.0.1'): Promise<string> { return this.parts.listen(port, host); }
  close(): Promise<void> { return this.parts.close(); }

  /** Drains the event ring now (EventPump.pump); returns the event count. */
  pump(): number { return this.parts.services.events.pump(); }

  placeOrder(account: number, conn: number, m: OrderFields, token = 0): EntryResult { return this.result(this.parts.services.entry.placeOrder(account, conn, m, token)); }
  placeOrderTicks(account: number, conn: number, clientOrderId: string, symbol: number, side: number, type: number, tif: number, price: number, qty: number, token = 0): EntryResult {
    return this.result(this.parts.services.entry.placeOrderTicks(account, conn, clientOrderId, symbol, side, type, tif, price, qty, token));
  }
  requestCancel(account: number, ref: OrderRef, token = 0, origin = 0): EntryResult { return this.result(this.parts.services.entry.requestCancel(account, ref, token, origin)); }
  requestModify(account: number, ref: OrderRef, priceText: string, qtyText: string, token = 0, origin = 0): EntryResult {
    return this.result(this.parts.services.entry.requestModify(account, ref, priceText, qtyText, token, origin));
  }
  /** The services answer with a registry slot; callers of the facade get a snapshot of the order. */
  private result(r: EntryOutcome): EntryResult { return r.ok ? { ok: true, order: this.orders.info(r.slot), ...(r.duplicate ? { duplicate: true } : {}) } : r; }
  awaitCommand(orderId: number, timeoutMs = 5000): Promise<CommandDone | null> { return this.parts.services.entry.awaitCommand(orderId, timeoutMs); }
  admin(action: AdminAction, on: boolean, target: { symbol?: number; account?: number } = {}): Promise<AdminDone> { return this.parts.services.entry.admin(action, on, target); }

  /** An order from the built-in simulator (no connection). Returns its order id, or null if the ring is full. */
  simOrder(o: SimOrder): number | null { return this.parts.sim.simOrder(o); }
  /** Cancels a simulator order if it is still live. */
  simCancel(orderId: number): void { this.parts.sim.simCancel(orderId); }
}
