/**
 * Reference matching engine: the plain, slow, obviously-correct oracle of the differential tests.
 *
 * Owns: the executable form of DESIGN "Engine semantics" plus the project's decisions on top of it
 * (validation order, self-trade prevention, price bands, capacity). It turns `Command`s into
 * DESIGN's CSV event lines and reports the final book in book.csv form. `src/` never imports it.
 *
 * Layout: one `RefBook` per symbol `0..symbols-1`. A book has two arrays of levels, `bids` best
 * (highest) first and `asks` best (lowest) first; a level holds its orders oldest first. An order
 * is keyed by its id alone: ids are unique across the engine (DESIGN "Engine semantics"). Every
 * lookup, insert and removal is a linear scan (a lookup scans every book).
 *
 * Decisions beyond DESIGN (all exact, mirrored by the real engine):
 * - Op checked first (`bad_op`). New: unknown_symbol, bad_side, bad_type, bad_tif (limit only), bad_qty,
 *   bad_price (limit price ≤ 0, or outside the symbol's band), duplicate_id (same id resting in
 *   any symbol), would_cross (post-only limit only, STP ignored), capacity (GTC or post-only
 *   limit when `resting === capacity`, before matching).
 * - Market orders: price never checked, tif validated but ignored (a market FOK is a plain market).
 * - Self-trade prevention per symbol by account, applied when the order at the head of matching
 *   has the taker's account: 1 cancel resting (`X,maker,leaves`, continue), 2 cancel incoming
 *   (`X,taker,remaining`, stop, never rests), 3 both (maker X then taker X, stop).
 * - FOK feasibility walks crossing orders in matching order summing other accounts' leaves; a
 *   same-account order is skipped under STP 1 and ends the walk under STP 2/3.
 * - Cancel / modify: unknown_order when the id rests nowhere, or rests in another symbol than the
 *   command's (also for an unknown symbol).
 * - Modify: unknown_order, bad_qty, bad_price (≤ 0 or outside band);
 *   same price and smaller qty → reduced in place; otherwise taken out and re-entered at the back
 *   as a limit GTC of the same side/account (may trade as taker, STP applies, no capacity check).
 *   `original` becomes `filled + new qty`.
 *
 * - Pre-trade risk (optional, `enableRisk`; docs/risk.md): after duplicate_id and before would_cross:
 *   kill_switch, halted, qty_limit, min_notional, max_notional, price_collar (limits: around
 *   the last trade, else the mid, else the best opposite price for an order that would cross it;
 *   market orders: the same band around the same reference, with the best opposite price as the
 *   reference of last resort — refused when the best opposite price is outside it, else they
 *   trade only inside it and the remainder is cancelled),
 *   max_open_orders (orders that can rest), max_position (projected); then `capacity` also when
 *   a new (account, symbol) would not fit the risk tables. Modify: the same checks on the new
 *   price/qty after bad_price (collar only when the price changes; no open-order count; position
 *   only for the increase). ADMIN (op 4): action in `type`, value in `qty`. Open counts and open
 *   quantities are recomputed by scanning the books every time (never tracked incrementally).
 *
 * Invariants (checkInvariants): levels non-empty and homogeneous in price/side/symbol; bids
 * strictly descending, asks strictly ascending; best bid < best ask; every leaves > 0; no id twice
 * in the engine (whatever the symbols); filled + leaves = original; `resting` equals the number of orders and never
 * exceeds the capacity.
 *
 * Complexity: O(total orders) per command and for the book dumps.
 * Allocation: allocates freely (strings, arrays, splices); never use it on a hot path.
 * Known limitations: slow by design; no trade ids, timestamps or event objects (CSV lines only).
 */
import type { Command, RestingOrder } from '../../src/domain/types.js';
import { bookLine } from '../../src/domain/types.js';

export interface RefOptions {
  symbols: number;
  /** Max resting orders in total over all symbols; default Infinity. */
  capacity?: number;
}

interface RefOrder {
  symbol: number;
  side: number;
  price: bigint;
  id: bigint;
  leaves: number;
  account: number;
  filled: bigint;
  original: bigint;
}

interface RefLevel {
  price: bigint;
  orders: RefOrder[];
}

interface RefBook {
  bids: RefLevel[];
  asks: RefLevel[];
  stp: number;
  band: { lo: bigint; hi: bigint } | null;
}

/** The incoming side of a match: a new order or a modified one re-entering. */
interface Taker {
  id: bigint;
  side: number;
  account: number;
  /** Limit price, or null for a market order (crosses any price inside `band`). */
  limit: bigint | null;
  /** Market-order protection (risk on): a market taker trades only at prices in [lo, hi]. */
  band?: { lo: bigint; hi: bigint } | null;
  remaining: number;
  symbol: number;
}

const BUY = 0;
const SELL = 1;

export interface RefSymbolRisk {
  halted: boolean; minQty: number; maxQty: number; collarBps: number;
  minNotional: bigint; maxNotional: bigint; maxPosition: bigint; lastPrice: bigint;
}
export interface RefAccountRisk { maxOpenOrders: number; killed: boolean; maxPosition: bigint }

interface RefRisk {
  maxAccounts: number;
  maxPositions: number;
  defaultMaxOpen: number;
  killAll: boolean;
  symbols: RefSymbolRisk[];
  /** Accounts and positions in creation order (Map keeps insertion order). */
  accounts: Map<number, RefAccountRisk>;
  positions: Map<string, { account: number; symbol: number; position: bigint }>;
}

export class RefEngine {
  private readonly books: RefBook[] = [];
  private readonly capacity: number;
  private count = 0;
  private risk: RefRisk | null = null;
  /** The band riskChecks computed for the market order it last passed (null: unbounded). */
  private marketBand: { lo: bigint; hi: bigint } | null = null;

  enableRisk(maxAccounts: number, maxPositions: number, defaultMaxOpen: number): void {
    this.risk = {
      maxAccounts, maxPositions, defaultMaxOpen, killAll: false, accounts: new Map(), positions: new Map(),
      symbols: this.books.map(() => ({ halted: false, minQty: 0, maxQty: 0, collarBps: 0, minNotional: 0n, maxNotional: 0n, maxPosition: 0n, lastPrice: 0n })),
    };
  }

  setSymbolRisk(symbol: number, r: Partial<RefSymbolRisk>): void {
    Object.assign(this.riskOrThrow().symbols[symbol]!, r);
  }

  /** Configuration of an account (creates its entry like the engine does). */
  setAccountRisk(account: number, r: Partial<RefAccountRisk>): void {
    const a = this.accGet(account);
    if (!a) throw new RangeError('account table full');
    Object.assign(a, r);
  }

  setKillAll(on: boolean): void { this.riskOrThrow().killAll = on; }

  /** Positions in creation order, with open quantities counted from the books. */
  positions(): { account: number; symbol: number; position: bigint; openBuy: bigint; openSell: bigint }[] {
    return [...this.riskOrThrow().positions.values()].map((p) => ({
      ...p, openBuy: this.openQty(p.account, p.symbol, BUY), openSell: this.openQty(p.account, p.symbol, SELL),
    }));
  }

  /** Accounts in creation order, with open-order counts counted from the books. */
  accounts(): { account: number; openOrders: number; maxOpenOrders: number; killed: boolean; maxPosition: bigint }[] {
    return [...this.riskOrThrow().accounts.entries()].map(([account, a]) => ({ account, openOrders: this.openOrders(account), ...a }));
  }

  private riskOrThrow(): RefRisk {
    if (!this.risk) throw new RangeError('risk not enabled');
    return this.risk;
  }

  private accGet(account: number): RefAccountRisk | undefined {
    const r = this.riskOrThrow();
    let a = r.accounts.get(account);
    if (!a) {
      if (r.accounts.size >= r.maxAccounts) return undefined;
      a = { maxOpenOrders: 0, killed: false, maxPosition: 0n };
      r.accounts.set(account, a);
    }
    return a;
  }

  /** The position entry, created (with the account) like the engine: false when a table is full. */
  private posGet(account: number, symbol: number): boolean {
    const r = this.riskOrThrow();
    const key = `${account}:${symbol}`;
    if (r.positions.has(key)) return true;
    if (r.positions.size >= r.maxPositions) return false;
    if (!this.accGet(account)) return false;
    r.positions.set(key, { account, symbol, position: 0n });
    return true;
  }

  private openQty(account: number, symbol: number, side: number): bigint {
    const b = this.books[symbol]!;
    let q = 0n;
    for (const l of side === BUY ? b.bids : b.asks) for (const o of l.orders) if (o.account === account) q += BigInt(o.leaves);
    return q;
  }

  private openOrders(account: number): number {
    let n = 0;
    for (const b of this.books) for (const levels of [b.bids, b.asks]) for (const l of levels) for (const o of l.orders) if (o.account === account) n++;
    return n;
  }

  /** The symbol's risk settings and the collar's reference (lastPrice: the last trade or the configured reference price). */
  symbolRisk(symbol: number): RefSymbolRisk {
    return { ...this.riskOrThrow().symbols[symbol]! };
  }

  /**
   * Shared checks of new and modify; `add` = lots added on `side` for the position check.
   * `collar`: 'limit' checks `price`; 'market' (price = the best opposite price, 0n if none)
   * computes the market order's band into `marketBand` and refuses it when that price is outside.
   */
  private riskChecks(symbol: number, side: number, account: number, price: bigint, qty: number, collar: 'limit' | 'market' | false, add: number, openCheck: boolean): string | null {
    const r = this.risk!;
    const sr = r.symbols[symbol]!;
    const acct = r.accounts.get(account);
    if (r.killAll || acct?.killed) return 'kill_switch';
    if (sr.halted) return 'halted';
    if (qty < sr.minQty || (sr.maxQty !== 0 && qty > sr.maxQty)) return 'qty_limit';
    if (price > 0n) {
      const n = price * BigInt(qty);
      if (sr.minNotional !== 0n && n < sr.minNotional) return 'min_notional';
      if (sr.maxNotional !== 0n && n > sr.maxNotional) return 'max_notional';
    }
    this.marketBand = null;
    if (collar && sr.collarBps !== 0) {
      const b = this.books[symbol]!;
      const bid = b.bids[0]?.price;
      const ask = b.asks[0]?.price;
      // last trade (or the configured reference price); else the mid; else, for an order that
      // would trade on arrival (a market order always would), the best opposite price; else none
      const opp = side === BUY ? ask : bid;
      const ref = sr.lastPrice > 0n ? sr.lastPrice
        : bid !== undefined && ask !== undefined ? bid + (ask - bid) / 2n
          : opp !== undefined && (collar === 'market' || crosses(side, price, opp)) ? opp : 0n;
      // a market order with nothing on the opposite side trades nothing: no band to check
      if (ref > 0n && (collar === 'limit' || opp !== undefined)) {
        const d = (ref * BigInt(sr.collarBps)) / 10000n;
        const lo = ref - d < 0n ? 0n : ref - d;
        const hi = ref + d;
        // a market order: `price` is the best opposite price, its first possible fill
        if (price < lo || price > hi) return 'price_collar';
        if (collar === 'market') this.marketBand = { lo, hi };
      }
    }
    if (openCheck) {
      const lim = acct && acct.maxOpenOrders !== 0 ? acct.maxOpenOrders : r.defaultMaxOpen;
      if (lim !== 0 && this.openOrders(account) >= lim) return 'max_open_orders';
    }
    const plim = acct && acct.maxPosition !== 0n ? acct.maxPosition : sr.maxPosition;
    if (plim !== 0n && add > 0) {
      const pos = r.positions.get(`${account}:${symbol}`)?.position ?? 0n;
      const open = this.openQty(account, symbol, side) + BigInt(add);
      if ((side === BUY ? pos + open : open - pos) > plim) return 'max_position';
    }
    return null;
  }

  private onAdmin(cmd: Command, out: string[]): void {
    const r = this.risk!;
    const reject = (reason: string): void => { out.push(`R,${cmd.id},${reason}`); };
    if (cmd.type < 1 || cmd.type > 3) return reject('bad_type');
    if (cmd.type === 1 && this.book(cmd.symbol) === undefined) return reject('unknown_symbol');
    if (cmd.qty > 1) return reject('bad_qty');
    if (cmd.type === 1) r.symbols[cmd.symbol]!.halted = cmd.qty === 1;
    else if (cmd.type === 2) {
      const a = this.accGet(cmd.account);
      if (!a) return reject('capacity');
      a.killed = cmd.qty === 1;
    } else r.killAll = cmd.qty === 1;
    out.push(`K,${cmd.id},${cmd.qty}`);
  }

  private fillRisk(symbol: number, account: number, side: number, q: number): void {
    const p = this.risk!.positions.get(`${account}:${symbol}`);
    if (!p) throw new Error(`ref-engine bug: no position entry for ${account}:${symbol}`);
    p.position += side === BUY ? BigInt(q) : -BigInt(q);
  }

  constructor(opts: RefOptions) {
    if (!Number.isInteger(opts.symbols) || opts.symbols < 0) throw new RangeError(`bad symbols: ${opts.symbols}`);
    this.capacity = opts.capacity ?? Infinity;
    for (let s = 0; s < opts.symbols; s++) this.books.push({ bids: [], asks: [], stp: 0, band: null });
  }

  /** Resting orders in total over all symbols. */
  get resting(): number {
    return this.count;
  }

  setStp(symbol: number, mode: number): void {
    if (mode !== 0 && mode !== 1 && mode !== 2 && mode !== 3) throw new RangeError(`bad STP mode: ${mode}`);
    this.bookOrThrow(symbol).stp = mode;
  }

  setBand(symbol: number, lo: bigint, hi: bigint): void {
    if (lo > hi) throw new RangeError(`bad band: ${lo} > ${hi}`);
    this.bookOrThrow(symbol).band = { lo, hi };
  }

  clearBand(symbol: number): void {
    this.bookOrThrow(symbol).band = null;
  }

  applyAll(cmds: Command[]): string[] {
    const out: string[] = [];
    for (const c of cmds) out.push(...this.apply(c));
    return out;
  }

  apply(cmd: Command): string[] {
    const out: string[] = [];
    if (cmd.op === 1) this.onNew(cmd, out);
    else if (cmd.op === 2) this.onCancel(cmd, out);
    else if (cmd.op === 3) this.onModify(cmd, out);
    else if (cmd.op === 4 && this.risk) this.onAdmin(cmd, out);
    else out.push(`R,${cmd.id},bad_op`);
    return out;
  }

  bookLines(): string[] {
    return this.orders().map((o) => bookLine(o));
  }

  orders(): RestingOrder[] {
    const res: RestingOrder[] = [];
    this.books.forEach((book, symbol) => {
      for (const levels of [book.bids, book.asks]) {
        for (const lvl of levels) {
          for (const o of lvl.orders) {
            res.push({ symbol, side: o.side, price: o.price, id: o.id, leaves: o.leaves, account: o.account, filled: o.filled });
          }
        }
      }
    });
    return res;
  }

  depth(symbol: number, side: number, n: number): { price: bigint; qty: bigint; count: number }[] {
    const book = this.book(symbol);
    if (book === undefined || (side !== BUY && side !== SELL)) return [];
    const levels = side === BUY ? book.bids : book.asks;
    return levels.slice(0, Math.max(0, n)).map((l) => ({
      price: l.price,
      qty: l.orders.reduce((s, o) => s + BigInt(o.leaves), 0n),
      count: l.orders.length,
    }));
  }

  checkInvariants(): void {
    let total = 0;
    const ids = new Set<bigint>();
    this.books.forEach((book, symbol) => {
      for (const side of [BUY, SELL]) {
        const levels = side === BUY ? book.bids : book.asks;
        const name = side === BUY ? 'bids' : 'asks';
        for (let i = 0; i < levels.length; i++) {
          const lvl = levels[i]!;
          if (lvl.orders.length === 0) throw new Error(`invariant: empty level ${lvl.price} in ${name} of symbol ${symbol}`);
          if (i > 0) {
            const prev = levels[i - 1]!.price;
            if (side === BUY ? !(prev > lvl.price) : !(prev < lvl.price)) {
              throw new Error(`invariant: ${name} of symbol ${symbol} not strictly ${side === BUY ? 'descending' : 'ascending'} (${prev} then ${lvl.price})`);
            }
          }
          for (const o of lvl.orders) {
            total++;
            if (o.price !== lvl.price) throw new Error(`invariant: order ${o.id} price ${o.price} in level ${lvl.price}`);
            if (o.side !== side) throw new Error(`invariant: order ${o.id} side ${o.side} in ${name}`);
            if (o.symbol !== symbol) throw new Error(`invariant: order ${o.id} symbol ${o.symbol} in book ${symbol}`);
            if (!(o.leaves > 0)) throw new Error(`invariant: order ${o.id} of symbol ${symbol} has leaves ${o.leaves} <= 0`);
            if (ids.has(o.id)) throw new Error(`invariant: id ${o.id} rests twice (second time in symbol ${symbol})`);
            ids.add(o.id);
            if (o.filled + BigInt(o.leaves) !== o.original) {
              throw new Error(`invariant: order ${o.id}: filled ${o.filled} + leaves ${o.leaves} != original ${o.original}`);
            }
          }
        }
      }
      const bestBid = book.bids[0];
      const bestAsk = book.asks[0];
      if (bestBid !== undefined && bestAsk !== undefined && !(bestBid.price < bestAsk.price)) {
        throw new Error(`invariant: symbol ${symbol} crossed (best bid ${bestBid.price} >= best ask ${bestAsk.price})`);
      }
    });
    if (total !== this.count) throw new Error(`invariant: resting ${this.count} != orders counted ${total}`);
    if (this.count > this.capacity) throw new Error(`invariant: resting ${this.count} > capacity ${this.capacity}`);
  }

  // ---- commands ---------------------------------------------------------------------------

  private onNew(cmd: Command, out: string[]): void {
    const reject = (reason: string): void => {
      out.push(`R,${cmd.id},${reason}`);
    };
    const book = this.book(cmd.symbol);
    if (book === undefined) return reject('unknown_symbol');
    if (cmd.side !== BUY && cmd.side !== SELL) return reject('bad_side');
    if (cmd.type !== 0 && cmd.type !== 1) return reject('bad_type');
    // market orders ignore time in force, so any value is accepted for them
    if (cmd.type === 0 && cmd.tif !== 0 && cmd.tif !== 1 && cmd.tif !== 2 && cmd.tif !== 3) return reject('bad_tif');
    if (!(cmd.qty > 0)) return reject('bad_qty');
    const isLimit = cmd.type === 0;
    if (isLimit) {
      if (cmd.price <= 0n) return reject('bad_price');
      if (book.band !== null && (cmd.price < book.band.lo || cmd.price > book.band.hi)) return reject('bad_price');
    }
    if (this.findAny(cmd.id) !== undefined) return reject('duplicate_id'); // resting in any symbol
    const limit = isLimit ? cmd.price : null;
    const rests = isLimit && (cmd.tif === 0 || cmd.tif === 3);
    if (this.risk) {
      const px = isLimit ? cmd.price : this.opposite(book, cmd.side)[0]?.price ?? 0n;
      const why = this.riskChecks(cmd.symbol, cmd.side, cmd.account, px, cmd.qty, isLimit ? 'limit' : 'market', cmd.qty, rests);
      if (why) return reject(why);
    }
    if (isLimit && cmd.tif === 3) {
      const best = this.opposite(book, cmd.side)[0];
      if (best !== undefined && crosses(cmd.side, limit, best.price)) return reject('would_cross');
    }
    if (rests && this.count >= this.capacity) return reject('capacity');
    if (this.risk && !this.posGet(cmd.account, cmd.symbol)) return reject('capacity');

    out.push(`A,${cmd.id}`);
    const band = this.risk && !isLimit ? this.marketBand : null;
    const taker: Taker = { id: cmd.id, side: cmd.side, account: cmd.account, limit, band, remaining: cmd.qty, symbol: cmd.symbol };

    if (isLimit && cmd.tif === 2) {
      if (this.fokAvailable(book, taker) < BigInt(cmd.qty)) {
        out.push(`X,${cmd.id},${cmd.qty}`);
        return;
      }
    }
    const stopped = this.match(book, taker, out);
    if (stopped || taker.remaining === 0) return;
    if (rests) {
      const qty = BigInt(cmd.qty);
      this.insert(book, {
        symbol: cmd.symbol, side: cmd.side, price: cmd.price, id: cmd.id, leaves: taker.remaining,
        account: cmd.account, filled: qty - BigInt(taker.remaining), original: qty,
      });
    } else {
      out.push(`X,${cmd.id},${taker.remaining}`);
    }
  }

  private onCancel(cmd: Command, out: string[]): void {
    const book = this.book(cmd.symbol);
    const o = this.findAny(cmd.id);
    if (book === undefined || o === undefined || o.symbol !== cmd.symbol) {
      out.push(`R,${cmd.id},unknown_order`);
      return;
    }
    this.remove(book, o);
    out.push(`X,${o.id},${o.leaves}`);
  }

  private onModify(cmd: Command, out: string[]): void {
    const book = this.book(cmd.symbol);
    const o = this.findAny(cmd.id);
    if (book === undefined || o === undefined || o.symbol !== cmd.symbol) {
      out.push(`R,${cmd.id},unknown_order`);
      return;
    }
    if (!(cmd.qty > 0)) {
      out.push(`R,${cmd.id},bad_qty`);
      return;
    }
    if (cmd.price <= 0n || (book.band !== null && (cmd.price < book.band.lo || cmd.price > book.band.hi))) {
      out.push(`R,${cmd.id},bad_price`);
      return;
    }
    if (this.risk) {
      const why = this.riskChecks(cmd.symbol, o.side, o.account, cmd.price, cmd.qty, cmd.price !== o.price ? 'limit' : false, cmd.qty - o.leaves, false);
      if (why) {
        out.push(`R,${cmd.id},${why}`);
        return;
      }
    }
    out.push(`M,${o.id},${cmd.price},${cmd.qty}`);
    if (cmd.price === o.price && cmd.qty < o.leaves) {
      o.leaves = cmd.qty;
      o.original = o.filled + BigInt(cmd.qty);
      return;
    }
    // Loses priority: out of the book, then in again as a limit GTC taker.
    this.remove(book, o);
    o.price = cmd.price;
    o.original = o.filled + BigInt(cmd.qty);
    const taker: Taker = { id: o.id, side: o.side, account: o.account, limit: cmd.price, remaining: cmd.qty, symbol: cmd.symbol };
    const stopped = this.match(book, taker, out);
    o.leaves = taker.remaining;
    o.filled = o.original - BigInt(taker.remaining);
    if (stopped || taker.remaining === 0) return;
    this.insert(book, o);
  }

  // ---- matching ---------------------------------------------------------------------------

  /**
   * Matches `taker` against the opposite side while it crosses, best price first, oldest first,
   * applying STP. Returns true when STP cancelled the taker (its `X` is already written).
   */
  private match(book: RefBook, taker: Taker, out: string[]): boolean {
    const levels = this.opposite(book, taker.side);
    while (taker.remaining > 0) {
      const lvl = levels[0];
      if (lvl === undefined || !crosses(taker.side, taker.limit, lvl.price)) return false;
      // market-order protection: never beyond the band (the remainder is cancelled)
      if (taker.band && (lvl.price < taker.band.lo || lvl.price > taker.band.hi)) return false;
      const maker = lvl.orders[0]!;
      if (maker.account === taker.account && book.stp !== 0) {
        if (book.stp === 1 || book.stp === 3) {
          this.remove(book, maker);
          out.push(`X,${maker.id},${maker.leaves}`);
        }
        if (book.stp === 2 || book.stp === 3) {
          out.push(`X,${taker.id},${taker.remaining}`);
          return true;
        }
        continue;
      }
      const q = Math.min(taker.remaining, maker.leaves);
      out.push(`T,${taker.id},${maker.id},${maker.price},${q}`);
      taker.remaining -= q;
      maker.leaves -= q;
      maker.filled += BigInt(q);
      if (this.risk) {
        this.fillRisk(taker.symbol, taker.account, taker.side, q);
        this.fillRisk(taker.symbol, maker.account, maker.side, q);
        this.risk.symbols[taker.symbol]!.lastPrice = maker.price;
      }
      if (maker.leaves === 0) this.remove(book, maker);
    }
    return false;
  }

  /** Quantity a FOK taker could fill, walking crossing orders in matching order under STP. */
  private fokAvailable(book: RefBook, taker: Taker): bigint {
    let sum = 0n;
    for (const lvl of this.opposite(book, taker.side)) {
      if (!crosses(taker.side, taker.limit, lvl.price)) return sum;
      for (const o of lvl.orders) {
        if (o.account === taker.account && book.stp !== 0) {
          if (book.stp === 1) continue;
          return sum;
        }
        sum += BigInt(o.leaves);
      }
    }
    return sum;
  }

  // ---- book primitives --------------------------------------------------------------------

  private book(symbol: number): RefBook | undefined {
    if (!Number.isInteger(symbol) || symbol < 0) return undefined;
    return this.books[symbol];
  }

  private bookOrThrow(symbol: number): RefBook {
    const b = this.book(symbol);
    if (b === undefined) throw new RangeError(`unknown symbol: ${symbol}`);
    return b;
  }

  private opposite(book: RefBook, side: number): RefLevel[] {
    return side === BUY ? book.asks : book.bids;
  }

  /** The resting order with this id, in whichever symbol it rests (ids are engine-wide). */
  private findAny(id: bigint): RefOrder | undefined {
    for (const book of this.books) {
      for (const levels of [book.bids, book.asks]) {
        for (const lvl of levels) {
          for (const o of lvl.orders) if (o.id === id) return o;
        }
      }
    }
    return undefined;
  }

  /** Appends `o` at the back of its level, creating the level in price order if needed. */
  private insert(book: RefBook, o: RefOrder): void {
    const levels = o.side === BUY ? book.bids : book.asks;
    let i = 0;
    while (i < levels.length) {
      const p = levels[i]!.price;
      if (p === o.price) {
        levels[i]!.orders.push(o);
        this.count++;
        return;
      }
      const better = o.side === BUY ? o.price > p : o.price < p;
      if (better) break;
      i++;
    }
    levels.splice(i, 0, { price: o.price, orders: [o] });
    this.count++;
  }

  private remove(book: RefBook, o: RefOrder): void {
    const levels = o.side === BUY ? book.bids : book.asks;
    const li = levels.findIndex((l) => l.price === o.price);
    const lvl = levels[li];
    const oi = lvl === undefined ? -1 : lvl.orders.indexOf(o);
    if (lvl === undefined || oi < 0) throw new Error(`ref-engine bug: order ${o.id} not in its level`);
    lvl.orders.splice(oi, 1);
    if (lvl.orders.length === 0) levels.splice(li, 1);
    this.count--;
  }
}

/** Whether a taker on `side` with `limit` (null = market) may trade at resting price `price`. */
function crosses(side: number, limit: bigint | null, price: bigint): boolean {
  if (limit === null) return true;
  return side === BUY ? price <= limit : price >= limit;
}
