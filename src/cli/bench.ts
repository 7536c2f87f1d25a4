/**
 * `tradsys bench compare --baseline A.json --candidate B.json [--json] [--threshold F]
 * [--confidence C] [--report F] [--gate-all] [--update-baseline]`: compares two bench:ci runs
 * (bench-compare.ts has the noise model) and prints every change over `--report` with its
 * confidence. Exit 1 naming the metric(s) on a gated regression beyond noise, 0 otherwise, 2 on
 * usage. `--update-baseline` is the explicit step that makes the candidate the new baseline: after
 * the comparison is printed, the candidate file is copied over the `--baseline` file, and the exit
 * status is 0 (the comparison is shown so the reviewer sees what the new baseline changes).
 *
 * Layout: parse → load both runs (checkRun) → compareRuns → print (text or --json) → exit status.
 * Invariants: the baseline file is written only with --update-baseline, and only after the
 * comparison has been printed. Complexity: see bench-compare.ts.
 * Allocation: CLI only. Known limitations: the whole files are read into memory (they are small).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { TradsysError } from '../domain/errors.js';
import { checkRun, compareRuns, formatReport, type BenchRun } from './bench-compare.js';

export const BENCH_USAGE = `  tradsys bench compare --baseline A.json --candidate B.json [--json] [--threshold F (default 0.05)]
              [--confidence C (default 0.95)] [--report F (default 0.05)] [--gate-all] [--update-baseline]
              (bench:ci runs; exit 1 names each gated metric that regressed beyond noise; see bench/README.md)`;

type Spec = Record<string, 'value' | 'bool'>;
const SPEC: Spec = { baseline: 'value', candidate: 'value', json: 'bool', threshold: 'value', confidence: 'value', report: 'value', 'gate-all': 'bool', 'update-baseline': 'bool', seed: 'value' };

function parse(argv: string[]): Map<string, string | true> {
  const f = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new TradsysError('ERR_CLI_USAGE', `unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const kind = SPEC[name];
    if (!kind) throw new TradsysError('ERR_CLI_USAGE', `unknown option --${name}`);
    if (kind === 'bool') { f.set(name, true); continue; }
    const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined || (eq < 0 && v.startsWith('--'))) throw new TradsysError('ERR_CLI_USAGE', `--${name} needs a value`);
    f.set(name, v);
  }
  return f;
}

function fraction(f: Map<string, string | true>, name: string, lo: number, hi: number): number | undefined {
  const v = f.get(name);
  if (typeof v !== 'string') return undefined;
  const x = Number(v);
  if (!Number.isFinite(x) || x < lo || x > hi) throw new TradsysError('ERR_CLI_USAGE', `--${name} must be a number in [${lo}, ${hi}], got "${v}"`);
  return x;
}

function load(path: string, what: string): BenchRun {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (e) { throw new TradsysError('ERR_IO', `cannot read ${what} ${path}: ${(e as Error).message}`, { cause: e }); }
  let x: unknown;
  try { x = JSON.parse(text); } catch (e) { throw new TradsysError('ERR_CLI_USAGE', `${what} ${path} is not JSON: ${(e as Error).message}`, { cause: e }); }
  try { return checkRun(x, `${what} ${path}`); } catch (e) { throw new TradsysError('ERR_CLI_USAGE', (e as Error).message, { cause: e }); }
}

export function cmdBench(argv: string[]): number {
  const [sub, ...rest] = argv;
  if (sub !== 'compare') throw new TradsysError('ERR_CLI_USAGE', `bench needs a subcommand: compare (got ${sub === undefined ? 'nothing' : `"${sub}"`})`);
  const f = parse(rest);
  const bPath = f.get('baseline');
  const cPath = f.get('candidate');
  if (typeof bPath !== 'string' || typeof cPath !== 'string') throw new TradsysError('ERR_CLI_USAGE', 'bench compare needs --baseline A.json and --candidate B.json');
  const seed = fraction(f, 'seed', 0, 2 ** 32 - 1);
  const report = compareRuns(load(bPath, 'baseline'), load(cPath, 'candidate'), {
    threshold: fraction(f, 'threshold', 0, 10), confidence: fraction(f, 'confidence', 0.5, 0.99999), report: fraction(f, 'report', 0, 10),
    gateAll: f.has('gate-all'), seed: seed === undefined ? undefined : Math.floor(seed),
  });
  if (f.has('json')) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(formatReport(report) + '\n');
  if (f.has('update-baseline')) {
    writeFileSync(bPath, readFileSync(cPath));
    process.stderr.write(`bench compare: ${bPath} now holds the run from ${cPath} (review and commit it)\n`);
    return 0;
  }
  if (!report.ok) process.stderr.write(`bench compare: regression beyond noise in ${report.regressions.join(', ')}\n`);
  return report.ok ? 0 : 1;
}
