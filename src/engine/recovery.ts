/**
 * Recovery and snapshots of the engine: open a journal directory's newest good snapshot, rebuild
 * the engine from it plus the journal tail with a determinism check, and snapshot a live engine.
 * journal/ supplies the bytes (segments, records, CRC checks, snapshot files); this module is the
 * one that drives an Engine with them (moved here from src/journal/index.ts: engine/ imports
 * journal/, never the reverse).
 *
 * Owns: the start-up sequence of docs/journal.md. Invariants: the rebuilt engine produced, for
 * every replayed command, exactly the recorded events (else ERR_JOURNAL_DIVERGED and no start);
 * its last seq is the journal's last seq.
 * Complexity: O(records replayed). Allocation: per replayed batch (start-up only).
 * Known limitations: one process per journal directory (LOCK file, src/journal/index.ts).
 */
import { CMD_SIZE, EVT_SIZE, EVT_OFF, RING_CMD_SIZE } from '../abi/records.js';
import { TradsysError } from '../domain/errors.js';
import { Engine, type EngineOptions, type RiskSetup } from './engine.js';
import { useWasmJournalVerifier } from './journal-verifier.js';
import { recover, readRecords, type RecoveryResult, type VerifiedRecords } from '../journal/recovery.js';
import { discardSnapshotsAfter, loadSnapshot, writeSnapshot } from '../journal/snapshots.js';
import { readRecord, recordSize, REC_CMD, REC_EVENTS, REC_VERSION, R_LEN, R_NEVENTS, R_SEQ, R_VERSION, type JournalRecord } from '../journal/format.js';
// (record fields are read as u32 words: R_LEN, R_VERSION and R_NEVENTS are 4-aligned; little-endian hosts only, as the WASM engine)

export interface RecoveredEngine {
  engine: Engine;
  recovery: RecoveryResult;
  snapshotSeq: bigint;
  replayed: number;
  seconds: number;
}

/**
 * Recovers `dir` and rebuilds the engine: newest good snapshot (restored and verified) or a fresh
 * engine with `riskSetup`, then every later record re-executed and compared with its recorded
 * events. One pass: each segment is read once, a chunk at a time, and each chunk's records are
 * verified and replayed from the same bytes while they are in the CPU cache.
 */
export function recoverEngine(dir: string, engineOpts: EngineOptions, riskSetup: RiskSetup | undefined, log: (m: string) => void): RecoveredEngine {
  const t0 = performance.now();
  useWasmJournalVerifier();
  const snapped = restoreNewest(dir, 1n << 64n, engineOpts, riskSetup, log);
  let replayed = 0;
  const recovery = recover(dir, { log, onRecords: (run) => { replayed += replayRecords(snapped.engine, run, snapped.seq); } });
  if (recovery.lastSeq >= snapped.seq) {
    return { engine: snapped.engine, recovery, snapshotSeq: snapped.seq, replayed, seconds: (performance.now() - t0) / 1000 };
  }
  // the newest snapshot is past the journal's end (possible only when it was written with
  // durability none and the tail was then lost): start again from an older one
  const again = restoreNewest(dir, recovery.lastSeq, engineOpts, riskSetup, log);
  discardSnapshotsAfter(dir, recovery.lastSeq, log);
  replayed = replayInto(again.engine, readRecords(dir, again.seq + 1n, undefined, true));
  return { engine: again.engine, recovery, snapshotSeq: again.seq, replayed, seconds: (performance.now() - t0) / 1000 };
}

/** The engine from the newest good snapshot with seq ≤ `maxSeq`, else a fresh one (seq 0). */
function restoreNewest(dir: string, maxSeq: bigint, engineOpts: EngineOptions, riskSetup: RiskSetup | undefined, log: (m: string) => void): { engine: Engine; seq: bigint } {
  let engine: Engine | null = null;
  const snap = loadSnapshot(dir, maxSeq, (s) => {
    engine = Engine.restore(s.body, { capacity: engineOpts.capacity, inboxCapacity: engineOpts.inboxCapacity, outboxCapacity: engineOpts.outboxCapacity, build: engineOpts.build, seed: engineOpts.seed });
    return true;
  }, log);
  if (snap && engine) return { engine, seq: snap.seq };
  const fresh = new Engine(engineOpts);
  if (riskSetup) fresh.applyRiskSetup(riskSetup);
  return { engine: fresh, seq: 0n };
}

/**
 * Re-executes a run of verified records with seq > `afterSeq` straight from their bytes, in
 * inbox-sized batches, comparing every event with the recorded one (all bytes but the batch
 * index). Records of an older schema version go through the upcaster one at a time. Returns the
 * number of records replayed.
 */
export function replayRecords(engine: Engine, seg: VerifiedRecords, afterSeq: bigint): number {
  const b = seg.bytes;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if ((b.byteOffset & 3) !== 0) return replayRecords(engine, { ...seg, bytes: b.slice(seg.from, seg.to), from: 0, to: seg.to - seg.from }, afterSeq);
  const w32 = new Uint32Array(b.buffer, b.byteOffset, b.byteLength >> 2);
  const cap = engine.inboxCapacity;
  const recAt = new Int32Array(cap); // byte offset of record i of the batch
  const recN = new Int32Array(cap); // its recorded event count
  let n = 0;
  let seq0 = 0n; // seq of the batch's first record
  let total = 0;
  const CMD_WORD = EVT_OFF.cmd >> 2;
  let outBuf: ArrayBufferLike | null = null;
  let out32: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  let ci = 0; // record whose events are being compared
  let ej = 0; // next event of it
  // a mismatch is noted and thrown after the engine call (a throwing sink would fence the engine
  // with ERR_ENGINE_SINK and hide the reason)
  let badSeq = -1n;
  let bad = '';
  const mismatch = (i: number, what: string): void => { if (badSeq < 0n) { badSeq = seq0 + BigInt(i); bad = what; } };
  const sink = (_v: DataView, o: Uint8Array, k: number): void => {
    if (badSeq >= 0n) return;
    if (o.buffer !== outBuf) { outBuf = o.buffer; out32 = new Uint32Array(outBuf, 0, outBuf.byteLength >> 2); }
    const o0 = o.byteOffset >> 2;
    for (let e = 0; e < k; e++) {
      const g = o0 + e * (EVT_SIZE >> 2);
      const c = out32[g + CMD_WORD]!;
      if (c !== ci) {
        if (c < ci || c >= n) return mismatch(ci, `emitted an event for batch command ${c} out of order`);
        if (ej !== recN[ci]) return mismatch(ci, `produced ${ej} events, the journal has ${recN[ci]}`);
        for (let i = ci + 1; i < c; i++) if (recN[i] !== 0) return mismatch(i, `produced 0 events, the journal has ${recN[i]}`);
        ci = c;
        ej = 0;
      }
      if (ej >= recN[ci]!) return mismatch(ci, `produced more than the ${recN[ci]} recorded events`);
      const w = (recAt[ci]! + REC_EVENTS + ej * EVT_SIZE) >> 2;
      let diff: number;
      if (UNROLLED) {
        diff = (out32[g]! ^ w32[w]!) | (out32[g + 1]! ^ w32[w + 1]!) | (out32[g + 2]! ^ w32[w + 2]!) | (out32[g + 3]! ^ w32[w + 3]!) |
          (out32[g + 4]! ^ w32[w + 4]!) | (out32[g + 5]! ^ w32[w + 5]!) | (out32[g + 6]! ^ w32[w + 6]!) | (out32[g + 7]! ^ w32[w + 7]!) |
          (out32[g + 8]! ^ w32[w + 8]!) | (out32[g + 9]! ^ w32[w + 9]!) | (out32[g + 10]! ^ w32[w + 10]!) | (out32[g + 12]! ^ w32[w + 12]!) |
          (out32[g + 13]! ^ w32[w + 13]!) | (out32[g + 14]! ^ w32[w + 14]!) | (out32[g + 15]! ^ w32[w + 15]!);
      } else {
        diff = 0;
        for (let q = 0; q < CMD_WORD; q++) diff |= out32[g + q]! ^ w32[w + q]!;
        for (let q = CMD_WORD + 1; q < EVT_SIZE >> 2; q++) diff |= out32[g + q]! ^ w32[w + q]!;
      }
      if (diff !== 0) {
        let q = 0;
        while (q === CMD_WORD || out32[g + q] === w32[w + q]) q++;
        return mismatch(ci, `event ${ej} differs at byte ${q * 4} (engine ${out32[g + q]}, journal ${w32[w + q]})`);
      }
      ej++;
    }
  };
  const flush = (): void => {
    if (n === 0) return;
    const inbox = engine.inbox;
    const in32 = new Uint32Array(inbox.buffer, inbox.byteOffset, (n * CMD_SIZE) >> 2);
    for (let i = 0; i < n; i++) {
      const from = (recAt[i]! + REC_CMD) >> 2;
      for (let k = 0; k < CMD_SIZE >> 2; k++) in32[i * (CMD_SIZE >> 2) + k] = w32[from + k]!;
    }
    ci = 0;
    ej = 0;
    engine.runInbox(n, sink);
    if (badSeq < 0n && ej !== recN[ci]) mismatch(ci, `produced ${ej} events, the journal has ${recN[ci]}`);
    for (let i = ci + 1; i < n && badSeq < 0n; i++) if (recN[i] !== 0) mismatch(i, `produced 0 events, the journal has ${recN[i]}`);
    if (badSeq >= 0n) diverged(badSeq, bad);
    total += n;
    n = 0;
  };
  // records before index `skip` are covered by the snapshot (numbers, not BigInts, per record)
  const skip = afterSeq < seg.firstSeq ? 0 : afterSeq - seg.firstSeq + 1n > BigInt(seg.count) ? seg.count : Number(afterSeq - seg.firstSeq + 1n);
  let p = seg.from;
  for (let r = 0; r < seg.count; r++) {
    const len = w32[p >> 2]!;
    if (r >= skip) {
      if ((w32[(p + R_VERSION) >> 2]! & 0xffff) !== REC_VERSION) {
        flush();
        total += replayInto(engine, [readRecord(b, dv, p)]);
      } else {
        if (n === 0) seq0 = seg.firstSeq + BigInt(r);
        recAt[n] = p;
        recN[n] = w32[(p + R_NEVENTS) >> 2]!;
        if (++n === cap) flush();
      }
    }
    p += len;
  }
  flush();
  return total;
}

/**
 * Re-executes records through `engine` and checks each command's events against the recorded ones
 * (all bytes but the batch index): the records are laid out again back to back in the current
 * version and go through `replayRecords`. Returns the number of records.
 */
export function replayInto(engine: Engine, records: Iterable<JournalRecord>): number {
  let buf = new Uint8Array(1 << 16);
  let dv = new DataView(buf.buffer);
  let used = 0;
  let count = 0;
  let first = 0n;
  let total = 0;
  const flush = (): void => {
    if (count > 0) total += replayRecords(engine, { path: '', bytes: buf, from: 0, to: used, firstSeq: first, count }, first - 1n);
    used = 0;
    count = 0;
  };
  for (const r of records) {
    if (count > 0 && (r.seq !== first + BigInt(count) || count === engine.inboxCapacity)) flush();
    const len = recordSize(r.nEvents);
    if (used + len > buf.length) {
      flush();
      if (len > buf.length) { buf = new Uint8Array(len); dv = new DataView(buf.buffer); }
    }
    if (count === 0) first = r.seq;
    dv.setUint32(used + R_LEN, len, true);
    dv.setBigUint64(used + R_SEQ, r.seq, true);
    dv.setUint16(used + R_VERSION, REC_VERSION, true);
    dv.setUint32(used + R_NEVENTS, r.nEvents, true);
    buf.set(r.cmd.subarray(0, RING_CMD_SIZE), used + REC_CMD);
    buf.set(r.events.subarray(0, r.nEvents * EVT_SIZE), used + REC_EVENTS);
    used += len;
    count++;
  }
  flush();
  return total;
}

/** The event comparison of replayRecords is unrolled for the current EVT layout (64 bytes, batch index in word 11). */
const UNROLLED = EVT_SIZE === 64 && EVT_OFF.cmd === 44;

function diverged(seq: bigint, what: string): never {
  throw new TradsysError('ERR_JOURNAL_DIVERGED', `replay of seq ${seq} diverged: the engine ${what}. The journal was written by a different engine build or configuration (instruments, risk limits); start-up stops rather than serve a different state`);
}

/** Writes an engine snapshot for `seq` (engine thread, between batches). */
export function snapshotEngine(dir: string, seq: bigint, engine: Engine): string {
  return writeSnapshot(dir, seq, engine.snapshot());
}
