/**
 * How `tradsys sql` finds a running server that holds a data folder's store (chDB locks the
 * folder, so a second process cannot open it): the server writes `<data>/server.json` once it
 * listens — its URL, its pid and a local credential for the ClickHouse-compatible endpoint — and
 * removes it on a clean shutdown. A file whose pid is no longer alive is stale (a crash) and
 * ignored.
 *
 * Layout: `{"version":1,"url":"http://127.0.0.1:8080","pid":123,"user":"local-cli","password":hex,"started":ISO}`,
 * mode 0600, written atomically (temp file + rename).
 * Invariants: the credential is fresh per server start (32 random bytes), grants the `analyst`
 * permission only (the same door, sandbox and limits as an analyst key) and is accepted only on
 * a connection from the same host (loopback, or remote address = local address).
 * Complexity/Allocation: start-up and shutdown only.
 * Known limitations: a pid reused by an unrelated process after a crash makes a stale file look
 * live; `tradsys sql` then fails to connect and says so.
 */
import { randomBytes, createHash, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyRequest } from 'fastify';

export const DISCOVERY_FILE = 'server.json';
/** The user name of the local credential. */
export const LOCAL_USER = 'local-cli';

export interface Discovery { version: 1; url: string; pid: number; user: string; password: string; started: string }

export const newLocalSecret = (): string => randomBytes(32).toString('hex');

/** The URL a client on this host uses for a server listening at `address` (0.0.0.0/:: become loopback). */
export function localUrl(address: string | { address: string; port: number; family: string } | null): string | null {
  if (!address || typeof address === 'string') return null;
  const host = address.address === '0.0.0.0' ? '127.0.0.1' : address.address === '::' ? '::1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}

export function writeDiscovery(dataDir: string, url: string, password: string): void {
  const path = join(dataDir, DISCOVERY_FILE);
  const d: Discovery = { version: 1, url, pid: process.pid, user: LOCAL_USER, password, started: new Date().toISOString() };
  writeFileSync(path + '.tmp', JSON.stringify(d) + '\n', { mode: 0o600 });
  chmodSync(path + '.tmp', 0o600);
  renameSync(path + '.tmp', path);
}

/** Removes the file if this process wrote it. */
export function removeDiscovery(dataDir: string): void {
  const path = join(dataDir, DISCOVERY_FILE);
  try {
    const d = JSON.parse(readFileSync(path, 'utf8')) as Discovery;
    if (d.pid === process.pid) unlinkSync(path);
  } catch { /* absent or not ours */ }
}

const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
};

/** The live server's entry for `dataDir`, `null` when there is none, `'stale'` when its process is gone. */
export function readDiscovery(dataDir: string): Discovery | 'stale' | null {
  let d: Discovery;
  try { d = JSON.parse(readFileSync(join(dataDir, DISCOVERY_FILE), 'utf8')) as Discovery; } catch { return null; }
  if (d.version !== 1 || typeof d.url !== 'string' || !Number.isInteger(d.pid) || typeof d.password !== 'string') return null;
  return alive(d.pid) ? d : 'stale';
}

const loopback = (a: string): boolean => a === '::1' || /^(::ffff:)?127\./.test(a);

/** Whether `password` is the local credential and the request comes from this host. */
export function localCredentialOk(secret: string, password: string, req: FastifyRequest): boolean {
  const remote = req.socket?.remoteAddress;
  if (!remote || !(loopback(remote) || remote === req.socket.localAddress)) return false;
  const h = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(secret), h(password));
}
