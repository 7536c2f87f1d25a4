/**
 * Order latency models of a backtest: the delay between a strategy sending a command (its hook
 * ran at simulated time t) and the engine sequencing it among the historical commands (at t + d).
 *
 * Owns: `LatencyModel` and its three kinds (docs/strategies.md "Backtests", latency model):
 * - `constant`: every command waits `d` ns (`--latency-us N`; default 50 µs);
 * - `sampled`: each command draws one of the stage latencies a live journal recorded — for every
 *   command in it, tsInit − tsIn (the gateway accepted it → the engine thread took its batch) —
 *   uniformly with a seeded mulberry32 (`--latency journal --latency-seed N`);
 * - `recorded`: no delay of its own: the backtest injects the strategy's i-th command exactly at
 *   the position where the live engine sequenced the live strategy's i-th command (journal input
 *   only; backtest.ts does the placing). `minNs` is +∞ so that no latency bound limits a batch.
 * Invariants: `next()` ≥ `minNs` ≥ 0; the same seed and samples give the same sequence on every
 * machine (32-bit integer PRNG, the samples sorted before use so file order does not matter).
 * Complexity: O(1) per draw (O(n log n) once to sort the samples). Allocation: the sample array.
 * Known limitations: the sampled model draws independently per command (no autocorrelation of
 * queueing delays); tsIn is the gateway's clock and tsInit the engine thread's, so the samples
 * carry the live machine's clock skew between threads (none on one host).
 */
import { TradsysError } from '../../domain/errors.js';
import { prng } from '../../workload/prng.js';

export type LatencyKind = 'constant' | 'sampled' | 'recorded';

export interface LatencyModel {
  readonly kind: LatencyKind;
  /** The smallest delay `next()` can return, ns (the backtest batches history up to it). */
  readonly minNs: number;
  /** The delay of the next strategy command, ns. */
  next(): number;
  /** For the report: what the model is, in one line. */
  describe(): string;
}

export function constantLatency(ns: number): LatencyModel {
  if (!Number.isFinite(ns) || ns < 0) throw new TradsysError('ERR_BACKTEST_CONFIG', `latency must be a number of ns ≥ 0, got ${String(ns)}`);
  return { kind: 'constant', minNs: ns, next: () => ns, describe: () => `constant ${ns / 1000} µs` };
}

/** Draws from `samples` (ns, each ≥ 0) with mulberry32(`seed`). */
export function sampledLatency(samples: ArrayLike<number>, seed: number): LatencyModel {
  if (samples.length === 0) throw new TradsysError('ERR_BACKTEST_INPUT', 'the journal recorded no stage latencies (no command with a gateway timestamp tsIn): use --latency-us N');
  const s = Float64Array.from(samples).sort();
  if (!(s[0]! >= 0) || !Number.isFinite(s[s.length - 1]!)) throw new TradsysError('ERR_BACKTEST_INPUT', 'stage latency samples must be finite and ≥ 0 ns');
  const rnd = prng(seed);
  const n = s.length;
  const med = s[n >> 1]!;
  return {
    kind: 'sampled', minNs: s[0]!,
    next: () => s[Math.min(n - 1, Math.floor(rnd() * n))]!,
    describe: () => `sampled from ${n} recorded tsIn→tsInit latencies (min ${(s[0]! / 1000).toFixed(1)} µs, median ${(med / 1000).toFixed(1)} µs, max ${(s[n - 1]! / 1000).toFixed(1)} µs; seed ${seed >>> 0})`,
  };
}

export function recordedLatency(): LatencyModel {
  return { kind: 'recorded', minNs: Number.POSITIVE_INFINITY, next: () => 0, describe: () => 'recorded: each strategy command at the live sequence position of the live strategy\'s command' };
}
