/**
 * Connections and delivery: the live WebSocket sessions, who gets an account's execution reports,
 * and the one way anything leaves for a client (`deliver`, with the one slow-consumer check).
 *
 * Layout: `conns` (id → Conn); `byAccount` (account → its live authenticated connections, kept
 * on auth and disconnect); `dirty` (binary connections whose frame has unsent messages). A binary
 * connection has a BinaryWriter: everything it is sent during one inbound frame or one pump cycle
 * goes into one frame, sent at the end of that step (`flushAll`) or as soon as it reaches
 * `binaryFrameBytes` (`out`). Binary market data is not written here per connection: MdFanout
 * (md-fanout.ts) sends frames built once per subscription pattern at `flushAll`, and `out` first
 * lets it copy the cycle's market data a connection has not yet got (order kept). A binary
 * connection without permessage-deflate has its socket (`raw`): its frames are built with their
 * WebSocket header in front (`frameOf`) and written with one `socket.write` each (`sendFrame`),
 * the same bytes ws's `send` would write, without ws's per-send options, header Buffer and corked
 * writev.
 * Invariants: every outbound frame, JSON text or binary, goes through `deliver`: a connection whose
 * socket buffers more than `buffer.hard` bytes is closed (1008, "slow consumer", one audit line)
 * instead of being sent more; a closed connection is out of `conns` and `byAccount` at once, so
 * nothing it sends afterwards runs and nothing more is sent to it. Cancel-on-disconnect goes to
 * the order entry service with origin 0 (the account's other connections get the reports).
 * Complexity: O(1) per send; `closeKeySessions` and `heartbeat` O(connections).
 * Allocation: one Conn (and a BinaryWriter for binary) per connection; per binary frame its one
 * Buffer (shared by every subscriber for market data) and Node's write request; JSON: ws's send.
 * Known limitations: the per-connection token bucket uses Date.now() (ms resolution).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { BinaryWriter } from '../codec/binary-protocol.js';
import type { ReqId } from '../codec/json-protocol.js';
import type { KeyChange, KeyStore } from './auth.js';
import { WS_CLOSE_KEY_REVOKED, type ConnectionLimits, type GatewayCounters } from './config.js';
import type { OrderEntry } from './order-entry.js';

export interface Conn {
  id: number;
  ws: WebSocket;
  account: number | null;
  canTrade: boolean;
  /** The key has the admin permission (the `strategies` and `alerts` channels). */
  isAdmin: boolean;
  /** Subscribed to the `strategies` channel (JSON connections of admin keys). */
  strategies: boolean;
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
  /**
   * The connection's socket, written directly with binary frames that carry their WebSocket
   * header (`frameOf`): a binary connection without permessage-deflate (ws then sends frames
   * synchronously and keeps no queue, so direct writes keep their order with ws's own control
   * frames). null: everything goes through `ws.send`.
   */
  raw: Duplex | null;
  /** Listed in Connections.dirty (its binary frame has messages to flush). */
  dirty: boolean;
  /** Market data (binary, src/gateway/md-fanout.ts): the log cycle in which this connection went private, and the log entries it has copied in it. */
  mdCycle: number;
  mdUpTo: number;
  /** The account whose report list (byAccount) holds this connection, or null. */
  bound: number | null;
  /** JSON: reqIds of commands in flight by ring token (created on first use), and the next token. */
  reqIds: Map<number, ReqId> | null;
  nextToken: number;
  /** Remote address (the TCP peer) and the API key it authenticated with (audit log, revocation). */
  ip: string;
  key: string | null;
  /** Commands refused for lack of the trade permission (audited: the first, then every 100th). */
  denied: number;
  /** JSON: subscribed to the `alerts` channel (admin keys only; docs/protocol.md). */
  alerts: boolean;
}

/** In-flight reqIds a JSON connection keeps at most (the oldest is dropped past it). */
const MAX_REQIDS = 4096;

export class Connections {
  private readonly conns = new Map<number, Conn>();
  private nextConn = 1;
  /** Live authenticated connections per account: who gets the account's execution reports. */
  private readonly byAccount = new Map<number, Conn[]>();
  /** Binary connections with an unflushed frame. */
  private readonly dirty: Conn[] = [];
  /** Binary and JSON connections apart (market data loops over one kind only). */
  private readonly binConns = new Set<Conn>();
  private readonly jsonConns = new Set<Conn>();
  /** Market-data fan-out hooks (MdFanout): before a connection is sent anything of its own; at flushAll. */
  private mdBeforeOut: ((c: Conn) => void) | null = null;
  private mdFlush: (() => void) | null = null;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly counters: GatewayCounters,
    private readonly log: FastifyBaseLogger,
    private readonly keys: KeyStore,
    private readonly entry: OrderEntry,
  ) {}

  get size(): number { return this.conns.size; }
  /** The size budget of one binary frame (ConnectionLimits.binaryFrameBytes). */
  get binaryFrameBytes(): number { return this.limits.binaryFrameBytes; }
  values(): IterableIterator<Conn> { return this.conns.values(); }
  get(id: number): Conn | undefined { return this.conns.get(id); }
  /** Whether `c` is still open as far as the gateway is concerned (closed by the server: nothing more of it runs). */
  isLive(c: Conn): boolean { return this.conns.get(c.id) === c; }
  /** The live connections of `account` (undefined: none). The list is the service's; do not keep it. */
  ofAccount(account: number): Conn[] | undefined { return this.byAccount.get(account); }
  hasAccount(account: number): boolean { return this.byAccount.has(account); }
  /** WebSocket sessions authenticated with `key`. */
  sessionsOf(key: string): number { let n = 0; for (const c of this.conns.values()) if (c.key === key) n++; return n; }

  /** A new connection (allocates its Conn and, for binary, its writer). `raw`: see Conn.raw (binary only). */
  open(ws: WebSocket, binary: boolean, ip: string, raw: Duplex | null = null): Conn {
    const now = Date.now();
    const c: Conn = {
      id: this.nextConn++, ws, account: null, canTrade: false, isAdmin: false, strategies: false, cancelOnDisconnect: false, books: new Set(), trades: new Set(), tickers: new Set(),
      stale: new Set(), lastSeen: now, tokens: this.limits.rateLimit.burst, tokensAt: now, limited: 0, bin: binary ? new BinaryWriter(4096) : null, raw: binary ? raw : null, dirty: false,
      mdCycle: 0, mdUpTo: 0, bound: null, reqIds: null, nextToken: 1,
      ip, key: null, denied: 0, alerts: false,
    };
    this.conns.set(c.id, c);
    (binary ? this.binConns : this.jsonConns).add(c);
    this.counters.wsConnections++;
    return c;
  }

  // ── delivery ───────────────────────────────────────────────────────────────────────────
  /** The one way a frame leaves: nothing to a closed socket; past the hard buffer limit the connection is closed instead. */
  private deliver(c: Conn, data: string | Uint8Array): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    if (c.ws.bufferedAmount > this.limits.buffer.hard) { this.closeSlowConsumer(c); return; }
    c.ws.send(data);
    this.counters.framesOut++;
  }

  /**
   * Sends a binary frame built by `frameOf` (WebSocket header included; built once for several
   * connections by MdFanout, or a connection's own): the same checks as any frame; one socket
   * write, no per-send object of ws's (its options, header Buffer, corked writev).
   */
  sendFrame(c: Conn, framed: Buffer): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    if (c.ws.bufferedAmount > this.limits.buffer.hard) { this.closeSlowConsumer(c); return; }
    if (c.raw !== null) c.raw.write(framed);
    else c.ws.send(framed.subarray(wsHeaderBytes(framed)));
    this.counters.framesOut++;
  }

  /** The frame in `w` as one Buffer with its WebSocket header in front (wsBinaryFrame); starts w's next frame. */
  frameOf(w: BinaryWriter): Buffer { return wsBinaryFrame(w); }
  /** The live binary connections. */
  binaryConnections(): IterableIterator<Conn> { return this.binConns.values(); }
  /** The live JSON connections. */
  jsonConnections(): IterableIterator<Conn> { return this.jsonConns.values(); }
  /** Lists a binary connection for the next flush (its writer has messages). */
  markDirty(c: Conn): void { if (!c.dirty) { c.dirty = true; this.dirty.push(c); } }
  /** Installs the market-data fan-out (MdFanout): `beforeOut` runs before a binary connection is sent anything of its own, `flush` first in flushAll. */
  setMarketDataHooks(beforeOut: (c: Conn) => void, flush: () => void): void { this.mdBeforeOut = beforeOut; this.mdFlush = flush; }

  /**
   * A message of the `strategies` channel (src/strategies/service.ts StrategyMessage) to every JSON
   * connection subscribed to it (admin keys only): one text for all. Allocates the text.
   */
  broadcastStrategies(msg: Record<string, unknown>): void {
    let text: string | null = null;
    for (const c of this.jsonConns) {
      if (!c.strategies || !c.isAdmin) continue;
      text ??= JSON.stringify(msg);
      this.deliver(c, text);
    }
  }

  /** Sends a JSON message (allocates its text). */
  send(c: Conn, msg: Record<string, unknown>): void { this.deliver(c, JSON.stringify(msg)); }
  /** Sends a JSON text already built (shared by every connection it goes to). */
  sendText(c: Conn, text: string): void { this.deliver(c, text); }
  /** Sends `msg` to every connection subscribed to the `alerts` channel (serialised once); returns how many. */
  broadcastAlerts(msg: Record<string, unknown>): number {
    let text: string | null = null;
    let n = 0;
    for (const c of this.jsonConns) {
      if (!c.alerts || !this.isLive(c)) continue;
      text ??= JSON.stringify(msg);
      this.deliver(c, text);
      n++;
    }
    return n;
  }

  /** The writer of a binary connection, listed for the next flush; flushes first at the size budget. */
  out(c: Conn): BinaryWriter {
    const w = c.bin!;
    this.mdBeforeOut?.(c); // market data published earlier in this cycle goes first
    if (w.size >= this.limits.binaryFrameBytes) this.flush(c);
    if (!c.dirty) { c.dirty = true; this.dirty.push(c); }
    return w;
  }

  /** Sends a binary connection's frame, if it has one. */
  flush(c: Conn): void {
    const w = c.bin!;
    if (w.count === 0) return;
    if (c.raw !== null) this.sendFrame(c, this.frameOf(w));
    else this.deliver(c, w.take()!);
  }

  /** Sends every binary frame built since the last call (end of an inbound frame or a pump cycle). */
  flushAll(): void {
    this.mdFlush?.();
    const d = this.dirty;
    if (d.length === 0) return;
    for (let i = 0; i < d.length; i++) { const c = d[i]!; c.dirty = false; this.flush(c); }
    d.length = 0;
  }

  /** Whether the socket plus the unsent frame hold more than the soft limit (book deltas are skipped then). */
  overSoftLimit(c: Conn): boolean { return c.ws.bufferedAmount + (c.bin ? c.bin.size : 0) > this.limits.buffer.soft; }

  private closeSlowConsumer(c: Conn): void {
    this.counters.slowConsumerClosed++;
    this.log.warn({ audit: 'ws.slow_consumer', account: c.account, key: c.key, ip: c.ip, conn: c.id, outcome: 'closed', bufferedBytes: c.ws.bufferedAmount, limitBytes: this.limits.buffer.hard }, 'slow consumer closed');
    c.ws.close(1008, 'slow consumer');
    this.disconnect(c);
  }

  // ── inbound limits and liveness ────────────────────────────────────────────────────────
  /** Token bucket per connection. */
  allow(c: Conn): boolean {
    const now = Date.now();
    const rl = this.limits.rateLimit;
    c.tokens = Math.min(rl.burst, c.tokens + ((now - c.tokensAt) * rl.perSecond) / 1000);
    c.tokensAt = now;
    if (c.tokens < 1) return false;
    c.tokens -= 1;
    return true;
  }

  /** Pings every connection; closes peers silent for longer than deadAfterMs. */
  heartbeat(): void {
    const now = Date.now();
    for (const c of this.conns.values()) {
      if (now - c.lastSeen >= this.limits.deadAfterMs) { this.counters.reaped++; c.ws.terminate(); this.disconnect(c); continue; }
      if (c.ws.readyState === c.ws.OPEN) c.ws.ping();
    }
  }

  disconnect(c: Conn): void {
    if (!this.conns.delete(c.id)) return;
    this.binConns.delete(c);
    this.jsonConns.delete(c);
    this.unbind(c);
    if (c.cancelOnDisconnect && c.account !== null) this.entry.cancelAllOf(c.account, c.id);
  }

  /** Terminates every connection (shutdown). */
  terminateAll(): void { for (const c of this.conns.values()) c.ws.terminate(); }

  // ── sessions: the account a connection reports to ──────────────────────────────────────
  /** Adds `c` to its account's report list (after auth); moves it when it authenticated as another account. */
  bind(c: Conn): void {
    if (c.bound === c.account) return;
    this.unbind(c);
    if (c.account === null) return;
    let list = this.byAccount.get(c.account);
    if (list === undefined) { list = []; this.byAccount.set(c.account, list); }
    list.push(c);
    c.bound = c.account;
  }

  unbind(c: Conn): void {
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
  jsonToken(c: Conn, reqId: ReqId | undefined): number {
    if (reqId === undefined) return 0;
    const t = c.nextToken;
    c.nextToken = t === 0xffffffff ? 1 : t + 1;
    const m = (c.reqIds ??= new Map());
    if (m.size >= MAX_REQIDS) m.delete(m.keys().next().value!); // an answer that never came (engine stopped)
    m.set(t, reqId);
    return t;
  }

  // ── keys and the audit log (docs/security.md) ──────────────────────────────────────────
  auditWsAuth(c: Conn, key: string, r: { ok: true; account: number } | { ok: false; reason: string }): void {
    const transport = c.bin ? 'ws-binary' : 'ws';
    if (r.ok) { this.log.info({ audit: 'auth.success', account: r.account, key, ip: c.ip, transport, conn: c.id, outcome: 'ok' }, 'WebSocket session authenticated'); return; }
    const known = this.keys.get(key);
    this.log.warn({ audit: 'auth.failure', account: known?.account ?? null, key: key.slice(0, 64), ip: c.ip, transport, conn: c.id, outcome: 'denied', reason: r.reason }, `authentication failed: ${r.reason}`);
  }

  /** A command refused for lack of the trade permission: the first of a connection, then every 100th (with the count). */
  auditDenied(c: Conn, op: string, need: 'trade' | 'admin' = 'trade'): void {
    c.denied++;
    if (c.denied !== 1 && c.denied % 100 !== 0) return;
    this.log.warn({ audit: 'permission.denied', account: c.account, key: c.key, ip: c.ip, transport: c.bin ? 'ws-binary' : 'ws', conn: c.id, outcome: 'denied', need, op, count: c.denied }, `key lacks the ${need} permission`);
  }

  /**
   * A change of the keys in force (this process's or another's, seen in the keys file): one audit
   * line; a revoked or changed key's WebSocket sessions are closed (WS_CLOSE_KEY_REVOKED).
   */
  onKeyChange(ch: KeyChange): void {
    const k = ch.key;
    let closed = 0;
    if (ch.kind !== 'created') closed = this.closeKeySessions(k.key, ch.kind === 'revoked' ? 'key revoked' : 'key changed');
    const by = ch.by ? { by: { account: ch.by.account, key: ch.by.key } } : {};
    this.log[ch.kind === 'changed' ? 'warn' : 'info']({
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
      this.log.info({ audit: 'ws.closed_revoked', account: c.account, key, ip: c.ip, transport: c.bin ? 'ws-binary' : 'ws', conn: c.id, outcome: 'closed', reason }, 'WebSocket session closed: its key is no longer valid');
      if (c.bin && c.bin.size > 0) this.flush(c);
      c.ws.close(WS_CLOSE_KEY_REVOKED, reason);
      this.disconnect(c);
      c.account = null;
      c.key = null;
      c.canTrade = false;
      c.isAdmin = false;
      c.strategies = false;
      c.alerts = false;
    }
    return n;
  }
}

/** `msg` with the client's reqId when it gave one (allocates a copy then). */
export function withReq(msg: Record<string, unknown>, reqId: unknown): Record<string, unknown> {
  return reqId === undefined ? msg : { ...msg, reqId };
}

/** Length of the WebSocket header of a server frame built by `Connections.frameOf`. */
function wsHeaderBytes(f: Buffer): number {
  const l = f[1]! & 0x7f;
  return l === 127 ? 10 : l === 126 ? 4 : 2;
}

/**
 * The frame in `w` as one Buffer with a server's WebSocket frame header in front (RFC 6455 §5.2:
 * FIN, opcode 2 binary, no RSV bits, unmasked; payload length in 7 bits, or 126 + u16, or 127 +
 * u64, big-endian): the bytes ws would write for `ws.send(frame)` on a connection without
 * compression, in one Buffer. Starts w's next frame; null-free: call with a non-empty writer.
 */
export function wsBinaryFrame(w: BinaryWriter): Buffer {
  const n = w.size;
  const h = n <= 125 ? 2 : n <= 0xffff ? 4 : 10;
  const f = w.take(h)!;
  f[0] = 0x82;
  if (h === 2) f[1] = n;
  else if (h === 4) { f[1] = 126; f[2] = n >>> 8; f[3] = n & 0xff; }
  else { f[1] = 127; f[2] = 0; f[3] = 0; f[4] = 0; f[5] = 0; f.writeUInt32BE(n, 6); }
  return f;
}
