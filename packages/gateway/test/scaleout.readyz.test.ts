/**
 * /readyz of a scaled-out instance: 503 naming what is down while it cannot reach PostgreSQL or
 * Redis, 200 again once it can. The gateway reaches both through TCP proxies that the test cuts,
 * so the real servers keep running for everyone else.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type GatewayHarness, startGatewayHarness } from './helpers/gateway-harness.ts';
import { usePostgresDatabase } from './helpers/postgres.ts';
import {
  connectTestRedis,
  deleteKeys,
  QUICK_RECONNECT,
  TEST_REDIS_URL,
  testKeyPrefix,
} from './helpers/redis.ts';
import { startTcpProxyTo, type TcpProxy, throughProxy } from './helpers/tcp-proxy.ts';

const database = usePostgresDatabase();
const keyPrefix = testKeyPrefix();
let postgresProxy: TcpProxy;
let redisProxy: TcpProxy;
let h: GatewayHarness;

beforeAll(async () => {
  postgresProxy = await startTcpProxyTo(database.url);
  redisProxy = await startTcpProxyTo(TEST_REDIS_URL);
  h = await startGatewayHarness({
    databaseUrl: throughProxy(postgresProxy, database.url),
    redisUrl: throughProxy(redisProxy, TEST_REDIS_URL),
    redisKeyPrefix: keyPrefix,
    redisOptions: QUICK_RECONNECT,
  });
});

afterAll(async () => {
  await h?.close();
  await postgresProxy?.close();
  await redisProxy?.close();
  const client = await connectTestRedis();
  await deleteKeys(client, keyPrefix);
  await client.quit();
});

async function readiness(): Promise<[number, unknown]> {
  const response = await fetch(`${h.gateway.url}/readyz`);
  return [response.status, await response.json()];
}

const READY: [number, unknown] = [200, { status: 'ready' }];

describe('/readyz of an instance on PostgreSQL and Redis', { timeout: 20_000 }, () => {
  it('is 503 naming Redis while Redis is unreachable, 200 once it is back', async () => {
    expect(await readiness()).toEqual(READY);
    redisProxy.cut();
    expect(await readiness()).toEqual([503, { status: 'redis unavailable', down: ['redis'] }]);
    redisProxy.restore();
    await vi.waitFor(async () => expect(await readiness()).toEqual(READY), { timeout: 10_000 });
  });

  it('is 503 naming the database while PostgreSQL is unreachable, 200 once it is back', async () => {
    expect(await readiness()).toEqual(READY);
    postgresProxy.cut();
    expect(await readiness()).toEqual([
      503,
      { status: 'database unavailable', down: ['database'] },
    ]);
    postgresProxy.restore();
    await vi.waitFor(async () => expect(await readiness()).toEqual(READY), { timeout: 10_000 });
  });

  it('names both when both are down', async () => {
    postgresProxy.cut();
    redisProxy.cut();
    expect(await readiness()).toEqual([
      503,
      { status: 'database and redis unavailable', down: ['database', 'redis'] },
    ]);
    postgresProxy.restore();
    redisProxy.restore();
    await vi.waitFor(async () => expect(await readiness()).toEqual(READY), { timeout: 10_000 });
  });
});
