/**
 * The dependency rule (STYLE §1, docs/architecture.md "The dependency rule") over src/: runs
 * dependency-cruiser with .dependency-cruiser.cjs and fails on any violation, listing each one
 * (rule, from → to) so the message says which import to move. Also walks the import graph: one
 * binary order frame goes down from src/gateway/ws/binary.ts to the engine host, never back up.
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

    // the walk of one binary order frame goes down the layers (docs/architecture.md): ws/binary.ts
    // → the codec and the order entry service → the engine host, never back up to the facade
    const deps = new Map(out.modules.map((m) => [m.source, m.dependencies.map((d) => d.resolved)]));
    const reach = (from: string): Set<string> => {
      const seen = new Set<string>();
      const todo = [from];
      while (todo.length > 0) for (const d of deps.get(todo.pop()!) ?? []) if (!seen.has(d)) { seen.add(d); todo.push(d); }
      return seen;
    };
    const down = reach('src/gateway/ws/binary.ts');
    expect(deps.get('src/gateway/ws/binary.ts')).toContain('src/codec/binary-protocol.ts');
    expect(down.has('src/gateway/order-entry.ts')).toBe(true);
    expect(deps.get('src/gateway/order-entry.ts')).toContain('src/engine/host.ts');
    for (const up of ['src/gateway/gateway.ts', 'src/gateway/compose.ts', 'src/app.ts', 'src/main.ts']) expect(down.has(up), `ws/binary.ts reaches ${up}`).toBe(false);
    // and no gateway service reaches a plugin or a WebSocket handler
    for (const m of out.modules.filter((x) => /^src\/gateway\/[^/]+\.ts$/.test(x.source) && !/(gateway|compose)\.ts$/.test(x.source))) {
      expect([...reach(m.source)].filter((d) => /^src\/gateway\/(http|ws)\//.test(d)), m.source).toEqual([]);
    }
  });
});
