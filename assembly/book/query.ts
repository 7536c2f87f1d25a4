/**
 * Read side of the books and whole-state operations: L2 depth, L3 level orders, order lookup,
 * state hash, invariant check, snapshot (chunked) and restore, per-symbol options.
 *
 * Layout: results go to the scratch region (LEVEL / ORDER records, src/abi/records.ts) or to
 * CTRL; 64-bit arguments come in CTRL.arg0/arg1 (exports take and return 32-bit numbers only).
 * Invariants: read-only except restore/options; never called while a batch is in progress
 * (the host enforces it). Complexity: depth O(n); L3 O(level); hash/validate/snapshot O(orders
 * + levels + symbols). Allocation: none.
 * Known limitations: restore expects orders in the canonical (snapshot) order so that time
 * priority inside a level is reproduced.
 */
import {
  LEVEL_SIZE, LEVEL_PRICE, LEVEL_QTY, LEVEL_COUNT,
  ORDER_SIZE, ORDER_SYMBOL, ORDER_SIDE, ORDER_PRICE, ORDER_ID, ORDER_LEAVES, ORDER_ACCOUNT, ORDER_FILLED,
  CTRL_ARG0, CTRL_ARG1, CTRL_HASH, CTRL_TRADE_SEQ, SIDE_BUY, STP_CANCEL_BOTH, POOL_ORDERS,
} from '../abi/records';
import { poolCap, poolInUse, poolHigh, poolFreeLen, poolAlloc, poolFull } from '../mem/pool';
import { ctrl, scratch, SCRATCH_BYTES } from './engine';
import {
  nSym, orderPool, levelPool, oAddr, lAddr, bAddr, L_LADDER,
  O_ID, O_PRICE, O_FILLED, O_LEAVES, O_ACCT, O_SYM, O_PREV, O_NEXT, O_LEVEL, O_SIDE, O_RPOS, O_TAG,
  L_PRICE, L_TOTAL, L_COUNT, L_HEAD, L_TAIL, L_PREV, L_NEXT,
  B_BEST, B_STP, B_BAND, B_BLO, B_BHI, B_ORDERS, B_LEVELS,
} from './nodes';
import { indexFind, indexFindIn } from './id-index';
import { hashKey } from './hash';
import { levelFind } from './level-index';
import { treapFind } from './treap';
import { ldAddr, ldPos, ldSlot, ldWidth } from './ladder';
import { restOrder } from './link';
import { tradeSeq, setTradeSeq } from './match';
import { riskOn, killAll, defMaxOpen, raCount, rpCount, rsAddr, raAddr, rpAddr } from './risk';

@inline function writeOrder(dst: usize, o: u32): void {
  const a = oAddr(o);
  store<u32>(dst, load<u32>(a, O_SYM), ORDER_SYMBOL);
  store<u8>(dst, <u8>load<u32>(a, O_SIDE), ORDER_SIDE);
  store<u8>(dst, 0, ORDER_SIDE + 1);
  store<u16>(dst, 0, ORDER_SIDE + 2);
  store<i64>(dst, load<i64>(a, O_PRICE), ORDER_PRICE);
  store<u64>(dst, load<u64>(a, O_ID), ORDER_ID);
  store<u32>(dst, load<u32>(a, O_LEAVES), ORDER_LEAVES);
  store<u32>(dst, load<u32>(a, O_ACCT), ORDER_ACCOUNT);
  store<u64>(dst, load<u64>(a, O_FILLED), ORDER_FILLED);
}

/** Top `n` levels of one side into scratch as LEVEL records. Returns the count, -1 bad args. */
export function bookDepth(sym: u32, side: u32, n: u32): i32 {
  if (sym >= nSym || side > 1) return -1;
  const max = SCRATCH_BYTES / LEVEL_SIZE;
  if (n > max) n = max;
  let lv = load<u32>(bAddr(sym) + (<usize>side << 2), B_BEST);
  let k: u32 = 0;
  while (lv != 0 && k < n) {
    const la = lAddr(lv);
    const d = scratch + <usize>k * LEVEL_SIZE;
    store<i64>(d, load<i64>(la, L_PRICE), LEVEL_PRICE);
    store<u64>(d, load<u64>(la, L_TOTAL), LEVEL_QTY);
    store<u32>(d, load<u32>(la, L_COUNT), LEVEL_COUNT);
    store<u32>(d, 0, LEVEL_COUNT + 4);
    k++;
    lv = load<u32>(la, L_NEXT);
  }
  return <i32>k;
}

/** Orders at price CTRL.arg0 (time priority), skipping `offset`, at most `max`, as ORDER records. */
export function bookLevelOrders(sym: u32, side: u32, offset: u32, max: u32): i32 {
  if (sym >= nSym || side > 1) return -1;
  const lim = SCRATCH_BYTES / ORDER_SIZE;
  if (max > lim) max = lim;
  const lv = levelFind(sym, side, load<i64>(ctrl, CTRL_ARG0));
  if (lv == 0) return 0;
  let o = load<u32>(lAddr(lv), L_HEAD);
  while (o != 0 && offset > 0) { o = load<u32>(oAddr(o), O_NEXT); offset--; }
  let k: u32 = 0;
  while (o != 0 && k < max) {
    writeOrder(scratch + <usize>k * ORDER_SIZE, o);
    k++;
    o = load<u32>(oAddr(o), O_NEXT);
  }
  return <i32>k;
}

/** Looks up resting order (sym, id = CTRL.arg0); writes one ORDER record to scratch. 1 found, 0 not. */
export function bookOrder(sym: u32): i32 {
  if (sym >= nSym) return 0;
  const o = indexFindIn(sym, load<u64>(ctrl, CTRL_ARG0));
  if (o == 0) return 0;
  writeOrder(scratch, o);
  return 1;
}

export function bookOrderCount(sym: u32): i32 { return sym < nSym ? <i32>load<u32>(bAddr(sym), B_ORDERS) : -1; }
export function bookLevelCount(sym: u32, side: u32): i32 {
  return sym < nSym && side < 2 ? <i32>load<u32>(bAddr(sym) + (<usize>side << 2), B_LEVELS) : -1;
}

// ── options ────────────────────────────────────────────────────────────────────────────────
export function bookSetStp(sym: u32, mode: u32): i32 {
  if (sym >= nSym || mode > STP_CANCEL_BOTH) return -1;
  store<u32>(bAddr(sym), mode, B_STP);
  return 0;
}
export function bookGetStp(sym: u32): i32 { return sym < nSym ? <i32>load<u32>(bAddr(sym), B_STP) : -1; }

/** Price band [CTRL.arg0, CTRL.arg1] for limit prices; on = 0 turns it off. */
export function bookSetBand(sym: u32, on: u32): i32 {
  if (sym >= nSym) return -1;
  const b = bAddr(sym);
  if (on == 0) { store<u32>(b, 0, B_BAND); store<i64>(b, 0, B_BLO); store<i64>(b, 0, B_BHI); return 0; }
  const lo = load<i64>(ctrl, CTRL_ARG0);
  const hi = load<i64>(ctrl, CTRL_ARG1);
  if (lo <= 0 || hi < lo) return -1;
  store<u32>(b, 1, B_BAND); store<i64>(b, lo, B_BLO); store<i64>(b, hi, B_BHI);
  return 0;
}
/** Band into CTRL.arg0/arg1; returns 1 if on. */
export function bookGetBand(sym: u32): i32 {
  if (sym >= nSym) return -1;
  const b = bAddr(sym);
  store<i64>(ctrl, load<i64>(b, B_BLO), CTRL_ARG0);
  store<i64>(ctrl, load<i64>(b, B_BHI), CTRL_ARG1);
  return <i32>load<u32>(b, B_BAND);
}

// ── trade sequence ─────────────────────────────────────────────────────────────────────────
export function engineGetTradeSeq(): void { store<u64>(ctrl, tradeSeq, CTRL_TRADE_SEQ); }
export function engineSetTradeSeq(): void { setTradeSeq(load<u64>(ctrl, CTRL_TRADE_SEQ)); }

// ── allocator statistics ───────────────────────────────────────────────────────────────────
@inline function poolOf(p: u32): usize { return p == POOL_ORDERS ? orderPool : levelPool; }
export function poolStatCapacity(p: u32): u32 { return poolCap(poolOf(p)); }
export function poolStatInUse(p: u32): u32 { return poolInUse(poolOf(p)); }
export function poolStatHighWater(p: u32): u32 { return poolHigh(poolOf(p)); }
export function poolStatFreeList(p: u32): u32 { return poolFreeLen(poolOf(p)); }

// ── state hash ─────────────────────────────────────────────────────────────────────────────
let hacc: u64 = 0;
@inline function hmix(v: u64): void {
  hacc ^= v;
  hacc *= 0x9E3779B97F4A7C15;
  hacc ^= hacc >> 29;
}

/**
 * Deterministic hash of the logical state (symbols, options, trade sequence, every resting order
 * in canonical order with side, price, id, leaves, account, filled) into CTRL.hash. Independent of
 * node placement, so a restored engine hashes equal to the original.
 */
export function engineStateHash(): void {
  hacc = 0xcbf29ce484222325;
  hmix(<u64>nSym);
  hmix(tradeSeq);
  for (let s: u32 = 0; s < nSym; s++) {
    const b = bAddr(s);
    const stp = load<u32>(b, B_STP);
    const band = load<u32>(b, B_BAND);
    const cnt = load<u32>(b, B_ORDERS);
    if (stp == 0 && band == 0 && cnt == 0) continue;
    hmix(<u64>s | (<u64>stp << 32) | (<u64>band << 40));
    if (band != 0) { hmix(<u64>load<i64>(b, B_BLO)); hmix(<u64>load<i64>(b, B_BHI)); }
    for (let side: u32 = 0; side < 2; side++) {
      let lv = load<u32>(b + (<usize>side << 2), B_BEST);
      while (lv != 0) {
        const la = lAddr(lv);
        let o = load<u32>(la, L_HEAD);
        while (o != 0) {
          const a = oAddr(o);
          hmix(<u64>side);
          hmix(<u64>load<i64>(a, O_PRICE));
          hmix(load<u64>(a, O_ID));
          hmix(<u64>load<u32>(a, O_LEAVES) | (<u64>load<u32>(a, O_ACCT) << 32));
          hmix(load<u64>(a, O_FILLED));
          o = load<u32>(a, O_NEXT);
        }
        lv = load<u32>(la, L_NEXT);
      }
    }
  }
  if (riskOn) {
    // risk settings and accounting, entries in creation order (deterministic for a command sequence)
    hmix(<u64>(killAll ? 1 : 0) | (<u64>defMaxOpen << 8));
    for (let s: u32 = 0; s < nSym; s++) {
      const a = rsAddr(s);
      for (let k: usize = 0; k < 48; k += 8) hmix(load<u64>(a + k));
    }
    for (let e: u32 = 1; e <= raCount; e++) {
      const a = raAddr(e);
      hmix(load<u64>(a)); hmix(load<u64>(a, 8)); hmix(load<u64>(a, 16));
    }
    for (let e: u32 = 1; e <= rpCount; e++) {
      const a = rpAddr(e);
      hmix(load<u64>(a)); hmix(load<u64>(a, 16)); hmix(load<u64>(a, 24)); hmix(load<u64>(a, 32));
    }
  }
  store<u64>(ctrl, hacc, CTRL_HASH);
}

// ── invariants ─────────────────────────────────────────────────────────────────────────────
/** Checks every structural invariant. 0 = sound; otherwise the code of the first violation. */
export function engineValidate(): i32 {
  let orders: u32 = 0;
  let levels: u32 = 0;
  for (let s: u32 = 0; s < nSym; s++) {
    const b = bAddr(s);
    let symOrders: u32 = 0;
    for (let side: u32 = 0; side < 2; side++) {
      let lv = load<u32>(b + (<usize>side << 2), B_BEST);
      let prevLv: u32 = 0;
      let nLv: u32 = 0;
      let ladderLevels: u32 = 0;
      while (lv != 0) {
        const la = lAddr(lv);
        if (load<u32>(la, L_PREV) != prevLv) return 1; // list links
        const p = load<i64>(la, L_PRICE);
        if (p <= 0) return 2;
        if (prevLv != 0) {
          const pp = load<i64>(lAddr(prevLv), L_PRICE);
          if (side == SIDE_BUY ? p >= pp : p <= pp) return 3; // ordering
        }
        if (levelFind(s, side, p) != lv) return 4; // level index reaches it
        if (load<u32>(la, L_LADDER) != 0) {
          const ld = ldAddr(s, side);
          const pos = ldPos(ld, p);
          if (pos < 0 || (load<u64>(ld + 16 + (<usize>(pos >> 6) << 3)) & (<u64>1 << <u64>(pos & 63))) == 0) return 18; // ladder bit
          if (load<u32>(ldSlot(ld, pos)) != lv) return 18; // ladder slot
          ladderLevels++;
        } else if (treapFind(b, side, p) != lv) return 19; // treap reaches it
        let o = load<u32>(la, L_HEAD);
        let prevO: u32 = 0;
        let total: u64 = 0;
        let cnt: u32 = 0;
        while (o != 0) {
          const a = oAddr(o);
          if (load<u32>(a, O_PREV) != prevO) return 5; // order FIFO links
          if (load<u32>(a, O_LEVEL) != lv || load<u32>(a, O_SIDE) != side || load<u32>(a, O_SYM) != s) return 6;
          if (load<i64>(a, O_PRICE) != p) return 7;
          const l = load<u32>(a, O_LEAVES);
          if (l == 0) return 8;
          if (indexFind(load<u64>(a, O_ID)) != o) return 9; // indexed once, reachable, id engine-wide unique
          if (load<u32>(a, O_TAG) != hashKey(load<u64>(a, O_ID))) return 9; // its tag
          total += <u64>l;
          cnt++;
          prevO = o;
          o = load<u32>(a, O_NEXT);
        }
        if (load<u32>(la, L_TAIL) != prevO) return 10;
        if (cnt == 0 || cnt != load<u32>(la, L_COUNT)) return 11;
        if (total != load<u64>(la, L_TOTAL)) return 12;
        symOrders += cnt;
        nLv++;
        prevLv = lv;
        lv = load<u32>(la, L_NEXT);
      }
      if (nLv != load<u32>(b + (<usize>side << 2), B_LEVELS)) return 13;
      // ladder bits = ladder levels, summary consistent with the words
      const ld = ldAddr(s, side);
      let bits: u32 = 0;
      let sum: u64 = 0;
      for (let w: u32 = 0; w < <u32>ldWidth >> 6; w++) {
        const v = load<u64>(ld + 16 + (<usize>w << 3));
        bits += <u32>popcnt(v);
        if (v != 0) sum |= <u64>1 << <u64>w;
      }
      if (bits != ladderLevels || sum != load<u64>(ld, 8)) return 20;
      let slots: u32 = 0;
      for (let i: i32 = 0; i < ldWidth; i++) if (load<u32>(ldSlot(ld, i)) != 0) slots++;
      if (slots != ladderLevels) return 20; // a slot without its level
      levels += nLv;
    }
    if (symOrders != load<u32>(b, B_ORDERS)) return 14;
    orders += symOrders;
    const bb = load<u32>(b, B_BEST);
    const ba = load<u32>(b, B_BEST + 4);
    if (bb != 0 && ba != 0 && load<i64>(lAddr(bb), L_PRICE) >= load<i64>(lAddr(ba), L_PRICE)) return 15; // crossed
  }
  if (orders != poolInUse(orderPool)) return 16;
  if (levels != poolInUse(levelPool)) return 17;
  return 0;
}

// ── snapshot / restore ─────────────────────────────────────────────────────────────────────
let snSym: u32 = 0;
let snSide: u32 = 0;
let snLevel: u32 = 0;
let snOrder: u32 = 0;

function snapSeek(): void {
  // precondition: snOrder == 0; moves to the first order of the next non-empty level
  while (snSym < nSym) {
    snLevel = snLevel == 0 ? load<u32>(bAddr(snSym) + (<usize>snSide << 2), B_BEST) : load<u32>(lAddr(snLevel), L_NEXT);
    if (snLevel != 0) { snOrder = load<u32>(lAddr(snLevel), L_HEAD); return; }
    if (snSide == 0) snSide = 1; else { snSide = 0; snSym++; }
  }
}

/** Starts a snapshot walk over all resting orders in canonical order. */
export function bookSnapBegin(): void {
  snSym = 0; snSide = 0; snLevel = 0; snOrder = 0;
  snapSeek();
}

/** Writes up to `max` ORDER records of the walk to scratch; returns the count (0 = finished). */
export function bookSnapNext(max: u32): i32 {
  const lim = SCRATCH_BYTES / ORDER_SIZE;
  if (max > lim) max = lim;
  let k: u32 = 0;
  while (k < max && snOrder != 0) {
    writeOrder(scratch + <usize>k * ORDER_SIZE, snOrder);
    k++;
    snOrder = load<u32>(oAddr(snOrder), O_NEXT);
    if (snOrder == 0) snapSeek();
  }
  return <i32>k;
}

/**
 * Re-inserts `n` ORDER records from scratch as resting orders (appended at the back of their
 * levels, no matching). Returns 0, or -(index+1) of the first bad record (bad symbol/side,
 * price ≤ 0, leaves 0, an id already resting in any symbol, pool full). Run engineValidate afterwards for crossing.
 */
export function bookRestoreOrders(n: u32): i32 {
  const lim = SCRATCH_BYTES / ORDER_SIZE;
  if (n > lim) return -(<i32>lim + 1);
  for (let i: u32 = 0; i < n; i++) {
    const r = scratch + <usize>i * ORDER_SIZE;
    const sym = load<u32>(r, ORDER_SYMBOL);
    const side = <u32>load<u8>(r, ORDER_SIDE);
    const price = load<i64>(r, ORDER_PRICE);
    const id = load<u64>(r, ORDER_ID);
    const leaves = load<u32>(r, ORDER_LEAVES);
    if (sym >= nSym || side > 1 || price <= 0 || leaves == 0 || indexFind(id) != 0 || poolFull(orderPool)) {
      return -(<i32>i + 1);
    }
    const o = poolAlloc(orderPool);
    const a = oAddr(o);
    store<u64>(a, id, O_ID);
    store<i64>(a, price, O_PRICE);
    store<u64>(a, load<u64>(r, ORDER_FILLED), O_FILLED);
    store<u32>(a, leaves, O_LEAVES);
    store<u32>(a, load<u32>(r, ORDER_ACCOUNT), O_ACCT);
    store<u32>(a, sym, O_SYM);
    store<u32>(a, side, O_SIDE);
    store<u32>(a, 0, O_RPOS); // riskRebuild links it when risk is on
    restOrder(bAddr(sym), o, hashKey(id));
  }
  return 0;
}

