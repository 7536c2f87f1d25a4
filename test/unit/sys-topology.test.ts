/**
 * CPU/NUMA topology (src/sys/topology.ts): the sysfs reader on fixture trees (a 2-node SMT machine,
 * an offline CPU, a kernel without NUMA, a damaged file) and on this machine, where the native
 * addon's answer (native/src/sys.cc: libnuma + sysfs) must equal the TypeScript reader's.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { formatKernelList, nodeOfCpu, parseKernelList, readSysfsTopology, readTopology } from '../../src/sys/topology.js';
import { nativeHas } from '../../src/sys/native.js';

const linux = process.platform === 'linux';
const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

/** Writes a sysfs tree: files relative to devices/system. */
function sysfs(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'sysfs-'));
  dirs.push(root);
  for (const [rel, text] of Object.entries(files)) {
    const p = join(root, 'devices', 'system', rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, text + '\n');
  }
  return root;
}

/** 2 sockets × 2 cores × 2 threads: node 0 = CPUs 0,1,4,5; node 1 = 2,3,6,7; sibling of n is n±4. */
function twoNodeSmt(online = '0-7'): Record<string, string> {
  const f: Record<string, string> = {
    'cpu/online': online, 'node/online': '0-1', 'node/possible': '0-1',
    'node/node0/cpulist': '0-1,4-5', 'node/node0/distance': '10 21',
    'node/node1/cpulist': '2-3,6-7', 'node/node1/distance': '21 10',
  };
  for (let c = 0; c < 8; c++) f[`cpu/cpu${c}/topology/thread_siblings_list`] = `${c % 4},${(c % 4) + 4}`;
  return f;
}

describe('kernel list format', () => {
  it('parses and formats ranges and singles', () => {
    expect(parseKernelList('0-3,8,10-11\n')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseKernelList('')).toEqual([]);
    expect(formatKernelList([11, 0, 1, 2, 3, 8, 10, 3])).toBe('0-3,8,10-11');
    expect(formatKernelList([5])).toBe('5');
    for (const bad of ['1-', 'a', '3-1', '1,,2', '-1']) expect(() => parseKernelList(bad)).toThrow(/cannot parse/);
  });
});

describe('sysfs topology reader', () => {
  it('reads a 2-node SMT machine: nodes, CPUs, distances, siblings', () => {
    const t = readSysfsTopology(sysfs(twoNodeSmt()));
    expect(t.source).toBe('sysfs (TypeScript)');
    expect(t.online).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(t.nodes).toEqual([
      { id: 0, cpus: [0, 1, 4, 5], distances: [10, 21] },
      { id: 1, cpus: [2, 3, 6, 7], distances: [21, 10] },
    ]);
    expect(t.siblings).toEqual([[0, 4], [1, 5], [2, 6], [3, 7], [0, 4], [1, 5], [2, 6], [3, 7]]);
    expect(nodeOfCpu(t, 6)).toBe(1);
    expect(nodeOfCpu(t, 9)).toBe(-1);
  });

  it('leaves offline CPUs out of the nodes and the sibling table', () => {
    const f = twoNodeSmt('0-6');
    delete f['cpu/cpu7/topology/thread_siblings_list']; // an offline CPU has no topology directory
    const t = readSysfsTopology(sysfs(f));
    expect(t.online).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(t.nodes[1]!.cpus).toEqual([2, 3, 6]);
    expect(t.siblings).toHaveLength(7);
  });

  it('sparse node ids and a node without CPUs (memory only): distances follow the online nodes', () => {
    const t = readSysfsTopology(sysfs({
      'cpu/online': '0-3', 'node/online': '0,2-3', 'node/possible': '0-3',
      'node/node0/cpulist': '0-1', 'node/node0/distance': '10 20 30',
      'node/node2/cpulist': '2-3', 'node/node2/distance': '20 10 30',
      'node/node3/cpulist': '', 'node/node3/distance': '30 30 10',
    }));
    expect(t.nodes).toEqual([
      { id: 0, cpus: [0, 1], distances: [10, 20, 30] },
      { id: 2, cpus: [2, 3], distances: [20, 10, 30] },
      { id: 3, cpus: [], distances: [30, 30, 10] },
    ]);
  });

  it('a kernel without NUMA is one node 0 holding every online CPU', () => {
    const t = readSysfsTopology(sysfs({ 'cpu/online': '0-3', 'cpu/cpu0/topology/thread_siblings_list': '0-1', 'cpu/cpu1/topology/thread_siblings_list': '0-1' }));
    expect(t.nodes).toEqual([{ id: 0, cpus: [0, 1, 2, 3], distances: [10] }]);
    expect(t.siblings).toEqual([[0, 1], [0, 1], [2], [3]]);
  });

  it('a damaged or missing file is ERR_SYS_TOPOLOGY naming it', () => {
    const f = twoNodeSmt();
    f['node/node1/cpulist'] = '2-x';
    expect(() => readSysfsTopology(sysfs(f))).toThrow(expect.objectContaining({ code: 'ERR_SYS_TOPOLOGY', message: expect.stringContaining('node1/cpulist') }));
    const g = twoNodeSmt();
    delete g['node/node0/distance'];
    expect(() => readSysfsTopology(sysfs(g))).toThrow(/cannot read .*node0\/distance/);
  });

  it.runIf(linux)('reads this machine: every online CPU in exactly one node, itself among its siblings', () => {
    const t = readSysfsTopology();
    expect(t.online.length).toBeGreaterThan(0);
    expect(t.nodes.flatMap((n) => n.cpus).sort((a, b) => a - b)).toEqual(t.online);
    t.online.forEach((c, i) => expect(t.siblings[i]).toContain(c));
    for (const n of t.nodes) expect(n.distances[t.nodes.indexOf(n)]).toBe(10);
  });
});

describe.runIf(linux && nativeHas('sys'))('native addon topology', () => {
  it('equals the TypeScript sysfs reader on this machine', () => {
    const a = readTopology();
    const ts = readTopology({ native: false });
    expect(a!.source).toMatch(/^(libnuma\+sysfs|sysfs)$/);
    expect(ts!.source).toBe('sysfs (TypeScript)');
    const { source: _a, ...addon } = a!;
    const { source: _b, ...fallback } = ts!;
    expect(addon).toEqual(fallback);
  });
});
