/**
 * Three gateway instances on ONE PostgreSQL database and ONE Redis prefix, with one simulator as
 * Pixazo: what a client sees does not depend on which instance it talks to. Every instance's
 * PUBLIC_URL is C's (through a gate the test can hold), so Pixazo's callbacks all land on C,
 * and a job cannot end before the test releases the gate. All three share one image directory,
 * as a deployment shares a volume. B reaches Redis through a TCP proxy the test cuts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PixazoSim } from '@zimage/pixazo-sim';
import type { ExecutionResult } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Redis } from '../src/redis.ts';
import {
  type GatewayHarness,
  GENERATE,
  type GraphqlResponse,
  JOB_UPDATED,
  startGatewayHarness,
  startTestSim,
} from './helpers/gateway-harness.ts';
import { usePostgresDatabase } from './helpers/postgres.ts';
import {
  connectTestRedis,
  deleteKeys,
  QUICK_RECONNECT,
  TEST_REDIS_URL,
  testKeyPrefix,
} from './helpers/redis.ts';
import { startTcpProxyTo, type TcpProxy, throughProxy } from './helpers/tcp-proxy.ts';
import { startWebhookGate, type WebhookGate } from './helpers/webhook-gate.ts';

const database = usePostgresDatabase();
const keyPrefix = testKeyPrefix();
const ADMIN_API_KEY = 'zk_admin-secret-of-the-scale-out-test';

let redis: Redis;
let sim: PixazoSim;
let gate: WebhookGate;
let redisProxyOfB: TcpProxy;
let dataDir: string;
let a: GatewayHarness;
let b: GatewayHarness;
let c: GatewayHarness;

beforeAll(async () => {
  redis = await connectTestRedis();
  sim = await startTestSim();
  gate = await startWebhookGate(() => c.gateway.url);
  redisProxyOfB = await startTcpProxyTo(TEST_REDIS_URL);
  dataDir = await mkdtemp(path.join(tmpdir(), 'zimage-scaleout-'));
  const instance = (redisUrl: string) =>
    startGatewayHarness({
      sharedSim: sim,
      dataDir,
      databaseUrl: database.url,
      redisUrl,
      redisKeyPrefix: keyPrefix,
      redisOptions: QUICK_RECONNECT,
      adminApiKey: ADMIN_API_KEY,
      publicUrl: gate.url,
      // Safety-net polls only after a minute: within these tests, C's callbacks end the jobs.
      engine: { safetyNet: { firstDelayMs: 60_000, intervalMs: 60_000 } },
      // Jobs held at the gate keep their places: room enough that none waits for one here.
      pixazoMaxConcurrency: 100,
    });
  a = await instance(TEST_REDIS_URL);
  b = await instance(throughProxy(redisProxyOfB, TEST_REDIS_URL));
  c = await instance(TEST_REDIS_URL);
}, 30_000); // three gateway starts on a busy machine

afterAll(async () => {
  gate?.release();
  for (const h of [a, b, c]) await h?.close();
  await gate?.close();
  await redisProxyOfB?.close();
  await sim?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  await deleteKeys(redis, keyPrefix);
  await redis.quit();
});

type Job = { id: string; status: string; images: { url: string }[] };

const jobOf = (result: ExecutionResult) => (result.data as { jobUpdated: Job }).jobUpdated;
const ORDER = ['QUEUED', 'PROCESSING', 'COMPLETED'];

const generateIn = (h: GatewayHarness, key: string, prompt: string) =>
  h.graphql(GENERATE, { key, variables: { input: { prompt, imageSize: 'SQUARE_1_1' } } });

async function generate(h: GatewayHarness, key: string, prompt: string): Promise<string> {
  const { body } = await generateIn(h, key, prompt);
  expect(body.errors).toBeUndefined();
  return (body.data as { generateImage: Job }).generateImage.id;
}

/** A jobUpdated subscription on `h`, resolved with its results once it completes. */
function follow(h: GatewayHarness, key: string, id: string) {
  const results: ExecutionResult[] = [];
  let first: () => void = () => {};
  const started = new Promise<void>((resolve) => {
    first = resolve;
  });
  const done = new Promise<ExecutionResult[]>((resolve, reject) => {
    h.wsClient(key).subscribe(
      { query: JOB_UPDATED, variables: { id } },
      {
        next: (result) => {
          results.push(result as ExecutionResult);
          first();
        },
        error: reject,
        complete: () => resolve(results),
      },
    );
  });
  return { started, done, statuses: () => results.map((r) => jobOf(r).status) };
}

const isOrdered = (statuses: string[]) => {
  const ranks = statuses.map((status) => ORDER.indexOf(status));
  return !ranks.includes(-1) && ranks.every((rank, i) => i === 0 || rank >= (ranks[i - 1] ?? 0));
};

/**
 * `count` requests at once, spread round-robin over A, B and C: how many got each outcome
 * (an error code, or OK).
 */
async function burst(
  count: number,
  request: (h: GatewayHarness, i: number) => Promise<GraphqlResponse>,
): Promise<Record<string, number>> {
  const answers = await Promise.all(
    Array.from({ length: count }, (_, i) => request([a, b, c][i % 3] as GatewayHarness, i)),
  );
  const outcomes: Record<string, number> = {};
  for (const { body } of answers) {
    const outcome = String(body.errors?.[0]?.extensions?.code ?? 'OK');
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  return outcomes;
}

async function webhookUpdates(h: GatewayHarness): Promise<number> {
  const metrics = await (await fetch(`${h.gateway.url}/metrics`)).text();
  return Number(/zimage_job_updates_total\{source="webhook"\} (\d+)/.exec(metrics)?.[1] ?? 0);
}

/** Real peers on a machine other processes keep busy: waits are for events, bounded loosely. */
const SLOW_MACHINE = { timeout: 20_000 };

describe('three instances on one database and one Redis', SLOW_MACHINE, () => {
  it('shows a subscriber on B a job admitted on A, from its current state to COMPLETED', async () => {
    const { secret } = await a.createKey();
    gate.hold();
    const id = await generate(a, secret, 'admitted on A');
    const followed = follow(b, secret, id);
    await followed.started;
    // The callback is held at the gate: the job has not ended, B must learn that from A's events.
    expect(followed.statuses()).not.toContain('COMPLETED');
    gate.release();
    const results = await followed.done;
    const statuses = results.map((r) => jobOf(r).status);
    expect(statuses.at(-1)).toBe('COMPLETED');
    expect(isOrdered(statuses)).toBe(true);
    const image = await fetch(jobOf(results.at(-1) as ExecutionResult).images[0]?.url ?? '');
    expect(image.status).toBe(200);
  });

  it('shows myJobs on C the jobs created on A', async () => {
    const { secret, record } = await a.createKey();
    const completed = new Set<string>();
    const channel = `${keyPrefix}events:owner:${record.id}`;
    let bothDone: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      bothDone = resolve;
    });
    c.wsClient(secret).subscribe(
      { query: 'subscription { myJobs { id status } }' },
      {
        next: (result) => {
          const job = (result.data as { myJobs: { id: string; status: string } }).myJobs;
          if (job.status === 'COMPLETED') completed.add(job.id);
          if (completed.size === 2) bothDone();
        },
        error: () => {},
        complete: () => {},
      },
    );
    // The jobs start once C's subscription is live (Redis has its SUBSCRIBE).
    await vi.waitFor(
      async () => expect(await redis.pubsub('NUMSUB', channel)).toEqual([channel, 1]),
      SLOW_MACHINE,
    );
    const ids = [await generate(a, secret, 'first on A'), await generate(a, secret, 'second on A')];
    await done;
    expect([...completed].sort()).toEqual([...ids].sort());
  });

  it('completes jobs submitted on A and B by callbacks that land on C only', async () => {
    const { secret } = await a.createKey();
    const before = await Promise.all([a, b, c].map(webhookUpdates));
    gate.hold();
    const onA = await generate(a, secret, 'submitted on A, called back on C');
    const onB = await generate(b, secret, 'submitted on B, called back on C');
    const followA = follow(a, secret, onA);
    const followB = follow(b, secret, onB);
    await Promise.all([followA.started, followB.started]);
    gate.release();
    const [resultsA, resultsB] = await Promise.all([followA.done, followB.done]);
    expect(jobOf(resultsA.at(-1) as ExecutionResult).status).toBe('COMPLETED');
    expect(jobOf(resultsB.at(-1) as ExecutionResult).status).toBe('COMPLETED');
    const after = await Promise.all([a, b, c].map(webhookUpdates));
    expect(after[0]).toBe(before[0]);
    expect(after[1]).toBe(before[1]);
    expect(after[2]).toBe((before[2] ?? 0) + 2);
  });

  it('lets exactly requestsPerMinute requests through across the three', async () => {
    const limit = 5;
    const { secret } = await a.createKey({ limits: { requestsPerMinute: limit } });
    const outcomes = await burst(15, (h) => h.graphql('{ viewer { name } }', { key: secret }));
    expect(outcomes).toEqual({ OK: limit, RATE_LIMITED: 15 - limit });
  });

  it('keeps a daily budget exactly across the three', async () => {
    // Z_IMAGE_TURBO, one image: $0.008; the budget holds five.
    const { secret } = await a.createKey({ limits: { dailyBudgetMicroUsd: 40_000 } });
    const submitsBefore = sim.countRequests({ route: 'submit' });
    const outcomes = await burst(12, (h, i) => generateIn(h, secret, `budget ${i}`));
    expect(outcomes).toEqual({ OK: 5, BUDGET_EXCEEDED: 7 });
    const { body } = await c.graphql('{ viewer { usage { spentTodayUsd } } }', { key: secret });
    expect(body.data?.viewer).toEqual({ usage: { spentTodayUsd: 0.04 } });
    await vi.waitFor(
      () => expect(sim.countRequests({ route: 'submit' })).toBe(submitsBefore + 5),
      SLOW_MACHINE,
    );
  });

  it('keeps a concurrent-jobs cap exactly across the three', async () => {
    const cap = 3;
    const { secret } = await a.createKey({ limits: { maxConcurrentJobs: cap } });
    gate.hold(); // no job ends, so no slot frees up during the burst
    const outcomes = await burst(9, (h, i) => generateIn(h, secret, `capped ${i}`));
    expect(outcomes).toEqual({ OK: cap, RATE_LIMITED: 9 - cap });
    const { body } = await b.graphql('{ viewer { usage { jobsInFlight } } }', { key: secret });
    expect(body.data?.viewer).toEqual({ usage: { jobsInFlight: cap } });
    gate.release();
  });

  it('loses no state change for a subscriber on B whose Redis drops mid-job', async () => {
    const { secret } = await a.createKey();
    gate.hold();
    const id = await generate(a, secret, 'through a Redis outage');
    const followed = follow(b, secret, id);
    await followed.started;
    redisProxyOfB.cut();
    gate.release();
    // The job ends while B cannot hear about it: A publishes COMPLETED to nobody on B.
    await vi.waitFor(
      async () => expect((await a.gateway.store.getJob(id))?.status).toBe('COMPLETED'),
      SLOW_MACHINE,
    );
    expect(followed.statuses()).not.toContain('COMPLETED');
    redisProxyOfB.restore();
    const statuses = (await followed.done).map((r) => jobOf(r).status);
    expect(statuses.at(-1)).toBe('COMPLETED');
    expect(isOrdered(statuses)).toBe(true);
  });
});
