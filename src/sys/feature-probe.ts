/**
 * The row a run-time feature probe returns (src/sys/probes.ts runs them; `tradsys doctor` and the
 * serve banner print them). A module of types only, so that each feature's probe module can
 * import it without a cycle through the registry.
 *
 * Layout: FeatureProbe, Probe. Invariants: none (types). Complexity/Allocation: none.
 * Known limitations: none.
 */
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
