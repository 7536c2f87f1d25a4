/**
 * A gateway in its own process for allocation tests and probes (test/integration/gateway-gc.test.ts):
 * built in-process (src/app.ts `build`, journal durability none, no storage, no risk limit, no
 * rate limit), listening on loopback. It prints one JSON line `{ url, key, secret }` and then
 * answers IPC messages: `start` starts a v8 GCProfiler on its main thread and the engine thread's
 * GC watch; `stop` stops both and replies `{ main: GcReport, engine: GcReport | null }`;
 * `profile-start` / `profile-stop` (probes) a sampling heap profile of the main thread including
 * objects the young generation collected, replied as the top allocating functions.
 * Run with `node --import tsx test/support/gateway-gc-server.ts`.
 */
import { mkdtempSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GCProfiler, getHeapSpaceStatistics } from 'node:v8';
import { build } from '../../src/app.js';
import { gcReport, newSpaceUsed } from '../../src/engine/worker.js';

const newSpace = (): number => newSpaceUsed(getHeapSpaceStatistics().map((x) => ({ spaceName: x.space_name, spaceUsedSize: x.space_used_size })));

async function main(): Promise<void> {
  const gw = await build({
    dataDir: mkdtempSync(join(tmpdir(), 'gw-gc-')), journal: { durability: 'none' }, storage: 'off', risk: { maxOpenOrders: 0 },
    rateLimit: { perSecond: 10_000_000, burst: 10_000_000 }, logs: { stderr: false }, log: () => {},
  });
  const url = await gw.listen(0);
  const k = gw.keys.create(1, ['trade', 'read']);
  process.stdout.write(JSON.stringify({ url, key: k.key, secret: k.secret }) + '\n');
  let prof: GCProfiler | null = null;
  let used0 = 0;
  const session = new Session();
  session.connect();
  const post = (m: string, p?: object): Promise<unknown> => new Promise((res, rej) => session.post(m, p ?? {}, (e, r) => (e ? rej(e) : res(r))));
  process.on('message', (m: string) => {
    (async () => {
      if (m === 'start') {
        gw.host.startGcWatch();
        prof = new GCProfiler();
        used0 = newSpace();
        prof.start();
        process.send!('started');
      } else if (m === 'stop') {
        const r = prof!.stop() as { statistics: Parameters<typeof gcReport>[0] };
        const main = gcReport(r.statistics, used0, newSpace(), 0);
        const engine = await gw.host.stopGcWatch();
        process.send!({ main, engine });
      } else if (m === 'profile-start') {
        await post('HeapProfiler.enable');
        await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
        process.send!('started');
      } else if (m === 'profile-stop') {
        const { profile } = await post('HeapProfiler.stopSampling') as { profile: { head: Node } };
        interface Node { callFrame: { functionName: string; url: string; lineNumber: number }; selfSize: number; children: Node[] }
        const by = new Map<string, number>();
        const walk = (n: Node, stack: string): void => {
          const f = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/.*\/(src|node_modules)\//, '$1/')}:${n.callFrame.lineNumber + 1}`;
          if (n.selfSize > 0) by.set(`${f} <- ${stack}`, (by.get(`${f} <- ${stack}`) ?? 0) + n.selfSize);
          for (const c of n.children) walk(c, f);
        };
        walk(profile.head, '');
        process.send!([...by].sort((a, b) => b[1] - a[1]).slice(0, 40));
      }
    })().catch(fail);
  });
  // the test's end: close the gateway, then exit whatever close did (a failed close is reported, exit 1)
  process.on('disconnect', () => {
    gw.close().then(() => process.exit(0), fail);
  });
}

/** Reports an error on stderr (the test inherits it) and exits 1: the test sees the child die, never a silent hang. */
function fail(e: unknown): void {
  process.stderr.write(`gateway-gc-server: ${(e as Error)?.stack ?? String(e)}\n`);
  process.exit(1);
}

main().catch(fail);
