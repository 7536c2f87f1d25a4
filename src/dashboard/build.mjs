/**
 * Builds the dashboard (`npm run build:dashboard`, part of `npm run build`): esbuild bundles
 * src/dashboard/main.ts (with client/core, uPlot and lightweight-charts) and its CSS for the browser
 * into build/dashboard/, with content-hashed names and source maps, and writes index.html and
 * manifest.json. No network, no CDN: everything the page loads is in that folder.
 *
 * Layout of build/dashboard/:
 *   index.html                   the page (no inline script or style: the CSP forbids both)
 *   manifest.json                {version, built, entry: {js, css}, assets: [names]} (read by the
 *                                gateway's dashboard plugin, src/gateway/http/dashboard.ts)
 *   assets/app-<hash>.js(.map)   the bundle (ES module) and its source map
 *   assets/app-<hash>.css(.map)  the styles (ours + uPlot's) and their source map
 *   assets/icon-<hash>.svg       the favicon
 * Invariants: a name's hash changes when its content does (so the plugin serves assets as
 * immutable); the folder holds only this build's files (it is emptied first); a failed bundle
 * exits non-zero and leaves no manifest (the plugin then answers 503 ERR_DASHBOARD_NOT_BUILT).
 * Complexity: one esbuild run (≈ 1 s). Allocation: n/a (a build script).
 * Known limitations: no watch mode (rerun it, or `npm run build`).
 */
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(ROOT, 'build', 'dashboard');
const ASSETS = join(OUT, 'assets');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

rmSync(OUT, { recursive: true, force: true });
mkdirSync(ASSETS, { recursive: true });

const started = Date.now();
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: { app: 'src/dashboard/main.ts' },
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  minify: true,
  sourcemap: 'linked',
  sourcesContent: true,
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  outdir: ASSETS,
  metafile: true,
  legalComments: 'linked',
  logLevel: 'warning',
  define: { __TRADSYS_DASHBOARD_BUILD__: JSON.stringify(pkg.version) },
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((n) => /^app-[A-Z0-9]+\.js$/i.test(n));
const css = outputs.find((n) => /^app-[A-Z0-9]+\.css$/i.test(n));
if (!js || !css) throw new Error(`dashboard build: expected app-<hash>.js and .css, got ${outputs.join(', ')}`);

// the favicon (a browser asks for one; a 404 would be a console error)
const icon = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0f1720"/><path d="M5 22 L11 14 L16 18 L22 9 L27 13" stroke="#2fbf71" stroke-width="3" fill="none" stroke-linecap="round" stroke-linejoin="round"/></svg>\n';
const iconName = `icon-${createHash('sha256').update(icon).digest('hex').slice(0, 8).toUpperCase()}.svg`;
writeFileSync(join(ASSETS, iconName), icon);

const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark">
<title>TradSys dashboard</title>
<link rel="icon" type="image/svg+xml" href="/dashboard/assets/${iconName}">
<link rel="stylesheet" href="/dashboard/assets/${css}">
<script type="module" src="/dashboard/assets/${js}"></script>
</head>
<body>
<noscript><p class="noscript">The TradSys dashboard needs JavaScript. The API is documented in docs/protocol.md.</p></noscript>
<div id="app" aria-busy="true"></div>
</body>
</html>
`;
writeFileSync(join(OUT, 'index.html'), html);
const assets = [...outputs, iconName].sort();
writeFileSync(join(OUT, 'manifest.json'), JSON.stringify({ version: pkg.version, built: new Date().toISOString(), entry: { js, css }, assets }, null, 2) + '\n');
const size = (n) => readFileSync(join(ASSETS, n)).length;
console.log(`dashboard: build/dashboard/ (${js} ${(size(js) / 1024).toFixed(0)} KiB, ${css} ${(size(css) / 1024).toFixed(0)} KiB) in ${Date.now() - started} ms`);
