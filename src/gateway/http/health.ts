/**
 * The health context: GET /health (status ok / degraded with the storage's reason / failed when
 * the engine thread stopped; engine seq, connections, the storage's part) and GET /metrics
 * (Prometheus text: the gateway's counters, the storage's, then the monitoring registry's:
 * memory, event-loop delay, rings, journal disk, alerts; docs/operations.md). Public routes.
 *
 * Layout: both public (charged to the address bucket).
 * Invariants: /health shows no analyst query text or error (src/gateway/storage-api.ts).
 * Complexity: O(1). Allocation: per request. Known limitations: none.
 */
import type { FastifyInstance } from 'fastify';
import type { GatewayServices } from './context.js';

/** The hand-written part of GET /metrics: the gateway's counters, then the storage's (the monitoring registry follows it). */
export function gatewayMetricsText(s: Pick<GatewayServices, 'host' | 'conns' | 'counters' | 'storage'>): string {
  const { host, conns, counters: c, storage: st } = s;
  return [
    '# TYPE tradsys_engine_seq counter', `tradsys_engine_seq ${host.lastSeq}`,
    '# TYPE tradsys_ws_connections gauge', `tradsys_ws_connections ${conns.size}`,
    '# TYPE tradsys_orders_in_total counter', `tradsys_orders_in_total ${c.ordersIn}`,
    '# TYPE tradsys_events_total counter', `tradsys_events_total ${c.eventsOut}`,
    '# TYPE tradsys_gateway_rejects_total counter', `tradsys_gateway_rejects_total ${c.rejectsGateway}`,
    '# TYPE tradsys_ws_frames_out_total counter', `tradsys_ws_frames_out_total ${c.framesOut}`,
    '# TYPE tradsys_ws_messages_in_total counter', `tradsys_ws_messages_in_total ${c.messagesIn}`,
    '# TYPE tradsys_ws_slow_consumer_closed_total counter', `tradsys_ws_slow_consumer_closed_total ${c.slowConsumerClosed}`,
    '# TYPE tradsys_ws_reaped_total counter', `tradsys_ws_reaped_total ${c.reaped}`, '',
  ].join('\n') + (st ? st.api.metricsText() : '');
}

export async function healthPlugin(app: FastifyInstance): Promise<void> {
  const { host, conns, storage: st, monitoring } = app.tradsys;
  app.get('/health', async () => {
    // degraded (with the reason) when the storage is: down, or its writer lagging (storage-api.ts)
    const storage = st?.api.health();
    const degraded = storage !== undefined && storage.status !== 'ok';
    return {
      status: host.failed ? 'failed' : degraded ? 'degraded' : 'ok', ...(degraded && !host.failed ? { reason: storage.reason } : {}),
      engineSeq: host.lastSeq, connections: conns.size, ...(storage ? { storage } : {}),
    };
  });
  app.get('/metrics', async (_req, reply) => {
    reply.type('text/plain; version=0.0.4');
    return gatewayMetricsText(app.tradsys) + (await monitoring.registry.metrics());
  });
}
