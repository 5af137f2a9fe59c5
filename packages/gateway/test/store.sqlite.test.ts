import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SQLITE_MIGRATIONS } from '../src/store/migrations/sqlite.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { DAY, newJob, storedKey } from './fixtures/records.ts';
import { openSqliteConnections } from './helpers/sqlite-connections.ts';
import { describeStoreSuite } from './store.suite.ts';

describeStoreSuite('SQLite', {
  open: (options) => openSqliteStore(':memory:', options),
  openConnections: openSqliteConnections,
});

describe('SQLite file database', () => {
  let dir: string;
  let path: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'zimage-store-'));
    path = join(dir, 'nested', 'zimage.db');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const appliedVersions = () => {
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      return db.prepare('SELECT version FROM schema_migrations ORDER BY version').all();
    } finally {
      db.close();
    }
  };

  it('applies each migration once and keeps data across reopening', async () => {
    const first = openSqliteStore(path);
    const key = await storedKey(first);
    const job = newJob(key);
    await first.admitJob({ job, day: DAY, keyLimits: key.limits, endUserLimits: null });
    await first.close();

    const second = openSqliteStore(path);
    expect(await second.getJob(job.id)).toEqual(job);
    expect(await second.getApiKey(key.id)).toEqual(key);
    await second.close();

    expect(appliedVersions()).toEqual(SQLITE_MIGRATIONS.map((_, i) => ({ version: i + 1 })));
  });

  it('refuses a database migrated by a newer gateway', async () => {
    await openSqliteStore(path).close();
    const db = new DatabaseSync(path);
    db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
      SQLITE_MIGRATIONS.length + 1,
      'from the future',
      Date.now(),
    );
    db.close();
    expect(() => openSqliteStore(path)).toThrow(/newer than this gateway/);
  });
});
