/**
 * The gateway main thread's stage stamps (docs/monitoring.md "Latency stages"): a frame's receive
 * and decode, the command-ring enqueue, and — in the event pump — reports and market data handed
 * to the sockets. Values go to the main thread's StageRecorder (LatencyMonitor.local).
 *
 * Layout: stamps are ns since this object's base (epoch ns at construction, as u32 words), so a
 * double holds them exactly; the engine's publish stamps (epoch words, PublishStamps) convert on
 * the same base. `rxBySlot` (grown by doubling: the only allocation, amortised) keeps each order's
 * receive stamp until its ack. The pump stages its cycle's reports and market-data events in
 * fixed arrays and records them once the cycle's frames are flushed (one stamp per cycle).
 * `NullStamps` (latency tracking off) has the same methods doing nothing (a null object: no
 * `if` on the hot path).
 * Invariants: a stamp of 0 means "not stamped" (no value recorded from it): sagas, the simulator
 * and HTTP orders have no frame receive stamp, so no ws_receive_to_decode/decode_to_ring/order_to_ack.
 * Complexity: O(1) per call; `flushed` O(staged). Allocation: none per call (rxBySlot growth aside).
 * Known limitations: a cycle stages at most 8,192 reports and 8,192 market-data events; more are
 * not recorded (counted in `dropped`).
 */
import { nowNsInto } from '../domain/clock.js';
import { S, wordsDiffNs, type PublishStamps, type StageRecorder } from './latency.js';

const CAP = 8192;

export class GatewayStamps {
  /** Scratch stamp words; the caller of `enqueued` puts the command's tsIn here first (EngineHost.lastTsInInto). */
  readonly w = new Uint32Array(2);
  private readonly b0: number;
  private readonly b1: number;
  private rx = 0;
  private dec = 0;
  /** The receive stamp of the command just enqueued (0: none), for awaitAck. */
  private enq = 0;
  private rxBySlot = new Float64Array(4096);
  private readonly repPub = new Float64Array(CAP);
  private readonly ackRx = new Float64Array(CAP);
  private readonly mdPub = new Float64Array(CAP);
  private nRep = 0;
  private nAck = 0;
  private nMd = 0;
  dropped = 0;

  constructor(private readonly rec: StageRecorder | null, private readonly pub: PublishStamps | null) {
    nowNsInto(this.w, 0);
    this.b0 = this.w[0]!;
    this.b1 = this.w[1]!;
    // the base is one ns before now, so every stamp after it is > 0
    if (this.b0 > 0) this.b0 -= 1;
  }

  /** ns since the base. */
  now(): number { nowNsInto(this.w, 0); return wordsDiffNs(this.w[0]!, this.w[1]!, this.b0, this.b1); }

  /** A WebSocket frame arrived (first thing in its handler). */
  frameIn(): void { this.rx = this.now(); this.dec = 0; }
  /** The frame is handled (its commands are in the ring or refused). */
  frameDone(): void { this.rx = 0; this.dec = 0; this.enq = 0; }
  /** An order/cancel/modify of the current frame is decoded (fields read, about to be entered). */
  decoded(): void {
    if (this.rx === 0) return;
    this.dec = this.now();
    this.rec!.record(S.wsReceiveToDecode, this.dec - this.rx);
  }
  /** The decoded command is in the command ring; `w` holds its tsIn (the ring enqueue stamp: no clock read here). */
  enqueued(): void {
    if (this.dec === 0) return;
    this.rec!.v[0] = (this.w[1]! - this.b1) * 4294967296 + (this.w[0]! - this.b0) - this.dec;
    this.rec!.add(S.decodeToRing, 1);
    this.dec = 0; // one command per decode: a later submit outside a frame (sagas) is not stamped
    this.enq = this.rx;
  }
  /** The new order in registry slot `slot` (of the current frame) is in the ring: its ack is awaited (order_to_ack). */
  awaitAck(slot: number): void {
    const rx = this.enq;
    if (rx === 0) return;
    this.enq = 0;
    if (slot >= this.rxBySlot.length) this.grow(slot);
    this.rxBySlot[slot] = rx;
  }
  private grow(slot: number): void {
    let n = this.rxBySlot.length;
    while (n <= slot) n *= 2;
    const a = new Float64Array(n);
    a.set(this.rxBySlot);
    this.rxBySlot = a;
  }

  /** Event pump: an execution report of the command with `seq` was written for a connection. */
  report(seq: number): void {
    if (this.pub === null || !this.pub.find(seq, this.w)) return;
    if (this.nRep === CAP) { this.dropped++; return; }
    this.repPub[this.nRep++] = wordsDiffNs(this.w[0]!, this.w[1]!, this.b0, this.b1);
  }
  /** Event pump: the ack (or reject) of the new order in registry slot `slot` was written. */
  ack(slot: number): void {
    if (slot >= this.rxBySlot.length) return;
    const rx = this.rxBySlot[slot]!;
    if (rx === 0) return;
    this.rxBySlot[slot] = 0;
    if (this.nAck === CAP) { this.dropped++; return; }
    this.ackRx[this.nAck++] = rx;
  }
  /** Event pump: an event with `seq` produced market data (a trade, a book change). */
  marketData(seq: number): void {
    if (this.pub === null || !this.pub.find(seq, this.w)) return;
    if (this.nMd === CAP) { this.dropped++; return; }
    this.mdPub[this.nMd++] = wordsDiffNs(this.w[0]!, this.w[1]!, this.b0, this.b1);
  }
  /** Event pump: the cycle's frames are flushed to the sockets: records what it staged. */
  flushed(): void {
    if (this.nRep + this.nAck + this.nMd === 0) return;
    const t = this.now();
    const r = this.rec!;
    for (let i = 0; i < this.nRep; i++) r.record(S.publishToReport, t - this.repPub[i]!);
    for (let i = 0; i < this.nAck; i++) r.record(S.orderToAck, t - this.ackRx[i]!);
    for (let i = 0; i < this.nMd; i++) r.record(S.mdPublishToSend, t - this.mdPub[i]!);
    this.nRep = 0; this.nAck = 0; this.nMd = 0;
  }
}

/** Latency tracking off: the same calls, doing nothing. */
export class NullStamps extends GatewayStamps {
  override frameIn(): void {}
  override frameDone(): void {}
  override decoded(): void {}
  override enqueued(): void {}
  override awaitAck(): void {}
  override report(): void {}
  override ack(): void {}
  override marketData(): void {}
  override flushed(): void {}
}

/** The null object's one instance (services built without latency tracking). */
export const NULL_STAMPS: GatewayStamps = new NullStamps(null, null);
