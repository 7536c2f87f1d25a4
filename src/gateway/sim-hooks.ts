/**
 * The built-in market simulator's way in (src/sim/simulator.ts): orders with no connection,
 * through the order entry service.
 *
 * Layout: no state of its own (the registry and the order entry service are injected).
 * Invariants: a simulator order is registered like any other (account, clientOrderId) and not
 * counted in `ordersIn`; one the ring refuses is finished as rejected. Complexity: O(1).
 * Allocation: the registry entry. Known limitations: none.
 */
import type { OrderEntry } from './order-entry.js';
import type { OrderRegistry } from './orders.js';

export interface SimOrder { account: number; clientOrderId: string; symbol: number; side: number; market: boolean; price: bigint; qty: number }

export class SimulatorHooks {
  constructor(private readonly orders: OrderRegistry, private readonly entry: OrderEntry) {}

  /** An order from the built-in simulator (no connection). Returns its order id, or null if the ring is full. */
  simOrder(o: SimOrder): number | null {
    const slot = this.orders.create({ account: o.account, clientOrderId: o.clientOrderId, symbol: o.symbol, side: o.side, price: o.price, qty: o.qty, conn: 0 });
    const sent = this.entry.submitNew(slot, o.market ? 1 : 0, o.market ? 1 : 0, o.price, 0, 0);
    return sent === 'ok' ? this.orders.id[slot]! : null;
  }

  /** Cancels a simulator order if it is still live. */
  simCancel(orderId: number): void {
    const s = this.orders.slotOf(orderId);
    if (s >= 0) this.entry.requestCancel(this.orders.account[s]!, { orderId: String(orderId) });
  }
}
