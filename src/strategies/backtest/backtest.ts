/**
 * The backtest: history (history.ts) and one strategy, run through the real matching engine
 * (src/engine/engine.ts, in process) and the same strategy runtime as live (StrategyRunner,
 * src/strategies/runner.ts) on a simulated clock. docs/strategies.md "Backtests" is the user's
 * reference; this header is the implementation's.
 *
 * Owns: `runBacktest` — the sequencing loop, the simulated clock, the strategy command queue
 * (latency), equity sampling and markout checkpoints — and `liveTrades` (the orders and fills a
 * live run of an account made, read from its journal).
 * Layout: history chunks (CMD records + times) → the engine inbox (one batch) → the outbox's EVT
 * records copied to an event buffer → per command: the report tracker, the runner (`onEvent`),
 * the saga manager when pairs are used, then `tick`. Strategy commands wait in a FIFO queue with
 * their due times (`recorded`: with the slots of the live run).
 * Invariants (sequencing rules):
 * - Every historical command has a time (ns). A strategy command sent at simulated time t (by a
 *   hook run after the events of a command at t, or by a timer at a checkpoint) is due at
 *   t + latency (the model's next draw), but never before the strategy's previous command (its
 *   commands keep their order, like one connection's). It is sequenced before every historical
 *   command with a later time, after those with a time ≤ its due time (ties go to history).
 * - `recorded` latency (journal input): the strategy's i-th command is sequenced exactly at the
 *   position where the live engine sequenced the live strategy's i-th command (between the same
 *   two historical commands), at that record's tsInit; a command sent after its slot passed waits
 *   for the next slot; slots with nothing to send are skipped and counted (`recorded.missed`).
 *   The strategy is stopped once the history has ended and its queue is empty — checked again at
 *   each slot after the history, so that the stop's cancels take the slots of the live stop's.
 * - After the events of each command (historical or the strategy's) the runner gets them
 *   (`onEvent`) and runs its pending hooks (`tick`) with the clock at that command's time. The
 *   liquidity the strategy takes is gone for the history after it: historical orders that would
 *   have traded with it now meet a different book, and historical cancels or modifies of orders
 *   it already filled are rejected (unknown_order) and change nothing.
 * - Checkpoints — bar boundaries (`barMs`: equity samples, runner timers) and markout horizons —
 *   are handled when the next command's time passes them, so the engine's book then is the book
 *   after every command sequenced at or before the checkpoint.
 * - Between checkpoints, historical commands run in one engine batch as long as no strategy
 *   command could fall between them: all within `latency.minNs` of the batch's first command.
 * Determinism: no wall clock (only for progress lines and `run.seconds`, which the hash leaves
 * out), no Math.random, no Map iteration in any output; the runner runs with `measure: false`
 * (no time budgets, which would make results depend on the machine's speed). The same input,
 * parameters and options give the same `resultHash` (hash.ts).
 * Complexity: O(commands + events) plus O(symbols with a position) per checkpoint. Allocation:
 * per strategy command and fill (rows for the report); none per historical command.
 * Known limitations: timers fire at command times or bar boundaries, never between; the engine's
 * pre-trade risk runs only when `risk` is on (journal input: on, as in `serve`).
 */
import { CMD_OFF, CMD_SIZE, ENUMS, EVT_SIZE } from '../../abi/records.js';
import { evtAccount, evtCmd, evtId, evtMaker, evtMakerAccount, evtPrice, evtQty, evtSide, evtSymbol, evtTradeId, evtType } from '../../abi/views.js';
import { TradsysError } from '../../domain/errors.js';
import { ADMIN_ID_BASE_NUM, SAGA_ID_BASE_NUM, STRATEGY_ID_BASE_NUM } from '../../domain/ids.js';
import type { Instrument } from '../../domain/instruments.js';
import { Engine, type StpMode } from '../../engine/engine.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readRecords } from '../../journal/recovery.js';
import type { Clock, TimerHandle } from '../../cqrs/clock.js';
import { decodeEvt, type CqrsEvent } from '../../cqrs/events.js';
import { SagaManager } from '../../cqrs/pairs-saga.js';
import type { PairsRequest, Refusal, StrategyConfig, StrategyDefinition } from '../api.js';
import { feeFn, type FeeRate } from './fees.js';
import { ordersFillsHash, resultHash } from './hash.js';
import type { History, LiveCommand } from './history.js';
import type { LatencyModel } from './latency.js';
import { ResultTracker, type DayRow, type EquityPoint, type FillRow, type Marks, type OrderRow, type Summary } from './report.js';

/** The part of StrategyRunner (src/strategies/runner.ts) a backtest drives. */
export interface BacktestRunner {
  add(cfg: StrategyConfig, def: StrategyDefinition): void;
  start(id: string): void;
  stop(id: string): void;
  onEvent(dv: DataView, p: number, seq: number, tsNs: number): void;
  tick(): number;
  status(id?: string): { id: string; state: string; why: string; parameters: Record<string, unknown>; orders: number; fills: number; rejects: number; errors: number; overruns: number; breaker: { trips: number } }[];
}

/** RunnerOptions (src/strategies/runner.ts) as far as the backtest fills them in. */
export interface BacktestRunnerOptions {
  instruments: readonly Instrument[];
  now(): number;
  sink: { send(op: number, side: number, type: number, tif: number, symbol: number, id: number, price: number, qty: number, account: number, clientOrderId: string): boolean };
  nextOrderId(): number;
  pairs?(account: number, req: PairsRequest): number | Refusal;
  onSignal?(row: { strategy: string; symbol: number; ts: number; signal: string; value: number; price: number; qty: number; seq: number }): void;
  onTrip?(strategyId: string, trip: { reason: string; detail: string; at: number }): void;
  onState?(strategyId: string, state: string, why: string): void;
  log?(level: 'info' | 'warn' | 'error', strategyId: string, msg: string, fields?: Record<string, unknown>): void;
  fee?(symbol: number, liquidity: 'maker' | 'taker', price: number, qty: number): number;
  measure?: boolean;
  velocity?: { movePct: number; windowMs: number; pauseMs: number };
}

export interface BacktestOptions {
  strategy: StrategyConfig;
  definition: StrategyDefinition;
  instruments: readonly Instrument[];
  history: History;
  latency: LatencyModel;
  createRunner(o: BacktestRunnerOptions): BacktestRunner;
  fees?: readonly FeeRate[] | null;
  /** Equity sampling interval (default 1000 ms). */
  barMs?: number;
  /** The engine's pre-trade risk as `serve` runs it (the instruments' limits, `maxOpenOrders` per account). */
  risk?: boolean;
  maxOpenOrders?: number;
  stp?: StpMode;
  capacity?: number;
  /** The strategy trades only while the history index is in [from, to) (walk-forward folds); default all. */
  window?: { from: number; to: number };
  /** First order id of the strategy when no recorded id applies (default STRATEGY_BACKTEST_ID_BASE). */
  idBase?: number;
  /** Progress (stderr in the CLI), at most every `progressMs` of wall time (default 2000). */
  progress?(p: { fraction: number; commands: number; events: number; etaSeconds: number | null; simTimeMs: number }): void;
  progressMs?: number;
  /** The per-symbol velocity pause of the runner (breakers.ts DEFAULT_VELOCITY unless given), as the live server sets it. */
  velocity?: { movePct: number; windowMs: number; pauseMs: number };
  /** Recorded latency: the live run's trades hash (liveTrades), compared with the backtest's. */
  liveTradesHash?: string;
}

export interface RecordedReport { slots: number; matched: number; mismatched: number; missed: number; extra: number; liveHash: string; hashMatches: boolean }

export interface BacktestResult {
  resultHash: string;
  /** SHA-256 of the orders and fills alone (comparable with a live run's: liveTrades). */
  tradesHash: string;
  summary: Summary;
  days: DayRow[];
  equity: EquityPoint[];
  orders: OrderRow[];
  fills: FillRow[];
  strategy: { id: string; kind: string; account: number; symbols: string[]; params: Record<string, unknown>; state: string; why: string; trips: { reason: string; detail: string; at: number }[]; signals: number; errors: number; warnings: number };
  run: {
    input: string; latency: string; commands: number; historical: number; strategyCommands: number; events: number;
    /** Historical commands the engine rejected (the strategy changed the book under them, or they were bad in the input too). */
    historyRejects: number;
    simStart: string | null; simEnd: string | null; seconds: number; eventsPerSecond: number;
    recorded: RecordedReport | null;
  };
}

/** Order ids of a backtested strategy when none is recorded: the strategy range of domain/ids.ts, from its start. */
export const STRATEGY_BACKTEST_ID_BASE = STRATEGY_ID_BASE_NUM;

const CHUNK = 1024;
/** Strategy commands sequenced after the end of the history before the strategy is stopped. */
export const AFTER_END_MAX = 100_000;

interface Queued { op: number; side: number; type: number; tif: number; symbol: number; id: number; price: number; qty: number; account: number; due: number }

function writeCmd(dv: DataView, p: number, q: Queued): void {
  dv.setUint8(p + CMD_OFF.op, q.op);
  dv.setUint8(p + CMD_OFF.side, q.side);
  dv.setUint8(p + CMD_OFF.type, q.type);
  dv.setUint8(p + CMD_OFF.tif, q.tif);
  dv.setUint32(p + CMD_OFF.symbol, q.symbol, true);
  const hi = Math.floor(q.id / 4294967296);
  dv.setUint32(p + CMD_OFF.id, q.id - hi * 4294967296, true);
  dv.setUint32(p + CMD_OFF.id + 4, hi, true);
  dv.setBigInt64(p + CMD_OFF.price, BigInt(q.price), true);
  dv.setUint32(p + CMD_OFF.qty, q.qty, true);
  dv.setUint32(p + CMD_OFF.account, q.account, true);
}

function cmdU32(b: Uint8Array, off: number): number {
  return (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
}
function cmdU64(b: Uint8Array, off: number): number { return cmdU32(b, off + 4) * 4294967296 + cmdU32(b, off); }
function cmdI64(b: Uint8Array, off: number): number { return ((b[off + 4]! | (b[off + 5]! << 8) | (b[off + 6]! << 16) | (b[off + 7]! << 24)) * 4294967296) + cmdU32(b, off); }

function sameCommand(live: LiveCommand, q: Queued): boolean {
  const c = live.cmd;
  return c[CMD_OFF.op] === q.op && c[CMD_OFF.symbol] !== undefined && cmdU32(c, CMD_OFF.symbol) === q.symbol && cmdU64(c, CMD_OFF.id) === q.id &&
    (q.op === ENUMS.Op.CANCEL || (cmdI64(c, CMD_OFF.price) === q.price && cmdU32(c, CMD_OFF.qty) === q.qty)) &&
    (q.op !== ENUMS.Op.NEW || (c[CMD_OFF.side] === q.side && c[CMD_OFF.type] === q.type && c[CMD_OFF.tif] === q.tif));
}

export function runBacktest(o: BacktestOptions): BacktestResult {
  const cfg = o.strategy;
  const barMs = o.barMs ?? 1000;
  if (!Number.isInteger(barMs) || barMs < 1 || barMs > 86_400_000) throw new TradsysError('ERR_BACKTEST_CONFIG', `the bar interval must be an integer number of ms in [1, 86400000], got ${String(barMs)}`);
  const barNs = barMs * 1e6;
  const names = o.instruments.map((i) => i.symbol);
  const nSym = names.length;
  const account = cfg.account;
  const hist = o.history;
  const recorded = o.latency.kind === 'recorded';
  if (recorded && hist.live.length === 0) throw new TradsysError('ERR_BACKTEST_CONFIG', `recorded latency needs a journal with the live strategy's commands (account ${account}); this input has none`);
  const win = o.window ?? { from: 0, to: Number.POSITIVE_INFINITY };
  const fee = feeFn(o.fees ?? null);

  // ── engine ──────────────────────────────────────────────────────────────────────────────
  // resting orders: every historical order could rest, plus the strategy's own (headroom 65,536), so
  // that the pool's size never decides an outcome (a live engine of capacity C rejects what would not fit)
  const capacity = o.capacity ?? Math.min(1 << 24, (hist.total ?? 1 << 20) + (1 << 16));
  const engine = new Engine({
    symbols: nSym, capacity, inboxCapacity: CHUNK, seed: 1,
    risk: o.risk ? { maxAccounts: 65536, maxPositions: 262144, defaultMaxOpenOrders: o.maxOpenOrders ?? 10_000 } : undefined,
  });
  if (o.risk) engine.applyRiskSetup({ symbols: o.instruments.map((i) => i.riskLimits()) });
  if (o.stp && o.stp !== 'none') for (let s = 0; s < nSym; s++) engine.setSelfTradePrevention(s, o.stp);

  // ── clock, queue, ids ───────────────────────────────────────────────────────────────────
  let clockNs = 0;
  const queue: Queued[] = [];
  let qHead = 0;
  let lastDue = Number.NEGATIVE_INFINITY;
  const recordedIds = recorded ? hist.live.filter((l) => l.cmd[CMD_OFF.op] === ENUMS.Op.NEW).map((l) => cmdU64(l.cmd, CMD_OFF.id)) : [];
  let idNext = 0;
  let idFree = o.idBase ?? STRATEGY_BACKTEST_ID_BASE;
  const trips: { reason: string; detail: string; at: number }[] = [];
  let signals = 0;
  let errors = 0;
  let warnings = 0;
  let lastState = 'created';
  let lastWhy = '';
  const enqueue = (op: number, side: number, type: number, tif: number, symbol: number, id: number, price: number, qty: number, acct: number): boolean => {
    if (!Number.isSafeInteger(price) || !Number.isSafeInteger(id) || id < 0 || !Number.isInteger(qty) || qty < 0 || qty > 0xffffffff || !(symbol >= 0 && symbol < nSym)) return false;
    let due = recorded ? 0 : clockNs + o.latency.next(op);
    if (due < lastDue) due = lastDue;
    lastDue = due;
    queue.push({ op, side, type, tif, symbol, id, price, qty, account: acct, due });
    return true;
  };

  // ── ctx.pairs: the gateway's pairs saga (cqrs/pairs-saga.ts), in process on the simulated clock ──
  // created on the first request; its saga log goes to a temporary folder, removed at the end
  const sagaTimers: { id: number; at: number; fn: () => void }[] = [];
  let sagaTimerNo = 1;
  const sagaClock: Clock = {
    now: () => clockNs / 1e6,
    setTimer(atMs: number, fn: () => void): TimerHandle { const id = sagaTimerNo++; sagaTimers.push({ id, at: atMs * 1e6, fn }); return { id }; },
    clearTimer(h: TimerHandle): void { const i = sagaTimers.findIndex((t) => t.id === h.id); if (i >= 0) sagaTimers.splice(i, 1); },
  };
  let sagas: SagaManager | null = null;
  let sagaDir: string | null = null;
  const sagaManager = (): SagaManager => {
    if (sagas) return sagas;
    sagaDir = mkdtempSync(join(tmpdir(), 'tradsys-backtest-sagas-'));
    sagas = SagaManager.open({
      journalDir: sagaDir, durability: 'none', clock: sagaClock,
      submit: (c) => enqueue(c.op, c.side, c.type, c.tif, c.symbol, Number(c.id), Number(c.price), c.qty, c.account),
    });
    return sagas;
  };
  const TIF_CODES: Record<string, number> = { gtc: ENUMS.Tif.GTC, ioc: ENUMS.Tif.IOC, fok: ENUMS.Tif.FOK, post_only: ENUMS.Tif.POST_ONLY };
  const nextSagaTimer = (): number => {
    let m = Number.POSITIVE_INFINITY;
    for (let i = 0; i < sagaTimers.length; i++) if (sagaTimers[i]!.at < m) m = sagaTimers[i]!.at;
    return m;
  };
  /** The saga manager's events of one command: those on saga-range order ids (legs and unwinds). */
  const sagaEvents: CqrsEvent[] = [];
  const feedSagas = (e0: number, e1: number, s: number, t: number): void => {
    const m = sagas!;
    for (let e = e0; e < e1; e++) {
      const p = e * EVT_SIZE;
      const id = evtId(evDv, p);
      const mk = evtMaker(evDv, p);
      if ((id >= SAGA_ID_BASE_NUM && id < ADMIN_ID_BASE_NUM) || (mk >= SAGA_ID_BASE_NUM && mk < ADMIN_ID_BASE_NUM)) sagaEvents.push(decodeEvt(evDv, p));
    }
    if (sagaEvents.length === 0) return;
    m.apply({ seq: BigInt(s), tsInit: BigInt(Math.round(t)), op: 0, clientOrderId: null, command: null, events: sagaEvents.splice(0, sagaEvents.length) });
  };

  const runner = o.createRunner({
    instruments: o.instruments,
    now: () => clockNs / 1e6,
    nextOrderId: () => (idNext < recordedIds.length ? recordedIds[idNext++]! : idFree++),
    sink: { send: (op, side, type, tif, symbol, id, price, qty, acct) => enqueue(op, side, type, tif, symbol, id, price, qty, acct) },
    pairs: (acct, req) => sagaManager().startPairs({
      account: acct, legBTimeoutMs: req.legBTimeoutMs, legATimeoutMs: req.legATimeoutMs,
      legA: { symbol: req.legA.symbol, side: req.legA.side, price: BigInt(req.legA.price), qty: req.legA.qty, tif: TIF_CODES[req.legA.tif ?? 'gtc'] },
      legB: { symbol: req.legB.symbol, side: req.legB.side, price: BigInt(req.legB.price), qty: req.legB.qty, tif: TIF_CODES[req.legB.tif ?? 'gtc'] },
    }),
    onSignal: () => { signals++; },
    onTrip: (_id, trip) => { trips.push({ reason: trip.reason, detail: trip.detail, at: trip.at }); },
    onState: (_id, state, why) => { lastState = state; lastWhy = why; },
    log: (level) => { if (level === 'error') errors++; else if (level === 'warn') warnings++; },
    fee,
    measure: false,
    ...(o.velocity ? { velocity: o.velocity } : {}),
  });
  runner.add(cfg, o.definition);

  const tracker = new ResultTracker(account, names, fee, barMs);
  const marks: Marks = {
    mid(s) {
      const b = engine.depth(s, 0, 1);
      const a = engine.depth(s, 1, 1);
      if (b.length === 0 || a.length === 0) return Number.NaN;
      return (Number(b[0]!.price) + Number(a[0]!.price)) / 2;
    },
  };

  // ── event buffer (a batch's events, copied out of the outbox so the engine can be queried) ──
  // copies are word by word through Int32Array views (no subarray objects per batch)
  let ev = new Uint8Array(CHUNK * 4 * EVT_SIZE);
  let ev32 = new Int32Array(ev.buffer);
  let evDv = new DataView(ev.buffer);
  let nEv = 0;
  let outBuf: ArrayBufferLike | null = null;
  let out32: Int32Array<ArrayBufferLike> = new Int32Array(0);
  const EVT_WORDS = EVT_SIZE >> 2;
  const sink = (_v: DataView, b: Uint8Array, k: number): void => {
    if ((nEv + k) * EVT_SIZE > ev.length) {
      const g = new Uint8Array(Math.max(ev.length * 2, (nEv + k) * EVT_SIZE));
      g.set(ev.subarray(0, nEv * EVT_SIZE));
      ev = g;
      ev32 = new Int32Array(ev.buffer);
      evDv = new DataView(ev.buffer);
    }
    if (b.buffer !== outBuf) { outBuf = b.buffer; out32 = new Int32Array(outBuf, 0, outBuf.byteLength >> 2); }
    let from = b.byteOffset >> 2;
    let to = nEv * EVT_WORDS;
    for (let end = from + k * EVT_WORDS; from < end;) ev32[to++] = out32[from++]!;
    nEv += k;
  };
  const inbox = engine.inbox;
  const inDv = new DataView(inbox.buffer, inbox.byteOffset, inbox.byteLength);
  const in32 = new Int32Array(inbox.buffer, inbox.byteOffset, inbox.byteLength >> 2);
  if ((inbox.byteOffset & 3) !== 0) throw new TradsysError('ERR_ENGINE_CONFIG', 'the engine inbox is not 4-byte aligned');

  // ── history chunks ──────────────────────────────────────────────────────────────────────
  const hc = new Uint8Array(CHUNK * CMD_SIZE);
  const hc32 = new Int32Array(hc.buffer);
  const CMD_WORDS = CMD_SIZE >> 2;
  const ht = new Float64Array(CHUNK);
  let hn = 0;
  let hi = 0;
  let histDone = 0; // historical commands sequenced
  let histEnded = false;
  let seq = 0;
  let events = 0;
  let strategyCmds = 0;
  let historyRejects = 0;
  let afterEnd = 0;
  let simStart = Number.NaN;
  let simEnd = Number.NaN;
  let active = false;
  let stopped = false;
  let stopNs = Number.POSITIVE_INFINITY;
  let nextBar = Number.POSITIVE_INFINITY;
  // recorded slots
  const live = hist.live;
  let slot = 0;
  const rec = { slots: live.length, matched: 0, mismatched: 0, missed: 0, extra: 0 };

  const wall0 = performance.now();
  const progressMs = o.progressMs ?? 2000;
  let lastProgress = wall0;

  const startStrategy = (tNs: number): void => {
    active = true;
    clockNs = tNs;
    nextBar = (Math.floor(tNs / barNs) + 1) * barNs;
    runner.start(cfg.id);
    runner.tick();
  };
  const stopStrategy = (): void => {
    if (stopped) return;
    stopped = true;
    stopNs = clockNs;
    runner.stop(cfg.id);
    runner.tick();
  };

  /** Feeds the events [e0, e1) of one command (seq `s`, time `t`) to the tracker and the runner, then ticks. */
  const deliver = (e0: number, e1: number, s: number, t: number): void => {
    clockNs = t;
    for (let e = e0; e < e1; e++) {
      const p = e * EVT_SIZE;
      tracker.onEvent(evDv, p, s, t);
      runner.onEvent(evDv, p, s, t);
    }
    events += e1 - e0;
    if (sagas !== null) feedSagas(e0, e1, s, t);
    runner.tick();
  };

  const checkpoints = (before: number): void => {
    for (;;) {
      const m = tracker.nextMarkoutNs();
      const st = sagaTimers.length > 0 ? nextSagaTimer() : Number.POSITIVE_INFINITY;
      const c = Math.min(m, nextBar, st);
      if (!(c < before)) return;
      clockNs = c;
      if (st <= c) {
        // saga timers due now (leg timeouts, unwind retries), in time then creation order
        const due = sagaTimers.filter((x) => x.at <= c).sort((a, b) => a.at - b.at || a.id - b.id);
        for (const d of due) { const i = sagaTimers.indexOf(d); if (i >= 0) { sagaTimers.splice(i, 1); d.fn(); } }
        continue;
      }
      if (m <= c) tracker.resolveMarkouts(c, marks);
      if (nextBar <= c) {
        if (active && !stopped) runner.tick(); // timers due by the bar boundary
        tracker.sample(c / 1e6, marks);
        nextBar = c + barNs;
        if (stopped) nextBar = Number.POSITIVE_INFINITY;
      }
    }
  };

  const runStrategyCommand = (q: Queued, t: number): void => {
    seq++;
    strategyCmds++;
    // after the history, a strategy that answers its own events with new commands forever is stopped
    if (histEnded && ++afterEnd > AFTER_END_MAX && !stopped) stopStrategy();
    writeCmd(inDv, 0, q);
    tracker.onSent(seq, t, q.op, q.side, q.type, q.tif, q.symbol, q.id, q.price, q.qty);
    nEv = 0;
    engine.runInbox(1, sink);
    deliver(0, nEv, seq, t);
    if (Number.isNaN(simStart)) simStart = t;
    simEnd = t;
  };

  const queued = (): number => queue.length - qHead;
  /** Stops the strategy at the end of its window, or once the history has ended and its queue is empty. */
  const maybeStop = (): void => {
    if (active && !stopped && (histDone >= win.to || (histEnded && queued() === 0))) stopStrategy();
  };
  const take = (): Queued => {
    const q = queue[qHead++]!;
    if (qHead > 1024 && qHead * 2 > queue.length) { queue.splice(0, qHead); qHead = 0; }
    return q;
  };

  try {
    const total = hist.total;
    for (;;) {
      if (hi === hn && !histEnded) {
        hn = hist.next(hc, ht, CHUNK);
        hi = 0;
        if (hn === 0) histEnded = true;
      }
      // window: start and stop the strategy at history indices
      if (!active && !stopped && (histDone >= win.from || histEnded)) {
        startStrategy(hi < hn ? ht[hi]! : clockNs);
      }
      // the end of the window, or of the history once the strategy's queued commands are sequenced
      maybeStop();
      // recorded slots at this position: the strategy's next queued command goes exactly here
      if (recorded) {
        while (slot < live.length && live[slot]!.position === histDone) {
          const l = live[slot++]!;
          // the strategy's commands sequenced here can empty its queue after the history's end: it
          // is stopped then (as at the top of the loop), and the stop's cancels take these slots —
          // as live, where the stop's cancels followed its last commands
          maybeStop();
          if (queued() === 0) { rec.missed++; continue; }
          const q = take();
          if (sameCommand(l, q)) rec.matched++; else rec.mismatched++;
          checkpoints(l.tsNs);
          runStrategyCommand(q, Math.max(l.tsNs, clockNs));
        }
      }
      const tH = hi < hn ? ht[hi]! : Number.POSITIVE_INFINITY;
      const tS = !recorded && queued() > 0 ? queue[qHead]!.due : Number.POSITIVE_INFINITY;
      if (tH === Number.POSITIVE_INFINITY) {
        // history is over: the strategy is stopped; send what it still has queued
        if (recorded && queued() > 0) {
          const q = take();
          rec.extra++;
          checkpoints(clockNs);
          runStrategyCommand(q, clockNs);
          continue;
        }
        if (tS === Number.POSITIVE_INFINITY) break;
      }
      // stop after the window once nothing is pending (markouts within 60 s of the stop)
      if (stopped && histDone >= win.to && queued() === 0 && (tracker.nextMarkoutNs() === Number.POSITIVE_INFINITY || tH > stopNs + 60e9)) break;
      if (tS < tH || (tH === Number.POSITIVE_INFINITY && tS < Number.POSITIVE_INFINITY)) {
        checkpoints(tS);
        runStrategyCommand(take(), tS);
        continue;
      }
      // a batch of historical commands
      checkpoints(tH);
      let limit = tH + o.latency.minNs;
      const nextCheck = Math.min(tracker.nextMarkoutNs(), nextBar, sagaTimers.length > 0 ? nextSagaTimer() : Number.POSITIVE_INFINITY);
      if (nextCheck < limit) limit = nextCheck;
      if (tS < limit) limit = tS;
      let maxN = hn - hi;
      if (recorded && slot < live.length) maxN = Math.min(maxN, live[slot]!.position - histDone);
      if (!active && !stopped && win.from > histDone) maxN = Math.min(maxN, win.from - histDone);
      if (active && !stopped && win.to > histDone && win.to !== Number.POSITIVE_INFINITY) maxN = Math.min(maxN, win.to - histDone);
      let k = 1;
      while (k < maxN && ht[hi + k]! <= limit) k++;
      // the strategy's account may not appear in the history (its fills would be mixed up)
      for (let j = 0; j < k; j++) {
        const p = (hi + j) * CMD_SIZE;
        if (hc[p + CMD_OFF.op] !== ENUMS.Op.ADMIN && cmdU32(hc, p + CMD_OFF.account) === account) {
          throw new TradsysError('ERR_BACKTEST_CONFIG', `historical command ${histDone + j + 1} is of account ${account}, the strategy's account: choose another --account`);
        }
      }
      for (let w = 0, r = hi * CMD_WORDS, end = k * CMD_WORDS; w < end;) in32[w++] = hc32[r++]!;
      nEv = 0;
      engine.runInbox(k, sink);
      let e = 0;
      for (let c = 0; c < k; c++) {
        const e0 = e;
        while (e < nEv && evtCmd(evDv, e * EVT_SIZE) === c) e++;
        if (e > e0 && evtType(evDv, e0 * EVT_SIZE) === ENUMS.EvtType.REJECTED) historyRejects++;
        seq++;
        deliver(e0, e, seq, ht[hi + c]!);
      }
      if (Number.isNaN(simStart)) simStart = ht[hi]!;
      simEnd = ht[hi + k - 1]!;
      hi += k;
      histDone += k;
      if (o.progress && (histDone & 0x3ff) < k) {
        const now = performance.now();
        if (now - lastProgress >= progressMs) {
          lastProgress = now;
          const f = total ? histDone / Math.max(1, total) : hist.progress();
          const el = (now - wall0) / 1000;
          o.progress({ fraction: f, commands: seq, events, etaSeconds: f > 0 ? (el * (1 - f)) / f : null, simTimeMs: clockNs / 1e6 });
        }
      }
    }
    if (!stopped) stopStrategy();
    // the stop's cancels
    while (queued() > 0) {
      const q = take();
      const t = recorded ? clockNs : Math.max(q.due, clockNs);
      if (recorded) rec.extra++;
      checkpoints(t);
      runStrategyCommand(q, t);
    }
    const endNs = Number.isNaN(simEnd) ? clockNs : Math.max(simEnd, clockNs);
    checkpoints(endNs + 1); // every checkpoint up to and including the end
    tracker.sample(endNs / 1e6, marks);
    const { summary, days } = tracker.summary(marks);
    const st = runner.status(cfg.id)[0];
    const seconds = (performance.now() - wall0) / 1000;
    const tradesHash = ordersFillsHash(tracker.orders, tracker.fills);
    const recReport: RecordedReport | null = recorded
      ? { ...rec, liveHash: o.liveTradesHash ?? '', hashMatches: o.liveTradesHash !== undefined && o.liveTradesHash === tradesHash }
      : null;
    return {
      resultHash: resultHash(tracker.orders, tracker.fills, summary),
      tradesHash,
      summary, days, equity: tracker.equity, orders: tracker.orders, fills: tracker.fills,
      strategy: {
        id: cfg.id, kind: cfg.kind, account, symbols: cfg.symbols.slice(), params: st?.parameters ?? cfg.params ?? {},
        state: st?.state ?? lastState, why: st?.why ?? lastWhy, trips, signals, errors, warnings,
      },
      run: {
        input: hist.description, latency: o.latency.describe(), commands: seq, historical: histDone, strategyCommands: strategyCmds, events, historyRejects,
        simStart: Number.isNaN(simStart) ? null : new Date(simStart / 1e6).toISOString(), simEnd: Number.isNaN(simEnd) ? null : new Date(endNs / 1e6).toISOString(),
        seconds, eventsPerSecond: events / Math.max(seconds, 1e-9), recorded: recReport,
      },
    };
  } finally {
    hist.close();
    if (sagas !== null) (sagas as SagaManager).close();
    if (sagaDir !== null) rmSync(sagaDir, { recursive: true, force: true });
  }
}

/**
 * The orders and fills a live run of `account` made, from its journal: its commands (with the
 * live seq) and the trades of its orders — the rows a `recorded` backtest of the same session
 * reproduces. Fees by `fees` as in the backtest.
 */
export function liveTrades(dir: string, account: number, fees: readonly FeeRate[] | null = null): { orders: OrderRow[]; fills: FillRow[]; hash: string } {
  const fee = feeFn(fees);
  const orders: OrderRow[] = [];
  const fills: FillRow[] = [];
  for (const r of readRecords(dir, 1n, undefined, false, true)) {
    const c = r.cmd;
    const seq = Number(r.seq);
    const ts = Number(r.tsInit);
    if (c[CMD_OFF.op] !== ENUMS.Op.ADMIN && cmdU32(c, CMD_OFF.account) === account) {
      orders.push({
        seq, tsNs: ts, op: c[CMD_OFF.op]!, side: c[CMD_OFF.side]!, type: c[CMD_OFF.type]!, tif: c[CMD_OFF.tif]!,
        symbol: cmdU32(c, CMD_OFF.symbol), id: cmdU64(c, CMD_OFF.id), price: cmdI64(c, CMD_OFF.price), qty: cmdU32(c, CMD_OFF.qty),
      });
    }
    const dv = new DataView(r.events.buffer, r.events.byteOffset, r.events.byteLength);
    for (let e = 0; e < r.nEvents; e++) {
      const p = e * EVT_SIZE;
      if (evtType(dv, p) !== ENUMS.EvtType.TRADE) continue;
      const sym = evtSymbol(dv, p);
      const px = evtPrice(dv, p);
      const q = evtQty(dv, p);
      const side = evtSide(dv, p);
      const tid = evtTradeId(dv, p);
      if (evtAccount(dv, p) === account) fills.push({ seq, tsNs: ts, tradeId: tid, orderId: evtId(dv, p), symbol: sym, side, price: px, qty: q, liquidity: 'taker', fee: fee(sym, 'taker', px, q) });
      if (evtMakerAccount(dv, p) === account) fills.push({ seq, tsNs: ts, tradeId: tid, orderId: evtMaker(dv, p), symbol: sym, side: side ^ 1, price: px, qty: q, liquidity: 'maker', fee: fee(sym, 'maker', px, q) });
    }
  }
  return { orders, fills, hash: ordersFillsHash(orders, fills) };
}
