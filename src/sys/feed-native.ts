/**
 * The typed wrapper over the native addon's feed receive paths (native/src/feed.cc: a recvmmsg
 * thread; native/src/feed-xdp.cc: AF_XDP) and the `probeFeed` probe behind `tradsys doctor`.
 *
 * Owns: opening and closing native receivers (each is one C++ thread that reads the UDP feed and
 * writes FeedMsg records into a FeedRing, with no JS per packet), their stats, which native paths
 * this machine can run and why not, the SO_TIMESTAMPING capabilities per interface, and the
 * native sendmmsg sender the feed benchmark uses for its offered load.
 *
 * Layout: `openNativeReceiver(opts)` → NativeReceiver { stats(), close() } or null with the reason
 * (addon not built, feature not compiled); `nativeFeedPaths()`; `feedTimestampCaps(ifname)`;
 * `feedSendBurst(opts)`; `probeFeed()` (rows kernel-bypass, recvmmsg, hw-timestamps).
 * Invariants: the addon's errors become TradsysError (ERR_FEED_CONFIG for bad options,
 * ERR_FEED_RING for a buffer that is not a usable FeedRing or already has a writer,
 * ERR_FEED_NETWORK for sockets, interfaces, XDP attach); close() is idempotent and returns the
 * final stats; a receiver left open is closed by the addon when the environment is torn down.
 * Complexity: O(1) per call; probeFeed is O(interfaces).
 * Allocation: per call (never on a hot path: the receive thread is native).
 * Known limitations: Linux only; IPv4; AF_XDP runs in generic (SKB) copy mode here (veth and most
 * virtual NICs have no native AF_XDP); hardware stamps need a NIC whose driver reports them
 * (ETHTOOL_GET_TS_INFO) — veth does not, so tests see software stamps.
 */
import { readdirSync } from 'node:fs';
import { TradsysError, type ErrorCode } from '../domain/errors.js';
import { loadNative, nativeAddon, type NativeAddon } from './native.js';

/** Options of a native receiver (the contract with the TS side; docs/feed.md "Receive paths"). */
export interface FeedReceiverOptions {
  path: 'xdp' | 'recvmmsg';
  /** A FeedRing's SharedArrayBuffer (src/marketdata/feed/ring.ts); the receiver takes its writer role. */
  ring: SharedArrayBuffer;
  /** Local IPv4 to bind ('0.0.0.0' ok); for xdp the interface's address (filters the destination). */
  bindAddress: string;
  port: number;
  /** Required for xdp; optional for recvmmsg (SO_BINDTODEVICE). */
  ifname?: string;
  /** xdp queue id (default 0). */
  queue?: number;
  /** Join this group (recvmmsg). */
  multicastGroup?: string;
  /** Expected session; packets of another session are counted and ignored. Default: the first seen. */
  session?: string;
  /** The publisher's retransmission request address and port; none → no requests (gaps time out). */
  requestAddress?: string;
  requestPort?: number;
  /** Default auto: hardware where the NIC can, else software. */
  timestamping?: 'auto' | 'hardware' | 'software' | 'none';
  /** SO_BUSY_POLL and the user-space spin after the last packet, µs (default 50; 0 off). */
  busyPollUs?: number;
  /** recvmmsg batch (default 64). */
  batch?: number;
  /** Pin the receive thread to this CPU. */
  cpu?: number;
  /** How long to wait for a retransmission before writing a GAP record (default 100). */
  gapTimeoutMs?: number;
}

export interface FeedReceiverStats {
  packets: number; messages: number; bytes: number; heartbeats: number; batches: number;
  /** Gaps detected (each triggers one retransmission request when a request address is set). */
  gaps: number;
  /** Messages written from retransmissions (flag RETRANSMITTED). */
  recovered: number;
  /** Messages declared lost (covered by GAP records). */
  unrecovered: number;
  duplicates: number; otherSession: number; ringOverruns: number;
  /** The feed sequence number of the newest message accounted for (written or covered by a GAP). */
  lastSeq: number;
  session: string;
  stampSource: 'hardware' | 'software' | 'user' | 'none';
  path: 'xdp' | 'recvmmsg' | 'dgram';
  xdpMode?: 'native' | 'generic' | 'skb';
  ended: boolean;
  error?: string;
  /** Native only: malformed packets or blocks, requests sent, frames the XDP parser refused, held messages now. */
  malformed?: number; requests?: number; filtered?: number; held?: number;
  /** Native only: how the path was set up (timestamping, busy poll, XDP attach). */
  detail?: string;
  running?: boolean;
}

export interface FeedTimestampCaps { hardwareRx: boolean; softwareRx: boolean; phcIndex: number; detail: string }

export interface NativeFeedPath { available: boolean; reason: string }

/** Options of the native sendmmsg sender (benchmark load). Each packet is 64 bytes of UDP payload: a
 *  'D' book delta and an 'S' system event ('H'), so 2 feed messages per packet. */
export interface FeedSendBurstOptions {
  address: string; port: number;
  /** Send from inside this network namespace (`ip netns` name); the sender thread alone enters it. */
  netns?: string;
  bindAddress?: string;
  session?: string;
  startSeq?: number;
  packets: number;
  /** Packets per second; 0 or absent = as fast as possible. */
  rate?: number;
  batch?: number;
  cpu?: number;
  symbol?: number;
  /** Send a heartbeat after the burst (default true) so the receiver sees a trailing gap. */
  heartbeat?: boolean;
  endOfSession?: boolean;
}
export interface FeedSendBurstResult { sent: number; messages: number; seconds: number; pps: number; errors: number; nextSeq: number; payload: number }

export interface NativeReceiver {
  readonly path: 'xdp' | 'recvmmsg';
  readonly handle: number;
  stats(): FeedReceiverStats;
  /** Stops and joins the thread, releases the ring's writer role; idempotent; the final stats. */
  close(): FeedReceiverStats;
}

interface FeedAddon extends NativeAddon {
  feedOpen(o: Record<string, unknown>): number;
  feedStats(h: number): FeedReceiverStats;
  feedClose(h: number): FeedReceiverStats;
  feedTimestampCaps(ifname: string): FeedTimestampCaps;
  feedPaths(): { xdp: NativeFeedPath; recvmmsg: NativeFeedPath };
  feedSendBurst(o: FeedSendBurstOptions): Promise<FeedSendBurstResult>;
}

function feedAddon(): FeedAddon | null {
  const a = nativeAddon();
  return a && a.features.feed?.compiled && typeof a.feedOpen === 'function' ? a as FeedAddon : null;
}

/** Why the native feed is not usable here, or '' when it is. */
export function nativeFeedReason(): string {
  const r = loadNative();
  if (!r.addon) return `native addon not in use: ${r.reason}`;
  if (!r.addon.features.feed?.compiled) return `the addon was built without the feed feature: ${r.addon.features.feed?.detail ?? 'unknown'}`;
  return '';
}

/** Maps an addon exception to the catalog. */
function feedError(e: unknown, what: string): TradsysError {
  if (e instanceof TradsysError) return e;
  const err = e as Error & { feedCode?: string };
  const code: ErrorCode = err.feedCode === 'ERR_FEED_RING' ? 'ERR_FEED_RING'
    : err.feedCode === 'ERR_FEED_NETWORK' ? 'ERR_FEED_NETWORK'
      : (err instanceof TypeError || err instanceof RangeError) ? 'ERR_FEED_CONFIG' : 'ERR_FEED_NETWORK';
  return new TradsysError(code, `${what}: ${err.message}`, { cause: e });
}

/** Which native receive paths this process can open, and why not. */
export function nativeFeedPaths(): { xdp: NativeFeedPath; recvmmsg: NativeFeedPath } {
  const a = feedAddon();
  if (!a) {
    const why = nativeFeedReason();
    return { xdp: { available: false, reason: why }, recvmmsg: { available: false, reason: why } };
  }
  return a.feedPaths();
}

/**
 * Opens a native receiver (starts its thread). Returns null when the addon or the path is not
 * available here (the reason goes to `onUnavailable`; the caller falls back, e.g. to dgram);
 * throws TradsysError for bad options, a bad ring, or a socket/interface/XDP failure.
 */
export function openNativeReceiver(opts: FeedReceiverOptions, onUnavailable?: (reason: string) => void): NativeReceiver | null {
  const a = feedAddon();
  if (!a) { onUnavailable?.(nativeFeedReason()); return null; }
  if (opts.path === 'xdp' && !a.features.xdp?.compiled) { onUnavailable?.(`AF_XDP not compiled: ${a.features.xdp?.detail ?? 'libxdp/libbpf missing at build'}`); return null; }
  if (opts.path !== 'xdp' && opts.path !== 'recvmmsg') throw new TradsysError('ERR_FEED_CONFIG', `native feed path must be 'xdp' or 'recvmmsg', not '${String(opts.path)}'`);
  let handle: number;
  try { handle = a.feedOpen({ ...opts }); } catch (e) { throw feedError(e, `cannot open the ${opts.path} feed receiver`); }
  let final: FeedReceiverStats | null = null;
  return {
    path: opts.path,
    handle,
    stats: () => final ?? a.feedStats(handle),
    close: () => {
      if (!final) final = a.feedClose(handle);
      return final;
    },
  };
}

/** SO_TIMESTAMPING capabilities of an interface (ETHTOOL_GET_TS_INFO, as `ethtool -T`); null without the addon. */
export function feedTimestampCaps(ifname: string): FeedTimestampCaps | null {
  const a = feedAddon();
  if (!a) return null;
  try { return a.feedTimestampCaps(ifname); } catch (e) { throw feedError(e, 'timestamp capabilities'); }
}

/** The native sendmmsg sender (benchmark offered load); null without the addon. */
export async function feedSendBurst(opts: FeedSendBurstOptions): Promise<FeedSendBurstResult | null> {
  const a = feedAddon();
  if (!a) return null;
  try { return await a.feedSendBurst(opts); } catch (e) { throw feedError(e, 'feedSendBurst'); }
}

/** One doctor row: the shape of probes.ts FeatureProbe (restated here: probes.ts imports this module). */
export interface FeedProbeRow { feature: string; detected: boolean; path: string; detail: string; facts?: Record<string, unknown> }

/** Network interfaces (sysfs), loopback excluded. */
function interfaces(): string[] {
  try { return readdirSync('/sys/class/net').filter((n) => n !== 'lo').sort(); } catch { return []; }
}

/** doctor rows: AF_XDP (kernel bypass), recvmmsg, and hardware receive stamps per interface. */
export function probeFeed(): FeedProbeRow[] {
  const paths = nativeFeedPaths();
  const rows: FeedProbeRow[] = [];
  rows.push({
    feature: 'kernel-bypass',
    detected: paths.xdp.available,
    path: paths.xdp.available ? 'AF_XDP (generic/SKB mode, copy)' : paths.recvmmsg.available ? 'recvmmsg fallback' : 'dgram fallback',
    detail: paths.xdp.reason,
    facts: { xdp: paths.xdp },
  });
  rows.push({
    feature: 'recvmmsg',
    detected: paths.recvmmsg.available,
    path: paths.recvmmsg.available ? 'recvmmsg thread (SO_BUSY_POLL, SO_TIMESTAMPING)' : 'dgram fallback',
    detail: paths.recvmmsg.reason,
    facts: { recvmmsg: paths.recvmmsg },
  });
  const caps: Record<string, FeedTimestampCaps | { error: string }> = {};
  const hw: string[] = [];
  if (feedAddon()) {
    for (const n of interfaces()) {
      try {
        const c = feedTimestampCaps(n)!;
        caps[n] = c;
        if (c.hardwareRx) hw.push(n);
      } catch (e) { caps[n] = { error: (e as Error).message }; }
    }
  }
  rows.push({
    feature: 'hw-timestamps',
    detected: hw.length > 0,
    path: hw.length ? `SO_TIMESTAMPING hardware (${hw.join(', ')})` : feedAddon() ? 'SO_TIMESTAMPING software (kernel receive stamps)' : 'receiver clock (dgram)',
    detail: !feedAddon() ? nativeFeedReason()
      : hw.length ? `NIC receive stamps on ${hw.join(', ')} (ETHTOOL_GET_TS_INFO: RX_HARDWARE + RAW_HARDWARE)`
        : `no interface reports hardware receive stamps (ETHTOOL_GET_TS_INFO on ${Object.keys(caps).join(', ') || 'none'})`,
    facts: { interfaces: caps },
  });
  return rows;
}
