/**
 * Small DOM helpers for the panels: element creation with attributes and children (text is
 * always set as text, never parsed as HTML, so server data cannot inject markup), and table bodies
 * rebuilt from rows.
 *
 * Layout: `h(tag, attrs, ...children)`; attributes starting with `on` are listeners, `class`,
 * `data-*`, `aria-*` and the rest are attributes. Invariants: no innerHTML anywhere.
 * Complexity: O(nodes). Allocation: the nodes. Known limitations: none.
 */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((ev: Event) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === 'object' ? c : String(c));
  }
  return el;
}

/** Replaces `tbody`'s rows; `empty` (one cell spanning `cols`) when there are none. */
export function fillRows(tbody: HTMLTableSectionElement, rows: HTMLTableRowElement[], cols: number, empty: string): void {
  if (rows.length === 0) rows = [h('tr', { class: 'empty' }, h('td', { colspan: cols }, empty))];
  tbody.replaceChildren(...rows);
}

/** A table with a caption-less header row; returns the table and its body. */
export function table(cls: string, headers: string[], label: string): { table: HTMLTableElement; body: HTMLTableSectionElement } {
  const body = h('tbody');
  const t = h('table', { class: `grid ${cls}`, 'aria-label': label },
    h('thead', {}, h('tr', {}, ...headers.map((x) => h('th', { scope: 'col' }, x)))), body);
  return { table: t, body };
}
