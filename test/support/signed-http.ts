/**
 * Signed HTTP requests for the gateway tests (X-TS-KEY / X-TS-TS / X-TS-SIG over key + ts +
 * METHOD + url + body), with a strictly increasing timestamp per key (a (key, ts) pair is accepted
 * once).
 */
import { sign, type ApiKey } from '../../src/gateway/auth.js';

export type Json = Record<string, unknown>;
export type SignedCall = (k: ApiKey, method: string, path: string, body?: unknown) => Promise<{ status: number; json: Json }>;

/** A caller against the base URL that `base()` returns at call time. */
export function signedCaller(base: () => string): SignedCall {
  const lastTs = new Map<string, number>();
  return async (k, method, path, body) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    const ts = Math.max(Date.now(), (lastTs.get(k.key) ?? 0) + 1);
    lastTs.set(k.key, ts);
    const r = await fetch(base() + path, {
      method, body: body === undefined ? undefined : text,
      headers: { 'x-ts-key': k.key, 'x-ts-ts': String(ts), 'x-ts-sig': sign(k.secret, k.key, ts, method + path + text), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    });
    return { status: r.status, json: await r.json() as Json };
  };
}
