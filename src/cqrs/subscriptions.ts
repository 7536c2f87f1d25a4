/**
 * Subscriptions over the event store: `catchUpThenLive` (journal records from a seq, then the live
 * stream, stitched by seq without gap or duplicate) and `replayAccountReports` (one account's
 * execution reports after the last seq a client saw, for a WebSocket resume).
 *
 * Owns: the stitching rule and the resume replay.
 * Stitching: subscribe to the live feed first and buffer; read the journal from `fromSeq`; then
 * drain the buffer dropping every batch with seq ≤ the last one yielded; when a live batch is
 * ahead of last + 1, read the missing seqs from the journal first (the engine publishes a batch
 * only after its journal commit, so they are there). Hence the consumer sees seq strictly
 * increasing and every journaled seq ≥ fromSeq exactly once.
 * Invariants: bounded buffer (`maxBuffered` batches; past it ERR_CQRS_LAGGED, the subscriber
 * must start again from its last seq); the live listener is removed when the consumer stops.
 * Complexity: O(records) for the catch-up, O(1) per live batch.
 * Allocation: per batch. Known limitations: one journal read per gap (rare: only the switch-over).
 */
import { TradsysError } from '../domain/errors.js';
import type { Instrument } from '../domain/instruments.js';
import { ENUMS } from '../abi/records.js';
import { isAdminId } from '../domain/ids.js';
import type { SeqBatch } from './events.js';
import { readBatches } from './journal-reader.js';
import type { OrdersProjection } from './orders.js';
import { reportsOf, type ExecutionReport } from './reports.js';

/** A source of live batches (ReadModels.onBatch, or the gateway's ring pump). */
export interface LiveFeed {
  subscribe(listener: (b: SeqBatch) => void): () => void;
}

export interface CatchUpOptions {
  /** The last durable seq when the catch-up starts (e.g. the engine's lastSeq); default: every complete record. */
  toSeq?: bigint;
  /** Live batches buffered while the consumer is behind (default 100,000). */
  maxBuffered?: number;
  /** Ends the subscription (the generator returns at its next wait). */
  signal?: AbortSignal;
}

/** Journal batches with seq ≥ fromSeq, then live ones, each seq once, strictly increasing. */
export async function* catchUpThenLive(journalDir: string, fromSeq: bigint, live: LiveFeed, opts: CatchUpOptions = {}): AsyncGenerator<SeqBatch> {
  const max = opts.maxBuffered ?? 100_000;
  let queue: SeqBatch[] = [];
  let head = 0;
  let overflow = false;
  let wake: (() => void) | null = null;
  const unsubscribe = live.subscribe((b) => {
    if (queue.length - head >= max) overflow = true;
    else queue.push(b);
    const w = wake;
    wake = null;
    w?.();
  });
  const onAbort = (): void => { const w = wake; wake = null; w?.(); };
  opts.signal?.addEventListener('abort', onAbort);
  try {
    let last = fromSeq - 1n;
    for (const b of readBatches(journalDir, fromSeq, opts.toSeq)) {
      yield b;
      last = b.seq;
    }
    for (;;) {
      if (overflow) throw new TradsysError('ERR_CQRS_LAGGED', `subscription fell more than ${max} commands behind the live stream at seq ${last}; subscribe again from ${last + 1n}`);
      if (head === queue.length) {
        if (opts.signal?.aborted) return;
        queue = [];
        head = 0;
        await new Promise<void>((r) => { wake = r; });
        continue;
      }
      const b = queue[head++]!;
      if (b.seq <= last) continue;
      if (b.seq > last + 1n) {
        for (const g of readBatches(journalDir, last + 1n, b.seq - 1n)) {
          yield g;
          last = g.seq;
        }
      }
      yield b;
      last = b.seq;
    }
  } finally {
    unsubscribe();
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

export interface ReplayOptions {
  /** Stop after this seq (default: every complete record). */
  toSeq?: bigint;
  /** clientOrderIds and owners of orders older than the replayed range (the live orders projection);
   * without it the journal is scanned from seq 1 to learn them. */
  orders?: Pick<OrdersProjection, 'get'>;
  /** At most about this many reports (whole commands; default 10,000); `complete` says whether all came. */
  maxReports?: number;
}

export interface ReplayResult {
  reports: ExecutionReport[];
  /** The last seq replayed (resume again from here when `complete` is false). */
  lastSeq: bigint;
  complete: boolean;
}

/** `account`'s execution reports for seq > afterSeq, from the journal, in order. */
export function replayAccountReports(journalDir: string, account: number, afterSeq: bigint, instruments: readonly Instrument[], opts: ReplayOptions = {}): ReplayResult {
  const max = opts.maxReports ?? 10_000;
  // id → owner and clientOrderId: new orders seen here, else the caller's projection
  const seen = new Map<bigint, { account: number; clientOrderId: string }>();
  const learn = (b: SeqBatch): void => {
    if (b.op !== ENUMS.Op.NEW) return;
    const e = b.events[0];
    if (e && !isAdminId(e.id) && (e.type === 'A' || (e.type === 'R' && e.reason !== ENUMS.Reason.DUPLICATE_ID))) seen.set(e.id, { account: e.account, clientOrderId: b.clientOrderId ?? '' });
  };
  const ext = opts.orders;
  const lookup = { order: (id: bigint) => seen.get(id) ?? ext?.get(id) };
  const from = ext ? afterSeq + 1n : 1n;
  const reports: ExecutionReport[] = [];
  let lastSeq = afterSeq;
  for (const b of readBatches(journalDir, from, opts.toSeq)) {
    learn(b);
    if (b.seq <= afterSeq) continue;
    for (const r of reportsOf(b, instruments, lookup)) if (r.account === account) reports.push(r.report);
    lastSeq = b.seq;
    if (reports.length >= max) return { reports, lastSeq, complete: false };
  }
  return { reports, lastSeq, complete: true };
}
