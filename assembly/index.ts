/**
 * The only export surface of the WASM module: flat functions over numbers and offsets.
 *
 * Owns: nothing but re-exports. Layout: see book/engine.ts (memory map) and
 * src/abi/records.ts (records). Invariants: no export takes or returns i64 (64-bit values
 * travel through CTRL). Allocation: none. Known limitations: one engine per instance.
 */
import { ABI_HASH, ABI_VERSION } from './abi/records';
import { ctrl, inbox, scratch, inboxCap, memEnd } from './book/engine';
import { outbox, outboxCap } from './book/events';

export { abiOffsetOf } from './abi/records';
export { engineInit, enginePrefault, bookRun, bookConsumed, bookBusy, riskEnable } from './book/engine';
export {
  riskEnabled, riskDefaultMaxOpen, riskGetKillAll, riskKillAll, riskSetSymbol, riskGetSymbol, riskSetAccount,
  riskAccountCount, riskPositionCount, riskFindAccount, riskFindPosition, riskAccountAt, riskPositionAt,
  riskSetPosition, riskRebuild, riskValidate,
} from './book/risk-api';
export {
  bookDepth, bookLevelOrders, bookOrder, bookOrderCount, bookLevelCount, bookSetStp, bookGetStp, bookSetBand,
  bookGetBand, engineGetTradeSeq, engineSetTradeSeq, poolStatCapacity, poolStatInUse, poolStatHighWater,
  poolStatFreeList, engineStateHash, engineValidate, bookSnapBegin, bookSnapNext, bookRestoreOrders,
} from './book/query';
export { engineValidateDeep } from './book/audit';

export function abiVersion(): u32 { return ABI_VERSION; }
export function abiHash(): u32 { return ABI_HASH; }
export function engineCtrlPtr(): usize { return ctrl; }
export function engineInboxPtr(): usize { return inbox; }
export function engineOutboxPtr(): usize { return outbox; }
export function engineScratchPtr(): usize { return scratch; }
export function engineInboxCap(): u32 { return inboxCap; }
export function engineOutboxCap(): u32 { return outboxCap; }
export function engineMemEnd(): u32 { return <u32>memEnd; }
/** 1 when the module was built with SIMD128 (always; asconfig enables it explicitly). */
export function engineSimd(): u32 {
  const v = i32x4.splat(1);
  return <u32>i32x4.extract_lane(i32x4.add(v, v), 0) >> 1;
}

// ── statistics (a separate instance of this module serves them; it never calls engineInit) ─
export {
  statsMeanVar, statsMeanVarScalar, statsCov, statsCovScalar, statsResid, statsResidScalar,
  statsCorrMatrix, statsCorrMatrixScalar, statsQr, statsQrScalar, statsTailSq, statsShiftMeanVar, statsShiftMeanVarScalar, statsAllFinite,
} from './stats/kernels';
export {
  statsZStd, statsTopPairsF64, statsTopPairsF64Scalar, statsTopPairsF32, statsTopPairsF32Scalar, statsCorrRow, statsCorrRowScalar,
} from './stats/corrtop.simd';
export {
  statsRunInit, statsRunPush, statsRunMerge, statsRunBatchBegin, statsRunBatchAdd, statsRunBatchEnd, statsRunPushEach,
  statsRollInit, statsRollPush, statsRollPushMany, statsPairInit, statsPairPush, statsPairPushMany,
  statsEwmaInit, statsEwmaPush, statsPmInit, statsPmPush, statsPmPushMany, statsBatch,
} from './stats/stream';
/** First free byte of linear memory: the stats arena starts here (16-byte aligned). */
export function statsHeapBase(): usize { return (__heap_base + 15) & ~(<usize>15); }

// ── journal verification (a separate instance serves it; it never calls engineInit) ─────
export { journalCrc32c, journalVerify, journalVerifiedCount, journalHeapBase } from './journal/verify';
