/**
 * The analysts' SQL sandbox: decides what a query may touch from the query as ClickHouse itself
 * parses it, never from its spelling. Comments are taken out first by our own lexer
 * (commentFree in sql.ts), so the text checked is the text that runs, on either backend, and no
 * ClickHouse version can read a comment where another reads SQL. The text goes to a data-less
 * chDB parser process (sql-parser.ts, sql-parser-process.ts): `formatQuery` proves it is one statement and gives
 * its canonical text, `EXPLAIN AST` of that text gives ClickHouse's syntax tree, and this module
 * walks the tree against the policy. Function names are resolved as ClickHouse resolves them
 * (exact name, else the case-insensitive name where system.functions says so, then `alias_to`;
 * aggregate combinator suffixes are stripped), so `FILE`, `File`, `` `file` `` and `"file"` are one function.
 *
 * Policy (docs/security.md "SQL sandbox"): one SELECT (UNION/INTERSECT/EXCEPT, WITH, subqueries, joins,
 * aliases, window functions and lambdas allowed); no FORMAT, INTO OUTFILE or SETTINGS anywhere; no
 * table function at all (numbers() included: system.numbers is there); a table is either a
 * platform table (schema.ts), optionally qualified with the platform's database, or one of
 * SYSTEM_TABLES in `system`; an unqualified name that is no platform table is accepted only as
 * the name of a WITH element (CTE: `WITH x AS (SELECT …)`) of the same SELECT or one around it (chDB's default database also reaches the file system); a table name with path
 * or glob characters is refused outright; the right side of IN, when it is a name, is a table
 * reference and checked as one (or an alias of the query); functions in DENIED_CATEGORIES or DENIED_FUNCTIONS (files, dictionaries, Join tables,
 * other databases, server settings and macros, introspection, the planner's internal `__` functions,
 * AI and model calls, Keeper) and any name ClickHouse does not know are refused; so is `* APPLY(f)`
 * (the tree does not show f).
 *
 * Layout: AstNode {type, name, alias, children}, from EXPLAIN AST's indented text (one node a
 * line: `Type[ name][ (alias a)][ (children n)]`, one space of indent per level).
 * Invariants: the tree is accepted only if every line fits that grammar, every node type is in
 * NODE_TYPES, and every declared child count matches the indentation, so a name that prints as
 * extra lines cannot pass; quoted identifiers in the canonical text may not hold control
 * characters, backslashes, dots, quotes or parentheses (names like that could print as more
 * than one node or as a qualified name); refusals are TradsysErrors: ERR_STORAGE_NOT_SELECT
 * (400, not one plain SELECT), ERR_STORAGE_SANDBOX (403, names the table function, database,
 * table or function), ERR_STORAGE_QUERY (400, ClickHouse's syntax error).
 * Complexity: O(length of the query) plus two round trips to the parser process (~1-3 ms each).
 * Allocation: the canonical text, the AST text and the tree, per query (not on a hot path).
 * Known limitations: the check runs on chDB 26's parser; the 18.16 server parses the canonical
 * text (26's rendering of the checked tree) with its own, older parser, which may still read some
 * construct differently or refuse it, so there the token checks and the backend's own guards
 * (readonly, the analyst user's allow_databases) are the second line. CTE names are read from the canonical
 * text (EXPLAIN AST prints none); a mismatch with the tree's WithElement count is refused.
 * `system.tables`/`columns`/`databases` list every database's tables by name.
 */
import { TradsysError } from '../domain/errors.js';
import { SqlParser, type FunctionCatalog } from './sql-parser.js';
import { BAR_INTERVALS } from './schema.js';
import { bindParams, checkParams, commentFree, tokenize, type Token } from './sql.js';
import type { ParamValue } from './storage.js';

/** The platform's tables and views (schema.ts), readable by analysts in the platform's database. */
export const PLATFORM_TABLES: ReadonlySet<string> = new Set([
  'instruments', 'trades', 'quotes', 'book_snapshots', 'order_events', 'strategy_signals', 'latency_samples', 'schema_migrations', 'bench_runs',
  ...Object.keys(BAR_INTERVALS).flatMap((i) => [`bars_${i}`, `bars_${i}_mv`]),
]);

/** `system` tables analysts may read: constants, generators and the catalogue of tables, columns and functions. */
export const SYSTEM_TABLES: ReadonlySet<string> = new Set([
  'one', 'numbers', 'numbers_mt', 'zeros', 'zeros_mt', 'databases', 'tables', 'columns', 'functions', 'table_functions',
  'aggregate_function_combinators', 'data_type_families', 'time_zones',
]);

/** Function categories (system.functions.categories) that read outside the query's tables or call out. */
const DENIED_CATEGORIES = new Set(['dictionary', 'embedded dictionary', 'introspection', 'ai']);
/** Canonical names refused whatever their category (lower case). */
const DENIED_FUNCTIONS = new Set([
  'file', 'joinget', 'joingetornull', 'hascolumnintable', 'getmaxtablenamelengthfordatabase', 'catboostevaluate', 'modelevaluate',
  'naivebayesclassifier', 'naivebayesclassifierwithallprobs', 'naivebayesclassifierwithprob', 'getserversetting', 'getmergetreesetting',
  'getmacro', 'generateserialid', 'zookeepersessionuptime', 'getclienthttpheader', 'filesystemavailable', 'filesystemcapacity',
  'filesystemunreserved', 'getoskernelversion', 'fuzzquery', 'evalmlmethod',
]);
/** Function names of the AST that are syntax, not entries of system.functions: `lambda`, `exists(subquery)` and `untuple(t)` (their arguments are walked like any other). */
const SYNTAX_FUNCTIONS = new Set(['lambda', 'exists', 'untuple']);
/** Functions whose second argument, when it is a bare name, names a table (or a set). */
const IN_FUNCTIONS = new Set([
  'in', 'notin', 'globalin', 'globalnotin', 'nullin', 'notnullin', 'globalnullin', 'globalnotnullin',
  'inignoreset', 'notinignoreset', 'globalinignoreset', 'globalnotinignoreset', 'nullinignoreset', 'notnullinignoreset',
  'globalnullinignoreset', 'globalnotnullinignoreset',
]);
/** AST node types a plain SELECT is made of; anything else is refused. */
const NODE_TYPES = new Set([
  'SelectWithUnionQuery', 'SelectIntersectExceptQuery', 'SelectQuery', 'ExpressionList', 'Function', 'Identifier', 'TableIdentifier',
  'Literal', 'Asterisk', 'QualifiedAsterisk', 'ColumnsRegexpMatcher', 'ColumnsListMatcher', 'QualifiedColumnsRegexpMatcher',
  'QualifiedColumnsListMatcher', 'TablesInSelectQuery', 'TablesInSelectQueryElement', 'TableExpression', 'Subquery', 'TableJoin',
  'ArrayJoin', 'WithElement', 'OrderByElement', 'WindowDefinition', 'WindowListElement', 'SampleRatio', 'InterpolateElement',
  'ColumnsTransformerList', 'ColumnsExceptTransformer', 'ColumnsReplaceTransformer', 'ColumnsReplaceTransformer::Replacement',
  'DataType', 'NameTypePair', 'Set',
]);

export interface AstNode { type: string; name: string; alias: string | null; children: AstNode[]; line: number }

const refuse = (what: string): TradsysError => new TradsysError('ERR_STORAGE_SANDBOX', what);
const notSelect = (what: string): TradsysError => new TradsysError('ERR_STORAGE_NOT_SELECT', what);

/** Parses EXPLAIN AST text into a tree; any line or count that does not fit is refused. */
export function parseAstText(text: string): AstNode {
  const lines = text.split('\n');
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const malformed = (i: number, why: string): TradsysError => refuse(`the query's syntax tree could not be read safely (line ${i + 1}: ${why})`);
  const nodes: { depth: number; node: AstNode; declared: number }[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const m = /^( *)(\S.*)$/.exec(raw);
    if (!m || /[\u0000-\u001f\u007f]/.test(raw)) throw malformed(i, 'unexpected characters');
    let rest = m[2]!;
    let declared = 0;
    const ch = / \(children (\d+)\)$/.exec(rest);
    if (ch) { declared = Number(ch[1]); rest = rest.slice(0, ch.index); }
    let alias: string | null = null;
    const al = / \(alias ([^()]*)\)$/.exec(rest);
    if (al) { alias = al[1]!; rest = rest.slice(0, al.index); }
    const sp = rest.indexOf(' ');
    const type = sp < 0 ? rest : rest.slice(0, sp);
    const name = sp < 0 ? '' : rest.slice(sp + 1);
    if (!NODE_TYPES.has(type)) throw refuse(`${type === '' ? 'an unknown construct' : `the construct ${type}`} is not allowed in analyst queries`);
    nodes.push({ depth: m[1]!.length, node: { type, name, alias, children: [], line: i + 1 }, declared });
  }
  if (nodes.length === 0 || nodes[0]!.depth !== 0) throw malformed(0, 'no root');
  const stack: typeof nodes = [];
  for (let i = 0; i < nodes.length; i++) {
    const n = nodes[i]!;
    while (stack.length > 0 && stack[stack.length - 1]!.depth >= n.depth) stack.pop();
    if (i > 0) {
      const parent = stack[stack.length - 1];
      if (!parent || parent.depth !== n.depth - 1) throw malformed(i, 'indentation');
      parent.node.children.push(n.node);
    }
    stack.push(n);
  }
  for (let i = 0; i < nodes.length; i++) if (nodes[i]!.node.children.length !== nodes[i]!.declared) throw malformed(i, 'child count');
  return nodes[0]!.node;
}


export interface SandboxPolicy {
  /** The platform's database (chDB: the session's current database; the server: CLICKHOUSE_DATABASE). */
  database: string;
  tables?: ReadonlySet<string>;
  systemTables?: ReadonlySet<string>;
  /**
   * Every database the backend has (system.databases). Checked on the tokens, apart from the tree:
   * `X.Y` where X names a database is a table of that database, whatever either parser makes of
   * the expression around it (checkQualifiedNames).
   */
  databases?: ReadonlySet<string>;
}

/** ClickHouse's own databases, always treated as databases in `X.Y` (even when the list is not known). */
const BUILTIN_DATABASES = ['system', 'information_schema', 'INFORMATION_SCHEMA'];
/** SQL keywords a quoted name may not spell (any case): see checkQualifiedNames. */
const KEYWORDS = new Set([
  'SELECT', 'FROM', 'WHERE', 'PREWHERE', 'GROUP', 'ORDER', 'BY', 'HAVING', 'LIMIT', 'OFFSET', 'FETCH', 'UNION', 'INTERSECT', 'EXCEPT',
  'ALL', 'ANY', 'SOME', 'DISTINCT', 'AS', 'WITH', 'TOTALS', 'ROLLUP', 'CUBE', 'FORMAT', 'SETTINGS', 'INTO', 'OUTFILE', 'JOIN', 'ARRAY',
  'LEFT', 'RIGHT', 'INNER', 'OUTER', 'FULL', 'CROSS', 'ASOF', 'SEMI', 'ANTI', 'PASTE', 'GLOBAL', 'ON', 'USING', 'FINAL', 'SAMPLE',
  'IN', 'NOT', 'AND', 'OR', 'XOR', 'LIKE', 'ILIKE', 'REGEXP', 'BETWEEN', 'IS', 'NULL', 'CASE', 'WHEN', 'THEN', 'ELSE', 'END',
  'DIV', 'MOD', 'INTERVAL', 'CAST', 'EXTRACT', 'EXISTS', 'WINDOW', 'OVER', 'QUALIFY', 'PARTITION', 'APPLY', 'EXPLAIN', 'DESCRIBE',
  'DESC', 'ASC', 'COLLATE', 'TIES', 'ROWS', 'RANGE', 'FILTER', 'RECURSIVE', 'VALUES', 'TABLE', 'DATABASE', 'SYSTEM',
]);
/** Keyword operators that newer ClickHouse versions read as operators and 18.16 as implicit aliases. */
const DIVERGENT_OPERATORS = new Set(['DIV', 'MOD', 'ILIKE', 'REGEXP']);
/** Operators' function forms, for the refusal message. */
const OPERATOR_FUNCTIONS: Record<string, string> = { DIV: 'intDiv(a, b)', MOD: 'modulo(a, b)', ILIKE: 'ilike(a, pattern)', REGEXP: 'match(a, pattern)' };

/**
 * Token-level checks that hold whatever a parser makes of the text (the server runs the checked
 * text through 18.16's older parser, which may build a different tree than ClickHouse 26's):
 * - every `X.Y` where X is a database is a table reference: only the platform's tables in the
 *   platform's database and SYSTEM_TABLES in `system`; any other database is refused;
 * - the bare words DIV, MOD, ILIKE and REGEXP (operators to 26, implicit aliases to 18.16, after
 *   which 26 even takes a keyword such as FROM as a name) are refused;
 * - an IN keyword directly inside position( or locate( is refused (26 rewrites it into a call,
 *   18.16 tests the needle against a table);
 * - every IN keyword must be a membership test in ClickHouse 26's tree (`inCount`): 26 rewrites
 *   `position(needle IN haystack)` into a plain call, where 18.16 reads `needle IN haystack` as
 *   a test against a table, so an IN that vanished from the tree is refused.
 */
export function checkQualifiedNames(toks: readonly Token[], policy: SandboxPolicy): void {
  const tables = policy.tables ?? PLATFORM_TABLES;
  const system = policy.systemTables ?? SYSTEM_TABLES;
  const dbs = new Set([...(policy.databases ?? []), ...BUILTIN_DATABASES, policy.database]);
  const bare = (t: Token | undefined): string | null => {
    if (!t) return null;
    if (t.kind === 'word') return t.text;
    if (t.kind === 'ident') return t.text.slice(1, -1);
    return null;
  };
  const calls: string[] = []; // the name before each open parenthesis ('' for a bare one)
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.text === '(') calls.push(i > 0 && (toks[i - 1]!.kind === 'word' || toks[i - 1]!.kind === 'ident') ? toks[i - 1]!.text.replace(/^[`"]|[`"]$/g, '').toLowerCase() : '');
    else if (t.text === ')') calls.pop();
    if (t.kind === 'word' && t.text.toUpperCase() === 'IN' && (calls[calls.length - 1] === 'position' || calls[calls.length - 1] === 'locate')) {
      throw refuse('position(needle IN haystack) is not allowed (ClickHouse versions read it differently): write position(haystack, needle)');
    }
    if (t.kind === 'word' && DIVERGENT_OPERATORS.has(t.text.toUpperCase()) && toks[i + 1]?.text !== '(') {
      throw refuse(`the ${t.text.toUpperCase()} operator is not allowed (ClickHouse versions read it differently): write ${OPERATOR_FUNCTIONS[t.text.toUpperCase()]!}`);
    }
    if (t.kind === 'ident' && KEYWORDS.has(t.text.slice(1, -1).toUpperCase())) {
      // ClickHouse 26 prints some quoted keywords unquoted in its canonical text, which 18.16 runs
      throw refuse(`the quoted name ${t.text} is a SQL keyword: choose another name`);
    }
    const x = bare(t);
    if (x === null || toks[i + 1]?.text !== '.') continue;
    const isDb = dbs.has(x) || BUILTIN_DATABASES.some((d) => d.toLowerCase() === x.toLowerCase());
    if (!isDb) continue;
    const y = bare(toks[i + 2]);
    // every `database.` pair is checked, also inside a.b.c, and `database.*` or `database.<number>` is refused
    if (y === null) throw refuse(`${x}.${toks[i + 2]?.text ?? ''} is not allowed: name a table of the platform's database`);
    if (x.toLowerCase() === 'system') {
      if (!system.has(y)) throw refuse(`table system.${y} is not readable: analysts read the platform's tables and ${[...system].map((n) => `system.${n}`).join(', ')}`);
    } else if (x === policy.database) {
      if (!tables.has(y)) throw refuse(`table ${x}.${y} is not readable: it is not one of the platform's tables`);
    } else {
      throw refuse(`database ${x} is not readable: analysts read the platform's tables (database ${policy.database})`);
    }
  }
}

/** A function the sandbox refuses (DENIED_FUNCTIONS, DENIED_CATEGORIES, the planner's `__` functions; _CAST from `::` stays allowed). */
function deniedFunction(f: { name: string; category: string }): boolean {
  const canonical = f.name.toLowerCase();
  const cats = f.category.toLowerCase().split(',').map((c) => c.trim());
  return DENIED_FUNCTIONS.has(canonical) || canonical.startsWith('__') || cats.some((c) => DENIED_CATEGORIES.has(c));
}

/**
 * Calls on the tokens: every name followed by `(` that ClickHouse resolves to a refused function,
 * or that names a table function and no ordinary function, is refused wherever it stands — also
 * where ClickHouse 26's tree would not show it as a call (the server's older parser might).
 */
export function checkCallTokens(toks: readonly Token[], catalog: FunctionCatalog): void {
  for (let i = 0; i + 1 < toks.length; i++) {
    const t = toks[i]!;
    if (toks[i + 1]!.text !== '(' || (t.kind !== 'word' && t.kind !== 'ident')) continue;
    const name = t.kind === 'ident' ? t.text.slice(1, -1) : t.text;
    const f = catalog.resolve(name);
    if (f ? deniedFunction(f) : catalog.isTableFunction(name)) {
      throw refuse(`${name}() is not allowed in analyst queries: it reads outside the platform's tables`);
    }
  }
}

/** The membership tests (in, notIn, globalIn, …) in a tree. */
export function inCount(root: AstNode): number {
  let n = root.type === 'Function' && IN_FUNCTIONS.has(root.name.toLowerCase()) ? 1 : 0;
  for (const c of root.children) n += inCount(c);
  return n;
}

/** Characters of file paths and globs: no table name of the platform, a CTE or `system` has them. */
const PATH_CHARS = /[/\\?*{}[\]~,]/;

/**
 * The names of the query's WITH elements (CTEs), in the order EXPLAIN AST lists its WithElement
 * nodes (which print no name): each `name AS (SELECT|WITH|(` of the canonical text. Windows
 * (`w AS (PARTITION BY …)`) do not match.
 */
export function withNames(canonical: string): string[] {
  const t = tokenize(canonical);
  const out: string[] = [];
  for (let i = 0; i + 3 < t.length; i++) {
    const n = t[i]!;
    if ((n.kind === 'word' || n.kind === 'ident') && t[i + 1]!.kind === 'word' && t[i + 1]!.text.toUpperCase() === 'AS' && t[i + 2]!.text === '('
      && (t[i + 3]!.text === '(' || (t[i + 3]!.kind === 'word' && /^(SELECT|WITH)$/i.test(t[i + 3]!.text)))) {
      out.push(n.kind === 'ident' ? n.text.slice(1, -1) : n.text);
    }
  }
  return out;
}

/**
 * Walks the tree; throws on the first thing the policy refuses. `cteNames`: withNames() of the
 * canonical text (one per WithElement node, in order); an unqualified name that is no platform
 * table must be one of them, in scope (the SELECT whose WITH defines it, and what it contains;
 * the alias of a scalar subquery in WITH is no table to ClickHouse, and no name here).
 */
export function checkAst(root: AstNode, policy: SandboxPolicy, catalog: FunctionCatalog, cteNames: readonly string[] = []): void {
  const tables = policy.tables ?? PLATFORM_TABLES;
  const system = policy.systemTables ?? SYSTEM_TABLES;
  if (root.type !== 'SelectWithUnionQuery') throw notSelect('only SELECT queries are allowed');
  if (root.children.length !== 1) throw notSelect('FORMAT, INTO OUTFILE and SETTINGS are not allowed (the API chooses the format and settings; queries are read-only)');

  // the name of each WithElement, in pre-order (EXPLAIN AST's order)
  const named = new Map<AstNode, string>();
  const number = (n: AstNode): void => {
    if (n.type === 'WithElement') named.set(n, cteNames[named.size] ?? '');
    for (const c of n.children) number(c);
  };
  number(root);
  if (named.size !== cteNames.length || [...named.values()].some((v) => v === '')) {
    throw refuse('the names of the query\'s WITH elements could not be read safely');
  }

  const notReadable = (full: string, why = "analysts read the platform's tables (docs/schema.md)"): TradsysError => refuse(`table ${full} is not readable: ${why}`);
  // the right side of IN may also name an alias of an expression (`WITH [1, 2] AS a … x IN a`)
  const aliases = new Set<string>();
  const collect = (n: AstNode): void => { if (n.alias !== null) aliases.add(n.alias); for (const c of n.children) collect(c); };
  collect(root);
  const checkTable = (full: string, scope: ReadonlySet<string>): void => {
    const parts = full.split('.');
    if (parts.some((p) => p === '') || parts.length > 2) throw notReadable(full);
    if (parts.some((p) => PATH_CHARS.test(p))) throw notReadable(full, 'file paths and globs are not table names');
    if (parts.length === 1) {
      // the platform's tables; any other name only as a WITH element of this query (chDB's default
      // database also reaches the file system, so a name it does not hold could be a file)
      if (tables.has(full) || scope.has(full)) return;
      throw notReadable(full, "it is no platform table (docs/schema.md) and no WITH element of the query defines it");
    }
    const [db, t] = parts as [string, string];
    if (db === 'system') {
      if (!system.has(t)) throw refuse(`table system.${t} is not readable by analysts (allowed: ${[...system].map((x) => `system.${x}`).join(', ')})`);
      return;
    }
    if (db !== policy.database) throw refuse(`database ${db} is not readable by analysts (only the platform's tables)`);
    if (!tables.has(t)) throw notReadable(full);
  };

  const walk = (n: AstNode, parent: AstNode | null, scope: ReadonlySet<string>): void => {
    switch (n.type) {
      case 'Set': throw notSelect('SETTINGS is not allowed in analyst queries (the API sets the limits; queries are read-only)');
      case 'TableIdentifier': checkTable(n.name, scope); break;
      case 'SelectQuery': {
        // WithElements sit only in the SELECT's own WITH list
        const defined = n.children.filter((c) => c.type === 'ExpressionList').flatMap((l) => l.children.filter((e) => e.type === 'WithElement'));
        if (defined.length > 0) scope = new Set([...scope, ...defined.map((e) => named.get(e)!)]);
        break;
      }
      case 'Function': {
        if (parent?.type === 'TableExpression') {
          throw refuse(`table function ${n.name}() is not allowed: analysts read the platform's tables (system.numbers and system.one replace numbers())`);
        }
        if (SYNTAX_FUNCTIONS.has(n.name)) break;
        const f = catalog.resolve(n.name);
        if (!f) {
          if (catalog.isTableFunction(n.name)) throw refuse(`${n.name}() is not allowed: it names a table function, and analysts read the platform's tables`);
          throw refuse(`function ${n.name} is unknown to the sandbox (not a ClickHouse function)`);
        }
        const canonical = f.name.toLowerCase();
        if (deniedFunction(f)) {
          throw refuse(`function ${n.name}${f.name !== n.name ? ` (${f.name})` : ''} is not allowed in analyst queries: it reads outside the platform's tables`);
        }
        if (IN_FUNCTIONS.has(canonical)) {
          const rhs = n.children[0]?.children[1];
          if (rhs && rhs.type === 'Identifier') checkTable(rhs.name, aliases.has(rhs.name) && !PATH_CHARS.test(rhs.name) ? new Set([...scope, rhs.name]) : scope);
        }
        break;
      }
      default: break;
    }
    for (const c of n.children) walk(c, n, scope);
  };
  walk(root, null, new Set());
}

/** Quoted identifiers of the canonical text must be plain names (see the header). */
function checkIdentifiers(canonical: string): void {
  for (const t of tokenize(canonical)) {
    if (t.kind !== 'ident') continue;
    const body = t.text.slice(1, -1);
    if (/[\u0000-\u001f\u007f\\."`()]/.test(body)) throw refuse(`the quoted name ${t.text.slice(0, 80)} has characters analysts' names may not use (control characters, \\, ., quotes, parentheses)`);
  }
}


/** What the gate hands back: the checked texts, each run as it is (no parameters left to bind). */
export interface SandboxedSql {
  /** ClickHouse's canonical text of `statement`: exactly what was checked, and what both backends run. */
  canonical: string;
  /**
   * The caller's text without comments and trailing `;` (commentFree in sql.ts), parameters bound
   * as checked literals: the text the parser formatted into `canonical` (kept for tools and tests).
   */
  statement: string;
  /** The query's own trailing `FORMAT name` (only with `allowFormat`; removed from both texts), else null. */
  format: string | null;
}

export interface SandboxOptions {
  /**
   * Accept one trailing `FORMAT name` on the whole query (ClickHouse clients such as
   * @clickhouse/client append one) and hand the name back instead of refusing it; the caller
   * decides whether it serves that format. INTO OUTFILE and SETTINGS stay refused.
   */
  allowFormat?: boolean;
}

/**
 * The gate every analyst path goes through (StorageQueries.sql): shape, comments, parameters,
 * then the parse and the policy. What is checked is the text that runs: comments are taken out
 * by our lexer first, so no ClickHouse version can read a comment where another reads SQL.
 */
export async function sandboxSql(text: string, params: Record<string, ParamValue>, policy: SandboxPolicy, parser: SqlParser = SqlParser.shared(), opts: SandboxOptions = {}): Promise<SandboxedSql> {
  if (typeof text !== 'string' || text.trim() === '') throw notSelect('empty query');
  if (text.length > 100_000) throw notSelect('query longer than 100,000 characters');
  const clean = commentFree(text);
  const toks = clean.tokens;
  let format: string | null = null;
  if (opts.allowFormat && toks.length >= 2) {
    const name = toks[toks.length - 1]!;
    const kw = toks[toks.length - 2]!;
    if (kw.kind === 'word' && kw.text.toUpperCase() === 'FORMAT' && (name.kind === 'word' || name.kind === 'ident')) {
      const f = name.kind === 'ident' ? name.text.slice(1, -1) : name.text;
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(f)) throw notSelect('the FORMAT clause could not be separated from the query');
      format = f;
      toks.length -= 2;
    }
  }
  if (toks.length === 0) throw notSelect('empty query');
  const body = clean.text.slice(0, toks[toks.length - 1]!.end);
  // a parameter value is a typed literal wherever it is bound; Identifier-typed ones are refused here
  checkParams(body, params);
  const statement = bindParams(body, params);
  const canonical = await parser.format(statement);
  checkIdentifiers(canonical);
  const [ast, catalog] = await Promise.all([parser.explain(canonical), parser.catalog()]);
  const tree = parseAstText(ast);
  checkAst(tree, policy, catalog, withNames(canonical));
  checkQualifiedNames(toks, policy);
  checkCallTokens(toks, catalog);
  // `x = ANY (subquery)` and `x != ALL (subquery)` are membership tests in the tree without an IN word
  const quantified = toks.filter((t, i) => t.kind === 'word' && /^(ANY|ALL|SOME)$/i.test(t.text) && i > 0 && (toks[i - 1]!.text === '=' || (toks[i - 1]!.text === '>' && toks[i - 2]?.text === '<'))).length;
  const ins = toks.filter((t) => t.kind === 'word' && t.text.toUpperCase() === 'IN').length + quantified;
  if (ins !== inCount(tree)) {
    throw refuse('IN is allowed only as a membership test (x IN (…), x IN table): write position(haystack, needle) instead of position(needle IN haystack)');
  }
  return { canonical, statement, format };
}
