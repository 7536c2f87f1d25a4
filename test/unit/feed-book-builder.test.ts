// The feed book builder (src/marketdata/feed/book-builder.ts) on records written straight into a
// ring: L3 from A/X/E, L2 from D (checked against each other), stale after a GAP record or an overrun
// jump, resynchronised by S R + snapshot, and a late joiner that waits for a snapshot.
import { describe, expect, it } from 'vitest';
import { FEED_ENUMS } from '../../src/abi/records.js';
import {
  FEED_PACKET_HEADER, SYS_RESET, encodeAdd, encodeBookDelta, encodeCancel, encodeExecute, encodeSystem, encodeTrade, gapRecord, messageToRecord,
} from '../../src/marketdata/feed/codec.js';
import { FeedRing } from '../../src/marketdata/feed/ring.js';
import { FeedBookBuilder } from '../../src/marketdata/feed/book-builder.js';

const DGRAM = FEED_ENUMS.FeedPath.DGRAM;
type Enc = (dv: DataView, off: number) => number;

function feeder(ring: FeedRing) {
  const w = ring.openWriter(DGRAM);
  const buf = new DataView(new ArrayBuffer(64));
  let seq = 0;
  return {
    msg(enc: Enc): void {
      enc(buf, 0);
      seq++;
      const o = w.claim();
      if (o < 0) { w.publish(); return; } // the overrun is counted in the header at publish
      messageToRecord(buf, 2, ring.dv, o, seq, DGRAM, 3, 0, 0, 0, 0, 0);
      w.commit(seq);
      w.publish();
    },
    gap(n: number): void {
      const o = w.claim();
      gapRecord(ring.dv, o, seq + 1, n, DGRAM, 0, 0);
      seq += n;
      w.commit(seq); w.addGaps(n); w.publish();
    },
    skip(n: number): void { seq += n; },
    writer: w,
  };
}
void FEED_PACKET_HEADER;

describe('feed book builder', () => {
  it('builds L3 and L2 from A/X/E/D and keeps them consistent', () => {
    const ring = FeedRing.create(64);
    const b = new FeedBookBuilder(ring, 2);
    const f = feeder(ring);
    f.msg((dv, o) => encodeSystem(dv, o, 0, 79));
    f.msg((dv, o) => encodeAdd(dv, o, 1, 10, 0, 100, 5)); f.msg((dv, o) => encodeBookDelta(dv, o, 1, 0, 100, 5));
    f.msg((dv, o) => encodeAdd(dv, o, 1, 11, 0, 100, 7)); f.msg((dv, o) => encodeBookDelta(dv, o, 1, 0, 100, 12));
    f.msg((dv, o) => encodeAdd(dv, o, 1, 12, 1, 105, 3)); f.msg((dv, o) => encodeBookDelta(dv, o, 1, 1, 105, 3));
    f.msg((dv, o) => encodeExecute(dv, o, 1, 10, 5, 1)); f.msg((dv, o) => encodeTrade(dv, o, 1, 100, 5, 1, 1)); f.msg((dv, o) => encodeBookDelta(dv, o, 1, 0, 100, 7));
    f.msg((dv, o) => encodeCancel(dv, o, 1, 11, 2)); f.msg((dv, o) => encodeBookDelta(dv, o, 1, 0, 100, 5));
    expect(b.poll()).toBe(12);
    expect(b.depth(1, 0)).toEqual([[100, 5, 1]]);
    expect(b.depth(1, 1)).toEqual([[105, 3, 1]]);
    expect(b.deltaDepth(1, 0)).toEqual([[100, 5]]);
    expect(b.orders(1)).toEqual([[11, 0, 100, 5], [12, 1, 105, 3]]);
    expect(b.stats()).toMatchObject({ inconsistent: 0, unknownOrders: 0, staleSymbols: 0, lastSeq: 12 });
    // a D that disagrees with L3 is counted
    f.msg((dv, o) => encodeBookDelta(dv, o, 1, 0, 100, 6));
    b.poll();
    expect(b.stats().inconsistent).toBe(1);
  });

  it('a GAP record makes every symbol stale until its S R; the snapshot rebuilds it', () => {
    const ring = FeedRing.create(64);
    const b = new FeedBookBuilder(ring, 2);
    const f = feeder(ring);
    f.msg((dv, o) => encodeAdd(dv, o, 0, 1, 0, 50, 1)); f.msg((dv, o) => encodeBookDelta(dv, o, 0, 0, 50, 1));
    f.msg((dv, o) => encodeAdd(dv, o, 1, 2, 0, 60, 1)); f.msg((dv, o) => encodeBookDelta(dv, o, 1, 0, 60, 1));
    f.gap(3);
    f.msg((dv, o) => encodeAdd(dv, o, 0, 3, 0, 51, 1)); // ignored: stale
    b.poll();
    expect(b.isStale(0) && b.isStale(1)).toBe(true);
    expect(b.stats()).toMatchObject({ gapRecords: 1, lostMessages: 3, staleSymbols: 2 });
    expect(b.depth(0, 0)).toEqual([]);
    f.msg((dv, o) => encodeSystem(dv, o, 0, SYS_RESET));
    f.msg((dv, o) => encodeAdd(dv, o, 0, 1, 0, 50, 1)); f.msg((dv, o) => encodeAdd(dv, o, 0, 3, 0, 51, 1));
    f.msg((dv, o) => encodeBookDelta(dv, o, 0, 0, 50, 1)); f.msg((dv, o) => encodeBookDelta(dv, o, 0, 0, 51, 1));
    b.poll();
    expect(b.isStale(0)).toBe(false);
    expect(b.isStale(1)).toBe(true);
    expect(b.depth(0, 0)).toEqual([[51, 1, 1], [50, 1, 1]]);
    expect(b.stats()).toMatchObject({ resets: 1, staleSymbols: 1, inconsistent: 0 });
  });

  it('a jump in seq goes stale only when the ring counted an overrun (unknown types are skipped, not lost)', () => {
    const ring = FeedRing.create(64);
    const b = new FeedBookBuilder(ring, 1);
    const f = feeder(ring);
    f.msg((dv, o) => encodeAdd(dv, o, 0, 1, 0, 50, 1));
    f.skip(1); // an unknown message type: no record, no overrun
    f.msg((dv, o) => encodeAdd(dv, o, 0, 2, 0, 50, 1));
    b.poll();
    expect(b.isStale(0)).toBe(false);
    // a real overrun: a reader a full ring behind makes the writer drop
    const slow = ring.openReader();
    for (let i = 0; i < 64; i++) f.msg((dv, o) => encodeTrade(dv, o, 0, 50, 1, 0, i + 1));
    b.poll();
    f.msg((dv, o) => encodeTrade(dv, o, 0, 50, 1, 0, 99)); // dropped: slow is 64 behind
    expect(ring.overruns).toBe(1);
    slow.close();
    f.msg((dv, o) => encodeTrade(dv, o, 0, 50, 1, 0, 100));
    b.poll();
    expect(b.stats()).toMatchObject({ seqJumps: 1, staleSymbols: 1 });
  });

  it('a builder that joins mid-session waits for a snapshot', () => {
    const ring = FeedRing.create(64);
    const f = feeder(ring);
    f.msg((dv, o) => encodeAdd(dv, o, 0, 1, 0, 50, 1));
    const b = new FeedBookBuilder(ring, 1);
    f.msg((dv, o) => encodeAdd(dv, o, 0, 2, 0, 50, 1));
    b.poll();
    expect(b.isStale(0)).toBe(true);
    f.msg((dv, o) => encodeSystem(dv, o, 0, SYS_RESET));
    f.msg((dv, o) => encodeAdd(dv, o, 0, 1, 0, 50, 1)); f.msg((dv, o) => encodeAdd(dv, o, 0, 2, 0, 50, 1)); f.msg((dv, o) => encodeBookDelta(dv, o, 0, 0, 50, 2));
    b.poll();
    expect(b.depth(0, 0)).toEqual([[50, 2, 2]]);
    expect(b.stats()).toMatchObject({ staleSymbols: 0, inconsistent: 0 });
    b.close();
    f.writer.close();
  });
});
