/**
 * Request signing for the client's `auth` message: sig = hex(HMAC-SHA256(secret, key + ts))
 * (docs/protocol.md "Authentication"). The signer is injected: client/node uses node:crypto,
 * browsers `webCryptoSigner` (WebCrypto, `crypto.subtle`, also present in Node ≥ 20).
 *
 * Layout: the secret and the message are UTF-8; the result is 64 lowercase hex characters.
 * Invariants: every signer gives the same text for the same inputs (tested against node:crypto).
 * Complexity: O(message). Allocation: the key, the digest and its hex text.
 * Known limitations: WebCrypto exists only in secure contexts (https or localhost) in browsers.
 */

/** Returns hex(HMAC-SHA256(secret, message)), synchronously or as a promise. */
export type Signer = (secret: string, message: string) => string | Promise<string>;

/** The text of the auth signature for `key` at `ts` (ms since the epoch). */
export function authPayload(key: string, ts: number): string { return key + String(ts); }

/** HMAC-SHA256 through WebCrypto (`globalThis.crypto.subtle`). */
export const webCryptoSigner: Signer = async (secret, message) => {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('WebCrypto (crypto.subtle) is not available here; pass a signer');
  const enc = new TextEncoder();
  const k = await subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await subtle.sign('HMAC', k, enc.encode(message)));
  let hex = '';
  for (const b of mac) hex += b.toString(16).padStart(2, '0');
  return hex;
};
