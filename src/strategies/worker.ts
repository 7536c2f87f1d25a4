/**
 * A strategy worker thread (started by src/strategies/pool.ts): one StrategyRunner fed from the
 * engine's event ring, read in place with its own cursor, sending orders straight into the command
 * ring. Control, status, signals, trips and logs travel by postMessage (never the data path).
 *
 * Layout: `StrategyWorkerData` below. Shared blocks: `control` Int32Array [0] stop flag, [1]
 * heartbeat (incremented every loop turn: the pool's stall watchdog reads it); `ids`
 * BigInt64Array [0] the next free strategy order id (shared by every worker: each takes a block of
 * STRATEGY_ID_BLOCK ids with one Atomics.add); `pairs` Int32Array [0] state (0 idle, 1 requested,
 * 2 taken by the main thread, 3 answered), [1] refusal code (0: none), Float64Array at byte 8 the
 * saga number. RING_CMD records are written into a reused 96-byte record and pushed with
 * `MpscRing.tryPush` (origin 0, token 0 as saga legs: no connection waits for them; tsIn = now).
 * Loop: poll the ring (up to 1,024 records in place) → runner.onEvent each → runner.tick → consume;
 * idle: tick (timers, bars), wait up to 1 ms on the ring; every ≤ 5 ms it yields to its event loop
 * so that control messages are handled; status every `statusMs`, signals every `signalMs`.
 * Invariants: every event published after the worker joined reaches its runner once, in order; a
 * command is in the ring (or refused locally) before the next ring poll.
 * Stage latency (`latency`: a LatencyChannel, docs/monitoring.md "Latency stages"): RingSink
 * records `strategy_event_to_decision` (the poll's oldest event's tsInit → ctx.place / modify /
 * cancel) and `strategy_decision_to_ring` (→ the push) into this thread's StageRecorder, offered
 * to the main thread once a second (and at close). No allocation.
 * Decision-to-ring latency (status `ring`): at each order push, now − tsInit of the oldest event of the poll that
 * led to it (the engine's batch stamp; wall ns on the host's epoch base), into a LatencyHistogram
 * (reported with the status) and, for benchmarks (`samples`), a Float64Array of raw samples.
 * Complexity: O(events + hooks) per poll. Allocation: none per event (the runner's rules); one
 * BigInt per block of ids; status and signal messages allocate (off the data path).
 * Known limitations: a hook that never returns blocks its worker (and every strategy on it) until
 * the pool's watchdog terminates it (pool.ts `stallMs`) — the budget check only runs after a hook
 * returns; the worker joins the ring at its live edge (see market-view.ts on books).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pinOwnThread, type ThreadPlacement } from '../sys/affinity.js';
import { CMD_OFF, RING_CMD_OFF, RING_CMD_SIZE, RING_CMD_CID_MAX } from '../abi/records.js';
import { slotEvt, slotSeq, slotTsInitInto, slotTsInitNum } from '../abi/views.js';
import { nowNsInto, setEpochOffsetNs } from '../domain/clock.js';
import { TradsysError } from '../domain/errors.js';
import { STRATEGY_ID_BLOCK, STRATEGY_ID_END_NUM } from '../domain/ids.js';
import { Instrument, type InstrumentSpec } from '../domain/instruments.js';
import { LatencyChannel, S, StageRecorder } from '../monitoring/latency.js';
import { MpscRing } from '../ring/mpsc-ring.js';
import { SpmcRing } from '../ring/spmc-ring.js';
import type { PairsRequest, Refusal, StrategyConfig, StrategyDefinition } from './api.js';
import type { Trip, VelocityLimits } from './breakers.js';
import { LatencyHistogram } from './latency.js';
import { strategyKind, strategyRegistry } from './registry.js';
import { StrategyRunner, type SignalRow, type StrategyStatus } from './runner.js';

export interface StrategyWorkerData {
  index: number;
  evtRing: SharedArrayBuffer;
  cmdRing: SharedArrayBuffer;
  control: SharedArrayBuffer;
  ids: SharedArrayBuffer;
  pairs: SharedArrayBuffer;
  /** The tag table (TagTable): each new order's tag by id, for the main thread's read models. */
  tags: SharedArrayBuffer;
  instruments: InstrumentSpec[];
  /** URLs of ES modules that export `strategies: StrategyDefinition[]` (kinds beyond the built-ins). */
  modules: string[];
  epochOffsetNs: string;
  statusMs: number;
  signalMs: number;
  velocity?: VelocityLimits;
  /** Keep raw decision-to-ring samples (benchmarks), at most this many. */
  samples?: number;
  /** Stage latency (src/monitoring/latency.ts): this worker's LatencyChannel; absent = tracking off. */
  latency?: SharedArrayBuffer;
  /** CPU placement (`serve --cpus … strategies=…`): this thread pins itself to these CPUs first; absent: not pinned. */
  cpus?: number[];
}

/** Control messages (main → worker). */
export type ControlMsg =
  | { type: 'add'; req: number; cfg: StrategyConfig }
  | { type: 'start' | 'stop' | 'reset' | 'remove' | 'status'; req: number; id: string }
  | { type: 'latency-reset'; req: number }
  | { type: 'seed'; req: number; seq: number; orders: Float64Array }
  | { type: 'params'; req: number; id: string; params: Record<string, unknown> }
  | { type: 'close'; req: number };

/** Reports (worker → main). */
export type WorkerMsg =
  | { type: 'ready'; reader: number; joinSeq: number; placement: ThreadPlacement | null }
  | { type: 'failed'; message: string }
  | { type: 'reply'; req: number; ok: true; status: StrategyStatus | null }
  | { type: 'reply'; req: number; ok: false; code: string; message: string }
  | { type: 'status'; list: StrategyStatus[]; ring: RingLatency }
  | { type: 'state'; id: string; state: string; why: string }
  | { type: 'trip'; id: string; trip: Trip }
  | { type: 'signals'; rows: SignalRow[] }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; id: string; msg: string; fields?: Record<string, unknown> }
  | { type: 'pairs'; account: number; req: PairsRequest }
  | { type: 'closed'; samples?: Float64Array };

/**
 * Decision-to-ring latency of one worker (µs), since it started (or `resetLatency`), and its event
 * ring backlog: records published and not yet read, now and the most since the last report.
 */
export interface RingLatency { count: number; p50: number; p99: number; p999: number; max: number; backlog: number; maxBacklog: number }

export const CTL_STOP = 0;
export const CTL_BEAT = 1;
export const PAIRS_STATE = 0;
export const PAIRS_REFUSAL = 1;
/** Refusal codes in the pairs block (index + 1). */
export const REFUSALS: readonly Refusal[] = ['breaker_open', 'paused', 'stopped', 'ring_full', 'bad_order', 'unknown_order', 'limit'];

/**
 * Strategy orders' tags (their clientOrderIds) by order id, shared by the workers (writers) and the
 * main thread (reader: the read models' clientOrderId resolver, StrategyPool.clientOrderIdOf), so
 * that a live order shows its tag as a gateway order shows its clientOrderId.
 * Layout: TAG_SLOTS slots of 32 bytes, slot = id mod TAG_SLOTS: [0] id low u32, [4] id high u32
 * (0xffffffff while being written), [8] tag length, [9..24] the tag's ASCII bytes.
 * Ordering: the writer marks the slot (high word), writes the tag, then stores low and high words
 * (Atomics, release); a reader loads the id words, reads the tag, and loads them again: a changed
 * or marked slot reads as unknown. Ids are unique, so a slot overwritten by a newer id (TAG_SLOTS
 * orders later) simply answers unknown for the older one.
 */
export class TagTable {
  static readonly SLOTS = 65536;
  static readonly BYTES = TagTable.SLOTS * 32;
  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  constructor(sab: SharedArrayBuffer) { this.i32 = new Int32Array(sab); this.u8 = new Uint8Array(sab); }

  set(id: number, tag: string): void {
    const slot = id % TagTable.SLOTS;
    const w = slot * 8;
    const hi = Math.floor(id / 4294967296);
    Atomics.store(this.i32, w + 1, -1);
    const b = slot * 32;
    const n = Math.min(tag.length, 16);
    this.u8[b + 8] = n;
    for (let i = 0; i < n; i++) this.u8[b + 9 + i] = tag.charCodeAt(i) & 0x7f;
    Atomics.store(this.i32, w, (id - hi * 4294967296) | 0);
    Atomics.store(this.i32, w + 1, hi);
  }

  get(id: number): string | undefined {
    const slot = id % TagTable.SLOTS;
    const w = slot * 8;
    const hi = Math.floor(id / 4294967296);
    const lo = (id - hi * 4294967296) | 0;
    if (Atomics.load(this.i32, w + 1) !== hi || Atomics.load(this.i32, w) !== lo) return undefined;
    const b = slot * 32;
    const n = this.u8[b + 8]!;
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(this.u8[b + 9 + i]!);
    return Atomics.load(this.i32, w + 1) === hi && Atomics.load(this.i32, w) === lo ? s : undefined;
  }
}

/** Decision stamps a RingSink keeps (a ring: a command sent more than this many decisions after its own reads a newer stamp). */
export const DECISION_SLOTS = 1024;

/**
 * Writes RING_CMD records into the command ring (the worker's CommandSink). With a StageRecorder
 * (`stages`), it also records the strategy stages (docs/monitoring.md "Latency stages"):
 * `decide()` stamps the decision into a ring of DECISION_SLOTS epoch-ns word pairs and records
 * `strategy_event_to_decision` from `trig` (the triggering event's tsInit words; hi 0 = none);
 * `send(…, decision)` records `strategy_decision_to_ring` from that stamp to the push. No allocation.
 */
export class RingSink {
  private readonly rec = new Uint8Array(RING_CMD_SIZE);
  private readonly dv = new DataView(this.rec.buffer);
  private readonly u32 = new Uint32Array(this.rec.buffer);
  /** tsInit (ns, number) of the oldest event of the poll being handled; 0 when none (timers). */
  trigger = 0;
  readonly hist = new LatencyHistogram();
  private readonly stamp = new Uint32Array(2);
  samples: Float64Array | null = null;
  nSamples = 0;
  /** tsInit of the oldest event of the poll being handled, as epoch ns words (lo, hi); hi 0 = none (timers, control). */
  readonly trig = new Uint32Array(2);
  /** Decision stamps (epoch ns words), slot k at [2k, 2k + 1]. */
  private readonly dec = new Uint32Array(DECISION_SLOTS * 2);
  private decN = 0;

  constructor(private readonly ring: MpscRing, private readonly tags: TagTable | null = null, readonly stages: StageRecorder | null = null) {}

  /** A strategy decided a command now: its stamp's handle for `send` (−1 without stage latency). */
  decide(): number {
    const r = this.stages;
    if (r === null) return -1;
    const k = this.decN;
    this.decN = (k + 1) & (DECISION_SLOTS - 1);
    const d = this.dec;
    nowNsInto(d, k * 2);
    const t = this.trig;
    if (t[1] !== 0) { r.v[0] = (d[k * 2 + 1]! - t[1]!) * 4294967296 + (d[k * 2]! - t[0]!); r.add(S.strategyEventToDecision, 1); }
    return k;
  }

  send(op: number, side: number, type: number, tif: number, symbol: number, id: number, price: number, qty: number, account: number, cid: string, decision = -1): boolean {
    const dv = this.dv;
    const rec = this.rec;
    dv.setUint8(CMD_OFF.op, op); dv.setUint8(CMD_OFF.side, side); dv.setUint8(CMD_OFF.type, type); dv.setUint8(CMD_OFF.tif, tif);
    dv.setUint32(CMD_OFF.symbol, symbol, true);
    const idHi = Math.floor(id / 4294967296);
    dv.setUint32(CMD_OFF.id, id - idHi * 4294967296, true); dv.setUint32(CMD_OFF.id + 4, idHi, true);
    const pHi = Math.floor(price / 4294967296);
    dv.setUint32(CMD_OFF.price, price - pHi * 4294967296, true); dv.setInt32(CMD_OFF.price + 4, pHi, true);
    dv.setUint32(CMD_OFF.qty, qty, true); dv.setUint32(CMD_OFF.account, account, true);
    dv.setUint32(RING_CMD_OFF.origin, 0, true); dv.setUint32(RING_CMD_OFF.token, 0, true);
    rec.fill(0, RING_CMD_OFF.cidLen);
    const n = Math.min(cid.length, RING_CMD_CID_MAX);
    for (let i = 0; i < n; i++) rec[RING_CMD_OFF.cid0 + i] = cid.charCodeAt(i) & 0x7f;
    rec[RING_CMD_OFF.cidLen] = n;
    nowNsInto(this.u32, RING_CMD_OFF.tsIn >> 2);
    if (n > 0 && op === 1 && this.tags) this.tags.set(id, cid); // before the push: the order's A comes after it
    if (!this.ring.tryPush(rec)) return false;
    const r = this.stages;
    const timed = r !== null && decision >= 0;
    if (timed || this.trigger > 0) nowNsInto(this.stamp, 0); // the push stamp (tryPush returned)
    if (timed) {
      const d = this.dec;
      r.v[0] = (this.stamp[1]! - d[decision * 2 + 1]!) * 4294967296 + (this.stamp[0]! - d[decision * 2]!);
      r.add(S.strategyDecisionToRing, 1);
    }
    if (this.trigger > 0) {
      const ns = this.stamp[1]! * 4294967296 + this.stamp[0]! - this.trigger;
      this.hist.record(ns);
      const s = this.samples;
      if (s && this.nSamples < s.length) s[this.nSamples++] = ns;
    }
    return true;
  }

  latency(): RingLatency {
    const h = this.hist;
    let max = 0;
    for (let i = h.counts.length - 1; i >= 0; i--) if (h.counts[i]! > 0) { max = h.percentile(1); break; }
    return { count: h.total, p50: h.percentile(0.5) / 1000, p99: h.percentile(0.99) / 1000, p999: h.percentile(0.999) / 1000, max: max / 1000, backlog: 0, maxBacklog: 0 };
  }
}

/** Hands out strategy order ids in blocks from the shared counter. */
export class IdBlocks {
  private next = 0;
  private end = 0;
  private readonly counter: BigInt64Array;
  constructor(sab: SharedArrayBuffer) { this.counter = new BigInt64Array(sab, 0, 1); }
  take(): number {
    if (this.next >= this.end) {
      const start = Number(Atomics.add(this.counter, 0, BigInt(STRATEGY_ID_BLOCK)));
      if (start + STRATEGY_ID_BLOCK > STRATEGY_ID_END_NUM) throw new TradsysError('ERR_STRATEGY_STATE', 'the strategy order id range is used up');
      this.next = start;
      this.end = start + STRATEGY_ID_BLOCK;
    }
    return this.next++;
  }
}

async function run(d: StrategyWorkerData): Promise<void> {
  const port = parentPort!;
  const post = (m: WorkerMsg): void => port.postMessage(m);
  // placed first (src/sys/affinity.ts): the books and the modules' memory are then touched from its CPU
  const placement = d.cpus ? pinOwnThread(`strategies[${d.index}]`, d.cpus) : null;
  setEpochOffsetNs(BigInt(d.epochOffsetNs));
  const extra: StrategyDefinition[] = [];
  for (const url of d.modules) {
    const mod = (await import(url)) as { strategies?: StrategyDefinition[] };
    if (!Array.isArray(mod.strategies)) throw new Error(`strategy module ${url} exports no \`strategies\` array`);
    extra.push(...mod.strategies);
  }
  const registry = strategyRegistry(extra);
  const instruments = d.instruments.map((s, i) => new Instrument(i, s));
  const ctl = new Int32Array(d.control);
  const evts = new SpmcRing(d.evtRing);
  // stage latency (docs/monitoring.md "Latency stages"): this thread's recorder, handed to the main thread once a second
  const stages = d.latency ? new StageRecorder() : null;
  const channel = d.latency ? new LatencyChannel(d.latency) : null;
  const sink = new RingSink(new MpscRing(d.cmdRing), new TagTable(d.tags), stages);
  if (d.samples) sink.samples = new Float64Array(d.samples);
  const ids = new IdBlocks(d.ids);
  const pairsI32 = new Int32Array(d.pairs, 0, 2);
  const pairsF64 = new Float64Array(d.pairs, 8, 1);
  let signals: SignalRow[] = [];
  const runner = new StrategyRunner({
    instruments, now: Date.now, sink, nextOrderId: () => ids.take(), worker: d.index, velocity: d.velocity,
    onSignal: (row) => { signals.push(row); },
    onTrip: (id, trip) => post({ type: 'trip', id, trip }),
    onState: (id, state, why) => post({ type: 'state', id, state, why }),
    log: (level, id, msg, fields) => post({ type: 'log', level, id, msg, fields }),
    pairs: (account, req) => pairsCall(pairsI32, pairsF64, () => post({ type: 'pairs', account, req })),
  });
  const reply = (req: number, fn: () => StrategyStatus | null): void => {
    try {
      post({ type: 'reply', req, ok: true, status: fn() });
    } catch (e) {
      const err = e as Error & { code?: string };
      post({ type: 'reply', req, ok: false, code: typeof err.code === 'string' ? err.code : 'ERR_STRATEGY_STATE', message: err.message });
    }
  };
  const one = (id: string): StrategyStatus => runner.status(id)[0]!;
  let closing = false;
  port.on('message', (m: ControlMsg) => {
    switch (m.type) {
      case 'add': reply(m.req, () => { runner.add(m.cfg, strategyKind(registry, m.cfg.kind)); return one(m.cfg.id); }); break;
      case 'start': reply(m.req, () => { runner.start(m.id); return one(m.id); }); break;
      case 'stop': reply(m.req, () => { runner.stop(m.id); return one(m.id); }); break;
      case 'reset': reply(m.req, () => { runner.reset(m.id); return one(m.id); }); break;
      case 'params': reply(m.req, () => { runner.setParams(m.id, m.params); return one(m.id); }); break;
      case 'remove': reply(m.req, () => { runner.remove(m.id); return null; }); break;
      case 'status': reply(m.req, () => one(m.id)); break;
      case 'seed': reply(m.req, () => { runner.seedBooks(m.seq, m.orders); return null; }); break;
      case 'latency-reset': reply(m.req, () => { sink.hist.reset(); sink.nSamples = 0; return null; }); break;
      case 'close': closing = true; reply(m.req, () => { for (const s of runner.status()) runner.stop(s.id); return null; }); break;
    }
  });
  const r = evts.join();
  // the seq of the last record published before the join (its slot cannot have been reused: the
  // producer does not lap a cursor that has not moved), 0 when none: books are seeded as of ≥ it
  const joinSeq = evts.published === 0 ? 0 : slotSeq(evts.payload, evts.at(r, -1));
  post({ type: 'ready', reader: r, joinSeq, placement });
  const payload = evts.payload;
  let nextStatus = Date.now() + d.statusMs;
  let maxBacklog = 0;
  let lagging = false;
  const ringReport = (): RingLatency => ({ ...sink.latency(), backlog: evts.available(r), maxBacklog });
  let nextSignals = Date.now() + d.signalMs;
  let nextOffer = Date.now() + 1000;
  try {
    while (Atomics.load(ctl, CTL_STOP) === 0) {
      const sliceEnd = performance.now() + 5;
      do {
        Atomics.add(ctl, CTL_BEAT, 1);
        const n = evts.available(r);
        if (n > 0) {
          if (n > maxBacklog) maxBacklog = n;
          const m = n < 1024 ? n : 1024;
          sink.trigger = slotTsInitNum(payload, evts.at(r, 0));
          slotTsInitInto(payload, evts.at(r, 0), sink.trig, 0);
          try {
            for (let k = 0; k < m; k++) {
              const p = evts.at(r, k);
              runner.onEvent(payload, slotEvt(p), slotSeq(payload, p), slotTsInitNum(payload, p));
            }
            runner.tick();
          } finally {
            evts.consume(r, m);
          }
          sink.trigger = 0;
          sink.trig[1] = 0;
        } else {
          runner.tick();
          if (!evts.waitReady(r, 1, 50)) break;
        }
      } while (performance.now() < sliceEnd);
      const now = Date.now();
      if (channel !== null && now >= nextOffer) { channel.offer(stages!); nextOffer = now + 1000; }
      if (now >= nextSignals && signals.length > 0) { post({ type: 'signals', rows: signals }); signals = []; nextSignals = now + d.signalMs; }
      if (now >= nextStatus) {
        // a worker far behind holds the engine back (it waits for its slowest reader): say so once per episode
        if (maxBacklog > evts.capacity / 2 && !lagging) { lagging = true; post({ type: 'log', level: 'warn', id: '', msg: `strategy worker ${d.index} is ${maxBacklog} events behind the engine (event ring of ${evts.capacity}): its strategies' hooks are slower than the market` }); }
        else if (maxBacklog < evts.capacity / 8) lagging = false;
        post({ type: 'status', list: runner.status(), ring: ringReport() });
        nextStatus = now + d.statusMs;
        maxBacklog = 0;
      }
      await new Promise<void>((res) => setImmediate(res));
      if (closing) { runner.tick(); }
    }
  } finally {
    evts.leave(r);
  }
  if (signals.length > 0) post({ type: 'signals', rows: signals });
  if (channel !== null) channel.offer(stages!); // the last values, if the main thread took the previous ones
  post({ type: 'status', list: runner.status(), ring: ringReport() });
  post({ type: 'closed', samples: sink.samples ? sink.samples.slice(0, sink.nSamples) : undefined });
}

/** A pairs request answered synchronously by the main thread (see the module header): ≤ 250 ms to be taken, ≤ 1 s more to be answered. */
function pairsCall(st: Int32Array, res: Float64Array, send: () => void): number | Refusal {
  Atomics.store(st, PAIRS_STATE, 1);
  send();
  Atomics.wait(st, PAIRS_STATE, 1, 250);
  if (Atomics.compareExchange(st, PAIRS_STATE, 1, 0) === 1) return 'ring_full'; // not taken in time: withdrawn
  for (let i = 0; i < 20 && Atomics.load(st, PAIRS_STATE) === 2; i++) Atomics.wait(st, PAIRS_STATE, 2, 50);
  const code = Atomics.load(st, PAIRS_REFUSAL);
  const out: number | Refusal = Atomics.load(st, PAIRS_STATE) !== 3 ? 'ring_full' : code === 0 ? res[0]! : REFUSALS[code - 1] ?? 'bad_order';
  Atomics.store(st, PAIRS_STATE, 0);
  return out;
}

if (parentPort && workerData && (workerData as { evtRing?: unknown }).evtRing) {
  run(workerData as StrategyWorkerData).catch((e: unknown) => {
    parentPort!.postMessage({ type: 'failed', message: e instanceof Error ? e.message : String(e) } satisfies WorkerMsg);
  });
}
