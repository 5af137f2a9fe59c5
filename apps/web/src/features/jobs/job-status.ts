import { isTerminalStatus } from '@zimage/contract';
import type { JobStatus } from '../../graphql/operations.ts';

/** Statuses a retry makes sense for: every way of ending without images. */
export const isRetryable = (status: JobStatus) =>
  isTerminalStatus(status) && status !== 'COMPLETED';
