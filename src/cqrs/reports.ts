/**
 * Execution reports and read-model JSON: the protocol's ack / reject / fill / cancelled / modified
 * messages (docs/protocol.md, with `seq`) built from a batch, and the decimal JSON of positions,
 * fills and orders for the HTTP API.
 *
 * Owns: `reportsOf` (the report shapes, field order as the gateway sends them), `formatMoney`,
 * `formatPriceRatio`, `positionJson`, `fillJson`, `orderJson`.
 * Rules: ack/reject go to the event's account (the requester); fills to the taker (event account)
 * and the maker (makerAccount); cancelled/modified to the order's owner. ADMIN ids and K events
 * produce no report. `tradeId` is the engine's (durable, engine-wide) trade id.
 * Money: P&L and notionals are integers in ticks × lots; × tickSize × lotSize gives the quote
 * currency, exactly (decimal strings). Ratios (average prices) are exact when they terminate
 * within tick scale + 8 digits, else rounded half away from zero at that scale.
 * Complexity: O(events). Allocation: one object per report. Known limitations: none.
 */
import { REASON_NAMES, ENUMS } from '../abi/records.js';
import { formatDecimal, type Instrument } from '../domain/instruments.js';
import { isAdminId } from '../domain/ids.js';
import type { SeqBatch } from './events.js';
import type { FillView } from './fills.js';
import type { OrderView } from './orders.js';
import type { PositionView } from './positions.js';

export type ExecutionReport = Record<string, unknown> & { type: 'ack' | 'reject' | 'fill' | 'cancelled' | 'modified'; seq: number };

export interface ReportLookup {
  /** The clientOrderId and owner of an order id seen earlier (orders projection). */
  order(orderId: bigint): { account: number; clientOrderId: string } | undefined;
}

/**
 * The execution reports of one batch, each with the account it belongs to. `lookup` must already
 * include this batch's new order (apply the orders projection first).
 */
export function reportsOf(b: SeqBatch, instruments: readonly Instrument[], lookup: ReportLookup): { account: number; report: ExecutionReport }[] {
  const out: { account: number; report: ExecutionReport }[] = [];
  const seq = Number(b.seq);
  for (const e of b.events) {
    if (isAdminId(e.id) || e.type === 'K') continue;
    const orderId = e.id.toString();
    const known = lookup.order(e.id);
    const ins = instruments[e.symbol];
    switch (e.type) {
      case 'A': {
        const clientOrderId = b.clientOrderId ?? known?.clientOrderId ?? '';
        out.push({ account: e.account, report: { type: 'ack', clientOrderId, orderId, seq } });
        break;
      }
      case 'R': {
        const isNew = b.op === ENUMS.Op.NEW || (b.op === 0 && !known && e.reason !== ENUMS.Reason.UNKNOWN_ORDER);
        const clientOrderId = isNew ? (b.clientOrderId ?? '') : known && known.account === e.account ? known.clientOrderId : (b.clientOrderId ?? '');
        out.push({ account: e.account, report: { type: 'reject', clientOrderId, orderId, reason: REASON_NAMES[e.reason] ?? 'rejected', seq } });
        break;
      }
      case 'T': {
        if (!ins) break;
        const price = ins.toPrice(e.price);
        const qty = ins.toQty(e.qty);
        const tradeId = Number(e.tradeId);
        const maker = lookup.order(e.maker);
        out.push({ account: e.account, report: { type: 'fill', orderId, clientOrderId: known?.clientOrderId ?? '', tradeId, price, qty, leaves: ins.toQty(e.leaves), liquidity: 'taker', seq } });
        out.push({ account: e.makerAccount, report: { type: 'fill', orderId: e.maker.toString(), clientOrderId: maker?.clientOrderId ?? '', tradeId, price, qty, leaves: ins.toQty(e.makerLeaves), liquidity: 'maker', seq } });
        break;
      }
      case 'X':
        if (!ins) break;
        out.push({ account: known?.account ?? e.account, report: { type: 'cancelled', orderId, clientOrderId: known?.clientOrderId ?? '', qty: ins.toQty(e.qty), seq } });
        break;
      case 'M':
        if (!ins) break;
        out.push({ account: known?.account ?? e.account, report: { type: 'modified', orderId, clientOrderId: known?.clientOrderId ?? '', price: ins.toPrice(e.price), qty: ins.toQty(e.qty), seq } });
        break;
    }
  }
  return out;
}

/** An amount in ticks × lots as a decimal string of the quote currency (exact). */
export function formatMoney(ins: Instrument, units: bigint): string {
  return formatDecimal({ units: units * ins.tickSize.units * ins.lotSize.units, scale: ins.tickSize.scale + ins.lotSize.scale });
}

/** A price of num/den ticks as a decimal string (exact when it terminates within tick scale + `extra` digits). */
export function formatPriceRatio(ins: Instrument, num: bigint, den: bigint, extra = 8): string {
  if (den === 0n) throw new RangeError('formatPriceRatio: zero denominator');
  if (den < 0n) { num = -num; den = -den; }
  const base = ins.tickSize.scale;
  for (let k = 0; k <= extra; k++) {
    const scaled = num * ins.tickSize.units * 10n ** BigInt(k);
    if (scaled % den === 0n) return formatDecimal({ units: scaled / den, scale: base + k });
  }
  const scaled = num * ins.tickSize.units * 10n ** BigInt(extra);
  const q = scaled / den;
  const r = scaled % den;
  const away = (r < 0n ? -r : r) * 2n >= den ? (scaled < 0n ? -1n : 1n) : 0n;
  return formatDecimal({ units: q + away, scale: base + extra });
}

/** A position for the HTTP API (decimal strings; P&L in the quote currency). */
export function positionJson(ins: Instrument, p: PositionView): Record<string, unknown> {
  return {
    symbol: ins.symbol, qty: ins.toQty(p.qty), avgEntryPrice: p.avgEntry ? formatPriceRatio(ins, p.avgEntry.num, p.avgEntry.den) : null,
    mark: p.mark === null ? null : ins.toPrice(p.mark), realisedPnl: formatMoney(ins, p.realisedPnl), unrealisedPnl: formatMoney(ins, p.unrealisedPnl),
    boughtQty: ins.toQty(p.boughtQty), soldQty: ins.toQty(p.soldQty), seq: Number(p.lastSeq),
  };
}

export function fillJson(ins: Instrument, f: FillView): Record<string, unknown> {
  return {
    seq: Number(f.seq), tradeId: Number(f.tradeId), symbol: ins.symbol, orderId: f.orderId.toString(), clientOrderId: f.clientOrderId,
    side: f.side === 0 ? 'buy' : 'sell', price: ins.toPrice(f.price), qty: ins.toQty(f.qty), leaves: ins.toQty(f.leaves), liquidity: f.liquidity, ts: f.tsInit.toString(),
  };
}

/** An order as the HTTP API shows it (the gateway's fields plus the average fill price). */
export function orderJson(ins: Instrument, o: OrderView): Record<string, unknown> {
  return {
    orderId: o.orderId.toString(), clientOrderId: o.clientOrderId, symbol: ins.symbol, side: o.side === 0 ? 'buy' : 'sell',
    price: o.price > 0n ? ins.toPrice(o.price) : null, qty: ins.toQty(o.qty), leaves: ins.toQty(o.leaves), filled: ins.toQty(o.filled), status: o.status,
    avgPrice: o.filled > 0 ? formatPriceRatio(ins, o.fillNotional, BigInt(o.filled)) : null, seq: Number(o.updatedSeq),
  };
}
