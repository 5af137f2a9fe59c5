/**
 * The one place a store is chosen from the configuration: startGateway and the keys CLI both
 * open theirs here, so they always agree on where the data is. Today there is one choice, the
 * embedded SQLite file under DATA_DIR; the PostgreSQL store (scale-out) plugs in here, chosen
 * by DATABASE_URL.
 */
import { join } from 'node:path';
import type { StoreConfig } from '../config.ts';
import { openSqliteStore } from './sqlite.ts';
import type { Store, StoreOptions } from './store.ts';

export const DATABASE_FILE_NAME = 'zimage.db';

/** Opens the configured store, migrated and ready. Async, as a networked store's opening is. */
export async function openStore(config: StoreConfig, options: StoreOptions = {}): Promise<Store> {
  return openSqliteStore(join(config.dataDir, DATABASE_FILE_NAME), options);
}
