/**
 * The wrapper over the native addon's GPU feature (native/src/gpu.cc): finds out once per thread
 * whether the CUDA path can run here (driver, device, the kernels' library) and why not, and
 * calls the CUDA kernels (native/cuda/) and the addon's C++ baseline of the same statistics.
 * src/stats/universe.ts chooses among them and the WASM SIMD fallback.
 *
 * Layout: `gpuStatus()` (cached probe: driver version, devices with name, compute capability,
 * memory; the library's build outcome from build/native/status.json `cuda`) · `nativeCorrTop`,
 * `nativeEgScreen` (raw typed-array calls, backend 'gpu' or 'c').
 * Invariants: never loads CUDA code unless the driver reports a device (the addon dlopen()s
 * libcuda.so.1 first); `TRADSYS_GPU=0` disables the GPU path at run time; a failed probe is a
 * reason, never an exception; kernel failures are TradsysError ERR_GPU_KERNEL.
 * Complexity: the probe is O(devices), once. Allocation: the probe's report; the calls' results.
 * Known limitations: device 0 only; calls are synchronous (they block the calling thread).
 */
import { TradsysError } from '../domain/errors.js';
import { loadNative, nativeBuildDir, type NativeAddon } from './native.js';
import { join } from 'node:path';

export interface GpuDevice {
  ordinal: number;
  name: string;
  /** 'major.minor', e.g. '9.0' for an H100. */
  computeCapability: string;
  multiprocessors: number;
  memoryBytes: number;
}

export interface GpuStatus {
  /** The CUDA path can run now (driver, device and library loaded). */
  available: boolean;
  /** Why not, in words (empty when available). */
  reason: string;
  driverFound: boolean;
  /** CUDA driver API version, e.g. '13.0' (null without a driver). */
  driverVersion: string | null;
  devices: GpuDevice[];
  library: {
    /** build/native/libtradsys_cuda.so was built (nvcc present at build). */
    built: boolean;
    path: string | null;
    /** SASS targets and PTX it carries ('sm_75' … 'compute_120'). */
    arch: string[];
    /** The build's reason when not built ('not built: nvcc missing at build', …). */
    buildReason: string;
    loaded: boolean;
  };
}

interface ProbeReport {
  reason: string;
  driver: { found: boolean; version: number | null; detail?: string };
  devices: GpuDevice[];
  library: { path: string; loaded: boolean };
}

/** Raw result of a native top-pairs call. */
export interface CorrTopRaw { i: Int32Array; j: Int32Array; rho: Float64Array; rows: Float64Array; timings?: Float64Array }

type GpuAddon = NativeAddon & {
  gpuProbe(lib: string): ProbeReport;
  gpuCorrTop(data: Float64Array, k: number, n: number, topN: number, fp32: boolean, rows: Int32Array): CorrTopRaw;
  cpuCorrTop(data: Float64Array, k: number, n: number, topN: number, fp32: boolean, rows: Int32Array): CorrTopRaw;
  gpuEgScreen(data: Float64Array, k: number, n: number, pairs: Int32Array, maxlag: number, autolag: boolean): Float64Array;
  cpuEgScreen(data: Float64Array, k: number, n: number, pairs: Int32Array, maxlag: number, autolag: boolean): Float64Array;
};

let cached: GpuStatus | null = null;

function addonWithGpu(): { addon: GpuAddon | null; reason: string } {
  const r = loadNative();
  if (!r.addon) return { addon: null, reason: `native addon not loaded (${r.reason})` };
  if (!r.addon.features.gpu?.compiled || typeof r.addon.gpuProbe !== 'function') return { addon: null, reason: 'the native addon was built without the GPU feature' };
  return { addon: r.addon as GpuAddon, reason: '' };
}

/** The GPU path's status on this machine (probed once; `refresh` probes again). */
export function gpuStatus(refresh = false): GpuStatus {
  if (cached && !refresh) return cached;
  const dir = nativeBuildDir();
  const build = loadNative().build;
  const cuda = (build?.cuda ?? null) as { built?: boolean; lib?: string | null; arch?: string[]; reason?: string } | null;
  const libPath = dir ? join(dir, 'libtradsys_cuda.so') : null;
  const library: GpuStatus['library'] = {
    built: !!cuda?.built,
    path: cuda?.built ? libPath : null,
    arch: cuda?.arch ?? [],
    buildReason: cuda ? (cuda.built ? '' : cuda.reason ?? 'not built') : 'not built (no CUDA build record in build/native/status.json: run `npm run build`)',
    loaded: false,
  };
  const s: GpuStatus = { available: false, reason: '', driverFound: false, driverVersion: null, devices: [], library };
  const { addon, reason } = addonWithGpu();
  if (!addon) {
    s.reason = reason;
  } else {
    const disabled = process.env.TRADSYS_GPU === '0';
    // disabled: the driver is still asked what is there, but no CUDA code is loaded
    const p = addon.gpuProbe(!disabled && library.built && libPath ? libPath : '');
    s.driverFound = p.driver.found;
    s.driverVersion = p.driver.version === null ? null : `${Math.floor(p.driver.version / 1000)}.${Math.floor((p.driver.version % 1000) / 10)}`;
    s.devices = p.devices;
    library.loaded = p.library.loaded;
    s.reason = p.reason === 'library not built' ? `library ${library.buildReason || 'not built'}` : p.reason;
    s.available = !disabled && p.library.loaded && p.reason === '';
    if (disabled && s.devices.length > 0) s.reason = 'disabled by TRADSYS_GPU=0';
  }
  cached = s;
  return s;
}

/** Whether the CUDA path can run now. */
export function gpuAvailable(): boolean { return gpuStatus().available; }

function addonFor(backend: 'gpu' | 'c'): GpuAddon {
  if (backend === 'gpu') {
    const st = gpuStatus();
    if (!st.available) throw new TradsysError('ERR_GPU_UNAVAILABLE', `GPU statistics unavailable: ${st.reason}`);
  }
  const { addon, reason } = addonWithGpu();
  if (!addon) throw new TradsysError('ERR_GPU_UNAVAILABLE', `the C++ baseline is unavailable: ${reason}`);
  return addon;
}

function kernel<T>(backend: 'gpu' | 'c', f: () => T): T {
  try { return f(); } catch (e) {
    // argument errors stay what they are; the C++ baseline's own failures (out of memory) too
    if (backend === 'c' || e instanceof RangeError || e instanceof TypeError) throw e;
    throw new TradsysError('ERR_GPU_KERNEL', (e as Error).message, { cause: e });
  }
}

/** Whether the addon's C++ baseline can run (the addon is loaded with its GPU feature). */
export function nativeBaselineAvailable(): boolean { return addonWithGpu().addon !== null; }

/** Top pairs by |ρ| of k series of n values (series j at data[j·n …]) on the GPU or the C++ baseline. */
export function nativeCorrTop(backend: 'gpu' | 'c', data: Float64Array, k: number, n: number, topN: number, fp32: boolean, rows: Int32Array): CorrTopRaw {
  const a = addonFor(backend);
  return kernel(backend, () => (backend === 'gpu' ? a.gpuCorrTop(data, k, n, topN, fp32, rows) : a.cpuCorrTop(data, k, n, topN, fp32, rows)));
}

/** Engle–Granger screen of (y, x) index pairs; 6 slots per pair (alpha, beta, stat, pvalue, usedlag, status). */
export function nativeEgScreen(backend: 'gpu' | 'c', data: Float64Array, k: number, n: number, pairs: Int32Array, maxlag: number, autolag: boolean): Float64Array {
  const a = addonFor(backend);
  return kernel(backend, () => (backend === 'gpu' ? a.gpuEgScreen(data, k, n, pairs, maxlag, autolag) : a.cpuEgScreen(data, k, n, pairs, maxlag, autolag)));
}

/** Test hook: forget the cached probe. */
export function resetGpuForTests(): void { cached = null; }

/** 'sm_75 … sm_120 (+ PTX compute_120)' from the library's architecture list. */
export function archSummary(arch: readonly string[]): string {
  const sass = arch.filter((a) => a.startsWith('sm_'));
  const ptx = arch.filter((a) => a.startsWith('compute_'));
  if (sass.length === 0) return ptx.join(', ') || 'no architectures';
  return `${sass.length > 2 ? `${sass[0]}…${sass[sass.length - 1]} (${sass.join(', ')})` : sass.join(', ')}${ptx.length ? ` + PTX ${ptx.join(', ')}` : ''}`;
}

/** The `doctor`/banner row of the GPU statistics (see src/sys/probes.ts). */
export function probeGpu(): { feature: string; detected: boolean; path: string; detail: string; facts: Record<string, unknown> }[] {
  const st = gpuStatus();
  const lib = st.library.built ? `CUDA library built for ${archSummary(st.library.arch)}` : `CUDA library ${st.library.buildReason || 'not built'}`;
  const facts: Record<string, unknown> = {
    available: st.available, driverFound: st.driverFound, driverVersion: st.driverVersion, devices: st.devices,
    library: st.library, reason: st.reason,
  };
  if (st.available) {
    const d = st.devices[0]!;
    return [{
      feature: 'gpu', detected: true, path: `CUDA sm_${d.computeCapability.replace('.', '')} (${d.name})`,
      detail: `${d.name}, compute capability ${d.computeCapability}, ${d.multiprocessors} SMs, ${(d.memoryBytes / 2 ** 30).toFixed(1)} GiB, driver ${st.driverVersion}${st.devices.length > 1 ? ` (+${st.devices.length - 1} more; device 0 used)` : ''}; ${lib}`,
      facts,
    }];
  }
  const why = /^no libcuda\.so\.1/.test(st.reason) ? 'no NVIDIA driver (libcuda.so.1 not found)' : st.reason;
  const dev = st.devices.length ? ` (device: ${st.devices[0]!.name}, compute capability ${st.devices[0]!.computeCapability})` : '';
  return [{ feature: 'gpu', detected: false, path: 'WASM SIMD fallback', detail: `${why}${dev} → WASM SIMD fallback; ${lib}`, facts }];
}
