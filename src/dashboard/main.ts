/**
 * The dashboard shell (the bundle's entry): reads the instruments, opens the live session, builds
 * the header (connection state, server version, API key entry), the tab navigation (Market,
 * Trading, Strategies, Operations, Analysts) and the error area, and mounts each panel on first
 * view with the shared DashboardContext (types.ts; docs/dashboard.md).
 *
 * Layout: header · nav[role=tablist] · main (one section[role=tabpanel] per panel) · footer.
 * The selected tab is the URL's hash (`#trading`), so a link or a reload opens the same panel.
 * Invariants: the secret typed in the page is read once into a non-extractable WebCrypto key and
 * the input is cleared (keys.ts); no inline script or style (the CSP allows neither); errors go to
 * the page's error area, never to the console.
 * Complexity: O(panels) at start. Allocation: the DOM once; per-panel work is the panels'.
 * Known limitations: a panel is mounted on its first view and kept (hidden) afterwards.
 */
import 'uplot/dist/uPlot.min.css';
import './app.css';
import { Instrument } from '../client/core/index.js';
import { HttpApi, describeError } from './api.js';
import { h } from './dom.js';
import { InstrumentFormatter } from './format.js';
import { Frames } from './frames.js';
import { PageKeys } from './keys.js';
import { WsFeed } from './live.js';
import { PANELS } from './panels/index.js';
import type { DashboardContext, InstrumentInfo, Panel, PanelId } from './types.js';

declare const __TRADSYS_DASHBOARD_BUILD__: string;

const app = document.getElementById('app')!;
const version = document.querySelector<HTMLMetaElement>('meta[name="tradsys-version"]')?.content ?? __TRADSYS_DASHBOARD_BUILD__;

// ---- the error area -------------------------------------------------------------------------
const errorList = h('ul', { class: 'errors', id: 'errors', 'aria-live': 'assertive', 'aria-label': 'Errors' });
const errors = new Map<string, HTMLLIElement>();
function reportError(where: string, err: unknown): void {
  const text = describeError(err);
  let li = errors.get(where);
  if (!li) {
    li = h('li', { role: 'alert', 'data-source': where });
    errors.set(where, li);
    errorList.append(li);
  }
  const w = where;
  li.replaceChildren(h('strong', {}, `${where}: `), h('span', { class: 'error-text' }, text),
    h('button', { type: 'button', class: 'link', 'aria-label': `Dismiss the ${where} error`, onclick: () => clearError(w) }, 'dismiss'));
}
function clearError(where: string): void {
  errors.get(where)?.remove();
  errors.delete(where);
}
// nothing reaches the console: uncaught failures are shown in the page
window.addEventListener('error', (ev) => { ev.preventDefault(); reportError('page', ev.error ?? ev.message); });
window.addEventListener('unhandledrejection', (ev) => { ev.preventDefault(); reportError('page', ev.reason); });

async function loadSymbols(api: HttpApi): Promise<InstrumentInfo[]> {
  for (let attempt = 0; ; attempt++) {
    try {
      const list = await api.get<InstrumentInfo[]>('/api/v1/symbols');
      clearError('symbols');
      return list;
    } catch (e) {
      reportError('symbols', e);
      await new Promise((r) => setTimeout(r, Math.min(500 * 2 ** attempt, 8000)));
    }
  }
}

async function start(): Promise<void> {
  const keys = new PageKeys();
  const api = new HttpApi(keys);
  const status = h('span', { class: 'conn', id: 'conn-state', role: 'status', 'aria-live': 'polite', 'data-state': 'connecting' }, 'connecting…');
  const header = h('header', { class: 'top' },
    h('h1', { class: 'brand' }, 'TradSys'),
    h('span', { class: 'version', id: 'server-version', title: 'server version' }, `v${version}`),
    status);
  app.replaceChildren(header, h('p', { class: 'loading' }, 'Loading the instruments…'), errorList);
  const symbols = await loadSymbols(api);

  const byId: Instrument[] = [];
  for (const s of symbols) byId[s.id] = new Instrument(s.id, { symbol: s.symbol, tickSize: s.tickSize, lotSize: s.lotSize });
  const wsUrl = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/ws?protocol=binary`;
  const feed = new WsFeed(wsUrl, byId, keys, reportError, clearError);
  const jsonFeed = new WsFeed(wsUrl.replace('?protocol=binary', ''), byId, keys, reportError, clearError, 'json', true);
  keys.onChange((k) => { if (k) jsonFeed.reauthenticate().catch((e: unknown) => reportError('key', e)); else jsonFeed.logout(); });
  const frames = new Frames(reportError);

  // ---- panels and tabs ------------------------------------------------------------------------
  let active: PanelId = 'market';
  const mounted = new Map<PanelId, Panel>();
  const pollers = new Set<{ panel: PanelId; ms: number; fn: () => Promise<void> | void; timer: ReturnType<typeof setTimeout> | null; running: boolean; stopped: boolean }>();
  const runPoller = (p: typeof pollers extends Set<infer T> ? T : never): void => {
    if (p.stopped || p.running) return;
    if (p.timer) { clearTimeout(p.timer); p.timer = null; }
    if (active !== p.panel) return; // resumes when its tab is shown
    p.running = true;
    Promise.resolve().then(p.fn).catch((e: unknown) => reportError(p.panel, e)).finally(() => {
      p.running = false;
      if (!p.stopped) p.timer = setTimeout(() => runPoller(p), p.ms);
    });
  };

  const ctx: DashboardContext = {
    version, instruments: symbols, api, live: feed, liveJson: jsonFeed, frames, fmt: new InstrumentFormatter(symbols), keys, reportError, clearError,
    every(panel, ms, fn) {
      const p = { panel, ms, fn, timer: null, running: false, stopped: false };
      pollers.add(p);
      runPoller(p);
      return () => { p.stopped = true; if (p.timer) clearTimeout(p.timer); pollers.delete(p); };
    },
  };

  const tabs = new Map<PanelId, HTMLButtonElement>();
  const sections = new Map<PanelId, HTMLElement>();
  const tablist = h('nav', { class: 'tabs', role: 'tablist', 'aria-label': 'Dashboard panels' });
  const main = h('main', { id: 'panels' });
  for (const p of PANELS) {
    const tab = h('button', {
      type: 'button', role: 'tab', id: `tab-${p.id}`, 'aria-controls': `panel-${p.id}`, 'aria-selected': 'false', tabindex: '-1', title: p.hint,
      'data-panel': p.id, onclick: () => select(p.id, true),
    }, p.title);
    tabs.set(p.id, tab);
    tablist.append(tab);
    const section = h('section', { role: 'tabpanel', id: `panel-${p.id}`, 'aria-labelledby': `tab-${p.id}`, class: 'panel', tabindex: '0', hidden: true, 'data-panel': p.id });
    sections.set(p.id, section);
    main.append(section);
  }
  tablist.addEventListener('keydown', (ev: KeyboardEvent) => {
    const ids = PANELS.map((p) => p.id);
    const i = ids.indexOf(active);
    const next = ev.key === 'ArrowRight' ? ids[(i + 1) % ids.length] : ev.key === 'ArrowLeft' ? ids[(i - 1 + ids.length) % ids.length]
      : ev.key === 'Home' ? ids[0] : ev.key === 'End' ? ids[ids.length - 1] : undefined;
    if (next === undefined) return;
    ev.preventDefault();
    select(next, true);
    tabs.get(next)?.focus();
  });

  function select(id: PanelId, fromUser: boolean): void {
    const prev = active;
    active = id;
    for (const [pid, tab] of tabs) {
      const on = pid === id;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
      sections.get(pid)!.hidden = !on;
    }
    if (prev !== id) mounted.get(prev)?.hide();
    let panel = mounted.get(id);
    if (!panel) {
      const entry = PANELS.find((p) => p.id === id)!;
      try {
        panel = entry.module.mount(sections.get(id)!, ctx);
        mounted.set(id, panel);
      } catch (e) { reportError(id, e); return; }
    }
    panel.show();
    for (const p of pollers) if (p.panel === id) runPoller(p);
    if (fromUser && location.hash !== `#${id}`) history.replaceState(null, '', `#${id}`);
  }
  const fromHash = (): PanelId => {
    const id = location.hash.slice(1);
    return (PANELS.some((p) => p.id === id) ? id : 'market') as PanelId;
  };
  window.addEventListener('hashchange', () => select(fromHash(), false));

  // ---- the header: connection state and the key ---------------------------------------------
  const showState = (): void => {
    const s = feed.state;
    status.dataset.state = s;
    status.dataset.connections = String(feed.connections); // connections opened so far (a reconnect makes it 2)
    status.textContent = s === 'open' ? `live${feed.account !== null ? ` · account ${feed.account}` : ''}` : s === 'connecting' ? 'connecting…' : 'disconnected — retrying';
  };
  feed.onState(showState);

  const keyInput = h('input', { id: 'key-id', name: 'key', type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: 'API key (tk_…)', 'aria-label': 'API key id', size: 20 });
  const secretInput = h('input', { id: 'key-secret', name: 'secret', type: 'password', autocomplete: 'off', placeholder: 'secret', 'aria-label': 'API secret (kept in memory only)', size: 16 });
  const useBtn = h('button', { type: 'submit', id: 'key-use' }, 'Use key');
  const keyState = h('span', { id: 'key-state', class: 'key-state' }, 'no key: public data only');
  const forgetBtn = h('button', { type: 'button', id: 'key-forget', hidden: true }, 'Forget key');
  const keyForm = h('form', { class: 'key', id: 'key-form', 'aria-label': 'API key (the secret stays in this page\'s memory only)', novalidate: true },
    keyInput, secretInput, useBtn, keyState, forgetBtn);
  keyForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const key = keyInput.value.trim();
    const secret = secretInput.value;
    secretInput.value = ''; // the text is dropped at once; only the CryptoKey is kept
    useBtn.disabled = true;
    keyState.textContent = 'checking…';
    (async () => {
      try {
        await keys.load(key, secret);
        const account = await feed.authenticate();
        keys.accept(account);
        clearError('key');
        keyInput.value = '';
        keyInput.hidden = secretInput.hidden = useBtn.hidden = true;
        forgetBtn.hidden = false;
        keyState.textContent = `key ${key} · account ${account}`;
        keyState.dataset.account = String(account);
      } catch (e) {
        keys.forget();
        keyState.textContent = 'no key: public data only';
        reportError('key', e);
      } finally {
        useBtn.disabled = false;
        showState();
      }
    })();
  });
  forgetBtn.addEventListener('click', () => {
    keys.forget();
    feed.logout();
    keyInput.hidden = secretInput.hidden = useBtn.hidden = false;
    forgetBtn.hidden = true;
    keyState.textContent = 'no key: public data only';
    delete keyState.dataset.account;
    keyInput.focus();
  });
  header.append(keyForm);

  const footer = h('footer', { class: 'bottom', id: 'footer' },
    h('span', {}, `${symbols.length} symbols`), ' · ',
    h('a', { href: '/health' }, 'health'), ' · ', h('a', { href: '/metrics' }, 'metrics'), ' · ',
    h('span', {}, 'book: binary WebSocket, snapshot + deltas, CRC-32 checked'), ' · ',
    // the attribution lightweight-charts' licence asks for (its README "License and attribution")
    h('span', { class: 'credits' }, 'charts: ', h('a', { href: 'https://www.tradingview.com/', rel: 'noopener noreferrer', target: '_blank' }, 'TradingView Lightweight Charts™'),
      ' (Copyright © TradingView, Inc.) and uPlot'));
  app.replaceChildren(header, tablist, errorList, main, footer);
  // the page's own load figures, for people (tooltip) and the browser tests: main-thread ms spent
  // on the feed (decode + book + listeners) and on rendering (frame callbacks), and frames rendered
  setInterval(() => {
    footer.dataset.feedMs = feed.busyMs.toFixed(1);
    footer.dataset.renderMs = frames.busyMs.toFixed(1);
    footer.dataset.frames = String(frames.frames);
    footer.title = `main thread: feed ${feed.busyMs.toFixed(0)} ms, rendering ${frames.busyMs.toFixed(0)} ms in ${frames.frames} frames since load`;
  }, 250);
  app.removeAttribute('aria-busy');
  feed.start();
  showState();
  select(fromHash(), false);
}

start().catch((e: unknown) => reportError('start', e));
