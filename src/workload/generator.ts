/**
 * Seeded generator of realistic order streams (CMD / .tso records) for replay, tests, the demo
 * and the benchmarks.
 *
 * Owns: the workload mixes and their exact definitions (documented in bench/README.md).
 * Layout: output is `count` 32-byte CMD records (no header).
 * Invariants: the same options give the same bytes on every platform (integer PRNG, no
 * Math.random, no floats in outputs). Ids are unique per stream (1, 2, 3, ...) except where a
 * bad input is injected on purpose.
 * Complexity: O(count). Allocation: the output buffer plus per-symbol live-id lists.
 * Feedback: the stream is generated in slices of 64 commands; each slice is run through a private
 * WASM engine and its events (fills, cancels, rejects) update the generator's list of live orders,
 * so cancels and modifies name orders that really rest (within a slice some race with fills and
 * are answered `unknown_order`, as in real flow). `feedback: false` turns this off.
 * Markets: the mids of the (non-flash) mixes move as independent ±1-tick random walks (`market:
 * 'walk'`, the default) or, with `market: 'cointegrated'`, follow src/workload/cointegrated.ts (a
 * common random-walk factor per group of symbols plus a mean-reverting spread per symbol; one step
 * per command; its own PRNG stream from the seed) so a pairs strategy has cointegrated pairs to find.
 * Known limitations: with feedback, generation costs about as much as a replay.
 *
 * The `flash-*` mixes follow a different construction: the shape of the five scenarios of the
 * public flash1-dev/matching-engine-benchmark (workload/scenarios.json, docs/METHODOLOGY.md;
 * rebuilt here from that description on our PRNG, so the bytes and its consensus hash are not
 * reproduced), on symbol 0 only: a GBM mid (volatility and target swing per scenario) prices
 * `N` passive new orders (buys along the first half of the path, sells along the second, power-law
 * + hump depth 1..800 ticks from the mid, qty 1..100), shuffled into arrival order; each one gets
 * its lifecycle (15% IOC; of the rest 20% a modify to qty + 1, 80% of them one tick toward the
 * mid; 95% a cancel, 2% of those re-sent, and 2% of the modified-then-cancelled orders a stale
 * modify), each order's messages before the next order's (as the original's clock makes them). `N` is chosen so the timeline holds at least `count` messages;
 * the first `count` are written. No feedback engine, no `badRate` (the duplicates are the
 * rejects), ids are the placement index + 1 (arrival order shuffled).
 */
import { CMD_OFF, CMD_SIZE, EVT_SIZE } from '../abi/records.js';
import { evtId, evtLeaves, evtMaker, evtMakerLeaves, evtReason, evtType } from '../abi/views.js';
import { Engine } from '../engine/engine.js';
import { prng } from './prng.js';
import { CointegratedMarket, pairGroups, type CointegrationSpec } from './cointegrated.js';

export const MIXES = [
  'default', 'cancel-heavy', 'deep-book', 'aggressive', 'exchange-core',
  'flash-normal', 'flash-static', 'flash-swing-25', 'flash-swing-40', 'flash-crash',
] as const;
export type Mix = (typeof MIXES)[number];

export interface GenOptions {
  seed?: number;
  count: number;
  symbols?: number;
  mix?: Mix;
  /** Share of deliberately bad commands (unknown symbol, qty 0, price ≤ 0, duplicate id, unknown id). */
  badRate?: number;
  accounts?: number;
  /** Track live orders through a private engine (default true). */
  feedback?: boolean;
  /**
   * How the symbols' mids move (not for the flash-* mixes): 'walk' (default: independent ±1-tick
   * random walks) or 'cointegrated' (src/workload/cointegrated.ts: a common random-walk factor per
   * group plus a mean-reverting spread per symbol; one step per generated command).
   */
  market?: 'walk' | 'cointegrated';
  /** Parameters of the cointegrated market (defaults in GEN_COINTEGRATION; groups default to consecutive pairs). */
  cointegration?: Partial<CointegrationSpec>;
}

/**
 * `tradsys gen --market cointegrated` defaults, per generated command: the factor moves 0.3 bp of
 * the price per command (about 1.3 % over 200,000 commands), each spread has a stationary
 * standard deviation of 20 bp (20 ticks at the generator's 10,000-tick mids) and a half-life of
 * 2,000 commands; groups are consecutive pairs of symbols (0–1, 2–3, …), betas 1.
 */
export const GEN_COINTEGRATION: Omit<CointegrationSpec, 'groups' | 'betas'> = Object.freeze({ factorVolBp: 0.3, halfLifeSteps: 2_000, spreadSdBp: 20 });

/** The starting mid of symbol s in ticks (both markets). */
export function genStartMid(s: number): number { return 10_000 + 100 * s; }

/** Percentages of each action, per mix. `spread` is the half-width of resting prices in ticks. */
interface MixDef {
  gtc: number; ioc: number; fok: number; post: number; market: number; cancel: number; modify: number; move: number;
  spread: number; cross: number;
  /** Standing depth: while a symbol holds fewer live orders, a cancel becomes a GTC placement
   * with probability 1 − live/depth, so books settle around this many orders per symbol. */
  depth: number;
}
/**
 * A flash1-dev/matching-engine-benchmark scenario (workload/scenarios.json): annualised
 * volatility and target swing of the GBM mid; the lifecycle constants are the same for all five.
 */
interface FlashMixDef {
  kind: 'flash'; scenario: string; volatility: number; swing: number;
  /** Seed of the mid path's draws, calibrated per scenario (as the original's canonical seed 23 is)
   * so the path carries a standing book of the size the original's realisations carry. */
  pathSeed: number;
  startMidTicks: number; tickUsd: number; alpha: number; humpAmplitude: number; humpCenter: number; maxLevel: number;
  iocPct: number; modifyPct: number; repricePct: number; cancelPct: number; dupCancelPct: number; dupModifyPct: number;
  medianLifeUs: number; qtyMin: number; qtyMax: number;
}
const FLASH = {
  kind: 'flash', startMidTicks: 33_504, tickUsd: 0.005, alpha: 2.23, humpAmplitude: 5, humpCenter: 8, maxLevel: 799,
  iocPct: 15, modifyPct: 20, repricePct: 80, cancelPct: 95, dupCancelPct: 2, dupModifyPct: 2, medianLifeUs: 431, qtyMin: 1, qtyMax: 100,
} as const;

/** One path seed for the five, as the original uses one canonical seed (23) for all of them: with
 * it our standing books come closest to the original's METHODOLOGY table (bench/README.md). */
const FLASH_PATH_SEED = 19;

export const MIX_DEFS: Record<Mix, MixDef | FlashMixDef> = {
  // cross: percentage of limit orders priced through the touch (aggressive)
  default: { gtc: 50, ioc: 10, fok: 3, post: 2, market: 5, cancel: 22, modify: 8, move: 0, spread: 20, cross: 15, depth: 2000 },
  'cancel-heavy': { gtc: 40, ioc: 3, fok: 1, post: 1, market: 1, cancel: 48, modify: 6, move: 0, spread: 20, cross: 5, depth: 1000 },
  'deep-book': { gtc: 70, ioc: 4, fok: 1, post: 3, market: 2, cancel: 12, modify: 8, move: 0, spread: 2000, cross: 3, depth: 1_000_000 },
  aggressive: { gtc: 30, ioc: 25, fok: 10, post: 0, market: 20, cancel: 8, modify: 7, move: 0, spread: 10, cross: 60, depth: 500 },
  // exchange-core's published benchmark mix: 9% GTC, 3% IOC, 6% cancel, 82% move
  'exchange-core': { gtc: 9, ioc: 3, fok: 0, post: 0, market: 0, cancel: 6, modify: 0, move: 82, spread: 30, cross: 10, depth: 2000 },
  // flash1-dev/matching-engine-benchmark's five scenarios (one symbol; see the module header)
  'flash-normal': { ...FLASH, scenario: 'normal', volatility: 0.15, swing: 0.02, pathSeed: FLASH_PATH_SEED },
  'flash-static': { ...FLASH, scenario: 'static', volatility: 0, swing: 0, pathSeed: FLASH_PATH_SEED },
  'flash-swing-25': { ...FLASH, scenario: 'swing-25', volatility: 0.5, swing: 0.25, pathSeed: FLASH_PATH_SEED },
  'flash-swing-40': { ...FLASH, scenario: 'swing-40', volatility: 0.5, swing: 0.4, pathSeed: FLASH_PATH_SEED },
  'flash-crash': { ...FLASH, scenario: 'flash-crash', volatility: 0.5, swing: 0.6, pathSeed: FLASH_PATH_SEED },
};

export { prng } from './prng.js';

interface LiveOrder { id: number; sym: number; side: number; price: number; qty: number; idx: number }

export function generate(opts: GenOptions): Uint8Array {
  const count = opts.count;
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`count must be a non-negative integer, got ${count}`);
  const symbols = opts.symbols ?? 8;
  const def = MIX_DEFS[opts.mix ?? 'default'];
  if (!def) throw new RangeError(`unknown mix "${String(opts.mix)}" (one of ${MIXES.join(', ')})`);
  const marketKind = opts.market ?? 'walk';
  if (marketKind !== 'walk' && marketKind !== 'cointegrated') throw new RangeError(`unknown market "${String(marketKind)}" (walk or cointegrated)`);
  if ('kind' in def) {
    if (marketKind !== 'walk') throw new RangeError(`the ${String(opts.mix)} mix has its own price path (one symbol); --market cointegrated applies to the other mixes`);
    return generateFlash(def, count, opts.seed ?? 1, opts.accounts ?? 64);
  }
  const mix = def;
  const badRate = opts.badRate ?? 0.001;
  const accounts = opts.accounts ?? 64;
  const rnd = prng(opts.seed ?? 1);
  const out = new Uint8Array(count * CMD_SIZE);
  const dv = new DataView(out.buffer);
  const u32 = new Uint32Array(out.buffer);
  const mids = Array.from({ length: symbols }, (_, s) => genStartMid(s));
  // its own PRNG stream, so the order flow's draws are the same kind in both markets
  const market = marketKind === 'cointegrated'
    ? new CointegratedMarket(mids, { groups: pairGroups(symbols), ...GEN_COINTEGRATION, ...opts.cointegration }, ((opts.seed ?? 1) ^ 0x9e3779b9) >>> 0)
    : null;
  const live: LiveOrder[][] = Array.from({ length: symbols }, () => []);
  const byId = new Map<number, LiveOrder>();
  const track = (o: Omit<LiveOrder, 'idx'>): void => {
    const lst = live[o.sym]!;
    const x = { ...o, idx: lst.length };
    lst.push(x);
    byId.set(o.id, x);
  };
  const untrack = (x: LiveOrder): void => {
    const lst = live[x.sym]!;
    const last = lst.pop()!;
    if (last !== x) { lst[x.idx] = last; last.idx = x.idx; }
    byId.delete(x.id);
  };
  const feedback = opts.feedback ?? true;
  const engine = feedback ? new Engine({ symbols, capacity: Math.max(1024, Math.min(count, 1 << 24)), inboxCapacity: 64, outboxCapacity: 4096 }) : null;
  const SLICE = 64;
  let fed = 0;
  const onEvents = (v: DataView, _b: Uint8Array, k: number): void => {
    for (let e = 0; e < k; e++) {
      const p = e * EVT_SIZE;
      const t = evtType(v, p);
      const id = evtId(v, p);
      if (t === 84) {
        const m = byId.get(evtMaker(v, p));
        if (m) { const ml = evtMakerLeaves(v, p); if (ml === 0) untrack(m); else m.qty = ml; }
        const tk = byId.get(id);
        if (tk) { const l = evtLeaves(v, p); if (l === 0) untrack(tk); else tk.qty = l; }
      } else if (t === 88 || t === 82) {
        const x = byId.get(id);
        // an R for a duplicate id names someone else's live order: keep that one
        if (x && !(t === 82 && evtReason(v, p) === 4)) untrack(x);
      }
    }
  };
  const feed = (upTo: number): void => {
    if (engine && upTo > fed) { engine.submitRaw(out, fed * CMD_SIZE, upTo - fed, onEvents); fed = upTo; }
  };
  let nextId = 1;
  const cum = [mix.gtc, mix.ioc, mix.fok, mix.post, mix.market, mix.cancel, mix.modify, mix.move];
  for (let i = 1; i < cum.length; i++) cum[i]! += cum[i - 1]!;
  const total = cum[cum.length - 1]!;

  const pickSymbol = (): number => {
    // skewed: half the flow on the first quarter of the symbols
    const r = rnd();
    const hot = Math.max(1, symbols >> 2);
    return r < 0.5 ? Math.floor(rnd() * hot) : Math.floor(rnd() * symbols);
  };
  const qtyOf = (): number => 1 + Math.floor(rnd() * rnd() * 100);
  const restPrice = (side: number, mid: number): number => {
    const off = 1 + Math.floor(rnd() * rnd() * mix.spread);
    return side === 0 ? mid - off : mid + off;
  };
  const crossPrice = (side: number, mid: number): number => {
    const off = Math.floor(rnd() * 5);
    return side === 0 ? mid + off : mid - off;
  };
  const write = (i: number, op: number, side: number, type: number, tif: number, sym: number, id: number, price: number, qty: number, acct: number): void => {
    const p = i * CMD_SIZE;
    out[p + CMD_OFF.op] = op;
    out[p + CMD_OFF.side] = side;
    out[p + CMD_OFF.type] = type;
    out[p + CMD_OFF.tif] = tif;
    u32[(p + CMD_OFF.symbol) >> 2] = sym;
    dv.setBigUint64(p + CMD_OFF.id, BigInt(id), true);
    dv.setBigInt64(p + CMD_OFF.price, BigInt(price), true);
    u32[(p + CMD_OFF.qty) >> 2] = qty;
    u32[(p + CMD_OFF.account) >> 2] = acct;
  };

  for (let i = 0; i < count; i++) {
    if (i % SLICE === 0) feed(i);
    const sym = pickSymbol();
    if (market) {
      mids[sym] = Math.max(100, market.fair(sym, i));
    } else {
      // random walk of the mid, one tick at a time
      const w = rnd();
      if (w < 0.02) mids[sym]! += 1; else if (w < 0.04 && mids[sym]! > 100) mids[sym]! -= 1;
    }
    const mid = mids[sym]!;
    const acct = 1 + Math.floor(rnd() * accounts);
    const lv = live[sym]!;

    if (rnd() < badRate) {
      const k = Math.floor(rnd() * 5);
      if (k === 0) write(i, 1, 0, 0, 0, symbols + Math.floor(rnd() * 100), nextId++, mid, 10, acct); // unknown symbol
      else if (k === 1) write(i, 1, 1, 0, 0, sym, nextId++, mid, 0, acct); // bad qty
      else if (k === 2) write(i, 1, 0, 0, 0, sym, nextId++, -Math.floor(rnd() * 10), 5, acct); // bad price
      else if (k === 3 && lv.length > 0) write(i, 1, 0, 0, 0, sym, lv[Math.floor(rnd() * lv.length)]!.id, mid - 50, 5, acct); // duplicate
      else write(i, 2, 0, 0, 0, sym, nextId + 1_000_000 + Math.floor(rnd() * 1000), 0, 0, 0); // unknown id
      continue;
    }

    let r = rnd() * total;
    if (r >= cum[4]! && lv.length === 0) r = 0; // nothing to cancel/modify: place instead
    else if (r >= cum[4]! && r < cum[5]! && lv.length < mix.depth && rnd() >= lv.length / mix.depth) r = 0; // keep the standing depth
    const side = rnd() < 0.5 ? 0 : 1;
    if (r < cum[4]!) {
      const id = nextId++;
      const q = qtyOf();
      if (r < cum[0]!) {
        const px = rnd() * 100 < mix.cross ? crossPrice(side, mid) : restPrice(side, mid);
        write(i, 1, side, 0, 0, sym, id, Math.max(1, px), q, acct);
        track({ id, sym, side, price: Math.max(1, px), qty: q });
      } else if (r < cum[1]!) {
        write(i, 1, side, 0, 1, sym, id, Math.max(1, crossPrice(side, mid)), q, acct);
      } else if (r < cum[2]!) {
        write(i, 1, side, 0, 2, sym, id, Math.max(1, crossPrice(side, mid)), q, acct);
      } else if (r < cum[3]!) {
        const px = Math.max(1, restPrice(side, mid));
        write(i, 1, side, 0, 3, sym, id, px, q, acct);
        track({ id, sym, side, price: px, qty: q });
      } else {
        write(i, 1, side, 1, 0, sym, id, 0, q, acct);
      }
      continue;
    }
    const j = Math.floor(rnd() * lv.length);
    const o = lv[j]!;
    if (r < cum[5]!) {
      write(i, 2, 0, 0, 0, sym, o.id, 0, 0, 0);
      untrack(o);
    } else if (r < cum[6]!) {
      // modify: mostly size reductions in place, sometimes a new price
      if (rnd() < 0.6 && o.qty > 1) {
        o.qty = 1 + Math.floor(rnd() * (o.qty - 1));
      } else {
        o.price = Math.max(1, restPrice(o.side, mid));
        o.qty = qtyOf();
      }
      write(i, 3, o.side, 0, 0, sym, o.id, o.price, o.qty, 0);
    } else {
      // move (exchange-core): same size, new price near the touch
      o.price = Math.max(1, rnd() * 100 < mix.cross ? crossPrice(o.side, mid) : restPrice(o.side, mid));
      write(i, 3, o.side, 0, 0, sym, o.id, o.price, o.qty, 0);
    }
  }
  feed(count);
  return out;
}

// ── flash1-dev/matching-engine-benchmark scenario shapes ─────────────────────────────────────

/** Standard normal (Box–Muller, one value per two uniforms). */
function normal(rnd: () => number): number {
  const u1 = Math.max(rnd(), 1e-300);
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rnd());
}

/** The message timeline of `n` placed orders, in arrival order (timestamps never decrease). */
function flashTimeline(def: FlashMixDef, n: number, seed: number): { op: Uint8Array; side: Uint8Array; tif: Uint8Array; id: Uint32Array; price: Float64Array; qty: Uint32Array; length: number } {
  const rnd = prng(seed);
  const walk = prng(def.pathSeed);
  // depth profile: weight(k) = (k + 1)^−α + A·exp(−(k − c)²/2), k = 0..maxLevel ticks beyond 1
  const cdf = new Float64Array(def.maxLevel + 1);
  let acc = 0;
  for (let k = 0; k <= def.maxLevel; k++) {
    const z = k - def.humpCenter;
    acc += 1 / Math.pow(k + 1, def.alpha) + def.humpAmplitude * Math.exp(-0.5 * z * z);
    cdf[k] = acc;
  }
  const level = (): number => {
    const x = rnd() * acc;
    let lo = 0, hi = def.maxLevel;
    while (lo < hi) { const m = (lo + hi) >>> 1; if (cdf[m]! < x) lo = m + 1; else hi = m; }
    return lo;
  };
  // phase 1: n passive orders priced off a GBM mid; buys on the first half of the path
  const sigma = def.volatility > 0 ? def.swing / Math.sqrt(n) : 0; // σ·√dt with dt = (swing/σ)²/n
  const pSide = new Uint8Array(n), pQty = new Uint32Array(n);
  const pPrice = new Float64Array(n);
  let mid = def.startMidTicks * def.tickUsd;
  for (let i = 0; i < n; i++) {
    mid *= Math.exp(-0.5 * sigma * sigma + sigma * normal(walk));
    const midTicks = Math.round(mid / def.tickUsd);
    const lvl = level();
    const buy = i < n >> 1;
    pSide[i] = buy ? 0 : 1;
    pPrice[i] = Math.max(1, buy ? midTicks - (lvl + 1) : midTicks + (lvl + 1));
    pQty[i] = def.qtyMin + Math.floor(rnd() * (def.qtyMax - def.qtyMin + 1));
  }
  // phase 2: shuffled arrival order (Fisher–Yates), each order followed by its lifecycle
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    const t = order[i]!; order[i] = order[j]!; order[j] = t;
  }
  const cap = Math.ceil(n * 2.3) + 16;
  const tl = { op: new Uint8Array(cap), side: new Uint8Array(cap), tif: new Uint8Array(cap), id: new Uint32Array(cap), price: new Float64Array(cap), qty: new Uint32Array(cap), length: 0 };
  const push = (op: number, side: number, tif: number, id: number, price: number, qty: number): void => {
    const k = tl.length++;
    tl.op[k] = op; tl.side[k] = side; tl.tif[k] = tif; tl.id[k] = id; tl.price[k] = price; tl.qty[k] = qty;
  };
  // The original stamps each message with a time (modify 30..100 µs after the order, cancel
  // after an exponential lifetime) and advances its clock past each one before the next order
  // arrives, so its stable sort by time keeps this construction order: the times (and
  // `medianLifeUs`) do not change the stream, and are not drawn here.
  for (let k = 0; k < n; k++) {
    const p = order[k]!;
    const id = p + 1;
    const side = pSide[p]!;
    if (rnd() * 100 < def.iocPct) { push(1, side, 1, id, pPrice[p]!, pQty[p]!); continue; }
    push(1, side, 0, id, pPrice[p]!, pQty[p]!);
    const mqty = pQty[p]! + 1;
    let mprice = pPrice[p]!;
    let modified = false;
    if (rnd() * 100 < def.modifyPct) {
      if (rnd() * 100 < def.repricePct) mprice += side === 0 ? 1 : -1;
      push(3, side, 0, id, mprice, mqty);
      modified = true;
    }
    let cancelled = false;
    if (rnd() * 100 < def.cancelPct) {
      push(2, side, 0, id, 0, 0);
      cancelled = true;
      if (rnd() * 100 < def.dupCancelPct) push(2, side, 0, id, 0, 0);
    }
    if (modified && cancelled && rnd() * 100 < def.dupModifyPct) push(3, side, 0, id, mprice, mqty);
  }
  return tl;
}

function generateFlash(def: FlashMixDef, count: number, seed: number, accounts: number): Uint8Array {
  const out = new Uint8Array(count * CMD_SIZE);
  if (count === 0) return out;
  // about 2 messages per placed order; grow n until the timeline covers `count`
  let n = Math.max(2, Math.ceil(count / 1.95));
  let tl = flashTimeline(def, n, seed);
  while (tl.length < count) {
    n = Math.ceil((n * count) / tl.length) + 16;
    tl = flashTimeline(def, n, seed);
  }
  const dv = new DataView(out.buffer);
  const rnd = prng(seed ^ 0x5bd1e995);
  for (let i = 0; i < count; i++) {
    const p = i * CMD_SIZE;
    const op = tl.op[i]!;
    out[p + CMD_OFF.op] = op;
    out[p + CMD_OFF.side] = tl.side[i]!;
    out[p + CMD_OFF.type] = 0;
    out[p + CMD_OFF.tif] = tl.tif[i]!;
    dv.setUint32(p + CMD_OFF.symbol, 0, true);
    dv.setUint32(p + CMD_OFF.id, tl.id[i]!, true);
    dv.setUint32(p + CMD_OFF.id + 4, 0, true);
    const px = tl.price[i]!;
    dv.setUint32(p + CMD_OFF.price, px >>> 0, true);
    dv.setUint32(p + CMD_OFF.price + 4, Math.floor(px / 4294967296), true);
    dv.setUint32(p + CMD_OFF.qty, tl.qty[i]!, true);
    dv.setUint32(p + CMD_OFF.account, op === 1 ? 1 + Math.floor(rnd() * accounts) : 0, true);
  }
  return out;
}
