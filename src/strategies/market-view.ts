/**
 * The strategy runtime's order books: one L2 book per subscribed symbol, kept from the engine's
 * EVT records (the same rules as src/marketdata/book-projection.ts, without its change sets and
 * checksums), and the reused `BookView` a strategy reads (src/strategies/api.ts).
 *
 * Owns: per symbol, the resting orders (id → side, price, leaves) and the price levels of each
 * side in a sorted array (bids best = highest first, asks best = lowest first).
 * Layout: `RuntimeBook.levels[side]` is an array of `Level {price, qty, count}` kept sorted best
 * first; `byPrice[side]` maps a price to its Level. The BookView reads level i (i < DEPTH) of it.
 * Rules (DESIGN event order): A opens a pending taker; T reduces the maker (removed at 0) and the
 * taker; X removes a resting order or ends a pending taker; M reduces a resting order in place
 * (same price, smaller qty) or takes it out as a pending taker at its new price; after a command's
 * last event a pending taker with leaves left rests at the back of its level.
 * Invariants: after every command the levels equal the engine's L2 depth (tested against
 * Engine.depth on seeded random streams in test/unit/strategy-market-view.test.ts).
 * Complexity: O(1) per event on an existing level; O(L) to open or close a level (array splice,
 * L = levels on that side, small near the touch); a BookView read is O(1).
 * Allocation: Level and order records come from free lists (none in steady state); a new level
 * may grow its side's array (amortised).
 * Known limitations: a book starts empty when the runtime starts (a live worker joins the event
 * ring at its live edge): orders resting before that are seen only through `seed` (the pool seeds
 * every book from its `restingOrders` source, e.g. the read models, where it is given one).
 */
import type { BookView } from './api.js';

/** Levels per side a BookView shows. */
export const DEPTH = 10;

interface Level { price: number; qty: number; count: number }
interface Resting { side: number; price: number; leaves: number }

const levelPool: Level[] = [];
const restPool: Resting[] = [];

function newLevel(price: number): Level {
  const l = levelPool.pop();
  if (l) { l.price = price; l.qty = 0; l.count = 0; return l; }
  return { price, qty: 0, count: 0 };
}

export class RuntimeBook implements BookView {
  readonly symbol: number;
  seq = 0;
  /** Last trade price (0 before the first trade seen). */
  lastTrade = 0;
  readonly orders = new Map<number, Resting>();
  /** [bids best first (descending), asks best first (ascending)]. */
  readonly levels: [Level[], Level[]] = [[], []];
  private readonly byPrice: [Map<number, Level>, Map<number, Level>] = [new Map(), new Map()];
  private hasPending = false;
  private pId = 0;
  private pSide = 0;
  private pPrice = 0;
  private pLeaves = 0;
  private pDone = false;

  constructor(symbol: number) { this.symbol = symbol; }

  // ── BookView ──────────────────────────────────────────────────────────────────────────
  get bidPx(): number { return this.levels[0][0]?.price ?? 0; }
  get bidQty(): number { return this.levels[0][0]?.qty ?? 0; }
  get askPx(): number { return this.levels[1][0]?.price ?? 0; }
  get askQty(): number { return this.levels[1][0]?.qty ?? 0; }
  get bidLevels(): number { return Math.min(DEPTH, this.levels[0].length); }
  get askLevels(): number { return Math.min(DEPTH, this.levels[1].length); }
  bid(i: number): number { return i < DEPTH ? this.levels[0][i]?.price ?? 0 : 0; }
  bidSize(i: number): number { return i < DEPTH ? this.levels[0][i]?.qty ?? 0 : 0; }
  ask(i: number): number { return i < DEPTH ? this.levels[1][i]?.price ?? 0 : 0; }
  askSize(i: number): number { return i < DEPTH ? this.levels[1][i]?.qty ?? 0 : 0; }
  mid(): number {
    const b = this.levels[0][0];
    const a = this.levels[1][0];
    return b && a ? (b.price + a.price) / 2 : NaN;
  }

  // ── maintenance ───────────────────────────────────────────────────────────────────────
  /** Index of `price` in side `side`'s sorted array, or where it would go (binary search). */
  private find(side: number, price: number): number {
    const arr = this.levels[side]!;
    let lo = 0;
    let hi = arr.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const p = arr[mid]!.price;
      if (side === 0 ? p > price : p < price) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  private add(side: number, price: number, qty: number, count: number): void {
    const map = this.byPrice[side]!;
    let l = map.get(price);
    if (!l) {
      if (count <= 0) return;
      l = newLevel(price);
      map.set(price, l);
      this.levels[side]!.splice(this.find(side, price), 0, l);
    }
    l.qty += qty;
    l.count += count;
    if (l.count <= 0) {
      map.delete(price);
      const arr = this.levels[side]!;
      const i = this.find(side, price);
      if (arr[i] === l) arr.splice(i, 1);
      levelPool.push(l);
    }
  }

  private rest(id: number, side: number, price: number, leaves: number): void {
    const r = restPool.pop() ?? { side: 0, price: 0, leaves: 0 };
    r.side = side; r.price = price; r.leaves = leaves;
    this.orders.set(id, r);
    this.add(side, price, leaves, 1);
  }

  private unrest(id: number, r: Resting): void {
    this.orders.delete(id);
    restPool.push(r);
  }

  /** Empties the book (before a seed). */
  reset(): void {
    for (const r of this.orders.values()) restPool.push(r);
    this.orders.clear();
    for (const side of [0, 1]) {
      for (const l of this.levels[side]!) levelPool.push(l);
      this.levels[side]!.length = 0;
      this.byPrice[side]!.clear();
    }
    this.hasPending = false;
  }

  /** An order known to rest (seeding a book that joined late); ignored if the id is already there. */
  seed(id: number, side: number, price: number, leaves: number): void {
    if (leaves > 0 && !this.orders.has(id)) this.rest(id, side, price, leaves);
  }

  /** Applies one EVT record's fields (type ASCII code; `last` = last event of its command). */
  apply(type: number, id: number, maker: number, side: number, price: number, qty: number, last: boolean, seq: number): void {
    this.seq = seq;
    switch (type) {
      case 65: // A
        this.hasPending = true; this.pId = id; this.pSide = side; this.pPrice = price; this.pLeaves = qty; this.pDone = false;
        break;
      case 84: { // T
        this.lastTrade = price;
        const m = this.orders.get(maker);
        if (m) {
          m.leaves -= qty;
          if (m.leaves <= 0) { this.add(m.side, m.price, -qty, -1); this.unrest(maker, m); } else this.add(m.side, m.price, -qty, 0);
        }
        if (this.hasPending && this.pId === id) this.pLeaves -= qty;
        break;
      }
      case 88: { // X
        const o = this.orders.get(id);
        if (o) { this.add(o.side, o.price, -o.leaves, -1); this.unrest(id, o); } else if (this.hasPending && this.pId === id) this.pDone = true;
        break;
      }
      case 77: { // M
        const o = this.orders.get(id);
        if (!o) break;
        if (price === o.price && qty < o.leaves) {
          this.add(o.side, o.price, qty - o.leaves, 0);
          o.leaves = qty;
        } else {
          const s = o.side;
          this.add(o.side, o.price, -o.leaves, -1);
          this.unrest(id, o);
          this.hasPending = true; this.pId = id; this.pSide = s; this.pPrice = price; this.pLeaves = qty; this.pDone = false;
        }
        break;
      }
      default:
        break;
    }
    if (last && this.hasPending) {
      this.hasPending = false;
      if (!this.pDone && this.pLeaves > 0) this.rest(this.pId, this.pSide, this.pPrice, this.pLeaves);
    }
  }

  /** Best `n` levels of a side as [price, qty, count] (tests; allocates). */
  depth(side: number, n = DEPTH): [number, number, number][] {
    return this.levels[side]!.slice(0, n).map((l) => [l.price, l.qty, l.count]);
  }
}
