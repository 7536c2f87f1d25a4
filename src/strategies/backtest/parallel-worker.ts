/**
 * A backtest pool worker (parallel.ts): runs each `RunSpec` it is sent with `runSpec` and answers
 * with the lean result, or with the error's code and message.
 *
 * Layout: the messages of parallel.ts. Invariants: one job at a time (the pool sends the next on
 * the answer); a job's error is an answer, never a crash of the worker. Complexity: a run.
 * Allocation: per run. Known limitations: none.
 */
import { parentPort } from 'node:worker_threads';
import { TradsysError } from '../../domain/errors.js';
import { lean } from './parallel.js';
import { runSpec, type RunSpec } from './spec.js';

parentPort!.on('message', (m: { i: number; spec: RunSpec }) => {
  runSpec(m.spec).then(
    (r) => parentPort!.postMessage({ i: m.i, ok: true, result: lean(r) }),
    (e: unknown) => parentPort!.postMessage({ i: m.i, ok: false, error: { code: e instanceof TradsysError ? e.code : undefined, message: (e as Error).message ?? String(e) } }),
  );
});
