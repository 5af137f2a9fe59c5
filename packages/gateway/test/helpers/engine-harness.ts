/**
 * A job engine wired to real peers for engine-level tests: the Pixazo simulator over HTTP
 * (small timeScale), a SQLite store and an image directory in a temp dir, in-process pub/sub.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PixazoClient } from '@zimage/core';
import { type PixazoSim, type PixazoSimOptions, startPixazoSim } from '@zimage/pixazo-sim';
import { NO_LIMITS } from '../../src/auth/api-keys.ts';
import { isTerminal, type JobRecord } from '../../src/domain/job.ts';
import type {
  ApiKeyRecord,
  KeyLimits,
  Limits,
  Principal,
  Scope,
} from '../../src/domain/principal.ts';
import { newId } from '../../src/ids.ts';
import type { JobEngine } from '../../src/jobs/engine.ts';
import { createImageStore, type ImageStore } from '../../src/jobs/image-store.ts';
import {
  createJobEngine,
  type JobEngineDeps,
  type JobEngineOptions,
} from '../../src/jobs/job-engine.ts';
import { createMemoryPubSub } from '../../src/pubsub/memory.ts';
import { isGap, type PubSub, topics } from '../../src/pubsub/pubsub.ts';
import { openSqliteStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/store.ts';

export const SIM_KEY = 'dev-key';

/** Tight enough that a test waits milliseconds, loose enough not to spin. */
export const TEST_POLL_SCHEDULE = {
  firstDelayMs: 20,
  factor: 1.5,
  minIntervalMs: 10,
  maxIntervalMs: 40,
};

export interface Harness {
  sim: PixazoSim;
  store: Store;
  pubsub: PubSub;
  images: ImageStore;
  pixazo: PixazoClient;
  dataDir: string;
  /** Builds (does not start) an engine over the shared store; stopped by `close()`. */
  engine(
    options?: Partial<JobEngineOptions>,
    deps?: Partial<Pick<JobEngineDeps, 'pixazo' | 'metrics'>>,
  ): JobEngine;
  principal(options?: {
    scopes?: Scope[];
    limits?: Partial<KeyLimits>;
    endUserLimits?: Partial<Limits>;
    endUserId?: string;
  }): Promise<Principal>;
  close(): Promise<void>;
}

export async function startHarness(simOptions: PixazoSimOptions = {}): Promise<Harness> {
  const sim = await startPixazoSim({ timeScale: 0.01, rateLimit: false, ...simOptions });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'zimage-engine-'));
  const store = openSqliteStore(path.join(dataDir, 'gateway.db'));
  const pubsub = createMemoryPubSub();
  const images = createImageStore({ dataDir });
  const pixazo = new PixazoClient({
    apiKey: SIM_KEY,
    baseUrl: sim.url,
    retry: { baseDelayMs: 5, maxDelayMs: 20 },
  });
  const engines: JobEngine[] = [];

  return {
    sim,
    store,
    pubsub,
    images,
    pixazo,
    dataDir,
    engine(options = {}, deps = {}) {
      const engine = createJobEngine({
        store,
        pubsub,
        pixazo,
        ...deps,
        images,
        options: {
          maxConcurrency: 4,
          maxPromptLength: 2000,
          pollSchedule: TEST_POLL_SCHEDULE,
          ...options,
        },
      });
      engines.push(engine);
      return engine;
    },
    async principal(options = {}) {
      const key: ApiKeyRecord = {
        id: newId('key'),
        name: 'test key',
        secretHash: newId('key'),
        prefix: 'zk_test',
        scopes: options.scopes ?? ['generate', 'read'],
        limits: { ...NO_LIMITS, ...options.limits },
        endUserLimits: {
          dailyBudgetMicroUsd: null,
          maxConcurrentJobs: null,
          requestsPerMinute: null,
          ...options.endUserLimits,
        },
        createdAt: new Date(),
        lastUsedAt: null,
        revokedAt: null,
      };
      await store.createApiKey(key);
      return { key, endUserId: options.endUserId ?? null };
    },
    async close() {
      await Promise.all(engines.map((engine) => engine.stop()));
      await pubsub.close();
      await store.close();
      await sim.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * The jobs published on `topic` from now on, through the harness's memory pub/sub (which never
 * loses an event, so a gap would be a bug).
 */
export async function published(
  pubsub: PubSub,
  topic: string,
  signal: AbortSignal,
): Promise<AsyncIterable<JobRecord>> {
  const events = await pubsub.subscribe(topic, signal);
  return (async function* () {
    for await (const event of events) {
      if (isGap(event)) throw new Error('the memory pub/sub yielded a gap');
      yield event.job;
    }
  })();
}

/**
 * Waits until the stored job satisfies `done`, following its pub/sub topic (subscribed before
 * the first read, so no change slips between the two). Returns the stored job.
 */
export async function waitForJob(
  harness: Pick<Harness, 'store' | 'pubsub'>,
  jobId: string,
  done: (job: JobRecord) => boolean = (job) => isTerminal(job.status),
  timeoutMs = 20_000,
): Promise<JobRecord> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const jobs = await published(harness.pubsub, topics.job(jobId), controller.signal);
    let job = await harness.store.getJob(jobId);
    if (job && done(job)) return job;
    for await (const changed of jobs) {
      if (done(changed)) {
        job = await harness.store.getJob(jobId);
        return job as JobRecord;
      }
    }
    job = await harness.store.getJob(jobId);
    throw new Error(
      `Job ${jobId} did not get there within ${timeoutMs} ms; it is ${JSON.stringify(job)}`,
    );
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}
