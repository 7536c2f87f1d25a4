/**
 * A throw-away worker thread that pins ITSELF (affinity.ts pinOwnThread) and posts the result read
 * back from /proc, then exits: the `cpu-affinity` probe (placement.ts) and the tests use it to show
 * that a worker_thread can place itself, without touching the placement of any thread that stays.
 *
 * Layout: workerData { cpus: number[]; native: boolean } → one message ThreadPlacement.
 * Invariants: changes only its own thread, which then ends. Complexity: O(1). Allocation: the
 * message. Known limitations: none.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { pinOwnThread } from './affinity.js';

const d = workerData as { cpus: number[]; native: boolean; role?: string };
parentPort?.postMessage(pinOwnThread(d.role ?? 'probe', d.cpus, { native: d.native }));
