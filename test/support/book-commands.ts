/**
 * Command builders, the CMD encoder and the EVT decoder that the plain-TS book tests share
 * (test/unit/fast-book.test.ts, test/unit/dense-ladder.test.ts): N (new order), MKT (market), C
 * (cancel), M (modify), `encode` (Command[] → CMD records, optionally after `pad` bytes) and
 * `decodeEvents` (an outbox's first n EVT records as objects with every field).
 */
import { CMD_OFF, CMD_SIZE, EVT_OFF, EVT_SIZE, REASON_NAMES } from '../../src/abi/records.js';
import type { Command } from '../../src/domain/types.js';
import { prng } from '../../src/workload/prng.js';

export interface NewOpts { side?: number; type?: number; tif?: number; sym?: number; acct?: number }

export function N(id: number | bigint, side: 'B' | 'S', price: number | bigint, qty: number, o: NewOpts = {}): Command {
  return {
    op: 1, side: o.side ?? (side === 'B' ? 0 : 1), type: o.type ?? 0, tif: o.tif ?? 0, symbol: o.sym ?? 0,
    id: BigInt(id), price: BigInt(price), qty, account: o.acct ?? 0,
  };
}
export const GTC = 0, IOC = 1, FOK = 2, POST = 3;
export function MKT(id: number, side: 'B' | 'S', qty: number, o: NewOpts = {}): Command {
  return N(id, side, 0, qty, { ...o, type: 1 });
}
export function C(id: number | bigint, sym = 0): Command {
  return { op: 2, side: 0, type: 0, tif: 0, symbol: sym, id: BigInt(id), price: 0n, qty: 0, account: 0 };
}
export function M(id: number | bigint, price: number | bigint, qty: number, sym = 0, acct = 0): Command {
  return { op: 3, side: 0, type: 0, tif: 0, symbol: sym, id: BigInt(id), price: BigInt(price), qty, account: acct };
}

export function encode(cmds: Command[], pad = 0): Uint8Array {
  const buf = new Uint8Array(pad + cmds.length * CMD_SIZE);
  const dv = new DataView(buf.buffer);
  cmds.forEach((c, i) => {
    const b = pad + i * CMD_SIZE;
    dv.setUint8(b + CMD_OFF.op, c.op);
    dv.setUint8(b + CMD_OFF.side, c.side);
    dv.setUint8(b + CMD_OFF.type, c.type);
    dv.setUint8(b + CMD_OFF.tif, c.tif);
    dv.setUint32(b + CMD_OFF.symbol, c.symbol, true);
    dv.setBigUint64(b + CMD_OFF.id, c.id, true);
    dv.setBigInt64(b + CMD_OFF.price, c.price, true);
    dv.setUint32(b + CMD_OFF.qty, c.qty, true);
    dv.setUint32(b + CMD_OFF.account, c.account, true);
  });
  return buf;
}

export interface Evt {
  type: string; reason: number; flags: number; side: number; symbol: number; id: bigint; maker: bigint; price: bigint;
  qty: number; leaves: number; makerLeaves: number; cmd: number; account: number; makerAccount: number; tradeId: bigint;
}

/** An event as the tests' CSV line (A,id · R,id,reason · T,id,maker,price,qty · X,id,qty · M,id,price,qty). */
export function line(e: Evt): string {
  switch (e.type) {
    case 'A': return `A,${e.id}`;
    case 'R': return `R,${e.id},${REASON_NAMES[e.reason] ?? `reason_${e.reason}`}`;
    case 'T': return `T,${e.id},${e.maker},${e.price},${e.qty}`;
    case 'X': return `X,${e.id},${e.qty}`;
    case 'M': return `M,${e.id},${e.price},${e.qty}`;
    default: throw new Error(`bad event type ${e.type}`);
  }
}

export function decodeEvents(outbox: Uint8Array, n: number): Evt[] {
  const dv = new DataView(outbox.buffer, outbox.byteOffset);
  const out: Evt[] = [];
  for (let i = 0; i < n; i++) {
    const b = i * EVT_SIZE;
    out.push({
      type: String.fromCharCode(dv.getUint8(b + EVT_OFF.type)), reason: dv.getUint8(b + EVT_OFF.reason),
      flags: dv.getUint8(b + EVT_OFF.flags), side: dv.getUint8(b + EVT_OFF.side), symbol: dv.getUint32(b + EVT_OFF.symbol, true),
      id: dv.getBigUint64(b + EVT_OFF.id, true), maker: dv.getBigUint64(b + EVT_OFF.maker, true),
      price: dv.getBigInt64(b + EVT_OFF.price, true), qty: dv.getUint32(b + EVT_OFF.qty, true),
      leaves: dv.getUint32(b + EVT_OFF.leaves, true), makerLeaves: dv.getUint32(b + EVT_OFF.makerLeaves, true),
      cmd: dv.getUint32(b + EVT_OFF.cmd, true), account: dv.getUint32(b + EVT_OFF.account, true),
      makerAccount: dv.getUint32(b + EVT_OFF.makerAccount, true), tradeId: dv.getBigUint64(b + EVT_OFF.tradeId, true),
    });
  }
  return out;
}

/**
 * A seeded stream of `n` commands over 3 symbols (plus 2% on unknown symbols 3–4): 60% new
 * orders (5% duplicate ids, 5% deliberately bad fields), 20% cancels, 19% modifies, 1% bad ops;
 * cancels and modifies mostly name known ids. `wide`: prices walk over thousands of ticks around
 * a moving mid instead of 95..105 (the narrow stream is the same for either book's test).
 */
export function randomCommands(seed: number, n: number, wide: boolean): Command[] {
  const rnd = prng(seed);
  const pick = (k: number): number => Math.floor(rnd() * k);
  const ids: bigint[] = [];
  const out: Command[] = [];
  let mid = 5000;
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const sym = rnd() < 0.02 ? 3 + pick(2) : pick(3);
    const known = ids.length > 0 && rnd() < 0.85 ? ids[pick(ids.length)]! : BigInt(1 + pick(4000));
    if (wide) mid = Math.max(3000, mid + pick(301) - 150);
    const price = BigInt(wide ? mid + pick(2001) - 1000 : 95 + pick(11));
    const account = pick(4);
    if (r < 0.6) {
      const id = rnd() < 0.05 && ids.length > 0 ? ids[pick(ids.length)]! : BigInt(i + 1);
      ids.push(id);
      let side = pick(2), type = rnd() < 0.1 ? 1 : 0, tif = [0, 0, 0, 1, 2, 3][pick(6)]!;
      let qty = 1 + pick(20);
      let p = price;
      const bad = rnd();
      if (bad < 0.01) side = 2;
      else if (bad < 0.02) type = 3;
      else if (bad < 0.03) tif = 4;
      else if (bad < 0.04) qty = 0;
      else if (bad < 0.05) p = -BigInt(pick(3));
      out.push({ op: 1, side, type, tif, symbol: sym, id, price: p, qty, account });
    } else if (r < 0.8) {
      out.push({ op: 2, side: 0, type: 0, tif: 0, symbol: sym, id: known, price: 0n, qty: 0, account });
    } else if (r < 0.99) {
      const bad = rnd();
      out.push({ op: 3, side: 0, type: 0, tif: 0, symbol: sym, id: known, price: bad > 0.97 ? 0n : price, qty: bad < 0.03 ? 0 : 1 + pick(20), account });
    } else {
      out.push({ op: 4 + pick(3), side: 0, type: 0, tif: 0, symbol: sym, id: known, price, qty: 1, account });
    }
  }
  return out;
}
