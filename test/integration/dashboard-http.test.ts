/**
 * The dashboard plugin over HTTP (no browser): `/`, `/index.html` and `/dashboard` answer the built
 * page with a strict Content-Security-Policy and no-cache; the hashed assets answer with their
 * content types and `immutable`; unknown assets and unknown /api paths keep fastify's 404 JSON;
 * the page names only assets the plugin serves (no CDN, no inline script); and a gateway whose
 * bundle is missing answers 503 ERR_DASHBOARD_NOT_BUILT (JSON) while the API keeps working.
 * Needs `npm run build:dashboard` (part of `npm run build`, which `npm test` runs first).
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useGateway } from '../support/gateway-fixture.js';
import { dashboardDir } from '../../src/gateway/http/dashboard.js';

const DIR = fileURLToPath(new URL('../../build/dashboard/', import.meta.url));
let base = '';
useGateway({ tmpPrefix: 'dash-http-', storage: 'off', journal: { durability: 'none' } }, (f) => { base = f.base; });

describe('dashboard plugin', () => {
  it('finds build/dashboard of this package', () => {
    expect(join(dashboardDir(), '/')).toBe(DIR);
    expect(existsSync(join(DIR, 'manifest.json')), 'run npm run build:dashboard first').toBe(true);
  });

  it('serves the page at /, /index.html and /dashboard with a strict CSP, and its assets immutable', async () => {
    const manifest = JSON.parse(readFileSync(join(DIR, 'manifest.json'), 'utf8')) as { entry: { js: string; css: string }; assets: string[]; version: string };
    for (const path of ['/', '/index.html', '/dashboard', '/dashboard/']) {
      const r = await fetch(base + path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(r.headers.get('cache-control')).toBe('no-cache');
      const csp = r.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
      expect(csp).toMatch(/connect-src 'self' ws:\/\/127\.0\.0\.1:\d+ wss:\/\/127\.0\.0\.1:\d+/);
      expect(csp).toContain("frame-ancestors 'none'");
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      const html = await r.text();
      expect(html).toContain(`<meta name="tradsys-version" content="${manifest.version}">`);
      // no inline script, nothing from another origin
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
      const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(refs).toEqual(expect.arrayContaining([`/dashboard/assets/${manifest.entry.js}`, `/dashboard/assets/${manifest.entry.css}`]));
      for (const ref of refs) expect((await fetch(base + ref)).status, ref).toBe(200);
    }
    const types: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', map: 'application/json; charset=utf-8', svg: 'image/svg+xml' };
    for (const name of manifest.assets) {
      const r = await fetch(`${base}/dashboard/assets/${name}`);
      expect(r.status, name).toBe(200);
      const ext = name.slice(name.lastIndexOf('.') + 1);
      if (types[ext]) expect(r.headers.get('content-type'), name).toBe(types[ext]);
      expect(r.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(Buffer.from(await r.arrayBuffer()).equals(readFileSync(join(DIR, 'assets', name))), name).toBe(true);
    }
    // the bundle's source map covers the dashboard's own sources
    const map = JSON.parse(readFileSync(join(DIR, 'assets', `${manifest.entry.js}.map`), 'utf8')) as { sources: string[] };
    expect(map.sources.some((s) => s.endsWith('src/dashboard/main.ts'))).toBe(true);
    expect(map.sources.some((s) => s.endsWith('src/client/core/local-book.ts'))).toBe(true);
  });

  it('keeps 404 JSON for unknown assets, paths outside the manifest and unknown /api paths', async () => {
    for (const path of ['/dashboard/assets/nope.js', '/dashboard/assets/..%2Fmanifest.json', '/dashboard/assets/%2e%2e%2Findex.html', '/api/v1/nope', '/dashboard/other']) {
      const r = await fetch(base + path);
      expect(r.status, path).toBe(404);
      expect(r.headers.get('content-type'), path).toMatch(/^application\/json/);
      expect(((await r.json()) as { statusCode: number }).statusCode).toBe(404);
    }
    expect((await fetch(`${base}/api/v1/symbols`)).status).toBe(200);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });
});

describe('dashboard plugin without a built bundle', () => {
  it('answers 503 ERR_DASHBOARD_NOT_BUILT (JSON) and the API still works', async () => {
    const { startGateway } = await import('../support/gateway-fixture.js');
    const empty = mkdtempSync(join(tmpdir(), 'dash-empty-'));
    const g = await startGateway({ tmpPrefix: 'dash-none-', storage: 'off', journal: { durability: 'none' }, dashboardDir: empty });
    try {
      for (const path of ['/', '/index.html', '/dashboard', '/dashboard/assets/app.js']) {
        const r = await fetch(g.base + path);
        expect(r.status, path).toBe(503);
        const body = (await r.json()) as { error: string; message: string };
        expect(body.error).toBe('ERR_DASHBOARD_NOT_BUILT');
        expect(body.message).toMatch(/npm run build/);
      }
      expect((await fetch(`${g.base}/api/v1/symbols`)).status).toBe(200);
      expect((await fetch(`${g.base}/api/v1/nope`)).status).toBe(404);
    } finally {
      await g.close();
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('dashboard plugin with storage on (GET / shared with the ClickHouse endpoint)', () => {
  it('answers a browser\'s plain GET / with the page and a ClickHouse request at / with ClickHouse', async () => {
    const { startGateway } = await import('../support/gateway-fixture.js');
    const g = await startGateway({ tmpPrefix: 'dash-ch-', storage: 'auto', storageEnv: {}, journal: { durability: 'none' } });
    try {
      const analyst = g.key(9, ['analyst']);
      const page = await fetch(`${g.base}/`, { headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await page.text()).toContain('<div id="app"');
      const ch = await fetch(`${g.base}/?query=${encodeURIComponent('SELECT 1 AS one FORMAT TabSeparated')}`, { headers: { 'x-clickhouse-user': analyst.key, 'x-clickhouse-key': analyst.secret } });
      expect(ch.status).toBe(200);
      expect((await ch.text()).trim()).toBe('1');
      // credentials without a query string: still ClickHouse's (not the page)
      const noQuery = await fetch(`${g.base}/`, { headers: { 'x-clickhouse-user': analyst.key, 'x-clickhouse-key': analyst.secret } });
      expect(noQuery.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
      expect((await fetch(`${g.base}/dashboard`)).status).toBe(200);
      expect((await fetch(`${g.base}/index.html`)).status).toBe(200);
    } finally { await g.close(); }
  });
});

describe('tradsys serve', () => {
  it('prints the dashboard URL, which serves the page', async () => {
    const { startServe } = await import('../support/serve-process.js');
    const { mkdtempSync: mk } = await import('node:fs');
    const dir = mk(join(tmpdir(), 'dash-serve-'));
    const s = await startServe(dir, ['--no-sim', '--no-storage', '--durability', 'none']);
    try {
      const m = /^ {2}dashboard: (http:\/\/127\.0\.0\.1:\d+\/) /m.exec(s.output());
      expect(m, s.output()).not.toBeNull();
      expect(m![1]).toBe(`${s.url}/`);
      const r = await fetch(m![1]!);
      expect(r.status).toBe(200);
      expect(await r.text()).toContain('TradSys dashboard');
    } finally {
      s.child.kill('SIGTERM');
      await s.exited;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
