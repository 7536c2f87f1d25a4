/**
 * The orders context: POST/DELETE/PATCH/GET /api/v1/orders[/:id] and GET /api/v1/orders (open
 * orders, or the live one with a clientOrderId), signed; order entry through the OrderEntry
 * service, which answers once the engine has (awaitCommand).
 *
 * Layout: an order answers `{orderId, clientOrderId, symbol, side, price, qty, leaves, filled,
 * status}` in decimal strings (docs/protocol.md "HTTP"), plus `seq` once the engine answered.
 * Invariants: strict schemas (no coercion, no unknown field), 2 KiB bodies; another account's
 * order ids answer exactly like unknown ids (404 unknown_order). An order resent with the
 * clientOrderId of a live order answers that order with `duplicate: true`.
 * Complexity: O(1) per request (GET open orders O(open orders)). Allocation: per request.
 * Known limitations: an answer that takes over 5 s is a 504 `timeout` (the command may still apply).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { EntryOutcome, OrderFields } from '../config.js';
import type { OrderInfo } from '../orders.js';
import { DECIMAL, ORDER_BODY_LIMIT } from './context.js';
import { httpReason, replyError } from './errors.js';

export async function ordersPlugin(app: FastifyInstance): Promise<void> {
  const { instruments, entry, orders } = app.tradsys;
  const orderJson = (o: OrderInfo): Record<string, unknown> => {
    const ins = instruments[o.symbol]!;
    return {
      orderId: String(o.orderId), clientOrderId: o.clientOrderId, symbol: ins.symbol, side: o.side === 0 ? 'buy' : 'sell',
      price: o.price > 0n ? ins.toPrice(o.price) : null, qty: ins.toQty(o.qty), leaves: ins.toQty(o.leaves), filled: ins.toQty(o.filled), status: o.status,
    };
  };
  const orderSchema = {
    type: 'object', additionalProperties: false, required: ['clientOrderId', 'symbol', 'side', 'type', 'tif', 'qty'],
    properties: {
      clientOrderId: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,36}$' }, symbol: { type: 'string', maxLength: 32 },
      side: { enum: ['buy', 'sell'] }, type: { enum: ['limit', 'market'] }, tif: { enum: ['gtc', 'ioc', 'fok', 'post_only'] }, price: DECIMAL, qty: DECIMAL,
    },
  };
  const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[1-9]\\d{0,19}$' } } };
  const answer = async (reply: FastifyReply, r: EntryOutcome, okCode: number): Promise<unknown> => {
    if (!r.ok) {
      if (r.reason === 'overloaded') void reply.header('retry-after', '1'); // whole seconds (RFC 9110); clients may retry sooner
      return replyError(reply, r.reason === 'unknown_order' ? 404 : r.reason === 'busy' || r.reason === 'overloaded' ? 503 : 422, httpReason(r.reason), r.message ?? r.reason);
    }
    if (r.duplicate) return reply.code(200).send({ ...orderJson(orders.info(r.slot)), duplicate: true });
    const orderId = orders.id[r.slot]!;
    const done = await entry.awaitCommand(orderId);
    if (done === null) return replyError(reply, 504, 'timeout', 'the engine did not answer in time', { orderId: String(orderId) });
    if (done.type === 'R') return replyError(reply, done.reason === 'unknown_order' ? 404 : 422, httpReason(done.reason), undefined, { orderId: String(orderId), seq: done.seq });
    return reply.code(okCode).send({ ...orderJson(orders.info(r.slot)), seq: done.seq }); // the order as it is now
  };
  const signed = { signed: true };
  app.post<{ Body: OrderFields }>('/api/v1/orders', { schema: { body: orderSchema }, bodyLimit: ORDER_BODY_LIMIT, config: signed }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'trade');
    if (who === null) return reply;
    if (req.body.type === 'limit' && req.body.price === undefined) return replyError(reply, 400, 'missing_field', 'a limit order needs "price"');
    if (req.body.type === 'market' && req.body.price !== undefined) return replyError(reply, 400, 'unknown_field', 'a market order has no "price"');
    return answer(reply, entry.placeOrder(who.account, 0, req.body), 201);
  });
  app.delete<{ Params: { id: string } }>('/api/v1/orders/:id', { schema: { params: idParams }, config: signed }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'trade');
    if (who === null) return reply;
    return answer(reply, entry.requestCancel(who.account, { orderId: req.params.id }), 200);
  });
  app.patch<{ Params: { id: string }; Body: { price: string; qty: string } }>('/api/v1/orders/:id', {
    bodyLimit: ORDER_BODY_LIMIT, config: signed, schema: { params: idParams, body: { type: 'object', additionalProperties: false, required: ['price', 'qty'], properties: { price: DECIMAL, qty: DECIMAL } } },
  }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'trade');
    if (who === null) return reply;
    return answer(reply, entry.requestModify(who.account, { orderId: req.params.id }, req.body.price, req.body.qty), 200);
  });
  app.get<{ Params: { id: string } }>('/api/v1/orders/:id', { schema: { params: idParams }, config: { ...signed, current: true } }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'read');
    if (who === null) return reply;
    const o = orders.find(who.account, Number(req.params.id));
    return o ? orderJson(o) : replyError(reply, 404, 'unknown_order', 'no such order');
  });
  app.get<{ Querystring: { status?: string; clientOrderId?: string } }>('/api/v1/orders', {
    config: { ...signed, current: true }, schema: { querystring: { type: 'object', additionalProperties: false, properties: { status: { enum: ['open'] }, clientOrderId: { type: 'string', pattern: '^[A-Za-z0-9_.:-]{1,36}$' } } } },
  }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'read');
    if (who === null) return reply;
    if (req.query.clientOrderId !== undefined) {
      const o = orders.liveByClientId(who.account, req.query.clientOrderId);
      return o ? orderJson(o) : replyError(reply, 404, 'unknown_order', 'no live order with that clientOrderId');
    }
    return orders.open(who.account).map((o) => orderJson(o));
  });
}
