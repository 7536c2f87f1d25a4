/**
 * The dependency rule (STYLE §1, docs/architecture.md "The dependency rule") over src/: runs
 * dependency-cruiser with .dependency-cruiser.cjs and fails on any violation, listing each one
 * (rule, from → to) so the message says which import to move.
 */
import { describe, expect, it } from 'vitest';
import { cruise, type ICruiseResult, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { join } from 'node:path';
import { ROOT } from '../../src/abi/gen.js';

describe('architecture', () => {
  it('src/ keeps the dependency rule of .dependency-cruiser.cjs', async () => {
    process.chdir(ROOT); // (vitest runs from the root already; the rules' paths are relative to it)
    const options = await extractDepcruiseOptions(join(ROOT, '.dependency-cruiser.cjs'));
    const tsConfig = extractTSConfig(join(ROOT, 'tsconfig.json'));
    const result = await cruise(['src'], { ...options, validate: true }, undefined, { tsConfig });
    const out = result.output as ICruiseResult;
    const violations = out.summary.violations.filter((v: IViolation) => v.rule.severity === 'error')
      .map((v: IViolation) => `${v.rule.name}: ${v.from} → ${v.to}${v.cycle ? ` (cycle ${v.cycle.map((c) => c.name).join(' → ')})` : ''}`);
    expect(violations).toEqual([]);
    // the cruise did see the tree (a config that matched nothing would pass vacuously)
    expect(out.summary.totalCruised).toBeGreaterThan(50);
    expect(out.modules.some((m) => m.source === 'src/engine/wasm.ts')).toBe(true);
  });
});
