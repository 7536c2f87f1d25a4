/**
 * Matching: the taker in progress, price-time matching against the opposite side, and the
 * order commands that start it (NewOrder, CancelOrder, ModifyOrder).
 *
 * Owns: the taker state (resumable when the outbox fills mid-command), the trade sequence,
 * self-trade prevention, FOK pre-check, price bands, and the calls into pre-trade risk
 * (book/risk.ts) at accept, fill, rest and removal.
 *
 * Layout: module globals only (tk*: symbol, side, id, account, limit, market flag and price
 * range, remaining and filled qty, whether the rest rests, the modified order's own node, its
 * risk position entry); `pending` while a taker is paused.
 * Invariants: after every command best bid < best ask; filled + leaves = original qty; a taker
 * pauses only at the top of a matching step (before a fill or a self-trade cancel), with its
 * accepted/modified event already emitted; while paused (`pending`) bookRun resumes it before
 * anything else; a modified order's node
 * (`tkNode`) stays indexed but in no level until finishTaker relinks or drops it.
 * Complexity: new/cancel/modify O(1) expected plus O(log L) when a level is created or
 * removed, plus O(fills); FOK pre-check O(levels or orders it walks).
 * Allocation: none (a resting order takes a node from the order pool; capacity was checked on
 * entry).
 * Known limitations: one taker at a time (one engine per instance).
 */
import {
  CMD_SIDE, CMD_TYPE, CMD_TIF, CMD_SYMBOL, CMD_ID, CMD_PRICE, CMD_QTY, CMD_ACCOUNT,
  SIDE_BUY, ORD_TYPE_LIMIT, TIF_GTC, TIF_FOK, TIF_POST_ONLY,
  EVT_TYPE_ACCEPTED, EVT_TYPE_TRADE, EVT_TYPE_CANCELLED, EVT_TYPE_MODIFIED,
  REASON_UNKNOWN_SYMBOL, REASON_BAD_QTY, REASON_BAD_PRICE, REASON_DUPLICATE_ID, REASON_WOULD_CROSS,
  REASON_UNKNOWN_ORDER, REASON_CAPACITY, REASON_BAD_SIDE, REASON_BAD_TYPE, REASON_BAD_TIF,
  REASON_SELF_TRADE, STP_NONE, STP_CANCEL_RESTING, STP_CANCEL_INCOMING, EVT_FLAG_STP,
} from '../abi/records';
import { poolAlloc, poolFull } from '../mem/pool';
import {
  nSym, orderPool, oAddr, lAddr, bAddr,
  O_ID, O_PRICE, O_FILLED, O_LEAVES, O_ACCT, O_SYM, O_NEXT, O_LEVEL, O_SIDE, O_RPOS,
  L_PRICE, L_TOTAL, L_HEAD, L_NEXT, B_BEST, B_STP, B_BAND, B_BLO, B_BHI,
} from './nodes';
import { indexFind, indexFindIn, findTag } from './id-index';
import { linkOrder, restOrder, unlinkOrder, dropOrder, removeOrder } from './link';
import { EVT_RESERVE, outCount, outboxCap, emit, reject } from './events';
import {
  riskOn, riskCheckNew, riskCheckModify, riskRest, riskUnrest, riskGone, riskFill, riskLastTrade, posGet, posFind,
  mktLo, mktHi,
} from './risk';

export let tradeSeq: u64 = 0;
export function setTradeSeq(v: u64): void { tradeSeq = v; }

export let pending: bool = false;

// taker in progress (resumable when the outbox fills mid-command)
let tkSym: u32 = 0;
let tkSide: u32 = 0;
let tkId: u64 = 0;
let tkAcct: u32 = 0;
let tkLimit: i64 = 0;
let tkMarket: bool = false;
let tkLo: i64 = 0; // a market taker trades only at prices in [tkLo, tkHi] (market-order protection)
let tkHi: i64 = i64.MAX_VALUE;
let tkRem: u32 = 0;
let tkFilled: u64 = 0;
let tkRest: bool = false;
let tkNode: u32 = 0; // a modified order's own node, unlinked but still indexed while it matches
let tkPe: u32 = 0; // the taker's risk position entry (risk on)
let tkTag: u32 = 0; // hashKey(tkId), from the duplicate check (a new order that may rest)

/** A fresh engine: no trade yet, no taker in progress. */
@inline export function matchReset(): void { tradeSeq = 0; pending = false; tkNode = 0; }

/** X for a resting order removed by self-trade prevention. */
@inline function stpCancelMaker(bk: usize, o: u32): void {
  const a = oAddr(o);
  emit(EVT_TYPE_CANCELLED, REASON_SELF_TRADE, EVT_FLAG_STP, load<u32>(a, O_SIDE), tkSym, load<u64>(a, O_ID), 0,
    load<i64>(a, O_PRICE), load<u32>(a, O_LEAVES), 0, 0, load<u32>(a, O_ACCT), 0, 0);
  if (riskOn) riskUnrest(load<u32>(a, O_RPOS), load<u32>(a, O_SIDE), load<u32>(a, O_LEAVES), true);
  removeOrder(bk, o);
}

/** Best price of a book side, or 0. */
@inline function bestPrice(bk: usize, side: u32): i64 {
  const lv = load<u32>(bk + (<usize>side << 2), B_BEST);
  return lv == 0 ? 0 : load<i64>(lAddr(lv), L_PRICE);
}

// ── matching ───────────────────────────────────────────────────────────────────────────────
@inline function crosses(side: u32, levelPrice: i64, limit: i64): bool {
  return side == SIDE_BUY ? levelPrice <= limit : levelPrice >= limit;
}

/** Matches the taker in progress. Returns false if it paused because the outbox is full. */
export function matchLoop(): bool {
  const bk = bAddr(tkSym);
  const opp: u32 = tkSide ^ 1;
  const oppBest = bk + (<usize>opp << 2);
  const stp = load<u32>(bk, B_STP);
  while (tkRem > 0) {
    if (outCount + EVT_RESERVE > outboxCap) return false;
    const lv = load<u32>(oppBest, B_BEST);
    if (lv == 0) break;
    const la = lAddr(lv);
    const lp = load<i64>(la, L_PRICE);
    if (tkMarket ? lp < tkLo || lp > tkHi : !crosses(tkSide, lp, tkLimit)) break; // the rest is cancelled
    const o = load<u32>(la, L_HEAD);
    const a = oAddr(o);
    if (stp != STP_NONE && load<u32>(a, O_ACCT) == tkAcct) {
      if (stp != STP_CANCEL_INCOMING) stpCancelMaker(bk, o);
      if (stp != STP_CANCEL_RESTING) {
        emit(EVT_TYPE_CANCELLED, REASON_SELF_TRADE, EVT_FLAG_STP, tkSide, tkSym, tkId, 0, tkLimit, tkRem, 0, 0, tkAcct, 0, 0);
        tkRem = 0;
        tkRest = false;
      }
      continue;
    }
    const ml = load<u32>(a, O_LEAVES);
    const q = tkRem < ml ? tkRem : ml;
    tkRem -= q;
    tkFilled += <u64>q;
    if (ml != q) { // a partial fill; a filled maker is removed below (unlinking takes its leaves off the level)
      store<u32>(a, ml - q, O_LEAVES);
      store<u64>(a, load<u64>(a, O_FILLED) + <u64>q, O_FILLED);
      store<u64>(la, load<u64>(la, L_TOTAL) - <u64>q, L_TOTAL);
    }
    tradeSeq++;
    emit(EVT_TYPE_TRADE, 0, 0, tkSide, tkSym, tkId, load<u64>(a, O_ID), lp, q, tkRem, ml - q,
      tkAcct, load<u32>(a, O_ACCT), tradeSeq);
    if (riskOn) {
      const mpe = load<u32>(a, O_RPOS);
      riskFill(tkPe, tkSide, q);
      riskFill(mpe, opp, q);
      riskUnrest(mpe, opp, q, ml == q);
      riskLastTrade(tkSym, lp);
    }
    if (ml == q) removeOrder(bk, o);
  }
  return true;
}

/** Rests or cancels what is left of the taker, ending the command. */
export function finishTaker(): void {
  pending = false;
  const node = tkNode;
  tkNode = 0;
  const bk = bAddr(tkSym);
  if (tkRem == 0 || !tkRest) {
    if (tkRem > 0) emit(EVT_TYPE_CANCELLED, 0, 0, tkSide, tkSym, tkId, 0, tkLimit, tkRem, 0, 0, tkAcct, 0, 0);
    if (node != 0) {
      if (riskOn) riskGone(tkPe); // its open lots left when the modify took it out
      dropOrder(bk, node);
    }
    return;
  }
  if (node != 0) {
    // a modify that lost priority: the same node goes to the back of its (new) level
    const a = oAddr(node);
    store<i64>(a, tkLimit, O_PRICE);
    store<u64>(a, tkFilled, O_FILLED);
    store<u32>(a, tkRem, O_LEAVES);
    linkOrder(bk, node);
    if (riskOn) riskRest(tkPe, tkSide, tkRem, false);
    return;
  }
  const o = poolAlloc(orderPool); // capacity was checked on entry
  const a = oAddr(o);
  store<u64>(a, tkId, O_ID);
  store<i64>(a, tkLimit, O_PRICE);
  store<u64>(a, tkFilled, O_FILLED);
  store<u32>(a, tkRem, O_LEAVES);
  store<u32>(a, tkAcct, O_ACCT);
  store<u32>(a, tkSym, O_SYM);
  store<u32>(a, tkSide, O_SIDE);
  store<u32>(a, tkPe, O_RPOS);
  restOrder(bk, o, tkTag);
  if (riskOn) riskRest(tkPe, tkSide, tkRem, true);
}

/** Whether a FOK taker can be filled completely (self-trade prevention taken into account). */
function fokFillable(qty: u32): bool {
  const bk = bAddr(tkSym);
  const stp = load<u32>(bk, B_STP);
  let need = <u64>qty;
  let lv = load<u32>(bk + (<usize>(tkSide ^ 1) << 2), B_BEST);
  while (lv != 0) {
    const la = lAddr(lv);
    if (!tkMarket && !crosses(tkSide, load<i64>(la, L_PRICE), tkLimit)) return false;
    if (stp == STP_NONE) {
      const t = load<u64>(la, L_TOTAL);
      if (t >= need) return true;
      need -= t;
    } else {
      let o = load<u32>(la, L_HEAD);
      while (o != 0) {
        const a = oAddr(o);
        if (load<u32>(a, O_ACCT) == tkAcct) {
          if (stp != STP_CANCEL_RESTING) return false;
        } else {
          const l = <u64>load<u32>(a, O_LEAVES);
          if (l >= need) return true;
          need -= l;
        }
        o = load<u32>(a, O_NEXT);
      }
    }
    lv = load<u32>(la, L_NEXT);
  }
  return false;
}

@inline function bandRejects(bk: usize, price: i64): bool {
  return load<u32>(bk, B_BAND) != 0 && (price < load<i64>(bk, B_BLO) || price > load<i64>(bk, B_BHI));
}

export function newOrder(c: usize): void {
  const side = <u32>load<u8>(c, CMD_SIDE);
  const type = <u32>load<u8>(c, CMD_TYPE);
  const tif = <u32>load<u8>(c, CMD_TIF);
  const sym = load<u32>(c, CMD_SYMBOL);
  if (sym >= nSym) { reject(c, REASON_UNKNOWN_SYMBOL); return; }
  if (side > 1) { reject(c, REASON_BAD_SIDE); return; }
  if (type > 1) { reject(c, REASON_BAD_TYPE); return; }
  if (tif > 3 && type == ORD_TYPE_LIMIT) { reject(c, REASON_BAD_TIF); return; } // market ignores tif
  const qty = load<u32>(c, CMD_QTY);
  if (qty == 0) { reject(c, REASON_BAD_QTY); return; }
  const price = load<i64>(c, CMD_PRICE);
  const bk = bAddr(sym);
  const limit = type == ORD_TYPE_LIMIT;
  if (limit && (price <= 0 || bandRejects(bk, price))) { reject(c, REASON_BAD_PRICE); return; }
  const id = load<u64>(c, CMD_ID);
  if (indexFind(id) != 0) { reject(c, REASON_DUPLICATE_ID); return; } // resting in any symbol
  const tag = findTag;
  const rests = limit && (tif == TIF_GTC || tif == TIF_POST_ONLY);
  const acct = load<u32>(c, CMD_ACCOUNT);
  let pe: u32 = 0;
  if (riskOn) {
    pe = posFind(acct, sym);
    const r = riskCheckNew(sym, side, !limit, price, qty, acct, pe, rests, bestPrice(bk, 0), bestPrice(bk, 1));
    if (r != 0) { reject(c, r); return; }
  }
  if (limit && tif == TIF_POST_ONLY) {
    const b = load<u32>(bk + (<usize>(side ^ 1) << 2), B_BEST);
    if (b != 0 && crosses(side, load<i64>(lAddr(b), L_PRICE), price)) { reject(c, REASON_WOULD_CROSS); return; }
  }
  if (rests && poolFull(orderPool)) { reject(c, REASON_CAPACITY); return; }
  if (riskOn && pe == 0) {
    pe = posGet(acct, sym);
    if (pe == 0) { reject(c, REASON_CAPACITY); return; } // risk tables full
  }
  tkPe = pe;
  tkTag = tag;
  tkSym = sym; tkSide = side; tkId = id; tkAcct = acct;
  tkLimit = limit ? price : 0; tkMarket = !limit; tkRem = qty; tkFilled = 0; tkRest = rests; tkNode = 0;
  tkLo = 0; tkHi = i64.MAX_VALUE;
  if (riskOn && !limit) { tkLo = mktLo; tkHi = mktHi; } // set by riskCheckNew above
  emit(EVT_TYPE_ACCEPTED, 0, 0, side, sym, id, 0, tkLimit, qty, qty, 0, tkAcct, 0, 0);
  if (limit && tif == TIF_FOK && !fokFillable(qty)) {
    emit(EVT_TYPE_CANCELLED, 0, 0, side, sym, id, 0, tkLimit, qty, 0, 0, tkAcct, 0, 0);
    return;
  }
  pending = true;
  if (matchLoop()) finishTaker();
}

export function cancelOrder(c: usize): void {
  const sym = load<u32>(c, CMD_SYMBOL);
  const id = load<u64>(c, CMD_ID);
  const o = indexFindIn(sym, id); // 0 also for an unknown symbol
  if (o == 0) { reject(c, REASON_UNKNOWN_ORDER); return; }
  const a = oAddr(o);
  emit(EVT_TYPE_CANCELLED, 0, 0, load<u32>(a, O_SIDE), sym, id, 0, load<i64>(a, O_PRICE), load<u32>(a, O_LEAVES), 0, 0,
    load<u32>(a, O_ACCT), 0, 0);
  if (riskOn) riskUnrest(load<u32>(a, O_RPOS), load<u32>(a, O_SIDE), load<u32>(a, O_LEAVES), true);
  removeOrder(bAddr(sym), o);
}

export function modifyOrder(c: usize): void {
  const sym = load<u32>(c, CMD_SYMBOL);
  const id = load<u64>(c, CMD_ID);
  const o = indexFindIn(sym, id); // 0 also for an unknown symbol
  if (o == 0) { reject(c, REASON_UNKNOWN_ORDER); return; }
  const qty = load<u32>(c, CMD_QTY);
  if (qty == 0) { reject(c, REASON_BAD_QTY); return; }
  const price = load<i64>(c, CMD_PRICE);
  const bk = bAddr(sym);
  if (price <= 0 || bandRejects(bk, price)) { reject(c, REASON_BAD_PRICE); return; }
  const a = oAddr(o);
  const leaves = load<u32>(a, O_LEAVES);
  const side = load<u32>(a, O_SIDE);
  const acct = load<u32>(a, O_ACCT);
  const pe = load<u32>(a, O_RPOS);
  if (riskOn) {
    const r = riskCheckModify(sym, side, acct, pe, load<i64>(a, O_PRICE), leaves, price, qty, bestPrice(bk, 0), bestPrice(bk, 1));
    if (r != 0) { reject(c, r); return; }
  }
  emit(EVT_TYPE_MODIFIED, 0, 0, side, sym, id, 0, price, qty, qty, 0, acct, 0, 0);
  if (price == load<i64>(a, O_PRICE) && qty < leaves) {
    const la = lAddr(load<u32>(a, O_LEVEL));
    store<u64>(la, load<u64>(la, L_TOTAL) - <u64>(leaves - qty), L_TOTAL);
    store<u32>(a, qty, O_LEAVES);
    if (riskOn) riskUnrest(pe, side, leaves - qty, false);
    return;
  }
  const filled = load<u64>(a, O_FILLED);
  unlinkOrder(bk, o);
  if (riskOn) riskUnrest(pe, side, leaves, false);
  tkPe = pe;
  tkNode = o;
  tkSym = sym; tkSide = side; tkId = id; tkAcct = acct;
  tkLimit = price; tkMarket = false; tkRem = qty; tkFilled = filled; tkRest = true;
  pending = true;
  if (matchLoop()) finishTaker();
}

