/**
 * The CQRS event shape: one decoder from a journal record (catch-up) and one from RING_EVT slots
 * (live), both producing the same `SeqBatch` — a sequenced command with all its events — so that
 * projections, subscriptions and sagas consume the journal and the live ring identically.
 *
 * Owns: `SeqBatch`, `CqrsEvent`, `CommandInfo` (`commandInfo`), `decodeRecord`, `decodeRingEvent` and the
 * `RingAssembler` that groups ring slots into batches.
 * Layout: the inputs are journal records (src/abi/views.ts readJournalRecord) (RING_CMD 96 B + n × EVT 64 B) and
 * RING_EVT slots (96 B: seq, tsInit, origin, token, tsIn, EVT at +32); src/abi/records.ts.
 * Invariants: a batch holds exactly the events of one seq, in engine order, and the last one has
 * the LAST flag (journal: by construction; ring: the assembler emits on the LAST flag only).
 * The journal knows the whole command (`command`, `op`, `clientOrderId`); the ring carries neither
 * the op nor the clientOrderId, so `op` is inferred from the first event where that is
 * unambiguous (A → NEW, M → MODIFY, X → CANCEL, K or an id ≥ 2^52 → ADMIN, R → 0 = unknown)
 * and `clientOrderId` comes from an optional resolver (the gateway's order registry).
 * Complexity: O(events). Allocation: one object per event and per batch (read side, never the
 * engine thread); BigInts only for non-zero 64-bit fields (a zero maker, tradeId or price is the
 * shared `0n`); the ring assembler reads seq and tsInit as BigInts once per command and collects
 * events in a reused array, giving each batch an exact-size copy (issue 15: ~270 B per one-event
 * command: the event, the batch, its array, and the id/price/seq/tsInit BigInts).
 * Known limitations: prices are i64 ticks as bigint; quantities u32 lots as numbers; the
 * assembler tells seqs apart as numbers, exact below 2^53.
 */
import { CMD_OFF, ENUMS, EVT_SIZE, RING_CMD_OFF, RING_CMD_CID_MAX } from '../abi/records.js';
import {
  evtAccount, evtFlags, evtIdBig, evtLeaves, evtMaker, evtMakerAccount, evtMakerBig, evtMakerLeaves, evtPrice, evtPriceBig, evtQty, evtReason,
  evtSide, evtSymbol, evtTradeId, evtTradeIdBig, evtType, slotEvt, slotSeq, slotSeqBig, slotTsInit,
} from '../abi/views.js';
import { isAdminId } from '../domain/ids.js';
import type { EventType } from '../domain/types.js';
import type { JournalRecord } from '../journal/format.js';

/** One engine event (EVT record) in object form. */
export interface CqrsEvent {
  type: EventType;
  /** Reason code (R; X by self-trade prevention); 0 otherwise. */
  reason: number;
  /** Self-trade prevention cancel (flag bit 1). */
  stp: boolean;
  /** Last event of its command (flag bit 0). */
  last: boolean;
  /** Side of `id` (the taker's for T). */
  side: number;
  symbol: number;
  /** Subject order (taker for T). */
  id: bigint;
  maker: bigint;
  /** T: trade price (the maker's); M: new price; A: order price (0 for market). */
  price: bigint;
  /** T: fill; X: quantity removed; M: new leaves; A: order qty. */
  qty: number;
  leaves: number;
  makerLeaves: number;
  account: number;
  makerAccount: number;
  tradeId: bigint;
}

/** The sequenced command as journaled (RING_CMD). */
export interface CommandInfo {
  op: number;
  side: number;
  type: number;
  tif: number;
  symbol: number;
  id: bigint;
  price: bigint;
  qty: number;
  account: number;
  origin: number;
  token: number;
  tsIn: bigint;
  clientOrderId: string;
}

/** One sequenced command with its events. */
export interface SeqBatch {
  seq: bigint;
  tsInit: bigint;
  /** The op (ENUMS.Op) when known; 0 when the ring could not tell (a lone R). */
  op: number;
  /** The command's clientOrderId ('' when it had none), or null when unknown (ring, no resolver). */
  clientOrderId: string | null;
  /** The whole command: journal only (null from the ring). */
  command: CommandInfo | null;
  events: CqrsEvent[];
}

const TYPES: Record<number, EventType> = { 65: 'A', 82: 'R', 84: 'T', 88: 'X', 77: 'M', 75: 'K' };

function kindOf(code: number): EventType {
  const k = TYPES[code];
  if (k === undefined) throw new RangeError(`unknown event type ${code}`);
  return k;
}

/** The EVT record at byte `p` of `dv`. */
export function decodeEvt(dv: DataView, p: number): CqrsEvent {
  const flags = evtFlags(dv, p);
  return {
    type: kindOf(evtType(dv, p)),
    reason: evtReason(dv, p),
    stp: (flags & ENUMS.EvtFlag.STP) !== 0,
    last: (flags & ENUMS.EvtFlag.LAST) !== 0,
    side: evtSide(dv, p),
    symbol: evtSymbol(dv, p),
    id: evtIdBig(dv, p),
    // a 0 field (maker and tradeId of all but T) is the one shared 0n, not a new BigInt
    maker: evtMaker(dv, p) === 0 ? 0n : evtMakerBig(dv, p),
    price: evtPrice(dv, p) === 0 ? 0n : evtPriceBig(dv, p),
    qty: evtQty(dv, p),
    leaves: evtLeaves(dv, p),
    makerLeaves: evtMakerLeaves(dv, p),
    account: evtAccount(dv, p),
    makerAccount: evtMakerAccount(dv, p),
    tradeId: evtTradeId(dv, p) === 0 ? 0n : evtTradeIdBig(dv, p),
  };
}

/** The clientOrderId carried by RING_CMD bytes (cidLen at 48, ASCII at 56..95). */
export function readClientOrderId(cmd: Uint8Array): string {
  const n = Math.min(cmd[RING_CMD_OFF.cidLen] ?? 0, RING_CMD_CID_MAX);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(cmd[RING_CMD_OFF.cid0 + i]! & 0x7f);
  return s;
}

/**
 * The journaled command of RING_CMD bytes, as a `CommandInfo` (not engine/engine.ts
 * `decodeCommand`, which reads a 32-byte CMD record into an engine `Command`). Allocates.
 */
export function commandInfo(cmd: Uint8Array): CommandInfo {
  const dv = new DataView(cmd.buffer, cmd.byteOffset, cmd.byteLength);
  return {
    op: dv.getUint8(CMD_OFF.op), side: dv.getUint8(CMD_OFF.side), type: dv.getUint8(CMD_OFF.type), tif: dv.getUint8(CMD_OFF.tif),
    symbol: dv.getUint32(CMD_OFF.symbol, true), id: dv.getBigUint64(CMD_OFF.id, true), price: dv.getBigInt64(CMD_OFF.price, true),
    qty: dv.getUint32(CMD_OFF.qty, true), account: dv.getUint32(CMD_OFF.account, true),
    origin: dv.getUint32(RING_CMD_OFF.origin, true), token: dv.getUint32(RING_CMD_OFF.token, true), tsIn: dv.getBigInt64(RING_CMD_OFF.tsIn, true),
    clientOrderId: readClientOrderId(cmd),
  };
}

/** A journal record as a batch (allocates; the record's bytes are not kept). */
export function decodeRecord(r: JournalRecord): SeqBatch {
  const command = commandInfo(r.cmd);
  const dv = new DataView(r.events.buffer, r.events.byteOffset, r.events.byteLength);
  const events: CqrsEvent[] = new Array(r.nEvents);
  for (let i = 0; i < r.nEvents; i++) events[i] = decodeEvt(dv, i * EVT_SIZE);
  return { seq: r.seq, tsInit: r.tsInit, op: command.op, clientOrderId: command.clientOrderId, command, events };
}

/** The RING_EVT slot at byte `p`: its seq, tsInit and event. */
export function decodeRingEvent(dv: DataView, p: number): { seq: bigint; tsInit: bigint; event: CqrsEvent } {
  return { seq: slotSeqBig(dv, p), tsInit: slotTsInit(dv, p), event: decodeEvt(dv, slotEvt(p)) };
}

/** The op a batch's first event implies (0 when it cannot tell: a lone R of a non-admin id). */
export function inferOp(first: CqrsEvent): number {
  if (first.type === 'K' || isAdminId(first.id)) return ENUMS.Op.ADMIN;
  switch (first.type) {
    case 'A': return ENUMS.Op.NEW;
    case 'M': return ENUMS.Op.MODIFY;
    case 'X': return ENUMS.Op.CANCEL;
    default: return 0;
  }
}

/** Looks up the clientOrderId of a new order's id on the live path (e.g. the gateway's registry). */
export type ClientOrderIdResolver = (orderId: bigint, account: number) => string | undefined;

/**
 * Groups live RING_EVT slots into batches: events of one seq are consecutive on the ring and the
 * last carries the LAST flag, but one poll may end in the middle of a command.
 * Allocation: the events of the command in progress.
 */
export class RingAssembler {
  private seq = -1n;
  /** `seq` as a number (exact below 2^53), to tell a new seq without reading a BigInt. */
  private seqNum = -1;
  private tsInit = 0n;
  /**
   * The events of the command in progress: the first `n` of a reused array (never truncated, as
   * `length = 0` would drop its backing store); each batch gets its own exact-size copy.
   */
  private readonly events: CqrsEvent[] = [];
  private n = 0;

  constructor(private readonly resolve?: ClientOrderIdResolver) {}

  /** Adds the slot at byte `p`; returns the completed batch when the slot ends its command. */
  push(dv: DataView, p: number): SeqBatch | null {
    const n = slotSeq(dv, p);
    if (n !== this.seqNum || this.n === 0) {
      // a new seq (or the first event of a command) reads its BigInts once for all its events
      const seq = slotSeqBig(dv, p);
      if (this.n > 0 && seq !== this.seq) {
        throw new RangeError(`event ring: seq ${seq} started before seq ${this.seq} ended (no LAST flag)`);
      }
      this.seq = seq;
      this.seqNum = n;
      this.tsInit = slotTsInit(dv, p);
    }
    const event = decodeEvt(dv, slotEvt(p));
    if (!event.last) {
      this.events[this.n++] = event;
      return null;
    }
    let events: CqrsEvent[];
    if (this.n === 0) events = [event];
    else {
      events = new Array<CqrsEvent>(this.n + 1);
      for (let i = 0; i < this.n; i++) { events[i] = this.events[i]!; this.events[i] = event; } // (the scratch keeps only this event alive)
      events[this.n] = event;
      this.n = 0;
    }
    const first = events[0]!;
    const op = inferOp(first);
    let clientOrderId: string | null = null;
    if (this.resolve && (op === ENUMS.Op.NEW || op === 0)) clientOrderId = this.resolve(first.id, first.account) ?? null;
    return { seq: this.seq, tsInit: this.tsInit, op, clientOrderId, command: null, events };
  }

  /** Whether a command's events are partly received. */
  get partial(): boolean { return this.n > 0; }
}
