/**
 * The WebSocket endpoint: `/ws` upgrades on the HTTP server (JSON by default,
 * `?protocol=binary` for the binary protocol, `?compress=1` for permessage-deflate), each
 * connection registered with the Connections service and its frames handed to JsonSession or
 * BinarySession.
 *
 * Layout: two WebSocketServers in noServer mode (plain, and permessage-deflate without context
 * takeover); one JsonSession and one BinarySession shared by all connections.
 * Invariants: any other path is refused (socket destroyed); an unknown protocol answers 400; a
 * connection closed by the server (revoked key, slow consumer) runs nothing it sends afterwards.
 * Complexity: O(1) per frame dispatch. Allocation: per connection (its Conn, listeners).
 * Known limitations: ws honours the deflate `threshold` only without context takeover.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { TradsysError } from '../../domain/errors.js';
import { BinarySession } from './binary.js';
import type { WsDeps } from './deps.js';
import { JsonSession } from './json.js';

export interface WsServerOptions {
  /** Max WS message size in bytes (default 4096). */
  maxPayload?: number;
  /** `/ws?compress=1`: compress frames of at least this many bytes (default 1024). */
  compressThreshold?: number;
}

export class WsServer {
  private readonly wss: WebSocketServer;
  /** Same as `wss`, negotiating permessage-deflate: for `/ws?compress=1`. */
  private readonly wssDeflate: WebSocketServer;
  private readonly json: JsonSession;
  private readonly binary: BinarySession;

  constructor(server: Server, private readonly d: WsDeps, opts: WsServerOptions) {
    const maxPayload = opts.maxPayload ?? 4096;
    const threshold = opts.compressThreshold ?? 1024;
    if (!Number.isInteger(threshold) || threshold < 0) throw new TradsysError('ERR_GATEWAY_CONFIG', `compressThreshold must be an integer ≥ 0, got ${String(threshold)}`);
    this.json = new JsonSession(d);
    this.binary = new BinarySession(d);
    this.wss = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: false });
    // ws honours `threshold` only without context takeover (with it, every frame is compressed)
    this.wssDeflate = new WebSocketServer({ noServer: true, maxPayload, perMessageDeflate: { threshold, serverNoContextTakeover: true } });
    server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/ws') { socket.destroy(); return; }
      const protocol = url.searchParams.get('protocol') ?? 'json';
      if (protocol !== 'json' && protocol !== 'binary') {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nprotocol must be json or binary\n');
        return;
      }
      const wss = url.searchParams.get('compress') === '1' ? this.wssDeflate : this.wss;
      const deflate = wss === this.wssDeflate;
      // binary frames of a connection without permessage-deflate are written to its socket directly (Conn.raw)
      wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, protocol === 'binary', req.socket.remoteAddress ?? '', deflate && ws.extensions !== '' ? null : socket));
    });
  }

  private onConnection(ws: WebSocket, binary: boolean, ip: string, raw: Duplex | null): void {
    const conns = this.d.conns;
    const c = conns.open(ws, binary, ip, raw);
    const session = binary ? this.binary : this.json;
    ws.on('pong', () => { c.lastSeen = Date.now(); });
    ws.on('message', (data, isBinary) => {
      if (!conns.isLive(c)) return; // closed by the server (revoked key, slow consumer): nothing more runs
      c.lastSeen = Date.now();
      session.onFrame(c, data as Buffer, isBinary);
    });
    ws.on('close', () => conns.disconnect(c));
    ws.on('error', () => conns.disconnect(c));
  }

  close(): void {
    this.d.conns.terminateAll();
    this.wss.close();
    this.wssDeflate.close();
  }
}
