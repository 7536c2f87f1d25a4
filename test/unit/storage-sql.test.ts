import { describe, expect, it } from 'vitest';
import { bindParams, normalizeSql, quoteString } from '../../src/storage/sql.js';
import { QueryCache } from '../../src/storage/queries.js';
import { featuresFromVersion } from '../../src/storage/storage.js';

describe('storage SQL helpers (no server)', () => {
  it('binds parameters as checked literals for servers without {name:Type}', () => {
    expect(bindParams("SELECT {a:String}, '{a:String}' -- {a:String}\n, {n:UInt64}, {l:Array(Int64)}", { a: "x' OR '1'='1", n: '18446744073709551615', l: ['-1', 2] }))
      .toBe("SELECT 'x\\' OR \\'1\\'=\\'1', '{a:String}' -- {a:String}\n, 18446744073709551615, [toInt64('-1'), toInt64('2')]");
    expect(quoteString('a\\\'b\n\0')).toBe("'a\\\\\\'b\\n\\0'");
    expect(() => bindParams('SELECT {n:UInt64}', { n: '1; DROP TABLE t' })).toThrow(/not an integer/);
    expect(() => bindParams('SELECT {n:Nullable(String)}', { n: 'x' })).toThrow(/unsupported parameter type/);
  });

  // the analysts' gate moved to src/storage/sandbox.ts (ClickHouse's own parse): test/storage/sandbox.test.ts
  it('normalises SQL for the cache key', () => {
    expect(normalizeSql('SELECT  a\n FROM t -- x')).toBe(normalizeSql('SELECT a FROM t'));
  });

  it('cache: LRU, TTL, generation; TTL 0 turns it off', () => {
    const c = new QueryCache(2, 60_000);
    const v = { rows: [], meta: [], elapsedMs: 1 };
    c.set('a', 1, v); c.set('b', 1, v); c.get('a', 1); c.set('c', 1, v);
    expect(c.get('b', 1)).toBeUndefined(); // least recently used went
    expect(c.get('a', 1)).toBe(v);
    expect(c.get('a', 2)).toBeUndefined(); // newer data ingested
    const off = new QueryCache(2, 0);
    off.set('a', 1, v);
    expect(off.get('a', 1)).toBeUndefined();
    expect(off.size).toBe(0);
  });

  it('feature flags from the version', () => {
    expect(featuresFromVersion('18.16.1', 'server')).toMatchObject({ codecs: false, dateTime64: false, parameters: false, lowCardinality: false, rowBinary: true });
    expect(featuresFromVersion('26.7.2.1', 'chdb')).toMatchObject({ codecs: true, dateTime64: true, parameters: true, lowCardinality: true, rowBinary: true });
  });
});
