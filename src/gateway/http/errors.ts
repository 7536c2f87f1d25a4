/**
 * The one way an HTTP error reply is built: `{error, message, …}` with its status (docs/errors.md
 * "HTTP error replies"), and fastify's error handler answering through it.
 *
 * Invariants: every error body of the API has `error` (a wire reason name or an ERR_ catalog code)
 * and, unless the contract says otherwise, `message`. Complexity: O(1). Allocation: the body.
 * Known limitations: none.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** Answers `status` with `{error, message?, ...extra}` (no `message` key when it is undefined). */
export function replyError(reply: FastifyReply, status: number, error: string, message?: string, extra?: Record<string, unknown>): FastifyReply {
  const body = message === undefined ? { error, ...extra } : { error, message, ...extra };
  return reply.code(status).send(body);
}

/** fastify's errors (body too large or malformed, schema validation, anything thrown) in the API's form. */
export async function errorHandler(err: FastifyError & { validation?: unknown }, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const status = err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
  if (status >= 500) req.log.error({ err, req }, 'request failed');
  const error = status === 413 ? 'too_large' : status === 415 ? 'unsupported_media_type' : err.code === 'bad_json' ? 'bad_json'
    : err.validation !== undefined ? 'bad_request' : status < 500 ? 'bad_request' : 'internal';
  return replyError(reply, status, error, status < 500 ? err.message : 'internal error');
}
