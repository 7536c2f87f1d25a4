/** Starts a worker thread that runs a TypeScript module (tsx registered inside the worker). */
import { Worker } from 'node:worker_threads';

export function startTsWorker(url: URL, workerData: unknown): Worker {
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); }).catch((e) => { throw e; });`;
  return new Worker(boot, { eval: true, workerData });
}
