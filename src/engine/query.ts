/**
 * Read-only queries of a book instance: L2 depth, L3 orders at a level, one order, the canonical
 * walk of every resting order, the state hash, the invariant check, the trade sequence and memory
 * statistics. The Engine methods of the same names delegate here.
 *
 * Layout: results come back through scratch (LEVEL / ORDER records, src/abi/records.ts) and
 * CTRL (hash, tradeSeq, 64-bit arguments).
 * Invariants: queries that read scratch run only between batches (ERR_ENGINE_BUSY otherwise);
 * `orders()` pages through scratch and throws ERR_ENGINE_BUSY if the engine changed between pages.
 * Complexity: depth O(n levels); levelOrders O(offset + max); orders() O(resting orders) in pages
 * of 4,096. Allocation: one object per level / order returned.
 * Known limitations: `order(symbol, id)` and `orderCount` may run inside a sink (no busy check),
 * as before the split.
 */
import { CTRL_OFF, ENUMS, LEVEL_OFF, LEVEL_SIZE, ORDER_OFF, ORDER_SIZE } from '../abi/records.js';
import type { RestingOrder } from '../domain/types.js';
import { EngineError } from './errors.js';
import type { BookInstance } from './instance.js';
import { toI64, toU64 } from './record-codec.js';
import type { DepthLevel, MemoryStats, PoolStats } from './types.js';

export function depth(b: BookInstance, symbol: number, side: number, n: number): DepthLevel[] {
  b.checkSymbol(symbol);
  b.checkSide(side);
  return b.call(() => {
    b.idle();
    const k = b.ex.bookDepth(symbol, side, Math.max(0, Math.min(n, 1 << 20)));
    b.views();
    const out: DepthLevel[] = [];
    for (let i = 0; i < k; i++) {
      const p = b.scratchPtr + i * LEVEL_SIZE;
      out.push({
        price: b.dv.getBigInt64(p + LEVEL_OFF.price, true),
        qty: b.dv.getBigUint64(p + LEVEL_OFF.qty, true),
        count: b.dv.getUint32(p + LEVEL_OFF.count, true),
      });
    }
    return out;
  });
}

export function levelOrders(b: BookInstance, symbol: number, side: number, price: bigint | number, offset: number, max: number): RestingOrder[] {
  b.checkSymbol(symbol);
  b.checkSide(side);
  const px = toI64(price, 'price');
  return b.call(() => {
    b.idle();
    b.dv.setBigInt64(b.ctrlPtr + CTRL_OFF.arg0, px, true);
    const k = b.ex.bookLevelOrders(symbol, side, offset, max);
    b.views();
    const out: RestingOrder[] = [];
    for (let i = 0; i < k; i++) out.push(readOrder(b, b.scratchPtr + i * ORDER_SIZE));
    return out;
  });
}

export function order(b: BookInstance, symbol: number, id: bigint | number): RestingOrder | null {
  b.checkSymbol(symbol);
  const i = toU64(id, 'id');
  return b.call(() => {
    b.dv.setBigUint64(b.ctrlPtr + CTRL_OFF.arg0, i, true);
    return b.ex.bookOrder(symbol) === 1 ? readOrder(b, b.scratchPtr) : null;
  });
}

function readOrder(b: BookInstance, p: number): RestingOrder {
  const dv = b.dv;
  return {
    symbol: dv.getUint32(p + ORDER_OFF.symbol, true),
    side: dv.getUint8(p + ORDER_OFF.side),
    price: dv.getBigInt64(p + ORDER_OFF.price, true),
    id: dv.getBigUint64(p + ORDER_OFF.id, true),
    leaves: dv.getUint32(p + ORDER_OFF.leaves, true),
    account: dv.getUint32(p + ORDER_OFF.account, true),
    filled: dv.getBigUint64(p + ORDER_OFF.filled, true),
  };
}

export function orderCount(b: BookInstance, symbol: number): number {
  b.checkSymbol(symbol);
  return b.ex.bookOrderCount(symbol);
}

export function* orders(b: BookInstance): Generator<RestingOrder> {
  b.call(() => { b.idle(); b.ex.bookSnapBegin(); });
  const epoch = b.epoch;
  const chunk = 4096;
  for (;;) {
    if (b.epoch !== epoch) throw new EngineError('ERR_ENGINE_BUSY', 'the engine changed while orders() was being iterated');
    const k = b.call(() => b.ex.bookSnapNext(chunk));
    if (k === 0) return;
    b.views();
    const got: RestingOrder[] = [];
    for (let i = 0; i < k; i++) got.push(readOrder(b, b.scratchPtr + i * ORDER_SIZE));
    yield* got;
  }
}

export function stateHash(b: BookInstance): bigint {
  return b.call(() => {
    b.idle();
    b.ex.engineStateHash();
    b.views();
    return b.dv.getBigUint64(b.ctrlPtr + CTRL_OFF.hash, true);
  });
}

export function validate(b: BookInstance): void {
  const rc = b.call(() => { b.idle(); return b.ex.engineValidate() || b.ex.riskValidate(); });
  if (rc !== 0) throw new EngineError('ERR_ENGINE_INVARIANT', `engine invariant ${rc} broken (see engineValidate in assembly/book/query.ts, riskValidate in assembly/book/risk-api.ts)`);
}

export function tradeSeq(b: BookInstance): bigint {
  b.ex.engineGetTradeSeq();
  b.views();
  return b.dv.getBigUint64(b.ctrlPtr + CTRL_OFF.tradeSeq, true);
}

export function memoryStats(b: BookInstance): MemoryStats {
  const pool = (p: number): PoolStats => ({
    capacity: b.ex.poolStatCapacity(p), inUse: b.ex.poolStatInUse(p),
    highWater: b.ex.poolStatHighWater(p), freeList: b.ex.poolStatFreeList(p),
  });
  return { orders: pool(ENUMS.Pool.ORDERS), levels: pool(ENUMS.Pool.LEVELS), wasmBytes: b.ex.memory.buffer.byteLength, engineBytes: b.ex.engineMemEnd() >>> 0 };
}

/**
 * The same figures as memoryStats without an object (the engine thread's once-a-second report):
 * at `out[at..at+6]` orders capacity, in use, high water; levels capacity, in use, high water;
 * memory pages (64 KiB).
 */
export function memoryStatsInto(b: BookInstance, out: Int32Array, at: number): void {
  const o = ENUMS.Pool.ORDERS;
  const l = ENUMS.Pool.LEVELS;
  Atomics.store(out, at, b.ex.poolStatCapacity(o));
  Atomics.store(out, at + 1, b.ex.poolStatInUse(o));
  Atomics.store(out, at + 2, b.ex.poolStatHighWater(o));
  Atomics.store(out, at + 3, b.ex.poolStatCapacity(l));
  Atomics.store(out, at + 4, b.ex.poolStatInUse(l));
  Atomics.store(out, at + 5, b.ex.poolStatHighWater(l));
  Atomics.store(out, at + 6, b.ex.memory.buffer.byteLength >>> 16);
}
