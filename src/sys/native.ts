/**
 * The one loader of the optional native addon (build/native/tradsys_native.node, built from
 * native/ by native/build.mjs). Every caller goes through `nativeAddon()` and keeps a TypeScript
 * or WASM fallback for when it returns null; features check `addon.features[name].compiled` too.
 *
 * Layout: build/native/status.json (what the build found and left out, with reasons) beside the
 * addon; this module adds the run-time outcome (loaded, or why not).
 * Invariants: loaded at most once per thread; a failure to load is remembered with its reason and
 * never thrown; `TRADSYS_NATIVE=0` in the environment disables the addon at run time.
 * Complexity: O(1) after the first call. Allocation: the first call only.
 * Known limitations: Linux x86_64/arm64 only (the build is skipped elsewhere).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One feature's compile-time report from the addon (`exports.features[name]`). */
export interface NativeFeatureReport { compiled: boolean; detail: string }

/** The addon's exports: each feature file adds its own functions (typed by its TS wrapper). */
export interface NativeAddon {
  abiVersion: number;
  abiHash: number;
  features: Record<string, NativeFeatureReport>;
  [fn: string]: unknown;
}

/** build/native/status.json as written by native/build.mjs. */
export interface NativeBuildStatus {
  built: boolean;
  addon: string | null;
  reason: string;
  compiler: string | null;
  nodedir: string | null;
  features: Record<string, { compiled: boolean; reason?: string; detail?: string }>;
  builtAt: string;
  node: string;
  [k: string]: unknown;
}

export interface NativeLoadResult {
  addon: NativeAddon | null;
  /** The addon's path when it was found. */
  path: string | null;
  /** Why the addon is not in use (empty when loaded). */
  reason: string;
  /** The build's own report, when build/native/status.json exists. */
  build: NativeBuildStatus | null;
}

let cached: NativeLoadResult | null = null;

/** Finds build/native above this module (works from src/ and build/dist/). */
export function nativeBuildDir(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'build', 'native');
    if (existsSync(p)) return p;
    const q = join(dir, 'native');
    if (existsSync(join(q, 'status.json'))) return q;
    dir = dirname(dir);
  }
  return null;
}

/** Loads the addon once; never throws. */
export function loadNative(): NativeLoadResult {
  if (cached) return cached;
  const dir = nativeBuildDir();
  let build: NativeBuildStatus | null = null;
  if (dir && existsSync(join(dir, 'status.json'))) {
    try { build = JSON.parse(readFileSync(join(dir, 'status.json'), 'utf8')) as NativeBuildStatus; } catch { build = null; }
  }
  const path = dir ? join(dir, 'tradsys_native.node') : null;
  if (process.env.TRADSYS_NATIVE === '0') {
    cached = { addon: null, path, reason: 'disabled by TRADSYS_NATIVE=0', build };
  } else if (!path || !existsSync(path)) {
    cached = { addon: null, path: null, reason: build ? `not built: ${build.reason}` : 'not built (run `npm run build`)', build };
  } else {
    try {
      const addon = createRequire(import.meta.url)(path) as NativeAddon;
      cached = { addon, path, reason: '', build };
    } catch (e) {
      cached = { addon: null, path, reason: `failed to load: ${(e as Error).message}`, build };
    }
  }
  return cached;
}

/** The addon, or null when it is not built, not loadable or disabled. */
export function nativeAddon(): NativeAddon | null {
  return loadNative().addon;
}

/** Whether the addon is loaded and compiled feature `name` in. */
export function nativeHas(name: string): boolean {
  const a = nativeAddon();
  return !!a && !!a.features[name]?.compiled;
}

/** Test hook: forget the cached load result. */
export function resetNativeForTests(): void {
  cached = null;
}
