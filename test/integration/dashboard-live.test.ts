/**
 * The dashboard's WebSocket sessions (src/dashboard/live.ts with keys.ts), bundled for the browser
 * as the page is and run in a V8 context whose only WebSocket is the `ws` package's (standing in
 * for the browser's), against a real gateway: the binary session keeps a book and re-authenticates;
 * the lazy JSON session (ctx.liveJson) connects on its first subscribe, authenticates with the
 * page's key (a non-extractable WebCrypto key) before subscribing, and receives the admin-only
 * `alerts` channel; without admin the refusal is reported, not thrown.
 */
import { describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { createContext, runInContext } from 'node:vm';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { ROOT } from '../../src/abi/gen.js';
import { Instrument } from '../../src/domain/instruments.js';
import { useGateway, type GatewayFixture } from '../support/gateway-fixture.js';

interface Feed {
  state: string; account: number | null;
  start(): void; stop(): void; on(t: string, fn: (m: Record<string, unknown>) => void): () => void;
  subscribe(ch: string[]): () => void; book(s: string): { book: { synced: boolean; seq: number } | null; release(): void };
  authenticate(): Promise<number>;
}
interface Live {
  PageKeys: new () => { load(k: string, s: string): Promise<void>; accept(a: number): void; keyId: string | null };
  WsFeed: new (url: string, ins: Instrument[], keys: unknown, report: (w: string, e: unknown) => void, clear: (w: string) => void, protocol?: string, lazy?: boolean) => Feed;
}

async function load(): Promise<Live> {
  const entry = "export { WsFeed } from './src/dashboard/live.ts'; export { PageKeys } from './src/dashboard/keys.ts';";
  const r = await build({ stdin: { contents: entry, resolveDir: ROOT, loader: 'ts' }, bundle: true, platform: 'browser', format: 'iife', globalName: 'L', write: false, logLevel: 'silent', target: 'es2022' });
  const ctx = createContext({ WebSocket, TextEncoder, TextDecoder, URL, crypto: globalThis.crypto, performance, queueMicrotask, setTimeout, clearTimeout });
  runInContext(r.outputFiles[0]!.text, ctx);
  return ctx.L as Live;
}

const until = async (what: string, ok: () => boolean, ms = 10_000): Promise<void> => {
  for (const t0 = Date.now(); !ok(); await new Promise((r) => setTimeout(r, 20))) if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
};

let f: GatewayFixture;
useGateway({ tmpPrefix: 'dash-live-', storage: 'off', journal: { durability: 'none' } }, (x) => { f = x; });

describe('dashboard sessions (live.ts)', () => {
  it('binary: a live book; JSON (lazy): auth with the page key, then the admin alerts channel', async () => {
    const L = await load();
    const list = (await (await fetch(`${f.base}/api/v1/symbols`)).json()) as { id: number; symbol: string; tickSize: string; lotSize: string }[];
    const byId: Instrument[] = [];
    for (const s of list) byId[s.id] = new Instrument(s.id, { symbol: s.symbol, tickSize: s.tickSize, lotSize: s.lotSize });
    const errors: string[] = [];
    const report = (w: string, e: unknown): void => { errors.push(`${w}: ${(e as Error).message ?? String(e)}`); };
    const admin = f.key(7, ['admin', 'read']);
    const keys = new L.PageKeys();
    await keys.load(admin.key, admin.secret);

    const bin = new L.WsFeed(`${f.wsUrl}?protocol=binary`, byId, keys, report, () => {});
    bin.start();
    const h = bin.book('BTC-USD');
    f.gw.placeOrder(1, 0, { clientOrderId: 'l1', symbol: 'BTC-USD', side: 'buy', type: 'limit', tif: 'gtc', price: '59990.0', qty: '0.001' });
    await until('the binary session authenticated', () => bin.account === 7);
    await until('a synced book', () => h.book?.synced === true);

    const json = new L.WsFeed(f.wsUrl, byId, keys, report, () => {}, 'json', true);
    json.start(); // lazy: nothing yet
    await new Promise((r) => setTimeout(r, 200));
    expect(json.state).toBe('connecting');
    expect(json.account).toBeNull();
    const got: string[] = [];
    json.on('*', (m) => got.push(String(m.type)));
    json.subscribe(['alerts']);
    await until('the alerts snapshot', () => got.includes('alerts'));
    expect(json.account).toBe(7);
    expect(got.indexOf('auth')).toBeLessThan(got.indexOf('subscribed'));
    expect(errors).toEqual([]);
    bin.stop();
    json.stop();

    // a key without admin: the refusal is reported (not thrown, not a timeout)
    const trader = f.key(8);
    const k2 = new L.PageKeys();
    await k2.load(trader.key, trader.secret);
    const j2 = new L.WsFeed(f.wsUrl, byId, k2, report, () => {}, 'json', true);
    j2.subscribe(['alerts']);
    await until('the refusal', () => errors.length > 0);
    expect(errors[0]).toMatch(/subscribe alerts: forbidden/);
    j2.stop();
  });
});
