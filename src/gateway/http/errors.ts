/**
 * The one way an HTTP error reply is built: `{error, message, …}` with its status, where `error`
 * is a name from the catalog — a wire reason name (DESIGN's snake_case names: the engine's reject
 * reasons, REASON_NAMES, and the gateway's own, GATEWAY_HTTP_REASONS) or an `ERR_` code of
 * src/domain/errors.ts — all listed once in docs/errors.md "HTTP error replies". fastify's own
 * errors (body too large, malformed JSON, schema) answer through it too.
 *
 * Layout: `replyError` (any name, explicit status), `replyCatalogError` (an ERR_ code, the
 * catalog's status), `httpReason` (a reason string → a catalog name), `errorHandler` (fastify's).
 * Invariants: the API has these two vocabularies and both are contract (docs/protocol.md "HTTP"):
 * the trading routes answer wire reason names with the status their route documents, the storage
 * and saga routes answer `ERR_` codes with the catalog's status (`replyCatalogError`); a name
 * outside the catalog cannot be sent (typed; a reason string from the engine or order entry goes
 * through `httpReason`, unknown → `rejected`).
 * Complexity: O(1). Allocation: the body.
 * Known limitations: the status of a wire reason depends on the route (e.g. `unknown_symbol` is 404
 * on the book route and 422 as the reject of an order), so callers pass it.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { REASON_NAMES } from '../../abi/records.js';
import type { ErrorCode, TradsysError } from '../../domain/errors.js';

/** The gateway's own HTTP error names (beside the engine's reject reasons and the ERR_ codes). */
export const GATEWAY_HTTP_REASONS = [
  'busy', 'overloaded', 'unavailable', 'timeout', 'rejected',
  'bad_json', 'bad_request', 'too_large', 'unsupported_media_type', 'internal',
  'invalid_credentials', 'stale_timestamp', 'replay', 'malformed', 'forbidden', 'rate_limited',
  'missing_field', 'unknown_field', 'bad_field', 'bad_depth', 'unknown_saga', 'unknown_key', 'keys_store', 'keys_locked',
] as const;
export type GatewayHttpReason = (typeof GATEWAY_HTTP_REASONS)[number];
/** An engine reject reason name (REASON_NAMES), checked by `httpReason`. */
export type EngineReason = string & { readonly engineReason: true };
/** Engine reasons the gateway's own checks answer too (the same name and code; docs/protocol.md "Reason and error codes"). */
export type SharedReason = 'unknown_symbol' | 'unknown_order' | 'bad_qty' | 'bad_price';
export type HttpErrorCode = GatewayHttpReason | SharedReason | EngineReason | ErrorCode;

const ENGINE_REASONS = new Set(Object.values(REASON_NAMES));
const GATEWAY_REASONS = new Set<string>(GATEWAY_HTTP_REASONS);

/** A reason string from the engine or the order entry service as a catalog name (`rejected` when it is none). */
export function httpReason(name: string | null | undefined): HttpErrorCode {
  if (name !== null && name !== undefined && (ENGINE_REASONS.has(name) || GATEWAY_REASONS.has(name))) return name as HttpErrorCode;
  return 'rejected';
}

/** Answers `status` with `{error, message?, ...extra}` (no `message` key when it is undefined). */
export function replyError(reply: FastifyReply, status: number, error: HttpErrorCode, message?: string, extra?: Record<string, unknown>): FastifyReply {
  const body = message === undefined ? { error, ...extra } : { error, message, ...extra };
  return reply.code(status).send(body);
}

/** A catalog error (src/domain/errors.ts): `{error: ERR_…, message}` with the catalog's status. */
export function replyCatalogError(reply: FastifyReply, e: TradsysError): FastifyReply {
  return replyError(reply, e.status, e.code, e.message);
}

/** fastify's errors (body too large or malformed, schema validation, anything thrown) in the API's form. */
export async function errorHandler(err: FastifyError & { validation?: unknown }, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  if (status >= 500) req.log.error({ err, req }, 'request failed');
  const error = status === 413 ? 'too_large' : status === 415 ? 'unsupported_media_type' : err.code === 'bad_json' ? 'bad_json'
    : err.validation !== undefined ? 'bad_request' : status < 500 ? 'bad_request' : 'internal';
  return replyError(reply, status, error, status < 500 ? err.message : 'internal error');
}
