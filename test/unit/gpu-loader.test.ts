/**
 * The GPU loader's "why not" paths (native/src/gpu.cc via src/sys/gpu.ts), on any machine: no
 * driver (no libcuda.so.1), a driver that reports no device, a driver whose device the CUDA
 * library cannot use (fake libcuda.so.1 libraries compiled here and put first on
 * LD_LIBRARY_PATH of a child process), the addon disabled; each falls back to WASM SIMD with the
 * reason in `tradsys doctor`'s row. And `npm run build:native` without nvcc still succeeds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gpuStatus } from '../../src/sys/gpu.js';
import { nativeBaselineAvailable } from '../../src/sys/gpu.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const HAVE_CC = spawnSync('sh', ['-c', 'command -v cc'], { encoding: 'utf8' }).status === 0;
const HAVE_ADDON = nativeBaselineAvailable();

// A fake CUDA driver: cuInit returns INIT_RC; DEVICES devices named "Fake GPU" of compute capability 9.0.
const FAKE = `
#include <stddef.h>
#include <string.h>
int cuInit(unsigned f) { (void)f; return INIT_RC; }
int cuDriverGetVersion(int* v) { *v = 13000; return 0; }
int cuDeviceGetCount(int* n) { *n = DEVICES; return 0; }
int cuDeviceGet(int* d, int i) { *d = i; return 0; }
int cuDeviceGetName(char* s, int len, int d) { (void)d; strncpy(s, "Fake GPU", (size_t)len); return 0; }
int cuDeviceGetAttribute(int* v, int a, int d) { (void)d; *v = a == 75 ? 9 : a == 76 ? 0 : a == 16 ? 132 : 0; return 0; }
int cuDeviceTotalMem_v2(size_t* b, int d) { (void)d; *b = (size_t)80 << 30; return 0; }
`;

let tmp = '';
function fakeDriver(name: string, initRc: number, devices: number): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'fake.c'), FAKE.replace('INIT_RC', String(initRc)).replace('DEVICES', String(devices)));
  const r = spawnSync('cc', ['-shared', '-fPIC', '-o', join(dir, 'libcuda.so.1'), join(dir, 'fake.c')], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return dir;
}

interface ChildOut { status: ReturnType<typeof gpuStatus>; probe: { detected: boolean; path: string; detail: string }; autoBackend: string; pairs: unknown[] }
function child(env: Record<string, string>): ChildOut {
  const r = spawnSync(TSX, [join(ROOT, 'test/support/gpu-status-child.ts')], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  expect(r.status, `child failed: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildOut;
}

beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'tradsys-gpu-')); });
afterAll(() => { if (tmp) rmSync(tmp, { recursive: true, force: true }); });

describe('GPU loader: why the CUDA path does not run', () => {
  it.skipIf(!HAVE_ADDON)('without an NVIDIA driver: "no libcuda.so.1 (no NVIDIA driver)", WASM SIMD fallback', () => {
    const st = gpuStatus();
    if (st.driverFound) return; // a machine with a driver: the GPU test file covers it
    expect(st.available).toBe(false);
    expect(st.reason).toBe('no libcuda.so.1 (no NVIDIA driver)');
    const out = child({});
    expect(out.probe.detected).toBe(false);
    expect(out.probe.path).toBe('WASM SIMD fallback');
    expect(out.probe.detail).toMatch(/^no NVIDIA driver \(libcuda\.so\.1 not found\) → WASM SIMD fallback; CUDA library (built for sm_75|not built: nvcc missing at build)/);
    expect(out.autoBackend).toBe('wasm');
  });

  it.skipIf(!HAVE_ADDON || !HAVE_CC)('a driver that reports no device (cuInit → CUDA_ERROR_NO_DEVICE): "no CUDA device"', () => {
    const out = child({ LD_LIBRARY_PATH: fakeDriver('nodev', 100, 0) });
    expect(out.status.driverFound).toBe(true);
    expect(out.status.driverVersion).toBe('13.0');
    expect(out.status.available).toBe(false);
    expect(out.status.reason).toMatch(/^no CUDA device/);
    expect(out.probe.detail).toMatch(/^no CUDA device .*→ WASM SIMD fallback/);
    expect(out.status.library.loaded).toBe(false);
    expect(out.autoBackend).toBe('wasm');
  });

  it.skipIf(!HAVE_ADDON || !HAVE_CC)('a driver with zero devices after cuInit succeeds: "no CUDA device"', () => {
    const out = child({ LD_LIBRARY_PATH: fakeDriver('zero', 0, 0) });
    expect(out.status.reason).toBe('no CUDA device');
    expect(out.autoBackend).toBe('wasm');
  });

  it.skipIf(!HAVE_ADDON || !HAVE_CC)('a device the CUDA library cannot use (fake driver): the device is reported, the library refused, WASM runs', () => {
    const out = child({ LD_LIBRARY_PATH: fakeDriver('onedev', 0, 1) });
    expect(out.status.devices).toEqual([{ ordinal: 0, name: 'Fake GPU', computeCapability: '9.0', multiprocessors: 132, memoryBytes: 80 * 2 ** 30 }]);
    expect(out.status.available).toBe(false);
    if (out.status.library.built) expect(out.status.reason).toMatch(/^CUDA device check failed: /);
    else expect(out.status.reason).toMatch(/^library not built/);
    expect(out.probe.detail).toContain('device: Fake GPU, compute capability 9.0');
    expect(out.autoBackend).toBe('wasm');
    expect(out.pairs.length).toBe(2);
  });

  it.skipIf(!HAVE_ADDON || !HAVE_CC)('TRADSYS_GPU=0 with a device: reported, not loaded, "disabled by TRADSYS_GPU=0"', () => {
    const out = child({ LD_LIBRARY_PATH: fakeDriver('disabled', 0, 1), TRADSYS_GPU: '0' });
    expect(out.status.devices.length).toBe(1);
    expect(out.status.available).toBe(false);
    expect(out.status.library.loaded).toBe(false);
    expect(out.status.reason).toBe('disabled by TRADSYS_GPU=0');
    expect(out.autoBackend).toBe('wasm');
  });

  it('with the addon disabled (TRADSYS_NATIVE=0): the reason says so and WASM runs', () => {
    const out = child({ TRADSYS_NATIVE: '0' });
    expect(out.status.reason).toMatch(/^native addon not loaded \(disabled by TRADSYS_NATIVE=0\)/);
    expect(out.autoBackend).toBe('wasm');
  });
});

describe('build without nvcc', () => {
  it('`node native/build.mjs` with no nvcc on PATH nor in CUDA_HOME exits 0, builds the addon and records "nvcc missing at build"', () => {
    const out = join(tmp, 'native-out');
    const path = (process.env.PATH ?? '').split(':').filter((d) => d && !existsSync(join(d, 'nvcc'))).join(':');
    const r = spawnSync(process.execPath, [join(ROOT, 'native/build.mjs')], {
      cwd: ROOT, encoding: 'utf8', timeout: 300_000,
      env: { ...process.env, PATH: path, NVCC: '', CUDA_HOME: join(tmp, 'no-cuda'), CUDA_PATH: '', TRADSYS_NATIVE_OUT: out },
    });
    expect(r.status, r.stderr).toBe(0);
    const st = JSON.parse(readFileSync(join(out, 'status.json'), 'utf8')) as { built: boolean; reason: string; cuda: { built: boolean; reason: string } };
    expect(st.cuda).toMatchObject({ built: false, reason: 'not built: nvcc missing at build' });
    expect(existsSync(join(out, 'libtradsys_cuda.so'))).toBe(false);
    if (HAVE_CC) expect(st.built, st.reason).toBe(true);
    expect(r.stdout).toMatch(/native: (built|not built)/);
  }, 320_000);
});
