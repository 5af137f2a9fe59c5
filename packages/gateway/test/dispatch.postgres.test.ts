/**
 * Several job engines (instances) on one PostgreSQL database and one Pixazo simulator, as N
 * gateway processes would run: dispatch claims hold the global cap, a job ending anywhere frees
 * its place, queue positions agree, each submitted job has one tracker, and the jobs of a
 * stopped or silent instance are adopted without a second POST. The engines share one
 * in-process pub/sub (what Redis is across processes) and one images directory.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_POLL_SCHEDULE, PixazoClient } from '@zimage/core';
import { type PixazoSim, startPixazoSim } from '@zimage/pixazo-sim';
import { afterAll, afterEach, beforeEach, expect, it, vi } from 'vitest';
import { NO_LIMITS } from '../src/auth/api-keys.ts';
import type { JobRecord } from '../src/domain/job.ts';
import { type Logger, silentLogger } from '../src/domain/logger.ts';
import type { Principal } from '../src/domain/principal.ts';
import { newId } from '../src/ids.ts';
import type { ImageStore } from '../src/images/image-store.ts';
import { createLocalImageStore, openImageStore } from '../src/images/open-image-store.ts';
import type { JobEngine } from '../src/jobs/engine.ts';
import {
  createJobEngine,
  type JobEngineDeps,
  type JobEngineOptions,
} from '../src/jobs/job-engine.ts';
import { createJobTracker } from '../src/jobs/job-tracker.ts';
import { createJobWriter } from '../src/jobs/job-writer.ts';
import { STOPPED_WHILE_SUBMITTING } from '../src/jobs/submitter.ts';
import { createMemoryPubSub } from '../src/pubsub/memory.ts';
import type { PubSub } from '../src/pubsub/pubsub.ts';
import { openPostgresStore } from '../src/store/postgres.ts';
import type { Store } from '../src/store/store.ts';
import { newJob, newKey } from './fixtures/records.ts';
import { SIM_KEY, TEST_POLL_SCHEDULE, waitForJob } from './helpers/engine-harness.ts';
import { usePostgresDatabase } from './helpers/postgres.ts';
import { startTestS3, type TestS3 } from './helpers/s3-server.ts';

const database = usePostgresDatabase();

const turbo = { prompt: 'a lighthouse in fog', imageSize: 'square_1_1' } as const;
/** Long enough at the sim's time scale to still run when the test acts on it. */
const slow = { ...turbo, model: 'base', numInferenceSteps: 60 } as const;

type Pixazo = Pick<PixazoClient, 'submit' | 'getStatus' | 'streamDownload'>;

let url: string;
let sim: PixazoSim;
let pubsub: PubSub;
let dataDir: string;
let pixazo: PixazoClient;
let stores: Store[];
let engines: JobEngine[];
/** Which engine asked Pixazo for the status of which request. */
let statusReads: { engine: number; requestId: string }[];
/** Started by the first test that needs an S3 server. */
let s3: TestS3 | undefined;
const testS3 = async () => {
  s3 ??= await startTestS3();
  return s3;
};
afterAll(async () => {
  await s3?.close();
});

beforeEach(async () => {
  url = await database.freshSchema();
  sim = await startPixazoSim({ timeScale: 0.01, rateLimit: false });
  pubsub = createMemoryPubSub();
  dataDir = await mkdtemp(path.join(tmpdir(), 'zimage-dispatch-'));
  pixazo = new PixazoClient({
    apiKey: SIM_KEY,
    baseUrl: sim.url,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
  });
  stores = [];
  engines = [];
  statusReads = [];
});

afterEach(async () => {
  await Promise.all(engines.map((engine) => engine.stop()));
  await Promise.all(stores.map((store) => store.close()));
  await pubsub.close();
  await sim.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** An instance: its own store (pool) on the shared database, counted status reads. */
async function instance(
  options: Partial<JobEngineOptions> = {},
  wrap: {
    store?: (store: Store) => Store;
    pixazo?: (pixazo: Pixazo) => Pixazo;
    logger?: Logger;
    metrics?: JobEngineDeps['metrics'];
  } = {},
): Promise<{ engine: JobEngine; store: Store }> {
  const opened = await openPostgresStore(url);
  stores.push(opened);
  const store = wrap.store?.(opened) ?? opened;
  const index = engines.length;
  const counted: Pixazo = {
    submit: (input, submitOptions) => pixazo.submit(input, submitOptions),
    streamDownload: (mediaUrl, consume, downloadOptions) =>
      pixazo.streamDownload(mediaUrl, consume, downloadOptions),
    getStatus: (requestId, statusOptions) => {
      statusReads.push({ engine: index, requestId });
      return pixazo.getStatus(requestId, statusOptions);
    },
  };
  const engine = createJobEngine({
    store,
    pubsub,
    pixazo: wrap.pixazo?.(counted) ?? counted,
    images: createLocalImageStore({ dataDir }),
    logger: wrap.logger,
    metrics: wrap.metrics,
    options: {
      maxConcurrency: 4,
      maxPromptLength: 2000,
      pollSchedule: TEST_POLL_SCHEDULE,
      dispatchIntervalMs: 50,
      // Far above a busy machine's pauses: no live instance is taken for dead, no POST times out.
      instances: { heartbeatMs: 50, ttlMs: 5000, submitTimeoutMs: 10_000 },
      ...options,
    },
  });
  engines.push(engine);
  return { engine, store };
}

async function principal(store: Store): Promise<Principal> {
  const key = newKey({ limits: NO_LIMITS, endUserLimits: NO_LIMITS });
  await store.createApiKey(key);
  return { key, endUserId: null };
}

const listen = (store: Store) => ({ store, pubsub });

/** Most jobs running at once at the simulator, from when each was created to when it ended. */
function mostRunningAtSim(): number {
  const edges = sim.jobs().flatMap((job) => [
    { at: Date.parse(job.created_at), step: 1 },
    { at: Date.parse(job.ends_at), step: -1 },
  ]);
  // An end and a start at the same millisecond do not overlap.
  edges.sort((a, b) => a.at - b.at || a.step - b.step);
  let running = 0;
  let most = 0;
  for (const edge of edges) {
    running += edge.step;
    most = Math.max(most, running);
  }
  return most;
}

it('holds the global cap exactly across three instances under a burst, one POST per job', async () => {
  const all = await Promise.all([instance(), instance(), instance()]);
  const caller = await principal(all[0].store);
  await Promise.all(all.map(({ engine }) => engine.start()));

  const jobs = await Promise.all(
    Array.from({ length: 18 }, (_, i) => all[i % 3]?.engine.generate(caller, turbo)),
  );
  for (const job of jobs) {
    const done = await waitForJob(listen(all[0].store), job?.id as string);
    expect([done.status, done.error]).toEqual(['COMPLETED', null]);
  }
  expect(sim.countRequests({ route: 'submit' })).toBe(18);
  expect(sim.jobs()).toHaveLength(18);
  expect(mostRunningAtSim()).toBeLessThanOrEqual(4);
  expect(mostRunningAtSim()).toBeGreaterThan(1);

  // Each submitted job was followed by one instance only.
  const readers = new Map<string, Set<number>>();
  for (const { engine, requestId } of statusReads) {
    readers.set(requestId, (readers.get(requestId) ?? new Set()).add(engine));
  }
  expect(readers.size).toBe(18);
  for (const engineSet of readers.values()) expect(engineSet.size).toBe(1);
});

it('frees the place of a job claimed on A when it ends on B, so the queue moves on', async () => {
  const a = await instance({ maxConcurrency: 1 });
  const b = await instance({ maxConcurrency: 1 });
  const caller = await principal(a.store);
  await a.engine.start();
  const first = await a.engine.generate(caller, slow);
  const second = await a.engine.generate(caller, turbo);
  const sent = await waitForJob(listen(a.store), first.id, (job) => job.submission === 'submitted');
  expect(await b.engine.queuePosition(second.id)).toBe(1);

  await b.engine.start();
  // Ended through B's store (as a callback handled on B would), while A's tracker may write too.
  for (let job = sent; ; job = (await b.store.getJob(first.id)) as JobRecord) {
    const ended = { status: 'FAILED', completedAt: new Date() } as const;
    if ((await b.store.updateJob(first.id, job.version, ended)) !== null) break;
  }
  b.engine.nudge();
  const done = await waitForJob(listen(a.store), second.id);
  expect(done.status).toBe('COMPLETED');
  expect(sim.countRequests({ route: 'submit' })).toBe(2);
});

it('gives every instance the same queue positions', async () => {
  const all = await Promise.all([instance(), instance(), instance()]);
  const caller = await principal(all[0].store);
  const jobs = [];
  for (let i = 0; i < 6; i++) jobs.push(await all[i % 3]?.engine.generate(caller, turbo));
  for (const { engine } of all) {
    expect(await Promise.all(jobs.map((job) => engine.queuePosition(job?.id as string)))).toEqual([
      1, 2, 3, 4, 5, 6,
    ]);
  }
  await all[1].engine.cancel(caller, jobs[1]?.id as string);
  for (const { engine } of all) {
    expect(await engine.queuePosition(jobs[5]?.id as string)).toBe(5);
  }
});

it("adopts a stopped instance's submitted jobs on a live one, which finishes them", async () => {
  const a = await instance();
  const b = await instance();
  const caller = await principal(a.store);
  await b.engine.start();
  // B has no work yet: every pending job goes to A, which alone dispatches.
  await a.engine.start();
  const jobs = await Promise.all([0, 1, 2].map(() => a.engine.generate(caller, slow)));
  for (const job of jobs) {
    await waitForJob(listen(a.store), job.id, (j) => j.submission === 'submitted');
  }
  await a.engine.stop();
  const bIndex = engines.indexOf(b.engine);

  for (const job of jobs) {
    const done = await waitForJob(listen(b.store), job.id);
    expect(done.status).toBe('COMPLETED');
    expect(done.images).toHaveLength(1);
  }
  const requestIds = new Set(sim.jobs().map((job) => job.request_id));
  for (const requestId of requestIds) {
    expect(statusReads.some((read) => read.engine === bIndex && read.requestId === requestId)).toBe(
      true,
    );
  }
  expect(sim.countRequests({ route: 'submit' })).toBe(3);
});

/** `store` with some of its methods replaced. */
function overriding(store: Store, overrides: Partial<Store>): Store {
  return new Proxy(store, {
    get(target, name) {
      const own = Reflect.get(overrides, name);
      if (own !== undefined) return own;
      const value = Reflect.get(target, name);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * Wraps an instance that hangs in its first POST (after `send` ran it, or not) and from then on
 * no longer reaches the database (no heartbeat, no claim): to the others it looks dead.
 */
function silentMidPost(send: (real: Pixazo, ...args: Parameters<Pixazo['submit']>) => void) {
  let silent = false;
  let posted!: () => void;
  const postStarted = new Promise<void>((resolve) => {
    posted = resolve;
  });
  return {
    postStarted,
    wrap: {
      store: (store: Store) =>
        overriding(store, {
          heartbeat: (id) => (silent ? Promise.resolve() : store.heartbeat(id)),
          claimPendingJobs: (claim) =>
            silent ? Promise.resolve([]) : store.claimPendingJobs(claim),
        }),
      pixazo: (real: Pixazo): Pixazo => ({
        ...real,
        submit: (...args) => {
          silent = true;
          send(real, ...args);
          posted();
          return new Promise<never>(() => {});
        },
      }),
    },
  };
}

/**
 * An adopter that takes an instance silent for 300 ms (and its POSTs 2 s more: its own POSTs'
 * timeout, which a busy machine must not reach) for dead.
 */
const QUICK_ADOPTER = { instances: { heartbeatMs: 50, ttlMs: 300, submitTimeoutMs: 2000 } };

it('ends ERROR, charge kept and never re-sent, the job of an instance that went silent mid-POST', async () => {
  const hung = silentMidPost(() => {});
  // Its stop gives up on the hung POST quickly.
  const a = await instance({ stopTimeoutMs: 50 }, hung.wrap);
  const caller = await principal(a.store);
  await a.engine.start();
  const job = await a.engine.generate(caller, turbo);
  await hung.postStarted;

  const b = await instance(QUICK_ADOPTER);
  await b.engine.start();
  const ended = await waitForJob(listen(b.store), job.id);
  expect(ended).toMatchObject({
    status: 'ERROR',
    error: STOPPED_WHILE_SUBMITTING,
    costMicroUsd: job.costMicroUsd,
  });
  expect(sim.countRequests({ route: 'submit' })).toBe(0);
  // B keeps dispatching: a new job goes through B, and A's job is never sent again.
  const next = await b.engine.generate(caller, turbo);
  expect((await waitForJob(listen(b.store), next.id)).status).toBe('COMPLETED');
  expect(sim.countRequests({ route: 'submit' })).toBe(1);
  await vi.waitFor(() => expect(sim.jobs()).toHaveLength(1));
});

it('in webhook mode, adopts the job of an instance that died mid-POST into the wait for its callback', async () => {
  let adoptedOnB!: () => void;
  const adopted = new Promise<void>((resolve) => {
    adoptedOnB = resolve;
  });
  const recording: Logger = {
    ...silentLogger,
    info(_fields, message) {
      if (message === 'tracking a job adopted from a stopped instance') adoptedOnB();
    },
    child: () => recording,
  };
  let b: { engine: JobEngine; store: Store } | undefined;
  // The gateway's webhook route, on B: it answers once B has adopted the job, so the callback
  // that reveals the request id finds B waiting for it.
  const receiver = createServer(async (req, res) => {
    const match = /^\/webhooks\/pixazo\/([^/]+)\/([^/]+)$/.exec(req.url ?? '');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    await adopted;
    const outcome = await b?.engine.handleWebhook(
      match?.[1] ?? '',
      match?.[2] ?? '',
      Buffer.concat(chunks).toString(),
    );
    res.writeHead(outcome?.status ?? 503).end();
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const publicUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  try {
    // A's POST reaches Pixazo, with its callback URL; A dies before the answer.
    const died = silentMidPost((real, input, options) => void real.submit(input, options));
    const a = await instance({ publicUrl, stopTimeoutMs: 50 }, died.wrap);
    const caller = await principal(a.store);
    await a.engine.start();
    const job = await a.engine.generate(caller, turbo);
    await died.postStarted;

    b = await instance({ publicUrl, ...QUICK_ADOPTER }, { logger: recording });
    await b.engine.start();
    const done = await waitForJob(listen(b.store), job.id);
    expect(done).toMatchObject({ status: 'COMPLETED', submission: 'submitted' });
    expect(done.requestId).toBe(sim.jobs()[0]?.request_id);
    expect(done.images).toHaveLength(1);
    expect(sim.countRequests({ route: 'submit' })).toBe(1);
  } finally {
    receiver.closeAllConnections();
    receiver.close();
  }
});

/** Where two instances keep images in common: each call opens one instance's store on it. */
const sharedImagePlaces: [string, () => Promise<() => Promise<ImageStore>>][] = [
  ['a shared directory', async () => () => Promise.resolve(createLocalImageStore({ dataDir }))],
  [
    'one S3 bucket',
    async () => {
      const s3 = await testS3();
      const bucket = `winner-${newId('key').slice(-12)}`;
      return () =>
        openImageStore(
          {
            kind: 's3',
            bucket,
            endpoint: s3.endpoint,
            region: s3.region,
            forcePathStyle: true,
            credentials: s3.credentials,
          },
          { dataDir },
        );
    },
  ],
];

it.each(sharedImagePlaces)(
  "keeps the winner's images when two instances complete the same job at once, in %s",
  async (_place, sharedPlace) => {
    const openImages = await sharedPlace();
    const a = await instance();
    const b = await instance();
    const caller = await principal(a.store);
    await a.engine.start();
    const job = await a.engine.generate(caller, turbo);
    const submitted = await waitForJob(listen(a.store), job.id, (j) => j.requestId !== null);
    await a.engine.stop();
    const status = await pixazo.waitForCompletion(submitted.requestId as string);

    // A callback on one instance and a poll on the other, at once: both download and save the
    // images into the shared place, one wins the compare-and-set, the other cleans up.
    const imageStores = [await openImages(), await openImages()];
    const trackers = [a.store, b.store].map((store, index) =>
      createJobTracker({
        pixazo,
        store,
        images: imageStores[index] as ImageStore,
        writer: createJobWriter({ store, pubsub, logger: silentLogger, onTerminal: () => {} }),
        logger: silentLogger,
        now: () => new Date(),
        options: {
          mode: 'webhook',
          pollSchedule: { ...DEFAULT_POLL_SCHEDULE, ...TEST_POLL_SCHEDULE },
          durationScale: 1,
          safetyNet: { intervalMs: 1000 },
          deadline: { factor: 10, marginMs: 1000 },
          vanishedAfter404s: 3,
          maxDownloadAttempts: 3,
        },
      }),
    );
    await Promise.all(trackers.map((tracker) => tracker.apply(job.id, status, 'webhook')));

    const done = (await a.store.getJob(job.id)) as JobRecord;
    expect(done.status).toBe('COMPLETED');
    expect(done.images).toHaveLength(1);
    // Exactly the winner's files are left: its own, none of the loser's.
    const images = imageStores[0] as ImageStore;
    expect(await images.usage()).toEqual({
      objects: done.images.length,
      bytes: done.images.reduce((sum, image) => sum + image.byteLength, 0),
    });
    for (const { fileName } of done.images)
      expect(await images.stat(job.id, fileName)).not.toBeNull();
    for (const opened of imageStores) await opened.close();
  },
);

it('shares one upstream state and sends one probe in total across three instances', async () => {
  sim.setBalance(SIM_KEY, 0);
  // One clock for every instance's cooldowns: the test decides when they end.
  let clock = Date.now();
  /** Each instance's shared-probe attempts, and what they got. */
  const takes: boolean[][] = [[], [], []];
  /** Each instance's reads of the shared state: who was probing. */
  const probers: (string | null)[][] = [[], [], []];
  const degraded: boolean[][] = [[], [], []];
  let holdSubmits = false;
  let releaseSubmits!: () => void;
  const submitsReleased = new Promise<void>((resolve) => {
    releaseSubmits = resolve;
  });
  const all = await Promise.all(
    [0, 1, 2].map((i) =>
      instance(
        { upstreamHealth: { now: () => clock }, stopTimeoutMs: 50 },
        {
          store: (store) =>
            overriding(store, {
              readUpstream: async () => {
                const row = await store.readUpstream();
                probers[i]?.push(row?.probeBy ?? null);
                return row;
              },
              takeUpstreamProbe: async (id, at) => {
                const taken = await store.takeUpstreamProbe(id, at);
                takes[i]?.push(taken);
                return taken;
              },
            }),
          pixazo: (real) => ({
            ...real,
            submit: async (input, options) => {
              if (holdSubmits) await submitsReleased;
              return real.submit(input, options);
            },
          }),
          metrics: {
            jobEnteredStatus() {},
            jobUpdateReceived() {},
            pixazoUpstreamState: (state) => {
              degraded[i]?.push(state);
            },
          },
        },
      ),
    ),
  );
  const a = all[0] as (typeof all)[number];
  const caller = await principal(a.store);
  await Promise.all(all.map(({ engine }) => engine.start()));

  const first = await a.engine.generate(caller, turbo);
  expect(await waitForJob(listen(a.store), first.id)).toMatchObject({
    status: 'ERROR',
    costMicroUsd: 0,
  });
  // Every instance learnt it (two of them from the store) and refuses new work.
  await vi.waitFor(() => expect(degraded).toEqual([[true], [true], [true]]));
  for (const { engine } of all) {
    await expect(engine.generate(caller, turbo)).rejects.toMatchObject({
      code: 'INSUFFICIENT_BALANCE',
    });
  }
  expect(sim.countRequests({ route: 'submit' })).toBe(1);

  // Jobs accepted before the condition wait; after the cooldown one of them probes, and while
  // it is out every instance has tried for the probe and been refused but the one.
  const waiting = [];
  for (let i = 0; i < 3; i++) {
    const admission = await a.store.admitJob({
      job: newJob(caller.key),
      day: new Date().toISOString().slice(0, 10),
      keyLimits: caller.key.limits,
      endUserLimits: null,
    });
    if (admission.kind === 'created') waiting.push(admission.job);
  }
  holdSubmits = true;
  sim.setBalance(SIM_KEY, 5);
  clock += 61_000;
  const ids = all.map(({ engine }) => engine.instanceId);
  await vi.waitFor(() => {
    expect(takes.flat().filter(Boolean)).toHaveLength(1);
    const winner = ids[takes.findIndex((attempts) => attempts.includes(true))];
    // The others saw the winner's probe out, or were refused it.
    ids.forEach((id, i) => {
      if (id === winner) return;
      expect(probers[i]?.includes(winner as string) || takes[i]?.includes(false)).toBe(true);
    });
  });
  expect(sim.countRequests({ route: 'submit' })).toBe(1);
  releaseSubmits();

  for (const job of waiting) {
    expect((await waitForJob(listen(a.store), job.id)).status).toBe('COMPLETED');
  }
  // One POST each: the refused one, the probe, then the rest once it was accepted.
  expect(sim.countRequests({ route: 'submit' })).toBe(4);
  await vi.waitFor(() =>
    expect(degraded).toEqual([
      [true, false],
      [true, false],
      [true, false],
    ]),
  );
  expect(await a.store.readUpstream()).toBeNull();
});
