/**
 * The strategy example in docs/strategies.md ("Writing a strategy"), extracted from the document
 * as it stands and run through the StrategyRunner on an in-process engine with an injected clock:
 * it enters a band below its EMA of bar closes, exits at the EMA, and its P&L and signals are the
 * ones worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { StrategyDefinition } from '../../src/strategies/api.js';
import { Harness } from '../support/strategy-harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function loadExample(): Promise<StrategyDefinition> {
  const doc = readFileSync(join(ROOT, 'docs/strategies.md'), 'utf8');
  const m = /<!-- example:ema-bands -->\s*```ts\n([\s\S]*?)```/.exec(doc);
  if (!m) throw new Error('docs/strategies.md has no ema-bands example');
  const src = m[1]!.replace("'tradsys/strategies'", JSON.stringify(join(ROOT, 'src/strategies/index.ts')));
  const dir = join(ROOT, 'build/test-tmp');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'ema-bands-example.ts');
  writeFileSync(file, src);
  const mod = (await import(pathToFileURL(file).href)) as { strategies: StrategyDefinition[] };
  return mod.strategies[0]!;
}

describe('docs/strategies.md example (ema-bands)', () => {
  it('enters below the band, exits at the EMA, with the P&L and signals worked out by hand', async () => {
    const def = await loadExample();
    expect(def.kind).toBe('ema-bands');
    const h = new Harness();
    h.t = 1_800_000_000_000;
    h.runner.add({ id: 'ema-1', kind: 'ema-bands', account: 7001, symbols: ['AAA'], params: { band: 5 } }, def);
    h.runner.start('ema-1');
    const bar = (trade: () => void): void => { trade(); h.advance(1000); };
    const cross = (p: number) => (): void => { h.sell(0, p, 1); h.buy(0, p, 1); };
    bar(cross(1000)); bar(cross(1000)); bar(cross(1000)); // EMA 1000
    bar(cross(990)); // EMA 998; 990 < 993: entry buy 1 @ 990
    const entry = h.strategyCmds(7001);
    expect(entry.map((c) => [c.op, c.side, c.price, c.qty, c.cid])).toEqual([[1, 0, 990, 1, 'entry']]);
    bar(() => h.sell(0, 990, 1)); // fills the entry; the bar closes 990: EMA 996.4, no exit
    expect(h.runner.status('ema-1')[0]!.position).toEqual({ AAA: 1 });
    bar(() => h.buy(0, 1000, 1)); // a bid at 1000 rests: no trade, no bar
    bar(cross(1000)); // close 1000 ≥ EMA 997.12: exit sell 1 @ 1000, which trades with the bid left at 1000
    const exit = h.strategyCmds(7001).at(-1)!;
    expect([exit.op, exit.side, exit.price, exit.qty, exit.cid]).toEqual([1, 1, 1000, 1, 'exit']);
    h.advance(1000);
    const st = h.runner.status('ema-1')[0]!;
    expect(st.position).toEqual({ AAA: 0 });
    expect(st.realisedPnl).toBe(10);
    expect(st.fills).toBe(2);
    // the EMA the strategy reports, and one 'ema' signal per bar with a trade
    const closes = h.signals.map((s) => s.price);
    let ema = NaN;
    for (const c of closes) ema = Number.isNaN(ema) ? c : ema + 0.2 * (c - ema);
    expect(st.details.ema).toBeCloseTo(ema, 10);
    expect(closes).toEqual([1000, 1000, 1000, 990, 990, 1000, 1000]);
    expect(h.signals.every((s) => s.strategy === 'ema-1' && s.signal === 'ema')).toBe(true);
  });
});
