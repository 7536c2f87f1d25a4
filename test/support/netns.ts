/**
 * Network namespaces with a veth pair for the feed tests and benchmark: the receiver stays in the
 * test's namespace on the host end, the publisher runs inside the namespace (`ip netns exec`, or a
 * native sender thread that enters it) and sends over the peer end, so packets really cross the
 * veth (generic XDP sees them) instead of short-cutting through the loopback.
 *
 * Layout: `createVethPair(tag)` → VethPair { ns, host, peer, hostAddr, peerAddr, exec, close };
 * names are unique per process and call (`tf<pid36><n>h/p`, ≤ 15 bytes), addresses a /30 out of
 * 10.201.0.0/16 derived from the pid and a counter.
 * Invariants: every `ip` call is bounded (spawnSync timeout); close() is idempotent and deletes the
 * namespace and the host end even when a test failed half way; pairs still open when the process
 * exits are deleted by an exit hook; a failed create deletes what it had made before throwing.
 * `netnsSupport()` says why namespaces cannot be made here (not root, no `ip`); under CI=true a test
 * must not skip on that (it fails instead), see `requireNetns`.
 * Complexity: a handful of `ip` commands per pair. Allocation: test-only.
 * Known limitations: Linux with iproute2; root (CAP_NET_ADMIN, CAP_SYS_ADMIN) needed.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

export interface VethPair {
  /** Network namespace holding the peer end. */
  ns: string;
  /** Host end (in this process's namespace) and its IPv4 address. */
  host: string;
  hostAddr: string;
  /** Peer end (inside `ns`) and its IPv4 address. */
  peer: string;
  peerAddr: string;
  /** Runs a command inside the namespace (bounded); returns stdout; throws with stderr on failure. */
  exec(argv: string[], timeoutMs?: number): string;
  /** Deletes the namespace and both ends; idempotent. */
  close(): void;
}

const IP_TIMEOUT_MS = 10_000;
const open = new Set<VethPair>();
let counter = 0;
let hooked = false;

function run(argv: string[], timeoutMs = IP_TIMEOUT_MS): SpawnSyncReturns<string> {
  return spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: timeoutMs });
}
function must(argv: string[], timeoutMs = IP_TIMEOUT_MS): string {
  const r = run(argv, timeoutMs);
  if (r.error) throw new Error(`${argv.join(' ')}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

/** '' when network namespaces and veth pairs can be made here, else why not. */
export function netnsSupport(): string {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'network namespaces need root (run as root, as CI does)';
  const r = run(['ip', '-V']);
  if (r.error || r.status !== 0) return '`ip` (iproute2) is not installed';
  return '';
}

/**
 * For describe.skipIf: true when the tests must be skipped (no support and not CI). Under CI=true
 * the tests run and fail on the create, so a broken CI image cannot pass by skipping.
 */
export function skipNetns(): boolean {
  return netnsSupport() !== '' && process.env.CI !== 'true';
}

/** Creates a namespace with a veth pair; `tag` (a-z0-9, ≤ 3 chars) makes the names easier to spot. */
export function createVethPair(tag = ''): VethPair {
  const why = netnsSupport();
  if (why) throw new Error(`cannot create a network namespace: ${why}`);
  const n = counter++;
  const id = `${process.pid.toString(36)}${n.toString(36)}`.slice(-7);
  const t = tag.replace(/[^a-z0-9]/g, '').slice(0, 3);
  const ns = `tradsys-${t}${id}`;
  const host = `tf${t}${id}h`.slice(0, 15);
  const peer = `tf${t}${id}p`.slice(0, 15);
  const k = (process.pid * 7 + n) % 16384;
  const o3 = k >> 6, o4 = (k & 63) * 4;
  const hostAddr = `10.201.${o3}.${o4 + 1}`;
  const peerAddr = `10.201.${o3}.${o4 + 2}`;
  let closed = false;
  const pair: VethPair = {
    ns, host, peer, hostAddr, peerAddr,
    exec: (argv, timeoutMs = IP_TIMEOUT_MS) => must(['ip', 'netns', 'exec', ns, ...argv], timeoutMs),
    close: () => {
      if (closed) return;
      closed = true;
      open.delete(pair);
      run(['ip', 'netns', 'del', ns]);        // deletes the peer, and with it the host end
      run(['ip', 'link', 'del', host]);       // in case the namespace was never made
    },
  };
  if (!hooked) {
    hooked = true;
    process.on('exit', () => { for (const p of [...open]) p.close(); });
  }
  open.add(pair);
  try {
    must(['ip', 'netns', 'add', ns]);
    must(['ip', 'link', 'add', host, 'type', 'veth', 'peer', 'name', peer, 'netns', ns]);
    must(['ip', 'addr', 'add', `${hostAddr}/30`, 'dev', host]);
    must(['ip', 'link', 'set', host, 'up']);
    pair.exec(['ip', 'addr', 'add', `${peerAddr}/30`, 'dev', peer]);
    pair.exec(['ip', 'link', 'set', peer, 'up']);
    pair.exec(['ip', 'link', 'set', 'lo', 'up']);
  } catch (e) {
    pair.close();
    throw e;
  }
  return pair;
}

/** The XDP programs attached to an interface, from `ip link show` ('' when none). */
export function xdpAttached(ifname: string): string {
  const out = must(['ip', 'link', 'show', 'dev', ifname]);
  const m = /\b(xdp\w*)\b/.exec(out);
  const prog = /prog\/xdp id (\d+)/.exec(out);
  return m ? `${m[1]}${prog ? ` prog ${prog[1]}` : ''}` : '';
}
