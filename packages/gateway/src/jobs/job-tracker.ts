/**
 * Follows submitted jobs at Pixazo until they end: ONE loop per job, whatever the number of
 * subscribers watching it. Polling mode polls on core's schedule (first near the expected
 * duration, then backing off to a cap). Webhook mode reads on the same schedule while the job is
 * QUEUED, because Pixazo calls back only on the terminal state and PROCESSING would otherwise
 * never be seen; once Pixazo says PROCESSING it waits for the callback, with a slow safety-net
 * poll so that a lost callback never strands a job. Both feed the same state machine,
 * which only moves forward (QUEUED → PROCESSING → COMPLETED | FAILED | ERROR), so duplicate,
 * late or out-of-order statuses change nothing.
 *
 * A job never waits forever: a request Pixazo no longer knows (status 404 several times in a
 * row) or one with no end after a generous deadline ends ERROR with a message that says so.
 * Those keep their charge, like other cases where Pixazo may have run (and billed) the job.
 *
 * Webhook mode only: a job whose generate POST has an unknown outcome (submitter.ts; or found
 * 'submitting' after a restart) has no request id to poll. Its loop waits for the callback its
 * POST asked for: if Pixazo took the job, that callback (confirmed by the engine) reveals the
 * request id, `adopt` records it and the loop follows the job as usual. No callback by the same
 * deadline, counted from when the job became 'submitting': ERROR, charge kept, never re-sent.
 *
 * A status read that could not even connect (after core's retries) tells the upstream health
 * that Pixazo is unreachable, so new work waits; the loop itself keeps polling.
 */
import {
  expectedDurationMs,
  MODELS,
  NetworkError,
  type PixazoClient,
  PixazoHttpError,
  type PixazoStatus,
  type PollSchedule,
  pollDelayMs,
  sleep,
} from '@zimage/core';
import { isTerminal, type JobRecord, type JobStatus, type StoredImage } from '../domain/job.ts';
import type { Logger } from '../domain/logger.ts';
import type { ImageStore } from '../images/image-store.ts';
import { imageMetadataOf } from '../images/job-metadata.ts';
import type { Metrics, UpdateSource } from '../metrics.ts';
import type { Store } from '../store/store.ts';
import type { JobDecision, JobWriter } from './job-writer.ts';
import type { UpstreamHealth } from './upstream-health.ts';

export interface TrackingOptions {
  /**
   * 'webhook' when Pixazo calls back (PUBLIC_URL is set): polls on `pollSchedule` only until
   * PROCESSING, then a slow safety net.
   */
  mode: 'polling' | 'webhook';
  pollSchedule: PollSchedule;
  /**
   * Pixazo's pace against the model table's expected durations, which time the polls: 1 for
   * Pixazo, the embedded simulator's PIXAZO_SIM_TIME_SCALE when it plays Pixazo.
   */
  durationScale: number;
  safetyNet: {
    /** First safety-net poll, after tracking began; default twice the expected duration. */
    firstDelayMs?: number | undefined;
    intervalMs: number;
  };
  /** Stop waiting `factor` × the expected duration + `marginMs` after submission. */
  deadline: { factor: number; marginMs: number };
  /** Consecutive status 404s after which the request counts as vanished. */
  vanishedAfter404s: number;
  /** Tries at downloading a COMPLETED job's images before it ends ERROR. */
  maxDownloadAttempts: number;
}

export interface JobTrackerDeps {
  pixazo: Pick<PixazoClient, 'getStatus' | 'streamDownload'>;
  store: Store;
  images: ImageStore;
  writer: JobWriter;
  logger: Logger;
  now: () => Date;
  options: TrackingOptions;
  metrics?: Pick<Metrics, 'jobUpdateReceived'> | undefined;
  health?: Pick<UpstreamHealth, 'conditionMet'> | undefined;
}

export interface JobTracker {
  /** Starts the job's loop, unless it has one. */
  track(job: JobRecord): void;
  /**
   * Records the request id a confirmed callback revealed for a job that has none yet, and
   * follows it; false when the job ended or got its request id meanwhile.
   */
  adopt(jobId: string, status: PixazoStatus): Promise<boolean>;
  /** Applies a Pixazo status already confirmed by a GET; serialized with the job's loop. */
  apply(
    jobId: string,
    status: PixazoStatus,
    source: UpdateSource,
    signal?: AbortSignal,
  ): Promise<JobRecord | null>;
  /** Stops the job's loop (it ended or was cancelled). */
  untrack(jobId: string): void;
  /** Stops every loop and waits until they have. */
  stopAll(): Promise<void>;
}

const pixazoSays = (error: string | null, fallback: string) => `Pixazo: ${error ?? fallback}`;

/** The forward-only transitions a Pixazo status allows, as decisions on the stored job. */
function decisionFor(status: PixazoStatus, now: Date, images: StoredImage[] = []): JobDecision {
  return (job) => {
    if (isTerminal(job.status) || job.requestId !== status.requestId) return null;
    switch (status.status) {
      case 'QUEUED':
        return null;
      case 'PROCESSING':
        return job.status === 'QUEUED' ? { status: 'PROCESSING' } : null;
      case 'COMPLETED':
        return { status: 'COMPLETED', images, completedAt: now };
      case 'FAILED':
        return {
          status: 'FAILED',
          error: pixazoSays(status.error, 'the job failed'),
          completedAt: now,
        };
      case 'ERROR':
        // Pixazo does not charge for its system errors.
        return {
          status: 'ERROR',
          error: pixazoSays(status.error, 'system error'),
          costMicroUsd: 0,
          completedAt: now,
        };
    }
  };
}

/** Ends a job the gateway gave up on; the charge stays (Pixazo may still bill it). */
function giveUp(message: string, now: Date): JobDecision {
  return (job) =>
    isTerminal(job.status) ? null : { status: 'ERROR', error: message, completedAt: now };
}

const seconds = (ms: number) => Math.round(ms / 1000);

export function createJobTracker(deps: JobTrackerDeps): JobTracker {
  const { pixazo, store, images, writer, logger, now, options, metrics, health } = deps;
  const loops = new Map<string, { controller: AbortController; done: Promise<void> }>();
  const locks = new Map<string, Promise<unknown>>();
  const downloadFailures = new Map<string, number>();
  /** Loops waiting for the callback of a job with an unknown submission outcome, by job. */
  const awaitingCallback = new Map<string, (adopted: JobRecord) => void>();

  /** Runs `task` after every earlier task of the same job, so two statuses never interleave. */
  function serialized<T>(jobId: string, task: () => Promise<T>): Promise<T> {
    const result = (locks.get(jobId) ?? Promise.resolve()).then(task);
    const settled = result.then(
      () => {},
      () => {},
    );
    locks.set(jobId, settled);
    void settled.then(() => {
      if (locks.get(jobId) === settled) locks.delete(jobId);
    });
    return result;
  }

  /**
   * Streams the images from Pixazo into the image store, in the order of `mediaUrls`, with the
   * job's prompt and parameters written into each file; null when it ended the job for good
   * (ERROR). Each is saved under a new name of its own, so on failure this attempt deletes
   * exactly what it saved.
   */
  async function storeImages(job: JobRecord, mediaUrls: string[], signal?: AbortSignal) {
    const requestId = job.requestId ?? undefined;
    const metadata = imageMetadataOf(job);
    let stored: StoredImage[] = [];
    try {
      // Settled, not Promise.all: a failure must not leave a save in flight that nobody removes.
      const copies = await Promise.allSettled(
        mediaUrls.map((url) =>
          pixazo.streamDownload(url, (image) => images.save(job.id, image.body, metadata), {
            signal,
            requestId,
          }),
        ),
      );
      stored = copies.flatMap((copy) => (copy.status === 'fulfilled' ? [copy.value] : []));
      const failed = copies.find((copy) => copy.status === 'rejected');
      if (failed) throw failed.reason;
      return stored;
    } catch (error) {
      await removeSaved(job.id, stored);
      if (signal?.aborted) throw error;
      const failures = (downloadFailures.get(job.id) ?? 0) + 1;
      downloadFailures.set(job.id, failures);
      if (failures < options.maxDownloadAttempts) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      // Pixazo charged for a COMPLETED job, so the charge stays.
      await writer.change(
        job.id,
        giveUp(`Pixazo completed the job but its images could not be downloaded: ${reason}`, now()),
      );
      return null;
    }
  }

  /**
   * Removes the images this attempt saved, and only those (another may have won). A store
   * that fails here leaves orphans behind (a completed job's go at retention), not a stuck job.
   */
  const removeSaved = (jobId: string, saved: StoredImage[]) =>
    images
      .remove(
        jobId,
        saved.map((image) => image.fileName),
      )
      .catch((error: unknown) => {
        logger.warn({ jobId, err: error }, "could not remove this attempt's images");
      });

  async function applyNow(
    jobId: string,
    status: PixazoStatus,
    source: UpdateSource,
    signal?: AbortSignal,
  ) {
    const job = await store.getJob(jobId);
    if (job === null || decisionFor(status, now())(job) === null) return job;
    let changed: JobRecord | null;
    if (status.status === 'COMPLETED') {
      const stored = await storeImages(job, status.mediaUrls, signal);
      if (stored === null) return store.getJob(jobId);
      changed = await writer.change(jobId, decisionFor(status, now(), stored));
      // Ended otherwise meanwhile (cancelled, or completed by a callback on another instance,
      // whose images are in the same directory): this attempt's images belong to no one.
      if (changed === null) await removeSaved(jobId, stored);
    } else {
      changed = await writer.change(jobId, decisionFor(status, now()), job);
    }
    if (changed !== null) metrics?.jobUpdateReceived(source);
    return changed ?? store.getJob(jobId);
  }

  const apply = (jobId: string, status: PixazoStatus, source: UpdateSource, signal?: AbortSignal) =>
    serialized(jobId, () => applyNow(jobId, status, source, signal));

  /**
   * The delays between one job's status reads: on the poll schedule (always when polling; in
   * webhook mode while the job is QUEUED), else the safety net's, first at `firstDelayMs` after
   * tracking began and then every `intervalMs`.
   */
  function pollTimer(expectedMs: number) {
    let scheduled = 0;
    let safetyNetAt = now().getTime() + (options.safetyNet.firstDelayMs ?? 2 * expectedMs);
    return (status: JobStatus): number => {
      if (options.mode === 'polling' || status === 'QUEUED') {
        return pollDelayMs(scheduled++, expectedMs, options.pollSchedule);
      }
      const at = now().getTime();
      const delay = Math.max(0, safetyNetAt - at);
      safetyNetAt = Math.max(safetyNetAt, at) + options.safetyNet.intervalMs;
      return delay;
    };
  }

  const deadlineMsOf = (job: JobRecord) =>
    options.deadline.factor * expectedDurationMs(MODELS[job.model], job) +
    options.deadline.marginMs;

  /** Resolves with the job once a callback revealed its request id; null once it ended. */
  async function awaitCallback(given: JobRecord, signal: AbortSignal): Promise<JobRecord | null> {
    // Read again: it may have ended otherwise while its POST was failing.
    const job = await store.getJob(given.id);
    if (job === null || isTerminal(job.status)) return null;
    if (job.requestId !== null) return job;
    const deadlineMs = deadlineMsOf(job);
    // Its updatedAt is when it became 'submitting': nothing else writes a job waiting here.
    const untilDeadline = Math.max(0, job.updatedAt.getTime() + deadlineMs - now().getTime());
    let timer: NodeJS.Timeout | undefined;
    const adopted = await new Promise<JobRecord | null>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      timer = setTimeout(() => resolve(null), untilDeadline);
      awaitingCallback.set(job.id, resolve);
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    }).finally(() => clearTimeout(timer));
    if (adopted !== null) return adopted;
    // Serialized with `adopt`: a callback confirmed just before the deadline still wins.
    await serialized(job.id, async () => {
      const message =
        `The outcome of this job's submission to Pixazo is unknown and no callback came within ` +
        `${seconds(deadlineMs)} s; it was not sent again to avoid paying twice (Pixazo may or ` +
        'may not have accepted it)';
      await writer.change(job.id, (current) =>
        current.requestId === null ? giveUp(message, now())(current) : null,
      );
    });
    // Adopted just before the deadline: follow it after all.
    const latest = await store.getJob(job.id);
    return latest?.requestId != null && !isTerminal(latest.status) ? latest : null;
  }

  async function follow(given: JobRecord, signal: AbortSignal): Promise<void> {
    const job = given.requestId === null ? await awaitCallback(given, signal) : given;
    if (job === null) return;
    const requestId = job.requestId as string;
    const expectedMs = options.durationScale * expectedDurationMs(MODELS[job.model], job);
    const deadlineMs = deadlineMsOf(job);
    const deadlineAt = (job.startedAt ?? now()).getTime() + deadlineMs;
    const delayBeforePoll = pollTimer(expectedMs);
    let notFound = 0;
    let latest: JobRecord = job;
    for (;;) {
      const untilDeadline = Math.max(0, deadlineAt - now().getTime());
      await sleep(Math.min(delayBeforePoll(latest.status), untilDeadline), signal);
      try {
        const status = await pixazo.getStatus(requestId, { signal });
        notFound = 0;
        const applied = await apply(job.id, status, 'poll', signal);
        if (applied === null) return;
        latest = applied;
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof PixazoHttpError && error.code === 'NOT_FOUND') notFound++;
        if (error instanceof NetworkError && error.connectFailed) {
          void health?.conditionMet('unreachable', { jobId: job.id, err: error });
        }
        logger.warn({ jobId: job.id, requestId, err: error, notFound }, 'tracking a job failed');
        if (notFound >= options.vanishedAfter404s) {
          const message =
            `Pixazo no longer knows request ${requestId} (its status answered 404 ${notFound} ` +
            'times in a row); the gateway stopped waiting for it';
          await writer.change(job.id, giveUp(message, now()));
          return;
        }
      }
      if (isTerminal(latest.status)) return;
      if (now().getTime() >= deadlineAt) {
        const message =
          `Pixazo did not finish request ${requestId} within ${seconds(deadlineMs)} s ` +
          `of its submission (last status ${latest.status}); the gateway stopped waiting for it`;
        await writer.change(job.id, giveUp(message, now()));
        return;
      }
    }
  }

  const tracker: JobTracker = {
    track(job) {
      // Without a request id only a callback can tell whether Pixazo took the job.
      const untrackable = job.requestId === null && options.mode === 'polling';
      if (loops.has(job.id) || isTerminal(job.status) || untrackable) return;
      const controller = new AbortController();
      const done = follow(job, controller.signal)
        .catch((error: unknown) => {
          if (!controller.signal.aborted) {
            logger.error({ jobId: job.id, err: error }, 'job tracking stopped unexpectedly');
          }
        })
        .finally(() => {
          if (loops.get(job.id)?.controller === controller) loops.delete(job.id);
          downloadFailures.delete(job.id);
          awaitingCallback.delete(job.id);
        });
      loops.set(job.id, { controller, done });
    },
    adopt: (jobId, status) =>
      serialized(jobId, async () => {
        const adopted = await writer.change(jobId, (job) =>
          job.requestId === null && job.submission === 'submitting' && !isTerminal(job.status)
            ? { submission: 'submitted', requestId: status.requestId, startedAt: now() }
            : null,
        );
        if (adopted === null) return false;
        const resume = awaitingCallback.get(jobId);
        awaitingCallback.delete(jobId);
        // No loop waits when the callback beat the POST's answer. The submitter then finds the
        // job submitted already: on an answer it frees the job's queue slot early (the
        // callback is Pixazo's terminal status, so the job is about to end anyway).
        if (resume === undefined) tracker.track(adopted);
        else resume(adopted);
        return true;
      }),
    apply,
    untrack(jobId) {
      loops.get(jobId)?.controller.abort();
    },
    async stopAll() {
      const running = [...loops.values()];
      for (const loop of running) loop.controller.abort();
      await Promise.all(running.map((loop) => loop.done));
    },
  };
  return tracker;
}
