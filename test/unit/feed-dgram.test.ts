// The dgram receive path (src/marketdata/feed/dgram-receiver.ts) against a scripted publisher on
// loopback: in-order delivery, gap → one request → recovered in order (RETRANSMITTED), gap without an
// answer → GAP record after the timeout, empty answer → GAP at once, duplicates dropped, heartbeats and
// end of session revealing gaps, other sessions and malformed packets ignored. Everything is scripted
// (no randomness); every wait is bounded; sockets are closed in afterEach.
import { afterEach, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { FEED_ENUMS } from '../../src/abi/records.js';
import {
  FEED_COUNT_END, FEED_PACKET_HEADER, encodeBookDelta, getU64BE, sessionBytes, writePacketHeader,
} from '../../src/marketdata/feed/codec.js';
import { DgramReceiver } from '../../src/marketdata/feed/dgram-receiver.js';
import { FeedRing, readRecord, type FeedRecord } from '../../src/marketdata/feed/ring.js';

const RETRANSMITTED = FEED_ENUMS.FeedFlag.RETRANSMITTED;
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

async function udp(port = 0): Promise<Socket> {
  const s = createSocket('udp4');
  await new Promise<void>((res) => s.bind(port, '127.0.0.1', () => res()));
  cleanup.push(() => new Promise<void>((res) => s.close(() => res())));
  return s;
}

/** A packet of session `sess` with D messages for seqs [seq, seq + n) (price = seq, so records name their message). */
function pkt(seq: number, n: number, sess = 'T', count = n): Buffer {
  const u8 = new Uint8Array(1500);
  const dv = new DataView(u8.buffer);
  let p = FEED_PACKET_HEADER;
  for (let i = 0; i < n; i++) p = encodeBookDelta(dv, p, 0, 0, seq + i, 1);
  writePacketHeader(u8, dv, 0, sessionBytes(sess), seq, count);
  return Buffer.from(u8.subarray(0, p));
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface Rig { rx: DgramReceiver; pub: Socket; req: Socket; requests: [number, number][]; send(b: Buffer, from?: Socket): Promise<void>; records(): FeedRecord[] }

async function rig(opts: { gapTimeoutMs?: number; session?: string; noRequests?: boolean } = {}): Promise<Rig> {
  const ring = FeedRing.create(1024);
  const reader = ring.openReader();
  const req = await udp();
  const pub = await udp();
  const requests: [number, number][] = [];
  req.on('message', (m) => requests.push([getU64BE(new DataView(m.buffer, m.byteOffset, m.byteLength), 10), m.readUInt16BE(18)]));
  const rx = await DgramReceiver.open({
    ring, bindAddress: '127.0.0.1', port: 0, session: opts.session, gapTimeoutMs: opts.gapTimeoutMs ?? 5000,
    ...(opts.noRequests ? {} : { requestAddress: '127.0.0.1', requestPort: req.address().port }),
  });
  cleanup.push(async () => { await rx.close(); });
  const got: FeedRecord[] = [];
  return {
    rx, pub, req, requests,
    send: (b, from = pub) => new Promise<void>((res) => from.send(b, rx.port, '127.0.0.1', () => res())),
    records: () => {
      const n = reader.available();
      for (let k = 0; k < n; k++) got.push(readRecord(ring.dv, reader.at(k)));
      reader.consume(n);
      return got;
    },
  };
}

const seqs = (rs: FeedRecord[]): string[] => rs.map((r) => `${r.type}${r.seq}${r.type === 'G' ? `x${r.qty}` : ''}${r.flags & RETRANSMITTED ? 'r' : ''}`);

describe('dgram receiver', () => {
  it('writes messages in order, once, with path dgram and user stamps', async () => {
    const t = await rig();
    await t.send(pkt(1, 3));
    await t.send(pkt(4, 2));
    await until(() => t.rx.stats().messages === 5);
    const rs = t.records();
    expect(seqs(rs)).toEqual(['D1', 'D2', 'D3', 'D4', 'D5']);
    expect(rs.every((r) => r.path === FEED_ENUMS.FeedPath.DGRAM && r.stampSource === FEED_ENUMS.StampSource.USER && r.price === r.seq)).toBe(true);
    expect(rs[0]!.tsRing).toBeGreaterThanOrEqual(rs[0]!.tsRecv);
    expect(t.rx.stats()).toMatchObject({ gaps: 0, duplicates: 0, lastSeq: 5, session: 'T', path: 'dgram', stampSource: 'user', requests: 0 });
    expect(t.requests).toEqual([]);
  });

  it('gap → one request → retransmission → recovered, in order, flagged RETRANSMITTED', async () => {
    const t = await rig();
    await t.send(pkt(1, 2));
    await t.send(pkt(5, 2)); // 3, 4 missing
    await until(() => t.requests.length === 1);
    expect(t.requests[0]).toEqual([3, 2]);
    expect(seqs(t.records())).toEqual(['D1', 'D2']); // 5, 6 held
    await t.send(pkt(7, 1)); // more arrives while the gap is open: held, no second request
    await new Promise((r) => setTimeout(r, 30));
    expect(t.requests.length).toBe(1);
    await t.send(pkt(3, 2), t.req); // the answer, from the request port
    await until(() => t.rx.stats().messages === 7);
    expect(seqs(t.records())).toEqual(['D1', 'D2', 'D3r', 'D4r', 'D5', 'D6', 'D7']);
    expect(t.rx.stats()).toMatchObject({ gaps: 1, recovered: 2, unrecovered: 0, requests: 1 });
  });

  it('gap without an answer → GAP record after gapTimeoutMs, then the held messages', async () => {
    const t = await rig({ gapTimeoutMs: 80 });
    await t.send(pkt(1, 1));
    const t0 = Date.now();
    await t.send(pkt(4, 2)); // 2, 3 lost
    await until(() => t.rx.stats().unrecovered === 2);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(70);
    await until(() => t.rx.stats().messages === 3);
    expect(seqs(t.records())).toEqual(['D1', 'G2x2', 'D4', 'D5']);
    expect(t.rx.ring.gaps).toBe(2);
    // the late answer is a duplicate now
    await t.send(pkt(2, 2), t.req);
    await until(() => t.rx.stats().duplicates === 2);
    expect(seqs(t.records())).toEqual(['D1', 'G2x2', 'D4', 'D5']);
  });

  it('an empty answer (count 0, seq = first still buffered) declares the gap lost at once', async () => {
    const t = await rig({ gapTimeoutMs: 10_000 });
    await t.send(pkt(1, 1));
    await t.send(pkt(10, 1)); // 2..9 missing
    await until(() => t.requests.length === 1);
    expect(t.requests[0]).toEqual([2, 8]);
    // the publisher still has 6.. : it answers "nothing before 6", then (a second request) 6..9
    const t0 = Date.now();
    await t.send(pkt(6, 0), t.req);
    await until(() => t.rx.stats().unrecovered === 4);
    expect(Date.now() - t0).toBeLessThan(5000);
    await until(() => t.requests.length === 2);
    expect(t.requests[1]).toEqual([6, 4]);
    await t.send(pkt(6, 4), t.req);
    await until(() => t.rx.stats().messages === 6);
    expect(seqs(t.records())).toEqual(['D1', 'G2x4', 'D6r', 'D7r', 'D8r', 'D9r', 'D10']);
  });

  it('drops duplicates and counts them', async () => {
    const t = await rig();
    await t.send(pkt(1, 3));
    await t.send(pkt(1, 3));
    await t.send(pkt(2, 3)); // 2, 3 duplicates, 4 new
    await until(() => t.rx.stats().messages === 4 && t.rx.stats().duplicates === 5);
    expect(seqs(t.records())).toEqual(['D1', 'D2', 'D3', 'D4']);
  });

  it('a heartbeat beyond the next expected sequence reveals a gap; the end of session sets ended', async () => {
    const t = await rig({ gapTimeoutMs: 60 });
    await t.send(pkt(1, 2));
    await t.send(pkt(5, 0)); // heartbeat: next is 5, so 3 and 4 exist
    await until(() => t.requests.length === 1);
    expect(t.requests[0]).toEqual([3, 2]);
    await t.send(pkt(3, 2), t.req);
    await until(() => t.rx.stats().messages === 4);
    const end = pkt(7, 0, 'T', FEED_COUNT_END); // end of session: next would be 7, so 5 and 6 were sent
    await t.send(end);
    await until(() => t.rx.stats().ended, 3000);
    await t.rx.endedPromise;
    expect(seqs(t.records())).toEqual(['D1', 'D2', 'D3r', 'D4r', 'G5x2']);
    expect(t.rx.stats()).toMatchObject({ heartbeats: 1, ended: true, gaps: 2, recovered: 2, unrecovered: 2 });
  });

  it('locks onto the first session (or the one given) and ignores others; counts malformed packets', async () => {
    const t = await rig({ session: 'MINE' });
    await t.send(pkt(1, 1, 'OTHER'));
    await t.send(pkt(1, 1, 'MINE'));
    const bad = pkt(2, 2, 'MINE');
    bad[19] = 3; // count says 3, two blocks
    await t.send(bad);
    await t.send(Buffer.from([1, 2, 3]));
    await until(() => t.rx.stats().malformed === 2 && t.rx.stats().otherSession === 1);
    expect(seqs(t.records())).toEqual(['D1']);
    const u = await rig({ noRequests: true });
    await u.send(pkt(1, 1, 'FIRST'));
    await u.send(pkt(2, 1, 'SECOND'));
    await until(() => u.rx.stats().otherSession === 1);
    expect(u.rx.stats().session).toBe('FIRST');
  });

  it('refuses bad options before binding (ERR_FEED_CONFIG) and a port in use (ERR_FEED_NETWORK)', async () => {
    const ring = FeedRing.create(8);
    await expect(DgramReceiver.open({ ring, bindAddress: 'localhost', port: 1 })).rejects.toMatchObject({ code: 'ERR_FEED_CONFIG' });
    await expect(DgramReceiver.open({ ring, bindAddress: '127.0.0.1', port: 70000 })).rejects.toMatchObject({ code: 'ERR_FEED_CONFIG' });
    await expect(DgramReceiver.open({ ring, bindAddress: '127.0.0.1', port: 0, gapTimeoutMs: 0 })).rejects.toMatchObject({ code: 'ERR_FEED_CONFIG' });
    await expect(DgramReceiver.open({ ring, bindAddress: '127.0.0.1', port: 0, requestAddress: '127.0.0.1' })).rejects.toMatchObject({ code: 'ERR_FEED_CONFIG' });
    const busy = await udp();
    await expect(DgramReceiver.open({ ring, bindAddress: '127.0.0.1', port: busy.address().port })).rejects.toMatchObject({ code: 'ERR_FEED_NETWORK' });
    // every failed open released the writer role
    const ok = await DgramReceiver.open({ ring, bindAddress: '127.0.0.1', port: 0 });
    await ok.close();
  });
});
