/**
 * The operator's live channels for the Strategies and Operations panels: `strategies`
 * (strategyState / strategyTrip / strategyReset) and `alerts` (alerts / alert) exist only on the
 * JSON protocol and only for a session authenticated with an `admin` key (docs/protocol.md
 * "Strategies channel", "Alerts channel"), while the page's main session is binary
 * (live.ts). So this is a second WebSocket (`/ws`, JSON, client/core's JsonCodec +
 * ClientSession), opened only while a key is entered and at least one panel holds a channel,
 * authenticated with the page's key (the signature from keys.ts; the secret never reaches this
 * module), reconnected with back-off and re-authenticated after a key change.
 *
 * Layout: `adminFeed(ctx)` gives the page's one AdminFeed; `hold(channel)` (reference-counted)
 * returns the release; `on(type, fn)` for messages; `channelState(channel)` is `off` (no key),
 * `connecting`, `live` (subscribed), `forbidden` (the key has no admin permission: the server's
 * message is kept in `reason`) or `closed` (retrying).
 * Invariants: a channel is subscribed on the connection while it has a holder; each subscribe is
 * answered (subscribed or error) before the next state is shown; nothing reaches the console.
 * Complexity: O(listeners) per message. Allocation: the decoded messages.
 * Known limitations: messages sent while the connection was down are lost (the panels re-read the
 * REST state after each (re)subscribe); back-off 0.5 s doubling to 8 s; an auth answered `replay`
 * (the main session signed in the same millisecond) or a timeout reconnects and signs again.
 */
import { AuthenticationError, ClientSession, JsonCodec, type Msg } from '../client/core/index.js';
import type { DashboardContext, KeyHolder } from './types.js';

export type ChannelState = 'off' | 'connecting' | 'live' | 'forbidden' | 'closed';
export type AdminChannel = 'strategies' | 'alerts';

export class AdminFeed {
  private ws: WebSocket | null = null;
  private session: ClientSession | null = null;
  private readonly held = new Map<AdminChannel, number>();
  private readonly states = new Map<AdminChannel, { state: ChannelState; reason: string }>();
  private readonly listeners = new Map<string, Set<(m: Msg) => void>>();
  private readonly stateListeners = new Set<() => void>();
  private backoffMs = 500;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private generation = 0;

  constructor(private readonly url: string, private readonly keys: KeyHolder, private readonly report: (where: string, e: unknown) => void) {
    keys.onChange(() => this.restart());
  }

  /** Holds `channel` (subscribed while held). Returns the release. */
  hold(channel: AdminChannel): () => void {
    this.held.set(channel, (this.held.get(channel) ?? 0) + 1);
    if (this.held.get(channel) === 1) {
      if (this.session) void this.subscribe(this.session, channel, this.generation);
      else this.ensure();
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.held.get(channel) ?? 1) - 1;
      if (n > 0) { this.held.set(channel, n); return; }
      this.held.delete(channel);
      this.session?.request({ op: 'unsubscribe', channels: [channel] }, (m) => m.type === 'subscribed' || m.type === 'error').catch(() => { /* no answer needed */ });
      if (this.held.size === 0) this.close();
    };
  }

  channelState(channel: AdminChannel): { state: ChannelState; reason: string } {
    if (this.keys.current === null) return { state: 'off', reason: 'no key entered' };
    return this.states.get(channel) ?? { state: this.ws ? 'connecting' : 'closed', reason: '' };
  }

  onState(fn: () => void): () => void {
    this.stateListeners.add(fn);
    return () => { this.stateListeners.delete(fn); };
  }

  on(type: string, fn: (m: Msg) => void): () => void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, set = new Set());
    set.add(fn);
    return () => { set.delete(fn); };
  }

  private setState(channel: AdminChannel, state: ChannelState, reason = ''): void {
    this.states.set(channel, { state, reason });
    for (const fn of this.stateListeners) {
      try { fn(); } catch (e) { this.report('live events', e); }
    }
  }

  private restart(): void {
    this.close();
    this.backoffMs = 500;
    this.ensure();
  }

  private close(): void {
    this.generation++;
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    const ws = this.ws;
    this.ws = null;
    this.session = null;
    ws?.close();
    for (const c of [...this.states.keys()]) this.setState(c, 'closed');
    this.states.clear();
  }

  private ensure(): void {
    if (this.ws || this.timer || this.held.size === 0 || this.keys.current === null) {
      for (const fn of this.stateListeners) fn();
      return;
    }
    const gen = ++this.generation;
    const ws = new WebSocket(this.url);
    this.ws = ws;
    for (const c of this.held.keys()) this.setState(c, 'connecting');
    const session = new ClientSession(new JsonCodec((t) => { if (ws.readyState === WebSocket.OPEN) ws.send(t); }), (m) => this.dispatch(m), 5000);
    ws.onopen = () => {
      if (gen !== this.generation) return;
      void (async () => {
        const key = this.keys.current;
        if (!key) { this.close(); return; }
        try {
          await session.authenticate({ key: key.key, secret: '' }, (_secret, message) => this.keys.sign(message));
        } catch (e) {
          // the page's main session may have signed in the same millisecond (a replay to the
          // server): reconnect and sign again; a refused key is final until the key changes
          const reason = (e as { reason?: unknown }).reason;
          if (reason === 'replay' || reason === 'stale_timestamp' || !(e instanceof AuthenticationError)) { ws.close(); return; }
          for (const c of this.held.keys()) this.setState(c, 'forbidden', `authentication failed: ${(e as Error).message}`);
          return;
        }
        if (gen !== this.generation) return;
        this.session = session;
        this.backoffMs = 500;
        for (const c of this.held.keys()) await this.subscribe(session, c, gen);
      })().catch((e: unknown) => this.report('live events', e));
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (gen !== this.generation) return;
      try { session.onData(typeof ev.data === 'string' ? ev.data : new Uint8Array(ev.data as ArrayBuffer)); } catch (e) { this.report('live events', e); }
    };
    ws.onclose = () => {
      if (gen !== this.generation) return;
      this.ws = null;
      this.session = null;
      const forbidden = [...this.states.values()].every((s) => s.state === 'forbidden');
      for (const c of this.held.keys()) if (this.states.get(c)?.state !== 'forbidden') this.setState(c, 'closed');
      if (this.held.size === 0 || this.keys.current === null || (forbidden && this.states.size > 0)) return;
      this.timer = setTimeout(() => { this.timer = null; this.ensure(); }, this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, 8000);
    };
  }

  private async subscribe(session: ClientSession, channel: AdminChannel, gen: number): Promise<void> {
    let m: Msg;
    try {
      m = await session.request({ op: 'subscribe', channels: [channel] }, (x) => x.type === 'subscribed' || x.type === 'error');
    } catch (e) {
      if (gen === this.generation) this.setState(channel, 'closed', (e as Error).message);
      return;
    }
    if (gen !== this.generation) return;
    if (m.type === 'subscribed') this.setState(channel, 'live');
    else this.setState(channel, m.code === 'forbidden' || m.code === 'not_authenticated' ? 'forbidden' : 'closed', `${String(m.code)}: ${String(m.message ?? '')}`);
  }

  private dispatch(m: Msg): void {
    for (const set of [this.listeners.get(m.type), this.listeners.get('*')]) {
      if (!set) continue;
      for (const fn of set) {
        try { fn(m); } catch (e) { this.report('live events', e); }
      }
    }
  }
}

let shared: AdminFeed | null = null;

/** The page's one AdminFeed (created on first use). */
export function adminFeed(ctx: DashboardContext): AdminFeed {
  shared ??= new AdminFeed(`${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws`, ctx.keys, ctx.reportError);
  return shared;
}
