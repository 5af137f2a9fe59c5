import { isTerminalStatus } from '@zimage/contract';
import { type CSSProperties, useEffect, useRef, useState } from 'react';
import { describeError } from '../../graphql/errors.ts';
import type { Job } from '../../graphql/operations.ts';
import { useAnnounce } from '../../ui/announcer.tsx';
import { between, formatClock, formatDuration, formatUsd } from '../../ui/format.ts';
import { aspectRatio, modelLabel, shortPrompt, sizeLabel } from '../../ui/labels.ts';
import { inputFromJob } from '../generate/form-values.ts';
import { useSubmitJob } from '../generate/use-submit-job.ts';
import { useJobRoute } from '../history/job-route.tsx';
import { describeEta, expectedProgress } from './eta.ts';
import { ExpiredImages, imagesExpired } from './expired-images.tsx';
import { notifyJobEnded } from './job-end-notifications.tsx';
import { isCancellable, isRetryable, isSentToPixazo, SENT_HINT, SENT_NOTE } from './job-status.ts';
import { StatusBadge } from './status-badge.tsx';
import { useEta } from './use-eta.ts';
import { useCancelJob, useJob } from './use-job.ts';
import { useNow } from './use-now.ts';

/** The element id of a job's card, which takes the focus after its neighbour goes. */
export const cardId = (jobId: string) => `job-card-${jobId}`;

function statusSentence(job: Job): string {
  const what = `“${shortPrompt(job.prompt)}”`;
  switch (job.status) {
    case 'QUEUED':
      return `${what} is queued.`;
    case 'PROCESSING':
      return `${what} is processing.`;
    case 'COMPLETED': {
      const count = `${job.images.length} ${job.images.length === 1 ? 'image' : 'images'}`;
      return `${what} is done: ${count}, in its card under Live and in History; Details has the downloads.`;
    }
    case 'FAILED':
    case 'ERROR':
      return `${what} failed: ${job.error ?? 'no reason given'}.`;
    case 'CANCELLED':
      return `${what} was cancelled.`;
  }
}

/**
 * Speaks a job's status changes (not its first appearance), and notifies of its end when the
 * user asked for that.
 */
function useAnnounceStatus(job: Job | null) {
  const announce = useAnnounce();
  const previous = useRef(job?.status);
  useEffect(() => {
    if (!job) return;
    if (previous.current && previous.current !== job.status) {
      const sentence = statusSentence(job);
      announce(sentence);
      if (isTerminalStatus(job.status)) notifyJobEnded(job.id, sentence);
    }
    previous.current = job.status;
  }, [job, announce]);
}

export function JobCard({
  id,
  onDismiss,
  onReplace,
}: {
  id: string;
  onDismiss(id: string): void;
  /** A retry submitted `job` in place of this one. */
  onReplace(id: string, job: Job): void;
}) {
  const { job } = useJob(id);
  const { openJob } = useJobRoute();
  const { cancel, cancelling, cancelError } = useCancelJob();
  const { submit, submitting } = useSubmitJob();
  const [retryError, setRetryError] = useState<string | null>(null);
  useAnnounceStatus(job);

  if (!job)
    return <li id={cardId(id)} tabIndex={-1} className="job-card loading" aria-busy="true" />;

  const retry = async () => {
    setRetryError(null);
    const outcome = await submit(inputFromJob(job));
    if ('error' in outcome) setRetryError(describeError(outcome.error));
    else onReplace(job.id, outcome.job);
  };
  const headingId = `job-${job.id}-prompt`;
  const actionError = cancelError ?? retryError;

  return (
    <li
      id={cardId(job.id)}
      tabIndex={-1}
      className={`job-card status-${job.status.toLowerCase()}`}
      aria-labelledby={headingId}
    >
      <JobMedia job={job} onOpen={() => openJob(job.id)} />
      <div className="job-card-body">
        <div className="job-card-head">
          <StatusBadge status={job.status} />
          <span className="job-meta">
            {modelLabel(job.model)} · {sizeLabel(job.imageSize)} · {job.numInferenceSteps} steps
          </span>
        </div>
        <h3 id={headingId} className="job-prompt">
          {job.prompt}
        </h3>
        <JobProgress job={job} />
        {actionError && (
          <p className="form-error" role="alert">
            {actionError}
          </p>
        )}
        <div className="card-actions">
          {isCancellable(job) && (
            <button
              type="button"
              className="button ghost"
              onClick={() => cancel(job.id)}
              disabled={cancelling}
              title="Free: the job has not been sent to Pixazo yet"
            >
              Cancel
            </button>
          )}
          {isSentToPixazo(job) && <SentNote />}
          {isRetryable(job.status) && (
            <button type="button" className="button" onClick={retry} disabled={submitting}>
              Retry
            </button>
          )}
          <button type="button" className="button ghost" onClick={() => openJob(job.id)}>
            Details
          </button>
          {isTerminalStatus(job.status) && (
            <button
              type="button"
              className="button ghost icon"
              onClick={() => onDismiss(job.id)}
              aria-label={`Dismiss “${shortPrompt(job.prompt)}”`}
              title="Dismiss"
            >
              ×
            </button>
          )}
        </div>
      </div>
    </li>
  );
}

/** In place of Cancel once the job is at Pixazo. */
export function SentNote() {
  return (
    <span className="sent-note" title={SENT_HINT}>
      {SENT_NOTE}
      <span className="visually-hidden">. {SENT_HINT}</span>
    </span>
  );
}

/** The images, or a frame of their shape while they are being made. */
function JobMedia({ job, onOpen }: { job: Job; onOpen(): void }) {
  const { width, height } = aspectRatio(job.imageSize);
  const frame = { '--ratio': width / height } as CSSProperties;
  if (imagesExpired(job)) {
    return (
      <div className="job-media expired">
        <ExpiredImages job={job} />
      </div>
    );
  }
  if (job.status === 'COMPLETED' && job.images.length > 0) {
    return (
      <div className={`job-media count-${Math.min(job.images.length, 4)}`}>
        {job.images.map((image, index) => (
          <button
            key={image.url}
            type="button"
            className="thumb"
            onClick={onOpen}
            aria-label={`Open image ${index + 1} of ${job.images.length} in the job's detail`}
          >
            <img
              className="thumb-image"
              src={image.url}
              width={image.width}
              height={image.height}
              alt={`Result ${index + 1} for “${shortPrompt(job.prompt)}”`}
              loading="lazy"
              decoding="async"
            />
          </button>
        ))}
      </div>
    );
  }
  return (
    <div className="job-media placeholder" aria-hidden="true">
      <div className={`frame ${isTerminalStatus(job.status) ? '' : 'shimmer'}`} style={frame} />
    </div>
  );
}

export function JobProgress({ job }: { job: Job }) {
  const processing = job.status === 'PROCESSING';
  const now = useNow(processing);
  const eta = useEta(job);
  const elapsed = Math.max(0, now - Date.parse(job.startedAt ?? job.createdAt));

  switch (job.status) {
    case 'QUEUED':
      return (
        <p className="job-progress">
          {job.queuePosition != null
            ? `Number ${job.queuePosition} in the gateway's queue`
            : 'Waiting for Pixazo to start it'}
          <span className="muted"> · usually runs {formatDuration(eta.highMs)} or less</span>
        </p>
      );
    case 'PROCESSING':
      return (
        <div className="job-progress running">
          <p>
            <span className="elapsed" aria-hidden="true">
              {formatClock(elapsed)}
            </span>
            <span className="visually-hidden">Running for {formatDuration(elapsed)}</span>
            <span className="muted"> · {describeEta(eta, elapsed)}</span>
          </p>
          <div className="progress-track" aria-hidden="true">
            <div
              className="progress-fill"
              style={{ width: `${expectedProgress(eta, elapsed) * 100}%` }}
            />
          </div>
        </div>
      );
    case 'COMPLETED': {
      const ran = between(job.startedAt, job.completedAt);
      return (
        <p className="job-progress muted">
          {ran !== null ? `Done in ${formatDuration(ran)}` : 'Done'} · {formatUsd(job.costUsd)}
        </p>
      );
    }
    case 'FAILED':
    case 'ERROR':
      return (
        <p className="job-progress job-error">
          {job.error ?? 'The job failed without a reason.'}
          <span className="muted">
            {' '}
            · {job.costUsd > 0 ? `charged ${formatUsd(job.costUsd)}` : 'not charged'}
          </span>
        </p>
      );
    case 'CANCELLED':
      return (
        <p className="job-progress muted">
          Cancelled · {job.costUsd > 0 ? `charged ${formatUsd(job.costUsd)}` : 'not charged'}
        </p>
      );
  }
}
