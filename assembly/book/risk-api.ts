/**
 * Exports of pre-trade risk (book/risk.ts): settings, queries, snapshot walk, restore, rebuild and
 * the consistency check against the books.
 *
 * Layout: 64-bit arguments and results travel through CTRL (arg0..arg5); see each function.
 * Invariants: never called while a batch is in progress (the host enforces it); settings only
 * change through these calls (start-up configuration, restore) or ADMIN commands (sequenced).
 * Complexity: O(1) per call except rebuild/validate (O(orders + entries)). Allocation: none.
 * Known limitations: entries are never removed (an account or position stays once seen).
 */
import { CTRL_ARG0, CTRL_ARG1, CTRL_ARG2, CTRL_ARG3, CTRL_ARG4 } from '../abi/records';
import { ctrl } from './engine';
import { nSym, oAddr, lAddr, bAddr, B_BEST, L_HEAD, L_NEXT, O_NEXT, O_ACCT, O_LEAVES, O_RPOS } from './nodes';
import {
  riskOn, killAll, defMaxOpen, raCount, rpCount, rsAddr, raAddr, rpAddr, accFind, accGet, posFind, posGet, riskRest,
  riskClearOpen, riskSetKillAll, RS_STATUS, RS_MIN_QTY, RS_MAX_QTY, RS_COLLAR, RS_MIN_NOTIONAL, RS_MAX_NOTIONAL,
  RS_MAX_POS, RS_LAST, RA_ACCT, RA_OPEN, RA_MAX_OPEN, RA_KILLED, RA_MAX_POS, RP_ACCT, RP_SYM, RP_POS, RP_OPEN,
} from './risk';

// ── walk over every resting order (symbol, side, level, FIFO order) ──────────────────────
let wSym: u32 = 0;
let wSide: u32 = 0;
let wLv: u32 = 0;

/** Moves to the first order of the next non-empty level at or after (wSym, wSide, after wLv). */
function walkSeek(): u32 {
  while (wSym < nSym) {
    wLv = wLv == 0 ? load<u32>(bAddr(wSym) + (<usize>wSide << 2), B_BEST) : load<u32>(lAddr(wLv), L_NEXT);
    if (wLv != 0) return load<u32>(lAddr(wLv), L_HEAD);
    if (wSide == 0) wSide = 1; else { wSide = 0; wSym++; }
  }
  return 0;
}

/** The first resting order (0 when none); `wSym`/`wSide` name its symbol and side. */
function firstOrder(): u32 {
  wSym = 0; wSide = 0; wLv = 0;
  return walkSeek();
}

/** The resting order after `o` in the walk, or 0. */
function nextOrder(o: u32): u32 {
  const n = load<u32>(oAddr(o), O_NEXT);
  return n != 0 ? n : walkSeek();
}

/** 1 when risk is on. */
export function riskEnabled(): u32 { return riskOn ? 1 : 0; }
export function riskDefaultMaxOpen(): u32 { return defMaxOpen; }
export function riskGetKillAll(): u32 { return killAll ? 1 : 0; }
export function riskKillAll(on: u32): i32 {
  if (!riskOn || on > 1) return -1;
  riskSetKillAll(on != 0);
  return 0;
}

/**
 * Symbol settings: status (0 trading, 1 halted), minQty, maxQty (0 none), collarBps (0 none, ≤
 * 10000); CTRL arg0 minNotional, arg1 maxNotional (0 none), arg2 maxPosition (0 none), arg3 last
 * trade price (collar reference; 0 none). Returns 0 or -1.
 */
export function riskSetSymbol(sym: u32, status: u32, minQty: u32, maxQty: u32, collarBps: u32): i32 {
  if (!riskOn || sym >= nSym || status > 1 || collarBps > 10000 || (maxQty != 0 && minQty > maxQty)) return -1;
  const minN = load<i64>(ctrl, CTRL_ARG0);
  const maxN = load<i64>(ctrl, CTRL_ARG1);
  const maxP = load<i64>(ctrl, CTRL_ARG2);
  const last = load<i64>(ctrl, CTRL_ARG3);
  if (minN < 0 || maxN < 0 || maxP < 0 || last < 0) return -1;
  const a = rsAddr(sym);
  store<u32>(a, status, RS_STATUS);
  store<u32>(a, minQty, RS_MIN_QTY);
  store<u32>(a, maxQty, RS_MAX_QTY);
  store<u32>(a, collarBps, RS_COLLAR);
  store<u64>(a, <u64>minN, RS_MIN_NOTIONAL);
  store<u64>(a, <u64>maxN, RS_MAX_NOTIONAL);
  store<u64>(a, <u64>maxP, RS_MAX_POS);
  store<i64>(a, last, RS_LAST);
  return 0;
}

/** The symbol's settings into CTRL as riskSetSymbol takes them, plus arg4 = minQty | maxQty << 32; returns status | collar << 8, or -1. */
export function riskGetSymbol(sym: u32): i32 {
  if (!riskOn || sym >= nSym) return -1;
  const a = rsAddr(sym);
  store<u64>(ctrl, load<u64>(a, RS_MIN_NOTIONAL), CTRL_ARG0);
  store<u64>(ctrl, load<u64>(a, RS_MAX_NOTIONAL), CTRL_ARG1);
  store<u64>(ctrl, load<u64>(a, RS_MAX_POS), CTRL_ARG2);
  store<i64>(ctrl, load<i64>(a, RS_LAST), CTRL_ARG3);
  store<u64>(ctrl, <u64>load<u32>(a, RS_MIN_QTY) | (<u64>load<u32>(a, RS_MAX_QTY) << 32), CTRL_ARG4);
  return <i32>(load<u32>(a, RS_STATUS) | (load<u32>(a, RS_COLLAR) << 8));
}

/** Account settings: maxOpen (0 = the default), killed (0/1); CTRL arg0 maxPosition (0 = the symbol's). 0, -1 bad, -2 table full. */
export function riskSetAccount(acct: u32, maxOpen: u32, killed: u32): i32 {
  const maxP = load<i64>(ctrl, CTRL_ARG0);
  if (!riskOn || killed > 1 || maxP < 0) return -1;
  const e = accGet(acct);
  if (e == 0) return -2;
  const a = raAddr(e);
  store<u32>(a, maxOpen, RA_MAX_OPEN);
  store<u32>(a, killed, RA_KILLED);
  store<u64>(a, <u64>maxP, RA_MAX_POS);
  return 0;
}

export function riskAccountCount(): u32 { return riskOn ? raCount : 0; }
export function riskPositionCount(): u32 { return riskOn ? rpCount : 0; }
export function riskFindAccount(acct: u32): u32 { return riskOn ? accFind(acct) : 0; }
export function riskFindPosition(acct: u32, sym: u32): u32 { return riskOn ? posFind(acct, sym) : 0; }

/** Account entry `e` (1..count) into CTRL: arg0 account, arg1 open orders, arg2 maxOpen, arg3 killed, arg4 maxPosition. 0 or -1. */
export function riskAccountAt(e: u32): i32 {
  if (!riskOn || e == 0 || e > raCount) return -1;
  const a = raAddr(e);
  store<u64>(ctrl, <u64>load<u32>(a, RA_ACCT), CTRL_ARG0);
  store<u64>(ctrl, <u64>load<u32>(a, RA_OPEN), CTRL_ARG1);
  store<u64>(ctrl, <u64>load<u32>(a, RA_MAX_OPEN), CTRL_ARG2);
  store<u64>(ctrl, <u64>load<u32>(a, RA_KILLED), CTRL_ARG3);
  store<u64>(ctrl, load<u64>(a, RA_MAX_POS), CTRL_ARG4);
  return 0;
}

/** Position entry `e` (1..count) into CTRL: arg0 account, arg1 symbol, arg2 position, arg3 open buy, arg4 open sell. 0 or -1. */
export function riskPositionAt(e: u32): i32 {
  if (!riskOn || e == 0 || e > rpCount) return -1;
  const a = rpAddr(e);
  store<u64>(ctrl, <u64>load<u32>(a, RP_ACCT), CTRL_ARG0);
  store<u64>(ctrl, <u64>load<u32>(a, RP_SYM), CTRL_ARG1);
  store<i64>(ctrl, load<i64>(a, RP_POS), CTRL_ARG2);
  store<u64>(ctrl, load<u64>(a, RP_OPEN), CTRL_ARG3);
  store<u64>(ctrl, load<u64>(a, RP_OPEN + 8), CTRL_ARG4);
  return 0;
}

/** Restore: the (account, symbol) position is CTRL arg0. 0, -1 bad, -2 table full. */
export function riskSetPosition(acct: u32, sym: u32): i32 {
  if (!riskOn || sym >= nSym) return -1;
  const e = posGet(acct, sym);
  if (e == 0) return -2;
  store<i64>(rpAddr(e), load<i64>(ctrl, CTRL_ARG0), RP_POS);
  return 0;
}

/**
 * Recomputes open-order counts and open quantities from the resting orders (after a restore) and
 * links every order to its position entry. 0, or -2 when the tables are full.
 */
export function riskRebuild(): i32 {
  if (!riskOn) return 0;
  riskClearOpen();
  for (let o = firstOrder(); o != 0; o = nextOrder(o)) {
    const a = oAddr(o);
    const pe = posGet(load<u32>(a, O_ACCT), wSym);
    if (pe == 0) return -2;
    store<u32>(a, pe, O_RPOS);
    riskRest(pe, wSide, load<u32>(a, O_LEAVES), true);
  }
  return 0;
}

/**
 * Checks the risk accounting against the books: every resting order points at the position entry
 * of its (account, symbol); open counts and open quantities equal the sums over resting orders.
 * 0 = sound, else 31 (order → entry), 32 (open quantity), 33 (open count).
 */
export function riskValidate(): i32 {
  if (!riskOn) return 0;
  // first every order's entry, read-only; then subtract every resting order from the entries'
  // open figures, expect all zero, and add them back
  for (let o = firstOrder(); o != 0; o = nextOrder(o)) {
    const a = oAddr(o);
    const pe = load<u32>(a, O_RPOS);
    if (pe == 0 || pe > rpCount || load<u32>(rpAddr(pe), RP_ACCT) != load<u32>(a, O_ACCT) ||
      load<u32>(rpAddr(pe), RP_SYM) != wSym || accFind(load<u32>(a, O_ACCT)) == 0) return 31;
  }
  let bad: i32 = 0;
  for (let pass: u32 = 0; pass < 2; pass++) {
    for (let o = firstOrder(); o != 0; o = nextOrder(o)) {
      const a = oAddr(o);
      const oa = rpAddr(load<u32>(a, O_RPOS)) + (<usize>wSide << 3) + RP_OPEN;
      const l = <u64>load<u32>(a, O_LEAVES);
      store<u64>(oa, pass == 0 ? load<u64>(oa) - l : load<u64>(oa) + l);
      const aa = raAddr(accFind(load<u32>(a, O_ACCT)));
      store<u32>(aa, pass == 0 ? load<u32>(aa, RA_OPEN) - 1 : load<u32>(aa, RA_OPEN) + 1, RA_OPEN);
    }
    if (pass == 0) {
      for (let e: u32 = 1; e <= rpCount; e++) {
        const a = rpAddr(e);
        if (bad == 0 && (load<u64>(a, RP_OPEN) != 0 || load<u64>(a, RP_OPEN + 8) != 0)) bad = 32;
      }
      for (let e: u32 = 1; e <= raCount; e++) if (bad == 0 && load<u32>(raAddr(e), RA_OPEN) != 0) bad = 33;
    }
  }
  return bad;
}
