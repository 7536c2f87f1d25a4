/**
 * Loading of the engine WebAssembly module: locate, compile once, instantiate, check the ABI.
 * The only place in src/ that instantiates the module: one typed instantiate per role — the book
 * (`instantiate`/`instantiateBook`, engine.ts), statistics (`instantiateStats`, src/stats/wasm.ts)
 * and journal verification (`instantiateJournalVerify`, handed to src/journal/verify.ts by
 * `useWasmJournalVerifier`; journal/ never imports engine/). Enforced by .dependency-cruiser.cjs.
 *
 * Owns: the compiled `WebAssembly.Module` cache and the raw export typing of each role.
 * Invariants: an instance whose `abiHash()`/`abiVersion()` differ from src/abi/records.ts is
 * refused. Allocation: one compile per build kind and process. Known limitations: synchronous
 * compile (the module is ~12 KiB).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ABI_HASH, ABI_VERSION } from '../abi/records.js';
import { EngineError } from './errors.js';

export type BuildKind = 'release' | 'debug';

/** The raw exports (numbers only). */
export interface EngineExports {
  memory: WebAssembly.Memory;
  abiVersion(): number;
  abiHash(): number;
  abiOffsetOf(rec: number, field: number): number;
  engineInit(symbols: number, capacity: number, inCap: number, outCap: number, seedLo: number, seedHi: number): number;
  engineCtrlPtr(): number;
  engineInboxPtr(): number;
  engineOutboxPtr(): number;
  engineScratchPtr(): number;
  engineInboxCap(): number;
  engineOutboxCap(): number;
  engineMemEnd(): number;
  enginePrefault(from: number, bytes: number): number;
  engineSimd(): number;
  bookRun(n: number): number;
  bookConsumed(): number;
  bookBusy(): number;
  bookDepth(sym: number, side: number, n: number): number;
  bookLevelOrders(sym: number, side: number, offset: number, max: number): number;
  bookOrder(sym: number): number;
  bookOrderCount(sym: number): number;
  bookLevelCount(sym: number, side: number): number;
  bookSetStp(sym: number, mode: number): number;
  bookGetStp(sym: number): number;
  bookSetBand(sym: number, on: number): number;
  bookGetBand(sym: number): number;
  engineGetTradeSeq(): void;
  engineSetTradeSeq(): void;
  poolStatCapacity(p: number): number;
  poolStatInUse(p: number): number;
  poolStatHighWater(p: number): number;
  poolStatFreeList(p: number): number;
  engineStateHash(): void;
  engineValidate(): number;
  /** engineValidate plus the O(capacity) checks: pools, both hash tables, treaps (tests only). */
  engineValidateDeep(): number;
  bookSnapBegin(): void;
  bookSnapNext(max: number): number;
  bookRestoreOrders(n: number): number;
  riskEnable(maxAccounts: number, maxPositions: number, defaultMaxOpen: number): number;
  riskEnabled(): number;
  riskDefaultMaxOpen(): number;
  riskGetKillAll(): number;
  riskKillAll(on: number): number;
  riskSetSymbol(sym: number, status: number, minQty: number, maxQty: number, collarBps: number): number;
  riskGetSymbol(sym: number): number;
  riskSetAccount(acct: number, maxOpen: number, killed: number): number;
  riskAccountCount(): number;
  riskPositionCount(): number;
  riskFindAccount(acct: number): number;
  riskFindPosition(acct: number, sym: number): number;
  riskAccountAt(e: number): number;
  riskPositionAt(e: number): number;
  riskSetPosition(acct: number, sym: number): number;
  riskRebuild(): number;
  riskValidate(): number;
}

/** The exports the statistics role uses (src/stats/: an instance that never calls engineInit). */
export interface StatsExports {
  memory: WebAssembly.Memory;
  statsHeapBase(): number;
  statsMeanVar(p: number, n: number, out: number): void;
  statsMeanVarScalar(p: number, n: number, out: number): void;
  statsCov(px: number, py: number, n: number, out: number): void;
  statsCovScalar(px: number, py: number, n: number, out: number): void;
  statsResid(px: number, py: number, n: number, mx: number, my: number, ex: number, ey: number, beta: number, pr: number): number;
  statsResidScalar(px: number, py: number, n: number, mx: number, my: number, ex: number, ey: number, beta: number, pr: number): number;
  statsCorrMatrix(data: number, n: number, k: number, out: number, work: number): void;
  statsCorrMatrixScalar(data: number, n: number, k: number, out: number, work: number): void;
  statsQr(a: number, n: number, k: number, b: number, diag: number): number;
  statsQrScalar(a: number, n: number, k: number, b: number, diag: number): number;
  statsTailSq(b: number, from: number, n: number): number;
  statsShiftMeanVar(p: number, n: number, k: number, out: number): void;
  statsShiftMeanVarScalar(p: number, n: number, k: number, out: number): void;
  statsAllFinite(p: number, n: number): number;
  statsRunInit(p: number): void;
  statsRunPush(p: number, x: number): void;
  statsRunMerge(p: number, q: number): void;
  statsRunBatchBegin(acc: number, p: number, x0: number): void;
  statsRunBatchAdd(acc: number, xs: number, n: number): number;
  statsRunBatchEnd(p: number, acc: number): void;
  statsRunPushEach(p: number, xs: number, n: number): void;
  statsRollInit(p: number, window: number): void;
  statsRollPush(p: number, x: number): void;
  statsRollPushMany(p: number, xs: number, k: number, m: number): void;
  statsPairInit(p: number, window: number): void;
  statsPairPush(p: number, x: number, y: number): void;
  statsPairPushMany(p: number, xs: number, ys: number, k: number, m: number): void;
  statsEwmaInit(p: number, alpha: number): void;
  statsEwmaPush(p: number, x: number): void;
  statsPmInit(p: number, pair: number, spread: number, half: number): void;
  statsPmPush(p: number, x: number, y: number): void;
  statsPmPushMany(p: number, xs: number, ys: number, k: number, m: number): void;
  statsBatch(table: number, count: number, ids: number, xs: number, ys: number, n: number): number;
  // all-pairs correlation with top-N selection (assembly/stats/corrtop.simd.ts)
  statsZStd(data: number, n: number, k: number, ok: number, f32out: number): void;
  statsTopPairsF64(z: number, n: number, k: number, ok: number, topN: number, heap: number): number;
  statsTopPairsF64Scalar(z: number, n: number, k: number, ok: number, topN: number, heap: number): number;
  statsTopPairsF32(z: number, n: number, k: number, ok: number, topN: number, heap: number): number;
  statsTopPairsF32Scalar(z: number, n: number, k: number, ok: number, topN: number, heap: number): number;
  statsCorrRow(z: number, n: number, k: number, ok: number, i: number, out: number, f32: number): void;
  statsCorrRowScalar(z: number, n: number, k: number, ok: number, i: number, out: number, f32: number): void;
}

/** The exports the journal-verification role uses (an instance that never runs the engine). */
export interface JournalVerifyExports {
  memory: WebAssembly.Memory;
  journalCrc32c(p: number, n: number, crc: number): number;
  journalVerify(p: number, end: number, seqLo: number, seqHi: number): number;
  journalVerifiedCount(): number;
  journalHeapBase(): number;
}

const modules = new Map<BuildKind, WebAssembly.Module>();

/** Finds build/wasm/engine.<kind>.wasm above this module (works from src/ and build/dist/). */
export function wasmPath(kind: BuildKind = 'release'): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'build', 'wasm', `engine.${kind}.wasm`);
    if (existsSync(p)) return p;
    const q = join(dir, 'wasm', `engine.${kind}.wasm`);
    if (existsSync(q)) return q;
    dir = dirname(dir);
  }
  throw new EngineError('ERR_ENGINE_WASM_MISSING', `engine.${kind}.wasm not found: run \`npm run build\` first`);
}

export function loadModule(kind: BuildKind = 'release'): WebAssembly.Module {
  let m = modules.get(kind);
  if (!m) {
    const bytes = readFileSync(wasmPath(kind));
    m = new WebAssembly.Module(bytes);
    modules.set(kind, m);
  }
  return m;
}

function abortImport(msg: number, file: number, line: number, col: number): never {
  throw new EngineError('ERR_ENGINE_ABORT', `engine assertion failed (msg@${msg} file@${file} ${line}:${col})`);
}

/** The WASM instances of this thread, by role, held weakly (src/monitoring/memory.ts reports their memory). */
const live: { role: string; memory: WeakRef<WebAssembly.Memory> }[] = [];

/**
 * Linear-memory size of every live WASM instance of this thread, by role (`book`, `stats`,
 * `journal_verify`), summed per role, with the instance count. Instances the GC has collected drop
 * out. Allocates the answer (called once per scrape).
 */
export function wasmInstanceMemory(): { role: string; instances: number; bytes: number }[] {
  const by = new Map<string, { role: string; instances: number; bytes: number }>();
  for (let i = live.length - 1; i >= 0; i--) {
    const m = live[i]!.memory.deref();
    if (!m) { live.splice(i, 1); continue; }
    const e = by.get(live[i]!.role) ?? { role: live[i]!.role, instances: 0, bytes: 0 };
    e.instances++;
    e.bytes += m.buffer.byteLength;
    by.set(e.role, e);
  }
  return [...by.values()].sort((a, b) => a.role.localeCompare(b.role));
}

/** Instantiates a fresh engine module and checks its ABI against src/abi/records.ts. */
export function instantiate(kind: BuildKind = 'release', role = 'book'): EngineExports {
  const inst = new WebAssembly.Instance(loadModule(kind), { env: { abort: abortImport } });
  const ex = inst.exports as unknown as EngineExports;
  live.push({ role, memory: new WeakRef(ex.memory) });
  if (ex.abiVersion() !== ABI_VERSION || ex.abiHash() >>> 0 !== ABI_HASH) {
    throw new EngineError('ERR_ENGINE_ABI_MISMATCH',
      `engine ABI ${ex.abiVersion()}/${(ex.abiHash() >>> 0).toString(16)} differs from host ${ABI_VERSION}/${ABI_HASH.toString(16)}: rebuild with \`npm run build\``);
  }
  return ex;
}

/** The book role: an engine instance (engine.ts calls engineInit on it). */
export function instantiateBook(kind: BuildKind = 'release'): EngineExports {
  return instantiate(kind);
}

/** The statistics role: a fresh release instance typed for src/stats/ (its own linear memory). */
export function instantiateStats(): StatsExports {
  return instantiate('release', 'stats') as unknown as StatsExports;
}

/** The journal-verification role: a fresh release instance typed for src/journal/verify.ts. */
export function instantiateJournalVerify(): JournalVerifyExports {
  return instantiate('release', 'journal_verify') as unknown as JournalVerifyExports;
}

/** Whether this Node.js can run WASM SIMD128 (the module requires it). */
export function simdSupported(): boolean {
  // (module (func (result v128) i32.const 0 i8x16.splat))
  const probe = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 10, 9, 1, 7, 0, 65, 0, 253, 15, 26, 11]);
  try { return WebAssembly.validate(probe); } catch { return false; }
}
