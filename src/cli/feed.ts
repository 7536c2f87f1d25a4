/**
 * `tradsys feed publish` and `tradsys feed listen`: the UDP market-data feed from the command line
 * (docs/feed.md "Operations").
 *
 * Owns: flag parsing and checking (ERR_CLI_USAGE), choosing the receive path (`--path auto` tries
 * AF_XDP, then recvmmsg, then dgram, and says why each was passed over), the per-second progress
 * lines and final stats (text on stderr, or JSON lines on stdout with `--json`), and the listener's
 * book builder and latency samples.
 * Layout: publish = a source (EngineFeedSource or ServerFeedSource) → Publisher; listen = a FeedRing,
 * one writer (native receiver or DgramReceiver) and one reader (FeedBookBuilder) drained every ms.
 * Invariants: every bad flag is refused before any socket opens; the listener exits after the end
 * of session (plus the gap timeout), at --duration, or on SIGINT/SIGTERM, and always prints final stats.
 * Complexity: O(messages). Allocation: per-second stats objects; none per message in the listener's
 * drain (latency samples go into a preallocated Float64Array).
 * Known limitations: the native paths need src/sys/feed-native (the addon built with the feed);
 * without it `--path auto` runs dgram and prints why.
 */
import { FEED_ENUMS } from '../abi/records.js';
import { TradsysError } from '../domain/errors.js';
import { FeedBookBuilder } from '../marketdata/feed/book-builder.js';
import { DgramReceiver, type FeedReceiverStats } from '../marketdata/feed/dgram-receiver.js';
import { EngineFeedSource } from '../marketdata/feed/engine-source.js';
import { Publisher, type FeedSource, type PublisherStats } from '../marketdata/feed/publisher.js';
import { FeedRing, recRingNs, recWireNs } from '../marketdata/feed/ring.js';
import { FEED_MAX_PAYLOAD, FEED_MIN_PAYLOAD, sessionBytes } from '../marketdata/feed/codec.js';
import { parseFlags as parse, type Flags } from './io.js';

export const FEED_USAGE = `  tradsys feed publish --dest HOST:PORT (unicast or multicast) [--session NAME (default TRADSYS)]
                 (--from-file FILE.tso|FILE.csv [--symbols N (default 8)] | --from-server ws://HOST:PORT/ws
                  [--key K --secret S (or TRADSYS_KEY, TRADSYS_SECRET)] [--server-symbols SYM,SYM])
                 [--rate MSGS_PER_S (default 100000; 0 = as fast as the socket takes them)]
                 [--heartbeat-ms N (default 1000)] [--request-port P (retransmission server; 0 = any)]
                 [--request-host ADDR] [--retransmit-buffer N (messages, default 65536)] [--count N]
                 [--duration S] [--mtu BYTES (default 1500)] [--ttl N] [--multicast-if ADDR]
                 [--linger-ms N (default 1000)] [--snapshot-ms N (in-band snapshot period; default 0: only
                  when a retransmission request asks for messages no longer buffered)]
                 [--drop-every N (TEST ONLY: skip every N-th packet)]
                 [--json] [--quiet]
  tradsys feed listen --port P [--bind ADDR|GROUP (default 0.0.0.0)] [--path auto|xdp|recvmmsg|dgram]
                 [--ifname IF] [--session NAME] [--request HOST:PORT] [--duration S] [--json]
                 [--gap-timeout-ms N (default 100)] [--ring RECORDS (default 65536)] [--symbols N (default 8)]
                 [--multicast-if ADDR] [--cpu N] [--keep-going]`;

function str(f: Flags, n: string): string | undefined { const v = f.get(n); return typeof v === 'string' ? v : undefined; }
function int(f: Flags, n: string, dflt: number | undefined, lo: number, hi: number): number | undefined {
  const v = str(f, n);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < lo || Number(v) > hi) throw new TradsysError('ERR_CLI_USAGE', `--${n} must be an integer in [${lo}, ${hi}], got "${v}"`);
  return Number(v);
}
function num(f: Flags, n: string, dflt: number | undefined, lo: number, hi: number): number | undefined {
  const v = str(f, n);
  if (v === undefined) return dflt;
  const x = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || x < lo || x > hi) throw new TradsysError('ERR_CLI_USAGE', `--${n} must be a number in [${lo}, ${hi}], got "${v}"`);
  return x;
}
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
function hostPort(f: Flags, n: string): { host: string; port: number } | undefined {
  const v = str(f, n);
  if (v === undefined) return undefined;
  const m = /^([^:]+):(\d+)$/.exec(v);
  if (!m || !IPV4.test(m[1]!) || Number(m[2]) < 1 || Number(m[2]) > 65535) throw new TradsysError('ERR_CLI_USAGE', `--${n} must be IPV4:PORT (port 1-65535), got "${v}"`);
  return { host: m[1]!, port: Number(m[2]) };
}
function addr(f: Flags, n: string, dflt?: string): string | undefined {
  const v = str(f, n) ?? dflt;
  if (v !== undefined && !IPV4.test(v)) throw new TradsysError('ERR_CLI_USAGE', `--${n} must be an IPv4 address, got "${v}"`);
  return v;
}
function session(f: Flags): string | undefined {
  const s = str(f, 'session');
  if (s === undefined) return undefined;
  try { sessionBytes(s); } catch (e) { throw new TradsysError('ERR_CLI_USAGE', `--session: ${(e as Error).message}`); }
  return s;
}
const isMulticast = (a: string): boolean => /^(22[4-9]|23\d)\./.test(a);
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

export async function cmdFeed(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'publish') return cmdPublish(rest);
  if (sub === 'listen') return cmdListen(rest);
  throw new TradsysError('ERR_CLI_USAGE', sub === undefined ? 'feed needs a subcommand: publish or listen' : `unknown feed subcommand "${sub}" (publish or listen)`);
}

// ---------------------------------------------------------------------------------------------
// publish

async function cmdPublish(argv: string[]): Promise<number> {
  const f = parse(argv, {
    dest: 'value', session: 'value', rate: 'value', 'from-file': 'value', 'from-server': 'value', symbols: 'value', key: 'value', secret: 'value',
    'server-symbols': 'value', 'heartbeat-ms': 'value', 'request-port': 'value', 'request-host': 'value', 'retransmit-buffer': 'value',
    count: 'value', duration: 'value', mtu: 'value', ttl: 'value', 'multicast-if': 'value', 'linger-ms': 'value', 'drop-every': 'value',
    'snapshot-ms': 'value', json: 'bool', quiet: 'bool',
  });
  const dest = hostPort(f, 'dest');
  if (!dest) throw new TradsysError('ERR_CLI_USAGE', 'feed publish needs --dest HOST:PORT');
  const file = str(f, 'from-file');
  const server = str(f, 'from-server');
  if ((file === undefined) === (server === undefined)) throw new TradsysError('ERR_CLI_USAGE', 'feed publish needs exactly one of --from-file FILE.tso and --from-server ws://HOST:PORT/ws');
  if (file !== undefined && (f.has('key') || f.has('secret') || f.has('server-symbols'))) throw new TradsysError('ERR_CLI_USAGE', '--key, --secret and --server-symbols go with --from-server');
  if (server !== undefined && f.has('symbols')) throw new TradsysError('ERR_CLI_USAGE', '--symbols goes with --from-file (use --server-symbols SYM,SYM with --from-server)');
  const sess = session(f) ?? 'TRADSYS';
  const rate = num(f, 'rate', 100_000, 0, 100_000_000)!;
  const mtu = int(f, 'mtu', 1500, FEED_MIN_PAYLOAD + 28, FEED_MAX_PAYLOAD + 28)!;
  const requestPort = int(f, 'request-port', undefined, 0, 65535);
  const requestHost = addr(f, 'request-host', '0.0.0.0')!;
  if (f.has('request-host') && requestPort === undefined) throw new TradsysError('ERR_CLI_USAGE', '--request-host needs --request-port');
  const durationS = num(f, 'duration', undefined, 0.001, 10_000_000);
  const json = f.has('json');
  const quiet = f.has('quiet');
  const opts = {
    session: sess, host: dest.host, port: dest.port, rate, maxPayload: mtu - 28,
    heartbeatMs: int(f, 'heartbeat-ms', 1000, 0, 3_600_000)!, requestPort, requestHost,
    retransmitBuffer: int(f, 'retransmit-buffer', 65536, 1, 1 << 24)!, count: int(f, 'count', undefined, 1, Number.MAX_SAFE_INTEGER),
    durationMs: durationS !== undefined ? Math.round(durationS * 1000) : undefined, ttl: int(f, 'ttl', 1, 0, 255)!,
    snapshotEveryMs: int(f, 'snapshot-ms', 0, 0, 86_400_000)!, multicastInterface: addr(f, 'multicast-if'), lingerMs: int(f, 'linger-ms', 1000, 0, 600_000)!, dropEvery: int(f, 'drop-every', undefined, 2, 1e9),
  };
  let source: FeedSource;
  if (file !== undefined) {
    const { Engine } = await import('../engine/engine.js');
    source = new EngineFeedSource({ file, symbols: int(f, 'symbols', 8, 1, 1 << 20)!, newEngine: (o) => new Engine(o) });
  } else {
    const key = str(f, 'key') ?? process.env.TRADSYS_KEY;
    const secret = str(f, 'secret') ?? process.env.TRADSYS_SECRET;
    if (!key || !secret) throw new TradsysError('ERR_CLI_USAGE', '--from-server needs --key K --secret S (or TRADSYS_KEY and TRADSYS_SECRET)');
    const ss = str(f, 'server-symbols');
    const { ServerFeedSource } = await import('../marketdata/feed/server-source.js');
    source = await ServerFeedSource.connect({ url: server!, key, secret, symbols: ss === undefined ? undefined : ss.split(',').filter((s) => s) });
  }
  const pub = new Publisher(source, opts);
  const out = (o: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(o) + '\n'); };
  const say = (l: string): void => { if (!quiet) process.stderr.write(l + '\n'); };
  const stop = (): void => pub.stop('signal');
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await pub.open().catch(async (e) => { await source.close(); throw e; });
  const done = pub.run();
  const st0 = pub.stats();
  say(`feed publish: session ${sess} → ${st0.dest}${isMulticast(dest.host) ? ' (multicast)' : ''}, source ${source.name}, rate ${rate > 0 ? `${fmt(rate)} msg/s` : 'unlimited'}, payload ≤ ${mtu - 28} B`
    + `${pub.requestPort !== null ? `, retransmission requests on port ${pub.requestPort} (buffer ${fmt(opts.retransmitBuffer)} messages)` : ', no retransmission server'}`
    + `${opts.dropEvery ? `, TEST ONLY: dropping every ${opts.dropEvery}th packet` : ''}`);
  if (json) out({ type: 'start', session: sess, dest: st0.dest, requestPort: pub.requestPort, source: source.name, rate, maxPayload: mtu - 28 });
  let prev = pub.stats();
  const iv = setInterval(() => {
    const s = pub.stats();
    const dt = (s.elapsedMs - prev.elapsedMs) / 1000 || 1;
    const mps = (s.messages - prev.messages) / dt;
    const pps = (s.packets - prev.packets) / dt;
    if (json) out({ type: 'progress', t: +(s.elapsedMs / 1000).toFixed(3), messagesPerSec: Math.round(mps), packetsPerSec: Math.round(pps), ...s });
    else say(`  t=${(s.elapsedMs / 1000).toFixed(0)}s  seq ${fmt(s.nextSeq - 1)}  ${fmt(mps)} msg/s  ${fmt(pps)} pkt/s  heartbeats ${s.heartbeats}  requests ${s.requests} (retransmitted ${fmt(s.retransmittedMessages)}, unservable ${s.unservable}, snapshots ${s.snapshots})${s.droppedPackets ? `  dropped (test) ${s.droppedPackets}` : ''}`);
    prev = s;
  }, 1000);
  let final: PublisherStats;
  try {
    final = await done;
  } finally {
    clearInterval(iv);
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  const secs = (final.sendMs || final.elapsedMs) / 1000;
  const srcErr = (source as { error?: string | null }).error ?? null;
  if (srcErr) say(`feed publish: source problem: ${srcErr}`);
  if (json) out({ type: 'final', reason: pub.why, sourceError: srcErr, messagesPerSec: Math.round(final.messages / (secs || 1)), packetsPerSec: Math.round(final.packets / (secs || 1)), ...final });
  say(`feed publish: ${pub.why}: ${fmt(final.messages)} messages (seq 1..${final.nextSeq - 1}) in ${fmt(final.packets)} packets, ${fmt(final.bytes)} bytes, ${secs.toFixed(2)} s`
    + ` (${fmt(final.messages / (secs || 1))} msg/s); heartbeats ${final.heartbeats}; requests ${final.requests} (bad ${final.badRequests}), retransmitted ${fmt(final.retransmittedMessages)} messages,`
    + ` unservable ${final.unservable}, snapshots ${final.snapshots}${final.droppedPackets ? `; TEST ONLY dropped ${final.droppedPackets} packets (${fmt(final.droppedMessages)} messages)` : ''}`);
  return 0;
}

// ---------------------------------------------------------------------------------------------
// listen

interface Receiver { stats(): FeedReceiverStats; close(): Promise<FeedReceiverStats> | FeedReceiverStats; ended(): boolean }

interface NativeModule {
  nativeFeedPaths(): { xdp: { available: boolean; reason: string }; recvmmsg: { available: boolean; reason: string } };
  openNativeReceiver(opts: Record<string, unknown>, onUnavailable?: (reason: string) => void): { stats(): FeedReceiverStats; close(): FeedReceiverStats } | null;
}

/** A UDP port free on `host` a moment ago (for --port 0 on a native path, which binds a fixed port). */
async function freeUdpPort(host: string): Promise<number> {
  const { createSocket } = await import('node:dgram');
  const t = createSocket('udp4');
  await new Promise<void>((res, rej) => { t.once('error', rej); t.bind(0, host, () => res()); })
    .catch((e: Error) => { throw new TradsysError('ERR_FEED_NETWORK', `cannot bind ${host}: ${e.message}`); });
  const p = t.address().port;
  await new Promise<void>((res) => t.close(() => res()));
  return p;
}

/** The native wrapper (src/sys/feed-native), or the reason it cannot be loaded. */
async function loadNative(): Promise<NativeModule | string> {
  const spec = '../sys/feed-native.js';
  try {
    const m = (await import(spec)) as Partial<NativeModule>;
    if (typeof m.nativeFeedPaths !== 'function' || typeof m.openNativeReceiver !== 'function') return 'src/sys/feed-native has no nativeFeedPaths/openNativeReceiver';
    return m as NativeModule;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_MODULE_NOT_FOUND' && err.message.includes('feed-native')) return 'the native feed wrapper (src/sys/feed-native) is not in this build';
    return `the native feed wrapper failed to load: ${err.message.split('\n')[0]}`;
  }
}

async function cmdListen(argv: string[]): Promise<number> {
  const f = parse(argv, {
    bind: 'value', port: 'value', path: 'value', ifname: 'value', session: 'value', request: 'value', duration: 'value', json: 'bool',
    'gap-timeout-ms': 'value', ring: 'value', symbols: 'value', 'multicast-if': 'value', cpu: 'value', 'keep-going': 'bool',
  });
  const port = int(f, 'port', undefined, 0, 65535);
  if (port === undefined) throw new TradsysError('ERR_CLI_USAGE', 'feed listen needs --port P');
  const bind = addr(f, 'bind', '0.0.0.0')!;
  const path = str(f, 'path') ?? 'auto';
  if (!['auto', 'xdp', 'recvmmsg', 'dgram'].includes(path)) throw new TradsysError('ERR_CLI_USAGE', `--path must be auto, xdp, recvmmsg or dgram, got "${path}"`);
  const ifname = str(f, 'ifname');
  if (ifname !== undefined && !/^[A-Za-z0-9_.:-]{1,15}$/.test(ifname)) throw new TradsysError('ERR_CLI_USAGE', `--ifname "${ifname}" is not an interface name`);
  if (path === 'xdp' && ifname === undefined) throw new TradsysError('ERR_CLI_USAGE', '--path xdp needs --ifname IF');
  const sess = session(f);
  const request = hostPort(f, 'request');
  const durationS = num(f, 'duration', undefined, 0.001, 10_000_000);
  const gapTimeoutMs = int(f, 'gap-timeout-ms', 100, 1, 600_000)!;
  const ringCap = int(f, 'ring', 65536, 2, 1 << 24)!;
  if ((ringCap & (ringCap - 1)) !== 0) throw new TradsysError('ERR_CLI_USAGE', `--ring must be a power of two, got ${ringCap}`);
  const symbols = int(f, 'symbols', 8, 1, 1 << 20)!;
  const cpu = int(f, 'cpu', undefined, 0, 4095);
  const mcIf = addr(f, 'multicast-if');
  const json = f.has('json');
  const keepGoing = f.has('keep-going');
  const group = isMulticast(bind) ? bind : undefined;

  const ring = FeedRing.create(ringCap);
  const books = new FeedBookBuilder(ring, symbols);
  // choose the path
  const why: string[] = [];
  let rx: Receiver | null = null;
  let chosen: 'xdp' | 'recvmmsg' | 'dgram' = 'dgram';
  let nativePort = 0;
  if (path !== 'dgram') {
    const nat = await loadNative();
    const tries: ('xdp' | 'recvmmsg')[] = path === 'auto' ? (ifname !== undefined ? ['xdp', 'recvmmsg'] : ['recvmmsg']) : [path as 'xdp' | 'recvmmsg'];
    if (path === 'auto' && ifname === undefined) why.push('xdp: not tried (no --ifname)');
    for (const p of tries) {
      if (typeof nat === 'string') { why.push(`${p}: ${nat}`); continue; }
      const avail = nat.nativeFeedPaths()[p];
      if (!avail.available) { why.push(`${p}: ${avail.reason}`); continue; }
      try {
        // the native receivers take a fixed port: resolve --port 0 to a free one first
        if (port === 0 && nativePort === 0) nativePort = await freeUdpPort(group ? '0.0.0.0' : bind);
        let unavailable = 'the native receiver could not be opened';
        const r = nat.openNativeReceiver({
          path: p, ring: ring.sab, bindAddress: group ? '0.0.0.0' : bind, port: port || nativePort, ifname, multicastGroup: group, session: sess,
          requestAddress: request?.host, requestPort: request?.port, gapTimeoutMs, cpu,
        }, (reason) => { unavailable = reason; });
        if (!r) { why.push(`${p}: ${unavailable}`); continue; }
        rx = { stats: () => r.stats(), close: () => r.close(), ended: () => r.stats().ended };
        (rx as Receiver & { port?: number }).port = port || nativePort;
        chosen = p;
        why.push(`${p}: running`);
        break;
      } catch (e) {
        why.push(`${p}: ${(e as Error).message}`);
      }
    }
    if (!rx && path !== 'auto') {
      books.close();
      throw new TradsysError('ERR_FEED_NETWORK', `--path ${path} cannot run here: ${why.join('; ')}`);
    }
  }
  if (!rx) {
    const d = await DgramReceiver.open({
      ring, bindAddress: group ? '0.0.0.0' : bind, port, multicastGroup: group, multicastInterface: mcIf, session: sess,
      requestAddress: request?.host, requestPort: request?.port, gapTimeoutMs,
    }).catch((e) => { books.close(); throw e; });
    rx = { stats: () => d.stats(), close: () => d.close(), ended: () => d.stats().ended };
    chosen = 'dgram';
    why.push(path === 'dgram' ? 'dgram: chosen by --path' : 'dgram: the fallback (JS per packet)');
    (rx as Receiver & { port?: number }).port = d.port;
  }
  const boundPort = (rx as Receiver & { port?: number }).port ?? port;
  const pathReason = why.join('; ');
  const out = (o: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(o) + '\n'); };
  if (json) out({ type: 'start', path: chosen, pathReason, bind, port: boundPort, group: group ?? null, session: sess ?? null, request: request ? `${request.host}:${request.port}` : null });
  else process.stderr.write(`feed listen: ${group ? `group ${group}` : bind}:${boundPort}, path ${chosen} (${pathReason})${request ? `, retransmission requests to ${request.host}:${request.port}` : ', no retransmission requests'}\n`);

  // drain the ring into the book builder every ms; sample latencies
  const SAMPLES = 1 << 16;
  const wire = new Float64Array(SAMPLES);
  const toRing = new Float64Array(SAMPLES);
  let nSamples = 0;
  let seen = 0;
  const drain = (): void => {
    const r = books.reader;
    const n = r.available();
    const dv = ring.dv;
    for (let k = 0; k < n; k++) {
      const o = r.at(k);
      if (dv.getUint8(o) === FEED_ENUMS.FeedMsgType.GAP) continue;
      const i = seen++ % SAMPLES; // the last SAMPLES messages
      wire[i] = recWireNs(dv, o);
      toRing[i] = recRingNs(dv, o);
      if (nSamples < SAMPLES) nSamples++;
    }
    books.poll(n);
  };
  const t0 = performance.now();
  let prev = rx.stats();
  let prevT = t0;
  let endedAt = -1;
  const final = await new Promise<FeedReceiverStats>((resolve) => {
    let closing = false;
    const finish = (): void => {
      if (closing) return;
      closing = true;
      clearInterval(dIv); clearInterval(sIv);
      process.off('SIGINT', finish); process.off('SIGTERM', finish);
      void Promise.resolve(rx!.close()).then((s) => { drain(); resolve(s); });
    };
    const dIv = setInterval(() => {
      drain();
      const now = performance.now();
      if (durationS !== undefined && now - t0 >= durationS * 1000) finish();
      if (!keepGoing && rx!.ended()) {
        if (endedAt < 0) endedAt = now;
        else if (now - endedAt >= 50) finish();
      }
    }, 1);
    const sIv = setInterval(() => {
      const s = rx!.stats();
      const now = performance.now();
      const dt = (now - prevT) / 1000;
      const pps = (s.packets - prev.packets) / dt;
      const mps = (s.messages - prev.messages) / dt;
      if (json) out({ type: 'rate', t: +((now - t0) / 1000).toFixed(3), packetsPerSec: Math.round(pps), messagesPerSec: Math.round(mps), gaps: s.gaps, recovered: s.recovered, unrecovered: s.unrecovered, duplicates: s.duplicates, ringOverruns: s.ringOverruns, stampSource: s.stampSource, path: s.path, lastSeq: s.lastSeq });
      else process.stderr.write(`  t=${((now - t0) / 1000).toFixed(0)}s  ${fmt(pps)} pkt/s  ${fmt(mps)} msg/s  seq ${fmt(s.lastSeq)}  gaps ${s.gaps} (recovered ${fmt(s.recovered)}, unrecovered ${fmt(s.unrecovered)})  dup ${s.duplicates}  ring overruns ${s.ringOverruns}  stamps ${s.stampSource}\n`);
      prev = s; prevT = now;
    }, 1000);
    process.once('SIGINT', finish);
    process.once('SIGTERM', finish);
  });
  const b = books.stats();
  books.close();
  const pct = (a: Float64Array, n: number): { p50: number; p99: number; p999: number; max: number } | null => {
    if (n === 0) return null;
    const s = a.slice(0, n).sort();
    const q = (p: number): number => Math.round(s[Math.min(n - 1, Math.floor(p * n))]!);
    return { p50: q(0.5), p99: q(0.99), p999: q(0.999), max: Math.round(s[n - 1]!) };
  };
  const lat = { samples: nSamples, wireNs: pct(wire, nSamples), recvToRingNs: pct(toRing, nSamples) };
  const levels: Record<string, [number, number]> = {};
  // level counts from the D totals (present in L3 and L2-only feeds alike)
  for (let s = 0; s < symbols; s++) { const bd = books.deltaDepth(s, 0, 1 << 20).length; const ad = books.deltaDepth(s, 1, 1 << 20).length; if (bd + ad > 0) levels[s] = [bd, ad]; }
  const secs = (performance.now() - t0) / 1000;
  if (json) out({ type: 'final', pathReason, seconds: +secs.toFixed(3), ...final, path: chosen, books: { ...b, levels }, latency: lat });
  else {
    process.stderr.write(`feed listen: ${final.ended ? 'end of session' : 'stopped'} after ${secs.toFixed(2)} s on ${chosen}: ${fmt(final.packets)} packets, ${fmt(final.messages)} messages, last seq ${fmt(final.lastSeq)}, `
      + `gaps ${final.gaps} (recovered ${fmt(final.recovered)}, unrecovered ${fmt(final.unrecovered)}), duplicates ${final.duplicates}, other session ${final.otherSession}, ring overruns ${final.ringOverruns}, stamps ${final.stampSource}\n`);
    process.stderr.write(`  books: ${b.records} records, ${Object.keys(levels).length} symbols with levels, stale ${b.staleSymbols}, resets ${b.resets}, inconsistent ${b.inconsistent}\n`);
    if (lat.wireNs) process.stderr.write(`  latency (last ${fmt(nSamples)} messages): send→receive p50 ${(lat.wireNs.p50 / 1000).toFixed(1)} µs p99 ${(lat.wireNs.p99 / 1000).toFixed(1)} µs; receive→ring p50 ${(lat.recvToRingNs!.p50 / 1000).toFixed(1)} µs p99 ${(lat.recvToRingNs!.p99 / 1000).toFixed(1)} µs\n`);
  }
  return 0;
}
