/**
 * The market-data context: GET /api/v1/symbols (reference data), /api/v1/book/:symbol (a snapshot,
 * `depth` 1..1000, default 10) and, without storage, /api/v1/trades/:symbol (the last 1,000 trades
 * from memory; with storage the queries plugin serves it, adding from/to). Public routes.
 *
 * Layout: prices and quantities leave as decimal strings (the instrument's tick and lot size).
 * Invariants: the book and trades answers are current (route config `current`: the event pump
 * runs first). Complexity: O(depth) or O(1,000). Allocation: per request.
 * Known limitations: none.
 */
import type { FastifyInstance } from 'fastify';
import { replyError } from './errors.js';

export async function marketDataPlugin(app: FastifyInstance): Promise<void> {
  const { instruments, bySymbol, md, storage } = app.tradsys;
  const current = { current: true };
  app.get('/api/v1/symbols', async () => instruments.map((i) => i.toJSON()));
  app.get<{ Params: { symbol: string }; Querystring: { depth?: string } }>('/api/v1/book/:symbol', { config: current }, async (req, reply) => {
    const ins = bySymbol.get(req.params.symbol);
    if (!ins) return replyError(reply, 404, 'unknown_symbol', `no symbol ${req.params.symbol}`);
    const depth = req.query.depth === undefined ? 10 : Number(req.query.depth);
    if (!Number.isInteger(depth) || depth < 1 || depth > 1000) return replyError(reply, 400, 'bad_depth', 'depth must be an integer in [1, 1000]');
    return md.snapshot(ins, depth);
  });
  if (storage === null) { // with storage, the queries plugin serves this route (memory without from/to)
    app.get<{ Params: { symbol: string } }>('/api/v1/trades/:symbol', { config: current }, async (req, reply) => {
      const ins = bySymbol.get(req.params.symbol);
      if (!ins) return replyError(reply, 404, 'unknown_symbol', `no symbol ${req.params.symbol}`);
      return reply.type('application/json; charset=utf-8').send(md.recentTradesJson(ins.id));
    });
  }
}
