/**
 * Sends the outbox (Store.claimWebhookDeliveries): claims due deliveries under a lease, POSTs
 * each signed per Standard Webhooks, and records every attempt with the next one planned on
 * the retry schedule (WEBHOOK_RETRY_SECONDS), or none once delivered or given up. Sends run
 * apart from job processing, at most `concurrency` at once and `perReceiver` per receiver URL,
 * each bounded by `timeoutMs`: a slow or dead receiver holds its own slots only.
 */
import type { JobRecord } from '../domain/job.ts';
import type { Logger } from '../domain/logger.ts';
import type { WebhookDelivery } from '../domain/webhook.ts';
import type { Metrics } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import { postWebhook } from './post-webhook.ts';
import { signWebhook, type WebhookSecrets } from './signing-secrets.ts';

/** The job as GraphQL returns it (field names and values, image URLs absolute). */
export type RenderJob = (job: JobRecord) => Promise<unknown>;

export interface WebhookWorkerOptions {
  /** Seconds before each retry; its length is how many retries follow the first attempt. */
  retrySeconds: readonly number[];
  allowPrivateAddresses: boolean;
  /** One attempt's deadline; default 10 s. */
  timeoutMs?: number | undefined;
  /** Sends at once; default 16. */
  concurrency?: number | undefined;
  /** Sends at once to one receiver URL (across every instance); default 4. */
  perReceiver?: number | undefined;
  /** How often the outbox is looked at without a nudge (retries come due, other instances); default 1 s. */
  pollMs?: number | undefined;
}

export interface WebhookWorkerDeps {
  store: Store;
  secrets: WebhookSecrets;
  render: RenderJob;
  instanceId: string;
  options: WebhookWorkerOptions;
  logger: Logger;
  metrics?: Pick<Metrics, 'webhookDelivered'> | undefined;
  now?: (() => Date) | undefined;
}

export interface WebhookWorker {
  start(): void;
  /** A delivery may have been written: look now. */
  nudge(): void;
  /** Stops claiming and waits for the sends in flight (each bounded by its timeout). */
  stop(): Promise<void>;
}

const DEFAULTS = { timeoutMs: 10_000, concurrency: 16, perReceiver: 4, pollMs: 1000 };
/** A claim is held this much longer than an attempt may take (secret, render, record). */
const LEASE_MARGIN_MS = 60_000;

/** What a Standard Webhooks receiver gets for one attempt at `delivery`. */
export function webhookMessage(
  delivery: WebhookDelivery,
  data: unknown,
  secret: string,
  sentAt: Date,
): { headers: Record<string, string>; body: string } {
  const body = JSON.stringify({
    type: `job.${delivery.event.toLowerCase()}`,
    timestamp: delivery.createdAt.toISOString(),
    data,
  });
  const timestamp = Math.floor(sentAt.getTime() / 1000);
  return {
    body,
    headers: {
      'webhook-id': delivery.id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signWebhook(secret, delivery.id, timestamp, body),
    },
  };
}

export function createWebhookWorker(deps: WebhookWorkerDeps): WebhookWorker {
  const { store, options, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const concurrency = options.concurrency ?? DEFAULTS.concurrency;
  const perReceiver = options.perReceiver ?? DEFAULTS.perReceiver;
  const sending = new Set<Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let claiming: Promise<void> | null = null;
  let lookAgain = false;

  const attempt = async (delivery: WebhookDelivery) => {
    const attemptNumber = delivery.attempts + 1;
    let outcome: { statusCode: number | null; error: string | null };
    try {
      const [secret, data] = await Promise.all([
        deps.secrets.get(delivery.keyId),
        deps.render(delivery.job),
      ]);
      const message = webhookMessage(delivery, data, secret, now());
      outcome = await postWebhook({
        url: delivery.url,
        ...message,
        timeoutMs,
        allowPrivate: options.allowPrivateAddresses,
      });
    } catch (error) {
      logger.error({ err: error, deliveryId: delivery.id }, 'preparing a webhook failed');
      outcome = { statusCode: null, error: 'the gateway could not prepare this delivery' };
    }
    const delivered = outcome.error === null;
    const retryIn = options.retrySeconds[attemptNumber - 1];
    const nextAttemptAt =
      delivered || retryIn === undefined ? null : new Date(now().getTime() + retryIn * 1000);
    const recorded = await store.recordWebhookAttempt({
      deliveryId: delivery.id,
      instanceId: deps.instanceId,
      at: now(),
      statusCode: outcome.statusCode,
      error: outcome.error,
      nextAttemptAt,
    });
    if (!recorded) return;
    const result = delivered ? 'delivered' : nextAttemptAt ? 'retrying' : 'gave_up';
    deps.metrics?.webhookDelivered(result);
    const log = { deliveryId: delivery.id, jobId: delivery.jobId, attempt: attemptNumber };
    if (delivered) logger.debug(log, 'webhook delivered');
    else logger.warn({ ...log, error: outcome.error, nextAttemptAt }, `webhook ${result}`);
  };

  const claim = async () => {
    try {
      do {
        lookAgain = false;
        const room = concurrency - sending.size;
        if (room <= 0 || stopped) break;
        const at = now();
        const claimed = await store.claimWebhookDeliveries({
          instanceId: deps.instanceId,
          at,
          leaseUntil: new Date(at.getTime() + timeoutMs + LEASE_MARGIN_MS),
          limit: room,
          perReceiver,
        });
        for (const delivery of claimed) {
          const send = attempt(delivery)
            .catch((error: unknown) => {
              logger.error({ err: error, deliveryId: delivery.id }, 'recording a webhook failed');
            })
            .finally(() => {
              sending.delete(send);
              nudge();
            });
          sending.add(send);
        }
        if (claimed.length === room) lookAgain = true;
      } while (lookAgain);
    } catch (error) {
      logger.error({ err: error }, 'claiming webhook deliveries failed');
    }
  };

  const nudge = () => {
    if (stopped) return;
    if (claiming) {
      lookAgain = true;
      return;
    }
    // Cleared in a later microtask, never before it is set (a claim with no room ends at once).
    claiming = claim().finally(() => {
      claiming = null;
    });
  };

  return {
    start() {
      timer = setInterval(nudge, options.pollMs ?? DEFAULTS.pollMs);
      timer.unref();
      nudge();
    },
    nudge,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await claiming;
      // Sends under way finish (each within its timeout) so that their attempts are recorded.
      await Promise.allSettled([...sending]);
    },
  };
}
