/**
 * The Operations panel (placeholder): per-stage latency histograms and percentiles, memory and event-loop delay, ring fill, storage writer lag, firing alerts — coming (dash2 implements it on the panel contract of
 * src/dashboard/types.ts; docs/dashboard.md "Panels").
 *
 * Layout / Invariants / Complexity / Allocation: see placeholder.ts. Known limitations: not built yet.
 */
import type { DashboardContext, Panel } from '../types.js';
import { placeholder } from './placeholder.js';

export function mount(root: HTMLElement, _ctx: DashboardContext): Panel {
  return placeholder(root, 'Operations', 'per-stage latency histograms and percentiles, memory and event-loop delay, ring fill, storage writer lag, firing alerts');
}
