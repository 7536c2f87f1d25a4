/**
 * Thread pinning and memory binding (src/sys/affinity.ts): a worker_thread pins ITSELF through the
 * addon (sched_setaffinity) and through the taskset fallback, and the pin is read back from
 * /proc/<pid>/task/<tid>/status by the test itself; buffers (ArrayBuffer, SharedArrayBuffer, the
 * engine's WASM memory) are bound with mbind and read back with get_mempolicy and numa_maps;
 * failures are reported with a reason, never thrown.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bindBufferToNode, numaMapsPolicy, pinOwnThread, readThreadAllowed, rereadBinding } from '../../src/sys/affinity.js';
import { nativeAddon, nativeHas } from '../../src/sys/native.js';
import { pinProbe, processAllowedCpus, probeMemoryBinding } from '../../src/sys/placement.js';
import { formatKernelList, parseKernelList } from '../../src/sys/topology.js';
import { Engine } from '../../src/engine/engine.js';
import { clockInto } from '../../src/sys/native-clock.js';

const linux = process.platform === 'linux';
const native = nativeHas('sys');
const allowed = linux ? processAllowedCpus() : [];
const last = allowed[allowed.length - 1] ?? 0;

/** The kernel's view of a thread, read here (not through the module under test). */
function kernelCpus(tid: number): number[] {
  const m = /^Cpus_allowed_list:\s*(.*)$/m.exec(readFileSync(`/proc/${process.pid}/task/${tid}/status`, 'utf8'));
  return parseKernelList(m![1]!);
}

describe.runIf(linux)('pinning a worker thread from inside it', () => {
  it.runIf(process.env.CI === 'true')('the addon is built and has the sys feature under CI (g++ and Node headers are installed there)', () => {
    expect(native).toBe(true);
  });

  for (const path of [native ? 'addon' : null, 'taskset'].filter(Boolean) as string[]) {
    it(`${path}: the worker's own thread is pinned, read back from /proc; other threads keep their CPUs`, async () => {
      const before = readThreadAllowed(Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]));
      const p = await pinProbe([last], path === 'addon');
      expect(p).toMatchObject({ role: 'probe', requested: [last], cpus: [last], applied: true, path: path === 'addon' ? 'sched_setaffinity (addon)' : 'taskset' });
      expect(p.tid).toBeGreaterThan(0);
      expect(p.tid).not.toBe(process.pid);
      expect(p.mems.length).toBeGreaterThan(0);
      // the calling (test) thread is untouched
      const me = Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]);
      expect(kernelCpus(me)).toEqual(before.cpus);
    });
  }

  it.runIf(native)('the addon pins the calling thread only and reads its tid and affinity like /proc does', async () => {
    const a = nativeAddon() as unknown as { sysThreadId(): number; sysGetAffinity(tid?: number): number[] };
    const me = a.sysThreadId();
    expect(me).toBe(Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]));
    expect(a.sysGetAffinity()).toEqual(kernelCpus(me));
  });

  it('a CPU the kernel refuses is reported with the reason, not thrown, on both paths', () => {
    // run in this thread: the refused pin changes nothing (checked)
    const me = Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]);
    const cpus = kernelCpus(me);
    for (const opt of [{ native: false }, ...(native ? [{}] : [])]) {
      const p = pinOwnThread('test', [1000], opt);
      expect(p.applied).toBe(false);
      expect(p.reason).toMatch(opt.native === false ? /taskset failed/ : /sched_setaffinity failed: .*Invalid argument/);
      expect(p.cpus).toEqual(cpus);
      expect(kernelCpus(me)).toEqual(cpus);
    }
    expect(pinOwnThread('test', []).reason).toBe('no CPUs given');
  });

  it('without taskset and without the addon, says so', async () => {
    const path = process.env.PATH;
    process.env.PATH = '/nonexistent';
    try {
      const p = pinOwnThread('test', [last], { native: false });
      expect(p).toMatchObject({ applied: false, path: 'taskset' });
      expect(p.reason).toMatch(/taskset \(util-linux\) is not installed/);
    } finally { process.env.PATH = path; }
  });
});

describe.runIf(linux && native)('binding memory to a NUMA node (mbind), read back', () => {
  const node = 0;
  it('an ArrayBuffer: whole pages inside it, policy bind:0 by get_mempolicy and numa_maps', () => {
    const buf = new ArrayBuffer(1 << 20);
    const b = bindBufferToNode(buf, node, 'bind', 1);
    expect(b).toMatchObject({ node, mode: 'bind', bytes: 1 << 20, applied: true, numaMaps: 'bind:0' });
    expect(b.boundBytes).toBeGreaterThan((1 << 20) - 8192);
    expect(b.boundBytes % 4096).toBe(0);
    expect(BigInt(`0x${b.address}`) % 4096n).toBe(0n);
    // a fresh buffer's pages are not faulted in yet, and reading the policy back does not fault them
    expect(b.policy).toEqual({ mode: 'bind', nodes: [0], pageNode: -1 });
    const a = nativeAddon() as unknown as { sysGetMempolicy(buf: ArrayBuffer, off: number): { node: number } };
    const off = Number(BigInt(`0x${b.address}`) - BigInt((nativeAddon() as unknown as { sysBufferAddress(x: ArrayBuffer): number }).sysBufferAddress(buf)));
    expect(a.sysGetMempolicy(buf, off).node).toBe(-1);
    new Uint8Array(buf)[off] = 1; // first touch: the page is allocated under the bind policy
    expect(a.sysGetMempolicy(buf, off).node).toBe(0);
    expect(numaMapsPolicy(b.address!)).toBe('bind:0');
    expect(rereadBinding(b)).toMatchObject({ applied: true, numaMaps: 'bind:0' });
  });

  it('a SharedArrayBuffer with the preferred policy', () => {
    const b = bindBufferToNode(new SharedArrayBuffer(256 << 10), node, 'preferred', 1);
    expect(b).toMatchObject({ applied: true, numaMaps: 'prefer:0', policy: { mode: 'preferred', nodes: [0] } });
  });

  it("the engine's WASM memory (what serve --cpus binds in the engine thread)", () => {
    const e = new Engine({ symbols: 2, capacity: 1000 });
    const mem = e.raw.memory.buffer;
    const b = bindBufferToNode(mem, node, 'bind', 1);
    expect(b).toMatchObject({ applied: true, boundBytes: mem.byteLength, numaMaps: 'bind:0' }); // WASM memory is page-aligned
    e.prefault();
    expect(rereadBinding(b).applied).toBe(true);
  });

  it('a node that does not exist, or a buffer with no whole page, is reported, not thrown', () => {
    const b = bindBufferToNode(new ArrayBuffer(1 << 16), 1000, 'bind', 1);
    expect(b.applied).toBe(false);
    expect(b.reason).toMatch(/mbind failed: .*Invalid argument/);
    const small = bindBufferToNode(new ArrayBuffer(100), 0, 'bind', 1);
    expect(small).toMatchObject({ applied: false, boundBytes: 0, reason: 'the buffer holds no whole page' });
  });

  it('bad arguments to the addon become JS errors (C++ exceptions at the boundary)', () => {
    const a = nativeAddon() as unknown as Record<string, (...x: unknown[]) => unknown>;
    expect(() => a.sysBindMemory!(42, 0, 'bind')).toThrow(/expected an ArrayBuffer/);
    expect(() => a.sysBindMemory!({}, 0, 'bind')).toThrow(/expected an ArrayBuffer/);
    expect(() => a.sysBindMemory!(new ArrayBuffer(8192), 0, 'sideways')).toThrow(/unknown memory policy "sideways"/);
    expect(() => a.sysSetAffinity!([])).toThrow(/empty CPU list/);
    expect(() => a.sysSetAffinity!([-1])).toThrow(/out of range/);
    expect(() => a.sysGetMempolicy!(new ArrayBuffer(8), 8)).toThrow(/offset outside the buffer/);
    expect(() => a.sysClockInto!(new Float64Array(2), 0)).toThrow(/BigInt64Array/);
  });

  it('the clock read fills a BigInt64Array in place: monotonic and realtime ns', () => {
    const a = nativeAddon() as unknown as { sysClockInto(t: BigInt64Array, i: number): void };
    const t = new BigInt64Array(new SharedArrayBuffer(32));
    const wall = BigInt(Date.now()) * 1_000_000n;
    a.sysClockInto(t, 2);
    expect(t[0]).toBe(0n);
    expect(t[2]!).toBeGreaterThan(0n);
    expect(t[3]! - wall).toBeLessThan(1_000_000_000n);
    const m0 = t[2]!;
    a.sysClockInto(t, 2);
    expect(t[2]!).toBeGreaterThanOrEqual(m0);
    expect(() => a.sysClockInto(t, 3)).toThrow(/past the array's end/);
  });

  it("the numa-memory probe binds and reads back a private buffer", () => {
    const [row] = probeMemoryBinding();
    expect(row).toMatchObject({ feature: 'numa-memory', detected: true, path: 'mbind (addon)' });
    expect(row!.detail).toMatch(/its first page on node 0, by move_pages\), numa_maps reads bind:0/);
  });
});

describe.runIf(linux && !native)('memory binding without the addon', () => {
  it('is reported as not applied, with the reason', () => {
    expect(bindBufferToNode(new ArrayBuffer(1 << 16), 0, 'bind', 1)).toMatchObject({ applied: false, reason: expect.stringMatching(/needs the native addon/) });
  });
});

it.runIf(linux)('formats what it read: allowed CPUs of this process', () => {
  expect(formatKernelList(allowed)).toMatch(/^\d+(-\d+)?(,\d+(-\d+)?)*$/);
});

describe('clock reads into a BigInt64Array (src/sys/native-clock.ts)', () => {
  it('the addon and the fallback read the same clocks (monotonic = process.hrtime, realtime = Date.now)', () => {
    for (const native of [true, false]) {
      const c = clockInto({ native });
      if (native && !nativeHas('sys')) continue;
      expect(c.path).toBe(native ? 'clock_gettime (addon)' : 'hrtime + Date.now (fallback)');
      const t = new BigInt64Array(4);
      const h0 = process.hrtime.bigint();
      c.read(t, 1);
      const h1 = process.hrtime.bigint();
      expect(t[1]!).toBeGreaterThanOrEqual(h0);
      expect(t[1]!).toBeLessThanOrEqual(h1);
      const wall = BigInt(Date.now()) * 1_000_000n;
      expect(wall - t[2]! < 50_000_000n && t[2]! - wall < 50_000_000n).toBe(true);
      expect(t[0]).toBe(0n);
      expect(t[3]).toBe(0n);
      expect(() => c.read(t, 3)).toThrow(/past the array's end/);
    }
  });
});
