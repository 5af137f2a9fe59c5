import { isTerminalStatus } from '@zimage/contract';
import type { Job, JobStatus } from '../../graphql/operations.ts';

/** Statuses a retry makes sense for: every way of ending without images. */
export const isRetryable = (status: JobStatus) =>
  isTerminalStatus(status) && status !== 'COMPLETED';

type Placed = Pick<Job, 'status' | 'queuePosition'>;

/**
 * Cancelling is free only while the job waits in the gateway's own queue (it has a place
 * there). Pixazo has no cancel: once sent, the job is paid, so it is never offered after.
 */
export const isCancellable = (job: Placed) => job.status === 'QUEUED' && job.queuePosition != null;

/** Sent to Pixazo and not finished yet: paid, and its images are on their way. */
export const isSentToPixazo = (job: Placed) => !isTerminalStatus(job.status) && !isCancellable(job);

/** What a job that can no longer be cancelled says in place of the Cancel button. */
export const SENT_NOTE = 'Already sent — paid';
export const SENT_HINT = 'Pixazo has no cancel: the images will arrive here.';
