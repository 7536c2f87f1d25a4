/**
 * The panel registry: the tabs in order, each with its module (docs/dashboard.md "Panels"). To add
 * or replace a panel, implement `mount(root, ctx): Panel` in panels/<id>.ts and list it here.
 *
 * Layout: PANELS, in tab order. Invariants: ids unique, each one a PanelId. Complexity / Allocation: O(1).
 * Known limitations: none.
 */
import type { PanelId, PanelModule } from '../types.js';
import * as market from './market.js';
import * as trading from './trading.js';
import * as strategies from './strategies.js';
import * as operations from './operations.js';
import * as analysts from './analysts.js';

export interface PanelEntry { id: PanelId; title: string; hint: string; module: PanelModule }

export const PANELS: readonly PanelEntry[] = [
  { id: 'market', title: 'Market', hint: 'depth ladder, depth chart, trades, candles', module: market },
  { id: 'trading', title: 'Trading', hint: 'orders, fills, positions, order ticket (needs a key)', module: trading },
  { id: 'strategies', title: 'Strategies', hint: 'state, P&L, breakers', module: strategies },
  { id: 'operations', title: 'Operations', hint: 'latency, memory, alerts', module: operations },
  { id: 'analysts', title: 'Analysts', hint: 'SQL over the store', module: analysts },
];
