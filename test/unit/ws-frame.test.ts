/**
 * The binary frames the gateway writes to a socket itself (Connections.sendFrame, Conn.raw) are
 * the WebSocket frames ws would write: parsed back by ws's own client-side Receiver for payloads
 * in all three length encodings (7-bit, 16-bit, 64-bit), the same bytes as `take()`; and
 * `take(headroom)` / `appendFrom` give the same frame as `take()` / `appendRaw`.
 */
import { describe, expect, it } from 'vitest';
import type { Writable } from 'node:stream';
import * as ws from 'ws';
import { BinaryWriter, decodeFrame } from '../../src/codec/binary-protocol.js';
import { wsBinaryFrame } from '../../src/gateway/connections.js';

/** ws's frame parser (exported by ws at run time, not in its type declarations). */
const Receiver = (ws as unknown as { Receiver: new (o: { binaryType: string; isServer: boolean; maxPayload: number }) => Writable }).Receiver;

/** A writer holding `k` trade messages (48 B each) of distinct ids. */
function trades(k: number): BinaryWriter {
  const w = new BinaryWriter(64);
  for (let i = 0; i < k; i++) w.trade(0, i % 7, i % 2 === 1, i + 1, 19_000 + i, 1 + (i % 9), 1_700_000_000_000_000_000n + BigInt(i));
  return w;
}

describe('WebSocket framing of binary frames written directly to the socket', () => {
  it('ws parses each frame (7-bit, 16-bit and 64-bit lengths) back to exactly the protocol frame', () => {
    for (const k of [1, 2, 3, 100, 1400, 2000]) {
      const want = trades(k).take()!;
      const framed = wsBinaryFrame(trades(k));
      expect(framed.length - want.length).toBe(want.length <= 125 ? 2 : want.length <= 0xffff ? 4 : 10);
      const got: Buffer[] = [];
      const r = new Receiver({ binaryType: 'nodebuffer', isServer: false, maxPayload: 0 });
      r.on('message', (d: Buffer, isBinary: boolean) => { expect(isBinary).toBe(true); got.push(d); });
      r.on('error', (e: Error) => { throw e; });
      // split across writes, as a socket delivers it
      r.write(framed.subarray(0, 3));
      r.write(framed.subarray(3));
      expect(got).toHaveLength(1);
      expect(Buffer.compare(got[0]!, want)).toBe(0);
      expect(decodeFrame(got[0]!, 'server')).toHaveLength(k);
    }
  });

  it('take(headroom) leaves the header room and the same frame after it; appendFrom copies a message like appendRaw', () => {
    const a = trades(5);
    const b = trades(5);
    const plain = a.take()!;
    const roomy = b.take(7)!;
    expect(Buffer.compare(roomy.subarray(7), plain)).toBe(0);
    const src = trades(3);
    const m1 = src.mark; // after 3 messages (48 B each): the 2nd is bytes [8 + 48, 8 + 96)
    expect(m1).toBe(8 + 3 * 48);
    const x = new BinaryWriter(64);
    const y = new BinaryWriter(64);
    x.appendFrom(src, 8 + 48, 8 + 96);
    y.appendRaw(src.bytes(8 + 48, 8 + 96));
    expect(Buffer.compare(x.take()!, y.take()!)).toBe(0);
  });
});
