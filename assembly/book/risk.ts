/**
 * Pre-trade risk: per-symbol reference data and limits, per-account limits and kill switches,
 * per-(account, symbol) positions and open exposure, checked on every new order and modify before
 * matching, on the engine thread, as part of the deterministic state machine.
 *
 * Owns: the risk tables and their accounting. book/engine.ts calls the checks and the hooks at
 * every point where an order rests, trades or leaves the book; the exact rules are in docs/risk.md
 * and mirrored by test/reference/ref-engine.ts.
 *
 * Layout (reserved by `riskAlloc` right after the engine's memory, never grown afterwards):
 * ```
 * symbol risk (nSym × 64) │ account entries ((maxAcc+1) × 32) │ position entries ((maxPos+1) × 48)
 * │ account slots (pow2 ≥ 2·maxAcc, u32) │ position slots (pow2 ≥ 2·maxPos, u32)
 * ```
 * SYMBOL (64 B): 0 status u32 (0 trading, 1 halted) · 4 minQty u32 · 8 maxQty u32 (0 none) ·
 *   12 collarBps u32 (0 none) · 16 minNotional u64 · 24 maxNotional u64 (0 none) ·
 *   32 maxPosition u64 (0 none) · 40 lastPrice i64 (0 = no trade yet)
 * ACCOUNT (32 B): 0 account u32 · 4 open orders u32 · 8 maxOpen u32 (0 = the default) ·
 *   12 killed u32 · 16 maxPosition u64 (0 = the symbol's)
 * POSITION (48 B): 0 account u32 · 4 symbol u32 · 8 account entry u32 · 12 unused ·
 *   16 position i64 (net lots, + long) · 24 open buy lots u64 · 32 open sell lots u64
 * Entries are numbered from 1 in creation order (0 = none) and never removed.
 *
 * Invariants: open orders of an account = its resting orders; open buy/sell of a position = Σ
 * leaves of the account's resting orders on that side of that symbol; position = Σ signed fills.
 * `riskValidate` checks the first two against the books. Notional = price ticks × qty lots.
 * Complexity: O(1) expected per check and per hook. Allocation: none after `riskAlloc`.
 * Market-order protection: a market order trades only inside the collar band around the same
 * reference as a limit order (with no reference at all: around the best opposite price on
 * arrival); `riskCheckNew` rejects it `price_collar` when the best opposite price is already
 * outside, else leaves the band in `mktLo`/`mktHi` for the matching loop, which stops there (the
 * remainder is cancelled like an IOC remainder).
 * Known limitations: table sizes fixed at enable time (a new account/position past them is
 * rejected `capacity`); a market order's notional uses the best opposite price.
 */

@inline export const RS_SIZE: u32 = 64;
@inline export const RS_STATUS: u32 = 0;
@inline export const RS_MIN_QTY: u32 = 4;
@inline export const RS_MAX_QTY: u32 = 8;
@inline export const RS_COLLAR: u32 = 12;
@inline export const RS_MIN_NOTIONAL: u32 = 16;
@inline export const RS_MAX_NOTIONAL: u32 = 24;
@inline export const RS_MAX_POS: u32 = 32;
@inline export const RS_LAST: u32 = 40;

@inline export const RA_SIZE: u32 = 32;
@inline export const RA_ACCT: u32 = 0;
@inline export const RA_OPEN: u32 = 4;
@inline export const RA_MAX_OPEN: u32 = 8;
@inline export const RA_KILLED: u32 = 12;
@inline export const RA_MAX_POS: u32 = 16;

@inline export const RP_SIZE: u32 = 48;
@inline export const RP_ACCT: u32 = 0;
@inline export const RP_SYM: u32 = 4;
@inline export const RP_AE: u32 = 8;
@inline export const RP_POS: u32 = 16;
@inline export const RP_OPEN: u32 = 24; // + side * 8

export let riskOn: bool = false;
export let killAll: bool = false;
export let defMaxOpen: u32 = 0;
let rsBase: usize = 0;
let raBase: usize = 0;
let rpBase: usize = 0;
let raSlots: usize = 0;
let rpSlots: usize = 0;
let raMask: u32 = 0;
let rpMask: u32 = 0;
export let raCount: u32 = 0;
export let rpCount: u32 = 0;
let raCap: u32 = 0;
let rpCap: u32 = 0;
let rSymbols: u32 = 0;
/** The band of the market order `riskCheckNew` last accepted: it may trade at prices in [mktLo, mktHi]. */
export let mktLo: i64 = 0;
export let mktHi: i64 = i64.MAX_VALUE;

@inline export function rsAddr(sym: u32): usize { return rsBase + (<usize>sym << 6); }
@inline export function raAddr(e: u32): usize { return raBase + (<usize>e << 5); }
@inline export function rpAddr(e: u32): usize { return rpBase + <usize>e * RP_SIZE; }

@inline function pow2AtLeast(n: u32): u32 {
  let s: u32 = 16;
  while (s < n) s <<= 1;
  return s;
}

/** Bytes `riskAlloc` needs (computed in 64 bits so that it cannot wrap). */
export function riskBytes(symbols: u32, maxAcc: u32, maxPos: u32): u64 {
  return <u64>symbols * RS_SIZE + (<u64>maxAcc + 1) * RA_SIZE + (<u64>maxPos + 1) * RP_SIZE +
    (<u64>pow2AtLeast(maxAcc * 2) + <u64>pow2AtLeast(maxPos * 2)) * 4 + 256;
}

/** Lays the tables out from `base` (zeroed by the caller) and turns risk on. Returns the end. */
export function riskAlloc(base: usize, symbols: u32, maxAcc: u32, maxPos: u32, defaultMaxOpen: u32): usize {
  let p = (base + 63) & ~(<usize>63);
  rsBase = p; p += <usize>symbols * RS_SIZE;
  raBase = p; p += (<usize>maxAcc + 1) * RA_SIZE;
  rpBase = p; p += (<usize>maxPos + 1) * RP_SIZE;
  const as = pow2AtLeast(maxAcc * 2);
  const ps = pow2AtLeast(maxPos * 2);
  raSlots = p; p += <usize>as * 4;
  rpSlots = p; p += <usize>ps * 4;
  raMask = as - 1; rpMask = ps - 1;
  raCap = maxAcc; rpCap = maxPos; raCount = 0; rpCount = 0;
  rSymbols = symbols; defMaxOpen = defaultMaxOpen; killAll = false; riskOn = true;
  return p;
}

/** Turns risk off (a fresh engineInit). */
export function riskReset(): void { riskOn = false; killAll = false; raCount = 0; rpCount = 0; }

@inline function mix32(x: u64): u32 {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccd;
  x ^= x >> 33;
  return <u32>x;
}

/** The account's entry, or 0. */
export function accFind(acct: u32): u32 {
  let i = mix32(<u64>acct * 0x9E3779B97F4A7C15) & raMask;
  while (true) {
    const e = load<u32>(raSlots + (<usize>i << 2));
    if (e == 0) return 0;
    if (load<u32>(raAddr(e), RA_ACCT) == acct) return e;
    i = (i + 1) & raMask;
  }
  return 0;
}

/** The account's entry, created if needed; 0 when the table is full. */
export function accGet(acct: u32): u32 {
  let i = mix32(<u64>acct * 0x9E3779B97F4A7C15) & raMask;
  while (true) {
    const e = load<u32>(raSlots + (<usize>i << 2));
    if (e == 0) break;
    if (load<u32>(raAddr(e), RA_ACCT) == acct) return e;
    i = (i + 1) & raMask;
  }
  if (raCount >= raCap) return 0;
  const e = ++raCount;
  store<u32>(raAddr(e), acct, RA_ACCT);
  store<u32>(raSlots + (<usize>i << 2), e);
  return e;
}

@inline function posHash(acct: u32, sym: u32): u32 {
  return mix32(((<u64>acct << 32) | <u64>sym) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & rpMask;
}

/** The (account, symbol) position entry, or 0. */
export function posFind(acct: u32, sym: u32): u32 {
  let i = posHash(acct, sym);
  while (true) {
    const e = load<u32>(rpSlots + (<usize>i << 2));
    if (e == 0) return 0;
    const a = rpAddr(e);
    if (load<u32>(a, RP_ACCT) == acct && load<u32>(a, RP_SYM) == sym) return e;
    i = (i + 1) & rpMask;
  }
  return 0;
}

/** The (account, symbol) position entry, created (with the account's) if needed; 0 when full. */
export function posGet(acct: u32, sym: u32): u32 {
  let i = posHash(acct, sym);
  while (true) {
    const e = load<u32>(rpSlots + (<usize>i << 2));
    if (e == 0) break;
    const a = rpAddr(e);
    if (load<u32>(a, RP_ACCT) == acct && load<u32>(a, RP_SYM) == sym) return e;
    i = (i + 1) & rpMask;
  }
  if (rpCount >= rpCap) return 0;
  const ae = accGet(acct);
  if (ae == 0) return 0;
  const e = ++rpCount;
  const a = rpAddr(e);
  store<u32>(a, acct, RP_ACCT);
  store<u32>(a, sym, RP_SYM);
  store<u32>(a, ae, RP_AE);
  store<u32>(rpSlots + (<usize>i << 2), e);
  return e;
}

// ── checks ─────────────────────────────────────────────────────────────────────────────────
/** price × qty < bound, without overflow (price > 0). */
@inline function notionalBelow(price: i64, qty: u32, bound: u64): bool {
  // p·q < b  ⇔  p < ceil(b / q)
  const q = <u64>qty;
  return <u64>price < (bound + q - 1) / q;
}

/** price × qty > bound, without overflow (price > 0). */
@inline function notionalAbove(price: i64, qty: u32, bound: u64): bool {
  return <u64>price > bound / <u64>qty; // p·q > b  ⇔  p > floor(b / q)
}

/** d = ⌊ref × bps / 10000⌋ without overflow (ref > 0, bps ≤ 10000, so d ≤ ref). */
@inline function collarHalfWidth(r: u64, bps: u32): u64 {
  return (r / 10000) * <u64>bps + ((r % 10000) * <u64>bps) / 10000;
}

/** Whether `price` lies outside the collar of `bps` around `ref` (ref > 0). */
@inline function outsideCollar(price: i64, ref: i64, bps: u32): bool {
  const r = <u64>ref;
  const d = collarHalfWidth(r, bps);
  const lo: i64 = d >= r ? 0 : <i64>(r - d);
  const hi: u64 = r + d; // ≤ 2·(2^63-1)·… fits u64 since bps ≤ 10000
  return price < lo || <u64>price > hi;
}

/**
 * Market-order protection (rule 6 for market orders): the band a market order on `side` may
 * trade in, around the last trade (seeded with the reference price), else the mid when both sides
 * rest, else the best opposite price. Returns `price_collar` when the best opposite price already
 * lies outside the band, else 0 with the band in [mktLo, mktHi] (the whole range when the symbol
 * has no collar or nothing rests on the opposite side).
 */
@inline function marketBand(sym: u32, side: u32, bestBid: i64, bestAsk: i64): u32 {
  mktLo = 0;
  mktHi = i64.MAX_VALUE;
  const rs = rsAddr(sym);
  const bps = load<u32>(rs, RS_COLLAR);
  const opp = side == 0 ? bestAsk : bestBid;
  if (bps == 0 || opp <= 0) return 0;
  let ref = load<i64>(rs, RS_LAST);
  if (ref <= 0) ref = bestBid > 0 && bestAsk > 0 ? bestBid + ((bestAsk - bestBid) >> 1) : opp;
  const r = <u64>ref;
  const d = collarHalfWidth(r, bps);
  const lo: i64 = d >= r ? 0 : <i64>(r - d);
  const hi: i64 = r + d > <u64>i64.MAX_VALUE ? i64.MAX_VALUE : <i64>(r + d);
  if (opp < lo || opp > hi) return 18; // price_collar
  mktLo = lo;
  mktHi = hi;
  return 0;
}

/**
 * Collar reference price for a limit order at `price` on `side`: the last trade (seeded with the
 * instrument's reference price before the first trade), else the mid (floor) when both sides
 * rest, else — for an order that would trade on arrival — the best opposite price, else 0 (no
 * collar: the order rests on a one-sided or empty book without trading).
 */
@inline function collarRef(sym: u32, side: u32, price: i64, bestBid: i64, bestAsk: i64): i64 {
  const last = load<i64>(rsAddr(sym), RS_LAST);
  if (last > 0) return last;
  if (bestBid > 0 && bestAsk > 0) return bestBid + ((bestAsk - bestBid) >> 1);
  if (side == 0) return bestAsk > 0 && price >= bestAsk ? bestAsk : 0;
  return bestBid > 0 && price <= bestBid ? bestBid : 0;
}

@inline function killed(ae: u32): bool {
  return killAll || (ae != 0 && load<u32>(raAddr(ae), RA_KILLED) != 0);
}

@inline function maxPosOf(ae: u32, sym: u32): u64 {
  const own = ae != 0 ? load<u64>(raAddr(ae), RA_MAX_POS) : 0;
  return own != 0 ? own : load<u64>(rsAddr(sym), RS_MAX_POS);
}

/** Whether adding `add` lots on `side` breaks the position limit (projected: position + open + add). */
@inline function positionBreaks(pe: u32, ae: u32, sym: u32, side: u32, add: u64): bool {
  const lim = maxPosOf(ae, sym);
  if (lim == 0) return false;
  let pos: i64 = 0;
  let open: u64 = 0;
  if (pe != 0) {
    const a = rpAddr(pe);
    pos = load<i64>(a, RP_POS);
    open = load<u64>(a + (<usize>side << 3), RP_OPEN);
  }
  // buy: pos + openBuy + add; sell: openSell + add − pos (the short side)
  const exposure: i64 = side == 0 ? pos + <i64>(open + add) : <i64>(open + add) - pos;
  return exposure > <i64>lim;
}

/**
 * The checks new orders and modifies share, in their order: kill switches, halt, quantity limits,
 * notional at `px` (skipped when px ≤ 0: a market order into an empty side), the collar for
 * `collarPx` (0 = not collared). Returns a reject reason or 0.
 */
@inline function orderChecks(sym: u32, side: u32, ae: u32, qty: u32, px: i64, collarPx: i64, bestBid: i64, bestAsk: i64): u32 {
  const rs = rsAddr(sym);
  if (killed(ae)) return 14; // kill_switch
  if (load<u32>(rs, RS_STATUS) != 0) return 13; // halted
  const maxQty = load<u32>(rs, RS_MAX_QTY);
  if (qty < load<u32>(rs, RS_MIN_QTY) || (maxQty != 0 && qty > maxQty)) return 15; // qty_limit
  if (px > 0) {
    const minN = load<u64>(rs, RS_MIN_NOTIONAL);
    if (minN != 0 && notionalBelow(px, qty, minN)) return 16; // min_notional
    const maxN = load<u64>(rs, RS_MAX_NOTIONAL);
    if (maxN != 0 && notionalAbove(px, qty, maxN)) return 17; // max_notional
  }
  const bps = load<u32>(rs, RS_COLLAR);
  if (collarPx > 0 && bps != 0) {
    const ref = collarRef(sym, side, collarPx, bestBid, bestAsk);
    if (ref > 0 && outsideCollar(collarPx, ref, bps)) return 18; // price_collar
  }
  return 0;
}

/**
 * Checks a new order (validation already passed). `pe` is the (account, symbol) position entry
 * or 0, `rests` whether it can rest (GTC / post-only limit). Returns a reject reason or 0; for an
 * accepted market order, [mktLo, mktHi] is the band it may trade in.
 */
export function riskCheckNew(sym: u32, side: u32, market: bool, price: i64, qty: u32, acct: u32, pe: u32, rests: bool,
  bestBid: i64, bestAsk: i64): u32 {
  const ae = pe != 0 ? load<u32>(rpAddr(pe), RP_AE) : accFind(acct);
  // market orders: notional at the best opposite price; the collar as a band on their fills
  const r = orderChecks(sym, side, ae, qty, market ? (side == 0 ? bestAsk : bestBid) : price, market ? 0 : price, bestBid, bestAsk);
  if (r != 0) return r;
  if (market) {
    const m = marketBand(sym, side, bestBid, bestAsk);
    if (m != 0) return m;
  }
  if (rests) {
    const own = ae != 0 ? load<u32>(raAddr(ae), RA_MAX_OPEN) : 0;
    const lim = own != 0 ? own : defMaxOpen;
    if (lim != 0 && ae != 0 && load<u32>(raAddr(ae), RA_OPEN) >= lim) return 19; // max_open_orders
  }
  if (positionBreaks(pe, ae, sym, side, <u64>qty)) return 20; // max_position
  return 0;
}

/** Checks a modify of a resting order (engine checks passed). Returns a reject reason or 0. */
export function riskCheckModify(sym: u32, side: u32, acct: u32, pe: u32, oldPrice: i64, oldLeaves: u32,
  price: i64, qty: u32, bestBid: i64, bestAsk: i64): u32 {
  const ae = pe != 0 ? load<u32>(rpAddr(pe), RP_AE) : accFind(acct);
  // the collar only when the price changes; the position only for an increase
  const r = orderChecks(sym, side, ae, qty, price, price != oldPrice ? price : 0, bestBid, bestAsk);
  if (r != 0) return r;
  if (qty > oldLeaves && positionBreaks(pe, ae, sym, side, <u64>(qty - oldLeaves))) return 20; // max_position
  return 0;
}

// ── accounting hooks (called by the engine only while risk is on) ──────────────────────────
/** An order of position entry `pe` starts resting with `leaves` on `side`; `counts`: a new order. */
@inline export function riskRest(pe: u32, side: u32, leaves: u32, counts: bool): void {
  const a = rpAddr(pe);
  const oa = a + (<usize>side << 3) + RP_OPEN;
  store<u64>(oa, load<u64>(oa) + <u64>leaves);
  if (counts) {
    const aa = raAddr(load<u32>(a, RP_AE));
    store<u32>(aa, load<u32>(aa, RA_OPEN) + 1, RA_OPEN);
  }
}

/** `leaves` stop resting; `gone`: the order left the book (its open-order count ends). */
@inline export function riskUnrest(pe: u32, side: u32, leaves: u32, gone: bool): void {
  const a = rpAddr(pe);
  const oa = a + (<usize>side << 3) + RP_OPEN;
  store<u64>(oa, load<u64>(oa) - <u64>leaves);
  if (gone) riskGone(pe);
}

/** The order of `pe` left the book after its open lots were already accounted for. */
@inline export function riskGone(pe: u32): void {
  const aa = raAddr(load<u32>(rpAddr(pe), RP_AE));
  store<u32>(aa, load<u32>(aa, RA_OPEN) - 1, RA_OPEN);
}

/** A fill of `q` lots for the order of `pe` on `side`. */
@inline export function riskFill(pe: u32, side: u32, q: u32): void {
  const a = rpAddr(pe);
  const p = load<i64>(a, RP_POS);
  store<i64>(a, side == 0 ? p + <i64>q : p - <i64>q, RP_POS);
}

@inline export function riskLastTrade(sym: u32, price: i64): void { store<i64>(rsAddr(sym), price, RS_LAST); }

/** Clears every open-order count and open quantity (before rebuilding them from the books). */
export function riskClearOpen(): void {
  for (let e: u32 = 1; e <= raCount; e++) store<u32>(raAddr(e), 0, RA_OPEN);
  for (let e: u32 = 1; e <= rpCount; e++) {
    const a = rpAddr(e);
    store<u64>(a, 0, RP_OPEN);
    store<u64>(a, 0, RP_OPEN + 8);
  }
}

export function riskSymbols(): u32 { return rSymbols; }
export function riskSetKillAll(on: bool): void { killAll = on; }
