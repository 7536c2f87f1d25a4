/**
 * EngineHost `placement` (serve --cpus engine=N): the engine thread pins itself before journal
 * recovery and binds its WASM memory, both read back (checked here in /proc); a pin the kernel
 * refuses leaves the engine running and says why.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EngineHost } from '../../src/engine/host.js';
import { nativeHas } from '../../src/sys/native.js';
import { parseKernelList } from '../../src/sys/topology.js';
import { processAllowedCpus } from '../../src/sys/placement.js';

const linux = process.platform === 'linux';
const cpusOf = (tid: number): number[] => parseKernelList(/^Cpus_allowed_list:\s*(.*)$/m.exec(readFileSync(`/proc/${process.pid}/task/${tid}/status`, 'utf8'))![1]!);

describe.runIf(linux)('engine thread placement', () => {
  it('pins the engine thread (journal on) and binds its memory, read back; the engine runs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'engine-place-'));
    const cpu = processAllowedCpus().at(-1)!;
    try {
      const h = await EngineHost.start({ engine: { symbols: 2, capacity: 1000 }, journal: { dir, durability: 'none' }, placement: { cpus: [cpu], memory: { node: 0, mode: 'bind', nodes: 1 } } });
      try {
        expect(h.placement!.thread).toMatchObject({ role: 'engine', tid: h.threadId, requested: [cpu], cpus: [cpu], applied: true });
        expect(cpusOf(h.threadId!)).toEqual([cpu]);
        if (nativeHas('sys')) expect(h.placement!.memory).toMatchObject({ applied: true, numaMaps: 'bind:0', policy: { mode: 'bind', nodes: [0] } });
        else expect(h.placement!.memory).toMatchObject({ applied: false, reason: expect.stringMatching(/needs the native addon/) });
        expect(h.lastSeq).toBe(0);
      } finally { await h.stop(); }
    } finally { rmSync(dir, { recursive: true, force: true }); }
  });

  it('a CPU the kernel refuses: the engine still starts, unpinned, and the reason is reported', async () => {
    const h = await EngineHost.start({ engine: { symbols: 1, capacity: 100 }, placement: { cpus: [1000], memory: null } });
    try {
      expect(h.placement!.thread).toMatchObject({ applied: false, requested: [1000] });
      expect(h.placement!.thread!.reason).toMatch(/sched_setaffinity failed|taskset failed/);
      expect(h.placement!.memory).toBeNull();
      expect(cpusOf(h.threadId!)).toEqual(processAllowedCpus());
    } finally { await h.stop(); }
  });
});
