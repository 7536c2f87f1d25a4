/**
 * Chooses the storage backend: the ClickHouse server when CLICKHOUSE_URL is set, else chDB with
 * its data in `<dataDir>/clickhouse`; connects and applies pending migrations.
 *
 * Invariants: the returned storage has answered `SELECT version()` and has the current schema.
 * Complexity/Allocation: start-up only. Known limitations: none.
 */
import { ChdbStorage } from './chdb-storage.js';
import { ServerStorage, serverConfigFromEnv } from './server-storage.js';
import { migrate } from './schema.js';
import type { Storage } from './storage.js';

export async function openStorage(dataDir: string, env: NodeJS.ProcessEnv = process.env): Promise<Storage> {
  const cfg = serverConfigFromEnv(env);
  const s: Storage = cfg ? new ServerStorage(cfg) : await ChdbStorage.open(dataDir);
  try {
    await s.connect();
    await migrate(s);
  } catch (e) {
    await s.close();
    throw e;
  }
  return s;
}
