/** Starting and controlling a simulator from code. */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { microUsdToUsd } from '@zimage/pixazo-spec';
import type { SimContext } from './context.ts';
import { Faults, type FaultsUpdate } from './faults.ts';
import { ImageCache } from './images.ts';
import { JobStore, type JobSummary, jobSummary } from './jobs.ts';
import { seededRandom } from './random.ts';
import { type RateLimit, RateLimiter } from './rate-limit.ts';
import type { RequestFilter, RequestLogEntry } from './request-log.ts';
import { RingLog } from './ring-log.ts';
import { createRequestHandler } from './server.ts';
import { Wallet } from './wallet.ts';
import { type WebhookDelivery, type WebhookDeliveryFilter, WebhookSender } from './webhooks.ts';

export interface PixazoSimOptions {
  /** Default 0: any free port (read it from `port`/`url`). */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Accepted subscription keys and their balances in USD. Default `{ 'dev-key': 5 }`. */
  keys?: Record<string, number>;
  /** Multiplies every simulated duration (jobs, webhook retries). Default 1; tests use ~0.01. */
  timeScale?: number;
  /** Per-key request rate (submits and status reads). Default 60 per 10 s; false: unlimited. */
  rateLimit?: RateLimit | false;
  /** Faults active from the start. */
  faults?: FaultsUpdate;
  /** Seed of the fault and jitter draws. Default 1. */
  seed?: number;
  /** How long a finished job stays readable, in real milliseconds. Default 1 hour. */
  jobTtlMs?: number;
  /** Most jobs kept; past it the oldest finished job is evicted. Default 10 000. */
  maxJobs?: number;
  /** Entries kept in the request log. Default 1000. */
  requestLogSize?: number;
  /** Webhook delivery attempts kept in their log. Default 1000. */
  webhookLogSize?: number;
  /** Bytes of rendered images kept. Default 64 MiB. */
  imageCacheBytes?: number;
  /** Serve the `/_sim/` control surface. Default true. */
  controlEndpoints?: boolean;
}

export interface PixazoSim {
  /** Base URL, e.g. `http://127.0.0.1:4010`: Pixazo's `https://gateway.pixazo.ai`. */
  readonly url: string;
  readonly port: number;
  /** Stops listening, closes connections and cancels pending webhooks. */
  close(): Promise<void>;
  setFaults(update: FaultsUpdate): void;
  resetFaults(): void;
  /** Active faults, with `next` showing the firings left. */
  faults(): FaultsUpdate;
  /** Requests received (control requests excepted), oldest first. */
  requests(filter?: RequestFilter): RequestLogEntry[];
  countRequests(filter?: RequestFilter): number;
  clearRequests(): void;
  /** Webhook delivery attempts (finished or in flight), oldest first. */
  webhookDeliveries(filter?: WebhookDeliveryFilter): WebhookDelivery[];
  /**
   * Resolves with the finished delivery attempts that match once there are at least `count`:
   * answered by the receiver (its handling done) or failed. Waits as long as it takes.
   */
  waitForWebhookDeliveries(
    count: number,
    filter?: WebhookDeliveryFilter,
  ): Promise<WebhookDelivery[]>;
  clearWebhookDeliveries(): void;
  /** Balance in USD, or undefined for an unknown key. */
  balanceOf(key: string): number | undefined;
  /** Sets a key's balance in USD, adding the key if it is new. */
  setBalance(key: string, usd: number): void;
  /** Live jobs, oldest first. */
  jobs(): JobSummary[];
  job(requestId: string): JobSummary | undefined;
  /** Back to the state at start: faults, logs, rate windows, balances, jobs, webhooks. */
  reset(): void;
}

const DEFAULTS = {
  port: 0,
  host: '127.0.0.1',
  keys: { 'dev-key': 5 },
  timeScale: 1,
  rateLimit: { requests: 60, windowMs: 10_000 },
  seed: 1,
  jobTtlMs: 60 * 60 * 1000,
  maxJobs: 10_000,
  requestLogSize: 1000,
  webhookLogSize: 1000,
  imageCacheBytes: 64 * 1024 * 1024,
  controlEndpoints: true,
} as const;

export async function startPixazoSim(options: PixazoSimOptions = {}): Promise<PixazoSim> {
  const o = { ...DEFAULTS, ...withoutUndefined(options) };
  checkOptions(o);
  const random = seededRandom(o.seed);
  const faults = new Faults(random);
  if (options.faults) faults.set(options.faults);
  const ctx: SimContext = {
    baseUrl: '',
    timeScale: o.timeScale,
    jobs: new JobStore({ ttlMs: o.jobTtlMs, maxJobs: o.maxJobs }),
    wallet: new Wallet(o.keys),
    faults,
    rateLimiter: new RateLimiter(o.rateLimit === false ? null : o.rateLimit),
    log: new RingLog(o.requestLogSize),
    images: new ImageCache(o.imageCacheBytes),
    webhooks: new WebhookSender(o.timeScale, o.webhookLogSize),
    timingRandom: seededRandom(o.seed + 1),
    reset() {
      ctx.faults.reset();
      ctx.log.clear();
      ctx.rateLimiter.reset();
      ctx.wallet.reset();
      ctx.jobs.clear();
      ctx.webhooks.cancelAll();
      ctx.webhooks.clearLog();
    },
  };

  const server = createServer();
  server.listen(o.port, o.host);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  ctx.baseUrl = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  server.on('request', createRequestHandler(ctx, { controlEndpoints: o.controlEndpoints }));

  // Unread finished jobs would otherwise stay until evicted by count.
  const sweep = setInterval(() => ctx.jobs.sweep(Date.now()), Math.min(o.jobTtlMs, 60_000));
  sweep.unref();

  return {
    url: ctx.baseUrl,
    port,
    async close() {
      clearInterval(sweep);
      ctx.webhooks.cancelAll();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
    setFaults: (update) => faults.set(update),
    resetFaults: () => faults.reset(),
    faults: () => faults.snapshot(),
    requests: (filter) => ctx.log.entries(filter),
    countRequests: (filter) => ctx.log.entries(filter).length,
    clearRequests: () => ctx.log.clear(),
    webhookDeliveries: (filter) => ctx.webhooks.deliveries(filter),
    waitForWebhookDeliveries: (count, filter) => ctx.webhooks.waitFor(count, filter),
    clearWebhookDeliveries: () => ctx.webhooks.clearLog(),
    balanceOf(key) {
      const balance = ctx.wallet.balance(key, Date.now());
      return balance === undefined ? undefined : microUsdToUsd(balance);
    },
    setBalance: (key, usd) => ctx.wallet.set(key, usd),
    jobs() {
      const now = Date.now();
      return ctx.jobs.list(now).map((job) => jobSummary(job, now));
    },
    job(requestId) {
      const now = Date.now();
      const job = ctx.jobs.get(requestId, now);
      return job && jobSummary(job, now);
    },
    reset: () => ctx.reset(),
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkOptions(o: Required<Omit<PixazoSimOptions, 'faults'>>): void {
  const positive = (name: string, value: number) => {
    if (!(Number.isFinite(value) && value > 0)) {
      throw new RangeError(`pixazo-sim: ${name} must be a positive number, got ${value}`);
    }
  };
  positive('timeScale', o.timeScale);
  positive('jobTtlMs', o.jobTtlMs);
  positive('maxJobs', o.maxJobs);
  positive('requestLogSize', o.requestLogSize);
  positive('webhookLogSize', o.webhookLogSize);
  positive('imageCacheBytes', o.imageCacheBytes);
  if (o.rateLimit) {
    positive('rateLimit.requests', o.rateLimit.requests);
    positive('rateLimit.windowMs', o.rateLimit.windowMs);
  }
  for (const [key, usd] of Object.entries(o.keys)) {
    if (!key || !(Number.isFinite(usd) && usd >= 0)) {
      throw new RangeError('pixazo-sim: every key needs a non-empty name and a balance ≥ 0 USD');
    }
  }
}
