/**
 * The feed's receive paths over a real veth pair in a network namespace (test/support/netns.ts):
 * AF_XDP (generic mode), the recvmmsg thread and — when its receiver is present — Node's dgram.
 * The publisher (test/support/feed-publisher.ts) runs inside the namespace and sends one seeded
 * stream; each path must write exactly the expected records: gaps recovered by retransmission,
 * GAP records when the publisher's buffer is gone, sequence strictly increasing, and the same
 * records on every path (ignoring path, stampSource and the receive/ring stamps).
 * Skipped with the reason when namespaces cannot be made (not root) — except under CI=true, where
 * a failure to create one fails the test.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MSG_GAP } from '../../src/marketdata/feed/codec.js';
import { FeedRing, readRecord, type FeedRecord } from '../../src/marketdata/feed/ring.js';
import { FEED_ENUMS } from '../../src/abi/records.js';
import { TradsysError } from '../../src/domain/errors.js';
import { DgramReceiver } from '../../src/marketdata/feed/dgram-receiver.js';
import { nativeFeedPaths, openNativeReceiver, type FeedReceiverStats, type NativeReceiver } from '../../src/sys/feed-native.js';
import { createVethPair, netnsSupport, skipNetns, xdpAttached, type VethPair } from '../support/netns.js';
import type { PublisherReport, PublisherScript } from '../support/feed-publisher.js';

const why = netnsSupport();
const paths = nativeFeedPaths();
const NATIVE = (['xdp', 'recvmmsg'] as const).filter((p) => paths[p].available);
const ALL = [...NATIVE, 'dgram'] as const;
type PathName = 'xdp' | 'recvmmsg' | 'dgram';
const unavailable = (['xdp', 'recvmmsg'] as const).filter((p) => !paths[p].available).map((p) => `${p}: ${paths[p].reason}`);
const FEED_PORT = 31_337;
const REQ_PORT = 31_338;

interface PathRun { records: FeedRecord[]; stats: FeedReceiverStats; report: PublisherReport; xdpAfterClose?: string }

function runPublisher(pair: VethPair, script: PublisherScript, timeoutMs = 40_000): Promise<PublisherReport> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', pair.ns, process.execPath, '--import', 'tsx', 'test/support/feed-publisher.ts', JSON.stringify(script)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`publisher exited ${code}: ${err}`));
      else resolve(JSON.parse(out.trim().split('\n').pop()!) as PublisherReport);
    });
  });
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (cond()) return true; await new Promise((r) => setTimeout(r, 10)); }
  return cond();
}

function drain(ring: FeedRing, reader: ReturnType<FeedRing['openReader']>): FeedRecord[] {
  const out: FeedRecord[] = [];
  const buf = new Uint8Array(72 * 1024);
  const dv = new DataView(buf.buffer);
  for (;;) {
    const n = reader.poll(buf, 0, 1024);
    if (n === 0) break;
    for (let k = 0; k < n; k++) out.push(readRecord(dv, k * 72));
  }
  return out;
}

async function runPath(path: PathName, pair: VethPair, script: Omit<PublisherScript, 'to' | 'port' | 'requestPort'>, requests = true, gapTimeoutMs = 150): Promise<PathRun> {
  const ring = FeedRing.create(1 << 16);
  const reader = ring.openReader();
  const common = {
    bindAddress: pair.hostAddr, port: FEED_PORT, session: script.session,
    ...(requests ? { requestAddress: pair.peerAddr, requestPort: REQ_PORT } : {}), gapTimeoutMs,
  };
  let stats: () => FeedReceiverStats;
  let close: () => Promise<FeedReceiverStats>;
  if (path === 'dgram') {
    const rx = await DgramReceiver.open({ ring, ...common });
    stats = () => rx.stats() as FeedReceiverStats;
    close = () => rx.close() as Promise<FeedReceiverStats>;
  } else {
    const rx = openNativeReceiver({ path, ring: ring.sab, ifname: pair.host, ...common });
    expect(rx).not.toBeNull();
    stats = () => rx!.stats();
    close = async () => rx!.close();
  }
  try {
    const report = await runPublisher(pair, { ...script, to: pair.hostAddr, port: FEED_PORT, requestPort: REQ_PORT });
    await until(() => { const s = stats(); return s.ended && (s.held ?? 0) === 0; }, 5_000);
    const final = await close();
    const run: PathRun = { records: drain(ring, reader), stats: final, report };
    if (path === 'xdp') run.xdpAfterClose = xdpAttached(pair.host);
    return run;
  } finally {
    await close();
    reader.close();
  }
}

/** The ring records without what legitimately differs between paths. */
function comparable(r: FeedRecord[]): string[] {
  return r.map((x) => `${x.type} seq=${x.seq} sym=${x.symbol} side=${x.side} oid=${x.orderId} px=${x.price} q=${x.qty} m=${x.matchId} f=${x.flags} ts=${x.type === 'G' ? '-' : x.tsSend}`);
}

function expectedRecords(rep: PublisherReport, lost: Array<[number, number]> = [], retransmitted = new Set<number>()): string[] {
  const out: string[] = [];
  const lostAt = new Map(lost);
  const skip = new Set<number>();
  for (const [s, n] of lost) for (let i = 0; i < n; i++) skip.add(s + i);
  const seqs = new Set(rep.expected.map((e) => e.seq));
  const all = [...rep.expected];
  for (const [s, n] of lost) if (!seqs.has(s)) all.push({ seq: s, type: MSG_GAP, symbol: 0, orderId: 0, side: 255, price: 0, qty: n, matchId: 0, timestamp: '0' });
  all.sort((a, b) => a.seq - b.seq);
  for (const e of all) {
    if (lostAt.has(e.seq)) { out.push(`G seq=${e.seq} sym=0 side=255 oid=0 px=0 q=${lostAt.get(e.seq)} m=0 f=0 ts=-`); continue; }
    if (skip.has(e.seq)) continue;
    const f = retransmitted.has(e.seq) ? FEED_ENUMS.FeedFlag.RETRANSMITTED : 0;
    out.push(`${String.fromCharCode(e.type)} seq=${e.seq} sym=${e.symbol} side=${e.side} oid=${e.orderId} px=${e.price} q=${e.qty} m=${e.matchId} f=${f} ts=${e.timestamp}`);
  }
  return out;
}

function strictlyIncreasing(r: FeedRecord[]): boolean {
  for (let i = 1; i < r.length; i++) if (!(r[i]!.seq > r[i - 1]!.seq)) return false;
  return true;
}

describe.skipIf(skipNetns())(`feed receive paths over a veth pair${why ? ` (${why})` : ''}`, () => {
  let pair: VethPair;
  beforeAll(() => { pair = createVethPair('fp'); });
  afterAll(() => { pair?.close(); });

  it('this machine runs the native paths (or says why not)', () => {
    // a missing path must come with its reason; CI (root, the Debian packages installed by .ci/run)
    // must run both native paths
    for (const u of unavailable) expect(u).toMatch(/: .+/);
    if (process.env.CI === 'true') expect(unavailable).toEqual([]);
    expect(NATIVE.length + unavailable.length).toBe(2);
  });

  const base = { session: 'TESTS1', seed: 1901, messages: 3000, paceEvery: 16, paceMs: 1, unknownEvery: 97 };
  // packets left out of the first send: a single one, two adjacent ones, one late in the stream
  const DROP = [5, 40, 41, 300];
  const runs: Record<string, { clean?: PathRun; recovered?: PathRun; gone?: PathRun; timeout?: PathRun }> = {};

  for (const path of ALL) {
    describe(path, () => {
      it('a clean stream: every message once, in order, nothing lost', async () => {
        const r = await runPath(path, pair, { ...base, foreignFirst: true });
        runs[path] = { ...runs[path], clean: r };
        expect(r.stats.error).toBeUndefined();
        expect(r.stats.path).toBe(path);
        expect(r.stats.gaps).toBe(0);
        expect(r.stats.otherSession).toBe(1);
        expect(r.stats.session).toBe('TESTS1');
        expect(r.stats.ended).toBe(true);
        expect(r.stats.lastSeq).toBe(base.messages);
        expect(strictlyIncreasing(r.records)).toBe(true);
        expect(comparable(r.records)).toEqual(expectedRecords(r.report));
        expect(r.records.every((x) => x.path === FEED_ENUMS.FeedPath[path === 'xdp' ? 'XDP' : path === 'dgram' ? 'DGRAM' : 'RECVMMSG'])).toBe(true);
        // stamps: software via SO_TIMESTAMPING on recvmmsg (veth has no hardware stamps), receiver clock on XDP and dgram
        expect(r.stats.stampSource).toBe(path === 'recvmmsg' ? 'software' : 'user');
        expect(r.records.every((x) => x.tsRecv > 0n && x.tsRing >= x.tsRecv)).toBe(true);
        if (path === 'xdp') { expect(r.stats.xdpMode).toBe('generic'); expect(r.xdpAfterClose).toBe(''); }
      }, 90_000);

      it('dropped packets are re-requested and filled (RETRANSMITTED), no GAP', async () => {
        // a generous gap timeout: on a loaded machine an answer can take longer than 150 ms
        const r = await runPath(path, pair, { ...base, drop: DROP, buffer: 'full' }, true, 3_000);
        runs[path] = { ...runs[path], recovered: r };
        expect(r.stats.error).toBeUndefined();
        expect(r.report.dropped).toBe(DROP.length);
        // one request per hole (two adjacent packets are one hole); a hole filled by two answer
        // packets that arrive in different batches re-requests its remainder once
        expect(r.report.requests.length).toBeGreaterThanOrEqual(3);
        expect(r.report.requests.length).toBeLessThanOrEqual(4);
        expect(r.stats.gaps).toBe(r.report.requests.length);
        expect(r.stats.recovered).toBe(r.report.droppedSeqs.length);
        expect(r.stats.unrecovered).toBe(0);
        expect(r.records.some((x) => x.type === 'G')).toBe(false);
        expect(strictlyIncreasing(r.records)).toBe(true);
        const flagged = r.records.filter((x) => x.flags & FEED_ENUMS.FeedFlag.RETRANSMITTED).map((x) => x.seq);
        expect(flagged).toEqual(r.report.droppedSeqs);
        expect(comparable(r.records)).toEqual(expectedRecords(r.report, [], new Set(flagged)));
      }, 90_000);

      it('with the publisher\'s buffer gone: one GAP record per hole (seq = first lost, qty = count)', async () => {
        const r = await runPath(path, pair, { ...base, drop: DROP, buffer: 'gone' });
        runs[path] = { ...runs[path], gone: r };
        expect(r.stats.error).toBeUndefined();
        const gaps = r.records.filter((x) => x.type === 'G').map((x) => [x.seq, x.qty] as [number, number]);
        expect(gaps.length).toBe(3);
        expect(r.report.requests.length).toBe(3);
        expect(r.stats.recovered).toBe(0);
        expect(strictlyIncreasing(r.records)).toBe(true);
        expect(comparable(r.records)).toEqual(expectedRecords(r.report, gaps));
        // the GAPs cover exactly the left-out packets' messages
        expect(gaps.reduce((a, [, n]) => a + n, 0)).toBe(r.stats.unrecovered);
        const lost = new Set(gaps.flatMap(([s0, n]) => Array.from({ length: n }, (_, i) => s0 + i)));
        expect(r.report.droppedSeqs.every((x) => lost.has(x))).toBe(true);
      }, 90_000);

      it('without a request address: each hole becomes a GAP record after gapTimeoutMs', async () => {
        const r = await runPath(path, pair, { ...base, drop: [7, 200], paceEvery: 8, paceMs: 20 }, false);
        runs[path] = { ...runs[path], timeout: r };
        expect(r.stats.error).toBeUndefined();
        expect(r.report.requests.length).toBe(0);
        const gaps = r.records.filter((x) => x.type === 'G').map((x) => [x.seq, x.qty] as [number, number]);
        expect(gaps.length).toBe(2);
        expect(r.stats.gaps).toBe(2);
        expect(strictlyIncreasing(r.records)).toBe(true);
        expect(comparable(r.records)).toEqual(expectedRecords(r.report, gaps));
        const lost = new Set(gaps.flatMap(([s0, n]) => Array.from({ length: n }, (_, i) => s0 + i)));
        expect(r.report.droppedSeqs.every((x) => lost.has(x))).toBe(true);
      }, 90_000);
    });
  }

  it('every path writes the same records for the same stream', () => {
    const names = Object.keys(runs);
    expect(names.length).toBe(ALL.length);
    for (const kind of ['clean', 'recovered', 'gone', 'timeout'] as const) {
      const ref = runs[names[0]!]![kind];
      if (!ref) continue;
      for (const n of names.slice(1)) {
        const other = runs[n]![kind];
        expect(other, `${n} ${kind}`).toBeDefined();
        expect(comparable(other!.records), `${n} vs ${names[0]} (${kind})`).toEqual(comparable(ref.records));
      }
    }
  });

  it.skipIf(!NATIVE.includes('recvmmsg'))('recvmmsg joins a multicast group; retransmissions come back by unicast to the same socket', async () => {
    const group = '239.77.1.9';
    const ring = FeedRing.create(1 << 16);
    const reader = ring.openReader();
    const rx = openNativeReceiver({
      path: 'recvmmsg', ring: ring.sab, bindAddress: pair.hostAddr, port: FEED_PORT + 50, ifname: pair.host, multicastGroup: group,
      session: 'MCAST', requestAddress: pair.peerAddr, requestPort: REQ_PORT, gapTimeoutMs: 3_000,
    })!;
    try {
      const report = await runPublisher(pair, { ...base, session: 'MCAST', drop: [9], buffer: 'full', to: group, port: FEED_PORT + 50, requestPort: REQ_PORT, multicastInterface: pair.peerAddr });
      await until(() => rx.stats().ended, 5_000);
      const st = rx.close();
      const recs = drain(ring, reader);
      expect(st.error).toBeUndefined();
      expect(st.gaps).toBe(1);
      expect(st.recovered).toBe(report.droppedSeqs.length);
      expect(recs.filter((x) => x.flags & FEED_ENUMS.FeedFlag.RETRANSMITTED).map((x) => x.seq)).toEqual(report.droppedSeqs);
      expect(comparable(recs)).toEqual(expectedRecords(report, [], new Set(report.droppedSeqs)));
    } finally {
      rx.close();
      reader.close();
    }
  }, 90_000);

  describe('bad options and lifecycle', () => {
    it('an unknown interface, a port in use, a ring that is not a FeedRing, a ring with a writer: clear errors', async () => {
      for (const path of NATIVE) {
        const ring = FeedRing.create(1024);
        const open = (o: Partial<Parameters<typeof openNativeReceiver>[0]>): TradsysError => {
          try { openNativeReceiver({ path, ring: ring.sab, bindAddress: pair.hostAddr, port: FEED_PORT + 10, ifname: pair.host, ...o })?.close(); } catch (e) { return e as TradsysError; }
          throw new Error(`${path}: opened with ${JSON.stringify(o)}`);
        };
        const e1 = open({ ifname: 'nosuchif0' });
        expect(e1).toBeInstanceOf(TradsysError);
        expect(e1.code).toBe('ERR_FEED_NETWORK');
        expect(e1.message).toMatch(/unknown interface 'nosuchif0'/);
        const blocker = createSocket('udp4');
        await new Promise<void>((res) => blocker.bind(FEED_PORT + 11, pair.hostAddr, () => res()));
        try {
          const e2 = open({ port: FEED_PORT + 11 });
          expect(e2.code).toBe('ERR_FEED_NETWORK');
          expect(e2.message).toMatch(/port 31348 on .* is in use/);
        } finally { blocker.close(); }
        const e3 = open({ ring: new SharedArrayBuffer(4096) });
        expect(e3.code).toBe('ERR_FEED_RING');
        expect(e3.message).toMatch(/not a FeedRing/);
        const e4 = open({ ring: new ArrayBuffer(4096) as unknown as SharedArrayBuffer });
        expect(e4.code).toBe('ERR_FEED_RING');
        const w = ring.openWriter(FEED_ENUMS.FeedPath.DGRAM);
        const e5 = open({});
        expect(e5.code).toBe('ERR_FEED_RING');
        expect(e5.message).toMatch(/already has a writer \(path dgram\)/);
        w.close();
        const e6 = open({ port: 0 });
        expect(e6.code).toBe('ERR_FEED_CONFIG');
        const e7 = open({ timestamping: 'hardware' });
        expect(e7.code).toBe('ERR_FEED_NETWORK');
        expect(e7.message).toMatch(/hardware timestamping requested but unavailable/);
        // after all those failures: no XDP program left behind, the ring's writer role is free
        expect(xdpAttached(pair.host)).toBe('');
        expect(ring.writerPath).toBe(0);
      }
    });

    it.skipIf(!NATIVE.includes('xdp'))('the XDP program takes only the feed\'s packets: other UDP ports and TCP still reach the kernel', async () => {
      const ring = FeedRing.create(1024);
      const reader = ring.openReader();
      const rx = openNativeReceiver({ path: 'xdp', ring: ring.sab, bindAddress: pair.hostAddr, port: FEED_PORT + 30, ifname: pair.host })!;
      const other = createSocket('udp4');
      const tcp = createServer();
      try {
        await new Promise<void>((res) => other.bind(FEED_PORT + 31, pair.hostAddr, () => res()));
        await new Promise<void>((res) => tcp.listen(FEED_PORT + 32, pair.hostAddr, () => res()));
        const got = new Promise<string>((res) => other.once('message', (m) => res(m.toString())));
        const gotTcp = new Promise<string>((res) => tcp.once('connection', (c) => c.once('data', (d) => { res(d.toString()); c.destroy(); })));
        const timeout = new Promise<string>((res) => setTimeout(() => res('timeout'), 8_000));
        const child = spawn('ip', ['netns', 'exec', pair.ns, process.execPath, '-e',
          `const s=require('dgram').createSocket('udp4');s.send('not the feed',${FEED_PORT + 31},'${pair.hostAddr}',()=>s.close());` +
          `const c=require('net').connect(${FEED_PORT + 32},'${pair.hostAddr}',()=>c.end('tcp too'))`], { stdio: 'ignore' });
        expect(await Promise.race([got, timeout])).toBe('not the feed');
        expect(await Promise.race([gotTcp, timeout])).toBe('tcp too');
        child.kill();
        const st = rx.stats();
        expect(st.packets).toBe(0);
        expect(st.filtered).toBe(0);
      } finally {
        other.close();
        tcp.close();
        rx.close();
        reader.close();
      }
      expect(xdpAttached(pair.host)).toBe('');
    });

    it.skipIf(!NATIVE.includes('xdp'))('a receiver process killed with SIGKILL leaves no XDP program (bpf_link)', async () => {
      const script = `import { FeedRing } from './src/marketdata/feed/ring.ts';
import { openNativeReceiver } from './src/sys/feed-native.ts';
const ring = FeedRing.create(1024);
openNativeReceiver({ path: 'xdp', ring: ring.sab, bindAddress: '${pair.hostAddr}', port: ${FEED_PORT + 40}, ifname: '${pair.host}' });
process.stdout.write('open\\n');
setInterval(() => {}, 1000);`;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      const opened = await new Promise<boolean>((res) => {
        const t = setTimeout(() => res(false), 20_000);
        child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('open')) { clearTimeout(t); res(true); } });
        child.on('exit', () => { clearTimeout(t); res(false); });
      });
      expect(opened, err).toBe(true);
      expect(xdpAttached(pair.host)).toMatch(/^xdpgeneric/);
      const exited = new Promise<void>((res) => child.on('exit', () => res()));
      child.kill('SIGKILL');
      await exited;
      expect(await until(() => xdpAttached(pair.host) === '', 5_000)).toBe(true);
    }, 30_000);

    it('close is idempotent, frees the writer role, and leaves no XDP program', () => {
      for (const path of NATIVE) {
        const ring = FeedRing.create(1024);
        const rx: NativeReceiver = openNativeReceiver({ path, ring: ring.sab, bindAddress: pair.hostAddr, port: FEED_PORT + 20, ifname: pair.host })!;
        expect(ring.writerPath).toBe(path === 'xdp' ? FEED_ENUMS.FeedPath.XDP : FEED_ENUMS.FeedPath.RECVMMSG);
        if (path === 'xdp') expect(xdpAttached(pair.host)).toMatch(/^xdpgeneric/);
        const a = rx.close();
        const b = rx.close();
        expect(b).toEqual(a);
        expect(a.running).toBe(false);
        expect(ring.writerPath).toBe(0);
        expect(xdpAttached(pair.host)).toBe('');
        // and it can be opened again on the same port
        openNativeReceiver({ path, ring: ring.sab, bindAddress: pair.hostAddr, port: FEED_PORT + 20, ifname: pair.host })!.close();
      }
    });
  });
});
