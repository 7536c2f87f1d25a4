/**
 * `tradsys/client` with `protocol: 'binary'`: the same API and events as over JSON (order entry
 * promises, execution reports, a local book that detects a lost delta and resynchronises), checked
 * against the gateway's book over loopback.
 */
import { describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway/gateway.js';
import type { ApiKey } from '../../src/gateway/auth.js';
import { TradsysClient } from '../../src/client/index.js';
import { bookWhenSynced } from '../support/gateway-client.js';
import { useGateway } from '../support/gateway-fixture.js';

let gw: Gateway;
let base: string;
let keyA: ApiKey;
let keyB: ApiKey;

useGateway({ tmpPrefix: 'gwc-', capacity: 10_000 }, (f) => {
  ({ gw, base } = f);
  keyA = f.key(1);
  keyB = f.key(2);
}, 60_000);

describe('tradsys/client over the binary protocol', () => {
  it('authenticates, trades, and keeps a local book that resynchronises after a gap', async () => {
    const url = base.replace('http', 'ws') + '/ws';
    await expect(TradsysClient.connect(url, { key: keyA.key, secret: '0'.repeat(64), protocol: 'binary' })).rejects.toThrow(/authentication failed: invalid_credentials/);
    const a = await TradsysClient.connect(url, { key: keyA.key, secret: keyA.secret, protocol: 'binary' });
    const b = await TradsysClient.connect(url, { key: keyB.key, secret: keyB.secret, protocol: 'binary' });
    expect([a.protocol, a.account]).toEqual(['binary', 1]);
    const book = b.book('AAPL');
    const fills: Record<string, unknown>[] = [];
    const bReports: Record<string, unknown>[] = [];
    a.on('fill', (m: Record<string, unknown>) => fills.push(m));
    for (const t of ['ack', 'fill', 'cancelled', 'modified']) b.on(t, (m: Record<string, unknown>) => bReports.push(m));
    // several orders in one tick travel in one frame
    const acks = await Promise.all(Array.from({ length: 30 }, (_, i) => {
      if (i === 10) book.dropNext = true; // lose one delta: the client must notice and resync
      return a.order({ clientOrderId: String(100 + i), symbol: 'AAPL', side: i % 2 ? 'sell' : 'buy', type: 'limit', tif: 'gtc', price: (i % 2 ? 191 + (i % 5) * 0.01 : 189 - (i % 5) * 0.01).toFixed(2), qty: '3' });
    }));
    expect(acks.map((r) => r.type)).toEqual(Array(30).fill('ack'));
    expect(acks[0]).toMatchObject({ clientOrderId: '100', seq: expect.any(Number), orderId: expect.stringMatching(/^\d+$/) });
    expect(await a.order({ clientOrderId: '100', symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '189.00', qty: '3' })).toMatchObject({ type: 'ack', orderId: acks[0]!.orderId, duplicate: true, seq: null });
    expect((await b.order({ clientOrderId: '1', symbol: 'AAPL', side: 'buy', type: 'market', tif: 'ioc', qty: '4' })).type).toBe('ack');
    expect(await a.cancel('100')).toMatchObject({ type: 'cancelled', clientOrderId: '100', qty: '3' });
    expect(await a.modify('102', '188.50', '1')).toMatchObject({ type: 'modified', price: '188.50', qty: '1' });
    expect(await a.cancel('999')).toMatchObject({ type: 'reject', reason: 'unknown_order' });
    expect(await a.order({ clientOrderId: '500', symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '189.001', qty: '1' }).catch((e: Error) => e.message)).toMatch(/tick size/);
    await expect(a.order({ clientOrderId: 'abc', symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '189', qty: '1' })).rejects.toThrow(/decimal integer/);
    const http = await bookWhenSynced(base, 'AAPL', book);
    expect(book.resyncs).toBeGreaterThanOrEqual(1);
    expect(book.seq).toBe(http.seq);
    expect(book.levels('bids', 1000)).toEqual(http.bids);
    expect(book.levels('asks', 1000)).toEqual(http.asks);
    expect(fills.length).toBeGreaterThanOrEqual(2);
    expect(fills[0]).toMatchObject({ liquidity: 'maker', price: expect.stringMatching(/^191\.\d\d$/), qty: '3' });
    // b sees only its own reports
    expect(bReports.length).toBeGreaterThan(0);
    expect(bReports.every((m) => m.clientOrderId === '1')).toBe(true);
    a.close(); b.close();
  });
});
