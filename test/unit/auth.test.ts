/**
 * API keys and HMAC authentication: key store on disk (mode 0600, atomic), signature checks
 * (good, wrong secret, tampered payload, stale and future timestamps, replay, unknown, revoked,
 * missing permission, malformed), and the `tradsys keys` CLI.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { KeyStore, sign } from '../../src/gateway/auth.js';
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
