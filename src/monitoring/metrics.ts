/**
 * The app's Prometheus registry (prom-client): every series GET /metrics answers
 * (docs/operations.md "Metrics"), as collectors that read the existing counters at scrape time —
 * nothing is counted twice and nothing costs anything per message.
 *
 * Layout: one `Metrics` per app (`app.tradsys.metrics`). Series: the gateway's counters, the
 * engine seq, the storage's (when storage is on; `StorageApi.series`), and the per-stage latency
 * histograms `tradsys_latency_seconds{stage}` (since start), turned from the HDR counts into
 * cumulative `le` buckets 100 ns – 10 s (1-2-5 per decade) at scrape time by a custom collector.
 * Invariants: names and types of the series that existed before prom-client are unchanged.
 * Complexity: a scrape is O(series + stages × HDR counts). Allocation: per scrape.
 * Known limitations: `_sum` of a latency histogram is count × the HDR mean (values within the
 * histogram's 0.1 % resolution); latency histograms are since start (Prometheus rates them).
 */
import { Counter, Gauge, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { JsHistogram } from 'hdr-histogram-js';
import { STAGES, type LatencyMonitor } from './latency.js';

/** A series read at scrape time: name, type, help and a reader. */
export interface MetricSeries { name: string; type: 'counter' | 'gauge'; help: string; value: () => number }

/** Upper bounds of the latency buckets, seconds: 100 ns to 10 s, 1-2-5 per decade (25 buckets, then +Inf). */
export const LATENCY_BUCKETS_S: readonly number[] = (() => {
  const b: number[] = [];
  for (let e = -7; e <= 0; e++) for (const m of [1, 2, 5]) b.push(Number((m * 10 ** e).toPrecision(1)));
  b.push(10);
  return b;
})();

export interface MetricsSources {
  /** Gateway and engine series (src/gateway/compose.ts lists them). */
  series: MetricSeries[];
  latency?: LatencyMonitor | null;
}

export class Metrics {
  readonly registry = new Registry();

  constructor(src: MetricsSources) {
    for (const s of src.series) this.add(s);
    if (src.latency) this.registry.registerMetric(latencyCollector(src.latency) as never);
  }

  /** Registers one more series read at scrape time. */
  add(s: MetricSeries): void {
    const read = s.value;
    if (s.type === 'gauge') {
      new Gauge({ name: s.name, help: s.help, registers: [this.registry], collect() { this.set(finite(read())); } });
    } else {
      new Counter({ name: s.name, help: s.help, registers: [this.registry], collect() { this.reset(); const v = finite(read()); if (v > 0) this.inc(v); } });
    }
  }

  private readonly texts: (() => string)[] = [];

  /**
   * Appends Prometheus text of a source not yet moved to collectors (e.g. the strategy service's
   * `metricsText()` where it exists) after the registry's series. Its families must not repeat
   * the registry's names.
   */
  addText(source: () => string): void { this.texts.push(source); }

  /** The text GET /metrics answers: the registry, then any appended text. */
  async text(): Promise<string> {
    const t = await this.registry.metrics();
    if (this.texts.length === 0) return t;
    let out = t;
    for (const f of this.texts) { const x = f(); if (x !== '') out += (out.endsWith('\n') ? '' : '\n') + x + (x.endsWith('\n') ? '' : '\n'); }
    return out;
  }
  get contentType(): string { return this.registry.contentType; }

  /**
   * A counter's or gauge's value: the sum over the label sets that carry every given label
   * (undefined when the metric is not registered or no label set matches). For the alert engine.
   */
  async read(metric: string, labels?: Record<string, string>): Promise<number | undefined> {
    const m = this.registry.getSingleMetric(metric);
    if (!m) return undefined;
    const got = (await m.get()) as MetricObjectWithValues<MetricValue<string>>;
    const type = String(got.type);
    if (type !== 'counter' && type !== 'gauge') return undefined;
    let sum = 0;
    let any = false;
    for (const v of got.values) {
      const l = (v.labels ?? {}) as Record<string, string | number>;
      if (labels && Object.entries(labels).some(([k, x]) => String(l[k]) !== x)) continue;
      sum += v.value;
      any = true;
    }
    return any ? sum : undefined;
  }
}

const finite = (v: number): number => (Number.isFinite(v) ? v : 0);

/** `tradsys_latency_seconds{stage}`: the since-start HDR histogram of each stage as cumulative buckets. */
function latencyCollector(lat: LatencyMonitor): { name: string; help: string; type: string; aggregator: string; get(): Promise<unknown>; reset(): void } {
  const name = 'tradsys_latency_seconds';
  const help = 'latency per stage since start (docs/monitoring.md "Latency stages"), from HDR histograms merged across threads';
  return {
    name, help, type: 'histogram', aggregator: 'sum',
    reset() { /* since start: never reset */ },
    get() {
      lat.collect();
      const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
      for (const stage of STAGES) {
        const h = lat.histogram(stage, 'start');
        const cum = cumulativeBuckets(h, LATENCY_BUCKETS_S);
        for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) values.push({ metricName: `${name}_bucket`, labels: { stage, le: LATENCY_BUCKETS_S[i]! }, value: cum[i]! });
        values.push({ metricName: `${name}_bucket`, labels: { stage, le: '+Inf' }, value: h.totalCount });
        values.push({ metricName: `${name}_sum`, labels: { stage }, value: h.totalCount === 0 ? 0 : (h.mean * h.totalCount) / 1e9 });
        values.push({ metricName: `${name}_count`, labels: { stage }, value: h.totalCount });
      }
      return Promise.resolve({ name, help, type: 'histogram', values, aggregator: 'sum' });
    },
  };
}

/**
 * Counts ≤ each bound (seconds) from an HDR histogram in ns: a value counts under a bound when
 * its HDR bucket's highest equivalent value is ≤ the bound (so no value is counted under a bound
 * it may exceed). One pass over the counts.
 */
export function cumulativeBuckets(h: JsHistogram, boundsS: readonly number[]): number[] {
  const out = new Array<number>(boundsS.length).fill(0);
  if (h.totalCount === 0) return out;
  const bounds = boundsS.map((b) => Math.round(b * 1e9));
  const n = h.countsArrayLength;
  let b = 0;
  let acc = 0;
  for (let i = 0; i < n && b < bounds.length; i++) {
    const c = h.getCountAtIndex(i);
    if (c === 0) continue;
    const hi = h.highestEquivalentValue(h.valueFromIndex(i));
    while (b < bounds.length && hi > bounds[b]!) out[b++] = acc;
    acc += c;
  }
  while (b < bounds.length) out[b++] = acc;
  return out;
}
