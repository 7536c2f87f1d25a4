/**
 * client/core: the browser-safe half of `tradsys/client` — protocol codecs, the session (requests,
 * authentication with an injected signer, order entry), and local books from snapshot + deltas
 * with gap detection, checksum verification and resynchronisation. No Node API and no `ws`
 * (enforced by .dependency-cruiser.cjs `client-core-browser-safe` and by
 * test/unit/client-core-browser.test.ts, which bundles this entry for the browser and runs it
 * without Node's globals). The dashboard builds on this entry; Node programs use src/client/index.ts.
 *
 * Layout: types.ts · local-book.ts · json-codec.ts · binary-codec.ts · sign.ts · session.ts.
 * Invariants / Complexity / Allocation / Known limitations: see each module.
 */
export type { Msg, ClientOptions, OrderRequest, ClientCodec } from './types.js';
export { LocalBook } from './local-book.js';
export { JsonCodec } from './json-codec.js';
export { BinaryCodec, loadInstruments } from './binary-codec.js';
export { webCryptoSigner, authPayload, type Signer } from './sign.js';
export { ClientSession, AuthenticationError } from './session.js';
export { Instrument } from '../../domain/instruments.js';
