/**
 * API keys and HMAC authentication: key store on disk (mode 0600, atomic), signature checks
 * (good, wrong secret, tampered payload, stale and future timestamps, replay, unknown, revoked,
 * missing permission, malformed), nonces, and the `tradsys keys` CLI. Live changes: several
 * processes writing keys at once lose none (lock + re-read), changes written by another process
 * are put in force by poll() and reported once, an invalid or missing file keeps the last good
 * keys, a writer never overwrites a file it cannot read, stale and live locks.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { KeyStore, httpPayload, sign, type ApiKey, type KeyChange } from '../../src/gateway/auth.js';
import { TradsysError } from '../../src/domain/errors.js';
import { ROOT } from '../../src/abi/gen.js';
import { CLI } from '../support/cli.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'keys-'));

describe('KeyStore', () => {
  it('creates keys, stores them 0600 and reloads them; list() never shows secrets', () => {
    const d = tmp();
    const s = new KeyStore(d);
    const k = s.create(42, ['trade', 'read']);
    expect(k.key).toMatch(/^tk_[0-9a-f]{24}$/);
    expect(k.secret).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(s.path).mode & 0o777).toBe(0o600);
    const again = new KeyStore(d);
    expect(again.list()).toEqual([{ key: k.key, account: 42, permissions: ['trade', 'read'], created: k.created }]);
    expect(JSON.stringify(again.list())).not.toContain(k.secret);
    expect(() => s.create(0)).toThrow(/account must be an integer/);
    expect(() => s.create(1, ['root' as never])).toThrow(/unknown permission "root" \(trade, read, admin, analyst\)/);
    expect(s.create(1, ['admin']).permissions).toEqual(['admin']);
  });

  it('verifies signatures with a receive window, once each, and with permissions', () => {
    let now = 1_700_000_000_000;
    const s = new KeyStore(tmp(), { now: () => now, recvWindowMs: 5000 });
    const k = s.create(7, ['read']);
    const ts = now;
    const good = sign(k.secret, k.key, ts);
    expect(s.verify(k.key, ts, good)).toEqual({ ok: true, account: 7, key: k.key, permissions: ['read'] });
    expect(s.verify(k.key, ts, good)).toEqual({ ok: false, reason: 'replay' });
    expect(s.verify(k.key, ts + 1, sign('0'.repeat(64), k.key, ts + 1))).toEqual({ ok: false, reason: 'bad_signature' });
    const body = '{"op":"order"}';
    const signedBody = sign(k.secret, k.key, ts + 2, body);
    expect(s.verify(k.key, ts + 2, signedBody, body.replace('order', 'cancel'))).toEqual({ ok: false, reason: 'bad_signature' });
    expect(s.verify(k.key, ts + 2, signedBody, body, 'trade')).toEqual({ ok: false, reason: 'forbidden' });
    expect(s.verify(k.key, ts - 6000, sign(k.secret, k.key, ts - 6000))).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(s.verify(k.key, ts + 6000, sign(k.secret, k.key, ts + 6000))).toEqual({ ok: false, reason: 'stale_timestamp' });
    expect(s.verify('tk_nope', ts, good)).toEqual({ ok: false, reason: 'unknown_key' });
    expect(s.verify(k.key, String(ts), good)).toEqual({ ok: false, reason: 'malformed' });
    expect(s.verify(k.key, ts, 'xyz')).toEqual({ ok: false, reason: 'malformed' });
    now += 10;
    expect(s.revoke(k.key)).toBe(true);
    expect(s.verify(k.key, now, sign(k.secret, k.key, now))).toEqual({ ok: false, reason: 'unknown_key' });
    expect(s.revoke(k.key)).toBe(false);
  });

  it('refuses a corrupt key file with a clear error', () => {
    const d = tmp();
    writeFileSync(join(d, 'keys.json'), '{not json');
    expect(() => new KeyStore(d)).toThrow(/keys.json is not valid JSON/);
    writeFileSync(join(d, 'keys.json'), '{"version":9}');
    expect(() => new KeyStore(d)).toThrow(/unsupported key store format/);
  });
});

describe('tradsys keys', () => {
  it('create --json prints {account,key,secret}; list and revoke work; errors are one line', () => {
    const d = tmp();
    const r = spawnSync(process.execPath, [CLI, 'keys', 'create', '--account', '5', '--permissions', 'trade', '--data', d, '--json'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const k = JSON.parse(r.stdout) as { account: number; key: string; secret: string };
    expect(Object.keys(k)).toEqual(['account', 'key', 'secret']);
    expect(k.account).toBe(5);
    expect(readFileSync(join(d, 'keys.json'), 'utf8')).toContain(k.key);
    const l = spawnSync(process.execPath, [CLI, 'keys', 'list', '--data', d, '--json'], { encoding: 'utf8' });
    expect(JSON.parse(l.stdout)).toMatchObject([{ key: k.key, account: 5, permissions: ['trade'] }]);
    expect(l.stdout).not.toContain(k.secret);
    expect(spawnSync(process.execPath, [CLI, 'keys', 'revoke', '--key', k.key, '--data', d], { encoding: 'utf8' }).status).toBe(0);
    const bad = spawnSync(process.execPath, [CLI, 'keys', 'create', '--data', d], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/keys create needs --account A/);
  });
});

describe('nonces', () => {
  it('two requests signed in the same millisecond differ by nonce; a nonce is replayed like any signature; old clients still work', () => {
    const now = 1_700_000_000_000;
    const s = new KeyStore(tmp(), { now: () => now });
    const k = s.create(3, ['read']);
    const plain = httpPayload('GET', '/api/v1/orders?status=open', '');
    expect(plain).toBe('GET/api/v1/orders?status=open');
    // without a nonce two identical GETs in one ms have the same signature: the second is a replay
    expect(s.verify(k.key, now, sign(k.secret, k.key, now, plain), plain)).toMatchObject({ ok: true });
    expect(s.verify(k.key, now, sign(k.secret, k.key, now, plain), plain)).toEqual({ ok: false, reason: 'replay' });
    for (const nonce of ['a1', 'a2', 'Z_-9']) {
      const p = httpPayload('GET', '/api/v1/orders?status=open', '', nonce);
      expect(p).toBe(`:${nonce}GET/api/v1/orders?status=open`);
      expect(s.verify(k.key, now, sign(k.secret, k.key, now, p), p)).toMatchObject({ ok: true, account: 3 });
    }
    const p = httpPayload('GET', '/api/v1/orders?status=open', '', 'a1');
    expect(s.verify(k.key, now, sign(k.secret, k.key, now, p), p)).toEqual({ ok: false, reason: 'replay' });
    // a signature made for one nonce does not pass for another
    expect(s.verify(k.key, now, sign(k.secret, k.key, now, p), httpPayload('GET', '/api/v1/orders?status=open', '', 'a3'))).toEqual({ ok: false, reason: 'bad_signature' });
  });
});

describe('KeyStore: live changes and concurrent writers', () => {
  it('writes keys.json 0600 atomically: no temporary file or lock left behind', () => {
    const d = tmp();
    const s = new KeyStore(d);
    s.create(1);
    s.revoke(s.create(2).key);
    expect(readdirSync(d).sort()).toEqual(['keys.json']);
    expect(statSync(s.path).mode & 0o777).toBe(0o600);
    expect((JSON.parse(readFileSync(s.path, 'utf8')) as { keys: ApiKey[] }).keys).toHaveLength(2);
  });

  it('a server and several CLI processes creating keys at the same time lose none of them', async () => {
    const d = tmp();
    const server = new KeyStore(d);
    const seen: KeyChange[] = [];
    server.onChange((c) => seen.push(c));
    const authJs = join(ROOT, 'build/dist/gateway/auth.js');
    const script = `const { KeyStore } = await import(${JSON.stringify(authJs)}); const s = new KeyStore(${JSON.stringify(d)}); for (let i = 0; i < 15; i++) s.create(100 + i);`;
    const kids = [0, 1, 2].map(() => spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] }));
    const exits = kids.map((k) => new Promise<number>((res) => { let err = ''; k.stderr!.on('data', (b) => { err += String(b); }); k.on('exit', (code) => { if (code !== 0) process.stderr.write(err); res(code ?? -1); }); }));
    const mine: string[] = [];
    for (let i = 0; i < 15; i++) { mine.push(server.create(7).key); await new Promise((r) => setTimeout(r, 2)); }
    expect(await Promise.all(exits)).toEqual([0, 0, 0]);
    const onDisk = (JSON.parse(readFileSync(server.path, 'utf8')) as { keys: ApiKey[] }).keys;
    expect(onDisk).toHaveLength(60);
    expect(new Set(onDisk.map((k) => k.key)).size).toBe(60);
    for (const k of mine) expect(onDisk.some((x) => x.key === k)).toBe(true);
    server.poll();
    expect(server.list()).toHaveLength(60);
    // every key appeared exactly once in the change reports: 15 local, 45 from the file
    expect(seen.filter((c) => c.kind === 'created')).toHaveLength(60);
    expect(seen.filter((c) => c.source === 'local')).toHaveLength(15);
    expect(new Set(seen.map((c) => c.key.key)).size).toBe(60);
    expect(JSON.stringify(seen)).not.toMatch(/secret/);
    expect(readdirSync(d).sort()).toEqual(['keys.json']);
  });

  it('poll() puts another process’s create and revoke in force, reports each once, and keeps the replay cache', () => {
    const d = tmp();
    const server = new KeyStore(d);
    const cli = new KeyStore(d);
    const seen: KeyChange[] = [];
    server.onChange((c) => seen.push(c));
    const k = cli.create(11, ['read']);
    const ts = Date.now();
    expect(server.verify(k.key, ts, sign(k.secret, k.key, ts))).toEqual({ ok: false, reason: 'unknown_key' });
    expect(server.poll()).toEqual([{ kind: 'created', key: { key: k.key, account: 11, permissions: ['read'], created: k.created }, source: 'file' }]);
    expect(server.verify(k.key, ts, sign(k.secret, k.key, ts))).toMatchObject({ ok: true, account: 11 });
    expect(server.poll()).toEqual([]);
    expect(cli.revoke(k.key)).toBe(true);
    const [r] = server.poll();
    expect(r).toMatchObject({ kind: 'revoked', key: { key: k.key, account: 11 }, source: 'file' });
    const t2 = ts + 1;
    expect(server.verify(k.key, t2, sign(k.secret, k.key, t2))).toEqual({ ok: false, reason: 'unknown_key' });
    expect(seen.map((c) => c.kind)).toEqual(['created', 'revoked']);
    // a key deleted from the file by hand is revoked too; a changed permission is a change
    const k2 = cli.create(12, ['read']);
    const k3 = cli.create(13, ['read']);
    server.poll();
    const doc = JSON.parse(readFileSync(server.path, 'utf8')) as { version: 1; keys: ApiKey[] };
    doc.keys = doc.keys.filter((x) => x.key !== k2.key).map((x) => (x.key === k3.key ? { ...x, permissions: ['read', 'trade'] } : x));
    writeFileSync(server.path, JSON.stringify(doc));
    expect(server.poll().map((c) => [c.kind, c.key.key])).toEqual([['revoked', k2.key], ['changed', k3.key]]);
    // two same-size edits in place within one kernel tick (same inode, size and times) are both seen
    const text = readFileSync(server.path, 'utf8');
    const edit = (from: string, to: string): void => { const t = readFileSync(server.path, 'utf8'); expect(t).toContain(from); writeFileSync(server.path, t.replace(from, to)); };
    edit('"account":13', '"account":14');
    expect(server.poll().map((c) => [c.kind, c.key.account])).toEqual([['changed', 14]]);
    edit('"account":14', '"account":15');
    expect(readFileSync(server.path, 'utf8').length).toBe(text.length);
    expect(server.poll().map((c) => [c.kind, c.key.account])).toEqual([['changed', 15]]);
    expect(server.poll()).toEqual([]);
  });

  it('an invalid edit or a missing file keeps the last good keys (reported once); writers refuse to overwrite an invalid file', () => {
    const d = tmp();
    const server = new KeyStore(d);
    const k = server.create(5, ['read']);
    const errors: string[] = [];
    let n = 0;
    const ok = (): boolean => { const ts = Date.now() + ++n; return server.verify(k.key, ts, sign(k.secret, k.key, ts)).ok; }; // distinct ts: never a replay
    const bad = ['{"version":1,"keys":[', '{"version":2,"keys":[]}', '[]', `{"version":1,"keys":[{"key":"${k.key}","secret":"${k.secret}","account":0,"permissions":["read"],"created":"x"}]}`,
      `{"version":1,"keys":[{"key":"${k.key}","secret":"${k.secret}","account":5,"permissions":["root"],"created":"x"}]}`, '{"version":1,"keys":[{"key":"a b"}]}'];
    for (const text of bad) {
      writeFileSync(server.path, text);
      expect(server.poll((m) => errors.push(m))).toEqual([]);
      expect(server.poll((m) => errors.push(m))).toEqual([]); // same file: not reported again
      expect(ok(), text).toBe(true);
      expect(() => server.create(6)).toThrow(TradsysError);
      expect(readFileSync(server.path, 'utf8')).toBe(text); // not overwritten
    }
    expect(errors).toHaveLength(bad.length);
    expect(errors[0]).toMatch(/keys.json is not valid JSON.*keeping the 1 active keys in force/);
    expect(errors[3]).toMatch(/key 1: "account" must be an integer/);
    unlinkSync(server.path);
    server.poll((m) => errors.push(m));
    expect(errors.at(-1)).toMatch(/keys.json is missing; keeping the 1 active keys in force/);
    expect(ok()).toBe(true);
    // the next write puts the keys in force back on disk (nothing lost)
    const k2 = server.create(8);
    expect(new KeyStore(d).list().map((x) => x.key).sort()).toEqual([k.key, k2.key].sort());
  });

  it('waits for a live lock (ERR_KEYS_LOCKED, nothing written) and takes over a dead process’s or an old empty lock', () => {
    const d = tmp();
    const s = new KeyStore(d, { lockTimeoutMs: 100 });
    s.create(1);
    const before = readFileSync(s.path, 'utf8');
    writeFileSync(s.lockPath, `${process.ppid}\n`); // a live process that is not this one
    let err: unknown;
    try { s.create(2); } catch (e) { err = e; }
    expect((err as TradsysError).code).toBe('ERR_KEYS_LOCKED');
    expect((err as Error).message).toContain(`held by process ${process.ppid}`);
    expect(readFileSync(s.path, 'utf8')).toBe(before);
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    writeFileSync(s.lockPath, `${dead}\n`);
    expect(s.create(3).account).toBe(3);
    writeFileSync(s.lockPath, '');
    const old = (Date.now() - 60_000) / 1000;
    utimesSync(s.lockPath, old, old);
    expect(s.create(4).account).toBe(4);
    expect(readdirSync(d).sort()).toEqual(['keys.json']);
    expect(s.list().map((k) => k.account)).toEqual([1, 3, 4]);
  });
});
