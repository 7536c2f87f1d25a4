/**
 * The engine's public option and result types: what `new Engine(...)` takes and what its queries,
 * risk and memory accessors return (re-exported by src/engine/engine.ts and src/engine/index.ts).
 *
 * Layout: plain interfaces; prices and notionals are bigint ticks, quantities number lots (or
 * bigint where a sum may pass 2^53). Invariants: none beyond the types (the Engine checks ranges).
 * Complexity / Allocation: none (types and one constant table).
 * Known limitations: `StpMode` order is the engine's numeric STP code (index in STP_MODES).
 */
import type { BuildKind } from './wasm.js';

export interface EngineOptions {
  /** Number of symbols; ids 0..symbols-1 exist. */
  symbols: number;
  /** Maximum resting orders over all symbols (pool size). */
  capacity: number;
  /** Commands per `bookRun` call (default 4096). */
  inboxCapacity?: number;
  /** Event records per outbox fill (default 65536). */
  outboxCapacity?: number;
  /** WASM build (default release). */
  build?: BuildKind;
  /**
   * Key of the engine's hash tables and treap priorities (default: random per instance). It only
   * affects speed under adversarial ids/prices, never events, books or the state hash.
   */
  seed?: number;
  /** Pre-trade risk in the engine (docs/risk.md); off when absent. Only at creation. */
  risk?: RiskOptions;
}

export interface RiskOptions {
  /** Accounts the risk tables hold (default 65,536). */
  maxAccounts?: number;
  /** (account, symbol) positions the risk tables hold (default 262,144). */
  maxPositions?: number;
  /** Open (resting) orders per account unless the account has its own limit; 0 = none (default). */
  defaultMaxOpenOrders?: number;
}

/** Per-symbol risk settings in ticks and lots; 0 / 0n means "no limit". */
export interface SymbolRisk {
  halted: boolean;
  minQty: number;
  maxQty: number;
  /**
   * Collar half-width in basis points around the last trade (before it: the mid, else the best
   * opposite price for an order that would trade on arrival); 0 = none, ≤ 10,000 (docs/risk.md).
   * Market orders trade only inside the same band (refused `price_collar` when the best opposite
   * price is outside it; the rest cancelled at its edge).
   */
  collarBps: number;
  /** Notional = price ticks × qty lots. */
  minNotional: bigint;
  maxNotional: bigint;
  /** Largest projected position (long or short) per account in this symbol, lots. */
  maxPosition: bigint;
  /** Collar reference: the last trade price; before the first trade the configured reference price, or 0n. */
  lastPrice: bigint;
}

export interface AccountRisk {
  account: number;
  openOrders: number;
  /** 0 = the engine default. */
  maxOpenOrders: number;
  killed: boolean;
  /** 0n = each symbol's maxPosition. */
  maxPosition: bigint;
}

/** Start-up risk configuration in one piece (what the engine thread applies before trading). */
export interface RiskSetup {
  symbols?: (Partial<SymbolRisk> | undefined)[];
  accounts?: [number, Partial<Pick<AccountRisk, 'maxOpenOrders' | 'killed' | 'maxPosition'>>][];
  killAll?: boolean;
}

export interface PositionRisk { account: number; symbol: number; position: bigint; openBuy: bigint; openSell: bigint }

export interface PoolStats { capacity: number; inUse: number; highWater: number; freeList: number }
export interface MemoryStats { orders: PoolStats; levels: PoolStats; wasmBytes: number; engineBytes: number }
export interface DepthLevel { price: bigint; qty: bigint; count: number }
export type StpMode = 'none' | 'cancel_resting' | 'cancel_incoming' | 'cancel_both';
/** STP modes by their engine code (bookSetStp / bookGetStp). */
export const STP_MODES: readonly StpMode[] = ['none', 'cancel_resting', 'cancel_incoming', 'cancel_both'];

/** Receives each outbox fill: `count` EVT records starting at byte `0` of `bytes`/`view`. */
export type EventSink = (view: DataView, bytes: Uint8Array, count: number) => void;
