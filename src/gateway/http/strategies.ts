/**
 * The strategies context (docs/strategies.md "API"): the live strategies of the worker pool, through
 * the strategy service (src/strategies/service.ts).
 *
 * Layout: GET /api/v1/strategies, GET /api/v1/strategies/:id (keys with `admin`: every strategy;
 * keys with `read`: the strategies trading the key's own account, others answer like unknown ids);
 * POST /api/v1/strategies (create: a StrategyConfig), POST /api/v1/strategies/:id/start|stop|reset,
 * PATCH /api/v1/strategies/:id (`{"params": {...}}`), DELETE /api/v1/strategies/:id (stop and
 * forget): the `admin` permission.
 * Invariants: errors are catalog codes with the catalog's status (ERR_STRATEGY_CONFIG 400,
 * ERR_STRATEGY_PARAMS 400, ERR_STRATEGY_NOT_FOUND 404, ERR_STRATEGY_STATE 409, and the breaker's
 * own codes); a server started without strategies answers 503 `unavailable`; each mutation is one
 * audit line (the service's `strategy.<action>`). Complexity: O(strategies) for the list.
 * Allocation: per request. Known limitations: the figures are the workers' latest status reports
 * (at most 250 ms old).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TradsysError } from '../../domain/errors.js';
import type { StrategyConfig } from '../../strategies/api.js';
import { STRATEGY_CONFIG_SCHEMA, STRATEGY_ID_PATTERN } from '../../strategies/config-file.js';
import type { Actor, StrategyService, StrategyView } from '../../strategies/service.js';
import type { RequestAuth } from '../config.js';
import { replyCatalogError, replyError } from './errors.js';

/** A strategy id in a URL: what the service accepts (src/strategies/config-file.ts). */
const ID = { type: 'string', pattern: STRATEGY_ID_PATTERN } as const;
const PARAMS = { type: 'object', required: ['id'], properties: { id: ID } } as const;
/** Bodies of create and PATCH (parameters can be larger than an order). */
const BODY_LIMIT = 64 * 1024;

export async function strategiesPlugin(app: FastifyInstance): Promise<void> {
  const svc = (reply: FastifyReply): StrategyService | null => {
    const s = app.tradsys.strategies;
    if (s === null) void replyError(reply, 503, 'unavailable', 'strategies are off on this server (tradsys serve --no-strategies)');
    return s;
  };
  const actor = (req: FastifyRequest, who: RequestAuth): Actor => ({ account: who.account, key: who.key, ip: req.ip, via: 'http' });
  const visible = (who: RequestAuth, s: StrategyView): boolean => who.permissions.includes('admin') || s.account === who.account;
  /** A service call's answer: the status, or the catalog error it raised. */
  const answer = async (reply: FastifyReply, f: () => Promise<StrategyView>, code = 200): Promise<unknown> => {
    try {
      return reply.code(code).send(await f());
    } catch (e) {
      if (e instanceof TradsysError) return replyCatalogError(reply, e);
      throw e;
    }
  };

  app.get('/api/v1/strategies', { config: { signed: true } }, async (req, reply) => {
    const who = app.authenticate(req, reply, ['admin', 'read']);
    if (who === null) return reply;
    const s = svc(reply);
    if (s === null) return reply;
    return { workers: s.workers, strategies: s.list().filter((x) => visible(who, x)) };
  });

  app.get<{ Params: { id: string } }>('/api/v1/strategies/:id', { config: { signed: true }, schema: { params: PARAMS } }, async (req, reply) => {
    const who = app.authenticate(req, reply, ['admin', 'read']);
    if (who === null) return reply;
    const s = svc(reply);
    if (s === null) return reply;
    const st = s.has(req.params.id) ? s.get(req.params.id) : null;
    if (st === null || !visible(who, st)) return replyCatalogError(reply, new TradsysError('ERR_STRATEGY_NOT_FOUND', `no strategy ${req.params.id}`));
    return st;
  });

  app.post<{ Body: StrategyConfig }>('/api/v1/strategies', { config: { signed: true }, bodyLimit: BODY_LIMIT, schema: { body: STRATEGY_CONFIG_SCHEMA } }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'admin');
    if (who === null) return reply;
    const s = svc(reply);
    if (s === null) return reply;
    return answer(reply, () => s.create(req.body, actor(req, who)), 201);
  });

  for (const action of ['start', 'stop', 'reset'] as const) {
    app.post<{ Params: { id: string } }>(`/api/v1/strategies/:id/${action}`, { config: { signed: true }, schema: { params: PARAMS } }, async (req, reply) => {
      const who = app.authenticate(req, reply, 'admin');
      if (who === null) return reply;
      const s = svc(reply);
      if (s === null) return reply;
      return answer(reply, () => s[action](req.params.id, actor(req, who)));
    });
  }

  app.delete<{ Params: { id: string } }>('/api/v1/strategies/:id', { config: { signed: true }, schema: { params: PARAMS } }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'admin');
    if (who === null) return reply;
    const s = svc(reply);
    if (s === null) return reply;
    return answer(reply, () => s.remove(req.params.id, actor(req, who)));
  });

  app.patch<{ Params: { id: string }; Body: { params: Record<string, unknown> } }>('/api/v1/strategies/:id', {
    config: { signed: true }, bodyLimit: BODY_LIMIT,
    schema: { params: PARAMS, body: { type: 'object', additionalProperties: false, required: ['params'], properties: { params: { type: 'object' } } } },
  }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'admin');
    if (who === null) return reply;
    const s = svc(reply);
    if (s === null) return reply;
    return answer(reply, () => s.setParams(req.params.id, req.body.params, actor(req, who)));
  });
}
