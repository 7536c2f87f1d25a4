/**
 * LatencyMonitor (src/monitoring/latency.ts) against simple references: histograms handed over
 * through LatencyChannels (the shared-memory handshake the engine thread uses) and the main
 * thread's own recorder merge into exactly one histogram of all values; percentiles agree with a
 * sorted-array reference within the HDR resolution (3 significant digits); the minute window
 * rotates on an injected clock; coordinated-omission correction matches a hand-worked example;
 * the Prometheus buckets of a histogram equal counts from the raw values; bad input is refused.
 */
import { describe, expect, it } from 'vitest';
import { HIST_HIGHEST_NS, LatencyChannel, LatencyMonitor, PublishStamps, S, StageRecorder, STAGES, countsIndex, newMergeHistogram, newRecordHistogram } from '../../src/monitoring/latency.js';
import { cumulativeBuckets, LATENCY_BUCKETS_S } from '../../src/monitoring/metrics.js';
import { prng } from '../../src/workload/prng.js';

/** Log-uniform values 50 ns – 50 ms (what latencies look like), seeded. */
function values(seed: number, n: number): number[] {
  const r = prng(seed);
  return Array.from({ length: n }, () => Math.round(50 * Math.exp(r() * Math.log(1e6))));
}
const refQuantile = (sorted: number[], q: number): number => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;

describe('LatencyMonitor', () => {
  it('indexes values exactly as hdr-histogram-js does, over the whole range', () => {
    const h = newRecordHistogram();
    const check = (v: number): void => { if (countsIndex(v) !== h.countsArrayIndex(v)) throw new Error(`index of ${v}: ${countsIndex(v)} vs hdr ${h.countsArrayIndex(v)}`); };
    for (let v = 0; v < 10_000; v++) check(v);
    for (let k = 1; k < 34; k++) for (const d of [-2, -1, 0, 1, 2]) { const v = 2 ** k + d; if (v >= 0 && v <= HIST_HIGHEST_NS) check(v); }
    const r = prng(5);
    for (let i = 0; i < 200_000; i++) check(Math.floor(Math.exp(r() * Math.log(HIST_HIGHEST_NS))));
    check(HIST_HIGHEST_NS);
    expect(countsIndex(HIST_HIGHEST_NS)).toBeLessThan(h.countsArrayLength);
  });

  it('merges histograms from channels and the local recorder into one histogram of all values', () => {
    const m = new LatencyMonitor();
    const ch = [m.channel(), m.channel()];
    const workers = [new StageRecorder(), new StageRecorder()];
    const all = values(1, 30_000);
    all.forEach((v, i) => { const k = i % 3; if (k === 2) m.local.record(S.engineMatch, v); else workers[k]!.record(S.engineMatch, v); });
    // a worker offers; a second offer before the main thread took the first is refused (it keeps accumulating)
    expect(new LatencyChannel(ch[0]!.sab).offer(workers[0]!)).toBe(true);
    workers[0]!.record(S.engineMatch, 777);
    expect(new LatencyChannel(ch[0]!.sab).offer(workers[0]!)).toBe(false);
    expect(new LatencyChannel(ch[1]!.sab).offer(workers[1]!)).toBe(true);
    m.collect();
    expect(new LatencyChannel(ch[0]!.sab).offer(workers[0]!)).toBe(true); // the 777 left behind comes now
    m.collect();
    all.push(777);
    const one = newMergeHistogram();
    for (const v of all) one.recordValue(v);
    const got = m.histogram('engine_match', 'start');
    expect(got.totalCount).toBe(all.length);
    expect(got.maxValue).toBe(one.maxValue);
    expect(got.minNonZeroValue).toBe(one.minNonZeroValue);
    for (let i = 0; i < one.countsArrayLength; i++) if (got.getCountAtIndex(i) !== one.getCountAtIndex(i)) throw new Error(`counts differ at index ${i}`);
    for (const q of [0.5, 0.9, 0.99, 0.999]) expect(m.percentile('engine_match', q, 'start')).toBe(one.getValueAtPercentile(q * 100) / 1000);
    // the other stages stayed empty
    expect(m.snapshot().stages.ring_to_engine).toEqual({ minute: { count: 0, p50: null, p90: null, p99: null, p999: null, max: null }, start: { count: 0, p50: null, p90: null, p99: null, p999: null, max: null } });
  });

  it('percentiles agree with a sorted-array reference within 0.1 %', () => {
    const m = new LatencyMonitor();
    const vs = values(7, 100_001);
    for (const v of vs) m.local.record(S.orderToAck, v);
    const sorted = [...vs].sort((a, b) => a - b);
    for (const q of [0, 0.01, 0.5, 0.9, 0.99, 0.999, 1]) {
      const ref = refQuantile(sorted, q);
      const got = m.percentile('order_to_ack', q, 'start')! * 1000;
      expect(got, `q=${q}`).toBeGreaterThanOrEqual(ref - 0.5); // the HDR value is its bucket's highest equivalent value
      expect(got, `q=${q}`).toBeLessThanOrEqual(ref * 1.001 + 1);
    }
    const s = m.snapshot().stages.order_to_ack!.start;
    expect(s.count).toBe(vs.length);
    expect(s.max! * 1000).toBeGreaterThanOrEqual(sorted[sorted.length - 1]!);
    expect(s.max! * 1000).toBeLessThanOrEqual(sorted[sorted.length - 1]! * 1.001 + 1);
  });

  it('rotates the minute window on an injected clock', () => {
    let now = 1_000_000;
    const m = new LatencyMonitor({ clock: () => now, windowSlots: 6, slotMs: 10_000 });
    m.local.record(S.engineMatch, 1000);
    m.collect();
    now += 10_000;
    m.local.record(S.engineMatch, 2000); m.local.record(S.engineMatch, 2000);
    m.collect();
    expect(m.histogram('engine_match', 'minute').totalCount).toBe(3);
    now += 49_999; // the first slot is 59.999 s old: still in the window
    m.collect();
    expect(m.histogram('engine_match', 'minute').totalCount).toBe(3);
    now += 1; // 60 s: the first slot (value 1000) leaves, the second stays
    m.collect();
    expect(m.histogram('engine_match', 'minute').totalCount).toBe(2);
    expect(m.percentile('engine_match', 0, 'minute')).toBeCloseTo(2, 2);
    now += 10_000;
    m.collect();
    expect(m.histogram('engine_match', 'minute').totalCount).toBe(0);
    expect(m.percentile('engine_match', 0.5, 'minute')).toBeNull();
    // since start keeps everything; a long idle gap clears the whole window once
    expect(m.histogram('engine_match', 'start').totalCount).toBe(3);
    m.local.record(S.engineMatch, 5);
    now += 10 * 60_000;
    m.collect();
    expect(m.histogram('engine_match', 'minute').totalCount).toBe(1);
    expect(m.snapshot().windowSeconds.minute).toBe(60);
  });

  it('corrects an open-loop source for coordinated omission (hand example)', () => {
    // paced every 100 µs; one response took 450 µs: the sender could not send the 3 requests due
    // at +100, +200, +300 µs, which would have waited 350, 250 and 150 µs
    const m = new LatencyMonitor();
    m.local.recordCorrected(S.orderToAck, 450_000, 100_000);
    m.local.recordCorrected(S.orderToAck, 80_000, 100_000); // under the interval: itself only
    const h = m.histogram('order_to_ack', 'start');
    m.collect();
    expect(h.totalCount).toBe(5);
    const got: number[] = [];
    for (const v of [80_000, 150_000, 250_000, 350_000, 450_000]) got.push(h.getCountAtIndex(h.countsArrayIndex(v)));
    expect(got).toEqual([1, 1, 1, 1, 1]);
    expect(m.percentile('order_to_ack', 0.5, 'start')).toBeCloseTo(250, 0);
  });

  it('Prometheus buckets equal counts of the raw values at each bound', () => {
    const vs = values(3, 20_000).concat([100, 101, 199, 200, 1_000_000_000, 10_000_000_000]);
    const h = newMergeHistogram();
    for (const v of vs) h.recordValue(v);
    const got = cumulativeBuckets(h, LATENCY_BUCKETS_S);
    const want = LATENCY_BUCKETS_S.map((b) => vs.filter((v) => v <= Math.round(b * 1e9)).length);
    // a value within 0.1 % under a bound may share an HDR bucket reaching past it: counted above it
    got.forEach((g, i) => { expect(g).toBeLessThanOrEqual(want[i]!); expect(g).toBeGreaterThanOrEqual(vs.filter((v) => v * 1.001 <= LATENCY_BUCKETS_S[i]! * 1e9).length); });
    expect(LATENCY_BUCKETS_S[0]).toBe(1e-7);
    expect(LATENCY_BUCKETS_S[LATENCY_BUCKETS_S.length - 1]).toBe(10);
    expect(got[got.length - 1]).toBe(vs.length - 1); // 10 s shares a bucket reaching past 10 s: +Inf only
    expect(got.slice(0, 3)).toEqual(want.slice(0, 3)); // below 2,048 ns the HDR buckets are 1 ns wide: exact
  });

  it('finds each batch\'s publish stamp by seq, and forgets lapped ones', () => {
    const p = new PublishStamps();
    const reader = new PublishStamps(p.sab);
    const out = new Uint32Array(2);
    p.put(1, 3, 11, 0); p.put(4, 4, 22, 0); p.put(5, 9, 33, 1);
    expect(reader.find(2, out)).toBe(true); expect([...out]).toEqual([11, 0]);
    expect(reader.find(4, out)).toBe(true); expect([...out]).toEqual([22, 0]);
    expect(reader.find(9, out)).toBe(true); expect([...out]).toEqual([33, 1]);
    expect(reader.find(10, out)).toBe(false);
    for (let i = 0; i < 5000; i++) p.put(10 + i, 10 + i, i, 0);
    expect(reader.find(11, out)).toBe(false); // lapped: no stamp rather than a wrong one
    expect(reader.find(5009, out)).toBe(true); expect(out[0]).toBe(4999);
  });

  it('records a batch of stamps (addSinceWords) exactly as one record per stamp', () => {
    const a = new StageRecorder();
    const b = new StageRecorder();
    const stride = 16;
    const n = 500;
    const w = new Uint32Array(n * stride);
    const hi1 = 412_000_000; const lo1 = 3_000_000_000;
    const r = prng(9);
    for (let i = 0; i < n; i++) {
      if (i % 7 === 3) continue; // not stamped (hi 0): skipped
      const d = i === 5 ? -1000 : Math.floor(r() * 2 ** 34); // one from the future: clamps to 0
      let lo = lo1 - (d >= 0 ? d % 4294967296 : d);
      let hi = hi1 - (d >= 0 ? Math.floor(d / 4294967296) : 0);
      if (lo < 0) { lo += 4294967296; hi -= 1; }
      w[i * stride + 3] = lo; w[i * stride + 4] = hi;
      b.record(S.ringToEngine, d);
    }
    a.addSinceWords(S.ringToEngine, w, 3, stride, n, lo1, hi1);
    expect(a.total(S.ringToEngine)).toBe(b.total(S.ringToEngine));
    expect([...a.counts[S.ringToEngine]!]).toEqual([...b.counts[S.ringToEngine]!]);
    expect([...a.stat.subarray(S.ringToEngine * 6, S.ringToEngine * 6 + 4)]).toEqual([...b.stat.subarray(S.ringToEngine * 6, S.ringToEngine * 6 + 4)]);
  });

  it('refuses unknown stages and bad quantiles, clamps out-of-range values', () => {
    const m = new LatencyMonitor();
    expect(() => m.percentile('nope', 0.5, 'start')).toThrow(/unknown latency stage 'nope'/);
    expect(() => m.percentile('engine_match', 1.5, 'start')).toThrow(RangeError);
    expect(() => new LatencyMonitor({ windowSlots: 0 })).toThrow(RangeError);
    m.local.record(S.engineMatch, -5);
    m.local.record(S.engineMatch, 1e12);
    expect(m.percentile('engine_match', 0, 'start')).toBe(0);
    expect(m.percentile('engine_match', 1, 'start')!).toBeGreaterThanOrEqual(10_000_000);
    expect(m.stages()).toEqual([...STAGES]);
  });
});

describe('Metrics', () => {
  it('reads counters and gauges, sums label sets, appends text sources', async () => {
    const { Metrics } = await import('../../src/monitoring/metrics.js');
    let n = 3;
    const m = new Metrics({ series: [{ name: 'x_total', type: 'counter', help: 'x', value: () => n }, { name: 'g', type: 'gauge', help: 'g', value: () => NaN }] });
    expect(await m.read('x_total')).toBe(3);
    n = 7;
    expect(await m.read('x_total')).toBe(7);
    expect(await m.read('g')).toBe(0); // not finite: 0
    expect(await m.read('x_total', { stage: 'a' })).toBeUndefined(); // no label set carries it
    m.addText(() => '# TYPE y gauge\ny 1');
    const t = await m.text();
    expect(t).toMatch(/^# HELP x_total x\n# TYPE x_total counter\nx_total 7\n/);
    expect(t.endsWith('# TYPE y gauge\ny 1\n')).toBe(true);
  });
});
