/**
 * A server under test, in its own process (started by the bench with --expose-gc): the Pixazo
 * simulator, the gateway, the fan-out baseline or its floor, driven over IPC (lib/rpc.ts). It also
 * publishes the fan-out's status changes, stamping them with the wall clock the clients use,
 * and measures its own memory after a full GC.
 */

import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { getHeapSpaceStatistics } from 'node:v8';
import type { PollSchedule } from '@zimage/core';
import { type PixazoSim, type RequestFilter, startPixazoSim } from '@zimage/pixazo-sim';
import { createApiKey, NO_LIMITS } from '../../src/auth/api-keys.ts';
import type { Limits } from '../../src/domain/principal.ts';
import { type RunningGateway, startGateway } from '../../src/gateway.ts';
import { createLogger } from '../../src/logger.ts';
import { createMemoryPubSub } from '../../src/pubsub/memory.ts';
import { topics } from '../../src/pubsub/pubsub.ts';
import { serve, wallClockMs } from '../lib/rpc.ts';
import { type BaselineJob, type BaselineServer, startBaselineServer } from './baseline.ts';
import {
  type CommandCounts,
  commandCounts,
  installCommandCounts,
  type SqliteCounts,
  sqliteCounts,
} from './command-counts.ts';
import { startWsFloorServer } from './ws-floor.ts';

export const SIM_KEY = 'bench-key';

export interface SimParams {
  timeScale: number;
}

export interface GatewayParams {
  /** A simulator in another process; unset: one in this process (the gateway's default). */
  pixazoUrl?: string | undefined;
  /** The gateway's DATA_DIR; default a temporary directory it deletes when it stops. */
  dataDir?: string | undefined;
  /** Time scale of the embedded simulator. */
  embeddedTimeScale?: number | undefined;
  /** PUBLIC_URL = the gateway's own address, so Pixazo calls back. */
  webhooks?: boolean | undefined;
  pollSchedule?: Partial<PollSchedule> | undefined;
  /** The simulator's time scale, which the tracker's expected durations follow. */
  durationScale?: number | undefined;
  safetyNet?: { firstDelayMs?: number; intervalMs?: number } | undefined;
  maxConcurrency?: number | undefined;
  /** DATABASE_URL: the PostgreSQL store; unset, SQLite in dataDir. */
  databaseUrl?: string | undefined;
  /** REDIS_URL (with its REDIS_KEY_PREFIX): pub/sub and rate limits over Redis; unset, in memory. */
  redis?: { url: string; keyPrefix: string } | undefined;
  /**
   * The bench's API key: created with these limits (default none); `false` creates none (a
   * further instance on the same database uses the first one's).
   */
  keyLimits?: Limits | false | undefined;
  /**
   * Count the statements and commands sent to PostgreSQL and Redis (command-counts.ts), and
   * time each `store.admitJob` (`admissionTimes`).
   */
  instrument?: boolean | undefined;
}

export interface StartedServer {
  url: string;
  wsUrl: string;
  /** An API key without limits (gateway only). */
  key: string | null;
}

export interface Published {
  /** Wall clock (performance.timeOrigin-based ms) just before pub/sub's publish. */
  publishedAt: number;
  /** When this process's event loop was free again (every send handed to the kernel). */
  drainedAt: number;
  version: number;
}

export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  /** Committed bytes of each V8 heap space. */
  spaces: Record<string, number>;
  /** Resident (physical) bytes of each V8 heap space. */
  residentSpaces: Record<string, number>;
  external: number;
  arrayBuffers: number;
}

/** The job every fan-out subscriber follows (the same parameters for both servers). */
export const FANOUT_PROMPT = 'a lighthouse at dusk, watched by very many people at once';

let sim: PixazoSim | null = null;
let gateway: RunningGateway | null = null;
let baseline: BaselineServer | null = null;
const pubsub = createMemoryPubSub();
let gatewayKey: string | null = null;
let profiler: Session | null = null;
/** Durations of `store.admitJob` calls (ms) since the last `admissionTimes` call. */
let admissionTimes: number[] = [];

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

const gc = globalThis.gc;

async function fullGc(): Promise<void> {
  if (!gc) throw new Error('start the server process with --expose-gc');
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

async function gatewayGraphql<T>(query: string, variables: Record<string, unknown>): Promise<T> {
  if (!gateway) throw new Error('no gateway');
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${gatewayKey}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (!body.data) throw new Error(`gateway answered ${JSON.stringify(body)}`);
  return body.data;
}

serve(
  {
    async startSim({ timeScale }: SimParams): Promise<StartedServer> {
      sim = await startPixazoSim({
        timeScale,
        rateLimit: false,
        keys: { [SIM_KEY]: 1_000_000 },
        requestLogSize: 200_000,
        maxJobs: 100_000,
      });
      return { url: sim.url, wsUrl: '', key: SIM_KEY };
    },

    async startGateway(params: GatewayParams): Promise<StartedServer> {
      let pixazoUrl = params.pixazoUrl;
      if (!pixazoUrl) {
        sim = await startPixazoSim({
          timeScale: params.embeddedTimeScale ?? 1,
          rateLimit: false,
          keys: { [SIM_KEY]: 1_000_000 },
          requestLogSize: 200_000,
        });
        pixazoUrl = sim.url;
      }
      const port = params.webhooks ? await freePort() : 0;
      if (params.instrument) installCommandCounts();
      gateway = await startGateway({
        pixazo: { baseUrl: pixazoUrl, apiKey: SIM_KEY },
        dataDir: params.dataDir,
        port,
        publicUrl: params.webhooks ? `http://127.0.0.1:${port}` : null,
        databaseUrl: params.databaseUrl,
        redisUrl: params.redis?.url,
        redisKeyPrefix: params.redis?.keyPrefix,
        // Shared between instances over Redis, else this process's own.
        ...(params.redis ? {} : { pubsub }),
        logger: createLogger({ level: process.env.LOG_LEVEL ?? 'error' }),
        pixazoMaxConcurrency: params.maxConcurrency ?? 1000,
        engine: {
          ...(params.pollSchedule ? { pollSchedule: params.pollSchedule } : {}),
          ...(params.durationScale ? { durationScale: params.durationScale } : {}),
          ...(params.safetyNet ? { safetyNet: params.safetyNet } : {}),
        },
      });
      if (params.instrument) {
        const { store } = gateway;
        const admitJob = store.admitJob.bind(store);
        store.admitJob = async (request) => {
          const started = performance.now();
          try {
            return await admitJob(request);
          } finally {
            admissionTimes.push(performance.now() - started);
          }
        };
      }
      if (params.keyLimits === false) {
        return { url: gateway.url, wsUrl: gateway.wsUrl, key: null };
      }
      const { secret } = await createApiKey(gateway.store, {
        name: 'bench',
        scopes: ['generate', 'read'],
        limits: params.keyLimits ?? NO_LIMITS,
        endUserLimits: NO_LIMITS,
      });
      gatewayKey = secret;
      return { url: gateway.url, wsUrl: gateway.wsUrl, key: secret };
    },

    /** The fan-out floor: bare `ws`, no GraphQL (ws-floor.ts). */
    async startFloor(): Promise<StartedServer> {
      baseline = await startWsFloorServer();
      return { url: baseline.url, wsUrl: baseline.wsUrl, key: null };
    },

    async startBaseline(): Promise<StartedServer> {
      baseline = await startBaselineServer();
      return { url: baseline.url, wsUrl: baseline.wsUrl, key: null };
    },

    /** A job to follow: through the gateway's API, or in the baseline's map. */
    async createJob(): Promise<{ id: string }> {
      if (gateway) {
        const data = await gatewayGraphql<{ generateImage: { id: string } }>(
          'mutation ($input: GenerateImageInput!) { generateImage(input: $input) { id } }',
          { input: { prompt: FANOUT_PROMPT, model: 'Z_IMAGE_TURBO', imageSize: 'SQUARE_1_1' } },
        );
        return { id: data.generateImage.id };
      }
      if (!baseline) throw new Error('no server');
      const now = new Date();
      const job: BaselineJob = {
        id: `job_${crypto.randomUUID().replaceAll('-', '')}`,
        status: 'QUEUED',
        model: 'Z_IMAGE_TURBO',
        prompt: FANOUT_PROMPT,
        imageSize: 'SQUARE_1_1',
        numInferenceSteps: 8,
        guidanceScale: null,
        numImages: 1,
        enableSafetyChecker: true,
        outputFormat: 'PNG',
        acceleration: 'NONE',
        queuePosition: null,
        error: null,
        costUsd: 0.008,
        requestId: `z-image-turbo-834_${crypto.randomUUID()}`,
        endUserId: null,
        createdAt: now,
        updatedAt: now,
        startedAt: now,
        completedAt: null,
        images: [],
      };
      baseline.jobs.set(job.id, job);
      return { id: job.id };
    },

    /**
     * A status change of the job (a newer PROCESSING version), published as the job engine
     * does after persisting one. The time is taken just before publish.
     */
    async publish({ jobId, round }: { jobId: string; round: number }): Promise<Published> {
      let publishedAt: number;
      let version: number;
      if (gateway) {
        const stored = await gateway.store.getJob(jobId);
        if (!stored) throw new Error(`no job ${jobId}`);
        version = stored.version + round;
        const job = { ...stored, status: 'PROCESSING' as const, version, updatedAt: new Date() };
        publishedAt = wallClockMs();
        await gateway.pubsub.publish(topics.job(jobId), { job });
      } else if (baseline) {
        const current = baseline.jobs.get(jobId);
        if (!current) throw new Error(`no job ${jobId}`);
        version = round;
        const job = { ...current, status: 'PROCESSING', updatedAt: new Date() };
        publishedAt = wallClockMs();
        baseline.publish(job);
      } else {
        throw new Error('no server');
      }
      await new Promise((resolve) => setImmediate(resolve));
      return { publishedAt, drainedAt: wallClockMs(), version };
    },

    async memory(): Promise<MemorySample> {
      await fullGc();
      const { rss, heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
      const statistics = getHeapSpaceStatistics();
      const spaces = Object.fromEntries(statistics.map((s) => [s.space_name, s.space_size]));
      const residentSpaces = Object.fromEntries(
        statistics.map((s) => [s.space_name, s.physical_space_size]),
      );
      return { rss, heapUsed, heapTotal, external, arrayBuffers, spaces, residentSpaces };
    },

    /** Starts a CPU profile of this process (the fan-out profiles its rounds only). */
    async profileStart(): Promise<null> {
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
      await profiler.post('Profiler.start');
      return null;
    },

    async profileStop({ file }: { file: string }): Promise<string> {
      if (!profiler) throw new Error('no profile running');
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = null;
      await writeFile(file, JSON.stringify(profile));
      return file;
    },

    /** Samples the allocations that stay live (V8's sampling heap profiler), until heapStop. */
    async heapStart(): Promise<null> {
      profiler = new Session();
      profiler.connect();
      await profiler.post('HeapProfiler.enable');
      await profiler.post('HeapProfiler.startSampling', { samplingInterval: 256 });
      return null;
    },

    async heapStop({ file }: { file: string }): Promise<string> {
      if (!profiler) throw new Error('no heap sampling running');
      await fullGc();
      const { profile } = await profiler.post('HeapProfiler.getSamplingProfile');
      await profiler.post('HeapProfiler.stopSampling');
      profiler.disconnect();
      profiler = null;
      await writeFile(file, JSON.stringify(profile));
      return file;
    },

    sqliteCounts(): SqliteCounts {
      return sqliteCounts();
    },
    commandCounts(): CommandCounts {
      return commandCounts();
    },

    /** The store's admission times since the previous call (and forgets them). */
    admissionTimes(): number[] {
      const times = admissionTimes;
      admissionTimes = [];
      return times;
    },

    simRequests(filter: RequestFilter = {}) {
      if (!sim) throw new Error('no simulator');
      return sim.requests(filter).map(({ path, route, method, status, at }) => ({
        path,
        route,
        method,
        status,
        at,
      }));
    },

    /** When the simulator's job ended (its status body's `completed_at`), in epoch ms. */
    simCompletedAt({ requestId }: { requestId: string }): number {
      if (!sim) throw new Error('no simulator');
      const job = sim.job(requestId);
      if (!job) throw new Error(`no simulator job ${requestId}`);
      return Date.parse(job.ends_at);
    },

    clearSimRequests() {
      if (!sim) throw new Error('no simulator');
      sim.clearRequests();
      return null;
    },
  },
  async () => {
    await gateway?.close();
    await baseline?.close();
    await sim?.close();
  },
);
