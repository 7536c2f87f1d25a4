/**
 * An in-process engine thread for backtest tests: a real Engine and a real JournalWriter; each
 * command is run alone and journaled (one record: its RING_CMD with tsIn, its tsInit, its events)
 * before its events are handed back — the order and bytes of src/engine/worker.ts, with times
 * chosen by the test.
 */
import { CMD_SIZE, EVT_SIZE, RING_CMD_SIZE } from '../../src/abi/records.js';
import { Engine, encodeCommand, type EngineOptions } from '../../src/engine/engine.js';
import type { Command } from '../../src/domain/types.js';
import { JournalWriter } from '../../src/journal/writer.js';
import { encodeRingCmd } from './journaled-engine.js';

export class JournalingEngine {
  readonly engine: Engine;
  private readonly w: JournalWriter;
  private readonly ring = new Uint8Array(RING_CMD_SIZE);
  private readonly ringDv = new DataView(this.ring.buffer);
  private readonly cmd = new Uint8Array(CMD_SIZE);
  private readonly cmdDv = new DataView(this.cmd.buffer);
  private evs = new Uint8Array(1 << 16);
  seq = 0;

  constructor(dir: string, opts: EngineOptions, setup?: (e: Engine) => void) {
    this.engine = new Engine({ seed: 1, inboxCapacity: 16, ...opts });
    setup?.(this.engine);
    this.w = new JournalWriter(dir, 0n, null, { durability: 'none', commitMarkMs: 0 });
  }

  /** Sequences one command at `tsInitNs` (gateway stamp `tsInNs`); `onEvents` gets its events after the record is written. */
  run(c: Command, tsInitNs: bigint, tsInNs: bigint, onEvents?: (dv: DataView, n: number, seq: number) => void, clientOrderId = ''): number {
    encodeRingCmd(this.ringDv, 0, c, clientOrderId, 0, 0, tsInNs);
    encodeCommand(this.cmdDv, 0, c);
    this.engine.inbox.set(this.cmd, 0);
    let n = 0;
    this.engine.runInbox(1, (_v, b, k) => {
      if ((n + k) * EVT_SIZE > this.evs.length) { const g = new Uint8Array((n + k) * EVT_SIZE * 2); g.set(this.evs); this.evs = g; }
      this.evs.set(b.subarray(0, k * EVT_SIZE), n * EVT_SIZE);
      n += k;
    });
    this.w.append(tsInitNs, this.ring, 0, this.evs, 0, n);
    this.w.commit();
    this.seq++;
    onEvents?.(new DataView(this.evs.buffer), n, this.seq);
    return n;
  }

  close(): void { this.w.close(); }
}
