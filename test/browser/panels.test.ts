/**
 * The Strategies, Operations and Analysts panels in a real browser (Debian's chromium through
 * playwright-core; test/browser/harness.ts): one gateway with ClickHouse storage (chDB), the
 * market simulator, the demo strategies (src/strategies/demo.ts: demo-pairs, demo-mm) on one
 * worker and an always-firing alert rule; keys entered in the page as a user would.
 *
 * - Strategies: the cards are the API's strategies; Stop and Start from the page change the
 *   strategy's state as the API reports it; the P&L chart draws; the live channel reports the
 *   change; a read key (no admin) sees its own account's strategy and a clear "admin" refusal that
 *   changes nothing.
 * - Operations: the latency table lists exactly the stages the API returns, in its order, with
 *   counts between two API reads; the histogram's counts add up to the stage's count; resources
 *   tiles; the firing alert is listed.
 * - Analysts: a query's table equals the API's rows, an invalid query shows the server's code and
 *   message, a sandbox refusal too, and the CSV download is checked byte for byte.
 * Screenshots: build/screenshots/strategies.png, operations.png, analysts.png (1280×800).
 * Expected HTTP refusals (the 4xx answers the tests provoke) are taken out of the page's problems
 * by exact pattern; anything else fails the test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import type { Page } from 'playwright-core';
import type { ApiKey } from '../../src/gateway/auth.js';
import { DEMO_STRATEGIES } from '../../src/strategies/demo.js';
import { signed } from '../support/gateway-client.js';
import { RUN_BROWSER, SKIP_REASON, startDashboard, type DashboardHarness, type WatchedPage } from './harness.js';

type Json = Record<string, unknown>;
interface Status { id: string; state: string; account: number; breaker: { state: string } }

/** Takes the problems matching `expected` out (each pattern must match at least one), so assertClean sees only the unexpected. */
function allow(w: WatchedPage, expected: RegExp[]): void {
  for (const re of expected) {
    const before = w.problems.length;
    for (let i = w.problems.length - 1; i >= 0; i--) if (re.test(w.problems[i]!)) w.problems.splice(i, 1);
    expect(w.problems.length, `expected a problem matching ${re}`).toBeLessThan(before);
  }
}

async function enterKey(page: Page, k: ApiKey): Promise<void> {
  await page.locator('#key-id').fill(k.key);
  await page.locator('#key-secret').fill(k.secret);
  await page.locator('#key-use').click();
  await page.locator(`#key-state[data-account="${k.account}"]`).waitFor({ timeout: 15_000 });
}

describe.skipIf(!RUN_BROWSER)(`dashboard panels: strategies, operations, analysts, in chromium${SKIP_REASON}`, () => {
  let hx: DashboardHarness;
  let admin: ApiKey;
  const api = async (k: ApiKey, method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> => {
    const r = await signed(hx.gw.base, k, method, path, body);
    return { status: r.status, json: r.json as Json };
  };
  const strategy = async (id: string): Promise<Status> => (await api(admin, 'GET', `/api/v1/strategies/${id}`)).json as unknown as Status;

  beforeAll(async () => {
    hx = await startDashboard({
      gateway: {
        storage: 'auto', storageEnv: {},
        strategies: { workers: 1, configs: DEMO_STRATEGIES.map((c) => structuredClone(c)) },
        monitoring: { alerts: { rules: [{ name: 'dashboard_test_rss', kind: 'metric', metric: 'tradsys_rss_bytes', op: '>', threshold: 0, forMs: 0, severity: 'info', description: 'always firing (the dashboard test)' }], webhooks: [] } },
      },
      sim: { seed: 7, intervalMs: 20 },
    });
    admin = hx.gw.key(1, ['admin', 'read', 'analyst', 'trade']);
  }, 120_000);
  afterAll(async () => { await hx?.close(); }, 60_000);

  it('Strategies: the API\'s strategies, a live P&L curve, stop and start from the page (state checked through the API)', async () => {
    const w = await hx.open('/#strategies');
    const { page } = w;
    await page.locator('#strategies-note[data-reason="no_key"]').waitFor();
    const listed = (await api(admin, 'GET', '/api/v1/strategies')).json as { strategies: Status[] };
    const ids = listed.strategies.map((s) => s.id).sort();
    expect(ids).toEqual(['demo-mm', 'demo-pairs']);
    // without a key: the public figures of /metrics, the same strategies in the API's states
    for (const id of ids) {
      const c = page.locator(`.strategy[data-source="metrics"][data-strategy-id="${id}"]`);
      await c.waitFor({ timeout: 15_000 });
      await expect.poll(async () => (await c.getAttribute('data-state')) === (await strategy(id)).state, { timeout: 10_000 }).toBe(true);
    }
    await enterKey(page, admin);
    for (const id of ids) await page.locator(`.strategy[data-source="api"][data-strategy-id="${id}"][data-state]`).waitFor({ timeout: 15_000 });
    expect((await page.locator('.strategy').evaluateAll((els) => els.map((e) => e.getAttribute('data-strategy-id')))).sort()).toEqual(ids);
    const card = page.locator('.strategy[data-strategy-id="demo-mm"]');
    await expect.poll(async () => (await strategy('demo-mm')).state, { timeout: 20_000 }).toBe('running');
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 10_000 }).toBe('running');
    // the P&L curve: a uPlot canvas with one point per refresh
    await expect.poll(async () => Number(await card.locator('.chart.pnl').getAttribute('data-points')), { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
    expect(await card.locator('.chart.pnl canvas').count()).toBeGreaterThan(0);
    await page.locator('#strategies-live[data-state="live"]').waitFor({ timeout: 10_000 });

    // stop from the page → the API says stopped; the channel reports it
    await card.locator('button[data-action="stop"]').click();
    await expect.poll(async () => (await strategy('demo-mm')).state, { timeout: 10_000 }).toBe('stopped');
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 10_000 }).toBe('stopped');
    await page.locator('#strategy-events li[data-type="strategyState"][data-strategy-id="demo-mm"]').first().waitFor({ timeout: 10_000 });
    expect(await card.locator('button[data-action="start"]').isEnabled()).toBe(true);
    // start from the page (by keyboard) → running again
    await card.locator('button[data-action="start"]').focus();
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await strategy('demo-mm')).state, { timeout: 10_000 }).toBe('running');
    await expect.poll(() => card.getAttribute('data-state'), { timeout: 10_000 }).toBe('running');
    expect(await card.locator('button[data-action="reset"]').isDisabled()).toBe(true); // breaker closed
    await page.waitForTimeout(1500); // a few more P&L points for the picture
    expect(statSync(await hx.screenshot(page, 'strategies')).size).toBeGreaterThan(5_000);
    w.assertClean();
  });

  it('Strategies with a read key: its own account\'s strategy only, and Stop refused with a clear admin message', async () => {
    const reader = hx.gw.key(900_002, ['read']); // demo-mm's account, no admin
    const w = await hx.open('/#strategies');
    const { page } = w;
    await enterKey(page, reader);
    const card = page.locator('.strategy[data-strategy-id="demo-mm"]');
    await card.waitFor({ timeout: 15_000 });
    expect(await page.locator('.strategy').count()).toBe(1);
    await page.locator('#strategies-live[data-state="forbidden"]').waitFor({ timeout: 10_000 });
    const before = (await strategy('demo-mm')).state;
    await card.locator('button[data-action="stop"]').click();
    const result = card.locator('.strategy-result[data-error="forbidden"]');
    await result.waitFor({ timeout: 10_000 });
    expect(await result.textContent()).toMatch(/admin permission/);
    expect((await strategy('demo-mm')).state).toBe(before);
    allow(w, [/HTTP 403: POST .*\/api\/v1\/strategies\/demo-mm\/stop/, /console error: Failed to load resource: .*403/]);
    w.assertClean();
  });

  it('Operations: the stages the API returns, histogram counts, resources and the firing alert', async () => {
    const w = await hx.open('/#operations');
    const { page } = w;
    await enterKey(page, admin);
    const first = (await (await fetch(`${hx.gw.base}/api/v1/latency`)).json()) as { stages: Record<string, { start: { count: number } }> };
    await page.locator('#latency tr[data-stage]').first().waitFor({ timeout: 15_000 });
    await page.locator('#latency-window').selectOption('start');
    await page.locator('#latency[data-window="start"]').waitFor();
    await page.waitForResponse((r) => r.url().endsWith('/api/v1/latency'), { timeout: 10_000 }); // a refresh after `first`
    await page.waitForTimeout(200); // its render (next animation frame)
    const shown = await page.locator('#latency tr[data-stage]').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-stage')!, Number(r.getAttribute('data-count'))] as const));
    const second = (await (await fetch(`${hx.gw.base}/api/v1/latency`)).json()) as typeof first;
    expect(shown.map(([s]) => s)).toEqual(Object.keys(second.stages));
    for (const [stage, count] of shown) {
      expect(count).toBeGreaterThanOrEqual(first.stages[stage]!.start.count);
      expect(count).toBeLessThanOrEqual(second.stages[stage]!.start.count);
    }
    expect(shown.find(([s]) => s === 'md_publish_to_send')![1]).toBeGreaterThan(0); // the simulator's market data
    // histogram of the market-data stage: the bars' counts add up to the stage's count
    await page.locator('#histogram-stage').selectOption('md_publish_to_send');
    await page.locator('#latency-histogram[data-stage="md_publish_to_send"] canvas').waitFor({ timeout: 10_000 });
    const box = page.locator('#latency-histogram');
    const [countsText, countText] = await box.evaluate((el) => [el.getAttribute('data-counts'), el.getAttribute('data-count')]); // one render's pair
    const counts: number[] = countsText!.split(',').map(Number);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(Number(countText));
    const hist = (await (await fetch(`${hx.gw.base}/api/v1/latency/histogram`)).json()) as { boundsUs: number[] };
    expect(counts.length).toBe(hist.boundsUs.length + 1);
    // resources (memory, event loop, rings, storage writer)
    for (const f of ['rss', 'heap', 'engine-heap', 'loop-main', 'loop-engine', 'ring-command', 'ring-event', 'writer-lag']) {
      await page.locator(`#resources [data-figure="${f}"] .tile-value`).waitFor({ timeout: 10_000 });
    }
    expect(await page.locator('#resources [data-figure="rss"] .tile-value').textContent()).toMatch(/^\d+\.\d MiB$/);
    expect(await page.locator('#resources [data-figure="writer-lag"] .tile-value').textContent()).toMatch(/^\d+\.\d s$/);
    // the firing alert, as GET /api/v1/alerts has it
    await page.locator('#alerts tr[data-rule="dashboard_test_rss"][data-state="firing"]').waitFor({ timeout: 15_000 });
    const alerts = (await api(admin, 'GET', '/api/v1/alerts')).json as { active: { rule: string; state: string }[] };
    expect(alerts.active.find((a) => a.rule === 'dashboard_test_rss')?.state).toBe('firing');
    await page.locator('#alerts-note[data-state="live"]').waitFor({ timeout: 10_000 });
    await expect.poll(async () => page.locator('#memory-chart canvas').count(), { timeout: 10_000 }).toBeGreaterThan(0);
    await page.waitForTimeout(1500);
    expect(statSync(await hx.screenshot(page, 'operations')).size).toBeGreaterThan(5_000);
    w.assertClean();
  });

  it('Analysts: the table equals the API\'s rows, errors are the server\'s, the CSV download is exact', async () => {
    const w = await hx.open('/#analysts');
    const { page } = w;
    await enterKey(page, admin);
    // real data: trades per symbol up to a fixed time, once the store holds them
    await expect.poll(async () => {
      const r = await api(admin, 'POST', '/api/v1/sql', { sql: 'SELECT count() AS n FROM trades' });
      return Number(((r.json.rows as Json[])[0] ?? {}).n ?? 0);
    }, { timeout: 30_000 }).toBeGreaterThan(0);
    // the market and the strategies stop (this is the file's last test), so the store stops
    // changing once the storage writer has caught up: then the page's table must equal the API's rows exactly
    hx.sim?.stop();
    for (const id of ['demo-mm', 'demo-pairs']) expect((await api(admin, 'POST', `/api/v1/strategies/${id}/stop`)).status).toBe(200);
    // the storage writer has written everything the engine published (GET /api/v1/resources)
    await expect.poll(async () => {
      const r = (await (await fetch(`${hx.gw.base}/api/v1/resources`)).json()) as { storageWriter: { lagSeq: number; queueRows: number } | null };
      return r.storageWriter !== null && r.storageWriter.lagSeq === 0 && r.storageWriter.queueRows === 0;
    }, { timeout: 80_000, interval: 500 }).toBe(true);
    const sql = 'SELECT symbol, count() AS trades, sum(qty) AS volume, max(ts) AS last_ts FROM trades GROUP BY symbol ORDER BY symbol';
    type Answer = { meta: { name: string }[]; rows: Json[] };
    const cells = (a: Answer): string[][] => a.rows.map((r) => a.meta.map((m) => String(r[m.name])));
    let previous = '';
    await expect.poll(async () => {
      const now = JSON.stringify(cells((await api(admin, 'POST', '/api/v1/sql', { sql: `${sql} ` })).json as Answer));
      const same = now === previous;
      previous = now;
      return same;
    }, { timeout: 30_000, interval: 1000 }).toBe(true);
    await page.locator('#sql-text').fill(sql);
    await page.locator('#sql-text').press('Control+Enter');
    await page.locator('#sql-status[data-rows]').waitFor({ timeout: 20_000 });
    const table = await page.locator('#sql-result').evaluate((t) => ({
      head: [...t.querySelectorAll('thead th')].map((x) => x.textContent),
      rows: [...t.querySelectorAll('tbody tr')].map((r) => [...r.querySelectorAll('td')].map((x) => x.textContent)),
    }));
    const ref = (await api(admin, 'POST', '/api/v1/sql', { sql })).json as Answer;
    expect(ref.rows.length).toBeGreaterThan(0);
    expect(table.head).toEqual(ref.meta.map((m) => m.name));
    expect(table.rows).toEqual(cells(ref));
    expect(statSync(await hx.screenshot(page, 'analysts')).size).toBeGreaterThan(5_000);

    // CSV: quoting of commas, quotes and a leading space; NULL as an empty field
    const q = 'SELECT number AS n, toString(number * 7) AS s, if(number % 2 = 0, NULL, number) AS odd, \'a,b "c"\' AS tricky, \' pad\' AS pad FROM system.numbers LIMIT 3';
    await page.locator('#sql-text').fill(q);
    await page.locator('#sql-run').click();
    await page.locator('#sql-status[data-rows="3"]').waitFor({ timeout: 20_000 });
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#sql-csv').click()]);
    expect(download.suggestedFilename()).toMatch(/^tradsys-query-.*\.csv$/);
    const csv = readFileSync((await download.path())!, 'utf8');
    expect(csv).toBe('n,s,odd,tricky,pad\r\n0,0,,"a,b ""c"""," pad"\r\n1,7,1,"a,b ""c"""," pad"\r\n2,14,,"a,b ""c"""," pad"\r\n');

    // an invalid query: the server's code and message, the table cleared
    const bad = 'SELECT no_such_column FROM trades';
    const refBad = await api(admin, 'POST', '/api/v1/sql', { sql: bad });
    expect(refBad.status).toBe(400);
    await page.locator('#sql-text').fill(bad);
    await page.locator('#sql-run').click();
    const err = page.locator(`#sql-error[data-error="${String(refBad.json.error)}"]`);
    await err.waitFor({ timeout: 20_000 });
    expect(await err.locator('.error-message').textContent()).toBe(`${String(refBad.json.message)} (HTTP 400)`);
    expect(await page.locator('#sql-result tbody tr').count()).toBe(0);
    expect(await page.locator('#sql-csv').isDisabled()).toBe(true);
    // the sandbox's refusal
    await page.locator('#sql-text').fill("SELECT * FROM file('/etc/passwd')");
    await page.locator('#sql-run').click();
    await page.locator('#sql-error[data-error="ERR_STORAGE_SANDBOX"]').waitFor({ timeout: 20_000 });
    allow(w, [/HTTP 400: POST .*\/api\/v1\/sql/, /HTTP 403: POST .*\/api\/v1\/sql/, /console error: Failed to load resource: .*(400|403)/]);
    w.assertClean();
  });
});
