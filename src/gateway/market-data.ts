/**
 * Market-data fan-out: book snapshots and deltas with per-symbol sequence numbers and checksums,
 * tickers, and public trades, to the connections subscribed to each channel, in JSON or binary.
 *
 * Layout: per symbol, `bookSeq` (the book channel's sequence), `lastPx`/`lastQty` (the last
 * trade, ticks and lots; lastPx -1 = none yet) and `recentTrades` (the last 1,000 trades, oldest
 * first: decimal price and qty and the JSON text, for GET /api/v1/trades and the JSON ticker).
 * The book itself is the BookProjection the event pump applies events to.
 * Invariants: a client's book rebuilt from snapshot + deltas equals the projection (both
 * protocols); a delta goes out once per pump cycle per touched symbol; past the soft buffer limit
 * a subscriber's deltas are skipped and it gets one fresh snapshot once drained; a binary delta
 * too large for one message is replaced by a snapshot with the same seq.
 * Complexity: trade O(JSON subscribers); publishBook O(subscribers + changed levels); a snapshot O(depth).
 * Allocation: JSON: one text per delta, ticker or trade for all JSON subscribers; binary: a
 * market-data message is encoded once into the cycle's log (md-fanout.ts), and each distinct
 * subscription pattern gets one set of frames per cycle, shared by its connections; a book publish
 * (ticker, delta, checksum) allocates nothing after warm-up (the projection's ladders, reused
 * change arrays, `checksumDecimal`); the trade's JSON text and recent-trades entry per trade.
 * Known limitations: tickers carry the gateway's wall clock (`ts`, Date.now() in ns).
 */
import { MAX_LEVELS, BinaryWriter } from '../codec/binary-protocol.js';
import type { Instrument } from '../domain/instruments.js';
import type { BookProjection } from '../marketdata/book-projection.js';
import type { Connections } from './connections.js';
import { CH_BOOK, CH_TICKER, CH_TRADES, MdFanout } from './md-fanout.js';

/** One of the last 1,000 trades of a symbol kept for GET /api/v1/trades and the ticker: its decimal price and qty and its JSON text. */
interface RecentTrade { price: string; qty: string; json: string }

export class MarketData {
  private readonly bookSeq: number[];
  private readonly lastPx: number[];
  private readonly lastQty: number[];
  private readonly recentTrades: RecentTrade[][];
  /** Binary market data: each message encoded once into the cycle's log, sent as shared frames (md-fanout.ts). */
  private readonly fan: MdFanout;

  constructor(private readonly instruments: Instrument[], private readonly book: BookProjection, private readonly conns: Connections) {
    this.bookSeq = instruments.map(() => 0);
    this.lastPx = instruments.map(() => -1);
    this.lastQty = instruments.map(() => 0);
    this.recentTrades = instruments.map(() => []);
    this.fan = new MdFanout(conns, conns.binaryFrameBytes);
  }

  /** A JSON book snapshot (allocates). */
  snapshot(ins: Instrument, depth = 1000): Record<string, unknown> {
    const side = (s: number): string[][] => this.book.depth(ins.id, s, depth).map(([p, q]) => [ins.toPrice(BigInt(p)), ins.toQty(q)]);
    return { type: 'book', symbol: ins.symbol, seq: this.bookSeq[ins.id], bids: side(0), asks: side(1) };
  }

  /** Best bid/offer and last trade of a symbol (JSON; allocates). */
  ticker(ins: Instrument): Record<string, unknown> {
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

  binarySnapshot(w: BinaryWriter, ins: Instrument): void {
    w.book(0, ins.id, this.bookSeq[ins.id]!, this.book.depth(ins.id, 0, 1000), this.book.depth(ins.id, 1, 1000));
  }

  /** The binary ticker (best bid/offer from the projection's ladders, no allocation). */
  binaryTicker(w: BinaryWriter, ins: Instrument): void {
    const s = ins.id;
    const bk = this.book;
    const hasB = bk.levelCount(s, 0) > 0;
    const hasA = bk.levelCount(s, 1) > 0;
    const lp = this.lastPx[s]!;
    w.ticker(0, s, hasB ? bk.levelPrice(s, 0, 0) : null, hasB ? bk.levelQty(s, 0, 0) : null, hasA ? bk.levelPrice(s, 1, 0) : null, hasA ? bk.levelQty(s, 1, 0) : null,
      lp < 0 ? null : lp, lp < 0 ? null : this.lastQty[s]!, Date.now() * 1e6);
  }

  /** The last 1,000 trades of a symbol as a JSON array, newest first (exact epoch-ns `ts` digits). */
  recentTradesJson(id: number): string {
    const r = this.recentTrades[id]!;
    let out = '[';
    for (let i = r.length - 1; i >= 0; i--) out += (i === r.length - 1 ? '' : ',') + r[i]!.json;
    return out + ']';
  }

  /**
   * A trade: kept as the symbol's last and among its recent trades, and sent to its trades
   * subscribers. `ts` is the engine's tsInit (epoch ns, the same `ts` as the trade's ClickHouse
   * row), written with its exact digits: a 19-digit integer does not survive a double.
   */
  trade(ins: Instrument, takerSide: number, tradeId: number, price: number, qty: number, px: string, q: string, ts: bigint): void {
    const symbol = ins.id;
    const frame = `${JSON.stringify({ type: 'trade', symbol: ins.symbol, tradeId, price: px, qty: q, takerSide: takerSide === 0 ? 'buy' : 'sell' }).slice(0, -1)},"ts":${ts}}`;
    const recent = this.recentTrades[symbol]!;
    recent.push({ price: px, qty: q, json: frame });
    if (recent.length > 1000) recent.shift();
    this.lastPx[symbol] = price;
    this.lastQty[symbol] = qty;
    const fan = this.fan;
    const mark = fan.begin();
    fan.log.trade(0, symbol, takerSide === 1, tradeId, price, qty, ts);
    fan.commit(mark, CH_TRADES, symbol);
    for (const c of this.conns.jsonConnections()) if (c.trades.has(symbol)) this.conns.sendText(c, frame);
  }

  /** The book changes of symbol `s` since its last publish: tickers, then one delta per book subscriber. */
  publishBook(s: number): void {
    const ins = this.instruments[s]!;
    const ch = this.book.takeChanges(s);
    if (ch.bids.length === 0 && ch.asks.length === 0) return;
    const conns = this.conns;
    const fan = this.fan;
    // binary: the ticker and the delta are encoded once into the cycle's log (md-fanout.ts)
    let mark = fan.begin();
    this.binaryTicker(fan.log, ins);
    fan.commit(mark, CH_TICKER, s);
    let tick: string | null = null;
    for (const c of conns.jsonConnections()) {
      if (!c.tickers.has(s)) continue;
      tick ??= JSON.stringify(this.ticker(ins));
      conns.sendText(c, tick);
    }
    const first = this.bookSeq[s]! + 1;
    this.bookSeq[s] = first;
    const checksum = this.book.checksumDecimal(s, ins.tickSize, ins.lotSize);
    mark = fan.begin();
    // a delta too large for one message is replaced by a snapshot (same seq)
    if (ch.bids.length + ch.asks.length > MAX_LEVELS) this.binarySnapshot(fan.log, ins);
    else fan.log.bookDelta(0, s, first, first, checksum, ch.bids, ch.asks);
    fan.commit(mark, CH_BOOK, s);
    let frame: string | null = null;
    for (const c of conns.values()) {
      if (!c.books.has(s)) continue;
      // slow consumer: past the soft limit skip deltas; once drained, send one fresh snapshot
      if (conns.overSoftLimit(c)) { if (c.bin) fan.skipLast(c); c.stale.add(s); continue; }
      if (c.bin) {
        if (c.stale.delete(s)) { fan.skipLast(c); this.binarySnapshot(conns.out(c), ins); }
        continue;
      }
      if (c.stale.delete(s)) { conns.send(c, this.snapshot(ins)); continue; }
      const fmt = (xs: [number, number][]): string[][] => xs.map(([p, q]) => [ins.toPrice(BigInt(p)), ins.toQty(q)]);
      conns.sendText(c, frame ??= JSON.stringify({ type: 'bookDelta', symbol: ins.symbol, first, last: first, bids: fmt(ch.bids), asks: fmt(ch.asks), checksum }));
    }
  }
}

