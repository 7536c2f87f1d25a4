/**
 * An in-process engine driving a StrategyRunner, as a backtest does: commands the strategies send
 * (CommandSink) and commands a test sends as "the market" go into the engine's inbox in order, each
 * event is handed to `runner.onEvent` with its command's seq, then `runner.tick()` runs the hooks;
 * repeated until no strategy sends anything more. The clock is the test's (`t`).
 */
import { CMD_SIZE, EVT_SIZE, ENUMS } from '../../src/abi/records.js';
import { evtCmd } from '../../src/abi/views.js';
import { Engine } from '../../src/engine/engine.js';
import { Instrument } from '../../src/domain/instruments.js';
import { StrategyRunner, type RunnerOptions, type SignalRow } from '../../src/strategies/runner.js';
import type { Trip } from '../../src/strategies/breakers.js';
import { STRATEGY_ID_BASE_NUM } from '../../src/domain/ids.js';

export interface SentCmd { op: number; side: number; type: number; tif: number; symbol: number; id: number; price: number; qty: number; account: number; cid: string }

export const INSTRUMENTS = [
  new Instrument(0, { symbol: 'AAA', tickSize: '1', lotSize: '1' }),
  new Instrument(1, { symbol: 'BBB', tickSize: '1', lotSize: '1' }),
];

export class Harness {
  readonly engine = new Engine({ symbols: 2, capacity: 100_000, seed: 1 });
  readonly runner: StrategyRunner;
  t = 1_800_000_000_000;
  seq = 0;
  /** Every command that reached the engine, in order (strategies' and the market's). */
  readonly log: SentCmd[] = [];
  readonly trips: { id: string; trip: Trip }[] = [];
  readonly states: { id: string; state: string; why: string }[] = [];
  readonly signals: SignalRow[] = [];
  /** Every event seen (type, id, account), for reference computations. */
  readonly events: { type: string; id: number; maker: number; account: number; makerAccount: number; price: number; qty: number; side: number; seq: number }[] = [];
  ringFull = false;
  private readonly queue: SentCmd[] = [];
  private nextId = STRATEGY_ID_BASE_NUM;
  marketId = 1;

  constructor(opts: Partial<RunnerOptions> = {}) {
    this.runner = new StrategyRunner({
      instruments: INSTRUMENTS, now: () => this.t, measure: false,
      sink: { send: (op, side, type, tif, symbol, id, price, qty, account, cid) => {
        if (this.ringFull) return false;
        this.queue.push({ op, side, type, tif, symbol, id, price, qty, account, cid });
        return true;
      } },
      nextOrderId: () => this.nextId++,
      onTrip: (id, trip) => this.trips.push({ id, trip }),
      onState: (id, state, why) => this.states.push({ id, state, why }),
      onSignal: (r) => this.signals.push(r),
      ...opts,
    });
  }

  /** A market command (another account); runs it and everything the strategies answer. */
  market(op: number, side: number, symbol: number, price: number, qty: number, opts: { id?: number; tif?: number; type?: number; account?: number } = {}): number {
    const id = opts.id ?? this.marketId++;
    this.queue.push({ op, side, type: opts.type ?? 0, tif: opts.tif ?? 0, symbol, id, price, qty, account: opts.account ?? 999, cid: '' });
    this.pump();
    return id;
  }
  buy(symbol: number, price: number, qty: number, tif = 0): number { return this.market(ENUMS.Op.NEW, 0, symbol, price, qty, { tif }); }
  sell(symbol: number, price: number, qty: number, tif = 0): number { return this.market(ENUMS.Op.NEW, 1, symbol, price, qty, { tif }); }

  /** Runs queued commands through the engine and the runner until nothing more is sent (bounded). */
  pump(maxRounds = 1000): void {
    for (let r = 0; r < maxRounds; r++) {
      this.runner.tick();
      if (this.queue.length === 0) return;
      const batch = this.queue.splice(0);
      const inbox = this.engine.inbox;
      writeInbox(inbox, batch);
      for (const c of batch) this.log.push(c);
      const base = this.seq;
      this.engine.runInbox(batch.length, (dv, _b, k) => {
        for (let i = 0; i < k; i++) {
          const p = i * EVT_SIZE;
          const seq = base + evtCmd(dv, p) + 1;
          this.events.push({
            type: String.fromCharCode(dv.getUint8(p)), id: Number(dv.getBigUint64(p + 8, true)), maker: Number(dv.getBigUint64(p + 16, true)),
            account: dv.getUint32(p + 48, true), makerAccount: dv.getUint32(p + 52, true), price: Number(dv.getBigInt64(p + 24, true)),
            qty: dv.getUint32(p + 32, true), side: dv.getUint8(p + 3), seq,
          });
          this.runner.onEvent(dv, p, seq, this.t * 1e6);
        }
      });
      this.seq += batch.length;
    }
    throw new Error('strategies kept sending commands');
  }

  /** Advances the clock and runs due timers and bars. */
  advance(ms: number): void { this.t += ms; this.pump(); }

  /** Strategy commands (not the market's) in the order they reached the engine. */
  strategyCmds(account: number): SentCmd[] { return this.log.filter((c) => c.account === account); }

  resting(symbol: number, id: number): boolean { return this.engine.order(symbol, id) !== null; }
}

/** Writes `cmds` as CMD records at the start of the engine's inbox (tests' in-process engines). */
export function writeInbox(inbox: Uint8Array, cmds: readonly { op: number; side: number; type: number; tif: number; symbol: number; id: number | bigint; price: number | bigint; qty: number; account: number }[]): void {
  const dv = new DataView(inbox.buffer, inbox.byteOffset, inbox.byteLength);
  cmds.forEach((c, i) => {
    const p = i * CMD_SIZE;
    dv.setUint8(p, c.op); dv.setUint8(p + 1, c.side); dv.setUint8(p + 2, c.type); dv.setUint8(p + 3, c.tif);
    dv.setUint32(p + 4, c.symbol, true); dv.setBigUint64(p + 8, BigInt(c.id), true); dv.setBigInt64(p + 16, BigInt(c.price), true);
    dv.setUint32(p + 24, c.qty, true); dv.setUint32(p + 28, c.account, true);
  });
}
