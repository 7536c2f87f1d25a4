/**
 * The gateway set-up the integration suites share: build the app (src/app.ts `build`) on a fresh
 * temporary data directory (options passed through), listen on a loopback port, create API keys, track the
 * suite's clients, and tear it all down (clients first, then the gateway).
 *
 * Two forms: `startGateway(cfg)` returns a running fixture (the caller closes it, e.g. in a
 * `finally`); `useGateway(cfg, setup)` registers the suite's `beforeAll` (start, then `setup`) and
 * `afterAll` (close), so a suite keeps its own variables and assigns them in `setup`.
 *
 * Known limitations: one gateway per fixture; suites whose set-up is really different (a restart
 * on the same directory, a gateway per test) build their own.
 */
import { afterAll, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Gateway, type GatewayConfig } from '../../src/app.js';
import type { ApiKey, Permission } from '../../src/gateway/auth.js';

/** Gateway options, with `dataDir` optional (default: a new temporary directory named `tmpPrefix…`). */
export type FixtureConfig = Omit<GatewayConfig, 'dataDir'> & { dataDir?: string; tmpPrefix?: string };

export interface GatewayFixture {
  gw: Gateway;
  dataDir: string;
  /** `http://127.0.0.1:<port>` */
  base: string;
  /** `ws://127.0.0.1:<port>/ws` (append `?protocol=binary` for the binary protocol). */
  wsUrl: string;
  /** A new API key of `account` (default permissions: trade and read). */
  key(account: number, permissions?: Permission[]): ApiKey;
  /** Tracks a client (anything with `close()`): closed at teardown, before the gateway. Returns it. */
  client<T extends { close(): void }>(c: T): T;
  close(): Promise<void>;
}

export async function startGateway(cfg: FixtureConfig = {}): Promise<GatewayFixture> {
  const { tmpPrefix = 'gw-', dataDir: dir, ...rest } = cfg;
  const dataDir = dir ?? mkdtempSync(join(tmpdir(), tmpPrefix));
  const gw = await build({ ...rest, dataDir });
  const clients: { close(): void }[] = [];
  let base: string;
  try { base = await gw.listen(0); } catch (e) { await gw.close(); throw e; }
  return {
    gw, dataDir, base, wsUrl: base.replace('http', 'ws') + '/ws',
    key: (account, permissions) => gw.keys.create(account, permissions),
    client: (c) => { clients.push(c); return c; },
    async close() {
      for (const c of clients.splice(0)) c.close();
      await gw.close();
    },
  };
}

/**
 * Registers `beforeAll` (start the gateway, then `setup`) and `afterAll` (close) in the current
 * suite or file. `timeoutMs` applies to both hooks (vitest's default when omitted).
 */
export function useGateway(cfg: FixtureConfig, setup: (f: GatewayFixture) => void | Promise<void>, timeoutMs?: number): void {
  let f: GatewayFixture | undefined;
  beforeAll(async () => {
    f = await startGateway(cfg);
    await setup(f);
  }, timeoutMs);
  afterAll(async () => { await f?.close(); }, timeoutMs);
}
