/**
 * The one HTTP error reply (src/gateway/http/errors.ts): its body, the catalog its names come from
 * (documented once, in docs/errors.md "HTTP error replies"), and that no plugin builds an error
 * body of its own. Through a real fastify instance and `inject`.
 */
import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../src/abi/gen.js';
import { REASON_NAMES } from '../../src/abi/records.js';
import { TradsysError } from '../../src/domain/errors.js';
import { GATEWAY_HTTP_REASONS, httpReason, replyCatalogError, replyError } from '../../src/gateway/http/errors.js';

describe('HTTP error replies', () => {
  it('build {error, message, ...extra}, leave out an undefined message, and take a catalog error\'s status', async () => {
    const app = Fastify();
    app.get('/a', async (_req, reply) => replyError(reply, 422, 'bad_price', 'price is off the tick'));
    app.get('/b', async (_req, reply) => replyError(reply, 422, httpReason('price_collar'), undefined, { orderId: '7', seq: 3 }));
    app.get('/c', async (_req, reply) => replyCatalogError(reply, new TradsysError('ERR_STORAGE_BUSY', 'two running')));
    try {
      const a = await app.inject('/a');
      expect(a.statusCode).toBe(422);
      expect(a.json()).toEqual({ error: 'bad_price', message: 'price is off the tick' });
      const b = await app.inject('/b');
      expect(b.json()).toEqual({ error: 'price_collar', orderId: '7', seq: 3 });
      expect(Object.keys(b.json())).not.toContain('message');
      const c = await app.inject('/c');
      expect(c.statusCode).toBe(429);
      expect(c.json()).toEqual({ error: 'ERR_STORAGE_BUSY', message: 'two running' });
    } finally {
      await app.close();
    }
  });

  it('names only catalog reasons: an unknown reason string becomes `rejected`', () => {
    expect(httpReason('unknown_order')).toBe('unknown_order');
    expect(httpReason('busy')).toBe('busy');
    expect(httpReason('no_such_reason')).toBe('rejected');
    expect(httpReason(null)).toBe('rejected');
  });

  it('documents every wire reason name once, in docs/errors.md "HTTP error replies"', () => {
    const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
    const at = doc.indexOf('## HTTP error replies');
    expect(at).toBeGreaterThan(0);
    const section = doc.slice(at);
    for (const name of [...GATEWAY_HTTP_REASONS, ...Object.values(REASON_NAMES)]) expect(section, name).toContain(`\`${name}\``);
    // the protocol reference links to it instead of keeping a second list
    expect(readFileSync(join(ROOT, 'docs/protocol.md'), 'utf8')).toContain('errors.md#http-error-replies');
  });

  it('no plugin builds an error body itself: every `{ error: … }` goes through replyError', () => {
    const dir = join(ROOT, 'src/gateway/http');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.ts') && x !== 'errors.ts')) {
      const src = readFileSync(join(dir, f), 'utf8');
      expect(src.match(/send\(\{\s*error\b/g), f).toBeNull();
    }
  });
});
