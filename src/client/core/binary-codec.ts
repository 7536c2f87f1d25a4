/**
 * The binary protocol for a client (src/codec/binary-protocol.ts), behind the JSON protocol's
 * message shapes: JSON-shaped client messages are encoded into frames, server frames are decoded
 * into JSON-shaped messages (decimal strings), so a client behaves the same over either protocol.
 * Browser-safe (no Node API): frames go out through an injected `sendFrame`.
 *
 * Layout: the instrument table (GET /api/v1/symbols on the gateway's host: `loadInstruments`)
 * maps symbols to instrument ids and decimals to ticks and lots; messages sent in one tick are
 * coalesced into one frame (≤ 3.5 KB, under the server's 4 KiB frame limit).
 * Invariants: a clientOrderId must have a binary form (decimal 1..2^64-1, no leading zeros) and a
 * price an exact tick multiple, else `send` throws and nothing is queued for that message.
 * Complexity: O(message). Allocation: one frame per flush; one object per decoded message.
 * Known limitations: `modify` needs an order this client placed (its symbol gives the tick size).
 */
import { Instrument } from '../../domain/instruments.js';
import { BinaryWriter, Channel, decodeFrame, isBinaryClientOrderId, type ServerBinMessage } from '../../codec/binary-protocol.js';
import type { ClientCodec, Msg } from './types.js';

const CHANNEL_BITS: Record<string, number> = { book: Channel.BOOK, trades: Channel.TRADES, ticker: Channel.TICKER };
const BINARY_FLUSH_BYTES = 3584;

/** The gateway's instruments by id, read from GET /api/v1/symbols on the host of `wsUrl` (fetch). */
export async function loadInstruments(wsUrl: URL): Promise<Instrument[]> {
  const http = new URL('/api/v1/symbols', wsUrl);
  http.protocol = wsUrl.protocol === 'wss:' ? 'https:' : 'http:';
  const list = await (await fetch(http)).json() as { id: number; symbol: string; tickSize: string; lotSize: string }[];
  const instruments: Instrument[] = [];
  for (const s of list) instruments[s.id] = new Instrument(s.id, { symbol: s.symbol, tickSize: s.tickSize, lotSize: s.lotSize });
  return instruments;
}

/** Binary ↔ JSON-shaped messages for one connection: instrument table and the frame being built. */
export class BinaryCodec implements ClientCodec {
  readonly protocol = 'binary';
  private readonly w = new BinaryWriter(4096);
  private scheduled = false;
  /** Symbol of each clientOrderId this client placed (modify converts its price with it). */
  private readonly symbolOf = new Map<string, Instrument>();

  /**
   * `sendFrame` hands one frame to the transport (which drops it when the socket is not open);
   * `byId` holds the instruments by id (as `loadInstruments` returns them).
   */
  constructor(private readonly sendFrame: (frame: Uint8Array) => void, private readonly byId: Instrument[],
    private readonly bySymbol = new Map(byId.filter(Boolean).map((i) => [i.symbol, i]))) {}

  private ins(symbol: string): Instrument {
    const i = this.bySymbol.get(symbol);
    if (!i) throw new Error(`unknown symbol ${symbol}`);
    return i;
  }
  private cid(c: unknown): string {
    if (typeof c !== 'string' || !isBinaryClientOrderId(c)) throw new Error(`clientOrderId ${JSON.stringify(c)}: the binary protocol needs a decimal integer 1..2^64-1 without leading zeros`);
    return c;
  }

  /** Encodes one JSON-protocol client message; the frame goes out at the end of the tick. */
  send(m: Record<string, unknown>): void {
    const w = this.w;
    switch (m.op) {
      case 'auth': w.auth(0, m.key as string, m.ts as number, m.sig as string, m.cancelOnDisconnect === true); break;
      case 'subscribe':
      case 'unsubscribe': {
        const masks = new Map<Instrument, number>();
        for (const ch of m.channels as string[]) {
          const dot = ch.indexOf('.');
          const bit = CHANNEL_BITS[ch.slice(0, dot)];
          if (bit === undefined) throw new Error(`unknown channel ${ch}`);
          const i = this.ins(ch.slice(dot + 1));
          masks.set(i, (masks.get(i) ?? 0) | bit);
        }
        for (const [i, mask] of masks) w.subscribe(0, i.id, mask, m.op === 'unsubscribe');
        break;
      }
      case 'order': {
        const i = this.ins(m.symbol as string);
        const cid = this.cid(m.clientOrderId);
        const price = m.type === 'limit' ? Number(i.toTicks(m.price as string)) : 0;
        w.order(0, cid, i.id, m.side === 'buy' ? 0 : 1, m.type === 'limit' ? 0 : 1, { gtc: 0, ioc: 1, fok: 2, post_only: 3 }[m.tif as string] ?? 0, price, i.toLots(m.qty as string));
        this.symbolOf.set(cid, i);
        break;
      }
      case 'cancel': w.cancel(0, m.clientOrderId === undefined ? '' : this.cid(m.clientOrderId), m.orderId === undefined ? 0 : Number(m.orderId)); break;
      case 'modify': {
        const cid = this.cid(m.clientOrderId);
        const i = this.symbolOf.get(cid);
        if (!i) throw new Error(`modify ${cid}: not an order of this client (its symbol is unknown)`);
        w.modify(0, cid, 0, Number(i.toTicks(m.price as string)), i.toLots(m.qty as string));
        break;
      }
      case 'ping': w.ping(0); break;
      default: throw new Error(`unknown op ${String(m.op)}`);
    }
    if (w.size >= BINARY_FLUSH_BYTES) { this.flush(); return; }
    if (!this.scheduled) { this.scheduled = true; queueMicrotask(() => this.flush()); }
  }

  flush(): void {
    this.scheduled = false;
    const f = this.w.takeBytes();
    if (f) this.sendFrame(f);
  }

  /** One server frame → JSON-protocol messages. */
  decode(data: string | Uint8Array): Msg[] {
    if (typeof data === 'string') throw new Error('the binary protocol got a text message');
    return decodeFrame(data, 'server').map((m) => this.toJson(m));
  }

  private toJson(m: ServerBinMessage): Msg {
    const ins = (id: number): Instrument => {
      const i = this.byId[id];
      if (!i) throw new Error(`server sent unknown instrument ${id}`);
      return i;
    };
    const lv = (i: Instrument, xs: [number, number][]): string[][] => xs.map(([p, q]) => [i.toPrice(BigInt(p)), i.toQty(q)]);
    switch (m.kind) {
      case 'auth': return m.ok ? { type: 'auth', ok: true, account: m.account } : { type: 'auth', ok: false, reason: m.reason };
      case 'subscribed': return { type: 'subscribed', channels: Object.entries(CHANNEL_BITS).filter(([, b]) => (m.channels & b) !== 0).map(([n]) => `${n}.${ins(m.instrument).symbol}`), ok: m.ok };
      case 'ack': return m.duplicate ? { type: 'ack', clientOrderId: m.clientOrderId, orderId: String(m.orderId), seq: null, duplicate: true } : { type: 'ack', clientOrderId: m.clientOrderId, orderId: String(m.orderId), seq: m.seq };
      case 'reject':
        // the JSON shapes: an engine reject names both ids; a gateway reject the one the command named
        if (m.seq !== null) return { type: 'reject', clientOrderId: m.clientOrderId, orderId: String(m.orderId), reason: m.reason, seq: m.seq };
        return m.clientOrderId !== '' ? { type: 'reject', clientOrderId: m.clientOrderId, reason: m.reason } : { type: 'reject', orderId: String(m.orderId), reason: m.reason };
      case 'fill': {
        const i = ins(m.instrument);
        return { type: 'fill', orderId: String(m.orderId), clientOrderId: m.clientOrderId, tradeId: m.tradeId, price: i.toPrice(BigInt(m.price)), qty: i.toQty(m.qty), leaves: i.toQty(m.leaves), liquidity: m.liquidity, seq: m.seq };
      }
      case 'cancelled': return { type: 'cancelled', orderId: String(m.orderId), clientOrderId: m.clientOrderId, qty: ins(m.instrument).toQty(m.qty), seq: m.seq };
      case 'modified': {
        const i = ins(m.instrument);
        return { type: 'modified', orderId: String(m.orderId), clientOrderId: m.clientOrderId, price: i.toPrice(BigInt(m.price)), qty: i.toQty(m.qty), seq: m.seq };
      }
      case 'book': { const i = ins(m.instrument); return { type: 'book', symbol: i.symbol, seq: m.seq, bids: lv(i, m.bids), asks: lv(i, m.asks) }; }
      case 'bookDelta': { const i = ins(m.instrument); return { type: 'bookDelta', symbol: i.symbol, first: m.first, last: m.last, bids: lv(i, m.bids), asks: lv(i, m.asks), checksum: m.checksum }; }
      case 'trade': { const i = ins(m.instrument); return { type: 'trade', symbol: i.symbol, tradeId: m.tradeId, price: i.toPrice(BigInt(m.price)), qty: i.toQty(m.qty), takerSide: m.takerSide, ts: m.ts }; }
      case 'ticker': {
        const i = ins(m.instrument);
        const px = (x: number | null): string | null => (x === null ? null : i.toPrice(BigInt(x)));
        const q = (x: number | null): string | null => (x === null ? null : i.toQty(x));
        return { type: 'ticker', symbol: i.symbol, bid: px(m.bid), bidQty: q(m.bidQty), ask: px(m.ask), askQty: q(m.askQty), last: px(m.last), lastQty: q(m.lastQty), ts: m.ts };
      }
      case 'pong': return { type: 'pong' };
      case 'error': return { type: 'error', code: m.code, message: `${m.code}${m.msgType ? ` (message type 0x${m.msgType.toString(16)})` : ''}` };
    }
  }
}
