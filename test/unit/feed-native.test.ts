/**
 * src/sys/feed-native.ts without a network namespace: option checking and error codes, the
 * fallback when the addon is off, probeFeed's rows, and the recvmmsg thread over loopback (no root
 * needed) writing records the codec's own decoder agrees with. The veth/XDP/cross-path tests are in
 * test/integration/feed-paths.test.ts.
 */
import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { FEED_ENUMS } from '../../src/abi/records.js';
import { TradsysError } from '../../src/domain/errors.js';
import {
  FEED_PACKET_HEADER, MSG_ADD, MSG_TRADE, SIDE_BUY, SIDE_SELL, encodeAdd, encodeTrade, sessionBytes, writePacketHeader,
} from '../../src/marketdata/feed/codec.js';
import { FeedRing, readRecord } from '../../src/marketdata/feed/ring.js';
import { feedTimestampCaps, nativeFeedPaths, nativeFeedReason, openNativeReceiver, probeFeed } from '../../src/sys/feed-native.js';
import { resetNativeForTests } from '../../src/sys/native.js';

const have = nativeFeedReason() === '';

afterEach(() => {
  delete process.env.TRADSYS_NATIVE;
  resetNativeForTests();
});

describe('feed-native without the addon', () => {
  it('returns null with the reason, and probeFeed reports the fallbacks', () => {
    process.env.TRADSYS_NATIVE = '0';
    resetNativeForTests();
    let why = '';
    const rx = openNativeReceiver({ path: 'recvmmsg', ring: FeedRing.create(16).sab, bindAddress: '127.0.0.1', port: 1 }, (r) => { why = r; });
    expect(rx).toBeNull();
    expect(why).toMatch(/TRADSYS_NATIVE=0/);
    expect(nativeFeedPaths().xdp).toEqual({ available: false, reason: expect.stringMatching(/TRADSYS_NATIVE=0/) });
    const rows = probeFeed();
    expect(rows.map((r) => r.feature)).toEqual(['kernel-bypass', 'recvmmsg', 'hw-timestamps']);
    expect(rows.every((r) => !r.detected)).toBe(true);
    expect(rows[0]!.path).toBe('dgram fallback');
  });
});

describe.skipIf(!have)(`feed-native with the addon${have ? '' : ` (${nativeFeedReason()})`}`, () => {
  it('probeFeed: one row per feature, from the real machine', () => {
    const rows = probeFeed();
    expect(rows.map((r) => r.feature)).toEqual(['kernel-bypass', 'recvmmsg', 'hw-timestamps']);
    expect(rows[1]!.detected).toBe(true);
    const ifs = rows[2]!.facts!.interfaces as Record<string, { hardwareRx?: boolean }>;
    expect(Object.keys(ifs).length).toBeGreaterThan(0);
    expect(rows[2]!.detected).toBe(Object.values(ifs).some((c) => c.hardwareRx === true));
  });

  it('bad options are ERR_FEED_CONFIG / ERR_FEED_RING / ERR_FEED_NETWORK with the reason', () => {
    const ring = FeedRing.create(64);
    const err = (o: Record<string, unknown>): TradsysError => {
      try { openNativeReceiver({ path: 'recvmmsg', ring: ring.sab, bindAddress: '127.0.0.1', port: 40_001, ...o } as never)?.close(); } catch (e) { return e as TradsysError; }
      throw new Error(`opened with ${JSON.stringify(o)}`);
    };
    expect(err({ path: 'raw' }).code).toBe('ERR_FEED_CONFIG');
    expect(err({ port: 70_000 }).code).toBe('ERR_FEED_CONFIG');
    expect(err({ port: 1.5 }).code).toBe('ERR_FEED_CONFIG');
    expect(err({ batch: 0 }).message).toMatch(/batch must be an integer in \[1, 1024\]/);
    expect(err({ session: 'ELEVENCHARS' }).message).toMatch(/longer than 10/);
    expect(err({ timestamping: 'sometimes' }).code).toBe('ERR_FEED_CONFIG');
    expect(err({ bindAddress: 'localhost' }).message).toMatch(/not an IPv4 address/);
    expect(err({ requestAddress: '127.0.0.1' }).message).toMatch(/requestPort is required/);
    if (nativeFeedPaths().xdp.available) expect(err({ path: 'xdp' }).message).toMatch(/ifname is required/);
    expect(err({ ring: new Uint8Array(512) }).code).toBe('ERR_FEED_RING');
    const bad = FeedRing.create(64);
    new DataView(bad.sab).setUint32(12, 64, true);   // recordSize
    expect(err({ ring: bad.sab }).message).toMatch(/recordSize 64 is not FeedMsg's 72/);
    expect(err({ bindAddress: '192.0.2.1' }).message).toMatch(/not an address of this host/);
    expect(() => feedTimestampCaps('nosuchif0')).toThrow(/unknown interface 'nosuchif0'/);
    expect(ring.writerPath).toBe(0);
  });

  it('recvmmsg over loopback: records as the codec wrote them, software stamps, then a clean close', async () => {
    const ring = FeedRing.create(256);
    const reader = ring.openReader();
    const rx = openNativeReceiver({ path: 'recvmmsg', ring: ring.sab, bindAddress: '127.0.0.1', port: 40_011, session: 'LOOP', batch: 4 })!;
    expect(ring.writerPath).toBe(FEED_ENUMS.FeedPath.RECVMMSG);
    const tx = createSocket('udp4');
    const pkt = (seq: number): Buffer => {
      const b = Buffer.alloc(200);
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      let off = encodeAdd(dv, FEED_PACKET_HEADER, 7, 1000 + seq, seq % 2 ? SIDE_SELL : SIDE_BUY, -5 + seq, 10 * seq);
      off = encodeTrade(dv, off, 7, 99, 3, SIDE_BUY, 500 + seq);
      writePacketHeader(b, dv, 0, sessionBytes('LOOP'), seq, 2);
      return b.subarray(0, off);
    };
    try {
      for (const s of [1, 3, 5]) await new Promise<void>((res) => tx.send(pkt(s), 40_011, '127.0.0.1', () => res()));
      const end = Date.now() + 5_000;
      while (reader.available() < 6 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      const recs = Array.from({ length: reader.available() }, (_, k) => readRecord(ring.dv, reader.at(k)));
      expect(recs.map((r) => [r.type.charCodeAt(0), r.seq, r.symbol])).toEqual([
        [MSG_ADD, 1, 7], [MSG_TRADE, 2, 7], [MSG_ADD, 3, 7], [MSG_TRADE, 4, 7], [MSG_ADD, 5, 7], [MSG_TRADE, 6, 7]]);
      expect(recs[0]).toMatchObject({ orderId: 1001, side: SIDE_SELL, price: -4, qty: 10, flags: 0, path: FEED_ENUMS.FeedPath.RECVMMSG, stampSource: FEED_ENUMS.StampSource.SOFTWARE });
      expect(recs[1]).toMatchObject({ price: 99, qty: 3, side: SIDE_BUY, matchId: 501 });
      const st = rx.stats();
      expect(st).toMatchObject({ packets: 3, messages: 6, gaps: 0, session: 'LOOP', path: 'recvmmsg', stampSource: 'software', lastSeq: 6 });
    } finally {
      tx.close();
      const a = rx.close();
      expect(rx.close()).toBe(a);
      reader.close();
    }
    expect(ring.writerPath).toBe(0);
  });

  it('a reader that does not move holds the writer back: overruns are counted, nothing it has not read is overwritten', async () => {
    const ring = FeedRing.create(16);
    const reader = ring.openReader();
    const rx = openNativeReceiver({ path: 'recvmmsg', ring: ring.sab, bindAddress: '127.0.0.1', port: 40_021 })!;
    const tx = createSocket('udp4');
    try {
      for (let seq = 1; seq <= 20; seq++) {
        const b = Buffer.alloc(100);
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
        const off = encodeAdd(dv, FEED_PACKET_HEADER, 1, seq, SIDE_BUY, 100, seq);
        writePacketHeader(b, dv, 0, sessionBytes('SLOW'), seq, 1);
        await new Promise<void>((res) => tx.send(b.subarray(0, off), 40_021, '127.0.0.1', () => res()));
      }
      const end = Date.now() + 5_000;
      while (rx.stats().lastSeq < 20 && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
      const st = rx.stats();
      expect(st.lastSeq).toBe(20);
      expect(st.messages).toBe(20);   // in order; 4 of them could not be written
      expect(st.ringOverruns).toBe(4);
      expect(ring.overruns).toBe(4);
      expect(reader.available()).toBe(16);
      expect(Array.from({ length: 16 }, (_, k) => readRecord(ring.dv, reader.at(k)).orderId)).toEqual(Array.from({ length: 16 }, (_, k) => k + 1));
    } finally {
      tx.close();
      rx.close();
      reader.close();
    }
  });
});
