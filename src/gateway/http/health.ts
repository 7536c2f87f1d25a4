/**
 * The health context: GET /health (status ok / degraded with the storage's reason / failed when
 * the engine thread stopped; engine seq, connections, the storage's part), GET /metrics
 * (Prometheus text from the app's prom-client registry, src/monitoring/metrics.ts) and GET
 * /api/v1/latency (per-stage latency, src/monitoring/latency.ts; docs/monitoring.md). Public routes.
 *
 * Layout: all public (charged to the address bucket), like /metrics: figures, no account data.
 * Invariants: /health shows no analyst query text or error (src/gateway/storage-api.ts).
 * Complexity: O(1). Allocation: per request. Known limitations: none.
 */
import type { FastifyInstance } from 'fastify';

export async function healthPlugin(app: FastifyInstance): Promise<void> {
  const { host, conns, storage: st, metrics, latency } = app.tradsys;
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
    reply.type(metrics.contentType);
    return metrics.text();
  });
  // per-stage latency (docs/monitoring.md "Latency stages"): public like /metrics, µs with 3 decimals
  app.get('/api/v1/latency', async () => latency.snapshot());
}
