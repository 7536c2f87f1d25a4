/**
 * `--from-server`: a running gateway's market data (book snapshots, deltas, trades over the WebSocket
 * client) published as a UDP feed, received by the dgram path into a ring, rebuilt by the book builder:
 * its level totals (D) equal the server's book (GET /api/v1/book/:symbol) after a seeded burst of orders,
 * and the trades arrive as P messages. Bounded waits; gateway, clients and sockets closed at the end.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayFixture } from '../support/gateway-fixture.js';
import { TradsysClient } from '../../src/client/node/client.js';
import { DEMO_INSTRUMENTS, Instrument } from '../../src/domain/instruments.js';
import { ServerFeedSource } from '../../src/marketdata/feed/server-source.js';
import { Publisher } from '../../src/marketdata/feed/publisher.js';
import { DgramReceiver } from '../../src/marketdata/feed/dgram-receiver.js';
import { FeedRing, recType } from '../../src/marketdata/feed/ring.js';
import { FeedBookBuilder } from '../../src/marketdata/feed/book-builder.js';
import { MSG_TRADE } from '../../src/marketdata/feed/codec.js';

let f: GatewayFixture;
beforeAll(async () => { f = await startGateway({ storage: 'off', journal: { durability: 'none' }, tmpPrefix: 'feed-srv-', logs: { stderr: false } }); }, 60_000);
afterAll(async () => { await f?.close(); }, 60_000);

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('feed publisher --from-server', () => {
  it('relays the server\'s books and trades; the feed\'s books equal GET /api/v1/book', async () => {
    const list = await (await fetch(`${f.base}/api/v1/symbols`)).json() as { id: number; symbol: string; tickSize: string; lotSize: string }[];
    // two of the demo instruments, with their reference prices (the price collar is around them)
    const inst = list.filter((s) => s.symbol === 'AAPL' || s.symbol === 'MSFT').map((s) => new Instrument(s.id, DEMO_INSTRUMENTS.find((d) => d.symbol === s.symbol)!));
    expect(inst.length).toBe(2);
    const maxId = Math.max(...list.map((s) => s.id));
    const mk = f.key(1, ['read']);
    const source = await ServerFeedSource.connect({ url: f.wsUrl, key: mk.key, secret: mk.secret, symbols: inst.map((i) => i.symbol) });
    const ring = FeedRing.create(1 << 14);
    const books = new FeedBookBuilder(ring, maxId + 1);
    const rx = await DgramReceiver.open({ ring, bindAddress: '127.0.0.1', port: 0, gapTimeoutMs: 2000 });
    const pub = new Publisher(source, { session: 'SRV', host: '127.0.0.1', port: rx.port, rate: 0, heartbeatMs: 100, lingerMs: 0 });
    const done = pub.start();
    let trades = 0;
    const iv = setInterval(() => {
      const r = books.reader;
      for (let k = 0, n = r.available(); k < n; k++) if (recType(ring.dv, r.at(k)) === MSG_TRADE) trades++;
      books.poll();
    }, 2);
    try {
      // a seeded burst of orders from two accounts: resting orders on both sides, then crossing ones
      const ka = f.key(11, ['trade', 'read']);
      const kb = f.key(12, ['trade', 'read']);
      const a = f.client(await TradsysClient.connect(f.wsUrl, { key: ka.key, secret: ka.secret }));
      const b = f.client(await TradsysClient.connect(f.wsUrl, { key: kb.key, secret: kb.secret }));
      let x = 12345;
      const rnd = (n: number): number => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return (x >>> 8) % n; };
      let cid = 0;
      for (const i of inst) {
        const mid = Number(i.referenceTicks) + rnd(50);
        for (let k = 0; k < 20; k++) {
          const buy = k % 2 === 0;
          const px = i.toPrice(BigInt(buy ? mid - 1 - rnd(8) : mid + 1 + rnd(8)));
          const r = await a.order({ clientOrderId: `a${++cid}`, symbol: i.symbol, side: buy ? 'buy' : 'sell', type: 'limit', tif: 'gtc', price: px, qty: i.toQty(1 + rnd(5)) });
          expect(r.type, JSON.stringify(r)).toBe('ack');
        }
        for (let k = 0; k < 4; k++) {
          const buy = k % 2 === 0;
          const px = i.toPrice(BigInt(buy ? mid + 5 : mid - 5));
          await b.order({ clientOrderId: `b${++cid}`, symbol: i.symbol, side: buy ? 'buy' : 'sell', type: 'limit', tif: 'ioc', price: px, qty: i.toQty(3) });
        }
      }
      // the feed catches up with the server's book
      const serverBook = async (i: Instrument): Promise<[number, number][][]> => {
        const m = await (await fetch(`${f.base}/api/v1/book/${i.symbol}?depth=1000`)).json() as { bids: [string, string][]; asks: [string, string][] };
        return [m.bids, m.asks].map((side) => side.map(([p, q]) => [Number(i.toTicks(p)), i.toLots(q)] as [number, number]));
      };
      for (const i of inst) {
        // the server's book settles (its projection follows the engine) and the feed follows it
        let want: [number, number][][] = [];
        let got = '';
        for (const end = Date.now() + 15_000; Date.now() < end;) {
          want = await serverBook(i);
          got = JSON.stringify([books.deltaDepth(i.id, 0, 1000), books.deltaDepth(i.id, 1, 1000)]);
          if (got === JSON.stringify(want)) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        expect(want[0]!.length + want[1]!.length).toBeGreaterThan(5);
        expect(JSON.parse(got)).toEqual(want);
      }
      await until(() => trades > 0, 5000);
      expect(books.stats()).toMatchObject({ inconsistent: 0, gapRecords: 0, staleSymbols: 0 });
      expect(books.stats().resets).toBeGreaterThanOrEqual(inst.length); // one S R per symbol's snapshot
      expect(rx.stats()).toMatchObject({ session: 'SRV', unrecovered: 0 });
      expect(source.error).toBeNull();
    } finally {
      clearInterval(iv);
      pub.stop('test');
      await done;
      await rx.close();
      books.close();
    }
  });
});
