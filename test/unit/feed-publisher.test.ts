// The feed publisher (src/marketdata/feed/publisher.ts) and its sources, over loopback:
// packetization within the payload limit, contiguous sequences, start/end events and the end of
// session, heartbeats while idle, retransmission answers from the request port (original bytes and
// timestamps), the empty answer + snapshot for messages no longer buffered, --count; and end to end
// with the dgram receiver and the book builder: the books built from the feed equal the engine's
// books for the same seeded order stream, with and without (test-only) packet loss.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '../../src/workload/generator.js';
import { writeOrderFile } from '../../src/codec/tso.js';
import {
  FEED_COUNT_END, MSG_SYSTEM, SYS_END, SYS_RESET, SYS_START, checkPacket, decodePacket, encodeRequest, sessionBytes, type FeedPacket,
} from '../../src/marketdata/feed/codec.js';
import { MessageQueue, Publisher, type FeedSource } from '../../src/marketdata/feed/publisher.js';
import { EngineFeedSource } from '../../src/marketdata/feed/engine-source.js';
import { DgramReceiver } from '../../src/marketdata/feed/dgram-receiver.js';
import { FeedRing } from '../../src/marketdata/feed/ring.js';
import { FeedBookBuilder } from '../../src/marketdata/feed/book-builder.js';
import { Engine } from '../../src/engine/engine.js';

const newEngine = (o: { symbols: number; capacity: number; inboxCapacity: number }): Engine => new Engine(o);

const SYMBOLS = 4;
let dir = '';
let stream = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'feed-pub-'));
  stream = join(dir, 's.tso');
  const fd = openSync(stream, 'w');
  try { writeOrderFile(fd, generate({ count: 6000, symbols: SYMBOLS, seed: 1919, mix: 'default', badRate: 0.001 }), 6000, false); } finally { closeSync(fd); }
  return () => rmSync(dir, { recursive: true, force: true });
});

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => { while (cleanup.length) await cleanup.pop()!(); });

async function sink(): Promise<{ sock: Socket; packets: { buf: Buffer; from: number }[] }> {
  const sock = createSocket('udp4');
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
  sock.setRecvBufferSize(16 << 20);
  const packets: { buf: Buffer; from: number }[] = [];
  sock.on('message', (m, r) => packets.push({ buf: m, from: r.port }));
  cleanup.push(() => new Promise<void>((res) => sock.close(() => res())));
  return { sock, packets };
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A UDP port that was free a moment ago. */
async function freePort(): Promise<number> {
  const t = createSocket('udp4');
  await new Promise<void>((res) => t.bind(0, '127.0.0.1', () => res()));
  const p = t.address().port;
  await new Promise<void>((res) => t.close(() => res()));
  return p;
}

/** A source that never has anything (a quiet market). */
class Idle implements FeedSource {
  readonly name = 'idle';
  done = false;
  pull(): void {}
  snapshot(q: MessageQueue): number { q.system(0, SYS_RESET); return 1; }
  close(): void {}
}

describe('publisher', () => {
  it('packetizes within the payload limit; sequences contiguous from 1; S O first, S C last; end of session 3 times', async () => {
    const s = await sink();
    const src = new EngineFeedSource({ file: stream, symbols: SYMBOLS, newEngine });
    const pub = new Publisher(src, { session: 'PK', host: '127.0.0.1', port: s.sock.address().port, maxPayload: 200, rate: 0, lingerMs: 0 });
    const st = await pub.start();
    await until(() => s.packets.filter((p) => p.buf.readUInt16BE(18) === FEED_COUNT_END).length === 3);
    const data: FeedPacket[] = [];
    for (const { buf } of s.packets) {
      expect(buf.length).toBeLessThanOrEqual(200);
      expect(checkPacket(new DataView(buf.buffer, buf.byteOffset, buf.length), 0, buf.length)).toBeNull();
      const p = decodePacket(buf);
      expect(p.session).toBe('PK');
      if (!p.heartbeat && !p.end) data.push(p);
      if (p.end) expect(p.seq).toBe(st.nextSeq);
    }
    data.sort((a, b) => a.seq - b.seq);
    let next = 1;
    for (const p of data) { expect(p.seq).toBe(next); next += p.count; }
    expect(next).toBe(st.nextSeq);
    expect(st.messages).toBe(next - 1);
    const msgs = data.flatMap((p) => p.messages);
    expect(msgs[0]).toMatchObject({ type: MSG_SYSTEM, code: SYS_START });
    expect(msgs.at(-1)).toMatchObject({ type: MSG_SYSTEM, code: SYS_END });
    // a message never straddles packets and packets are full: each packet but the last cannot take the next message
    expect(data.filter((p) => p.count === 0)).toEqual([]);
    expect(src.commands).toBe(6000);
    expect(st).toMatchObject({ ended: true, droppedPackets: 0, heartbeats: 0 });
  });

  it('sends heartbeats (seq = next expected) while idle, and stops on request', async () => {
    const s = await sink();
    const pub = new Publisher(new Idle(), { session: 'HB', host: '127.0.0.1', port: s.sock.address().port, heartbeatMs: 40, lingerMs: 0 });
    const done = pub.start();
    await until(() => s.packets.filter((p) => p.buf.length === 20 && p.buf.readUInt16BE(18) === 0).length >= 3);
    pub.stop('test');
    const st = await done;
    const hbs = s.packets.map((p) => decodePacket(p.buf)).filter((p) => p.heartbeat);
    expect(hbs.length).toBeGreaterThanOrEqual(3);
    for (const h of hbs) expect(h.seq).toBe(2); // S O was message 1
    expect(st.heartbeats).toBeGreaterThanOrEqual(3);
    expect(pub.why).toBe('test');
  });

  it('answers retransmission requests from its request port with the original bytes; empty answer + snapshot when gone', async () => {
    const s = await sink();
    const src = new EngineFeedSource({ file: stream, symbols: SYMBOLS, newEngine });
    const pub = new Publisher(src, { session: 'RT', host: '127.0.0.1', port: s.sock.address().port, requestPort: 0, requestHost: '127.0.0.1', retransmitBuffer: 500, rate: 0, lingerMs: 2000, snapshotMinIntervalMs: 1 });
    const done = pub.start();
    await until(() => s.packets.some((p) => p.buf.readUInt16BE(18) === FEED_COUNT_END));
    const rp = pub.requestPort!;
    const originals = new Map<number, Buffer>();
    for (const { buf } of s.packets) if (buf.readUInt16BE(18) !== 0 && buf.readUInt16BE(18) !== FEED_COUNT_END) originals.set(decodePacket(buf).seq, buf);
    const last = pub.stats().nextSeq - 1;
    const ask = (seq: number, count: number): Promise<void> => {
      const u8 = new Uint8Array(20);
      encodeRequest(u8, new DataView(u8.buffer), 0, sessionBytes('RT'), seq, count);
      return new Promise((res) => s.sock.send(u8, rp, '127.0.0.1', () => res()));
    };
    const before = s.packets.length;
    await ask(last - 9, 5);
    await until(() => s.packets.slice(before).some((p) => p.from === rp));
    const ans = s.packets.slice(before).filter((p) => p.from === rp).map((p) => decodePacket(p.buf));
    expect(ans[0]).toMatchObject({ seq: last - 9, count: 5 });
    // the same messages, bit for bit (timestamps included), as first sent
    const all = [...originals.values()].map((b) => decodePacket(b)).flatMap((p) => p.messages.map((m, i) => [p.seq + i, m] as const));
    const bySeq = new Map(all);
    ans[0]!.messages.forEach((m, i) => expect(m).toEqual(bySeq.get(last - 9 + i)));
    // too old: an empty answer naming the first message still buffered (the publisher is ending, so no snapshot now)
    const b2 = s.packets.length;
    await ask(1, 3);
    await until(() => s.packets.slice(b2).some((p) => p.from === rp));
    const empty = decodePacket(s.packets.slice(b2).find((p) => p.from === rp)!.buf);
    expect(empty).toMatchObject({ heartbeat: true, seq: last + 1 - 500 });
    // a bad request (wrong session) is counted, not answered
    const bad = new Uint8Array(20);
    encodeRequest(bad, new DataView(bad.buffer), 0, sessionBytes('XX'), 5, 1);
    await new Promise<void>((res) => s.sock.send(bad, rp, '127.0.0.1', () => res()));
    await until(() => pub.stats().badRequests === 1);
    const st = await done;
    expect(st).toMatchObject({ requests: 2, unservable: 1, retransmittedMessages: 5, badRequests: 1 });
  });

  it('a request for lost messages while live triggers an in-band snapshot (S R per symbol, then the book)', async () => {
    const s = await sink();
    const src = new EngineFeedSource({ file: stream, symbols: SYMBOLS, newEngine });
    const pub = new Publisher(src, { session: 'SN', host: '127.0.0.1', port: s.sock.address().port, requestPort: 0, requestHost: '127.0.0.1', retransmitBuffer: 16, rate: 20_000, lingerMs: 0, snapshotMinIntervalMs: 1 });
    const done = pub.start();
    await until(() => pub.stats().nextSeq > 200);
    const u8 = new Uint8Array(20);
    encodeRequest(u8, new DataView(u8.buffer), 0, sessionBytes('SN'), 2, 3);
    await new Promise<void>((res) => s.sock.send(u8, pub.requestPort!, '127.0.0.1', () => res()));
    await until(() => pub.stats().snapshots === 1);
    pub.stop('test');
    await done;
    const msgs = s.packets.map((p) => decodePacket(p.buf)).filter((p) => p.count > 0 && !p.end).sort((a, b) => a.seq - b.seq).flatMap((p) => p.messages);
    const resets = msgs.filter((m) => m.type === MSG_SYSTEM && m.code === SYS_RESET).map((m) => m.symbol);
    expect(resets).toEqual([0, 1, 2, 3]);
  });

  it('--count stops after exactly N source messages; bad options are refused', async () => {
    const s = await sink();
    const pub = new Publisher(new EngineFeedSource({ file: stream, symbols: SYMBOLS, newEngine }), { session: 'CT', host: '127.0.0.1', port: s.sock.address().port, count: 777, rate: 0, lingerMs: 0 });
    const st = await pub.start();
    expect(st.messages).toBe(777 + 2); // plus S O and S C
    expect(pub.why).toBe('count reached');
    const src = new Idle();
    for (const bad of [{ host: 'x' }, { port: 0 }, { session: '' }, { maxPayload: 10 }, { rate: -1 }, { retransmitBuffer: 0 }, { requestPort: 70000 }]) {
      expect(() => new Publisher(src, { session: 'OK', host: '127.0.0.1', port: 9, ...bad })).toThrow(expect.objectContaining({ code: 'ERR_FEED_CONFIG' }));
    }
    expect(() => new EngineFeedSource({ file: join(dir, 'missing.tso'), symbols: 2, newEngine })).toThrow(expect.objectContaining({ code: 'ERR_FEED_SOURCE' }));
  });
});

describe('publisher → dgram receiver → ring → book builder equals the engine', () => {
  async function run(dropEvery: number | undefined): Promise<void> {
    const ring = FeedRing.create(1 << 16);
    const books = new FeedBookBuilder(ring, SYMBOLS);
    const other = ring.openReader(); // a second reader (a strategy) at its own pace
    const requestPort = await freePort();
    const rx2 = await DgramReceiver.open({ ring, bindAddress: '127.0.0.1', port: 0, requestAddress: '127.0.0.1', requestPort, gapTimeoutMs: 5000 });
    cleanup.push(async () => { await rx2.close(); });
    const src = new EngineFeedSource({ file: stream, symbols: SYMBOLS, newEngine });
    const pub = new Publisher(src, { session: 'EQ', host: '127.0.0.1', port: rx2.port, requestPort, requestHost: '127.0.0.1', rate: 50_000, lingerMs: 60_000, dropEvery });
    const iv = setInterval(() => books.poll(), 1);
    cleanup.push(() => clearInterval(iv));
    let otherSeen = 0;
    const iv2 = setInterval(() => { const n = other.available(); otherSeen += n; other.consume(n); }, 3);
    cleanup.push(() => clearInterval(iv2));
    const done = pub.start();
    await Promise.race([rx2.endedPromise, new Promise((r) => setTimeout(r, 60_000))]);
    pub.stop('test'); // ends the linger
    const st = await done;
    books.poll();
    const rs = rx2.stats();
    expect(rs.ended).toBe(true);
    expect(rs).toMatchObject({ unrecovered: 0, ringOverruns: 0, lastSeq: st.nextSeq - 1 });
    if (dropEvery) { expect(st.droppedPackets).toBeGreaterThan(5); expect(rs.recovered).toBeGreaterThanOrEqual(st.droppedMessages); } // plus any real loss (rate 0 can overflow the socket buffer) else expect(rs.gaps).toBe(0);
    const b = books.stats();
    expect(b).toMatchObject({ gapRecords: 0, seqJumps: 0, staleSymbols: 0, inconsistent: 0, unknownOrders: 0, lastSeq: st.nextSeq - 1 });
    let levels = 0;
    for (let s = 0; s < SYMBOLS; s++) {
      for (let side = 0; side < 2; side++) {
        const want = src.engine.depth(s, side, 1 << 20).map((l) => [Number(l.price), Number(l.qty), l.count]);
        expect(books.depth(s, side, 1 << 20)).toEqual(want);
        expect(books.deltaDepth(s, side, 1 << 20)).toEqual(want.map(([p, q]) => [p, q]));
        levels += want.length;
      }
      const orders = [...src.engine.orders()].filter((o) => o.symbol === s).map((o) => [Number(o.id), o.side, Number(o.price), o.leaves]).sort((x, y) => x[0]! - y[0]!);
      expect(books.orders(s)).toEqual(orders);
    }
    expect(levels).toBeGreaterThan(20);
    await until(() => { const n = other.available(); otherSeen += n; other.consume(n); return otherSeen === ring.writeSeq; }, 5000);
  }
  it('without loss', () => run(undefined));
  it('with every 9th packet dropped (test-only loss injection): all recovered by retransmission', () => run(9));
});
