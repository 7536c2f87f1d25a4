/**
 * CSV for the Analysts panel's download (RFC 4180): a header row of the column names, then one
 * record per row, fields separated by `,`, records ended by CRLF. A field is quoted when it holds a
 * `"`, `,`, CR or LF, or starts or ends with a space (so no reader trims or splits it), and a
 * quote inside is doubled. SQL NULL is an empty field; arrays, tuples and maps are their JSON text;
 * numbers and 64-bit integers (strings in the API's JSON) are written exactly as received.
 *
 * Layout: `csvField`, `toCsv(columns, rows)` (rows as objects keyed by column name, as POST
 * /api/v1/sql answers, or as arrays in column order).
 * Invariants: parsing the output with any RFC 4180 reader gives back the header and each value's
 * text. Complexity: O(size of the output). Allocation: the output text (built in parts).
 * Known limitations: no guard against spreadsheet formula injection (a cell starting with `=`,
 * `+`, `-` or `@` is written as is: prefixing it would change the data, e.g. negative numbers).
 */

/** One value as a CSV field (quoted when needed). */
export function csvField(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The CSV text of a result: the header row, then the rows. */
export function toCsv(columns: readonly string[], rows: readonly (Record<string, unknown> | readonly unknown[])[]): string {
  const out: string[] = [columns.map(csvField).join(',')];
  for (const r of rows) {
    out.push(Array.isArray(r) ? columns.map((_c, i) => csvField((r as readonly unknown[])[i])).join(',') : columns.map((c) => csvField((r as Record<string, unknown>)[c])).join(','));
  }
  return out.join('\r\n') + '\r\n';
}
