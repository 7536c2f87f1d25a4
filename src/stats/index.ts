/**
 * `tradsys/stats`: the statistical core for strategies, in WebAssembly with SIMD128.
 *
 * Streaming: RunningStats, RollingStats, RollingPairStats, Ewma, PairMonitor, StatsRegistry.
 * Batch kernels (SIMD with scalar twins): meanVar/mean/variance, covariance, correlation, ols,
 * correlationMatrix, qr. Tests: adfuller, coint, mackinnonp, mackinnoncrit (statsmodels semantics).
 * Universe: correlationTopPairs, engleGrangerScreen (GPU when present, else WASM SIMD; docs/gpu.md).
 */
export { RunningStats, RollingStats, RollingPairStats, Ewma, PairMonitor, StatsRegistry, type PairMonitorOptions } from './stream.js';
export { meanVar, mean, variance, covariance, correlation, ols, correlationMatrix, qr, type OlsResult, type Qr, type KernelOptions } from './kernels.js';
export { adfuller, coint, mackinnonp, mackinnoncrit, normCdf, type AdfOptions, type AdfResult, type CointOptions, type CointResult } from './adf.js';
export {
  correlationTopPairs, engleGrangerScreen, type TopPairsOptions, type TopPairsResult, type CorrelatedPair, type CorrMode,
  type UniverseBackend, type EgOptions, type EgResult, type EgScreenResult, type EgStatus,
} from './universe.js';
