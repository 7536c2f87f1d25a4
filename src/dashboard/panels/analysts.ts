/**
 * The Analysts panel (placeholder): a SQL box over POST /api/v1/sql with table output and CSV download — coming (dash2 implements it on the panel contract of
 * src/dashboard/types.ts; docs/dashboard.md "Panels").
 *
 * Layout / Invariants / Complexity / Allocation: see placeholder.ts. Known limitations: not built yet.
 */
import type { DashboardContext, Panel } from '../types.js';
import { placeholder } from './placeholder.js';

export function mount(root: HTMLElement, _ctx: DashboardContext): Panel {
  return placeholder(root, 'Analysts', 'a SQL box over POST /api/v1/sql with table output and CSV download');
}
