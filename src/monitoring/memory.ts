/**
 * Memory and resource metrics (docs/operations.md "Memory"): the main thread's heap used/total,
 * RSS, external and array buffers (process.memoryUsage); each WASM instance's linear memory (this
 * thread's instances by role, the engine thread's book instance from its once-a-second report);
 * the engine's pool high-water marks; a GC pause histogram (perf_hooks 'gc' entries); the
 * event-loop delay of the main thread (perf_hooks monitorEventLoopDelay), of the storage writer
 * thread (its own monitor, through its stats block) and of the engine thread (the longest turn of
 * its loop, which never yields to Node's event loop); the free space of the journal's file
 * system; the rings' fill; and a trend detector on the heap used after GC (HeapTrend).
 * Also the heap snapshot (`writeHeapSnapshotChecked`, POST /api/v1/admin/heap-snapshot).
 *
 * Layout: `registerMemoryMetrics(registry, sources)` registers prom-client gauges whose `collect`
 * reads the sources at scrape time (nothing is polled for them), plus the GC histogram and a 1 s
 * timer (unref'd) that rolls the main thread's event-loop delay window and feeds the trend.
 * Invariants: every series is read at scrape time or from the last full second; `stop()` removes
 * the observer and the timer (the metrics stay registered and report their last values).
 * Complexity: a scrape O(WASM instances + threads); a GC entry O(1); the trend fit O(window).
 * Allocation: per scrape (process.memoryUsage, the sources' answers); per GC entry the observer's
 * entry list (Node's); per trend sample one {t, y} pair (the window is bounded by `maxSamples`).
 * Known limitations: strategy worker threads (src/strategies/) do not report their event-loop
 * delay yet; the heap snapshot blocks the main thread while it is written (seconds for a large
 * heap) and needs about as much free disk as the heap is large.
 */
import { statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { constants, monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { getHeapStatistics, writeHeapSnapshot } from 'node:v8';
import { Gauge, Histogram, type Registry } from 'prom-client';
import { TradsysError } from '../domain/errors.js';

/** The engine thread's report (src/engine/host.ts EngineThreadMemory; structural, so monitoring/ needs no engine import). */
export interface EngineMemoryReport {
  orders: { capacity: number; inUse: number; highWater: number };
  levels: { capacity: number; inUse: number; highWater: number };
  wasmBytes: number;
  turnMaxSeconds: number;
  heapUsedBytes: number;
}

/** A worker thread's own figures (the storage writer's stats block; strategy workers later). */
export interface WorkerReport { thread: string; loopDelayP99Seconds: number; heapUsedBytes: number }

/** Where the figures come from (injected by src/gateway/compose.ts; tests pass their own). */
export interface MemorySources {
  /** This thread's WASM instances by role (src/engine/index.ts wasmInstanceMemory). */
  wasm?: () => { role: string; instances: number; bytes: number }[];
  /** The engine thread's last report (EngineHost.memory), null before its first. */
  engine?: () => EngineMemoryReport | null;
  /** Other worker threads' reports. */
  workers?: () => WorkerReport[];
  /** The rings' fill, 0..1 (EngineHost.ringFill). */
  rings?: () => { command: number; event: number };
  /** The journal folder: its file system's free space is reported. */
  journalDir?: string;
  /** Trend detector settings (defaults: HEAP_TREND_DEFAULTS). */
  trend?: Partial<TrendOptions>;
  /** Clock for the trend samples, ms (default Date.now). */
  now?: () => number;
}

export interface TrendOptions {
  /** Samples older than this (ms) leave the window (default 10 min). */
  windowMs: number;
  /** Samples the fit needs before it may say "growing" (default 20). */
  minSamples: number;
  /** The fit's coefficient of determination must reach this (default 0.8). */
  minR2: number;
  /** Growth, bytes per second, at or above which a good fit is "steady growth" (default 16 KiB/s ≈ 56 MiB/h). */
  minSlopeBytesPerSecond: number;
  /** Samples kept at most (default 1,200); the oldest go first. */
  maxSamples: number;
  /** The sampler (registerMemoryMetrics) takes no sample in the first this many ms after it starts: start-up growth (JIT, caches, catch-up) is not a leak (default 120,000). */
  warmupMs: number;
}

export const HEAP_TREND_DEFAULTS: TrendOptions = { windowMs: 10 * 60_000, minSamples: 20, minR2: 0.8, minSlopeBytesPerSecond: 16 * 1024, maxSamples: 1200, warmupMs: 120_000 };

/** A least-squares fit of the samples in the window. */
export interface TrendFit {
  /** Samples in the window. */
  n: number;
  /** Slope, bytes (units of y) per second. */
  slope: number;
  /** Intercept at the first sample's time. */
  intercept: number;
  /** Coefficient of determination, 0..1 (0 when y does not vary). */
  r2: number;
  /** n ≥ minSamples, r2 ≥ minR2 and slope ≥ minSlopeBytesPerSecond. */
  growing: boolean;
}

/**
 * Steady-growth detector: ordinary least squares of y (heap used after GC, bytes) on t (s) over a
 * sliding window. A leak is a line going up with a good fit; a sawtooth or noise around a level
 * has a small slope or a small R². Times are taken relative to the first sample, sums in doubles.
 */
export class HeapTrend {
  readonly opts: TrendOptions;
  private readonly t: number[] = [];
  private readonly y: number[] = [];

  constructor(opts: Partial<TrendOptions> = {}) {
    this.opts = { ...HEAP_TREND_DEFAULTS, ...opts };
    const o = this.opts;
    for (const k of ['windowMs', 'minSamples', 'maxSamples'] as const) {
      if (!Number.isFinite(o[k]) || o[k] <= 0) throw new TradsysError('ERR_GATEWAY_CONFIG', `heap trend ${k} must be a positive number, got ${String(o[k])}`);
    }
    if (!(o.minR2 >= 0 && o.minR2 <= 1)) throw new TradsysError('ERR_GATEWAY_CONFIG', `heap trend minR2 must be within 0..1, got ${String(o.minR2)}`);
    if (!Number.isFinite(o.minSlopeBytesPerSecond)) throw new TradsysError('ERR_GATEWAY_CONFIG', `heap trend minSlopeBytesPerSecond must be a number, got ${String(o.minSlopeBytesPerSecond)}`);
    if (!(o.warmupMs >= 0)) throw new TradsysError('ERR_GATEWAY_CONFIG', `heap trend warmupMs must be ≥ 0, got ${String(o.warmupMs)}`);
    if (o.minSamples < 3) throw new TradsysError('ERR_GATEWAY_CONFIG', `heap trend minSamples must be at least 3, got ${o.minSamples}`);
  }

  /** Adds a sample at `tMs` (ms, non-decreasing) and drops those out of the window. */
  add(tMs: number, y: number): void {
    this.t.push(tMs);
    this.y.push(y);
    const from = tMs - this.opts.windowMs;
    let k = 0;
    while (k < this.t.length && (this.t[k]! < from || this.t.length - k > this.opts.maxSamples)) k++;
    if (k > 0) { this.t.splice(0, k); this.y.splice(0, k); }
  }

  get size(): number { return this.t.length; }

  /** The fit over the window; null with fewer than 2 samples or all at one time. */
  fit(): TrendFit | null {
    const n = this.t.length;
    if (n < 2) return null;
    const t0 = this.t[0]!;
    let sx = 0;
    let sy = 0;
    for (let i = 0; i < n; i++) { sx += (this.t[i]! - t0) / 1000; sy += this.y[i]!; }
    const mx = sx / n;
    const my = sy / n;
    let sxx = 0;
    let sxy = 0;
    let syy = 0;
    for (let i = 0; i < n; i++) {
      const dx = (this.t[i]! - t0) / 1000 - mx;
      const dy = this.y[i]! - my;
      sxx += dx * dx;
      sxy += dx * dy;
      syy += dy * dy;
    }
    if (sxx === 0) return null;
    const slope = sxy / sxx;
    const r2 = syy === 0 ? 0 : (sxy * sxy) / (sxx * syy);
    const o = this.opts;
    return { n, slope, intercept: my - slope * mx, r2, growing: n >= o.minSamples && r2 >= o.minR2 && slope >= o.minSlopeBytesPerSecond };
  }
}

/** GC kinds as perf_hooks reports them, by their label. */
const GC_KINDS: [number, string][] = [
  [constants.NODE_PERFORMANCE_GC_MINOR, 'scavenge'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'mark_sweep_compact'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental_marking'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weak_callbacks'],
];
function gcKind(kind: number | undefined): string {
  for (const [k, name] of GC_KINDS) if (k === kind) return name;
  return 'other';
}

/** GC pause buckets, seconds: 50 µs .. 1 s. */
export const GC_PAUSE_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export interface MemoryMonitor {
  readonly trend: HeapTrend;
  /** The main thread's event-loop delay over the last full second: p99 and max, seconds (0 before the first). */
  loopDelay(): { p99: number; max: number };
  /** The last trend fit (refreshed each second). */
  lastFit(): TrendFit | null;
  /** Stops the GC observer and the 1 s timer. */
  stop(): void;
}

/** Registers the memory and resource series in `registry` and starts the GC observer and the 1 s timer. */
export function registerMemoryMetrics(registry: Registry, src: MemorySources = {}): MemoryMonitor {
  const now = src.now ?? Date.now;
  const trend = new HeapTrend(src.trend);
  const reg = [registry];
  const gauge = (name: string, help: string, collect: (g: Gauge) => void, labelNames: string[] = []): Gauge =>
    new Gauge({ name, help, labelNames, registers: reg, collect() { collect(this); } });

  gauge('tradsys_heap_used_bytes', 'V8 heap in use, main thread (process.memoryUsage().heapUsed)', (g) => g.set(process.memoryUsage().heapUsed));
  gauge('tradsys_heap_total_bytes', 'V8 heap reserved, main thread (heapTotal)', (g) => g.set(process.memoryUsage().heapTotal));
  gauge('tradsys_rss_bytes', 'resident set size of the process (all threads)', (g) => g.set(process.memoryUsage.rss()));
  gauge('tradsys_external_bytes', 'memory of C++ objects bound to JS objects (process.memoryUsage().external; includes array buffers)', (g) => g.set(process.memoryUsage().external));
  gauge('tradsys_array_buffers_bytes', 'ArrayBuffers and SharedArrayBuffers (rings, WASM memories excluded) (process.memoryUsage().arrayBuffers)', (g) => g.set(process.memoryUsage().arrayBuffers));
  gauge('tradsys_wasm_memory_bytes', 'linear memory of the WASM instances, by thread and role', (g) => {
    g.reset();
    for (const w of src.wasm?.() ?? []) g.set({ thread: 'main', role: w.role }, w.bytes);
    const e = src.engine?.();
    if (e) g.set({ thread: 'engine', role: 'book' }, e.wasmBytes);
  }, ['thread', 'role']);
  const pools = (field: 'capacity' | 'inUse' | 'highWater') => (g: Gauge): void => {
    const e = src.engine?.();
    if (!e) return;
    g.set({ pool: 'orders' }, e.orders[field]);
    g.set({ pool: 'levels' }, e.levels[field]);
  };
  gauge('tradsys_engine_pool_capacity', 'engine pool slots reserved at start, by pool (orders, price levels)', pools('capacity'), ['pool']);
  gauge('tradsys_engine_pool_in_use', 'engine pool slots in use (last second), by pool', pools('inUse'), ['pool']);
  gauge('tradsys_engine_pool_high_water', 'most engine pool slots ever in use, by pool', pools('highWater'), ['pool']);
  gauge('tradsys_thread_heap_used_bytes', 'V8 heap in use per worker thread (last second)', (g) => {
    g.reset();
    const e = src.engine?.();
    if (e) g.set({ thread: 'engine' }, e.heapUsedBytes);
    for (const w of src.workers?.() ?? []) g.set({ thread: w.thread }, w.heapUsedBytes);
  }, ['thread']);

  // event-loop delay: the main thread's perf_hooks monitor, rolled each second
  const eld = monitorEventLoopDelay({ resolution: 10 });
  eld.enable();
  let lastP99 = 0;
  let lastMax = 0;
  gauge('tradsys_event_loop_delay_p99_seconds', 'event-loop delay p99 over the last second, by thread (main, storage_writer)', (g) => {
    g.reset();
    g.set({ thread: 'main' }, lastP99);
    for (const w of src.workers?.() ?? []) g.set({ thread: w.thread }, w.loopDelayP99Seconds);
  }, ['thread']);
  gauge('tradsys_event_loop_delay_max_seconds', 'event-loop delay max over the last second, by thread (main; engine: its longest loop turn)', (g) => {
    g.reset();
    g.set({ thread: 'main' }, lastMax);
    const e = src.engine?.();
    if (e) g.set({ thread: 'engine' }, e.turnMaxSeconds);
  }, ['thread']);
  if (src.rings) {
    const rings = src.rings;
    gauge('tradsys_ring_fill_ratio', 'ring fill, 0..1: command ring (queued commands / slots), event ring (slowest reader lag / slots)', (g) => {
      const r = rings();
      g.set({ ring: 'command' }, r.command);
      g.set({ ring: 'event' }, r.event);
    }, ['ring']);
  }
  if (src.journalDir !== undefined) {
    const dir = src.journalDir;
    const disk = (): { free: number; size: number } | null => {
      try { const s = statfsSync(dir); return { free: s.bavail * s.bsize, size: s.blocks * s.bsize }; } catch { return null; }
    };
    gauge('tradsys_journal_disk_free_bytes', 'free space (for this user) of the journal folder\'s file system', (g) => { const d = disk(); if (d) g.set(d.free); });
    gauge('tradsys_journal_disk_free_ratio', 'free space of the journal folder\'s file system, 0..1', (g) => { const d = disk(); if (d && d.size > 0) g.set(d.free / d.size); });
  }

  // GC pauses, and the heap after GC for the trend (the lowest seen after a GC in each second)
  const gcHist = new Histogram({ name: 'tradsys_gc_pause_seconds', help: 'GC pauses of the main thread, by kind (perf_hooks)', labelNames: ['kind'], buckets: GC_PAUSE_BUCKETS, registers: reg });
  let afterGcMin = Infinity;
  let lastAfterGc = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      gcHist.observe({ kind: gcKind(e.detail?.kind) }, e.duration / 1000);
    }
    const used = getHeapStatistics().used_heap_size;
    if (used < afterGcMin) afterGcMin = used;
  });
  obs.observe({ entryTypes: ['gc'] });
  gauge('tradsys_heap_used_after_gc_bytes', 'main thread heap in use just after GC (lowest in the last second with a GC)', (g) => g.set(lastAfterGc));
  let fit: TrendFit | null = null;
  gauge('tradsys_heap_growth_bytes_per_second', 'slope of the heap used after GC over the trend window (least squares)', (g) => g.set(fit?.slope ?? 0));
  gauge('tradsys_heap_growth_r2', 'R² of that fit (0..1)', (g) => g.set(fit?.r2 ?? 0));
  gauge('tradsys_heap_growth_steady', '1 while the heap grows steadily (enough samples, R² and slope over their minimums), else 0', (g) => g.set(fit?.growing ? 1 : 0));

  const started = now();
  const timer = setInterval(() => {
    lastP99 = eld.count > 0 ? eld.percentile(99) / 1e9 : 0;
    lastMax = eld.count > 0 ? eld.max / 1e9 : 0;
    eld.reset();
    if (afterGcMin !== Infinity) {
      lastAfterGc = afterGcMin;
      const t = now();
      if (t - started >= trend.opts.warmupMs) trend.add(t, afterGcMin);
      afterGcMin = Infinity;
      fit = trend.fit();
    }
  }, 1000);
  timer.unref();
  return {
    trend,
    loopDelay: () => ({ p99: lastP99, max: lastMax }),
    lastFit: () => fit,
    stop(): void { clearInterval(timer); obs.disconnect(); eld.disable(); },
  };
}

/** A heap snapshot written: its path and size. */
export interface HeapSnapshotResult { path: string; bytes: number }

/**
 * Writes `<dataDir>/heap-<UTC timestamp>.heapsnapshot` (v8.writeHeapSnapshot; blocks this thread
 * while it writes). Refuses with ERR_MONITOR_DISK_SPACE when the data folder's file system has
 * less free space than `minFreeBytes` (default: twice the heap in use + 64 MiB; a snapshot is
 * usually smaller than the heap). Allocates the snapshot (V8, off the JS heap).
 */
export function writeHeapSnapshotChecked(dataDir: string, opts: { minFreeBytes?: number; now?: Date } = {}): HeapSnapshotResult {
  const need = opts.minFreeBytes ?? 2 * process.memoryUsage().heapUsed + (64 << 20);
  const s = statfsSync(dataDir);
  const free = s.bavail * s.bsize;
  if (free < need) {
    throw new TradsysError('ERR_MONITOR_DISK_SPACE', `the data folder ${dataDir} has ${mib(free)} free; a heap snapshot needs at least ${mib(need)} (twice the heap in use + 64 MiB)`);
  }
  const stamp = (opts.now ?? new Date()).toISOString().replace(/:/g, '-');
  const path = writeHeapSnapshot(join(dataDir, `heap-${stamp}.heapsnapshot`));
  return { path, bytes: statSync(path).size };
}

function mib(b: number): string { return `${(b / (1 << 20)).toFixed(1)} MiB`; }
