/**
 * The gateway: fastify (HTTP) + ws (WebSocket /ws, JSON or binary protocol per connection) in
 * front of the engine thread.
 *
 * Owns: client connections, authentication, order entry (orders → command ring, with the
 * connection as origin), execution reports to the owning account, market data (book snapshot +
 * deltas with per-symbol sequence numbers and checksums, public trades) from the event ring, and
 * the HTTP read API. One `pump()` drains the event ring and fans out, batched per cycle; it runs
 * when the engine thread notifies a publish on the event ring (Atomics.waitAsync, no spinning)
 * and every 1 ms as a fallback.
 * Layout: `/ws` speaks JSON text frames; `/ws?protocol=binary` speaks src/codec/binary-protocol.ts
 * (docs/protocol.md). A binary connection has a BinaryWriter: everything it is sent during one
 * inbound frame or one pump cycle goes into one frame, flushed at the end of that step or as soon
 * as it reaches `binaryFrameBytes` (default 32 KiB).
 * Reports (DESIGN "Who gets a report"): an account → live authenticated connections index
 * (`byAccount`, kept on auth and disconnect); each execution report goes to every connection of
 * its order's account, and the command's direct answer (events about the order the command names)
 * carries the reqId to the sending connection only (the ring event's origin and token; a JSON
 * reqId is held per connection under a token until the command's last event). Subscriptions are
 * all-or-nothing per message, deduplicated, and capped per connection (`maxChannels`).
 * Invariants: reports go only to the owning account's connections; another account's order ids
 * answer exactly like unknown ids; a client's book rebuilt from snapshot + deltas equals the
 * projection (tested, both protocols); a binary frame that fails validation is answered with one
 * `bad_frame` error and none of its messages run; pre-trade risk runs in the engine
 * (docs/risk.md); events reach clients only after the journal made them durable (docs/journal.md).
 * Allocation: JSON: per client message, and per report one message object and one text for all
 * connections without a reqId (one more for the sender with one). Binary: one decoded object per
 * inbound message and one Buffer per outbound frame; reports are written into the connection's
 * reused writer. The engine side is allocation-free.
 * HTTP: per-API-key and per-address token buckets (429 + Retry-After), 2 KiB bodies on order
 * routes. WebSocket: `/ws?compress=1` opts into permessage-deflate for frames ≥ compressThreshold.
 * Keys and audit (docs/security.md): the KeyStore is watched (keys.json changes written by other
 * processes are in force within keysPollMs); a revoked or changed key's sessions are closed with
 * WS_CLOSE_KEY_REVOKED and nothing they send afterwards runs. fastify's pino logger (audit-log.ts)
 * writes one `audit` line per auth failure, permission denial, admin action, key change, session
 * closed by revocation and slow consumer; per-request lines are off.
 * Known limitations: binary reports carry clientOrderId 0 for orders whose JSON clientOrderId is
 * not a decimal u64 (they can only be placed by JSON or HTTP).
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  evtAccount, evtId, evtLast, evtLeaves, evtMaker, evtMakerLeaves, evtPrice, evtQty, evtReason, evtSide, evtSymbol, evtTradeId, evtType, slotEvt, slotOrigin, slotSeq, slotToken, slotTsInit,
  journalEventToSlot,
} from '../abi/views.js';
import { RING_EVT_SIZE, CMD_OFF, CMD_SIZE, RING_CMD_OFF, REASON_NAMES, ENUMS } from '../abi/records.js';
import { join } from 'node:path';
import { readRecords } from '../journal/recovery.js';
import { openStorage } from '../storage/open.js';
import { StorageWriter } from '../storage/writer.js';
import { registerStorage, type StorageApi } from '../storage/http.js';
import type { ClickHouseAuth } from '../storage/clickhouse-http.js';
import { LOCAL_USER, localCredentialOk, localUrl, newLocalSecret, removeDiscovery, writeDiscovery } from '../storage/discovery.js';
import type { Storage } from '../storage/storage.js';
import { ReadModels, readModelsFile, replayAccountReports, positionJson, fillJson, SagaManager, systemClock, decodeRecord, type PairsLeg } from '../cqrs/index.js';
import { EngineHost } from '../engine/host.js';
import { useWasmJournalVerifier } from '../engine/journal-verifier.js';
import { DEMO_INSTRUMENTS, Instrument, loadInstruments, type InstrumentSpec } from '../domain/instruments.js';
import { TradsysError } from '../domain/errors.js';
import { ADMIN_ID_BASE_NUM, SAGA_ID_BASE_NUM } from '../domain/ids.js';
import { KeyStore, NONCE, httpPayload, type KeyChange, type Permission } from './auth.js';
import { createLogger, type CappedFile, type LogOptions } from './audit-log.js';
import { OrderRegistry, type OrderInfo } from './orders.js';
import { BookProjection } from '../marketdata/book-projection.js';
import { KeyedBuckets, retryAfterSeconds, type RateLimit } from './rate-limit.js';
import { parseClientMessage, ProtocolError, errorFrame, type ClientMessage, type ReqId } from '../codec/json-protocol.js';
import { BinaryProtocolError, BinaryWriter, Channel, decodeFrame, MAX_LEVELS, MsgType, type ClientBinMessage } from '../codec/binary-protocol.js';
import { nowNs } from '../domain/clock.js';

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
  /** How often `<dataDir>/keys.json` is checked for changes written by other processes, ms (default 200). */
  keysPollMs?: number;
}

/** What a signed HTTP request authenticated as (`req.auth` once httpAuth accepted it). */
export interface RequestAuth { account: number; key: string; permissions: Permission[] }

declare module 'fastify' {
  interface FastifyRequest {
    /** Who signed this request, once the route's authentication accepted it (else null): for the route's audit lines. */
    auth: RequestAuth | null;
  }
}

/** WebSocket close code for a connection whose API key was revoked or changed (application range 4000-4999). */
export const WS_CLOSE_KEY_REVOKED = 4001;

/** Body limit of the order routes (POST, PATCH); an order body is under 400 bytes. */
const ORDER_BODY_LIMIT = 2048;

interface Conn {
  id: number;
  ws: WebSocket;
  account: number | null;
  canTrade: boolean;
  cancelOnDisconnect: boolean;
  books: Set<number>;
  trades: Set<number>;
  tickers: Set<number>;
  /** Book subscriptions waiting for a fresh snapshot (slow consumer, deltas skipped). */
  stale: Set<number>;
  lastSeen: number;
  tokens: number;
  tokensAt: number;
  limited: number;
  /** Binary protocol: the frame being built for this connection (null: JSON connection). */
  bin: BinaryWriter | null;
  /** Listed in Gateway.dirty (its binary frame has messages to flush). */
  dirty: boolean;
  /** The account whose report list (Gateway.byAccount) holds this connection, or null. */
  bound: number | null;
  /** JSON: reqIds of commands in flight by ring token (created on first use), and the next token. */
  reqIds: Map<number, ReqId> | null;
  nextToken: number;
  /** Remote address (the TCP peer) and the API key it authenticated with (audit log, revocation). */
  ip: string;
  key: string | null;
  /** Commands refused for lack of the trade permission (audited: the first, then every 100th). */
  denied: number;
}

/** In-flight reqIds a JSON connection keeps at most (the oldest is dropped past it). */
const MAX_REQIDS = 4096;

/** Atomics.waitAsync (Node ≥ 16; typed from lib es2024, newer than this project's lib). */
const AtomicsAsync = Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, timeoutMs: number): { async: false; value: string } | { async: true; value: Promise<string> } };

export interface OrderFields { clientOrderId: string; symbol: string; side: 'buy' | 'sell'; type: 'limit' | 'market'; tif: 'gtc' | 'ioc' | 'fok' | 'post_only'; price?: string; qty: string }
/** One of the last 1,000 trades of a symbol kept for GET /api/v1/trades and the ticker: its decimal price and qty and its JSON text. */
interface RecentTrade { price: string; qty: string; json: string }
export interface OrderRef { clientOrderId?: string | undefined; orderId?: string | undefined }
export type EntryResult = { ok: true; order: OrderInfo; duplicate?: boolean } | { ok: false; reason: string; message?: string };

export class Gateway {
  readonly app: FastifyInstance;
  readonly instruments: Instrument[];
  readonly bySymbol = new Map<string, Instrument>();
  readonly keys: KeyStore;
  readonly orders = new OrderRegistry();
  readonly book: BookProjection;
  readonly counters = { wsConnections: 0, ordersIn: 0, eventsOut: 0, rejectsGateway: 0, framesOut: 0, slowConsumerClosed: 0, reaped: 0, messagesIn: 0 };
  private readonly conns = new Map<number, Conn>();
  private nextConn = 1;
  private readonly wss: WebSocketServer;
  /** Same as `wss`, negotiating permessage-deflate: for `/ws?compress=1`. */
  private readonly wssDeflate: WebSocketServer;
  private readonly keyBuckets: KeyedBuckets;
  private readonly addressBuckets: KeyedBuckets;
  private readonly reader: number;
  private readonly buf = new Uint8Array(RING_EVT_SIZE * 4096);
  private readonly dv = new DataView(this.buf.buffer);
  private readonly bookSeq: number[];
  private pumpTimer: NodeJS.Timeout | null = null;
  /** The first A/R/M event of the command in progress, per subject id (for HTTP answers). */
  private readonly firstKind = new Map<number, string>();
  private readonly waiters = new Map<number, (r: { type: string; reason: string | null; seq: number }) => void>();
  private pingTimer: NodeJS.Timeout | null = null;
  private readonly cfg: Required<Pick<GatewayConfig, 'pingIntervalMs' | 'deadAfterMs' | 'rateLimit' | 'buffer' | 'binaryFrameBytes' | 'maxChannels'>>;
  /** Live authenticated connections per account: who gets the account's execution reports. */
  private readonly byAccount = new Map<number, Conn[]>();
  /** Id of the order the command being pumped is about (its first event's id; -1 between commands). */
  private subject = -1;
  /** Binary: (instrument × 8 + channel bit) snapshots already sent during the inbound frame being handled. */
  private readonly frameSnaps = new Set<number>();
  /** Binary connections with an unflushed frame. */
  private readonly dirty: Conn[] = [];
  /** Scratch writer: a market-data message encoded once, then copied to each binary subscriber. */
  private readonly mdScratch = new BinaryWriter(4096);
  /** The CMD record being submitted (written in place: no command object, no BigInt for ids). */
  private readonly cmdRec = new Uint8Array(CMD_SIZE);
  private readonly cmdDv = new DataView(this.cmdRec.buffer);
  /** Word 0 of the event ring: its published count, which the engine thread notifies on every publish (src/ring/spmc-ring.ts layout). */
  private readonly published: Int32Array;
  /** A waitAsync on `published` is pending. */
  private watching = false;
  private readonly touched = new Set<number>();
  /** Last trade per symbol in ticks and lots (binary ticker); lastPx -1 = none yet. */
  private readonly lastPx: number[];
  private readonly lastQty: number[];
  /** Read models (orders, fills, positions with P&L; docs/cqrs.md), fed by the same pump as the reports. */
  readonly readModels: ReadModels;
  private readonly journalDir: string;
  private readonly log: (line: string) => void;
  /** The log file behind app.log (closed by close()). */
  private readonly logFile: CappedFile;
  private rmTimer: NodeJS.Timeout | null = null;
  /** Durable process managers (the pairs saga; docs/cqrs.md), fed with every applied batch. */
  sagas: SagaManager | null = null;
  /** The last 1,000 trades per symbol, oldest first (GET /api/v1/trades/:symbol). */
  private readonly recentTrades: RecentTrade[][];

  /** The storage in use, its writer and query API (null when storage is off). */
  readonly storage: { storage: Storage; writer: StorageWriter; api: StorageApi } | null = null;
  /** The local credential `tradsys sql` reads from `<data>/server.json` (fresh per start). */
  private readonly localSecret = newLocalSecret();

  private constructor(readonly host: EngineHost, cfg: GatewayConfig, instruments: Instrument[], storage: { storage: Storage; writer: StorageWriter } | null = null) {
    useWasmJournalVerifier(); // journal catch-up and read-model replay verify with the WASM kernel
    this.instruments = instruments;
    for (const i of instruments) this.bySymbol.set(i.symbol, i);
    this.keys = new KeyStore(cfg.dataDir);
    this.book = new BookProjection(instruments.length);
    this.bookSeq = instruments.map(() => 0);
    this.reader = host.evtRing.join();
    this.journalDir = join(cfg.dataDir, 'journal');
    this.log = cfg.log ?? ((l: string) => process.stderr.write(l + '\n'));
    this.readModels = new ReadModels({ clientOrderIdOf: (id) => this.orders.get(Number(id))?.clientOrderId });
    this.published = new Int32Array(host.evtRing.sab, 0, 1);
    this.cfg = {
      pingIntervalMs: cfg.pingIntervalMs ?? 20_000, deadAfterMs: cfg.deadAfterMs ?? 60_000,
      rateLimit: cfg.rateLimit ?? { perSecond: 500, burst: 1000 }, buffer: cfg.buffer ?? { soft: 1 << 20, hard: 8 << 20 },
      binaryFrameBytes: cfg.binaryFrameBytes ?? 32 * 1024, maxChannels: cfg.maxChannels ?? 256,
    };
    if (!Number.isInteger(this.cfg.maxChannels) || this.cfg.maxChannels < 1) throw new TradsysError('ERR_GATEWAY_CONFIG', `maxChannels must be an integer ≥ 1, got ${String(cfg.maxChannels)}`);
    this.lastPx = instruments.map(() => -1);
    this.lastQty = instruments.map(() => 0);
    const { logger, file } = createLogger({ dir: join(cfg.dataDir, 'logs'), ...cfg.logs });
    this.logFile = file;
    // strict schemas: no type coercion, no unknown fields. Per-request lines are off: the log
    // carries the audit events and errors (docs/security.md "Audit log").
    this.app = Fastify({ loggerInstance: logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }), bodyLimit: 4 * 1024, requestTimeout: 10_000, ajv: { customOptions: { coerceTypes: false, removeAdditional: false } } });
    this.recentTrades = instruments.map(() => []);
    this.app.decorateRequest('auth', null);
    this.keys.onChange((ch) => this.onKeyChange(ch));
    // keep the raw JSON body: signatures cover the bytes the client sent
    this.app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
      (req as FastifyRequest & { rawBody?: string }).rawBody = body as string;
      try {
        done(null, body === '' ? undefined : JSON.parse(body as string));
      } catch {
        const e = new Error('body is not valid JSON') as Error & { statusCode: number; code: string };
        e.statusCode = 400;
        e.code = 'bad_json';
        done(e, undefined);
      }
    });
    this.keyBuckets = new KeyedBuckets(cfg.httpRateLimit ?? { perSecond: 100, burst: 200 });
    this.addressBuckets = new KeyedBuckets(cfg.httpAddressRateLimit ?? { perSecond: 100, burst: 200 });
    this.httpHooks();
    this.routes();
    if (storage) {
      const api = registerStorage(this.app, storage.storage, storage.writer, {
        instruments,
        recentTrades: (id) => { this.pump(); return this.recentTradesJson(id); },
        authorizeSql: (req, reply) => { const a = this.httpAuth(req, reply, 'analyst'); return a === null ? false : { key: String(req.headers['x-ts-key']), account: a }; },
        clickhouse: { authenticate: (user, password, req) => this.clickhouseAuth(user, password, req), refused: (req) => { this.addressBuckets.take(req.ip); } },
      });
      this.storage = { ...storage, api };
    }
    this.orderRoutes();
    this.adminRoutes();
    this.readRoutes();
    this.sagaRoutes();
    const maxPayload = cfg.maxPayload ?? 4096;
    const threshold = cfg.compressThreshold ?? 1024;
    if (!Number.isInteger(threshold) || threshold < 0) throw new TradsysError('ERR_GATEWAY_CONFIG', `compressThreshold must be an integer ≥ 0, got ${String(threshold)}`);
    this.wss = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false });
    // ws honours `threshold` only without context takeover (with it, every frame is compressed)
    this.wssDeflate = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: { threshold, serverNoContextTakeover: true } });
    this.app.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/ws') { socket.destroy(); return; }
      const protocol = url.searchParams.get('protocol') ?? 'json';
      if (protocol !== 'json' && protocol !== 'binary') {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nprotocol must be json or binary\n');
        return;
      }
      const wss = url.searchParams.get('compress') === '1' ? this.wssDeflate : this.wss;
      wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, protocol === 'binary', req.socket.remoteAddress ?? ''));
    });
  }

  /** Builds the gateway and starts its engine thread (not listening yet). */
  static async build(cfg: GatewayConfig): Promise<Gateway> {
    const instruments = loadInstruments(cfg.instruments ?? DEMO_INSTRUMENTS);
    const r = cfg.risk ?? {};
    const host = await EngineHost.start({
      engine: {
        symbols: instruments.length, capacity: cfg.capacity ?? 1_000_000,
        risk: { maxAccounts: r.maxAccounts ?? 65536, maxPositions: r.maxPositions ?? 262144, defaultMaxOpenOrders: r.maxOpenOrders ?? 10_000 },
      },
      riskSetup: { symbols: instruments.map((i) => i.riskLimits()) },
      journal: { dir: join(cfg.dataDir, 'journal'), durability: cfg.journal?.durability ?? 'fsync', snapshotEvery: cfg.journal?.snapshotEvery, segmentBytes: cfg.journal?.segmentBytes, preallocate: cfg.journal?.preallocate },
      log: cfg.log,
      realtime: cfg.engineRealtime,
    });
    let storage: { storage: Storage; writer: StorageWriter } | null = null;
    if (cfg.storage === 'auto') {
      try {
        const st = await openStorage(cfg.dataDir, cfg.storageEnv ?? process.env);
        const writer = StorageWriter.start(host.evtRing, st, {
          symbols: instruments.map((i) => i.symbol), dataDir: cfg.dataDir,
          journalDir: join(cfg.dataDir, 'journal'), backfillToSeq: String(host.lastSeq),
          sizes: instruments.map((i) => ({ tickSize: i.toJSON().tickSize as string, lotSize: i.toJSON().lotSize as string })),
        });
        storage = { storage: st, writer };
      } catch (e) {
        await host.stop();
        throw e;
      }
    }
    const g = new Gateway(host, cfg, instruments, storage);
    const lastSeq = BigInt(host.recovery?.lastSeq ?? 0);
    // read models: their snapshot (if any and sound); the catch-up below brings them to lastSeq
    try {
      g.readModels.load(readModelsFile(cfg.dataDir));
    } catch (e) {
      g.log(`read models: ${(e as Error).message}; rebuilding them from the journal`);
      (g as { readModels: ReadModels }).readModels = new ReadModels({ clientOrderIdOf: (id) => g.orders.get(Number(id))?.clientOrderId });
    }
    g.catchUp(g.journalDir, lastSeq);
    g.sagas = SagaManager.open({
      journalDir: g.journalDir, clock: systemClock, durability: cfg.journal?.durability ?? 'fsync', log: cfg.log,
      submit: (cmd, cid) => { try { return g.host.submit(cmd, 0, 0, cid); } catch { return false; } },
    });
    g.sagas.resume(lastSeq);
    g.readModels.onBatch((b) => g.sagas?.apply(b));
    g.rmTimer = setInterval(() => g.saveReadModels(), 60_000);
    g.rmTimer.unref();
    g.pumpTimer = setInterval(() => g.pump(), 1);
    g.watch();
    g.pingTimer = setInterval(() => g.heartbeat(), g.cfg.pingIntervalMs);
    g.keys.watch(cfg.keysPollMs ?? 200, (message) => g.app.log.error({ audit: 'keys.file_invalid', path: g.keys.path, outcome: 'kept_last_good', error: message }, 'the keys file cannot be used; the keys in force are unchanged'));
    return g;
  }

  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    const url = await this.app.listen({ port, host });
    // `tradsys sql` goes through this server while it holds the store (src/storage/discovery.ts)
    const local = localUrl(this.app.server.address());
    if (this.storage && local) {
      try { writeDiscovery(this.keys.dataDir, local, this.localSecret); } catch (e) { this.log(`cannot write ${this.keys.dataDir}/server.json (tradsys sql will not find this server): ${(e as Error).message}`); }
    }
    return url;
  }

  /**
   * The ClickHouse-compatible endpoint's user/password: an analyst key and its secret, or the
   * local credential. An accepted key is charged to its own HTTP bucket (like a signed request);
   * a refusal is charged to the address by the endpoint (`refused`), once.
   */
  private clickhouseAuth(user: string, password: string, req: FastifyRequest): ClickHouseAuth {
    let who: ClickHouseAuth;
    if (user === LOCAL_USER) {
      who = localCredentialOk(this.localSecret, password, req) ? { ok: true, key: LOCAL_USER, account: null } : { ok: false, reason: 'bad_signature', account: null };
    } else {
      const r = this.keys.checkSecret(user, password, 'analyst');
      if (!r.ok) {
        const reason = r.reason === 'forbidden' || r.reason === 'bad_signature' || r.reason === 'malformed' ? r.reason : 'unknown_key';
        return { ok: false, reason, account: reason === 'unknown_key' ? null : this.keys.get(user)?.account ?? null };
      }
      who = { ok: true, key: r.key, account: r.account };
    }
    if (!who.ok) return who;
    const wait = this.keyBuckets.take(who.key);
    return wait > 0 ? { ok: false, reason: 'rate_limited', waitMs: wait } : who;
  }

  async close(): Promise<void> {
    this.keys.unwatch();
    removeDiscovery(this.keys.dataDir);
    if (this.pumpTimer) clearInterval(this.pumpTimer);
    this.pumpTimer = null;
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const c of this.conns.values()) c.ws.terminate();
    this.wss.close();
    this.wssDeflate.close();
    await this.app.close();
    if (this.rmTimer) clearInterval(this.rmTimer);
    this.pump();
    this.saveReadModels();
    this.sagas?.close();
    if (this.storage) {
      await this.storage.writer.stop();
      await this.storage.storage.close();
    }
    await this.host.stop();
    this.logFile.close();
  }

  // ── HTTP ───────────────────────────────────────────────────────────────────────────────
  /**
   * Rate limits before any work (an address over its limit costs no body parse and no HMAC),
   * and error answers in the API's `{error, message}` form.
   */
  private httpHooks(): void {
    this.app.addHook('onRequest', async (req, reply) => {
      const rc = req.routeOptions.config as { signed?: boolean; chargedAfterAuth?: boolean } | undefined;
      // signed routes and the ClickHouse endpoint's query routes: the address is charged only when
      // authentication fails (httpAuth, the endpoint's `refused`); an accepted key is charged to its own bucket
      const deferred = rc?.signed === true || rc?.chargedAfterAuth === true;
      const wait = deferred ? this.addressBuckets.peek(req.ip) : this.addressBuckets.take(req.ip);
      if (wait > 0) return this.tooMany(reply, wait, 'from this address');
      return undefined;
    });
    this.app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string; validation?: unknown }, req, reply) => {
      const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
      if (status >= 500) req.log.error({ err, req }, 'request failed');
      const error = status === 413 ? 'too_large' : status === 415 ? 'unsupported_media_type' : err.code === 'bad_json' ? 'bad_json'
        : err.validation !== undefined ? 'bad_request' : status < 500 ? 'bad_request' : 'internal';
      return reply.code(status).send({ error, message: status < 500 ? err.message : 'internal error' });
    });
  }

  private tooMany(reply: FastifyReply, waitMs: number, what: string): FastifyReply {
    const s = retryAfterSeconds(waitMs);
    return reply.code(429).header('retry-after', String(s)).send({ error: 'rate_limited', message: `too many requests ${what}; retry after ${s} s` });
  }

  private routes(): void {
    const app = this.app;
    app.get('/health', async () => {
      // degraded (with the reason) when the storage is: down, or its writer lagging (storage/http.ts)
      const storage = this.storage?.api.health();
      const degraded = storage !== undefined && storage.status !== 'ok';
      return {
        status: this.host.failed ? 'failed' : degraded ? 'degraded' : 'ok', ...(degraded && !this.host.failed ? { reason: storage.reason } : {}),
        engineSeq: this.host.lastSeq, connections: this.conns.size, ...(storage ? { storage } : {}),
      };
    });
    app.get('/api/v1/symbols', async () => this.instruments.map((i) => i.toJSON()));
    app.get<{ Params: { symbol: string }; Querystring: { depth?: string } }>('/api/v1/book/:symbol', async (req, reply) => {
      const ins = this.bySymbol.get(req.params.symbol);
      if (!ins) return reply.code(404).send({ error: 'unknown_symbol', message: `no symbol ${req.params.symbol}` });
      const depth = req.query.depth === undefined ? 10 : Number(req.query.depth);
      if (!Number.isInteger(depth) || depth < 1 || depth > 1000) return reply.code(400).send({ error: 'bad_depth', message: 'depth must be an integer in [1, 1000]' });
      this.pump();
      return this.snapshot(ins, depth);
    });
    app.get('/metrics', async (_req, reply) => {
      const c = this.counters;
      reply.type('text/plain; version=0.0.4');
      return [
        '# TYPE tradsys_engine_seq counter', `tradsys_engine_seq ${this.host.lastSeq}`,
        '# TYPE tradsys_ws_connections gauge', `tradsys_ws_connections ${this.conns.size}`,
        '# TYPE tradsys_orders_in_total counter', `tradsys_orders_in_total ${c.ordersIn}`,
        '# TYPE tradsys_events_total counter', `tradsys_events_total ${c.eventsOut}`,
        '# TYPE tradsys_gateway_rejects_total counter', `tradsys_gateway_rejects_total ${c.rejectsGateway}`,
        '# TYPE tradsys_ws_frames_out_total counter', `tradsys_ws_frames_out_total ${c.framesOut}`,
        '# TYPE tradsys_ws_messages_in_total counter', `tradsys_ws_messages_in_total ${c.messagesIn}`,
        '# TYPE tradsys_ws_slow_consumer_closed_total counter', `tradsys_ws_slow_consumer_closed_total ${c.slowConsumerClosed}`,
        '# TYPE tradsys_ws_reaped_total counter', `tradsys_ws_reaped_total ${c.reaped}`, '',
      ].join('\n') + (this.storage ? this.storage.api.metricsText() : '');
    });
  }

  /**
   * HTTP authentication: headers X-TS-KEY, X-TS-TS (epoch ms), X-TS-SIG =
   * hex(HMAC-SHA256(secret, key + ts + [":" + X-TS-NONCE] + METHOD + url + body)). Returns the
   * account or answers 401/403 (each refusal is one audit line).
   */
  private httpAuth(req: FastifyRequest, reply: FastifyReply, need: Permission): number | null {
    return this.httpAuthKey(req, reply, need)?.account ?? null;
  }

  /** httpAuth, answering who authenticated (also left on `req.auth` for the route's own log lines). */
  private httpAuthKey(req: FastifyRequest, reply: FastifyReply, need: Permission): RequestAuth | null {
    const key = req.headers['x-ts-key'];
    const tsText = req.headers['x-ts-ts'];
    const sig = req.headers['x-ts-sig'];
    const nonce = req.headers['x-ts-nonce'];
    const ts = typeof tsText === 'string' && /^\d{1,16}$/.test(tsText) ? Number(tsText) : Number.NaN;
    const body = (req as FastifyRequest & { rawBody?: string }).rawBody ?? '';
    const nonceOk = nonce === undefined || (typeof nonce === 'string' && NONCE.test(nonce));
    const r = nonceOk
      ? this.keys.verify(key, Number.isNaN(ts) ? undefined : ts, sig, httpPayload(req.method, req.url, body, nonce as string | undefined), need)
      : { ok: false as const, reason: 'malformed' as const };
    if (r.ok) {
      const wait = this.keyBuckets.take(r.key);
      if (wait > 0) { void this.tooMany(reply, wait, 'for this API key'); return null; }
      const auth: RequestAuth = { account: r.account, key: r.key, permissions: r.permissions };
      req.auth = auth;
      return auth;
    }
    this.addressBuckets.take(req.ip);
    const keyId = typeof key === 'string' ? key.slice(0, 64) : null;
    const known = keyId === null ? undefined : this.keys.get(keyId);
    const who = { account: known?.account ?? null, key: keyId, ip: req.ip, transport: 'http', method: req.method, url: req.url.slice(0, 256) };
    if (r.reason === 'forbidden') {
      req.log.warn({ audit: 'permission.denied', ...who, outcome: 'denied', need }, `key lacks the ${need} permission`);
      void reply.code(403).send({ error: 'forbidden', message: `this key lacks the ${need} permission` });
      return null;
    }
    req.log.warn({ audit: 'auth.failure', ...who, outcome: 'denied', reason: r.reason }, `authentication failed: ${r.reason}`);
    const reason = r.reason === 'unknown_key' || r.reason === 'bad_signature' ? 'invalid_credentials' : r.reason;
    void reply.code(401).send({ error: reason, message: 'sign key + ts + METHOD + url + body with HMAC-SHA256 (docs/protocol.md)' });
    return null;
  }

  private orderJson(o: OrderInfo): Record<string, unknown> {
    const ins = this.instruments[o.symbol]!;
    return {
      orderId: String(o.orderId), clientOrderId: o.clientOrderId, symbol: ins.symbol, side: o.side === 0 ? 'buy' : 'sell',
      price: o.price > 0n ? ins.toPrice(o.price) : null, qty: ins.toQty(o.qty), leaves: ins.toQty(o.leaves), filled: ins.toQty(o.filled), status: o.status,
    };
  }

  private orderRoutes(): void {
    const app = this.app;
    const dec = { type: 'string', pattern: '^\\d{1,30}(\\.\\d{1,30})?$' };
    const orderSchema = {
      type: 'object', additionalProperties: false, required: ['clientOrderId', 'symbol', 'side', 'type', 'tif', 'qty'],
      properties: {
        clientOrderId: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,36}$' }, symbol: { type: 'string', maxLength: 32 },
        side: { enum: ['buy', 'sell'] }, type: { enum: ['limit', 'market'] }, tif: { enum: ['gtc', 'ioc', 'fok', 'post_only'] }, price: dec, qty: dec,
      },
    };
    const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[1-9]\\d{0,19}$' } } };
    const answer = async (reply: FastifyReply, r: EntryResult, okCode: number): Promise<unknown> => {
      if (!r.ok) return reply.code(r.reason === 'unknown_order' ? 404 : r.reason === 'busy' ? 503 : 422).send({ error: r.reason, message: r.message ?? r.reason });
      if (r.duplicate) return reply.code(200).send({ ...this.orderJson(r.order), duplicate: true });
      const done = await this.awaitCommand(r.order.orderId);
      if (done === null) return reply.code(504).send({ error: 'timeout', message: 'the engine did not answer in time', orderId: String(r.order.orderId) });
      if (done.type === 'R') return reply.code(done.reason === 'unknown_order' ? 404 : 422).send({ error: done.reason, orderId: String(r.order.orderId), seq: done.seq });
      return reply.code(okCode).send({ ...this.orderJson(r.order), seq: done.seq });
    };
    const signed = { signed: true };
    app.post<{ Body: OrderFields }>('/api/v1/orders', { schema: { body: orderSchema }, bodyLimit: ORDER_BODY_LIMIT, config: signed }, async (req, reply) => {
      const account = this.httpAuth(req, reply, 'trade');
      if (account === null) return reply;
      if (req.body.type === 'limit' && req.body.price === undefined) return reply.code(400).send({ error: 'missing_field', message: 'a limit order needs "price"' });
      if (req.body.type === 'market' && req.body.price !== undefined) return reply.code(400).send({ error: 'unknown_field', message: 'a market order has no "price"' });
      const r = this.placeOrder(account, 0, req.body);
      return answer(reply, r, 201);
    });
    app.delete<{ Params: { id: string } }>('/api/v1/orders/:id', { schema: { params: idParams }, config: signed }, async (req, reply) => {
      const account = this.httpAuth(req, reply, 'trade');
      if (account === null) return reply;
      return answer(reply, this.requestCancel(account, { orderId: req.params.id }), 200);
    });
    app.patch<{ Params: { id: string }; Body: { price: string; qty: string } }>('/api/v1/orders/:id', {
      bodyLimit: ORDER_BODY_LIMIT, config: signed, schema: { params: idParams, body: { type: 'object', additionalProperties: false, required: ['price', 'qty'], properties: { price: dec, qty: dec } } },
    }, async (req, reply) => {
      const account = this.httpAuth(req, reply, 'trade');
      if (account === null) return reply;
      return answer(reply, this.requestModify(account, { orderId: req.params.id }, req.body.price, req.body.qty), 200);
    });
    app.get<{ Params: { id: string } }>('/api/v1/orders/:id', { schema: { params: idParams }, config: signed }, async (req, reply) => {
      const account = this.httpAuth(req, reply, 'read');
      if (account === null) return reply;
      const o = this.orders.find(account, Number(req.params.id));
      return o ? this.orderJson(o) : reply.code(404).send({ error: 'unknown_order', message: 'no such order' });
    });
    app.get<{ Querystring: { status?: string; clientOrderId?: string } }>('/api/v1/orders', {
      config: signed, schema: { querystring: { type: 'object', additionalProperties: false, properties: { status: { enum: ['open'] }, clientOrderId: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,36}$' } } } },
    }, async (req, reply) => {
      const account = this.httpAuth(req, reply, 'read');
      if (account === null) return reply;
      if (req.query.clientOrderId !== undefined) {
        const o = this.orders.liveByClientId(account, req.query.clientOrderId);
        return o ? this.orderJson(o) : reply.code(404).send({ error: 'unknown_order', message: 'no live order with that clientOrderId' });
      }
      return this.orders.open(account).map((o) => this.orderJson(o));
    });
    if (this.storage === null) { // with storage, its plugin serves this route (memory without from/to)
      app.get<{ Params: { symbol: string } }>('/api/v1/trades/:symbol', async (req, reply) => {
        const ins = this.bySymbol.get(req.params.symbol);
        if (!ins) return reply.code(404).send({ error: 'unknown_symbol', message: `no symbol ${req.params.symbol}` });
        this.pump();
        return reply.type('application/json; charset=utf-8').send(this.recentTradesJson(ins.id));
      });
    }
  }

  private snapshot(ins: Instrument, depth = 1000): Record<string, unknown> {
    const side = (s: number): string[][] => this.book.depth(ins.id, s, depth).map(([p, q]) => [ins.toPrice(BigInt(p)), ins.toQty(q)]);
    return { type: 'book', symbol: ins.symbol, seq: this.bookSeq[ins.id], bids: side(0), asks: side(1) };
  }

  // ── WebSocket ──────────────────────────────────────────────────────────────────────────
  private onConnection(ws: WebSocket, binary: boolean, ip: string): void {
    const now = Date.now();
    const c: Conn = {
      id: this.nextConn++, ws, account: null, canTrade: false, cancelOnDisconnect: false, books: new Set(), trades: new Set(), tickers: new Set(),
      stale: new Set(), lastSeen: now, tokens: this.cfg.rateLimit.burst, tokensAt: now, limited: 0, bin: binary ? new BinaryWriter(4096) : null, dirty: false,
      bound: null, reqIds: null, nextToken: 1,
      ip, key: null, denied: 0,
    };
    this.conns.set(c.id, c);
    this.counters.wsConnections++;
    ws.on('pong', () => { c.lastSeen = Date.now(); });
    ws.on('message', (data, isBinary) => {
      if (this.conns.get(c.id) !== c) return; // closed by the server (revoked key, slow consumer): nothing more runs
      c.lastSeen = Date.now();
      if (c.bin) { this.onBinaryFrame(c, data as Buffer, isBinary); return; }
      this.counters.messagesIn++;
      if (!this.allow(c)) {
        c.limited++;
        if (c.limited === 1 || c.limited % 100 === 0) this.send(c, { type: 'error', code: 'rate_limited', message: `more than ${this.cfg.rateLimit.perSecond} messages/s; messages are being dropped` });
        return;
      }
      if (isBinary) { this.send(c, { type: 'error', code: 'bad_frame', message: 'binary frames need the binary protocol (not enabled on this connection)' }); return; }
      let msg: ClientMessage;
      try {
        msg = parseClientMessage(data.toString());
      } catch (e) {
        if (e instanceof ProtocolError) { this.sendRaw(c, errorFrame(e)); return; }
        throw e;
      }
      this.onMessage(c, msg);
    });
    ws.on('close', () => this.disconnect(c));
    ws.on('error', () => this.disconnect(c));
  }

  // ── binary protocol ────────────────────────────────────────────────────────────────────
  /** One inbound frame of a binary connection: validated whole, then each message in order. */
  private onBinaryFrame(c: Conn, data: Buffer, isBinary: boolean): void {
    if (!isBinary) {
      this.counters.messagesIn++;
      this.out(c).error(0, 'bad_frame', 0);
      this.flushAll();
      return;
    }
    let msgs: ClientBinMessage[];
    try {
      msgs = decodeFrame(data, 'client');
    } catch (e) {
      if (!(e instanceof BinaryProtocolError)) throw e;
      this.counters.messagesIn++;
      this.out(c).error(e.reqId, 'bad_frame', e.msgType);
      this.flushAll();
      return;
    }
    this.counters.messagesIn += msgs.length;
    this.frameSnaps.clear();
    for (const m of msgs) {
      if (!this.allow(c)) {
        c.limited++;
        if (c.limited === 1 || c.limited % 100 === 0) this.out(c).error(m.reqId, 'rate_limited', 0);
        continue;
      }
      this.onBinaryMessage(c, m);
    }
    this.flushAll();
  }

  private onBinaryMessage(c: Conn, m: ClientBinMessage): void {
    switch (m.kind) {
      case 'ping': this.out(c).pong(m.reqId); return;
      case 'auth': {
        const r = this.keys.verify(m.key, m.ts, m.sig);
        this.auditWsAuth(c, m.key, r);
        if (!r.ok) { this.out(c).authResult(m.reqId, false, r.reason === 'bad_signature' || r.reason === 'unknown_key' ? 'invalid_credentials' : r.reason, 0); return; }
        c.account = r.account;
        c.key = r.key;
        c.canTrade = r.permissions.includes('trade');
        c.cancelOnDisconnect = m.cancelOnDisconnect;
        this.bind(c);
        this.out(c).authResult(m.reqId, true, null, r.account);
        return;
      }
      case 'subscribe':
      case 'unsubscribe': {
        // as JSON (onSubscribe): all or nothing, capped; a channel subscribed again in the same frame
        // (with no unsubscribe between) is the same subscription: no second snapshot or ticker
        const type = m.kind === 'subscribe' ? MsgType.SUBSCRIBE : MsgType.UNSUBSCRIBE;
        const ins = this.instruments[m.instrument];
        if (!ins) { this.out(c).error(m.reqId, 'unknown_symbol', type); return; }
        const sets: [number, Set<number>][] = [[Channel.BOOK, c.books], [Channel.TRADES, c.trades], [Channel.TICKER, c.tickers]];
        if (m.kind === 'subscribe') {
          let added = 0;
          for (const [bit, set] of sets) if ((m.channels & bit) !== 0 && !set.has(ins.id)) added++;
          if (c.books.size + c.trades.size + c.tickers.size + added > this.cfg.maxChannels) { this.out(c).error(m.reqId, 'too_many_channels', type); return; }
          this.pump();
        }
        for (const [bit, set] of sets) {
          if ((m.channels & bit) === 0) continue;
          if (m.kind === 'unsubscribe') { set.delete(ins.id); this.frameSnaps.delete(ins.id * 8 + bit); continue; }
          set.add(ins.id);
          if (bit === Channel.TRADES) continue;
          const once = ins.id * 8 + bit;
          if (this.frameSnaps.has(once)) continue; // already sent in this frame; deltas follow it
          this.frameSnaps.add(once);
          if (bit === Channel.BOOK) this.binarySnapshot(this.out(c), ins);
          else this.binaryTicker(this.out(c), ins);
        }
        this.out(c).subscribed(m.reqId, ins.id, m.channels, m.kind === 'subscribe');
        return;
      }
      default:
        break;
    }
    const type = m.kind === 'order' ? MsgType.NEW_ORDER : m.kind === 'cancel' ? MsgType.CANCEL : MsgType.MODIFY;
    if (c.account === null) { this.out(c).error(m.reqId, 'not_authenticated', type); return; }
    if (!c.canTrade) { this.auditDenied(c, m.kind); this.out(c).error(m.reqId, 'forbidden', type); return; }
    const account = c.account;
    if (m.kind === 'order') {
      const r = this.placeOrderTicks(account, c.id, m.clientOrderId, m.instrument, m.side, m.type, m.tif, m.price, m.qty, m.reqId);
      if (!r.ok) { this.counters.rejectsGateway++; this.out(c).reject(m.reqId, m.clientOrderId, 0, null, r.reason); } else if (r.duplicate) this.out(c).ack(m.reqId, r.order.clientOrderId, r.order.orderId, null, true);
      return;
    }
    const ref: OrderRef = m.orderId !== 0 ? { orderId: String(m.orderId) } : { clientOrderId: m.clientOrderId };
    let r: EntryResult;
    if (m.kind === 'cancel') r = this.requestCancel(account, ref, m.reqId, c.id);
    else {
      const o = this.lookup(account, ref);
      r = !o ? { ok: false, reason: 'unknown_order' } : m.price <= 0 ? { ok: false, reason: 'bad_price' } : m.qty <= 0 ? { ok: false, reason: 'bad_qty' } : this.submitModify(o, account, BigInt(m.price), m.qty, m.reqId, c.id);
    }
    if (!r.ok) { this.counters.rejectsGateway++; this.out(c).reject(m.reqId, m.clientOrderId, m.orderId, null, r.reason); }
  }

  /** The writer of a binary connection, listed for the next flush; flushes first at the size budget. */
  private out(c: Conn): BinaryWriter {
    const w = c.bin!;
    if (w.size >= this.cfg.binaryFrameBytes) this.flush(c);
    if (!c.dirty) { c.dirty = true; this.dirty.push(c); }
    return w;
  }

  /** Sends a binary connection's frame (the slow-consumer hard limit applies as for JSON). */
  private flush(c: Conn): void {
    const frame = c.bin!.take();
    if (frame === null || c.ws.readyState !== c.ws.OPEN) return;
    if (c.ws.bufferedAmount > this.cfg.buffer.hard) { this.closeSlowConsumer(c); return; }
    c.ws.send(frame);
    this.counters.framesOut++;
  }

  private flushAll(): void {
    const d = this.dirty;
    for (let i = 0; i < d.length; i++) { const c = d[i]!; c.dirty = false; this.flush(c); }
    d.length = 0;
  }

  private binarySnapshot(w: BinaryWriter, ins: Instrument): void {
    w.book(0, ins.id, this.bookSeq[ins.id]!, this.book.depth(ins.id, 0, 1000), this.book.depth(ins.id, 1, 1000));
  }

  private binaryTicker(w: BinaryWriter, ins: Instrument): void {
    const [b] = this.book.depth(ins.id, 0, 1);
    const [a] = this.book.depth(ins.id, 1, 1);
    const lp = this.lastPx[ins.id]!;
    w.ticker(0, ins.id, b ? b[0] : null, b ? b[1] : null, a ? a[0] : null, a ? a[1] : null, lp < 0 ? null : lp, lp < 0 ? null : this.lastQty[ins.id]!, Date.now() * 1e6);
  }

  /** Token bucket per connection. */
  private allow(c: Conn): boolean {
    const now = Date.now();
    const rl = this.cfg.rateLimit;
    c.tokens = Math.min(rl.burst, c.tokens + ((now - c.tokensAt) * rl.perSecond) / 1000);
    c.tokensAt = now;
    if (c.tokens < 1) return false;
    c.tokens -= 1;
    return true;
  }

  private closeSlowConsumer(c: Conn): void {
    this.counters.slowConsumerClosed++;
    this.app.log.warn({ audit: 'ws.slow_consumer', account: c.account, key: c.key, ip: c.ip, conn: c.id, outcome: 'closed', bufferedBytes: c.ws.bufferedAmount, limitBytes: this.cfg.buffer.hard }, 'slow consumer closed');
    c.ws.close(1008, 'slow consumer');
    this.disconnect(c);
  }

  // ── keys and the audit log (docs/security.md) ──────────────────────────────────────────
  private auditWsAuth(c: Conn, key: string, r: { ok: true; account: number } | { ok: false; reason: string }): void {
    const transport = c.bin ? 'ws-binary' : 'ws';
    if (r.ok) { this.app.log.info({ audit: 'auth.success', account: r.account, key, ip: c.ip, transport, conn: c.id, outcome: 'ok' }, 'WebSocket session authenticated'); return; }
    const known = this.keys.get(key);
    this.app.log.warn({ audit: 'auth.failure', account: known?.account ?? null, key: key.slice(0, 64), ip: c.ip, transport, conn: c.id, outcome: 'denied', reason: r.reason }, `authentication failed: ${r.reason}`);
  }

  /** A command refused for lack of the trade permission: the first of a connection, then every 100th (with the count). */
  private auditDenied(c: Conn, op: string): void {
    c.denied++;
    if (c.denied !== 1 && c.denied % 100 !== 0) return;
    this.app.log.warn({ audit: 'permission.denied', account: c.account, key: c.key, ip: c.ip, transport: c.bin ? 'ws-binary' : 'ws', conn: c.id, outcome: 'denied', need: 'trade', op, count: c.denied }, 'key lacks the trade permission');
  }

  /**
   * A change of the keys in force (this process's or another's, seen in the keys file): one audit
   * line; a revoked or changed key's WebSocket sessions are closed (WS_CLOSE_KEY_REVOKED).
   */
  private onKeyChange(ch: KeyChange): void {
    const k = ch.key;
    let closed = 0;
    if (ch.kind !== 'created') closed = this.closeKeySessions(k.key, ch.kind === 'revoked' ? 'key revoked' : 'key changed');
    const by = ch.by ? { by: { account: ch.by.account, key: ch.by.key } } : {};
    this.app.log[ch.kind === 'changed' ? 'warn' : 'info']({
      audit: `key.${ch.kind}`, account: k.account, key: k.key, ip: ch.by?.ip ?? null, outcome: 'ok', source: ch.source === 'local' && ch.by ? 'api' : ch.source,
      permissions: k.permissions, closedSessions: closed, ...by,
    }, `API key ${ch.kind}${ch.source === 'file' ? ' (seen in the keys file)' : ''}`);
  }

  /** Closes the WebSocket sessions authenticated with `key`; returns how many. */
  private closeKeySessions(key: string, reason: string): number {
    let n = 0;
    for (const c of [...this.conns.values()]) {
      if (c.key !== key) continue;
      n++;
      this.app.log.info({ audit: 'ws.closed_revoked', account: c.account, key, ip: c.ip, transport: c.bin ? 'ws-binary' : 'ws', conn: c.id, outcome: 'closed', reason }, 'WebSocket session closed: its key is no longer valid');
      if (c.bin && c.bin.size > 0) this.flush(c);
      c.ws.close(WS_CLOSE_KEY_REVOKED, reason);
      this.disconnect(c);
      c.account = null;
      c.key = null;
      c.canTrade = false;
    }
    return n;
  }

  private disconnect(c: Conn): void {
    if (!this.conns.delete(c.id)) return;
    this.unbind(c);
    if (c.cancelOnDisconnect && c.account !== null) {
      // reported to the account's other live connections (origin 0: no sender to answer)
      for (const o of this.orders.open(c.account)) if (o.conn === c.id) this.requestCancel(c.account, { orderId: String(o.orderId) });
    }
  }

  /** Pings every connection; closes peers silent for longer than deadAfterMs. */
  private heartbeat(): void {
    const now = Date.now();
    for (const c of this.conns.values()) {
      if (now - c.lastSeen >= this.cfg.deadAfterMs) { this.counters.reaped++; c.ws.terminate(); this.disconnect(c); continue; }
      if (c.ws.readyState === c.ws.OPEN) c.ws.ping();
    }
  }

  private send(c: Conn, msg: Record<string, unknown>): void { this.sendRaw(c, JSON.stringify(msg)); }
  private sendRaw(c: Conn, text: string): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    if (c.ws.bufferedAmount > this.cfg.buffer.hard) { this.closeSlowConsumer(c); return; }
    c.ws.send(text);
    this.counters.framesOut++;
  }
  private withReq(msg: Record<string, unknown>, reqId: unknown): Record<string, unknown> {
    return reqId === undefined ? msg : { ...msg, reqId };
  }

  private onMessage(c: Conn, m: ClientMessage): void {
    if (m.op === 'ping') { this.send(c, this.withReq({ type: 'pong' }, m.reqId)); return; }
    if (m.op === 'auth') {
      const r = this.keys.verify(m.key, m.ts, m.sig, m.nonce === undefined ? '' : ':' + m.nonce);
      this.auditWsAuth(c, m.key, r);
      if (!r.ok) { this.send(c, this.withReq({ type: 'auth', ok: false, reason: r.reason === 'bad_signature' || r.reason === 'unknown_key' ? 'invalid_credentials' : r.reason }, m.reqId)); return; }
      c.account = r.account;
      c.key = r.key;
      c.canTrade = r.permissions.includes('trade');
      c.cancelOnDisconnect = m.cancelOnDisconnect === true;
      if (m.resumeFrom === undefined) this.bind(c);
      else this.unbind(c); // resume() lists it once the journal's reports are out (no duplicate)
      this.send(c, this.withReq({ type: 'auth', ok: true, account: r.account }, m.reqId));
      if (m.resumeFrom !== undefined) this.resume(c, r.account, BigInt(m.resumeFrom), m.reqId);
      return;
    }
    if (m.op === 'subscribe' || m.op === 'unsubscribe') { this.onSubscribe(c, m.op, m.channels, m.reqId); return; }
    if (c.account === null) { this.send(c, this.withReq({ type: 'error', code: 'not_authenticated', message: 'send {"op":"auth",...} first' }, m.reqId)); return; }
    if (!c.canTrade) { this.auditDenied(c, m.op); this.send(c, this.withReq({ type: 'error', code: 'forbidden', message: 'this key has no trade permission' }, m.reqId)); return; }
    const account = c.account;
    if (m.op !== 'order' && m.op !== 'cancel' && m.op !== 'modify') return;
    const token = this.jsonToken(c, m.reqId);
    if (m.op === 'order') {
      const r = this.placeOrder(account, c.id, m, token);
      if (!r.ok || r.duplicate) c.reqIds?.delete(token);
      if (!r.ok) this.reject(c, { clientOrderId: m.clientOrderId }, r.reason, m.reqId, r.message);
      else if (r.duplicate) this.send(c, this.withReq({ type: 'ack', clientOrderId: r.order.clientOrderId, orderId: String(r.order.orderId), seq: null, duplicate: true }, m.reqId));
      return;
    }
    const ref: OrderRef = m.orderId !== undefined ? { orderId: m.orderId } : { clientOrderId: m.clientOrderId };
    const r = m.op === 'cancel'
      ? this.requestCancel(account, ref, token, c.id)
      : this.requestModify(account, ref, m.price, m.qty, token, c.id);
    if (!r.ok) { c.reqIds?.delete(token); this.reject(c, ref, r.reason, m.reqId, r.message); }
  }

  /**
   * A JSON (un)subscribe, all or nothing: the channels are deduplicated (a channel named twice is
   * one channel: one snapshot); an unknown symbol answers one `unknown_symbol` error naming the bad
   * channels and applies nothing; a subscribe that would take the connection past `maxChannels`
   * answers `too_many_channels` and applies nothing. Otherwise the snapshots and tickers asked for,
   * then `subscribed` with the distinct channels. Subscribing to a channel already held sends a
   * fresh snapshot (a resync) and does not count twice.
   */
  private onSubscribe(c: Conn, op: 'subscribe' | 'unsubscribe', names: string[], reqId: ReqId | undefined): void {
    const channels = [...new Set(names)];
    const unknown = channels.filter((ch) => !this.bySymbol.has(ch.slice(ch.indexOf('.') + 1)));
    if (unknown.length > 0) {
      const syms = [...new Set(unknown.map((ch) => ch.slice(ch.indexOf('.') + 1)))].join(', ');
      this.send(c, this.withReq({ type: 'error', code: 'unknown_symbol', message: `no symbol ${syms}; nothing of this message was ${op}d`, channels: unknown }, reqId));
      return;
    }
    const setOf = (ch: string): Set<number> => (ch.startsWith('book.') ? c.books : ch.startsWith('trades.') ? c.trades : c.tickers);
    const insOf = (ch: string): Instrument => this.bySymbol.get(ch.slice(ch.indexOf('.') + 1))!;
    if (op === 'subscribe') {
      const added = channels.filter((ch) => !setOf(ch).has(insOf(ch).id)).length;
      const held = c.books.size + c.trades.size + c.tickers.size;
      if (held + added > this.cfg.maxChannels) {
        this.send(c, this.withReq({ type: 'error', code: 'too_many_channels', message: `a connection holds at most ${this.cfg.maxChannels} channels; it holds ${held} and this message adds ${added}; nothing was subscribed` }, reqId));
        return;
      }
    }
    if (op === 'subscribe') this.pump(); // pending deltas go out before the channels are added: the snapshots below are current
    for (const ch of channels) {
      const ins = insOf(ch);
      const set = setOf(ch);
      if (op === 'unsubscribe') { set.delete(ins.id); continue; }
      set.add(ins.id);
      if (set === c.books) this.send(c, this.snapshot(ins));
      if (set === c.tickers) this.send(c, this.ticker(ins));
    }
    this.send(c, this.withReq({ type: 'subscribed', channels, ok: op === 'subscribe' }, reqId));
  }

  // ── order entry, shared by WebSocket and HTTP ──────────────────────────────────────────
  /**
   * Queues one command (false: the command ring is full). Writes the CMD record in place; `price`
   * is ticks (a bigint from decimal conversion, or a safe-integer number from the binary codec).
   */
  private submit(op: number, side: number, type: number, tif: number, symbol: number, id: number, price: bigint | number, qty: number, account: number, origin: number, token: number, clientOrderId = ''): 'ok' | 'busy' | 'unavailable' {
    if (this.host.failed !== null) return 'unavailable';
    const dv = this.cmdDv;
    dv.setUint8(CMD_OFF.op, op);
    dv.setUint8(CMD_OFF.side, side);
    dv.setUint8(CMD_OFF.type, type);
    dv.setUint8(CMD_OFF.tif, tif);
    dv.setUint32(CMD_OFF.symbol, symbol, true);
    dv.setUint32(CMD_OFF.id, id % 4294967296, true);
    dv.setUint32(CMD_OFF.id + 4, Math.floor(id / 4294967296), true);
    if (typeof price === 'bigint') dv.setBigInt64(CMD_OFF.price, price, true);
    else { const hi = Math.floor(price / 4294967296); dv.setUint32(CMD_OFF.price, price - hi * 4294967296, true); dv.setInt32(CMD_OFF.price + 4, hi, true); }
    dv.setUint32(CMD_OFF.qty, qty, true);
    dv.setUint32(CMD_OFF.account, account, true);
    try {
      return this.host.submitRaw(this.cmdRec, 0, origin, token, nowNs(), clientOrderId) ? 'ok' : 'busy';
    } catch (e) {
      if (this.host.failed !== null) return 'unavailable';
      throw e;
    }
  }

  /**
   * Ack latency: the 1 ms pump interval alone would add up to 1 ms to every answer, so the gateway
   * also waits (Atomics.waitAsync, no spinning) on the event ring's published count, which the
   * engine thread notifies after each publish, and pumps when it changes. The count is read before
   * the pump, so a publish during the pump makes the wait return at once (nothing is missed); a
   * publisher that keeps the count moving is re-checked after yielding to I/O (setImmediate).
   */
  private watch(): void {
    if (this.watching || this.pumpTimer === null) return;
    for (let i = 0; i < 4; i++) {
      const seen = Atomics.load(this.published, 0);
      this.pump();
      const r = AtomicsAsync.waitAsync(this.published, 0, seen, 250);
      if (r.async) { this.watching = true; void r.value.then(this.onPublished); return; }
    }
    setImmediate(this.onPublished);
  }
  private readonly onPublished = (): void => { this.watching = false; this.watch(); };

  placeOrder(account: number, conn: number, m: OrderFields, token = 0): EntryResult {
    const prior = this.orders.liveByClientId(account, m.clientOrderId);
    if (prior) return { ok: true, order: prior, duplicate: true };
    const ins = this.bySymbol.get(m.symbol);
    if (!ins) return { ok: false, reason: 'unknown_symbol' };
    let price = 0n;
    let qty: number;
    try {
      if (m.type === 'limit') price = ins.toTicks(m.price ?? '');
      qty = ins.toLots(m.qty);
    } catch (e) {
      return { ok: false, reason: (e as TradsysError).code === 'ERR_QTY_LOT' ? 'bad_qty' : 'bad_price', message: (e as Error).message };
    }
    return this.enterOrder(account, conn, m.clientOrderId, ins.id, m.side === 'buy' ? 0 : 1, m.type === 'limit' ? 0 : 1, { gtc: 0, ioc: 1, fok: 2, post_only: 3 }[m.tif], price, qty, token);
  }

  /** Order entry in ticks and lots (binary protocol): the same checks, in the same order, as placeOrder. */
  placeOrderTicks(account: number, conn: number, clientOrderId: string, symbol: number, side: number, type: number, tif: number, price: number, qty: number, token = 0): EntryResult {
    const prior = this.orders.liveByClientId(account, clientOrderId);
    if (prior) return { ok: true, order: prior, duplicate: true };
    if (symbol >= this.instruments.length) return { ok: false, reason: 'unknown_symbol' };
    if (type === 0 && price <= 0) return { ok: false, reason: 'bad_price' };
    if (qty <= 0) return { ok: false, reason: 'bad_qty' };
    return this.enterOrder(account, conn, clientOrderId, symbol, side, type, tif, type === 0 ? price : 0, qty, token);
  }

  private enterOrder(account: number, conn: number, clientOrderId: string, symbol: number, side: number, type: number, tif: number, price: bigint | number, qty: number, token: number): EntryResult {
    const o = this.orders.create({ account, clientOrderId, symbol, side, price: typeof price === 'bigint' ? price : BigInt(price), qty, conn });
    this.counters.ordersIn++;
    const sent = this.submit(1, side, type, tif, symbol, o.orderId, price, qty, account, conn, token, clientOrderId);
    if (sent !== 'ok') {
      this.orders.finish(o, 'rejected');
      return this.refused(sent);
    }
    return { ok: true, order: o };
  }

  /** The live order of `account` named by clientOrderId or orderId (others' orders are unknown). */
  private lookup(account: number, ref: OrderRef): OrderInfo | undefined {
    const o = ref.orderId !== undefined ? this.orders.find(account, Number(ref.orderId)) : ref.clientOrderId !== undefined ? this.orders.liveByClientId(account, ref.clientOrderId) : undefined;
    return o && (o.status === 'open' || o.status === 'pending') ? o : undefined;
  }

  /** `origin`: the connection sending the cancel (0: HTTP or the gateway itself), which gets the direct answer. */
  requestCancel(account: number, ref: OrderRef, token = 0, origin = 0): EntryResult {
    const o = this.lookup(account, ref);
    if (!o) return { ok: false, reason: 'unknown_order' };
    const sent = this.submit(2, o.side, 0, 0, o.symbol, o.orderId, 0, 0, account, origin, token);
    if (sent !== 'ok') return this.refused(sent);
    return { ok: true, order: o };
  }

  requestModify(account: number, ref: OrderRef, priceText: string, qtyText: string, token = 0, origin = 0): EntryResult {
    const o = this.lookup(account, ref);
    if (!o) return { ok: false, reason: 'unknown_order' };
    const ins = this.instruments[o.symbol]!;
    let price: bigint;
    let qty: number;
    try {
      price = ins.toTicks(priceText);
      qty = ins.toLots(qtyText);
    } catch (e) {
      return { ok: false, reason: (e as TradsysError).code === 'ERR_QTY_LOT' ? 'bad_qty' : 'bad_price', message: (e as Error).message };
    }
    return this.submitModify(o, account, price, qty, token, origin);
  }

  private submitModify(o: OrderInfo, account: number, price: bigint, qty: number, token: number, origin: number): EntryResult {
    const sent = this.submit(3, o.side, 0, 0, o.symbol, o.orderId, price, qty, account, origin, token);
    if (sent !== 'ok') return this.refused(sent);
    return { ok: true, order: o };
  }

  /** Resolves with the last event (type and reason) of the next command about `orderId`. */
  awaitCommand(orderId: number, timeoutMs = 5000): Promise<{ type: string; reason: string | null; seq: number } | null> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.waiters.delete(orderId); resolve(null); }, timeoutMs);
      this.waiters.set(orderId, (r) => { clearTimeout(t); resolve(r); });
    });
  }

  // ── read side: resume, positions, fills (docs/cqrs.md) ──────────────────────────────────
  private saveReadModels(): void {
    try {
      this.readModels.save(readModelsFile(join(this.journalDir, '..')));
    } catch (e) {
      // the journal stays the source of truth: the next start catches up from an older checkpoint
      this.log(`read models: snapshot not saved (${(e as Error).message}); the next start replays more of the journal`);
    }
  }

  /**
   * Private-stream resume after a reconnect: the account's execution reports with seq in
   * (from, now] from the journal, then live ones on this connection — no gap, no duplicate (the
   * gateway is single-threaded: the pump is drained first, and live reports after `now` come
   * through onEvent, routed here by moving the account's live orders to this connection).
   */
  private resume(c: Conn, account: number, from: bigint, reqId: unknown): void {
    this.pump();
    const to = this.readModels.checkpoint;
    let after = from;
    let complete = true;
    // bounded (10 × 10,000 reports): a longer absence is read back over HTTP (orders, fills)
    for (let round = 0; round < 10 && after < to; round++) {
      const r = replayAccountReports(this.journalDir, account, after, this.instruments, { toSeq: to, orders: this.readModels.orders, maxReports: 10_000 });
      for (const rep of r.reports) this.send(c, rep as unknown as Record<string, unknown>);
      if (r.lastSeq <= after) break;
      after = r.lastSeq;
      complete = r.complete;
      if (complete) break;
    }
    this.bind(c); // live reports from here on: the pump above delivered nothing to it, the journal the rest
    for (const o of this.orders.open(account)) o.conn = c.id;
    this.send(c, this.withReq({ type: 'resumed', from: Number(from) + 1, to: Number(to), complete: complete && after >= to }, reqId));
  }

  private readRoutes(): void {
    const app = this.app;
    app.get<{ Querystring: { symbol?: string } }>('/api/v1/positions', {
      schema: { querystring: { type: 'object', additionalProperties: false, properties: { symbol: { type: 'string', maxLength: 32 } } } },
    }, async (req, reply) => {
      const account = this.httpAuth(req, reply, 'read');
      if (account === null) return reply;
      let only: Instrument | undefined;
      if (req.query.symbol !== undefined) {
        only = this.bySymbol.get(req.query.symbol);
        if (!only) return reply.code(404).send({ error: 'unknown_symbol', message: `no symbol ${req.query.symbol}` });
      }
      this.pump();
      const positions = this.readModels.positions.positions(account).filter((p) => !only || p.symbol === only.id);
      return { seq: Number(this.readModels.checkpoint), positions: positions.map((p) => positionJson(this.instruments[p.symbol]!, p)) };
    });
    app.get<{ Querystring: { symbol?: string; afterSeq?: string; limit?: string } }>('/api/v1/fills', {
      schema: {
        querystring: {
          type: 'object', additionalProperties: false,
          properties: { symbol: { type: 'string', maxLength: 32 }, afterSeq: { type: 'string', pattern: '^\\d{1,19}$' }, limit: { type: 'string', pattern: '^[1-9]\\d{0,3}$' } },
        },
      },
    }, async (req, reply) => {
      const account = this.httpAuth(req, reply, 'read');
      if (account === null) return reply;
      let symbol: number | undefined;
      if (req.query.symbol !== undefined) {
        const ins = this.bySymbol.get(req.query.symbol);
        if (!ins) return reply.code(404).send({ error: 'unknown_symbol', message: `no symbol ${req.query.symbol}` });
        symbol = ins.id;
      }
      const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
      if (limit > 1000) return reply.code(400).send({ error: 'bad_field', message: 'limit must be 1..1000' });
      this.pump();
      const fills = this.readModels.fills.fills(account, { afterSeq: req.query.afterSeq === undefined ? undefined : BigInt(req.query.afterSeq), limit, symbol });
      return { fills: fills.map((f) => fillJson(this.instruments[f.symbol]!, f)), nextAfterSeq: fills.length ? Number(fills[fills.length - 1]!.seq) : null };
    });
  }

  private sagaRoutes(): void {
    const leg = {
      type: 'object', additionalProperties: false, required: ['symbol', 'side', 'qty'],
      properties: { symbol: { type: 'string', maxLength: 32 }, side: { enum: ['buy', 'sell'] }, price: { type: 'string', pattern: '^\\d{1,30}(\\.\\d{1,30})?$' }, qty: { type: 'string', pattern: '^\\d{1,30}(\\.\\d{1,30})?$' }, tif: { enum: ['gtc', 'ioc'] } },
    };
    type LegBody = { symbol: string; side: 'buy' | 'sell'; price?: string; qty: string; tif?: 'gtc' | 'ioc' };
    const json = (s: unknown): unknown => JSON.parse(JSON.stringify(s, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    this.app.post<{ Body: { legA: LegBody; legB: LegBody; legBTimeoutMs: number; legATimeoutMs?: number } }>('/api/v1/sagas/pairs', {
      schema: {
        body: {
          type: 'object', additionalProperties: false, required: ['legA', 'legB', 'legBTimeoutMs'],
          properties: { legA: leg, legB: leg, legBTimeoutMs: { type: 'integer', minimum: 1, maximum: 3_600_000 }, legATimeoutMs: { type: 'integer', minimum: 1, maximum: 86_400_000 } },
        },
      },
    }, async (req, reply) => {
      const account = this.httpAuth(req, reply, 'trade');
      if (account === null) return reply;
      if (!this.sagas) return reply.code(503).send({ error: 'unavailable', message: 'sagas are not running' });
      const toLeg = (l: LegBody): PairsLeg => {
        const ins = this.bySymbol.get(l.symbol);
        if (!ins) throw new TradsysError('ERR_INSTRUMENT_SPEC', `no symbol ${l.symbol}`);
        return { symbol: ins.id, side: l.side === 'buy' ? 0 : 1, price: l.price === undefined ? 0n : ins.toTicks(l.price), qty: ins.toLots(l.qty), tif: l.tif === 'ioc' ? 1 : 0 };
      };
      let legA: PairsLeg;
      let legB: PairsLeg;
      try { legA = toLeg(req.body.legA); legB = toLeg(req.body.legB); } catch (e) { return reply.code(400).send({ error: 'bad_field', message: (e as Error).message }); }
      try {
        const no = this.sagas.startPairs({ account, legA, legB, legBTimeoutMs: req.body.legBTimeoutMs, legATimeoutMs: req.body.legATimeoutMs });
        return reply.code(201).send(json(this.sagas.saga(no)));
      } catch (e) {
        if (e instanceof TradsysError) return reply.code(e.status).send({ error: e.code, message: e.message });
        throw e;
      }
    });
    this.app.get<{ Params: { no: string } }>('/api/v1/sagas/:no', { schema: { params: { type: 'object', required: ['no'], properties: { no: { type: 'string', pattern: '^[1-9]\\d{0,9}$' } } } } }, async (req, reply) => {
      const account = this.httpAuth(req, reply, 'read');
      if (account === null) return reply;
      const s = this.sagas?.saga(Number(req.params.no));
      if (!s || (s.params as { account: number }).account !== account) return reply.code(404).send({ error: 'unknown_saga', message: 'no such saga' });
      return json(s);
    });
  }

  // ── admin: halts and kill switches (sequenced through the engine as ADMIN commands) ─────
  private adminSeq = 0;
  /** Resting orders of killed accounts still to cancel (retried while the command ring is full). */
  private readonly killCancels: [number, number][] = [];
  private catchingUp = false;

  /** Sends the pending kill-switch cancels; those refused as busy stay queued for the next pump. */
  private drainKillCancels(): void {
    while (this.killCancels.length > 0) {
      const [account, orderId] = this.killCancels[0]!;
      const r = this.requestCancel(account, { orderId: String(orderId) });
      if (!r.ok && r.reason === 'busy') return;
      this.killCancels.shift();
    }
  }

  /**
   * Rebuilds the gateway's read side (orders with their clientOrderIds, book, recent trades,
   * halts) from the journal records 1..lastSeq, before any client connects: the same code path as
   * live events, with no connection to send to. The read models take the records after their
   * snapshot's checkpoint in the same pass.
   */
  private catchUp(dir: string, lastSeq: bigint): void {
    if (lastSeq === 0n) return;
    this.catchingUp = true;
    const touched = new Set<number>();
    const slot = this.buf;
    const sdv = this.dv;
    const rmFrom = this.readModels.checkpoint;
    for (const r of readRecords(dir, 1n, lastSeq)) {
      if (r.seq > rmFrom) this.readModels.apply(decodeRecord(r)); // one pass for both read sides
      const c = new DataView(r.cmd.buffer, r.cmd.byteOffset, r.cmd.byteLength);
      const op = c.getUint8(CMD_OFF.op);
      const id = Number(c.getBigUint64(CMD_OFF.id, true));
      // gateway order ids only: saga legs (from 2^51) and ADMIN commands (from 2^52) are not the registry's
      if (op === ENUMS.Op.NEW && id < SAGA_ID_BASE_NUM && !this.orders.get(id)) {
        const n = r.cmd[RING_CMD_OFF.cidLen]!;
        let cid = '';
        for (let i = 0; i < n; i++) cid += String.fromCharCode(r.cmd[RING_CMD_OFF.cid0 + i]!);
        this.orders.restore({
          orderId: id, account: c.getUint32(CMD_OFF.account, true), clientOrderId: cid, symbol: c.getUint32(CMD_OFF.symbol, true),
          side: c.getUint8(CMD_OFF.side), price: c.getBigInt64(CMD_OFF.price, true), qty: c.getUint32(CMD_OFF.qty, true), conn: 0,
        });
      }
      for (let e = 0; e < r.nEvents; e++) {
        journalEventToSlot(r, e, slot, sdv, 0, false); // no routing: nobody waits for a replayed event
        this.onEvent(0, touched);
      }
    }
    for (const s of touched) this.publishBook(s); // nobody is connected yet: this only drains the projection's change sets
    this.catchingUp = false;
    this.subject = -1;
    this.firstKind.clear();
    this.waiters.clear();
  }

  private refused(r: 'busy' | 'unavailable'): { ok: false; reason: string; message: string } {
    return r === 'busy'
      ? { ok: false, reason: 'busy', message: 'the engine is busy; retry' }
      : { ok: false, reason: 'unavailable', message: `trading is stopped: ${this.host.failed ?? 'the engine thread failed'}` };
  }

  /**
   * Submits an ADMIN command and waits for its K (applied) or R (refused) event. Killing an account
   * also cancels its resting orders known to the gateway.
   */
  async admin(action: 'halt' | 'kill_account' | 'kill_all', on: boolean, target: { symbol?: number; account?: number } = {}): Promise<{ ok: boolean; reason: string | null; seq: number } | null> {
    const id = ADMIN_ID_BASE_NUM + ++this.adminSeq;
    const type = { halt: ENUMS.Admin.HALT, kill_account: ENUMS.Admin.KILL_ACCOUNT, kill_all: ENUMS.Admin.KILL_ALL }[action];
    const wait = this.awaitCommand(id);
    const sent = this.submit(ENUMS.Op.ADMIN, 0, type, 0, target.symbol ?? 0, id, 0, on ? 1 : 0, target.account ?? 0, 0, 0);
    if (sent !== 'ok') {
      this.waiters.delete(id);
      return { ok: false, reason: sent, seq: 0 };
    }
    const r = await wait;
    if (r === null) return null;
    if (r.type !== 'K') return { ok: false, reason: r.reason, seq: r.seq };
    return { ok: true, reason: null, seq: r.seq };
  }

  private adminRoutes(): void {
    const app = this.app;
    type Done = { ok: boolean; reason: string | null; seq: number } | null;
    const done = (reply: FastifyReply, r: Done): unknown => {
      if (r === null) return reply.code(504).send({ error: 'timeout', message: 'the engine did not answer in time' });
      if (!r.ok) return reply.code(r.reason === 'busy' ? 503 : 422).send({ error: r.reason, message: `the engine refused it: ${r.reason}` });
      return { ok: true, seq: r.seq };
    };
    /** One audit line per admin action, with its outcome. */
    const audit = (req: FastifyRequest, who: RequestAuth, action: string, r: Done, details: Record<string, unknown>): void => {
      const outcome = r === null ? 'timeout' : r.ok ? 'ok' : 'refused';
      req.log[r?.ok ? 'info' : 'warn']({ audit: `admin.${action}`, account: who.account, key: who.key, ip: req.ip, outcome, ...details, seq: r?.seq ?? null, reason: r?.reason ?? null }, `admin ${action}: ${outcome}`);
    };
    app.post<{ Body: { symbol: string; halted: boolean } }>('/api/v1/admin/halt', {
      schema: { body: { type: 'object', additionalProperties: false, required: ['symbol', 'halted'], properties: { symbol: { type: 'string', maxLength: 32 }, halted: { type: 'boolean' } } } },
    }, async (req, reply) => {
      const who = this.httpAuthKey(req, reply, 'admin');
      if (who === null) return reply;
      const ins = this.bySymbol.get(req.body.symbol);
      if (!ins) {
        req.log.warn({ audit: 'admin.halt', account: who.account, key: who.key, ip: req.ip, outcome: 'unknown_symbol', symbol: req.body.symbol, halted: req.body.halted }, 'admin halt: unknown symbol');
        return reply.code(404).send({ error: 'unknown_symbol', message: `no symbol ${req.body.symbol}` });
      }
      const r = await this.admin('halt', req.body.halted, { symbol: ins.id });
      audit(req, who, 'halt', r, { symbol: ins.symbol, halted: req.body.halted });
      return done(reply, r);
    });
    app.post<{ Body: { account?: number; all?: boolean; on: boolean } }>('/api/v1/admin/kill', {
      schema: {
        body: {
          type: 'object', additionalProperties: false, required: ['on'],
          properties: { account: { type: 'integer', minimum: 0, maximum: 4294967295 }, all: { type: 'boolean' }, on: { type: 'boolean' } },
        },
      },
    }, async (req, reply) => {
      const who = this.httpAuthKey(req, reply, 'admin');
      if (who === null) return reply;
      const { account, all, on } = req.body;
      if ((account === undefined) === (all !== true)) return reply.code(400).send({ error: 'bad_field', message: 'give either "account" or "all": true' });
      const r = await this.admin(all ? 'kill_all' : 'kill_account', on, { account });
      audit(req, who, 'kill', r, { target: all ? 'all' : account, on });
      return done(reply, r);
    });
    // API keys (docs/security.md "Key lifecycle"): the same store and lock as `tradsys keys`;
    // each change is in force at once and logged once (key.created / key.revoked, by this key)
    const keyError = (req: FastifyRequest, reply: FastifyReply, who: RequestAuth, action: string, e: unknown): unknown => {
      if (!(e instanceof TradsysError)) throw e;
      req.log.error({ audit: `admin.${action}`, account: who.account, key: who.key, ip: req.ip, outcome: 'failed', error: e.message }, `admin ${action}: failed`);
      return reply.code(e.code === 'ERR_CLI_USAGE' ? 400 : e.status).send({ error: e.code === 'ERR_KEYS_LOCKED' ? 'keys_locked' : e.code === 'ERR_CLI_USAGE' ? 'bad_field' : 'keys_store', message: e.message });
    };
    app.get('/api/v1/admin/keys', { config: { signed: true } }, async (req, reply) => {
      const who = this.httpAuthKey(req, reply, 'admin');
      if (who === null) return reply;
      return { keys: this.keys.list() };
    });
    app.post<{ Body: { account: number; permissions: Permission[] } }>('/api/v1/admin/keys', {
      config: { signed: true },
      schema: {
        body: {
          type: 'object', additionalProperties: false, required: ['account', 'permissions'],
          properties: {
            account: { type: 'integer', minimum: 1, maximum: 4294967295 },
            permissions: { type: 'array', minItems: 1, maxItems: 4, uniqueItems: true, items: { enum: ['trade', 'read', 'admin', 'analyst'] } },
          },
        },
      },
    }, async (req, reply) => {
      const who = this.httpAuthKey(req, reply, 'admin');
      if (who === null) return reply;
      try {
        const k = this.keys.create(req.body.account, req.body.permissions, { account: who.account, key: who.key, ip: req.ip });
        return reply.code(201).send({ key: k.key, secret: k.secret, account: k.account, permissions: k.permissions, created: k.created });
      } catch (e) {
        return keyError(req, reply, who, 'keys_create', e);
      }
    });
    app.delete<{ Params: { key: string } }>('/api/v1/admin/keys/:key', {
      config: { signed: true },
      schema: { params: { type: 'object', required: ['key'], properties: { key: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' } } } },
    }, async (req, reply) => {
      const who = this.httpAuthKey(req, reply, 'admin');
      if (who === null) return reply;
      const target = req.params.key;
      const sessions = [...this.conns.values()].filter((c) => c.key === target).length;
      let revoked: boolean;
      try {
        revoked = this.keys.revoke(target, { account: who.account, key: who.key, ip: req.ip });
      } catch (e) {
        return keyError(req, reply, who, 'keys_revoke', e);
      }
      if (!revoked) {
        req.log.warn({ audit: 'admin.keys_revoke', account: who.account, key: who.key, ip: req.ip, outcome: 'unknown_key', target: target }, 'admin keys_revoke: no such active key');
        return reply.code(404).send({ error: 'unknown_key', message: `no active key ${target}` });
      }
      const k = this.keys.get(target)!;
      return { key: k.key, account: k.account, revoked: k.revoked, closedSessions: sessions };
    });
  }

  /** An order from the built-in simulator (no connection). Returns its order id, or null if the ring is full. */
  simOrder(o: { account: number; clientOrderId: string; symbol: number; side: number; market: boolean; price: bigint; qty: number }): number | null {
    const info = this.orders.create({ account: o.account, clientOrderId: o.clientOrderId, symbol: o.symbol, side: o.side, price: o.price, qty: o.qty, conn: 0 });
    const sent = this.submit(1, o.side, o.market ? 1 : 0, o.market ? 1 : 0, o.symbol, info.orderId, o.price, o.qty, o.account, 0, 0, o.clientOrderId);
    if (sent !== 'ok') { this.orders.finish(info, 'rejected'); return null; }
    return info.orderId;
  }

  /** Cancels a simulator order if it is still live. */
  simCancel(orderId: number): void {
    const o = this.orders.get(orderId);
    if (o) this.requestCancel(o.account, { orderId: String(orderId) });
  }

  /** A gateway reject: names the order as the command did (`clientOrderId`, or `orderId` for a cancel/modify by orderId). */
  private reject(c: Conn, ref: OrderRef, reason: string, reqId: unknown, message?: string): void {
    this.counters.rejectsGateway++;
    const who = ref.orderId !== undefined ? { orderId: ref.orderId } : { clientOrderId: ref.clientOrderId };
    this.send(c, this.withReq(message ? { type: 'reject', ...who, reason, message } : { type: 'reject', ...who, reason }, reqId));
  }

  // ── events → reports and market data ───────────────────────────────────────────────────
  /** Drains the event ring: execution reports to owners, projection, then batched market data. Returns the event count. */
  pump(): number {
    const touched = this.touched;
    let n = 0;
    for (;;) {
      const k = this.host.evtRing.poll(this.reader, this.buf, 0, 4096);
      if (k === 0) break;
      for (let i = 0; i < k; i++) {
        this.readModels.onRingSlot(this.dv, i * RING_EVT_SIZE);
        this.onEvent(i * RING_EVT_SIZE, touched);
      }
      this.counters.eventsOut += k;
      n += k;
    }
    if (touched.size > 0) {
      for (const s of touched) this.publishBook(s);
      touched.clear();
    }
    if (this.killCancels.length > 0) this.drainKillCancels();
    if (this.dirty.length > 0) this.flushAll();
    return n;
  }

  private onEvent(b: number, touched: Set<number>): void {
    const dv = this.dv;
    const e = slotEvt(b);
    const type = evtType(dv, e);
    const symbol = evtSymbol(dv, e);
    const id = evtId(dv, e);
    const maker = evtMaker(dv, e);
    const price = evtPrice(dv, e);
    const qty = evtQty(dv, e);
    const last = evtLast(dv, e);
    const side = evtSide(dv, e);
    const seq = slotSeq(dv, b);
    const kind = String.fromCharCode(type) as 'A' | 'R' | 'T' | 'X' | 'M' | 'K';
    // the order the command is about: its first event's id (A/R of a new order, M/R of a modify,
    // X/R of a cancel; a trade's taker). Other orders' events in it (maker fills, STP) are unsolicited.
    if (this.subject < 0) this.subject = id;
    const subject = this.subject;
    if (last) this.subject = -1;
    if (id >= ADMIN_ID_BASE_NUM) {
      // an ADMIN command's K or R: no order, no market data. Its effect on the gateway is applied
      // here, when the engine applied it — also when the HTTP caller has stopped waiting.
      if (kind === 'K') {
        const on = qty === 1;
        if (side === ENUMS.Admin.HALT && symbol < this.instruments.length) this.instruments[symbol]!.status = on ? 'halted' : 'trading';
        if (side === ENUMS.Admin.KILL_ACCOUNT && on && !this.catchingUp) {
          const account = evtAccount(dv, e);
          for (const o of this.orders.open(account)) this.killCancels.push([account, o.orderId]);
        }
      }
      if (last) {
        const w = this.waiters.get(id);
        this.waiters.delete(id);
        w?.({ type: kind, reason: kind === 'R' ? REASON_NAMES[evtReason(dv, e)] ?? 'rejected' : null, seq });
      }
      return;
    }
    // Who gets a report (DESIGN "Client protocol"): every live connection of the order's account;
    // the command's direct answer (the reports about the order it names: A, R, X, M, the taker's
    // fills) carries its reqId to the connection that sent it (origin), and only there.
    const origin = slotOrigin(dv, b);
    const token = slotToken(dv, b);
    const to = id === subject ? origin : 0;
    if (symbol < this.instruments.length) {
      this.book.apply({ type: kind, symbol, id, maker, price, qty, side, last });
      if (kind !== 'R') touched.add(symbol);
    }
    const o = this.orders.get(id);
    const ins = this.instruments[symbol];
    switch (kind) {
      case 'A':
        if (o) {
          o.status = 'open';
          if (this.byAccount.has(o.account)) this.report(o.account, to, token, () => ({ type: 'ack', clientOrderId: o.clientOrderId, orderId: String(o.orderId), seq }), (w, rq) => w.ack(rq, o.clientOrderId, o.orderId, seq, false));
        }
        break;
      case 'R':
        if (o) {
          const reason = REASON_NAMES[evtReason(dv, e)] ?? 'rejected';
          if (o.status === 'pending') this.orders.finish(o, 'rejected');
          if (this.byAccount.has(o.account)) this.report(o.account, to, token, () => ({ type: 'reject', clientOrderId: o.clientOrderId, orderId: String(o.orderId), reason, seq }), (w, rq) => w.reject(rq, o.clientOrderId, o.orderId, seq, reason));
        }
        break;
      case 'T': {
        const tradeId = evtTradeId(dv, e); // the engine's, stable across restarts
        if (!ins) break;
        const px = ins.toPrice(BigInt(price));
        const q = ins.toQty(qty);
        this.fillReport(o, evtLeaves(dv, e), true, to, token, ins, tradeId, price, px, qty, q, seq);
        this.fillReport(this.orders.get(maker), evtMakerLeaves(dv, e), false, 0, 0, ins, tradeId, price, px, qty, q, seq);
        // ts: the engine's tsInit (epoch ns, the same `ts` as the trade's ClickHouse row), written
        // with its exact digits: a 19-digit integer does not survive a double
        const ts = slotTsInit(dv, b);
        const frame = `${JSON.stringify({ type: 'trade', symbol: ins.symbol, tradeId, price: px, qty: q, takerSide: side === 0 ? 'buy' : 'sell' }).slice(0, -1)},"ts":${ts}}`;
        const recent = this.recentTrades[symbol]!;
        recent.push({ price: px, qty: q, json: frame });
        if (recent.length > 1000) recent.shift();
        this.lastPx[symbol] = price;
        this.lastQty[symbol] = qty;
        for (const c of this.conns.values()) {
          if (!c.trades.has(symbol)) continue;
          if (c.bin) this.out(c).trade(0, symbol, side === 1, tradeId, price, qty, ts);
          else this.sendRaw(c, frame);
        }
        break;
      }
      case 'X':
        if (o) {
          o.leaves = evtLeaves(dv, e); // 0: nothing of it rests any more
          if (ins && this.byAccount.has(o.account)) this.report(o.account, to, token, () => ({ type: 'cancelled', orderId: String(o.orderId), clientOrderId: o.clientOrderId, qty: ins.toQty(qty), seq }), (w, rq) => w.cancelled(rq, o.orderId, o.clientOrderId, seq, qty, symbol));
          this.orders.finish(o, 'cancelled');
        }
        break;
      case 'M':
        if (o && ins) {
          o.price = BigInt(price);
          o.leaves = qty;
          if (this.byAccount.has(o.account)) this.report(o.account, to, token, () => ({ type: 'modified', orderId: String(o.orderId), clientOrderId: o.clientOrderId, price: ins.toPrice(BigInt(price)), qty: ins.toQty(qty), seq }), (w, rq) => w.modified(rq, o.orderId, o.clientOrderId, seq, price, qty, symbol));
        }
        break;
    }
    if (kind === 'A' || kind === 'R' || kind === 'M') this.firstKind.set(id, kind === 'R' ? `R:${REASON_NAMES[evtReason(dv, e)] ?? 'rejected'}` : kind);
    if (last) {
      if (token !== 0 && origin !== 0) this.conns.get(origin)?.reqIds?.delete(token); // the command is answered
      const w = this.waiters.get(id);
      const first = this.firstKind.get(id) ?? kind;
      this.firstKind.delete(id);
      if (w) {
        this.waiters.delete(id);
        w({ type: first.startsWith('R:') ? 'R' : kind === 'X' && first !== 'M' && first !== 'A' ? 'X' : first, reason: first.startsWith('R:') ? first.slice(2) : null, seq });
      }
    }
  }

  /**
   * Sends one execution report to every live connection of `account` (newest first; a connection
   * closed as a slow consumer on the way drops out of the list without disturbing the loop). The
   * connection `to` (the command's sender, 0 = none) gets it with the command's reqId: binary, the
   * ring token itself; JSON, the reqId the token stands for. The JSON message is built at most once,
   * and its text once for all connections without a reqId. Callers check `byAccount.has` first, so
   * an account with no connection (simulator, HTTP-only) costs no closure.
   */
  private report(account: number, to: number, token: number, json: () => Record<string, unknown>, bin: (w: BinaryWriter, reqId: number) => void): void {
    const cs = this.byAccount.get(account);
    if (cs === undefined) return;
    let msg: Record<string, unknown> | null = null;
    let text: string | null = null;
    for (let i = cs.length - 1; i >= 0; i--) {
      const c = cs[i];
      if (c === undefined) continue;
      const rq = c.id === to ? token : 0;
      if (c.bin) { bin(this.out(c), rq); continue; }
      msg ??= json();
      const reqId = rq !== 0 ? c.reqIds?.get(rq) : undefined;
      if (reqId !== undefined) this.sendRaw(c, JSON.stringify({ ...msg, reqId }));
      else this.sendRaw(c, text ??= JSON.stringify(msg));
    }
  }

  /** A fill of order `x` (taker or maker side of one trade): registry update and report. */
  private fillReport(x: OrderInfo | undefined, leaves: number, taker: boolean, to: number, token: number, ins: Instrument, tradeId: number, price: number, px: string, qty: number, q: string, seq: number): void {
    if (!x) return;
    x.leaves = leaves;
    x.filled += qty;
    if (this.byAccount.has(x.account)) {
      this.report(x.account, to, token,
        () => ({ type: 'fill', orderId: String(x.orderId), clientOrderId: x.clientOrderId, tradeId, price: px, qty: q, leaves: ins.toQty(leaves), liquidity: taker ? 'taker' : 'maker', seq }),
        (w, rq) => w.fill(rq, x.orderId, x.clientOrderId, tradeId, price, seq, qty, leaves, taker, ins.id));
    }
    if (leaves === 0) this.orders.finish(x, 'filled');
  }

  /** Adds `c` to its account's report list (after auth); moves it when it authenticated as another account. */
  private bind(c: Conn): void {
    if (c.bound === c.account) return;
    this.unbind(c);
    if (c.account === null) return;
    let list = this.byAccount.get(c.account);
    if (list === undefined) { list = []; this.byAccount.set(c.account, list); }
    list.push(c);
    c.bound = c.account;
  }

  private unbind(c: Conn): void {
    const a = c.bound;
    if (a === null) return;
    c.bound = null;
    const list = this.byAccount.get(a);
    if (list === undefined) return;
    const i = list.indexOf(c);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.byAccount.delete(a);
  }

  /** A ring token standing for a JSON command's reqId until the command's last event (0: no reqId). */
  private jsonToken(c: Conn, reqId: ReqId | undefined): number {
    if (reqId === undefined) return 0;
    const t = c.nextToken;
    c.nextToken = t === 0xffffffff ? 1 : t + 1;
    const m = (c.reqIds ??= new Map());
    if (m.size >= MAX_REQIDS) m.delete(m.keys().next().value!); // an answer that never came (engine stopped)
    m.set(t, reqId);
    return t;
  }

  /** The last 1,000 trades of a symbol as a JSON array, newest first (exact epoch-ns `ts` digits). */
  private recentTradesJson(id: number): string {
    const r = this.recentTrades[id]!;
    let out = '[';
    for (let i = r.length - 1; i >= 0; i--) out += (i === r.length - 1 ? '' : ',') + r[i]!.json;
    return out + ']';
  }

  /** Best bid/offer and last trade of a symbol. */
  private ticker(ins: Instrument): Record<string, unknown> {
    const [b] = this.book.depth(ins.id, 0, 1);
    const [a] = this.book.depth(ins.id, 1, 1);
    const recent = this.recentTrades[ins.id]!;
    const last = recent[recent.length - 1];
    return {
      type: 'ticker', symbol: ins.symbol,
      bid: b ? ins.toPrice(BigInt(b[0])) : null, bidQty: b ? ins.toQty(b[1]) : null,
      ask: a ? ins.toPrice(BigInt(a[0])) : null, askQty: a ? ins.toQty(a[1]) : null,
      last: last?.price ?? null, lastQty: last?.qty ?? null, ts: Date.now() * 1e6,
    };
  }

  private publishBook(s: number): void {
    const ins = this.instruments[s]!;
    const ch = this.book.takeChanges(s);
    if (ch.bids.length === 0 && ch.asks.length === 0) return;
    let tick: string | null = null;
    for (const c of this.conns.values()) {
      if (!c.tickers.has(s)) continue;
      if (c.bin) { this.binaryTicker(this.out(c), ins); continue; }
      tick ??= JSON.stringify(this.ticker(ins));
      this.sendRaw(c, tick);
    }
    const first = this.bookSeq[s]! + 1;
    this.bookSeq[s] = first;
    const checksum = this.book.checksum(s, (p) => ins.toPrice(BigInt(p)), (q) => ins.toQty(q));
    let frame: string | null = null;
    let bin: Uint8Array | null = null;
    for (const c of this.conns.values()) {
      if (!c.books.has(s)) continue;
      // slow consumer: past the soft limit skip deltas; once drained, send one fresh snapshot
      if (c.ws.bufferedAmount + (c.bin ? c.bin.size : 0) > this.cfg.buffer.soft) { c.stale.add(s); continue; }
      if (c.bin) {
        // a delta too large for one message is replaced by a snapshot (same seq)
        if (c.stale.delete(s) || ch.bids.length + ch.asks.length > MAX_LEVELS) { this.binarySnapshot(this.out(c), ins); continue; }
        if (bin === null) {
          const w = this.mdScratch;
          w.reset();
          w.bookDelta(0, s, first, first, checksum, ch.bids, ch.asks);
          bin = w.messageAt(8);
        }
        this.out(c).appendRaw(bin);
        continue;
      }
      if (c.stale.delete(s)) { this.send(c, this.snapshot(ins)); continue; }
      const fmt = (xs: [number, number][]): string[][] => xs.map(([p, q]) => [ins.toPrice(BigInt(p)), ins.toQty(q)]);
      this.sendRaw(c, frame ??= JSON.stringify({ type: 'bookDelta', symbol: ins.symbol, first, last: first, bids: fmt(ch.bids), asks: fmt(ch.asks), checksum }));
    }
  }
}
