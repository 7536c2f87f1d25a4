/**
 * Child process of test/unit/gpu-loader.test.ts: prints the GPU status and the doctor row as JSON
 * (run with LD_LIBRARY_PATH pointing at a fake libcuda.so.1, or none).
 */
import { gpuStatus, probeGpu } from '../../src/sys/gpu.js';
import { correlationTopPairs } from '../../src/stats/universe.js';

const st = gpuStatus();
const u = [Float64Array.from([1, 2, 3, 5]), Float64Array.from([2, 1, 4, 4]), Float64Array.from([0, 1, 0, 1])];
const auto = correlationTopPairs(u, { topN: 2 });
process.stdout.write(JSON.stringify({ status: st, probe: probeGpu()[0], autoBackend: auto.backend, pairs: auto.pairs }) + '\n');
