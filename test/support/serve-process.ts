/**
 * A real `tradsys serve` process for crash and restart tests: started on a data folder with the
 * given flags, ready once it printed where it listens and the demo key (whose key and secret it
 * returns), killed by the test (SIGKILL for a crash). Needs the built CLI (`npm run build`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI } from './cli.js';

export interface ServeProcess {
  child: ChildProcess; url: string; ws: string; key: string; secret: string; exited: Promise<number | null>;
  /** Everything it printed so far (stdout, then stderr). */
  output(): string;
}

/**
 * Starts `tradsys serve --port 0 --data DIR …args`; rejects with its output if it exits or is not
 * ready in 60 s. `group`: in its own process group (pid = group id), as a terminal runs it, so a
 * test can signal the whole group as Ctrl-C does.
 */
export function startServe(dataDir: string, args: readonly string[] = [], opts: { group?: boolean } = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: opts.group === true });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const t = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`server did not start: ${out} ${err}`)); }, 60_000);
    child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const u = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      const k = /demo key {2}account \d+ {2}key (\S+) {2}secret (\S+)/.exec(out);
      if (u && k) { clearTimeout(t); resolve({ child, url: u[1]!, ws: `${u[1]!.replace('http', 'ws')}/ws`, key: k[1]!, secret: k[2]!, exited, output: () => out + err }); }
    });
    child.once('exit', (code) => { clearTimeout(t); reject(new Error(`server exited (${code}) before it was ready: ${out} ${err}`)); });
  });
}
