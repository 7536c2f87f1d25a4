/**
 * Rings under contention (real threads): no loss, no duplicate, order kept per producer (MPSC);
 * every consumer sees every record once, in order, and the producer never overtakes (SPMC).
 */
import { describe, expect, it } from 'vitest';
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../support/ts-worker.js';
import { MpscRing } from '../../src/ring/mpsc-ring.js';
import { SpmcRing } from '../../src/ring/spmc-ring.js';

const WORKER = new URL('../support/ring-worker.ts', import.meta.url);
function start(data: Record<string, unknown>): Worker {
  return startTsWorker(WORKER, data);
}
const settle = (w: Worker): Promise<unknown> => new Promise((res, rej) => {
  w.on('message', (m) => { if (m !== 'joined') res(m); });
  w.on('error', rej);
});

describe('MPSC command ring', () => {
  it('publishes the consumer position: a producer sees which of its pushes were taken (lastPos, taken), across a lap', () => {
    const producer = MpscRing.create(4, 8);
    const consumer = new MpscRing(producer.sab);
    const rec = new Uint8Array(8);
    const out = new Uint8Array(8 * 4);
    const pos: number[] = [];
    for (let lap = 0; lap < 3; lap++) {
      for (let i = 0; i < 3; i++) { expect(producer.tryPush(rec)).toBe(true); pos.push(producer.lastPos); }
      const mine = pos.slice(-3);
      expect(mine).toEqual([lap * 3, lap * 3 + 1, lap * 3 + 2]);
      for (const p of mine) expect(producer.taken(p)).toBe(false);
      expect(consumer.poll(out, 0, 2)).toBe(2);
      expect(mine.map((p) => producer.taken(p))).toEqual([true, true, false]);
      expect(consumer.poll(out, 0, 4)).toBe(1);
      expect(producer.taken(mine[2]!)).toBe(true);
    }
  });

  it('refuses bad geometry and foreign buffers', () => {
    expect(() => MpscRing.create(1000, 32)).toThrow(/power of two/);
    expect(() => MpscRing.create(1024, 12)).toThrow(/multiple of 8/);
    expect(() => new MpscRing(new SharedArrayBuffer(256))).toThrow(/not an MPSC ring/);
  });

  it('reports full instead of overwriting, and frees slots as they are read', () => {
    const r = MpscRing.create(4, 8);
    const rec = new Uint8Array(8);
    for (let i = 0; i < 4; i++) { rec[0] = i; expect(r.tryPush(rec)).toBe(true); }
    rec[0] = 9;
    expect(r.tryPush(rec)).toBe(false);
    const out = new Uint8Array(16);
    expect(r.poll(out, 0, 2)).toBe(2);
    expect([out[0], out[8]]).toEqual([0, 1]);
    expect(r.tryPush(rec)).toBe(true);
    expect(r.poll(out, 0, 16 / 8)).toBe(2);
    expect([out[0], out[8]]).toEqual([2, 3]);
    expect(r.poll(out, 0, 2)).toBe(1);
    expect(out[0]).toBe(9);
    expect(r.ready()).toBe(false);
    expect(r.waitReady(5)).toBe(false);
  });

  it('3 producer threads × 100,000 records through 1,024 slots: none lost, none twice, each in order', async () => {
    const ring = MpscRing.create(1024, 16);
    const N = 100_000;
    const workers = [0, 1, 2].map((p) => start({ role: 'mpsc-producer', sab: ring.sab, count: N, producer: p }));
    const done = Promise.all(workers.map(settle));
    const next = [0, 0, 0];
    const buf = new Uint8Array(16 * 256);
    const dv = new DataView(buf.buffer);
    let total = 0;
    let disorder = 0;
    const deadline = Date.now() + 60_000;
    while (total < 3 * N && Date.now() < deadline) {
      if (!ring.waitReady(50)) continue;
      const n = ring.poll(buf, 0, 256);
      for (let i = 0; i < n; i++) {
        const p = dv.getUint32(i * 16, true);
        const seq = dv.getUint32(i * 16 + 4, true);
        if (seq !== next[p]) disorder++;
        next[p] = seq + 1;
      }
      total += n;
    }
    await done;
    expect(disorder).toBe(0);
    expect(next).toEqual([N, N, N]);
    expect(total).toBe(3 * N);
    expect(ring.ready()).toBe(false);
  }, 90_000);
});

describe('SPMC event ring', () => {
  it('refuses a 17th consumer and lets one leave', () => {
    const r = SpmcRing.create(8, 8);
    const ids = Array.from({ length: 16 }, () => r.join());
    expect(new Set(ids).size).toBe(16);
    expect(() => r.join()).toThrow(/at most 16 consumers/);
    r.leave(ids[3]!);
    expect(r.join()).toBe(ids[3]);
  });

  it('never overtakes a slow consumer', () => {
    const r = SpmcRing.create(4, 8);
    const c = r.join();
    const src = new Uint8Array(8 * 6);
    for (let i = 0; i < 6; i++) src[i * 8] = i;
    expect(r.tryPublish(src, 0, 6)).toBe(4);
    expect(r.tryPublish(src, 32, 2)).toBe(0);
    const out = new Uint8Array(8 * 4);
    expect(r.poll(c, out, 0, 3)).toBe(3);
    expect([out[0], out[8], out[16]]).toEqual([0, 1, 2]);
    expect(r.tryPublish(src, 32, 2)).toBe(2);
    expect(r.poll(c, out, 0, 4)).toBe(3);
    expect([out[0], out[8], out[16]]).toEqual([3, 4, 5]);
  });

  it('a producer thread and 3 consumer threads, 200,000 records through 256 slots: each consumer gets all, in order', async () => {
    const ring = SpmcRing.create(256, 16);
    const N = 200_000;
    const consumers = [0, 1, 2].map(() => start({ role: 'spmc-consumer', sab: ring.sab, count: N }));
    await Promise.all(consumers.map((w) => new Promise<void>((res, rej) => { w.once('message', () => res()); w.once('error', rej); })));
    const results = consumers.map((w) => new Promise<unknown>((res, rej) => { w.on('message', res); w.on('error', rej); }));
    const producer = start({ role: 'spmc-producer', sab: ring.sab, count: N, batch: 50 });
    await settle(producer);
    expect(await Promise.all(results)).toEqual([{ ok: true, got: N }, { ok: true, got: N }, { ok: true, got: N }]);
  }, 90_000);
});
