/**
 * Test helper: a binary-protocol WebSocket client (src/codec/binary-protocol.ts) that queues the
 * decoded server messages and waits (bounded) for one matching a predicate.
 */
import WebSocket from 'ws';
import { sign, type ApiKey } from '../../src/gateway/auth.js';
import { BinaryWriter, decodeFrame, type ServerBinMessage } from '../../src/codec/binary-protocol.js';
import { MessageQueue } from './gateway-client.js';

export class BinClient extends MessageQueue<ServerBinMessage> {
  frames = 0;
  private readonly w = new BinaryWriter(256);
  private pings = 0;
  private constructor(readonly ws: WebSocket) {
    super();
    ws.on('message', (d: Buffer, isBinary) => {
      if (!isBinary) throw new Error(`text frame on a binary connection: ${d.toString()}`);
      this.frames++;
      for (const m of decodeFrame(d, 'server')) this.push(m);
    });
  }
  /** `url`: the ws://host:port/ws address (?protocol=binary is added). */
  static open(url: string): Promise<BinClient> {
    return new Promise((res, rej) => { const ws = new WebSocket(`${url}?protocol=binary`); ws.once('open', () => res(new BinClient(ws))); ws.once('error', rej); });
  }
  /** Builds one frame with `build` and sends it. */
  send(build: (w: BinaryWriter) => void): void { build(this.w); this.ws.send(this.w.take()!); }
  async auth(k: Pick<ApiKey, 'key' | 'secret'>, ts: number, reqId = 1): Promise<ServerBinMessage> {
    this.send((w) => w.auth(reqId, k.key, ts, sign(k.secret, k.key, ts)));
    return this.next((m) => m.kind === 'auth');
  }
  /** A ping round trip: everything the server sent this connection before it has arrived. */
  async sync(): Promise<void> {
    const id = 0x7f000000 + ++this.pings;
    this.send((w) => w.ping(id));
    await this.next((m) => m.kind === 'pong' && m.reqId === id);
  }
  closed(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((res) => this.ws.once('close', () => res()));
  }
  close(): void { this.ws.close(); }
}
