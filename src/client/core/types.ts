/**
 * The client's message and option types, shared by client/core (browser-safe) and client/node:
 * every message, sent or received, has the JSON protocol's shape (docs/protocol.md), whichever
 * protocol the connection speaks.
 *
 * Layout: plain types. Invariants / Complexity / Allocation: none (types only).
 * Known limitations: `Msg` is loosely typed (the JSON protocol's fields by name).
 */

/** One message in the JSON protocol's shape (a server message, or a client one before encoding). */
export type Msg = Record<string, unknown> & { type: string };

export interface ClientOptions { key: string; secret: string; cancelOnDisconnect?: boolean; timeoutMs?: number; protocol?: 'json' | 'binary' }

/** A new order as the JSON protocol spells it (decimal strings). */
export interface OrderRequest { clientOrderId: string; symbol: string; side: 'buy' | 'sell'; type: 'limit' | 'market'; tif: 'gtc' | 'ioc' | 'fok' | 'post_only'; price?: string; qty: string }

/**
 * One connection's wire codec: client messages (JSON shape) out, server data in as JSON-shaped
 * messages. `flush` sends what `send` buffered (the binary codec coalesces a tick into one frame).
 */
export interface ClientCodec {
  readonly protocol: 'json' | 'binary';
  send(m: Record<string, unknown>): void;
  decode(data: string | Uint8Array): Msg[];
  flush(): void;
}
