/**
 * Positions read model: per (account, symbol) the net position, FIFO open lots, average entry
 * price, realised P&L and unrealised P&L marked to the symbol's last trade price (or a supplied
 * mark) — all exact integers in ticks × lots (bigint); no floats touch money.
 *
 * Owns: `PositionsProjection`, its snapshot format (kind "positions", version 1).
 * Method: FIFO. A fill in the direction of the position (or from flat) opens a lot (qty, price);
 * a fill against it closes the oldest lots first, each closed lot realising
 * sign(position) × (fill price − lot price) × closed qty; a fill larger than the position closes
 * it all and opens a lot on the other side with the rest. With signed quantities:
 *   openCost   = Σ over open lots of signedQty × lotPrice
 *   avgEntry   = openCost / position                      (exact ratio, ticks)
 *   unrealised = mark × position − openCost
 *   realised + unrealised = −Σ fills signedQty × price + mark × position   (tested)
 * FIFO was chosen over average cost because every quantity it produces is an integer: the average-
 * cost method needs cost × closed / position, which is not.
 * Layout: each trade (T) updates the taker (event account, side) and the maker (makerAccount,
 * opposite side); a self-trade updates one position twice (net zero).
 * Invariants: position = Σ open lot qty (signed), every lot on the position's side; position
 * equals the engine's risk position (engine.position(account, symbol).position, tested).
 * Complexity: O(1) amortised per fill (each lot is opened once and closed once).
 * Allocation: one lot per opening fill. Known limitations: no fees, no currency conversion; the
 * mark defaults to the last trade of the symbol seen by this projection.
 */
import { ENUMS } from '../abi/records.js';
import type { SeqBatch } from './events.js';
import { big, checkHeader, int, type Projection } from './projection.js';

export interface Lot { qty: bigint; price: bigint }

interface Pos {
  account: number;
  symbol: number;
  /** Net lots, + long. */
  qty: bigint;
  /** Open lots, oldest first from `head`; quantities positive, on the side of `qty`. */
  lots: Lot[];
  head: number;
  openCost: bigint;
  realised: bigint;
  boughtQty: bigint;
  soldQty: bigint;
  buyNotional: bigint;
  sellNotional: bigint;
  lastSeq: bigint;
}

export interface PositionView {
  account: number;
  symbol: number;
  /** Net lots, + long, − short. */
  qty: bigint;
  /** Σ signedQty × price of the open lots (ticks × lots). */
  openCost: bigint;
  /** openCost / qty as an exact ratio (null when flat). */
  avgEntry: { num: bigint; den: bigint } | null;
  realisedPnl: bigint;
  /** mark × qty − openCost (0n when flat or without a mark). */
  unrealisedPnl: bigint;
  /** The mark used (ticks), null when none is known. */
  mark: bigint | null;
  boughtQty: bigint;
  soldQty: bigint;
  buyNotional: bigint;
  sellNotional: bigint;
  lastSeq: bigint;
}

interface PosJson {
  account: number; symbol: number; qty: string; lots: [string, string][]; openCost: string; realised: string;
  boughtQty: string; soldQty: string; buyNotional: string; sellNotional: string; lastSeq: string;
}
export interface PositionsSnapshot { kind: 'positions'; version: 1; checkpoint: string; positions: PosJson[]; lastPrice: [number, string][] }

export class PositionsProjection implements Projection<PositionsSnapshot> {
  readonly name = 'positions';
  private cp = 0n;
  private readonly pos = new Map<string, Pos>();
  private readonly byAccount = new Map<number, Set<number>>();
  private readonly lastPx = new Map<number, bigint>();

  get checkpoint(): bigint { return this.cp; }

  /** The last trade price of a symbol (ticks), if any trade was seen. */
  lastPrice(symbol: number): bigint | undefined { return this.lastPx.get(symbol); }

  apply(b: SeqBatch): boolean {
    if (b.seq <= this.cp) return false;
    this.cp = b.seq;
    for (const e of b.events) {
      if (e.type !== 'T') continue;
      const q = BigInt(e.qty);
      const takerSigned = e.side === ENUMS.Side.BUY ? q : -q;
      this.fill(e.account, e.symbol, takerSigned, e.price, b.seq);
      this.fill(e.makerAccount, e.symbol, -takerSigned, e.price, b.seq);
      this.lastPx.set(e.symbol, e.price);
    }
    return true;
  }

  private at(account: number, symbol: number): Pos {
    const k = `${account}:${symbol}`;
    let p = this.pos.get(k);
    if (!p) {
      p = { account, symbol, qty: 0n, lots: [], head: 0, openCost: 0n, realised: 0n, boughtQty: 0n, soldQty: 0n, buyNotional: 0n, sellNotional: 0n, lastSeq: 0n };
      this.pos.set(k, p);
      let s = this.byAccount.get(account);
      if (!s) this.byAccount.set(account, (s = new Set()));
      s.add(symbol);
    }
    return p;
  }

  private fill(account: number, symbol: number, signed: bigint, price: bigint, seq: bigint): void {
    const p = this.at(account, symbol);
    p.lastSeq = seq;
    if (signed > 0n) { p.boughtQty += signed; p.buyNotional += signed * price; } else { p.soldQty -= signed; p.sellNotional -= signed * price; }
    if (p.qty === 0n || (p.qty > 0n) === (signed > 0n)) {
      p.lots.push({ qty: signed > 0n ? signed : -signed, price });
      p.qty += signed;
      p.openCost += signed * price;
      return;
    }
    const dir = p.qty > 0n ? 1n : -1n;
    let rest = signed > 0n ? signed : -signed;
    while (rest > 0n && p.head < p.lots.length) {
      const lot = p.lots[p.head]!;
      const c = lot.qty < rest ? lot.qty : rest;
      p.realised += dir * (price - lot.price) * c;
      p.openCost -= dir * lot.price * c;
      p.qty -= dir * c;
      lot.qty -= c;
      rest -= c;
      if (lot.qty === 0n) p.head++;
    }
    if (p.head === p.lots.length) { p.lots = []; p.head = 0; } else if (p.head > 1024 && p.head * 2 > p.lots.length) { p.lots = p.lots.slice(p.head); p.head = 0; }
    if (rest > 0n) {
      // the fill flipped the position: the rest opens a lot on the other side
      p.lots.push({ qty: rest, price });
      p.qty = -dir * rest;
      p.openCost = -dir * rest * price;
    }
  }

  private view(p: Pos, mark: bigint | undefined): PositionView {
    const m = mark ?? this.lastPx.get(p.symbol);
    return {
      account: p.account, symbol: p.symbol, qty: p.qty, openCost: p.openCost,
      avgEntry: p.qty === 0n ? null : { num: p.openCost, den: p.qty },
      realisedPnl: p.realised, unrealisedPnl: p.qty === 0n || m === undefined ? 0n : m * p.qty - p.openCost, mark: m ?? null,
      boughtQty: p.boughtQty, soldQty: p.soldQty, buyNotional: p.buyNotional, sellNotional: p.sellNotional, lastSeq: p.lastSeq,
    };
  }

  /** One position (undefined if the account never traded the symbol). `mark` overrides the last trade. */
  position(account: number, symbol: number, mark?: bigint): PositionView | undefined {
    const p = this.pos.get(`${account}:${symbol}`);
    return p ? this.view(p, mark) : undefined;
  }

  /** All positions of an account (flat ones included, they carry realised P&L), by symbol. */
  positions(account: number, marks?: ReadonlyMap<number, bigint>): PositionView[] {
    const s = this.byAccount.get(account);
    if (!s) return [];
    return [...s].sort((a, b) => a - b).map((sym) => this.view(this.pos.get(`${account}:${sym}`)!, marks?.get(sym)));
  }

  /** Open lots of a position, oldest first (copies). */
  lots(account: number, symbol: number): Lot[] {
    const p = this.pos.get(`${account}:${symbol}`);
    return p ? p.lots.slice(p.head).map((l) => ({ ...l })) : [];
  }

  /** Every (account, symbol) seen, for reports and tests. */
  keys(): { account: number; symbol: number }[] {
    return [...this.pos.values()].map((p) => ({ account: p.account, symbol: p.symbol }));
  }

  snapshot(): PositionsSnapshot {
    const ps = [...this.pos.values()].sort((a, b) => a.account - b.account || a.symbol - b.symbol);
    return {
      kind: 'positions', version: 1, checkpoint: this.cp.toString(),
      positions: ps.map((p) => ({
        account: p.account, symbol: p.symbol, qty: p.qty.toString(), lots: p.lots.slice(p.head).map((l) => [l.qty.toString(), l.price.toString()] as [string, string]),
        openCost: p.openCost.toString(), realised: p.realised.toString(), boughtQty: p.boughtQty.toString(), soldQty: p.soldQty.toString(),
        buyNotional: p.buyNotional.toString(), sellNotional: p.sellNotional.toString(), lastSeq: p.lastSeq.toString(),
      })),
      lastPrice: [...this.lastPx.entries()].sort((a, b) => a[0] - b[0]).map(([s, px]) => [s, px.toString()]),
    };
  }

  restore(s: PositionsSnapshot): void {
    const h = checkHeader(s, 'positions', 1);
    const cp = big(h.checkpoint, 'checkpoint');
    if (!Array.isArray(h.positions) || !Array.isArray(h.lastPrice)) throw new TypeError('positions snapshot: positions and lastPrice must be arrays');
    const ps: Pos[] = (h.positions as PosJson[]).map((j, i) => {
      const w = `positions[${i}]`;
      if (!Array.isArray(j.lots)) throw new TypeError(`${w}.lots`);
      return {
        account: int(j.account, `${w}.account`), symbol: int(j.symbol, `${w}.symbol`), qty: big(j.qty, `${w}.qty`),
        lots: j.lots.map(([q, px], k) => ({ qty: big(q, `${w}.lots[${k}]`), price: big(px, `${w}.lots[${k}]`) })), head: 0,
        openCost: big(j.openCost, `${w}.openCost`), realised: big(j.realised, `${w}.realised`), boughtQty: big(j.boughtQty, `${w}.boughtQty`),
        soldQty: big(j.soldQty, `${w}.soldQty`), buyNotional: big(j.buyNotional, `${w}.buyNotional`), sellNotional: big(j.sellNotional, `${w}.sellNotional`),
        lastSeq: big(j.lastSeq, `${w}.lastSeq`),
      };
    });
    const lp = (h.lastPrice as [number, string][]).map(([sym, px], i) => [int(sym, `lastPrice[${i}]`), big(px, `lastPrice[${i}]`)] as const);
    this.pos.clear();
    this.byAccount.clear();
    this.lastPx.clear();
    for (const p of ps) {
      this.pos.set(`${p.account}:${p.symbol}`, p);
      let set = this.byAccount.get(p.account);
      if (!set) this.byAccount.set(p.account, (set = new Set()));
      set.add(p.symbol);
    }
    for (const [sym, px] of lp) this.lastPx.set(sym, px);
    this.cp = cp;
  }
}
