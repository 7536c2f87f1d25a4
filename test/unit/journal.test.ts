/**
 * The journal with real files: CRC-32C check value; write → recover → read round trip across
 * segments; simulated power loss (random truncation after the last fsync plus random bytes, 200
 * trials: no acknowledged record lost, the tail cut at a record boundary); corruption inside the
 * durable region (bit flips, zeroed 4 KiB pages, truncation; segments, COMMIT mark and
 * snapshots: every case detected, never silent loss); the v1 fixture upcast and replayed; write
 * failures fence the writer; snapshot at random cut points + tail replay equals an uninterrupted
 * run; a tampered event stops replay (determinism check).
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '../../src/sys/crc32c.js';
import { recover, readRecords, listSegments } from '../../src/journal/recovery.js';
import { recoverEngine, replayInto } from '../../src/engine/recovery.js';
import { JournalWriter, nodeIo } from '../../src/journal/writer.js';
import { SEG_HEADER, R_CRC, R_LEN, REC_EVENTS, sealRecord, segmentName, encodeCommit, decodeCommitFile } from '../../src/journal/format.js';
import { Engine } from '../../src/engine/engine.js';
import { generate, prng as rng } from '../../src/workload/generator.js';
import { CMD_SIZE, EVT_SIZE } from '../../src/abi/records.js';
import { writeJournal } from '../support/journal-fixture.js';

const tmp = (p: string): string => mkdtempSync(join(tmpdir(), p));
const quiet = (): void => {};


function copyDir(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true });
}

describe('journal', () => {
  it('CRC-32C has the standard check value', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    const b = new Uint8Array(1000).map((_, i) => i * 7);
    expect(crc32c(b, 300, 1000, crc32c(b, 0, 300))).toBe(crc32c(b));
  });

  it('writes, recovers and reads back every record across segments, in order', () => {
    const dir = tmp('jr-');
    const recs = generate({ seed: 3, count: 5000, symbols: 4, mix: 'default', badRate: 0.01 });
    const w = writeJournal(dir, recs, { segmentBytes: 64 << 10 });
    expect(listSegments(dir).length).toBeGreaterThan(3);
    const r = recover(dir, { log: quiet });
    expect(r.lastSeq).toBe(5000n);
    expect(r.cut).toBeNull();
    expect(r.committed).toBe(5000n);
    let seq = 0n;
    for (const rec of readRecords(dir)) {
      seq++;
      expect(rec.seq).toBe(seq);
      expect(Buffer.from(rec.cmd.subarray(0, CMD_SIZE))).toEqual(Buffer.from(recs.subarray(Number(seq - 1n) * CMD_SIZE, Number(seq) * CMD_SIZE)));
    }
    expect(seq).toBe(5000n);
    // a fresh engine replaying the journal reaches the same state (determinism check passes)
    const e = new Engine({ symbols: 4, capacity: 100_000 });
    expect(replayInto(e, readRecords(dir))).toBe(5000);
    expect(e.stateHash()).toBe(w.engine.stateHash());
    expect([...readRecords(dir, 4990n)].map((x) => x.seq)).toEqual(Array.from({ length: 11 }, (_, i) => 4990n + BigInt(i)));
  });

  it('power loss: truncation after the last fsync plus random bytes loses no acknowledged record (200 trials)', () => {
    const base = tmp('jp-');
    const recs = generate({ seed: 5, count: 600, symbols: 3, mix: 'aggressive', badRate: 0 });
    const w = writeJournal(base, recs, { batch: 7 });
    fs.rmSync(join(base, 'COMMIT')); // the mark is re-created per trial at or before the last fsync
    const seg = join(base, segmentName(1n));
    const full = fs.readFileSync(seg);
    const all = [...readRecords(base)].map((r) => Buffer.from(r.cmd).toString('hex'));
    const rnd = rng(11);
    for (let t = 0; t < 200; t++) {
      const dir = tmp('jpt-');
      const k = Math.floor(rnd() * w.commits.length); // last fsync'ed batch
      const c = w.commits[k]!;
      const end = c.size + Math.floor(rnd() * (full.length - c.size + 1)); // unsynced bytes that did reach the disk
      const junk = Buffer.from(Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)));
      fs.writeFileSync(join(dir, segmentName(1n)), Buffer.concat([full.subarray(0, end), junk]));
      if (rnd() < 0.5) {
        const markSeq = BigInt(Math.floor(rnd() * Number(c.lastSeq + 1n)));
        if (markSeq > 0n) {
          fs.writeFileSync(join(dir, 'COMMIT'), encodeCommit(markSeq, 1n));
        }
      }
      const r = recover(dir, { log: quiet });
      expect(r.lastSeq).toBeGreaterThanOrEqual(c.lastSeq);
      const got = [...readRecords(dir)].map((x) => Buffer.from(x.cmd).toString('hex'));
      expect(got).toEqual(all.slice(0, got.length));
      // cut exactly at a record boundary: the file ends with the last valid record
      const size = fs.statSync(join(dir, segmentName(1n))).size;
      expect(recover(dir, { log: quiet }).cut).toBeNull();
      expect(size).toBeLessThanOrEqual(end + junk.length);
      fs.rmSync(dir, { recursive: true });
    }
  });

  it('corruption inside the durable region is always detected, with file and offset (bit flips, zeroed pages, truncation)', () => {
    const base = tmp('jc-');
    const recs = generate({ seed: 9, count: 3000, symbols: 3, mix: 'default', badRate: 0 });
    writeJournal(base, recs, { segmentBytes: 96 << 10 });
    const segs = listSegments(base);
    expect(segs.length).toBeGreaterThan(2);
    const rnd = rng(21);
    let detected = 0;
    const trials = 150;
    for (let t = 0; t < trials; t++) {
      const dir = tmp('jct-');
      copyDir(base, dir);
      const s = segs[Math.floor(rnd() * segs.length)]!;
      const path = join(dir, segmentName(s.firstSeq));
      const b = fs.readFileSync(path);
      const kind = t % 3;
      if (kind === 0) {
        const at = Math.floor(rnd() * b.length);
        b[at]! ^= 1 << Math.floor(rnd() * 8);
        fs.writeFileSync(path, b);
      } else if (kind === 1) {
        const page = Math.floor(rnd() * Math.ceil(b.length / 4096)) * 4096;
        b.fill(0, page, Math.min(b.length, page + 4096));
        fs.writeFileSync(path, b);
      } else {
        fs.truncateSync(path, Math.floor(rnd() * (b.length - 1)));
      }
      try {
        recover(dir, { log: quiet });
      } catch (e) {
        expect((e as { code: string }).code).toBe('ERR_JOURNAL_CORRUPT');
        expect((e as Error).message).toContain(dir);
        expect((e as Error).message).toMatch(/at byte \d+/);
        detected++;
      }
      fs.rmSync(dir, { recursive: true });
    }
    expect(detected).toBe(trials);
  });

  it('zeros where the COMMIT mark says records were stop start-up naming the segment and offset; a COMMIT is never left empty', () => {
    const dir = tmp('jz-');
    const w = writeJournal(dir, generate({ seed: 6, count: 1200, symbols: 2, mix: 'default' }));
    const c = w.commits[Math.floor(w.commits.length / 2)]!;
    const seg = join(dir, segmentName(1n));
    const b = fs.readFileSync(seg);
    b.fill(0, c.size);
    fs.writeFileSync(seg, b);
    expect(() => recover(dir, { log: quiet })).toThrow(new RegExp(`${segmentName(1n)} at byte ${c.size}: record seq ${c.lastSeq + 1n}: bad_len, but the COMMIT mark says records through 1200 were durable`));
    // the COMMIT file is created whole (tmp, sync, rename): no COMMIT.tmp stays behind
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('COMMIT'))).toEqual(['COMMIT']);
  });

  it('a damaged COMMIT mark or a missing segment stops start-up', () => {
    const base = tmp('jm-');
    writeJournal(base, generate({ seed: 1, count: 2000, symbols: 2, mix: 'default' }), { segmentBytes: 64 << 10 });
    const d1 = tmp('jm1-');
    copyDir(base, d1);
    const cm = fs.readFileSync(join(d1, 'COMMIT'));
    // one damaged slot (a torn in-place write) leaves the other: start-up goes on
    const slot = cm.subarray(0, 24).some((x) => x !== 0) ? 0 : 512;
    cm[slot + 10]! ^= 4;
    fs.writeFileSync(join(d1, 'COMMIT'), cm);
    expect(recover(d1, { log: quiet }).lastSeq).toBe(2000n);
    // both slots damaged: stop
    cm[(slot ^ 512) + 10]! ^= 4;
    fs.writeFileSync(join(d1, 'COMMIT'), cm);
    expect(() => recover(d1, { log: quiet })).toThrow(/COMMIT/);
    const d2 = tmp('jm2-');
    copyDir(base, d2);
    fs.rmSync(listSegments(d2)[1]!.path);
    expect(() => recover(d2, { log: quiet })).toThrow(/a segment is missing/);
  });

  it('a reopened writer writes its first COMMIT mark over the older slot, never the newest', () => {
    const dir = tmp('jcm-');
    writeJournal(dir, generate({ seed: 2, count: 300, symbols: 2, mix: 'default' }), { batch: 50 });
    const slots = (): [bigint | null, bigint | null] => {
      const b = fs.readFileSync(join(dir, 'COMMIT'));
      const dec = (x: Buffer): bigint | null => { const v = decodeCommitFile(x); return v ? v.seq : null; };
      return [dec(b.subarray(0, 24)), dec(b.subarray(512, 536))];
    };
    const before = slots();
    expect(before[0]).not.toBeNull();
    expect(before[1]).not.toBeNull();
    const newest = before[0]! > before[1]! ? 0 : 1;
    const r = recover(dir, { log: quiet });
    const last = r.segments[r.segments.length - 1]!;
    const w = new JournalWriter(dir, r.lastSeq, { firstSeq: last.firstSeq, size: last.size }, { commitMarkMs: 0 });
    w.append(0n, new Uint8Array(96), 0, new Uint8Array(0), 0, 0);
    w.commit();
    const after = slots();
    expect(after[newest]).toBe(before[newest]); // untouched
    expect(after[newest ^ 1]).toBe(r.lastSeq + 1n); // the older slot took the new mark
    w.close();
  });

  it('reads the committed v1 fixture through the upcaster and replays it exactly', () => {
    const dir = tmp('jv1-');
    copyDir(join(import.meta.dirname, '../fixtures/journal/v1'), dir);
    const r = recover(dir, { log: quiet });
    expect(r.lastSeq).toBe(300n);
    const recs = [...readRecords(dir)];
    expect(recs.every((x) => x.version === 1 && x.tsInit === 0n && x.cmd.length === 96)).toBe(true);
    const e = new Engine({ symbols: 3, capacity: 10_000 });
    expect(replayInto(e, recs)).toBe(300);
    e.validate();
    expect(e.stateHash()).toBe(BigInt(fs.readFileSync(join(import.meta.dirname, '../fixtures/journal/v1.hash'), 'utf8').trim()));
  });

  it('a write or fdatasync failure fences the writer: nothing more is accepted', () => {
    for (const fail of ['write', 'sync'] as const) {
      const dir = tmp('jf-');
      let calls = 0;
      const io = {
        ...nodeIo,
        writeSync: (fd: number, b: Uint8Array, off: number, len: number, pos: number): number => {
          if (fail === 'write' && pos > SEG_HEADER && ++calls === 3) throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          return nodeIo.writeSync(fd, b, off, len, pos);
        },
        fdatasyncSync: (fd: number): void => {
          if (fail === 'sync' && ++calls === 4) throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
          nodeIo.fdatasyncSync(fd);
        },
      };
      const w = new JournalWriter(dir, 0n, null, { io, commitMarkMs: 1e9 });
      const cmd = new Uint8Array(96);
      let committed = 0;
      let failed: unknown = null;
      for (let i = 0; i < 10 && !failed; i++) {
        w.append(0n, cmd, 0, new Uint8Array(0), 0, 0);
        try { w.commit(); committed++; } catch (e) { failed = e; }
      }
      expect((failed as { code: string }).code).toBe('ERR_JOURNAL_WRITE');
      expect(w.failed).not.toBeNull();
      expect(() => w.append(0n, cmd, 0, new Uint8Array(0), 0, 0)).toThrow(/fenced/);
      expect(() => w.commit()).toThrow(/fenced/);
      w.close();
      // what was acknowledged (committed) is there after recovery
      expect(recover(dir, { log: quiet }).lastSeq).toBeGreaterThanOrEqual(BigInt(committed));
    }
  });

  it('snapshot at random cut points + tail replay equals an uninterrupted run; a bad snapshot falls back to an older one', () => {
    const rnd = rng(77);
    for (let t = 0; t < 6; t++) {
      const dir = tmp('js-');
      const recs = generate({ seed: 100 + t, count: 4000, symbols: 4, mix: t % 2 ? 'aggressive' : 'cancel-heavy' });
      const cuts = [BigInt(1 + Math.floor(rnd() * 1500)), BigInt(2000 + Math.floor(rnd() * 1900))];
      const w = writeJournal(dir, recs, { snapshotAt: cuts });
      const snaps = fs.readdirSync(join(dir, 'snapshots')).sort();
      expect(snaps.length).toBe(2);
      const r = recoverEngine(dir, { symbols: 4, capacity: 100_000 }, undefined, quiet);
      expect(r.snapshotSeq).toBe(BigInt(snaps[1]!.slice(0, 20)));
      expect(r.engine.stateHash()).toBe(w.engine.stateHash());
      // damage the newest snapshot: the older one is used, same result
      const p = join(dir, 'snapshots', snaps[1]!);
      const b = fs.readFileSync(p);
      b[b.length - 5]! ^= 0x10;
      fs.writeFileSync(p, b);
      const logs: string[] = [];
      const r2 = recoverEngine(dir, { symbols: 4, capacity: 100_000 }, undefined, (m) => logs.push(m));
      expect(r2.snapshotSeq).toBe(BigInt(snaps[0]!.slice(0, 20)));
      expect(logs.join('\n')).toMatch(/skipped: CRC mismatch/);
      expect(r2.engine.stateHash()).toBe(w.engine.stateHash());
    }
  });

  it('replay stops when the engine does not reproduce a recorded event (determinism check)', () => {
    const dir = tmp('jd-');
    writeJournal(dir, generate({ seed: 4, count: 500, symbols: 2, mix: 'aggressive' }));
    const path = join(dir, segmentName(1n));
    const b = fs.readFileSync(path);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    // change the qty of the first event of record 200 and re-seal it, as a different engine would have written it
    let p = SEG_HEADER;
    for (let i = 1; i < 200; i++) p += dv.getUint32(p + R_LEN, true);
    expect(dv.getUint32(p + R_LEN, true)).toBeGreaterThanOrEqual(REC_EVENTS + EVT_SIZE);
    b[p + REC_EVENTS + 32]! ^= 1;
    sealRecord(b, dv, p, dv.getUint32(p + R_LEN, true));
    fs.writeFileSync(path, b);
    expect(dv.getUint32(p + R_CRC, true)).toBe(crc32c(b, p + 8, p + dv.getUint32(p + R_LEN, true)));
    expect(() => recoverEngine(dir, { symbols: 2, capacity: 10_000 }, undefined, quiet)).toThrow(/replay of seq 200 diverged/);
  });

  it('a snapshot past the journal end (durability none, tail lost) is skipped for an older start', () => {
    const dir = tmp('jsp-');
    const recs = generate({ seed: 8, count: 1000, symbols: 2, mix: 'default' });
    const w = writeJournal(dir, recs, { durability: 'none', snapshotAt: [640n] });
    const k = w.commits.findIndex((c) => c.lastSeq === 384n);
    fs.truncateSync(join(dir, segmentName(1n)), w.commits[k]!.size);
    const logs: string[] = [];
    const r = recoverEngine(dir, { symbols: 2, capacity: 100_000 }, undefined, (m) => logs.push(m));
    expect(r.recovery.lastSeq).toBe(384n);
    expect(r.snapshotSeq).toBe(0n);
    expect(r.replayed).toBe(384);
    expect(logs.join('\n')).toMatch(/skipped: seq 640 is past the journal's end 384/);
    expect(logs.join('\n')).toMatch(/removed snapshot .*00000000000000000640\.snap: it is past the journal's end 384/);
    expect(fs.existsSync(join(dir, 'snapshots', '00000000000000000640.snap'))).toBe(false);
    const e = new Engine({ symbols: 2, capacity: 100_000, inboxCapacity: 64 });
    e.submitRaw(recs, 0, 384, () => {});
    expect(r.engine.stateHash()).toBe(e.stateHash());
  });

  it('replay stops when a record has fewer or more events than the engine produces', () => {
    const src = tmp('jde-');
    writeJournal(src, generate({ seed: 4, count: 500, symbols: 2, mix: 'aggressive' }));
    const recs = [...readRecords(src)].map((r) => ({ cmd: Uint8Array.from(r.cmd), events: Uint8Array.from(r.events), n: r.nEvents }));
    const target = recs.findIndex((r, i) => i >= 150 && r.n >= 2);
    for (const change of ['drop', 'extra'] as const) {
      const dir = tmp('jdf-');
      const w = new JournalWriter(dir, 0n, null, { durability: 'none' });
      recs.forEach((r, i) => {
        if (i !== target) { w.append(0n, r.cmd, 0, r.events, 0, r.n); return; }
        if (change === 'drop') w.append(0n, r.cmd, 0, r.events, 0, r.n - 1);
        else { const ev = new Uint8Array((r.n + 1) * EVT_SIZE); ev.set(r.events); ev.set(r.events.subarray(0, EVT_SIZE), r.n * EVT_SIZE); w.append(0n, r.cmd, 0, ev, 0, r.n + 1); }
      });
      w.commit();
      w.close();
      expect(() => recoverEngine(dir, { symbols: 2, capacity: 10_000 }, undefined, quiet))
        .toThrow(change === 'drop' ? new RegExp(`replay of seq ${target + 1} diverged: the engine produced more than the ${recs[target]!.n - 1} recorded events`) : new RegExp(`replay of seq ${target + 1} diverged: the engine produced ${recs[target]!.n} events, the journal has ${recs[target]!.n + 1}`));
      fs.rmSync(dir, { recursive: true });
    }
  });
});
