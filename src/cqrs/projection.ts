/**
 * The projection contract: a read model folded from `SeqBatch`es in seq order, with a checkpoint
 * (the last applied seq) and a serializable snapshot.
 *
 * Owns: `Projection`, the checkpoint rule (`Checkpoint.admit`), and the JSON encoding of
 * snapshots (bigints as decimal strings).
 * Invariants: applying a batch with seq ≤ checkpoint changes nothing and returns false, so a
 * catch-up from the journal followed by the live ring never counts a command twice; a batch with a
 * seq above checkpoint + 1 is still applied (commands without events never reach the ring) — the
 * subscription layer (subscriptions.ts) is what guarantees there is no gap.
 * `restore(snapshot())` yields a projection whose snapshot is identical (tested).
 * Complexity/Allocation: per projection. Known limitations: snapshots are JSON (compact enough for
 * read models of up to a few million rows; a binary form can come later).
 */
import type { SeqBatch } from './events.js';
import { TradsysError } from '../domain/errors.js';

export interface Projection<S = unknown> {
  /** Stable name (snapshot files, logs). */
  readonly name: string;
  /** The last applied seq (0n: nothing applied). */
  readonly checkpoint: bigint;
  /** Applies one batch; returns false (and changes nothing) when `b.seq ≤ checkpoint`. */
  apply(b: SeqBatch): boolean;
  /** A JSON-serializable copy of the whole state, checkpoint included. */
  snapshot(): S;
  /** Replaces the state with a snapshot taken by `snapshot()` of the same projection kind. */
  restore(s: S): void;
}

/** Parses a decimal bigint field of a snapshot (throws ERR_CQRS_SNAPSHOT). */
export function big(v: unknown, what: string): bigint {
  if (typeof v !== 'string' || !/^-?\d{1,40}$/.test(v)) throw new TradsysError('ERR_CQRS_SNAPSHOT', `read-model snapshot: ${what} is not an integer string`);
  return BigInt(v);
}

/** A safe non-negative integer field of a snapshot (throws ERR_CQRS_SNAPSHOT). */
export function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new TradsysError('ERR_CQRS_SNAPSHOT', `read-model snapshot: ${what} is not a non-negative integer`);
  return v;
}

export function str(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new TradsysError('ERR_CQRS_SNAPSHOT', `read-model snapshot: ${what} is not a string`);
  return v;
}

export function checkHeader(s: unknown, kind: string, version: number): Record<string, unknown> {
  if (typeof s !== 'object' || s === null) throw new TradsysError('ERR_CQRS_SNAPSHOT', `read-model snapshot of ${kind}: not an object`);
  const o = s as Record<string, unknown>;
  if (o.kind !== kind) throw new TradsysError('ERR_CQRS_SNAPSHOT', `read-model snapshot: kind ${String(o.kind)}, expected ${kind}`);
  if (o.version !== version) throw new TradsysError('ERR_CQRS_SNAPSHOT', `read-model snapshot of ${kind}: version ${String(o.version)}, this build reads ${version}`);
  return o;
}
