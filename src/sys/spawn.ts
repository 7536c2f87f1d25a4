/**
 * Starts helper threads and processes — the engine thread, the storage writer, the journal's
 * preallocation thread, the chDB child process — from build/dist (production) or, when running
 * from the TypeScript sources (tests, benchmarks), through tsx (registered inside a worker, or
 * `--import tsx` for a child process).
 *
 * Invariants: the worker gets `workerData` and the transfer list unchanged; the child gets an
 * IPC channel with advanced serialization (strings and bytes are not re-encoded as JSON).
 * A child process's lifetime is its parent's: `parentOwnsLifetime` (called by the child) ignores
 * SIGINT/SIGTERM — a Ctrl-C in a terminal or a service manager signals the whole process group,
 * and the parent must be able to drain its storage writes into a chDB process still running —
 * and runs the child's clean-up when the IPC channel goes (the parent closed it, exited or died).
 * Complexity/Allocation: one thread or process per call. Known limitations: tsx must be
 * installed to run from the sources (a devDependency).
 */
import { Worker, type TransferListItem } from 'node:worker_threads';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function spawnWorker(base: string, name: string, workerData: unknown, transferList: TransferListItem[] = []): Worker {
  const self = fileURLToPath(base);
  if (self.endsWith('.ts')) {
    const ts = new URL(`./${name}.ts`, base).href;
    const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(ts)}); });`;
    return new Worker(boot, { eval: true, workerData, transferList });
  }
  return new Worker(new URL(`./${name}.js`, base), { workerData, transferList });
}

export function spawnProcess(base: string, name: string, args: string[]): ChildProcess {
  const self = fileURLToPath(base);
  const ts = self.endsWith('.ts');
  const file = fileURLToPath(new URL(`./${name}.${ts ? 'ts' : 'js'}`, base));
  return fork(file, args, { serialization: 'advanced', execArgv: ts ? ['--import', 'tsx'] : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

/**
 * In a child started by `spawnProcess`: the parent decides when this process ends. Terminal and
 * service-manager signals to the process group are ignored (the parent receives them too and
 * stops its children in order); `onDisconnect` runs when the IPC channel closes, after which
 * nothing keeps the process alive.
 */
export function parentOwnsLifetime(onDisconnect: () => void): void {
  const ignore = (): void => { /* the parent stops us through the IPC channel */ };
  process.on('SIGINT', ignore);
  process.on('SIGTERM', ignore);
  process.on('disconnect', onDisconnect);
}
