/**
 * NUMA and CPU placement as the server and `tradsys doctor` see it: the run-time probes for
 * topology, thread pinning and memory binding (registered in probes.ts), and `SystemPlacement`,
 * the record of what `serve --cpus` placed where, re-read from the kernel on every report
 * (GET /api/v1/system, the serve banner).
 *
 * Layout: probes → FeatureProbe rows 'numa', 'cpu-affinity', 'numa-memory'; SystemPlacement
 * holds the plan, the topology, each pinned thread's ThreadPlacement and the engine memory's
 * MemoryBinding (affinity.ts).
 * Invariants: probes change nothing that outlives them: the pin is done by a throw-away worker
 * thread on itself, the binding on a private 64 KiB buffer; `report()` reads /proc anew, so it
 * shows what the kernel holds now, not what was asked.
 * Complexity: the pin probe starts one worker thread (~30 ms from build/dist; through tsx from
 * the sources) bounded by a 5 s timeout; the rest are a few file reads and system calls.
 * Allocation: per call (start-up, doctor, admin reads).
 * Known limitations: Linux only (elsewhere every row reports its fallback as not detected).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { FeatureProbe } from './feature-probe.js';
import { bindBufferToNode, nativePlacement, readThreadAllowed, rereadBinding, type MemoryBinding, type ThreadPlacement } from './affinity.js';
import { formatCpuPlan, parseCpuPlan, type CpuPlan } from './cpu-plan.js';
import { TradsysError } from '../domain/errors.js';
import { formatKernelList, nodeOfCpu, parseKernelList, readTopology, type Topology } from './topology.js';
import { spawnWorker } from './spawn.js';

/** This process's allowed CPUs (its main thread's Cpus_allowed_list), or the online ones. */
export function processAllowedCpus(fallback: readonly number[] = []): number[] {
  try {
    const m = /^Cpus_allowed_list:\s*(.*)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return parseKernelList(m[1]!, 'Cpus_allowed_list');
  } catch { /* not Linux */ }
  return [...fallback];
}

/** Topology row: nodes, CPUs, SMT, distances, from the addon (libnuma + sysfs) or the TS sysfs reader. */
export function probeTopology(): FeatureProbe[] {
  const t = readTopology();
  if (!t) return [{ feature: 'numa', detected: false, path: 'none', detail: 'topology not readable (not Linux, or /sys not mounted)' }];
  const smt = t.siblings.some((s) => s.length > 1);
  const cpus = t.online.length;
  const nodes = t.nodes.map((n) => `node ${n.id}: CPUs ${formatKernelList(n.cpus)}`).join('; ');
  return [{
    feature: 'numa',
    detected: t.nodes.length > 1,
    path: t.source,
    detail: `${t.nodes.length} node${t.nodes.length === 1 ? '' : 's'} (${nodes}), ${cpus} online CPU${cpus === 1 ? '' : 's'}, SMT ${smt ? 'on' : 'off'}${t.nodes.length === 1 ? ' — one node: NUMA placement changes nothing here' : ''}`,
    facts: { nodes: t.nodes, online: t.online, siblings: t.siblings, smt, source: t.source },
  }];
}

/** Pins a throw-away worker thread to one CPU and reads it back from /proc. */
export function pinProbe(cpus: number[], native: boolean, timeoutMs = 5000): Promise<ThreadPlacement> {
  return new Promise((resolve, reject) => {
    const w = spawnWorker(import.meta.url, 'pin-probe-worker', { cpus, native, role: 'probe' });
    const t = setTimeout(() => { void w.terminate(); reject(new Error(`the pin probe's worker did not answer in ${timeoutMs} ms`)); }, timeoutMs);
    w.once('message', (m: ThreadPlacement) => { clearTimeout(t); void w.terminate(); resolve(m); });
    w.once('error', (e) => { clearTimeout(t); reject(e); });
  });
}

/** CPU pinning row: a worker thread really pins itself (the path serve --cpus would use) and is read back. */
export async function probeAffinity(): Promise<FeatureProbe[]> {
  if (process.platform !== 'linux') return [{ feature: 'cpu-affinity', detected: false, path: 'none', detail: 'CPU pinning needs Linux' }];
  const allowed = processAllowedCpus();
  const cpu = allowed[allowed.length - 1] ?? 0;
  const native = nativePlacement();
  const p = await pinProbe([cpu], native);
  return [{
    feature: 'cpu-affinity',
    detected: p.applied,
    path: p.path,
    detail: p.applied
      ? `a worker thread (tid ${p.tid}) pinned itself to CPU ${cpu}; /proc/${process.pid}/task/${p.tid}/status reads Cpus_allowed_list ${formatKernelList(p.cpus)}${native ? '' : ' (taskset fallback: the native addon is not loaded)'}`
      : `pinning failed: ${p.reason ?? 'unknown'}`,
    facts: { allowedCpus: allowed, probe: p },
  }];
}

/** Memory binding row: mbind on a private buffer, read back with get_mempolicy and numa_maps. */
export function probeMemoryBinding(): FeatureProbe[] {
  const t = readTopology();
  const nodeCount = t?.nodes.length ?? 1;
  const node = t?.nodes[0]?.id ?? 0;
  // touched first, so that the binding must move its pages (MPOL_MF_MOVE) and their node can be read
  const buf = new ArrayBuffer(64 << 10);
  new Uint8Array(buf).fill(1);
  const b = bindBufferToNode(buf, node, 'bind', nodeCount);
  return [{
    feature: 'numa-memory',
    detected: b.applied,
    path: b.applied ? 'mbind (addon)' : 'none (default first-touch policy)',
    detail: b.applied
      ? `a 64 KiB buffer bound to node ${node}: get_mempolicy reads ${b.policy!.mode} ${formatKernelList(b.policy!.nodes)} (its first page on node ${b.policy!.pageNode}, by move_pages), numa_maps reads ${b.numaMaps}${nodeCount === 1 ? ' — one node: no effect on placement' : ''}`
      : b.reason ?? 'not applied',
    facts: { binding: b },
  }];
}

/** One pinned role in a report, re-read from /proc now. */
export interface PlacedThread extends ThreadPlacement {
  /** When the report was read (ISO time). */
  readAt: string;
}

/** GET /api/v1/system's body (docs/native.md "GET /api/v1/system"). */
export interface SystemReport {
  pid: number;
  cpusAvailable: number;
  topology: Topology | null;
  /** The plan as given to `serve --cpus`, canonical form; null when none. */
  plan: string | null;
  /** Pinned threads whose CPUs (read back) overlap the engine thread's (a warning when not empty). */
  sharedWithEngine: string[];
  threads: PlacedThread[];
  engineMemory: MemoryBinding | null;
  /** The start-up probes (null until they finished). */
  features: FeatureProbe[] | null;
}

/** Roles whose CPUs, as the kernel reports them, overlap the engine thread's (empty when the engine is not pinned). */
function sharedFromKernel(threads: readonly ThreadPlacement[]): string[] {
  const e = threads.find((t) => t.role === 'engine');
  if (!e) return [];
  return threads.filter((t) => t !== e && t.cpus.some((c) => e.cpus.includes(c))).map((t) => t.role);
}

/** What `serve --cpus` placed where (filled in as each thread reports), re-read on `report()`. */
export class SystemPlacement {
  readonly threads: ThreadPlacement[] = [];
  engineMemory: MemoryBinding | null = null;
  features: FeatureProbe[] | null = null;
  constructor(readonly plan: CpuPlan | null, readonly topology: Topology | null) {}

  add(p: ThreadPlacement | null | undefined): void { if (p) this.threads.push(p); }

  /** The engine's memory node under the plan: the node of its first CPU, 'bind' when all its CPUs are on it, else 'preferred'. */
  engineMemoryNode(): { node: number; mode: 'bind' | 'preferred'; nodes: number } | null {
    const e = this.plan?.engine;
    if (!e || !this.topology) return null;
    const node = nodeOfCpu(this.topology, e[0]!);
    if (node < 0) return null;
    return { node, mode: e.every((c) => nodeOfCpu(this.topology!, c) === node) ? 'bind' : 'preferred', nodes: this.topology.nodes.length };
  }

  /** Every pinned thread and the engine memory's policy, read from the kernel now. */
  report(): SystemReport {
    const readAt = new Date().toISOString();
    const threads = this.threads.map((p): PlacedThread => {
      if (p.tid === null) return { ...p, readAt };
      try {
        const now = readThreadAllowed(p.tid);
        const ok = now.cpus.length === p.requested.length && now.cpus.every((c, i) => c === p.requested[i]);
        const { reason: _r, ...rest } = p;
        return { ...rest, cpus: now.cpus, mems: now.mems, applied: ok, ...(ok ? {} : { reason: `the kernel reports CPUs ${formatKernelList(now.cpus)}` }), readAt };
      } catch (e) {
        return { ...p, applied: false, reason: `thread ${p.tid} is gone (${(e as Error).message})`, readAt };
      }
    });
    return {
      pid: process.pid, cpusAvailable: availableParallelism(), topology: this.topology,
      plan: this.plan ? formatCpuPlan(this.plan) : null, sharedWithEngine: sharedFromKernel(threads),
      threads, engineMemory: this.engineMemory ? rereadBinding(this.engineMemory) : null, features: this.features,
    };
  }

  /** Banner lines: one per pinned role and one for the engine memory, from `report()`. */
  bannerLines(): string[] {
    if (!this.plan) return ['cpus      not pinned (serve --cpus engine=N,gateway=N,strategies=N,… to pin; docs/native.md)'];
    const r = this.report();
    const lines = [`cpus      plan ${r.plan}${r.sharedWithEngine.length ? ` — WARNING: ${r.sharedWithEngine.join(', ')} share${r.sharedWithEngine.length === 1 ? 's' : ''} a CPU with the engine thread` : ''}`];
    for (const t of r.threads) {
      lines.push(`          ${t.role} (tid ${t.tid ?? '?'}): ${t.applied ? `pinned to CPU ${formatKernelList(t.cpus)}` : `NOT pinned as asked (${formatKernelList(t.requested)}): ${t.reason}`} (read back from /proc: Cpus_allowed_list ${formatKernelList(t.cpus)}, Mems_allowed_list ${formatKernelList(t.mems)}; ${t.path})`);
    }
    const m = r.engineMemory;
    if (m) {
      lines.push(m.applied
        ? `          engine memory: ${(m.boundBytes / 1048576).toFixed(1)} MiB of WASM memory at 0x${m.address} ${m.mode === 'bind' ? 'bound' : 'preferred'} to node ${m.node} (read back: get_mempolicy ${m.policy?.mode} ${formatKernelList(m.policy?.nodes ?? [])}, numa_maps ${m.numaMaps})${m.nodesOnMachine === 1 ? ' — one NUMA node: no effect on placement' : ''}`
        : `          engine memory: not bound to node ${m.node}: ${m.reason ?? `numa_maps reads ${m.numaMaps}`}`);
    }
    return lines;
  }
}

/** Engine-thread side of the plan: pin, then (after the engine exists) bind its memory. Used in src/engine/worker.ts. */
export function bindEngineMemory(buf: ArrayBufferLike, target: { node: number; mode: 'bind' | 'preferred'; nodes: number }): MemoryBinding {
  return bindBufferToNode(buf, target.node, target.mode, target.nodes);
}

/** A plan to suggest in `doctor`: gateway on the first online CPU, the engine on the second, strategies on the rest (null below 2 CPUs). */
export function suggestedPlan(t: Topology | null): string | null {
  if (!t || t.online.length < 2) return null;
  const [g, e, ...rest] = t.online;
  return `engine=${e},gateway=${g}${rest.length ? `,strategies=${formatKernelList(rest)}` : `,strategies=${g}`}`;
}


/**
 * Parses `serve --cpus PLAN` against this machine's online CPUs and this process's allowed ones;
 * a bad plan is a usage error (ERR_CLI_USAGE, exit 2) whose message names the bad part.
 */
export function planForThisMachine(text: string): CpuPlan {
  const t = readTopology();
  if (!t) throw new TradsysError('ERR_CLI_USAGE', '--cpus needs Linux (the CPU topology is read from /sys)');
  try {
    return parseCpuPlan(text, t.online, processAllowedCpus(t.online));
  } catch (e) {
    if (e instanceof TradsysError && e.code === 'ERR_SYS_CPU_PLAN') throw new TradsysError('ERR_CLI_USAGE', e.message);
    throw e;
  }
}
