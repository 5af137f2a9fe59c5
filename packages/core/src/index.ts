export * from '@zimage/pixazo-spec';
export * from './client.ts';
export * from './cost.ts';
export * from './download.ts';
export * from './errors.ts';
export type { FetchFn, PixazoLogger } from './http.ts';
export * from './poll-schedule.ts';
export {
  backoffDelayMs,
  DEFAULT_RETRY_POLICY,
  parseRetryAfterMs,
  type RetryPolicy,
  type SleepFn,
  sleep,
} from './retry.ts';
export {
  type CompletedStatus,
  isTerminalStatus,
  JOB_STATUSES,
  type JobStatus,
  type PixazoStatus,
  parseStatusBody,
  type TerminalStatus,
} from './status.ts';
