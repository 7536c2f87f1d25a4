/**
 * The strategy service: the gateway's one owner of the live strategies. It starts the worker pool
 * (src/strategies/pool.ts), creates the boot configurations (`serve --strategies FILE.json`, the
 * demo), and answers the HTTP API, the CLI (through the API) and the WS channel `strategies`. It
 * maps what the pool reports to the rest of the house:
 * - a strategy's pairs request → the gateway's SagaManager (`startPairs` as the strategy's account);
 * - signals → the storage writer's `strategy_signals` table (when storage is on);
 * - a breaker trip → an engine ADMIN `kill_account` of the strategy's own account, attributed in
 *   the journal (clientOrderId `strategy:<id>` on the ADMIN command), an audit line, a WS
 *   `strategyTrip` message and `/metrics`; an admin reset re-enables the breaker (half-open) and
 *   lifts that kill; a symbol velocity pause (reported as a trip with reason `velocity`) is
 *   audited, sent and counted the same way but kills nothing (the breaker stays closed);
 * - state changes → WS `strategyState` messages (and an audit line for `failed` and `tripped`);
 * - admin actions (create, start, stop, parameters, reset) → one audit line each, with the outcome.
 *
 * Layout: `pool` (the workers; every strategy lives there), `accounts` (strategy account → id: one
 * strategy per account, so that a kill attributed to a strategy stops that strategy only),
 * `killed` (accounts this service killed on a trip and nobody turned on again — lifted by a reset
 * or by an admin's kill-off; kept in `<dataDir>/strategy-kills.json` so that a restart still shows
 * it as the status's `killSwitch` and a reset still lifts it), `listeners` (the WS channel),
 * `trips` (trips by strategy and reason since start, for /metrics).
 * Invariants: a strategy id is at most 31 characters (the journal attribution `strategy:<id>`
 * fits the command's 40-character clientOrderId); an account belongs to one strategy; a trip
 * always leads to a kill of the account (retried while the command ring is full) before the
 * trip is reported as handled; only `reset` lifts it.
 * Complexity: O(1) per callback; list and metrics O(strategies). Allocation: per call (not the
 * order path: orders go from the workers to the command ring directly).
 * Known limitations: a breaker's state is not kept across a restart (the strategy starts with a
 * closed breaker; its account's kill switch, which is in the journal, stays on and is shown, and
 * a reset lifts it); strategies are created again from the boot configuration at start, not from
 * a saved registry, so strategies created over the API are gone after a restart.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Instrument } from '../domain/instruments.js';
import type { EngineHost } from '../engine/host.js';
import { TradsysError } from '../domain/errors.js';
import type { PairsLeg, SagaManager } from '../cqrs/index.js';
import type { PairsRequest, Refusal, StrategyConfig, TimeInForce } from './api.js';
import type { Trip } from './breakers.js';
import type { ThreadPlacement } from '../sys/affinity.js';
import { StrategyPool, type StrategyState } from './pool.js';
import type { StrategyStatus } from './runner.js';

/** One strategy_signals row (src/storage/writer.ts SignalRow). */
export interface SignalRowOut { strategy: string; symbol: number; ts: number; signal: string; value: number; price: number; qty: number; seq: number }

/** Who asked (for the audit log): an API key, or the server itself at boot. */
export interface Actor { account: number | null; key: string | null; ip: string | null; via: 'http' | 'boot' }

/** The audit/log sink (the gateway's pino logger). */
export interface ServiceLog {
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** What an ADMIN kill_account answers (OrderEntry.admin: null = no answer in time). */
export type KillDone = { ok: boolean; reason: string | null; seq: number } | null;

/** A message of the WS channel `strategies` (docs/protocol.md "Strategies channel"). */
export type StrategyMessage =
  | { type: 'strategyState'; id: string; kind: string; account: number; state: StrategyState; why: string; ts: number }
  | { type: 'strategyTrip'; id: string; kind: string; account: number; reason: string; detail: string; at: number; killSeq: number | null; ts: number }
  | { type: 'strategyReset'; id: string; kind: string; account: number; breaker: string; ts: number };

export interface StrategyServiceOptions {
  host: EngineHost;
  instruments: readonly Instrument[];
  /** Worker threads (default: one less than the cores, at least 1, at most MAX_DEFAULT_WORKERS). */
  workers?: number;
  /** Modules (file paths or URLs) whose `strategies` array adds strategy kinds beside the built-in ones. */
  modules?: readonly string[];
  /** The first strategy order id (after a restart: the read models' highest strategy order id + 1; default: the pool's). */
  firstOrderId?: number;
  /** The orders resting in the engine and the seq they are current to (the read models'): the workers' books start from them (StrategyPool restingOrders). */
  restingOrders?(): { seq: number; orders: Iterable<{ symbol: number; id: number; side: number; price: number; leaves: number }> };
  /** The gateway's saga manager (pairs requests); null: they are refused. */
  sagas: SagaManager | null;
  /** The engine ADMIN kill switch of one account (OrderEntry.admin('kill_account', on, {account}, attribution)). */
  killAccount(account: number, on: boolean, attribution: string): Promise<KillDone>;
  /** strategy_signals rows (StorageWriter.signals); absent when storage is off. */
  signals?(rows: readonly SignalRowOut[]): void;
  log: ServiceLog;
  /** Stage latency: a LatencyChannel buffer per strategy worker (StrategyPool latencyChannel); absent: tracking off. */
  latencyChannel?(): SharedArrayBuffer;
  /** CPU placement (`serve --cpus … strategies=…`): the CPUs worker i pins itself to (StrategyPool cpus). */
  cpus?(index: number): number[] | null;
  /** Where the kill switches set by trips are remembered across restarts (`<dataDir>/strategy-kills.json`); absent: in memory only. */
  dataDir?: string;
}

/** A kill switch the service turned on for a strategy's trip (shown as `killSwitch` in the strategy's status until it is lifted). */
export interface TripKill { strategy: string; reason: string; detail: string; at: number; seq: number }

/** A strategy's status as the API answers it: the pool's, plus the trip's kill switch on its account (null when none). */
export type StrategyView = StrategyStatus & { killSwitch: TripKill | null };

const KILLS_FILE = 'strategy-kills.json';

const BOOT: Actor = { account: null, key: null, ip: null, via: 'boot' };
/**
 * The default pool size's cap: each worker takes one of the event ring's 16 reader slots
 * (MAX_READERS), which the gateway's pump, the storage writer and other consumers share, so a
 * many-core machine gets 8 workers unless it asks for more (`--strategy-workers`).
 */
export const MAX_DEFAULT_WORKERS = 8;
/** One less than the cores, at least 1, at most MAX_DEFAULT_WORKERS. */
export const defaultWorkers = (): number => Math.max(1, Math.min(availableParallelism() - 1, MAX_DEFAULT_WORKERS));
/** Longest id: `strategy:` + id fits RING_CMD_CID_MAX (40). */
export const MAX_STRATEGY_ID = 31;
const TIF: Record<TimeInForce, number> = { gtc: 0, ioc: 1, fok: 2, post_only: 3 };
const STATES: readonly StrategyState[] = ['created', 'running', 'paused', 'stopped', 'failed', 'tripped'];
const BREAKER_STATES = ['closed', 'open', 'half_open'] as const;
/** Trip reasons that pause without opening the breaker (runner.ts: a symbol's velocity pause). */
const PAUSE_REASONS: ReadonlySet<string> = new Set(['velocity']);

/** A module named by a path (relative to the working directory) or a URL, as a URL. */
export function moduleUrl(m: string): string {
  return /^(file|data|node):/.test(m) ? m : pathToFileURL(resolve(m)).href;
}

/** The journal attribution of a strategy's kill (clientOrderId of the ADMIN command). */
export const attribution = (id: string): string => `strategy:${id}`;

export class StrategyService {
  private readonly accounts = new Map<number, string>();
  /** Kill switches this service turned on for a trip and nobody has turned off yet, by account (persisted: `killsFile`). */
  private readonly killed = new Map<number, TripKill>();
  private readonly killsFile: string | null;
  private readonly listeners = new Set<(m: StrategyMessage) => void>();
  private readonly trips = new Map<string, Map<string, number>>();
  /** The status each strategy's last mutation answered (list/get fall back on it until the workers' first report). */
  private readonly answered = new Map<string, StrategyStatus>();
  private closed = false;

  private constructor(private readonly o: StrategyServiceOptions, private pool: StrategyPool | null) {
    this.killsFile = o.dataDir === undefined ? null : join(o.dataDir, KILLS_FILE);
    this.loadKills();
  }

  /** Starts the worker pool (no strategy yet: `boot` creates the configured ones). */
  static async start(o: StrategyServiceOptions): Promise<StrategyService> {
    const s = new StrategyService(o, null);
    s.pool = await StrategyPool.start({
      host: o.host, instruments: o.instruments, workers: o.workers ?? defaultWorkers(), strategyModules: o.modules?.map(moduleUrl), firstOrderId: o.firstOrderId, restingOrders: o.restingOrders,
      latencyChannel: o.latencyChannel, cpus: o.cpus,
      pairs: (account, req) => s.pairs(account, req),
      onSignals: (rows) => { o.signals?.(rows); },
      onTrip: (id, trip) => { s.onTrip(id, trip).catch((e: unknown) => o.log.error({ audit: 'strategy.kill_failed', strategy: id, reason: (e as Error).message }, `strategy ${id}: handling its breaker trip failed`)); },
      onState: (id, state, why) => s.onState(id, state, why),
      log: (level, id, msg, fields) => o.log[level]({ strategy: id, ...fields }, msg),
    });
    return s;
  }

  get workers(): number { return this.p.workers; }
  /** Each pinned strategy worker's CPU pin as read back at its start. */
  placements(): ThreadPlacement[] { return this.p.placements(); }
  private get p(): StrategyPool {
    if (this.pool === null || this.closed) throw new TradsysError('ERR_STRATEGY_STATE', 'the strategy service is stopped');
    return this.pool;
  }

  /** Creates (and, unless `autoStart: false`, starts) each boot configuration; the first bad one throws, naming it. */
  async boot(configs: readonly StrategyConfig[]): Promise<StrategyView[]> {
    const out: StrategyView[] = [];
    for (const [i, cfg] of configs.entries()) {
      try {
        const st = await this.create(cfg, BOOT);
        out.push(st);
        if (st.killSwitch !== null) {
          this.o.log.warn({ audit: 'strategy.still_killed', strategy: st.id, account: st.account, reason: st.killSwitch.reason, seq: st.killSwitch.seq },
            `strategy ${st.id}: its account ${st.account} is still killed by the trip of ${st.killSwitch.strategy} (${st.killSwitch.reason}) before this start; its orders are refused until an admin resets it`);
        }
      } catch (e) {
        if (e instanceof TradsysError) throw new TradsysError(e.code, `strategy ${i} (${typeof cfg?.id === 'string' ? cfg.id : 'no id'}): ${e.message}`);
        throw e;
      }
    }
    return out;
  }

  // ── reads ───────────────────────────────────────────────────────────────────────────────
  /** Every strategy, by id: the workers' latest reports (≤ 250 ms old), or the status a mutation answered before its first report. */
  list(): StrategyView[] {
    const out = new Map(this.p.list().map((st) => [st.id, st] as const));
    for (const [id, st] of this.answered) if (!out.has(id)) out.set(id, st);
    return [...out.values()].sort((a, b) => (a.id < b.id ? -1 : 1)).map((st) => this.view(st));
  }
  /** The strategy, or ERR_STRATEGY_NOT_FOUND. */
  get(id: string): StrategyView {
    const s = this.p.get(id) ?? this.answered.get(id);
    if (!s) throw new TradsysError('ERR_STRATEGY_NOT_FOUND', `no strategy ${id}`);
    return this.view(s);
  }
  private view(st: StrategyStatus): StrategyView { return { ...st, killSwitch: this.killed.get(st.account) ?? null }; }
  /** The clientOrderId (tag) of a recent strategy order, for the read models' resolver (StrategyPool.clientOrderIdOf). */
  clientOrderIdOf(orderId: bigint): string | undefined { return this.pool === null ? undefined : this.pool.clientOrderIdOf(orderId); }
  /** Whether `id` exists. */
  has(id: string): boolean { return this.pool !== null && !this.closed && (this.pool.get(id) !== undefined || this.answered.has(id)); }

  // ── admin actions (each one audit line) ─────────────────────────────────────────────────
  async create(cfg: StrategyConfig, who: Actor): Promise<StrategyView> {
    return this.act('create', cfg?.id, who, { kind: cfg?.kind, strategyAccount: cfg?.account, symbols: cfg?.symbols }, async () => {
      if (typeof cfg !== 'object' || cfg === null) throw new TradsysError('ERR_STRATEGY_CONFIG', 'a strategy configuration is a JSON object');
      if (typeof cfg.id === 'string' && cfg.id.length > MAX_STRATEGY_ID) {
        throw new TradsysError('ERR_STRATEGY_CONFIG', `strategy ${cfg.id}: id must be at most ${MAX_STRATEGY_ID} characters (the journal names a breaker's kill strategy:<id>)`);
      }
      const holder = typeof cfg.account === 'number' ? this.accounts.get(cfg.account) : undefined;
      if (holder !== undefined && holder !== cfg.id) {
        throw new TradsysError('ERR_STRATEGY_CONFIG', `strategy ${cfg.id}: account ${cfg.account} is already the account of strategy ${holder} (one account per strategy: a breaker kills its strategy's account)`);
      }
      const st = await this.p.create(cfg);
      this.accounts.set(st.account, st.id);
      return st;
    });
  }

  async start(id: string, who: Actor): Promise<StrategyView> {
    return this.act('start', id, who, {}, async () => { this.get(id); return this.p.start(id); });
  }

  async stop(id: string, who: Actor): Promise<StrategyView> {
    return this.act('stop', id, who, {}, async () => { this.get(id); return this.p.stop(id); });
  }

  async setParams(id: string, params: Record<string, unknown>, who: Actor): Promise<StrategyView> {
    return this.act('params', id, who, { parameters: params }, async () => { this.get(id); return this.p.setParams(id, params); });
  }

  /**
   * Stops the strategy (its orders cancelled) and forgets it: its id and account are free again (to
   * create it anew, e.g. with other limits). A kill switch a trip left on its account stays on and
   * stays remembered (a strategy created on that account shows it; its reset lifts it). Answers the
   * last status.
   */
  async remove(id: string, who: Actor): Promise<StrategyView> {
    const view = await this.act('remove', id, who, {}, async () => {
      const last = this.get(id);
      await this.p.remove(id);
      return { ...last, state: 'stopped', why: 'removed' };
    });
    this.answered.delete(id);
    if (this.accounts.get(view.account) === id) this.accounts.delete(view.account);
    return view;
  }

  /** Admin re-enable of a tripped breaker (open → half-open), then the trip's kill of the account is lifted. */
  async reset(id: string, who: Actor): Promise<StrategyView> {
    return this.act('reset', id, who, {}, async () => {
      const before = this.get(id);
      let st: StrategyStatus;
      try {
        st = await this.p.reset(id);
      } catch (e) {
        // the breaker is not open, but the account is still killed by a trip (one before a restart,
        // whose breaker state the new worker does not have): the reset lifts that kill
        if (!(e instanceof TradsysError && e.code === 'ERR_STRATEGY_STATE' && this.killed.has(before.account))) throw e;
        st = before;
      }
      let liftSeq: number | null = null;
      if (this.killed.has(before.account)) {
        const r = await this.kill(before.account, false, id);
        if (r === null || !r.ok) throw new TradsysError('ERR_STRATEGY_STATE', `strategy ${id}: the breaker is reset but the engine did not lift the kill switch of account ${before.account} (${r === null ? 'no answer' : r.reason}); retry the reset`);
        this.forgetKill(before.account);
        liftSeq = r.seq;
      }
      this.emit({ type: 'strategyReset', id, kind: st.kind, account: st.account, breaker: st.breaker.state, ts: Date.now() });
      this.o.log.info({ audit: 'strategy.kill_lifted', strategy: id, account: st.account, seq: liftSeq }, `strategy ${id}: breaker reset`);
      return st;
    });
  }

  /** One audit line per admin action, with its outcome; TradsysErrors pass through to the caller. */
  private async act(action: string, id: unknown, who: Actor, details: Record<string, unknown>, f: () => Promise<StrategyStatus>): Promise<StrategyView> {
    const base = { audit: `strategy.${action}`, strategy: typeof id === 'string' ? id : null, account: who.account, key: who.key, ip: who.ip, via: who.via, ...details };
    try {
      const st = await f();
      this.answered.set(st.id, st);
      this.o.log.info({ ...base, outcome: 'ok', state: st.state }, `strategy ${action}: ok`);
      return this.view(st);
    } catch (e) {
      const err = e instanceof TradsysError ? e.code : 'internal';
      this.o.log.warn({ ...base, outcome: 'refused', error: err, message: (e as Error).message }, `strategy ${action}: refused`);
      throw e;
    }
  }

  // ── what the pool reports ───────────────────────────────────────────────────────────────
  /** A strategy's pairs request → the gateway's pairs saga as the strategy's account. */
  private pairs(account: number, req: PairsRequest): number | Refusal {
    const sagas = this.o.sagas;
    if (sagas === null) return 'limit';
    const leg = (l: PairsRequest['legA']): PairsLeg => ({ symbol: l.symbol, side: l.side, price: BigInt(Math.trunc(l.price)), qty: l.qty, tif: TIF[l.tif ?? 'gtc'] });
    try {
      return sagas.startPairs({ account, legA: leg(req.legA), legB: leg(req.legB), legBTimeoutMs: req.legBTimeoutMs, legATimeoutMs: req.legATimeoutMs });
    } catch (e) {
      this.o.log.warn({ strategy: this.accounts.get(account) ?? null, account, error: (e as Error).message }, 'pairs request refused by the saga manager');
      return 'bad_order';
    }
  }

  private onState(id: string, state: StrategyState, why: string): void {
    const st = this.pool?.get(id) ?? this.answered.get(id);
    const msg: StrategyMessage = { type: 'strategyState', id, kind: st?.kind ?? '', account: st?.account ?? 0, state, why, ts: Date.now() };
    if (state === 'failed') this.o.log.warn({ audit: 'strategy.failed', strategy: id, account: msg.account, why }, `strategy ${id} failed: ${why}`);
    this.emit(msg);
  }

  /**
   * A breaker trip: the runner has already cancelled the strategy's orders; here the strategy's
   * account is killed in the engine (attributed in the journal), and the trip is audited and sent
   * on the WS channel.
   */
  private async onTrip(id: string, trip: Trip): Promise<void> {
    const st = this.pool?.get(id) ?? this.answered.get(id);
    const account = st?.account ?? [...this.accounts].find(([, s]) => s === id)?.[0] ?? 0;
    const byReason = this.trips.get(id) ?? new Map<string, number>();
    byReason.set(trip.reason, (byReason.get(trip.reason) ?? 0) + 1);
    this.trips.set(id, byReason);
    let killSeq: number | null = null;
    // a symbol velocity pause (the runner's, reason `velocity`) is reported like a trip but is no
    // breaker trip: the strategy's orders on that symbol are cancelled and new ones paused for a
    // while; its breaker stays closed and its account is not killed
    const pause = PAUSE_REASONS.has(trip.reason);
    if (account > 0 && !this.closed && !pause) {
      const r = await this.kill(account, true, id);
      if (r !== null && r.ok) { killSeq = r.seq; this.rememberKill(account, { strategy: id, reason: trip.reason, detail: trip.detail, at: trip.at, seq: r.seq }); } else {
        this.o.log.error({ audit: 'strategy.kill_failed', strategy: id, account, reason: r?.reason ?? 'timeout' }, `strategy ${id}: the engine did not apply the kill switch of account ${account}`);
      }
    }
    this.o.log.warn({ audit: 'strategy.trip', strategy: id, account, reason: trip.reason, detail: trip.detail, at: trip.at, killSeq, outcome: pause ? 'paused' : killSeq === null ? 'kill_failed' : 'killed' },
      `strategy ${id}: circuit breaker tripped (${trip.reason}: ${trip.detail})`);
    this.emit({ type: 'strategyTrip', id, kind: st?.kind ?? '', account, reason: trip.reason, detail: trip.detail, at: trip.at, killSeq, ts: Date.now() });
  }

  /** The engine kill switch of `account`, attributed to strategy `id`; retried while the command ring is full (≤ 2 s). */
  private async kill(account: number, on: boolean, id: string): Promise<KillDone> {
    for (let i = 0; ; i++) {
      const r = await this.o.killAccount(account, on, attribution(id));
      if (r === null || r.ok || r.reason !== 'busy' || i >= 100) return r;
      await new Promise((res) => setTimeout(res, 20));
    }
  }

  /**
   * An ADMIN command the engine applied (OrderEntry.onAdminApplied, whoever sent it): a kill of a
   * strategy account turned off elsewhere (POST /api/v1/admin/kill) is no longer the trip's.
   */
  adminApplied(e: { action: string; on: boolean; account: number }): void {
    if (e.action === 'kill_account' && !e.on && this.killed.has(e.account)) this.forgetKill(e.account);
  }

  private rememberKill(account: number, k: TripKill): void { this.killed.set(account, k); this.saveKills(); }
  private forgetKill(account: number): void { if (this.killed.delete(account)) this.saveKills(); }

  /** `<dataDir>/strategy-kills.json`: `{"version":1,"kills":{"<account>":TripKill}}`; a file that cannot be read is reported and ignored (the engine's kill switches stay in force). */
  private loadKills(): void {
    if (this.killsFile === null) return;
    let text: string;
    try { text = readFileSync(this.killsFile, 'utf8'); } catch { return; }
    try {
      const j = JSON.parse(text) as { version: number; kills: Record<string, TripKill> };
      if (j.version !== 1 || typeof j.kills !== 'object' || j.kills === null) throw new Error('not version 1');
      for (const [a, k] of Object.entries(j.kills)) if (/^\d+$/.test(a) && typeof k?.strategy === 'string') this.killed.set(Number(a), k);
    } catch (e) {
      this.o.log.error({ audit: 'strategy.kills_file_invalid', path: this.killsFile, error: (e as Error).message }, 'the strategy kill list cannot be read; kill switches set by earlier trips stay on in the engine but are not shown');
    }
  }

  private saveKills(): void {
    if (this.killsFile === null) return;
    const tmp = this.killsFile + '.tmp';
    try {
      writeFileSync(tmp, JSON.stringify({ version: 1, kills: Object.fromEntries(this.killed) }) + '\n', { mode: 0o600 });
      renameSync(tmp, this.killsFile);
    } catch (e) {
      this.o.log.error({ audit: 'strategy.kills_file_write', path: this.killsFile, error: (e as Error).message }, 'the strategy kill list cannot be written');
    }
  }

  // ── the WS channel ──────────────────────────────────────────────────────────────────────
  /** Adds a listener of the `strategies` channel; returns its removal. */
  subscribe(f: (m: StrategyMessage) => void): () => void {
    this.listeners.add(f);
    return () => { this.listeners.delete(f); };
  }
  private emit(m: StrategyMessage): void { for (const f of this.listeners) f(m); }

  // ── /metrics ────────────────────────────────────────────────────────────────────────────
  /** The `tradsys_strategy_*` series (Prometheus text exposition), one block per metric. */
  metricsText(): string {
    if (this.pool === null || this.closed) return '';
    const all = this.pool.list();
    const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    const lines: string[] = ['# HELP tradsys_strategy_workers Strategy worker threads.', '# TYPE tradsys_strategy_workers gauge', `tradsys_strategy_workers ${this.pool.workers}`];
    const metric = (name: string, type: 'gauge' | 'counter', help: string, rows: [string, number][]): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of rows) lines.push(`${name}{${labels}} ${Number.isFinite(v) ? v : 0}`);
    };
    const l = (s: StrategyStatus, extra = ''): string => `strategy="${esc(s.id)}",kind="${esc(s.kind)}"${extra}`;
    metric('tradsys_strategy_state', 'gauge', 'Strategy state (1 for the current state).', all.flatMap((s) => STATES.map((x): [string, number] => [l(s, `,state="${x}"`), s.state === x ? 1 : 0])));
    metric('tradsys_strategy_orders_total', 'counter', 'Orders sent by the strategy.', all.map((s) => [l(s), s.orders]));
    metric('tradsys_strategy_fills_total', 'counter', 'Fills of the strategy\'s orders.', all.map((s) => [l(s), s.fills]));
    metric('tradsys_strategy_rejects_total', 'counter', 'Rejects of the strategy\'s orders.', all.map((s) => [l(s), s.rejects]));
    metric('tradsys_strategy_position_lots', 'gauge', 'Signed position by symbol, lots.', all.flatMap((s) => Object.entries(s.position).map(([sym, q]): [string, number] => [l(s, `,symbol="${esc(sym)}"`), q])));
    metric('tradsys_strategy_realised_pnl_ticks', 'gauge', 'Realised P&L, ticks x lots (fees included).', all.map((s) => [l(s), s.realisedPnl]));
    metric('tradsys_strategy_unrealised_pnl_ticks', 'gauge', 'Unrealised P&L at the last mid, ticks x lots.', all.map((s) => [l(s), s.unrealisedPnl]));
    metric('tradsys_strategy_breaker_state', 'gauge', 'Circuit breaker state (1 for the current state).', all.flatMap((s) => BREAKER_STATES.map((x): [string, number] => [l(s, `,state="${x}"`), s.breaker.state === x ? 1 : 0])));
    metric('tradsys_strategy_breaker_trips_total', 'counter', 'Circuit breaker trips.', all.map((s) => [l(s), s.breaker.trips]));
    metric('tradsys_strategy_kill_switch', 'gauge', 'The engine kill switch of the strategy\'s account is on after a trip (1) or not (0).', all.map((s) => [l(s), this.killed.has(s.account) ? 1 : 0]));
    const byReason: [string, number][] = [];
    for (const s of all) for (const [reason, n] of this.trips.get(s.id) ?? []) byReason.push([l(s, `,reason="${esc(reason)}"`), n]);
    metric('tradsys_strategy_trips_total', 'counter', 'Circuit breaker trips seen by this server, by reason.', byReason);
    metric('tradsys_strategy_decision_latency_us', 'gauge', 'Hook run time (market event to decision), microseconds.', all.flatMap((s): [string, number][] => [[l(s, ',quantile="0.5"'), s.decisionUs.p50], [l(s, ',quantile="0.99"'), s.decisionUs.p99]]));
    metric('tradsys_strategy_events_per_second', 'gauge', 'Market events handed to the strategy per second.', all.map((s) => [l(s), s.eventsPerSec]));
    metric('tradsys_strategy_overruns_total', 'counter', 'Hooks over the per-event time budget.', all.map((s) => [l(s), s.overruns]));
    metric('tradsys_strategy_errors_total', 'counter', 'Hooks that threw.', all.map((s) => [l(s), s.errors]));
    return lines.join('\n') + '\n';
  }

  /** Stops every strategy (cancelling their orders) and the workers. */
  async close(): Promise<void> {
    if (this.closed || this.pool === null) return;
    const pool = this.pool;
    this.closed = true;
    this.listeners.clear();
    await pool.close();
  }
}
