/**
 * Sends a job's generate POST to Pixazo at most once, ever. Dispatch claimed the job first
 * (Store.claimPendingJobs marks it 'submitting', owned by this instance, and it can never be
 * pending again); in webhook mode its webhook token's hash is stored before the POST too. So a
 * crash during the POST leaves a trace, and a 'submitting' job is never sent again: paying
 * twice is worse than failing.
 *
 * Who pays when a submission fails:
 * - Pixazo provably did not take the job (402, 400, 401/403, 429 until the retries ran out,
 *   connection refused): ERROR, cost 0.
 * - Pixazo may have taken it (timeout, 5xx or reset after the request left, an unreadable
 *   answer, a restart mid-POST): the charge STAYS, because Pixazo may bill it. The budget errs
 *   on the side of counting money that may have been spent. In polling mode the job ends ERROR
 *   at once. In webhook mode the POST carried the job's callback URL, so if Pixazo took the job
 *   its callback reveals the request id: the job stays 'submitting' and the tracker waits for
 *   that callback until a deadline (job-tracker.ts), then ends it ERROR.
 *
 * Every outcome that says something about Pixazo's ability to take work (accepted; 402;
 * 401/403; connection refused) is reported to the upstream health BEFORE the job changes, so
 * whoever sees the job end can no longer get a new job past a known-bad Pixazo.
 */
import {
  NetworkError,
  type PixazoClient,
  PixazoHttpError,
  RateLimitedError,
  SubmissionUncertainError,
  ValidationError,
} from '@zimage/core';
import type { JobRecord } from '../domain/job.ts';
import type { Logger } from '../domain/logger.ts';
import type { JobPatch } from '../store/store.ts';
import type { JobWriter } from './job-writer.ts';
import { type UpstreamHealth, upstreamConditionOf } from './upstream-health.ts';
import { hashWebhookToken, newWebhookToken, webhookUrl } from './webhook-token.ts';

export const STOPPED_WHILE_SUBMITTING =
  'The gateway instance submitting this job to Pixazo stopped during the submission; it was ' +
  'not re-sent to avoid paying twice (Pixazo may or may not have accepted it)';

export interface SubmissionFailure {
  message: string;
  /** True when Pixazo provably did not accept the job, so it costs nothing. */
  refund: boolean;
}

/** What a failed generate POST means for the job and for the money. */
export function describeSubmissionFailure(error: unknown): SubmissionFailure {
  if (error instanceof RateLimitedError) {
    return {
      message: 'Pixazo kept answering 429 (too many requests); the job was not submitted',
      refund: true,
    };
  }
  if (error instanceof PixazoHttpError) {
    switch (error.code) {
      case 'INSUFFICIENT_BALANCE':
        return { message: 'Pixazo: insufficient balance', refund: true };
      case 'UNAUTHORIZED':
      case 'FORBIDDEN':
        return { message: "The gateway's Pixazo key was rejected", refund: true };
      case 'BAD_REQUEST':
      case 'MODEL_NOT_FOUND':
        return { message: `Pixazo rejected the job: ${error.message}`, refund: true };
    }
  }
  if (error instanceof NetworkError && error.connectFailed) {
    return {
      message: `Pixazo could not be reached; the job was not submitted (${error.message})`,
      refund: true,
    };
  }
  if (error instanceof ValidationError) {
    return { message: `The job was not submitted: ${error.message}`, refund: true };
  }
  // core's SubmissionUncertainError already says "may have accepted"; its cause says why.
  const cause = error instanceof SubmissionUncertainError ? error.cause : error;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return {
    message:
      `Pixazo may have accepted this job, but the outcome of its submission is unknown ` +
      `(${reason}); it was not sent again to avoid paying twice`,
    refund: false,
  };
}

/** The decision that ends a job whose submission failed (nothing, if it ended meanwhile). */
export function failSubmission(failure: SubmissionFailure, now: Date) {
  return (job: JobRecord): JobPatch | null => {
    if (job.status !== 'QUEUED') return null;
    return {
      status: 'ERROR',
      error: failure.message,
      completedAt: now,
      ...(failure.refund ? { costMicroUsd: 0 } : {}),
    };
  };
}

export interface SubmitterDeps {
  pixazo: Pick<PixazoClient, 'submit'>;
  writer: JobWriter;
  logger: Logger;
  now: () => Date;
  health: Pick<UpstreamHealth, 'submissionAccepted' | 'conditionMet'>;
  /** Set: Pixazo calls back at `${publicUrl}/webhooks/pixazo/<jobId>/<token>`. */
  publicUrl: string | undefined;
  /** Each generate POST's timeout (adoption of a 'submitting' job waits it out). */
  timeoutMs: number;
}

export interface Submitter {
  /**
   * Sends a job this instance claimed. Resolves with the job once Pixazo accepted it and it is
   * still running, or (webhook mode) when the outcome is unknown and its callback may come: to
   * be tracked. Null: it ended meanwhile (nothing sent), or it failed.
   */
  submit(claimed: JobRecord): Promise<JobRecord | null>;
}

export function createSubmitter(deps: SubmitterDeps): Submitter {
  const { pixazo, writer, logger, now, health } = deps;

  return {
    async submit(claimed) {
      const jobId = claimed.id;
      const token = deps.publicUrl === undefined ? null : newWebhookToken();
      const taken =
        token === null
          ? claimed
          : await writer.change(
              jobId,
              (job) =>
                job.status === 'QUEUED' && job.submission === 'submitting'
                  ? { webhookTokenHash: hashWebhookToken(token) }
                  : null,
              claimed,
            );
      if (taken === null) {
        // Ended between its claim and its POST (an admin, or a cancel by an older gateway): nothing was sent, so nothing is owed.
        await writer.change(jobId, (job) =>
          job.status === 'CANCELLED' && job.requestId === null && job.costMicroUsd > 0
            ? { costMicroUsd: 0 }
            : null,
        );
        return null;
      }

      let requestId: string;
      try {
        const submission = await pixazo.submit(
          {
            model: taken.model,
            prompt: taken.prompt,
            imageSize: taken.imageSize,
            numInferenceSteps: taken.numInferenceSteps,
            guidanceScale: taken.guidanceScale ?? undefined,
            numImages: taken.numImages,
            enableSafetyChecker: taken.enableSafetyChecker,
            outputFormat: taken.outputFormat,
            acceleration: taken.acceleration,
          },
          {
            webhookUrl:
              token === null ? undefined : webhookUrl(deps.publicUrl as string, jobId, token),
            timeoutMs: deps.timeoutMs,
          },
        );
        requestId = submission.requestId;
      } catch (error) {
        const failure = describeSubmissionFailure(error);
        const condition = upstreamConditionOf(error);
        if (condition !== null) await health.conditionMet(condition, { jobId, err: error });
        logger.warn({ jobId, err: error, refund: failure.refund }, 'pixazo submission failed');
        if (!failure.refund && token !== null) return taken;
        await writer.change(jobId, failSubmission(failure, now()));
        return null;
      }
      await health.submissionAccepted(jobId);

      // Recorded even when the job ended otherwise during the POST: Pixazo runs it anyway, and
      // its request id is what anyone checking the bill will look for.
      const submitted = await writer.change(jobId, (job) =>
        job.submission === 'submitting'
          ? { submission: 'submitted', requestId, startedAt: now() }
          : null,
      );
      logger.info({ jobId, requestId }, 'job submitted to pixazo');
      return submitted !== null && submitted.status === 'QUEUED' ? submitted : null;
    },
  };
}
