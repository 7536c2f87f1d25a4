/**
 * Feed source from a running TradSys server's public market data (the WebSocket client in
 * src/client/node): book snapshots and deltas become `S R` + `D` messages, trades become `P`.
 *
 * Owns: the client connection, the symbol name ↔ id map (GET /api/v1/symbols) and the decimal →
 * ticks/lots conversion, and its subscriptions.
 * Layout: per symbol the last delta seq (Map name → seq) and the current levels (Map id → [bids, asks],
 * each a Map price ticks → qty lots) for snapshots on demand.
 * Rules: a `book` snapshot of a symbol publishes `S R` (reset) for it, then one `D` per level (bids,
 * then asks); a `bookDelta` publishes one `D` per changed level (qty 0 removes it); a `trade`
 * publishes `P` (price, qty, taker side, matchId = the server's tradeId). A delta that does not follow
 * the previous one (`first` ≠ last + 1) resubscribes the symbol, which answers with a fresh snapshot
 * (a reset on the feed). The server's public data is L2: this source publishes no A/X/E.
 * Invariants: after each message the feed's D totals equal the server's book for that symbol.
 * Complexity: O(levels changed) per server message. Allocation: per server message (JSON parsing,
 * client side; not a hot path).
 * Known limitations: L2 only (no order-level messages); the server's trades carry their own `ts`,
 * the feed's timestamps are the publisher's send time as for every source.
 */
import { loadInstruments } from '../../client/core/binary-codec.js';
import type { Msg } from '../../client/core/types.js';
import { TradsysClient } from '../../client/node/client.js';
import { TradsysError } from '../../domain/errors.js';
import type { Instrument } from '../../domain/instruments.js';
import { SIDE_BUY, SIDE_SELL, SYS_RESET } from './codec.js';
import type { FeedSource, MessageQueue } from './publisher.js';

export interface ServerSourceOptions {
  /** ws://host:port/ws */
  url: string;
  key: string;
  secret: string;
  /** Symbol names to publish (default: every instrument of the server). */
  symbols?: string[];
}

export class ServerFeedSource implements FeedSource {
  readonly name: string;
  wake?: () => void;
  private q: MessageQueue | null = null;
  private ended = false;
  private readonly bySymbol = new Map<string, Instrument>();
  /** Last delta seq per symbol (−1 before the snapshot). */
  private readonly seq = new Map<string, number>();
  /** Current levels per symbol (for snapshots on demand): side → price ticks → qty lots. */
  private readonly books = new Map<number, [Map<number, number>, Map<number, number>]>();
  messages = 0;
  /** The last problem with a server message (converting it, subscribing), and how many there were. */
  error: string | null = null;
  errors = 0;

  private constructor(private readonly client: TradsysClient, instruments: Instrument[], private readonly channels: string[], url: string) {
    for (const i of instruments) if (i) this.bySymbol.set(i.symbol, i);
    this.name = `${url} market data (${channels.length / 2} symbols)`;
  }

  /** Connects, authenticates and reads the instruments; subscribes once the publisher attaches. */
  static async connect(o: ServerSourceOptions): Promise<ServerFeedSource> {
    let u: URL;
    try { u = new URL(o.url); } catch { throw new TradsysError('ERR_FEED_CONFIG', `--from-server ${JSON.stringify(o.url)} is not a URL (ws://host:port/ws)`); }
    if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new TradsysError('ERR_FEED_CONFIG', `--from-server must be a ws:// or wss:// URL, got ${o.url}`);
    let instruments: Instrument[];
    try {
      instruments = await loadInstruments(u);
    } catch (e) {
      throw new TradsysError('ERR_FEED_SOURCE', `cannot read the instruments of ${o.url}: ${(e as Error).message}`);
    }
    const known = instruments.filter((i) => i);
    const names = o.symbols ?? known.map((i) => i.symbol);
    for (const n of names) if (!known.some((i) => i.symbol === n)) throw new TradsysError('ERR_FEED_SOURCE', `the server has no symbol ${JSON.stringify(n)}`);
    if (names.length === 0) throw new TradsysError('ERR_FEED_SOURCE', `the server at ${o.url} has no instruments`);
    let client: TradsysClient;
    try {
      client = await TradsysClient.connect(o.url, { key: o.key, secret: o.secret });
    } catch (e) {
      throw new TradsysError('ERR_FEED_SOURCE', `cannot connect to ${o.url}: ${(e as Error).message}`);
    }
    const channels = names.flatMap((n) => [`book.${n}`, `trades.${n}`]);
    return new ServerFeedSource(client, known, channels, o.url);
  }

  get done(): boolean { return this.ended; }

  /** Called by the publisher once: subscribe now that there is a queue to publish into. */
  attach(q: MessageQueue): void {
    this.q = q;
    const c = this.client;
    const guard = (f: (m: Msg) => void) => (m: Msg): void => {
      try { f(m); } catch (e) { this.error = `${String(m.type)} ${String(m.symbol)}: ${(e as Error).message}`; this.errors++; }
    };
    c.on('book', guard((m) => this.onBook(m)));
    c.on('bookDelta', guard((m) => this.onDelta(m)));
    c.on('trade', guard((m) => this.onTrade(m)));
    c.on('close', () => { this.ended = true; this.wake?.(); });
    c.on('error', (m: Msg) => { this.error = String(m.message ?? m.code ?? 'error'); });
    c.subscribe(this.channels).then((m) => {
      if (m.type === 'error') { this.error = `subscribe: ${String(m.message ?? m.code)}`; this.ended = true; this.wake?.(); }
    }, (e: Error) => { this.error = `subscribe: ${e.message}`; this.ended = true; this.wake?.(); });
  }

  pull(): void { /* a push source: messages arrive through the client's events */ }

  private inst(m: Msg): Instrument | undefined { return this.bySymbol.get(String(m.symbol)); }

  private book(id: number): [Map<number, number>, Map<number, number>] {
    let b = this.books.get(id);
    if (!b) { b = [new Map(), new Map()]; this.books.set(id, b); }
    return b;
  }

  private level(i: Instrument, side: number, px: string, qty: string): void {
    const p = Number(i.toTicks(px));
    const l = /^0*(\.0*)?$/.test(qty) ? 0 : i.toLots(qty); // a removed level is qty "0" (toLots refuses 0)
    const m = this.book(i.id)[side]!;
    if (l === 0) m.delete(p); else m.set(p, l);
    this.q!.bookDelta(i.id, side, p, l);
    this.messages++;
  }

  private onBook(m: Msg): void {
    const i = this.inst(m);
    if (!i || !this.q) return;
    this.seq.set(i.symbol, m.seq as number);
    const b = this.book(i.id);
    b[0].clear(); b[1].clear();
    this.q.system(i.id, SYS_RESET);
    for (const [p, q] of m.bids as [string, string][]) this.level(i, SIDE_BUY, p, q);
    for (const [p, q] of m.asks as [string, string][]) this.level(i, SIDE_SELL, p, q);
    this.wake?.();
  }

  private onDelta(m: Msg): void {
    const i = this.inst(m);
    if (!i || !this.q) return;
    const last = this.seq.get(i.symbol) ?? -1;
    if (last < 0) return; // before the snapshot
    if ((m.first as number) !== last + 1) { // lost a delta: ask for a fresh snapshot
      this.seq.set(i.symbol, -1);
      void this.client.subscribe([`book.${i.symbol}`]).catch(() => undefined);
      return;
    }
    this.seq.set(i.symbol, m.last as number);
    for (const [p, q] of m.bids as [string, string][]) this.level(i, SIDE_BUY, p, q);
    for (const [p, q] of m.asks as [string, string][]) this.level(i, SIDE_SELL, p, q);
    this.wake?.();
  }

  private onTrade(m: Msg): void {
    const i = this.inst(m);
    if (!i || !this.q) return;
    this.q.trade(i.id, Number(i.toTicks(String(m.price))), i.toLots(String(m.qty)), m.takerSide === 'sell' ? SIDE_SELL : SIDE_BUY, Number(m.tradeId));
    this.messages++;
    this.wake?.();
  }

  snapshot(q: MessageQueue): number {
    const before = q.count;
    for (const [id, b] of this.books) {
      q.system(id, SYS_RESET);
      for (let side = 0; side < 2; side++) for (const [p, l] of b[side]!) q.bookDelta(id, side, p, l);
    }
    return q.count - before;
  }

  close(): void { try { this.client.close(); } catch { /* closed */ } }
}
