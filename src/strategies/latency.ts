/**
 * Fixed-bucket latency histogram for the strategy runtime's decision latency (status p50/p99):
 * log-linear buckets of nanoseconds, the way HDR histograms bucket, without a dependency.
 *
 * Layout: values 0..63 ns have a bucket each; above, each power of two [2^e, 2^(e+1)) (e = 6..31)
 * has 32 equal sub-buckets, so a bucket's width is at most 1/32 of its value (≤ 3.2 % error).
 * Values at or above 2^32 ns (4.3 s) land in the last bucket. 896 u32 counters.
 * `WindowedLatency` keeps two of them and swaps every `windowMs`, so a percentile covers the last
 * one to two windows.
 * Invariants: `percentile(q)` returns the midpoint of the bucket holding the ⌈q·n⌉-th smallest
 * value (exact below 64 ns); 0 when empty.
 * Complexity: record O(1); percentile O(buckets). Allocation: the counters at construction; none after.
 * Known limitations: midpoint reporting (≤ 1.6 % off the true value).
 */

const SUB_BITS = 5;
const SUB = 1 << SUB_BITS;
const LINEAR = 2 * SUB; // 64: exact buckets
export const BUCKETS = LINEAR + (31 - 6 + 1) * SUB; // 896

/** Bucket of `ns` (integer ≥ 0). */
export function bucketOf(ns: number): number {
  if (ns < LINEAR) return ns < 0 ? 0 : Math.floor(ns);
  const v = ns >= 4294967295 ? 4294967295 : Math.floor(ns) >>> 0;
  const e = 31 - Math.clz32(v);
  const m = (v >>> (e - SUB_BITS)) & (SUB - 1);
  return LINEAR + (e - 6) * SUB + m;
}

/** [low, high) of bucket `i` in ns. */
export function bucketRange(i: number): [number, number] {
  if (i < LINEAR) return [i, i + 1];
  const e = 6 + Math.floor((i - LINEAR) / SUB);
  const m = (i - LINEAR) % SUB;
  const w = 2 ** (e - SUB_BITS);
  const lo = (SUB + m) * w;
  return [lo, lo + w];
}

export class LatencyHistogram {
  readonly counts = new Uint32Array(BUCKETS);
  total = 0;

  record(ns: number): void { this.counts[bucketOf(ns)]!++; this.total++; }

  reset(): void { this.counts.fill(0); this.total = 0; }

  /** The q-quantile (0 < q ≤ 1) in ns over this histogram and, optionally, another. */
  percentile(q: number, other?: LatencyHistogram): number {
    const n = this.total + (other ? other.total : 0);
    if (n === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * n));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]! + (other ? other.counts[i]! : 0);
      if (seen >= rank) {
        if (i < LINEAR) return i;
        const [lo, hi] = bucketRange(i);
        return (lo + hi) / 2;
      }
    }
    return 0;
  }
}

/** Two histograms swapped every `windowMs` of the given clock: percentiles over the last 1–2 windows. */
export class WindowedLatency {
  private cur = new LatencyHistogram();
  private prev = new LatencyHistogram();
  private since: number;

  constructor(private readonly windowMs: number, now: number) { this.since = now; }

  record(ns: number, now: number): void {
    if (now - this.since >= this.windowMs) this.rotate(now);
    this.cur.record(ns);
  }

  private rotate(now: number): void {
    const t = this.prev;
    this.prev = this.cur;
    this.cur = t;
    this.cur.reset();
    if (now - this.since >= 2 * this.windowMs) this.prev.reset(); // a whole window without samples
    this.since = now;
  }

  /** q-quantile in µs. */
  percentileUs(q: number, now: number): number {
    if (now - this.since >= this.windowMs) this.rotate(now);
    return this.cur.percentile(q, this.prev) / 1000;
  }
}
