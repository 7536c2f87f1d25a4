/**
 * Test double of the engine thread, in process: a real Engine and a real JournalWriter in a
 * directory, commands queued by `submit` and run in batches by `step`, each batch journaled
 * (one record per command, group commit) before its events are published as RING_EVT slots —
 * the same order and bytes as src/engine/worker.ts, without threads, so tests control time.
 */
import { CMD_SIZE, EVT_OFF, EVT_SIZE, RING_CMD_OFF, RING_CMD_SIZE, RING_EVT_OFF, RING_EVT_SIZE } from '../../src/abi/records.js';
import { Engine, type EngineOptions } from '../../src/engine/engine.js';
import type { Command } from '../../src/domain/types.js';
import { JournalWriter, recover } from '../../src/journal/index.js';
import { useWasmJournalVerifier } from '../../src/engine/journal-verifier.js';
import { RingAssembler, type SeqBatch } from '../../src/cqrs/events.js';
import type { LiveFeed } from '../../src/cqrs/subscriptions.js';
import { prng } from '../../src/workload/generator.js';

// like the engine thread and the gateway, read the journal with the WASM verifier (journal/ never imports engine/)
useWasmJournalVerifier();

export type SlotListener = (dv: DataView, count: number) => void;

export function encodeRingCmd(dv: DataView, p: number, c: Command, clientOrderId: string, origin = 0, token = 0, tsIn = 0n): void {
  dv.setUint8(p, c.op);
  dv.setUint8(p + 1, c.side);
  dv.setUint8(p + 2, c.type);
  dv.setUint8(p + 3, c.tif);
  dv.setUint32(p + 4, c.symbol, true);
  dv.setBigUint64(p + 8, c.id, true);
  dv.setBigInt64(p + 16, c.price, true);
  dv.setUint32(p + 24, c.qty, true);
  dv.setUint32(p + 28, c.account, true);
  dv.setUint32(p + RING_CMD_OFF.origin, origin, true);
  dv.setUint32(p + RING_CMD_OFF.token, token, true);
  dv.setBigInt64(p + RING_CMD_OFF.tsIn, tsIn, true);
  for (let i = RING_CMD_OFF.cidLen; i < RING_CMD_SIZE; i++) dv.setUint8(p + i, 0);
  dv.setUint8(p + RING_CMD_OFF.cidLen, clientOrderId.length);
  for (let i = 0; i < clientOrderId.length; i++) dv.setUint8(p + RING_CMD_OFF.cid0 + i, clientOrderId.charCodeAt(i));
}

export class JournaledEngine {
  readonly engine: Engine;
  readonly writer: JournalWriter;
  private readonly queue: { cmd: Command; cid: string }[] = [];
  private readonly slotListeners: SlotListener[] = [];
  private seq: bigint;
  /** Fake engine clock (ns): tsInit of the next batch. */
  private ts = 1_000_000n;

  constructor(readonly dir: string, opts: EngineOptions = { symbols: 2, capacity: 10_000, risk: {} }, private readonly batchMax = 16) {
    const r = recover(dir, { log: () => undefined });
    const active = r.segments[r.segments.length - 1];
    this.seq = r.lastSeq;
    this.engine = new Engine({ seed: 7, ...opts });
    // the caller replays the journal into `engine` when it reopens one (replayInto)
    this.writer = new JournalWriter(dir, r.lastSeq, active ? { firstSeq: active.firstSeq, size: active.size } : null, { durability: 'none', now: () => 0, segmentBytes: 64 << 10 });
  }

  get lastSeq(): bigint { return this.seq; }
  get pending(): number { return this.queue.length; }

  submit(cmd: Command, clientOrderId = ''): boolean {
    this.queue.push({ cmd, cid: clientOrderId });
    return true;
  }

  onSlots(f: SlotListener): () => void {
    this.slotListeners.push(f);
    return () => { const i = this.slotListeners.indexOf(f); if (i >= 0) this.slotListeners.splice(i, 1); };
  }

  /** Live batches assembled from the ring slots (no clientOrderId resolver: like the bare ring). */
  feed(): LiveFeed {
    return {
      subscribe: (l) => {
        const asm = new RingAssembler();
        return this.onSlots((dv, n) => { for (let i = 0; i < n; i++) { const b = asm.push(dv, i * RING_EVT_SIZE); if (b) l(b); } });
      },
    };
  }

  /** Runs one batch of queued commands (journal, then publish). Returns the number of commands. */
  step(): number {
    const n = Math.min(this.batchMax, this.queue.length);
    if (n === 0) return 0;
    const items = this.queue.splice(0, n);
    const staging = new Uint8Array(n * RING_CMD_SIZE);
    const sdv = new DataView(staging.buffer);
    items.forEach((it, i) => encodeRingCmd(sdv, i * RING_CMD_SIZE, it.cmd, it.cid, 0, 0, this.ts));
    const inbox = this.engine.inbox;
    for (let i = 0; i < n; i++) inbox.set(staging.subarray(i * RING_CMD_SIZE, i * RING_CMD_SIZE + CMD_SIZE), i * CMD_SIZE);
    const chunks: Uint8Array[] = [];
    this.engine.runInbox(n, (_v, b, k) => { chunks.push(b.slice(0, k * EVT_SIZE)); });
    const raw = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
    let o = 0;
    for (const c of chunks) { raw.set(c, o); o += c.length; }
    const rdv = new DataView(raw.buffer);
    const nEv = raw.length / EVT_SIZE;
    const tsInit = this.ts;
    this.ts += 1000n;
    let e = 0;
    for (let i = 0; i < n; i++) {
      const e0 = e;
      while (e < nEv && rdv.getUint32(e * EVT_SIZE + EVT_OFF.cmd, true) === i) e++;
      this.writer.append(tsInit, staging, i * RING_CMD_SIZE, raw, e0 * EVT_SIZE, e - e0);
    }
    this.writer.commit();
    const slots = new Uint8Array(nEv * RING_EVT_SIZE);
    const dv = new DataView(slots.buffer);
    for (let k = 0; k < nEv; k++) {
      const p = k * RING_EVT_SIZE;
      const ci = rdv.getUint32(k * EVT_SIZE + EVT_OFF.cmd, true);
      dv.setBigUint64(p + RING_EVT_OFF.seq, this.seq + 1n + BigInt(ci), true);
      dv.setBigInt64(p + RING_EVT_OFF.tsInit, tsInit, true);
      dv.setBigInt64(p + RING_EVT_OFF.tsIn, tsInit, true);
      slots.set(raw.subarray(k * EVT_SIZE, (k + 1) * EVT_SIZE), p + RING_EVT_OFF.evtType);
    }
    this.seq += BigInt(n);
    for (const l of this.slotListeners.slice()) l(dv, nEv);
    return n;
  }

  /** Steps until nothing is queued (listeners may queue more); at most `maxSteps` batches. */
  drain(maxSteps = 10_000): number {
    let total = 0;
    for (let s = 0; s < maxSteps && this.queue.length > 0; s++) total += this.step();
    if (this.queue.length > 0) throw new Error(`drain: still ${this.queue.length} commands queued after ${maxSteps} batches`);
    return total;
  }

  close(): void { this.writer.close(); }
}

/** Collects batches from a JournaledEngine's ring slots through a RingAssembler. */
export function collectLive(je: JournaledEngine): SeqBatch[] {
  const out: SeqBatch[] = [];
  je.feed().subscribe((b) => out.push(b));
  return out;
}

/** The generator's seeded PRNG (mulberry32), for generated streams. */
export const rng = prng;

/**
 * A random command stream: accounts 1..4, `symbols` symbols, prices 95..105, every order type and
 * time in force, cancels and modifies of earlier ids (some of them finished or unknown), a few
 * invalid commands. Ids are unique and count from `firstId`; clientOrderIds are `c<id>`.
 */
export function randomCommands(seed: number, n: number, symbols = 2, firstId = 1): { cmd: Command; cid: string }[] {
  const r = rng(seed);
  const pick = (k: number): number => Math.floor(r() * k);
  const out: { cmd: Command; cid: string }[] = [];
  const ids: { id: bigint; symbol: number; side: number; account: number }[] = [];
  let next = BigInt(firstId);
  for (let i = 0; i < n; i++) {
    const x = r();
    if (x < 0.6 || ids.length === 0) {
      const id = next++;
      const symbol = r() < 0.02 ? symbols : pick(symbols); // 2% unknown symbol
      const side = pick(2);
      const account = 1 + pick(4);
      const market = r() < 0.1;
      const tif = market ? 1 : [0, 0, 0, 1, 2, 3][pick(6)]!;
      const qty = r() < 0.02 ? 0 : 1 + pick(20);
      const price = market ? 0n : BigInt(95 + pick(11));
      out.push({ cmd: { op: 1, side, type: market ? 1 : 0, tif, symbol, id, price, qty, account }, cid: `c${id}` });
      ids.push({ id, symbol, side, account });
    } else {
      const o = ids[pick(ids.length)]!;
      if (x < 0.8) out.push({ cmd: { op: 2, side: o.side, type: 0, tif: 0, symbol: o.symbol, id: o.id, price: 0n, qty: 0, account: o.account }, cid: '' });
      else out.push({ cmd: { op: 3, side: o.side, type: 0, tif: 0, symbol: o.symbol, id: o.id, price: BigInt(95 + pick(11)), qty: r() < 0.03 ? 0 : 1 + pick(20), account: o.account }, cid: '' });
    }
  }
  return out;
}
