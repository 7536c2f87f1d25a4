/**
 * The journal as the engine thread uses it: open (lock + recovery), rebuild the engine from the
 * newest good snapshot plus the journal tail with a determinism check, then append.
 *
 * Owns: the start-up sequence of docs/journal.md. Invariants: the rebuilt engine produced, for
 * every replayed command, exactly the recorded events (else ERR_JOURNAL_DIVERGED and no start);
 * its last seq is the journal's last seq.
 * Complexity: O(records replayed). Allocation: per replayed batch (start-up only).
 * Known limitations: one process per journal directory (LOCK file with the owner's pid).
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { CMD_SIZE, EVT_SIZE, EVT_OFF } from '../abi/records.js';
import { TradsysError } from '../domain/errors.js';
import { Engine, type EngineOptions, type RiskSetup } from '../engine/engine.js';
import { recover, readRecords, type RecoveryResult } from './recovery.js';
import { loadSnapshot, writeSnapshot } from './snapshots.js';
import { JournalWriter, type JournalWriterOptions } from './writer.js';
import type { JournalRecord } from './format.js';

export { JournalWriter, type Durability, type JournalIo } from './writer.js';
export { recover, readRecords, listSegments } from './recovery.js';
export { writeSnapshot, loadSnapshot } from './snapshots.js';
export type { JournalRecord } from './format.js';

export interface JournalConfig extends JournalWriterOptions {
  dir: string;
  /** Snapshot the engine every this many commands (default 1,000,000; 0 = never). */
  snapshotEvery?: number;
}

/** Takes the directory's LOCK (stale locks of dead processes are taken over). */
export function lockJournal(dir: string): () => void {
  fs.mkdirSync(dir, { recursive: true });
  const path = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(path, String(process.pid), { flag: 'wx' });
      return () => { try { if (fs.readFileSync(path, 'utf8') === String(process.pid)) fs.rmSync(path); } catch { /* already gone */ } };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(fs.readFileSync(path, 'utf8'));
      let alive = false;
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid) { try { process.kill(pid, 0); alive = true; } catch { alive = false; } }
      if (alive) throw new TradsysError('ERR_JOURNAL_LOCKED', `journal ${dir} is in use by process ${pid}; stop it first (or use another --data directory)`);
      fs.rmSync(path, { force: true });
    }
  }
  throw new TradsysError('ERR_JOURNAL_LOCKED', `cannot lock journal ${dir}`);
}

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
 * events.
 */
export function recoverEngine(dir: string, engineOpts: EngineOptions, riskSetup: RiskSetup | undefined, log: (m: string) => void): RecoveredEngine {
  const t0 = performance.now();
  const recovery = recover(dir, { log });
  let engine: Engine | null = null;
  const snap = loadSnapshot(dir, recovery.lastSeq, (s) => {
    engine = Engine.restore(s.body, { capacity: engineOpts.capacity, inboxCapacity: engineOpts.inboxCapacity, outboxCapacity: engineOpts.outboxCapacity, build: engineOpts.build, seed: engineOpts.seed });
    return true;
  }, log);
  if (!engine) {
    engine = new Engine(engineOpts);
    if (riskSetup) engine.applyRiskSetup(riskSetup);
  }
  const snapshotSeq = snap ? snap.seq : 0n;
  const replayed = replayInto(engine, readRecords(dir, snapshotSeq + 1n, undefined, true));
  return { engine, recovery, snapshotSeq, replayed, seconds: (performance.now() - t0) / 1000 };
}

/**
 * Re-executes records through `engine` in inbox-sized batches and checks each command's events
 * against the recorded ones (all bytes but the batch index). Returns the number of records.
 */
export function replayInto(engine: Engine, records: Iterable<JournalRecord>): number {
  const cap = engine.inboxCapacity;
  const batch: JournalRecord[] = [];
  const cursor = new Int32Array(cap);
  let total = 0;
  let wantBuf: ArrayBufferLike | null = null;
  let want32: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  let gotBuf: ArrayBufferLike | null = null;
  let got32: Uint32Array<ArrayBufferLike> = new Uint32Array(0);
  const CMD_WORD = EVT_OFF.cmd >> 2;
  const flush = (): void => {
    const n = batch.length;
    if (n === 0) return;
    const inbox = engine.inbox;
    for (let i = 0; i < n; i++) inbox.set(batch[i]!.cmd.subarray(0, CMD_SIZE), i * CMD_SIZE);
    cursor.fill(0, 0, n);
    engine.runInbox(n, (v, _b, k) => {
      for (let e = 0; e < k; e++) {
        const p = e * EVT_SIZE;
        const i = v.getUint32(p + EVT_OFF.cmd, true);
        const r = batch[i]!;
        const j = cursor[i]!++;
        if (j >= r.nEvents) diverged(r, `produced more than the ${r.nEvents} recorded events`);
        const q = r.events;
        const qo = q.byteOffset + j * EVT_SIZE;
        if ((qo & 3) === 0) {
          if (q.buffer !== wantBuf) { wantBuf = q.buffer; want32 = new Uint32Array(q.buffer, 0, q.buffer.byteLength >> 2); }
          const gb = v.buffer as ArrayBuffer;
          if (gb !== gotBuf) { gotBuf = gb; got32 = new Uint32Array(gb, 0, gb.byteLength >> 2); }
          const g0 = (v.byteOffset + p) >> 2;
          const w0 = qo >> 2;
          for (let w = 0; w < 16; w++) {
            if (w === CMD_WORD) continue;
            if (got32[g0 + w] !== want32[w0 + w]) diverged(r, `event ${j} differs at byte ${w * 4} (engine ${got32[g0 + w]}, journal ${want32[w0 + w]})`);
          }
        } else {
          for (let w = 0; w < EVT_SIZE; w += 4) {
            if (w === EVT_OFF.cmd) continue;
            const got = v.getUint32(p + w, true);
            const want = (q[j * EVT_SIZE + w]! | (q[j * EVT_SIZE + w + 1]! << 8) | (q[j * EVT_SIZE + w + 2]! << 16) | (q[j * EVT_SIZE + w + 3]! << 24)) >>> 0;
            if (got !== want) diverged(r, `event ${j} differs at byte ${w} (engine ${got}, journal ${want})`);
          }
        }
      }
    });
    for (let i = 0; i < n; i++) if (cursor[i] !== batch[i]!.nEvents) diverged(batch[i]!, `produced ${cursor[i]} events, the journal has ${batch[i]!.nEvents}`);
    total += n;
    batch.length = 0;
  };
  for (const r of records) {
    batch.push(r);
    if (batch.length === cap) flush();
  }
  flush();
  return total;
}

function diverged(r: JournalRecord, what: string): never {
  throw new TradsysError('ERR_JOURNAL_DIVERGED', `replay of seq ${r.seq} diverged: the engine ${what}. The journal was written by a different engine build or configuration (instruments, risk limits); start-up stops rather than serve a different state`);
}

/** Writes an engine snapshot for `seq` (engine thread, between batches). */
export function snapshotEngine(dir: string, seq: bigint, engine: Engine): string {
  return writeSnapshot(dir, seq, engine.snapshot());
}
