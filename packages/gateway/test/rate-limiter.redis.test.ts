import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisRateLimiter } from '../src/limits/redis-rate-limiter.ts';
import type { Redis } from '../src/redis.ts';
import { connectTestRedis, deleteKeys, testKeyPrefix } from './helpers/redis.ts';
import { startTcpProxy } from './helpers/tcp-proxy.ts';
import { describeRateLimiterSuite } from './rate-limiter.suite.ts';

const keyPrefix = testKeyPrefix();
let client: Redis;
let second: Redis;

beforeAll(async () => {
  client = await connectTestRedis();
  second = await connectTestRedis();
});

afterAll(async () => {
  await deleteKeys(client, keyPrefix);
  await Promise.all([client.quit(), second.quit()]);
});

describeRateLimiterSuite('Redis', () => createRedisRateLimiter({ client, keyPrefix }));

describe('Redis rate limiter across instances', () => {
  it('admits exactly the limit in total to two instances bursting at once', async () => {
    const a = createRedisRateLimiter({ client, keyPrefix });
    const b = createRedisRateLimiter({ client: second, keyPrefix });
    const decisions = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? a : b).consume('rate:shared', 25)),
    );
    expect(decisions.filter((d) => d.allowed)).toHaveLength(25);
    // Each instance sees the other's requests: the bucket is empty for both now.
    expect(await a.consume('rate:shared', 25)).toMatchObject({ allowed: false });
    expect(await b.consume('rate:shared', 25)).toMatchObject({ allowed: false });
  });

  it('keeps one key per bucket under the prefix, expiring when the bucket is full again', async () => {
    const limiter = createRedisRateLimiter({ client, keyPrefix });
    await limiter.consume('rate:ttl', 60);
    const ttl = await client.pttl(`${keyPrefix}rate:ttl`);
    // One request of 60 per minute refills in 1 s.
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1_000);
    expect(await client.get(`${keyPrefix}rate:ttl`)).toMatch(/^\d+(\.\d+)?$/);
  });

  it('keeps other prefixes apart', async () => {
    const mine = createRedisRateLimiter({ client, keyPrefix });
    const theirs = createRedisRateLimiter({ client, keyPrefix: `${keyPrefix}other:` });
    expect(await mine.consume('rate:prefixed', 1)).toEqual({ allowed: true });
    expect(await theirs.consume('rate:prefixed', 1)).toEqual({ allowed: true });
    expect(await mine.consume('rate:prefixed', 1)).toMatchObject({ allowed: false });
  });

  it('answers ping while Redis is reachable and fails fast while it is not', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    const viaProxy = await connectTestRedis(proxy.url);
    try {
      const limiter = createRedisRateLimiter({ client: viaProxy, keyPrefix });
      expect(await limiter.ping()).toBe(true);
      proxy.cut();
      await expect.poll(() => limiter.ping()).toBe(false);
      // A request is refused with an error, not held until Redis is back.
      await expect(limiter.consume('rate:down', 10)).rejects.toThrow();
      proxy.restore();
      await expect.poll(() => limiter.ping(), { timeout: 10_000 }).toBe(true);
      expect(await limiter.consume('rate:down', 10)).toEqual({ allowed: true });
    } finally {
      viaProxy.disconnect();
      await proxy.close();
    }
  });
});
