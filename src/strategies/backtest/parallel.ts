/**
 * Runs many backtests (a parameter sweep, walk-forward folds) in parallel over a pool of
 * worker_threads (`--workers N`, default cores − 1, at least 1). Each job is a `RunSpec`
 * (spec.ts) run whole by one worker (parallel-worker.ts) exactly as `runSpec` runs it on the main
 * thread, so a run in the pool gives the same result and `resultHash` as the same run alone
 * (test/unit/backtest-parallel.test.ts).
 *
 * Owns: the pool's lifetime (started per call, every worker terminated before the promise
 * settles, also on failure), job dispatch (the next job to the first idle worker) and the result
 * order (by job index, whatever order they finish in).
 * Layout: messages main → worker `{ i, spec }`; worker → main `{ i, ok: true, result }` or
 * `{ i, ok: false, error: { code, message } }`.
 * Invariants: a job's failure fails the whole call with that job's error (the first by index).
 * Complexity: O(jobs) messages. Allocation: one lean result per job (no order or fill rows:
 * those stay in the worker; the hashes cover them).
 * Known limitations: each worker loads its own engine and strategy module; a job's history is
 * read by the worker that runs it (an in-memory `array` input is copied to it).
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { TradsysError, type ErrorCode } from '../../domain/errors.js';
import { spawnWorker } from '../../sys/spawn.js';
import type { BacktestResult } from './backtest.js';
import type { RunSpec } from './spec.js';

export type LeanResult = Omit<BacktestResult, 'orders' | 'fills'>;

export function lean(r: BacktestResult): LeanResult {
  const { orders: _o, fills: _f, ...rest } = r;
  return rest;
}

export function defaultWorkers(): number { return Math.max(1, availableParallelism() - 1); }

type Reply = { i: number; ok: true; result: LeanResult } | { i: number; ok: false; error: { code?: string; message: string } };

export async function runParallel(specs: readonly RunSpec[], workers = defaultWorkers(), onDone?: (i: number, r: LeanResult, done: number) => void): Promise<LeanResult[]> {
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) throw new TradsysError('ERR_BACKTEST_CONFIG', `--workers must be an integer in [1, 256], got ${String(workers)}`);
  const n = Math.min(workers, specs.length);
  const results = new Array<LeanResult | undefined>(specs.length);
  const errors = new Array<Reply & { ok: false } | undefined>(specs.length);
  if (specs.length === 0) return [];
  const pool: Worker[] = [];
  let next = 0;
  let done = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const feed = (w: Worker): void => {
        if (next < specs.length) { const i = next++; w.postMessage({ i, spec: specs[i] }); }
      };
      for (let k = 0; k < n; k++) {
        const w = spawnWorker(import.meta.url, 'parallel-worker', null);
        pool.push(w);
        w.on('message', (m: Reply) => {
          if (m.ok) { results[m.i] = m.result; onDone?.(m.i, m.result, done + 1); } else errors[m.i] = m;
          if (++done === specs.length) resolve();
          else feed(w);
        });
        w.on('error', (e) => reject(e));
        w.on('exit', (code) => { if (done < specs.length && code !== 0) reject(new Error(`backtest worker exited with code ${code}`)); });
        feed(w);
      }
    });
  } finally {
    await Promise.all(pool.map((w) => w.terminate()));
  }
  const bad = errors.find((e) => e !== undefined);
  if (bad) {
    const code = bad.error.code && bad.error.code.startsWith('ERR_') ? bad.error.code as ErrorCode : 'ERR_BACKTEST_CONFIG';
    throw new TradsysError(code, `run ${bad.i + 1} of ${specs.length}: ${bad.error.message}`);
  }
  return results as LeanResult[];
}
