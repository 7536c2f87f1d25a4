/**
 * Golden files: `tradsys replay` (the built CLI, a real process) on each committed input must
 * print exactly the committed events and book. Outputs change only through
 * `npm run golden:update` (from the reference book), with the diff reviewed.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CASES, GOLDEN } from './update.js';
import { CLI } from '../support/cli.js';

describe('golden replay', () => {
  it('the CLI is built', () => {
    expect(existsSync(CLI), 'run `npm run build` first').toBe(true);
  });

  for (const [file, symbols] of Object.entries(CASES)) {
    it(`replay ${file} matches ${file.replace(/\.(csv|tso)$/, '')}.events.csv and .book.csv`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'golden-'));
      const base = file.replace(/\.(csv|tso)$/, '');
      const r = spawnSync(process.execPath, [CLI, 'replay', '--symbols', String(symbols), '--in', join(GOLDEN, file),
        '--events', join(dir, 'events.csv'), '--book', join(dir, 'book.csv')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/replay: [\d,]+ commands from .* M commands\/s\)/);
      expect(r.stderr).toMatch(/events: [\d,]+ \(A [\d,]+ · R [\d,]+ · T [\d,]+ · X [\d,]+ · M [\d,]+\)/);
      expect(readFileSync(join(dir, 'events.csv'), 'utf8')).toBe(readFileSync(join(GOLDEN, `${base}.events.csv`), 'utf8'));
      expect(readFileSync(join(dir, 'book.csv'), 'utf8')).toBe(readFileSync(join(GOLDEN, `${base}.book.csv`), 'utf8'));
    });
  }

  it('writes events to stdout with --events -', () => {
    const out = execFileSync(process.execPath, [CLI, 'replay', '--symbols', '3', '--in', join(GOLDEN, 'basic.csv'), '--events', '-', '--quiet'], { encoding: 'utf8' });
    expect(out).toBe(readFileSync(join(GOLDEN, 'basic.events.csv'), 'utf8'));
  });
});
