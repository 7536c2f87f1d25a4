/**
 * Synchronous output helpers for the CLI: whole writes to a file descriptor, retrying on
 * EAGAIN (stdout may be a non-blocking pipe); other failures (ENOSPC, EIO) become ERR_IO. Allocation: one Buffer per string written.
 */
import { writeSync } from 'node:fs';
import { TradsysError } from '../domain/errors.js';

export function writeAll(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') throw e; // the reader went away: the CLI ends quietly
      if (code !== 'EAGAIN') throw new TradsysError('ERR_IO', `write failed: ${(e as Error).message}`, { cause: e });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

/** Parsed `--name value` / `--name=value` / `--flag` options. */
export type Flags = Map<string, string | true>;

/** Parses long options against `allowed` (value-taking or boolean); throws ERR_CLI_USAGE on anything else. */
export function parseFlags(argv: string[], allowed: Record<string, 'value' | 'bool'>): Flags {
  const flags: Flags = new Map();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new TradsysError('ERR_CLI_USAGE', `unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const kind = allowed[name];
    if (!kind) throw new TradsysError('ERR_CLI_USAGE', `unknown option --${name}`);
    if (kind === 'bool') { flags.set(name, true); continue; }
    const v = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (v === undefined || (eq < 0 && v.startsWith('--'))) throw new TradsysError('ERR_CLI_USAGE', `--${name} needs a value`);
    flags.set(name, v);
  }
  return flags;
}
