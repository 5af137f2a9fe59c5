/**
 * Fan-out through the real server: many graphql-ws subscribers of one job, with one key, share
 * one execution. Seen from pub/sub: one subscription to the job's topic, each event read once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMemoryPubSub } from '../src/pubsub/memory.ts';
import { type PubSub, topics } from '../src/pubsub/pubsub.ts';
import {
  collect,
  type GatewayHarness,
  GENERATE,
  JOB_UPDATED,
  startGatewayHarness,
} from './helpers/gateway-harness.ts';

/** Memory pub/sub that counts, per topic, subscriptions made and events read by consumers. */
function countingPubSub() {
  const inner = createMemoryPubSub();
  const subscriptions = new Map<string, number>();
  const reads = new Map<string, number>();
  const publishes = new Map<string, number>();
  const bump = (map: Map<string, number>, topic: string) =>
    map.set(topic, (map.get(topic) ?? 0) + 1);
  const pubsub: PubSub = {
    publish(topic, event) {
      bump(publishes, topic);
      return inner.publish(topic, event);
    },
    async subscribe(topic, signal) {
      bump(subscriptions, topic);
      const events = await inner.subscribe(topic, signal);
      return (async function* () {
        for await (const event of events) {
          bump(reads, topic);
          yield event;
        }
      })();
    },
    close: () => inner.close(),
  };
  return { pubsub, subscriptions, reads, publishes };
}

const counting = countingPubSub();
let h: GatewayHarness;

beforeAll(async () => {
  h = await startGatewayHarness({ pubsub: counting.pubsub, maxSubscriptionsPerSocket: 100 });
});
afterAll(() => h.close());

it('executes a subscription shared by many subscribers once per event', async () => {
  const { secret } = await h.createKey();
  const other = await h.createKey({ scopes: ['admin'] });
  // About 2 s at the test time scale: every subscriber has joined long before it ends.
  const { body } = await h.graphql(GENERATE, {
    key: secret,
    variables: {
      input: {
        prompt: 'fan-out',
        imageSize: 'SQUARE_1_1',
        model: 'Z_IMAGE_BASE',
        numInferenceSteps: 100,
        numImages: 4,
      },
    },
  });
  const id = (body.data as { generateImage: { id: string } }).generateImage.id;
  const topic = topics.job(id);

  const subscribers = 25;
  const outcomes = await Promise.all([
    ...Array.from({ length: subscribers }, () => collect(h.wsClient(secret), JOB_UPDATED, { id })),
    // Another caller (an admin) gets a source of its own.
    collect(h.wsClient(other.secret), JOB_UPDATED, { id }),
  ]);

  for (const results of outcomes) {
    const states = results.map((r) => (r.data as { jobUpdated: { status: string } }).jobUpdated);
    expect(states.at(-1)?.status).toBe('COMPLETED');
  }
  // One source for the key's 25 subscribers, one for the admin.
  expect(counting.subscriptions.get(topic)).toBe(2);
  // Each source read each event once, whatever the number of its subscribers.
  expect(counting.reads.get(topic)).toBeLessThanOrEqual(2 * (counting.publishes.get(topic) ?? 0));
  const metrics = await (await fetch(`${h.gateway.url}/metrics`)).text();
  expect(metrics).toMatch(/^zimage_subscription_sources 0$/m);
});

it('sends shared results to each subscription of one socket under its own id, in order', async () => {
  const { secret } = await h.createKey();
  const { body } = await h.graphql(GENERATE, {
    key: secret,
    variables: { input: { prompt: 'two on one socket', imageSize: 'SQUARE_1_1' } },
  });
  const id = (body.data as { generateImage: { id: string } }).generateImage.id;
  // One lazy client: both subscriptions share its socket (graphql-ws routes by id).
  const client = h.wsClient(secret);
  const outcomes = await Promise.all([
    collect(client, JOB_UPDATED, { id }),
    collect(client, JOB_UPDATED, { id }),
  ]);
  const order = ['QUEUED', 'PROCESSING', 'COMPLETED'];
  for (const results of outcomes) {
    const statuses = results.map(
      (r) => (r.data as { jobUpdated: { id: string; status: string } }).jobUpdated.status,
    );
    expect(statuses.at(-1)).toBe('COMPLETED');
    const ranks = statuses.map((status) => order.indexOf(status));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    for (const result of results) expect(result.errors).toBeUndefined();
  }
});
