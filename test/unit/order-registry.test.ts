/**
 * The gateway's order registry as arrays (src/gateway/orders.ts): ids never reused, a slot reused
 * only after its finished order was evicted, clientOrderIds reusable once finished, growth past
 * the preallocated slots keeps every field, and snapshots show the state at the time they were taken.
 */
import { describe, expect, it } from 'vitest';
import { OrderRegistry } from '../../src/gateway/orders.js';

const o = (account: number, cid: string, price = 100) => ({ account, clientOrderId: cid, symbol: 2, side: 1, price, qty: 5, conn: 7 });

describe('OrderRegistry (struct of arrays)', () => {
  it('creates, finds by id and by clientOrderId, finishes, evicts the oldest finished and reuses its slot', () => {
    const r = new OrderRegistry(2, 4);
    const a = r.create(o(1, 'a'));
    const b = r.create(o(1, 'b'));
    const c = r.create(o(2, 'a'));
    expect(r.liveSlot(1, 'a')).toBe(a);
    expect(r.liveSlot(2, 'a')).toBe(c);
    expect(r.find(2, r.id[a]!)).toBeUndefined(); // another account's id answers like an unknown one
    expect(r.get(r.id[b]!)).toMatchObject({ orderId: r.id[b], account: 1, clientOrderId: 'b', symbol: 2, side: 1, price: 100n, qty: 5, leaves: 5, filled: 0, status: 'pending', conn: 7 });
    const idA = r.id[a]!;
    r.finish(a, 'filled');
    r.finish(a, 'filled'); // a second finish lists it once
    expect(r.liveSlot(1, 'a')).toBe(-1);
    expect(r.get(idA)?.status).toBe('filled');
    r.finish(b, 'cancelled');
    expect(r.get(idA)?.status).toBe('filled'); // 2 finished kept
    r.finish(c, 'rejected');
    expect(r.get(idA)).toBeUndefined(); // evicted: the oldest finished
    const d = r.create(o(1, 'a')); // the clientOrderId is free again; the evicted slot is reused
    expect(d).toBe(a);
    expect(r.id[d]).not.toBe(idA);
    expect(r.openSlots(1)).toEqual([d]);
  });

  it('grows past its preallocated slots without losing a field; snapshots do not follow later changes', () => {
    const r = new OrderRegistry(10, 2);
    const slots = Array.from({ length: 50 }, (_, i) => r.create(o(3, `c${i}`, 1000 + i)));
    const snap = r.get(r.id[slots[10]!]!)!;
    r.leaves[slots[10]!] = 1;
    for (let i = 0; i < 50; i++) expect(r.get(r.id[slots[i]!]!)).toMatchObject({ clientOrderId: `c${i}`, price: BigInt(1000 + i), account: 3 });
    expect(snap.leaves).toBe(5);
    expect(r.get(r.id[slots[10]!]!)!.leaves).toBe(1);
    expect(new Set(slots.map((s) => r.id[s])).size).toBe(50);
    expect(r.open(3)).toHaveLength(50);
  });

  it('restores journal orders with their ids and continues after the highest', () => {
    const r = new OrderRegistry();
    r.restore({ ...o(1, 'x'), orderId: 41 });
    const s = r.create(o(1, 'y'));
    expect(r.id[s]).toBe(42);
    expect(r.liveByClientId(1, 'x')?.orderId).toBe(41);
  });
});
