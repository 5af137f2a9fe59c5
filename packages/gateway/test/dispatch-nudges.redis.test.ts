/**
 * Dispatch nudges on real Redis channels (one subscriber connection per instance): a nudge
 * reaches the other instances and not its sender, and a gap (a lost subscriber connection)
 * counts as a nudge, since one may have been missed meanwhile.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDispatchNudges } from '../src/pubsub/dispatch-nudges.ts';
import { openRedisChannels, type RedisChannels } from '../src/pubsub/redis-channels.ts';
import type { Redis } from '../src/redis.ts';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, testKeyPrefix } from './helpers/redis.ts';
import { startTcpProxyTo, type TcpProxy, throughProxy } from './helpers/tcp-proxy.ts';

const keyPrefix = testKeyPrefix();
let direct: Redis;
let viaProxy: Redis;
let proxy: TcpProxy;
const opened: RedisChannels[] = [];

beforeAll(async () => {
  direct = await connectTestRedis();
  proxy = await startTcpProxyTo(TEST_REDIS_URL);
  viaProxy = await connectTestRedis(throughProxy(proxy, TEST_REDIS_URL));
});

afterAll(async () => {
  await Promise.all(opened.map((channels) => channels.close()));
  viaProxy?.disconnect();
  await proxy?.close();
  await deleteKeys(direct, keyPrefix);
  await direct.quit();
});

/** An instance's nudges; `received` resolves at its next nudge from elsewhere. */
async function instance(client: Redis, instanceId: string) {
  const channels = await openRedisChannels({ client, keyPrefix });
  opened.push(channels);
  let count = 0;
  let next: () => void = () => {};
  const nudges = await openDispatchNudges({
    channels,
    instanceId,
    onNudge: () => {
      count++;
      next();
    },
  });
  return {
    nudges,
    count: () => count,
    received: () =>
      new Promise<void>((resolve) => {
        next = resolve;
      }),
  };
}

it('nudges the other instances, never the sender', async () => {
  const a = await instance(direct, 'inst_a');
  const b = await instance(direct, 'inst_b');
  const bNudged = b.received();
  a.nudges.send();
  await bNudged;
  // Redis ran A's PUBLISH before B's, so A's subscriber got its own nudge first: ignored.
  const aNudged = a.received();
  b.nudges.send();
  await aNudged;
  expect([a.count(), b.count()]).toEqual([1, 1]);
  a.nudges.close();
  b.nudges.close();
});

it('nudges itself after a gap, when a nudge may have been lost', async () => {
  const cutOff = await instance(viaProxy, 'inst_cut_off');
  const gap = cutOff.received();
  proxy.cut();
  proxy.restore();
  await gap;
  expect(cutOff.count()).toBe(1);
  cutOff.nudges.close();
});
