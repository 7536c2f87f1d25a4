/**
 * The browser-test harness: a real gateway (src/app.ts through test/support/gateway-fixture.ts,
 * loopback, fresh data folder; optionally ClickHouse storage on chDB and the market simulator) and
 * Debian's chromium (`/usr/bin/chromium`, never a downloaded browser) driven by playwright-core,
 * headless with a fresh --user-data-dir at 1280×800. Every page it opens collects console errors,
 * page errors (uncaught exceptions) and failed requests; `assertClean()` fails a test on any.
 * Screenshots go to build/screenshots/<name>.png.
 *
 * Where chromium is missing the browser tests are skipped with the reason in their names, except
 * under CI (CI=true, where .ci/run installs Debian's chromium) or TRADSYS_REQUIRE_CHROMIUM=1: there
 * they fail (as test/integration/prometheus.test.ts does for Prometheus).
 *
 * Known limitations: one browser per harness (tests share it; each opens its own page).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { startGateway, type FixtureConfig, type GatewayFixture } from '../support/gateway-fixture.js';
import { Simulator, type SimOptions } from '../../src/sim/simulator.js';

export const CHROMIUM = process.env.TRADSYS_CHROMIUM ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
/** Where chromium must be there (CI), a missing one fails the tests instead of skipping them. */
export const CHROMIUM_REQUIRED = process.env.CI === 'true' || process.env.TRADSYS_REQUIRE_CHROMIUM === '1';
/** Run the browser tests (else skip them, saying why in the name). */
export const RUN_BROWSER = HAVE_CHROMIUM || CHROMIUM_REQUIRED;
export const SKIP_REASON = HAVE_CHROMIUM ? '' : ` (SKIPPED: ${CHROMIUM} not found; apt-get install chromium)`;

export const VIEWPORT = { width: 1280, height: 800 };
export const SCREENSHOTS = fileURLToPath(new URL('../../build/screenshots/', import.meta.url));

/** The flags the brief names: no network beyond the gateway, no background services, no GPU. */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--disable-extensions', '--mute-audio',
  '--disable-default-apps', '--no-default-browser-check', '--metrics-recording-only', '--disable-features=Translate,MediaRouter,OptimizationHints',
];

export interface WatchedPage {
  page: Page;
  /** Console errors, page errors and failed requests seen so far. */
  problems: string[];
  /**
   * Throws (failing the test) when any console error, page error or failed request was seen,
   * except lines matching `expected` (an HTTP error the test provoked on purpose, and chromium's
   * console line for it).
   */
  assertClean(expected?: readonly RegExp[]): void;
}

export interface DashboardHarness {
  gw: GatewayFixture;
  sim: Simulator | null;
  context: BrowserContext;
  /** Opens a page (watched from its first request), optionally at `path` (default `/`). */
  open(path?: string, before?: (page: Page) => Promise<void>): Promise<WatchedPage>;
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  gateway?: FixtureConfig;
  /** Start the market simulator (default on; seed 7). */
  sim?: SimOptions | false;
}

/** Starts the gateway (and the simulator), then chromium. The caller closes it. */
export async function startDashboard(opts: HarnessOptions = {}): Promise<DashboardHarness> {
  if (!HAVE_CHROMIUM) throw new Error(`chromium is not installed at ${CHROMIUM} (apt-get install chromium); the browser tests need it`);
  const { chromium } = await import('playwright-core');
  const gw = await startGateway({ tmpPrefix: 'dash-browser-', journal: { durability: 'none' }, ...opts.gateway });
  let sim: Simulator | null = null;
  const profile = mkdtempSync(join(tmpdir(), 'dash-chromium-'));
  let context: BrowserContext;
  try {
    if (opts.sim !== false) {
      sim = new Simulator(gw.gw, { seed: 7, ...opts.sim });
      sim.start();
    }
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, // playwright adds --user-data-dir=<profile>, a fresh folder
      viewport: VIEWPORT, deviceScaleFactor: 1, timeout: 30_000, acceptDownloads: true, offline: false, locale: 'en-US', timezoneId: 'UTC',
    });
  } catch (e) {
    sim?.stop();
    await gw.close();
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    gw, sim, context,
    async open(path = '/', before) {
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()}`); });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      page.on('requestfailed', (r) => { if (!/net::ERR_ABORTED/.test(r.failure()?.errorText ?? '')) problems.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`); });
      page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`); });
      if (before) await before(page);
      await page.goto(gw.base + path, { waitUntil: 'load' });
      return {
        page, problems,
        assertClean(expected = []) {
          const left = problems.filter((p) => !expected.some((re) => re.test(p)));
          if (left.length) throw new Error(`the page reported problems:\n${left.join('\n')}`);
        },
      };
    },
    async screenshot(page, name) {
      const file = join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: false });
      return file;
    },
    async close() {
      sim?.stop();
      await context.close().catch(() => { /* already gone */ });
      await gw.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
