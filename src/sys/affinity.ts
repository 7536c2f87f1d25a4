/**
 * CPU and memory placement of the CALLING thread (engine thread, gateway main thread, strategy
 * workers each place themselves), with the outcome read back from the kernel — never assumed.
 *
 * Paths: the native addon (native/src/sys.cc: sched_setaffinity on the calling thread, mbind on
 * a buffer's pages, get_mempolicy) when it is loaded with its `sys` feature; otherwise util-linux's
 * `taskset -p -c LIST TID` on the thread's own kernel id (from /proc/thread-self, as
 * thread-priority.ts does with chrt). Memory binding has no TypeScript path (Node cannot call
 * mbind): without the addon it is reported as not applied, with the reason.
 * Read-back: /proc/<pid>/task/<tid>/status (Cpus_allowed_list, Mems_allowed_list) for every
 * pin, whichever path set it; a binding is read back with get_mempolicy(MPOL_F_ADDR) and from
 * /proc/<pid>/numa_maps (the policy of the mapping that starts at the bound address).
 *
 * Layout: `ThreadPlacement` (one thread's pin) and `MemoryBinding` (one buffer's policy) are plain
 * JSON (they travel in worker messages and /api/v1/system).
 * Invariants: `applied` is true only when the read-back equals the request; failures (EPERM,
 * EINVAL, no taskset) are reported in `reason`, never thrown — placement is a tuning, not a
 * condition for running.
 * Complexity: a few system calls or one taskset process (~2 ms) per call; numa_maps O(mappings).
 * Allocation: per call (start-up and admin reads only, never on a hot path).
 * Known limitations: Linux only. A buffer that grows after binding (WASM memory.grow) has its new
 * pages under the default policy (the engine's memory does not grow after engineInit).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { nativeAddon, nativeHas } from './native.js';
import { ownThreadId } from './thread-priority.js';
import { formatKernelList, parseKernelList } from './topology.js';

/** One thread's CPU pin, as read back from the kernel. */
export interface ThreadPlacement {
  /** Who: 'engine', 'gateway', 'strategies[0]', … */
  role: string;
  /** Kernel thread id (null off Linux). */
  tid: number | null;
  /** The CPUs asked for. */
  requested: number[];
  /** Cpus_allowed_list from /proc/<pid>/task/<tid>/status afterwards. */
  cpus: number[];
  /** Mems_allowed_list from the same file (the NUMA nodes this thread may allocate from). */
  mems: number[];
  /** Whether the read-back CPU set equals the request. */
  applied: boolean;
  /** How it was set: 'sched_setaffinity (addon)' or 'taskset'. */
  path: string;
  /** Why not, when not applied. */
  reason?: string;
}

/** A buffer's memory policy, as read back from the kernel. */
export interface MemoryBinding {
  /** The node asked for. */
  node: number;
  mode: 'bind' | 'preferred';
  /** The buffer's size and the page-aligned bytes inside it that were bound. */
  bytes: number;
  boundBytes: number;
  /** Data address of the bound range (hex), null when nothing was bound. */
  address: string | null;
  /** get_mempolicy(MPOL_F_ADDR) on the first bound page: the policy and nodes; `pageNode`: the node that page is on (move_pages), -1 when it is not faulted in yet. */
  policy: { mode: string; nodes: number[]; pageNode: number } | null;
  /** The policy field of the /proc/<pid>/numa_maps line of that mapping ('bind:0', 'prefer:0', 'default', …). */
  numaMaps: string | null;
  /** Whether the read-back policy is the one asked for. */
  applied: boolean;
  /** NUMA nodes on the machine (1: binding changes nothing, but is still applied and read back). */
  nodesOnMachine: number;
  reason?: string;
}

interface SysAddon {
  sysThreadId(): number;
  sysSetAffinity(cpus: number[]): number[];
  sysGetAffinity(tid?: number): number[];
  sysBindMemory(buf: ArrayBufferLike | ArrayBufferView, node: number, mode: string, move?: boolean): { address: number; offset: number; bytes: number };
  sysGetMempolicy(buf?: ArrayBufferLike | ArrayBufferView, offset?: number): { mode: string; nodes: number[]; node?: number };
  sysBufferAddress(buf: ArrayBufferLike | ArrayBufferView): number;
}

function sys(): SysAddon | null {
  return nativeHas('sys') ? (nativeAddon() as unknown as SysAddon) : null;
}

/** Whether the addon's placement path is available (else the taskset fallback runs). */
export function nativePlacement(): boolean {
  return sys() !== null;
}

/** A thread's allowed CPUs and memory nodes, from /proc/<pid>/task/<tid>/status. */
export function readThreadAllowed(tid: number, pid = process.pid): { cpus: number[]; mems: number[] } {
  const text = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
  const field = (name: string): number[] => {
    const m = new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text);
    return m ? parseKernelList(m[1]!, name) : [];
  };
  return { cpus: field('Cpus_allowed_list'), mems: field('Mems_allowed_list') };
}

const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Pins the calling thread to `cpus` (sorted, unique, non-empty) and reads the result back from
 * /proc. `native: false` forces the taskset fallback (tests compare both paths).
 */
export function pinOwnThread(role: string, cpus: readonly number[], opts: { native?: boolean } = {}): ThreadPlacement {
  const requested = [...new Set(cpus)].sort((a, b) => a - b);
  const s = opts.native === false ? null : sys();
  const path = s ? 'sched_setaffinity (addon)' : 'taskset';
  const tid = s ? s.sysThreadId() : ownThreadId();
  const out = (reason?: string): ThreadPlacement => {
    let now = { cpus: [] as number[], mems: [] as number[] };
    if (tid !== null) { try { now = readThreadAllowed(tid); } catch (e) { reason ??= `cannot read /proc: ${(e as Error).message}`; } }
    const ok = same(now.cpus, requested);
    return { role, tid, requested, cpus: now.cpus, mems: now.mems, applied: ok, path, ...(ok ? {} : { reason: reason ?? `the kernel reports CPUs ${formatKernelList(now.cpus)}` }) };
  };
  if (process.platform !== 'linux' || tid === null) return out('CPU pinning needs Linux (/proc/thread-self)');
  if (requested.length === 0) return out('no CPUs given');
  if (s) {
    try { s.sysSetAffinity(requested); } catch (e) { return out(`sched_setaffinity failed: ${(e as Error).message}`); }
    return out();
  }
  try {
    execFileSync('taskset', ['-p', '-c', formatKernelList(requested), String(tid)], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer; message: string };
    return out(err.code === 'ENOENT' ? 'taskset (util-linux) is not installed and the native addon is not loaded' : `taskset failed: ${(err.stderr?.toString() ?? err.message).trim().split('\n').pop()}`);
  }
  return out();
}

/**
 * The policy field of the /proc/<pid>/numa_maps line of the mapping that holds `address` (hex)
 * — the mapping's range from /proc/<pid>/maps, since mappings with equal policies may merge —
 * or null when there is none.
 */
export function numaMapsPolicy(address: string, pid: number | 'self' = 'self'): string | null {
  let maps: string;
  let numa: string;
  try { maps = readFileSync(`/proc/${pid}/maps`, 'utf8'); numa = readFileSync(`/proc/${pid}/numa_maps`, 'utf8'); } catch { return null; }
  const want = BigInt(`0x${address}`);
  let start: bigint | null = null;
  for (const line of maps.split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (m && BigInt(`0x${m[1]}`) <= want && want < BigInt(`0x${m[2]}`)) { start = BigInt(`0x${m[1]}`); break; }
  }
  if (start === null) return null;
  for (const line of numa.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp > 0 && BigInt(`0x${line.slice(0, sp)}`) === start) return line.slice(sp + 1).split(' ')[0] ?? null;
  }
  return null;
}

const NUMA_MAPS_MODE: Record<string, string> = { bind: 'bind', preferred: 'prefer' };

/**
 * Binds the pages of `buf` (whole pages inside it) to NUMA node `node` with mbind(2) (`bind`:
 * only that node; `preferred`: that node first), moving pages already faulted in
 * (MPOL_MF_MOVE), and reads the policy back. Needs the addon; never throws.
 */
export function bindBufferToNode(buf: ArrayBufferLike | ArrayBufferView, node: number, mode: 'bind' | 'preferred', nodesOnMachine: number): MemoryBinding {
  const bytes = buf.byteLength;
  const base: MemoryBinding = { node, mode, bytes, boundBytes: 0, address: null, policy: null, numaMaps: null, applied: false, nodesOnMachine };
  const s = sys();
  if (!s) return { ...base, reason: 'memory binding needs the native addon (mbind); it is not loaded' };
  let r: { address: number; offset: number; bytes: number };
  try { r = s.sysBindMemory(buf, node, mode, true); } catch (e) { return { ...base, reason: `mbind failed: ${(e as Error).message}` }; }
  if (r.bytes === 0) return { ...base, reason: 'the buffer holds no whole page' };
  const address = r.address.toString(16);
  let policy: MemoryBinding['policy'] = null;
  try {
    const p = s.sysGetMempolicy(buf, r.offset);
    policy = { mode: p.mode, nodes: p.nodes, pageNode: p.node ?? -1 };
  } catch (e) { return { ...base, boundBytes: r.bytes, address, reason: `get_mempolicy failed: ${(e as Error).message}` }; }
  const numaMaps = numaMapsPolicy(address);
  const ok = policy.mode === mode && same(policy.nodes, [node]) && numaMaps === `${NUMA_MAPS_MODE[mode]}:${node}`;
  return { ...base, boundBytes: r.bytes, address, policy, numaMaps, applied: ok, ...(ok ? {} : { reason: `the kernel reports ${policy.mode} ${formatKernelList(policy.nodes)} (numa_maps ${numaMaps ?? 'n/a'})` }) };
}

/** Reads a binding back now from /proc/self/numa_maps (any thread of the process can). */
export function rereadBinding(b: MemoryBinding): MemoryBinding {
  if (!b.address) return b;
  const numaMaps = numaMapsPolicy(b.address);
  return { ...b, numaMaps, applied: numaMaps === `${NUMA_MAPS_MODE[b.mode]}:${b.node}` };
}
