/**
 * The job subscriptions' streams over the Redis pub/sub, through a connection the test cuts:
 * what changes while the subscriber is away is published and lost, and the streams still end
 * up with every state, from the store. The publishing side is another "instance": the real job
 * writer over its own, uncut connection.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { JobRecord } from '../src/domain/job.ts';
import { silentLogger } from '../src/domain/logger.ts';
import type { ApiKeyRecord } from '../src/domain/principal.ts';
import { createJobWriter, type JobWriter } from '../src/jobs/job-writer.ts';
import { type PubSub, topics } from '../src/pubsub/pubsub.ts';
import { createRedisPubSub } from '../src/pubsub/redis.ts';
import { openRedisChannels, type RedisChannels } from '../src/pubsub/redis-channels.ts';
import type { Redis } from '../src/redis.ts';
import { openSqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/store.ts';
import { followJob, jobChanges } from '../src/subscriptions/job-streams.ts';
import { DAY, newJob, storedKey } from './fixtures/records.ts';
import { connectTestRedis, deleteKeys, testKeyPrefix } from './helpers/redis.ts';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.ts';

const keyPrefix = testKeyPrefix();
let direct: Redis;
let viaProxy: Redis;
let proxy: TcpProxy;
let channels: RedisChannels[];
/** The subscribing instance, whose connection the test cuts. */
let following: PubSub;
let writer: JobWriter;
let store: Store;
let key: ApiKeyRecord;

beforeAll(async () => {
  direct = await connectTestRedis();
  proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
  viaProxy = await connectTestRedis(proxy.url);
  channels = await Promise.all(
    [viaProxy, direct].map((client) => openRedisChannels({ client, keyPrefix })),
  );
  following = createRedisPubSub({ channels: channels[0] as RedisChannels });
  store = openSqliteStore(':memory:');
  writer = createJobWriter({
    store,
    pubsub: createRedisPubSub({ channels: channels[1] as RedisChannels }),
    logger: silentLogger,
    onTerminal() {},
  });
});

afterAll(async () => {
  await following.close();
  await Promise.all(channels.map((c) => c.close()));
  await deleteKeys(direct, keyPrefix);
  viaProxy.disconnect();
  await Promise.all([direct.quit(), proxy.close(), store.close()]);
});

beforeEach(async () => {
  key = await storedKey(store);
});

/** A job admitted now (so that it counts as a recent change) and announced. */
async function admitted(overrides: Partial<JobRecord> = {}): Promise<JobRecord> {
  const now = new Date();
  const job = newJob(key, { createdAt: now, updatedAt: now, ...overrides });
  await store.admitJob({ job, day: DAY, keyLimits: key.limits, endUserLimits: null });
  await writer.publish(job);
  return job;
}

const change = (job: JobRecord, patch: Parameters<Store['updateJob']>[2]) =>
  writer.change(job.id, () => patch);

/** Redis subscribers of a topic's channel, over all connections. */
async function subscribers(topic: string): Promise<number> {
  const [, count] = (await direct.pubsub('NUMSUB', `${keyPrefix}events:${topic}`)) as [
    string,
    number,
  ];
  return count;
}

/** Cuts the subscriber's connection and waits until Redis no longer counts it on `topic`. */
async function cutOff(topic: string): Promise<void> {
  proxy.cut();
  await expect.poll(() => subscribers(topic)).toBe(0);
}

const label = (job: JobRecord) => `${job.id}@${job.version}`;

async function nextValue(stream: AsyncIterator<JobRecord>): Promise<string> {
  const step = await stream.next();
  if (step.done) throw new Error('the stream ended');
  return label(step.value);
}

/** jobUpdated's stream of `job`, its first value (the current state, version 1) read. */
async function followed(job: JobRecord): Promise<AsyncIterator<JobRecord>> {
  const stream = await followJob(
    following,
    job.id,
    async () => (await store.getJob(job.id)) as JobRecord,
  );
  expect(await nextValue(stream)).toBe(`${job.id}@1`);
  return stream;
}

describe('jobUpdated over Redis, across a dropped connection', () => {
  it('re-reads the job after the gap and follows it to its end', async () => {
    const job = await admitted();
    const stream = await followed(job);
    await change(job, { status: 'PROCESSING' });
    expect(await nextValue(stream)).toBe(`${job.id}@2`);

    await cutOff(topics.job(job.id));
    await change(job, { submission: 'submitted', requestId: 'z-image-turbo_gap' });
    proxy.restore();
    expect(await nextValue(stream)).toBe(`${job.id}@3`);

    await change(job, { status: 'COMPLETED' });
    expect(await nextValue(stream)).toBe(`${job.id}@4`);
    expect((await stream.next()).done).toBe(true);
  });

  it('yields nothing for a gap that hid no change', async () => {
    const job = await admitted();
    const stream = await followed(job);
    await cutOff(topics.job(job.id));
    proxy.restore();
    await expect.poll(() => subscribers(topics.job(job.id))).toBe(1);
    // Subscribed again: the gap comes before this event (or, read in the same chunk, right
    // after it). Re-reading the job then finds the version the stream already gave.
    await writer.publish({ ...job, version: 2, status: 'CANCELLED' });
    expect(await nextValue(stream)).toBe(`${job.id}@2`);
    expect((await stream.next()).done).toBe(true);
  });
});

describe('myJobs over Redis, across a dropped connection', () => {
  it('replays each change made while away, once, then goes on live', async () => {
    const stream = await jobChanges(following, store, topics.owner(key.id), {
      ownerKeyId: key.id,
    });
    const seenBefore = await admitted();
    const changedWhileAway = await admitted();
    expect([await nextValue(stream), await nextValue(stream)]).toEqual([
      `${seenBefore.id}@1`,
      `${changedWhileAway.id}@1`,
    ]);

    await cutOff(topics.owner(key.id));
    const createdWhileAway = await admitted();
    await change(changedWhileAway, { status: 'PROCESSING' });
    // Another key's job: not this feed's, whatever the store holds.
    const otherKey = await storedKey(store);
    const foreign = newJob(otherKey, { createdAt: new Date(), updatedAt: new Date() });
    await store.admitJob({
      job: foreign,
      day: DAY,
      keyLimits: otherKey.limits,
      endUserLimits: null,
    });
    proxy.restore();

    // Replayed in the order of their changes; `seenBefore`, unchanged, is not sent again.
    const replayed = [await nextValue(stream), await nextValue(stream)];
    expect(replayed.sort()).toEqual(
      [`${createdWhileAway.id}@1`, `${changedWhileAway.id}@2`].sort(),
    );
    await change(createdWhileAway, { status: 'PROCESSING' });
    expect(await nextValue(stream)).toBe(`${createdWhileAway.id}@2`);
    await stream.return?.();
  });
});
