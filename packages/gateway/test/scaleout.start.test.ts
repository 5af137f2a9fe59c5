/**
 * `pnpm start` ×3 at once on an empty PostgreSQL database, one Redis and the same ADMIN_API_KEY:
 * every instance comes up, the schema is migrated once and one admin key is stored; each serves
 * that key, and each depends on REDIS_URL for readiness (cut through a TCP proxy). An
 * unreachable Redis stops start-up with one line.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { POSTGRES_MIGRATIONS } from '../src/store/migrations/postgres.ts';
import { queryDatabase, usePostgresDatabase } from './helpers/postgres.ts';
import {
  gatewayStarted,
  type RunningProcess,
  startProcess,
  stopProcess,
} from './helpers/processes.ts';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, testKeyPrefix } from './helpers/redis.ts';
import { startTcpProxyTo, type TcpProxy, throughProxy } from './helpers/tcp-proxy.ts';

const database = usePostgresDatabase();
const keyPrefix = testKeyPrefix();
const ADMIN_API_KEY = 'zk_admin-secret-of-three-simultaneous-starts';

let dataDir: string;
let redisProxy: TcpProxy;
let runs: RunningProcess[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'zimage-scaleout-start-'));
  redisProxy = await startTcpProxyTo(TEST_REDIS_URL);
});

afterAll(async () => {
  await Promise.all(runs.map((run) => stopProcess(run.child)));
  await redisProxy?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  const redis = await connectTestRedis();
  await deleteKeys(redis, keyPrefix);
  await redis.quit();
});

const query = <T>(sql: string) => queryDatabase<T>(database.url, sql);

const readiness = async (url: string) => (await fetch(`${url}/readyz`)).status;

it('stops with one line naming Redis when REDIS_URL cannot be reached', async () => {
  redisProxy.cut();
  try {
    const run = startProcess('src/main.ts', {
      DATA_DIR: dataDir,
      // A schema of its own: the database itself must stay empty for the simultaneous starts.
      DATABASE_URL: await database.freshSchema(),
      REDIS_URL: throughProxy(redisProxy, TEST_REDIS_URL),
      PIXAZO_SIM_TIME_SCALE: '0.01',
    });
    const [code] = await once(run.child, 'exit');
    expect(code).toBe(1);
    const lines = run.stderr().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^zimage gateway: Redis at redis:\/\/127\.0\.0\.1:\d+\/? is unreachable/,
    );
  } finally {
    redisProxy.restore();
  }
}, 30_000);

it('starts three instances at once: one migration, one admin key, all ready on Redis', async () => {
  const env = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    DATABASE_URL: database.url,
    REDIS_URL: throughProxy(redisProxy, TEST_REDIS_URL),
    REDIS_KEY_PREFIX: keyPrefix,
    ADMIN_API_KEY,
    PIXAZO_SIM_TIME_SCALE: '0.01',
  };
  runs = [0, 1, 2].map(() => startProcess('src/main.ts', env));
  const urls = await Promise.all(runs.map(gatewayStarted));

  for (const url of urls) {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_API_KEY}` },
      body: JSON.stringify({ query: '{ viewer { name scopes } }' }),
    });
    expect(await response.json()).toEqual({
      data: { viewer: { name: 'admin', scopes: ['admin'] } },
    });
  }
  expect(await query('SELECT name FROM api_keys')).toEqual([{ name: 'admin' }]);
  const migrations = await query<{ version: number }>(
    'SELECT version FROM schema_migrations ORDER BY version',
  );
  expect(migrations.map((row) => Number(row.version))).toEqual(
    POSTGRES_MIGRATIONS.map((_, index) => index + 1),
  );

  // REDIS_URL is in use: without Redis, no instance is ready.
  redisProxy.cut();
  expect(await Promise.all(urls.map(readiness))).toEqual([503, 503, 503]);
  redisProxy.restore();
  await vi.waitFor(
    async () => expect(await Promise.all(urls.map(readiness))).toEqual([200, 200, 200]),
    {
      timeout: 10_000,
    },
  );

  expect(await Promise.all(runs.map((run) => stopProcess(run.child)))).toEqual([0, 0, 0]);
}, 60_000); // three processes starting at once on a busy machine
