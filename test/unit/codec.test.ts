/**
 * Record codecs: event lines at the 2^53 boundaries, CMD encode/decode, CSV ↔ record round trips,
 * chunked .tso reading, generator determinism.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { eventLineAt, encodeCommand, decodeCommand } from '../../src/engine/engine.js';
import { CSV_HEADER, TsoReader, CsvReader, csvLineAt, parseCsvLine, writeOrderFile } from '../../src/codec/tso.js';
import { generate, MIXES } from '../../src/workload/generator.js';
import { commandArb } from '../support/arbitraries.js';
import { CMD_SIZE } from '../../src/abi/records.js';

describe('event lines', () => {
  it('print u64 ids and i64 prices exactly around 2^53 and the type limits', () => {
    const dv = new DataView(new ArrayBuffer(64));
    const ids = [0n, 1n, (1n << 53n) - 1n, 1n << 53n, (1n << 53n) + 1n, (1n << 64n) - 1n, 4294967296n];
    const prices = [0n, -1n, -(1n << 63n), (1n << 63n) - 1n, -(1n << 53n), -(1n << 53n) - 1n, (1n << 53n) + 1n, -4294967297n];
    for (const id of ids) for (const px of prices) {
      dv.setUint8(0, 84); dv.setBigUint64(8, id, true); dv.setBigUint64(16, id, true); dv.setBigInt64(24, px, true); dv.setUint32(32, 7, true);
      expect(eventLineAt(dv, 0)).toBe(`T,${id},${id},${px},7`);
      dv.setUint8(0, 77);
      expect(eventLineAt(dv, 0)).toBe(`M,${id},${px},7`);
    }
    dv.setUint8(0, 82); dv.setUint8(1, 6);
    expect(eventLineAt(dv, 0)).toMatch(/^R,\d+,unknown_order$/);
    dv.setUint8(0, 1);
    expect(() => eventLineAt(dv, 0)).toThrow(/unknown event type 1/);
  });
});

describe('CMD records and CSV', () => {
  it('encode → decode and record → CSV line → record round-trip', () => {
    fc.assert(fc.property(commandArb(5), (c) => {
      fc.pre(c.op >= 1 && c.op <= 3 && c.side <= 1 && c.type <= 1 && c.tif <= 3 && c.qty >= 0);
      const dv = new DataView(new ArrayBuffer(64));
      encodeCommand(dv, 0, c);
      expect(decodeCommand(dv, 0)).toEqual(c);
      const line = csvLineAt(dv, 0);
      expect(parseCsvLine(line, dv, 32)).toBeNull();
      const back = decodeCommand(dv, 32);
      if (c.op === 1) expect(back).toEqual(c);
      else expect([back.op, back.symbol, back.id]).toEqual([c.op, c.symbol, c.id]);
      if (c.op === 3) expect([back.price, back.qty]).toEqual([c.price, c.qty]);
    }), { seed: 1, numRuns: 500 });
  });

  it('accepts empty unused fields for cancel and modify, and lower-case enums', () => {
    const dv = new DataView(new ArrayBuffer(32));
    expect(parseCsvLine('C,,,,2,17,,,', dv, 0)).toBeNull();
    expect(decodeCommand(dv, 0)).toMatchObject({ op: 2, symbol: 2, id: 17n });
    expect(parseCsvLine('n,s,l,post,1,5,100,3,9', dv, 0)).toBeNull();
    expect(decodeCommand(dv, 0)).toMatchObject({ op: 1, side: 1, tif: 3, price: 100n, qty: 3, account: 9 });
    expect(parseCsvLine('M,,,,0,1,,5,', dv, 0)).toMatch(/price "" is not a 64-bit signed integer/);
    expect(parseCsvLine('N,B,L,GTC,0,1,100,,1', dv, 0)).toMatch(/qty ""/);
    expect(parseCsvLine('N,B,L,GTC,0,1,100,4294967296,1', dv, 0)).toMatch(/qty "4294967296" is not an integer ≤ 4294967295/);
    expect(parseCsvLine('N,B,L,GTC,0,-1,100,1,1', dv, 0)).toMatch(/id "-1"/);
  });

  it('reads .tso and .csv in chunks with identical records', () => {
    const d = mkdtempSync(join(tmpdir(), 'codec-'));
    const recs = generate({ seed: 4, count: 10_000, symbols: 3, mix: 'default', feedback: false });
    for (const ext of ['tso', 'csv']) {
      const fd = openSync(join(d, `f.${ext}`), 'w');
      writeOrderFile(fd, recs, 10_000, ext === 'csv');
      closeSync(fd);
    }
    const t = new TsoReader(join(d, 'f.tso'));
    const c = new CsvReader(join(d, 'f.csv'));
    expect(t.total).toBe(10_000);
    const bt = new Uint8Array(777 * CMD_SIZE);
    const bc = new Uint8Array(1000 * CMD_SIZE);
    const gotT: Uint8Array[] = [];
    const gotC: Uint8Array[] = [];
    for (let n = t.next(bt, 777); n > 0; n = t.next(bt, 777)) gotT.push(bt.slice(0, n * CMD_SIZE));
    for (let n = c.next(bc, 1000); n > 0; n = c.next(bc, 1000)) gotC.push(bc.slice(0, n * CMD_SIZE));
    t.close(); c.close();
    expect(Buffer.concat(gotT).equals(Buffer.from(recs))).toBe(true);
    expect(Buffer.concat(gotC).equals(Buffer.from(recs))).toBe(true);
    writeFileSync(join(d, 'crlf.csv'), `${CSV_HEADER}\r\nN,B,L,GTC,0,1,100,5,1\r\n\r\nC,,,,0,1,,,\r\n`);
    const r = new CsvReader(join(d, 'crlf.csv'));
    expect(r.next(bc, 10)).toBe(2);
    r.close();
  });
});

describe('generator', () => {
  it('is deterministic per seed and follows each mix', () => {
    const cancelShare: Record<string, number> = {};
    for (const mix of MIXES) {
      const a = generate({ seed: 9, count: 20_000, symbols: 4, mix });
      const b = generate({ seed: 9, count: 20_000, symbols: 4, mix });
      expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
      const c = generate({ seed: 10, count: 20_000, symbols: 4, mix });
      expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
      const ops = [0, 0, 0, 0];
      for (let i = 0; i < 20_000; i++) ops[a[i * CMD_SIZE]!]!++;
      if (mix === 'exchange-core') expect(ops[3]! / 20_000).toBeGreaterThan(0.7); // 82% moves
      cancelShare[mix] = ops[2]! / 20_000;
    }
    // books start empty and fill to their standing depth, so compare shares between mixes
    expect(cancelShare['cancel-heavy']!).toBeGreaterThan(2 * cancelShare.default!);
    expect(cancelShare['exchange-core']!).toBeLessThan(0.1);
    expect(() => generate({ count: 10, mix: 'nope' as never })).toThrow(/unknown mix/);
  });
});
