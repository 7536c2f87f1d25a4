/**
 * `tradsys sql [--data DIR] [--format table|csv|json] [--param name=value …] "SELECT …"`: one
 * read-only query against the embedded store (chDB in `<DIR>/clickhouse`) or, when CLICKHOUSE_URL
 * is set, the server; the same gate and limits as POST /api/v1/sql.
 *
 * Layout: table output pads columns (numbers right-aligned); csv quotes fields with , " or a
 * newline; json prints one JSON array. Allocation: the whole result (bounded by the row limit).
 * Known limitations: parameters from the command line are strings (ClickHouse converts them to
 * the declared type).
 */
import { TradsysError } from '../domain/errors.js';
import { openStorage } from '../storage/open.js';
import { StorageQueries } from '../storage/queries.js';
import type { ParamValue } from '../storage/storage.js';

export function formatRows(rows: Record<string, unknown>[], columns: string[], format: 'table' | 'csv' | 'json'): string {
  const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  if (format === 'json') return JSON.stringify(rows, null, 0).replace(/\},\{/g, '},\n{') + '\n';
  if (format === 'csv') {
    const q = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    return [columns.map(q).join(','), ...rows.map((r) => columns.map((c) => q(cell(r[c]))).join(','))].join('\n') + '\n';
  }
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const w = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const num = columns.map((_c, i) => cells.length > 0 && cells.every((row) => /^-?\d+(\.\d+)?$/.test(row[i]!)));
  const line = (xs: string[]): string => xs.map((x, i) => (num[i] ? x.padStart(w[i]!) : x.padEnd(w[i]!))).join('  ').trimEnd();
  return [line(columns), w.map((n) => '─'.repeat(n)).join('  '), ...cells.map(line), `(${rows.length} row${rows.length === 1 ? '' : 's'})`].join('\n') + '\n';
}

export async function cmdSql(argv: string[]): Promise<number> {
  let data = 'data';
  let format: 'table' | 'csv' | 'json' = 'table';
  const params: Record<string, ParamValue> = {};
  const sql: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (name: string): string => {
      const eq = a.indexOf('=');
      const v = eq > 0 && a.startsWith(`--${name}=`) ? a.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new TradsysError('ERR_CLI_USAGE', `--${name} needs a value`);
      return v;
    };
    if (a === '--data' || a.startsWith('--data=')) data = value('data');
    else if (a === '--format' || a.startsWith('--format=')) {
      const f = value('format');
      if (f !== 'table' && f !== 'csv' && f !== 'json') throw new TradsysError('ERR_CLI_USAGE', `--format must be table, csv or json, got "${f}"`);
      format = f;
    } else if (a === '--param' || a.startsWith('--param=')) {
      const p = value('param');
      const eq = p.indexOf('=');
      if (eq <= 0) throw new TradsysError('ERR_CLI_USAGE', `--param takes name=value, got "${p}"`);
      params[p.slice(0, eq)] = p.slice(eq + 1);
    } else if (a.startsWith('--')) throw new TradsysError('ERR_CLI_USAGE', `unknown option ${a}`);
    else sql.push(a);
  }
  if (sql.length !== 1) throw new TradsysError('ERR_CLI_USAGE', 'sql needs exactly one query argument: tradsys sql "SELECT …"');
  const storage = await openStorage(data);
  try {
    const r = await new StorageQueries(storage).sql(sql[0]!, params);
    process.stdout.write(formatRows(r.rows as Record<string, unknown>[], r.meta.map((m) => m.name), format));
    return 0;
  } finally {
    await storage.close();
  }
}
