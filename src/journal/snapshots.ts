/**
 * Engine snapshots for bounded recovery: the engine's state bytes (Engine.snapshot) at a journal
 * sequence, written atomically (temp file, fsync, rename, directory fsync); a damaged snapshot is
 * skipped for an older one (then the journal from seq 1).
 *
 * Owns: `<journal>/snapshots/<seq 20 digits>.snap`.
 * Layout: header 32 B: 0 magic 'TSSN' u32 · 4 format u32 (1) · 8 seq u64 · 16 body length u64 ·
 * 24 crc32c of the body u32 · 28 pad; then the body (the engine snapshot, its own format).
 * Invariants: a snapshot file is complete or absent (rename is atomic); `keep` newest are kept.
 * Complexity: O(state). Allocation: the snapshot bytes. Known limitations: read models (gateway
 * projections) are rebuilt from the journal, not snapshotted.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { crc32c } from '../sys/crc32c.js';

const MAGIC = 0x4e535354; // 'TSSN'
const HEADER = 32;
const NAME = /^(\d{20})\.snap$/;

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

export function snapshotDir(journalDir: string): string { return join(journalDir, 'snapshots'); }

/** Writes the snapshot of `seq` atomically and removes all but the `keep` newest. Returns its path. */
export function writeSnapshot(journalDir: string, seq: bigint, body: Uint8Array, keep = 3): string {
  const dir = snapshotDir(journalDir);
  fs.mkdirSync(dir, { recursive: true });
  const h = new Uint8Array(HEADER);
  const dv = new DataView(h.buffer);
  dv.setUint32(0, MAGIC, true);
  dv.setUint32(4, 1, true);
  dv.setBigUint64(8, seq, true);
  dv.setBigUint64(16, BigInt(body.length), true);
  dv.setUint32(24, crc32c(body), true);
  const final = join(dir, `${seq.toString().padStart(20, '0')}.snap`);
  const tmp = final + '.tmp';
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeSync(fd, h);
      fs.writeSync(fd, body);
      fs.fsyncSync(fd);
    } finally { fs.closeSync(fd); }
    fs.renameSync(tmp, final);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fsyncPath(dir);
  const all = fs.readdirSync(dir).filter((f) => NAME.test(f)).sort();
  for (const f of all.slice(0, Math.max(0, all.length - keep))) fs.rmSync(join(dir, f));
  return final;
}

export interface LoadedSnapshot { seq: bigint; body: Uint8Array; path: string }

/**
 * Removes snapshots past `lastSeq` (the journal's end): possible only with durability none after a
 * lost tail. Kept, such a snapshot would be restored once the journal grows past its seq again,
 * with a different history.
 */
export function discardSnapshotsAfter(journalDir: string, lastSeq: bigint, log: (m: string) => void): void {
  const dir = snapshotDir(journalDir);
  if (!fs.existsSync(dir)) return;
  for (const f of fs.readdirSync(dir).filter((x) => NAME.test(x))) {
    if (BigInt(NAME.exec(f)![1]!) <= lastSeq) continue;
    fs.rmSync(join(dir, f), { force: true });
    log(`journal: removed snapshot ${join(dir, f)}: it is past the journal's end ${lastSeq}`);
  }
  fsyncPath(dir);
}

/**
 * The newest valid snapshot with seq ≤ `maxSeq`, checked by `accept` too (e.g. a restore that
 * verifies the engine state); damaged or refused ones are reported through `log` and skipped.
 */
export function loadSnapshot(journalDir: string, maxSeq: bigint, accept: (s: LoadedSnapshot) => boolean, log: (m: string) => void): LoadedSnapshot | null {
  const dir = snapshotDir(journalDir);
  if (!fs.existsSync(dir)) return null;
  const names = fs.readdirSync(dir).filter((f) => NAME.test(f)).sort().reverse();
  for (const f of names) {
    const path = join(dir, f);
    const b = fs.readFileSync(path);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const bad = (why: string): void => log(`journal: snapshot ${path} skipped: ${why}`);
    if (b.length < HEADER || dv.getUint32(0, true) !== MAGIC || dv.getUint32(4, true) !== 1) { bad('bad header'); continue; }
    const seq = dv.getBigUint64(8, true);
    if (seq !== BigInt(NAME.exec(f)![1]!)) { bad('header seq differs from the name'); continue; }
    if (seq > maxSeq) { bad(`seq ${seq} is past the journal's end ${maxSeq}`); continue; }
    const len = Number(dv.getBigUint64(16, true));
    if (b.length !== HEADER + len) { bad(`size ${b.length}, header says ${HEADER + len}`); continue; }
    const body = new Uint8Array(b.buffer, b.byteOffset + HEADER, len);
    if (crc32c(body) !== dv.getUint32(24, true)) { bad('CRC mismatch'); continue; }
    const s = { seq, body, path };
    let ok = false;
    try { ok = accept(s); } catch (e) { bad((e as Error).message); continue; }
    if (!ok) { bad('refused'); continue; }
    return s;
  }
  return null;
}
