/**
 * The engine on its own thread: commands through the MPSC ring, events back through the SPMC
 * ring, each tagged with its command's contiguous seq, origin and token — and the same events as
 * the in-process engine.
 */
import { describe, expect, it } from 'vitest';
import { EngineHost } from '../../src/engine/host.js';
import { Engine, decodeCommand, eventLineAt } from '../../src/engine/engine.js';
import { generate } from '../../src/workload/generator.js';
import { CMD_SIZE, RING_EVT_SIZE, RING_EVT_OFF } from '../../src/abi/records.js';

describe('EngineHost (engine thread behind rings)', () => {
  it('sequences commands from 1, tags events with seq/origin/token, and matches the in-process engine', async () => {
    const n = 20_000;
    const recs = generate({ seed: 12, count: n, symbols: 4, mix: 'default', feedback: false });
    const host = await EngineHost.start({ engine: { symbols: 4, capacity: 50_000 }, commandSlots: 1024, eventSlots: 4096, batch: 256 });
    try {
      const reader = host.evtRing.join();
      const ref = new Engine({ symbols: 4, capacity: 50_000 });
      const want: string[] = [];
      ref.submitRaw(recs, 0, n, (v, _b, k) => { for (let i = 0; i < k; i++) want.push(eventLineAt(v, i * 64)); });
      const got: string[] = [];
      const buf = new Uint8Array(RING_EVT_SIZE * 512);
      const dv = new DataView(buf.buffer);
      let lastSeq = 0;
      let badSeq = 0;
      let badTag = 0;
      const drain = (): void => {
        const k = host.evtRing.poll(reader, buf, 0, 512);
        for (let i = 0; i < k; i++) {
          const b = i * RING_EVT_SIZE;
          const seq = Number(dv.getBigUint64(b + RING_EVT_OFF.seq, true));
          if (seq !== lastSeq && seq !== lastSeq + 1) badSeq++;
          lastSeq = seq;
          if (dv.getUint32(b + RING_EVT_OFF.origin, true) !== 7 || dv.getUint32(b + RING_EVT_OFF.token, true) !== seq) badTag++;
          got.push(eventLineAt(dv, b + RING_EVT_OFF.evtType));
        }
      };
      const dv0 = new DataView(recs.buffer);
      for (let i = 0; i < n; i++) {
        // token = the seq the engine will give this command (one producer, so order is kept)
        while (!host.submit(decodeCommand(dv0, i * CMD_SIZE), 7, i + 1)) drain();
        if ((i & 255) === 0) drain();
      }
      const deadline = Date.now() + 20_000;
      while (got.length < want.length && Date.now() < deadline) {
        if (host.evtRing.waitReady(reader, 50)) drain();
      }
      expect(badSeq).toBe(0);
      expect(badTag).toBe(0);
      expect(lastSeq).toBe(n);
      expect(host.lastSeq).toBe(n);
      expect(got.length).toBe(want.length);
      expect(got).toEqual(want);
    } finally {
      await host.stop();
    }
  }, 60_000);
});

describe('EngineHost with a journal', () => {
  it('publishes a batch only after it is durable; a failed write fences the engine (no event of the failed batch, ever); recovery resumes after the last durable command', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'host-j-'));
    const recs = generate({ seed: 3, count: 10, symbols: 2, mix: 'aggressive', feedback: false });
    const dv0 = new DataView(recs.buffer);
    const logs: string[] = [];
    const host = await EngineHost.start({ engine: { symbols: 2, capacity: 1000 }, journal: { dir, failAfterCommits: 2, failErrno: 'ENOSPC' }, log: (l) => logs.push(l) });
    const reader = host.evtRing.join();
    const buf = new Uint8Array(RING_EVT_SIZE * 64);
    const dv = new DataView(buf.buffer);
    const seen = new Set<number>();
    const drainFor = async (ms: number): Promise<void> => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        const k = host.evtRing.poll(reader, buf, 0, 64);
        for (let i = 0; i < k; i++) seen.add(Number(dv.getBigUint64(i * RING_EVT_SIZE + RING_EVT_OFF.seq, true)));
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    // one command per batch: commits 1 and 2 succeed, the third fails
    for (let i = 0; i < 3; i++) {
      expect(host.submit(decodeCommand(dv0, i * CMD_SIZE))).toBe(true);
      await drainFor(150);
    }
    expect([...seen].sort()).toEqual([1, 2]);
    expect(host.failed).toMatch(/ENOSPC.*fenced/);
    expect(() => host.submit(decodeCommand(dv0, 3 * CMD_SIZE))).toThrow(/engine thread failed/);
    await drainFor(100);
    expect([...seen].sort()).toEqual([1, 2]);
    await host.stop();
    // restart without the fault: the journal ends at seq 2 (the failed batch was never acknowledged)
    const again = await EngineHost.start({ engine: { symbols: 2, capacity: 1000 }, journal: { dir }, log: (l) => logs.push(l) });
    expect(again.recovery?.lastSeq).toBe(2);
    expect(again.lastSeq).toBe(2);
    expect(again.submit(decodeCommand(dv0, 3 * CMD_SIZE))).toBe(true);
    const r2 = again.evtRing.join();
    for (let i = 0; i < 100 && again.lastSeq < 3; i++) await new Promise((r) => setTimeout(r, 10));
    expect(again.lastSeq).toBe(3);
    void r2;
    await again.stop();
  }, 60_000);
});
