/**
 * The feed publisher: packetizes messages from a source into MoldUDP64 packets at a given rate,
 * sends them over UDP (unicast or multicast), sends heartbeats while idle and the end of session,
 * keeps a retransmission buffer and answers retransmission requests on its request port
 * (docs/feed.md).
 *
 * Owns: the MessageQueue (encoded message blocks waiting to be sent), sequence numbering, the
 * packetizer, pacing, the retransmission buffer and request server, the in-band snapshot trigger,
 * and the test-only loss injection (`dropEvery`).
 *
 * Layout: MessageQueue = a byte FIFO of wire blocks (u16 length + message, timestamps 0 until sent);
 * packets are built in a pool of `POOL` buffers of `maxPayload` bytes (one per send in flight);
 * the retransmission buffer holds the last `retransmitBuffer` messages as blocks in fixed 36-byte
 * slots (slot = seq mod N), with their send timestamps.
 * Invariants: sequence numbers start at 1 and increase by one per message, in queue order; a packet
 * never exceeds `maxPayload`; every message sent (or dropped by `dropEvery`) is in the retransmission
 * buffer until N later messages were sent; a retransmission carries the message's original bytes
 * and timestamp; at most POOL sends are in flight (backpressure pauses the pump).
 * Complexity: O(1) per message (one block copy into the packet and one into the buffer); a request
 * O(messages answered).
 * Allocation: none per message in steady state (queue, pool and buffer are reused; the queue grows
 * by doubling only); Node's dgram allocates per send. A snapshot and the stats object allocate.
 * Known limitations: rate is in messages per second (not packets); pacing granularity is the event
 * loop's (≈1 ms timers below ~200k msg/s, setImmediate above); one publisher per session.
 */
import { createSocket, type Socket, type RemoteInfo } from 'node:dgram';
import { isIPv4 } from 'node:net';
import { nowNsInto } from '../../domain/clock.js';
import { TradsysError } from '../../domain/errors.js';
import {
  FEED_BLOCK_HEADER, FEED_COUNT_END, FEED_COUNT_HEARTBEAT, FEED_DEFAULT_MAX_PAYLOAD, FEED_MAX_COUNT, FEED_MAX_PAYLOAD, FEED_MIN_PAYLOAD,
  FEED_PACKET_HEADER, MSG_MAX_LENGTH, SYS_END, SYS_START, checkRequest, encodeAdd, encodeBookDelta, encodeCancel, encodeExecute,
  encodeSystem, encodeTrade, getU64BE, sessionBytes, sessionEquals, stampPacket, writePacketHeader,
} from './codec.js';

/** Encoded message blocks waiting to be packetized. */
export class MessageQueue {
  buf = new Uint8Array(1 << 16);
  dv = new DataView(this.buf.buffer);
  head = 0;
  tail = 0;
  /** Messages queued (not yet taken). */
  count = 0;

  /** Offset for the next block (compacts or grows the buffer first: read `dv` after calling it). */
  private room(): number {
    if (this.tail + FEED_BLOCK_HEADER + MSG_MAX_LENGTH <= this.buf.length) return this.tail;
    if (this.head > 0) { // compact
      this.buf.copyWithin(0, this.head, this.tail);
      this.tail -= this.head;
      this.head = 0;
    }
    if (this.tail + FEED_BLOCK_HEADER + MSG_MAX_LENGTH > this.buf.length) { // grow (allocates, doubling)
      const b = new Uint8Array(this.buf.length * 2);
      b.set(this.buf.subarray(0, this.tail));
      this.buf = b;
      this.dv = new DataView(b.buffer);
    }
    return this.tail;
  }
  private done(end: number): void { this.tail = end; this.count++; }
  /** Drops everything queued. */
  clear(): void { this.head = 0; this.tail = 0; this.count = 0; }

  add(symbol: number, orderId: number, side: number, price: number, qty: number): void { const at = this.room(); this.done(encodeAdd(this.dv, at, symbol, orderId, side, price, qty)); }
  cancel(symbol: number, orderId: number, qty: number): void { const at = this.room(); this.done(encodeCancel(this.dv, at, symbol, orderId, qty)); }
  execute(symbol: number, orderId: number, qty: number, matchId: number): void { const at = this.room(); this.done(encodeExecute(this.dv, at, symbol, orderId, qty, matchId)); }
  trade(symbol: number, price: number, qty: number, aggressor: number, matchId: number): void { const at = this.room(); this.done(encodeTrade(this.dv, at, symbol, price, qty, aggressor, matchId)); }
  bookDelta(symbol: number, side: number, price: number, qty: number): void { const at = this.room(); this.done(encodeBookDelta(this.dv, at, symbol, side, price, qty)); }
  system(symbol: number, code: number): void { const at = this.room(); this.done(encodeSystem(this.dv, at, symbol, code)); }

  /** Length of the next block (u16 + message). */
  nextBlock(): number { return FEED_BLOCK_HEADER + this.dv.getUint16(this.head); }
  take(blockLen: number): void {
    this.head += blockLen;
    if (--this.count === 0) { this.head = 0; this.tail = 0; }
  }
}

/** Where the publisher's messages come from (an order stream run through the engine, a server's market data). */
export interface FeedSource {
  /** A short description for banners and stats. */
  readonly name: string;
  /** True once the source has nothing more to give. */
  readonly done: boolean;
  /** Appends about `wanted` messages to `q` if it has them now (a push source may add nothing here). */
  pull(q: MessageQueue, wanted: number): void;
  /** Appends an in-band snapshot (per symbol: S R, then the state as A and D messages), if the source can; returns messages added. */
  snapshot(q: MessageQueue): number;
  /** Called once when the publisher stops. */
  close(): Promise<void> | void;
  /** Set by the publisher: a push source calls it when it queued messages. */
  wake?: () => void;
  /** Called once at start with the queue (a push source keeps it and starts its subscriptions). */
  attach?(q: MessageQueue): void;
}

export interface PublisherOptions {
  session: string;
  /** Destination host (IPv4, unicast or multicast) and port. */
  host: string;
  port: number;
  /** UDP payload bytes per packet (default 1472). */
  maxPayload?: number;
  /** Send a heartbeat after this long without a packet (default 1000; 0 = none). */
  heartbeatMs?: number;
  /** Retransmission request server port (undefined = no server; 0 = any free port). */
  requestPort?: number;
  requestHost?: string;
  /** Messages kept for retransmission (default 65,536). */
  retransmitBuffer?: number;
  /** Messages per second (0 or undefined = as fast as the socket takes them). */
  rate?: number;
  /** Stop after this many messages (source messages, not counting start/end events). */
  count?: number;
  /** Stop after this many ms. */
  durationMs?: number;
  /** TEST ONLY: do not send every N-th data packet (first transmission); the messages stay retransmittable. */
  dropEvery?: number;
  /** Multicast TTL (default 1) and outgoing interface address. */
  ttl?: number;
  multicastInterface?: string;
  /** Keep answering retransmission requests this long after the end of session (default 1000 ms). */
  lingerMs?: number;
  /** Times the end-of-session packet is sent (default 3, 5 ms apart). */
  endRepeats?: number;
  /** A snapshot is sent at most this often in answer to unservable requests (default 1000 ms; 0 = never). */
  snapshotMinIntervalMs?: number;
  /** Also send an in-band snapshot every this many ms (default 0 = only on unservable requests). */
  snapshotEveryMs?: number;
}

export interface PublisherStats {
  session: string;
  dest: string;
  requestPort: number | null;
  source: string;
  /** Next sequence number (messages sent = nextSeq − 1). */
  nextSeq: number;
  messages: number;
  packets: number;
  bytes: number;
  heartbeats: number;
  droppedPackets: number;
  droppedMessages: number;
  requests: number;
  badRequests: number;
  retransmittedMessages: number;
  retransmittedPackets: number;
  unservable: number;
  snapshots: number;
  elapsedMs: number;
  /** ms from the start to the end-of-session packet (the sending time; `elapsedMs` adds the linger). */
  sendMs: number;
  ended: boolean;
}

const POOL = 256;

/** Copies `n` bytes (a message block, ≤ 36) without the view `subarray` would allocate. */
function copyBytes(dst: Uint8Array, d: number, src: Uint8Array, s: number, n: number): void {
  for (let i = 0; i < n; i++) dst[d + i] = src[s + i]!;
}
const SLOT = FEED_BLOCK_HEADER + MSG_MAX_LENGTH;
const MULTICAST = /^(22[4-9]|23\d)\./;

export function checkHostPort(what: string, host: string, port: number, allowZero = false): void {
  if (!isIPv4(host)) throw new TradsysError('ERR_FEED_CONFIG', `${what} host ${JSON.stringify(host)} is not an IPv4 address`);
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) throw new TradsysError('ERR_FEED_CONFIG', `${what} port ${port} is not in [${allowZero ? 0 : 1}, 65535]`);
}

function intOpt(name: string, v: number | undefined, def: number, lo: number, hi: number): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || v < lo || v > hi) throw new TradsysError('ERR_FEED_CONFIG', `${name} must be an integer in [${lo}, ${hi}], got ${v}`);
  return v;
}

export class Publisher {
  readonly session: Uint8Array;
  private readonly o: Required<Omit<PublisherOptions, 'requestPort' | 'multicastInterface' | 'count' | 'durationMs' | 'dropEvery' | 'rate'>> & PublisherOptions;
  private readonly maxPayload: number;
  private readonly q = new MessageQueue();
  private sock: Socket | null = null;
  private req: Socket | null = null;
  private readonly pool: Uint8Array[] = [];
  private readonly poolDv: DataView[] = [];
  private poolNext = 0;
  private inFlight = 0;
  // current packet
  private pkt!: Uint8Array;
  private pdv!: DataView;
  private plen = FEED_PACKET_HEADER;
  private pcount = 0;
  // retransmission buffer
  private readonly rbN: number;
  private readonly rb: Uint8Array;
  private readonly rbDv: DataView;
  private nextSeq = 1;
  private readonly ts = new Uint32Array(2);
  private readonly st: PublisherStats;
  private t0 = 0;
  private lastSendAt = 0;
  private sourceMessages = 0;
  private dataPackets = 0;
  private lastSnapshotAt = -Infinity;
  private pumpTimer: NodeJS.Timeout | null = null;
  private hbTimer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private stopping = false;
  private finished: Promise<PublisherStats> | null = null;
  private resolveFinished: ((s: PublisherStats) => void) | null = null;
  private rejectFinished: ((e: Error) => void) | null = null;
  private stopReason = '';

  constructor(private readonly source: FeedSource, opts: PublisherOptions) {
    this.session = sessionBytes(opts.session);
    checkHostPort('destination', opts.host, opts.port);
    if (opts.requestPort !== undefined) checkHostPort('request', opts.requestHost ?? '0.0.0.0', opts.requestPort, true);
    this.maxPayload = intOpt('maxPayload', opts.maxPayload, FEED_DEFAULT_MAX_PAYLOAD, FEED_MIN_PAYLOAD, FEED_MAX_PAYLOAD);
    this.rbN = intOpt('retransmitBuffer', opts.retransmitBuffer, 65536, 1, 1 << 24);
    intOpt('heartbeatMs', opts.heartbeatMs, 1000, 0, 3_600_000);
    intOpt('count', opts.count, 0, 0, Number.MAX_SAFE_INTEGER);
    intOpt('durationMs', opts.durationMs, 0, 0, 1e10);
    intOpt('dropEvery', opts.dropEvery, 0, 0, 1e9);
    intOpt('ttl', opts.ttl, 1, 0, 255);
    intOpt('snapshotEveryMs', opts.snapshotEveryMs, 0, 0, 86_400_000);
    if (opts.rate !== undefined && !(Number.isFinite(opts.rate) && opts.rate >= 0)) throw new TradsysError('ERR_FEED_CONFIG', `rate must be a number ≥ 0 (messages per second), got ${opts.rate}`);
    this.o = {
      heartbeatMs: 1000, requestHost: '0.0.0.0', retransmitBuffer: this.rbN, maxPayload: this.maxPayload, ttl: 1,
      lingerMs: 1000, endRepeats: 3, snapshotMinIntervalMs: 1000, snapshotEveryMs: 0, ...opts,
    } as Publisher['o'];
    for (let i = 0; i < POOL; i++) { const b = new Uint8Array(this.maxPayload); this.pool.push(b); this.poolDv.push(new DataView(b.buffer)); }
    this.rb = new Uint8Array(this.rbN * SLOT);
    this.rbDv = new DataView(this.rb.buffer);
    this.st = {
      session: opts.session, dest: `${opts.host}:${opts.port}`, requestPort: null, source: source.name, nextSeq: 1, messages: 0, packets: 0, bytes: 0,
      heartbeats: 0, droppedPackets: 0, droppedMessages: 0, requests: 0, badRequests: 0, retransmittedMessages: 0, retransmittedPackets: 0,
      unservable: 0, snapshots: 0, elapsedMs: 0, sendMs: 0, ended: false,
    };
    this.newPacket();
  }

  /** Opens the sockets and starts publishing; resolves to the final stats when the session ended. */
  async start(): Promise<PublisherStats> {
    await this.open();
    return this.run();
  }

  /** Opens the feed socket and the request server (ERR_FEED_NETWORK when one cannot be bound). */
  async open(): Promise<void> {
    if (this.sock) return;
    const sock = createSocket({ type: 'udp4' });
    this.sock = sock;
    await new Promise<void>((res, rej) => { sock.once('error', rej); sock.bind(0, () => { sock.off('error', rej); res(); }); })
      .catch((e: Error) => { throw new TradsysError('ERR_FEED_NETWORK', `cannot open the feed socket: ${e.message}`); });
    try {
      if (MULTICAST.test(this.o.host)) {
        sock.setMulticastTTL(this.o.ttl);
        sock.setMulticastLoopback(true);
        if (this.o.multicastInterface) sock.setMulticastInterface(this.o.multicastInterface);
      }
      sock.setSendBufferSize(4 << 20);
    } catch (e) { /* a smaller buffer is fine; a bad interface is not */ if (this.o.multicastInterface) { this.closeSockets(); throw new TradsysError('ERR_FEED_NETWORK', `multicast set-up failed: ${(e as Error).message}`); } }
    sock.on('error', (e) => this.fail(new TradsysError('ERR_FEED_NETWORK', `feed socket: ${e.message}`)));
    if (this.o.requestPort !== undefined) {
      const req = createSocket({ type: 'udp4' });
      this.req = req;
      await new Promise<void>((res, rej) => { req.once('error', rej); req.bind(this.o.requestPort!, this.o.requestHost, () => { req.off('error', rej); res(); }); })
        .catch((e: Error) => { this.closeSockets(); throw new TradsysError('ERR_FEED_NETWORK', `cannot bind the request port ${this.o.requestHost}:${this.o.requestPort}: ${e.message}`); });
      this.st.requestPort = req.address().port;
      req.on('message', (m, r) => this.onRequest(m, r));
      req.on('error', () => { /* a bad requester (ICMP unreachable) does not stop the feed */ });
    }
  }

  /** Starts publishing (after `open`); resolves to the final stats when the session ended. */
  run(): Promise<PublisherStats> {
    if (this.finished) return this.finished;
    if (!this.sock) throw new TradsysError('ERR_FEED_CONFIG', 'Publisher.run before open');
    this.finished = new Promise<PublisherStats>((res, rej) => { this.resolveFinished = res; this.rejectFinished = rej; });
    this.source.wake = () => this.schedule(0);
    this.t0 = performance.now();
    this.lastSendAt = this.t0;
    this.q.system(0, SYS_START);
    this.source.attach?.(this.q);
    if (this.o.heartbeatMs > 0) {
      this.hbTimer = setInterval(() => this.heartbeatTick(), Math.max(1, Math.min(this.o.heartbeatMs, 250)));
      this.hbTimer.unref?.();
    }
    this.schedule(0);
    return this.finished;
  }

  /** The port the request server listens on (after start), or null. */
  get requestPort(): number | null { return this.st.requestPort; }

  /** Asks the publisher to end the session now (end of session, then linger); during the linger: close now. */
  stop(reason = 'stopped'): void {
    if (this.endLinger) { this.endLinger(); return; } // stopping while answering late requests: end now
    if (this.stopping) return;
    this.stopReason = reason;
    this.stopping = true;
    this.schedule(0);
  }

  stats(): PublisherStats {
    this.st.nextSeq = this.nextSeq;
    this.st.elapsedMs = this.t0 ? performance.now() - this.t0 : 0;
    return { ...this.st };
  }

  get why(): string { return this.stopReason; }

  private schedule(ms: number): void {
    if (this.st.ended || this.pumpTimer || this.immediate) return;
    if (ms <= 0) this.immediate = setImmediate(() => { this.immediate = null; this.pump(); });
    else this.pumpTimer = setTimeout(() => { this.pumpTimer = null; this.pump(); }, ms);
  }

  private fail(e: Error): void {
    if (this.st.ended) return;
    this.st.ended = true;
    this.clearTimers();
    this.closeSockets();
    void Promise.resolve(this.source.close()).catch(() => undefined);
    this.rejectFinished?.(e);
  }

  private pump(): void {
    if (this.st.ended) return;
    try {
      this.pumpBody();
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private pumpBody(): void {
    const now = performance.now();
    const o = this.o;
    if (!this.stopping) {
      if (o.durationMs && now - this.t0 >= o.durationMs) this.stop('duration reached');
      else if (this.source.done && this.q.count === 0) this.stop('source ended');
    }
    if (this.stopping) { this.q.clear(); this.finish(); return; }
    if (this.inFlight >= POOL - 1) { this.schedule(1); return; } // backpressure: the socket is behind
    if (o.snapshotEveryMs > 0 && now - this.lastSnapshotAt >= o.snapshotEveryMs) {
      this.lastSnapshotAt = now;
      if (this.source.snapshot(this.q) > 0) this.st.snapshots++;
    }
    // how many messages may go now (token bucket; bursts of at most 50 ms worth after a stall)
    let allowed = 1 << 14;
    const rate = o.rate ?? 0;
    if (rate > 0) {
      allowed = Math.min(Math.floor((rate * (now - this.t0)) / 1000) - this.st.messages, Math.max(1, Math.ceil(rate / 20)));
      if (allowed <= 0) { this.schedule(1); return; }
    }
    let sent = 0;
    while (sent < allowed && this.inFlight < POOL - 1) {
      if (o.count && this.sourceMessages >= o.count) { this.stop('count reached'); break; }
      if (this.q.count === 0) {
        if (this.source.done) break;
        this.source.pull(this.q, Math.min(allowed - sent, 4096));
        if (this.q.count === 0) break;
      }
      const bl = this.q.nextBlock();
      if (this.plen + bl > this.maxPayload || this.pcount === FEED_MAX_COUNT) this.flush();
      copyBytes(this.pkt, this.plen, this.q.buf, this.q.head, bl);
      this.plen += bl;
      this.pcount++;
      this.q.take(bl);
      if (this.startPending) this.startPending = false; else this.sourceMessages++;
      sent++;
    }
    this.flush();
    if (this.stopping) { this.schedule(0); return; }
    if (this.q.count > 0 || !this.source.done) {
      // a push source with nothing queued wakes us through source.wake; poll it slowly anyway
      const more = this.q.count > 0 || sent === allowed;
      this.schedule(more && (rate === 0 || rate >= 200_000) ? 0 : more ? 1 : 5);
    } else this.schedule(0); // the source ended: the next pump stops
  }
  private startPending = true;

  private newPacket(): void {
    this.pkt = this.pool[this.poolNext]!;
    this.pdv = this.poolDv[this.poolNext]!;
    this.poolNext = (this.poolNext + 1) % POOL;
    this.plen = FEED_PACKET_HEADER;
    this.pcount = 0;
  }

  /** Sends the current packet (if it has messages): stamps, numbers, buffers for retransmission. */
  private flush(): void {
    if (this.pcount === 0) return;
    const seq = this.nextSeq;
    writePacketHeader(this.pkt, this.pdv, 0, this.session, seq, this.pcount);
    nowNsInto(this.ts, 0);
    stampPacket(this.pdv, 0, this.pcount, this.ts[0]!, this.ts[1]!);
    // into the retransmission buffer
    let p = FEED_PACKET_HEADER;
    for (let i = 0; i < this.pcount; i++) {
      const bl = FEED_BLOCK_HEADER + this.pdv.getUint16(p);
      const slot = ((seq + i) % this.rbN) * SLOT;
      copyBytes(this.rb, slot, this.pkt, p, bl);
      p += bl;
    }
    this.nextSeq += this.pcount;
    this.st.messages += this.pcount;
    this.dataPackets++;
    if (this.o.dropEvery && this.dataPackets % this.o.dropEvery === 0) {
      this.st.droppedPackets++;
      this.st.droppedMessages += this.pcount;
    } else this.send(this.pkt, this.plen, this.o.port, this.o.host);
    this.lastSendAt = performance.now();
    this.newPacket();
  }

  /** Sends on the feed socket, or (answers to requests) on the request socket, so that receivers can tell answers by their source. */
  private send(buf: Uint8Array, len: number, port: number, host: string, viaRequest = false): void {
    this.inFlight++;
    this.st.packets++;
    this.st.bytes += len;
    (viaRequest ? this.req! : this.sock!).send(buf, 0, len, port, host, (err) => {
      this.inFlight--;
      if (err && !this.st.ended) this.fail(new TradsysError('ERR_FEED_NETWORK', `send to ${host}:${port}: ${err.message}`));
    });
  }

  /** A control packet (heartbeat, end of session, empty answer) in its own pool buffer. */
  private control(seq: number, count: number, port = this.o.port, host = this.o.host, viaRequest = false): void {
    const b = this.pool[this.poolNext]!;
    const dv = this.poolDv[this.poolNext]!;
    this.poolNext = (this.poolNext + 1) % POOL;
    if (b === this.pkt) { this.newPacket(); } // never reuse the open packet's buffer
    writePacketHeader(b, dv, 0, this.session, seq, count);
    this.send(b, FEED_PACKET_HEADER, port, host, viaRequest);
  }

  private heartbeatTick(): void {
    if (this.st.ended || this.stopping || this.o.heartbeatMs <= 0) return;
    const now = performance.now();
    if (now - this.lastSendAt >= this.o.heartbeatMs && this.pcount === 0 && this.inFlight < POOL - 1) {
      this.control(this.nextSeq, FEED_COUNT_HEARTBEAT);
      this.st.heartbeats++;
      this.lastSendAt = now;
    }
  }

  private finish(): void {
    if (this.st.ended || this.finishing) return;
    this.finishing = true;
    // end of messages (S C), then end of session, repeated
    if (!this.endQueued) {
      this.endQueued = true;
      this.q.system(0, SYS_END);
      const bl = this.q.nextBlock();
      this.pkt.set(this.q.buf.subarray(this.q.head, this.q.head + bl), this.plen);
      this.plen += bl; this.pcount++; this.q.take(bl);
      this.flush();
    }
    this.st.sendMs = performance.now() - this.t0;
    let k = 0;
    const repeats = Math.max(1, this.o.endRepeats);
    const again = (): void => {
      if (this.st.ended) return;
      this.control(this.nextSeq, FEED_COUNT_END);
      if (++k < repeats) { this.pumpTimer = setTimeout(again, 5); return; }
      this.pumpTimer = null;
      this.clearTimers();
      const done = (): void => {
        if (this.st.ended) return;
        if (this.lingerTimer) { clearTimeout(this.lingerTimer); this.lingerTimer = null; }
        this.endLinger = null;
        this.st.ended = true;
        this.st.nextSeq = this.nextSeq;
        this.st.elapsedMs = performance.now() - this.t0;
        this.closeSockets();
        void Promise.resolve(this.source.close()).catch(() => undefined).then(() => this.resolveFinished?.(this.stats()));
      };
      this.endLinger = done;
      this.lingerTimer = setTimeout(done, this.req && this.o.lingerMs > 0 ? this.o.lingerMs : 5); // 5: let the last sends complete
    };
    again();
  }
  private endQueued = false;
  private lingerTimer: NodeJS.Timeout | null = null;
  private endLinger: (() => void) | null = null;
  private finishing = false;

  private clearTimers(): void {
    if (this.hbTimer) { clearInterval(this.hbTimer); this.hbTimer = null; }
    if (this.pumpTimer) { clearTimeout(this.pumpTimer); this.pumpTimer = null; }
    if (this.immediate) { clearImmediate(this.immediate); this.immediate = null; }
  }

  private closeSockets(): void {
    try { this.sock?.close(); } catch { /* closed */ }
    try { this.req?.close(); } catch { /* closed */ }
    this.sock = null;
    this.req = null;
  }

  private readonly reqView = { u8: new Uint8Array(0), dv: new DataView(new ArrayBuffer(0)) };

  /** Answers a retransmission request from the buffer (or with an empty answer and a snapshot when it is gone). */
  private onRequest(msg: Buffer, r: RemoteInfo): void {
    if (this.st.ended || !this.sock) return;
    const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
    if (checkRequest(dv, 0, msg.byteLength) !== null || !sessionEquals(msg, 0, this.session)) { this.st.badRequests++; return; }
    this.st.requests++;
    const seq = getU64BE(dv, 10);
    let count = dv.getUint16(18);
    const sent = this.nextSeq - 1;
    const oldest = Math.max(1, this.nextSeq - this.rbN);
    if (seq > sent) { this.control(this.nextSeq, FEED_COUNT_HEARTBEAT, r.port, r.address, true); return; }
    if (seq < oldest) {
      this.st.unservable++;
      this.control(oldest, FEED_COUNT_HEARTBEAT, r.port, r.address, true);
      const now = performance.now();
      if (this.o.snapshotMinIntervalMs > 0 && now - this.lastSnapshotAt >= this.o.snapshotMinIntervalMs && !this.stopping) {
        this.lastSnapshotAt = now;
        if (this.source.snapshot(this.q) > 0) { this.st.snapshots++; this.schedule(0); }
      }
      return;
    }
    count = Math.min(count, sent - seq + 1);
    // packetize the buffered blocks into answer packets (their original bytes and timestamps)
    let s = seq;
    const end = seq + count;
    while (s < end) {
      const b = this.pool[this.poolNext]!;
      const bdv = this.poolDv[this.poolNext]!;
      this.poolNext = (this.poolNext + 1) % POOL;
      if (b === this.pkt) this.newPacket();
      let len = FEED_PACKET_HEADER;
      let n = 0;
      const first = s;
      while (s < end) {
        const slot = (s % this.rbN) * SLOT;
        const bl = FEED_BLOCK_HEADER + this.rbDv.getUint16(slot);
        if (len + bl > this.maxPayload) break;
        copyBytes(b, len, this.rb, slot, bl);
        len += bl; n++; s++;
      }
      writePacketHeader(b, bdv, 0, this.session, first, n);
      this.send(b, len, r.port, r.address, true);
      this.st.retransmittedPackets++;
      this.st.retransmittedMessages += n;
    }
  }
}

