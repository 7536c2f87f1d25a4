/**
 * A scripted feed publisher for the receive-path tests (run inside a network namespace with
 * `ip netns exec NS node --import tsx test/support/feed-publisher.ts '<json>'`): it sends one
 * deterministic stream (seeded message mix, fixed timestamps, so every path sees the same bytes),
 * leaves out chosen packets on the first send, answers retransmission requests from its buffer
 * (or with the empty answer when the buffer is gone), then a heartbeat and the end of session.
 * It uses the project's codec (src/marketdata/feed/codec.ts) for every byte.
 *
 * Layout: JSON options in argv[2] (PublisherScript); prints one JSON line at exit: the packets
 * sent, the requests received ([seq, count]) and the expected messages (decoded) for the test to
 * compare the ring against.
 * Invariants: bounded (exits after `lingerMs` without requests, at most `maxMs`); the same options
 * give the same packets.
 * Complexity: O(messages). Allocation: test-only.
 * Known limitations: IPv4; one requester at a time.
 */
import { createSocket } from 'node:dgram';
import {
  FEED_PACKET_HEADER, MSG_ADD, MSG_BOOK_DELTA, MSG_CANCEL, MSG_EXECUTE, MSG_SYSTEM, MSG_TRADE, SIDE_BUY, SIDE_NONE, SIDE_SELL,
  SYS_START, checkRequest, encodeMessage, sessionBytes, stampPacket, writePacketHeader, type FeedMessage,
} from '../../src/marketdata/feed/codec.js';
import { prng } from '../../src/workload/prng.js';

export interface PublisherScript {
  to: string; port: number; session: string;
  /** Port the publisher listens on for requests (inside its namespace, all addresses). */
  requestPort: number;
  seed: number; messages: number;
  /** Packet indexes (0-based) left out of the first send. */
  drop?: number[];
  /** 'full': every message can be re-sent; 'gone': requested messages are no longer buffered (an
   *  empty answer whose seq is the first message after the requested range). */
  buffer?: 'full' | 'gone';
  /** Pause `paceMs` after every `paceEvery` packets (the dgram path is slower). */
  paceEvery?: number; paceMs?: number;
  /** Unknown-type messages (skipped by receivers, still numbered) every N messages; 0 none. */
  unknownEvery?: number;
  lingerMs?: number; maxMs?: number;
  /** A packet from another session, sent first (receivers must count and ignore it). */
  foreignFirst?: boolean;
  /** When `to` is a multicast group: the local address to send it from. */
  multicastInterface?: string;
}

export interface PublisherReport {
  packets: number; dropped: number;
  /** Sequence numbers of the messages in the left-out packets. */
  droppedSeqs: number[]; requests: Array<[number, number]>; resent: number; lastSeq: number;
  expected: Array<{ seq: number; type: number; symbol: number; orderId: number; side: number; price: number; qty: number; matchId: number; timestamp: string }>;
}

const BASE_TS = 1_767_225_600_000_000_000n;   // 2026-01-01T00:00:00Z in ns

/** The stream: messages with their sequence numbers, packets as [firstSeq, count, bytes]. */
export function buildStream(o: PublisherScript): { msgs: Array<{ seq: number; m: FeedMessage | null }>; packets: Array<{ seq: number; count: number; bytes: Buffer }> } {
  const rnd = prng(o.seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const msgs: Array<{ seq: number; m: FeedMessage | null }> = [];
  let orderId = 1000, matchId = 1;
  for (let s = 1; s <= o.messages; s++) {
    if (o.unknownEvery && s % o.unknownEvery === 0) { msgs.push({ seq: s, m: null }); continue; }
    const k = int(6);
    const type = s === 1 ? MSG_SYSTEM : [MSG_ADD, MSG_CANCEL, MSG_EXECUTE, MSG_TRADE, MSG_BOOK_DELTA, MSG_ADD][k]!;
    const side = int(2) === 0 ? SIDE_BUY : SIDE_SELL;
    const m: FeedMessage = {
      type, symbol: int(4), timestamp: BASE_TS + BigInt(s) * 1000n, orderId: 0, side: SIDE_NONE, price: 0, qty: 0, matchId: 0, code: 0,
    };
    if (type === MSG_SYSTEM) m.code = SYS_START;
    if (type === MSG_ADD) { m.orderId = orderId++; m.side = side; m.price = 10_000 + int(200) - 100; m.qty = 1 + int(500); }
    if (type === MSG_CANCEL) { m.orderId = 1000 + int(orderId - 999); m.qty = 1 + int(100); }
    if (type === MSG_EXECUTE) { m.orderId = 1000 + int(orderId - 999); m.qty = 1 + int(100); m.matchId = matchId++; }
    if (type === MSG_TRADE) { m.price = 10_000 + int(200) - 100; m.qty = 1 + int(100); m.side = side; m.matchId = matchId++; }
    if (type === MSG_BOOK_DELTA) { m.side = side; m.price = -50 + int(20_000); m.qty = int(3) === 0 ? 0 : 1 + int(1000); }
    msgs.push({ seq: s, m });
  }
  const session = sessionBytes(o.session);
  const packets: Array<{ seq: number; count: number; bytes: Buffer }> = [];
  for (let i = 0; i < msgs.length;) {
    const count = Math.min(1 + int(6), msgs.length - i);
    const buf = Buffer.alloc(1472);
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    let off = FEED_PACKET_HEADER;
    for (let j = 0; j < count; j++) {
      const e = msgs[i + j]!;
      if (e.m) off = encodeMessage(dv, off, e.m);
      else {   // unknown type '~': 16 bytes (type, symbol, timestamp like every message, then 3 more)
        dv.setUint16(off, 16); dv.setUint8(off + 2, 0x7e); off += 18;
      }
    }
    writePacketHeader(buf, dv, 0, session, msgs[i]!.seq, count);
    // the codec stamps all messages of a packet alike; restore per-message stamps for variety
    stampPacket(dv, 0, count, 0, 0);
    let p = FEED_PACKET_HEADER;
    for (let j = 0; j < count; j++) {
      const ml = dv.getUint16(p);
      const e = msgs[i + j]!;
      if (e.m) dv.setBigUint64(p + 2 + 5, e.m.timestamp);
      p += 2 + ml;
    }
    packets.push({ seq: msgs[i]!.seq, count, bytes: buf.subarray(0, off) });
    i += count;
  }
  return { msgs, packets };
}

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2]!) as PublisherScript;
  const { msgs, packets } = buildStream(o);
  const drop = new Set(o.drop ?? []);
  const session = sessionBytes(o.session);
  // the stream goes out of one socket; requests are served (and answered) from the request port,
  // which is how receivers tell an answer from the live stream
  const sock = createSocket('udp4');
  const feed = createSocket('udp4');
  const report: PublisherReport = {
    packets: 0, dropped: 0, droppedSeqs: [], requests: [], resent: 0, lastSeq: msgs.length,
    expected: msgs.filter((e) => e.m).map((e) => ({ seq: e.seq, type: e.m!.type, symbol: e.m!.symbol, orderId: e.m!.orderId, side: e.m!.side, price: e.m!.price, qty: e.m!.type === MSG_SYSTEM ? e.m!.code : e.m!.qty, matchId: e.m!.matchId, timestamp: e.m!.timestamp.toString() })),
  };
  const send = (b: Buffer): Promise<void> => new Promise((res, rej) => feed.send(b, o.port, o.to, (e) => (e ? rej(e) : res())));
  const answer = (b: Buffer, port: number, addr: string): Promise<void> => new Promise((res, rej) => sock.send(b, port, addr, (e) => (e ? rej(e) : res())));
  const hb = (seq: number, count = 0): Buffer => {
    const b = Buffer.alloc(FEED_PACKET_HEADER);
    writePacketHeader(b, new DataView(b.buffer, b.byteOffset, b.byteLength), 0, session, seq, count);
    return b;
  };
  let lastRequest = Date.now();
  sock.on('message', (msg, rinfo) => {
    const dv = new DataView(msg.buffer, msg.byteOffset, msg.byteLength);
    if (checkRequest(dv, 0, msg.byteLength) !== null) return;
    const seq = Number(dv.getBigUint64(10));
    const count = dv.getUint16(18);
    report.requests.push([seq, count]);
    lastRequest = Date.now();
    // 'gone': the requested messages are no longer buffered; the first one still buffered is the
    // one after the requested range (the empty answer's seq)
    if (o.buffer === 'gone') { void answer(hb(seq + count), rinfo.port, rinfo.address); return; }
    for (const p of packets) {
      if (p.seq + p.count > seq && p.seq < seq + count) { report.resent++; void answer(p.bytes, rinfo.port, rinfo.address); }
    }
  });
  await new Promise<void>((res) => sock.bind(o.requestPort, '0.0.0.0', () => res()));
  if (o.multicastInterface) {
    await new Promise<void>((res) => feed.bind(0, o.multicastInterface, () => res()));
    feed.setMulticastInterface(o.multicastInterface);
  }
  const t0 = Date.now();
  if (o.foreignFirst) {
    const other = Buffer.from(packets[0]!.bytes);
    other.set(sessionBytes('OTHER'), 0);
    await send(other);
  }
  for (let i = 0; i < packets.length; i++) {
    if (drop.has(i)) {
      report.dropped++;
      for (let k = 0; k < packets[i]!.count; k++) if (msgs[packets[i]!.seq - 1 + k]!.m) report.droppedSeqs.push(packets[i]!.seq + k);
      continue;
    }
    await send(packets[i]!.bytes);
    report.packets++;
    if (o.paceEvery && i % o.paceEvery === o.paceEvery - 1) await new Promise((r) => setTimeout(r, o.paceMs ?? 1));
  }
  await send(hb(msgs.length + 1));
  const linger = o.lingerMs ?? 800, maxMs = o.maxMs ?? 15_000;
  lastRequest = Math.max(lastRequest, Date.now());
  while (Date.now() - lastRequest < linger && Date.now() - t0 < maxMs) await new Promise((r) => setTimeout(r, 20));
  await send(hb(msgs.length + 1, 0xffff));
  sock.close();
  feed.close();
  process.stdout.write(JSON.stringify(report) + '\n');
}

if (process.argv[1] && /feed-publisher\.ts$/.test(process.argv[1])) {
  main().catch((e) => { process.stderr.write(`${(e as Error).stack}\n`); process.exit(1); });
}
