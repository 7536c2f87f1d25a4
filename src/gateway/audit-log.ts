/**
 * The server's log: fastify's own logger (pino), writing JSON lines to stderr and to
 * `<data>/logs/tradsys.log` with a size cap, with secrets redacted. Security-relevant events are
 * one line each with an `audit` field (docs/security.md "Audit log"): `log.info({ audit:
 * 'event.name', account, key, ip, outcome, ...details }, 'message')`, `warn` for failures and
 * denials.
 *
 * Layout: `<dir>/tradsys.log` (the current file), `tradsys.log.1` … `tradsys.log.N` (older, .1
 * the newest). A line that would take the current file past `fileBytes` first rotates: .N-1 → .N
 * (the oldest is dropped), …, current → .1, and a new current file is opened. Files are 0600 in
 * a 0700 folder.
 * Invariants: the folder never holds more than (files + 1) × fileBytes bytes of log; each write
 * is one whole line (appended with one write call); redacted paths (`secret`, `sig`,
 * `password`, the signature and authorization headers, …) never reach a destination.
 * Complexity: O(1) per line (a rotation renames N files). Allocation: pino's per line.
 * Known limitations: writes to the file are synchronous (appends of a few hundred bytes; the
 * server logs security events and errors, not every request). A line longer than `fileBytes`
 * is replaced by a short line saying so (with its first 512 characters), so the cap holds.
 */
import { pino, type Logger } from 'pino';
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TradsysError } from '../domain/errors.js';

export interface LogOptions {
  /** Folder of the log files (default `<data>/logs`). */
  dir: string;
  /** Also write every line to stderr (default true; TRADSYS_LOG_STDERR=0 in the environment makes it false, as the test suite sets). */
  stderr?: boolean;
  /** Rotate the current file before it passes this many bytes (default 10 MiB; at least 4 KiB). */
  fileBytes?: number;
  /** Older files kept (default 5; 0 = the current file only, truncated on rotation). */
  files?: number;
  /** pino level (default 'info'). */
  level?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
}

/** Paths pino removes from every line (fast-redact: one level of wildcard). */
export const REDACT_PATHS = [
  'secret', '*.secret', 'sig', '*.sig', 'password', '*.password', 'signature', '*.signature',
  'keys[*].secret', '*.keys[*].secret',
  'headers.authorization', 'headers["x-ts-sig"]', 'headers["x-clickhouse-key"]', 'headers.cookie',
  'req.headers.authorization', 'req.headers["x-ts-sig"]', 'req.headers["x-clickhouse-key"]', 'req.headers.cookie',
];

/**
 * A URL with the values of credential-like query parameters and of query parameters (`param_*`,
 * the ClickHouse-compatible endpoint's bound values) replaced (for request lines).
 */
export function scrubUrl(url: string): string {
  return url.replace(/([?&](?:password|secret|sig|signature|key|token|param_[^=&#]*)=)[^&#]*/gi, '$1[redacted]');
}

/** Append-only file destination with size-capped rotation (see the module header). */
export class CappedFile {
  readonly path: string;
  private fd: number;
  private size: number;
  readonly fileBytes: number;
  readonly files: number;

  constructor(readonly dir: string, opts: { fileBytes?: number; files?: number } = {}) {
    this.fileBytes = opts.fileBytes ?? 10 << 20;
    this.files = opts.files ?? 5;
    if (!Number.isInteger(this.fileBytes) || this.fileBytes < 4096) throw new TradsysError('ERR_GATEWAY_CONFIG', `log fileBytes must be an integer ≥ 4096, got ${String(this.fileBytes)}`);
    if (!Number.isInteger(this.files) || this.files < 0 || this.files > 100) throw new TradsysError('ERR_GATEWAY_CONFIG', `log files must be an integer in [0, 100], got ${String(this.files)}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.path = join(dir, 'tradsys.log');
    this.fd = openSync(this.path, 'a', 0o600);
    this.size = fstatSync(this.fd).size;
  }

  /** Appends one line (pino hands whole lines, newline included). */
  write(line: string): boolean {
    if (this.fd < 0) return true;
    let buf = Buffer.from(line, 'utf8');
    if (buf.length > this.fileBytes) {
      buf = Buffer.from(JSON.stringify({ level: 40, time: new Date().toISOString(), msg: 'log line longer than the file cap, shortened', bytes: buf.length, head: line.slice(0, 512) }) + '\n', 'utf8');
    }
    if (this.size > 0 && this.size + buf.length > this.fileBytes) this.rotate();
    writeSync(this.fd, buf);
    this.size += buf.length;
    return true;
  }

  private rotate(): void {
    closeSync(this.fd);
    if (this.files === 0) {
      this.fd = openSync(this.path, 'w', 0o600);
    } else {
      for (let i = this.files - 1; i >= 1; i--) {
        try { renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`); } catch { /* not there yet */ }
      }
      renameSync(this.path, `${this.path}.1`);
      this.fd = openSync(this.path, 'a', 0o600);
    }
    this.size = 0;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

/** The pino logger fastify uses (`loggerInstance`), and its file destination to close at shutdown. */
export function createLogger(opts: LogOptions): { logger: Logger; file: CappedFile } {
  const file = new CappedFile(opts.dir, opts);
  const level = opts.level ?? 'info';
  const streams: { level: LogOptions['level']; stream: { write(s: string): unknown } }[] = [{ level, stream: file }];
  if (opts.stderr ?? process.env.TRADSYS_LOG_STDERR !== '0') streams.push({ level, stream: process.stderr });
  const logger = pino({
    level,
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    serializers: {
      req: (r: { method?: string; url?: string; ip?: string; socket?: { remoteAddress?: string } }) => ({ method: r.method, url: scrubUrl(r.url ?? ''), ip: r.ip ?? r.socket?.remoteAddress }),
    },
  }, pino.multistream(streams as Parameters<typeof pino.multistream>[0]));
  return { logger, file };
}
