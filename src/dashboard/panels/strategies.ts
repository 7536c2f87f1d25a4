/**
 * The Strategies panel: each live strategy's state (and why), P&L curve (a live uPlot line of
 * realised + unrealised P&L), position by symbol, circuit-breaker state and trips, order figures,
 * and Start / Stop / Reset buttons — over GET /api/v1/strategies (signed; a key with `admin` sees
 * every strategy, a `read` key the strategies of its own account: docs/strategies.md "API"),
 * POST /api/v1/strategies/:id/start|stop|reset (`admin`), and the JSON `strategies` WebSocket
 * channel (admin keys; admin-feed.ts) for state changes, trips and resets as they happen.
 * Without a key it draws the public figures of GET /metrics (`tradsys_strategy_*`:
 * strategy-metrics.ts; no account, symbols or `why`), so the strategies show before any key.
 *
 * Layout: note (#strategies-note: no key / scope) · live-events state (#strategies-live) · one
 * card per strategy (`.strategy[data-strategy-id]`, data-state, data-breaker) with its figures,
 * buttons (data-action start|stop|reset), result line (`.strategy-result`, data-error = the API's
 * error name) and P&L chart · the event log (#strategy-events, newest first).
 * Invariants: the figures shown are the latest GET answer (re-read every second while the tab is
 * visible, and at once after each button answer or channel event); every render runs in an
 * animation frame (ctx.frames); a mutation without a key, or refused for want of the admin
 * permission, says so in the card's result line and changes nothing; the P&L curve keeps
 * PNL_POINTS samples per strategy (one per refresh).
 * Complexity: O(strategies) per refresh; a chart redraw O(PNL_POINTS). Allocation: the answer and
 * one sample per strategy per refresh.
 * Known limitations: P&L units are the API's ticks × lots (per strategy, not converted to money:
 * a strategy may trade several instruments); the curve starts when the panel is first shown and
 * pauses while another tab is (the server keeps no P&L history).
 */
import uPlot from 'uplot';
import type { Msg } from '../../client/core/index.js';
import { ApiError, describeError } from '../api.js';
import { adminFeed } from '../admin-feed.js';
import { h } from '../dom.js';
import { strategiesFromMetrics } from '../strategy-metrics.js';
import type { DashboardContext, Panel } from '../types.js';

/** One strategy as GET /api/v1/strategies shows it (src/strategies/runner.ts StrategyStatus). */
export interface StrategyStatus {
  id: string; kind: string; state: string; why: string; priority: number; worker: number; account: number; symbols: string[];
  eventsPerSec: number; decisionUs: { p50: number; p99: number }; orders: number; fills: number; rejects: number;
  position: Record<string, number>; realisedPnl: number; unrealisedPnl: number;
  breaker: { state: 'closed' | 'open' | 'half_open'; trip: { reason: string; detail: string; at: number } | null; trips: number };
  overruns: number; errors: number;
}

/** Samples kept per P&L curve: 10 minutes at one a second. */
export const PNL_POINTS = 600;
const REFRESH_MS = 1000;
const EVENTS_SHOWN = 20;
const START_FROM = new Set(['created', 'stopped', 'paused', 'failed']);

interface Card {
  root: HTMLElement; state: HTMLElement; breaker: HTMLElement; figures: HTMLElement; position: HTMLElement; result: HTMLElement;
  start: HTMLButtonElement; stop: HTMLButtonElement; reset: HTMLButtonElement; chartBox: HTMLElement; plot: uPlot | null;
  t: number[]; pnl: number[];
}

export function mount(root: HTMLElement, ctx: DashboardContext): Panel {
  const { api, frames, fmt } = ctx;
  const feed = adminFeed(ctx);
  const note = h('p', { class: 'note', id: 'strategies-note' });
  const liveState = h('span', { class: 'live-state', id: 'strategies-live', role: 'status' });
  const cardsBox = h('div', { class: 'strategy-grid', id: 'strategy-cards' });
  const events = h('ol', { class: 'event-log', id: 'strategy-events', 'aria-label': 'Strategy events, newest first' });
  root.append(
    h('div', { class: 'toolbar' }, note, liveState),
    cardsBox,
    h('div', { class: 'card' }, h('h2', {}, 'Strategy events'), events));

  const cards = new Map<string, Card>();
  let last: StrategyStatus[] = [];
  let workers = 0;
  let loaded = false;
  let visible = false;

  const ticks = (n: number): string => fmt.int(n);
  const signCls = (n: number): string => (n > 0 ? 'up' : n < 0 ? 'down' : '');

  const showResult = (c: Card, ok: boolean, text: string, error?: string): void => {
    c.result.textContent = text;
    c.result.classList.toggle('error', !ok);
    if (error) c.result.dataset.error = error; else delete c.result.dataset.error;
  };

  const act = (c: Card, id: string, action: 'start' | 'stop' | 'reset'): void => {
    if (!ctx.keys.current) { showResult(c, false, `${action}: enter an API key with the admin permission (top right) first`, 'no_key'); return; }
    const btn = c[action];
    btn.disabled = true;
    showResult(c, true, `${action}…`);
    api.send<StrategyStatus>('POST', `/api/v1/strategies/${encodeURIComponent(id)}/${action}`).then((s) => {
      showResult(c, true, `${action}: ${s.state}${s.why ? ` (${s.why})` : ''} · breaker ${s.breaker.state}`);
      upsert(s);
      refreshSoon();
    }, (e: unknown) => {
      const name = e instanceof ApiError ? e.error : 'error';
      const admin = e instanceof ApiError && (e.status === 403 || e.error === 'forbidden');
      showResult(c, false, admin ? `${action} needs a key with the admin permission: ${describeError(e)}` : `${action} refused: ${describeError(e)}`, name);
      refreshSoon();
    }).finally(() => { btn.disabled = false; frames.request(c, () => paint(c, last.find((x) => x.id === id))); });
  };

  const makeCard = (s: StrategyStatus): Card => {
    const state = h('span', { class: 'badge state' });
    const breaker = h('span', { class: 'badge breaker' });
    const start = h('button', { type: 'button', class: 'small', 'data-action': 'start', 'aria-label': `Start strategy ${s.id}` }, 'Start');
    const stop = h('button', { type: 'button', class: 'small danger', 'data-action': 'stop', 'aria-label': `Stop strategy ${s.id}` }, 'Stop');
    const reset = h('button', { type: 'button', class: 'small', 'data-action': 'reset', 'aria-label': `Reset the circuit breaker of strategy ${s.id}`, title: 're-enable a tripped breaker (half-open) and lift its kill switch' }, 'Reset breaker');
    const figures = h('dl', { class: 'figures' });
    const position = h('span', { class: 'position' });
    const result = h('p', { class: 'strategy-result', role: 'status', 'aria-live': 'polite' });
    const chartBox = h('div', { class: 'chart pnl', role: 'img', 'aria-label': `P&L of ${s.id} over time (ticks × lots)` });
    const who = s.account < 0 ? `${s.kind} · public figures from /metrics (a key shows the account, symbols and controls)` : `${s.kind} · account ${s.account} · ${s.symbols.join(' / ')}`;
    const card: Card = {
      root: h('section', { class: 'card strategy', 'data-strategy-id': s.id, 'data-source': s.account < 0 ? 'metrics' : 'api', 'aria-label': `Strategy ${s.id}` },
        h('div', { class: 'card-head' }, h('h2', {}, s.id), h('span', { class: 'note' }, who), state, breaker),
        figures, h('div', { class: 'actions-row' }, start, stop, reset, result), chartBox),
      state, breaker, figures, position, result, start, stop, reset, chartBox, plot: null, t: [], pnl: [],
    };
    start.addEventListener('click', () => act(card, s.id, 'start'));
    stop.addEventListener('click', () => act(card, s.id, 'stop'));
    reset.addEventListener('click', () => act(card, s.id, 'reset'));
    return card;
  };

  const fig = (dl: HTMLElement, items: [string, string, string?][]): void => {
    dl.replaceChildren(...items.map(([k, v, cls]) => h('div', { class: 'fig' }, h('dt', {}, k), h('dd', { class: `num ${cls ?? ''}` }, v))));
  };

  const paint = (c: Card, s: StrategyStatus | undefined): void => {
    if (!s) return;
    c.root.dataset.state = s.state;
    c.root.dataset.breaker = s.breaker.state;
    c.state.textContent = s.state + (s.why ? ` — ${s.why}` : '');
    c.state.dataset.state = s.state;
    c.breaker.textContent = `breaker ${s.breaker.state.replace('_', '-')}${s.breaker.trips ? ` · ${s.breaker.trips} trip${s.breaker.trips === 1 ? '' : 's'}` : ''}`;
    c.breaker.dataset.breaker = s.breaker.state;
    c.breaker.title = s.breaker.trip ? `last trip: ${s.breaker.trip.reason} — ${s.breaker.trip.detail} at ${fmt.time(s.breaker.trip.at)}` : 'no trip';
    const total = s.realisedPnl + s.unrealisedPnl;
    const pos = Object.entries(s.position).map(([sym, q]) => `${sym} ${q > 0 ? '+' : ''}${q}`).join(', ') || 'flat';
    fig(c.figures, [
      ['P&L (ticks×lots)', ticks(total), signCls(total)], ['realised', ticks(s.realisedPnl), signCls(s.realisedPnl)], ['unrealised', ticks(s.unrealisedPnl), signCls(s.unrealisedPnl)],
      ['position (lots)', pos], ['orders · fills · rejects', `${fmt.int(s.orders)} · ${fmt.int(s.fills)} · ${fmt.int(s.rejects)}`],
      ['events/s', fmt.int(s.eventsPerSec)], ['decision p50 · p99 (µs)', `${s.decisionUs.p50.toFixed(1)} · ${s.decisionUs.p99.toFixed(1)}`],
      ['overruns · errors', `${s.overruns} · ${s.errors}`],
    ]);
    c.figures.dataset.pnl = String(total);
    c.figures.dataset.position = JSON.stringify(s.position);
    c.start.disabled = !START_FROM.has(s.state);
    c.stop.disabled = s.state === 'stopped' || s.state === 'created';
    c.reset.disabled = s.breaker.state !== 'open';
    drawPnl(c);
  };

  const drawPnl = (c: Card): void => {
    if (!visible || c.chartBox.clientWidth === 0) return;
    const data: uPlot.AlignedData = [c.t, c.pnl];
    if (!c.plot) {
      c.plot = new uPlot({
        width: c.chartBox.clientWidth, height: 140, legend: { show: false }, cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        axes: [{ stroke: '#9fb0c0', grid: { stroke: '#22303c' } }, { stroke: '#9fb0c0', grid: { stroke: '#22303c' }, size: 64 }],
        series: [{}, { label: 'P&L', stroke: '#4aa3ff', width: 1.5, fill: 'rgba(74,163,255,0.12)', points: { show: false } }],
      }, data, c.chartBox);
    } else c.plot.setData(data);
    c.chartBox.dataset.points = String(c.t.length);
  };

  const upsert = (s: StrategyStatus): void => {
    const i = last.findIndex((x) => x.id === s.id);
    if (i >= 0) last[i] = s; else last.push(s);
  };

  const render = (): void => {
    const key = ctx.keys.current;
    if (!key) {
      note.textContent = `${loaded ? `${last.length} strateg${last.length === 1 ? 'y' : 'ies'} (public figures from /metrics) · ` : ''}no key: enter an API key (top right) for the full status and controls — with the admin permission every strategy and start/stop/reset, with read your own account's.`;
      note.dataset.reason = 'no_key';
    } else if (loaded) {
      note.textContent = `${last.length} strateg${last.length === 1 ? 'y' : 'ies'} on ${workers} worker thread${workers === 1 ? '' : 's'} · key ${key.key} (account ${key.account}) · P&L in ticks × lots, refreshed every second`;
      delete note.dataset.reason;
    }
    const ls = feed.channelState('strategies');
    liveState.dataset.state = ls.state;
    liveState.textContent = ls.state === 'live' ? 'live events: on' : ls.state === 'forbidden' ? 'live events need an admin key (polling)' : ls.state === 'off' ? '' : `live events: ${ls.state}`;
    liveState.title = ls.reason;
    cardsBox.querySelector('#strategies-empty')?.remove();
    const ids = new Set(last.map((s) => s.id));
    for (const [id, c] of cards) if (!ids.has(id)) { c.plot?.destroy(); c.root.remove(); cards.delete(id); }
    for (const s of last) {
      let c = cards.get(s.id);
      if (!c) { c = makeCard(s); cards.set(s.id, c); }
      if (c.root.parentElement !== cardsBox) cardsBox.append(c.root);
      paint(c, s);
    }
    if (loaded && last.length === 0) cardsBox.append(h('p', { class: 'note', id: 'strategies-empty' }, key ? 'No strategies visible to this key (a read key sees only its own account\'s; the server runs those of `serve --strategies FILE` or the demo).' : 'No strategies run on this server (`serve --strategies FILE`, or the demo with the simulator).'));
    cardsBox.dataset.count = String(last.length);
  };
  const renderKey = {};
  const requestRender = (): void => frames.request(renderKey, render);

  /** Without a key: the public `tradsys_strategy_*` series of /metrics (strategy-metrics.ts). */
  const fromMetrics = async (): Promise<StrategyStatus[]> => {
    const text = await api.get<unknown>('/metrics');
    if (typeof text !== 'string') return [];
    return strategiesFromMetrics(text).map((m) => ({
      ...m, why: '', priority: 0, worker: 0, account: -1, symbols: Object.keys(m.position),
      breaker: { state: m.breaker.state as StrategyStatus['breaker']['state'], trip: null, trips: m.breaker.trips },
    }));
  };
  const refresh = async (): Promise<void> => {
    const keyed = ctx.keys.current !== null;
    if (keyed) {
      const r = await api.get<{ workers: number; strategies: StrategyStatus[] }>('/api/v1/strategies', { signed: true });
      workers = r.workers;
      last = r.strategies;
    } else last = await fromMetrics();
    if (keyed !== (ctx.keys.current !== null)) return; // the key changed meanwhile
    loaded = true;
    const now = Date.now() / 1000;
    for (const s of last) {
      let c = cards.get(s.id);
      if (!c) { c = makeCard(s); cards.set(s.id, c); }
      c.t.push(now);
      c.pnl.push(s.realisedPnl + s.unrealisedPnl);
      if (c.t.length > PNL_POINTS) { c.t.splice(0, c.t.length - PNL_POINTS); c.pnl.splice(0, c.pnl.length - PNL_POINTS); }
    }
    ctx.clearError('strategies');
    requestRender();
  };
  let soon: ReturnType<typeof setTimeout> | null = null;
  function refreshSoon(): void {
    if (soon) return;
    soon = setTimeout(() => { soon = null; refresh().catch((e: unknown) => ctx.reportError('strategies', e)); }, 50);
  }

  const logEvent = (m: Msg): void => {
    const at = typeof m.ts === 'number' ? new Date(m.ts).toISOString().slice(11, 23) : '';
    const text = m.type === 'strategyState' ? `${String(m.id)} → ${String(m.state)}${m.why ? ` (${String(m.why)})` : ''}`
      : m.type === 'strategyTrip' ? `${String(m.id)} breaker tripped: ${String(m.reason)} — ${String(m.detail)}`
        : `${String(m.id)} breaker reset (${String(m.breaker)})`;
    events.prepend(h('li', { 'data-type': m.type, 'data-strategy-id': String(m.id) }, h('time', {}, at), ' ', text));
    while (events.children.length > EVENTS_SHOWN) events.lastElementChild!.remove();
    refreshSoon();
  };

  const offs = [
    feed.on('strategyState', logEvent), feed.on('strategyTrip', logEvent), feed.on('strategyReset', logEvent),
    feed.onState(() => { requestRender(); if (feed.channelState('strategies').state === 'live') refreshSoon(); }),
    ctx.keys.onChange(() => {
      // another view of the strategies (API or /metrics, another account): new cards, new curves
      last = []; loaded = false;
      for (const c of cards.values()) { c.plot?.destroy(); c.root.remove(); }
      cards.clear();
      refreshSoon();
    }),
  ];
  const release = feed.hold('strategies');
  const stop = ctx.every('strategies', REFRESH_MS, refresh);
  const resize = new ResizeObserver(() => { for (const c of cards.values()) if (c.plot && c.chartBox.clientWidth > 0) c.plot.setSize({ width: c.chartBox.clientWidth, height: 140 }); });
  resize.observe(cardsBox);
  requestRender();

  return {
    show() { visible = true; requestRender(); },
    hide() { visible = false; },
    dispose() {
      for (const off of offs) off();
      release();
      stop();
      resize.disconnect();
      for (const c of cards.values()) c.plot?.destroy();
      root.replaceChildren();
    },
  };
}
