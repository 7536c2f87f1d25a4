/**
 * Test helpers for the gateway over loopback: a WebSocket client that queues JSON replies and
 * waits for one matching a predicate (bounded), and signed HTTP calls that return the raw answer
 * (status, headers, body text) for byte-for-byte comparisons.
 */
import WebSocket from 'ws';
import { sign, type ApiKey } from '../../src/gateway/auth.js';
import type { LocalBook } from '../../src/client/index.js';

export type Msg = Record<string, unknown>;

/** Messages as they arrive, and a bounded wait for the next one that matches (taken from the queue). */
export class MessageQueue<T> {
  readonly msgs: T[] = [];
  private waiters: { pred: (m: T) => boolean; res: (m: T) => void }[] = [];
  protected push(m: T): void {
    this.msgs.push(m);
    this.waiters = this.waiters.filter((w) => { if (w.pred(m)) { w.res(m); return false; } return true; });
  }
  next(pred: (m: T) => boolean, ms = 3000): Promise<T> {
    const hit = this.msgs.find(pred);
    if (hit) { this.msgs.splice(this.msgs.indexOf(hit), 1); return Promise.resolve(hit); }
    return new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error(`timed out waiting; got ${JSON.stringify(this.msgs.slice(-5))}`)), ms);
      this.waiters.push({ pred, res: (m) => { clearTimeout(t); this.msgs.splice(this.msgs.indexOf(m), 1); res(m); } });
    });
  }
}

export class WsClient extends MessageQueue<Msg> {
  readonly raw: string[] = [];
  private constructor(readonly ws: WebSocket) {
    super();
    ws.on('message', (d) => {
      const text = d.toString();
      this.raw.push(text);
      this.push(JSON.parse(text) as Msg);
    });
  }
  static open(url: string, opts?: WebSocket.ClientOptions): Promise<WsClient> {
    return new Promise((res, rej) => { const ws = new WebSocket(url, opts); ws.once('open', () => res(new WsClient(ws))); ws.once('error', rej); });
  }
  send(m: Msg | string): void { this.ws.send(typeof m === 'string' ? m : JSON.stringify(m)); }
  /** Sends a message and resolves with the next reply carrying the same reqId. */
  ask(m: Msg, reqId: string | number): Promise<Msg> {
    this.send({ ...m, reqId });
    return this.next((x) => x.reqId === reqId);
  }
  async auth(k: ApiKey, ts = nextTs()): Promise<Msg> {
    this.send({ op: 'auth', key: k.key, ts, sig: sign(k.secret, k.key, ts), reqId: `auth${ts}` });
    return this.next((m) => m.type === 'auth');
  }
  closed(): Promise<{ code: number; reason: string }> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: -1, reason: 'already closed' });
    return new Promise((res) => this.ws.once('close', (code, reason) => res({ code, reason: reason.toString() })));
  }
  close(): void { this.ws.close(); }
}

let lastTs = 0;
/** A fresh timestamp: distinct from the previous one, so two signatures never collide as a replay. */
export function nextTs(): number {
  lastTs = Math.max(Date.now(), lastTs + 1);
  return lastTs;
}

export interface HttpAnswer { status: number; headers: Record<string, string>; text: string; json: unknown }

/** A signed HTTP request (docs/protocol.md): headers X-TS-KEY, X-TS-TS, X-TS-SIG over key + ts + METHOD + url + body. */
export async function signed(base: string, k: Pick<ApiKey, 'key' | 'secret'>, method: string, path: string, body?: unknown, opts: { ts?: number; sig?: string; omit?: string[] } = {}): Promise<HttpAnswer> {
  const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
  const ts = opts.ts ?? nextTs();
  const sig = opts.sig ?? sign(k.secret, k.key, ts, method + path + text);
  const headers: Record<string, string> = { 'x-ts-key': k.key, 'x-ts-ts': String(ts), 'x-ts-sig': sig };
  if (body !== undefined) headers['content-type'] = 'application/json';
  for (const h of opts.omit ?? []) delete headers[h];
  return request(base, method, path, body === undefined ? undefined : text, headers);
}

export async function request(base: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const r = await fetch(base + path, { method, body, headers });
  const text = await r.text();
  let json: unknown = null;
  try { json = JSON.parse(text); } catch { json = null; }
  return { status: r.status, headers: Object.fromEntries(r.headers.entries()), text, json };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface HttpBook { seq: number; bids: string[][]; asks: string[][] }

/** Polls GET /api/v1/book until the client's local book is synced at the server's seq (≤ 3 s); returns the server's book. */
export async function bookWhenSynced(base: string, symbol: string, book: LocalBook): Promise<HttpBook> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const http = await (await fetch(`${base}/api/v1/book/${symbol}?depth=1000`)).json() as HttpBook;
    if ((book.synced && book.seq === http.seq) || Date.now() > deadline) return http;
    await new Promise((r) => setTimeout(r, 20));
  }
}
