/**
 * Engine record codecs: a `Command` object ↔ one CMD record, one EVT record → an `EngineEvent`
 * object or DESIGN's CSV event line, and the integer range checks they share with the Engine class.
 * (This is the engine's object form of its records; the wire protocols are src/codec/, and the
 * field readers of EVT records are src/abi/views.ts.)
 *
 * Layout: CMD and EVT records as defined in src/abi/records.ts (CMD_OFF, EVT_OFF).
 * Invariants: `encodeCommand` refuses (ERR_ENGINE_BAD_COMMAND) any field outside its record type's
 * range, so it never truncates; decodeCommand(encodeCommand(c)) = c for ids and prices as bigint.
 * An unknown event type is ERR_ENGINE_INVARIANT.
 * Complexity: O(1) per record. Allocation: `decodeCommand`/`decodeEvent` one object each,
 * `eventLineAt` one string (no object in between); `encodeCommand` none beyond BigInt conversion.
 * Known limitations: little-endian records only, as the WASM engine.
 */
import { CMD_OFF, ENUMS, EVT_OFF } from '../abi/records.js';
import {
  evtAccount, evtCmd, evtFlags, evtIdBig, evtLeaves, evtMakerAccount, evtMakerBig, evtMakerLeaves, evtPriceBig, evtQty, evtReason,
  evtSide, evtSymbol, evtTradeIdBig, evtType,
} from '../abi/views.js';
import type { Command, EngineEvent, EventType } from '../domain/types.js';
import { reasonName } from '../domain/types.js';
import { EngineError } from './errors.js';

const U32_MAX = 0xffffffff;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;
const EVT_TYPES: Record<number, EventType> = { 65: 'A', 82: 'R', 84: 'T', 88: 'X', 77: 'M', 75: 'K' };

// ── range checks (shared with the Engine class) ───────────────────────────────────────────
export function toU64(v: bigint | number, what: string): bigint {
  const b = typeof v === 'bigint' ? v : Number.isSafeInteger(v) ? BigInt(v) : NaN;
  if (typeof b !== 'bigint' || b < 0n || b > U64_MAX) throw new EngineError('ERR_ENGINE_BAD_COMMAND', `${what} must be an integer in [0, 2^64-1], got ${String(v)}`);
  return b;
}
export function toI64(v: bigint | number, what: string): bigint {
  const b = typeof v === 'bigint' ? v : Number.isSafeInteger(v) ? BigInt(v) : NaN;
  if (typeof b !== 'bigint' || b < I64_MIN || b > I64_MAX) throw new EngineError('ERR_ENGINE_BAD_COMMAND', `${what} must be an i64 integer, got ${String(v)}`);
  return b;
}
function u8field(v: number, what: string, idx: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new EngineError('ERR_ENGINE_BAD_COMMAND', `command ${idx}: ${what} must be a u8, got ${String(v)}`);
  return v;
}
export function u32field(v: number, what: string, idx: number): number {
  if (!Number.isInteger(v) || v < 0 || v > U32_MAX) throw new EngineError('ERR_ENGINE_BAD_COMMAND', `command ${idx}: ${what} must be a u32, got ${String(v)}`);
  return v;
}

/** Writes one command as a CMD record; throws ERR_ENGINE_BAD_COMMAND for a field out of its type's range. */
export function encodeCommand(dv: DataView, p: number, c: Command, idx = 0): void {
  dv.setUint8(p + CMD_OFF.op, u8field(c.op, 'op', idx));
  dv.setUint8(p + CMD_OFF.side, u8field(c.side, 'side', idx));
  dv.setUint8(p + CMD_OFF.type, u8field(c.type, 'type', idx));
  dv.setUint8(p + CMD_OFF.tif, u8field(c.tif, 'tif', idx));
  dv.setUint32(p + CMD_OFF.symbol, u32field(c.symbol, 'symbol', idx), true);
  dv.setBigUint64(p + CMD_OFF.id, toU64(c.id, `command ${idx}: id`), true);
  dv.setBigInt64(p + CMD_OFF.price, toI64(c.price, `command ${idx}: price`), true);
  dv.setUint32(p + CMD_OFF.qty, u32field(c.qty, 'qty', idx), true);
  dv.setUint32(p + CMD_OFF.account, u32field(c.account, 'account', idx), true);
}

export function decodeCommand(dv: DataView, p: number): Command {
  return {
    op: dv.getUint8(p + CMD_OFF.op), side: dv.getUint8(p + CMD_OFF.side), type: dv.getUint8(p + CMD_OFF.type),
    tif: dv.getUint8(p + CMD_OFF.tif), symbol: dv.getUint32(p + CMD_OFF.symbol, true),
    id: dv.getBigUint64(p + CMD_OFF.id, true), price: dv.getBigInt64(p + CMD_OFF.price, true),
    qty: dv.getUint32(p + CMD_OFF.qty, true), account: dv.getUint32(p + CMD_OFF.account, true),
  };
}

/** Reads one EVT record into an object (allocates). */
export function decodeEvent(dv: DataView, p: number): EngineEvent {
  const code = evtType(dv, p);
  const type = EVT_TYPES[code];
  if (!type) throw new EngineError('ERR_ENGINE_INVARIANT', `unknown event type ${code}`);
  const reason = evtReason(dv, p);
  return {
    type,
    symbol: evtSymbol(dv, p),
    side: evtSide(dv, p),
    id: evtIdBig(dv, p),
    maker: evtMakerBig(dv, p),
    price: evtPriceBig(dv, p),
    qty: evtQty(dv, p),
    reason: reason === 0 ? null : reasonName(reason),
    leaves: evtLeaves(dv, p),
    makerLeaves: evtMakerLeaves(dv, p),
    account: evtAccount(dv, p),
    makerAccount: evtMakerAccount(dv, p),
    tradeId: evtTradeIdBig(dv, p),
    cmd: evtCmd(dv, p),
    last: (evtFlags(dv, p) & ENUMS.EvtFlag.LAST) !== 0,
  };
}

/** Decimal text of the u64 at `p` (number arithmetic below 2^53, BigInt above). */
function u64Text(dv: DataView, p: number): string {
  const hi = dv.getUint32(p + 4, true);
  return hi < 0x200000 ? String(hi * 4294967296 + dv.getUint32(p, true)) : dv.getBigUint64(p, true).toString();
}
/** Decimal text of the i64 at `p`. */
function i64Text(dv: DataView, p: number): string {
  const hi = dv.getInt32(p + 4, true);
  return hi < 0x200000 && hi >= -0x200000 ? String(hi * 4294967296 + dv.getUint32(p, true)) : dv.getBigInt64(p, true).toString();
}

/** DESIGN's CSV line for the EVT record at `p` (no object in between). */
export function eventLineAt(dv: DataView, p: number): string {
  const t = evtType(dv, p);
  const id = u64Text(dv, p + EVT_OFF.id);
  switch (t) {
    case 65: return 'A,' + id;
    case 82: return 'R,' + id + ',' + reasonName(evtReason(dv, p));
    case 84: return 'T,' + id + ',' + u64Text(dv, p + EVT_OFF.maker) + ',' + i64Text(dv, p + EVT_OFF.price) + ',' + evtQty(dv, p);
    case 88: return 'X,' + id + ',' + evtQty(dv, p);
    case 77: return 'M,' + id + ',' + i64Text(dv, p + EVT_OFF.price) + ',' + evtQty(dv, p);
    case 75: return 'K,' + id + ',' + evtQty(dv, p);
    default: throw new EngineError('ERR_ENGINE_INVARIANT', `unknown event type ${t}`);
  }
}
