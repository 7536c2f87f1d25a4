/**
 * Writes a real journal in-process the way the engine thread does (run a batch, one record per
 * command with its events, one commit per batch), for the journal tests.
 */
import { CMD_SIZE, EVT_SIZE, EVT_OFF, RING_CMD_SIZE } from '../../src/abi/records.js';
import { Engine } from '../../src/engine/engine.js';
import { JournalWriter, type JournalWriterOptions } from '../../src/journal/writer.js';
import { writeSnapshot } from '../../src/journal/snapshots.js';

export interface WrittenJournal {
  /** After each commit: [segment firstSeq, bytes of that segment, last seq]. */
  commits: { segFirst: bigint; size: number; lastSeq: bigint }[];
  engine: Engine;
  lastSeq: bigint;
}

export function writeJournal(dir: string, recs: Uint8Array, opts: JournalWriterOptions & { symbols?: number; batch?: number; snapshotAt?: bigint[] } = {}): WrittenJournal {
  const batch = opts.batch ?? 64;
  const engine = new Engine({ symbols: opts.symbols ?? 4, capacity: 100_000, inboxCapacity: batch });
  const w = new JournalWriter(dir, 0n, null, { commitMarkMs: 0, ...opts });
  const n = recs.length / CMD_SIZE;
  const ring = new Uint8Array(batch * RING_CMD_SIZE);
  let raw = new Uint8Array(1 << 16);
  const commits: WrittenJournal['commits'] = [];
  let seq = 0n;
  const snaps = new Set((opts.snapshotAt ?? []).map(String));
  for (let off = 0; off < n; off += batch) {
    const k = Math.min(batch, n - off);
    ring.fill(0);
    for (let i = 0; i < k; i++) ring.set(recs.subarray((off + i) * CMD_SIZE, (off + i + 1) * CMD_SIZE), i * RING_CMD_SIZE);
    engine.inbox.set(recs.subarray(off * CMD_SIZE, (off + k) * CMD_SIZE));
    let ne = 0;
    engine.runInbox(k, (_v, b, m) => {
      if ((ne + m) * EVT_SIZE > raw.length) { const r2 = new Uint8Array(Math.max(raw.length * 2, (ne + m) * EVT_SIZE)); r2.set(raw); raw = r2; }
      raw.set(b.subarray(0, m * EVT_SIZE), ne * EVT_SIZE);
      ne += m;
    });
    const dv = new DataView(raw.buffer);
    let e = 0;
    for (let i = 0; i < k; i++) {
      const e0 = e;
      while (e < ne && dv.getUint32(e * EVT_SIZE + EVT_OFF.cmd, true) === i) e++;
      w.append(BigInt(off), ring, i * RING_CMD_SIZE, raw, e0 * EVT_SIZE, e - e0);
    }
    w.commit();
    seq += BigInt(k);
    const segFirst = (w as unknown as { segFirst: bigint }).segFirst;
    const size = (w as unknown as { size: number }).size;
    commits.push({ segFirst, size, lastSeq: seq });
    for (let s = seq - BigInt(k) + 1n; s <= seq; s++) if (snaps.has(String(s))) writeSnapshot(dir, seq, engine.snapshot());
  }
  w.close();
  return { commits, engine, lastSeq: seq };
}
