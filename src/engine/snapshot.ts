/**
 * Engine snapshots: the whole state of a book instance as bytes, and back (Engine.snapshot and
 * Engine.restore delegate here; the files that hold them are src/journal/snapshots.ts).
 *
 * Layout (little-endian):
 * header 64 B: magic 'TSS1' u32 · version u32 · abiHash u32 · symbols u32 · capacity u32 ·
 * optionCount u32 · tradeSeq u64 · orderCount u64 · stateHash u64 · crc32 of the body u32 ·
 * riskFlags u32 (version 2: bit0 risk on, bit1 global kill switch) · pad;
 * then optionCount × 32 B (symbol u32 · stp u32 · bandOn u32 · pad u32 · bandMin i64 · bandMax i64);
 * then orderCount ORDER records (40 B) in canonical order;
 * then, when risk is on, the risk section: 32 B (maxAccounts u32 · maxPositions u32 ·
 * defaultMaxOpen u32 · symbols u32 · accountCount u32 · positionCount u32 · pad 8), symbols × 48 B
 * (status u32 · minQty u32 · maxQty u32 · collarBps u32 · minNotional i64 · maxNotional i64 ·
 * maxPosition i64 · lastPrice i64), accountCount × 32 B (account u32 · maxOpen u32 · killed u32 ·
 * pad u32 · maxPosition i64 · pad 8), positionCount × 16 B (account u32 · symbol u32 · position
 * i64), entries in creation order. Open-order counts and open quantities are rebuilt from the
 * orders on restore. Version 1 (no risk) is still read.
 * Invariants: a restored instance has the snapshot's CRC, passes engineValidate/riskValidate and
 * has the recorded state hash, else ERR_SNAPSHOT_CORRUPT (ERR_SNAPSHOT_FORMAT for a bad header).
 * Complexity: O(orders + risk entries), orders copied 4,096 at a time through scratch.
 * Allocation: the snapshot buffer (snapshot); nothing but the engine itself on restore.
 * Known limitations: the recorded abiHash is written but not compared on restore (the CRC, the
 * invariants and the state hash are); a snapshot is built whole in memory.
 */
import { CTRL_OFF, ENUMS, ORDER_SIZE } from '../abi/records.js';
import { crc32 } from '../sys/crc32.js';
import {
  accountsRisk, killAll, positions, riskEnabled, setAccountRisk, setKillAll, setPosition, setPriceBand, setSelfTradePrevention,
  setSymbolRisk, symbolRisk,
} from './controls.js';
import { EngineError } from './errors.js';
import type { BookInstance } from './instance.js';
import { stateHash, tradeSeq } from './query.js';
import { STP_MODES, type EngineOptions } from './types.js';

const SNAP_MAGIC = 0x31535354; // 'TSS1' little-endian
const SNAP_VERSION = 2; // 2 adds the risk section; version 1 snapshots are still read
const SNAP_RISK_HEADER = 32;
const SNAP_RISK_SYM = 48;
const SNAP_RISK_ACCT = 32;
const SNAP_RISK_POS = 16;
const SNAP_HEADER = 64;
const SNAP_OPT = 32;

/** The whole state of `b` (an engine of `capacity` orders) as snapshot bytes (allocates them). */
export function encodeSnapshot(b: BookInstance, capacity: number): Uint8Array {
  const symbols = b.symbols;
  const opts: number[] = [];
  for (let s = 0; s < symbols; s++) {
    if (b.ex.bookGetStp(s) !== 0 || b.ex.bookGetBand(s) === 1) opts.push(s);
  }
  const orders = b.call(() => { b.idle(); return b.ex.poolStatInUse(ENUMS.Pool.ORDERS); });
  const risk = riskEnabled(b);
  const accts = risk ? accountsRisk(b) : [];
  const poss = risk ? positions(b) : [];
  const riskBytes = risk ? SNAP_RISK_HEADER + symbols * SNAP_RISK_SYM + accts.length * SNAP_RISK_ACCT + poss.length * SNAP_RISK_POS : 0;
  const ordersEnd = SNAP_HEADER + opts.length * SNAP_OPT + orders * ORDER_SIZE;
  const size = ordersEnd + riskBytes;
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let p = SNAP_HEADER;
  for (const s of opts) {
    const on = b.ex.bookGetBand(s);
    b.views();
    dv.setUint32(p, s, true);
    dv.setUint32(p + 4, b.ex.bookGetStp(s), true);
    dv.setUint32(p + 8, on, true);
    dv.setBigInt64(p + 16, b.dv.getBigInt64(b.ctrlPtr + CTRL_OFF.arg0, true), true);
    dv.setBigInt64(p + 24, b.dv.getBigInt64(b.ctrlPtr + CTRL_OFF.arg1, true), true);
    p += SNAP_OPT;
  }
  b.call(() => {
    b.ex.bookSnapBegin();
    for (;;) {
      const k = b.ex.bookSnapNext(4096);
      if (k === 0) break;
      b.views();
      out.set(b.u8.subarray(b.scratchPtr, b.scratchPtr + k * ORDER_SIZE), p);
      p += k * ORDER_SIZE;
    }
  });
  if (p !== ordersEnd) throw new EngineError('ERR_ENGINE_INVARIANT', `snapshot walked ${(p - SNAP_HEADER - opts.length * SNAP_OPT) / ORDER_SIZE} orders, pool says ${orders}`);
  if (risk) {
    dv.setUint32(p, b.riskMaxAccounts, true);
    dv.setUint32(p + 4, b.riskMaxPositions, true);
    dv.setUint32(p + 8, b.ex.riskDefaultMaxOpen(), true);
    dv.setUint32(p + 12, symbols, true);
    dv.setUint32(p + 16, accts.length, true);
    dv.setUint32(p + 20, poss.length, true);
    p += SNAP_RISK_HEADER;
    for (let sym = 0; sym < symbols; sym++, p += SNAP_RISK_SYM) {
      const r = symbolRisk(b, sym);
      dv.setUint32(p, r.halted ? 1 : 0, true);
      dv.setUint32(p + 4, r.minQty, true);
      dv.setUint32(p + 8, r.maxQty, true);
      dv.setUint32(p + 12, r.collarBps, true);
      dv.setBigInt64(p + 16, r.minNotional, true);
      dv.setBigInt64(p + 24, r.maxNotional, true);
      dv.setBigInt64(p + 32, r.maxPosition, true);
      dv.setBigInt64(p + 40, r.lastPrice, true);
    }
    for (const a of accts) {
      dv.setUint32(p, a.account, true);
      dv.setUint32(p + 4, a.maxOpenOrders, true);
      dv.setUint32(p + 8, a.killed ? 1 : 0, true);
      dv.setBigInt64(p + 16, a.maxPosition, true);
      p += SNAP_RISK_ACCT;
    }
    for (const q of poss) {
      dv.setUint32(p, q.account, true);
      dv.setUint32(p + 4, q.symbol, true);
      dv.setBigInt64(p + 8, q.position, true);
      p += SNAP_RISK_POS;
    }
  }
  dv.setUint32(0, SNAP_MAGIC, true);
  dv.setUint32(4, SNAP_VERSION, true);
  dv.setUint32(8, b.ex.abiHash() >>> 0, true);
  dv.setUint32(12, symbols, true);
  dv.setUint32(16, capacity, true);
  dv.setUint32(20, opts.length, true);
  dv.setBigUint64(24, tradeSeq(b), true);
  dv.setBigUint64(32, BigInt(orders), true);
  dv.setBigUint64(40, stateHash(b), true);
  dv.setUint32(48, crc32(out.subarray(SNAP_HEADER)), true);
  dv.setUint32(52, risk ? 1 | (killAll(b) ? 2 : 0) : 0, true);
  return out;
}

/** A snapshot whose header, size, CRC and counts were checked: what the new engine is built with. */
export interface CheckedSnapshot {
  bytes: Uint8Array;
  dv: DataView;
  riskFlags: number;
  symbols: number;
  capacity: number;
  nOpts: number;
  tradeSeq: bigint;
  orders: number;
  hash: bigint;
  ordersEnd: number;
  risk: { maxAccounts: number; maxPositions: number; defaultMaxOpenOrders: number; accounts: number; positions: number } | null;
}

/** Checks everything that can be checked before an engine exists (format, size, CRC, capacity). */
export function checkSnapshot(snapshot: Uint8Array, opts: Partial<Omit<EngineOptions, 'symbols'>>): CheckedSnapshot {
  if (snapshot.length < SNAP_HEADER) throw new EngineError('ERR_SNAPSHOT_FORMAT', `snapshot too short (${snapshot.length} bytes)`);
  const dv = new DataView(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
  if (dv.getUint32(0, true) !== SNAP_MAGIC) throw new EngineError('ERR_SNAPSHOT_FORMAT', 'bad snapshot magic (expected TSS1)');
  const version = dv.getUint32(4, true);
  if (version !== 1 && version !== SNAP_VERSION) throw new EngineError('ERR_SNAPSHOT_FORMAT', `unsupported snapshot version ${version}`);
  const riskFlags = version >= 2 ? dv.getUint32(52, true) : 0;
  if (riskFlags > 3) throw new EngineError('ERR_SNAPSHOT_FORMAT', `bad risk flags ${riskFlags}`);
  const symbols = dv.getUint32(12, true);
  const capacity = opts.capacity ?? dv.getUint32(16, true);
  const nOpts = dv.getUint32(20, true);
  const tradeSeq = dv.getBigUint64(24, true);
  const orders = Number(dv.getBigUint64(32, true));
  const hash = dv.getBigUint64(40, true);
  const ordersEnd = SNAP_HEADER + nOpts * SNAP_OPT + orders * ORDER_SIZE;
  let size = ordersEnd;
  let risk: CheckedSnapshot['risk'] = null;
  if (riskFlags & 1) {
    if (snapshot.length < ordersEnd + SNAP_RISK_HEADER) throw new EngineError('ERR_SNAPSHOT_FORMAT', 'snapshot too short for its risk section');
    const q = ordersEnd;
    risk = {
      maxAccounts: dv.getUint32(q, true), maxPositions: dv.getUint32(q + 4, true), defaultMaxOpenOrders: dv.getUint32(q + 8, true),
      accounts: dv.getUint32(q + 16, true), positions: dv.getUint32(q + 20, true),
    };
    if (dv.getUint32(q + 12, true) !== symbols) throw new EngineError('ERR_SNAPSHOT_FORMAT', 'risk section symbol count differs from the header');
    size += SNAP_RISK_HEADER + symbols * SNAP_RISK_SYM + risk.accounts * SNAP_RISK_ACCT + risk.positions * SNAP_RISK_POS;
  }
  if (snapshot.length !== size) throw new EngineError('ERR_SNAPSHOT_FORMAT', `snapshot is ${snapshot.length} bytes, header says ${size}`);
  if (crc32(snapshot.subarray(SNAP_HEADER)) !== dv.getUint32(48, true)) throw new EngineError('ERR_SNAPSHOT_CORRUPT', 'snapshot CRC mismatch');
  if (orders > capacity) throw new EngineError('ERR_ENGINE_CONFIG', `snapshot holds ${orders} orders, capacity ${capacity}`);
  if (risk && (risk.accounts > risk.maxAccounts || risk.positions > risk.maxPositions)) throw new EngineError('ERR_SNAPSHOT_CORRUPT', 'risk section holds more entries than its tables');
  return { bytes: snapshot, dv, riskFlags, symbols, capacity, nOpts, tradeSeq, orders, hash, ordersEnd, risk };
}

/** Loads a checked snapshot into `b`, a fresh instance built with its symbols, capacity and risk tables. */
export function loadSnapshot(b: BookInstance, s: CheckedSnapshot): void {
  const { dv, risk, symbols, orders } = s;
  if (risk) {
    let q = s.ordersEnd + SNAP_RISK_HEADER;
    try {
      for (let sym = 0; sym < symbols; sym++, q += SNAP_RISK_SYM) {
        setSymbolRisk(b, sym, {
          halted: dv.getUint32(q, true) === 1, minQty: dv.getUint32(q + 4, true), maxQty: dv.getUint32(q + 8, true), collarBps: dv.getUint32(q + 12, true),
          minNotional: dv.getBigInt64(q + 16, true), maxNotional: dv.getBigInt64(q + 24, true), maxPosition: dv.getBigInt64(q + 32, true), lastPrice: dv.getBigInt64(q + 40, true),
        });
      }
      for (let i = 0; i < risk.accounts; i++, q += SNAP_RISK_ACCT) {
        setAccountRisk(b, dv.getUint32(q, true), { maxOpenOrders: dv.getUint32(q + 4, true), killed: dv.getUint32(q + 8, true) === 1, maxPosition: dv.getBigInt64(q + 16, true) });
      }
      for (let i = 0; i < risk.positions; i++, q += SNAP_RISK_POS) {
        if (setPosition(b, dv.getUint32(q, true), dv.getUint32(q + 4, true), dv.getBigInt64(q + 8, true)) !== 0) throw new EngineError('ERR_SNAPSHOT_CORRUPT', `risk position record ${i} is invalid`);
      }
    } catch (err) {
      if (err instanceof EngineError && err.code === 'ERR_ENGINE_CONFIG') throw new EngineError('ERR_SNAPSHOT_CORRUPT', `risk section: ${err.message}`);
      throw err;
    }
    if (s.riskFlags & 2) setKillAll(b, true);
  }
  let p = SNAP_HEADER;
  for (let i = 0; i < s.nOpts; i++, p += SNAP_OPT) {
    const sym = dv.getUint32(p, true);
    if (sym >= symbols) throw new EngineError('ERR_SNAPSHOT_CORRUPT', `option record ${i}: symbol ${sym} out of range`);
    setSelfTradePrevention(b, sym, STP_MODES[dv.getUint32(p + 4, true)] ?? 'none');
    if (dv.getUint32(p + 8, true) === 1) setPriceBand(b, sym, { min: dv.getBigInt64(p + 16, true), max: dv.getBigInt64(p + 24, true) });
  }
  const chunk = 4096;
  for (let done = 0; done < orders; done += chunk) {
    const k = Math.min(chunk, orders - done);
    const from = p + done * ORDER_SIZE;
    b.call(() => {
      b.views();
      b.u8.set(s.bytes.subarray(from, from + k * ORDER_SIZE), b.scratchPtr);
      const rc = b.ex.bookRestoreOrders(k);
      if (rc !== 0) throw new EngineError('ERR_SNAPSHOT_CORRUPT', `snapshot order record ${done - rc - 1} is invalid`);
    });
  }
  b.views();
  b.dv.setBigUint64(b.ctrlPtr + CTRL_OFF.tradeSeq, s.tradeSeq, true);
  b.ex.engineSetTradeSeq();
  if (b.ex.riskRebuild() !== 0) throw new EngineError('ERR_SNAPSHOT_CORRUPT', 'restored orders need more risk positions than the tables hold');
  const rc = b.ex.engineValidate() || b.ex.riskValidate();
  if (rc !== 0) throw new EngineError('ERR_SNAPSHOT_CORRUPT', `restored book breaks invariant ${rc}`);
  if (stateHash(b) !== s.hash) throw new EngineError('ERR_SNAPSHOT_CORRUPT', 'restored state hash differs from the snapshot');
}
