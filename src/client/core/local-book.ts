/**
 * A local order book kept from the server's book snapshot + deltas (docs/protocol.md "Book
 * channel"), with gap detection and checksum verification; on either failure it asks for a fresh
 * snapshot through the `resync` callback and ignores deltas until it arrives. Browser-safe.
 *
 * Layout: two maps price text → qty text (bids, asks); `seq` is the last sequence applied.
 * Invariants: while `synced`, the book equals the server's after each delta (the delta's
 * `first` is seq + 1 and the CRC-32 of the top 10 levels, "p:q,…|p:q,…" in ASCII, equals its
 * `checksum`); otherwise `synced` is false and a resync was requested (`resyncs` counts them).
 * Complexity: a delta O(levels changed) plus the checksum's sort O(L log L) over the side's L
 * levels. Allocation: per delta (the sorted level lists and the checksum text).
 * Known limitations: prices are compared as JS numbers for the sort (exact for the decimal texts
 * the server sends up to 2^53).
 */
import { crc32 } from '../../sys/crc32.js';
import type { Msg } from './types.js';

/** The bytes of an ASCII text (the low byte of each UTF-16 unit, as Node's 'ascii'/'latin1'). */
function asciiBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

export class LocalBook {
  readonly bids = new Map<string, string>();
  readonly asks = new Map<string, string>();
  seq = -1;
  resyncs = 0;
  synced = false;
  /** Test hook: drop the next delta as if the network lost it. */
  dropNext = false;

  constructor(readonly symbol: string, private readonly resync: () => void) {}

  /** Best `n` levels as [price, qty] strings, best first. */
  levels(side: 'bids' | 'asks', n = 10): [string, string][] {
    const m = side === 'bids' ? this.bids : this.asks;
    return [...m.entries()].sort((a, b) => (side === 'bids' ? Number(b[0]) - Number(a[0]) : Number(a[0]) - Number(b[0]))).slice(0, n);
  }

  checksum(): number {
    const t = (side: 'bids' | 'asks'): string => this.levels(side, 10).map(([p, q]) => `${p}:${q}`).join(',');
    return crc32(asciiBytes(`${t('bids')}|${t('asks')}`));
  }

  onSnapshot(m: Msg): void {
    this.bids.clear();
    this.asks.clear();
    for (const [p, q] of m.bids as [string, string][]) this.bids.set(p, q);
    for (const [p, q] of m.asks as [string, string][]) this.asks.set(p, q);
    this.seq = m.seq as number;
    this.synced = true;
  }

  onDelta(m: Msg): void {
    if (!this.synced) return;
    if (this.dropNext) { this.dropNext = false; return; }
    if ((m.first as number) !== this.seq + 1) { this.restart(); return; }
    for (const [side, map] of [['bids', this.bids], ['asks', this.asks]] as const) {
      for (const [p, q] of m[side] as [string, string][]) { if (Number(q) === 0) map.delete(p); else map.set(p, q); }
    }
    this.seq = m.last as number;
    if (this.checksum() !== m.checksum) this.restart();
  }

  private restart(): void {
    this.synced = false;
    this.resyncs++;
    this.resync();
  }
}
