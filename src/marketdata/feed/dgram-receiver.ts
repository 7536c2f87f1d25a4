/**
 * The dgram receive path: the feed's fallback receiver on Node's `dgram` (JS per packet), with the
 * native receivers' semantics (docs/feed.md, the feed contract): messages go into the FeedRing in
 * feed sequence order, exactly once; a gap sends one retransmission request and holds later messages
 * until the gap is filled or `gapTimeoutMs` passed, then writes a GAP record and goes on; duplicates
 * are dropped and counted; a heartbeat or end of session beyond the next expected sequence reveals a
 * gap; an empty answer from the request server (count 0, seq = the first message still buffered)
 * declares the messages before it lost at once; end of session sets `ended` once every message
 * before it is written or declared lost.
 *
 * Owns: the socket (unicast or multicast), session lock-in, the expected sequence, the hold buffer,
 * the gap timer, and the ring's writer role (path DGRAM).
 * Layout: hold buffer = `holdCapacity` slots of 36 bytes (a message block) plus, per slot, its seq,
 * receive stamp (lo, hi) and flags in typed arrays (slot = seq mod capacity).
 * Invariants: `expected` only grows; a ring record is written for seq s only when s = expected; every
 * seq below `expected` was written, declared lost in a GAP record, or dropped as a ring overrun.
 * Complexity: O(messages) per packet; a gap timeout O(hold capacity) at worst (finding the next held
 * message).
 * Allocation: none of its own per packet or message in steady state (the packet is copied into a
 * reused buffer, stamps go through reused word arrays); Node allocates a Buffer and rinfo per
 * datagram. Opening a gap allocates nothing either (the request is built in a reused buffer).
 * Known limitations: one packet per event-loop callback (no batching: that is recvmmsg's job);
 * timestamps are user-space (`StampSource.USER`, the clock when the callback ran); a gap larger than
 * the hold buffer is declared lost up to the point that fits.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { FEED_ENUMS } from '../../abi/records.js';
import { nowNsInto } from '../../domain/clock.js';
import { TradsysError } from '../../domain/errors.js';
import {
  FEED_BLOCK_HEADER, FEED_COUNT_END, FEED_COUNT_HEARTBEAT, FEED_MAX_COUNT, FEED_MAX_PAYLOAD, FEED_PACKET_HEADER, FEED_SESSION_BYTES,
  MSG_LENGTH, MSG_MAX_LENGTH, checkPacket, encodeRequest, gapRecord, messageToRecord, sessionBytes, sessionEquals, sessionName,
} from './codec.js';
import { checkHostPort } from './publisher.js';
import { FeedRing, type FeedRingWriter } from './ring.js';

const PATH = FEED_ENUMS.FeedPath.DGRAM;
const STAMP = FEED_ENUMS.StampSource.USER;
const RETRANSMITTED = FEED_ENUMS.FeedFlag.RETRANSMITTED;
const SLOT = FEED_BLOCK_HEADER + MSG_MAX_LENGTH;
const TWO32 = 4294967296;

export interface DgramReceiverOptions {
  /** A FeedRing (or its buffer) to write into. */
  ring: FeedRing | SharedArrayBuffer;
  bindAddress: string;
  port: number;
  multicastGroup?: string;
  /** Local interface address for the multicast membership. */
  multicastInterface?: string;
  /** Expected session; without it the first session seen is locked in. */
  session?: string;
  requestAddress?: string;
  requestPort?: number;
  /** Wait this long for a retransmission before writing a GAP record (default 100). */
  gapTimeoutMs?: number;
  /** Messages held behind a gap (default 65,536). */
  holdCapacity?: number;
  /** Socket receive buffer bytes (default 8 MiB; the kernel may cap it). */
  recvBufferBytes?: number;
}

/** The receivers' common stats shape (src/sys/feed-native.ts FeedReceiverStats), path 'dgram'. */
export interface FeedReceiverStats {
  packets: number; messages: number; bytes: number; heartbeats: number; batches: number;
  gaps: number; recovered: number; unrecovered: number; duplicates: number; otherSession: number;
  ringOverruns: number; lastSeq: number; session: string; stampSource: 'hardware' | 'software' | 'user' | 'none';
  path: 'xdp' | 'recvmmsg' | 'dgram'; xdpMode?: 'native' | 'generic' | 'skb'; ended: boolean; error?: string;
  /** dgram only: packets dropped as malformed, and retransmission requests sent. */
  malformed?: number; requests?: number;
}

export class DgramReceiver {
  readonly ring: FeedRing;
  private readonly w: FeedRingWriter;
  private sock: Socket | null = null;
  private readonly o: DgramReceiverOptions;
  private readonly gapTimeoutMs: number;
  private readonly H: number;
  private session: Uint8Array | null;
  private sessionText = '';
  // sequencing
  private expected = 1;
  /** One past the highest sequence the feed has shown to exist (data, heartbeats, end of session). */
  private known = 1;
  private endSeq = -1;
  private gapOpen = false;
  /** `expected` when the open gap was opened. */
  private gapAt = 0;
  private gapDeadline = 0;
  // hold buffer
  private readonly hold: Uint8Array;
  private readonly holdDv: DataView;
  private readonly holdSeq: Float64Array;
  private readonly holdStamp: Uint32Array;
  private readonly holdFlags: Uint8Array;
  // scratch
  private readonly pkt = new Uint8Array(FEED_MAX_PAYLOAD);
  private readonly pdv = new DataView(this.pkt.buffer);
  private readonly req = new Uint8Array(32);
  private readonly reqDv = new DataView(this.req.buffer);
  private readonly recv = new Uint32Array(2);
  private readonly ringTs = new Uint32Array(2);
  private timer: NodeJS.Timeout | null = null;
  private readonly st: FeedReceiverStats;
  private endedResolve: (() => void) | null = null;
  /** Resolves when the end of session was reached (every message before it written or declared lost). */
  readonly endedPromise: Promise<void>;

  private constructor(o: DgramReceiverOptions) {
    checkHostPort('bind', o.bindAddress, o.port, true);
    if (o.multicastGroup !== undefined) checkHostPort('multicast group', o.multicastGroup, 1);
    if (o.requestAddress !== undefined || o.requestPort !== undefined) checkHostPort('request', o.requestAddress ?? '', o.requestPort ?? -1);
    const gt = o.gapTimeoutMs ?? 100;
    if (!Number.isInteger(gt) || gt < 1 || gt > 600_000) throw new TradsysError('ERR_FEED_CONFIG', `gapTimeoutMs must be an integer in [1, 600000], got ${gt}`);
    const H = o.holdCapacity ?? 65536;
    if (!Number.isInteger(H) || H < 16 || H > 1 << 24) throw new TradsysError('ERR_FEED_CONFIG', `holdCapacity must be an integer in [16, 2^24], got ${H}`);
    this.o = o;
    this.gapTimeoutMs = gt;
    this.H = H;
    this.session = o.session !== undefined ? sessionBytes(o.session) : null;
    this.sessionText = o.session ?? '';
    this.ring = o.ring instanceof FeedRing ? o.ring : FeedRing.attach(o.ring);
    this.hold = new Uint8Array(H * SLOT);
    this.holdDv = new DataView(this.hold.buffer);
    this.holdSeq = new Float64Array(H).fill(-1);
    this.holdStamp = new Uint32Array(H * 2);
    this.holdFlags = new Uint8Array(H);
    this.st = {
      packets: 0, messages: 0, bytes: 0, heartbeats: 0, batches: 0, gaps: 0, recovered: 0, unrecovered: 0, duplicates: 0, otherSession: 0,
      ringOverruns: 0, lastSeq: 0, session: this.sessionText, stampSource: 'user', path: 'dgram', ended: false, malformed: 0, requests: 0,
    };
    this.endedPromise = new Promise((res) => { this.endedResolve = res; });
    this.w = this.ring.openWriter(PATH);
  }

  /** Binds the socket (and joins the group) and starts receiving. */
  static async open(o: DgramReceiverOptions): Promise<DgramReceiver> {
    const r = new DgramReceiver(o);
    try {
      await r.bind();
    } catch (e) {
      r.w.close();
      throw e;
    }
    return r;
  }

  private async bind(): Promise<void> {
    const o = this.o;
    const sock = createSocket({ type: 'udp4', reuseAddr: o.multicastGroup !== undefined });
    this.sock = sock;
    await new Promise<void>((res, rej) => {
      sock.once('error', rej);
      sock.bind(o.port, o.multicastGroup !== undefined ? '0.0.0.0' : o.bindAddress, () => { sock.off('error', rej); res(); });
    }).catch((e: Error) => { this.sock = null; try { sock.close(); } catch { /* */ } throw new TradsysError('ERR_FEED_NETWORK', `cannot bind ${o.bindAddress}:${o.port}: ${e.message}`); });
    try {
      if (o.multicastGroup !== undefined) sock.addMembership(o.multicastGroup, o.multicastInterface ?? (o.bindAddress !== '0.0.0.0' ? o.bindAddress : undefined));
    } catch (e) {
      this.sock = null; sock.close();
      throw new TradsysError('ERR_FEED_NETWORK', `cannot join ${o.multicastGroup}: ${(e as Error).message}`);
    }
    try { sock.setRecvBufferSize(o.recvBufferBytes ?? 8 << 20); } catch { /* the kernel caps it; fine */ }
    sock.on('message', (m, r) => this.onPacket(m, r));
    sock.on('error', (e) => { this.st.error = e.message; });
    this.timer = setInterval(() => this.onTimer(), Math.max(1, Math.min(25, this.gapTimeoutMs >> 2)));
  }

  /** The bound port (useful with port 0). */
  get port(): number { return this.sock ? this.sock.address().port : 0; }

  stats(): FeedReceiverStats {
    this.st.ringOverruns = this.w.overruns;
    this.st.session = this.sessionText;
    return { ...this.st };
  }

  /** Stops receiving, publishes what is written, releases the writer role; returns the final stats. */
  async close(): Promise<FeedReceiverStats> {
    if (this.timer) { clearInterval(this.timer); this.timer = null; }
    const s = this.sock;
    this.sock = null;
    if (s) await new Promise<void>((res) => { try { s.close(() => res()); } catch { res(); } });
    this.w.close();
    return this.stats();
  }

  private isAnswer(r: RemoteInfo): boolean {
    return this.o.requestPort !== undefined && r.port === this.o.requestPort && r.address === this.o.requestAddress;
  }

  private onPacket(msg: Buffer, r: RemoteInfo): void {
    nowNsInto(this.recv, 0);
    const len = msg.byteLength;
    this.st.packets++;
    this.st.batches++;
    this.st.bytes += len;
    if (len > this.pkt.length) { this.st.malformed!++; return; }
    this.pkt.set(msg);
    const dv = this.pdv;
    if (checkPacket(dv, 0, len) !== null) { this.st.malformed!++; return; }
    if (this.session === null) { // lock onto the first session seen
      this.session = this.pkt.slice(0, FEED_SESSION_BYTES);
      this.sessionText = sessionName(this.pkt, 0);
    } else if (!sessionEquals(this.pkt, 0, this.session)) { this.st.otherSession++; return; }
    const seq = dv.getUint32(10) * TWO32 + dv.getUint32(14);
    const count = dv.getUint16(18);
    const answer = this.isAnswer(r);
    if (count === FEED_COUNT_HEARTBEAT) {
      if (answer) {
        // empty answer: nothing before `seq` can be retransmitted
        if (seq > this.expected && this.gapOpen) {
          while (this.expected < seq) this.declareLost(this.nextHeld(this.expected + 1, seq), false);
          this.checkGap();
        }
      } else {
        this.st.heartbeats++;
        this.reveal(seq);
      }
    } else if (count === FEED_COUNT_END) {
      if (this.endSeq < 0) this.endSeq = seq;
      this.reveal(seq);
    } else {
      this.onMessages(seq, count, answer ? RETRANSMITTED : 0);
    }
    this.afterPacket();
  }

  /** The feed says messages below `next` exist. */
  private reveal(next: number): void {
    if (next > this.known) this.known = next;
    this.checkGap();
  }

  private onMessages(first: number, count: number, flags: number): void {
    const dv = this.pdv;
    let p = FEED_PACKET_HEADER;
    let wrote = false;
    for (let i = 0; i < count; i++) {
      const s = first + i;
      const ml = dv.getUint16(p);
      if (s < this.expected) {
        this.st.duplicates++;
      } else if (s === this.expected) {
        if (!wrote) { nowNsInto(this.ringTs, 0); wrote = true; }
        this.write(dv, p + FEED_BLOCK_HEADER, s, flags, this.recv[0]!, this.recv[1]!);
        this.expected++;
        if (flags !== 0) this.st.recovered++;
        this.drain();
      } else {
        while (s - this.expected >= this.H) this.declareLost(this.nextHeld(this.expected + 1, s)); // no room to hold: give up the oldest hole
        if (s === this.expected) { // declareLost may have reached it
          if (!wrote) { nowNsInto(this.ringTs, 0); wrote = true; }
          this.write(dv, p + FEED_BLOCK_HEADER, s, flags, this.recv[0]!, this.recv[1]!);
          this.expected++;
          this.drain();
        } else {
          const k = s % this.H;
          if (this.holdSeq[k] === s) this.st.duplicates++;
          else {
            const h = this.hold;
            const pk = this.pkt;
            for (let b = 0, at = k * SLOT, n = FEED_BLOCK_HEADER + Math.min(ml, MSG_MAX_LENGTH); b < n; b++) h[at + b] = pk[p + b]!;
            this.holdSeq[k] = s;
            this.holdStamp[2 * k] = this.recv[0]!;
            this.holdStamp[2 * k + 1] = this.recv[1]!;
            this.holdFlags[k] = flags;
          }
        }
      }
      p += FEED_BLOCK_HEADER + ml;
    }
    if (first + count > this.known) this.known = first + count;
    this.checkGap();
  }

  /** Closes a gap that was filled (expected moved past it) and opens one (one request) at a new hole. */
  private checkGap(): void {
    if (this.gapOpen && this.expected !== this.gapAt) this.gapOpen = false;
    if (!this.gapOpen && this.expected < this.known) this.openGap();
  }

  /** Writes the message at `p` of `dv` as a ring record with feed sequence `s` (or counts an overrun). */
  private write(dv: DataView, p: number, s: number, flags: number, recvLo: number, recvHi: number): void {
    this.st.lastSeq = s;
    const type = dv.getUint8(p);
    if (MSG_LENGTH[type] === 0) return; // unknown type: skipped (its sequence number is used)
    this.st.messages++;
    const o = this.w.claim();
    if (o < 0) return; // overrun: counted by the writer
    messageToRecord(dv, p, this.ring.dv, o, s, PATH, STAMP, flags, recvLo, recvHi, this.ringTs[0]!, this.ringTs[1]!);
    this.w.commit(s);
  }

  /** Writes held messages that have become contiguous. */
  private drain(): void {
    for (;;) {
      const k = this.expected % this.H;
      if (this.holdSeq[k] !== this.expected) return;
      this.holdSeq[k] = -1;
      if (this.holdFlags[k] !== 0) this.st.recovered++;
      nowNsInto(this.ringTs, 0);
      this.write(this.holdDv, k * SLOT + FEED_BLOCK_HEADER, this.expected, this.holdFlags[k]!, this.holdStamp[2 * k]!, this.holdStamp[2 * k + 1]!);
      this.expected++;
    }
  }

  /** The smallest held sequence in [from, limit), or `limit`. */
  private nextHeld(from: number, limit: number): number {
    for (let s = from; s < limit; s++) if (this.holdSeq[s % this.H] === s) return s;
    return limit;
  }

  private openGap(): void {
    this.gapOpen = true;
    this.gapAt = this.expected;
    this.st.gaps++;
    this.gapDeadline = performance.now() + this.gapTimeoutMs;
    const o = this.o;
    if (o.requestAddress !== undefined && o.requestPort !== undefined && this.sock && this.session) {
      const upto = this.nextHeld(this.expected + 1, Math.min(this.known, this.expected + FEED_MAX_COUNT));
      const n = Math.max(1, Math.min(upto - this.expected, FEED_MAX_COUNT));
      encodeRequest(this.req, this.reqDv, 0, this.session, this.expected, n);
      this.st.requests!++;
      this.sock.send(this.req, 0, 20, o.requestPort, o.requestAddress, () => { /* a lost request ends in a GAP record */ });
    }
  }

  /** Declares the messages in [expected, upto) lost: one GAP record, then what is held after them. */
  private declareLost(upto: number, reopen = true): void {
    const n = upto - this.expected;
    if (n <= 0) return;
    nowNsInto(this.ringTs, 0);
    const o = this.w.claim();
    if (o >= 0) {
      gapRecord(this.ring.dv, o, this.expected, n, PATH, this.ringTs[0]!, this.ringTs[1]!);
      this.w.commit(upto - 1);
      this.w.addGaps(n);
    }
    this.st.unrecovered += n;
    this.st.lastSeq = upto - 1;
    this.expected = upto;
    this.gapOpen = false;
    this.drain();
    if (reopen) this.checkGap();
  }

  private onTimer(): void {
    if (this.gapOpen && performance.now() >= this.gapDeadline) {
      this.declareLost(this.nextHeld(this.expected + 1, this.known));
      this.afterPacket();
    }
  }

  private afterPacket(): void {
    this.w.publish();
    if (!this.st.ended && this.endSeq >= 0 && this.expected >= this.endSeq) {
      this.st.ended = true;
      this.endedResolve?.();
    }
  }
}
