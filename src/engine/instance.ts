/**
 * One live WASM book instance as the engine modules see it: its exports, the memory views over
 * inbox, outbox, scratch and CTRL, the trap fence, and the change epoch. Engine (engine.ts) owns
 * one; the query, control and snapshot modules (query.ts, controls.ts, snapshot.ts) work through
 * it. Internal to src/engine/ (not exported by src/engine/index.ts).
 *
 * Layout: inbox = inboxCapacity CMD records, outbox = outboxCapacity EVT records; scratch holds
 * query results (LEVEL / ORDER records) and CTRL the 64-bit call arguments and results
 * (src/abi/records.ts).
 * Invariants: views are rebuilt if `memory.buffer` changes (it does not after `engineInit`); once
 * `dead` is set no call reaches the instance again (`call` throws ERR_ENGINE_TRAP first); `epoch`
 * is bumped by every change of state (orders(), paged, refuses to continue across one).
 * Complexity: O(1) per call. Allocation: the views, once per memory buffer.
 * Known limitations: one thread; not re-entrant from an event sink.
 */
import { CMD_SIZE, EVT_SIZE } from '../abi/records.js';
import { EngineError } from './errors.js';
import type { EngineExports } from './wasm.js';

export class BookInstance {
  readonly inboxPtr: number;
  readonly outboxPtr: number;
  readonly scratchPtr: number;
  readonly ctrlPtr: number;
  private buf!: ArrayBuffer;
  u8!: Uint8Array;
  dv!: DataView;
  inboxU8!: Uint8Array;
  outboxU8!: Uint8Array;
  outboxDv!: DataView;
  /** The failure that fenced the instance, or null while it is usable. */
  dead: Error | null = null;
  /** Bumped by every change of state; `orders()` refuses to continue across one. */
  epoch = 0;
  /** Risk table sizes (0 when risk is off); set once at creation. */
  riskMaxAccounts = 0;
  riskMaxPositions = 0;

  /** `ex` must have run `engineInit` (the pointers are read here). */
  constructor(readonly ex: EngineExports, readonly symbols: number, readonly inboxCapacity: number, readonly outboxCapacity: number) {
    this.inboxPtr = ex.engineInboxPtr();
    this.outboxPtr = ex.engineOutboxPtr();
    this.scratchPtr = ex.engineScratchPtr();
    this.ctrlPtr = ex.engineCtrlPtr();
    this.views();
  }

  /** (Re)builds the views if the memory buffer changed. */
  views(): void {
    const b = this.ex.memory.buffer;
    if (b === this.buf) return;
    this.buf = b;
    this.u8 = new Uint8Array(b);
    this.dv = new DataView(b);
    this.inboxU8 = new Uint8Array(b, this.inboxPtr, this.inboxCapacity * CMD_SIZE);
    this.outboxU8 = new Uint8Array(b, this.outboxPtr, this.outboxCapacity * EVT_SIZE);
    this.outboxDv = new DataView(b, this.outboxPtr, this.outboxCapacity * EVT_SIZE);
  }

  /** Whether the views still match the memory buffer. */
  get viewsCurrent(): boolean { return this.ex.memory.buffer === this.buf; }

  fenced(): never {
    throw new EngineError('ERR_ENGINE_TRAP', `engine is unusable after an earlier failure: ${this.dead!.message}`);
  }

  /** Whether `e` is a trap of the instance (as opposed to an error of the caller or a sink). */
  static isTrap(e: unknown): boolean {
    return e instanceof WebAssembly.RuntimeError || e instanceof RangeError || (e instanceof EngineError && e.code === 'ERR_ENGINE_ABORT');
  }

  /** Rethrows `e`; a trap becomes ERR_ENGINE_TRAP and fences the instance for good. */
  fail(e: unknown): never {
    if (BookInstance.isTrap(e)) {
      this.dead = e as Error;
      throw new EngineError('ERR_ENGINE_TRAP', `engine trapped: ${(e as Error).message}; restore from a snapshot or replay the journal`, { cause: e });
    }
    throw e;
  }

  /** Runs `f` against the instance, turning a trap into an EngineError and fencing the instance. */
  call<T>(f: () => T): T {
    if (this.dead) this.fenced();
    try {
      return f();
    } catch (e) {
      return this.fail(e);
    }
  }

  /** Throws ERR_ENGINE_BUSY while a batch is in progress. */
  idle(): void {
    if (this.ex.bookBusy() !== 0) throw new EngineError('ERR_ENGINE_BUSY', 'a batch is in progress');
  }

  checkSymbol(symbol: number): void {
    if (!Number.isInteger(symbol) || symbol < 0 || symbol >= this.symbols) {
      throw new EngineError('ERR_ENGINE_BAD_COMMAND', `unknown symbol ${String(symbol)} (0..${this.symbols - 1})`);
    }
  }

  checkSide(side: number): void {
    if (side !== 0 && side !== 1) throw new EngineError('ERR_ENGINE_BAD_COMMAND', `side must be 0 (buy) or 1 (sell), got ${String(side)}`);
  }
}
