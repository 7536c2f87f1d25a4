/**
 * The journal's public surface: the directory lock, the configuration, and re-exports of the
 * writer, the reader/recovery scan and the snapshot files. journal/ stores and checks bytes only;
 * rebuilding an Engine from snapshot + journal (replay, snapshots of a live engine) is in
 * src/engine/recovery.ts.
 *
 * Owns: the LOCK file. Invariants: one process per journal directory.
 * Known limitations: a LOCK whose owner pid was reused by another live process is not taken over.
 */
import * as fs from 'node:fs';
import { join } from 'node:path';
import { TradsysError } from '../domain/errors.js';
import type { JournalWriterOptions } from './writer.js';

export { JournalWriter, type Durability, type JournalIo } from './writer.js';
export { recover, readRecords, listSegments } from './recovery.js';
export { writeSnapshot, loadSnapshot, discardSnapshotsAfter } from './snapshots.js';
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
