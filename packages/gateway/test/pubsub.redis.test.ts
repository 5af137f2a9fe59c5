import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isGap, type PubSub, type TopicEvent } from '../src/pubsub/pubsub.ts';
import { createRedisPubSub, encodeJobEvent } from '../src/pubsub/redis.ts';
import { openRedisChannels, type RedisChannels } from '../src/pubsub/redis-channels.ts';
import type { Redis } from '../src/redis.ts';
import { connectTestRedis, deleteKeys, testKeyPrefix } from './helpers/redis.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';
import { jobEvent, pubSubSuite, take } from './pubsub.suite.ts';

const keyPrefix = testKeyPrefix();
let client: Redis;
const opened: RedisChannels[] = [];

async function channelsOver(over: Redis, heartbeatMs?: number): Promise<RedisChannels> {
  const channels = await openRedisChannels({ client: over, keyPrefix, heartbeatMs });
  opened.push(channels);
  return channels;
}

beforeAll(async () => {
  client = await connectTestRedis();
});

afterAll(async () => {
  await Promise.all(opened.map((channels) => channels.close()));
  await deleteKeys(client, keyPrefix);
  await client.quit();
});

pubSubSuite('Redis', {
  create: async () => createRedisPubSub({ channels: await channelsOver(client) }),
});

/** Redis subscribers of a topic's channel, over all connections. */
async function redisSubscribers(topic: string): Promise<number> {
  const [, count] = (await client.pubsub('NUMSUB', `${keyPrefix}events:${topic}`)) as [
    string,
    number,
  ];
  return count;
}

/** Reads a subscription step by step without ending it (a for-await break would). */
function reader(events: AsyncIterable<TopicEvent>) {
  const iterator = events[Symbol.asyncIterator]();
  const next = async (): Promise<TopicEvent> => {
    const step = await iterator.next();
    if (step.done) throw new Error('the subscription ended');
    return step.value;
  };
  return {
    next,
    /** `job@version` of the next `count` events; a gap fails the test. */
    async jobs(count: number): Promise<string[]> {
      const seen: string[] = [];
      while (seen.length < count) {
        const event = await next();
        if (isGap(event)) throw new Error('unexpected gap');
        seen.push(`${event.job.id}@${event.job.version}`);
      }
      return seen;
    },
  };
}

describe('Redis pub/sub', () => {
  it('subscribes a channel once for all local subscribers, and unsubscribes after the last', async () => {
    const pubsub = createRedisPubSub({ channels: await channelsOver(client) });
    const controllers = [new AbortController(), new AbortController(), new AbortController()];
    const subscriptions = await Promise.all(
      controllers.map(async (controller) =>
        reader(await pubsub.subscribe('job:counted', controller.signal)),
      ),
    );
    expect(await redisSubscribers('job:counted')).toBe(1);
    await pubsub.publish('job:counted', jobEvent('counted', 1));
    for (const events of subscriptions) expect(await events.jobs(1)).toEqual(['counted@1']);

    controllers[0]?.abort();
    controllers[1]?.abort();
    expect(await redisSubscribers('job:counted')).toBe(1);
    controllers[2]?.abort();
    await expect.poll(() => redisSubscribers('job:counted')).toBe(0);
    await pubsub.close();
  });

  it('is live across instances: what one publishes, the other receives', async () => {
    const a = createRedisPubSub({ channels: await channelsOver(client) });
    const b = createRedisPubSub({ channels: await channelsOver(await connectTestRedis()) });
    const events = await b.subscribe('job:across');
    await a.publish('job:across', jobEvent('across', 1));
    expect(await take(events, 1)).toEqual(['across@1']);
    await Promise.all([a.close(), b.close()]);
  });

  it('carries other messages (dispatch nudges) over the same subscriber connection', async () => {
    const channels = await channelsOver(client);
    const pubsub = createRedisPubSub({ channels });
    const events = await pubsub.subscribe('job:beside');
    let received!: (payload: string) => void;
    const nudged = new Promise<string>((resolve) => {
      received = resolve;
    });
    // Live once listen() resolves: a message published before that may be missed (one sent as
    // soon as Redis counted the subscriber could reach it before the listener was live).
    await channels.listen('dispatch', { message: (payload) => received(payload), gap: () => {} });
    expect(await client.pubsub('NUMSUB', `${keyPrefix}dispatch`)).toEqual([
      `${keyPrefix}dispatch`,
      1,
    ]);
    expect(await channels.publish('dispatch', 'wake up')).toBe(1);
    expect(await nudged).toBe('wake up');
    await pubsub.publish('job:beside', jobEvent('beside', 1));
    expect(await take(events, 1)).toEqual(['beside@1']);
    await pubsub.close();
  });

  it('drops a message that is not a job event and goes on', async () => {
    const channels = await channelsOver(client);
    const pubsub = createRedisPubSub({ channels });
    const events = await pubsub.subscribe('job:garbled');
    await channels.publish('events:job:garbled', 'not json');
    await pubsub.publish('job:garbled', jobEvent('garbled', 2));
    expect(await take(events, 1)).toEqual(['garbled@2']);
    await pubsub.close();
  });

  it('refuses to listen once its channels are closed', async () => {
    const channels = await openRedisChannels({ client, keyPrefix });
    await channels.close();
    await expect(channels.listen('late', { message() {}, gap() {} })).rejects.toThrow(/closed/);
  });
});

describe('Redis pub/sub when the subscriber connection drops', () => {
  let proxy: TcpProxy;
  let viaProxy: Redis;
  /** Publishes straight to Redis, like another instance whose connection is fine. */
  let publisher: PubSub;
  let publisherChannels: RedisChannels;

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    viaProxy = await connectTestRedis(proxy.url);
    publisherChannels = await channelsOver(client);
    publisher = createRedisPubSub({ channels: publisherChannels });
  });

  afterAll(async () => {
    viaProxy.disconnect();
    await proxy.close();
  });

  it('loses what is published while it is down, then reports a gap once live again', async () => {
    const channels = await channelsOver(viaProxy);
    const pubsub = createRedisPubSub({ channels });
    const events = reader(await pubsub.subscribe('job:dropped'));
    await publisher.publish('job:dropped', jobEvent('dropped', 1));
    expect(await events.jobs(1)).toEqual(['dropped@1']);

    const cutAt = Date.now();
    proxy.cut();
    await expect.poll(() => redisSubscribers('job:dropped')).toBe(0);
    expect(await channels.ping()).toBe(false);
    // Measured: Redis hands a message to the subscribers connected now, and there are none.
    const receivers = await publisherChannels.publish(
      'events:job:dropped',
      encodeJobEvent(jobEvent('dropped', 2)),
    );
    expect(receivers).toBe(0);

    proxy.restore();
    const gap = await events.next();
    expect(isGap(gap)).toBe(true);
    expect((gap as { since: Date }).since.getTime()).toBeLessThanOrEqual(cutAt);
    expect(await redisSubscribers('job:dropped')).toBe(1);
    await publisher.publish('job:dropped', jobEvent('dropped', 3));
    expect(await events.jobs(1)).toEqual(['dropped@3']);
    expect(await channels.ping()).toBe(true);
    await pubsub.close();
  });

  it('resolves a subscribe() made while it is down at once, with a gap once live', async () => {
    const channels = await channelsOver(viaProxy);
    const pubsub = createRedisPubSub({ channels });
    await pubsub.subscribe('job:warm');
    proxy.cut();
    await expect.poll(() => redisSubscribers('job:warm')).toBe(0);
    const subscribedAt = Date.now();
    const events = reader(await pubsub.subscribe('job:while-down'));
    proxy.restore();
    const gap = await events.next();
    expect(isGap(gap)).toBe(true);
    expect((gap as { since: Date }).since.getTime()).toBeLessThanOrEqual(subscribedAt);
    await publisher.publish('job:while-down', jobEvent('while-down', 1));
    expect(await events.jobs(1)).toEqual(['while-down@1']);
    await pubsub.close();
  });

  it('takes a connection that stops answering for dead, reconnects and reports the gap', async () => {
    const channels = await channelsOver(viaProxy, 50);
    const pubsub = createRedisPubSub({ channels });
    const events = reader(await pubsub.subscribe('job:silent'));
    proxy.freeze();
    // Redis still counts the frozen connection as a subscriber: this message is lost silently.
    expect(
      await publisherChannels.publish('events:job:silent', encodeJobEvent(jobEvent('silent', 1))),
    ).toBe(1);
    expect(isGap(await events.next())).toBe(true);
    await publisher.publish('job:silent', jobEvent('silent', 2));
    expect(await events.jobs(1)).toEqual(['silent@2']);
    await pubsub.close();
  });
});
