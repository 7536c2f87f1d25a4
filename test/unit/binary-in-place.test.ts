/**
 * The gateway's in-place reading of binary frames (issue 15) gives exactly what decodeFrame gives:
 * checkClientFrame accepts a frame iff decodeFrame(bytes, 'client') does, and refuses it with the
 * same message, reqId and message type; the fields read in place equal the decoded ones. Random
 * valid frames with single bytes flipped (fast-check).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BinaryProtocolError, BinaryWriter, FRAME_HEADER_SIZE, MSG_HEADER_SIZE, MsgType, checkClientFrame, decodeClientMessage, decodeFrame, getCid, getI64, getU64,
} from '../../src/codec/binary-protocol.js';

const u64 = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 2 ** 53 - 1 }));
const order = fc.record({ reqId: fc.nat(), cid: fc.integer({ min: 1, max: 2 ** 53 - 1 }), ins: fc.nat(9), side: fc.integer({ min: 0, max: 1 }), type: fc.integer({ min: 0, max: 1 }), tif: fc.integer({ min: 0, max: 3 }), price: fc.integer({ min: 1, max: 10 ** 9 }), qty: fc.integer({ min: 1, max: 2 ** 32 - 1 }) });
const cancel = fc.record({ reqId: fc.nat(), cid: u64, orderId: u64, modify: fc.boolean(), price: fc.integer({ min: -(10 ** 9), max: 10 ** 9 }), qty: fc.nat() });

function outcome(f: () => unknown): string {
  try { f(); return 'ok'; } catch (e) { if (!(e instanceof BinaryProtocolError)) throw e; return `${e.message}|${e.reqId}|${e.msgType}`; }
}

describe('binary frames read in place', () => {
  it('checkClientFrame refuses exactly what decodeFrame refuses, with the same error; fields read in place match (fast-check)', () => {
    const w = new BinaryWriter(64);
    fc.assert(fc.property(fc.array(fc.oneof(order, cancel), { minLength: 1, maxLength: 8 }), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 3 }), (msgs, flips) => {
      for (const m of msgs) {
        if ('ins' in m) w.order(m.reqId, String(m.cid), m.ins, m.side as 0 | 1, m.type as 0 | 1, m.tif as 0 | 1 | 2 | 3, m.type === 1 ? 0 : m.price, m.qty);
        else if (m.modify) w.modify(m.reqId, m.cid === 0 ? '' : String(m.cid), m.orderId, m.price, m.qty);
        else w.cancel(m.reqId, m.cid === 0 ? '' : String(m.cid), m.orderId);
      }
      const bytes = new Uint8Array(w.takeBytes()!);
      for (const [at, v] of flips) bytes[at % bytes.length] = v;
      const want = outcome(() => decodeFrame(bytes, 'client'));
      expect(outcome(() => checkClientFrame(bytes))).toBe(want);
      if (want !== 'ok') return;
      const decoded = decodeFrame(bytes, 'client');
      const dv = checkClientFrame(bytes);
      for (let i = 0, o = FRAME_HEADER_SIZE; i < decoded.length; i++) {
        const d = decoded[i]!;
        const b = o + MSG_HEADER_SIZE;
        const type = dv.getUint8(o);
        expect(decodeClientMessage(dv, o)).toEqual(d);
        if (type === MsgType.NEW_ORDER && d.kind === 'order') {
          expect([getCid(dv, b), dv.getUint32(b + 8, true), dv.getUint8(b + 12), dv.getUint8(b + 13), dv.getUint8(b + 14), getI64(dv, b + 16, 'price'), dv.getUint32(b + 24, true)])
            .toEqual([d.clientOrderId, d.instrument, d.side, d.type, d.tif, d.price, d.qty]);
        } else if (d.kind === 'cancel' || d.kind === 'modify') {
          expect([getCid(dv, b), getU64(dv, b + 8, 'orderId')]).toEqual([d.clientOrderId, d.orderId]);
        }
        o = b + dv.getUint16(o + 2, true);
      }
    }), { numRuns: 500 });
  });
});
