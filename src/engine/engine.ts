/**
 * The engine driver: the only module that calls the WASM exports.
 *
 * Owns: one WASM instance (one matching engine of `symbols` books and `capacity` resting
 * orders), its memory views, batch submission, queries, snapshot/restore.
 *
 * Layout: the inbox takes CMD records (= .tso records), the outbox yields EVT records, queries
 * come back through scratch (LEVEL / ORDER) and CTRL (src/abi/records.ts).
 * Invariants: views are rebuilt if `memory.buffer` changes (it does not after `engineInit`);
 * a WASM trap is turned into an `EngineError` (ERR_ENGINE_TRAP) and the instance is marked
 * dead — no call after that reaches the corrupt instance.
 * Complexity: `submitRaw` costs one `set()` and one `bookRun` call per inbox-full of commands.
 * Allocation: `submitRaw` allocates nothing per command; the object API (`submit`, `depth`, ...)
 * allocates its results. Known limitations: one thread; not re-entrant from a sink.
 */
import {
  CMD_OFF, CMD_SIZE, CTRL_OFF, ENUMS, EVT_OFF, EVT_SIZE, LEVEL_OFF, LEVEL_SIZE, ORDER_OFF, ORDER_SIZE,
} from '../abi/records.js';
import {
  evtAccount, evtCmd, evtFlags, evtIdBig, evtLeaves, evtMakerAccount, evtMakerBig, evtMakerLeaves, evtPriceBig, evtQty, evtReason,
  evtSide, evtSymbol, evtTradeIdBig, evtType,
} from '../abi/views.js';
import type { Command, EngineEvent, EventType, RestingOrder } from '../domain/types.js';
import { reasonName } from '../domain/types.js';
import { EngineError } from './errors.js';
import { randomBytes } from 'node:crypto';
import { crc32 } from '../sys/crc32.js';
import { instantiate, type BuildKind, type EngineExports } from './wasm.js';

export interface EngineOptions {
  /** Number of symbols; ids 0..symbols-1 exist. */
  symbols: number;
  /** Maximum resting orders over all symbols (pool size). */
  capacity: number;
  /** Commands per `bookRun` call (default 4096). */
  inboxCapacity?: number;
  /** Event records per outbox fill (default 65536). */
  outboxCapacity?: number;
  /** WASM build (default release). */
  build?: BuildKind;
  /**
   * Key of the engine's hash tables and treap priorities (default: random per instance). It only
   * affects speed under adversarial ids/prices, never events, books or the state hash.
   */
  seed?: number;
  /** Pre-trade risk in the engine (docs/risk.md); off when absent. Only at creation. */
  risk?: RiskOptions;
}

export interface RiskOptions {
  /** Accounts the risk tables hold (default 65,536). */
  maxAccounts?: number;
  /** (account, symbol) positions the risk tables hold (default 262,144). */
  maxPositions?: number;
  /** Open (resting) orders per account unless the account has its own limit; 0 = none (default). */
  defaultMaxOpenOrders?: number;
}

/** Per-symbol risk settings in ticks and lots; 0 / 0n means "no limit". */
export interface SymbolRisk {
  halted: boolean;
  minQty: number;
  maxQty: number;
  /**
   * Collar half-width in basis points around the last trade (before it: the mid, else the best
   * opposite price for an order that would trade on arrival); 0 = none, ≤ 10,000 (docs/risk.md).
   * Market orders trade only inside the same band (refused `price_collar` when the best opposite
   * price is outside it; the rest cancelled at its edge).
   */
  collarBps: number;
  /** Notional = price ticks × qty lots. */
  minNotional: bigint;
  maxNotional: bigint;
  /** Largest projected position (long or short) per account in this symbol, lots. */
  maxPosition: bigint;
  /** Collar reference: the last trade price; before the first trade the configured reference price, or 0n. */
  lastPrice: bigint;
}

export interface AccountRisk {
  account: number;
  openOrders: number;
  /** 0 = the engine default. */
  maxOpenOrders: number;
  killed: boolean;
  /** 0n = each symbol's maxPosition. */
  maxPosition: bigint;
}

/** Start-up risk configuration in one piece (what the engine thread applies before trading). */
export interface RiskSetup {
  symbols?: (Partial<SymbolRisk> | undefined)[];
  accounts?: [number, Partial<Pick<AccountRisk, 'maxOpenOrders' | 'killed' | 'maxPosition'>>][];
  killAll?: boolean;
}

export interface PositionRisk { account: number; symbol: number; position: bigint; openBuy: bigint; openSell: bigint }

export interface PoolStats { capacity: number; inUse: number; highWater: number; freeList: number }
export interface MemoryStats { orders: PoolStats; levels: PoolStats; wasmBytes: number; engineBytes: number }
export interface DepthLevel { price: bigint; qty: bigint; count: number }
export type StpMode = 'none' | 'cancel_resting' | 'cancel_incoming' | 'cancel_both';

/** Receives each outbox fill: `count` EVT records starting at byte `0` of `bytes`/`view`. */
export type EventSink = (view: DataView, bytes: Uint8Array, count: number) => void;

const STP_MODES: readonly StpMode[] = ['none', 'cancel_resting', 'cancel_incoming', 'cancel_both'];
const U32_MAX = 0xffffffff;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;
const EVT_TYPES: Record<number, EventType> = { 65: 'A', 82: 'R', 84: 'T', 88: 'X', 77: 'M', 75: 'K' };

const SNAP_MAGIC = 0x31535354; // 'TSS1' little-endian
const SNAP_VERSION = 2; // 2 adds the risk section; version 1 snapshots are still read
const SNAP_RISK_HEADER = 32;
const SNAP_RISK_SYM = 48;
const SNAP_RISK_ACCT = 32;
const SNAP_RISK_POS = 16;
const SNAP_HEADER = 64;
const SNAP_OPT = 32;

export class Engine {
  readonly symbols: number;
  readonly capacity: number;
  readonly inboxCapacity: number;
  readonly outboxCapacity: number;
  readonly build: BuildKind;
  private readonly ex: EngineExports;
  private buf!: ArrayBuffer;
  private u8!: Uint8Array;
  private dv!: DataView;
  private inboxPtr = 0;
  private outboxPtr = 0;
  private scratchPtr = 0;
  private ctrlPtr = 0;
  private inboxU8!: Uint8Array;
  private outboxU8!: Uint8Array;
  private outboxDv!: DataView;
  private dead: Error | null = null;
  /** Bumped by every change of state; `orders()` refuses to continue across one. */
  private epoch = 0;

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
    this.inboxPtr = this.ex.engineInboxPtr();
    this.outboxPtr = this.ex.engineOutboxPtr();
    this.scratchPtr = this.ex.engineScratchPtr();
    this.ctrlPtr = this.ex.engineCtrlPtr();
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
      this.riskMaxAccounts = maxAcc;
      this.riskMaxPositions = maxPos;
    }
    this.views();
  }

  private riskMaxAccounts = 0;
  private riskMaxPositions = 0;

  // ── pre-trade risk (docs/risk.md) ──────────────────────────────────────────────────────
  /** Whether this engine checks pre-trade risk. */
  get riskEnabled(): boolean { return this.ex.riskEnabled() === 1; }

  private needRisk(): void {
    if (!this.riskEnabled) throw new EngineError('ERR_ENGINE_CONFIG', 'pre-trade risk is not enabled on this engine (EngineOptions.risk)');
  }

  /** The symbol's risk settings. */
  symbolRisk(symbol: number): SymbolRisk {
    this.checkSymbol(symbol);
    this.needRisk();
    return this.call(() => {
      const r = this.ex.riskGetSymbol(symbol);
      this.views();
      const c = this.ctrlPtr;
      const q = this.dv.getBigUint64(c + CTRL_OFF.arg4, true);
      return {
        halted: (r & 0xff) === 1, collarBps: r >>> 8, minQty: Number(q & 0xffffffffn), maxQty: Number(q >> 32n),
        minNotional: this.dv.getBigInt64(c + CTRL_OFF.arg0, true), maxNotional: this.dv.getBigInt64(c + CTRL_OFF.arg1, true),
        maxPosition: this.dv.getBigInt64(c + CTRL_OFF.arg2, true), lastPrice: this.dv.getBigInt64(c + CTRL_OFF.arg3, true),
      };
    });
  }

  /** Changes some of the symbol's risk settings (configuration; runtime halts go through ADMIN commands). */
  setSymbolRisk(symbol: number, change: Partial<SymbolRisk>): void {
    const r = { ...this.symbolRisk(symbol), ...change };
    for (const [k, v] of [['minQty', r.minQty], ['maxQty', r.maxQty]] as const) {
      if (!Number.isInteger(v) || v < 0 || v > U32_MAX) throw new EngineError('ERR_ENGINE_CONFIG', `${k} must be a u32, got ${String(v)}`);
    }
    if (!Number.isInteger(r.collarBps) || r.collarBps < 0 || r.collarBps > 10000) throw new EngineError('ERR_ENGINE_CONFIG', `collarBps must be an integer in [0, 10000], got ${String(r.collarBps)}`);
    if (r.maxQty !== 0 && r.minQty > r.maxQty) throw new EngineError('ERR_ENGINE_CONFIG', `minQty ${r.minQty} above maxQty ${r.maxQty}`);
    const vals = [r.minNotional, r.maxNotional, r.maxPosition, r.lastPrice].map((v, i) => {
      const b = toI64(v, ['minNotional', 'maxNotional', 'maxPosition', 'lastPrice'][i]!);
      if (b < 0n) throw new EngineError('ERR_ENGINE_CONFIG', `${['minNotional', 'maxNotional', 'maxPosition', 'lastPrice'][i]} must not be negative`);
      return b;
    });
    this.call(() => {
      this.idle();
      this.epoch++;
      const c = this.ctrlPtr;
      this.dv.setBigInt64(c + CTRL_OFF.arg0, vals[0]!, true);
      this.dv.setBigInt64(c + CTRL_OFF.arg1, vals[1]!, true);
      this.dv.setBigInt64(c + CTRL_OFF.arg2, vals[2]!, true);
      this.dv.setBigInt64(c + CTRL_OFF.arg3, vals[3]!, true);
      if (this.ex.riskSetSymbol(symbol, r.halted ? 1 : 0, r.minQty, r.maxQty, r.collarBps) !== 0) throw new EngineError('ERR_ENGINE_CONFIG', `riskSetSymbol refused ${JSON.stringify(change, (_k, v) => typeof v === 'bigint' ? String(v) : v)}`);
    });
  }

  /** The account's risk entry, or null if the engine has not seen the account. */
  accountRisk(account: number): AccountRisk | null {
    this.needRisk();
    const e = this.ex.riskFindAccount(u32field(account, 'account', 0));
    return e === 0 ? null : this.accountAt(e);
  }

  private accountAt(e: number): AccountRisk {
    return this.call(() => {
      this.ex.riskAccountAt(e);
      this.views();
      const c = this.ctrlPtr;
      const g = (o: number): bigint => this.dv.getBigInt64(c + o, true);
      return { account: Number(g(CTRL_OFF.arg0)), openOrders: Number(g(CTRL_OFF.arg1)), maxOpenOrders: Number(g(CTRL_OFF.arg2)), killed: g(CTRL_OFF.arg3) === 1n, maxPosition: g(CTRL_OFF.arg4) };
    });
  }

  /** Changes an account's limits (configuration; runtime kill switches go through ADMIN commands). */
  setAccountRisk(account: number, change: Partial<Pick<AccountRisk, 'maxOpenOrders' | 'killed' | 'maxPosition'>>): void {
    this.needRisk();
    const cur = this.accountRisk(account) ?? { maxOpenOrders: 0, killed: false, maxPosition: 0n };
    const r = { ...cur, ...change };
    if (!Number.isInteger(r.maxOpenOrders) || r.maxOpenOrders < 0 || r.maxOpenOrders > U32_MAX) throw new EngineError('ERR_ENGINE_CONFIG', `maxOpenOrders must be a u32, got ${String(r.maxOpenOrders)}`);
    const mp = toI64(r.maxPosition, 'maxPosition');
    if (mp < 0n) throw new EngineError('ERR_ENGINE_CONFIG', 'maxPosition must not be negative');
    this.call(() => {
      this.idle();
      this.epoch++;
      this.dv.setBigInt64(this.ctrlPtr + CTRL_OFF.arg0, mp, true);
      const rc = this.ex.riskSetAccount(account, r.maxOpenOrders, r.killed ? 1 : 0);
      if (rc === -2) throw new EngineError('ERR_ENGINE_CONFIG', `the risk tables hold ${this.riskMaxAccounts} accounts; raise risk.maxAccounts`);
      if (rc !== 0) throw new EngineError('ERR_ENGINE_CONFIG', `riskSetAccount refused account ${account}`);
    });
  }

  /** Every account the risk tables hold, in creation order. */
  accountsRisk(): AccountRisk[] {
    this.needRisk();
    const out: AccountRisk[] = [];
    for (let e = 1, n = this.ex.riskAccountCount(); e <= n; e++) out.push(this.accountAt(e));
    return out;
  }

  /** The account's position and open quantities in a symbol, or null if never traded/ordered. */
  position(account: number, symbol: number): PositionRisk | null {
    this.needRisk();
    this.checkSymbol(symbol);
    const e = this.ex.riskFindPosition(u32field(account, 'account', 0), symbol);
    return e === 0 ? null : this.positionAt(e);
  }

  private positionAt(e: number): PositionRisk {
    return this.call(() => {
      this.ex.riskPositionAt(e);
      this.views();
      const c = this.ctrlPtr;
      const g = (o: number): bigint => this.dv.getBigInt64(c + o, true);
      return { account: Number(g(CTRL_OFF.arg0)), symbol: Number(g(CTRL_OFF.arg1)), position: g(CTRL_OFF.arg2), openBuy: g(CTRL_OFF.arg3), openSell: g(CTRL_OFF.arg4) };
    });
  }

  /** Every position entry, in creation order. */
  positions(): PositionRisk[] {
    this.needRisk();
    const out: PositionRisk[] = [];
    for (let e = 1, n = this.ex.riskPositionCount(); e <= n; e++) out.push(this.positionAt(e));
    return out;
  }

  /** Applies a whole start-up risk configuration (symbols by index, then accounts, then the kill switch). */
  applyRiskSetup(setup: RiskSetup): void {
    this.needRisk();
    (setup.symbols ?? []).forEach((r, s) => { if (r) this.setSymbolRisk(s, r); });
    for (const [acct, r] of setup.accounts ?? []) this.setAccountRisk(acct, r);
    if (setup.killAll !== undefined) this.setKillAll(setup.killAll);
  }

  /** The global kill switch (configuration; at runtime use the ADMIN command KILL_ALL). */
  get killAll(): boolean { return this.riskEnabled && this.ex.riskGetKillAll() === 1; }
  setKillAll(on: boolean): void {
    this.needRisk();
    this.call(() => { this.idle(); this.epoch++; this.ex.riskKillAll(on ? 1 : 0); });
  }

  static create(opts: EngineOptions): Engine {
    return new Engine(opts);
  }

  private views(): void {
    const b = this.ex.memory.buffer;
    if (b === this.buf) return;
    this.buf = b;
    this.u8 = new Uint8Array(b);
    this.dv = new DataView(b);
    this.inboxU8 = new Uint8Array(b, this.inboxPtr, this.inboxCapacity * CMD_SIZE);
    this.outboxU8 = new Uint8Array(b, this.outboxPtr, this.outboxCapacity * EVT_SIZE);
    this.outboxDv = new DataView(b, this.outboxPtr, this.outboxCapacity * EVT_SIZE);
  }

  private fenced(): never {
    throw new EngineError('ERR_ENGINE_TRAP', `engine is unusable after an earlier failure: ${this.dead!.message}`);
  }

  /** Rethrows `e`; a trap becomes ERR_ENGINE_TRAP and fences the instance for good. */
  private fail(e: unknown): never {
    if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError || (e instanceof EngineError && e.code === 'ERR_ENGINE_ABORT')) {
      this.dead = e as Error;
      throw new EngineError('ERR_ENGINE_TRAP', `engine trapped: ${(e as Error).message}; restore from a snapshot or replay the journal`, { cause: e });
    }
    throw e;
  }

  /** Runs `f` against the instance, turning a trap into an EngineError and fencing the instance. */
  private call<T>(f: () => T): T {
    if (this.dead) this.fenced();
    try {
      return f();
    } catch (e) {
      return this.fail(e);
    }
  }

  // ── batches ────────────────────────────────────────────────────────────────────────────
  /** The inbox as bytes (CMD records); write up to `inboxCapacity` records then `runInbox`. */
  get inbox(): Uint8Array { this.views(); return this.inboxU8; }

  /** Runs `n` commands already in the inbox; `sink` gets every outbox fill. Returns events. */
  runInbox(n: number, sink: EventSink): number {
    if (!Number.isInteger(n) || n < 0 || n > this.inboxCapacity) {
      throw new EngineError('ERR_ENGINE_BAD_COMMAND', `batch size ${n} outside [0, ${this.inboxCapacity}]`);
    }
    if (n === 0) return 0;
    if (this.dead) this.fenced();
    const ex = this.ex;
    if (ex.bookBusy() !== 0) throw new EngineError('ERR_ENGINE_BUSY', 'a batch is in progress (runInbox called from an event sink?)');
    this.epoch++;
    let total = 0;
    let k = 0;
    try {
      do {
        k = ex.bookRun(n);
        if (k < 0) throw new EngineError('ERR_ENGINE_BUSY', 'bookRun refused the batch');
        if (ex.memory.buffer !== this.buf) this.views();
        total += k;
        if (k > 0) sink(this.outboxDv, this.outboxU8, k);
      } while (ex.bookBusy() !== 0);
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError || e instanceof RangeError || (e instanceof EngineError && e.code === 'ERR_ENGINE_ABORT')) this.fail(e);
      // the sink threw: finish the batch so that the engine is whole, then fence it, since the
      // caller has lost the events of the rest of the batch
      let lost = 0;
      try {
        while (ex.bookBusy() !== 0) { const m = ex.bookRun(n); if (m < 0) break; lost += m; }
      } catch (e2) {
        this.fail(e2);
      }
      this.dead = e as Error;
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

  // ── queries ────────────────────────────────────────────────────────────────────────────
  private checkSymbol(symbol: number): void {
    if (!Number.isInteger(symbol) || symbol < 0 || symbol >= this.symbols) {
      throw new EngineError('ERR_ENGINE_BAD_COMMAND', `unknown symbol ${String(symbol)} (0..${this.symbols - 1})`);
    }
  }
  private checkSide(side: number): void {
    if (side !== 0 && side !== 1) throw new EngineError('ERR_ENGINE_BAD_COMMAND', `side must be 0 (buy) or 1 (sell), got ${String(side)}`);
  }
  private idle(): void {
    if (this.ex.bookBusy() !== 0) throw new EngineError('ERR_ENGINE_BUSY', 'a batch is in progress');
  }

  /** L2: the best `n` levels of one side, best first. */
  depth(symbol: number, side: number, n = 10): DepthLevel[] {
    this.checkSymbol(symbol);
    this.checkSide(side);
    return this.call(() => {
      this.idle();
      const k = this.ex.bookDepth(symbol, side, Math.max(0, Math.min(n, 1 << 20)));
      this.views();
      const out: DepthLevel[] = [];
      for (let i = 0; i < k; i++) {
        const p = this.scratchPtr + i * LEVEL_SIZE;
        out.push({
          price: this.dv.getBigInt64(p + LEVEL_OFF.price, true),
          qty: this.dv.getBigUint64(p + LEVEL_OFF.qty, true),
          count: this.dv.getUint32(p + LEVEL_OFF.count, true),
        });
      }
      return out;
    });
  }

  /** L3: the orders resting at `price` on one side, in time priority (paged). */
  levelOrders(symbol: number, side: number, price: bigint | number, offset = 0, max = 1000): RestingOrder[] {
    this.checkSymbol(symbol);
    this.checkSide(side);
    const px = toI64(price, 'price');
    return this.call(() => {
      this.idle();
      this.dv.setBigInt64(this.ctrlPtr + CTRL_OFF.arg0, px, true);
      const k = this.ex.bookLevelOrders(symbol, side, offset, max);
      this.views();
      const out: RestingOrder[] = [];
      for (let i = 0; i < k; i++) out.push(this.readOrder(this.scratchPtr + i * ORDER_SIZE));
      return out;
    });
  }

  /** The resting order `id` of `symbol`, or null. */
  order(symbol: number, id: bigint | number): RestingOrder | null {
    this.checkSymbol(symbol);
    const i = toU64(id, 'id');
    return this.call(() => {
      this.dv.setBigUint64(this.ctrlPtr + CTRL_OFF.arg0, i, true);
      return this.ex.bookOrder(symbol) === 1 ? this.readOrder(this.scratchPtr) : null;
    });
  }

  private readOrder(p: number): RestingOrder {
    const dv = this.dv;
    return {
      symbol: dv.getUint32(p + ORDER_OFF.symbol, true),
      side: dv.getUint8(p + ORDER_OFF.side),
      price: dv.getBigInt64(p + ORDER_OFF.price, true),
      id: dv.getBigUint64(p + ORDER_OFF.id, true),
      leaves: dv.getUint32(p + ORDER_OFF.leaves, true),
      account: dv.getUint32(p + ORDER_OFF.account, true),
      filled: dv.getBigUint64(p + ORDER_OFF.filled, true),
    };
  }

  /** Resting orders of a symbol. */
  orderCount(symbol: number): number {
    this.checkSymbol(symbol);
    return this.ex.bookOrderCount(symbol);
  }

  /** Every resting order in canonical order (symbols ascending, bids best first, then asks). */
  *orders(): Generator<RestingOrder> {
    this.call(() => { this.idle(); this.ex.bookSnapBegin(); });
    const epoch = this.epoch;
    const chunk = 4096;
    for (;;) {
      if (this.epoch !== epoch) throw new EngineError('ERR_ENGINE_BUSY', 'the engine changed while orders() was being iterated');
      const k = this.call(() => this.ex.bookSnapNext(chunk));
      if (k === 0) return;
      this.views();
      const got: RestingOrder[] = [];
      for (let i = 0; i < k; i++) got.push(this.readOrder(this.scratchPtr + i * ORDER_SIZE));
      yield* got;
    }
  }

  /** Deterministic hash of the logical engine state (placement-independent). */
  stateHash(): bigint {
    return this.call(() => {
      this.idle();
      this.ex.engineStateHash();
      this.views();
      return this.dv.getBigUint64(this.ctrlPtr + CTRL_OFF.hash, true);
    });
  }

  /** Checks every structural invariant inside the engine; throws ERR_ENGINE_INVARIANT with its code. */
  validate(): void {
    const rc = this.call(() => { this.idle(); return this.ex.engineValidate() || this.ex.riskValidate(); });
    if (rc !== 0) throw new EngineError('ERR_ENGINE_INVARIANT', `engine invariant ${rc} broken (see engineValidate in assembly/book/query.ts, riskValidate in assembly/book/risk-api.ts)`);
  }

  /** Trades executed so far (the last trade id). */
  tradeSeq(): bigint {
    this.ex.engineGetTradeSeq();
    this.views();
    return this.dv.getBigUint64(this.ctrlPtr + CTRL_OFF.tradeSeq, true);
  }

  memoryStats(): MemoryStats {
    const pool = (p: number): PoolStats => ({
      capacity: this.ex.poolStatCapacity(p), inUse: this.ex.poolStatInUse(p),
      highWater: this.ex.poolStatHighWater(p), freeList: this.ex.poolStatFreeList(p),
    });
    return { orders: pool(ENUMS.Pool.ORDERS), levels: pool(ENUMS.Pool.LEVELS), wasmBytes: this.ex.memory.buffer.byteLength, engineBytes: this.ex.engineMemEnd() >>> 0 };
  }

  /** Self-trade prevention for one symbol (by account); default 'none'. */
  setSelfTradePrevention(symbol: number, mode: StpMode): void {
    this.checkSymbol(symbol);
    const m = STP_MODES.indexOf(mode);
    if (m < 0) throw new EngineError('ERR_ENGINE_CONFIG', `self-trade prevention must be one of ${STP_MODES.join(', ')}`);
    this.call(() => { this.idle(); this.epoch++; this.ex.bookSetStp(symbol, m); });
  }
  selfTradePrevention(symbol: number): StpMode {
    this.checkSymbol(symbol);
    return STP_MODES[this.ex.bookGetStp(symbol)]!;
  }

  /** Optional price band for limit prices (new and modify); outside prices get `bad_price`. */
  setPriceBand(symbol: number, band: { min: bigint | number; max: bigint | number } | null): void {
    this.checkSymbol(symbol);
    this.call(() => {
      this.idle();
      this.epoch++;
      if (band === null) { this.ex.bookSetBand(symbol, 0); return; }
      const lo = toI64(band.min, 'band min');
      const hi = toI64(band.max, 'band max');
      if (lo <= 0n || hi < lo) throw new EngineError('ERR_ENGINE_CONFIG', `price band needs 0 < min ≤ max, got [${lo}, ${hi}]`);
      this.dv.setBigInt64(this.ctrlPtr + CTRL_OFF.arg0, lo, true);
      this.dv.setBigInt64(this.ctrlPtr + CTRL_OFF.arg1, hi, true);
      this.ex.bookSetBand(symbol, 1);
    });
  }
  priceBand(symbol: number): { min: bigint; max: bigint } | null {
    this.checkSymbol(symbol);
    const on = this.ex.bookGetBand(symbol);
    if (on !== 1) return null;
    this.views();
    return { min: this.dv.getBigInt64(this.ctrlPtr + CTRL_OFF.arg0, true), max: this.dv.getBigInt64(this.ctrlPtr + CTRL_OFF.arg1, true) };
  }

  // ── snapshot / restore ─────────────────────────────────────────────────────────────────
  /**
   * The whole engine state as bytes. Layout (little-endian):
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
   */
  snapshot(): Uint8Array {
    const opts: number[] = [];
    for (let s = 0; s < this.symbols; s++) {
      if (this.ex.bookGetStp(s) !== 0 || this.ex.bookGetBand(s) === 1) opts.push(s);
    }
    const orders = this.call(() => { this.idle(); return this.ex.poolStatInUse(ENUMS.Pool.ORDERS); });
    const risk = this.riskEnabled;
    const accts = risk ? this.accountsRisk() : [];
    const poss = risk ? this.positions() : [];
    const riskBytes = risk ? SNAP_RISK_HEADER + this.symbols * SNAP_RISK_SYM + accts.length * SNAP_RISK_ACCT + poss.length * SNAP_RISK_POS : 0;
    const ordersEnd = SNAP_HEADER + opts.length * SNAP_OPT + orders * ORDER_SIZE;
    const size = ordersEnd + riskBytes;
    const out = new Uint8Array(size);
    const dv = new DataView(out.buffer);
    let p = SNAP_HEADER;
    for (const s of opts) {
      const on = this.ex.bookGetBand(s);
      this.views();
      dv.setUint32(p, s, true);
      dv.setUint32(p + 4, this.ex.bookGetStp(s), true);
      dv.setUint32(p + 8, on, true);
      dv.setBigInt64(p + 16, this.dv.getBigInt64(this.ctrlPtr + CTRL_OFF.arg0, true), true);
      dv.setBigInt64(p + 24, this.dv.getBigInt64(this.ctrlPtr + CTRL_OFF.arg1, true), true);
      p += SNAP_OPT;
    }
    this.call(() => {
      this.ex.bookSnapBegin();
      for (;;) {
        const k = this.ex.bookSnapNext(4096);
        if (k === 0) break;
        this.views();
        out.set(this.u8.subarray(this.scratchPtr, this.scratchPtr + k * ORDER_SIZE), p);
        p += k * ORDER_SIZE;
      }
    });
    if (p !== ordersEnd) throw new EngineError('ERR_ENGINE_INVARIANT', `snapshot walked ${(p - SNAP_HEADER - opts.length * SNAP_OPT) / ORDER_SIZE} orders, pool says ${orders}`);
    if (risk) {
      dv.setUint32(p, this.riskMaxAccounts, true);
      dv.setUint32(p + 4, this.riskMaxPositions, true);
      dv.setUint32(p + 8, this.ex.riskDefaultMaxOpen(), true);
      dv.setUint32(p + 12, this.symbols, true);
      dv.setUint32(p + 16, accts.length, true);
      dv.setUint32(p + 20, poss.length, true);
      p += SNAP_RISK_HEADER;
      for (let sym = 0; sym < this.symbols; sym++, p += SNAP_RISK_SYM) {
        const r = this.symbolRisk(sym);
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
    dv.setUint32(8, this.ex.abiHash() >>> 0, true);
    dv.setUint32(12, this.symbols, true);
    dv.setUint32(16, this.capacity, true);
    dv.setUint32(20, opts.length, true);
    dv.setBigUint64(24, this.tradeSeq(), true);
    dv.setBigUint64(32, BigInt(orders), true);
    dv.setBigUint64(40, this.stateHash(), true);
    dv.setUint32(48, crc32(out.subarray(SNAP_HEADER)), true);
    dv.setUint32(52, risk ? 1 | (this.killAll ? 2 : 0) : 0, true);
    return out;
  }

  /** A new engine holding exactly the state of `snapshot` (checked by CRC, invariants and hash). */
  static restore(snapshot: Uint8Array, opts: Partial<Omit<EngineOptions, 'symbols'>> = {}): Engine {
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
    let risk: { maxAccounts: number; maxPositions: number; defaultMaxOpenOrders: number; accounts: number; positions: number } | null = null;
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
    const e = new Engine({
      ...opts, symbols, capacity,
      risk: risk ? { maxAccounts: risk.maxAccounts, maxPositions: risk.maxPositions, defaultMaxOpenOrders: risk.defaultMaxOpenOrders } : undefined,
    });
    if (risk) {
      let q = ordersEnd + SNAP_RISK_HEADER;
      try {
        for (let sym = 0; sym < symbols; sym++, q += SNAP_RISK_SYM) {
          e.setSymbolRisk(sym, {
            halted: dv.getUint32(q, true) === 1, minQty: dv.getUint32(q + 4, true), maxQty: dv.getUint32(q + 8, true), collarBps: dv.getUint32(q + 12, true),
            minNotional: dv.getBigInt64(q + 16, true), maxNotional: dv.getBigInt64(q + 24, true), maxPosition: dv.getBigInt64(q + 32, true), lastPrice: dv.getBigInt64(q + 40, true),
          });
        }
        for (let i = 0; i < risk.accounts; i++, q += SNAP_RISK_ACCT) {
          e.setAccountRisk(dv.getUint32(q, true), { maxOpenOrders: dv.getUint32(q + 4, true), killed: dv.getUint32(q + 8, true) === 1, maxPosition: dv.getBigInt64(q + 16, true) });
        }
        for (let i = 0; i < risk.positions; i++, q += SNAP_RISK_POS) {
          const acct = dv.getUint32(q, true);
          const sym = dv.getUint32(q + 4, true);
          e.views();
          e.dv.setBigInt64(e.ctrlPtr + CTRL_OFF.arg0, dv.getBigInt64(q + 8, true), true);
          if (e.ex.riskSetPosition(acct, sym) !== 0) throw new EngineError('ERR_SNAPSHOT_CORRUPT', `risk position record ${i} is invalid`);
        }
      } catch (err) {
        if (err instanceof EngineError && err.code === 'ERR_ENGINE_CONFIG') throw new EngineError('ERR_SNAPSHOT_CORRUPT', `risk section: ${err.message}`);
        throw err;
      }
      if (riskFlags & 2) e.setKillAll(true);
    }
    let p = SNAP_HEADER;
    for (let i = 0; i < nOpts; i++, p += SNAP_OPT) {
      const s = dv.getUint32(p, true);
      if (s >= symbols) throw new EngineError('ERR_SNAPSHOT_CORRUPT', `option record ${i}: symbol ${s} out of range`);
      e.setSelfTradePrevention(s, STP_MODES[dv.getUint32(p + 4, true)] ?? 'none');
      if (dv.getUint32(p + 8, true) === 1) e.setPriceBand(s, { min: dv.getBigInt64(p + 16, true), max: dv.getBigInt64(p + 24, true) });
    }
    const chunk = 4096;
    for (let done = 0; done < orders; done += chunk) {
      const k = Math.min(chunk, orders - done);
      const from = p + done * ORDER_SIZE;
      e.call(() => {
        e.views();
        e.u8.set(snapshot.subarray(from, from + k * ORDER_SIZE), e.scratchPtr);
        const rc = e.ex.bookRestoreOrders(k);
        if (rc !== 0) throw new EngineError('ERR_SNAPSHOT_CORRUPT', `snapshot order record ${done - rc - 1} is invalid`);
      });
    }
    e.views();
    e.dv.setBigUint64(e.ctrlPtr + CTRL_OFF.tradeSeq, tradeSeq, true);
    e.ex.engineSetTradeSeq();
    if (e.ex.riskRebuild() !== 0) throw new EngineError('ERR_SNAPSHOT_CORRUPT', 'restored orders need more risk positions than the tables hold');
    const rc = e.ex.engineValidate() || e.ex.riskValidate();
    if (rc !== 0) throw new EngineError('ERR_SNAPSHOT_CORRUPT', `restored book breaks invariant ${rc}`);
    if (e.stateHash() !== hash) throw new EngineError('ERR_SNAPSHOT_CORRUPT', 'restored state hash differs from the snapshot');
    return e;
  }

  /** Raw exports, for the ABI tests and the benchmarks only. */
  get raw(): EngineExports { return this.ex; }
}

// ── record codecs ────────────────────────────────────────────────────────────────────────
function toU64(v: bigint | number, what: string): bigint {
  const b = typeof v === 'bigint' ? v : Number.isSafeInteger(v) ? BigInt(v) : NaN;
  if (typeof b !== 'bigint' || b < 0n || b > U64_MAX) throw new EngineError('ERR_ENGINE_BAD_COMMAND', `${what} must be an integer in [0, 2^64-1], got ${String(v)}`);
  return b;
}
function toI64(v: bigint | number, what: string): bigint {
  const b = typeof v === 'bigint' ? v : Number.isSafeInteger(v) ? BigInt(v) : NaN;
  if (typeof b !== 'bigint' || b < I64_MIN || b > I64_MAX) throw new EngineError('ERR_ENGINE_BAD_COMMAND', `${what} must be an i64 integer, got ${String(v)}`);
  return b;
}
function u8field(v: number, what: string, idx: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new EngineError('ERR_ENGINE_BAD_COMMAND', `command ${idx}: ${what} must be a u8, got ${String(v)}`);
  return v;
}
function u32field(v: number, what: string, idx: number): number {
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
