/**
 * The saga log: an append-only file of saga state transitions with the journal's framing (length,
 * CRC-32C, contiguous seq), fsync'd per append, recovered on open (a torn tail is cut, damage
 * before the last record is refused).
 *
 * Owns: `<journal dir>/sagas/sagas.log` and its compaction (`rewrite`, tmp + rename).
 * Layout (little-endian):
 * ```
 * header (16 B): 0 magic 'TSGL' u32 · 4 format u32 (1) · 8 reserved u64
 * record:        0 len u32 (whole record, multiple of 8) · 4 crc32c u32 (of bytes 8..len)
 *                8 seq u64 (from 1, contiguous) · 16 payloadLen u32 · 20 pad u32 ·
 *                24 payload (UTF-8 JSON, zero-padded to a multiple of 8)
 * ```
 * Invariants: a record is valid iff its length fits, its CRC matches and its seq is the next one;
 * a bad record is a torn tail only when no valid record follows it (then it is cut, as the
 * journal does), else ERR_SAGA_LOG_CORRUPT. After a failed write or fsync the log is fenced
 * (ERR_SAGA_LOG_WRITE) and every later append throws.
 * Complexity: O(file) to open, O(record) per append. Allocation: one buffer per append.
 * Known limitations: one writer (the process that owns the journal); payloads up to 16 MiB.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { TradsysError } from '../domain/errors.js';
import { crc32c } from '../sys/crc32c.js';

const MAGIC = 0x4c475354; // 'TSGL'
const FORMAT = 1;
const HEADER = 16;
const REC_HEADER = 24;
const MAX_PAYLOAD = 16 << 20;

export interface SagaLogEntry { seq: bigint; payload: unknown }

export interface SagaLogOptions {
  /** 'fsync' (default): each append is durable before it returns. */
  durability?: 'fsync' | 'none';
  log?: (message: string) => void;
}

function encode(seq: bigint, payload: unknown): Uint8Array {
  const body = Buffer.from(JSON.stringify(payload), 'utf8');
  if (body.length > MAX_PAYLOAD) throw new RangeError(`saga log payload of ${body.length} bytes exceeds ${MAX_PAYLOAD}`);
  const len = (REC_HEADER + body.length + 7) & ~7;
  const b = new Uint8Array(len);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, len, true);
  dv.setBigUint64(8, seq, true);
  dv.setUint32(16, body.length, true);
  b.set(body, REC_HEADER);
  dv.setUint32(4, crc32c(b, 8, len), true);
  return b;
}

function check(b: Uint8Array, dv: DataView, p: number, seq: bigint): number {
  if (b.length - p < REC_HEADER) return -1;
  const len = dv.getUint32(p, true);
  if (len < REC_HEADER || (len & 7) !== 0 || len > b.length - p) return -1;
  if (crc32c(b, p + 8, p + len) !== dv.getUint32(p + 4, true)) return -1;
  if (dv.getBigUint64(p + 8, true) !== seq) return -1;
  if (REC_HEADER + dv.getUint32(p + 16, true) > len) return -1;
  return len;
}

export class SagaLog {
  private fd: number;
  private size: number;
  private nextSeq: bigint;
  private failure: Error | null = null;
  private readonly durability: 'fsync' | 'none';

  private constructor(readonly path: string, fd: number, size: number, lastSeq: bigint, durability: 'fsync' | 'none') {
    this.fd = fd;
    this.size = size;
    this.nextSeq = lastSeq + 1n;
    this.durability = durability;
  }

  /** The log file of a journal directory. */
  static pathFor(journalDir: string): string { return join(journalDir, 'sagas', 'sagas.log'); }

  /** Opens (creating) the log, recovers it and returns its valid entries in order. */
  static open(path: string, opts: SagaLogOptions = {}): { log: SagaLog; entries: SagaLogEntry[]; cut: number } {
    const durability = opts.durability ?? 'fsync';
    const say = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
    fs.mkdirSync(join(path, '..'), { recursive: true });
    const entries: SagaLogEntry[] = [];
    let cut = 0;
    if (!fs.existsSync(path) || fs.statSync(path).size < HEADER) {
      const h = new Uint8Array(HEADER);
      const dv = new DataView(h.buffer);
      dv.setUint32(0, MAGIC, true);
      dv.setUint32(4, FORMAT, true);
      fs.writeFileSync(path, h);
      if (durability === 'fsync') SagaLog.syncFileAndDir(path);
      return { log: new SagaLog(path, fs.openSync(path, 'r+'), HEADER, 0n, durability), entries, cut };
    }
    const b = fs.readFileSync(path);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    if (dv.getUint32(0, true) !== MAGIC || dv.getUint32(4, true) !== FORMAT) throw new TradsysError('ERR_SAGA_LOG_CORRUPT', `saga log ${path}: bad header`);
    let p = HEADER;
    let seq = 1n;
    while (p < b.length) {
      const len = check(b, dv, p, seq);
      if (len < 0) {
        for (let q = p + 8; q + REC_HEADER <= b.length; q += 8) {
          const s = dv.getBigUint64(q + 8, true);
          if (s >= seq && s < seq + (1n << 32n) && check(b, dv, q, s) > 0) {
            throw new TradsysError('ERR_SAGA_LOG_CORRUPT', `saga log ${path} is damaged at byte ${p} (record seq ${seq}) and valid records follow it; restore it from a backup`);
          }
        }
        cut = b.length - p;
        fs.truncateSync(path, p);
        if (durability === 'fsync') SagaLog.syncFileAndDir(path);
        say(`saga log: cut a torn tail of ${cut} bytes at ${path}:${p} (after record ${seq - 1n})`);
        break;
      }
      const n = dv.getUint32(p + 16, true);
      entries.push({ seq, payload: JSON.parse(b.subarray(p + REC_HEADER, p + REC_HEADER + n).toString('utf8')) });
      p += len;
      seq++;
    }
    return { log: new SagaLog(path, fs.openSync(path, 'r+'), p, seq - 1n, durability), entries, cut };
  }

  private static syncFileAndDir(path: string): void {
    const fd = fs.openSync(path, 'r');
    try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
    const d = fs.openSync(join(path, '..'), 'r');
    try { fs.fsyncSync(d); } finally { fs.closeSync(d); }
  }

  get failed(): Error | null { return this.failure; }
  /** The seq of the last record. */
  get lastSeq(): bigint { return this.nextSeq - 1n; }
  get bytes(): number { return this.size; }

  /** Appends one record; durable when it returns (durability fsync). */
  append(payload: unknown): bigint {
    if (this.failure) throw this.failure;
    const rec = encode(this.nextSeq, payload);
    try {
      let done = 0;
      while (done < rec.length) {
        const k = fs.writeSync(this.fd, rec, done, rec.length - done, this.size + done);
        if (k <= 0) throw new Error(`short write (${k})`);
        done += k;
      }
      if (this.durability === 'fsync') fs.fdatasyncSync(this.fd);
    } catch (e) {
      this.failure = new TradsysError('ERR_SAGA_LOG_WRITE', `saga log ${this.path}: append failed (${(e as Error).message}); the saga manager is fenced`, { cause: e });
      throw this.failure;
    }
    this.size += rec.length;
    return this.nextSeq++;
  }

  /** Replaces the whole log by `payloads` (compaction), atomically: tmp file, fsync, rename. */
  rewrite(payloads: unknown[]): void {
    if (this.failure) throw this.failure;
    const parts: Uint8Array[] = [];
    const h = new Uint8Array(HEADER);
    const hv = new DataView(h.buffer);
    hv.setUint32(0, MAGIC, true);
    hv.setUint32(4, FORMAT, true);
    parts.push(h);
    payloads.forEach((pl, i) => parts.push(encode(BigInt(i + 1), pl)));
    const tmp = this.path + '.tmp';
    fs.writeFileSync(tmp, Buffer.concat(parts));
    if (this.durability === 'fsync') { const fd = fs.openSync(tmp, 'r'); try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); } }
    fs.closeSync(this.fd);
    fs.renameSync(tmp, this.path);
    if (this.durability === 'fsync') SagaLog.syncFileAndDir(this.path);
    this.fd = fs.openSync(this.path, 'r+');
    this.size = fs.statSync(this.path).size;
    this.nextSeq = BigInt(payloads.length + 1);
  }

  close(): void {
    if (this.fd < 0) return;
    try { fs.closeSync(this.fd); } catch { /* already failed */ }
    this.fd = -1;
  }
}
