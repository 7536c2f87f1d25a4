/**
 * WebSocket input limits and compression over loopback: a message of exactly maxPayload bytes is
 * served, one byte more closes the connection with 1009 (also when it arrives deflated and only
 * inflates past the limit); malformed frames (not JSON, not an object, unknown op, bad reqId) are
 * answered with errors and the connection stays usable; `/ws?compress=1` negotiates
 * permessage-deflate without server context takeover, frames under the threshold go
 * uncompressed and larger ones compressed; plain `/ws` never negotiates it. Binary frames, which
 * the gateway writes to the socket itself with their WebSocket header on a connection without
 * permessage-deflate and through ws with it: a binary subscriber on each gets the same messages, the
 * plain one as one frame of exactly header + payload bytes, the compressed one in fewer bytes.
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { BinaryWriter, Channel, decodeFrame, type ServerBinMessage } from '../../src/codec/binary-protocol.js';
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

  it('binary market data: the same messages with and without permessage-deflate (direct socket writes vs ws)', async () => {
    const t = await WsClient.open(url);
    await t.auth(key);
    for (let i = 0; i < 120; i++) t.send({ op: 'order', clientOrderId: `y${i}`, symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: (175 + i * 0.01).toFixed(2), qty: '2' });
    for (let i = 0; i < 120; i++) await t.next((m) => m.type === 'ack' && m.clientOrderId === `y${i}`);
    const open = async (q: string, deflate: boolean): Promise<{ ws: WebSocket; frames: Buffer[] }> => {
      const ws = new WebSocket(url + q, { perMessageDeflate: deflate });
      await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
      const frames: Buffer[] = [];
      ws.on('message', (d: Buffer) => frames.push(d));
      return { ws, frames };
    };
    const plain = await open('?protocol=binary', false);
    const packed = await open('?protocol=binary&compress=1', true);
    expect(plain.ws.extensions).toBe('');
    expect(packed.ws.extensions).toMatch(/permessage-deflate/);
    const read = (ws: WebSocket): number => (ws as unknown as { _socket: { bytesRead: number } })._socket.bytesRead;
    const r0 = [read(plain.ws), read(packed.ws)];
    const w = new BinaryWriter(64);
    for (const c of [plain, packed]) { w.subscribe(7, 3, Channel.BOOK | Channel.TRADES | Channel.TICKER); c.ws.send(w.take()!); }
    const until = async (f: () => boolean): Promise<void> => { for (let i = 0; i < 300 && !f(); i++) await sleep(10); };
    await until(() => plain.frames.length > 0 && packed.frames.length > 0);
    const snapshot = plain.frames[0]!;
    expect(decodeFrame(snapshot, 'server').some((m) => m.kind === 'book')).toBe(true);
    expect(snapshot.length).toBeGreaterThan(1024);
    expect(read(plain.ws) - r0[0]!).toBe(4 + snapshot.length); // one frame: a 4-byte header (16-bit length), the payload as is
    expect(read(packed.ws) - r0[1]!).toBeLessThan(snapshot.length / 2); // deflated
    // a trade: trades, ticker and delta to both
    t.send({ op: 'order', clientOrderId: 'ysell', symbol: 'AAPL', side: 'sell', type: 'limit', tif: 'ioc', price: '175.00', qty: '3' });
    await t.next((m) => m.clientOrderId === 'ysell' && m.type === 'ack');
    const msgs = (fs: Buffer[]): ServerBinMessage[] => fs.flatMap((f) => decodeFrame(f, 'server'));
    await until(() => msgs(plain.frames).some((m) => m.kind === 'trade') && msgs(packed.frames).some((m) => m.kind === 'trade') && msgs(packed.frames).length === msgs(plain.frames).length);
    const strip = (ms: ServerBinMessage[]): unknown[] => ms.map((m) => (m.kind === 'ticker' ? { ...m, ts: 0 } : m));
    expect(msgs(plain.frames).some((m) => m.kind === 'bookDelta')).toBe(true);
    expect(strip(msgs(packed.frames))).toEqual(strip(msgs(plain.frames)));
    plain.ws.close();
    packed.ws.close();
    t.close();
  });
});
