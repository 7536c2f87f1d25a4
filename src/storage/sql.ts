/**
 * SQL text handling for the storage layer: a small ClickHouse lexer (strings, quoted identifiers,
 * comments, `{name:Type}` placeholders), client-side parameter binding for servers without
 * `{name:Type}` (ClickHouse < 19.15, e.g. Debian's 18.16), the normalised text used as a
 * cache key, and the comment-free text the analysts' sandbox checks and runs (commentFree). The analysts' gate is not here: sandbox.ts decides from ClickHouse's own parse.
 *
 * Layout: tokens are [kind, text] with comments dropped. A placeholder is recognised only outside
 * strings, quoted identifiers and comments.
 * Invariants: a bound literal never contains an unescaped quote: strings are quoted with every
 * `\` and `'` escaped and control characters written as escapes; numbers pass only after a
 * strict pattern and range check and are wrapped in `toT('digits')`; type names pass only from
 * an allow-list. Anything else is ERR_STORAGE_PARAM.
 * Complexity: O(length of the SQL). Allocation: a token array per call (not hot path).
 * Known limitations: placeholders support (U)Int8..64, Float32/64, String, Date, DateTime and
 * Array(T) of those; Nullable/Map/Tuple are refused.
 */
import { TradsysError } from '../domain/errors.js';
import type { ParamValue } from './storage.js';

export type TokenKind = 'word' | 'string' | 'ident' | 'number' | 'punct' | 'param';
export interface Token { kind: TokenKind; text: string; start: number; end: number }

/** Splits SQL into tokens (comments dropped). Throws ERR_STORAGE_QUERY on an unterminated string/comment. */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') { i++; continue; }
    if (c === '-' && sql[i + 1] === '-' || c === '#') { const e = sql.indexOf('\n', i); i = e < 0 ? n : e + 1; continue; }
    if (c === '/' && sql[i + 1] === '*') {
      const e = sql.indexOf('*/', i + 2);
      if (e < 0) throw new TradsysError('ERR_STORAGE_QUERY', 'unterminated /* comment');
      i = e + 2;
      continue;
    }
    if (c === '\'' || c === '"' || c === '`') {
      let j = i + 1;
      for (;;) {
        if (j >= n) throw new TradsysError('ERR_STORAGE_QUERY', `unterminated ${c === '\'' ? 'string' : 'quoted identifier'} at position ${i}`);
        const d = sql[j]!;
        if (d === '\\') { j += 2; continue; }
        if (d === c) { if (sql[j + 1] === c) { j += 2; continue; } break; }
        j++;
      }
      out.push({ kind: c === '\'' ? 'string' : 'ident', text: sql.slice(i, j + 1), start: i, end: j + 1 });
      i = j + 1;
      continue;
    }
    if (c === '{') {
      const m = /^\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}/.exec(sql.slice(i, i + 200));
      if (m) { out.push({ kind: 'param', text: m[0], start: i, end: i + m[0].length }); i += m[0].length; continue; }
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      out.push({ kind: 'word', text: sql.slice(i, j), start: i, end: j });
      i = j;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^(0x[0-9a-fA-F]+|\d+(\.\d*)?([eE][+-]?\d+)?)/.exec(sql.slice(i, i + 400))!;
      out.push({ kind: 'number', text: m[0], start: i, end: i + m[0].length });
      i += m[0].length;
      continue;
    }
    out.push({ kind: 'punct', text: c, start: i, end: i + 1 });
    i++;
  }
  return out;
}

/** Punctuation a plain ClickHouse SELECT is written with, read alike by every ClickHouse version. */
const PLAIN_PUNCT = new Set(['(', ')', '[', ']', '{', '}', ',', '.', ';', ':', '+', '-', '*', '/', '%', '=', '<', '>', '!', '?', '|']);

/**
 * The query without its comments, rebuilt from the original bytes of its tokens (a comment
 * becomes one space, whitespace and adjacency are kept), and without trailing `;`: text that
 * every ClickHouse parser (chDB 26, the 18.16 server, this lexer) splits into the same tokens.
 * Refused (ERR_STORAGE_SANDBOX) is what they might split differently: a `/*` inside a block
 * comment (ClickHouse 26 nests them, 18.16 and this lexer end at the first `*` `/`), `$`
 * (heredoc strings `$$…$$` of newer versions), and any character outside strings and quoted
 * names that is not plain ASCII SQL punctuation (`\`, `#`, `@`, `&`, `^`, `~`, unicode quotes
 * and letters, control characters), and a number run into a name (`1_000`, `0b1`: one number to
 * newer versions, a number and an alias to 18.16). Allocates the text and the token array.
 */
export function commentFree(sql: string): { text: string; tokens: Token[] } {
  const refuse = (why: string): TradsysError => new TradsysError('ERR_STORAGE_SANDBOX', why);
  const toks = tokenize(sql);
  const gap = (g: string): string => {
    let r = '';
    for (let i = 0; i < g.length;) {
      const c = g[i]!;
      if (c === '/' && g[i + 1] === '*') {
        const e = g.indexOf('*/', i + 2);
        if (g.slice(i + 2, e).includes('/*')) throw refuse('a "/*" inside a /* comment */ is not allowed (ClickHouse versions read nested comments differently)');
        r += ' ';
        i = e + 2;
      } else if (c === '-' || c === '#') {
        const e = g.indexOf('\n', i);
        r += ' ';
        i = e < 0 ? g.length : e;
      } else { r += c; i++; }
    }
    return r;
  };
  let prev: Token | null = null;
  for (const t of toks) {
    if (t.kind === 'punct' && !PLAIN_PUNCT.has(t.text)) {
      const cp = t.text.codePointAt(0)!;
      throw refuse(`the character ${JSON.stringify(t.text)} (U+${cp.toString(16).toUpperCase().padStart(4, '0')}) at position ${t.start} is not allowed outside strings and quoted names`);
    }
    if (t.kind === 'word' && t.text.includes('$')) throw refuse(`"$" (in ${t.text.slice(0, 80)}) is not allowed outside strings and quoted names`);
    // a quoted name is taken as written: no escapes (`secret\x64b` is `secretdb` to ClickHouse) and no doubled quotes
    if (t.kind === 'ident' && /[\\`"]/.test(t.text.slice(1, -1))) {
      throw refuse(`the quoted name ${t.text.slice(0, 80)} has characters that are not allowed (a backslash or a quote): quoted names are taken as written, without escapes`);
    }
    // 1_000, 0b101, 0o7, 1x: one number to newer versions, a number and a name (an alias) to 18.16
    if (prev && prev.kind === 'number' && prev.end === t.start && (t.kind === 'word' || t.kind === 'number')) {
      throw refuse(`the number ${sql.slice(prev.start, t.end).slice(0, 80)} is not allowed: write digits only (or 0x…, 1e5), then a space before a name`);
    }
    prev = t;
  }
  while (toks.length > 0 && toks[toks.length - 1]!.text === ';') toks.pop();
  let out = '';
  let at = 0;
  const tokens: Token[] = [];
  for (const t of toks) {
    out += gap(sql.slice(at, t.start));
    tokens.push({ ...t, start: out.length, end: out.length + t.text.length });
    out += t.text;
    at = t.end;
  }
  gap(sql.slice(at)); // the tail (comments, `;`) is dropped, but a nested comment there is refused too
  return { text: out, tokens };
}

/** Whitespace- and comment-insensitive form of a query (the cache key). */
export function normalizeSql(sql: string): string {
  return tokenize(sql).map((t) => t.text).join(' ');
}

const INT_RANGES: Record<string, [bigint, bigint]> = {
  UInt8: [0n, 255n], UInt16: [0n, 65535n], UInt32: [0n, 4294967295n], UInt64: [0n, 18446744073709551615n],
  Int8: [-128n, 127n], Int16: [-32768n, 32767n], Int32: [-2147483648n, 2147483647n], Int64: [-9223372036854775808n, 9223372036854775807n],
};

/** Quotes a string as a ClickHouse literal: every byte that could end or escape the literal is escaped. */
export function quoteString(s: string): string {
  let out = '\'';
  for (const ch of s) {
    switch (ch) {
      case '\\': out += '\\\\'; break;
      case '\'': out += '\\\''; break;
      case '\n': out += '\\n'; break;
      case '\r': out += '\\r'; break;
      case '\t': out += '\\t'; break;
      case '\0': out += '\\0'; break;
      case '\b': out += '\\b'; break;
      case '\f': out += '\\f'; break;
      default: out += ch;
    }
  }
  return out + '\'';
}

function literal(v: ParamValue, type: string, name: string, top = true): string {
  const bad = (why: string): TradsysError => new TradsysError('ERR_STORAGE_PARAM', `parameter ${name} (${type}): ${why}`);
  const arr = /^Array\((.+)\)$/.exec(type);
  if (arr) {
    if (!Array.isArray(v)) throw bad('expected an array');
    return '[' + (v as readonly ParamValue[]).map((x) => literal(x, arr[1]!, name, false)).join(', ') + ']';
  }
  if (v === null || Array.isArray(v)) throw bad(v === null ? 'null is not supported' : 'unexpected array');
  const range = INT_RANGES[type];
  if (range) {
    const text = typeof v === 'bigint' ? v.toString() : typeof v === 'number' ? (Number.isSafeInteger(v) ? String(v) : '') : typeof v === 'string' ? v : '';
    if (!/^-?\d{1,20}$/.test(text)) throw bad(`${JSON.stringify(String(v))} is not an integer`);
    const b = BigInt(text);
    if (b < range[0] || b > range[1]) throw bad(`${text} is out of range`);
    // plain digits (checked above) at the top level: accepted everywhere, LIMIT included; typed in
    // arrays, where mixed literals would have no common type
    return top ? b.toString() : `to${type}('${b.toString()}')`;
  }
  if (type === 'Float32' || type === 'Float64') {
    const x = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isFinite(x)) throw bad(`${JSON.stringify(String(v))} is not a finite number`);
    return `to${type}('${String(x)}')`;
  }
  if (type === 'String') return quoteString(typeof v === 'string' ? v : String(v));
  if (type === 'Date') {
    if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v)) throw bad('expected YYYY-MM-DD');
    return `toDate('${v}')`;
  }
  if (type === 'DateTime') {
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return `toDateTime(${v})`;
    if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(v)) throw bad('expected "YYYY-MM-DD hh:mm:ss" or epoch seconds');
    return `toDateTime('${v}')`;
  }
  throw bad('unsupported parameter type');
}

/** Names and types of the placeholders in `sql`, in order. */
export function placeholders(sql: string): { name: string; type: string; start: number; end: number }[] {
  return tokenize(sql).filter((t) => t.kind === 'param').map((t) => {
    const m = /^\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}$/.exec(t.text)!;
    return { name: m[1]!, type: m[2]!.trim(), start: t.start, end: t.end };
  });
}

/** Checks every placeholder has a value of its type (both server generations call this first). */
export function checkParams(sql: string, params: Record<string, ParamValue> = {}): void {
  for (const p of placeholders(sql)) {
    if (!Object.prototype.hasOwnProperty.call(params, p.name)) throw new TradsysError('ERR_STORAGE_PARAM', `parameter ${p.name} has no value`);
    literal(params[p.name]!, p.type, p.name);
  }
}

/** Replaces each `{name:Type}` with a safe literal (servers without native parameters). */
export function bindParams(sql: string, params: Record<string, ParamValue> = {}): string {
  const ps = placeholders(sql);
  if (ps.length === 0) return sql;
  let out = '';
  let at = 0;
  for (const p of ps) {
    if (!Object.prototype.hasOwnProperty.call(params, p.name)) throw new TradsysError('ERR_STORAGE_PARAM', `parameter ${p.name} has no value`);
    out += sql.slice(at, p.start) + literal(params[p.name]!, p.type, p.name);
    at = p.end;
  }
  return out + sql.slice(at);
}

/**
 * Values for native binding (checked by checkParams first): numbers and bigints as decimal
 * strings, arrays in ClickHouse's text form (`[1,2]`, `['a','b']`), as the server parses them.
 */
export function nativeParams(sql: string, params: Record<string, ParamValue> = {}): Record<string, unknown> {
  const typeOf = new Map(placeholders(sql).map((p) => [p.name, p.type]));
  const inArray = (v: ParamValue, type: string): string => {
    const arr = /^Array\((.+)\)$/.exec(type);
    if (arr) return '[' + (v as readonly ParamValue[]).map((x) => inArray(x, arr[1]!)).join(',') + ']';
    return /String|Date/.test(type) ? quoteString(String(v)) : String(v);
  };
  return Object.fromEntries(Object.entries(params).map(([k, v]) => {
    const type = typeOf.get(k) ?? 'String';
    return [k, /^Array\(/.test(type) ? inArray(v, type) : typeof v === 'bigint' ? v.toString() : v];
  }));
}

/** Checks a database or table identifier (configuration, not user input on a hot path). */
export function checkIdentifier(s: string, what: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(s)) throw new TradsysError('ERR_STORAGE_CONFIG', `${what} must be letters, digits and _, got ${JSON.stringify(s)}`);
  return s;
}
