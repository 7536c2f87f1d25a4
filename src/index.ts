/**
 * `tradsys`: the package root. Re-exports the engine driver, the order stream codec and
 * generator, the domain types and the error catalog.
 */
export * from './engine/index.js';
export * from './stats/index.js';
export { TradsysError, ERRORS, type ErrorCode } from './domain/errors.js';
export { ABI_VERSION, ABI_HASH, ENUMS, REASON_NAMES } from './abi/records.js';
export { TsoReader, CsvReader, openOrderFile, writeOrderFile, tsoHeader, CSV_HEADER, TSO_MAGIC } from './codec/tso.js';
export { generate, MIXES, MIX_DEFS, type Mix, type GenOptions } from './workload/generator.js';
export { replay, type ReplayOptions, type ReplaySummary } from './cli/replay.js';
