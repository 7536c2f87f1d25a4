// FeedRing (src/marketdata/feed/ring.ts): header layout as records.ts/records.h define it, wraparound,
// several readers at their own pace, overrun accounting (the writer never overtakes an active reader),
// reader and writer claims, the 2^32 crossing of the 64-bit words, and a reader in another thread.
import { describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { FEED_ENUMS, FEED_RING_HDR } from '../../src/abi/records.js';
import { FEED_READERS, FEED_RECORD, FEED_RING_HEADER, FeedRing, recQty, recSeq, recSymbol, type FeedRingWriter } from '../../src/marketdata/feed/ring.js';
import { R } from '../../src/marketdata/feed/codec.js';

const DGRAM = FEED_ENUMS.FeedPath.DGRAM;

/** Writes one record with feed seq `seq` (qty = seq mod 2^32, symbol = seq & 0xff); returns false on overrun. */
function put(w: FeedRingWriter, seq: number): boolean {
  const o = w.claim();
  if (o < 0) return false;
  const dv = w.ring.dv;
  dv.setUint8(o + R.type, 65);
  dv.setUint32(o + R.symbol, seq & 0xff, true);
  dv.setUint32(o + R.seq, seq % 2 ** 32, true);
  dv.setUint32(o + R.seq + 4, Math.floor(seq / 2 ** 32), true);
  dv.setUint32(o + R.qty, seq % 2 ** 32, true);
  w.commit(seq);
  return true;
}

function readAll(r: ReturnType<FeedRing['openReader']>): number[] {
  const out: number[] = [];
  const n = r.available();
  for (let k = 0; k < n; k++) out.push(recSeq(r.ring.dv, r.at(k)));
  r.consume(n);
  return out;
}

const off = (name: string): number => FEED_RING_HDR.fields.find((f) => f.name === name)!.offset;

describe('FeedRing', () => {
  it('lays out the header as FeedRingHdr (records.h): magic, version, capacity, record size, readers, cursors ~0', () => {
    const ring = FeedRing.create(8);
    const dv = new DataView(ring.sab);
    expect(ring.sab.byteLength).toBe(FEED_RING_HEADER + 8 * FEED_RECORD);
    expect(dv.getUint32(off('magic'), true)).toBe(FEED_ENUMS.FeedRing.MAGIC);
    expect(dv.getUint32(off('version'), true)).toBe(FEED_ENUMS.FeedRing.VERSION);
    expect(dv.getUint32(off('capacity'), true)).toBe(8);
    expect(dv.getUint32(off('recordSize'), true)).toBe(72);
    expect(dv.getUint32(off('readerMax'), true)).toBe(8);
    for (let i = 0; i < 8; i++) expect(dv.getBigUint64(off(`cursor${i}`), true)).toBe(2n ** 64n - 1n);
    const r = ring.openReader();
    expect(dv.getBigUint64(off(`cursor${r.slot}`), true)).toBe(0n);
    const w = ring.openWriter(DGRAM);
    expect(dv.getUint32(off('writerPath'), true)).toBe(DGRAM);
    put(w, 11); put(w, 12); w.publish();
    expect(dv.getBigUint64(off('writeSeq'), true)).toBe(2n);
    expect(dv.getBigUint64(off('lastSeq'), true)).toBe(12n);
    r.consume(1);
    expect(dv.getBigUint64(off(`cursor${r.slot}`), true)).toBe(1n);
    r.close();
    expect(dv.getBigUint64(off(`cursor${r.slot}`), true)).toBe(2n ** 64n - 1n);
    w.close();
    expect(dv.getUint32(off('writerPath'), true)).toBe(0);
  });

  it('refuses bad capacities and foreign buffers (ERR_FEED_CONFIG / ERR_FEED_RING)', () => {
    for (const c of [0, 1, 3, 100, 2 ** 25]) expect(() => FeedRing.create(c)).toThrow(expect.objectContaining({ code: 'ERR_FEED_CONFIG' }));
    expect(() => FeedRing.attach(new SharedArrayBuffer(512))).toThrow(expect.objectContaining({ code: 'ERR_FEED_RING' }));
    const ring = FeedRing.create(4);
    const wrong = new SharedArrayBuffer(ring.sab.byteLength);
    new Uint8Array(wrong).set(new Uint8Array(ring.sab));
    new DataView(wrong).setUint32(off('version'), 99, true);
    expect(() => FeedRing.attach(wrong)).toThrow(/version/);
    const short = new SharedArrayBuffer(FEED_RING_HEADER + 2 * FEED_RECORD);
    new Uint8Array(short).set(new Uint8Array(ring.sab, 0, FEED_RING_HEADER));
    expect(() => FeedRing.attach(short)).toThrow(/capacity/);
    expect(FeedRing.attach(ring.sab).capacity).toBe(4);
  });

  it('one writer at a time; at most 8 readers', () => {
    const ring = FeedRing.create(4);
    const w = ring.openWriter(DGRAM);
    expect(() => ring.openWriter(FEED_ENUMS.FeedPath.RECVMMSG)).toThrow(/already has a writer \(path 3\)/);
    w.close();
    ring.openWriter(FEED_ENUMS.FeedPath.RECVMMSG).close();
    const rs = Array.from({ length: FEED_READERS }, () => ring.openReader());
    expect(new Set(rs.map((r) => r.slot)).size).toBe(8);
    expect(() => ring.openReader()).toThrow(expect.objectContaining({ code: 'ERR_FEED_RING' }));
    rs[3]!.close();
    expect(ring.openReader().slot).toBe(3);
  });

  it('wraps around many times; readers see every record once, in order', () => {
    const ring = FeedRing.create(8);
    const r = ring.openReader();
    const w = ring.openWriter(DGRAM);
    const seen: number[] = [];
    let seq = 1;
    for (let round = 0; round < 100; round++) {
      const n = 1 + (round * 7) % 8; // 1..8 per round, never more than the ring
      for (let i = 0; i < n; i++) expect(put(w, seq++)).toBe(true);
      w.publish();
      seen.push(...readAll(r));
    }
    expect(seen).toEqual(Array.from({ length: seq - 1 }, (_, i) => i + 1));
    expect(ring.overruns).toBe(0);
    expect(ring.writeSeq).toBe(seq - 1);
  });

  it('never overwrites what the slowest active reader has not read: drops and counts overruns', () => {
    const ring = FeedRing.create(4);
    const fast = ring.openReader();
    const slow = ring.openReader();
    const w = ring.openWriter(DGRAM);
    const wrote: boolean[] = [];
    for (let s = 1; s <= 6; s++) { wrote.push(put(w, s)); readAll(fast); }
    w.publish();
    readAll(fast);
    expect(wrote).toEqual([true, true, true, true, false, false]);
    expect(ring.overruns).toBe(2);
    expect(readAll(slow)).toEqual([1, 2, 3, 4]); // intact
    // now the slow reader has caught up: writing resumes; the jump in seq shows the loss
    expect(put(w, 7)).toBe(true);
    w.publish();
    expect(readAll(slow)).toEqual([7]);
    expect(readAll(fast)).toEqual([7]);
    slow.close();
    // only the fast reader is left, and it keeps up: no more overruns
    for (let s = 8; s < 40; s++) { expect(put(w, s)).toBe(true); w.publish(); readAll(fast); }
    expect(ring.overruns).toBe(2);
  });

  it('with no reader the writer never blocks (records are overwritten, nobody misses them)', () => {
    const ring = FeedRing.create(4);
    const w = ring.openWriter(DGRAM);
    for (let s = 1; s <= 50; s++) { expect(put(w, s)).toBe(true); if (s % 3 === 0) w.publish(); }
    w.publish();
    expect(ring.overruns).toBe(0);
    const r = ring.openReader(); // joins at the live edge
    expect(r.available()).toBe(0);
    put(w, 51); w.publish();
    expect(readAll(r)).toEqual([51]);
  });

  it('poll copies records out and consumes them', () => {
    const ring = FeedRing.create(8);
    const r = ring.openReader();
    const w = ring.openWriter(DGRAM);
    for (let s = 1; s <= 6; s++) put(w, s);
    w.publish();
    const dst = new Uint8Array(4 * FEED_RECORD);
    expect(r.poll(dst, 0, 10)).toBe(4);
    const dv = new DataView(dst.buffer);
    expect([0, 1, 2, 3].map((k) => recSeq(dv, k * FEED_RECORD))).toEqual([1, 2, 3, 4]);
    expect(r.available()).toBe(2);
  });

  it('crosses 2^32 records without a torn 64-bit word (writeSeq, cursors, lastSeq)', () => {
    const ring = FeedRing.create(8);
    const big = new BigUint64Array(ring.sab, 0, 32);
    const start = 2 ** 32 - 5;
    big[off('writeSeq') / 8] = BigInt(start);
    const r = ring.openReader();
    expect(r.cursor).toBe(start);
    const w = ring.openWriter(DGRAM);
    const seen: number[] = [];
    for (let s = 0; s < 20; s++) { put(w, start + s); w.publish(); seen.push(...readAll(r)); }
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => start + i));
    const dv = new DataView(ring.sab);
    expect(dv.getBigUint64(off('writeSeq'), true)).toBe(BigInt(start + 20));
    expect(dv.getBigUint64(off(`cursor${r.slot}`), true)).toBe(BigInt(start + 20));
    expect(ring.lastSeq).toBe(start + 19);
  });

  it('a reader in another thread sees every record in order while the writer runs', async () => {
    const ring = FeedRing.create(64);
    const N = 20_000;
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      const sab = workerData.sab; const i32 = new Int32Array(sab, 0, 64); const dv = new DataView(sab);
      const slot = workerData.slot; const cap = 64; let pos = 0; let expect = 1; let bad = 0; const N = workerData.n;
      const deadline = Date.now() + 60000;
      while (expect <= N && Date.now() < deadline) {
        const w = Atomics.load(i32, 16);
        const n = (w - pos) >>> 0;
        for (let k = 0; k < n; k++) {
          const o = 256 + ((pos + k) & (cap - 1)) * 72;
          const seq = dv.getUint32(o + 8, true);
          if (seq !== expect) bad++;
          expect = seq + 1;
        }
        pos += n;
        Atomics.store(i32, 32 + 2 * slot, pos);
      }
      parentPort.postMessage({ bad, last: expect - 1 });`;
    const r = ring.openReader(); // claim the slot here; the worker advances its cursor
    const worker = new Worker(code, { eval: true, workerData: { sab: ring.sab, slot: r.slot, n: N } });
    const done = new Promise<{ bad: number; last: number }>((res, rej) => { worker.once('message', res); worker.once('error', rej); });
    const w = ring.openWriter(DGRAM);
    let s = 1;
    const t0 = Date.now();
    while (s <= N && Date.now() - t0 < 60_000) {
      if (put(w, s)) s++;
      if (s % 16 === 0 || s > N) w.publish();
      else if (w.claim() < 0) { w.publish(); await new Promise((res) => setImmediate(res)); }
    }
    w.publish();
    const res = await done;
    await worker.terminate();
    expect(res).toEqual({ bad: 0, last: N });
    expect(recSymbol(ring.dv, ring.offsetOf(N - 1))).toBe(N & 0xff);
    expect(recQty(ring.dv, ring.offsetOf(N - 1))).toBe(N);
  });
});
