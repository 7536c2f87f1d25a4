/**
 * The analysts' SQL parser: a data-less chDB process (sql-parser-process.ts) that turns a query
 * into ClickHouse's canonical text (formatQuery) and syntax tree (EXPLAIN AST), and the function
 * catalog it knows (system.functions, table functions, aggregate combinators) with ClickHouse's
 * own name resolution. sandbox.ts decides what a query may touch from what this returns.
 *
 * Layout: requests `{id, op, text}` over the child's IPC channel, answers `{id, ok, text|error}`.
 * Invariants: one process per host process, started on first use and never keeping the host
 * alive; a process that exits is replaced on the next call; its errors map onto the catalog
 * (ERR_STORAGE_QUERY for a syntax error, ERR_STORAGE_NOT_SELECT / ERR_STORAGE_SANDBOX for what
 * ClickHouse itself refuses while explaining).
 * Complexity: one IPC round trip per call; the catalog is read once. Allocation: per call.
 * Known limitations: ~0.6 s to start and ~300 MB resident (a chDB instance).
 */
import type { ChildProcess } from 'node:child_process';
import { TradsysError } from '../domain/errors.js';
import { spawnProcess } from '../sys/spawn.js';
import { tokenize } from './sql.js';

const refuse = (what: string): TradsysError => new TradsysError('ERR_STORAGE_SANDBOX', what);
const notSelect = (what: string): TradsysError => new TradsysError('ERR_STORAGE_NOT_SELECT', what);

export interface FnInfo { name: string; caseInsensitive: boolean; aliasTo: string; category: string; aggregate: boolean }

/** Function names resolved the way ClickHouse resolves them (from the parser's system.functions). */
export class FunctionCatalog {
  private readonly exact = new Map<string, FnInfo>();
  private readonly folded = new Map<string, FnInfo>();
  private readonly tableFunctions = new Set<string>();
  private readonly combinators: string[];

  constructor(data: { functions: { name: string; case_insensitive: number; alias_to: string; categories: string; is_aggregate: number }[]; tableFunctions: { name: string }[]; combinators: { name: string }[] }) {
    for (const f of data.functions) {
      const info: FnInfo = { name: f.name, caseInsensitive: Number(f.case_insensitive) === 1, aliasTo: f.alias_to, category: f.categories ?? '', aggregate: Number(f.is_aggregate) === 1 };
      this.exact.set(f.name, info);
      if (info.caseInsensitive) this.folded.set(f.name.toLowerCase(), info);
    }
    for (const t of data.tableFunctions) this.tableFunctions.add(t.name.toLowerCase());
    this.combinators = data.combinators.map((c) => c.name).sort((a, b) => b.length - a.length);
  }

  private lookup(name: string): FnInfo | undefined { return this.exact.get(name) ?? this.folded.get(name.toLowerCase()); }

  /** The canonical function behind `name` (aliases followed), or null when ClickHouse does not know it. */
  resolve(name: string): FnInfo | null {
    let f = this.lookup(name);
    for (let hops = 0; f && f.aliasTo !== '' && hops < 8; hops++) f = this.lookup(f.aliasTo) ?? f;
    if (f) return f;
    // aggregate combinators: sumIf, argMinMerge, uniqStateIf, quantilesForEach, …
    for (const c of this.combinators) {
      if (name.length > c.length && name.endsWith(c)) {
        const base = this.resolve(name.slice(0, -c.length));
        if (base && base.aggregate) return base;
      }
    }
    return null;
  }

  isTableFunction(name: string): boolean { return this.tableFunctions.has(name.toLowerCase()); }
}

interface Answer { id: number; ok: boolean; text?: string; error?: string | null }

/** A data-less chDB process that parses SQL (sql-parser-process.ts); one per host process, started on first use. */
export class SqlParser {
  private static instance: SqlParser | null = null;
  private readonly pending = new Map<number, { res: (t: string) => void; rej: (e: Error) => void }>();
  private nextId = 1;
  private catalogP: Promise<FunctionCatalog> | null = null;
  private closed = false;

  private constructor(private readonly child: ChildProcess, readonly ready: Promise<void>) {
    child.on('message', (m: Answer) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      this.hold(false);
      if (m.ok) p.res(m.text ?? ''); else p.rej(new Error(m.error ?? 'SQL parser call failed'));
    });
    child.on('exit', () => {
      this.closed = true;
      for (const p of this.pending.values()) p.rej(new TradsysError('ERR_STORAGE_UNAVAILABLE', 'the SQL parser process exited'));
      this.pending.clear();
      if (SqlParser.instance === this) SqlParser.instance = null;
    });
  }

  /** The shared parser (started when first asked for; it never keeps the host process alive). */
  static shared(): SqlParser {
    if (SqlParser.instance && !SqlParser.instance.closed) return SqlParser.instance;
    const child = spawnProcess(import.meta.url, 'sql-parser-process', []);
    const ready = new Promise<void>((res, rej) => {
      const onMsg = (m: Answer): void => {
        if (m.id !== 0) return;
        child.off('message', onMsg);
        if (m.ok) res(); else rej(new TradsysError('ERR_STORAGE_UNAVAILABLE', `the SQL parser could not start: ${m.error}`));
      };
      child.on('message', onMsg);
      child.once('exit', (code) => rej(new TradsysError('ERR_STORAGE_UNAVAILABLE', `the SQL parser process exited (${code}) before starting`)));
    });
    ready.catch(() => { /* reported to the caller of call() */ });
    const p = new SqlParser(child, ready);
    p.holds = 1; // until ready
    void ready.then(() => p.hold(false), () => p.hold(false));
    SqlParser.instance = p;
    return p;
  }

  private holds = 0;
  /** Keeps the host process alive only while a call is in flight (an idle parser never does). */
  private hold(on: boolean): void {
    this.holds += on ? 1 : -1;
    const ch = this.child.channel as { ref?: () => void; unref?: () => void } | null | undefined;
    if (this.holds > 0) { this.child.ref(); ch?.ref?.(); } else { this.child.unref(); ch?.unref?.(); }
  }

  /** Stops the shared parser (a later query starts a new one). */
  static async closeShared(): Promise<void> { await SqlParser.instance?.close(); }

  private async call(op: 'format' | 'explain' | 'catalog' | 'close', text = ''): Promise<string> {
    await this.ready;
    if (this.closed) throw new TradsysError('ERR_STORAGE_UNAVAILABLE', 'the SQL parser is closed');
    const id = this.nextId++;
    return new Promise<string>((res, rej) => {
      this.pending.set(id, { res, rej });
      this.hold(true);
      this.child.send({ id, op, text }, (e) => {
        if (!e || !this.pending.delete(id)) return;
        this.hold(false);
        rej(new TradsysError('ERR_STORAGE_UNAVAILABLE', `the SQL parser process is gone (${e.message})`));
      });
    });
  }

  /** formatQuery: the canonical text of one statement; a syntax error is ERR_STORAGE_QUERY. */
  async format(sql: string): Promise<string> {
    try {
      return await this.call('format', sql);
    } catch (e) {
      if (e instanceof TradsysError) throw e;
      const msg = (e as Error).message.replace(/^Query failed: /, '').replace(/[.\s]*Expected one of:[\s\S]*$/, '').replace(/: In scope SELECT formatQuery[\s\S]*$/, '').split('\n')[0]!.slice(0, 600);
      if (/Multi-statements are not allowed/.test(msg)) throw notSelect('one statement only (a ";" followed by another statement)');
      // a statement that does not even start as a query is "not a SELECT", whatever else is wrong with it
      const first = tokenize(sql)[0];
      if (!first || !(first.kind === 'punct' && first.text === '(') && !(first.kind === 'word' && /^(SELECT|WITH)$/i.test(first.text))) {
        throw notSelect(`only SELECT queries are allowed (${msg})`);
      }
      throw new TradsysError('ERR_STORAGE_QUERY', `query: ${msg}`, { cause: e });
    }
  }

  /** EXPLAIN AST of a canonical (formatQuery) text. */
  async explain(canonical: string): Promise<string> {
    try {
      return await this.call('explain', canonical);
    } catch (e) {
      if (e instanceof TradsysError) throw e;
      const msg = (e as Error).message;
      if (/cannot have output options/.test(msg)) throw notSelect('FORMAT and INTO OUTFILE are not allowed (the API chooses the format)');
      if (/supports only SELECT queries/.test(msg)) throw notSelect('only SELECT queries are allowed');
      // EXPLAIN applies the query's own SETTINGS; a readonly override fails there already
      if (/Cannot modify '.*' setting in readonly mode/.test(msg)) throw notSelect('SETTINGS is not allowed in analyst queries (the API sets the limits; queries are read-only)');
      throw refuse(`the query could not be checked: ${msg.replace(/^Query failed: /, '').split('\n')[0]!.slice(0, 300)}`);
    }
  }

  catalog(): Promise<FunctionCatalog> {
    this.catalogP ??= this.call('catalog').then((t) => new FunctionCatalog(JSON.parse(t) as ConstructorParameters<typeof FunctionCatalog>[0]));
    this.catalogP.catch(() => { this.catalogP = null; });
    return this.catalogP;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const exited = new Promise<void>((res) => { if (this.child.exitCode !== null || this.child.signalCode !== null) res(); else this.child.once('exit', () => res()); });
    try { await this.call('close'); } catch { /* gone already */ }
    this.closed = true;
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
    if (SqlParser.instance === this) SqlParser.instance = null;
  }
}
