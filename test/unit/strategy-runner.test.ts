/**
 * StrategyRunner (src/strategies/runner.ts) driven by an in-process Engine (test/support/
 * strategy-harness.ts) with an injected clock: orders reach the engine, fills update position and
 * P&L exactly (against a plain reference), priority order, cancels before new orders, a throwing
 * strategy is stopped and its orders cancelled while another goes on, an overrunning one is paused,
 * breaker trips (hard limit, loss, velocity) cancel orders in the same tick, bars, timers, params.
 */
import { describe, expect, it } from 'vitest';
import { ENUMS } from '../../src/abi/records.js';
import { TradsysError } from '../../src/domain/errors.js';
import type { StrategyConfig } from '../../src/strategies/api.js';
import { Harness } from '../support/strategy-harness.js';
import { STRATEGY_ID_BASE_NUM } from '../../src/domain/ids.js';
import { probeStrategy, scripted } from '../support/probe-strategies.js';
import { prng } from '../../src/workload/prng.js';

const ACC = 501;
const cfg = (id: string, kind: string, extra: Partial<StrategyConfig> = {}): StrategyConfig => ({ id, kind, account: ACC, symbols: ['AAA'], ...extra });

const rng = prng;

/** Reference: average-cost position and realised P&L from a list of fills (side, price, qty, fee). */
function reference(fills: { side: number; price: number; qty: number; fee: number }[]): { pos: number; realised: number; avg: number } {
  let pos = 0;
  let avg = 0;
  let realised = 0;
  for (const f of fills) {
    const q = f.side === 0 ? f.qty : -f.qty;
    if (pos === 0 || Math.sign(pos) === Math.sign(q)) {
      avg = (avg * Math.abs(pos) + f.price * f.qty) / (Math.abs(pos) + f.qty);
      pos += q;
    } else if (Math.abs(q) <= Math.abs(pos)) {
      realised += (f.price - avg) * f.qty * Math.sign(pos);
      pos += q;
      if (pos === 0) avg = 0;
    } else {
      realised += (f.price - avg) * Math.abs(pos) * Math.sign(pos);
      pos += q;
      avg = f.price;
    }
    realised -= f.fee;
  }
  return { pos, realised, avg };
}

describe('StrategyRunner', () => {
  it('orders reach the engine and fills update position and P&L exactly (seeded random market, fees)', () => {
    for (const seed of [1, 2, 3]) {
      const rnd = rng(seed);
      const fee = (_s: number, liq: 'maker' | 'taker', price: number, qty: number): number => (liq === 'taker' ? Math.ceil(price * qty / 1000) : -Math.floor(price * qty / 2000));
      const h = new Harness({ fee, velocity: { movePct: 50, windowMs: 1000, pauseMs: 1000 } });
      // a strategy that on every book change quotes both sides around the mid and sometimes takes
      let armed = false;
      let rctx: { openOrders(): readonly { id: number; leaves: number }[] } | null = null;
      const def = scripted('rnd', {
        onBook(ctx, b) {
          rctx = ctx;
          if (!armed) return; // once per market command
          armed = false;
          const r = rnd();
          if (r < 0.2 && b.askPx > 0) ctx.place({ symbol: 0, side: 0, price: b.askPx, qty: 1 + Math.floor(rnd() * 5), tif: 'ioc' });
          else if (r < 0.4 && b.bidPx > 0) ctx.place({ symbol: 0, side: 1, price: b.bidPx, qty: 1 + Math.floor(rnd() * 5), tif: 'ioc' });
          else if (r < 0.9) { const side = rnd() < 0.5 ? 0 : 1; ctx.place({ symbol: 0, side, price: side === 0 ? 975 + Math.floor(rnd() * 25) : 1000 + Math.floor(rnd() * 25), qty: 1 + Math.floor(rnd() * 5) }); }
          else if (ctx.openOrders().length > 0) ctx.cancel(ctx.openOrders()[0]!.id);
        },
      });
      h.runner.add(cfg('r', 'rnd', { limits: { maxOrdersPerSec: 100000, maxMessagesPerSec: 100000, maxRepeatedExecutions: 100000, maxPosition: 1e9 } }), def);
      h.runner.start('r');
      for (let i = 0; i < 400; i++) {
        h.t += 3; // ms
        const side = rnd() < 0.5 ? 0 : 1;
        armed = true;
        h.market(ENUMS.Op.NEW, side, 0, 990 + Math.floor(rnd() * 20), 1 + Math.floor(rnd() * 8));
      }
      // reference from the engine's own events: every T where one side is the strategy's account
      const fills: { side: number; price: number; qty: number; fee: number }[] = [];
      for (const e of h.events) {
        if (e.type !== 'T') continue;
        if (e.account === ACC) fills.push({ side: e.side, price: e.price, qty: e.qty, fee: fee(0, 'taker', e.price, e.qty) });
        if (e.makerAccount === ACC) fills.push({ side: 1 - e.side, price: e.price, qty: e.qty, fee: fee(0, 'maker', e.price, e.qty) });
      }
      expect(h.trips).toEqual([]);
      expect(fills.length).toBeGreaterThan(100);
      const ref = reference(fills);
      const st = h.runner.status('r')[0]!;
      expect([st.state, st.why]).toEqual(['running', 'started']);
      expect(st.position).toEqual({ AAA: ref.pos });
      expect(st.realisedPnl).toBeCloseTo(ref.realised, 6);
      expect(st.fills).toBe(fills.length);
      // unrealised at the book's mid, else the last trade
      const bid = h.engine.depth(0, 0, 1)[0];
      const ask = h.engine.depth(0, 1, 1)[0];
      const mark = bid && ask ? (Number(bid.price) + Number(ask.price)) / 2 : h.events.filter((e) => e.type === 'T').at(-1)!.price;
      expect(st.unrealisedPnl).toBeCloseTo((mark - ref.avg) * ref.pos, 6);
      // the runner's open orders are exactly the strategy's orders resting in the engine
      const resting = [...h.engine.orders()].filter((o) => Number(o.id) >= STRATEGY_ID_BASE_NUM).map((o) => [Number(o.id), o.leaves]).sort();
      expect(resting.length).toBeGreaterThan(0);
      expect(rctx!.openOrders().map((o) => [o.id, o.leaves]).sort()).toEqual(resting);
      const strategyOpen: number[] = [];
      h.runner.add(cfg('peek', 'peek', { account: ACC, symbols: ['AAA'] }), scripted('peek', { onStart(ctx) { for (const o of ctx.openOrders()) strategyOpen.push(o.id); } }));
      h.runner.start('peek');
      expect(strategyOpen).toEqual([]); // another strategy does not see r's orders, even on the same account
      expect(st.orders).toBe(h.strategyCmds(ACC).filter((c) => c.op === ENUMS.Op.NEW).length);
    }
  });

  it('runs higher-priority strategies first, and a strategy\'s cancels reach the ring before its new orders', () => {
    const h = new Harness();
    const calls: string[] = [];
    const mk = (name: string) => scripted(name, {
      onTrade(ctx) {
        calls.push(name);
        const open = ctx.openOrders();
        ctx.place({ symbol: 0, side: 0, price: 900, qty: 1, tag: name });
        if (open.length > 0) ctx.cancel(open[0]!.id);
      },
    });
    h.runner.add(cfg('low', 'low', { priority: 1, account: 601 }), mk('low'));
    h.runner.add(cfg('high', 'high', { priority: 5, account: 602 }), mk('high'));
    h.runner.add(cfg('mid', 'mid', { priority: 3, account: 603 }), mk('mid'));
    for (const id of ['low', 'high', 'mid']) h.runner.start(id);
    h.sell(0, 1000, 1);
    h.buy(0, 1000, 1); // a trade: every strategy gets onTrade
    expect(calls).toEqual(['high', 'mid', 'low']);
    h.sell(0, 1000, 1);
    h.buy(0, 1000, 1);
    expect(calls).toEqual(['high', 'mid', 'low', 'high', 'mid', 'low']);
    for (const acc of [601, 602, 603]) {
      const c = h.strategyCmds(acc).map((x) => x.op);
      expect(c).toEqual([ENUMS.Op.NEW, ENUMS.Op.CANCEL, ENUMS.Op.NEW]); // the second turn's cancel before its new order
    }
    // priority order of the ring: the second round's commands are high's, then mid's, then low's
    const round2 = h.log.filter((c) => c.account >= 601 && c.account <= 603).slice(3).map((c) => c.account);
    expect(round2).toEqual([602, 602, 603, 603, 601, 601]);
  });

  it('a strategy that throws is failed and its orders cancelled; another strategy trades on', () => {
    const h = new Harness();
    h.runner.add({ id: 'crash', kind: 'probe', account: 701, symbols: ['AAA'], params: { mode: 'crash', crashAfter: 1, price: 950 } }, probeStrategy as never);
    h.runner.add({ id: 'ok', kind: 'probe', account: 702, symbols: ['AAA'], params: { mode: 'quote', price: 940 } }, probeStrategy as never);
    h.runner.start('crash');
    h.runner.start('ok');
    h.pump();
    const crashOrder = h.strategyCmds(701)[0]!;
    expect(h.resting(0, crashOrder.id)).toBe(true);
    h.sell(0, 1100, 1); // onBook 1: fine
    h.sell(0, 1101, 1); // onBook 2: throws
    const st = h.runner.status('crash')[0]!;
    expect(st.state).toBe('failed');
    expect(st.why).toMatch(/onBook threw: probe crash/);
    expect(st.errors).toBe(1);
    expect(h.resting(0, crashOrder.id)).toBe(false); // cancelled through the engine
    expect(h.strategyCmds(701).map((c) => c.op)).toEqual([ENUMS.Op.NEW, ENUMS.Op.CANCEL]);
    // the other strategy's quote fills and it re-quotes
    const okFirst = h.strategyCmds(702)[0]!;
    h.sell(0, okFirst.price, 1);
    expect(h.runner.status('ok')[0]!.state).toBe('running');
    expect(h.runner.status('ok')[0]!.position).toEqual({ AAA: 1 });
    const okCmds = h.strategyCmds(702);
    expect(okCmds.length).toBe(2);
    expect(h.resting(0, okCmds[1]!.id)).toBe(true);
    expect(h.states.filter((s) => s.id === 'crash').map((s) => s.state)).toEqual(['running', 'failed']);
    // start again: a fresh instance
    h.runner.start('crash');
    expect(h.runner.status('crash')[0]!.state).toBe('running');
  });

  // a 2 ms budget against 10 ms hooks: a fast hook descheduled on a loaded machine stays under it
  it('a strategy that overruns its budget 3 times in a row is paused and its orders cancelled', () => {
    const h = new Harness({ measure: true });
    let slow = false;
    h.runner.add(cfg('slow', 'slow', { budgetUs: 2000 }), scripted('slow', {
      onStart(ctx) { ctx.place({ symbol: 0, side: 0, price: 900, qty: 1 }); },
      onBook() { if (slow) { const end = performance.now() + 10; while (performance.now() < end) { /* 10 ms */ } } },
    }));
    h.runner.add(cfg('other', 'other', { account: 802 }), scripted('other', {}));
    h.runner.start('slow');
    h.runner.start('other');
    h.pump();
    const id = h.strategyCmds(ACC)[0]!.id;
    expect(h.resting(0, id)).toBe(true);
    h.sell(0, 1100, 1);
    slow = true;
    h.sell(0, 1101, 1);
    h.sell(0, 1102, 1);
    expect(h.runner.status('slow')[0]!.state).toBe('running');
    expect(h.runner.status('slow')[0]!.overruns).toBe(2);
    h.sell(0, 1103, 1);
    const st = h.runner.status('slow')[0]!;
    expect(st.state).toBe('paused');
    expect(st.overruns).toBe(3);
    expect(st.why).toMatch(/3 hooks in a row over the 2000 µs budget/);
    expect(h.resting(0, id)).toBe(false);
    expect(st.decisionUs.p99).toBeGreaterThan(2000);
    expect(h.runner.status('other')[0]!.state).toBe('running');
    slow = false;
    h.runner.start('slow'); // resumes
    h.sell(0, 1104, 1);
    expect(h.runner.status('slow')[0]!.state).toBe('running');
  });

  it('a hard-limit breaker trip cancels the strategy\'s orders in the same tick; only a reset after the cooldown re-enables it', () => {
    const h = new Harness();
    const results: unknown[] = [];
    h.runner.add(cfg('b', 'b', { limits: { maxOrderQty: 10, cooldownMs: 1000, halfOpenMs: 5000 } }), scripted('b', {
      onStart(ctx) { results.push(ctx.place({ symbol: 0, side: 0, price: 900, qty: 5 })); },
      onTrade(ctx) { results.push(ctx.place({ symbol: 0, side: 0, price: 901, qty: 20 })); results.push(ctx.place({ symbol: 0, side: 0, price: 902, qty: 1 })); },
    }));
    h.runner.start('b');
    h.pump();
    expect(results).toEqual([expect.any(Number)]);
    const first = h.strategyCmds(ACC)[0]!;
    expect(h.resting(0, first.id)).toBe(true);
    h.sell(0, 1100, 1);
    h.buy(0, 1100, 1);
    expect(results.slice(1)).toEqual(['limit', 'breaker_open']);
    expect(h.trips.map((t) => t.trip.reason)).toEqual(['max_order_qty']);
    const st = h.runner.status('b')[0]!;
    expect(st.state).toBe('tripped');
    expect(st.breaker.state).toBe('open');
    expect(h.resting(0, first.id)).toBe(false);
    expect(h.strategyCmds(ACC).map((c) => c.op)).toEqual([ENUMS.Op.NEW, ENUMS.Op.CANCEL]);
    expect(() => h.runner.start('b')).toThrow(TradsysError);
    expect(() => h.runner.reset('b')).toThrow(/cooldown|may be reset/);
    h.t += 1000;
    h.runner.reset('b');
    expect(h.runner.status('b')[0]!.state).toBe('running');
    expect(h.runner.status('b')[0]!.breaker.state).toBe('half_open');
  });

  it('a loss over maxLoss trips the breaker (P&L marked to the book) and cancels the resting orders', () => {
    const h = new Harness({ velocity: { movePct: 50, windowMs: 1000, pauseMs: 1000 } });
    h.runner.add(cfg('l', 'l', { limits: { maxLoss: 500 } }), scripted('l', {
      onStart(ctx) { ctx.place({ symbol: 0, side: 0, price: 1000, qty: 10 }); ctx.place({ symbol: 0, side: 0, price: 800, qty: 1 }); },
    }));
    h.runner.start('l');
    h.pump();
    h.sell(0, 1000, 10); // long 10 @ 1000
    expect(h.runner.status('l')[0]!.position).toEqual({ AAA: 10 });
    h.buy(0, 960, 1); // bid 960 (market) … mid needs an ask
    h.sell(0, 980, 1); // ask 980 → mid (960+980)/2 = 970: loss 300
    expect(h.runner.status('l')[0]!.state).toBe('running');
    h.market(ENUMS.Op.NEW, 1, 0, 940, 1); // ask 940 (below 960 bid? trades with the 960 bid) …
    h.sell(0, 945, 1); // ask 945; bid 800 (the strategy's) → mid 872.5: loss 1275 > 500
    const st = h.runner.status('l')[0]!;
    expect(st.state).toBe('tripped');
    expect(h.trips[0]!.trip.reason).toBe('max_loss');
    expect([...h.engine.orders()].filter((o) => o.account === ACC)).toEqual([]);
  });

  it('a velocity trip cancels the orders on that symbol and refuses new ones until the pause ends', () => {
    const h = new Harness({ velocity: { movePct: 5, windowMs: 1000, pauseMs: 2000 } });
    const got: unknown[] = [];
    h.runner.add(cfg('v', 'v', { symbols: ['AAA', 'BBB'] }), scripted('v', {
      onStart(ctx) { ctx.place({ symbol: 0, side: 0, price: 500, qty: 1 }); ctx.place({ symbol: 1, side: 0, price: 500, qty: 1 }); },
      onTimer(ctx) { got.push(ctx.place({ symbol: 0, side: 0, price: 501, qty: 1 })); got.push(ctx.place({ symbol: 1, side: 0, price: 501, qty: 1 })); },
    }));
    h.runner.start('v');
    h.pump();
    const [a, b] = h.strategyCmds(ACC);
    h.sell(0, 1000, 1); h.buy(0, 1000, 1); // trade at 1000
    h.t += 100;
    h.sell(0, 1060, 1); h.buy(0, 1060, 1); // +6 % within 1 s: trip
    expect(h.trips.map((t) => t.trip.reason)).toEqual(['velocity']);
    expect(h.resting(0, a!.id)).toBe(false);
    expect(h.resting(1, b!.id)).toBe(true);
    expect(h.runner.status('v')[0]!.state).toBe('running');
    h.runner.stop('v');
    h.runner.start('v'); // onStart again: AAA refused (paused), BBB placed
    expect(h.runner.status('v')[0]!.state).toBe('running');
    const n = h.strategyCmds(ACC).length;
    h.pump();
    const after = h.strategyCmds(ACC).slice(n);
    expect(after.every((c) => c.symbol === 1)).toBe(true);
    h.t += 2000;
    got.length = 0;
    h.runner.stop('v');
    h.runner.start('v');
    h.pump();
    expect(h.strategyCmds(ACC).slice(n + after.length).filter((c) => c.op === ENUMS.Op.NEW).map((c) => c.symbol).sort()).toEqual([0, 1]);
  });

  it('builds bars from trades on the injected clock and fires timers once and repeating', () => {
    const h = new Harness();
    const bars: unknown[] = [];
    const timers: [string, number][] = [];
    h.runner.add(cfg('bt', 'bt', { barMs: 1000 }), scripted('bt', {
      onStart(ctx) { ctx.setTimer('once', 1500); ctx.setTimer('tick', 1000, true); },
      onBar(_ctx, b) { bars.push({ ...b }); },
      onTimer(ctx, name) { timers.push([name, ctx.now()]); },
    }));
    h.t = 1_800_000_000_000; // a whole second
    h.runner.start('bt');
    const t0 = h.t;
    h.sell(0, 1000, 5); h.buy(0, 1000, 2); // trade 2 @ 1000
    h.t += 200; h.sell(0, 990, 5); h.buy(0, 1000, 6); // trades 3 @ 1000, 3 @ 990
    h.t += 300; h.buy(0, 995, 1); h.sell(0, 995, 1); // trade 1 @ 995 (maker price)
    expect(bars).toEqual([]);
    h.advance(600); // t0 + 1100: bar [t0, t0+1000) closes, the timer 'tick' fires
    expect(bars).toEqual([{ symbol: 0, startMs: t0, intervalMs: 1000, open: 1000, high: 1000, low: 990, close: 995, volume: 9, trades: 4 }]);
    h.advance(400); // t0 + 1500
    h.advance(600); // t0 + 2100
    expect(timers).toEqual([['tick', t0 + 1100], ['once', t0 + 1500], ['tick', t0 + 2100]]);
    expect(bars.length).toBe(1); // no trades in the second interval: no bar
  });

  it('validates parameters against the schema (defaults filled in), limits and configuration; setParams calls onParams', () => {
    const h = new Harness();
    expect(() => h.runner.add({ id: 'p', kind: 'probe', account: 1, symbols: ['AAA'], params: { mode: 'nope' } }, probeStrategy as never)).toThrow(/ERR|mode|must be equal/);
    try { h.runner.add({ id: 'p', kind: 'probe', account: 1, symbols: ['AAA'], params: { qty: 0, bogus: 1 } }, probeStrategy as never); expect.unreachable(); } catch (e) {
      expect((e as TradsysError).code).toBe('ERR_STRATEGY_PARAMS');
      expect((e as Error).message).toMatch(/qty/);
      expect((e as Error).message).toMatch(/bogus/);
    }
    expect(() => h.runner.add({ id: 'p', kind: 'probe', account: 1, symbols: ['ZZZ'] }, probeStrategy as never)).toThrow(/unknown symbol "ZZZ"/);
    expect(() => h.runner.add({ id: 'p p', kind: 'probe', account: 1, symbols: ['AAA'] }, probeStrategy as never)).toThrow(/id must be/);
    expect(() => h.runner.add({ id: 'p', kind: 'probe', account: 1, symbols: ['AAA'], limits: { maxWhat: 1 } }, probeStrategy as never)).toThrow(/maxWhat/);
    h.runner.add({ id: 'p', kind: 'probe', account: 1, symbols: ['AAA'], params: { qty: 3 } }, probeStrategy as never);
    expect(() => h.runner.add({ id: 'p', kind: 'probe', account: 1, symbols: ['AAA'] }, probeStrategy as never)).toThrow(/already exists/);
    expect(h.runner.status('p')[0]!.parameters).toEqual({ mode: 'quote', qty: 3, price: 1000, priceB: 1000, offset: 1, maxTakes: 1000000, crashAfter: 0, spinMs: 0 });
    const seen: unknown[] = [];
    h.runner.add(cfg('q', 'q'), scripted('q', { onParams(ctx, prev) { seen.push([prev, ctx.params]); } }, { type: 'object', properties: { k: { type: 'integer', default: 1 } } }));
    h.runner.start('q');
    h.runner.setParams('q', { k: 7 });
    expect(seen).toEqual([[{ k: 1 }, { k: 7 }]]);
    expect(() => h.runner.setParams('q', { k: 'x' })).toThrow(TradsysError);
    expect(() => h.runner.start('nope')).toThrow(/no strategy/);
  });

  it('hands hooks reused view objects (one per kind), valid during the call', () => {
    const h = new Harness();
    const seen: Record<string, unknown[]> = { book: [], trade: [], fill: [], order: [] };
    const prices: number[] = [];
    h.runner.add(cfg('v', 'v'), scripted('v', {
      onStart(ctx) { ctx.place({ symbol: 0, side: 0, price: 1000, qty: 10 }); },
      onBook(_c, b) { seen.book!.push(b); },
      onTrade(_c, t) { seen.trade!.push(t); prices.push(t.price); },
      onFill(_c, f) { seen.fill!.push(f); },
      onOrder(_c, o) { seen.order!.push(o); },
    }));
    h.runner.start('v');
    h.pump();
    for (let i = 0; i < 5; i++) h.sell(0, 1000, 1);
    for (const k of ['book', 'trade', 'fill', 'order']) {
      expect(seen[k]!.length, k).toBeGreaterThan(3);
      expect(new Set(seen[k]).size, k).toBe(1);
    }
    expect(prices).toEqual([1000, 1000, 1000, 1000, 1000]);
  });

  it('signals carry the strategy, the clock and the last seq; stop cancels the orders and calls onStop', () => {
    const h = new Harness();
    let stopped = 0;
    h.runner.add({ id: 's', kind: 'probe', account: 901, symbols: ['AAA'], params: { mode: 'quote', price: 990, qty: 2 } }, probeStrategy as never);
    h.runner.add(cfg('t', 't', { account: 902 }), scripted('t', { onStop() { stopped++; } }));
    h.runner.start('s'); h.runner.start('t');
    h.pump();
    expect(h.signals).toEqual([{ strategy: 's', symbol: 0, ts: h.t, signal: 'quote', value: 990, price: 990, qty: 2, seq: 0 }]);
    const id = h.strategyCmds(901)[0]!.id;
    h.runner.stop('s'); h.runner.stop('t');
    h.pump();
    expect(stopped).toBe(1);
    expect(h.resting(0, id)).toBe(false);
    expect(h.runner.status().map((s) => s.state)).toEqual(['stopped', 'stopped']);
  });
});
