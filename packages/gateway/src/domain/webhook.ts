/**
 * Outbound webhooks: a job's `webhookUrl` receives the job when it enters one of its
 * `webhookEvents`. A delivery is one (job, event) message with one `webhook-id`, written to the
 * store's outbox in the same transaction as the status change; each try at it is an attempt.
 */
import { isTerminal, JOB_STATUSES, type JobRecord, type JobStatus } from './job.ts';

/** What `webhookEvents` means when left out: the terminal statuses. */
export const DEFAULT_WEBHOOK_EVENTS: readonly JobStatus[] = JOB_STATUSES.filter(isTerminal);

/** True when the job, in its current status, is to be delivered to its webhook URL. */
export function wantsWebhook(job: Pick<JobRecord, 'webhookUrl' | 'webhookEvents' | 'status'>) {
  return job.webhookUrl !== null && job.webhookEvents.includes(job.status);
}

/** One message of the outbox, as a worker claims it. */
export interface WebhookDelivery {
  /** `msg_…`: the webhook-id header, the same for every attempt. */
  id: string;
  jobId: string;
  /** The key whose signing secret signs it (the job's owner). */
  keyId: string;
  event: JobStatus;
  url: string;
  /** The job as it was when it entered `event`. */
  job: JobRecord;
  /** When the job entered `event` (the body's timestamp). */
  createdAt: Date;
  /** Attempts made so far. */
  attempts: number;
}

/** One try at a delivery, as Job.webhookDeliveries lists it. */
export interface WebhookAttempt {
  deliveryId: string;
  event: JobStatus;
  /** 1 for the first try. */
  attempt: number;
  at: Date;
  /** The receiver's HTTP status; null when no answer came. */
  statusCode: number | null;
  error: string | null;
  /** When the next try is planned; null once delivered or given up. */
  nextAttemptAt: Date | null;
}
