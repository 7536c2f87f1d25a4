/**
 * Recording a stage latency allocates nothing: (1) in the engine thread, 100,000 commands after
 * warm-up with latency tracking on (ring_to_engine per command, the batch stages, publish stamps,
 * the once-a-second offer through its LatencyChannel) run without one young-generation collection
 * in that thread (EngineHost GC watch), and every command reaches the monitor; (2) on the main
 * thread, 1,000,000 StageRecorder records and 100,000 rounds of the gateway's stamp calls run
 * without a scavenge (a v8 GCProfiler around a synchronous loop). Counts of collections, not timing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GCProfiler } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { CMD_SIZE } from '../../src/abi/records.js';
import { EngineHost } from '../../src/engine/host.js';
import { generate } from '../../src/workload/generator.js';
import { LatencyMonitor, PublishStamps, S, StageRecorder } from '../../src/monitoring/latency.js';
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
  it('engine thread with tracking on: 100,000 commands after warm-up, no scavenge; every command counted', async () => {
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
      // at least one offer inside the watch (they come once a second)
      await new Promise((r) => setTimeout(r, 1200));
      const r = await host.stopGcWatch();
      expect(r).not.toBeNull();
      expect(r!.scavenges).toBe(0);
      expect(r!.others).toBe(0);
      const deadline = Date.now() + 5000;
      while (mon.histogram('engine_to_publish', 'start').totalCount < warm + n && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
      for (const st of ['ring_to_engine', 'engine_match', 'journal_durable', 'engine_to_publish']) expect(mon.histogram(st, 'start').totalCount, st).toBe(warm + n);
    } finally {
      clearInterval(timer);
      await host.stop();
    }
  }, 120_000);

  it('main thread: records and gateway stamps allocate nothing', () => {
    const rec = new StageRecorder();
    const pub = new PublishStamps();
    for (let i = 0; i < 5000; i++) pub.put(i * 10 + 1, i * 10 + 10, i, 0);
    const g = new GatewayStamps(rec, new PublishStamps(pub.sab));
    const loop = (k: number): void => {
      for (let i = 0; i < k; i++) { rec.record(S.engineMatch, (i * 7919) % 5_000_000); rec.recordCount(S.journalDurable, i % 100_000, 3); }
      for (let i = 0; i < k / 10; i++) {
        g.frameIn(); g.decoded(); g.enqueued(); g.awaitAck(i % 4000); g.frameDone();
        g.report(i % 40_000 + 1); g.ack(i % 4000); g.marketData(i % 40_000 + 1);
        if (i % 16 === 0) g.flushed();
      }
    };
    loop(200_000); // warm-up: compile everything first
    expect(scavenges(() => loop(1_000_000))).toBe(0);
    expect(rec.h[S.engineMatch]!.totalCount).toBe(1_200_000);
    expect(rec.h[S.orderToAck]!.totalCount).toBeGreaterThan(0);
  });
});
