/**
 * The engine driver: the Engine class, the one object through which the host runs the WASM
 * book — creation, batch submission, and the query, control and snapshot API (which delegate
 * to query.ts, controls.ts and snapshot.ts over the same BookInstance, instance.ts).
 *
 * Layout: the inbox takes CMD records (= .tso records), the outbox yields EVT records, queries
 * come back through scratch (LEVEL / ORDER) and CTRL (src/abi/records.ts). The record codecs
 * (record-codec.ts) and the option/result types (types.ts) are re-exported from here.
 * Invariants: views are rebuilt if `memory.buffer` changes (it does not after `engineInit`);
 * a WASM trap is turned into an `EngineError` (ERR_ENGINE_TRAP) and the instance is marked
 * dead — no call after that reaches the corrupt instance; a sink that throws fences it too.
 * Complexity: `submitRaw` costs one `set()` and one `bookRun` call per inbox-full of commands.
 * Allocation: `submitRaw` allocates nothing per command; the object API (`submit`, `depth`, ...)
 * allocates its results. Known limitations: one thread; not re-entrant from a sink.
 */
import { CMD_SIZE, EVT_SIZE } from '../abi/records.js';
import type { Command, EngineEvent, RestingOrder } from '../domain/types.js';
import { EngineError } from './errors.js';
import { randomBytes } from 'node:crypto';
import { instantiate, type BuildKind, type EngineExports } from './wasm.js';
import { BookInstance } from './instance.js';
import { decodeEvent, encodeCommand } from './record-codec.js';
import * as controls from './controls.js';
import * as query from './query.js';
import { checkSnapshot, encodeSnapshot, loadSnapshot } from './snapshot.js';
import type {
  AccountRisk, DepthLevel, EngineOptions, EventSink, MemoryStats, PositionRisk, RiskSetup, StpMode, SymbolRisk,
} from './types.js';

export type {
  EngineOptions, RiskOptions, SymbolRisk, AccountRisk, RiskSetup, PositionRisk, PoolStats, MemoryStats, DepthLevel, StpMode, EventSink,
} from './types.js';
export { encodeCommand, decodeCommand, decodeEvent, eventLineAt } from './record-codec.js';

const U32_MAX = 0xffffffff;

export class Engine {
  readonly symbols: number;
  readonly capacity: number;
  readonly inboxCapacity: number;
  readonly outboxCapacity: number;
  readonly build: BuildKind;
  private readonly ex: EngineExports;
  private readonly b: BookInstance;

  constructor(opts: EngineOptions) {
    const symbols = opts.symbols;
    const capacity = opts.capacity;
    const inCap = opts.inboxCapacity ?? 4096;
    const outCap = opts.outboxCapacity ?? 65536;
    for (const [k, v, lo, hi] of [['symbols', symbols, 1, 1 << 20], ['capacity', capacity, 1, 1 << 24],
      ['inboxCapacity', inCap, 1, 1 << 20], ['outboxCapacity', outCap, 16, 1 << 22]] as const) {
      if (!Number.isInteger(v) || v < lo || v > hi) {
        throw new EngineError('ERR_ENGINE_CONFIG', `${k} must be an integer in [${lo}, ${hi}], got ${String(v)}`);
      }
    }
    this.symbols = symbols;
    this.capacity = capacity;
    this.inboxCapacity = inCap;
    this.outboxCapacity = outCap;
    this.build = opts.build ?? 'release';
    this.ex = instantiate(this.build);
    const seed = opts.seed ?? randomBytes(4).readUInt32LE(0);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new EngineError('ERR_ENGINE_CONFIG', `seed must be a u32, got ${String(seed)}`);
    const rc = this.ex.engineInit(symbols, capacity, inCap, outCap, seed, Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2f) >>> 0);
    if (rc === -2) throw new EngineError('ERR_ENGINE_NO_MEMORY', `cannot reserve memory for ${capacity} orders and ${symbols} symbols`);
    if (rc !== 0) throw new EngineError('ERR_ENGINE_CONFIG', `engineInit refused the configuration (${rc})`);
    this.b = new BookInstance(this.ex, symbols, inCap, outCap);
    if (opts.risk) {
      const r = opts.risk;
      const maxAcc = r.maxAccounts ?? 65536;
      const maxPos = r.maxPositions ?? 262144;
      const defOpen = r.defaultMaxOpenOrders ?? 0;
      for (const [k, v, lo, hi] of [['risk.maxAccounts', maxAcc, 1, 1 << 24], ['risk.maxPositions', maxPos, 1, 1 << 24], ['risk.defaultMaxOpenOrders', defOpen, 0, U32_MAX]] as const) {
        if (!Number.isInteger(v) || v < lo || v > hi) throw new EngineError('ERR_ENGINE_CONFIG', `${k} must be an integer in [${lo}, ${hi}], got ${String(v)}`);
      }
      const rr = this.ex.riskEnable(maxAcc, maxPos, defOpen);
      if (rr === -2) throw new EngineError('ERR_ENGINE_NO_MEMORY', `cannot reserve risk tables for ${maxAcc} accounts and ${maxPos} positions`);
      if (rr !== 0) throw new EngineError('ERR_ENGINE_CONFIG', `riskEnable refused the configuration (${rr})`);
      this.b.riskMaxAccounts = maxAcc;
      this.b.riskMaxPositions = maxPos;
    }
    this.b.views();
  }

  static create(opts: EngineOptions): Engine {
    return new Engine(opts);
  }

  /**
   * Faults in the engine's memory ahead of use (creation reserves it without touching it): from
   * byte offset `from` (0: the start) for at most `maxBytes`, one write per 4 KiB page that leaves
   * its contents as they are. Returns the offset to continue from; `done` says every page is
   * resident. Call it untimed before measuring, or in idle slices (the engine thread does, see
   * worker.ts). Not during a batch. Complexity: O(maxBytes / 4096) page touches.
   */
  prefault(from = 0, maxBytes = 0xffffffff): { next: number; done: boolean } {
    const b = this.b;
    const end = b.ex.engineMemEnd() >>> 0;
    const next = b.ex.enginePrefault(from >>> 0, Math.min(maxBytes, 0xffffffff) >>> 0) >>> 0;
    return { next, done: next >= end };
  }

  // ── batches ────────────────────────────────────────────────────────────────────────────
  /** The inbox as bytes (CMD records); write up to `inboxCapacity` records then `runInbox`. */
  get inbox(): Uint8Array { this.b.views(); return this.b.inboxU8; }

  /** Runs `n` commands already in the inbox; `sink` gets every outbox fill. Returns events. */
  runInbox(n: number, sink: EventSink): number {
    if (!Number.isInteger(n) || n < 0 || n > this.inboxCapacity) {
      throw new EngineError('ERR_ENGINE_BAD_COMMAND', `batch size ${n} outside [0, ${this.inboxCapacity}]`);
    }
    if (n === 0) return 0;
    const b = this.b;
    if (b.dead) b.fenced();
    const ex = this.ex;
    if (ex.bookBusy() !== 0) throw new EngineError('ERR_ENGINE_BUSY', 'a batch is in progress (runInbox called from an event sink?)');
    b.epoch++;
    let total = 0;
    let k = 0;
    try {
      do {
        k = ex.bookRun(n);
        if (k < 0) throw new EngineError('ERR_ENGINE_BUSY', 'bookRun refused the batch');
        if (!b.viewsCurrent) b.views();
        total += k;
        if (k > 0) sink(b.outboxDv, b.outboxU8, k);
      } while (ex.bookBusy() !== 0);
    } catch (e) {
      if (BookInstance.isTrap(e)) b.fail(e);
      // the sink threw: finish the batch so that the engine is whole, then fence it, since the
      // caller has lost the events of the rest of the batch
      let lost = 0;
      try {
        while (ex.bookBusy() !== 0) { const m = ex.bookRun(n); if (m < 0) break; lost += m; }
      } catch (e2) {
        b.fail(e2);
      }
      b.dead = e as Error;
      throw new EngineError('ERR_ENGINE_SINK', `the event sink threw (${(e as Error).message}); ${lost} later events of the batch were not delivered, so the instance is fenced: restore from a snapshot or replay the journal`, { cause: e });
    }
    return total;
  }

  /**
   * Runs `count` CMD records from `bytes` (starting at byte `offset`), one `set()` and one
   * `bookRun` per inbox-full. The record bytes are the engine's input as they are: enum fields
   * out of range are answered with reject events, never a trap. Returns the number of events.
   */
  submitRaw(bytes: Uint8Array, offset: number, count: number, sink: EventSink): number {
    if (offset < 0 || count < 0 || offset + count * CMD_SIZE > bytes.length) {
      throw new EngineError('ERR_ENGINE_BAD_COMMAND', `submitRaw: ${count} records at ${offset} exceed ${bytes.length} bytes`);
    }
    let events = 0;
    let done = 0;
    while (done < count) {
      const n = Math.min(this.inboxCapacity, count - done);
      const start = offset + done * CMD_SIZE;
      this.inbox.set(bytes.subarray(start, start + n * CMD_SIZE));
      events += this.runInbox(n, sink);
      done += n;
    }
    return events;
  }

  /** Object API: validates and runs commands, returns their events (allocates). */
  submit(cmds: readonly Command[]): EngineEvent[] {
    const out: EngineEvent[] = [];
    const bytes = new Uint8Array(Math.min(cmds.length, this.inboxCapacity) * CMD_SIZE);
    const dv = new DataView(bytes.buffer);
    let base = 0;
    while (base < cmds.length) {
      const n = Math.min(this.inboxCapacity, cmds.length - base);
      for (let i = 0; i < n; i++) encodeCommand(dv, i * CMD_SIZE, cmds[base + i]!, base + i);
      this.submitRaw(bytes, 0, n, (v, _b, k) => {
        for (let i = 0; i < k; i++) {
          const e = decodeEvent(v, i * EVT_SIZE);
          e.cmd += base;
          out.push(e);
        }
      });
      base += n;
    }
    return out;
  }

  // ── queries (query.ts) ─────────────────────────────────────────────────────────────────
  /** L2: the best `n` levels of one side, best first. */
  depth(symbol: number, side: number, n = 10): DepthLevel[] { return query.depth(this.b, symbol, side, n); }
  /** L3: the orders resting at `price` on one side, in time priority (paged). */
  levelOrders(symbol: number, side: number, price: bigint | number, offset = 0, max = 1000): RestingOrder[] {
    return query.levelOrders(this.b, symbol, side, price, offset, max);
  }
  /** The resting order `id` of `symbol`, or null. */
  order(symbol: number, id: bigint | number): RestingOrder | null { return query.order(this.b, symbol, id); }
  /** Resting orders of a symbol. */
  orderCount(symbol: number): number { return query.orderCount(this.b, symbol); }
  /** Every resting order in canonical order (symbols ascending, bids best first, then asks). */
  orders(): Generator<RestingOrder> { return query.orders(this.b); }
  /** Deterministic hash of the logical engine state (placement-independent). */
  stateHash(): bigint { return query.stateHash(this.b); }
  /** Checks every structural invariant inside the engine; throws ERR_ENGINE_INVARIANT with its code. */
  validate(): void { query.validate(this.b); }
  /** Trades executed so far (the last trade id). */
  tradeSeq(): bigint { return query.tradeSeq(this.b); }
  memoryStats(): MemoryStats { return query.memoryStats(this.b); }
  /** memoryStats as seven Int32 slots at `out[at]` (query.memoryStatsInto), without allocating. */
  memoryStatsInto(out: Int32Array, at: number): void { query.memoryStatsInto(this.b, out, at); }

  // ── pre-trade controls (controls.ts; docs/risk.md) ─────────────────────────────────────
  /** Whether this engine checks pre-trade risk. */
  get riskEnabled(): boolean { return controls.riskEnabled(this.b); }
  /** The symbol's risk settings. */
  symbolRisk(symbol: number): SymbolRisk { return controls.symbolRisk(this.b, symbol); }
  /** Changes some of the symbol's risk settings (configuration; runtime halts go through ADMIN commands). */
  setSymbolRisk(symbol: number, change: Partial<SymbolRisk>): void { controls.setSymbolRisk(this.b, symbol, change); }
  /** The account's risk entry, or null if the engine has not seen the account. */
  accountRisk(account: number): AccountRisk | null { return controls.accountRisk(this.b, account); }
  /** Changes an account's limits (configuration; runtime kill switches go through ADMIN commands). */
  setAccountRisk(account: number, change: Partial<Pick<AccountRisk, 'maxOpenOrders' | 'killed' | 'maxPosition'>>): void {
    controls.setAccountRisk(this.b, account, change);
  }
  /** Every account the risk tables hold, in creation order. */
  accountsRisk(): AccountRisk[] { return controls.accountsRisk(this.b); }
  /** The account's position and open quantities in a symbol, or null if never traded/ordered. */
  position(account: number, symbol: number): PositionRisk | null { return controls.position(this.b, account, symbol); }
  /** Every position entry, in creation order. */
  positions(): PositionRisk[] { return controls.positions(this.b); }
  /** Applies a whole start-up risk configuration (symbols by index, then accounts, then the kill switch). */
  applyRiskSetup(setup: RiskSetup): void { controls.applyRiskSetup(this.b, setup); }
  /** The global kill switch (configuration; at runtime use the ADMIN command KILL_ALL). */
  get killAll(): boolean { return controls.killAll(this.b); }
  setKillAll(on: boolean): void { controls.setKillAll(this.b, on); }
  /** Self-trade prevention for one symbol (by account); default 'none'. */
  setSelfTradePrevention(symbol: number, mode: StpMode): void { controls.setSelfTradePrevention(this.b, symbol, mode); }
  selfTradePrevention(symbol: number): StpMode { return controls.selfTradePrevention(this.b, symbol); }
  /** Optional price band for limit prices (new and modify); outside prices get `bad_price`. */
  setPriceBand(symbol: number, band: { min: bigint | number; max: bigint | number } | null): void { controls.setPriceBand(this.b, symbol, band); }
  priceBand(symbol: number): { min: bigint; max: bigint } | null { return controls.priceBand(this.b, symbol); }

  // ── snapshot / restore (snapshot.ts: the byte layout) ──────────────────────────────────
  /** The whole engine state as bytes (layout in src/engine/snapshot.ts; allocates them). */
  snapshot(): Uint8Array { return encodeSnapshot(this.b, this.capacity); }

  /** A new engine holding exactly the state of `snapshot` (checked by CRC, invariants and hash). */
  static restore(snapshot: Uint8Array, opts: Partial<Omit<EngineOptions, 'symbols'>> = {}): Engine {
    const s = checkSnapshot(snapshot, opts);
    const risk = s.risk;
    const e = new Engine({
      ...opts, symbols: s.symbols, capacity: s.capacity,
      risk: risk ? { maxAccounts: risk.maxAccounts, maxPositions: risk.maxPositions, defaultMaxOpenOrders: risk.defaultMaxOpenOrders } : undefined,
    });
    loadSnapshot(e.b, s);
    return e;
  }

  /** Raw exports, for the ABI tests and the benchmarks only. */
  get raw(): EngineExports { return this.ex; }
}
