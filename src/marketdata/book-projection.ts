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
 * Complexity: O(1) per event except sorted snapshots (O(L log L)). Allocation: map entries per
 * resting order and level (gateway side, off the engine thread); the command's pending taker is
 * fields of its symbol's book, not an object per command.
 * Known limitations: prices and quantities must be below 2^53 (they are numbers here).
 */
import type { EventType } from '../domain/types.js';
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
interface Level { qty: number; count: number }

class SymbolBook {
  readonly orders = new Map<number, Order>();
  readonly levels: [Map<number, Level>, Map<number, Level>] = [new Map(), new Map()];
  readonly changed: [Set<number>, Set<number>] = [new Set(), new Set()];
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
    const l = lv.get(price);
    if (l) {
      l.qty += qty;
      l.count += count;
      if (l.count === 0) lv.delete(price);
    } else if (count > 0) {
      lv.set(price, { qty, count });
    }
    this.changed[side]!.add(price);
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

  /** Best `n` levels of a side as [price, qty, count], best first. */
  depth(symbol: number, side: number, n = 10): [number, number, number][] {
    const b = this.book(symbol);
    if (!b) throw new RangeError(`unknown symbol ${symbol}`);
    const prices = [...b.levels[side]!.keys()].sort((x, y) => (side === 0 ? y - x : x - y)).slice(0, n);
    return prices.map((p) => { const l = b.levels[side]!.get(p)!; return [p, l.qty, l.count]; });
  }

  /** Levels changed since the last call, per side: [price, qty] with qty 0 for removed levels. */
  takeChanges(symbol: number): { bids: [number, number][]; asks: [number, number][] } {
    const b = this.book(symbol);
    if (!b) throw new RangeError(`unknown symbol ${symbol}`);
    const out = (side: number): [number, number][] => {
      const ch = [...b.changed[side]!].sort((x, y) => (side === 0 ? y - x : x - y));
      b.changed[side]!.clear();
      return ch.map((p) => [p, b.levels[side]!.get(p)?.qty ?? 0]);
    };
    return { bids: out(0), asks: out(1) };
  }

  /**
   * CRC-32 of the top 10 levels (see the module header for the exact text). `fmtPrice`/`fmtQty`
   * turn ticks and lots into the strings clients see (default: the integers).
   */
  checksum(symbol: number, fmtPrice: (p: number) => string = String, fmtQty: (q: number) => string = String): number {
    const side = (s: number): string => this.depth(symbol, s, 10).map(([p, q]) => `${fmtPrice(p)}:${fmtQty(q)}`).join(',');
    return crc32(Buffer.from(`${side(0)}|${side(1)}`, 'ascii'));
  }
}
