import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERRORS, TradsysError } from '../../src/domain/errors.js';
import { ROOT } from '../../src/abi/gen.js';
import { REASON_NAMES, ENUMS } from '../../src/abi/records.js';

describe('error catalog', () => {
  const doc = readFileSync(join(ROOT, 'docs/errors.md'), 'utf8');
  it('every code is well formed, unique and documented', () => {
    const codes = Object.keys(ERRORS);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) {
      expect(c).toMatch(/^ERR_[A-Z]+_[A-Z_]+$|^ERR_IO$/);
      expect(doc, `${c} missing from docs/errors.md`).toContain(`\`${c}\``);
    }
    const documented = [...doc.matchAll(/`(ERR_[A-Z_]+)`/g)].map((m) => m[1]);
    for (const d of documented) expect(codes, `${d} documented but not in the catalog`).toContain(d);
  });

  it('errors carry their code and HTTP status', () => {
    const e = new TradsysError('ERR_CSV_FORMAT', 'f.csv:3: bad');
    expect(e.code).toBe('ERR_CSV_FORMAT');
    expect(e.status).toBe(400);
    expect(e.message).toBe('f.csv:3: bad');
  });

  it('engine reject reasons have unique codes and are documented in docs/engine.md', () => {
    const engineDoc = readFileSync(join(ROOT, 'docs/engine.md'), 'utf8');
    const codes = Object.values(ENUMS.Reason).filter((c) => c !== 0);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(engineDoc).toContain(`\`${REASON_NAMES[c]}\``);
  });
});
