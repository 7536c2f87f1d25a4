/**
 * The Analysts panel: a SQL box over POST /api/v1/sql (signed; a key with the `analyst`
 * permission; read-only, sandboxed and limited on the server: docs/schema.md "Analysts' limits",
 * docs/security.md "SQL sandbox"), the answer as a table, the server's error as it said it
 * (code and message), and a CSV download of the whole answer (csv.ts, RFC 4180; a Blob behind an
 * object URL, released after the download starts).
 *
 * Layout: form#sql-form (textarea#sql-text, optional parameters input#sql-params as a JSON object
 * for `{name:Type}` placeholders, button#sql-run; Ctrl/⌘+Enter runs) · #sql-status (rows,
 * elapsed; data-rows) · #sql-error (role=alert; data-error = the API's code) · button#sql-csv ·
 * table#sql-result (a header cell per column with its ClickHouse type as title; a row per row,
 * NULL marked; at most ROWS_SHOWN rows drawn, the CSV has all).
 * Invariants: one query at a time from the page (the button is disabled while it runs); a new
 * answer replaces the table, an error clears it; the CSV is built from the answer itself, never
 * from the drawn table.
 * Complexity: O(rows × columns) per answer drawn (bounded by ROWS_SHOWN) and per CSV.
 * Allocation: the answer, the rows drawn, the CSV text and its Blob.
 * Known limitations: the server caps an answer at 100,000 rows / 16 MiB (ERR_STORAGE_LIMIT);
 * parameter values are JSON (strings, numbers, arrays), typed by their placeholders.
 */
import { ApiError, describeError } from '../api.js';
import { toCsv } from '../csv.js';
import { h } from '../dom.js';
import type { DashboardContext, Panel } from '../types.js';

/** Rows drawn in the table (the CSV download has them all). */
export const ROWS_SHOWN = 1000;
const EXAMPLE = 'SELECT symbol, count() AS trades, sum(qty) AS volume, min(ts) AS first_ts, max(ts) AS last_ts\nFROM trades\nGROUP BY symbol\nORDER BY symbol';

interface SqlAnswer { meta: { name: string; type: string }[]; rows: (Record<string, unknown> | unknown[])[]; rowCount: number; elapsedMs: number }

export function mount(root: HTMLElement, ctx: DashboardContext): Panel {
  const { api, fmt } = ctx;
  const text = h('textarea', { id: 'sql-text', name: 'sql', rows: 6, spellcheck: 'false', autocomplete: 'off', 'aria-label': 'SQL query (one SELECT; Ctrl+Enter runs it)', maxlength: 100000 });
  text.value = EXAMPLE;
  const params = h('input', { id: 'sql-params', name: 'params', type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: '{"sym": "BTC-USD"} for {sym:String}', 'aria-label': 'Query parameters (a JSON object, optional)' });
  const run = h('button', { type: 'submit', id: 'sql-run' }, 'Run (Ctrl+Enter)');
  const csv = h('button', { type: 'button', id: 'sql-csv', disabled: true, title: 'download the whole answer as CSV' }, 'Download CSV');
  const status = h('p', { id: 'sql-status', class: 'note', role: 'status', 'aria-live': 'polite' });
  const error = h('p', { id: 'sql-error', class: 'result error', role: 'alert', hidden: true });
  const note = h('p', { class: 'note', id: 'analysts-note' });
  const form = h('form', { id: 'sql-form', class: 'sql', 'aria-label': 'SQL over the store', novalidate: true },
    text, h('div', { class: 'sql-bar' }, h('label', { for: 'sql-params' }, 'parameters '), params, run, csv, status));
  const head = h('thead');
  const body = h('tbody');
  const result = h('table', { class: 'grid sql-result', id: 'sql-result', 'aria-label': 'Query result' }, head, body);
  root.append(h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', {}, 'SQL'), note), form, error),
    h('section', { class: 'card result-card' }, h('h2', {}, 'Result'), h('div', { class: 'scroll' }, result)));

  const showNote = (): void => {
    note.textContent = ctx.keys.current
      ? `read-only SQL over the platform's ClickHouse tables (trades, order_events, quotes, bars_*, latency_samples, …; docs/schema.md) · key ${ctx.keys.current.key} needs the analyst permission · ≤ 100,000 rows, 10 s`
      : 'enter an API key with the analyst permission (top right) to run SQL';
  };
  showNote();

  let answer: SqlAnswer | null = null;
  let running = false;

  const cell = (v: unknown): HTMLTableCellElement => {
    if (v === null || v === undefined) return h('td', { class: 'null' }, 'NULL');
    if (typeof v === 'object') return h('td', {}, JSON.stringify(v));
    return h('td', { class: typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(v)) ? 'num' : '' }, String(v));
  };

  const show = (a: SqlAnswer): void => {
    const names = a.meta.map((m) => m.name);
    head.replaceChildren(h('tr', {}, ...a.meta.map((m) => h('th', { scope: 'col', title: m.type, 'data-type': m.type }, m.name))));
    const rows = a.rows.slice(0, ROWS_SHOWN).map((r) => h('tr', {}, ...names.map((n, i) => cell(Array.isArray(r) ? r[i] : (r as Record<string, unknown>)[n]))));
    if (rows.length === 0) rows.push(h('tr', { class: 'empty' }, h('td', { colspan: Math.max(1, names.length) }, 'no rows')));
    body.replaceChildren(...rows);
    result.dataset.rows = String(a.rows.length);
    result.dataset.columns = String(names.length);
    status.textContent = `${fmt.int(a.rowCount)} row${a.rowCount === 1 ? '' : 's'} · ${a.elapsedMs.toFixed(1)} ms${a.rows.length > ROWS_SHOWN ? ` · showing the first ${fmt.int(ROWS_SHOWN)} (the CSV has all)` : ''}`;
    status.dataset.rows = String(a.rowCount);
    csv.disabled = false;
  };

  const fail = (code: string, message: string): void => {
    answer = null;
    head.replaceChildren();
    body.replaceChildren();
    delete result.dataset.rows;
    csv.disabled = true;
    status.textContent = 'failed';
    delete status.dataset.rows;
    error.hidden = false;
    error.dataset.error = code;
    error.replaceChildren(h('strong', {}, code), ' ', h('span', { class: 'error-message' }, message));
  };

  const submit = (): void => {
    if (running) return;
    const sql = text.value.trim();
    if (sql === '') { fail('empty', 'type a SELECT query first'); text.focus(); return; }
    let p: Record<string, unknown> | undefined;
    if (params.value.trim() !== '') {
      try {
        const v = JSON.parse(params.value) as unknown;
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
        p = v as Record<string, unknown>;
      } catch (e) { fail('bad_params', `parameters must be a JSON object such as {"sym": "BTC-USD"} (${(e as Error).message})`); params.focus(); return; }
    }
    running = true;
    run.disabled = true;
    status.textContent = 'running…';
    delete status.dataset.rows;
    error.hidden = true;
    api.send<SqlAnswer>('POST', '/api/v1/sql', p ? { sql, params: p } : { sql }).then((a) => {
      answer = a;
      delete error.dataset.error;
      show(a);
    }, (e: unknown) => {
      if (e instanceof ApiError) fail(e.error, e.error === 'no_key' ? e.message : `${e.message}${e.status ? ` (HTTP ${e.status})` : ''}`);
      else fail('error', describeError(e));
    }).finally(() => { running = false; run.disabled = false; });
  };

  form.addEventListener('submit', (ev) => { ev.preventDefault(); submit(); });
  text.addEventListener('keydown', (ev: KeyboardEvent) => {
    if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); submit(); }
  });
  csv.addEventListener('click', () => {
    if (!answer) return;
    const blob = new Blob([toCsv(answer.meta.map((m) => m.name), answer.rows)], { type: 'text/csv;charset=utf-8' });
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: `tradsys-query-${new Date().toISOString().replace(/[:.]/g, '-')}.csv`, hidden: true });
    root.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  const off = ctx.keys.onChange(showNote);

  return {
    show() { /* nothing polls */ },
    hide() { /* nothing polls */ },
    dispose() { off(); root.replaceChildren(); },
  };
}
