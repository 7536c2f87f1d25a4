/**
 * A panel that is still coming: a heading and one line that says so (dash2 replaces the
 * Strategies, Operations and Analysts placeholders with real panels; docs/dashboard.md "Panels").
 *
 * Layout: static text. Invariants: no timers, no subscriptions. Complexity / Allocation: O(1).
 * Known limitations: it is a placeholder.
 */
import { h } from '../dom.js';
import type { Panel } from '../types.js';

export function placeholder(root: HTMLElement, title: string, what: string): Panel {
  root.append(h('section', { class: 'card placeholder' }, h('h2', {}, title), h('p', {}, `${what} — coming.`)));
  return { show() { /* static */ }, hide() { /* static */ }, dispose() { root.replaceChildren(); } };
}
