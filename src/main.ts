/**
 * The composition root: config → app → listen; nothing else. `tradsys serve` (src/cli/main.ts)
 * turns its flags into a GatewayConfig and calls `start`.
 *
 * Layout: `start(config, {port, host})` → `{app, url}`.
 * Invariants: an app that cannot listen is closed again (engine thread stopped) before the error
 * leaves. Complexity: that of build(). Allocation: at start. Known limitations: none.
 */
import { build, type Gateway, type GatewayConfig } from './app.js';
import { TradsysError } from './domain/errors.js';

/** Builds the app and listens on `host:port` (port 0: any free port); answers the app and its URL. */
export async function start(config: GatewayConfig, listen: { port: number; host?: string }): Promise<{ app: Gateway; url: string }> {
  const app = await build(config);
  const host = listen.host ?? '127.0.0.1';
  try {
    return { app, url: await app.listen(listen.port, host) };
  } catch (e) {
    await app.close();
    throw new TradsysError('ERR_IO', `cannot listen on ${host}:${listen.port}: ${(e as Error).message} (try --port)`);
  }
}
