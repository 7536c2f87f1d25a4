/**
 * Feed sources: what a market publishes, computed honestly.
 * - `EngineFeedSource`: an order stream (`.tso`/CSV as `tradsys gen` writes it) run through the real
 *   matching engine; its events become ITCH-like messages (A/X/E/P/D), and snapshots come from the
 *   engine's own book.
 * - `EventsToFeed`: the conversion itself (engine EVT records → messages), usable by any host that
 *   sees the engine's event stream.
 *
 * Owns: the event → message rules and a shadow of the resting orders and level totals (to publish
 * `E`/`X` against resting orders and `D` level totals without asking the engine).
 * Layout: the shadow is a Map id → {symbol, side, price, leaves} and per symbol and side a Map price →
 * total qty; the command's pending order is fields of the converter, not an object.
 * Rules (DESIGN event order): an accepted order (A event) is pending until its command's last event;
 * each trade T publishes `E` (the resting maker, qty, matchId = tradeId) and `P` (price, qty,
 * aggressor side = the taker's, matchId) and a `D` for the maker's level; a cancel X of a resting order
 * publishes `X` (qty removed) and `D`; a modify M reduces in place (`X` of the difference, `D`) or takes
 * the order out (`X` of its leaves, `D`) and re-enters it as pending; after the last event of a command
 * a pending order with leaves rests: `A` (orderId, side, price, leaves) and `D`. Rejects and controls
 * publish nothing. An order that never rests (IOC, market, fully filled) never gets an `A`: the feed
 * carries the book, not the order entry.
 * Invariants: after every command, the shadow's orders and level totals equal the engine's book
 * (tested against Engine.depth and the book builder).
 * Complexity: O(1) per event (map operations). Allocation: a map entry per resting order and level
 * (off the hot receive path); the snapshot allocates (engine queries).
 * Known limitations: ids, prices and quantities must stay below 2^53.
 */
import { CMD_SIZE, EVT_SIZE } from '../../abi/records.js';
import { evtId, evtLast, evtMaker, evtPrice, evtQty, evtSide, evtSymbol, evtTradeId, evtType } from '../../abi/views.js';
import { TradsysError } from '../../domain/errors.js';
import { openOrderFile, type RecordSource } from '../../codec/tso.js';
import { SYS_RESET } from './codec.js';
import type { FeedSource, MessageQueue } from './publisher.js';

const EV_A = 65;
const EV_T = 84;
const EV_X = 88;
const EV_M = 77;

interface Resting { symbol: number; side: number; price: number; leaves: number }

/** Engine events → feed messages (see the module header). */
export class EventsToFeed {
  private readonly orders = new Map<number, Resting>();
  /** per symbol, per side: price → total qty */
  private readonly levels: Map<number, number>[][] = [];
  // the command's pending order
  private pending = false;
  private pId = 0;
  private pSymbol = 0;
  private pSide = 0;
  private pPrice = 0;
  private pLeaves = 0;
  private pDone = false;
  q: MessageQueue | null = null;

  constructor(readonly symbols: number) {
    for (let s = 0; s < symbols; s++) this.levels.push([new Map(), new Map()]);
  }

  private level(symbol: number, side: number, price: number, delta: number): void {
    const m = this.levels[symbol]![side]!;
    const v = (m.get(price) ?? 0) + delta;
    if (v === 0) m.delete(price); else m.set(price, v);
    this.q!.bookDelta(symbol, side, price, v);
  }

  /** Converts `count` EVT records at byte 0.. of `dv` into messages appended to `q`. */
  events(dv: DataView, count: number, q: MessageQueue): void {
    this.q = q;
    for (let i = 0; i < count; i++) {
      const p = i * EVT_SIZE;
      const t = evtType(dv, p);
      const sym = evtSymbol(dv, p);
      if (t === EV_A) {
        this.pending = true; this.pDone = false;
        this.pId = evtId(dv, p); this.pSymbol = sym; this.pSide = evtSide(dv, p); this.pPrice = evtPrice(dv, p); this.pLeaves = evtQty(dv, p);
      } else if (t === EV_T) {
        const qty = evtQty(dv, p);
        const makerId = evtMaker(dv, p);
        const m = this.orders.get(makerId);
        const match = evtTradeId(dv, p);
        const price = evtPrice(dv, p);
        if (m) {
          q.execute(sym, makerId, qty, match);
          q.trade(sym, price, qty, evtSide(dv, p), match);
          m.leaves -= qty;
          if (m.leaves <= 0) this.orders.delete(makerId);
          this.level(sym, m.side, m.price, -qty);
        } else q.trade(sym, price, qty, evtSide(dv, p), match);
        if (this.pending && this.pId === evtId(dv, p)) this.pLeaves -= qty;
      } else if (t === EV_X) {
        const id = evtId(dv, p);
        const o = this.orders.get(id);
        if (o) {
          q.cancel(sym, id, o.leaves);
          this.orders.delete(id);
          this.level(sym, o.side, o.price, -o.leaves);
        } else if (this.pending && this.pId === id) this.pDone = true;
      } else if (t === EV_M) {
        const id = evtId(dv, p);
        const o = this.orders.get(id);
        if (o) {
          const price = evtPrice(dv, p);
          const qty = evtQty(dv, p);
          if (price === o.price && qty < o.leaves) {
            q.cancel(sym, id, o.leaves - qty);
            this.level(sym, o.side, o.price, qty - o.leaves);
            o.leaves = qty;
          } else {
            q.cancel(sym, id, o.leaves);
            this.orders.delete(id);
            this.level(sym, o.side, o.price, -o.leaves);
            this.pending = true; this.pDone = false;
            this.pId = id; this.pSymbol = sym; this.pSide = o.side; this.pPrice = price; this.pLeaves = qty;
          }
        }
      }
      if (evtLast(dv, p) && this.pending) {
        this.pending = false;
        if (!this.pDone && this.pLeaves > 0) {
          this.orders.set(this.pId, { symbol: this.pSymbol, side: this.pSide, price: this.pPrice, leaves: this.pLeaves });
          q.add(this.pSymbol, this.pId, this.pSide, this.pPrice, this.pLeaves);
          this.level(this.pSymbol, this.pSide, this.pPrice, this.pLeaves);
        }
      }
    }
  }

  /** Resting orders in the shadow (tests). */
  get restingCount(): number { return this.orders.size; }
}

/**
 * What the source needs of the matching engine (src/engine/engine.ts `Engine` has it; marketdata/ does
 * not import engine/, so the caller creates the engine: `newEngine: (o) => new Engine(o)`).
 */
export interface FeedEngine {
  readonly symbols: number;
  submitRaw(bytes: Uint8Array, offset: number, count: number, sink: (view: DataView, bytes: Uint8Array, count: number) => void): number;
  orders(): Iterable<{ symbol: number; side: number; price: bigint; id: bigint; leaves: number }>;
  depth(symbol: number, side: number, n?: number): { price: bigint; qty: bigint; count: number }[];
}

export interface EngineSourceOptions {
  /** Order stream file (.tso or .csv). */
  file: string;
  /** Symbols 0..symbols−1 exist in the engine (as `tradsys replay --symbols`). */
  symbols: number;
  /** Engine capacity (resting orders); default: enough for the whole file. */
  capacity?: number;
  /** Creates the engine (e.g. `(o) => new Engine({ ...o, inboxCapacity: 256 })`). */
  newEngine: (o: { symbols: number; capacity: number; inboxCapacity: number }) => FeedEngine;
}

const CHUNK = 256;

/** An order stream run through the engine (see the module header). */
export class EngineFeedSource implements FeedSource {
  readonly name: string;
  readonly engine: FeedEngine;
  private readonly reader: RecordSource;
  private readonly conv: EventsToFeed;
  private readonly buf = new Uint8Array(CHUNK * CMD_SIZE);
  private ended = false;
  commands = 0;
  private q: MessageQueue | null = null;
  private readonly sink = (v: DataView, _b: Uint8Array, k: number): void => { this.conv.events(v, k, this.q!); };

  constructor(o: EngineSourceOptions) {
    if (!Number.isInteger(o.symbols) || o.symbols < 1 || o.symbols > 1 << 20) throw new TradsysError('ERR_FEED_CONFIG', `symbols must be an integer in [1, 1048576], got ${o.symbols}`);
    try {
      this.reader = openOrderFile(o.file);
    } catch (e) {
      throw e instanceof TradsysError ? new TradsysError('ERR_FEED_SOURCE', `${o.file}: ${e.message}`, { cause: e }) : new TradsysError('ERR_FEED_SOURCE', `cannot read ${o.file}: ${(e as Error).message}`);
    }
    const capacity = o.capacity ?? Math.max(1024, Math.min(this.reader.total ?? Math.ceil(this.reader.bytesTotal / 16), 1 << 24));
    this.engine = o.newEngine({ symbols: o.symbols, capacity, inboxCapacity: CHUNK });
    this.conv = new EventsToFeed(o.symbols);
    this.name = `${o.file} through the engine (${o.symbols} symbols)`;
  }

  get done(): boolean { return this.ended; }

  pull(q: MessageQueue, wanted: number): void {
    this.q = q;
    const target = q.count + Math.max(1, wanted);
    while (!this.ended && q.count < target) {
      let n: number;
      try {
        n = this.reader.next(this.buf, Math.min(CHUNK, Math.max(1, Math.ceil((target - q.count) / 2))));
      } catch (e) {
        throw new TradsysError('ERR_FEED_SOURCE', `order stream: ${(e as Error).message}`, { cause: e });
      }
      if (n === 0) { this.ended = true; break; }
      this.engine.submitRaw(this.buf, 0, n, this.sink);
      this.commands += n;
    }
  }

  /** Per symbol: S R, then every resting order (A, time priority) and every level total (D), from the engine. */
  snapshot(q: MessageQueue): number {
    const before = q.count;
    const syms = this.engine.symbols;
    for (let s = 0; s < syms; s++) q.system(s, SYS_RESET);
    for (const o of this.engine.orders()) q.add(o.symbol, Number(o.id), o.side, Number(o.price), o.leaves);
    for (let s = 0; s < syms; s++) {
      for (let side = 0; side < 2; side++) {
        for (const l of this.engine.depth(s, side, 1 << 20)) q.bookDelta(s, side, Number(l.price), Number(l.qty));
      }
    }
    return q.count - before;
  }

  close(): void { this.reader.close?.(); }
}
