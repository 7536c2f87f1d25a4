/**
 * The engine on its own thread: commands through the MPSC ring, events back through the SPMC
 * ring, each tagged with its command's contiguous seq, origin and token — and the same events as
 * the in-process engine.
 */
import { describe, expect, it } from 'vitest';
import { EngineHost } from '../../src/engine/host.js';
import { Engine, decodeCommand, eventLineAt } from '../../src/engine/engine.js';
import { generate } from '../../src/gen/generator.js';
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
