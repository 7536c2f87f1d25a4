/**
 * Sagas (process managers) for multi-order workflows, persisted in the saga log and resumed after
 * a crash. The first one is the two-leg pairs order: leg A is sent; once A is done (filled, or
 * cancelled at its optional timeout with a partial fill) leg B is sent for the hedge quantity;
 * if B is rejected or times out (its remainder is cancelled), the unhedged part of A is unwound
 * by offsetting IOC orders (retried a bounded number of times).
 *
 * Owns: `SagaManager` (event routing, state machine, timers, persistence, recovery).
 * States: leg_a → [cancel_a] → leg_b → [cancel_b] → completed | unwinding → compensated |
 * compensation_failed; leg_a → a_unfilled (A rejected or cancelled without a fill).
 * Quantities: bQty = ⌊legB.qty × aFilled / legA.qty⌋; when B ends with bFilled, the hedged part
 * of A is ⌊aFilled × bFilled / bQty⌋ and the rest is unwound (B rejected: all of aFilled).
 * Ids: saga n's orders are SAGA_ID_BASE + 16n + k (k 0 = A, 1 = B, 2..15 = unwind attempts), in
 * [2^51, 2^52) (domain/ids.ts): below ADMIN ids, far above the gateway's; fixed per leg, so a resend after a crash
 * reuses the id. clientOrderIds `saga<n>-A`, `-B`, `-U<k>`.
 * Persistence (write-ahead): every transition — and every fill that changes a saga — is appended
 * to the saga log (one record per engine batch or timer, with the manager's checkpoint seq) BEFORE
 * the commands it implies are submitted. Recovery: fold the log, catch up from the journal after
 * the checkpoint (events that arrived while down), then submit only what the engine never
 * sequenced (a leg with no event at all), and re-arm the timers from the persisted deadlines.
 * Invariants: each leg id is sequenced as a NEW at most once (tested across crashes); a batch with
 * seq ≤ checkpoint changes nothing.
 * Complexity: O(events) per batch. Allocation: per transition (off the engine thread).
 * Known limitations: resume assumes the engine's command ring died with the process (the gateway
 * and the engine thread share it), so an unsequenced command was lost, not in flight; no partial
 * hedging of B while A is still working.
 */
import { ENUMS } from '../abi/records.js';
import { TradsysError } from '../domain/errors.js';
import { ADMIN_ID_BASE, IDS_PER_SAGA, SAGA_ID_BASE } from '../domain/ids.js';
import type { Command } from '../domain/types.js';
import type { Clock, TimerHandle } from './clock.js';
import type { CqrsEvent, SeqBatch } from './events.js';
import { readBatches } from './journal-reader.js';
import { SagaLog } from './saga-log.js';

export const MAX_UNWIND_ATTEMPTS = 14;

export interface PairsLeg {
  symbol: number;
  side: number;
  /** Limit price in ticks; 0n = market (IOC). */
  price: bigint;
  qty: number;
  /** Time in force of a limit leg (default GTC). */
  tif?: number;
}

export interface PairsParams {
  account: number;
  legA: PairsLeg;
  legB: PairsLeg;
  /** B must be done within this many ms of being sent, else its remainder is cancelled and A unwound. */
  legBTimeoutMs: number;
  /** Optional: A's remainder is cancelled after this many ms (B then hedges what A filled). */
  legATimeoutMs?: number;
  /** Unwind orders: limit IOC at this price, or market (default). */
  unwindPrice?: bigint;
  /** Wait between unwind attempts (default 1000 ms). */
  unwindRetryMs?: number;
  /** Unwind attempts (default 3, at most 14). */
  unwindAttempts?: number;
}

export type PairsState = 'leg_a' | 'cancel_a' | 'leg_b' | 'cancel_b' | 'unwinding' | 'completed' | 'a_unfilled' | 'compensated' | 'compensation_failed';
const TERMINAL: ReadonlySet<PairsState> = new Set(['completed', 'a_unfilled', 'compensated', 'compensation_failed']);

export interface LegRun {
  /** Order id (decimal). */
  id: string;
  qty: number;
  filled: number;
  /** Σ price × qty of the fills, ticks × lots (decimal). */
  notional: string;
  /** Any event seen for this id: the engine sequenced it. */
  acked: boolean;
  accepted: boolean;
  done: boolean;
  /** Reject reason code of the NEW (0 = none). */
  reason: number;
}

export interface PairsSaga {
  no: number;
  params: PairsParamsJson;
  state: PairsState;
  startedAt: number;
  a: LegRun;
  b: LegRun | null;
  unwinds: LegRun[];
  unwindTarget: number;
  aDeadline: number | null;
  bDeadline: number | null;
  retryAt: number | null;
  /** Seq of the last event that changed this saga. */
  lastSeq: string;
}

type PairsLegJson = Omit<PairsLeg, 'price'> & { price: string };
export type PairsParamsJson = Omit<PairsParams, 'legA' | 'legB' | 'unwindPrice'> & { legA: PairsLegJson; legB: PairsLegJson; unwindPrice: string | null };

interface LogPayload { checkpoint: string; next: number; sagas: PairsSaga[] }

export type SubmitFn = (cmd: Command, clientOrderId: string) => boolean;

export interface SagaManagerOptions {
  journalDir: string;
  submit: SubmitFn;
  clock: Clock;
  durability?: 'fsync' | 'none';
  log?: (message: string) => void;
  /** Retry interval when `submit` reports a full command ring (default 50 ms). */
  resubmitMs?: number;
}

const U32 = 0xffffffff;

function legJson(l: PairsLeg): PairsLegJson { return { ...l, price: l.price.toString() }; }

function checkParams(p: PairsParams): void {
  const bad = (m: string): never => { throw new TradsysError('ERR_SAGA_CONFIG', `pairs saga: ${m}`); };
  if (!Number.isInteger(p.account) || p.account < 0 || p.account > U32) bad('account must be a u32');
  for (const [n, l] of [['legA', p.legA], ['legB', p.legB]] as const) {
    if (!Number.isInteger(l.symbol) || l.symbol < 0 || l.symbol > U32) bad(`${n}.symbol must be a u32`);
    if (l.side !== 0 && l.side !== 1) bad(`${n}.side must be 0 (buy) or 1 (sell)`);
    if (!Number.isInteger(l.qty) || l.qty < 1 || l.qty > U32) bad(`${n}.qty must be in [1, 2^32)`);
    if (typeof l.price !== 'bigint' || l.price < 0n) bad(`${n}.price must be a bigint ≥ 0 (0 = market)`);
    if (l.tif !== undefined && ![0, 1, 2, 3].includes(l.tif)) bad(`${n}.tif must be 0..3`);
  }
  if (!(p.legBTimeoutMs > 0)) bad('legBTimeoutMs must be > 0');
  if (p.legATimeoutMs !== undefined && !(p.legATimeoutMs > 0)) bad('legATimeoutMs must be > 0');
  const att = p.unwindAttempts ?? 3;
  if (!Number.isInteger(att) || att < 1 || att > MAX_UNWIND_ATTEMPTS) bad(`unwindAttempts must be in [1, ${MAX_UNWIND_ATTEMPTS}]`);
  if (p.unwindPrice !== undefined && p.unwindPrice <= 0n) bad('unwindPrice must be > 0 (omit it for market)');
}

/** The saga number and leg index of an order id in the saga range, or null. */
export function sagaLeg(id: bigint): { no: number; leg: number } | null {
  if (id < SAGA_ID_BASE || id >= ADMIN_ID_BASE) return null;
  const off = id - SAGA_ID_BASE;
  return { no: Number(off / IDS_PER_SAGA), leg: Number(off % IDS_PER_SAGA) };
}

export function sagaOrderId(no: number, leg: number): bigint { return SAGA_ID_BASE + BigInt(no) * IDS_PER_SAGA + BigInt(leg); }

/** The clientOrderId the saga manager gives an order id of the saga range (for ring resolvers), else undefined. */
export function sagaClientOrderId(id: bigint): string | undefined {
  const l = sagaLeg(id);
  if (!l) return undefined;
  return `saga${l.no}-${l.leg === 0 ? 'A' : l.leg === 1 ? 'B' : `U${l.leg - 1}`}`;
}

function newRun(id: bigint, qty: number): LegRun {
  return { id: id.toString(), qty, filled: 0, notional: '0', acked: false, accepted: false, done: false, reason: 0 };
}

export class SagaManager {
  private readonly sagas = new Map<number, PairsSaga>();
  private readonly timers = new Map<number, TimerHandle>();
  private readonly log: SagaLog;
  private readonly submitFn: SubmitFn;
  private readonly clock: Clock;
  private readonly resubmitMs: number;
  private cp = 0n;
  private next = 1;
  private resuming = false;
  private retryTimer: TimerHandle | null = null;
  /** Commands `submit` refused (ring full), resent by a timer. */
  private readonly unqueued: { cmd: Command; cid: string }[] = [];
  readonly journalDir: string;
  /** Commands submitted, and of them those resent by `resume` (for metrics and tests). */
  readonly stats = { submitted: 0, resubmittedAfterRecovery: 0 };

  private constructor(opts: SagaManagerOptions, log: SagaLog) {
    this.journalDir = opts.journalDir;
    this.submitFn = opts.submit;
    this.clock = opts.clock;
    this.log = log;
    this.resubmitMs = opts.resubmitMs ?? 50;
  }

  /**
   * Opens the manager of a journal directory: loads `<dir>/sagas/sagas.log`. Call `resume()` before
   * feeding live batches (it catches up from the journal and resends what the engine never saw).
   */
  static open(opts: SagaManagerOptions): SagaManager {
    const { log, entries } = SagaLog.open(SagaLog.pathFor(opts.journalDir), { durability: opts.durability, log: opts.log });
    const m = new SagaManager(opts, log);
    for (const e of entries) {
      const p = e.payload as LogPayload;
      m.cp = BigInt(p.checkpoint);
      if (p.next > m.next) m.next = p.next;
      for (const s of p.sagas) m.sagas.set(s.no, s);
    }
    return m;
  }

  get checkpoint(): bigint { return this.cp; }

  /**
   * Catches up from the journal (seq > checkpoint, through `toSeq` when given), then submits the
   * commands of active sagas that the engine never sequenced and arms their timers.
   */
  resume(toSeq?: bigint): void {
    this.resuming = true;
    try {
      for (const b of readBatches(this.journalDir, this.cp + 1n, toSeq)) this.apply(b);
    } finally { this.resuming = false; }
    const out: { cmd: Command; cid: string }[] = [];
    const changed: PairsSaga[] = [];
    for (const s of this.sagas.values()) {
      if (TERMINAL.has(s.state)) continue;
      // a cancel whose order the engine never saw: the order was lost with the process
      if ((s.state === 'cancel_a' && !s.a.acked) || (s.state === 'cancel_b' && s.b && !s.b.acked)) {
        (s.state === 'cancel_a' ? s.a : s.b!).done = true;
        this.advance(s, out);
        changed.push(s);
      }
    }
    if (changed.length > 0) this.persist(changed);
    for (const s of this.sagas.values()) {
      if (TERMINAL.has(s.state)) continue;
      for (const c of this.outstanding(s)) { out.push(c); this.stats.resubmittedAfterRecovery++; }
      this.arm(s);
    }
    this.send(dedupe(out));
  }

  /** Starts a pairs saga: logged, then leg A submitted. Returns the saga number. */
  startPairs(p: PairsParams): number {
    checkParams(p);
    const no = this.next++;
    const now = this.clock.now();
    const s: PairsSaga = {
      no, state: 'leg_a', startedAt: now, a: newRun(sagaOrderId(no, 0), p.legA.qty), b: null, unwinds: [], unwindTarget: 0,
      aDeadline: p.legATimeoutMs === undefined ? null : now + p.legATimeoutMs, bDeadline: null, retryAt: null, lastSeq: this.cp.toString(),
      params: { ...p, legA: legJson(p.legA), legB: legJson(p.legB), unwindPrice: p.unwindPrice === undefined ? null : p.unwindPrice.toString() },
    };
    this.sagas.set(no, s);
    this.persist([s]);
    this.arm(s);
    this.send([this.newOrder(s, 0)]);
    return no;
  }

  /** A copy of saga `no`. */
  saga(no: number): PairsSaga | undefined {
    const s = this.sagas.get(no);
    return s ? (JSON.parse(JSON.stringify(s)) as PairsSaga) : undefined;
  }

  /** The sagas the batch being applied touched (apply's scratch set). */
  private readonly touched = new Set<PairsSaga>();

  list(): PairsSaga[] { return [...this.sagas.keys()].sort((a, b) => a - b).map((n) => this.saga(n)!); }

  /** Feeds one batch (journal catch-up or live); idempotent by seq. */
  apply(b: SeqBatch): boolean {
    if (b.seq <= this.cp) return false;
    this.cp = b.seq;
    const touched = this.touched;
    // one Set reused: nothing allocated for the batches that touch no saga (almost all); cleared
    // only when used, since Set.prototype.clear allocates a new table in V8
    if (touched.size !== 0) touched.clear();
    for (const e of b.events) {
      this.route(e, e.id, false, touched, b.seq);
      if (e.type === 'T') this.route(e, e.maker, true, touched, b.seq);
    }
    if (touched.size === 0) return true;
    const out: { cmd: Command; cid: string }[] = [];
    for (const s of touched) this.advance(s, out);
    this.persist([...touched]);
    for (const s of touched) this.arm(s);
    if (!this.resuming) this.send(out);
    return true;
  }

  private route(e: CqrsEvent, id: bigint, asMaker: boolean, touched: Set<PairsSaga>, seq: bigint): void {
    const l = sagaLeg(id);
    if (!l) return;
    const s = this.sagas.get(l.no);
    if (!s) return;
    const run = l.leg === 0 ? s.a : l.leg === 1 ? s.b : s.unwinds[l.leg - 2];
    if (!run || run.id !== id.toString()) return;
    const firstEvent = !run.acked;
    run.acked = true;
    switch (e.type) {
      case 'A': run.accepted = true; break;
      case 'T': {
        run.filled += e.qty;
        run.notional = (BigInt(run.notional) + e.price * BigInt(e.qty)).toString();
        if ((asMaker ? e.makerLeaves : e.leaves) === 0) run.done = true;
        break;
      }
      case 'X': if (e.leaves === 0) run.done = true; break;
      case 'R':
        // a refused NEW ends the leg; a refused cancel (the order already finished) changes nothing
        if (!run.accepted && (firstEvent || e.reason !== ENUMS.Reason.UNKNOWN_ORDER)) { run.done = true; run.reason = e.reason; }
        break;
      default: break;
    }
    s.lastSeq = seq.toString();
    touched.add(s);
  }

  /** Runs the state machine of `s` as far as it goes now; appends the commands it implies. */
  private advance(s: PairsSaga, out: { cmd: Command; cid: string }[]): void {
    const p = s.params;
    for (let step = 0; step < 8; step++) {
      switch (s.state) {
        case 'leg_a':
        case 'cancel_a': {
          if (!s.a.done) return;
          s.aDeadline = null;
          if (s.a.filled === 0) { s.state = 'a_unfilled'; return; }
          const bQty = Math.floor((p.legB.qty * s.a.filled) / p.legA.qty);
          if (bQty === 0) { this.startUnwind(s, s.a.filled, out); continue; }
          s.state = 'leg_b';
          s.b = newRun(sagaOrderId(s.no, 1), bQty);
          s.bDeadline = this.clock.now() + p.legBTimeoutMs;
          out.push(this.newOrder(s, 1));
          continue;
        }
        case 'leg_b':
        case 'cancel_b': {
          const b = s.b!;
          if (!b.done) return;
          s.bDeadline = null;
          const hedged = Math.floor((s.a.filled * b.filled) / b.qty);
          const rest = s.a.filled - hedged;
          if (rest === 0) { s.state = 'completed'; return; }
          this.startUnwind(s, rest, out);
          continue;
        }
        case 'unwinding': {
          if (s.retryAt !== null) return;
          const u = s.unwinds[s.unwinds.length - 1]!;
          if (!u.done) return;
          const unwound = s.unwinds.reduce((a, r) => a + r.filled, 0);
          if (unwound >= s.unwindTarget) { s.state = 'compensated'; return; }
          if (s.unwinds.length >= (p.unwindAttempts ?? 3)) { s.state = 'compensation_failed'; return; }
          s.retryAt = this.clock.now() + (p.unwindRetryMs ?? 1000);
          return;
        }
        default:
          return;
      }
    }
  }

  private startUnwind(s: PairsSaga, qty: number, out: { cmd: Command; cid: string }[]): void {
    s.state = 'unwinding';
    s.unwindTarget = qty;
    s.unwinds.push(newRun(sagaOrderId(s.no, 2), qty));
    out.push(this.newOrder(s, 2));
  }

  /** Timer: deadlines and unwind retries of saga `no` that are due. */
  private onTimer(no: number): void {
    this.timers.delete(no);
    const s = this.sagas.get(no);
    if (!s || TERMINAL.has(s.state)) return;
    const now = this.clock.now();
    const out: { cmd: Command; cid: string }[] = [];
    let changed = false;
    if (s.state === 'leg_a' && s.aDeadline !== null && now >= s.aDeadline && !s.a.done) {
      s.state = 'cancel_a';
      s.aDeadline = null;
      out.push(this.cancel(s, 0));
      changed = true;
    }
    if (s.state === 'leg_b' && s.bDeadline !== null && now >= s.bDeadline && !s.b!.done) {
      s.state = 'cancel_b';
      s.bDeadline = null;
      out.push(this.cancel(s, 1));
      changed = true;
    }
    if (s.state === 'unwinding' && s.retryAt !== null && now >= s.retryAt) {
      s.retryAt = null;
      const k = s.unwinds.length + 2;
      const unwound = s.unwinds.reduce((a, r) => a + r.filled, 0);
      s.unwinds.push(newRun(sagaOrderId(s.no, k), s.unwindTarget - unwound));
      out.push(this.newOrder(s, k));
      changed = true;
    }
    if (changed) this.persist([s]);
    this.arm(s);
    this.send(out);
  }

  /** (Re)arms the one timer of `s` at its earliest deadline. */
  private arm(s: PairsSaga): void {
    const old = this.timers.get(s.no);
    if (old) { this.clock.clearTimer(old); this.timers.delete(s.no); }
    if (TERMINAL.has(s.state)) return;
    const at = [s.state === 'leg_a' ? s.aDeadline : null, s.state === 'leg_b' ? s.bDeadline : null, s.state === 'unwinding' ? s.retryAt : null]
      .filter((x): x is number => x !== null);
    if (at.length === 0) return;
    this.timers.set(s.no, this.clock.setTimer(Math.min(...at), () => this.onTimer(s.no)));
  }

  /** Commands of `s` the engine never sequenced (after a recovery). */
  private outstanding(s: PairsSaga): { cmd: Command; cid: string }[] {
    switch (s.state) {
      case 'leg_a': return s.a.acked ? [] : [this.newOrder(s, 0)];
      case 'cancel_a': return s.a.done ? [] : [this.cancel(s, 0)];
      case 'leg_b': return s.b!.acked ? [] : [this.newOrder(s, 1)];
      case 'cancel_b': return s.b!.done ? [] : [this.cancel(s, 1)];
      case 'unwinding': {
        if (s.retryAt !== null) return [];
        const k = s.unwinds.length + 1;
        return s.unwinds[k - 2]!.acked ? [] : [this.newOrder(s, k)];
      }
      default: return [];
    }
  }

  private newOrder(s: PairsSaga, leg: number): { cmd: Command; cid: string } {
    const p = s.params;
    const id = sagaOrderId(s.no, leg);
    if (leg === 0 || leg === 1) {
      const l = leg === 0 ? p.legA : p.legB;
      const run = leg === 0 ? s.a : s.b!;
      const price = BigInt(l.price);
      const market = price === 0n;
      return {
        cmd: { op: ENUMS.Op.NEW, side: l.side, type: market ? ENUMS.OrdType.MARKET : ENUMS.OrdType.LIMIT, tif: market ? ENUMS.Tif.IOC : (l.tif ?? ENUMS.Tif.GTC), symbol: l.symbol, id, price, qty: run.qty, account: p.account },
        cid: sagaClientOrderId(id)!,
      };
    }
    const run = s.unwinds[leg - 2]!;
    const price = p.unwindPrice === null ? 0n : BigInt(p.unwindPrice);
    return {
      cmd: {
        op: ENUMS.Op.NEW, side: 1 - p.legA.side, type: price === 0n ? ENUMS.OrdType.MARKET : ENUMS.OrdType.LIMIT, tif: ENUMS.Tif.IOC,
        symbol: p.legA.symbol, id, price, qty: run.qty, account: p.account,
      },
      cid: sagaClientOrderId(id)!,
    };
  }

  private cancel(s: PairsSaga, leg: 0 | 1): { cmd: Command; cid: string } {
    const l = leg === 0 ? s.params.legA : s.params.legB;
    return { cmd: { op: ENUMS.Op.CANCEL, side: l.side, type: 0, tif: 0, symbol: l.symbol, id: sagaOrderId(s.no, leg), price: 0n, qty: 0, account: s.params.account }, cid: '' };
  }

  private persist(changed: PairsSaga[]): void {
    const payload: LogPayload = { checkpoint: this.cp.toString(), next: this.next, sagas: changed };
    this.log.append(payload);
  }

  private send(cmds: { cmd: Command; cid: string }[]): void {
    for (const c of cmds) {
      if (this.submitFn(c.cmd, c.cid)) { this.stats.submitted++; continue; }
      this.unqueued.push(c);
    }
    if (this.unqueued.length > 0 && this.retryTimer === null) {
      this.retryTimer = this.clock.setTimer(this.clock.now() + this.resubmitMs, () => {
        this.retryTimer = null;
        const again = this.unqueued.splice(0, this.unqueued.length);
        this.send(again);
      });
    }
  }

  /** Rewrites the log as one record of the active sagas (terminal ones are dropped from it and from memory). */
  compact(): void {
    for (const [no, s] of this.sagas) if (TERMINAL.has(s.state)) this.sagas.delete(no);
    this.log.rewrite([{ checkpoint: this.cp.toString(), next: this.next, sagas: [...this.sagas.values()] } satisfies LogPayload]);
  }

  get logBytes(): number { return this.log.bytes; }

  close(): void {
    for (const t of this.timers.values()) this.clock.clearTimer(t);
    this.timers.clear();
    if (this.retryTimer) this.clock.clearTimer(this.retryTimer);
    this.log.close();
  }
}

function dedupe(cmds: { cmd: Command; cid: string }[]): { cmd: Command; cid: string }[] {
  const seen = new Set<string>();
  return cmds.filter((c) => { const k = `${c.cmd.op}:${c.cmd.id}`; if (seen.has(k)) return false; seen.add(k); return true; });
}
