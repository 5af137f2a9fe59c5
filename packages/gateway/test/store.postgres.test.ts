import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { Client } from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureAdminKey, hashSecret, NO_LIMITS } from '../src/auth/api-keys.ts';
import type { AdmissionResult } from '../src/domain/admission.ts';
import type { JobRecord } from '../src/domain/job.ts';
import type { ApiKeyRecord, KeyLimits, Limits } from '../src/domain/principal.ts';
import { POSTGRES_MIGRATIONS } from '../src/store/migrations/postgres.ts';
import { openPostgresStore } from '../src/store/postgres.ts';
import type { Store } from '../src/store/store.ts';
import { DAY, newJob, storedKey } from './fixtures/records.ts';
import { usePostgresDatabase } from './helpers/postgres.ts';
import { describeStoreSuite } from './store.suite.ts';

const database = usePostgresDatabase();
const limits = (overrides: Partial<KeyLimits>): KeyLimits => ({ ...NO_LIMITS, ...overrides });
const userLimits = (overrides: Partial<Limits>): Limits => ({
  dailyBudgetMicroUsd: null,
  maxConcurrentJobs: null,
  requestsPerMinute: null,
  ...overrides,
});

describeStoreSuite('PostgreSQL', {
  open: async (options) => openPostgresStore(await database.freshSchema(), options),
  // Each store is its own pool on the same schema: admissions really meet in the database.
  async openConnections(count) {
    const url = await database.freshSchema();
    const stores = await Promise.all(Array.from({ length: count }, () => openPostgresStore(url)));
    return { stores, close: async () => void (await Promise.all(stores.map((s) => s.close()))) };
  },
});

/** Rows of `sql` on the database at `url`, through a connection of its own. */
async function query<Row>(url: string, sql: string): Promise<Row[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as Row[];
  } finally {
    await client.end();
  }
}

describe('PostgreSQL, several stores on one database', () => {
  let url: string;
  let stores: Store[];

  beforeEach(async () => {
    url = await database.freshSchema();
    stores = [];
  });

  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()));
  });

  /** `count` stores opened at the same moment, as instances starting together would. */
  const openStores = async (count: number): Promise<Store[]> => {
    const opened = await Promise.allSettled(
      Array.from({ length: count }, () => openPostgresStore(url)),
    );
    for (const result of opened) if (result.status === 'fulfilled') stores.push(result.value);
    const failure = opened.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    return stores.slice(-count);
  };

  it('migrates an empty database once when instances start at the same moment', async () => {
    const [first, second, third] = await openStores(3);
    expect(
      await query(url, 'SELECT version, name FROM schema_migrations ORDER BY version'),
    ).toEqual(POSTGRES_MIGRATIONS.map((m, i) => ({ version: i + 1, name: m.name })));

    // Each works, on the same data.
    const keys = await Promise.all([first, second, third].map((s) => storedKey(s as Store)));
    expect((await (second as Store).listApiKeys()).map((k) => k.id).sort()).toEqual(
      keys.map((k) => k.id).sort(),
    );
    // Reopening applies nothing more.
    await openStores(1);
    expect(await query(url, 'SELECT count(*)::int AS n FROM schema_migrations')).toEqual([
      { n: POSTGRES_MIGRATIONS.length },
    ]);
  });

  it('refuses a database migrated by a newer gateway', async () => {
    await openStores(1);
    await query(
      url,
      `INSERT INTO schema_migrations VALUES (${POSTGRES_MIGRATIONS.length + 1}, 'future', now())`,
    );
    await expect(openPostgresStore(url)).rejects.toThrow(/newer than this gateway/);
  });

  describe('admission, 12 at once from 3 instances', () => {
    /** 12 admissions started together, spread over 3 stores (each its own pool). */
    const admitTogether = async (
      key: ApiKeyRecord,
      job: (i: number) => JobRecord,
    ): Promise<AdmissionResult[]> => {
      const instances = await openStores(3);
      return Promise.all(
        Array.from({ length: 12 }, (_, i) => {
          const store = instances[i % instances.length] as Store;
          const next = job(i);
          return store.admitJob({
            job: next,
            day: DAY,
            keyLimits: key.limits,
            endUserLimits: next.endUserId === null ? null : key.endUserLimits,
          });
        }),
      );
    };
    const kinds = (results: AdmissionResult[]) => results.map((r) => r.kind).sort();
    const fiveOf12 = [...Array(7).fill('budget_exceeded'), ...Array(5).fill('created')];

    it('admits exactly 5 against a 5-job budget of the key', async () => {
      const [store] = await openStores(1);
      const key = await storedKey(store as Store, {
        limits: limits({ dailyBudgetMicroUsd: 5 * 8000 }),
      });
      expect(kinds(await admitTogether(key, () => newJob(key)))).toEqual(fiveOf12);
      expect(await (store as Store).usage({ keyId: key.id, endUserId: null }, DAY)).toEqual({
        spentMicroUsd: 40_000,
        spentThisMonthMicroUsd: 40_000,
        jobsInFlight: 5,
      });
    });

    it('admits exactly 5 against a concurrency cap of 5', async () => {
      const [store] = await openStores(1);
      const key = await storedKey(store as Store, { limits: limits({ maxConcurrentJobs: 5 }) });
      const results = await admitTogether(key, () => newJob(key));
      expect(results.filter((r) => r.kind === 'created')).toHaveLength(5);
      expect(results.filter((r) => r.kind === 'too_many_jobs')).toHaveLength(7);
    });

    it("admits exactly 5 against an end user's 5-job budget when the key has no limit", async () => {
      const [store] = await openStores(1);
      const key = await storedKey(store as Store, {
        scopes: ['generate', 'act-as'],
        endUserLimits: userLimits({ dailyBudgetMicroUsd: 5 * 8000 }),
      });
      // Alice's 12 take turns on her own lock; Bob's 6 are not held back by hers.
      const results = await admitTogether(key, (i) =>
        newJob(key, { endUserId: i % 3 === 0 ? 'bob' : 'alice' }),
      );
      const created = (user: string) =>
        results.filter((r) => r.kind === 'created' && r.job.endUserId === user).length;
      expect([created('alice'), created('bob')]).toEqual([5, 4]);
      expect(
        (await (store as Store).usage({ keyId: key.id, endUserId: 'alice' }, DAY)).spentMicroUsd,
      ).toBe(40_000);
    });

    it('creates one job for one idempotency key, with or without limits', async () => {
      const [store] = await openStores(1);
      const free = await storedKey(store as Store);
      const capped = await storedKey(store as Store, { limits: limits({ maxConcurrentJobs: 9 }) });
      for (const key of [free, capped]) {
        const results = await admitTogether(key, () => newJob(key, { idempotencyKey: 'once' }));
        expect(kinds(results)).toEqual(['created', ...Array(11).fill('existing')]);
        expect(new Set(results.map((r) => (r as { job: JobRecord }).job.id)).size).toBe(1);
        expect(await (store as Store).usage({ keyId: key.id, endUserId: null }, DAY)).toEqual({
          spentMicroUsd: 8000,
          spentThisMonthMicroUsd: 8000,
          jobsInFlight: 1,
        });
      }
    });
  });

  it('bootstraps one admin key when instances start at once with the same ADMIN_API_KEY', async () => {
    const secret = 'zk_shared-admin-secret-for-every-instance';
    const instances = await openStores(3);
    const outcomes = await Promise.all(instances.map((store) => ensureAdminKey(store, secret)));
    expect(outcomes.filter((o) => o.created)).toHaveLength(1);
    const keys = await (instances[0] as Store).listApiKeys();
    expect(keys).toMatchObject([{ secretHash: hashSecret(secret), scopes: ['admin'] }]);
    // A later start finds it.
    expect(await ensureAdminKey(instances[1] as Store, secret)).toEqual({
      created: false,
      generatedSecret: null,
    });
  });

  it('keeps money exact up to 2^53 - 1 micro-USD and refuses to read more', async () => {
    const [store] = await openStores(1);
    const max = Number.MAX_SAFE_INTEGER;
    const key = await storedKey(store as Store, { limits: limits({ dailyBudgetMicroUsd: max }) });
    expect((await (store as Store).getApiKey(key.id))?.limits.dailyBudgetMicroUsd).toBe(max);

    await query(url, `UPDATE api_keys SET daily_budget_micro_usd = ${max} + 1`);
    await expect((store as Store).getApiKey(key.id)).rejects.toThrow(/exceeds 2\^53/);
  });
});

/**
 * A TCP relay in front of PostgreSQL that can go silent: its connections stay open but nothing
 * passes any more, as when the server or the network path to it stops answering.
 */
async function startRelay(to: string): Promise<{ port: number; silence(): void; close(): void }> {
  const target = new URL(to);
  const sockets = new Set<Socket>();
  let silent = false;
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on('data', (chunk) => {
        if (!silent) to.write(chunk);
      });
      from.on('close', () => to.destroy());
      from.on('error', () => to.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    silence: () => {
      silent = true;
    },
    close: () => {
      server.close();
      for (const socket of sockets) socket.destroy();
    },
  };
}

describe('PostgreSQL ping', () => {
  it('answers false, without hanging, once the database stops answering', async () => {
    const direct = await database.freshSchema();
    const relay = await startRelay(direct);
    const url = new URL(direct);
    url.host = `127.0.0.1:${relay.port}`;
    const store = await openPostgresStore(url.toString());
    try {
      expect(await store.ping()).toBe(true);
      relay.silence();
      // The connection the first ping used is still open and now hears nothing back.
      expect(await store.ping()).toBe(false);
    } finally {
      relay.close();
      await store.close();
    }
  });
});
