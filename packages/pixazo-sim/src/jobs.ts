/**
 * Simulated Pixazo jobs. A job's status is computed from the clock (created → processing →
 * terminal at fixed instants decided on acceptance), so thousands of jobs cost no timers.
 * The store bounds memory: finished jobs expire after a TTL, and past `maxJobs` the oldest
 * finished job (or, failing that, the oldest job) is evicted.
 */
import {
  expectedDurationMs,
  type GenerateParams,
  type ModelSpec,
  microUsdToUsd,
  type PixazoRequestBody,
  toRequestBody,
} from '@zimage/pixazo-spec';
import { uuidV7 } from './ids.ts';
import { mediaPath } from './paths.ts';

export type TerminalStatus = 'COMPLETED' | 'FAILED' | 'ERROR';
export type JobStatus = 'QUEUED' | 'PROCESSING' | TerminalStatus;

/** The share of a job's duration spent QUEUED; the rest is PROCESSING. */
const QUEUED_SHARE = 0.2;
/** Durations vary by up to ±10% around the model table's expectation, as real jobs do. */
const DURATION_JITTER = 0.1;

export const ERROR_TEXTS: Readonly<Record<Exclude<TerminalStatus, 'COMPLETED'>, string>> = {
  FAILED: 'Image generation failed: the model could not produce an image for this prompt',
  ERROR: 'Internal error while processing the request; you have not been charged',
};

export interface Job {
  id: string;
  model: ModelSpec;
  params: GenerateParams;
  /** Fingerprint of the key that submitted it: only that key may read its status. */
  ownerKeyId: string;
  costMicroUsd: number;
  createdAt: number;
  processingAt: number;
  endsAt: number;
  outcome: TerminalStatus;
  /** Accepted, then lost by Pixazo: its status answers 404 (a fault). */
  vanished: boolean;
}

export interface NewJob {
  model: ModelSpec;
  params: GenerateParams;
  ownerKeyId: string;
  costMicroUsd: number;
  outcome: TerminalStatus;
  vanished: boolean;
  now: number;
  timeScale: number;
  /** A number in [0, 1) that places the duration within its jitter band. */
  jitter: number;
}

export function createJob(spec: NewJob): Job {
  const expected = expectedDurationMs(spec.model, spec.params);
  const scale = spec.timeScale * (1 - DURATION_JITTER + 2 * DURATION_JITTER * spec.jitter);
  const duration = Math.max(1, Math.round(expected * scale));
  return {
    id: `${spec.model.pixazoId}_${uuidV7(spec.now)}`,
    model: spec.model,
    params: spec.params,
    ownerKeyId: spec.ownerKeyId,
    costMicroUsd: spec.costMicroUsd,
    createdAt: spec.now,
    processingAt: spec.now + Math.round(duration * QUEUED_SHARE),
    endsAt: spec.now + duration,
    outcome: spec.outcome,
    vanished: spec.vanished,
  };
}

export function statusAt(job: Job, at: number): JobStatus {
  if (at >= job.endsAt) return job.outcome;
  return at >= job.processingAt ? 'PROCESSING' : 'QUEUED';
}

/** Pixazo's status body (the GET answer and the webhook payload). */
export interface StatusBody {
  request_id: string;
  status: JobStatus;
  model_id: string;
  error: string | null;
  output: { media_url: string[]; media_type: string } | null;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

/** The job as Pixazo would describe it at instant `at`. */
export function statusBody(job: Job, at: number, baseUrl: string): StatusBody {
  const status = statusAt(job, at);
  const lastChange =
    status === 'QUEUED' ? job.createdAt : status === 'PROCESSING' ? job.processingAt : job.endsAt;
  const completedAt = status === 'QUEUED' || status === 'PROCESSING' ? null : job.endsAt;
  const { numImages, outputFormat } = job.params;
  return {
    request_id: job.id,
    status,
    model_id: job.model.pixazoId,
    error: status === 'FAILED' || status === 'ERROR' ? ERROR_TEXTS[status] : null,
    output:
      status === 'COMPLETED'
        ? {
            media_url: Array.from(
              { length: numImages },
              (_, i) => `${baseUrl}${mediaPath(job.id, i, outputFormat)}`,
            ),
            // As the seed shows: Pixazo does not name the image type here; the file does.
            media_type: 'application/octet-stream',
          }
        : null,
    created_at: new Date(job.createdAt).toISOString(),
    updated_at: new Date(lastChange).toISOString(),
    completed_at: completedAt === null ? null : new Date(completedAt).toISOString(),
  };
}

/** What the control surface shows of a job: the status plus the simulator's own decisions. */
export interface JobSummary {
  request_id: string;
  model_id: string;
  /** The body as validated, defaults filled in. */
  request: PixazoRequestBody;
  status: JobStatus;
  /** How the job ends (or ended). */
  outcome: TerminalStatus;
  vanished: boolean;
  cost_usd: number;
  created_at: string;
  ends_at: string;
}

export function jobSummary(job: Job, at: number): JobSummary {
  return {
    request_id: job.id,
    model_id: job.model.pixazoId,
    request: toRequestBody(job.params),
    status: statusAt(job, at),
    outcome: job.outcome,
    vanished: job.vanished,
    cost_usd: microUsdToUsd(job.costMicroUsd),
    created_at: new Date(job.createdAt).toISOString(),
    ends_at: new Date(job.endsAt).toISOString(),
  };
}

export interface JobStoreLimits {
  /** How long a finished job stays readable after it ends. */
  ttlMs: number;
  maxJobs: number;
}

export class JobStore {
  readonly #jobs = new Map<string, Job>();
  readonly #limits: JobStoreLimits;

  constructor(limits: JobStoreLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#jobs.size;
  }

  add(job: Job, now: number): void {
    while (this.#jobs.size >= this.#limits.maxJobs) this.#evictOne(now);
    this.#jobs.set(job.id, job);
  }

  /** The job, unless it is unknown or has expired. */
  get(id: string, now: number): Job | undefined {
    const job = this.#jobs.get(id);
    if (job && this.#expired(job, now)) {
      this.#jobs.delete(id);
      return undefined;
    }
    return job;
  }

  /** Drops every expired job; run periodically so that unread jobs do not pile up. */
  sweep(now: number): void {
    for (const [id, job] of this.#jobs) if (this.#expired(job, now)) this.#jobs.delete(id);
  }

  /** Every live job, oldest first. */
  list(now: number): Job[] {
    this.sweep(now);
    return [...this.#jobs.values()];
  }

  clear(): void {
    this.#jobs.clear();
  }

  #expired(job: Job, now: number): boolean {
    return now >= job.endsAt + this.#limits.ttlMs;
  }

  #evictOne(now: number): void {
    // Map iteration follows insertion order, i.e. oldest first.
    let oldest: string | undefined;
    for (const [id, job] of this.#jobs) {
      oldest ??= id;
      if (now >= job.endsAt) {
        this.#jobs.delete(id);
        return;
      }
    }
    if (oldest !== undefined) this.#jobs.delete(oldest);
  }
}
