/**
 * The host error catalog: every error the host raises has a code here (ERR_<AREA>_<WHAT>), a
 * message template for people, and the HTTP status the API will answer with.
 *
 * Invariants: codes unique, never reused; each one documented in docs/errors.md (checked by
 * test/unit/errors.test.ts). Allocation: an error object per raise (never on the hot path).
 * Known limitations: none.
 */
export const ERRORS = {
  ERR_ENGINE_WASM_MISSING: { status: 500, message: 'the engine WebAssembly build is missing' },
  ERR_ENGINE_ABI_MISMATCH: { status: 500, message: 'the engine WebAssembly ABI differs from the host' },
  ERR_ENGINE_ABORT: { status: 500, message: 'an engine assertion failed' },
  ERR_ENGINE_TRAP: { status: 500, message: 'the engine trapped; its state is unusable' },
  ERR_ENGINE_SINK: { status: 500, message: 'the event sink threw mid-batch; the instance is fenced' },
  ERR_ENGINE_CONFIG: { status: 400, message: 'invalid engine configuration' },
  ERR_ENGINE_NO_MEMORY: { status: 500, message: 'the engine could not reserve its memory' },
  ERR_ENGINE_BAD_COMMAND: { status: 400, message: 'a command field is out of range' },
  ERR_ENGINE_BUSY: { status: 409, message: 'a batch is in progress' },
  ERR_ENGINE_INVARIANT: { status: 500, message: 'an engine invariant is broken' },
  ERR_ENGINE_TEST_HOOKS: { status: 403, message: 'the engine test hooks are off or were given a bad value' },
  ERR_SNAPSHOT_FORMAT: { status: 400, message: 'not a valid engine snapshot' },
  ERR_SNAPSHOT_CORRUPT: { status: 400, message: 'the engine snapshot is corrupt' },
  ERR_TSO_FORMAT: { status: 400, message: 'not a valid order stream file' },
  ERR_CSV_FORMAT: { status: 400, message: 'not a valid order stream CSV' },
  ERR_CLI_USAGE: { status: 400, message: 'bad command-line usage' },
  ERR_DECIMAL_FORMAT: { status: 400, message: 'not a plain decimal string' },
  ERR_PRICE_TICK: { status: 400, message: 'price is not a multiple of the tick size' },
  ERR_QTY_LOT: { status: 400, message: 'quantity is not a multiple of the lot size' },
  ERR_INSTRUMENT_SPEC: { status: 400, message: 'invalid instrument reference data' },
  ERR_GATEWAY_CONFIG: { status: 400, message: 'invalid gateway configuration' },
  ERR_ALERTS_RULES: { status: 400, message: 'the alert rules file is invalid' },
  ERR_MONITOR_DISK_SPACE: { status: 507, message: 'too little free space in the data folder for a heap snapshot' },
  ERR_GPU_UNAVAILABLE: { status: 503, message: 'the GPU statistics path was asked for but cannot run here' },
  ERR_GPU_KERNEL: { status: 500, message: 'a CUDA statistics kernel failed' },
  ERR_KEYS_STORE: { status: 500, message: 'the API key store cannot be read' },
  ERR_KEYS_LOCKED: { status: 503, message: 'the API key store is being changed by another process' },
  ERR_IO: { status: 500, message: 'a file could not be read or written' },
  ERR_JOURNAL_WRITE: { status: 503, message: 'the journal could not be written; trading is stopped' },
  ERR_JOURNAL_CORRUPT: { status: 500, message: 'the journal is damaged inside its durable region' },
  ERR_JOURNAL_DIVERGED: { status: 500, message: 'replaying the journal did not reproduce the recorded events' },
  ERR_JOURNAL_LOCKED: { status: 409, message: 'the journal directory is used by another process' },
  ERR_STORAGE_UNAVAILABLE: { status: 503, message: 'ClickHouse cannot be reached' },
  ERR_STORAGE_QUERY: { status: 400, message: 'ClickHouse rejected the query' },
  ERR_STORAGE_NOT_SELECT: { status: 400, message: 'only a single SELECT statement is allowed' },
  ERR_STORAGE_PARAM: { status: 400, message: 'a query parameter is missing or does not fit its type' },
  ERR_STORAGE_LIMIT: { status: 422, message: 'the query exceeded a row, time or memory limit' },
  ERR_STORAGE_FORBIDDEN: { status: 403, message: 'the query needs more than read-only access' },
  ERR_STORAGE_SANDBOX: { status: 403, message: 'the query reads something outside the analysts\' sandbox' },
  ERR_STORAGE_MIGRATION: { status: 500, message: 'a schema migration failed' },
  ERR_STORAGE_CLOSED: { status: 503, message: 'the storage connection is closed' },
  ERR_STORAGE_CONFIG: { status: 400, message: 'invalid storage configuration' },
  ERR_STORAGE_BUSY: { status: 429, message: 'too many analyst queries at once' },
  ERR_STORAGE_NO_STORE: { status: 400, message: 'no TradSys store in that data folder' },
  ERR_CQRS_SNAPSHOT: { status: 500, message: 'a read-model snapshot is malformed or of another version' },
  ERR_CQRS_LAGGED: { status: 503, message: 'a subscription fell too far behind the live stream' },
  ERR_SAGA_LOG_CORRUPT: { status: 500, message: 'the saga log is damaged inside its durable region' },
  ERR_SAGA_LOG_WRITE: { status: 503, message: 'the saga log could not be written; sagas are stopped' },
  ERR_SAGA_CONFIG: { status: 400, message: 'invalid saga parameters' },
  ERR_BREAKER_LIMITS: { status: 400, message: 'invalid circuit-breaker limits' },
  ERR_SIM_CONFIG: { status: 400, message: 'invalid market simulator parameters' },
  ERR_BREAKER_COOLDOWN: { status: 409, message: 'the circuit breaker may not be reset before its cooldown has passed' },
  ERR_STRATEGY_CONFIG: { status: 400, message: 'invalid strategy configuration' },
  ERR_STRATEGY_PARAMS: { status: 400, message: 'strategy parameters do not match the strategy\'s schema' },
  ERR_STRATEGY_NOT_FOUND: { status: 404, message: 'no such strategy' },
  ERR_STRATEGY_STATE: { status: 409, message: 'the strategy cannot do that in its current state' },
  ERR_STRATEGY_INPUT: { status: 400, message: 'invalid input to a strategy model (stat-arb screening, filters, quoting)' },
  ERR_BACKTEST_CONFIG: { status: 400, message: 'invalid backtest options' },
  ERR_BACKTEST_INPUT: { status: 400, message: 'the backtest input cannot be replayed' },
  ERR_SYS_TOPOLOGY: { status: 500, message: 'the CPU/NUMA topology cannot be read from sysfs' },
  ERR_SYS_CPU_PLAN: { status: 400, message: 'invalid CPU placement plan (serve --cpus)' },
  ERR_DASHBOARD_NOT_BUILT: { status: 503, message: 'the dashboard bundle is not built (run npm run build)' },
  ERR_FEED_CONFIG: { status: 400, message: 'invalid UDP feed options' },
  ERR_FEED_MESSAGE: { status: 400, message: 'a feed message field does not fit its wire type' },
  ERR_FEED_PACKET: { status: 400, message: 'a malformed UDP feed packet' },
  ERR_FEED_RING: { status: 500, message: 'not a usable feed ring (layout, version, readers or writer)' },
  ERR_FEED_NETWORK: { status: 503, message: 'the feed socket could not be opened or used' },
  ERR_FEED_SOURCE: { status: 400, message: 'the feed publisher\'s source cannot be read' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class TradsysError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ?? ERRORS[code].message, options);
    this.name = 'TradsysError';
    this.code = code;
    this.status = ERRORS[code].status;
  }
}
