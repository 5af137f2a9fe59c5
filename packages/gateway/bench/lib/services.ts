/**
 * The machine's PostgreSQL and Redis for a benchmark: a database of its own (created, dropped
 * WITH (FORCE) afterwards) and a random Redis key prefix whose keys it deletes afterwards.
 * Nothing here flushes Redis or touches another database.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { deleteKeys, TEST_REDIS_URL } from '../../test/helpers/redis.ts';

const BENCH_POSTGRES_URL =
  process.env.ZIMAGE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface ScratchDatabase {
  url: string;
  /** Committed + rolled-back transactions of this database so far (pg_stat_database). */
  transactions(): Promise<number>;
  drop(): Promise<void>;
}

async function onAdmin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: BENCH_POSTGRES_URL });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${BENCH_POSTGRES_URL} (${(error as Error).message}); ` +
        'the scale-out benchmark needs it (set ZIMAGE_TEST_POSTGRES_URL)',
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const name = `zimage_bench_${randomBytes(6).toString('hex')}`;
  await onAdmin((admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(BENCH_POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    transactions: () =>
      onAdmin(async (admin) => {
        const { rows } = await admin.query<{ n: string }>(
          'SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1',
          [name],
        );
        return Number(rows[0]?.n ?? Number.NaN);
      }),
    async drop() {
      await onAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

export interface ScratchRedis {
  url: string;
  keyPrefix: string;
  /** Deletes every key under the prefix (and only those). */
  clean(): Promise<void>;
}

export function scratchRedis(): ScratchRedis {
  const keyPrefix = `zimage-bench:${randomUUID()}:`;
  return {
    url: TEST_REDIS_URL,
    keyPrefix,
    async clean() {
      const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await client.connect();
      try {
        await deleteKeys(client, keyPrefix);
      } finally {
        await client.quit();
      }
    },
  };
}
