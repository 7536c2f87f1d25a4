/**
 * Regenerates the golden outputs (`*.events.csv`, `*.book.csv`) from the TypeScript reference
 * book. Run only on purpose (`npm run golden:update`) and review the diff before committing.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openOrderFile } from '../../src/codec/tso.js';
import { decodeCommand } from '../../src/engine/engine.js';
import { CMD_SIZE } from '../../src/abi/records.js';
import { generate } from '../../src/workload/generator.js';
import { writeOrderFile } from '../../src/codec/tso.js';
import { openSync, closeSync } from 'node:fs';
import { RefEngine } from '../reference/ref-engine.js';

export const GOLDEN = dirname(fileURLToPath(import.meta.url));
export const CASES: Record<string, number> = { 'basic.csv': 3, 'mixed.tso': 3, 'deep.tso': 2, 'aggressive.csv': 3, 'ids.csv': 3 };

function main(): void {
  if (!process.argv.includes('--update')) {
    console.error('refusing to rewrite golden files without --update');
    process.exitCode = 2;
    return;
  }
  // generated inputs (deterministic)
  const mk = (name: string, opts: Parameters<typeof generate>[0]): void => {
    const recs = generate(opts);
    const fd = openSync(join(GOLDEN, name), 'w');
    writeOrderFile(fd, recs, opts.count, name.endsWith('.csv'));
    closeSync(fd);
  };
  mk('mixed.tso', { seed: 5, count: 3000, symbols: 3, mix: 'default', badRate: 0.02 });
  mk('aggressive.csv', { seed: 6, count: 1500, symbols: 3, mix: 'aggressive', badRate: 0.02 });
  mk('deep.tso', { seed: 8, count: 3000, symbols: 2, mix: 'deep-book', badRate: 0.01 });
  for (const file of readdirSync(GOLDEN)) {
    const symbols = CASES[file];
    if (symbols === undefined) continue;
    const src = openOrderFile(join(GOLDEN, file));
    const ref = new RefEngine({ symbols });
    const buf = new Uint8Array(1024 * CMD_SIZE);
    const events: string[] = [];
    for (let n = src.next(buf, 1024); n > 0; n = src.next(buf, 1024)) {
      const dv = new DataView(buf.buffer);
      for (let i = 0; i < n; i++) events.push(...ref.apply(decodeCommand(dv, i * CMD_SIZE)));
    }
    src.close();
    const base = file.replace(/\.(csv|tso)$/, '');
    writeFileSync(join(GOLDEN, `${base}.events.csv`), events.map((l) => l + '\n').join(''));
    writeFileSync(join(GOLDEN, `${base}.book.csv`), ref.bookLines().map((l) => l + '\n').join(''));
    console.log(`${file}: ${events.length} events, ${ref.resting} resting`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
