/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, e.g. through FANOUT_NODE_ARGS / GATEWAY_NODE_ARGS):
 * per profile (one per thread), the functions with the most self time, as % of the profile's
 * samples, with file:line; `(idle)`, `(garbage collector)` and `(program)` are V8's own buckets.
 *   node --import tsx bench/pipeline/cpu-top.ts DIR_OR_FILES... [--top 15]
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; startTime: number; endTime: number }

const args = process.argv.slice(2);
const ti = args.indexOf('--top');
const top = ti >= 0 ? Number(args[ti + 1]) : 15;
const paths = args.filter((a, i) => a !== '--top' && (ti < 0 || i !== ti + 1));
const files = paths.flatMap((p) => (statSync(p).isDirectory() ? readdirSync(p).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(p, f)) : [p]));
for (const f of files) {
  const prof = JSON.parse(readFileSync(f, 'utf8')) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  for (const s of prof.samples) {
    const n = byId.get(s)!;
    const cf = n.callFrame;
    const key = `${cf.functionName || '(anonymous)'} ${cf.url ? `${cf.url.replace(/^.*\/(src|node_modules|bench|test)\//, '$1/').replace(/^node:/, 'node:')}:${cf.lineNumber + 1}` : ''}`.trim();
    self.set(key, (self.get(key) ?? 0) + 1);
  }
  const total = prof.samples.length;
  const secs = (prof.endTime - prof.startTime) / 1e6;
  process.stdout.write(`${f}: ${total} samples over ${secs.toFixed(1)} s\n`);
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}\n`);
}
