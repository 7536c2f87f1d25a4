/**
 * The binary client protocol codec: encode → decode is the identity for every message type
 * (fast-check), several messages per frame, the documented byte layout, the code table, and
 * strict rejection of malformed frames (truncated, bad magic/version, unknown type, wrong length,
 * count mismatch, reserved bytes, out-of-range fields).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  BinaryProtocolError, BinaryWriter, CODE_BY_NAME, GATEWAY_CODES, MAGIC, MsgType, NAME_BY_CODE, VERSION,
  decodeFrame, isBinaryClientOrderId, type ClientBinMessage, type ServerBinMessage,
} from '../../src/codec/binary-protocol.js';
import { REASON_NAMES } from '../../src/abi/records.js';
import { readFileSync } from 'node:fs';
import { BODY_SIZE } from '../../src/codec/binary-protocol.js';

const reqId = fc.integer({ min: 0, max: 0xffffffff });
const safe = fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER });
const price = fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const cid = fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }).map(String);
const instrument = u32;
const levels = fc.array(fc.tuple(price, fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })), { maxLength: 40 });
const code = fc.constantFrom(...CODE_BY_NAME.keys());
const ts = fc.integer({ min: 0, max: 2 ** 62 }).map((x) => x - (x % 2048)); // exactly representable

const clientMsg: fc.Arbitrary<ClientBinMessage> = fc.oneof(
  fc.record({ kind: fc.constant('auth' as const), reqId, ts: safe, cancelOnDisconnect: fc.boolean(), key: fc.stringMatching(/^[\x21-\x7e]{1,64}$/), sig: fc.stringMatching(/^[0-9a-f]{64}$/) }),
  fc.record({ kind: fc.constantFrom('subscribe' as const, 'unsubscribe' as const), reqId, instrument, channels: fc.integer({ min: 1, max: 7 }) }),
  fc.record({ kind: fc.constant('order' as const), reqId, clientOrderId: cid, instrument, side: fc.constantFrom(0 as const, 1 as const), type: fc.constant(0 as const), tif: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const), price, qty: u32 }),
  fc.record({ kind: fc.constant('order' as const), reqId, clientOrderId: cid, instrument, side: fc.constantFrom(0 as const, 1 as const), type: fc.constant(1 as const), tif: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const), price: fc.constant(0), qty: u32 }),
  fc.oneof(
    fc.record({ kind: fc.constant('cancel' as const), reqId, clientOrderId: cid, orderId: fc.constant(0) }),
    fc.record({ kind: fc.constant('cancel' as const), reqId, clientOrderId: fc.constant(''), orderId: safe }),
  ),
  fc.oneof(
    fc.record({ kind: fc.constant('modify' as const), reqId, clientOrderId: cid, orderId: fc.constant(0), price, qty: u32 }),
    fc.record({ kind: fc.constant('modify' as const), reqId, clientOrderId: fc.constant(''), orderId: safe, price, qty: u32 }),
  ),
  fc.record({ kind: fc.constant('ping' as const), reqId }),
);

const optCid = fc.oneof(cid, fc.constant(''));
const serverMsg: fc.Arbitrary<ServerBinMessage> = fc.oneof(
  fc.oneof(
    fc.record({ kind: fc.constant('auth' as const), reqId, ok: fc.constant(true), reason: fc.constant(null), account: u32 }),
    fc.record({ kind: fc.constant('auth' as const), reqId, ok: fc.constant(false), reason: fc.constantFrom('invalid_credentials', 'stale_timestamp', 'replay', 'malformed'), account: fc.constant(0) }),
  ),
  fc.record({ kind: fc.constant('subscribed' as const), reqId, instrument, channels: fc.integer({ min: 0, max: 255 }), ok: fc.boolean() }),
  fc.oneof(
    fc.record({ kind: fc.constant('ack' as const), reqId, clientOrderId: optCid, orderId: safe, seq: safe, duplicate: fc.constant(false) }),
    fc.record({ kind: fc.constant('ack' as const), reqId, clientOrderId: optCid, orderId: safe, seq: fc.constant(null), duplicate: fc.constant(true) }),
  ),
  fc.record({ kind: fc.constant('reject' as const), reqId, clientOrderId: optCid, orderId: fc.oneof(safe, fc.constant(0)), seq: fc.oneof(safe, fc.constant(null)), reason: code }),
  fc.record({ kind: fc.constant('fill' as const), reqId, orderId: safe, clientOrderId: optCid, tradeId: safe, price, seq: safe, qty: u32, leaves: u32, liquidity: fc.constantFrom('maker' as const, 'taker' as const), instrument }),
  fc.record({ kind: fc.constant('cancelled' as const), reqId, orderId: safe, clientOrderId: optCid, seq: safe, qty: u32, instrument }),
  fc.record({ kind: fc.constant('modified' as const), reqId, orderId: safe, clientOrderId: optCid, seq: safe, price, qty: u32, instrument }),
  fc.record({ kind: fc.constant('book' as const), reqId, instrument, seq: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), bids: levels, asks: levels }),
  fc.record({ kind: fc.constant('bookDelta' as const), reqId, instrument, first: safe, last: safe, checksum: u32, bids: levels, asks: levels }),
  fc.record({ kind: fc.constant('trade' as const), reqId, instrument, takerSide: fc.constantFrom('buy' as const, 'sell' as const), tradeId: safe, price, qty: u32, ts }),
  fc.record({
    kind: fc.constant('ticker' as const), reqId, instrument,
    bid: fc.option(price, { nil: null }), bidQty: fc.constant(null), ask: fc.option(price, { nil: null }), askQty: fc.constant(null),
    last: fc.option(price, { nil: null }), lastQty: fc.constant(null), ts,
  }).chain((t) => fc.record({ bq: safe, aq: safe, lq: safe }).map(({ bq, aq, lq }) => ({ ...t, bidQty: t.bid === null ? null : bq, askQty: t.ask === null ? null : aq, lastQty: t.last === null ? null : lq }))),
  fc.record({ kind: fc.constant('pong' as const), reqId }),
  fc.record({ kind: fc.constant('error' as const), reqId, code, msgType: fc.integer({ min: 0, max: 255 }) }),
);

function frame(write: (w: BinaryWriter) => void): Buffer {
  const w = new BinaryWriter(16);
  write(w);
  return w.take()!;
}
const ERR = (bytes: Uint8Array, from: 'client' | 'server' = 'client'): string => {
  try { decodeFrame(bytes, from as 'client'); return 'ok'; } catch (e) { expect(e).toBeInstanceOf(BinaryProtocolError); return (e as Error).message; }
};

describe('binary protocol codec', () => {
  it('round-trips every client message, several per frame (fast-check)', () => {
    const w = new BinaryWriter(16); // reused: exercises growth and reset
    fc.assert(fc.property(fc.array(clientMsg, { minLength: 1, maxLength: 30 }), (msgs) => {
      for (const m of msgs) w.write(m);
      const bytes = w.take()!;
      expect(decodeFrame(bytes, 'client')).toEqual(msgs);
    }), { numRuns: 300 });
  });

  it('round-trips every server message, several per frame (fast-check)', () => {
    const w = new BinaryWriter(16);
    fc.assert(fc.property(fc.array(serverMsg, { minLength: 1, maxLength: 20 }), (msgs) => {
      for (const m of msgs) w.write(m);
      expect(decodeFrame(w.take()!, 'server')).toEqual(msgs);
    }), { numRuns: 300 });
  });

  it('covers every message type in the generators', () => {
    const kinds = new Set<string>();
    for (const m of fc.sample(clientMsg, 500)) kinds.add(`c:${m.kind}`);
    for (const m of fc.sample(serverMsg, 1000)) kinds.add(`s:${m.kind}`);
    expect([...kinds].sort()).toEqual(['c:auth', 'c:cancel', 'c:modify', 'c:order', 'c:ping', 'c:subscribe', 'c:unsubscribe',
      's:ack', 's:auth', 's:book', 's:bookDelta', 's:cancelled', 's:error', 's:fill', 's:modified', 's:pong', 's:reject', 's:subscribed', 's:ticker', 's:trade']);
  });

  it('writes the documented bytes: frame header, message header, new order body', () => {
    const b = frame((w) => w.order(7, '42', 3, 1, 0, 2, 201, 5));
    expect(b.length).toBe(8 + 8 + 32);
    expect([...b.subarray(0, 8)]).toEqual([0x54, 0x53, VERSION, 0, 1, 0, 0, 0]);
    expect(b.readUInt16LE(0)).toBe(MAGIC);
    expect([b[8], b[9], b.readUInt16LE(10), b.readUInt32LE(12)]).toEqual([MsgType.NEW_ORDER, 0, 32, 7]);
    const body = 16;
    expect(b.readBigUInt64LE(body)).toBe(42n);
    expect(b.readUInt32LE(body + 8)).toBe(3);
    expect([b[body + 12], b[body + 13], b[body + 14], b[body + 15]]).toEqual([1, 0, 2, 0]);
    expect(b.readBigInt64LE(body + 16)).toBe(201n);
    expect(b.readUInt32LE(body + 24)).toBe(5);
    expect(b.readUInt32LE(body + 28)).toBe(0);
    // u64 clientOrderIds above 2^53 keep every bit
    const big = frame((w) => w.cancel(0, '18446744073709551615', 0));
    expect(big.readBigUInt64LE(16)).toBe((1n << 64n) - 1n);
    expect(decodeFrame(big, 'client')[0]).toMatchObject({ clientOrderId: '18446744073709551615', orderId: 0 });
  });

  it('numbers reasons like the engine and gives gateway codes their own range, one name per code', () => {
    for (const [c, n] of Object.entries(REASON_NAMES)) expect(CODE_BY_NAME.get(n)).toBe(Number(c));
    for (const c of Object.values(GATEWAY_CODES)) { expect(c).toBeGreaterThanOrEqual(64); expect(c).toBeLessThan(128); }
    expect(NAME_BY_CODE.size).toBe(CODE_BY_NAME.size);
    expect(isBinaryClientOrderId('42')).toBe(true);
    expect(isBinaryClientOrderId('042')).toBe(false);
    expect(isBinaryClientOrderId('18446744073709551616')).toBe(false);
    expect(isBinaryClientOrderId('a1')).toBe(false);
    // a JSON clientOrderId without a binary form is carried as 0
    expect(decodeFrame(frame((w) => w.ack(0, 'a1', 5, 9, false)), 'server')[0]).toMatchObject({ clientOrderId: '' });
  });

  it('refuses malformed frames with precise messages', () => {
    const good = frame((w) => { w.ping(1); w.order(2, '5', 0, 0, 0, 0, 10, 1); });
    expect(ERR(good)).toBe('ok');
    expect(ERR(good.subarray(0, 5))).toMatch(/shorter than its 8-byte header/);
    expect(ERR(good.subarray(0, good.length - 1))).toMatch(/runs past the end/);
    expect(ERR(good.subarray(0, 8 + 8 + 4))).toMatch(/ends inside message|runs past/);
    const mut = (f: (b: Buffer) => void): Buffer => { const b = Buffer.from(good); f(b); return b; };
    expect(ERR(mut((b) => { b[0] = 0x55; }))).toMatch(/bad magic/);
    expect(ERR(mut((b) => { b[2] = 2; }))).toMatch(/unsupported version 2/);
    expect(ERR(mut((b) => { b[3] = 1; }))).toMatch(/reserved/);
    expect(ERR(mut((b) => { b.writeUInt16LE(0, 4); }))).toMatch(/no message/);
    expect(ERR(mut((b) => { b.writeUInt16LE(3, 4); }))).toMatch(/count mismatch|ends inside/);
    expect(ERR(mut((b) => { b.writeUInt16LE(1, 4); }))).toMatch(/count mismatch/);
    expect(ERR(mut((b) => { b[8] = 0x3e; }))).toMatch(/unknown message type 0x3e/);
    expect(ERR(mut((b) => { b[8] = MsgType.ACK; }))).toMatch(/unknown message type 0x43/); // server type from a client
    expect(ERR(mut((b) => { b[9] = 1; }))).toMatch(/reserved byte/);
    expect(ERR(mut((b) => { b.writeUInt16LE(8, 10); }))).toMatch(/length 8, expected 0/);
    const o = 16 + 8; // body of the order
    expect(ERR(mut((b) => { b[o + 12] = 2; }))).toMatch(/side 2 out of range/);
    expect(ERR(mut((b) => { b[o + 13] = 9; }))).toMatch(/type 9/);
    expect(ERR(mut((b) => { b[o + 14] = 4; }))).toMatch(/tif 4/);
    expect(ERR(mut((b) => { b[o + 29] = 1; }))).toMatch(/reserved byte/);
    expect(ERR(mut((b) => { b.writeBigUInt64LE(0n, o); }))).toMatch(/clientOrderId/);
    expect(ERR(mut((b) => { b.writeBigInt64LE(1n << 60n, o + 16); }))).toMatch(/price outside/);
    expect(ERR(mut((b) => { b[o + 13] = 1; }))).toMatch(/market order has price 0/);
    // the decoder reports the reqId and type of the offending message
    try { decodeFrame(mut((b) => { b[o + 12] = 7; }), 'client'); } catch (e) { expect(e).toMatchObject({ reqId: 2, msgType: MsgType.NEW_ORDER, code: 'bad_frame' }); }
    expect(ERR(frame((w) => w.cancel(0, '5', 6)))).toMatch(/exactly one of/);
    expect(ERR(frame((w) => w.cancel(0, '', 0)))).toMatch(/exactly one of/);
    expect(ERR(frame((w) => w.subscribe(0, 1, 0)))).toMatch(/channels/);
    expect(ERR(frame((w) => w.subscribe(0, 1, 8)))).toMatch(/channels/);
    const auth = frame((w) => w.auth(0, 'tk_1', 1, 'ab'.repeat(32)));
    expect(ERR(auth)).toBe('ok');
    expect(ERR(Buffer.from(auth).fill(1, 16 + 20, 16 + 21))).toMatch(/key padding/);
    // a book message whose level counts disagree with its length
    const snap = frame((w) => w.book(0, 0, 1, [[1, 1]], []));
    expect(ERR(snap, 'server')).toBe('ok');
    expect(ERR(Buffer.from(snap).fill(2, 16 + 4, 16 + 5), 'server')).toMatch(/does not match 2 bids/);
  });

  it('never throws anything but BinaryProtocolError on random bytes (fast-check)', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, client) => {
      const b = new Uint8Array(bytes);
      if (b.length >= 4) { b[0] = 0x54; b[1] = 0x53; b[2] = 1; b[3] = 0; }
      try { if (client) decodeFrame(b, 'client'); else decodeFrame(b, 'server'); } catch (e) { if (!(e instanceof BinaryProtocolError)) throw e; }
    }), { numRuns: 2000 });
  });

  it('is documented in docs/protocol.md: every message type with its id and size, every code with its name', () => {
    const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
    for (const [name, id] of Object.entries(MsgType)) {
      const hex = `0x${id.toString(16).toUpperCase().padStart(2, '0')}`;
      const fixed = BODY_SIZE[id]!;
      const size = id === MsgType.BOOK_SNAPSHOT || id === MsgType.BOOK_DELTA ? `(${fixed} + 16 × (bids + asks) bytes)` : `(${fixed} bytes)`;
      expect(doc, name).toMatch(new RegExp(`\\*\\*[A-Z_/ 0-9x]*${name}[A-Z_/ 0-9x]*${hex}[^*]*\\*\\* ${size.replace(/[()+×]/g, (c) => `\\${c}`)}`));
    }
    for (const [name, c] of CODE_BY_NAME) expect(doc, name).toContain(`${c} ${name}`);
  });
});
