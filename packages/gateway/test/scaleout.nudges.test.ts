/**
 * Dispatch nudges over Redis: two gateway instances on one PostgreSQL database and one Redis
 * prefix, whose dispatch polls are ten minutes apart, so only a nudge can make one of them
 * claim within the test. The place under the global cap (1) frees up on an instance that is
 * shutting down, which dispatches nothing itself: the other one must claim the waiting job.
 */
import type { PixazoSim } from '@zimage/pixazo-sim';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitForJob } from './helpers/engine-harness.ts';
import {
  type GatewayHarness,
  GENERATE,
  startGatewayHarness,
  startTestSim,
  TEST_POLL_SCHEDULE,
} from './helpers/gateway-harness.ts';
import { queryDatabase, usePostgresDatabase } from './helpers/postgres.ts';
import { connectTestRedis, deleteKeys, TEST_REDIS_URL, testKeyPrefix } from './helpers/redis.ts';

const database = usePostgresDatabase();
const keyPrefix = testKeyPrefix();
/** The first POST's timeout: the instance holding it is shutting down well before it ends. */
const SUBMIT_TIMEOUT_MS = 5000;

let sim: PixazoSim;
const instances: GatewayHarness[] = [];

beforeAll(async () => {
  sim = await startTestSim();
  for (let i = 0; i < 2; i++) {
    instances.push(
      await startGatewayHarness({
        sharedSim: sim,
        databaseUrl: database.url,
        redisUrl: TEST_REDIS_URL,
        redisKeyPrefix: keyPrefix,
        pixazoMaxConcurrency: 1,
        engine: {
          pollSchedule: TEST_POLL_SCHEDULE,
          // Neither polls for pending jobs nor adopts within the test: only nudges dispatch.
          dispatchIntervalMs: 600_000,
          instances: { heartbeatMs: 600_000, ttlMs: 1_200_000, submitTimeoutMs: SUBMIT_TIMEOUT_MS },
        },
      }),
    );
  }
}, 30_000);

afterAll(async () => {
  for (const h of instances) await h.close();
  await sim?.close();
  const redis = await connectTestRedis();
  await deleteKeys(redis, keyPrefix);
  await redis.quit();
});

/** The instance that claimed the job (owner_instance, not part of the job record). */
async function ownerOf(jobId: string): Promise<string | null> {
  const [row] = await queryDatabase<{ owner_instance: string | null }>(
    database.url,
    'SELECT owner_instance FROM jobs WHERE id = $1',
    [jobId],
  );
  return row?.owner_instance ?? null;
}

async function generate(h: GatewayHarness, key: string, prompt: string): Promise<string> {
  const { body } = await h.graphql(GENERATE, {
    key,
    variables: { input: { prompt, imageSize: 'SQUARE_1_1' } },
  });
  expect(body.errors).toBeUndefined();
  return (body.data as { generateImage: { id: string } }).generateImage.id;
}

it('has another instance claim at once the job a stopping instance made room for', async () => {
  const [first, second] = instances as [GatewayHarness, GatewayHarness];
  const { secret } = await first.createKey();
  // The first POST gets no answer before its timeout: its job holds the only place till then.
  sim.setFaults({ slow: { next: 1, delayMs: 60_000 } });
  const held = await generate(first, secret, 'holds the only place');
  await waitForJob(first.gateway, held, (job) => job.submission === 'submitting');
  const holderId = await ownerOf(held);
  const holder = instances.find((h) => h.gateway.engine.instanceId === holderId);
  const other = instances.find((h) => h !== holder);
  if (!holder || !other) throw new Error(`no instance claimed ${held} (owner ${holderId})`);

  const waiting = await generate(second, secret, 'waits for the place');
  expect(await other.gateway.engine.queuePosition(waiting)).toBe(1);
  // Shutting down, the holder claims nothing; its POST times out meanwhile and frees the place.
  const closed = holder.close();
  const done = await waitForJob(other.gateway, waiting);
  expect(done.status).toBe('COMPLETED');
  expect(await ownerOf(waiting)).toBe(other.gateway.engine.instanceId);
  await closed;
  expect(await other.gateway.store.getJob(held)).toMatchObject({
    status: 'ERROR',
    error: expect.stringContaining('outcome of its submission is unknown'),
  });
  expect(sim.countRequests({ route: 'submit' })).toBe(2);
}, 30_000);
