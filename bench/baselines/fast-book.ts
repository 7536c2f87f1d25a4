/**
 * FastBook: the plain-TypeScript matching engine that the WebAssembly engine must beat.
 *
 * Owns: per-symbol price-time priority books, matching, and the EVT records of one `run` call.
 * It implements DESIGN "Engine semantics" (plus self-trade prevention per symbol) over the same
 * 32-byte CMD records and 64-byte EVT records as the wasm engine (src/abi/records.ts), writing
 * the same field values, so the two can be compared record for record.
 *
 * Layout (array-of-structs in typed arrays, everything allocated once in the constructor):
 * ```
 * ORDER [cap] 64 B, one cache line; f64 views at o·8+k, u32/i32 views at o·16+k
 *   f64 0 id · f64 1 price · w4 leaves u32 · w5 account u32 · w6 symbol u32 · w7 side u32 ·
 *   w8 prev i32 · w9 next i32 (FIFO of its level; next also links the free list) ·
 *   w10 level i32 · w11 hash of the id i32 (for backward-shift deletion) · w12..15 unused
 * LEVEL [2·S + cap] 64 B; nodes 0..2S−1 are the list heads (sentinels) of list = symbol·2+side
 *   f64 0 key (ask: price, bid: −price, so each list is ascending by key, best first) ·
 *   f64 1 price · f64 2 qty (Σ leaves) · w6 head · w7 tail · w8 list · w9 height · w10 prev0 ·
 *   w11 hash of (list,price) · w12..15 unused
 * fwd   [(2·S + cap)·H] i32  skip-list towers: fwd[z·H + row], −1 = end
 * oTab  [pow2 ≥ 2·cap]  i32  open addressing, linear probing: id → order, −1 empty (ids are
 *                            unique across the engine; cancel/modify check the symbol)
 * lTab  [pow2 ≥ 2·cap]  i32  open addressing, linear probing: (list,price) → level, −1 empty
 * ```
 * Each side of a symbol is a skip list of levels (p = 1/4, tower height from a fixed-seed
 * xorshift, so runs are deterministic) whose bottom row is doubly linked (prev0): the best level
 * is `fwd[list·H]` and the next best is one hop away. The level hash makes "rest at an existing
 * price" O(1) without touching the skip list.
 *
 * Invariants: bids strictly descending and asks strictly ascending along each list; best bid <
 * best ask after every command; a level's qty = Σ leaves of its FIFO, which is never empty; each
 * resting order is in oTab once, each level in lTab once; leaves > 0; resting ≤ capacity.
 * `validate()` checks them all (tests only).
 *
 * Complexity: cancel, reduce-in-place, resting at an existing level, taking the best level and
 * each fill are O(1) expected; creating a level or removing a level that is not the best is
 * O(log L) expected (skip-list search, L = levels on that side). FOK availability is O(levels
 * walked), or O(orders walked) when the symbol has STP on. Prices may be anywhere in (0, 2^53).
 *
 * Allocation: none in `run` once the view over a given command buffer is built (rebuilt only
 * when a different ArrayBuffer is passed). `bookLines` and `validate` allocate. Memory is about
 * 150 + 4·H bytes per unit of capacity (H = tower height, 4..16, ≈ log4(capacity) + 1).
 *
 * Known limitations: ids and prices are held as JS numbers, so |id| and |price| must be below
 * 2^53 (ids differing only above bit 53 would collide); quantities are u32 as in the record.
 * The level pool has `capacity` nodes, enough because every level holds at least one order.
 * If the outbox overflows, `run` throws mid-command, leaving that command half applied: size
 * the outbox for the batch (each command writes 1 + fills + STP cancels + 1 events at most).
 */
import { ENUMS } from '../../src/abi/records.js';

const R = ENUMS.Reason;
const EV_A = ENUMS.EvtType.ACCEPTED;
const EV_R = ENUMS.EvtType.REJECTED;
const EV_T = ENUMS.EvtType.TRADE;
const EV_X = ENUMS.EvtType.CANCELLED;
const EV_M = ENUMS.EvtType.MODIFIED;
const FLAG_LAST = ENUMS.EvtFlag.LAST;
const FLAG_STP = ENUMS.EvtFlag.STP;
const STP_CANCEL_RESTING = ENUMS.Stp.CANCEL_RESTING;
const STP_CANCEL_INCOMING = ENUMS.Stp.CANCEL_INCOMING;

const TWO32 = 4294967296;
/** u32 words of one EVT record; byte 0..3 (type, reason, flags, side) form word 0. */
const EVT_WORDS = 16;
/** u32 words of one CMD record. */
const CMD_WORDS = 8;

function mix(a: number, lo: number, hi: number): number {
  let h = Math.imul(lo, 0x9e3779b1) ^ Math.imul((hi + Math.imul(a, 0x27d4eb2f)) | 0, 0x85ebca77);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h;
}

function pow2AtLeast(n: number): number {
  let p = 16;
  while (p < n) p *= 2;
  return p;
}

/** Order record: 64 bytes, one cache line. f64 slots (index o·8+k) and u32/i32 words (o·16+k). */
const enum O {
  STRIDE_F64 = 8, STRIDE_W = 16,
  ID = 0, PRICE = 1, // f64
  LEAVES = 4, ACCT = 5, SYM = 6, SIDE = 7, // u32 words
  PREV = 8, NEXT = 9, LEVEL = 10, HASH = 11, // i32 words
}

/** Level record: 64 bytes. f64 slots (z·8+k) and i32 words (z·16+k); the tower is separate. */
const enum L {
  KEY = 0, PRICE = 1, QTY = 2, // f64
  HEAD = 6, TAIL = 7, LIST = 8, HEIGHT = 9, PREV0 = 10, HASH = 11, // i32 words
}

export interface FastBookOptions {
  /** Symbols 0..symbols-1 exist. */
  symbols: number;
  /** Most resting orders at once, over all symbols. */
  capacity: number;
  /** Outbox size in events (default 1 << 16). */
  outboxEvents?: number;
}

export class FastBook {
  readonly outbox: Uint8Array;
  private readonly ow: Uint32Array;
  private readonly outCap: number;
  private n = 0;
  private tradeSeq = 0;

  private readonly nSym: number;
  private readonly cap: number;
  private readonly stpMode: Uint8Array;
  private nResting = 0;

  // orders: three views over one buffer
  private readonly of: Float64Array;
  private readonly ou: Uint32Array;
  private readonly oi: Int32Array;
  private oFree: number;
  private readonly oTab: Int32Array;
  private readonly oMask: number;

  // levels: two views over one buffer, plus the skip-list towers
  private readonly H: number;
  private readonly lf: Float64Array;
  private readonly li: Int32Array;
  private readonly fwd: Int32Array;
  private readonly listLvl: Uint8Array;
  private lvFree: number;
  private readonly lTab: Int32Array;
  private readonly lMask: number;
  private readonly upd: Int32Array;
  private rng = 0x2545f491;

  // view over the last command buffer
  private cbuf: ArrayBufferLike | null = null;
  private cw: Uint32Array = new Uint32Array(0);

  constructor(opts: FastBookOptions) {
    const S = opts.symbols >>> 0;
    const cap = opts.capacity >>> 0;
    const outCap = (opts.outboxEvents ?? 1 << 16) >>> 0;
    if (S < 1 || cap < 1 || outCap < 1) throw new RangeError('FastBook: symbols, capacity and outboxEvents must be ≥ 1');
    this.nSym = S;
    this.cap = cap;
    this.outCap = outCap;
    this.outbox = new Uint8Array(outCap * EVT_WORDS * 4);
    this.ow = new Uint32Array(this.outbox.buffer);
    this.stpMode = new Uint8Array(S);

    const ob = new ArrayBuffer(cap * O.STRIDE_W * 4);
    this.of = new Float64Array(ob);
    this.ou = new Uint32Array(ob);
    this.oi = new Int32Array(ob);
    for (let i = 0; i < cap; i++) {
      const w = i * O.STRIDE_W;
      this.oi[w + O.PREV] = -1;
      this.oi[w + O.LEVEL] = -1;
      this.oi[w + O.NEXT] = i + 1 < cap ? i + 1 : -1;
    }
    this.oFree = 0;
    const ot = pow2AtLeast(cap * 2);
    this.oTab = new Int32Array(ot).fill(-1);
    this.oMask = ot - 1;

    let H = 1;
    while (H < 16 && 4 ** H < cap) H++;
    H = Math.max(4, Math.min(16, H + 1));
    this.H = H;
    const nl = 2 * S + cap;
    const lb = new ArrayBuffer(nl * 64);
    this.lf = new Float64Array(lb);
    this.li = new Int32Array(lb);
    this.fwd = new Int32Array(nl * H).fill(-1);
    for (let z = 0; z < nl; z++) {
      const w = z * 16;
      this.li[w + L.HEAD] = -1;
      this.li[w + L.TAIL] = -1;
      this.li[w + L.PREV0] = -1;
      if (z < 2 * S) { this.li[w + L.LIST] = z; this.li[w + L.HEIGHT] = H; }
      else this.fwd[z * H] = z + 1 < nl ? z + 1 : -1;
    }
    this.listLvl = new Uint8Array(2 * S);
    this.lvFree = 2 * S;
    const lt = pow2AtLeast(cap * 2);
    this.lTab = new Int32Array(lt).fill(-1);
    this.lMask = lt - 1;
    this.upd = new Int32Array(H);
  }

  /** Self-trade prevention of a symbol: 0 none, 1 cancel resting, 2 cancel incoming, 3 cancel both. */
  setStp(symbol: number, mode: number): void {
    if (!(symbol >= 0 && symbol < this.nSym) || !(mode >= 0 && mode <= 3)) throw new RangeError(`FastBook.setStp(${symbol}, ${mode})`);
    this.stpMode[symbol] = mode;
  }

  get resting(): number {
    return this.nResting;
  }

  /**
   * Runs `count` CMD records from `cmds` at `byteOffset` (8-aligned) and writes their events
   * into `outbox` from event 0. Returns the number of events.
   */
  run(cmds: Uint8Array, byteOffset: number, count: number): number {
    const abs = cmds.byteOffset + byteOffset;
    if ((abs & 7) !== 0) throw new RangeError('FastBook.run: command offset must be 8-aligned');
    if (byteOffset < 0 || count < 0 || byteOffset + count * 32 > cmds.byteLength) throw new RangeError('FastBook.run: commands out of range');
    if (cmds.buffer !== this.cbuf) {
      this.cbuf = cmds.buffer;
      this.cw = new Uint32Array(cmds.buffer, 0, cmds.buffer.byteLength >>> 2);
    }
    const u = this.cw;
    const ow = this.ow;
    this.n = 0;
    let b = abs >>> 2;
    for (let c = 0; c < count; c++, b += CMD_WORDS) {
      const w0 = u[b]!;
      const op = w0 & 255;
      if (op === 1) this.newOrder(u, b, c, w0);
      else if (op === 2) this.cancelOrder(u, b, c);
      else if (op === 3) this.modifyOrder(u, b, c);
      else this.reject(u, b, c, R.BAD_OP);
      const e = (this.n - 1) * EVT_WORDS;
      ow[e] = ow[e]! | FLAG_LAST << 16;
    }
    return this.n;
  }

  // ── events ───────────────────────────────────────────────────────────────────────────────

  /** Index (in u32 words) of the next event record; throws when the outbox is full. */
  private slot(): number {
    const n = this.n;
    if (n >= this.outCap) throw new RangeError(`FastBook: outbox overflow (${this.outCap} events); size it for the batch`);
    this.n = n + 1;
    return n * EVT_WORDS;
  }

  /** A, R, X or M: no maker, no trade id. Prices and ids as lo/hi words. */
  private put(w0: number, sym: number, idLo: number, idHi: number, pLo: number, pHi: number, qty: number,
    leaves: number, cmd: number, acct: number): void {
    const w = this.ow;
    const e = this.slot();
    w[e] = w0; w[e + 1] = sym; w[e + 2] = idLo; w[e + 3] = idHi; w[e + 4] = 0; w[e + 5] = 0;
    w[e + 6] = pLo; w[e + 7] = pHi; w[e + 8] = qty; w[e + 9] = leaves; w[e + 10] = 0; w[e + 11] = cmd;
    w[e + 12] = acct; w[e + 13] = 0; w[e + 14] = 0; w[e + 15] = 0;
  }

  private reject(u: Uint32Array, b: number, cmd: number, reason: number): void {
    this.put(EV_R | (reason << 8) | ((u[b]! >>> 8) & 255) << 24, u[b + 1]!, u[b + 2]!, u[b + 3]!, u[b + 4]!, u[b + 5]!,
      u[b + 6]!, 0, cmd, u[b + 7]!);
  }

  // ── commands ─────────────────────────────────────────────────────────────────────────────

  private newOrder(u: Uint32Array, b: number, cmd: number, w0: number): void {
    const side = (w0 >>> 8) & 255;
    const type = (w0 >>> 16) & 255;
    const tif = w0 >>> 24;
    const sym = u[b + 1]!;
    if (sym >= this.nSym) return this.reject(u, b, cmd, R.UNKNOWN_SYMBOL);
    if (side > 1) return this.reject(u, b, cmd, R.BAD_SIDE);
    if (type > 1) return this.reject(u, b, cmd, R.BAD_TYPE);
    if (tif > 3 && type === 0) return this.reject(u, b, cmd, R.BAD_TIF); // market ignores tif
    const qty = u[b + 6]!;
    if (qty === 0) return this.reject(u, b, cmd, R.BAD_QTY);
    const limit = type === 0;
    const pLo = u[b + 4]!;
    const pHi = u[b + 5]! | 0;
    const price = limit ? pHi * TWO32 + pLo : 0;
    if (limit && price <= 0) return this.reject(u, b, cmd, R.BAD_PRICE);
    const idLo = u[b + 2]!;
    const idHi = u[b + 3]!;
    const id = idHi * TWO32 + idLo;
    const h = mix(0, idLo, idHi);
    if (this.findOrder(id, h) >= 0) return this.reject(u, b, cmd, R.DUPLICATE_ID); // resting in any symbol
    const opp = sym * 2 + (side ^ 1);
    const kb = limit ? (side === 0 ? price : -price) : Infinity;
    if (limit && tif === 3) {
      const best = this.fwd[opp * this.H]!;
      if (best >= 0 && this.lf[best * 8 + L.KEY]! <= kb) return this.reject(u, b, cmd, R.WOULD_CROSS);
    }
    const rests = limit && (tif === 0 || tif === 3);
    if (rests && this.nResting === this.cap) return this.reject(u, b, cmd, R.CAPACITY);
    const acct = u[b + 7]!;
    const sideW = side << 24;
    if (limit) this.put(EV_A | sideW, sym, idLo, idHi, pLo, pHi, qty, qty, cmd, acct);
    else this.put(EV_A | sideW, sym, idLo, idHi, 0, 0, qty, qty, cmd, acct);
    if (limit && tif === 2 && !this.fokFillable(opp, kb, qty, acct, this.stpMode[sym]!)) {
      this.put(EV_X | sideW, sym, idLo, idHi, pLo, pHi, qty, 0, cmd, acct);
      return;
    }
    this.take(sym, side, id, idLo, idHi, price, kb, qty, acct, cmd, rests, h);
  }

  private cancelOrder(u: Uint32Array, b: number, cmd: number): void {
    const sym = u[b + 1]!;
    const idLo = u[b + 2]!;
    const idHi = u[b + 3]!;
    const o = this.findOrderIn(sym, idHi * TWO32 + idLo, mix(0, idLo, idHi));
    if (o < 0) return this.reject(u, b, cmd, R.UNKNOWN_ORDER);
    const ou = this.ou, w = o * O.STRIDE_W;
    const p = this.of[o * O.STRIDE_F64 + O.PRICE]!;
    this.put(EV_X | ou[w + O.SIDE]! << 24, sym, idLo, idHi, p >>> 0, (p / TWO32) >>> 0, ou[w + O.LEAVES]!, 0, cmd, ou[w + O.ACCT]!);
    this.removeOrder(o);
  }

  private modifyOrder(u: Uint32Array, b: number, cmd: number): void {
    const sym = u[b + 1]!;
    const idLo = u[b + 2]!;
    const idHi = u[b + 3]!;
    const id = idHi * TWO32 + idLo;
    const h = mix(0, idLo, idHi);
    const o = this.findOrderIn(sym, id, h);
    if (o < 0) return this.reject(u, b, cmd, R.UNKNOWN_ORDER);
    const qty = u[b + 6]!;
    if (qty === 0) return this.reject(u, b, cmd, R.BAD_QTY);
    const pLo = u[b + 4]!;
    const pHi = u[b + 5]! | 0;
    const price = pHi * TWO32 + pLo;
    if (price <= 0) return this.reject(u, b, cmd, R.BAD_PRICE);
    const ou = this.ou, w = o * O.STRIDE_W;
    const leaves = ou[w + O.LEAVES]!;
    const side = ou[w + O.SIDE]!;
    const acct = ou[w + O.ACCT]!;
    this.put(EV_M | side << 24, sym, idLo, idHi, pLo, pHi, qty, qty, cmd, acct);
    if (price === this.of[o * O.STRIDE_F64 + O.PRICE]! && qty < leaves) {
      ou[w + O.LEAVES] = qty;
      const q = this.oi[w + O.LEVEL]! * 8 + L.QTY;
      this.lf[q] = this.lf[q]! - (leaves - qty);
      return;
    }
    this.removeOrder(o);
    this.take(sym, side, id, idLo, idHi, price, side === 0 ? price : -price, qty, acct, cmd, true, h);
  }

  // ── matching ─────────────────────────────────────────────────────────────────────────────

  /** Whether the opposite list `opp` can fill `qty` at keys ≤ kb (STP taken into account). */
  private fokFillable(opp: number, kb: number, qty: number, acct: number, stp: number): boolean {
    const H = this.H, fwd = this.fwd, lf = this.lf;
    let need = qty;
    let lv = fwd[opp * H]!;
    while (lv >= 0 && lf[lv * 8 + L.KEY]! <= kb) {
      if (stp === 0) {
        const t = lf[lv * 8 + L.QTY]!;
        if (t >= need) return true;
        need -= t;
      } else {
        const ou = this.ou, oi = this.oi;
        for (let o = this.li[lv * 16 + L.HEAD]!; o >= 0; o = oi[o * O.STRIDE_W + O.NEXT]!) {
          const w = o * O.STRIDE_W;
          if (ou[w + O.ACCT] === acct) {
            if (stp !== STP_CANCEL_RESTING) return false;
          } else {
            const l = ou[w + O.LEAVES]!;
            if (l >= need) return true;
            need -= l;
          }
        }
      }
      lv = fwd[lv * H]!;
    }
    return false;
  }

  /**
   * Matches a taker against the opposite side while it crosses `kb` (key bound), then rests the
   * remainder (`rests`) or cancels it.
   */
  private take(sym: number, side: number, id: number, idLo: number, idHi: number, price: number, kb: number,
    qty: number, acct: number, cmd: number, rests: boolean, h: number): void {
    const fwd = this.fwd, lf = this.lf, li = this.li, of = this.of, ou = this.ou;
    const stp = this.stpMode[sym]!;
    const hd = (sym * 2 + (side ^ 1)) * this.H;
    const sideW = side << 24;
    const pLo = price >>> 0, pHi = (price / TWO32) >>> 0;
    let rem = qty;
    while (rem > 0) {
      const lv = fwd[hd]!;
      if (lv < 0 || lf[lv * 8 + L.KEY]! > kb) break;
      const o = li[lv * 16 + L.HEAD]!;
      const w = o * O.STRIDE_W;
      const ma = ou[w + O.ACCT]!;
      if (stp !== 0 && ma === acct) {
        if (stp !== STP_CANCEL_INCOMING) {
          const mp = of[o * O.STRIDE_F64 + O.PRICE]!, mid = of[o * O.STRIDE_F64 + O.ID]!;
          this.put(EV_X | (R.SELF_TRADE << 8) | (FLAG_STP << 16) | (side ^ 1) << 24, sym, mid >>> 0, (mid / TWO32) >>> 0,
            mp >>> 0, (mp / TWO32) >>> 0, ou[w + O.LEAVES]!, 0, cmd, ma);
          this.removeOrder(o);
        }
        if (stp !== STP_CANCEL_RESTING) {
          this.put(EV_X | (R.SELF_TRADE << 8) | (FLAG_STP << 16) | sideW, sym, idLo, idHi, pLo, pHi, rem, 0, cmd, acct);
          return;
        }
        continue;
      }
      const ml = ou[w + O.LEAVES]!;
      const q = rem < ml ? rem : ml;
      rem -= q;
      const lp = lf[lv * 8 + L.PRICE]!;
      const mid = of[o * O.STRIDE_F64 + O.ID]!;
      const t = ++this.tradeSeq;
      const ev = this.ow;
      const e = this.slot();
      ev[e] = EV_T | sideW; ev[e + 1] = sym; ev[e + 2] = idLo; ev[e + 3] = idHi;
      ev[e + 4] = mid >>> 0; ev[e + 5] = (mid / TWO32) >>> 0; ev[e + 6] = lp >>> 0; ev[e + 7] = (lp / TWO32) >>> 0;
      ev[e + 8] = q; ev[e + 9] = rem; ev[e + 10] = ml - q; ev[e + 11] = cmd;
      ev[e + 12] = acct; ev[e + 13] = ma; ev[e + 14] = t >>> 0; ev[e + 15] = (t / TWO32) >>> 0;
      if (q === ml) this.removeOrder(o);
      else {
        ou[w + O.LEAVES] = ml - q;
        lf[lv * 8 + L.QTY] = lf[lv * 8 + L.QTY]! - q;
      }
    }
    if (rem === 0) return;
    if (rests) this.rest(sym, side, id, price, rem, acct, h);
    else this.put(EV_X | sideW, sym, idLo, idHi, pLo, pHi, rem, 0, cmd, acct);
  }

  // ── orders and their index ───────────────────────────────────────────────────────────────

  /** The resting order with this id in any symbol (ids are engine-wide), or −1. */
  private findOrder(id: number, h: number): number {
    const tab = this.oTab, mask = this.oMask, of = this.of;
    let i = h & mask;
    for (;;) {
      const s = tab[i]!;
      if (s < 0) return -1;
      if (of[s * O.STRIDE_F64 + O.ID] === id) return s;
      i = (i + 1) & mask;
    }
  }

  /** The order `id` if it rests in `sym`, else −1 (an id resting in another symbol is unknown there). */
  private findOrderIn(sym: number, id: number, h: number): number {
    const o = this.findOrder(id, h);
    return o >= 0 && this.ou[o * O.STRIDE_W + O.SYM] === sym ? o : -1;
  }

  private rest(sym: number, side: number, id: number, price: number, leaves: number, acct: number, h: number): void {
    const of = this.of, ou = this.ou, oi = this.oi, lf = this.lf, li = this.li;
    const o = this.oFree;
    const w = o * O.STRIDE_W;
    this.oFree = oi[w + O.NEXT]!;
    this.nResting++;
    of[o * O.STRIDE_F64 + O.ID] = id;
    of[o * O.STRIDE_F64 + O.PRICE] = price;
    ou[w + O.LEAVES] = leaves;
    ou[w + O.ACCT] = acct;
    ou[w + O.SYM] = sym;
    ou[w + O.SIDE] = side;
    oi[w + O.HASH] = h;
    const tab = this.oTab, mask = this.oMask;
    let i = h & mask;
    while (tab[i]! >= 0) i = (i + 1) & mask;
    tab[i] = o;
    // level: find by hash, or create
    const list = sym * 2 + side;
    const lh = mix(list, price >>> 0, (price / TWO32) >>> 0);
    const lt = this.lTab, lmask = this.lMask;
    let j = lh & lmask;
    let lv: number;
    for (;;) {
      lv = lt[j]!;
      if (lv < 0) { lv = this.newLevel(list, side === 0 ? -price : price, price, lh, j); break; }
      if (lf[lv * 8 + L.PRICE] === price && li[lv * 16 + L.LIST] === list) break;
      j = (j + 1) & lmask;
    }
    const lw = lv * 16;
    const tail = li[lw + L.TAIL]!;
    oi[w + O.LEVEL] = lv;
    oi[w + O.PREV] = tail;
    oi[w + O.NEXT] = -1;
    if (tail >= 0) oi[tail * O.STRIDE_W + O.NEXT] = o;
    else li[lw + L.HEAD] = o;
    li[lw + L.TAIL] = o;
    lf[lv * 8 + L.QTY] = lf[lv * 8 + L.QTY]! + leaves;
  }

  /** Unlinks a resting order from its level (dropping an emptied level) and frees its slot. */
  private removeOrder(o: number): void {
    const oi = this.oi, li = this.li;
    const w = o * O.STRIDE_W;
    const lv = oi[w + O.LEVEL]!;
    const lw = lv * 16;
    const prev = oi[w + O.PREV]!, next = oi[w + O.NEXT]!;
    if (prev >= 0) oi[prev * O.STRIDE_W + O.NEXT] = next; else li[lw + L.HEAD] = next;
    if (next >= 0) oi[next * O.STRIDE_W + O.PREV] = prev; else li[lw + L.TAIL] = prev;
    if (li[lw + L.HEAD]! < 0) this.dropLevel(lv);
    else this.lf[lv * 8 + L.QTY] = this.lf[lv * 8 + L.QTY]! - this.ou[w + O.LEAVES]!;
    // index: backward-shift deletion
    const tab = this.oTab, mask = this.oMask;
    let i = oi[w + O.HASH]! & mask;
    while (tab[i] !== o) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const s = tab[j]!;
      if (s < 0) break;
      const k = oi[s * O.STRIDE_W + O.HASH]! & mask;
      if (i <= j ? i < k && k <= j : i < k || k <= j) continue;
      tab[i] = s;
      i = j;
    }
    tab[i] = -1;
    oi[w + O.LEVEL] = -1;
    oi[w + O.PREV] = -1;
    oi[w + O.NEXT] = this.oFree;
    this.oFree = o;
    this.nResting--;
  }

  // ── levels (skip list per side + hash) ───────────────────────────────────────────────────

  private newLevel(list: number, key: number, price: number, lh: number, tabPos: number): number {
    const H = this.H, fwd = this.fwd, lf = this.lf, li = this.li;
    const z = this.lvFree;
    this.lvFree = fwd[z * H]!;
    this.lTab[tabPos] = z;
    const zf = z * 8, zw = z * 16;
    lf[zf + L.KEY] = key;
    lf[zf + L.PRICE] = price;
    lf[zf + L.QTY] = 0;
    li[zw + L.LIST] = list;
    li[zw + L.HASH] = lh;
    li[zw + L.HEAD] = -1;
    li[zw + L.TAIL] = -1;
    // tower height: 1 + number of trailing zero bit pairs of a xorshift32 draw (p = 1/4)
    let x = this.rng;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.rng = x;
    let h = 1;
    while ((x & 3) === 0 && h < H) { h++; x >>>= 2; }
    li[zw + L.HEIGHT] = h;
    const hb = list * H;
    const first = fwd[hb]!;
    const lvl = this.listLvl[list]!;
    if (first < 0 || key < lf[first * 8 + L.KEY]!) {
      // new best: every predecessor is the head
      for (let i = 0; i < h; i++) { fwd[z * H + i] = fwd[hb + i]!; fwd[hb + i] = z; }
      li[zw + L.PREV0] = list;
      if (first >= 0) li[first * 16 + L.PREV0] = z;
    } else {
      const upd = this.upd;
      let y = list;
      for (let i = lvl - 1; i >= 0; i--) {
        let nx: number;
        while ((nx = fwd[y * H + i]!) >= 0 && lf[nx * 8 + L.KEY]! < key) y = nx;
        upd[i] = y;
      }
      for (let i = lvl; i < h; i++) upd[i] = list;
      for (let i = 0; i < h; i++) {
        const p = upd[i]! * H + i;
        fwd[z * H + i] = fwd[p]!;
        fwd[p] = z;
      }
      li[zw + L.PREV0] = upd[0]!;
      const nx = fwd[z * H]!;
      if (nx >= 0) li[nx * 16 + L.PREV0] = z;
    }
    if (h > lvl) this.listLvl[list] = h;
    return z;
  }

  private dropLevel(z: number): void {
    const H = this.H, fwd = this.fwd, li = this.li;
    const zw = z * 16;
    const list = li[zw + L.LIST]!;
    const h = li[zw + L.HEIGHT]!;
    const p = li[zw + L.PREV0]!;
    const nx = fwd[z * H]!;
    if (h === 1) {
      fwd[p * H] = nx;
    } else if (p === list) {
      const hb = list * H;
      for (let i = 0; i < h; i++) fwd[hb + i] = fwd[z * H + i]!;
    } else {
      const key = this.lf[z * 8 + L.KEY]!, lf = this.lf;
      let x = list;
      for (let i = this.listLvl[list]! - 1; i >= 0; i--) {
        let y: number;
        while ((y = fwd[x * H + i]!) >= 0 && lf[y * 8 + L.KEY]! < key) x = y;
        if (i < h) fwd[x * H + i] = fwd[z * H + i]!;
      }
    }
    if (nx >= 0) li[nx * 16 + L.PREV0] = p;
    let lvl = this.listLvl[list]!;
    while (lvl > 0 && fwd[list * H + lvl - 1]! < 0) lvl--;
    this.listLvl[list] = lvl;
    // level index: backward-shift deletion
    const tab = this.lTab, mask = this.lMask;
    let i = li[zw + L.HASH]! & mask;
    while (tab[i] !== z) i = (i + 1) & mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const s = tab[j]!;
      if (s < 0) break;
      const k = li[s * 16 + L.HASH]! & mask;
      if (i <= j ? i < k && k <= j : i < k || k <= j) continue;
      tab[i] = s;
      i = j;
    }
    tab[i] = -1;
    for (let r = 0; r < h; r++) fwd[z * H + r] = -1;
    li[zw + L.PREV0] = -1;
    li[zw + L.HEAD] = -1;
    li[zw + L.TAIL] = -1;
    fwd[z * H] = this.lvFree;
    this.lvFree = z;
  }

  // ── inspection (allocates; not for the hot path) ─────────────────────────────────────────

  /** DESIGN book.csv lines: symbols ascending, bids best first, then asks best first, FIFO. */
  bookLines(): string[] {
    const out: string[] = [];
    const H = this.H;
    for (let s = 0; s < this.nSym; s++) {
      for (let side = 0; side < 2; side++) {
        const sc = side === 0 ? 'B' : 'S';
        for (let lv = this.fwd[(s * 2 + side) * H]!; lv >= 0; lv = this.fwd[lv * H]!) {
          for (let o = this.li[lv * 16 + L.HEAD]!; o >= 0; o = this.oi[o * O.STRIDE_W + O.NEXT]!) {
            const f = o * O.STRIDE_F64;
            out.push(`${s},${sc},${this.of[f + O.PRICE]},${this.of[f + O.ID]},${this.ou[o * O.STRIDE_W + O.LEAVES]}`);
          }
        }
      }
    }
    return out;
  }

  /** Checks every invariant of the header; throws on the first violation (tests only). */
  validate(): void {
    const H = this.H, fwd = this.fwd, lf = this.lf, li = this.li, of = this.of, ou = this.ou, oi = this.oi;
    const fail = (m: string): never => { throw new Error(`FastBook invariant: ${m}`); };
    let orders = 0;
    let levels = 0;
    for (let list = 0; list < 2 * this.nSym; list++) {
      const side = list & 1;
      let prevKey = -Infinity;
      let prev = list;
      for (let lv = fwd[list * H]!; lv >= 0; lv = fwd[lv * H]!) {
        levels++;
        const lw = lv * 16, lfb = lv * 8;
        if (li[lw + L.LIST] !== list) fail(`level ${lv} in wrong list`);
        if (li[lw + L.PREV0] !== prev) fail(`level ${lv} prev0`);
        const key = lf[lfb + L.KEY]!;
        const price = lf[lfb + L.PRICE]!;
        if (!(key > prevKey)) fail(`list ${list} not strictly ordered`);
        if (key !== (side === 0 ? -price : price)) fail(`level ${lv} key`);
        prevKey = key;
        prev = lv;
        let sum = 0;
        let p = -1;
        const o0 = li[lw + L.HEAD]!;
        if (o0 < 0) fail(`empty level ${lv}`);
        for (let o = o0; o >= 0; o = oi[o * O.STRIDE_W + O.NEXT]!) {
          orders++;
          const w = o * O.STRIDE_W, f = o * O.STRIDE_F64;
          if (oi[w + O.PREV] !== p) fail(`order ${o} prev`);
          if (oi[w + O.LEVEL] !== lv || ou[w + O.SIDE] !== side || ou[w + O.SYM] !== list >> 1) fail(`order ${o} owner`);
          if (of[f + O.PRICE] !== price) fail(`order ${o} price`);
          if (ou[w + O.LEAVES]! <= 0) fail(`order ${o} leaves`);
          if (this.findOrder(of[f + O.ID]!, oi[w + O.HASH]!) !== o) fail(`order ${o} not indexed (or its id rests twice)`);
          sum += ou[w + O.LEAVES]!;
          p = o;
        }
        if (li[lw + L.TAIL] !== p) fail(`level ${lv} tail`);
        if (sum !== lf[lfb + L.QTY]) fail(`level ${lv} qty ${lf[lfb + L.QTY]} ≠ ${sum}`);
        // every level is reachable through the upper rows of its tower as well
        for (let i = 1; i < li[lw + L.HEIGHT]!; i++) {
          let x = fwd[list * H + i]!;
          while (x >= 0 && x !== lv) x = fwd[x * H + i]!;
          if (x !== lv) fail(`level ${lv} missing from row ${i}`);
        }
      }
      if (list & 1) {
        const bb = fwd[(list - 1) * H]!, ba = fwd[list * H]!;
        if (bb >= 0 && ba >= 0 && !(lf[bb * 8 + L.PRICE]! < lf[ba * 8 + L.PRICE]!)) fail(`symbol ${list >> 1} crossed`);
      }
    }
    if (orders !== this.nResting) fail(`resting ${this.nResting} ≠ ${orders} linked`);
    let indexed = 0;
    for (let i = 0; i < this.oTab.length; i++) if (this.oTab[i]! >= 0) indexed++;
    if (indexed !== orders) fail(`order index holds ${indexed}, book ${orders}`);
    indexed = 0;
    for (let i = 0; i < this.lTab.length; i++) if (this.lTab[i]! >= 0) indexed++;
    if (indexed !== levels) fail(`level index holds ${indexed}, book ${levels}`);
  }
}
