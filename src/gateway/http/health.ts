/**
 * The health context: GET /health (status ok / degraded with the storage's reason / failed when
 * the engine thread stopped; engine seq, connections, the storage's part), GET /metrics
 * (Prometheus text from the app's prom-client registry, src/monitoring/metrics.ts), GET
 * /api/v1/latency (per-stage latency, src/monitoring/latency.ts; docs/monitoring.md), GET
 * /api/v1/latency/histogram (the same stages' HDR histograms as counts per 1-2-5 bucket) and GET
 * /api/v1/resources (memory, event-loop delay, ring fill, storage writer lag as JSON: the figures
 * of /metrics' memory and storage series, read from the same sources). Public routes.
 *
 * Layout: all public (charged to the address bucket), like /metrics: figures, no account data.
 * Invariants: /health shows no analyst query text or error (src/gateway/storage-api.ts); the
 * histogram buckets are /metrics' `tradsys_latency_seconds` bounds (LATENCY_BUCKETS_S), per bucket
 * instead of cumulative, so their sum is the stage's count.
 * Complexity: O(1); the histogram O(stages × HDR counts) (one stage with `?stage=`). Allocation: per request.
 * Known limitations: none.
 */
import type { FastifyInstance } from 'fastify';
import { STAGES, type LatencyWindow } from '../../monitoring/latency.js';
import { LATENCY_BUCKETS_S, cumulativeBuckets } from '../../monitoring/metrics.js';

/** The histogram's bucket bounds in µs (100 ns … 10 s, 1-2-5 per decade), /metrics' bounds. */
export const LATENCY_BOUNDS_US: readonly number[] = LATENCY_BUCKETS_S.map((s) => Math.round(s * 1e9) / 1000);

export async function healthPlugin(app: FastifyInstance): Promise<void> {
  const { host, conns, storage: st, metrics, latency, monitoring } = app.tradsys;
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
  // the stages' histograms: counts per bucket (le bound in µs; the last entry counts values above the last bound)
  // `?stage=S` answers that stage only (what the dashboard asks: one stage is 1/11 of the work)
  app.get<{ Querystring: { stage?: string } }>('/api/v1/latency/histogram', {
    schema: { querystring: { type: 'object', additionalProperties: false, properties: { stage: { type: 'string', enum: [...STAGES] } } } },
  }, async (req) => {
    latency.collect();
    const only = req.query.stage;
    const stages: Record<string, Record<LatencyWindow, { count: number; counts: number[] }>> = {};
    const per = (w: LatencyWindow, st: string): { count: number; counts: number[] } => {
      const h = latency.histogram(st, w);
      const cum = cumulativeBuckets(h, LATENCY_BUCKETS_S);
      const counts = cum.map((c, i) => c - (i === 0 ? 0 : cum[i - 1]!));
      counts.push(h.totalCount - (cum[cum.length - 1] ?? 0));
      return { count: h.totalCount, counts };
    };
    for (const st of STAGES) if (only === undefined || st === only) stages[st] = { minute: per('minute', st), start: per('start', st) };
    return { unit: 'us', windowSeconds: { minute: latency.windowSeconds }, boundsUs: LATENCY_BOUNDS_US, stages };
  });
  // memory, event-loop delay, ring fill, storage writer lag (docs/monitoring.md "Resources as JSON")
  app.get('/api/v1/resources', async () => {
    const m = process.memoryUsage();
    const engine = host.memory();
    const loop = monitoring.memory.loopDelay();
    const writer = st?.writer ?? null;
    const ws = writer?.stats() ?? null;
    const wt = writer?.thread() ?? null;
    return {
      ts: Date.now(),
      memory: {
        main: { heapUsedBytes: m.heapUsed, heapTotalBytes: m.heapTotal, externalBytes: m.external, arrayBuffersBytes: m.arrayBuffers },
        rssBytes: m.rss,
        engine: engine && { heapUsedBytes: engine.heapUsedBytes, wasmBytes: engine.wasmBytes, orders: engine.orders, levels: engine.levels },
        storageWriter: wt && { heapUsedBytes: wt.heapUsedBytes },
      },
      eventLoopDelay: {
        main: { p99Seconds: loop.p99, maxSeconds: loop.max },
        engine: engine && { maxSeconds: engine.turnMaxSeconds },
        storageWriter: wt && { p99Seconds: wt.loopDelayP99Us / 1e6 },
      },
      rings: host.ringFill(),
      storageWriter: ws && { up: ws.up, lagSeconds: ws.lagSeconds, lagSeq: ws.lagSeq, queueRows: ws.queueRows, spilledBytes: ws.spilledBytes, rowsPerSecond: ws.rowsPerSecond, errors: ws.errors },
    };
  });
}
