/** Where the embedded store lives under DATA_DIR: one place, so the server and the keys CLI agree. */
import { join } from 'node:path';

export const DATABASE_FILE_NAME = 'zimage.db';

export function databasePath(dataDir: string): string {
  return join(dataDir, DATABASE_FILE_NAME);
}
