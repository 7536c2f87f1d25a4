/**
 * One client session over any transport (browser-safe): requests waiting for their first answer,
 * the local books fed from the book channel, authentication with an injected signer, and the
 * order-entry calls. client/node's TradsysClient wraps it with a `ws` socket and an EventEmitter;
 * a browser page can wrap it with its own WebSocket.
 *
 * Layout: messages in and out have the JSON protocol's shape (the codec, json-codec.ts or
 * binary-codec.ts, does the wire). `receive(m)` answers the first matching waiting request, then
 * feeds a book message to its LocalBook, then hands `m` to `deliver` (the events of the wrapper).
 * Invariants: each request is answered at most once (by its first match) or rejected after
 * `timeoutMs`; a message that cannot be encoded rejects its request without sending anything.
 * Complexity: `receive` O(waiting requests). Allocation: per request and message.
 * Known limitations: requests are matched by content (clientOrderId, type), not by reqId.
 */
import { LocalBook } from './local-book.js';
import { authPayload, type Signer } from './sign.js';
import type { ClientCodec, Msg, OrderRequest } from './types.js';

/** The gateway refused the credentials (the message carries the reason). */
export class AuthenticationError extends Error {
  constructor(readonly reason: unknown) {
    super(`authentication failed: ${String(reason)}`);
    this.name = 'AuthenticationError';
  }
}

export class ClientSession {
  private readonly books = new Map<string, LocalBook>();
  private readonly pending = new Map<string, { resolve: (m: Msg) => void; timer: ReturnType<typeof setTimeout> }>();
  private readonly matchers = new Map<string, (m: Msg) => boolean>();
  account: number | null = null;

  constructor(private readonly codec: ClientCodec, private readonly deliver: (m: Msg) => void, private readonly timeoutMs = 5000) {}

  get protocol(): 'json' | 'binary' { return this.codec.protocol; }

  /** Decodes one frame from the transport and receives each of its messages. */
  onData(data: string | Uint8Array): void {
    for (const m of this.codec.decode(data)) this.receive(m);
  }

  /** One server message: answers the first matching request, updates a local book, then `deliver`. */
  receive(m: Msg): void {
    for (const [key, match] of this.matchers) {
      if (match(m)) { this.matchers.delete(key); this.pending.get(key)?.resolve(m); this.pending.delete(key); break; }
    }
    if (m.type === 'book') this.books.get(m.symbol as string)?.onSnapshot(m);
    else if (m.type === 'bookDelta') this.books.get(m.symbol as string)?.onDelta(m);
    this.deliver(m);
  }

  /** Sends `m`; resolves with the first message `match` accepts, rejects after the timeout. */
  request(m: Record<string, unknown>, match: (m: Msg) => boolean, key = `req:${Math.random()}`): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { this.pending.delete(key); reject(new Error(`no answer to ${String(m.op)} within ${this.timeoutMs} ms`)); }, this.timeoutMs);
      this.pending.set(key, { resolve: (x) => { clearTimeout(timer); resolve(x); }, timer });
      this.matchers.set(key, match);
      try {
        this.codec.send(m);
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(key);
        this.matchers.delete(key);
        reject(e as Error);
      }
    });
  }

  /**
   * Authenticates (signature by `sign` at `ts`); resolves with the account, rejects with
   * AuthenticationError when the gateway refuses the credentials.
   */
  async authenticate(o: { key: string; secret: string; cancelOnDisconnect?: boolean }, sign: Signer, ts = Date.now()): Promise<number> {
    const sig = await sign(o.secret, authPayload(o.key, ts));
    const auth = await this.request({ op: 'auth', key: o.key, ts, sig, ...(o.cancelOnDisconnect ? { cancelOnDisconnect: true } : {}) }, (m) => m.type === 'auth');
    if (auth.ok !== true) throw new AuthenticationError(auth.reason);
    this.account = auth.account as number;
    return this.account;
  }

  /** Sends an order; resolves with its ack or reject. */
  order(o: OrderRequest): Promise<Msg> {
    return this.request({ op: 'order', ...o }, (m) => (m.type === 'ack' || m.type === 'reject') && m.clientOrderId === o.clientOrderId);
  }

  /** Cancels by clientOrderId; resolves with `cancelled` or `reject`. */
  cancel(clientOrderId: string): Promise<Msg> {
    return this.request({ op: 'cancel', clientOrderId }, (m) => (m.type === 'cancelled' || m.type === 'reject') && m.clientOrderId === clientOrderId);
  }

  /** Modifies by clientOrderId; resolves with `modified` or `reject`. */
  modify(clientOrderId: string, price: string, qty: string): Promise<Msg> {
    return this.request({ op: 'modify', clientOrderId, price, qty }, (m) => (m.type === 'modified' || m.type === 'reject') && m.clientOrderId === clientOrderId);
  }

  /** A local book for `symbol`, kept from snapshot + deltas; resynchronises on gaps or bad checksums. */
  book(symbol: string): LocalBook {
    let b = this.books.get(symbol);
    if (!b) {
      b = new LocalBook(symbol, () => {
        this.codec.send({ op: 'unsubscribe', channels: [`book.${symbol}`] });
        this.codec.send({ op: 'subscribe', channels: [`book.${symbol}`] });
      });
      this.books.set(symbol, b);
      this.codec.send({ op: 'subscribe', channels: [`book.${symbol}`] });
    }
    return b;
  }

  /** Stops keeping the local book of `symbol` and unsubscribes its channel (nothing when none is kept). */
  dropBook(symbol: string): void {
    if (this.books.delete(symbol)) this.codec.send({ op: 'unsubscribe', channels: [`book.${symbol}`] });
  }

  /** Subscribes; resolves with `subscribed`, or with the `error` (`unknown_symbol`, `too_many_channels`) that refused the whole message. */
  subscribe(channels: string[]): Promise<Msg> {
    return this.request({ op: 'subscribe', channels }, (m) => m.type === 'subscribed' || (m.type === 'error' && (m.code === 'unknown_symbol' || m.code === 'too_many_channels')));
  }

  /** Sends what the codec buffered (the binary codec's frame of this tick). */
  flush(): void { this.codec.flush(); }
}
