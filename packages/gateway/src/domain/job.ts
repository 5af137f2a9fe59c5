/**
 * The gateway's job record and its state machine. Public statuses are the contract's
 * JobStatus; `submission` says where a QUEUED job is relative to Pixazo, because "QUEUED in
 * our queue" and "QUEUED at Pixazo" must be told apart to never POST twice.
 */
import type { JobStatus } from '@zimage/contract';
import type { GenerateParams } from '@zimage/core';

export {
  isTerminalStatus as isTerminal,
  JOB_STATUSES,
  type JobStatus,
} from '@zimage/contract';

/**
 * - `pending`: in the gateway's own queue; nothing sent to Pixazo yet (cancel is free).
 * - `submitting`: the generate POST is in flight, or its outcome is unknown (a lost answer, a
 *   crash): the job is never re-sent. Polling mode ends it ERROR at once; webhook mode waits
 *   for its callback until a deadline (job-tracker.ts), then ends it ERROR.
 * - `submitted`: Pixazo returned a request id; tracked by webhook or polling.
 */
export type SubmissionState = 'pending' | 'submitting' | 'submitted';

export interface StoredImage {
  /** Random, unguessable name under the image store's <jobId>/. */
  fileName: string;
  width: number;
  height: number;
  contentType: string;
  byteLength: number;
}

/** A job: its validated generate parameters (defaults filled in) and its lifecycle. */
export interface JobRecord extends GenerateParams {
  /** `job_<uuidv7 hex>`; sortable by creation time. */
  id: string;
  /** API key that created the job. */
  ownerKeyId: string;
  /** End user a trusted (act-as) key acted for; null otherwise. */
  endUserId: string | null;
  idempotencyKey: string | null;

  status: JobStatus;
  submission: SubmissionState;
  requestId: string | null;
  /** SHA-256 (hex) of the secret token in this job's webhook URL; null when polling. */
  webhookTokenHash: string | null;
  /** Where the gateway POSTs this job (outbound webhooks); null: nowhere. */
  webhookUrl: string | null;
  /** The statuses that are POSTed to `webhookUrl`; empty without one. */
  webhookEvents: JobStatus[];
  error: string | null;
  /** Exact cost in micro-USD (what Pixazo charges or charged; 0 once it ends ERROR or is cancelled before submission). */
  costMicroUsd: number;
  images: StoredImage[];
  /** Bumped on every change; a stale writer (out-of-order callback) loses. */
  version: number;

  createdAt: Date;
  updatedAt: Date;
  /** When Pixazo accepted the job (submitted). */
  startedAt: Date | null;
  completedAt: Date | null;
  /** When retention deleted the job's images (their URLs then answer 410 Gone). */
  imagesExpiredAt: Date | null;
}
