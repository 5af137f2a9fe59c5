import { describe, expect, it } from 'vitest';
import { connectRedis, redactRedisUrl } from '../src/redis.ts';
import { TEST_REDIS_URL } from './helpers/redis.ts';
import { startTcpProxy } from './helpers/tcp-proxy.ts';

describe('Redis connections', () => {
  it('connects and answers commands', async () => {
    const client = await connectRedis(TEST_REDIS_URL);
    try {
      expect(await client.ping()).toBe('PONG');
    } finally {
      await client.quit();
    }
  });

  it('refuses to start against an unreachable Redis, naming it and why, without its password', async () => {
    // A port that nothing listens on: a proxy closed at once frees one.
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    const port = new URL(proxy.url).port;
    await proxy.close();
    const attempt = connectRedis(`redis://:s3cret@127.0.0.1:${port}`);
    await expect(attempt).rejects.toThrow(
      new RegExp(
        `^Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port} is unreachable: .*ECONNREFUSED`,
      ),
    );
    await expect(attempt).rejects.not.toThrow(/s3cret/);
  });

  it('redacts only the password of a URL', () => {
    expect(redactRedisUrl('redis://user:pw@redis.internal:6380/2')).toBe(
      'redis://user:***@redis.internal:6380/2',
    );
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactRedisUrl('not a url')).toBe('(an unparsable Redis URL)');
  });
});
