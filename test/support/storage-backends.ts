/**
 * Both storage backends for the integration tests: chDB in a fresh folder, and the ClickHouse
 * server (CLICKHOUSE_URL or a private clickhouse-server, test/support/clickhouse.ts) in a fresh
 * database that is dropped afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChdbStorage } from '../../src/storage/chdb-storage.js';
import { ServerStorage } from '../../src/storage/server-storage.js';
import type { Storage } from '../../src/storage/storage.js';
import { startServer, uniqueDatabase, type TestServer } from './clickhouse.js';

export interface Backend { name: 'chdb' | 'server'; storage: Storage; dir: string; server: TestServer | null; database: string | null; close(): Promise<void> }

export async function openBackend(name: 'chdb' | 'server', tag: string): Promise<Backend> {
  const dir = mkdtempSync(join(tmpdir(), `tradsys-${tag}-`));
  if (name === 'chdb') {
    const storage = await ChdbStorage.open(dir);
    return { name, storage, dir, server: null, database: null, close: async () => { await storage.close(); rmSync(dir, { recursive: true, force: true }); } };
  }
  const server = await startServer();
  const database = uniqueDatabase(tag);
  const storage = new ServerStorage({ url: server.url, database });
  await storage.connect();
  return {
    name, storage, dir, server, database,
    close: async () => {
      try { await storage.command(`DROP DATABASE IF EXISTS ${database}`); } finally { await storage.close(); await server.stop(); rmSync(dir, { recursive: true, force: true }); }
    },
  };
}
