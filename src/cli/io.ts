/**
 * Synchronous output helpers for the CLI: whole writes to a file descriptor, retrying on
 * EAGAIN (stdout may be a non-blocking pipe). Allocation: one Buffer per string written.
 */
import { writeSync } from 'node:fs';

export function writeAll(fd: number, data: string | Uint8Array): void {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}
