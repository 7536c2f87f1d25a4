/**
 * The Trading panel (with an API key entered in the page): the account's open orders (cancel,
 * modify), fills, positions and P&L, and an order ticket (symbol, side, type, time in force, price,
 * quantity) — all over the signed HTTP API (docs/protocol.md "HTTP"), refreshed every 2 s while
 * visible and right after each of the account's execution reports on the live session.
 *
 * Layout: ticket (form#ticket, result in #ticket-result) · open orders (#open-orders, one row per
 * order with data-order-id / data-client-order-id, a Modify and a Cancel button) · positions
 * (#positions) · fills (#fills).
 * Invariants: a refused request shows the API's reject reason by name (`would_cross`,
 * `bad_price`, `forbidden`, …: ApiError.error) in #ticket-result or the row's status, with
 * data-error set to it; a new order gets a fresh clientOrderId (`web-<time>-<n>`, the API's
 * pattern); nothing is sent without a key.
 * Complexity: O(orders + fills + positions) per refresh. Allocation: the rows per refresh.
 * Known limitations: the fills table shows the newest 50 (read forward from a cursor, at most
 * 20,000 new fills per refresh); the tables are re-read, not patched from the reports.
 */
import { ApiError, describeError } from '../api.js';
import { fillRows, h, table } from '../dom.js';
import { addDecimals } from '../format.js';
import type { DashboardContext, Panel } from '../types.js';

interface Order { orderId: string; clientOrderId: string; symbol: string; side: 'buy' | 'sell'; price: string | null; qty: string; leaves: string; filled: string; status: string; avgPrice?: string | null }
interface Position { symbol: string; qty: string; avgEntryPrice: string | null; mark: string | null; realisedPnl: string; unrealisedPnl: string }
interface Fill { seq: number; tradeId: number; symbol: string; orderId: string; clientOrderId: string; side: string; price: string; qty: string; leaves: string; liquidity: string; ts: string }

const FILLS_SHOWN = 50;
let orderCounter = 0;

export function mount(root: HTMLElement, ctx: DashboardContext): Panel {
  const { api, fmt } = ctx;
  const symbols = ctx.instruments.map((i) => i.symbol);

  const noKey = h('p', { class: 'note', id: 'trading-no-key' }, 'Enter an API key (top right) to see your orders, fills and positions and to trade. `tradsys serve` prints a demo key; the secret stays in this page\'s memory only.');

  // ---- ticket ----
  const sym = h('select', { id: 'ticket-symbol', name: 'symbol' }, ...symbols.map((s) => h('option', { value: s }, s)));
  const side = h('select', { id: 'ticket-side', name: 'side' }, h('option', { value: 'buy' }, 'buy'), h('option', { value: 'sell' }, 'sell'));
  const type = h('select', { id: 'ticket-type', name: 'type' }, h('option', { value: 'limit' }, 'limit'), h('option', { value: 'market' }, 'market'));
  const tif = h('select', { id: 'ticket-tif', name: 'tif' }, ...['gtc', 'ioc', 'fok', 'post_only'].map((t) => h('option', { value: t }, t)));
  const price = h('input', { id: 'ticket-price', name: 'price', type: 'text', inputmode: 'decimal', autocomplete: 'off', placeholder: 'price', required: true });
  const qty = h('input', { id: 'ticket-qty', name: 'qty', type: 'text', inputmode: 'decimal', autocomplete: 'off', placeholder: 'quantity', required: true });
  const submit = h('button', { type: 'submit', id: 'ticket-submit' }, 'Place order');
  const result = h('p', { id: 'ticket-result', role: 'status', 'aria-live': 'polite', class: 'result' });
  const hint = h('span', { class: 'hint', id: 'ticket-hint' });
  const field = (label: string, el: HTMLElement): HTMLElement => h('label', { class: 'field' }, h('span', {}, label), el);
  const ticket = h('form', { id: 'ticket', class: 'ticket', 'aria-label': 'Order ticket', novalidate: true },
    field('Symbol', sym), field('Side', side), field('Type', type), field('Time in force', tif), field('Price', price), field('Quantity', qty), submit, hint);
  const showHint = (): void => {
    const i = fmt.instrument(sym.value);
    hint.textContent = i ? `tick ${i.tickSize} · lot ${i.lotSize} · qty ${i.minQty}…${i.maxQty}` : '';
    price.disabled = type.value === 'market';
    if (type.value === 'market') price.value = '';
  };
  sym.addEventListener('change', showHint);
  type.addEventListener('change', showHint);
  showHint();

  const showOutcome = (el: HTMLElement, ok: boolean, text: string, error?: string): void => {
    el.textContent = text;
    el.classList.toggle('error', !ok);
    el.classList.toggle('ok', ok);
    if (error) el.dataset.error = error; else delete el.dataset.error;
  };

  ticket.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body: Record<string, string> = {
      clientOrderId: `web-${Date.now().toString(36)}-${++orderCounter}`, symbol: sym.value, side: side.value, type: type.value, tif: tif.value, qty: qty.value.trim(),
    };
    if (type.value === 'limit') body.price = price.value.trim();
    submit.disabled = true;
    showOutcome(result, true, 'sending…');
    api.send<Order & { seq?: number }>('POST', '/api/v1/orders', body).then((o) => {
      showOutcome(result, true, `order ${o.orderId} (${o.clientOrderId}): ${o.status} · ${o.side} ${fmt.qty(o.symbol, o.qty)} ${o.symbol}${o.price ? ` @ ${fmt.price(o.symbol, o.price)}` : ''} · filled ${fmt.qty(o.symbol, o.filled)}`);
      result.dataset.orderId = o.orderId;
      refreshSoon();
    }, (e: unknown) => {
      showOutcome(result, false, `rejected: ${describeError(e)}`, e instanceof ApiError ? e.error : 'error');
      delete result.dataset.orderId;
    }).finally(() => { submit.disabled = false; });
  });

  // ---- tables ----
  const orders = table('orders', ['Order', 'Client id', 'Symbol', 'Side', 'Price', 'Qty', 'Leaves', 'Filled', 'Status', 'Actions'], 'Open orders');
  orders.table.id = 'open-orders';
  const positions = table('positions', ['Symbol', 'Position', 'Avg entry', 'Mark', 'Realised P&L', 'Unrealised P&L', 'Total P&L'], 'Positions');
  positions.table.id = 'positions';
  const fills = table('fills', ['Time (UTC)', 'Symbol', 'Side', 'Price', 'Qty', 'Leaves', 'Liquidity', 'Order'], 'Fills');
  fills.table.id = 'fills';
  const pnlTotal = h('span', { id: 'pnl-total', class: 'pnl' });
  const body = h('div', { class: 'trading-grid', hidden: true },
    h('div', { class: 'card' }, h('h2', {}, 'Order ticket'), ticket, result),
    h('div', { class: 'card' }, h('h2', {}, 'Open orders'), orders.table),
    h('div', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Positions and P&L'), pnlTotal), positions.table),
    h('div', { class: 'card' }, h('h2', {}, `Fills (last ${FILLS_SHOWN})`), fills.table));
  root.append(noKey, body);

  let editing: string | null = null; // the order id whose modify form is open

  const orderRow = (o: Order): HTMLTableRowElement[] => {
    const status = h('span', { class: 'row-status' });
    const cancel = h('button', { type: 'button', class: 'small danger', 'aria-label': `Cancel order ${o.orderId}`, 'data-action': 'cancel' }, 'Cancel');
    const modify = h('button', { type: 'button', class: 'small', 'aria-label': `Modify order ${o.orderId}`, 'data-action': 'modify', 'aria-expanded': String(editing === o.orderId) }, 'Modify');
    cancel.addEventListener('click', () => {
      cancel.disabled = true;
      showOutcome(status, true, 'cancelling…');
      api.send<Order>('DELETE', `/api/v1/orders/${o.orderId}`).then((x) => { showOutcome(status, true, x.status); refreshSoon(); },
        (e: unknown) => { cancel.disabled = false; showOutcome(status, false, describeError(e), e instanceof ApiError ? e.error : 'error'); });
    });
    modify.addEventListener('click', () => { editing = editing === o.orderId ? null : o.orderId; void refresh(); });
    const tr = h('tr', { 'data-order-id': o.orderId, 'data-client-order-id': o.clientOrderId },
      h('td', {}, o.orderId), h('td', {}, o.clientOrderId), h('td', {}, o.symbol), h('td', { class: o.side === 'buy' ? 'up' : 'down' }, o.side),
      h('td', { class: 'num' }, fmt.price(o.symbol, o.price)), h('td', { class: 'num' }, fmt.qty(o.symbol, o.qty)), h('td', { class: 'num' }, fmt.qty(o.symbol, o.leaves)),
      h('td', { class: 'num' }, fmt.qty(o.symbol, o.filled)), h('td', {}, o.status), h('td', { class: 'actions' }, modify, cancel, status));
    if (editing !== o.orderId) return [tr];
    const np = h('input', { type: 'text', inputmode: 'decimal', value: o.price ?? '', 'aria-label': `New price of order ${o.orderId}`, class: 'modify-price' });
    const nq = h('input', { type: 'text', inputmode: 'decimal', value: o.leaves, 'aria-label': `New quantity (leaves) of order ${o.orderId}`, class: 'modify-qty' });
    const save = h('button', { type: 'submit', class: 'small' }, 'Save');
    const mstatus = h('span', { class: 'row-status', role: 'status' });
    const form = h('form', { class: 'modify', novalidate: true, 'aria-label': `Modify order ${o.orderId}` }, h('label', {}, 'price ', np), h('label', {}, 'qty ', nq), save,
      h('button', { type: 'button', class: 'small', onclick: () => { editing = null; void refresh(); } }, 'Close'), mstatus);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      save.disabled = true;
      api.send<Order>('PATCH', `/api/v1/orders/${o.orderId}`, { price: np.value.trim(), qty: nq.value.trim() }).then(() => { editing = null; refreshSoon(); },
        (e: unknown) => { save.disabled = false; showOutcome(mstatus, false, describeError(e), e instanceof ApiError ? e.error : 'error'); });
    });
    queueMicrotask(() => np.focus());
    return [tr, h('tr', { class: 'modify-row', 'data-modify-for': o.orderId }, h('td', { colspan: 10 }, form))];
  };

  // fills: read forward from a cursor (GET /api/v1/fills pages oldest first), the newest kept
  let fillCursor: number | null = null;
  let lastFills: Fill[] = [];
  let fillsOf: string | null = null;
  const newFills = async (): Promise<Fill[]> => {
    const key = ctx.keys.current?.key ?? null;
    if (key !== fillsOf) { fillsOf = key; fillCursor = null; lastFills = []; }
    for (let page = 0; page < 20; page++) {
      const r = await api.get<{ fills: Fill[]; nextAfterSeq: number | null }>(`/api/v1/fills?limit=1000${fillCursor === null ? '' : `&afterSeq=${fillCursor}`}`, { signed: true });
      lastFills = [...lastFills, ...r.fills].slice(-FILLS_SHOWN);
      if (r.nextAfterSeq !== null) fillCursor = r.nextAfterSeq;
      if (r.fills.length < 1000) break;
    }
    return lastFills.slice().reverse();
  };

  let refreshing: Promise<void> | null = null;
  const refresh = async (): Promise<void> => {
    const key = ctx.keys.current;
    noKey.hidden = key !== null;
    body.hidden = key === null;
    if (!key) return;
    if (refreshing) return refreshing;
    refreshing = (async () => {
      try {
        const [os, ps, recent] = await Promise.all([
          api.get<Order[]>('/api/v1/orders', { signed: true }),
          api.get<{ positions: Position[] }>('/api/v1/positions', { signed: true }),
          newFills(),
        ]);
        if (editing !== null && !os.some((o) => o.orderId === editing)) editing = null;
        fillRows(orders.body, os.flatMap(orderRow), 10, 'no open orders');
        orders.table.dataset.count = String(os.length);
        const totals: string[] = [];
        fillRows(positions.body, ps.positions.map((p) => {
          const t = addDecimals(p.realisedPnl, p.unrealisedPnl) ?? '0'; // exact: money never goes through a float
          totals.push(t);
          return h('tr', { 'data-symbol': p.symbol }, h('td', {}, p.symbol), h('td', { class: `num ${Number(p.qty) > 0 ? 'up' : Number(p.qty) < 0 ? 'down' : ''}` }, fmt.qty(p.symbol, p.qty)),
            h('td', { class: 'num' }, fmt.price(p.symbol, p.avgEntryPrice)), h('td', { class: 'num' }, fmt.price(p.symbol, p.mark)),
            h('td', { class: 'num' }, fmt.money(p.realisedPnl)), h('td', { class: 'num' }, fmt.money(p.unrealisedPnl)), h('td', { class: `num ${t.startsWith('-') ? 'down' : 'up'}` }, fmt.money(t)));
        }), 7, 'no positions');
        pnlTotal.textContent = ps.positions.length ? `total ${fmt.money(addDecimals('0', ...totals))}` : '';
        fillRows(fills.body, recent.map((f) => h('tr', { 'data-trade-id': f.tradeId },
          h('td', {}, fmt.time(f.ts)), h('td', {}, f.symbol), h('td', { class: f.side === 'buy' ? 'up' : 'down' }, f.side), h('td', { class: 'num' }, fmt.price(f.symbol, f.price)),
          h('td', { class: 'num' }, fmt.qty(f.symbol, f.qty)), h('td', { class: 'num' }, fmt.qty(f.symbol, f.leaves)), h('td', {}, f.liquidity), h('td', {}, f.orderId))), 8, 'no fills yet');
        ctx.clearError('trading');
      } finally { refreshing = null; }
    })();
    return refreshing;
  };
  let soon: ReturnType<typeof setTimeout> | null = null;
  function refreshSoon(): void {
    if (soon) return;
    soon = setTimeout(() => { soon = null; refresh().catch((e: unknown) => ctx.reportError('trading', e)); }, 100);
  }

  const offs = [
    ...['ack', 'fill', 'cancelled', 'modified', 'reject'].map((t) => ctx.live.on(t, refreshSoon)),
    ctx.keys.onChange(() => refreshSoon()),
  ];
  const stop = ctx.every('trading', 2000, refresh);
  return {
    show() { refreshSoon(); },
    hide() { /* the poller pauses itself */ },
    dispose() { for (const off of offs) off(); stop(); root.replaceChildren(); },
  };
}
