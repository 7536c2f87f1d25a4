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
