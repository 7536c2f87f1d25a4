/**
 * REST for the dashboard: same-origin fetch with JSON, and signed requests (docs/protocol.md
 * "HTTP"): headers X-TS-KEY, X-TS-TS (epoch ms), X-TS-NONCE (16 random hex digits, so two equal
 * requests in one millisecond are not replays) and X-TS-SIG = hex(HMAC-SHA256(secret,
 * key + ts + ":" + nonce + METHOD + url + body)), url = path with its query string, body the exact
 * bytes sent. The signature comes from the page's key holder (keys.ts); the secret never reaches
 * this module.
 *
 * Layout: `HttpApi.get/send` → `ApiError` on any non-2xx answer, with the body's `error` name
 * (docs/errors.md "HTTP error replies") and `message`.
 * Invariants: a signed request without a key fails before anything is sent (`no_key`); the body
 * signed is the body sent (one JSON.stringify).
 * Complexity: O(body). Allocation: per request.
 * Known limitations: ns timestamps in answers are parsed as doubles (≈ 256 ns precision), fine for display.
 */
import type { Api, ApiFailure } from './types.js';
import type { PageKeys } from './keys.js';

export class ApiError extends Error implements ApiFailure {
  constructor(readonly status: number, readonly error: string, message: string, readonly body: unknown = null) {
    super(message);
    this.name = 'ApiError';
  }
  /** `error — message (HTTP status)`, what the page shows. */
  describe(): string { return `${this.error}${this.message && this.message !== this.error ? ` — ${this.message}` : ''}${this.status ? ` (HTTP ${this.status})` : ''}`; }
}

function nonce(): string {
  const b = new Uint8Array(8);
  crypto.getRandomValues(b);
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export class HttpApi implements Api {
  constructor(private readonly keys: PageKeys, private readonly base = '') {}

  get<T = unknown>(path: string, opts: { signed?: boolean; signal?: AbortSignal } = {}): Promise<T> {
    return this.request<T>('GET', path, undefined, opts.signed === true, opts.signal);
  }

  send<T = unknown>(method: 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, opts: { signed?: boolean; signal?: AbortSignal } = {}): Promise<T> {
    return this.request<T>(method, path, body, opts.signed !== false, opts.signal);
  }

  private async request<T>(method: string, path: string, body: unknown, signed: boolean, signal?: AbortSignal): Promise<T> {
    if (!path.startsWith('/')) throw new ApiError(0, 'bad_request', `path must start with /: ${path}`);
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (text !== '') headers['content-type'] = 'application/json';
    if (signed) {
      const key = this.keys.keyId;
      if (key === null) throw new ApiError(0, 'no_key', 'enter an API key (top right) to use this');
      const ts = String(Date.now());
      const n = nonce();
      let sig: string;
      try { sig = await this.keys.sign(`${key}${ts}:${n}${method}${path}${text}`); } catch (e) { throw new ApiError(0, 'no_key', (e as Error).message); }
      Object.assign(headers, { 'x-ts-key': key, 'x-ts-ts': ts, 'x-ts-nonce': n, 'x-ts-sig': sig });
    }
    let res: Response;
    try {
      res = await fetch(this.base + path, { method, headers, body: text === '' ? undefined : text, signal, cache: 'no-store', credentials: 'omit' });
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      throw new ApiError(0, 'unreachable', `the gateway cannot be reached (${(e as Error).message})`);
    }
    const raw = await res.text();
    let parsed: unknown = null;
    if (raw !== '') {
      try { parsed = JSON.parse(raw); } catch { parsed = raw; }
    }
    if (!res.ok) {
      const b = (parsed ?? {}) as { error?: unknown; message?: unknown };
      const name = typeof b.error === 'string' ? b.error : `http_${res.status}`;
      throw new ApiError(res.status, name, typeof b.message === 'string' ? b.message : res.statusText, parsed);
    }
    return parsed as T;
  }
}

/** A failure as one line for the page. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) return e.describe();
  if (e instanceof Error) return e.message;
  return String(e);
}
