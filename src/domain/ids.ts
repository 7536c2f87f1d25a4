/**
 * Every order/command id range, in one place. A command's `id` is a u64 on the wire, in the
 * command ring and in the journal; the engine gives no meaning to its value (it only needs a live
 * order's id to be unique). The host splits the space by who allocates the id:
 *
 * Layout:
 * ```
 *  id (u64)                     owner                allocated by                         name of the boundary
 *  0                            —                    never allocated (binary 0 = "none")
 *  [1, 2^51)                    gateway orders       gateway/orders.ts OrderRegistry      GATEWAY_ID_FIRST
 *                                                    (HTTP, JSON WS, binary WS and the
 *                                                    market simulator, which submits
 *                                                    through the gateway); counts from 1,
 *                                                    restored from the journal at start
 *  [2^51, 2^52)                 saga legs            cqrs/pairs-saga.ts sagaOrderId:      SAGA_ID_BASE (= end of the
 *                                                    SAGA_ID_BASE + 16·n + k (k 0 = A,    gateway range)
 *                                                    1 = B, 2..15 = unwind attempts)
 *  [2^52, 2^52 + 2^51)          ADMIN commands       gateway admin(): ADMIN_ID_BASE + a   ADMIN_ID_BASE (= end of the
 *                                                    per-process counter (from 1)         saga range)
 *  [2^52 + 2^51, 2^53)          strategy orders      strategies/pool.ts: blocks of        STRATEGY_ID_BASE (= end of the
 *                                                    STRATEGY_ID_BLOCK ids handed to the  ADMIN range)
 *                                                    workers from a shared Atomics
 *                                                    counter; at start it continues after
 *                                                    the highest strategy id the journal
 *                                                    holds (never reused across restarts)
 *  [2^53, 2^64)                 unused by the host   (ids above 2^53 are not exact as JS numbers)
 * ```
 * Offline tools that write order files directly for the engine (src/workload, .tso/.csv streams) use
 * ids from 1 with no gateway in between; they never meet these ranges at run time.
 *
 * Two forms: the bigint constants are for code that holds ids as bigint (CqrsEvent.id, journal
 * records, sagas); the `_NUM` twins are the same values for the gateway, which holds ids as JS
 * numbers (every id below 2^53 is exact).
 *
 * Invariants: the ranges are disjoint and ordered GATEWAY < SAGA < ADMIN < STRATEGY; a gateway id stays below
 * SAGA_ID_BASE, so the read models (cqrs/orders.ts) can tell the registry's ids from the rest; the
 * read models ignore only the ADMIN range (strategy orders are ordinary orders of their account).
 * Complexity: constants. Allocation: none.
 * Known limitations: ADMIN ids repeat across gateway restarts (the counter is not restored); only
 * the in-process waiter for the K/R answer uses them.
 */

/** The first gateway order id (the registry counts up from here). */
export const GATEWAY_ID_FIRST = 1;

/** Saga legs start here; gateway order ids stay below it. 2^51. */
export const SAGA_ID_BASE = 1n << 51n;

/** ADMIN command ids start here; saga leg ids stay below it. 2^52. */
export const ADMIN_ID_BASE = 1n << 52n;

/** Ids per saga in the saga range: leg A, leg B and up to 14 unwind attempts. */
export const IDS_PER_SAGA = 16n;

/** SAGA_ID_BASE as a number, for the gateway. */
export const SAGA_ID_BASE_NUM = Number(SAGA_ID_BASE);

/** ADMIN_ID_BASE as a number, for the gateway. */
export const ADMIN_ID_BASE_NUM = Number(ADMIN_ID_BASE);

/** Strategy order ids start here (the upper half of what was the ADMIN range); ADMIN ids stay below it. 2^52 + 2^51. */
export const STRATEGY_ID_BASE = ADMIN_ID_BASE + (1n << 51n);

/** STRATEGY_ID_BASE as a number (every strategy id is below 2^53, exact). */
export const STRATEGY_ID_BASE_NUM = Number(STRATEGY_ID_BASE);

/** The first id after the strategy range (2^53). */
export const STRATEGY_ID_END_NUM = 2 ** 53;

/** Ids a strategy worker takes from the shared counter at a time. */
export const STRATEGY_ID_BLOCK = 1024;

/** Whether `id` (a number) is a strategy order id. */
export function isStrategyOrderId(id: number): boolean { return id >= STRATEGY_ID_BASE_NUM && id < STRATEGY_ID_END_NUM; }

/** Whether `id` is an ADMIN command id ([ADMIN_ID_BASE, STRATEGY_ID_BASE)): no order, read models skip it. */
export function isAdminId(id: bigint): boolean { return id >= ADMIN_ID_BASE && id < STRATEGY_ID_BASE; }

/** isAdminId for an id held as a number (the gateway's event pump). */
export function isAdminIdNum(id: number): boolean { return id >= ADMIN_ID_BASE_NUM && id < STRATEGY_ID_BASE_NUM; }
