/**
 * The Analysts panel's CSV (src/dashboard/csv.ts, RFC 4180): exact output for the cases that
 * need quoting, and a round trip through an independent RFC 4180 reader over seeded random values
 * (commas, quotes, CR, LF, spaces, unicode, NULLs, arrays).
 */
import { describe, expect, it } from 'vitest';
import { csvField, toCsv } from '../../src/dashboard/csv.js';
import { prng } from '../../src/workload/prng.js';

/** A strict RFC 4180 reader (records end in CRLF; quoted fields may hold anything). */
function parseCsv(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quote');
        if (text[i] === '"') {
          if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
          i++;
          break;
        }
        field += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r') {
        if (text[i] === '"' || text[i] === '\n') throw new Error(`bare ${JSON.stringify(text[i])} in an unquoted field at ${i}`);
        field += text[i++];
      }
    }
    row.push(field);
    if (text[i] === ',') { i++; continue; }
    if (text.slice(i, i + 2) !== '\r\n') throw new Error(`expected CRLF at ${i}`);
    i += 2;
    out.push(row);
    row = [];
  }
  return out;
}

describe('dashboard CSV (RFC 4180)', () => {
  it('quotes what needs quoting, exactly', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(' lead')).toBe('" lead"');
    expect(csvField('trail ')).toBe('"trail "');
    expect(csvField(null)).toBe('');
    expect(csvField(undefined)).toBe('');
    expect(csvField(-1.5)).toBe('-1.5');
    expect(csvField('18446744073709551615')).toBe('18446744073709551615');
    expect(csvField([1, 'a,b'])).toBe('"[1,""a,b""]"');
    expect(csvField('')).toBe('');
    expect(toCsv(['n', 'x'], [{ n: '1', x: 'a,"b"' }, { n: 2, x: null }])).toBe('n,x\r\n1,"a,""b"""\r\n2,\r\n');
    expect(toCsv(['a', 'b'], [[1, 'x'], ['y', null]])).toBe('a,b\r\n1,x\r\ny,\r\n');
    expect(toCsv(['only'], [])).toBe('only\r\n');
    expect(toCsv(['we,ird "name"'], [])).toBe('"we,ird ""name"""\r\n');
  });

  it('round-trips seeded random values through an RFC 4180 reader', () => {
    const rnd = prng(20261202);
    const alphabet = ['a', 'Z', '0', ',', '"', '\n', '\r', ' ', 'é', '€', '\t', ';', "'", '\\'];
    const value = (): string | null => {
      if (rnd() < 0.1) return null;
      let s = '';
      const n = Math.floor(rnd() * 8);
      for (let i = 0; i < n; i++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      return s;
    };
    const cols = ['c0', 'c,1', 'c"2'];
    for (let t = 0; t < 200; t++) {
      const rows = Array.from({ length: 1 + Math.floor(rnd() * 5) }, () => Object.fromEntries(cols.map((c) => [c, value()])));
      const parsed = parseCsv(toCsv(cols, rows));
      expect(parsed[0]).toEqual(cols);
      expect(parsed.slice(1)).toEqual(rows.map((r) => cols.map((c) => r[c] ?? '')));
    }
  });
});
