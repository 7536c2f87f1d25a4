/**
 * `TradsysClient` for Node: client/core's session over a `ws` WebSocket, HMAC signing with
 * node:crypto, and the messages as EventEmitter events (docs/protocol.md). JSON or binary
 * (`protocol` option) behind one API: promises for the first answer, execution-report events,
 * local books kept from snapshot + deltas with gap and checksum detection and resynchronisation.
 *
 * Layout: with `protocol: 'binary'` the client first reads the instruments (GET /api/v1/symbols on
 * the same host), then speaks the binary protocol through client/core's BinaryCodec; every server
 * message becomes the JSON protocol's shape, so events and promises are identical for both.
 * Invariants: each server message is emitted under its `type` (an `error` only when someone
 * listens for 'error', since EventEmitter throws an unlistened one) and then as 'message'.
 * Complexity / Allocation: per message (client side).
 * Known limitations: over binary, clientOrderIds must be decimal integers 1..2^64-1 without
 * leading zeros, and `modify` needs an order this client placed; both throw otherwise.
 */
import WebSocket from 'ws';
import { EventEmitter } from 'node:events';
import { createHmac } from 'node:crypto';
import { BinaryCodec, loadInstruments } from '../core/binary-codec.js';
import { JsonCodec } from '../core/json-codec.js';
import type { LocalBook } from '../core/local-book.js';
import { AuthenticationError, ClientSession } from '../core/session.js';
import type { Signer } from '../core/sign.js';
import type { ClientCodec, ClientOptions, Msg, OrderRequest } from '../core/types.js';

/** hex(HMAC-SHA256(secret, message)) with node:crypto (synchronous). */
export const nodeSigner: Signer = (secret, message) => createHmac('sha256', secret).update(message).digest('hex');

export class TradsysClient extends EventEmitter {
  private readonly session: ClientSession;
  account: number | null = null;

  private constructor(private readonly ws: WebSocket, timeoutMs: number, codec: ClientCodec) {
    super();
    this.session = new ClientSession(codec, (m) => this.deliver(m), timeoutMs);
    if (codec.protocol === 'binary') ws.on('message', (d: Buffer) => this.session.onData(d));
    else ws.on('message', (d) => this.session.onData(d.toString()));
    ws.on('close', () => this.emit('close'));
  }

  /** Which protocol this connection speaks. */
  get protocol(): 'json' | 'binary' { return this.session.protocol; }

  /** Connects and authenticates; rejects if authentication fails. `url` is the ws://host:port/ws address. */
  static async connect(url: string, opts: ClientOptions): Promise<TradsysClient> {
    const u = new URL(url);
    const instruments = opts.protocol === 'binary' ? await loadInstruments(u) : null;
    if (instruments) u.searchParams.set('protocol', 'binary');
    const ws = new WebSocket(u);
    await new Promise<void>((res, rej) => { ws.once('open', () => res()); ws.once('error', rej); });
    const codec: ClientCodec = instruments
      ? new BinaryCodec((f) => { if (ws.readyState === WebSocket.OPEN) ws.send(f); }, instruments)
      : new JsonCodec((t) => ws.send(t));
    const c = new TradsysClient(ws, opts.timeoutMs ?? 5000, codec);
    try {
      c.account = await c.session.authenticate(opts, nodeSigner);
    } catch (e) {
      if (e instanceof AuthenticationError) ws.close();
      throw e;
    }
    return c;
  }

  private deliver(m: Msg): void {
    // a server `error` message is emitted as 'error' only to listeners: EventEmitter throws an
    // unlistened 'error', which would break the socket's message handling ('message' gets it anyway)
    if (m.type !== 'error' || this.listenerCount('error') > 0) this.emit(m.type, m);
    this.emit('message', m);
  }

  /** Sends an order; resolves with its ack or reject. */
  order(o: OrderRequest): Promise<Msg> { return this.session.order(o); }

  /** Cancels by clientOrderId; resolves with `cancelled` or `reject`. */
  cancel(clientOrderId: string): Promise<Msg> { return this.session.cancel(clientOrderId); }

  /** Modifies by clientOrderId; resolves with `modified` or `reject`. */
  modify(clientOrderId: string, price: string, qty: string): Promise<Msg> { return this.session.modify(clientOrderId, price, qty); }

  /** A local book for `symbol`, kept from snapshot + deltas; resynchronises on gaps or bad checksums. */
  book(symbol: string): LocalBook { return this.session.book(symbol); }

  /** Subscribes; resolves with `subscribed`, or with the `error` (`unknown_symbol`, `too_many_channels`) that refused the whole message. */
  subscribe(channels: string[]): Promise<Msg> { return this.session.subscribe(channels); }

  close(): void { this.session.flush(); this.ws.close(); }
}
