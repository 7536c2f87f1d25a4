/**
 * The JSON client protocol (DESIGN "Client protocol"): strict parsing and validation of client
 * messages, and the server message shapes. Strict means: no type coercion, no unknown fields,
 * decimals as strings, bounded sizes; a bad message yields a ProtocolError with a stable code
 * (the connection stays up, the gateway answers `{"type":"error",...}` echoing `reqId`).
 *
 * Layout: one JSON object per text frame. Invariants: a parsed message has exactly the fields of
 * its op, each of the right type. Complexity: O(size). Allocation: the parsed object.
 * Known limitations: none here; the binary protocol (same semantics) is src/codec/binary-protocol.ts.
 */

export type ReqId = string | number;
export type Side = 'buy' | 'sell';
export type OrderType = 'limit' | 'market';
export type TimeInForce = 'gtc' | 'ioc' | 'fok' | 'post_only';

export type ClientMessage =
  | { op: 'auth'; key: string; ts: number; sig: string; nonce?: string; cancelOnDisconnect?: boolean; resumeFrom?: number; reqId?: ReqId }
  | { op: 'subscribe' | 'unsubscribe'; channels: string[]; reqId?: ReqId }
  | { op: 'order'; clientOrderId: string; symbol: string; side: Side; type: OrderType; tif: TimeInForce; price?: string; qty: string; reqId?: ReqId }
  | { op: 'cancel'; clientOrderId?: string; orderId?: string; reqId?: ReqId }
  | { op: 'modify'; clientOrderId?: string; orderId?: string; price: string; qty: string; reqId?: ReqId }
  | { op: 'ping'; reqId?: ReqId };

export type ProtocolErrorCode = 'bad_json' | 'too_large' | 'bad_op' | 'unknown_field' | 'missing_field' | 'bad_field';

export class ProtocolError extends Error {
  constructor(readonly code: ProtocolErrorCode, message: string, readonly reqId?: ReqId) {
    super(message);
    this.name = 'ProtocolError';
  }
}

const CLIENT_ORDER_ID = /^[A-Za-z0-9_.:-]{1,36}$/;
const DECIMAL = /^\d{1,30}(\.\d{1,30})?$/;
/** Market data per symbol, or `strategies` / `alerts` (admin keys: strategy state changes and breaker trips, alert transitions; docs/protocol.md). */
const CHANNEL = /^(?:(book|trades|ticker)\.[A-Za-z0-9._:/-]{1,32}|strategies|alerts)$/;
const ORDER_ID = /^[1-9]\d{0,19}$/;

const FIELDS: Record<string, { required: string[]; optional: string[] }> = {
  auth: { required: ['key', 'ts', 'sig'], optional: ['nonce', 'cancelOnDisconnect', 'resumeFrom'] },
  subscribe: { required: ['channels'], optional: [] },
  unsubscribe: { required: ['channels'], optional: [] },
  order: { required: ['clientOrderId', 'symbol', 'side', 'type', 'tif', 'qty'], optional: ['price'] },
  cancel: { required: [], optional: ['clientOrderId', 'orderId'] },
  modify: { required: ['price', 'qty'], optional: ['clientOrderId', 'orderId'] },
  ping: { required: [], optional: [] },
};

function field(cond: boolean, name: string, want: string, reqId: ReqId | undefined): void {
  if (!cond) throw new ProtocolError('bad_field', `${name} must be ${want}`, reqId);
}

/** Parses one text frame into a validated client message; throws ProtocolError. */
export function parseClientMessage(text: string, maxBytes = 4096): ClientMessage {
  if (text.length > maxBytes) throw new ProtocolError('too_large', `message larger than ${maxBytes} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ProtocolError('bad_json', 'message is not valid JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProtocolError('bad_json', 'message must be a JSON object');
  const m = v as Record<string, unknown>;
  const reqId = typeof m.reqId === 'string' || (typeof m.reqId === 'number' && Number.isSafeInteger(m.reqId)) ? m.reqId : undefined;
  if ('reqId' in m && reqId === undefined) throw new ProtocolError('bad_field', 'reqId must be a string or a safe integer');
  if (typeof m.reqId === 'string' && m.reqId.length > 64) throw new ProtocolError('bad_field', 'reqId must be at most 64 characters');
  const op = m.op;
  if (typeof op !== 'string' || !(op in FIELDS)) throw new ProtocolError('bad_op', `unknown op ${JSON.stringify(op)} (auth, subscribe, unsubscribe, order, cancel, modify, ping)`, reqId);
  const spec = FIELDS[op]!;
  for (const k of Object.keys(m)) {
    if (k !== 'op' && k !== 'reqId' && !spec.required.includes(k) && !spec.optional.includes(k)) throw new ProtocolError('unknown_field', `unknown field "${k}" for op ${op}`, reqId);
  }
  for (const k of spec.required) if (!(k in m)) throw new ProtocolError('missing_field', `op ${op} needs "${k}"`, reqId);
  switch (op) {
    case 'auth':
      field(typeof m.key === 'string' && m.key.length <= 64, 'key', 'a string', reqId);
      field(typeof m.ts === 'number' && Number.isSafeInteger(m.ts) && m.ts > 0, 'ts', 'a positive integer (epoch ms)', reqId);
      field(typeof m.sig === 'string' && /^[0-9a-f]{64}$/.test(m.sig), 'sig', '64 lowercase hex characters', reqId);
      if ('nonce' in m) field(typeof m.nonce === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(m.nonce), 'nonce', '1-64 characters of letters, digits, _ and -', reqId);
      if ('cancelOnDisconnect' in m) field(typeof m.cancelOnDisconnect === 'boolean', 'cancelOnDisconnect', 'true or false', reqId);
      if ('resumeFrom' in m) field(Number.isSafeInteger(m.resumeFrom) && (m.resumeFrom as number) >= 0, 'resumeFrom', 'the last seq the client saw, an integer ≥ 0', reqId);
      break;
    case 'subscribe':
    case 'unsubscribe':
      field(Array.isArray(m.channels) && m.channels.length >= 1 && m.channels.length <= 100 && m.channels.every((c) => typeof c === 'string' && CHANNEL.test(c)),
        'channels', '1-100 names like "book.BTC-USD", "trades.X", "ticker.X", "strategies", "alerts"', reqId);
      break;
    case 'order':
      field(typeof m.clientOrderId === 'string' && CLIENT_ORDER_ID.test(m.clientOrderId), 'clientOrderId', '1-36 characters of letters, digits and _.:-', reqId);
      field(typeof m.symbol === 'string' && m.symbol.length >= 1 && m.symbol.length <= 32, 'symbol', 'a symbol name', reqId);
      field(m.side === 'buy' || m.side === 'sell', 'side', '"buy" or "sell"', reqId);
      field(m.type === 'limit' || m.type === 'market', 'type', '"limit" or "market"', reqId);
      field(m.tif === 'gtc' || m.tif === 'ioc' || m.tif === 'fok' || m.tif === 'post_only', 'tif', '"gtc", "ioc", "fok" or "post_only"', reqId);
      field(typeof m.qty === 'string' && DECIMAL.test(m.qty), 'qty', 'a decimal string like "1.5"', reqId);
      if (m.type === 'limit') {
        if (!('price' in m)) throw new ProtocolError('missing_field', 'a limit order needs "price"', reqId);
        field(typeof m.price === 'string' && DECIMAL.test(m.price), 'price', 'a decimal string like "101.25"', reqId);
      } else if ('price' in m) {
        throw new ProtocolError('unknown_field', 'a market order has no "price"', reqId);
      }
      break;
    case 'cancel':
    case 'modify':
      if (('clientOrderId' in m) === ('orderId' in m)) throw new ProtocolError('missing_field', `op ${op} needs exactly one of "clientOrderId" and "orderId"`, reqId);
      if ('clientOrderId' in m) field(typeof m.clientOrderId === 'string' && CLIENT_ORDER_ID.test(m.clientOrderId), 'clientOrderId', '1-36 characters of letters, digits and _.:-', reqId);
      if ('orderId' in m) field(typeof m.orderId === 'string' && ORDER_ID.test(m.orderId), 'orderId', 'a decimal order id string', reqId);
      if (op === 'modify') {
        field(typeof m.price === 'string' && DECIMAL.test(m.price), 'price', 'a decimal string', reqId);
        field(typeof m.qty === 'string' && DECIMAL.test(m.qty), 'qty', 'a decimal string', reqId);
      }
      break;
    default:
      break;
  }
  return m as unknown as ClientMessage;
}

/** The error frame for a ProtocolError (reqId echoed when known). */
export function errorFrame(e: ProtocolError): string {
  return JSON.stringify(e.reqId === undefined ? { type: 'error', code: e.code, message: e.message } : { type: 'error', code: e.code, message: e.message, reqId: e.reqId });
}
