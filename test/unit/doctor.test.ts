/**
 * `tradsys doctor [--json]` (src/cli/doctor.ts): the JSON document's fields (docs/native.md),
 * rows from real probes (the pin read back names a real thread of the doctor process), the table,
 * TRADSYS_NATIVE=0 switching every row to its fallback, exit codes (0 report, 2 usage).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI } from '../support/cli.js';
import type { DoctorReport } from '../../src/cli/doctor.js';

const run = (args: string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } =>
  spawnSync(process.execPath, [CLI, 'doctor', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });

describe.runIf(process.platform === 'linux' && existsSync(CLI))('tradsys doctor', () => {
  it('--json: a stable document with one row per feature from real probes', () => {
    const r = run(['--json']);
    expect(r.status).toBe(0);
    const d = JSON.parse(r.stdout) as DoctorReport;
    expect(Object.keys(d)).toEqual(['schema', 'at', 'host', 'native', 'topology', 'features', 'suggestedCpus']);
    expect(d.schema).toBe(1);
    expect(Number.isNaN(Date.parse(d.at))).toBe(false);
    expect(d.host).toMatchObject({ platform: 'linux', node: process.version });
    expect(Object.keys(d.native)).toEqual(['loaded', 'path', 'reason', 'build']);
    for (const f of d.features) {
      expect(typeof f.feature).toBe('string');
      expect(typeof f.detected).toBe('boolean');
      expect(f.path.length).toBeGreaterThan(0);
      expect(f.detail.length).toBeGreaterThan(0);
    }
    const names = d.features.map((f) => f.feature);
    for (const n of ['native-addon', 'numa', 'cpu-affinity', 'numa-memory']) expect(names).toContain(n);
    expect(new Set(names).size).toBe(names.length);
    const by = Object.fromEntries(d.features.map((f) => [f.feature, f]));
    expect(by['native-addon']!.detected).toBe(d.native.loaded);
    // the topology row agrees with the topology, which agrees with sysfs
    expect(d.topology!.online.length).toBeGreaterThan(0);
    expect((by.numa!.facts as { online: number[] }).online).toEqual(d.topology!.online);
    expect(by.numa!.detected).toBe(d.topology!.nodes.length > 1);
    // the pin was done by a thread of the doctor process and read back from its /proc entry
    const probe = (by['cpu-affinity']!.facts as { probe: { tid: number; cpus: number[]; requested: number[]; applied: boolean } }).probe;
    expect(probe.applied).toBe(true);
    expect(probe.cpus).toEqual(probe.requested);
    expect(probe.tid).not.toBe(d.host.pid);
    expect(by['cpu-affinity']!.detail).toContain(`/proc/${d.host.pid}/task/${probe.tid}/status`);
    expect(by['cpu-affinity']!.path).toBe(d.native.loaded ? 'sched_setaffinity (addon)' : 'taskset');
    expect(by['numa-memory']!.detected).toBe(d.native.loaded);
    if (d.topology!.online.length >= 2) expect(d.suggestedCpus).toMatch(/^engine=\d+,gateway=\d+,strategies=/);
  });

  it('TRADSYS_NATIVE=0: the addon is reported off with the reason and every feature on its fallback', () => {
    const r = run(['--json'], { TRADSYS_NATIVE: '0' });
    expect(r.status).toBe(0);
    const d = JSON.parse(r.stdout) as DoctorReport;
    const by = Object.fromEntries(d.features.map((f) => [f.feature, f]));
    expect(d.native).toMatchObject({ loaded: false, reason: 'disabled by TRADSYS_NATIVE=0' });
    expect(by['native-addon']).toMatchObject({ detected: false, path: 'TypeScript/WASM fallbacks' });
    expect(by.numa!.path).toBe('sysfs (TypeScript)');
    expect(by['cpu-affinity']).toMatchObject({ detected: true, path: 'taskset' });
    expect(by['numa-memory']).toMatchObject({ detected: false, detail: expect.stringMatching(/needs the native addon/) });
  });

  it('the table: a header and one line per feature; a bad argument is a usage error (2)', () => {
    const r = run([]);
    expect(r.status).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(/^feature\s+detected\s+path\s+detail$/);
    expect(lines.some((l) => /^cpu-affinity\s+(yes|no)\s+/.test(l))).toBe(true);
    expect(r.stdout).toMatch(/^native build/m);
    const bad = run(['--verbose']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/doctor: unexpected argument "--verbose"/);
  });
});
