/**
 * Single-producer, multi-consumer ring of fixed-size records in a SharedArrayBuffer (the event
 * ring: engine thread → gateway, journal, storage, strategy consumers), Disruptor style: one
 * published cursor, and one read cursor per consumer; the producer never overwrites a record that
 * an active consumer has not read.
 *
 * Layout (one SharedArrayBuffer):
 * ```
 * ┌──────────────── header 64 B (Int32) ────────────────┬─ readers 16 × 8 B (Int32 pairs) ─┬─ payload ─┐
 * │ 0 published (records written, wrapping int32)        │ [active, cursor] per consumer    │ capacity  │
 * │ 4 capacity · 8 slotBytes · 12 magic · 16..63 reserved │                                  │ × slot    │
 * ```
 * Ownership and ordering: the producer writes payloads, then Atomics.store(published) (release)
 * and notifies sleepers on it; a consumer Atomics.load(published) (acquire), copies, then
 * Atomics.store(its cursor) (release); the producer Atomics.load()s active cursors before it
 * reuses a slot. A consumer joins at the live edge: it sets its cursor to `published`, then marks
 * itself active.
 * Invariants: each active consumer sees every record published after it joined, once, in order.
 * Complexity: O(records) per call; the producer's free-space check is O(consumers).
 * Allocation: none per record or per publish (word copies); none per poll of up to 64 records (word
 * copies), two typed-array views per larger poll (bulk copies); none when a consumer reads in place
 * (`available`, `at`, `payload`, `consume`).
 * Known limitations: 16 consumers per ring.
 */
import { checkRingGeometry } from './geometry.js';

const H_PUB = 0;
const H_CAP = 1;
const H_SLOT = 2;
const H_MAGIC = 3;
const HEADER_BYTES = 64;
export const MAX_READERS = 16;
const READERS_BYTES = MAX_READERS * 8;
const MAGIC = 0x53504d43; // 'SPMC'

export class SpmcRing {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  readonly slotBytes: number;
  private readonly h: Int32Array;
  private readonly readers: Int32Array;
  private readonly data32: Int32Array;
  private readonly words: number;
  private readonly mask: number;
  /** The producer's futex word for 1 ms naps while consumers lag (made once: publish allocates nothing). */
  private readonly nap = new Int32Array(new SharedArrayBuffer(4));
  private bufA: ArrayBufferLike | null = null;
  private viewA: Int32Array = new Int32Array(0);

  static create(capacity: number, slotBytes: number): SpmcRing {
    checkRingGeometry(capacity, slotBytes);
    const sab = new SharedArrayBuffer(HEADER_BYTES + READERS_BYTES + capacity * slotBytes);
    const h = new Int32Array(sab, 0, HEADER_BYTES / 4);
    h[H_CAP] = capacity;
    h[H_SLOT] = slotBytes;
    Atomics.store(h, H_MAGIC, MAGIC);
    return new SpmcRing(sab);
  }

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.h = new Int32Array(sab, 0, HEADER_BYTES / 4);
    if (Atomics.load(this.h, H_MAGIC) !== MAGIC) throw new TypeError('not an SPMC ring buffer');
    this.capacity = this.h[H_CAP]!;
    this.slotBytes = this.h[H_SLOT]!;
    this.mask = this.capacity - 1;
    this.readers = new Int32Array(sab, HEADER_BYTES, MAX_READERS * 2);
    this.data32 = new Int32Array(sab, HEADER_BYTES + READERS_BYTES, (this.capacity * this.slotBytes) >> 2);
    this.words = this.slotBytes >> 2;
  }

  /** A cached Int32Array over `b`'s buffer (records are copied word by word, allocation-free). */
  private view32(b: Uint8Array): Int32Array {
    if (b.buffer !== this.bufA) { this.bufA = b.buffer; this.viewA = new Int32Array(b.buffer, 0, b.buffer.byteLength >> 2); }
    return this.viewA;
  }

  get published(): number { return Atomics.load(this.h, H_PUB); }

  /** Producer: how many records can be written now without overtaking an active consumer. */
  free(): number {
    const pub = Atomics.load(this.h, H_PUB);
    let lag = 0;
    for (let r = 0; r < MAX_READERS; r++) {
      if (Atomics.load(this.readers, r * 2) !== 1) continue;
      const behind = (pub - Atomics.load(this.readers, r * 2 + 1)) | 0;
      if (behind > lag) lag = behind;
    }
    return this.capacity - lag;
  }

  /**
   * Producer: writes up to `count` records from `src` (at `offset`) that fit; publishes them and
   * wakes consumers. Returns how many were written (0 when consumers lag a full ring behind).
   */
  tryPublish(src: Uint8Array, offset: number, count: number): number {
    const n = Math.min(count, this.free());
    if (n <= 0) return 0;
    // at most two contiguous segments (the ring wraps once), copied word by word: no view per call
    const W = this.words;
    const s32 = this.view32(src);
    const d32 = this.data32;
    const from = (src.byteOffset + offset) >> 2;
    const pos = Atomics.load(this.h, H_PUB);
    const start = pos & this.mask;
    const first = Math.min(n, this.capacity - start);
    const to = start * W;
    for (let w = 0, e = first * W; w < e; w++) d32[to + w] = s32[from + w]!;
    if (first < n) for (let w = 0, o = from + first * W, e = (n - first) * W; w < e; w++) d32[w] = s32[o + w]!;
    Atomics.store(this.h, H_PUB, (pos + n) | 0);
    Atomics.notify(this.h, H_PUB);
    return n;
  }

  /**
   * Producer: publishes all `count` records, waiting (spin, then 1 ms naps) for consumers to make
   * room, up to `timeoutMs`. Returns how many were published.
   */
  publish(src: Uint8Array, offset: number, count: number, timeoutMs = 1000): number {
    let done = this.tryPublish(src, offset, count);
    if (done === count) return done;
    // no allocation while consumers lag (the engine thread's loop is allocation-free): the nap's
    // futex word is the producer's own, and the clock is read only once spinning gave up — the
    // deadline counts from there, and each later read is after a 1 ms nap
    let deadline = -1;
    for (let spin = 0; done < count; spin++) {
      done += this.tryPublish(src, offset + done * this.slotBytes, count - done);
      if (done < count && spin > 64) {
        const now = Date.now();
        if (deadline < 0) deadline = now + timeoutMs;
        else if (now >= deadline) break;
        Atomics.wait(this.nap, 0, 0, 1);
      }
    }
    return done;
  }

  /** Registers a consumer at the live edge; returns its id (throws when 16 are active). */
  join(): number {
    for (let r = 0; r < MAX_READERS; r++) {
      // reserve the slot (2 = joining, ignored by the producer), set the cursor, go active, then
      // move the cursor to the live edge again (only forward, so the producer stays safe)
      if (Atomics.compareExchange(this.readers, r * 2, 0, 2) !== 0) continue;
      Atomics.store(this.readers, r * 2 + 1, Atomics.load(this.h, H_PUB));
      Atomics.store(this.readers, r * 2, 1);
      Atomics.store(this.readers, r * 2 + 1, Atomics.load(this.h, H_PUB));
      return r;
    }
    throw new RangeError(`an SPMC ring takes at most ${MAX_READERS} consumers`);
  }

  /** Unregisters consumer `r`: the producer stops waiting for it. */
  leave(r: number): void { Atomics.store(this.readers, r * 2, 0); }

  /** Consumer `r`: copies up to `max` new records into `dst` at `offset`; returns how many. */
  poll(r: number, dst: Uint8Array, offset: number, max: number): number {
    const cur = Atomics.load(this.readers, r * 2 + 1);
    const avail = (Atomics.load(this.h, H_PUB) - cur) | 0;
    const n = Math.min(avail, max);
    if (n > 0) {
      const W = this.words;
      const d32 = this.view32(dst);
      const to = (dst.byteOffset + offset) >> 2;
      const start = cur & this.mask;
      const first = Math.min(n, this.capacity - start);
      const src = this.data32;
      // a few records word by word (a subarray view per poll would be an allocation), many with set
      if (n <= 64) {
        for (let w = 0, o = start * W, e = first * W; w < e; w++) d32[to + w] = src[o + w]!;
        if (first < n) for (let w = 0, t = to + first * W, e = (n - first) * W; w < e; w++) d32[t + w] = src[w]!;
      } else {
        d32.set(src.subarray(start * W, (start + first) * W), to);
        if (first < n) d32.set(src.subarray(0, (n - first) * W), to + first * W);
      }
    }
    if (n > 0) Atomics.store(this.readers, r * 2 + 1, (cur + n) | 0);
    return n;
  }

  /**
   * Consumer `r`, reading in place (no copy): how many records after its cursor are published. The
   * k-th of them (k < the count) lies at byte `at(r, k)` of `payload` and stays there, unchanged,
   * until the consumer `consume`s it (the producer never overwrites a record an active consumer has
   * not passed).
   */
  available(r: number): number {
    return (Atomics.load(this.h, H_PUB) - Atomics.load(this.readers, r * 2 + 1)) | 0;
  }

  /** Byte offset in `payload` of consumer `r`'s k-th unread record. */
  at(r: number, k: number): number {
    return ((this.readers[r * 2 + 1]! + k) & this.mask) * this.slotBytes;
  }

  /** Consumer `r` is done with its next `n` records (read in place): the producer may reuse their slots. */
  consume(r: number, n: number): void {
    if (n > 0) Atomics.store(this.readers, r * 2 + 1, (Atomics.load(this.readers, r * 2 + 1) + n) | 0);
  }

  /** The payload bytes (capacity × slotBytes), for reading records in place (`available`, `at`, `consume`). */
  get payload(): DataView {
    return this.payloadView ??= new DataView(this.sab, HEADER_BYTES + READERS_BYTES, this.capacity * this.slotBytes);
  }
  private payloadView: DataView | null = null;

  /** Consumer `r`: waits up to `timeoutMs` for a record after its cursor. */
  waitReady(r: number, timeoutMs: number, spins = 200): boolean {
    const cur = Atomics.load(this.readers, r * 2 + 1);
    for (let i = 0; i < spins; i++) if (Atomics.load(this.h, H_PUB) !== cur) return true;
    Atomics.wait(this.h, H_PUB, cur, timeoutMs);
    return Atomics.load(this.h, H_PUB) !== cur;
  }
}
