/**
 * The job engine: generate → admit (budget, concurrency, idempotency; one atomic store call) →
 * persist QUEUED → the gateway's own queue (at most `maxConcurrency` jobs at Pixazo) → submit
 * exactly once → track by webhook or polling → store images → persist → publish.
 *
 * Every state change is a compare-and-set on the job's version and is published only after it
 * is persisted (job-writer.ts). Nothing lives only in memory: after a restart, start() rebuilds
 * the queue and the trackers from the store.
 *
 * While Pixazo is known to refuse work (upstream-health.ts: wallet empty, key rejected,
 * unreachable), generate refuses new jobs before admission and the queue holds its jobs.
 */
import {
  costOfParams,
  DEFAULT_POLL_SCHEDULE,
  type PixazoClient,
  type PixazoStatus,
  type PollSchedule,
  parseStatusBody,
} from '@zimage/core';
import { type RepeatedRequest, repeatedRequest } from '../domain/admission.ts';
import { isTerminal, type JobRecord } from '../domain/job.ts';
import { type Logger, silentLogger } from '../domain/logger.ts';
import type { Principal } from '../domain/principal.ts';
import { GatewayError } from '../errors.ts';
import { newId } from '../ids.ts';
import { admissionError, utcDay } from '../limits/budget.ts';
import type { Metrics } from '../metrics.ts';
import type { PubSub } from '../pubsub/pubsub.ts';
import type { Store } from '../store/store.ts';
import type { GenerateRequest, JobEngine } from './engine.ts';
import { idempotencyKeyReused, readGenerateRequest } from './generate-request.ts';
import type { ImageStore } from './image-store.ts';
import { canAccessJob } from './job-access.ts';
import { createJobTracker, type TrackingOptions } from './job-tracker.ts';
import { createJobWriter } from './job-writer.ts';
import { createSubmissionQueue } from './submission-queue.ts';
import { createSubmitter, failSubmission, RESTARTED_WHILE_SUBMITTING } from './submitter.ts';
import { createUpstreamHealth, type UpstreamHealthOptions } from './upstream-health.ts';
import { webhookTokenMatches } from './webhook-token.ts';

export interface JobEngineOptions {
  /** Jobs at Pixazo at once (submitted and not ended); the rest wait in the gateway's queue. */
  maxConcurrency: number;
  /** PUBLIC_URL: set, Pixazo calls back (webhook mode); unset, the gateway polls. */
  publicUrl?: string | null | undefined;
  maxPromptLength: number;
  /**
   * Status reads in polling mode, and in webhook mode until Pixazo says PROCESSING; default
   * core's (first read near the expected duration, 8 s cap).
   */
  pollSchedule?: Partial<PollSchedule> | undefined;
  /** Webhook mode's safety-net polls; default first at 2× the expected duration, then every 45 s. */
  safetyNet?: Partial<TrackingOptions['safetyNet']> | undefined;
  /** Give up on a job factor × expected duration + margin after submission; default 10×, 60 s. */
  deadline?: Partial<TrackingOptions['deadline']> | undefined;
  /** Status 404s in a row before a request counts as vanished; default 3. */
  vanishedAfter404s?: number | undefined;
  /** Tries at a COMPLETED job's images; default 3. */
  maxDownloadAttempts?: number | undefined;
  /** How long stop() waits for generate POSTs in flight; default 15 s. */
  stopTimeoutMs?: number | undefined;
  /** Cooldowns after Pixazo refused work (and a clock for tests); see upstream-health.ts. */
  upstreamHealth?: UpstreamHealthOptions | undefined;
}

export interface JobEngineDeps {
  store: Store;
  pubsub: PubSub;
  pixazo: Pick<PixazoClient, 'submit' | 'getStatus' | 'download'>;
  images: ImageStore;
  options: JobEngineOptions;
  logger?: Logger | undefined;
  /** Counts status transitions, how Pixazo updates arrive (webhook or poll), upstream state. */
  metrics?:
    | Pick<Metrics, 'jobEnteredStatus' | 'jobUpdateReceived' | 'pixazoUpstreamState'>
    | undefined;
  now?: (() => Date) | undefined;
  newJobId?: (() => string) | undefined;
}

const DEFAULTS = {
  safetyNetIntervalMs: 45_000,
  deadline: { factor: 10, marginMs: 60_000 },
  vanishedAfter404s: 3,
  maxDownloadAttempts: 3,
  stopTimeoutMs: 15_000,
};

/** The earlier job of a repeated request; a key reused with other parameters is refused. */
function repeatedJob(repeat: RepeatedRequest): JobRecord {
  if (repeat.kind === 'idempotency_conflict') throw idempotencyKeyReused();
  return repeat.job;
}

/** Resolves when every promise has settled or after `ms`, whichever comes first. */
async function settledWithin(promises: Iterable<Promise<unknown>>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  await Promise.race([Promise.allSettled(promises), timeout]);
  clearTimeout(timer);
}

export function createJobEngine(deps: JobEngineDeps): JobEngine {
  const { store, pubsub, pixazo, images, options } = deps;
  const logger = deps.logger ?? silentLogger;
  const now = deps.now ?? (() => new Date());
  const newJobId = deps.newJobId ?? (() => newId('job'));
  const publicUrl = options.publicUrl || undefined;
  const stopping = new AbortController();
  /** Submissions and position notices under way, which stop() lets finish. */
  const background = new Set<Promise<unknown>>();
  let started = false;

  const runInBackground = (task: Promise<unknown>) => {
    const tracked = task.catch((error: unknown) => {
      logger.error({ err: error }, 'job engine background task failed');
    });
    background.add(tracked);
    void tracked.finally(() => background.delete(tracked));
  };

  const writer = createJobWriter({
    store,
    pubsub,
    logger,
    metrics: deps.metrics,
    // Whatever ended the job (Pixazo, a failure, a cancel), its slot and tracker go with it.
    onTerminal(job) {
      if (!queue.remove(job.id)) queue.release(job.id);
      tracker.untrack(job.id);
    },
  });

  const health = createUpstreamHealth({
    options: options.upstreamHealth,
    logger,
    metrics: deps.metrics,
  });

  const tracker = createJobTracker({
    pixazo,
    store,
    images,
    writer,
    logger,
    now,
    metrics: deps.metrics,
    health,
    options: {
      mode: publicUrl === undefined ? 'polling' : 'webhook',
      pollSchedule: { ...DEFAULT_POLL_SCHEDULE, ...options.pollSchedule },
      safetyNet: {
        firstDelayMs: options.safetyNet?.firstDelayMs,
        intervalMs: options.safetyNet?.intervalMs ?? DEFAULTS.safetyNetIntervalMs,
      },
      deadline: { ...DEFAULTS.deadline, ...options.deadline },
      vanishedAfter404s: options.vanishedAfter404s ?? DEFAULTS.vanishedAfter404s,
      maxDownloadAttempts: options.maxDownloadAttempts ?? DEFAULTS.maxDownloadAttempts,
    },
  });

  const submitter = createSubmitter({
    pixazo,
    writer,
    logger,
    now,
    publicUrl,
    health,
  });

  const submitAndTrack = async (jobId: string) => {
    const submitted = await submitter.submit(jobId).catch((error: unknown) => {
      logger.error({ jobId, err: error }, 'submitting a job failed');
      return null;
    });
    // Before the release below: a probe that ended without a verdict frees the probe first.
    health.submissionSettled(jobId);
    if (submitted === null) queue.release(jobId);
    // When stopping, a restart resumes tracking from the store.
    else if (!stopping.signal.aborted) tracker.track(submitted);
  };

  // Publishing the stored job is enough: subscribers read queuePosition from the engine.
  const publishPositions = async (jobIds: string[]) => {
    for (const jobId of jobIds) {
      const job = await store.getJob(jobId);
      if (job !== null && job.submission === 'pending' && !isTerminal(job.status)) {
        await writer.publish(job);
      }
    }
  };

  const queue = createSubmissionQueue({
    maxConcurrency: options.maxConcurrency,
    dispatch: (jobId) => runInBackground(submitAndTrack(jobId)),
    onPositionsChanged: (jobIds) => runInBackground(publishPositions(jobIds)),
    mayDispatch: (jobId) => health.maySubmit(jobId),
  });
  // A cooldown ended, a probe came back without a verdict, or Pixazo recovered.
  health.onReady(() => queue.wake());

  return {
    async generate(principal: Principal, request: GenerateRequest): Promise<JobRecord> {
      if (stopping.signal.aborted) {
        throw new GatewayError(
          'UPSTREAM_UNAVAILABLE',
          'The gateway is shutting down; try again shortly',
        );
      }
      const { params, endUserId, idempotencyKey } = readGenerateRequest(
        principal,
        request,
        options.maxPromptLength,
      );
      // Pixazo is known to refuse work: nothing is charged, stored or sent. A repeat of an
      // earlier request is still answered as admission answers it (its job, or the conflict).
      const refusal = health.refusal();
      if (refusal !== null) {
        const existing =
          idempotencyKey === null
            ? null
            : await store.findJobByIdempotencyKey(
                { keyId: principal.key.id, endUserId },
                idempotencyKey,
              );
        if (existing === null) throw refusal;
        return repeatedJob(repeatedRequest(existing, params));
      }
      const createdAt = now();
      const job: JobRecord = {
        id: newJobId(),
        ownerKeyId: principal.key.id,
        endUserId,
        idempotencyKey,
        ...params,
        status: 'QUEUED',
        submission: 'pending',
        requestId: null,
        webhookTokenHash: null,
        error: null,
        costMicroUsd: costOfParams(params).microUsd,
        images: [],
        version: 1,
        createdAt,
        updatedAt: createdAt,
        startedAt: null,
        completedAt: null,
      };
      const admission = await store.admitJob({
        job,
        day: utcDay(createdAt),
        keyLimits: principal.key.limits,
        endUserLimits: endUserId === null ? null : principal.key.endUserLimits,
      });
      switch (admission.kind) {
        case 'existing':
        case 'idempotency_conflict':
          return repeatedJob(admission);
        case 'created':
          deps.metrics?.jobEnteredStatus('QUEUED');
          // Queued before it is published, so that subscribers see its queuePosition. Its
          // submission cannot overtake this event: that starts with an (awaited) store read.
          queue.enqueue(admission.job.id);
          await writer.publish(admission.job);
          logger.info({ jobId: job.id, model: job.model, keyId: job.ownerKeyId }, 'job queued');
          return admission.job;
        default:
          throw admissionError(admission, job.costMicroUsd);
      }
    },

    async cancel(principal, jobId) {
      const job = await store.getJob(jobId);
      if (job === null || !canAccessJob(principal, job)) {
        throw new GatewayError('NOT_FOUND', `No job ${jobId}`);
      }
      if (isTerminal(job.status)) return job;
      const cancelled = await writer.change(
        jobId,
        (current) => {
          if (isTerminal(current.status)) return null;
          // Before submission nothing was sent, so nothing is owed; after it Pixazo bills anyway.
          const free = current.submission === 'pending';
          return { status: 'CANCELLED', completedAt: now(), ...(free ? { costMicroUsd: 0 } : {}) };
        },
        job,
      );
      return cancelled ?? (await store.getJob(jobId)) ?? job;
    },

    maxPromptLength: options.maxPromptLength,

    queuePosition: (jobId) => queue.position(jobId),

    async handleWebhook(jobId, token, body) {
      const job = await store.getJob(jobId);
      // An unknown job and a wrong token get the same answer after the same work, so the route
      // does not tell which job ids exist.
      const matches = webhookTokenMatches(token, job?.webhookTokenHash ?? null);
      if (job === null || !matches) return { status: 404 };
      // Duplicates and late callbacks of an ended job: acknowledged, nothing to do.
      if (isTerminal(job.status)) return { status: 200 };
      let claimed: PixazoStatus;
      try {
        claimed = parseStatusBody(body);
      } catch {
        return { status: 400 };
      }
      if (job.requestId !== null && claimed.requestId !== job.requestId) return { status: 400 };
      let confirmed: PixazoStatus;
      try {
        // Pixazo does not sign callbacks: only its own status endpoint is trusted.
        confirmed = await pixazo.getStatus(claimed.requestId, { signal: stopping.signal });
      } catch (error) {
        logger.warn({ jobId, err: error }, 'could not confirm a pixazo callback');
        return { status: 503 };
      }
      if (job.requestId === null) {
        // No request id yet (the POST's outcome is unknown, or its answer not persisted yet):
        // a confirmed callback (core checks the answer is of the request asked for) of this
        // job's model is Pixazo saying it took the job.
        if (confirmed.model !== job.model) return { status: 400 };
        // It changed meanwhile: Pixazo retries on a non-2xx answer, and the retry finds out.
        if (!(await tracker.adopt(jobId, confirmed))) return { status: 503 };
        logger.info(
          { jobId, requestId: confirmed.requestId },
          'job submission confirmed by callback',
        );
      }
      try {
        await tracker.apply(jobId, confirmed, 'webhook', stopping.signal);
      } catch (error) {
        logger.warn({ jobId, err: error }, 'applying a pixazo callback failed');
        return { status: 500 };
      }
      return { status: 200 };
    },

    async start() {
      if (started) return;
      started = true;
      for (const job of await store.listUnfinishedJobs()) {
        if (job.submission === 'pending') {
          queue.enqueue(job.id);
        } else if (job.submission === 'submitting' && !(publicUrl && job.webhookTokenHash)) {
          // Polling: nothing can reveal whether Pixazo took it.
          logger.warn({ jobId: job.id }, 'job was being submitted when the gateway stopped');
          await writer.change(
            job.id,
            failSubmission({ message: RESTARTED_WHILE_SUBMITTING, refund: false }, now()),
            job,
          );
        } else {
          // Submitted, or (webhook mode) sent with a callback URL that may still reveal it.
          queue.occupy(job.id);
          tracker.track(job);
        }
      }
      queue.start();
    },

    async stop() {
      stopping.abort();
      queue.pause();
      health.stop();
      // A POST cut short would leave its outcome unknown, so it gets time to finish.
      await settledWithin(background, options.stopTimeoutMs ?? DEFAULTS.stopTimeoutMs);
      await tracker.stopAll();
    },
  };
}
