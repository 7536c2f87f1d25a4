import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from '../../src/domain/types.js';
import { ManualClock } from '../../src/cqrs/clock.js';
import { readBatches } from '../../src/cqrs/journal-reader.js';
import { SagaManager, sagaClientOrderId, sagaOrderId, type PairsParams } from '../../src/cqrs/pairs-saga.js';
import { SagaLog } from '../../src/cqrs/saga-log.js';
import { PositionsProjection } from '../../src/cqrs/positions.js';
import { TradsysError } from '../../src/domain/errors.js';
import { JournaledEngine } from '../support/journaled-engine.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'cqrs-saga-')); });
afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

const MM = 50; // the market maker
const TRADER = 1;
let nextId = 1n;
const order = (side: number, symbol: number, price: number, qty: number, account = MM): Command =>
  ({ op: 1, side, type: 0, tif: 0, symbol, id: nextId++, price: BigInt(price), qty, account });

/** An engine, a fake clock and a saga manager fed from the engine's live stream. */
function world(opts: { submit?: (c: Command, cid: string) => boolean } = {}) {
  const je = new JournaledEngine(dir, { symbols: 2, capacity: 10_000, risk: {} }, 8);
  const clock = new ManualClock();
  const open = (submit?: (c: Command, cid: string) => boolean): { mgr: SagaManager; stop: () => void } => {
    const mgr = SagaManager.open({ journalDir: dir, submit: submit ?? ((c, cid) => je.submit(c, cid)), clock, durability: 'none', log: () => undefined });
    mgr.resume(je.lastSeq);
    const stop = je.feed().subscribe((b) => mgr.apply(b));
    return { mgr, stop };
  };
  const first = open(opts.submit);
  return { je, clock, open, ...first };
}

function newCount(id: bigint): number {
  let n = 0;
  for (const b of readBatches(dir)) if (b.command!.op === 1 && b.command!.id === id) n++;
  return n;
}

function positions(): PositionsProjection {
  const p = new PositionsProjection();
  for (const b of readBatches(dir)) p.apply(b);
  return p;
}

const PAIR: PairsParams = {
  account: TRADER,
  legA: { symbol: 0, side: 0, price: 100n, qty: 10 },
  legB: { symbol: 1, side: 1, price: 200n, qty: 10 },
  legBTimeoutMs: 5000,
  unwindRetryMs: 1000,
};

describe('pairs saga against a real engine', () => {
  it('happy path: A fills, B is sent and fills, completed; one NEW per leg', () => {
    const w = world();
    w.je.submit(order(1, 0, 100, 10)); // ask for A
    w.je.submit(order(0, 1, 200, 10)); // bid for B
    w.je.drain();
    const no = w.mgr.startPairs(PAIR);
    w.je.drain();
    const s = w.mgr.saga(no)!;
    expect(s.state).toBe('completed');
    expect(s.a).toMatchObject({ filled: 10, done: true, notional: '1000' });
    expect(s.b).toMatchObject({ qty: 10, filled: 10, done: true });
    expect(s.unwinds).toEqual([]);
    expect(newCount(sagaOrderId(no, 0))).toBe(1);
    expect(newCount(sagaOrderId(no, 1))).toBe(1);
    const p = positions();
    expect(p.position(TRADER, 0)!.qty).toBe(10n);
    expect(p.position(TRADER, 1)!.qty).toBe(-10n);
    expect(w.clock.pending).toBe(0); // no timer left behind
    w.mgr.close();
    w.je.close();
  });

  it('waits while A rests, hedges a partial A after its own timeout with a proportional B', () => {
    const w = world();
    w.je.submit(order(1, 0, 100, 4)); // only 4 of A's 10 available
    w.je.submit(order(0, 1, 200, 10));
    w.je.drain();
    const no = w.mgr.startPairs({ ...PAIR, legATimeoutMs: 2000, legB: { ...PAIR.legB, qty: 5 } });
    w.je.drain();
    expect(w.mgr.saga(no)!.state).toBe('leg_a');
    w.clock.advance(1999);
    w.je.drain();
    expect(w.mgr.saga(no)!.state).toBe('leg_a');
    w.clock.advance(1);
    w.je.drain();
    const s = w.mgr.saga(no)!;
    expect(s.state).toBe('completed');
    expect(s.a.filled).toBe(4);
    expect(s.b!.qty).toBe(2); // ⌊5 × 4 / 10⌋
    expect(positions().position(TRADER, 1)!.qty).toBe(-2n);
    w.je.close();
  });

  it('B rejected → A unwound by an offsetting order (compensated)', () => {
    const w = world();
    w.je.submit(order(1, 0, 100, 10));
    w.je.submit(order(0, 0, 99, 10)); // a bid to unwind into
    w.je.drain();
    const no = w.mgr.startPairs({ ...PAIR, legB: { ...PAIR.legB, symbol: 7 } }); // unknown symbol
    w.je.drain();
    const s = w.mgr.saga(no)!;
    expect(s.state).toBe('compensated');
    expect(s.b).toMatchObject({ done: true, filled: 0, reason: 1 });
    expect(s.unwinds).toHaveLength(1);
    expect(s.unwinds[0]).toMatchObject({ qty: 10, filled: 10 });
    const p = positions().position(TRADER, 0)!;
    expect(p.qty).toBe(0n);
    expect(p.realisedPnl).toBe(-10n); // bought 10 @100, unwound @99
    expect(newCount(sagaOrderId(no, 2))).toBe(1);
    const cids = [...readBatches(dir)].filter((b) => b.command!.op === 1 && sagaClientOrderId(b.command!.id) !== undefined).map((b) => b.clientOrderId);
    expect(cids).toEqual([`saga${no}-A`, `saga${no}-B`, `saga${no}-U1`]);
    expect(sagaClientOrderId(5n)).toBeUndefined();
    w.je.close();
  });

  it('B times out → its remainder is cancelled and the unhedged part of A unwound', () => {
    const w = world();
    w.je.submit(order(1, 0, 100, 10));
    w.je.submit(order(0, 1, 200, 4)); // B only partly fills
    w.je.submit(order(0, 0, 99, 10));
    w.je.drain();
    const no = w.mgr.startPairs(PAIR);
    w.je.drain();
    expect(w.mgr.saga(no)!.state).toBe('leg_b');
    expect(w.mgr.saga(no)!.b!.filled).toBe(4);
    w.clock.advance(4999);
    w.je.drain();
    expect(w.mgr.saga(no)!.state).toBe('leg_b');
    w.clock.advance(1);
    w.je.drain();
    const s = w.mgr.saga(no)!;
    expect(s.state).toBe('compensated');
    expect(s.unwindTarget).toBe(6);
    const p = positions();
    expect(p.position(TRADER, 0)!.qty).toBe(4n);
    expect(p.position(TRADER, 1)!.qty).toBe(-4n);
    expect(w.je.engine.order(1, sagaOrderId(no, 1))).toBeNull(); // B no longer rests
    w.je.close();
  });

  it('retries the unwind when it finds no liquidity, and gives up after the last attempt', () => {
    const w = world();
    w.je.submit(order(1, 0, 100, 20));
    w.je.drain();
    const a = w.mgr.startPairs({ ...PAIR, legB: { ...PAIR.legB, symbol: 9 }, unwindAttempts: 3 });
    w.je.drain();
    expect(w.mgr.saga(a)!.state).toBe('unwinding'); // market unwind found no bid
    w.je.submit(order(0, 0, 98, 6)); // some liquidity appears
    w.je.drain();
    w.clock.advance(1000);
    w.je.drain();
    let s = w.mgr.saga(a)!;
    expect(s.state).toBe('unwinding');
    expect(s.unwinds.map((u) => [u.qty, u.filled])).toEqual([[10, 0], [10, 6]]);
    w.clock.advance(1000);
    w.je.drain();
    s = w.mgr.saga(a)!;
    expect(s.state).toBe('compensation_failed');
    expect(s.unwinds.map((u) => [u.qty, u.filled])).toEqual([[10, 0], [10, 6], [4, 0]]);
    // a second saga: liquidity comes back in time
    const b = w.mgr.startPairs({ ...PAIR, legB: { ...PAIR.legB, symbol: 9 } });
    w.je.drain();
    w.je.submit(order(0, 0, 97, 10));
    w.je.drain();
    w.clock.advance(1000);
    w.je.drain();
    expect(w.mgr.saga(b)!.state).toBe('compensated');
    w.je.close();
  });

  it('A rejected → a_unfilled, nothing else sent', () => {
    const w = world();
    const no = w.mgr.startPairs({ ...PAIR, legA: { ...PAIR.legA, symbol: 5 } });
    w.je.drain();
    expect(w.mgr.saga(no)!.state).toBe('a_unfilled');
    expect(newCount(sagaOrderId(no, 1))).toBe(0);
    expect(() => w.mgr.startPairs({ ...PAIR, legB: { ...PAIR.legB, qty: 0 } })).toThrow(TradsysError);
    w.je.close();
  });
});

describe('pairs saga recovery (new manager from the log)', () => {
  it('crash after B was logged but before it was submitted: B is sent once after recovery', () => {
    let crashed = false;
    const w = world({
      submit: (c, cid) => {
        if (c.id === sagaOrderId(1, 1)) { crashed = true; return true; } // the process dies here
        return crashed ? true : w.je.submit(c, cid);
      },
    });
    w.je.submit(order(1, 0, 100, 10));
    w.je.submit(order(0, 1, 200, 10));
    w.je.drain();
    const no = w.mgr.startPairs(PAIR);
    w.je.drain();
    expect(crashed).toBe(true);
    expect(w.mgr.saga(no)!.state).toBe('leg_b');
    w.stop(); // the old manager is gone
    const r = w.open();
    w.je.drain();
    expect(r.mgr.stats.resubmittedAfterRecovery).toBe(1);
    expect(r.mgr.saga(no)!.state).toBe('completed');
    expect(newCount(sagaOrderId(no, 0))).toBe(1);
    expect(newCount(sagaOrderId(no, 1))).toBe(1);
    r.mgr.close();
    w.je.close();
  });

  it('crash after B was sequenced but before its events were seen: caught up from the journal, nothing resent', () => {
    const w = world();
    w.je.submit(order(1, 0, 100, 10));
    w.je.submit(order(0, 1, 200, 10));
    w.je.drain();
    const no = w.mgr.startPairs(PAIR);
    w.je.step(); // A sequenced and seen: B submitted
    w.stop(); // crash: B's events are never seen by this manager
    w.je.drain();
    expect(w.mgr.saga(no)!.state).toBe('leg_b');
    const r = w.open();
    expect(r.mgr.stats.resubmittedAfterRecovery).toBe(0);
    expect(r.mgr.saga(no)!.state).toBe('completed');
    w.je.drain();
    expect(newCount(sagaOrderId(no, 1))).toBe(1);
    expect(positions().position(TRADER, 1)!.qty).toBe(-10n);
    w.je.close();
  });

  it('crash before A\'s fill was seen: the catch-up moves the saga on and B is sent exactly once', () => {
    const w = world();
    w.je.submit(order(1, 0, 100, 10));
    w.je.submit(order(0, 1, 200, 10));
    w.je.drain();
    const no = w.mgr.startPairs(PAIR);
    w.stop(); // crash: A is sequenced and fills, unseen
    w.je.drain();
    expect(w.mgr.saga(no)!.state).toBe('leg_a');
    const r = w.open();
    expect(r.mgr.saga(no)!.state).toBe('leg_b');
    expect(r.mgr.stats.submitted).toBe(1);
    w.je.drain();
    expect(r.mgr.saga(no)!.state).toBe('completed');
    expect(newCount(sagaOrderId(no, 0))).toBe(1);
    expect(newCount(sagaOrderId(no, 1))).toBe(1);
    w.je.close();
  });

  it('crash while B waits: the persisted deadline fires after recovery and compensates', () => {
    const w = world();
    w.je.submit(order(1, 0, 100, 10));
    w.je.submit(order(0, 0, 99, 10));
    w.je.drain();
    const no = w.mgr.startPairs({ ...PAIR, legB: { ...PAIR.legB, price: 250n } }); // B rests, nobody buys at 250
    w.je.drain();
    expect(w.mgr.saga(no)!.state).toBe('leg_b');
    w.stop();
    w.mgr.close(); // its timers die with it
    w.clock.advance(60_000); // down for a minute
    const r = w.open();
    expect(r.mgr.saga(no)!.state).toBe('leg_b');
    w.clock.advance(0); // the overdue deadline fires
    w.je.drain();
    expect(r.mgr.saga(no)!.state).toBe('compensated');
    expect(newCount(sagaOrderId(no, 1))).toBe(1);
    expect(newCount(sagaOrderId(no, 2))).toBe(1);
    expect(positions().position(TRADER, 0)!.qty).toBe(0n);
    w.je.close();
  });

  it('crash right after start (A logged, never sent): A is sent once; batches at or below the checkpoint change nothing', () => {
    const w = world({ submit: () => true }); // nothing reaches the engine
    w.je.submit(order(1, 0, 100, 10));
    w.je.submit(order(0, 1, 200, 10));
    w.je.drain();
    const no = w.mgr.startPairs(PAIR);
    w.stop();
    const r = w.open();
    w.je.drain();
    expect(r.mgr.saga(no)!.state).toBe('completed');
    expect(newCount(sagaOrderId(no, 0))).toBe(1);
    const before = JSON.stringify(r.mgr.list());
    for (const b of readBatches(dir)) expect(r.mgr.apply(b)).toBe(false);
    expect(JSON.stringify(r.mgr.list())).toBe(before);
    r.mgr.close();
    w.je.close();
  });

  it('compaction keeps the active sagas; reopening after it resumes them', () => {
    const w = world();
    w.je.submit(order(1, 0, 100, 20));
    w.je.submit(order(0, 1, 200, 10));
    w.je.submit(order(0, 0, 99, 30));
    w.je.drain();
    const done = w.mgr.startPairs(PAIR);
    w.je.drain();
    const waiting = w.mgr.startPairs({ ...PAIR, legB: { ...PAIR.legB, price: 300n } });
    w.je.drain();
    const bytes = w.mgr.logBytes;
    w.mgr.compact();
    expect(w.mgr.logBytes).toBeLessThan(bytes);
    expect(w.mgr.saga(done)).toBeUndefined();
    w.stop();
    w.mgr.close();
    const r = w.open();
    expect(r.mgr.list().map((s) => [s.no, s.state])).toEqual([[waiting, 'leg_b']]);
    w.clock.advance(5000);
    w.je.drain();
    expect(r.mgr.saga(waiting)!.state).toBe('compensated');
    expect(r.mgr.startPairs(PAIR)).toBe(waiting + 1); // numbering continues
    w.je.close();
  });
});

describe('saga log', () => {
  it('cuts a torn tail, refuses damage followed by valid records, fences after a failed append', () => {
    const path = SagaLog.pathFor(dir);
    const { log } = SagaLog.open(path, { durability: 'fsync' });
    for (let i = 0; i < 5; i++) log.append({ i });
    log.close();
    const good = statSync(path).size;
    appendFileSync(path, Buffer.from([64, 0, 0, 0, 9, 9, 9, 9, 6, 0, 0, 0, 0, 0, 0, 0])); // a torn sixth record
    const lines: string[] = [];
    const r = SagaLog.open(path, { log: (m) => lines.push(m) });
    expect(r.entries.map((e) => e.payload)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    expect(r.cut).toBe(16);
    expect(statSync(path).size).toBe(good);
    expect(lines[0]).toMatch(/cut a torn tail of 16 bytes/);
    expect(r.log.append({ i: 5 })).toBe(6n);
    r.log.close();
    // flip a byte inside record 2: records after it are valid, so this is corruption
    const b = readFileSync(path);
    b[16 + 24 + 2]! ^= 0xff;
    b[16 + 32 + 24 + 2]! ^= 0xff;
    writeFileSync(path, b);
    try { SagaLog.open(path); expect.unreachable(); } catch (e) { expect((e as TradsysError).code).toBe('ERR_SAGA_LOG_CORRUPT'); }
  });
});

describe('pairs sagas under random markets and random crashes (property)', () => {
  const sign = (side: number): bigint => (side === 0 ? 1n : -1n);
  it.each(Array.from({ length: 16 }, (_, i) => i + 1))('seed %i: each leg is sequenced at most once and every saga\'s accounting equals the journal', (seed) => {
    let x = seed * 2654435761 >>> 0;
    const rnd = (): number => { x = (x + 0x6d2b79f5) >>> 0; let t = x; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
    const pick = (n: number): number => Math.floor(rnd() * n);
    let dying = false;
    const je = new JournaledEngine(dir, { symbols: 2, capacity: 10_000, risk: {} }, 1 + pick(4));
    const clock = new ManualClock();
    const open = (): { mgr: SagaManager; stop: () => void } => {
      const mgr = SagaManager.open({ journalDir: dir, submit: (c, cid) => (dying ? true : je.submit(c, cid)), clock, durability: 'none', log: () => undefined });
      mgr.resume(je.lastSeq);
      return { mgr, stop: je.feed().subscribe((b) => mgr.apply(b)) };
    };
    const liquidity = (): void => {
      for (let k = 0; k < 3; k++) je.submit(order(pick(2), pick(2), 95 + pick(11), 1 + pick(8)));
    };
    let cur = open();
    const sagas: number[] = [];
    for (let i = 0; i < 3; i++) {
      liquidity();
      je.drain();
      const sideA = pick(2);
      sagas.push(cur.mgr.startPairs({
        account: 100 + i,
        legA: { symbol: 0, side: sideA, price: BigInt(sideA === 0 ? 100 + pick(6) : 100 - pick(6)), qty: 1 + pick(12), tif: pick(3) === 0 ? 1 : 0 },
        legB: { symbol: rnd() < 0.15 ? 5 : 1, side: 1 - sideA, price: rnd() < 0.3 ? 0n : BigInt(95 + pick(11)), qty: 1 + pick(12) },
        legATimeoutMs: 500 + pick(1000), legBTimeoutMs: 500 + pick(2000), unwindRetryMs: 300, unwindAttempts: 1 + pick(4),
      }));
    }
    for (let round = 0; round < 60; round++) {
      if (rnd() < 0.5) liquidity();
      if (rnd() < 0.2) {
        // crash: maybe while the dying manager logs transitions whose commands never leave
        dying = rnd() < 0.5;
        if (dying) { clock.advance(pick(800)); je.drain(); }
        cur.stop();
        cur.mgr.close();
        dying = false;
        clock.advance(pick(1500)); // time passes while down
        cur = open();
      }
      je.drain();
      clock.advance(pick(700));
      je.drain();
      if (sagas.every((no) => ['completed', 'a_unfilled', 'compensated', 'compensation_failed'].includes(cur.mgr.saga(no)!.state))) break;
    }
    // let the last deadlines and retries run out
    for (let k = 0; k < 40; k++) { liquidity(); je.drain(); clock.advance(1000); je.drain(); }
    const pos = positions();
    for (const no of sagas) {
      const s = cur.mgr.saga(no)!;
      expect(['completed', 'a_unfilled', 'compensated', 'compensation_failed']).toContain(s.state);
      for (let leg = 0; leg < 16; leg++) expect(newCount(sagaOrderId(no, leg))).toBeLessThanOrEqual(1);
      const p = s.params;
      const unwound = s.unwinds.reduce((a, u) => a + u.filled, 0);
      const q0 = pos.position(p.account, 0)?.qty ?? 0n;
      const q1 = pos.position(p.account, 1)?.qty ?? 0n;
      expect(q0).toBe(sign(p.legA.side) * BigInt(s.a.filled - unwound));
      expect(q1).toBe(sign(p.legB.side) * BigInt(s.b?.filled ?? 0));
      if (s.state === 'completed') expect(s.b!.filled).toBe(s.b!.qty);
      if (s.state === 'a_unfilled') expect(s.a.filled).toBe(0);
      if (s.state === 'compensated') expect(unwound).toBe(s.unwindTarget);
      if (s.b) expect(s.b.qty).toBe(Math.floor((p.legB.qty * s.a.filled) / p.legA.qty));
    }
    cur.mgr.close();
    je.close();
  });
});
