/**
 * The machine's CPU and NUMA topology: online CPUs, NUMA nodes with their CPUs and distances, and
 * each CPU's SMT siblings. Read from the native addon (sysfs + libnuma, native/src/sys.cc) when it
 * is loaded, else from sysfs by this module; both give the same answer (test/unit/sys-topology.test.ts).
 *
 * Layout: `readSysfsTopology(root)` parses a sysfs tree (`root` = '/sys' normally, a fixture
 * directory in tests): devices/system/cpu/online, devices/system/node/online,
 * node/nodeN/{cpulist,distance}, cpu/cpuN/topology/thread_siblings_list. A kernel without NUMA
 * (no node/ directory) is one node 0 holding every online CPU at distance 10.
 * Invariants: CPU and node lists are sorted and unique; `nodes[i].distances[j]` is the distance
 * from nodes[i] to nodes[j] (online nodes, in id order); `siblings[i]` belongs to `online[i]`.
 * Complexity: O(CPUs + nodes²) small file reads. Allocation: the answer (start-up, doctor only).
 * Known limitations: Linux only; elsewhere `readTopology` returns null.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { TradsysError } from '../domain/errors.js';
import { nativeAddon, nativeHas } from './native.js';

export interface NumaNode {
  id: number;
  /** Online CPUs of this node. */
  cpus: number[];
  /** Distance to each online node, in the order of `Topology.nodes` (10 = local). */
  distances: number[];
}

export interface Topology {
  /** Where it came from: 'libnuma+sysfs' or 'sysfs' (addon), 'sysfs (TypeScript)' (fallback). */
  source: string;
  /** Online CPUs. */
  online: number[];
  nodes: NumaNode[];
  /** SMT siblings of each online CPU (itself included), in the order of `online`. */
  siblings: number[][];
}

/** Parses the kernel's CPU/node list format ("0-3,8,10-11"); throws ERR_SYS_TOPOLOGY on anything else. */
export function parseKernelList(text: string, what = 'list'): number[] {
  const out: number[] = [];
  const s = text.trim();
  if (s === '') return out;
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new TradsysError('ERR_SYS_TOPOLOGY', `cannot parse ${what}: "${s}"`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b >= 65536) throw new TradsysError('ERR_SYS_TOPOLOGY', `cannot parse ${what}: "${s}"`);
    for (let k = a; k <= b; k++) out.push(k);
  }
  return out;
}

/** Formats a sorted CPU list the kernel's way: [0,1,2,5] → "0-2,5". */
export function formatKernelList(xs: readonly number[]): string {
  const s = [...new Set(xs)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < s.length;) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j]! + 1) j++;
    parts.push(j === i ? String(s[i]) : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

function read(path: string): string {
  try { return readFileSync(path, 'utf8').trim(); } catch (e) {
    throw new TradsysError('ERR_SYS_TOPOLOGY', `cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Reads the topology from a sysfs tree (`root` is '/sys' on a live machine). */
export function readSysfsTopology(root = '/sys'): Topology {
  const sys = join(root, 'devices', 'system');
  const online = parseKernelList(read(join(sys, 'cpu', 'online')), 'cpu/online');
  const nodes: NumaNode[] = [];
  const nodeOnline = join(sys, 'node', 'online');
  if (!existsSync(nodeOnline)) {
    nodes.push({ id: 0, cpus: online, distances: [10] });
  } else {
    const ids = parseKernelList(read(nodeOnline), 'node/online');
    for (const id of ids) {
      const dir = join(sys, 'node', `node${id}`);
      const cpus = parseKernelList(read(join(dir, 'cpulist')), `node${id}/cpulist`).filter((c) => online.includes(c));
      const all = read(join(dir, 'distance')).split(/\s+/).filter(Boolean).map(Number);
      // the file lists the distance to every online node, in node order
      nodes.push({ id, cpus, distances: ids.map((_, q) => (q < all.length && Number.isInteger(all[q]) ? all[q]! : -1)) });
    }
  }
  const siblings = online.map((c) => {
    const p = join(sys, 'cpu', `cpu${c}`, 'topology', 'thread_siblings_list');
    return existsSync(p) ? parseKernelList(read(p), `cpu${c}/thread_siblings_list`) : [c];
  });
  return { source: 'sysfs (TypeScript)', online, nodes, siblings };
}

interface SysAddon { sysTopology(): Omit<Topology, 'source'> & { source: string } }

/** The live machine's topology: the addon's when loaded, else sysfs read here; null off Linux or when sysfs cannot be read. */
export function readTopology(opts: { native?: boolean } = {}): Topology | null {
  if (process.platform !== 'linux') return null;
  if (opts.native !== false && nativeHas('sys')) {
    try { return (nativeAddon() as unknown as SysAddon).sysTopology(); } catch { /* fall back to the TS reader */ }
  }
  try { return readSysfsTopology(); } catch { return null; }
}

/** The NUMA node holding `cpu`, or -1. */
export function nodeOfCpu(t: Topology, cpu: number): number {
  for (const n of t.nodes) if (n.cpus.includes(cpu)) return n.id;
  return -1;
}
