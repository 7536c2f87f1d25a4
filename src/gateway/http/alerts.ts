/**
 * The alerts context (the `admin` permission): GET /api/v1/alerts — the alerts pending or firing
 * now and the history of firing/resolved transitions (src/monitoring/alerts.ts; docs/operations.md
 * "Alerts"). The same transitions go to the `alerts` WebSocket channel and the log.
 *
 * Layout: one signed route. Invariants: read-only; answers what the last evaluation left.
 * Complexity: O(rules + history). Allocation: the answer. Known limitations: none.
 */
import type { FastifyInstance } from 'fastify';

export async function alertsPlugin(app: FastifyInstance): Promise<void> {
  const { monitoring } = app.tradsys;
  app.get('/api/v1/alerts', { config: { signed: true } }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'admin');
    if (who === null) return reply;
    const a = monitoring.alerts;
    return {
      active: a.active(), history: a.history(), evaluations: a.evaluations,
      rules: a.rules,
    };
  });
}
