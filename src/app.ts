/**
 * `build(config)`: the wired gateway app — engine thread started, read side caught up from the
 * journal, fastify app with its plugins ready, WebSocket endpoint attached — not listening yet.
 * Tests build through it (test/support/gateway-fixture.ts) and `inject` or `listen(0)`; the
 * composition itself is src/gateway/compose.ts, the facade src/gateway/gateway.ts.
 *
 * Layout: the returned Gateway holds `app` (fastify), the services' public surface, `listen`, `close`.
 * Invariants: nothing listens until the caller says so (src/main.ts). Complexity: O(journal) at
 * start. Allocation: at start. Known limitations: none.
 */
import { Gateway, type GatewayConfig } from './gateway/gateway.js';

export { Gateway, type GatewayConfig } from './gateway/gateway.js';

/** Builds the gateway app (not listening); close it with `close()`. */
export function build(config: GatewayConfig): Promise<Gateway> {
  return Gateway.build(config);
}
