/**
 * `serve --cpus PLAN`: which CPUs the engine thread, the gateway (main thread) and the strategy
 * workers run on. Parsing is strict; applying is done by each thread on itself (affinity.ts).
 *
 * Layout: PLAN = ROLE=LIST{,ROLE=LIST}, LIST = CPU or A-B items separated by commas, so
 * `engine=2,gateway=0,strategies=1,3` gives strategies CPUs 1 and 3 (an item without `=` continues
 * the role before it). Roles: engine, gateway, strategies. Strategy worker i runs on the i-th CPU
 * of its list, round-robin; the engine and the gateway get the whole list each.
 * Invariants: every CPU is online and inside this process's allowed CPUs; a role is named once and
 * lists a CPU once; roles may share a CPU (on a 2-CPU machine they must), `sharedWithEngine`
 * names the roles that share the engine's. A role left out is not pinned.
 * Complexity: O(plan length). Allocation: the plan (start-up only).
 * Known limitations: threads outside the three roles (storage writer, libuv's pool, V8's helpers)
 * are not pinned: they keep the process's CPU set.
 */
import { TradsysError } from '../domain/errors.js';
import { formatKernelList } from './topology.js';

export const CPU_ROLES = ['engine', 'gateway', 'strategies'] as const;
export type CpuRole = (typeof CPU_ROLES)[number];

export interface CpuPlan {
  /** The plan as given. */
  text: string;
  engine?: number[];
  gateway?: number[];
  strategies?: number[];
}

function fail(plan: string, msg: string): never {
  throw new TradsysError('ERR_SYS_CPU_PLAN', `--cpus "${plan}": ${msg}`);
}

/**
 * Parses a plan against the online CPUs (and the CPUs this process may use, when known).
 * Throws ERR_SYS_CPU_PLAN naming the bad part.
 */
export function parseCpuPlan(text: string, online: readonly number[], allowed: readonly number[] = online): CpuPlan {
  const plan: CpuPlan = { text };
  if (text.trim() === '') fail(text, `an empty plan (e.g. engine=2,gateway=0,strategies=1,3; roles: ${CPU_ROLES.join(', ')})`);
  let role: CpuRole | null = null;
  for (const raw of text.split(',')) {
    let item = raw.trim();
    const eq = item.indexOf('=');
    if (eq >= 0) {
      const name = item.slice(0, eq).trim();
      if (!(CPU_ROLES as readonly string[]).includes(name)) fail(text, `unknown role "${name}" (roles: ${CPU_ROLES.join(', ')})`);
      role = name as CpuRole;
      if (plan[role] !== undefined) fail(text, `role "${role}" given twice`);
      plan[role] = [];
      item = item.slice(eq + 1).trim();
      if (item === '') fail(text, `"${name}=" lists no CPU`);
    }
    if (role === null) fail(text, `"${item}" comes before any ROLE= (write e.g. engine=${item})`);
    if (item === '') fail(text, `an empty item after ${role} (two commas?)`);
    const m = /^(\d+)(?:-(\d+))?$/.exec(item);
    if (!m) fail(text, `"${item}" is not a CPU number or range A-B (in ${role})`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) fail(text, `range "${item}" runs backwards (in ${role})`);
    if (b - a > 4096) fail(text, `range "${item}" is too long (in ${role})`);
    const list = plan[role]!;
    for (let c = a; c <= b; c++) {
      if (!online.includes(c)) fail(text, `CPU ${c} (in ${role}) is not online (online CPUs: ${formatKernelList(online)})`);
      if (!allowed.includes(c)) fail(text, `CPU ${c} (in ${role}) is online but outside this process's allowed CPUs ${formatKernelList(allowed)} (a cgroup cpuset or taskset limits it)`);
      if (list.includes(c)) fail(text, `CPU ${c} listed twice for ${role}`);
      list.push(c);
    }
  }
  for (const r of CPU_ROLES) plan[r]?.sort((x, y) => x - y);
  return plan;
}

/** The CPU strategy worker `index` runs on under `plan` (round-robin), or null when strategies are not pinned. */
export function strategyWorkerCpus(plan: CpuPlan | undefined, index: number): number[] | null {
  const l = plan?.strategies;
  return l && l.length > 0 ? [l[index % l.length]!] : null;
}

/** Roles other than the engine that share one of the engine's CPUs. */
export function sharedWithEngine(plan: CpuPlan): CpuRole[] {
  const e = plan.engine;
  if (!e) return [];
  return CPU_ROLES.filter((r) => r !== 'engine' && (plan[r] ?? []).some((c) => e.includes(c)));
}

/** The plan in canonical form: `engine=2,gateway=0,strategies=1,3` (ranges as A-B). */
export function formatCpuPlan(plan: CpuPlan): string {
  return CPU_ROLES.filter((r) => plan[r]).map((r) => `${r}=${formatKernelList(plan[r]!)}`).join(',');
}
