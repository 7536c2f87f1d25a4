/**
 * The sagas context: POST /api/v1/sagas/pairs (start a pairs saga: two legs, leg B's timeout) and
 * GET /api/v1/sagas/:no (its state), for the signing account only (docs/cqrs.md "Sagas").
 *
 * Layout: a leg is `{symbol, side, price?, qty, tif?}` in decimal strings, turned into ticks and lots.
 * Invariants: another account's saga answers like an unknown one (404 unknown_saga); bigints in a
 * saga's state leave as decimal strings. Complexity: O(1). Allocation: per request.
 * Known limitations: none.
 */
import type { FastifyInstance } from 'fastify';
import { TradsysError } from '../../domain/errors.js';
import type { PairsLeg } from '../../cqrs/index.js';
import { DECIMAL } from './context.js';
import { replyCatalogError, replyError } from './errors.js';

type LegBody = { symbol: string; side: 'buy' | 'sell'; price?: string; qty: string; tif?: 'gtc' | 'ioc' };

export async function sagasPlugin(app: FastifyInstance): Promise<void> {
  const { bySymbol } = app.tradsys;
  const leg = {
    type: 'object', additionalProperties: false, required: ['symbol', 'side', 'qty'],
    properties: { symbol: { type: 'string', maxLength: 32 }, side: { enum: ['buy', 'sell'] }, price: DECIMAL, qty: DECIMAL, tif: { enum: ['gtc', 'ioc'] } },
  };
  const json = (s: unknown): unknown => JSON.parse(JSON.stringify(s, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  app.post<{ Body: { legA: LegBody; legB: LegBody; legBTimeoutMs: number; legATimeoutMs?: number } }>('/api/v1/sagas/pairs', {
    schema: {
      body: {
        type: 'object', additionalProperties: false, required: ['legA', 'legB', 'legBTimeoutMs'],
        properties: { legA: leg, legB: leg, legBTimeoutMs: { type: 'integer', minimum: 1, maximum: 3_600_000 }, legATimeoutMs: { type: 'integer', minimum: 1, maximum: 86_400_000 } },
      },
    },
  }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'trade');
    if (who === null) return reply;
    const sagas = app.tradsys.sagas;
    if (!sagas) return replyError(reply, 503, 'unavailable', 'sagas are not running');
    const toLeg = (l: LegBody): PairsLeg => {
      const ins = bySymbol.get(l.symbol);
      if (!ins) throw new TradsysError('ERR_INSTRUMENT_SPEC', `no symbol ${l.symbol}`);
      return { symbol: ins.id, side: l.side === 'buy' ? 0 : 1, price: l.price === undefined ? 0n : ins.toTicks(l.price), qty: ins.toLots(l.qty), tif: l.tif === 'ioc' ? 1 : 0 };
    };
    let legA: PairsLeg;
    let legB: PairsLeg;
    try { legA = toLeg(req.body.legA); legB = toLeg(req.body.legB); } catch (e) { return replyError(reply, 400, 'bad_field', (e as Error).message); }
    try {
      const no = sagas.startPairs({ account: who.account, legA, legB, legBTimeoutMs: req.body.legBTimeoutMs, legATimeoutMs: req.body.legATimeoutMs });
      return reply.code(201).send(json(sagas.saga(no)));
    } catch (e) {
      if (e instanceof TradsysError) return replyCatalogError(reply, e);
      throw e;
    }
  });
  app.get<{ Params: { no: string } }>('/api/v1/sagas/:no', { schema: { params: { type: 'object', required: ['no'], properties: { no: { type: 'string', pattern: '^[1-9]\\d{0,9}$' } } } }, config: { current: true } }, async (req, reply) => {
    const who = app.authenticate(req, reply, 'read');
    if (who === null) return reply;
    const s = app.tradsys.sagas?.saga(Number(req.params.no));
    if (!s || (s.params as { account: number }).account !== who.account) return replyError(reply, 404, 'unknown_saga', 'no such saga');
    return json(s);
  });
}
