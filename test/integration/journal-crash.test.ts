/**
 * kill -9 of a real `tradsys serve` process at random moments while a client streams up to
 * 100,000 orders over WebSocket, then a restart on the same data directory: every acknowledged
 * order (ack or reject) is in the journal with its order id, none twice, the sequence is
 * contiguous, a live order resent by clientOrderId is answered with the original order, and the
 * restarted server's book (snapshot + tail recovery) equals an uninterrupted replay of the same
 * journal from seq 1. Every other trial runs with `--preallocate`. CI runs 20 trials
 * (CRASH_TRIALS overrides).
 */
import { describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { sign } from '../../src/gateway/auth.js';
import { readRecords, recover } from '../../src/journal/recovery.js';
import { replayInto } from '../../src/engine/recovery.js';
import { Engine } from '../../src/engine/engine.js';
import { CMD_OFF, RING_CMD_OFF, ENUMS } from '../../src/abi/records.js';
import { DEMO_INSTRUMENTS, loadInstruments } from '../../src/domain/instruments.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';

const TRIALS = Number(process.env.CRASH_TRIALS ?? (process.env.CI ? 20 : 4));
const MAX_ORDERS = 100_000;


function start(dataDir: string, preallocate: boolean): Promise<ServeProcess> {
  return startServe(dataDir, ['--no-sim', '--rate-limit', '10000000', '--max-open-orders', '0', '--snapshot-every', '20000', ...(preallocate ? ['--preallocate'] : [])]);
}

interface Outcome { orderId: string; kind: 'ack' | 'reject' }

/** Streams orders until `killAt` outcomes arrived (then SIGKILL) or all were answered. */
async function stream(s: ServeProcess, killAt: number, seed: number): Promise<{ acked: Map<string, Outcome>; open: Map<string, string> }> {
  const ws = new WebSocket(s.url.replace('http', 'ws') + '/ws');
  await new Promise((r, j) => { ws.once('open', r); ws.once('error', j); });
  const acked = new Map<string, Outcome>();
  const open = new Map<string, string>();
  let rnd = seed >>> 0;
  const next = (): number => { rnd = (Math.imul(rnd, 1664525) + 1013904223) >>> 0; return rnd / 4294967296; };
  let sent = 0;
  let killed = false;
  let authed = false;
  const done = new Promise<void>((resolve) => {
    const pump = (): void => {
      while (authed && !killed && sent < MAX_ORDERS && sent - acked.size < 256) {
        const cid = `c${sent++}`;
        const side = next() < 0.5 ? 'buy' : 'sell';
        const price = (188 + Math.floor(next() * 400) / 100).toFixed(2); // inside AAPL's collar band around its reference price 190.00
        ws.send(JSON.stringify({ op: 'order', clientOrderId: cid, symbol: 'AAPL', side, type: 'limit', tif: next() < 0.7 ? 'gtc' : 'ioc', price, qty: String(1 + Math.floor(next() * 20)) }));
      }
    };
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as Record<string, unknown>;
      if (m.type === 'auth') { authed = m.ok === true; pump(); return; }
      if (m.type === 'ack' || m.type === 'reject') {
        const cid = m.clientOrderId as string;
        acked.set(cid, { orderId: String(m.orderId), kind: m.type });
        if (m.type === 'ack') open.set(cid, String(m.orderId));
        if (!killed && acked.size >= killAt) { killed = true; s.child.kill('SIGKILL'); resolve(); return; }
        if (acked.size === MAX_ORDERS) { resolve(); return; }
        pump();
      }
      if (m.type === 'fill' && m.leaves === '0' || m.type === 'cancelled') open.delete(m.clientOrderId as string);
    });
    ws.on('close', () => resolve());
  });
  const ts = Date.now();
  ws.send(JSON.stringify({ op: 'auth', key: s.key, ts, sig: sign(s.secret, s.key, ts) }));
  await done;
  ws.terminate();
  return { acked, open };
}

describe('kill -9 during order submission', () => {
  it(`loses no acknowledged order and recovers the exact state (${TRIALS} trials)`, async () => {
    const ins = loadInstruments(DEMO_INSTRUMENTS);
    const aapl = ins.find((i) => i.symbol === 'AAPL')!;
    let seed = 20261124;
    let resent = 0;
    let acknowledged = 0;
    for (let t = 0; t < TRIALS; t++) {
      const dir = mkdtempSync(join(tmpdir(), 'crash-'));
      const pre = t % 2 === 1; // every other trial with journal segment preallocation (its thread is killed too)
      const s1 = await start(dir, pre);
      seed = (Math.imul(seed, 48271) + 7) >>> 0;
      const killAt = 1 + (seed % (MAX_ORDERS - 1));
      const { acked, open } = await stream(s1, Math.min(killAt, 1 + (seed % 60_000)), seed);
      await s1.exited;
      expect(acked.size).toBeGreaterThan(0);

      // restart on the same data directory: recovery (snapshot + tail) and catch-up
      const s2 = await start(dir, pre);
      // a live order resent by clientOrderId is answered with the original order, not a second one
      const ws = new WebSocket(s2.url.replace('http', 'ws') + '/ws');
      const msgs: Record<string, unknown>[] = [];
      ws.on('message', (d) => msgs.push(JSON.parse(d.toString()) as Record<string, unknown>));
      await new Promise((r) => ws.once('open', r));
      const ts = Date.now();
      ws.send(JSON.stringify({ op: 'auth', key: s2.key, ts, sig: sign(s2.secret, s2.key, ts) }));
      // candidates the client believes open; keep those the recovered server says are live
      const resend: [string, string][] = [];
      for (const [cid, orderId] of [...open.entries()].slice(-10)) {
        const path = `/api/v1/orders?clientOrderId=${cid}`;
        const t2 = Date.now() + resend.length + 1;
        const r = await fetch(s2.url + path, { headers: { 'x-ts-key': s2.key, 'x-ts-ts': String(t2), 'x-ts-sig': sign(s2.secret, s2.key, t2, 'GET' + path) } });
        if (r.status === 200) resend.push([cid, orderId]);
        if (resend.length === 3) break;
      }
      for (const [cid] of resend) ws.send(JSON.stringify({ op: 'order', clientOrderId: cid, symbol: 'AAPL', side: 'buy', type: 'limit', tif: 'gtc', price: '1.00', qty: '1' }));
      for (let i = 0; i < 300 && msgs.filter((m) => m.type === 'ack' || m.type === 'reject').length < resend.length; i++) await new Promise((r) => setTimeout(r, 10));
      resent += resend.length;
      acknowledged += acked.size;
      for (const [cid, orderId] of resend) {
        const m = msgs.find((x) => x.clientOrderId === cid)!;
        expect(m).toMatchObject({ type: 'ack', orderId, duplicate: true });
      }
      ws.terminate();
      const book = await (await fetch(`${s2.url}/api/v1/book/AAPL?depth=1000`)).json() as { bids: string[][]; asks: string[][] };
      s2.child.kill('SIGTERM');
      await s2.exited;

      // the journal: contiguous, every acknowledged order present once with its id
      const jdir = join(dir, 'journal');
      const rec = recover(jdir, { repair: false, log: () => {} });
      const byCid = new Map<string, string[]>();
      let seq = 0n;
      for (const r of readRecords(jdir)) {
        expect(r.seq).toBe(++seq);
        const c = new DataView(r.cmd.buffer, r.cmd.byteOffset, r.cmd.byteLength);
        if (c.getUint8(CMD_OFF.op) !== ENUMS.Op.NEW || c.getUint32(CMD_OFF.account, true) !== 1) continue;
        let cid = '';
        for (let i = 0; i < r.cmd[RING_CMD_OFF.cidLen]!; i++) cid += String.fromCharCode(r.cmd[RING_CMD_OFF.cid0 + i]!);
        const ids = byCid.get(cid) ?? [];
        ids.push(String(c.getBigUint64(CMD_OFF.id, true)));
        byCid.set(cid, ids);
      }
      expect(seq).toBe(rec.lastSeq);
      let lost = 0;
      let dup = 0;
      for (const [cid, o] of acked) {
        const ids = byCid.get(cid);
        if (!ids || !ids.includes(o.orderId)) lost++;
      }
      for (const ids of byCid.values()) if (ids.length > 1) dup++;
      expect({ lost, dup }).toEqual({ lost: 0, dup: 0 });

      // the recovered server's book = an uninterrupted replay of the same journal from seq 1
      const e = new Engine({ symbols: ins.length, capacity: 1_000_000, risk: { maxAccounts: 65536, maxPositions: 262144, defaultMaxOpenOrders: 0 } });
      e.applyRiskSetup({ symbols: ins.map((i) => i.riskLimits()) });
      replayInto(e, readRecords(jdir));
      const want = (side: number): string[][] => e.depth(aapl.id, side, 1000).map((l) => [aapl.toPrice(l.price), aapl.toQty(l.qty)]);
      expect(book.bids).toEqual(want(0));
      expect(book.asks).toEqual(want(1));
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(resent).toBeGreaterThan(0);
    expect(acknowledged).toBeGreaterThan(TRIALS * 100);
  }, 900_000);
});
