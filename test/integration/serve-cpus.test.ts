/**
 * `tradsys serve --cpus PLAN` end to end: a real server process pins its engine thread, its main
 * (gateway) thread and its strategy worker, binds the engine's WASM memory; the test reads each
 * thread's Cpus_allowed_list from /proc itself and compares it with the banner and with
 * GET /api/v1/system (admin only). Run on the addon path and, with TRADSYS_NATIVE=0, on the
 * taskset path (memory binding then reported as not applied, with the reason).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI } from '../support/cli.js';
import { startServe } from '../support/serve-process.js';
import { signed } from '../support/gateway-client.js';
import { parseKernelList } from '../../src/sys/topology.js';
import type { SystemReport } from '../../src/sys/placement.js';
import { nativeHas } from '../../src/sys/native.js';

const online = process.platform === 'linux' ? parseKernelList(readFileSync('/sys/devices/system/cpu/online', 'utf8')) : [];
const enough = online.length >= 2 && existsSync(CLI);

function cpusOf(pid: number, tid: number): number[] {
  const m = /^Cpus_allowed_list:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
  return parseKernelList(m![1]!);
}

async function check(native: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'serve-cpus-'));
  const [g, e] = [online[0]!, online[1]!];
  const plan = `engine=${e},gateway=${g},strategies=${g}`;
  const admin = JSON.parse(spawnSync(process.execPath, [CLI, 'keys', 'create', '--account', '1', '--permissions', 'admin,read', '--data', dir, '--json'], { encoding: 'utf8' }).stdout) as { key: string; secret: string };
  const prev = process.env.TRADSYS_NATIVE;
  if (!native) process.env.TRADSYS_NATIVE = '0';
  const s = await startServe(dir, ['--no-storage', '--no-sim', '--strategy-workers', '1', '--cpus', plan]).finally(() => { if (prev === undefined) delete process.env.TRADSYS_NATIVE; else process.env.TRADSYS_NATIVE = prev; });
  try {
    const pid = s.child.pid!;
    const out = s.output();
    expect(out).toContain(`cpus      plan ${plan}`);
    const engine = /engine \(tid (\d+)\): pinned to CPU (\S+) \(read back from \/proc: Cpus_allowed_list (\S+),/.exec(out);
    const gateway = /gateway \(tid (\d+)\): pinned to CPU (\S+) /.exec(out);
    const strat = /strategies\[0\] \(tid (\d+)\): pinned to CPU (\S+) /.exec(out);
    expect(engine && gateway && strat, out).toBeTruthy();
    expect(Number(gateway![1])).toBe(pid); // the main thread's tid is the process id
    // the kernel's word, read here
    expect(cpusOf(pid, Number(engine![1]))).toEqual([e]);
    expect(cpusOf(pid, Number(gateway![1]))).toEqual([g]);
    expect(cpusOf(pid, Number(strat![1]))).toEqual([g]);
    // threads outside the plan keep the process's original CPU set (they started before the gateway was pinned)
    const others = readdirSync(`/proc/${pid}/task`).map(Number).filter((t) => ![engine, gateway, strat].some((m) => Number(m![1]) === t));
    expect(others.some((t) => cpusOf(pid, t).length === online.length)).toBe(true);
    expect(out).toMatch(native ? /engine memory: [\d.]+ MiB of WASM memory at 0x[0-9a-f]+ bound to node 0 \(read back: get_mempolicy bind 0, numa_maps bind:0\)/ : /engine memory: not bound to node 0: memory binding needs the native addon/);
    expect(out).toMatch(native ? /sched_setaffinity \(addon\)/ : /; taskset\)/);
    // the JSON report: admin only, re-read from /proc
    const anon = await signed(s.url, { key: s.key, secret: s.secret }, 'GET', '/api/v1/system');
    expect(anon.status).toBe(403);
    const r = await signed(s.url, admin, 'GET', '/api/v1/system');
    expect(r.status).toBe(200);
    const rep = r.json as SystemReport;
    expect(rep).toMatchObject({ pid, plan, sharedWithEngine: [] });
    expect(rep.threads.map((t) => [t.role, t.tid, t.cpus, t.applied])).toEqual(expect.arrayContaining([
      ['engine', Number(engine![1]), [e], true], ['gateway', pid, [g], true], ['strategies[0]', Number(strat![1]), [g], true],
    ]));
    expect(rep.engineMemory).toMatchObject(native ? { applied: true, numaMaps: 'bind:0', node: 0, mode: 'bind' } : { applied: false });
    expect(rep.features!.map((f) => f.feature)).toEqual(expect.arrayContaining(['native-addon', 'cpu-affinity']));
    // the numa_maps line really says so (read here)
    if (native) {
      const maps = readFileSync(`/proc/${pid}/numa_maps`, 'utf8');
      const addr = rep.engineMemory!.address!;
      expect(maps.split('\n').some((l) => l.includes(' bind:0') && BigInt(`0x${l.split(' ')[0]}`) <= BigInt(`0x${addr}`))).toBe(true);
    }
  } finally {
    s.child.kill('SIGTERM');
    await s.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

describe.runIf(enough)('serve --cpus', () => {
  it.runIf(nativeHas('sys'))('addon path: engine, gateway and strategy worker pinned and the engine memory bound, all read back from /proc', () => check(true), 90_000);
  it('taskset path (TRADSYS_NATIVE=0): pinned and read back the same; memory binding reported as not applied', () => check(false), 90_000);
});
