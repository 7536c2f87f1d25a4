/**
 * The journal verification kernel (assembly/journal/verify.ts through src/journal/verify.ts)
 * against the JavaScript reference (src/sys/crc32c.ts, `checkRecord`), with seeded random
 * inputs: CRC-32C of random bytes at random offsets and lengths; `verifyRecords` over random
 * journals with random damage (bit flips, zeroed runs, changed lengths, seqs and versions, v1
 * records, cut ends), with the window large and tiny; and `recover` / `recoverEngine` with a
 * window smaller than some records give the same results as with the default one.
 */
import { afterEach, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32c } from '../../src/sys/crc32c.js';
import { verifyBackend, verifyRecords, verifyRecordsJs, setVerifyWindow } from '../../src/journal/verify.js';
import { instantiateJournalVerify } from '../../src/engine/wasm.js';
import { useWasmJournalVerifier } from '../../src/engine/journal-verifier.js';
import { SEG_HEADER, R_LEN, R_SEQ, R_VERSION, R_NEVENTS, sealRecord, segmentName, writeV1Record } from '../../src/journal/format.js';
import { recover, listSegments } from '../../src/journal/recovery.js';
import { recoverEngine } from '../../src/engine/recovery.js';
import { generate, prng as rng } from '../../src/workload/generator.js';
import { CMD_SIZE, EVT_SIZE } from '../../src/abi/records.js';
import { writeJournal } from '../support/journal-fixture.js';

const tmp = (p: string): string => mkdtempSync(join(tmpdir(), p));
const quiet = (): void => {};
useWasmJournalVerifier(); // as every journal-reading process does (journal/ never imports engine/)
const DEFAULT_WINDOW = setVerifyWindow(4 << 20);
afterEach(() => { setVerifyWindow(DEFAULT_WINDOW); });

/** A segment body of `n` records (v2, some v1) with random events, seqs from `seq0`. */
function randomRecords(rnd: () => number, n: number, seq0: bigint): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array(SEG_HEADER)];
  for (let i = 0; i < n; i++) {
    const seq = seq0 + BigInt(i);
    const ne = Math.floor(rnd() * (rnd() < 0.05 ? 40 : 4));
    const events = new Uint8Array(ne * EVT_SIZE).map(() => Math.floor(rnd() * 256));
    if (rnd() < 0.1) {
      parts.push(writeV1Record(seq, new Uint8Array(CMD_SIZE).map(() => Math.floor(rnd() * 256)), events));
      continue;
    }
    const len = 128 + ne * EVT_SIZE;
    const r = new Uint8Array(len).map(() => Math.floor(rnd() * 256));
    const dv = new DataView(r.buffer);
    dv.setBigUint64(R_SEQ, seq, true);
    dv.setUint16(R_VERSION, 2, true);
    dv.setUint32(R_NEVENTS, ne, true);
    r.set(events, 128);
    sealRecord(r, dv, 0, len);
    parts.push(r);
  }
  return Buffer.concat(parts);
}

describe('journal verification kernel', () => {
  it('is the WebAssembly one here (the build is present)', () => {
    expect(verifyBackend()).toBe('wasm');
  });

  it('CRC-32C equals the JavaScript reference for random bytes, offsets, lengths and seeds', () => {
    const ex = instantiateJournalVerify();
    const base = ex.journalHeapBase();
    ex.memory.grow(2);
    const mem = new Uint8Array(ex.memory.buffer, base, 65536);
    const rnd = rng(2024);
    mem.set(new TextEncoder().encode('123456789'));
    expect(ex.journalCrc32c(base, 9, 0) >>> 0).toBe(0xe3069283);
    for (let t = 0; t < 2000; t++) {
      const from = Math.floor(rnd() * 1000);
      const len = Math.floor(rnd() * (rnd() < 0.5 ? 40 : 5000));
      for (let i = from; i < from + len; i++) mem[i] = Math.floor(rnd() * 256);
      const seed = rnd() < 0.3 ? Math.floor(rnd() * 2 ** 32) : 0;
      expect(ex.journalCrc32c(base + from, len, seed) >>> 0).toBe(crc32c(mem, from, from + len, seed));
    }
  });

  it('verifyRecords agrees with the checkRecord loop on random damage, whatever the window', () => {
    const rnd = rng(99);
    for (let t = 0; t < 400; t++) {
      const seq0 = BigInt(1 + Math.floor(rnd() * 2 ** 40));
      const b = randomRecords(rnd, 1 + Math.floor(rnd() * 60), seq0);
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      const kind = t % 6;
      const at = SEG_HEADER + Math.floor(rnd() * (b.length - SEG_HEADER));
      if (kind === 0) b[at]! ^= 1 << Math.floor(rnd() * 8);
      else if (kind === 1) b.fill(0, at, Math.min(b.length, at + Math.floor(rnd() * 600)));
      else if (kind === 2) { const p = at & ~7; if (p + 4 <= b.length) dv.setUint32(p + R_LEN, Math.floor(rnd() * 2 ** 32), true); }
      else if (kind === 3) { const p = at & ~7; if (p + 16 <= b.length) dv.setBigUint64(p + R_SEQ, seq0 + 5n, true); }
      else if (kind === 4) { const p = at & ~7; if (p + 18 <= b.length) dv.setUint16(p + R_VERSION, 3, true); }
      const end = kind === 5 ? SEG_HEADER + Math.floor(rnd() * (b.length - SEG_HEADER + 1)) : b.length;
      const want = verifyRecordsJs(b, SEG_HEADER, seq0, end);
      setVerifyWindow(t % 2 ? DEFAULT_WINDOW : 64 + Math.floor(rnd() * 3000));
      expect(verifyRecords(b, SEG_HEADER, seq0, end)).toEqual(want);
      expect(verifyRecords(b, SEG_HEADER, seq0, end, true)).toEqual(want);
    }
  });

  it('recover and recoverEngine give the same result with windows smaller than some records', () => {
    const dir = tmp('jvw-');
    const recs = generate({ seed: 12, count: 6000, symbols: 3, mix: 'aggressive' });
    const w = writeJournal(dir, recs, { segmentBytes: 300 << 10, snapshotAt: [2500n] });
    expect(listSegments(dir).length).toBeGreaterThan(2);
    const want = recover(dir, { log: quiet });
    for (const win of [64, 200, 1000, 4096, 65536]) {
      setVerifyWindow(win);
      let seen = 0;
      const got = recover(dir, { log: quiet, onRecords: (r) => { seen += r.count; } });
      expect(got).toEqual(want);
      expect(seen).toBe(6000);
      const e = recoverEngine(dir, { symbols: 3, capacity: 100_000 }, undefined, quiet);
      expect(e.snapshotSeq).toBe(2560n); // the end of the batch that holds 2500
      expect(e.replayed).toBe(6000 - 2560);
      expect(e.engine.stateHash()).toBe(w.engine.stateHash());
    }
    fs.rmSync(dir, { recursive: true });
  });

  it('a torn tail is cut at the same offset with a tiny window, and damage before it is reported the same way', () => {
    const base = tmp('jvt-');
    writeJournal(base, generate({ seed: 13, count: 1500, symbols: 2, mix: 'default' }), { commitMarkMs: 1e9 });
    fs.rmSync(join(base, 'COMMIT'));
    const seg = join(base, segmentName(1n));
    const full = fs.readFileSync(seg);
    const rnd = rng(5);
    for (let t = 0; t < 40; t++) {
      const at = SEG_HEADER + Math.floor(rnd() * (full.length - SEG_HEADER));
      const b = Buffer.from(full);
      if (t % 2) b[at]! ^= 0x40; else b.fill(0, at);
      const outcome = (win: number): string => {
        const dir = tmp('jvtt-');
        fs.writeFileSync(join(dir, segmentName(1n)), b);
        setVerifyWindow(win);
        try {
          const r = recover(dir, { log: quiet });
          return `ok ${r.lastSeq} ${JSON.stringify(r.cut && { offset: r.cut.offset, bytes: r.cut.bytes })} ${fs.statSync(join(dir, segmentName(1n))).size}`;
        } catch (e) {
          return `${(e as { code: string }).code} ${(e as Error).message.replace(dir, '')}`;
        } finally {
          fs.rmSync(dir, { recursive: true });
        }
      };
      expect(outcome(128)).toBe(outcome(DEFAULT_WINDOW));
    }
    fs.rmSync(base, { recursive: true });
  });

  it('a v1 record whose event count would wrap 32-bit length arithmetic is refused by both', () => {
    const r = writeV1Record(1n, new Uint8Array(CMD_SIZE), new Uint8Array(2 * EVT_SIZE));
    const dv = new DataView(r.buffer);
    dv.setUint32(R_NEVENTS, 2 ** 26 + 2, true); // (56 + n·64 + 7) & ~7 would wrap to the real length
    sealRecord(r, dv, 0, r.length);
    const b = Buffer.concat([new Uint8Array(SEG_HEADER), r]);
    expect(verifyRecordsJs(b, SEG_HEADER, 1n)).toEqual({ end: SEG_HEADER, count: 0 });
    expect(verifyRecords(b, SEG_HEADER, 1n)).toEqual({ end: SEG_HEADER, count: 0 });
  });
});
