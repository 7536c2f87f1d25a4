/**
 * The auth context as a root fastify plugin: per-address rate limit before any work, the raw JSON
 * body kept for signatures, fastify's error answers, and the signed-request check other plugins
 * call (`app.authenticate`), plus the ClickHouse endpoint's user/password check.
 *
 * Layout: signed requests carry X-TS-KEY, X-TS-TS (epoch ms), X-TS-SIG =
 * hex(HMAC-SHA256(secret, key + ts + [":" + X-TS-NONCE] + METHOD + url + body)) (docs/protocol.md).
 * Invariants: an address over its limit gets 429 before a body parse or an HMAC; on signed routes
 * (and the ClickHouse endpoint's query routes) the address is charged only when authentication
 * fails, an accepted key is charged to its own bucket; each refusal is one audit line
 * (docs/security.md); unknown keys and bad signatures answer alike (`invalid_credentials`).
 * Complexity: O(1) per request plus one HMAC. Allocation: the audit line on refusals.
 * Known limitations: buckets are per process.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ClickHouseAuth } from '../../storage/clickhouse-http.js';
import { LOCAL_USER, localCredentialOk } from '../../storage/discovery.js';
import { NONCE, httpPayload, type Permission } from '../auth.js';
import type { RequestAuth } from '../config.js';
import { KeyedBuckets, retryAfterSeconds } from '../rate-limit.js';
import { errorHandler, replyError } from './errors.js';

function tooMany(reply: FastifyReply, waitMs: number, what: string): FastifyReply {
  const s = retryAfterSeconds(waitMs);
  return replyError(reply.header('retry-after', String(s)), 429, 'rate_limited', `too many requests ${what}; retry after ${s} s`);
}

export const authPlugin = fp(async (app: FastifyInstance) => {
  const { keys, httpLimits, localSecret } = app.tradsys;
  const keyBuckets = new KeyedBuckets(httpLimits.key);
  const addressBuckets = new KeyedBuckets(httpLimits.address);

  app.decorateRequest('auth', null);
  // keep the raw JSON body: signatures cover the bytes the client sent
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    (req as FastifyRequest & { rawBody?: string }).rawBody = body as string;
    try {
      done(null, body === '' ? undefined : JSON.parse(body as string));
    } catch {
      const e = new Error('body is not valid JSON') as Error & { statusCode: number; code: string };
      e.statusCode = 400;
      e.code = 'bad_json';
      done(e, undefined);
    }
  });
  app.addHook('onRequest', async (req, reply) => {
    const rc = req.routeOptions.config;
    // signed routes and the ClickHouse endpoint's query routes: the address is charged only when
    // authentication fails (authenticate, the endpoint's `refused`); an accepted key is charged to its own bucket
    const deferred = rc?.signed === true || rc?.chargedAfterAuth === true;
    const wait = deferred ? addressBuckets.peek(req.ip) : addressBuckets.take(req.ip);
    if (wait > 0) return tooMany(reply, wait, 'from this address');
    return undefined;
  });
  app.setErrorHandler(errorHandler);

  app.decorate('authenticate', (req: FastifyRequest, reply: FastifyReply, need: Permission | readonly Permission[]): RequestAuth | null => {
    // several permissions: any one of them will do (e.g. the strategy reads: admin, or read for the key's own account)
    const any = typeof need === 'string' ? null : need;
    const key = req.headers['x-ts-key'];
    const tsText = req.headers['x-ts-ts'];
    const sig = req.headers['x-ts-sig'];
    const nonce = req.headers['x-ts-nonce'];
    const ts = typeof tsText === 'string' && /^\d{1,16}$/.test(tsText) ? Number(tsText) : Number.NaN;
    const body = (req as FastifyRequest & { rawBody?: string }).rawBody ?? '';
    const nonceOk = nonce === undefined || (typeof nonce === 'string' && NONCE.test(nonce));
    const v = nonceOk
      ? keys.verify(key, Number.isNaN(ts) ? undefined : ts, sig, httpPayload(req.method, req.url, body, nonce as string | undefined), any === null ? need as Permission : undefined)
      : { ok: false as const, reason: 'malformed' as const };
    const r = v.ok && any !== null && !any.some((p) => v.permissions.includes(p)) ? { ok: false as const, reason: 'forbidden' as const } : v;
    if (r.ok) {
      const wait = keyBuckets.take(r.key);
      if (wait > 0) { void tooMany(reply, wait, 'for this API key'); return null; }
      const auth: RequestAuth = { account: r.account, key: r.key, permissions: r.permissions };
      req.auth = auth;
      return auth;
    }
    addressBuckets.take(req.ip);
    const keyId = typeof key === 'string' ? key.slice(0, 64) : null;
    const known = keyId === null ? undefined : keys.get(keyId);
    const who = { account: known?.account ?? null, key: keyId, ip: req.ip, transport: 'http', method: req.method, url: req.url.slice(0, 256) };
    if (r.reason === 'forbidden') {
      const needText = any === null ? need as string : any.join(' or ');
      req.log.warn({ audit: 'permission.denied', ...who, outcome: 'denied', need: needText }, `key lacks the ${needText} permission`);
      void replyError(reply, 403, 'forbidden', `this key lacks the ${needText} permission`);
      return null;
    }
    req.log.warn({ audit: 'auth.failure', ...who, outcome: 'denied', reason: r.reason }, `authentication failed: ${r.reason}`);
    const reason = r.reason === 'unknown_key' || r.reason === 'bad_signature' ? 'invalid_credentials' : r.reason;
    void replyError(reply, 401, reason, 'sign key + ts + METHOD + url + body with HMAC-SHA256 (docs/protocol.md)');
    return null;
  });

  /**
   * The ClickHouse-compatible endpoint's user/password: an analyst key and its secret, or the
   * local credential. An accepted key is charged to its own HTTP bucket (like a signed request);
   * a refusal is charged to the address by the endpoint (`refused`), once.
   */
  app.decorate('clickhouseAuth', (user: string, password: string, req: FastifyRequest): ClickHouseAuth => {
    let who: ClickHouseAuth;
    if (user === LOCAL_USER) {
      who = localCredentialOk(localSecret, password, req) ? { ok: true, key: LOCAL_USER, account: null } : { ok: false, reason: 'bad_signature', account: null };
    } else {
      const r = keys.checkSecret(user, password, 'analyst');
      if (!r.ok) {
        const reason = r.reason === 'forbidden' || r.reason === 'bad_signature' || r.reason === 'malformed' ? r.reason : 'unknown_key';
        return { ok: false, reason, account: reason === 'unknown_key' ? null : keys.get(user)?.account ?? null };
      }
      who = { ok: true, key: r.key, account: r.account };
    }
    if (!who.ok) return who;
    const wait = keyBuckets.take(who.key);
    return wait > 0 ? { ok: false, reason: 'rate_limited', waitMs: wait } : who;
  });
  app.decorate('refuseAddress', (req: FastifyRequest): void => { addressBuckets.take(req.ip); });
}, { name: 'tradsys-auth', fastify: '5.x' });
