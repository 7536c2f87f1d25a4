/**
 * Binary market data encoded once per pump cycle (src/gateway/md-fanout.ts), over loopback with
 * real sockets: subscribers with the same channels get the same messages in the same frames;
 * each gets only its own channels; a trader who is also a subscriber gets its reports and the
 * public messages in event order (its fill before the trade it is part of, deltas with continuous
 * sequence numbers after both), as when every connection's frame was built on its own; a cycle
 * touching more channel × instrument pairs than one mask holds (12 instruments) still gives every
 * subscriber exactly its channels (fails if that cycle were sent as masked shared frames).
 */
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Gateway } from '../../src/gateway/gateway.js';
import { sign, type ApiKey } from '../../src/gateway/auth.js';
import { BinaryWriter, Channel, decodeFrame, type ServerBinMessage } from '../../src/codec/binary-protocol.js';
import { MessageQueue } from '../support/gateway-client.js';
import { useGateway } from '../support/gateway-fixture.js';

type M = ServerBinMessage;

class BinClient extends MessageQueue<M> {
  /** Every frame's messages, in arrival order. */
  readonly frames: M[][] = [];
  private readonly w = new BinaryWriter(256);
  private constructor(readonly ws: WebSocket) {
    super();
    ws.on('message', (d: Buffer) => { const ms = decodeFrame(d, 'server'); this.frames.push(ms); for (const m of ms) this.push(m); });
  }
  static open(url: string): Promise<BinClient> {
    return new Promise((res, rej) => { const ws = new WebSocket(url); ws.once('open', () => res(new BinClient(ws))); ws.once('error', rej); });
  }
  send(build: (w: BinaryWriter) => void): void { build(this.w); this.ws.send(this.w.take()!); }
  async auth(k: ApiKey): Promise<void> {
    const ts = Date.now();
    this.send((w) => w.auth(1, k.key, ts, sign(k.secret, k.key, ts)));
    await this.next((m) => m.kind === 'auth');
  }
  async subscribe(instrument: number, channels: number): Promise<void> {
    this.send((w) => w.subscribe(2, instrument, channels));
    await this.next((m) => m.kind === 'subscribed');
  }
  close(): void { this.ws.close(); }
}

let gw: Gateway;
let base: string;
let keyA: ApiKey;
let keyB: ApiKey;
const binUrl = (): string => base.replace('http', 'ws') + '/ws?protocol=binary';

useGateway({ tmpPrefix: 'gwmd-', capacity: 10_000 }, (f) => {
  ({ gw, base } = f);
  keyA = f.key(1);
  keyB = f.key(2);
}, 60_000);

/** The market-data messages of a client from `from` on (snapshot, subscribed and reports left out). */
const md = (c: BinClient, from: number): M[] => c.frames.slice(from).flat().filter((m) => m.kind === 'bookDelta' || m.kind === 'trade' || m.kind === 'ticker');
/** Waits until `c` has received a trade with tradeId ≥ `id` (bounded). */
async function until(c: BinClient, pred: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !pred(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(pred()).toBe(true);
}

describe('binary market data encoded once, sent to each subscriber', () => {
  it('same channels: same messages in the same frames; other channels: only their own; a trader gets its fill before the trade', async () => {
    const ins = gw.bySymbol.get('SOL-USD')!;
    const eth = gw.bySymbol.get('ETH-USD')!;
    const t = (px: string): number => Number(ins.toTicks(px));
    const all = Channel.BOOK | Channel.TRADES | Channel.TICKER;
    const s1 = await BinClient.open(binUrl());
    const s2 = await BinClient.open(binUrl());
    const tr = await BinClient.open(binUrl()); // trades only
    const other = await BinClient.open(binUrl()); // another instrument only
    const a = await BinClient.open(binUrl());
    const b = await BinClient.open(binUrl());
    await a.auth(keyA);
    await b.auth(keyB);
    for (const c of [s1, s2, a, b]) await c.subscribe(ins.id, all);
    await tr.subscribe(ins.id, Channel.TRADES);
    await other.subscribe(eth.id, all);
    const f0 = [s1, s2, tr, other, a, b].map((c) => c.frames.length);
    // a rests 5 sell orders; b lifts them with one IOC (5 trades in one command), then both cancel/modify more
    a.send((w) => { for (let i = 0; i < 5; i++) w.order(10 + i, String(900 + i), ins.id, 1, 0, 0, t((150.1 + i * 0.01).toFixed(3)), Number(ins.toLots('1'))); });
    for (let i = 0; i < 5; i++) await a.next((m) => m.kind === 'ack');
    b.send((w) => w.order(20, '950', ins.id, 0, 0, 1, t('150.2'), Number(ins.toLots('5'))));
    await until(b, () => md(b, f0[5]!).filter((m) => m.kind === 'trade').length === 5);
    for (const c of [s1, s2, tr, a]) await until(c, () => md(c, f0[[s1, s2, tr, other, a, b].indexOf(c)]!).filter((m) => m.kind === 'trade').length === 5);
    await new Promise((r) => setTimeout(r, 50));

    const m1 = md(s1, f0[0]!);
    // the same channels: the same market data, frame by frame
    expect(s2.frames.slice(f0[1]!)).toEqual(s1.frames.slice(f0[0]!));
    expect(m1.filter((m) => m.kind === 'trade')).toHaveLength(5);
    expect(m1.some((m) => m.kind === 'ticker')).toBe(true);
    const deltas = m1.filter((m) => m.kind === 'bookDelta');
    expect(deltas.length).toBeGreaterThan(0);
    for (let i = 1; i < deltas.length; i++) expect(deltas[i]!.first).toBe(deltas[i - 1]!.last + 1);
    // trades only: exactly s1's trades; the other instrument's subscriber: nothing of SOL-USD
    expect(md(tr, f0[2]!)).toEqual(m1.filter((m) => m.kind === 'trade'));
    expect(md(other, f0[3]!).filter((m) => 'instrument' in m && m.instrument === ins.id)).toEqual([]);
    // the traders: the same market data as s1, and each fill before the trade it belongs to
    for (const [c, f] of [[a, f0[4]!], [b, f0[5]!]] as const) {
      expect(md(c, f)).toEqual(m1);
      const seq = c.frames.slice(f).flat().filter((m) => m.kind === 'fill' || m.kind === 'trade');
      for (let k = 0; k < 5; k++) {
        expect(seq[2 * k]).toMatchObject({ kind: 'fill' });
        expect(seq[2 * k + 1]).toMatchObject({ kind: 'trade', tradeId: (seq[2 * k] as { tradeId: number }).tradeId });
      }
    }
    for (const c of [s1, s2, tr, other, a, b]) c.close();
  });
});

describe('binary market data on many instruments in one cycle', () => {
  // 12 instruments × (trades, ticker, book) = 36 channel × instrument pairs: more than one mask
  // word holds (md-fanout.ts MAX_PAIRS), so such a cycle takes the per-connection path
  const specs = Array.from({ length: 12 }, (_, i) => ({ symbol: `T${i}`, tickSize: '0.01', lotSize: '1', maxQty: '100000', referencePrice: '100.00' }));
  let g: Gateway;
  let url: string;
  let kA: ApiKey;
  let kB: ApiKey;
  useGateway({ tmpPrefix: 'gwmd2-', capacity: 10_000, instruments: specs }, (f) => {
    g = f.gw;
    url = f.wsUrl + '?protocol=binary';
    kA = f.key(1);
    kB = f.key(2);
  }, 60_000);

  it('every subscriber gets every instrument\'s trade, ticker and delta, the same for all', async () => {
    const ids = specs.map((s) => g.bySymbol.get(s.symbol)!.id);
    const all = Channel.BOOK | Channel.TRADES | Channel.TICKER;
    const s1 = await BinClient.open(url);
    const s2 = await BinClient.open(url);
    const s3 = await BinClient.open(url); // the last two instruments only
    const a = await BinClient.open(url);
    const b = await BinClient.open(url);
    await a.auth(kA);
    await b.auth(kB);
    for (const c of [s1, s2]) for (const id of ids) await c.subscribe(id, all);
    const few = ids.slice(-2);
    for (const id of few) await s3.subscribe(id, all);
    a.send((w) => { for (const id of ids) w.order(0, String(100 + id), id, 1, 0, 0, 10_000, 5); });
    for (let i = 0; i < ids.length; i++) await a.next((m) => m.kind === 'ack');
    // the resting sells' deltas reach each subscriber in its own time (acks can come first): wait
    // for them, so that what follows counts only the IOC buys' market data
    const rested = (c: BinClient, of: number[]) => () => of.every((id) => md(c, 0).some((m) => m.kind === 'bookDelta' && 'instrument' in m && m.instrument === id));
    await until(s1, rested(s1, ids));
    await until(s2, rested(s2, ids));
    await until(s3, rested(s3, few));
    const f1 = s1.frames.length;
    const f2 = s2.frames.length;
    const f3 = s3.frames.length;
    // one frame of 12 IOC buys: one engine batch, one pump cycle, as far as timing allows
    b.send((w) => { for (const id of ids) w.order(0, String(200 + id), id, 0, 0, 1, 10_000, 2); });
    await until(s1, () => md(s1, f1).filter((m) => m.kind === 'trade').length === ids.length);
    await until(s2, () => md(s2, f2).filter((m) => m.kind === 'trade').length === ids.length);
    await until(s3, () => md(s3, f3).filter((m) => m.kind === 'trade').length === few.length);
    await new Promise((r) => setTimeout(r, 50));
    const m1 = md(s1, f1);
    expect(md(s2, f2)).toEqual(m1);
    expect(md(s3, f3)).toEqual(m1.filter((m) => 'instrument' in m && few.includes(m.instrument)));
    for (const id of ids) {
      const mine = m1.filter((m) => 'instrument' in m && m.instrument === id);
      expect(mine.filter((m) => m.kind === 'trade')).toHaveLength(1);
      expect(mine.some((m) => m.kind === 'ticker')).toBe(true);
      const ds = mine.filter((m) => m.kind === 'bookDelta');
      expect(ds.length).toBeGreaterThan(0);
      for (let i = 1; i < ds.length; i++) expect(ds[i]!.first).toBe(ds[i - 1]!.last + 1);
      expect(ds[ds.length - 1]!.asks).toContainEqual([10_000, 3]);
    }
    for (const c of [s1, s2, s3, a, b]) c.close();
  });
});
