/**
 * The machine's Redis for tests (REDIS_URL overrides 127.0.0.1:6379). Each test file works
 * under its own random key prefix and deletes only the keys under it; nothing here flushes,
 * kills clients or flushes scripts. An unreachable Redis fails the test with the reason.
 */
import { randomUUID } from 'node:crypto';
import { connectRedis, type Redis, type RedisOptions } from '../../src/redis.ts';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Reconnects quickly: tests cut connections on purpose and wait for them to come back. */
export const QUICK_RECONNECT: RedisOptions = { retryStrategy: () => 20 };

export function testKeyPrefix(): string {
  return `zimage-test:${randomUUID()}:`;
}

export async function connectTestRedis(url = TEST_REDIS_URL): Promise<Redis> {
  try {
    return await connectRedis(url, { redis: QUICK_RECONNECT });
  } catch (error) {
    throw new Error(
      `These tests need a Redis server (REDIS_URL, default ${TEST_REDIS_URL}): ${(error as Error).message}`,
    );
  }
}

/** Deletes every key under `prefix` (and only those). */
export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}
