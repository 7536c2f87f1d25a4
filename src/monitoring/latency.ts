/**
 * Per-stage latency (docs/monitoring.md "Latency stages"): HDR histograms recorded in the thread
 * where each stage runs, handed to the main thread once a second through shared memory, merged
 * there (counts added, never averaged) into a since-start histogram and a last-minute window.
 *
 * Layout:
 * - `StageRecorder` (one per thread): per stage, counts in hdr-histogram-js's Int32Histogram layout
 *   (1 ns – 10 s, 3 significant digits), indexed directly (`countsIndex`, the same index as hdr's):
 *   bench/kernels/latency-record.bench.ts measured hdr's JS recordValue at ~46 ns, its WASM
 *   build's at ~14 ns (but its counts live in WASM memory: no copy to shared memory without
 *   encoding, i.e. allocating) and the direct index below both; the main thread's histograms are
 *   hdr JS ones (Float64Histogram), where merging and percentiles happen.
 * - `LatencyChannel` (one per worker thread): a SharedArrayBuffer holding, per stage, a header
 *   (f64 total, min, max, last value, last seq, last stamp) and the Uint32 counts; an i32 state
 *   word: 0 = empty (the worker may fill it), 1 = full (the main thread may take it). The worker
 *   `offer`s its recorder (copies the counts in and resets them) only when the state is 0, else it
 *   keeps accumulating: nothing is lost and nothing waits.
 * - `PublishStamps` (engine → main): a SharedArrayBuffer ring of 4,096 batches, each (first seq,
 *   last seq as f64; epoch ns of the publish as two u32 words); a batch count (i32) published with
 *   Atomics after the entry is written and before the batch's events are published.
 * - `LatencyMonitor` (main thread): the main thread's own recorder, the channels, a since-start
 *   Float64Histogram and `windowSlots` × `slotMs` rotating window histograms per stage (default
 *   6 × 10 s: `minute` covers the last 50 to 60 s), an injected clock (ms) for tests.
 * Invariants: a value is recorded into exactly one thread's recorder, then reaches the monitor
 * exactly once (channel handshake); merged histograms equal one histogram of all values.
 * Values outside 0 – 10 s are clamped to it (a clock step cannot throw on the hot path).
 * Complexity: record O(1); collect O(stages × counts) per second; percentile O(counts).
 * Allocation: recording none (test/unit/latency-gc.test.ts); offer none; collect and reports
 * allocate (main thread, once a second or per request).
 * Known limitations: a worker that stops recording keeps its last < 1 s of values in its recorder
 * until its next offer; window rotation is by 10 s slots, so `minute` is 50–60 s of history.
 */
import { Float64Histogram, Int32Histogram, type JsHistogram } from 'hdr-histogram-js';
import { nowNsInto } from '../domain/clock.js';

/** Stage names, exact (also the `latency_samples.component` values). */
export const STAGES = [
  'ws_receive_to_decode', 'decode_to_ring', 'ring_to_engine', 'engine_match', 'journal_durable', 'engine_to_publish',
  'publish_to_report', 'order_to_ack', 'md_publish_to_send', 'strategy_event_to_decision', 'strategy_decision_to_ring',
] as const;
export type Stage = (typeof STAGES)[number];
/** Stage ids: index into STAGES (what the hot path passes). */
export const S = {
  wsReceiveToDecode: 0, decodeToRing: 1, ringToEngine: 2, engineMatch: 3, journalDurable: 4, engineToPublish: 5,
  publishToReport: 6, orderToAck: 7, mdPublishToSend: 8, strategyEventToDecision: 9, strategyDecisionToRing: 10,
} as const;
const NSTAGES = STAGES.length;

/** Histogram range: 1 ns to 10 s, 3 significant digits (0.1 % resolution). */
export const HIST_LOWEST_NS = 1;
export const HIST_HIGHEST_NS = 10_000_000_000;
export const HIST_DIGITS = 3;

export type LatencyWindow = 'minute' | 'start';
export interface StageFigures { count: number; p50: number | null; p90: number | null; p99: number | null; p999: number | null; max: number | null }
/** GET /api/v1/latency: figures in µs with 3 decimals (ns resolution). */
export interface LatencyReport {
  unit: 'us';
  windowSeconds: { minute: number };
  stages: Record<string, { minute: StageFigures; start: StageFigures }>;
}

export function newRecordHistogram(): JsHistogram { return new Int32Histogram(HIST_LOWEST_NS, HIST_HIGHEST_NS, HIST_DIGITS); }
export function newMergeHistogram(): JsHistogram { return new Float64Histogram(HIST_LOWEST_NS, HIST_HIGHEST_NS, HIST_DIGITS); }

interface Counts { _counts: Uint32Array | Float64Array }
const countsOf = (h: JsHistogram): Uint32Array | Float64Array => (h as unknown as Counts)._counts;

const probe = newRecordHistogram() as unknown as { subBucketHalfCountMagnitude: number; unitMagnitude: number; subBucketHalfCount: number; countsArrayLength: number };
const HALF_MAG = probe.subBucketHalfCountMagnitude;
const HALF = probe.subBucketHalfCount;
if (probe.unitMagnitude !== 0) throw new Error('latency histograms: unit magnitude 0 expected (lowest discernible value 1)');
/** 2^k for k < 64 (exact doubles): the bucket divisors for values past 2^32. */
const POW2 = Float64Array.from({ length: 64 }, (_, k) => 2 ** k);

/**
 * The HDR counts index of `v` (an integer in [0, 10 s]): the same index hdr-histogram-js's
 * `countsArrayIndex` gives (test/unit/latency-monitor.test.ts checks it over the whole range),
 * with Math.clz32 instead of Math.log2 and Math.pow — the hot path's cost.
 */
export function countsIndex(v: number): number {
  let log2: number;
  let sub: number;
  if (v < 4294967296) {
    log2 = 31 - Math.clz32(v);
    const b = log2 - HALF_MAG > 0 ? log2 - HALF_MAG : 0;
    sub = v >>> b;
    return ((b + 1) << HALF_MAG) + sub - HALF;
  }
  log2 = 63 - Math.clz32(Math.floor(v / 4294967296));
  const b = log2 - HALF_MAG;
  sub = Math.floor(v / POW2[b]!);
  return ((b + 1) << HALF_MAG) + sub - HALF;
}

/**
 * One thread's histograms, one per stage, in hdr-histogram-js's Int32Histogram counts layout
 * (1 ns – 10 s, 3 digits), plus total, min, max and the last value and seq per stage (for
 * `latency_samples`). Recording indexes the counts directly (countsIndex): bench/kernels/
 * latency-record.bench.ts measured it against hdr's JS and WASM builds' recordValue. The counts
 * reach hdr histograms in the main thread (LatencyChannel, LatencyMonitor.collect), where every
 * percentile is computed. Record calls allocate nothing.
 */
export class StageRecorder {
  readonly counts: Uint32Array[] = [];
  /** Per stage: total, min, max, last value (ns), last seq (0 when none), spare. */
  readonly stat = new Float64Array(NSTAGES * 6);
  constructor() {
    for (let i = 0; i < NSTAGES; i++) { this.counts.push(new Uint32Array(countsLength)); this.stat[i * 6 + 1] = Infinity; }
  }

  /**
   * The value the next `add` records (ns): hot paths write it here and call `add(stage, count)`,
   * so no double crosses a call (a call that is not inlined boxes a double argument: 16 bytes).
   */
  readonly v = new Float64Array(1);

  /** One value (ns) for stage `s` (an `S` id). */
  record(s: number, ns: number): void { this.v[0] = ns; this.add(s, 1); }

  /** `count` values of the same ns (one per command of a batch). */
  recordCount(s: number, ns: number, count: number): void { this.v[0] = ns; this.add(s, count); }

  /** `count` values of `v[0]` ns for stage `s`. No allocation. */
  add(s: number, count: number): void {
    const ns = this.v[0]!;
    const v = ns < 0 ? 0 : ns > HIST_HIGHEST_NS ? HIST_HIGHEST_NS : Math.round(ns);
    const c = this.counts[s]!;
    const k = countsIndex(v);
    c[k] = c[k]! + count;
    const at = s * 6;
    const st = this.stat;
    st[at] = st[at]! + count;
    if (v < st[at + 1]!) st[at + 1] = v;
    if (v > st[at + 2]!) st[at + 2] = v;
    st[at + 3] = v;
  }

  /**
   * The engine's per-command stage in one call per batch: for each of `n` records (`stride` u32
   * words apart from word `at` of `w`, a stamp as (lo, hi) words; hi 0 = not stamped, skipped),
   * the value `(lo1, hi1)` − stamp. Counts are incremented in the loop; total, min, max and the
   * last value once per batch. No allocation, no call per record.
   */
  addSinceWords(s: number, w: Uint32Array, at: number, stride: number, n: number, lo1: number, hi1: number): void {
    lo1 = lo1 >>> 0; // callers may pass the low word as int32 (a Smi: no heap number for the argument)
    const c = this.counts[s]!;
    let k = 0;
    let mn = Infinity;
    let mx = -1;
    let v = 0;
    for (let i = 0, p = at; i < n; i++, p += stride) {
      const hi = w[p + 1]!;
      if (hi === 0) continue;
      v = (hi1 - hi) * 4294967296 + (lo1 - w[p]!);
      v = v < 0 ? 0 : v > HIST_HIGHEST_NS ? HIST_HIGHEST_NS : v;
      const x = countsIndex(v);
      c[x] = c[x]! + 1;
      if (v < mn) mn = v;
      if (v > mx) mx = v;
      k++;
    }
    if (k === 0) return;
    const st = this.stat;
    const b = s * 6;
    st[b] = st[b]! + k;
    if (mn < st[b + 1]!) st[b + 1] = mn;
    if (mx > st[b + 2]!) st[b + 2] = mx;
    st[b + 3] = v;
  }

  /**
   * One value from an open-loop source with a known pacing `intervalNs` (coordinated omission):
   * a value of k × interval also records the values the stalled source could not send
   * (value − interval, value − 2 × interval, … ≥ interval), as hdr's recordValueWithExpectedInterval.
   */
  recordCorrected(s: number, ns: number, intervalNs: number): void {
    this.record(s, ns);
    if (!(intervalNs > 0) || ns <= intervalNs) return;
    const v = this.stat[s * 6 + 3]!;
    for (let m = v - intervalNs; m >= intervalNs; m -= intervalNs) this.record(s, m);
    this.stat[s * 6 + 3] = v;
  }

  /** Values recorded for stage `s` since the last hand-over. */
  total(s: number): number { return this.stat[s * 6]!; }

  /** Tags the last value of stage `s` with the seq it belongs to (for a `latency_samples` row). */
  tag(s: number, seq: number): void { this.stat[s * 6 + 4] = seq; }

  /** Forgets stage `s`'s values (after a hand-over). */
  clear(s: number): void {
    const at = s * 6;
    if (this.stat[at] === 0) return;
    this.counts[s]!.fill(0);
    this.stat[at] = 0; this.stat[at + 1] = Infinity; this.stat[at + 2] = 0; this.stat[at + 4] = 0;
  }

  /** This stage's values as an hdr histogram: into `staging` (reset first). */
  pour(s: number, staging: JsHistogram): void {
    const at = s * 6;
    pourInto(staging, this.counts[s]!, this.stat[at]!, this.stat[at + 1]!, this.stat[at + 2]!);
  }
}

function pourInto(staging: JsHistogram, counts: Uint32Array, total: number, min: number, max: number): void {
  staging.reset();
  (countsOf(staging) as Uint32Array).set(counts);
  staging.setTotalCount(total);
  staging.recordValueWithCount(min, 0); // min and max without a count
  staging.recordValueWithCount(max, 0);
}

const countsLength = probe.countsArrayLength;
const HDR_F64 = 6; // total, min, max, last value, last seq, spare
const STAGE_BYTES = HDR_F64 * 8 + countsLength * 4;

/** A worker's histograms on their way to the main thread (see the module header). */
export class LatencyChannel {
  readonly sab: SharedArrayBuffer;
  private readonly state: Int32Array;
  private readonly hdr: Float64Array[] = [];
  private readonly counts: Uint32Array[] = [];

  constructor(sab?: SharedArrayBuffer) {
    this.sab = sab ?? new SharedArrayBuffer(8 + NSTAGES * STAGE_BYTES);
    this.state = new Int32Array(this.sab, 0, 1);
    for (let i = 0; i < NSTAGES; i++) {
      const at = 8 + i * STAGE_BYTES;
      this.hdr.push(new Float64Array(this.sab, at, HDR_F64));
      this.counts.push(new Uint32Array(this.sab, at + HDR_F64 * 8, countsLength));
    }
  }

  /** Worker side: hands the recorder's counts over and resets it, if the main thread took the last ones. No allocation. */
  offer(rec: StageRecorder): boolean {
    if (Atomics.load(this.state, 0) !== 0) return false;
    for (let i = 0; i < NSTAGES; i++) {
      const hd = this.hdr[i]!;
      const at = i * 6;
      hd[0] = rec.stat[at]!;
      hd[3] = rec.stat[at + 3]!;
      hd[4] = rec.stat[at + 4]!;
      if (hd[0] === 0) continue;
      hd[1] = rec.stat[at + 1]!;
      hd[2] = rec.stat[at + 2]!;
      this.counts[i]!.set(rec.counts[i]!);
      rec.clear(i);
    }
    Atomics.store(this.state, 0, 1);
    return true;
  }

  /** Main side: adds what the worker handed over into `into(stage)` (each stage's sink), then frees the channel. */
  take(staging: JsHistogram, sink: (stage: number, h: JsHistogram, lastNs: number, lastSeq: number) => void): boolean {
    if (Atomics.load(this.state, 0) !== 1) return false;
    for (let i = 0; i < NSTAGES; i++) {
      const hd = this.hdr[i]!;
      if (hd[0] === 0) continue;
      pourInto(staging, this.counts[i]!, hd[0]!, hd[1]!, hd[2]!);
      sink(i, staging, hd[3]!, hd[4]!);
    }
    Atomics.store(this.state, 0, 0);
    return true;
  }
}

const PUB_SLOTS = 4096;
/** Engine → main: when each batch's events were published (see the module header). */
export class PublishStamps {
  readonly sab: SharedArrayBuffer;
  private readonly count: Int32Array;
  private readonly seqs: Float64Array;
  private readonly words: Uint32Array;
  private cursor = 0;
  constructor(sab?: SharedArrayBuffer) {
    this.sab = sab ?? new SharedArrayBuffer(8 + PUB_SLOTS * 24);
    this.count = new Int32Array(this.sab, 0, 1);
    this.seqs = new Float64Array(this.sab, 8, PUB_SLOTS * 3);
    this.words = new Uint32Array(this.sab, 8, PUB_SLOTS * 6);
  }
  /** Engine side, before the batch's events are published: its seqs and the stamp (epoch ns as u32 words). No allocation. */
  put(firstSeq: number, lastSeq: number, lo: number, hi: number): void {
    const n = Atomics.load(this.count, 0);
    const e = (n & (PUB_SLOTS - 1)) * 3;
    this.seqs[e] = firstSeq;
    this.seqs[e + 1] = lastSeq;
    this.words[e * 2 + 4] = lo;
    this.words[e * 2 + 5] = hi;
    Atomics.store(this.count, 0, (n + 1) | 0);
  }
  /**
   * Main side: writes the publish stamp of the batch holding `seq` into out[0..1] (lo, hi) and
   * returns true; false when it is not known (the ring lapped it, or no stamp). Events come in seq
   * order, so the cursor only moves forward: O(1) amortised, no allocation.
   */
  find(seq: number, out: Uint32Array): boolean {
    const n = Atomics.load(this.count, 0);
    if (n - this.cursor > PUB_SLOTS) this.cursor = n - PUB_SLOTS;
    while (this.cursor < n) {
      const e = (this.cursor & (PUB_SLOTS - 1)) * 3;
      if (this.seqs[e + 1]! >= seq) {
        if (this.seqs[e]! > seq) return false;
        out[0] = this.words[e * 2 + 4]!;
        out[1] = this.words[e * 2 + 5]!;
        return true;
      }
      this.cursor++;
    }
    return false;
  }
}

/** ns from epoch words (lo0, hi0) to (lo1, hi1): exact. */
export function wordsDiffNs(lo1: number, hi1: number, lo0: number, hi0: number): number {
  return (hi1 - hi0) * 4294967296 + (lo1 - lo0);
}

/** A `latency_samples` row. */
export interface LatencySample { component: Stage; tsNs: bigint; seq: number; latencyNs: number }

export interface LatencyMonitorOptions {
  /** ms clock for window rotation (tests inject one; default Date.now). */
  clock?: () => number;
  windowSlots?: number;
  slotMs?: number;
  /** One row per stage with values per collect (≤ 1 per stage per second): `latency_samples`. */
  onSample?: (s: LatencySample) => void;
}

/**
 * The main thread's view of every stage. `local` is the main thread's recorder; `collect()`
 * (once a second from `start()`, and before each report) drains it and every channel.
 */
export class LatencyMonitor {
  readonly local = new StageRecorder();
  private readonly channels: LatencyChannel[] = [];
  private readonly since: JsHistogram[] = [];
  private readonly slots: JsHistogram[][] = [];
  private readonly scratch = newMergeHistogram();
  private readonly staging = newRecordHistogram();
  private readonly clock: () => number;
  private readonly slotMs: number;
  private slotStart: number;
  private cur = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Where `latency_samples` rows go (the storage writer, set once storage is up; none by default). */
  onSample: ((s: LatencySample) => void) | undefined;

  constructor(opts: LatencyMonitorOptions = {}) {
    this.clock = opts.clock ?? Date.now;
    this.slotMs = opts.slotMs ?? 10_000;
    const n = opts.windowSlots ?? 6;
    if (!Number.isInteger(n) || n < 1 || !(this.slotMs > 0)) throw new RangeError('LatencyMonitor: windowSlots must be an integer ≥ 1 and slotMs > 0');
    for (let s = 0; s < NSTAGES; s++) this.since.push(newMergeHistogram());
    for (let w = 0; w < n; w++) { const a: JsHistogram[] = []; for (let s = 0; s < NSTAGES; s++) a.push(newMergeHistogram()); this.slots.push(a); }
    this.slotStart = this.clock();
    this.onSample = opts.onSample;
  }

  /** A channel a worker thread offers its recorder through (pass `.sab` to the worker). */
  channel(): LatencyChannel { const c = new LatencyChannel(); this.channels.push(c); return c; }

  /** Collects once a second (unref'd timer) until `stop()`. */
  start(): void { if (!this.timer) { this.timer = setInterval(() => this.collect(), 1000); this.timer.unref(); } }
  stop(): void { if (this.timer) clearInterval(this.timer); this.timer = null; this.collect(); }

  /** Length of the `minute` window, seconds. */
  get windowSeconds(): number { return (this.slots.length * this.slotMs) / 1000; }

  private rotate(): void {
    const now = this.clock();
    let steps = Math.floor((now - this.slotStart) / this.slotMs);
    if (steps <= 0) return;
    this.slotStart += steps * this.slotMs;
    if (steps > this.slots.length) steps = this.slots.length;
    for (let i = 0; i < steps; i++) {
      this.cur = (this.cur + 1) % this.slots.length;
      for (const h of this.slots[this.cur]!) h.reset();
    }
  }

  private readonly sink = (s: number, h: JsHistogram, lastNs: number, lastSeq: number): void => {
    this.since[s]!.add(h);
    this.slots[this.cur]![s]!.add(h);
    if (this.onSample) this.onSample({ component: STAGES[s]!, tsNs: nowEpochNs(), seq: lastSeq, latencyNs: lastNs });
  };

  /** Drains the main thread's recorder and every channel into the windows (allocates: main thread, off the hot path). */
  collect(): void {
    this.rotate();
    const l = this.local;
    for (let s = 0; s < NSTAGES; s++) {
      if (l.total(s) === 0) continue;
      l.pour(s, this.staging);
      this.sink(s, this.staging, l.stat[s * 6 + 3]!, l.stat[s * 6 + 4]!);
      l.clear(s);
    }
    for (const c of this.channels) c.take(this.staging, this.sink);
  }

  stages(): string[] { return [...STAGES]; }

  private stageIndex(stage: string): number {
    const i = (STAGES as readonly string[]).indexOf(stage);
    if (i < 0) throw new RangeError(`unknown latency stage '${stage}' (one of ${STAGES.join(', ')})`);
    return i;
  }

  /** The merged histogram of a stage over a window (a copy for `minute`; the live one for `start`: do not modify). */
  histogram(stage: string, window: LatencyWindow): JsHistogram {
    const s = this.stageIndex(stage);
    if (window === 'start') return this.since[s]!;
    const m = this.scratch;
    m.reset();
    for (const slot of this.slots) if (slot[s]!.totalCount > 0) m.add(slot[s]!);
    return m;
  }

  /** The `q` quantile (0.5, 0.99, 0.999…) of a stage over a window, µs; null when it has no values. */
  percentile(stage: string, q: number, window: LatencyWindow): number | null {
    if (!(q >= 0 && q <= 1)) throw new RangeError(`percentile: q must be in [0, 1], got ${q}`);
    this.collect();
    const h = this.histogram(stage, window);
    return h.totalCount === 0 ? null : us(h.getValueAtPercentile(q * 100));
  }

  snapshot(): LatencyReport {
    this.collect();
    const stages: LatencyReport['stages'] = {};
    for (const st of STAGES) stages[st] = { minute: figures(this.histogram(st, 'minute')), start: figures(this.histogram(st, 'start')) };
    return { unit: 'us', windowSeconds: { minute: this.windowSeconds }, stages };
  }
}

const us = (ns: number): number => Math.round(ns) / 1000;
function figures(h: JsHistogram): StageFigures {
  if (h.totalCount === 0) return { count: 0, p50: null, p90: null, p99: null, p999: null, max: null };
  return { count: h.totalCount, p50: us(h.getValueAtPercentile(50)), p90: us(h.getValueAtPercentile(90)), p99: us(h.getValueAtPercentile(99)), p999: us(h.getValueAtPercentile(99.9)), max: us(h.maxValue) };
}

const nowWords = new Uint32Array(2);
function nowEpochNs(): bigint { nowNsInto(nowWords, 0); return (BigInt(nowWords[1]!) << 32n) | BigInt(nowWords[0]!); }
