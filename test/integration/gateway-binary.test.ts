/**
 * The gateway's binary WebSocket protocol over loopback with real sockets: protocol selection,
 * authentication, order entry with reqId echo and several messages per frame, execution reports
 * to owners only, clientOrderId idempotency shared with JSON, malformed frames answered with
 * `bad_frame` while the connection stays usable, oversize frames, and a book rebuilt from binary
 * snapshot + deltas (with the JSON checksum) equal to the gateway's book.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Gateway } from '../../src/gateway/gateway.js';
import { sign, type ApiKey } from '../../src/gateway/auth.js';
import { BinaryWriter, Channel, decodeFrame, type ServerBinMessage } from '../../src/codec/binary-protocol.js';
import { crc32 } from '../../src/sys/crc32.js';
import { MessageQueue } from '../support/gateway-client.js';
import { useGateway } from '../support/gateway-fixture.js';

type M = ServerBinMessage;

class BinClient extends MessageQueue<M> {
  frames = 0;
  private readonly w = new BinaryWriter(256);
  private constructor(readonly ws: WebSocket) {
    super();
    ws.on('message', (d: Buffer, isBinary) => {
      expect(isBinary).toBe(true);
      this.frames++;
      for (const m of decodeFrame(d, 'server')) this.push(m);
    });
  }
  static open(url: string): Promise<BinClient> {
    return new Promise((res, rej) => { const ws = new WebSocket(url); ws.once('open', () => res(new BinClient(ws))); ws.once('error', rej); });
  }
  send(build: (w: BinaryWriter) => void): void { build(this.w); this.ws.send(this.w.take()!); }
  raw(b: Uint8Array | string): void { this.ws.send(b); }
  async auth(k: ApiKey, reqId = 1): Promise<M> {
    const ts = Date.now();
    this.send((w) => w.auth(reqId, k.key, ts, sign(k.secret, k.key, ts)));
    return this.next((m) => m.kind === 'auth');
  }
  async usable(): Promise<void> {
    const id = 1000 + Math.floor(Math.random() * 1e6);
    this.send((w) => w.ping(id));
    expect(await this.next((m) => m.kind === 'pong' && m.reqId === id)).toEqual({ kind: 'pong', reqId: id });
  }
  close(): void { this.ws.close(); }
}

let gw: Gateway;
let base: string;
let keyA: ApiKey;
let keyB: ApiKey;
let keyRead: ApiKey;
const binUrl = (): string => base.replace('http', 'ws') + '/ws?protocol=binary';
const sym = (name: string): number => gw.bySymbol.get(name)!.id;
const ticks = (name: string, px: string): number => Number(gw.bySymbol.get(name)!.toTicks(px));
const lots = (name: string, q: string): number => gw.bySymbol.get(name)!.toLots(q);

useGateway({ tmpPrefix: 'gwb-', capacity: 10_000 }, (f) => {
  ({ gw, base } = f);
  keyA = f.key(1);
  keyB = f.key(2);
  keyRead = f.key(3, ['read']);
}, 60_000);

describe('binary protocol over loopback', () => {
  it('is chosen per connection by ?protocol=binary; other values are refused', async () => {
    const bad = new WebSocket(base.replace('http', 'ws') + '/ws?protocol=xml');
    const err = await new Promise<string>((res) => { bad.once('error', (e) => res(e.message)); bad.once('open', () => res('open')); });
    expect(err).toMatch(/400/);
    const c = await BinClient.open(binUrl());
    await c.usable();
    // a text frame on a binary connection is a bad frame; the connection stays up
    c.raw('{"op":"ping"}');
    expect(await c.next((m) => m.kind === 'error')).toMatchObject({ code: 'bad_frame' });
    await c.usable();
    c.close();
  });

  it('authenticates and refuses bad signatures, replays, unauthenticated and read-only order entry', async () => {
    const c = await BinClient.open(binUrl());
    c.send((w) => w.order(4, '1', sym('BTC-USD'), 0, 0, 0, ticks('BTC-USD', '60000.0'), 1));
    expect(await c.next((m) => m.kind === 'error')).toEqual({ kind: 'error', reqId: 4, code: 'not_authenticated', msgType: 0x04 });
    const ts = Date.now();
    c.send((w) => w.auth(2, keyA.key, ts, sign('0'.repeat(64), keyA.key, ts)));
    expect(await c.next((m) => m.kind === 'auth')).toEqual({ kind: 'auth', reqId: 2, ok: false, reason: 'invalid_credentials', account: 0 });
    const old = ts - 60_000;
    c.send((w) => w.auth(3, keyA.key, old, sign(keyA.secret, keyA.key, old)));
    expect(await c.next((m) => m.kind === 'auth')).toMatchObject({ ok: false, reason: 'stale_timestamp' });
    const sig = sign(keyA.secret, keyA.key, ts);
    c.send((w) => w.auth(5, keyA.key, ts, sig));
    expect(await c.next((m) => m.kind === 'auth')).toEqual({ kind: 'auth', reqId: 5, ok: true, reason: null, account: 1 });
    c.send((w) => w.auth(6, keyA.key, ts, sig));
    expect(await c.next((m) => m.kind === 'auth')).toMatchObject({ ok: false, reason: 'replay' });
    const r = await BinClient.open(binUrl());
    expect(await r.auth(keyRead)).toMatchObject({ ok: true, account: 3 });
    r.send((w) => w.order(9, '1', sym('BTC-USD'), 0, 0, 0, ticks('BTC-USD', '60000.0'), 1));
    expect(await r.next((m) => m.kind === 'error')).toMatchObject({ code: 'forbidden', reqId: 9 });
    c.close(); r.close();
  });

  it('answers malformed frames with bad_frame and keeps the connection usable', async () => {
    const c = await BinClient.open(binUrl());
    await c.auth(keyA);
    const w = new BinaryWriter();
    w.ping(1);
    w.order(77, '5', sym('BTC-USD'), 0, 0, 0, ticks('BTC-USD', '60000.0'), 1);
    const good = w.take()!;
    const cases: [string, Buffer][] = [
      ['truncated', good.subarray(0, good.length - 3)],
      ['header only', good.subarray(0, 6)],
      ['bad magic', Buffer.from(good).fill(0x00, 0, 1)],
      ['bad version', Buffer.from(good).fill(9, 2, 3)],
      ['unknown type', Buffer.from(good).fill(0x30, 8, 9)],
      ['wrong length', (() => { const b = Buffer.from(good); b.writeUInt16LE(4, 10); return b; })()],
      ['count too high', (() => { const b = Buffer.from(good); b.writeUInt16LE(3, 4); return b; })()],
      ['count too low', (() => { const b = Buffer.from(good); b.writeUInt16LE(1, 4); return b; })()],
      ['bad side', (() => { const b = Buffer.from(good); b[24 + 12] = 5; return b; })()],
      ['reserved byte', (() => { const b = Buffer.from(good); b[24 + 30] = 1; return b; })()],
    ];
    for (const [what, bytes] of cases) {
      c.raw(bytes);
      const e = await c.next((m) => m.kind === 'error');
      expect(e, what).toMatchObject({ kind: 'error', code: 'bad_frame' });
      await c.usable();
    }
    // the decoder names the offending message: reqId and type of the bad order
    c.raw(cases[8]![1]);
    expect(await c.next((m) => m.kind === 'error')).toEqual({ kind: 'error', reqId: 77, code: 'bad_frame', msgType: 0x04 });
    // all-or-nothing: the valid ping in the bad frames was never answered, no order was placed
    expect(c.msgs.filter((m) => m.kind === 'pong' || m.kind === 'ack')).toEqual([]);
    c.close();
  });

  it('closes the connection (1009) on a frame over the 4 KiB limit, like JSON', async () => {
    const c = await BinClient.open(binUrl());
    const w = new BinaryWriter();
    for (let i = 0; i < 200; i++) w.ping(i); // 8 + 200 × 8 = 1,608 B: accepted
    c.raw(w.take()!);
    await c.next((m) => m.kind === 'pong' && m.reqId === 199);
    for (let i = 0; i < 600; i++) w.ping(i); // 4,808 B
    const closed = new Promise<number>((res) => c.ws.once('close', (code) => res(code)));
    c.raw(w.take()!);
    expect(await closed).toBe(1009);
  });

  it('trades between accounts: reqId echo, several messages per frame, owners-only reports, JSON-compatible clientOrderId', async () => {
    const a = await BinClient.open(binUrl());
    const b = await BinClient.open(binUrl());
    await a.auth(keyA);
    await b.auth(keyB);
    const eth = sym('ETH-USD');
    a.send((w) => w.order(11, '101', eth, 1, 0, 0, ticks('ETH-USD', '3000.05'), lots('ETH-USD', '1.5')));
    const ack = await a.next((m) => m.kind === 'ack' && m.clientOrderId === '101');
    expect(ack).toMatchObject({ kind: 'ack', reqId: 11, duplicate: false });
    expect((ack as { seq: number }).seq).toBeGreaterThan(0);
    const orderId = (ack as { orderId: number }).orderId;
    // resend of a live clientOrderId: the existing order, not a second one
    a.send((w) => w.order(12, '101', eth, 1, 0, 0, ticks('ETH-USD', '3000.05'), lots('ETH-USD', '1.5')));
    expect(await a.next((m) => m.kind === 'ack' && m.reqId === 12)).toEqual({ kind: 'ack', reqId: 12, clientOrderId: '101', orderId, seq: null, duplicate: true });
    // the same account over JSON: "101" is the same clientOrderId
    const j = new WebSocket(base.replace('http', 'ws') + '/ws');
    await new Promise((r) => j.once('open', r));
    const jm: Record<string, unknown>[] = [];
    j.on('message', (d) => jm.push(JSON.parse(d.toString()) as Record<string, unknown>));
    const ts = Date.now() + 1;
    j.send(JSON.stringify({ op: 'auth', key: keyA.key, ts, sig: sign(keyA.secret, keyA.key, ts) }));
    j.send(JSON.stringify({ op: 'order', clientOrderId: '101', symbol: 'ETH-USD', side: 'sell', type: 'limit', tif: 'gtc', price: '3000.05', qty: '1.5' }));
    for (let i = 0; i < 100 && !jm.some((m) => m.type === 'ack'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(jm.find((m) => m.type === 'ack')).toMatchObject({ orderId: String(orderId), duplicate: true });
    j.close();

    b.send((w) => w.subscribe(13, eth, Channel.TRADES));
    expect(await b.next((m) => m.kind === 'subscribed')).toEqual({ kind: 'subscribed', reqId: 13, instrument: eth, channels: Channel.TRADES, ok: true });
    b.send((w) => w.order(14, '7', eth, 0, 0, 1, ticks('ETH-USD', '3001'), lots('ETH-USD', '1')));
    expect(await b.next((m) => m.kind === 'fill')).toMatchObject({ reqId: 14, clientOrderId: '7', price: ticks('ETH-USD', '3000.05'), qty: lots('ETH-USD', '1'), leaves: 0, liquidity: 'taker', instrument: eth });
    expect(await a.next((m) => m.kind === 'fill')).toMatchObject({ reqId: 0, clientOrderId: '101', orderId, price: ticks('ETH-USD', '3000.05'), qty: 1000, leaves: 500, liquidity: 'maker' });
    expect(await b.next((m) => m.kind === 'trade')).toMatchObject({ instrument: eth, price: ticks('ETH-USD', '3000.05'), qty: 1000, takerSide: 'buy' });
    // b cannot touch a's order: the answer equals the one for an id that does not exist
    b.send((w) => w.cancel(15, '', orderId));
    const other = await b.next((m) => m.kind === 'reject');
    b.send((w) => w.cancel(15, '', 999_999));
    const none = await b.next((m) => m.kind === 'reject');
    expect({ ...other, orderId: 0 }).toEqual({ ...none, orderId: 0 });
    expect(other).toMatchObject({ reason: 'unknown_order', reqId: 15 });
    // modify + cancel by clientOrderId, and a rejected order, all in one frame
    a.send((w) => {
      w.modify(16, '101', 0, ticks('ETH-USD', '3000.05'), lots('ETH-USD', '0.2'));
      w.cancel(17, '101', 0);
      w.order(18, '102', 999, 0, 0, 0, 1, 1);
      w.order(19, '103', eth, 0, 0, 0, ticks('ETH-USD', '1'), 0);
    });
    expect(await a.next((m) => m.kind === 'modified')).toMatchObject({ reqId: 16, clientOrderId: '101', price: ticks('ETH-USD', '3000.05'), qty: 200 });
    expect(await a.next((m) => m.kind === 'cancelled')).toMatchObject({ reqId: 17, clientOrderId: '101', qty: 200 });
    expect(await a.next((m) => m.kind === 'reject' && m.reqId === 18)).toMatchObject({ reason: 'unknown_symbol', clientOrderId: '102' });
    expect(await a.next((m) => m.kind === 'reject' && m.reqId === 19)).toMatchObject({ reason: 'bad_qty', clientOrderId: '103' });
    // engine rejects carry the engine's reason code (post-only that would cross)
    a.send((w) => w.order(20, '104', eth, 0, 0, 0, ticks('ETH-USD', '2900'), 1000)); // inside ETH-USD's 10 % collar around 3000.05
    await a.next((m) => m.kind === 'ack' && m.reqId === 20);
    a.send((w) => w.order(21, '105', eth, 1, 0, 3, ticks('ETH-USD', '2899.95'), 1000));
    expect(await a.next((m) => m.reqId === 21 && (m.kind === 'reject' || m.kind === 'ack'))).toMatchObject({ kind: 'reject', reason: 'would_cross', clientOrderId: '105' });
    a.send((w) => w.cancel(22, '104', 0));
    await a.next((m) => m.kind === 'cancelled' && m.reqId === 22);
    await new Promise((r) => setTimeout(r, 50));
    expect(b.msgs.filter((m) => 'clientOrderId' in m && m.clientOrderId.startsWith('10'))).toEqual([]);
    a.close(); b.close();
  });

  it('batches many replies into few frames', async () => {
    const a = await BinClient.open(binUrl());
    await a.auth(keyA);
    const framesBefore = a.frames;
    const n = 100;
    a.send((w) => { for (let i = 0; i < n; i++) w.order(1000 + i, String(5000 + i), sym('AAPL'), 0, 0, 0, ticks('AAPL', '180.00') + i, 1); });
    const acks = new Set<number>();
    for (let i = 0; i < n; i++) acks.add((await a.next((m) => m.kind === 'ack')).reqId);
    expect(acks.size).toBe(n);
    expect(a.frames - framesBefore).toBeLessThan(n / 2);
    a.send((w) => { for (let i = 0; i < n; i++) w.cancel(0, String(5000 + i), 0); });
    for (let i = 0; i < n; i++) await a.next((m) => m.kind === 'cancelled');
    a.close();
  });

  it('streams binary book snapshot + deltas that rebuild the book exactly, with the JSON checksum', async () => {
    const a = await BinClient.open(binUrl());
    const m = await BinClient.open(binUrl());
    await a.auth(keyA);
    const ins = gw.bySymbol.get('SOL-USD')!;
    m.send((w) => w.subscribe(1, ins.id, Channel.BOOK | Channel.TICKER));
    const snap = await m.next((x) => x.kind === 'book');
    expect(await m.next((x) => x.kind === 'ticker')).toMatchObject({ instrument: ins.id });
    if (snap.kind !== 'book') throw new Error('not a snapshot');
    const book = { bids: new Map<number, number>(snap.bids), asks: new Map<number, number>(snap.asks) };
    let seq = snap.seq;
    let checked = 0;
    const text = (mp: Map<number, number>, desc: boolean, n: number): [string, string][] =>
      [...mp.entries()].sort((x, y) => (desc ? y[0] - x[0] : x[0] - y[0])).slice(0, n).map(([p, q]) => [ins.toPrice(BigInt(p)), ins.toQty(q)]);
    a.send((w) => {
      for (let i = 0; i < 40; i++) {
        const buy = i % 2 === 0;
        const px = buy ? (150 - (i % 7) * 0.01).toFixed(3) : (150.1 + (i % 5) * 0.01).toFixed(3); // inside SOL-USD's collar around 150.000
        w.order(0, String(200 + i), ins.id, buy ? 0 : 1, 0, 0, ticks('SOL-USD', px), lots('SOL-USD', '1.25'));
      }
      w.order(0, '300', ins.id, 0, 1, 1, 0, lots('SOL-USD', '10'));
    });
    await a.next((x) => (x.kind === 'fill' && x.clientOrderId === '300' && x.leaves === 0) || (x.kind === 'cancelled' && x.clientOrderId === '300'));
    const deadline = Date.now() + 3000;
    for (;;) {
      const http = await (await fetch(`${base}/api/v1/book/SOL-USD?depth=1000`)).json() as { seq: number; bids: string[][]; asks: string[][] };
      while (m.msgs.some((x) => x.kind === 'bookDelta')) {
        const d = await m.next((x) => x.kind === 'bookDelta');
        if (d.kind !== 'bookDelta') continue;
        expect(d.first).toBe(seq + 1);
        seq = d.last;
        for (const [s, levels] of [['bids', d.bids], ['asks', d.asks]] as const) {
          for (const [p, q] of levels) { if (q === 0) book[s].delete(p); else book[s].set(p, q); }
        }
        const t = (side: [string, string][]): string => side.map(([p, q]) => `${p}:${q}`).join(',');
        expect(crc32(Buffer.from(`${t(text(book.bids, true, 10))}|${t(text(book.asks, false, 10))}`, 'ascii'))).toBe(d.checksum);
        checked++;
      }
      if (seq === http.seq || Date.now() > deadline) {
        expect(seq).toBe(http.seq);
        expect(text(book.bids, true, 1000)).toEqual(http.bids);
        expect(text(book.asks, false, 1000)).toEqual(http.asks);
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(checked).toBeGreaterThan(0);
    expect(m.msgs.some((x) => x.kind === 'ticker')).toBe(true);
    m.send((w) => w.subscribe(2, 4242, Channel.BOOK));
    expect(await m.next((x) => x.kind === 'error')).toEqual({ kind: 'error', reqId: 2, code: 'unknown_symbol', msgType: 0x02 });
    a.close(); m.close();
  });
});

describe('binary protocol rate limit', () => {
  let g2: Gateway;
  let url2: string;
  useGateway({ tmpPrefix: 'gwb2-', capacity: 10_000, rateLimit: { perSecond: 50, burst: 20 } }, (f) => {
    g2 = f.gw;
    url2 = f.wsUrl + '?protocol=binary';
  }, 60_000);

  it('rate-limits per message inside a frame and keeps the connection', async () => {
    const c = await BinClient.open(url2);
    c.send((w) => { for (let i = 0; i < 100; i++) w.ping(i + 1); });
    expect(await c.next((m) => m.kind === 'error')).toMatchObject({ code: 'rate_limited' });
    await new Promise((r) => setTimeout(r, 100));
    const pongs = c.msgs.filter((m) => m.kind === 'pong').length;
    expect(pongs).toBeGreaterThanOrEqual(20);
    expect(pongs).toBeLessThan(100);
    await new Promise((r) => setTimeout(r, 300));
    await c.usable();
    c.close();
  });
});

describe('binary protocol slow consumers', () => {
  const open = async (hard: number): Promise<{ g: Gateway; url: string; k: ApiKey }> => {
    const g = await Gateway.build({ dataDir: mkdtempSync(join(tmpdir(), 'gwb3-')), capacity: 10_000, rateLimit: { perSecond: 1e6, burst: 1e6 }, buffer: { soft: 16 * 1024, hard } });
    return { g, url: (await g.listen(0)).replace('http', 'ws') + '/ws?protocol=binary', k: g.keys.create(20) };
  };
  /** A trader that builds a 1,000-level MSFT book (snapshots of ~16 KB) and a paused subscriber that keeps asking for snapshots. */
  const setup = async (g: Gateway, url: string, k: ApiKey): Promise<{ trader: BinClient; slow: WebSocket; got: M[]; msft: number }> => {
    const msft = g.bySymbol.get('MSFT')!;
    const trader = await BinClient.open(url);
    await trader.auth(k);
    for (let i = 0; i < 1000; i += 50) trader.send((w) => { for (let j = i; j < i + 50; j++) w.order(j + 1, String(j + 1), msft.id, 0, 0, 0, 38_000 + j, 1); });
    for (let i = 0; i < 1000; i++) await trader.next((m) => m.kind === 'ack');
    const slow = new WebSocket(url);
    await new Promise((r) => slow.once('open', r));
    const got: M[] = [];
    slow.on('message', (d: Buffer) => got.push(...decodeFrame(d, 'server')));
    const w = new BinaryWriter();
    w.subscribe(0, msft.id, Channel.BOOK);
    slow.send(w.take()!);
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got[0]).toMatchObject({ kind: 'book' });
    (slow as unknown as { _socket: { pause(): void } })._socket.pause();
    for (let f = 0; f < 20; f++) { // 800 snapshots × ~16 KB ≈ 13 MB the subscriber does not read
      for (let i = 0; i < 40; i++) { w.subscribe(0, msft.id, Channel.BOOK, true); w.subscribe(0, msft.id, Channel.BOOK); }
      slow.send(w.take()!);
    }
    await new Promise((r) => setTimeout(r, 300));
    return { trader, slow, got, msft: msft.id };
  };

  it('skips deltas past the soft limit and sends a fresh snapshot once drained', async () => {
    const { g, url, k } = await open(64 << 20);
    try {
      const { trader, slow, got, msft } = await setup(g, url, k);
      const before = g.counters.slowConsumerClosed;
      trader.send((w) => w.order(5000, '5000', msft, 0, 0, 0, 40_000, 1)); // a delta the subscriber cannot take now
      await trader.next((m) => m.kind === 'ack' && m.reqId === 5000);
      await new Promise((r) => setTimeout(r, 50));
      (slow as unknown as { _socket: { resume(): void } })._socket.resume();
      const deadline = Date.now() + 20_000;
      while (got.filter((m) => m.kind === 'book').length < 801 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 100));
      const n = got.length;
      trader.send((w) => w.order(5001, '5001', msft, 0, 0, 0, 40_001, 1));
      await trader.next((m) => m.kind === 'ack' && m.reqId === 5001);
      while (got.length === n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(got.filter((m) => m.kind === 'bookDelta')).toEqual([]); // skipped, then replaced
      const last = got[got.length - 1]!;
      expect(last).toMatchObject({ kind: 'book' });
      if (last.kind === 'book') expect(last.bids.some(([p]) => p === 40_001) && last.bids.some(([p]) => p === 40_000)).toBe(true);
      expect(g.counters.slowConsumerClosed).toBe(before);
      slow.close(); trader.close();
    } finally { await g.close(); }
  }, 60_000);

  it('closes a binary subscriber past the hard limit (1008)', async () => {
    const { g, url, k } = await open(1 << 20);
    try {
      const { trader, slow, msft } = await setup(g, url, k);
      const closed = new Promise<number>((res) => slow.once('close', (c) => res(c)));
      trader.send((w) => w.order(5000, '5000', msft, 0, 0, 0, 40_000, 1));
      (slow as unknown as { _socket: { resume(): void } })._socket.resume();
      const code = await Promise.race([closed, new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
      expect([1006, 1008]).toContain(code);
      expect(g.counters.slowConsumerClosed).toBeGreaterThan(0);
      trader.close();
    } finally { await g.close(); }
  }, 60_000);
});

describe('binary frame budget (GatewayConfig.binaryFrameBytes, serve --binary-frame-bytes)', () => {
  it('with a 1-byte budget sends every message in its own frame (no batching)', async () => {
    const g = await Gateway.build({ dataDir: mkdtempSync(join(tmpdir(), 'gwf-')), capacity: 10_000, binaryFrameBytes: 1 });
    try {
      const url = (await g.listen(0)).replace('http', 'ws') + '/ws?protocol=binary';
      const k = g.keys.create(1);
      const a = await BinClient.open(url);
      const sizes: number[] = [];
      a.ws.on('message', (d: Buffer) => sizes.push(decodeFrame(d, 'server').length));
      await a.auth(k);
      const aapl = g.bySymbol.get('AAPL')!.id;
      a.send((w) => w.subscribe(1, aapl, Channel.BOOK | Channel.TRADES | Channel.TICKER));
      await a.next((m) => m.kind === 'subscribed');
      const n = 20;
      a.send((w) => { for (let i = 0; i < n; i++) w.order(100 + i, String(100 + i), aapl, i % 2, 0, 0, 19_000, 1); });
      for (let i = 0; i < n; i++) await a.next((m) => m.kind === 'ack');
      await new Promise((r) => setTimeout(r, 100));
      // the same messages with the default budget would share a few frames (test above)
      expect(a.msgs.some((m) => m.kind === 'trade')).toBe(true);
      expect(sizes.length).toBeGreaterThan(2 * n);
      expect(sizes.every((s) => s === 1)).toBe(true);
      a.close();
    } finally { await g.close(); }
  }, 60_000);
});
