/**
 * The engine thread: the single writer. Takes commands from the MPSC command ring in batches,
 * stamps each with the next engine sequence number and the batch's tsInit, runs them through the
 * WASM engine with one call per batch, and publishes every event — tagged with its command's seq,
 * origin, token and stamps — to the SPMC event ring.
 *
 * Layout: RING_CMD and RING_EVT records (src/abi/records.ts); control block: Int32Array over a
 * SharedArrayBuffer, [0] stop flag, [1] state (0 starting, 1 running, 2 stopped, 3 failed),
 * [2..3] last seq (u64 as two u32), [4] GC watch; [16..27] the once-a-second memory report
 * (CTL_MEM_*: pools, WASM pages, longest turn, heap; src/monitoring/memory.ts reads it) and
 * [28] the test hook's delay per batch (CTL_TEST_DELAY_MS, read only when `testHooks` is set).
 * Invariants: seq is contiguous from 1 (one per command, rejects included); events of a command are
 * published in engine order and never reordered across commands.
 * Allocation: staging buffers once at start; none per command; per batch only what Node 20
 * allocates for us: 16 B per clock read (performance.now() is a native binding returning a heap
 * number: tsInit, the turn's end on sampled turns, 2 more on latency-stamped batches) and 56 B for
 * fs.writeSync's request object (journal commit; fdatasyncSync's with fsync). Clock readings stay
 * u32 words or typed-array doubles: no double crosses a call or lives in a closure variable, and
 * u32 low words go to calls as int32 (a Smi). test/unit/engine-gc.test.ts runs 100,000 commands
 * after warm-up without a scavenge in this thread and under 8 B per command (GC watch: CTL_GC);
 * docs/performance.md "Engine thread: allocation per batch".
 * Per batch: sequence → risk and matching inside the engine call (docs/risk.md) → one journal
 * record per command and one fdatasync (docs/journal.md) → publish. Snapshots every
 * `snapshotEvery` commands (a failed one is logged and retried).
 * Memory report: once a second (checked at the end of a turn: the batch's start stamp is also its
 * tsInit, so the report costs one more clock read per sampled batch — every batch of ≥ 16
 * commands, every one whose journal syncs and every stamped one, every 8th other —, ~60 ns, and one per idle wait) the
 * pool figures and memory size go to the control block with Atomics.store, no allocation but the
 * heap-statistics object (not read while a GC watch runs); the longest turn of that second is the engine's "event-loop delay" (the
 * loop never yields to Node's event loop, so perf_hooks cannot see it).
 * Known limitations: the engine waits for each batch's sync (no separate journal thread yet).
 */
import { performance } from 'node:perf_hooks';
import { GCProfiler, getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { CMD_SIZE, EVT_SIZE, RING_CMD_SIZE, RING_EVT_SIZE, RING_CMD_OFF, RING_EVT_OFF, EVT_OFF } from '../abi/records.js';
import { evtCmd } from '../abi/views.js';
import { MpscRing } from '../ring/mpsc-ring.js';
import { SpmcRing } from '../ring/spmc-ring.js';
import { Engine, type EngineOptions, type RiskSetup } from './engine.js';
import { JournalWriter, lockJournal, type JournalConfig } from '../journal/index.js';
import { recoverEngine, snapshotEngine } from './recovery.js';
import { ownThreadId, setOwnThreadRealtime } from '../sys/thread-priority.js';
import { bindBufferToNode, pinOwnThread, type MemoryBinding, type ThreadPlacement } from '../sys/affinity.js';
import { nowNsInto, setEpochOffsetNs } from '../domain/clock.js';
import { LatencyChannel, PublishStamps, S, StageRecorder } from '../monitoring/latency.js';

export interface EngineWorkerData {
  cmdRing: SharedArrayBuffer;
  evtRing: SharedArrayBuffer;
  control: SharedArrayBuffer;
  engine: EngineOptions;
  /** Commands per batch (≤ the engine's inbox). */
  batch: number;
  /** Start-up risk settings, applied before the first command (engine.risk must be set). */
  riskSetup?: RiskSetup;
  /** Journal (docs/journal.md): recovered at start; each batch is durable before its events are published. */
  journal?: JournalConfig;
  /** SCHED_FIFO priority for this thread (src/sys/thread-priority.ts); undefined leaves it as it is. */
  realtime?: number;
  /**
   * CPU placement (`serve --cpus`, src/sys/cpu-plan.ts): this thread pins itself to `cpus` first
   * (before recovery), then binds the engine's WASM memory to `memory.node` once the engine exists;
   * both read back from the kernel and posted as a `placement` message.
   */
  placement?: { cpus: number[]; memory: { node: number; mode: 'bind' | 'preferred'; nodes: number } | null };
  /** The host's epoch offset (src/domain/clock.ts, decimal ns), so tsInit and tsIn share one base. */
  epochOffsetNs?: string;
  /** Test hooks (EngineHost.setTestDelay): when true, each batch sleeps CTL_TEST_DELAY_MS ms. Never on in production. */
  testHooks?: boolean;
  /** Stage latency (src/monitoring/latency.ts): this thread's channel and the publish stamps; absent = tracking off. */
  latency?: { channel: SharedArrayBuffer; publish: SharedArrayBuffer };
}

export const CTL_STOP = 0;
export const CTL_STATE = 1;
export const CTL_SEQ_LO = 2;
export const CTL_SEQ_HI = 3;
/** GC watch (tests, benchmarks): the host stores 1 to start a v8 GCProfiler in this thread, 2 to stop it; the thread then posts a `gc` message (GcReport). */
export const CTL_GC = 4;
/** Memory report (once a second): orders pool capacity, in use, high water; levels the same; WASM pages (7 slots, Engine.memoryStatsInto). */
export const CTL_MEM_POOLS = 16;
/** Longest turn of the engine loop in the last report second, µs (its event-loop delay). */
export const CTL_MEM_TURN_MAX_US = 23;
/** The engine thread's V8 heap in use, KiB. */
export const CTL_MEM_HEAP_KIB = 24;
/** Memory reports written so far (0: none yet). */
export const CTL_MEM_REPORTS = 25;
/** Test hook: ms each batch sleeps (only with EngineWorkerData.testHooks). */
export const CTL_TEST_DELAY_MS = 28;
/** Int32 slots of the control block. */
export const CTL_SLOTS = 32;

/** What the engine thread's garbage collector did between a GC watch's start and stop. */
export interface GcReport {
  /** Young-generation collections (scavenges) and the longest one, ms. */
  scavenges: number;
  maxScavengeMs: number;
  /** Every other collection (mark-sweep-compact, incremental marking, weak callbacks). */
  others: number;
  /** Bytes allocated in the young generation meanwhile (its growth, plus what each GC found there). */
  allocatedBytes: number;
  /** Batches the engine thread ran meanwhile. */
  batches: number;
}

interface GcHeap { heapSpaceStatistics: { spaceName: string; spaceUsedSize: number }[] }
interface GcStat { gcType: string; cost: number; beforeGC: GcHeap; afterGC: GcHeap }

/** Bytes in use in the young generation (where a thread's new objects go). */
export function newSpaceUsed(spaces: readonly { spaceName: string; spaceUsedSize: number }[]): number {
  for (const s of spaces) if (s.spaceName === 'new_space') return s.spaceUsedSize;
  return 0;
}

/** Summarises a GCProfiler run: `used0`/`used1` the young generation's use at start and stop. */
export function gcReport(stats: readonly GcStat[], used0: number, used1: number, batches: number): GcReport {
  let scavenges = 0;
  let maxScavengeMs = 0;
  let others = 0;
  let allocated = 0;
  let after = used0;
  for (const g of stats) {
    if (g.gcType === 'Scavenge' || g.gcType === 'MinorMarkCompact') { scavenges++; if (g.cost / 1000 > maxScavengeMs) maxScavengeMs = g.cost / 1000; } else others++;
    allocated += Math.max(0, newSpaceUsed(g.beforeGC.heapSpaceStatistics) - after);
    after = newSpaceUsed(g.afterGC.heapSpaceStatistics);
  }
  allocated += Math.max(0, used1 - after);
  return { scavenges, maxScavengeMs, others, allocatedBytes: allocated, batches };
}

function run(d: EngineWorkerData): void {
  if (d.epochOffsetNs !== undefined) setEpochOffsetNs(BigInt(d.epochOffsetNs));
  const ctl = new Int32Array(d.control);
  const cmds = new MpscRing(d.cmdRing);
  const evts = new SpmcRing(d.evtRing);
  const opts: EngineOptions = { ...d.engine, inboxCapacity: Math.max(d.batch, d.engine.inboxCapacity ?? 0) };
  const log = (m: string): void => { parentPort?.postMessage({ type: 'log', message: m }); };
  let engine: Engine;
  let journal: JournalWriter | null = null;
  let seq = 0; // last assigned (fits a double exactly for 2^53 commands)
  let unlock: (() => void) | null = null;
  // pinned first, so recovery's page faults land on the engine CPU's node (first touch)
  const pin: ThreadPlacement | null = d.placement ? pinOwnThread('engine', d.placement.cpus) : null;
  // first, and before recovery, which replays under the same scheduling
  parentPort?.postMessage({ type: 'thread', tid: ownThreadId(), scheduling: d.realtime === undefined ? null : setOwnThreadRealtime(d.realtime) });
  if (d.journal) {
    unlock = lockJournal(d.journal.dir);
    const r = recoverEngine(d.journal.dir, opts, d.riskSetup, log);
    engine = r.engine;
    seq = Number(r.recovery.lastSeq);
    const active = r.recovery.segments[r.recovery.segments.length - 1];
    journal = new JournalWriter(d.journal.dir, r.recovery.lastSeq, active ? { firstSeq: active.firstSeq, size: active.size } : null, { ...d.journal, log });
    parentPort?.postMessage({ type: 'recovered', lastSeq: seq, snapshotSeq: Number(r.snapshotSeq), replayed: r.replayed, seconds: r.seconds, cut: r.recovery.cut });
  } else {
    engine = new Engine(opts);
    if (d.riskSetup) engine.applyRiskSetup(d.riskSetup);
  }
  if (d.placement) {
    // the engine's linear memory does not grow after engineInit: its pages are bound once, those
    // already faulted in (recovery) moved (MPOL_MF_MOVE), before the idle-time prefault touches the rest
    const memory: MemoryBinding | null = d.placement.memory ? bindBufferToNode(engine.raw.memory.buffer, d.placement.memory.node, d.placement.memory.mode, d.placement.memory.nodes) : null;
    parentPort?.postMessage({ type: 'placement', thread: pin, memory });
  }
  const snapEvery = d.journal?.snapshotEvery ?? 1_000_000;
  let lastSnap = seq;
  const batch = d.batch;
  const staging = new Uint8Array(batch * RING_CMD_SIZE);
  const st32 = new Uint32Array(staging.buffer);
  // the batch's events as ring slots: journaled from there, published after the commit
  let out = new Uint8Array(4096 * RING_EVT_SIZE);
  let out32 = new Uint32Array(out.buffer);
  let nOut = 0;
  let batchSeq0 = 0;
  let memBuf: ArrayBufferLike | null = null;
  let mem32: Int32Array<ArrayBufferLike> = new Int32Array(0);
  // the batch's tsInit as (lo, hi) u32 words: in a typed array, so no BigInt and no boxed number per batch
  const ts = new Uint32Array(2);
  // stage latency (docs/monitoring.md "Latency stages"): stamps as u32 words, recorded into this
  // thread's HDR histograms and offered to the main thread once a second (no allocation)
  const lat = d.latency ? { rec: new StageRecorder(), ch: new LatencyChannel(d.latency.channel), pub: new PublishStamps(d.latency.publish), t: new Uint32Array(4), due: new Float64Array(1), last: new Uint32Array(2), small: new Int32Array(1) } : null;
  // hands the histograms over once a second, judged by the stamp in t[2..3] (no clock read of its own)
  const offerIfDue = (): void => {
    if (lat === null) return;
    const now = lat.t[3]! * 4294967296 + lat.t[2]!;
    if (now >= lat.due[0]!) { lat.due[0] = now + 1e9; lat.ch.offer(lat.rec); }
  };
  Atomics.store(ctl, CTL_SEQ_LO, seq % 4294967296);
  Atomics.store(ctl, CTL_SEQ_HI, Math.floor(seq / 4294967296));
  Atomics.store(ctl, CTL_STATE, 1);
  const sink = (v: DataView, b: Uint8Array, k: number): void => {
    if ((nOut + k) * RING_EVT_SIZE > out.length) {
      let cap = out.length / RING_EVT_SIZE;
      while (cap < nOut + k) cap *= 2;
      const o2 = new Uint8Array(cap * RING_EVT_SIZE);
      o2.set(out.subarray(0, nOut * RING_EVT_SIZE));
      out = o2;
      out32 = new Uint32Array(out.buffer);
    }
    for (let i = 0; i < k; i++) {
      const cmdIdx = evtCmd(v, i * EVT_SIZE);
      const w = ((nOut + i) * RING_EVT_SIZE) >> 2;
      const s = batchSeq0 + cmdIdx;
      // u64/i64 fields as (lo, hi) u32 words: no BigInt per event
      out32[w + (RING_EVT_OFF.seq >> 2)] = s % 4294967296;
      out32[w + (RING_EVT_OFF.seq >> 2) + 1] = Math.floor(s / 4294967296);
      out32[w + (RING_EVT_OFF.tsInit >> 2)] = ts[0]!;
      out32[w + (RING_EVT_OFF.tsInit >> 2) + 1] = ts[1]!;
      const c = (cmdIdx * RING_CMD_SIZE) >> 2;
      out32[w + (RING_EVT_OFF.origin >> 2)] = st32[c + (RING_CMD_OFF.origin >> 2)]!;
      out32[w + (RING_EVT_OFF.token >> 2)] = st32[c + (RING_CMD_OFF.token >> 2)]!;
      out32[w + (RING_EVT_OFF.tsIn >> 2)] = st32[c + (RING_CMD_OFF.tsIn >> 2)]!;
      out32[w + (RING_EVT_OFF.tsIn >> 2) + 1] = st32[c + (RING_CMD_OFF.tsIn >> 2) + 1]!;
      if (b.buffer !== memBuf) { memBuf = b.buffer; mem32 = new Int32Array(memBuf, 0, memBuf.byteLength >> 2); }
      const from = (b.byteOffset + i * EVT_SIZE) >> 2;
      const to = w + (RING_EVT_OFF.evtType >> 2);
      for (let q = 0; q < EVT_SIZE >> 2; q++) out32[to + q] = mem32[from + q]!;
    }
    nOut += k;
  };
  const publish = (n: number): void => {
    let done = 0;
    while (done < n) {
      done += evts.publish(out, done * RING_EVT_SIZE, n - done, 100);
      if (done < n && Atomics.load(ctl, CTL_STOP) !== 0) throw new Error('stopped while consumers lagged');
    }
  };
  let gcSeen = 0;
  let gcProf: GCProfiler | null = null;
  let gcUsed0 = 0;
  let gcBatches = 0;
  const gcWatch = (g: number): void => {
    gcSeen = g;
    if (g === 1) { gcProf = new GCProfiler(); gcBatches = 0; gcUsed0 = newSpaceUsed(getHeapSpaceStatistics().map((x) => ({ spaceName: x.space_name, spaceUsedSize: x.space_used_size }))); gcProf.start(); return; }
    const r = gcProf?.stop() as { statistics: GcStat[] } | undefined;
    gcProf = null;
    parentPort?.postMessage({ type: 'gc', report: gcReport(r?.statistics ?? [], gcUsed0, newSpaceUsed(getHeapSpaceStatistics().map((x) => ({ spaceName: x.space_name, spaceUsedSize: x.space_used_size }))), gcBatches) });
  };
  let prefaultAt = 0;
  let prefaulted = false;
  const testHooks = d.testHooks === true;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  let turnSample = 0;
  const synced = journal !== null && journal.durability === 'fsync'; // a turn with an fdatasync: always timed
  // clock readings stay u32 words and doubles in typed arrays: a double returned by a call, passed
  // to one or stored in a closure's variable is a 16-byte heap number in optimised code too
  const clk = new Uint32Array(2); // the turn's end (or an idle turn's stamp), epoch ns words
  const t0 = new Uint32Array(2); // the turn's start, epoch ns words
  const tm = new Float64Array(2); // [0] the longest turn of this report second, ns; [1] the last report, epoch ns
  const report = (): void => {
    engine.memoryStatsInto(ctl, CTL_MEM_POOLS);
    Atomics.store(ctl, CTL_MEM_TURN_MAX_US, Math.min(2 ** 31 - 1, Math.round(tm[0]! / 1000)));
    // the heap figure is the report's one allocation: skipped while a GC watch measures this loop's own garbage
    if (gcProf === null) Atomics.store(ctl, CTL_MEM_HEAP_KIB, Math.round(getHeapStatistics().used_heap_size / 1024));
    Atomics.add(ctl, CTL_MEM_REPORTS, 1);
    tm[0] = 0;
    tm[1] = clk[1]! * 4294967296 + clk[0]!;
  };
  nowNsInto(clk, 0);
  report();
  const inbox = engine.inbox;
  const in32 = new Int32Array(inbox.buffer, inbox.byteOffset, inbox.byteLength >> 2);
  try {
    while (Atomics.load(ctl, CTL_STOP) === 0) {
      if (Atomics.load(ctl, CTL_GC) !== gcSeen) gcWatch(Atomics.load(ctl, CTL_GC));
      // spin ~10-20 µs before sleeping on the futex; while pages are still to fault in, a turn
      // that found no command for 1 ms touches 64 KiB of them (16 pages, ~10-30 µs), so the
      // first batches after start do not pay page faults (Engine.prefault) and a busy engine is
      // not slowed by it
      if (!cmds.waitReady(prefaulted ? 20 : 1, 4000)) {
        nowNsInto(clk, 0);
        if (lat !== null) { lat.t[2] = clk[0]!; lat.t[3] = clk[1]!; offerIfDue(); }
        if (!prefaulted) { const r = engine.prefault(prefaultAt, 64 << 10); prefaultAt = r.next; prefaulted = r.done; }
        if (clk[1]! * 4294967296 + clk[0]! - tm[1]! >= 1e9) report();
        continue;
      }
      const n = cmds.poll(staging, 0, batch);
      if (n === 0) continue;
      nowNsInto(t0, 0); // epoch ns, no BigInt
      // the test hook sleeps before tsInit is stamped: every stage from the ring on sees the delay
      if (testHooks) { const ms = Atomics.load(ctl, CTL_TEST_DELAY_MS); if (ms > 0) Atomics.wait(sleeper, 0, 0, ms); nowNsInto(ts, 0); }
      else { ts[0] = t0[0]!; ts[1] = t0[1]!; } // the turn's start stamp serves as tsInit
      gcBatches++;
      batchSeq0 = seq + 1;
      for (let i = 0; i < n; i++) {
        const from = (i * RING_CMD_SIZE) >> 2;
        const to = (i * CMD_SIZE) >> 2;
        for (let k = 0; k < CMD_SIZE >> 2; k++) in32[to + k] = st32[from + k]!;
      }
      let stamped = false;
      if (lat !== null) {
        // ring_to_engine: tsIn (ring enqueue) → tsInit (this dequeue), per command stamped by the gateway
        lat.rec.addSinceWords(S.ringToEngine, st32, RING_CMD_OFF.tsIn >> 2, RING_CMD_SIZE >> 2, n, ts[0]! | 0, ts[1]!);
        // the batch stages read the clock (16 bytes of garbage per read): every batch of ≥ 16
        // commands or ≥ 1 ms after the last stamped one, and every 8th other batch
        const gap = (ts[1]! - lat.last[1]!) * 4294967296 + (ts[0]! - lat.last[0]!);
        stamped = n >= 16 || gap >= 1e6 || (++lat.small[0]! & 7) === 0;
        if (stamped) { lat.last[0] = ts[0]!; lat.last[1] = ts[1]!; }
      }
      nOut = 0;
      engine.runInbox(n, sink);
      if (lat !== null && stamped) { nowNsInto(lat.t, 0); lat.rec.v[0] = (lat.t[1]! - ts[1]!) * 4294967296 + (lat.t[0]! - ts[0]!); lat.rec.add(S.engineMatch, n); }
      if (journal) {
        // one record per command with its events (they come in command order), one fdatasync
        let e = 0;
        for (let i = 0; i < n; i++) {
          const e0 = e;
          while (e < nOut && out32[((e * RING_EVT_SIZE) + RING_EVT_OFF.evtType + EVT_OFF.cmd) >> 2] === i) e++;
          journal.appendWords(ts[0]! | 0, ts[1]!, staging, i * RING_CMD_SIZE, out, e0 * RING_EVT_SIZE + RING_EVT_OFF.evtType, e - e0, RING_EVT_SIZE);
        }
        journal.commit(false); // the COMMIT mark after publishing (below): off the ack path
        if (lat !== null && stamped) { nowNsInto(lat.t, 2); lat.rec.v[0] = (lat.t[3]! - lat.t[1]!) * 4294967296 + (lat.t[2]! - lat.t[0]!); lat.rec.add(S.journalDurable, n); lat.t[0] = lat.t[2]!; lat.t[1] = lat.t[3]!; }
      }
      // sequenced (and durable) before anyone can see its events: a consumer that saw an event
      // always finds lastSeq at or past its command
      seq += n;
      Atomics.store(ctl, CTL_SEQ_LO, seq % 4294967296);
      Atomics.store(ctl, CTL_SEQ_HI, Math.floor(seq / 4294967296));
      // the publish stamp is the durable (or match-done) stamp: only the seq store lies between them
      if (lat !== null && stamped) lat.pub.put(batchSeq0, seq, lat.t[0]! | 0, lat.t[1]!);
      publish(nOut);
      if (lat !== null && stamped) {
        nowNsInto(lat.t, 2);
        lat.rec.v[0] = (lat.t[3]! - lat.t[1]!) * 4294967296 + (lat.t[2]! - lat.t[0]!);
        lat.rec.add(S.engineToPublish, n);
        lat.rec.tag(S.ringToEngine, seq); lat.rec.tag(S.engineMatch, seq); lat.rec.tag(S.journalDurable, seq); lat.rec.tag(S.engineToPublish, seq);
        offerIfDue();
      }
      journal?.markIfDue();
      let snapped = false;
      if (journal && snapEvery > 0 && seq - lastSnap >= snapEvery) {
        snapped = true;
        lastSnap = seq; // a failed snapshot is retried at the next interval; the journal stays the truth
        try {
          snapshotEngine(journal.dir, BigInt(seq), engine);
        } catch (e) {
          log(`journal: snapshot at seq ${seq} failed (${(e as Error).message}); recovery replays more of the journal until one succeeds`);
        }
      }
      // the turn's end is read on a sample of turns (each clock read is a 16-byte heap number:
      // Node 20's performance.now() is a native binding; an allocation-free loop is a contract,
      // test/integration/gateway-gc.test.ts): every batch of ≥ 16 commands, every one whose journal
      // syncs (its fdatasync is what makes a turn long, and it bounds the batch rate), every
      // stamped one, every 8th other batch. A stamped turn without a sync (COMMIT mark) or snapshot
      // after its publish ends at its publish stamp (one clock read less)
      if (n >= 16 || synced || stamped || (++turnSample & 7) === 0) {
        if (lat !== null && stamped && !synced && !snapped) { clk[0] = lat.t[2]!; clk[1] = lat.t[3]!; }
        else nowNsInto(clk, 0);
        const took = (clk[1]! - t0[1]!) * 4294967296 + (clk[0]! - t0[0]!);
        if (took > tm[0]!) tm[0] = took;
        if (clk[1]! * 4294967296 + clk[0]! - tm[1]! >= 1e9) report();
      }
    }
  } finally {
    if (journal && !journal.failed) journal.close();
    unlock?.();
  }
  Atomics.store(ctl, CTL_STATE, 2);
}

if (parentPort && workerData && (workerData as { cmdRing?: unknown }).cmdRing) {
  try {
    run(workerData as EngineWorkerData);
    parentPort.postMessage({ type: 'stopped' });
  } catch (e) {
    Atomics.store(new Int32Array((workerData as EngineWorkerData).control), CTL_STATE, 3);
    parentPort.postMessage({ type: 'failed', message: (e as Error).message });
  }
}
