/**
 * The dashboard's panel contract (docs/dashboard.md "Panels"): what a panel module exports and
 * what the shell hands it. Every panel — Market, Trading, Strategies, Operations, Analysts — is
 * `src/dashboard/panels/<id>.ts` exporting `mount(root, ctx): Panel`, registered once in
 * src/dashboard/panels/index.ts.
 *
 * Layout: types only. The implementations are api.ts (REST, signing), live.ts (the WebSocket
 * session over client/core), frames.ts (the animation-frame scheduler), format.ts (ticks and lots
 * by instrument), keys.ts (the API key, in memory only) and main.ts (the shell: header, tabs,
 * error area).
 * Invariants: a panel touches only its own `root` (and `ctx`); it renders from `ctx.frames`
 * callbacks, never once per message; it reports failures through `ctx.reportError` (shown in the
 * page), never with console.error (the browser tests fail on any console error).
 * Complexity / Allocation: n/a (types). Known limitations: none.
 */
import type { LocalBook, Msg } from '../client/core/index.js';

export type PanelId = 'market' | 'trading' | 'strategies' | 'operations' | 'analysts';

/** A mounted panel. The shell calls `show`/`hide` as its tab is selected, `dispose` never in practice (page lifetime). */
export interface Panel {
  /** Its tab became visible: start polling, size charts to the now-visible root. */
  show(): void;
  /** Another tab was selected: stop polling (live subscriptions may stay). */
  hide(): void;
  /** Releases subscriptions, timers and charts. */
  dispose(): void;
}

/** What a panel module exports. */
export interface PanelModule {
  mount(root: HTMLElement, ctx: DashboardContext): Panel;
}

/** One row of GET /api/v1/symbols (decimal strings). */
export interface InstrumentInfo {
  id: number; symbol: string; tickSize: string; lotSize: string; minQty: string; maxQty: string;
  referencePrice: string | null; status: string; [k: string]: unknown;
}

/** An HTTP error answer `{error, message}` (docs/errors.md "HTTP error replies"), or a failure before any answer (status 0). */
export interface ApiFailure { status: number; error: string; message: string; body: unknown }

export interface Api {
  /**
   * GET `path` (with its query string). `signed`: signs with the key entered in the page
   * (HMAC-SHA256 in WebCrypto, docs/protocol.md "HTTP", with a fresh X-TS-NONCE) — fails with
   * `no_key` when none is. Resolves with the parsed JSON, rejects with an ApiError.
   */
  get<T = unknown>(path: string, opts?: { signed?: boolean; signal?: AbortSignal }): Promise<T>;
  /** POST / PATCH / DELETE with a JSON body (signed unless `signed: false`). */
  send<T = unknown>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, opts?: { signed?: boolean; signal?: AbortSignal }): Promise<T>;
}

export type LiveState = 'connecting' | 'open' | 'closed';

/** A held local book (release it when done; the shared subscription ends with its last holder). */
export interface BookHandle {
  /** The current LocalBook (a new one after a reconnect). */
  readonly book: LocalBook | null;
  release(): void;
}

/** The one WebSocket session of the page (binary protocol, client/core's ClientSession). */
export interface LiveFeed {
  readonly state: LiveState;
  /** The account the session authenticated as (the key entered in the page), else null. */
  readonly account: number | null;
  onState(fn: (s: LiveState) => void): () => void;
  /** Server messages of `type` (`trade`, `ticker`, `book`, `bookDelta`, `fill`, `ack`, `cancelled`, `modified`, `reject`, …; `*` for all). Returns the unsubscribe. */
  on(type: string, fn: (m: Msg) => void): () => void;
  /** Holds `channels` (e.g. `trades.BTC-USD`), reference-counted and re-sent after a reconnect. Returns the release. */
  subscribe(channels: readonly string[]): () => void;
  /** Holds a local book of `symbol` (snapshot + deltas, gap and checksum checks, resync). */
  book(symbol: string): BookHandle;
}

/** Batches rendering: each key's latest callback runs once in the next animation frame. */
export interface FrameScheduler {
  request(key: unknown, fn: () => void): void;
  /** Frames that ran at least one callback. */
  readonly frames: number;
}

/** Numbers for people, by instrument (ticks and lots as the symbol's decimals). */
export interface Formatter {
  /** A price text padded to the symbol's tick decimals (`"60000.5"` → `"60000.50"` for tick 0.01). */
  price(symbol: string, text: string | null | undefined): string;
  qty(symbol: string, text: string | null | undefined): string;
  /** A money amount (P&L) with thousands separators, sign kept. */
  money(text: string | null | undefined): string;
  /** Epoch ns (string or number) or ms (number < 1e14) → `HH:MM:SS.mmm` (UTC). */
  time(ts: string | number | bigint | null | undefined): string;
  int(n: number | null | undefined): string;
  /** The instrument, or undefined. */
  instrument(symbol: string): InstrumentInfo | undefined;
}

/** The API key entered in the page. */
export interface KeyInfo { key: string; account: number }

export interface KeyHolder {
  readonly current: KeyInfo | null;
  /** hex HMAC-SHA256 of `message` with the entered secret (a non-extractable WebCrypto key); rejects without a key. */
  sign(message: string): Promise<string>;
  onChange(fn: (k: KeyInfo | null) => void): () => void;
}

/** What the shell gives each panel. */
export interface DashboardContext {
  /** The server's version (from the page's meta tag). */
  readonly version: string;
  readonly instruments: readonly InstrumentInfo[];
  readonly api: Api;
  readonly live: LiveFeed;
  /**
   * A second session over the JSON protocol (`/ws`), opened on its first `subscribe`, authenticated
   * with the page's key: for the channels the binary protocol does not carry — `strategies`
   * (strategyState / strategyTrip / strategyReset) and `alerts` (alerts / alert), admin keys only
   * (docs/protocol.md). Its `book` works too but panels use `live` for market data.
   */
  readonly liveJson: LiveFeed;
  readonly frames: FrameScheduler;
  readonly fmt: Formatter;
  readonly keys: KeyHolder;
  /** Shows `err` in the page's error area under `where` (replacing that source's previous error). */
  reportError(where: string, err: unknown): void;
  /** Removes the error shown for `where` (after a success). */
  clearError(where: string): void;
  /** Calls `fn` now and every `ms` while `panel`'s tab is visible (never overlapping: the next waits for the promise). Returns the stop. */
  every(panel: PanelId, ms: number, fn: () => Promise<void> | void): () => void;
}
