/**
 * The registry of run-time feature probes behind `tradsys doctor` and the serve banner's
 * "accelerations" line. Each native feature (NUMA and CPU placement, the feed handler's receive
 * paths and timestamps, the GPU) contributes one probe function here; a probe looks at the real
 * machine (the loaded addon, sysfs, /proc, sockets, devices) and says which path runs.
 *
 * Layout: `FeatureProbe` rows, one per feature (a probe may return several).
 * Invariants: probes never throw (an exception becomes a row with detected: false and the reason)
 * and never change the machine's state beyond what they undo before returning.
 * Complexity: each probe is bounded (no unbounded waits); the whole set runs in well under a second.
 * Allocation: free; probes run at start-up and on `doctor`, never on a hot path.
 * Known limitations: Linux only; elsewhere every probe reports its fallback.
 */
import { probeFeed } from './feed-native.js';
import { loadNative } from './native.js';

/** One feature's run-time finding. */
export interface FeatureProbe {
  /** Stable name, kebab-case: 'native-addon', 'numa', 'cpu-affinity', 'kernel-bypass', 'recvmmsg', 'hw-timestamps', 'gpu', … */
  feature: string;
  /** Whether the accelerated path is available on this machine now. */
  detected: boolean;
  /** The path that runs, in words ('AF_XDP (copy mode)', 'recvmmsg', 'dgram fallback', 'CUDA sm_90', 'WASM SIMD fallback', …). */
  path: string;
  /** What was found, or why the accelerated path is not used (what to do about it). */
  detail: string;
  /** Machine-readable facts for `doctor --json` (counts, names, versions). */
  facts?: Record<string, unknown>;
}

export type Probe = () => FeatureProbe[] | Promise<FeatureProbe[]>;

/** The addon itself: built, loaded, and which features it compiled in. */
export function probeAddon(): FeatureProbe[] {
  const r = loadNative();
  const compiled = r.addon ? Object.entries(r.addon.features).filter(([, v]) => v.compiled).map(([k]) => k) : [];
  return [{
    feature: 'native-addon',
    detected: !!r.addon,
    path: r.addon ? 'N-API addon' : 'TypeScript/WASM fallbacks',
    detail: r.addon ? `loaded ${r.path}; compiled: ${compiled.join(', ') || 'no features'}` : r.reason,
    facts: { path: r.path, compiled, build: r.build },
  }];
}

/** Every registered probe, in report order. Each feature adds its probe here. */
export const PROBES: Probe[] = [
  probeAddon,
  probeFeed,
];

/** Runs every probe; a probe that throws becomes a row saying so. */
export async function runProbes(probes: readonly Probe[] = PROBES): Promise<FeatureProbe[]> {
  const rows: FeatureProbe[] = [];
  for (const p of probes) {
    try { rows.push(...await p()); } catch (e) {
      rows.push({ feature: p.name.replace(/^probe/, '').toLowerCase() || 'unknown', detected: false, path: 'fallback', detail: `probe failed: ${(e as Error).message}` });
    }
  }
  return rows;
}
