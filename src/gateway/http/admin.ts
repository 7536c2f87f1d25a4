/**
 * The admin context (the `admin` permission): halts and kill switches, sequenced through the
 * engine as ADMIN commands (OrderEntry.admin), and API keys (list, create, revoke: the same store
 * and lock as `tradsys keys`; docs/security.md "Key lifecycle").
 *
 * Layout: POST /api/v1/admin/halt, POST /api/v1/admin/kill, GET/POST /api/v1/admin/keys,
 * DELETE /api/v1/admin/keys/:key, GET /api/v1/system (CPU/NUMA placement read back from /proc;
 * docs/native.md), POST /api/v1/admin/heap-snapshot (a .heapsnapshot into the
 * data folder; docs/operations.md "Memory"), and only with test hooks on (GatewayConfig.testHooks)
 * POST /api/v1/admin/test/engine-delay; every route checks the `admin` permission (app.authenticate).
 * Invariants: one audit line per admin action, with its outcome; a key change is in force at once
 * and logged once more by the key store's watcher (key.created / key.revoked, by this key); a
 * revoked key's sessions are closed. Complexity: O(1) (keys list O(keys)). Allocation: per request.
 * Known limitations: an engine that does not answer in 5 s is a 504 `timeout` (the command may still apply).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { TradsysError } from '../../domain/errors.js';
import { writeHeapSnapshotChecked } from '../../monitoring/memory.js';
import type { Permission } from '../auth.js';
import type { RequestAuth } from '../config.js';
import type { AdminDone } from '../order-entry.js';
import { httpReason, replyCatalogError, replyError } from './errors.js';

export async function adminPlugin(app: FastifyInstance): Promise<void> {
  const { bySymbol, entry, keys, conns, monitoring, dataDir, host, testHooks, placement } = app.tradsys;
  const done = (reply: FastifyReply, r: AdminDone): unknown => {
    if (r === null) return replyError(reply, 504, 'timeout', 'the engine did not answer in time');
    if (!r.ok) return replyError(reply, r.reason === 'busy' ? 503 : 422, httpReason(r.reason), `the engine refused it: ${r.reason}`);
    return { ok: true, seq: r.seq };
  };
  /** One audit line per admin action, with its outcome. */
  const audit = (req: FastifyRequest, who: RequestAuth, action: string, r: AdminDone, details: Record<string, unknown>): void => {
    const outcome = r === null ? 'timeout' : r.ok ? 'ok' : 'refused';
    req.log[r?.ok ? 'info' : 'warn']({ audit: `admin.${action}`, account: who.account, key: who.key, ip: req.ip, outcome, ...details, seq: r?.seq ?? null, reason: r?.reason ?? null }, `admin ${action}: ${outcome}`);
  };
  app.post<{ Body: { symbol: string; halted: boolean } }>('/api/v1/admin/halt', {
    schema: { body: { type: 'object', additionalProperties: false, required: ['symbol', 'halted'], properties: { symbol: { type: 'string', maxLength: 32 }, halted: { type: 'boolean' } } } },
  }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'admin');
    if (who === null) return reply;
    const ins = bySymbol.get(req.body.symbol);
    if (!ins) {
      req.log.warn({ audit: 'admin.halt', account: who.account, key: who.key, ip: req.ip, outcome: 'unknown_symbol', symbol: req.body.symbol, halted: req.body.halted }, 'admin halt: unknown symbol');
      return replyError(reply, 404, 'unknown_symbol', `no symbol ${req.body.symbol}`);
    }
    const r = await entry.admin('halt', req.body.halted, { symbol: ins.id });
    audit(req, who, 'halt', r, { symbol: ins.symbol, halted: req.body.halted });
    return done(reply, r);
  });
  app.post<{ Body: { account?: number; all?: boolean; on: boolean } }>('/api/v1/admin/kill', {
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['on'],
        properties: { account: { type: 'integer', minimum: 0, maximum: 4294967295 }, all: { type: 'boolean' }, on: { type: 'boolean' } },
      },
    },
  }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'admin');
    if (who === null) return reply;
    const { account, all, on } = req.body;
    if ((account === undefined) === (all !== true)) return replyError(reply, 400, 'bad_field', 'give either "account" or "all": true');
    const r = await entry.admin(all ? 'kill_all' : 'kill_account', on, { account });
    audit(req, who, 'kill', r, { target: all ? 'all' : account, on });
    return done(reply, r);
  });
  // API keys (docs/security.md "Key lifecycle"): the same store and lock as `tradsys keys`;
  // each change is in force at once and logged once (key.created / key.revoked, by this key)
  const keyError = (req: FastifyRequest, reply: FastifyReply, who: RequestAuth, action: string, e: unknown): unknown => {
    if (!(e instanceof TradsysError)) throw e;
    req.log.error({ audit: `admin.${action}`, account: who.account, key: who.key, ip: req.ip, outcome: 'failed', error: e.message }, `admin ${action}: failed`);
    return replyError(reply, e.code === 'ERR_CLI_USAGE' ? 400 : e.status, e.code === 'ERR_KEYS_LOCKED' ? 'keys_locked' : e.code === 'ERR_CLI_USAGE' ? 'bad_field' : 'keys_store', e.message);
  };
  // CPU and NUMA placement (`serve --cpus`; docs/native.md): thread ids, CPU sets, memory policy,
  // re-read from /proc on each request — internals, so admin only
  app.get('/api/v1/system', { config: { signed: true } }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'admin');
    if (who === null) return reply;
    return placement.report();
  });
  app.get('/api/v1/admin/keys', { config: { signed: true } }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'admin');
    if (who === null) return reply;
    return { keys: keys.list() };
  });
  app.post<{ Body: { account: number; permissions: Permission[] } }>('/api/v1/admin/keys', {
    config: { signed: true },
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['account', 'permissions'],
        properties: {
          account: { type: 'integer', minimum: 1, maximum: 4294967295 },
          permissions: { type: 'array', minItems: 1, maxItems: 4, uniqueItems: true, items: { enum: ['trade', 'read', 'admin', 'analyst'] } },
        },
      },
    },
  }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'admin');
    if (who === null) return reply;
    try {
      const k = keys.create(req.body.account, req.body.permissions, { account: who.account, key: who.key, ip: req.ip });
      return reply.code(201).send({ key: k.key, secret: k.secret, account: k.account, permissions: k.permissions, created: k.created });
    } catch (e) {
      return keyError(req, reply, who, 'keys_create', e);
    }
  });
  app.delete<{ Params: { key: string } }>('/api/v1/admin/keys/:key', {
    config: { signed: true },
    schema: { params: { type: 'object', required: ['key'], properties: { key: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,64}$' } } } },
  }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'admin');
    if (who === null) return reply;
    const target = req.params.key;
    const sessions = conns.sessionsOf(target);
    let revoked: boolean;
    try {
      revoked = keys.revoke(target, { account: who.account, key: who.key, ip: req.ip });
    } catch (e) {
      return keyError(req, reply, who, 'keys_revoke', e);
    }
    if (!revoked) {
      req.log.warn({ audit: 'admin.keys_revoke', account: who.account, key: who.key, ip: req.ip, outcome: 'unknown_key', target: target }, 'admin keys_revoke: no such active key');
      return replyError(reply, 404, 'unknown_key', `no active key ${target}`);
    }
    const k = keys.get(target)!;
    return { key: k.key, account: k.account, revoked: k.revoked, closedSessions: sessions };
  });
  // a V8 heap snapshot of the main thread into the data folder (blocks this thread while it writes)
  app.post('/api/v1/admin/heap-snapshot', { config: { signed: true } }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'admin');
    if (who === null) return reply;
    const t0 = Date.now();
    try {
      const r = writeHeapSnapshotChecked(dataDir, { minFreeBytes: monitoring.heapSnapshotMinFreeBytes });
      req.log.info({ audit: 'admin.heap_snapshot', account: who.account, key: who.key, ip: req.ip, outcome: 'ok', path: r.path, bytes: r.bytes, durationMs: Date.now() - t0 }, 'admin heap_snapshot: ok');
      return { path: r.path, bytes: r.bytes, durationMs: Date.now() - t0 };
    } catch (e) {
      const code = e instanceof TradsysError ? e.code : 'internal';
      req.log.warn({ audit: 'admin.heap_snapshot', account: who.account, key: who.key, ip: req.ip, outcome: code === 'ERR_MONITOR_DISK_SPACE' ? 'refused' : 'failed', error: (e as Error).message }, `admin heap_snapshot: ${code}`);
      if (e instanceof TradsysError) return replyCatalogError(reply, e);
      throw e;
    }
  });
  // test hooks only (GatewayConfig.testHooks, `tradsys serve --test-hooks`): the route does not exist otherwise
  if (testHooks) {
    app.post<{ Body: { ms: number } }>('/api/v1/admin/test/engine-delay', {
      config: { signed: true },
      schema: { body: { type: 'object', additionalProperties: false, required: ['ms'], properties: { ms: { type: 'integer', minimum: 0, maximum: 10_000 } } } },
    }, async (req, reply) => {
      const who = app.authenticate(req, reply, 'admin');
      if (who === null) return reply;
      host.setTestDelay(req.body.ms);
      req.log.warn({ audit: 'admin.test_engine_delay', account: who.account, key: who.key, ip: req.ip, outcome: 'ok', ms: req.body.ms }, `admin test_engine_delay: every engine batch sleeps ${req.body.ms} ms`);
      return { ok: true, ms: req.body.ms };
    });
  }
}
