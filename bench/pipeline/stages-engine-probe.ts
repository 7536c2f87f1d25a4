/**
 * Preload for bench/pipeline/stages.bench.ts (`--import`): in the engine thread only (a worker
 * whose workerData carries the command ring), stamps each batch after matching
 * (`Engine.runInbox`), after its journal commit (`JournalWriter.commit`: write, and fdatasync with
 * durability fsync), and before and after its publish on the event ring (`SpmcRing.publish`: the
 * copy and the notify that wakes the gateway), and posts them
 * keyed by the batch's tsInit on the BroadcastChannel `tradsys-stages`. Elsewhere it does
 * nothing. A probe: the post allocates (one small message per batch).
 */
import { isMainThread, workerData } from 'node:worker_threads';
import { RING_EVT_OFF } from '../../src/abi/records.js';
import { nowNs } from '../../src/domain/clock.js';
import { Engine } from '../../src/engine/engine.js';
import { JournalWriter } from '../../src/journal/writer.js';
import { SpmcRing } from '../../src/ring/spmc-ring.js';

if (!isMainThread && workerData !== null && typeof workerData === 'object' && 'cmdRing' in (workerData as object)) {
  const ch = new BroadcastChannel('tradsys-stages');
  const us = (): number => Number(nowNs()) / 1000;
  let matched = 0;
  let journaled = NaN;
  const run = Engine.prototype.runInbox;
  Engine.prototype.runInbox = function (this: Engine, n, sink) { const r = run.call(this, n, sink); matched = us(); journaled = NaN; return r; };
  const commit = JournalWriter.prototype.commit;
  JournalWriter.prototype.commit = function (this: JournalWriter, mark?: boolean) { commit.call(this, mark); if (Number.isNaN(journaled)) journaled = us(); };
  const publish = SpmcRing.prototype.publish;
  SpmcRing.prototype.publish = function (this: SpmcRing, src, offset, count, timeoutMs) {
    const t0 = us();
    const k = publish.call(this, src, offset, count, timeoutMs);
    if (offset === 0 && count > 0) {
      const dv = new DataView(src.buffer, src.byteOffset);
      ch.postMessage([Number(dv.getBigInt64(RING_EVT_OFF.tsInit, true)) / 1000, matched, journaled, t0, us()]);
    }
    return k;
  };
}
