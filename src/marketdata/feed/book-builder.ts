/**
 * The feed book builder: reads the FeedRing with its own cursor and builds per-symbol books from
 * the feed's messages: L3 (resting orders, from A/X/E) and L2 (level totals, from D), checking each
 * D against the L3 level it names.
 *
 * Owns: its reader cursor, per symbol the resting orders (id → side, price, leaves) and the level
 * totals both ways, the staleness of each symbol after lost messages, and its counters.
 * Layout: per symbol a SymbolBook: orders (Map id → {side, price, leaves}), L3 levels per side (Map price →
 * {qty, count}), L2 totals per side (Map price → qty), `stale` and `orderLevel` flags.
 * Rules: A adds a resting order; X reduces it by the cancelled quantity (removed at 0); E reduces it by
 * the executed quantity (removed at 0); D sets the level total (0 removes it) and is compared with
 * the L3 sum of that level once the symbol has order-level messages (a difference counts in
 * `inconsistent`; an L2-only feed is not checked); P (trades) and unknown types
 * change no book. A GAP record, or a jump in `seq` while the ring's overrun count grew, marks every symbol
 * stale: its book is not trusted (and not updated) until an `S R` (reset) for that symbol, after which
 * the snapshot's A and D messages rebuild it. A builder that joins after the first message of a
 * session (seq > 1) starts with every symbol stale.
 * Invariants: for a symbol that is not stale, the L3 level sums equal the D totals and, for a feed
 * published from an engine, the engine's depth (tested).
 * Complexity: O(1) per record (map operations); `depth` O(levels log levels).
 * Allocation: a map entry per resting order and level (the reader itself allocates nothing per
 * record); `depth`, `orders` and `stats` allocate their answers.
 * Known limitations: symbols must be below the `symbols` given; ids, prices and quantities below 2^53.
 */
import { MSG_ADD, MSG_BOOK_DELTA, MSG_CANCEL, MSG_EXECUTE, MSG_GAP, MSG_SYSTEM, SYS_RESET } from './codec.js';
import { recOrderId, recPrice, recQty, recSeq, recSide, recSymbol, recType, type FeedRing, type FeedRingReader } from './ring.js';

interface Order { side: number; price: number; leaves: number }
interface L3Level { qty: number; count: number }

class SymbolBook {
  readonly orders = new Map<number, Order>();
  readonly l3: [Map<number, L3Level>, Map<number, L3Level>] = [new Map(), new Map()];
  readonly l2: [Map<number, number>, Map<number, number>] = [new Map(), new Map()];
  stale = false;
  /** Order-level messages seen since the last reset (an L2-only feed, e.g. from a server's market data, has none). */
  orderLevel = false;

  clear(): void {
    this.orderLevel = false;
    this.orders.clear();
    this.l3[0].clear(); this.l3[1].clear(); this.l2[0].clear(); this.l2[1].clear();
  }

  l3add(side: number, price: number, qty: number, count: number): void {
    const m = this.l3[side]!;
    const l = m.get(price);
    if (l) {
      l.qty += qty; l.count += count;
      if (l.count <= 0 || l.qty <= 0) m.delete(price);
    } else if (qty > 0) m.set(price, { qty, count });
  }
}

export interface BookBuilderStats {
  records: number;
  lastSeq: number;
  gapRecords: number;
  lostMessages: number;
  /** Jumps in seq without a GAP record (ring overruns). */
  seqJumps: number;
  resets: number;
  staleSymbols: number;
  /** D messages that disagreed with the L3 level they name, and A/X/E naming an unknown order. */
  inconsistent: number;
  unknownOrders: number;
}

export class FeedBookBuilder {
  readonly reader: FeedRingReader;
  private readonly books: SymbolBook[] = [];
  private lastSeq = 0;
  private first = true;
  private overruns = 0;
  private readonly st: BookBuilderStats = {
    records: 0, lastSeq: 0, gapRecords: 0, lostMessages: 0, seqJumps: 0, resets: 0, staleSymbols: 0, inconsistent: 0, unknownOrders: 0,
  };

  /** Opens a reader on `ring` (at its live edge) for symbols 0..symbols−1. */
  constructor(readonly ring: FeedRing, readonly symbols: number) {
    for (let s = 0; s < symbols; s++) this.books.push(new SymbolBook());
    this.reader = ring.openReader();
    this.overruns = ring.overruns;
  }

  /** Applies up to `max` available records; returns how many. */
  poll(max = 1 << 30): number {
    const r = this.reader;
    const dv = this.ring.dv;
    const n = Math.min(r.available(), max);
    for (let k = 0; k < n; k++) this.apply(dv, r.at(k));
    r.consume(n);
    return n;
  }

  private staleAll(): void { for (const b of this.books) { b.stale = true; b.clear(); } }

  private apply(dv: DataView, o: number): void {
    const st = this.st;
    st.records++;
    const type = recType(dv, o);
    const seq = recSeq(dv, o);
    if (type === MSG_GAP) {
      st.gapRecords++;
      st.lostMessages += recQty(dv, o);
      this.staleAll();
      this.lastSeq = seq + recQty(dv, o) - 1;
      this.first = false;
      return;
    }
    if (this.first) {
      this.first = false;
      if (seq > 1) this.staleAll();
    } else if (seq !== this.lastSeq + 1) {
      // a jump: a ring overrun (the writer dropped messages) or messages of unknown type (skipped by the receiver)
      const ov = this.ring.overruns;
      if (ov !== this.overruns) { this.overruns = ov; st.seqJumps++; this.staleAll(); }
    }
    this.lastSeq = seq;
    const sym = recSymbol(dv, o);
    const b = this.books[sym];
    if (!b) return;
    if (type === MSG_SYSTEM) {
      if (recQty(dv, o) === SYS_RESET) { b.clear(); b.stale = false; st.resets++; }
      return;
    }
    if (b.stale) return;
    switch (type) {
      case MSG_ADD: {
        const id = recOrderId(dv, o);
        const side = recSide(dv, o);
        const price = recPrice(dv, o);
        const qty = recQty(dv, o);
        b.orderLevel = true;
        const old = b.orders.get(id);
        if (old) { st.inconsistent++; b.l3add(old.side, old.price, -old.leaves, -1); }
        b.orders.set(id, { side, price, leaves: qty });
        b.l3add(side, price, qty, 1);
        break;
      }
      case MSG_CANCEL:
      case MSG_EXECUTE: {
        const id = recOrderId(dv, o);
        const qty = recQty(dv, o);
        const ord = b.orders.get(id);
        if (!ord) { st.unknownOrders++; break; }
        const q = Math.min(qty, ord.leaves);
        ord.leaves -= q;
        if (ord.leaves === 0) { b.orders.delete(id); b.l3add(ord.side, ord.price, -q, -1); } else b.l3add(ord.side, ord.price, -q, 0);
        break;
      }
      case MSG_BOOK_DELTA: {
        const side = recSide(dv, o);
        const price = recPrice(dv, o);
        const qty = recQty(dv, o);
        if (qty === 0) b.l2[side]!.delete(price); else b.l2[side]!.set(price, qty);
        if (b.orderLevel && (b.l3[side]!.get(price)?.qty ?? 0) !== qty) st.inconsistent++;
        break;
      }
      default: break; // P trades, unknown
    }
  }

  /** Whether `symbol`'s book is stale (lost messages, no reset since). */
  isStale(symbol: number): boolean { return this.books[symbol]!.stale; }

  /** The best `n` levels of a side as [price, qty, count] (L3-derived), best first (allocates). */
  depth(symbol: number, side: number, n = 10): [number, number, number][] {
    const m = this.books[symbol]!.l3[side]!;
    const out: [number, number, number][] = [];
    for (const [p, l] of m) out.push([p, l.qty, l.count]);
    out.sort((a, b) => (side === 0 ? b[0] - a[0] : a[0] - b[0]));
    return out.slice(0, n);
  }

  /** The level totals of a side from D messages, best first (allocates). */
  deltaDepth(symbol: number, side: number, n = 10): [number, number][] {
    const m = this.books[symbol]!.l2[side]!;
    const out = [...m.entries()];
    out.sort((a, b) => (side === 0 ? b[0] - a[0] : a[0] - b[0]));
    return out.slice(0, n);
  }

  /** Resting orders of a symbol as [id, side, price, leaves], by id (allocates). */
  orders(symbol: number): [number, number, number, number][] {
    const out: [number, number, number, number][] = [];
    for (const [id, o] of this.books[symbol]!.orders) out.push([id, o.side, o.price, o.leaves]);
    return out.sort((a, b) => a[0] - b[0]);
  }

  stats(): BookBuilderStats {
    this.st.lastSeq = this.lastSeq;
    this.st.staleSymbols = this.books.reduce((a, b) => a + (b.stale ? 1 : 0), 0);
    return { ...this.st };
  }

  close(): void { this.reader.close(); }
}
