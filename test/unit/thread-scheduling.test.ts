/**
 * Real-time scheduling of the engine thread (src/sys/thread-priority.ts): SCHED_FIFO where the
 * process may set it (checked independently in /proc), a clear reason where it may not, bad
 * priorities refused before the thread starts, and the engine working the same either way.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { EngineHost } from '../../src/engine/host.js';
import { checkRtPriority, ownThreadId, readScheduling, setOwnThreadRealtime } from '../../src/sys/thread-priority.js';
import { generate } from '../../src/workload/generator.js';
import { CMD_SIZE, RING_EVT_SIZE } from '../../src/abi/records.js';

const linux = process.platform === 'linux';
// whether this process may make a thread SCHED_FIFO: asked of the kernel through chrt on a child
const mayRealtime = linux && availableParallelism() >= 2 && spawnSync('chrt', ['-f', '1', 'true']).status === 0;

/** Runs `fn` with PATH pointing at a folder holding only a fake `chrt` (or none). */
function withFakeChrt<T>(script: string | null, fn: () => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'chrt-'));
  if (script !== null) {
    writeFileSync(join(dir, 'chrt'), script);
    chmodSync(join(dir, 'chrt'), 0o755);
  }
  const path = process.env.PATH;
  process.env.PATH = dir;
  try {
    return fn();
  } finally {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('engine thread scheduling', () => {
  it('refuses priorities outside 1..99 before any thread starts', async () => {
    for (const bad of [0, 100, -1, 1.5, Number.NaN]) expect(() => checkRtPriority(bad)).toThrow(/real-time priority must be an integer in \[1, 99\]/);
    expect(checkRtPriority(1)).toBe(1);
    expect(checkRtPriority(99)).toBe(99);
    await expect(EngineHost.start({ engine: { symbols: 1, capacity: 100 }, realtime: 0 })).rejects.toMatchObject({ code: 'ERR_ENGINE_CONFIG' });
  });

  it.runIf(linux)('reads a thread\'s policy from /proc: this test thread runs normal scheduling', () => {
    const tid = ownThreadId();
    expect(tid).toBeGreaterThan(0);
    expect(readScheduling(tid!)).toEqual({ policy: 'normal', rtPriority: 0 });
  });

  it.runIf(linux)('says why, and leaves the thread alone, when the kernel refuses (no permission) or chrt is missing', () => {
    const tid = ownThreadId()!;
    const denied = withFakeChrt("#!/bin/sh\necho \"chrt: failed to set pid $5's policy: Operation not permitted\" >&2\nexit 1\n", () => setOwnThreadRealtime(20));
    expect(denied).toMatchObject({ requested: 20, applied: false, policy: 'normal', rtPriority: 0, tid });
    expect(denied.reason).toMatch(/needs root or CAP_SYS_NICE/);
    const missing = withFakeChrt(null, () => setOwnThreadRealtime(20));
    expect(missing).toMatchObject({ applied: false, policy: 'normal' });
    expect(missing.reason).toMatch(/chrt \(util-linux\) is not installed/);
    // a chrt that "succeeds" without changing anything is not taken at its word
    const liar = withFakeChrt('#!/bin/sh\nexit 0\n', () => setOwnThreadRealtime(20));
    expect(liar).toMatchObject({ applied: false, policy: 'normal' });
    expect(liar.reason).toMatch(/kept normal scheduling/);
    expect(readScheduling(tid)).toEqual({ policy: 'normal', rtPriority: 0 });
  });

  it('runs the engine thread SCHED_FIFO when allowed (else normal, with the reason), and the engine works the same', async () => {
    const host = await EngineHost.start({ engine: { symbols: 2, capacity: 10_000 }, realtime: 7, log: () => {} });
    try {
      const s = host.threadScheduling!;
      expect(s.requested).toBe(7);
      expect(s.tid).toBe(host.threadId);
      if (mayRealtime) {
        expect(s).toMatchObject({ applied: true, policy: 'fifo', rtPriority: 7 });
        // independently of what the thread reported: the kernel's view of that thread
        expect(readScheduling(s.tid!)).toEqual({ policy: 'fifo', rtPriority: 7 });
      } else {
        expect(s.applied).toBe(false);
        expect(s.reason).toBeTruthy();
      }
      const n = 2000;
      const recs = generate({ seed: 3, count: n, symbols: 2, mix: 'default', feedback: false });
      const reader = host.evtRing.join();
      for (let i = 0; i < n; i++) while (!host.submitRaw(recs, i * CMD_SIZE)) await new Promise((r) => setTimeout(r, 1));
      const buf = new Uint8Array(RING_EVT_SIZE * 1024);
      const deadline = Date.now() + 10_000;
      while (host.lastSeq < n && Date.now() < deadline) { host.evtRing.poll(reader, buf, 0, 1024); await new Promise((r) => setTimeout(r, 1)); }
      expect(host.lastSeq).toBe(n);
    } finally {
      await host.stop();
    }
  });

  it('leaves scheduling alone unless asked, and reports the engine thread\'s kernel id', async () => {
    const host = await EngineHost.start({ engine: { symbols: 1, capacity: 100 } });
    try {
      expect(host.threadScheduling).toBeNull();
      if (linux) {
        // a thread of this process, not the caller's, running normal scheduling
        expect(host.threadId).toBeGreaterThan(0);
        expect(host.threadId).not.toBe(ownThreadId());
        expect(existsSync(`/proc/self/task/${host.threadId}/schedstat`)).toBe(true);
        expect(readScheduling(host.threadId!)).toEqual({ policy: 'normal', rtPriority: 0 });
      }
    } finally {
      await host.stop();
    }
  });
});
