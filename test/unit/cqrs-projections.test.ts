import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENUMS } from '../../src/abi/records.js';
import { readRecords } from '../../src/journal/index.js';
import { decodeRecord, inferOp, RingAssembler, type SeqBatch } from '../../src/cqrs/events.js';
import { journalEventToSlot, RING_EVT_SIZE } from '../../src/abi/views.js';
import { readBatches } from '../../src/cqrs/journal-reader.js';
import { OrdersProjection } from '../../src/cqrs/orders.js';
import { PositionsProjection } from '../../src/cqrs/positions.js';
import { ReadModels } from '../../src/cqrs/read-models.js';
import { TradsysError } from '../../src/domain/errors.js';
import { JournaledEngine, collectLive, randomCommands, rng } from '../support/journaled-engine.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'cqrs-proj-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

const NEW = (id: number, side: number, price: number, qty: number, account: number, o: Partial<{ tif: number; type: number; symbol: number }> = {}) => ({
  op: 1, side, type: o.type ?? 0, tif: o.tif ?? 0, symbol: o.symbol ?? 0, id: BigInt(id), price: BigInt(price), qty, account,
});
const CANCEL = (id: number, account: number, symbol = 0) => ({ op: 2, side: 0, type: 0, tif: 0, symbol, id: BigInt(id), price: 0n, qty: 0, account });
const MODIFY = (id: number, price: number, qty: number, account: number, symbol = 0) => ({ op: 3, side: 0, type: 0, tif: 0, symbol, id: BigInt(id), price: BigInt(price), qty, account });

function journal(d: string): SeqBatch[] { return [...readBatches(d)]; }

/** Runs a generated stream through a journaled engine (random batch boundaries); returns the engine. */
function runStream(d: string, seed: number, n: number): JournaledEngine {
  const je = new JournaledEngine(d, { symbols: 2, capacity: 10_000, risk: {} }, 1 + (seed % 7));
  const r = rng(seed ^ 0x9e3779b9);
  for (const { cmd, cid } of randomCommands(seed, n)) {
    je.submit(cmd, cid);
    if (r() < 0.3) je.step();
  }
  je.drain();
  return je;
}

describe('event decoder', () => {
  it('gives the same events for a command from the journal and from the ring', () => {
    const je = runStream(dir, 11, 400);
    const live = collectLive(je); // subscribed after: replay a fresh stream below
    expect(live).toEqual([]);
    const d2 = mkdtempSync(join(tmpdir(), 'cqrs-dec-'));
    try {
      const je2 = new JournaledEngine(d2, { symbols: 2, capacity: 10_000, risk: {} }, 5);
      const ring = collectLive(je2);
      for (const { cmd, cid } of randomCommands(11, 400)) je2.submit(cmd, cid);
      je2.drain();
      const fromJournal = journal(d2);
      expect(fromJournal.length).toBe(400);
      expect(ring.length).toBe(400); // every command has at least one event
      for (let i = 0; i < 400; i++) {
        const j = fromJournal[i]!;
        const r = ring[i]!;
        expect(r.seq).toBe(j.seq);
        expect(r.tsInit).toBe(j.tsInit);
        expect(r.events).toEqual(j.events);
        expect(r.command).toBeNull();
        expect(j.command!.op).toBe(j.op);
        if (r.op !== 0) expect(r.op).toBe(j.op);
        else expect(r.events[0]!.type).toBe('R');
        if (j.op === ENUMS.Op.NEW) expect(j.clientOrderId).toBe(`c${j.command!.id}`);
      }
      je2.close();
    } finally { rmSync(d2, { recursive: true, force: true }); }
    je.close();
  });

  it('assembles ring slots fed one at a time through one reused slot buffer into the journal\'s batches, each with its own events array', () => {
    const je = runStream(dir, 23, 600);
    je.close();
    const records = [...readRecords(dir)];
    const u8 = new Uint8Array(RING_EVT_SIZE);
    const dv = new DataView(u8.buffer);
    const asm = new RingAssembler();
    const got: SeqBatch[] = [];
    let multi = 0;
    for (const r of records) {
      if (r.nEvents > 1) multi++;
      for (let e = 0; e < r.nEvents; e++) {
        journalEventToSlot(r, e, u8, dv, 0, false);
        const b = asm.push(dv, 0);
        expect(asm.partial).toBe(e < r.nEvents - 1);
        if (e < r.nEvents - 1) expect(b).toBeNull();
        else got.push(b!);
      }
    }
    expect(multi).toBeGreaterThan(20); // trades and cancels: commands of several events
    expect(got.length).toBe(records.length);
    // compared after the whole stream: a batch sharing the assembler's scratch array would show later events
    for (let i = 0; i < records.length; i++) {
      const j = decodeRecord(records[i]!);
      expect(got[i]!.seq).toBe(j.seq);
      expect(got[i]!.tsInit).toBe(j.tsInit);
      expect(got[i]!.events).toEqual(j.events);
      expect(got[i]!.events.length).toBe(records[i]!.nEvents);
    }
    const ack = got.flatMap((b) => b.events).find((e) => e.type === 'A')!;
    expect([ack.maker, ack.tradeId]).toEqual([0n, 0n]);
  });

  it('refuses a slot of another seq while a command is partly received', () => {
    const je = runStream(dir, 5, 300);
    je.close();
    const records = [...readRecords(dir)];
    const r = records.find((x) => x.nEvents > 1)!;
    const other = records.find((x) => x.seq !== r.seq)!;
    const u8 = new Uint8Array(RING_EVT_SIZE);
    const dv = new DataView(u8.buffer);
    const asm = new RingAssembler();
    journalEventToSlot(r, 0, u8, dv, 0, false);
    expect(asm.push(dv, 0)).toBeNull();
    journalEventToSlot(other, 0, u8, dv, 0, false);
    expect(() => asm.push(dv, 0)).toThrow(RangeError);
    expect(asm.partial).toBe(true);
  });

  it('decodes the command and clientOrderId journaled with each record', () => {
    const je = new JournaledEngine(dir);
    je.submit(NEW(5, 1, 101, 7, 3), 'my-order_1.x');
    je.submit(CANCEL(5, 3));
    je.drain();
    const [a, c] = [...readRecords(dir)].map(decodeRecord);
    expect(a!.command).toMatchObject({ op: 1, side: 1, symbol: 0, id: 5n, price: 101n, qty: 7, account: 3, clientOrderId: 'my-order_1.x' });
    expect(a!.events.map((e) => e.type)).toEqual(['A']);
    expect(c!.command!.clientOrderId).toBe('');
    expect(c!.events[0]).toMatchObject({ type: 'X', id: 5n, qty: 7, leaves: 0, last: true });
    expect(inferOp(c!.events[0]!)).toBe(ENUMS.Op.CANCEL);
    je.close();
  });
});

describe('orders projection', () => {
  it('tracks status, leaves, filled, average fill price, clientOrderId and open orders', () => {
    const je = new JournaledEngine(dir);
    je.submit(NEW(1, 1, 100, 10, 7), 'ask-1'); // rests
    je.submit(NEW(2, 1, 102, 5, 7), 'ask-2'); // rests
    je.submit(NEW(3, 0, 102, 12, 8), 'buy-1'); // takes 10 @100 and 2 @102
    je.submit(MODIFY(2, 103, 3, 7)); // loses priority, 3 left @103
    je.submit(NEW(4, 0, 99, 4, 8), 'bid-1');
    je.submit(CANCEL(4, 8));
    je.submit(NEW(5, 0, 99, 0, 8), 'bad'); // bad_qty
    je.submit(CANCEL(4, 8)); // unknown_order: changes nothing
    je.submit(MODIFY(2, 103, 0, 7)); // bad_qty on a live order: changes nothing
    je.drain();
    const p = new OrdersProjection();
    for (const b of journal(dir)) expect(p.apply(b)).toBe(true);
    expect(p.checkpoint).toBe(9n);
    const o1 = p.get(1n)!;
    expect(o1).toMatchObject({ status: 'filled', leaves: 0, filled: 10, fillNotional: 1000n, clientOrderId: 'ask-1', account: 7 });
    const o3 = p.byClientOrderId(8, 'buy-1')!;
    expect(o3).toMatchObject({ orderId: 3n, status: 'filled', filled: 12, fillNotional: 10n * 100n + 2n * 102n, type: 0, tif: 0 });
    const o2 = p.get(2n)!;
    expect(o2).toMatchObject({ status: 'open', price: 103n, leaves: 3, filled: 2 });
    expect(p.get(4n)).toMatchObject({ status: 'cancelled', leaves: 0 });
    expect(p.get(5n)).toMatchObject({ status: 'rejected', reason: ENUMS.Reason.BAD_QTY, clientOrderId: 'bad' });
    expect(p.open(7).map((o) => o.orderId)).toEqual([2n]);
    expect(p.open(8)).toEqual([]);
    expect(p.find(8, 2n)).toBeUndefined(); // another account's id answers like an unknown one
    // a batch at or below the checkpoint is a no-op
    const before = JSON.stringify(p.snapshot());
    for (const b of journal(dir)) expect(p.apply(b)).toBe(false);
    expect(JSON.stringify(p.snapshot())).toBe(before);
    je.close();
  });

  it('forgets the oldest finished orders beyond keepFinished, never open ones', () => {
    const je = new JournaledEngine(dir);
    je.submit(NEW(1, 1, 100, 10, 7), 'rest');
    for (let i = 2; i < 12; i++) { je.submit(NEW(i, 0, 90, 1, 7), `b${i}`); je.submit(CANCEL(i, 7)); }
    je.drain();
    const p = new OrdersProjection(3);
    for (const b of journal(dir)) p.apply(b);
    expect(p.size).toBe(4);
    expect(p.get(1n)!.status).toBe('open');
    expect([9n, 10n, 11n].map((id) => p.get(id)?.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(p.get(8n)).toBeUndefined();
    expect(p.byClientOrderId(7, 'b8')).toBeUndefined();
    expect(p.maxGatewayOrderId).toBe(11n); // evicted orders still count
    je.close();
  });
});

describe('positions projection (FIFO, exact integers)', () => {
  it('realises FIFO lots, flips, and marks to the last trade or a supplied mark', () => {
    const je = new JournaledEngine(dir);
    // account 1 trades against account 9 (the market)
    je.submit(NEW(1, 1, 100, 10, 9)); je.submit(NEW(2, 0, 100, 10, 1)); // 1 buys 10 @100
    je.submit(NEW(3, 1, 110, 5, 9)); je.submit(NEW(4, 0, 110, 5, 1)); // 1 buys 5 @110
    je.submit(NEW(5, 0, 120, 12, 9)); je.submit(NEW(6, 1, 120, 12, 1)); // 1 sells 12 @120
    je.drain();
    const p = new PositionsProjection();
    for (const b of journal(dir)) p.apply(b);
    let v = p.position(1, 0)!;
    expect(v.qty).toBe(3n);
    expect(v.realisedPnl).toBe(20n * 10n + 10n * 2n); // 10 @100 and 2 @110 closed at 120
    expect(v.openCost).toBe(330n);
    expect(v.avgEntry).toEqual({ num: 330n, den: 3n });
    expect(v.mark).toBe(120n);
    expect(v.unrealisedPnl).toBe(3n * 120n - 330n);
    expect(p.position(1, 0, 100n)!.unrealisedPnl).toBe(300n - 330n);
    expect(p.lots(1, 0)).toEqual([{ qty: 3n, price: 110n }]);
    const m = p.position(9, 0)!;
    expect(m.qty).toBe(-3n);
    expect(m.realisedPnl + m.unrealisedPnl).toBe(-(v.realisedPnl + v.unrealisedPnl)); // zero-sum
    je.submit(NEW(7, 0, 90, 5, 9)); je.submit(NEW(8, 1, 90, 5, 1)); // 1 sells 5 @90: closes 3 @110, opens short 2 @90
    je.drain();
    for (const b of readBatches(dir, p.checkpoint + 1n)) p.apply(b);
    v = p.position(1, 0)!;
    expect(v.qty).toBe(-2n);
    expect(v.realisedPnl).toBe(220n - 60n);
    expect(v.openCost).toBe(-180n);
    expect(v.avgEntry).toEqual({ num: -180n, den: -2n });
    expect(v.unrealisedPnl).toBe(0n);
    expect(p.positions(1).map((x) => x.symbol)).toEqual([0]);
    je.close();
  });
});

/** Obviously correct FIFO: a queue of single lots. */
function referencePnl(batches: SeqBatch[]): Map<string, { qty: bigint; realised: bigint; cash: bigint; units: bigint[] }> {
  const m = new Map<string, { qty: bigint; realised: bigint; cash: bigint; units: bigint[] }>();
  const one = (account: number, symbol: number, buy: boolean, price: bigint, qty: number): void => {
    const k = `${account}:${symbol}`;
    let s = m.get(k);
    if (!s) m.set(k, (s = { qty: 0n, realised: 0n, cash: 0n, units: [] }));
    for (let i = 0; i < qty; i++) {
      const d = buy ? 1n : -1n;
      s.cash -= d * price;
      if (s.qty === 0n || (s.qty > 0n) === buy) s.units.push(price);
      else s.realised += (s.qty > 0n ? 1n : -1n) * (price - s.units.shift()!);
      s.qty += d;
    }
  };
  for (const b of batches) for (const e of b.events) {
    if (e.type !== 'T') continue;
    one(e.account, e.symbol, e.side === 0, e.price, e.qty);
    one(e.makerAccount, e.symbol, e.side !== 0, e.price, e.qty);
  }
  return m;
}

describe('read models on generated streams through a real engine (property/differential)', () => {
  const SEEDS = [1, 2, 3, 20261124, 77];

  it.each(SEEDS)('seed %i: positions and P&L equal a recomputation from all fills and the engine\'s positions', (seed) => {
    const je = runStream(dir, seed, 1500);
    const all = journal(dir);
    const rm = new ReadModels();
    for (const b of all) rm.apply(b);
    const ref = referencePnl(all);
    let trades = 0;
    for (const b of all) for (const e of b.events) if (e.type === 'T') trades++;
    expect(trades).toBeGreaterThan(100);
    const keys = rm.positions.keys();
    expect(keys.length).toBe(ref.size);
    for (const { account, symbol } of keys) {
      const v = rm.positions.position(account, symbol)!;
      const r = ref.get(`${account}:${symbol}`)!;
      expect(v.qty).toBe(r.qty);
      expect(v.realisedPnl).toBe(r.realised);
      expect(v.openCost).toBe(r.units.reduce((a, px) => a + px, 0n) * (r.qty >= 0n ? 1n : -1n));
      const mark = rm.positions.lastPrice(symbol)!;
      expect(v.realisedPnl + v.unrealisedPnl).toBe(r.cash + mark * r.qty);
      expect(je.engine.position(account, symbol)?.position ?? 0n).toBe(v.qty);
      const fills = rm.fills.fills(account, { symbol });
      expect(fills.reduce((a, f) => a + (f.side === 0 ? BigInt(f.qty) : 0n), 0n)).toBe(v.boughtQty);
      expect(fills.reduce((a, f) => a + (f.side === 1 ? BigInt(f.qty) : 0n), 0n)).toBe(v.soldQty);
    }
    // P&L is zero-sum per symbol at one mark
    for (const sym of [0, 1]) {
      const mark = rm.positions.lastPrice(sym);
      if (mark === undefined) continue;
      let total = 0n;
      for (const { account, symbol } of keys) if (symbol === sym) { const v = rm.positions.position(account, symbol)!; total += v.realisedPnl + v.unrealisedPnl; }
      expect(total).toBe(0n);
    }
    je.close();
  });

  it.each(SEEDS)('seed %i: open orders equal the engine\'s resting orders; fills and orders agree', (seed) => {
    const je = runStream(dir, seed, 1500);
    const all = journal(dir);
    const rm = new ReadModels();
    for (const b of all) rm.apply(b);
    const resting = [...je.engine.orders()];
    const open = [1, 2, 3, 4].flatMap((a) => rm.orders.open(a));
    expect(open.length).toBe(resting.length);
    for (const r of resting) {
      const o = rm.orders.get(r.id)!;
      expect(o.status).toBe('open');
      expect(o.leaves).toBe(r.leaves);
      expect(o.price).toBe(r.price);
      expect(o.account).toBe(r.account);
      expect(BigInt(o.filled)).toBe(r.filled);
      expect(rm.orders.byClientOrderId(o.account, `c${o.orderId}`)).toBe(o);
    }
    for (const a of [1, 2, 3, 4]) {
      for (const f of rm.fills.fills(a)) {
        const o = rm.orders.get(f.orderId)!;
        expect(o.account).toBe(a);
        expect(f.clientOrderId).toBe(`c${f.orderId}`);
      }
    }
    je.close();
  });

  it.each(SEEDS)('seed %i: the ring-fed read models equal the journal-fed ones', (seed) => {
    const d2 = mkdtempSync(join(tmpdir(), 'cqrs-ring-'));
    try {
      const cids = new Map<bigint, string>();
      const live = new ReadModels({ clientOrderIdOf: (id) => cids.get(id) });
      const je = new JournaledEngine(d2, { symbols: 2, capacity: 10_000, risk: {} }, 4);
      je.onSlots((dv, n) => { for (let i = 0; i < n; i++) live.onRingSlot(dv, i * 96); });
      for (const { cmd, cid } of randomCommands(seed, 1200)) { if (cmd.op === 1) cids.set(cmd.id, cid); je.submit(cmd, cid); }
      je.drain();
      const fromJournal = new ReadModels();
      fromJournal.catchUp(d2);
      // the ring does not know type/tif of orders: compare everything else
      const strip = (s: ReturnType<ReadModels['snapshot']>): unknown => ({ ...s, orders: { ...s.orders, orders: s.orders.orders.map((o) => ({ ...o, type: 0, tif: 0 })) } });
      expect(strip(live.snapshot())).toEqual(strip(fromJournal.snapshot()));
      expect(live.checkpoint).toBe(1200n);
      je.close();
    } finally { rmSync(d2, { recursive: true, force: true }); }
  });

  it.each(SEEDS)('seed %i: catch-up from any seq after a restored snapshot equals the full rebuild', (seed) => {
    const je = runStream(dir, seed, 800);
    const full = new ReadModels();
    expect(full.catchUp(dir)).toBe(800);
    const want = JSON.stringify(full.snapshot());
    const r = rng(seed);
    for (let t = 0; t < 6; t++) {
      const k = BigInt(Math.floor(r() * 800));
      const part = new ReadModels();
      part.catchUp(dir, 1n, k);
      expect(part.checkpoint).toBe(k);
      const saved = JSON.parse(JSON.stringify(part.snapshot())) as ReturnType<ReadModels['snapshot']>;
      const resumed = new ReadModels();
      resumed.restore(saved);
      expect(JSON.stringify(resumed.snapshot())).toBe(JSON.stringify(part.snapshot()));
      // overlap on purpose: batches at or below the checkpoint must not count twice
      const j = k - BigInt(Math.floor(r() * 50)) > 0n ? k - BigInt(Math.floor(r() * 50)) : 1n;
      resumed.catchUp(dir, j);
      expect(JSON.stringify(resumed.snapshot())).toBe(want);
    }
    je.close();
  });

  it('saves and loads the read models atomically; a damaged file is ERR_CQRS_SNAPSHOT', async () => {
    const je = runStream(dir, 5, 300);
    const rm = new ReadModels();
    rm.catchUp(dir);
    const file = join(dir, 'rm', 'readmodels.json');
    rm.save(file);
    const back = new ReadModels();
    expect(back.load(file)).toBe(true);
    expect(back.snapshot()).toEqual(rm.snapshot());
    expect(new ReadModels().load(join(dir, 'none.json'))).toBe(false);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(file, '{"kind":"readmodels","version":1,"orders":{"kind":"orders","version":1,"checkpoint":"x"}}');
    expect(() => new ReadModels().load(file)).toThrow(TradsysError);
    writeFileSync(file, '{"kind":"readmodels","ver');
    try { new ReadModels().load(file); expect.unreachable(); } catch (e) { expect((e as TradsysError).code).toBe('ERR_CQRS_SNAPSHOT'); }
    je.close();
  });
});
