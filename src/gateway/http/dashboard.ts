/**
 * The dashboard context: serves the browser dashboard built by `npm run build:dashboard`
 * (src/dashboard/build.mjs → build/dashboard/) at `/`, `/index.html` and `/dashboard` (and `/dashboard/`), and its
 * assets at `/dashboard/assets/<name>` (docs/dashboard.md). Public routes: the page holds no data;
 * everything it shows comes from the public API and, with a key entered in the page, signed requests.
 *
 * With storage on, `GET /` belongs to the ClickHouse-compatible endpoint (clients configured with
 * the gateway's bare URL; src/storage/clickhouse-http.ts), which hands a plain `GET /` — no query
 * string, no ClickHouse credentials: a browser — to this plugin's page (`dashboardPage`).
 *
 * Layout: build/dashboard/manifest.json names the assets; they are read into memory once (a few
 * hundred KiB) the first time the page is asked for after a build. The page gets the server's
 * version in `<meta name="tradsys-version">` (no inline script).
 * Invariants: only names listed in the manifest are served (no path from the URL reaches the file
 * system); hashed assets are `immutable` for a year, the page is `no-cache`; every answer of this
 * plugin carries a strict Content-Security-Policy (scripts and styles from this origin only, no
 * inline script, connections to this origin and its WebSocket) plus nosniff, no-referrer and
 * frame-ancestors 'none'; an unbuilt bundle answers 503 `ERR_DASHBOARD_NOT_BUILT` (JSON) and
 * nothing else of the gateway changes. Unknown /api paths keep fastify's 404 JSON.
 * Complexity: O(1) per request. Allocation: the page text once per build; none per request.
 * Known limitations: a rebuild while the server runs is picked up on the next page request
 * (manifest mtime), assets of the previous build are then no longer served.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TradsysError } from '../../domain/errors.js';
import { replyCatalogError } from './errors.js';

/** The routes that answer the page. */
export const DASHBOARD_PAGES = ['/', '/index.html', '/dashboard', '/dashboard/'] as const;
export const DASHBOARD_ASSETS_PREFIX = '/dashboard/assets/';

const TYPES: Record<string, string> = {
  js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', map: 'application/json; charset=utf-8',
  svg: 'image/svg+xml', txt: 'text/plain; charset=utf-8', html: 'text/html; charset=utf-8',
};

interface Bundle { mtimeMs: number; page: Buffer; assets: Map<string, { body: Buffer; type: string }> }

/** build/dashboard of the package this module is in (the first folder above it with a package.json: works from src/ under tsx and from build/dist/). */
export function dashboardDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return join(dir, 'build', 'dashboard');
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'build', 'dashboard');
}

function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) { try { return String((JSON.parse(readFileSync(p, 'utf8')) as { version?: string }).version ?? 'unknown'); } catch { return 'unknown'; } }
    dir = dirname(dir);
  }
  return 'unknown';
}

const escapeAttr = (s: string): string => s.replace(/[&"<>]/g, (c) => ({ '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;' })[c]!);

/** Reads the manifest and every asset it names; null when the bundle is not (completely) built. */
function loadBundle(dir: string, version: string, prev: Bundle | null): { bundle: Bundle | null; why: string } {
  const manifestPath = join(dir, 'manifest.json');
  let mtimeMs: number;
  try { mtimeMs = statSync(manifestPath).mtimeMs; } catch { return { bundle: null, why: `${manifestPath} is missing` }; }
  if (prev && prev.mtimeMs === mtimeMs) return { bundle: prev, why: '' };
  try {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { assets?: unknown };
    if (!Array.isArray(manifest.assets)) return { bundle: null, why: `${manifestPath} lists no assets` };
    const assets = new Map<string, { body: Buffer; type: string }>();
    for (const name of manifest.assets) {
      if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(name) || name.startsWith('.')) return { bundle: null, why: `${manifestPath}: bad asset name` };
      const ext = name.slice(name.lastIndexOf('.') + 1);
      assets.set(name, { body: readFileSync(join(dir, 'assets', name)), type: TYPES[ext] ?? 'application/octet-stream' });
    }
    const html = readFileSync(join(dir, 'index.html'), 'utf8')
      .replace('<meta charset="utf-8">', `<meta charset="utf-8">\n<meta name="tradsys-version" content="${escapeAttr(version)}">`);
    return { bundle: { mtimeMs, page: Buffer.from(html), assets }, why: '' };
  } catch (e) {
    return { bundle: null, why: `${dir}: ${(e as Error).message}` };
  }
}

/** `connect-src`: this origin, and its WebSocket (ws: or wss: on the host the page was loaded from). */
function connectSrc(req: FastifyRequest): string {
  const host = req.headers.host;
  if (typeof host !== 'string' || !/^[A-Za-z0-9.[\]:-]{1,255}$/.test(host)) return "'self'";
  return `'self' ws://${host} wss://${host}`;
}

function securityHeaders(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', [
      "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "font-src 'self'",
      `connect-src ${connectSrc(req)}`, "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'", "object-src 'none'",
    ].join('; '))
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cross-origin-opener-policy', 'same-origin')
    .header('cross-origin-resource-policy', 'same-origin');
}

/** The page and asset handlers of one app's dashboard (one bundle state per app). */
interface DashboardHandlers {
  page(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply>;
  asset(req: FastifyRequest<{ Params: { name: string } }>, reply: FastifyReply): Promise<FastifyReply>;
}
const handlersOf = new WeakMap<object, DashboardHandlers>();

function handlers(app: FastifyInstance): DashboardHandlers {
  const services = app.tradsys;
  let h = handlersOf.get(services);
  if (h) return h;
  const dir = services.dashboardDir ?? dashboardDir();
  const version = packageVersion();
  let bundle: Bundle | null = null;
  const current = (reply: FastifyReply): Bundle | null => {
    const r = loadBundle(dir, version, bundle);
    bundle = r.bundle;
    if (!bundle) void replyCatalogError(reply, new TradsysError('ERR_DASHBOARD_NOT_BUILT', `the dashboard bundle is not built: ${r.why}; run \`npm run build\` (or \`npm run build:dashboard\`)`));
    return bundle;
  };
  h = {
    async page(req, reply) {
      securityHeaders(req, reply);
      const b = current(reply);
      if (!b) return reply;
      return reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(b.page);
    },
    async asset(req, reply) {
      securityHeaders(req, reply);
      const b = current(reply);
      if (!b) return reply;
      const a = b.assets.get(req.params.name);
      if (!a) { reply.header('cache-control', 'no-store').callNotFound(); return reply; } // fastify's 404 JSON, as any unknown path
      return reply.header('cache-control', 'public, max-age=31536000, immutable').type(a.type).send(a.body);
    },
  };
  handlersOf.set(services, h);
  return h;
}

/**
 * The page handler, for the ClickHouse-compatible endpoint, which owns `GET /` when storage is on
 * (ClickHouse clients configured with the gateway's bare URL) and hands it the plain browser
 * requests (src/storage/clickhouse-http.ts `page`).
 */
export function dashboardPage(app: FastifyInstance): (req: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return (req, reply) => handlers(app).page(req, reply);
}

export async function dashboardPlugin(app: FastifyInstance): Promise<void> {
  const h = handlers(app);
  for (const url of DASHBOARD_PAGES) {
    // `GET /` is the ClickHouse endpoint's when storage is on (registered before this plugin); it hands browsers to `page`
    if (url === '/' && app.hasRoute({ method: 'GET', url })) continue;
    app.get(url, h.page);
  }
  app.get<{ Params: { name: string } }>(`${DASHBOARD_ASSETS_PREFIX}:name`, h.asset);
}
