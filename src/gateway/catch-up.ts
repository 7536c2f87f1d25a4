/**
 * Journal catch-up: at start, the gateway's read side (orders with their clientOrderIds, book,
 * recent trades, halts, read models) rebuilt from the journal; after a reconnect, a client's
 * private stream resumed from the journal (`resume`: no gap, no duplicate).
 *
 * Layout: reads `<dataDir>/journal` through src/journal/recovery.ts (readRecords) and
 * src/cqrs (replayAccountReports); replayed events go through EventPump.replay, the live path.
 * Invariants: catch-up runs before any client connects; the registry gets gateway order ids only
 * (saga legs from 2^51 and ADMIN commands from 2^52 are not its); a resume sends the reports with
 * seq in (from, checkpoint] from the journal, then lists the connection for live reports (the
 * gateway is single-threaded: the pump is drained first).
 * Complexity: catch-up O(journal records after 0); resume bounded to 10 × 10,000 reports.
 * Allocation: per record (its clientOrderId string, the read models' events); per report.
 * Known limitations: a longer absence than the resume bound is read back over HTTP (orders, fills).
 */
import { CMD_OFF, ENUMS, RING_CMD_OFF } from '../abi/records.js';
import { readRecords } from '../journal/recovery.js';
import { decodeRecord, replayAccountReports, type ReadModels } from '../cqrs/index.js';
import { SAGA_ID_BASE_NUM } from '../domain/ids.js';
import type { Instrument } from '../domain/instruments.js';
import { withReq, type Conn, type Connections } from './connections.js';
import type { EventPump } from './event-pump.js';
import type { OrderRegistry } from './orders.js';

export class CatchUp {
  constructor(
    private readonly journalDir: string,
    private readonly readModels: ReadModels,
    private readonly orders: OrderRegistry,
    private readonly instruments: Instrument[],
    private readonly events: EventPump,
    private readonly conns: Connections,
  ) {}

  /**
   * Rebuilds the gateway's read side from the journal records 1..lastSeq, before any client
   * connects: the same code path as live events, with no connection to send to. The read models
   * take the records after their snapshot's checkpoint in the same pass.
   */
  fromJournal(lastSeq: bigint): void {
    if (lastSeq === 0n) return;
    const touched = new Set<number>();
    const rmFrom = this.readModels.checkpoint;
    for (const r of readRecords(this.journalDir, 1n, lastSeq)) {
      if (r.seq > rmFrom) this.readModels.apply(decodeRecord(r)); // one pass for both read sides
      const c = new DataView(r.cmd.buffer, r.cmd.byteOffset, r.cmd.byteLength);
      const op = c.getUint8(CMD_OFF.op);
      const id = Number(c.getBigUint64(CMD_OFF.id, true));
      // gateway order ids only: saga legs (from 2^51) and ADMIN commands (from 2^52) are not the registry's
      if (op === ENUMS.Op.NEW && id < SAGA_ID_BASE_NUM && this.orders.slotOf(id) < 0) {
        const n = r.cmd[RING_CMD_OFF.cidLen]!;
        let cid = '';
        for (let i = 0; i < n; i++) cid += String.fromCharCode(r.cmd[RING_CMD_OFF.cid0 + i]!);
        this.orders.restore({
          orderId: id, account: c.getUint32(CMD_OFF.account, true), clientOrderId: cid, symbol: c.getUint32(CMD_OFF.symbol, true),
          side: c.getUint8(CMD_OFF.side), price: c.getBigInt64(CMD_OFF.price, true), qty: c.getUint32(CMD_OFF.qty, true), conn: 0,
        });
      }
      this.events.replay(r, touched);
    }
    this.events.endReplay(touched);
  }

  /**
   * Private-stream resume after a reconnect: the account's execution reports with seq in
   * (from, now] from the journal, then live ones on this connection — no gap, no duplicate (the
   * pump is drained first, and live reports after `now` come through the pump, routed here by
   * moving the account's live orders to this connection).
   */
  resume(c: Conn, account: number, from: bigint, reqId: unknown): void {
    this.events.pump();
    const to = this.readModels.checkpoint;
    let after = from;
    let complete = true;
    // bounded (10 × 10,000 reports): a longer absence is read back over HTTP (orders, fills)
    for (let round = 0; round < 10 && after < to; round++) {
      const r = replayAccountReports(this.journalDir, account, after, this.instruments, { toSeq: to, orders: this.readModels.orders, maxReports: 10_000 });
      for (const rep of r.reports) this.conns.send(c, rep as unknown as Record<string, unknown>);
      if (r.lastSeq <= after) break;
      after = r.lastSeq;
      complete = r.complete;
      if (complete) break;
    }
    this.conns.bind(c); // live reports from here on: the pump above delivered nothing to it, the journal the rest
    for (const s of this.orders.openSlots(account)) this.orders.conn[s] = c.id;
    this.conns.send(c, withReq({ type: 'resumed', from: Number(from) + 1, to: Number(to), complete: complete && after >= to }, reqId));
  }
}
