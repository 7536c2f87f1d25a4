/** `tradsys/engine`: the WASM matching engine driver and its record codecs. */
export { Engine, encodeCommand, decodeCommand, decodeEvent, eventLineAt } from './engine.js';
export { crc32 } from '../sys/crc32.js';
export type { EngineOptions, PoolStats, MemoryStats, DepthLevel, StpMode, EventSink, RiskOptions, RiskSetup, SymbolRisk, AccountRisk, PositionRisk } from './engine.js';
export { simdSupported, wasmPath, wasmInstanceMemory } from './wasm.js';
export type { EngineThreadMemory } from './host.js';
export type { BuildKind } from './wasm.js';
export * from '../domain/types.js';
