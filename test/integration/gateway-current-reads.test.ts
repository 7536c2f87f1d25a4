/**
 * Every HTTP read of state that only the event pump updates sees the events published before it
 * (route option `current`, src/gateway/http/context.ts): with the pump's own timer stopped, an
 * order the engine has already accepted must read as `open` on the first request, not `pending`.
 * Found by a hostile review of the gateway split: GET /api/v1/orders, /orders/:id and
 * /sagas/:no lacked the option (as before the split).
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startGateway } from '../support/gateway-fixture.js';

describe('current reads', () => {
  it('order reads pump the event ring first', async () => {
    const f = await startGateway({ storage: 'off', journal: { durability: 'none' }, tmpPrefix: 'gw-current-' });
    try {
      f.gw.app.tradsys.events.stop();
      const k = f.key(1, ['trade', 'read']);
      const sig = (u: string): Record<string, string> => {
        const ts = Date.now();
        return { 'x-ts-key': k.key, 'x-ts-ts': String(ts), 'x-ts-sig': createHmac('sha256', k.secret).update(k.key + ts + 'GET' + u).digest('hex') };
      };
      const r = f.gw.placeOrder(1, 0, { clientOrderId: 'cur-1', symbol: 'BTC-USD', side: 'buy', type: 'limit', tif: 'gtc', price: '60000', qty: '1' });
      expect(r.ok).toBe(true);
      if (!r.ok) return;
      const id = r.order.orderId;
      // the engine thread accepts the order and publishes A on the ring; nothing pumps it
      await new Promise((res) => setTimeout(res, 300));
      const one = await f.gw.app.inject({ method: 'GET', url: `/api/v1/orders/${id}`, headers: sig(`/api/v1/orders/${id}`) });
      expect(one.statusCode).toBe(200);
      expect(JSON.parse(one.body).status).toBe('open');
      const list = await f.gw.app.inject({ method: 'GET', url: '/api/v1/orders?status=open', headers: sig('/api/v1/orders?status=open') });
      expect(list.statusCode).toBe(200);
      expect(JSON.stringify(JSON.parse(list.body))).toContain('cur-1');
    } finally {
      await f.close();
    }
  });
});
