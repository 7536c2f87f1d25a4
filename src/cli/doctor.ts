/**
 * `tradsys doctor [--json]`: what this machine offers the native features and which path each one
 * runs, from the run-time probes (src/sys/probes.ts runProbes: the addon loaded, a thread really
 * pinned and read back, a buffer really bound, …), never from text.
 *
 * Layout: a table, one row per probe row (feature, detected, path, detail), then the build's own
 * report (build/native/status.json) and the topology; `--json` prints DoctorReport
 * (docs/native.md "doctor --json"), a stable document: fields are only ever added.
 * Invariants: exit code 0 whatever was found (it is a report); 2 only for a usage error.
 * Complexity: the probes' (well under a second from build/dist). Allocation: CLI only.
 * Known limitations: none.
 */
import { TradsysError } from '../domain/errors.js';
import { loadNative, type NativeBuildStatus } from '../sys/native.js';
import { runProbes, type FeatureProbe } from '../sys/probes.js';
import { readTopology, type Topology } from '../sys/topology.js';
import { suggestedPlan } from '../sys/placement.js';

/** `doctor --json`'s document (schema version 1; docs/native.md). */
export interface DoctorReport {
  schema: 1;
  /** ISO time of the run. */
  at: string;
  host: { platform: string; arch: string; node: string; pid: number };
  /** The addon: loaded or not (and why), where, and the build's report. */
  native: { loaded: boolean; path: string | null; reason: string; build: NativeBuildStatus | null };
  topology: Topology | null;
  /** One row per feature, in registry order (FeatureProbe). */
  features: FeatureProbe[];
  /** A `serve --cpus` plan for this machine (null below 2 CPUs). */
  suggestedCpus: string | null;
}

export const DOCTOR_USAGE = '  tradsys doctor [--json]   (native features: what was detected and which path runs; docs/native.md)';

/** Builds the report (runs every probe). */
export async function doctorReport(): Promise<DoctorReport> {
  const features = await runProbes();
  const n = loadNative();
  const topology = readTopology();
  return {
    schema: 1,
    at: new Date().toISOString(),
    host: { platform: process.platform, arch: process.arch, node: process.version, pid: process.pid },
    native: { loaded: n.addon !== null, path: n.path, reason: n.reason, build: n.build },
    topology,
    features,
    suggestedCpus: suggestedPlan(topology),
  };
}

function pad(s: string, n: number): string { return s.length >= n ? s : s + ' '.repeat(n - s.length); }

/** The report as a table for people. */
export function formatDoctor(r: DoctorReport): string {
  const lines: string[] = [];
  const w1 = Math.max(7, ...r.features.map((f) => f.feature.length));
  const w3 = Math.max(4, ...r.features.map((f) => f.path.length));
  lines.push(`${pad('feature', w1)}  detected  ${pad('path', w3)}  detail`);
  lines.push(`${'-'.repeat(w1)}  --------  ${'-'.repeat(w3)}  ------`);
  for (const f of r.features) lines.push(`${pad(f.feature, w1)}  ${pad(f.detected ? 'yes' : 'no', 8)}  ${pad(f.path, w3)}  ${f.detail}`);
  lines.push('');
  const b = r.native.build;
  if (b) {
    lines.push(`native build (${b.builtAt}, Node ${b.node}): ${b.built ? `built ${b.addon}` : `not built: ${b.reason}`}`);
    for (const [k, v] of Object.entries(b.features)) lines.push(`  ${pad(k, 6)} ${v.compiled ? 'compiled' : `left out: ${v.reason || v.detail || 'unknown'}`}`);
  } else {
    lines.push('native build: no build/native/status.json (run `npm run build`)');
  }
  if (!r.native.loaded) lines.push(`native addon not in use: ${r.native.reason}`);
  const t = r.topology;
  if (t) {
    lines.push(`topology (${t.source}): online CPUs ${t.online.join(',')}; ${t.nodes.map((x) => `node ${x.id} CPUs ${x.cpus.join(',')} distances [${x.distances.join(' ')}]`).join('; ')}; SMT siblings ${t.siblings.map((s) => `{${s.join(',')}}`).join(' ')}`);
  }
  if (r.suggestedCpus) lines.push(`serve --cpus ${r.suggestedCpus}   (a plan for this machine; docs/native.md "CPU placement")`);
  return lines.join('\n');
}

export async function cmdDoctor(argv: string[]): Promise<number> {
  let json = false;
  for (const a of argv) {
    if (a === '--json') json = true;
    else throw new TradsysError('ERR_CLI_USAGE', `doctor: unexpected argument "${a}" (usage: tradsys doctor [--json])`);
  }
  const r = await doctorReport();
  process.stdout.write((json ? JSON.stringify(r, null, 2) : formatDoctor(r)) + '\n');
  return 0;
}
