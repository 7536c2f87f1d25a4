#!/usr/bin/env node
/**
 * `npm test`'s first step (package.json `pretest`): the server-backend tests need Debian's
 * `clickhouse-server` binary (test/support/clickhouse.ts starts a private one on loopback) or a
 * server named by CLICKHOUSE_URL. On a fresh machine this installs the package where the machine
 * allows it (Debian/Ubuntu with apt-get, as root or with password-less sudo) and otherwise stops at
 * once, before the build, saying exactly what to run. Set TRADSYS_NO_INSTALL=1 to never install.
 *
 * Known limitations: only apt-based systems are installed automatically; elsewhere the message
 * names the ClickHouse server package to install or CLICKHOUSE_URL.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const say = (s) => process.stderr.write(`[npm test] ${s}\n`);

function findServer() {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/usr/local/bin'])) {
    if (dir && existsSync(join(dir, 'clickhouse-server'))) return join(dir, 'clickhouse-server');
  }
  return null;
}

function has(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

const manual = [
  'The server-backend tests need ClickHouse. Install Debian\'s package, then run `npm test` again:',
  '    sudo apt-get update && sudo apt-get install -y clickhouse-server',
  'or point the tests at a ClickHouse server you run (it is used for throw-away test databases):',
  '    CLICKHOUSE_URL=http://127.0.0.1:8123 npm test',
].join('\n');

/** Returns the exit status: 0 when a server is available (found, named, or installed now), 1 otherwise. */
function ensure() {
  if (process.env.CLICKHOUSE_URL) {
    say(`ClickHouse server from CLICKHOUSE_URL (${process.env.CLICKHOUSE_URL})`);
    return 0;
  }
  if (findServer()) return 0;

  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const sudo = !root && has('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  if (process.platform !== 'linux' || !has('apt-get') || (!root && !sudo) || process.env.TRADSYS_NO_INSTALL === '1') {
    say('clickhouse-server is not installed.');
    process.stderr.write(manual + '\n');
    return 1;
  }

  const pre = root ? [] : ['sudo', '-n'];
  const run = (args) => {
    say(`$ ${[...pre, ...args].join(' ')}`);
    const cmd = [...pre, ...args];
    const r = spawnSync(cmd[0], cmd.slice(1), { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    return r.status === 0;
  };
  say('clickhouse-server is not installed: installing Debian\'s package for the server-backend tests (one time, about a minute)');
  if (!run(['apt-get', 'update']) || !run(['apt-get', 'install', '-y', 'clickhouse-server']) || !findServer()) {
    say('installing clickhouse-server failed.');
    process.stderr.write(manual + '\n');
    return 1;
  }
  say(`installed ${findServer()}`);
  return 0;
}

process.exitCode = ensure();
