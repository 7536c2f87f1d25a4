/**
 * The page's one WebSocket session: the binary protocol (`/ws?protocol=binary`) through
 * client/core (BinaryCodec + ClientSession + LocalBook: snapshot plus deltas, gap detection,
 * checksum verification, resync), shared by every panel, reconnected with back-off, and
 * authenticated with the page's key when one is entered (execution reports of the account then
 * arrive as `ack`/`fill`/`cancelled`/`modified`/`reject` messages).
 *
 * Layout: `channels` (channel → holders) and `books` (symbol → holders, current LocalBook) are
 * the wanted state; each (re)connection creates a ClientSession and re-applies it (books first,
 * then one subscribe of the other channels, then the key's auth).
 * Invariants: a channel is subscribed while it has a holder and unsubscribed with its last one; a
 * message is handed to the listeners of its type and of `*` in arrival order; a listener that
 * throws is reported (ctx.reportError) and does not stop the others.
 * Complexity: O(listeners) per message. Allocation: the decoded messages (client/core).
 * The same class also makes the page's second, lazy session over the JSON protocol (`/ws`), for
 * the channels the binary protocol does not carry (`strategies`, `alerts`: admin keys).
 * Known limitations: a lost connection loses the account's reports in between (the Trading panel
 * re-reads its tables over HTTP after each reconnect); back-off 0.5 s doubling to 8 s.
 */
import { BinaryCodec, ClientSession, JsonCodec, type Instrument, type LocalBook, type Msg } from '../client/core/index.js';
import type { PageKeys } from './keys.js';
import type { BookHandle, LiveFeed, LiveState } from './types.js';

export class WsFeed implements LiveFeed {
  state: LiveState = 'connecting';
  account: number | null = null;
  /** Connections opened so far (1 after the first). */
  connections = 0;
  /** Main-thread milliseconds spent decoding and applying server frames (client/core) and in the listeners, so far. */
  busyMs = 0;
  private ws: WebSocket | null = null;
  private session: ClientSession | null = null;
  private readonly channels = new Map<string, number>();
  private readonly books = new Map<string, { holders: number; book: LocalBook | null }>();
  private readonly listeners = new Map<string, Set<(m: Msg) => void>>();
  private readonly stateListeners = new Set<(s: LiveState) => void>();
  private backoffMs = 500;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  private started = false;

  /**
   * `protocol` binary (`/ws?protocol=binary`: market data, the account's reports) or json (`/ws`:
   * also the `strategies` and `alerts` channels of admin keys, which the binary protocol lacks);
   * `lazy`: connect on the first `subscribe`/`book` instead of at `start`.
   */
  constructor(private readonly url: string, private readonly instruments: Instrument[], private readonly keys: PageKeys,
    private readonly report: (where: string, e: unknown) => void, private readonly clear: (where: string) => void,
    private readonly protocol: 'binary' | 'json' = 'binary', private readonly lazy = false) {}

  start(): void {
    if (this.lazy || this.started) return;
    this.started = true;
    this.connect();
  }

  private ensureStarted(): void {
    if (this.started) return;
    this.started = true;
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.ws?.close();
  }

  private setState(s: LiveState): void {
    if (this.state === s) return;
    this.state = s;
    for (const fn of this.stateListeners) fn(s);
  }

  private connect(): void {
    this.timer = null;
    this.setState('connecting');
    const ws = new WebSocket(this.url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    const out = (f: Uint8Array | string): void => { if (ws.readyState === WebSocket.OPEN) ws.send(f); };
    const codec = this.protocol === 'binary' ? new BinaryCodec(out, this.instruments) : new JsonCodec(out);
    const session = new ClientSession(codec, (m) => this.dispatch(m), 5000);
    ws.onopen = () => {
      if (this.ws !== ws) return;
      this.connections++;
      this.session = session;
      this.backoffMs = 500;
      this.clear('live');
      for (const [symbol, b] of this.books) b.book = session.book(symbol);
      this.setState('open');
      // with a key: authenticate first (the admin channels need it), then subscribe
      const subscribeAll = (): void => { const chans = [...this.channels.keys()]; if (chans.length) this.sendSubscribe(chans); };
      if (this.keys.keyId !== null) this.authenticate().catch((e: unknown) => this.report('key', e)).finally(subscribeAll);
      else subscribeAll();
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (this.ws !== ws) return;
      const t0 = performance.now();
      try {
        session.onData(typeof ev.data === 'string' ? ev.data : new Uint8Array(ev.data as ArrayBuffer));
      } catch (e) { this.report('live', e); }
      this.busyMs += performance.now() - t0;
    };
    ws.onclose = (ev: CloseEvent) => {
      if (this.ws !== ws) return;
      this.session = null;
      this.account = null;
      for (const b of this.books.values()) b.book = null;
      this.setState('closed');
      if (this.stopped) return;
      if (ev.code === 4001) this.report('key', new Error(`the gateway closed the session: ${ev.reason || 'key revoked'}`));
      this.timer = setTimeout(() => this.connect(), this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, 8000);
    };
  }

  /** Authenticates the session with the key loaded in the page; resolves with the account. */
  async authenticate(): Promise<number> {
    const s = this.session;
    const key = this.keys.keyId;
    if (!s) throw new Error('not connected to the gateway yet; try again in a moment');
    if (key === null) throw new Error('no API key entered');
    const account = await s.authenticate({ key, secret: '' }, (_secret, message) => this.keys.sign(message));
    this.account = account;
    for (const fn of this.stateListeners) fn(this.state); // the header shows the account
    return account;
  }

  /** Authenticates again with the key now entered and re-subscribes what is held (a lazy JSON session, after a key change). */
  async reauthenticate(): Promise<void> {
    if (!this.session) return;
    await this.authenticate();
    const chans = [...this.channels.keys()];
    if (chans.length) this.sendSubscribe(chans);
  }

  /** Drops the session's authentication by reconnecting (the protocol has no logout). */
  logout(): void {
    this.account = null;
    this.ws?.close();
  }

  private sendSubscribe(chans: string[]): void {
    const s = this.session;
    if (!s) return;
    // answered by `subscribed`, or by one `error` that refused the whole message (docs/protocol.md)
    const refusals = new Set(['unknown_symbol', 'too_many_channels', 'forbidden', 'not_authenticated']);
    let sent: Promise<Msg>;
    try {
      sent = s.request({ op: 'subscribe', channels: chans }, (m) => m.type === 'subscribed' || (m.type === 'error' && refusals.has(String(m.code))));
    } catch (e) { this.report('live', e); return; }
    sent.then((m) => {
      if (m.type === 'error') this.report('live', new Error(`subscribe ${chans.join(', ')}: ${String(m.code)} ${String(m.message ?? '')}`));
    }, (e: unknown) => this.report('live', e));
  }

  private dispatch(m: Msg): void {
    for (const set of [this.listeners.get(m.type), this.listeners.get('*')]) {
      if (!set) continue;
      for (const fn of set) {
        try { fn(m); } catch (e) { this.report('live', e); }
      }
    }
  }

  onState(fn: (s: LiveState) => void): () => void {
    this.stateListeners.add(fn);
    return () => { this.stateListeners.delete(fn); };
  }

  on(type: string, fn: (m: Msg) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, set = new Set());
    set.add(fn);
    return () => { set.delete(fn); };
  }

  subscribe(channels: readonly string[]): () => void {
    this.ensureStarted();
    const fresh: string[] = [];
    for (const c of channels) {
      const n = this.channels.get(c) ?? 0;
      this.channels.set(c, n + 1);
      if (n === 0) fresh.push(c);
    }
    if (fresh.length) this.sendSubscribe(fresh);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const gone: string[] = [];
      for (const c of channels) {
        const n = (this.channels.get(c) ?? 1) - 1;
        if (n <= 0) { this.channels.delete(c); gone.push(c); } else this.channels.set(c, n);
      }
      if (gone.length && this.session) {
        try { this.session.request({ op: 'unsubscribe', channels: gone }, (m) => m.type === 'subscribed').catch(() => { /* no answer needed */ }); } catch (e) { this.report('live', e); }
      }
    };
  }

  book(symbol: string): BookHandle {
    this.ensureStarted();
    let b = this.books.get(symbol);
    if (!b) {
      b = { holders: 0, book: this.session ? this.session.book(symbol) : null };
      this.books.set(symbol, b);
    }
    b.holders++;
    const entry = b;
    let released = false;
    return {
      get book() { return entry.book; },
      release: () => {
        if (released) return;
        released = true;
        if (--entry.holders > 0) return;
        this.books.delete(symbol);
        this.session?.dropBook(symbol);
      },
    };
  }
}
