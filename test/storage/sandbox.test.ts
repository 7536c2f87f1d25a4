/**
 * The analysts' SQL sandbox (src/storage/sandbox.ts) on both backends, attacked the way a hostile
 * analyst would: a secret keys file sits where the old text gate let `file()` read it (the data
 * folder, and the server's user_files), and every hostile spelling must be refused with a clear
 * error that names what was refused, with the secret in no answer and no error. The queries
 * analysts need (joins, aggregates, parameters, CTEs, the documented tables and queries) keep
 * working. Also the backends' own guards, tried directly (defence in depth), and the HTTP route.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { ROOT } from '../../src/abi/gen.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStorage } from '../../src/storage/chdb-storage.js';
import { ServerStorage } from '../../src/storage/server-storage.js';
import { migrate, WRITER_LAYOUTS } from '../../src/storage/schema.js';
import { encodeRows } from '../../src/storage/row-binary.js';
import { QueryCache, StorageQueries } from '../../src/storage/queries.js';
import { registerStorage } from '../../src/gateway/http/queries.js';
import { checkCallTokens, checkQualifiedNames, parseAstText, withNames } from '../../src/storage/sandbox.js';
import { SqlParser } from '../../src/storage/sql-parser.js';
import { commentFree, tokenize } from '../../src/storage/sql.js';
import { loadInstruments } from '../../src/domain/instruments.js';
import { TradsysError } from '../../src/domain/errors.js';
import type { Storage } from '../../src/storage/storage.js';
import { ANALYST_PASSWORD, ANALYST_USER, startServer, usersXml, type TestServer } from '../support/clickhouse.js';

const SECRET = `TRADSYS-SECRET-${process.pid}-${Math.floor(Math.random() * 1e9)}`;
const KEYS = JSON.stringify({ keys: [{ key: 'ak_test', secret: SECRET, account: 1, permissions: ['trade'] }] });
const DB = 'tradsys_sandbox_core'; // the analyst user's allow_databases (test/support/clickhouse.ts)
const T0 = 1_790_000_040_000_000_000n;

/** Hostile queries: each must be refused, with the error naming what was refused. `K` is the keys file's path. */
function hostile(K: string): [string, RegExp][] {
  const k = `'${K}'`;
  return [
    // the scalar file() function, every way of writing its name
    [`SELECT \`file\`(${k}) AS f`, /function file is not allowed/],
    [`SELECT "file"(${k})`, /function file is not allowed/],
    [`SELECT FILE(${k})`, /FILE\(\) is not allowed: it names a table function/],
    [`SELECT File(${k}) AS x`, /File\(\) is not allowed/],
    [`SELECT file /* a comment inside the call */ (${k})`, /function file is not allowed/],
    [`SELECT\n\tfile\n(\n  ${k}\n)\n`, /function file is not allowed/],
    [`SELECT arrayMap(p -> file(p), [${k}]) AS f`, /function file is not allowed/],
    [`SELECT (SELECT file(${k})) AS scalar`, /function file is not allowed/],
    [`SELECT f FROM (SELECT file(${k}) AS f) AS t`, /function file is not allowed/],
    [`WITH file(${k}) AS f SELECT f`, /function file is not allowed/],
    [`SELECT 1 AS a UNION ALL SELECT file(${k})`, /function file is not allowed/],
    [`SELECT count() FROM trades WHERE symbol IN (SELECT file(${k}))`, /function file is not allowed/],
    // table functions, directly, quoted, in subqueries, CTEs, joins, views
    [`SELECT * FROM file(${k}, 'LineAsString')`, /table function file\(\) is not allowed/],
    [`SELECT * FROM \`file\`(${k}, LineAsString)`, /table function file\(\) is not allowed/],
    [`SELECT * FROM FILE(${k}, LineAsString)`, /table function FILE\(\) is not allowed/],
    [`SELECT * FROM (SELECT * FROM file(${k}, LineAsString))`, /table function file\(\) is not allowed/],
    [`WITH k AS (SELECT * FROM file(${k}, LineAsString)) SELECT * FROM k`, /table function file\(\) is not allowed/],
    [`SELECT * FROM trades AS t JOIN file(${k}, LineAsString) AS f ON 1 = 1`, /table function file\(\) is not allowed/],
    [`SELECT * FROM view(SELECT * FROM file(${k}, LineAsString))`, /table function view\(\) is not allowed/],
    ["SELECT * FROM url('file:///etc/passwd', LineAsString)", /table function url\(\) is not allowed/],
    ["SELECT * FROM url('http://127.0.0.1:1/x', CSV, 'a String')", /table function url\(\) is not allowed/],
    ["SELECT * FROM remote('127.0.0.1', system.users)", /table function remote\(\) is not allowed/],
    ["SELECT * FROM executable('cat.sh', TSV, 'a String')", /table function executable\(\) is not allowed/],
    ["SELECT * FROM input('a String')", /table function input\(\) is not allowed/],
    ["SELECT * FROM s3('http://127.0.0.1:1/b/k', CSV)", /table function s3\(\) is not allowed/],
    ["SELECT * FROM numbers(10)", /table function numbers\(\) is not allowed/],
    ["SELECT * FROM dictionary('d')", /table function dictionary\(\) is not allowed/],
    // dictionaries, Join tables, other databases, server settings
    ["SELECT dictGet('d', 'a', toUInt64(1))", /function dictGet is not allowed/],
    ["SELECT dictGetString('d', 'a', toUInt64(1))", /function dictGetString is not allowed/],
    ["SELECT joinGet('j', 'a', 1)", /function joinGet is not allowed/],
    ["SELECT hasColumnInTable('system', 'users', 'name')", /function hasColumnInTable is not allowed/],
    ["SELECT getServerSetting('user_files_path')", /function getServerSetting is not allowed/],
    ["SELECT * FROM other_db.secrets", /database other_db is not readable/],
    ['SELECT * FROM `other_db`.`secrets`', /database other_db is not readable/],
    ['SELECT * FROM "system"."users"', /table system\.users is not readable/],
    ['SELECT name FROM system.users', /table system\.users is not readable/],
    ['SELECT query FROM system.query_log', /table system\.query_log is not readable/],
    ['SELECT query FROM system.processes', /table system\.processes is not readable/],
    ['SELECT 1 IN system.users', /table system\.users is not readable/],
    ['SELECT count() FROM trades WHERE trade_id IN other_db.ids', /database other_db is not readable/],
    ['SELECT * FROM `system.users`', /quoted name `system\.users` has characters/],
    ['SELECT `a\\nFunction file` FROM trades', /quoted name .* has characters/],
    // clauses the API owns, and statements other than one SELECT
    ['SELECT 1 SETTINGS readonly = 0', /SETTINGS is not allowed/],
    ['SELECT * FROM (SELECT 1 SETTINGS max_threads = 1)', /SETTINGS is not allowed/],
    ['SELECT 1 FORMAT TSV', /FORMAT and INTO OUTFILE are not allowed/],
    [`SELECT 1 INTO OUTFILE '${K}.out'`, /FORMAT and INTO OUTFILE are not allowed/],
    [`SELECT 1; SELECT file(${k})`, /one statement only/],
    [`SELECT 1 --\n; SELECT file(${k})`, /one statement only/],
    ['DROP TABLE trades', /only SELECT queries are allowed/],
    ['INSERT INTO trades SELECT * FROM trades', /only SELECT queries are allowed/],
    [`EXPLAIN SELECT file(${k})`, /only SELECT queries are allowed/],
    ['SELECT * APPLY(sum) FROM trades', /construct ColumnsApplyTransformer is not allowed/],
  ];
}

interface Setup { name: 'chdb' | 'server'; storage: Storage; queries: StorageQueries; keysPath: string; dir: string; server: TestServer | null; close(): Promise<void> }

async function setup(name: 'chdb' | 'server'): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'tradsys-sandbox-'));
  // the keys file where the gateway keeps it: <data>/keys.json
  writeFileSync(join(dir, 'keys.json'), KEYS, { mode: 0o600 });
  let storage: Storage;
  let server: TestServer | null = null;
  let keysPath = join(dir, 'keys.json');
  if (name === 'chdb') {
    storage = await ChdbStorage.open(dir);
  } else {
    server = await startServer();
    // the server's own user_files: where 18.16's file() reads relative paths
    if (server.dir) { mkdirSync(join(server.dir, 'data', 'user_files'), { recursive: true }); writeFileSync(join(server.dir, 'data', 'user_files', 'keys.json'), KEYS); keysPath = 'keys.json'; }
    const admin = new ServerStorage({ url: server.url, database: DB });
    await admin.connect();
    await admin.command(`DROP DATABASE IF EXISTS ${DB}`);
    await admin.close();
    storage = new ServerStorage({ url: server.url, database: DB, analystUsername: ANALYST_USER, analystPassword: ANALYST_PASSWORD });
    await storage.connect();
  }
  await migrate(storage);
  await storage.insert('trades', [1, 2, 3].map((id) => ({
    symbol: id === 3 ? 'BTC-USD' : 'ETH-USD', ts: (T0 + BigInt(id)).toString(), trade_id: id, seq: id, price: 60000 + id, qty: 1000 * id,
    taker_side: 'buy', taker_order_id: id, maker_order_id: 0, taker_account: 1, maker_account: 2,
  })));
  await storage.insert('instruments', [{ symbol: 'ETH-USD', symbol_id: 1, tick_size: '0.05', lot_size: '0.001', updated_ns: 1 }]);
  const queries = new StorageQueries(storage, () => 0, new QueryCache(16, 0));
  return {
    name, storage, queries, keysPath, dir, server,
    close: async () => {
      try { if (name === 'server') await storage.command(`DROP DATABASE IF EXISTS ${DB}`); } finally {
        await storage.close(); await server?.stop(); rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

describe('the sandbox reads the tree ClickHouse parsed, strictly', () => {
  it("CI's server has the same analyst user as the test servers (.ci/run)", () => {
    const run = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    const from = run.indexOf('cat > "$CH_DIR/users.xml" <<\'XML\'');
    const xml = run.slice(run.indexOf('\n', from) + 1, run.indexOf('\nXML', from));
    const norm = (x: string): string => x.replace(/\s+/g, ' ').trim();
    expect(norm(xml)).toBe(norm(usersXml()));
  });

  it('a name that prints as extra lines or a wrong child count is refused', () => {
    const ok = 'SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n  SelectQuery (children 1)\n   ExpressionList (children 1)\n    Identifier a\n';
    expect(parseAstText(ok).children[0]!.children[0]!.type).toBe('SelectQuery');
    expect(() => parseAstText(ok.replace('Identifier a', 'Identifier a\n    Identifier b'))).toThrow(/child count/);
    expect(() => parseAstText(ok.replace('Identifier a', 'Identifier a (children 2)\n     Function file'))).toThrow(/child count/);
    // a fake line can only add a node, never hide one: the walk still sees (and refuses) every real node
    expect(parseAstText(ok.replace('Identifier a', 'Identifier a (children 1)\n     Function file')).children[0]!.children[0]!.children[0]!.children[0]!.children[0]!.type).toBe('Function');
    expect(() => parseAstText(ok.replace('Identifier a', 'Identifier a\u0001'))).toThrow(/unexpected characters/);
    expect(() => parseAstText(ok.replace('Identifier a', 'InsertQuery a'))).toThrow(/construct InsertQuery is not allowed/);
    expect(() => parseAstText(ok.replace('  SelectQuery', '   SelectQuery'))).toThrow(/indentation/);
  });

  it('commentFree: comments out (one space each), original bytes kept, nested comments, $, \\ and unicode quotes refused', () => {
    expect(commentFree("SELECT a/**/-/**/-1, '--' AS `/*x*/` -- end\nFROM t # x\n;").text).toBe("SELECT a - -1, '--' AS `/*x*/`  \nFROM t");
    expect(commentFree('SELECT 1;;').text).toBe('SELECT 1');
    expect(commentFree('SELECT 0x1F, 1e5, 1.5e-3, 2.5 AS x, -1 FROM t').text).toBe('SELECT 0x1F, 1e5, 1.5e-3, 2.5 AS x, -1 FROM t');
    for (const [sql, why] of [
      ['SELECT 1 /* /* */ , * FROM secretdb.t -- */', /inside a \/\* comment/],
      ['SELECT $$ /* $$, * FROM secretdb.t -- */', /"\$"|character "\$"/],
      ['SELECT x$$ FROM t', /"\$"/],
      ['SELECT \u2018a\u2019, * FROM secretdb.t', /U\+2018/],
      ['SELECT \\N', /U\+005C/],
      ['SELECT 1 @ 2', /U\+0040/],
      ['SELECT 1\u000b, 2', /U\+000B/],
      ['SELECT 1_000', /the number 1_000 is not allowed/],
      ['SELECT 0b101 AS b', /the number 0b101 is not allowed/],
      ['SELECT 1x FROM trades', /the number 1x is not allowed/],
    ] as const) {
      expect(() => commentFree(sql), sql).toThrow(why);
      try { commentFree(sql); } catch (e) { expect((e as TradsysError).code).toBe('ERR_STORAGE_SANDBOX'); }
    }
  });

  it('withNames: the CTE names of a canonical text, windows and strings aside', () => {
    expect(withNames("WITH\n    x AS\n    (\n        SELECT 1\n    ),\n    `y z` AS (SELECT 'w AS (SELECT')\nSELECT * FROM x WINDOW w AS (PARTITION BY a)")).toEqual(['x', 'y z']);
  });
});

describe('checks on the tokens, whatever a parser makes of them', () => {
  it('calls to refused functions and table functions are refused by name, database.table names by database, DIV/MOD and vanished INs', async () => {
    const catalog = await SqlParser.shared().catalog();
    for (const q of ["SELECT `file`('x')", 'SELECT "FILE"(1)', 'SELECT numbers(3)', "SELECT dictGetString('d', 'a', 1)", "SELECT x FROM t WHERE joinGet('j', 'a', 1)", 'SELECT remote (1)']) {
      expect(() => checkCallTokens(tokenize(q), catalog), q).toThrow(/is not allowed in analyst queries/);
    }
    checkCallTokens(tokenize("SELECT format('{}', 1), position(s, 'x'), count() FROM (SELECT 1) AS s WHERE x IN (1) AND EXISTS(SELECT 1) AND x OVER (PARTITION BY y)"), catalog);
    const policy = { database: 'tradsys', databases: new Set(['tradsys', 'secretdb', 'default', 'system']) };
    for (const [q, why] of [
      ['SELECT 1 + secretdb.t', /database secretdb is not readable/], ['SELECT `secretdb`.`t`', /database secretdb is not readable/],
      ['SELECT x FROM y WHERE 1 = SYSTEM.users', /table system\.users is not readable/], ['SELECT tradsys.keys', /table tradsys\.keys is not readable/],
      ['SELECT information_schema.tables', /database information_schema is not readable/], ['SELECT 7 DIV 2', /DIV operator/], ['SELECT 7 mod 2', /MOD operator/],
    ] as const) expect(() => checkQualifiedNames(tokenize(q), policy), q).toThrow(why);
    checkQualifiedNames(tokenize('SELECT t.price, tradsys.trades.qty, system.one.dummy, intDiv(7, 2), mod(7, 2) FROM tradsys.trades AS t, system.one'), policy);
  });
});

describe('chDB works in its empty sandbox folder', () => {
  it('a relative data folder still ingests RowBinary (paths are made absolute before the process changes directory)', async () => {
    const rel = join('build', `sandbox-rel-${process.pid}`);
    rmSync(rel, { recursive: true, force: true });
    const st = await ChdbStorage.open(rel);
    try {
      await migrate(st);
      const cols = WRITER_LAYOUTS.trades;
      const body = encodeRows([{ symbol: 'X', ts: 1n, trade_id: 1n, seq: 1n, price: 5n, qty: 1n, taker_side: 1, taker_order_id: 1n, maker_order_id: 2n, taker_account: 1, maker_account: 2 }], cols);
      await st.insert('trades', { format: 'RowBinary', body, columns: cols.map((c) => c.name) });
      expect((await st.query('SELECT count() AS n FROM trades')).rows).toEqual([{ n: '1' }]);
      expect(readdirSync(join(rel, 'clickhouse-sandbox'))).toEqual([]);
    } finally { await st.close(); rmSync(rel, { recursive: true, force: true }); }
  });
});

describe.each(['chdb', 'server'] as const)('SQL sandbox on %s', (name) => {
  let s: Setup;
  beforeAll(async () => { s = await setup(name); });
  afterAll(async () => { await s?.close(); });

  it(`refuses ${hostile('x').length} hostile spellings with an error naming what was refused; the secret never leaks`, async () => {
    const list = hostile(s.keysPath);
    expect(list.length).toBeGreaterThanOrEqual(30);
    for (const [sql, why] of list) {
      let err: unknown = null;
      let answer: unknown = null;
      try { answer = await s.queries.sql(sql); } catch (e) { err = e; }
      expect(answer, sql).toBeNull();
      expect(err, sql).toBeInstanceOf(TradsysError);
      const e = err as TradsysError;
      expect(['ERR_STORAGE_SANDBOX', 'ERR_STORAGE_NOT_SELECT'], `${sql}: ${e.code} ${e.message}`).toContain(e.code);
      expect(e.status === 403 || e.status === 400).toBe(true);
      expect(e.message, sql).toMatch(why);
      expect(e.message, sql).not.toContain(SECRET);
    }
    // nothing was changed or read: the data is intact
    expect((await s.queries.sql('SELECT count() AS n FROM trades')).rows).toEqual([{ n: '3' }]);
  });

  it('a refusal is one audit line (who, from where, what, why), without the secret', async () => {
    const lines: [object, string][] = [];
    const audit = { log: { warn: (o: object, m: string) => { lines.push([o, m]); } }, account: 7, key: 'ak_analyst', ip: '10.0.0.9' };
    await expect(s.queries.sql(`SELECT "file"('${s.keysPath}')`, {}, { audit })).rejects.toMatchObject({ code: 'ERR_STORAGE_SANDBOX' });
    await s.queries.sql('SELECT 1 AS one', {}, { audit });
    expect(lines).toHaveLength(1);
    expect(lines[0]![0]).toMatchObject({ audit: 'sql.refused', account: 7, key: 'ak_analyst', ip: '10.0.0.9', outcome: 'refused', code: 'ERR_STORAGE_SANDBOX', reason: expect.stringMatching(/function file/) });
    expect(JSON.stringify(lines)).not.toContain(SECRET);
  });

  it('a parser process that dies is replaced by the next query', async () => {
    const p = SqlParser.shared() as unknown as { child: { kill(sig: string): boolean; once(ev: string, f: () => void): void } };
    const gone = new Promise<void>((res) => p.child.once('exit', () => res()));
    p.child.kill('SIGKILL');
    await gone;
    expect((await s.queries.sql('SELECT count() AS n FROM trades')).rows).toEqual([{ n: '3' }]);
    await expect(s.queries.sql(`SELECT \`file\`('${s.keysPath}')`)).rejects.toMatchObject({ code: 'ERR_STORAGE_SANDBOX' });
  });

  it('allowFormat (for ClickHouse clients): a trailing FORMAT is handed back, nothing else is let through', async () => {
    const r = await s.queries.sql('SELECT count() AS n FROM trades WHERE symbol = {s:String}\nFORMAT JSONEachRow;', { s: 'ETH-USD' }, { allowFormat: true });
    expect(r).toMatchObject({ rows: [{ n: '2' }], format: 'JSONEachRow' });
    expect(await s.queries.sql('SELECT 1 AS one', {}, { allowFormat: true })).toMatchObject({ rows: [{ one: 1 }], format: null });
    for (const [sql, why] of [
      [`SELECT "file"('${s.keysPath}') FORMAT TSV`, /function file is not allowed/],
      ['SELECT 1 SETTINGS readonly = 0 FORMAT TSV', /SETTINGS is not allowed/],
      ['SELECT 1 FORMAT TSV SETTINGS readonly = 0', /SETTINGS is not allowed|FORMAT/],
      [`SELECT 1 INTO OUTFILE '${s.keysPath}.out' FORMAT TSV`, /FORMAT and INTO OUTFILE are not allowed/],
      ['SELECT * FROM (SELECT 1 FORMAT TSV)', /syntax|FORMAT/i],
    ] as const) {
      const e = await s.queries.sql(sql, {}, { allowFormat: true }).then(() => null, (x: unknown) => x as TradsysError);
      expect(e, sql).toBeInstanceOf(TradsysError);
      expect(e!.message, sql).toMatch(why);
    }
    // without the option, FORMAT stays refused
    await expect(s.queries.sql('SELECT 1 FORMAT JSONEachRow')).rejects.toMatchObject({ code: 'ERR_STORAGE_NOT_SELECT' });
  });

  it('a parameter value stays a value: an injected file() is only text', async () => {
    const v = `x') UNION ALL SELECT file('${s.keysPath}') --`;
    const r = await s.queries.sql('SELECT {v:String} AS v, count() AS n FROM trades WHERE symbol = {v:String}', { v });
    expect(r.rows).toEqual([{ v, n: '0' }]);
    await expect(s.queries.sql('SELECT * FROM {t:Identifier}', { t: 'system.users' })).rejects.toMatchObject({ code: 'ERR_STORAGE_PARAM' });
  });

  it('keeps working: parameters, joins, aggregates, CTEs, unions, subqueries, system tables, the documented queries', async () => {
    const q = async (sql: string, params = {}): Promise<Record<string, unknown>[]> => (await s.queries.sql(sql, params)).rows;
    expect(await q('SELECT trade_id, price FROM trades WHERE symbol = {s:String} ORDER BY trade_id -- newest last', { s: 'ETH-USD' }))
      .toEqual([{ trade_id: '1', price: '60001' }, { trade_id: '2', price: '60002' }]);
    expect(await q('SELECT t.symbol AS symbol, i.tick_size AS tick, count() AS n FROM trades AS t INNER JOIN instruments AS i ON i.symbol = t.symbol GROUP BY t.symbol, i.tick_size'))
      .toEqual([{ symbol: 'ETH-USD', tick: '0.05', n: '2' }]);
    expect(await q('SELECT symbol, sum(qty) AS v, max(price) AS hi, argMax(price, trade_id) AS last, uniqExact(trade_id) AS u, sumIf(qty, price > 60001) AS big FROM trades GROUP BY symbol ORDER BY symbol'))
      .toEqual([{ symbol: 'BTC-USD', v: '3000', hi: '60003', last: '60003', u: '1', big: '3000' }, { symbol: 'ETH-USD', v: '3000', hi: '60002', last: '60002', u: '2', big: '2000' }]);
    expect(await q('SELECT count() AS n FROM (SELECT symbol FROM trades) UNION ALL SELECT count() AS n FROM trades WHERE trade_id IN (SELECT trade_id FROM trades WHERE price > {p:Int64})', { p: 60001 }))
      .toEqual(expect.arrayContaining([{ n: '3' }, { n: '2' }]));
    expect(await q('WITH 2 AS two SELECT two * count() AS n FROM trades')).toEqual([{ n: '6' }]);
    if (name === 'chdb') { // CTEs of subqueries and window functions: ClickHouse ≥ 20.x (not Debian's 18.16)
      expect(await q('WITH x AS (SELECT symbol FROM trades) SELECT count() AS n FROM x')).toEqual([{ n: '3' }]);
      expect(await q('SELECT trade_id, sum(qty) OVER (ORDER BY trade_id) AS cum FROM trades ORDER BY trade_id')).toEqual([{ trade_id: '1', cum: '1000' }, { trade_id: '2', cum: '3000' }, { trade_id: '3', cum: '6000' }]);
    }
    expect(await q(`SELECT count() AS n FROM ${s.storage.database}.trades`)).toEqual([{ n: '3' }]);
    expect(await q('SELECT number FROM system.numbers LIMIT 2')).toEqual([{ number: '0' }, { number: '1' }]);
    expect(await q("SELECT name FROM system.tables WHERE database = currentDatabase() AND name = 'bars_1m'")).toEqual([{ name: 'bars_1m' }]);
    expect(await q('SELECT arrayMap(x -> x * 2, [1, 2]) AS a, t.format AS format FROM (SELECT 1 AS format) AS t; -- trailing')).toEqual([{ a: [2, 4], format: 1 }]);
    // docs/schema.md: bars with the -Merge combinators, bars from trades, VWAP
    expect(await q(`SELECT bucket, argMinMerge(open) AS open, maxMerge(high) AS high, minMerge(low) AS low,
       argMaxMerge(close) AS close, sumMerge(volume) AS volume, countMerge(trades) AS trades,
       sumMerge(notional) / volume AS vwap_ticks
FROM bars_1m
WHERE symbol = 'ETH-USD' AND bucket >= 1790000000000000000 AND bucket < 1790086400000000000
GROUP BY symbol, bucket ORDER BY bucket`)).toMatchObject([{ open: '60001', high: '60002', low: '60001', close: '60002', volume: '3000', trades: '2' }]);
    expect(await q(`SELECT intDiv(ts, 60000000000) * 60000000000 AS bucket, argMin(price, trade_id) AS open, max(price) AS high,
       min(price) AS low, argMax(price, trade_id) AS close, sum(qty) AS volume, count() AS trades
FROM trades WHERE symbol = 'ETH-USD' GROUP BY bucket ORDER BY bucket`)).toMatchObject([{ open: '60001', close: '60002', trades: '2' }]);
    expect(await q(`SELECT sum(price * toInt64(qty)) / sum(qty) AS vwap_ticks, sum(qty) AS volume_lots
FROM (SELECT trade_id, any(price) AS price, any(qty) AS qty FROM trades
      WHERE symbol = 'ETH-USD' AND ts >= 1790000000000000000 AND ts < 1790003600000000000 GROUP BY trade_id)`)).toMatchObject([{ volume_lots: '3000' }]);
    for (const t of ['order_events', 'quotes', 'book_snapshots', 'strategy_signals', 'latency_samples', 'schema_migrations', 'bars_1s', 'bars_5m', 'bars_1h', 'bars_1d']) {
      expect((await q(`SELECT count() AS n FROM ${t}`)).length, t).toBe(1);
    }
    // the row limit still holds
    await expect(s.queries.sql('SELECT number FROM system.numbers LIMIT 200000')).rejects.toMatchObject({ code: 'ERR_STORAGE_LIMIT' });
  });

  it('comments cannot hide SQL from the check: what runs is what was checked (secret database, system tables)', async () => {
    const secretDb = `tradsys_secret_${process.pid}`;
    await s.storage.command(`CREATE DATABASE IF NOT EXISTS ${secretDb}`);
    await s.storage.command(`CREATE TABLE IF NOT EXISTS ${secretDb}.t (s String) ENGINE = Memory`);
    await s.storage.command(`INSERT INTO ${secretDb}.t VALUES ('${SECRET}')`);
    // what reaches the backend: a spy over the storage analysts' queries run on
    const sent: string[] = [];
    const spy = (st: Storage): Storage => new Proxy(st, { get: (t, k, r) => (k === 'query' ? (sql: string, o: unknown) => { if (sql !== 'SELECT name FROM system.databases') sent.push(sql); return t.query(sql, o as never); } : k === 'readLane' ? undefined : Reflect.get(t, k, r) as unknown) });
    const lanes: [string, StorageQueries][] = [[name, new StorageQueries(spy(s.storage), () => 0, new QueryCache(16, 0))]];
    // the server without CLICKHOUSE_ANALYST_USER (allowed: the main user with readonly=1)
    let plain: ServerStorage | null = null;
    if (name === 'server') {
      plain = new ServerStorage({ url: s.server!.url, database: DB });
      await plain.connect();
      lanes.unshift(['server, main user', new StorageQueries(spy(plain), () => 0, new QueryCache(16, 0))]);
    }
    try {
      const attacks = [
        `SELECT 1 /* /* */ , * FROM ${secretDb}.t -- */`,
        'SELECT 1 /* /* */ , name, value FROM system.settings -- */',
        'SELECT 1 /* /* */ , query FROM system.processes -- */',
        'SELECT 1 /* /* */ , name FROM system.databases -- */',
        `SELECT 1 /*/* */ , s FROM ${secretDb}.t --*/`,
        `SELECT 1 /* -- */ , s FROM ${secretDb}.t`,
        `SELECT 1 -- /*\n , s FROM ${secretDb}.t -- */`,
        `SELECT 1 # /*\n , s FROM ${secretDb}.t`,
        `SELECT 1 #*/\n, s FROM ${secretDb}.t`,
        `SELECT '/*', s FROM ${secretDb}.t -- */`,
        `SELECT 'a\\\\' AS a, s FROM ${secretDb}.t -- '`,
        `SELECT 'a\\' /*', s FROM ${secretDb}.t -- */'`,
        `SELECT 1 AS \`/*\`, s FROM ${secretDb}.t -- */`,
        `SELECT 1 AS "--", s FROM ${secretDb}.t`,
        `SELECT $$ /* $$, s FROM ${secretDb}.t -- */`,
        `SELECT \u2018 /* \u2019, s FROM ${secretDb}.t -- */`,
        `SELECT \\N /* */, s FROM ${secretDb}.t`,
        'SELECT 1 /* /* */ , name FROM system.users -- */',
        // ClickHouse 26 rewrites position(needle IN haystack) into a plain call (no IN in its tree);
        // 18.16 reads `needle IN table` as a membership test against the other database's table
        `WITH position('${SECRET}' IN ${secretDb}.t AS r) AS unused SELECT r`,
        `WITH position(s IN ${secretDb}.t AS r) AS unused SELECT r`,
        "WITH position(('VERSION_FULL', 'x') IN system.build_options AS r) AS u SELECT r",
        `SELECT position('x' IN ${secretDb}.t)`,
        `SELECT locate('x' IN ${secretDb}.t)`,
        // DIV / MOD: operators to ClickHouse 26, implicit aliases to 18.16
        `SELECT 1 DIV ${secretDb}.t`,
        `SELECT 7 mod 2, s FROM ${secretDb}.t`,
        // a nested comment in the tail (dropped, but refused all the same)
        'SELECT 1 /* /* */',
        // third round: escapes in quoted names (both versions decode them), an IN padded by a
        // membership call, and ILIKE / REGEXP (operators to 26, implicit aliases to 18.16)
        `WITH position('${SECRET}' IN "\\x74${secretDb.slice(1)}".t AS r) AS u SELECT r, notIn(1, (2))`,
        `WITH position('${SECRET}' IN \`\\x74${secretDb.slice(1)}\`.t AS r) AS u SELECT r, notIn(1, (2))`,
        "WITH position(('VERSION_FULL', 'x') IN \"s\\x79stem\".build_options AS r) AS u SELECT r, notIn(1, (2))",
        `SELECT s FROM "\\x74${secretDb.slice(1)}".t`,
        `SELECT 1 ILIKE FROM trades, "${secretDb}".t`,
        `SELECT 1 ILIKE FROM trades, ${secretDb}.t`,
        'SELECT symbol ILIKE FROM trades LIMIT 1',
        'SELECT symbol REGEXP FROM trades LIMIT 1',
        `SELECT "a""b" FROM ${secretDb}.t`,
        // fourth round: quoted keywords (26 prints some unquoted in its canonical text), database.* and
        // a database in the middle of a.b.c
        'SELECT `UNION` FROM system.one', 'SELECT dummy AS `WHERE` FROM system.one', `SELECT ${secretDb}.* FROM system.one`,
        `SELECT * FROM system.one WHERE '${SECRET}' IN 0x1 .${secretDb}.t`, `SELECT count() FROM system.one ARRAY JOIN x.${secretDb}.t`,
      ];
      for (const [lane, q] of lanes) {
        for (const sql of attacks) {
          sent.length = 0;
          const e = await q.sql(sql).then((r) => r, (x: unknown) => x);
          expect(e, `${lane}: ${sql}`).toBeInstanceOf(TradsysError);
          expect(['ERR_STORAGE_SANDBOX', 'ERR_STORAGE_NOT_SELECT', 'ERR_STORAGE_QUERY'], `${lane}: ${sql}: ${(e as TradsysError).message}`).toContain((e as TradsysError).code);
          expect(JSON.stringify(e) + (e as Error).message, sql).not.toContain(SECRET);
          expect(sent, `${lane}: nothing was read for ${sql}`).toEqual([]);
        }
        // ordinary comments keep working, and the backend gets the text without them
        sent.length = 0;
        expect((await q.sql('SELECT count() AS n /* all of them */ FROM trades -- done\n WHERE symbol = {s:String} # eth\n;', { s: 'ETH-USD' })).rows).toEqual([{ n: '2' }]);
        expect((await q.sql("SELECT '--' AS a, '/*' AS b, `x/*` FROM (SELECT 1 AS `x/*`) -- */")).rows).toEqual([{ a: '--', b: '/*', 'x/*': 1 }]);
        expect((await q.sql('SELECT 1 /* a\n multi-line -- comment */ AS one')).rows).toEqual([{ one: 1 }]);
        // membership tests in every form keep working: the IN keywords match the tree's in-functions
        expect((await q.sql("SELECT count() AS n FROM trades WHERE trade_id IN (1, 2) AND trade_id NOT IN (3) AND in(trade_id, (1, 2)) AND symbol GLOBAL IN (SELECT symbol FROM trades)")).rows).toEqual([{ n: '2' }]);
        if (name === 'chdb') expect((await q.sql('SELECT 1 = ANY (SELECT 1) AS a, 2 != ALL (SELECT 1) AS b, 3 <> ALL (SELECT 3) AS c')).rows).toEqual([{ a: 1, b: 1, c: 0 }]);
        const [row] = (await q.sql("SELECT intDiv(7, 2) AS d, modulo(7, 2) AS m, position('ETH-USD', 'USD') AS p")).rows;
        expect([String(row!.d), String(row!.m), String(row!.p)]).toEqual(['3', '1', '5']);
        expect(sent.length, lane).toBe(name === 'chdb' ? 6 : 5);
        for (const sql of sent) expect(sql, sql).not.toMatch(/done|eth|all of them|multi-line/);
        if (name === 'server') expect(sent[0]).toContain("symbol = 'ETH-USD'");
      }
    } finally {
      await plain?.close();
      await s.storage.command(`DROP DATABASE IF EXISTS ${secretDb}`);
    }
  });

  it('file paths are no table names: refused alike whether or not the file exists; CTEs and subqueries keep working', async () => {
    const files = mkdtempSync(join(tmpdir(), 'tradsys-paths-'));
    writeFileSync(join(files, 'keys'), KEYS);
    writeFileSync(join(files, 'keys.json'), KEYS);
    try {
      const pairs: [string, string][] = [
        [`${files}/keys?json`, `${files}/nope?json`],
        [`${files}/keys*`, `${files}/nope*`],
        [`${files}/k{e,x}ys`, `${files}/n{o,x}pe`],
        [`${files}/keys`, `${files}/nope`],
        [`${files}/keys.json`, `${files}/nope.json`],
        ['/etc/passwd', '/etc/nonexistent'],
        ['~/keys', '~/nope'],
        ['../keys', '../nope'],
        ['keys', 'nope'],
        ['keys?json', 'nope?json'],
      ];
      for (const [there, gone] of pairs) {
        const answers: string[] = [];
        for (const p of [there, gone]) {
          for (const sql of [`SELECT * FROM \`${p}\``, `SELECT * FROM "${p}" AS f`, `SELECT 1 IN \`${p}\``, `SELECT count() FROM trades WHERE trade_id IN \`${p}\``]) {
            const e = await s.queries.sql(sql).then(() => null, (x: unknown) => x as TradsysError);
            expect(e, sql).toBeInstanceOf(TradsysError);
            expect(e!.code, `${sql}: ${e!.message}`).toBe('ERR_STORAGE_SANDBOX');
            expect(e!.message, sql).toContain(p);
            expect(e!.message, sql).not.toContain(SECRET);
            answers.push(`${e!.status} ${e!.message.replaceAll(p, 'P')}`);
          }
        }
        expect(answers.slice(0, 4), there).toEqual(answers.slice(4));
      }
      const q = async (sql: string): Promise<Record<string, unknown>[]> => (await s.queries.sql(sql)).rows;
      expect(await q('SELECT count() AS n FROM (SELECT * FROM trades) AS sub')).toEqual([{ n: '3' }]);
      expect(await q('SELECT count() AS n FROM trades WHERE trade_id IN (SELECT trade_id FROM trades WHERE qty > 1000)')).toEqual([{ n: '2' }]);
      expect(await q('WITH (SELECT max(trade_id) FROM trades) AS mx SELECT mx')).toEqual([{ mx: '3' }]);
      await expect(s.queries.sql('SELECT * FROM nope')).rejects.toMatchObject({ code: 'ERR_STORAGE_SANDBOX', message: expect.stringMatching(/table nope is not readable/) });
      // a scalar subquery's alias is no table to ClickHouse (it would look for a table or file `y`)
      await expect(s.queries.sql('WITH (SELECT 1) AS y SELECT * FROM y')).rejects.toMatchObject({ code: 'ERR_STORAGE_SANDBOX', message: expect.stringMatching(/table y is not readable/) });
      if (name === 'chdb') { // CTEs of subqueries: ClickHouse ≥ 20.x
        expect(await q('WITH x AS (SELECT symbol FROM trades) SELECT count() AS n FROM x')).toEqual([{ n: '3' }]);
        expect(await q('WITH a AS (SELECT trade_id FROM trades), b AS (SELECT trade_id FROM a WHERE trade_id > 1) SELECT count() AS n FROM b')).toEqual([{ n: '2' }]);
        expect(await q('SELECT n FROM (WITH x AS (SELECT 1 AS n) SELECT n FROM x) AS t')).toEqual([{ n: 1 }]);
        expect(await q('WITH x AS (SELECT trade_id FROM trades) SELECT count() AS n FROM trades WHERE trade_id IN x')).toEqual([{ n: '3' }]);
        expect(await q('WITH [1, 2] AS ids SELECT count() AS n FROM trades WHERE trade_id IN ids')).toEqual([{ n: '2' }]);
        // a CTE's name is no name outside its query
        await expect(s.queries.sql('SELECT (WITH x AS (SELECT 1 AS v) SELECT v FROM x) AS a, (SELECT count() FROM x) AS b'))
          .rejects.toMatchObject({ code: 'ERR_STORAGE_SANDBOX', message: expect.stringMatching(/table x is not readable/) });
        await expect(s.queries.sql('WITH `/etc/passwd` AS (SELECT 1) SELECT * FROM `/etc/passwd`')).rejects.toMatchObject({ code: 'ERR_STORAGE_SANDBOX' });
      }
    } finally { rmSync(files, { recursive: true, force: true }); }
  });

  it('EXISTS(subquery) and untuple() are allowed; their arguments are still checked', async () => {
    if (name === 'chdb') { // neither is in 18.16
      expect((await s.queries.sql('SELECT EXISTS(SELECT 1 FROM trades WHERE qty > 2000) AS e, exists(SELECT 1 FROM trades WHERE qty > 9000) AS f')).rows).toEqual([{ e: 1, f: 0 }]);
      expect((await s.queries.sql("SELECT untuple((1, 'a')) FROM system.one")).rows.length).toBe(1);
    }
    await expect(s.queries.sql('SELECT EXISTS(SELECT name FROM system.users) AS e')).rejects.toMatchObject({ code: 'ERR_STORAGE_SANDBOX', message: expect.stringMatching(/system\.users/) });
    await expect(s.queries.sql(`SELECT untuple((file('${s.keysPath}'), 1))`)).rejects.toMatchObject({ code: 'ERR_STORAGE_SANDBOX', message: expect.stringMatching(/function file/) });
  });

  it('the backend refuses on its own too (defence in depth, without the sandbox)', async () => {
    const ro = { settings: { readonly: 1 }, analyst: true } as const;
    if (name === 'chdb') {
      // readonly=1 stops every table function, file() included
      const e = await s.storage.query(`SELECT * FROM file('${s.keysPath}', LineAsString)`, ro).then(() => null, (x: unknown) => x as TradsysError);
      expect(e).toMatchObject({ code: 'ERR_STORAGE_FORBIDDEN' });
      expect(e!.message).not.toContain(SECRET);
      // user_files_path is an empty folder of the store's own, not the data folder that holds keys.json
      const r = await s.storage.query<{ p: string }>("SELECT getServerSetting('user_files_path') AS p");
      expect(r.rows[0]!.p.replace(/\/$/, '')).toBe(join(s.dir, 'clickhouse-sandbox'));
      expect(readdirSync(join(s.dir, 'clickhouse-sandbox'))).toEqual([]);
    } else {
      // the analyst user: readonly profile (no table function, no setting change) and allow_databases
      for (const [sql, code] of [
        [`SELECT * FROM file('${s.keysPath}', TSV, 'a String')`, 'ERR_STORAGE_FORBIDDEN'],
        ['SELECT * FROM numbers(2)', 'ERR_STORAGE_FORBIDDEN'],
        ['SELECT count() FROM default.nope', 'ERR_STORAGE_FORBIDDEN'],
        ['SELECT 1 SETTINGS readonly = 0', 'ERR_STORAGE_FORBIDDEN'],
      ] as const) {
        const e = await s.storage.query(sql, ro).then(() => null, (x: unknown) => x as TradsysError);
        expect(e, sql).toMatchObject({ code });
        expect(e!.message).not.toContain(SECRET);
      }
      expect((await s.storage.query('SELECT count() AS n FROM trades', ro)).rows).toEqual([{ n: '3' }]);
    }
  });

  it('POST /api/v1/sql goes through the same gate: 403/400 with the reason, never the secret', async () => {
    const app: FastifyInstance = Fastify();
    registerStorage(app, s.storage, null, {
      instruments: loadInstruments([{ symbol: 'ETH-USD', tickSize: '0.05', lotSize: '0.001' }]), recentTrades: () => "[]", authorizeSql: () => true,
    });
    await app.ready();
    try {
      const post = (sql: string) => app.inject({ method: 'POST', url: '/api/v1/sql', payload: { sql } });
      const r1 = await post(`SELECT \`file\`('${s.keysPath}') AS f`);
      expect(r1.statusCode).toBe(403);
      expect(r1.json()).toMatchObject({ error: 'ERR_STORAGE_SANDBOX' });
      expect(r1.body).toMatch(/function file is not allowed/);
      const r2 = await post(`SELECT "file"('${s.keysPath}')`);
      expect(r2.statusCode).toBe(403);
      const r3 = await post('SELECT 1 SETTINGS readonly = 0');
      expect(r3.statusCode).toBe(400);
      expect(r3.json()).toMatchObject({ error: 'ERR_STORAGE_NOT_SELECT' });
      // a comment that ClickHouse versions read differently hides nothing here either
      const r4 = await post('SELECT 1 /* /* */ , name FROM system.users -- */');
      expect(r4.statusCode).toBe(403);
      expect(r4.json()).toMatchObject({ error: 'ERR_STORAGE_SANDBOX' });
      expect(r4.body).toMatch(/inside a \/\* comment/);
      for (const r of [r1, r2, r3, r4]) expect(r.body).not.toContain(SECRET);
      expect((await post('SELECT count() AS n FROM trades')).json()).toMatchObject({ rows: [{ n: '3' }] });
    } finally { await app.close(); }
  });
});

afterAll(async () => { await SqlParser.closeShared(); });
