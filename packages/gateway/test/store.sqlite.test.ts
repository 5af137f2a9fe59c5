import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SQLITE_MIGRATIONS } from '../src/store/migrations/sqlite.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import { DAY, newJob, storedKey } from './fixtures/records.ts';
import { describeStoreSuite } from './store.suite.ts';

describeStoreSuite('SQLite', (options) => openSqliteStore(':memory:', options));

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

  it('holds a concurrency limit across connections writing at once', async () => {
    const store = openSqliteStore(path);
    const key = await storedKey(store);
    await store.close();

    // Worker threads run truly in parallel, each on its own connection: only the write lock
    // taken by BEGIN IMMEDIATE keeps their check-then-insert atomic.
    const attempts = 100;
    const max = 150;
    const workers = Array.from(
      { length: 4 },
      () =>
        new Worker(new URL('./fixtures/admit-worker.ts', import.meta.url), {
          workerData: { path, keyId: key.id, attempts, max },
        }),
    );
    const messages = workers.map((worker) => {
      const next = () =>
        new Promise<unknown>((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
      return { ready: next(), next };
    });
    await Promise.all(messages.map((m) => m.ready));
    const results = messages.map((m) => m.next());
    for (const worker of workers) worker.postMessage('go');
    const created = (await Promise.all(results)) as number[];
    expect(created.reduce((sum, n) => sum + n, 0)).toBe(max);

    const check = openSqliteStore(path);
    expect((await check.usage({ keyId: key.id, endUserId: null }, DAY)).jobsInFlight).toBe(max);
    await check.close();
  });
});
