/**
 * `tradsys demo` (the run command until the server exists): generates a seeded market, replays
 * it through the WASM engine in batches and prints what happened — orders, trades, the top of
 * every book, throughput, memory.
 *
 * Allocation: the generated stream (count × 32 B) plus one outbox view. Known limitations:
 * single thread; the gateway (issue 4) replaces this with `tradsys serve`.
 */
import { CMD_SIZE, EVT_SIZE } from '../abi/records.js';
import { evtIdBig, evtMakerBig, evtPriceBig, evtQty, evtSymbol, evtType } from '../abi/views.js';
import { Engine } from '../engine/engine.js';
import { simdSupported, wasmPath } from '../engine/index.js';
import { generate, type Mix } from '../workload/generator.js';
import { statSync } from 'node:fs';
import { probeSummary, runProbes } from '../sys/probes.js';

export interface DemoOptions { symbols: number; count: number; seed: number; mix: Mix; out: (line: string) => void }

export async function runDemo(o: DemoOptions): Promise<void> {
  const probes = runProbes(); // beside the start: the WASM module loads meanwhile
  const f = (n: number): string => n.toLocaleString('en-US');
  const out = o.out;
  const wasm = wasmPath('release');
  out(`TradSys demo — WebAssembly matching engine (${wasm}, ${f(statSync(wasm).size)} bytes)`);
  out(`accelerations: WASM SIMD128 ${simdSupported() ? 'available' : 'NOT available'} · ${probeSummary(await probes)} (\`tradsys doctor\` for details)`);
  out(`market: ${f(o.count)} commands, ${o.symbols} symbols, mix "${o.mix}", seed ${o.seed}`);
  const t0 = Date.now();
  const recs = generate({ count: o.count, symbols: o.symbols, seed: o.seed, mix: o.mix, badRate: 0.001 });
  out(`generated in ${((Date.now() - t0) / 1000).toFixed(2)} s`);

  // pool sized for the mix's standing depth (deep-book: every order may rest)
  const capacity = o.mix === 'deep-book' ? Math.max(1024, o.count) : Math.max(1024, Math.min(o.count, 1 << 18));
  const engine = new Engine({ symbols: o.symbols, capacity, inboxCapacity: 4096 });
  const counts = new Float64Array(256);
  let qtyTraded = 0;
  let lastTrade = '';
  const sink = (v: DataView, _b: Uint8Array, k: number): void => {
    for (let i = 0; i < k; i++) {
      const t = evtType(v, i * EVT_SIZE);
      counts[t]!++;
      if (t === 84) qtyTraded += evtQty(v, i * EVT_SIZE);
    }
    if (k > 0) {
      for (let i = k - 1; i >= 0; i--) {
        if (evtType(v, i * EVT_SIZE) === 84) {
          const p = i * EVT_SIZE;
          lastTrade = `symbol ${evtSymbol(v, p)}: ${evtQty(v, p)} lots @ ${evtPriceBig(v, p)} (taker ${evtIdBig(v, p)}, maker ${evtMakerBig(v, p)})`;
          break;
        }
      }
    }
  };
  const batch = 4096;
  const start = process.hrtime.bigint();
  let lastReport = Date.now();
  for (let done = 0; done < o.count; done += batch) {
    const n = Math.min(batch, o.count - done);
    engine.submitRaw(recs, done * CMD_SIZE, n, sink);
    if (Date.now() - lastReport >= 1000) {
      lastReport = Date.now();
      out(`  ${((100 * (done + n)) / o.count).toFixed(0)}% · ${f(done + n)} commands · last trade ${lastTrade}`);
    }
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  out(`replayed ${f(o.count)} commands in ${secs.toFixed(3)} s: ${(o.count / secs / 1e6).toFixed(2)} M commands/s (batches of ${batch}, one WASM call each)`);
  out(`events: accepted ${f(counts[65]!)} · rejected ${f(counts[82]!)} · trades ${f(counts[84]!)} (${f(qtyTraded)} lots) · cancelled ${f(counts[88]!)} · modified ${f(counts[77]!)}`);
  out(`last trade: ${lastTrade || 'none'}`);
  out('top of book (best 3 levels, price × qty [orders]):');
  for (let s = 0; s < Math.min(o.symbols, 16); s++) {
    const fmt = (side: number): string => engine.depth(s, side, 3).map((l) => `${l.price}×${l.qty}[${l.count}]`).join(' ') || '—';
    out(`  ${String(s).padStart(3)}  bids ${fmt(0).padEnd(44)} asks ${fmt(1)}`);
  }
  const m = engine.memoryStats();
  out(`memory: ${f(m.orders.inUse)} resting orders (high-water ${f(m.orders.highWater)}, free list ${f(m.orders.freeList)}, capacity ${f(m.orders.capacity)}), ${f(m.levels.inUse)} price levels, WASM memory ${(m.wasmBytes / 2 ** 20).toFixed(1)} MiB`);
  out(`state hash 0x${engine.stateHash().toString(16).padStart(16, '0')}`);
  engine.validate();
  out('invariants: ok');
}
