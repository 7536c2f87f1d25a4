/**
 * API keys and request authentication (Binance-style HMAC-SHA256), shared by HTTP and WebSocket.
 *
 * Owns: the key store (`<data>/keys.json`, file mode 0600, written atomically), key creation and
 * revocation, and signature verification: sig = hex(HMAC-SHA256(secret, key + ts + payload)) with
 * ts in epoch milliseconds within a receive window, compared in constant time, each (key, ts, sig)
 * accepted once (replays within the window are refused). The WebSocket `auth` message signs an
 * empty payload, i.e. exactly `key + ts` (DESIGN "Client protocol").
 * Invariants: secrets are never logged nor returned by list(); a revoked key fails like an
 * unknown one. Complexity: O(1) per verification. Allocation: one HMAC per verification.
 * Known limitations: the replay cache is per process (one gateway process per data directory).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { TradsysError } from '../domain/errors.js';

/** trade: order entry · read: own orders and trades · admin: halts and kill switches (docs/risk.md) · analyst: POST /api/v1/sql. */
export type Permission = 'trade' | 'read' | 'admin' | 'analyst';
export const PERMISSIONS: readonly Permission[] = ['trade', 'read', 'admin', 'analyst'];

export interface ApiKey {
  key: string;
  secret: string;
  account: number;
  permissions: Permission[];
  created: string;
  revoked?: string;
}

export type AuthFailure = 'unknown_key' | 'bad_signature' | 'stale_timestamp' | 'replay' | 'forbidden' | 'malformed';

export type AuthResult = { ok: true; account: number; key: string; permissions: Permission[] } | { ok: false; reason: AuthFailure };

/** The hex signature a client sends: HMAC-SHA256(secret, key + ts + payload). */
export function sign(secret: string, key: string, ts: number, payload = ''): string {
  return createHmac('sha256', secret).update(key + String(ts) + payload).digest('hex');
}

export interface KeyStoreOptions {
  /** Accepted clock skew either way, ms (default 5000). */
  recvWindowMs?: number;
  /** Clock (tests inject one). */
  now?: () => number;
}

export class KeyStore {
  readonly path: string;
  private readonly keys = new Map<string, ApiKey>();
  private readonly recvWindow: number;
  private readonly now: () => number;
  /** Recently accepted signatures: sig → expiry (ms). */
  private readonly seen = new Map<string, number>();

  constructor(readonly dataDir: string, opts: KeyStoreOptions = {}) {
    this.path = join(dataDir, 'keys.json');
    this.recvWindow = opts.recvWindowMs ?? 5000;
    this.now = opts.now ?? Date.now;
    if (existsSync(this.path)) {
      let doc: { version?: number; keys?: ApiKey[] };
      try {
        doc = JSON.parse(readFileSync(this.path, 'utf8')) as typeof doc;
      } catch (e) {
        throw new TradsysError('ERR_KEYS_STORE', `${this.path} is not valid JSON: ${(e as Error).message}`);
      }
      if (doc.version !== 1 || !Array.isArray(doc.keys)) throw new TradsysError('ERR_KEYS_STORE', `${this.path}: unsupported key store format`);
      for (const k of doc.keys) this.keys.set(k.key, k);
    }
  }

  /** Creates a key for `account` and persists it; returns it with its secret (shown once). */
  create(account: number, permissions: Permission[] = ['trade', 'read']): ApiKey {
    if (!Number.isInteger(account) || account < 1 || account > 0xffffffff) throw new TradsysError('ERR_CLI_USAGE', `account must be an integer in [1, 4294967295], got ${String(account)}`);
    for (const p of permissions) if (!PERMISSIONS.includes(p)) throw new TradsysError('ERR_CLI_USAGE', `unknown permission "${p}" (trade, read, admin, analyst)`);
    if (permissions.length === 0) throw new TradsysError('ERR_CLI_USAGE', 'a key needs at least one permission');
    const k: ApiKey = {
      key: 'tk_' + randomBytes(12).toString('hex'), secret: randomBytes(32).toString('hex'), account,
      permissions: [...new Set(permissions)], created: new Date(this.now()).toISOString(),
    };
    this.keys.set(k.key, k);
    this.save();
    return k;
  }

  revoke(key: string): boolean {
    const k = this.keys.get(key);
    if (!k || k.revoked) return false;
    k.revoked = new Date(this.now()).toISOString();
    this.save();
    return true;
  }

  /** Keys without their secrets. */
  list(): Omit<ApiKey, 'secret'>[] {
    return [...this.keys.values()].map(({ secret: _s, ...rest }) => rest);
  }

  /**
   * Checks a signed request. `need` is the permission the operation requires. Failures are
   * reported by reason; callers answer unknown_key and bad_signature alike to the client.
   */
  verify(key: unknown, ts: unknown, sig: unknown, payload = '', need?: Permission): AuthResult {
    if (typeof key !== 'string' || typeof sig !== 'string' || typeof ts !== 'number' || !Number.isSafeInteger(ts) || !/^[0-9a-f]{64}$/.test(sig)) {
      return { ok: false, reason: 'malformed' };
    }
    const k = this.keys.get(key);
    if (!k || k.revoked) return { ok: false, reason: 'unknown_key' };
    const now = this.now();
    if (Math.abs(now - ts) > this.recvWindow) return { ok: false, reason: 'stale_timestamp' };
    const want = Buffer.from(sign(k.secret, key, ts, payload), 'hex');
    if (!timingSafeEqual(want, Buffer.from(sig, 'hex'))) return { ok: false, reason: 'bad_signature' };
    this.expire(now);
    if (this.seen.has(sig)) return { ok: false, reason: 'replay' };
    this.seen.set(sig, now + 2 * this.recvWindow);
    if (need && !k.permissions.includes(need)) return { ok: false, reason: 'forbidden' };
    return { ok: true, account: k.account, key, permissions: k.permissions };
  }

  /**
   * Checks a key and its secret sent as a password (the ClickHouse-compatible endpoint, where
   * clients speak user/password), in constant time; revoked keys fail like unknown ones.
   */
  checkSecret(key: unknown, secret: unknown, need?: Permission): AuthResult {
    if (typeof key !== 'string' || typeof secret !== 'string' || key.length > 128 || secret.length > 256) return { ok: false, reason: 'malformed' };
    const k = this.keys.get(key);
    const want = createHmac('sha256', 'tradsys-password').update(k && !k.revoked ? k.secret : randomBytes(32).toString('hex')).digest();
    const got = createHmac('sha256', 'tradsys-password').update(secret).digest();
    if (!timingSafeEqual(want, got) || !k || k.revoked) return { ok: false, reason: k && !k.revoked ? 'bad_signature' : 'unknown_key' };
    if (need && !k.permissions.includes(need)) return { ok: false, reason: 'forbidden' };
    return { ok: true, account: k.account, key, permissions: k.permissions };
  }

  private expire(now: number): void {
    if (this.seen.size < 1024) return;
    for (const [s, until] of this.seen) if (until < now) this.seen.delete(s);
  }

  /** Writes keys.json atomically (temp file, fsync, rename) with mode 0600. */
  private save(): void {
    mkdirSync(this.dataDir, { recursive: true });
    const tmp = this.path + '.tmp';
    writeFileSync(tmp, JSON.stringify({ version: 1, keys: [...this.keys.values()] }, null, 2) + '\n', { mode: 0o600 });
    const fd = openSync(tmp, 'r');
    try { fsyncSync(fd); } finally { closeSync(fd); }
    chmodSync(tmp, 0o600);
    renameSync(tmp, this.path);
  }
}
