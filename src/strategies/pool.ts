/**
 * The strategy worker pool (main thread): starts the strategy worker threads (worker.ts), places
 * strategies on them, relays control (create/start/stop/params/reset) and collects their status,
 * signals, trips and state changes. The API, CLI and `serve` use it (docs/strategies.md "Worker pool").
 *
 * Owns: the workers, the shared strategy order id counter (domain/ids.ts strategy range; blocks of
 * STRATEGY_ID_BLOCK), each worker's pairs block, and the latest status of every strategy.
 * Layout: data path — each worker joins the engine's event ring with its own cursor and pushes its
 * orders into the command ring itself; this thread is not on it. Control — postMessage requests
 * with a number, answered by the worker with the strategy's fresh status or an error (TradsysError
 * code and message, re-raised here). Status — each worker posts every strategy's status every
 * 250 ms (`list`/`get` answer from it). Signals — batched by the workers every 100 ms and handed to
 * `onSignals`. Pairs — a worker's `ctx.pairs` blocks (≤ 250 ms) until this thread has called
 * `opts.pairs` (the gateway's SagaManager) with the strategy's account and answered in the block.
 * Stage latency — with `latencyChannel`, each worker gets its own LatencyChannel buffer at spawn
 * and records the strategy stages into it (worker.ts; docs/monitoring.md "Latency stages").
 * Invariants: strategy ids are unique across the pool; a strategy lives on one worker; order ids
 * are unique across workers and restarts (the counter starts at `firstOrderId`, the read models'
 * highest strategy id + 1, or a clock-derived start above any earlier run's ids when it is not given).
 * Complexity: O(1) per control call (plus the worker's round trip). Allocation: per message.
 * Known limitations: each worker takes one of the event ring's 16 reader slots (MAX_READERS) — the
 * gateway, the storage writer and others hold some, so `workers` is capped by what is free (start
 * fails with ERR_STRATEGY_CONFIG otherwise); a worker that dies, or stalls in a hook for `stallMs`
 * (the watchdog then releases its ring cursor and terminates it), takes its strategies with it
 * (reported `failed`; their open orders stay in the book); orders a strategy left open in an
 * earlier run are not adopted.
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { epochOffsetNs } from '../domain/clock.js';
import { TradsysError, type ErrorCode } from '../domain/errors.js';
import { isStrategyOrderId, STRATEGY_ID_BASE_NUM, STRATEGY_ID_BLOCK, STRATEGY_ID_END_NUM } from '../domain/ids.js';
import type { Instrument, InstrumentSpec } from '../domain/instruments.js';
import type { EngineHost } from '../engine/host.js';
import { MAX_READERS } from '../ring/spmc-ring.js';
import { spawnWorker } from '../sys/spawn.js';
import type { ThreadPlacement } from '../sys/affinity.js';
import type { PairsRequest, Refusal, StrategyConfig } from './api.js';
import type { Trip, VelocityLimits } from './breakers.js';
import type { SignalRow, StrategyState, StrategyStatus } from './runner.js';
import { CTL_BEAT, CTL_STOP, PAIRS_REFUSAL, PAIRS_STATE, REFUSALS, TagTable, type ControlMsg, type RingLatency, type StrategyWorkerData, type WorkerMsg } from './worker.js';

export type { StrategyState, StrategyStatus, SignalRow } from './runner.js';
export type { RingLatency } from './worker.js';

export interface PoolOptions {
  host: EngineHost;
  instruments: readonly Instrument[];
  /** Worker threads (default max(1, cores − 1)); each takes an event ring reader slot. */
  workers?: number;
  /** The main thread's SagaManager, as the strategy's account. */
  pairs?(account: number, req: PairsRequest): number | Refusal;
  onSignals?(rows: SignalRow[]): void;
  onTrip?(id: string, trip: Trip): void;
  onState?(id: string, state: StrategyState, why: string): void;
  log?(level: 'info' | 'warn' | 'error', id: string, msg: string, fields?: Record<string, unknown>): void;
  /** First strategy order id (the read models' OrdersProjection.maxStrategyOrderId + 1 after a restart). */
  firstOrderId?: number;
  /** ES module URLs exporting `strategies: StrategyDefinition[]`: kinds beyond the built-ins, loaded in every worker. */
  strategyModules?: string[];
  /** Symbol velocity limits for every worker (default breakers.ts DEFAULT_VELOCITY). */
  velocity?: VelocityLimits;
  /** Status report interval, ms (default 250). */
  statusMs?: number;
  /**
   * The orders resting in the engine and the seq they are current to (e.g. the read models':
   * `OrdersProjection.restingOrders()` and its checkpoint): each worker's books are seeded from it
   * at start, once it is current to at least the worker's join point (waited for up to 10 s).
   * Without it, books start empty and fill as orders arrive.
   */
  restingOrders?(): { seq: number; orders: Iterable<{ symbol: number; id: number; side: number; price: number; leaves: number }> };
  /**
   * Stage latency: a new LatencyChannel's buffer for each worker (LatencyMonitor.channel().sab),
   * called once per worker at start; absent = the workers record no stage latency.
   */
  latencyChannel?(): SharedArrayBuffer;
  /** CPU placement (`serve --cpus … strategies=…`): worker i pins itself to `cpus(i)` at start (null: not pinned); its read-back is in `placements()`. */
  cpus?(index: number): number[] | null;
  /** Keep up to this many raw decision-to-ring samples per worker (benchmarks; `close` returns them). */
  latencySamples?: number;
  /**
   * A worker whose loop has not turned for this long (a hook that does not return) is cut off:
   * its event ring cursor released (the engine is never held back by it), the thread terminated,
   * its strategies `failed` (default 2000 ms; 0 = no watchdog).
   */
  stallMs?: number;
}

interface WorkerSlot {
  index: number;
  worker: Worker;
  control: Int32Array;
  pairsI32: Int32Array;
  pairsF64: Float64Array;
  strategies: Set<string>;
  ring: RingLatency;
  /** Its event ring reader and the seq of the last record before its join (from its ready message). */
  reader: number;
  joinSeq: number;
  /** It left the event ring itself (its `closed` message came). */
  left: boolean;
  beat: number;
  beatAt: number;
  alive: boolean;
  /** Its CPU pin as read back by the worker at start (null: not pinned). */
  placement: ThreadPlacement | null;
  closed: Promise<Float64Array | undefined>;
  onClosed: (s: Float64Array | undefined) => void;
}

interface Pending { slot: WorkerSlot; resolve(s: StrategyStatus | null): void; reject(e: Error): void }

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The spec an Instrument was made from (what a worker rebuilds it with). */
export function instrumentSpec(i: Instrument): InstrumentSpec {
  const j = i.toJSON() as Record<string, unknown>;
  const spec: Record<string, unknown> = {};
  for (const k of ['symbol', 'tickSize', 'lotSize', 'minQty', 'maxQty', 'minNotional', 'maxNotional', 'maxPosition', 'priceCollarBps', 'referencePrice', 'status']) {
    if (j[k] !== null && j[k] !== undefined) spec[k] = j[k];
  }
  return spec as unknown as InstrumentSpec;
}

export class StrategyPool {
  private readonly slots: WorkerSlot[];
  private readonly placed = new Map<string, WorkerSlot>();
  private readonly latest = new Map<string, StrategyStatus>();
  private readonly pending = new Map<number, Pending>();
  private req = 0;
  private closing = false;

  private constructor(private readonly opts: PoolOptions, slots: WorkerSlot[], private readonly tags: TagTable) {
    this.slots = slots;
  }

  /** Worker threads in the pool. */
  get workers(): number { return this.slots.length; }

  /** Each pinned worker's CPU pin as read back at its start (`cpus` option), in worker order. */
  placements(): ThreadPlacement[] { return this.slots.flatMap((x) => (x.placement ? [x.placement] : [])); }

  static async start(opts: PoolOptions): Promise<StrategyPool> {
    const n = opts.workers ?? Math.max(1, availableParallelism() - 1);
    if (!Number.isInteger(n) || n < 1 || n > MAX_READERS - 1) {
      throw new TradsysError('ERR_STRATEGY_CONFIG', `strategy workers must be an integer in [1, ${MAX_READERS - 1}] (each reads the event ring with its own cursor), got ${String(opts.workers)}`);
    }
    const first = opts.firstOrderId ?? STRATEGY_ID_BASE_NUM + Date.now() * 256;
    if (!Number.isSafeInteger(first) || first < STRATEGY_ID_BASE_NUM || first + STRATEGY_ID_BLOCK > STRATEGY_ID_END_NUM) {
      throw new TradsysError('ERR_STRATEGY_CONFIG', `firstOrderId ${first} is outside the strategy id range [2^52 + 2^51, 2^53)`);
    }
    const ids = new SharedArrayBuffer(8);
    const tags = new SharedArrayBuffer(TagTable.BYTES);
    new BigInt64Array(ids)[0] = BigInt(first);
    const instruments = opts.instruments.map(instrumentSpec);
    const slots: WorkerSlot[] = [];
    const ready: Promise<void>[] = [];
    const pool = new StrategyPool(opts, slots, new TagTable(tags));
    for (let i = 0; i < n; i++) {
      const control = new SharedArrayBuffer(16);
      const pairs = new SharedArrayBuffer(16);
      const data: StrategyWorkerData = {
        index: i, evtRing: opts.host.evtRing.sab, cmdRing: opts.host.cmdRing.sab, control, ids, pairs, tags, instruments,
        modules: opts.strategyModules ?? [], epochOffsetNs: epochOffsetNs().toString(), statusMs: opts.statusMs ?? 250, signalMs: 100,
        velocity: opts.velocity, samples: opts.latencySamples, latency: opts.latencyChannel?.(), cpus: opts.cpus?.(i) ?? undefined,
      };
      const worker = spawnWorker(import.meta.url, 'worker', data);
      let onClosed: (s: Float64Array | undefined) => void = () => {};
      const closed = new Promise<Float64Array | undefined>((res) => { onClosed = res; });
      const slot: WorkerSlot = {
        index: i, worker, control: new Int32Array(control), pairsI32: new Int32Array(pairs, 0, 2), pairsF64: new Float64Array(pairs, 8, 1),
        strategies: new Set(), ring: { count: 0, p50: 0, p99: 0, p999: 0, max: 0, backlog: 0, maxBacklog: 0 }, alive: true, closed, onClosed, reader: -1, joinSeq: 0, left: false, beat: -1, beatAt: 0, placement: null,
      };
      slots.push(slot);
      ready.push(new Promise<void>((res, rej) => {
        const t = setTimeout(() => rej(new TradsysError('ERR_STRATEGY_CONFIG', `strategy worker ${i} did not start within 60 s`)), 60_000);
        worker.on('message', (m: WorkerMsg) => {
          if (m.type === 'ready') { slot.reader = m.reader; slot.joinSeq = m.joinSeq; slot.placement = m.placement ?? null; clearTimeout(t); res(); } else if (m.type === 'failed') { clearTimeout(t); rej(pool.startError(i, m.message)); }
          pool.onMessage(slot, m);
        });
        worker.on('error', (e) => { clearTimeout(t); rej(pool.startError(i, e.message)); pool.onExit(slot, e.message); });
        worker.on('exit', () => pool.onExit(slot, 'exited'));
      }));
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      for (const s of slots) { Atomics.store(s.control, CTL_STOP, 1); void s.worker.terminate(); }
      throw e;
    }
    if (opts.restingOrders) {
      try {
        await pool.seed(opts.restingOrders);
      } catch (e) {
        await pool.close();
        throw e;
      }
    }
    const stallMs = opts.stallMs ?? 2000;
    if (stallMs > 0) {
      pool.watchdog = setInterval(() => pool.checkStalls(stallMs), Math.min(250, stallMs / 4));
      pool.watchdog.unref();
    }
    return pool;
  }

  private watchdog: NodeJS.Timeout | null = null;

  /** Seeds every worker's books from `src` once it is current to the worker's join point. */
  private async seed(src: NonNullable<PoolOptions['restingOrders']>): Promise<void> {
    const need = Math.max(...this.slots.map((s) => s.joinSeq));
    const deadline = Date.now() + 10_000;
    let snap = src();
    while (snap.seq < need && Date.now() < deadline) { await new Promise((r) => setTimeout(r, 2)); snap = src(); }
    if (snap.seq < need) this.opts.log?.('warn', '', `resting orders are current to seq ${snap.seq}, the workers joined the event ring after seq ${need}: books seeded anyway (orders of the commands between are missing until they trade or are cancelled)`);
    const flat: number[] = [];
    for (const o of snap.orders) flat.push(o.symbol, o.id, o.side, o.price, o.leaves);
    const orders = Float64Array.from(flat);
    await Promise.all(this.slots.map((s) => this.call(s, { type: 'seed', seq: snap.seq, orders })));
  }

  /** Cuts off a worker whose loop has stopped turning (see PoolOptions.stallMs). */
  private checkStalls(stallMs: number): void {
    const now = Date.now();
    for (const s of this.slots) {
      if (!s.alive || this.closing) continue;
      const b = Atomics.load(s.control, CTL_BEAT);
      if (b !== s.beat) { s.beat = b; s.beatAt = now; continue; }
      if (now - s.beatAt < stallMs) continue;
      const why = `stalled (a hook did not return within ${stallMs} ms): terminated, its event ring cursor released`;
      this.opts.log?.('error', '', `strategy worker ${s.index} ${why}; the open orders of its strategies (${[...s.strategies].join(', ') || 'none'}) are left in the book: cancel them through their accounts`);
      // a terminated thread runs no finally: release its cursor here, so the engine never waits for it
      if (s.reader >= 0 && !s.left) { this.opts.host.evtRing.leave(s.reader); s.left = true; }
      Atomics.store(s.control, CTL_STOP, 1);
      this.onExit(s, why);
      void s.worker.terminate();
    }
  }

  private startError(i: number, msg: string): TradsysError {
    const hint = /at most \d+ consumers/.test(msg) ? ' (no free event ring reader slot: use fewer strategy workers)' : '';
    return new TradsysError('ERR_STRATEGY_CONFIG', `strategy worker ${i} failed to start: ${msg}${hint}`);
  }

  private onMessage(slot: WorkerSlot, m: WorkerMsg): void {
    const o = this.opts;
    switch (m.type) {
      case 'reply': {
        const p = this.pending.get(m.req);
        if (!p) return;
        this.pending.delete(m.req);
        if (m.ok) { if (m.status) this.latest.set(m.status.id, m.status); p.resolve(m.status); } else p.reject(new TradsysError(m.code as ErrorCode, m.message));
        return;
      }
      case 'status':
        for (const s of m.list) if (this.placed.get(s.id) === slot) this.latest.set(s.id, s);
        slot.ring = m.ring;
        return;
      case 'state': {
        const s = this.latest.get(m.id);
        if (s) { s.state = m.state as StrategyState; s.why = m.why; }
        o.onState?.(m.id, m.state as StrategyState, m.why);
        return;
      }
      case 'trip': o.onTrip?.(m.id, m.trip); return;
      case 'signals': o.onSignals?.(m.rows); return;
      case 'log': o.log?.(m.level, m.id, m.msg, m.fields); return;
      case 'pairs': this.answerPairs(slot, m.account, m.req); return;
      case 'closed': slot.left = true; slot.onClosed(m.samples); return;
      default: return;
    }
  }

  private answerPairs(slot: WorkerSlot, account: number, req: PairsRequest): void {
    const st = slot.pairsI32;
    if (Atomics.compareExchange(st, PAIRS_STATE, 1, 2) !== 1) return; // the worker gave up waiting
    let r: number | Refusal;
    try {
      r = this.opts.pairs ? this.opts.pairs(account, req) : 'bad_order';
    } catch (e) {
      this.opts.log?.('warn', '', `pairs request of account ${account} failed: ${(e as Error).message}`);
      r = 'bad_order';
    }
    if (typeof r === 'number') { slot.pairsF64[0] = r; Atomics.store(st, PAIRS_REFUSAL, 0); } else Atomics.store(st, PAIRS_REFUSAL, REFUSALS.indexOf(r) + 1 || REFUSALS.indexOf('bad_order') + 1);
    Atomics.store(st, PAIRS_STATE, 3);
    Atomics.notify(st, PAIRS_STATE);
  }

  private onExit(slot: WorkerSlot, why: string): void {
    if (!slot.alive) return;
    slot.alive = false;
    slot.onClosed(undefined);
    for (const id of slot.strategies) {
      const s = this.latest.get(id);
      if (s && !this.closing) { s.state = 'failed'; s.why = `strategy worker ${slot.index} ${why}`; this.opts.onState?.(id, 'failed', s.why); }
    }
    for (const [k, p] of this.pending) { if (p.slot !== slot) continue; p.reject(new TradsysError('ERR_STRATEGY_STATE', `strategy worker ${slot.index} ${why}`)); this.pending.delete(k); }
  }

  private call(slot: WorkerSlot, msg: DistributiveOmit<ControlMsg, 'req'>): Promise<StrategyStatus | null> {
    if (!slot.alive) return Promise.reject(new TradsysError('ERR_STRATEGY_STATE', `strategy worker ${slot.index} is not running`));
    const req = ++this.req;
    return new Promise((resolve, reject) => {
      this.pending.set(req, { slot, resolve, reject });
      slot.worker.postMessage({ ...msg, req } as ControlMsg);
    });
  }

  private slotOf(id: string): WorkerSlot {
    const s = this.placed.get(id);
    if (!s) throw new TradsysError('ERR_STRATEGY_NOT_FOUND', `no strategy ${JSON.stringify(id)}`);
    return s;
  }

  /** Creates a strategy on a worker (its `worker`, else the one with the fewest), and starts it unless `autoStart` is false. */
  async create(cfg: StrategyConfig): Promise<StrategyStatus> {
    if (this.closing) throw new TradsysError('ERR_STRATEGY_STATE', 'the strategy pool is closing');
    if (typeof cfg !== 'object' || cfg === null) throw new TradsysError('ERR_STRATEGY_CONFIG', 'a strategy configuration must be a JSON object');
    if (typeof cfg.id !== 'string' || !ID_RE.test(cfg.id)) throw new TradsysError('ERR_STRATEGY_CONFIG', `strategy id must be 1-64 characters of letters, digits and ._- (starting with a letter or digit), got ${JSON.stringify(cfg.id)}`);
    if (this.placed.has(cfg.id)) throw new TradsysError('ERR_STRATEGY_CONFIG', `a strategy with id ${cfg.id} already exists`);
    let slot: WorkerSlot | undefined;
    if (cfg.worker !== undefined) {
      if (!Number.isInteger(cfg.worker) || cfg.worker < 0 || cfg.worker >= this.workers) throw new TradsysError('ERR_STRATEGY_CONFIG', `strategy ${cfg.id}: worker must be an integer in [0, ${this.workers - 1}], got ${JSON.stringify(cfg.worker)}`);
      slot = this.slots[cfg.worker];
    } else {
      for (const s of this.slots) if (s.alive && (!slot || s.strategies.size < slot.strategies.size)) slot = s;
    }
    if (!slot || !slot.alive) throw new TradsysError('ERR_STRATEGY_STATE', 'no strategy worker is running');
    this.placed.set(cfg.id, slot); // reserve the id while the worker checks the rest
    slot.strategies.add(cfg.id);
    let st: StrategyStatus | null;
    try {
      st = await this.call(slot, { type: 'add', cfg });
    } catch (e) {
      this.placed.delete(cfg.id);
      slot.strategies.delete(cfg.id);
      throw e;
    }
    if (cfg.autoStart !== false) st = await this.call(slot, { type: 'start', id: cfg.id });
    return st!;
  }

  async start(id: string): Promise<StrategyStatus> { return (await this.call(this.slotOf(id), { type: 'start', id }))!; }
  /** Stops the strategy (onStop) and cancels its open orders. */
  async stop(id: string): Promise<StrategyStatus> { return (await this.call(this.slotOf(id), { type: 'stop', id }))!; }
  async setParams(id: string, params: Record<string, unknown>): Promise<StrategyStatus> { return (await this.call(this.slotOf(id), { type: 'params', id, params }))!; }
  /** Admin re-enable of a tripped breaker (ERR_BREAKER_COOLDOWN before its cooldown has passed). */
  async reset(id: string): Promise<StrategyStatus> { return (await this.call(this.slotOf(id), { type: 'reset', id }))!; }
  /** Fresh status from the strategy's worker (list/get answer from the periodic reports). */
  async refresh(id: string): Promise<StrategyStatus> { return (await this.call(this.slotOf(id), { type: 'status', id }))!; }
  /** Stops and removes a strategy. */
  async remove(id: string): Promise<void> {
    const slot = this.slotOf(id);
    await this.call(slot, { type: 'remove', id });
    this.placed.delete(id);
    slot.strategies.delete(id);
    this.latest.delete(id);
  }

  /**
   * The tag (clientOrderId) a strategy gave the order `id`, for the read models' clientOrderId
   * resolver (as the gateway registry answers for its own orders); undefined for other ids, or an
   * order 65,536 strategy orders old.
   */
  clientOrderIdOf(id: bigint | number): string | undefined {
    const n = typeof id === 'bigint' ? Number(id) : id;
    return isStrategyOrderId(n) ? this.tags.get(n) : undefined;
  }

  /** Every strategy's latest status (≤ 250 ms old), by id. */
  list(): StrategyStatus[] { return [...this.placed.keys()].map((id) => this.latest.get(id)).filter((s): s is StrategyStatus => s !== undefined).sort((a, b) => (a.id < b.id ? -1 : 1)); }
  get(id: string): StrategyStatus | undefined { return this.latest.get(id); }

  /** Per worker: decision-to-ring latency (µs; market event's engine stamp → order pushed into the command ring) and event ring backlog. */
  ringLatency(): RingLatency[] { return this.slots.map((s) => s.ring); }

  /** Starts every worker's decision-to-ring latency record afresh (after a warm-up). */
  async resetLatency(): Promise<void> {
    await Promise.all(this.slots.filter((s) => s.alive).map((s) => this.call(s, { type: 'latency-reset' })));
    for (const s of this.slots) s.ring = { count: 0, p50: 0, p99: 0, p999: 0, max: 0, backlog: 0, maxBacklog: 0 };
  }

  /**
   * Stops every strategy (cancelling its orders: the engine must still run), then the workers.
   * Returns the raw latency samples per worker when `latencySamples` was set (benchmarks).
   */
  async close(): Promise<Float64Array[]> {
    if (this.closing) return [];
    this.closing = true;
    if (this.watchdog) clearInterval(this.watchdog);
    await Promise.all(this.slots.map(async (s) => {
      if (!s.alive) return;
      try { await withTimeout(this.call(s, { type: 'close' }), 5000); } catch { /* a dead or stuck worker: terminated below */ }
    }));
    for (const s of this.slots) Atomics.store(s.control, CTL_STOP, 1);
    const samples = await Promise.all(this.slots.map((s) => withTimeout(s.closed, 5000).catch(() => undefined)));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    // a worker that did not get to leave the ring (stuck, or died) must not hold the engine back
    for (const s of this.slots) if (!s.left && s.reader >= 0) { this.opts.host.evtRing.leave(s.reader); s.left = true; }
    return samples.map((x) => x ?? new Float64Array(0));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  return new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error('timed out')), ms);
    p.then((v) => { clearTimeout(t); res(v); }, (e: unknown) => { clearTimeout(t); rej(e as Error); });
  });
}
