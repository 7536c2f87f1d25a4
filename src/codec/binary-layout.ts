/**
 * The binary client protocol's definitions (DESIGN "Client protocol", docs/protocol.md "Binary
 * protocol"): the frame and message headers, message type ids and body sizes, channel bits, the
 * numeric reason/error code table, the decoded message types and the protocol error. The encoder
 * is binary-writer.ts, the decoder binary-reader.ts, the field helpers binary-fields.ts; the
 * public surface is binary-protocol.ts. Same semantics as the JSON protocol
 * (src/codec/json-protocol.ts); prices are integer ticks (i64) and quantities integer lots, never
 * decimals.
 *
 * Layout (all little-endian; a frame is one WebSocket binary message):
 * ```
 * FRAME HEADER (8 B)
 * ┌────────────┬─────────┬───────┬────────────┬────────────┐
 * │ magic u16  │ ver u8  │ flg u8│ count u16  │ rsv u16    │   magic 0x5354 (bytes "TS"), ver 1,
 * 0            2         3       4            6            8   flags 0, count 1..65535, rsv 0
 * then `count` messages, back to back, filling the frame exactly:
 * MESSAGE HEADER (8 B)
 * ┌─────────┬────────┬────────────┬──────────────┐
 * │ type u8 │ rsv u8 │ length u16 │  reqId u32   │   length = body bytes (after this header);
 * 0         1        2            4              8   reqId 0 = none, echoed in direct replies
 * then the body (layouts in docs/protocol.md "Binary protocol"; reserved bytes are 0).
 * ```
 * clientOrderId is a u64 (1..2^64-1) whose JSON equivalent is its decimal text without leading
 * zeros: binary 42 and JSON "42" are the same clientOrderId of an account (idempotency and
 * cancel/modify by clientOrderId interoperate). Decoded messages carry it as that decimal string
 * ('' = absent); JSON ids that are not such a decimal have no binary form (reports carry 0).
 *
 * Invariants: `decodeFrame` accepts a frame only if the magic, version, flags, count, every
 * message's type (for that direction), exact length, enum fields, reserved bytes and ranges
 * (u64 ids, prices and quantities ≤ 2^53-1) are valid; otherwise it throws BinaryProtocolError
 * and nothing of the frame is used (all-or-nothing). encode→decode is the identity (property
 * tested for every message type).
 * Complexity / Allocation: constants and tables, built once at load.
 * Known limitations: a message body is at most 65,535 bytes (≤ 4,093 book levels per message;
 * the gateway sends a snapshot instead of a larger delta). Timestamps (`ts`, ns) decode to a JS
 * number and lose precision below ~256 ns, exactly like the JSON protocol's `ts`.
 */
import { REASON_NAMES } from '../abi/records.js';

export const MAGIC = 0x5354;
export const VERSION = 1;
export const FRAME_HEADER_SIZE = 8;
export const MSG_HEADER_SIZE = 8;
export const MAX_BODY = 0xffff;
/** One book level on the wire: price i64 · qty u64 (not abi's LEVEL_SIZE, the engine's 24-byte LEVEL record). */
export const WIRE_LEVEL_SIZE = 16;
/** Most book levels (bids + asks) in one snapshot or delta message. */
export const MAX_LEVELS = Math.floor((MAX_BODY - 32) / WIRE_LEVEL_SIZE);

/** Message type ids: client → server 0x01–0x3F, server → client 0x41–0x7F. Never reused. */
export const MsgType = {
  AUTH: 0x01, SUBSCRIBE: 0x02, UNSUBSCRIBE: 0x03, NEW_ORDER: 0x04, CANCEL: 0x05, MODIFY: 0x06, PING: 0x07,
  AUTH_RESULT: 0x41, SUBSCRIBED: 0x42, ACK: 0x43, REJECT: 0x44, FILL: 0x45, CANCELLED: 0x46, MODIFIED: 0x47,
  BOOK_SNAPSHOT: 0x48, BOOK_DELTA: 0x49, TRADE: 0x4a, TICKER: 0x4b, PONG: 0x4c, ERROR: 0x4d,
} as const;

/** Fixed body sizes (snapshot and delta: the fixed part; 16 B per level follows). */
export const BODY_SIZE: Readonly<Record<number, number>> = {
  [MsgType.AUTH]: 112, [MsgType.SUBSCRIBE]: 8, [MsgType.UNSUBSCRIBE]: 8, [MsgType.NEW_ORDER]: 32, [MsgType.CANCEL]: 16,
  [MsgType.MODIFY]: 32, [MsgType.PING]: 0, [MsgType.AUTH_RESULT]: 8, [MsgType.SUBSCRIBED]: 8, [MsgType.ACK]: 32,
  [MsgType.REJECT]: 32, [MsgType.FILL]: 56, [MsgType.CANCELLED]: 32, [MsgType.MODIFIED]: 40, [MsgType.BOOK_SNAPSHOT]: 16,
  [MsgType.BOOK_DELTA]: 32, [MsgType.TRADE]: 40, [MsgType.TICKER]: 64, [MsgType.PONG]: 0, [MsgType.ERROR]: 8,
};

/** Message types each direction may carry (the decoder's first check). */
export const CLIENT_TYPES = new Set<number>([1, 2, 3, 4, 5, 6, 7]);
export const SERVER_TYPES = new Set<number>([0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c, 0x4d]);

/** Channel bits of subscribe/unsubscribe/subscribed. */
export const Channel = { BOOK: 1, TRADES: 2, TICKER: 4 } as const;

/**
 * Reason and error codes (u16), one name per code, never reused. 1–63: the engine's reject
 * reasons (REASON_NAMES in src/abi/records.ts, same numbers). 64–127: gateway rejects, auth
 * failures and error codes.
 */
export const GATEWAY_CODES: Readonly<Record<string, number>> = {
  busy: 64, rejected: 65, bad_frame: 66, too_large: 67, not_authenticated: 68, forbidden: 69, rate_limited: 70,
  not_supported: 71, invalid_credentials: 72, stale_timestamp: 73, replay: 74, malformed: 75, bad_json: 76,
  unknown_field: 77, missing_field: 78, bad_field: 79, too_many_channels: 80, overloaded: 81,
  // `bad_op` (a JSON error code) is the engine's reason 8, `unknown_symbol` 1, `unknown_order` 6
};
export const CODE_BY_NAME: ReadonlyMap<string, number> = new Map<string, number>([
  ...Object.entries(REASON_NAMES).map(([c, n]) => [n, Number(c)] as [string, number]),
  ...Object.entries(GATEWAY_CODES),
]);
export const NAME_BY_CODE: ReadonlyMap<number, string> = new Map([...CODE_BY_NAME].map(([n, c]) => [c, n]));

/** The numeric code of a reason/error name (65 `rejected` for a name without one). */
export function codeOf(name: string): number { return CODE_BY_NAME.get(name) ?? GATEWAY_CODES.rejected!; }
/** The name of a code (`code_<n>` for an unassigned one, so a newer server stays readable). */
export function nameOf(code: number): string { return NAME_BY_CODE.get(code) ?? `code_${code}`; }

export const AUTH_REASONS = ['invalid_credentials', 'stale_timestamp', 'replay', 'malformed'] as const;

// ── decoded messages ────────────────────────────────────────────────────────────────────────
export type Level = [price: number, qty: number];

export type ClientBinMessage =
  | { kind: 'auth'; reqId: number; ts: number; cancelOnDisconnect: boolean; key: string; sig: string }
  | { kind: 'subscribe' | 'unsubscribe'; reqId: number; instrument: number; channels: number }
  | { kind: 'order'; reqId: number; clientOrderId: string; instrument: number; side: 0 | 1; type: 0 | 1; tif: 0 | 1 | 2 | 3; price: number; qty: number }
  | { kind: 'cancel'; reqId: number; clientOrderId: string; orderId: number }
  | { kind: 'modify'; reqId: number; clientOrderId: string; orderId: number; price: number; qty: number }
  | { kind: 'ping'; reqId: number };

export type ServerBinMessage =
  | { kind: 'auth'; reqId: number; ok: boolean; reason: string | null; account: number }
  | { kind: 'subscribed'; reqId: number; instrument: number; channels: number; ok: boolean }
  | { kind: 'ack'; reqId: number; clientOrderId: string; orderId: number; seq: number | null; duplicate: boolean }
  | { kind: 'reject'; reqId: number; clientOrderId: string; orderId: number; seq: number | null; reason: string }
  | { kind: 'fill'; reqId: number; orderId: number; clientOrderId: string; tradeId: number; price: number; seq: number; qty: number; leaves: number; liquidity: 'maker' | 'taker'; instrument: number }
  | { kind: 'cancelled'; reqId: number; orderId: number; clientOrderId: string; seq: number; qty: number; instrument: number }
  | { kind: 'modified'; reqId: number; orderId: number; clientOrderId: string; seq: number; price: number; qty: number; instrument: number }
  | { kind: 'book'; reqId: number; instrument: number; seq: number; bids: Level[]; asks: Level[] }
  | { kind: 'bookDelta'; reqId: number; instrument: number; first: number; last: number; checksum: number; bids: Level[]; asks: Level[] }
  | { kind: 'trade'; reqId: number; instrument: number; takerSide: 'buy' | 'sell'; tradeId: number; price: number; qty: number; ts: number }
  | { kind: 'ticker'; reqId: number; instrument: number; bid: number | null; bidQty: number | null; ask: number | null; askQty: number | null; last: number | null; lastQty: number | null; ts: number }
  | { kind: 'pong'; reqId: number }
  | { kind: 'error'; reqId: number; code: string; msgType: number };

export type BinMessage = ClientBinMessage | ServerBinMessage;

export class BinaryProtocolError extends Error {
  readonly code = 'bad_frame';
  constructor(message: string, readonly reqId = 0, readonly msgType = 0) {
    super(message);
    this.name = 'BinaryProtocolError';
  }
}
