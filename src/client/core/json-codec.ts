/**
 * The JSON protocol for a client (docs/protocol.md): one client message per text frame, one
 * server message per text frame. Browser-safe: text goes out through an injected `sendText`.
 *
 * Layout: UTF-8 JSON text. Invariants: `decode` returns exactly one message per frame.
 * Complexity: O(message). Allocation: the JSON text and the parsed object.
 * Known limitations: a malformed server frame throws (JSON.parse) to the transport's handler.
 */
import type { ClientCodec, Msg } from './types.js';

const utf8 = new TextDecoder();

export class JsonCodec implements ClientCodec {
  readonly protocol = 'json';
  constructor(private readonly sendText: (text: string) => void) {}
  send(m: Record<string, unknown>): void { this.sendText(JSON.stringify(m)); }
  decode(data: string | Uint8Array): Msg[] { return [JSON.parse(typeof data === 'string' ? data : utf8.decode(data)) as Msg]; }
  flush(): void { /* nothing is buffered */ }
}
