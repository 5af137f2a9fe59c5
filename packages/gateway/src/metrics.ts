/**
 * The gateway's Prometheus metrics, served as text at /metrics. Each gateway owns its registry
 * (not prom-client's global one) so several gateways can live in one process, as in tests.
 * The job engine reports through the small typed `Metrics` object; names are listed in
 * docs/operations.md.
 */
import { type FetchFn, MODEL_LIST } from '@zimage/core';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { JobStatus } from './domain/job.ts';

export type UpdateSource = 'webhook' | 'poll';

/** What became of one attempt at an outbound webhook. */
export type WebhookOutcome = 'delivered' | 'retrying' | 'gave_up';

/** Values read at every scrape, cheaper to read than to keep up to date. */
export interface MetricReadings {
  queueDepth: () => number | Promise<number>;
  /** Outbound webhook deliveries neither delivered nor given up. */
  webhookQueueDepth: () => number | Promise<number>;
  webSocketConnections: () => number;
  webSocketSubscriptions: () => number;
  sharedSubscriptionSources: () => number;
  /** What the image store holds (a listing, so the reader caches it). */
  storedImages: () => Promise<{ objects: number; bytes: number }>;
}

/** How one run of the image retention sweeper ended. */
export type SweepResult = 'swept' | 'skipped' | 'failed';

export interface Metrics {
  readonly registry: Registry;
  /** A job's persisted status became `status` (the engine calls this once per transition). */
  jobEnteredStatus(status: JobStatus): void;
  /** A tracked job's new Pixazo status arrived by webhook or by polling. */
  jobUpdateReceived(source: UpdateSource): void;
  /** Pixazo became degraded (wallet empty, key rejected, unreachable) or healthy again. */
  pixazoUpstreamState(degraded: boolean): void;
  /** A fetch that counts every Pixazo call by route and status code; give it to the client. */
  countPixazoCalls(fetch?: FetchFn): FetchFn;
  /** Answer of /webhooks/pixazo/…, by HTTP status. */
  webhookAnswered(status: number): void;
  /** An attempt at an outbound webhook ended so. */
  webhookDelivered(outcome: WebhookOutcome): void;
  /** A call to the image store (put, head, read, delete, list) failed. */
  imageStoreError(operation: string): void;
  /** A retention sweep ran (or was skipped: another instance holds the sweep); objects it deleted. */
  imageSweep(result: SweepResult, deletedObjects: number): void;
  sseSubscriptionOpened(): void;
  sseSubscriptionClosed(): void;
  observe(readings: Partial<MetricReadings>): void;
  /** Prometheus text exposition. */
  render(): Promise<string>;
}

const STATUS_PATH = '/v2/requests/status/';

/** A bounded label: the generate route of a model, status GETs, or media downloads. */
function pixazoRoute(url: string): string {
  const { pathname } = new URL(url);
  const model = MODEL_LIST.find((spec) => pathname.endsWith(spec.requestPath));
  if (model) return `generate_${model.key}`;
  if (pathname.includes(STATUS_PATH)) return 'status';
  return 'media';
}

function urlOf(input: Parameters<FetchFn>[0]): string {
  if (typeof input === 'string') return input;
  return input instanceof URL ? input.href : input.url;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'zimage_' });

  const jobsByStatus = new Counter({
    name: 'zimage_jobs_total',
    help: 'Jobs that entered each status',
    labelNames: ['status'] as const,
    registers: [registry],
  });
  const jobUpdates = new Counter({
    name: 'zimage_job_updates_total',
    help: 'Pixazo status updates of tracked jobs, by how they arrived (webhook or poll)',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  const pixazoRequests = new Counter({
    name: 'zimage_pixazo_requests_total',
    help: 'HTTP requests to Pixazo by route and status code (network_error: no answer)',
    labelNames: ['route', 'code'] as const,
    registers: [registry],
  });
  const webhookRequests = new Counter({
    name: 'zimage_webhook_requests_total',
    help: 'Pixazo callbacks received, by the HTTP status answered',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const webhookDeliveries = new Counter({
    name: 'zimage_webhook_deliveries_total',
    help:
      'Attempts at outbound webhooks (jobs POSTed to their webhookUrl), by outcome: delivered, ' +
      'retrying (failed, another attempt planned), gave_up (failed, no attempt left)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const upstreamState = new Gauge({
    name: 'zimage_pixazo_upstream_state',
    help:
      "Pixazo's ability to take new work as the gateway last saw it: 0 healthy, 1 degraded " +
      '(wallet empty, key rejected or unreachable: new jobs refused or held)',
    registers: [registry],
  });
  upstreamState.set(0);
  const imageStoreErrors = new Counter({
    name: 'zimage_image_store_errors_total',
    help: 'Failed calls to the image store (local directory or S3), by operation',
    labelNames: ['operation'] as const,
    registers: [registry],
  });
  const imageSweeps = new Counter({
    name: 'zimage_image_sweeps_total',
    help: 'Runs of the image retention sweeper, by result (skipped: another instance sweeps)',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  const imageSweepDeletions = new Counter({
    name: 'zimage_image_sweep_deleted_objects_total',
    help: 'Images deleted by the retention sweeper',
    registers: [registry],
  });
  const readings: Partial<MetricReadings> = {};
  // A failed listing (counted as a store error) leaves the last values.
  const storedImages = async () => (await readings.storedImages?.().catch(() => null)) ?? null;
  new Gauge({
    name: 'zimage_images_stored_bytes',
    help: 'Bytes of images in the image store',
    registers: [registry],
    async collect() {
      const usage = await storedImages();
      if (usage) this.set(usage.bytes);
    },
  });
  new Gauge({
    name: 'zimage_images_stored_objects',
    help: 'Images in the image store',
    registers: [registry],
    async collect() {
      const usage = await storedImages();
      if (usage) this.set(usage.objects);
    },
  });
  let sseSubscriptions = 0;
  new Gauge({
    name: 'zimage_subscriptions_open',
    help: 'Open GraphQL subscriptions by transport (ws: graphql-ws, sse: server-sent events)',
    labelNames: ['transport'] as const,
    registers: [registry],
    collect() {
      this.set({ transport: 'ws' }, readings.webSocketSubscriptions?.() ?? 0);
      this.set({ transport: 'sse' }, sseSubscriptions);
    },
  });
  new Gauge({
    name: 'zimage_websockets_open',
    help: 'Open graphql-ws connections',
    registers: [registry],
    collect() {
      this.set(readings.webSocketConnections?.() ?? 0);
    },
  });
  new Gauge({
    name: 'zimage_subscription_sources',
    help: 'Distinct graphql-ws subscriptions, each executed once and shared by its subscribers',
    registers: [registry],
    collect() {
      this.set(readings.sharedSubscriptionSources?.() ?? 0);
    },
  });
  new Gauge({
    name: 'zimage_queue_depth',
    help: "Jobs waiting in the gateway's own queue (not yet sent to Pixazo)",
    registers: [registry],
    async collect() {
      this.set((await readings.queueDepth?.()) ?? 0);
    },
  });

  new Gauge({
    name: 'zimage_webhook_queue_depth',
    help: 'Outbound webhook deliveries waiting to be sent or retried (not delivered, not given up)',
    registers: [registry],
    async collect() {
      this.set((await readings.webhookQueueDepth?.()) ?? 0);
    },
  });

  return {
    registry,
    jobEnteredStatus: (status) => jobsByStatus.inc({ status }),
    jobUpdateReceived: (source) => jobUpdates.inc({ source }),
    pixazoUpstreamState: (degraded) => upstreamState.set(degraded ? 1 : 0),
    countPixazoCalls(fetch = globalThis.fetch) {
      return async (input, init) => {
        const route = pixazoRoute(urlOf(input));
        try {
          const response = await fetch(input, init);
          pixazoRequests.inc({ route, code: String(response.status) });
          return response;
        } catch (error) {
          pixazoRequests.inc({ route, code: 'network_error' });
          throw error;
        }
      };
    },
    webhookAnswered: (status) => webhookRequests.inc({ code: String(status) }),
    webhookDelivered: (outcome) => webhookDeliveries.inc({ outcome }),
    imageStoreError: (operation) => imageStoreErrors.inc({ operation }),
    imageSweep(result, deletedObjects) {
      imageSweeps.inc({ result });
      imageSweepDeletions.inc(deletedObjects);
    },
    sseSubscriptionOpened: () => {
      sseSubscriptions++;
    },
    sseSubscriptionClosed: () => {
      sseSubscriptions--;
    },
    observe: (given) => Object.assign(readings, given),
    render: () => registry.metrics(),
  };
}
