/**
 * An in-process engine, a StrategyRunner and a real pairs SagaManager (src/cqrs/pairs-saga.ts,
 * log in a temporary directory, no fsync, ManualClock) wired as a backtest does: strategy
 * commands, saga commands and the test's market commands go into the engine's inbox in order;
 * each event goes to `runner.onEvent`, each command's events as one SeqBatch to the saga manager;
 * then `runner.tick()` — repeated until nothing more is sent. Time is the test's (`advance`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVT_SIZE, ENUMS } from '../../src/abi/records.js';
import { evtCmd } from '../../src/abi/views.js';
import { Engine } from '../../src/engine/engine.js';
import { ManualClock } from '../../src/cqrs/clock.js';
import { decodeEvt, type CqrsEvent } from '../../src/cqrs/events.js';
import { SagaManager } from '../../src/cqrs/pairs-saga.js';
import { StrategyRunner, type RunnerOptions, type SignalRow } from '../../src/strategies/runner.js';
import type { PairsRequest, TimeInForce } from '../../src/strategies/api.js';
import type { Trip } from '../../src/strategies/breakers.js';
import { STRATEGY_ID_BASE_NUM } from '../../src/domain/ids.js';
import { Instrument } from '../../src/domain/instruments.js';
import { writeInbox } from './strategy-harness.js';

/** AAA, BBB, CCC: tick 1, lot 1. */
export const WORLD_INSTRUMENTS = ['AAA', 'BBB', 'CCC'].map((symbol, i) => new Instrument(i, { symbol, tickSize: '1', lotSize: '1' }));

interface Cmd { op: number; side: number; type: number; tif: number; symbol: number; id: number | bigint; price: number | bigint; qty: number; account: number; cid: string }

const TIF: Record<TimeInForce, number> = { gtc: ENUMS.Tif.GTC, ioc: ENUMS.Tif.IOC, fok: ENUMS.Tif.FOK, post_only: ENUMS.Tif.POST_ONLY };

export class SagaWorld {
  readonly engine = new Engine({ symbols: 3, capacity: 200_000, seed: 1 });
  readonly clock = new ManualClock(1_800_000_000_000);
  readonly runner: StrategyRunner;
  readonly sagas: SagaManager;
  readonly dir = mkdtempSync(join(tmpdir(), 'saga-world-'));
  readonly signals: SignalRow[] = [];
  readonly trips: { id: string; trip: Trip }[] = [];
  readonly states: { id: string; state: string; why: string }[] = [];
  /** Trades (price, qty, taker/maker accounts) as the engine reported them. */
  readonly trades: { symbol: number; price: number; qty: number; account: number; makerAccount: number; takerSide: number }[] = [];
  private readonly queue: Cmd[] = [];
  private seq = 0;
  private nextId = STRATEGY_ID_BASE_NUM;
  marketId = 1;

  constructor(opts: Partial<RunnerOptions> = {}) {
    this.sagas = SagaManager.open({ journalDir: this.dir, clock: this.clock, durability: 'none', log: () => undefined, submit: (c, cid) => { this.queue.push({ ...c, cid }); return true; } });
    this.sagas.resume();
    this.runner = new StrategyRunner({
      instruments: WORLD_INSTRUMENTS, now: () => this.clock.now(), measure: false,
      sink: { send: (op, side, type, tif, symbol, id, price, qty, account, cid) => { this.queue.push({ op, side, type, tif, symbol, id, price, qty, account, cid }); return true; } },
      nextOrderId: () => this.nextId++,
      pairs: (account: number, req: PairsRequest) => this.sagas.startPairs({
        account,
        legA: { symbol: req.legA.symbol, side: req.legA.side, price: BigInt(req.legA.price), qty: req.legA.qty, tif: TIF[req.legA.tif ?? 'gtc'] },
        legB: { symbol: req.legB.symbol, side: req.legB.side, price: BigInt(req.legB.price), qty: req.legB.qty, tif: TIF[req.legB.tif ?? 'gtc'] },
        legBTimeoutMs: req.legBTimeoutMs, ...(req.legATimeoutMs === undefined ? {} : { legATimeoutMs: req.legATimeoutMs }),
      }),
      onTrip: (id, trip) => this.trips.push({ id, trip }),
      onState: (id, state, why) => this.states.push({ id, state, why }),
      onSignal: (r) => this.signals.push(r),
      ...opts,
    });
  }

  /** A market command (account 999 unless given); runs it and everything it causes. */
  market(op: number, side: number, symbol: number, price: number, qty: number, opts: { id?: number; tif?: number } = {}): number {
    const id = opts.id ?? this.marketId++;
    this.queue.push({ op, side, type: 0, tif: opts.tif ?? 0, symbol, id, price, qty, account: 999, cid: '' });
    this.pump();
    return id;
  }

  /** Moves the clock (saga timers, strategy timers) and runs what follows. */
  advance(ms: number): void { this.clock.advance(ms); this.pump(); }

  pump(maxRounds = 1000): void {
    for (let r = 0; r < maxRounds; r++) {
      this.runner.tick();
      if (this.queue.length === 0) return;
      const batch = this.queue.splice(0);
      const inbox = this.engine.inbox;
      writeInbox(inbox, batch);
      const base = this.seq;
      const perCmd: CqrsEvent[][] = batch.map(() => []);
      const tsNs = this.clock.now() * 1e6;
      this.engine.runInbox(batch.length, (edv, _b, k) => {
        for (let i = 0; i < k; i++) {
          const p = i * EVT_SIZE;
          const c = evtCmd(edv, p);
          const e = decodeEvt(edv, p);
          perCmd[c]!.push(e);
          if (e.type === 'T') this.trades.push({ symbol: e.symbol, price: Number(e.price), qty: e.qty, account: e.account, makerAccount: e.makerAccount, takerSide: e.side });
          this.runner.onEvent(edv, p, base + c + 1, tsNs);
        }
      });
      this.seq += batch.length;
      batch.forEach((c, i) => this.sagas.apply({ seq: BigInt(base + i + 1), tsInit: BigInt(tsNs), op: c.op, clientOrderId: c.cid, command: null, events: perCmd[i]! }));
    }
    throw new Error('strategies kept sending commands');
  }

  close(): void { this.sagas.close(); rmSync(this.dir, { recursive: true, force: true }); }
}
