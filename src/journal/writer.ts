/**
 * The journal writer: appends one record per sequenced command (with all its events) to the
 * active segment and makes each batch durable with one fdatasync (group commit). Runs on the
 * engine thread, which publishes a batch's events only after `commit` returned.
 *
 * Owns: the active segment's file descriptor, the batch buffer, segment rolling, the COMMIT mark.
 * Layout: src/journal/format.ts. Invariants: records are written in seq order, whole batches at a
 * time; after a failed write or sync the writer is fenced (`failed`), every later call throws, and
 * the caller must not acknowledge anything of the failed batch.
 * Complexity: O(bytes) per batch plus one fdatasync. Allocation: the batch buffer grows by
 * doubling when a batch needs more (rare); none per record otherwise (`appendWords`: seq a
 * number, tsInit as u32 words; `append` takes and returns BigInts). Per commit, Node's
 * fs.writeSync / fdatasyncSync allocate their small request objects (~100 B, not avoidable from JS).
 * With `preallocate`, segments are preallocated (src/journal/preallocate.ts) once the writer is
 * busy: a batch then overwrites zeros in place, and only the newest segment has zeros after its
 * last record.
 * Known limitations: segments are never deleted (no retention yet); one writer per directory
 * (guarded by a lock file).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { EVT_SIZE, RING_CMD_SIZE } from '../abi/records.js';
import { evtClearCmd, jrecCmd, jrecEvents, writeJournalHeaderWords } from '../abi/views.js';
import { TradsysError } from '../domain/errors.js';
import {
  REC_KIND_COMMAND, SEG_HEADER,
  encodeCommit, decodeCommit, recordSize, sealRecord, segmentName, writeSegmentHeader, COMMIT_FILE_SIZE, COMMIT_SLOT2, COMMIT_SIZE,
} from './format.js';
import { Preallocator } from './preallocate.js';

export type Durability = 'fsync' | 'none';

/** The file operations the writer uses (the default is node:fs; tests inject failures). */
export interface JournalIo {
  openSync(path: string, flags: string): number;
  writeSync(fd: number, b: Uint8Array, off: number, len: number, pos: number): number;
  fdatasyncSync(fd: number): void;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  ftruncateSync(fd: number, len: number): void;
  fstatSize(fd: number): number;
}

export const nodeIo: JournalIo = {
  openSync: (p, f) => fs.openSync(p, f),
  writeSync: (fd, b, off, len, pos) => fs.writeSync(fd, b, off, len, pos),
  fdatasyncSync: (fd) => fs.fdatasyncSync(fd),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
  renameSync: (a, b) => fs.renameSync(a, b),
  ftruncateSync: (fd, len) => fs.ftruncateSync(fd, len),
  fstatSize: (fd) => fs.fstatSync(fd).size,
};

export interface JournalWriterOptions {
  durability?: Durability;
  /** A new segment starts once the active one reaches this size (default 256 MiB). */
  segmentBytes?: number;
  /** Minimum interval between COMMIT marks, ms (default 1000). */
  commitMarkMs?: number;
  io?: JournalIo;
  now?: () => number;
  /**
   * Fault injection for tests of the fencing path (data only, so it crosses to the engine thread):
   * the commit after this many successful ones fails like a disk error with `errno`.
   */
  failAfterCommits?: number;
  failErrno?: 'EIO' | 'ENOSPC';
  /**
   * Write into pre-zeroed segment files (durability fsync only; default off, `serve --preallocate`):
   * a background thread keeps the next segment ready (src/journal/preallocate.ts), so a batch's
   * fdatasync does not have to allocate blocks or grow the file — a lower median ack latency, at
   * the cost of writing every segment twice (bench:journal measures both; docs/journal.md). It
   * starts once `preallocateAfter` bytes (default 1 MiB) were written by this writer, so an idle
   * journal costs no background writes; the first segment of a busy writer is rolled early into
   * the standby once that is ready.
   */
  preallocate?: boolean;
  preallocateAfter?: number;
  /** Reports a failed preallocation (the writer goes on without it). */
  log?: (msg: string) => void;
}

export class JournalWriter {
  readonly durability: Durability;
  private readonly io: JournalIo;
  private readonly segmentBytes: number;
  private readonly commitMarkMs: number;
  private readonly now: () => number;
  private readonly failAfter: number;
  private readonly failErrno: string;
  private fd = -1;
  private segFirst = 0n;
  private size = 0;
  private buf = new Uint8Array(1 << 20);
  private dv = new DataView(this.buf.buffer);
  private used = 0;
  /** The seq the next record gets (a number: exact below 2^53; no BigInt per record). */
  private nextSeqN: number;
  private get nextSeq(): bigint { return BigInt(this.nextSeqN); }
  /** Int32 views over the current source buffers of appendWords (records are copied word by word, allocation-free). */
  private srcBufA: ArrayBufferLike | null = null;
  private srcA: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private srcBufB: ArrayBufferLike | null = null;
  private srcB: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private buf32 = new Int32Array(this.buf.buffer);
  private lastMark = 0;
  private failure: Error | null = null;
  private readonly preallocate: boolean;
  private preallocateAfter: number;
  private readonly log: (msg: string) => void;
  private pre: Preallocator | null = null;
  /** Whether the active segment was preallocated (zeros past `size` up to its file size). */
  private activePreallocated = false;
  /** Records and bytes made durable so far, syncs issued, segments rolled into a preallocated file. */
  readonly stats = { records: 0, bytes: 0, syncs: 0, preallocatedSegments: 0 };

  /**
   * Opens `dir` for appending after recovery: `lastSeq` is the last valid record, `active` the
   * newest segment (firstSeq and valid size) or null to start a new one.
   */
  constructor(readonly dir: string, lastSeq: bigint, active: { firstSeq: bigint; size: number } | null, opts: JournalWriterOptions = {}) {
    this.durability = opts.durability ?? 'fsync';
    this.io = opts.io ?? nodeIo;
    this.segmentBytes = opts.segmentBytes ?? 256 << 20;
    this.commitMarkMs = opts.commitMarkMs ?? 1000;
    this.now = opts.now ?? Date.now;
    this.failAfter = opts.failAfterCommits ?? -1;
    this.failErrno = opts.failErrno ?? 'EIO';
    this.nextSeqN = Number(lastSeq) + 1;
    this.preallocate = (opts.preallocate ?? false) && this.durability === 'fsync';
    this.preallocateAfter = opts.preallocateAfter ?? 1 << 20;
    this.log = opts.log ?? ((m) => process.stderr.write(m + '\n'));
    fs.mkdirSync(dir, { recursive: true });
    if (active && active.size < this.segmentBytes) {
      this.segFirst = active.firstSeq;
      this.size = active.size;
      this.fd = this.io.openSync(join(dir, segmentName(active.firstSeq)), 'r+');
      // recovery found zeros after the last record: a preallocated segment, written on in place
      this.activePreallocated = this.io.fstatSize(this.fd) > active.size;
    } else {
      // a full active segment may still carry preallocated zeros (e.g. segmentBytes shrank since):
      // it is sealed at its last record before the next segment exists
      if (active) this.sealFile(join(dir, segmentName(active.firstSeq)), active.size);
      this.roll();
    }
  }

  private sealFile(path: string, size: number): void {
    try {
      const fd = this.io.openSync(path, 'r+');
      try {
        if (this.io.fstatSize(fd) > size) {
          this.io.ftruncateSync(fd, size);
          this.io.fdatasyncSync(fd);
        }
      } finally {
        this.io.closeSync(fd);
      }
    } catch (e) {
      this.fence(e, `sealing segment ${path}`);
    }
  }

  get failed(): Error | null { return this.failure; }

  /** Segment preallocation: off (durability none or disabled), waiting for the first MiB, preparing the standby, ready, or failed. */
  get preallocation(): 'off' | 'pending' | 'preparing' | 'ready' | 'failed' {
    if (!this.preallocate) return 'off';
    if (!this.pre) return this.preallocateAfter === Infinity ? 'failed' : 'pending';
    return this.pre.failure !== null ? 'failed' : this.pre.ready ? 'ready' : 'preparing';
  }
  /** The seq the next appended record gets. */
  get next(): bigint { return this.nextSeq; }

  private fence(e: unknown, what: string): never {
    const err = new TradsysError('ERR_JOURNAL_WRITE', `journal ${what} failed (${(e as Error).message}); the engine is fenced: nothing after seq ${this.nextSeq - 1n - BigInt(this.pendingRecords)} is acknowledged — fix the disk and restart`, { cause: e });
    this.failure = err;
    throw err;
  }

  private pendingRecords = 0;

  private roll(): void {
    const pre = this.pre?.ready ? this.pre : null;
    try {
      if (this.fd >= 0) {
        // a sealed segment ends exactly at its last record: cut the preallocated zeros (durably,
        // before the next segment exists, so that only the newest segment can have them)
        if (this.activePreallocated) {
          this.io.ftruncateSync(this.fd, this.size);
          if (this.durability === 'fsync') this.io.fdatasyncSync(this.fd);
        }
        this.io.closeSync(this.fd);
        this.fd = -1;
      }
    } catch (e) {
      this.fence(e, `sealing segment ${segmentName(this.segFirst)}`);
    }
    this.segFirst = this.nextSeq;
    const path = join(this.dir, segmentName(this.segFirst));
    try {
      if (pre) {
        this.io.renameSync(pre.take(), path);
        this.fd = this.io.openSync(path, 'r+');
      } else {
        this.fd = this.io.openSync(path, 'w');
      }
      const h = writeSegmentHeader(this.segFirst, this.now());
      this.writeAll(h, 0, h.length, 0);
      if (this.durability === 'fsync') {
        this.io.fdatasyncSync(this.fd);
        this.syncDir();
      }
    } catch (e) {
      this.fence(e, `creating segment ${path}`);
    }
    this.size = SEG_HEADER;
    this.activePreallocated = pre !== null;
    if (pre) {
      this.stats.preallocatedSegments++;
      pre.request();
    }
  }

  /** Starts preallocation once enough was written; rolls a plain active segment into a ready standby. */
  private maybePreallocate(): void {
    if (!this.pre) {
      if (this.stats.bytes < this.preallocateAfter) return;
      this.pre = new Preallocator(this.dir, this.segmentBytes);
    }
    const why = this.pre.failure;
    if (why !== null) {
      this.log(`journal: preallocating the next segment failed (${why}); writing on without preallocation`);
      this.pre.close();
      this.pre = null;
      this.preallocateAfter = Infinity;
      return;
    }
    if (!this.activePreallocated && this.pre.ready) this.roll();
  }

  private syncDir(): void {
    const d = this.io.openSync(this.dir, 'r');
    try { this.io.fsyncSync(d); } finally { this.io.closeSync(d); }
  }

  /** Writes `b[off, off + len)` at `pos` of `fd` (the active segment by default), retrying short writes. */
  private writeAll(b: Uint8Array, off: number, len: number, pos: number, fd = this.fd): void {
    let done = 0;
    while (done < len) {
      const k = this.io.writeSync(fd, b, off + done, len - done, pos + done);
      if (k <= 0) throw new Error(`short write (${k})`);
      done += k;
    }
  }


  private ensure(extra: number): void {
    if (this.used + extra <= this.buf.length) return;
    let n = this.buf.length * 2;
    while (n < this.used + extra) n *= 2;
    const b = new Uint8Array(n);
    b.set(this.buf.subarray(0, this.used));
    this.buf = b;
    this.dv = new DataView(b.buffer);
    this.buf32 = new Int32Array(b.buffer);
  }

  /**
   * Appends one record: the command's RING_CMD bytes `cmd[cmdOff, +96)` and `n` EVT records read
   * from `evts` at `evtOff`, `evtOff + stride`, … (64 B each; `stride` 96 reads them straight out
   * of RING_EVT slots); their `cmd` field is cleared. Returns the record's seq.
   */
  append(tsInit: bigint, cmd: Uint8Array, cmdOff: number, evts: Uint8Array, evtOff: number, n: number, stride = EVT_SIZE): bigint {
    const seq = this.nextSeqN;
    this.appendWords(Number(BigInt.asUintN(32, tsInit)), Number(BigInt.asUintN(32, tsInit >> 32n)), cmd, cmdOff, evts, evtOff, n, stride);
    return BigInt(seq);
  }

  /**
   * As `append`, allocation-free (the engine thread's path): tsInit as (lo, hi) u32 words, the
   * bytes copied word by word, so offsets and `stride` must be multiples of 4 (else byte copies).
   */
  appendWords(tsLo: number, tsHi: number, cmd: Uint8Array, cmdOff: number, evts: Uint8Array, evtOff: number, n: number, stride = EVT_SIZE): void {
    if (this.failure) throw this.failure;
    const len = recordSize(n);
    this.ensure(len);
    const p = this.used;
    const b = this.buf;
    const dv = this.dv;
    writeJournalHeaderWords(dv, p, this.nextSeqN++, n, tsLo, tsHi, REC_KIND_COMMAND);
    const e0 = jrecEvents(p);
    if (((cmd.byteOffset + cmdOff) & 3) === 0 && ((evts.byteOffset + evtOff) & 3) === 0 && (stride & 3) === 0) {
      const b32 = this.buf32;
      if (cmd.buffer !== this.srcBufA) { this.srcBufA = cmd.buffer; this.srcA = new Int32Array(cmd.buffer, 0, cmd.buffer.byteLength >> 2); }
      if (evts.buffer !== this.srcBufB) { this.srcBufB = evts.buffer; this.srcB = new Int32Array(evts.buffer, 0, evts.buffer.byteLength >> 2); }
      const c32 = this.srcA;
      const c = (cmd.byteOffset + cmdOff) >> 2;
      const to = jrecCmd(p) >> 2;
      for (let k = 0; k < RING_CMD_SIZE >> 2; k++) b32[to + k] = c32[c + k]!;
      const v32 = this.srcB;
      for (let i = 0; i < n; i++) {
        const from = (evts.byteOffset + evtOff + i * stride) >> 2;
        const at = (e0 + i * EVT_SIZE) >> 2;
        for (let k = 0; k < EVT_SIZE >> 2; k++) b32[at + k] = v32[from + k]!;
      }
    } else {
      b.set(cmd.subarray(cmdOff, cmdOff + RING_CMD_SIZE), jrecCmd(p));
      for (let i = 0; i < n; i++) b.set(evts.subarray(evtOff + i * stride, evtOff + i * stride + EVT_SIZE), e0 + i * EVT_SIZE);
    }
    for (let i = 0; i < n; i++) evtClearCmd(dv, e0 + i * EVT_SIZE);
    sealRecord(b, dv, p, len);
    this.used += len;
    this.pendingRecords++;
  }

  /**
   * Writes the appended records and (durability fsync) makes them durable with one fdatasync.
   * `mark` false leaves the COMMIT mark (at most one a second) to `markIfDue`, so that the engine
   * thread can publish the batch first: the mark only ever lags what is durable.
   */
  commit(mark = true): void {
    if (this.failure) throw this.failure;
    if (this.used === 0) return;
    try {
      if (this.stats.syncs === this.failAfter) {
        throw Object.assign(new Error(`${this.failErrno}: injected ${this.failErrno === 'EIO' ? 'i/o error' : 'no space left on device'}, write`), { code: this.failErrno });
      }
      this.writeAll(this.buf, 0, this.used, this.size);
      if (this.durability === 'fsync') this.io.fdatasyncSync(this.fd);
    } catch (e) {
      this.fence(e, this.durability === 'fsync' ? 'write or fdatasync' : 'write');
    }
    this.size += this.used;
    this.stats.bytes += this.used;
    this.stats.records += this.pendingRecords;
    this.stats.syncs++;
    this.used = 0;
    this.pendingRecords = 0;
    if (mark) this.markIfDue();
    if (this.size >= this.segmentBytes) this.roll();
    else if (this.preallocate) this.maybePreallocate();
  }

  /** Writes the COMMIT mark if the last one is older than `commitMarkMs` (durability fsync). */
  markIfDue(): void {
    // (never with records appended but not committed: the mark says everything before nextSeq is durable)
    if (this.failure || this.durability !== 'fsync' || this.used > 0) return;
    const t = this.now();
    if (t - this.lastMark >= this.commitMarkMs) this.mark(t);
  }

  private markFd = -1;
  private markSlot = 0;

  /**
   * Records that everything through nextSeq-1 is durable (recovery refuses to lose it): an in-place
   * write of one of the COMMIT file's two slots, alternately, and one fdatasync — no rename, no
   * directory sync on the hot path (the file is created once, atomically, with its first mark).
   */
  private mark(t: number): void {
    this.lastMark = t;
    try {
      if (this.markFd < 0) {
        const path = join(this.dir, 'COMMIT');
        const fresh = !fs.existsSync(path);
        if (!fresh) {
          // never overwrite the newest valid slot first: a torn write must leave the latest mark
          const b = fs.readFileSync(path);
          const s0 = b.length >= COMMIT_SIZE ? decodeCommit(b.subarray(0, COMMIT_SIZE)) : null;
          const s1 = b.length >= COMMIT_FILE_SIZE ? decodeCommit(b.subarray(COMMIT_SLOT2, COMMIT_FILE_SIZE)) : null;
          this.markSlot = !s0 ? 0 : !s1 ? 1 : s0.seq <= s1.seq ? 0 : 1;
        }
        if (fresh) {
          // created whole (the first mark in slot 0, synced, renamed into place): a crash can
          // leave no COMMIT file or a valid one, never an empty one that would stop start-up
          const tmp = path + '.tmp';
          const first = new Uint8Array(COMMIT_FILE_SIZE);
          first.set(encodeCommit(this.nextSeq - 1n, this.segFirst), 0);
          const fd = this.io.openSync(tmp, 'w');
          try {
            this.writeAll(first, 0, first.length, 0, fd);
            this.io.fsyncSync(fd);
          } finally {
            this.io.closeSync(fd);
          }
          this.io.renameSync(tmp, path);
          this.syncDir();
          this.markFd = this.io.openSync(path, 'r+');
          this.markSlot = 1;
          return;
        }
        this.markFd = this.io.openSync(path, 'r+');
      }
      const m = encodeCommit(this.nextSeq - 1n, this.segFirst);
      this.writeAll(m, 0, m.length, this.markSlot === 0 ? 0 : COMMIT_SLOT2, this.markFd);
      this.markSlot ^= 1;
      this.io.fdatasyncSync(this.markFd);
    } catch (e) {
      this.fence(e, 'COMMIT mark');
    }
  }



  close(): void {
    if (this.fd < 0) return;
    if (!this.failure && this.used > 0) this.commit();
    if (!this.failure && this.durability === 'fsync') { try { this.mark(this.now()); } catch { /* fenced; reported by mark */ } }
    try { this.io.closeSync(this.fd); } catch { /* closing after a failure */ }
    if (this.markFd >= 0) { try { this.io.closeSync(this.markFd); } catch { /* closing after a failure */ } }
    this.pre?.close();
    this.pre = null;
    this.fd = -1;
    this.markFd = -1;
  }
}
