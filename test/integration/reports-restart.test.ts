/**
 * Reports after a kill -9 restart (DESIGN "Client protocol" → "Who gets a report"): orders placed
 * over JSON and binary on a real `tradsys serve` process, the process killed with SIGKILL, a new
 * process started on the same data directory; a new connection of the same account then cancels
 * and modifies those orders (by clientOrderId and by orderId) and is answered, with its reqId,
 * and the fill of a resting order placed before the crash is reported to it. The other account
 * sees none of it. Needs the built CLI (`npm run build`).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerBinMessage } from '../../src/codec/binary-protocol.js';
import { DEMO_INSTRUMENTS, loadInstruments } from '../../src/domain/instruments.js';
import { WsClient, nextTs, type Msg } from '../support/gateway-client.js';
import { BinClient } from '../support/bin-client.js';
import { CLI } from '../support/cli.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';

interface Key { key: string; secret: string }

const servers: ServeProcess[] = [];

async function start(dataDir: string): Promise<ServeProcess> {
  const s = await startServe(dataDir, ['--no-sim', '--no-storage']);
  servers.push(s);
  return s;
}

function createKey(dataDir: string, account: number): Key {
  return JSON.parse(execFileSync(process.execPath, [CLI, 'keys', 'create', '--account', String(account), '--data', dataDir, '--json'], { encoding: 'utf8' })) as Key;
}

async function json(url: string, k: Key): Promise<WsClient> {
  const c = await WsClient.open(url);
  expect(await c.auth({ ...k, account: 0, permissions: ['trade', 'read'], created: '' })).toMatchObject({ ok: true });
  return c;
}
async function bin(url: string, k: Key): Promise<BinClient> {
  const c = await BinClient.open(url);
  expect(await c.auth(k, nextTs())).toMatchObject({ ok: true });
  return c;
}
const order = (cid: string, side: 'buy' | 'sell', price: string, qty: string): Msg => ({ op: 'order', clientOrderId: cid, symbol: 'AAPL', side, type: 'limit', tif: 'gtc', price, qty });

afterAll(() => { for (const s of servers) s.child.kill('SIGKILL'); });

describe('reports after kill -9 and a restart', () => {
  it('answers cancels and modifies from a new connection and reports fills there, JSON and binary', async () => {
    const aapl = loadInstruments(DEMO_INSTRUMENTS).find((i) => i.symbol === 'AAPL')!;
    const ticks = (px: string): number => Number(aapl.toTicks(px));
    const dir = mkdtempSync(join(tmpdir(), 'reports-restart-'));
    const keyA = createKey(dir, 1);
    const keyB = createKey(dir, 2);

    const s1 = await start(dir);
    const j1 = await json(s1.ws, keyA);
    for (const [cid, side, px, q] of [['j1', 'buy', '185.00', '5'], ['j2', 'buy', '184.00', '5'], ['j3', 'sell', '195.00', '3']] as const) j1.send(order(cid, side, px, q));
    const jAcks = new Map<string, Msg>();
    for (let i = 0; i < 3; i++) { const m = await j1.next((x) => x.type === 'ack'); jAcks.set(m.clientOrderId as string, m); }
    const b1 = await bin(s1.ws, keyA);
    b1.send((w) => {
      w.order(1, '71', aapl.id, 0, 0, 0, ticks('183.00'), 5);
      w.order(2, '72', aapl.id, 0, 0, 0, ticks('182.00'), 5);
      w.order(3, '73', aapl.id, 1, 0, 0, ticks('196.00'), 2);
    });
    const bAcks = new Map<string, Extract<ServerBinMessage, { kind: 'ack' }>>();
    for (let i = 0; i < 3; i++) { const m = await b1.next((x) => x.kind === 'ack') as Extract<ServerBinMessage, { kind: 'ack' }>; bAcks.set(m.clientOrderId, m); }
    s1.child.kill('SIGKILL');
    await s1.exited;

    const s2 = await start(dir);
    // new connections of the same account, JSON and binary: each is answered, with its reqId
    const j2 = await json(s2.ws, keyA);
    const b2 = await bin(s2.ws, keyA);
    j2.send({ op: 'cancel', clientOrderId: 'j1', reqId: 'r1' });
    expect(await j2.next((m) => m.reqId === 'r1')).toEqual({ type: 'cancelled', orderId: jAcks.get('j1')!.orderId, clientOrderId: 'j1', qty: '5', seq: expect.any(Number), reqId: 'r1' });
    j2.send({ op: 'modify', orderId: jAcks.get('j2')!.orderId, price: '184.50', qty: '4', reqId: 'r2' });
    expect(await j2.next((m) => m.reqId === 'r2')).toEqual({ type: 'modified', orderId: jAcks.get('j2')!.orderId, clientOrderId: 'j2', price: '184.50', qty: '4', seq: expect.any(Number), reqId: 'r2' });
    j2.send({ op: 'modify', clientOrderId: 'j2', price: '184.50', qty: '3', reqId: 'r3' });
    expect(await j2.next((m) => m.reqId === 'r3')).toMatchObject({ type: 'modified', clientOrderId: 'j2', qty: '3', reqId: 'r3' });
    j2.send({ op: 'cancel', orderId: jAcks.get('j2')!.orderId, reqId: 'r4' });
    expect(await j2.next((m) => m.reqId === 'r4')).toMatchObject({ type: 'cancelled', clientOrderId: 'j2', qty: '3', reqId: 'r4' });

    // binary: the same from the new binary connection
    b2.send((w) => w.cancel(11, '71', 0));
    expect(await b2.next((m) => m.reqId === 11)).toMatchObject({ kind: 'cancelled', reqId: 11, clientOrderId: '71', orderId: bAcks.get('71')!.orderId, qty: 5 });
    b2.send((w) => w.modify(12, '', bAcks.get('72')!.orderId, ticks('182.50'), 4));
    expect(await b2.next((m) => m.reqId === 12)).toMatchObject({ kind: 'modified', reqId: 12, clientOrderId: '72', qty: 4 });
    b2.send((w) => w.modify(13, '72', 0, ticks('182.50'), 2));
    expect(await b2.next((m) => m.reqId === 13)).toMatchObject({ kind: 'modified', reqId: 13, qty: 2 });
    b2.send((w) => w.cancel(14, '', bAcks.get('72')!.orderId));
    expect(await b2.next((m) => m.reqId === 14)).toMatchObject({ kind: 'cancelled', reqId: 14, clientOrderId: '72', qty: 2 });
    // and each connection saw the other's answers as copies, without the reqId
    expect(await j2.next((m) => m.type === 'cancelled' && m.clientOrderId === '71')).not.toHaveProperty('reqId');
    expect(await j2.next((m) => m.type === 'modified' && m.clientOrderId === '72')).not.toHaveProperty('reqId');
    expect(await b2.next((m) => m.kind === 'cancelled' && m.orderId === Number(jAcks.get('j1')!.orderId))).toMatchObject({ reqId: 0, clientOrderId: '' }); // a JSON id with no binary form

    // fills of orders placed before the crash, by another account
    const other = await json(s2.ws, keyB);
    other.send({ ...order('t1', 'buy', '196.00', '5'), tif: 'ioc' });
    const taker = [await other.next((m) => m.type === 'fill'), await other.next((m) => m.type === 'fill')];
    expect(taker.map((f) => [f.price, f.qty, f.liquidity])).toEqual([['195.00', '3', 'taker'], ['196.00', '2', 'taker']]);
    expect(await j2.next((m) => m.type === 'fill' && m.clientOrderId === 'j3')).toMatchObject({ orderId: jAcks.get('j3')!.orderId, price: '195.00', qty: '3', leaves: '0', liquidity: 'maker' });
    expect(await j2.next((m) => m.type === 'fill' && m.clientOrderId === '73')).toMatchObject({ price: '196.00', qty: '2', leaves: '0', liquidity: 'maker' });
    expect(await b2.next((m) => m.kind === 'fill' && m.clientOrderId === '73')).toMatchObject({ reqId: 0, orderId: bAcks.get('73')!.orderId, qty: 2, leaves: 0, liquidity: 'maker' });
    expect(await b2.next((m) => m.kind === 'fill' && m.orderId === Number(jAcks.get('j3')!.orderId))).toMatchObject({ qty: 3, leaves: 0 });
    other.send({ op: 'ping', reqId: 'end' });
    await other.next((m) => m.type === 'pong');
    expect(other.msgs.filter((m) => m.type === 'cancelled' || m.type === 'modified' || (m.type === 'fill' && m.liquidity === 'maker'))).toEqual([]);
    for (const c of [j1, b1, j2, b2, other]) c.close();
    s2.child.kill('SIGKILL');
    await s2.exited;
  }, 120_000);
});
