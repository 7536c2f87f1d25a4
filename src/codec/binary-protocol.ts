/**
 * The binary client protocol (DESIGN "Client protocol", docs/protocol.md "Binary protocol"), its
 * public surface: the gateway, the client, the benchmarks and the tests import it from here.
 * Same semantics as the JSON protocol (src/codec/json-protocol.ts); prices are integer ticks (i64)
 * and quantities integer lots, never decimals.
 *
 * Layout: the frame and message headers and the code table are drawn in binary-layout.ts (with
 * the constants and message types), the body layouts in docs/protocol.md. Files: binary-layout.ts
 * (definitions, code table, BinaryProtocolError), binary-fields.ts (u64, clientOrderId and
 * reserved-byte helpers), binary-writer.ts (BinaryWriter), binary-reader.ts (decodeFrame).
 * Invariants: `decodeFrame` is all-or-nothing (any invalid field refuses the whole frame);
 * encode→decode is the identity (property tested for every message type).
 * Complexity: O(frame bytes). Allocation: decoding one object per message (and its level arrays),
 * `checkClientFrame` (validation only, for reading messages in place) one DataView per frame;
 * the encoder reuses its growable buffer and `take()` / `takeBytes()` allocate one buffer per frame.
 * Known limitations: a message body is at most 65,535 bytes (≤ 4,093 book levels per message);
 * timestamps decode to a JS number (precision ~256 ns). The wire level is WIRE_LEVEL_SIZE (16 B),
 * not abi's LEVEL_SIZE (the engine's 24-byte LEVEL record); the old name LEVEL_SIZE is gone.
 */
export {
  MAGIC, VERSION, FRAME_HEADER_SIZE, MSG_HEADER_SIZE, MAX_BODY, WIRE_LEVEL_SIZE, MAX_LEVELS, MsgType, BODY_SIZE, Channel,
  GATEWAY_CODES, CODE_BY_NAME, NAME_BY_CODE, codeOf, nameOf, AUTH_REASONS, BinaryProtocolError,
} from './binary-layout.js';
export type { Level, ClientBinMessage, ServerBinMessage, BinMessage } from './binary-layout.js';
export { isBinaryClientOrderId } from './binary-fields.js';
export { BinaryWriter } from './binary-writer.js';
export { decodeFrame, checkClientFrame, decodeClientMessage } from './binary-reader.js';
/** In-place field readers (the gateway reads orders, cancels and modifies of a checked frame with these). */
export { getCid, getI64, getU64 } from './binary-fields.js';
