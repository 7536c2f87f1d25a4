/**
 * `tradsys/client`: a TypeScript client for the WebSocket protocols (docs/protocol.md), JSON or
 * binary (`protocol` option) behind one API: HMAC authentication, order entry with promises for
 * the first answer, execution-report events, and local order books kept from snapshot + deltas
 * with gap and checksum detection and automatic resynchronisation.
 *
 * Layout: with `protocol: 'binary'` the client first reads the instruments (GET /api/v1/symbols on
 * the same host) to map symbols to instrument ids and decimals to ticks and lots; it then speaks
 * src/codec/binary-protocol.ts, coalescing the messages sent in one tick into one frame (≤ 3.5 KB,
 * under the server's 4 KiB frame limit), and turns every server message into the JSON protocol's
 * message shape (decimal strings), so events and promises are identical for both protocols.
 * Invariants: a LocalBook either matches the server's book after each delta (checksum verified)
 * or is being resynchronised (it asks for a fresh snapshot and ignores deltas until it arrives).
 * Allocation: per message (client side).
 * Known limitations: over binary, clientOrderIds must be decimal integers 1..2^64-1 without
 * leading zeros (the binary form is a u64), and `modify` needs an order this client placed (its
 * symbol gives the tick size); both throw otherwise.
 */
import WebSocket from 'ws';
import { EventEmitter } from 'node:events';
import { createHmac } from 'node:crypto';
import { crc32 } from '../sys/crc32.js';
import { Instrument } from '../domain/instruments.js';
import { BinaryWriter, Channel, decodeFrame, isBinaryClientOrderId, type ServerBinMessage } from '../codec/binary-protocol.js';

export type Msg = Record<string, unknown> & { type: string };

export interface ClientOptions { key: string; secret: string; cancelOnDisconnect?: boolean; timeoutMs?: number; protocol?: 'json' | 'binary' }

const CHANNEL_BITS: Record<string, number> = { book: Channel.BOOK, trades: Channel.TRADES, ticker: Channel.TICKER };
const BINARY_FLUSH_BYTES = 3584;

/** Binary ↔ JSON-shaped messages for one connection: instrument table and the frame being built. */
class BinaryCodec {
  private readonly w = new BinaryWriter(4096);
  private scheduled = false;
  /** Symbol of each clientOrderId this client placed (modify converts its price with it). */
  private readonly symbolOf = new Map<string, Instrument>();

  constructor(private readonly ws: WebSocket, private readonly byId: Instrument[], private readonly bySymbol: Map<string, Instrument>) {}

  private ins(symbol: string): Instrument {
    const i = this.bySymbol.get(symbol);
    if (!i) throw new Error(`unknown symbol ${symbol}`);
    return i;
  }
  private cid(c: unknown): string {
    if (typeof c !== 'string' || !isBinaryClientOrderId(c)) throw new Error(`clientOrderId ${JSON.stringify(c)}: the binary protocol needs a decimal integer 1..2^64-1 without leading zeros`);
    return c;
  }

  /** Encodes one JSON-protocol client message; the frame goes out at the end of the tick. */
  send(m: Record<string, unknown>): void {
    const w = this.w;
    switch (m.op) {
      case 'auth': w.auth(0, m.key as string, m.ts as number, m.sig as string, m.cancelOnDisconnect === true); break;
      case 'subscribe':
      case 'unsubscribe': {
        const masks = new Map<Instrument, number>();
        for (const ch of m.channels as string[]) {
          const dot = ch.indexOf('.');
          const bit = CHANNEL_BITS[ch.slice(0, dot)];
          if (bit === undefined) throw new Error(`unknown channel ${ch}`);
          const i = this.ins(ch.slice(dot + 1));
          masks.set(i, (masks.get(i) ?? 0) | bit);
        }
        for (const [i, mask] of masks) w.subscribe(0, i.id, mask, m.op === 'unsubscribe');
        break;
      }
      case 'order': {
        const i = this.ins(m.symbol as string);
        const cid = this.cid(m.clientOrderId);
        const price = m.type === 'limit' ? Number(i.toTicks(m.price as string)) : 0;
        w.order(0, cid, i.id, m.side === 'buy' ? 0 : 1, m.type === 'limit' ? 0 : 1, { gtc: 0, ioc: 1, fok: 2, post_only: 3 }[m.tif as string] ?? 0, price, i.toLots(m.qty as string));
        this.symbolOf.set(cid, i);
        break;
      }
      case 'cancel': w.cancel(0, m.clientOrderId === undefined ? '' : this.cid(m.clientOrderId), m.orderId === undefined ? 0 : Number(m.orderId)); break;
      case 'modify': {
        const cid = this.cid(m.clientOrderId);
        const i = this.symbolOf.get(cid);
        if (!i) throw new Error(`modify ${cid}: not an order of this client (its symbol is unknown)`);
        w.modify(0, cid, 0, Number(i.toTicks(m.price as string)), i.toLots(m.qty as string));
        break;
      }
      case 'ping': w.ping(0); break;
      default: throw new Error(`unknown op ${String(m.op)}`);
    }
    if (w.size >= BINARY_FLUSH_BYTES) { this.flush(); return; }
    if (!this.scheduled) { this.scheduled = true; queueMicrotask(() => this.flush()); }
  }

  flush(): void {
    this.scheduled = false;
    const f = this.w.take();
    if (f && this.ws.readyState === WebSocket.OPEN) this.ws.send(f);
  }

  /** One server frame → JSON-protocol messages. */
  decode(data: Buffer): Msg[] {
    return decodeFrame(data, 'server').map((m) => this.toJson(m));
  }

  private toJson(m: ServerBinMessage): Msg {
    const ins = (id: number): Instrument => {
      const i = this.byId[id];
      if (!i) throw new Error(`server sent unknown instrument ${id}`);
      return i;
    };
    const lv = (i: Instrument, xs: [number, number][]): string[][] => xs.map(([p, q]) => [i.toPrice(BigInt(p)), i.toQty(q)]);
    switch (m.kind) {
      case 'auth': return m.ok ? { type: 'auth', ok: true, account: m.account } : { type: 'auth', ok: false, reason: m.reason };
      case 'subscribed': return { type: 'subscribed', channels: Object.entries(CHANNEL_BITS).filter(([, b]) => (m.channels & b) !== 0).map(([n]) => `${n}.${ins(m.instrument).symbol}`), ok: m.ok };
      case 'ack': return m.duplicate ? { type: 'ack', clientOrderId: m.clientOrderId, orderId: String(m.orderId), seq: null, duplicate: true } : { type: 'ack', clientOrderId: m.clientOrderId, orderId: String(m.orderId), seq: m.seq };
      case 'reject':
        // the JSON shapes: an engine reject names both ids; a gateway reject the one the command named
        if (m.seq !== null) return { type: 'reject', clientOrderId: m.clientOrderId, orderId: String(m.orderId), reason: m.reason, seq: m.seq };
        return m.clientOrderId !== '' ? { type: 'reject', clientOrderId: m.clientOrderId, reason: m.reason } : { type: 'reject', orderId: String(m.orderId), reason: m.reason };
      case 'fill': {
        const i = ins(m.instrument);
        return { type: 'fill', orderId: String(m.orderId), clientOrderId: m.clientOrderId, tradeId: m.tradeId, price: i.toPrice(BigInt(m.price)), qty: i.toQty(m.qty), leaves: i.toQty(m.leaves), liquidity: m.liquidity, seq: m.seq };
      }
      case 'cancelled': return { type: 'cancelled', orderId: String(m.orderId), clientOrderId: m.clientOrderId, qty: ins(m.instrument).toQty(m.qty), seq: m.seq };
      case 'modified': {
        const i = ins(m.instrument);
        return { type: 'modified', orderId: String(m.orderId), clientOrderId: m.clientOrderId, price: i.toPrice(BigInt(m.price)), qty: i.toQty(m.qty), seq: m.seq };
      }
      case 'book': { const i = ins(m.instrument); return { type: 'book', symbol: i.symbol, seq: m.seq, bids: lv(i, m.bids), asks: lv(i, m.asks) }; }
      case 'bookDelta': { const i = ins(m.instrument); return { type: 'bookDelta', symbol: i.symbol, first: m.first, last: m.last, bids: lv(i, m.bids), asks: lv(i, m.asks), checksum: m.checksum }; }
      case 'trade': { const i = ins(m.instrument); return { type: 'trade', symbol: i.symbol, tradeId: m.tradeId, price: i.toPrice(BigInt(m.price)), qty: i.toQty(m.qty), takerSide: m.takerSide, ts: m.ts }; }
      case 'ticker': {
        const i = ins(m.instrument);
        const px = (x: number | null): string | null => (x === null ? null : i.toPrice(BigInt(x)));
        const q = (x: number | null): string | null => (x === null ? null : i.toQty(x));
        return { type: 'ticker', symbol: i.symbol, bid: px(m.bid), bidQty: q(m.bidQty), ask: px(m.ask), askQty: q(m.askQty), last: px(m.last), lastQty: q(m.lastQty), ts: m.ts };
      }
      case 'pong': return { type: 'pong' };
      case 'error': return { type: 'error', code: m.code, message: `${m.code}${m.msgType ? ` (message type 0x${m.msgType.toString(16)})` : ''}` };
    }
  }
}

export class LocalBook {
  readonly bids = new Map<string, string>();
  readonly asks = new Map<string, string>();
  seq = -1;
  resyncs = 0;
  synced = false;
  /** Test hook: drop the next delta as if the network lost it. */
  dropNext = false;

  constructor(readonly symbol: string, private readonly resync: () => void) {}

  /** Best `n` levels as [price, qty] strings, best first. */
  levels(side: 'bids' | 'asks', n = 10): [string, string][] {
    const m = side === 'bids' ? this.bids : this.asks;
    return [...m.entries()].sort((a, b) => (side === 'bids' ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0]))).slice(0, n);
  }

  checksum(): number {
    const t = (side: 'bids' | 'asks'): string => this.levels(side, 10).map(([p, q]) => `${p}:${q}`).join(',');
    return crc32(Buffer.from(`${t('bids')}|${t('asks')}`, 'ascii'));
  }

  onSnapshot(m: Msg): void {
    this.bids.clear();
    this.asks.clear();
    for (const [p, q] of m.bids as [string, string][]) this.bids.set(p, q);
    for (const [p, q] of m.asks as [string, string][]) this.asks.set(p, q);
    this.seq = m.seq as number;
    this.synced = true;
  }

  onDelta(m: Msg): void {
    if (!this.synced) return;
    if (this.dropNext) { this.dropNext = false; return; }
    if ((m.first as number) !== this.seq + 1) { this.restart(); return; }
    for (const [side, map] of [['bids', this.bids], ['asks', this.asks]] as const) {
      for (const [p, q] of m[side] as [string, string][]) { if (Number(q) === 0) map.delete(p); else map.set(p, q); }
    }
    this.seq = m.last as number;
    if (this.checksum() !== m.checksum) this.restart();
  }

  private restart(): void {
    this.synced = false;
    this.resyncs++;
    this.resync();
  }
}

export class TradsysClient extends EventEmitter {
  private readonly books = new Map<string, LocalBook>();
  private readonly pending = new Map<string, { resolve: (m: Msg) => void; timer: NodeJS.Timeout }>();
  account: number | null = null;

  private constructor(private readonly ws: WebSocket, private readonly timeoutMs: number, private readonly bin: BinaryCodec | null) {
    super();
    if (bin) ws.on('message', (d: Buffer) => { for (const m of bin.decode(d)) this.onMessage(m); });
    else ws.on('message', (d) => this.onMessage(JSON.parse(d.toString()) as Msg));
    ws.on('close', () => this.emit('close'));
  }

  /** Which protocol this connection speaks. */
  get protocol(): 'json' | 'binary' { return this.bin ? 'binary' : 'json'; }

  /** Connects and authenticates; rejects if authentication fails. `url` is the ws://host:port/ws address. */
  static async connect(url: string, opts: ClientOptions): Promise<TradsysClient> {
    let instruments: Instrument[] | null = null;
    const u = new URL(url);
    if (opts.protocol === 'binary') {
      const http = new URL('/api/v1/symbols', u);
      http.protocol = u.protocol === 'wss:' ? 'https:' : 'http:';
      const list = await (await fetch(http)).json() as { id: number; symbol: string; tickSize: string; lotSize: string }[];
      instruments = [];
      for (const s of list) instruments[s.id] = new Instrument(s.id, { symbol: s.symbol, tickSize: s.tickSize, lotSize: s.lotSize });
      u.searchParams.set('protocol', 'binary');
    }
    const ws = new WebSocket(u);
    await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
    const codec = instruments ? new BinaryCodec(ws, instruments, new Map(instruments.filter(Boolean).map((i) => [i.symbol, i]))) : null;
    const c = new TradsysClient(ws, opts.timeoutMs ?? 5000, codec);
    const ts = Date.now();
    const sig = createHmac('sha256', opts.secret).update(opts.key + String(ts)).digest('hex');
    const auth = await c.request({ op: 'auth', key: opts.key, ts, sig, ...(opts.cancelOnDisconnect ? { cancelOnDisconnect: true } : {}) }, (m) => m.type === 'auth');
    if (auth.ok !== true) { ws.close(); throw new Error(`authentication failed: ${String(auth.reason)}`); }
    c.account = auth.account as number;
    return c;
  }

  private send(m: Record<string, unknown>): void {
    if (this.bin) this.bin.send(m);
    else this.ws.send(JSON.stringify(m));
  }

  private request(m: Record<string, unknown>, match: (m: Msg) => boolean, key = `req:${Math.random()}`): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(key); reject(new Error(`no answer to ${String(m.op)} within ${this.timeoutMs} ms`)); }, this.timeoutMs);
      this.pending.set(key, { resolve: (x) => { clearTimeout(timer); resolve(x); }, timer });
      this.matchers.set(key, match);
      try {
        this.send(m);
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(key);
        this.matchers.delete(key);
        reject(e as Error);
      }
    });
  }
  private readonly matchers = new Map<string, (m: Msg) => boolean>();

  private onMessage(m: Msg): void {
    for (const [key, match] of this.matchers) {
      if (match(m)) { this.matchers.delete(key); this.pending.get(key)?.resolve(m); this.pending.delete(key); break; }
    }
    if (m.type === 'book') this.books.get(m.symbol as string)?.onSnapshot(m);
    else if (m.type === 'bookDelta') this.books.get(m.symbol as string)?.onDelta(m);
    // a server `error` message is emitted as 'error' only to listeners: EventEmitter throws an
    // unlistened 'error', which would break the socket's message handling ('message' gets it anyway)
    if (m.type !== 'error' || this.listenerCount('error') > 0) this.emit(m.type, m);
    this.emit('message', m);
  }

  /** Sends an order; resolves with its ack or reject. */
  order(o: { clientOrderId: string; symbol: string; side: 'buy' | 'sell'; type: 'limit' | 'market'; tif: 'gtc' | 'ioc' | 'fok' | 'post_only'; price?: string; qty: string }): Promise<Msg> {
    return this.request({ op: 'order', ...o }, (m) => (m.type === 'ack' || m.type === 'reject') && m.clientOrderId === o.clientOrderId);
  }

  /** Cancels by clientOrderId; resolves with `cancelled` or `reject`. */
  cancel(clientOrderId: string): Promise<Msg> {
    return this.request({ op: 'cancel', clientOrderId }, (m) => (m.type === 'cancelled' || m.type === 'reject') && m.clientOrderId === clientOrderId);
  }

  /** Modifies by clientOrderId; resolves with `modified` or `reject`. */
  modify(clientOrderId: string, price: string, qty: string): Promise<Msg> {
    return this.request({ op: 'modify', clientOrderId, price, qty }, (m) => (m.type === 'modified' || m.type === 'reject') && m.clientOrderId === clientOrderId);
  }

  /** A local book for `symbol`, kept from snapshot + deltas; resynchronises on gaps or bad checksums. */
  book(symbol: string): LocalBook {
    let b = this.books.get(symbol);
    if (!b) {
      b = new LocalBook(symbol, () => {
        this.send({ op: 'unsubscribe', channels: [`book.${symbol}`] });
        this.send({ op: 'subscribe', channels: [`book.${symbol}`] });
      });
      this.books.set(symbol, b);
      this.send({ op: 'subscribe', channels: [`book.${symbol}`] });
    }
    return b;
  }

  /** Subscribes; resolves with `subscribed`, or with the `error` (`unknown_symbol`, `too_many_channels`) that refused the whole message. */
  subscribe(channels: string[]): Promise<Msg> {
    return this.request({ op: 'subscribe', channels }, (m) => m.type === 'subscribed' || (m.type === 'error' && (m.code === 'unknown_symbol' || m.code === 'too_many_channels')));
  }

  close(): void { this.bin?.flush(); this.ws.close(); }
}
