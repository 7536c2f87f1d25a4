/**
 * `serve --cpus PLAN` parsing (src/sys/cpu-plan.ts): the example, ranges, the strict
 * errors (each naming the bad part), round-robin strategy CPUs, and the CLI turning a bad plan
 * into a usage error (exit 2) before anything starts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatCpuPlan, parseCpuPlan, sharedWithEngine, strategyWorkerCpus } from '../../src/sys/cpu-plan.js';
import { CLI } from '../support/cli.js';

const ONLINE = [0, 1, 2, 3, 4, 5, 6, 7];

describe('parseCpuPlan', () => {
  it("parses the issue's example and ranges; items without = continue the role before", () => {
    expect(parseCpuPlan('engine=2,gateway=0,strategies=1,3', ONLINE)).toEqual({ text: 'engine=2,gateway=0,strategies=1,3', engine: [2], gateway: [0], strategies: [1, 3] });
    const p = parseCpuPlan(' strategies = 5-7 , 1 , engine=4 ', ONLINE);
    expect(p).toMatchObject({ engine: [4], strategies: [1, 5, 6, 7] });
    expect(p.gateway).toBeUndefined();
    expect(formatCpuPlan(p)).toBe('engine=4,strategies=1,5-7');
    expect(parseCpuPlan(formatCpuPlan(p), ONLINE)).toMatchObject({ engine: [4], strategies: [1, 5, 6, 7] });
  });

  it.each([
    ['', /an empty plan/],
    ['engine=2,gateway=0,storage=1', /unknown role "storage" \(roles: engine, gateway, strategies\)/],
    ['engine=9', /CPU 9 \(in engine\) is not online \(online CPUs: 0-7\)/],
    ['strategies=6-9', /CPU 8 \(in strategies\) is not online/],
    ['engine=1,engine=2', /role "engine" given twice/],
    ['strategies=1,3,1', /CPU 1 listed twice for strategies/],
    ['strategies=1-3,2', /CPU 2 listed twice for strategies/],
    ['2,engine=1', /"2" comes before any ROLE=/],
    ['engine=', /"engine=" lists no CPU/],
    ['engine=1,,gateway=0', /an empty item after engine/],
    ['engine=x', /"x" is not a CPU number or range A-B \(in engine\)/],
    ['engine=-1', /"-1" is not a CPU number/],
    ['engine=3-1', /range "3-1" runs backwards/],
    ['engine=1.5', /"1.5" is not a CPU number/],
  ])('refuses %j', (plan, msg) => {
    expect(() => parseCpuPlan(plan, ONLINE)).toThrow(msg);
    try { parseCpuPlan(plan, ONLINE); } catch (e) { expect((e as { code: string }).code).toBe('ERR_SYS_CPU_PLAN'); }
  });

  it('refuses an online CPU outside the allowed set (cgroup cpuset / taskset), saying so', () => {
    expect(() => parseCpuPlan('engine=5', ONLINE, [0, 1, 2, 3])).toThrow(/CPU 5 \(in engine\) is online but outside this process's allowed CPUs 0-3/);
  });

  it('strategy worker i gets the i-th CPU, round-robin; roles sharing the engine CPU are named', () => {
    const p = parseCpuPlan('engine=1,gateway=0,strategies=0,2-3', ONLINE);
    expect([0, 1, 2, 3, 4].map((i) => strategyWorkerCpus(p, i))).toEqual([[0], [2], [3], [0], [2]]);
    expect(strategyWorkerCpus(parseCpuPlan('engine=1', ONLINE), 0)).toBeNull();
    expect(strategyWorkerCpus(undefined, 0)).toBeNull();
    expect(sharedWithEngine(p)).toEqual([]);
    expect(sharedWithEngine(parseCpuPlan('engine=1,gateway=1,strategies=0-1', ONLINE))).toEqual(['gateway', 'strategies']);
  });
});

describe.runIf(process.platform === 'linux' && existsSync(CLI))('tradsys serve --cpus (usage errors)', () => {
  it.each([
    ['engine=9999', /--cpus "engine=9999": CPU 9999 \(in engine\) is not online/],
    ['engin=1', /unknown role "engin"/],
    ['engine=0,engine=0', /role "engine" given twice/],
    ['engine=0,strategies=0 --no-strategies', /places strategy workers, but --no-strategies runs none/],
  ])('%s exits 2 before starting, naming the bad part', (plan, msg) => {
    const dir = mkdtempSync(join(tmpdir(), 'cpus-'));
    try {
      const [p, ...more] = plan.split(' ');
      const r = spawnSync(process.execPath, [CLI, 'serve', '--port', '0', '--no-storage', '--no-sim', '--data', dir, '--cpus', p!, ...more], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stdout).not.toMatch(/listening/);
      expect(existsSync(join(dir, 'journal'))).toBe(false);
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });
});
