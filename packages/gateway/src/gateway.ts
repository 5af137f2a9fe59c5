/**
 * A whole gateway in this process: store, Redis (when scaled out), pub/sub, Pixazo client, job
 * engine and server, started in order and stopped in reverse. main.ts runs one from the
 * environment; tests and benchmarks start them with `startGateway` (port 0, a temporary data
 * directory by default).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PixazoClient } from '@zimage/core';
import { ensureAdminKey } from './auth/api-keys.ts';
import type { KeyCache } from './auth/authenticate.ts';
import {
  DEFAULT_MAX_PROMPT_LENGTH,
  DEFAULT_REDIS_KEY_PREFIX,
  DEFAULT_WEBHOOK_RETRY_SECONDS,
  type ImageStoreConfig,
} from './config.ts';
import type { Logger } from './domain/logger.ts';
import { wantsWebhook } from './domain/webhook.ts';
import type { ImageStore, ImageUsage } from './images/image-store.ts';
import { openImageStore } from './images/open-image-store.ts';
import type { S3BackendOptions } from './images/s3-backend.ts';
import type { JobEngine } from './jobs/engine.ts';
import {
  createImageSweeper,
  type ImageSweeper,
  type ImageSweeperOptions,
} from './jobs/image-sweeper.ts';
import { createJobEngine, type JobEngineOptions } from './jobs/job-engine.ts';
import { createMemoryRateLimiter, type RateLimiter } from './limits/rate-limiter.ts';
import { createRedisRateLimiter } from './limits/redis-rate-limiter.ts';
import { createLogger } from './logger.ts';
import { createMetrics, type Metrics } from './metrics.ts';
import { type DispatchNudges, openDispatchNudges } from './pubsub/dispatch-nudges.ts';
import { createMemoryPubSub } from './pubsub/memory.ts';
import type { PubSub } from './pubsub/pubsub.ts';
import { createRedisPubSub } from './pubsub/redis.ts';
import { openRedisChannels, type RedisChannels } from './pubsub/redis-channels.ts';
import { connectRedis, type Redis, type RedisOptions } from './redis.ts';
import { createJobRenderer } from './schema/job-payload.ts';
import { createGatewayServer, type GatewayServer } from './server.ts';
import { openStore } from './store/open-store.ts';
import type { Store } from './store/store.ts';
import { createWebhookSecrets, loadSealingKey } from './webhooks/signing-secrets.ts';
import { createWebhookWorker, type WebhookWorkerOptions } from './webhooks/webhook-worker.ts';

export interface StartGatewayOptions {
  /** Where Pixazo (or a simulator) is, and the subscription key to use with it. */
  pixazo: { baseUrl: string; apiKey: string };
  /** Default: a new temporary directory, deleted by close(). */
  dataDir?: string | undefined;
  /** DATABASE_URL (postgres://…): the PostgreSQL store; default SQLite in dataDir. */
  databaseUrl?: string | null | undefined;
  /**
   * REDIS_URL (redis://…): job events and rate limits shared with the other instances over
   * Redis; default in memory (one instance). `pubsub` and `rateLimiter` still win when given.
   */
  redisUrl?: string | null | undefined;
  /** REDIS_KEY_PREFIX; default 'zimage:'. */
  redisKeyPrefix?: string | undefined;
  /** ioredis options over the gateway's (tests shorten `retryStrategy`). */
  redisOptions?: RedisOptions | undefined;
  /** Default 0 (any free port). */
  port?: number | undefined;
  /** Default 127.0.0.1. */
  host?: string | undefined;
  /**
   * PUBLIC_URL: set, Pixazo calls back by webhook and image URLs start with it; unset, image
   * URLs start with the listen address.
   */
  publicUrl?: string | null | undefined;
  /** ADMIN_API_KEY; unset, an admin key is generated when none exists. */
  adminApiKey?: string | null | undefined;
  corsOrigins?: readonly string[] | undefined;
  /** GRAPHIQL; default true. */
  graphiql?: boolean | undefined;
  /** Default 20. */
  maxSubscriptionsPerSocket?: number | undefined;
  /** Default 2000. */
  maxPromptLength?: number | undefined;
  /** Jobs at Pixazo at once. Default 8. */
  pixazoMaxConcurrency?: number | undefined;
  /** Further engine settings (tests shorten the poll schedule). */
  engine?: Partial<JobEngineOptions> | undefined;
  /** graphql-ws ping interval; default 12 s. */
  keepAliveMs?: number | undefined;
  dashboardDir?: string | undefined;
  /** Default: JSON lines on stdout at LOG_LEVEL (or info). */
  logger?: Logger | undefined;
  /** Default: in memory (one process). */
  rateLimiter?: RateLimiter | undefined;
  /** Default: in memory (one process); closed by close() either way. */
  pubsub?: PubSub | undefined;
  /** Default: keys trusted for 5 s (also how soon a revoked key's connections end). */
  keyCache?: KeyCache | undefined;
  /**
   * Outbound webhooks: WEBHOOK_RETRY_SECONDS (default DEFAULT_WEBHOOK_RETRY_SECONDS),
   * WEBHOOK_ALLOW_PRIVATE_ADDRESSES (default false), WEBHOOK_SECRETS_KEY (default a key file in
   * dataDir), and the worker's bounds (tests shorten them).
   */
  webhooks?:
    | (Partial<WebhookWorkerOptions> & { secretsKey?: string | null | undefined })
    | undefined;
  /** IMAGE_STORE and its S3_* settings; default a directory under dataDir. */
  imageStore?: ImageStoreConfig | undefined;
  /** Tests: the S3 client's listing page size and timeouts. */
  s3Overrides?: Partial<S3BackendOptions> | undefined;
  /** IMAGE_RETENTION_DAYS and the sweeper's pace; default null: images are kept. */
  imageRetention?: ImageSweeperOptions | null | undefined;
}

/** How long a listing of the image store serves the stored-images gauges (S3 bills LISTs). */
const IMAGE_USAGE_MAX_AGE_MS = 5 * 60_000;

export interface RunningGateway {
  /** e.g. http://127.0.0.1:4000 */
  readonly url: string;
  /** e.g. ws://127.0.0.1:4000/graphql */
  readonly wsUrl: string;
  /** What clients are told to use (image URLs, the dashboard): PUBLIC_URL, else `url`. */
  readonly publicUrl: string;
  /** The admin key's secret when known: ADMIN_API_KEY, or the one generated by this start. */
  readonly adminKey: string | null;
  /** True when this start generated the admin key (it must be shown to the operator once). */
  readonly adminKeyGenerated: boolean;
  readonly dataDir: string;
  readonly store: Store;
  readonly engine: JobEngine;
  readonly metrics: Metrics;
  readonly server: GatewayServer;
  /** The job events this instance publishes and follows (Redis with redisUrl, else memory). */
  readonly pubsub: PubSub;
  /**
   * With redisUrl: this instance's named channels between instances (one subscriber
   * connection), carrying the job events and the dispatch nudges; null without Redis.
   */
  readonly redisChannels: RedisChannels | null;
  readonly images: ImageStore;
  /** With imageRetention: this instance's retention sweeper (`sweep()` runs one now). */
  readonly imageSweeper: ImageSweeper | null;
  /** Graceful: stop accepting, let submits in flight finish, close sockets (1001), close the store. */
  close(): Promise<void>;
}

const DEFAULTS = {
  port: 0,
  host: '127.0.0.1',
  maxSubscriptionsPerSocket: 20,
  maxPromptLength: DEFAULT_MAX_PROMPT_LENGTH,
  pixazoMaxConcurrency: 8,
  redisKeyPrefix: DEFAULT_REDIS_KEY_PREFIX,
};

/** The Redis side of a scaled-out instance: one command connection and one subscriber. */
interface RedisServices {
  client: Redis;
  channels: RedisChannels;
  pubsub: PubSub;
  rateLimiter: RateLimiter;
}

async function openRedisServices(
  url: string,
  keyPrefix: string,
  logger: Logger,
  redis: RedisOptions | undefined,
): Promise<RedisServices> {
  const client = await connectRedis(url, { logger, redis });
  try {
    const channels = await openRedisChannels({ client, keyPrefix, logger });
    return {
      client,
      channels,
      pubsub: createRedisPubSub({ channels, logger: logger.child({ component: 'pubsub' }) }),
      rateLimiter: createRedisRateLimiter({ client, keyPrefix }),
    };
  } catch (error) {
    client.disconnect();
    throw error;
  }
}

export async function startGateway(options: StartGatewayOptions): Promise<RunningGateway> {
  const logger = options.logger ?? createLogger();
  const temporaryDir =
    options.dataDir === undefined ? await mkdtemp(path.join(tmpdir(), 'zimage-gateway-')) : null;
  const dataDir = options.dataDir ?? (temporaryDir as string);
  const store = await openStore({ dataDir, databaseUrl: options.databaseUrl ?? null });
  const metrics = createMetrics();
  let images: ImageStore;
  try {
    images = await openImageStore(
      options.imageStore ?? { kind: 'local' },
      { dataDir, metrics, logger: logger.child({ component: 'images' }) },
      options.s3Overrides,
    );
  } catch (error) {
    await store.close();
    throw error;
  }
  metrics.observe({ storedImages: cachedFor(IMAGE_USAGE_MAX_AGE_MS, () => images.usage()) });
  let redis: RedisServices | null = null;
  if (options.redisUrl) {
    const keyPrefix = options.redisKeyPrefix ?? DEFAULTS.redisKeyPrefix;
    redis = await openRedisServices(
      options.redisUrl,
      keyPrefix,
      logger,
      options.redisOptions,
    ).catch(async (error: unknown) => {
      await images.close();
      await store.close();
      throw error;
    });
  }
  const pubsub = options.pubsub ?? redis?.pubsub ?? createMemoryPubSub();
  const publicUrl = options.publicUrl ?? null;

  const admin = await ensureAdminKey(store, options.adminApiKey ?? undefined);
  const webhookOptions: WebhookWorkerOptions = {
    retrySeconds: DEFAULT_WEBHOOK_RETRY_SECONDS,
    allowPrivateAddresses: false,
    ...options.webhooks,
  };
  const sealingKey = await loadSealingKey(options.webhooks?.secretsKey ?? null, dataDir);
  const webhookSecrets = createWebhookSecrets(store, sealingKey);
  // Created once the server knows its public origin (image URLs in the payloads).
  let webhooks: ReturnType<typeof createWebhookWorker> | null = null;
  const pixazo = new PixazoClient({
    apiKey: options.pixazo.apiKey,
    baseUrl: options.pixazo.baseUrl,
    fetch: metrics.countPixazoCalls(),
    logger: logger.child({ component: 'pixazo' }),
  });
  /** With Redis: the other instances claim at once what this one made dispatchable. */
  let nudges: DispatchNudges | null = null;
  const engine = createJobEngine({
    store,
    pubsub,
    pixazo,
    images,
    metrics,
    logger: logger.child({ component: 'jobs' }),
    onDispatchable: () => nudges?.send(),
    options: {
      maxConcurrency: options.pixazoMaxConcurrency ?? DEFAULTS.pixazoMaxConcurrency,
      maxPromptLength: options.maxPromptLength ?? DEFAULTS.maxPromptLength,
      publicUrl: publicUrl ?? undefined,
      allowPrivateWebhookAddresses: webhookOptions.allowPrivateAddresses,
      ...options.engine,
    },
    onJobChanged: (job) => {
      if (wantsWebhook(job)) webhooks?.nudge();
    },
  });
  const server = createGatewayServer({
    store,
    engine,
    pubsub,
    images,
    webhookSecrets,
    sealingKey,
    rateLimiter: options.rateLimiter ?? redis?.rateLimiter ?? createMemoryRateLimiter(),
    redisChannels: redis?.channels ?? null,
    metrics,
    logger,
    publicUrl,
    corsOrigins: options.corsOrigins ?? [],
    graphiql: options.graphiql,
    maxSubscriptionsPerSocket:
      options.maxSubscriptionsPerSocket ?? DEFAULTS.maxSubscriptionsPerSocket,
    dashboardDir: options.dashboardDir,
    keepAliveMs: options.keepAliveMs,
    keyCache: options.keyCache,
  });

  const imageSweeper = options.imageRetention
    ? createImageSweeper({
        store,
        images,
        instanceId: engine.instanceId,
        metrics,
        logger: logger.child({ component: 'image-retention' }),
        options: options.imageRetention,
      })
    : null;

  if (redis) {
    nudges = await openDispatchNudges({
      channels: redis.channels,
      instanceId: engine.instanceId,
      onNudge: () => engine.nudge(),
      logger: logger.child({ component: 'dispatch' }),
    });
  }
  await engine.start();
  const url = await server.listen(options.port ?? DEFAULTS.port, options.host ?? DEFAULTS.host);
  webhooks = createWebhookWorker({
    store,
    secrets: webhookSecrets,
    render: createJobRenderer({
      store,
      engine,
      pubsub,
      publicOrigin: server.publicUrl ?? url,
      webhookSecrets,
    }),
    instanceId: engine.instanceId,
    options: webhookOptions,
    logger: logger.child({ component: 'webhooks' }),
    metrics,
  });
  webhooks.start();
  imageSweeper?.start();

  let closing: Promise<void> | undefined;
  const close = async () => {
    server.stopAccepting();
    await imageSweeper?.stop();
    await engine.stop();
    await webhooks?.stop();
    nudges?.close();
    await server.close();
    await pubsub.close();
    if (redis) {
      const { channels, client } = redis;
      // After the pub/sub it carries; the subscriber connection is a duplicate of the client.
      await channels.close();
      // QUIT needs a live connection (no offline queue); while Redis is down, just drop it.
      await client.quit().catch(() => client.disconnect());
    }
    await images.close();
    await store.close();
    if (temporaryDir) await rm(temporaryDir, { recursive: true, force: true });
  };

  return {
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/graphql`,
    publicUrl: server.publicUrl ?? url,
    adminKey: admin.generatedSecret ?? options.adminApiKey ?? null,
    adminKeyGenerated: admin.generatedSecret !== null,
    dataDir,
    store,
    engine,
    metrics,
    server,
    pubsub,
    redisChannels: redis?.channels ?? null,
    images,
    imageSweeper,
    close: () => {
      closing ??= close();
      return closing;
    },
  };
}

/** `read`, called at most once per `maxAgeMs` (concurrent callers share one call). */
function cachedFor(maxAgeMs: number, read: () => Promise<ImageUsage>): () => Promise<ImageUsage> {
  let last: { at: number; value: Promise<ImageUsage> } | null = null;
  return () => {
    if (last === null || Date.now() - last.at >= maxAgeMs) {
      const value = read();
      last = { at: Date.now(), value };
      // A failed read is not kept: the next scrape tries again.
      value.catch(() => {
        if (last?.value === value) last = null;
      });
    }
    return last.value;
  };
}
