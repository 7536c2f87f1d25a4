/**
 * The heap trend detector (least squares over a sliding window, minimum R²) on synthetic series —
 * checked against Anscombe's published regression figures — and the memory series a registry gets
 * from registerMemoryMetrics.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { HeapTrend, registerMemoryMetrics, writeHeapSnapshotChecked } from '../../src/monitoring/memory.js';
import { sampleValue } from '../support/prom-text.js';
import { prng } from '../../src/workload/prng.js';
import { TradsysError } from '../../src/domain/errors.js';
import { instantiateStats, wasmInstanceMemory } from '../../src/engine/wasm.js';

const MB = 1 << 20;

/** Feeds `f(t)` (t in s) once a second for `seconds` s from `from`. */
function feed(tr: HeapTrend, seconds: number, f: (t: number) => number, from = 0): void {
  for (let t = from; t < from + seconds; t++) tr.add(t * 1000, f(t));
}

describe('HeapTrend', () => {
  it('matches the published least-squares figures of Anscombe\'s quartet, set I (slope 0.5001, intercept 3.0001, R² 0.6665)', () => {
    const x = [10, 8, 13, 9, 11, 14, 6, 4, 12, 7, 5];
    const y = [8.04, 6.95, 7.58, 8.81, 8.33, 9.96, 7.24, 4.26, 10.84, 4.82, 5.68];
    const tr = new HeapTrend({ minSamples: 3, minSlopeBytesPerSecond: 0.4, minR2: 0.6 });
    for (const i of x.map((_, i) => i).sort((a, b) => x[a]! - x[b]!)) tr.add(x[i]! * 1000, y[i]!);
    const f = tr.fit()!;
    expect(f.n).toBe(11);
    expect(f.slope).toBeCloseTo(0.5001, 4);
    expect(f.intercept - f.slope * 4).toBeCloseTo(3.0001, 4); // the fit's intercept is at the first sample (x = 4)
    expect(f.r2).toBeCloseTo(0.6665, 4);
    expect(f.growing).toBe(true);
    expect(new HeapTrend({ minSamples: 3, minR2: 0.7, minSlopeBytesPerSecond: 0.4 }).fit()).toBeNull();
  });

  it('a straight line up is steady growth with R² 1 and its exact slope', () => {
    const tr = new HeapTrend();
    feed(tr, 60, (t) => 100 * MB + 50 * 1024 * t);
    const f = tr.fit()!;
    expect(f.slope).toBeCloseTo(50 * 1024, 6);
    expect(f.r2).toBeCloseTo(1, 12);
    expect(f.growing).toBe(true);
  });

  it('noisy growth is found; noise around a level, a GC sawtooth, and slow growth are not', () => {
    const r = prng(17);
    const noise = (sd: number): number => { let s = 0; for (let i = 0; i < 12; i++) s += r(); return (s - 6) * sd; }; // ≈ normal
    const leak = new HeapTrend();
    feed(leak, 300, (t) => 80 * MB + 40 * 1024 * t + noise(1 * MB)); // 40 KiB/s, sd 1 MiB
    const lf = leak.fit()!;
    expect(lf.growing).toBe(true);
    expect(Math.abs(lf.slope / (40 * 1024) - 1)).toBeLessThan(0.05);
    expect(lf.r2).toBeGreaterThan(0.9);

    const level = new HeapTrend();
    feed(level, 300, () => 80 * MB + noise(4 * MB));
    expect(level.fit()!.growing).toBe(false);
    expect(level.fit()!.r2).toBeLessThan(0.1);

    const saw = new HeapTrend(); // allocation fills 20 MiB and a GC empties it, every 30 s
    feed(saw, 300, (t) => 80 * MB + ((t % 30) / 30) * 20 * MB);
    expect(saw.fit()!.growing).toBe(false);
    expect(Math.abs(saw.fit()!.slope)).toBeLessThan(16 * 1024);

    const slow = new HeapTrend(); // a clean line, but under the minimum slope (1 KiB/s)
    feed(slow, 300, (t) => 80 * MB + 1024 * t);
    expect(slow.fit()!.r2).toBeCloseTo(1, 9);
    expect(slow.fit()!.growing).toBe(false);
  });

  it('needs minSamples; old samples leave the window, so growth that stopped is no longer reported', () => {
    const tr = new HeapTrend({ windowMs: 60_000, minSamples: 20 });
    feed(tr, 19, (t) => 100 * MB + 100 * 1024 * t);
    expect(tr.fit()!.growing).toBe(false); // 19 samples
    feed(tr, 41, (t) => 100 * MB + 100 * 1024 * t, 19);
    expect(tr.fit()!.growing).toBe(true);
    const top = 100 * MB + 100 * 1024 * 59;
    feed(tr, 61, () => top, 60); // flat for a whole window
    expect(tr.size).toBeLessThanOrEqual(61);
    expect(tr.fit()!.slope).toBe(0);
    expect(tr.fit()!.growing).toBe(false);
  });

  it('keeps at most maxSamples and refuses bad settings', () => {
    const tr = new HeapTrend({ maxSamples: 50 });
    feed(tr, 500, (t) => t);
    expect(tr.size).toBe(50);
    expect(() => new HeapTrend({ minR2: 1.5 })).toThrow(TradsysError);
    expect(() => new HeapTrend({ windowMs: 0 })).toThrow(/windowMs must be a positive number/);
    expect(() => new HeapTrend({ minSamples: 2 })).toThrow(/minSamples must be at least 3/);
  });
});

describe('registerMemoryMetrics', () => {
  it('exposes the process figures, the sources\' figures and the GC histogram', async () => {
    const registry = new Registry();
    const dir = mkdtempSync(join(tmpdir(), 'mem-'));
    const m = registerMemoryMetrics(registry, {
      wasm: () => [{ role: 'stats', instances: 2, bytes: 3 * 65536 }],
      engine: () => ({ orders: { capacity: 1000, inUse: 10, highWater: 40 }, levels: { capacity: 200, inUse: 3, highWater: 9 }, wasmBytes: 1 << 24, turnMaxSeconds: 0.002, heapUsedBytes: 5 * MB }),
      workers: () => [{ thread: 'storage_writer', loopDelayP99Seconds: 0.0015, heapUsedBytes: 7 * MB }],
      rings: () => ({ command: 0.25, event: 0.5 }),
      journalDir: dir,
    });
    try {
      (globalThis as { gc?: () => void }).gc?.();
      const text = await registry.metrics();
      expect(sampleValue(text, 'tradsys_heap_used_bytes')).toBeGreaterThan(MB);
      expect(sampleValue(text, 'tradsys_heap_total_bytes')).toBeGreaterThanOrEqual(sampleValue(text, 'tradsys_heap_used_bytes')!);
      expect(sampleValue(text, 'tradsys_rss_bytes')).toBeGreaterThan(sampleValue(text, 'tradsys_heap_used_bytes')!);
      expect(sampleValue(text, 'tradsys_external_bytes')).toBeGreaterThan(0);
      expect(sampleValue(text, 'tradsys_array_buffers_bytes')).toBeGreaterThanOrEqual(0);
      expect(sampleValue(text, 'tradsys_wasm_memory_bytes', { thread: 'main', role: 'stats' })).toBe(3 * 65536);
      expect(sampleValue(text, 'tradsys_wasm_memory_bytes', { thread: 'engine', role: 'book' })).toBe(1 << 24);
      expect(sampleValue(text, 'tradsys_engine_pool_high_water', { pool: 'orders' })).toBe(40);
      expect(sampleValue(text, 'tradsys_engine_pool_capacity', { pool: 'levels' })).toBe(200);
      expect(sampleValue(text, 'tradsys_engine_pool_in_use', { pool: 'levels' })).toBe(3);
      expect(sampleValue(text, 'tradsys_thread_heap_used_bytes', { thread: 'storage_writer' })).toBe(7 * MB);
      expect(sampleValue(text, 'tradsys_event_loop_delay_p99_seconds', { thread: 'storage_writer' })).toBe(0.0015);
      expect(sampleValue(text, 'tradsys_event_loop_delay_max_seconds', { thread: 'engine' })).toBe(0.002);
      expect(sampleValue(text, 'tradsys_ring_fill_ratio', { ring: 'event' })).toBe(0.5);
      expect(sampleValue(text, 'tradsys_journal_disk_free_bytes')).toBeGreaterThan(0);
      const ratio = sampleValue(text, 'tradsys_journal_disk_free_ratio')!;
      expect(ratio > 0 && ratio <= 1).toBe(true);
      expect(text).toContain('# TYPE tradsys_gc_pause_seconds histogram');
      expect(sampleValue(text, 'tradsys_heap_growth_steady')).toBe(0);
    } finally {
      m.stop();
    }
  });
});

describe('wasmInstanceMemory', () => {
  it('lists this thread\'s live WASM instances by role with their linear memory', () => {
    const before = wasmInstanceMemory().find((w) => w.role === 'stats')?.instances ?? 0;
    const a = instantiateStats();
    const b = instantiateStats();
    const stats = wasmInstanceMemory().find((w) => w.role === 'stats')!;
    expect(stats.instances).toBe(before + 2);
    expect(stats.bytes).toBeGreaterThanOrEqual(a.memory.buffer.byteLength + b.memory.buffer.byteLength);
  });
});

describe('writeHeapSnapshotChecked', () => {
  it('refuses with ERR_MONITOR_DISK_SPACE and both figures when the folder has too little free space, and writes nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'heap-'));
    let e: unknown;
    try { writeHeapSnapshotChecked(dir, { minFreeBytes: Number.MAX_SAFE_INTEGER }); } catch (x) { e = x; }
    expect(e).toBeInstanceOf(TradsysError);
    expect((e as TradsysError).code).toBe('ERR_MONITOR_DISK_SPACE');
    expect((e as Error).message).toMatch(/has [\d.]+ MiB free; a heap snapshot needs at least [\d.]+ MiB/);
    expect(readdirSync(dir)).toEqual([]);
  });
});
