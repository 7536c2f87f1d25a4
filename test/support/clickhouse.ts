/**
 * ClickHouse server for the server-backend tests: CLICKHOUSE_URL when set (CI starts one in
 * .ci/run), otherwise a private clickhouse-server started here on loopback with its own
 * config.xml/users.xml and data folder under build/, and stopped by `stop()`. No server binary
 * and no CLICKHOUSE_URL is a test failure, never a skip: install Debian's clickhouse-server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TestServer {
  url: string; stop(): Promise<void>; kill(): Promise<void>; restart(): Promise<void>;
  /** A private server's folder (its user_files are `<dir>/data/user_files`); absent for CLICKHOUSE_URL. */
  dir?: string;
}

/**
 * The analysts' read-only user of the test servers (and of .ci/run's, which must match): profile
 * readonly=1 (reads only; on 18.16 also no table functions and no setting changes, so the profile
 * carries the analyst limits of StorageQueries' defaults), allowed ANALYST_DATABASES only. allow_databases lists names, so tests that run
 * analyst queries as this user use one of these databases (one per test file: CI shares a server).
 */
export const ANALYST_USER = 'tradsys_analyst';
export const ANALYST_PASSWORD = 'analyst-test-secret';
export const ANALYST_DATABASES = ['tradsys', 'tradsys_sandbox_core', 'tradsys_sandbox_http', 'tradsys_sandbox_cli'] as const;

/** users.xml of a test server: `default` (all rights, loopback) and the analyst user. */
export function usersXml(): string {
  return `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default><max_memory_usage>4000000000</max_memory_usage></default>
    <${ANALYST_USER}><readonly>1</readonly><output_format_json_quote_64bit_integers>1</output_format_json_quote_64bit_integers>
      <max_result_rows>100000</max_result_rows><result_overflow_mode>throw</result_overflow_mode><max_execution_time>10</max_execution_time><max_memory_usage>1000000000</max_memory_usage></${ANALYST_USER}>
  </profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>default</profile><quota>default</quota></default>
    <${ANALYST_USER}><password>${ANALYST_PASSWORD}</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks><profile>${ANALYST_USER}</profile><quota>default</quota>
      <allow_databases>${ANALYST_DATABASES.map((d) => `<database>${d}</database>`).join('')}</allow_databases></${ANALYST_USER}>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;
}

function findBinary(): string | null {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/usr/local/bin'])) {
    const p = join(dir, 'clickhouse-server');
    if (existsSync(p)) return p;
  }
  return null;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const a = s.address(); const p = typeof a === 'object' && a ? a.port : 0; s.close(() => res(p)); });
  });
}

async function waitUp(url: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try { const r = await fetch(`${url}/ping`); if (r.ok) return true; } catch { /* not yet */ }
    await sleep(100);
  }
  return false;
}

/** Writes config.xml and users.xml for a private loopback server in `dir`. */
export function writeServerConfig(dir: string, httpPort: number, tcpPort: number): string {
  mkdirSync(join(dir, 'data'), { recursive: true });
  mkdirSync(join(dir, 'log'), { recursive: true });
  writeFileSync(join(dir, 'config.xml'), `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/log/server.log</log><errorlog>${dir}/log/error.log</errorlog><size>10M</size><count>1</count></logger>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <max_connections>256</max_connections>
  <keep_alive_timeout>10</keep_alive_timeout>
  <max_concurrent_queries>64</max_concurrent_queries>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <mark_cache_size>268435456</mark_cache_size>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/data/tmp/</tmp_path>
  <user_files_path>${dir}/data/user_files/</user_files_path>
  <format_schema_path>${dir}/data/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
</yandex>
`);
  writeFileSync(join(dir, 'users.xml'), usersXml());
  return join(dir, 'config.xml');
}

/** A private server (always started here, even when CLICKHOUSE_URL is set: kill/restart tests need their own). */
export async function startPrivateServer(): Promise<TestServer> {
  const bin = findBinary();
  if (!bin) throw new Error('clickhouse-server is not installed: `apt-get install -y clickhouse-server` (Debian) or set CLICKHOUSE_URL');
  const dir = resolve('build', 'clickhouse-test', `${process.pid}-${Date.now()}`);
  const httpPort = await freePort();
  const tcpPort = await freePort();
  const config = writeServerConfig(dir, httpPort, tcpPort);
  const url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    child = spawn(bin, [`--config-file=${config}`], { stdio: 'ignore', cwd: dir });
    if (!(await waitUp(url, 60_000))) throw new Error(`clickhouse-server did not answer on ${url} within 60 s (logs in ${dir}/log)`);
  };
  const kill = async (): Promise<void> => {
    const c = child as ChildProcess | null;
    if (!c || c.exitCode !== null) return;
    const done = new Promise<void>((res) => c.once('exit', () => res()));
    c.kill('SIGKILL');
    await done;
    child = null;
  };
  await start();
  return {
    url,
    dir,
    kill,
    restart: start,
    stop: async () => { await kill(); rmSync(dir, { recursive: true, force: true }); },
  };
}

/** The shared server: CLICKHOUSE_URL, or a private one. */
export async function startServer(): Promise<TestServer> {
  const env = process.env.CLICKHOUSE_URL;
  if (env) return { url: env, stop: async () => {}, kill: async () => { throw new Error('cannot kill CLICKHOUSE_URL'); }, restart: async () => {} };
  return startPrivateServer();
}

export function uniqueDatabase(tag: string): string {
  return `tradsys_test_${tag}_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
}
