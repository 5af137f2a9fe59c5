/**
 * The job engine: generate → admit (budget, concurrency, idempotency; one atomic store call) →
 * persist QUEUED → the gateway's own queue (at most `maxConcurrency` jobs at Pixazo, across
 * every instance) → claim → submit exactly once → track by webhook or polling → store images →
 * persist → publish.
 *
 * Every state change is a compare-and-set on the job's version and is published only after it
 * is persisted (job-writer.ts). Nothing lives only in memory, so the same code runs one
 * process on SQLite and many on one PostgreSQL database:
 * - the queue is the store's pending jobs, oldest first; dispatch claims them
 *   (Store.claimPendingJobs: atomically under the global cap, marked 'submitting' and owned
 *   by this instance), then POSTs. It claims when this instance admits a job or a job ends
 *   here (a stopping instance asks the others instead: `onDispatchable`), when `nudge()` says
 *   another instance did, and every `dispatchIntervalMs` anyway;
 * - each instance heartbeats; the unfinished jobs of an instance that stopped, or whose
 *   heartbeat went stale, are adopted (one winner) by a live one, which tracks them (a
 *   'submitting' one ends ERROR, charge kept and never re-sent, unless its callback may still
 *   reveal it). A start adopts at once what a stopped or (single-process store) earlier run
 *   left.
 *
 * While Pixazo is known to refuse work (upstream-health.ts: wallet empty, key rejected,
 * unreachable; shared through the store by every instance), generate refuses new jobs before
 * admission and dispatch claims nothing but the one probe after a cooldown.
 */
import {
  costOfParams,
  DEFAULT_POLL_SCHEDULE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  type PixazoClient,
  type PixazoStatus,
  type PollSchedule,
  parseStatusBody,
} from '@zimage/core';
import { type RepeatedRequest, repeatedRequest } from '../domain/admission.ts';
import { isTerminal, type JobRecord } from '../domain/job.ts';
import { type Logger, silentLogger } from '../domain/logger.ts';
import type { Principal } from '../domain/principal.ts';
import { alreadySent, GatewayError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { ImageStore } from '../images/image-store.ts';
import { admissionError, utcDay } from '../limits/budget.ts';
import type { Metrics } from '../metrics.ts';
import type { PubSub } from '../pubsub/pubsub.ts';
import type { Store } from '../store/store.ts';
import type { GenerateRequest, JobEngine } from './engine.ts';
import {
  idempotencyKeyReused,
  readGenerateRequest,
  readWebhookRequest,
} from './generate-request.ts';
import { canAccessJob } from './job-access.ts';
import { createJobTracker, type TrackingOptions } from './job-tracker.ts';
import { createJobWriter } from './job-writer.ts';
import { createSubmitter, failSubmission, STOPPED_WHILE_SUBMITTING } from './submitter.ts';
import { createUpstreamHealth, type UpstreamHealthOptions } from './upstream-health.ts';
import { webhookTokenMatches } from './webhook-token.ts';

export interface JobEngineOptions {
  /**
   * Jobs at Pixazo at once (being sent or submitted, not ended), across every instance on the
   * store; the rest wait in the gateway's queue.
   */
  maxConcurrency: number;
  /** How often dispatch looks for pending jobs without being nudged; default 1 s. */
  dispatchIntervalMs?: number | undefined;
  /**
   * Heartbeats: every `heartbeatMs` (default 5 s) this instance says it lives and adopts the
   * jobs of instances silent for `ttlMs` (default 30 s). A 'submitting' job is adopted only
   * once its instance has also been silent longer than a POST can take (`submitTimeoutMs`,
   * each generate POST's timeout; default core's request timeout).
   */
  instances?:
    | {
        heartbeatMs?: number | undefined;
        ttlMs?: number | undefined;
        submitTimeoutMs?: number | undefined;
      }
    | undefined;
  /** PUBLIC_URL: set, Pixazo calls back (webhook mode); unset, the gateway polls. */
  publicUrl?: string | null | undefined;
  maxPromptLength: number;
  /**
   * Status reads in polling mode, and in webhook mode until Pixazo says PROCESSING; default
   * core's (reads at 0.9, 1 and 1.15 of the expected duration, then backing off to 8 s).
   */
  pollSchedule?: Partial<PollSchedule> | undefined;
  /** Pixazo's pace against the model table (TrackingOptions.durationScale); default 1. */
  durationScale?: number | undefined;
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
  /** WEBHOOK_ALLOW_PRIVATE_ADDRESSES: outbound webhook URLs may name private hosts; default false. */
  allowPrivateWebhookAddresses?: boolean | undefined;
}

export interface JobEngineDeps {
  store: Store;
  pubsub: PubSub;
  pixazo: Pick<PixazoClient, 'submit' | 'getStatus' | 'streamDownload'>;
  images: ImageStore;
  options: JobEngineOptions;
  logger?: Logger | undefined;
  /** Counts status transitions, how Pixazo updates arrive (webhook or poll), upstream state. */
  metrics?:
    | Pick<Metrics, 'jobEnteredStatus' | 'jobUpdateReceived' | 'pixazoUpstreamState'>
    | undefined;
  now?: (() => Date) | undefined;
  newJobId?: (() => string) | undefined;
  /**
   * Called when this instance made work dispatchable (admitted a job, or freed a place under
   * the cap) but will not claim it itself, as it is stopping: other instances should be nudged
   * (their `nudge()`); they also look every `dispatchIntervalMs` anyway. While it runs, its own
   * claim takes all the room there is, so nudging the others would only cost each of them a
   * claim under the one dispatch lock.
   */
  onDispatchable?: (() => void) | undefined;
  /** Called after a job was admitted or changed (persisted): the outbound webhooks look. */
  onJobChanged?: ((job: JobRecord) => void) | undefined;
}

const DEFAULTS = {
  safetyNetIntervalMs: 45_000,
  deadline: { factor: 10, marginMs: 60_000 },
  vanishedAfter404s: 3,
  maxDownloadAttempts: 3,
  stopTimeoutMs: 15_000,
  dispatchIntervalMs: 1000,
  heartbeatMs: 5000,
  ttlMs: 30_000,
  /** Pending jobs told their new queue position after a claim or a cancel, from the head. */
  positionNotices: 100,
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
  if (!Number.isInteger(options.maxConcurrency) || options.maxConcurrency < 1) {
    throw new RangeError('maxConcurrency must be a positive integer');
  }
  const logger = deps.logger ?? silentLogger;
  const now = deps.now ?? (() => new Date());
  const newJobId = deps.newJobId ?? (() => newId('job'));
  const publicUrl = options.publicUrl || undefined;
  const instanceId = newId('inst');
  const ttlMs = options.instances?.ttlMs ?? DEFAULTS.ttlMs;
  const submitTimeoutMs = options.instances?.submitTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const stopping = new AbortController();
  /** Claims, submissions and position notices under way, which stop() lets finish. */
  const background = new Set<Promise<unknown>>();
  const timers: NodeJS.Timeout[] = [];
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
    onChanged: deps.onJobChanged,
    // Whatever ended the job (Pixazo, a failure, a cancel), its tracker goes with it; its place
    // under the cap (or in the queue) is the store's, so the next job may go.
    onTerminal(job) {
      tracker.untrack(job.id);
      if (job.submission === 'pending') runInBackground(publishPositions());
      else dispatchHere();
    },
  });

  const health = createUpstreamHealth({
    options: options.upstreamHealth,
    logger,
    metrics: deps.metrics,
    // Several instances honour one upstream state and send one probe between them.
    shared: store.singleProcess ? undefined : { store, instanceId },
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
      durationScale: options.durationScale ?? 1,
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
    timeoutMs: submitTimeoutMs,
  });

  const submitAndTrack = async (claimed: JobRecord) => {
    const submitted = await submitter.submit(claimed).catch((error: unknown) => {
      logger.error({ jobId: claimed.id, err: error }, 'submitting a job failed');
      return null;
    });
    // A probe that ended without a verdict frees the probe, and the next job may probe.
    health.submissionSettled(claimed.id);
    // When stopping, a live instance (or a restart) adopts it from the store.
    if (submitted !== null && !stopping.signal.aborted) tracker.track(submitted);
  };

  // Publishing the stored job is enough: subscribers read queuePosition from the store.
  const publishPositions = async () => {
    for (const job of await store.listPendingJobs(DEFAULTS.positionNotices)) {
      await writer.publish(job);
    }
  };

  /**
   * Claims what the cap and the upstream health allow, and sends it; true when the claim took
   * as many as it asked for (more may wait).
   */
  const claimAndSend = async (): Promise<boolean> => {
    await health.sync();
    const healthy = health.state() === null;
    // After a cooldown: one probe, taken across instances before the job it sends.
    if (!healthy && !(await health.takeProbe())) return false;
    const limit = healthy ? options.maxConcurrency : 1;
    const claimed = await store.claimPendingJobs({
      instanceId,
      maxInFlight: options.maxConcurrency,
      limit,
    });
    if (!healthy) {
      // Should a condition have been met meanwhile, the job goes anyway (it is claimed, and
      // can never wait again).
      if (claimed[0] === undefined) await health.releaseProbe();
      else health.maySubmit(claimed[0].id);
    }
    for (const job of claimed) {
      await writer.publish(job);
      runInBackground(submitAndTrack(job));
    }
    if (claimed.length > 0) await publishPositions();
    // Fewer than asked: the queue is empty or the cap is reached, and a claim now would find
    // the same (news of either calls dispatch again).
    return claimed.length === limit && healthy;
  };

  let claiming = false;
  let claimAgain = false;
  /** Claims now, or right after the claim under way (which may have missed the news). */
  const dispatch = () => {
    if (!started || stopping.signal.aborted) return;
    if (claiming) {
      claimAgain = true;
      return;
    }
    claiming = true;
    runInBackground(
      (async () => {
        try {
          do {
            claimAgain = false;
            // A full claim may have left more jobs and more room.
            if (await claimAndSend()) claimAgain = true;
          } while (claimAgain && !stopping.signal.aborted);
        } finally {
          claiming = false;
        }
      })(),
    );
  };
  // A cooldown ended, a probe came back without a verdict, or Pixazo recovered.
  health.onReady(dispatch);

  /**
   * After news of this instance's own (a job admitted, a place freed). Its claim takes all the
   * room there is, so the others are told only when it will not claim: it is stopping.
   */
  const dispatchHere = () => {
    if (started && !stopping.signal.aborted) dispatch();
    else deps.onDispatchable?.();
  };

  /** Takes over the jobs of stopped or silent instances (`staleAfterMs` 0: every other). */
  const adoptOrphans = async (staleAfterMs: number) => {
    const adopted = await store.adoptJobs({
      instanceId,
      staleAfterMs,
      submittingStaleAfterMs: staleAfterMs === 0 ? 0 : staleAfterMs + submitTimeoutMs,
    });
    for (const job of adopted) {
      if (job.submission === 'submitting' && !(publicUrl && job.webhookTokenHash)) {
        // No callback can reveal whether Pixazo took it: this instance has no PUBLIC_URL, or
        // no token says its POST carried a callback URL. A missing token does not prove the
        // POST never left: an instance without PUBLIC_URL sends none (instances may differ,
        // and PUBLIC_URL may change across a restart). So the charge stays.
        logger.warn({ jobId: job.id }, 'job was being submitted when its instance stopped');
        await writer.change(
          job.id,
          failSubmission({ message: STOPPED_WHILE_SUBMITTING, refund: false }, now()),
          job,
        );
      } else {
        // Submitted, or (webhook mode) sent with a callback URL that may still reveal it.
        logger.info({ jobId: job.id }, 'tracking a job adopted from a stopped instance');
        tracker.track(job);
      }
    }
  };

  const every = (ms: number, task: () => void) => {
    const timer = setInterval(task, ms);
    timer.unref();
    timers.push(timer);
  };

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
      const webhook = await readWebhookRequest(
        request,
        options.allowPrivateWebhookAddresses ?? false,
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
        ...webhook,
        error: null,
        costMicroUsd: costOfParams(params).microUsd,
        images: [],
        version: 1,
        createdAt,
        updatedAt: createdAt,
        startedAt: null,
        completedAt: null,
        imagesExpiredAt: null,
      };
      const admitting = store.admitJob({
        job,
        day: utcDay(createdAt),
        keyLimits: principal.key.limits,
        endUserLimits: endUserId === null ? null : principal.key.endUserLimits,
      });
      // The admission is written (not yet committed): a claim made now shares its commit, so
      // the job reaches its POST after one fsync instead of two.
      if (store.groupCommit) dispatchHere();
      const admission = await admitting;
      switch (admission.kind) {
        case 'existing':
        case 'idempotency_conflict':
          return repeatedJob(admission);
        case 'created':
          deps.metrics?.jobEnteredStatus('QUEUED');
          // Published before dispatch may claim it, so its QUEUED event comes first.
          await writer.publish(admission.job);
          deps.onJobChanged?.(admission.job);
          if (!store.groupCommit) dispatchHere();
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
      // Decided by a compare-and-set on the version: a claim that sends the job to Pixazo
      // bumps it, so a cancel seen against the pending job can never land after the claim.
      const cancelled = await writer.change(
        jobId,
        (current) =>
          current.status === 'QUEUED' && current.submission === 'pending'
            ? { status: 'CANCELLED', completedAt: now(), costMicroUsd: 0 }
            : null,
        job,
      );
      if (cancelled !== null) return cancelled;
      const current = (await store.getJob(jobId)) ?? job;
      if (isTerminal(current.status)) return current;
      // Pixazo has no cancel: the job is paid, so it is left to finish and keep its images.
      throw alreadySent(jobId);
    },

    maxPromptLength: options.maxPromptLength,

    queuePosition: (jobId) => store.queuePosition(jobId),

    nudge: dispatch,

    instanceId,

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
      if (store.singleProcess) {
        // One process on the store: whatever another instance left is an earlier run's, and
        // no one else needs this one's heartbeats.
        await adoptOrphans(0);
      } else {
        await store.heartbeat(instanceId);
        await adoptOrphans(ttlMs);
        every(options.instances?.heartbeatMs ?? DEFAULTS.heartbeatMs, () =>
          runInBackground(
            (async () => {
              await store.heartbeat(instanceId);
              await adoptOrphans(ttlMs);
            })(),
          ),
        );
      }
      every(options.dispatchIntervalMs ?? DEFAULTS.dispatchIntervalMs, dispatch);
      dispatch();
    },

    async stop() {
      stopping.abort();
      for (const timer of timers) clearInterval(timer);
      health.stop();
      // A POST cut short would leave its outcome unknown, so it gets time to finish.
      await settledWithin(background, options.stopTimeoutMs ?? DEFAULTS.stopTimeoutMs);
      await tracker.stopAll();
      // Its jobs are adoptable at once: a live instance (or the next start) tracks them.
      if (started && !store.singleProcess) await store.removeInstance(instanceId);
    },
  };
}
