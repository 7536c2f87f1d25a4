/**
 * Multi-producer, single-consumer ring of fixed-size records in a SharedArrayBuffer (the command
 * ring: gateway threads → engine thread). Lock-free, bounded, Vyukov-style: every slot carries a
 * sequence number that says whose turn it is.
 *
 * Layout (one SharedArrayBuffer):
 * ```
 * ┌──────────────────────────── header 64 B (Int32) ────────────────────────────┐
 * │ 0 claim (next position to claim, producers, CAS) │ 4 sleeping (consumer flag)  │
 * │ 8 capacity │ 12 slotBytes │ 16 magic │ 20 signal (futex word) │ 24 head │ 28..63 reserved │
 * ├──────────── seq[capacity] (Int32) ────────────┬──── payload[capacity × slotBytes] ───┤
 * ```
 * Ownership and ordering: a producer claims position p with CAS on `claim` (p's slot must show
 * seq == p), writes the payload, then publishes with Atomics.store(seq, p + 1) (release); the
 * consumer reads seq with Atomics.load (acquire) — seq == p + 1 means the payload is complete —
 * copies it, and frees the slot for lap p + capacity with Atomics.store(seq, p + capacity).
 * Positions are wrapping int32; comparisons use (a − b) | 0. `head` (word 6) is the consumer's next
 * position, stored after each poll that took records: a producer can tell whether the record it
 * pushed at position p was taken (`taken(p)`: head − p > 0), e.g. to count what is still queued.
 * Invariants: no record is lost, none is delivered twice, and each producer's records arrive in
 * its order (tested under contention). Complexity: O(1) per record, one CAS per push.
 * Allocation: none per record. Known limitations: one consumer; a producer that dies between
 * claim and publish blocks the ring at that slot (producers are our own threads).
 */
import { checkRingGeometry } from './geometry.js';

const H_CLAIM = 0;
const H_SLEEPING = 1;
const H_CAP = 2;
const H_SLOT = 3;
const H_MAGIC = 4;
const H_SIGNAL = 5;
const H_HEAD = 6;
const HEADER_BYTES = 64;
const MAGIC = 0x4d505343; // 'MPSC'

export class MpscRing {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  readonly slotBytes: number;
  private readonly h: Int32Array;
  private readonly seq: Int32Array;
  private readonly data: Uint8Array;
  private readonly data32: Int32Array;
  private readonly words: number;
  private readonly mask: number;
  private srcBuf: ArrayBufferLike | null = null;
  private src32: Int32Array = new Int32Array(0);
  /** Consumer's next position (consumer thread only; published in header word 6 after each poll). */
  private head = 0;
  /** Position of this producer's last successful push (producer-local). */
  lastPos = 0;

  /** Creates a ring of `capacity` (power of two) slots of `slotBytes` (multiple of 8). */
  static create(capacity: number, slotBytes: number): MpscRing {
    checkRingGeometry(capacity, slotBytes);
    const sab = new SharedArrayBuffer(HEADER_BYTES + capacity * 4 + capacity * slotBytes);
    const h = new Int32Array(sab, 0, HEADER_BYTES / 4);
    h[H_CAP] = capacity;
    h[H_SLOT] = slotBytes;
    const seq = new Int32Array(sab, HEADER_BYTES, capacity);
    for (let i = 0; i < capacity; i++) seq[i] = i;
    Atomics.store(h, H_MAGIC, MAGIC);
    return new MpscRing(sab);
  }

  /** Attaches to a ring made by `create` (in any thread). */
  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.h = new Int32Array(sab, 0, HEADER_BYTES / 4);
    if (Atomics.load(this.h, H_MAGIC) !== MAGIC) throw new TypeError('not an MPSC ring buffer');
    this.capacity = this.h[H_CAP]!;
    this.slotBytes = this.h[H_SLOT]!;
    this.mask = this.capacity - 1;
    this.seq = new Int32Array(sab, HEADER_BYTES, this.capacity);
    this.data = new Uint8Array(sab, HEADER_BYTES + this.capacity * 4, this.capacity * this.slotBytes);
    this.data32 = new Int32Array(sab, HEADER_BYTES + this.capacity * 4, (this.capacity * this.slotBytes) >> 2);
    this.words = this.slotBytes >> 2;
  }

  /** A cached Int32Array over `b`'s buffer (records are copied word by word, allocation-free). */
  private view32(b: Uint8Array): Int32Array {
    if (b.buffer !== this.srcBuf) { this.srcBuf = b.buffer; this.src32 = new Int32Array(b.buffer, 0, b.buffer.byteLength >> 2); }
    return this.src32;
  }

  /**
   * Copies one record (`slotBytes` from `src` at `offset`, 4-byte aligned) into the ring. Returns
   * false, without blocking, if the ring is full.
   */
  tryPush(src: Uint8Array, offset = 0): boolean {
    const h = this.h;
    let pos = Atomics.load(h, H_CLAIM);
    for (;;) {
      const idx = pos & this.mask;
      const dif = (Atomics.load(this.seq, idx) - pos) | 0;
      if (dif === 0) {
        const prev = Atomics.compareExchange(h, H_CLAIM, pos, (pos + 1) | 0);
        if (prev === pos) {
          const s32 = this.view32(src);
          const from = (src.byteOffset + offset) >> 2;
          const to = idx * this.words;
          for (let w = 0; w < this.words; w++) this.data32[to + w] = s32[from + w]!;
          Atomics.store(this.seq, idx, (pos + 1) | 0);
          this.lastPos = pos;
          if (Atomics.load(h, H_SLEEPING) !== 0) {
            Atomics.add(h, H_SIGNAL, 1);
            Atomics.notify(h, H_SIGNAL);
          }
          return true;
        }
        pos = prev;
      } else if (dif < 0) {
        return false; // full: the slot still holds the previous lap
      } else {
        pos = Atomics.load(h, H_CLAIM);
      }
    }
  }

  /**
   * As tryPush, but waits (spinning, then sleeping 1 ms at a time) up to `timeoutMs` for space.
   * Returns false on time-out.
   */
  push(src: Uint8Array, offset = 0, timeoutMs = 1000): boolean {
    if (this.tryPush(src, offset)) return true;
    const deadline = Date.now() + timeoutMs;
    const nap = new Int32Array(new SharedArrayBuffer(4));
    for (let spin = 0; ; spin++) {
      if (this.tryPush(src, offset)) return true;
      if (spin > 64) {
        if (Date.now() >= deadline) return false;
        Atomics.wait(nap, 0, 0, 1);
      }
    }
  }

  /** Consumer: copies up to `max` ready records, in order, into `dst` at `offset`; returns how many. */
  poll(dst: Uint8Array, offset: number, max: number): number {
    let n = 0;
    const sb = this.slotBytes;
    while (n < max) {
      const pos = this.head;
      const idx = pos & this.mask;
      if (Atomics.load(this.seq, idx) !== ((pos + 1) | 0)) break;
      const d32 = this.view32(dst);
      const to = (dst.byteOffset + offset + n * sb) >> 2;
      const from = idx * this.words;
      for (let w = 0; w < this.words; w++) d32[to + w] = this.data32[from + w]!;
      Atomics.store(this.seq, idx, (pos + this.capacity) | 0);
      this.head = (pos + 1) | 0;
      n++;
    }
    if (n > 0) Atomics.store(this.h, H_HEAD, this.head);
    return n;
  }

  /** Any thread: whether the consumer has taken the record pushed at position `pos` (within half a lap of int32 positions). */
  taken(pos: number): boolean { return ((Atomics.load(this.h, H_HEAD) - pos) | 0) > 0; }
  /** Positions claimed by producers so far (wrapping int32; any thread): with the consumer's count, the ring's fill. */
  get claimed(): number { return Atomics.load(this.h, H_CLAIM); }

  /** Consumer: whether a record is ready. */
  ready(): boolean {
    const pos = this.head;
    return Atomics.load(this.seq, pos & this.mask) === ((pos + 1) | 0);
  }

  /**
   * Consumer: waits until a record is ready or `timeoutMs` passes — spins `spins` times, then
   * sleeps on the ring's futex (producers notify it). Returns whether a record is ready.
   */
  waitReady(timeoutMs: number, spins = 200): boolean {
    for (let i = 0; i < spins; i++) if (this.ready()) return true;
    // sleeping flag, then the signal value, then a last look: a producer that publishes after the
    // look sees the flag and bumps the signal, so the wait below cannot miss it
    Atomics.store(this.h, H_SLEEPING, 1);
    try {
      const sig = Atomics.load(this.h, H_SIGNAL);
      if (this.ready()) return true;
      Atomics.wait(this.h, H_SIGNAL, sig, timeoutMs);
      return this.ready();
    } finally {
      Atomics.store(this.h, H_SLEEPING, 0);
    }
  }
}
