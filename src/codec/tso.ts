/**
 * Order stream files: the binary `.tso` form and its CSV form (DESIGN "Order stream file").
 *
 * Owns: header encode/check, chunked readers (binary and CSV) that yield CMD record bytes,
 * writers, and the record-level validation that names the bad record or line.
 *
 * Layout: header 16 B = magic 'TSO1' · u32 record size (32) · u64 record count; then CMD records
 * (src/abi/records.ts, identical to the .tso record). CSV: header line
 * `op,side,type,tif,symbol,id,price,qty,account`, op N/C/M, side B/S, type L/M,
 * tif GTC/IOC/FOK/POST.
 * Invariants: a reader yields only records whose enum fields are in range; numbers are checked
 * against their field types. Complexity: O(records). Allocation: one chunk buffer per reader.
 * Known limitations: CSV fields are unquoted (none of them needs quoting); a negative CSV qty is
 * read as 0 (the engine rejects it with bad_qty, as DESIGN's "qty ≤ 0" asks).
 */
import { closeSync, openSync, readSync, fstatSync, writeSync } from 'node:fs';
import { CMD_OFF, CMD_SIZE } from '../abi/records.js';
import { TradsysError } from '../domain/errors.js';

export const TSO_MAGIC = 0x314f5354; // 'TSO1' little-endian
export const TSO_HEADER = 16;
export const CSV_HEADER = 'op,side,type,tif,symbol,id,price,qty,account';

const OP_NAMES = ['', 'N', 'C', 'M'];
const TIF_NAMES = ['GTC', 'IOC', 'FOK', 'POST'];
const U32_MAX = 0xffffffffn;
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

export function tsoHeader(count: number | bigint): Uint8Array {
  const h = new Uint8Array(TSO_HEADER);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, TSO_MAGIC, true);
  dv.setUint32(4, CMD_SIZE, true);
  dv.setBigUint64(8, BigInt(count), true);
  return h;
}

/** Checks the enum fields of the record at `p`; returns an error text or null. */
export function checkRecord(dv: DataView, p: number): string | null {
  const op = dv.getUint8(p + CMD_OFF.op);
  if (op < 1 || op > 3) return `op ${op} is not 1 (new), 2 (cancel) or 3 (modify)`;
  if (op !== 1) return null;
  const side = dv.getUint8(p + CMD_OFF.side);
  if (side > 1) return `side ${side} is not 0 (buy) or 1 (sell)`;
  const type = dv.getUint8(p + CMD_OFF.type);
  if (type > 1) return `type ${type} is not 0 (limit) or 1 (market)`;
  const tif = dv.getUint8(p + CMD_OFF.tif);
  if (tif > 3 && type === 0) return `tif ${tif} is not 0 (GTC), 1 (IOC), 2 (FOK) or 3 (post-only)`;
  return null;
}

/** A source of CMD records in chunks. */
export interface RecordSource {
  /** Records in the source if known up front (binary), else null (CSV). */
  readonly total: number | null;
  /** Fills `buf` with up to `max` records; returns how many (0 at the end). Throws on bad input. */
  next(buf: Uint8Array, max: number): number;
  /** Bytes consumed so far (for progress). */
  readonly bytesRead: number;
  readonly bytesTotal: number;
  close(): void;
}

export class TsoReader implements RecordSource {
  readonly total: number;
  readonly bytesTotal: number;
  bytesRead = TSO_HEADER;
  private readonly fd: number;
  private index = 0;

  constructor(private readonly path: string) {
    this.fd = openInput(path);
    try {
      const size = fstatSync(this.fd).size;
      this.bytesTotal = size;
      const h = new Uint8Array(TSO_HEADER);
      if (readSync(this.fd, h, 0, TSO_HEADER, 0) !== TSO_HEADER) throw fmt(path, `file is ${size} bytes, shorter than the 16-byte header`);
      const dv = new DataView(h.buffer);
      if (dv.getUint32(0, true) !== TSO_MAGIC) throw fmt(path, 'bad magic (expected "TSO1"); is this a CSV file? CSV files need the .csv extension');
      const rs = dv.getUint32(4, true);
      if (rs !== CMD_SIZE) throw fmt(path, `record size ${rs} in header, expected ${CMD_SIZE}`);
      const count = dv.getBigUint64(8, true);
      const body = BigInt(size - TSO_HEADER);
      const want = count * BigInt(CMD_SIZE);
      if (body < want) {
        throw fmt(path, `header says ${count} records but the file holds ${body / BigInt(CMD_SIZE)} (record ${body / BigInt(CMD_SIZE)} is truncated or missing)`);
      }
      if (body > want) throw fmt(path, `${body - want} bytes after the last of ${count} records`);
      this.total = Number(count);
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  next(buf: Uint8Array, max: number): number {
    const n = Math.min(max, this.total - this.index, Math.floor(buf.length / CMD_SIZE));
    if (n <= 0) return 0;
    const bytes = n * CMD_SIZE;
    let got = 0;
    while (got < bytes) {
      const r = readSync(this.fd, buf, got, bytes - got, this.bytesRead + got);
      if (r === 0) throw fmt(this.path, `unexpected end of file in record ${this.index + Math.floor(got / CMD_SIZE)}`);
      got += r;
    }
    const dv = new DataView(buf.buffer, buf.byteOffset, bytes);
    for (let i = 0; i < n; i++) {
      const err = checkRecord(dv, i * CMD_SIZE);
      if (err) throw fmt(this.path, `record ${this.index + i}: ${err}`);
    }
    this.index += n;
    this.bytesRead += bytes;
    return n;
  }

  close(): void { closeSync(this.fd); }
}

function fmt(path: string, msg: string): TradsysError {
  return new TradsysError('ERR_TSO_FORMAT', `${path}: ${msg}`);
}
function csvErr(path: string, line: number, msg: string): TradsysError {
  return new TradsysError('ERR_CSV_FORMAT', `${path}:${line}: ${msg}`);
}
function openInput(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new TradsysError('ERR_IO', `cannot open ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new TradsysError('ERR_IO', `${path} is not a regular file`);
  }
  return fd;
}

function parseInt64(s: string, lo: bigint, hi: bigint): bigint | null {
  if (!/^[+-]?\d+$/.test(s)) return null;
  const v = BigInt(s);
  return v < lo || v > hi ? null : v;
}

/** Parses one CSV data line into a CMD record at `p`; returns an error text or null. */
export function parseCsvLine(line: string, dv: DataView, p: number): string | null {
  const f = line.split(',');
  if (f.length !== 9) return `expected 9 fields (${CSV_HEADER}), got ${f.length}`;
  const [ops, sides, types, tifs, syms, ids, prices, qtys, accts] = f.map((x) => x.trim()) as [string, string, string, string, string, string, string, string, string];
  const op = ({ N: 1, C: 2, M: 3 } as Record<string, number>)[ops.toUpperCase()];
  if (op === undefined) return `op "${ops}" is not N, C or M`;
  const isNew = op === 1;
  const side = sides === '' && !isNew ? 0 : ({ B: 0, S: 1 } as Record<string, number>)[sides.toUpperCase()];
  if (side === undefined) return `side "${sides}" is not B or S`;
  const type = types === '' && !isNew ? 0 : ({ L: 0, M: 1 } as Record<string, number>)[types.toUpperCase()];
  if (type === undefined) return `type "${types}" is not L or M`;
  const tif = tifs === '' && !isNew ? 0 : ({ GTC: 0, IOC: 1, FOK: 2, POST: 3, POST_ONLY: 3 } as Record<string, number>)[tifs.toUpperCase()];
  if (tif === undefined) return `tif "${tifs}" is not GTC, IOC, FOK or POST`;
  const sym = parseInt64(syms, 0n, U32_MAX);
  if (sym === null) return `symbol "${syms}" is not an integer in [0, 4294967295]`;
  const id = parseInt64(ids, 0n, U64_MAX);
  if (id === null) return `id "${ids}" is not an integer in [0, 2^64-1]`;
  const needPx = op === 3 || (isNew && type === 0);
  let price = 0n;
  if (prices !== '' || needPx) {
    const v = parseInt64(prices, I64_MIN, I64_MAX);
    if (v === null) return `price "${prices}" is not a 64-bit signed integer`;
    price = v;
  }
  let qty = 0n;
  if (qtys !== '' || op !== 2) {
    const v = parseInt64(qtys, I64_MIN, U32_MAX);
    if (v === null) return `qty "${qtys}" is not an integer ≤ 4294967295`;
    qty = v < 0n ? 0n : v;
  }
  let acct = 0n;
  if (accts !== '' || isNew) {
    const v = parseInt64(accts, 0n, U32_MAX);
    if (v === null) return `account "${accts}" is not an integer in [0, 4294967295]`;
    acct = v;
  }
  dv.setUint8(p + CMD_OFF.op, op);
  dv.setUint8(p + CMD_OFF.side, side);
  dv.setUint8(p + CMD_OFF.type, type);
  dv.setUint8(p + CMD_OFF.tif, tif);
  dv.setUint32(p + CMD_OFF.symbol, Number(sym), true);
  dv.setBigUint64(p + CMD_OFF.id, id, true);
  dv.setBigInt64(p + CMD_OFF.price, price, true);
  dv.setUint32(p + CMD_OFF.qty, Number(qty), true);
  dv.setUint32(p + CMD_OFF.account, Number(acct), true);
  return null;
}

/** Streams a CSV order file; errors name the file and line. */
export class CsvReader implements RecordSource {
  readonly total = null;
  readonly bytesTotal: number;
  bytesRead = 0;
  private readonly fd: number;
  private readonly chunk = Buffer.alloc(1 << 20);
  private carry = '';
  private lineNo = 0;
  private eof = false;
  private lines: string[] = [];
  private li = 0;
  private headerSeen = false;

  constructor(private readonly path: string) {
    this.fd = openInput(path);
    this.bytesTotal = fstatSync(this.fd).size;
  }

  private fill(): boolean {
    while (this.li >= this.lines.length) {
      if (this.eof) return false;
      const r = readSync(this.fd, this.chunk, 0, this.chunk.length, null);
      this.bytesRead += r;
      let text: string;
      if (r === 0) {
        this.eof = true;
        text = this.carry;
        this.carry = '';
        this.lines = text.length > 0 ? [text] : [];
      } else {
        text = this.carry + this.chunk.toString('utf8', 0, r);
        const parts = text.split('\n');
        this.carry = parts.pop() ?? '';
        this.lines = parts;
      }
      this.li = 0;
    }
    return true;
  }

  next(buf: Uint8Array, max: number): number {
    const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const lim = Math.min(max, Math.floor(buf.length / CMD_SIZE));
    let n = 0;
    while (n < lim && this.fill()) {
      let line = this.lines[this.li++]!;
      this.lineNo++;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (!this.headerSeen) {
        if (line.trim().replace(/^\uFEFF/, '') !== CSV_HEADER) throw csvErr(this.path, this.lineNo, `first line must be the header "${CSV_HEADER}"`);
        this.headerSeen = true;
        continue;
      }
      if (line.trim() === '') continue;
      const err = parseCsvLine(line, dv, n * CMD_SIZE);
      if (err) throw csvErr(this.path, this.lineNo, err);
      n++;
    }
    if (n === 0 && !this.headerSeen) throw csvErr(this.path, 1, `empty file; the first line must be the header "${CSV_HEADER}"`);
    return n;
  }

  close(): void { closeSync(this.fd); }
}

/** Opens a .tso or .csv order file by extension (anything but .csv is read as .tso). */
export function openOrderFile(path: string): RecordSource {
  return path.toLowerCase().endsWith('.csv') ? new CsvReader(path) : new TsoReader(path);
}

/** The CSV line of the CMD record at `p`. */
export function csvLineAt(dv: DataView, p: number): string {
  const op = dv.getUint8(p + CMD_OFF.op);
  return [
    OP_NAMES[op] ?? String(op),
    dv.getUint8(p + CMD_OFF.side) === 0 ? 'B' : 'S',
    dv.getUint8(p + CMD_OFF.type) === 0 ? 'L' : 'M',
    TIF_NAMES[dv.getUint8(p + CMD_OFF.tif)] ?? 'GTC',
    dv.getUint32(p + CMD_OFF.symbol, true),
    dv.getBigUint64(p + CMD_OFF.id, true),
    dv.getBigInt64(p + CMD_OFF.price, true),
    dv.getUint32(p + CMD_OFF.qty, true),
    dv.getUint32(p + CMD_OFF.account, true),
  ].join(',');
}

/** Writes records to `fd` as .tso (with header) or CSV. */
export function writeOrderFile(fd: number, records: Uint8Array, count: number, csv: boolean): void {
  if (!csv) {
    writeSync(fd, tsoHeader(count));
    let off = 0;
    const bytes = count * CMD_SIZE;
    while (off < bytes) off += writeSync(fd, records, off, Math.min(bytes - off, 1 << 24));
    return;
  }
  writeSync(fd, CSV_HEADER + '\n');
  const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
  const step = 65536;
  for (let i = 0; i < count; i += step) {
    const lines: string[] = [];
    for (let j = i; j < Math.min(count, i + step); j++) lines.push(csvLineAt(dv, j * CMD_SIZE));
    writeSync(fd, lines.join('\n') + '\n');
  }
}
