/**
 * What the storage meter keeps for /health (public): our code, what failed and ClickHouse's code
 * and name, never ClickHouse's message (which quotes query text, bound parameters and data).
 */
import { describe, expect, it } from 'vitest';
import { TradsysError } from '../../src/domain/errors.js';
import { clickhouseErrorId, StorageMeter, storageError } from '../../src/storage/storage.js';

describe('StorageMeter.lastError and clickhouseErrorId', () => {
  const ch26 = "Code: 6. DB::Exception: Cannot parse string 'param-value-SECRET123 (FAKE_NAME)' as UInt8: syntax error at begin of string. Note: there are toUInt8OrZero and toUInt8OrNull functions: while executing 'FUNCTION toUInt8('param-value-SECRET123' :: 0)'. (CANNOT_PARSE_TEXT)";
  const ch1816 = "Code: 6, e.displayText() = DB::Exception: Cannot parse string 'row-data-SECRET' as UInt8: syntax error at begin of string, e.what() = DB::Exception";

  it('reads the code and the last line-ending (NAME), not a name inside the data', () => {
    expect(clickhouseErrorId(storageError(new Error(ch26), 'query'))).toEqual({ code: 6, name: 'CANNOT_PARSE_TEXT' });
    expect(clickhouseErrorId(new Error(`${ch26} (version 26.1.1.1)\n`))).toEqual({ code: 6, name: 'CANNOT_PARSE_TEXT' });
    expect(clickhouseErrorId(storageError(new Error(ch1816), 'query'))).toEqual({ code: 6, name: null });
    expect(clickhouseErrorId(new Error('connect ECONNREFUSED 127.0.0.1:8123'))).toEqual({ code: null, name: null });
  });

  it('keeps a data-free reason: insert failures name the call and ClickHouse codes; socket errors their first line', () => {
    const m = new StorageMeter();
    m.fail(storageError(new Error(ch26), 'insert into trades'));
    expect(m.lastError).toBe('ERR_STORAGE_QUERY: insert into trades failed (ClickHouse Code: 6, CANNOT_PARSE_TEXT)');
    m.fail(storageError(new Error(ch1816), 'insert into trades'));
    expect(m.lastError).toBe('ERR_STORAGE_QUERY: insert into trades failed (ClickHouse Code: 6)');
    expect(m.lastError).not.toContain('SECRET');
    m.fail(storageError(new Error('connect ECONNREFUSED 127.0.0.1:8123'), 'ping'));
    expect(m.lastError).toBe('ERR_STORAGE_UNAVAILABLE: ping: connect ECONNREFUSED 127.0.0.1:8123');
    expect(m.up).toBe(false);
    m.fail(new TradsysError('ERR_STORAGE_CLOSED', 'ChdbStorage is closed'));
    expect(m.lastError).toBe('ERR_STORAGE_CLOSED: ChdbStorage is closed');
    expect(m.errors).toBe(4);
  });
});
