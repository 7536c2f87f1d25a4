/**
 * Binary market data, encoded once per pump cycle and sent to every subscriber without
 * re-encoding: the cycle's log of market-data messages, and the frames built from it per
 * subscription pattern and shared by every binary connection with that pattern.
 *
 * Layout: `log` (a BinaryWriter used as a byte log: every trade, ticker, book delta or snapshot
 * of the cycle, encoded once, in publish order) with per entry its channel (`CH_*`), instrument
 * and byte range; `pairs` (the distinct channel × instrument pairs of the cycle, ≤ 30, each a bit
 * of a connection's pattern mask); `cycle` (the log's generation). Per binary connection
 * (`Conn.mdCycle`, `Conn.mdUpTo`): whether it went private during this cycle and how many entries
 * it has already copied.
 * Invariants: every binary connection gets every entry of its subscriptions exactly once and in
 * log order, interleaved with what else it is sent exactly as if each entry had been written into
 * its own frame when published: a connection that is sent anything else during the cycle
 * (a report, a snapshot, an error: Connections.out) first copies the entries it has not yet got
 * (`catchUp`) and stays private for the rest of the cycle; one that skips an entry (slow consumer:
 * a delta past the soft limit, or a resync snapshot instead of it) catches up, then marks it
 * consumed (`skipLast`). At the end of the cycle (`flush`, from Connections.flushAll) private
 * connections copy the rest into their own frame; every other connection is sent the frames built
 * once for its mask (same size budget per frame as Connections.out: `binaryFrameBytes`).
 * Complexity: O(1) per published message; O(connections × pairs) per cycle to find the masks, plus
 * O(bytes) per distinct mask and O(entries) per private connection.
 * Allocation: after warm-up none per message; per cycle one Buffer per frame per distinct
 * subscription mask (shared by every connection with it, its WebSocket header included:
 * Connections.frameOf), no Map or array per cycle (pairs found by a scan of ≤ 30, masks' Map keys
 * deleted one by one: `Map.clear` would allocate a new table every cycle).
 * Known limitations: more than 30 distinct channel × instrument pairs in one cycle make every
 * connection private for that cycle (correct, one copy per connection, as before this module).
 */
import { BinaryWriter } from '../codec/binary-protocol.js';
import type { Conn, Connections } from './connections.js';

export const CH_BOOK = 0;
export const CH_TRADES = 1;
export const CH_TICKER = 2;

/** A cycle's log holds at most this many messages (a frame's count is a u16); past it the cycle is flushed early. */
const MAX_ENTRIES = 60_000;
const MAX_PAIRS = 30;

export class MdFanout {
  /** The cycle's messages, encoded once (its frame header is never used). */
  readonly log = new BinaryWriter(64 * 1024);
  private ch: number[] = [];
  private sym: number[] = [];
  private start: number[] = [];
  private end: number[] = [];
  /** Per entry, the bit of its channel × instrument pair (-1 past MAX_PAIRS). */
  private bit: number[] = [];
  /** Entries in the log this cycle. */
  private n = 0;
  /** The cycle's distinct channel × instrument pairs (bit b: pairCh[b], pairSym[b]), ≤ MAX_PAIRS: found by a linear scan. */
  private readonly pairCh: number[] = [];
  private readonly pairSym: number[] = [];
  private nPairs = 0;
  private overflow = false;
  /** Generation of the log; a Conn with mdCycle === cycle went private this cycle. */
  private cycle = 1;
  /** The cycle's distinct masks → their slot in `frameSets` (keys deleted one by one at the end: Map.clear allocates a new table). */
  private readonly maskSlot = new Map<number, number>();
  private readonly masks: number[] = [];
  /** Distinct masks this cycle (`masks` keeps its length: an array set to length 0 drops its backing store). */
  private nMasks = 0;
  /** Per slot, the frames built for its mask (reused arrays) and how many. */
  private readonly frameSets: Buffer[][] = [];
  private readonly frameCount: number[] = [];
  private readonly builder = new BinaryWriter(64 * 1024);

  constructor(private readonly conns: Connections, private readonly frameBytes: number) {
    conns.setMarketDataHooks((c) => this.catchUp(c), () => this.flush());
  }

  /** Starts a message of the log; write it with `log`'s typed method, then `commit`. Returns the mark. */
  begin(): number {
    if (this.n >= MAX_ENTRIES) this.conns.flushAll();
    return this.log.mark;
  }

  /** The message written since `mark` is the log's next entry, on channel `ch` of `instrument`. */
  commit(mark: number, ch: number, instrument: number): void {
    const i = this.n++;
    this.ch[i] = ch;
    this.sym[i] = instrument;
    this.start[i] = mark;
    this.end[i] = this.log.mark;
    let b = 0;
    while (b < this.nPairs && (this.pairCh[b] !== ch || this.pairSym[b] !== instrument)) b++;
    if (b === this.nPairs) {
      if (b >= MAX_PAIRS) { this.overflow = true; b = -1; } else { this.pairCh[b] = ch; this.pairSym[b] = instrument; this.nPairs++; }
    }
    this.bit[i] = b;
  }

  /** The bytes of the last entry (a view, valid until the log is reset). */
  last(): Uint8Array { return this.log.bytes(this.start[this.n - 1]!, this.end[this.n - 1]!); }

  /** A connection skips the last entry (slow consumer or resync): it catches up to it, and it counts as consumed. */
  skipLast(c: Conn): void {
    const last = this.n - 1;
    this.copy(c, last);
    c.mdUpTo = this.n;
  }

  /** Connections.out's hook: `c` is about to be sent something of its own; it first gets the entries it has not got. */
  private catchUp(c: Conn): void { this.copy(c, this.n); }

  /** Copies entries [c.mdUpTo, upTo) of c's subscriptions into c's own frame; c is private for the rest of the cycle. */
  private copy(c: Conn, upTo: number): void {
    if (c.mdCycle !== this.cycle) { c.mdCycle = this.cycle; c.mdUpTo = 0; }
    const from = c.mdUpTo;
    c.mdUpTo = upTo > from ? upTo : from;
    for (let i = from; i < upTo; i++) {
      if (!subscribed(c, this.ch[i]!, this.sym[i]!)) continue;
      const w = c.bin!;
      if (w.size >= this.frameBytes) this.conns.flush(c);
      w.appendFrom(this.log, this.start[i]!, this.end[i]!);
      this.conns.markDirty(c);
    }
  }

  /** End of the cycle (before Connections sends the private frames): shared frames per mask, private catch-up, reset. */
  private flush(): void {
    if (this.n === 0) { this.cycle++; return; }
    const n = this.n;
    for (const c of this.conns.binaryConnections()) {
      if (c.mdCycle === this.cycle || this.overflow) { this.copy(c, n); continue; }
      let mask = 0;
      for (let b = 0; b < this.nPairs; b++) if (subscribed(c, this.pairCh[b]!, this.pairSym[b]!)) mask |= 1 << b;
      if (mask === 0) continue;
      let slot = this.maskSlot.get(mask);
      if (slot === undefined) { slot = this.nMasks++; this.masks[slot] = mask; this.maskSlot.set(mask, slot); this.build(mask, slot); }
      const fs = this.frameSets[slot]!;
      const k = this.frameCount[slot]!;
      for (let j = 0; j < k; j++) this.conns.sendFrame(c, fs[j]!);
    }
    // reset: nothing of this cycle is kept (the frames belong to the sockets now)
    for (let m = 0; m < this.nMasks; m++) {
      this.maskSlot.delete(this.masks[m]!);
      const fs = this.frameSets[m]!;
      for (let j = 0; j < this.frameCount[m]!; j++) fs[j] = EMPTY;
    }
    this.nMasks = 0;
    this.n = 0;
    this.log.reset();
    this.nPairs = 0;
    this.overflow = false;
    this.cycle++;
  }

  /** The frames of the entries whose pair is in `mask` into `frameSets[slot]` (split at the frame size budget, as Connections.out does). */
  private build(mask: number, slot: number): void {
    const w = this.builder;
    const out = this.frameSets[slot] ?? (this.frameSets[slot] = []);
    let k = 0;
    for (let i = 0; i < this.n; i++) {
      if ((mask & (1 << this.bit[i]!)) === 0) continue;
      if (w.size >= this.frameBytes) out[k++] = this.conns.frameOf(w);
      w.appendFrom(this.log, this.start[i]!, this.end[i]!);
    }
    if (w.size > 0) out[k++] = this.conns.frameOf(w);
    this.frameCount[slot] = k;
  }
}

const EMPTY = Buffer.alloc(0);

function subscribed(c: Conn, ch: number, instrument: number): boolean {
  return (ch === CH_BOOK ? c.books : ch === CH_TRADES ? c.trades : c.tickers).has(instrument);
}
