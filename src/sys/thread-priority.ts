/**
 * Real-time scheduling (SCHED_FIFO) for the engine thread, set by the thread on itself.
 *
 * Why: with the journal on, the engine thread sleeps in fdatasync for most of each batch. When the
 * disk answers it must get a CPU at once, but the other threads (gateway, storage writer, the
 * GC's helpers, the kernel's block and ext4 workers) may hold every core, and a normal thread
 * waits its turn; every order queued behind the batch waits with it. A SCHED_FIFO thread preempts
 * normal threads as soon as it is runnable: on this 2-core VM at 100 k orders/s the engine
 * thread's wait for a CPU fell from 197–310 ms to 3–17 ms per 3.5 s. Nice values do not do this on
 * EEVDF kernels (6.6+): nice −15 left the wait unchanged.
 * Opt-in (`serve --engine-rt N`): on this 2-core VM the ack tail did not improve with it — it
 * turned bimodal (p99 1.0–8.3 ms against 1.4–4.3 ms at normal scheduling, medians 2.36 and
 * 2.20 ms, 31 runs each) and the median ack at 10 k/s rose by 0.03–0.14 ms — so it is for machines
 * with a core to spare for the engine thread (docs/journal.md, "Engine thread scheduling").
 * How: `chrt -f -p N TID` (util-linux, part of every Debian install) on the thread's own kernel id
 * (from /proc/thread-self); the result is read back from /proc. Linux only. Needs CAP_SYS_NICE
 * (root) or an RLIMIT_RTPRIO that allows N; without it the thread keeps normal scheduling and the
 * reason is reported, never thrown: scheduling is a tuning, not a condition for running. Not
 * applied on a single CPU, where a busy real-time engine thread would leave the gateway that
 * feeds it only the kernel's 5 % real-time throttling reserve. The engine thread sleeps on its
 * command ring whenever it is idle, so it never holds a CPU it does not use.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { TradsysError } from '../domain/errors.js';

export interface ThreadScheduling {
  /** The SCHED_FIFO priority asked for (1–99). */
  requested: number;
  /** The thread's policy afterwards: 'fifo', 'rr', 'normal' (SCHED_OTHER), 'batch', 'idle' or 'unknown'. */
  policy: string;
  /** Its real-time priority afterwards (0 for normal threads). */
  rtPriority: number;
  /** The kernel's thread id (null off Linux). */
  tid: number | null;
  /** Whether the thread now runs SCHED_FIFO at the requested priority. */
  applied: boolean;
  /** Why not, when not applied. */
  reason?: string;
}

/** Checks a SCHED_FIFO priority (an integer in [1, 99]); throws ERR_ENGINE_CONFIG otherwise. */
export function checkRtPriority(p: number): number {
  if (!Number.isInteger(p) || p < 1 || p > 99) throw new TradsysError('ERR_ENGINE_CONFIG', `the engine thread's real-time priority must be an integer in [1, 99], got ${p}`);
  return p;
}

/** The calling thread's kernel id (Linux), or null. */
export function ownThreadId(): number | null {
  if (process.platform !== 'linux') return null;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

const POLICIES = ['normal', 'fifo', 'rr', 'batch', 'iso', 'idle', 'deadline'];

/** A thread's scheduling policy and real-time priority, from /proc (fields 40 and 41 of stat). */
export function readScheduling(tid: number, pid = process.pid): { policy: string; rtPriority: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    return { policy: POLICIES[Number(f[38])] ?? 'unknown', rtPriority: Number(f[37]) };
  } catch {
    return { policy: 'unknown', rtPriority: 0 };
  }
}

/** Makes the calling thread SCHED_FIFO at `priority`; reports what it got (never throws for lack of permission). */
export function setOwnThreadRealtime(priority: number): ThreadScheduling {
  checkRtPriority(priority);
  const tid = ownThreadId();
  const no = (reason: string, now = { policy: 'unknown', rtPriority: 0 }): ThreadScheduling => ({ requested: priority, ...now, tid, applied: false, reason });
  if (tid === null) return no('real-time thread scheduling needs Linux (/proc/thread-self)');
  if (availableParallelism() < 2) return no('one CPU: a real-time engine thread would starve the gateway that feeds it', readScheduling(tid));
  let reason: string | undefined;
  try {
    execFileSync('chrt', ['-f', '-p', String(priority), String(tid)], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
  } catch (e) {
    const err = e as { code?: string; stderr?: Buffer; message: string };
    const text = `${err.stderr?.toString() ?? ''} ${err.message}`;
    reason = err.code === 'ENOENT'
      ? 'chrt (util-linux) is not installed'
      : /not permitted|EPERM|EACCES/i.test(text)
        ? 'SCHED_FIFO needs root or CAP_SYS_NICE (or an RLIMIT_RTPRIO that allows it: `ulimit -r`)'
        : `chrt failed: ${text.trim().split('\n')[0]}`;
  }
  const now = readScheduling(tid);
  const ok = now.policy === 'fifo' && now.rtPriority === priority;
  return { requested: priority, ...now, tid, applied: ok, ...(ok ? {} : { reason: reason ?? `the kernel kept ${now.policy} scheduling` }) };
}
