/**
 * native/build.mjs never fails the install (`npm ci` runs it): without a compiler, with the build
 * switched off, with a compiler that fails every attempt, and with libnuma left out it exits 0 and
 * says why in status.json; an addon built without libnuma still gives the same topology (sysfs).
 * Builds go to temp dirs (TRADSYS_NATIVE_OUT, or a copy of native/), never to build/native.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../src/abi/gen.js';
import { readSysfsTopology } from '../../src/sys/topology.js';

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
const tmp = (p: string): string => { const d = mkdtempSync(join(tmpdir(), p)); dirs.push(d); return d; };

interface Status { built: boolean; reason: string; addon: string | null; features: Record<string, { compiled: boolean; reason?: string }>; attempts: { ok: boolean; features: Record<string, boolean> }[] }

function build(script: string, env: NodeJS.ProcessEnv): { status: number | null; out: string } {
  const base = { ...process.env };
  delete base.CXX;
  const r = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 300_000, env: { ...base, ...env } });
  return { status: r.status, out: r.stdout + r.stderr };
}
const readStatus = (dir: string): Status => JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as Status;

describe('native/build.mjs fallbacks', () => {
  it('no C++ compiler on PATH: exit 0, not built, the reason recorded', () => {
    const out = tmp('native-out-');
    const r = build(join(ROOT, 'native', 'build.mjs'), { PATH: '/nonexistent', TRADSYS_NATIVE_OUT: out });
    expect(r.status).toBe(0);
    expect(r.out).toMatch(/not built: no C\+\+ compiler found/);
    const s = readStatus(out);
    expect(s).toMatchObject({ built: false, addon: null, reason: 'no C++ compiler found (install g++)' });
    expect(existsSync(join(out, 'tradsys_native.node'))).toBe(false);
  });

  it('TRADSYS_NATIVE=0: exit 0, skipped and said so', () => {
    const out = tmp('native-out-');
    expect(build(join(ROOT, 'native', 'build.mjs'), { TRADSYS_NATIVE: '0', TRADSYS_NATIVE_OUT: out }).status).toBe(0);
    expect(readStatus(out)).toMatchObject({ built: false, reason: 'TRADSYS_NATIVE=0 at build' });
  });

  describe.runIf(process.platform === 'linux' && spawnSync('sh', ['-c', 'command -v c++']).status === 0)('from a copy of native/ (its own node-gyp build dir)', () => {
    const root = tmp('native-copy-');
    const gypDir = join(ROOT, 'native', 'build');
    cpSync(join(ROOT, 'native'), join(root, 'native'), { recursive: true, filter: (src) => src !== gypDir && !src.startsWith(gypDir + '/') });
    symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));

    it('a compiler that fails every attempt: each optional library switched off in turn, then exit 0 with the reason', () => {
      const r = build(join(root, 'native', 'build.mjs'), { CXX: '/bin/false', TRADSYS_NATIVE_NO_XDP: '1' });
      expect(r.status).toBe(0);
      const s = readStatus(join(root, 'build', 'native'));
      expect(s).toMatchObject({ built: false, reason: 'the C++ build failed (see build/native/build.log)' });
      expect(s.attempts.map((a) => a.features.numa)).toEqual([true, false]);
      expect(s.features.numa).toMatchObject({ compiled: false });
      expect(existsSync(join(root, 'build', 'native', 'tradsys_native.node'))).toBe(false);
    }, 300_000);

    it('libnuma left out (TRADSYS_NATIVE_NO_NUMA=1): built without it, and its topology is still the sysfs answer', () => {
      const r = build(join(root, 'native', 'build.mjs'), { TRADSYS_NATIVE_NO_NUMA: '1', TRADSYS_NATIVE_NO_XDP: '1' });
      expect(r.status).toBe(0);
      const s = readStatus(join(root, 'build', 'native'));
      expect(s.built).toBe(true);
      expect(s.features.numa).toMatchObject({ compiled: false, reason: expect.stringMatching(/libnuma-dev/) });
      expect(s.features.sys).toMatchObject({ compiled: true });
      const addon = createRequire(import.meta.url)(join(root, 'build', 'native', 'tradsys_native.node')) as { features: Record<string, { libnuma?: boolean }>; sysTopology(): { source: string } };
      expect(addon.features.sys!.libnuma).toBe(false);
      const { source, ...t } = addon.sysTopology() as { source: string } & Record<string, unknown>;
      expect(source).toBe('sysfs');
      const { source: _s, ...ts } = readSysfsTopology();
      expect(t).toEqual(ts);
    }, 300_000);
  });
});
