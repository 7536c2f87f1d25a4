/**
 * Ctrl-C on `npm start` / `tradsys serve` in a terminal: SIGINT reaches the whole process group,
 * the chDB and SQL-parser helper processes included. The server must still stop cleanly (drain
 * its storage writes into chDB, exit 0) — before the fix the chDB process died at once and the
 * server crashed with an unhandled EPIPE while writing to it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServe } from '../support/serve-process.js';

describe('tradsys serve: SIGINT to its process group (Ctrl-C in a terminal)', () => {
  it('stops cleanly with embedded chDB and the simulator running', async () => {
    // the embedded default (chDB in a helper process), also where CI points the suite at a server
    const url = process.env.CLICKHOUSE_URL;
    delete process.env.CLICKHOUSE_URL;
    let s: Awaited<ReturnType<typeof startServe>>;
    try { s = await startServe(mkdtempSync(join(tmpdir(), 'serve-sigint-')), [], { group: true }); } finally { if (url !== undefined) process.env.CLICKHOUSE_URL = url; }
    try {
      // let the simulator trade and the storage writer insert for a moment
      await new Promise((r) => setTimeout(r, 2500));
      const h = await (await fetch(`${s.url}/health`)).json() as { storage?: { status: string } };
      expect(h.storage?.status).toBe('ok');
      // the server's helper processes (chDB, SQL parser): children of the server, same group
      const helpers = execFileSync('pgrep', ['-P', String(s.child.pid)], { encoding: 'utf8' }).trim().split('\n').map(Number).filter((x) => x > 0);
      expect(helpers.length).toBeGreaterThan(0);
      process.kill(-s.child.pid!, 'SIGINT');
      await new Promise((r) => setTimeout(r, 30));
      // they ignore the group's SIGINT: the server stops them in order (storage drained first)
      for (const pid of helpers) expect(() => process.kill(pid, 0), `helper ${pid} survived the group's SIGINT`).not.toThrow();
      const code = await Promise.race([s.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 30_000))]);
      expect(s.output()).not.toMatch(/EPIPE|Unhandled/);
      expect(s.output()).toContain('stopped cleanly');
      expect(code).toBe(0);
    } finally {
      try { process.kill(-s.child.pid!, 'SIGKILL'); } catch { /* gone */ }
    }
  }, 60_000);
});
