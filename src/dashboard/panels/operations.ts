/**
 * The Operations panel: per-stage latency percentiles (GET /api/v1/latency every second, window
 * `minute` or `start`) and the selected stage's histogram (GET /api/v1/latency/histogram?stage=S
 * every 2 s and on a change of stage: counts per 1-2-5 bucket, uPlot bars), memory, event-loop delay, ring fill and storage writer lag (GET
 * /api/v1/resources, with a rolling chart of memory and of event-loop delay), and the alerts
 * pending or firing (GET /api/v1/alerts with an admin key, kept live by the JSON `alerts`
 * channel through admin-feed.ts). docs/monitoring.md has what each figure measures.
 *
 * Layout: latency card (#latency-window, table #latency: a row per stage the API returns, in its
 * order, `tr[data-stage]` with data-count; histogram #latency-histogram with its stage select
 * #histogram-stage) | resources card (tiles `[data-figure]` in #resources, the charts
 * #memory-chart and #loop-chart) · alerts card (#alerts: rows `tr[data-rule]`, #alerts-note).
 * Invariants: the public figures need no key; every render runs in an animation frame; the
 * latency table shows exactly the stages and figures of the last answer (µs, `—` for no data);
 * the histogram's bars are the answer's counts (their sum is the stage's count).
 * Complexity: O(stages × buckets) per refresh. Allocation: the answers; one sample per resource
 * refresh (RESOURCE_POINTS kept).
 * Known limitations: the rolling charts start when the panel is first shown and pause while
 * another tab is; alerts need an admin key (the route and the channel are the admin's).
 */
import uPlot from 'uplot';
import type { Msg } from '../../client/core/index.js';
import { ApiError, describeError } from '../api.js';
import { adminFeed } from '../admin-feed.js';
import { h, fillRows, table } from '../dom.js';
import type { DashboardContext, Panel } from '../types.js';

interface Figures { count: number; p50: number | null; p90: number | null; p99: number | null; p999: number | null; max: number | null }
interface LatencyAnswer { unit: 'us'; windowSeconds: { minute: number }; stages: Record<string, { minute: Figures; start: Figures }> }
interface HistogramAnswer { unit: 'us'; boundsUs: number[]; stages: Record<string, { minute: { count: number; counts: number[] }; start: { count: number; counts: number[] } }> }
interface Resources {
  ts: number;
  memory: { main: { heapUsedBytes: number; heapTotalBytes: number; externalBytes: number; arrayBuffersBytes: number }; rssBytes: number;
    engine: { heapUsedBytes: number; wasmBytes: number; orders: { capacity: number; inUse: number; highWater: number }; levels: { capacity: number; inUse: number; highWater: number } } | null;
    storageWriter: { heapUsedBytes: number } | null };
  eventLoopDelay: { main: { p99Seconds: number; maxSeconds: number }; engine: { maxSeconds: number } | null; storageWriter: { p99Seconds: number } | null };
  rings: { command: number; event: number };
  storageWriter: { up: boolean; lagSeconds: number; lagSeq: number; queueRows: number; spilledBytes: number; rowsPerSecond: number; errors: number } | null;
}
interface Alert { rule: string; state: string; severity: string; value: number | null; op: string; threshold: number; subject: string; description: string; activeSince: string; firingSince: string | null; at?: string }

const REFRESH_MS = 1000;
const ALERTS_MS = 5000;
const HISTOGRAM_MS = 2000;
/** Samples kept in the rolling charts: 5 minutes at one a second. */
export const RESOURCE_POINTS = 300;

/** µs as people read them: three significant digits in µs, ms or s (`0.812 µs`, `622 µs`, `24.1 ms`). */
export function fmtUs(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  const [x, unit] = v >= 1e6 ? [v / 1e6, 's'] : v >= 1e3 ? [v / 1e3, 'ms'] : [v, 'µs'];
  return `${x.toFixed(x >= 100 ? 0 : x >= 10 ? 1 : x >= 1 ? 2 : 3)} ${unit}`;
}
/** A metric value in a few characters: `0.0512`, `84.7`, `12.3 k`, `529.6 M`. */
export function compact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(1)} G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)} M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)} k`;
  return String(Math.round(v * 1e4) / 1e4);
}
const mib = (b: number): string => `${(b / 1048576).toFixed(1)} MiB`;
const ms = (s: number): string => `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;
const pct = (x: number): string => `${(x * 100).toFixed(x < 0.01 ? 2 : 1)} %`;

export function mount(root: HTMLElement, ctx: DashboardContext): Panel {
  const { api, frames } = ctx;
  const feed = adminFeed(ctx);
  let visible = false;

  // ---- latency ----
  const windowSel = h('select', { id: 'latency-window', 'aria-label': 'Latency window' }, h('option', { value: 'minute' }, 'last minute'), h('option', { value: 'start' }, 'since start'));
  const lat = table('latency', ['Stage', 'Count', 'p50', 'p90', 'p99', 'p99.9', 'Max'], 'Latency per stage');
  lat.table.id = 'latency';
  const stageSel = h('select', { id: 'histogram-stage', 'aria-label': 'Histogram of stage' });
  const histBox = h('div', { class: 'chart histogram', id: 'latency-histogram', role: 'img', 'aria-label': 'Latency histogram of the selected stage: count per bucket' });
  const histNote = h('p', { class: 'note', id: 'histogram-note' });
  const latencyCard = h('section', { class: 'card', 'aria-label': 'Latency' },
    h('div', { class: 'card-head' }, h('h2', {}, 'Latency per stage'), h('label', { for: 'latency-window' }, 'window '), windowSel),
    lat.table,
    h('div', { class: 'card-head histogram-head' }, h('h2', {}, 'Histogram'), h('label', { for: 'histogram-stage' }, 'stage '), stageSel), histNote, histBox);

  // ---- resources ----
  const tiles = h('div', { class: 'tiles', id: 'resources' });
  const memBox = h('div', { class: 'chart rolling', id: 'memory-chart', role: 'img', 'aria-label': 'Memory over time: RSS and main-thread heap, MiB' });
  const loopBox = h('div', { class: 'chart rolling', id: 'loop-chart', role: 'img', 'aria-label': 'Event-loop delay over time: main thread p99 and engine loop longest turn, ms' });
  const resCard = h('section', { class: 'card', 'aria-label': 'Resources' }, h('h2', {}, 'Memory, event loop, rings, storage'), tiles,
    h('div', { class: 'rolling-pair' }, h('div', {}, h('h3', {}, 'Memory (MiB): RSS, heap'), memBox), h('div', {}, h('h3', {}, 'Event-loop delay (ms): main p99, engine max'), loopBox)));

  // ---- alerts ----
  const alertsNote = h('p', { class: 'note', id: 'alerts-note' });
  const alerts = table('alerts', ['State', 'Severity', 'Rule', 'Subject', 'Value', 'Condition', 'Since'], 'Alerts pending or firing');
  alerts.table.id = 'alerts';
  const alertLog = h('ol', { class: 'event-log', id: 'alert-events', 'aria-label': 'Alert transitions, newest first' });
  const alertsCard = h('section', { class: 'card', 'aria-label': 'Alerts' }, h('div', { class: 'card-head' }, h('h2', {}, 'Alerts'), alertsNote), alerts.table, alertLog);

  root.append(h('div', { class: 'ops-grid' }, latencyCard, h('div', { class: 'ops-right' }, resCard, alertsCard)));

  // ---- latency rendering ----
  let latency: LatencyAnswer | null = null;
  let hist: HistogramAnswer | null = null;
  let histPlot: uPlot | null = null;
  const renderLatency = (): void => {
    if (!latency) return;
    const w = windowSel.value as 'minute' | 'start';
    const names = Object.keys(latency.stages);
    fillRows(lat.body, names.map((st) => {
      const f = latency!.stages[st]![w];
      return h('tr', { 'data-stage': st, 'data-count': f.count, class: f.count === 0 ? 'idle' : '' },
        h('th', { scope: 'row', class: 'stage' }, st), h('td', { class: 'num' }, ctx.fmt.int(f.count)),
        h('td', { class: 'num' }, fmtUs(f.p50)), h('td', { class: 'num' }, fmtUs(f.p90)), h('td', { class: 'num' }, fmtUs(f.p99)),
        h('td', { class: 'num' }, fmtUs(f.p999)), h('td', { class: 'num' }, fmtUs(f.max)));
    }), 7, 'no stages');
    lat.table.dataset.window = w;
    lat.table.dataset.stages = String(names.length);
    const have = new Set([...stageSel.options].map((o) => o.value));
    if (names.some((n) => !have.has(n)) || have.size !== names.length) {
      const cur = stageSel.value;
      stageSel.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
      const busiest = names.reduce((a, b) => (latency!.stages[b]!.start.count > latency!.stages[a]!.start.count ? b : a), names[0] ?? '');
      stageSel.value = cur && names.includes(cur) ? cur : (names.includes('order_to_ack') && latency.stages.order_to_ack!.start.count > 0 ? 'order_to_ack' : busiest);
    }
  };
  const renderHistogram = (): void => {
    if (!hist || !visible || histBox.clientWidth === 0) return;
    const st = stageSel.value;
    const w = windowSel.value as 'minute' | 'start';
    const s = hist.stages[st]?.[w];
    if (!s) return;
    // bars over the bucket index; the axis labels are the bucket's upper bound
    let lo = s.counts.findIndex((c) => c > 0);
    let hi = s.counts.length - 1 - [...s.counts].reverse().findIndex((c) => c > 0);
    if (lo < 0) { lo = 0; hi = s.counts.length - 1; }
    lo = Math.max(0, lo - 1);
    hi = Math.min(s.counts.length - 1, hi + 1);
    const xs: number[] = [], ys: number[] = [];
    for (let i = lo; i <= hi; i++) { xs.push(i); ys.push(s.counts[i]!); }
    const bounds = hist.boundsUs;
    const label = (i: number): string => (i < bounds.length ? `≤${fmtUs(bounds[i]!)}` : `>${fmtUs(bounds[bounds.length - 1]!)}`);
    histNote.textContent = s.count === 0 ? `${st}: no values in this window` : `${st}: ${ctx.fmt.int(s.count)} values (${w === 'minute' ? 'last minute' : 'since start'}), count per bucket`;
    histBox.dataset.stage = st;
    histBox.dataset.count = String(s.count);
    histBox.dataset.counts = s.counts.join(',');
    const data: uPlot.AlignedData = [xs, ys];
    if (!histPlot) {
      histPlot = new uPlot({
        width: histBox.clientWidth, height: 180, legend: { show: false }, cursor: { drag: { x: false, y: false } },
        scales: { x: { time: false, range: (_u, mn, mx) => [mn - 0.5, mx + 0.5] } },
        axes: [
          { stroke: '#9fb0c0', grid: { show: false }, values: (_u, vals) => vals.map((v) => (Number.isInteger(v) ? label(v) : '')), size: 40 },
          { stroke: '#9fb0c0', grid: { stroke: '#22303c' }, size: 56 },
        ],
        series: [{}, { label: 'count', stroke: '#4aa3ff', fill: 'rgba(74,163,255,0.5)', paths: uPlot.paths.bars!({ size: [0.8, 60] }), points: { show: false } }],
      }, data, histBox);
    } else histPlot.setData(data);
  };

  // ---- resources rendering ----
  const memT: number[] = [], memRss: number[] = [], memHeap: number[] = [];
  const loopMain: number[] = [], loopEngine: (number | null)[] = [];
  let memPlot: uPlot | null = null, loopPlot: uPlot | null = null;
  let res: Resources | null = null;
  const tile = (id: string, label: string, value: string, sub = '', warn = false): HTMLElement =>
    h('div', { class: `tile${warn ? ' warn' : ''}`, 'data-figure': id }, h('span', { class: 'tile-label' }, label), h('span', { class: 'tile-value num' }, value), sub ? h('span', { class: 'tile-sub' }, sub) : null);
  const rolling = (box: HTMLElement, plot: uPlot | null, data: uPlot.AlignedData, series: uPlot.Series[]): uPlot | null => {
    if (box.clientWidth === 0) return plot;
    if (plot) { plot.setData(data); return plot; }
    return new uPlot({
      width: box.clientWidth, height: 110, legend: { show: false }, cursor: { drag: { x: false, y: false } }, scales: { x: { time: true } },
      axes: [{ stroke: '#9fb0c0', grid: { stroke: '#22303c' } }, { stroke: '#9fb0c0', grid: { stroke: '#22303c' }, size: 50 }],
      series: [{}, ...series],
    }, data, box);
  };
  const renderResources = (): void => {
    if (!res) return;
    const r = res;
    const e = r.memory.engine;
    const sw = r.storageWriter;
    tiles.replaceChildren(
      tile('rss', 'RSS (process)', mib(r.memory.rssBytes)),
      tile('heap', 'Heap, main thread', mib(r.memory.main.heapUsedBytes), `of ${mib(r.memory.main.heapTotalBytes)} · external ${mib(r.memory.main.externalBytes)}`),
      tile('engine-heap', 'Engine thread', e ? mib(e.heapUsedBytes) : '—', e ? `WASM ${mib(e.wasmBytes)} · orders ${ctx.fmt.int(e.orders.inUse)}/${ctx.fmt.int(e.orders.capacity)}` : 'no report yet'),
      tile('loop-main', 'Event-loop delay, main', ms(r.eventLoopDelay.main.p99Seconds), `p99 · max ${ms(r.eventLoopDelay.main.maxSeconds)} (last second)`, r.eventLoopDelay.main.p99Seconds > 0.05),
      tile('loop-engine', 'Engine loop, longest turn', r.eventLoopDelay.engine ? ms(r.eventLoopDelay.engine.maxSeconds) : '—', 'last second', (r.eventLoopDelay.engine?.maxSeconds ?? 0) > 0.25),
      tile('loop-writer', 'Storage writer loop', r.eventLoopDelay.storageWriter ? ms(r.eventLoopDelay.storageWriter.p99Seconds) : '—', r.eventLoopDelay.storageWriter ? 'p99 (last second)' : 'no storage'),
      tile('ring-command', 'Command ring fill', pct(r.rings.command), 'queued for the engine', r.rings.command > 0.5),
      tile('ring-event', 'Event ring fill', pct(r.rings.event), 'slowest reader\'s lag', r.rings.event > 0.75),
      tile('writer-lag', 'Storage writer lag', sw ? `${sw.lagSeconds.toFixed(1)} s` : '—', sw ? `${ctx.fmt.int(sw.lagSeq)} seq behind · ${ctx.fmt.int(sw.queueRows)} rows queued${sw.up ? '' : ' · DOWN'}` : 'storage off', sw !== null && (sw.lagSeconds > 5 || !sw.up)),
    );
    tiles.dataset.ts = String(r.ts);
    if (!visible) return;
    memPlot = rolling(memBox, memPlot, [memT, memRss, memHeap], [
      { label: 'RSS', stroke: '#f0b429', points: { show: false } }, { label: 'heap', stroke: '#4aa3ff', points: { show: false } }]);
    loopPlot = rolling(loopBox, loopPlot, [memT, loopMain, loopEngine], [
      { label: 'main p99', stroke: '#2fbf71', points: { show: false } }, { label: 'engine max', stroke: '#ef5350', points: { show: false } }]);
  };

  // ---- alerts rendering ----
  let active: Alert[] = [];
  let alertsReason = '';
  const renderAlerts = (): void => {
    const ls = feed.channelState('alerts');
    alertsNote.textContent = !ctx.keys.current ? 'enter a key with the admin permission (top right) to see alerts'
      : alertsReason ? alertsReason : ls.state === 'live' ? 'live' : `live channel: ${ls.state}`;
    alertsNote.dataset.state = !ctx.keys.current ? 'no_key' : alertsReason ? 'forbidden' : ls.state;
    fillRows(alerts.body, active.map((a) => h('tr', { 'data-rule': a.rule, 'data-state': a.state, class: `alert ${a.state} ${a.severity}` },
      h('td', {}, a.state), h('td', {}, a.severity), h('td', { title: a.description }, a.rule), h('td', {}, a.subject),
      h('td', { class: 'num', title: a.value === null ? '' : String(a.value) }, a.value === null ? 'no data' : compact(a.value)), h('td', {}, `${a.op} ${compact(a.threshold)}`),
      h('td', {}, (a.firingSince ?? a.activeSince).slice(11, 19)))), 7, ctx.keys.current && !alertsReason ? 'no alert pending or firing' : '—');
    alerts.table.dataset.count = String(active.length);
  };
  const logAlert = (a: Alert): void => {
    alertLog.prepend(h('li', { 'data-rule': a.rule, 'data-state': a.state }, h('time', {}, (a.at ?? '').slice(11, 19)), ` ${a.rule} ${a.state}: ${a.subject} = ${a.value ?? 'no data'} (${a.op} ${a.threshold})`));
    while (alertLog.children.length > 10) alertLog.lastElementChild!.remove();
  };

  // ---- loading ----
  const keyLat = {}, keyRes = {}, keyAlerts = {}, keyHist = {};
  const loadLatency = async (): Promise<void> => {
    latency = await api.get<LatencyAnswer>('/api/v1/latency');
    ctx.clearError('latency');
    frames.request(keyLat, renderLatency);
    if (!hist && stageSel.value === '') renderLatency(); // the stage list comes from the first answer
    if (hist === null || hist.stages[stageSel.value] === undefined) await loadHistogram();
  };
  /** The selected stage's histogram only (`?stage=`: a 1/11 of the server's work). */
  const loadHistogram = async (): Promise<void> => {
    const st = stageSel.value;
    if (st === '') return;
    hist = await api.get<HistogramAnswer>(`/api/v1/latency/histogram?stage=${encodeURIComponent(st)}`);
    frames.request(keyHist, renderHistogram);
  };
  const loadResources = async (): Promise<void> => {
    const r = await api.get<Resources>('/api/v1/resources');
    res = r;
    memT.push(r.ts / 1000);
    memRss.push(r.memory.rssBytes / 1048576);
    memHeap.push(r.memory.main.heapUsedBytes / 1048576);
    loopMain.push(r.eventLoopDelay.main.p99Seconds * 1000);
    loopEngine.push(r.eventLoopDelay.engine ? r.eventLoopDelay.engine.maxSeconds * 1000 : null);
    if (memT.length > RESOURCE_POINTS) for (const a of [memT, memRss, memHeap, loopMain, loopEngine]) a.splice(0, a.length - RESOURCE_POINTS);
    ctx.clearError('resources');
    frames.request(keyRes, renderResources);
  };
  const loadAlerts = async (): Promise<void> => {
    if (!ctx.keys.current) { active = []; alertsReason = ''; frames.request(keyAlerts, renderAlerts); return; }
    try {
      const r = await api.get<{ active: Alert[] }>('/api/v1/alerts', { signed: true });
      active = r.active;
      alertsReason = '';
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 403)) throw e;
      active = [];
      alertsReason = `alerts need a key with the admin permission (${describeError(e)})`;
    }
    frames.request(keyAlerts, renderAlerts);
  };

  windowSel.addEventListener('change', () => { frames.request(keyLat, renderLatency); frames.request(keyHist, renderHistogram); });
  stageSel.addEventListener('change', () => { loadHistogram().catch((e: unknown) => ctx.reportError('latency', e)); });
  const offs = [
    feed.on('alerts', (m: Msg) => { active = (m.active as Alert[]) ?? []; frames.request(keyAlerts, renderAlerts); }),
    feed.on('alert', (m: Msg) => { const a = m.alert as Alert; logAlert(a); loadAlerts().catch((e: unknown) => ctx.reportError('alerts', e)); }),
    feed.onState(() => frames.request(keyAlerts, renderAlerts)),
    ctx.keys.onChange(() => { loadAlerts().catch((e: unknown) => ctx.reportError('alerts', e)); }),
  ];
  const release = feed.hold('alerts');
  const stops = [
    ctx.every('operations', REFRESH_MS, loadLatency),
    ctx.every('operations', HISTOGRAM_MS, loadHistogram),
    ctx.every('operations', REFRESH_MS, loadResources),
    ctx.every('operations', ALERTS_MS, loadAlerts),
  ];
  const resize = new ResizeObserver(() => {
    if (histPlot && histBox.clientWidth > 0) histPlot.setSize({ width: histBox.clientWidth, height: 180 });
    if (memPlot && memBox.clientWidth > 0) memPlot.setSize({ width: memBox.clientWidth, height: 110 });
    if (loopPlot && loopBox.clientWidth > 0) loopPlot.setSize({ width: loopBox.clientWidth, height: 110 });
  });
  for (const b of [histBox, memBox, loopBox]) resize.observe(b);
  frames.request(keyAlerts, renderAlerts);

  return {
    show() { visible = true; frames.request(keyHist, renderHistogram); frames.request(keyRes, renderResources); },
    hide() { visible = false; },
    dispose() {
      for (const off of offs) off();
      for (const s of stops) s();
      release();
      resize.disconnect();
      histPlot?.destroy(); memPlot?.destroy(); loopPlot?.destroy();
      root.replaceChildren();
    },
  };
}
