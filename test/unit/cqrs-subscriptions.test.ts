import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, openSync, writeSync, closeSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInstruments } from '../../src/domain/instruments.js';
import type { SeqBatch } from '../../src/cqrs/events.js';
import { readBatches } from '../../src/cqrs/journal-reader.js';
import { ReadModels } from '../../src/cqrs/read-models.js';
import { reportsOf } from '../../src/cqrs/reports.js';
import { catchUpThenLive, replayAccountReports, type LiveFeed } from '../../src/cqrs/subscriptions.js';
import { listSegments } from '../../src/journal/index.js';
import { TradsysError } from '../../src/domain/errors.js';
import { JournaledEngine, randomCommands, rng } from '../support/journaled-engine.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'cqrs-sub-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

const INS = loadInstruments([
  { symbol: 'AAA', tickSize: '0.5', lotSize: '0.01' },
  { symbol: 'BBB', tickSize: '0.01', lotSize: '1' },
]);

/** A feed that drops some live batches (to force the journal gap fill). */
function lossy(feed: LiveFeed, drop: (b: SeqBatch) => boolean): LiveFeed {
  return { subscribe: (l) => feed.subscribe((b) => { if (!drop(b)) l(b); }) };
}

/** Iterates until seq `last`; fails (instead of hanging) when the generator stalls for 5 s. */
async function collectUntil(gen: AsyncGenerator<SeqBatch>, last: bigint, onEach: (b: SeqBatch, i: number) => void, maxItems = 100_000): Promise<SeqBatch[]> {
  const out: SeqBatch[] = [];
  while (out.length < maxItems) {
    let timer: NodeJS.Timeout | undefined;
    const stall = new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`stalled after seq ${out.at(-1)?.seq ?? 'none'}`)), 5000); });
    const r = await Promise.race([gen.next(), stall]).finally(() => clearTimeout(timer));
    if (r.done) break;
    out.push(r.value);
    onEach(r.value, out.length);
    if (r.value.seq >= last) break;
  }
  await gen.return(undefined);
  return out;
}

describe('catchUpThenLive', () => {
  it.each([[1n, false], [137n, false], [300n, true], [1n, true]] as const)('from seq %s (lossy live feed: %s): every seq once, in order, equal to the journal', async (from, drop) => {
    const je = new JournaledEngine(dir, { symbols: 2, capacity: 10_000, risk: {} }, 3);
    const cmds = randomCommands(9, 900);
    for (const { cmd, cid } of cmds.slice(0, 400)) je.submit(cmd, cid);
    je.drain();
    let fed = 400;
    const r = rng(3);
    // a lossy feed (never the last batches, which the consumer waits for) forces journal gap fills
    const feed = drop ? lossy(je.feed(), (b) => b.seq < 850n && r() < 0.3) : je.feed();
    const gen = catchUpThenLive(dir, from, feed);
    // while the consumer is still catching up (and after), the engine keeps sequencing commands
    const got = await collectUntil(gen, 900n, (_b, i) => {
      if (i % 7 === 0 && fed < 900) {
        for (const { cmd, cid } of cmds.slice(fed, fed + 25)) je.submit(cmd, cid);
        fed = Math.min(900, fed + 25);
        je.step(); je.step();
      }
      if (fed === 900 && je.pending > 0) je.drain();
    });
    je.drain();
    expect(got.map((b) => b.seq)).toEqual(Array.from({ length: 900 - Number(from) + 1 }, (_, i) => from + BigInt(i)));
    const journal = [...readBatches(dir, from)];
    expect(got.map((b) => b.events)).toEqual(journal.map((b) => b.events));
    // both sources were used
    expect(got.some((b) => b.command === null)).toBe(true);
    expect(got.some((b) => b.command !== null)).toBe(true);
    je.close();
  });

  it('waits for live batches after the catch-up and stops on abort, unsubscribing', async () => {
    const je = new JournaledEngine(dir);
    je.submit({ op: 1, side: 0, type: 0, tif: 0, symbol: 0, id: 1n, price: 100n, qty: 1, account: 1 });
    je.drain();
    let listeners = 0;
    const base = je.feed();
    const feed: LiveFeed = { subscribe: (l) => { listeners++; const u = base.subscribe(l); return () => { listeners--; u(); }; } };
    const ac = new AbortController();
    const gen = catchUpThenLive(dir, 1n, feed, { signal: ac.signal });
    expect((await gen.next()).value!.seq).toBe(1n);
    expect(listeners).toBe(1);
    const pending = gen.next();
    je.submit({ op: 2, side: 0, type: 0, tif: 0, symbol: 0, id: 1n, price: 0n, qty: 0, account: 1 });
    je.step();
    const b = (await pending).value!;
    expect(b.seq).toBe(2n);
    expect(b.events[0]!.type).toBe('X');
    const after = gen.next();
    ac.abort();
    expect((await after).done).toBe(true);
    expect(listeners).toBe(0);
    je.close();
  });

  it('fails with ERR_CQRS_LAGGED when the consumer falls further behind than maxBuffered', async () => {
    const je = new JournaledEngine(dir);
    const gen = catchUpThenLive(dir, 1n, je.feed(), { maxBuffered: 5 });
    const first = gen.next(); // subscribes, reads the (empty) journal, waits
    for (let i = 1; i <= 5; i++) je.submit({ op: 1, side: 0, type: 0, tif: 0, symbol: 0, id: BigInt(i), price: 100n, qty: 1, account: 1 });
    je.drain();
    expect((await first).value!.seq).toBe(1n); // 5 buffered: within the limit
    for (let i = 6; i <= 12; i++) je.submit({ op: 1, side: 0, type: 0, tif: 0, symbol: 0, id: BigInt(i), price: 100n, qty: 1, account: 1 });
    je.drain(); // 4 still buffered + 7 more > 5
    await expect(gen.next()).rejects.toThrow(/fell more than 5 commands behind the live stream at seq 1; subscribe again from 2/);
    je.close();
  });

  it('reads while a record is half written at the tail, and refuses damage inside the range asked for', () => {
    const je = new JournaledEngine(dir);
    for (let i = 1; i <= 5; i++) je.submit({ op: 1, side: 0, type: 0, tif: 0, symbol: 0, id: BigInt(i), price: 100n, qty: 1, account: 1 });
    je.drain();
    je.close();
    const seg = listSegments(dir).at(-1)!;
    const size = statSync(seg.path).size;
    const fd = openSync(seg.path, 'r+');
    writeSync(fd, new Uint8Array([200, 0, 0, 0, 1, 2, 3, 4, 6, 0, 0, 0]), 0, 12, size); // a torn next record
    closeSync(fd);
    expect([...readBatches(dir)].map((b) => b.seq)).toEqual([1n, 2n, 3n, 4n, 5n]);
    expect([...readBatches(dir, 2n, 4n)].map((b) => b.seq)).toEqual([2n, 3n, 4n]);
    expect(() => [...readBatches(dir, 1n, 6n)]).toThrow(TradsysError);
  });
});

describe('replayAccountReports (WebSocket resume)', () => {
  it('replays ack, fill (maker and taker), modified, cancelled and reject reports in the protocol shapes', () => {
    const je = new JournaledEngine(dir);
    je.submit({ op: 1, side: 1, type: 0, tif: 0, symbol: 0, id: 1n, price: 200n, qty: 300, account: 7 }, 'sell-1'); // 100.0 × 3.00
    je.submit({ op: 1, side: 0, type: 0, tif: 1, symbol: 0, id: 2n, price: 201n, qty: 100, account: 8 }, 'buy-1'); // IOC takes 1.00
    je.submit({ op: 3, side: 1, type: 0, tif: 0, symbol: 0, id: 1n, price: 199n, qty: 150, account: 7 }); // modified → 99.5 × 1.50
    je.submit({ op: 2, side: 1, type: 0, tif: 0, symbol: 0, id: 1n, price: 0n, qty: 0, account: 7 });
    je.submit({ op: 1, side: 0, type: 0, tif: 0, symbol: 0, id: 3n, price: 0n, qty: 5, account: 7 }, 'bad-px'); // bad_price
    je.submit({ op: 2, side: 1, type: 0, tif: 0, symbol: 0, id: 1n, price: 0n, qty: 0, account: 7 }); // unknown_order now
    je.drain();
    const all = replayAccountReports(dir, 7, 0n, INS);
    expect(all.complete).toBe(true);
    expect(all.lastSeq).toBe(6n);
    expect(all.reports).toEqual([
      { type: 'ack', clientOrderId: 'sell-1', orderId: '1', seq: 1 },
      { type: 'fill', orderId: '1', clientOrderId: 'sell-1', tradeId: 1, price: '100.0', qty: '1.00', leaves: '2.00', liquidity: 'maker', seq: 2 },
      { type: 'modified', orderId: '1', clientOrderId: 'sell-1', price: '99.5', qty: '1.50', seq: 3 },
      { type: 'cancelled', orderId: '1', clientOrderId: 'sell-1', qty: '1.50', seq: 4 },
      { type: 'reject', clientOrderId: 'bad-px', orderId: '3', reason: 'bad_price', seq: 5 },
      { type: 'reject', clientOrderId: 'sell-1', orderId: '1', reason: 'unknown_order', seq: 6 },
    ]);
    expect(replayAccountReports(dir, 8, 0n, INS).reports).toEqual([
      { type: 'ack', clientOrderId: 'buy-1', orderId: '2', seq: 2 },
      { type: 'fill', orderId: '2', clientOrderId: 'buy-1', tradeId: 1, price: '100.0', qty: '1.00', leaves: '0.00', liquidity: 'taker', seq: 2 },
    ]);
    // resume after seq 3: only what came later; nothing for another account
    expect(replayAccountReports(dir, 7, 3n, INS).reports.map((r) => r.seq)).toEqual([4, 5, 6]);
    expect(replayAccountReports(dir, 99, 0n, INS).reports).toEqual([]);
    je.close();
  });

  it('on a generated stream: any resume point gives the suffix, pages concatenate, a live projection as lookup gives the same', () => {
    const je = new JournaledEngine(dir, { symbols: 2, capacity: 10_000, risk: {} }, 6);
    for (const { cmd, cid } of randomCommands(21, 1000)) je.submit(cmd, cid);
    je.drain();
    const rm = new ReadModels();
    // reports computed on the live path, batch by batch, as the gateway would
    const liveReports = new Map<number, unknown[]>();
    for (const b of readBatches(dir)) {
      rm.apply(b);
      for (const { account, report } of reportsOf(b, INS, { order: (id) => rm.orders.get(id) })) {
        if (!liveReports.has(account)) liveReports.set(account, []);
        liveReports.get(account)!.push(report);
      }
    }
    const r = rng(21);
    for (const account of [1, 2, 3, 4]) {
      const full = replayAccountReports(dir, account, 0n, INS).reports;
      expect(full).toEqual(liveReports.get(account));
      expect(full.some((x) => x.type === 'fill') && full.some((x) => x.type === 'cancelled') && full.some((x) => x.type === 'reject')).toBe(true);
      for (let t = 0; t < 3; t++) {
        const after = BigInt(Math.floor(r() * 1000));
        const suffix = full.filter((x) => BigInt(x.seq) > after);
        expect(replayAccountReports(dir, account, after, INS).reports).toEqual(suffix);
        expect(replayAccountReports(dir, account, after, INS, { orders: rm.orders }).reports).toEqual(suffix);
      }
      // paging: whole commands per page, resumed from lastSeq
      const pages: unknown[] = [];
      let from = 0n;
      let complete = false;
      for (let guard = 0; guard < 1000 && !complete; guard++) {
        const p = replayAccountReports(dir, account, from, INS, { maxReports: 17 });
        pages.push(...p.reports);
        from = p.lastSeq;
        complete = p.complete;
      }
      expect(complete).toBe(true);
      expect(pages).toEqual(full);
    }
    je.close();
  });
});
