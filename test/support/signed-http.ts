/**
 * A signed-HTTP caller bound to a base URL for the gateway tests: `signed()` of
 * test/support/gateway-client.ts (one strictly increasing timestamp per process, so a (key, ts)
 * pair is never reused), answering { status, json } with the JSON body as a record.
 */
import type { ApiKey } from '../../src/gateway/auth.js';
import { signed } from './gateway-client.js';

export type Json = Record<string, unknown>;
export type SignedCall = (k: ApiKey, method: string, path: string, body?: unknown) => Promise<{ status: number; json: Json }>;

/** A caller against the base URL that `base()` returns at call time. */
export function signedCaller(base: () => string): SignedCall {
  return async (k, method, path, body) => {
    const r = await signed(base(), k, method, path, body);
    return { status: r.status, json: r.json as Json };
  };
}
