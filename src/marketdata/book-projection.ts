/**
 * L2 book projection built from the engine's event stream (for market data: snapshots, deltas
 * with sequence numbers, checksums), without asking the engine thread.
 *
 * Owns: per symbol, price levels (aggregate qty and order count per side) and the resting
 * orders behind them (id → side, price, leaves), plus the set of levels changed since the last
 * `takeChanges()`.
 * Rules (DESIGN event order): A opens a pending taker; T reduces the maker (removed at 0) and the
 * taker; X removes a resting order, or ends a pending taker; M reduces a resting order in place
 * (same price, smaller qty) or takes it out as a pending taker at its new price; when a command's
 * last event has been applied, a pending taker with leaves left rests at the back of its level.
 * Invariants: after every command, levels equal the engine's L2 depth exactly (tested against
 * Engine.depth on generated streams).
 * Checksum: CRC-32 (IEEE) of the ASCII text of the top 10 levels, bids best first then asks best
 * first, each as `price:qty` (the decimal strings clients receive) joined by `,` with `|`
 * between the sides (docs/protocol.md).
 * Layout: per side a Map price → Level and a ladder (the live levels' prices sorted best first, a
 * Float64Array); a closed level stays in its Map with count 0 until `takeChanges` reports it.
 * Complexity: O(1) per event that keeps its level; opening or closing a level O(levels) (the
 * ladder's shift); `depth(n)` and the checksum O(n); takeChanges O(c log c) for c changed levels.
 * Allocation: map entries per resting order and level (gateway side, off the engine thread); the
 * command's pending taker is fields of its symbol's book, not an object per command; after
 * warm-up nothing per publish: takeChanges answers in reused arrays and pairs, the best levels
 * are read from the ladder (`levelPrice`/`levelQty`), `checksumDecimal` writes its text into a
 * reused byte buffer; `depth` and `checksum` allocate their answers (snapshots, tests).
 * Known limitations: prices and quantities must be below 2^53 (they are numbers here).
 */
import type { EventType } from '../domain/types.js';
import { formatDecimal, type Decimal } from '../domain/instruments.js';
import { crc32 } from '../sys/crc32.js';

export interface BookEvent {
  type: EventType; // K (control) changes no book
  symbol: number;
  id: number;
  maker: number;
  price: number;
  qty: number;
  side: number; // of `id` (taker for T)
  last: boolean;
}

interface Order { side: number; price: number; leaves: number }
/** A price level; `count` 0: gone from the book, kept in `levels` only until `takeChanges` reports it. */
interface Level { price: number; qty: number; count: number; changed: boolean }

/** One side's live level prices, best first (bids descending, asks ascending): a sorted array kept on level open/close. */
class Ladder {
  prices = new Float64Array(64);
  n = 0;
  constructor(private readonly desc: boolean) {}

  /** Index of the first price ranked after `p` (or equal to it when `orEqual`), by binary search. */
  private find(p: number, orEqual: boolean): number {
    let lo = 0;
    let hi = this.n;
    const a = this.prices;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const x = a[mid]!;
      const before = this.desc ? x > p || (!orEqual && x === p) : x < p || (!orEqual && x === p);
      if (before) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  insert(p: number): void {
    if (this.n === this.prices.length) { const b = new Float64Array(this.n * 2); b.set(this.prices); this.prices = b; } // growth only
    const i = this.find(p, false);
    this.prices.copyWithin(i + 1, i, this.n);
    this.prices[i] = p;
    this.n++;
  }

  remove(p: number): void {
    const i = this.find(p, true);
    if (i >= this.n || this.prices[i] !== p) return;
    this.prices.copyWithin(i, i + 1, this.n);
    this.n--;
  }
}

class SymbolBook {
  readonly orders = new Map<number, Order>();
  readonly levels: [Map<number, Level>, Map<number, Level>] = [new Map(), new Map()];
  readonly ladder: [Ladder, Ladder] = [new Ladder(true), new Ladder(false)];
  /** Levels changed since the last takeChanges (each once: `Level.changed`), and how many. */
  readonly changed: [Level[], Level[]] = [[], []];
  readonly nChanged = [0, 0];
  /** The command's taker (A, or an M that moved an order) until its last event: fields, not an object per command. */
  hasPending = false;
  pId = 0;
  pSide = 0;
  pPrice = 0;
  pLeaves = 0;
  pDone = false;

  setPending(id: number, side: number, price: number, leaves: number): void {
    this.hasPending = true; this.pId = id; this.pSide = side; this.pPrice = price; this.pLeaves = leaves; this.pDone = false;
  }

  add(side: number, price: number, qty: number, count: number): void {
    const lv = this.levels[side]!;
    let l = lv.get(price);
    if (l === undefined) { l = { price, qty: 0, count: 0, changed: false }; lv.set(price, l); }
    const live = l.count > 0;
    l.qty += qty;
    l.count += count;
    if (l.count > 0) { if (!live) this.ladder[side]!.insert(price); } else { if (live) this.ladder[side]!.remove(price); l.count = 0; l.qty = 0; }
    if (!l.changed) { l.changed = true; this.changed[side]![this.nChanged[side]!++] = l; }
  }
}

export class BookProjection {
  private readonly books: SymbolBook[];

  constructor(readonly symbols: number) {
    this.books = Array.from({ length: symbols }, () => new SymbolBook());
  }

  private book(s: number): SymbolBook | undefined { return this.books[s]; }

  apply(e: BookEvent): void {
    const b = this.book(e.symbol);
    if (!b) return; // unknown symbol: only R events name one
    switch (e.type) {
      case 'A':
        b.setPending(e.id, e.side, e.price, e.qty);
        break;
      case 'T': {
        const m = b.orders.get(e.maker);
        if (m) {
          m.leaves -= e.qty;
          if (m.leaves === 0) { b.orders.delete(e.maker); b.add(m.side, m.price, -e.qty, -1); } else b.add(m.side, m.price, -e.qty, 0);
        }
        if (b.hasPending && b.pId === e.id) b.pLeaves -= e.qty;
        break;
      }
      case 'X': {
        const o = b.orders.get(e.id);
        if (o) { b.orders.delete(e.id); b.add(o.side, o.price, -o.leaves, -1); } else if (b.hasPending && b.pId === e.id) b.pDone = true;
        break;
      }
      case 'M': {
        const o = b.orders.get(e.id);
        if (!o) break;
        if (e.price === o.price && e.qty < o.leaves) {
          b.add(o.side, o.price, e.qty - o.leaves, 0);
          o.leaves = e.qty;
        } else {
          b.orders.delete(e.id);
          b.add(o.side, o.price, -o.leaves, -1);
          b.setPending(e.id, o.side, e.price, e.qty);
        }
        break;
      }
      default:
        break;
    }
    if (e.last && b.hasPending) {
      b.hasPending = false;
      if (!b.pDone && b.pLeaves > 0) {
        b.orders.set(b.pId, { side: b.pSide, price: b.pPrice, leaves: b.pLeaves });
        b.add(b.pSide, b.pPrice, b.pLeaves, 1);
      }
    }
  }

  /** Best `n` levels of a side as [price, qty, count], best first (allocates the answer). */
  depth(symbol: number, side: number, n = 10): [number, number, number][] {
    const b = this.book(symbol);
    if (!b) throw new RangeError(`unknown symbol ${symbol}`);
    const ld = b.ladder[side]!;
    const lv = b.levels[side]!;
    const k = Math.min(n, ld.n);
    const out: [number, number, number][] = new Array(k);
    for (let i = 0; i < k; i++) { const l = lv.get(ld.prices[i]!)!; out[i] = [l.price, l.qty, l.count]; }
    return out;
  }

  /** Number of live levels on a side (no allocation; with `levelPrice`/`levelQty`). */
  levelCount(symbol: number, side: number): number { return this.books[symbol]!.ladder[side]!.n; }
  /** Price of the i-th best level of a side (0: best; i < levelCount). */
  levelPrice(symbol: number, side: number, i: number): number { return this.books[symbol]!.ladder[side]!.prices[i]!; }
  /** Aggregate qty of the i-th best level of a side (i < levelCount). */
  levelQty(symbol: number, side: number, i: number): number { const b = this.books[symbol]!; return b.levels[side]!.get(b.ladder[side]!.prices[i]!)!.qty; }

  /**
   * Levels changed since the last call, per side, best first: [price, qty] with qty 0 for removed
   * levels. The answer (object, arrays and pairs) is reused: valid until the next call.
   */
  takeChanges(symbol: number): { bids: [number, number][]; asks: [number, number][] } {
    const b = this.book(symbol);
    if (!b) throw new RangeError(`unknown symbol ${symbol}`);
    this.changes.bids = this.takeSide(b, 0);
    this.changes.asks = this.takeSide(b, 1);
    return this.changes;
  }

  private readonly changes: { bids: [number, number][]; asks: [number, number][] } = { bids: [], asks: [] };
  private readonly pairs: [[number, number][], [number, number][]] = [[], []];
  /** Per side, answer arrays by length (an array's length never changes: shrinking one to 0 drops its backing store, and growing it allocates one). */
  private readonly byLen: [[number, number][][], [number, number][][]] = [[], []];
  private sortBuf = new Float64Array(64);

  private takeSide(b: SymbolBook, side: number): [number, number][] {
    const n = b.nChanged[side]!;
    const ch = b.changed[side]!;
    if (this.sortBuf.length < n) this.sortBuf = new Float64Array(Math.max(n, this.sortBuf.length * 2)); // growth only
    const px = this.sortBuf;
    for (let i = 0; i < n; i++) px[i] = ch[i]!.price;
    // ascending; insertion sort for the usual few levels (no allocation), the typed array's sort beyond
    if (n <= 32) {
      for (let i = 1; i < n; i++) { const x = px[i]!; let j = i - 1; while (j >= 0 && px[j]! > x) { px[j + 1] = px[j]!; j--; } px[j + 1] = x; }
    } else px.subarray(0, n).sort();
    const pool = this.pairs[side]!;
    const cache = this.byLen[side]!;
    const out = n < 256 ? (cache[n] ??= new Array<[number, number]>(n)) : new Array<[number, number]>(n);
    const lv = b.levels[side]!;
    for (let k = 0; k < n; k++) {
      const p = px[side === 0 ? n - 1 - k : k]!;
      const l = lv.get(p)!;
      const pair = pool[k] ?? (pool[k] = [0, 0]);
      pair[0] = p;
      pair[1] = l.count > 0 ? l.qty : 0;
      out[k] = pair;
    }
    for (let i = 0; i < n; i++) {
      const l = ch[i]!;
      l.changed = false;
      if (l.count === 0) lv.delete(l.price);
      ch[i] = undefined as unknown as Level; // no reference kept to a level gone from the book
    }
    b.nChanged[side] = 0;
    return out;
  }

  /**
   * CRC-32 of the top 10 levels (see the module header for the exact text). `fmtPrice`/`fmtQty`
   * turn ticks and lots into the strings clients see (default: the integers). Allocates the text;
   * `checksumScaled` computes the same for decimal formats without allocating.
   */
  checksum(symbol: number, fmtPrice: (p: number) => string = String, fmtQty: (q: number) => string = String): number {
    const side = (s: number): string => this.depth(symbol, s, 10).map(([p, q]) => `${fmtPrice(p)}:${fmtQty(q)}`).join(',');
    return crc32(Buffer.from(`${side(0)}|${side(1)}`, 'ascii'));
  }

  private text = new Uint8Array(1024);

  /**
   * The checksum with prices as ticks × `tick` and quantities as lots × `lot` written as
   * formatDecimal writes them (the instrument's tick and lot sizes: the strings clients see), the
   * text built in a reused byte buffer: no allocation. A value beyond 2^53 units takes `checksum`
   * with exact BigInt formatting.
   */
  checksumDecimal(symbol: number, tick: Decimal, lot: Decimal): number {
    const b = this.books[symbol];
    if (!b) throw new RangeError(`unknown symbol ${symbol}`);
    const pu = Number(tick.units);
    const qu = Number(lot.units);
    let pos = 0;
    for (let s = 0; s < 2; s++) {
      if (s === 1) this.text[pos++] = 0x7c; // |
      const ld = b.ladder[s]!;
      const lv = b.levels[s]!;
      const k = Math.min(10, ld.n);
      for (let i = 0; i < k; i++) {
        const p = ld.prices[i]!;
        const pv = p * pu;
        const qv = lv.get(p)!.qty * qu;
        if (!Number.isSafeInteger(pv) || !Number.isSafeInteger(qv) || pv < 0 || qv < 0) {
          return this.checksum(symbol, (x) => formatDecimal({ units: BigInt(x) * tick.units, scale: tick.scale }), (x) => formatDecimal({ units: BigInt(x) * lot.units, scale: lot.scale }));
        }
        if (this.text.length < pos + 128) { const t = new Uint8Array(this.text.length * 2); t.set(this.text); this.text = t; } // growth only
        if (i > 0) this.text[pos++] = 0x2c; // ,
        pos = writeDecimal(this.text, pos, pv, tick.scale);
        this.text[pos++] = 0x3a; // :
        pos = writeDecimal(this.text, pos, qv, lot.scale);
      }
    }
    return crc32(this.text, pos);
  }
}

/** Writes v / 10^scale (v a safe integer ≥ 0) as formatDecimal does (digits, zero-padded to scale + 1, a '.' before the last `scale`); returns the end. */
function writeDecimal(out: Uint8Array, pos: number, v: number, scale: number): number {
  let digits = 0;
  for (let x = v; x >= 1; x = Math.floor(x / 10)) digits++;
  if (digits < scale + 1) digits = scale + 1;
  const len = digits + (scale > 0 ? 1 : 0);
  let x = v;
  for (let i = len - 1, d = 0; i >= 0; i--) {
    if (scale > 0 && d === scale) { out[pos + i] = 0x2e; d++; continue; }
    out[pos + i] = 0x30 + (x % 10);
    x = Math.floor(x / 10);
    d++;
  }
  return pos + len;
}
