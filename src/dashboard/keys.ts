/**
 * The API key entered in the page. The secret becomes a non-extractable WebCrypto HMAC key at once
 * and the text is dropped: nothing of it is kept in a string, in the DOM, in localStorage,
 * sessionStorage, cookies or the URL (docs/dashboard.md "Keys and security"). Reloading the page
 * forgets the key.
 *
 * Layout: one closure per page: `cryptoKey` (CryptoKey, HMAC SHA-256, usages ['sign']) and the
 * public part (key id, account once the gateway accepted it).
 * Invariants: `sign` uses only the CryptoKey; `forget` drops it; listeners hear each change once.
 * Complexity: O(message) per signature. Allocation: the digest and its hex text.
 * Known limitations: WebCrypto exists only in secure contexts (https, or http on localhost/127.0.0.1):
 * elsewhere `use` fails with a message that says so.
 */
import type { KeyHolder, KeyInfo } from './types.js';

const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

export class PageKeys implements KeyHolder {
  private cryptoKey: CryptoKey | null = null;
  private info: KeyInfo | null = null;
  private pendingKey: string | null = null;
  private readonly listeners = new Set<(k: KeyInfo | null) => void>();

  get current(): KeyInfo | null { return this.info; }
  /** The key id being tried (before the gateway accepted it), for signing the check itself. */
  get keyId(): string | null { return this.info?.key ?? this.pendingKey; }

  /** Imports the secret (then forgotten by the caller) for `key`; not yet `current` until `accept`. */
  async load(key: string, secret: string): Promise<void> {
    if (!KEY_ID.test(key)) throw new Error('the API key id is 1–64 characters of letters, digits, _ and - (e.g. tk_…)');
    if (secret.length === 0 || secret.length > 256) throw new Error('the secret is empty or too long');
    const subtle = globalThis.crypto?.subtle;
    if (!subtle) throw new Error('this page is not a secure context (WebCrypto is missing): open it over https or on localhost / 127.0.0.1 to use a key');
    this.cryptoKey = await subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    this.pendingKey = key;
    this.info = null;
  }

  /** The gateway accepted the key as `account`. */
  accept(account: number): void {
    if (this.pendingKey === null) return;
    this.info = { key: this.pendingKey, account };
    this.pendingKey = null;
    for (const fn of this.listeners) fn(this.info);
  }

  forget(): void {
    const had = this.info !== null;
    this.cryptoKey = null;
    this.info = null;
    this.pendingKey = null;
    if (had) for (const fn of this.listeners) fn(null);
  }

  async sign(message: string): Promise<string> {
    if (!this.cryptoKey) throw new Error('no API key entered');
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', this.cryptoKey, new TextEncoder().encode(message)));
    let hex = '';
    for (const b of mac) hex += b.toString(16).padStart(2, '0');
    return hex;
  }

  onChange(fn: (k: KeyInfo | null) => void): () => void {
    this.listeners.add(fn);
    return () => { this.listeners.delete(fn); };
  }
}
