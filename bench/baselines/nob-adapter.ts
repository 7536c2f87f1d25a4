/**
 * NobAdapter: drives the npm package `nodejs-order-book` (v10) with a stream of CMD records, so
 * benchmarks can compare our engines with a popular JS peer on the same workload.
 *
 * Owns: one `OrderBook` per symbol (created on first use) and the translation of each 32-byte CMD
 * record (src/abi/records.ts) into the library's calls:
 * - new limit GTC/IOC/FOK → `limit({ id, side, size, price, timeInForce })`; post-only → GTC with
 *   `postOnly: true`; new market → `market({ side, size })` (tif ignored, as in DESIGN);
 * - cancel → `cancel(id)`; modify → `modify(id, { price, size })`;
 * - self-trade prevention set with `setStp(symbol, mode)`: 1 → EXPIRE_MAKER, 2 → EXPIRE_TAKER,
 *   3 → EXPIRE_BOTH, passed with `accountId` on every new order of that symbol.
 *
 * Layout: `books[symbol]` (OrderBook | undefined); ids and accounts become decimal strings.
 * Invariants: `run` never throws for bad input or library errors; each is counted in `errors`.
 * Complexity: per the library (red-black tree of levels, a queue per level, a hash of orders).
 * Allocation: the library allocates per call (order objects, result objects, arrays); the adapter
 * adds one id string (and one account string when STP is on) per command.
 *
 * Known limitations (what cannot be mapped exactly onto DESIGN's semantics):
 * - No event stream: the library returns result objects, not A/R/T/X/M events, so the adapter
 *   reports only how many operations it performed and how many failed. It is a speed peer, not
 *   an oracle.
 * - No capacity limit; no `would_cross` separate from its post-only error; validation order and
 *   reasons differ (it checks duplicate id before quantity and price).
 * - Modify always cancels and re-enters the order (no reduce-in-place keeping priority), and it
 *   drops the order's account and STP mode (library behaviour).
 * - FOK feasibility ignores self-trade prevention; an STP-expired taker is reported as an error.
 * - Order ids are per book (i.e. per symbol), as in DESIGN; ids and prices are JS numbers, so
 *   they must be below 2^53.
 */
import { OrderBook, SelfTradePreventionMode, Side } from 'nodejs-order-book';
import type { LimitOrderOptions } from 'nodejs-order-book';

type Tif = NonNullable<LimitOrderOptions['timeInForce']>;
const TIFS: readonly Tif[] = ['GTC', 'IOC', 'FOK', 'GTC'] as unknown as Tif[];
const STP_MODES: readonly SelfTradePreventionMode[] = [
  SelfTradePreventionMode.NONE,
  SelfTradePreventionMode.EXPIRE_MAKER,
  SelfTradePreventionMode.EXPIRE_TAKER,
  SelfTradePreventionMode.EXPIRE_BOTH,
];
const TWO32 = 4294967296;

export class NobAdapter {
  /** Commands the library rejected or failed on, plus commands the adapter could not map. */
  errors = 0;
  /** Of `errors`: exceptions thrown by the library (caught). */
  thrown = 0;
  private readonly nSym: number;
  private readonly books: (OrderBook | undefined)[];
  private readonly stp: Uint8Array;

  constructor(opts: { symbols: number }) {
    this.nSym = opts.symbols >>> 0;
    this.books = new Array<OrderBook | undefined>(this.nSym).fill(undefined);
    this.stp = new Uint8Array(this.nSym);
  }

  setStp(symbol: number, mode: number): void {
    if (!(symbol >= 0 && symbol < this.nSym) || !(mode >= 0 && mode <= 3)) throw new RangeError(`NobAdapter.setStp(${symbol}, ${mode})`);
    this.stp[symbol] = mode;
  }

  /** Runs `count` CMD records from `cmds` at `byteOffset`; returns the operations performed. */
  run(cmds: Uint8Array, byteOffset: number, count: number): number {
    const dv = new DataView(cmds.buffer, cmds.byteOffset + byteOffset, count * 32);
    let ops = 0;
    for (let c = 0; c < count; c++) {
      const b = c * 32;
      const op = dv.getUint8(b);
      const side = dv.getUint8(b + 1);
      const type = dv.getUint8(b + 2);
      const tif = dv.getUint8(b + 3);
      const sym = dv.getUint32(b + 4, true);
      const id = String(dv.getUint32(b + 12, true) * TWO32 + dv.getUint32(b + 8, true));
      const price = dv.getInt32(b + 20, true) * TWO32 + dv.getUint32(b + 16, true);
      const qty = dv.getUint32(b + 24, true);
      if (sym >= this.nSym || op < 1 || op > 3 || (op === 1 && (side > 1 || type > 1 || tif > 3))) {
        this.errors++;
        continue;
      }
      let ob = this.books[sym];
      if (ob === undefined) {
        ob = new OrderBook();
        this.books[sym] = ob;
      }
      ops++;
      try {
        if (op === 1) {
          const s = side === 0 ? Side.BUY : Side.SELL;
          const stp = this.stp[sym]!;
          const acct = stp !== 0 ? { accountId: String(dv.getUint32(b + 28, true)), stpMode: STP_MODES[stp]! } : undefined;
          const r = type === 1
            ? ob.market({ side: s, size: qty, ...acct })
            : ob.limit({ id, side: s, size: qty, price, timeInForce: TIFS[tif]!, postOnly: tif === 3, ...acct });
          if (r.err !== null) this.errors++;
        } else if (op === 2) {
          if (ob.cancel(id) === undefined) this.errors++;
        } else {
          if (ob.modify(id, { price, size: qty }).err !== null) this.errors++;
        }
      } catch {
        this.errors++;
        this.thrown++;
      }
    }
    return ops;
  }
}
