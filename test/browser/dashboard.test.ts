/**
 * The dashboard in a real browser (Debian's chromium through playwright-core; test/browser/harness.ts):
 * a gateway with the market simulator, the page at `/`, no console errors, every panel reachable by
 * mouse and keyboard, and a screenshot of each panel in build/screenshots/<panel>.png (1280×800).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, statSync } from 'node:fs';
import { RUN_BROWSER, SKIP_REASON, startDashboard, type DashboardHarness } from './harness.js';

const PANELS = ['market', 'trading', 'strategies', 'operations', 'analysts'] as const;

describe.skipIf(!RUN_BROWSER)(`dashboard in chromium${SKIP_REASON}`, () => {
  let hx: DashboardHarness;
  beforeAll(async () => { hx = await startDashboard({ gateway: { storage: 'auto', storageEnv: {} }, sim: { seed: 7, intervalMs: 20 } }); }, 90_000);
  afterAll(async () => { await hx?.close(); }, 60_000);

  it('loads with no console errors, shows the live book, and screenshots every panel', async () => {
    const { page, assertClean } = await hx.open('/');
    await page.locator('#conn-state[data-state="open"]').waitFor({ timeout: 20_000 });
    await expect(page.locator('#server-version').textContent()).resolves.toMatch(/^v\d+\.\d+\.\d+/);
    await page.locator('#ladder[data-synced="true"]').waitFor({ timeout: 20_000 });
    await page.locator('#ladder tr[data-side="bid"][data-price]').first().waitFor({ timeout: 20_000 });
    const tabs = page.getByRole('tab');
    await expect(tabs.allTextContents()).resolves.toEqual(['Market', 'Trading', 'Strategies', 'Operations', 'Analysts']);
    for (const id of PANELS) {
      await page.locator(`#tab-${id}`).click();
      await expect(page.locator(`#panel-${id}`).isVisible()).resolves.toBe(true);
      await expect(page.locator(`#tab-${id}`).getAttribute('aria-selected')).resolves.toBe('true');
      if (id === 'market') await page.locator('#ladder[data-synced="true"]').waitFor();
      await page.waitForTimeout(300); // one more second of market for the picture
      const file = await hx.screenshot(page, id);
      expect(statSync(file).size).toBeGreaterThan(5_000);
    }
    for (const id of PANELS) expect(existsSync(`build/screenshots/${id}.png`)).toBe(true);
    assertClean();
  });

  it('is keyboard usable: the tabs move with the arrow keys and the hash opens a panel', async () => {
    const { page, assertClean } = await hx.open('/#trading');
    await expect(page.locator('#tab-trading').getAttribute('aria-selected')).resolves.toBe('true');
    await page.locator('#tab-trading').focus();
    await page.keyboard.press('ArrowRight');
    await expect(page.locator('#tab-strategies').getAttribute('aria-selected')).resolves.toBe('true');
    await expect(page.evaluate('document.activeElement.id')).resolves.toBe('tab-strategies');
    await page.keyboard.press('Home');
    await expect(page.locator('#tab-market').getAttribute('aria-selected')).resolves.toBe('true');
    await page.keyboard.press('End');
    await expect(page.locator('#tab-analysts').getAttribute('aria-selected')).resolves.toBe('true');
    // Tab from the tab list reaches the panel, and the key entry is reachable too
    await page.keyboard.press('Tab');
    await expect(page.evaluate('document.activeElement.id')).resolves.toBe('panel-analysts');
    await expect(page.locator('#key-secret').getAttribute('type')).resolves.toBe('password');
    assertClean();
  });
});
