/**
 * `tradsys bench compare`: a bench:ci run (bench/ci.bench.ts) against a baseline run, metric by
 * metric, with a noise model built from each metric's repeated samples.
 *
 * Layout: a run file is `BenchRun` (format `tradsys-bench-ci/1`): run facts (date, commit, machine,
 * Node, load average) and `metrics`, name → `BenchMetric` { suite, unit, better: 'higher'|'lower',
 * gate, samples[], median }. `gate: true` marks the metrics a regression fails on: ratios to a
 * baseline measured in the same run (they cancel the machine's speed), with ≥ MIN_GATE_SAMPLES
 * samples. Absolute figures are compared and reported but never fail a comparison between
 * machines unless `gateAll` is set.
 *
 * Noise model: a percentile bootstrap of the ratio of medians. For each metric, B resamples (with
 * replacement) of the baseline's samples and of the candidate's give B values of
 * median(candidate*) / median(baseline*); `worse` = that ratio turned so that > 1 is worse
 * (baseline/candidate for higher-is-better). From them: the observed change, a two-sided interval
 * at `confidence`, and `confidenceWorse`/`confidenceBetter` = the share of resamples in which the
 * metric got worse/better at all. Verdicts: `regression` when the one-sided `confidence` bound
 * says it is worse by more than `threshold` (the lower `(1 − confidence)` quantile of `worse` − 1
 * exceeds `threshold`); `improvement` symmetrically; `changed` when the observed change exceeds
 * `report` (5%) but is not certain; `unchanged`; `new`/`missing` when one side lacks it. With n = 5
 * samples a side, confidence 0.999 amounts to "every candidate sample is worse than every
 * baseline sample, by more than the threshold": the bootstrap median of 5 lands on a sample's
 * minimum with probability ≈ 0.058, so the 0.1% quantile sits at the extremes.
 *
 * Invariants: deterministic: the resampling PRNG (mulberry32) is seeded per metric from `seed` and
 * a hash of the metric's name, so the same files always give the same report.
 * Complexity: O(metrics × B × n log n), B = 2,000: milliseconds for ~100 metrics of 5 samples.
 * Allocation: per comparison only (a CLI tool). Known limitations: the bootstrap sees the noise
 * within each run, not a shift between runs (another machine, other load), which is why only
 * same-run ratios gate and why CI's threshold is wide (bench/README.md "Noise model").
 */
import { prng } from '../workload/prng.js';

export const BENCH_FORMAT = 'tradsys-bench-ci/1';
/** Fewer samples than this: reported, never a regression (one sample has no noise estimate). */
export const MIN_GATE_SAMPLES = 3;

export interface BenchMetric {
  suite: string;
  unit: string;
  better: 'higher' | 'lower';
  gate: boolean;
  samples: number[];
  median: number;
  description?: string;
}

export interface BenchRun {
  format: string;
  runId: string;
  date: string;
  commit: string;
  machine: { host: string; cpu: string; cores: number; memoryBytes: number; platform: string };
  node: string;
  loadAverage: { before: number[]; after: number[] };
  seconds: number;
  options: Record<string, unknown>;
  metrics: Record<string, BenchMetric>;
}

export interface CompareOptions {
  /** Worse by more than this (0.10 = 10%) with `confidence` → regression. Default 0.05. */
  threshold?: number;
  /** One-sided confidence for a regression or improvement verdict. Default 0.95. */
  confidence?: number;
  /** Changes larger than this are listed even when within noise. Default 0.05. */
  report?: number;
  /** Bootstrap resamples. Default 2,000. */
  resamples?: number;
  seed?: number;
  /** Absolute (ungated) metrics can fail too: for two runs on the same machine. */
  gateAll?: boolean;
}

export type Verdict = 'regression' | 'improvement' | 'changed' | 'unchanged' | 'new' | 'missing';

export interface MetricComparison {
  metric: string;
  suite: string;
  unit: string;
  better: 'higher' | 'lower';
  gate: boolean;
  baseline: number | null;
  candidate: number | null;
  /** candidate median / baseline median − 1 (signed, in the metric's own direction). */
  change: number | null;
  /** The same as a bootstrap interval at `confidence` (two-sided), or null. */
  interval: [number, number] | null;
  /** Share of resamples in which the metric got worse (resp. better) at all. */
  confidenceWorse: number | null;
  confidenceBetter: number | null;
  samples: [number, number];
  verdict: Verdict;
  /** Why a large change is not a verdict (too few samples, not gated), or null. */
  note: string | null;
  /** This comparison fails the run. */
  fails: boolean;
}

export interface CompareReport {
  threshold: number;
  confidence: number;
  report: number;
  resamples: number;
  seed: number;
  method: string;
  baseline: { date: string; commit: string; machine: string };
  candidate: { date: string; commit: string; machine: string };
  metrics: MetricComparison[];
  regressions: string[];
  improvements: string[];
  ok: boolean;
}


function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
}

/** The q-quantile (0..1) of sorted values, linear between order statistics. */
function quantile(sorted: Float64Array, q: number): number {
  const x = q * (sorted.length - 1);
  const i = Math.floor(x);
  const f = x - i;
  return i + 1 < sorted.length ? sorted[i]! * (1 - f) + sorted[i + 1]! * f : sorted[i]!;
}

/** B bootstrap values of median(c*) / median(b*), sorted. */
export function bootstrapRatios(b: readonly number[], c: readonly number[], resamples: number, rnd: () => number): Float64Array {
  const out = new Float64Array(resamples);
  const rb = new Array<number>(b.length);
  const rc = new Array<number>(c.length);
  for (let k = 0; k < resamples; k++) {
    for (let i = 0; i < b.length; i++) rb[i] = b[Math.floor(rnd() * b.length)]!;
    for (let i = 0; i < c.length; i++) rc[i] = c[Math.floor(rnd() * c.length)]!;
    out[k] = median(rc) / median(rb);
  }
  return out.sort();
}

function usable(xs: unknown): number[] {
  return Array.isArray(xs) ? xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x) && x > 0) : [];
}

export function compareMetric(name: string, b: BenchMetric | undefined, c: BenchMetric | undefined, o: Required<CompareOptions>): MetricComparison {
  const m = (c ?? b)!;
  const base: MetricComparison = {
    metric: name, suite: m.suite, unit: m.unit, better: m.better, gate: (b?.gate ?? false) && (c?.gate ?? false),
    baseline: b ? median(usable(b.samples)) : null, candidate: c ? median(usable(c.samples)) : null,
    change: null, interval: null, confidenceWorse: null, confidenceBetter: null,
    samples: [b ? usable(b.samples).length : 0, c ? usable(c.samples).length : 0], verdict: b ? 'missing' : 'new', note: null, fails: false,
  };
  if (!b || !c) return base;
  const bs = usable(b.samples);
  const cs = usable(c.samples);
  if (bs.length === 0 || cs.length === 0) { base.verdict = 'unchanged'; base.note = 'no usable samples'; return base; }
  if (b.better !== c.better) base.note = `direction differs (baseline ${b.better}, candidate ${c.better}); the candidate's is used`;
  const ratios = bootstrapRatios(bs, cs, o.resamples, prng((o.seed ^ fnv1a(name)) >>> 0));
  const observed = median(cs) / median(bs);
  const higher = c.better === 'higher';
  const alpha = 1 - o.confidence;
  let worse = 0;
  let better = 0;
  for (const r of ratios) { if (higher ? r < 1 : r > 1) worse++; else if (higher ? r > 1 : r < 1) better++; }
  base.change = observed - 1;
  base.interval = [quantile(ratios, alpha / 2) - 1, quantile(ratios, 1 - alpha / 2) - 1];
  base.confidenceWorse = worse / ratios.length;
  base.confidenceBetter = better / ratios.length;
  // one-sided bounds on how much worse / better, as fractions (> 0 = at least that much)
  const worseBound = higher ? 1 / quantile(ratios, 1 - alpha) - 1 : quantile(ratios, alpha) - 1;
  const betterBound = higher ? quantile(ratios, alpha) - 1 : 1 / quantile(ratios, 1 - alpha) - 1;
  const enough = bs.length >= MIN_GATE_SAMPLES && cs.length >= MIN_GATE_SAMPLES;
  if (enough && worseBound > o.threshold) base.verdict = 'regression';
  else if (enough && betterBound > o.threshold) base.verdict = 'improvement';
  else if (Math.abs(base.change) > o.report) {
    base.verdict = 'changed';
    base.note ??= enough ? 'within noise' : `too few samples for a verdict (${bs.length} vs ${cs.length}; ${MIN_GATE_SAMPLES} needed)`;
  } else base.verdict = 'unchanged';
  base.fails = base.verdict === 'regression' && (base.gate || o.gateAll);
  if (base.verdict === 'regression' && !base.fails) base.note = 'absolute figure: reported, not gated (machine speed does not cancel)';
  return base;
}

export function checkRun(x: unknown, what: string): BenchRun {
  const r = x as BenchRun;
  if (typeof r !== 'object' || r === null || r.format !== BENCH_FORMAT || typeof r.metrics !== 'object' || r.metrics === null) {
    throw new Error(`${what} is not a bench:ci run (format "${BENCH_FORMAT}")`);
  }
  for (const [k, m] of Object.entries(r.metrics)) {
    if (!Array.isArray(m.samples) || (m.better !== 'higher' && m.better !== 'lower')) throw new Error(`${what}: metric ${k} needs samples[] and better: higher|lower`);
    // a corrupt sample would otherwise be compared as NaN and hide a change (every bootstrap ratio NaN = "unchanged")
    const bad = m.samples.findIndex((v: unknown) => typeof v !== 'number' || !Number.isFinite(v) || v < 0);
    if (bad >= 0) throw new Error(`${what}: metric ${k} sample ${bad} is ${JSON.stringify(m.samples[bad])}, not a finite number ≥ 0`);
  }
  return r;
}

export function compareRuns(baseline: BenchRun, candidate: BenchRun, opts: CompareOptions = {}): CompareReport {
  const o: Required<CompareOptions> = {
    threshold: opts.threshold ?? 0.05, confidence: opts.confidence ?? 0.95, report: opts.report ?? 0.05,
    resamples: opts.resamples ?? 2000, seed: opts.seed ?? 0x5eed, gateAll: opts.gateAll ?? false,
  };
  const names = [...new Set([...Object.keys(baseline.metrics), ...Object.keys(candidate.metrics)])].sort();
  const metrics = names.map((n) => compareMetric(n, baseline.metrics[n], candidate.metrics[n], o));
  const regressions = metrics.filter((m) => m.fails).map((m) => m.metric);
  const who = (r: BenchRun): { date: string; commit: string; machine: string } => ({ date: r.date, commit: r.commit, machine: `${r.machine?.cpu ?? '?'} × ${r.machine?.cores ?? '?'}` });
  return {
    threshold: o.threshold, confidence: o.confidence, report: o.report, resamples: o.resamples, seed: o.seed,
    method: 'percentile bootstrap of the ratio of medians (mulberry32, seeded per metric)',
    baseline: who(baseline), candidate: who(candidate), metrics, regressions,
    improvements: metrics.filter((m) => m.verdict === 'improvement').map((m) => m.metric), ok: regressions.length === 0,
  };
}

const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const num = (x: number | null): string => (x === null || !Number.isFinite(x) ? '—' : Math.abs(x) >= 1000 ? x.toExponential(3) : x.toPrecision(4));

/** The human form: every change over `report`, regressions first, then a summary line. */
export function formatReport(r: CompareReport): string {
  const rows: string[] = [];
  rows.push(`bench compare: baseline ${r.baseline.date} (${r.baseline.commit}, ${r.baseline.machine}) → candidate ${r.candidate.date} (${r.candidate.commit}, ${r.candidate.machine})`);
  rows.push(`  ${r.method}, ${r.resamples} resamples; regression = worse by > ${(r.threshold * 100).toFixed(0)}% at one-sided confidence ${r.confidence}; changes > ${(r.report * 100).toFixed(0)}% listed`);
  const order: Verdict[] = ['regression', 'improvement', 'changed', 'new', 'missing'];
  const shown = r.metrics.filter((m) => order.includes(m.verdict)).sort((a, b) => order.indexOf(a.verdict) - order.indexOf(b.verdict) || a.metric.localeCompare(b.metric));
  for (const m of shown) {
    const conf = m.change === null ? '' : ` · P(worse) ${(m.confidenceWorse! * 100).toFixed(1)}% · ${Math.round(r.confidence * 100 * 10) / 10}% interval ${pct(m.interval![0])}..${pct(m.interval![1])}`;
    const flag = m.fails ? 'REGRESSION' : m.verdict;
    rows.push(`  ${flag.padEnd(11)} ${m.metric} (${m.unit}, ${m.better} is better${m.gate ? ', gated' : ''}): ${num(m.baseline)} → ${num(m.candidate)}${m.change === null ? '' : ` (${pct(m.change)})`}${conf} · n ${m.samples[0]}/${m.samples[1]}${m.note ? ` · ${m.note}` : ''}`);
  }
  const count = (v: Verdict): number => r.metrics.filter((m) => m.verdict === v).length;
  rows.push(`  ${r.metrics.length} metrics: ${count('unchanged')} unchanged, ${count('changed')} changed within noise, ${count('improvement')} improved, ${count('regression')} regressed (${r.regressions.length} gated), ${count('new')} new, ${count('missing')} missing`);
  rows.push(r.ok ? 'bench compare: no regression beyond noise' : `bench compare: REGRESSION in ${r.regressions.join(', ')}`);
  return rows.join('\n');
}
