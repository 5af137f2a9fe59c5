/**
 * Job progress as the user sees it: QUEUED → PROCESSING (with an ETA) → a terminal state.
 * The ETA is the gateway's own estimate (`Job.expectedDurationMs`, from submission to the
 * result) counted from the submission (`startedAt`).
 */
import type { Job } from '@zimage/client';
import { isTerminalStatus, JOB_STATUSES } from '@zimage/contract';
import type { Clock } from './clock.ts';

/** What the user sees of a job: the job plus what the bot works out about it. */
export type JobProgress =
  | { phase: 'queued'; job: Job }
  | { phase: 'processing'; job: Job; startedAt: number; etaAt: number }
  | { phase: 'completed'; job: Job; durationMs: number }
  | { phase: 'failed'; job: Job };

/** Terminal statuses rank alike: none follows another. */
function rank(status: Job['status']): number {
  return isTerminalStatus(status) ? JOB_STATUSES.length : JOB_STATUSES.indexOf(status);
}

/**
 * One job's updates, down to those worth an edit: an update that goes backwards (a late
 * delivery) or changes nothing the user sees (same status and queue position) gives null, so
 * it costs no Discord edit.
 */
export class ProgressView {
  readonly #clock: Clock;
  #last: JobProgress | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** The progress to show for `job`, or null when the user would see no difference. */
  next(job: Job): JobProgress | null {
    const last = this.#last?.job;
    if (last) {
      if (isTerminalStatus(last.status) || rank(job.status) < rank(last.status)) return null;
      if (job.status === last.status && job.queuePosition === last.queuePosition) return null;
    }
    this.#last = this.#progressOf(job);
    return this.#last;
  }

  #progressOf(job: Job): JobProgress {
    switch (job.status) {
      case 'QUEUED':
        return { phase: 'queued', job };
      case 'PROCESSING': {
        // Keep the first estimate: an ETA that moves on every update is worse than none.
        if (this.#last?.phase === 'processing') return { ...this.#last, job };
        const startedAt = job.startedAt ? Date.parse(job.startedAt) : this.#clock.now();
        return { phase: 'processing', job, startedAt, etaAt: startedAt + job.expectedDurationMs };
      }
      case 'COMPLETED':
        return {
          phase: 'completed',
          job,
          durationMs:
            (job.completedAt ? Date.parse(job.completedAt) : this.#clock.now()) -
            Date.parse(job.createdAt),
        };
      default:
        return { phase: 'failed', job };
    }
  }
}
