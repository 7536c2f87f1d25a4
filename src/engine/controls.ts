/**
 * The engine's pre-trade controls, read and set through the WASM exports: the risk tables
 * (per-symbol limits and collar, per-account limits and kill switches, positions, the global kill
 * switch; docs/risk.md), self-trade prevention and price bands per symbol. The Engine methods of
 * the same names delegate here; runtime halts and kill switches go through ADMIN commands instead.
 *
 * Layout: 64-bit values travel through CTRL (arg0..arg4), the rest as export arguments/results.
 * Invariants: a setter checks every value before it changes anything, runs only between batches
 * (ERR_ENGINE_BUSY otherwise) and bumps the change epoch; a trap fences the instance.
 * Complexity: O(1) per call; `accountsRisk`/`positions` O(entries). Allocation: result objects.
 * Known limitations: risk queries throw ERR_ENGINE_CONFIG on an engine created without risk.
 */
import { CTRL_OFF } from '../abi/records.js';
import { EngineError } from './errors.js';
import type { BookInstance } from './instance.js';
import { toI64, u32field } from './record-codec.js';
import { STP_MODES, type AccountRisk, type PositionRisk, type RiskSetup, type StpMode, type SymbolRisk } from './types.js';

const U32_MAX = 0xffffffff;

/** Whether this engine checks pre-trade risk. */
export function riskEnabled(b: BookInstance): boolean { return b.ex.riskEnabled() === 1; }

function needRisk(b: BookInstance): void {
  if (!riskEnabled(b)) throw new EngineError('ERR_ENGINE_CONFIG', 'pre-trade risk is not enabled on this engine (EngineOptions.risk)');
}

export function symbolRisk(b: BookInstance, symbol: number): SymbolRisk {
  b.checkSymbol(symbol);
  needRisk(b);
  return b.call(() => {
    const r = b.ex.riskGetSymbol(symbol);
    b.views();
    const c = b.ctrlPtr;
    const q = b.dv.getBigUint64(c + CTRL_OFF.arg4, true);
    return {
      halted: (r & 0xff) === 1, collarBps: r >>> 8, minQty: Number(q & 0xffffffffn), maxQty: Number(q >> 32n),
      minNotional: b.dv.getBigInt64(c + CTRL_OFF.arg0, true), maxNotional: b.dv.getBigInt64(c + CTRL_OFF.arg1, true),
      maxPosition: b.dv.getBigInt64(c + CTRL_OFF.arg2, true), lastPrice: b.dv.getBigInt64(c + CTRL_OFF.arg3, true),
    };
  });
}

export function setSymbolRisk(b: BookInstance, symbol: number, change: Partial<SymbolRisk>): void {
  const r = { ...symbolRisk(b, symbol), ...change };
  for (const [k, v] of [['minQty', r.minQty], ['maxQty', r.maxQty]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > U32_MAX) throw new EngineError('ERR_ENGINE_CONFIG', `${k} must be a u32, got ${String(v)}`);
  }
  if (!Number.isInteger(r.collarBps) || r.collarBps < 0 || r.collarBps > 10000) throw new EngineError('ERR_ENGINE_CONFIG', `collarBps must be an integer in [0, 10000], got ${String(r.collarBps)}`);
  if (r.maxQty !== 0 && r.minQty > r.maxQty) throw new EngineError('ERR_ENGINE_CONFIG', `minQty ${r.minQty} above maxQty ${r.maxQty}`);
  const vals = [r.minNotional, r.maxNotional, r.maxPosition, r.lastPrice].map((v, i) => {
    const x = toI64(v, ['minNotional', 'maxNotional', 'maxPosition', 'lastPrice'][i]!);
    if (x < 0n) throw new EngineError('ERR_ENGINE_CONFIG', `${['minNotional', 'maxNotional', 'maxPosition', 'lastPrice'][i]} must not be negative`);
    return x;
  });
  b.call(() => {
    b.idle();
    b.epoch++;
    const c = b.ctrlPtr;
    b.dv.setBigInt64(c + CTRL_OFF.arg0, vals[0]!, true);
    b.dv.setBigInt64(c + CTRL_OFF.arg1, vals[1]!, true);
    b.dv.setBigInt64(c + CTRL_OFF.arg2, vals[2]!, true);
    b.dv.setBigInt64(c + CTRL_OFF.arg3, vals[3]!, true);
    if (b.ex.riskSetSymbol(symbol, r.halted ? 1 : 0, r.minQty, r.maxQty, r.collarBps) !== 0) throw new EngineError('ERR_ENGINE_CONFIG', `riskSetSymbol refused ${JSON.stringify(change, (_k, v) => typeof v === 'bigint' ? String(v) : v)}`);
  });
}

export function accountRisk(b: BookInstance, account: number): AccountRisk | null {
  needRisk(b);
  const e = b.ex.riskFindAccount(u32field(account, 'account', 0));
  return e === 0 ? null : accountAt(b, e);
}

function accountAt(b: BookInstance, e: number): AccountRisk {
  return b.call(() => {
    b.ex.riskAccountAt(e);
    b.views();
    const c = b.ctrlPtr;
    const g = (o: number): bigint => b.dv.getBigInt64(c + o, true);
    return { account: Number(g(CTRL_OFF.arg0)), openOrders: Number(g(CTRL_OFF.arg1)), maxOpenOrders: Number(g(CTRL_OFF.arg2)), killed: g(CTRL_OFF.arg3) === 1n, maxPosition: g(CTRL_OFF.arg4) };
  });
}

export function setAccountRisk(b: BookInstance, account: number, change: Partial<Pick<AccountRisk, 'maxOpenOrders' | 'killed' | 'maxPosition'>>): void {
  needRisk(b);
  const cur = accountRisk(b, account) ?? { maxOpenOrders: 0, killed: false, maxPosition: 0n };
  const r = { ...cur, ...change };
  if (!Number.isInteger(r.maxOpenOrders) || r.maxOpenOrders < 0 || r.maxOpenOrders > U32_MAX) throw new EngineError('ERR_ENGINE_CONFIG', `maxOpenOrders must be a u32, got ${String(r.maxOpenOrders)}`);
  const mp = toI64(r.maxPosition, 'maxPosition');
  if (mp < 0n) throw new EngineError('ERR_ENGINE_CONFIG', 'maxPosition must not be negative');
  b.call(() => {
    b.idle();
    b.epoch++;
    b.dv.setBigInt64(b.ctrlPtr + CTRL_OFF.arg0, mp, true);
    const rc = b.ex.riskSetAccount(account, r.maxOpenOrders, r.killed ? 1 : 0);
    if (rc === -2) throw new EngineError('ERR_ENGINE_CONFIG', `the risk tables hold ${b.riskMaxAccounts} accounts; raise risk.maxAccounts`);
    if (rc !== 0) throw new EngineError('ERR_ENGINE_CONFIG', `riskSetAccount refused account ${account}`);
  });
}

export function accountsRisk(b: BookInstance): AccountRisk[] {
  needRisk(b);
  const out: AccountRisk[] = [];
  for (let e = 1, n = b.ex.riskAccountCount(); e <= n; e++) out.push(accountAt(b, e));
  return out;
}

export function position(b: BookInstance, account: number, symbol: number): PositionRisk | null {
  needRisk(b);
  b.checkSymbol(symbol);
  const e = b.ex.riskFindPosition(u32field(account, 'account', 0), symbol);
  return e === 0 ? null : positionAt(b, e);
}

function positionAt(b: BookInstance, e: number): PositionRisk {
  return b.call(() => {
    b.ex.riskPositionAt(e);
    b.views();
    const c = b.ctrlPtr;
    const g = (o: number): bigint => b.dv.getBigInt64(c + o, true);
    return { account: Number(g(CTRL_OFF.arg0)), symbol: Number(g(CTRL_OFF.arg1)), position: g(CTRL_OFF.arg2), openBuy: g(CTRL_OFF.arg3), openSell: g(CTRL_OFF.arg4) };
  });
}

export function positions(b: BookInstance): PositionRisk[] {
  needRisk(b);
  const out: PositionRisk[] = [];
  for (let e = 1, n = b.ex.riskPositionCount(); e <= n; e++) out.push(positionAt(b, e));
  return out;
}

/** Sets one position entry (snapshot restore only; the value goes through CTRL arg0). */
export function setPosition(b: BookInstance, account: number, symbol: number, value: bigint): number {
  b.views();
  b.dv.setBigInt64(b.ctrlPtr + CTRL_OFF.arg0, value, true);
  return b.ex.riskSetPosition(account, symbol);
}

export function applyRiskSetup(b: BookInstance, setup: RiskSetup): void {
  needRisk(b);
  (setup.symbols ?? []).forEach((r, s) => { if (r) setSymbolRisk(b, s, r); });
  for (const [acct, r] of setup.accounts ?? []) setAccountRisk(b, acct, r);
  if (setup.killAll !== undefined) setKillAll(b, setup.killAll);
}

export function killAll(b: BookInstance): boolean { return riskEnabled(b) && b.ex.riskGetKillAll() === 1; }

export function setKillAll(b: BookInstance, on: boolean): void {
  needRisk(b);
  b.call(() => { b.idle(); b.epoch++; b.ex.riskKillAll(on ? 1 : 0); });
}

// ── self-trade prevention and price bands ─────────────────────────────────────────────────
export function setSelfTradePrevention(b: BookInstance, symbol: number, mode: StpMode): void {
  b.checkSymbol(symbol);
  const m = STP_MODES.indexOf(mode);
  if (m < 0) throw new EngineError('ERR_ENGINE_CONFIG', `self-trade prevention must be one of ${STP_MODES.join(', ')}`);
  b.call(() => { b.idle(); b.epoch++; b.ex.bookSetStp(symbol, m); });
}

export function selfTradePrevention(b: BookInstance, symbol: number): StpMode {
  b.checkSymbol(symbol);
  return STP_MODES[b.ex.bookGetStp(symbol)]!;
}

export function setPriceBand(b: BookInstance, symbol: number, band: { min: bigint | number; max: bigint | number } | null): void {
  b.checkSymbol(symbol);
  b.call(() => {
    b.idle();
    b.epoch++;
    if (band === null) { b.ex.bookSetBand(symbol, 0); return; }
    const lo = toI64(band.min, 'band min');
    const hi = toI64(band.max, 'band max');
    if (lo <= 0n || hi < lo) throw new EngineError('ERR_ENGINE_CONFIG', `price band needs 0 < min ≤ max, got [${lo}, ${hi}]`);
    b.dv.setBigInt64(b.ctrlPtr + CTRL_OFF.arg0, lo, true);
    b.dv.setBigInt64(b.ctrlPtr + CTRL_OFF.arg1, hi, true);
    b.ex.bookSetBand(symbol, 1);
  });
}

export function priceBand(b: BookInstance, symbol: number): { min: bigint; max: bigint } | null {
  b.checkSymbol(symbol);
  const on = b.ex.bookGetBand(symbol);
  if (on !== 1) return null;
  b.views();
  return { min: b.dv.getBigInt64(b.ctrlPtr + CTRL_OFF.arg0, true), max: b.dv.getBigInt64(b.ctrlPtr + CTRL_OFF.arg1, true) };
}
