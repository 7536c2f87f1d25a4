/**
 * Recording a stage latency allocates nothing: (1) on the main thread, 1,000,000 StageRecorder
 * records, the engine's hand-over (LatencyChannel.offer) and publish stamps, and the event pump's
 * staging calls run without a scavenge (a v8 GCProfiler around a synchronous loop: deterministic);
 * (2) in the engine thread with tracking on, 100,000 commands after warm-up allocate under 48 bytes
 * per command (EngineHost GC watch) and every command reaches the monitor. (2) is not "no
 * scavenge" like test/unit/engine-gc.test.ts: in some runs the engine loop stays in a lower JIT
 * tier, where doubles are boxed (the engine alone, tracking off, then allocates 16 B per command;
 * with tracking on 25-36 B; otherwise 0.4 and ~3 B): the bound catches an object per command, not
 * a boxed number. Known limitation, reported in docs/monitoring.md.
 * The clock reads (performance.now in nowNsInto) may allocate their 16-byte number (src/domain/clock.ts).
 * Counts of collections and bytes, not timing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GCProfiler } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { CMD_SIZE } from '../../src/abi/records.js';
import { EngineHost } from '../../src/engine/host.js';
import { generate } from '../../src/workload/generator.js';
import { LatencyChannel, LatencyMonitor, PublishStamps, S, StageRecorder } from '../../src/monitoring/latency.js';
import { GatewayStamps } from '../../src/monitoring/stamps.js';

async function feed(host: EngineHost, recs: Uint8Array, from: number, to: number): Promise<void> {
  for (let i = from; i < to;) {
    if (host.submitRawNow(recs, i * CMD_SIZE, 0, i + 1)) { i++; continue; }
    await new Promise((r) => setTimeout(r, 1));
  }
  const deadline = Date.now() + 60_000;
  while (host.lastSeq < to && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  expect(host.lastSeq).toBe(to);
}

function scavenges(run: () => void): number {
  const p = new GCProfiler();
  p.start();
  run();
  const r = p.stop() as { statistics: { gcType: string }[] };
  return r.statistics.filter((g) => g.gcType === 'Scavenge' || g.gcType === 'MinorMarkCompact').length;
}

describe('latency recording: no garbage', () => {
  it('engine thread with tracking on: 100,000 commands after warm-up, < 48 B per command; every command counted', async () => {
    const warm = 50_000;
    const n = 100_000;
    const recs = generate({ seed: 17, count: warm + n, symbols: 4, mix: 'default', feedback: false });
    const dir = mkdtempSync(join(tmpdir(), 'latency-gc-'));
    const mon = new LatencyMonitor();
    const ch = mon.channel();
    const pub = new PublishStamps();
    const host = await EngineHost.start({ engine: { symbols: 4, capacity: 400_000 }, commandSlots: 4096, batch: 256, journal: { dir, durability: 'none', snapshotEvery: 0 }, log: () => {}, latency: { channel: ch.sab, publish: pub.sab } });
    const timer = setInterval(() => mon.collect(), 100);
    try {
      await feed(host, recs, 0, warm);
      host.startGcWatch();
      await new Promise((r) => setTimeout(r, 50));
      await feed(host, recs, warm, warm + n);
      const r = await host.stopGcWatch();
      expect(r).not.toBeNull();
      expect(r!.others, JSON.stringify(r)).toBe(0);
      expect(r!.allocatedBytes / n, JSON.stringify(r)).toBeLessThan(48);
      const deadline = Date.now() + 5000;
      while (mon.histogram('ring_to_engine', 'start').totalCount < warm + n && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      expect(mon.histogram('ring_to_engine', 'start').totalCount).toBe(warm + n);
      // the batch stages are stamped on sampled batches (every batch ≥ 16 commands or ≥ 1 ms apart, else 1 in 8)
      for (const st of ['engine_match', 'journal_durable', 'engine_to_publish']) {
        const c = mon.histogram(st, 'start').totalCount;
        expect(c, st).toBeGreaterThan((warm + n) / 8);
        expect(c, st).toBeLessThanOrEqual(warm + n);
      }
      expect(mon.histogram('journal_durable', 'start').totalCount).toBe(mon.histogram('engine_match', 'start').totalCount);
    } finally {
      clearInterval(timer);
      await host.stop();
    }
  }, 120_000);

  it('main thread: records, the hand-over, publish stamps and the pump\'s staging allocate nothing', () => {
    const rec = new StageRecorder();
    const pub = new PublishStamps();
    const reader = new PublishStamps(pub.sab);
    const mon = new LatencyMonitor();
    const ch = mon.channel();
    const worker = new LatencyChannel(ch.sab);
    const state = new Int32Array(ch.sab, 0, 1);
    const g = new GatewayStamps(rec, reader);
    const words = new Uint32Array(2);
    let seq = 0;
    const loop = (k: number): void => {
      for (let i = 0; i < k; i++) {
        rec.v[0] = (i * 7919) % 5_000_000 + 0.25; rec.add(S.engineMatch, 1);
        rec.record(S.ringToEngine, i % 3000);
        rec.recordCount(S.journalDurable, i % 100_000, 3);
        if ((i & 255) === 0) { seq += 256; pub.put(seq - 255, seq, i, 0); reader.find(seq - 3, words); }
        if ((i & 63) === 0) { g.report(seq); g.ack(i % 4000); g.marketData(seq); }
        if ((i & 65535) === 0) { worker.offer(rec); Atomics.store(state, 0, 0); } // the main thread's take is not on a hot path
      }
    };
    loop(300_000); // warm-up: compile everything first
    expect(scavenges(() => loop(1_000_000))).toBe(0);
    expect(rec.total(S.engineMatch)).toBeGreaterThan(0);
  });
});
