/**
 * The gateway's subscriptions and rate limits on Redis (the pieces scale-out wires in): graphql-ws
 * subscribers sharing one execution over the Redis pub/sub, and a key's requests per minute
 * counted in Redis.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRedisRateLimiter } from '../src/limits/redis-rate-limiter.ts';
import { createRedisPubSub } from '../src/pubsub/redis.ts';
import { openRedisChannels, type RedisChannels } from '../src/pubsub/redis-channels.ts';
import type { Redis } from '../src/redis.ts';
import {
  collect,
  type GatewayHarness,
  GENERATE,
  JOB_UPDATED,
  startGatewayHarness,
} from './helpers/gateway-harness.ts';
import { connectTestRedis, deleteKeys, testKeyPrefix } from './helpers/redis.ts';

const keyPrefix = testKeyPrefix();
let client: Redis;
let channels: RedisChannels;
let h: GatewayHarness;

beforeAll(async () => {
  client = await connectTestRedis();
  channels = await openRedisChannels({ client, keyPrefix });
  h = await startGatewayHarness({
    pubsub: createRedisPubSub({ channels }),
    rateLimiter: createRedisRateLimiter({ client, keyPrefix }),
  });
});

afterAll(async () => {
  await h?.close();
  await channels?.close();
  await deleteKeys(client, keyPrefix);
  await client.quit();
});

it('follows a job from its current state to COMPLETED for every subscriber of one source', async () => {
  const { secret } = await h.createKey();
  const { body } = await h.graphql(GENERATE, {
    key: secret,
    variables: {
      input: {
        prompt: 'over redis',
        imageSize: 'SQUARE_1_1',
        model: 'Z_IMAGE_BASE',
        numInferenceSteps: 100,
      },
    },
  });
  const id = (body.data as { generateImage: { id: string } }).generateImage.id;
  const outcomes = await Promise.all(
    Array.from({ length: 10 }, () => collect(h.wsClient(secret), JOB_UPDATED, { id })),
  );
  const order = ['QUEUED', 'PROCESSING', 'COMPLETED'];
  for (const results of outcomes) {
    const statuses = results.map(
      (r) => (r.data as { jobUpdated: { status: string } }).jobUpdated.status,
    );
    expect(statuses.at(-1)).toBe('COMPLETED');
    const ranks = statuses.map((status) => order.indexOf(status));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
  }
});

it('shows the caller’s job changes on myJobs', async () => {
  const watcher = await h.createKey();
  const channel = `${keyPrefix}events:owner:${watcher.record.id}`;
  const seen: string[] = [];
  const completed = new Promise<string>((resolve, reject) => {
    const unsubscribe = h.wsClient(watcher.secret).subscribe(
      { query: 'subscription { myJobs { id status } }' },
      {
        next: (result) => {
          const changed = (result.data as { myJobs: { id: string; status: string } }).myJobs;
          seen.push(changed.status);
          if (changed.status === 'COMPLETED') {
            unsubscribe();
            resolve(changed.id);
          }
        },
        error: reject,
        complete: () => {},
      },
    );
  });
  // The job starts once the subscription is live (Redis has its SUBSCRIBE).
  await expect.poll(() => client.pubsub('NUMSUB', channel)).toEqual([channel, 1]);
  const { body } = await h.graphql(GENERATE, {
    key: watcher.secret,
    variables: { input: { prompt: 'watched over redis', imageSize: 'SQUARE_1_1' } },
  });
  expect(await completed).toBe((body.data as { generateImage: { id: string } }).generateImage.id);
  expect(seen[0]).toBe('QUEUED');
});

it('counts a key’s requests per minute in Redis', async () => {
  const { secret, record } = await h.createKey({ limits: { requestsPerMinute: 2 } });
  const viewer = () => h.graphql('{ viewer { name } }', { key: secret });
  expect((await viewer()).body.errors).toBeUndefined();
  expect((await viewer()).body.errors).toBeUndefined();
  const refused = await viewer();
  expect(refused.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
  expect(await client.exists(`${keyPrefix}rate:key:${record.id}`)).toBe(1);
});
