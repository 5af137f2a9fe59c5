import type { JobStatus } from '../../graphql/operations.ts';

const TERMINAL: ReadonlySet<JobStatus> = new Set(['COMPLETED', 'FAILED', 'ERROR', 'CANCELLED']);

/** A job in a terminal state never changes again. */
export const isTerminal = (status: JobStatus) => TERMINAL.has(status);

/** Statuses a retry makes sense for. */
export const isRetryable = (status: JobStatus) =>
  status === 'FAILED' || status === 'ERROR' || status === 'CANCELLED';
