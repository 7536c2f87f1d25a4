/**
 * Strategy order ids (src/domain/ids.ts strategy range): the workers' shared block counter never
 * hands out an id twice; the read models treat strategy orders as ordinary orders of their account
 * (only the ADMIN range is skipped), remember the highest strategy id across snapshots (the pool's
 * restart point), and the execution reports include them.
 */
import { describe, expect, it } from 'vitest';
import { ADMIN_ID_BASE, ADMIN_ID_BASE_NUM, isAdminId, isAdminIdNum, isStrategyOrderId, SAGA_ID_BASE, STRATEGY_ID_BASE, STRATEGY_ID_BASE_NUM, STRATEGY_ID_BLOCK } from '../../src/domain/ids.js';
import { IdBlocks } from '../../src/strategies/worker.js';
import { OrdersProjection } from '../../src/cqrs/orders.js';
import { inferOp, type CqrsEvent, type SeqBatch } from '../../src/cqrs/events.js';
import { reportsOf } from '../../src/cqrs/reports.js';
import { Instrument } from '../../src/domain/instruments.js';
import { ENUMS } from '../../src/abi/records.js';

const ev = (e: Partial<CqrsEvent>): CqrsEvent => ({
  type: 'A', reason: 0, stp: false, last: true, side: 0, symbol: 0, id: 0n, maker: 0n, price: 0n, qty: 0, leaves: 0, makerLeaves: 0, account: 0, makerAccount: 0, tradeId: 0n, ...e,
});
const batch = (seq: bigint, events: CqrsEvent[], cid: string | null = null): SeqBatch => ({ seq, tsInit: 0n, op: inferOp(events[0]!), clientOrderId: cid, command: null, events });

describe('strategy order ids', () => {
  it('the ranges are disjoint and ordered GATEWAY < SAGA < ADMIN < STRATEGY < 2^53', () => {
    expect(SAGA_ID_BASE < ADMIN_ID_BASE && ADMIN_ID_BASE < STRATEGY_ID_BASE && STRATEGY_ID_BASE < 1n << 53n).toBe(true);
    expect(STRATEGY_ID_BASE).toBe((1n << 52n) + (1n << 51n));
    expect(Number(STRATEGY_ID_BASE)).toBe(STRATEGY_ID_BASE_NUM);
    expect([isAdminId(ADMIN_ID_BASE), isAdminId(STRATEGY_ID_BASE - 1n), isAdminId(STRATEGY_ID_BASE), isAdminId(ADMIN_ID_BASE - 1n)]).toEqual([true, true, false, false]);
    expect([isAdminIdNum(ADMIN_ID_BASE_NUM), isAdminIdNum(STRATEGY_ID_BASE_NUM)]).toEqual([true, false]);
    expect([isStrategyOrderId(STRATEGY_ID_BASE_NUM), isStrategyOrderId(STRATEGY_ID_BASE_NUM - 1), isStrategyOrderId(2 ** 53)]).toEqual([true, false, false]);
  });

  it('workers sharing the counter take disjoint blocks and never repeat an id', () => {
    const sab = new SharedArrayBuffer(8);
    new BigInt64Array(sab)[0] = BigInt(STRATEGY_ID_BASE_NUM + 77);
    const a = new IdBlocks(sab);
    const b = new IdBlocks(sab);
    const seen = new Set<number>();
    for (let i = 0; i < 5000; i++) { seen.add(a.take()); seen.add(b.take()); if (i % 3 === 0) seen.add(a.take()); }
    expect(seen.size).toBe(5000 * 2 + Math.ceil(5000 / 3));
    expect(Math.min(...seen)).toBe(STRATEGY_ID_BASE_NUM + 77);
    const blocks = Number(new BigInt64Array(sab)[0]! - BigInt(STRATEGY_ID_BASE_NUM + 77)) / STRATEGY_ID_BLOCK;
    expect(Number.isInteger(blocks)).toBe(true);
  });

  it('read models: a strategy order is an ordinary order of its account; the highest strategy id survives eviction and snapshots', () => {
    const p = new OrdersProjection(1); // keep one finished order
    const s1 = STRATEGY_ID_BASE + 5n;
    const s2 = STRATEGY_ID_BASE + 9n;
    expect(inferOp(ev({ type: 'A', id: s1 }))).toBe(ENUMS.Op.NEW);
    expect(inferOp(ev({ type: 'K', id: ADMIN_ID_BASE + 1n }))).toBe(ENUMS.Op.ADMIN);
    p.apply(batch(1n, [ev({ type: 'A', id: s1, account: 42, price: 100n, qty: 5, leaves: 5 })], 'q1'));
    p.apply(batch(2n, [ev({ type: 'A', id: 7n, account: 9, side: 1, price: 100n, qty: 5, leaves: 5, last: false }),
      ev({ type: 'T', id: 7n, maker: s1, account: 9, makerAccount: 42, side: 1, price: 100n, qty: 2, leaves: 3, makerLeaves: 3 })]));
    p.apply(batch(3n, [ev({ type: 'A', id: ADMIN_ID_BASE + 3n, account: 42 })])); // an ADMIN id: skipped
    const o = p.find(42, s1)!;
    expect(o).toMatchObject({ status: 'open', filled: 2, leaves: 3, clientOrderId: 'q1' });
    expect(p.open(42).map((x) => x.orderId)).toEqual([s1]);
    expect(p.get(ADMIN_ID_BASE + 3n)).toBeUndefined();
    expect(p.byClientOrderId(42, 'q1')!.orderId).toBe(s1);
    // what the strategy pool seeds its books with: every account's open orders, ids as numbers
    expect(p.restingOrders().sort((x, y) => x.id - y.id)).toEqual([
      { symbol: 0, id: 7, side: 1, price: 100, leaves: 3 },
      { symbol: 0, id: Number(s1), side: 0, price: 100, leaves: 3 },
    ]);
    p.apply(batch(4n, [ev({ type: 'A', id: s2, account: 42, price: 90n, qty: 1, leaves: 1 })]));
    p.apply(batch(5n, [ev({ type: 'X', id: s2, account: 42, qty: 1, leaves: 0 })]));
    p.apply(batch(6n, [ev({ type: 'X', id: s1, account: 42, qty: 3, leaves: 0 })])); // s2 evicted (keep 1)
    expect(p.get(s2)).toBeUndefined();
    expect(p.maxStrategyOrderId).toBe(s2);
    expect(p.maxGatewayOrderId).toBe(7n);
    const snap = JSON.parse(JSON.stringify(p.snapshot()));
    const q = new OrdersProjection(1);
    q.restore(snap);
    expect(q.maxStrategyOrderId).toBe(s2);
    delete snap.maxStrategyId; // an older snapshot: the highest among its orders
    const r = new OrdersProjection(1);
    r.restore(snap);
    expect(r.maxStrategyOrderId).toBe(s1);
  });

  it('execution reports include strategy orders (its account gets them, with the tag as clientOrderId)', () => {
    const ins = [new Instrument(0, { symbol: 'AAA', tickSize: '1', lotSize: '1' })];
    const id = STRATEGY_ID_BASE + 1n;
    const out = reportsOf(batch(1n, [ev({ type: 'A', id, account: 42, price: 100n, qty: 5, leaves: 5 })], 'q1'), ins, { order: () => undefined });
    expect(out).toEqual([{ account: 42, report: expect.objectContaining({ type: 'ack', orderId: id.toString(), clientOrderId: 'q1' }) }]);
    expect(reportsOf(batch(2n, [ev({ type: 'K', id: ADMIN_ID_BASE + 1n, account: 42 })]), ins, { order: () => undefined })).toEqual([]);
  });
});
