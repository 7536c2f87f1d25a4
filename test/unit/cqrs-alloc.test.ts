/**
 * The fills read model allocates one object of one shape per fill side, nothing more (issue 15):
 * 20,000 trades after warm-up, the young generation's allocation measured with a v8 GCProfiler
 * (same accounting as the engine thread's GC watch, src/engine/worker.ts gcReport). The input
 * batches are built before the measurement. Bytes, not time.
 */
import { GCProfiler, getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { FillsProjection } from '../../src/cqrs/fills.js';
import type { CqrsEvent, SeqBatch } from '../../src/cqrs/events.js';
import { gcReport, newSpaceUsed } from '../../src/engine/worker.js';

const newSpace = (): number => newSpaceUsed(getHeapSpaceStatistics().map((x) => ({ spaceName: x.space_name, spaceUsedSize: x.space_used_size })));

function trade(i: number): SeqBatch {
  const e: CqrsEvent = {
    type: 'T', reason: 0, stp: false, last: true, side: i % 2, symbol: 3, id: BigInt(2 * i + 2), maker: BigInt(2 * i + 1), price: 19_000n, qty: 1 + (i % 5),
    leaves: 0, makerLeaves: 0, account: 1 + (i % 3), makerAccount: 2 + (i % 3), tradeId: BigInt(i + 1),
  } as CqrsEvent;
  return { seq: BigInt(i + 1), tsInit: 1_700_000_000_000_000_000n + BigInt(i), op: 1, clientOrderId: null, command: null, events: [e] };
}

describe('fills read model allocation', () => {
  it('20,000 trades after warm-up: young-generation bytes per trade bounded (two fill objects)', () => {
    const n = 20_000;
    const warm = 2_000;
    const batches = Array.from({ length: warm + n }, (_, i) => trade(i));
    const cids = Array.from({ length: 2 * (warm + n) + 3 }, (_, i) => String(i));
    const p = new FillsProjection((id) => cids[Number(id)]);
    for (let i = 0; i < warm; i++) p.apply(batches[i]!);
    const prof = new GCProfiler();
    const used0 = newSpace();
    prof.start();
    for (let i = warm; i < warm + n; i++) p.apply(batches[i]!);
    const r = gcReport((prof.stop() as unknown as { statistics: Parameters<typeof gcReport>[0] }).statistics, used0, newSpace(), 0);
    expect(p.fills(1).length + p.fills(2).length + p.fills(3).length + p.fills(4).length).toBe(2 * (warm + n));
    // measured ~330 B/trade (4,691 before, when each fill was a spread of a per-trade base
    // object); two fills of 12 fields and the accounts' arrays' growth are left
    console.log(`fills: ${(r.allocatedBytes / n).toFixed(0)} B per trade, ${r.scavenges} scavenges`);
    expect(r.allocatedBytes / n).toBeLessThan(800);
  });
});
