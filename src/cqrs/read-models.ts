/**
 * The gateway's read models in one place: orders, fills and positions, fed from the journal at
 * start (`catchUp`) and from the event ring afterwards (`onRingSlot`), persisted and resumed as
 * one snapshot file.
 *
 * Owns: `ReadModels`, the snapshot file `<dir>/readmodels.json` format (kind "readmodels", v1:
 * the three projection snapshots) and its atomic write (tmp + fsync + rename + dir fsync).
 * Invariants: the orders projection is applied before fills (fills take clientOrderIds from it);
 * each projection keeps its own checkpoint, so a batch the journal catch-up already applied is a
 * no-op when it arrives again from the ring.
 * Complexity: O(events) per batch. Allocation: per batch (read side, main thread).
 * Known limitations: the snapshot is JSON, written whole.
 */
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { TradsysError } from '../domain/errors.js';
import { RingAssembler, type ClientOrderIdResolver, type SeqBatch } from './events.js';
import { FillsProjection, type FillsSnapshot } from './fills.js';
import { readBatches } from './journal-reader.js';
import { OrdersProjection, type OrdersSnapshot } from './orders.js';
import { PositionsProjection, type PositionsSnapshot } from './positions.js';
import { checkHeader } from './projection.js';

export interface ReadModelsSnapshot { kind: 'readmodels'; version: 1; orders: OrdersSnapshot; fills: FillsSnapshot; positions: PositionsSnapshot }

export interface ReadModelsOptions {
  /** Finished orders kept (default 1,000,000). */
  keepFinishedOrders?: number;
  /** Fills kept per account (default 100,000). */
  keepFillsPerAccount?: number;
  /** clientOrderIds of live ring events (the ring does not carry them): the gateway's registry. */
  clientOrderIdOf?: ClientOrderIdResolver;
}

export class ReadModels {
  readonly orders: OrdersProjection;
  readonly fills: FillsProjection;
  readonly positions: PositionsProjection;
  private readonly assembler: RingAssembler;
  private readonly listeners: ((b: SeqBatch) => void)[] = [];

  constructor(opts: ReadModelsOptions = {}) {
    this.orders = new OrdersProjection(opts.keepFinishedOrders);
    this.fills = new FillsProjection((id) => this.orders.get(id)?.clientOrderId, opts.keepFillsPerAccount);
    this.positions = new PositionsProjection();
    const resolve = opts.clientOrderIdOf;
    // on the ring, an order this projection already knows names its own clientOrderId
    this.assembler = new RingAssembler((id, account) => resolve?.(id, account) ?? this.orders.find(account, id)?.clientOrderId);
  }

  /** The lowest checkpoint of the three (catch up from here + 1). */
  get checkpoint(): bigint {
    const a = this.orders.checkpoint;
    const b = this.fills.checkpoint;
    const c = this.positions.checkpoint;
    return a < b ? (a < c ? a : c) : b < c ? b : c;
  }

  /** Applies one batch to every projection (each skips it if already applied). Returns whether any applied it. */
  apply(b: SeqBatch): boolean {
    const o = this.orders.apply(b);
    const f = this.fills.apply(b);
    const p = this.positions.apply(b);
    if (o || f || p) for (const l of this.listeners) l(b);
    return o || f || p;
  }

  /** Feeds one RING_EVT slot (the gateway's pump); applies the batch when the slot ends its command. */
  onRingSlot(dv: DataView, offset: number): SeqBatch | null {
    const b = this.assembler.push(dv, offset);
    if (b) this.apply(b);
    return b;
  }

  /** Calls `f` with every batch applied from now on (e.g. the saga manager). Returns an unsubscribe. */
  onBatch(f: (b: SeqBatch) => void): () => void {
    this.listeners.push(f);
    return () => { const i = this.listeners.indexOf(f); if (i >= 0) this.listeners.splice(i, 1); };
  }

  /** Applies the journal's records from `from` (default: after the lowest checkpoint) through `to`. Returns records applied. */
  catchUp(journalDir: string, from?: bigint, to?: bigint): number {
    let n = 0;
    for (const b of readBatches(journalDir, from ?? this.checkpoint + 1n, to)) if (this.apply(b)) n++;
    return n;
  }

  snapshot(): ReadModelsSnapshot {
    return { kind: 'readmodels', version: 1, orders: this.orders.snapshot(), fills: this.fills.snapshot(), positions: this.positions.snapshot() };
  }

  /** Replaces the state (on failure the instance is half restored: build a fresh one and catch up). */
  restore(s: ReadModelsSnapshot): void {
    checkHeader(s, 'readmodels', 1);
    try {
      this.orders.restore(s.orders);
      this.fills.restore(s.fills);
      this.positions.restore(s.positions);
    } catch (e) {
      if (e instanceof TradsysError) throw e;
      throw new TradsysError('ERR_CQRS_SNAPSHOT', `read-model snapshot is malformed: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Writes the snapshot atomically to `file` (allocates the JSON text). */
  save(file: string): void {
    const text = JSON.stringify(this.snapshot());
    fs.mkdirSync(dirname(file), { recursive: true });
    const tmp = file + '.tmp';
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, text);
      fs.fsyncSync(fd);
    } finally { fs.closeSync(fd); }
    fs.renameSync(tmp, file);
    const d = fs.openSync(dirname(file), 'r');
    try { fs.fsyncSync(d); } finally { fs.closeSync(d); }
  }

  /** Restores from `file`; false when there is none. A damaged file is ERR_CQRS_SNAPSHOT (delete it to rebuild from the journal). */
  load(file: string): boolean {
    if (!fs.existsSync(file)) return false;
    let s: unknown;
    try { s = JSON.parse(fs.readFileSync(file, 'utf8')); } catch (e) {
      throw new TradsysError('ERR_CQRS_SNAPSHOT', `read-model snapshot ${file} is not valid JSON (${(e as Error).message}); delete it to rebuild from the journal`);
    }
    this.restore(s as ReadModelsSnapshot);
    return true;
  }
}

/** The default snapshot file of a data directory. */
export function readModelsFile(dataDir: string): string { return join(dataDir, 'readmodels.json'); }
