import { describe, expect, it } from 'vitest';
import { decode, encodeRows, RowBinaryBuilder, walk, type Column } from '../../src/storage/row-binary.js';
import { WRITER_LAYOUTS } from '../../src/storage/schema.js';

const COLS: Column[] = [{ name: 's', type: 'String' }, { name: 'seq', type: 'UInt64' }, { name: 'a', type: 'Array(Int64)' }, { name: 'n', type: 'UInt32' }];

describe('RowBinary', () => {
  it('encodes strings with LEB128 lengths across the 1- and 2-byte boundaries, and UTF-8', () => {
    for (const len of [0, 1, 127, 128, 16383, 16384]) {
      const s = 'x'.repeat(len);
      const body = encodeRows([{ s, seq: 1, a: [], n: 0 }], COLS);
      const head = len < 128 ? 1 : len < 16384 ? 2 : 3;
      expect(body.byteLength).toBe(head + len + 8 + 1 + 4);
      expect(decode(body, COLS)).toEqual([{ s, seq: '1', a: [], n: 0 }]);
    }
    expect(decode(encodeRows([{ s: 'Ünï€', seq: 2, a: ['-1'], n: 3 }], COLS), COLS)).toEqual([{ s: 'Ünï€', seq: '2', a: ['-1'], n: 3 }]);
  });

  it('writes safe integers and bigints to the same exact 64-bit values', () => {
    const b = new RowBinaryBuilder(4); // grows
    const nums = [0, 1, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1];
    for (const x of nums) { b.u64n(x); b.i64n(x); b.i64n(-x); }
    const c = new RowBinaryBuilder();
    for (const x of nums) { c.u64(BigInt(x)); c.i64(BigInt(x)); c.i64(BigInt(-x)); }
    expect(b.take()).toEqual(c.take());
    const d = new RowBinaryBuilder();
    d.u64(2n ** 64n - 1n); d.i64(2n ** 63n - 1n); d.i64(-(2n ** 63n));
    expect(decode(d.take(), [{ name: 'u', type: 'UInt64' }, { name: 'x', type: 'Int64' }, { name: 'y', type: 'Int64' }]))
      .toEqual([{ u: '18446744073709551615', x: '9223372036854775807', y: '-9223372036854775808' }]);
  });

  it('walk counts rows and finds the first row after a checkpoint seq', () => {
    const rows = [5, 5, 6, 9, 9, 12].map((seq, i) => ({ s: `r${i}`, seq, a: i % 2 ? ['1', '2'] : [], n: i }));
    const body = encodeRows(rows, COLS);
    expect(walk(body, COLS).rows).toBe(6);
    for (const [cp, row] of [[0n, 0], [4n, 0], [5n, 2], [6n, 3], [8n, 3], [9n, 5], [12n, 6], [99n, 6]] as const) {
      const w = walk(body, COLS, 'seq', cp);
      expect(w.firstAfterRow, `checkpoint ${cp}`).toBe(row);
      expect(decode(body.subarray(w.firstAfter), COLS).map((r) => r.s)).toEqual(rows.slice(row).map((r) => r.s));
    }
  });

  it('walk refuses a body that does not end at a row boundary', () => {
    const body = encodeRows([{ s: 'abc', seq: 1, a: ['7'], n: 1 }, { s: 'de', seq: 2, a: [], n: 2 }], COLS);
    for (let cut = 1; cut < body.byteLength; cut++) {
      if (cut === walk(body.subarray(0, body.byteLength), COLS, 'seq', 1n).firstAfter) continue; // the row boundary
      expect(() => walk(body.subarray(0, cut), COLS), `cut at ${cut}`).toThrow(/RowBinary body is truncated or corrupt/);
    }
    expect(() => walk(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), COLS)).toThrow(/varint/);
  });

  it('every writer layout uses only types the walker knows', () => {
    for (const cols of Object.values(WRITER_LAYOUTS)) {
      expect(cols.some((c) => c.name === 'seq' && c.type === 'UInt64')).toBe(true);
      const row = Object.fromEntries(cols.map((c) => [c.name, c.type.startsWith('Array') ? ['1'] : c.type === 'String' ? 'x' : 1]));
      expect(walk(encodeRows([row, row], cols), cols).rows).toBe(2);
    }
  });
});
