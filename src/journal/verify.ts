/**
 * Fast journal reading and verification. Segments are read a window at a time straight into the
 * linear memory of a separate instance of the WASM module (it never runs the engine), and each
 * window's records are checked there in one call (assembly/journal/verify.ts: CRC-32C
 * slice-by-16 plus the checks of `checkRecord`) and used while the bytes are in the CPU cache.
 * Without the module (not built) the same checks run in JavaScript over an ordinary buffer.
 *
 * The instance comes from src/engine/wasm.ts (`instantiateJournalVerify`), which journal/ never
 * imports: engine/ installs a factory with `setVerifyKernel` (src/engine/journal-verifier.ts,
 * called by every process that reads journals). Until one is installed the JavaScript twin runs.
 *
 * Owns: that instance and its window region. Layout: the window starts at `journalHeapBase()`,
 * WINDOW bytes (grown only for a record larger than that). Invariants: `verifyRecords` accepts
 * exactly what a loop of `checkRecord` accepts (differential test:
 * test/kernels/journal-verify.prop.test.ts). Bytes handed out from the window stay valid until the
 * next `SegmentWindow.load` or `verifyRecords` call (both reuse it): use them before that.
 * Complexity: O(bytes). Allocation: the window (4 MiB) once per process.
 * Known limitations: one window per thread, so one segment scan at a time.
 */
import * as fs from 'node:fs';
import { checkRecord, REC_MAX } from './format.js';
import { JREC_PROLOGUE, jrecLen } from '../abi/views.js';

/** The WASM exports this module uses (structurally engine/wasm.ts's JournalVerifyExports). */
export interface VerifyKernel {
  memory: WebAssembly.Memory;
  journalCrc32c(p: number, n: number, crc: number): number;
  journalVerify(p: number, end: number, seqLo: number, seqHi: number): number;
  journalVerifiedCount(): number;
  journalHeapBase(): number;
}

/** Window size: a few MiB fit the CPU cache along with the engine. */
let WINDOW = 4 << 20;

/** Sets the window size (tests: small windows make records cross window edges); returns the old one. */
export function setVerifyWindow(bytes: number): number {
  if (!Number.isInteger(bytes) || bytes < 64) throw new RangeError(`window of ${bytes} bytes`);
  const old = WINDOW;
  WINDOW = bytes;
  return old;
}

class Region {
  readonly base: number;
  constructor(readonly ex: VerifyKernel) { this.base = ex.journalHeapBase(); }

  /** A view of `bytes` bytes at the region's start (grows memory as needed). */
  view(bytes: number): Uint8Array {
    const end = this.base + bytes;
    const have = this.ex.memory.buffer.byteLength;
    if (end > have) this.ex.memory.grow(Math.ceil((end - have) / 65536));
    return new Uint8Array(this.ex.memory.buffer, this.base, bytes);
  }

  owns(b: Uint8Array): boolean { return b.buffer === this.ex.memory.buffer; }

  verify(p: number, end: number, seq: bigint): VerifiedRange {
    const stop = this.ex.journalVerify(p, end, Number(seq & 0xffffffffn), Number(seq >> 32n));
    return { end: stop, count: this.ex.journalVerifiedCount() };
  }
}

let kernel: (() => VerifyKernel) | null = null;
let region: Region | null | undefined;

/**
 * Installs the factory of the WASM kernel instance (engine/ does: src/engine/journal-verifier.ts).
 * It is called once, on first use; a factory that throws (module not built) leaves the JavaScript
 * twin in use. Installing again before first use replaces the factory; after it, does nothing.
 */
export function setVerifyKernel(factory: () => VerifyKernel): void {
  if (region === undefined) kernel = factory;
}

function getRegion(): Region | null {
  if (region === undefined) {
    if (!kernel) return null; // not installed (yet): the JavaScript twin
    try { region = new Region(kernel()); } catch { region = null; }
  }
  return region;
}

/** Whether the WebAssembly kernel is in use ('wasm') or the JavaScript fallback ('js'). */
export function verifyBackend(): 'wasm' | 'js' { return getRegion() ? 'wasm' : 'js'; }

/** Result of `verifyRecords`: the offset of the first record that is not valid (or the end), and how many were. */
export interface VerifiedRange { end: number; count: number }

/**
 * A segment file read front to back through the window: `load(pos, need)` makes file bytes
 * [pos, pos + need) available (and as many after them as fit) at `bytes[off, off + avail)`.
 */
export class SegmentWindow {
  /** The file's size when opened. */
  readonly size: number;
  bytes: Uint8Array = new Uint8Array(0);
  /** Where file byte `pos` (of the last load) lies in `bytes`, and how many bytes from there are loaded. */
  off = 0;
  avail = 0;
  private readonly fd: number;
  private readonly r: Region | null;
  private js: Uint8Array | null = null;

  constructor(readonly path: string) {
    this.fd = fs.openSync(path, 'r');
    try {
      this.size = fs.fstatSync(this.fd).size;
    } catch (e) {
      fs.closeSync(this.fd);
      throw e;
    }
    this.r = getRegion();
  }

  /** Loads file bytes from `pos`: at least `need` (fewer only at the end of the file), up to a window. */
  load(pos: number, need = 0): void {
    const cap = Math.max(WINDOW, need);
    const n = Math.min(cap, this.size - pos);
    if (this.r) {
      this.bytes = this.r.view(cap);
    } else {
      if (!this.js || this.js.length < cap) this.js = new Uint8Array(cap);
      this.bytes = this.js;
    }
    let done = 0;
    while (done < n) {
      const k = fs.readSync(this.fd, this.bytes, done, n - done, pos + done);
      if (k <= 0) { this.bytes.fill(0, done, n); break; } // the file shrank meanwhile: the checks see zeros
      done += k;
    }
    this.off = 0;
    this.avail = n;
  }

  /** Checks the loaded records from `pos` (file offset of the last load) with seqs from `seq`. */
  verify(seq: bigint): VerifiedRange {
    if (this.r && this.avail >= JREC_PROLOGUE) {
      const p0 = this.bytes.byteOffset + this.off;
      const v = this.r.verify(p0, p0 + this.avail, seq);
      return { end: this.off + (v.end - p0), count: v.count };
    }
    return verifyRecordsJs(this.bytes, this.off, seq, this.off + this.avail);
  }

  /** File bytes [pos, pos + n) in a fresh buffer (a few bytes, e.g. the segment header; fewer at the end). */
  readAt(pos: number, n: number): Uint8Array {
    const b = new Uint8Array(n);
    let done = 0;
    while (done < n) {
      const k = fs.readSync(this.fd, b, done, n - done, pos + done);
      if (k <= 0) break;
      done += k;
    }
    return b.subarray(0, done);
  }

  /** Whether file bytes [from, to) are all zero (read through the window; leaves it loaded elsewhere). */
  isZero(from: number, to: number): boolean {
    for (let p = from; p < to;) {
      this.load(p);
      const n = Math.min(this.avail, to - p);
      const b = this.bytes;
      let i = 0;
      if ((b.byteOffset & 3) === 0) {
        const w = new Uint32Array(b.buffer, b.byteOffset, n >> 2);
        for (; i < w.length; i++) if (w[i] !== 0) return false;
        i <<= 2;
      }
      for (; i < n; i++) if (b[i] !== 0) return false;
      if (n <= 0) break;
      p += n;
    }
    return true;
  }

  /** The whole file in a fresh buffer (error paths: diagnosis needs to look anywhere). */
  readAll(): Uint8Array {
    const b = new Uint8Array(this.size);
    let done = 0;
    while (done < b.length) {
      const k = fs.readSync(this.fd, b, done, b.length - done, done);
      if (k <= 0) return b.subarray(0, done);
      done += k;
    }
    return b;
  }

  close(): void { fs.closeSync(this.fd); }
}

/**
 * Checks records of `b[from, end)` with seqs `firstSeq`, `firstSeq + 1`, …, stopping at the
 * first that `checkRecord` would not call 'ok' (a record that runs past `end` is not). A buffer
 * outside the window is copied through it a window at a time.
 */
export function verifyRecords(b: Uint8Array, from: number, firstSeq: bigint, end = b.length, js = false): VerifiedRange {
  const r = js ? null : getRegion();
  if (!r) return verifyRecordsJs(b, from, firstSeq, end);
  if (r.owns(b)) {
    const p0 = b.byteOffset + from;
    const v = r.verify(p0, p0 + (end - from), firstSeq);
    return { end: from + (v.end - p0), count: v.count };
  }
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = from;
  let seq = firstSeq;
  let count = 0;
  while (end - p >= JREC_PROLOGUE) {
    const n = Math.min(WINDOW, end - p);
    const w = r.view(WINDOW);
    w.set(b.subarray(p, p + n));
    const v = r.verify(w.byteOffset, w.byteOffset + n, seq);
    if (v.count > 0) { // the rest (perhaps a record the window cut) in the next round
      p += v.end - w.byteOffset;
      seq += BigInt(v.count);
      count += v.count;
      continue;
    }
    // nothing accepted at p: a bad record, or a valid one larger than the window
    const len = jrecLen(dv, p);
    if (len <= n || len > REC_MAX || checkRecord(b, dv, p, end, seq).check !== 'ok') break;
    p += len;
    seq++;
    count++;
  }
  return { end: p, count };
}

/** The JavaScript twin of the kernel (fallback and test reference). */
export function verifyRecordsJs(b: Uint8Array, from: number, firstSeq: bigint, end = b.length): VerifiedRange {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = from;
  let seq = firstSeq;
  let count = 0;
  while (p < end) {
    const c = checkRecord(b, dv, p, end, seq);
    if (c.check !== 'ok') break;
    p += c.len;
    seq++;
    count++;
  }
  return { end: p, count };
}
