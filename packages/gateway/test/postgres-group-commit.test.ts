/**
 * Group commit on a real PostgreSQL, watched from connections of its own (another instance's
 * view). To see a group mid-flight, a watcher holds a lock the group needs and lets go once
 * the group's backends are seen waiting for it.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { Client, Pool } from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NO_LIMITS } from '../src/auth/api-keys.ts';
import type { AdmissionResult } from '../src/domain/admission.ts';
import type { ApiKeyRecord } from '../src/domain/principal.ts';
import { openPostgresStore } from '../src/store/postgres.ts';
import { type GroupWrite, PostgresGroupCommit } from '../src/store/postgres-group-commit.ts';
import type { Store } from '../src/store/store.ts';
import { DAY, newJob, storedKey } from './fixtures/records.ts';
import { usePostgresDatabase } from './helpers/postgres.ts';

const database = usePostgresDatabase();

/** Connections of the test's own (closeWatchers ends them, and so lets go of their locks). */
const watchers: Client[] = [];
async function watcher(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  watchers.push(client);
  return client;
}
const closeWatchers = () => Promise.all(watchers.splice(0).map((client) => client.end()));

type LockWaiter = { pid: number; blockers: number[] };

/** Backends of this database (other than `watch`'s) waiting for a lock. */
async function lockWaiters(watch: Client): Promise<LockWaiter[]> {
  const { rows } = await watch.query<LockWaiter>(
    `SELECT pid, pg_blocking_pids(pid) AS blockers FROM pg_stat_activity
     WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
  );
  return rows;
}

/** Resolves once the backends waiting for a lock are as `seen` wants. */
async function waitersSeen(watch: Client, seen: (waiting: LockWaiter[]) => boolean) {
  while (!seen(await lockWaiters(watch))) await delay(5);
}
const atLeast = (count: number) => (waiting: LockWaiter[]) => waiting.length >= count;

describe('PostgreSQL group commit', () => {
  let url: string;
  let pool: Pool;
  let writes: PostgresGroupCommit<never>;
  let watch: Client;

  beforeEach(async () => {
    url = await database.freshSchema();
    pool = new Pool({ connectionString: url, pipeline: true, max: 4 });
    await pool.query('CREATE TABLE rows (id integer PRIMARY KEY CHECK (id > 0))');
    writes = new PostgresGroupCommit(pool, { lockQueries: () => [], maxGroupsInFlight: 2 });
    watch = await watcher(url);
  });

  afterEach(async () => {
    await closeWatchers();
    await writes.drain();
    await pool.end();
  });

  const insert = (id: number): GroupWrite<never> => ({
    locks: [],
    statement: { text: 'INSERT INTO rows (id) VALUES ($1)', values: [id] },
  });
  /** Inserts `id` once it has the advisory lock `lock` (which a watcher may hold). */
  const insertAfterLock = (lock: number, id: number): GroupWrite<never> => ({
    locks: [],
    statement: {
      text: 'INSERT INTO rows (id) SELECT $2 FROM pg_advisory_xact_lock($1)',
      values: [lock, id],
    },
  });
  const committed = async () =>
    (await watch.query<{ id: number }>('SELECT id FROM rows ORDER BY id')).rows.map((r) => r.id);

  it('commits the writes of one turn together, and settles each only once committed', async () => {
    const holder = await watcher(url);
    await holder.query('SELECT pg_advisory_lock(42)');
    const settled: number[] = [];
    const first = writes.write(insert(1)).then(() => settled.push(1));
    const second = writes.write(insertAfterLock(42, 2));
    // The first has run and the second waits: the group is open, and nothing shows.
    await waitersSeen(watch, atLeast(1));
    expect(await committed()).toEqual([]);
    expect(settled).toEqual([]);

    await holder.query('SELECT pg_advisory_unlock(42)');
    await first;
    // The second is not awaited yet, and is committed already: one commit for both.
    expect(await committed()).toEqual([1, 2]);
    await second;
  });

  it('refuses a failing write alone and commits the others of its group', async () => {
    const before = writes.write(insert(1));
    const failing = writes.write(insert(-1)); // the check refuses it
    const after = writes.write(insert(3));
    await expect(failing).rejects.toThrow(/violates check constraint/);
    await Promise.all([before, after]);
    expect(await committed()).toEqual([1, 3]);
  });

  it('refuses every write of a group whose connection broke, its outcome unknown', async () => {
    const holder = await watcher(url);
    await holder.query('SELECT pg_advisory_lock(42)');
    const fine = writes.write(insert(1));
    const waiting = writes.write(insertAfterLock(42, 2));
    await waitersSeen(watch, atLeast(1));
    const [group] = await lockWaiters(watch);
    // Awaited before the termination: its refusals may arrive before the watcher's answer.
    const refused = Promise.all([
      expect(fine).rejects.toThrow(/terminat/),
      expect(waiting).rejects.toThrow(/terminat/),
    ]);
    await watch.query('SELECT pg_terminate_backend($1)', [group?.pid]);
    // Not run again alone: had the COMMIT gone out, it might have taken effect.
    await refused;
    await holder.query('SELECT pg_advisory_unlock(42)');
    expect(await committed()).toEqual([]);
    // The pool replaces the connection.
    await writes.write(insert(3));
    expect(await committed()).toEqual([3]);
  });

  it('keeps gathering the writes of later turns while the most groups allowed are out', async () => {
    const oneAtATime = new PostgresGroupCommit<never>(pool, {
      lockQueries: () => [],
      maxGroupsInFlight: 1,
    });
    const holder = await watcher(url);
    await holder.query('SELECT pg_advisory_lock(42), pg_advisory_lock(43)');
    const first = oneAtATime.write(insertAfterLock(42, 1));
    await waitersSeen(watch, atLeast(1));
    const second = oneAtATime.write(insert(2));
    await new Promise(setImmediate);
    const third = oneAtATime.write(insertAfterLock(43, 3));

    await holder.query('SELECT pg_advisory_unlock(42)');
    await first;
    // The second went only now, with the third of a later turn, and waits with it.
    await waitersSeen(watch, atLeast(1));
    expect(await committed()).toEqual([1]);
    await holder.query('SELECT pg_advisory_unlock(43)');
    await second;
    expect(await committed()).toEqual([1, 2, 3]);
    await third;
  });

  it('sends the open group at once on drain (before the pool closes)', async () => {
    const written = writes.write(insert(1));
    await writes.drain();
    expect(await committed()).toEqual([1]);
    await written;
  });
});

describe('PostgreSQL store, admissions grouped on two instances', () => {
  let url: string;
  let stores: Store[];
  let watch: Client;

  beforeEach(async () => {
    const schemaUrl = new URL(await database.freshSchema());
    // No deadlock detection within the test: a deadlock would stay for the test to see.
    const options = schemaUrl.searchParams.get('options');
    schemaUrl.searchParams.set('options', `${options} -c deadlock_timeout=1h`);
    url = schemaUrl.toString();
    stores = [await openPostgresStore(url), await openPostgresStore(url)];
    watch = await watcher(url);
  });

  afterEach(async () => {
    await closeWatchers();
    await Promise.all(stores.map((store) => store.close()));
  });

  const admit = (store: Store, key: ApiKeyRecord): Promise<AdmissionResult> =>
    store.admitJob({ job: newJob(key), day: DAY, keyLimits: key.limits, endUserLimits: null });

  /** Locks `key`'s row (as an admin's limits change would) until `release`. */
  const holdRow = async (key: ApiKeyRecord) => {
    const holder = await watcher(url);
    await holder.query('BEGIN');
    await holder.query('SELECT 1 FROM api_keys WHERE id = $1 FOR UPDATE', [key.id]);
    const [{ pid }] = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid'))
      .rows as [{ pid: number }];
    return { pid, release: () => holder.query('COMMIT') };
  };

  it("admits exactly as many of one turn's admissions as the key's budget allows, across two racing groups", async () => {
    const [a, b] = stores as [Store, Store];
    const key = await storedKey(a, { limits: { ...NO_LIMITS, dailyBudgetMicroUsd: 5 * 8000 } });
    // Both groups wait behind the row, then go for it at the same moment.
    const row = await holdRow(key);
    const admissions = [a, b].flatMap((store) =>
      Array.from({ length: 8 }, () => admit(store, key)),
    );
    await waitersSeen(watch, atLeast(2));
    await row.release();
    const results = await Promise.all(admissions);
    expect(results.filter((r) => r.kind === 'created')).toHaveLength(5);
    expect(results.filter((r) => r.kind === 'budget_exceeded')).toHaveLength(11);
    expect((await a.usage({ keyId: key.id, endUserId: null }, DAY)).spentMicroUsd).toBe(40_000);
  });

  it("never deadlocks when two groups want the same two keys' locks in opposite order", async () => {
    const [a, b] = stores as [Store, Store];
    const limits = { ...NO_LIMITS, maxConcurrentJobs: 100 };
    const [low, high] = [await storedKey(a, { limits }), await storedKey(a, { limits })].sort(
      (x, y) => (x.id < y.id ? -1 : 1),
    ) as [ApiKeyRecord, ApiKeyRecord];
    const lowRow = await holdRow(low);
    const highRow = await holdRow(high);
    const admissions = [admit(a, low), admit(a, high), admit(b, high), admit(b, low)];
    let settled = false;
    const done = Promise.all(admissions).finally(() => {
      settled = true;
    });
    // Lets each group in turn take what it can: were the locks taken in the order asked, A
    // would now hold the low key and B the high one, each then waiting for the other's.
    await waitersSeen(watch, atLeast(2));
    await lowRow.release();
    await waitersSeen(
      watch,
      (waiting) =>
        waiting.length >= 2 &&
        waiting.every(({ blockers }) => blockers.length > 0 && !blockers.includes(lowRow.pid)),
    );
    await highRow.release();
    /** True once two backends each wait for the other (whose waits it then cancels). */
    const deadlocked = async (): Promise<boolean> => {
      while (!settled) {
        const waiting = await lockWaiters(watch);
        const cycle = waiting.filter(({ pid, blockers }) =>
          waiting.some((other) => blockers.includes(other.pid) && other.blockers.includes(pid)),
        );
        if (cycle.length > 0) {
          for (const { pid } of cycle) await watch.query('SELECT pg_cancel_backend($1)', [pid]);
          return true;
        }
        await delay(5);
      }
      return false;
    };
    expect(await deadlocked()).toBe(false);
    expect((await done).map((r) => r.kind)).toEqual(Array(4).fill('created'));
  });
});
