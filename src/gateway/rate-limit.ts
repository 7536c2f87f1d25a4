/**
 * Keyed token buckets for the HTTP API: one bucket per API key (authenticated requests) and one
 * per remote address (requests without valid credentials).
 *
 * Owns: bucket state per key, refill (continuous, `perSecond` tokens/s up to `burst`), the
 * `Retry-After` computation, and a bound on the number of keys held.
 * Layout: Map<key, { tokens, at }>, insertion-ordered (oldest first).
 * Invariants: 0 ≤ tokens ≤ burst after refill; a key not in the map has a full bucket, so
 * forgetting an idle key changes no answer; `retryAfterMs` > 0 whenever a request is refused.
 * Complexity: O(1) per request; O(n) sweep when the map passes `maxKeys` (amortised O(1): a sweep
 * only runs after `maxKeys / 2` insertions).
 * Allocation: one small object per new key; none for a key already held.
 * Known limitations: per process (one gateway process); when more than `maxKeys` distinct keys
 * are active at once the oldest are forgotten, which hands them a full bucket.
 */
import { TradsysError } from '../domain/errors.js';

export interface RateLimit {
  /** Sustained requests per second. */
  perSecond: number;
  /** Bucket size: requests allowed at once after an idle period. */
  burst: number;
}

interface Bucket { tokens: number; at: number }

export class KeyedBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(readonly limit: RateLimit, private readonly now: () => number = Date.now, private readonly maxKeys = 100_000) {
    if (!(limit.perSecond > 0) || !(limit.burst >= 1) || !Number.isFinite(limit.perSecond + limit.burst)) {
      throw new TradsysError('ERR_GATEWAY_CONFIG', `a rate limit needs perSecond > 0 and burst ≥ 1, got ${JSON.stringify(limit)}`);
    }
  }

  /** Takes one token for `key`; returns 0 if the request may proceed, else ms until one token is available. */
  take(key: string): number {
    const b = this.refill(key);
    if (b.tokens < 1) return this.wait(b);
    b.tokens -= 1;
    return 0;
  }

  /** Like `take` but leaves the bucket as it is: ms until `key` has a token (0: it has one now). */
  peek(key: string): number {
    const b = this.buckets.get(key);
    if (!b) return 0;
    const tokens = Math.min(this.limit.burst, b.tokens + ((this.now() - b.at) * this.limit.perSecond) / 1000);
    return tokens >= 1 ? 0 : this.wait({ tokens, at: 0 });
  }

  /** Keys currently held (for tests and metrics). */
  get size(): number { return this.buckets.size; }

  private refill(key: string): Bucket {
    const now = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= this.maxKeys) this.sweep(now);
      b = { tokens: this.limit.burst, at: now };
      this.buckets.set(key, b);
      return b;
    }
    b.tokens = Math.min(this.limit.burst, b.tokens + ((now - b.at) * this.limit.perSecond) / 1000);
    b.at = now;
    return b;
  }

  private wait(b: Bucket): number {
    return Math.max(1, Math.ceil(((1 - b.tokens) * 1000) / this.limit.perSecond));
  }

  /** Forgets buckets that have refilled completely (no answer changes), then the oldest until half the bound is free. */
  private sweep(now: number): void {
    const full = (this.limit.burst * 1000) / this.limit.perSecond;
    for (const [k, b] of this.buckets) if (now - b.at >= full) this.buckets.delete(k);
    for (const k of this.buckets.keys()) {
      if (this.buckets.size <= this.maxKeys / 2) break;
      this.buckets.delete(k);
    }
  }
}

/** `Retry-After` header value: whole seconds, at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
