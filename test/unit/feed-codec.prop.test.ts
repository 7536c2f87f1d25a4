// The feed's wire codec (src/marketdata/feed/codec.ts): exact bytes of each message type against
// docs/feed.md, round trips (encode → decode, encode → ring record) as seeded property tests,
// packet checks that refuse every malformed shape, and requests.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  FEED_PACKET_HEADER, MSG_ADD, MSG_BOOK_DELTA, MSG_CANCEL, MSG_EXECUTE, MSG_LENGTH, MSG_SYSTEM, MSG_TRADE, SIDE_BUY, SIDE_NONE, SIDE_SELL,
  SYS_END, SYS_RESET, SYS_START, checkPacket, checkRequest, decodePacket, encodeAdd, encodeBookDelta, encodeCancel, encodeExecute,
  encodeMessage, encodeRequest, encodeSystem, encodeTrade, gapRecord, messageToRecord, sessionBytes, sessionName, stampPacket, writePacketHeader,
  type FeedMessage,
} from '../../src/marketdata/feed/codec.js';
import { readRecord } from '../../src/marketdata/feed/ring.js';
import { FEED_ENUMS } from '../../src/abi/records.js';

const SEED = 19_2;

function packet(session: string, seq: number, msgs: FeedMessage[], ts = 0x1234_5678_9abc_def0n): Uint8Array {
  const u8 = new Uint8Array(65_000);
  const dv = new DataView(u8.buffer);
  let p = FEED_PACKET_HEADER;
  for (const m of msgs) p = encodeMessage(dv, p, m);
  writePacketHeader(u8, dv, 0, sessionBytes(session), seq, msgs.length);
  stampPacket(dv, 0, msgs.length, Number(ts & 0xffffffffn), Number(ts >> 32n));
  return u8.slice(0, p);
}

const U53 = Number.MAX_SAFE_INTEGER;
const side = fc.constantFrom(SIDE_BUY, SIDE_SELL);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const id = fc.integer({ min: 0, max: U53 });
const price = fc.integer({ min: -U53, max: U53 });
const base = { timestamp: 0n, orderId: 0, side: SIDE_NONE, price: 0, qty: 0, matchId: 0, code: 0 };
const message: fc.Arbitrary<FeedMessage> = fc.oneof(
  fc.record({ symbol: u32, orderId: id, side, price, qty: u32 }).map((r) => ({ ...base, ...r, type: MSG_ADD })),
  fc.record({ symbol: u32, orderId: id, qty: u32 }).map((r) => ({ ...base, ...r, type: MSG_CANCEL })),
  fc.record({ symbol: u32, orderId: id, qty: u32, matchId: id }).map((r) => ({ ...base, ...r, type: MSG_EXECUTE })),
  fc.record({ symbol: u32, price, qty: u32, side, matchId: id }).map((r) => ({ ...base, ...r, type: MSG_TRADE })),
  fc.record({ symbol: u32, side, price, qty: u32 }).map((r) => ({ ...base, ...r, type: MSG_BOOK_DELTA })),
  fc.record({ symbol: u32, code: fc.constantFrom(SYS_START, SYS_END, SYS_RESET) }).map((r) => ({ ...base, ...r, type: MSG_SYSTEM })),
);

describe('feed codec: exact wire bytes (docs/feed.md)', () => {
  it('A add order: type, symbol, timestamp, orderId, side, price, qty, big-endian, 34 bytes', () => {
    const u8 = new Uint8Array(64);
    const dv = new DataView(u8.buffer);
    const end = encodeAdd(dv, 0, 7, 0x0102030405, SIDE_SELL, -2, 300);
    expect(end).toBe(36);
    expect(Buffer.from(u8.subarray(0, end)).toString('hex')).toBe(
      '0022' + '41' + '00000007' + '0000000000000000' + '0000000102030405' + '53' + 'fffffffffffffffe' + '0000012c');
  });
  it('lengths: A 34, X 25, E 33, P 34, D 26, S 14', () => {
    const dv = new DataView(new ArrayBuffer(64));
    expect(encodeAdd(dv, 0, 1, 1, 0, 1, 1) - 2).toBe(34);
    expect(encodeCancel(dv, 0, 1, 1, 1) - 2).toBe(25);
    expect(encodeExecute(dv, 0, 1, 1, 1, 1) - 2).toBe(33);
    expect(encodeTrade(dv, 0, 1, 1, 1, 0, 1) - 2).toBe(34);
    expect(encodeBookDelta(dv, 0, 1, 0, 1, 1) - 2).toBe(26);
    expect(encodeSystem(dv, 0, 1, SYS_START) - 2).toBe(14);
    for (const t of [MSG_ADD, MSG_CANCEL, MSG_EXECUTE, MSG_TRADE, MSG_BOOK_DELTA, MSG_SYSTEM]) expect(MSG_LENGTH[t]).toBeGreaterThan(0);
  });
  it('packet header: session space-padded, seq u64, count u16; heartbeat and end of session', () => {
    const hb = packet('ABC', 42, []);
    expect(hb.length).toBe(20);
    expect(Buffer.from(hb).toString('hex')).toBe('41424320202020202020' + '000000000000002a' + '0000');
    const p = decodePacket(hb);
    expect(p).toMatchObject({ session: 'ABC', seq: 42, count: 0, heartbeat: true, end: false, messages: [] });
    const end = hb.slice();
    end[18] = 0xff; end[19] = 0xff;
    expect(decodePacket(end)).toMatchObject({ end: true, heartbeat: false, seq: 42 });
  });
  it('session names: 1..10 printable ASCII, no leading/trailing spaces', () => {
    expect(sessionName(sessionBytes('S1'))).toBe('S1');
    expect(sessionName(sessionBytes('0123456789'))).toBe('0123456789');
    for (const bad of ['', '01234567890', ' A', 'A ', 'é', 'a\tb']) expect(() => sessionBytes(bad)).toThrow(/session/);
  });
  it('encoders refuse values that do not fit (ERR_FEED_MESSAGE)', () => {
    const dv = new DataView(new ArrayBuffer(64));
    expect(() => encodeAdd(dv, 0, -1, 1, 0, 1, 1)).toThrow(/symbol/);
    expect(() => encodeAdd(dv, 0, 1, 1, 2, 1, 1)).toThrow(/side/);
    expect(() => encodeAdd(dv, 0, 1, 1.5, 0, 1, 1)).toThrow(/orderId/);
    expect(() => encodeAdd(dv, 0, 1, 1, 0, 1, 2 ** 32)).toThrow(/qty/);
    expect(() => encodeTrade(dv, 0, 1, 2 ** 60, 1, 0, 1)).toThrow(/price/);
    expect(() => encodeSystem(dv, 0, 1, 65)).toThrow(/code/);
    try { encodeCancel(dv, 0, 1, -1, 1); } catch (e) { expect((e as { code: string }).code).toBe('ERR_FEED_MESSAGE'); }
  });
});

describe('feed codec: round trips (seeded properties)', () => {
  it('encode → decode gives every field back, in order, with the packet timestamp', () => {
    fc.assert(fc.property(fc.array(message, { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 2 ** 40 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (msgs, seq, ts) => {
      const u8 = packet('PROP', seq, msgs, ts);
      expect(checkPacket(new DataView(u8.buffer), 0, u8.length)).toBeNull();
      const p = decodePacket(u8);
      expect(p.seq).toBe(seq);
      expect(p.count).toBe(msgs.length);
      p.messages.forEach((d, i) => expect(d).toEqual({ ...msgs[i], timestamp: ts }));
    }), { seed: SEED, numRuns: 300 });
  });
  it('encode → ring record (messageToRecord) carries the fields the docs table lists', () => {
    fc.assert(fc.property(message, fc.integer({ min: 1, max: 2 ** 50 }), fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), (m, seq, ts) => {
      const u8 = packet('R', seq, [m], ts);
      const src = new DataView(u8.buffer);
      const rec = new DataView(new ArrayBuffer(72));
      new Uint8Array(rec.buffer).fill(0xee); // a reused slot: every field must be written
      expect(messageToRecord(src, FEED_PACKET_HEADER + 2, rec, 0, seq, 3, 1, 1, 5, 6, 7, 8)).toBe(true);
      const r = readRecord(rec, 0);
      expect(r.type).toBe(String.fromCharCode(m.type));
      expect(r).toMatchObject({ symbol: m.symbol, seq, path: 3, stampSource: 1, flags: 1, tsSend: BigInt.asIntN(64, ts), tsRecv: (6n << 32n) + 5n, tsRing: (8n << 32n) + 7n });
      const want = {
        [MSG_ADD]: { orderId: m.orderId, side: m.side, price: m.price, qty: m.qty, matchId: 0 },
        [MSG_CANCEL]: { orderId: m.orderId, side: 255, price: 0, qty: m.qty, matchId: 0 },
        [MSG_EXECUTE]: { orderId: m.orderId, side: 255, price: 0, qty: m.qty, matchId: m.matchId },
        [MSG_TRADE]: { orderId: 0, side: m.side, price: m.price, qty: m.qty, matchId: m.matchId },
        [MSG_BOOK_DELTA]: { orderId: 0, side: m.side, price: m.price, qty: m.qty, matchId: 0 },
        [MSG_SYSTEM]: { orderId: 0, side: 255, price: 0, qty: m.code, matchId: 0 },
      }[m.type];
      expect(r).toMatchObject(want!);
    }), { seed: SEED + 1, numRuns: 500 });
  });
  it('unknown message types are skipped but keep the packet valid; longer known messages are accepted', () => {
    const u8 = packet('U', 1, [{ ...base, type: MSG_CANCEL, symbol: 1, orderId: 9, qty: 3 }]);
    // append an unknown 'Z' message of 5 bytes and extend a count of 2
    const ext = new Uint8Array(u8.length + 7);
    ext.set(u8);
    ext.set([0, 5, 0x5a, 1, 2, 3, 4], u8.length);
    ext[19] = 2;
    const dv = new DataView(ext.buffer);
    expect(checkPacket(dv, 0, ext.length)).toBeNull();
    const p = decodePacket(ext);
    expect(p.messages[1]!.type).toBe(0x5a);
    expect(messageToRecord(dv, u8.length + 2, new DataView(new ArrayBuffer(72)), 0, 2, 3, 1, 0, 0, 0, 0, 0)).toBe(false);
  });
});

describe('feed codec: malformed packets are refused, never misread', () => {
  const good = packet('M', 5, [{ ...base, type: MSG_ADD, symbol: 1, orderId: 2, side: SIDE_BUY, price: 3, qty: 4 }, { ...base, type: MSG_SYSTEM, symbol: 0, code: SYS_START }]);
  const check = (u8: Uint8Array): string | null => checkPacket(new DataView(u8.buffer, u8.byteOffset, u8.byteLength), 0, u8.byteLength);
  it('the good one passes', () => expect(check(good)).toBeNull());
  it('short header, short blocks, count mismatch, trailing bytes, bad side, bad code, body on a heartbeat', () => {
    expect(check(good.slice(0, 19))).toMatch(/header/);
    expect(check(good.slice(0, good.length - 1))).toMatch(/runs past/);
    const more = good.slice(); more[19] = 3; expect(check(more)).toMatch(/fewer/);
    const less = good.slice(); less[19] = 1; expect(check(less)).toMatch(/after the last/);
    const side = good.slice(); side[20 + 2 + 13 + 8] = 0x58; expect(check(side)).toMatch(/side/);
    const code = good.slice(); code[good.length - 1] = 0x41; expect(check(code)).toMatch(/code/);
    const shortA = good.slice(); shortA[21] = 20; expect(check(shortA)).not.toBeNull();
    const zero = good.slice(); zero[20] = 0; zero[21] = 0; expect(check(zero)).toMatch(/empty/);
    const hb = good.slice(); hb[19] = 0; expect(check(hb)).toMatch(/heartbeat/);
    const big = good.slice(); big[10] = 0x80; expect(check(big)).toMatch(/2\^53/);
    expect(() => decodePacket(side)).toThrow(expect.objectContaining({ code: 'ERR_FEED_PACKET' }));
  });
  it('random corruption of a good packet is either refused or decodes without throwing (seeded)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(good.length - 1), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.nat(good.length), (flips, cut) => {
      const u8 = good.slice(0, Math.max(cut, 0));
      for (const [i, v] of flips) if (i < u8.length) u8[i] = v;
      if (check(u8) === null) expect(() => decodePacket(u8)).not.toThrow();
      else expect(() => decodePacket(u8)).toThrow();
    }), { seed: SEED + 2, numRuns: 1000 });
  });
});

describe('feed codec: retransmission requests and GAP records', () => {
  it('a request is session + seq + count, 20 bytes; bad ones are refused', () => {
    const u8 = new Uint8Array(20);
    const dv = new DataView(u8.buffer);
    expect(encodeRequest(u8, dv, 0, sessionBytes('Q'), 1000, 7)).toBe(20);
    expect(checkRequest(dv, 0, 20)).toBeNull();
    expect(Buffer.from(u8).toString('hex')).toBe('51202020202020202020' + '00000000000003e8' + '0007');
    expect(checkRequest(dv, 0, 19)).not.toBeNull();
    dv.setUint16(18, 0); expect(checkRequest(dv, 0, 20)).toMatch(/count/);
    dv.setUint16(18, 0xffff); expect(checkRequest(dv, 0, 20)).toMatch(/count/);
    expect(() => encodeRequest(u8, dv, 0, sessionBytes('Q'), 0, 1)).toThrow(/seq/);
  });
  it('a GAP record: type G, seq first lost, qty count, path, side none', () => {
    const rec = new DataView(new ArrayBuffer(72));
    new Uint8Array(rec.buffer).fill(0xaa);
    gapRecord(rec, 0, 2 ** 33 + 5, 12, FEED_ENUMS.FeedPath.DGRAM, 1, 2);
    expect(readRecord(rec, 0)).toMatchObject({ type: 'G', seq: 2 ** 33 + 5, qty: 12, path: 3, side: 255, orderId: 0, price: 0, flags: 0, tsSend: 0n, tsRecv: 0n, tsRing: (2n << 32n) + 1n });
  });
});
