/**
 * Worker for the ring contention tests: `mpsc-producer` pushes `count` records tagged
 * (producer, i); `spmc-producer` publishes `count` records carrying i; `spmc-consumer` reads
 * until it has `count` records and reports whether they were 0..count-1 in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MpscRing } from '../../src/ring/mpsc-ring.js';
import { SpmcRing } from '../../src/ring/spmc-ring.js';

const d = workerData as { role: string; sab: SharedArrayBuffer; count: number; producer?: number; batch?: number };

if (d.role === 'mpsc-producer') {
  const ring = new MpscRing(d.sab);
  const rec = new Uint8Array(ring.slotBytes);
  const dv = new DataView(rec.buffer);
  for (let i = 0; i < d.count; i++) {
    dv.setUint32(0, d.producer!, true);
    dv.setUint32(4, i, true);
    if (!ring.push(rec, 0, 10_000)) throw new Error(`producer ${d.producer}: ring stayed full`);
  }
  parentPort!.postMessage('done');
} else if (d.role === 'spmc-producer') {
  const ring = new SpmcRing(d.sab);
  const b = d.batch ?? 64;
  const buf = new Uint8Array(ring.slotBytes * b);
  const dv = new DataView(buf.buffer);
  for (let i = 0; i < d.count; i += b) {
    const k = Math.min(b, d.count - i);
    for (let j = 0; j < k; j++) dv.setUint32(j * ring.slotBytes, i + j, true);
    if (ring.publish(buf, 0, k, 10_000) !== k) throw new Error('consumers stalled');
  }
  parentPort!.postMessage('done');
} else if (d.role === 'spmc-consumer') {
  const ring = new SpmcRing(d.sab);
  const id = ring.join();
  parentPort!.postMessage('joined');
  const buf = new Uint8Array(ring.slotBytes * 100);
  const dv = new DataView(buf.buffer);
  let expect = 0;
  let ok = true;
  const deadline = Date.now() + 20_000;
  while (expect < d.count && Date.now() < deadline) {
    if (!ring.waitReady(id, 50)) continue;
    const n = ring.poll(id, buf, 0, 100);
    for (let j = 0; j < n; j++) { if (dv.getUint32(j * ring.slotBytes, true) !== expect) ok = false; expect++; }
  }
  ring.leave(id);
  parentPort!.postMessage({ ok, got: expect });
}
