/**
 * `tradsys/client` (package.json "exports" "./client"): a TypeScript client for the WebSocket
 * protocols (docs/protocol.md), JSON or binary behind one API. Node programs use this entry
 * (TradsysClient: `ws` transport, node:crypto HMAC, EventEmitter events, client/node/); the
 * browser-safe half (session, codecs, local books, WebCrypto signer) is src/client/core/index.ts,
 * which imports nothing of Node.
 *
 * Layout: re-exports only. Invariants / Complexity / Allocation / Known limitations: see
 * client/node/client.ts and the client/core modules.
 */
export { TradsysClient, nodeSigner } from './node/client.js';
export { LocalBook } from './core/local-book.js';
export type { Msg, ClientOptions } from './core/types.js';
