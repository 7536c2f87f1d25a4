/**
 * EngineHost: runs the engine alone on its own worker thread (src/engine/worker.ts) behind the
 * command ring (many producers) and the event ring (many consumers, each with its own cursor).
 *
 * Owns: the worker, both rings and the control block. Producers call `submit` (non-blocking,
 * false when the ring is full) from any thread that holds `cmdRing` — here, the main thread;
 * consumers `join()` the event ring and `poll` RING_EVT records.
 * Invariants: commands keep their order per producer; every event carries its command's seq.
 * Allocation: `submit` copies into a reused record (and allocates a BigInt for tsIn); `submitRaw`
 * none per command, `submitRawNow` not even the tsIn BigInt (the gateway's path). GC watch
 * (`startGcWatch` / `stopGcWatch`): a v8 GCProfiler inside the engine thread, for tests and benches.
 * Known limitations: the worker is started from build/dist in production; from the TypeScript
 * sources (tests) it is started through tsx, which must be installed (a devDependency).
 */
import type { Worker } from 'node:worker_threads';
import { RING_CMD_SIZE, RING_CMD_OFF, RING_EVT_SIZE, CMD_SIZE, RING_CMD_CID_MAX } from '../abi/records.js';
import { MpscRing } from '../ring/mpsc-ring.js';
import { SpmcRing } from '../ring/spmc-ring.js';
import type { Command } from '../domain/types.js';
import { encodeCommand, type EngineOptions, type RiskSetup } from './engine.js';
import type { JournalConfig } from '../journal/index.js';
import { CTL_GC, CTL_MEM_HEAP_KIB, CTL_MEM_POOLS, CTL_MEM_REPORTS, CTL_MEM_TURN_MAX_US, CTL_SEQ_HI, CTL_SEQ_LO, CTL_SLOTS, CTL_STATE, CTL_STOP, CTL_TEST_DELAY_MS, type EngineWorkerData, type GcReport } from './worker.js';
import { EngineError } from './errors.js';
import { spawnWorker } from '../sys/spawn.js';
import { epochOffsetNs, nowNs, nowNsInto } from '../domain/clock.js';
import { checkRtPriority, type ThreadScheduling } from '../sys/thread-priority.js';
import type { MemoryBinding, ThreadPlacement } from '../sys/affinity.js';

/** submitRaw's tsIn meaning "stamp now" (nowNsInto, no BigInt). */
const NOW = -1n;

export interface EngineHostOptions {
  engine: EngineOptions;
  /** Command ring slots (power of two, default 65536). */
  commandSlots?: number;
  /** Event ring slots (power of two, default 262144). */
  eventSlots?: number;
  /** Commands per engine batch (default 1024). */
  batch?: number;
  /** Start-up risk settings (needs engine.risk). */
  riskSetup?: RiskSetup;
  /** Journal (docs/journal.md); the engine thread recovers it before it runs. */
  journal?: JournalConfig;
  /** Log lines from the engine thread (recovery progress, cut tails); default stderr. */
  log?: (line: string) => void;
  /**
   * SCHED_FIFO priority (1–99) for the engine thread (src/sys/thread-priority.ts): it then runs
   * as soon as the journal's fdatasync returns instead of waiting for a CPU. Undefined (the
   * default) leaves its scheduling as it is (`tradsys serve --engine-rt N`). Without the permission
   * the thread keeps normal scheduling and `threadScheduling` says why.
   */
  realtime?: number;
  /**
   * CPU placement (`serve --cpus`): the engine thread pins itself to `cpus` and binds the
   * engine's WASM memory to `memory.node` (src/sys/affinity.ts); `placement` holds both as read
   * back from the kernel. Absent: the thread keeps the process's CPU set and default memory policy.
   */
  placement?: { cpus: number[]; memory: { node: number; mode: 'bind' | 'preferred'; nodes: number } | null };
  /** Stage latency (src/monitoring/latency.ts): the engine thread's LatencyChannel and PublishStamps buffers; absent = not tracked. */
  latency?: { channel: SharedArrayBuffer; publish: SharedArrayBuffer };
  /**
   * Test hooks (`setTestDelay`): off by default and in `tradsys serve` unless started with
   * `--test-hooks`; without it the engine thread never reads the delay slot.
   */
  testHooks?: boolean;
}

/** The engine thread's once-a-second memory report (the control block, worker.ts CTL_MEM_*). */
export interface EngineThreadMemory {
  orders: { capacity: number; inUse: number; highWater: number };
  levels: { capacity: number; inUse: number; highWater: number };
  /** The book instance's linear memory, bytes. */
  wasmBytes: number;
  /** Longest turn of the engine loop in the last report second, seconds (its event-loop delay). */
  turnMaxSeconds: number;
  /** The engine thread's V8 heap in use, bytes (KiB resolution). */
  heapUsedBytes: number;
  /** Reports so far. */
  reports: number;
}

export interface RecoveryInfo { lastSeq: number; snapshotSeq: number; replayed: number; seconds: number; cut: { file: string; offset: number; bytes: number } | null }

export class EngineHost {
  readonly cmdRing: MpscRing;
  readonly evtRing: SpmcRing;
  private readonly control: Int32Array;
  private readonly worker: Worker;
  private readonly rec = new Uint8Array(RING_CMD_SIZE);
  private readonly recDv = new DataView(this.rec.buffer);
  private readonly rec32 = new Int32Array(this.rec.buffer);
  private readonly recU32 = new Uint32Array(this.rec.buffer);
  private rawBuf: ArrayBufferLike | null = null;
  private raw32: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private exited: Promise<void>;
  private gcWaiter: ((r: GcReport) => void) | null = null;
  private failure: string | null = null;
  private readonly testHooks: boolean;
  /** lastSeq when the engine thread was ready (before any submit): ringFill's origin. */
  private seq0 = 0;

  private constructor(opts: EngineHostOptions) {
    this.cmdRing = MpscRing.create(opts.commandSlots ?? 65536, RING_CMD_SIZE);
    this.evtRing = SpmcRing.create(opts.eventSlots ?? 262144, RING_EVT_SIZE);
    const ctl = new SharedArrayBuffer(CTL_SLOTS * 4);
    this.control = new Int32Array(ctl);
    const data: EngineWorkerData = { cmdRing: this.cmdRing.sab, evtRing: this.evtRing.sab, control: ctl, engine: opts.engine, batch: opts.batch ?? 1024, riskSetup: opts.riskSetup, journal: opts.journal, realtime: opts.realtime, placement: opts.placement, epochOffsetNs: epochOffsetNs().toString(), latency: opts.latency, testHooks: opts.testHooks === true };
    this.testHooks = opts.testHooks === true;
    const log = opts.log ?? ((l: string) => process.stderr.write(l + '\n'));
    this.worker = spawnWorker(import.meta.url, 'worker', data);
    this.worker.on('message', (m: { type: string; message?: string; tid?: number | null; scheduling?: ThreadScheduling | null; report?: GcReport; thread?: ThreadPlacement | null; memory?: MemoryBinding | null } & Partial<RecoveryInfo>) => {
      if (m.type === 'placement') this.placement = { thread: m.thread ?? null, memory: m.memory ?? null };
      else if (m.type === 'thread') { this.threadId = m.tid ?? null; this.threadScheduling = m.scheduling ?? null; this.threadReported = true; }
      else if (m.type === 'failed') this.failure = m.message ?? 'engine thread failed';
      else if (m.type === 'log') log(m.message ?? '');
      else if (m.type === 'gc') { const w = this.gcWaiter; this.gcWaiter = null; w?.(m.report as GcReport); }
      else if (m.type === 'recovered') this.recovery = { lastSeq: m.lastSeq!, snapshotSeq: m.snapshotSeq!, replayed: m.replayed!, seconds: m.seconds!, cut: m.cut ?? null };
    });
    this.exited = new Promise((res) => this.worker.once('exit', () => res()));
    this.worker.on('error', (e) => { this.failure = e.message; });
  }

  /** Starts the engine thread and waits until it runs (or fails). */
  static async start(opts: EngineHostOptions): Promise<EngineHost> {
    if (opts.realtime !== undefined) checkRtPriority(opts.realtime);
    const h = new EngineHost(opts);
    const deadline = Date.now() + (opts.journal ? 600_000 : 30_000); // recovery replays the journal
    // running, and the worker's start-up messages (thread, recovery) delivered
    const pending = (): boolean => Atomics.load(h.control, CTL_STATE) === 1 && (!h.threadReported || (!!opts.journal && !h.recovery) || (!!opts.placement && !h.placement));
    while (Atomics.load(h.control, CTL_STATE) === 0 || pending()) {
      if (h.failure) throw new EngineError('ERR_ENGINE_TRAP', `engine thread failed to start: ${h.failure}`);
      if (Date.now() > deadline) throw new EngineError('ERR_ENGINE_TRAP', 'engine thread did not start within 30 s');
      await new Promise((r) => setTimeout(r, 5));
    }
    if (Atomics.load(h.control, CTL_STATE) === 3) throw new EngineError('ERR_ENGINE_TRAP', `engine thread failed: ${h.failure ?? 'unknown'}`);
    h.seq0 = h.lastSeq; // nothing was submitted yet: ring position 0 is this seq
    return h;
  }

  /** Queues one command (non-blocking). Returns false when the command ring is full. */
  submit(cmd: Command, origin = 0, token = 0, clientOrderId = ''): boolean {
    if (this.failure) throw new EngineError('ERR_ENGINE_TRAP', `engine thread failed: ${this.failure}`);
    encodeCommand(this.recDv, 0, cmd);
    this.recDv.setUint32(RING_CMD_OFF.origin, origin, true);
    this.recDv.setUint32(RING_CMD_OFF.token, token, true);
    this.rec.fill(0, RING_CMD_OFF.cidLen);
    if (clientOrderId.length > RING_CMD_CID_MAX) throw new EngineError('ERR_ENGINE_BAD_COMMAND', `clientOrderId longer than ${RING_CMD_CID_MAX} characters`);
    for (let i = 0; i < clientOrderId.length; i++) this.rec[RING_CMD_OFF.cid0 + i] = clientOrderId.charCodeAt(i) & 0x7f;
    this.rec[RING_CMD_OFF.cidLen] = clientOrderId.length;
    this.recDv.setBigInt64(RING_CMD_OFF.tsIn, nowNs(), true);
    return this.cmdRing.tryPush(this.rec);
  }

  /** Queues a raw CMD record (32 bytes at `offset`, 4-byte aligned) without building an object or allocating. */
  submitRaw(bytes: Uint8Array, offset: number, origin = 0, token = 0, tsIn = 0n, clientOrderId = ''): boolean {
    if (bytes.buffer !== this.rawBuf) { this.rawBuf = bytes.buffer; this.raw32 = new Int32Array(bytes.buffer, 0, bytes.buffer.byteLength >> 2); }
    const from = (bytes.byteOffset + offset) >> 2;
    for (let k = 0; k < CMD_SIZE >> 2; k++) this.rec32[k] = this.raw32[from + k]!;
    this.rec32[RING_CMD_OFF.origin >> 2] = origin | 0;
    this.rec32[RING_CMD_OFF.token >> 2] = token | 0;
    this.rec.fill(0, RING_CMD_OFF.cidLen);
    if (clientOrderId.length > 0) {
      if (clientOrderId.length > RING_CMD_CID_MAX) throw new EngineError('ERR_ENGINE_BAD_COMMAND', `clientOrderId longer than ${RING_CMD_CID_MAX} characters`);
      for (let i = 0; i < clientOrderId.length; i++) this.rec[RING_CMD_OFF.cid0 + i] = clientOrderId.charCodeAt(i) & 0x7f;
      this.rec[RING_CMD_OFF.cidLen] = clientOrderId.length;
    }
    if (tsIn === NOW) nowNsInto(this.recU32, RING_CMD_OFF.tsIn >> 2);
    else if (tsIn === 0n) { this.rec32[RING_CMD_OFF.tsIn >> 2] = 0; this.rec32[(RING_CMD_OFF.tsIn >> 2) + 1] = 0; } else this.recDv.setBigInt64(RING_CMD_OFF.tsIn, tsIn, true);
    return this.cmdRing.tryPush(this.rec);
  }

  /** The tsIn words (lo, hi) of the last record submitted, into out[at], out[at + 1] (stage latency reads the enqueue stamp without another clock read). */
  lastTsInInto(out: Uint32Array, at: number): void {
    out[at] = this.recU32[RING_CMD_OFF.tsIn >> 2]!;
    out[at + 1] = this.recU32[(RING_CMD_OFF.tsIn >> 2) + 1]!;
  }

  /** As submitRaw, stamped tsIn = now without a BigInt (the gateway's order entry). */
  submitRawNow(bytes: Uint8Array, offset: number, origin = 0, token = 0, clientOrderId = ''): boolean {
    return this.submitRaw(bytes, offset, origin, token, NOW, clientOrderId);
  }

  /** Commands the engine has sequenced so far. */
  get lastSeq(): number {
    return Atomics.load(this.control, CTL_SEQ_HI) * 4294967296 + (Atomics.load(this.control, CTL_SEQ_LO) >>> 0);
  }

  get failed(): string | null { return this.failure; }

  /** What the engine thread recovered from the journal at start (null without a journal). */
  recovery: RecoveryInfo | null = null;

  /** The engine thread's scheduling as set at start (null when `realtime` was not given). */
  threadScheduling: ThreadScheduling | null = null;

  /** The engine thread's CPU pin and memory binding as read back at start (null without `placement`). */
  placement: { thread: ThreadPlacement | null; memory: MemoryBinding | null } | null = null;

  /** The engine thread's kernel id (Linux; null elsewhere): /proc/<pid>/task/<id> has its CPU time and waits. */
  threadId: number | null = null;
  private threadReported = false;

  /**
   * GC watch (tests, benchmarks): `startGcWatch` starts a v8 GCProfiler inside the engine thread
   * (seen within one turn of its loop, ≤ 20 ms idle); `stopGcWatch` stops it and resolves with what
   * the engine thread's garbage collector did meanwhile (scavenges, longest, bytes allocated).
   */
  startGcWatch(): void { Atomics.store(this.control, CTL_GC, 1); }
  stopGcWatch(timeoutMs = 5000): Promise<GcReport | null> {
    return new Promise((res) => {
      const t = setTimeout(() => { this.gcWaiter = null; res(null); }, timeoutMs);
      this.gcWaiter = (r) => { clearTimeout(t); res(r); };
      Atomics.store(this.control, CTL_GC, 2);
    });
  }

  /**
   * How full the rings are, 0..1: the command ring's commands claimed and not yet sequenced (the
   * batch in progress included) over its slots; the event ring's slowest consumer's lag over its
   * slots. Any thread; no allocation but the answer.
   */
  ringFill(): { command: number; event: number } {
    const consumed = this.lastSeq - this.seq0;
    const queued = (this.cmdRing.claimed - (consumed % 4294967296)) | 0;
    return { command: Math.max(0, Math.min(1, queued / this.cmdRing.capacity)), event: 1 - this.evtRing.free() / this.evtRing.capacity };
  }

  /** The engine thread's last memory report (null before its first, within a second of start). Allocates the answer. */
  memory(): EngineThreadMemory | null {
    const c = this.control;
    const reports = Atomics.load(c, CTL_MEM_REPORTS);
    if (reports === 0) return null;
    const p = CTL_MEM_POOLS;
    return {
      orders: { capacity: Atomics.load(c, p) >>> 0, inUse: Atomics.load(c, p + 1) >>> 0, highWater: Atomics.load(c, p + 2) >>> 0 },
      levels: { capacity: Atomics.load(c, p + 3) >>> 0, inUse: Atomics.load(c, p + 4) >>> 0, highWater: Atomics.load(c, p + 5) >>> 0 },
      wasmBytes: (Atomics.load(c, p + 6) >>> 0) * 65536,
      turnMaxSeconds: Atomics.load(c, CTL_MEM_TURN_MAX_US) / 1e6,
      heapUsedBytes: Atomics.load(c, CTL_MEM_HEAP_KIB) * 1024,
      reports,
    };
  }

  /**
   * Test hook: every engine batch sleeps `ms` ms (0 lifts it) — an induced slowdown for the
   * alert tests. Refused (ERR_ENGINE_TEST_HOOKS) unless the host was started with `testHooks`.
   */
  setTestDelay(ms: number): void {
    if (!this.testHooks) throw new EngineError('ERR_ENGINE_TEST_HOOKS', 'test hooks are off (start with testHooks / tradsys serve --test-hooks)');
    if (!Number.isInteger(ms) || ms < 0 || ms > 10_000) throw new EngineError('ERR_ENGINE_TEST_HOOKS', `the test delay must be an integer 0..10000 ms, got ${String(ms)}`);
    Atomics.store(this.control, CTL_TEST_DELAY_MS, ms);
  }

  /** Stops the engine thread (after the batch in progress) and waits for it to exit. */
  async stop(): Promise<void> {
    Atomics.store(this.control, CTL_STOP, 1);
    // the loop sees the flag within one wait (≤ 20 ms); give a batch in progress up to 5 s
    const deadline = Date.now() + 5000;
    while (Atomics.load(this.control, CTL_STATE) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    await this.worker.terminate();
    await this.exited;
  }
}
