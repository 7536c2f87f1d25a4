/**
 * src/stats/universe.ts's choice of backend when a GPU is reported but its call fails: with
 * 'auto' the WASM path reruns and the result says why (`fallback`); with 'gpu' the
 * ERR_GPU_KERNEL error reaches the caller. The GPU layer (src/sys/gpu.ts) is replaced by a stub
 * that reports a device and fails every kernel call — the machines running this have no GPU, and
 * the real device path is test/kernels/gpu.test.ts.
 */
import { describe, expect, it, vi } from 'vitest';
import { TradsysError } from '../../src/domain/errors.js';

vi.mock('../../src/sys/gpu.js', async (orig) => {
  const real = await orig<typeof import('../../src/sys/gpu.js')>();
  const fail = (): never => { throw new TradsysError('ERR_GPU_KERNEL', 'CUDA correlation: cudaMalloc(...): out of memory'); };
  return {
    ...real,
    gpuAvailable: () => true,
    gpuStatus: () => ({ ...real.gpuStatus(), available: true, reason: '' }),
    nativeCorrTop: (b: 'gpu' | 'c', ...rest: Parameters<typeof real.nativeCorrTop> extends [unknown, ...infer R] ? R : never) => (b === 'gpu' ? fail() : real.nativeCorrTop(b, ...rest)),
    nativeEgScreen: (b: 'gpu' | 'c', ...rest: Parameters<typeof real.nativeEgScreen> extends [unknown, ...infer R] ? R : never) => (b === 'gpu' ? fail() : real.nativeEgScreen(b, ...rest)),
  };
});

const { correlationTopPairs, engleGrangerScreen } = await import('../../src/stats/universe.js');
const { randomWalk } = await import('../support/cointegrated.js');

describe('a GPU that fails', () => {
  const u = [randomWalk(1, 300), randomWalk(2, 300), randomWalk(3, 300), randomWalk(4, 300)];

  it("'auto' reruns the correlation on WASM and says why", () => {
    const r = correlationTopPairs(u, { topN: 3 });
    expect(r.backend).toBe('wasm');
    expect(r.fallback).toMatch(/out of memory/);
    expect(r.pairs).toEqual(correlationTopPairs(u, { topN: 3, backend: 'wasm' }).pairs);
  });

  it("'auto' reruns the Engle–Granger screen on WASM and says why", () => {
    const r = engleGrangerScreen(u, [[0, 1], [2, 3]]);
    expect(r.backend).toBe('wasm');
    expect(r.fallback).toMatch(/out of memory/);
    expect(r.results).toEqual(engleGrangerScreen(u, [[0, 1], [2, 3]], { backend: 'wasm' }).results);
  });

  it("'gpu' passes ERR_GPU_KERNEL to the caller", () => {
    let err: unknown;
    try { correlationTopPairs(u, { backend: 'gpu' }); } catch (e) { err = e; }
    expect((err as TradsysError).code).toBe('ERR_GPU_KERNEL');
    expect(() => engleGrangerScreen(u, [[0, 1]], { backend: 'gpu' })).toThrow(/out of memory/);
  });

  it('a successful WASM run carries no fallback field', () => {
    expect('fallback' in correlationTopPairs(u, { backend: 'wasm' })).toBe(false);
  });
});
