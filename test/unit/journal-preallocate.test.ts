/**
 * Journal segment preallocation with real files and the real background thread: the writer rolls
 * into zero-filled standby segments, sealed segments end exactly at their last record, the newest
 * one keeps its zeros and recovery reads them as the end (no cut); a reopened writer goes on in
 * place; garbage written into the zeros is cut as a torn tail; a standby renamed into place before
 * its header was written is removed at recovery; zeros after the records of a sealed segment are
 * damage.
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalWriter } from '../../src/journal/writer.js';
import { recover, readRecords, listSegments } from '../../src/journal/recovery.js';
import { segmentName } from '../../src/journal/format.js';
import { STANDBY } from '../../src/journal/preallocate.js';
import { prng } from '../../src/workload/generator.js';

const tmp = (p: string): string => mkdtempSync(join(tmpdir(), p));
const quiet = (): void => {};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const SEG = 256 << 10;

/** Appends `n` records (random RING_CMD bytes, 2 events) in batches of 40, waiting for each standby. */
async function writeSome(w: JournalWriter, n: number, rnd: () => number, cmds: string[]): Promise<void> {
  const cmd = new Uint8Array(96);
  const evts = new Uint8Array(128);
  for (let i = 0; i < n; i += 40) {
    for (let j = 0; j < 40 && i + j < n; j++) {
      for (let k = 0; k < 96; k++) cmd[k] = Math.floor(rnd() * 256);
      evts.fill(cmds.length & 0xff);
      w.append(0n, cmd, 0, evts, 0, 2);
      cmds.push(Buffer.from(cmd).toString('hex'));
    }
    w.commit();
    for (let t = 0; t < 1000 && w.preallocation === 'preparing'; t++) await sleep(5);
    expect(w.preallocation).not.toBe('failed');
  }
}

describe('journal segment preallocation', () => {
  it('rolls into preallocated segments; recovery reads the zeros as the end and a reopened writer goes on in place', async () => {
    const dir = tmp('jpa-');
    const rnd = prng(31);
    const cmds: string[] = [];
    const w = new JournalWriter(dir, 0n, null, { segmentBytes: SEG, preallocate: true, preallocateAfter: 0, commitMarkMs: 0 });
    await writeSome(w, 3000, rnd, cmds);
    expect(w.stats.preallocatedSegments).toBeGreaterThanOrEqual(2);
    w.close();
    const r = recover(dir, { log: quiet });
    expect(r.lastSeq).toBe(3000n);
    expect(r.cut).toBeNull();
    const segs = r.segments;
    for (const s of segs.slice(0, -1)) expect(fs.statSync(s.path).size).toBe(s.size); // sealed: exact
    const newest = segs.at(-1)!;
    expect(fs.statSync(newest.path).size).toBe(SEG); // preallocated, zeros after the records
    expect(newest.size).toBeLessThan(SEG);
    expect([...readRecords(dir)].map((x) => Buffer.from(x.cmd).toString('hex'))).toEqual(cmds);
    expect(fs.existsSync(join(dir, STANDBY))).toBe(true);

    // reopened: appends in place (the file keeps its size), and everything reads back
    const w2 = new JournalWriter(dir, r.lastSeq, { firstSeq: newest.firstSeq, size: newest.size }, { segmentBytes: SEG, preallocate: true, preallocateAfter: 0, commitMarkMs: 0 });
    const more = Math.max(1, Math.floor((SEG - newest.size) / 256 / 2)); // stays inside this segment
    await writeSome(w2, more, rnd, cmds);
    w2.close();
    expect(fs.statSync(newest.path).size).toBe(SEG);
    const r2 = recover(dir, { log: quiet });
    expect(r2.lastSeq).toBe(3000n + BigInt(more));
    expect(r2.segments.length).toBe(segs.length);
    expect(r2.cut).toBeNull();
    expect([...readRecords(dir)].map((x) => Buffer.from(x.cmd).toString('hex'))).toEqual(cmds);
    fs.rmSync(dir, { recursive: true });
  });

  it('garbage in the zeros is a torn tail (cut at the last record); a standby renamed without its header is removed', async () => {
    const dir = tmp('jpb-');
    const rnd = prng(32);
    const cmds: string[] = [];
    const w = new JournalWriter(dir, 0n, null, { segmentBytes: SEG, preallocate: true, preallocateAfter: 0, commitMarkMs: 1e9 });
    await writeSome(w, 1500, rnd, cmds);
    w.close();
    fs.rmSync(join(dir, 'COMMIT')); // the torn batch came after the last mark
    const r = recover(dir, { repair: false, log: quiet });
    const newest = r.segments.at(-1)!;
    expect(fs.statSync(newest.path).size).toBe(SEG);
    const junk = Buffer.from(Array.from({ length: 700 }, () => 1 + Math.floor(rnd() * 255)));
    const fd = fs.openSync(newest.path, 'r+');
    fs.writeSync(fd, junk, 0, junk.length, newest.size + 64);
    fs.closeSync(fd);
    const logs: string[] = [];
    const r2 = recover(dir, { log: (m) => logs.push(m) });
    expect(r2.lastSeq).toBe(1500n);
    expect(r2.cut?.offset).toBe(newest.size);
    expect(logs.join('\n')).toMatch(/cut a torn tail/);
    expect([...readRecords(dir)].map((x) => Buffer.from(x.cmd).toString('hex'))).toEqual(cmds);

    // a crash between renaming the standby into place and writing its header
    fs.copyFileSync(join(dir, STANDBY), join(dir, segmentName(1501n)));
    const logs2: string[] = [];
    const r3 = recover(dir, { log: (m) => logs2.push(m) });
    expect(r3.lastSeq).toBe(1500n);
    expect(fs.existsSync(join(dir, segmentName(1501n)))).toBe(false);
    expect(logs2.join('\n')).toMatch(/header never completed/);
    fs.rmSync(dir, { recursive: true });
  });

  it('zeros after the records of a sealed segment are damage, not an end', async () => {
    const dir = tmp('jpc-');
    const cmds: string[] = [];
    const w = new JournalWriter(dir, 0n, null, { segmentBytes: SEG, preallocate: true, preallocateAfter: 0, commitMarkMs: 0 });
    await writeSome(w, 3000, prng(33), cmds);
    w.close();
    const sealed = listSegments(dir)[0]!;
    fs.appendFileSync(sealed.path, Buffer.alloc(4096));
    expect(() => recover(dir, { log: quiet })).toThrow(/ERR_JOURNAL_CORRUPT|damaged/);
    fs.rmSync(dir, { recursive: true });
  });

  it('a reopened writer with a smaller segment size seals the preallocated segment at its last record', async () => {
    const dir = tmp('jpd-');
    const cmds: string[] = [];
    const rnd = prng(34);
    const w = new JournalWriter(dir, 0n, null, { segmentBytes: SEG, preallocate: true, preallocateAfter: 0, commitMarkMs: 0 });
    await writeSome(w, 1500, rnd, cmds);
    w.close();
    const r = recover(dir, { log: quiet });
    const newest = r.segments.at(-1)!;
    expect(fs.statSync(newest.path).size).toBe(SEG);
    const w2 = new JournalWriter(dir, r.lastSeq, { firstSeq: newest.firstSeq, size: newest.size }, { segmentBytes: 64 << 10, commitMarkMs: 0 });
    await writeSome(w2, 100, rnd, cmds);
    w2.close();
    expect(fs.statSync(newest.path).size).toBe(newest.size);
    const r2 = recover(dir, { log: quiet });
    expect(r2.lastSeq).toBe(1600n);
    expect([...readRecords(dir)].map((x) => Buffer.from(x.cmd).toString('hex'))).toEqual(cmds);
    fs.rmSync(dir, { recursive: true });
  });

  it('a standby that cannot be written is reported once and the writer goes on with plain segments', async () => {
    const dir = tmp('jpe-');
    fs.mkdirSync(join(dir, 'STANDBY.tmp', 'x'), { recursive: true }); // opening it for writing fails (EISDIR)
    const logs: string[] = [];
    const cmds: string[] = [];
    const w = new JournalWriter(dir, 0n, null, { segmentBytes: 64 << 10, preallocate: true, preallocateAfter: 0, commitMarkMs: 0, log: (m) => logs.push(m) });
    const cmd = new Uint8Array(96);
    const evts = new Uint8Array(128);
    for (let i = 0; i < 100 && !logs.length; i++) { w.append(0n, cmd, 0, evts, 0, 2); cmds.push(''); w.commit(); await sleep(10); }
    expect(logs.join('\n')).toMatch(/preallocating the next segment failed \(.*EISDIR.*\); writing on without preallocation/);
    expect(w.preallocation).toBe('failed');
    for (let i = 0; i < 600; i++) { w.append(0n, cmd, 0, evts, 0, 2); cmds.push(''); w.commit(); }
    w.close();
    expect(w.stats.preallocatedSegments).toBe(0);
    expect(listSegments(dir).length).toBeGreaterThan(1);
    expect(recover(dir, { log: quiet }).lastSeq).toBe(BigInt(cmds.length));
    expect(logs.length).toBe(1);
    fs.rmSync(dir, { recursive: true });
  });
});
