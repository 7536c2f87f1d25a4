/**
 * What the WebSocket handlers (json.ts, binary.ts) use: the gateway's services, passed in by the
 * composition root (src/gateway/compose.ts).
 *
 * Layout: one WsDeps object shared by the JSON and binary sessions.
 * Invariants: handlers call services only; nothing here climbs back to gateway.ts.
 * Complexity: none. Allocation: none. Known limitations: none.
 */
import type { Instrument } from '../../domain/instruments.js';
import type { KeyStore } from '../auth.js';
import type { CatchUp } from '../catch-up.js';
import type { ConnectionLimits, GatewayCounters } from '../config.js';
import type { Connections } from '../connections.js';
import type { EventPump } from '../event-pump.js';
import type { MarketData } from '../market-data.js';
import type { OrderEntry } from '../order-entry.js';

export interface WsDeps {
  readonly instruments: Instrument[];
  readonly bySymbol: ReadonlyMap<string, Instrument>;
  readonly keys: KeyStore;
  readonly conns: Connections;
  readonly entry: OrderEntry;
  readonly md: MarketData;
  readonly events: EventPump;
  readonly catchUp: CatchUp;
  readonly counters: GatewayCounters;
  readonly limits: ConnectionLimits;
  /** The alerts pending or firing now (AlertEngine.active), sent on an `alerts` subscribe. */
  readonly alerts?: () => unknown[];
}
