/**
 * The one place a store is chosen from the configuration: startGateway and the keys CLI both
 * open theirs here, so they always agree on where the data is. DATABASE_URL set: PostgreSQL,
 * shared by every instance; unset: the embedded SQLite file under DATA_DIR.
 */
import { join } from 'node:path';
import type { StoreConfig } from '../config.ts';
import { openSqliteStore } from './sqlite.ts';
import type { Store, StoreOptions } from './store.ts';

export const DATABASE_FILE_NAME = 'zimage.db';

/** Opens the configured store, migrated and ready. */
export async function openStore(config: StoreConfig, options: StoreOptions = {}): Promise<Store> {
  if (config.databaseUrl !== null) {
    // Loaded only when chosen: a one-process gateway (or keys CLI) never loads the driver.
    const { openPostgresStore } = await import('./postgres.ts');
    return openPostgresStore(config.databaseUrl, options);
  }
  return openSqliteStore(join(config.dataDir, DATABASE_FILE_NAME), options);
}
