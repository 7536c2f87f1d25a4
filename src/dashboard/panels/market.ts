/**
 * The Market panel: per symbol a depth ladder (price, size, own orders marked when a key is
 * entered) and a depth chart (uPlot), kept live from the binary WebSocket book channel through
 * client/core's LocalBook (snapshot plus deltas, gap detection, CRC-32 checksum, resync); the
 * trades tape (trades channel, seeded from GET /api/v1/trades); candles from ClickHouse bars
 * (GET /api/v1/bars, intervals 1s 1m 5m 1h 1d; lightweight-charts).
 *
 * Layout: toolbar (symbol, best bid/ask, spread, book state) · ladder | charts (depth, candles) | tape.
 * The ladder's element (`#ladder`) carries the displayed book's state for people and tests:
 * data-symbol, data-seq (the book sequence shown), data-synced, data-resyncs (gaps or checksum
 * failures seen, summed over reconnects), data-updates (book messages received for the symbol),
 * data-levels (price levels changed by those deltas), data-frames (ladder renders); each row data-side, data-price, data-qty (the server's exact texts)
 * and data-own (own resting quantity at that price).
 * Invariants: every render happens in an animation frame (ctx.frames): N updates between two
 * frames render once; the rows shown are the LocalBook's best LADDER_DEPTH levels per side at
 * data-seq; while the book is resyncing the ladder says so (data-synced="false") and keeps the
 * last good levels.
 * Complexity: a render O(L log L) for the side's L levels (LocalBook.levels sorts), plus
 * O(LADDER_DEPTH) DOM writes on rows reused from frame to frame. Allocation: the sorted level lists
 * per render; the depth chart's arrays at most every DEPTH_CHART_MS.
 * Known limitations: own orders come from GET /api/v1/orders (polled every 2 s and after each of
 * the account's reports), not from the book feed; candles refresh by polling.
 */
import { CandlestickSeries, HistogramSeries, createChart, type IChartApi, type ISeriesApi, type UTCTimestamp } from 'lightweight-charts';
import uPlot from 'uplot';
import type { LocalBook, Msg } from '../../client/core/index.js';
import { ApiError } from '../api.js';
import { h, table } from '../dom.js';
import type { BookHandle, DashboardContext, Panel } from '../types.js';

export const LADDER_DEPTH = 15;
const DEPTH_CHART_LEVELS = 50;
const DEPTH_CHART_MS = 250;
const TAPE_ROWS = 28; // fits beside the ladder at 1280×800
/** The bar intervals GET /api/v1/bars accepts (src/storage/queries.ts BAR_INTERVALS), with their length in s. */
export const BAR_INTERVALS: readonly [string, number][] = [['1s', 1], ['1m', 60], ['5m', 300], ['1h', 3600], ['1d', 86400]];
const BARS_SHOWN = 240;

interface OwnOrder { orderId: string; symbol: string; side: 'buy' | 'sell'; price: string | null; leaves: string; status: string }
interface TradeMsg { tradeId: number; price: string; qty: string; takerSide: string; ts: string | number }
interface BarRow { ts: string | number; open: string; high: string; low: string; close: string; volume: string }

export function mount(root: HTMLElement, ctx: DashboardContext): Panel {
  const { fmt, frames, live, api } = ctx;
  const symbols = ctx.instruments.map((i) => i.symbol);
  let symbol = symbols[0] ?? '';
  let visible = false;

  // ---- toolbar ----
  const select = h('select', { id: 'market-symbol', 'aria-label': 'Symbol' }, ...symbols.map((s) => h('option', { value: s }, s)));
  const best = h('span', { class: 'best', id: 'market-best', 'aria-live': 'off' }, '—');
  const bookState = h('span', { class: 'book-state', id: 'market-book-state' }, 'waiting for the book…');
  root.append(h('div', { class: 'toolbar' }, h('label', { for: 'market-symbol' }, 'Symbol '), select, best, bookState));

  // ---- ladder ----
  const ladderBody = h('tbody');
  const ladder = h('table', { class: 'grid ladder', id: 'ladder', 'aria-label': 'Depth ladder', 'data-symbol': symbol, 'data-seq': '-1', 'data-synced': 'false', 'data-resyncs': '0', 'data-updates': '0', 'data-levels': '0', 'data-frames': '0' },
    h('thead', {}, h('tr', {}, h('th', { scope: 'col', title: 'your resting quantity at this price' }, 'Own'), h('th', { scope: 'col' }, 'Bid size'), h('th', { scope: 'col' }, 'Price'), h('th', { scope: 'col' }, 'Ask size'))),
    ladderBody);
  type Row = { tr: HTMLTableRowElement; own: HTMLTableCellElement; bid: HTMLTableCellElement; price: HTMLTableCellElement; ask: HTMLTableCellElement };
  const mkRow = (side: 'ask' | 'bid'): Row => {
    const own = h('td', { class: 'own' }), bid = h('td', { class: 'num bid' }), price = h('td', { class: 'num price' }), ask = h('td', { class: 'num ask' });
    const tr = h('tr', { 'data-side': side }, own, bid, price, ask);
    return { tr, own, bid, price, ask };
  };
  /** An empty level keeps its height (a no-break space), so the ladder does not jump. */
  const clearRow = (r: Row): void => {
    delete r.tr.dataset.price; delete r.tr.dataset.qty; delete r.tr.dataset.own;
    r.price.textContent = '\u00a0'; r.bid.textContent = r.ask.textContent = r.own.textContent = '';
    r.tr.classList.remove('mine');
  };
  const askRows = Array.from({ length: LADDER_DEPTH }, () => mkRow('ask'));
  const bidRows = Array.from({ length: LADDER_DEPTH }, () => mkRow('bid'));
  const spreadRow = h('tr', { class: 'spread' }, h('td', { colspan: 4, id: 'ladder-spread' }, '—'));
  for (const r of [...askRows, ...bidRows]) clearRow(r);
  ladderBody.append(...askRows.slice().reverse().map((r) => r.tr), spreadRow, ...bidRows.map((r) => r.tr));

  // ---- charts ----
  const depthBox = h('div', { class: 'chart depth', id: 'depth-chart', role: 'img', 'aria-label': 'Depth chart: cumulative size by price' });
  const intervalSel = h('select', { id: 'bars-interval', 'aria-label': 'Candle interval' }, ...BAR_INTERVALS.map(([n]) => h('option', { value: n }, n)));
  intervalSel.value = '1m';
  const candleNote = h('p', { class: 'note', id: 'candles-note', hidden: true });
  const candleBox = h('div', { class: 'chart candles', id: 'candles-chart', role: 'img', 'aria-label': 'Candles from ClickHouse bars' });
  const charts = h('div', { class: 'charts' },
    h('div', { class: 'card' }, h('h2', {}, 'Depth'), depthBox),
    h('div', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Candles'), h('label', { for: 'bars-interval' }, 'interval '), intervalSel), candleNote, candleBox));

  // ---- tape ----
  const tape = table('tape', ['Time (UTC)', 'Price', 'Qty', 'Taker'], 'Trades tape');
  tape.table.id = 'tape';
  root.append(h('div', { class: 'market-grid' },
    h('div', { class: 'card ladder-card' }, h('h2', {}, 'Depth ladder'), ladder),
    charts,
    h('div', { class: 'card tape-card' }, h('h2', {}, 'Trades'), tape.table)));

  // ---- state ----
  let handle: BookHandle | null = null;
  let updates = 0;
  let levelChanges = 0;
  let renders = 0;
  let resyncsBefore = 0; // resyncs of LocalBooks replaced by a reconnect
  let lastBook: LocalBook | null = null;
  let own = new Map<string, { bid: number; ask: number }>(); // price text → own leaves per side (lots as numbers for display)
  let trades: TradeMsg[] = [];
  let releaseTrades: (() => void) | null = null;

  const renderLadder = (): void => {
    const b = handle?.book ?? null;
    if (b !== lastBook) { if (lastBook) resyncsBefore += lastBook.resyncs; lastBook = b; }
    renders++;
    ladder.dataset.updates = String(updates);
    ladder.dataset.levels = String(levelChanges);
    ladder.dataset.frames = String(renders);
    ladder.dataset.resyncs = String(resyncsBefore + (b?.resyncs ?? 0));
    if (!b) { ladder.dataset.synced = 'false'; bookState.textContent = live.state === 'open' ? 'subscribing…' : 'disconnected'; return; }
    ladder.dataset.synced = String(b.synced);
    bookState.textContent = b.synced ? `seq ${b.seq} · ${updates} updates · ${renders} renders` : 'resyncing (gap or checksum mismatch)…';
    bookState.dataset.synced = String(b.synced);
    if (!b.synced) return; // keep the last good levels on screen
    ladder.dataset.seq = String(b.seq);
    const asks = b.levels('asks', LADDER_DEPTH);
    const bids = b.levels('bids', LADDER_DEPTH);
    const put = (rows: Row[], levels: [string, string][], side: 'ask' | 'bid'): void => {
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        const lv = levels[i];
        if (!lv) {
          if (r.tr.dataset.price !== undefined) clearRow(r);
          continue;
        }
        const [p, q] = lv;
        if (r.tr.dataset.price !== p) { r.tr.dataset.price = p; r.price.textContent = fmt.price(symbol, p); }
        if (r.tr.dataset.qty !== q) { r.tr.dataset.qty = q; (side === 'ask' ? r.ask : r.bid).textContent = fmt.qty(symbol, q); }
        const mine = own.get(p)?.[side] ?? 0;
        const ownText = mine > 0 ? `● ${mine}` : '';
        if (r.own.textContent !== ownText) { r.own.textContent = ownText; r.tr.classList.toggle('mine', mine > 0); if (mine > 0) r.tr.dataset.own = String(mine); else delete r.tr.dataset.own; }
      }
    };
    put(askRows, asks, 'ask');
    put(bidRows, bids, 'bid');
    const bb = bids[0], ba = asks[0];
    const spread = bb && ba ? (Number(ba[0]) - Number(bb[0])) : null;
    const tick = Number(fmt.instrument(symbol)?.tickSize ?? '1');
    spreadRow.firstElementChild!.textContent = spread === null ? 'one-sided book' : `spread ${fmt.price(symbol, spread.toFixed(decimals(tick)))} (${Math.round(spread / tick)} ticks)`;
    best.textContent = `${bb ? `${fmt.qty(symbol, bb[1])} @ ${fmt.price(symbol, bb[0])}` : '—'}  ×  ${ba ? `${fmt.price(symbol, ba[0])} @ ${fmt.qty(symbol, ba[1])}` : '—'}`;
    if (performance.now() - depthDrawn >= DEPTH_CHART_MS) drawDepth(b);
    else if (!depthPending) { depthPending = true; setTimeout(() => { depthPending = false; frames.request(depthKey, () => { const x = handle?.book; if (x?.synced) drawDepth(x); }); }, DEPTH_CHART_MS); }
  };
  const ladderKey = {};
  const depthKey = {};
  const onBook = (m: Msg): void => {
    if (m.symbol !== symbol) return;
    updates++;
    if (m.type === 'bookDelta') levelChanges += (m.bids as unknown[]).length + (m.asks as unknown[]).length;
    frames.request(ladderKey, renderLadder);
  };

  // ---- depth chart (uPlot) ----
  let depthPlot: uPlot | null = null;
  let depthDrawn = -Infinity;
  let depthPending = false;
  const depthData = (b: LocalBook): uPlot.AlignedData => {
    const bids = b.levels('bids', DEPTH_CHART_LEVELS), asks = b.levels('asks', DEPTH_CHART_LEVELS);
    const xs: number[] = [], yb: (number | null)[] = [], ya: (number | null)[] = [];
    let cum = 0;
    const bidCum = bids.map(([p, q]) => { cum += Number(q); return [Number(p), cum] as const; }).reverse();
    for (const [p, c] of bidCum) { xs.push(p); yb.push(c); ya.push(null); }
    cum = 0;
    for (const [p, q] of asks) { cum += Number(q); xs.push(Number(p)); yb.push(null); ya.push(cum); }
    return [xs, yb, ya];
  };
  const drawDepth = (b: LocalBook): void => {
    depthDrawn = performance.now();
    const data = depthData(b);
    if (!depthPlot) {
      if (depthBox.clientWidth === 0) return;
      const stepped = uPlot.paths.stepped!({ align: 1 });
      depthPlot = new uPlot({
        width: depthBox.clientWidth, height: 200, legend: { show: false }, cursor: { drag: { x: false, y: false } },
        scales: { x: { time: false } },
        axes: [{ stroke: '#9fb0c0', grid: { stroke: '#22303c' } }, { stroke: '#9fb0c0', grid: { stroke: '#22303c' }, size: 60 }],
        series: [{}, { label: 'bids', stroke: '#2fbf71', fill: 'rgba(47,191,113,0.2)', paths: stepped, spanGaps: false, points: { show: false } },
          { label: 'asks', stroke: '#ef5350', fill: 'rgba(239,83,80,0.2)', paths: stepped, spanGaps: false, points: { show: false } }],
      }, data, depthBox);
    } else depthPlot.setData(data);
  };

  // ---- trades tape ----
  const renderTape = (): void => {
    const rows = trades.slice(0, TAPE_ROWS).map((t) => h('tr', { class: t.takerSide === 'buy' ? 'up' : 'down', 'data-trade-id': t.tradeId },
      h('td', {}, fmt.time(t.ts)), h('td', { class: 'num' }, fmt.price(symbol, t.price)), h('td', { class: 'num' }, fmt.qty(symbol, t.qty)), h('td', {}, t.takerSide)));
    if (rows.length === 0) rows.push(h('tr', { class: 'empty' }, h('td', { colspan: 4 }, 'no trades yet')));
    tape.body.replaceChildren(...rows);
  };
  const tapeKey = {};
  const onTrade = (m: Msg): void => {
    if (m.symbol !== symbol) return;
    const t = m as unknown as TradeMsg;
    if (trades.length && trades[0]!.tradeId >= t.tradeId && trades.some((x) => x.tradeId === t.tradeId)) return;
    trades.unshift(t);
    if (trades.length > TAPE_ROWS * 2) trades.length = TAPE_ROWS;
    frames.request(tapeKey, renderTape);
  };
  const loadTrades = async (sym: string): Promise<void> => {
    const list = await api.get<TradeMsg[]>(`/api/v1/trades/${encodeURIComponent(sym)}`);
    if (sym !== symbol) return;
    const seen = new Set(trades.map((t) => t.tradeId));
    trades = [...trades, ...list.filter((t) => !seen.has(t.tradeId))].sort((a, b) => b.tradeId - a.tradeId).slice(0, TAPE_ROWS * 2);
    frames.request(tapeKey, renderTape);
  };

  // ---- candles (lightweight-charts) ----
  let chart: IChartApi | null = null;
  let candles: ISeriesApi<'Candlestick'> | null = null;
  let volume: ISeriesApi<'Histogram'> | null = null;
  const ensureChart = (): void => {
    if (chart || candleBox.clientWidth === 0) return;
    chart = createChart(candleBox, {
      width: candleBox.clientWidth, height: 260, layout: { background: { color: '#111a22' }, textColor: '#c8d3dd', attributionLogo: false },
      grid: { vertLines: { color: '#1c2833' }, horzLines: { color: '#1c2833' } }, timeScale: { timeVisible: true, secondsVisible: true },
      rightPriceScale: { borderColor: '#2a3a48' },
    });
    candles = chart.addSeries(CandlestickSeries, { upColor: '#2fbf71', downColor: '#ef5350', borderVisible: false, wickUpColor: '#2fbf71', wickDownColor: '#ef5350' });
    volume = chart.addSeries(HistogramSeries, { priceScaleId: 'vol', priceFormat: { type: 'volume' }, color: 'rgba(120,144,156,0.5)' });
    chart.priceScale('vol').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  };
  let barsFor = '';
  let barsAt = -Infinity;
  /** Whether the server has storage (GET /health names it): without, the bars route does not exist. */
  let storage: Promise<boolean> | null = null;
  const loadBars = async (): Promise<void> => {
    storage ??= api.get<{ storage?: unknown }>('/health').then((x) => x.storage !== undefined, (e: unknown) => { storage = null; throw e; });
    if (!(await storage)) {
      candleNote.hidden = false;
      candleNote.textContent = 'Candles come from ClickHouse bars: this server runs without storage (--no-storage).';
      candleNote.dataset.reason = 'no_storage';
      return;
    }
    const interval = intervalSel.value;
    const secs = BAR_INTERVALS.find(([n]) => n === interval)?.[1] ?? 60;
    const fromNs = (BigInt(Date.now()) - BigInt(secs * BARS_SHOWN * 1000)) * 1_000_000n;
    const sym = symbol;
    let res: { bars: BarRow[] };
    try {
      res = await api.get<{ bars: BarRow[] }>(`/api/v1/bars/${encodeURIComponent(sym)}?interval=${interval}&from=${fromNs}`);
    } catch (e) {
      if (e instanceof ApiError && e.error.startsWith('ERR_STORAGE')) {
        candleNote.hidden = false;
        candleNote.textContent = `Candles unavailable: ${e.describe()}`;
        candleNote.dataset.reason = e.error;
        return;
      }
      throw e;
    }
    if (sym !== symbol || interval !== intervalSel.value) return;
    candleNote.hidden = res.bars.length > 0;
    candleNote.textContent = res.bars.length ? '' : `No ${interval} bars for ${sym} yet (bars come from trades stored in ClickHouse).`;
    ensureChart();
    if (!candles || !volume || !chart) return;
    const t = (ts: string | number): UTCTimestamp => Math.floor(Number(BigInt(String(ts)) / 1_000_000_000n)) as UTCTimestamp;
    candles.setData(res.bars.map((b) => ({ time: t(b.ts), open: Number(b.open), high: Number(b.high), low: Number(b.low), close: Number(b.close) })));
    volume.setData(res.bars.map((b) => ({ time: t(b.ts), value: Number(b.volume), color: Number(b.close) >= Number(b.open) ? 'rgba(47,191,113,0.4)' : 'rgba(239,83,80,0.4)' })));
    barsAt = performance.now();
    candleBox.dataset.bars = String(res.bars.length);
    candleBox.dataset.interval = interval;
    const key = `${sym}/${interval}`;
    if (barsFor !== key) { chart.timeScale().fitContent(); barsFor = key; }
    ctx.clearError('candles');
  };

  // ---- own orders ----
  const loadOwn = async (): Promise<void> => {
    if (!ctx.keys.current) { if (own.size) { own = new Map(); frames.request(ladderKey, renderLadder); } return; }
    const list = await api.get<OwnOrder[]>('/api/v1/orders', { signed: true });
    const next = new Map<string, { bid: number; ask: number }>();
    for (const o of list) {
      if (o.symbol !== symbol || o.price === null) continue;
      const e = next.get(o.price) ?? { bid: 0, ask: 0 };
      e[o.side === 'buy' ? 'bid' : 'ask'] += Number(o.leaves);
      next.set(o.price, e);
    }
    own = next;
    frames.request(ladderKey, renderLadder);
  };
  let ownTimer: ReturnType<typeof setTimeout> | null = null;
  const ownSoon = (): void => {
    if (ownTimer || !ctx.keys.current) return;
    ownTimer = setTimeout(() => { ownTimer = null; loadOwn().catch((e: unknown) => ctx.reportError('own orders', e)); }, 150);
  };

  // ---- symbol switching ----
  const watch = (sym: string): void => {
    handle?.release();
    releaseTrades?.();
    if (lastBook) { resyncsBefore = 0; lastBook = null; }
    symbol = sym;
    select.value = sym;
    updates = 0;
    levelChanges = 0;
    renders = 0;
    trades = [];
    own = new Map();
    ladder.dataset.symbol = sym;
    ladder.dataset.seq = '-1';
    ladder.dataset.synced = 'false';
    for (const r of [...askRows, ...bidRows]) clearRow(r);
    handle = live.book(sym);
    releaseTrades = live.subscribe([`trades.${sym}`]);
    renderTape();
    frames.request(ladderKey, renderLadder);
    loadTrades(sym).catch((e: unknown) => ctx.reportError('trades', e));
    if (visible) {
      loadBars().catch((e: unknown) => ctx.reportError('candles', e));
      loadOwn().catch((e: unknown) => ctx.reportError('own orders', e));
    }
  };
  select.addEventListener('change', () => watch(select.value));
  intervalSel.addEventListener('change', () => loadBars().catch((e: unknown) => ctx.reportError('candles', e)));

  const offs = [
    live.on('book', onBook), live.on('bookDelta', onBook), live.on('trade', onTrade),
    ...['ack', 'fill', 'cancelled', 'modified'].map((t) => live.on(t, ownSoon)),
    live.onState((s) => { if (s === 'open') { frames.request(ladderKey, renderLadder); loadTrades(symbol).catch((e: unknown) => ctx.reportError('trades', e)); } }),
    ctx.keys.onChange(() => { loadOwn().catch((e: unknown) => ctx.reportError('own orders', e)); }),
  ];
  const stops = [
    ctx.every('market', 2000, loadOwn),
    // candles: every 5 s for 1s and 1m bars, every 30 s for the longer ones
    ctx.every('market', 5000, async () => {
      const secs = BAR_INTERVALS.find(([n]) => n === intervalSel.value)?.[1] ?? 60;
      if (secs <= 60 || performance.now() - barsAt >= 30_000) await loadBars();
    }),
  ];
  const resize = new ResizeObserver(() => {
    if (depthPlot && depthBox.clientWidth > 0) depthPlot.setSize({ width: depthBox.clientWidth, height: 200 });
    if (chart && candleBox.clientWidth > 0) chart.applyOptions({ width: candleBox.clientWidth });
  });
  resize.observe(depthBox);
  resize.observe(candleBox);
  watch(symbol);

  return {
    show() {
      visible = true;
      frames.request(ladderKey, renderLadder);
      ensureChart();
      loadBars().catch((e: unknown) => ctx.reportError('candles', e));
    },
    hide() { visible = false; },
    dispose() {
      for (const off of offs) off();
      for (const stop of stops) stop();
      resize.disconnect();
      handle?.release();
      releaseTrades?.();
      depthPlot?.destroy();
      chart?.remove();
      root.replaceChildren();
    },
  };
}

function decimals(tick: number): number {
  const s = String(tick);
  const i = s.indexOf('.');
  return i < 0 ? 0 : s.length - i - 1;
}
