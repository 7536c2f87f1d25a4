/**
 * API keys and request authentication (Binance-style HMAC-SHA256), shared by HTTP and WebSocket.
 *
 * Owns: the key store (`<data>/keys.json`), key creation and revocation, the live view of the file
 * a running server keeps, and signature verification: sig = hex(HMAC-SHA256(secret, key + ts +
 * payload)) with ts in epoch milliseconds within a receive window, compared in constant time, each
 * signature accepted once (replays within the window are refused). The WebSocket `auth` message
 * signs an empty payload, i.e. exactly `key + ts` (DESIGN "Client protocol"); a client that signs
 * two identical requests in one millisecond adds a nonce (`:` + nonce before the payload,
 * docs/protocol.md), which makes the signatures differ.
 *
 * Layout: keys.json = `{"version":1,"keys":[{key, secret, account, permissions, created,
 * revoked?}]}`, mode 0600, next to `keys.json.lock` (present only while a writer holds it: the
 * pid of the holder). Writers (the CLI, the server's admin routes) take the lock, re-read the
 * file, apply their change, write a temporary file (fsync), rename it over keys.json and fsync the
 * directory, then release the lock: concurrent writers never lose each other's keys and a reader
 * sees the old file or the new one, never a mix.
 * Invariants: secrets are never logged nor returned by list(); a revoked or deleted key fails like
 * an unknown one; a file that does not parse or validate never replaces the keys in memory (the
 * last good set stays in force and `watch` reports the error); a writer never overwrites a file it
 * could not read (it fails instead); every change of the set in memory is reported once to the
 * listeners (source `file` for changes another process wrote, `local` for this process's own).
 * The running server's view: `watch` polls the file's stat every 200 ms (and re-reads a file
 * modified in the last 2 s, whose stat may not show a same-size edit) and puts a changed text in
 * force; writes by this process are in force at once.
 * Complexity: O(1) per verification; a reload or write is O(keys).
 * Allocation: one HMAC per verification; reloads and writes allocate (never on the order path).
 * Known limitations: the replay cache is per process (one gateway process per data directory).
 * Writers block their thread while they wait for the lock (at most `lockTimeoutMs`, default 5 s;
 * a write holds it for a few ms). A lock whose holder's pid is gone, or an empty lock older than
 * 10 s, is taken over; two writers taking over the same stale lock at the same instant could both
 * proceed (the window is a few µs after a crash).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TradsysError } from '../domain/errors.js';

/** trade: order entry · read: own orders and trades · admin: halts, kill switches, keys (docs/risk.md, docs/security.md) · analyst: POST /api/v1/sql. */
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

export type PublicKey = Omit<ApiKey, 'secret'>;

export type AuthFailure = 'unknown_key' | 'bad_signature' | 'stale_timestamp' | 'replay' | 'forbidden' | 'malformed';

export type AuthResult = { ok: true; account: number; key: string; permissions: Permission[] } | { ok: false; reason: AuthFailure };

/** A nonce: 1-64 characters of letters, digits, `_` and `-` (no `:` and no `/`, so the signed string parses one way only). */
export const NONCE = /^[A-Za-z0-9_-]{1,64}$/;

/** The hex signature a client sends: HMAC-SHA256(secret, key + ts + payload). */
export function sign(secret: string, key: string, ts: number, payload = ''): string {
  return createHmac('sha256', secret).update(key + String(ts) + payload).digest('hex');
}

/** The payload of a signed HTTP request: [":" + nonce] + METHOD + url + body (docs/protocol.md "HTTP"). */
export function httpPayload(method: string, url: string, body: string, nonce?: string): string {
  return (nonce === undefined ? '' : ':' + nonce) + method + url + body;
}

/** Who made a change through the API (for the audit log). */
export interface Actor { account: number; key: string; ip: string }

/** One change of the key set in force: a key that appeared, was revoked (or deleted), or whose account, permissions or secret changed. */
export interface KeyChange {
  kind: 'created' | 'revoked' | 'changed';
  key: PublicKey;
  /** `local`: made by this process (its API or its CLI); `file`: written by another process (the CLI, an editor) and seen in the file. */
  source: 'local' | 'file';
  by?: Actor;
}

export interface KeyStoreOptions {
  /** Accepted clock skew either way, ms (default 5000). */
  recvWindowMs?: number;
  /** Clock (tests inject one). */
  now?: () => number;
  /** How long a writer waits for `keys.json.lock`, ms (default 5000). */
  lockTimeoutMs?: number;
}

const STALE_EMPTY_LOCK_MS = 10_000;
/** poll() re-reads a file modified this recently even if its stat looks unchanged. */
const RECENT_MS = 2000;
const DUMMY_SECRET = randomBytes(32).toString('hex');

export class KeyStore {
  readonly path: string;
  readonly lockPath: string;
  private keys = new Map<string, ApiKey>();
  private readonly recvWindow: number;
  private readonly now: () => number;
  private readonly lockTimeout: number;
  /** Recently accepted signatures: sig → expiry (ms). */
  private readonly seen = new Map<string, number>();
  private readonly listeners: ((c: KeyChange) => void)[] = [];
  /** stat identity of the file last read or written ('' = not yet; 'absent'). */
  private fileSig = '';
  /** The text of keys.json last read or written (null: no file). */
  private lastText: string | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly dataDir: string, opts: KeyStoreOptions = {}) {
    this.path = join(dataDir, 'keys.json');
    this.lockPath = this.path + '.lock';
    this.recvWindow = opts.recvWindowMs ?? 5000;
    this.now = opts.now ?? Date.now;
    this.lockTimeout = opts.lockTimeoutMs ?? 5000;
    this.fileSig = this.statSig();
    this.lastText = this.readText();
    if (this.lastText !== null) this.keys = this.parse(this.lastText);
  }

  /** Calls `fn` for every change of the keys in force (see KeyChange). */
  onChange(fn: (c: KeyChange) => void): void {
    this.listeners.push(fn);
  }

  /** Creates a key for `account` and persists it; returns it with its secret (shown once). */
  create(account: number, permissions: Permission[] = ['trade', 'read'], by?: Actor): ApiKey {
    if (!Number.isInteger(account) || account < 1 || account > 0xffffffff) throw new TradsysError('ERR_CLI_USAGE', `account must be an integer in [1, 4294967295], got ${String(account)}`);
    for (const p of permissions) if (!PERMISSIONS.includes(p)) throw new TradsysError('ERR_CLI_USAGE', `unknown permission "${p}" (trade, read, admin, analyst)`);
    if (permissions.length === 0) throw new TradsysError('ERR_CLI_USAGE', 'a key needs at least one permission');
    const k: ApiKey = {
      key: 'tk_' + randomBytes(12).toString('hex'), secret: randomBytes(32).toString('hex'), account,
      permissions: [...new Set(permissions)], created: new Date(this.now()).toISOString(),
    };
    this.mutate((keys) => { keys.set(k.key, k); }, by);
    return { ...k, permissions: [...k.permissions] };
  }

  /** Revokes an active key (false: no such key, or already revoked). Takes effect at once in this process. */
  revoke(key: string, by?: Actor): boolean {
    return this.mutate((keys) => {
      const k = keys.get(key);
      if (!k || k.revoked) return false;
      keys.set(key, { ...k, revoked: new Date(this.now()).toISOString() });
      return true;
    }, by);
  }

  /** Keys without their secrets. */
  list(): PublicKey[] {
    return [...this.keys.values()].map(pub);
  }

  /** One key without its secret (revoked ones too), or undefined. */
  get(key: string): PublicKey | undefined {
    const k = this.keys.get(key);
    return k ? pub(k) : undefined;
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
    if (!k || k.revoked) {
      sign(DUMMY_SECRET, key, ts, payload); // the same work as for a known key: timing tells nothing about which keys exist
      return { ok: false, reason: 'unknown_key' };
    }
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
   * Re-reads keys.json if it changed since it was last read or written, and puts it in force.
   * The file is read when its identity (inode, size, times) changed, or while it was modified in
   * the last RECENT_MS (file times are as coarse as the kernel tick: two same-size edits within
   * one tick look alike), and used only if its text differs from the last text seen. A file that
   * does not parse or validate, or that is missing, leaves the keys in force as they are and is
   * reported through `onError` (once per content). Returns the changes.
   */
  poll(onError?: (message: string) => void): KeyChange[] {
    let sig = 'absent';
    let recent = false;
    try {
      const st = statSync(this.path);
      sig = `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
      recent = Date.now() - st.mtimeMs < RECENT_MS;
    } catch { /* absent */ }
    if (sig === this.fileSig && !recent) return [];
    const report = (m: string): void => onError?.(`${m}; keeping the ${this.activeCount()} active keys in force`);
    let text: string | null;
    try {
      text = this.readText();
    } catch (e) {
      if (sig !== this.fileSig) report((e as Error).message);
      this.fileSig = sig;
      return [];
    }
    this.fileSig = sig;
    if (text === this.lastText) return [];
    this.lastText = text;
    if (text === null) { report(`${this.path} is missing`); return []; }
    let disk: Map<string, ApiKey>;
    try {
      disk = this.parse(text);
    } catch (e) {
      report((e as Error).message);
      return [];
    }
    return this.adopt(disk, 'file');
  }

  /** Checks keys.json every `intervalMs` (default 200 ms) and puts changes in force (see poll). */
  watch(intervalMs = 200, onError?: (message: string) => void): void {
    this.unwatch();
    this.timer = setInterval(() => {
      try { this.poll(onError); } catch (e) { onError?.((e as Error).message); }
    }, intervalMs);
    this.timer.unref();
  }

  unwatch(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private activeCount(): number {
    let n = 0;
    for (const k of this.keys.values()) if (!k.revoked) n++;
    return n;
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

  private statSig(): string {
    try {
      const st = statSync(this.path);
      return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
    } catch {
      return 'absent';
    }
  }

  /** The text of keys.json (null: no file). */
  private readText(): string | null {
    try {
      return readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new TradsysError('ERR_KEYS_STORE', `cannot read ${this.path}: ${(e as Error).message}`);
    }
  }

  /** The keys of a keys.json text. Throws ERR_KEYS_STORE for a text that does not parse or validate. */
  private parse(text: string): Map<string, ApiKey> {
    let doc: { version?: unknown; keys?: unknown };
    try {
      doc = JSON.parse(text) as typeof doc;
    } catch (e) {
      throw new TradsysError('ERR_KEYS_STORE', `${this.path} is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof doc !== 'object' || doc === null || doc.version !== 1 || !Array.isArray(doc.keys)) throw new TradsysError('ERR_KEYS_STORE', `${this.path}: unsupported key store format`);
    const keys = new Map<string, ApiKey>();
    doc.keys.forEach((k: unknown, i: number) => {
      const bad = validKey(k);
      if (bad) throw new TradsysError('ERR_KEYS_STORE', `${this.path}: key ${i + 1}: ${bad}`);
      const v = k as ApiKey;
      if (keys.has(v.key)) throw new TradsysError('ERR_KEYS_STORE', `${this.path}: key ${v.key} appears twice`);
      keys.set(v.key, v);
    });
    return keys;
  }

  /** Puts `next` in force and reports what changed. */
  private adopt(next: Map<string, ApiKey>, source: 'local' | 'file', by?: Actor): KeyChange[] {
    const changes: KeyChange[] = [];
    const prev = this.keys;
    for (const [id, k] of prev) {
      if (k.revoked) continue;
      const n = next.get(id);
      if (!n || n.revoked) changes.push({ kind: 'revoked', key: pub(n ?? { ...k, revoked: new Date(this.now()).toISOString() }), source });
      else if (n.account !== k.account || n.secret !== k.secret || n.permissions.join() !== k.permissions.join()) changes.push({ kind: 'changed', key: pub(n), source });
    }
    for (const [id, n] of next) {
      const k = prev.get(id);
      if (n.revoked) {
        // made and revoked between two reads: never in force here, but both changes are reported
        if (!k) changes.push({ kind: 'created', key: pub({ ...n, revoked: undefined }), source }, { kind: 'revoked', key: pub(n), source });
        continue;
      }
      if (!k || k.revoked) changes.push({ kind: 'created', key: pub(n), source });
    }
    this.keys = next;
    for (const c of changes) {
      if (by) c.by = by;
      for (const l of this.listeners) l(c);
    }
    return changes;
  }

  /**
   * Read-modify-write of keys.json under the lock: changes other processes wrote are put in force
   * first (reported as `file`), then `fn` runs on the file's keys, the result is written and put
   * in force (reported as `local`). A file that cannot be read is never overwritten.
   */
  private mutate<T>(fn: (keys: Map<string, ApiKey>) => T, by?: Actor): T {
    const release = this.lock();
    try {
      const text = this.readText();
      const disk = text === null ? new Map(this.keys) : this.parse(text); // a missing file is rewritten with the keys in force
      if (text !== null && text !== this.lastText) this.adopt(new Map(disk), 'file');
      const r = fn(disk);
      this.lastText = this.write(disk);
      this.fileSig = this.statSig();
      this.adopt(disk, 'local', by);
      return r;
    } finally {
      release();
    }
  }

  /** Takes keys.json.lock (O_EXCL), waiting up to lockTimeoutMs; returns its release. */
  private lock(): () => void {
    mkdirSync(this.dataDir, { recursive: true, mode: 0o700 });
    const deadline = Date.now() + this.lockTimeout;
    for (;;) {
      try {
        const fd = openSync(this.lockPath, 'wx', 0o600);
        try { writeSync(fd, `${process.pid}\n`); } finally { closeSync(fd); }
        return () => { try { unlinkSync(this.lockPath); } catch { /* already gone */ } };
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new TradsysError('ERR_KEYS_STORE', `cannot create ${this.lockPath}: ${(e as Error).message}`);
      }
      const holder = this.lockHolder();
      if (holder === 'stale') { try { unlinkSync(this.lockPath); } catch { /* taken over by another */ } continue; }
      if (Date.now() >= deadline) {
        throw new TradsysError('ERR_KEYS_LOCKED', `${this.lockPath} is held${holder === null ? '' : ` by process ${holder}`}; retry, or remove the file if no tradsys process is changing keys`);
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }

  /** The pid holding the lock, 'stale' if it is gone (or the lock is empty and old), null if unknown. */
  private lockHolder(): number | 'stale' | null {
    let text: string;
    let age: number;
    try {
      text = readFileSync(this.lockPath, 'utf8');
      age = Date.now() - statSync(this.lockPath).mtimeMs;
    } catch {
      return null; // released meanwhile: the next open decides
    }
    const pid = Number(text.trim());
    if (!Number.isSafeInteger(pid) || pid <= 0) return age > STALE_EMPTY_LOCK_MS ? 'stale' : null;
    if (pid === process.pid) return pid; // this process (another KeyStore): wait for it
    try {
      process.kill(pid, 0);
      return pid;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH' ? 'stale' : pid;
    }
  }

  /** Writes keys.json atomically: temporary file (0600, fsync), rename, directory fsync. Returns the text written. */
  private write(keys: Map<string, ApiKey>): string {
    const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const text = JSON.stringify({ version: 1, keys: [...keys.values()] }, null, 2) + '\n';
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } catch (e) {
      closeSync(fd);
      try { unlinkSync(tmp); } catch { /* best effort */ }
      throw new TradsysError('ERR_KEYS_STORE', `cannot write ${tmp}: ${(e as Error).message}`);
    }
    closeSync(fd);
    renameSync(tmp, this.path);
    const dfd = openSync(this.dataDir, 'r');
    try { fsyncSync(dfd); } finally { closeSync(dfd); }
    return text;
  }
}

function pub(k: ApiKey): PublicKey {
  const { secret: _s, revoked, ...rest } = k;
  return revoked === undefined ? { ...rest, permissions: [...k.permissions] } : { ...rest, permissions: [...k.permissions], revoked };
}

/** Why `k` is not a valid key entry (null: valid). */
function validKey(k: unknown): string | null {
  if (typeof k !== 'object' || k === null) return 'not an object';
  const v = k as Record<string, unknown>;
  if (typeof v.key !== 'string' || !/^[\x21-\x7e]{1,64}$/.test(v.key)) return '"key" must be 1-64 printable ASCII characters';
  if (typeof v.secret !== 'string' || v.secret.length < 16) return '"secret" must be a string of at least 16 characters';
  if (typeof v.account !== 'number' || !Number.isInteger(v.account) || v.account < 1 || v.account > 0xffffffff) return '"account" must be an integer in [1, 4294967295]';
  if (!Array.isArray(v.permissions) || v.permissions.length === 0 || !v.permissions.every((p) => PERMISSIONS.includes(p as Permission))) return '"permissions" must list trade, read, admin or analyst';
  if (typeof v.created !== 'string') return '"created" must be a date string';
  if (v.revoked !== undefined && typeof v.revoked !== 'string') return '"revoked" must be a date string';
  return null;
}

