/**
 * The demo as `npm start` runs it (issue 16: "a newcomer sees them trade"): a real `tradsys serve`
 * with the default flags but `--no-storage` (the simulator's cointegrated market and the demo
 * strategies of src/strategies/demo.ts), watched through GET /api/v1/strategies with an admin key
 * until both demo strategies have placed orders and had fills. Bounded: the strategies are given 120 s
 * (the pairs strategy first screens after a 50 s window, then waits for |z| > entryZ); no timing
 * assertions. Needs the built CLI (`npm run build`).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyStore } from '../../src/gateway/auth.js';
import { signed, sleep } from '../support/gateway-client.js';
import { startServe, type ServeProcess } from '../support/serve-process.js';

interface View { id: string; kind: string; state: string; orders: number; fills: number; position: Record<string, number>; realisedPnl: number; unrealisedPnl: number; details: Record<string, unknown> }

let srv: ServeProcess | null = null;
afterAll(async () => {
  srv?.child.kill('SIGTERM');
  await srv?.exited;
}, 30_000);

describe('the served demo', () => {
  it('both demo strategies place orders and get fills on the simulated market', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'demo-'));
    srv = await startServe(dir, ['--no-storage']);
    expect(srv.output()).toMatch(/demo-pairs \(pairs on AAPL\/MSFT/);
    expect(srv.output()).toMatch(/demo-mm \(market-maker on SOL-USD/);
    const admin = new KeyStore(dir).create(1, ['admin', 'read']);
    const deadline = Date.now() + 120_000;
    let views: View[] = [];
    const trading = (v: View | undefined): boolean => v !== undefined && v.orders > 0 && v.fills > 0;
    while (Date.now() < deadline) {
      const r = await signed(srv.url, admin, 'GET', '/api/v1/strategies');
      // the server applies the keys file within a second: until then 401
      if (r.status === 200) {
        views = (r.json as { strategies: View[] }).strategies;
        if (['demo-pairs', 'demo-mm'].every((id) => trading(views.find((v) => v.id === id)))) break;
      }
      await sleep(2_000);
    }
    const show = JSON.stringify(views.map((v) => ({ id: v.id, state: v.state, orders: v.orders, fills: v.fills, position: v.position, pnl: v.realisedPnl + v.unrealisedPnl, details: v.details })));
    for (const id of ['demo-pairs', 'demo-mm']) {
      const v = views.find((x) => x.id === id);
      expect(v?.state, show).toBe('running');
      expect(v!.orders, `${id}: ${show}`).toBeGreaterThan(0);
      expect(v!.fills, `${id}: ${show}`).toBeGreaterThan(0);
    }
    // the pairs strategy traded because its screening selected the pair (Engle–Granger + FDR)
    const pair = (views.find((x) => x.id === 'demo-pairs')!.details as { screeningRounds: number; pairs: { sagas: number }[] });
    expect(pair.screeningRounds, show).toBeGreaterThan(0);
    expect(pair.pairs[0]!.sagas, show).toBeGreaterThan(0);
  }, 180_000);
});
