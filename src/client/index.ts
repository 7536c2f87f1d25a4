/**
 * `tradsys/client`: a TypeScript client for the JSON WebSocket protocol (docs/protocol.md):
 * HMAC authentication, order entry with promises for the first answer, execution-report events,
 * and local order books kept from snapshot + deltas with gap and checksum detection and automatic
 * resynchronisation.
 *
 * Invariants: a LocalBook either matches the server's book after each delta (checksum verified)
 * or is being resynchronised (it asks for a fresh snapshot and ignores deltas until it arrives).
 * Allocation: per message (client side). Known limitations: JSON protocol only (no binary yet).
 */
import WebSocket from 'ws';
import { EventEmitter } from 'node:events';
import { createHmac } from 'node:crypto';
import { crc32 } from '../engine/engine.js';

export type Msg = Record<string, unknown> & { type: string };

export interface ClientOptions { key: string; secret: string; cancelOnDisconnect?: boolean; timeoutMs?: number }

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

  private constructor(private readonly ws: WebSocket, private readonly timeoutMs: number) {
    super();
    ws.on('message', (d) => this.onMessage(JSON.parse(d.toString()) as Msg));
    ws.on('close', () => this.emit('close'));
  }

  /** Connects and authenticates; rejects if authentication fails. */
  static async connect(url: string, opts: ClientOptions): Promise<TradsysClient> {
    const ws = new WebSocket(url);
    await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
    const c = new TradsysClient(ws, opts.timeoutMs ?? 5000);
    const ts = Date.now();
    const sig = createHmac('sha256', opts.secret).update(opts.key + String(ts)).digest('hex');
    const auth = await c.request({ op: 'auth', key: opts.key, ts, sig, ...(opts.cancelOnDisconnect ? { cancelOnDisconnect: true } : {}) }, (m) => m.type === 'auth');
    if (auth.ok !== true) { ws.close(); throw new Error(`authentication failed: ${String(auth.reason)}`); }
    c.account = auth.account as number;
    return c;
  }

  private send(m: Record<string, unknown>): void { this.ws.send(JSON.stringify(m)); }

  private request(m: Record<string, unknown>, match: (m: Msg) => boolean, key = `req:${Math.random()}`): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(key); reject(new Error(`no answer to ${String(m.op)} within ${this.timeoutMs} ms`)); }, this.timeoutMs);
      this.pending.set(key, { resolve: (x) => { clearTimeout(timer); resolve(x); }, timer });
      this.matchers.set(key, match);
      this.send(m);
    });
  }
  private readonly matchers = new Map<string, (m: Msg) => boolean>();

  private onMessage(m: Msg): void {
    for (const [key, match] of this.matchers) {
      if (match(m)) { this.matchers.delete(key); this.pending.get(key)?.resolve(m); this.pending.delete(key); break; }
    }
    if (m.type === 'book') this.books.get(m.symbol as string)?.onSnapshot(m);
    else if (m.type === 'bookDelta') this.books.get(m.symbol as string)?.onDelta(m);
    this.emit(m.type, m);
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

  subscribe(channels: string[]): Promise<Msg> {
    return this.request({ op: 'subscribe', channels }, (m) => m.type === 'subscribed');
  }

  close(): void { this.ws.close(); }
}
