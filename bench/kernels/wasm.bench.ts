/**
 * `npm run bench:wasm`: the matching-engine benchmark (engine.bench.ts), then the statistics
 * benchmark (stats.bench.ts), with the same command-line options; each prints its table (and its
 * JSON with --json; --out FILE writes FILE and FILE.stats.json). Exit status: the first failure.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const statsOnly = new Set(['--quick', '--json', '--out']);
let status = 0;
for (const script of ['engine.bench.ts', 'stats.bench.ts']) {
  // the engine bench refuses options it does not know; the stats bench ignores them
  const a = script === 'engine.bench.ts' ? args : args.filter((x, i) => statsOnly.has(x) || (i > 0 && args[i - 1] === '--out'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, script), ...a], { stdio: 'inherit' });
  if (r.status !== 0 && status === 0) status = r.status ?? 1;
}
process.exit(status);
