/**
 * WebSocket input limits and compression over loopback: a message of exactly maxPayload bytes is
 * served, one byte more closes the connection with 1009 (also when it arrives deflated and only
 * inflates past the limit); malformed frames (not JSON, not an object, unknown op, bad reqId) are
 * answered with errors and the connection stays usable; `/ws?compress=1` negotiates
 * permessage-deflate without server context takeover, frames under the threshold go
 * uncompressed and larger ones compressed; plain `/ws` never negotiates it.
 */
import { describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { ApiKey } from '../../src/gateway/auth.js';
import { WsClient, sleep } from '../support/gateway-client.js';
import { useGateway } from '../support/gateway-fixture.js';

let gw: Gateway;
let url: string;
let key: ApiKey;

useGateway({ tmpPrefix: 'gww-', capacity: 10_000 }, (f) => {
  ({ gw, wsUrl: url } = f);
  key = f.key(1);
}, 60_000);

const padded = (m: Record<string, unknown>, bytes: number): string => { const t = JSON.stringify(m); return t.slice(0, -1) + ' '.repeat(bytes - t.length) + '}'; };
const bytesRead = (c: WsClient): number => (c.ws as unknown as { _socket: { bytesRead: number } })._socket.bytesRead;

describe('maxPayload (4 KiB on /ws)', () => {
  it('serves a message of exactly 4096 bytes and closes with 1009 on 4097', async () => {
    const c = await WsClient.open(url);
    const exact = padded({ op: 'ping', reqId: 'exact' }, 4096);
    expect(Buffer.byteLength(exact)).toBe(4096);
    c.send(exact);
    expect(await c.next((m) => m.reqId === 'exact')).toEqual({ type: 'pong', reqId: 'exact' });
    const closed = c.closed();
    c.send(padded({ op: 'ping', reqId: 'over' }, 4097));
    expect((await closed).code).toBe(1009);
    expect(c.msgs.filter((m) => m.reqId === 'over')).toEqual([]);
  });

  it('applies the limit to the inflated size on a compressed connection', async () => {
    const c = await WsClient.open(url + '?compress=1', { perMessageDeflate: true });
    expect(c.ws.extensions).toMatch(/permessage-deflate/);
    const closed = c.closed();
    const big = padded({ op: 'ping', reqId: 'bomb' }, 64 * 1024); // deflates to a few hundred bytes
    c.send(big);
    expect((await closed).code).toBe(1009);
  });
});

describe('malformed frames', () => {
  it('answers each with an error and keeps the connection usable', async () => {
    const c = await WsClient.open(url);
    const cases: [string, string][] = [
      ['{not json', 'bad_json'], ['', 'bad_json'], ['[]', 'bad_json'], ['null', 'bad_json'], ['42', 'bad_json'], ['"ping"', 'bad_json'],
      ['{"op":"launch"}', 'bad_op'], ['{"reqId":1}', 'bad_op'], ['{"op":"ping","reqId":{"a":1}}', 'bad_field'], ['{"op":"ping","reqId":1.5}', 'bad_field'],
      [`{"op":"ping","reqId":"${'x'.repeat(65)}"}`, 'bad_field'], ['{"op":"cancel"}', 'missing_field'], ['{"op":"cancel","orderId":"1","clientOrderId":"a"}', 'missing_field'],
      ['{"op":"cancel","orderId":1}', 'bad_field'], ['{"op":"subscribe","channels":["book.BTC-USD"],"x":1}', 'unknown_field'],
    ];
    for (const [frame, code] of cases) {
      const before = c.msgs.length;
      c.send(frame);
      const m = await c.next((x) => x.type === 'error');
      expect(m.code, frame).toBe(code);
      expect(c.msgs.length).toBe(before);
    }
    // a burst of garbage does not drop the connection either
    for (let i = 0; i < 50; i++) c.send(`{"op":${i}`);
    for (let i = 0; i < 50; i++) await c.next((x) => x.type === 'error' && x.code === 'bad_json');
    expect(await c.ask({ op: 'ping' }, 'alive')).toEqual({ type: 'pong', reqId: 'alive' });
    expect(await c.auth(key)).toMatchObject({ ok: true });
    c.close();
  });
});

describe('permessage-deflate, opt-in per connection', () => {
  it('is not negotiated on /ws even when the client offers it', async () => {
    const c = await WsClient.open(url, { perMessageDeflate: true });
    expect(c.ws.extensions).toBe('');
    c.close();
  });

  it('/ws?compress=1: small frames travel uncompressed, a book snapshot over the threshold compressed', async () => {
    const t = await WsClient.open(url);
    await t.auth(key);
    for (let i = 0; i < 100; i++) t.send({ op: 'order', clientOrderId: `z${i}`, symbol: 'MSFT', side: 'buy', type: 'limit', tif: 'gtc', price: (400 + i * 0.01).toFixed(2), qty: '1' });
    for (let i = 0; i < 100; i++) await t.next((m) => m.type === 'ack' && m.clientOrderId === `z${i}`);
    await sleep(10);
    gw.pump();
    const c = await WsClient.open(url + '?compress=1', { perMessageDeflate: true });
    expect(c.ws.extensions).toMatch(/permessage-deflate/);
    const params = (c.ws as unknown as { _extensions: Record<string, { params: Record<string, unknown> }> })._extensions['permessage-deflate']!.params;
    expect(params.server_no_context_takeover).toBe(true);
    let r0 = bytesRead(c);
    const pong = await c.ask({ op: 'ping' }, 'p');
    expect(bytesRead(c) - r0).toBe(c.raw[c.raw.length - 1]!.length + 2); // 2-byte header, payload as is
    expect(pong).toEqual({ type: 'pong', reqId: 'p' });
    r0 = bytesRead(c);
    c.send({ op: 'subscribe', channels: ['book.MSFT'], reqId: 's' });
    await c.next((m) => m.reqId === 's');
    const snap = c.raw.find((x) => x.startsWith('{"type":"book"'))!;
    expect(snap.length).toBeGreaterThan(1024);
    const sent = c.raw.slice(-2).reduce((s, x) => s + x.length, 0);
    expect(bytesRead(c) - r0).toBeLessThan(sent / 2);
    expect((JSON.parse(snap) as { bids: unknown[] }).bids).toHaveLength(100);
    c.close();
    t.close();
  });
});
