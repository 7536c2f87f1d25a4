/**
 * DenseLadder: a plain-TypeScript matching engine built as a dense price ladder, the second
 * yardstick (with FastBook) that the WebAssembly engine must beat.
 *
 * Owns: per-symbol price-time priority books, matching, and the EVT records of one `run` call.
 * It implements DESIGN "Engine semantics" plus the engine's decisions on top of it (validation
 * order, engine-wide ids, self-trade prevention per symbol, optional price bands per symbol)
 * over the same 32-byte CMD records and 64-byte EVT records as the wasm engine
 * (src/abi/records.ts), writing the same field values, so the three can be compared record for
 * record. (Market-order collars exist only with pre-trade risk on, which this book does not have.)
 *
 * Layout (typed arrays only; no object per order or per level):
 * ```
 * ORDER POOL, struct of arrays, token t = slot index; free list through oNext
 *   oIdLo u32 · oIdHi u32 · oPrice f64 · oLeaves u32 (0 = dead: cancelled or filled, waiting
 *   to be unlinked) · oAcct u32 · oList u32 (symbol·2 + side) · oNext i32 (next in its level's
 *   FIFO, or next free)
 * ID → TOKEN  tab i32[pow2 ≥ 2·capacity], open addressing, linear probing, token or −1;
 *   home slot (id lo + id hi · 0x9e3779b1) & mask: ids assigned in sequence (as order-entry
 *   sessions do) land in consecutive slots, so the duplicate check of a new order walks the
 *   table sequentially and live ids rarely collide; a probe compares the id words in the pool
 * SIDE (one per symbol and side; key = price for asks, −price for bids, so lower key = better)
 *   window: W slots (pow2, 1024 ≤ W ≤ maxWindow) covering keys [kbase, kbase + W), one
 *     32-byte record per slot (f64 and i32 views over one buffer, so a level is one half cache
 *     line): f64 0 qty (Σ live leaves) · i32 2 head · 3 tail (FIFO of tokens, −1 empty) ·
 *     4 live (live tokens) · 5 dead (dead tokens still linked) · 6..7 unused;
 *     bits u32[W/32] (bit i: live > 0) · sum u32[W/1024] (bit w: bits[w] ≠ 0)
 *   best: lowest occupied slot, −1 when the window is empty
 *   far: tokens whose key ≥ kbase + W, sorted by key then arrival (fTok, fLen; fLive of them live)
 * ```
 * A resting order's level is found from its price alone (slot = key − kbase), so moving the
 * window never touches an order. Cancel is O(1): the id table gives the token, its leaves leave
 * the level's qty and it is marked dead in place (lazy deletion); dead tokens are unlinked when
 * they reach the head of their FIFO, when their level empties, or when a level's dead tokens
 * outnumber twice its live ones + 8 (the level is then compacted). The best slot is kept and,
 * when its level empties, rescanned forward over the bitmap.
 *
 * The window follows the book: a price better than the window re-bases it downwards (growing W
 * up to maxWindow to keep every level, else evicting the worst levels to `far`); a price worse
 * than the window re-bases it upwards to the best level − W/4 (or grows W) when that brings it
 * in, else the order goes to `far`. When the window empties, it re-anchors on the best far key
 * and pulls every far token that now fits. Far tokens are pulled in key order whenever the
 * window's top rises, so far keys are always beyond the window.
 *
 * Invariants: keys in the window are < every far key; window empty ⇒ far empty; a level's head
 * is live when live > 0, and a level with live = 0 holds no token; bit i ⇔ live[i] > 0; qty =
 * Σ leaves of the live tokens; every live token is in the id table once; best bid < best ask
 * after every command; resting (live tokens) ≤ capacity. `validate()` checks them (tests only).
 *
 * Complexity: cancel, fill, reduce-in-place and resting inside the window O(1) (amortised, each
 * token is unlinked once); best-price rescan O(W/1024) worst, O(1) when levels are dense;
 * re-basing O(W) (rare: the window moves by ≥ W/4); a far insert O(F) (sorted array, F far
 * tokens; only books wider than maxWindow have any), a far removal O(1) (lazy; the far list is
 * compacted when its dead tokens outnumber the live ones + 32). FOK availability O(levels
 * walked), O(orders walked) with STP on. Prices and ids: prices must be below 2^53 (held as JS
 * numbers, as in FastBook); ids are exact u64 (two words).
 *
 * Allocation: none in `run` in steady state. The pool grows (doubling) only if dead tokens
 * still linked leave no free slot; a window grows when a side's book gets wider; the far array
 * grows by doubling. `bookLines` and `validate` allocate.
 *
 * Known limitations: prices ≥ 2^53 lose exactness; ids equal modulo the id-table size (an
 * adversarial pattern, not one of our workloads) share a probe run; if the outbox overflows,
 * `run` throws mid-command, leaving that command half applied (size it as for FastBook).
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
const EVT_WORDS = 16;
const CMD_WORDS = 8;
const MIN_WINDOW = 1024;

function pow2AtLeast(n: number, min: number): number {
  let p = min;
  while (p < n) p *= 2;
  return p;
}

/** Count of trailing zeros of a non-zero 32-bit word. */
function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** Empties slots [from, to) of a side's window (no token, no qty). */
function clearSlots(L: Side, from: number, to: number): void {
  const li = L.li;
  L.lf.fill(0, from * 4, to * 4);
  for (let i = from; i < to; i++) { li[i * 8 + 2] = -1; li[i * 8 + 3] = -1; }
}

/** One book side: the dense window and the far tokens beyond it. */
class Side {
  kbase = 0;
  W: number;
  best = -1;
  /** Slot records, 32 B each: f64 [i·4] qty · i32 [i·8 + 2] head, [+3] tail, [+4] live, [+5] dead. */
  lf: Float64Array;
  li: Int32Array;
  bits: Uint32Array;
  sum: Uint32Array;
  fTok: Int32Array = new Int32Array(16);
  fLen = 0;
  fLive = 0;
  constructor(readonly list: number, W: number) {
    this.W = W;
    this.lf = new Float64Array(W * 4);
    this.li = new Int32Array(this.lf.buffer);
    for (let i = 0; i < W; i++) { this.li[i * 8 + 2] = -1; this.li[i * 8 + 3] = -1; }
    this.bits = new Uint32Array(W >>> 5);
    this.sum = new Uint32Array(W >>> 10);
  }

  /** Lowest occupied slot ≥ from, or −1. */
  nextSet(from: number): number {
    const bits = this.bits;
    let w = from >>> 5;
    if (w >= bits.length) return -1;
    const m = bits[w]! & (-1 << (from & 31));
    if (m !== 0) return (w << 5) + ctz(m);
    const s = w + 1;
    if (s >= bits.length) return -1;
    const sum = this.sum;
    let sw = s >>> 5;
    let sm = sum[sw]! & (-1 << (s & 31));
    while (sm === 0) {
      if (++sw >= sum.length) return -1;
      sm = sum[sw]!;
    }
    w = (sw << 5) + ctz(sm);
    return (w << 5) + ctz(bits[w]!);
  }

  /** Highest occupied slot, or −1. */
  lastSet(): number {
    const sum = this.sum;
    for (let sw = sum.length - 1; sw >= 0; sw--) {
      const sm = sum[sw]!;
      if (sm !== 0) {
        const w = (sw << 5) + 31 - Math.clz32(sm);
        return (w << 5) + 31 - Math.clz32(this.bits[w]!);
      }
    }
    return -1;
  }

  setBit(i: number): void {
    const w = i >>> 5;
    this.bits[w] = this.bits[w]! | (1 << (i & 31));
    this.sum[w >>> 5] = this.sum[w >>> 5]! | (1 << (w & 31));
  }

  clearBit(i: number): void {
    const w = i >>> 5;
    const v = this.bits[w]! & ~(1 << (i & 31));
    this.bits[w] = v;
    if (v === 0) this.sum[w >>> 5] = this.sum[w >>> 5]! & ~(1 << (w & 31));
  }
}

export interface DenseLadderOptions {
  /** Symbols 0..symbols-1 exist. */
  symbols: number;
  /** Most resting orders at once, over all symbols. */
  capacity: number;
  /** Outbox size in events (default 1 << 16). */
  outboxEvents?: number;
  /** First window width per side in ticks (pow2 ≥ 1024, default 1024). */
  window?: number;
  /** Widest window per side (pow2, default 1 << 16); levels beyond go to the far list. */
  maxWindow?: number;

}

export class DenseLadder {
  readonly outbox: Uint8Array;
  private readonly ow: Uint32Array;
  private readonly outCap: number;
  private n = 0;
  private tradeSeq = 0;

  private readonly nSym: number;
  private readonly cap: number;
  private readonly stpMode: Uint8Array;
  private readonly bandOn: Uint8Array;
  private readonly bandLo: Float64Array;
  private readonly bandHi: Float64Array;
  private nResting = 0;
  private readonly maxW: number;
  private readonly sides: Side[];

  // order pool (struct of arrays)
  private oIdLo: Uint32Array;
  private oIdHi: Uint32Array;
  private oPrice: Float64Array;
  private oLeaves: Uint32Array;
  private oAcct: Uint32Array;
  private oList: Uint32Array;
  private oNext: Int32Array;
  private oFree: number;

  // id → token
  private readonly tab: Int32Array;
  private readonly tMask: number;
  /** Slot of the last id `find` found (a cancel's removal starts its deletion there). */
  private found = 0;


  private cbuf: ArrayBufferLike | null = null;
  private cw: Uint32Array = new Uint32Array(0);

  constructor(opts: DenseLadderOptions) {
    const S = opts.symbols >>> 0;
    const cap = opts.capacity >>> 0;
    const outCap = (opts.outboxEvents ?? 1 << 16) >>> 0;
    if (S < 1 || cap < 1 || outCap < 1) throw new RangeError('DenseLadder: symbols, capacity and outboxEvents must be ≥ 1');
    const W = opts.window ?? MIN_WINDOW;
    const maxW = opts.maxWindow ?? 1 << 16;
    const pow2 = (x: number): boolean => Number.isInteger(x) && x >= MIN_WINDOW && (x & (x - 1)) === 0;
    if (!pow2(W) || !pow2(maxW) || maxW < W) throw new RangeError('DenseLadder: window and maxWindow must be powers of two ≥ 1024, window ≤ maxWindow');
    this.nSym = S;
    this.cap = cap;
    this.outCap = outCap;
    this.maxW = maxW;
    this.outbox = new Uint8Array(outCap * EVT_WORDS * 4);
    this.ow = new Uint32Array(this.outbox.buffer);
    this.stpMode = new Uint8Array(S);
    this.bandOn = new Uint8Array(S);
    this.bandLo = new Float64Array(S);
    this.bandHi = new Float64Array(S);
    this.sides = [];
    for (let l = 0; l < 2 * S; l++) this.sides.push(new Side(l, W));
    const pc = cap + 64;
    this.oIdLo = new Uint32Array(pc);
    this.oIdHi = new Uint32Array(pc);
    this.oPrice = new Float64Array(pc);
    this.oLeaves = new Uint32Array(pc);
    this.oAcct = new Uint32Array(pc);
    this.oList = new Uint32Array(pc);
    this.oNext = new Int32Array(pc);
    for (let i = 0; i < pc; i++) this.oNext[i] = i + 1 < pc ? i + 1 : -1;
    this.oFree = 0;
    const ts = pow2AtLeast(cap * 2, 16);
    this.tab = new Int32Array(ts).fill(-1);
    this.tMask = ts - 1;

  }

  /** Self-trade prevention of a symbol: 0 none, 1 cancel resting, 2 cancel incoming, 3 cancel both. */
  setStp(symbol: number, mode: number): void {
    if (!(symbol >= 0 && symbol < this.nSym) || !(mode >= 0 && mode <= 3)) throw new RangeError(`DenseLadder.setStp(${symbol}, ${mode})`);
    this.stpMode[symbol] = mode;
  }

  /** Price band of a symbol for limit prices (new and modify): outside [min, max] is `bad_price`; null clears it. */
  setPriceBand(symbol: number, band: { min: number; max: number } | null): void {
    if (!(symbol >= 0 && symbol < this.nSym)) throw new RangeError(`DenseLadder.setPriceBand(${symbol})`);
    if (band === null) { this.bandOn[symbol] = 0; return; }
    if (!(band.min > 0 && band.max >= band.min)) throw new RangeError(`DenseLadder: price band needs 0 < min ≤ max`);
    this.bandOn[symbol] = 1;
    this.bandLo[symbol] = band.min;
    this.bandHi[symbol] = band.max;
  }

  get resting(): number {
    return this.nResting;
  }

  /** Order-pool slots (capacity + 64, more once dead tokens still linked made it grow). */
  get poolSize(): number {
    return this.oNext.length;
  }

  /** Bytes of every typed array the book holds (outbox included). */
  get bytes(): number {
    let n = this.outbox.byteLength + this.tab.byteLength + this.stpMode.byteLength + this.bandOn.byteLength + this.bandLo.byteLength + this.bandHi.byteLength;
    n += this.oNext.length * 32; // seven 4/8-byte arrays
    for (const L of this.sides) n += L.lf.byteLength + L.bits.byteLength + L.sum.byteLength + L.fTok.byteLength;
    return n;
  }

  /**
   * Runs `count` CMD records from `cmds` at `byteOffset` (8-aligned) and writes their events
   * into `outbox` from event 0. Returns the number of events.
   */
  run(cmds: Uint8Array, byteOffset: number, count: number): number {
    const abs = cmds.byteOffset + byteOffset;
    if ((abs & 7) !== 0) throw new RangeError('DenseLadder.run: command offset must be 8-aligned');
    if (byteOffset < 0 || count < 0 || byteOffset + count * 32 > cmds.byteLength) throw new RangeError('DenseLadder.run: commands out of range');
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

  private slot(): number {
    const n = this.n;
    if (n >= this.outCap) throw new RangeError(`DenseLadder: outbox overflow (${this.outCap} events); size it for the batch`);
    this.n = n + 1;
    return n * EVT_WORDS;
  }

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
    if (tif > 3 && type === 0) return this.reject(u, b, cmd, R.BAD_TIF);
    const qty = u[b + 6]!;
    if (qty === 0) return this.reject(u, b, cmd, R.BAD_QTY);
    const limit = type === 0;
    const pLo = u[b + 4]!;
    const pHi = u[b + 5]! | 0;
    const price = limit ? pHi * TWO32 + pLo : 0;
    if (limit && (price <= 0 || (this.bandOn[sym] === 1 && (price < this.bandLo[sym]! || price > this.bandHi[sym]!)))) {
      return this.reject(u, b, cmd, R.BAD_PRICE);
    }
    const idLo = u[b + 2]!;
    const idHi = u[b + 3]!;
    if (this.find(idLo, idHi) >= 0) return this.reject(u, b, cmd, R.DUPLICATE_ID);
    const opp = this.sides[sym * 2 + (side ^ 1)]!;
    // bound on the opposite side's keys: asks key = price ≤ buy limit; bids key = −price ≤ −sell limit
    const kb = limit ? (side === 0 ? price : -price) : Infinity;
    if (limit && tif === 3 && opp.best >= 0 && opp.kbase + opp.best <= kb) return this.reject(u, b, cmd, R.WOULD_CROSS);
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
    this.take(sym, side, idLo, idHi, price, kb, qty, acct, cmd, rests);
  }

  private cancelOrder(u: Uint32Array, b: number, cmd: number): void {
    const sym = u[b + 1]!;
    const idLo = u[b + 2]!;
    const idHi = u[b + 3]!;
    const t = this.find(idLo, idHi);
    if (t < 0 || this.oList[t]! >>> 1 !== sym) return this.reject(u, b, cmd, R.UNKNOWN_ORDER);
    const p = this.oPrice[t]!;
    this.put(EV_X | (this.oList[t]! & 1) << 24, sym, idLo, idHi, p >>> 0, (p / TWO32) >>> 0, this.oLeaves[t]!, 0, cmd, this.oAcct[t]!);
    this.remove(t);
  }

  private modifyOrder(u: Uint32Array, b: number, cmd: number): void {
    const sym = u[b + 1]!;
    const idLo = u[b + 2]!;
    const idHi = u[b + 3]!;
    const t = this.find(idLo, idHi);
    if (t < 0 || this.oList[t]! >>> 1 !== sym) return this.reject(u, b, cmd, R.UNKNOWN_ORDER);
    const qty = u[b + 6]!;
    if (qty === 0) return this.reject(u, b, cmd, R.BAD_QTY);
    const pLo = u[b + 4]!;
    const pHi = u[b + 5]! | 0;
    const price = pHi * TWO32 + pLo;
    if (price <= 0 || (this.bandOn[sym] === 1 && (price < this.bandLo[sym]! || price > this.bandHi[sym]!))) {
      return this.reject(u, b, cmd, R.BAD_PRICE);
    }
    const list = this.oList[t]!;
    const side = list & 1;
    const leaves = this.oLeaves[t]!;
    const acct = this.oAcct[t]!;
    const old = this.oPrice[t]!;
    this.put(EV_M | side << 24, sym, idLo, idHi, pLo, pHi, qty, qty, cmd, acct);
    if (price === old && qty < leaves) {
      this.oLeaves[t] = qty;
      const L = this.sides[list]!;
      const i = (side === 0 ? -old : old) - L.kbase;
      if (i < L.W) L.lf[i * 4] = L.lf[i * 4]! - (leaves - qty);
      return;
    }
    this.remove(t);
    this.take(sym, side, idLo, idHi, price, side === 0 ? price : -price, qty, acct, cmd, true);
  }

  // ── matching ─────────────────────────────────────────────────────────────────────────────

  /** Whether side `L` can fill `qty` at keys ≤ kb (STP taken into account). */
  private fokFillable(L: Side, kb: number, qty: number, acct: number, stp: number): boolean {
    const oLeaves = this.oLeaves, oNext = this.oNext, oAcct = this.oAcct;
    let need = qty;
    for (let i = L.best; i >= 0 && L.kbase + i <= kb; i = L.nextSet(i + 1)) {
      if (stp === 0) {
        const q = L.lf[i * 4]!;
        if (q >= need) return true;
        need -= q;
        continue;
      }
      for (let o = L.li[i * 8 + 2]!; o >= 0; o = oNext[o]!) {
        const l = oLeaves[o]!;
        if (l === 0) continue;
        if (oAcct[o] === acct) {
          if (stp !== STP_CANCEL_RESTING) return false;
        } else {
          if (l >= need) return true;
          need -= l;
        }
      }
    }
    // far tokens, in key then arrival order
    const side = L.list & 1;
    for (let j = 0; j < L.fLen; j++) {
      const o = L.fTok[j]!;
      const p = this.oPrice[o]!;
      if ((side === 0 ? -p : p) > kb) break;
      const l = oLeaves[o]!;
      if (l === 0) continue;
      if (stp !== 0 && oAcct[o] === acct) {
        if (stp !== STP_CANCEL_RESTING) return false;
      } else {
        if (l >= need) return true;
        need -= l;
      }
    }
    return false;
  }

  /** Matches a taker against the opposite side while it crosses `kb`, then rests or cancels the rest. */
  private take(sym: number, side: number, idLo: number, idHi: number, price: number, kb: number,
    qty: number, acct: number, cmd: number, rests: boolean): void {
    const L = this.sides[sym * 2 + (side ^ 1)]!;
    const stp = this.stpMode[sym]!;
    const sideW = side << 24;
    const pLo = price >>> 0, pHi = (price / TWO32) >>> 0;
    let rem = qty;
    while (rem > 0) {
      const i = L.best;
      if (i < 0 || L.kbase + i > kb) break;
      const o = L.li[i * 8 + 2]!;
      const ma = this.oAcct[o]!;
      if (stp !== 0 && ma === acct) {
        if (stp !== STP_CANCEL_INCOMING) {
          const mp = this.oPrice[o]!;
          this.put(EV_X | (R.SELF_TRADE << 8) | (FLAG_STP << 16) | (side ^ 1) << 24, sym, this.oIdLo[o]!, this.oIdHi[o]!,
            mp >>> 0, (mp / TWO32) >>> 0, this.oLeaves[o]!, 0, cmd, ma);
          this.remove(o);
        }
        if (stp !== STP_CANCEL_RESTING) {
          this.put(EV_X | (R.SELF_TRADE << 8) | (FLAG_STP << 16) | sideW, sym, idLo, idHi, pLo, pHi, rem, 0, cmd, acct);
          return;
        }
        continue;
      }
      const ml = this.oLeaves[o]!;
      const q = rem < ml ? rem : ml;
      rem -= q;
      const lp = this.oPrice[o]!;
      const t = ++this.tradeSeq;
      const ev = this.ow;
      const e = this.slot();
      ev[e] = EV_T | sideW; ev[e + 1] = sym; ev[e + 2] = idLo; ev[e + 3] = idHi;
      ev[e + 4] = this.oIdLo[o]!; ev[e + 5] = this.oIdHi[o]!; ev[e + 6] = lp >>> 0; ev[e + 7] = (lp / TWO32) >>> 0;
      ev[e + 8] = q; ev[e + 9] = rem; ev[e + 10] = ml - q; ev[e + 11] = cmd;
      ev[e + 12] = acct; ev[e + 13] = ma; ev[e + 14] = t >>> 0; ev[e + 15] = (t / TWO32) >>> 0;
      if (q === ml) this.remove(o);
      else {
        this.oLeaves[o] = ml - q;
        L.lf[i * 4] = L.lf[i * 4]! - q;
      }
    }
    if (rem === 0) return;
    if (rests) this.rest(sym * 2 + side, idLo, idHi, price, side === 0 ? -price : price, rem, acct);
    else this.put(EV_X | sideW, sym, idLo, idHi, pLo, pHi, rem, 0, cmd, acct);
  }

  // ── the id table ─────────────────────────────────────────────────────────────────────────

  /** The live token with this id (in any symbol), or −1. */
  private find(lo: number, hi: number): number {
    const tab = this.tab, mask = this.tMask;
    let i = (lo + Math.imul(hi, 0x9e3779b1)) & mask;
    for (;;) {
      const t = tab[i]!;
      if (t < 0) return -1;
      if (this.oIdLo[t] === lo && this.oIdHi[t] === hi) { this.found = i; return t; }
      i = (i + 1) & mask;
    }
  }

  private tableInsert(lo: number, hi: number, t: number): void {
    const tab = this.tab, mask = this.tMask;
    let i = (lo + Math.imul(hi, 0x9e3779b1)) & mask;
    while (tab[i]! >= 0) i = (i + 1) & mask;
    tab[i] = t;
  }

  /** Removes live token t from the table (backward-shift deletion). */
  private tableDelete(t: number): void {
    const oIdLo = this.oIdLo, oIdHi = this.oIdHi;
    const tab = this.tab, mask = this.tMask;
    let i = this.found;
    if (tab[i] !== t) {
      i = (oIdLo[t]! + Math.imul(oIdHi[t]!, 0x9e3779b1)) & mask;
      while (tab[i] !== t) i = (i + 1) & mask;
    }
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const s = tab[j]!;
      if (s < 0) break;
      const k = (oIdLo[s]! + Math.imul(oIdHi[s]!, 0x9e3779b1)) & mask;
      if (i <= j ? i < k && k <= j : i < k || k <= j) continue;
      tab[i] = s;
      i = j;
    }
    tab[i] = -1;
  }

  // ── the pool ─────────────────────────────────────────────────────────────────────────────

  private alloc(): number {
    if (this.oFree < 0) this.growPool();
    const t = this.oFree;
    this.oFree = this.oNext[t]!;
    return t;
  }

  private free(t: number): void {
    this.oNext[t] = this.oFree;
    this.oFree = t;
  }

  /** Doubles the pool (only when dead tokens still linked use every slot). Allocates. */
  private growPool(): void {
    const n = this.oNext.length;
    const m = n * 2;
    const g = <T extends Uint32Array | Int32Array | Float64Array>(a: T, C: new (k: number) => T): T => { const b = new C(m); b.set(a); return b; };
    this.oIdLo = g(this.oIdLo, Uint32Array);
    this.oIdHi = g(this.oIdHi, Uint32Array);
    this.oPrice = g(this.oPrice, Float64Array);
    this.oLeaves = g(this.oLeaves, Uint32Array);
    this.oAcct = g(this.oAcct, Uint32Array);
    this.oList = g(this.oList, Uint32Array);
    this.oNext = g(this.oNext, Int32Array);
    for (let i = n; i < m; i++) this.oNext[i] = i + 1 < m ? i + 1 : this.oFree;
    this.oFree = n;
  }

  // ── resting and removal ──────────────────────────────────────────────────────────────────

  private rest(list: number, idLo: number, idHi: number, price: number, key: number, leaves: number, acct: number): void {
    const t = this.alloc();
    this.oIdLo[t] = idLo;
    this.oIdHi[t] = idHi;
    this.oPrice[t] = price;
    this.oLeaves[t] = leaves;
    this.oAcct[t] = acct;
    this.oList[t] = list;
    this.nResting++;
    this.tableInsert(idLo, idHi, t);
    const L = this.sides[list]!;
    let i = key - L.kbase;
    if (i < 0 || i >= L.W) {
      i = this.place(L, key);
      if (i < 0) return this.farInsert(L, t, key);
    }
    this.append(L, i, t);
    L.lf[i * 4] = L.lf[i * 4]! + leaves;
    if (L.best < 0 || i < L.best) L.best = i;
  }

  /** Links live token t at the back of slot i's FIFO (qty and best are the caller's). */
  private append(L: Side, i: number, t: number): void {
    this.oNext[t] = -1;
    const tail = L.li[i * 8 + 3]!;
    if (tail >= 0) this.oNext[tail] = t;
    else { L.li[i * 8 + 2] = t; L.setBit(i); }
    L.li[i * 8 + 3] = t;
    L.li[i * 8 + 4] = L.li[i * 8 + 4]! + 1;
  }

  /** Takes a live order out of the book: id table, level (lazily), counts. */
  private remove(t: number): void {
    this.tableDelete(t);
    this.nResting--;
    const leaves = this.oLeaves[t]!;
    this.oLeaves[t] = 0;
    const list = this.oList[t]!;
    const L = this.sides[list]!;
    const p = this.oPrice[t]!;
    const i = ((list & 1) === 0 ? -p : p) - L.kbase;
    if (i >= L.W) {
      if (--L.fLive === 0) this.farClear(L);
      else if (L.fLen - L.fLive > L.fLive + 32) this.farCompact(L);
      return;
    }
    L.lf[i * 4] = L.lf[i * 4]! - leaves;
    const live = L.li[i * 8 + 4]! - 1;
    L.li[i * 8 + 4] = live;
    if (live === 0) {
      // every token left in the FIFO is dead: unlink them all, drop the level
      for (let o = L.li[i * 8 + 2]!; o >= 0;) { const nx = this.oNext[o]!; this.free(o); o = nx; }
      L.li[i * 8 + 2] = -1;
      L.li[i * 8 + 3] = -1;
      L.li[i * 8 + 5] = 0;
      L.lf[i * 4] = 0;
      L.clearBit(i);
      if (i === L.best) {
        L.best = L.nextSet(i + 1);
        if (L.best < 0 && L.fLen > 0) this.reanchor(L);
      }
    } else if (L.li[i * 8 + 2] === t) {
      let o = this.oNext[t]!;
      this.free(t);
      let d = 0;
      while (this.oLeaves[o] === 0) { const nx = this.oNext[o]!; this.free(o); o = nx; d++; }
      L.li[i * 8 + 2] = o;
      L.li[i * 8 + 5] = L.li[i * 8 + 5]! - d;
    } else {
      const d = L.li[i * 8 + 5]! + 1;
      L.li[i * 8 + 5] = d;
      if (d > 2 * live + 8) this.compact(L, i);
    }
  }

  /** Unlinks the dead tokens of slot i. */
  private compact(L: Side, i: number): void {
    const oNext = this.oNext, oLeaves = this.oLeaves;
    let prev = -1;
    for (let o = L.li[i * 8 + 2]!; o >= 0;) {
      const nx = oNext[o]!;
      if (oLeaves[o] === 0) this.free(o);
      else {
        if (prev >= 0) oNext[prev] = o; else L.li[i * 8 + 2] = o;
        prev = o;
      }
      o = nx;
    }
    oNext[prev] = -1;
    L.li[i * 8 + 3] = prev;
    L.li[i * 8 + 5] = 0;
  }

  // ── the window ───────────────────────────────────────────────────────────────────────────

  private keyOf(L: Side, t: number): number {
    const p = this.oPrice[t]!;
    return (L.list & 1) === 0 ? -p : p;
  }

  /** Brings `key` (outside the window) into it when the policy allows; returns its slot or −1 (far). */
  private place(L: Side, key: number): number {
    const q = L.W >>> 2;
    if (L.best < 0) {
      // empty window, hence empty far list: anchor anywhere
      L.kbase = key - q;
      return q;
    }
    if (key < L.kbase) {
      const nb = key - q;
      const top = L.kbase + L.lastSet();
      if (top - nb >= L.W && top - nb < this.maxW) this.grow(L, top - nb + 1);
      this.rebase(L, nb);
      return key - nb;
    }
    const nb = Math.max(L.kbase, L.kbase + L.best - q);
    if (key - nb >= L.W) {
      if (key - nb >= this.maxW) return -1;
      this.grow(L, key - nb + 1);
    }
    this.rebase(L, nb);
    return key - nb;
  }

  /** Widens the window to a power of two ≥ need (at least double, at most maxWindow), same kbase. Allocates. */
  private grow(L: Side, need: number): void {
    const W = Math.min(this.maxW, pow2AtLeast(need, L.W * 2));
    const lf = new Float64Array(W * 4);
    lf.set(L.lf);
    const old = L.W;
    L.lf = lf;
    L.li = new Int32Array(lf.buffer);
    L.W = W;
    clearSlots(L, old, W);
    const bits = new Uint32Array(W >>> 5);
    bits.set(L.bits);
    L.bits = bits;
    const sum = new Uint32Array(W >>> 10);
    sum.set(L.sum);
    L.sum = sum;
  }

  /**
   * Moves the window to start at key nb. Levels that fall beyond its worse edge go to the front
   * of the far list; far tokens that now fit are pulled in. Nothing may fall off the better edge.
   */
  private rebase(L: Side, nb: number): void {
    const d = nb - L.kbase;
    if (d === 0) { this.pull(L); return; }
    const W = L.W;
    const lf = L.lf, li = L.li;
    if (d < 0) {
      const s = -d;
      // slots [W − s, W) fall off the worse edge
      const ev: number[] = [];
      for (let i = L.nextSet(Math.max(0, W - s)); i >= 0; i = L.nextSet(i + 1)) {
        for (let o = li[i * 8 + 2]!; o >= 0;) {
          const nx = this.oNext[o]!;
          if (this.oLeaves[o] === 0) this.free(o); else ev.push(o);
          o = nx;
        }
      }
      if (ev.length > 0) this.farPrepend(L, ev);
      if (s < W) lf.copyWithin(s * 4, 0, (W - s) * 4);
      clearSlots(L, 0, Math.min(s, W));
    } else {
      if (d < W) lf.copyWithin(0, d * 4, W * 4);
      clearSlots(L, Math.max(0, W - d), W);
    }
    L.kbase = nb;
    L.bits.fill(0);
    L.sum.fill(0);
    for (let i = 0; i < W; i++) if (li[i * 8 + 4]! > 0) L.setBit(i);
    L.best = L.nextSet(0);
    this.pull(L);
  }

  /** Pulls the far tokens whose key now lies inside the window, in order (dead ones are freed). */
  private pull(L: Side): void {
    if (L.fLen === 0) return;
    const top = L.kbase + L.W;
    const f = L.fTok;
    let j = 0;
    while (j < L.fLen && this.keyOf(L, f[j]!) < top) {
      const o = f[j]!;
      if (this.oLeaves[o] === 0) this.free(o);
      else {
        const i = this.keyOf(L, o) - L.kbase;
        this.append(L, i, o);
        L.lf[i * 4] = L.lf[i * 4]! + this.oLeaves[o]!;
        L.fLive--;
        if (L.best < 0 || i < L.best) L.best = i;
      }
      j++;
    }
    if (j === 0) return;
    f.copyWithin(0, j, L.fLen);
    L.fLen -= j;
  }

  /** The window emptied: anchor it on the best far key and pull what fits. */
  private reanchor(L: Side): void {
    const f = L.fTok;
    let j = 0;
    while (j < L.fLen && this.oLeaves[f[j]!] === 0) { this.free(f[j]!); j++; }
    if (j > 0) { f.copyWithin(0, j, L.fLen); L.fLen -= j; }
    if (L.fLen === 0) { L.fLive = 0; return; }
    L.kbase = this.keyOf(L, f[0]!) - (L.W >>> 2);
    this.pull(L);
  }

  // ── the far list ─────────────────────────────────────────────────────────────────────────

  private farReserve(L: Side, n: number): void {
    if (L.fLen + n <= L.fTok.length) return;
    const a = new Int32Array(pow2AtLeast(L.fLen + n, L.fTok.length * 2));
    a.set(L.fTok.subarray(0, L.fLen));
    L.fTok = a;
  }

  /** Inserts live token t after every far token with a key ≤ key. */
  private farInsert(L: Side, t: number, key: number): void {
    this.farReserve(L, 1);
    const f = L.fTok;
    let lo = 0, hi = L.fLen;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (this.keyOf(L, f[m]!) <= key) lo = m + 1; else hi = m;
    }
    f.copyWithin(lo + 1, lo, L.fLen);
    f[lo] = t;
    L.fLen++;
    L.fLive++;
  }

  /** Puts live tokens (ordered, all better than every far key) in front of the far list. */
  private farPrepend(L: Side, ts: number[]): void {
    this.farReserve(L, ts.length);
    const f = L.fTok;
    f.copyWithin(ts.length, 0, L.fLen);
    for (let k = 0; k < ts.length; k++) f[k] = ts[k]!;
    L.fLen += ts.length;
    L.fLive += ts.length;
  }

  private farClear(L: Side): void {
    for (let j = 0; j < L.fLen; j++) this.free(L.fTok[j]!);
    L.fLen = 0;
    L.fLive = 0;
  }

  private farCompact(L: Side): void {
    const f = L.fTok;
    let k = 0;
    for (let j = 0; j < L.fLen; j++) {
      const o = f[j]!;
      if (this.oLeaves[o] === 0) this.free(o); else f[k++] = o;
    }
    L.fLen = k;
  }

  // ── inspection (allocates; not for the hot path) ─────────────────────────────────────────

  private idString(t: number): string {
    const hi = this.oIdHi[t]!;
    return hi === 0 ? String(this.oIdLo[t]!) : ((BigInt(hi) << 32n) | BigInt(this.oIdLo[t]!)).toString();
  }

  /** Live tokens of a side, best first, FIFO within a level. */
  private sideTokens(L: Side): number[] {
    const out: number[] = [];
    for (let i = L.best; i >= 0; i = L.nextSet(i + 1)) {
      for (let o = L.li[i * 8 + 2]!; o >= 0; o = this.oNext[o]!) if (this.oLeaves[o] !== 0) out.push(o);
    }
    for (let j = 0; j < L.fLen; j++) if (this.oLeaves[L.fTok[j]!] !== 0) out.push(L.fTok[j]!);
    return out;
  }

  /** DESIGN book.csv lines: symbols ascending, bids best first, then asks best first, FIFO. */
  bookLines(): string[] {
    const out: string[] = [];
    for (let s = 0; s < this.nSym; s++) {
      for (let side = 0; side < 2; side++) {
        const sc = side === 0 ? 'B' : 'S';
        for (const o of this.sideTokens(this.sides[s * 2 + side]!)) out.push(`${s},${sc},${this.oPrice[o]},${this.idString(o)},${this.oLeaves[o]}`);
      }
    }
    return out;
  }

  /** Window and far-list shape of one side (tests and profiling). */
  sideInfo(symbol: number, side: number): { window: number; kbase: number; far: number; farLive: number } {
    const L = this.sides[symbol * 2 + side]!;
    return { window: L.W, kbase: L.kbase, far: L.fLen, farLive: L.fLive };
  }

  /** Checks every invariant of the header; throws on the first violation (tests only). */
  validate(): void {
    const fail = (m: string): never => { throw new Error(`DenseLadder invariant: ${m}`); };
    let orders = 0;
    let linked = 0;
    for (const L of this.sides) {
      const side = L.list & 1;
      let first = -1;
      let lastKey = -Infinity;
      for (let i = 0; i < L.W; i++) {
        const bit = (L.bits[i >>> 5]! >>> (i & 31)) & 1;
        if (bit !== (L.li[i * 8 + 4]! > 0 ? 1 : 0)) fail(`list ${L.list} slot ${i}: bit ${bit}, live ${L.li[i * 8 + 4]}`);
        if ((L.sum[i >>> 10]! >>> ((i >>> 5) & 31) & 1) !== (L.bits[i >>> 5] !== 0 ? 1 : 0)) fail(`list ${L.list} summary of slot ${i}`);
        if (L.li[i * 8 + 4] === 0) {
          if (L.li[i * 8 + 2] !== -1 || L.li[i * 8 + 3] !== -1 || L.li[i * 8 + 5] !== 0 || L.lf[i * 4] !== 0) fail(`list ${L.list} empty slot ${i} holds tokens`);
          continue;
        }
        if (first < 0) first = i;
        let nl = 0, nd = 0, sum = 0, last = -1;
        const key = L.kbase + i;
        lastKey = key;
        if (this.oLeaves[L.li[i * 8 + 2]!] === 0) fail(`list ${L.list} slot ${i}: dead head`);
        for (let o = L.li[i * 8 + 2]!; o >= 0; o = this.oNext[o]!) {
          linked++;
          last = o;
          if (this.oLeaves[o] === 0) { nd++; continue; }
          nl++;
          sum += this.oLeaves[o]!;
          if (this.oList[o] !== L.list) fail(`token ${o} in list ${L.list}`);
          if (this.keyOf(L, o) !== key) fail(`token ${o} price ${this.oPrice[o]} at key ${key}`);
          if (this.find(this.oIdLo[o]!, this.oIdHi[o]!) !== o) fail(`token ${o} not indexed`);
        }
        if (L.li[i * 8 + 3] !== last) fail(`list ${L.list} slot ${i} tail`);
        if (nl !== L.li[i * 8 + 4] || nd !== L.li[i * 8 + 5]) fail(`list ${L.list} slot ${i}: live ${L.li[i * 8 + 4]}/${nl} dead ${L.li[i * 8 + 5]}/${nd}`);
        if (sum !== L.lf[i * 4]) fail(`list ${L.list} slot ${i}: qty ${L.lf[i * 4]} ≠ ${sum}`);
        orders += nl;
      }
      if (first !== L.best) fail(`list ${L.list}: best ${L.best}, first occupied ${first}`);
      let fl = 0;
      let prevKey = -Infinity;
      for (let j = 0; j < L.fLen; j++) {
        const o = L.fTok[j]!;
        linked++;
        const k = this.keyOf(L, o);
        if (k < L.kbase + L.W || k <= lastKey) fail(`list ${L.list}: far key ${k} inside the window`);
        if (k < prevKey) fail(`list ${L.list}: far list out of order`);
        prevKey = k;
        if (this.oLeaves[o] !== 0) {
          fl++;
          if (this.oList[o] !== L.list || this.find(this.oIdLo[o]!, this.oIdHi[o]!) !== o) fail(`far token ${o}`);
        }
      }
      if (fl !== L.fLive) fail(`list ${L.list}: far live ${L.fLive} ≠ ${fl}`);
      if (L.best < 0 && L.fLen > 0) fail(`list ${L.list}: empty window with a far list`);
      orders += fl;
      if (side === 1) {
        const B = this.sides[L.list - 1]!;
        if (B.best >= 0 && L.best >= 0 && !(-(B.kbase + B.best) < L.kbase + L.best)) fail(`symbol ${L.list >> 1} crossed`);
      }
    }
    if (orders !== this.nResting) fail(`resting ${this.nResting} ≠ ${orders} live`);
    let indexed = 0;
    for (let i = 0; i < this.tab.length; i++) if (this.tab[i]! >= 0) indexed++;
    if (indexed !== orders) fail(`id table holds ${indexed}, book ${orders}`);
    let free = 0;
    for (let o = this.oFree; o >= 0; o = this.oNext[o]!) free++;
    if (free + linked !== this.oNext.length) fail(`pool: ${free} free + ${linked} linked ≠ ${this.oNext.length}`);
  }
}
