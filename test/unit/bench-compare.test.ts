// `tradsys bench compare` (src/cli/bench-compare.ts, src/cli/bench.ts) on synthetic sample sets:
// the verdicts, the confidence figures, determinism, and the CLI's exit codes and baseline update.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BENCH_FORMAT, compareRuns, formatReport, median, type BenchMetric, type BenchRun } from '../../src/cli/bench-compare.js';
import { main } from '../../src/cli/main.js';

function run(metrics: Record<string, BenchMetric>): BenchRun {
  return {
    format: BENCH_FORMAT, runId: 'r', date: '2026-12-02T00:00:00Z', commit: 'abc', node: 'v20',
    machine: { host: 'h', cpu: 'cpu', cores: 2, memoryBytes: 1, platform: 'linux-x64' },
    loadAverage: { before: [0, 0, 0], after: [0, 0, 0] }, seconds: 1, options: {}, metrics,
  };
}
const metric = (samples: number[], better: 'higher' | 'lower' = 'higher', gate = true): BenchMetric =>
  ({ suite: 'engine', unit: 'ratio', better, gate, samples, median: median(samples) });
/** Deterministic "noise": samples around `center` spread by ±`spread` (fraction). */
function noisy(center: number, spread: number, n: number, seed: number): number[] {
  let a = seed;
  return Array.from({ length: n }, () => { a = (Math.imul(a, 1103515245) + 12345) >>> 0; return center * (1 + spread * (2 * (a / 4294967296) - 1)); });
}

describe('bench compare: verdicts from synthetic samples', () => {
  it('equal samples: no regression, every metric unchanged', () => {
    const s = [1.5, 1.5, 1.5, 1.5, 1.5];
    const r = compareRuns(run({ a: metric(s), b: metric(s, 'lower') }), run({ a: metric(s), b: metric(s, 'lower') }));
    expect(r.ok).toBe(true);
    expect(r.regressions).toEqual([]);
    expect(r.metrics.map((m) => m.verdict)).toEqual(['unchanged', 'unchanged']);
    expect(r.metrics[0]!.change).toBe(0);
  });

  it('noisy but equal (±15% spread, different draws): passes', () => {
    const names = ['x1', 'x2', 'x3', 'x4', 'x5', 'x6'];
    const base = run(Object.fromEntries(names.map((n, i) => [n, metric(noisy(2, 0.15, 5, 11 + i))])));
    const cand = run(Object.fromEntries(names.map((n, i) => [n, metric(noisy(2, 0.15, 5, 101 + i))])));
    const r = compareRuns(base, cand);
    expect(r.ok).toBe(true);
    expect(r.metrics.every((m) => m.verdict !== 'regression')).toBe(true);
  });

  it('a clear 20% slowdown fails and names the metric (higher-is-better and lower-is-better)', () => {
    const base = run({ 'engine.default.wasm_over_fast_ts': metric(noisy(1.6, 0.02, 5, 1)), 'replay.whole_over_inprocess': metric(noisy(1.2, 0.02, 5, 2), 'lower'), steady: metric(noisy(3, 0.02, 5, 3)) });
    const cand = run({ 'engine.default.wasm_over_fast_ts': metric(noisy(1.6 * 0.8, 0.02, 5, 4)), 'replay.whole_over_inprocess': metric(noisy(1.2 * 1.25, 0.02, 5, 5), 'lower'), steady: metric(noisy(3, 0.02, 5, 6)) });
    const r = compareRuns(base, cand, { threshold: 0.1, confidence: 0.999 });
    expect(r.ok).toBe(false);
    expect(r.regressions).toEqual(['engine.default.wasm_over_fast_ts', 'replay.whole_over_inprocess']);
    const m = r.metrics.find((x) => x.metric === 'engine.default.wasm_over_fast_ts')!;
    expect(m.change!).toBeLessThan(-0.15);
    expect(m.confidenceWorse).toBe(1);
    expect(m.fails).toBe(true);
    expect(formatReport(r)).toContain('REGRESSION in engine.default.wasm_over_fast_ts, replay.whole_over_inprocess');
  });

  it('an improvement passes and is reported', () => {
    const r = compareRuns(run({ a: metric(noisy(1, 0.02, 5, 7)) }), run({ a: metric(noisy(1.3, 0.02, 5, 8)) }));
    expect(r.ok).toBe(true);
    expect(r.improvements).toEqual(['a']);
    expect(r.metrics[0]!.confidenceBetter).toBe(1);
    expect(formatReport(r)).toMatch(/improvement +a \(ratio, higher is better, gated\).*\+30/);
  });

  it('a large change inside overlapping samples is reported as changed, not failed', () => {
    const r = compareRuns(run({ a: metric([1, 1.4, 0.7, 1.2, 0.9]) }), run({ a: metric([0.8, 1.3, 0.6, 0.85, 1.1]) }), { threshold: 0.1, confidence: 0.999 });
    expect(r.ok).toBe(true);
    expect(r.metrics[0]!.verdict).toBe('changed');
    expect(r.metrics[0]!.note).toBe('within noise');
  });

  it('an ungated (absolute) regression is reported but fails only with gateAll; too few samples never fail', () => {
    const base = run({ abs: metric(noisy(100, 0.01, 5, 1), 'higher', false), one: metric([5]) });
    const cand = run({ abs: metric(noisy(50, 0.01, 5, 2), 'higher', false), one: metric([2]) });
    const r = compareRuns(base, cand);
    expect(r.ok).toBe(true);
    expect(r.metrics.find((m) => m.metric === 'abs')!.verdict).toBe('regression');
    expect(r.metrics.find((m) => m.metric === 'one')!.verdict).toBe('changed');
    expect(compareRuns(base, cand, { gateAll: true }).regressions).toEqual(['abs']);
  });

  it('new and missing metrics are listed, not failed; the report is deterministic', () => {
    const base = run({ gone: metric([1, 1, 1]), both: metric(noisy(1, 0.1, 5, 3)) });
    const cand = run({ fresh: metric([1, 1, 1]), both: metric(noisy(1, 0.1, 5, 4)) });
    const r = compareRuns(base, cand);
    expect(r.ok).toBe(true);
    expect(Object.fromEntries(r.metrics.map((m) => [m.metric, m.verdict]))).toMatchObject({ gone: 'missing', fresh: 'new' });
    expect(JSON.stringify(compareRuns(base, cand))).toBe(JSON.stringify(r));
  });
});

describe('tradsys bench compare (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-compare-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const base = join(dir, 'base.json');
  const slow = join(dir, 'slow.json');
  writeFileSync(base, JSON.stringify(run({ 'stats.meanVar.wasm_simd_over_js': metric(noisy(4, 0.03, 5, 1)) })));
  writeFileSync(slow, JSON.stringify(run({ 'stats.meanVar.wasm_simd_over_js': metric(noisy(2, 0.03, 5, 2)) })));
  const capture = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const o = process.stdout.write.bind(process.stdout);
    const e = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => { out += s; return true; }) as typeof process.stdout.write;
    process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
    try { return { code: await main(argv), out, err }; } finally { process.stdout.write = o; process.stderr.write = e; }
  };

  it('exit 1 naming the metric on a regression, 0 on the same file, --json gives the report', async () => {
    const bad = await capture(['bench', 'compare', '--baseline', base, '--candidate', slow, '--threshold', '0.2', '--confidence', '0.999']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('stats.meanVar.wasm_simd_over_js');
    const same = await capture(['bench', 'compare', '--baseline', base, '--candidate', base]);
    expect(same.code).toBe(0);
    const j = await capture(['bench', 'compare', '--baseline', base, '--candidate', slow, '--json']);
    expect(j.code).toBe(1);
    expect((JSON.parse(j.out) as { regressions: string[] }).regressions).toEqual(['stats.meanVar.wasm_simd_over_js']);
  });

  it('usage errors exit 2; --update-baseline copies the candidate over the baseline', async () => {
    expect((await capture(['bench', 'compare', '--baseline', base])).code).toBe(2);
    expect((await capture(['bench'])).code).toBe(2);
    expect((await capture(['bench', 'compare', '--baseline', base, '--candidate', join(dir, 'nope.json')])).code).toBe(1);
    const copy = join(dir, 'copy.json');
    writeFileSync(copy, readFileSync(base));
    expect((await capture(['bench', 'compare', '--baseline', copy, '--candidate', slow, '--update-baseline'])).code).toBe(0);
    expect(readFileSync(copy, 'utf8')).toBe(readFileSync(slow, 'utf8'));
  });

  it('a corrupt run is refused (exit 2, naming the file and the metric), never compared as NaN', async () => {
    const corrupt = join(dir, 'corrupt.json');
    writeFileSync(corrupt, JSON.stringify(run({ 'stats.meanVar.wasm_simd_over_js': { ...metric([1, 2, 3]), samples: ['x', null, -1] as unknown as number[] } })));
    const r = await capture(['bench', 'compare', '--baseline', base, '--candidate', corrupt]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('stats.meanVar.wasm_simd_over_js sample 0 is "x"');
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{');
    const b = await capture(['bench', 'compare', '--baseline', broken, '--candidate', base]);
    expect(b.code).toBe(2);
    expect(b.err).toContain(`baseline ${broken} is not JSON`);
  });
});
