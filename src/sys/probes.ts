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
import { probeAffinity, probeMemoryBinding, probeTopology } from './placement.js';
// the row types live in feature-probe.ts, so that a feature's probe module can use them without an
// import cycle through this registry
import type { FeatureProbe, Probe } from './feature-probe.js';
import { probeGpu } from './gpu.js';

export type { FeatureProbe, Probe } from './feature-probe.js';

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
  probeTopology, probeAffinity, probeMemoryBinding,
  probeGpu,
  probeFeed,
];

/** Runs every probe, all at once (rows in registry order); a probe that throws becomes a row saying so. */
export async function runProbes(probes: readonly Probe[] = PROBES): Promise<FeatureProbe[]> {
  const one = async (p: Probe): Promise<FeatureProbe[]> => {
    try { return await p(); } catch (e) {
      return [{ feature: p.name.replace(/^probe/, '').toLowerCase() || 'unknown', detected: false, path: 'fallback', detail: `probe failed: ${(e as Error).message}` }];
    }
  };
  return (await Promise.all(probes.map(one))).flat();
}

/** One line for the serve banner and the demo: each feature, whether its accelerated path runs, and which path. */
export function probeSummary(rows: readonly FeatureProbe[]): string {
  return rows.map((r) => `${r.feature} ${r.detected ? 'yes' : 'no'} (${r.path})`).join(' · ');
}
