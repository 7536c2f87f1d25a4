/**
 * Order latency models of a backtest: the delay between a strategy sending a command (its hook
 * ran at simulated time t) and the engine sequencing it among the historical commands (at t + d).
 *
 * Owns: `LatencyModel` and its three kinds (docs/strategies.md "Backtests", latency model):
 * - `constant`: every command waits `d` ns (`--latency-us N`; default 50 µs);
 * - `sampled`: each command draws one of the stage latencies a live journal recorded — for every
 *   command in it, tsInit − tsIn (the gateway accepted it → the engine thread took its batch) —
 *   uniformly with a seeded mulberry32 (`--latency journal --latency-seed N`), per operation: a
 *   new order draws from the journal's new orders, a cancel from its cancels, a modify from its
 *   modifies (from all of them when the journal has none of that operation);
 * - `recorded`: no delay of its own: the backtest injects the strategy's i-th command exactly at
 *   the position where the live engine sequenced the live strategy's i-th command (journal input
 *   only; backtest.ts does the placing). `minNs` is +∞ so that no latency bound limits a batch.
 * Layout: samples sorted ascending per operation (index 0: all; 1 new, 2 cancel, 3 modify).
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
  /** The delay of the next strategy command (of operation `op`, ENUMS.Op), ns. */
  next(op?: number): number;
  /** For the report: what the model is, in one line. */
  describe(): string;
}

export function constantLatency(ns: number): LatencyModel {
  if (!Number.isFinite(ns) || ns < 0) throw new TradsysError('ERR_BACKTEST_CONFIG', `latency must be a number of ns ≥ 0, got ${String(ns)}`);
  return { kind: 'constant', minNs: ns, next: () => ns, describe: () => `constant ${ns / 1000} µs` };
}

/**
 * Draws from `samples` (ns, each ≥ 0) with mulberry32(`seed`); with `ops` (the operation of each
 * sample, ENUMS.Op), a command of operation k draws from the samples of k when there are any.
 */
export function sampledLatency(samples: ArrayLike<number>, seed: number, ops?: ArrayLike<number>): LatencyModel {
  if (samples.length === 0) throw new TradsysError('ERR_BACKTEST_INPUT', 'the journal recorded no stage latencies (no command with a gateway timestamp tsIn): use --latency-us N');
  if (ops && ops.length !== samples.length) throw new TradsysError('ERR_BACKTEST_INPUT', 'one operation per latency sample');
  const sorted = (xs: number[]): Float64Array => Float64Array.from(xs).sort();
  const all = sorted(Array.from(samples));
  if (!(all[0]! >= 0) || !Number.isFinite(all[all.length - 1]!)) throw new TradsysError('ERR_BACKTEST_INPUT', 'stage latency samples must be finite and ≥ 0 ns');
  // per operation 1..3 (new, cancel, modify); index 0: all
  const byOp: Float64Array[] = [all];
  for (let op = 1; op <= 3; op++) {
    const xs: number[] = [];
    if (ops) for (let i = 0; i < samples.length; i++) if (ops[i] === op) xs.push(samples[i]!);
    byOp.push(xs.length > 0 ? sorted(xs) : all);
  }
  const rnd = prng(seed);
  const n = all.length;
  const med = all[n >> 1]!;
  const us = (x: number): string => (x / 1000).toFixed(1);
  const counts = ops ? [1, 2, 3].map((op) => (byOp[op] === all ? 0 : byOp[op]!.length)) : null;
  return {
    kind: 'sampled', minNs: all[0]!,
    next: (op = 0) => {
      const s = byOp[op >= 1 && op <= 3 ? op : 0]!;
      return s[Math.min(s.length - 1, Math.floor(rnd() * s.length))]!;
    },
    describe: () => `sampled from ${n} recorded tsIn→tsInit latencies (min ${us(all[0]!)} µs, median ${us(med)} µs, max ${us(all[n - 1]!)} µs${counts ? `; by operation: ${counts[0]} new, ${counts[1]} cancel, ${counts[2]} modify` : ''}; seed ${seed >>> 0})`,
  };
}

export function recordedLatency(): LatencyModel {
  return { kind: 'recorded', minNs: Number.POSITIVE_INFINITY, next: () => 0, describe: () => 'recorded: each strategy command at the live sequence position of the live strategy\'s command' };
}
